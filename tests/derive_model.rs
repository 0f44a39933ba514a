//! Behaviour of the code `#[derive(Model)]`, `#[derive(DbEnum)]` and `#[derive(FromRow)]`
//! generate, without a database: schema contents, keys, column access, snapshots and dirty
//! masks, client defaults, decoding from a row, enum labels.
#![allow(missing_docs)]

use chrono::Timelike;
use orm::prelude::*;
use orm::{
    ColumnSchema, ColumnType, DefaultValue, FromRow, FromValue, ReferentialAction, Row, ToValue,
    Value, ValueRef,
};
use serde::{Deserialize, Serialize};

/// A row over borrowed values, as a driver would hand one out.
struct TestRow<'a> {
    names: Vec<&'static str>,
    values: Vec<ValueRef<'a>>,
}

impl<'a> TestRow<'a> {
    fn new(cols: Vec<(&'static str, ValueRef<'a>)>) -> Self {
        let (names, values) = cols.into_iter().unzip();
        TestRow { names, values }
    }
}

impl Row for TestRow<'_> {
    fn len(&self) -> usize {
        self.values.len()
    }
    fn get(&self, idx: usize) -> orm::Result<ValueRef<'_>> {
        self.values
            .get(idx)
            .copied()
            .ok_or_else(|| orm::Error::InvalidUse(format!("no column {idx}")))
    }
    fn column_name(&self, idx: usize) -> Option<&str> {
        self.names.get(idx).copied()
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Preferences {
    pub theme: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "accounts", index(age, nickname), unique(username, nickname, name = "uq_custom"))]
pub struct Account {
    #[orm(primary_key, default = uuid4)]
    pub id: Uuid,
    #[orm(unique, max_length = 80)]
    pub username: String,
    #[orm(unique, index, max_length = 120)]
    pub email: String,
    #[orm(index)]
    pub age: Option<i32>,
    #[orm(column = "nick")]
    pub nickname: Option<String>,
    pub preferences: Json<Preferences>,
    pub tags: Vec<String>,
    #[orm(server_default = "CURRENT_TIMESTAMP")]
    pub created_at: DateTime<Utc>,
    #[orm(skip)]
    pub scratch: u32,
    #[orm(has_many(foreign_key = author_id))]
    pub posts: Related<Vec<Article>>,
}

#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[orm(type_name = "article_status")]
pub enum ArticleStatus {
    Draft,
    #[orm(default)]
    InReview,
    #[orm(rename = "live")]
    Published,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Article {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(max_length = 100, default = "untitled")]
    pub title: String,
    #[orm(default = now)]
    pub created_at: DateTime<Utc>,
    #[orm(default = now)]
    pub written_on: Option<NaiveDate>,
    #[orm(default = now)]
    pub local_time: NaiveDateTime,
    #[orm(references = Account, on_delete = cascade)]
    pub author_id: Uuid,
    pub status: ArticleStatus,
    #[orm(default = -3)]
    pub score: i16,
    #[orm(default = 2)]
    pub weight: f64,
    #[orm(default = -0.5)]
    pub ratio: Option<f32>,
    #[orm(default = true)]
    pub visible: bool,
    #[orm(default = 42)]
    pub hits: Option<i64>,
    #[orm(belongs_to(foreign_key = author_id))]
    pub author: Related<Account>,
}

/// Default table name, a self reference, `set_null`, `auto_increment = false`.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct BlogCategory {
    #[orm(primary_key, auto_increment = false)]
    pub id: i32,
    #[orm(references = Self, on_delete = set_null, on_update = cascade)]
    pub parent_id: Option<i32>,
    #[orm(references = BlogCategory)]
    pub sibling_id: Option<i32>,
}

/// A composite key, and `no_default` (there is no `Default` impl to conflict with this one).
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "memberships", no_default)]
pub struct Membership {
    #[orm(primary_key, references = Account)]
    pub account_id: Uuid,
    #[orm(primary_key, references = BlogCategory)]
    pub category_id: i32,
    pub role: String,
}

