use orm::prelude::*;

#[derive(Model)]
struct Edition {
    #[orm(primary_key)]
    book_id: i64,
    #[orm(primary_key)]
    number: i32,
    #[orm(many_to_many(through = "edition_tags", local = (book_id, number), remote = tag_id))]
    tags: Related<Vec<Edition>>,
}

fn main() {}
