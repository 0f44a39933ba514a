//! The API's reads and writes as plain functions of a [`Session`]: the HTTP handlers run them
//! inside `spawn_blocking`, and tests or other programs can call them directly.
//!
//! Full-text search and the JSON aggregation are raw SQL, one statement per backend: PostgreSQL
//! matches `to_tsvector('english', title || ' ' || content)` (the expression of the GIN index
//! `ix_posts_fts`) against `plainto_tsquery` and ranks with `ts_rank`; SQLite matches the FTS5
//! table `posts_fts` (porter stemming, kept in sync by triggers) and ranks with `bm25`.

use crate::models::{Post, PostStatus, Preferences, User};
use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::Argon2;
use orm::prelude::*;
use orm::{Error, Page, Session};

/// The most posts one page of `GET /posts` holds, whatever `per_page` asks for.
pub const MAX_PER_PAGE: u64 = 100;
/// How many posts `GET /posts/popular` returns.
pub const POPULAR_LIMIT: u64 = 10;
/// How many posts `GET /posts/search` returns.
pub const SEARCH_LIMIT: u64 = 20;

/// The argon2id hash (a PHC string with its own random salt) of `password`.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Whether `password` is the one `hash` was made from.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A new user as the API takes it (validated by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// Unique, 1 to 80 characters.
    pub username: String,
    /// Unique, at most 120 characters.
    pub email: String,
    /// The argon2 hash of the password.
    pub password_hash: String,
    /// Optional.
    pub age: Option<i32>,
    /// A JSON object.
    pub preferences: Preferences,
    /// Labels.
    pub tags: Vec<String>,
}

/// Inserts a user in one statement (committed, or nothing written) and returns it.
pub fn create_user(s: &mut Session, new: NewUser) -> orm::Result<User> {
    let user = s.save(User {
        username: new.username,
        email: new.email,
        password_hash: new.password_hash,
        age: new.age,
        preferences: Json(new.preferences),
        tags: new.tags,
        ..Default::default()
    })?;
    s.commit()?;
    Ok(user)
}

/// One result of [`search_posts`]: a post and its rank (higher is better; the scale is the
/// backend's own, `ts_rank` or `-bm25`, so only the order compares across backends).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct SearchHit {
    /// The post.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Its rank.
    pub rank: f64,
}

/// Published posts matching every word of `query`, best first (ties by title, compared byte by
/// byte on both backends), at most [`SEARCH_LIMIT`]. A query with no word matches nothing.
pub fn search_posts(s: &mut Session, query: &str) -> orm::Result<Vec<SearchHit>> {
    let words: Vec<&str> =
        query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(SEARCH_LIMIT).unwrap_or(i64::MAX);
    if s.engine().dialect().name() == "sqlite" {
        // FTS5's query language: each word quoted (so `AND`, `NEAR`, `*` are words), all of
        // them required, as plainto_tsquery requires them.
        let fts_query = words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" ");
        s.sql(
            "SELECT p.id AS id, p.title AS title, -bm25(posts_fts) AS rank \
             FROM posts_fts JOIN posts p ON p.id = posts_fts.post_id \
             WHERE posts_fts MATCH :q AND p.status = :status \
             ORDER BY rank DESC, p.title LIMIT :limit",
        )
        .bind("q", fts_query)
        .bind("status", PostStatus::Published)
        .bind("limit", limit)
        .all()
    } else {
        s.sql(
            "SELECT p.id AS id, p.title AS title, \
             ts_rank(to_tsvector('english', p.title || ' ' || p.content), q)::float8 AS rank \
             FROM posts p, plainto_tsquery('english', :q) q \
             WHERE to_tsvector('english', p.title || ' ' || p.content) @@ q \
             AND p.status = :status \
             ORDER BY rank DESC, p.title COLLATE \"C\" LIMIT :limit",
        )
        .bind("q", words.join(" "))
        .bind("status", PostStatus::Published)
        .bind("limit", limit)
        .all()
    }
}

