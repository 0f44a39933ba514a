//! Every supported column type survives a round trip through each backend, plain and optional,
//! and a value that does not fit its Rust type is a typed decode error.

mod common;

use common::models::*;
use common::{backend_tests, Backend};
use orm::prelude::*;

backend_tests! {
    every_type_round_trips,
    a_value_of_the_wrong_type_is_a_decode_error,
    default_now_round_trips_exactly,
    times_written_by_other_programs_filter_by_time,
    a_time_the_database_wrote_is_found_by_the_value_read_back,
}

fn every_type_round_trips(backend: Backend) {
    let db = backend.database(&all_tables());
    let mut s = db.session();
    let saved = s.save(AllTypes::sample()).unwrap();
    s.commit().unwrap();
    let mut fresh = db.session();
    let loaded = fresh.query::<AllTypes>().untracked().one().unwrap();
    assert_eq!(loaded, saved, "{backend}");
    let empty = AllTypes { id: 0, ..Default::default() };
    let saved_empty = s.save(empty).unwrap();
    s.commit().unwrap();
    let loaded = db.session().get::<AllTypes>(saved_empty.id).unwrap().unwrap();
    assert_eq!(loaded, saved_empty, "{backend}: NULLs and defaults");
    assert_eq!(loaded.o_status, None);
}

