//! Connection URLs and the [`PgConnector`] they configure.
//!
//! Forms (`postgresql://` and `postgres://` alike; every part is optional):
//!
//! | URL | server |
//! |---|---|
//! | `postgresql://user:password@host:5432/dbname` | TCP to `host`, port 5432 |
//! | `postgresql://localhost/app` | the default user (the OS user), port 5432 |
//! | `postgresql://[::1]:5433/app` | an IPv6 address |
//! | `postgresql://h1:5432,h2:5433/app` | the first of several hosts that answers |
//! | `postgresql://%2Fvar%2Frun%2Fpostgresql/app` | the Unix socket in `/var/run/postgresql` |
//! | `postgresql:///app?host=/tmp` | the Unix socket in `/tmp` |
//!
//! The host defaults to `localhost`, the port to 5432, the database to the user's name (the
//! server's rule). User, password, host and database are percent-decoded, so a password with
//! `@` is written `%40` (as in every URL). An unescaped `:`, `/` or `?` in a password belongs
//! to it, and so does an unescaped `@` when the URL has no query, or the `@` comes before its
//! `?`: the user information ends at the last `@` before the first `?` that follows an `@`,
//! unless that `?` is followed by `name=` or not preceded by `user:` (then it starts the query,
//! and an `@` after it belongs to an option's value). A URL that reads neither way is refused
//! without showing any of it. In the query, a `?` or `&` inside a value is written `%3F` or
//! `%26` (an unescaped `?` there is refused; an unescaped `&` starts the next option).
//!
//! Query options, e.g. `postgresql://app@db/app?application_name=web&pool_size=20`. The pool
//! and TLS options are the ORM's; every other option is the driver's (the `postgres` crate's
//! libpq-style options), passed on as given:
//!
//! | option | values | default |
//! |---|---|---|
//! | `sslmode` | `disable`; `allow` and `prefer` (TLS when the server offers it, certificate not checked); `require` (TLS, certificate not checked unless `sslrootcert` is given); `verify-ca` (TLS, certificate signed by a trusted root); `verify-full` (and issued for the host name) | `prefer` |
//! | `sslrootcert` | a PEM file of trusted root certificates, or `system` for the system's store | `~/.postgresql/root.crt` when it exists, else the system's store |
//! | `sslcert`, `sslkey` | a client certificate and its private key (PEM files), for servers that ask for one | none |
//! | `application_name` | shown in `pg_stat_activity` | none |
//! | `connect_timeout` | whole seconds to wait for a connection, `0` for no limit | no limit |
//! | `options` | server options for every connection, e.g. `-c search_path=app` (`options=-c%20search_path%3Dapp`) | none |
//! | `host`, `port`, `user`, `password`, `dbname` | override the URL's parts, as libpq does | |
//! | `hostaddr`, `tcp_user_timeout`, `keepalives`, `keepalives_idle`, `keepalives_interval`, `keepalives_retries`, `target_session_attrs`, `channel_binding`, `load_balance_hosts`, `sslnegotiation` | as libpq and the driver define them | the driver's |
//! | `pool_size` | connections the pool keeps, 1 to 10,000 | `10` |
//! | `max_overflow` | connections beyond `pool_size` opened under load | `10` |
//! | `pool_timeout` | seconds to wait for a free connection, 0.001 to 86,400 | `30` |
//! | `pool_pre_ping` | `true`: test each connection with a round trip before use, and replace a dead one | `false` |
//! | `pool_recycle` | seconds after which a connection is replaced (1 to a year; `-1` never) | never |
//! | `pool_idle_timeout` | seconds after which an idle connection is closed (1 to a year; `-1` never) | never |
//!
//! The pool opens at most `pool_size + max_overflow` connections (SQLAlchemy's `pool_size` and
//! `max_overflow`; `Database::options().pool_size(n).max_overflow(m)` in code); unlike SQLAlchemy's, it keeps the overflow connections open once made,
//! unless `pool_idle_timeout` closes them. A session that finds all of them busy waits up to
//! `pool_timeout`, then gets [`Error::PoolTimeout`].
//!
//! A dead connection (the server restarted, or an administrator ended the backend) is never
//! handed out twice: the statement that finds it dead fails with
//! [`Error::Connection`], the pool drops it and replaces every
//! connection opened before it on their next checkout. With `pool_pre_ping=true` no session
//! sees the failure at all, at the cost of one round trip per checkout.
//!
//! An unknown option, a bad value or a malformed URL is an [`Error::Config`] naming the option;
//! no message, `Debug` output or log line shows the password, nor any option's value.

