//! Diesel's benchmark workloads on SQLite in memory (see `workloads`): rusqlite written the
//! fastest honest way (statements prepared once, hand-written JOIN and IN queries, multi-row
//! INSERTs) against the ORM, tracked and untracked, in one criterion group per workload. Each
//! workload gets fresh databases, as Diesel's do. `peers/` times Diesel on the same groups.
//! `cargo bench -p orm-benches --bench diesel_sqlite`.

mod workloads;

use criterion::Criterion;
use orm::prelude::*;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::collections::HashMap;
use workloads::*;

const BACKEND: &str = "sqlite";

const TRIVIAL: &str = "SELECT id, name, hair_color FROM users";
const MEDIUM_JOIN: &str = "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body \
                           FROM users AS u LEFT JOIN posts AS p ON u.id = p.user_id \
                           WHERE u.hair_color = ?1";
const USERS_BY_HAIR: &str = "SELECT id, name, hair_color FROM users WHERE hair_color = ?1";
const UPDATE_HAIR: &str = "UPDATE users SET hair_color = ?1 WHERE id = ?2";

/// An in-memory rusqlite connection set up as the ORM sets up its own, holding Diesel's schema.
fn raw_db() -> Connection {
    let flags = OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE;
    let conn = Connection::open_in_memory_with_flags(flags).expect("open SQLite");
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;").expect("pragmas");
    conn.set_prepared_statement_cache_capacity(64);
    for stmt in SQLITE_SCHEMA {
        conn.execute_batch(stmt).expect("schema");
    }
    conn
}

/// An in-memory ORM database holding Diesel's schema.
fn orm_db() -> Database {
    let db = Database::connect("sqlite::memory:").expect("connect");
    orm_schema(&db, SQLITE_SCHEMA);
    db
}

/// Both databases, each seeded by the same statements.
fn both(seed: &[String]) -> (Connection, Database) {
    let raw = raw_db();
    let db = orm_db();
    let mut s = db.session();
    for stmt in seed {
        raw.execute_batch(stmt).expect("seed raw");
        s.sql(stmt).execute().expect("seed orm");
    }
    s.commit().expect("seed");
    (raw, db)
}

fn user(row: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn post_at(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<PostRow> {
    Ok((row.get(at)?, row.get(at + 1)?, row.get(at + 2)?, row.get(at + 3)?))
}

fn raw_trivial(conn: &Connection) -> Vec<UserRow> {
    let mut stmt = conn.prepare_cached(TRIVIAL).expect("prepare");
    let rows = stmt.query_map([], user).expect("query");
    rows.collect::<Result<_, _>>().expect("rows")
}

fn raw_medium_join(conn: &Connection) -> JoinedRows {
    let mut stmt = conn.prepare_cached(MEDIUM_JOIN).expect("prepare");
    let rows = stmt
        .query_map(["black"], |row| {
            let post = match row.get::<_, Option<i32>>(3)? {
                Some(_) => Some(post_at(row, 3)?),
                None => None,
            };
            Ok((user(row)?, post))
        })
        .expect("query");
    rows.collect::<Result<_, _>>().expect("rows")
}

/// `?, ?, ...` with `n` placeholders.
fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 2);
    for i in 0..n {
        s.push_str(if i == 0 { "?" } else { ",?" });
    }
    s
}

/// Posts of `user_ids` by one IN query.
fn raw_posts_of(conn: &Connection, user_ids: &[i32]) -> Vec<PostRow> {
    if user_ids.is_empty() {
        return Vec::new();
    }
    let sql = format!(
        "SELECT id, user_id, title, body FROM posts WHERE user_id IN ({})",
        placeholders(user_ids.len())
    );
    let mut stmt = conn.prepare_cached(&sql).expect("prepare");
    let rows =
        stmt.query_map(rusqlite::params_from_iter(user_ids), |row| post_at(row, 0)).expect("query");
    rows.collect::<Result<_, _>>().expect("rows")
}

