//! The ORM used from async code without `spawn_blocking`, on both backends: sessions made and
//! used on a current-thread runtime's own thread and on a multi-thread runtime's worker, a
//! `Database` connected there, and the last clone of a `Database` holding open connections
//! dropped there (also by a runtime shutting down with it inside a task). PostgreSQL's sync
//! driver panicked in each case ("Cannot start a runtime from within a runtime"); now each
//! works, and the dropped pool's connections are closed on the server (`pg_stat_activity`).
//! SQLite had no such problem and must answer the same.

mod common;

use common::models::*;
use common::{backend_tests, Backend};
use orm::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

backend_tests! {
    sessions_work_on_async_threads,
    a_database_connects_on_async_threads,
    the_last_database_dropped_on_async_threads_closes_its_connections,
    a_runtime_shutting_down_with_the_database_inside_closes_its_connections,
}

/// The runtimes' thread name, for [`runtime_thread_panics`].
const RUNTIME_THREADS: &str = "orm-async-test";

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("current-thread runtime")
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(RUNTIME_THREADS)
        .build()
        .expect("multi-thread runtime")
}

/// Runs `work` on an async thread: the future of a current-thread runtime's `block_on`
/// (`"current-thread"`), or a task on a multi-thread runtime's worker (`"worker"`).
fn on_async_thread<T: Send + 'static>(place: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    match place {
        "current-thread" => current_thread().block_on(async move { work() }),
        _ => multi_thread()
            .block_on(async move { tokio::spawn(async move { work() }).await })
            .expect("the task"),
    }
}

const ASYNC_THREADS: [&str; 2] = ["current-thread", "worker"];

/// A URL for another pool on the same database as `db` (PostgreSQL: its schema).
fn url_of(backend: Backend, db: &Database, dir: &common::TempDir) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("app.db").display()),
        Backend::Postgres => {
            let mut s = db.session();
            let (schema,): (String,) = s.sql("SELECT current_schema()").one().expect("schema");
            let base = orm::testing::postgres_server::url().expect("server URL");
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        }
    }
}

fn sessions_work_on_async_threads(backend: Backend) {
    for place in ASYNC_THREADS {
        let db = backend.database(&[User::TABLE]);
        let result = on_async_thread(place, move || -> orm::Result<()> {
            let mut s = db.session();
            for i in 0..100 {
                s.add(User::new(&format!("u{i}")));
            }
            s.commit()?;
            // More rows than a helper thread reads ahead, in order.
            let all = s.query::<User>().order_by(User::id.asc()).all()?;
            let names: Vec<String> = all.iter().map(|u| u.username.clone()).collect();
            let expected: Vec<String> = (0..100).map(|i| format!("u{i}")).collect();
            assert_eq!(names, expected, "{backend} {place}");
            assert_eq!(s.query::<User>().filter(User::username.eq("u7")).count()?, 1);
            let (n,): (i64,) = s.sql("SELECT count(*) FROM users WHERE age IS NULL").one()?;
            assert_eq!(n, 100, "{backend} {place}");
            // A failing statement is the typed error, and the session goes on.
            s.add(User::new("u1"));
            let e = s.commit().expect_err("duplicate username");
            assert!(matches!(e, Error::UniqueViolation(_)), "{backend} {place}: {e:?}");
            s.rollback()?;
            // Uncommitted work dropped with its session is rolled back.
            {
                let mut dropped = db.session();
                dropped.add(User::new("never"));
                dropped.flush()?;
            }
            assert_eq!(db.session().query::<User>().count()?, 100, "{backend} {place}");
            Ok(())
        });
        result.unwrap_or_else(|e| panic!("{backend} {place}: {e}"));
    }
}

