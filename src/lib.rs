//! # orm
//!
//! An ORM for Rust in the spirit of SQLAlchemy + Alembic: models are structs with
//! `#[derive(Model)]`, a [`Session`] is a unit of work (add / delete / commit / rollback, an
//! identity map, dirty tracking, flush ordered by foreign keys), and queries are typed.
//!
//! ```
//! use orm::prelude::*;
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! #[orm(table = "users")]
//! pub struct User {
//!     #[orm(primary_key)]
//!     pub id: i64,
//!     #[orm(unique, max_length = 80)]
//!     pub username: String,
//!     pub age: Option<i32>,
//! }
//!
//! # fn main() -> orm::Result<()> {
//! let db = Database::connect("sqlite::memory:")?;
//! db.create_tables(&[User::TABLE])?;
//! let mut s = db.session();
//! let h = s.add(User { username: "tata".into(), ..Default::default() });
//! s.commit()?;                                   // INSERT ... RETURNING "id"
//! assert_eq!(s[h].id, 1);
//!
//! if let Some(tata) = s.get_mut::<User>(1)? {     // the session's own object
//!     tata.age = Some(30);
//! }
//! s.commit()?;                                   // UPDATE "users" SET "age" = ?1 WHERE ...
//! assert_eq!(s.query::<User>().filter(User::age.gt(18)).count()?, 1);
//!
//! let mut copy = s.query::<User>().filter(User::username.eq("tata")).one()?;
//! copy.age = Some(31);
//! s.add(copy);                                   // a changed copy: add it back
//! s.commit()?;
//! assert_eq!(s.get::<User>(1)?.map(|u| u.age), Some(Some(31)));
//! # Ok(()) }
//! ```
//!
//! Features: `sqlite` (default) and `postgres` select the backends compiled in; `testing` adds
//! the PostgreSQL test server to [`testing`] (for `[dev-dependencies]`).

pub use orm_core::*;
pub use orm_derive::{embed_migrations, DbEnum, FromRow, Model};

#[cfg(feature = "cli")]
pub mod cli;
pub mod relationships;
pub mod testing;

/// The SQLite driver (`rusqlite`), to downcast an error's `source()`:
/// `e.source().and_then(|s| s.downcast_ref::<orm::rusqlite::Error>())`.
#[cfg(feature = "sqlite")]
pub use orm_sqlite::rusqlite;

/// The PostgreSQL driver (`postgres`), to downcast an error's `source()` (which may be a few
/// levels down: walk `source()` until `downcast_ref::<orm::postgres::Error>()` finds it).
#[cfg(feature = "postgres")]
pub use orm_postgres::postgres;

use std::time::Duration;

/// A database: a pool of connections behind a URL. `Clone + Send + Sync`; clone it freely.
/// Derefs to the backend-neutral [`Engine`].
///
/// From async code, clone it into `tokio::task::spawn_blocking` and make the session there
/// (the README's "From async code"). Connecting, sessions and dropping work on any thread,
/// also one that drives a tokio runtime, and never panic there: the last clone dropped inside
/// a runtime (a server's state when the runtime shuts down) closes its PostgreSQL connections
/// on plain threads, and returns once they are closed.
///
/// URLs: `sqlite::memory:`, `sqlite://relative/path.db`, `sqlite:///absolute/path.db` (options
/// in the query string, see the README), and `postgresql://user:pass@host:5432/db` with the
/// `postgres` feature.
///
/// ```
/// use orm::prelude::*;
///
/// #[derive(Model, Debug, Clone, PartialEq)]
/// pub struct Note {
///     #[orm(primary_key)]
///     pub id: i64,
///     pub body: String,
/// }
///
/// # fn main() -> orm::Result<()> {
/// let db = Database::connect("sqlite::memory:")?;
/// db.create_tables(&[Note::TABLE])?;
/// // One `Database` per program, cloned into every thread; one session per unit of work.
/// let worker = {
///     let db = db.clone();
///     std::thread::spawn(move || -> orm::Result<()> {
///         let mut s = db.session();
///         s.add(Note { body: "from a thread".into(), ..Default::default() });
///         s.commit()
///     })
/// };
/// worker.join().expect("the thread")?;
/// assert_eq!(db.session().query::<Note>().count()?, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Database {
    engine: Engine,
    /// Something that must live as long as the database (a test schema's guard).
    #[cfg(all(feature = "postgres", feature = "testing"))]
    keep_alive: Option<std::sync::Arc<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("engine", &self.engine).finish()
    }
}

