//! Diesel's benchmark workloads on PostgreSQL (see `workloads`), on the test server of
//! `orm::testing` (`ORM_TEST_POSTGRES_URL`, or a throwaway cluster this process starts): the
//! `postgres` driver written the fastest honest way (statements prepared once, hand-written
//! JOIN and `= ANY($1)` queries, multi-row INSERTs) against the ORM, tracked and untracked, in
//! one criterion group per workload. Rows are read with `Client::query` (the whole result
//! buffered), not streamed with `query_raw`: with client and server pinned to one CPU, as
//! `tools/bench/run.sh` runs them, streaming 10,000 rows took 13.6 ms against 8.0 ms buffered
//! (the streaming client wakes for each network buffer, and each wake is a context switch with
//! the server). Each workload gets a fresh
//! schema, as Diesel's get truncated tables. `peers/` times Diesel on the same groups.
//! `cargo bench -p orm-benches --bench diesel_postgres`.

mod workloads;

use criterion::Criterion;
use orm::prelude::*;
use orm::testing::postgres_server::TestSchema;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use workloads::*;

const BACKEND: &str = "postgres";

const TRIVIAL: &str = "SELECT id, name, hair_color FROM users";
const MEDIUM_JOIN: &str = "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body \
                           FROM users AS u LEFT JOIN posts AS p ON u.id = p.user_id \
                           WHERE u.hair_color = $1";
const USERS_BY_HAIR: &str = "SELECT id, name, hair_color FROM users WHERE hair_color = $1";
const POSTS_OF: &str = "SELECT id, user_id, title, body FROM posts WHERE user_id = ANY($1)";
const COMMENTS_OF: &str = "SELECT id, post_id, text FROM comments WHERE post_id = ANY($1)";
const UPDATE_HAIR: &str = "UPDATE users SET hair_color = $1 WHERE id = $2";
/// Empties the tables between the checks of a write workload.
const EMPTY_TABLES: &str = "TRUNCATE users, posts, comments RESTART IDENTITY";

/// A fresh schema holding Diesel's tables seeded by `seed`, a raw client and an ORM database
/// both using it.
fn both(seed: &[String]) -> (TestSchema, Client, Database) {
    let schema = TestSchema::create().expect("PostgreSQL test server");
    let mut raw = Client::connect(schema.url(), NoTls).expect("raw connect");
    for stmt in POSTGRES_SCHEMA {
        raw.batch_execute(stmt).expect("schema");
    }
    for stmt in seed {
        raw.batch_execute(stmt).expect("seed");
    }
    raw.batch_execute("ANALYZE users; ANALYZE posts; ANALYZE comments").expect("analyze");
    let db = Database::connect(schema.url()).expect("connect");
    (schema, raw, db)
}