/// The medium query as selectin does it: the users, then their posts by one IN query, each
/// post put under its user.
fn raw_medium_in(conn: &Connection) -> Vec<(UserRow, Vec<PostRow>)> {
    let mut stmt = conn.prepare_cached(USERS_BY_HAIR).expect("prepare");
    let rows = stmt.query_map(["black"], user).expect("query");
    let mut users: Vec<(UserRow, Vec<PostRow>)> =
        rows.map(|u| u.map(|u| (u, Vec::new()))).collect::<Result<_, _>>().expect("rows");
    let ids: Vec<i32> = users.iter().map(|u| u.0 .0).collect();
    let at: HashMap<i32, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for p in raw_posts_of(conn, &ids) {
        if let Some(&i) = at.get(&p.1) {
            users[i].1.push(p);
        }
    }
    users
}

fn flatten(users: Vec<(UserRow, Vec<PostRow>)>) -> JoinedRows {
    let mut out = Vec::new();
    for (u, posts) in users {
        if posts.is_empty() {
            out.push((u, None));
        } else {
            out.extend(posts.into_iter().map(|p| (u.clone(), Some(p))));
        }
    }
    sorted_joined(out)
}

/// `INSERT INTO users (name, hair_color) VALUES (?, ?), ...` for `n` users.
fn insert_users_sql(n: usize, returning: &str) -> String {
    format!(
        "INSERT INTO users (name, hair_color) VALUES {}{returning}",
        vec!["(?, ?)"; n].join(", ")
    )
}

/// Diesel's rusqlite insert: `n` users in one multi-row INSERT, prepared once by the caller.
fn raw_insert(stmt: &mut rusqlite::Statement<'_>, n: usize) -> usize {
    let users: Vec<(String, Option<&str>)> =
        (0..n).map(|i| (format!("User {i}"), Some("hair_color"))).collect();
    let params: Vec<&dyn rusqlite::ToSql> =
        users.iter().flat_map(|(name, hair)| [name as &dyn rusqlite::ToSql, hair as _]).collect();
    stmt.execute(params.as_slice()).expect("insert")
}

/// Users, their posts, their posts' comments: three queries, assembled in Rust.
fn raw_associations(conn: &Connection) -> Tree {
    let users = raw_trivial(conn);
    let user_ids: Vec<i32> = users.iter().map(|u| u.0).collect();
    let posts = raw_posts_of(conn, &user_ids);
    let post_ids: Vec<i32> = posts.iter().map(|p| p.0).collect();
    let sql = format!(
        "SELECT id, post_id, text FROM comments WHERE post_id IN ({})",
        placeholders(post_ids.len())
    );
    let mut stmt = conn.prepare_cached(&sql).expect("prepare");
    let comments: Vec<CommentRow> = stmt
        .query_map(rusqlite::params_from_iter(&post_ids), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assemble(users, posts, comments)
}

/// Puts comments under their posts and posts under their users (hash maps, key order kept).
fn assemble(users: Vec<UserRow>, posts: Vec<PostRow>, comments: Vec<CommentRow>) -> Tree {
    let post_at: HashMap<i32, usize> = posts.iter().enumerate().map(|(i, p)| (p.0, i)).collect();
    let mut posts: Vec<(PostRow, Vec<CommentRow>)> =
        posts.into_iter().map(|p| (p, Vec::new())).collect();
    for c in comments {
        if let Some(&i) = post_at.get(&c.1) {
            posts[i].1.push(c);
        }
    }
    let user_at: HashMap<i32, usize> = users.iter().enumerate().map(|(i, u)| (u.0, i)).collect();
    let mut tree: Tree = users.into_iter().map(|u| (u, Vec::new())).collect();
    for p in posts {
        if let Some(&i) = user_at.get(&p.0 .1) {
            tree[i].1.push(p);
        }
    }
    tree
}

/// Load every user, change each one's hair colour, write the changes back in one transaction.
fn raw_update(conn: &mut Connection, round: u64) -> Vec<UserRow> {
    let mut users = raw_trivial(conn);
    let colour = format!("colour {round}");
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).expect("begin");
    {
        let mut stmt = tx.prepare_cached(UPDATE_HAIR).expect("prepare");
        for u in &mut users {
            u.2 = Some(colour.clone());
            stmt.execute((&u.2, u.0)).expect("update");
        }
    }
    tx.commit().expect("commit");
    users
}

/// The graph's two INSERTs, prepared once: the users (RETURNING their keys with their names,
/// since SQLite returns the rows in no set order), then all their posts.
struct GraphStatements<'c> {
    users: rusqlite::Statement<'c>,
    posts: rusqlite::Statement<'c>,
}