fn a_value_of_the_wrong_type_is_a_decode_error(backend: Backend) {
    let db = backend.database(&all_tables());
    let mut s = db.session();
    s.add(User::new("x"));
    s.commit().unwrap();
    let r: Result<Vec<(i64,)>> = s.sql("SELECT username FROM users").all();
    match r {
        Err(Error::Decode { column, expected, got }) => {
            assert_eq!(column, "username", "{backend}");
            assert_eq!(expected, "i64");
            assert!(got.contains("\"x\""), "{got}");
        }
        other => panic!("{backend}: {other:?}"),
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

fn default_now_round_trips_exactly(backend: Backend) {
    let db = backend.database(&[Stamp::TABLE]);
    let mut s = db.session();
    let saved = s.save(Stamp::default()).unwrap();
    s.commit().unwrap();
    let loaded = db.session().get::<Stamp>(saved.id).unwrap().unwrap();
    assert_eq!(loaded, saved, "{backend}: the databases keep microseconds");
    assert_eq!(saved.at.timestamp_subsec_nanos() % 1000, 0, "{backend}: {}", saved.at);
}

fn utc(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap().and_utc()
}

/// Times written by other programs, in SQLite's own form with or without a fraction (the
/// `sqlite3` shell, `datetime()`, SQLAlchemy's `.000000`, `strftime('%f')`'s milliseconds),
/// filter by the time they stand for, on both backends, and read back.
fn times_written_by_other_programs_filter_by_time(backend: Backend) {
    // (id, text) in the forms other programs write; each row's `at` and `naive_at` hold it.
    let rows = [
        (1, "2024-01-01 00:00:00"), // sqlite3 shell, datetime(), CURRENT_TIMESTAMP
        (2, "2024-01-01 00:00:00.000000"), // SQLAlchemy
        (3, "2024-01-01 00:00:00.500"), // strftime('%Y-%m-%d %H:%M:%f')
        (4, "2024-01-01 00:00:01"),
        (5, "2023-12-31 23:59:59.999999"),
        (6, "2024-01-01 00:00:00.5"),
    ];
    let t0 = utc("2024-01-01 00:00:00");
    let half = utc("2024-01-01 00:00:00.5");
    let db = backend.database(&[Stamp::TABLE]);
    let mut s = db.session();
    for (id, text) in rows {
        // PostgreSQL reads a zone-less text in the session's time zone: say UTC.
        let tz = if backend == Backend::Postgres { "+00" } else { "" };
        s.sql(&format!(
            "INSERT INTO stamps (id, at, naive_at) VALUES ({id}, '{text}{tz}', '{text}')"
        ))
        .execute()
        .unwrap();
    }
    // And one written by the ORM.
    s.save(Stamp { id: 7, at: t0, naive_at: t0.naive_utc(), maybe_at: None }).unwrap();
    s.commit().unwrap();

    let mut ids = |cond: Expr| -> Vec<i64> {
        s.query::<Stamp>()
            .filter(cond)
            .order_by(Stamp::id.asc())
            .all()
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    let at = Stamp::at;
    assert_eq!(ids(at.eq(t0)), [1, 2, 7], "{backend}: whatever the digits");
    assert_eq!(ids(at.ne(t0)), [3, 4, 5, 6], "{backend}");
    assert_eq!(ids(at.eq(half)), [3, 6], "{backend}");
    assert_eq!(ids(at.ge(t0)), [1, 2, 3, 4, 6, 7], "{backend}");
    assert_eq!(ids(at.gt(t0)), [3, 4, 6], "{backend}");
    assert_eq!(ids(at.lt(t0)), [5], "{backend}");
    assert_eq!(ids(at.le(t0)), [1, 2, 5, 7], "{backend}");
    assert_eq!(ids(at.lt(half)), [1, 2, 5, 7], "{backend}");
    assert_eq!(ids(at.between(t0, half)), [1, 2, 3, 6, 7], "{backend}");
    assert_eq!(ids(at.in_list([t0, utc("2024-01-01 00:00:01")])), [1, 2, 4, 7], "{backend}");
    assert_eq!(ids(at.not_in_list([t0, half])), [4, 5], "{backend}");
    assert_eq!(ids(at.eq(t0).or(at.lt(t0))), [1, 2, 5, 7], "{backend}");
    let naive = Stamp::naive_at;
    assert_eq!(ids(naive.eq(t0.naive_utc())), [1, 2, 7], "{backend}");
    assert_eq!(ids(naive.gt(t0.naive_utc())), [3, 4, 6], "{backend}");
    assert_eq!(ids(naive.between(half.naive_utc(), half.naive_utc())), [3, 6], "{backend}");

    // Every form reads back as the time it stands for.
    let loaded = s.query::<Stamp>().order_by(Stamp::id.asc()).all().unwrap();
    for ((_, text), got) in rows.iter().zip(&loaded) {
        assert_eq!(got.at, utc(text), "{backend}: {text}");
        assert_eq!(got.naive_at, utc(text).naive_utc(), "{backend}: {text}");
    }
    // And sorts by time (equal times in any order).
    let sorted = s.query::<Stamp>().order_by(Stamp::at.asc()).all().unwrap();
    assert!(sorted.windows(2).all(|w| w[0].at <= w[1].at), "{backend}: {sorted:?}");
}

/// The database's own clock (`CURRENT_TIMESTAMP`, whole seconds on SQLite) read back and
/// looked up again: the round trip the issue saw fail.
fn a_time_the_database_wrote_is_found_by_the_value_read_back(backend: Backend) {
    let db = backend.database(&[Stamp::TABLE]);
    let mut s = db.session();
    s.sql("INSERT INTO stamps (id, at, naive_at) VALUES (1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        .execute()
        .unwrap();
    s.commit().unwrap();
    let row = s.get::<Stamp>(1).unwrap().unwrap();
    let found = s.query::<Stamp>().filter(Stamp::at.eq(row.at)).count().unwrap();
    assert_eq!(found, 1, "{backend}: {}", row.at);
    let found = s.query::<Stamp>().filter(Stamp::naive_at.eq(row.naive_at)).count().unwrap();
    assert_eq!(found, 1, "{backend}: {}", row.naive_at);
    let found = s.query::<Stamp>().filter(Stamp::at.le(row.at).and(Stamp::at.ge(row.at)));
    assert_eq!(found.count().unwrap(), 1, "{backend}");
}

/// SQLite: what is stored, and rows in the form earlier versions of this ORM wrote.
#[test]
fn sqlite_stores_its_own_time_form_and_reads_the_old_one() {
    #[derive(FromRow)]
    struct Texts {
        at: String,
        naive_at: String,
    }
    let db = orm::testing::memory_database_with(&[Stamp::TABLE]).unwrap();
    let mut s = db.session();
    let t = utc("2024-02-29 13:14:15.123456");
    s.save(Stamp {
        id: 1,
        at: t,
        naive_at: t.naive_utc(),
        maybe_at: Some(utc("2024-01-01 00:00:00")),
    })
    .unwrap();
    s.commit().unwrap();
    let stored: Texts = s.sql("SELECT at, naive_at FROM stamps").one().unwrap();
    assert_eq!(stored.at, "2024-02-29 13:14:15.123456", "SQLAlchemy's form, in UTC");
    assert_eq!(stored.naive_at, "2024-02-29 13:14:15.123456");
    #[derive(FromRow)]
    struct Text {
        maybe_at: String,
    }
    let stored: Text = s.sql("SELECT maybe_at FROM stamps").one().unwrap();
    assert_eq!(stored.maybe_at, "2024-01-01 00:00:00.000000", "six digits always");

    // The old form reads back.
    s.sql(
        "INSERT INTO stamps (id, at, naive_at) \
         VALUES (2, '2024-01-01T00:00:00.000000Z', '2024-01-01T00:00:00.000000')",
    )
    .execute()
    .unwrap();
    let old = s.get::<Stamp>(2).unwrap().unwrap();
    assert_eq!(
        (old.at, old.naive_at),
        (utc("2024-01-01 00:00:00"), utc("2024-01-01 00:00:00").naive_utc())
    );
    // After the documented one-time conversion, it compares by time too.
    for column in ["at", "naive_at"] {
        s.sql(&format!(
            "UPDATE stamps SET {column} = replace(rtrim({column}, 'Z'), 'T', ' ') \
             WHERE {column} LIKE '____-__-__T%'"
        ))
        .execute()
        .unwrap();
    }
    let t0 = utc("2024-01-01 00:00:00");
    let n = s.query::<Stamp>().filter(Stamp::at.eq(t0).and(Stamp::naive_at.eq(t0.naive_utc())));
    assert_eq!(n.count().unwrap(), 1);
    let texts: Texts = s.sql("SELECT at, naive_at FROM stamps WHERE id = 2").one().unwrap();
    assert_eq!(
        (texts.at.as_str(), texts.naive_at.as_str()),
        ("2024-01-01 00:00:00.000000", "2024-01-01 00:00:00.000000")
    );
}
