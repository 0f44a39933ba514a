//! Peak memory of one 100,000-row read from PostgreSQL, the raw driver's ways and the ORM's:
//! `cargo bench -p orm-benches --bench postgres_memory -- <mode>`, mode one of
//! `raw` (`Client::query`, then decode), `raw-stream` (`Client::query_raw`, decoding each row as
//! it comes), `orm` (untracked `all()`) and `orm-tracked` (`all()`). One mode per process, so
//! each starts from the same heap.
//!
//! It prints the rows read, the growth of the process's peak resident memory during the read
//! (`VmHWM` after the read less `VmRSS` before it, the peak reset through
//! `/proc/self/clear_refs`), the heap the decoded rows hold, and the wall-clock time. For
//! instruction counts, run the binary under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured_read*'`.
//! The server is `ORM_TEST_POSTGRES_URL`, or a throwaway cluster (see
//! `orm::testing::postgres_server`).

#[allow(dead_code)] // the models; the criterion helpers are the other benches'
mod common;

use common::Item;
use orm::prelude::*;
use orm::testing::postgres_server::TestSchema;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use std::time::Instant;

/// Rows read.
const ROWS: i64 = 100_000;

fn main() {
    let mode =
        std::env::args().skip(1).find(|a| !a.starts_with("--")).unwrap_or_else(|| "orm".to_owned());
    let schema = TestSchema::create().expect("PostgreSQL test server");
    let db = Database::connect(schema.url()).expect("connect");
    db.create_tables(&[Item::TABLE]).expect("create table");
    let mut client = Client::connect(schema.url(), NoTls).expect("raw connect");
    client
        .batch_execute(&format!(
            "INSERT INTO bench_items (name, email, score, created_at, active) \
             SELECT 'user-' || i, 'user' || i || '@example.com', \
             CASE WHEN i % 3 = 0 THEN NULL ELSE i % 1000 END, \
             timestamptz '2023-11-14 22:13:20+00' + i * interval '1 second', i % 2 = 0 \
             FROM generate_series(1, {ROWS}) AS i; ANALYZE bench_items"
        ))
        .expect("seed");
    let mut session = db.session();
    // Connections open and statements of another shape prepared: only the read is measured.
    let few = session.query::<Item>().limit(10).all().expect("warm-up");
    assert_eq!(few.len(), 10);
    let stmt = client.prepare("SELECT id, name, email, score, created_at, active FROM bench_items");
    let stmt = stmt.expect("prepare");

    let before = status_kib("VmRSS");
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak (Linux 4.0 or newer)");
    let start = Instant::now();
    let rows = measured_read(&mode, &mut session, &mut client, &stmt);
    let elapsed = start.elapsed();
    let peak = status_kib("VmHWM");

    assert_eq!(rows.len(), usize::try_from(ROWS).unwrap_or(0), "{mode}: every row");
    let growth = peak.saturating_sub(before);
    let held = heap_bytes(&rows) / 1024;
    println!(
        "{mode}: {} rows, peak RSS +{} KiB during the read (the rows hold {} KiB, {:.2}x), {:?}",
        rows.len(),
        growth,
        held,
        growth as f64 / held.max(1) as f64,
        elapsed
    );
    drop(session);
}

/// Reads every row in `mode`'s way.
#[inline(never)]
fn measured_read(
    mode: &str,
    session: &mut Session,
    client: &mut Client,
    stmt: &postgres::Statement,
) -> Vec<Item> {
    match mode {
        "raw" => {
            let rows = client.query(stmt, &[]).expect("raw query");
            rows.iter().map(raw_item).collect::<Result<_, _>>().expect("raw decode")
        }
        "raw-stream" => {
            let mut out = Vec::new();
            let mut it = client.query_raw(stmt, std::iter::empty::<i32>()).expect("raw query");
            while let Some(row) = it.next().expect("raw row") {
                out.push(raw_item(&row).expect("raw decode"));
            }
            out
        }
        "orm" => session.query::<Item>().untracked().all().expect("orm read"),
        "orm-tracked" => session.query::<Item>().all().expect("orm read"),
        other => panic!("unknown mode {other}: raw, raw-stream, orm or orm-tracked"),
    }
}

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

/// The heap the rows hold: the vector and each string's buffer.
fn heap_bytes(rows: &[Item]) -> usize {
    std::mem::size_of_val(rows)
        + rows.iter().map(|r| r.name.capacity() + r.email.capacity()).sum::<usize>()
}

/// A `/proc/self/status` figure in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}
