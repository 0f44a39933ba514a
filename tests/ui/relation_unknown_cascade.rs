use orm::prelude::*;

#[derive(Model)]
struct User {
    #[orm(primary_key)]
    id: i64,
    #[orm(has_many(foreign_key = author_id, cascade = "save, destroy"))]
    posts: Related<Vec<User>>,
}

fn main() {}
