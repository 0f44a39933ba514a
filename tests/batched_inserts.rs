//! A flush inserts the new rows of a table in as few statements as the backend allows, and every
//! object gets the values of its own row: the generated key, the server defaults, and its
//! children the right foreign key. Each test is built to catch a mix-up: rows that differ in
//! every column, a failing row in the middle of a batch, rows that give different columns, a
//! trigger that inserts elsewhere, tables whose key is not what the model says.

#![allow(missing_docs)] // test models, not a public API
#![allow(clippy::cast_possible_wrap)] // small loop counters as keys

mod common;

use common::{backend_tests, Backend};
use orm::prelude::*;
use orm::testing::StatementLog;

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "parcels")]
pub struct Parcel {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(unique, max_length = 40)]
    pub label: String,
    pub weight: i64,
    #[orm(server_default = "'new'", max_length = 20)]
    pub status: DbDefault<String>,
    #[orm(has_many(foreign_key = parcel_id, cascade = "all"))]
    pub items: Related<Vec<ParcelItem>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "parcel_items")]
pub struct ParcelItem {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Parcel, index)]
    pub parcel_id: i64,
    #[orm(max_length = 40)]
    pub name: String,
}

/// A model with a client-side key: no key to generate, a server default to read back.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "stamps")]
pub struct Stamp {
    #[orm(primary_key, default = uuid4)]
    pub id: Uuid,
    #[orm(max_length = 40)]
    pub motif: String,
    #[orm(server_default = "7")]
    pub copies: DbDefault<i64>,
}

backend_tests! {
    every_object_gets_the_key_and_defaults_of_its_own_row,
    children_of_many_new_parents_point_at_their_own_parent,
    rows_giving_different_columns_are_each_inserted_as_given,
    client_side_keys_read_back_their_own_server_defaults,
    a_failing_row_in_a_batch_leaves_no_row_and_no_key,
    each_row_of_a_batch_is_logged_with_its_values,
    a_row_deleted_under_a_batch_of_updates_fails_the_flush_and_writes_nothing,
}

fn database(backend: Backend) -> Database {
    backend.database(&[Parcel::TABLE, ParcelItem::TABLE, Stamp::TABLE])
}

fn parcel(i: i64) -> Parcel {
    Parcel {
        label: format!("parcel-{i}"),
        weight: 1000 + i,
        status: if i % 3 == 0 { DbDefault::Value(format!("held-{i}")) } else { DbDefault::Default },
        ..Default::default()
    }
}

/// Every parcel read back from the database, by label.
fn stored(db: &Database) -> std::collections::HashMap<String, Parcel> {
    let mut s = db.session();
    let rows = s.query::<Parcel>().untracked().all().expect("read parcels");
    rows.into_iter().map(|p| (p.label.clone(), p)).collect()
}

fn every_object_gets_the_key_and_defaults_of_its_own_row(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    // One row first, so the keys of the batch do not start at 1.
    s.add(parcel(1000));
    s.commit().expect("first");
    let handles: Vec<_> = (0..60).map(|i| s.add(parcel(i))).collect();
    s.commit().expect("commit 60 parcels");
    let rows = stored(&db);
    assert_eq!(rows.len(), 61, "{backend}");
    let mut keys = std::collections::HashSet::new();
    for (i, h) in handles.iter().enumerate() {
        let p = &s[*h];
        let row = &rows[&p.label];
        assert_eq!(p.id, row.id, "{backend}: {} holds the key of another row", p.label);
        assert_eq!(p.weight, row.weight, "{backend}");
        let expected = if i % 3 == 0 { format!("held-{i}") } else { "new".to_owned() };
        assert_eq!(p.status, DbDefault::Value(expected.clone()), "{backend}: {}", p.label);
        assert_eq!(row.status, DbDefault::Value(expected), "{backend}");
        assert!(keys.insert(p.id), "{backend}: key {} given twice", p.id);
    }
    // The session knows every new row by its key: no statement to get one.
    let log = StatementLog::attach(&db);
    let p = s.get::<Parcel>(s[handles[41]].id).expect("get").expect("in the map");
    assert_eq!(p.label, "parcel-41");
    assert!(log.statements().is_empty(), "{backend}: {:?}", log.statements());
}

