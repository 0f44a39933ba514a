//! Values across the rusqlite boundary: [`Bind`] binds an [`orm_core::Value`] in its documented
//! SQLite form, and [`value_ref`] turns a value borrowed from a rusqlite row into an
//! [`orm_core::ValueRef`] without copying it.
//!
//! Stored forms (see the crate docs for the column types that hold them):
//!
//! | `Value` | SQLite storage |
//! |---|---|
//! | `Null`, `Int`, `Float`, `Text`, `Blob` | themselves |
//! | `Bool` | INTEGER 0 / 1 |
//! | `Uuid` | TEXT, hyphenated lowercase |
//! | `Timestamp` | TEXT, [`TIMESTAMPTZ_TEXT_FORMAT`] in UTC (`2024-05-01 12:30:00.000000`) |
//! | `DateTime` | TEXT, [`TIMESTAMP_TEXT_FORMAT`] (`2024-05-01 12:30:00.000000`) |
//! | `Date` | TEXT, [`DATE_TEXT_FORMAT`] (`2024-05-01`) |
//! | `Json` | TEXT, compact JSON |
//! | `TextArray`, `IntArray` | TEXT, a JSON array |
//! | `Enum` | TEXT, the label |
//! | `Decimal` (feature `decimal`) | TEXT, the exact decimal with its scale (`-12.50`) |
//!
//! `Default` (a `DbDefault::Default` field) is never bound: an INSERT leaves its column out.

use orm_core::value::{
    DATE_TEXT_FORMAT, DEFAULT_NOT_BINDABLE, TIMESTAMPTZ_TEXT_FORMAT, TIMESTAMP_TEXT_FORMAT,
};
use orm_core::{DecodeError, Value, ValueRef};
use rusqlite::types::{ToSql, ToSqlOutput, Value as SqlValue, ValueRef as SqlValueRef};

/// An [`orm_core::Value`] as a rusqlite parameter. Plain values are bound borrowed; only the
/// forms that must be formatted (UUID, times, JSON) allocate their text.
#[derive(Debug, Clone, Copy)]
pub struct Bind<'a>(pub &'a Value);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(SqlValueRef::Null),
            Value::Bool(b) => ToSqlOutput::Borrowed(SqlValueRef::Integer(i64::from(*b))),
            Value::Int(i) => ToSqlOutput::Borrowed(SqlValueRef::Integer(*i)),
            Value::Float(f) => ToSqlOutput::Borrowed(SqlValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(SqlValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(SqlValueRef::Blob(b)),
            Value::Uuid(u) => text(u.hyphenated().to_string()),
            Value::Timestamp(t) => text(t.format(TIMESTAMPTZ_TEXT_FORMAT).to_string()),
            Value::DateTime(t) => text(t.format(TIMESTAMP_TEXT_FORMAT).to_string()),
            Value::Date(d) => text(d.format(DATE_TEXT_FORMAT).to_string()),
            Value::Json(j) => text(j.to_string()),
            Value::TextArray(a) => text(json(serde_json::to_string(a))?),
            Value::IntArray(a) => text(json(serde_json::to_string(a))?),
            Value::Enum { label, .. } => ToSqlOutput::Borrowed(SqlValueRef::Text(label.as_bytes())),
            // Plain notation, never an exponent: `Decimal`'s `Display`.
            #[cfg(feature = "decimal")]
            Value::Decimal(d) => text(d.to_string()),
            Value::Default => {
                return Err(rusqlite::Error::ToSqlConversionFailure(DEFAULT_NOT_BINDABLE.into()))
            }
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    format!("a {} value cannot be bound on SQLite", other.kind()).into(),
                ))
            }
        })
    }
}

fn text(s: String) -> ToSqlOutput<'static> {
    ToSqlOutput::Owned(SqlValue::Text(s))
}

