//! What a backend implements: a [`Connection`] that runs SQL with bound parameters and hands rows
//! to a callback as [`Row`]s of borrowed values, and a [`Connector`] that opens connections for
//! the pool. Backends cache prepared statements per connection behind these calls.

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::value::Value;

pub use crate::value::Row;

/// Decodes the value at `idx` into `T`, naming the column in the error.
pub fn decode_at<T: crate::value::FromValue>(row: &dyn Row, idx: usize, column: &str) -> Result<T> {
    let v = row.get(idx)?;
    T::from_value(v).map_err(|e| e.at(column))
}

/// Whether `sql` may change the schema: one of its statements (split at every `;`, which can
/// only find more statements than there are) starts with CREATE, ALTER, DROP, DO or IMPORT.
/// Caches of what tables look like (rowid columns, column types) are emptied by such SQL; the
/// session's BEGIN, COMMIT and SAVEPOINT batches leave them.
///
/// ```
/// use orm_core::connection::may_change_schema;
/// assert!(may_change_schema("ALTER TABLE t ADD COLUMN c integer"));
/// assert!(may_change_schema("PRAGMA foreign_keys = OFF; create table t (x)"));
/// assert!(!may_change_schema("BEGIN IMMEDIATE"));
/// assert!(!may_change_schema("SELECT 'drop' FROM t"));
/// ```
pub fn may_change_schema(sql: &str) -> bool {
    sql.split(';').any(|statement| {
        let first =
            statement.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
        ["create", "alter", "drop", "do", "import"].iter().any(|k| first.eq_ignore_ascii_case(k))
    })
}

/// A callback receiving each row of a query.
pub type RowCallback<'a> = dyn FnMut(&dyn Row) -> Result<()> + 'a;

/// Told of each row [`Connection::execute_each`] ran: its parameters, the time it took, and
/// its error if it failed.
pub type RowRun<'a> = dyn FnMut(&[Value], std::time::Duration, Option<&Error>) + 'a;