fn children_of_many_new_parents_point_at_their_own_parent(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    for i in 0..25 {
        let mut p = parcel(i);
        p.items = Related::Loaded(
            (0..(i % 4))
                .map(|k| ParcelItem { name: format!("{i}/{k}"), ..Default::default() })
                .collect(),
        );
        s.add(p);
    }
    s.commit().expect("commit parcels with items");
    let parcels = stored(&db);
    let items = s.query::<ParcelItem>().untracked().all().expect("items");
    assert_eq!(items.len(), (0..25usize).map(|i| i % 4).sum::<usize>(), "{backend}");
    for item in items {
        let owner = item.name.split('/').next().expect("owner");
        let parent = &parcels[&format!("parcel-{owner}")];
        assert_eq!(item.parcel_id, parent.id, "{backend}: {} under the wrong parcel", item.name);
    }
}

fn rows_giving_different_columns_are_each_inserted_as_given(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    // Alternating: a server default, a value, an explicit key, generated keys.
    let mut given = Vec::new();
    for i in 0..12 {
        let mut p = parcel(i);
        p.status = if i % 2 == 0 { DbDefault::Default } else { DbDefault::Value(format!("v{i}")) };
        if i % 5 == 4 {
            p.id = 10_000 + i;
        }
        given.push(s.add(p));
    }
    s.commit().expect("commit mixed rows");
    let rows = stored(&db);
    for (i, h) in given.iter().enumerate() {
        let i = i as i64;
        let p = &s[*h];
        let row = &rows[&p.label];
        assert_eq!(p.id, row.id, "{backend}: {}", p.label);
        if i % 5 == 4 {
            assert_eq!(p.id, 10_000 + i, "{backend}: the explicit key was kept");
        }
        let status = if i % 2 == 0 { "new".to_owned() } else { format!("v{i}") };
        assert_eq!(row.status, DbDefault::Value(status.clone()), "{backend}: {}", p.label);
        assert_eq!(p.status, DbDefault::Value(status), "{backend}: {}", p.label);
    }
}

fn client_side_keys_read_back_their_own_server_defaults(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    let handles: Vec<_> = (0..20)
        .map(|i| {
            s.add(Stamp {
                motif: format!("m{i}"),
                copies: if i % 2 == 0 { DbDefault::Default } else { DbDefault::Value(i) },
                ..Default::default()
            })
        })
        .collect();
    s.commit().expect("commit stamps");
    let rows = s.query::<Stamp>().untracked().all().expect("stamps");
    assert_eq!(rows.len(), 20, "{backend}");
    for (i, h) in handles.iter().enumerate() {
        let st = &s[*h];
        let row = rows.iter().find(|r| r.id == st.id).expect("its row");
        assert_eq!(row.motif, st.motif, "{backend}");
        let copies = if i % 2 == 0 { 7 } else { i as i64 };
        assert_eq!(st.copies, DbDefault::Value(copies), "{backend}: {}", st.motif);
        assert_eq!(row.copies, DbDefault::Value(copies), "{backend}");
    }
}

fn a_failing_row_in_a_batch_leaves_no_row_and_no_key(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    s.add(parcel(3));
    s.commit().expect("the row the batch will collide with");
    let handles: Vec<_> = (0..8).map(|i| s.add(parcel(i))).collect();
    let err = s.commit().expect_err("parcel-3 exists: the label is unique");
    assert!(matches!(err, orm::Error::UniqueViolation(_)), "{backend}: {err:?}");
    for (i, h) in handles.iter().enumerate() {
        let p = &s[*h];
        assert_eq!(p.id, 0, "{backend}: {} kept a key of a row never stored", p.label);
        assert_eq!(p.status, parcel(i as i64).status, "{backend}: {} kept a default", p.label);
    }
    s.rollback().expect("rollback");
    assert_eq!(stored(&db).len(), 1, "{backend}: nothing of the failed batch stayed");
    // The session still works, and so does the same batch without the duplicate.
    let mut s = db.session();
    for i in (0..8).filter(|&i| i != 3) {
        s.add(parcel(i));
    }
    s.commit().expect("the batch without the duplicate");
    assert_eq!(stored(&db).len(), 8, "{backend}");
}

