use orm::prelude::*;

#[derive(Model)]
struct Post {
    #[orm(primary_key)]
    id: i64,
    #[orm(belongs_to(foreign_key = id))]
    author_id: i64,
}

fn main() {}
