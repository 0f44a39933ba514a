//! The HTTP JSON API (axum). Every handler does its database work with a fresh [`Session`]
//! inside [`tokio::task::spawn_blocking`] ([`with_session`]): the ORM's drivers are
//! synchronous, and a blocking call on an async worker thread would stall every other request
//! on that thread. The `Database` (a pool) is cloned into each task; the session checks a
//! connection out only while it needs one.
//!
//! | route | answers |
//! |---|---|
//! | `POST /users` | 201 `{"id": ...}`; 400 on a duplicate, missing or malformed field |
//! | `GET /users/<id>` | 200 the user; 404 when absent; 400 for an id that is no UUID |
//! | `GET /users/preferences/summary` | 200 users per preference key, counted by the database |
//! | `GET /posts?page=&per_page=` | 200 a page of published posts with totals (`per_page` ≤ 100) |
//! | `GET /posts/search?q=` | 200 published posts matching every word, ranked |
//! | `GET /posts/popular` | 200 the 10 most viewed published posts with their authors |
//! | `PATCH /posts/<id>` | 200 the post; 404; 400; 409 when `version` is not the post's |
//!
//! Errors are `{"error": "..."}` with the status (also 404 for an unknown route and 405 for
//! a method a route does not take).

use crate::models::{Post, PostStatus, User};
use crate::queries::{self, NewUser, PostPatch, UpdateError, MAX_PER_PAGE};
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use orm::prelude::*;
use orm::{DbEnum, Error, Session};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// An error answer: a status and a message, sent as `{"error": message}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the client.
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into() }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 500 that tells the client nothing of `cause`, which goes to standard error.
    fn internal(cause: impl std::fmt::Display) -> Self {
        eprintln!("blog: internal error: {cause}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(what) => {
                ApiError::new(StatusCode::NOT_FOUND, format!("not found: {what}"))
            }
            Error::StaleData(_) => ApiError::new(
                StatusCode::CONFLICT,
                "the row was changed by another request: read it again",
            ),
            Error::UniqueViolation(_)
            | Error::ForeignKeyViolation(_)
            | Error::NotNullViolation(_)
            | Error::CheckViolation(_) => ApiError::bad_request(e.to_string()),
            Error::PoolTimeout { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is busy: try again")
            }
            e => ApiError::internal(e),
        }
    }
}

/// The API's shared state: the database (a pool; cloning it is cheap).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database every request uses.
    pub db: Database,
}

/// The API's routes over `db`.
pub fn router(db: Database) -> Router {
    Router::new()
        .route("/users", post(create_user))
        .route("/users/preferences/summary", get(preferences_summary))
        .route("/users/{id}", get(get_user))
        .route("/posts", get(list_posts))
        .route("/posts/search", get(search_posts))
        .route("/posts/popular", get(popular_posts))
        .route("/posts/{id}", patch(patch_post))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .with_state(AppState { db })
}

/// Serves the API on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, db: Database) -> std::io::Result<()> {
    axum::serve(listener, router(db)).await
}

/// Runs `work` with a new session of `db` on tokio's blocking pool and waits for it without
/// blocking the async worker: the way to use the (synchronous) ORM from async code.
pub async fn with_session<T, F>(db: &Database, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut Session) -> Result<T, ApiError> + Send + 'static,
{
    let db = db.clone();
    tokio::task::spawn_blocking(move || work(&mut db.session()))
        .await
        .map_err(ApiError::internal)? // the task panicked or was cancelled
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no route for {method} {}", uri.path()))
}

async fn no_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "age": u.age,
        "preferences": u.preferences.0,
        "tags": u.tags,
        "created_at": u.created_at,
    })
}

fn post_json(p: &Post) -> Value {
    json!({
        "id": p.id,
        "title": p.title,
        "content": p.content,
        "status": p.status.label(),
        "views": p.views,
        "version": p.version,
        "created_at": p.created_at,
        "modified_at": p.modified_at,
        "author_id": p.author_id,
    })
}

