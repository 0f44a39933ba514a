//! `postgresql://` URLs: the accepted forms, every option, the errors for bad ones (never showing
//! a password), and what `connect` does with them on a real server.

mod common;

use common::one;
use orm_core::{Connector, Error, PoolConfig};
use orm_postgres::url::{RootCerts, TlsSettings};
use orm_postgres::{PgConnector, SslMode};
use postgres::config::{Host, SslMode as DriverSslMode};
use std::path::PathBuf;
use std::time::Duration;

fn parse(url: &str) -> PgConnector {
    PgConnector::from_url(url).unwrap_or_else(|e| panic!("{url}: {e}"))
}

fn config_error(url: &str) -> String {
    match PgConnector::from_url(url) {
        Err(Error::Config(m)) => m,
        other => panic!("{url}: expected a Config error, got {other:?}"),
    }
}

fn tcp(h: &str) -> Host {
    Host::Tcp(h.to_owned())
}

#[test]
fn full_form() {
    let c = parse("postgresql://alice:secret@db.example.com:5433/blog");
    let cfg = c.config();
    assert_eq!(cfg.get_user(), Some("alice"));
    assert_eq!(cfg.get_password(), Some(&b"secret"[..]));
    assert_eq!(cfg.get_hosts(), [tcp("db.example.com")]);
    assert_eq!(cfg.get_ports(), [5433]);
    assert_eq!(cfg.get_dbname(), Some("blog"));
    assert_eq!(cfg.get_ssl_mode(), DriverSslMode::Prefer);
    assert_eq!(c.tls(), &TlsSettings::default());
    assert_eq!(c.target(), r#"db.example.com:5433, database "blog", user "alice""#);
}

#[test]
fn defaults_and_short_forms() {
    for url in ["postgres://", "postgresql://", "POSTGRESQL://localhost", "postgres://localhost/"] {
        let c = parse(url);
        assert_eq!(c.config().get_hosts(), [tcp("localhost")], "{url}");
        assert_eq!(c.config().get_ports(), [5432], "{url}");
        assert_eq!(c.config().get_dbname(), None, "{url}");
        assert_eq!(c.config().get_user(), None, "{url}");
    }
    let c = parse("postgres://:6000/app?host=/tmp");
    assert_eq!(c.config().get_hosts(), [Host::Unix(PathBuf::from("/tmp"))]);
    assert_eq!(c.config().get_ports(), [6000]);
    assert_eq!(parse("postgres://:6000").config().get_hosts(), [tcp("localhost")]);
    let c = parse("postgres://bob@/app");
    assert_eq!(c.config().get_user(), Some("bob"));
    assert_eq!(c.config().get_password(), None);
    assert_eq!(c.config().get_hosts(), [tcp("localhost")]);
    assert_eq!(c.config().get_dbname(), Some("app"));
    assert_eq!(c.pool_size(), 10);
    assert_eq!(c.max_overflow(), 10);
    assert_eq!(c.pool_timeout(), Duration::from_secs(30));
    assert_eq!(
        c.pool_config(),
        PoolConfig { max_size: 20, timeout: Duration::from_secs(30), ..PoolConfig::default() }
    );
    assert_eq!(c.dialect().name(), "postgresql");
}

#[test]
fn percent_decoding_and_awkward_passwords() {
    let c = parse("postgresql://us%20er:p%40ss%3Aw%2Frd@h/d%C3%A9mo");
    assert_eq!(c.config().get_user(), Some("us er"));
    assert_eq!(c.config().get_password(), Some("p@ss:w/rd".as_bytes()));
    assert_eq!(c.config().get_dbname(), Some("démo"));
    // An unescaped `@`, `/`, `:` or `?` in a password still belongs to it...
    for (url, password) in [
        ("postgresql://u:p@ss/word@host/db", "p@ss/word"),
        ("postgresql://u:hunter?2@host/db", "hunter?2"),
        ("postgresql://u:a?b@c:d@host/db?application_name=x", "a?b@c:d"),
        ("postgresql://u:p?w@host/db?application_name=me@example", "p?w"),
    ] {
        let c = parse(url);
        assert_eq!(c.config().get_password(), Some(password.as_bytes()), "{url}");
        assert_eq!(c.config().get_hosts(), [tcp("host")], "{url}");
        assert_eq!(c.config().get_dbname(), Some("db"), "{url}");
    }
    // ... and an `@` in an option's value does not end the user information, nor make one.
    let c = parse("postgresql://u:pw@host/db?application_name=me@example");
    assert_eq!(c.config().get_password(), Some(&b"pw"[..]));
    assert_eq!(c.config().get_application_name(), Some("me@example"));
    for url in [
        "postgresql://host/db?application_name=me@example",
        "postgresql://host:5432/db?sslmode=disable&application_name=me@example",
    ] {
        let c = parse(url);
        assert_eq!(c.config().get_user(), None, "{url}");
        assert_eq!(c.config().get_password(), None, "{url}");
        assert_eq!(c.config().get_hosts(), [tcp("host")], "{url}");
        assert_eq!(c.config().get_application_name(), Some("me@example"), "{url}");
    }
    let c = parse("postgresql://u:p@ss@host/db?sslmode=disable&application_name=me@example");
    assert_eq!(c.config().get_password(), Some(&b"p@ss"[..]));
    assert_eq!(c.config().get_application_name(), Some("me@example"));
}

#[test]
fn hosts_ipv6_and_unix_sockets() {
    let c = parse("postgresql://[::1]:5433/db");
    assert_eq!(c.config().get_hosts(), [tcp("::1")]);
    assert_eq!(c.config().get_ports(), [5433]);
    assert_eq!(c.target(), r#"[::1]:5433, database "db""#);
    let c = parse("postgresql://h1:5432,h2:5433/db");
    assert_eq!(c.config().get_hosts(), [tcp("h1"), tcp("h2")]);
    assert_eq!(c.config().get_ports(), [5432, 5433]);
    let c = parse("postgresql://h1,h2/db");
    assert_eq!(c.config().get_ports(), [5432, 5432]);
    let c = parse("postgresql://%2Fvar%2Frun%2Fpostgresql/db");
    assert_eq!(c.config().get_hosts(), [Host::Unix(PathBuf::from("/var/run/postgresql"))]);
    assert_eq!(c.target(), r#"socket /var/run/postgresql/.s.PGSQL.5432, database "db""#);
    let c = parse("postgresql:///db?host=/tmp&port=6543");
    assert_eq!(c.config().get_hosts(), [Host::Unix(PathBuf::from("/tmp"))]);
    assert_eq!(c.config().get_ports(), [6543]);
    let c = parse("postgresql://ignored/db?host=%2Frun%2Fpg");
    assert_eq!(c.config().get_hosts(), [Host::Unix(PathBuf::from("/run/pg"))]);
    let c = parse("postgresql://h/db?user=carol&password=x%26y&dbname=other");
    assert_eq!(c.config().get_user(), Some("carol"));
    assert_eq!(c.config().get_password(), Some(&b"x&y"[..]));
    assert_eq!(c.config().get_dbname(), Some("other"));
}

#[test]
fn options() {
    let c = parse(
        "postgresql://h/db?sslmode=prefer&application_name=my%20app&connect_timeout=7\
         &options=-c%20search_path%3Dapp&pool_size=3&max_overflow=0&pool_timeout=2.5",
    );
    assert_eq!(c.config().get_ssl_mode(), DriverSslMode::Prefer);
    assert_eq!(c.config().get_application_name(), Some("my app"));
    assert_eq!(c.config().get_connect_timeout(), Some(&Duration::from_secs(7)));
    assert_eq!(c.config().get_options(), Some("-c search_path=app"));
    assert_eq!(
        c.pool_config(),
        PoolConfig { max_size: 3, timeout: Duration::from_millis(2500), ..PoolConfig::default() }
    );
    let c = parse("postgresql://h/db?pool_pre_ping=true&pool_recycle=3600&pool_idle_timeout=60.5");
    let pool = c.pool_config();
    assert!(pool.pre_ping);
    assert_eq!(pool.recycle, Some(Duration::from_secs(3600)));
    assert_eq!(pool.idle_timeout, Some(Duration::from_millis(60_500)));
    let pool = parse("postgresql://h/db?pool_recycle=-1&pool_pre_ping=off").pool_config();
    assert_eq!((pool.pre_ping, pool.recycle), (false, None));
    // Unescaped spaces and `=` in a value are kept.
    let c = parse("postgresql://h/db?options=-c search_path=x,public&sslmode=disable");
    assert_eq!(c.config().get_options(), Some("-c search_path=x,public"));
    for (mode, ours, driver) in [
        ("disable", SslMode::Disable, DriverSslMode::Disable),
        ("allow", SslMode::Allow, DriverSslMode::Prefer),
        ("prefer", SslMode::Prefer, DriverSslMode::Prefer),
        ("require", SslMode::Require, DriverSslMode::Require),
    ] {
        let c = parse(&format!("postgres://h/db?sslmode={mode}"));
        assert_eq!((c.tls().mode, c.config().get_ssl_mode()), (ours, driver), "{mode}");
    }
    assert_eq!(parse("postgres://h?connect_timeout=0").config().get_connect_timeout(), None);
    let c = parse("postgres://h/db?sslrootcert=system&sslmode=verify-full");
    assert_eq!(c.tls().root_certs, RootCerts::System);
    assert_eq!(c.tls().mode, SslMode::VerifyFull);
    // Every option the driver takes is accepted and reaches its configuration.
    let c = parse(
        "postgresql://h/db?target_session_attrs=read-write&keepalives=1&keepalives_idle=30\
         &keepalives_interval=5&keepalives_retries=3&tcp_user_timeout=10&channel_binding=prefer\
         &load_balance_hosts=disable&hostaddr=127.0.0.1",
    );
    assert_eq!(
        c.config().get_target_session_attrs(),
        postgres::config::TargetSessionAttrs::ReadWrite
    );
    assert_eq!(c.config().get_keepalives_idle(), Duration::from_secs(30));
    assert_eq!(c.config().get_tcp_user_timeout(), Some(&Duration::from_secs(10)));
    assert_eq!(c.config().get_hostaddrs().len(), 1);
}

#[test]
fn bad_urls_and_options_are_config_errors_naming_them() {
    let cases = [
        ("mysql://u:pw@h/db", "scheme `mysql`"),
        ("postgresql:/h/db", "scheme `postgresql`"),
        ("postgresql://h/db?sslmode=maybe", "`sslmode`: expected `disable`"),
        ("postgresql://h/db?nope=1", "unknown PostgreSQL URL option; known: host, port"),
        (
            "postgresql://h/db?sslmod=require",
            "unknown PostgreSQL URL option (did you mean `sslmode`?)",
        ),
        ("postgresql://h/db?pool_sise=2", "(did you mean `pool_size`?)"),
        ("postgresql://h/db?x", "is not `name=value`"),
        // Neither `user:password@host` nor an option's value: refused, nothing of it shown.
        ("postgresql://h:5432/db?@&password=x", "cannot be read as user:password@host"),
        ("postgresql://h/db?pool_size=0", "`pool_size`: expected a whole number"),
        ("postgresql://h/db?pool_size=x", "`pool_size`"),
        ("postgresql://h/db?pool_size=10001", "`pool_size`"),
        ("postgresql://h/db?max_overflow=-1", "`max_overflow`"),
        ("postgresql://h/db?pool_timeout=-1", "`pool_timeout`"),
        ("postgresql://h/db?pool_timeout=0", "pool_timeout must be"),
        ("postgresql://h/db?pool_timeout=1e-10", "pool_timeout must be"),
        ("postgresql://h/db?pool_recycle=0", "pool_recycle must be"),
        ("postgresql://h/db?pool_idle_timeout=x", "`pool_idle_timeout`"),
        ("postgresql://h/db?pool_pre_ping=maybe", "`pool_pre_ping`: expected `true` or `false`"),
        ("postgresql://h/db?connect_timeout=1.5", "`connect_timeout`"),
        ("postgresql://h/db?target_session_attrs=primary", "`target_session_attrs`"),
        ("postgresql://h/db?pool_size", "`pool_size` needs a value"),
        ("postgresql://h/db?pool_size=1&pool_size=2", "`pool_size` is given twice"),
        ("postgresql://h/db?sslcert=/a.crt", "`sslcert` and `sslkey` go together"),
        ("postgresql://h/db?sslmode=verify-ca&sslrootcert=/nonexistent.pem", "`sslrootcert`"),
        ("postgresql://h:99999/db", "not a port number"),
        ("postgresql://h:x/db", "not a port number"),
        ("postgresql://[::1/db", "unclosed `[`"),
        ("postgresql://h/d%ZZ", "bad percent escape in the database name"),
        ("postgresql://a,b,c:1,2/db", "must each name a port, or none"),
        ("postgresql://h/db?port=1,2", "1 hosts but 2 ports"),
        ("postgresql://h/db?pool_size=10000&max_overflow=1", "pool_size (with max_overflow)"),
    ];
    for (url, expected) in cases {
        let m = config_error(url);
        assert!(m.contains(expected), "{url}: {m}");
    }
}

#[test]
fn no_message_shows_the_password() {
    for url in [
        "mysql://u:hunter2@h/db",
        "postgresql://u:hunter2%ZZ@h/db",
        "postgresql://u:hunter2@h:bad/db",
        "postgresql://u:hunter2@h/db?nope=1",
        "postgresql://u@h/db?password=hunter2%ZZ",
        "postgresql://u@h/db?password=hunter2&password=hunter2",
        // The leak the issue found: an unescaped `?` in the password.
        "postgresql://u:hunter2?x@h:5432/db",
        "postgresql://u:x?hunter2@h/db?pool_size=0",
        "postgresql://u:hun?ter2@h/db?port=hunter2",
        "postgresql://u@h/db?pool_size=hunter2",
        "postgresql://u:a@b?hunter2@h/db",
        "postgresql://host/db?password=x&hunter2",
        "postgresql://host/db?@&password=hunter2",
        "postgresql://host/db?foo=bar&password=hunter2@",
        "postgresql://host/db?&password=@hunter2",
        "postgresql://h/db?hunter2=1",
        "postgresql://u@h/db?sslmode=hunter2",
        "postgresql://u@h/db?connect_timeout=hunter2",
        "postgresql://u:pw@h/db?port=hunter2",
    ] {
        let m = match PgConnector::from_url(url) {
            Err(e) => format!("{e} {e:?}"),
            Ok(c) => format!("{c:?} {}", c.target()),
        };
        assert!(!m.contains("hunter2"), "{url}: {m}");
    }
    let c = parse("postgresql://u:hunter2@h/db");
    assert!(!format!("{c:?}").contains("hunter2"));
    assert!(!c.target().contains("hunter2"));
}

#[test]
fn connect_applies_the_options() -> orm_core::Result<()> {
    let schema = orm_postgres::test_server::TestSchema::create()?;
    let url = format!("{}&application_name=orm%20tests", schema.url());
    let c = PgConnector::from_url(&url)?;
    let mut conn = c.connect()?;
    let name: String = one(&mut *conn, "SELECT current_setting('application_name')", &[])?;
    assert_eq!(name, "orm tests");
    let path: String = one(&mut *conn, "SELECT current_schema()", &[])?;
    assert_eq!(path, schema.name());
    assert!(conn.is_valid());
    Ok(())
}

#[test]
fn connect_through_a_unix_socket() -> orm_core::Result<()> {
    let base = orm_postgres::test_server::url()?;
    let mut tcp_conn = PgConnector::from_url(&base)?.open()?;
    let dirs: String = one(&mut tcp_conn, "SHOW unix_socket_directories", &[])?;
    let port: String = one(&mut tcp_conn, "SHOW port", &[])?;
    let user: String = one(&mut tcp_conn, "SELECT current_user::text", &[])?;
    let Some(dir) = dirs.split(',').map(str::trim).find(|d| std::path::Path::new(d).is_dir())
    else {
        // A server on another machine (ORM_TEST_POSTGRES_URL): its sockets are not reachable.
        return Ok(());
    };
    let encoded = dir.replace('/', "%2F");
    for url in [
        format!("postgresql://{user}@{encoded}:{port}/postgres"),
        format!("postgresql://{user}@/postgres?host={dir}&port={port}"),
    ] {
        let mut conn = PgConnector::from_url(&url)?.open()?;
        let via: Option<String> = one(&mut conn, "SELECT inet_server_addr()::text", &[])?;
        assert_eq!(via, None, "{url}: a socket connection has no server address");
    }
    Ok(())
}

#[test]
fn the_pool_opens_pool_size_plus_max_overflow_then_times_out() -> orm_core::Result<()> {
    let schema = orm_postgres::test_server::TestSchema::create()?;
    let url = format!("{}&pool_size=1&max_overflow=1&pool_timeout=0.3", schema.url());
    let engine = orm_core::Engine::new(orm_postgres::connector(&url)?, Default::default())?;
    // A session in a transaction keeps its connection.
    let mut a = engine.session();
    a.execute_ddl("SELECT 1")?;
    let mut b = engine.session();
    b.execute_ddl("SELECT 1")?;
    let mut c = engine.session();
    let started = std::time::Instant::now();
    match c.execute_ddl("SELECT 1") {
        Err(Error::PoolTimeout { waited }) => assert_eq!(waited, Duration::from_millis(300)),
        other => panic!("expected a pool timeout, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(250));
    a.rollback()?;
    drop(a);
    c.execute_ddl("SELECT 1")?;
    c.commit()?;
    b.commit()?;
    Ok(())
}
