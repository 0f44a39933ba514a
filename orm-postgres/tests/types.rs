//! Values of every type through the `Connection` trait against a real PostgreSQL: bound by the
//! type the server inferred, read back from each column's type, and refused clearly when they do
//! not fit.

mod common;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use common::{create, db, one, rows, text};
use orm_core::connection::decode_at;
use orm_core::schema::{ColumnSchema, ColumnType, TableSchema};
use orm_core::statement::{Expr, Insert, Select};
use orm_core::{Connection, Dialect, Error, Result, Value, ValueRef};
use orm_postgres::DIALECT;
use uuid::Uuid;

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
    ColumnSchema { max_length: Some(40), ..ColumnSchema::new("name", ColumnType::Text) },
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

fn sample() -> Sample {
    let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 30, 0).single().expect("date")
        + chrono::Duration::microseconds(123_456);
    Sample {
        at,
        local: at.naive_utc() - chrono::Duration::hours(3),
        born: NaiveDate::from_ymd_opt(1999, 12, 31).expect("date"),
        uid: Uuid::parse_str("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8").expect("uuid"),
        doc: serde_json::json!({"theme": "dark", "n": [1, 2.5, null], "s": "é\"\\"}),
        tags: vec!["a".into(), "".into(), "with, comma \"and\" quotes".into()],
        nums: vec![i64::MIN, -1, 0, i64::MAX],
    }
}

fn sample_row(s: &Sample) -> Vec<Value> {
    vec![
        Value::Int(i64::from(i16::MIN)),
        Value::Int(i64::from(i32::MAX)),
        Value::Float(f64::from(1.5f32)),
        Value::Float(std::f64::consts::PI),
        Value::Bool(true),
        Value::Text("héllo, wörld".into()),
        Value::Blob(vec![0, 159, 146, 150, 255]),
        Value::Timestamp(s.at),
        Value::DateTime(s.local),
        Value::Date(s.born),
        Value::Uuid(s.uid),
        Value::Json(s.doc.clone()),
        Value::TextArray(s.tags.clone()),
        Value::IntArray(s.nums.clone()),
        Value::Enum { type_name: "status", label: "it's" },
    ]
}

fn insert(conn: &mut dyn Connection, row: Vec<Value>) -> Result<i64> {
    let ins = Insert {
        table: "every",
        columns: EVERY_NAMES.to_vec(),
        rows: vec![row],
        returning: vec!["id"],
    };
    let r = DIALECT.insert(&ins)?;
    one::<i64>(conn, &r.sql, &r.params)
}

#[test]
fn every_type_round_trips() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    create(conn, &EVERY);
    let s = sample();
    assert_eq!(insert(conn, sample_row(&s))?, 1, "the identity key starts at 1");

    let r = DIALECT.select(&Select::from_table("every"))?;
    let mut seen = 0;
    conn.query(&r.sql, &r.params, &mut |row| {
        assert_eq!(row.len(), 16);
        assert_eq!(row.column_name(15), Some("status"));
        assert_eq!(row.column_index("doc"), Some(12));
        assert_eq!(decode_at::<i64>(row, 0, "id")?, 1);
        assert_eq!(decode_at::<i16>(row, 1, "small")?, i16::MIN);
        assert_eq!(decode_at::<i32>(row, 2, "int")?, i32::MAX);
        assert_eq!(decode_at::<f32>(row, 3, "real")?, 1.5);
        assert_eq!(decode_at::<f64>(row, 4, "double")?, std::f64::consts::PI);
        assert!(decode_at::<bool>(row, 5, "flag")?);
        assert_eq!(decode_at::<String>(row, 6, "name")?, "héllo, wörld");
        assert_eq!(decode_at::<Vec<u8>>(row, 7, "data")?, vec![0, 159, 146, 150, 255]);
        assert_eq!(decode_at::<DateTime<Utc>>(row, 8, "at")?, s.at);
        assert_eq!(decode_at::<NaiveDateTime>(row, 9, "local")?, s.local);
        assert_eq!(decode_at::<NaiveDate>(row, 10, "born")?, s.born);
        assert_eq!(decode_at::<Uuid>(row, 11, "uid")?, s.uid);
        assert_eq!(decode_at::<serde_json::Value>(row, 12, "doc")?, s.doc);
        assert_eq!(decode_at::<Vec<String>>(row, 13, "tags")?, s.tags);
        // Read twice: the second read comes from the row's cache.
        assert_eq!(decode_at::<Vec<String>>(row, 13, "tags")?, s.tags);
        assert_eq!(decode_at::<Vec<i64>>(row, 14, "nums")?, s.nums);
        assert_eq!(decode_at::<String>(row, 15, "status")?, "it's");
        // The borrowed kinds, exactly.
        assert_eq!(row.get(0)?, ValueRef::Int(1));
        assert_eq!(row.get(3)?, ValueRef::Float(1.5));
        assert_eq!(row.get(5)?, ValueRef::Bool(true));
        assert_eq!(row.get(8)?, ValueRef::Timestamp(s.at));
        assert_eq!(row.get(9)?, ValueRef::DateTime(s.local));
        assert_eq!(row.get(10)?, ValueRef::Date(s.born));
        assert_eq!(row.get(11)?, ValueRef::Uuid(s.uid));
        assert!(matches!(row.get(12)?, ValueRef::Text(t) if t.starts_with('{')));
        assert!(matches!(row.get(16), Err(Error::Decode { .. })));
        seen += 1;
        Ok(())
    })?;
    assert_eq!(seen, 1);

    // The server sees native values, not text.
    let stored = rows(
        conn,
        "SELECT pg_typeof(doc)::text, doc->>'theme', tags[3], array_length(nums, 1), \
         status::text, pg_typeof(status)::text, uid::text, at = '2024-05-01 12:30:00.123456+00' \
         FROM every",
        &[],
    )?;
    assert_eq!(
        stored,
        vec![vec![
            text("jsonb"),
            text("dark"),
            text("with, comma \"and\" quotes"),
            Value::Int(4),
            text("it's"),
            text("status"),
            text("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8"),
            Value::Bool(true),
        ]]
    );
    Ok(())
}

