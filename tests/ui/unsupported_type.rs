use orm::prelude::*;

#[derive(Model)]
struct Counter {
    #[orm(primary_key)]
    id: i64,
    hits: u32,
}

fn main() {}