impl<'c> GraphStatements<'c> {
    fn new(conn: &'c Connection) -> GraphStatements<'c> {
        let posts = format!(
            "INSERT INTO posts (user_id, title, body) VALUES {}",
            vec!["(?, ?, ?)"; GRAPH_USERS * GRAPH_POSTS].join(", ")
        );
        GraphStatements {
            users: conn
                .prepare(&insert_users_sql(GRAPH_USERS, " RETURNING id, name"))
                .expect("prepare"),
            posts: conn.prepare(&posts).expect("prepare"),
        }
    }
}

/// The graph by hand: one multi-row INSERT of the users, one of their posts, one transaction
/// (`BEGIN IMMEDIATE`, as the ORM writes).
fn raw_graph(conn: &Connection, g: &mut GraphStatements<'_>, round: u64) {
    let users: Vec<User> = (0..GRAPH_USERS).map(|k| graph_user(round, k)).collect();
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    let params: Vec<&dyn rusqlite::ToSql> =
        users.iter().flat_map(|u| [&u.name as &dyn rusqlite::ToSql, &u.hair_color as _]).collect();
    let mut keys: HashMap<String, i32> = HashMap::with_capacity(users.len());
    let mut rows = g.users.query(params.as_slice()).expect("insert users");
    while let Some(row) = rows.next().expect("row") {
        keys.insert(row.get(1).expect("name"), row.get(0).expect("id"));
    }
    drop(rows);
    let posts: Vec<(i32, &Post)> = users
        .iter()
        .flat_map(|u| {
            let id = keys.get(&u.name).copied().expect("the user's key");
            u.posts.loaded().into_iter().flatten().map(move |p| (id, p))
        })
        .collect();
    let params: Vec<&dyn rusqlite::ToSql> = posts
        .iter()
        .flat_map(|(id, p)| [id as &dyn rusqlite::ToSql, &p.title as _, &p.body as _])
        .collect();
    g.posts.execute(params.as_slice()).expect("insert posts");
    conn.execute_batch("COMMIT").expect("commit");
}

fn raw_users(conn: &Connection) -> Vec<UserRow> {
    let mut u = raw_trivial(conn);
    u.sort_by_key(|u| u.0);
    u
}

fn raw_posts(conn: &Connection) -> Vec<PostRow> {
    let mut stmt =
        conn.prepare_cached("SELECT id, user_id, title, body FROM posts").expect("prepare");
    let mut p: Vec<PostRow> = stmt
        .query_map([], |r| post_at(r, 0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    p.sort_by_key(|p| p.0);
    p
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

fn orm_count(db: &Database, sql: &str) -> i64 {
    let (n,): (i64,) = db.session().sql(sql).one().expect("count");
    n
}

fn reads(c: &mut Criterion) {
    for n in TRIVIAL_SIZES {
        let (raw, db) = both(&[seed_users_sql(BACKEND, n, Hair::None)]);
        let theirs = raw_trivial(&raw);
        assert_eq!(theirs.len(), n);
        assert_eq!(theirs, orm_trivial(&db, true).iter().map(user_row).collect::<Vec<_>>());
        assert_eq!(theirs, orm_trivial(&db, false).iter().map(user_row).collect::<Vec<_>>());
        let mut g = group(c, BACKEND, trivial_name(n));
        g.bench_function("raw", |b| b.iter(|| raw_trivial(&raw)));
        g.bench_function("orm tracked", |b| b.iter(|| orm_trivial(&db, true)));
        g.bench_function("orm untracked", |b| b.iter(|| orm_trivial(&db, false)));
        g.finish();
    }

    let (raw, db) = both(&[seed_users_sql(BACKEND, MEDIUM_SIZE, Hair::BlackOrBrown)]);
    let theirs = sorted_joined(raw_medium_join(&raw));
    assert_eq!(theirs.len(), MEDIUM_SIZE / 2);
    assert_eq!(theirs, flatten(raw_medium_in(&raw)));
    for tracked in [true, false] {
        assert_eq!(theirs, joined_rows(&orm_medium_joined(&db, tracked)));
        assert_eq!(theirs, joined_rows(&orm_medium_selectin(&db, tracked)));
    }
    let mut g = group(c, BACKEND, "medium query 10k, load_joined");
    g.bench_function("raw", |b| b.iter(|| raw_medium_join(&raw)));
    g.bench_function("orm tracked", |b| b.iter(|| orm_medium_joined(&db, true)));
    g.bench_function("orm untracked", |b| b.iter(|| orm_medium_joined(&db, false)));
    g.finish();
    let mut g = group(c, BACKEND, "medium query 10k, load (selectin)");
    g.bench_function("raw", |b| b.iter(|| raw_medium_in(&raw)));
    g.bench_function("orm tracked", |b| b.iter(|| orm_medium_selectin(&db, true)));
    g.bench_function("orm untracked", |b| b.iter(|| orm_medium_selectin(&db, false)));
    g.finish();

    let mut seed = vec![seed_users_sql(BACKEND, ASSOC_USERS_SQLITE, Hair::BlackOrBrown)];
    seed.extend(seed_associations_sql(BACKEND));
    let (raw, db) = both(&seed);
    let theirs = sorted_tree(raw_associations(&raw));
    assert_eq!(theirs.len(), ASSOC_USERS_SQLITE);
    assert!(theirs.iter().all(|(_, p)| p.len() == 10 && p.iter().all(|(_, c)| c.len() == 10)));
    assert_eq!(theirs, tree(&orm_associations(&db, true)));
    assert_eq!(theirs, tree(&orm_associations(&db, false)));
    let mut g = group(c, BACKEND, "associations users-posts-comments");
    g.bench_function("raw", |b| b.iter(|| raw_associations(&raw)));
    g.bench_function("orm tracked", |b| b.iter(|| orm_associations(&db, true)));
    g.bench_function("orm untracked", |b| b.iter(|| orm_associations(&db, false)));
    g.finish();
}

fn writes(c: &mut Criterion) {
    for n in INSERT_SIZES {
        let (raw, db) = both(&[]);
        let mut insert = raw.prepare(&insert_users_sql(n, "")).expect("prepare");
        assert_eq!(raw_insert(&mut insert, n), n);
        drop(orm_insert(&db, n));
        let theirs = raw_users(&raw);
        assert_eq!(theirs.len(), n);
        assert_eq!(theirs, orm_users(&db));
        let mut g = group(c, BACKEND, insert_name(n));
        g.bench_function("raw", |b| b.iter(|| raw_insert(&mut insert, n)));
        g.bench_function("orm tracked", |b| b.iter(|| orm_insert(&db, n)));
        g.finish();
    }

    let (mut raw, db) = both(&[seed_users_sql(BACKEND, UPDATE_ROWS, Hair::BlackOrBrown)]);
    let changed = raw_update(&mut raw, 0);
    assert_eq!(changed.len(), UPDATE_ROWS);
    assert_eq!(changed, raw_users(&raw));
    drop(orm_update(&db, 0));
    assert_eq!(changed, orm_users(&db));
    let mut round = 0;
    let mut g = group(c, BACKEND, "load 1000, change one column each, commit");
    g.bench_function("raw", |b| {
        b.iter(|| {
            round += 1;
            raw_update(&mut raw, round)
        })
    });
    g.bench_function("orm tracked", |b| {
        b.iter(|| {
            round += 1;
            orm_update(&db, round)
        })
    });
    g.finish();

    let (raw, db) = both(&[]);
    let mut statements = GraphStatements::new(&raw);
    raw_graph(&raw, &mut statements, 0);
    drop(orm_graph(&db, 0));
    let expected = i64::try_from(GRAPH_USERS * GRAPH_POSTS).unwrap_or(0);
    assert_eq!(count(&raw, GRAPH_CHECK), expected);
    assert_eq!(orm_count(&db, GRAPH_CHECK), expected);
    assert_eq!(raw_users(&raw), orm_users(&db));
    assert_eq!(raw_posts(&raw), orm_posts(&db));
    let mut round = 0;
    let mut g = group(c, BACKEND, "add 100 users x 10 posts, commit");
    g.bench_function("raw", |b| {
        b.iter(|| {
            round += 1;
            raw_graph(&raw, &mut statements, round)
        })
    });
    g.bench_function("orm tracked", |b| {
        b.iter(|| {
            round += 1;
            orm_graph(&db, round)
        })
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    reads(&mut c);
    writes(&mut c);
    c.final_summary();
}
