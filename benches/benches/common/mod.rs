//! What the SQLite and PostgreSQL benchmarks share: the model, its rows, the sizes of the
//! workloads, and the criterion settings of a group.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use orm::prelude::*;
use std::time::{Duration, Instant};

/// Rows in the read table (workload 1 reads them all).
pub const ROWS: i64 = 10_000;
/// Gets by primary key, and filtered queries, per iteration (workloads 2 and 5).
pub const REPEAT: i64 = 1_000;
/// Rows inserted in one transaction per iteration (workload 3).
pub const INSERT_ROWS: i64 = 1_000;
/// Rows loaded, changed and written back per iteration (workload 4); the write table holds
/// exactly these between iterations.
pub const UPDATE_ROWS: i64 = 100;
/// The filtered query (workload 5): `name LIKE 'user-1%'` matches 1,111 of the 10,000 rows;
/// `ORDER BY id LIMIT 50` keeps the first 50.
pub const NAME_PATTERN: &str = "user-1%";
/// The filtered query's limit.
pub const LIMIT: i64 = 50;

/// The benchmarked model: an integer key, two strings, a nullable integer, a timestamp and a
/// flag. The raw baselines decode into the same struct.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "bench_items")]
pub struct Item {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub email: String,
    pub score: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub active: bool,
}

/// Row `i` (from 1) of the seed data, not yet saved (`id` 0). Its key will be `i`.
pub fn item(i: i64) -> Item {
    let micros = i32::try_from(i % 1_000_000).unwrap_or(0);
    Item {
        id: 0,
        name: format!("user-{i}"),
        email: format!("user{i}@example.com"),
        score: (i % 3 != 0).then_some(micros % 1_000),
        created_at: DateTime::from_timestamp(
            1_700_000_000 + i,
            u32::try_from(micros).unwrap_or(0) * 1_000,
        )
        .unwrap_or_default(),
        active: i % 2 == 0,
    }
}

/// Rows `from..from + n` of the seed data, unsaved.
pub fn items(from: i64, n: i64) -> Vec<Item> {
    (from..from + n).map(item).collect()
}

/// The keys that workload 2 gets, spread over the table.
pub fn get_ids() -> Vec<i64> {
    (0..REPEAT).map(|k| 1 + (k * 7_919) % ROWS).collect()
}

/// A group whose iterations are long (a whole workload each): flat sampling, few samples.
pub fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g
}

/// Times `iters` runs of `run`, each after an untimed `setup` (which resets the table); both
/// get `state` (a connection).
pub fn timed<S, T, R>(
    iters: u64,
    state: &mut S,
    mut setup: impl FnMut(&mut S) -> T,
    mut run: impl FnMut(&mut S, T) -> R,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let input = setup(state);
        let start = Instant::now();
        let out = run(state, input);
        total += start.elapsed();
        drop(std::hint::black_box(out));
    }
    total
}
