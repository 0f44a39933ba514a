//! What a backend implements: a [`Connection`] that runs SQL with bound parameters and hands rows
//! to a callback as [`Row`]s of borrowed values, and a [`Connector`] that opens connections for
//! the pool. Backends cache prepared statements per connection behind these calls.

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::value::{Value, ValueRef};

/// One result row, borrowed from the driver for the duration of a callback.
pub trait Row {
    /// The number of columns.
    fn len(&self) -> usize;

    /// Whether the row has no columns.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `idx` (0-based). An index past the end is an error, not a panic.
    fn get(&self, idx: usize) -> Result<ValueRef<'_>>;

    /// The name of column `idx`, as the database reported it.
    fn column_name(&self, idx: usize) -> Option<&str>;

    /// The index of the column named `name`.
    fn column_index(&self, name: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.column_name(i) == Some(name))
    }
}

/// Decodes the value at `idx` into `T`, naming the column in the error.
pub fn decode_at<T: crate::value::FromValue>(row: &dyn Row, idx: usize, column: &str) -> Result<T> {
    let v = row.get(idx)?;
    T::from_value(v).map_err(|e| e.at(column))
}

/// A callback receiving each row of a query.
pub type RowCallback<'a> = dyn FnMut(&dyn Row) -> Result<()> + 'a;

/// A live database connection.
pub trait Connection: Send {
    /// Runs a statement that returns no rows; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;

    /// Runs a statement and calls `each` for every row it returns. An error from `each` stops the
    /// query and is returned.
    fn query(&mut self, sql: &str, params: &[Value], each: &mut RowCallback<'_>) -> Result<()>;

    /// Runs one or more statements without parameters (transaction control, DDL scripts).
    fn execute_batch(&mut self, sql: &str) -> Result<()>;

    /// Whether the connection still works (checked by the pool before reuse).
    fn is_valid(&mut self) -> bool {
        self.execute_batch("SELECT 1").is_ok()
    }
}

/// Pool settings. URL query options and the `Database` builder set them.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    /// The most connections open at once.
    pub max_size: u32,
    /// How long `session()` work waits for a free connection before a [`Error::Connection`].
    pub timeout: std::time::Duration,
}

impl PoolConfig {
    /// The most connections a pool may be asked for.
    pub const MAX_SIZE: u32 = 10_000;
    /// The shortest checkout timeout: the pool cannot wait less.
    pub const MIN_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1);
    /// The longest checkout timeout (a day).
    pub const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(86_400);

    /// Checks the settings before a pool is built with them, whether they came from a URL or
    /// from code: a size of 1 to [`PoolConfig::MAX_SIZE`] connections, a timeout of
    /// [`PoolConfig::MIN_TIMEOUT`] to [`PoolConfig::MAX_TIMEOUT`]. Anything else is
    /// [`Error::Config`] naming the setting and the accepted range.
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
        Ok(())
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
        PoolConfig { max_size: 5, timeout: std::time::Duration::from_secs(30) }
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

    /// How this backend writes migrations, when it supports them: a
    /// `&'static dyn orm_core::migrate::MigrationDialect`, opaque here so that connections and
    /// dialects do not depend on the migration engine (which reads it back with
    /// `orm_core::migrate::migration_dialect`).
    fn migrations(&self) -> Option<&'static (dyn std::any::Any + Send + Sync)> {
        None
    }
}

impl From<r2d2::Error> for Error {
    fn from(e: r2d2::Error) -> Self {
        Error::Connection(e.to_string())
    }
}
