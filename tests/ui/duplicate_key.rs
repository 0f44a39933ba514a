use orm::prelude::*;

#[derive(Model)]
#[orm(table = "users")]
#[orm(table = "people")]
struct User {
    #[orm(primary_key, primary_key)]
    id: i64,
    #[orm(max_length = 10)]
    #[orm(max_length = 20)]
    name: String,
}

fn main() {}
