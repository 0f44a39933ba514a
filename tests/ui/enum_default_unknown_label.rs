use orm::prelude::*;

#[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
enum Status {
    Draft,
    #[orm(rename = "live")]
    Published,
}

#[derive(Model)]
struct Post {
    #[orm(primary_key)]
    id: i64,
    // Labels as stored: `draft` and `live`, not the variant's name.
    #[orm(default = "published")]
    status: Option<Status>,
    #[orm(default = "Draft")]
    first_status: Status,
}

fn main() {}
