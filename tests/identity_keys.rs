//! The identity map with every kind of primary key: `i32`, text, UUID and composite keys
//! identify one row each, as `i64` keys do (the map holds keys type-erased, so each kind is
//! checked: a `get` served without a SELECT, a changed copy written as one UPDATE of one column,
//! a deleted row forgotten, a rollback restoring the session's state). On every backend.

#![allow(missing_docs)] // test models, not a public API

mod common;

use common::{backend_tests, take, Backend};
use orm::model::MapKey;
use orm::prelude::*;
use orm::testing::StatementLog;
use orm::Value;

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "small_keyed")]
pub struct SmallKeyed {
    #[orm(primary_key)]
    pub id: i32,
    pub label: String,
    pub hits: i64,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "countries")]
pub struct Country {
    #[orm(primary_key, max_length = 2)]
    pub code: String,
    pub name: String,
    pub population: i64,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "tokens")]
pub struct Token {
    #[orm(primary_key, default = uuid4)]
    pub id: Uuid,
    pub owner: String,
    pub uses: i32,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "seats")]
pub struct Seat {
    #[orm(primary_key)]
    pub hall: i64,
    #[orm(primary_key, max_length = 8)]
    pub place: String,
    pub holder: Option<String>,
}

backend_tests! {
    an_i32_key_is_one_identity,
    a_text_key_is_one_identity,
    a_uuid_key_is_one_identity,
    a_composite_key_is_one_identity,
    a_rollback_restores_rows_of_every_key_kind,
}

fn database(backend: Backend) -> Database {
    backend.database(&[SmallKeyed::TABLE, Country::TABLE, Token::TABLE, Seat::TABLE])
}

/// The statements that change rows, after clearing the log.
fn writes(log: &StatementLog) -> Vec<String> {
    take(log).into_iter().filter(|q| !q.starts_with("SELECT")).collect()
}

/// Asserts that one statement changed rows since the log was last cleared, starting `prefix`.
fn one_write(log: &StatementLog, backend: Backend, prefix: &str) {
    let w = writes(log);
    assert_eq!(w.len(), 1, "{backend}: {w:?}");
    assert!(w[0].starts_with(prefix), "{backend}: expected {prefix}..., got {w:?}");
}

#[test]
fn the_map_key_of_a_key_is_the_map_key_of_its_values() {
    let seat = (7i64, "A1".to_owned());
    let cases = [
        (MapKey::of::<SmallKeyed>(&-3), MapKey::from_values(SmallKeyed::key_values(&-3))),
        (MapKey::of::<Seat>(&seat), MapKey::from_values(Seat::key_values(&seat))),
        (
            MapKey::of::<Country>(&"NZ".to_owned()),
            MapKey::from_values(Country::key_values(&"NZ".to_owned())),
        ),
    ];
    for (of, from_values) in &cases {
        assert_eq!(of, from_values);
    }
    // An i32 key and an i64 key of the same number are the same map key (one per model).
    assert_eq!(MapKey::of::<SmallKeyed>(&5), MapKey::from_values(vec![Value::Int(5)]));
    assert_ne!(MapKey::of::<SmallKeyed>(&5), MapKey::of::<SmallKeyed>(&6));
    assert_ne!(MapKey::of::<Seat>(&(1, "A".to_owned())), MapKey::of::<Seat>(&(1, "B".to_owned())));
    // As error messages show keys.
    assert_eq!(MapKey::of::<SmallKeyed>(&5).to_string(), "5");
    assert_eq!(MapKey::of::<Country>(&"NZ".to_owned()).to_string(), "\"NZ\"");
    assert_eq!(MapKey::of::<Seat>(&seat).to_string(), "(7, \"A1\")");
}

