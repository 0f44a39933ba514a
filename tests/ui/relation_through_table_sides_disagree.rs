use orm::prelude::*;

#[derive(Model)]
pub struct Post {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(many_to_many(through = "post_tags", local = post_id, remote = tag_id))]
    pub tags: Related<Vec<Tag>>,
}

// The other side names the columns the same way round instead of mirroring them.
#[derive(Model)]
pub struct Tag {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(many_to_many(through = "post_tags", local = post_id, remote = tag_id))]
    pub posts: Related<Vec<Post>>,
}

fn main() {}