impl Default for Membership {
    fn default() -> Self {
        Membership { account_id: Uuid::nil(), category_id: 7, role: "member".into() }
    }
}

/// One column: the snapshot is a 1-tuple.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Tag {
    #[orm(primary_key)]
    pub name: String,
}

fn column<'a>(table: &'a orm::TableSchema, name: &str) -> &'a ColumnSchema {
    table.column(name).unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn schema_of_columns() {
    let t = Account::TABLE;
    assert_eq!(t.name, "accounts");
    assert_eq!(<Account as orm::Model>::TABLE_NAME, "accounts");
    let names: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        ["id", "username", "email", "age", "nick", "preferences", "tags", "created_at"]
    );
    assert_eq!(t.primary_key, &[0]);
    assert_eq!(<Account as orm::Model>::PRIMARY_KEY_COLUMNS, &["id"]);

    let id = column(t, "id");
    assert_eq!(id.ty, ColumnType::Uuid);
    assert!(id.primary_key && !id.auto_increment && !id.nullable);
    assert_eq!(id.default, Some(DefaultValue::Uuid4));
    assert_eq!(id.field, "id");

    let username = column(t, "username");
    assert_eq!((username.ty, username.max_length), (ColumnType::Text, Some(80)));
    let age = column(t, "age");
    assert_eq!((age.ty, age.nullable), (ColumnType::Integer, true));
    let nick = column(t, "nick");
    assert_eq!((nick.field, nick.nullable), ("nickname", true));
    assert_eq!(column(t, "preferences").ty, ColumnType::Json);
    assert_eq!(column(t, "tags").ty, ColumnType::TextArray);
    let created = column(t, "created_at");
    assert_eq!(created.ty, ColumnType::Timestamptz);
    assert_eq!(created.server_default, Some("CURRENT_TIMESTAMP"));
    assert!(created.is_generated());
}

#[test]
fn schema_of_indexes_and_constraints() {
    let t = Account::TABLE;
    let indexes: Vec<(&str, &[&str], bool)> =
        t.indexes.iter().map(|i| (i.name, i.columns, i.unique)).collect();
    assert_eq!(
        indexes,
        [
            ("ix_accounts_email", &["email"][..], true),
            ("ix_accounts_age", &["age"][..], false),
            ("ix_accounts_age_nick", &["age", "nick"][..], false),
        ]
    );
    let uniques: Vec<(&str, &[&str])> = t.uniques.iter().map(|u| (u.name, u.columns)).collect();
    assert_eq!(
        uniques,
        [("uq_accounts_username", &["username"][..]), ("uq_custom", &["username", "nick"][..])]
    );
    assert!(t.foreign_keys.is_empty());
}

#[test]
fn schema_of_foreign_keys() {
    let t = Article::TABLE;
    assert_eq!(t.name, "article");
    let fk = &t.foreign_keys[0];
    assert_eq!(fk.name, "fk_article_author_id_accounts");
    assert_eq!(
        (fk.columns, fk.ref_table, fk.ref_columns),
        (&["author_id"][..], "accounts", &["id"][..])
    );
    assert_eq!(
        (fk.on_delete, fk.on_update),
        (ReferentialAction::Cascade, ReferentialAction::NoAction)
    );
    assert_eq!(t.dependencies().collect::<Vec<_>>(), ["accounts"]);

    let c = BlogCategory::TABLE;
    assert_eq!(c.name, "blog_category");
    let fks: Vec<_> =
        c.foreign_keys.iter().map(|f| (f.name, f.ref_table, f.on_delete, f.on_update)).collect();
    assert_eq!(
        fks,
        [
            (
                "fk_blog_category_parent_id_blog_category",
                "blog_category",
                ReferentialAction::SetNull,
                ReferentialAction::Cascade
            ),
            (
                "fk_blog_category_sibling_id_blog_category",
                "blog_category",
                ReferentialAction::NoAction,
                ReferentialAction::NoAction
            ),
        ]
    );
    assert!(!column(c, "id").auto_increment, "auto_increment = false");

    let m = Membership::TABLE;
    assert_eq!(m.primary_key, &[0, 1]);
    assert_eq!(<Membership as orm::Model>::PRIMARY_KEY_COLUMNS, &["account_id", "category_id"]);
    assert!(m.columns.iter().all(|c| !c.auto_increment));
    assert_eq!(m.foreign_keys[1].name, "fk_memberships_category_id_blog_category");
}

