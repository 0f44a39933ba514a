use orm::prelude::*;

#[derive(Model)]
struct User {
    #[orm(primary_key)]
    id: i64,
    posts: Related<Vec<User>>,
}

fn main() {}
