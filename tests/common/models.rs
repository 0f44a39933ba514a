//! Models shared by the behaviour tests.
use orm::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "users")]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(unique, max_length = 80)]
    pub username: String,
    #[orm(unique, index, max_length = 120)]
    pub email: String,
    pub age: Option<i32>,
}

impl User {
    pub fn new(name: &str) -> User {
        User { username: name.into(), email: format!("{name}@example.com"), ..Default::default() }
    }
}

#[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
pub enum PostStatus {
    Draft,
    Published,
    Archived,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "posts")]
pub struct Post {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(max_length = 100)]
    pub title: String,
    pub content: String,
    #[orm(references = User, on_delete = cascade, index)]
    pub author_id: i64,
    pub status: PostStatus,
    /// A plain field with a database default: the value set is always written.
    #[orm(server_default = "0")]
    pub views: i64,
    #[orm(server_default = "'2020-01-01T00:00:00.000000Z'")]
    pub created_at: DbDefault<DateTime<Utc>>,
}

impl Post {
    pub fn new(author_id: i64, title: &str) -> Post {
        Post {
            title: title.into(),
            content: format!("{title} body"),
            author_id,
            ..Default::default()
        }
    }
}

/// Optimistic concurrency: every UPDATE and DELETE of an account checks and bumps `version`.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "accounts")]
pub struct Account {
    #[orm(primary_key)]
    pub id: i64,
    pub owner: String,
    pub balance: i64,
    #[orm(version)]
    pub version: i64,
}

/// UUID keys generated client-side, and a self-reference.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "categories")]
pub struct Category {
    #[orm(primary_key, default = uuid4)]
    pub id: Uuid,
    pub name: String,
    #[orm(references = Category, on_delete = cascade)]
    pub parent_id: Option<Uuid>,
}

/// A parent with a client-generated key and its children, to test FK ordering.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "authors")]
pub struct Author {
    #[orm(primary_key, default = uuid4)]
    pub id: Uuid,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "books")]
pub struct Book {
    #[orm(primary_key, default = uuid4)]
    pub id: Uuid,
    #[orm(references = Author)]
    pub author_id: Uuid,
    pub title: String,
}

/// A composite primary key.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "memberships")]
pub struct Membership {
    #[orm(primary_key)]
    pub user_id: i64,
    #[orm(primary_key, max_length = 40)]
    pub group_name: String,
    #[orm(default = "member")]
    pub role: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Preferences {
    pub theme: String,
    pub notifications: bool,
}

/// Every supported column type, plain and optional.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "all_types")]
pub struct AllTypes {
    #[orm(primary_key)]
    pub id: i64,
    pub small: i16,
    pub int: i32,
    pub big: i64,
    pub float32: f32,
    pub float64: f64,
    pub flag: bool,
    pub text: String,
    pub bytes: Vec<u8>,
    pub at: DateTime<Utc>,
    pub naive_at: NaiveDateTime,
    pub day: NaiveDate,
    pub uid: Uuid,
    pub prefs: Json<Preferences>,
    pub doc: serde_json::Value,
    pub tags: Vec<String>,
    pub numbers: Vec<i64>,
    pub status: PostStatus,
    pub o_small: Option<i16>,
    pub o_int: Option<i32>,
    pub o_big: Option<i64>,
    pub o_float: Option<f64>,
    pub o_flag: Option<bool>,
    pub o_text: Option<String>,
    pub o_bytes: Option<Vec<u8>>,
    pub o_at: Option<DateTime<Utc>>,
    pub o_day: Option<NaiveDate>,
    pub o_uid: Option<Uuid>,
    pub o_prefs: Option<Json<Preferences>>,
    pub o_tags: Option<Vec<String>>,
    pub o_status: Option<PostStatus>,
}

impl AllTypes {
    /// A value in every column (a fresh random UUID in `uid`).
    #[allow(dead_code)] // not every test file uses it
    pub fn sample() -> AllTypes {
        let at = DateTime::parse_from_rfc3339("2024-02-29T13:14:15.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        AllTypes {
            id: 0,
            small: -12,
            int: i32::MIN,
            big: i64::MAX,
            float32: 1.5,
            float64: -2.25e100,
            flag: true,
            text: "héllo \"quoted\" 'single' ✓".into(),
            bytes: vec![0, 1, 2, 255],
            at,
            naive_at: at.naive_utc(),
            day: NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
            uid: Uuid::new_v4(),
            prefs: Json(Preferences { theme: "dark".into(), notifications: true }),
            doc: serde_json::json!({"a": [1, "2", null], "b": {"c": 5}}),
            tags: vec!["rust".into(), "1".into(), "".into()],
            numbers: vec![-1, 0, i64::MAX],
            status: PostStatus::Archived,
            o_small: Some(7),
            o_int: Some(8),
            o_big: Some(9),
            o_float: Some(0.5),
            o_flag: Some(false),
            o_text: Some("5".into()),
            o_bytes: Some(vec![]),
            o_at: Some(at),
            o_day: Some(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()),
            o_uid: Some(Uuid::nil()),
            o_prefs: Some(Json(Preferences::default())),
            o_tags: Some(vec![]),
            o_status: Some(PostStatus::Draft),
        }
    }
}

pub fn all_tables() -> Vec<&'static orm::TableSchema> {
    vec![
        User::TABLE,
        Account::TABLE,
        Post::TABLE,
        Category::TABLE,
        Author::TABLE,
        Book::TABLE,
        Membership::TABLE,
        AllTypes::TABLE,
        Document::TABLE,
    ]
}

/// JSON, arrays and text, for the operator tests.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "documents")]
pub struct Document {
    #[orm(primary_key)]
    pub id: i64,
    pub body: String,
    pub prefs: Json<Preferences>,
    pub meta: serde_json::Value,
    pub tags: Vec<String>,
    pub scores: Vec<i64>,
    pub status: PostStatus,
}
