//! The session's state of a row (its snapshot, kept as encoded bytes) against every column
//! type: an unchanged row is never written back, a changed column is written alone, a rollback
//! gives every column its value back, and `get` answers from the identity map with the same
//! values a read gives; and all of it still holds after commits compacted the buffer the
//! snapshots live in.

mod common;

use common::models::*;
use common::{backend_tests, take, Backend};
use orm::prelude::*;
use orm::testing::StatementLog;
use serde::{Deserialize, Serialize};

backend_tests! {
    a_row_of_every_type_read_and_added_back_unchanged_writes_nothing,
    each_changed_column_is_written_alone,
    a_rollback_gives_every_column_its_value_back,
    get_answers_every_type_from_the_identity_map,
    the_sessions_state_survives_its_buffer_being_compacted,
    a_state_that_does_not_read_back_fails_the_flush_instead_of_writing,
}

/// `AllTypes::sample` with a fixed UUID, long text (a length over one byte's worth) and some
/// NULLs.
fn sample() -> AllTypes {
    AllTypes {
        text: "héllo ✓ ".repeat(30),
        uid: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        doc: serde_json::json!({"b": {"c": 5}, "a": [1, "2", null]}),
        tags: vec!["rust".into(), "".into()],
        o_int: None,
        o_text: None,
        o_day: None,
        o_tags: Some(vec!["x".into()]),
        ..AllTypes::sample()
    }
}

/// A column's name and a change of its value.
type Change = (&'static str, fn(&mut AllTypes));

/// Every value of `sample` changed: what each test changes one at a time or all at once.
fn changes() -> Vec<Change> {
    vec![
        ("small", |r| r.small = 3),
        ("int", |r| r.int = 0),
        ("big", |r| r.big = -1),
        ("float32", |r| r.float32 = -1.5),
        ("float64", |r| r.float64 = 0.125),
        ("flag", |r| r.flag = false),
        ("text", |r| r.text.push('!')),
        ("bytes", |r| r.bytes[3] = 254),
        ("at", |r| r.at += chrono::Duration::microseconds(1)),
        ("naive_at", |r| r.naive_at -= chrono::Duration::days(400)),
        ("day", |r| r.day = r.day.succ_opt().unwrap()),
        ("uid", |r| r.uid = Uuid::from_u128(1)),
        ("prefs", |r| r.prefs.0.notifications = false),
        ("doc", |r| r.doc["b"]["c"] = serde_json::json!(6)),
        ("tags", |r| r.tags.push("new".into())),
        ("numbers", |r| r.numbers[0] = 1),
        ("status", |r| r.status = PostStatus::Published),
        ("o_small", |r| r.o_small = None),
        ("o_int", |r| r.o_int = Some(1)),
        ("o_text", |r| r.o_text = Some(String::new())),
        ("o_day", |r| r.o_day = NaiveDate::from_ymd_opt(2001, 1, 1)),
        ("o_status", |r| r.o_status = None),
    ]
}

fn saved(backend: Backend) -> (Database, AllTypes) {
    let db = backend.database(&all_tables());
    let mut s = db.session();
    let row = s.save(sample()).unwrap();
    s.commit().unwrap();
    (db, row)
}

fn a_row_of_every_type_read_and_added_back_unchanged_writes_nothing(backend: Backend) {
    let (db, row) = saved(backend);
    let mut s = db.session();
    let read = s.query::<AllTypes>().one().unwrap();
    assert_eq!(read, row, "{backend}");
    let log = StatementLog::attach(&db);
    s.add(read);
    s.commit().unwrap();
    assert_eq!(take(&log), Vec::<String>::new(), "{backend}: nothing to write");
}

fn each_changed_column_is_written_alone(backend: Backend) {
    let (db, row) = saved(backend);
    for (column, change) in changes() {
        let mut s = db.session();
        let mut read = s.query::<AllTypes>().one().unwrap();
        change(&mut read);
        let log = StatementLog::attach(&db);
        s.add(read.clone());
        s.commit().unwrap();
        let sql = take(&log);
        assert_eq!(sql.len(), 1, "{backend}, {column}: {sql:?}");
        let set = sql[0].split(" SET ").nth(1).unwrap().split(" WHERE ").next().unwrap();
        assert_eq!(set.matches(" = ").count(), 1, "{backend}, {column}: {}", sql[0]);
        assert!(set.starts_with(&format!("\"{column}\" = ")), "{backend}, {column}: {}", sql[0]);
        let back = db.session().query::<AllTypes>().untracked().one().unwrap();
        assert_eq!(back, read, "{backend}, {column}");
    }
    // Put back as saved: every column differs from the last state, and is written.
    let mut s = db.session();
    let log = StatementLog::attach(&db);
    s.query::<AllTypes>().one().unwrap();
    s.add(row.clone());
    s.commit().unwrap();
    let sql = take(&log);
    assert_eq!(sql.len(), 2, "{backend}: the read and one UPDATE: {sql:?}");
    assert_eq!(db.session().query::<AllTypes>().one().unwrap(), row, "{backend}");
}

fn a_rollback_gives_every_column_its_value_back(backend: Backend) {
    let (db, row) = saved(backend);
    let mut s = db.session();
    let read = s.query::<AllTypes>().one().unwrap();
    let h = s.add(read);
    for (_, change) in changes() {
        change(&mut s[h]);
    }
    s.flush().unwrap();
    assert_ne!(s[h], row, "{backend}");
    s.rollback().unwrap();
    assert_eq!(s[h], row, "{backend}: the held object has the state it was read at");
    assert_eq!(db.session().query::<AllTypes>().one().unwrap(), row, "{backend}");
}

fn get_answers_every_type_from_the_identity_map(backend: Backend) {
    let (db, row) = saved(backend);
    let mut s = db.session();
    s.query::<AllTypes>().all().unwrap();
    let log = StatementLog::attach(&db);
    let got = s.get::<AllTypes>(row.id).unwrap().unwrap();
    assert_eq!(take(&log), Vec::<String>::new(), "{backend}: no statement");
    assert_eq!(got, row, "{backend}");
    // A row the session wrote: its state is what was written.
    let mut changed = got.clone();
    for (_, change) in changes() {
        change(&mut changed);
    }
    s.add(changed.clone());
    s.flush().unwrap();
    take(&log);
    assert_eq!(s.get::<AllTypes>(row.id).unwrap().unwrap(), changed, "{backend}");
    assert_eq!(take(&log), Vec::<String>::new(), "{backend}: no statement");
}

fn the_sessions_state_survives_its_buffer_being_compacted(backend: Backend) {
    let db = backend.database(&all_tables());
    let mut s = db.session();
    // 300 rows of about 1 kB: the commits below take the buffer well past twice its size.
    s.add_all((0..300).map(|i| AllTypes { text: format!("{i:04}").repeat(250), ..sample() }));
    s.commit().unwrap();
    let mut s = db.session();
    let copies = s.query::<AllTypes>().order_by(AllTypes::id.asc()).all().unwrap();
    // Each row gets an earlier state (the copies above are stale in `big`)...
    s.query::<AllTypes>().update([AllTypes::big.set(5)]).unwrap();
    // (the buffer now holds each row's state and its earlier state, all of it live: a
    // commit compacts it only once at least half of it is garbage, as in the rounds below,
    // where each commit replaces every row's state; compaction copies the states and the
    // earlier states).
    s.commit().unwrap();
    let log = StatementLog::attach(&db);
    // A copy read before the bulk update writes only what it changed, not its stale `big`.
    let mut stale = copies[7].clone();
    stale.flag = !stale.flag;
    s.add(stale.clone());
    s.commit().unwrap();
    let sql = take(&log);
    assert_eq!(sql.len(), 1, "{backend}: {sql:?}");
    assert!(sql[0].contains("SET \"flag\" = "), "{backend}: {}", sql[0]);
    assert!(!sql[0].contains("\"big\""), "{backend}: {}", sql[0]);
    let back = db.session().get::<AllTypes>(stale.id).unwrap().unwrap();
    assert_eq!((back.flag, back.big), (stale.flag, 5), "{backend}");
    for round in 0..3 {
        for c in &copies {
            let row = s.get_mut::<AllTypes>(c.id).unwrap().unwrap();
            assert_eq!(row.big, 5, "{backend}");
            row.o_big = Some(round);
        }
        s.commit().unwrap();
    }
    take(&log);
    for c in &copies {
        let got = s.get::<AllTypes>(c.id).unwrap().unwrap();
        assert_eq!((got.big, got.o_big, &got.text), (5, Some(2), &c.text), "{backend}");
    }
    assert_eq!(take(&log), Vec::<String>::new(), "{backend}: every get from the identity map");
    // A rollback after compactions gives the held objects their committed state back.
    for c in &copies {
        s.get_mut::<AllTypes>(c.id).unwrap().unwrap().text.push('!');
    }
    s.flush().unwrap();
    s.rollback().unwrap();
    for c in &copies {
        assert_eq!(s.get::<AllTypes>(c.id).unwrap().unwrap().text, c.text, "{backend}");
    }
}

/// A JSON document whose serde does not round-trip: it writes `note`, and refuses it back.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(deny_unknown_fields)]
struct OneWay {
    #[serde(skip_deserializing)]
    note: String,
    n: i64,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "one_way_docs")]
