//! Reads hand rows over one at a time, and eager loading keeps a good plan.
//!
//! - A query's rows reach the callback as the driver receives them (PostgreSQL no longer
//!   collects the whole result first), an error from the callback stops the query, and the
//!   connection is usable afterwards, inside a transaction and outside; a statement that fails
//!   after the callback stopped still reports its failure (PostgreSQL has then aborted the
//!   transaction, and a later COMMIT would silently roll back).
//! - Selectin loading sends no ORDER BY (on PostgreSQL one made the cached statement's generic
//!   plan filter each row against the whole key array) and orders each parent's targets by
//!   their primary key in Rust, as the ORDER BY did.

#![allow(missing_docs)] // test models, not a public API

mod common;

use common::{backend_tests, Backend, TempDir};
use orm::prelude::*;
use orm::testing::StatementLog;
use orm::{Connection, Error};

backend_tests! {
    a_callback_error_stops_the_query_and_the_connection_goes_on,
    a_decode_error_on_row_500_leaves_the_session_usable,
    selectin_sends_no_order_by_and_orders_targets_by_key,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "ps_shelves")]
pub struct Shelf {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(has_many(foreign_key = shelf_id))]
    pub volumes: Related<Vec<Volume>>,
    #[orm(many_to_many(through = "ps_shelf_labels", local = shelf_id, remote = label_code))]
    pub labels: Related<Vec<Label>>,
    #[orm(has_many(foreign_key = shelf_id))]
    pub slots: Related<Vec<Slot>>,
}

/// A child with a text key, so that neither backend returns rows in key order by itself: rows
/// come in the order they were stored (SQLite's rowid, PostgreSQL's heap) or by the parent's
/// index, never sorted by `code`.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "ps_volumes")]
pub struct Volume {
    #[orm(primary_key, max_length = 20)]
    pub code: String,
    #[orm(references = Shelf, index)]
    pub shelf_id: i64,
    pub title: String,
}

/// A child with a composite key: ordered by its first column, then its second.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "ps_slots")]
pub struct Slot {
    #[orm(primary_key)]
    pub row: i64,
    #[orm(primary_key, max_length = 20)]
    pub place: String,
    #[orm(references = Shelf, index)]
    pub shelf_id: i64,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "ps_labels")]
pub struct Label {
    #[orm(primary_key, max_length = 20)]
    pub code: String,
}

/// Diesel's benchmark shape: the children's foreign key has no index, so the key array is
/// tested against every row of the table.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "ps_threads")]
pub struct Thread {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    #[orm(has_many(foreign_key = thread_id))]
    pub replies: Related<Vec<Reply>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "ps_replies")]
pub struct Reply {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Thread)]
    pub thread_id: i64,
    pub body: String,
}

#[derive(FromRow, Debug, PartialEq)]
struct Numbered {
    i: i64,
    v: i64,
}

/// The numbers 1 to 1,000 in order, on both backends (`i`; `v` is `i` except NULL on row 500).
const NUMBERS: &str =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) \
                       SELECT i, CASE WHEN i = 500 THEN NULL ELSE i END AS v FROM n";

/// Opens connections to one database of `backend`, with a `ps_marks` table; what it returns
/// keeps the database alive.
fn connections(backend: Backend) -> (impl Fn() -> Box<dyn Connection>, Box<dyn std::any::Any>) {
    let (connector, keep): (Box<dyn orm::Connector>, Box<dyn std::any::Any>) = match backend {
        Backend::Sqlite => {
            let dir = TempDir::new("pg-streaming");
            let url = format!("sqlite://{}", dir.join("db.sqlite").display());
            (orm_sqlite::connector(&url).expect("SQLite connector"), Box::new(dir))
        }
        Backend::Postgres => {
            let schema = orm::testing::postgres_server::TestSchema::create()
                .unwrap_or_else(|e| panic!("PostgreSQL test server: {e}"));
            (orm_postgres::connector(schema.url()).expect("PostgreSQL connector"), Box::new(schema))
        }
    };
    let connect = move || connector.connect().expect("connect");
    connect().execute_batch("CREATE TABLE ps_marks (n INTEGER NOT NULL)").expect("create");
    (connect, keep)
}

