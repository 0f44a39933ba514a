//! Reliability under faults, each bounded to a few seconds: a server restarted under a live
//! pool, a backend terminated while idle, a connection killed under a COMMIT (all or nothing,
//! and an error that says the outcome is unknown), and 64 threads on a pool of 8 on each
//! backend with exact row accounting afterwards. (Pool timeouts as typed errors: `tests/pool.rs`.)
//!
//! The restart and kill tests run on a PostgreSQL cluster of their own
//! (`orm_postgres::test_server::TestCluster`), never on the shared test server.

mod common;

use orm::prelude::*;
use orm_postgres::test_server::{TestCluster, TestSchema};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A row written by one worker.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "events")]
pub struct Event {
    /// The key.
    #[orm(primary_key)]
    pub id: i64,
    /// Which thread (or round) wrote it.
    pub worker: i64,
    /// The thread's counter.
    pub seq: i64,
}

fn event(worker: i64, seq: i64) -> Event {
    Event { worker, seq, ..Default::default() }
}

fn count(db: &Database) -> i64 {
    i64::try_from(db.session().query::<Event>().count().expect("count")).unwrap_or(-1)
}

/// Opens `n` connections at once (each session holds one inside its transaction), then gives
/// them all back: the pool then holds `n` idle connections.
fn fill_pool(db: &Database, n: usize) {
    let mut sessions: Vec<Session> = (0..n).map(|_| db.session()).collect();
    for s in &mut sessions {
        let _: i64 = s.sql("SELECT 1").one::<(i64,)>().expect("select 1").0;
        s.execute_ddl("SELECT 1").expect("hold the connection");
    }
    for mut s in sessions {
        s.commit().expect("commit");
    }
}

fn backend_pids(db: &Database) -> i64 {
    let mut s = db.session();
    let (n,): (i64,) = s
        .sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orm reliability'")
        .one()
        .expect("pg_stat_activity");
    n
}

#[test]
fn a_restarted_server_with_pre_ping_is_invisible_to_every_later_session() {
    let cluster = TestCluster::start_new().expect("a PostgreSQL cluster of its own");
    let url = format!(
        "{}?pool_size=4&max_overflow=0&pool_pre_ping=true&application_name=orm%20reliability",
        cluster.url()
    );
    let db = Database::connect(&url).expect("connect");
    db.create_tables(&[Event::TABLE]).expect("tables");
    fill_pool(&db, 4);
    cluster.restart().expect("restart");
    // Every one of the four idle connections is dead; not one session may see it.
    for i in 0..20 {
        let mut s = db.session();
        s.add(event(0, i));
        s.commit().unwrap_or_else(|e| panic!("session {i} after the restart: {e}"));
    }
    assert_eq!(count(&db), 20);
    assert!(backend_pids(&db) <= 4, "no more connections than the pool's size");
}

#[test]
fn without_pre_ping_one_statement_fails_typed_and_every_session_after_it_succeeds() {
    let cluster = TestCluster::start_new().expect("a PostgreSQL cluster of its own");
    let url =
        format!("{}?pool_size=4&max_overflow=0&application_name=orm%20reliability", cluster.url());
    let db = Database::connect(&url).expect("connect");
    db.create_tables(&[Event::TABLE]).expect("tables");
    fill_pool(&db, 4);
    cluster.restart().expect("restart");
    // The first use of a dead connection fails, as a typed connection error (its BEGIN: a
    // commit of one statement, sent alone, would say CommitOutcomeUnknown, see
    // `tests/write_round_trips.rs`)...
    let mut first = db.session();
    first.add_all([event(0, 0), event(0, -1)]);
    let err = first.commit().unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    drop(first);
    // ...and it ends the generation: the other three dead connections are never handed out.
    for i in 1..=20 {
        let mut s = db.session();
        s.add(event(0, i));
        s.commit().unwrap_or_else(|e| panic!("session {i} after the first failure: {e}"));
    }
    assert_eq!(count(&db), 20, "the failed session's row was not written");
}

