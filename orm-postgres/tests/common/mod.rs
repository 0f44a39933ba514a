//! Shared helpers: a connection to an empty schema of its own on the test server (see
//! `orm_postgres::test_server`; no server is a loud failure, never a skipped test), and small
//! readers of query results.
#![allow(dead_code)]

use orm_core::connection::decode_at;
use orm_core::schema::TableSchema;
use orm_core::{Connection, Error, FromValue, Result, Value};
use orm_postgres::test_server::TestSchema;
use orm_postgres::{PgConnection, PgConnector, DIALECT};

/// A connection and the schema it works in. The connection is dropped first, so the schema's
/// `DROP SCHEMA ... CASCADE` never waits on it.
pub struct Db {
    pub conn: PgConnection,
    pub schema: TestSchema,
}

/// A fresh empty schema and a connection to it.
pub fn db() -> Db {
    let schema =
        TestSchema::create().expect("a PostgreSQL test server (see orm_postgres::test_server)");
    let conn = connector(&schema).open().expect("connect to the test schema");
    Db { conn, schema }
}

/// The connector of a test schema's URL.
pub fn connector(schema: &TestSchema) -> PgConnector {
    PgConnector::from_url(schema.url()).expect("test schema URL")
}

/// All rows of a query as owned values.
pub fn rows(conn: &mut dyn Connection, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>> {
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
pub fn one<T: FromValue>(conn: &mut dyn Connection, sql: &str, params: &[Value]) -> Result<T> {
    let mut v = None;
    conn.query(sql, params, &mut |row| {
        v = Some(decode_at::<T>(row, 0, "value")?);
        Ok(())
    })?;
    v.ok_or_else(|| Error::NotFound(sql.to_owned()))
}

/// Creates a table with its enum types, with the statements `Engine::create_all` runs on an
/// empty database.
pub fn create(conn: &mut dyn Connection, t: &TableSchema) {
    for st in orm_core::migrate::create_statements(&DIALECT, &[t]).expect("DDL") {
        let sql = st.to_script();
        conn.execute_batch(&sql).expect(&sql);
    }
}

pub fn text(s: &str) -> Value {
    Value::Text(s.into())
}
