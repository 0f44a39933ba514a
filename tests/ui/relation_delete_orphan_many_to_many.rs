use orm::prelude::*;

#[derive(Model)]
struct Post {
    #[orm(primary_key)]
    id: i64,
    #[orm(many_to_many(through = "post_tags", local = post_id, remote = tag_id, cascade = "delete_orphan"))]
    tags: Related<Vec<Post>>,
}

fn main() {}
