//! `sqlite:` URLs: the accepted forms, every option, the errors for bad ones, and what `connect`
//! does with files.

use orm_core::{Connection, Connector, Error, PoolConfig, Value};
use orm_sqlite::url::{JournalMode, Location, OpenMode, Synchronous};
use orm_sqlite::SqliteConnector;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn parse(url: &str) -> SqliteConnector {
    SqliteConnector::from_url(url).unwrap_or_else(|e| panic!("{url}: {e}"))
}

fn config_error(url: &str) -> String {
    match SqliteConnector::from_url(url) {
        Err(Error::Config(m)) => m,
        other => panic!("{url}: expected a Config error, got {other:?}"),
    }
}

fn file(p: &str) -> Location {
    Location::File(PathBuf::from(p))
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("orm-sqlite-url-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    fn url(&self, file: &str, query: &str) -> String {
        format!("sqlite://{}{query}", self.0.join(file).display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pragma(conn: &mut dyn Connection, name: &str) -> Value {
    let mut v = Value::Null;
    conn.query(&format!("PRAGMA {name}"), &[], &mut |row| {
        v = row.get(0)?.to_owned_value();
        Ok(())
    })
    .expect("pragma");
    v
}

#[test]
fn forms() {
    assert_eq!(parse("sqlite::memory:").location(), &Location::Memory);
    assert_eq!(parse("sqlite://:memory:").location(), &Location::Memory);
    assert_eq!(parse("sqlite::memory:?busy_timeout=1").location(), &Location::Memory);
    assert_eq!(parse("sqlite://app.db").location(), &file("app.db"));
    assert_eq!(parse("sqlite://relative/path.db").location(), &file("relative/path.db"));
    assert_eq!(parse("sqlite:///absolute/path.db").location(), &file("/absolute/path.db"));
    assert_eq!(parse("sqlite:path.db").location(), &file("path.db"));
    assert_eq!(parse("sqlite:/absolute/path.db").location(), &file("/absolute/path.db"));
    assert_eq!(parse("SQLite://app.db").location(), &file("app.db"));
    assert_eq!(parse("sqlite://my%20app%3F.db").location(), &file("my app?.db"));
    assert_eq!(parse("sqlite:///tmp/%C3%A9t%C3%A9.db?mode=rw").location(), &file("/tmp/été.db"));
    assert_eq!(parse("sqlite://file:x.db").location(), &file("file:x.db"));
}

#[test]
fn defaults() {
    let f = parse("sqlite://app.db");
    assert_eq!(f.mode(), OpenMode::ReadWriteCreate);
    assert_eq!(f.busy_timeout(), Duration::from_millis(5000));
    assert_eq!(f.journal_mode(), JournalMode::Wal);
    assert_eq!(f.synchronous(), Synchronous::Normal);
    assert!(f.foreign_keys());
    assert_eq!(
        f.pool_config(),
        PoolConfig { max_size: 5, timeout: Duration::from_secs(30), ..PoolConfig::default() }
    );
    let m = parse("sqlite::memory:");
    assert_eq!(
        m.pool_config(),
        PoolConfig { max_size: 1, timeout: Duration::from_secs(30), ..PoolConfig::default() }
    );
    assert_eq!(m.dialect().name(), "sqlite");
}

#[test]
fn options() {
    let c = parse(
        "sqlite://app.db?mode=ro&busy_timeout=250&journal_mode=TRUNCATE&synchronous=full\
         &foreign_keys=false&pool_size=12&pool_timeout=2.5",
    );
    assert_eq!(c.mode(), OpenMode::ReadOnly);
    assert_eq!(c.busy_timeout(), Duration::from_millis(250));
    assert_eq!(c.journal_mode(), JournalMode::Truncate);
    assert_eq!(c.synchronous(), Synchronous::Full);
    assert!(!c.foreign_keys());
    assert_eq!(
        c.pool_config(),
        PoolConfig { max_size: 12, timeout: Duration::from_millis(2500), ..PoolConfig::default() }
    );

    assert_eq!(parse("sqlite://a.db?mode=rw").mode(), OpenMode::ReadWrite);
    assert_eq!(parse("sqlite://a.db?mode=rwc").mode(), OpenMode::ReadWriteCreate);
    for (v, mode) in [
        ("wal", JournalMode::Wal),
        ("delete", JournalMode::Delete),
        ("truncate", JournalMode::Truncate),
        ("memory", JournalMode::Memory),
        ("off", JournalMode::Off),
    ] {
        assert_eq!(parse(&format!("sqlite://a.db?journal_mode={v}")).journal_mode(), mode);
    }
    for (v, s) in
        [("off", Synchronous::Off), ("normal", Synchronous::Normal), ("FULL", Synchronous::Full)]
    {
        assert_eq!(parse(&format!("sqlite://a.db?synchronous={v}")).synchronous(), s);
    }
    for (v, on) in [("on", true), ("true", true), ("off", false), ("false", false), ("OFF", false)]
    {
        assert_eq!(parse(&format!("sqlite://a.db?foreign_keys={v}")).foreign_keys(), on);
    }
    assert_eq!(parse("sqlite://a.db?pool_timeout=0").pool_config().timeout, Duration::ZERO);
    assert_eq!(parse("sqlite::memory:?pool_size=1").pool_config().max_size, 1);
    // SQLAlchemy's max_overflow, as the tutorials set it: the pool holds pool_size + max_overflow.
    assert_eq!(parse("sqlite://a.db?pool_size=2&max_overflow=3").pool_config().max_size, 5);
    assert_eq!(parse("sqlite://a.db?max_overflow=3&pool_size=2").pool_config().max_size, 5);
    assert_eq!(parse("sqlite::memory:?max_overflow=0").pool_config().max_size, 1);
    let e = orm_sqlite::connector("sqlite::memory:?max_overflow=2").err().map(|e| e.to_string());
    assert!(e.is_some_and(|e| e.contains("max_overflow")));
    // Empty segments are skipped; values are percent-decoded.
    assert_eq!(parse("sqlite://a.db?&mode=%72o&").mode(), OpenMode::ReadOnly);
    // An in-memory database keeps its own journal; the option is accepted and ignored.
    assert_eq!(parse("sqlite::memory:?journal_mode=delete").location(), &Location::Memory);
}

#[test]
fn bad_urls_are_config_errors_naming_the_problem() {
    for url in ["postgres://localhost/db", "sqlite3://a.db", "memory", "", "file:a.db"] {
        let m = config_error(url);
        assert!(m.contains("is not a SQLite URL"), "{url}: {m}");
    }
    // The URL of another database is not echoed: it may carry a password.
    let m = config_error("postgresql://user:secret@host/db");
    assert!(m.contains("scheme `postgresql`") && !m.contains("secret"), "{m}");
    assert!(config_error("sqlite://").contains("names no database file"));
    assert!(config_error("sqlite:").contains("names no database file"));
    assert!(config_error("sqlite://?mode=ro").contains("names no database file"));
    assert!(config_error("sqlite://a%zz.db").contains("bad percent escape in the path"));
    assert!(config_error("sqlite://a%2").contains("bad percent escape"));
    assert!(config_error("sqlite://a%+1.db").contains("bad percent escape"));
    assert!(config_error("sqlite://a%ff.db").contains("not UTF-8"));

    let cases = [
        ("cache=shared", "unknown SQLite URL option `cache`"),
        ("mode=rwx", "option `mode`: `rwx` is not valid, expected `ro`, `rw` or `rwc`"),
        ("mode", "option `mode` needs a value"),
        ("busy_timeout=soon", "option `busy_timeout`: `soon` is not valid"),
        ("busy_timeout=-1", "option `busy_timeout`: `-1` is not valid"),
        ("busy_timeout=3000000000", "option `busy_timeout`: `3000000000` is not valid"),
        ("journal_mode=wal2", "option `journal_mode`: `wal2` is not valid"),
        ("synchronous=extra", "option `synchronous`: `extra` is not valid"),
        ("foreign_keys=yes", "option `foreign_keys`: `yes` is not valid"),
        ("pool_size=0", "option `pool_size`: `0` is not valid"),
        ("pool_size=many", "option `pool_size`: `many` is not valid"),
        ("pool_timeout=-1", "option `pool_timeout`: expected a number of seconds"),
        ("pool_timeout=NaN", "option `pool_timeout`: expected a number of seconds"),
        ("pool_timeout=inf", "option `pool_timeout`: expected a number of seconds"),
        ("pool_pre_ping=2", "option `pool_pre_ping`: expected `true` or `false`"),
        ("pool_recycle=x", "option `pool_recycle`: expected a number of seconds, or -1"),
        ("mode=ro&mode=rw", "option `mode` is given twice"),
    ];
    for (query, expected) in cases {
        let m = config_error(&format!("sqlite://a.db?{query}"));
        assert!(m.contains(expected), "{query}: {m}");
    }
    assert!(config_error("sqlite::memory:?pool_size=2")
        .contains("in-memory database has one connection"));
    assert!(config_error("sqlite::memory:?mode=ro").contains("cannot be read only"));
}

#[test]
fn no_message_shows_a_password() {
    // A server's URL with the `sqlite` scheme, however its password is written: refused as such,
    // not read as a file named after it (that every later message would show).
    for url in [
        "sqlite://u:hunter2@host/app.db",
        "sqlite://u:hunter2@app.db",
        "sqlite:u:hunter2@host/app.db",
        "sqlite://:hunter2@host/app.db",
        "sqlite://u:hunter2?x@host/app.db",
        "sqlite://u:hunter2/x@host/app.db",
        "sqlite://u:hunter2%zz@host/app.db",
        "sqlite://u:hunter2%ff@host/app.db",
    ] {
        let m = config_error(url);
        assert!(m.contains("reads like `sqlite://user:password@host/...`"), "{url}: {m}");
        assert!(!m.contains("hunter2"), "{url}: {m}");
    }
    // Neither the URL nor the value of an unknown option is repeated.
    for url in [
        "sqlite://?password=hunter2",
        "sqlite:?password=hunter2",
        "sqlite://app.db?password=hunter2",
        "sqlite://app.db?password=hunter2%zz",
        "sqlite://app.db?password=%ffhunter2",
        "sqlite://app.db?mode=ro&password=hunter2%zz",
    ] {
        let m = config_error(url);
        assert!(!m.contains("hunter2"), "{url}: {m}");
    }
    // A file name with a `:` and a `@` escapes the `@`.
    assert_eq!(parse("sqlite://a:b%40c.db").location(), &file("a:b@c.db"));
    assert_eq!(parse("sqlite://me@home.db").location(), &file("me@home.db"));
}

#[test]
fn connector_function_boxes_it() {
    let c = orm_sqlite::connector("sqlite::memory:").expect("url");
    assert_eq!(c.pool_config().max_size, 1);
    assert!(matches!(orm_sqlite::connector("mysql://x"), Err(Error::Config(_))));
}

#[test]
fn each_memory_connection_is_its_own_database() {
    let c = parse("sqlite::memory:");
    let mut a = c.connect().expect("a");
    let mut b = c.connect().expect("b");
    a.execute_batch("CREATE TABLE t (x INTEGER)").expect("create");
    assert!(b.execute_batch("SELECT * FROM t").is_err());
}

#[test]
fn file_connections_share_the_database_and_are_configured() {
    let dir = TempDir::new("file");
    let c = parse(&dir.url("app.db", ""));
    let mut a = c.connect().expect("a");
    let mut b = c.connect().expect("b");
    a.execute_batch("CREATE TABLE t (x INTEGER)").expect("create");
    a.execute("INSERT INTO t VALUES (?1)", &[Value::Int(1)]).expect("insert");
    let mut n = 0;
    b.query("SELECT x FROM t", &[], &mut |_| {
        n += 1;
        Ok(())
    })
    .expect("select");
    assert_eq!(n, 1);
    assert_eq!(pragma(&mut *b, "journal_mode"), Value::Text("wal".into()));
    assert_eq!(pragma(&mut *b, "synchronous"), Value::Int(1));
    assert_eq!(pragma(&mut *b, "foreign_keys"), Value::Int(1));
    assert_eq!(pragma(&mut *b, "busy_timeout"), Value::Int(5000));
    assert!(b.is_valid());

    let other =
        parse(&dir.url(
            "other.db",
            "?journal_mode=delete&synchronous=off&foreign_keys=off&busy_timeout=42",
        ));
    let mut o = other.connect().expect("other");
    assert_eq!(pragma(&mut *o, "journal_mode"), Value::Text("delete".into()));
    assert_eq!(pragma(&mut *o, "synchronous"), Value::Int(0));
    assert_eq!(pragma(&mut *o, "foreign_keys"), Value::Int(0));
    assert_eq!(pragma(&mut *o, "busy_timeout"), Value::Int(42));
}

#[test]
fn paths_are_percent_decoded_and_relative_paths_work() {
    let dir = TempDir::new("decode");
    let encoded = format!("sqlite://{}/my%20data.db", dir.0.display());
    parse(&encoded).connect().expect("connect");
    assert!(dir.0.join("my data.db").exists());

    // `sqlite:` without `//`, relative to the working directory (the crate's, under cargo test),
    // here through a relative path into the temp dir.
    let cwd = std::env::current_dir().expect("cwd");
    let rel = pathdiff(&dir.0, &cwd);
    let url = format!("sqlite:{}/rel.db", rel.display());
    parse(&url).connect().expect("connect");
    assert!(dir.0.join("rel.db").exists(), "{url}");
}

/// `target` relative to `base` (both absolute), with `..` as needed.
fn pathdiff(target: &Path, base: &Path) -> PathBuf {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

#[test]
fn files_that_cannot_be_opened_are_connection_errors_with_the_path() {
    let dir = TempDir::new("cantopen");
    let missing_dir = dir.0.join("no/such/dir/app.db");
    let err = |url: &str| match parse(url).connect() {
        Err(Error::Connection { message: m, .. }) => m,
        Err(other) => panic!("{url}: {other:?}"),
        Ok(_) => panic!("{url}: connected"),
    };
    let m = err(&format!("sqlite://{}", missing_dir.display()));
    assert!(m.contains(&missing_dir.display().to_string()), "{m}");
    assert!(m.contains("unable to open database file"), "{m}");

    let m = err(&dir.url("missing.db", "?mode=ro"));
    assert!(m.contains("missing.db"), "{m}");
    let m = err(&dir.url("missing.db", "?mode=rw"));
    assert!(m.contains("missing.db"), "{m}");
    assert!(!dir.0.join("missing.db").exists());

    let junk = dir.0.join("junk.db");
    std::fs::write(&junk, vec![b'x'; 4096]).expect("write");
    let m = err(&format!("sqlite://{}", junk.display()));
    assert!(m.contains("junk.db") && m.contains("not a database"), "{m}");
    assert_eq!(m.matches("connection error").count(), 0, "{m}");
}

#[test]
fn read_only_connections_leave_the_journal_mode_alone() {
    let dir = TempDir::new("ro");
    let url = dir.url("ro.db", "");
    let mut rw = parse(&url).connect().expect("rw");
    rw.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);").expect("setup");
    let mut ro = parse(&format!("{url}?mode=ro&journal_mode=delete")).connect().expect("ro");
    assert_eq!(pragma(&mut *ro, "journal_mode"), Value::Text("wal".into()));
    assert_eq!(pragma(&mut *ro, "foreign_keys"), Value::Int(1));
    assert!(ro.execute("DELETE FROM t", &[]).is_err());
}
