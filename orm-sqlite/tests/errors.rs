//! SQLite errors as `orm_core::Error`s: each constraint kind from a real database, with the table,
//! columns or constraint parsed from SQLite's message; other failures keep their code.

use orm_core::schema::{ColumnSchema, ColumnType, TableSchema};
use orm_core::value::DEFAULT_NOT_BINDABLE;
use orm_core::{Connection, Connector, ConstraintInfo, Dialect, Error, Value};
use orm_sqlite::error::{code_name, constraint, from_code, from_rusqlite};
use orm_sqlite::value::Bind;
use orm_sqlite::{SqliteConnector, DIALECT};
use std::path::PathBuf;

fn memory() -> Box<dyn Connection> {
    orm_sqlite::connector("sqlite::memory:").and_then(|c| c.connect()).expect("connect")
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn info(
    table: Option<&str>,
    columns: &[&str],
    constraint: Option<&str>,
    message: &str,
) -> ConstraintInfo {
    ConstraintInfo {
        table: table.map(str::to_owned),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        constraint: constraint.map(str::to_owned),
        message: message.to_owned(),
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("orm-sqlite-errors-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn unique_violations_name_table_and_columns() {
    let mut conn = memory();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL, nick TEXT,
           CONSTRAINT uq_email UNIQUE (email), CONSTRAINT uq_name_nick UNIQUE (name, nick));
         INSERT INTO users (id, email, name, nick) VALUES (1, 'a@x', 'a', 'Al');",
    )
    .expect("setup");
    let insert = "INSERT INTO users (id, email, name, nick) VALUES (?1, ?2, ?3, ?4)";

    let e = conn.execute(insert, &[Value::Int(2), text("a@x"), text("b"), text("b")]).unwrap_err();
    match &e {
        Error::UniqueViolation(c) => {
            assert_eq!(
                c,
                &info(Some("users"), &["email"], None, "UNIQUE constraint failed: users.email")
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.constraint().and_then(|c| c.table.as_deref()), Some("users"));

    let e = conn.execute(insert, &[Value::Int(2), text("b@x"), text("a"), text("Al")]).unwrap_err();
    match e {
        Error::UniqueViolation(c) => assert_eq!(
            c,
            info(
                Some("users"),
                &["name", "nick"],
                None,
                "UNIQUE constraint failed: users.name, users.nick"
            )
        ),
        other => panic!("{other:?}"),
    }

    // A rowid primary key.
    let e = conn.execute(insert, &[Value::Int(1), text("c@x"), text("c"), text("c")]).unwrap_err();
    match e {
        Error::UniqueViolation(c) => {
            assert_eq!(c, info(Some("users"), &["id"], None, "UNIQUE constraint failed: users.id"))
        }
        other => panic!("{other:?}"),
    }

    // An index on an expression: SQLite names the index.
    conn.execute_batch("CREATE UNIQUE INDEX ix_lower_nick ON users (lower(nick))").expect("index");
    let e = conn.execute(insert, &[Value::Int(3), text("d@x"), text("d"), text("AL")]).unwrap_err();
    match e {
        Error::UniqueViolation(c) => assert_eq!(
            c,
            info(
                None,
                &[],
                Some("ix_lower_nick"),
                "UNIQUE constraint failed: index 'ix_lower_nick'"
            )
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn primary_key_violations_are_unique_violations() {
    let mut conn = memory();
    conn.execute_batch(
        "CREATE TABLE tags (name TEXT NOT NULL, lang TEXT NOT NULL, PRIMARY KEY (name, lang));
         INSERT INTO tags VALUES ('rust', 'en');",
    )
    .expect("setup");
    let e =
        conn.execute("INSERT INTO tags VALUES (?1, ?2)", &[text("rust"), text("en")]).unwrap_err();
    match e {
        Error::UniqueViolation(c) => assert_eq!(
            c,
            info(
                Some("tags"),
                &["name", "lang"],
                None,
                "UNIQUE constraint failed: tags.name, tags.lang"
            )
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn foreign_key_violations() {
    let mut conn = memory();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES users (id));
         INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1);",
    )
    .expect("setup");
    let e = conn
        .execute("INSERT INTO posts VALUES (?1, ?2)", &[Value::Int(2), Value::Int(99)])
        .unwrap_err();
    match e {
        Error::ForeignKeyViolation(c) => {
            assert_eq!(c, info(None, &[], None, "FOREIGN KEY constraint failed"))
        }
        other => panic!("{other:?}"),
    }
    let e = conn.execute("DELETE FROM users WHERE id = ?1", &[Value::Int(1)]).unwrap_err();
    assert!(matches!(e, Error::ForeignKeyViolation(_)), "{e:?}");
}

#[test]
fn not_null_violations_name_the_column() {
    let mut conn = memory();
    conn.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .expect("setup");
    let e = conn.execute("INSERT INTO users (name) VALUES (?1)", &[Value::Null]).unwrap_err();
    match e {
        Error::NotNullViolation(c) => {
            assert_eq!(
                c,
                info(Some("users"), &["name"], None, "NOT NULL constraint failed: users.name")
            )
        }
        other => panic!("{other:?}"),
    }
}

static POST_COLUMNS: [ColumnSchema; 2] = [
    ColumnSchema {
        primary_key: true,
        auto_increment: true,
        ..ColumnSchema::new("id", ColumnType::BigInt)
    },
    ColumnSchema::new(
        "status",
        ColumnType::Enum { name: "post_status", variants: &["draft", "published"] },
    ),
];

static POSTS: TableSchema = TableSchema {
    name: "posts",
    renamed_from: None,
    columns: &POST_COLUMNS,
    primary_key: &[0],
    indexes: &[],
    uniques: &[],
    foreign_keys: &[],
    version_column: None,
    checks: &[],
};

#[test]
fn check_violations_name_the_constraint() {
    let mut conn = memory();
    for st in orm_core::migrate::create_statements(&DIALECT, &[&POSTS]).expect("DDL") {
        conn.execute_batch(&st.to_script()).expect("create");
    }
    let insert = "INSERT INTO posts (status) VALUES (?1)";
    conn.execute(insert, &[Value::Enum { type_name: "post_status", label: "draft" }])
        .expect("valid label");
    // SQLite names an unnamed column CHECK after its column.
    let e = conn.execute(insert, &[text("Draft")]).unwrap_err();
    match e {
        Error::CheckViolation(c) => {
            assert_eq!(c, info(None, &[], Some("status"), "CHECK constraint failed: status"))
        }
        other => panic!("{other:?}"),
    }

    conn.execute_batch(
        "CREATE TABLE people (age INTEGER, CONSTRAINT ck_age_positive CHECK (age > 0))",
    )
    .expect("create");
    let e = conn.execute("INSERT INTO people VALUES (?1)", &[Value::Int(-1)]).unwrap_err();
    match e {
        Error::CheckViolation(c) => assert_eq!(
            c,
            info(None, &[], Some("ck_age_positive"), "CHECK constraint failed: ck_age_positive")
        ),
        other => panic!("{other:?}"),
    }
    // An unnamed table CHECK is reported by its expression.
    conn.execute_batch("CREATE TABLE q (x INTEGER, CHECK (x < 10))").expect("create");
    let e = conn.execute("INSERT INTO q VALUES (?1)", &[Value::Int(10)]).unwrap_err();
    match e {
        Error::CheckViolation(c) => {
            assert_eq!(c, info(None, &[], Some("x < 10"), "CHECK constraint failed: x < 10"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_busy_database_reports_its_code() {
    let dir = TempDir::new("busy");
    let path = dir.0.join("busy.db");
    let url = format!("sqlite://{}?busy_timeout=0", path.display());
    let connector = SqliteConnector::from_url(&url).expect("url");
    let mut a = connector.connect().expect("a");
    let mut b = connector.connect().expect("b");
    a.execute_batch("CREATE TABLE t (x INTEGER)").expect("create");
    a.execute_batch(DIALECT.begin_sql()).expect("begin a");
    let e = b.execute_batch(DIALECT.begin_sql()).unwrap_err();
    match e {
        Error::Database { code, message, .. } => {
            assert_eq!(code.as_deref(), Some("SQLITE_BUSY (5)"));
            assert_eq!(message, "database is locked");
        }
        other => panic!("{other:?}"),
    }
    a.execute_batch("COMMIT").expect("commit");
    b.execute_batch(DIALECT.begin_sql()).expect("begin b once a is done");
    b.execute_batch("COMMIT").expect("commit b");
}

#[test]
fn writing_through_a_read_only_connection() {
    let dir = TempDir::new("readonly");
    let path = dir.0.join("ro.db");
    let mut rw = SqliteConnector::from_url(&format!("sqlite://{}", path.display()))
        .and_then(|c| c.connect())
        .expect("rw");
    rw.execute_batch("CREATE TABLE t (x INTEGER)").expect("create");
    let mut ro = SqliteConnector::from_url(&format!("sqlite://{}?mode=ro", path.display()))
        .and_then(|c| c.connect())
        .expect("ro");
    let e = ro.execute("INSERT INTO t VALUES (?1)", &[Value::Int(1)]).unwrap_err();
    assert!(
        matches!(e, Error::Database { code: Some(ref c), .. } if c == "SQLITE_READONLY (8)"),
        "{e:?}"
    );
}

#[test]
fn message_parsing() {
    assert_eq!(
        constraint("UNIQUE constraint failed: users.email, users.name".into()),
        info(
            Some("users"),
            &["email", "name"],
            None,
            "UNIQUE constraint failed: users.email, users.name"
        )
    );
    assert_eq!(
        constraint("NOT NULL constraint failed: users.name".into()),
        info(Some("users"), &["name"], None, "NOT NULL constraint failed: users.name")
    );
    assert_eq!(
        constraint("CHECK constraint failed: ck_x".into()),
        info(None, &[], Some("ck_x"), "CHECK constraint failed: ck_x")
    );
    assert_eq!(
        constraint("CHECK constraint failed: a, b.c".into()),
        info(None, &[], Some("a, b.c"), "CHECK constraint failed: a, b.c")
    );
    assert_eq!(constraint("something else".into()), info(None, &[], None, "something else"));
    assert_eq!(constraint(String::new()), info(None, &[], None, ""));
}

#[test]
fn codes_and_their_kinds() {
    assert_eq!(code_name(5), "SQLITE_BUSY (5)");
    assert_eq!(code_name(517), "SQLITE_BUSY_SNAPSHOT (517)");
    assert_eq!(code_name(10 | (99 << 8)), "SQLITE_IOERR (25354)");
    assert_eq!(code_name(19), "SQLITE_CONSTRAINT (19)");
    assert_eq!(code_name(1811), "SQLITE_CONSTRAINT_TRIGGER (1811)");
    assert_eq!(code_name(12345), "SQLITE_UNKNOWN (12345)");
    assert!(
        matches!(from_code(14, "x".into()), Error::Connection { message: ref m, .. } if m == "x")
    );
    assert!(matches!(from_code(26, "x".into()), Error::Connection { .. }));
    assert!(matches!(from_code(1038, "x".into()), Error::Connection { .. })); // CANTOPEN_NOTEMPDIR
    assert!(matches!(from_code(2067, "x".into()), Error::UniqueViolation(_)));
    assert!(matches!(from_code(1555, "x".into()), Error::UniqueViolation(_)));
    assert!(matches!(from_code(787, "x".into()), Error::ForeignKeyViolation(_)));
    assert!(matches!(from_code(1299, "x".into()), Error::NotNullViolation(_)));
    assert!(matches!(from_code(275, "x".into()), Error::CheckViolation(_)));
    // A trigger's RAISE(ABORT) is a constraint failure of no kind the ORM names.
    assert!(matches!(
        from_code(1811, "x".into()),
        Error::Database { code: Some(ref c), .. } if c == "SQLITE_CONSTRAINT_TRIGGER (1811)"
    ));
}

#[test]
fn driver_errors() {
    assert!(matches!(
        from_rusqlite(rusqlite::Error::InvalidParameterCount(1, 2)),
        Error::InvalidUse(ref m) if m == "the statement takes 2 parameters, 1 were given"
    ));
    assert!(matches!(
        from_rusqlite(rusqlite::Error::InvalidColumnIndex(4)),
        Error::Decode { ref column, .. } if column == "#4"
    ));
    assert!(matches!(
        from_rusqlite(rusqlite::Error::InvalidColumnType(0, "age".into(), rusqlite::types::Type::Text)),
        Error::Decode { ref column, ref got, .. } if column == "age" && got == "Text"
    ));
    assert!(matches!(
        from_rusqlite(rusqlite::Error::QueryReturnedNoRows),
        Error::Database { code: None, .. }
    ));
}

#[test]
fn db_default_is_never_bound() {
    let mut conn = memory();
    conn.execute_batch("CREATE TABLE t (x INTEGER DEFAULT 7)").expect("setup");
    let e = conn.execute("INSERT INTO t (x) VALUES (?1)", &[Value::Default]).unwrap_err();
    assert!(matches!(e, Error::InvalidUse(ref m) if m == DEFAULT_NOT_BINDABLE), "{e:?}");
    assert!(e.to_string().contains("DbDefault::Default cannot be bound as a parameter"), "{e}");
    let e = conn
        .query("SELECT 1 WHERE ?1 = ?2", &[Value::Int(1), Value::Default], &mut |_| Ok(()))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidUse(ref m) if m == DEFAULT_NOT_BINDABLE), "{e:?}");
    // Bound by hand, through the binding type: rusqlite's conversion error, with the message.
    let e = rusqlite::types::ToSql::to_sql(&Bind(&Value::Default)).unwrap_err();
    assert!(from_rusqlite(e).to_string().contains(DEFAULT_NOT_BINDABLE));
    // Nothing was written, and the connection is fine.
    let mut n = None;
    conn.query("SELECT COUNT(*) FROM t", &[], &mut |row| {
        n = Some(row.get(0)?.to_owned_value());
        Ok(())
    })
    .expect("count");
    assert_eq!(n, Some(Value::Int(0)));
}

#[test]
fn values_sqlite_would_not_give_back_are_refused_at_bind() {
    use chrono::{NaiveDate, TimeZone, Utc};
    let mut conn = memory();
    conn.execute_batch("CREATE TABLE t (f REAL, d TEXT)").expect("setup");
    let e = conn.execute("INSERT INTO t (f) VALUES (?1)", &[Value::Float(f64::NAN)]).unwrap_err();
    assert!(
        matches!(e, Error::Unsupported { backend: "sqlite", ref what } if what.contains("NaN")),
        "{e:?}"
    );
    let far = NaiveDate::from_ymd_opt(10_000, 1, 1).expect("date");
    for v in [
        Value::Date(far),
        Value::DateTime(far.and_hms_opt(0, 0, 0).expect("time")),
        Value::Timestamp(Utc.from_utc_datetime(&far.and_hms_opt(0, 0, 0).expect("time"))),
        Value::Date(NaiveDate::from_ymd_opt(-1, 12, 31).expect("date")),
    ] {
        let e =
            conn.execute("INSERT INTO t (d) VALUES (?1)", std::slice::from_ref(&v)).unwrap_err();
        assert!(
            matches!(e, Error::Unsupported { backend: "sqlite", ref what } if what.contains("year")),
            "{v:?}: {e:?}"
        );
    }
    // The edges of the range, and ordinary floats, are stored and read back.
    for v in [
        Value::Date(NaiveDate::from_ymd_opt(0, 1, 1).expect("date")),
        Value::Date(NaiveDate::from_ymd_opt(9999, 12, 31).expect("date")),
        Value::Float(f64::INFINITY),
    ] {
        conn.execute("INSERT INTO t (d) VALUES (?1)", std::slice::from_ref(&v)).expect("in range");
    }
    let mut n = 0;
    conn.query("SELECT d FROM t", &[], &mut |_| {
        n += 1;
        Ok(())
    })
    .expect("nothing else was written");
    assert_eq!(n, 3);
}
