use orm::prelude::*;

struct Author;

#[derive(Model)]
struct Book {
    #[orm(primary_key)]
    id: i64,
    #[orm(references = Author)]
    author_id: i64,
}

fn main() {}
