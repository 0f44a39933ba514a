use orm::prelude::*;

#[derive(Model)]
#[orm(index(email, nmae), unique())]
struct User {
    #[orm(primary_key)]
    id: i64,
    email: String,
    name: String,
}

fn main() {}
