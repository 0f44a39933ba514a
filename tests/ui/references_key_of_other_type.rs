// A foreign key must hold the referenced model's key type (or an Option of it): a `String`
// or an `i32` referencing an `i64` key would never equal the keys it points at.
use orm::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
struct Author {
    #[orm(primary_key)]
    id: i64,
}

#[derive(Model, Debug, Clone, PartialEq)]
struct Book {
    #[orm(primary_key)]
    id: i64,
    #[orm(references = Author)]
    author_id: String,
    #[orm(references = Author)]
    editor_id: Option<i32>,
    // Right: the key's type, or an Option of it.
    #[orm(references = Author)]
    reviewer_id: Option<i64>,
}

fn main() {}