#[test]
fn schema_of_client_defaults_and_enums() {
    let t = Article::TABLE;
    let id = column(t, "id");
    assert!(id.primary_key && id.auto_increment);
    assert_eq!(id.ty, ColumnType::BigInt);
    assert!(t.has_generated_key());
    assert_eq!(column(t, "title").default, Some(DefaultValue::Text("untitled")));
    assert_eq!(column(t, "created_at").default, Some(DefaultValue::Now));
    assert_eq!(column(t, "written_on").ty, ColumnType::Date);
    assert_eq!(column(t, "local_time").ty, ColumnType::Timestamp);
    assert_eq!(column(t, "score").default, Some(DefaultValue::Int(-3)));
    assert_eq!(column(t, "weight").default, Some(DefaultValue::Float(2.0)));
    assert_eq!(column(t, "ratio").default, Some(DefaultValue::Float(-0.5)));
    assert_eq!(column(t, "visible").default, Some(DefaultValue::Bool(true)));
    assert_eq!(column(t, "hits").default, Some(DefaultValue::Int(42)));
    assert_eq!(
        column(t, "status").ty,
        ColumnType::Enum { name: "article_status", variants: &["draft", "in_review", "live"] }
    );
    assert!(!t.columns.iter().any(|c| c.name == "author"), "Related is not a column");
}

#[test]
fn typed_column_handles() {
    assert_eq!((Account::email.index, Account::email.name), (2, "email"));
    assert_eq!((Account::nickname.index, Account::nickname.name), (4, "nick"));
    let _: orm::Column<Account, Option<i32>> = Account::age;
    let _: orm::Column<Article, ArticleStatus> = Article::status;
    assert_eq!(Article::status.index, 6);
}

fn account() -> Account {
    Account {
        id: Uuid::from_u128(0x1234),
        username: "tata".into(),
        email: "tata@example.com".into(),
        age: Some(30),
        nickname: None,
        preferences: Json(Preferences { theme: "dark".into() }),
        tags: vec!["a".into()],
        created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        scratch: 9,
        posts: Related::Unloaded,
    }
}

#[test]
fn keys() {
    let a = account();
    assert_eq!(a.key(), Some(Uuid::from_u128(0x1234)));
    assert_eq!(
        Account::key_values(&Uuid::from_u128(0x1234)),
        vec![Value::Uuid(Uuid::from_u128(0x1234))]
    );

    let mut art = Article::default();
    assert_eq!(art.id, 0);
    assert_eq!(art.key(), None, "0 means the database assigns the key");
    art.id = 5;
    assert_eq!(art.key(), Some(5));

    let c = BlogCategory { id: 0, parent_id: None, sibling_id: None };
    assert_eq!(c.key(), Some(0), "not generated: 0 is a key like any other");

    let m = Membership::default();
    let key = m.key().unwrap();
    assert_eq!(key, (Uuid::nil(), 7));
    assert_eq!(Membership::key_values(&key), vec![Value::Uuid(Uuid::nil()), Value::Int(7)]);
}

