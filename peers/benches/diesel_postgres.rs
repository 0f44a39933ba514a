//! Diesel 2.3 on Diesel's benchmark workloads, PostgreSQL: the server named by
//! `ORM_TEST_POSTGRES_URL` (as the ORM's benches read it; `tools/bench/run.sh` starts one and
//! sets it). Each workload gets a fresh schema, dropped at the end.
//! `ORM_TEST_POSTGRES_URL=postgresql://... cargo bench --bench diesel_postgres` in `peers/`.

mod common;

use criterion::Criterion;
use diesel::{Connection, PgConnection, RunQueryDsl};

type TestConnection = PgConnection;
const BACKEND: &str = "postgres";

fn main() {
    let url = std::env::var("ORM_TEST_POSTGRES_URL")
        .expect("ORM_TEST_POSTGRES_URL must name a PostgreSQL server (tools/bench/run.sh sets it)");
    let mut schemas = Vec::new();
    let fresh = || {
        let name = format!("diesel_bench_{}_{}", std::process::id(), schemas.len());
        let mut conn = PgConnection::establish(&url).expect("connect");
        diesel::sql_query(format!("CREATE SCHEMA \"{name}\"")).execute(&mut conn).expect("schema");
        diesel::sql_query(format!("SET search_path TO \"{name}\""))
            .execute(&mut conn)
            .expect("search_path");
        for stmt in common::spec::POSTGRES_SCHEMA {
            diesel::sql_query(*stmt).execute(&mut conn).expect("schema");
        }
        schemas.push(name);
        conn
    };
    let mut c = Criterion::default().configure_from_args();
    common::all(&mut c, fresh, common::spec::ASSOC_USERS_POSTGRES);
    c.final_summary();
    let mut conn = PgConnection::establish(&url).expect("connect");
    for name in &schemas {
        diesel::sql_query(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
            .execute(&mut conn)
            .expect("drop schema");
    }
}
