//! `rust_decimal::Decimal` columns (the `decimal` feature) on both backends: stored exactly
//! (NUMERIC on PostgreSQL, the decimal's text in a `DECIMAL_TEXT` column on SQLite), read back
//! with their scale, and compared by value in filters, so that each filter gives the same rows
//! on both. The values are the ones that break the naive choices: `10.00` sorts before `9.99`
//! as text, a REAL keeps 15 significant digits, `1e-28` is not 0, `2.50` is `2.5`.

mod common;

use common::{backend_tests, Backend};
use orm::prelude::*;
use orm::testing::StatementLog;
use orm::{Decimal, Error, Value};

backend_tests! {
    decimals_read_back_exactly,
    filters_compare_decimals_by_value,
    a_decimal_in_arithmetic_is_refused_on_sqlite,
    text_that_is_no_number_is_an_error_not_an_answer,
    order_groups_and_extremes_go_by_value_and_sums_are_not_floats,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "dec_products")]
struct Product {
    #[orm(primary_key)]
    id: i64,
    price: Decimal,
    discount: Option<Decimal>,
}

#[derive(FromRow)]
struct Stored {
    t: String,
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Prices by id: 1..=10.
const PRICES: &[&str] = &[
    "9.99",
    "10.00",
    "0.0000000000000000000000000001",
    "12345678901234567890.12",
    "12345678901234567890.13",
    "-5.5",
    "-10.00",
    "2.50",
    "2.5",
    "0",
];

fn database(backend: Backend) -> Database {
    let db = backend.database(&[Product::TABLE]);
    let mut s = db.session();
    for (i, p) in PRICES.iter().enumerate() {
        let discount = (i % 3 == 0).then(|| dec(p));
        s.add(Product { id: i64::try_from(i).unwrap() + 1, price: dec(p), discount });
    }
    s.commit().unwrap_or_else(|e| panic!("{backend}: {e}"));
    db
}

fn decimals_read_back_exactly(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    let rows = s.query::<Product>().order_by(Product::id.asc()).all().unwrap();
    // The same text, scale included (`10.00` is not written back as `10`).
    let texts: Vec<String> = rows.iter().map(|p| p.price.to_string()).collect();
    assert_eq!(texts, PRICES, "{backend}");
    // Not the REAL SQLite's NUMERIC affinity would have made of it.
    let stored: Vec<String> = s
        .sql("SELECT CAST(price AS TEXT) AS t FROM dec_products WHERE id = 4")
        .all::<Stored>()
        .unwrap()
        .into_iter()
        .map(|r| r.t)
        .collect();
    assert_eq!(stored, ["12345678901234567890.12"], "{backend}");
    // Written by an UPDATE too, and NULL stays NULL.
    let mut p = rows[0].clone();
    p.price = dec("-0.0000000000000000000000000001");
    p.discount = None;
    s.add(p);
    s.commit().unwrap();
    let mut fresh = db.session();
    let back = fresh.get::<Product>(1).unwrap().expect("row 1");
    assert_eq!(
        (back.price.to_string(), back.discount),
        ("-0.0000000000000000000000000001".into(), None),
        "{backend}"
    );
}

fn ids(s: &mut Session, filter: Expr) -> Vec<i64> {
    let mut found: Vec<i64> =
        s.query::<Product>().filter(filter).all().unwrap().into_iter().map(|p| p.id).collect();
    found.sort_unstable();
    found
}

fn filters_compare_decimals_by_value(backend: Backend) {
    let db = database(backend);
    let log = StatementLog::attach(&db);
    let mut s = db.session();
    // 10.00 and the two 20-digit prices are above 9.99; as text, '10.00' and '1234...' are not.
    assert_eq!(ids(&mut s, Product::price.gt(dec("9.99"))), [2, 4, 5], "{backend}");
    if backend == Backend::Sqlite {
        let sql = log.queries().pop().expect("the query");
        assert!(sql.ends_with(r#"WHERE orm_decimal_cmp("dec_products"."price", ?1) > 0"#), "{sql}");
    }
    assert_eq!(ids(&mut s, Product::price.ge(dec("10"))), [2, 4, 5], "{backend}");
    // 20 digits apart by one cent: a REAL would make them equal.
    assert_eq!(ids(&mut s, Product::price.gt(dec("12345678901234567890.12"))), [5], "{backend}");
    assert_eq!(ids(&mut s, Product::price.eq(dec("12345678901234567890.12"))), [4], "{backend}");
    // 1e-28 is above zero; zero is not negative.
    assert_eq!(ids(&mut s, Product::price.gt(dec("0"))), [1, 2, 3, 4, 5, 8, 9], "{backend}");
    assert_eq!(ids(&mut s, Product::price.lt(dec("0"))), [6, 7], "{backend}");
    assert_eq!(ids(&mut s, Product::price.le(dec("-5.50"))), [6, 7], "{backend}");
    assert_eq!(ids(&mut s, Product::price.lt(dec("-5.5"))), [7], "{backend}");
    // Trailing zeros do not count: 2.5 = 2.50, 10 = 10.00, 0 = 0.000.
    assert_eq!(ids(&mut s, Product::price.eq(dec("2.5"))), [8, 9], "{backend}");
    assert_eq!(ids(&mut s, Product::price.eq(dec("10"))), [2], "{backend}");
    assert_eq!(ids(&mut s, Product::price.eq(dec("0.000"))), [10], "{backend}");
    assert_eq!(
        ids(&mut s, Product::price.ne(dec("2.500"))),
        [1, 2, 3, 4, 5, 6, 7, 10],
        "{backend}"
    );
    assert_eq!(
        ids(&mut s, Product::price.between(dec("-10"), dec("2.5"))),
        [3, 6, 7, 8, 9, 10],
        "{backend}"
    );
    let where_of = |log: &StatementLog| {
        let sql = log.queries().pop().expect("the query");
        sql[sql.find(" WHERE ").expect("a WHERE")..].to_owned()
    };
    if backend == Backend::Sqlite {
        assert_eq!(
            where_of(&log),
            r#" WHERE (orm_decimal_cmp("dec_products"."price", ?1) >= 0 AND orm_decimal_cmp("dec_products"."price", ?2) <= 0)"#
        );
    }
    assert_eq!(
        ids(&mut s, Product::price.in_list([dec("10"), dec("0.0000000000000000000000000001")])),
        [2, 3],
        "{backend}"
    );
    if backend == Backend::Sqlite {
        assert_eq!(
            where_of(&log),
            r#" WHERE (orm_decimal_cmp("dec_products"."price", ?1) = 0 OR orm_decimal_cmp("dec_products"."price", ?2) = 0)"#
        );
    }
    assert_eq!(
        ids(&mut s, Product::price.not_in_list([dec("9.990"), dec("2.5"), dec("-10")])),
        [2, 3, 4, 5, 6, 10],
        "{backend}"
    );
    // NULL compares as NULL: the rows without a discount are in neither half.
    assert_eq!(ids(&mut s, Product::discount.gt(dec("0"))), [1, 4], "{backend}");
    assert_eq!(ids(&mut s, Product::discount.le(dec("0"))), [7, 10], "{backend}");
    assert_eq!(ids(&mut s, Product::discount.is_null()), [2, 3, 5, 6, 8, 9], "{backend}");
}

fn a_decimal_in_arithmetic_is_refused_on_sqlite(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    let doubled = Expr::binary(
        Product::price.expr(),
        orm::statement::BinaryOp::Mul,
        Expr::Value(Value::Decimal(dec("2"))),
    );
    let found = s
        .query::<Product>()
        .filter(Expr::binary(
            doubled,
            orm::statement::BinaryOp::Gt,
            Expr::Value(Value::Decimal(dec("20"))),
        ))
        .all();
    match backend {
        Backend::Postgres => {
            let ids: Vec<i64> = found.unwrap().into_iter().map(|p| p.id).collect();
            assert_eq!(ids.len(), 2, "{backend}: {ids:?}");
        }
        Backend::Sqlite => match found {
            Err(Error::Unsupported { backend: "sqlite", what }) => {
                assert!(what.starts_with("arithmetic with a Decimal"), "{what}")
            }
            other => panic!("{backend}: {other:?}"),
        },
    }
}

/// A value no decimal stands for: PostgreSQL refuses to store it; SQLite stores anything, and
/// a comparison that meets it is an error naming it, never a row silently in or out.
fn text_that_is_no_number_is_an_error_not_an_answer(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    let stored = s.sql("INSERT INTO dec_products (id, price) VALUES (99, 'ten')").execute();
    match backend {
        Backend::Postgres => assert!(stored.is_err(), "{backend}: {stored:?}"),
        Backend::Sqlite => {
            stored.expect("SQLite stores any text");
            s.commit().unwrap();
            let found = s.query::<Product>().filter(Product::price.gt(dec("1"))).all();
            let e = found.expect_err("a comparison with 'ten'");
            assert!(e.to_string().contains(r#""ten" is not a decimal number"#), "{e}");
        }
    }
}

/// Sorting, MIN / MAX, GROUP BY and DISTINCT of a decimal column go by value on both backends
/// (on SQLite, the column's `orm_decimal` collation): `10.00` after `9.99`, `2.50` and `2.5` one
/// value. A SUM, which SQLite would add in floating point, is refused there.
fn order_groups_and_extremes_go_by_value_and_sums_are_not_floats(backend: Backend) {
    let db = database(backend);
    let mut s = db.session();
    let by_price: Vec<i64> = s
        .query::<Product>()
        .order_by(Product::price.asc())
        .order_by(Product::id.asc())
        .all()
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(by_price, [7, 6, 10, 3, 8, 9, 1, 2, 4, 5], "{backend}");
    let extremes: Vec<(Option<Decimal>, Option<Decimal>)> =
        s.query::<Product>().select((min(Product::price), max(Product::price))).all().unwrap();
    assert_eq!(
        extremes,
        [(Some(dec("-10.00")), Some(dec("12345678901234567890.13")))],
        "{backend}"
    );
    let groups: Vec<(Decimal, i64)> = s
        .query::<Product>()
        .select((Product::price, count_star()))
        .group_by(Product::price)
        .having(count_star().gt(1))
        .all()
        .unwrap();
    assert_eq!(groups.len(), 1, "{backend}: {groups:?}");
    assert_eq!((groups[0].0, groups[0].1), (dec("2.5"), 2), "{backend}");
    let total = s.query::<Product>().select(sum(Product::price)).all();
    match backend {
        Backend::Postgres => {
            let total: Vec<Option<Decimal>> = total.unwrap();
            // 28 significant digits: the 1e-28 falls out of the sum, in Rust as in the reading.
            let expected: Decimal = PRICES.iter().map(|p| dec(p)).sum();
            assert_eq!(total, [Some(expected)], "{backend}");
            assert_eq!(expected, dec("24691357802469135789.74"));
        }
        Backend::Sqlite => match total {
            Err(Error::Unsupported { backend: "sqlite", what }) => {
                assert!(what.starts_with("a decimal computed in the database"), "{what}")
            }
            other => panic!("{backend}: {other:?}"),
        },
    }
}
