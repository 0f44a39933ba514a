//! The SQL the PostgreSQL dialect writes, as exact strings. No database.

use orm_core::migrate::{create_statements, drop_ops, render_ops, Schema, Statement, Table};
use orm_core::schema::{
    ColumnSchema, ColumnType, DefaultValue, ForeignKeySchema, IndexSchema, ReferentialAction,
    TableSchema, UniqueSchema,
};
use orm_core::statement::{
    ArrayOp, BinaryOp, Delete, Expr, From, Func, Insert, JsonOp, OrderBy, Select, Update,
};
use orm_core::{Dialect, SqlWriter, Value};
use orm_postgres::DIALECT;

/// What `create_all` runs for `t` on an empty database: the ops a migration creates it with
/// (its enum types first), rendered by the one DDL writer.
fn create_table(t: &TableSchema) -> Vec<String> {
    sql_of(create_statements(&DIALECT, &[t]).expect("DDL"))
}

fn sql_of(statements: Vec<Statement>) -> Vec<String> {
    statements
        .into_iter()
        .map(|s| match s {
            Statement::Sql(s) => s,
            other => panic!("not one SQL statement: {other:?}"),
        })
        .collect()
}

fn col(name: &'static str) -> Expr {
    Expr::Column { table: "users", name }
}

fn int(i: i64) -> Expr {
    Expr::Value(Value::Int(i))
}

fn text(s: &str) -> Expr {
    Expr::Value(Value::Text(s.into()))
}

fn render(e: &Expr) -> (String, Vec<Value>) {
    let mut w = SqlWriter::new();
    DIALECT.write_expr(&mut w, e);
    assert!(w.error.is_none(), "{:?}", w.error);
    (w.sql, w.params)
}

fn sql(e: &Expr) -> String {
    render(e).0
}

#[test]
fn basics() {
    assert_eq!(DIALECT.name(), "postgresql");
    assert_eq!(DIALECT.begin_sql(), "BEGIN");
    assert_eq!(DIALECT.bool_literal(true), "TRUE");
    assert_eq!(DIALECT.bool_literal(false), "FALSE");
    let mut w = SqlWriter::new();
    DIALECT.write_placeholder(&mut w, 1);
    w.push(", ");
    DIALECT.write_placeholder(&mut w, 12);
    assert_eq!(w.sql, "$1, $12");
}