#[test]
fn nulls_bind_to_any_type_and_read_as_null() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch(
        "CREATE TYPE mood AS ENUM ('ok'); CREATE TABLE n (i INT, t TEXT, u UUID, j JSONB, a TEXT[], \
         b BIGINT[], m mood, ts TIMESTAMPTZ, d DATE, x BYTEA, n NUMERIC)",
    )?;
    let nulls = vec![Value::Null; 11];
    let n = conn
        .execute("INSERT INTO n VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", &nulls)?;
    assert_eq!(n, 1);
    assert_eq!(rows(conn, "SELECT * FROM n", &[])?, vec![nulls]);
    let v: Option<Vec<String>> = one(conn, "SELECT a FROM n", &[])?;
    assert_eq!(v, None);
    Ok(())
}

#[test]
fn identity_keys_are_generated_and_explicit_keys_still_insert() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    create(conn, &EVERY);
    let s = sample();
    assert_eq!(insert(conn, sample_row(&s))?, 1);
    assert_eq!(insert(conn, sample_row(&s))?, 2);
    let mut cols = vec!["id"];
    cols.extend(EVERY_NAMES);
    let mut row = vec![Value::Int(100)];
    row.extend(sample_row(&s));
    let r = DIALECT.insert(&Insert {
        table: "every",
        columns: cols,
        rows: vec![row],
        returning: vec!["id"],
    })?;
    assert_eq!(one::<i64>(conn, &r.sql, &r.params)?, 100);
    assert_eq!(insert(conn, sample_row(&s))?, 3);
    Ok(())
}

/// The error of binding `v` to a parameter the server types as `ty`.
fn bind_error(conn: &mut dyn Connection, ty: &str, v: Value) -> String {
    match rows(conn, &format!("SELECT $1::{ty}"), std::slice::from_ref(&v)) {
        Err(Error::InvalidUse(m)) => m,
        other => panic!("{v:?} as {ty}: expected a bind error, got {other:?}"),
    }
}

/// `v` bound as `ty` and read back as text by the server.
fn as_text(conn: &mut dyn Connection, ty: &str, v: Value) -> String {
    match one::<Option<String>>(conn, &format!("SELECT ($1::{ty})::text"), std::slice::from_ref(&v))
    {
        Ok(Some(s)) => s,
        other => panic!("{v:?} as {ty}: {other:?}"),
    }
}

