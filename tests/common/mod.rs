//! Shared test support: the models every behaviour test uses, and the backends each test runs on.
//!
//! A behaviour test is written once, as a plain function taking the [`Backend`] it runs on, and
//! [`backend_tests!`] turns it into one `#[test]` per backend: `sqlite::<name>` and
//! `postgres::<name>`. So a failure names its backend, a SQLite failure does not hide the
//! PostgreSQL result, and `cargo test sqlite::` runs the SQLite half with no PostgreSQL server or
//! binaries at all (`Backend::Sqlite` never touches PostgreSQL), while `cargo test postgres::` runs
//! the PostgreSQL half, where a server that cannot be had fails each test loudly (never a skip).
//!
//! ```ignore
//! mod common;
//! use common::{backend_tests, Backend};
//!
//! backend_tests! {
//!     inserts_a_user,
//!     #[ignore = "slow"] many_users,
//! }
//!
//! fn inserts_a_user(backend: Backend) {
//!     let db = backend.database(&[User::TABLE]); // this test's tables
//!     let placeholder = match backend {
//!         Backend::Sqlite => "?1",
//!         Backend::Postgres => "$1",
//!     };
//!     // ... assert!(.., "{backend}: ..") ...
//! }
//! ```
//!
//! The macro lives here, not in `orm::testing`: it is shaped by this workspace's suite (both
//! backends always built, the `common` module at each test file's root); a user's suite built
//! with one backend's feature would need it gated per feature, a public API of its own.
#![allow(dead_code)]

pub mod models;

use orm::testing::StatementLog;
use orm::{Database, TableSchema};
use std::fmt;

/// The backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An in-memory SQLite database; needs nothing outside the process.
    Sqlite,
    /// A fresh schema on the PostgreSQL test server (see `orm::testing::postgres_database_with`).
    Postgres,
}

impl Backend {
    /// The dialect's name, as `Dialect::name` and the `--dialect` option spell it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
        }
    }

    /// A fresh database of this backend holding `tables`. A PostgreSQL server that cannot be had
    /// fails the test, loudly.
    pub fn database(self, tables: &[&'static TableSchema]) -> Database {
        match self {
            Backend::Sqlite => orm::testing::memory_database_with(tables)
                .unwrap_or_else(|e| panic!("in-memory SQLite test database: {e}")),
            Backend::Postgres => orm::testing::postgres_database_with(tables)
                .unwrap_or_else(|e| panic!("PostgreSQL test database: {e}")),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `#[test]` per backend for each listed function `fn name(backend: Backend)`: `sqlite::name`
/// and `postgres::name`, in a `mod sqlite` and a `mod postgres` holding every listed test of the
/// file. Attributes written before a name (`#[ignore]`, `#[should_panic(expected = "..")]`) go
/// on both tests; give `should_panic` an `expected` message, or a missing PostgreSQL server
/// would pass as the expected panic. A body function left out of the list is never called, and
/// the `dead_code` warning (an error under clippy's `-D warnings`) says so.
#[allow(unused_macros)] // test files that share `common` but not the macro
macro_rules! backend_tests {
    ($($(#[$attr:meta])* $test:ident),* $(,)?) => {
        mod sqlite {
            $(
                $(#[$attr])*
                #[test]
                fn $test() {
                    super::$test($crate::common::Backend::Sqlite)
                }
            )*
        }

        mod postgres {
            $(
                $(#[$attr])*
                #[test]
                fn $test() {
                    super::$test($crate::common::Backend::Postgres)
                }
            )*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use backend_tests;

/// The statements of `log` without transaction control, after clearing it.
pub fn take(log: &StatementLog) -> Vec<String> {
    let q = log.queries();
    log.clear();
    q
}

/// A fresh folder under the system's temporary folder, removed with everything in it when
/// dropped (a test that fails still removes it while unwinding).
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// `orm-<name>-<process>-<nanoseconds>`, created now.
    #[allow(dead_code)] // not every test binary makes folders
    pub fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("orm-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl std::ops::Deref for TempDir {
    type Target = std::path::PathBuf;
    fn deref(&self) -> &std::path::PathBuf {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
