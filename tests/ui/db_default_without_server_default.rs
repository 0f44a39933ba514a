use orm::prelude::*;

#[derive(Model)]
struct Visit {
    #[orm(primary_key)]
    id: i64,
    hits: DbDefault<i64>,
    #[orm(max_length = 20)]
    referrer: DbDefault<Option<String>>,
    #[orm(server_default = "0")]
    plain: i64,
}

fn main() {}
