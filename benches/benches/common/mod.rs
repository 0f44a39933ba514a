//! What the SQLite and PostgreSQL benchmarks share: the models, their rows, the sizes of the
//! workloads, and the criterion settings of a group.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
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

/// Children per parent in the flush of one parent with new children (workload 6).
pub const FLUSH_CHILDREN: [usize; 3] = [1_000, 10_000, 100_000];
/// Parents loaded with their children (workload 7), each parent holding
/// [`CHILDREN_PER_PARENT`] children.
pub const LOAD_PARENTS: [i64; 3] = [1_000, 10_000, 100_000];
/// Children of each parent in the eager-loading table (workload 7).
pub const CHILDREN_PER_PARENT: i64 = 10;

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

/// The parent of the graph workloads (6 and 7): a playlist saves its tracks with it.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "bench_playlists")]
pub struct Playlist {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(has_many(foreign_key = playlist_id, cascade = "all"))]
    pub tracks: Related<Vec<Track>>,
}

/// The child of the graph workloads; indexed by parent, as a loaded collection would be.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "bench_tracks")]
pub struct Track {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Playlist, index)]
    pub playlist_id: i64,
    pub title: String,
    pub position: i32,
}

/// A new playlist holding `n` new tracks (workload 6).
pub fn playlist_with_tracks(n: usize) -> Playlist {
    let tracks = (0..n)
        .map(|i| Track {
            title: format!("track-{i}"),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            ..Default::default()
        })
        .collect();
    Playlist { name: format!("{n} tracks"), tracks: Related::Loaded(tracks), ..Default::default() }
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

/// Empties the graph workloads' tables (between iterations, outside the timing).
pub fn reset_graph(db: &Database) {
    let mut s = db.session();
    s.sql("DELETE FROM bench_tracks").execute().expect("reset tracks");
    s.sql("DELETE FROM bench_playlists").execute().expect("reset playlists");
    s.commit().expect("reset");
}

/// Workload 6: one new parent with its new children, added and committed. Returns the session,
/// to be dropped outside the timing.
pub fn commit_graph(db: &Database, p: Playlist) -> Session {
    let mut s = db.session();
    s.add(p);
    s.commit().expect("commit graph");
    s
}

/// Workload 6b's setup: the parent loaded with its children, every child's title changed.
pub fn loaded_and_changed(db: &Database) -> (Session, Playlist) {
    let mut s = db.session();
    let mut p = s.query::<Playlist>().load(Playlist::tracks).one().expect("the parent");
    if let Related::Loaded(tracks) = &mut p.tracks {
        for t in tracks.iter_mut() {
            t.title.push_str(" (changed)");
        }
    }
    (s, p)
}

/// Workload 7, selectin: the first `n` parents, their children with one more query.
pub fn load_selectin(db: &Database, n: i64) -> Vec<Playlist> {
    db.session()
        .query::<Playlist>()
        .filter(Playlist::id.le(n))
        .load(Playlist::tracks)
        .all()
        .expect("selectin load")
}

/// Workload 7, joined: the first `n` parents and their children in one LEFT JOIN.
pub fn load_joined(db: &Database, n: i64) -> Vec<Playlist> {
    db.session()
        .query::<Playlist>()
        .filter(Playlist::id.le(n))
        .load_joined(Playlist::tracks)
        .all()
        .expect("joined load")
}

/// Checks workload 6 once before timing it: every child saved, with its parent's key.
pub fn check_commit_graph(db: &Database) {
    reset_graph(db);
    drop(commit_graph(db, playlist_with_tracks(10)));
    let mut s = db.session();
    let parent = s.query::<Playlist>().one().expect("one parent");
    let children = s.query::<Track>().all().expect("children");
    assert_eq!(children.len(), 10);
    assert!(children.iter().all(|t| t.playlist_id == parent.id));
    reset_graph(db);
}

/// Checks workload 7 once before timing it: both loaders give every parent its children.
pub fn check_loads(db: &Database) {
    let n = LOAD_PARENTS[0];
    let selectin = load_selectin(db, n);
    assert_eq!(selectin.len(), usize::try_from(n).unwrap_or(0));
    for p in &selectin {
        let tracks = p.tracks.get().expect("tracks loaded");
        assert_eq!(tracks.len(), usize::try_from(CHILDREN_PER_PARENT).unwrap_or(0));
        assert!(tracks.iter().all(|t| t.playlist_id == p.id));
    }
    let joined = load_joined(db, n);
    assert_eq!(joined, selectin);
    for (a, b) in joined.iter().zip(&selectin) {
        assert_eq!(a.tracks.get().expect("joined"), b.tracks.get().expect("selectin"));
    }
}

/// Workloads 6 (`<backend>/6 ...`) and 7 (`<backend>/7 ...`) on `flush_db` (empty graph
/// tables) and `load_db` (the largest [`LOAD_PARENTS`] with their children). Throughput counts
/// children, so criterion's elements per second read as the cost per object.
pub fn graph_groups(c: &mut Criterion, backend: &str, flush_db: &Database, load_db: &Database) {
    check_commit_graph(flush_db);
    check_loads(load_db);

    let mut g = group(c, &format!("{backend}/6 commit one parent with n new children"));
    for n in FLUSH_CHILDREN {
        g.throughput(Throughput::Elements(u64::try_from(n).unwrap_or(0)));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    &mut (),
                    |_| {
                        reset_graph(flush_db);
                        playlist_with_tracks(n)
                    },
                    |_, p| commit_graph(flush_db, p),
                )
            })
        });
    }
    g.finish();

    let mut g = group(c, &format!("{backend}/6b commit one loaded parent with n changed children"));
    for n in FLUSH_CHILDREN {
        g.throughput(Throughput::Elements(u64::try_from(n).unwrap_or(0)));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    &mut (),
                    |_| {
                        reset_graph(flush_db);
                        drop(commit_graph(flush_db, playlist_with_tracks(n)));
                        loaded_and_changed(flush_db)
                    },
                    |_, (mut s, p)| {
                        s.add(p);
                        s.commit().expect("commit changes");
                        s
                    },
                )
            })
        });
    }
    g.finish();

    let mut g = group(c, &format!("{backend}/7 load n parents with 10 children each"));
    for n in LOAD_PARENTS {
        g.throughput(Throughput::Elements(u64::try_from(n * CHILDREN_PER_PARENT).unwrap_or(0)));
        g.bench_with_input(BenchmarkId::new("selectin", n), &n, |b, &n| {
            b.iter(|| load_selectin(load_db, n))
        });
        g.bench_with_input(BenchmarkId::new("joined", n), &n, |b, &n| {
            b.iter(|| load_joined(load_db, n))
        });
    }
    g.finish();
}
