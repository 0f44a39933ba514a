//! The ORM against rusqlite on the same data: reads on in-memory databases, writes on files in
//! a temporary folder. Each criterion group holds the raw driver and the ORM side by side, so
//! their ratio reads directly; the graph workloads (6 and 7) time the ORM alone at several sizes,
//! to show how its cost per object grows. `cargo bench -p orm-benches --bench sqlite`.

mod common;

use common::*;
use criterion::Criterion;
use orm::prelude::*;
use orm::value::TIMESTAMPTZ_TEXT_FORMAT;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

const COLUMNS: &str = "id, name, email, score, created_at, active";

fn select_all() -> String {
    format!("SELECT {COLUMNS} FROM bench_items")
}
fn select_by_id() -> String {
    format!("SELECT {COLUMNS} FROM bench_items WHERE id = ?1")
}
fn select_filtered() -> String {
    // LIMIT as a literal, as the ORM writes it (on PostgreSQL a bound LIMIT can change the plan);
    // GLOB, as the ORM writes a case-sensitive LIKE on SQLite.
    format!("SELECT {COLUMNS} FROM bench_items WHERE name GLOB ?1 ORDER BY id LIMIT {LIMIT}")
}
/// [`NAME_PATTERN`] as the GLOB pattern the ORM binds for it.
const NAME_GLOB: &str = "user-1*";
fn select_up_to() -> String {
    format!("SELECT {COLUMNS} FROM bench_items WHERE id <= ?1")
}
const INSERT: &str = "INSERT INTO bench_items (name, email, score, created_at, active) \
                      VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
const UPDATE_SCORE: &str = "UPDATE bench_items SET score = ?1 WHERE id = ?2";

/// A rusqlite connection set up as the ORM sets up its own (same flags and pragmas).
fn raw_open(file: Option<&Path>) -> Connection {
    let flags = OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE;
    let conn = match file {
        Some(path) => Connection::open_with_flags(path, flags),
        None => Connection::open_in_memory_with_flags(flags),
    }
    .expect("open SQLite");
    conn.busy_timeout(std::time::Duration::from_secs(5)).expect("busy timeout");
    let mut pragmas = String::from("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;");
    if file.is_some() {
        pragmas.push_str(" PRAGMA journal_mode = WAL;");
    }
    conn.execute_batch(&pragmas).expect("pragmas");
    conn
}

/// Decodes a row of `COLUMNS` into the model, as a rusqlite user would.
fn raw_item(row: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let ts = row.get_ref(4)?.as_str()?;
    let created_at = NaiveDateTime::parse_from_str(ts, TIMESTAMPTZ_TEXT_FORMAT)
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
        })?
        .and_utc();
    Ok(Item {
        id: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        score: row.get(3)?,
        created_at,
        active: row.get(5)?,
    })
}

/// Inserts `rows` with a prepared statement, one transaction, keys written back.
fn raw_insert(conn: &Connection, stmt: &mut rusqlite::Statement<'_>, rows: &mut [Item]) {
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    for it in rows.iter_mut() {
        let ts = it.created_at.format(TIMESTAMPTZ_TEXT_FORMAT).to_string();
        it.id = stmt
            .query_row((&it.name, &it.email, it.score, ts, it.active), |r| r.get(0))
            .expect("insert");
    }
    conn.execute_batch("COMMIT").expect("commit");
}

/// A raw database with the ORM's table (its DDL for this dialect) and `n` seed rows.
fn raw_database(file: Option<&Path>, orm: &Database, n: i64) -> Connection {
    let conn = raw_open(file);
    let dialect = orm::migrate::migration_dialect(orm.engine()).expect("dialect");
    for st in orm::migrate::create_statements(dialect, &[Item::TABLE]).expect("DDL") {
        conn.execute_batch(&st.to_script()).expect("create table");
    }
    let mut stmt = conn.prepare(INSERT).expect("prepare insert");
    raw_insert(&conn, &mut stmt, &mut items(1, n));
    drop(stmt);
    conn
}

/// An ORM database at `url` with the table and `n` seed rows, added through a session.
fn orm_database(url: &str, n: i64) -> Database {
    let db = Database::connect(url).expect("connect");
    db.create_tables(&[Item::TABLE]).expect("create table");
    let mut s = db.session();
    s.add_all(items(1, n));
    s.commit().expect("seed");
    db
}

/// A temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("orm-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn orm_filtered(s: &mut Session) -> Vec<Item> {
    s.query::<Item>()
        .filter(Item::name.like(NAME_PATTERN))
        .order_by(Item::id.asc())
        .limit(LIMIT.unsigned_abs())
        .all()
        .expect("filtered")
}