use crate::connection::PgConnection;
use crate::dialect::DIALECT;
use crate::error::full_message;
use orm_core::url::PercentDecodeError;
use orm_core::{Connection, Connector, Dialect, Error, PoolConfig, Result};
use postgres::config::Host;
use std::path::PathBuf;
use std::time::Duration;

/// The default `pool_size`.
pub const DEFAULT_POOL_SIZE: u32 = 10;
/// The default `max_overflow`.
pub const DEFAULT_MAX_OVERFLOW: u32 = 10;
/// The default `pool_timeout`.
pub const DEFAULT_POOL_TIMEOUT: Duration = Duration::from_secs(30);
/// The port used when the URL names none.
pub const DEFAULT_PORT: u16 = 5432;

/// The options the driver (`postgres::Config`) takes, passed on as given.
const DRIVER_OPTIONS: &[&str] = &[
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "sslnegotiation",
    "hostaddr",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// The options the ORM reads itself.
const OWN_OPTIONS: &[&str] =
    &["host", "port", "sslmode", "sslrootcert", "sslcert", "sslkey", "pool_size", "max_overflow"];

/// Every option name a URL may give: the ORM's own, the pool's shared ones, the driver's.
fn all_options() -> impl Iterator<Item = &'static str> {
    OWN_OPTIONS.iter().chain(PoolConfig::URL_OPTIONS).chain(DRIVER_OPTIONS).copied()
}

/// libpq's `sslmode`: whether connections use TLS, and what of the server's certificate is
/// checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it (as `Prefer`; libpq tries without TLS first).
    Allow,
    /// TLS when the server offers it, the certificate not checked.
    Prefer,
    /// TLS or no connection; the certificate is checked as `VerifyCa` when `sslrootcert` is
    /// given, otherwise not at all.
    Require,
    /// TLS, with a certificate signed by a trusted root (any host name).
    VerifyCa,
    /// TLS, with a certificate signed by a trusted root and issued for the host connected to.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<SslMode> {
        Some(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    /// Whether a connection without TLS is refused.
    pub fn requires_tls(self) -> bool {
        matches!(self, SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// Where trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// `sslrootcert` unset: `~/.postgresql/root.crt` when it exists, else the system's store.
    Default,
    /// `sslrootcert=system`: the system's store.
    System,
    /// `sslrootcert=<path>`: the certificates of a PEM file.
    File(PathBuf),
}

/// The TLS settings of a URL (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `sslmode`.
    pub mode: SslMode,
    /// `sslrootcert`.
    pub root_certs: RootCerts,
    /// `sslcert` and `sslkey`: a client certificate and its key.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings { mode: SslMode::Prefer, root_certs: RootCerts::Default, client_cert: None }
    }
}

/// Opens connections to one PostgreSQL database, configured from a URL. Its `Debug` output
/// hides the password.
///
/// ```
/// use orm_core::Connector;
/// use orm_postgres::PgConnector;
///
/// let c = PgConnector::from_url("postgresql://app:s3cret@db.internal:5433/blog?pool_size=4")?;
/// assert_eq!(c.config().get_dbname(), Some("blog"));
/// assert_eq!(c.pool_config().max_size, 4 + 10);
/// assert!(!format!("{c:?}").contains("s3cret"));
/// # Ok::<(), orm_core::Error>(())
/// ```
#[derive(Clone)]
pub struct PgConnector {
    config: postgres::Config,
    pool_size: u32,
    max_overflow: u32,
    pool: PoolConfig,
    tls: TlsSettings,
    #[cfg(feature = "tls")]
    tls_connector: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

impl std::fmt::Debug for PgConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The driver's `Config` prints the password as `_`.
        f.debug_struct("PgConnector")
            .field("config", &self.config)
            .field("pool_size", &self.pool_size)
            .field("max_overflow", &self.max_overflow)
            .field("pool", &self.pool)
            .field("tls", &self.tls)
            .finish()
    }
}

/// A URL cut into its parts, still percent-encoded.
struct UrlParts<'a> {
    userinfo: Option<&'a str>,
    hosts: &'a str,
    dbname: &'a str,
    query: Option<&'a str>,
}

