use orm::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
}

fn main() {
    let _ = User::name.eq(5);
}
