//! Connection URLs and the [`SqliteConnector`] they configure.
//!
//! Forms (what follows `sqlite://` is the path, as in sqlx; a leading `/` makes it absolute):
//!
//! | URL | database |
//! |---|---|
//! | `sqlite::memory:`, `sqlite://:memory:` | a private in-memory database |
//! | `sqlite://app.db`, `sqlite://data/app.db` | a file relative to the working directory |
//! | `sqlite:///var/lib/app.db` | an absolute path |
//! | `sqlite:app.db`, `sqlite:/var/lib/app.db` | the same, without `//` |
//!
//! The path is percent-decoded (`my%20app.db`). There is no user or password: a URL that reads
//! like `sqlite://user:password@host/db` (a `:` and, after it, a `@`) is most likely a server's,
//! and is refused without being shown; a file name with both is written with `%40` for its `@`.
//! No message repeats the URL, nor the value of an unknown option. Query options, e.g.
//! `sqlite://app.db?mode=ro&busy_timeout=10000`:
//!
//! | option | values | default |
//! |---|---|---|
//! | `mode` | `ro` (read only), `rw` (read-write, the file must exist), `rwc` (create it if missing) | `rwc` |
//! | `busy_timeout` | milliseconds to wait for a lock | `5000` |
//! | `journal_mode` | `wal`, `delete`, `truncate`, `memory`, `off` (files only; not set with `mode=ro`) | `wal` |
//! | `synchronous` | `off`, `normal`, `full` | `normal` |
//! | `foreign_keys` | `on`, `off`, `true`, `false` | `on` |
//! | `pool_size` | most connections open at once, at least 1 | `5` (files), `1` (memory) |
//! | `max_overflow` | connections beyond `pool_size` opened under load (SQLAlchemy's; kept open, so the pool holds at most `pool_size + max_overflow`); files only, or `0` | `0` |
//! | `pool_timeout` | seconds to wait for a free connection | `30` |
//! | `pool_pre_ping` | `true`: test each connection before use (as on PostgreSQL; a file rarely needs it) | `false` |
//! | `pool_recycle`, `pool_idle_timeout` | seconds after which a connection (an idle one) is closed, `-1` never; files only | never |
//!
//! `journal_mode` is a property of the file: the default `wal` switches an existing file to WAL
//! for every later user; `journal_mode=delete` (or the file's own mode) leaves it as it was.
//!
//! An in-memory database lives as long as its one connection, and each connection would be a
//! separate empty database, so its pool holds exactly one connection: a second session waits
//! (up to `pool_timeout`) for the first to give it back. Use a file for concurrent sessions.

use crate::connection::SqliteConnection;
use crate::dialect::DIALECT;
use orm_core::url::PercentDecodeError;
use orm_core::{Connection, Connector, Dialect, Error, PoolConfig, Result};
use rusqlite::OpenFlags;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A private in-memory database (`sqlite::memory:`).
    Memory,
    /// A file.
    File(PathBuf),
}

/// How the database file is opened (`mode=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OpenMode {
    /// `ro`: read only.
    ReadOnly,
    /// `rw`: read-write; the file must exist.
    ReadWrite,
    /// `rwc`: read-write, created if missing.
    #[default]
    ReadWriteCreate,
}

/// `journal_mode=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JournalMode {
    /// Write-ahead log: readers do not block the writer.
    #[default]
    Wal,
    /// A rollback journal deleted after each transaction.
    Delete,
    /// A rollback journal truncated after each transaction.
    Truncate,
    /// A rollback journal in memory.
    Memory,
    /// No journal: a crash mid-transaction can corrupt the database.
    Off,
}

impl JournalMode {
    fn as_sql(self) -> &'static str {
        match self {
            JournalMode::Wal => "WAL",
            JournalMode::Delete => "DELETE",
            JournalMode::Truncate => "TRUNCATE",
            JournalMode::Memory => "MEMORY",
            JournalMode::Off => "OFF",
        }
    }
}

/// `synchronous=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// Never waits for the disk.
    Off,
    /// Durable except for the last transactions on power loss in WAL mode; never corrupt.
    #[default]
    Normal,
    /// Waits for the disk at every commit.
    Full,
}

