//! Shared test support: the models every behaviour test uses, and the backends each test runs
//! on. A test is written once and loops over `backends(...)`; the PostgreSQL backend joins the
//! list in its own issue without a copy of any test.
#![allow(dead_code)]

pub mod models;

use orm::testing::StatementLog;
use orm::{Database, TableSchema};

/// One database per backend, each fresh and holding `tables`: an in-memory SQLite database, and
/// a new schema on the PostgreSQL test server (see `orm::testing::postgres_database_with`). A
/// PostgreSQL server that cannot be had fails the test, loudly.
pub fn backends(tables: &[&'static TableSchema]) -> Vec<(&'static str, Database)> {
    let sqlite = orm::testing::memory_database_with(tables).expect("in-memory SQLite");
    let postgres = orm::testing::postgres_database_with(tables)
        .unwrap_or_else(|e| panic!("PostgreSQL test database: {e}"));
    vec![("sqlite", sqlite), ("postgresql", postgres)]
}

/// The statements of `log` without transaction control, after clearing it.
pub fn take(log: &StatementLog) -> Vec<String> {
    let q = log.queries();
    log.clear();
    q
}
