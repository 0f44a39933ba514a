//! The connection pool on every backend: a checkout that waits too long is a typed error, and a
//! panic inside a session neither leaks its connection nor leaves a transaction open.

mod common;

use common::models::*;
use common::{backend_tests, Backend, TempDir};
use orm::prelude::*;
use std::time::{Duration, Instant};

backend_tests! {
    checkout_timeout_is_a_typed_error,
    a_panic_inside_a_session_leaks_nothing,
    sessions_across_threads_share_the_pool,
    out_of_range_pool_settings_are_config_errors_not_panics,
    the_pool_holds_pool_size_plus_max_overflow,
}

/// The same database as `db`, through a pool of one connection with a short checkout timeout;
/// with the folder of its file on SQLite (removed when dropped: keep it while the pool is used).
fn one_connection(backend: Backend, db: &Database) -> (Database, TempDir) {
    let dir = TempDir::new("pool");
    let url = match backend {
        // Each in-memory connection is its own database: use a file for this test.
        Backend::Sqlite => format!("sqlite://{}", dir.join("app.db").display()),
        Backend::Postgres => db_url(db),
    };
    let small = Database::options()
        .pool_size(1)
        .max_overflow(0)
        .pool_timeout(Duration::from_millis(300))
        .connect(&url)
        .unwrap();
    small.create_tables(&[User::TABLE]).unwrap();
    (small, dir)
}

/// The URL of a PostgreSQL test database (its schema in `search_path`).
fn db_url(db: &Database) -> String {
    let mut s = db.session();
    let (schema,): (String,) = s.sql("SELECT current_schema()").one().unwrap();
    let base = orm::testing::postgres_server::url().unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

fn checkout_timeout_is_a_typed_error(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let (small, _dir) = one_connection(backend, &db);
    let mut holder = small.session();
    holder.add(User::new("holds_the_connection"));
    holder.flush().unwrap(); // in a transaction: the connection stays checked out
    let started = Instant::now();
    let err = small.session().query::<User>().count().unwrap_err();
    assert!(matches!(err, Error::PoolTimeout { .. }), "{backend}: {err:?}");
    assert!(started.elapsed() >= Duration::from_millis(250), "{backend}: waited for the timeout");
    holder.commit().unwrap();
    // Returned to the pool at commit: the next session gets it.
    assert_eq!(small.session().query::<User>().count().unwrap(), 1, "{backend}");
}

fn a_panic_inside_a_session_leaks_nothing(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let (small, _dir) = one_connection(backend, &db);
    let for_panic = small.clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut s = for_panic.session();
        s.add(User::new("never_committed"));
        s.flush().unwrap();
        panic!("handler failed mid-transaction");
    }));
    assert!(result.is_err());
    // The one connection is back in the pool, with no transaction open on it.
    let mut s = small.session();
    assert_eq!(s.query::<User>().count().unwrap(), 0, "{backend}: the flushed row was rolled back");
    s.add(User::new("after_the_panic"));
    s.commit().unwrap();
    assert_eq!(small.session().query::<User>().count().unwrap(), 1, "{backend}");
}

fn sessions_across_threads_share_the_pool(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let dir = TempDir::new("pool-threads");
    let db = match backend {
        Backend::Sqlite => {
            let d =
                Database::connect(&format!("sqlite://{}", dir.join("app.db").display())).unwrap();
            d.create_tables(&[User::TABLE]).unwrap();
            d
        }
        Backend::Postgres => db,
    };
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let mut s = db.session();
                    s.add(User::new(&format!("t{t}_{i}")));
                    s.commit().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(db.session().query::<User>().count().unwrap(), 40, "{backend}");
}