impl Synchronous {
    fn as_sql(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

/// Opens connections to one SQLite database, configured from a URL. Every connection gets
/// `foreign_keys`, `busy_timeout`, `journal_mode`, `synchronous` as configured, and the SQL
/// functions of [`register_functions`](crate::connection::register_functions).
///
/// ```
/// use orm_core::{Connection, Connector};
/// use orm_sqlite::SqliteConnector;
///
/// let connector = SqliteConnector::from_url("sqlite::memory:")?;
/// assert_eq!(connector.pool_config().max_size, 1);
/// let mut conn = connector.connect()?;
/// conn.execute_batch("CREATE TABLE t (x INTEGER)")?;
/// assert_eq!(conn.execute("INSERT INTO t (x) VALUES (?1)", &[orm_core::Value::Int(7)])?, 1);
/// # Ok::<(), orm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SqliteConnector {
    location: Location,
    mode: OpenMode,
    busy_timeout: Duration,
    journal_mode: JournalMode,
    synchronous: Synchronous,
    foreign_keys: bool,
    pool: PoolConfig,
    /// `max_overflow`, counted in `pool.max_size`.
    max_overflow: u32,
}

impl SqliteConnector {
    /// Parses a `sqlite:` URL (see the [module docs](self) for the forms and options). A bad URL,
    /// an unknown option or a bad value is an [`Error::Config`] naming it. The file is not
    /// opened until [`connect`](Connector::connect).
    pub fn from_url(url: &str) -> Result<Self> {
        let rest = strip_scheme(url).ok_or_else(|| {
            // Only the scheme: a URL of another database can carry a password.
            let scheme = url.split_once(':').map_or("", |(s, _)| s);
            Error::Config(format!(
                "a URL of scheme `{scheme}` is not a SQLite URL: expected `sqlite::memory:`, \
                 `sqlite://path/to/file.db` or `sqlite:///absolute/path.db`"
            ))
        })?;
        if reads_like_user_info(rest) {
            // A server's URL given the `sqlite` scheme: a path made of it would show the
            // password in every message that names the file.
            return Err(Error::Config(
                "a SQLite URL names a file and has no user or password, but this one reads like \
                 `sqlite://user:password@host/...` (not shown: it may hold a password); write \
                 `sqlite://path/to/file.db`, with a `@` in a file name escaped as `%40`"
                    .into(),
            ));
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let path = path.strip_prefix("//").unwrap_or(path);
        let location = match path {
            ":memory:" => Location::Memory,
            // Not the URL itself: its options could hold anything.
            "" => {
                return Err(Error::Config(
                    "the SQLite URL names no database file (use `sqlite::memory:` for an \
                     in-memory database)"
                        .into(),
                ))
            }
            p => Location::File(PathBuf::from(percent_decode(p, "the path")?)),
        };
        let mut c = SqliteConnector::new(location);
        if let Some(q) = query {
            c.apply_options(q)?;
        }
        Ok(c)
    }

    /// A connector with the defaults for `location`.
    pub fn new(location: Location) -> Self {
        let pool = match location {
            Location::Memory => PoolConfig { max_size: 1, ..PoolConfig::default() },
            Location::File(_) => PoolConfig::default(),
        };
        SqliteConnector {
            location,
            mode: OpenMode::default(),
            busy_timeout: Duration::from_millis(5000),
            journal_mode: JournalMode::default(),
            synchronous: Synchronous::default(),
            foreign_keys: true,
            pool,
            max_overflow: 0,
        }
    }

    fn apply_options(&mut self, query: &str) -> Result<()> {
        let mut seen: Vec<String> = Vec::new();
        let mut max_overflow: u32 = 0;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, raw) = pair.split_once('=').ok_or_else(|| {
                Error::Config(format!("SQLite URL option `{pair}` needs a value (`{pair}=...`)"))
            })?;
            let key = percent_decode(key, "an option name")?;
            if !OPTIONS.contains(&key.as_str()) && !PoolConfig::URL_OPTIONS.contains(&key.as_str())
            {
                // Before its value is read, so a bad escape in the value of an option such as
                // `password` is never shown.
                return Err(unknown_option(&key));
            }
            if seen.contains(&key) {
                return Err(Error::Config(format!("SQLite URL option `{key}` is given twice")));
            }
            let value = percent_decode(raw, &format!("option `{key}`"))?;
            let bad = |expected: &str| {
                Error::Config(format!(
                    "SQLite URL option `{key}`: `{value}` is not valid, expected {expected}"
                ))
            };
            match key.as_str() {
                "mode" => {
                    self.mode = match value.as_str() {
                        "ro" => OpenMode::ReadOnly,
                        "rw" => OpenMode::ReadWrite,
                        "rwc" => OpenMode::ReadWriteCreate,
                        _ => return Err(bad("`ro`, `rw` or `rwc`")),
                    }
                }
                "busy_timeout" => {
                    let ms: u32 = value
                        .parse()
                        .ok()
                        .filter(|ms| i32::try_from(*ms).is_ok())
                        .ok_or_else(|| bad("a whole number of milliseconds"))?;
                    self.busy_timeout = Duration::from_millis(u64::from(ms));
                }
                "journal_mode" => {
                    self.journal_mode = match value.to_ascii_lowercase().as_str() {
                        "wal" => JournalMode::Wal,
                        "delete" => JournalMode::Delete,
                        "truncate" => JournalMode::Truncate,
                        "memory" => JournalMode::Memory,
                        "off" => JournalMode::Off,
                        _ => return Err(bad("`wal`, `delete`, `truncate`, `memory` or `off`")),
                    }
                }
                "synchronous" => {
                    self.synchronous = match value.to_ascii_lowercase().as_str() {
                        "off" => Synchronous::Off,
                        "normal" => Synchronous::Normal,
                        "full" => Synchronous::Full,
                        _ => return Err(bad("`off`, `normal` or `full`")),
                    }
                }
                "foreign_keys" => {
                    self.foreign_keys = match value.to_ascii_lowercase().as_str() {
                        "on" | "true" => true,
                        "off" | "false" => false,
                        _ => return Err(bad("`on`, `off`, `true` or `false`")),
                    }
                }
                "pool_size" => {
                    let n: u32 = PoolConfig::parse_size(&value)
                        .ok_or_else(|| bad("a whole number of connections, at least 1"))?;
                    if self.location == Location::Memory && n > 1 {
                        return Err(Error::Config(format!(
                            "SQLite URL option `pool_size`: an in-memory database has one connection \
                             (each connection would be its own empty database), not {n}; use a file"
                        )));
                    }
                    self.pool.max_size = n;
                }
                "max_overflow" => {
                    max_overflow =
                        value.parse().map_err(|_| bad("a whole number of connections"))?;
                    if self.location == Location::Memory && max_overflow > 0 {
                        return Err(Error::Config(format!(
                            "SQLite URL option `max_overflow`: an in-memory database has one \
                             connection, so no overflow, not {max_overflow}; use a file"
                        )));
                    }
                }
                _ => {
                    if !self.pool.set_url_option("SQLite URL", &key, &value)? {
                        return Err(unknown_option(&key));
                    }
                }
            }
            seen.push(key);
        }
        self.pool.max_size = self.pool.max_size.checked_add(max_overflow).ok_or_else(|| {
            Error::Config("SQLite URL options: pool_size + max_overflow is too large".into())
        })?;
        self.max_overflow = max_overflow;
        if self.location == Location::Memory && self.mode == OpenMode::ReadOnly {
            return Err(Error::Config(
                "SQLite URL option `mode`: an in-memory database cannot be read only".into(),
            ));
        }
        self.check_pool_config(&self.pool)
    }

