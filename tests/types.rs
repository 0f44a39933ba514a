//! Every supported column type survives a round trip through each backend, plain and optional,
//! and a value that does not fit its Rust type is a typed decode error.

mod common;

use common::backends;
use common::models::*;
use orm::prelude::*;

fn sample() -> AllTypes {
    let at =
        DateTime::parse_from_rfc3339("2024-02-29T13:14:15.123456Z").unwrap().with_timezone(&Utc);
    AllTypes {
        id: 0,
        small: -12,
        int: i32::MIN,
        big: i64::MAX,
        float32: 1.5,
        float64: -2.25e100,
        flag: true,
        text: "héllo \"quoted\" 'single' ✓".into(),
        bytes: vec![0, 1, 2, 255],
        at,
        naive_at: at.naive_utc(),
        day: NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
        uid: Uuid::new_v4(),
        prefs: Json(Preferences { theme: "dark".into(), notifications: true }),
        doc: serde_json::json!({"a": [1, "2", null], "b": {"c": 5}}),
        tags: vec!["rust".into(), "1".into(), "".into()],
        numbers: vec![-1, 0, i64::MAX],
        status: PostStatus::Archived,
        o_small: Some(7),
        o_int: Some(8),
        o_big: Some(9),
        o_float: Some(0.5),
        o_flag: Some(false),
        o_text: Some("5".into()),
        o_bytes: Some(vec![]),
        o_at: Some(at),
        o_day: Some(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()),
        o_uid: Some(Uuid::nil()),
        o_prefs: Some(Json(Preferences::default())),
        o_tags: Some(vec![]),
        o_status: Some(PostStatus::Draft),
    }
}

#[test]
fn every_type_round_trips() {
    for (name, db) in backends(&all_tables()) {
        let mut s = db.session();
        let saved = s.save(sample()).unwrap();
        s.commit().unwrap();
        let mut fresh = db.session();
        let loaded = fresh.query::<AllTypes>().untracked().one().unwrap();
        assert_eq!(loaded, saved, "{name}");
        let empty = AllTypes { id: 0, ..Default::default() };
        let saved_empty = s.save(empty).unwrap();
        s.commit().unwrap();
        let loaded = db.session().get::<AllTypes>(saved_empty.id).unwrap().unwrap();
        assert_eq!(loaded, saved_empty, "{name}: NULLs and defaults");
        assert_eq!(loaded.o_status, None);
    }
}

#[test]
fn a_value_of_the_wrong_type_is_a_decode_error() {
    for (name, db) in backends(&all_tables()) {
        let mut s = db.session();
        s.add(User::new("x"));
        s.commit().unwrap();
        let r: Result<Vec<(i64,)>> = s.sql("SELECT username FROM users").all();
        match r {
            Err(Error::Decode { column, expected, got }) => {
                assert_eq!(column, "username", "{name}");
                assert_eq!(expected, "i64");
                assert!(got.contains("\"x\""), "{got}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

/// `default = now` on each time type.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "stamps")]
struct Stamp {
    #[orm(primary_key)]
    id: i64,
    #[orm(default = now)]
    at: DateTime<Utc>,
    #[orm(default = now)]
    naive_at: NaiveDateTime,
    #[orm(default = now)]
    maybe_at: Option<DateTime<Utc>>,
}

#[test]
fn default_now_round_trips_exactly() {
    for (name, db) in backends(&[Stamp::TABLE]) {
        let mut s = db.session();
        let saved = s.save(Stamp::default()).unwrap();
        s.commit().unwrap();
        let loaded = db.session().get::<Stamp>(saved.id).unwrap().unwrap();
        assert_eq!(loaded, saved, "{name}: the databases keep microseconds");
        assert_eq!(saved.at.timestamp_subsec_nanos() % 1000, 0, "{name}: {}", saved.at);
    }
}
