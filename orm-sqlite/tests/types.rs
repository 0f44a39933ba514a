//! Values of every type through the `Connection` trait against a real in-memory SQLite: bound in
//! their documented forms, stored with the affinity their declared type gives, read back equal.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use orm_core::connection::decode_at;
use orm_core::schema::{ColumnSchema, ColumnType, DefaultValue, TableSchema};
use orm_core::statement::{Expr, Insert, OrderBy, Select};
use orm_core::{Connection, Connector, Dialect, Error, FromValue, Json, Result, Value};
use orm_sqlite::DIALECT;
use uuid::Uuid;

fn memory() -> Box<dyn Connection> {
    let c = orm_sqlite::connector("sqlite::memory:").expect("url");
    c.connect().expect("connect")
}

/// All rows of a query as owned values.
fn rows(conn: &mut dyn Connection, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>> {
    let mut out = Vec::new();
    conn.query(sql, params, &mut |row| {
        let mut r = Vec::with_capacity(row.len());
        for i in 0..row.len() {
            r.push(row.get(i)?.to_owned_value());
        }
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// The single value a query returns, decoded.
fn one<T: FromValue>(conn: &mut dyn Connection, sql: &str, params: &[Value]) -> Result<T> {
    let mut v = None;
    conn.query(sql, params, &mut |row| {
        v = Some(decode_at::<T>(row, 0, "value")?);
        Ok(())
    })?;
    v.ok_or_else(|| Error::NotFound(sql.to_owned()))
}

fn create(conn: &mut dyn Connection, t: &TableSchema) {
    for st in orm_core::migrate::create_statements(&DIALECT, &[t]).expect("DDL") {
        let sql = st.to_script();
        conn.execute_batch(&sql).expect(&sql);
    }
}

const STATUS: ColumnType = ColumnType::Enum { name: "status", variants: &["draft", "it's"] };

static EVERY_COLUMNS: [ColumnSchema; 16] = [
    ColumnSchema {
        primary_key: true,
        auto_increment: true,
        ..ColumnSchema::new("id", ColumnType::BigInt)
    },
    ColumnSchema::new("small", ColumnType::SmallInt),
    ColumnSchema::new("int", ColumnType::Integer),
    ColumnSchema::new("real", ColumnType::Real),
    ColumnSchema::new("double", ColumnType::Double),
    ColumnSchema::new("flag", ColumnType::Boolean),
    ColumnSchema { max_length: Some(3), ..ColumnSchema::new("name", ColumnType::Text) },
    ColumnSchema::new("data", ColumnType::Blob),
    ColumnSchema::new("at", ColumnType::Timestamptz),
    ColumnSchema::new("local", ColumnType::Timestamp),
    ColumnSchema::new("born", ColumnType::Date),
    ColumnSchema::new("uid", ColumnType::Uuid),
    ColumnSchema::new("doc", ColumnType::Json),
    ColumnSchema::new("tags", ColumnType::TextArray),
    ColumnSchema::new("nums", ColumnType::BigIntArray),
    ColumnSchema::new("status", STATUS),
];

static EVERY: TableSchema = TableSchema {
    name: "every",
    renamed_from: None,
    columns: &EVERY_COLUMNS,
    primary_key: &[0],
    indexes: &[],
    uniques: &[],
    foreign_keys: &[],
    version_column: None,
    checks: &[],
};

const EVERY_NAMES: [&str; 15] = [
    "small", "int", "real", "double", "flag", "name", "data", "at", "local", "born", "uid", "doc",
    "tags", "nums", "status",
];

struct Sample {
    at: DateTime<Utc>,
    local: NaiveDateTime,
    born: NaiveDate,
    uid: Uuid,
    doc: serde_json::Value,
    tags: Vec<String>,
    nums: Vec<i64>,
}

fn sample(doc: serde_json::Value, tags: Vec<String>) -> Sample {
    let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 30, 0).single().expect("date")
        + chrono::Duration::microseconds(123_456);
    Sample {
        at,
        local: at.naive_utc() - chrono::Duration::hours(3),
        born: NaiveDate::from_ymd_opt(1999, 12, 31).expect("date"),
        uid: Uuid::parse_str("A1A2A3A4-B1B2-C1C2-D1D2-D3D4D5D6D7D8").expect("uuid"),
        doc,
        tags,
        nums: vec![i64::MIN, -1, 0, i64::MAX],
    }
}

fn insert_sample(conn: &mut dyn Connection, s: &Sample) -> i64 {
    let ins = Insert {
        table: "every",
        columns: EVERY_NAMES.to_vec(),
        rows: vec![vec![
            Value::Int(-32768),
            Value::Int(i64::from(i32::MAX)),
            Value::Float(f64::from(1.5f32)),
            Value::Float(std::f64::consts::PI),
            Value::Bool(true),
            Value::Text("héllo, wörld: longer than 3".into()),
            Value::Blob(vec![0, 159, 146, 150, 255]),
            Value::Timestamp(s.at),
            Value::DateTime(s.local),
            Value::Date(s.born),
            Value::Uuid(s.uid),
            Value::Json(s.doc.clone()),
            Value::TextArray(s.tags.clone()),
            Value::IntArray(s.nums.clone()),
            Value::Enum { type_name: "status", label: "it's" },
        ]],
        returning: vec!["id"],
    };
    let r = DIALECT.insert(&ins).expect("render");
    one::<i64>(conn, &r.sql, &r.params).expect("insert")
}

#[test]
fn every_type_round_trips() -> Result<()> {
    let mut conn = memory();
    create(&mut *conn, &EVERY);
    let s = sample(serde_json::json!({"theme": "dark", "n": [1, 2.5, null]}), vec!["a".into()]);
    let id = insert_sample(&mut *conn, &s);
    assert_eq!(id, 1);

    let r = DIALECT.select(&Select::from_table("every")).expect("render");
    let mut seen = 0;
    conn.query(&r.sql, &r.params, &mut |row| {
        assert_eq!(row.len(), 16);
        assert_eq!(decode_at::<i64>(row, 0, "id")?, 1);
        assert_eq!(decode_at::<i16>(row, 1, "small")?, i16::MIN);
        assert_eq!(decode_at::<i32>(row, 2, "int")?, i32::MAX);
        assert_eq!(decode_at::<f32>(row, 3, "real")?, 1.5);
        assert_eq!(decode_at::<f64>(row, 4, "double")?, std::f64::consts::PI);
        assert!(decode_at::<bool>(row, 5, "flag")?);
        assert_eq!(decode_at::<String>(row, 6, "name")?, "héllo, wörld: longer than 3");
        assert_eq!(decode_at::<Vec<u8>>(row, 7, "data")?, vec![0, 159, 146, 150, 255]);
        assert_eq!(decode_at::<DateTime<Utc>>(row, 8, "at")?, s.at);
        assert_eq!(decode_at::<NaiveDateTime>(row, 9, "local")?, s.local);
        assert_eq!(decode_at::<NaiveDate>(row, 10, "born")?, s.born);
        assert_eq!(decode_at::<Uuid>(row, 11, "uid")?, s.uid);
        assert_eq!(decode_at::<serde_json::Value>(row, 12, "doc")?, s.doc);
        assert_eq!(decode_at::<Vec<String>>(row, 13, "tags")?, s.tags);
        assert_eq!(decode_at::<Vec<i64>>(row, 14, "nums")?, s.nums);
        assert_eq!(decode_at::<String>(row, 15, "status")?, "it's");
        seen += 1;
        Ok(())
    })?;
    assert_eq!(seen, 1);

    // The documented storage forms, exactly.
    let stored = rows(
        &mut *conn,
        "SELECT typeof(flag), flag, at, local, born, uid, doc, tags, nums, typeof(real) FROM every",
        &[],
    )?;
    assert_eq!(
        stored,
        vec![vec![
            Value::Text("integer".into()),
            Value::Int(1),
            Value::Text("2024-05-01 12:30:00.123456".into()),
            Value::Text("2024-05-01 09:30:00.123456".into()),
            Value::Text("1999-12-31".into()),
            Value::Text("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8".into()),
            Value::Text(r#"{"n":[1,2.5,null],"theme":"dark"}"#.into()),
            Value::Text(r#"["a"]"#.into()),
            Value::Text("[-9223372036854775808,-1,0,9223372036854775807]".into()),
            Value::Text("real".into()),
        ]]
    );
    Ok(())
}

#[test]
fn text_stored_values_that_look_like_numbers_stay_text() -> Result<()> {
    let mut conn = memory();
    create(&mut *conn, &EVERY);
    for doc in [
        serde_json::json!(5),
        serde_json::json!("5"),
        serde_json::json!(1.0),
        serde_json::json!(-0.5e10),
        serde_json::json!(null),
        serde_json::json!(true),
        serde_json::json!([]),
    ] {
        conn.execute_batch("DELETE FROM every")?;
        let s = sample(doc.clone(), vec!["1".into(), "2.5".into(), "".into()]);
        insert_sample(&mut *conn, &s);
        let (got, kind): (serde_json::Value, String) = {
            let mut out = None;
            conn.query("SELECT doc, typeof(doc) FROM every", &[], &mut |row| {
                out = Some((decode_at(row, 0, "doc")?, decode_at(row, 1, "kind")?));
                Ok(())
            })?;
            out.ok_or_else(|| Error::NotFound("row".into()))?
        };
        assert_eq!(got, doc);
        assert_eq!(kind, "text", "{doc}");
        assert_eq!(one::<Vec<String>>(&mut *conn, "SELECT tags FROM every", &[])?, s.tags);
        // A JSON `null` is the text `null`, not SQL NULL.
        assert_eq!(
            one::<Option<serde_json::Value>>(&mut *conn, "SELECT doc FROM every", &[])?,
            Some(doc)
        );
    }
    // Even text written by hand keeps its form.
    conn.execute_batch("UPDATE every SET doc = '007', uid = '12', born = '20240101'")?;
    assert_eq!(
        rows(&mut *conn, "SELECT doc, uid, born FROM every", &[])?,
        vec![vec![
            Value::Text("007".into()),
            Value::Text("12".into()),
            Value::Text("20240101".into())
        ]]
    );
    // Why: a declared type without TEXT affinity (here `JSON`, NUMERIC affinity) converts.
    conn.execute_batch("CREATE TABLE numeric_json (doc JSON)")?;
    conn.execute(
        "INSERT INTO numeric_json (doc) VALUES (?1)",
        &[Value::Json(serde_json::json!(5))],
    )?;
    assert_eq!(one::<String>(&mut *conn, "SELECT typeof(doc) FROM numeric_json", &[])?, "integer");
    Ok(())
}

#[test]
fn json_types_through_the_json_wrapper() -> Result<()> {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Prefs {
        theme: String,
        size: u8,
    }
    let mut conn = memory();
    conn.execute_batch("CREATE TABLE t (p JSON_TEXT NOT NULL)")?;
    let v = orm_core::ToValue::to_value(&Json(Prefs { theme: "dark".into(), size: 3 }));
    conn.execute("INSERT INTO t (p) VALUES (?1)", &[v])?;
    let got: Json<Prefs> = one(&mut *conn, "SELECT p FROM t", &[])?;
    assert_eq!(got.0, Prefs { theme: "dark".into(), size: 3 });
    // JSON functions read the stored text.
    assert_eq!(one::<String>(&mut *conn, "SELECT p ->> '$.theme' FROM t", &[])?, "dark");
    Ok(())
}

#[test]
fn nulls_and_options() -> Result<()> {
    let mut conn = memory();
    conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c UUID_TEXT, d TIMESTAMPTZ_TEXT)")?;
    conn.execute(
        "INSERT INTO t VALUES (?1, ?2, ?3, ?4)",
        &[Value::Null, Value::Null, Value::Null, Value::Null],
    )?;
    let r = rows(&mut *conn, "SELECT a, b, c, d FROM t", &[])?;
    assert_eq!(r, vec![vec![Value::Null; 4]]);
    assert_eq!(one::<Option<i64>>(&mut *conn, "SELECT a FROM t", &[])?, None);
    assert_eq!(one::<Option<Uuid>>(&mut *conn, "SELECT c FROM t", &[])?, None);
    let e = one::<i64>(&mut *conn, "SELECT a FROM t", &[]).unwrap_err();
    assert!(
        matches!(e, Error::Decode { ref column, expected: "i64", ref got } if column == "value" && got == "NULL"),
        "{e:?}"
    );
    Ok(())
}

static ITEMS_COLUMNS: [ColumnSchema; 4] = [
    ColumnSchema {
        primary_key: true,
        auto_increment: true,
        ..ColumnSchema::new("id", ColumnType::Integer)
    },
    ColumnSchema {
        default: Some(DefaultValue::Bool(true)),
        ..ColumnSchema::new("active", ColumnType::Boolean)
    },
    ColumnSchema {
        default: Some(DefaultValue::Text("n/a")),
        ..ColumnSchema::new("name", ColumnType::Text)
    },
    ColumnSchema {
        server_default: Some("CURRENT_TIMESTAMP"),
        ..ColumnSchema::new("created", ColumnType::Timestamptz)
    },
];

static ITEMS: TableSchema = TableSchema {
    name: "items",
    renamed_from: None,
    columns: &ITEMS_COLUMNS,
    primary_key: &[0],
    indexes: &[],
    uniques: &[],
    foreign_keys: &[],
    version_column: None,
    checks: &[],
};

#[test]
fn integer_primary_key_is_generated_and_a_rowid_alias() -> Result<()> {
    let mut conn = memory();
    create(&mut *conn, &ITEMS);
    let ins = Insert {
        table: "items",
        columns: vec!["name"],
        rows: vec![vec![Value::Text("a".into())]],
        returning: vec!["id"],
    };
    let r = DIALECT.insert(&ins).expect("render");
    assert_eq!(one::<i64>(&mut *conn, &r.sql, &r.params)?, 1);
    assert_eq!(one::<i64>(&mut *conn, &r.sql, &r.params)?, 2);
    // DEFAULT VALUES: the key, the literal defaults and the server default are all filled.
    let defaults = Insert {
        table: "items",
        columns: vec![],
        rows: vec![],
        returning: vec!["id", "active", "name", "created"],
    };
    let r = DIALECT.insert(&defaults).expect("render");
    let mut got = None;
    conn.query(&r.sql, &r.params, &mut |row| {
        got = Some((
            decode_at::<i64>(row, 0, "id")?,
            decode_at::<bool>(row, 1, "active")?,
            decode_at::<String>(row, 2, "name")?,
            decode_at::<DateTime<Utc>>(row, 3, "created")?,
        ));
        Ok(())
    })?;
    let (id, active, name, created) = got.ok_or_else(|| Error::NotFound("row".into()))?;
    assert_eq!((id, active, name.as_str()), (3, true, "n/a"));
    assert!((Utc::now() - created).num_seconds().abs() < 60);
    // The key is the rowid itself, not a separate column with an index.
    assert_eq!(one::<i64>(&mut *conn, "SELECT COUNT(*) FROM items WHERE rowid = id", &[])?, 3);
    assert_eq!(
        one::<i64>(
            &mut *conn,
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'items'",
            &[]
        )?,
        0
    );
    Ok(())
}

#[test]
fn like_is_case_sensitive_and_ilike_is_not() -> Result<()> {
    let mut conn = memory();
    conn.execute_batch(
        "CREATE TABLE users (name TEXT NOT NULL);
         INSERT INTO users VALUES ('tata'), ('Tata'), ('TATA'), ('toto');",
    )?;
    let run = |conn: &mut dyn Connection,
               ci: bool,
               negated: bool,
               pattern: &str|
     -> Result<Vec<String>> {
        let mut s = Select::from_table("users");
        s.columns = vec![Expr::Column { table: "users", name: "name" }];
        s.filter = Some(Expr::Like {
            expr: Box::new(Expr::Column { table: "users", name: "name" }),
            pattern: Box::new(Expr::Value(Value::Text(pattern.into()))),
            case_insensitive: ci,
            negated,
        });
        s.order_by =
            vec![OrderBy { expr: Expr::Column { table: "users", name: "name" }, desc: false }];
        let r = DIALECT.select(&s).expect("render");
        let mut out = Vec::new();
        conn.query(&r.sql, &r.params, &mut |row| {
            out.push(decode_at::<String>(row, 0, "name")?);
            Ok(())
        })?;
        Ok(out)
    };
    assert_eq!(run(&mut *conn, false, false, "ta%")?, ["tata"]);
    assert_eq!(run(&mut *conn, false, false, "TA%")?, ["TATA"]);
    assert_eq!(run(&mut *conn, false, true, "ta%")?, ["TATA", "Tata", "toto"]);
    assert_eq!(run(&mut *conn, true, false, "tA%")?, ["TATA", "Tata", "tata"]);
    assert_eq!(run(&mut *conn, true, true, "TA%")?, ["toto"]);
    assert_eq!(run(&mut *conn, true, false, "%O_O")?, ["toto"]);
    // Case folds by Unicode's rules, not ASCII only.
    conn.execute_batch("INSERT INTO users VALUES ('Motörhead'), ('MOTÖRHEAD'), ('Ωμέγα')")?;
    assert_eq!(run(&mut *conn, true, false, "%motörhead%")?, ["MOTÖRHEAD", "Motörhead"]);
    assert_eq!(run(&mut *conn, true, false, "ωΜΈ%")?, ["Ωμέγα"]);
    assert_eq!(run(&mut *conn, false, false, "%motörhead%")?, Vec::<String>::new());
    Ok(())
}

#[test]
fn unicode_case_mapping_functions_are_registered() -> Result<()> {
    let mut conn = memory();
    let row = rows(
        &mut *conn,
        "SELECT orm_lower('MOTÖRHEAD Ω'), orm_upper('straße ö'), orm_lower(NULL), orm_lower(5), \
         orm_lower(x'41'), lower('MOTÖRHEAD')",
        &[],
    )?;
    assert_eq!(
        row,
        vec![vec![
            Value::Text("motörhead ω".into()),
            Value::Text("STRASSE Ö".into()),
            Value::Null,
            Value::Int(5),
            Value::Blob(vec![0x41]),
            Value::Text("motÖrhead".into()),
        ]],
        "SQLite's own lower is left as it is"
    );
    let e = rows(&mut *conn, "SELECT orm_lower(CAST(x'66ff' AS TEXT))", &[]).unwrap_err();
    assert!(matches!(e, Error::Database { .. }), "{e:?}");
    // Deterministic, so usable where SQLite requires it (an index on an expression).
    conn.execute_batch("CREATE TABLE t (name TEXT); CREATE INDEX t_lower ON t (orm_lower(name))")?;
    Ok(())
}

#[test]
fn numbered_placeholders_let_a_named_parameter_repeat() -> Result<()> {
    let mut conn = memory();
    let (sql, params) = orm_core::raw::bind_named(
        &DIALECT,
        "SELECT :n + :n * :m",
        &[("n".into(), Value::Int(2)), ("m".into(), Value::Int(10))],
    )?;
    assert_eq!(sql, "SELECT ?1 + ?2 * ?3");
    assert_eq!(one::<i64>(&mut *conn, &sql, &params)?, 22);
    // A placeholder written once and read twice binds once.
    assert_eq!(one::<i64>(&mut *conn, "SELECT ?1 * ?1", &[Value::Int(7)])?, 49);
    Ok(())
}

#[test]
fn row_api() -> Result<()> {
    let mut conn = memory();
    let mut checked = false;
    conn.query("SELECT 1 AS one, 'x' AS two", &[], &mut |row| {
        assert_eq!(row.len(), 2);
        assert!(!row.is_empty());
        assert_eq!(row.column_name(0), Some("one"));
        assert_eq!(row.column_name(1), Some("two"));
        assert_eq!(row.column_name(2), None);
        assert_eq!(row.column_index("two"), Some(1));
        assert_eq!(row.column_index("three"), None);
        assert_eq!(row.get(1)?, orm_core::ValueRef::Text("x"));
        let past = row.get(2).unwrap_err();
        assert!(matches!(past, Error::Decode { ref column, .. } if column == "#2"), "{past:?}");
        checked = true;
        Ok(())
    })?;
    assert!(checked);
    Ok(())
}

#[test]
fn text_that_is_not_utf8_is_a_decode_error() {
    let mut conn = memory();
    let e = rows(&mut *conn, "SELECT CAST(x'66ff' AS TEXT) AS bad", &[]).unwrap_err();
    match e {
        Error::Decode { column, expected, got } => {
            assert_eq!(column, "bad");
            assert_eq!(expected, "UTF-8 text");
            assert!(got.contains("not UTF-8"), "{got}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_error_from_the_callback_stops_the_query() -> Result<()> {
    let mut conn = memory();
    let mut calls = 0;
    let e = conn
        .query("SELECT value FROM json_each('[1,2,3]')", &[], &mut |_| {
            calls += 1;
            Err(Error::InvalidUse("stop".into()))
        })
        .unwrap_err();
    assert!(matches!(e, Error::InvalidUse(ref m) if m == "stop"));
    assert_eq!(calls, 1);
    // The statement was reset: it runs again from the start.
    assert_eq!(rows(&mut *conn, "SELECT value FROM json_each('[1,2,3]')", &[])?.len(), 3);
    Ok(())
}

#[test]
fn execute_counts_rows_and_checks_parameters() -> Result<()> {
    let mut conn = memory();
    conn.execute_batch("CREATE TABLE t (x INTEGER)")?;
    assert_eq!(
        conn.execute(
            "INSERT INTO t VALUES (?1), (?2), (?3)",
            &[Value::Int(1), Value::Int(2), Value::Int(3)]
        )?,
        3
    );
    assert_eq!(conn.execute("UPDATE t SET x = x + 1 WHERE x > ?1", &[Value::Int(1)])?, 2);
    // A statement that returns rows can still be executed for its effect.
    assert_eq!(conn.execute("DELETE FROM t WHERE x = ?1 RETURNING x", &[Value::Int(4)])?, 1);
    assert_eq!(conn.execute("SELECT * FROM t", &[])?, 0);
    let e = conn.execute("INSERT INTO t VALUES (?1)", &[]).unwrap_err();
    assert!(
        matches!(e, Error::InvalidUse(ref m) if m.contains("takes 1 parameters, 0 were given")),
        "{e:?}"
    );
    let e = conn.execute("INSERT INTO t VALUES (?1)", &[Value::Int(1), Value::Int(2)]).unwrap_err();
    assert!(matches!(e, Error::InvalidUse(_)), "{e:?}");
    let e = conn.execute("SELEC 1", &[]).unwrap_err();
    assert!(
        matches!(e, Error::Database { code: Some(ref c), ref message, .. } if c == "SQLITE_ERROR (1)" && message.contains("syntax error")),
        "{e:?}"
    );
    let e = conn.execute("SELECT 1; SELECT 2", &[]).unwrap_err();
    assert!(matches!(e, Error::InvalidUse(_)), "{e:?}");
    assert!(conn.is_valid());
    Ok(())
}

#[test]
fn transactions_and_savepoints() -> Result<()> {
    let mut conn = memory();
    conn.execute_batch("CREATE TABLE t (x INTEGER)")?;
    conn.execute_batch(DIALECT.begin_sql())?;
    conn.execute("INSERT INTO t VALUES (?1)", &[Value::Int(1)])?;
    conn.execute_batch(&DIALECT.savepoint_sql("sp"))?;
    conn.execute("INSERT INTO t VALUES (?1)", &[Value::Int(2)])?;
    conn.execute_batch(&DIALECT.rollback_to_savepoint_sql("sp"))?;
    conn.execute_batch(&DIALECT.release_savepoint_sql("sp"))?;
    conn.execute_batch("COMMIT")?;
    assert_eq!(one::<i64>(&mut *conn, "SELECT SUM(x) FROM t", &[])?, 1);
    Ok(())
}

#[test]
fn the_connection_is_configured() -> Result<()> {
    let mut conn = memory();
    assert_eq!(one::<i64>(&mut *conn, "PRAGMA foreign_keys", &[])?, 1);
    assert_eq!(one::<i64>(&mut *conn, "PRAGMA busy_timeout", &[])?, 5000);
    assert_eq!(one::<i64>(&mut *conn, "PRAGMA synchronous", &[])?, 1);
    assert_eq!(one::<String>(&mut *conn, "PRAGMA journal_mode", &[])?, "memory");
    // LIKE keeps SQLite's default (ASCII case ignored): raw SQL means what it means in the
    // sqlite3 shell; the typed `like` is a GLOB.
    assert!(one::<bool>(&mut *conn, "SELECT 'a' LIKE 'A'", &[])?);
    assert_eq!(one::<String>(&mut *conn, "SELECT orm_lower('Ö')", &[])?, "ö");
    Ok(())
}

#[test]
fn the_dialect_is_the_connectors() {
    let c = orm_sqlite::SqliteConnector::from_url("sqlite::memory:").expect("url");
    assert_eq!(c.dialect().name(), "sqlite");
    assert_eq!(c.dialect().begin_sql(), "BEGIN IMMEDIATE");
}

#[test]
fn raw_parameters_are_not_looked_for_inside_quotes_of_any_kind() -> Result<()> {
    let bind = |sql: &str| {
        orm_core::raw::bind_named(&DIALECT, sql, &[("a".into(), Value::Int(1))]).map(|r| r.0)
    };
    assert_eq!(
        bind("SELECT ':b', \":b\", `:b`, [:b], $$:b$$, $t$ :b $t$, :a -- :b")?,
        "SELECT ':b', \":b\", `:b`, [:b], $$:b$$, $t$ :b $t$, ?1 -- :b"
    );
    assert_eq!(bind("SELECT E'it\\'s :b', :a")?, "SELECT E'it\\'s :b', ?1");
    // A name ending in e before a quote is no E'' string.
    assert_eq!(bind("SELECT name':b', :a")?, "SELECT name':b', ?1");
    Ok(())
}

#[test]
fn time_ranges_and_glob_prefixes_are_served_by_an_index() -> Result<()> {
    use orm_core::statement::BinaryOp;
    let mut conn = memory();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at TIMESTAMP_TEXT, name TEXT);
         CREATE INDEX t_at ON t (at); CREATE INDEX t_name ON t (name);",
    )?;
    let at = || Expr::Column { table: "t", name: "at" };
    let name = || Expr::Column { table: "t", name: "name" };
    let time = NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let time = || Expr::Value(Value::DateTime(time.expect("time")));
    let like = |pattern: &str| Expr::Like {
        expr: Box::new(name()),
        pattern: Box::new(Expr::Value(Value::Text(pattern.into()))),
        case_insensitive: false,
        negated: false,
    };
    for (filter, index) in [
        (Expr::binary(at(), BinaryOp::Eq, time()), "t_at"),
        (Expr::binary(at(), BinaryOp::Ge, time()), "t_at"),
        (Expr::binary(at(), BinaryOp::Lt, time()), "t_at"),
        (Expr::InList { expr: Box::new(at()), list: vec![time(), time()], negated: false }, "t_at"),
        (like("ab%"), "t_name"),
        (like(r"a\%b\_c%"), "t_name"),
    ] {
        let mut s = Select::from_table("t");
        s.columns = vec![Expr::Column { table: "t", name: "id" }];
        s.filter = Some(filter);
        let r = DIALECT.select(&s).expect("render");
        let plan = rows(&mut *conn, &format!("EXPLAIN QUERY PLAN {}", r.sql), &r.params)?;
        let plan = format!("{plan:?}");
        assert!(plan.contains(&format!("INDEX {index}")), "{}: {plan}", r.sql);
    }
    Ok(())
}