fn json(r: serde_json::Result<String>) -> rusqlite::Result<String> {
    r.map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// A value borrowed from a rusqlite row, as the core's [`ValueRef`]. Text that is not UTF-8 is a
/// [`DecodeError`] (SQLite does not check what it is given as text).
pub fn value_ref(v: SqlValueRef<'_>) -> Result<ValueRef<'_>, DecodeError> {
    Ok(match v {
        SqlValueRef::Null => ValueRef::Null,
        SqlValueRef::Integer(i) => ValueRef::Int(i),
        SqlValueRef::Real(f) => ValueRef::Float(f),
        SqlValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
            Ok(s) => ValueRef::Text(s),
            Err(e) => {
                return Err(DecodeError::new(
                    "UTF-8 text",
                    format!("text of {} bytes that is not UTF-8 ({e})", bytes.len()),
                ))
            }
        },
        SqlValueRef::Blob(b) => ValueRef::Blob(b),
    })
}

/// The SQL function that compares two decimals by value: `orm_decimal_cmp(a, b)` is -1, 0 or 1
/// as `a` is less than, equal to or greater than `b`, and NULL when either is NULL. The
/// dialect writes the typed comparisons with a bound `Decimal` with it (`price > ?1` as
/// `orm_decimal_cmp(price, ?1) > 0`), since SQLite compares the decimal texts this backend
/// stores character by character (`'10.00' < '9.99'`). Registered on every connection
/// ([`crate::connection::register_functions`]).
pub const DECIMAL_CMP_FUNCTION: &str = "orm_decimal_cmp";

/// The collation of `DECIMAL_TEXT` columns (`"price" DECIMAL_TEXT COLLATE orm_decimal`),
/// registered on every connection: what orders, groups, de-duplicates and constrains a
/// decimal column by value, as PostgreSQL's NUMERIC does (`10.5` and `10.50` are one value,
/// `9.99` sorts before `10.00`), also in `ORDER BY`, `MIN` / `MAX`, `GROUP BY`, `DISTINCT` and
/// a UNIQUE index. A connection without it (the `sqlite3` shell) cannot compare such a column.
pub const DECIMAL_COLLATION: &str = "orm_decimal";

/// [`DECIMAL_COLLATION`]: two decimal texts by value ([`compare_decimals`]); text that is no
/// number (which the ORM never writes there) sorts after the numbers, by its bytes.
pub fn collate_decimals(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn text(s: &str) -> SqlValueRef<'_> {
        SqlValueRef::Text(s.as_bytes())
    }
    let number = |s: &str| compare_decimals(text(s), SqlValueRef::Integer(0)).is_ok();
    match compare_decimals(text(a), text(b)) {
        Ok(Some(o)) => o,
        _ => match (number(a), number(b)) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => a.cmp(b),
        },
    }
}

/// A decimal number as its sign, significant digits and power of ten: `-12.50` is
/// `(true, "125", -1)`; zero has no digits.
#[derive(Debug, PartialEq, Eq)]
/// A decimal text without exponent, `[+-]digits[.digits]`, borrowed: its sign, its whole
/// digits without leading zeros and its fraction without trailing zeros.
struct Plain<'a> {
    negative: bool,
    whole: &'a [u8],
    fraction: &'a [u8],
}

impl<'a> Plain<'a> {
    fn parse(text: &'a [u8]) -> Option<Plain<'a>> {
        let (negative, t) = match text.first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole, fraction) = match t.iter().position(|&b| b == b'.') {
            Some(i) => (&t[..i], &t[i + 1..]),
            None => (t, &t[t.len()..]),
        };
        let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
            return None;
        }
        let lead = whole.iter().take_while(|&&b| b == b'0').count();
        let trail = fraction.iter().rev().take_while(|&&b| b == b'0').count();
        let (whole, fraction) = (&whole[lead..], &fraction[..fraction.len() - trail]);
        // -0 is 0.
        let negative = negative && !(whole.is_empty() && fraction.is_empty());
        Some(Plain { negative, whole, fraction })
    }

    /// The order of the values: sign, then magnitude (more whole digits is larger; then the
    /// digits, the fractions compared as if padded with zeros).
    fn cmp(&self, other: &Plain<'_>) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let magnitude = self
            .whole
            .len()
            .cmp(&other.whole.len())
            .then_with(|| self.whole.cmp(other.whole))
            .then_with(|| self.fraction.cmp(other.fraction));
        match (self.negative, other.negative) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        }
    }
}

