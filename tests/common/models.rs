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
