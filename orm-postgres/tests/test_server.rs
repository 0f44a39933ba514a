//! The throwaway test server starts, hands out isolated schemas, and drops them.

use orm_postgres::test_server::{url, TestSchema};

#[test]
fn schemas_are_isolated_and_dropped() {
    let base = url().expect("a PostgreSQL test server");
    let a = TestSchema::create().unwrap();
    let b = TestSchema::create().unwrap();
    assert_ne!(a.name(), b.name());
    let mut ca = postgres::Client::connect(a.url(), postgres::NoTls).unwrap();
    ca.batch_execute("CREATE TABLE t (x INT); INSERT INTO t VALUES (1)").unwrap();
    let mut cb = postgres::Client::connect(b.url(), postgres::NoTls).unwrap();
    let n: i64 = cb
        .query_one("SELECT count(*) FROM information_schema.tables WHERE table_name = 't' AND table_schema = current_schema()", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "schema b does not see schema a's table");
    let name = a.name().to_owned();
    drop(ca);
    drop(a);
    let mut c = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the schema is dropped with its guard");
}
