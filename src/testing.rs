//! Support for test suites: a fresh in-memory database with your models' tables in one call, a
//! session whose work is rolled back when the test ends, and a log of the statements run.
//!
//! The PostgreSQL helpers (`postgres_database` and the others named `postgres`) start a
//! throwaway server with `initdb` and `pg_ctl`, so they come with the `testing` feature only,
//! which a test suite turns on in its dev-dependencies; the SQLite ones need no feature:
//!
//! ```toml
//! [dependencies]
//! orm = "0.1"
//!
//! [dev-dependencies]
//! orm = { version = "0.1", features = ["testing"] }
//! ```
//!
//! ```
//! use orm::prelude::*;
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! pub struct Note {
//!     #[orm(primary_key)]
//!     pub id: i64,
//!     pub body: String,
//! }
//!
//! # fn main() -> orm::Result<()> {
//! let db = orm::testing::memory_database_with(&[Note::TABLE])?;
//! let log = orm::testing::StatementLog::attach(&db);
//! let mut s = orm::testing::session(&db)?;
//! s.add(Note { body: "hi".into(), ..Default::default() });
//! s.commit()?;
//! assert!(log.statements().iter().any(|sql| sql.starts_with("INSERT INTO \"note\"")));
//! # Ok(()) }
//! ```

use crate::{Database, Result, Session, StatementListener, TableSchema};
use std::sync::{Arc, Mutex};

/// A fresh in-memory SQLite database with the tables of every registered model.
#[cfg(feature = "sqlite")]
pub fn memory_database() -> Result<Database> {
    let db = Database::connect("sqlite::memory:")?;
    db.create_all()?;
    Ok(db)
}

/// A fresh in-memory SQLite database with the given tables.
#[cfg(feature = "sqlite")]
pub fn memory_database_with(tables: &[&'static TableSchema]) -> Result<Database> {
    let db = Database::connect("sqlite::memory:")?;
    db.create_tables(tables)?;
    Ok(db)
}

/// The PostgreSQL test server: its URL, and empty schemas of one's own on it.
#[cfg(all(feature = "postgres", feature = "testing"))]
pub use orm_postgres::test_server as postgres_server;

/// A database in a fresh, empty schema of the PostgreSQL test server, holding the given tables.
/// The server is `ORM_TEST_POSTGRES_URL` when set, otherwise a throwaway cluster started by this
/// process (and removed when it exits). The schema is dropped with the last clone of the
/// database. Missing PostgreSQL binaries are an error saying how to install them.
#[cfg(all(feature = "postgres", feature = "testing"))]
pub fn postgres_database_with(tables: &[&'static TableSchema]) -> Result<Database> {
    let schema = orm_postgres::test_server::TestSchema::create()?;
    let mut db = Database::connect(schema.url())?;
    db.keep_alive = Some(std::sync::Arc::new(schema));
    db.create_tables(tables)?;
    Ok(db)
}

/// [`postgres_database_with`] holding the tables of every registered model.
#[cfg(all(feature = "postgres", feature = "testing"))]
pub fn postgres_database() -> Result<Database> {
    postgres_database_with(&crate::registered_tables())
}

/// A session whose work is never committed: `commit` keeps its changes visible to the session
/// (a savepoint), and everything is rolled back when it is dropped, so tests sharing one
/// database do not see each other's rows.
pub fn session(db: &Database) -> Result<Session> {
    Session::new_test_session(db.engine())
}

/// Collects the SQL of every statement a database runs while it is attached.
pub struct StatementLog {
    db: Database,
    id: u64,
    lines: Arc<Mutex<Vec<String>>>,
}

impl StatementLog {
    /// Starts collecting.
    pub fn attach(db: &Database) -> StatementLog {
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = lines.clone();
        let listener: StatementListener = Arc::new(move |ev| {
            if let Ok(mut l) = sink.lock() {
                l.push(ev.sql.to_owned());
            }
        });
        let id = db.add_listener(listener);
        StatementLog { db: db.clone(), id, lines }
    }

    /// The statements so far, in order.
    pub fn statements(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The statements so far, leaving out transaction control (BEGIN, COMMIT, ROLLBACK,
    /// SAVEPOINT, RELEASE).
    pub fn queries(&self) -> Vec<String> {
        self.statements()
            .into_iter()
            .filter(|s| {
                let u = s.trim_start().to_ascii_uppercase();
                !["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"]
                    .iter()
                    .any(|k| u.starts_with(k))
            })
            .collect()
    }

    /// Forgets what was collected.
    pub fn clear(&self) {
        if let Ok(mut l) = self.lines.lock() {
            l.clear();
        }
    }
}

impl Drop for StatementLog {
    fn drop(&mut self) {
        self.db.remove_listener(self.id);
    }
}

/// The differences between the schema the revision files of `dir` replay to and `models`, one
/// line each; empty when they agree.
pub fn migration_differences(
    dir: impl AsRef<std::path::Path>,
    models: &[&'static TableSchema],
) -> Result<Vec<String>> {
    let revisions = crate::migrate::Revisions::load_dir(dir.as_ref())?;
    crate::migrate::differences(&revisions, models)
}

/// Fails the test, listing the differences, unless the migrations folder `dir` replays to
/// exactly the models registered in this program: a model changed without `cargo db migrate`
/// fails the suite. No database is needed.
///
/// ```no_run
/// #[test]
/// fn migrations_are_up_to_date() {
///     orm::testing::assert_migrations_match_models(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
/// }
/// ```
#[track_caller]
pub fn assert_migrations_match_models(dir: impl AsRef<std::path::Path>) {
    assert_migrations_match(dir, &crate::registered_tables());
}

/// [`assert_migrations_match_models`] for the given models.
#[track_caller]
pub fn assert_migrations_match(dir: impl AsRef<std::path::Path>, models: &[&'static TableSchema]) {
    let dir = dir.as_ref();
    match migration_differences(dir, models) {
        Ok(d) if d.is_empty() => {}
        Ok(d) => panic!(
            "the migrations in {} do not match the models (run `cargo db migrate`):\n  {}",
            dir.display(),
            d.join("\n  ")
        ),
        Err(e) => panic!("cannot read the migrations in {}: {e}", dir.display()),
    }
}

/// A fresh in-memory SQLite database built by running the migrations of `dir` up to the head
/// (instead of `create_all`), so tests run on the schema production gets.
#[cfg(feature = "sqlite")]
pub fn migrated_memory_database(dir: impl AsRef<std::path::Path>) -> Result<Database> {
    let db = Database::connect("sqlite::memory:")?;
    migrate_to_head(&db, dir.as_ref())?;
    Ok(db)
}

/// A database in a fresh schema of the PostgreSQL test server, built by running the
/// migrations of `dir` up to the head.
#[cfg(all(feature = "postgres", feature = "testing"))]
pub fn migrated_postgres_database(dir: impl AsRef<std::path::Path>) -> Result<Database> {
    let db = postgres_database_with(&[])?;
    migrate_to_head(&db, dir.as_ref())?;
    Ok(db)
}

#[cfg(any(feature = "sqlite", all(feature = "postgres", feature = "testing")))]
fn migrate_to_head(db: &Database, dir: &std::path::Path) -> Result<()> {
    let revisions = crate::migrate::Revisions::load_dir(dir)?;
    crate::migrate::Migrator::new(db.engine(), &revisions).upgrade("head").map(|_| ())
}
