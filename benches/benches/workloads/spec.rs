//! The specification of Diesel's benchmark workloads that the ORM's targets and `peers/` (Diesel
//! itself) share, included by both (no dependency but criterion): Diesel's schema, the
//! statements that seed its data, the sizes, and the criterion group names.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};

/// Diesel's SQLite schema (`SQLITE_MIGRATION_SQL` in `diesel_bench/benches/lib.rs`).
pub const SQLITE_SCHEMA: &[&str] = &[
    "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name VARCHAR NOT NULL, \
     hair_color VARCHAR)",
    "CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, user_id INTEGER NOT NULL, \
     title VARCHAR NOT NULL, body TEXT)",
    "CREATE TABLE comments (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, post_id INTEGER NOT \
     NULL, text TEXT NOT NULL)",
];

/// Diesel's PostgreSQL schema for these tables (its `migrations/postgres`: the tables, the
/// `tags` column of posts, the benchmark indexes and the deferrable foreign keys).
pub const POSTGRES_SCHEMA: &[&str] = &[
    "CREATE TABLE users (id SERIAL PRIMARY KEY, name VARCHAR NOT NULL, hair_color VARCHAR)",
    "CREATE TABLE posts (id SERIAL PRIMARY KEY, user_id INTEGER NOT NULL, title VARCHAR NOT NULL, \
     body TEXT, tags text[] NOT NULL DEFAULT '{}')",
    "CREATE TABLE comments (id SERIAL PRIMARY KEY, post_id INTEGER NOT NULL, text TEXT NOT NULL)",
    "CREATE INDEX users_hair_color ON users (hair_color)",
    "CREATE INDEX posts_user_id ON posts (user_id)",
    "ALTER TABLE posts ADD CONSTRAINT posts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users \
     DEFERRABLE",
    "ALTER TABLE comments ADD CONSTRAINT comments_post_id_fkey FOREIGN KEY (post_id) REFERENCES \
     posts DEFERRABLE",
];

/// Rows of the trivial query (Diesel's `fast_run` sizes).
pub const TRIVIAL_SIZES: [usize; 2] = [1, 10_000];
/// Users of the medium query; every other one has black hair.
pub const MEDIUM_SIZE: usize = 10_000;
/// Users per insert (Diesel's `fast_run` sizes).
pub const INSERT_SIZES: [usize; 2] = [1, 100];
/// Users of the associations workload: Diesel loads 9 on SQLite, 100 elsewhere; each has 10
/// posts of 10 comments.
pub const ASSOC_USERS_SQLITE: usize = 9;
/// Users of the associations workload on PostgreSQL.
pub const ASSOC_USERS_POSTGRES: usize = 100;
/// Rows loaded, changed and committed per iteration of the update workload.
pub const UPDATE_ROWS: usize = 1_000;
/// New users per iteration of the graph workload, each with [`GRAPH_POSTS`] new posts.
pub const GRAPH_USERS: usize = 100;
/// New posts per new user in the graph workload.
pub const GRAPH_POSTS: usize = 10;

/// The name of the graph workload's new user `k` of round `round`.
pub fn graph_user_name(round: u64, k: usize) -> String {
    format!("Graph user {round}-{k}")
}

/// The title of post `j` of the graph workload's user `name` (it ends with the name).
pub fn graph_post_title(j: usize, name: &str) -> String {
    format!("Post {j} of {name}")
}

/// Counts the posts whose user is the one named in the title: after a graph round on an empty
/// database, `GRAPH_USERS * GRAPH_POSTS` when every post got its parent's key.
pub const GRAPH_CHECK: &str =
    "SELECT COUNT(*) AS count FROM posts p JOIN users u ON u.id = p.user_id \
                               WHERE p.title LIKE ('% of ' || u.name)";

/// A group whose iterations are long (a whole workload each): flat sampling, few samples.
pub fn group<'a>(c: &'a mut Criterion, backend: &str, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("{backend}/{name}"));
    g.sampling_mode(SamplingMode::Flat).sample_size(20);
    g
}

/// Name of the trivial query's group for `n` rows.
pub fn trivial_name(n: usize) -> &'static str {
    if n == 1 {
        "trivial query, 1 row"
    } else {
        "trivial query, 10k rows"
    }
}

/// Name of the insert group for `n` rows.
pub fn insert_name(n: usize) -> &'static str {
    if n == 1 {
        "insert 1 row"
    } else {
        "insert 100 rows"
    }
}

/// How the seeded users' hair colour is chosen.
#[derive(Clone, Copy)]
pub enum Hair {
    /// NULL (the trivial query's data).
    None,
    /// `black` for even `i`, `brown` for odd (the medium query's and the associations' data).
    BlackOrBrown,
}

/// A statement that inserts users `User 0` .. `User {n-1}` in order (keys 1..=n on an empty
/// table), on `backend` (`sqlite` or `postgres`): the same rows Diesel's `insert_users` makes.
pub fn seed_users_sql(backend: &str, n: usize, hair: Hair) -> String {
    let hair = match hair {
        Hair::None => "NULL",
        Hair::BlackOrBrown => "CASE WHEN i % 2 = 0 THEN 'black' ELSE 'brown' END",
    };
    format!(
        "{} INSERT INTO users (name, hair_color) SELECT 'User ' || i, {hair} FROM s ORDER BY i",
        series_cte(backend, n)
    )
}

/// Statements that give every user 10 posts (`Post {i} by user {id}`, body NULL) and every
/// post 10 comments (`Comment {i} on post {id}`), in key order: Diesel's associations data.
pub fn seed_associations_sql(backend: &str) -> [String; 2] {
    [
        format!(
            "{} INSERT INTO posts (user_id, title, body) SELECT u.id, 'Post ' || i || ' by user ' \
             || u.id, NULL FROM users u CROSS JOIN s ORDER BY u.id, i",
            series_cte(backend, 10)
        ),
        format!(
            "{} INSERT INTO comments (post_id, text) SELECT p.id, 'Comment ' || i || ' on post ' \
             || p.id FROM posts p CROSS JOIN s ORDER BY p.id, i",
            series_cte(backend, 10)
        ),
    ]
}

/// The numbers 0..n as a CTE named `s`, in each backend's way.
fn series_cte(backend: &str, n: usize) -> String {
    let last = n.saturating_sub(1);
    if backend == "sqlite" {
        format!("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {last})")
    } else {
        format!("WITH s(i) AS (SELECT generate_series(0, {last}))")
    }
}
