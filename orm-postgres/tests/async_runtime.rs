//! A `PgConnection` used on threads that drive a tokio runtime: the sync driver blocks on a
//! runtime of its own for every call and when it closes, which tokio refuses there with a
//! panic. Each case runs on a current-thread runtime's own thread, on a multi-thread runtime's
//! worker, in `spawn_blocking`, and on a plain thread: connecting, statements, streamed rows
//! (more than are read ahead), a callback's error, a statement failing after the callback
//! failed, a constraint violation, and the close on drop, which must reach the server.

mod common;

use common::{connector, db, one, rows};
use orm_core::{Connection, Error, Value};
use orm_postgres::test_server::TestSchema;
use orm_postgres::PgConnection;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Where a piece of work runs.
#[derive(Debug, Clone, Copy)]
enum On {
    /// A plain thread, no runtime anywhere.
    PlainThread,
    /// The thread driving a current-thread runtime (`block_on`'s future).
    CurrentThread,
    /// A task spawned on a current-thread runtime.
    CurrentThreadTask,
    /// A task on a multi-thread runtime's worker.
    Worker,
    /// `spawn_blocking` of a current-thread runtime.
    BlockingOfCurrentThread,
    /// `spawn_blocking` of a multi-thread runtime.
    BlockingOfMultiThread,
}

const EVERYWHERE: [On; 6] = [
    On::PlainThread,
    On::CurrentThread,
    On::CurrentThreadTask,
    On::Worker,
    On::BlockingOfCurrentThread,
    On::BlockingOfMultiThread,
];

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("current-thread runtime")
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(RUNTIME_THREADS)
        .build()
        .expect("runtime")
}

/// The name of the multi-thread runtimes' threads.
const RUNTIME_THREADS: &str = "orm-test-runtime";

/// How many panics happened on this file's runtime threads. tokio catches a panic of a task
/// it drops while shutting down (and prints it), so the test counts them itself: a hook that
/// counts the panics of threads named [`RUNTIME_THREADS`], then hands every panic on to the
/// hook that was there before.
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

/// Runs `work` where `on` says and returns what it returns.
fn run_on<T: Send + 'static>(on: On, work: impl FnOnce() -> T + Send + 'static) -> T {
    match on {
        On::PlainThread => std::thread::spawn(work).join().expect("plain thread"),
        On::CurrentThread => current_thread().block_on(async move { work() }),
        On::CurrentThreadTask => current_thread()
            .block_on(async move { tokio::spawn(async move { work() }).await })
            .expect("task"),
        On::Worker => multi_thread()
            .block_on(async move { tokio::spawn(async move { work() }).await })
            .expect("task"),
        On::BlockingOfCurrentThread => current_thread()
            .block_on(async move { tokio::task::spawn_blocking(work).await })
            .expect("blocking task"),
        On::BlockingOfMultiThread => multi_thread()
            .block_on(async move { tokio::task::spawn_blocking(work).await })
            .expect("blocking task"),
    }
}

/// The connection's server process id.
fn pid(conn: &mut PgConnection) -> i32 {
    one::<i32>(conn, "SELECT pg_backend_pid()", &[]).expect("pid")
}