fn user(row: &postgres::Row) -> Result<UserRow, postgres::Error> {
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

fn post_at(row: &postgres::Row, at: usize) -> Result<PostRow, postgres::Error> {
    Ok((row.try_get(at)?, row.try_get(at + 1)?, row.try_get(at + 2)?, row.try_get(at + 3)?))
}

fn comment(row: &postgres::Row) -> Result<CommentRow, postgres::Error> {
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

/// The prepared statements of the raw side.
struct Prepared {
    trivial: Statement,
    medium_join: Statement,
    users_by_hair: Statement,
    posts_of: Statement,
    comments_of: Statement,
    update_hair: Statement,
}

impl Prepared {
    fn new(c: &mut Client) -> Prepared {
        Prepared {
            trivial: c.prepare(TRIVIAL).expect("prepare"),
            medium_join: c.prepare(MEDIUM_JOIN).expect("prepare"),
            users_by_hair: c.prepare(USERS_BY_HAIR).expect("prepare"),
            posts_of: c.prepare(POSTS_OF).expect("prepare"),
            comments_of: c.prepare(COMMENTS_OF).expect("prepare"),
            update_hair: c.prepare(UPDATE_HAIR).expect("prepare"),
        }
    }
}

fn raw_trivial(c: &mut Client, p: &Prepared) -> Vec<UserRow> {
    let rows = c.query(&p.trivial, &[]).expect("query");
    rows.iter().map(user).collect::<Result<_, _>>().expect("rows")
}

fn raw_medium_join(c: &mut Client, p: &Prepared) -> JoinedRows {
    let rows = c.query(&p.medium_join, &[&"black"]).expect("query");
    rows.iter()
        .map(|row| {
            let post = match row.try_get::<_, Option<i32>>(3)? {
                Some(_) => Some(post_at(row, 3)?),
                None => None,
            };
            Ok((user(row)?, post))
        })
        .collect::<Result<_, postgres::Error>>()
        .expect("rows")
}

fn raw_posts_of(c: &mut Client, p: &Prepared, user_ids: &[i32]) -> Vec<PostRow> {
    let rows = c.query(&p.posts_of, &[&user_ids]).expect("query");
    rows.iter().map(|r| post_at(r, 0)).collect::<Result<_, _>>().expect("rows")
}

/// The medium query as selectin does it: the users, then their posts by one `= ANY($1)`
/// query, each post put under its user.
fn raw_medium_in(c: &mut Client, p: &Prepared) -> Vec<(UserRow, Vec<PostRow>)> {
    let rows = c.query(&p.users_by_hair, &[&"black"]).expect("query");
    let mut users: Vec<(UserRow, Vec<PostRow>)> = rows
        .iter()
        .map(|r| Ok((user(r)?, Vec::new())))
        .collect::<Result<_, postgres::Error>>()
        .expect("rows");
    let ids: Vec<i32> = users.iter().map(|u| u.0 .0).collect();
    let at: HashMap<i32, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for post in raw_posts_of(c, p, &ids) {
        if let Some(&i) = at.get(&post.1) {
            users[i].1.push(post);
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

/// `($1, $2), ($3, $4), ...`: `rows` tuples of `width` parameters.
fn values(rows: usize, width: usize) -> String {
    let mut s = String::new();
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        for w in 0..width {
            if w > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("${}", r * width + w + 1));
        }
        s.push(')');
    }
    s
}

/// Diesel's insert: `n` users in one multi-row INSERT (prepared once).
fn raw_insert(c: &mut Client, stmt: &Statement, n: usize) -> u64 {
    let users: Vec<(String, Option<&str>)> =
        (0..n).map(|i| (format!("User {i}"), Some("hair_color"))).collect();
    let params: Vec<&(dyn ToSql + Sync)> =
        users.iter().flat_map(|(name, hair)| [name as &(dyn ToSql + Sync), hair as _]).collect();
    c.execute(stmt, &params).expect("insert")
}

/// Users, their posts, their posts' comments: three queries, assembled in Rust.
fn raw_associations(c: &mut Client, p: &Prepared) -> Tree {
    let users = raw_trivial(c, p);
    let user_ids: Vec<i32> = users.iter().map(|u| u.0).collect();
    let posts = raw_posts_of(c, p, &user_ids);
    let post_ids: Vec<i32> = posts.iter().map(|p| p.0).collect();
    let rows = c.query(&p.comments_of, &[&post_ids]).expect("query");
    let comments: Vec<CommentRow> =
        rows.iter().map(comment).collect::<Result<_, _>>().expect("rows");
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
fn raw_update(c: &mut Client, p: &Prepared, round: u64) -> Vec<UserRow> {
    let mut users = raw_trivial(c, p);
    let colour = format!("colour {round}");
    let mut tx = c.transaction().expect("begin");
    for u in &mut users {
        u.2 = Some(colour.clone());
        tx.execute(&p.update_hair, &[&u.2, &u.0]).expect("update");
    }
    tx.commit().expect("commit");
    users
}

/// The graph's two prepared INSERTs: the users (RETURNING their keys with their names, to
/// match them without relying on the order of RETURNING rows), then all their posts.
struct GraphStatements {
    users: Statement,
    posts: Statement,
}

impl GraphStatements {
    fn new(c: &mut Client) -> GraphStatements {
        let users = format!(
            "INSERT INTO users (name, hair_color) VALUES {} RETURNING id, name",
            values(GRAPH_USERS, 2)
        );
        let posts = format!(
            "INSERT INTO posts (user_id, title, body) VALUES {}",
            values(GRAPH_USERS * GRAPH_POSTS, 3)
        );
        GraphStatements {
            users: c.prepare(&users).expect("prepare"),
            posts: c.prepare(&posts).expect("prepare"),
        }
    }
}

/// The graph by hand: one multi-row INSERT of the users, one of their posts, one transaction.
fn raw_graph(c: &mut Client, g: &GraphStatements, round: u64) {
    let users: Vec<User> = (0..GRAPH_USERS).map(|k| graph_user(round, k)).collect();
    let mut tx = c.transaction().expect("begin");
    let params: Vec<&(dyn ToSql + Sync)> =
        users.iter().flat_map(|u| [&u.name as &(dyn ToSql + Sync), &u.hair_color as _]).collect();
    let mut keys: HashMap<String, i32> = HashMap::with_capacity(users.len());
    for row in tx.query(&g.users, &params).expect("insert users") {
        keys.insert(row.get(1), row.get(0));
    }
    let posts: Vec<(i32, &Post)> = users
        .iter()
        .flat_map(|u| {
            let id = keys.get(&u.name).copied().expect("the user's key");
            u.posts.loaded().into_iter().flatten().map(move |p| (id, p))
        })
        .collect();
    let params: Vec<&(dyn ToSql + Sync)> = posts
        .iter()
        .flat_map(|(id, p)| [id as &(dyn ToSql + Sync), &p.title as _, &p.body as _])
        .collect();
    tx.execute(&g.posts, &params).expect("insert posts");
    tx.commit().expect("commit");
}

fn raw_users(c: &mut Client) -> Vec<UserRow> {
    let rows = c.query("SELECT id, name, hair_color FROM users ORDER BY id", &[]).expect("users");
    rows.iter().map(user).collect::<Result<_, _>>().expect("rows")
}

fn raw_posts(c: &mut Client) -> Vec<PostRow> {
    let rows =
        c.query("SELECT id, user_id, title, body FROM posts ORDER BY id", &[]).expect("posts");
    rows.iter().map(|r| post_at(r, 0)).collect::<Result<_, _>>().expect("rows")
}

fn count(c: &mut Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).expect("count").get(0)
}

fn reads(c: &mut Criterion) {
    for n in TRIVIAL_SIZES {
        let (_schema, mut raw, db) = both(&[seed_users_sql(BACKEND, n, Hair::None)]);
        let p = Prepared::new(&mut raw);
        let theirs = raw_trivial(&mut raw, &p);
        assert_eq!(theirs.len(), n);
        assert_eq!(theirs, orm_trivial(&db, true).iter().map(user_row).collect::<Vec<_>>());
        assert_eq!(theirs, orm_trivial(&db, false).iter().map(user_row).collect::<Vec<_>>());
        let mut g = group(c, BACKEND, trivial_name(n));
        g.bench_function("raw", |b| b.iter(|| raw_trivial(&mut raw, &p)));
        g.bench_function("orm tracked", |b| b.iter(|| orm_trivial(&db, true)));
        g.bench_function("orm untracked", |b| b.iter(|| orm_trivial(&db, false)));
        g.finish();
    }

    let (_schema, mut raw, db) = both(&[seed_users_sql(BACKEND, MEDIUM_SIZE, Hair::BlackOrBrown)]);
    let p = Prepared::new(&mut raw);
    let theirs = sorted_joined(raw_medium_join(&mut raw, &p));
    assert_eq!(theirs.len(), MEDIUM_SIZE / 2);
    assert_eq!(theirs, flatten(raw_medium_in(&mut raw, &p)));
    for tracked in [true, false] {
        assert_eq!(theirs, joined_rows(&orm_medium_joined(&db, tracked)));
        assert_eq!(theirs, joined_rows(&orm_medium_selectin(&db, tracked)));
    }
    let mut g = group(c, BACKEND, "medium query 10k, load_joined");
    g.bench_function("raw", |b| b.iter(|| raw_medium_join(&mut raw, &p)));
    g.bench_function("orm tracked", |b| b.iter(|| orm_medium_joined(&db, true)));
    g.bench_function("orm untracked", |b| b.iter(|| orm_medium_joined(&db, false)));
    g.finish();
    let mut g = group(c, BACKEND, "medium query 10k, load (selectin)");
    g.bench_function("raw", |b| b.iter(|| raw_medium_in(&mut raw, &p)));
    g.bench_function("orm tracked", |b| b.iter(|| orm_medium_selectin(&db, true)));
    g.bench_function("orm untracked", |b| b.iter(|| orm_medium_selectin(&db, false)));
    g.finish();

    let mut seed = vec![seed_users_sql(BACKEND, ASSOC_USERS_POSTGRES, Hair::BlackOrBrown)];
    seed.extend(seed_associations_sql(BACKEND));
    let (_schema, mut raw, db) = both(&seed);
    let p = Prepared::new(&mut raw);
    let theirs = sorted_tree(raw_associations(&mut raw, &p));
    assert_eq!(theirs.len(), ASSOC_USERS_POSTGRES);
    assert!(theirs.iter().all(|(_, p)| p.len() == 10 && p.iter().all(|(_, c)| c.len() == 10)));
    assert_eq!(theirs, tree(&orm_associations(&db, true)));
    assert_eq!(theirs, tree(&orm_associations(&db, false)));
    let mut g = group(c, BACKEND, "associations users-posts-comments");
    g.bench_function("raw", |b| b.iter(|| raw_associations(&mut raw, &p)));
    g.bench_function("orm tracked", |b| b.iter(|| orm_associations(&db, true)));
    g.bench_function("orm untracked", |b| b.iter(|| orm_associations(&db, false)));
    g.finish();
}

fn writes(c: &mut Criterion) {
    for n in INSERT_SIZES {
        let (_schema, mut raw, db) = both(&[]);
        let insert = raw
            .prepare(&format!("INSERT INTO users (name, hair_color) VALUES {}", values(n, 2)))
            .expect("prepare");
        raw_insert(&mut raw, &insert, n);
        let theirs = raw_users(&mut raw);
        assert_eq!(theirs.len(), n);
        raw.batch_execute(EMPTY_TABLES).expect("empty");
        drop(orm_insert(&db, n));
        assert_eq!(theirs, orm_users(&db));
        let mut g = group(c, BACKEND, insert_name(n));
        g.bench_function("raw", |b| b.iter(|| raw_insert(&mut raw, &insert, n)));
        g.bench_function("orm tracked", |b| b.iter(|| orm_insert(&db, n)));
        g.finish();
    }

    let (_schema, mut raw, db) = both(&[seed_users_sql(BACKEND, UPDATE_ROWS, Hair::BlackOrBrown)]);
    let p = Prepared::new(&mut raw);
    let mut changed = raw_update(&mut raw, &p, 0);
    assert_eq!(changed.len(), UPDATE_ROWS);
    changed.sort_by_key(|u| u.0);
    assert_eq!(changed, raw_users(&mut raw));
    drop(orm_update(&db, 1));
    for u in &mut changed {
        u.2 = Some("colour 1".into());
    }
    assert_eq!(changed, orm_users(&db));
    let mut round = 1;
    let mut g = group(c, BACKEND, "load 1000, change one column each, commit");
    g.bench_function("raw", |b| {
        b.iter(|| {
            round += 1;
            raw_update(&mut raw, &p, round)
        })
    });
    g.bench_function("orm tracked", |b| {
        b.iter(|| {
            round += 1;
            orm_update(&db, round)
        })
    });
    g.finish();

    let (_schema, mut raw, db) = both(&[]);
    let statements = GraphStatements::new(&mut raw);
    let expected = i64::try_from(GRAPH_USERS * GRAPH_POSTS).unwrap_or(0);
    raw_graph(&mut raw, &statements, 0);
    assert_eq!(count(&mut raw, GRAPH_CHECK), expected);
    let (users, posts) = (raw_users(&mut raw), raw_posts(&mut raw));
    raw.batch_execute(EMPTY_TABLES).expect("empty");
    drop(orm_graph(&db, 0));
    assert_eq!(count(&mut raw, GRAPH_CHECK), expected);
    assert_eq!(users, orm_users(&db));
    assert_eq!(posts, orm_posts(&db));
    let mut round = 0;
    let mut g = group(c, BACKEND, "add 100 users x 10 posts, commit");
    g.bench_function("raw", |b| {
        b.iter(|| {
            round += 1;
            raw_graph(&mut raw, &statements, round)
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