fn out_of_range_pool_settings_are_config_errors_not_panics(backend: Backend) {
    let base = match backend {
        Backend::Sqlite => "sqlite::memory:".to_owned(),
        Backend::Postgres => orm::testing::postgres_server::url().unwrap(),
    };
    for (size, timeout) in [
        (Some(0), None),
        (Some(u32::MAX), None),
        (None, Some(Duration::ZERO)),
        (None, Some(Duration::from_nanos(100))),
        (None, Some(Duration::from_secs(u64::MAX / 4))),
    ] {
        let mut options = Database::options();
        if let Some(n) = size {
            options = options.pool_size(n);
        }
        if let Some(t) = timeout {
            options = options.pool_timeout(t);
        }
        let err = options.connect(&base).err();
        assert!(matches!(err, Some(Error::Config(_))), "{base} {size:?} {timeout:?}: {err:?}");
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("pool_size") || msg.contains("pool_timeout"), "{msg}");
    }
    let url_options: &[(&str, &str)] = match backend {
        Backend::Sqlite => &[
            ("sqlite://x.db", "pool_recycle=-5"),
            // An in-memory database is its one connection: the pool must never close it.
            ("sqlite::memory:", "pool_recycle=60"),
            ("sqlite::memory:", "pool_idle_timeout=60"),
        ],
        Backend::Postgres => &[
            (&base, "pool_timeout=0"),
            (&base, "pool_timeout=-0"),
            (&base, "pool_timeout=1e-10"),
            (&base, "pool_size=4294967295"),
            (&base, "pool_recycle=0"),
            (&base, "pool_idle_timeout=1e12"),
        ],
    };
    for (base, option) in url_options {
        let s = if base.contains('?') { '&' } else { '?' };
        let err = Database::connect(&format!("{base}{s}{option}")).err();
        assert!(matches!(err, Some(Error::Config(_))), "{base} {option}: {err:?}");
    }
    if backend == Backend::Sqlite {
        // The same settings given in code are checked the same way.
        for options in [
            Database::options().pool_recycle(Some(Duration::from_secs(60))),
            Database::options().pool_idle_timeout(Some(Duration::from_secs(60))),
            Database::options().pool_size(2),
        ] {
            let err = options.connect("sqlite::memory:").err();
            assert!(matches!(err, Some(Error::Config(_))), "{err:?}");
        }
    }
}

/// How many sessions can hold a connection at once (each in a transaction), up to `limit`: the
/// first checkout that times out ends the count.
fn connections_held(db: &Database, limit: usize) -> usize {
    let mut holders = Vec::new();
    for _ in 0..limit {
        let mut s = db.session();
        match s.sql("SELECT 1").execute() {
            Ok(_) => holders.push(s),
            Err(Error::PoolTimeout { .. }) => break,
            Err(e) => panic!("holding a connection: {e}"),
        }
    }
    holders.len()
}

fn the_pool_holds_pool_size_plus_max_overflow(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let dir = TempDir::new("pool-overflow");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("app.db").display()),
        Backend::Postgres => db_url(&db),
    };
    let short = Duration::from_millis(200);
    let sep = if url.contains('?') { '&' } else { '?' };
    match backend {
        Backend::Postgres => {
            // In code: 1 + 2. The URL's pair, then the builder overriding one of the two.
            let pool = Database::options().pool_size(1).max_overflow(2).pool_timeout(short);
            assert_eq!(connections_held(&pool.connect(&url).unwrap(), 6), 3);
            let with_url = format!("{url}{sep}pool_size=2&max_overflow=1");
            let pool = Database::options().pool_timeout(short);
            assert_eq!(connections_held(&pool.connect(&with_url).unwrap(), 6), 3);
            let pool = Database::options().max_overflow(0).pool_timeout(short);
            assert_eq!(connections_held(&pool.connect(&with_url).unwrap(), 6), 2);
            let pool = Database::options().pool_size(1).pool_timeout(short);
            assert_eq!(
                connections_held(&pool.connect(&with_url).unwrap(), 6),
                2,
                "1 + the URL's 1"
            );
        }
        Backend::Sqlite => {
            // A SQLite writer holds the database's one write lock, so only the settings'
            // checks are seen here: a file takes an overflow, an in-memory database none.
            Database::options().pool_size(1).max_overflow(3).connect(&url).unwrap();
            for options in [
                Database::options().max_overflow(1),
                Database::options().pool_size(1).max_overflow(1),
            ] {
                let err = options.connect("sqlite::memory:").unwrap_err();
                assert!(matches!(err, Error::Config(_)), "{err:?}");
            }
            Database::options().pool_size(1).max_overflow(0).connect("sqlite::memory:").unwrap();
        }
    }
    // Out of range, from code: each a configuration error naming the setting.
    for (options, setting) in [
        (Database::options().pool_size(0).max_overflow(5), "pool_size"),
        (Database::options().pool_size(u32::MAX).max_overflow(1), "max_overflow"),
        (Database::options().pool_size(5_000).max_overflow(5_001), "max_overflow"),
    ] {
        let err = options.connect(&url).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{backend}: {err:?}");
        assert!(err.to_string().contains(setting), "{backend}: {err}");
    }
}