/// Every `i` of [`NUMBERS`], read through `conn`.
fn numbers(conn: &mut dyn Connection) -> Vec<i64> {
    let mut out = Vec::new();
    conn.query(NUMBERS, &[], &mut |row| {
        out.push(orm::connection::decode_at::<i64>(row, 0, "i")?);
        Ok(())
    })
    .expect("numbers");
    out
}

fn marks(conn: &mut dyn Connection) -> i64 {
    let mut n = -1;
    conn.query("SELECT COUNT(*) FROM ps_marks", &[], &mut |row| {
        n = orm::connection::decode_at::<i64>(row, 0, "count")?;
        Ok(())
    })
    .expect("count marks");
    n
}

/// The callback fails on row 500 of 1,000: it is not called again, its error is returned, and
/// the connection answers the next statement (the rest of the rows are not mistaken for its
/// answer); inside a transaction, the transaction is intact and commits.
fn a_callback_error_stops_the_query_and_the_connection_goes_on(backend: Backend) {
    let (connect, _keep) = connections(backend);
    let mut conn = connect();
    let all: Vec<i64> = (1..=1000).collect();
    assert_eq!(numbers(&mut *conn), all, "{backend}: the query itself");

    for in_tx in [false, true] {
        if in_tx {
            conn.execute_batch("BEGIN").expect("begin");
            conn.execute("INSERT INTO ps_marks (n) VALUES (1)", &[]).expect("insert");
        }
        let mut calls = 0;
        let r = conn.query(NUMBERS, &[], &mut |row| {
            calls += 1;
            let i = orm::connection::decode_at::<i64>(row, 0, "i")?;
            if i == 500 {
                return Err(Error::Decode {
                    column: "i".into(),
                    expected: "a number other than 500",
                    got: i.to_string(),
                });
            }
            Ok(())
        });
        match r {
            Err(Error::Decode { column, got, .. }) => {
                assert_eq!((column.as_str(), got.as_str()), ("i", "500"), "{backend}")
            }
            other => panic!("{backend}, in a transaction: {in_tx}: {other:?}"),
        }
        assert_eq!(calls, 500, "{backend}: no call after the failing one");
        assert_eq!(numbers(&mut *conn), all, "{backend}, in a transaction: {in_tx}: next query");
        if in_tx {
            assert_eq!(marks(&mut *conn), 1, "{backend}: the transaction's own write");
            conn.execute_batch("COMMIT").expect("commit");
            assert_eq!(marks(&mut *connect()), 1, "{backend}: committed, seen by another");
        }
    }
    assert!(conn.is_valid(), "{backend}");
}

/// Through a session: `v` is NULL on row 500, so mapping rows into a struct whose `v` is not
/// optional fails there; the session then reads again, and inside a transaction still commits
/// its work.
fn a_decode_error_on_row_500_leaves_the_session_usable(backend: Backend) {
    let db = backend.database(&[Shelf::TABLE]);
    let mut s = db.session();
    for in_tx in [false, true] {
        if in_tx {
            s.add(Shelf { id: 7, name: "kept".into(), ..Default::default() });
            s.flush().expect("flush: the session is in a transaction now");
        }
        let r = s.sql(NUMBERS).all::<Numbered>();
        assert!(
            matches!(r, Err(Error::Decode { .. })),
            "{backend}, in a transaction: {in_tx}: {r:?}"
        );
        let rows = s.sql(&NUMBERS.replace("NULL", "0")).all::<Numbered>().expect("next query");
        assert_eq!(rows.len(), 1000, "{backend}");
        assert_eq!(rows[499], Numbered { i: 500, v: 0 }, "{backend}");
        assert_eq!(rows[999], Numbered { i: 1000, v: 1000 }, "{backend}");
    }
    s.commit().expect("commit");
    let shelf = db.session().get::<Shelf>(7).expect("get");
    assert_eq!(shelf.map(|s| s.name), Some("kept".to_owned()), "{backend}: committed");
}

