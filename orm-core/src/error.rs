//! The one error type of the ORM. Every variant is something a program can match on: constraint
//! violations carry the table, column or constraint the database named, decoding errors name the
//! column and both types. Nothing a user or a database supplies makes the library panic.

use std::fmt;

/// The result type of every fallible ORM call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Details a database gave about a violated constraint. Each part is `None` when the database did
/// not say it (SQLite names table and column for UNIQUE and NOT NULL, but not for foreign keys).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConstraintInfo {
    /// The table the failed statement wrote to.
    pub table: Option<String>,
    /// The columns involved, in the order the database listed them.
    pub columns: Vec<String>,
    /// The constraint's name.
    pub constraint: Option<String>,
    /// The database's own message, verbatim.
    pub message: String,
}

impl fmt::Display for ConstraintInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A driver's error, kept as the `source()` of [`Error::Connection`] and [`Error::Database`]:
/// downcast it to the driver's type when the ORM's reading is not enough.
///
/// ```
/// # fn main() -> orm_core::Result<()> {
/// let e = orm_core::Error::connection_caused_by(
///     "cannot reach the server",
///     std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
/// );
/// let io = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>());
/// assert_eq!(io.map(|e| e.kind()), Some(std::io::ErrorKind::ConnectionRefused));
/// # Ok(()) }
/// ```
pub type DriverError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every error the ORM returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A query that must return a row returned none (`one`, `get_or_404`-style calls).
    #[error("no row found for {0}")]
    NotFound(String),
    /// A query that must return at most one row returned more (`one`, `one_or_none`).
    #[error("expected one row from {0}, found several")]
    MultipleRows(String),
    /// A UNIQUE or PRIMARY KEY constraint was violated.
    #[error("unique violation: {0}")]
    UniqueViolation(ConstraintInfo),
    /// A FOREIGN KEY constraint was violated.
    #[error("foreign key violation: {0}")]
    ForeignKeyViolation(ConstraintInfo),
    /// A NOT NULL constraint was violated.
    #[error("not null violation: {0}")]
    NotNullViolation(ConstraintInfo),
    /// A CHECK constraint (including the one guarding an enum column on SQLite) was violated.
    #[error("check violation: {0}")]
    CheckViolation(ConstraintInfo),
    /// The database could not be reached, or a connection was lost. `source()` is the driver's
    /// error when the driver reported it (`rusqlite::Error`, `postgres::Error`, an I/O error), so
    /// a program can downcast it; the message says what the ORM was doing.
    #[error("connection error: {message}")]
    Connection {
        /// What failed, with the driver's words.
        message: String,
        /// The driver's error, when there is one.
        #[source]
        source: Option<DriverError>,
    },
    /// No connection could be had from the pool within its checkout timeout.
    #[error("no connection available from the pool within {waited:?}")]
    PoolTimeout {
        /// How long the checkout waited.
        waited: std::time::Duration,
    },
    /// The database aborted the transaction to keep it serializable (PostgreSQL SQLSTATE
    /// 40001); running it again may succeed.
    #[error("serialization failure, retry the transaction: {0}")]
    SerializationFailure(String),
    /// The database broke a deadlock by aborting this transaction (SQLSTATE 40P01); running it
    /// again may succeed.
    #[error("deadlock detected, retry the transaction: {0}")]
    Deadlock(String),
    /// A bad connection URL or option.
    #[error("configuration error: {0}")]
    Config(String),
    /// A value read from the database does not fit the Rust type it is decoded into.
    #[error("cannot decode column `{column}`: expected {expected}, got {got}")]
    Decode {
        /// The column (or result position) being decoded.
        column: String,
        /// The Rust type asked for.
        expected: &'static str,
        /// What the database returned.
        got: String,
    },
    /// A relationship was read before it was loaded (relationships never load behind your back).
    #[error("relationship `{0}` is not loaded")]
    NotLoaded(&'static str),
    /// The operation is not available on this backend.
    #[error("not supported on {backend}: {what}")]
    Unsupported {
        /// The backend's name, e.g. `sqlite`.
        backend: &'static str,
        /// What was asked for.
        what: String,
    },
    /// The session or query was used in a way that cannot work (e.g. a handle from another session).
    #[error("invalid use: {0}")]
    InvalidUse(String),
    /// A statement failed inside the session's transaction, so the transaction cannot commit:
    /// PostgreSQL aborts a transaction after any failed statement, and the session holds SQLite
    /// to the same rule so that both backends answer alike. Every call but `rollback()` (of the
    /// session, or of the nested transaction the statement failed in) returns this error until
    /// then; the text is the first failure's.
    #[error("the transaction failed earlier and must be rolled back: {0}")]
    TransactionAborted(String),
    /// An UPDATE or DELETE of one object matched no row: another writer deleted the row, or
    /// changed its `#[orm(version)]` column, since this session read it. Nothing of the flush was
    /// written; re-read the row (`refresh`) and apply the change again.
    #[error("stale data: {0}")]
    StaleData(String),
    /// The connection was lost while COMMIT was on its way: the server may have committed the
    /// transaction or not, and no one can say which from here. Unlike every other error of
    /// `commit()` (after which nothing was written), the work may be in the database: check
    /// before doing it again (look the rows up, or write with an idempotency key). The session
    /// has been rolled back locally and is usable again, on a new connection.
    #[error("the connection was lost during COMMIT, the transaction may or may not have been committed: {0}")]
    CommitOutcomeUnknown(String),
    /// The foreign keys of these tables form a cycle (each references the next, the last the
    /// first) that no nullable foreign key breaks: no table of it can be created, nor a row
    /// inserted, before the others. Make one of the foreign keys nullable (`Option<T>`).
    #[error("the foreign keys of tables {} form a cycle that no nullable foreign key breaks (make one of them nullable)", .tables.join(" -> "))]
    ForeignKeyCycle {
        /// The tables of the cycle, in order.
        tables: Vec<String>,
    },
    /// A migration could not be planned or read (a bad revision file, an unknown revision,
    /// several heads...).
    #[error("migration error: {0}")]
    Migration(String),
    /// A statement of a revision failed: the revision's transaction was rolled back, so the
    /// database stays where it was before the revision ran: `at` names it (the revision before
    /// it for an upgrade, this revision itself for a downgrade).
    #[error("revision {revision} failed, the database stays at {}: {source}\n  in: {statement}", revisions_or_base(.at))]
    MigrationFailed {
        /// The revision's id.
        revision: String,
        /// The statement that failed.
        statement: String,
        /// The database's error ([`Error::DataLoss`] when converting a column's values would
        /// lose or change some).
        source: Box<Error>,
        /// The revisions the database is at after the rollback (its heads; empty: `base`).
        at: Vec<String>,
    },
    /// A revision's change of a column would lose or change the values of some rows (a text
    /// longer than the new `VARCHAR(n)`, an integer out of the new type's range, a number with
    /// more decimal places than the new scale, a NULL in a column becoming NOT NULL, ...). The
    /// migration counts those rows before it converts anything and fails instead: fix the rows
    /// first, or give the `alter_column` op a `using` expression that says how to convert them.
    #[error("{rows} row(s) of {table}.{column} {reason}: the change would lose or alter them (fix those rows first, or give the op a `using` expression that converts them)")]
    DataLoss {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// How many rows do not fit.
        rows: u64,
        /// Why they do not fit, e.g. `are longer than 100 characters`.
        reason: String,
    },
    /// Any other error the database reported. `source()` is the driver's error.
    #[error("database error: {message}")]
    Database {
        /// The backend's error code, when it has one (SQLite extended code, SQLSTATE).
        code: Option<String>,
        /// The database's message.
        message: String,
        /// The driver's error, when there is one.
        #[source]
        source: Option<DriverError>,
    },
}

