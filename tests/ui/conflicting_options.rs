use orm::prelude::*;

#[derive(Model)]
struct Thing {
    #[orm(primary_key)]
    id: Option<i64>,
    #[orm(skip, primary_key)]
    cache: String,
    #[orm(max_length = 10)]
    size: i32,
    #[orm(on_delete = cascade)]
    owner_id: i64,
}

fn main() {}