fn selectin_tables() -> Vec<&'static orm::TableSchema> {
    let through = orm::registered_tables()
        .into_iter()
        .find(|t| t.name == "ps_shelf_labels")
        .expect("the association table registers itself");
    vec![Shelf::TABLE, Volume::TABLE, Slot::TABLE, Label::TABLE, through]
}

/// The selectin statement has no ORDER BY (exact SQL per dialect), and each parent's targets
/// still come in primary-key order although they were stored out of it: a has_many whose
/// targets two parents interleave, and a many-to-many sharing a target.
fn selectin_sends_no_order_by_and_orders_targets_by_key(backend: Backend) {
    let db = backend.database(&selectin_tables());
    let mut s = db.session();
    for (id, name) in [(1, "one"), (2, "two")] {
        s.sql("INSERT INTO ps_shelves (id, name) VALUES (:id, :name)")
            .bind("id", id)
            .bind("name", name)
            .execute()
            .expect("shelf");
    }
    // One statement per row, in this order: storage order is not key order.
    for (code, shelf) in [("m", 1), ("c", 2), ("x", 1), ("a", 1), ("q", 2), ("B", 2)] {
        s.sql("INSERT INTO ps_volumes (code, shelf_id, title) VALUES (:code, :shelf, :title)")
            .bind("code", code)
            .bind("shelf", shelf)
            .bind("title", format!("volume {code}"))
            .execute()
            .expect("volume");
    }
    for (row, place) in [(2, "a"), (1, "b"), (10, "a"), (1, "a"), (2, "B")] {
        s.sql("INSERT INTO ps_slots (row, place, shelf_id) VALUES (:row, :place, 1)")
            .bind("row", row)
            .bind("place", place)
            .execute()
            .expect("slot");
    }
    for code in ["z", "d", "k", "a"] {
        s.sql("INSERT INTO ps_labels (code) VALUES (:code)")
            .bind("code", code)
            .execute()
            .expect("label");
    }
    for (shelf, code) in [(1, "z"), (2, "k"), (1, "d"), (1, "k"), (2, "a")] {
        s.sql("INSERT INTO ps_shelf_labels (shelf_id, label_code) VALUES (:shelf, :code)")
            .bind("shelf", shelf)
            .bind("code", code)
            .execute()
            .expect("link");
    }
    s.commit().expect("seed");

    let log = StatementLog::attach(&db);
    let mut s = db.session();
    let shelves = s
        .query::<Shelf>()
        .order_by(Shelf::id.asc())
        .load(Shelf::volumes)
        .load(Shelf::labels)
        .load(Shelf::slots)
        .all()
        .expect("load");
    fn codes(v: &[Volume]) -> Vec<&str> {
        v.iter().map(|v| v.code.as_str()).collect()
    }
    fn labels(v: &[Label]) -> Vec<&str> {
        v.iter().map(|l| l.code.as_str()).collect()
    }
    assert_eq!(codes(shelves[0].volumes.get().expect("loaded")), ["a", "m", "x"], "{backend}");
    // Byte order on both backends: "B" sorts before "c" and "q".
    assert_eq!(codes(shelves[1].volumes.get().expect("loaded")), ["B", "c", "q"], "{backend}");
    assert_eq!(labels(shelves[0].labels.get().expect("loaded")), ["d", "k", "z"], "{backend}");
    assert_eq!(labels(shelves[1].labels.get().expect("loaded")), ["a", "k"], "{backend}");

    let slots: Vec<(i64, &str)> =
        shelves[0].slots.get().expect("loaded").iter().map(|s| (s.row, s.place.as_str())).collect();
    // By the first key column as a number (10 after 2), then the second ("B" before "a").
    assert_eq!(slots, [(1, "a"), (1, "b"), (2, "B"), (2, "a"), (10, "a")], "{backend}");
    assert_eq!(shelves[1].slots.get().map(Vec::len).ok(), Some(0), "{backend}");

    let q = log.queries();
    assert_eq!(q.len(), 4, "{backend}: {q:#?}");
    let (volumes_sql, labels_sql) = match backend {
        Backend::Sqlite => (
            r#"SELECT "ps_volumes"."code", "ps_volumes"."shelf_id", "ps_volumes"."title" FROM "ps_volumes" WHERE "ps_volumes"."shelf_id" IN (?1, ?2)"#,
            r#"SELECT "ps_labels"."code", "ps_shelf_labels"."shelf_id" FROM "ps_labels" JOIN "ps_shelf_labels" ON "ps_shelf_labels"."label_code" = "ps_labels"."code" WHERE "ps_shelf_labels"."shelf_id" IN (?1, ?2)"#,
        ),
        Backend::Postgres => (
            r#"SELECT "ps_volumes"."code", "ps_volumes"."shelf_id", "ps_volumes"."title" FROM "ps_volumes" WHERE "ps_volumes"."shelf_id" = ANY($1)"#,
            r#"SELECT "ps_labels"."code", "ps_shelf_labels"."shelf_id" FROM "ps_labels" JOIN "ps_shelf_labels" ON "ps_shelf_labels"."label_code" = "ps_labels"."code" WHERE "ps_shelf_labels"."shelf_id" = ANY($1)"#,
        ),
    };
    assert_eq!(q[1], volumes_sql, "{backend}");
    assert_eq!(q[2], labels_sql, "{backend}");
}