impl Database {
    /// Connects to the database at `url` with default options. A bad URL is an
    /// [`Error::Config`] that never shows a password; an unreachable database an
    /// [`Error::Connection`].
    ///
    /// ```
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::Database::connect("sqlite::memory:")?;
    /// assert_eq!(db.dialect().name(), "sqlite");
    ///
    /// let err = orm::Database::connect("mysql://me:secret@host/db").unwrap_err();
    /// assert!(matches!(err, orm::Error::Config(_)));
    /// assert!(!err.to_string().contains("secret"));
    /// # Ok(()) }
    /// ```
    pub fn connect(url: &str) -> Result<Database> {
        DatabaseOptions::default().connect(url)
    }

    /// Connects to `$DATABASE_URL`, or to `fallback` when it is not set (as the tutorials'
    /// `os.environ.get("DATABASE_URL", "sqlite:///app.db")`).
    ///
    /// ```no_run
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::Database::connect_env_or("sqlite://app.db")?;
    /// # Ok(()) }
    /// ```
    pub fn connect_env_or(fallback: &str) -> Result<Database> {
        DatabaseOptions::default().connect_env_or(fallback)
    }

    /// Options for echo and the pool: `Database::options().echo(true).connect(url)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::Database::options()
    ///     .echo(true) // every statement at INFO on the `orm::sql` tracing target
    ///     .pool_timeout(Duration::from_secs(5))
    ///     .connect("sqlite::memory:")?;
    /// # drop(db);
    /// # Ok(()) }
    /// ```
    pub fn options() -> DatabaseOptions {
        DatabaseOptions::default()
    }

    /// The backend-neutral engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Creates the tables of every model compiled into the program (they register themselves),
    /// parents before children, with the DDL a migration writes; tables that exist are left
    /// alone. Foreign keys forming a cycle of NOT NULL keys are an `Error::ForeignKeyCycle`. For an
    /// application whose schema has migrations, run them instead (`orm::migrate`, the `db`
    /// command).
    ///
    /// ```
    /// use orm::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// pub struct Author {
    ///     #[orm(primary_key)]
    ///     pub id: i64,
    ///     pub name: String,
    /// }
    ///
    /// # fn main() -> orm::Result<()> {
    /// let db = Database::connect("sqlite::memory:")?;
    /// db.create_all()?;
    /// db.create_all()?; // again: nothing to do
    /// assert_eq!(db.session().query::<Author>().count()?, 0);
    /// db.drop_all()?;
    /// assert!(db.session().query::<Author>().count().is_err());
    /// # Ok(()) }
    /// ```
    pub fn create_all(&self) -> Result<()> {
        self.engine.create_all(&registered_tables())
    }

    /// Drops the tables of every registered model that exist, children first.
    pub fn drop_all(&self) -> Result<()> {
        self.engine.drop_all(&registered_tables())
    }

    /// Creates the given tables (their enum types, indexes and constraints) that do not exist
    /// yet; see [`Database::create_all`].
    pub fn create_tables(&self, tables: &[&'static TableSchema]) -> Result<()> {
        self.engine.create_all(tables)
    }

    /// Drops the given tables that exist.
    pub fn drop_tables(&self, tables: &[&'static TableSchema]) -> Result<()> {
        self.engine.drop_all(tables)
    }
}

impl std::ops::Deref for Database {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.engine
    }
}

/// Every registered model's table, parents first.
pub fn registered_tables() -> Vec<&'static TableSchema> {
    orm_core::model::registered_tables()
}

