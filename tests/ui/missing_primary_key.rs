use orm::prelude::*;

#[derive(Model)]
struct Log {
    id: i64,
    line: String,
}

fn main() {}
