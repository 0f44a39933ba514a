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
//! `@`, `:` or `/` is written `%40`, `%3A`, `%2F`. Query options, e.g.
//! `postgresql://app@db/app?application_name=web&pool_size=20`:
//!
//! | option | values | default |
//! |---|---|---|
//! | `sslmode` | `disable`, `allow`, `prefer` (all connect without TLS: none is built in); `require`, `verify-ca`, `verify-full` are refused | `prefer` |
//! | `application_name` | shown in `pg_stat_activity` | none |
//! | `connect_timeout` | whole seconds to wait for a connection, `0` for no limit | no limit |
//! | `options` | server options for every connection, e.g. `-c search_path=app` (`options=-c%20search_path%3Dapp`) | none |
//! | `host`, `port`, `user`, `password`, `dbname` | override the URL's parts, as libpq does | |
//! | `pool_size` | connections the pool is sized for, at least 1 | `10` |
//! | `max_overflow` | connections beyond `pool_size` opened under load | `10` |
//! | `pool_timeout` | seconds to wait for a free connection | `30` |
//!
//! The pool opens at most `pool_size + max_overflow` connections (SQLAlchemy's `POOL_SIZE` and
//! `MAX_OVERFLOW`); a session that finds all of them busy waits up to `pool_timeout`, then gets
//! [`Error::PoolTimeout`](orm_core::Error::PoolTimeout). An unknown option, a bad value or a
//! malformed URL is an [`Error::Config`] naming it; a password never appears in any message.

use crate::connection::PgConnection;
use crate::dialect::DIALECT;
use crate::error::full_message;
use orm_core::{Connection, Connector, Dialect, Error, PoolConfig, Result};
use postgres::config::{Host, SslMode};
use postgres::NoTls;
use std::time::Duration;

/// The default `pool_size`.
pub const DEFAULT_POOL_SIZE: u32 = 10;
/// The default `max_overflow`.
pub const DEFAULT_MAX_OVERFLOW: u32 = 10;
/// The default `pool_timeout`.
pub const DEFAULT_POOL_TIMEOUT: Duration = Duration::from_secs(30);
/// The port used when the URL names none.
pub const DEFAULT_PORT: u16 = 5432;

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
#[derive(Debug, Clone)]
pub struct PgConnector {
    config: postgres::Config,
    pool_size: u32,
    max_overflow: u32,
    pool_timeout: Duration,
}

impl PgConnector {
    /// Parses a `postgresql://` or `postgres://` URL (see the [module docs](self) for the forms
    /// and options). Nothing is connected until [`connect`](Connector::connect).
    pub fn from_url(url: &str) -> Result<Self> {
        let rest = strip_scheme(url).ok_or_else(|| {
            // Only the scheme: the rest of a URL can carry a password.
            let scheme = url.split_once(':').map_or("", |(s, _)| s);
            Error::Config(format!(
                "a URL of scheme `{scheme}` is not a PostgreSQL URL: expected \
                 `postgresql://user:password@host:5432/dbname`"
            ))
        })?;
        let (main, query) = match rest.split_once('?') {
            Some((m, q)) => (m, Some(q)),
            None => (rest, None),
        };
        // The user info ends at the last `@`, so an unescaped `@` or `/` in a password is
        // still read as part of it.
        let (userinfo, hostpart) = match main.rfind('@') {
            Some(at) => (Some(&main[..at]), &main[at + 1..]),
            None => (None, main),
        };
        let (hosts, dbname) = match hostpart.split_once('/') {
            Some((h, d)) => (h, d),
            None => (hostpart, ""),
        };
        let mut config = postgres::Config::new();
        config.ssl_mode(SslMode::Disable);
        if let Some(info) = userinfo {
            let (user, password) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            let user = percent_decode(user, "the user name")?;
            if !user.is_empty() {
                config.user(&user);
            }
            if let Some(p) = password {
                // Never show the password, not even in a decoding error.
                let p = percent_decode(p, "the password").map_err(|_| {
                    Error::Config("bad percent escape in the password of the PostgreSQL URL".into())
                })?;
                config.password(p);
            }
        }
        let (host_list, port_list) = parse_hosts(hosts)?;
        let dbname = percent_decode(dbname, "the database name")?;
        if !dbname.is_empty() {
            config.dbname(&dbname);
        }
        let mut c = PgConnector {
            config,
            pool_size: DEFAULT_POOL_SIZE,
            max_overflow: DEFAULT_MAX_OVERFLOW,
            pool_timeout: DEFAULT_POOL_TIMEOUT,
        };
        let mut hosts = Hosts { hosts: host_list, ports: port_list };
        if let Some(q) = query {
            c.apply_options(q, &mut hosts)?;
        }
        hosts.apply(&mut c.config)?;
        c.pool_size
            .checked_add(c.max_overflow)
            .ok_or_else(|| Error::Config("pool_size + max_overflow is too large".into()))?;
        Ok(c)
    }

