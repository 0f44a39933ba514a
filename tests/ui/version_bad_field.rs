use orm::prelude::*;

#[derive(Model)]
#[orm(no_default)]
struct Document {
    #[orm(primary_key, version)]
    id: i64,
}

#[derive(Model)]
#[orm(no_default)]
struct Title {
    #[orm(primary_key)]
    id: i64,
    #[orm(version)]
    title: String,
}

#[derive(Model)]
#[orm(no_default)]
struct Note {
    #[orm(primary_key)]
    id: i64,
    #[orm(version)]
    revision: Option<i64>,
}

#[derive(Model)]
#[orm(no_default)]
struct Page {
    #[orm(primary_key)]
    id: i64,
    #[orm(version)]
    revision: i16,
}

#[derive(Model)]
#[orm(no_default)]
struct Counter {
    #[orm(primary_key)]
    id: i64,
    #[orm(version, server_default = "1")]
    revision: DbDefault<i64>,
}

#[derive(Model)]
#[orm(no_default)]
struct Sheet {
    #[orm(primary_key)]
    id: i64,
    #[orm(version, default = 5)]
    revision: i64,
}

fn main() {}