/// The JSON object of a request body; anything else is a 400 saying why.
fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("the body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("malformed JSON: {e}"))),
    }
}

/// Refuses fields other than `allowed` (a misspelt field would otherwise be ignored).
fn only_fields(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::bad_request(format!(
            "unknown field `{k}` (expected {})",
            allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
        ))),
        None => Ok(()),
    }
}

fn optional_text(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!("`{field}` must be a string"))),
    }
}

fn required_text(obj: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    optional_text(obj, field)?
        .ok_or_else(|| ApiError::bad_request(format!("missing field `{field}`")))
}

fn check_length(field: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min || n > max {
        let want = if min == 0 { format!("at most {max}") } else { format!("{min} to {max}") };
        return Err(ApiError::bad_request(format!(
            "`{field}` must have {want} characters, not {n}"
        )));
    }
    Ok(())
}

/// The new user of a `POST /users` body, its password hashed.
fn new_user(body: &[u8]) -> Result<NewUser, ApiError> {
    let obj = json_object(body)?;
    only_fields(&obj, &["username", "email", "password", "age", "preferences", "tags"])?;
    let username = required_text(&obj, "username")?;
    check_length("username", username.trim(), 1, 80)?;
    let email = required_text(&obj, "email")?;
    check_length("email", &email, 3, 120)?;
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') => {}
        _ => return Err(ApiError::bad_request(format!("`email` is not an address: {email}"))),
    }
    let password = required_text(&obj, "password")?;
    check_length("password", &password, 8, 1024)?;
    let age = match obj.get("age") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64().filter(|a| (0..=150).contains(a)) {
            Some(a) => i32::try_from(a).ok(),
            None => {
                return Err(ApiError::bad_request(format!(
                    "`age` must be a whole number from 0 to 150, not {v}"
                )))
            }
        },
    };
    let preferences = match obj.get("preferences") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(ApiError::bad_request("`preferences` must be a JSON object")),
    };
    let tags = match obj.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiError::bad_request("`tags` must be an array of strings"))?,
        Some(_) => return Err(ApiError::bad_request("`tags` must be an array of strings")),
    };
    let password_hash = queries::hash_password(&password).map_err(ApiError::internal)?;
    Ok(NewUser {
        username: username.trim().to_owned(),
        email,
        password_hash,
        age,
        preferences,
        tags,
    })
}

async fn create_user(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let user = with_session(&app.db, move |s| {
        // Hashing is CPU work: it runs here, off the async workers, too.
        let new = new_user(&body)?;
        let (username, email) = (new.username.clone(), new.email.clone());
        queries::create_user(s, new).map_err(|e| match e {
            Error::UniqueViolation(info) => {
                let names =
                    format!("{} {}", info.columns.join(" "), info.constraint.unwrap_or_default());
                if names.contains("username") {
                    ApiError::bad_request(format!("username {username} is already taken"))
                } else if names.contains("email") {
                    ApiError::bad_request(format!("email {email} is already registered"))
                } else {
                    ApiError::bad_request(info.message)
                }
            }
            e => e.into(),
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": user.id }))).into_response())
}

fn parse_id(path: Result<Path<String>, PathRejection>, what: &str) -> Result<Uuid, ApiError> {
    let Path(raw) = path.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Uuid::parse_str(&raw)
        .map_err(|_| ApiError::bad_request(format!("malformed {what} id {raw}: expected a UUID")))
}

async fn get_user(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(path, "user")?;
    let user = with_session(&app.db, move |s| Ok(s.get::<User>(id)?)).await?;
    match user {
        Some(u) => Ok(Json(user_json(&u))),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, format!("no user with id {id}"))),
    }
}

async fn preferences_summary(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let counts = with_session(&app.db, |s| Ok(queries::preference_summary(s)?)).await?;
    let keys: Vec<Value> =
        counts.iter().map(|c| json!({ "key": c.key, "users": c.users })).collect();
    Ok(Json(json!({ "keys": keys })))
}

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

fn params(q: Params) -> Result<HashMap<String, String>, ApiError> {
    q.map(|Query(m)| m).map_err(|e| ApiError::bad_request(e.body_text()))
}

fn whole_number(
    params: &HashMap<String, String>,
    name: &str,
    default: u64,
) -> Result<u64, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            ApiError::bad_request(format!("`{name}` must be a whole number from 1, not {v}"))
        }),
    }
}

