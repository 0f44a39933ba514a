use orm::prelude::*;

#[derive(Model)]
struct Document {
    #[orm(primary_key)]
    id: i64,
    #[orm(version)]
    revision: i32,
    #[orm(version)]
    edits: i64,
}

fn main() {}