    /// Where the database lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// How the file is opened.
    pub fn mode(&self) -> OpenMode {
        self.mode
    }

    /// How long a statement waits for a lock held by another connection.
    pub fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// The journal mode set on file databases.
    pub fn journal_mode(&self) -> JournalMode {
        self.journal_mode
    }

    /// The `synchronous` setting.
    pub fn synchronous(&self) -> Synchronous {
        self.synchronous
    }

    /// Whether foreign keys are enforced.
    pub fn foreign_keys(&self) -> bool {
        self.foreign_keys
    }

    /// Opens and configures a connection, as [`Connector::connect`] does, returning the concrete
    /// type.
    pub fn open(&self) -> Result<SqliteConnection> {
        let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX;
        flags |= match self.mode {
            OpenMode::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            OpenMode::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
            OpenMode::ReadWriteCreate => {
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
            }
        };
        let conn = match &self.location {
            Location::Memory => rusqlite::Connection::open_in_memory_with_flags(flags),
            Location::File(path) => rusqlite::Connection::open_with_flags(plain_path(path), flags),
        };
        let conn = conn.map_err(|e| self.open_error(e))?;
        self.configure(&conn).map_err(|e| self.open_error(e))?;
        Ok(SqliteConnection::new(conn))
    }

    fn configure(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        conn.busy_timeout(self.busy_timeout)?;
        crate::connection::register_functions(conn)?;
        let mut pragmas = format!(
            "PRAGMA foreign_keys = {}; PRAGMA synchronous = {};",
            if self.foreign_keys { "ON" } else { "OFF" },
            self.synchronous.as_sql()
        );
        // An in-memory database always journals in memory; a read-only connection cannot
        // change the mode (a WAL database stays WAL).
        if matches!(self.location, Location::File(_)) && self.mode != OpenMode::ReadOnly {
            pragmas.push_str(" PRAGMA journal_mode = ");
            pragmas.push_str(self.journal_mode.as_sql());
            pragmas.push(';');
        }
        conn.execute_batch(&pragmas)
    }