/// What [`Connection::execute_each`] keeps of each row it ran.
#[derive(Debug)]
pub enum EachRow<'a> {
    /// Nothing.
    Nothing,
    /// The rowid the row inserted ([`Connection::last_insert_rowid`]).
    Rowid(&'a mut Vec<i64>),
    /// How many rows the statement changed.
    Changed(&'a mut Vec<u64>),
}

/// A live database connection.
pub trait Connection: Send {
    /// Runs a statement that returns no rows; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;

    /// Runs a statement and calls `each` for every row it returns. An error from `each` stops the
    /// query and is returned.
    fn query(&mut self, sql: &str, params: &[Value], each: &mut RowCallback<'_>) -> Result<()>;

    /// Runs one or more statements without parameters (transaction control, DDL scripts).
    fn execute_batch(&mut self, sql: &str) -> Result<()>;

    /// Whether `column` of `table` is the table's rowid (SQLite: the single `INTEGER PRIMARY
    /// KEY` of a rowid table), so that an INSERT leaving it out can read the key the database
    /// gave the row from [`last_insert_rowid`](Self::last_insert_rowid), without a `RETURNING`
    /// clause. Backends without rowids keep the default, `false`. A backend that answers
    /// `true` must be sure: a wrong `true` would give objects keys their rows do not have.
    fn is_rowid(&mut self, table: &str, column: &str) -> Result<bool> {
        let _ = (table, column);
        Ok(false)
    }

    /// The rowid of the row the last successful INSERT on this connection inserted (SQLite's
    /// `last_insert_rowid`), for a table whose key [`is_rowid`](Self::is_rowid). `None` on
    /// backends without rowids.
    fn last_insert_rowid(&mut self) -> Option<i64> {
        None
    }

    /// The rowid the database would give the next row inserted into `table`, when this
    /// connection holds a transaction in which no other writer can insert into it before this
    /// one does, and no trigger on `table` can insert rows of its own: then a flush may give
    /// rows these keys itself (one multi-row INSERT whose rows' keys are known, instead of one
    /// statement per row read back with [`last_insert_rowid`](Self::last_insert_rowid)).
    /// `None` (the default) when any of that does not hold or the backend has no rowids.
    fn next_rowid(&mut self, table: &str) -> Result<Option<i64>> {
        let _ = table;
        Ok(None)
    }

    /// Runs the statement `sql` once per row, `rows` rows whose parameters lie `width` at a
    /// time in `params`, in order, stopping at the first error. After each row it calls `each`
    /// with the row's parameters, the time the row took and its error if it failed, and keeps
    /// in `keep` what it asks for. The default runs [`execute`](Self::execute) per row; SQLite
    /// prepares the statement once.
    fn execute_each(
        &mut self,
        sql: &str,
        params: &[Value],
        (rows, width): (usize, usize),
        each: &mut RowRun<'_>,
        mut keep: EachRow<'_>,
    ) -> Result<()> {
        for row in 0..rows {
            let values = params.get(row * width..(row + 1) * width).unwrap_or_default();
            let started = std::time::Instant::now();
            let r = self.execute(sql, values);
            each(values, started.elapsed(), r.as_ref().err());
            let changed = r?;
            match &mut keep {
                EachRow::Nothing => {}
                EachRow::Changed(counts) => counts.push(changed),
                EachRow::Rowid(ids) => {
                    let id = self.last_insert_rowid().ok_or_else(|| {
                        Error::InvalidUse("this backend has no rowid to read back".into())
                    })?;
                    ids.push(id);
                }
            }
        }
        Ok(())
    }

    /// Whether the connection still works: a round trip to the database (the pool's
    /// `pool_pre_ping` check before each checkout).
    fn is_valid(&mut self) -> bool {
        self.execute_batch("SELECT 1").is_ok()
    }

    /// Whether the connection is known to be dead without asking the database (a PostgreSQL
    /// connection whose socket closed). The pool checks it when a connection comes back and
    /// drops a broken one instead of handing it out again; a statement that fails on a broken
    /// connection also tells the pool that every connection opened before it may be dead
    /// (a server restart), so they are replaced before their next use.
    fn is_broken(&mut self) -> bool {
        false
    }
}

/// Pool settings. URL query options and the `Database` builder set them.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    /// The most connections open at once.
    pub max_size: u32,
    /// How long `session()` work waits for a free connection before an
    /// [`Error::PoolTimeout`].
    pub timeout: std::time::Duration,
    /// `pool_pre_ping`: test each connection with a round trip before a session gets it, and
    /// replace it when the test fails (SQLAlchemy's `pool_pre_ping`). Off by default: without
    /// it, a connection that died while idle fails the first statement that uses it (an
    /// [`Error::Connection`]), and that failure makes the pool replace every connection opened
    /// before it.
    pub pre_ping: bool,
    /// `pool_recycle`: connections older than this are closed and replaced when next checked
    /// out or while idle (SQLAlchemy's `pool_recycle`; r2d2's max lifetime). `None` keeps them.
    pub recycle: Option<std::time::Duration>,
    /// `pool_idle_timeout`: idle connections unused for this long are closed. `None` keeps them.
    pub idle_timeout: Option<std::time::Duration>,
}

impl PoolConfig {
    /// The most connections a pool may be asked for.
    pub const MAX_SIZE: u32 = 10_000;
    /// The shortest checkout timeout: the pool cannot wait less.
    pub const MIN_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1);
    /// The longest checkout timeout (a day).
    pub const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(86_400);
    /// The shortest `recycle` or `idle_timeout`.
    pub const MIN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(1);
    /// The longest `recycle` or `idle_timeout` (a year).
    pub const MAX_LIFETIME: std::time::Duration = std::time::Duration::from_secs(365 * 86_400);

    /// Checks the settings before a pool is built with them, whether they came from a URL or
    /// from code: a size of 1 to [`PoolConfig::MAX_SIZE`] connections, a timeout of
    /// [`PoolConfig::MIN_TIMEOUT`] to [`PoolConfig::MAX_TIMEOUT`], a `recycle` and an
    /// `idle_timeout` of 1 s to a year. Anything else is [`Error::Config`] naming the setting
    /// and the accepted range.
    pub fn validate(&self) -> Result<()> {
        if !(1..=Self::MAX_SIZE).contains(&self.max_size) {
            return Err(Error::Config(format!(
                "pool_size (with max_overflow) must be 1 to {} connections, not {}",
                Self::MAX_SIZE,
                self.max_size
            )));
        }
        if !(Self::MIN_TIMEOUT..=Self::MAX_TIMEOUT).contains(&self.timeout) {
            return Err(Error::Config(format!(
                "pool_timeout must be {} s to {} s, not {} s",
                Self::MIN_TIMEOUT.as_secs_f64(),
                Self::MAX_TIMEOUT.as_secs(),
                self.timeout.as_secs_f64()
            )));
        }
        for (name, value) in
            [("pool_recycle", self.recycle), ("pool_idle_timeout", self.idle_timeout)]
        {
            if let Some(d) = value {
                if !(Self::MIN_LIFETIME..=Self::MAX_LIFETIME).contains(&d) {
                    return Err(Error::Config(format!(
                        "{name} must be {} s to {} s, not {} s",
                        Self::MIN_LIFETIME.as_secs(),
                        Self::MAX_LIFETIME.as_secs(),
                        d.as_secs_f64()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The URL options [`set_url_option`](Self::set_url_option) reads, the same on every backend.
    pub const URL_OPTIONS: &'static [&'static str] =
        &["pool_timeout", "pool_pre_ping", "pool_recycle", "pool_idle_timeout"];

    /// Sets the setting of a URL option both backends take the same way (`pool_timeout`,
    /// `pool_pre_ping`, `pool_recycle`, `pool_idle_timeout`): `Ok(true)` when `name` is one of
    /// them, `Ok(false)` when it is not. A bad value is [`Error::Config`] naming the option
    /// (after `what`, e.g. `PostgreSQL URL`) and what it takes, never the value.
    pub fn set_url_option(&mut self, what: &str, name: &str, value: &str) -> Result<bool> {
        let bad =
            |expected: &str| Error::Config(format!("{what} option `{name}`: expected {expected}"));
        const SECONDS_OR_NEVER: &str = "a number of seconds, or -1 for never";
        match name {
            "pool_timeout" => {
                self.timeout =
                    Self::parse_timeout(value).ok_or_else(|| bad("a number of seconds"))?;
            }
            "pool_pre_ping" => {
                self.pre_ping = Self::parse_flag(value).ok_or_else(|| bad("`true` or `false`"))?;
            }
            "pool_recycle" => {
                self.recycle = Self::parse_lifetime(value).ok_or_else(|| bad(SECONDS_OR_NEVER))?;
            }
            "pool_idle_timeout" => {
                self.idle_timeout =
                    Self::parse_lifetime(value).ok_or_else(|| bad(SECONDS_OR_NEVER))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Parses a `pool_pre_ping` URL option: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
    pub fn parse_flag(value: &str) -> Option<bool> {
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        }
    }

    /// Parses a `pool_recycle` or `pool_idle_timeout` URL option: a (fractional) number of
    /// seconds, or `-1` for none (SQLAlchemy's `pool_recycle=-1`).
    pub fn parse_lifetime(value: &str) -> Option<Option<std::time::Duration>> {
        if value.trim() == "-1" {
            return Some(None);
        }
        Self::parse_timeout(value).map(Some)
    }

    /// Parses a `pool_size` URL option: a whole number of connections, at least 1.
    pub fn parse_size(value: &str) -> Option<u32> {
        value.parse().ok().filter(|n| *n >= 1)
    }

    /// Parses a `pool_timeout` URL option: a (fractional) number of seconds.
    pub fn parse_timeout(value: &str) -> Option<std::time::Duration> {
        value.parse::<f64>().ok().and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
    }
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 5,
            timeout: std::time::Duration::from_secs(30),
            pre_ping: false,
            recycle: None,
            idle_timeout: None,
        }
    }
}

/// Opens connections of one backend to one database; the pool calls it.
pub trait Connector: Send + Sync + 'static {
    /// The backend's dialect.
    fn dialect(&self) -> &'static dyn Dialect;

    /// Opens a new connection.
    fn connect(&self) -> Result<Box<dyn Connection>>;

    /// The pool settings this database wants (e.g. one connection for an in-memory SQLite).
    fn pool_config(&self) -> PoolConfig {
        PoolConfig::default()
    }

    /// The `pool_size` and `max_overflow` this database was given (its URL's options, or the
    /// backend's defaults): the pool holds at most their sum, the
    /// [`max_size`](PoolConfig::max_size) of [`pool_config`](Self::pool_config). A builder
    /// that sets one of them keeps the other. The default: all of `max_size`, no overflow.
    fn pool_size_and_overflow(&self) -> (u32, u32) {
        (self.pool_config().max_size, 0)
    }

    /// Refuses pool settings this database cannot live with, as [`Error::Config`] (an
    /// in-memory SQLite database lives exactly as long as its one connection, so it takes no
    /// second connection, no recycling and no idle timeout). Checked for the connector's own
    /// settings and for any given in code.
    fn check_pool_config(&self, config: &PoolConfig) -> Result<()> {
        let _ = config;
        Ok(())
    }

    /// How this backend writes migrations, when it supports them: a
    /// `&'static dyn orm_core::migrate::MigrationDialect`, opaque here so that connections and
    /// dialects do not depend on the migration engine (which reads it back with
    /// `orm_core::migrate::migration_dialect`).
    fn migrations(&self) -> Option<&'static (dyn std::any::Any + Send + Sync)> {
        None
    }
}