/// How to connect: echo and pool settings (URL options may set the pool too; these win).
#[derive(Debug, Clone, Default)]
pub struct DatabaseOptions {
    echo: bool,
    pool_size: Option<u32>,
    max_overflow: Option<u32>,
    pool_timeout: Option<Duration>,
    pool_pre_ping: Option<bool>,
    pool_recycle: Option<Option<Duration>>,
    pool_idle_timeout: Option<Option<Duration>>,
}

impl DatabaseOptions {
    /// Logs every statement with its timing at INFO on the `orm::sql` tracing target (otherwise
    /// at DEBUG), like `SQLALCHEMY_ECHO = True`.
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    /// The connections the pool is sized for (SQLAlchemy's `pool_size`; the URL option
    /// `pool_size=n`), at least 1. The pool holds at most `pool_size + max_overflow`; the
    /// overflow stays the URL's or the backend's default unless
    /// [`max_overflow`](Self::max_overflow) sets it.
    ///
    /// ```
    /// # fn main() -> orm::Result<()> {
    /// # let dir = std::env::temp_dir().join(format!("orm-doc-pool-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).ok();
    /// # let url = format!("sqlite://{}", dir.join("app.db").display());
    /// // A SQLite file: 5 + 0 by default; here at most 2 + 3 connections.
    /// let db = orm::Database::options().pool_size(2).max_overflow(3).connect(&url)?;
    /// # drop(db);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// // An in-memory database is its one connection: no overflow.
    /// let err = orm::Database::options().max_overflow(1).connect("sqlite::memory:").unwrap_err();
    /// assert!(matches!(err, orm::Error::Config(_)));
    /// # Ok(()) }
    /// ```
    pub fn pool_size(mut self, n: u32) -> Self {
        self.pool_size = Some(n);
        self
    }

    /// Connections opened beyond `pool_size` when every one is busy (SQLAlchemy's
    /// `max_overflow`; the URL option `max_overflow=n`). Unlike SQLAlchemy's, the pool keeps
    /// them open once made, unless [`pool_idle_timeout`](Self::pool_idle_timeout) closes them.
    pub fn max_overflow(mut self, n: u32) -> Self {
        self.max_overflow = Some(n);
        self
    }

    /// How long to wait for a free connection before an [`Error::PoolTimeout`].
    pub fn pool_timeout(mut self, t: Duration) -> Self {
        self.pool_timeout = Some(t);
        self
    }

    /// Tests each connection with a round trip before a session gets it, replacing a dead one
    /// (SQLAlchemy's `pool_pre_ping`; the URL option `pool_pre_ping=true`).
    pub fn pool_pre_ping(mut self, on: bool) -> Self {
        self.pool_pre_ping = Some(on);
        self
    }

    /// Replaces connections older than `age` (SQLAlchemy's `pool_recycle`; `None`: never).
    pub fn pool_recycle(mut self, age: Option<Duration>) -> Self {
        self.pool_recycle = Some(age);
        self
    }

    /// Closes connections idle for `idle` (`None`: never).
    pub fn pool_idle_timeout(mut self, idle: Option<Duration>) -> Self {
        self.pool_idle_timeout = Some(idle);
        self
    }

    /// Connects to `url`.
    pub fn connect(self, url: &str) -> Result<Database> {
        let connector = connector_for(url)?;
        let mut pool = connector.pool_config();
        if self.pool_size.is_some() || self.max_overflow.is_some() {
            let (size, overflow) = connector.pool_size_and_overflow();
            let size = self.pool_size.unwrap_or(size);
            if size == 0 {
                return Err(Error::Config("pool_size must be at least 1 connection, not 0".into()));
            }
            let overflow = self.max_overflow.unwrap_or(overflow);
            pool.max_size = size.checked_add(overflow).ok_or_else(|| {
                Error::Config(format!(
                    "pool_size + max_overflow must be at most {} connections, not {size} + \
                     {overflow}",
                    PoolConfig::MAX_SIZE
                ))
            })?;
        }
        if let Some(t) = self.pool_timeout {
            pool.timeout = t;
        }
        if let Some(on) = self.pool_pre_ping {
            pool.pre_ping = on;
        }
        if let Some(age) = self.pool_recycle {
            pool.recycle = age;
        }
        if let Some(idle) = self.pool_idle_timeout {
            pool.idle_timeout = idle;
        }
        let engine = Engine::new(connector, EngineOptions { echo: self.echo, pool: Some(pool) })?;
        Ok(Database {
            engine,
            #[cfg(all(feature = "postgres", feature = "testing"))]
            keep_alive: None,
        })
    }