struct Exact {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Exact {
    /// Reads `[+-]digits[.digits][e[+-]digits]` exactly, any number of digits (so a text
    /// longer than `rust_decimal` holds still compares right). Anything else is `None`.
    fn parse(text: &str) -> Option<Exact> {
        let t = text.trim();
        let (negative, t) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i64>().ok()?),
            None => (t, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        let places = i64::try_from(fraction.len()).ok()?;
        let mut digits = format!("{whole}{fraction}");
        let mut exponent = exponent.checked_sub(places)?;
        let trailing = digits.len() - digits.trim_end_matches('0').len();
        digits.truncate(digits.len() - trailing);
        exponent = exponent.checked_add(i64::try_from(trailing).ok()?)?;
        let digits = digits.trim_start_matches('0').to_owned();
        Some(Exact { negative: negative && !digits.is_empty(), digits, exponent })
    }

    /// The magnitude's order: `|a|` against `|b|`.
    fn cmp_magnitude(&self, other: &Exact) -> Option<std::cmp::Ordering> {
        use std::cmp::Ordering;
        match (self.digits.is_empty(), other.digits.is_empty()) {
            (true, true) => return Some(Ordering::Equal),
            (true, false) => return Some(Ordering::Less),
            (false, true) => return Some(Ordering::Greater),
            (false, false) => {}
        }
        // The power of ten of the leading digit decides, then the digits left to right.
        let lead = |e: &Exact| e.exponent.checked_add(i64::try_from(e.digits.len()).ok()?);
        Some(lead(self)?.cmp(&lead(other)?).then_with(|| {
            let (a, b) = (self.digits.as_bytes(), other.digits.as_bytes());
            let n = a.len().max(b.len());
            (0..n)
                .map(|i| (a.get(i).copied().unwrap_or(b'0'), b.get(i).copied().unwrap_or(b'0')))
                .map(|(x, y)| x.cmp(&y))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        }))
    }
}

/// `a` against `b` by value, for [`DECIMAL_CMP_FUNCTION`]: each an integer, a float (by the
/// shortest decimal that reads back as it, as a `Decimal` reads it) or decimal text; `None`
/// when either is NULL. Text that is no number, and blobs, are an error naming the value.
///
/// ```
/// use orm_sqlite::value::compare_decimals;
/// use rusqlite::types::ValueRef;
/// use std::cmp::Ordering;
///
/// let t = |s: &'static str| ValueRef::Text(s.as_bytes());
/// assert_eq!(compare_decimals(t("10.00"), t("9.99")), Ok(Some(Ordering::Greater)));
/// assert_eq!(compare_decimals(t("2.50"), ValueRef::Real(2.5)), Ok(Some(Ordering::Equal)));
/// assert_eq!(compare_decimals(t("-1e-30"), ValueRef::Integer(0)), Ok(Some(Ordering::Less)));
/// assert_eq!(compare_decimals(ValueRef::Null, t("1")), Ok(None));
/// assert!(compare_decimals(t("ten"), t("1")).is_err());
/// ```
pub fn compare_decimals(
    a: SqlValueRef<'_>,
    b: SqlValueRef<'_>,
) -> Result<Option<std::cmp::Ordering>, String> {
    // The common case, two decimal texts as this backend writes them (no exponent), compared
    // without allocating: every comparison of a sort or a filter comes here.
    if let (SqlValueRef::Text(x), SqlValueRef::Text(y)) = (a, b) {
        if let (Some(x), Some(y)) = (Plain::parse(x), Plain::parse(y)) {
            return Ok(Some(x.cmp(&y)));
        }
    }
    fn exact(v: SqlValueRef<'_>) -> Result<Option<Exact>, String> {
        let text = match v {
            SqlValueRef::Null => return Ok(None),
            SqlValueRef::Integer(i) => i.to_string(),
            // `Display` of a finite f64 is its shortest exact decimal, never an exponent.
            SqlValueRef::Real(f) if f.is_finite() => f.to_string(),
            SqlValueRef::Real(f) => return Err(format!("the float {f} is not a decimal")),
            SqlValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            SqlValueRef::Blob(b) => {
                return Err(format!("a blob of {} bytes is not a decimal", b.len()))
            }
        };
        Exact::parse(&text).map(Some).ok_or_else(|| format!("{text:?} is not a decimal number"))
    }
    let (Some(a), Some(b)) = (exact(a)?, exact(b)?) else { return Ok(None) };
    let magnitude = a.cmp_magnitude(&b).ok_or("a decimal exponent out of range")?;
    Ok(Some(match (a.negative, b.negative) {
        (false, false) => magnitude,
        (true, true) => magnitude.reverse(),
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
    }))
}