struct OneWayDoc {
    #[orm(primary_key)]
    id: i64,
    doc: Json<OneWay>,
    hits: i32,
}

/// After a rollback the session gives its objects their rows' state back; a column whose
/// state the field's type refuses to take back (here a `Json<T>` whose serde does not
/// round-trip) keeps the rolled-back value. Written by the next flush, that would be a change
/// nobody made: the flush fails with `StaleData` naming the column, and writes nothing.
fn a_state_that_does_not_read_back_fails_the_flush_instead_of_writing(backend: Backend) {
    let db = backend.database(&[OneWayDoc::TABLE]);
    let mut s = db.session();
    let doc = |n| Json(OneWay { note: "kept".into(), n });
    let h = s.add(OneWayDoc { id: 0, doc: doc(1), hits: 0 });
    s.commit().unwrap();
    s[h].doc = doc(2);
    s.flush().unwrap();
    s.rollback().unwrap();
    // The held object still holds doc 2, which its row does not: changing another column
    // must not write it.
    s[h].hits = 5;
    let log = StatementLog::attach(&db);
    let err = s.commit().unwrap_err();
    assert!(matches!(err, orm::Error::StaleData(_)), "{backend}: {err:?}");
    let msg = err.to_string();
    assert!(msg.contains("one_way_docs") && msg.contains("doc"), "{backend}: {msg}");
    assert!(msg.contains("does not read back"), "{backend}: {msg}");
    assert_eq!(take(&log), Vec::<String>::new(), "{backend}: nothing written");
    let hits = db.session().sql("SELECT hits FROM one_way_docs").all::<(i32,)>().unwrap();
    assert_eq!(hits, [(0,)], "{backend}");
}