#[test]
fn a_terminated_idle_backend_is_replaced() {
    let cluster = TestCluster::start_new().expect("a PostgreSQL cluster of its own");
    let url =
        format!("{}?pool_size=1&max_overflow=0&application_name=orm%20reliability", cluster.url());
    let db = Database::connect(&url).expect("connect");
    db.create_tables(&[Event::TABLE]).expect("tables");
    let admin = Database::connect(&cluster.url()).expect("admin");
    let killed: i64 = admin
        .session()
        .sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = 'orm reliability'",
        )
        .one::<(i64,)>()
        .expect("terminate")
        .0;
    assert_eq!(killed, 1);
    std::thread::sleep(Duration::from_millis(100));
    let err = db.session().query::<Event>().count().unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    // Before this fix, every later session failed with `connection closed`, forever.
    for _ in 0..5 {
        assert_eq!(db.session().query::<Event>().count().expect("a new connection"), 0);
    }
}

#[test]
fn a_connection_killed_under_commit_is_all_or_nothing_and_says_the_outcome_is_unknown() {
    let cluster = TestCluster::start_new().expect("a PostgreSQL cluster of its own");
    let db = Database::connect(&format!("{}?pool_size=2&pool_pre_ping=true", cluster.url()))
        .expect("connect");
    db.create_tables(&[Event::TABLE]).expect("tables");
    let admin = Database::connect(&cluster.url()).expect("admin");
    let kill = |pid: i32| {
        let _ = admin
            .session()
            .sql("SELECT pg_terminate_backend(:pid)")
            .bind("pid", pid)
            .one::<(bool,)>();
    };

    // Killed before COMMIT is sent: nothing is written, and the error says it may have been.
    let mut s = db.session();
    s.add_all((0..100).map(|i| event(1, i)));
    s.flush().expect("flush");
    let (pid,): (i32,) = s.sql("SELECT pg_backend_pid()").one().expect("pid");
    kill(pid);
    std::thread::sleep(Duration::from_millis(100));
    let err = s.commit().unwrap_err();
    assert!(matches!(err, Error::CommitOutcomeUnknown(_)), "{err:?}");
    assert_eq!(count(&db), 0);
    // The session is usable again, on a new connection.
    s.add(event(1, 1000));
    s.commit().expect("the session works again");
    assert_eq!(count(&db), 1);

    // Killed at a random moment around the COMMIT, 30 times: each batch of 50 rows is in the
    // database whole or not at all, and is there whenever commit said Ok. (A kill that lands
    // after the COMMIT kills a pooled, idle connection: the checker pings before each use.)
    let checker =
        Database::connect(&format!("{}?pool_pre_ping=true", cluster.url())).expect("checker");
    let (mut ok, mut unknown, mut failed) = (0, 0, 0);
    for round in 2..32_i64 {
        let mut s = db.session();
        s.add_all((0..50).map(|i| event(round, i)));
        s.flush().expect("flush");
        let (pid,): (i32,) = s.sql("SELECT pg_backend_pid()").one().expect("pid");
        let delay = Duration::from_micros(u64::try_from(round).unwrap_or(0) * 97 % 1500);
        let killer = {
            let admin = admin.clone();
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let _ = admin
                    .session()
                    .sql("SELECT pg_terminate_backend(:pid)")
                    .bind("pid", pid)
                    .one::<(bool,)>();
            })
        };
        let r = s.commit();
        killer.join().expect("killer");
        let (n,): (i64,) = checker
            .session()
            .sql("SELECT count(*) FROM events WHERE worker = :w")
            .bind("w", round)
            .one()
            .expect("count");
        assert!(n == 0 || n == 50, "round {round}: {n} of 50 rows: not all or nothing");
        match r {
            Ok(()) => {
                ok += 1;
                assert_eq!(n, 50, "round {round}: commit said Ok");
            }
            Err(Error::CommitOutcomeUnknown(_)) => unknown += 1,
            Err(e) => {
                failed += 1;
                assert_eq!(n, 0, "round {round}: commit failed ({e}) yet rows are there");
            }
        }
    }
    eprintln!("kill around COMMIT: {ok} committed, {unknown} unknown outcome, {failed} failed");
}