/// PostgreSQL hands rows over as they arrive: when the statement fails on its last row, the
/// callback has already seen the 999 before it (a driver that collects the result first
/// reports the failure before any row).
#[test]
fn postgres_rows_reach_the_callback_before_the_statement_ends() {
    let (connect, _keep) = connections(Backend::Postgres);
    let mut conn = connect();
    let mut seen = Vec::new();
    let r = conn.query(
        "SELECT i, 1 / (1000 - i) FROM generate_series(1, 1000) AS i",
        &[],
        &mut |row| {
            seen.push(orm::connection::decode_at::<i64>(row, 0, "i")?);
            Ok(())
        },
    );
    match r {
        Err(Error::Database { code, .. }) => assert_eq!(code.as_deref(), Some("22012")),
        other => panic!("division by zero on row 1000: {other:?}"),
    }
    assert_eq!(seen.len(), 999, "every row before the failing one");
    assert!(seen.iter().copied().eq(1..1000), "in order");
    assert_eq!(numbers(&mut *conn).len(), 1000, "usable after the failure");
}

/// The callback stops on row 500, and the statement fails on the server at row 800: that
/// failure is what the caller gets, since it aborted the transaction (a COMMIT would now roll
/// back without an error). Through a session, the commit then fails instead of reporting
/// success.
#[test]
fn postgres_a_statement_failing_after_the_callback_stopped_reports_its_failure() {
    let failing = "SELECT i, 1 / (800 - i) FROM generate_series(1, 1000) AS i";
    let (connect, _keep) = connections(Backend::Postgres);
    let mut conn = connect();
    conn.execute_batch("BEGIN").expect("begin");
    conn.execute("INSERT INTO ps_marks (n) VALUES (1)", &[]).expect("insert");
    let mut calls = 0;
    let r = conn.query(failing, &[], &mut |_| {
        calls += 1;
        if calls == 500 {
            return Err(Error::InvalidUse("stop at 500".into()));
        }
        Ok(())
    });
    match r {
        Err(Error::Database { code, .. }) => assert_eq!(code.as_deref(), Some("22012")),
        other => panic!("the statement's own failure: {other:?}"),
    }
    assert_eq!(calls, 500);
    conn.execute_batch("ROLLBACK").expect("rollback");
    assert_eq!(numbers(&mut *conn).len(), 1000, "usable after the rollback");

    let db = orm::testing::postgres_database_with(&[Shelf::TABLE]).expect("PostgreSQL test server");
    let mut s = db.session();
    s.add(Shelf { id: 1, name: "lost".into(), ..Default::default() });
    s.flush().expect("flush");
    // `v` is NULL on row 500 (a decode error), and the server fails on row 800.
    let r = s
        .sql("SELECT i, NULLIF(i, 500) + 1 / (800 - i) AS v FROM generate_series(1, 1000) AS i")
        .all::<Numbered>();
    assert!(matches!(r, Err(Error::Database { .. })), "the statement's failure: {r:?}");
    let r = s.sql("SELECT 1 AS i, 2 AS v").all::<Numbered>();
    assert!(matches!(r, Err(Error::TransactionAborted(_))), "the transaction is aborted: {r:?}");
    assert!(s.commit().is_err(), "commit must not report success");
    s.rollback().expect("rollback");
    assert_eq!(db.session().get::<Shelf>(1).expect("get"), None);
}

