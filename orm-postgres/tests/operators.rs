//! The PostgreSQL-specific operators as the dialect renders them, run on a real server: JSON
//! (`->`, `->>`, `@>`, `?`), arrays (`@>`, `&&`, `= ANY(col)`), full-text search, casts, and
//! `EXPLAIN [ANALYZE]`.

mod common;

use common::{create, db, rows, text};
use orm_core::connection::decode_at;
use orm_core::schema::{ColumnSchema, ColumnType, IndexSchema, TableSchema};
use orm_core::statement::{ArrayOp, Expr, Insert, JsonOp, OrderBy, Select};
use orm_core::{Connection, Dialect, Result, Value};
use orm_postgres::DIALECT;

static POST_COLUMNS: [ColumnSchema; 5] = [
    ColumnSchema {
        primary_key: true,
        auto_increment: true,
        ..ColumnSchema::new("id", ColumnType::BigInt)
    },
    ColumnSchema { max_length: Some(100), ..ColumnSchema::new("title", ColumnType::Text) },
    ColumnSchema::new("content", ColumnType::Text),
    ColumnSchema::new("prefs", ColumnType::Json),
    ColumnSchema::new("tags", ColumnType::TextArray),
];

static POSTS: TableSchema = TableSchema {
    name: "posts",
    renamed_from: None,
    columns: &POST_COLUMNS,
    primary_key: &[0],
    indexes: &[IndexSchema::new("ix_posts_title", &["title"], false)],
    uniques: &[],
    foreign_keys: &[],
    version_column: None,
    checks: &[],
};

fn c(name: &'static str) -> Box<Expr> {
    Box::new(Expr::Column { table: "posts", name })
}

fn v(value: Value) -> Box<Expr> {
    Box::new(Expr::Value(value))
}

fn setup(conn: &mut dyn Connection) -> Result<()> {
    create(conn, &POSTS);
    let row = |title: &str, content: &str, prefs: serde_json::Value, tags: &[&str]| {
        vec![
            text(title),
            text(content),
            Value::Json(prefs),
            Value::TextArray(tags.iter().map(|t| (*t).to_owned()).collect()),
        ]
    };
    let ins = Insert {
        table: "posts",
        columns: vec!["title", "content", "prefs", "tags"],
        rows: vec![
            row(
                "Rust ORMs",
                "Writing an ORM in Rust: sessions and queries.",
                serde_json::json!({"theme": "dark", "size": 12, "beta": true}),
                &["rust", "orm"],
            ),
            row(
                "Postgres tips",
                "Indexes make queries fast; the planner chooses them.",
                serde_json::json!({"theme": "light", "size": 10}),
                &["postgres", "sql"],
            ),
            row("Empty", "", serde_json::json!({}), &[]),
        ],
        returning: vec![],
    };
    let r = DIALECT.insert(&ins)?;
    assert_eq!(conn.execute(&r.sql, &r.params)?, 3);
    Ok(())
}

/// The ids of the posts matching `filter`, in id order.
fn ids(conn: &mut dyn Connection, filter: Expr) -> Result<Vec<i64>> {
    let mut s = Select::from_table("posts");
    s.columns = vec![*c("id")];
    s.filter = Some(filter);
    s.order_by = vec![OrderBy { expr: *c("id"), desc: false }];
    let r = DIALECT.select(&s)?;
    let mut out = Vec::new();
    conn.query(&r.sql, &r.params, &mut |row| {
        out.push(decode_at::<i64>(row, 0, "id")?);
        Ok(())
    })?;
    Ok(out)
}

/// One selected expression for every post, in id order.
fn column(conn: &mut dyn Connection, e: Expr) -> Result<Vec<Value>> {
    let mut s = Select::from_table("posts");
    s.columns = vec![e];
    s.order_by = vec![OrderBy { expr: *c("id"), desc: false }];
    let r = DIALECT.select(&s)?;
    Ok(rows(conn, &r.sql, &r.params)?.into_iter().flatten().collect())
}