fn each_row_of_a_batch_is_logged_with_its_values(backend: Backend) {
    let db = database(backend);
    let log = StatementLog::attach(&db);
    let mut s = db.session();
    for i in 1..=3 {
        s.add(Parcel {
            label: format!("p{i}"),
            weight: i,
            status: DbDefault::Value("x".into()),
            ..Default::default()
        });
    }
    s.commit().expect("commit");
    let inserts: Vec<String> =
        log.statements().into_iter().filter(|q| q.starts_with("INSERT")).collect();
    match backend {
        Backend::Sqlite => assert_eq!(
            inserts,
            vec![
                r#"INSERT INTO "parcels" ("label", "weight", "status") VALUES (?1, ?2, ?3)"#
                    .to_owned();
                3
            ],
            "one prepared INSERT stepped per row, each logged"
        ),
        Backend::Postgres => {
            let writes: Vec<String> =
                log.statements().into_iter().filter(|q| q.contains("INSERT")).collect();
            assert_eq!(writes.len(), 1, "one statement for the batch: {writes:?}");
            let prefix = r#"WITH "orm_rows" AS MATERIALIZED (SELECT *, nextval('"#;
            let middle = concat!(
                r#".parcels_id_seq'::regclass) AS "orm_key" FROM unnest("#,
                r#"$1::character varying(40)[], $2::bigint[], $3::character varying(20)[]) "#,
                r#"WITH ORDINALITY"#
            );
            assert!(writes[0].starts_with(prefix), "{writes:?}");
            assert!(writes[0].contains(middle), "{writes:?}");
        }
    }
}

fn a_row_deleted_under_a_batch_of_updates_fails_the_flush_and_writes_nothing(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    for i in 0..5 {
        s.add(parcel(i));
    }
    s.commit().expect("seed");
    let mut rows = s.query::<Parcel>().order_by(Parcel::id.asc()).all().expect("read");
    let gone = rows[3].id;
    let mut other = db.session();
    other.delete_by_key::<Parcel>(gone).expect("delete");
    other.commit().expect("another writer deletes one row");
    for p in &mut rows {
        p.weight += 100;
    }
    for p in rows {
        s.add(p);
    }
    let err = s.commit().expect_err("one UPDATE matches no row");
    match &err {
        orm::Error::StaleData(m) => {
            assert!(m.contains(&format!("with key {gone} matched no row")), "{backend}: {m}")
        }
        other => panic!("{backend}: {other:?}"),
    }
    s.rollback().expect("rollback");
    let weights: Vec<i64> = stored(&db).values().map(|p| p.weight).collect();
    assert_eq!(weights.len(), 4, "{backend}");
    assert!(
        weights.iter().all(|w| *w < 1100),
        "{backend}: no UPDATE of the batch stayed: {weights:?}"
    );
}

/// A hand-written table on SQLite, the model believing its key is generated.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "notes")]
pub struct Note {
    #[orm(primary_key)]
    pub id: i64,
    pub body: String,
}

/// SQLite reads a generated key with `last_insert_rowid` only where the key is the rowid.
mod sqlite_rowid {
    use super::*;

    fn with_table(ddl: &str) -> (Database, Session) {
        with_tables(&[ddl])
    }

    fn with_tables(ddl: &[&str]) -> (Database, Session) {
        let db = orm::testing::memory_database_with(&[]).expect("database");
        let mut s = db.session();
        for stmt in ddl {
            s.sql(stmt).execute().expect("DDL");
        }
        s.commit().expect("DDL committed");
        (db, s)
    }

    fn add_notes(s: &mut Session, n: usize) -> orm::Result<Vec<Handle<Note>>> {
        let hs =
            (0..n).map(|i| s.add(Note { body: format!("n{i}"), ..Default::default() })).collect();
        s.commit()?;
        Ok(hs)
    }

    /// Each note's key is the key of the row holding its body.
    fn assert_own_keys(s: &mut Session, hs: &[Handle<Note>]) {
        let rows = s.query::<Note>().untracked().all().expect("notes");
        for h in hs {
            let n = &s[*h];
            let row = rows.iter().find(|r| r.body == n.body).expect("its row");
            assert_eq!(n.id, row.id, "{}", n.body);
        }
    }

    #[test]
    fn a_trigger_inserting_elsewhere_does_not_change_the_key_read() {
        let (_db, mut s) = with_tables(&[
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
            "CREATE TABLE audit (n INTEGER PRIMARY KEY, what TEXT)",
            "INSERT INTO audit (n, what) VALUES (500, 'seed')",
            "CREATE TRIGGER notes_audit AFTER INSERT ON notes BEGIN \
               INSERT INTO audit (what) VALUES ('note ' || NEW.id); END",
        ]);
        let hs = add_notes(&mut s, 5).expect("insert");
        assert_own_keys(&mut s, &hs);
        assert_eq!(s[hs[0]].id, 1, "the audit rows (501...) are not the notes' keys");
    }