/// 64 threads on a pool of 8 for about two seconds: every thread commits rows (and rolls some
/// back on purpose); afterwards the table holds exactly the committed ones, and no connection
/// is left behind.
fn sixty_four_threads_on_eight_connections(name: &str, db: &Database) {
    let committed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(2);
    let threads: Vec<_> = (0..64_i64)
        .map(|worker| {
            let db = db.clone();
            let committed = committed.clone();
            std::thread::spawn(move || {
                let mut mine = 0_i64;
                let mut seq = 0_i64;
                while Instant::now() < deadline {
                    seq += 1;
                    let mut s = db.session();
                    s.add(event(worker, seq));
                    s.add(event(worker, -seq));
                    if seq % 5 == 0 {
                        s.flush().expect("flush");
                        s.rollback().expect("rollback");
                        continue;
                    }
                    match s.commit() {
                        Ok(()) => mine += 2,
                        Err(e) => panic!("worker {worker}: {e}"),
                    }
                }
                committed.fetch_add(u64::try_from(mine).unwrap_or(0), Ordering::Relaxed);
                mine
            })
        })
        .collect();
    let per_worker: Vec<i64> = threads.into_iter().map(|t| t.join().expect("worker")).collect();
    let total = committed.load(Ordering::Relaxed);
    assert!(total > 64, "{name}: only {total} rows committed in two seconds");
    assert_eq!(count(db), i64::try_from(total).unwrap_or(-1), "{name}: rows in the table");
    let mut s = db.session();
    for (worker, expected) in per_worker.iter().enumerate() {
        let (n,): (i64,) = s
            .sql("SELECT count(*) FROM events WHERE worker = :w")
            .bind("w", i64::try_from(worker).unwrap_or(-1))
            .one()
            .expect("count");
        assert_eq!(n, *expected, "{name}: worker {worker}");
    }
    eprintln!("{name}: 64 threads x 2 s on 8 connections: {total} rows committed, all accounted");
}

#[test]
fn sixty_four_threads_on_a_pool_of_eight_sqlite() {
    let dir = std::env::temp_dir().join(format!("orm-reliability-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("load.db");
    let _ = std::fs::remove_file(&path);
    let db =
        Database::connect(&format!("sqlite://{}?pool_size=8", path.display())).expect("connect");
    db.create_tables(&[Event::TABLE]).expect("tables");
    sixty_four_threads_on_eight_connections("sqlite", &db);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sixty_four_threads_on_a_pool_of_eight_postgresql() {
    let schema = TestSchema::create().expect("test schema");
    let url = format!(
        "{}&pool_size=8&max_overflow=0&application_name=orm%20reliability%20load",
        schema.url()
    );
    let db = Database::connect(&url).expect("connect");
    db.create_tables(&[Event::TABLE]).expect("tables");
    sixty_four_threads_on_eight_connections("postgresql", &db);
    let watcher = Database::connect(schema.url()).expect("watcher");
    let open = || -> i64 {
        watcher
            .session()
            .sql(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = 'orm reliability load'",
            )
            .one::<(i64,)>()
            .expect("pg_stat_activity")
            .0
    };
    let during = open();
    assert!(during <= 8, "{during} connections for a pool of 8");
    drop(db);
    // Closing is asynchronous on the server side: give it a moment.
    let mut left = open();
    for _ in 0..50 {
        if left == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        left = open();
    }
    assert_eq!(left, 0, "connections left open after the database was dropped");
}
