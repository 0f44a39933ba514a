use orm::prelude::*;

#[derive(Model)]
struct Visit {
    #[orm(primary_key, server_default = "gen_random_uuid()")]
    id: DbDefault<Uuid>,
    #[orm(default = 0, server_default = "0")]
    hits: DbDefault<i64>,
    #[orm(server_default = "'direct'")]
    referrer: Option<DbDefault<String>>,
}

fn main() {}
