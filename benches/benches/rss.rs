//! Peak memory of reading 100,000 rows of Diesel's `users` table into structs: the raw driver,
//! the ORM untracked, the ORM tracked, on SQLite in memory or PostgreSQL (the test server of
//! `orm::testing`). One measurement per process, so each peak is its own:
//!
//! ```sh
//! cargo bench -p orm-benches --bench rss -- sqlite raw      # or: untracked, tracked; postgres
//! ```
//!
//! Prints one line, `rss <backend> <mode> rows=<n> before_kib=<RSS before the read>
//! peak_kib=<peak RSS of the process>`, from `/proc/self/status` (`VmRSS`, `VmHWM`: the
//! kernel's figures that `getrusage` reports as `ru_maxrss`, read without `unsafe`). The data is
//! seeded by one SQL statement on the side being measured, and only that side's connection is
//! opened; the raw PostgreSQL side streams the rows (`query_raw`), the low-memory way to read a
//! large result. Without arguments (as `cargo bench` runs every target) it prints its usage.

mod workloads;

use orm::prelude::*;
use postgres::fallible_iterator::FallibleIterator;
use workloads::*;

/// Rows read.
const ROWS: usize = 100_000;
const SELECT: &str = "SELECT id, name, hair_color FROM users";

/// A `/proc/self/status` field in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn raw_user(id: i32, name: String, hair_color: Option<String>) -> User {
    User { id, name, hair_color, posts: Related::Unloaded }
}

/// What one read measured: rows read, RSS before the read, peak RSS with the rows (and the
/// session that read them) alive, in KiB.
struct Measure {
    rows: usize,
    before: u64,
    peak: u64,
}

/// The measure of `users`, read after RSS was `before`; `users` is still alive here.
fn measure(users: &[User], before: u64) -> Measure {
    assert_eq!(users.get(1).map(|u| u.name.as_str()), Some("User 1"));
    std::hint::black_box(users);
    Measure { rows: users.len(), before, peak: status_kib("VmHWM") }
}

/// Reads every user on a seeded database of `backend` through `mode`.
fn read(backend: &str, mode: &str) -> Measure {
    let seed = seed_users_sql(backend, ROWS, Hair::BlackOrBrown);
    match (backend, mode) {
        ("sqlite", "raw") => {
            let conn = rusqlite::Connection::open_in_memory().expect("open SQLite");
            for stmt in SQLITE_SCHEMA {
                conn.execute_batch(stmt).expect("schema");
            }
            conn.execute_batch(&seed).expect("seed");
            let before = status_kib("VmRSS");
            let mut stmt = conn.prepare(SELECT).expect("prepare");
            let users = stmt
                .query_map([], |r| Ok(raw_user(r.get(0)?, r.get(1)?, r.get(2)?)))
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("rows");
            measure(&users, before)
        }
        ("postgres", "raw") => {
            let schema = orm::testing::postgres_server::TestSchema::create().expect("server");
            let mut c = postgres::Client::connect(schema.url(), postgres::NoTls).expect("connect");
            for stmt in POSTGRES_SCHEMA {
                c.batch_execute(stmt).expect("schema");
            }
            c.batch_execute(&seed).expect("seed");
            let before = status_kib("VmRSS");
            let stmt = c.prepare(SELECT).expect("prepare");
            let none: [&(dyn postgres::types::ToSql + Sync); 0] = [];
            let users: Vec<User> = c
                .query_raw(&stmt, none)
                .expect("query")
                .map(|r| Ok(raw_user(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect()
                .expect("rows");
            measure(&users, before)
        }
        (_, "tracked" | "untracked") => {
            let schema;
            let (db, ddl) = if backend == "sqlite" {
                (Database::connect("sqlite::memory:").expect("connect"), SQLITE_SCHEMA)
            } else {
                schema = orm::testing::postgres_server::TestSchema::create().expect("server");
                (Database::connect(schema.url()).expect("connect"), POSTGRES_SCHEMA)
            };
            let mut s = db.session();
            for stmt in ddl {
                s.sql(stmt).execute().expect("schema");
            }
            s.sql(&seed).execute().expect("seed");
            s.commit().expect("seed");
            let before = status_kib("VmRSS");
            let q = s.query::<User>();
            let q = if mode == "tracked" { q } else { q.untracked() };
            let users = q.all().expect("read");
            // Measured while the session (and what it tracks) is alive.
            measure(&users, before)
        }
        _ => Measure { rows: 0, before: 0, peak: 0 },
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let (backend, mode) = match args.as_slice() {
        [b, m]
            if ["sqlite", "postgres"].contains(&b.as_str())
                && ["raw", "untracked", "tracked"].contains(&m.as_str()) =>
        {
            (b.as_str(), m.as_str())
        }
        _ => {
            println!(
                "usage: cargo bench -p orm-benches --bench rss -- <sqlite|postgres> \
                 <raw|untracked|tracked>"
            );
            return;
        }
    };
    let m = read(backend, mode);
    assert_eq!(m.rows, ROWS);
    println!("rss {backend} {mode} rows={} before_kib={} peak_kib={}", m.rows, m.before, m.peak);
}
