use orm::prelude::*;

#[derive(Model)]
struct Edition {
    #[orm(primary_key)]
    book_id: i64,
    #[orm(primary_key)]
    number: i32,
}

#[derive(Model)]
struct Printing {
    #[orm(primary_key)]
    id: i64,
    edition_id: i64,
    #[orm(belongs_to(foreign_key = edition_id))]
    edition: Related<Edition>,
}

#[derive(Model)]
struct Tag {
    #[orm(primary_key)]
    id: i64,
    #[orm(many_to_many(through = "edition_tags", local = tag_id, remote = edition_id))]
    editions: Related<Vec<Edition>>,
}

fn main() {}
