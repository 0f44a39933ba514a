use orm::prelude::*;

#[derive(FromRow)]
struct Counts(i64, i64);

fn main() {}
