//! `orm_decimal_cmp`, the function behind SQLite's typed comparisons with a `Decimal`: exact
//! on every form a decimal column can hold (this ORM's text, another writer's integers, floats
//! and texts), through SQL as the dialect writes it.

use orm_core::Value;
use orm_sqlite::value::compare_decimals;
use rusqlite::types::ValueRef;
use std::cmp::Ordering::{self, Equal, Greater, Less};

fn t(s: &str) -> ValueRef<'_> {
    ValueRef::Text(s.as_bytes())
}

#[test]
fn compares_by_value() {
    let cases: &[(ValueRef<'_>, ValueRef<'_>, Ordering)] = &[
        (t("10.00"), t("9.99"), Greater),
        (t("9.99"), t("10"), Less),
        (t("2.50"), t("2.5"), Equal),
        (t("0"), t("-0.000"), Equal),
        (t("0.0000000000000000000000000001"), t("0"), Greater),
        (t("1e-30"), t("0.000000000000000000000000000001"), Equal),
        (t("12345678901234567890.12"), t("12345678901234567890.13"), Less),
        (t("123456789012345678901234567890.5"), t("123456789012345678901234567890"), Greater),
        (t("-10.00"), t("-5.5"), Less),
        (t("-0.5"), t("0.25"), Less),
        (t("+7"), t("7.0"), Equal),
        (t(".5"), t("0.5"), Equal),
        (t("5."), t("5"), Equal),
        (t("1.5E+3"), t("1500"), Equal),
        (t("007.10"), t("7.1"), Equal),
        (t(" 3 "), t("3"), Equal),
        (ValueRef::Integer(10), t("9.99"), Greater),
        (ValueRef::Integer(i64::MIN), t("-9223372036854775808.5"), Greater),
        (ValueRef::Real(0.99), t("0.99"), Equal),
        (ValueRef::Real(-2.5), ValueRef::Integer(-2), Less),
    ];
    for (a, b, want) in cases {
        assert_eq!(compare_decimals(*a, *b), Ok(Some(*want)), "{a:?} vs {b:?}");
        assert_eq!(compare_decimals(*b, *a), Ok(Some(want.reverse())), "{b:?} vs {a:?}");
    }
}

#[test]
fn null_is_unknown_and_non_numbers_are_errors() {
    assert_eq!(compare_decimals(ValueRef::Null, t("1")), Ok(None));
    assert_eq!(compare_decimals(t("1"), ValueRef::Null), Ok(None));
    for bad in ["ten", "", ".", "-", "1e", "1.2.3", "1e99999999999999999999", "NaN", "0x10"] {
        let e = compare_decimals(t(bad), t("1")).expect_err(bad);
        assert!(e.contains("is not a decimal number"), "{bad:?}: {e}");
    }
    assert!(compare_decimals(ValueRef::Blob(b"1"), t("1")).is_err());
    assert!(compare_decimals(ValueRef::Real(f64::INFINITY), t("1")).is_err());
    // An exponent whose digits' position overflows is an error, not a wrong order.
    assert!(compare_decimals(t("1e9223372036854775807"), t("1")).is_err());
}

#[test]
fn the_function_is_registered_on_every_connection() {
    let mut conn =
        orm_sqlite::connector("sqlite::memory:").and_then(|c| c.connect()).expect("connect");
    let mut got = Vec::new();
    conn.query(
        "SELECT orm_decimal_cmp(?1, ?2), orm_decimal_cmp(NULL, 1)",
        &[Value::Text("10.00".into()), Value::Text("9.99".into())],
        &mut |r| {
            got.push(orm_core::connection::decode_at::<i64>(r, 0, "cmp")?);
            got.push(orm_core::connection::decode_at::<Option<i64>>(r, 1, "null")?.unwrap_or(99));
            Ok(())
        },
    )
    .expect("query");
    assert_eq!(got, [1, 99]);
    let e = conn.execute("SELECT orm_decimal_cmp('ten', 1)", &[]).expect_err("not a number");
    assert!(e.to_string().contains(r#""ten" is not a decimal number"#), "{e}");
}

/// Two decimal texts without exponent are compared without allocating; written with an
/// exponent (`e0`) they go the general way. Both ways agree on every pair of a set of values
/// that break a naive comparison (signs, zeros, leading and trailing zeros, lengths).
#[test]
fn plain_texts_compare_as_the_general_way_does() {
    let values = [
        "0",
        "-0",
        "+0",
        "0.000",
        "00.10",
        ".5",
        "5.",
        "-.5",
        "1",
        "-1",
        "10",
        "9.99",
        "10.00",
        "010",
        "-10.00",
        "-9.99",
        "0.05",
        "0.5",
        "0.50",
        "12345678901234567890.12",
        "12345678901234567890.13",
        "-12345678901234567890.12",
        "0.0000000000000000000000000001",
        "100",
        "99.999999999999999999999",
        "+3.25",
    ];
    for a in values {
        for b in values {
            let fast = compare_decimals(t(a), t(b)).unwrap();
            let (ea, eb) = (format!("{a}e0"), format!("{b}e0"));
            let general = compare_decimals(t(&ea), t(&eb)).unwrap();
            assert_eq!(fast, general, "{a} against {b}");
        }
    }
}
