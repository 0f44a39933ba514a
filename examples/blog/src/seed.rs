//! `blog seed --users N`: users with posts, comments and tags, made up from a fixed word list
//! by a seeded generator, so two databases seeded alike hold the same texts (the search
//! results compare across backends). Rows are committed in batches of users, one transaction
//! each, with a progress bar.
//!
//! Every post's searchable text has the same number of words (a title of four, a body of
//! [`WORDS_PER_POST`]), so a word's rank depends only on how often the post uses it, on
//! PostgreSQL (`ts_rank`) and SQLite (`bm25`) alike.

use crate::models::{Comment, Post, PostStatus, Preferences, Tag, User};
use crate::queries::hash_password;
use indicatif::{ProgressBar, ProgressStyle};
use orm::prelude::*;
use orm::{Error, Related};
use serde_json::json;

/// The words post bodies are made of (none is an English stop word, so PostgreSQL indexes
/// every one as SQLite does).
pub const VOCABULARY: [&str; 80] = [
    "rust",
    "database",
    "query",
    "index",
    "migration",
    "session",
    "trigger",
    "search",
    "async",
    "server",
    "model",
    "table",
    "column",
    "schema",
    "backend",
    "pool",
    "json",
    "array",
    "enum",
    "version",
    "sqlite",
    "postgres",
    "transaction",
    "commit",
    "rollback",
    "cache",
    "tokio",
    "axum",
    "handler",
    "router",
    "request",
    "response",
    "thread",
    "queue",
    "cursor",
    "join",
    "filter",
    "view",
    "function",
    "type",
    "compiler",
    "borrow",
    "lifetime",
    "trait",
    "generic",
    "macro",
    "closure",
    "iterator",
    "vector",
    "string",
    "pointer",
    "memory",
    "allocator",
    "benchmark",
    "latency",
    "throughput",
    "replica",
    "failover",
    "backup",
    "restore",
    "vacuum",
    "analyze",
    "explain",
    "planner",
    "statement",
    "parameter",
    "binding",
    "driver",
    "socket",
    "protocol",
    "header",
    "payload",
    "endpoint",
    "client",
    "deploy",
    "container",
    "cluster",
    "metric",
    "tracing",
    "logging",
];
/// Words in every post body.
pub const WORDS_PER_POST: usize = 24;
/// The tags posts are linked to (two each).
pub const TAGS: [&str; 6] = ["tutorial", "news", "howto", "release", "opinion", "benchmark"];
/// The password of every seeded user (hashed once per run: hashing is slow on purpose).
pub const SEED_PASSWORD: &str = "seed-password";

/// What to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedOptions {
    /// New users.
    pub users: u64,
    /// Posts per user.
    pub posts_per_user: u64,
    /// Comments per post.
    pub comments_per_post: u64,
    /// Users per transaction.
    pub batch: u64,
    /// Show a progress bar on standard error (when it is a terminal).
    pub progress: bool,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            users: 100,
            posts_per_user: 10,
            comments_per_post: 5,
            batch: 100,
            progress: false,
        }
    }
}

/// What was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeedReport {
    /// Users added.
    pub users: u64,
    /// Posts added.
    pub posts: u64,
    /// Comments added.
    pub comments: u64,
}

/// A small deterministic generator (xorshift64*): the same seed, the same data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items[i]
    }
}

fn preferences(rng: &mut Rng) -> Preferences {
    let mut p = Preferences::new();
    p.insert("theme".into(), json!(rng.pick(&["dark", "light"])));
    if rng.below(3) > 0 {
        p.insert("language".into(), json!(rng.pick(&["en", "fr", "de"])));
    }
    if rng.below(2) == 0 {
        p.insert("notifications".into(), json!(rng.below(2) == 0));
    }
    if rng.below(5) == 0 {
        p.insert("newsletter".into(), json!("weekly"));
    }
    p
}

/// Adds `options.users` users (numbered after those already there) with their posts,
/// comments and tag links.
pub fn seed(db: &Database, options: SeedOptions) -> orm::Result<SeedReport> {
    let mut s = db.session();
    let first = s.query::<User>().count()?;
    let mut tags = Vec::with_capacity(TAGS.len());
    for name in TAGS {
        let tag = match s.query::<Tag>().filter(Tag::name.eq(name)).one_or_none()? {
            Some(t) => t,
            None => s.save(Tag { name: name.into(), ..Default::default() })?,
        };
        tags.push(tag);
    }
    s.commit()?;
    let password_hash = hash_password(SEED_PASSWORD)
        .map_err(|e| Error::InvalidUse(format!("hashing the seed password failed: {e}")))?;

    let bar =
        if options.progress { ProgressBar::new(options.users) } else { ProgressBar::hidden() };
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} users, {elapsed} ({eta} left)")
    {
        bar.set_style(style);
    }
    let now = Utc::now();
    let mut report = SeedReport::default();
    let batch = options.batch.max(1);
    let mut n = 0;
    while n < options.users {
        let end = (n + batch).min(options.users);
        let mut batch_users = Vec::new();
        for i in first + n..first + end {
            let mut rng = Rng::new(i + 1);
            let username = format!("user{i:05}");
            let tags_of_user: Vec<String> = ["rust", "sql", "web", "python", "go"]
                .iter()
                .filter(|_| rng.below(3) == 0)
                .map(|t| (*t).to_owned())
                .collect();
            let user = User {
                email: format!("{username}@example.com"),
                username,
                age: Some(i32::try_from(18 + rng.below(60)).unwrap_or(18)),
                password_hash: password_hash.clone(),
                preferences: Json(preferences(&mut rng)),
                tags: tags_of_user,
                created_at: now
                    - chrono::Duration::days(i64::try_from(rng.below(365)).unwrap_or(0)),
                ..Default::default()
            };
            s.add(user.clone());
            batch_users.push((user, rng));
        }
        let authors: Vec<Uuid> = batch_users.iter().map(|(u, _)| u.id).collect();
        for (user, rng) in &mut batch_users {
            for j in 0..options.posts_per_user {
                let body: Vec<&str> = (0..WORDS_PER_POST).map(|_| rng.pick(&VOCABULARY)).collect();
                let status = match rng.below(10) {
                    0..=6 => PostStatus::Published,
                    7 | 8 => PostStatus::Draft,
                    _ => PostStatus::Archived,
                };
                let first_tag = usize::try_from(rng.below(TAGS.len() as u64)).unwrap_or(0);
                let post = Post {
                    title: format!("Post {j} by {}", user.username),
                    content: body.join(" "),
                    created_at: now
                        - chrono::Duration::minutes(i64::try_from(rng.below(500_000)).unwrap_or(0)),
                    views: i64::try_from(rng.below(10_000)).unwrap_or(0),
                    status,
                    author_id: user.id,
                    tags: Related::Loaded(vec![
                        tags[first_tag].clone(),
                        tags[(first_tag + 1) % tags.len()].clone(),
                    ]),
                    ..Default::default()
                };
                for k in 0..options.comments_per_post {
                    let author =
                        authors[usize::try_from(rng.below(authors.len() as u64)).unwrap_or(0)];
                    s.add(Comment {
                        post_id: post.id,
                        author_id: author,
                        content: format!(
                            "Comment {k}: {} {}",
                            rng.pick(&VOCABULARY),
                            rng.pick(&VOCABULARY)
                        ),
                        ..Default::default()
                    });
                    report.comments += 1;
                }
                s.add(post);
                report.posts += 1;
            }
        }
        s.commit()?;
        report.users += end - n;
        bar.inc(end - n);
        n = end;
    }
    bar.finish();
    Ok(report)
}