fn an_i32_key_is_one_identity(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    s.add(SmallKeyed { id: 1, label: "one".into(), hits: 0 });
    s.add(SmallKeyed { id: 2, label: "two".into(), hits: 0 });
    s.commit().unwrap();
    let log = StatementLog::attach(&db);
    let mut copy = s.get::<SmallKeyed>(2).unwrap().unwrap();
    assert!(take(&log).is_empty(), "{backend}: served by the identity map");
    copy.hits = 5;
    s.add(copy);
    s.commit().unwrap();
    one_write(&log, backend, r#"UPDATE "small_keyed" SET "hits" = "#);
    s.delete_by_key::<SmallKeyed>(1).unwrap();
    s.commit().unwrap();
    assert_eq!(s.get::<SmallKeyed>(1).unwrap(), None, "{backend}");
    assert_eq!(db.session().get::<SmallKeyed>(2).unwrap().unwrap().hits, 5, "{backend}");
}

fn a_text_key_is_one_identity(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    s.add(Country { code: "NZ".into(), name: "New Zealand".into(), population: 5 });
    s.add(Country { code: "FR".into(), name: "France".into(), population: 68 });
    s.commit().unwrap();
    let log = StatementLog::attach(&db);
    // Two copies of one row read by a query are one identity: the second add of a changed
    // copy is the same row, and only the changed column is written.
    let rows = s.query::<Country>().order_by(Country::code.asc()).all().unwrap();
    take(&log);
    let mut nz = rows[1].clone();
    assert_eq!(nz.code, "NZ");
    nz.population = 6;
    s.add(nz);
    s.commit().unwrap();
    one_write(&log, backend, r#"UPDATE "countries" SET "population" = "#);
    assert_eq!(s.get::<Country>("NZ".to_owned()).unwrap().unwrap().population, 6);
    assert!(take(&log).is_empty(), "{backend}: served by the identity map");
    // A new object with a key the session holds is the same row: an UPDATE, never an INSERT.
    s.add(Country { code: "FR".into(), name: "France".into(), population: 69 });
    s.commit().unwrap();
    one_write(&log, backend, "UPDATE");
    let fr = s.get::<Country>("FR".to_owned()).unwrap().unwrap();
    s.delete(&fr).unwrap();
    s.commit().unwrap();
    assert_eq!(s.get::<Country>("FR".to_owned()).unwrap(), None, "{backend}");
    assert_eq!(db.session().query::<Country>().count().unwrap(), 1, "{backend}");
}

fn a_uuid_key_is_one_identity(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    let t = s.save(Token { owner: "ann".into(), ..Default::default() }).unwrap();
    assert!(!t.id.is_nil(), "{backend}: the client default gave a key");
    let log = StatementLog::attach(&db);
    let mut again = s.get::<Token>(t.id).unwrap().unwrap();
    assert!(take(&log).is_empty(), "{backend}: served by the identity map");
    again.uses = 3;
    s.add(again);
    s.commit().unwrap();
    one_write(&log, backend, r#"UPDATE "tokens" SET "uses" = "#);
    assert_eq!(db.session().get::<Token>(t.id).unwrap().unwrap().uses, 3, "{backend}");
}

fn a_composite_key_is_one_identity(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    for place in ["A1", "A2"] {
        s.add(Seat { hall: 1, place: place.into(), holder: None });
    }
    s.add(Seat { hall: 2, place: "A1".into(), holder: None });
    s.commit().unwrap();
    let log = StatementLog::attach(&db);
    let seat = s.get_mut::<Seat>((1, "A2".to_owned())).unwrap().unwrap();
    assert!(take(&log).is_empty(), "{backend}: served by the identity map");
    seat.holder = Some("ann".into());
    s.commit().unwrap();
    one_write(&log, backend, r#"UPDATE "seats" SET "holder" = "#);
    // Same hall, other place; same place, other hall: other rows, untouched.
    let check = db.session().query::<Seat>().order_by(Seat::hall.asc()).all().unwrap();
    let holders: Vec<_> =
        check.iter().map(|x| (x.hall, x.place.as_str(), x.holder.as_deref())).collect();
    let mut sorted = holders.clone();
    sorted.sort();
    assert_eq!(sorted, [(1, "A1", None), (1, "A2", Some("ann")), (2, "A1", None)], "{backend}");
    s.delete_by_key::<Seat>((2, "A1".to_owned())).unwrap();
    s.commit().unwrap();
    assert_eq!(s.get::<Seat>((2, "A1".to_owned())).unwrap(), None, "{backend}");
    assert!(s.get::<Seat>((1, "A1".to_owned())).unwrap().is_some(), "{backend}");
}

fn a_rollback_restores_rows_of_every_key_kind(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    s.add(SmallKeyed { id: 1, label: "one".into(), hits: 0 });
    s.add(Country { code: "NZ".into(), name: "New Zealand".into(), population: 5 });
    s.add(Seat { hall: 1, place: "A1".into(), holder: None });
    s.commit().unwrap();
    // Changed and flushed, then deleted and flushed, all rolled back.
    s.get_mut::<SmallKeyed>(1).unwrap().unwrap().hits = 9;
    s.get_mut::<Country>("NZ".to_owned()).unwrap().unwrap().population = 9;
    s.flush().unwrap();
    s.delete_by_key::<Seat>((1, "A1".to_owned())).unwrap();
    s.flush().unwrap();
    assert_eq!(s.get::<Seat>((1, "A1".to_owned())).unwrap(), None, "{backend}");
    s.rollback().unwrap();
    let log = StatementLog::attach(&db);
    assert_eq!(s.get::<SmallKeyed>(1).unwrap().unwrap().hits, 0, "{backend}");
    assert_eq!(s.get::<Country>("NZ".to_owned()).unwrap().unwrap().population, 5, "{backend}");
    assert!(s.get::<Seat>((1, "A1".to_owned())).unwrap().is_some(), "{backend}");
    assert!(take(&log).is_empty(), "{backend}: the session's state was restored, not re-read");
    // Nothing of the rolled-back work is written later.
    s.commit().unwrap();
    assert!(writes(&log).is_empty(), "{backend}");
}