    fn open_error(&self, e: rusqlite::Error) -> Error {
        let what = match &self.location {
            Location::Memory => "in-memory SQLite database".to_owned(),
            Location::File(p) => format!("SQLite database `{}`", p.display()),
        };
        let why = match crate::error::read(&e) {
            Error::Connection { message, .. } => message,
            Error::Database { code: Some(code), message, .. } => format!("{message} ({code})"),
            other => other.to_string(),
        };
        Error::connection_caused_by(format!("cannot open {what}: {why}"), e)
    }
}

impl Connector for SqliteConnector {
    fn dialect(&self) -> &'static dyn Dialect {
        &DIALECT
    }

    fn migrations(&self) -> Option<&'static (dyn std::any::Any + Send + Sync)> {
        Some(&crate::dialect::MIGRATIONS)
    }

    fn connect(&self) -> Result<Box<dyn Connection>> {
        Ok(Box::new(self.open()?))
    }

    fn pool_config(&self) -> PoolConfig {
        self.pool.clone()
    }

    fn pool_size_and_overflow(&self) -> (u32, u32) {
        (self.pool.max_size.saturating_sub(self.max_overflow), self.max_overflow)
    }

    /// An in-memory database is its one connection: no second one, and never closed by the
    /// pool (`pool_recycle`, `pool_idle_timeout`), which would lose every row.
    fn check_pool_config(&self, config: &PoolConfig) -> Result<()> {
        if self.location != Location::Memory {
            return Ok(());
        }
        if config.max_size != 1 {
            return Err(Error::Config(format!(
                "an in-memory SQLite database has one connection (each connection would be its \
                 own empty database), so its pool takes 1, not {}; use a file",
                config.max_size
            )));
        }
        for (name, set) in [
            ("pool_recycle", config.recycle.is_some()),
            ("pool_idle_timeout", config.idle_timeout.is_some()),
        ] {
            if set {
                return Err(Error::Config(format!(
                    "SQLite URL option `{name}`: an in-memory database lives as long as its one \
                     connection, so the pool never closes it; use a file"
                )));
            }
        }
        Ok(())
    }
}

/// The query options a SQLite URL takes.
const OPTIONS: &[&str] = &[
    "mode",
    "busy_timeout",
    "journal_mode",
    "synchronous",
    "foreign_keys",
    "pool_size",
    "max_overflow",
];

fn unknown_option(key: &str) -> Error {
    Error::Config(format!(
        "unknown SQLite URL option `{key}` (known: {}, {})",
        OPTIONS.join(", "),
        PoolConfig::URL_OPTIONS.join(", ")
    ))
}

/// Whether `rest` (after `sqlite:`) has a `:` and, after it, an `@`: `//user:password@host/db`,
/// the URL of a server. Checked on the raw text, so a file name with both escapes its `@`.
fn reads_like_user_info(rest: &str) -> bool {
    rest.find(':').is_some_and(|colon| rest[colon..].contains('@'))
}

/// `rest` after a `sqlite:` scheme (case-insensitive).
fn strip_scheme(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once(':')?;
    scheme.eq_ignore_ascii_case("sqlite").then_some(rest)
}

/// SQLite is built to read `file:` names as URIs; a relative path that happens to start so is
/// made explicit, so a path is always a path.
fn plain_path(path: &Path) -> PathBuf {
    if path.to_str().is_some_and(|s| s.starts_with("file:")) {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    }
}

/// Decodes `%XX` escapes; the result must be UTF-8.
fn percent_decode(s: &str, what: &str) -> Result<String> {
    orm_core::url::percent_decode(s).map_err(|e| match e {
        PercentDecodeError::BadEscape => {
            Error::Config(format!("bad percent escape in {what} of the SQLite URL: `{s}`"))
        }
        PercentDecodeError::NotUtf8 => {
            Error::Config(format!("{what} of the SQLite URL is not UTF-8 once decoded: `{s}`"))
        }
    })
}
