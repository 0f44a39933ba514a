//! SQL types that no Rust type names, declared on the field: `precision` / `scale` on a
//! `Decimal` (`NUMERIC(10, 2)`) and `sql_type = "..."` (`char(2)`, `varchar`, `json`,
//! `integer[]`). The README's `Product` (Models: SQL types a Rust type does not name) is created
//! on each backend, written and read back, and `check` finds the database as declared; what the
//! declared type refuses is refused (PostgreSQL keeps a precision and 32-bit array elements;
//! SQLite keeps neither).

mod common;

use common::{backend_tests, Backend};
use orm::migrate::{autogenerate, Migrator, Revisions};
use orm::prelude::*;
use orm::{Decimal, Model};

backend_tests! {
    declared_types_round_trip_and_check_clean,
    check_compares_declared_types_as_the_database_writes_them,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "products")]
struct Product {
    #[orm(primary_key)]
    id: i64,
    #[orm(precision = 10, scale = 2)]
    price: Decimal,
    #[orm(sql_type = "char(2)")]
    country: String,
    #[orm(sql_type = "varchar")]
    note: Option<String>,
    #[orm(sql_type = "json")]
    raw: serde_json::Value,
    #[orm(sql_type = "integer[]")]
    lucky: Vec<i64>,
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("a decimal")
}

/// The model's schema: the declared types, verbatim.
#[test]
fn the_schema_holds_the_declared_types() {
    let ty = |name: &str| {
        Product::TABLE.columns.iter().find(|c| c.name == name).map(|c| c.ty).expect("a column")
    };
    assert_eq!(ty("price"), orm::ColumnType::Custom("NUMERIC(10, 2)"));
    assert_eq!(ty("country"), orm::ColumnType::Custom("char(2)"));
    assert_eq!(ty("note"), orm::ColumnType::Custom("varchar"));
    assert_eq!(ty("raw"), orm::ColumnType::Custom("json"));
    assert_eq!(ty("lucky"), orm::ColumnType::Custom("integer[]"));
    assert_eq!(ty("id"), orm::ColumnType::BigInt);
}

fn migrated(backend: Backend) -> (Database, Revisions) {
    let db = backend.database(&[]);
    let none = Revisions::new(Vec::new()).expect("no revisions");
    let rev = autogenerate(&none, &[Product::TABLE], "products").expect("autogenerate");
    let rev = rev.expect("a revision");
    let file = rev.to_toml();
    let revisions =
        Revisions::from_sources(&[(rev.file_name().as_str(), file.as_str())]).expect("revisions");
    Migrator::new(db.engine(), &revisions).upgrade("head").expect("upgrade");
    (db, revisions)
}

