//! Diesel 2.3 on Diesel's benchmark workloads, SQLite in memory (each workload a fresh
//! database, as Diesel's own benchmark does). `cargo bench --bench diesel_sqlite` in `peers/`.

mod common;

use criterion::Criterion;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

type TestConnection = SqliteConnection;
const BACKEND: &str = "sqlite";

/// A new in-memory database holding Diesel's SQLite schema, with foreign keys on as the ORM
/// and the raw side set them.
fn fresh() -> TestConnection {
    let mut conn = SqliteConnection::establish(":memory:").expect("open SQLite");
    diesel::sql_query("PRAGMA foreign_keys = ON").execute(&mut conn).expect("pragma");
    for stmt in common::spec::SQLITE_SCHEMA {
        diesel::sql_query(*stmt).execute(&mut conn).expect("schema");
    }
    conn
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    common::all(&mut c, fresh, common::spec::ASSOC_USERS_SQLITE);
    c.final_summary();
}
