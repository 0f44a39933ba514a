//! PostgreSQL errors as `orm_core::Error`s: each SQLSTATE kind from a real server, with the table,
//! columns and constraint the server names; other failures keep their SQLSTATE and message.

mod common;

use common::{db, text};
use orm_core::value::DEFAULT_NOT_BINDABLE;
use orm_core::{Connection, ConstraintInfo, Error, Value};
use orm_postgres::error::key_columns;
use orm_postgres::PgConnector;
use std::sync::{Arc, Barrier};

fn constraint(e: &Error) -> &ConstraintInfo {
    e.constraint().unwrap_or_else(|| panic!("expected a constraint violation, got {e:?}"))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn unique_violations_name_table_columns_and_constraint() {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch(
        r#"CREATE TABLE users (id INT PRIMARY KEY, email TEXT NOT NULL, name TEXT, "Odd ""col" TEXT,
             CONSTRAINT uq_email UNIQUE (email), CONSTRAINT uq_name_odd UNIQUE (name, "Odd ""col"));
           INSERT INTO users VALUES (1, 'a@x', 'a', 'z')"#,
    )
    .expect("setup");
    let insert = r#"INSERT INTO users (id, email, name, "Odd ""col") VALUES ($1, $2, $3, $4)"#;

    let e = conn.execute(insert, &[Value::Int(2), text("a@x"), text("b"), text("z")]).unwrap_err();
    assert!(matches!(e, Error::UniqueViolation(_)), "{e:?}");
    let c = constraint(&e);
    assert_eq!(c.table.as_deref(), Some("users"));
    assert_eq!(c.columns, strings(&["email"]));
    assert_eq!(c.constraint.as_deref(), Some("uq_email"));
    assert_eq!(
        c.message,
        r#"duplicate key value violates unique constraint "uq_email"; detail: Key (email)=(a@x) already exists."#
    );
    assert!(e.to_string().starts_with("unique violation: duplicate key value"), "{e}");

    let e = conn.execute(insert, &[Value::Int(3), text("c@x"), text("a"), text("z")]).unwrap_err();
    let c = constraint(&e);
    assert_eq!(c.columns, strings(&["name", "Odd \"col"]));
    assert_eq!(c.constraint.as_deref(), Some("uq_name_odd"));

    let e = conn.execute(insert, &[Value::Int(1), text("d@x"), text("d"), text("z")]).unwrap_err();
    let c = constraint(&e);
    assert!(matches!(e, Error::UniqueViolation(_)));
    assert_eq!(c.columns, strings(&["id"]));
    assert_eq!(c.constraint.as_deref(), Some("users_pkey"));

    // An expression index names no column.
    conn.execute_batch("CREATE UNIQUE INDEX ux_lower_email ON users (lower(email))").expect("ix");
    let e = conn.execute(insert, &[Value::Int(4), text("A@X"), text("e"), text("z")]).unwrap_err();
    let c = constraint(&e);
    assert_eq!(c.constraint.as_deref(), Some("ux_lower_email"));
    assert!(c.columns.is_empty(), "{:?}", c.columns);
}