fn declared_types_round_trip_and_check_clean(backend: Backend) {
    let (db, revisions) = migrated(backend);
    let differences = Migrator::new(db.engine(), &revisions).database_differences();
    assert_eq!(differences.expect("check"), Vec::<String>::new(), "{backend}");

    let mut s = db.session();
    let product = Product {
        id: 0,
        price: dec("19.99"),
        country: "FR".into(),
        note: Some("a note of any length".into()),
        raw: serde_json::json!({"b": 1, "a": [true, null]}),
        lucky: vec![7, -2_147_483_648, 2_147_483_647],
    };
    let saved = s.save(product.clone()).expect("save");
    s.commit().expect("commit");
    let mut s = db.session();
    let back = s.query::<Product>().filter(Product::price.eq(dec("19.990"))).one().expect("one");
    assert_eq!(back, Product { id: saved.id, ..product.clone() }, "{backend}");
    match backend {
        Backend::Postgres => {
            let types: Vec<(String, String)> = s
                .sql("SELECT pg_typeof(raw)::text, pg_typeof(lucky)::text FROM products")
                .all()
                .expect("types");
            assert_eq!(types[0], ("json".into(), "integer[]".into()), "{backend}");
            // char(2) is padded, so a shorter code reads back with a space.
            let mut one = back.clone();
            one.country = "X".into();
            s.save(one).expect("save");
            s.commit().expect("commit");
            let again = s.query::<Product>().populate_existing().one().expect("one");
            assert_eq!(again.country, "X ", "{backend}: character(n) pads");
            // Too long for char(2), more digits than numeric(10,2), more than 32 bits.
            let mut long = again.clone();
            long.country = "FRA".into();
            let err = s.save(long).expect_err("char(2)");
            assert!(err.to_string().contains("too long"), "{backend}: {err}");
            s.rollback().expect("rollback");
            let mut big = again.clone();
            big.price = dec("123456789.5");
            let err = s.save(big).expect_err("numeric(10,2)");
            assert!(err.to_string().contains("numeric field overflow"), "{backend}: {err}");
            s.rollback().expect("rollback");
            let mut wide = again;
            wide.lucky = vec![2_147_483_648];
            let err = s.save(wide).expect_err("integer[]");
            assert!(err.to_string().contains("out of range for type integer"), "{backend}: {err}");
        }
        Backend::Sqlite => {
            // SQLite keeps no length and no precision: the declared type is its affinity.
            let mut long = back;
            long.country = "FRA".into();
            long.price = dec("123456789.5");
            s.save(long.clone()).expect("SQLite enforces neither");
            s.commit().expect("commit");
            let again = s.query::<Product>().populate_existing().one().expect("one");
            assert_eq!(again, long, "{backend}");
            // `json` has NUMERIC affinity on SQLite: a JSON number is stored as a number, and
            // still reads back as JSON.
            for raw in [serde_json::json!(5), serde_json::json!(2.5)] {
                let mut number = again.clone();
                number.raw = raw.clone();
                s.save(number).expect("save");
                s.commit().expect("commit");
                let stored: Vec<(String,)> =
                    s.sql("SELECT typeof(raw) FROM products").all().expect("typeof");
                assert_ne!(stored[0].0, "text", "{backend}: {raw}");
                let back = s.query::<Product>().populate_existing().one().expect("one");
                assert_eq!(back.raw, raw, "{backend}");
            }
        }
    }
}

/// `check` reads a declared type as the database writes it back: `char(2)` is PostgreSQL's
/// `character(2)` and SQLite's text of 2, so a database made by a script that spells the types
/// its own way checks clean, and one of other types does not.
fn check_compares_declared_types_as_the_database_writes_them(backend: Backend) {
    let (db, revisions) = migrated(backend);
    let spelled = match backend {
        Backend::Postgres => {
            "CREATE TABLE products (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
             price decimal(10,2) NOT NULL, country character(2) NOT NULL, note character varying, \
             raw json NOT NULL, lucky int4[] NOT NULL)"
        }
        Backend::Sqlite => {
            "CREATE TABLE products (id INTEGER PRIMARY KEY NOT NULL, price DECIMAL(10,2) NOT NULL, \
             country CHARACTER(2) NOT NULL, note VARCHAR, raw json NOT NULL, \
             lucky integer[] NOT NULL)"
        }
    };
    let mut s = db.session();
    s.sql("DROP TABLE products").execute().expect("drop");
    s.sql(spelled).execute().expect("create");
    s.commit().expect("commit");
    let m = Migrator::new(db.engine(), &revisions);
    assert_eq!(m.database_differences().expect("check"), Vec::<String>::new(), "{backend}");

    let other = match backend {
        Backend::Postgres => "ALTER TABLE products ALTER COLUMN country TYPE varchar(2)",
        Backend::Sqlite => "ALTER TABLE products RENAME COLUMN country TO land",
    };
    s.sql(other).execute().expect("alter");
    s.commit().expect("commit");
    let differences = m.database_differences().expect("check").join("\n");
    assert!(differences.contains("country"), "{backend}: {differences}");
}