async fn list_posts(State(app): State<AppState>, q: Params) -> Result<Json<Value>, ApiError> {
    let p = params(q)?;
    let page = whole_number(&p, "page", 1)?;
    let per_page = whole_number(&p, "per_page", 20)?.min(MAX_PER_PAGE);
    let page = with_session(&app.db, move |s| Ok(queries::posts_page(s, page, per_page)?)).await?;
    Ok(Json(json!({
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages(),
        "has_next": page.has_next(),
        "has_prev": page.has_prev(),
        "items": page.items.iter().map(post_json).collect::<Vec<_>>(),
    })))
}

async fn search_posts(State(app): State<AppState>, q: Params) -> Result<Json<Value>, ApiError> {
    let p = params(q)?;
    let query = p
        .get("q")
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty())
        .ok_or_else(|| ApiError::bad_request("missing query parameter `q`"))?;
    let text = query.clone();
    let hits = with_session(&app.db, move |s| Ok(queries::search_posts(s, &text)?)).await?;
    let results: Vec<Value> =
        hits.iter().map(|h| json!({ "id": h.id, "title": h.title, "rank": h.rank })).collect();
    Ok(Json(json!({ "query": query, "results": results })))
}

async fn popular_posts(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let posts = with_session(&app.db, |s| Ok(queries::popular_posts(s)?)).await?;
    let mut items = Vec::with_capacity(posts.len());
    for p in &posts {
        let mut item = post_json(p);
        let author = p.author.get().map_err(ApiError::from)?;
        item["author"] = json!({ "id": author.id, "username": author.username });
        items.push(item);
    }
    Ok(Json(json!({ "posts": items })))
}

/// The patch of a `PATCH /posts/<id>` body.
fn post_patch(body: &[u8]) -> Result<PostPatch, ApiError> {
    let obj = json_object(body)?;
    only_fields(&obj, &["version", "title", "content", "status"])?;
    let version = match obj.get("version") {
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(
                "missing field `version`: send the version you read, so that a concurrent edit is not overwritten",
            ))
        }
        Some(v) => v.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(|| {
            ApiError::bad_request(format!("`version` must be a whole number, not {v}"))
        })?,
    };
    let title = optional_text(&obj, "title")?;
    if let Some(t) = &title {
        check_length("title", t.trim(), 1, 200)?;
    }
    let content = optional_text(&obj, "content")?;
    let status = match optional_text(&obj, "status")? {
        None => None,
        Some(label) => Some(PostStatus::from_label(&label).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`status` must be one of {}, not {label}",
                PostStatus::LABELS.join(", ")
            ))
        })?),
    };
    if title.is_none() && content.is_none() && status.is_none() {
        return Err(ApiError::bad_request(
            "nothing to change: give `title`, `content` or `status`",
        ));
    }
    Ok(PostPatch { version, title, content, status })
}

async fn patch_post(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(path, "post")?;
    let patch = post_patch(&body)?;
    let post = with_session(&app.db, move |s| {
        queries::update_post(s, id, patch).map_err(|e| match e {
            UpdateError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, format!("no post with id {id}"))
            }
            UpdateError::Conflict { expected, current: Some(current) } => ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "post {id} is at version {current}, not {expected}: read it again and reapply your change"
                ),
            ),
            UpdateError::Conflict { expected, current: None } => ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "post {id} was changed by another request since version {expected}: read it again and reapply your change"
                ),
            ),
            UpdateError::Orm(e) => e.into(),
        })
    })
    .await?;
    Ok(Json(post_json(&post)))
}