fn a_database_connects_on_async_threads(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let dir = common::TempDir::new("async");
    let url = url_of(backend, &db, &dir);
    for place in ASYNC_THREADS {
        let url = url.clone();
        let count = on_async_thread(place, move || -> orm::Result<u64> {
            // Connecting opens a connection on this thread; a pre-pinged checkout talks to
            // the server before the session gets the connection.
            let other = Database::options().pool_pre_ping(true).connect(&url)?;
            other.create_tables(&[User::TABLE])?;
            let mut s = other.session();
            s.add(User::new(&format!("from-{place}")));
            s.commit()?;
            s.query::<User>().count()
        });
        let count = count.unwrap_or_else(|e| panic!("{backend} {place}: {e}"));
        assert!(count >= 1, "{backend} {place}");
    }
}

/// The server process ids of `n` connections of `db`'s pool, all open (each held by a
/// session in a transaction while the next is checked out); then back in the pool, idle.
fn open_connections(db: &Database, n: usize) -> Vec<i64> {
    let mut sessions: Vec<Session> = (0..n).map(|_| db.session()).collect();
    let pids = sessions
        .iter_mut()
        .map(|s| {
            s.sql("SELECT 1").execute().expect("begin");
            let (pid,): (i32,) = s.sql("SELECT pg_backend_pid()").one().expect("pid");
            i64::from(pid)
        })
        .collect();
    drop(sessions);
    pids
}

/// How many of `pids` the server still has, asked from a pool of its own; with `until_none`,
/// waiting up to 10 s for them to go (a backend exits a moment after its client closes).
fn still_open(observer: &Database, pids: &[i64], until_none: bool) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = observer.session();
        let (n,): (i64,) = s
            .sql("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
            .bind("pids", pids.to_vec())
            .one()
            .expect("pg_stat_activity");
        if n == 0 || !until_none || Instant::now() >= deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn the_last_database_dropped_on_async_threads_closes_its_connections(backend: Backend) {
    let observer = backend.database(&[]);
    for place in ASYNC_THREADS {
        let db = backend.database(&[User::TABLE]);
        let pids = match backend {
            Backend::Postgres => open_connections(&db, 3),
            Backend::Sqlite => Vec::new(),
        };
        if backend == Backend::Postgres {
            assert_eq!(still_open(&observer, &pids, false), 3, "{place}: open before the drop");
        }
        let clone = db.clone();
        // A clone dropped there first, then the last one.
        on_async_thread(place, move || {
            let mut s = clone.session();
            s.add(User::new("last"));
            s.commit().expect("commit");
            drop(s);
            drop(clone);
            drop(db);
        });
        if backend == Backend::Postgres {
            assert_eq!(still_open(&observer, &pids, true), 0, "{place}: connections left open");
        }
    }
}

/// How many panics happened on the multi-thread runtimes' threads. tokio catches a panic of
/// a task it drops while shutting down (and prints it), so this hook counts them, then hands
/// every panic on to the hook that was there before.
fn runtime_thread_panics() -> usize {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some(RUNTIME_THREADS) {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
    PANICS.load(Ordering::SeqCst)
}

fn a_runtime_shutting_down_with_the_database_inside_closes_its_connections(backend: Backend) {
    let observer = backend.database(&[]);
    for (flavor, rt) in [("current-thread", current_thread()), ("multi-thread", multi_thread())] {
        let db = backend.database(&[User::TABLE]);
        let pids = match backend {
            Backend::Postgres => open_connections(&db, 3),
            Backend::Sqlite => Vec::new(),
        };
        let panics = runtime_thread_panics();
        // A server's state: a task that holds the database and never ends, so the runtime's
        // shutdown drops it (on a worker thread of a multi-thread runtime).
        let (started, running) = std::sync::mpsc::channel();
        rt.spawn(async move {
            let _state = db;
            let _ = started.send(());
            std::future::pending::<()>().await;
        });
        rt.block_on(async {
            while running.try_recv().is_err() {
                tokio::task::yield_now().await;
            }
        });
        drop(rt);
        assert_eq!(runtime_thread_panics(), panics, "{backend} {flavor}: a panic in shutdown");
        if backend == Backend::Postgres {
            assert_eq!(still_open(&observer, &pids, true), 0, "{flavor}: connections left open");
        }
    }
}