/// Workloads 1, 2 and 5 on in-memory databases.
fn reads(c: &mut Criterion) {
    let orm = orm_database("sqlite::memory:", ROWS);
    let raw = raw_database(None, &orm, ROWS);
    let ids = get_ids();

    let mut all = raw.prepare(&select_all()).expect("prepare");
    let mut by_id = raw.prepare(&select_by_id()).expect("prepare");
    let mut filtered = raw.prepare(&select_filtered()).expect("prepare");
    let raw_all = |stmt: &mut rusqlite::Statement<'_>| -> Vec<Item> {
        stmt.query_map([], raw_item).expect("query").collect::<Result<_, _>>().expect("rows")
    };
    let raw_filtered = |stmt: &mut rusqlite::Statement<'_>| -> Vec<Item> {
        stmt.query_map([NAME_GLOB], raw_item)
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };

    // Same answers on both sides before timing anything.
    let orm_rows = orm.session().query::<Item>().all().expect("all");
    assert_eq!(raw_all(&mut all), orm_rows);
    assert_eq!(orm_rows.len(), usize::try_from(ROWS).unwrap_or(0));
    assert_eq!(raw_filtered(&mut filtered), orm_filtered(&mut orm.session()));

    let mut g = group(c, "sqlite/1 read 10k rows");
    g.bench_function("raw", |b| b.iter(|| raw_all(&mut all)));
    g.bench_function("orm tracked", |b| {
        b.iter(|| orm.session().query::<Item>().all().expect("all"))
    });
    g.bench_function("orm untracked", |b| {
        b.iter(|| orm.session().query::<Item>().untracked().all().expect("all"))
    });
    g.finish();

    let mut g = group(c, "sqlite/2 get by key x1000");
    g.bench_function("raw", |b| {
        b.iter(|| {
            for &id in &ids {
                std::hint::black_box(by_id.query_row([id], raw_item).expect("get"));
            }
        })
    });
    g.bench_function("orm", |b| {
        b.iter(|| {
            for &id in &ids {
                let mut s = orm.session();
                std::hint::black_box(s.get::<Item>(id).expect("get").expect("row"));
            }
        })
    });
    g.finish();

    let mut g = group(c, "sqlite/5 filtered query x1000");
    g.bench_function("raw", |b| {
        b.iter(|| {
            for _ in 0..REPEAT {
                std::hint::black_box(raw_filtered(&mut filtered));
            }
        })
    });
    g.bench_function("orm", |b| {
        b.iter(|| {
            let mut s = orm.session();
            for _ in 0..REPEAT {
                std::hint::black_box(orm_filtered(&mut s));
            }
        })
    });
    g.finish();
}

/// Workloads 3 and 4 on database files.
fn writes(c: &mut Criterion) {
    let dir = TempDir::new();
    let orm_path = dir.0.join("orm.db");
    let orm = orm_database(&format!("sqlite://{}", orm_path.display()), UPDATE_ROWS);
    let raw = raw_database(Some(&dir.0.join("raw.db")), &orm, UPDATE_ROWS);
    // Resets the ORM's table between iterations, outside the timing.
    let orm_admin = raw_open(Some(&orm_path));
    let reset = format!("DELETE FROM bench_items WHERE id > {UPDATE_ROWS}");

    let mut insert = raw.prepare(INSERT).expect("prepare");
    let mut g = group(c, "sqlite/3 insert 1000 rows, one transaction");
    g.bench_function("raw", |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                &mut insert,
                |_| {
                    raw.execute_batch(&reset).expect("reset");
                    items(UPDATE_ROWS + 1, INSERT_ROWS)
                },
                |insert, mut rows| {
                    raw_insert(&raw, insert, &mut rows);
                    rows
                },
            )
        })
    });
    g.bench_function("orm", |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                &mut (),
                |_| {
                    orm_admin.execute_batch(&reset).expect("reset");
                    items(UPDATE_ROWS + 1, INSERT_ROWS)
                },
                |_, rows| {
                    let mut s = orm.session();
                    for it in rows {
                        s.add(it);
                    }
                    s.commit().expect("commit");
                    s
                },
            )
        })
    });
    g.finish();

    let mut up_to = raw.prepare(&select_up_to()).expect("prepare");
    let mut update = raw.prepare(UPDATE_SCORE).expect("prepare");
    let mut round = 0;
    let mut g = group(c, "sqlite/4 load 100, change one column, write back");
    g.bench_function("raw", |b| {
        b.iter(|| {
            round += 1;
            let mut rows: Vec<Item> = up_to
                .query_map([UPDATE_ROWS], raw_item)
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            raw.execute_batch("BEGIN IMMEDIATE").expect("begin");
            for it in &mut rows {
                it.score = Some(round);
                update.execute((it.score, it.id)).expect("update");
            }
            raw.execute_batch("COMMIT").expect("commit");
            rows
        })
    });
    g.bench_function("orm", |b| {
        b.iter(|| {
            round += 1;
            let mut s = orm.session();
            let rows = s.query::<Item>().filter(Item::id.le(UPDATE_ROWS)).all().expect("load");
            for mut it in rows {
                it.score = Some(round);
                s.add(it);
            }
            s.commit().expect("commit");
            s
        })
    });
    g.finish();
}

/// Workloads 6 and 7 on in-memory databases; the loading one holds the largest size, seeded
/// by SQL (one statement per table).
fn graphs(c: &mut Criterion) {
    let tables = [Playlist::TABLE, Track::TABLE];
    let flush_db = Database::connect("sqlite::memory:").expect("connect");
    flush_db.create_tables(&tables).expect("create tables");
    let load_db = Database::connect("sqlite::memory:").expect("connect");
    load_db.create_tables(&tables).expect("create tables");
    let parents = LOAD_PARENTS[LOAD_PARENTS.len() - 1];
    let children = parents * CHILDREN_PER_PARENT;
    let mut s = load_db.session();
    s.sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {parents}) \
         INSERT INTO bench_playlists (id, name) SELECT i, 'playlist-' || i FROM n"
    ))
    .execute()
    .expect("seed parents");
    s.sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {children}) \
         INSERT INTO bench_tracks (id, playlist_id, title, position) \
         SELECT i, (i - 1) / {CHILDREN_PER_PARENT} + 1, 'track-' || i, (i - 1) % \
         {CHILDREN_PER_PARENT} FROM n"
    ))
    .execute()
    .expect("seed children");
    s.commit().expect("seed");
    graph_groups(c, "sqlite", &flush_db, &load_db);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    reads(&mut c);
    writes(&mut c);
    graphs(&mut c);
    c.final_summary();
}
