use orm::prelude::*;

#[derive(Model)]
struct Item {
    #[orm(primary_key)]
    id: i64,
    #[orm(default = "zero")]
    count: i64,
    #[orm(default = now)]
    label: String,
    #[orm(default = 70000)]
    small: i16,
    #[orm(default = today)]
    day: NaiveDate,
}

fn main() {}
