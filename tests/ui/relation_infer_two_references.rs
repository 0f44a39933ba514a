use orm::prelude::*;

#[derive(Model)]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(has_many(cascade = "all"))]
    pub posts: Related<Vec<Post>>,
}

#[derive(Model)]
pub struct Post {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = User)]
    pub author_id: i64,
    #[orm(references = User)]
    pub reviewer_id: Option<i64>,
}

fn main() {}