#[test]
fn column_value_and_set_column() {
    let mut a = account();
    assert_eq!(a.column_value(1), Value::Text("tata".into()));
    assert_eq!(a.column_value(3), Value::Int(30));
    assert_eq!(a.column_value(4), Value::Null);
    assert_eq!(a.column_value(5), Value::Json(serde_json::json!({"theme": "dark"})));
    assert_eq!(a.column_value(99), Value::Null);

    a.set_column(3, ValueRef::Int(31)).unwrap();
    assert_eq!(a.age, Some(31));
    a.set_column(4, ValueRef::Text("tt")).unwrap();
    assert_eq!(a.nickname.as_deref(), Some("tt"));
    a.set_column(7, ValueRef::Text("2024-01-02T03:04:05Z")).unwrap();
    assert_eq!(a.created_at.to_rfc3339(), "2024-01-02T03:04:05+00:00");

    let err = a.set_column(1, ValueRef::Int(1)).unwrap_err();
    assert!(matches!(&err, orm::Error::Decode { column, .. } if column == "username"), "{err}");
    assert!(matches!(a.set_column(8, ValueRef::Null), Err(orm::Error::InvalidUse(_))));

    let mut art = Article::default();
    art.set_column(0, ValueRef::Int(77)).unwrap();
    assert_eq!(art.key(), Some(77));
    assert_eq!(
        art.column_value(6),
        Value::Enum { type_name: "article_status", label: "in_review" }
    );
}

#[test]
fn snapshots_and_changed_columns() {
    let mut a = account();
    let snap = a.snapshot();
    assert!(a.changed_columns(&snap).is_empty());

    a.email = "new@example.com".into();
    a.nickname = Some("n".into());
    a.scratch = 100; // not a column
    a.posts = Related::Loaded(vec![]); // not a column
    let mask = a.changed_columns(&snap);
    assert_eq!(mask.iter().collect::<Vec<_>>(), [2, 4]);

    let back = Account::from_snapshot(&snap);
    assert_eq!(back.email, "tata@example.com");
    assert_eq!(back.scratch, 0, "skipped fields are Default");
    assert!(!back.posts.is_loaded());
    assert_eq!(back.key(), a.key());

    let t = Tag { name: "x".into() };
    let snap: (String,) = t.snapshot();
    assert_eq!(snap.0, "x");
    assert_eq!(Tag::from_snapshot(&snap), t);
}

#[test]
fn default_applies_client_defaults() {
    // `now` is taken to whole microseconds (as the databases store it): compare with the
    // instant before, truncated the same way.
    let before = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let a = Article::default();
    let after = Utc::now();
    assert_eq!(a.id, 0);
    assert_eq!(a.title, "untitled");
    assert!(a.created_at >= before && a.created_at <= after);
    assert!(a.written_on.is_some());
    assert!(a.local_time <= after.naive_utc());
    assert_eq!(a.status, ArticleStatus::InReview);
    assert_eq!(
        (a.score, a.weight, a.ratio, a.visible, a.hits),
        (-3, 2.0, Some(-0.5), true, Some(42))
    );

    // Whole microseconds, as both databases store them.
    assert_eq!(a.created_at.nanosecond() % 1000, 0, "{:?}", a.created_at);
    assert_eq!(a.local_time.nanosecond() % 1000, 0, "{:?}", a.local_time);

    let (x, y) = (Account::default(), Account::default());
    assert_ne!(x.id, Uuid::nil());
    assert_ne!(x.id, y.id, "uuid4 is drawn per object");
    assert_eq!(x.username, "");
}

