use orm::prelude::*;

#[derive(Model)]
#[orm(table = users, index = "name")]
struct User {
    #[orm(primary_key = true)]
    id: i64,
    #[orm(max_length = "80")]
    name: String,
    #[orm(references = Self, on_delete = explode)]
    parent_id: Option<i64>,
}

fn main() {}
