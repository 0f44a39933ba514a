use orm::prelude::*;

#[derive(Model)]
#[orm(tabel = "users")]
struct User {
    #[orm(primary_key)]
    id: i64,
    #[orm(has_many(foreign_key = author_id))]
    posts: Related<Vec<User>>,
    #[orm(uniq, max_length = 10)]
    name: String,
}

fn main() {}