    #[test]
    fn a_key_that_is_not_the_rowid_is_read_with_returning() {
        // `INTEGER PRIMARY KEY DESC` and `BIGINT PRIMARY KEY` are not the rowid: SQLite
        // generates nothing for them, and RETURNING says so (NULL), an error, not a wrong key.
        for ddl in [
            "CREATE TABLE notes (id INTEGER PRIMARY KEY DESC, body TEXT NOT NULL)",
            "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)",
        ] {
            let (db, mut s) = with_table(ddl);
            let log = StatementLog::attach(&db);
            let err = add_notes(&mut s, 3).expect_err("no key was generated");
            assert!(matches!(err, orm::Error::Decode { .. }), "{ddl}: {err:?}");
            let inserts: Vec<String> =
                log.statements().into_iter().filter(|q| q.starts_with("INSERT")).collect();
            assert!(inserts[0].ends_with(r#"RETURNING "id""#), "{ddl}: {inserts:?}");
        }
        // WITHOUT ROWID: the key column must be given.
        let (_db, mut s) = with_table(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID",
        );
        let err = add_notes(&mut s, 3).expect_err("a WITHOUT ROWID table generates no key");
        assert!(matches!(err, orm::Error::NotNullViolation(_)), "{err:?}");
    }

    #[test]
    fn a_table_recreated_on_the_connection_is_asked_again() {
        let (db, mut s) =
            with_table("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
        let hs = add_notes(&mut s, 2).expect("rowid table");
        assert_own_keys(&mut s, &hs);
        drop(s);
        let mut s = db.session();
        s.sql("DROP TABLE notes").execute().expect("drop");
        s.sql("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)")
            .execute()
            .expect("create");
        s.commit().expect("DDL");
        let err = add_notes(&mut s, 2).expect_err("the new table's key is not the rowid");
        assert!(matches!(err, orm::Error::Decode { .. }), "{err:?}");
    }
}

/// A time on a `timestamp` column (without time zone), and an array column.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "ticks")]
pub struct Tick {
    #[orm(primary_key)]
    pub id: i64,
    pub at: DateTime<Utc>,
}

/// An array column: `unnest` would flatten it, so its rows go one by one.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "tagged")]
pub struct Tagged {
    #[orm(primary_key)]
    pub id: i64,
    pub tags: Vec<String>,
}

/// PostgreSQL tables whose generated key or columns are not what `create_all` writes: each
/// batch still gives every object its own row's key, or goes row by row.
mod postgres_tables {
    use super::*;

    fn with_tables(ddl: &[&str]) -> (Database, Session) {
        let db = orm::testing::postgres_database_with(&[]).expect("PostgreSQL test database");
        let mut s = db.session();
        for stmt in ddl {
            s.sql(stmt).execute().expect("DDL");
        }
        s.commit().expect("DDL committed");
        (db, s)
    }

    fn add_notes(s: &mut Session, n: usize) -> Vec<Handle<Note>> {
        let hs =
            (0..n).map(|i| s.add(Note { body: format!("n{i}"), ..Default::default() })).collect();
        s.commit().expect("insert notes");
        hs
    }

    fn keys_and_writes(ddl: &[&str]) -> (Vec<i64>, Vec<String>) {
        let (db, mut s) = with_tables(ddl);
        let log = StatementLog::attach(&db);
        let hs = add_notes(&mut s, 4);
        let rows = s.query::<Note>().untracked().all().expect("notes");
        for h in &hs {
            let row = rows.iter().find(|r| r.body == s[*h].body).expect("its row");
            assert_eq!(s[*h].id, row.id, "{ddl:?}: {}", row.body);
        }
        let writes = log.statements().into_iter().filter(|q| q.contains("INSERT")).collect();
        (hs.iter().map(|h| s[*h].id).collect(), writes)
    }

    #[test]
    fn an_identity_always_key_is_reserved_and_inserted() {
        let (keys, writes) = keys_and_writes(&[
            "CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 70) PRIMARY KEY, \
             body text NOT NULL)",
        ]);
        assert_eq!(keys, [70, 71, 72, 73]);
        assert_eq!(writes.len(), 1, "{writes:?}");
    }

    #[test]
    fn a_serial_key_is_reserved_from_its_sequence() {
        let (keys, writes) = keys_and_writes(&[
            "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)",
            "SELECT setval(pg_get_serial_sequence('notes', 'id'), 40)",
        ]);
        assert_eq!(keys, [41, 42, 43, 44]);
        assert_eq!(writes.len(), 1, "{writes:?}");
    }

    #[test]
    fn a_key_from_a_sequence_the_column_does_not_own_goes_row_by_row() {
        let (keys, writes) = keys_and_writes(&[
            "CREATE SEQUENCE note_ids START 500",
            "CREATE TABLE notes (id bigint PRIMARY KEY DEFAULT nextval('note_ids'), \
             body text NOT NULL)",
        ]);
        assert_eq!(keys, [500, 501, 502, 503]);
        assert_eq!(writes.len(), 4, "{writes:?}");
        assert!(writes.iter().all(|q| q.ends_with(r#"RETURNING "id""#)), "{writes:?}");
    }

    #[test]
    fn times_keep_their_instant_whatever_the_session_time_zone() {
        // The model's `DateTime<Utc>` on a `timestamp` column is stored as UTC, in a batch as
        // row by row, whatever the session's time zone.
        let (db, mut s) =
            with_tables(&["CREATE TABLE ticks (id bigserial PRIMARY KEY, at timestamp NOT NULL)"]);
        s.sql("SET TIME ZONE 'Asia/Tokyo'").execute().expect("time zone");
        let at = |i: i64| DateTime::from_timestamp(1_700_000_000 + i * 3_600, 0).expect("time");
        let log = StatementLog::attach(&db);
        s.add(Tick { at: at(0), ..Default::default() });
        s.flush().expect("one row");
        for i in 1..4 {
            s.add(Tick { at: at(i), ..Default::default() });
        }
        s.commit().expect("a batch");
        let writes: Vec<String> =
            log.statements().into_iter().filter(|q| q.contains("INSERT")).collect();
        assert_eq!(writes.len(), 2, "{writes:?}");
        let rows: Vec<(i64, String)> = s
            .sql("SELECT id, to_char(at, 'YYYY-MM-DD HH24:MI:SS') FROM ticks ORDER BY id")
            .all()
            .expect("times");
        let texts: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(
            texts,
            [
                "2023-11-14 22:13:20",
                "2023-11-14 23:13:20",
                "2023-11-15 00:13:20",
                "2023-11-15 01:13:20"
            ],
            "UTC, not Tokyo time"
        );
    }

    #[test]
    fn a_column_type_changed_by_ddl_is_read_again() {
        let (db, mut s) =
            with_tables(&["CREATE TABLE ticks (id bigserial PRIMARY KEY, at timestamp NOT NULL)"]);
        let at = DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        let log = StatementLog::attach(&db);
        let batch = |s: &mut Session| {
            for _ in 0..2 {
                s.add(Tick { at, ..Default::default() });
            }
            s.commit().expect("batch");
        };
        batch(&mut s);
        s.sql("ALTER TABLE ticks ALTER COLUMN at TYPE timestamptz USING at AT TIME ZONE 'UTC'")
            .execute()
            .expect("DDL");
        s.commit().expect("DDL");
        batch(&mut s);
        let writes: Vec<String> =
            log.statements().into_iter().filter(|q| q.contains("unnest")).collect();
        assert_eq!(writes.len(), 2, "{writes:?}");
        assert!(writes[0].contains("$1::timestamp without time zone[]"), "{writes:?}");
        assert!(writes[1].contains("$1::timestamp with time zone[]"), "{writes:?}");
        let read = s.query::<Tick>().untracked().all().expect("ticks, now timestamptz");
        assert!(read.iter().all(|t| t.at == at), "{read:?}");
    }

    #[test]
    fn an_array_column_goes_row_by_row() {
        let db = orm::testing::postgres_database_with(&[Tagged::TABLE]).expect("database");
        let log = StatementLog::attach(&db);
        let mut s = db.session();
        let hs: Vec<_> = (0..3)
            .map(|i| {
                s.add(Tagged { tags: vec![format!("a{i}"), format!("b{i}")], ..Default::default() })
            })
            .collect();
        s.commit().expect("insert");
        assert_eq!(log.statements().iter().filter(|q| q.contains("INSERT")).count(), 3);
        for (i, h) in hs.iter().enumerate() {
            let id = s[*h].id;
            let row = s.query::<Tagged>().untracked().filter(Tagged::id.eq(id)).one().expect("row");
            assert_eq!(row.tags, [format!("a{i}"), format!("b{i}")]);
        }
    }
}
