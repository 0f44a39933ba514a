//! The SQL the SQLite dialect writes, as exact strings. No database.

use orm_core::migrate::{create_statements, drop_ops, render_ops, Schema, Statement, Table};
use orm_core::schema::{
    ColumnSchema, ColumnType, DefaultValue, ForeignKeySchema, IndexSchema, ReferentialAction,
    TableSchema, UniqueSchema,
};
use orm_core::statement::{BinaryOp, Delete, Expr, From, Func, Insert, OrderBy, Select, Update};
use orm_core::{Dialect, SqlWriter, Value};
use orm_sqlite::dialect::parse_declared_type;
use orm_sqlite::DIALECT;

/// What `create_all` runs for `t` on an empty database: the ops a migration creates it with,
/// rendered by the one DDL writer.
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
    (w.sql, w.params)
}

fn sql(e: &Expr) -> String {
    render(e).0
}

#[test]
fn basics() {
    assert_eq!(DIALECT.name(), "sqlite");
    assert_eq!(DIALECT.begin_sql(), "BEGIN IMMEDIATE");
    assert_eq!(DIALECT.bool_literal(true), "TRUE");
    assert_eq!(DIALECT.bool_literal(false), "FALSE");
    let mut w = SqlWriter::new();
    DIALECT.write_placeholder(&mut w, 1);
    w.push(", ");
    DIALECT.write_placeholder(&mut w, 12);
    assert_eq!(w.sql, "?1, ?12");
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
fn comparisons_bind_numbered_placeholders() {
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
        assert_eq!(s, format!(r#""users"."age" {text} ?1"#));
        assert_eq!(p, vec![Value::Int(30)]);
    }
    let (s, p) = render(&Expr::binary(
        Expr::binary(col("age"), BinaryOp::Add, int(1)),
        BinaryOp::Gt,
        Expr::binary(col("age"), BinaryOp::Mul, int(2)),
    ));
    assert_eq!(s, r#""users"."age" + ?1 > "users"."age" * ?2"#);
    assert_eq!(p, vec![Value::Int(1), Value::Int(2)]);
    for (op, text) in [(BinaryOp::Sub, "-"), (BinaryOp::Div, "/")] {
        assert_eq!(
            sql(&Expr::binary(col("age"), op, int(3))),
            format!(r#""users"."age" {text} ?1"#)
        );
    }
    // A column compared with a column binds nothing.
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
        r#""users"."a" = ?1 AND "users"."b" = ?2 AND "users"."c" = ?3"#
    );
    assert_eq!(
        sql(&a.clone().or(b.clone().and(c.clone()))),
        r#""users"."a" = ?1 OR ("users"."b" = ?2 AND "users"."c" = ?3)"#
    );
    assert_eq!(sql(&a.clone().not()), r#"NOT ("users"."a" = ?1)"#);
    assert_eq!(sql(&Expr::And(vec![])), "1 = 1");
    assert_eq!(sql(&Expr::Or(vec![])), "1 = 0");
    assert_eq!(sql(&Expr::And(vec![a.clone()])), r#""users"."a" = ?1"#);
    // An OR inside an AND keeps its parentheses; NOT of a compound too.
    assert_eq!(
        sql(&a.clone().and(b.clone().or(c.clone()))),
        r#""users"."a" = ?1 AND ("users"."b" = ?2 OR "users"."c" = ?3)"#
    );
    assert_eq!(
        sql(&a.clone().and(b.clone()).not()),
        r#"NOT ("users"."a" = ?1 AND "users"."b" = ?2)"#
    );
}

#[test]
fn null_in_between() {
    assert_eq!(
        sql(&Expr::IsNull { expr: Box::new(col("age")), negated: false }),
        r#""users"."age" IS NULL"#
    );
    assert_eq!(
        sql(&Expr::IsNull { expr: Box::new(col("age")), negated: true }),
        r#""users"."age" IS NOT NULL"#
    );
    let (s, p) = render(&Expr::InList {
        expr: Box::new(col("id")),
        list: vec![int(1), int(2), int(3)],
        negated: false,
    });
    assert_eq!(s, r#""users"."id" IN (?1, ?2, ?3)"#);
    assert_eq!(p, vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
    assert_eq!(
        sql(&Expr::InList { expr: Box::new(col("id")), list: vec![int(1)], negated: true }),
        r#""users"."id" NOT IN (?1)"#
    );
    assert_eq!(
        sql(&Expr::InList { expr: Box::new(col("id")), list: vec![], negated: false }),
        "1 = 0"
    );
    assert_eq!(
        sql(&Expr::InList { expr: Box::new(col("id")), list: vec![], negated: true }),
        "1 = 1"
    );
    assert_eq!(
        sql(&Expr::Between {
            expr: Box::new(col("age")),
            low: Box::new(int(18)),
            high: Box::new(int(65)),
            negated: false
        }),
        r#""users"."age" BETWEEN ?1 AND ?2"#
    );
    assert_eq!(
        sql(&Expr::Between {
            expr: Box::new(col("age")),
            low: Box::new(int(18)),
            high: Box::new(int(65)),
            negated: true
        }),
        r#""users"."age" NOT BETWEEN ?1 AND ?2"#
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
fn like_is_a_glob_and_ilike_lowers_both_sides_by_unicode() {
    assert_eq!(
        render(&like(false, false)),
        (r#""users"."name" GLOB ?1"#.into(), vec![Value::Text("*ta*".into())])
    );
    assert_eq!(sql(&like(false, true)), r#""users"."name" NOT GLOB ?1"#);
    let (s, p) = render(&like(true, false));
    assert_eq!(s, r#"orm_lower("users"."name") LIKE orm_lower(?1) ESCAPE '\'"#);
    assert_eq!(p, vec![Value::Text("%ta%".into())], "ilike binds the pattern as it is");
    assert_eq!(
        sql(&like(true, true)),
        r#"orm_lower("users"."name") NOT LIKE orm_lower(?1) ESCAPE '\'"#
    );
    // Inside a larger condition, the whole LIKE is one operand.
    let e = like(true, false).and(Expr::binary(col("age"), BinaryOp::Gt, int(1)));
    let (s, p) = render(&e);
    assert_eq!(
        s,
        r#"orm_lower("users"."name") LIKE orm_lower(?1) ESCAPE '\' AND "users"."age" > ?2"#
    );
    assert_eq!(p, vec![Value::Text("%ta%".into()), Value::Int(1)]);
}

fn like_pattern(pattern: Expr, ci: bool) -> orm_core::Result<orm_core::statement::Rendered> {
    let mut w = SqlWriter::new();
    DIALECT.write_expr(
        &mut w,
        &Expr::Like {
            expr: Box::new(col("name")),
            pattern: Box::new(pattern),
            case_insensitive: ci,
            negated: false,
        },
    );
    w.finish()
}

#[test]
fn like_patterns_translate_to_glob_with_every_special_character_bracketed() {
    let glob = |p: &str| match like_pattern(text(p), false).expect("render").params.as_slice() {
        [Value::Text(g)] => g.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(glob("a%b_c"), "a*b?c");
    assert_eq!(
        glob(r"a\%b\_c\\d"),
        r"a%b_c\d",
        "escaped wildcards and the escape match themselves"
    );
    assert_eq!(glob("*?[]"), "[*][?][[]]", "GLOB's own wildcards match themselves");
    assert_eq!(glob(r"\*\a"), "[*]a", "an escaped ordinary character is itself");
    assert_eq!(glob("x'; DROP TABLE users; --"), "x'; DROP TABLE users; --");
    assert_eq!(glob(""), "");
    assert_eq!(glob("ö_"), "ö?");
    assert_eq!(orm_sqlite::dialect::like_to_glob("%"), "*");
    // A NULL pattern stays NULL (no row matches, as with LIKE).
    let r = like_pattern(Expr::Value(Value::Null), false).expect("render");
    assert_eq!((r.sql.as_str(), r.params), (r#""users"."name" GLOB ?1"#, vec![Value::Null]));
}

#[test]
fn like_patterns_that_cannot_mean_the_same_are_refused() {
    // A lone escape at the end escapes nothing: refused on every backend.
    for ci in [false, true] {
        let e = like_pattern(text(r"50\"), ci).unwrap_err();
        assert!(matches!(e, orm_core::Error::InvalidUse(ref m) if m.contains("escape")), "{e:?}");
        assert!(like_pattern(text(r"50\\"), ci).is_ok());
    }
    // A pattern that is an expression cannot be translated to a GLOB when bound.
    let e = like_pattern(col("other"), false).unwrap_err();
    assert!(matches!(e, orm_core::Error::Unsupported { backend: "sqlite", .. }), "{e:?}");
    let r = like_pattern(col("other"), true).expect("ilike takes any pattern");
    assert_eq!(r.sql, r#"orm_lower("users"."name") LIKE orm_lower("users"."other") ESCAPE '\'"#);
}

#[test]
fn functions_and_exists() {
    let f = |func, args| sql(&Expr::Func { func, args });
    assert_eq!(f(Func::Count, vec![col("id")]), r#"COUNT("users"."id")"#);
    assert_eq!(f(Func::CountDistinct, vec![col("name")]), r#"COUNT(DISTINCT "users"."name")"#);
    assert_eq!(f(Func::Sum, vec![col("age")]), r#"SUM("users"."age")"#);
    assert_eq!(f(Func::Avg, vec![col("age")]), r#"AVG("users"."age")"#);
    assert_eq!(f(Func::Min, vec![col("age")]), r#"MIN("users"."age")"#);
    assert_eq!(f(Func::Max, vec![col("age")]), r#"MAX("users"."age")"#);
    // SQLite's own LOWER and UPPER fold ASCII only: the Unicode-aware ones registered on every
    // connection instead.
    assert_eq!(f(Func::Lower, vec![col("name")]), r#"orm_lower("users"."name")"#);
    assert_eq!(f(Func::Upper, vec![col("name")]), r#"orm_upper("users"."name")"#);
    assert_eq!(f(Func::Length, vec![col("name")]), r#"LENGTH("users"."name")"#);
    assert_eq!(f(Func::Coalesce, vec![col("age"), int(0)]), r#"COALESCE("users"."age", ?1)"#);
    assert_eq!(sql(&Expr::CountStar), "COUNT(*)");
    let mut sub = Select::from_table("posts");
    sub.columns = vec![int(1)];
    sub.filter = Some(Expr::binary(
        Expr::Column { table: "posts", name: "author_id" },
        BinaryOp::Eq,
        col("id"),
    ));
    assert_eq!(
        sql(&Expr::Exists(Box::new(sub))),
        r#"EXISTS (SELECT ?1 FROM "posts" WHERE "posts"."author_id" = "users"."id")"#
    );
}

#[test]
fn select_with_everything() {
    let mut s = Select::from_table("users");
    s.columns = vec![col("id"), col("name")];
    s.and_where(Expr::binary(col("age"), BinaryOp::Ge, int(18)));
    s.and_where(like(false, false));
    s.order_by =
        vec![OrderBy { expr: col("name"), desc: false }, OrderBy { expr: col("id"), desc: true }];
    s.limit = Some(10);
    s.offset = Some(20);
    let r = DIALECT.select(&s).expect("render");
    assert_eq!(
        r.sql,
        r#"SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."age" >= ?1 AND "users"."name" GLOB ?2 ORDER BY "users"."name" ASC, "users"."id" DESC LIMIT 10 OFFSET 20"#
    );
    assert_eq!(r.params, vec![Value::Int(18), Value::Text("*ta*".into())]);

    let mut d = Select::from_table("users");
    d.distinct = true;
    d.columns = vec![col("name")];
    d.limit = Some(1);
    assert_eq!(
        DIALECT.select(&d).expect("render").sql,
        r#"SELECT DISTINCT "users"."name" FROM "users" LIMIT 1"#
    );

    let mut o = Select::from_table("users");
    o.offset = Some(5);
    assert_eq!(DIALECT.select(&o).expect("render").sql, r#"SELECT * FROM "users" OFFSET 5"#);
}

#[test]
fn select_group_by_having() {
    let mut s = Select::from_table("posts");
    let author = Expr::Column { table: "posts", name: "author_id" };
    s.columns = vec![author.clone(), Expr::CountStar];
    s.group_by = vec![author];
    s.having = Some(Expr::binary(Expr::CountStar, BinaryOp::Gt, int(2)));
    s.order_by = vec![OrderBy { expr: Expr::CountStar, desc: true }];
    let r = DIALECT.select(&s).expect("render");
    assert_eq!(
        r.sql,
        r#"SELECT "posts"."author_id", COUNT(*) FROM "posts" GROUP BY "posts"."author_id" HAVING COUNT(*) > ?1 ORDER BY COUNT(*) DESC"#
    );
    assert_eq!(r.params, vec![Value::Int(2)]);
}

#[test]
fn count_over_a_subquery() {
    let mut inner = Select::from_table("users");
    inner.filter = Some(Expr::binary(col("age"), BinaryOp::Lt, int(40)));
    inner.limit = Some(5);
    let mut outer = Select::from_table("users");
    outer.from = From::Subquery(Box::new(inner), "sub");
    outer.columns = vec![Expr::CountStar];
    let r = DIALECT.select(&outer).expect("render");
    assert_eq!(
        r.sql,
        r#"SELECT COUNT(*) FROM (SELECT * FROM "users" WHERE "users"."age" < ?1 LIMIT 5) AS "sub""#
    );
    assert_eq!(r.params, vec![Value::Int(40)]);
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
    assert_eq!(r.sql, r#"INSERT INTO "users" ("name", "age") VALUES (?1, ?2) RETURNING "id""#);
    assert_eq!(r.params, vec![Value::Text("a".into()), Value::Int(1)]);

    let many = Insert {
        table: "users",
        columns: vec!["name", "age"],
        rows: vec![
            vec![Value::Text("a".into()), Value::Int(1)],
            vec![Value::Text("b".into()), Value::Null],
        ],
        returning: vec![],
    };
    let r = DIALECT.insert(&many).expect("render");
    assert_eq!(r.sql, r#"INSERT INTO "users" ("name", "age") VALUES (?1, ?2), (?3, ?4)"#);
    assert_eq!(r.params.len(), 4);

    let defaults =
        Insert { table: "users", columns: vec![], rows: vec![], returning: vec!["id", "created"] };
    assert_eq!(
        DIALECT.insert(&defaults).expect("render").sql,
        r#"INSERT INTO "users" DEFAULT VALUES RETURNING "id", "created""#
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
        r#"UPDATE "users" SET "name" = ?1, "age" = "users"."age" + ?2 WHERE "users"."id" = ?3"#
    );
    assert_eq!(r.params, vec![Value::Text("b".into()), Value::Int(1), Value::Int(7)]);
    let all = Update { table: "users", set: vec![("age", Expr::Value(Value::Null))], filter: None };
    assert_eq!(DIALECT.update(&all).expect("render").sql, r#"UPDATE "users" SET "age" = ?1"#);

    let d = Delete { table: "users", filter: Some(Expr::binary(col("id"), BinaryOp::Eq, int(7))) };
    assert_eq!(
        DIALECT.delete(&d).expect("render").sql,
        r#"DELETE FROM "users" WHERE "users"."id" = ?1"#
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
        r#"UPDATE "users" SET "age" = ?1 WHERE "users"."id" > ?2 RETURNING "id", "age""#
    );
    let d = Delete { table: "users", filter: Some(Expr::binary(col("id"), BinaryOp::Gt, int(1))) };
    assert_eq!(
        DIALECT.delete_returning(&d, &["id"]).expect("render").sql,
        r#"DELETE FROM "users" WHERE "users"."id" > ?1 RETURNING "id""#
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

static EVERY_TYPE_COLUMNS: [ColumnSchema; 20] = [
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
    ColumnSchema::new("price", ColumnType::Numeric),
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
            concat!(
                r#"CREATE TABLE "every" ("#,
                r#""id" INTEGER NOT NULL, "#,
                r#""small" INTEGER NOT NULL, "#,
                r#""int" INTEGER, "#,
                r#""real" REAL NOT NULL, "#,
                r#""double" REAL NOT NULL, "#,
                r#""flag" BOOLEAN NOT NULL DEFAULT TRUE, "#,
                r#""body" TEXT NOT NULL DEFAULT 'it''s', "#,
                r#""name" VARCHAR(80) NOT NULL, "#,
                r#""data" BLOB NOT NULL, "#,
                r#""created" TIMESTAMPTZ_TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, "#,
                r#""local" TIMESTAMP_TEXT NOT NULL, "#,
                r#""born" DATE_TEXT NOT NULL, "#,
                r#""uid" UUID_TEXT NOT NULL, "#,
                r#""prefs" JSON_TEXT NOT NULL, "#,
                r#""tags" STRING_ARRAY_TEXT NOT NULL, "#,
                r#""nums" I64_ARRAY_TEXT NOT NULL, "#,
                r#""status" TEXT NOT NULL DEFAULT 'draft' CHECK ("status" IN ('draft', 'published', 'it''s')), "#,
                r#""score" INTEGER NOT NULL DEFAULT -3, "#,
                r#""money" NUMERIC(10, 2) DEFAULT 1.5, "#,
                // Decimals as their exact text, ordered and compared by value.
                r#""price" DECIMAL_TEXT COLLATE orm_decimal NOT NULL, "#,
                r#"PRIMARY KEY ("id"), "#,
                r#"CONSTRAINT "uq_every_uid" UNIQUE ("uid"))"#,
            )
            .to_owned(),
            r#"CREATE INDEX "ix_every_name" ON "every" ("name")"#.to_owned(),
            r#"CREATE UNIQUE INDEX "ux_every_born_local" ON "every" ("born", "local")"#.to_owned(),
        ]
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
    indexes: &[],
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
fn create_table_with_composite_key_and_foreign_keys() {
    assert_eq!(
        create_table(&MEMBERS),
        vec![concat!(
            r#"CREATE TABLE "members" ("#,
            r#""group_id" INTEGER NOT NULL, "user_id" UUID_TEXT NOT NULL, "invited_by" UUID_TEXT, "role" TEXT NOT NULL, "#,
            r#"PRIMARY KEY ("group_id", "user_id"), "#,
            r#"CONSTRAINT "uq_members_user_role" UNIQUE ("user_id", "role"), "#,
            r#"CONSTRAINT "fk_members_group_id_groups" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE RESTRICT, "#,
            r#"CONSTRAINT "fk_members_user_id_users" FOREIGN KEY ("user_id") REFERENCES "users" ("id"), "#,
            r#"CONSTRAINT "fk_members_invited_by_users" FOREIGN KEY ("invited_by") REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE SET DEFAULT)"#,
        )
        .to_owned()]
    );
}

#[test]
fn drop_table() {
    let members = Table::of(&MEMBERS);
    let schema =
        Schema { tables: [("members".to_owned(), members.clone())].into(), ..Schema::default() };
    let ops = drop_ops(&[&members]).expect("ops");
    assert_eq!(
        sql_of(render_ops(&DIALECT, schema, &ops).expect("DDL")),
        vec![r#"DROP TABLE "members""#.to_owned()]
    );
}

#[test]
fn declared_types_parse_back() {
    for c in EVERY_TYPE_COLUMNS.iter() {
        let declared = DIALECT.sql_type(c.ty, c.max_length);
        let parsed = parse_declared_type(&declared);
        let expected = match c.ty {
            ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => {
                Some((ColumnType::BigInt, None))
            }
            ColumnType::Real | ColumnType::Double => Some((ColumnType::Double, None)),
            ColumnType::Enum { .. } => Some((ColumnType::Text, None)),
            // A custom type means what its name says (`NUMERIC(10, 2)`: SQLite keeps no precision).
            ColumnType::Custom("NUMERIC(10, 2)") => Some((ColumnType::Numeric, None)),
            ColumnType::Custom(_) => None,
            ty => Some((ty.to_owned_type(), c.max_length)),
        };
        assert_eq!(parsed, expected, "{declared}");
    }
    assert_eq!(parse_declared_type("varchar( 12 )"), Some((ColumnType::Text, Some(12))));
    assert_eq!(parse_declared_type("json_text"), Some((ColumnType::Json, None)));
    assert_eq!(parse_declared_type("VARCHAR(x)"), None);
    // Other writers' names, by what they mean (every spelling: `tests/declared_types.rs`).
    assert_eq!(parse_declared_type("DATETIME"), Some((ColumnType::Timestamp, None)));
    assert_eq!(parse_declared_type("MONEY"), None);
}

#[test]
fn arithmetic_keeps_its_meaning() {
    let a = col("a");
    let plus = Expr::binary(a.clone(), BinaryOp::Add, int(1));
    let minus = Expr::binary(a.clone(), BinaryOp::Sub, int(2));
    assert_eq!(
        sql(&Expr::binary(plus.clone(), BinaryOp::Mul, minus.clone())),
        r#"("users"."a" + ?1) * ("users"."a" - ?2)"#
    );
    assert_eq!(
        sql(&Expr::binary(a.clone(), BinaryOp::Sub, minus.clone())),
        r#""users"."a" - ("users"."a" - ?1)"#
    );
    assert_eq!(
        sql(&Expr::binary(minus.clone(), BinaryOp::Sub, int(3))),
        r#""users"."a" - ?1 - ?2"#
    );
    assert_eq!(sql(&Expr::binary(plus, BinaryOp::Gt, int(3))), r#""users"."a" + ?1 > ?2"#);
    let cmp = Expr::binary(a.clone(), BinaryOp::Eq, int(1));
    assert_eq!(
        sql(&Expr::binary(cmp, BinaryOp::Eq, Expr::Value(Value::Bool(true)))),
        r#"("users"."a" = ?1) = ?2"#
    );
}

#[test]
fn grouping_by_a_selected_parameterised_expression_uses_its_position() {
    use orm_core::statement::JsonOp;
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
        r#"SELECT CAST("users"."prefs" ->> ('$.' || json_quote(?1)) AS TEXT), COUNT(*) FROM "users" GROUP BY 1 ORDER BY 1 ASC"#
    );
    assert_eq!(r.params, vec![Value::Text("theme".into())]);
}

#[test]
fn json_keys_are_quoted_into_a_path_of_one_label() {
    use orm_core::statement::JsonOp;
    let json =
        |op, expr, key: &str| Expr::Json { op, expr: Box::new(expr), arg: Box::new(text(key)) };
    let doc = || Expr::Column { table: "docs", name: "meta" };
    let (s, p) = render(&json(JsonOp::Get, doc(), "$.a.b"));
    assert_eq!(s, r#""docs"."meta" -> ('$.' || json_quote(?1))"#);
    assert_eq!(p, vec![Value::Text("$.a.b".into())], "the key is bound as it is");
    assert_eq!(
        sql(&json(JsonOp::GetText, doc(), "a")),
        r#"CAST("docs"."meta" ->> ('$.' || json_quote(?1)) AS TEXT)"#
    );
    assert_eq!(
        sql(&json(JsonOp::GetText, json(JsonOp::Get, doc(), "a"), "b")),
        r#"CAST(("docs"."meta" -> ('$.' || json_quote(?1))) ->> ('$.' || json_quote(?2)) AS TEXT)"#
    );
    assert_eq!(
        sql(&json(JsonOp::HasKey, doc(), "[0]")),
        concat!(
            r#"(CASE WHEN "docs"."meta" IS NULL THEN NULL"#,
            r#" WHEN json_type("docs"."meta") = 'object' THEN json_type("docs"."meta", '$.' || json_quote(?1)) IS NOT NULL"#,
            r#" WHEN json_type("docs"."meta") IN ('array', 'text') THEN EXISTS (SELECT 1 FROM json_each("docs"."meta") AS "elem" WHERE "elem"."type" = 'text' AND "elem"."value" = ?2)"#,
            r#" ELSE FALSE END)"#
        )
    );
}

#[test]
fn postgres_only_operators_are_emulated_or_refused() {
    use orm_core::statement::{ArrayOp, JsonOp};
    let tags = || Box::new(Expr::Column { table: "docs", name: "tags" });
    let arr = || Box::new(Expr::Value(Value::TextArray(vec!["a".into()])));
    assert_eq!(
        sql(&Expr::Array { op: ArrayOp::Any, expr: tags(), arg: Box::new(text("a")) }),
        r#"EXISTS (SELECT 1 FROM json_each("docs"."tags") AS "have" WHERE "have"."value" = ?1)"#
    );
    assert_eq!(
        sql(&Expr::Array { op: ArrayOp::Overlaps, expr: tags(), arg: arr() }),
        r#"EXISTS (SELECT 1 FROM json_each("docs"."tags") AS "have" WHERE "have"."value" IN (SELECT "want"."value" FROM json_each(?1) AS "want"))"#
    );
    assert_eq!(
        sql(&Expr::Array { op: ArrayOp::Contains, expr: tags(), arg: arr() }),
        r#"NOT EXISTS (SELECT 1 FROM json_each(?1) AS "want" WHERE "want"."value" NOT IN (SELECT "have"."value" FROM json_each("docs"."tags") AS "have"))"#
    );
    let mut w = SqlWriter::new();
    DIALECT.write_expr(
        &mut w,
        &Expr::Json { op: JsonOp::Contains, expr: tags(), arg: Box::new(text("{}")) },
    );
    assert!(matches!(w.finish(), Err(orm_core::Error::Unsupported { backend: "sqlite", .. })));
    assert!(DIALECT.explain_prefix(true).is_err());
    assert_eq!(DIALECT.explain_prefix(false).expect("plan"), "EXPLAIN QUERY PLAN ");
}

#[test]
fn comparisons_with_a_time_compare_by_the_time_a_text_stands_for() {
    use chrono::{NaiveDate, TimeZone, Utc};
    let at = || Expr::Column { table: "posts", name: "at" };
    let t = NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("t");
    let naive = || Expr::Value(Value::DateTime(t));
    let tz = || {
        Expr::Value(Value::Timestamp(
            Utc.from_utc_datetime(&(t + chrono::Duration::microseconds(120_000))),
        ))
    };
    let text = |s: &str| Value::Text(s.into());
    let (lo, hi) = (text("2024-01-01 00:00:00"), text("2024-01-01 00:00:00.000000000"));
    let cmp = |l: Expr, op, r: Expr| render(&Expr::binary(l, op, r));
    assert_eq!(
        cmp(at(), BinaryOp::Eq, naive()),
        (r#""posts"."at" BETWEEN ?1 AND ?2"#.into(), vec![lo.clone(), hi.clone()])
    );
    assert_eq!(cmp(at(), BinaryOp::Ne, naive()).0, r#""posts"."at" NOT BETWEEN ?1 AND ?2"#);
    assert_eq!(cmp(at(), BinaryOp::Lt, naive()), (r#""posts"."at" < ?1"#.into(), vec![lo.clone()]));
    assert_eq!(
        cmp(at(), BinaryOp::Le, naive()),
        (r#""posts"."at" <= ?1"#.into(), vec![hi.clone()])
    );
    assert_eq!(cmp(at(), BinaryOp::Gt, naive()), (r#""posts"."at" > ?1"#.into(), vec![hi.clone()]));
    assert_eq!(
        cmp(at(), BinaryOp::Ge, naive()),
        (r#""posts"."at" >= ?1"#.into(), vec![lo.clone()])
    );
    // The time on the left: the comparison is turned around.
    assert_eq!(cmp(naive(), BinaryOp::Lt, at()), (r#""posts"."at" > ?1"#.into(), vec![hi.clone()]));
    // A UTC time with a fraction: its shortest and longest texts.
    assert_eq!(
        cmp(at(), BinaryOp::Eq, tz()).1,
        vec![text("2024-01-01 00:00:00.12"), text("2024-01-01 00:00:00.120000000")]
    );
    // Two values, or no time: as they are.
    assert_eq!(cmp(naive(), BinaryOp::Eq, naive()).0, "?1 = ?2");
    assert_eq!(
        cmp(at(), BinaryOp::Eq, Expr::Column { table: "posts", name: "other" }).0,
        r#""posts"."at" = "posts"."other""#
    );
    // Inside a larger condition the range is one operand.
    let (s, _) = render(&Expr::binary(at(), BinaryOp::Eq, naive()).or(Expr::binary(
        at(),
        BinaryOp::Gt,
        tz(),
    )));
    assert_eq!(s, r#""posts"."at" BETWEEN ?1 AND ?2 OR "posts"."at" > ?3"#);

    let between = |low: Expr, high: Expr, negated| {
        render(&Expr::Between {
            expr: Box::new(at()),
            low: Box::new(low),
            high: Box::new(high),
            negated,
        })
    };
    assert_eq!(
        between(naive(), tz(), false),
        (
            r#""posts"."at" BETWEEN ?1 AND ?2"#.into(),
            vec![lo.clone(), text("2024-01-01 00:00:00.120000000")]
        )
    );
    assert_eq!(between(naive(), tz(), true).0, r#""posts"."at" NOT BETWEEN ?1 AND ?2"#);
    let (s, p) = render(&Expr::Between {
        expr: Box::new(naive()),
        low: Box::new(at()),
        high: Box::new(col("until")),
        negated: false,
    });
    assert_eq!(s, r#"("posts"."at" <= ?1 AND "users"."until" >= ?2)"#);
    assert_eq!(p, vec![hi.clone(), lo.clone()]);

    let in_list = |negated| {
        render(&Expr::InList { expr: Box::new(at()), list: vec![naive(), tz()], negated })
    };
    assert_eq!(
        in_list(false).0,
        r#"("posts"."at" BETWEEN ?1 AND ?2 OR "posts"."at" BETWEEN ?3 AND ?4)"#
    );
    assert_eq!(
        in_list(true).0,
        r#"NOT ("posts"."at" BETWEEN ?1 AND ?2 OR "posts"."at" BETWEEN ?3 AND ?4)"#
    );
    assert_eq!(
        render(&Expr::InList { expr: Box::new(at()), list: vec![], negated: false }).0,
        "1 = 0"
    );

    // A time SQLite's text cannot hold is refused, not compared wrongly.
    let far =
        NaiveDate::from_ymd_opt(10_000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("t");
    let mut w = SqlWriter::new();
    DIALECT
        .write_expr(&mut w, &Expr::binary(at(), BinaryOp::Ge, Expr::Value(Value::DateTime(far))));
    assert!(matches!(w.finish(), Err(orm_core::Error::Unsupported { backend: "sqlite", .. })));
}