impl Error {
    /// An [`Error::Connection`] with no driver error behind it.
    pub fn connection(message: impl Into<String>) -> Error {
        Error::Connection { message: message.into(), source: None }
    }

    /// An [`Error::Connection`] caused by a driver's error, which `source()` returns.
    pub fn connection_caused_by(
        message: impl Into<String>,
        source: impl Into<DriverError>,
    ) -> Error {
        Error::Connection { message: message.into(), source: Some(source.into()) }
    }

    /// An [`Error::Database`] with the backend's code and message, and no driver error behind it.
    pub fn database(code: Option<String>, message: impl Into<String>) -> Error {
        Error::Database { code, message: message.into(), source: None }
    }

    /// This error with `source` as the driver's error behind it, when it is an
    /// [`Error::Connection`] or [`Error::Database`] that has none yet; any other error as it is.
    pub fn caused_by(self, source: impl Into<DriverError>) -> Error {
        match self {
            Error::Connection { message, source: None } => {
                Error::Connection { message, source: Some(source.into()) }
            }
            Error::Database { code, message, source: None } => {
                Error::Database { code, message, source: Some(source.into()) }
            }
            other => other,
        }
    }

    /// Whether running the transaction again may succeed (serialization failure, deadlock).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::SerializationFailure(_) | Error::Deadlock(_))
    }

    /// The constraint details when this is one of the four constraint violations.
    pub fn constraint(&self) -> Option<&ConstraintInfo> {
        match self {
            Error::UniqueViolation(c)
            | Error::ForeignKeyViolation(c)
            | Error::NotNullViolation(c)
            | Error::CheckViolation(c) => Some(c),
            _ => None,
        }
    }
}

/// Why a single value could not be decoded; the caller adds the column name to make an
/// [`Error::Decode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The Rust type asked for.
    pub expected: &'static str,
    /// What was found.
    pub got: String,
}

impl DecodeError {
    /// A decode error expecting `expected`, having found `got`.
    pub fn new(expected: &'static str, got: impl Into<String>) -> Self {
        DecodeError { expected, got: got.into() }
    }

    /// Attach the column name.
    pub fn at(self, column: impl Into<String>) -> Error {
        Error::Decode { column: column.into(), expected: self.expected, got: self.got }
    }
}

/// `base` for no revision, else the revision ids joined with `, `.
fn revisions_or_base(at: &[String]) -> String {
    if at.is_empty() {
        "base".to_owned()
    } else {
        at.join(", ")
    }
}
