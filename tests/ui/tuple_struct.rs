use orm::prelude::*;

#[derive(Model)]
struct Pair(i64, String);

fn main() {}