#[test]
fn json_operators_infer_their_key_parameter() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    setup(conn)?;
    let json = |op, arg: Value| Expr::Json { op, expr: c("prefs"), arg: v(arg) };
    assert_eq!(
        column(conn, json(JsonOp::GetText, text("theme")))?,
        vec![text("dark"), text("light"), Value::Null]
    );
    assert_eq!(
        column(conn, json(JsonOp::Get, text("size")))?,
        vec![text("12"), text("10"), Value::Null]
    );
    let docs = column(conn, json(JsonOp::Get, text("theme")))?;
    assert_eq!(docs[0], text("\"dark\""), "-> gives JSON: a quoted string");
    assert_eq!(ids(conn, json(JsonOp::HasKey, text("beta")))?, [1]);
    assert_eq!(
        ids(conn, json(JsonOp::Contains, Value::Json(serde_json::json!({"theme": "light"}))))?,
        [2]
    );
    assert_eq!(ids(conn, json(JsonOp::Contains, Value::Json(serde_json::json!({}))))?, [1, 2, 3]);
    // Compared with a bound value.
    assert_eq!(
        ids(
            conn,
            Expr::binary(
                json(JsonOp::GetText, text("theme")),
                orm_core::statement::BinaryOp::Eq,
                *v(text("dark"))
            )
        )?,
        [1]
    );
    // Grouped by a selected JSON key: GROUP BY its position.
    let theme = json(JsonOp::GetText, text("theme"));
    let mut s = Select::from_table("posts");
    s.columns = vec![theme.clone(), Expr::CountStar];
    s.group_by = vec![theme.clone()];
    s.order_by = vec![OrderBy { expr: theme, desc: false }];
    let r = DIALECT.select(&s)?;
    assert_eq!(
        rows(conn, &r.sql, &r.params)?,
        vec![
            vec![text("dark"), Value::Int(1)],
            vec![text("light"), Value::Int(1)],
            vec![Value::Null, Value::Int(1)]
        ]
    );
    Ok(())
}

#[test]
fn array_operators() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    setup(conn)?;
    let arr = |items: &[&str]| Value::TextArray(items.iter().map(|t| (*t).to_owned()).collect());
    let op = |op, arg| Expr::Array { op, expr: c("tags"), arg: v(arg) };
    assert_eq!(ids(conn, op(ArrayOp::Contains, arr(&["orm", "rust"])))?, [1]);
    assert_eq!(ids(conn, op(ArrayOp::Contains, arr(&["orm", "sql"])))?, Vec::<i64>::new());
    assert_eq!(ids(conn, op(ArrayOp::Contains, arr(&[])))?, [1, 2, 3]);
    assert_eq!(ids(conn, op(ArrayOp::Overlaps, arr(&["sql", "rust"])))?, [1, 2]);
    assert_eq!(ids(conn, op(ArrayOp::Any, text("postgres")))?, [2]);
    // A GIN index on the array column serves @>.
    conn.execute_batch("CREATE INDEX ix_posts_tags ON posts USING GIN (tags)")?;
    assert_eq!(ids(conn, op(ArrayOp::Contains, arr(&["rust"])))?, [1]);
    Ok(())
}

#[test]
fn full_text_search() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    setup(conn)?;
    let fts = |doc: Vec<Expr>, q: &str, websearch| Expr::FullText {
        document: doc,
        config: "english".into(),
        query: v(text(q)),
        websearch,
    };
    assert_eq!(ids(conn, fts(vec![*c("content")], "query", false))?, [1, 2]);
    assert_eq!(ids(conn, fts(vec![*c("content")], "sessions writing", false))?, [1]);
    assert_eq!(ids(conn, fts(vec![*c("content")], "queries -rust", true))?, [2]);
    assert_eq!(ids(conn, fts(vec![*c("content")], "\"planner chooses\"", true))?, [2]);
    assert_eq!(ids(conn, fts(vec![*c("title"), *c("content")], "postgres index", false))?, [2]);
    assert_eq!(ids(conn, fts(vec![*c("content")], "", false))?, Vec::<i64>::new());
    // The expression index matching the rendered to_tsvector('english', ...).
    conn.execute_batch(
        "CREATE INDEX ix_posts_fts ON posts USING GIN (to_tsvector('english', content))",
    )?;
    assert_eq!(ids(conn, fts(vec![*c("content")], "indexes", false))?, [2]);
    Ok(())
}

#[test]
fn explain_and_explain_analyze() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    setup(conn)?;
    let mut s = Select::from_table("posts");
    s.filter = Some(Expr::InList {
        expr: c("id"),
        list: vec![Expr::Value(Value::Int(1)), Expr::Value(Value::Int(2))],
        negated: false,
    });
    let r = DIALECT.select(&s)?;
    for analyze in [false, true] {
        let sql = format!("{}{}", DIALECT.explain_prefix(analyze)?, r.sql);
        let mut lines = Vec::new();
        conn.query(&sql, &r.params, &mut |row| {
            assert_eq!(row.column_name(0), Some("QUERY PLAN"));
            lines.push(decode_at::<String>(row, 0, "QUERY PLAN")?);
            Ok(())
        })?;
        let plan = lines.join("\n");
        assert!(plan.contains("posts"), "{plan}");
        assert_eq!(plan.contains("actual time"), analyze, "{plan}");
    }
    Ok(())
}