/// Selectin keeps a good plan on PostgreSQL when its statement is cached: after the sixth
/// execution the server may switch a prepared statement to a generic plan, made without the
/// key array at hand. With the former `ORDER BY`, that plan (a table without an index on the
/// foreign key, as in Diesel's benchmark) sorted the table and tested every row against the
/// whole array, one element at a time (19.3 ms instead of 0.68 ms for 1,000 keys). The check
/// reads the plan, never a time: every `= ANY` in it must be an index lookup or run against
/// the constant array of a plan made for these keys (which PostgreSQL hashes), never a filter
/// against the parameter.
#[test]
fn postgres_selectin_keeps_a_plan_for_the_keys_at_hand() {
    let schema =
        orm::testing::postgres_server::TestSchema::create().expect("PostgreSQL test server");
    let db = Database::connect(schema.url()).expect("connect");
    db.create_tables(&[Thread::TABLE, Reply::TABLE]).expect("tables");
    let mut s = db.session();
    s.sql("INSERT INTO ps_threads (id, title) SELECT i, 'thread ' || i FROM generate_series(1, 1000) AS i")
        .execute()
        .expect("threads");
    // Ten replies per thread, stored out of key order within each thread.
    s.sql(
        "INSERT INTO ps_replies (id, thread_id, body) \
         SELECT 10 * t + 10 - r, t + 1, 'reply' FROM generate_series(0, 999) AS t, \
         generate_series(0, 9) AS r ORDER BY t, r",
    )
    .execute()
    .expect("replies");
    s.sql("ANALYZE ps_threads").execute().expect("analyze");
    s.sql("ANALYZE ps_replies").execute().expect("analyze");
    s.commit().expect("seed");

    let log = StatementLog::attach(&db);
    for _ in 0..10 {
        let threads = db.session().query::<Thread>().load(Thread::replies).all().expect("load");
        assert_eq!(threads.len(), 1000);
        for t in &threads {
            let ids: Vec<i64> = t.replies.get().expect("loaded").iter().map(|r| r.id).collect();
            assert_eq!(ids, (10 * t.id - 9..=10 * t.id).collect::<Vec<_>>(), "thread {}", t.id);
        }
    }
    let q = log.queries();
    assert_eq!(q.len(), 20, "{q:#?}");
    let selectin = &q[1];
    assert_eq!(
        selectin,
        r#"SELECT "ps_replies"."id", "ps_replies"."thread_id", "ps_replies"."body" FROM "ps_replies" WHERE "ps_replies"."thread_id" = ANY($1)"#
    );
    assert!(q.iter().skip(1).step_by(2).all(|x| x == selectin), "one statement, cached: {q:#?}");

    // The same statement, prepared and run as the ORM's cached one is, then its plan.
    let mut client =
        orm::postgres::Client::connect(schema.url(), orm::postgres::NoTls).expect("client");
    client.batch_execute(&format!("PREPARE selectin AS {selectin}")).expect("prepare");
    let keys =
        format!("'{{{}}}'", (1..=1000).map(|k: i64| k.to_string()).collect::<Vec<_>>().join(","));
    for _ in 0..6 {
        let n = client.query(&format!("EXECUTE selectin({keys})"), &[]).expect("execute").len();
        assert_eq!(n, 10_000);
    }
    let plan: Vec<String> = client
        .query(&format!("EXPLAIN EXECUTE selectin({keys})"), &[])
        .expect("explain")
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    let plan_text = plan.join("\n");
    assert!(plan_text.contains("= ANY"), "{plan_text}");
    for line in plan.iter().filter(|l| l.contains("= ANY")) {
        let indexed = line.trim_start().starts_with("Index Cond:")
            || line.trim_start().starts_with("Recheck Cond:");
        let for_these_keys = line.contains("= ANY ('{");
        assert!(indexed || for_these_keys, "a linear scan of the key array per row:\n{plan_text}");
    }
}