#[test]
fn integers_bind_to_every_numeric_type_range_checked() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    assert_eq!(as_text(conn, "int2", Value::Int(-32768)), "-32768");
    assert_eq!(as_text(conn, "int4", Value::Int(2_147_483_647)), "2147483647");
    assert_eq!(as_text(conn, "int8", Value::Int(i64::MIN)), "-9223372036854775808");
    assert_eq!(as_text(conn, "float4", Value::Int(3)), "3");
    assert_eq!(as_text(conn, "float8", Value::Int(-7)), "-7");
    assert_eq!(as_text(conn, "oid", Value::Int(4_000_000_000)), "4000000000");
    for (i, expected) in [
        (0, "0"),
        (1, "1"),
        (-1, "-1"),
        (10_000, "10000"),
        (123_456_789, "123456789"),
        (i64::MAX, "9223372036854775807"),
        (i64::MIN, "-9223372036854775808"),
    ] {
        assert_eq!(as_text(conn, "numeric", Value::Int(i)), expected);
    }
    let m = bind_error(conn, "int2", Value::Int(32768));
    assert!(m.contains("$1") && m.contains("32768") && m.contains("smallint"), "{m}");
    let m = bind_error(conn, "int4", Value::Int(i64::from(i32::MIN) - 1));
    assert!(m.contains("out of range for type integer"), "{m}");
    assert!(bind_error(conn, "oid", Value::Int(-1)).contains("out of range"));
    let m = bind_error(conn, "int8", text("12"));
    assert!(m.contains("text value cannot be bound to a parameter of type bigint"), "{m}");
    assert!(bind_error(conn, "bool", Value::Int(1)).contains("boolean"));
    // The connection is fine after a refused bind.
    assert_eq!(one::<i64>(conn, "SELECT $1::int8", &[Value::Int(5)])?, 5);
    Ok(())
}

#[test]
fn floats_bind_to_real_double_and_numeric() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    assert_eq!(one::<f64>(conn, "SELECT $1::float8", &[Value::Float(0.1)])?, 0.1);
    assert_eq!(one::<f32>(conn, "SELECT $1::float4", &[Value::Float(0.25)])?, 0.25);
    assert!(bind_error(conn, "float4", Value::Float(1e300)).contains("out of range for type real"));
    assert_eq!(as_text(conn, "float8", Value::Float(f64::INFINITY)), "Infinity");
    assert_eq!(as_text(conn, "float4", Value::Float(f64::NEG_INFINITY)), "-Infinity");
    for (f, expected) in [
        (0.0, "0"),
        (1.5, "1.5"),
        (-0.001, "-0.001"),
        (12345.6789, "12345.6789"),
        (0.00001, "0.00001"),
        (1e20, "100000000000000000000"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
    ] {
        assert_eq!(as_text(conn, "numeric", Value::Float(f)), expected, "{f}");
    }
    assert!(bind_error(conn, "int4", Value::Float(1.0)).contains("float value"));
    Ok(())
}

/// Without the `decimal` feature (with it, see `tests/decimal.rs`).
#[cfg(not(feature = "decimal"))]
#[test]
fn numeric_reads_as_int_when_whole_else_float() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    let got = rows(
        conn,
        "SELECT 0::numeric, 1.50::numeric(10, 2), -123456789.000012::numeric, \
         0.0001::numeric, 10000::numeric, 5.00::numeric(10, 2), 1e-20::numeric, \
         99990000::numeric, -9223372036854775808::numeric, 12345678901234567890123::numeric, \
         SUM(x) FROM (VALUES (9223372036854775807::int8), (1)) AS v(x)",
        &[],
    )?;
    assert_eq!(
        got,
        vec![vec![
            Value::Int(0),
            Value::Float(1.5),
            Value::Float(-123_456_789.000_012),
            Value::Float(0.0001),
            Value::Int(10000),
            Value::Int(5),
            Value::Float(1e-20),
            Value::Int(99_990_000),
            Value::Int(i64::MIN),
            Value::Float(1.234_567_890_123_456_8e22),
            Value::Float(9_223_372_036_854_775_808.0),
        ]]
    );
    let nan: f64 = one(conn, "SELECT 'NaN'::numeric", &[])?;
    assert!(nan.is_nan());
    // SUM of a bigint column is numeric: it reads into i64.
    assert_eq!(one::<i64>(conn, "SELECT SUM(x) FROM (VALUES (1::int8), (2)) AS v(x)", &[])?, 3);
    conn.execute_batch("CREATE TABLE money (amount NUMERIC(10, 2))")?;
    conn.execute("INSERT INTO money VALUES ($1), ($2)", &[Value::Float(19.99), Value::Int(5)])?;
    assert_eq!(one::<f64>(conn, "SELECT SUM(amount) FROM money", &[])?, 24.99);
    // The exact digits, as text.
    assert_eq!(one::<String>(conn, "SELECT SUM(amount)::text FROM money", &[])?, "24.99");
    Ok(())
}