#[test]
fn decode_by_position_from_offset() {
    let id = Uuid::from_u128(42);
    let id_text = id.to_string();
    let row = TestRow::new(vec![
        ("other_table_col", ValueRef::Int(1)),
        ("id", ValueRef::Text(&id_text)),
        ("username", ValueRef::Text("tata")),
        ("email", ValueRef::Text("t@x")),
        ("age", ValueRef::Null),
        ("nick", ValueRef::Text("tt")),
        ("preferences", ValueRef::Text(r#"{"theme":"light"}"#)),
        ("tags", ValueRef::Text(r#"["a","b"]"#)),
        ("created_at", ValueRef::Text("2024-01-02 03:04:05")),
    ]);
    let a = Account::decode(&row, 1).unwrap();
    assert_eq!(a.id, id);
    assert_eq!((a.username.as_str(), a.age, a.nickname.as_deref()), ("tata", None, Some("tt")));
    assert_eq!(a.preferences.theme, "light");
    assert_eq!(a.tags, ["a", "b"]);
    assert_eq!(a.scratch, 0);
    assert!(!a.posts.is_loaded());

    let err = Account::decode(&row, 0).unwrap_err();
    assert!(matches!(&err, orm::Error::Decode { column, .. } if column == "id"), "{err}");

    let enum_row = TestRow::new(vec![("s", ValueRef::Text("live"))]);
    let status: ArticleStatus = orm::__private::decode_at(&enum_row, 0, "s").unwrap();
    assert_eq!(status, ArticleStatus::Published);
}

#[test]
fn db_enum_labels_round_trip() {
    use orm::DbEnum as _;
    assert_eq!(ArticleStatus::TYPE_NAME, "article_status");
    assert_eq!(ArticleStatus::LABELS, &["draft", "in_review", "live"]);
    for (v, label) in [
        (ArticleStatus::Draft, "draft"),
        (ArticleStatus::InReview, "in_review"),
        (ArticleStatus::Published, "live"),
    ] {
        assert_eq!(v.label(), label);
        assert_eq!(ArticleStatus::from_label(label), Some(v));
        assert_eq!(v.to_value(), Value::Enum { type_name: "article_status", label });
        assert_eq!(ArticleStatus::from_value(ValueRef::Text(label)).unwrap(), v);
    }
    assert_eq!(ArticleStatus::from_label("Published"), None);
    assert!(ArticleStatus::from_value(ValueRef::Text("nope")).is_err());
    assert!(ArticleStatus::from_value(ValueRef::Int(1)).is_err());
    assert_eq!(ArticleStatus::default(), ArticleStatus::InReview);
    assert_eq!(Option::<ArticleStatus>::None.to_value(), Value::Null);

    #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
    enum HttpState {
        HTTPError,
        Ok2,
    }
    assert_eq!(HttpState::TYPE_NAME, "http_state");
    assert_eq!(HttpState::LABELS, &["http_error", "ok2"]);
    assert_eq!(HttpState::default(), HttpState::HTTPError);
}

#[derive(FromRow, Debug, PartialEq)]
struct Summary {
    username: String,
    #[orm(column = "n")]
    post_count: i64,
    average: Option<f64>,
    #[orm(skip)]
    note: String,
}

/// A generic `FromRow`: the derive bounds each field type by `FromValue`.
#[derive(FromRow, Debug, PartialEq)]
struct Pair<T> {
    key: String,
    value: T,
}

/// Deriving `Model` and `FromRow` on one struct: the Model keys are ignored by FromRow.
#[derive(Model, FromRow, Debug, Clone, PartialEq)]
#[orm(table = "notes")]
struct Note {
    #[orm(primary_key)]
    id: i64,
    #[orm(column = "body_text", max_length = 10)]
    body: String,
}

#[test]
fn from_row_by_column_name() {
    let row = TestRow::new(vec![
        ("average", ValueRef::Null),
        ("n", ValueRef::Int(3)),
        ("username", ValueRef::Text("tata")),
    ]);
    let s = Summary::from_row(&row).unwrap();
    assert_eq!(
        s,
        Summary { username: "tata".into(), post_count: 3, average: None, note: String::new() }
    );

    let missing = TestRow::new(vec![("username", ValueRef::Text("tata"))]);
    let err = Summary::from_row(&missing).unwrap_err();
    assert!(matches!(&err, orm::Error::Decode { column, .. } if column == "n"), "{err}");

    let row = TestRow::new(vec![("value", ValueRef::Float(1.5)), ("key", ValueRef::Text("k"))]);
    assert_eq!(Pair::<f64>::from_row(&row).unwrap(), Pair { key: "k".into(), value: 1.5 });

    let row = TestRow::new(vec![("body_text", ValueRef::Text("hi")), ("id", ValueRef::Int(2))]);
    assert_eq!(Note::from_row(&row).unwrap(), Note { id: 2, body: "hi".into() });
}

#[test]
fn models_register_themselves() {
    let tables = orm::model::registered_tables();
    let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
    for name in ["accounts", "article", "blog_category", "memberships", "tag", "notes", "wide"] {
        assert!(names.contains(&name), "{name} not registered: {names:?}");
    }
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(pos("accounts") < pos("article"), "parents first");
}

/// 64 columns: the snapshot is a 64-tuple and the mask spans two words.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Wide {
    #[orm(primary_key)]
    pub c0: i32,
    pub c1: i32,
    pub c2: i32,
    pub c3: i32,
    pub c4: i32,
    pub c5: i32,
    pub c6: i32,
    pub c7: i32,
    pub c8: i32,
    pub c9: i32,
    pub c10: i32,
    pub c11: i32,
    pub c12: i32,
    pub c13: i32,
    pub c14: i32,
    pub c15: i32,
    pub c16: i32,
    pub c17: i32,
    pub c18: i32,
    pub c19: i32,
    pub c20: i32,
    pub c21: i32,
    pub c22: i32,
    pub c23: i32,
    pub c24: i32,
    pub c25: i32,
    pub c26: i32,
    pub c27: i32,
    pub c28: i32,
    pub c29: i32,
    pub c30: i32,
    pub c31: i32,
    pub c32: i32,
    pub c33: i32,
    pub c34: i32,
    pub c35: i32,
    pub c36: i32,
    pub c37: i32,
    pub c38: i32,
    pub c39: i32,
    pub c40: i32,
    pub c41: i32,
    pub c42: i32,
    pub c43: i32,
    pub c44: i32,
    pub c45: i32,
    pub c46: i32,
    pub c47: i32,
    pub c48: i32,
    pub c49: i32,
    pub c50: i32,
    pub c51: i32,
    pub c52: i32,
    pub c53: i32,
    pub c54: i32,
    pub c55: i32,
    pub c56: i32,
    pub c57: i32,
    pub c58: i32,
    pub c59: i32,
    pub c60: i32,
    pub c61: i32,
    pub c62: i32,
    pub c63: i32,
}

#[test]
fn wide_model() {
    assert_eq!(Wide::TABLE.columns.len(), 64);
    let mut w = Wide::default();
    let snap = w.snapshot();
    w.c63 = 1;
    w.c1 = 1;
    assert_eq!(w.changed_columns(&snap).iter().collect::<Vec<_>>(), [1, 63]);
    assert_eq!(Wide::c63.index, 63);
    assert_eq!(w.column_value(63), Value::Int(1));
}

/// Columns the database fills: `DbDefault<T>` with a `server_default`.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "visits")]
pub struct Visit {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(server_default = "0")]
    pub hits: DbDefault<i64>,
    #[orm(server_default = "'direct'", max_length = 20)]
    pub referrer: DbDefault<Option<String>>,
    #[orm(server_default = "CURRENT_TIMESTAMP")]
    pub seen_at: orm::DbDefault<DateTime<Utc>>,
    /// A server default on a plain field: DDL for other writers; the field keeps its value.
    #[orm(server_default = "1")]
    pub weight: i32,
}

#[test]
fn db_default_columns_have_the_inner_type() {
    let t = Visit::TABLE;
    let hits = column(t, "hits");
    assert_eq!((hits.ty, hits.nullable), (ColumnType::BigInt, false));
    assert_eq!((hits.server_default, hits.default), (Some("0"), None));
    let referrer = column(t, "referrer");
    assert_eq!((referrer.ty, referrer.nullable), (ColumnType::Text, true));
    assert_eq!((referrer.server_default, referrer.max_length), (Some("'direct'"), Some(20)));
    let seen_at = column(t, "seen_at");
    assert_eq!((seen_at.ty, seen_at.nullable), (ColumnType::Timestamptz, false));
    assert_eq!(seen_at.server_default, Some("CURRENT_TIMESTAMP"));
    let weight = column(t, "weight");
    assert_eq!((weight.ty, weight.server_default), (ColumnType::Integer, Some("1")));
    let _: orm::Column<Visit, DbDefault<i64>> = Visit::hits;
}

#[test]
fn db_default_values() {
    let mut v = Visit::default();
    assert_eq!(v.hits, DbDefault::Default);
    assert_eq!(v.referrer, DbDefault::Default);
    assert!(v.seen_at.is_default());
    assert_eq!(v.weight, 0);
    assert_eq!(v.column_value(1), Value::Default);
    assert_eq!(v.column_value(2), Value::Default);
    assert_eq!(v.column_value(3), Value::Default);
    assert_eq!(v.column_value(4), Value::Int(0), "a plain field's value, server default or not");

    v.hits = DbDefault::Value(5);
    v.referrer = DbDefault::Value(None);
    assert_eq!(v.column_value(1), Value::Int(5));
    assert_eq!(v.column_value(2), Value::Null);
    v.referrer = Some("search".to_owned()).into();
    assert_eq!(v.column_value(2), Value::Text("search".into()));

    let mut read = Visit::default();
    read.set_column(1, ValueRef::Int(9)).unwrap();
    read.set_column(2, ValueRef::Null).unwrap();
    read.set_column(3, ValueRef::Text("2024-01-02T03:04:05Z")).unwrap();
    assert_eq!(read.hits, DbDefault::Value(9));
    assert_eq!(read.referrer, DbDefault::Value(None));
    assert_eq!(
        read.seen_at.value().map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-01-02T03:04:05+00:00")
    );

    let row = TestRow::new(vec![
        ("id", ValueRef::Int(1)),
        ("hits", ValueRef::Int(0)),
        ("referrer", ValueRef::Text("direct")),
        ("seen_at", ValueRef::Text("2024-01-02 03:04:05")),
        ("weight", ValueRef::Int(1)),
    ]);
    let decoded = Visit::decode(&row, 0).unwrap();
    assert_eq!(decoded.hits, DbDefault::Value(0));
    assert_eq!(decoded.referrer.into_value(), Some(Some("direct".to_owned())));
    assert!(!decoded.seen_at.is_default());

    let snap = read.snapshot();
    read.hits = DbDefault::Default;
    assert_eq!(read.changed_columns(&snap).iter().collect::<Vec<_>>(), [1]);
}

#[test]
fn db_default_columns_compare_with_plain_values() {
    let Expr::Binary { right, .. } = Visit::hits.eq(5) else { panic!("not a comparison") };
    assert_eq!(*right, Expr::Value(Value::Int(5)));
    let Expr::Binary { right, .. } = Visit::referrer.ne("direct") else {
        panic!("not a comparison")
    };
    assert_eq!(*right, Expr::Value(Value::Text("direct".into())));
    let _ = (Visit::hits.gt(DbDefault::Value(1)), Visit::referrer.like("d%"));
    let _ = (Visit::referrer.is_null(), Visit::hits.set(0_i64), Visit::weight.eq(1));
    let _: orm::TypedExpr<Option<i64>> = sum(Visit::hits);
    let _: orm::TypedExpr<Option<DateTime<Utc>>> = max(Visit::seen_at);
}

#[test]
fn db_default_serde_is_option_like() {
    assert_eq!(serde_json::to_value(DbDefault::<i64>::Default).unwrap(), serde_json::json!(null));
    assert_eq!(serde_json::to_value(DbDefault::Value(3)).unwrap(), serde_json::json!(3));
    let back: DbDefault<i64> = serde_json::from_value(serde_json::json!(3)).unwrap();
    assert_eq!(back, DbDefault::Value(3));
    let back: DbDefault<i64> = serde_json::from_value(serde_json::json!(null)).unwrap();
    assert_eq!(back, DbDefault::Default);
}

/// An optimistic-concurrency counter.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Versioned {
    #[orm(primary_key)]
    pub id: i64,
    pub body: String,
    #[orm(version)]
    pub revision: i32,
}

#[test]
fn version_column() {
    assert_eq!(Versioned::TABLE.version_column, Some(2));
    let revision = column(Versioned::TABLE, "revision");
    assert_eq!(
        (revision.ty, revision.nullable, revision.default),
        (ColumnType::Integer, false, None)
    );
    assert_eq!(Versioned::default().revision, 1, "a version counter starts at 1");
    assert_eq!(Account::TABLE.version_column, None);
    assert_eq!(Article::TABLE.version_column, None);
    assert_eq!(Visit::TABLE.version_column, None);
}
