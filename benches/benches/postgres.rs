//! The ORM against the `postgres` driver on the same tables of the PostgreSQL test server
//! (`ORM_TEST_POSTGRES_URL`, or a throwaway cluster this process starts; see
//! `orm::testing::postgres_server`). Each criterion group holds the raw driver and the ORM side
//! by side, so their ratio reads directly; the graph workloads (6 and 7) time the ORM alone at
//! several sizes, to show how its cost per object grows.
//! `cargo bench -p orm-benches --bench postgres`.

mod common;

use common::*;
use criterion::Criterion;
use orm::prelude::*;
use orm::testing::postgres_server::TestSchema;
use postgres::{Client, NoTls};

const COLUMNS: &str = "id, name, email, score, created_at, active";

fn select_all() -> String {
    format!("SELECT {COLUMNS} FROM bench_items")
}
fn select_by_id() -> String {
    format!("SELECT {COLUMNS} FROM bench_items WHERE id = $1")
}
fn select_filtered() -> String {
    // LIMIT as a literal, as the ORM writes it (on PostgreSQL a bound LIMIT can change the plan).
    format!("SELECT {COLUMNS} FROM bench_items WHERE name LIKE $1 ORDER BY id LIMIT {LIMIT}")
}
fn select_up_to() -> String {
    format!("SELECT {COLUMNS} FROM bench_items WHERE id <= $1")
}
const INSERT: &str = "INSERT INTO bench_items (name, email, score, created_at, active) \
                      VALUES ($1, $2, $3, $4, $5) RETURNING id";
const UPDATE_SCORE: &str = "UPDATE bench_items SET score = $1 WHERE id = $2";

/// Decodes a row of `COLUMNS` into the model, as a `postgres` user would.
fn raw_item(row: &postgres::Row) -> Result<Item, postgres::Error> {
    Ok(Item {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        email: row.try_get(2)?,
        score: row.try_get(3)?,
        created_at: row.try_get(4)?,
        active: row.try_get(5)?,
    })
}

fn raw_rows(rows: Vec<postgres::Row>) -> Vec<Item> {
    rows.iter().map(raw_item).collect::<Result<_, _>>().expect("rows")
}

/// Inserts `rows` with a prepared statement, one transaction, keys written back.
fn raw_insert(client: &mut Client, stmt: &postgres::Statement, rows: &mut [Item]) {
    let mut tx = client.transaction().expect("begin");
    for it in rows.iter_mut() {
        it.id = tx
            .query_one(stmt, &[&it.name, &it.email, &it.score, &it.created_at, &it.active])
            .and_then(|r| r.try_get(0))
            .expect("insert");
    }
    tx.commit().expect("commit");
}

/// A fresh schema on the test server holding the ORM's table with `n` seed rows (added through
/// an ORM session), and a database and a raw client both using it.
fn databases(n: i64) -> (TestSchema, Database, Client) {
    let schema = TestSchema::create().expect("PostgreSQL test server");
    let db = Database::connect(schema.url()).expect("connect");
    db.create_tables(&[Item::TABLE]).expect("create table");
    let mut s = db.session();
    s.add_all(items(1, n));
    s.commit().expect("seed");
    let mut client = Client::connect(schema.url(), NoTls).expect("raw connect");
    client.batch_execute("ANALYZE bench_items").expect("analyze");
    (schema, db, client)
}

fn orm_filtered(s: &mut Session) -> Vec<Item> {
    s.query::<Item>()
        .filter(Item::name.like(NAME_PATTERN))
        .order_by(Item::id.asc())
        .limit(LIMIT.unsigned_abs())
        .all()
        .expect("filtered")
}