    fn apply_options(&mut self, query: &str, hosts: &mut Hosts) -> Result<()> {
        let mut seen: Vec<String> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (raw_key, raw) = pair.split_once('=').ok_or_else(|| {
                let key = percent_decode(pair, "an option name").unwrap_or_default();
                Error::Config(format!("PostgreSQL URL option `{key}` needs a value (`{key}=...`)"))
            })?;
            let key = percent_decode(raw_key, "an option name")?;
            if seen.contains(&key) {
                return Err(Error::Config(format!("PostgreSQL URL option `{key}` is given twice")));
            }
            if key == "password" {
                let p = percent_decode(raw, "the password").map_err(|_| {
                    Error::Config("bad percent escape in the password of the PostgreSQL URL".into())
                })?;
                self.config.password(p);
                seen.push(key);
                continue;
            }
            let value = percent_decode(raw, &format!("option `{key}`"))?;
            let bad = |expected: &str| {
                Error::Config(format!(
                    "PostgreSQL URL option `{key}`: `{value}` is not valid, expected {expected}"
                ))
            };
            match key.as_str() {
                "sslmode" => {
                    match value.as_str() {
                        "disable" | "allow" | "prefer" => {}
                        "require" | "verify-ca" | "verify-full" => {
                            return Err(Error::Config(format!(
                                "PostgreSQL URL option `sslmode={value}` needs TLS, and TLS is not \
                             supported in this build (use sslmode=disable or prefer, or a TLS \
                             tunnel)"
                            )))
                        }
                        _ => return Err(bad(
                            "`disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full`",
                        )),
                    }
                }
                "application_name" => {
                    self.config.application_name(&value);
                }
                "connect_timeout" => {
                    let secs: u64 =
                        value.trim().parse().map_err(|_| bad("a whole number of seconds"))?;
                    if secs > 0 {
                        self.config.connect_timeout(Duration::from_secs(secs));
                    }
                }
                "options" => {
                    self.config.options(&value);
                }
                "host" => {
                    // Host names or socket folders, as given (ports come from `port`).
                    hosts.hosts = value
                        .split(',')
                        .map(str::trim)
                        .filter(|h| !h.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                "port" => {
                    hosts.ports = value
                        .split(',')
                        .map(|p| p.trim().parse::<u16>().map_err(|_| bad("a port number")))
                        .collect::<Result<Vec<_>>>()?;
                }
                "user" => {
                    self.config.user(&value);
                }
                "dbname" => {
                    self.config.dbname(&value);
                }
                "pool_size" => {
                    self.pool_size = PoolConfig::parse_size(&value)
                        .ok_or_else(|| bad("a whole number of connections, at least 1"))?;
                }
                "max_overflow" => {
                    self.max_overflow =
                        value.parse().map_err(|_| bad("a whole number of connections"))?;
                }
                "pool_timeout" => {
                    self.pool_timeout = PoolConfig::parse_timeout(&value)
                        .ok_or_else(|| bad("a number of seconds"))?;
                }
                _ => {
                    return Err(Error::Config(format!(
                        "unknown PostgreSQL URL option `{key}` (known: sslmode, \
                         application_name, connect_timeout, options, host, port, user, password, \
                         dbname, pool_size, max_overflow, pool_timeout)"
                    )))
                }
            }
            seen.push(key);
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
        self.pool_timeout
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
        let client = self.config.connect(NoTls).map_err(|e| {
            let why = match e.as_db_error() {
                Some(db) => format!("{} (SQLSTATE {})", full_message(db), db.code().code()),
                None => e.to_string(),
            };
            Error::Connection(format!("cannot connect to PostgreSQL at {}: {why}", self.target()))
        })?;
        Ok(PgConnection::new(client))
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
        PoolConfig {
            max_size: self.pool_size.saturating_add(self.max_overflow),
            timeout: self.pool_timeout,
        }
    }
}

/// Hosts and ports, as the URL and its options give them.
struct Hosts {
    hosts: Vec<String>,
    ports: Vec<u16>,
}

impl Hosts {
    fn apply(self, config: &mut postgres::Config) -> Result<()> {
        let hosts = if self.hosts.is_empty() { vec!["localhost".to_owned()] } else { self.hosts };
        let ports: Vec<u16> = match self.ports.len() {
            0 => vec![DEFAULT_PORT; hosts.len()],
            1 => vec![self.ports[0]; hosts.len()],
            n if n == hosts.len() => self.ports,
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
}

#[cfg(unix)]
fn add_socket(config: &mut postgres::Config, dir: &str) -> Result<()> {
    config.host_path(dir);
    Ok(())
}

#[cfg(not(unix))]
fn add_socket(_: &mut postgres::Config, dir: &str) -> Result<()> {
    Err(Error::Config(format!("Unix socket `{dir}` given, but this platform has none")))
}

/// The hosts and ports of `h1:5432,[::1]:5433,%2Ftmp`: hosts percent-decoded, a port for each
/// host that names one (all or none must).
fn parse_hosts(s: &str) -> Result<(Vec<String>, Vec<u16>)> {
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    if s.is_empty() {
        return Ok((hosts, ports));
    }
    for item in s.split(',') {
        let (host, port) = if let Some(rest) = item.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(|| {
                Error::Config(format!("unclosed `[` in the host `{item}` of the PostgreSQL URL"))
            })?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => {
                    return Err(Error::Config(format!(
                        "unexpected `{after}` after the host `[{h}]` of the PostgreSQL URL"
                    )))
                }
            };
            (h, port)
        } else {
            match item.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (item, None),
            }
        };
        let host = percent_decode(host, "the host")?;
        if !host.is_empty() {
            hosts.push(host);
        } else if port.is_some() {
            hosts.push("localhost".to_owned());
        }
        if let Some(p) = port {
            let port = p.parse::<u16>().map_err(|_| {
                Error::Config(format!("the port `{p}` of the PostgreSQL URL is not a port number"))
            })?;
            ports.push(port);
        }
    }
    if !ports.is_empty() && ports.len() != hosts.len() {
        return Err(Error::Config(format!(
            "the hosts `{s}` of the PostgreSQL URL must each name a port, or none of them"
        )));
    }
    Ok((hosts, ports))
}

/// `rest` after a `postgresql://` or `postgres://` scheme (case-insensitive).
fn strip_scheme(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    (scheme.eq_ignore_ascii_case("postgresql") || scheme.eq_ignore_ascii_case("postgres"))
        .then_some(rest)
}

/// Decodes `%XX` escapes; the result must be UTF-8.
fn percent_decode(s: &str, what: &str) -> Result<String> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let byte = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    Error::Config(format!(
                        "bad percent escape in {what} of the PostgreSQL URL: `{s}`"
                    ))
                })?;
            out.push(byte);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        Error::Config(format!("{what} of the PostgreSQL URL is not UTF-8 once decoded: `{s}`"))
    })
}