#[test]
fn text_binds_to_text_types_and_parses_into_others() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch("CREATE TYPE mood AS ENUM ('happy', 'it''s'); CREATE DOMAIN email AS TEXT")?;
    for ty in ["text", "varchar(10)", "char(3)", "name", "mood", "email"] {
        let v = if ty == "mood" { "it's" } else { "abc" };
        assert_eq!(as_text(conn, ty, text(v)), v, "{ty}");
    }
    assert_eq!(
        as_text(conn, "uuid", text("A1A2A3A4-B1B2-C1C2-D1D2-D3D4D5D6D7D8")),
        "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8"
    );
    assert_eq!(
        as_text(conn, "jsonb", text(r#"{"b": 1, "a": [true]}"#)),
        r#"{"a": [true], "b": 1}"#
    );
    assert_eq!(as_text(conn, "json", text(r#"{"b": 1}"#)), r#"{"b": 1}"#);
    conn.execute_batch("SET TIME ZONE 'UTC'")?;
    assert_eq!(
        as_text(conn, "timestamptz", text("2024-05-01T12:30:00+02:00")),
        "2024-05-01 10:30:00+00"
    );
    assert_eq!(
        as_text(conn, "timestamptz", text("2024-05-01 12:30:00.5")),
        "2024-05-01 12:30:00.5+00"
    );
    assert_eq!(as_text(conn, "timestamp", text("2024-05-01T12:30:00")), "2024-05-01 12:30:00");
    assert_eq!(as_text(conn, "date", text("2024-02-29")), "2024-02-29");
    for (ty, bad) in [
        ("uuid", "not-a-uuid"),
        ("jsonb", "{nope"),
        ("json", "[1,"),
        ("timestamptz", "yesterday"),
        ("timestamp", "2024-13-01T00:00:00"),
        ("date", "2023-02-29"),
    ] {
        let m = bind_error(conn, ty, text(bad));
        assert!(m.contains("is not a valid") && m.contains(bad), "{ty}: {m}");
    }
    assert!(bind_error(conn, "bytea", text("x")).contains("bytea"));
    // An enum label the type lacks is the server's error.
    assert!(matches!(
        rows(conn, "SELECT $1::mood", &[text("sad")]),
        Err(Error::Database { code: Some(c), .. }) if c == "22P02"
    ));
    Ok(())
}

#[test]
fn other_scalars_bind_by_the_inferred_type() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch("SET TIME ZONE 'UTC'; CREATE TYPE mood AS ENUM ('happy')")?;
    let s = sample();
    assert_eq!(as_text(conn, "bool", Value::Bool(false)), "false");
    assert_eq!(as_text(conn, "bytea", Value::Blob(vec![0xde, 0xad])), "\\xdead");
    assert_eq!(as_text(conn, "uuid", Value::Uuid(s.uid)), s.uid.to_string());
    assert_eq!(as_text(conn, "text", Value::Uuid(s.uid)), s.uid.to_string());
    assert_eq!(
        as_text(conn, "timestamptz", Value::Timestamp(s.at)),
        "2024-05-01 12:30:00.123456+00"
    );
    assert_eq!(as_text(conn, "timestamp", Value::Timestamp(s.at)), "2024-05-01 12:30:00.123456");
    assert_eq!(as_text(conn, "timestamp", Value::DateTime(s.local)), "2024-05-01 09:30:00.123456");
    assert_eq!(
        as_text(conn, "timestamptz", Value::DateTime(s.local)),
        "2024-05-01 09:30:00.123456+00"
    );
    assert_eq!(as_text(conn, "date", Value::Date(s.born)), "1999-12-31");
    let doc = serde_json::json!({"k": [1, "two"]});
    assert_eq!(as_text(conn, "jsonb", Value::Json(doc.clone())), r#"{"k": [1, "two"]}"#);
    assert_eq!(as_text(conn, "json", Value::Json(doc.clone())), r#"{"k":[1,"two"]}"#);
    assert_eq!(as_text(conn, "text", Value::Json(doc)), r#"{"k":[1,"two"]}"#);
    let happy = || Value::Enum { type_name: "mood", label: "happy" };
    assert_eq!(as_text(conn, "mood", happy()), "happy");
    assert_eq!(as_text(conn, "text", happy()), "happy");
    for (ty, v) in [
        ("int8", Value::Bool(true)),
        ("text", Value::Blob(vec![1])),
        ("text", Value::Int(1)),
        ("int8", Value::Uuid(s.uid)),
        ("date", Value::Timestamp(s.at)),
        ("timestamptz", Value::Date(s.born)),
        ("int8", Value::Json(serde_json::json!(1))),
        ("int8", happy()),
        ("int8[]", Value::TextArray(vec![])),
        ("text[]", Value::IntArray(vec![])),
        ("int8", Value::List(vec![Value::Int(1)])),
    ] {
        let m = bind_error(conn, ty, v.clone());
        assert!(m.starts_with("cannot bind parameter $1: "), "{v:?} as {ty}: {m}");
    }
    Ok(())
}

#[test]
fn arrays_bind_to_their_element_types_and_read_back() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch(
        "CREATE TYPE mood AS ENUM ('happy', 'sad'); \
         CREATE TABLE arr (t TEXT[], v VARCHAR(5)[], m mood[], i8 BIGINT[], i4 INT[], i2 SMALLINT[])",
    )?;
    let tags = vec!["a".to_owned(), "b c".to_owned()];
    let n = conn.execute(
        "INSERT INTO arr VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            Value::TextArray(tags.clone()),
            Value::TextArray(vec!["short".into()]),
            Value::TextArray(vec!["sad".into(), "happy".into()]),
            Value::IntArray(vec![i64::MAX]),
            Value::IntArray(vec![i64::from(i32::MIN), 0]),
            Value::IntArray(vec![]),
        ],
    )?;
    assert_eq!(n, 1);
    assert_eq!(
        rows(conn, "SELECT * FROM arr", &[])?,
        vec![vec![
            Value::TextArray(tags),
            Value::TextArray(vec!["short".into()]),
            Value::TextArray(vec!["sad".into(), "happy".into()]),
            Value::IntArray(vec![i64::MAX]),
            Value::IntArray(vec![i64::from(i32::MIN), 0]),
            Value::IntArray(vec![]),
        ]]
    );
    let m = match conn.execute("UPDATE arr SET i2 = $1", &[Value::IntArray(vec![1, 40_000])]) {
        Err(Error::InvalidUse(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(m.contains("40000 is out of range for type smallint"), "{m}");
    // Arrays with a NULL element or two dimensions do not fit Vec<String> / Vec<i64>.
    for sql in ["SELECT ARRAY['a', NULL]", "SELECT ARRAY[[1, 2], [3, 4]]::int8[]"] {
        match rows(conn, sql, &[]) {
            Err(Error::Decode { column, .. }) => assert_eq!(column, "array"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn in_lists_and_any_bind_one_array_of_the_element_type() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch(
        "CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh'); \
         CREATE TABLE p (id INT, u UUID, name TEXT, m mood, at DATE); \
         INSERT INTO p VALUES \
           (1, 'a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8', 'ann', 'happy', '2024-01-01'), \
           (2, '00000000-0000-0000-0000-000000000002', 'bob', 'sad', '2024-01-02'), \
           (3, NULL, 'cy', 'meh', NULL)",
    )?;
    let ids = |conn: &mut dyn Connection, e: Expr| -> Result<Vec<i64>> {
        let mut s = Select::from_table("p");
        s.columns = vec![Expr::Column { table: "p", name: "id" }];
        s.filter = Some(e);
        s.order_by =
            vec![orm_core::OrderBy { expr: Expr::Column { table: "p", name: "id" }, desc: false }];
        let r = DIALECT.select(&s)?;
        let mut out = Vec::new();
        conn.query(&r.sql, &r.params, &mut |row| {
            out.push(decode_at::<i64>(row, 0, "id")?);
            Ok(())
        })?;
        Ok(out)
    };
    let in_list = |name: &'static str, vals: Vec<Value>, negated: bool| Expr::InList {
        expr: Box::new(Expr::Column { table: "p", name }),
        list: vals.into_iter().map(Expr::Value).collect(),
        negated,
    };
    assert_eq!(
        ids(conn, in_list("id", vec![Value::Int(1), Value::Int(3), Value::Int(9)], false))?,
        [1, 3]
    );
    assert_eq!(ids(conn, in_list("id", vec![Value::Int(1)], true))?, [2, 3]);
    assert_eq!(ids(conn, in_list("name", vec![text("bob"), text("zed")], false))?, [2]);
    let u = Uuid::parse_str("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8").expect("uuid");
    assert_eq!(ids(conn, in_list("u", vec![Value::Uuid(u)], false))?, [1]);
    let mood = |l| Value::Enum { type_name: "mood", label: l };
    assert_eq!(ids(conn, in_list("m", vec![mood("sad"), mood("meh")], false))?, [2, 3]);
    assert_eq!(ids(conn, in_list("m", vec![text("happy")], false))?, [1]);
    let d = NaiveDate::from_ymd_opt(2024, 1, 2).expect("date");
    assert_eq!(ids(conn, in_list("at", vec![Value::Date(d), Value::Null], false))?, [2]);
    assert_eq!(ids(conn, in_list("id", vec![], false))?, Vec::<i64>::new());
    assert_eq!(ids(conn, in_list("id", vec![], true))?, [1, 2, 3]);
    // Lists of any length share one prepared statement.
    let before = db.conn.cached_statements();
    for n in 1..=20 {
        let vals = (0..n).map(Value::Int).collect();
        ids(&mut db.conn, in_list("id", vals, false))?;
    }
    assert_eq!(db.conn.cached_statements(), before);
    let m = match rows(
        &mut db.conn,
        "SELECT 1 FROM p WHERE id = ANY($1)",
        &[Value::List(vec![text("x")])],
    ) {
        Err(Error::InvalidUse(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(m.contains("text value cannot be bound to a parameter of type integer"), "{m}");
    Ok(())
}

#[test]
fn casts_of_aggregates_decode() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch(
        "CREATE TABLE n (x INT, f REAL); INSERT INTO n VALUES (1, 0.5), (2, 0.25), (4, NULL)",
    )?;
    let x = || Box::new(Expr::Column { table: "n", name: "x" });
    let mut s = Select::from_table("n");
    s.columns = vec![
        Expr::Cast {
            expr: Box::new(Expr::Func { func: orm_core::statement::Func::Sum, args: vec![*x()] }),
            ty: ColumnType::BigInt,
        },
        Expr::Cast {
            expr: Box::new(Expr::Func { func: orm_core::statement::Func::Avg, args: vec![*x()] }),
            ty: ColumnType::Double,
        },
        Expr::Func { func: orm_core::statement::Func::Max, args: vec![*x()] },
        Expr::CountStar,
    ];
    let r = DIALECT.select(&s)?;
    assert_eq!(
        rows(conn, &r.sql, &r.params)?,
        vec![vec![Value::Int(7), Value::Float(7.0 / 3.0), Value::Int(4), Value::Int(3)]]
    );
    Ok(())
}

#[test]
fn unsupported_types_are_decode_errors_naming_column_and_type() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    match rows(conn, "SELECT 1 AS a, '1 day'::interval AS gap", &[]) {
        Err(Error::Decode { column, got, .. }) => {
            assert_eq!(column, "gap");
            assert!(got.contains("interval"), "{got}");
        }
        other => panic!("{other:?}"),
    }
    // A cast in SQL reads it.
    assert_eq!(one::<String>(conn, "SELECT '1 day'::interval::text", &[])?, "1 day");
    // Domains read as their base type; oids as integers; char(n) as text.
    conn.execute_batch("CREATE DOMAIN posint AS INT CHECK (VALUE > 0)")?;
    assert_eq!(
        rows(conn, "SELECT 5::posint, 'pg_class'::regclass::oid > 0, 'ab'::char(3)", &[])?,
        vec![vec![Value::Int(5), Value::Bool(true), text("ab ")]]
    );
    Ok(())
}

#[test]
fn rows_stream_and_a_callback_error_stops_the_query() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    let mut seen = 0;
    let r = conn.query("SELECT g FROM generate_series(1, 100000) AS g", &[], &mut |row| {
        seen += 1;
        if decode_at::<i64>(row, 0, "g")? == 3 {
            return Err(Error::InvalidUse("stop".into()));
        }
        Ok(())
    });
    assert!(matches!(r, Err(Error::InvalidUse(m)) if m == "stop"));
    assert_eq!(seen, 3);
    // The connection carries on.
    assert_eq!(one::<i64>(conn, "SELECT $1::int8 + 1", &[Value::Int(41)])?, 42);
    assert!(conn.is_valid());
    Ok(())
}

#[test]
fn execute_counts_rows_and_checks_the_parameter_count() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch("CREATE TABLE c (x INT)")?;
    assert_eq!(conn.execute("INSERT INTO c SELECT generate_series(1, $1)", &[Value::Int(5)])?, 5);
    assert_eq!(conn.execute("UPDATE c SET x = x + 1 WHERE x > $1", &[Value::Int(2)])?, 3);
    assert_eq!(conn.execute("INSERT INTO c VALUES ($1) RETURNING x", &[Value::Int(9)])?, 1);
    assert_eq!(conn.execute("DELETE FROM c", &[])?, 6);
    assert!(matches!(
        conn.execute("SELECT $1::int", &[]),
        Err(Error::InvalidUse(m)) if m.contains("takes 1 parameters, 0 were given")
    ));
    Ok(())
}

#[test]
fn statements_are_cached_and_ddl_makes_them_fresh() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch("CREATE TABLE s (a INT); INSERT INTO s VALUES (1)")?;
    assert_eq!(rows(conn, "SELECT * FROM s", &[])?, vec![vec![Value::Int(1)]]);
    assert_eq!(rows(conn, "SELECT * FROM s", &[])?, vec![vec![Value::Int(1)]]);
    assert_eq!(conn.cached_statements(), 1);
    // Transaction control keeps the cache.
    conn.execute_batch("BEGIN")?;
    conn.execute_batch(&DIALECT.savepoint_sql("sp"))?;
    conn.execute_batch(&format!(
        "{}; {}",
        DIALECT.rollback_to_savepoint_sql("sp"),
        DIALECT.release_savepoint_sql("sp")
    ))?;
    conn.execute_batch("COMMIT")?;
    assert_eq!(conn.cached_statements(), 1);
    // DDL through execute_batch or execute: the next SELECT * sees the new column.
    conn.execute_batch("ALTER TABLE s ADD COLUMN b TEXT DEFAULT 'x'")?;
    assert_eq!(conn.cached_statements(), 0);
    assert_eq!(rows(conn, "SELECT * FROM s", &[])?, vec![vec![Value::Int(1), text("x")]]);
    conn.execute("ALTER TABLE s ADD COLUMN c INT DEFAULT 7", &[])?;
    assert_eq!(
        rows(conn, "SELECT * FROM s", &[])?,
        vec![vec![Value::Int(1), text("x"), Value::Int(7)]]
    );
    // A statement changed behind the cache's back fails once, then is prepared afresh.
    conn.raw()?
        .batch_execute("ALTER TABLE s DROP COLUMN c")
        .map_err(orm_postgres::error::from_postgres)?;
    assert!(rows(conn, "SELECT * FROM s", &[]).is_err());
    assert_eq!(rows(conn, "SELECT * FROM s", &[])?, vec![vec![Value::Int(1), text("x")]]);
    // A constraint violation keeps the statement.
    conn.execute_batch("CREATE UNIQUE INDEX ux_s_a ON s (a)")?;
    let before = conn.cached_statements();
    for _ in 0..2 {
        assert!(conn.execute("INSERT INTO s (a) VALUES ($1)", &[Value::Int(1)]).is_err());
    }
    assert_eq!(conn.cached_statements(), before + 1);
    // The cache is bounded.
    for i in 0..(orm_postgres::connection::STATEMENT_CACHE_CAPACITY + 10) {
        one::<i64>(conn, &format!("SELECT {i}::int8"), &[])?;
    }
    assert_eq!(conn.cached_statements(), orm_postgres::connection::STATEMENT_CACHE_CAPACITY);
    Ok(())
}

#[test]
fn a_dropped_connection_is_a_connection_error() -> Result<()> {
    let db = db();
    let mut other = common::connector(&db.schema).open()?;
    let pid: i32 = one(&mut other, "SELECT pg_backend_pid()", &[])?;
    let mut conn = db.conn;
    let killed: bool =
        one(&mut conn, "SELECT pg_terminate_backend($1)", &[Value::Int(i64::from(pid))])?;
    assert!(killed);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let e = other.execute("SELECT 1", &[]).expect_err("the server closed it");
    assert!(matches!(e, Error::Connection { .. }), "{e:?}");
    assert!(!other.is_valid());
    Ok(())
}
