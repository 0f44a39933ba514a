//! `NUMERIC` as `rust_decimal::Decimal` (the `decimal` feature): `cargo test -p orm-postgres
//! --features decimal`.
#![cfg(feature = "decimal")]

mod common;

use common::{db, one, rows, text};
use orm_core::schema::{ColumnSchema, ColumnType};
use orm_core::{Connection, Decimal, Dialect, Error, Result, Value, ValueRef};
use orm_postgres::DIALECT;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn numeric_columns_render_and_round_trip_exactly() -> Result<()> {
    assert_eq!(
        DIALECT.sql_type(ColumnSchema::new("amount", ColumnType::Numeric).ty, None),
        "NUMERIC"
    );
    let mut db = db();
    let conn = &mut db.conn;
    conn.execute_batch("CREATE TABLE money (id INT, amount NUMERIC, fixed NUMERIC(10, 2))")?;
    let values = ["19.99", "-0.000000000000000000000000001", "7922816251426433759354395033", "0"];
    for (i, v) in values.iter().enumerate() {
        conn.execute(
            "INSERT INTO money VALUES ($1, $2, $3)",
            &[Value::Int(i64::try_from(i).expect("small")), Value::Decimal(dec(v)), Value::Int(5)],
        )?;
    }
    let got = rows(conn, "SELECT amount, fixed FROM money ORDER BY id", &[])?;
    let expected: Vec<Vec<Value>> =
        values.iter().map(|v| vec![Value::Decimal(dec(v)), Value::Decimal(dec("5.00"))]).collect();
    assert_eq!(got, expected);
    assert_eq!(one::<String>(conn, "SELECT amount::text FROM money WHERE id = 0", &[])?, "19.99");
    conn.query("SELECT fixed FROM money LIMIT 1", &[], &mut |row| {
        assert_eq!(row.get(0)?, ValueRef::Decimal(dec("5.00")));
        Ok(())
    })?;
    Ok(())
}

#[test]
fn sums_read_into_decimal_i64_and_f64() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    let sum = "SELECT SUM(x) FROM (VALUES (1::int8), (2)) AS v(x)";
    assert_eq!(one::<Decimal>(conn, sum, &[])?, dec("3"));
    assert_eq!(one::<i64>(conn, sum, &[])?, 3);
    assert_eq!(one::<f64>(conn, sum, &[])?, 3.0);
    assert_eq!(one::<f64>(conn, "SELECT 2.5::numeric", &[])?, 2.5);
    match one::<i64>(conn, "SELECT 2.5::numeric", &[]) {
        Err(Error::Decode { expected: "i64", got, .. }) => assert_eq!(got, "decimal 2.5"),
        other => panic!("{other:?}"),
    }
    // What no Decimal holds reads as a float.
    let nan: f64 = one(conn, "SELECT 'NaN'::numeric", &[])?;
    assert!(nan.is_nan());
    assert_eq!(
        rows(conn, "SELECT 123456789012345678901234567890123::numeric", &[])?,
        vec![vec![Value::Float(1.234_567_890_123_456_8e32)]]
    );
    Ok(())
}

#[test]
fn decimals_bind_by_the_inferred_type() -> Result<()> {
    let mut db = db();
    let conn = &mut db.conn;
    let d = || Value::Decimal(dec("12.50"));
    assert_eq!(one::<f64>(conn, "SELECT $1::float8", &[d()])?, 12.5);
    assert_eq!(one::<String>(conn, "SELECT $1::text", &[d()])?, "12.50");
    assert_eq!(one::<i64>(conn, "SELECT $1::int8", &[Value::Decimal(dec("12"))])?, 12);
    assert!(matches!(
        rows(conn, "SELECT $1::int8", &[d()]),
        Err(Error::InvalidUse(m)) if m.contains("not a whole number")
    ));
    assert!(matches!(rows(conn, "SELECT $1::uuid", &[d()]), Err(Error::InvalidUse(_))));
    // Text and integers bind to numeric too.
    assert_eq!(one::<Decimal>(conn, "SELECT $1::numeric", &[Value::Int(-4)])?, dec("-4"));
    assert!(matches!(rows(conn, "SELECT $1::numeric", &[text("1.5")]), Err(Error::InvalidUse(_))));
    Ok(())
}