#[test]
fn identifiers_are_quoted_with_embedded_quotes_doubled() {
    let mut w = SqlWriter::new();
    DIALECT.write_ident(&mut w, r#"we"ird"#);
    assert_eq!(w.sql, r#""we""ird""#);
    let mut w = SqlWriter::new();
    DIALECT.write_ident(&mut w, r#"x"); DROP TABLE users; --"#);
    assert_eq!(w.sql, r#""x""); DROP TABLE users; --""#);
    let s = Select::from_table(r#"a"b"#);
    assert_eq!(DIALECT.select(&s).expect("render").sql, r#"SELECT * FROM "a""b""#);
}

#[test]
fn comparisons_bind_dollar_placeholders() {
    let ops = [
        (BinaryOp::Eq, "="),
        (BinaryOp::Ne, "<>"),
        (BinaryOp::Lt, "<"),
        (BinaryOp::Le, "<="),
        (BinaryOp::Gt, ">"),
        (BinaryOp::Ge, ">="),
    ];
    for (op, text) in ops {
        let (s, p) = render(&Expr::binary(col("age"), op, int(30)));
        assert_eq!(s, format!(r#""users"."age" {text} $1"#));
        assert_eq!(p, vec![Value::Int(30)]);
    }
    let (s, p) = render(&Expr::binary(
        Expr::binary(col("age"), BinaryOp::Add, int(1)),
        BinaryOp::Gt,
        Expr::binary(col("age"), BinaryOp::Mul, int(2)),
    ));
    assert_eq!(s, r#""users"."age" + $1 > "users"."age" * $2"#);
    assert_eq!(p, vec![Value::Int(1), Value::Int(2)]);
    for (op, text) in [(BinaryOp::Sub, "-"), (BinaryOp::Div, "/")] {
        assert_eq!(
            sql(&Expr::binary(col("age"), op, int(3))),
            format!(r#""users"."age" {text} $1"#)
        );
    }
    let (s, p) = render(&Expr::binary(col("a"), BinaryOp::Eq, col("b")));
    assert_eq!(s, r#""users"."a" = "users"."b""#);
    assert!(p.is_empty());
}

#[test]
fn boolean_connectives_and_nesting() {
    let a = Expr::binary(col("a"), BinaryOp::Eq, int(1));
    let b = Expr::binary(col("b"), BinaryOp::Eq, int(2));
    let c = Expr::binary(col("c"), BinaryOp::Eq, int(3));
    assert_eq!(
        sql(&a.clone().and(b.clone()).and(c.clone())),
        r#""users"."a" = $1 AND "users"."b" = $2 AND "users"."c" = $3"#
    );
    assert_eq!(
        sql(&a.clone().or(b.clone().and(c.clone()))),
        r#""users"."a" = $1 OR ("users"."b" = $2 AND "users"."c" = $3)"#
    );
    assert_eq!(sql(&a.clone().not()), r#"NOT ("users"."a" = $1)"#);
    assert_eq!(sql(&Expr::And(vec![])), "1 = 1");
    assert_eq!(sql(&Expr::Or(vec![])), "1 = 0");
    assert_eq!(
        sql(&a.clone().and(b.clone().or(c.clone()))),
        r#""users"."a" = $1 AND ("users"."b" = $2 OR "users"."c" = $3)"#
    );
}

#[test]
fn null_and_between() {
    assert_eq!(
        sql(&Expr::IsNull { expr: Box::new(col("age")), negated: false }),
        r#""users"."age" IS NULL"#
    );
    assert_eq!(
        sql(&Expr::IsNull { expr: Box::new(col("age")), negated: true }),
        r#""users"."age" IS NOT NULL"#
    );
    let between = |negated| Expr::Between {
        expr: Box::new(col("age")),
        low: Box::new(int(18)),
        high: Box::new(int(65)),
        negated,
    };
    assert_eq!(sql(&between(false)), r#""users"."age" BETWEEN $1 AND $2"#);
    assert_eq!(sql(&between(true)), r#""users"."age" NOT BETWEEN $1 AND $2"#);
}

#[test]
fn in_lists_of_values_bind_one_array() {
    let (s, p) = render(&Expr::InList {
        expr: Box::new(col("id")),
        list: vec![int(1), int(2), int(3)],
        negated: false,
    });
    assert_eq!(s, r#""users"."id" = ANY($1)"#);
    assert_eq!(p, vec![Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)])]);
    // One shape whatever the length.
    let one = sql(&Expr::InList { expr: Box::new(col("id")), list: vec![int(9)], negated: false });
    assert_eq!(one, s);
    let (s, p) =
        render(&Expr::InList { expr: Box::new(col("id")), list: vec![int(1)], negated: true });
    assert_eq!(s, r#""users"."id" <> ALL($1)"#);
    assert_eq!(p, vec![Value::List(vec![Value::Int(1)])]);
    assert_eq!(
        sql(&Expr::InList { expr: Box::new(col("id")), list: vec![], negated: false }),
        "1 = 0"
    );
    assert_eq!(
        sql(&Expr::InList { expr: Box::new(col("id")), list: vec![], negated: true }),
        "1 = 1"
    );
    // Inside a condition, after other parameters.
    let e = Expr::binary(col("age"), BinaryOp::Gt, int(1)).and(Expr::InList {
        expr: Box::new(col("name")),
        list: vec![text("a"), text("b")],
        negated: false,
    });
    let (s, p) = render(&e);
    assert_eq!(s, r#""users"."age" > $1 AND "users"."name" = ANY($2)"#);
    assert_eq!(
        p,
        vec![Value::Int(1), Value::List(vec![Value::Text("a".into()), Value::Text("b".into())])]
    );
    // A list with expressions, or of arrays, keeps IN (...).
    assert_eq!(
        sql(&Expr::InList {
            expr: Box::new(col("id")),
            list: vec![int(1), col("other")],
            negated: false
        }),
        r#""users"."id" IN ($1, "users"."other")"#
    );
    assert_eq!(
        sql(&Expr::InList {
            expr: Box::new(col("tags")),
            list: vec![Expr::Value(Value::TextArray(vec!["a".into()]))],
            negated: true
        }),
        r#""users"."tags" NOT IN ($1)"#
    );
}

fn like(ci: bool, negated: bool) -> Expr {
    Expr::Like {
        expr: Box::new(col("name")),
        pattern: Box::new(text("%ta%")),
        case_insensitive: ci,
        negated,
    }
}

#[test]
fn like_and_native_ilike_with_the_escape_written_out() {
    assert_eq!(sql(&like(false, false)), r#""users"."name" LIKE $1 ESCAPE '\'"#);
    assert_eq!(sql(&like(false, true)), r#""users"."name" NOT LIKE $1 ESCAPE '\'"#);
    assert_eq!(sql(&like(true, false)), r#""users"."name" ILIKE $1 ESCAPE '\'"#);
    assert_eq!(sql(&like(true, true)), r#""users"."name" NOT ILIKE $1 ESCAPE '\'"#);
    // A lone escape at the end escapes nothing: refused before the server sees it.
    let mut w = SqlWriter::new();
    DIALECT.write_expr(
        &mut w,
        &Expr::Like {
            expr: Box::new(col("name")),
            pattern: Box::new(text("50\\")),
            case_insensitive: false,
            negated: false,
        },
    );
    assert!(matches!(w.finish(), Err(orm_core::Error::InvalidUse(_))));
}

#[test]
fn functions_exists_and_casts() {
    let f = |func, args| sql(&Expr::Func { func, args });
    assert_eq!(f(Func::Count, vec![col("id")]), r#"COUNT("users"."id")"#);
    assert_eq!(f(Func::CountDistinct, vec![col("name")]), r#"COUNT(DISTINCT "users"."name")"#);
    assert_eq!(f(Func::Sum, vec![col("age")]), r#"SUM("users"."age")"#);
    assert_eq!(f(Func::Avg, vec![col("age")]), r#"AVG("users"."age")"#);
    assert_eq!(f(Func::Min, vec![col("age")]), r#"MIN("users"."age")"#);
    assert_eq!(f(Func::Max, vec![col("age")]), r#"MAX("users"."age")"#);
    assert_eq!(f(Func::Lower, vec![col("name")]), r#"LOWER("users"."name")"#);
    assert_eq!(f(Func::Upper, vec![col("name")]), r#"UPPER("users"."name")"#);
    assert_eq!(f(Func::Length, vec![col("name")]), r#"LENGTH("users"."name")"#);
    assert_eq!(f(Func::Coalesce, vec![col("age"), int(0)]), r#"COALESCE("users"."age", $1)"#);
    assert_eq!(sql(&Expr::CountStar), "COUNT(*)");
    assert_eq!(sql(&Expr::Int(1)), "1");
    let mut sub = Select::from_table("posts");
    sub.columns = vec![Expr::Int(1)];
    sub.filter = Some(Expr::binary(
        Expr::Column { table: "posts", name: "author_id" },
        BinaryOp::Eq,
        col("id"),
    ));
    assert_eq!(
        sql(&Expr::Exists(Box::new(sub))),
        r#"EXISTS (SELECT 1 FROM "posts" WHERE "posts"."author_id" = "users"."id")"#
    );
    let cast = |ty| {
        sql(&Expr::Cast {
            expr: Box::new(Expr::Func { func: Func::Sum, args: vec![col("age")] }),
            ty,
        })
    };
    assert_eq!(cast(ColumnType::BigInt), r#"CAST(SUM("users"."age") AS BIGINT)"#);
    assert_eq!(cast(ColumnType::Double), r#"CAST(SUM("users"."age") AS DOUBLE PRECISION)"#);
    assert_eq!(cast(ColumnType::Text), r#"CAST(SUM("users"."age") AS TEXT)"#);
}

#[test]
fn json_operators() {
    let prefs = || Box::new(Expr::Column { table: "users", name: "prefs" });
    let j = |op, arg| render(&Expr::Json { op, expr: prefs(), arg: Box::new(arg) });
    assert_eq!(j(JsonOp::Get, text("theme")).0, r#""users"."prefs" -> $1"#);
    assert_eq!(j(JsonOp::GetText, text("theme")).0, r#""users"."prefs" ->> $1"#);
    assert_eq!(j(JsonOp::HasKey, text("theme")).0, r#""users"."prefs" ? $1"#);
    let (s, p) = j(JsonOp::Contains, Expr::Value(Value::Json(serde_json::json!({"a": 1}))));
    assert_eq!(s, r#""users"."prefs" @> $1"#);
    assert_eq!(p, vec![Value::Json(serde_json::json!({"a": 1}))]);
    // Chained: the inner operator is an operand in parentheses.
    let inner = Expr::Json { op: JsonOp::Get, expr: prefs(), arg: Box::new(text("a")) };
    assert_eq!(
        sql(&Expr::Json { op: JsonOp::GetText, expr: Box::new(inner), arg: Box::new(text("b")) }),
        r#"("users"."prefs" -> $1) ->> $2"#
    );
}

#[test]
fn array_operators() {
    let tags = || Box::new(Expr::Column { table: "posts", name: "tags" });
    let arr = || Box::new(Expr::Value(Value::TextArray(vec!["rust".into(), "orm".into()])));
    assert_eq!(
        sql(&Expr::Array { op: ArrayOp::Contains, expr: tags(), arg: arr() }),
        r#""posts"."tags" @> $1"#
    );
    assert_eq!(
        sql(&Expr::Array { op: ArrayOp::Overlaps, expr: tags(), arg: arr() }),
        r#""posts"."tags" && $1"#
    );
    assert_eq!(
        sql(&Expr::Array { op: ArrayOp::Any, expr: tags(), arg: Box::new(text("rust")) }),
        r#"$1 = ANY("posts"."tags")"#
    );
}

#[test]
fn full_text_search() {
    let doc = Expr::Column { table: "posts", name: "content" };
    let (s, p) = render(&Expr::FullText {
        document: vec![doc.clone()],
        config: "english".into(),
        query: Box::new(text("rust orm")),
        websearch: false,
    });
    assert_eq!(s, r#"to_tsvector('english', "posts"."content") @@ plainto_tsquery('english', $1)"#);
    assert_eq!(p, vec![Value::Text("rust orm".into())]);
    assert_eq!(
        sql(&Expr::FullText {
            document: vec![Expr::Column { table: "posts", name: "title" }, doc],
            config: "simple".into(),
            query: Box::new(text("\"a b\" -c")),
            websearch: true,
        }),
        r#"to_tsvector('simple', COALESCE("posts"."title", '') || ' ' || COALESCE("posts"."content", '')) @@ websearch_to_tsquery('simple', $1)"#
    );
    let mut w = SqlWriter::new();
    DIALECT.write_expr(
        &mut w,
        &Expr::FullText {
            document: vec![col("name")],
            config: "english'); DROP TABLE x; --".into(),
            query: Box::new(text("x")),
            websearch: false,
        },
    );
    assert!(matches!(w.finish(), Err(orm_core::Error::InvalidUse(_))));
    // The configuration may come from data (a user's language), checked all the same.
    let languages = [String::from("french"), String::from("fr'); --")];
    let search = |lang: &String| orm_core::expr::search([col("body")], lang, "chats");
    assert_eq!(
        sql(&search(&languages[0])),
        r#"to_tsvector('french', "users"."body") @@ plainto_tsquery('french', $1)"#
    );
    let mut w = SqlWriter::new();
    DIALECT.write_expr(&mut w, &search(&languages[1]));
    assert!(matches!(w.finish(), Err(orm_core::Error::InvalidUse(_))));
}

#[test]
fn explain_prefixes() {
    assert_eq!(DIALECT.explain_prefix(false).expect("explain"), "EXPLAIN ");
    assert_eq!(DIALECT.explain_prefix(true).expect("explain analyze"), "EXPLAIN ANALYZE ");
}

#[test]
fn select_with_everything() {
    let mut s = Select::from_table("users");
    s.columns = vec![col("id"), col("name")];
    s.and_where(Expr::binary(col("age"), BinaryOp::Ge, int(18)));
    s.and_where(like(true, false));
    s.and_where(Expr::InList {
        expr: Box::new(col("id")),
        list: vec![int(1), int(2)],
        negated: true,
    });
    s.order_by =
        vec![OrderBy { expr: col("name"), desc: false }, OrderBy { expr: col("id"), desc: true }];
    s.limit = Some(10);
    s.offset = Some(20);
    let r = DIALECT.select(&s).expect("render");
    assert_eq!(
        r.sql,
        r#"SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."age" >= $1 AND "users"."name" ILIKE $2 ESCAPE '\' AND "users"."id" <> ALL($3) ORDER BY "users"."name" ASC, "users"."id" DESC LIMIT 10 OFFSET 20"#
    );
    assert_eq!(
        r.params,
        vec![
            Value::Int(18),
            Value::Text("%ta%".into()),
            Value::List(vec![Value::Int(1), Value::Int(2)])
        ]
    );

    let mut d = Select::from_table("users");
    d.distinct = true;
    d.columns = vec![col("name")];
    d.limit = Some(1);
    assert_eq!(
        DIALECT.select(&d).expect("render").sql,
        r#"SELECT DISTINCT "users"."name" FROM "users" LIMIT 1"#
    );
}

#[test]
fn select_group_by_having_and_subquery() {
    let mut s = Select::from_table("posts");
    let author = Expr::Column { table: "posts", name: "author_id" };
    s.columns = vec![author.clone(), Expr::CountStar];
    s.group_by = vec![author];
    s.having = Some(Expr::binary(Expr::CountStar, BinaryOp::Gt, int(2)));
    s.order_by = vec![OrderBy { expr: Expr::CountStar, desc: true }];
    let r = DIALECT.select(&s).expect("render");
    assert_eq!(
        r.sql,
        r#"SELECT "posts"."author_id", COUNT(*) FROM "posts" GROUP BY "posts"."author_id" HAVING COUNT(*) > $1 ORDER BY COUNT(*) DESC"#
    );

    let mut inner = Select::from_table("users");
    inner.filter = Some(Expr::binary(col("age"), BinaryOp::Lt, int(40)));
    inner.limit = Some(5);
    let mut outer = Select::from_table("users");
    outer.from = From::Subquery(Box::new(inner), "sub");
    outer.columns = vec![Expr::CountStar];
    assert_eq!(
        DIALECT.select(&outer).expect("render").sql,
        r#"SELECT COUNT(*) FROM (SELECT * FROM "users" WHERE "users"."age" < $1 LIMIT 5) AS "sub""#
    );
}

#[test]
fn grouping_by_a_selected_parameterised_expression_uses_its_position() {
    let theme = Expr::Json {
        op: JsonOp::GetText,
        expr: Box::new(Expr::Column { table: "users", name: "prefs" }),
        arg: Box::new(text("theme")),
    };
    let mut s = Select::from_table("users");
    s.columns = vec![theme.clone(), Expr::CountStar];
    s.group_by = vec![theme.clone()];
    s.order_by = vec![OrderBy { expr: theme, desc: false }];
    let r = DIALECT.select(&s).expect("render");
    assert_eq!(
        r.sql,
        r#"SELECT "users"."prefs" ->> $1, COUNT(*) FROM "users" GROUP BY 1 ORDER BY 1 ASC"#
    );
}

#[test]
fn insert_forms() {
    let one = Insert {
        table: "users",
        columns: vec!["name", "age"],
        rows: vec![vec![Value::Text("a".into()), Value::Int(1)]],
        returning: vec!["id"],
    };
    let r = DIALECT.insert(&one).expect("render");
    assert_eq!(r.sql, r#"INSERT INTO "users" ("name", "age") VALUES ($1, $2) RETURNING "id""#);
    assert_eq!(r.params, vec![Value::Text("a".into()), Value::Int(1)]);

    let many = Insert {
        table: "users",
        columns: vec!["name", "age"],
        rows: vec![
            vec![Value::Text("a".into()), Value::Int(1)],
            vec![Value::Text("b".into()), Value::Null],
        ],
        returning: vec!["id", "created"],
    };
    assert_eq!(
        DIALECT.insert(&many).expect("render").sql,
        r#"INSERT INTO "users" ("name", "age") VALUES ($1, $2), ($3, $4) RETURNING "id", "created""#
    );
    let defaults = Insert { table: "users", columns: vec![], rows: vec![], returning: vec!["id"] };
    assert_eq!(
        DIALECT.insert(&defaults).expect("render").sql,
        r#"INSERT INTO "users" DEFAULT VALUES RETURNING "id""#
    );
}

#[test]
fn update_and_delete() {
    let u = Update {
        table: "users",
        set: vec![("name", text("b")), ("age", Expr::binary(col("age"), BinaryOp::Add, int(1)))],
        filter: Some(Expr::binary(col("id"), BinaryOp::Eq, int(7))),
    };
    let r = DIALECT.update(&u).expect("render");
    assert_eq!(
        r.sql,
        r#"UPDATE "users" SET "name" = $1, "age" = "users"."age" + $2 WHERE "users"."id" = $3"#
    );
    assert_eq!(r.params, vec![Value::Text("b".into()), Value::Int(1), Value::Int(7)]);
    let d = Delete {
        table: "users",
        filter: Some(Expr::InList {
            expr: Box::new(col("id")),
            list: vec![int(1), int(2)],
            negated: false,
        }),
    };
    assert_eq!(
        DIALECT.delete(&d).expect("render").sql,
        r#"DELETE FROM "users" WHERE "users"."id" = ANY($1)"#
    );
    assert_eq!(
        DIALECT.delete(&Delete { table: "users", filter: None }).expect("render").sql,
        r#"DELETE FROM "users""#
    );
}

#[test]
fn bulk_statements_that_read_back_their_rows_and_transaction_control() {
    let u = Update {
        table: "users",
        set: vec![("age", int(5))],
        filter: Some(Expr::binary(col("id"), BinaryOp::Gt, int(1))),
    };
    assert_eq!(
        DIALECT.update_returning(&u, &["id", "age"]).expect("render").sql,
        r#"UPDATE "users" SET "age" = $1 WHERE "users"."id" > $2 RETURNING "id", "age""#
    );
    let d = Delete { table: "users", filter: Some(Expr::binary(col("id"), BinaryOp::Gt, int(1))) };
    assert_eq!(
        DIALECT.delete_returning(&d, &["id"]).expect("render").sql,
        r#"DELETE FROM "users" WHERE "users"."id" > $1 RETURNING "id""#
    );
    assert_eq!(DIALECT.commit_sql(), "COMMIT");
    assert_eq!(DIALECT.rollback_sql(), "ROLLBACK");
}

#[test]
fn savepoints() {
    assert_eq!(DIALECT.savepoint_sql("flush_1"), r#"SAVEPOINT "flush_1""#);
    assert_eq!(DIALECT.release_savepoint_sql("flush_1"), r#"RELEASE SAVEPOINT "flush_1""#);
    assert_eq!(DIALECT.rollback_to_savepoint_sql("flush_1"), r#"ROLLBACK TO SAVEPOINT "flush_1""#);
}

const STATUS: ColumnType =
    ColumnType::Enum { name: "post_status", variants: &["draft", "published", "it's"] };

static EVERY_TYPE_COLUMNS: [ColumnSchema; 19] = [
    ColumnSchema {
        primary_key: true,
        auto_increment: true,
        ..ColumnSchema::new("id", ColumnType::BigInt)
    },
    ColumnSchema::new("small", ColumnType::SmallInt),
    ColumnSchema { nullable: true, ..ColumnSchema::new("int", ColumnType::Integer) },
    ColumnSchema::new("real", ColumnType::Real),
    ColumnSchema::new("double", ColumnType::Double),
    ColumnSchema {
        default: Some(DefaultValue::Bool(true)),
        ..ColumnSchema::new("flag", ColumnType::Boolean)
    },
    ColumnSchema {
        default: Some(DefaultValue::Text("it's")),
        ..ColumnSchema::new("body", ColumnType::Text)
    },
    ColumnSchema { max_length: Some(80), ..ColumnSchema::new("name", ColumnType::Text) },
    ColumnSchema::new("data", ColumnType::Blob),
    ColumnSchema {
        server_default: Some("CURRENT_TIMESTAMP"),
        ..ColumnSchema::new("created", ColumnType::Timestamptz)
    },
    ColumnSchema::new("local", ColumnType::Timestamp),
    ColumnSchema::new("born", ColumnType::Date),
    ColumnSchema {
        default: Some(DefaultValue::Uuid4),
        ..ColumnSchema::new("uid", ColumnType::Uuid)
    },
    ColumnSchema::new("prefs", ColumnType::Json),
    ColumnSchema::new("tags", ColumnType::TextArray),
    ColumnSchema::new("nums", ColumnType::BigIntArray),
    ColumnSchema {
        default: Some(DefaultValue::Text("draft")),
        ..ColumnSchema::new("status", STATUS)
    },
    ColumnSchema {
        default: Some(DefaultValue::Int(-3)),
        ..ColumnSchema::new("score", ColumnType::Integer)
    },
    ColumnSchema {
        nullable: true,
        default: Some(DefaultValue::Float(1.5)),
        ..ColumnSchema::new("money", ColumnType::Custom("NUMERIC(10, 2)"))
    },
];

static EVERY_TYPE: TableSchema = TableSchema {
    name: "every",
    renamed_from: None,
    columns: &EVERY_TYPE_COLUMNS,
    primary_key: &[0],
    indexes: &[
        IndexSchema::new("ix_every_name", &["name"], false),
        IndexSchema::new("ux_every_born_local", &["born", "local"], true),
    ],
    uniques: &[UniqueSchema { name: "uq_every_uid", columns: &["uid"] }],
    foreign_keys: &[],
    version_column: None,
    checks: &[],
};

#[test]
fn create_table_with_every_type() {
    let stmts = create_table(&EVERY_TYPE);
    assert_eq!(
        stmts,
        vec![
            r#"CREATE TYPE "post_status" AS ENUM ('draft', 'published', 'it''s')"#.to_owned(),
            concat!(
                r#"CREATE TABLE "every" ("#,
                r#""id" BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL, "#,
                r#""small" SMALLINT NOT NULL, "#,
                r#""int" INTEGER, "#,
                r#""real" REAL NOT NULL, "#,
                r#""double" DOUBLE PRECISION NOT NULL, "#,
                r#""flag" BOOLEAN NOT NULL DEFAULT TRUE, "#,
                r#""body" TEXT NOT NULL DEFAULT 'it''s', "#,
                r#""name" VARCHAR(80) NOT NULL, "#,
                r#""data" BYTEA NOT NULL, "#,
                r#""created" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP, "#,
                r#""local" TIMESTAMP NOT NULL, "#,
                r#""born" DATE NOT NULL, "#,
                r#""uid" UUID NOT NULL, "#,
                r#""prefs" JSONB NOT NULL, "#,
                r#""tags" TEXT[] NOT NULL, "#,
                r#""nums" BIGINT[] NOT NULL, "#,
                r#""status" "post_status" NOT NULL DEFAULT 'draft'::"post_status", "#,
                r#""score" INTEGER NOT NULL DEFAULT -3, "#,
                r#""money" NUMERIC(10, 2) DEFAULT 1.5, "#,
                r#"PRIMARY KEY ("id"), "#,
                r#"CONSTRAINT "uq_every_uid" UNIQUE ("uid"))"#,
            )
            .to_owned(),
            r#"CREATE INDEX "ix_every_name" ON "every" ("name")"#.to_owned(),
            r#"CREATE UNIQUE INDEX "ux_every_born_local" ON "every" ("born", "local")"#.to_owned(),
        ]
    );
}

#[test]
fn identity_only_for_generated_integer_keys() {
    for (ty, name) in [
        (ColumnType::SmallInt, "SMALLINT"),
        (ColumnType::Integer, "INTEGER"),
        (ColumnType::BigInt, "BIGINT"),
    ] {
        let c =
            ColumnSchema { primary_key: true, auto_increment: true, ..ColumnSchema::new("id", ty) };
        let t = TableSchema {
            name: "t",
            renamed_from: None,
            columns: std::slice::from_ref(Box::leak(Box::new(c))),
            primary_key: &[0],
            indexes: &[],
            uniques: &[],
            foreign_keys: &[],
            version_column: None,
            checks: &[],
        };
        assert_eq!(
            create_table(&t),
            vec![format!(
                r#"CREATE TABLE "t" ("id" {name} GENERATED BY DEFAULT AS IDENTITY NOT NULL, PRIMARY KEY ("id"))"#
            )]
        );
    }
    // A plain integer key given by the application has no identity.
    static PLAIN: [ColumnSchema; 1] =
        [ColumnSchema { primary_key: true, ..ColumnSchema::new("id", ColumnType::BigInt) }];
    let t = TableSchema {
        name: "t",
        renamed_from: None,
        columns: &PLAIN,
        primary_key: &[0],
        indexes: &[],
        uniques: &[],
        foreign_keys: &[],
        version_column: None,
        checks: &[],
    };
    assert_eq!(
        create_table(&t),
        vec![r#"CREATE TABLE "t" ("id" BIGINT NOT NULL, PRIMARY KEY ("id"))"#.to_owned()]
    );
}

static MEMBER_COLUMNS: [ColumnSchema; 4] = [
    ColumnSchema { primary_key: true, ..ColumnSchema::new("group_id", ColumnType::BigInt) },
    ColumnSchema { primary_key: true, ..ColumnSchema::new("user_id", ColumnType::Uuid) },
    ColumnSchema { nullable: true, ..ColumnSchema::new("invited_by", ColumnType::Uuid) },
    ColumnSchema::new("role", ColumnType::Text),
];

static MEMBERS: TableSchema = TableSchema {
    name: "members",
    renamed_from: None,
    columns: &MEMBER_COLUMNS,
    primary_key: &[0, 1],
    indexes: &[IndexSchema::new("ix_members_role", &["role"], false)],
    uniques: &[UniqueSchema { name: "uq_members_user_role", columns: &["user_id", "role"] }],
    foreign_keys: &[
        ForeignKeySchema {
            name: "fk_members_group_id_groups",
            columns: &["group_id"],
            ref_table: "groups",
            ref_columns: &["id"],
            on_delete: ReferentialAction::Cascade,
            on_update: ReferentialAction::Restrict,
        },
        ForeignKeySchema {
            name: "fk_members_user_id_users",
            columns: &["user_id"],
            ref_table: "users",
            ref_columns: &["id"],
            on_delete: ReferentialAction::NoAction,
            on_update: ReferentialAction::NoAction,
        },
        ForeignKeySchema {
            name: "fk_members_invited_by_users",
            columns: &["invited_by"],
            ref_table: "users",
            ref_columns: &["id"],
            on_delete: ReferentialAction::SetNull,
            on_update: ReferentialAction::SetDefault,
        },
    ],
    version_column: None,
    checks: &[],
};

#[test]
fn create_table_with_composite_key_foreign_keys_and_index() {
    assert_eq!(
        create_table(&MEMBERS),
        vec![
            concat!(
                r#"CREATE TABLE "members" ("#,
                r#""group_id" BIGINT NOT NULL, "user_id" UUID NOT NULL, "invited_by" UUID, "role" TEXT NOT NULL, "#,
                r#"PRIMARY KEY ("group_id", "user_id"), "#,
                r#"CONSTRAINT "uq_members_user_role" UNIQUE ("user_id", "role"), "#,
                r#"CONSTRAINT "fk_members_group_id_groups" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE RESTRICT, "#,
                r#"CONSTRAINT "fk_members_user_id_users" FOREIGN KEY ("user_id") REFERENCES "users" ("id"), "#,
                r#"CONSTRAINT "fk_members_invited_by_users" FOREIGN KEY ("invited_by") REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE SET DEFAULT)"#,
            )
            .to_owned(),
            r#"CREATE INDEX "ix_members_role" ON "members" ("role")"#.to_owned(),
        ]
    );
    let members = Table::of(&MEMBERS);
    let schema =
        Schema { tables: [("members".to_owned(), members.clone())].into(), ..Schema::default() };
    let ops = drop_ops(&[&members]).expect("ops");
    assert_eq!(
        sql_of(render_ops(&DIALECT, schema, &ops).expect("DDL")),
        vec![r#"DROP TABLE "members""#]
    );
}

#[test]
fn enum_type_ddl() {
    let labels = ["draft", "published", "it's"];
    assert_eq!(
        DIALECT.create_enum_type("post_status", &labels).expect("enum types"),
        r#"CREATE TYPE "post_status" AS ENUM ('draft', 'published', 'it''s')"#
    );
    assert_eq!(
        DIALECT.create_enum_type(r#"we"ird"#, &["a$$b"]).expect("enum types"),
        r#"CREATE TYPE "we""ird" AS ENUM ('a$$b')"#
    );
    assert_eq!(
        DIALECT.drop_enum_type("post_status").expect("enum types"),
        r#"DROP TYPE "post_status""#
    );
    assert_eq!(
        DIALECT.cast_type(STATUS),
        r#""post_status""#,
        "an enum column's type is its quoted type name"
    );
}

#[test]
fn raw_parameters_are_not_looked_for_inside_quotes_of_any_kind() {
    let bind = |sql: &str| {
        orm_core::raw::bind_named(&DIALECT, sql, &[("a".into(), Value::Int(1))]).expect("bind").0
    };
    assert_eq!(
        bind("SELECT ':b', \":b\", $$:b$$, $body$ :b $body$, E'it\\'s :b', :a -- :b"),
        "SELECT ':b', \":b\", $$:b$$, $body$ :b $body$, E'it\\'s :b', $1 -- :b"
    );
    // Brackets are arrays on PostgreSQL: their parameters are parameters.
    assert_eq!(bind("SELECT ARRAY[:a, 2][1]"), "SELECT ARRAY[$1, 2][1]");
}

#[test]
fn insert_many_forms() {
    use orm_core::statement::InsertMany;
    let columns = [("name", "character varying(40)"), ("age", "integer")];
    // A generated key: taken from its sequence per row, rows matched back by it.
    let keyed = InsertMany {
        table: "users",
        columns: &columns,
        key: Some(("id", "public.users_id_seq")),
        returning: &["id", "created"],
        match_on: &[],
    };
    assert_eq!(
        DIALECT.insert_many(&keyed).expect("keyed"),
        concat!(
            r#"WITH "orm_rows" AS MATERIALIZED (SELECT *, nextval('public.users_id_seq'::regclass) "#,
            r#"AS "orm_key" FROM unnest($1::character varying(40)[], $2::integer[]) "#,
            r#"WITH ORDINALITY AS "orm_rows"("c0", "c1", "orm_ord")), "#,
            r#""orm_ins" AS (INSERT INTO "users" ("id", "name", "age") OVERRIDING SYSTEM VALUE "#,
            r#"SELECT "orm_key", "c0", "c1" FROM "orm_rows" RETURNING "id", "created") "#,
            r#"SELECT "orm_rows"."orm_ord", "orm_ins"."id", "orm_ins"."created" FROM "orm_ins" "#,
            r#"JOIN "orm_rows" ON "orm_ins"."id" = "orm_rows"."orm_key""#,
        )
    );
    // A key the client gave (a composite one here): rows matched back by it.
    let columns = [("hall", "bigint"), ("place", "text"), ("holder", "text")];
    let given = InsertMany {
        table: "seats",
        columns: &columns,
        key: None,
        returning: &["booked_at"],
        match_on: &[0, 1],
    };
    assert_eq!(
        DIALECT.insert_many(&given).expect("given"),
        concat!(
            r#"WITH "orm_rows" AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) "#,
            r#"WITH ORDINALITY AS "orm_rows"("c0", "c1", "c2", "orm_ord")), "#,
            r#""orm_ins" AS (INSERT INTO "seats" ("hall", "place", "holder") "#,
            r#"SELECT "c0", "c1", "c2" FROM "orm_rows" "#,
            r#"RETURNING "hall", "place", "booked_at") "#,
            r#"SELECT "orm_rows"."orm_ord", "orm_ins"."booked_at" FROM "orm_ins" JOIN "orm_rows" "#,
            r#"ON "orm_ins"."hall" = "orm_rows"."c0" AND "orm_ins"."place" = "orm_rows"."c1""#,
        )
    );
    // Nothing to read back.
    let plain = InsertMany {
        table: "we\"ird",
        columns: &columns,
        key: None,
        returning: &[],
        match_on: &[0, 1],
    };
    assert_eq!(
        DIALECT.insert_many(&plain).expect("plain"),
        r#"INSERT INTO "we""ird" ("hall", "place", "holder") SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])"#
    );
    // A sequence name is a literal, quoted.
    let odd = InsertMany { key: Some(("id", "public.\"it's\"")), ..keyed.clone() };
    assert!(DIALECT
        .insert_many(&odd)
        .expect("odd")
        .contains(r#"nextval('public."it''s"'::regclass)"#));
    // An array column cannot be unnested row by row; nothing to match rows by: no statement.
    let arrays = [("tags", "text[]")];
    assert_eq!(DIALECT.insert_many(&InsertMany { columns: &arrays, ..plain.clone() }), None);
    assert_eq!(DIALECT.insert_many(&InsertMany { match_on: &[], ..given.clone() }), None);
    // The catalog query binds the table as a quoted identifier.
    let catalog = DIALECT.insert_many_catalog("we\"ird").expect("catalog");
    assert_eq!(catalog.params, vec![Value::Text(r#""we""ird""#.into())]);
    assert!(catalog.sql.contains("$1::text::regclass"));
}
