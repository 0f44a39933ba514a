use orm::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub tags: Vec<String>,
}

fn main() {
    let _ = User::name.contains("a%");
    let _ = User::tags.contains(["rust"]);
    let _ = User::id.contains("1");
}