/// How many users have each preference key.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PreferenceCount {
    /// The key.
    pub key: String,
    /// The users whose preferences have it.
    pub users: i64,
}

/// The count of users per preference key, computed by the database, by key.
pub fn preference_summary(s: &mut Session) -> orm::Result<Vec<PreferenceCount>> {
    let sql = if s.engine().dialect().name() == "sqlite" {
        "SELECT j.key AS key, count(*) AS users FROM users, json_each(users.preferences) AS j \
         WHERE json_type(users.preferences) = 'object' GROUP BY j.key ORDER BY j.key"
    } else {
        "SELECT k.key AS key, count(*) AS users \
         FROM users, jsonb_object_keys(users.preferences) AS k(key) \
         WHERE jsonb_typeof(users.preferences) = 'object' \
         GROUP BY k.key ORDER BY k.key COLLATE \"C\""
    };
    s.sql(sql).all()
}

/// The [`POPULAR_LIMIT`] most viewed published posts, their authors loaded: two statements.
pub fn popular_posts(s: &mut Session) -> orm::Result<Vec<Post>> {
    s.query::<Post>()
        .filter(Post::status.eq(PostStatus::Published))
        .order_by(Post::views.desc())
        .order_by(Post::title.asc())
        .limit(POPULAR_LIMIT)
        .load(Post::author)
        .untracked()
        .all()
}

/// Page `page` (from 1) of the published posts, newest first, `per_page` capped at
/// [`MAX_PER_PAGE`].
pub fn posts_page(s: &mut Session, page: u64, per_page: u64) -> orm::Result<Page<Post>> {
    s.query::<Post>()
        .filter(Post::status.eq(PostStatus::Published))
        .order_by(Post::created_at.desc())
        .order_by(Post::id.asc())
        .untracked()
        .paginate(page, per_page.clamp(1, MAX_PER_PAGE))
}

/// The fields a `PATCH /posts/<id>` may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostPatch {
    /// The version the client read: the edit is refused when the post has changed since.
    pub version: i32,
    /// A new title.
    pub title: Option<String>,
    /// A new body.
    pub content: Option<String>,
    /// A new status.
    pub status: Option<PostStatus>,
}

/// Why [`update_post`] changed nothing.
#[derive(Debug)]
pub enum UpdateError {
    /// No post has this id.
    NotFound,
    /// The post is at another version than the client read (`current`), or another writer
    /// changed it between our read and our UPDATE (`current` unknown).
    Conflict {
        /// The version the client sent.
        expected: i32,
        /// The version in the database, when known.
        current: Option<i32>,
    },
    /// The database refused.
    Orm(Error),
}

impl From<Error> for UpdateError {
    fn from(e: Error) -> Self {
        match e {
            Error::StaleData(_) => UpdateError::Conflict { expected: 0, current: None },
            e => UpdateError::Orm(e),
        }
    }
}

/// Applies `patch` to post `id`: one UPDATE of the given columns (and the version), committed;
/// the `modified_at` trigger stamps it. Returns the post as the database has it afterwards.
pub fn update_post(s: &mut Session, id: Uuid, patch: PostPatch) -> Result<Post, UpdateError> {
    let Some(mut post) = s.get::<Post>(id)? else {
        return Err(UpdateError::NotFound);
    };
    if post.version != patch.version {
        return Err(UpdateError::Conflict { expected: patch.version, current: Some(post.version) });
    }
    if let Some(title) = patch.title {
        post.title = title;
    }
    if let Some(content) = patch.content {
        post.content = content;
    }
    if let Some(status) = patch.status {
        post.status = status;
    }
    s.add(post.clone());
    if let Err(e) = s.commit() {
        s.rollback()?;
        return Err(match UpdateError::from(e) {
            UpdateError::Conflict { .. } => {
                UpdateError::Conflict { expected: patch.version, current: None }
            }
            other => other,
        });
    }
    s.refresh(&mut post)?;
    Ok(post)
}