/// Cuts `rest` (the URL after its scheme) into user information, hosts, database and query.
///
/// The user information ends at the last `@` before the first `?` that follows an `@`, so an
/// unescaped `:`, `/` or `@` in a password stays in it. When a `?` comes before that `@`, either
/// the password holds the `?` (`user:pa?ss@host`) or the query holds the `@`
/// (`host/db?application_name=me@example`): it is the password when what precedes the `?`
/// reads `user:...` and what follows it is not `name=...`; otherwise the query starts at the
/// `?`. A reading whose hosts or database hold `=` or `&` (a mistyped password) is refused,
/// without showing any of it.
fn split_url(rest: &str) -> Result<UrlParts<'_>> {
    let (userinfo, tail) = match rest.find('@') {
        None => (None, rest),
        Some(first_at) => {
            let query_start = rest[first_at..].find('?').map_or(rest.len(), |q| first_at + q);
            let at = rest[..query_start].rfind('@').unwrap_or(first_at);
            match rest[..at].find('?') {
                Some(q) if !reads_as_password(&rest[..q], &rest[q + 1..at]) => {
                    match rest[..q].rfind('@') {
                        Some(a) => (Some(&rest[..a]), &rest[a + 1..]),
                        None => (None, rest),
                    }
                }
                _ => (Some(&rest[..at]), &rest[at + 1..]),
            }
        }
    };
    let (main, query) = match tail.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (tail, None),
    };
    let (hosts, dbname) = main.split_once('/').unwrap_or((main, ""));
    let host_chars = |b: u8| b.is_ascii_alphanumeric() || b".-_:,[]%".contains(&b);
    if !hosts.bytes().all(host_chars) || dbname.contains(['=', '&', '@']) {
        return Err(Error::Config(
            "the PostgreSQL URL cannot be read as user:password@host:port/dbname?options: \
             percent-encode `@`, `?`, `/`, `&` and `=` in the user name and password (`%40`, \
             `%3F`, `%2F`, `%26`, `%3D`)"
                .into(),
        ));
    }
    Ok(UrlParts { userinfo, hosts, dbname, query })
}

/// Whether a `?` between `before` and `after` (the text up to the next `@`) is part of a
/// password: `before` reads `user:...` (a `:` before any `/`), and `after` holds no `name=`.
fn reads_as_password(before: &str, after: &str) -> bool {
    let colon = before.find(':');
    let slash = before.find('/');
    let user_password = matches!((colon, slash), (Some(c), Some(s)) if c < s)
        || (colon.is_some() && slash.is_none());
    user_password && !after.split('&').any(starts_with_name_eq)
}

/// `name=...`: letters, digits or `_`, then `=`.
fn starts_with_name_eq(s: &str) -> bool {
    let n = s.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    n > 0 && s[n..].starts_with('=')
}

