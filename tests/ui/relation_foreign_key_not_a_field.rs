use orm::prelude::*;

#[derive(Model)]
struct Post {
    #[orm(primary_key)]
    id: i64,
    author_id: i64,
    #[orm(belongs_to(foreign_key = writer_id))]
    author: Related<Box<Post>>,
}

fn main() {}