#[test]
fn foreign_key_violations_both_ways() {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch(
        "CREATE TABLE users (id INT PRIMARY KEY);
         CREATE TABLE posts (id INT PRIMARY KEY, author_id INT NOT NULL,
           CONSTRAINT fk_posts_author_id_users FOREIGN KEY (author_id) REFERENCES users (id));
         INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1);",
    )
    .expect("setup");
    let e = conn
        .execute(
            "INSERT INTO posts (id, author_id) VALUES ($1, $2)",
            &[Value::Int(2), Value::Int(9)],
        )
        .unwrap_err();
    assert!(matches!(e, Error::ForeignKeyViolation(_)), "{e:?}");
    let c = constraint(&e);
    assert_eq!(c.table.as_deref(), Some("posts"));
    assert_eq!(c.columns, strings(&["author_id"]));
    assert_eq!(c.constraint.as_deref(), Some("fk_posts_author_id_users"));
    assert!(c.message.contains(r#"is not present in table "users""#), "{}", c.message);

    let e = conn.execute("DELETE FROM users WHERE id = $1", &[Value::Int(1)]).unwrap_err();
    assert!(matches!(e, Error::ForeignKeyViolation(_)), "{e:?}");
    let c = constraint(&e);
    assert_eq!(c.table.as_deref(), Some("posts"));
    assert_eq!(c.columns, strings(&["id"]));
    assert_eq!(c.constraint.as_deref(), Some("fk_posts_author_id_users"));
}

#[test]
fn not_null_and_check_violations() {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch(
        "CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL,
           qty INT CONSTRAINT ck_items_qty CHECK (qty >= 0))",
    )
    .expect("setup");
    let e = conn
        .execute("INSERT INTO items (id, name) VALUES ($1, $2)", &[Value::Int(1), Value::Null])
        .unwrap_err();
    assert!(matches!(e, Error::NotNullViolation(_)), "{e:?}");
    let c = constraint(&e);
    assert_eq!(c.table.as_deref(), Some("items"));
    assert_eq!(c.columns, strings(&["name"]));
    assert!(c.message.starts_with(r#"null value in column "name""#), "{}", c.message);

    let e = conn
        .execute(
            "INSERT INTO items (id, name, qty) VALUES ($1, $2, $3)",
            &[Value::Int(1), text("x"), Value::Int(-1)],
        )
        .unwrap_err();
    assert!(matches!(e, Error::CheckViolation(_)), "{e:?}");
    let c = constraint(&e);
    assert_eq!(c.table.as_deref(), Some("items"));
    assert_eq!(c.constraint.as_deref(), Some("ck_items_qty"));
    assert!(c.columns.is_empty());
}

#[test]
fn other_errors_keep_sqlstate_message_detail_and_hint() {
    let mut db = db();
    let conn = &mut db.conn;
    match conn.execute("SELEC 1", &[]) {
        Err(Error::Database { code: Some(code), message, .. }) => {
            assert_eq!(code, "42601");
            assert!(message.contains("syntax error at or near \"SELEC\""), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match conn.execute("SELECT * FROM missing", &[]) {
        Err(Error::Database { code: Some(code), message, .. }) => {
            assert_eq!(code, "42P01");
            assert_eq!(message, r#"relation "missing" does not exist"#);
        }
        other => panic!("{other:?}"),
    }
    match conn.execute("SELECT lower($1::int)", &[Value::Int(1)]) {
        Err(Error::Database { code: Some(code), message, .. }) => {
            assert_eq!(code, "42883");
            assert!(message.contains("; hint: No function matches"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match conn.execute_batch("SELECT 1/0") {
        Err(Error::Database { code: Some(code), message, .. }) => {
            assert_eq!(code, "22012");
            assert_eq!(message, "division by zero");
        }
        other => panic!("{other:?}"),
    }
    // The connection is still usable after each of them.
    assert!(conn.is_valid());
}

#[test]
fn serialization_failure_is_retryable() {
    let db = db();
    conn_batch(
        &db,
        "CREATE TABLE acct (id INT PRIMARY KEY, n INT); INSERT INTO acct VALUES (1, 0)",
    );
    let mut a = common::connector(&db.schema).open().expect("a");
    let mut b = common::connector(&db.schema).open().expect("b");
    for c in [&mut a, &mut b] {
        c.execute_batch("BEGIN ISOLATION LEVEL REPEATABLE READ").expect("begin");
        c.execute("SELECT n FROM acct WHERE id = 1", &[]).expect("snapshot");
    }
    a.execute("UPDATE acct SET n = n + 1 WHERE id = 1", &[]).expect("first writer");
    a.execute_batch("COMMIT").expect("commit");
    let e = b.execute("UPDATE acct SET n = n + 1 WHERE id = 1", &[]).unwrap_err();
    assert!(matches!(e, Error::SerializationFailure(_)), "{e:?}");
    assert!(e.is_retryable());
    b.execute_batch("ROLLBACK").expect("rollback");
}

#[test]
fn deadlock_is_retryable() {
    let db = db();
    conn_batch(
        &db,
        "CREATE TABLE r (id INT PRIMARY KEY, n INT); INSERT INTO r VALUES (1, 0), (2, 0)",
    );
    let mut a = common::connector(&db.schema).open().expect("a");
    let mut b = common::connector(&db.schema).open().expect("b");
    a.execute_batch("BEGIN; UPDATE r SET n = 1 WHERE id = 1").expect("a locks 1");
    b.execute_batch("BEGIN; UPDATE r SET n = 1 WHERE id = 2").expect("b locks 2");
    let barrier = Arc::new(Barrier::new(2));
    let wait = barrier.clone();
    let t = std::thread::spawn(move || {
        wait.wait();
        let r = a.execute("UPDATE r SET n = 2 WHERE id = 2", &[]);
        let _ = a.execute_batch("ROLLBACK");
        r
    });
    barrier.wait();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let rb = b.execute("UPDATE r SET n = 2 WHERE id = 1", &[]);
    let _ = b.execute_batch("ROLLBACK");
    let ra = t.join().expect("thread");
    let errors: Vec<Error> = [ra, rb].into_iter().filter_map(Result::err).collect();
    assert_eq!(errors.len(), 1, "exactly one side is chosen as the victim: {errors:?}");
    assert!(matches!(errors[0], Error::Deadlock(_)), "{:?}", errors[0]);
    assert!(errors[0].is_retryable());
}

fn conn_batch(db: &common::Db, sql: &str) {
    let mut c = common::connector(&db.schema).open().expect("connect");
    c.execute_batch(sql).expect(sql);
}

#[test]
fn connection_failures_name_the_server_but_never_the_password() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("postgresql://alice:s3cr%40t@127.0.0.1:{port}/appdb?connect_timeout=5");
    let c = PgConnector::from_url(&url).expect("url");
    let e = c.open().unwrap_err();
    let Error::Connection { message: m, .. } = &e else { panic!("{e:?}") };
    assert!(m.contains(&format!("127.0.0.1:{port}")), "{m}");
    assert!(m.contains("appdb") && m.contains("alice"), "{m}");
    assert!(!m.contains("s3cr"), "{m}");
    assert!(!format!("{c:?}").contains("s3cr"));

    // A database that does not exist on a live server.
    let base = orm_postgres::test_server::url().expect("test server");
    let mut c = PgConnector::from_url(&base).expect("url");
    c.config_mut().dbname("no_such_db").password("hunter2");
    let e = c.open().unwrap_err();
    let Error::Connection { message: m, .. } = &e else { panic!("{e:?}") };
    assert!(m.contains("no_such_db") && m.contains("3D000"), "{m}");
    assert!(!m.contains("hunter2"), "{m}");
}

#[test]
fn key_columns_of_details() {
    assert_eq!(key_columns(Some("Key (email)=(a@x) already exists.")), strings(&["email"]));
    assert_eq!(key_columns(Some("Key (a, b)=(1, 2) already exists.")), strings(&["a", "b"]));
    assert_eq!(
        key_columns(Some(r#"Key ("Odd ""x", y)=(1, 2) already exists."#)),
        strings(&["Odd \"x", "y"])
    );
    assert_eq!(
        key_columns(Some(r#"Key (author_id)=(9) is not present in table "users"."#)),
        strings(&["author_id"])
    );
    assert!(key_columns(Some("Key (lower(email))=(a) already exists.")).is_empty());
    assert!(key_columns(Some("Failing row contains (1, x).")).is_empty());
    assert!(key_columns(Some("Key (")).is_empty());
    assert!(key_columns(None).is_empty());
}

#[test]
fn db_default_is_never_bound() {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch("CREATE TABLE t (x INT DEFAULT 7)").expect("setup");
    let e = conn.execute("INSERT INTO t (x) VALUES ($1)", &[Value::Default]).unwrap_err();
    assert!(matches!(e, Error::InvalidUse(ref m) if m == DEFAULT_NOT_BINDABLE), "{e:?}");
    assert!(e.to_string().contains("DbDefault::Default cannot be bound as a parameter"), "{e}");
    let e = conn
        .query("SELECT 1 WHERE $1::int = $2", &[Value::Int(1), Value::Default], &mut |_| Ok(()))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidUse(ref m) if m == DEFAULT_NOT_BINDABLE), "{e:?}");
    // Inside a list bound as an array: refused by the binding itself, naming the parameter.
    let e = conn
        .query("SELECT 1 WHERE 1 = ANY($1)", &[Value::List(vec![Value::Default])], &mut |_| Ok(()))
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidUse(ref m) if m.contains("$1") && m.contains(DEFAULT_NOT_BINDABLE)),
        "{e:?}"
    );
    // Nothing was written, and the connection is fine.
    let mut n = None;
    conn.query("SELECT COUNT(*) FROM t", &[], &mut |row| {
        n = Some(row.get(0)?.to_owned_value());
        Ok(())
    })
    .expect("count");
    assert_eq!(n, Some(Value::Int(0)));
}