impl PgConnector {
    /// Parses a `postgresql://` or `postgres://` URL (see the [module docs](self) for the forms
    /// and options). Nothing is connected until [`connect`](Connector::connect); root and client
    /// certificates named by the URL are read here.
    pub fn from_url(url: &str) -> Result<Self> {
        let rest = strip_scheme(url).ok_or_else(|| {
            // Only the scheme: the rest of a URL can carry a password.
            let scheme = url.split_once(':').map_or("", |(s, _)| s);
            let scheme: String = scheme.chars().take(40).collect();
            Error::Config(format!(
                "a URL of scheme `{scheme}` is not a PostgreSQL URL: expected \
                 `postgresql://user:password@host:5432/dbname`"
            ))
        })?;
        let parts = split_url(rest)?;
        // What the driver parses: every part percent-encoded again as an option of an otherwise
        // empty URL, the URL's own parts first so that options override them (libpq's rule).
        let mut driver: Vec<(&str, String)> = Vec::new();
        if let Some(info) = parts.userinfo {
            let (user, password) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            let user = percent_decode(user, "the user name")?;
            if !user.is_empty() {
                driver.push(("user", user));
            }
            if let Some(p) = password {
                driver.push(("password", percent_decode(p, "the password")?));
            }
        }
        let dbname = percent_decode(parts.dbname, "the database name")?;
        if !dbname.is_empty() {
            driver.push(("dbname", dbname));
        }
        let (mut hosts, mut ports) = parse_hosts(parts.hosts)?;
        let mut c = PgConnector {
            config: postgres::Config::new(),
            pool_size: DEFAULT_POOL_SIZE,
            max_overflow: DEFAULT_MAX_OVERFLOW,
            pool: PoolConfig { timeout: DEFAULT_POOL_TIMEOUT, ..PoolConfig::default() },
            tls: TlsSettings::default(),
            #[cfg(feature = "tls")]
            tls_connector: None,
        };
        let mut sslcert = None;
        let mut sslkey = None;
        let mut seen: Vec<String> = Vec::new();
        for pair in parts.query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let Some((raw_key, raw)) = pair.split_once('=') else {
                return Err(Error::Config(match known_option(pair) {
                    Some(name) => format!("PostgreSQL URL option `{name}` needs a value"),
                    None => "a part of the PostgreSQL URL's query is not `name=value` (an `&` \
                             in a value is written `%26`)"
                        .to_owned(),
                }));
            };
            if raw.contains('?') {
                // `?host=a?password=...`: a `?` inside the query is written `%3F`, or a value
                // would swallow the options after it (and show them as, say, a host name).
                return Err(Error::Config(
                    "a value in the PostgreSQL URL's query holds an unescaped `?` (write `%3F`)"
                        .into(),
                ));
            }
            let key = percent_decode(raw_key, "an option name")?;
            let known = OWN_OPTIONS.contains(&key.as_str())
                || PoolConfig::URL_OPTIONS.contains(&key.as_str());
            let Some(name) = known_option(&key) else {
                // The name is not shown (a mistyped URL can put part of a password there); a
                // known option it may be a typo of is.
                let guess = closest_option(&key)
                    .map_or_else(String::new, |k| format!(" (did you mean `{k}`?)"));
                return Err(Error::Config(format!(
                    "unknown PostgreSQL URL option{guess}; known: {}",
                    all_options().collect::<Vec<_>>().join(", ")
                )));
            };
            if seen.contains(&key) {
                return Err(Error::Config(format!(
                    "PostgreSQL URL option `{name}` is given twice"
                )));
            }
            seen.push(key);
            let value = percent_decode(raw, &format!("option `{name}`"))?;
            if !known {
                driver.push((name, value));
                continue;
            }
            let bad = |expected: &str| {
                // The value is not shown: a mistyped URL can put part of a password there.
                Error::Config(format!("PostgreSQL URL option `{name}`: expected {expected}"))
            };
            match name {
                "host" => {
                    hosts = value
                        .split(',')
                        .map(str::trim)
                        .filter(|h| !h.is_empty())
                        .map(str::to_owned)
                        .collect();
                    if !hosts.iter().all(|h| is_host_name(h) || is_socket_folder(h)) {
                        return Err(bad("host names, IP addresses or socket folders (`/...`)"));
                    }
                }
                "port" => {
                    ports = value
                        .split(',')
                        .map(|p| p.trim().parse::<u16>().map_err(|_| bad("port numbers")))
                        .collect::<Result<Vec<_>>>()?;
                }
                "sslmode" => {
                    c.tls.mode = SslMode::parse(&value).ok_or_else(|| {
                        bad("`disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full`")
                    })?;
                }
                "sslrootcert" => {
                    c.tls.root_certs = if value == "system" {
                        RootCerts::System
                    } else {
                        RootCerts::File(PathBuf::from(value))
                    };
                }
                "sslcert" => sslcert = Some(PathBuf::from(value)),
                "sslkey" => sslkey = Some(PathBuf::from(value)),
                "pool_size" => {
                    c.pool_size = PoolConfig::parse_size(&value)
                        .filter(|n| *n <= PoolConfig::MAX_SIZE)
                        .ok_or_else(|| bad("a whole number of connections, 1 to 10000"))?;
                }
                "max_overflow" => {
                    c.max_overflow = value
                        .parse()
                        .ok()
                        .filter(|n| *n <= PoolConfig::MAX_SIZE)
                        .ok_or_else(|| bad("a whole number of connections, 0 to 10000"))?;
                }
                _ => {
                    c.pool.set_url_option("PostgreSQL URL", name, &value)?;
                }
            }
        }
        c.tls.client_cert = match (sslcert, sslkey) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                return Err(Error::Config(
                    "PostgreSQL URL options `sslcert` and `sslkey` go together: give both or \
                     neither"
                        .into(),
                ))
            }
        };
        let encoded: Vec<String> =
            driver.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect();
        c.config = format!("postgresql://?{}", encoded.join("&")).parse().map_err(
            |e: postgres::Error| {
                // The driver names the option, never its value.
                let why = std::error::Error::source(&e).map_or_else(String::new, |s| s.to_string());
                Error::Config(format!("PostgreSQL URL: {e}: {why}"))
            },
        )?;
        c.config.ssl_mode(match c.tls.mode {
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Allow | SslMode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        });
        apply_hosts(&mut c.config, hosts, ports)?;
        let max = c.pool_size.checked_add(c.max_overflow).ok_or_else(|| {
            Error::Config("PostgreSQL URL: pool_size + max_overflow is too large".into())
        })?;
        c.pool.max_size = max;
        c.pool.validate()?;
        c.prepare_tls()?;
        Ok(c)
    }

    #[cfg(feature = "tls")]
    fn prepare_tls(&mut self) -> Result<()> {
        if self.tls.mode != SslMode::Disable {
            self.tls_connector = Some(crate::tls::connector(&self.tls)?);
        }
        Ok(())
    }

    #[cfg(not(feature = "tls"))]
    fn prepare_tls(&mut self) -> Result<()> {
        if self.tls.mode.requires_tls() {
            return Err(Error::Config(
                "PostgreSQL URL option `sslmode` asks for TLS, and this build has none: enable \
                 the `tls` feature of orm-postgres"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The driver configuration (hosts, user, database, options).
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// The driver configuration, to change what the URL cannot say.
    pub fn config_mut(&mut self) -> &mut postgres::Config {
        &mut self.config
    }

    /// The TLS settings (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`).
    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }

    /// `pool_size`: the connections the pool is sized for.
    pub fn pool_size(&self) -> u32 {
        self.pool_size
    }

    /// `max_overflow`: connections opened beyond `pool_size` under load.
    pub fn max_overflow(&self) -> u32 {
        self.max_overflow
    }

    /// `pool_timeout`: how long a session waits for a free connection.
    pub fn pool_timeout(&self) -> Duration {
        self.pool.timeout
    }

    /// Where connections go, for messages: `127.0.0.1:5432, database "app", user "postgres"`.
    /// Never the password.
    pub fn target(&self) -> String {
        let ports = self.config.get_ports();
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let port = ports.get(i).or_else(|| ports.first()).copied().unwrap_or(DEFAULT_PORT);
                match h {
                    Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                    Host::Tcp(name) => format!("{name}:{port}"),
                    #[cfg(unix)]
                    Host::Unix(path) => format!("socket {}/.s.PGSQL.{port}", path.display()),
                }
            })
            .collect();
        let mut s = hosts.join(", ");
        if let Some(db) = self.config.get_dbname() {
            s.push_str(&format!(", database \"{db}\""));
        }
        if let Some(user) = self.config.get_user() {
            s.push_str(&format!(", user \"{user}\""));
        }
        s
    }

    /// Opens a connection, as [`Connector::connect`] does, returning the concrete type.
    pub fn open(&self) -> Result<PgConnection> {
        // The driver blocks on a runtime of its own to connect: where it may (see `runtime`).
        let client = crate::runtime::call(|| self.connect_client())?.map_err(|e| {
            let why = match e.as_db_error() {
                Some(db) => format!("{} (SQLSTATE {})", full_message(db), db.code().code()),
                None => {
                    // The driver's message, then its causes (a TLS handshake says why it failed).
                    let mut why = e.to_string();
                    let mut source = std::error::Error::source(&e);
                    while let Some(s) = source {
                        let s_text = s.to_string();
                        if !why.contains(&s_text) {
                            why.push_str(": ");
                            why.push_str(&s_text);
                        }
                        source = s.source();
                    }
                    why
                }
            };
            Error::connection_caused_by(
                format!("cannot connect to PostgreSQL at {}: {why}", self.target()),
                e,
            )
        })?;
        Ok(PgConnection::new(client))
    }

    #[cfg(feature = "tls")]
    fn connect_client(&self) -> std::result::Result<postgres::Client, postgres::Error> {
        match &self.tls_connector {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        }
    }

    #[cfg(not(feature = "tls"))]
    fn connect_client(&self) -> std::result::Result<postgres::Client, postgres::Error> {
        self.config.connect(postgres::NoTls)
    }
}