/// Whether the server still has a backend with process id `pid`, asked on a connection of
/// its own; waits up to 10 s for it to be gone when `until_gone` (a backend exits a moment
/// after its client closed the socket).
fn backend_alive(observer: &mut PgConnection, pid: i32, until_gone: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = one::<i64>(
            observer,
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
            &[Value::Int(i64::from(pid))],
        )
        .expect("pg_stat_activity");
        if n == 0 || !until_gone || Instant::now() >= deadline {
            return n > 0;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn statements_and_streamed_rows_work_on_every_kind_of_thread() {
    let schema = TestSchema::create().expect("test schema");
    let url = schema.url().to_owned();
    let mut setup = connector(&schema).open().expect("connect");
    setup.execute_batch("CREATE TABLE t (id INT PRIMARY KEY, name TEXT NOT NULL)").expect("DDL");
    for on in EVERYWHERE {
        let url = url.clone();
        let r: Result<(), String> = run_on(on, move || {
            let fail = |what: &str, e: Error| format!("{on:?}: {what}: {e}");
            // Connecting blocks on the driver's runtime too.
            let mut conn = orm_postgres::PgConnector::from_url(&url)
                .and_then(|c| c.open())
                .map_err(|e| fail("connect", e))?;
            conn.execute_batch("BEGIN").map_err(|e| fail("BEGIN", e))?;
            let n = conn
                .execute("INSERT INTO t SELECT i, 'n' || i FROM generate_series(1, 200) i", &[])
                .map_err(|e| fail("insert", e))?;
            assert_eq!(n, 200, "{on:?}");
            // More rows than a helper thread reads ahead, each seen once and in order.
            let ids = rows(&mut conn, "SELECT id, name FROM t ORDER BY id", &[])
                .map_err(|e| fail("select", e))?;
            let expected: Vec<Vec<Value>> =
                (1..=200).map(|i| vec![Value::Int(i), Value::Text(format!("n{i}"))]).collect();
            assert_eq!(ids, expected, "{on:?}");
            // A callback's error stops the read; the connection goes on.
            let mut seen = 0;
            let e = conn
                .query("SELECT id FROM t ORDER BY id", &[], &mut |_| {
                    seen += 1;
                    if seen == 3 {
                        return Err(Error::InvalidUse("enough".into()));
                    }
                    Ok(())
                })
                .expect_err("the callback's error");
            assert!(matches!(&e, Error::InvalidUse(m) if m == "enough"), "{on:?}: {e:?}");
            assert_eq!(seen, 3, "{on:?}: no row after the failed one reaches the callback");
            // The statement failing further on wins over the callback's earlier error: it has
            // aborted the transaction, which a COMMIT would silently roll back.
            let e = conn
                .query(
                    "SELECT CASE WHEN id < 150 THEN id ELSE id / (id - id) END FROM t ORDER BY id",
                    &[],
                    &mut |_| Err(Error::InvalidUse("callback".into())),
                )
                .expect_err("division by zero");
            assert!(
                matches!(&e, Error::Database { code: Some(c), .. } if c == "22012"),
                "{on:?}: {e:?}"
            );
            conn.execute_batch("ROLLBACK").map_err(|e| fail("ROLLBACK", e))?;
            // A constraint violation is the typed error, as anywhere.
            conn.execute("INSERT INTO t VALUES (1, 'a')", &[]).map_err(|e| fail("insert", e))?;
            let e = conn.execute("INSERT INTO t VALUES (1, 'b')", &[]).expect_err("duplicate");
            assert!(matches!(e, Error::UniqueViolation(_)), "{on:?}: {e:?}");
            conn.execute("DELETE FROM t", &[]).map_err(|e| fail("delete", e))?;
            assert!(conn.is_valid(), "{on:?}: the connection answers a ping");
            assert!(!conn.is_broken(), "{on:?}");
            Ok(())
        });
        r.unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_connection_dropped_on_any_kind_of_thread_is_closed_on_the_server() {
    let mut observer = db();
    for on in EVERYWHERE {
        let mut conn = connector(&observer.schema).open().expect("connect");
        let pid = pid(&mut conn);
        assert!(backend_alive(&mut observer.conn, pid, false), "{on:?}: open before the drop");
        run_on(on, move || drop(conn));
        assert!(
            !backend_alive(&mut observer.conn, pid, true),
            "{on:?}: backend {pid} still there after the connection was dropped"
        );
    }
}

#[test]
fn a_connection_inside_a_runtime_that_shuts_down_is_closed_on_the_server() {
    let mut observer = db();
    for (flavor, rt) in [("current-thread", current_thread()), ("multi-thread", multi_thread())] {
        let mut conn = connector(&observer.schema).open().expect("connect");
        let pid = pid(&mut conn);
        let panics = runtime_thread_panics();
        // A task that owns the connection and never ends (a server's state): the runtime's
        // shutdown drops it, on a worker thread of a multi-thread runtime.
        let (started, running) = std::sync::mpsc::channel();
        rt.spawn(async move {
            let _conn = conn;
            let _ = started.send(());
            std::future::pending::<()>().await;
        });
        // Until it has run (a current-thread runtime runs tasks only inside `block_on`).
        rt.block_on(async {
            while running.try_recv().is_err() {
                tokio::task::yield_now().await;
            }
        });
        drop(rt);
        assert_eq!(runtime_thread_panics(), panics, "{flavor}: a panic while shutting down");
        assert!(
            !backend_alive(&mut observer.conn, pid, true),
            "{flavor}: backend {pid} still there after the runtime shut down"
        );
    }
}

#[test]
fn raw_client_is_still_reachable() {
    let mut d = db();
    let client = d.conn.raw().expect("the client");
    let row = client.query_one("SELECT 41 + 1", &[]).expect("query");
    assert_eq!(row.get::<_, i32>(0), 42);
    let mut raw = d.conn.into_raw().expect("the client, unwrapped");
    assert_eq!(raw.query_one("SELECT 7", &[]).expect("query").get::<_, i32>(0), 7);
}