/// Workloads 1, 2 and 5.
fn reads(c: &mut Criterion) {
    let (_schema, orm, mut raw) = databases(ROWS);
    let ids = get_ids();
    let all = raw.prepare(&select_all()).expect("prepare");
    let by_id = raw.prepare(&select_by_id()).expect("prepare");
    let filtered = raw.prepare(&select_filtered()).expect("prepare");

    // Same answers on both sides before timing anything.
    let orm_rows = orm.session().query::<Item>().all().expect("all");
    assert_eq!(raw_rows(raw.query(&all, &[]).expect("all")), orm_rows);
    assert_eq!(orm_rows.len(), usize::try_from(ROWS).unwrap_or(0));
    assert_eq!(
        raw_rows(raw.query(&filtered, &[&NAME_PATTERN]).expect("filtered")),
        orm_filtered(&mut orm.session())
    );

    let mut g = group(c, "postgres/1 read 10k rows");
    g.bench_function("raw", |b| b.iter(|| raw_rows(raw.query(&all, &[]).expect("all"))));
    g.bench_function("orm tracked", |b| {
        b.iter(|| orm.session().query::<Item>().all().expect("all"))
    });
    g.bench_function("orm untracked", |b| {
        b.iter(|| orm.session().query::<Item>().untracked().all().expect("all"))
    });
    g.finish();

    let mut g = group(c, "postgres/2 get by key x1000");
    g.bench_function("raw", |b| {
        b.iter(|| {
            for id in &ids {
                let row = raw.query_opt(&by_id, &[id]).expect("get").expect("row");
                std::hint::black_box(raw_item(&row).expect("decode"));
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

    let mut g = group(c, "postgres/5 filtered query x1000");
    g.bench_function("raw", |b| {
        b.iter(|| {
            for _ in 0..REPEAT {
                let rows = raw.query(&filtered, &[&NAME_PATTERN]).expect("filtered");
                std::hint::black_box(raw_rows(rows));
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

/// Workloads 3 and 4, on a table that holds `UPDATE_ROWS` rows between iterations.
fn writes(c: &mut Criterion) {
    let (_schema, orm, mut raw) = databases(UPDATE_ROWS);
    let reset = format!("DELETE FROM bench_items WHERE id > {UPDATE_ROWS}");

    let insert = raw.prepare(INSERT).expect("prepare");
    let mut g = group(c, "postgres/3 insert 1000 rows, one transaction");
    g.bench_function("raw", |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                &mut raw,
                |raw| {
                    raw.batch_execute(&reset).expect("reset");
                    items(UPDATE_ROWS + 1, INSERT_ROWS)
                },
                |raw, mut rows| {
                    raw_insert(raw, &insert, &mut rows);
                    rows
                },
            )
        })
    });
    g.bench_function("orm", |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                &mut raw,
                |raw| {
                    raw.batch_execute(&reset).expect("reset");
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

    let up_to = raw.prepare(&select_up_to()).expect("prepare");
    let update = raw.prepare(UPDATE_SCORE).expect("prepare");
    let mut round = 0;
    let mut g = group(c, "postgres/4 load 100, change one column, write back");
    g.bench_function("raw", |b| {
        b.iter(|| {
            round += 1;
            let mut rows = raw_rows(raw.query(&up_to, &[&UPDATE_ROWS]).expect("load"));
            let mut tx = raw.transaction().expect("begin");
            for it in &mut rows {
                it.score = Some(round);
                tx.execute(&update, &[&it.score, &it.id]).expect("update");
            }
            tx.commit().expect("commit");
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

/// Workloads 6 and 7, each in a schema of its own; the loading one holds the largest size,
/// seeded by SQL (one statement per table).
fn graphs(c: &mut Criterion) {
    let tables = [Playlist::TABLE, Track::TABLE];
    let flush_db = orm::testing::postgres_database_with(&tables).expect("PostgreSQL test server");
    let load_db = orm::testing::postgres_database_with(&tables).expect("PostgreSQL test server");
    let parents = LOAD_PARENTS[LOAD_PARENTS.len() - 1];
    let children = parents * CHILDREN_PER_PARENT;
    let mut s = load_db.session();
    s.sql(&format!(
        "INSERT INTO bench_playlists (id, name) \
         SELECT i, 'playlist-' || i FROM generate_series(1, {parents}) AS i"
    ))
    .execute()
    .expect("seed parents");
    s.sql(&format!(
        "INSERT INTO bench_tracks (id, playlist_id, title, position) \
         SELECT i, (i - 1) / {CHILDREN_PER_PARENT} + 1, 'track-' || i, (i - 1) % \
         {CHILDREN_PER_PARENT} FROM generate_series(1, {children}) AS i"
    ))
    .execute()
    .expect("seed children");
    s.sql("ANALYZE bench_playlists").execute().expect("analyze");
    s.sql("ANALYZE bench_tracks").execute().expect("analyze");
    s.commit().expect("seed");
    graph_groups(c, "postgres", &flush_db, &load_db);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    reads(&mut c);
    writes(&mut c);
    graphs(&mut c);
    c.final_summary();
}