impl Connector for PgConnector {
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
        (self.pool_size, self.max_overflow)
    }
}

/// A host name or an IP address (IPv6 without brackets): letters, digits, `.`, `-`, `_`, `:`.
fn is_host_name(h: &str) -> bool {
    !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b))
}

/// An absolute folder without control characters (a Unix socket's).
fn is_socket_folder(h: &str) -> bool {
    h.starts_with('/') && !h.chars().any(char::is_control)
}

/// The known option named `key`, as a `'static` name.
fn known_option(key: &str) -> Option<&'static str> {
    all_options().find(|k| *k == key)
}

/// The known option `key` is most likely a typo of: at most two edits away.
fn closest_option(key: &str) -> Option<&'static str> {
    if key.len() > 40 {
        return None;
    }
    all_options()
        .map(|k| (edit_distance(key, k), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance (bytes).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// Sets the hosts (`localhost` when none) and their ports (none: 5432 for each; one: for
/// each; else one per host).
fn apply_hosts(config: &mut postgres::Config, hosts: Vec<String>, ports: Vec<u16>) -> Result<()> {
    let hosts = if hosts.is_empty() { vec!["localhost".to_owned()] } else { hosts };
    let ports: Vec<u16> = match ports.len() {
        0 => vec![DEFAULT_PORT; hosts.len()],
        1 => vec![ports[0]; hosts.len()],
        n if n == hosts.len() => ports,
        n => {
            return Err(Error::Config(format!(
                "the PostgreSQL URL names {} hosts but {n} ports",
                hosts.len()
            )))
        }
    };
    for h in &hosts {
        if h.starts_with('/') {
            add_socket(config, h)?;
        } else {
            config.host(h);
        }
    }
    for p in ports {
        config.port(p);
    }
    Ok(())
}

#[cfg(unix)]
fn add_socket(config: &mut postgres::Config, dir: &str) -> Result<()> {
    config.host_path(dir);
    Ok(())
}

#[cfg(not(unix))]
fn add_socket(_: &mut postgres::Config, _: &str) -> Result<()> {
    Err(Error::Config("a Unix socket folder is given as host, but this platform has none".into()))
}

/// The hosts and ports of `h1:5432,[::1]:5433,%2Ftmp`: hosts percent-decoded, a port for each
/// host that names one (all or none must). No message shows a host or a port.
fn parse_hosts(s: &str) -> Result<(Vec<String>, Vec<u16>)> {
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    if s.is_empty() {
        return Ok((hosts, ports));
    }
    for item in s.split(',') {
        let (host, port) = if let Some(rest) = item.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(|| {
                Error::Config("unclosed `[` in a host of the PostgreSQL URL".into())
            })?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => {
                    return Err(Error::Config(
                        "unexpected text after a `[...]` host of the PostgreSQL URL".into(),
                    ))
                }
            };
            (h, port)
        } else {
            match item.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (item, None),
            }
        };
        let host = percent_decode(host, "a host")?;
        if !host.is_empty() && !is_host_name(&host) && !is_socket_folder(&host) {
            return Err(Error::Config(
                "a host of the PostgreSQL URL is not a host name, an IP address or a socket \
                 folder"
                    .into(),
            ));
        }
        if !host.is_empty() {
            hosts.push(host);
        } else if port.is_some() {
            hosts.push("localhost".to_owned());
        }
        if let Some(p) = port {
            let port = p.parse::<u16>().map_err(|_| {
                Error::Config(
                    "a port of the PostgreSQL URL is not a port number (0 to 65535)".into(),
                )
            })?;
            ports.push(port);
        }
    }
    if !ports.is_empty() && ports.len() != hosts.len() {
        return Err(Error::Config(
            "the hosts of the PostgreSQL URL must each name a port, or none of them".into(),
        ));
    }
    Ok((hosts, ports))
}

/// `rest` after a `postgresql://` or `postgres://` scheme (case-insensitive).
fn strip_scheme(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    (scheme.eq_ignore_ascii_case("postgresql") || scheme.eq_ignore_ascii_case("postgres"))
        .then_some(rest)
}

/// Decodes `%XX` escapes; the result must be UTF-8. The message names `what`, never the text.
fn percent_decode(s: &str, what: &str) -> Result<String> {
    orm_core::url::percent_decode(s).map_err(|e| match e {
        PercentDecodeError::BadEscape => Error::Config(format!(
            "bad percent escape in {what} of the PostgreSQL URL (`%` must be followed by two hex \
             digits; write `%` itself as `%25`)"
        )),
        PercentDecodeError::NotUtf8 => {
            Error::Config(format!("{what} of the PostgreSQL URL is not UTF-8 once decoded"))
        }
    })
}

/// Encodes every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