    /// Connects to `$DATABASE_URL`, or to `fallback` when it is unset or empty.
    pub fn connect_env_or(self, fallback: &str) -> Result<Database> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => self.connect(url.trim()),
            _ => self.connect(fallback),
        }
    }
}

fn connector_for(url: &str) -> Result<Box<dyn Connector>> {
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    match scheme.as_str() {
        "sqlite" => sqlite_connector(url),
        "postgres" | "postgresql" => postgres_connector(url),
        // Only the scheme is shown: the rest of a URL can carry a password.
        _ => Err(Error::Config(format!(
            "unsupported database URL {}: expected sqlite::memory:, sqlite://path or \
             postgresql://user:pass@host/db",
            shown_scheme(url)
        ))),
    }
}

#[cfg(feature = "sqlite")]
fn sqlite_connector(url: &str) -> Result<Box<dyn Connector>> {
    orm_sqlite::connector(url)
}

#[cfg(not(feature = "sqlite"))]
fn sqlite_connector(_url: &str) -> Result<Box<dyn Connector>> {
    Err(Error::Config("this program was built without the `sqlite` feature of orm".into()))
}

#[cfg(feature = "postgres")]
fn postgres_connector(url: &str) -> Result<Box<dyn Connector>> {
    orm_postgres::connector(url)
}

#[cfg(not(feature = "postgres"))]
fn postgres_connector(_url: &str) -> Result<Box<dyn Connector>> {
    Err(Error::Config("this program was built without the `postgres` feature of orm".into()))
}

/// `scheme `x`` when the URL starts with a scheme (`letters:`), else a phrase: what a message
/// may show of a URL (a text without a scheme may be a password pasted in the wrong place).
fn shown_scheme(url: &str) -> String {
    match url.split_once(':') {
        Some((s, _))
            if (1..=20).contains(&s.len())
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) =>
        {
            format!("scheme `{s}`")
        }
        _ => "(no scheme)".to_owned(),
    }
}

/// What most programs need: `use orm::prelude::*;`.
pub mod prelude {
    pub use crate::{Database, DatabaseOptions};
    pub use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    pub use orm_core::{
        avg, count, count_distinct, count_star, lower, max, min, select, sum, upper, Column,
        DbDefault, DbEnum as _, Error, Expr, FromRow as _, Handle, Json, Model as _, OrderBy, Page,
        Related, Result, Select, Session,
    };
    pub use orm_derive::{DbEnum, FromRow, Model};
    pub use uuid::Uuid;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_scheme_is_a_config_error_naming_only_the_scheme() {
        for url in
            ["mysql://u:pw@h/db", "mysql://h/db?password=pw", "mysql://u:pw?x@h/db", "mysql:u:pw@h"]
        {
            let e = Database::connect(url).unwrap_err();
            assert!(matches!(e, Error::Config(ref m) if m.contains("scheme `mysql`")), "{e}");
            assert!(!e.to_string().contains("pw"), "{e}");
        }
        // No scheme at all (a password pasted in the wrong place): nothing of it is shown.
        for url in ["hunter2", "hunter2@h", ":hunter2@h"] {
            let e = Database::connect(url).unwrap_err().to_string();
            assert!(e.contains("(no scheme)") && !e.contains("hunter2"), "{e}");
        }
    }
}
