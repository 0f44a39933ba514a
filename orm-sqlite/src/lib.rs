//! The SQLite backend of the `orm` crate, over rusqlite with a bundled SQLite.
//!
//! - [`SqliteDialect`] ([`DIALECT`]) writes the SQL: `?1`-style numbered placeholders,
//!   `BEGIN IMMEDIATE` for transactions that write, the type mapping below.
//! - [`SqliteConnection`] runs it through a per-connection prepared-statement cache and hands
//!   rows out as values borrowed from SQLite.
//! - [`SqliteConnector`] parses the URL (`sqlite::memory:`, `sqlite://app.db?busy_timeout=10000`,
//!   see [`url`]) and opens configured connections for the pool.
//! - [`error`] maps SQLite's result codes to [`orm_core::Error`]: constraint failures become
//!   `UniqueViolation` / `ForeignKeyViolation` / `NotNullViolation` / `CheckViolation` with the
//!   table and columns SQLite names.
//!
//! ```
//! use orm_core::{Connection, Connector, Value};
//!
//! let mut conn = orm_sqlite::connector("sqlite::memory:")?.connect()?;
//! conn.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")?;
//! conn.execute("INSERT INTO users (name) VALUES (?1)", &[Value::Text("tata".into())])?;
//! let mut names = Vec::new();
//! conn.query("SELECT name FROM users", &[], &mut |row| {
//!     names.push(orm_core::connection::decode_at::<String>(row, 0, "name")?);
//!     Ok(())
//! })?;
//! assert_eq!(names, ["tata"]);
//! # Ok::<(), orm_core::Error>(())
//! ```
//!
//! # Connections
//!
//! Every connection gets `PRAGMA foreign_keys = ON` (unless `foreign_keys=off`), a busy timeout
//! (5 s), `journal_mode = WAL` on files and `synchronous = NORMAL`. LIKE keeps SQLite's default
//! (it ignores ASCII case), so raw SQL means what it means in the `sqlite3` shell. Every
//! connection also gets two SQL functions ([`connection::register_functions`]): `orm_lower` and
//! `orm_upper`, Unicode case mappings, since SQLite's own `LOWER` and `UPPER` fold ASCII letters
//! only.
//!
//! # Text matching
//!
//! The typed operators mean what they mean on PostgreSQL:
//!
//! | Operator | SQLite | PostgreSQL |
//! |---|---|---|
//! | `like(p)`, `not_like(p)` | `x GLOB ?1`, `p` translated ([`dialect::like_to_glob`]) | `x LIKE $1 ESCAPE '\'` |
//! | `ilike(p)`, `not_ilike(p)` | `orm_lower(x) LIKE orm_lower(?1) ESCAPE '\'` | `x ILIKE $1 ESCAPE '\'` |
//! | `contains(s)`, `starts_with(s)`, `ends_with(s)` | GLOB of `s` escaped | `LIKE` of `s` escaped |
//! | [`orm_core::lower`], [`orm_core::upper`] | `orm_lower(x)`, `orm_upper(x)` | `LOWER(x)`, `UPPER(x)` |
//!
//! In a pattern `%` matches any run of characters, `_` one character, and `\` makes the next
//! character match itself on both backends; `like` is case-sensitive, `ilike` folds every letter
//! (`Ö`, `Ω`). `contains`, `starts_with` and `ends_with` take their text literally. A
//! case-sensitive LIKE whose pattern is a column or an expression (not a bound text) cannot be
//! translated to a GLOB and is an `Error::Unsupported`.
//!
//! An in-memory database is private to its connection, so `sqlite::memory:` gets a pool of one
//! connection: a second session waits for the first to return it. Use a file (or several
//! sessions one after the other) for concurrency.
//!
//! # Types
//!
//! SQLite stores any value in any column; what a declared type decides is the column's
//! *affinity*, which converts some values on the way in. A declared type containing `INT` has
//! INTEGER affinity, then `CHAR`/`CLOB`/`TEXT` TEXT affinity, `BLOB` none, `REAL`/`FLOA`/`DOUB`
//! REAL, and anything else NUMERIC, which turns text that looks like a number into a number: a
//! JSON document `5` stored in a column declared `JSON` would come back as the integer 5. So every
//! type stored as text is declared with a name that has TEXT affinity (and no `INT`) while still
//! naming the portable type, so that reflection can tell them apart
//! ([`dialect::parse_declared_type`]):
//!
//! | Portable type | Rust | Declared type | Stored as |
//! |---|---|---|---|
//! | SmallInt, Integer, BigInt | `i16`, `i32`, `i64` | `INTEGER` | integer (an integer primary key is the rowid) |
//! | Real, Double | `f32`, `f64` | `REAL` | float |
//! | Boolean | `bool` | `BOOLEAN` | integer 0 / 1 |
//! | Text | `String` | `TEXT`, `VARCHAR(n)` with `max_length` (not enforced by SQLite) | text |
//! | Blob | `Vec<u8>` | `BLOB` | blob |
//! | Timestamptz | `DateTime<Utc>` | `TIMESTAMPTZ_TEXT` | text `2024-05-01 12:30:00.000000`, in UTC |
//! | Timestamp | `NaiveDateTime` | `TIMESTAMP_TEXT` | text `2024-05-01 12:30:00.000000` |
//! | Date | `NaiveDate` | `DATE_TEXT` | text `2024-05-01` |
//! | Uuid | `Uuid` | `UUID_TEXT` | text, hyphenated lowercase |
//! | Json | `Json<T>`, `serde_json::Value` | `JSON_TEXT` | JSON text |
//! | TextArray | `Vec<String>` | `STRING_ARRAY_TEXT` | JSON array text `["a","b"]` |
//! | BigIntArray | `Vec<i64>` | `I64_ARRAY_TEXT` | JSON array text `[1,2]` |
//! | Enum | `#[derive(DbEnum)]` | `TEXT` with `CHECK ("col" IN ('a', 'b'))` | the label |
//! | Numeric | `rust_decimal::Decimal` (feature `decimal`) | `DECIMAL_TEXT` | text, exact, with its scale (`-12.50`); compared by value (below) |
//! | Custom(s) | your type | `s` verbatim | what your `ToValue` binds |
//!
//! # Times
//!
//! Times are stored in SQLite's own text form, the one its date functions (`datetime('now')`,
//! `CURRENT_TIMESTAMP`) and the `sqlite3` shell use, with a space between date and time, and
//! always six fractional digits: `2024-05-01 12:30:00.000000`, byte for byte what SQLAlchemy
//! stores ([`orm_core::value::TIMESTAMP_TEXT_FORMAT`]); a `DateTime<Utc>` in UTC, with no suffix
//! (as `CURRENT_TIMESTAMP`). The text is fixed-width, so it sorts chronologically, and SQLite's
//! date functions read it. Dates are `2024-05-01`.
//!
//! Other programs write the same time with fewer digits: `2024-05-01 12:30:00` (SQLite's
//! functions, hand-written SQL), `2024-05-01 12:30:00.500` (`strftime('%Y-%m-%d %H:%M:%f')`). As
//! text, `2024-05-01 12:30:00` is not `2024-05-01 12:30:00.000000` and sorts before it, so the
//! typed comparisons do not compare a bound time as one text: they bind the two texts that bound
//! every form of it ([`dialect::time_bounds`]) and compare by the time a text stands for.
//!
//! | Filter | SQLite | bound |
//! |---|---|---|
//! | `eq(t)`, `ne(t)` | `x [NOT] BETWEEN ?1 AND ?2` | `2024-05-01 12:30:00`, `2024-05-01 12:30:00.000000000` |
//! | `lt(t)`, `ge(t)` | `x < ?1`, `x >= ?1` | `2024-05-01 12:30:00` |
//! | `le(t)`, `gt(t)` | `x <= ?1`, `x > ?1` | `2024-05-01 12:30:00.000000000` |
//! | `between(a, b)` | `x BETWEEN ?1 AND ?2` | lower text of `a`, upper text of `b` |
//! | `in_list([a, b])` | `(x BETWEEN ?1 AND ?2 OR x BETWEEN ?3 AND ?4)` | both texts of each |
//!
//! Each is a range on `x`, so an index on the column serves it. What compares correctly: every
//! text of the form `YYYY-MM-DD HH:MM:SS` with no fraction or up to nine fractional digits, in
//! UTC for a `DateTime<Utc>` column, whoever wrote it (this ORM, SQLAlchemy, `datetime()`,
//! `CURRENT_TIMESTAMP`, the `sqlite3` shell). What reads back but does not compare by time:
//! the form this ORM wrote before (`2024-05-01T12:30:00.000000Z`, `T` sorts after the space),
//! texts with an offset (`2024-05-01 14:30:00+02:00`, read as the UTC time they name), and
//! integers (seconds since 1970, read by `DateTime<Utc>`). Convert a column of the old form once:
//!
//! ```sql
//! UPDATE posts SET created_at = replace(rtrim(created_at, 'Z'), 'T', ' ') WHERE created_at LIKE '____-__-__T%';
//! ```
//!
//! Raw SQL compares text as text: bind or write the stored form (`2024-05-01 12:30:00.000000`),
//! or compare with SQLite's date functions. A `get` by a time primary key compares the stored
//! form exactly, so it finds rows this ORM (or SQLAlchemy) wrote.
//!
//! # Decimals
//!
//! A `Decimal` is stored as its text in a `DECIMAL_TEXT` column (TEXT affinity: NUMERIC
//! affinity keeps 15 significant digits). The typed comparisons with a bound `Decimal` compare
//! by value with the registered function [`value::DECIMAL_CMP_FUNCTION`], since SQLite
//! compares texts character by character (`'10.00' < '9.99'`):
//!
//! | Filter | SQLite |
//! |---|---|
//! | `gt(d)` (and `eq`, `ne`, `lt`, `le`, `ge`) | `orm_decimal_cmp(x, ?1) > 0` |
//! | `between(a, b)` | `(orm_decimal_cmp(x, ?1) >= 0 AND orm_decimal_cmp(x, ?2) <= 0)` |
//! | `in_list([a, b])` | `(orm_decimal_cmp(x, ?1) = 0 OR orm_decimal_cmp(x, ?2) = 0)` |
//!
//! No index serves them. Arithmetic with a bound `Decimal`, and a cast to NUMERIC (what `sum`
//! of a `Decimal` column writes), are an `Error::Unsupported` (SQLite would compute in floating
//! point). The column is declared `DECIMAL_TEXT COLLATE orm_decimal`
//! ([`value::DECIMAL_COLLATION`], registered on every connection), so `ORDER BY`, `MIN`, `MAX`,
//! `GROUP BY`, `DISTINCT` and UNIQUE indexes compare its values by value.
//!
//! An auto-increment integer primary key is a rowid alias (declared `INTEGER` with a
//! single-column `PRIMARY KEY`): SQLite assigns one more than the largest key in use, so the key
//! of a deleted last row can be given again (there is no `AUTOINCREMENT` keyword).

pub mod connection;
pub mod dialect;
pub mod error;
pub mod migrate;
pub mod reflect;
pub mod url;
pub mod value;

pub use connection::{SqliteConnection, SqliteRow};
pub use dialect::{SqliteDialect, DIALECT, MIGRATIONS};
/// The driver, re-exported so that a program can downcast the `source()` of an
/// [`orm_core::Error::Connection`] or [`orm_core::Error::Database`] to `rusqlite::Error` without
/// a dependency of its own (which could be another version).
pub use rusqlite;
pub use url::SqliteConnector;

/// A connector for a `sqlite:` URL, boxed for the facade's `Database::connect`.
pub fn connector(url: &str) -> orm_core::Result<Box<dyn orm_core::Connector>> {
    Ok(Box::new(SqliteConnector::from_url(url)?))
}
