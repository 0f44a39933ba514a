//! Values across the `postgres` boundary: [`Bind`] binds an [`orm_core::Value`] as the type the
//! server inferred for its parameter, and [`Decoder`] reads a column's binary value as an
//! [`orm_core::ValueRef`] borrowed from the row.
//!
//! # Binding
//!
//! PostgreSQL infers a type for every `$n` when a statement is prepared; [`Bind`] accepts any
//! type and converts by it, so one `Value` kind serves several column types. A value that does
//! not fit its parameter is an error before anything is sent ([`BindError`], surfacing as
//! [`orm_core::Error::InvalidUse`]), never a silent wrap:
//!
//! | `Value` | binds to |
//! |---|---|
//! | `Null` | any type |
//! | `Bool` | `boolean` |
//! | `Int` | `smallint`, `integer`, `bigint`, `oid` (range-checked), `real`, `double precision`, `numeric` |
//! | `Float` | `real` (range-checked), `double precision`, `numeric` |
//! | `Text` | `text`, `varchar`, `char(n)`, `name`, `citext`, enum types (the label), `unknown`; and, parsed, `uuid`, `json`, `jsonb`, `timestamptz`, `timestamp`, `date` |
//! | `Blob` | `bytea` |
//! | `Uuid` | `uuid`, text types (hyphenated) |
//! | `Timestamp` | `timestamptz`, `timestamp` (as UTC) |
//! | `DateTime` | `timestamp`, `timestamptz` (read as UTC) |
//! | `Date` | `date` |
//! | `Json` | `jsonb`, `json`, text types |
//! | `TextArray` | arrays of text types or enums (`text[]`, `varchar[]`, ...) |
//! | `IntArray` | `bigint[]`, `integer[]`, `smallint[]` (range-checked) |
//! | `List` | an array of the inferred element type, each element by these rules (`= ANY($1)`) |
//! | `Enum` | enum types, text types |
//! | `Decimal` (feature `decimal`) | `numeric`, `real` and `double precision` (nearest), integer types (whole values in range), text types |
//!
//! Domains bind as their base type. `Default` (a `DbDefault::Default` field) is never bound: an
//! INSERT leaves its column out.
//!
//! # Reading
//!
//! Scalars are read straight from the row's buffer without allocating: integers as `Int`, floats
//! as `Float`, text, `name`, `char(n)`, `citext` and enum labels as `Text`, `bytea` as `Blob`,
//! `json` and `jsonb` as `Text` holding the JSON document, and the time types, `uuid` and
//! `boolean` as themselves. `numeric` reads as `Decimal` with the `decimal` feature (which
//! `i64` and `f64` also read); without it, or for a value no `Decimal` holds (NaN, infinities,
//! more than 28 digits), as `Int` when its value is a whole number that fits in an `i64` (so
//! `SUM` of a `bigint` column in raw SQL reads into `i64`), and as the nearest `Float` otherwise
//! (cast it to `text` in SQL for the exact digits). Arrays of text or enums
//! (`TextArray`) and of integers (`IntArray`) are decoded once per row into a per-row cache. Any
//! other type is an [`orm_core::Error::Decode`] naming the column and the type.

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use orm_core::value::DEFAULT_NOT_BINDABLE;
use orm_core::{DecodeError, Value, ValueRef};
use postgres::types::{FromSql, IsNull, Kind, ToSql, Type};
use std::error::Error as StdError;
use std::fmt;

type BoxError = Box<dyn StdError + Sync + Send>;

/// Why a parameter could not be bound: its 1-based position and what did not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindError {
    /// The parameter's position (`$n`).
    pub index: usize,
    /// What did not fit.
    pub message: String,
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot bind parameter ${}: {}", self.index, self.message)
    }
}

impl StdError for BindError {}

/// An [`orm_core::Value`] as the `index`th (1-based) parameter of a statement.
#[derive(Debug, Clone, Copy)]
pub struct Bind<'a> {
    value: &'a Value,
    index: usize,
}

impl<'a> Bind<'a> {
    /// Binds `value` as parameter `$index`.
    pub fn new(value: &'a Value, index: usize) -> Self {
        Bind { value, index }
    }
}

impl ToSql for Bind<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode(self.value, ty, out)
            .map_err(|message| Box::new(BindError { index: self.index, message }) as BoxError)
    }

    /// Every type: the conversion is chosen (or refused) by [`ToSql::to_sql`].
    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// One element of a [`Value::List`] bound as an array.
#[derive(Debug)]
struct Element<'a>(&'a Value);

impl ToSql for Element<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode(self.0, ty, out).map_err(BoxError::from)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// The type a domain stands for (the type itself otherwise): values of a domain have its base
/// type's binary form.
pub fn base_type(ty: &Type) -> &Type {
    let mut t = ty;
    while let Kind::Domain(base) = t.kind() {
        t = base;
    }
    t
}

/// Types whose binary form is their UTF-8 text.
fn is_textual(ty: &Type) -> bool {
    matches!(*ty, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN)
        || matches!(ty.kind(), Kind::Enum(_))
        || ty.name() == "citext"
}

fn is_integer(ty: &Type) -> bool {
    matches!(*ty, Type::INT2 | Type::INT4 | Type::INT8)
}

/// A type's name as SQL writes it, for messages: `bigint`, `text[]`, `post_status`.
pub fn type_name(ty: &Type) -> String {
    let name = match *ty {
        Type::INT2 => "smallint",
        Type::INT4 => "integer",
        Type::INT8 => "bigint",
        Type::FLOAT4 => "real",
        Type::FLOAT8 => "double precision",
        Type::BOOL => "boolean",
        Type::VARCHAR => "varchar",
        Type::BPCHAR => "char",
        Type::TIMESTAMPTZ => "timestamptz",
        Type::TIMESTAMP => "timestamp",
        _ => match ty.kind() {
            Kind::Array(member) => return format!("{}[]", type_name(member)),
            _ => ty.name(),
        },
    };
    name.to_owned()
}

fn mismatch(v: &Value, ty: &Type) -> String {
    format!("a {} value cannot be bound to a parameter of type {}", v.kind(), type_name(ty))
}

fn driver(e: BoxError) -> String {
    e.to_string()
}

/// Writes `v` in the binary form of `ty`, or says why it does not fit.
fn encode(v: &Value, ty: &Type, out: &mut BytesMut) -> Result<IsNull, String> {
    let ty = base_type(ty);
    match v {
        Value::Null => return Ok(IsNull::Yes),
        Value::Bool(b) => match *ty {
            Type::BOOL => out.put_u8(u8::from(*b)),
            _ => return Err(mismatch(v, ty)),
        },
        Value::Int(i) => encode_int(*i, ty, out)?,
        Value::Float(f) => encode_float(*f, ty, out)?,
        Value::Text(s) => encode_text(s, ty, out)?,
        Value::Blob(b) => match *ty {
            Type::BYTEA => out.put_slice(b),
            _ => return Err(mismatch(v, ty)),
        },
        Value::Uuid(u) => match *ty {
            Type::UUID => out.put_slice(u.as_bytes()),
            _ if is_textual(ty) => out.put_slice(u.hyphenated().to_string().as_bytes()),
            _ => return Err(mismatch(v, ty)),
        },
        Value::Timestamp(t) => match *ty {
            Type::TIMESTAMPTZ => return t.to_sql(ty, out).map_err(driver),
            Type::TIMESTAMP => return t.naive_utc().to_sql(ty, out).map_err(driver),
            _ => return Err(mismatch(v, ty)),
        },
        Value::DateTime(t) => match *ty {
            Type::TIMESTAMP => return t.to_sql(ty, out).map_err(driver),
            Type::TIMESTAMPTZ => return t.and_utc().to_sql(ty, out).map_err(driver),
            _ => return Err(mismatch(v, ty)),
        },
        Value::Date(d) => match *ty {
            Type::DATE => return d.to_sql(ty, out).map_err(driver),
            _ => return Err(mismatch(v, ty)),
        },
        Value::Json(j) => {
            match *ty {
                Type::JSONB => out.put_u8(1),
                Type::JSON => {}
                _ if is_textual(ty) => {}
                _ => return Err(mismatch(v, ty)),
            }
            serde_json::to_writer(out.writer(), j).map_err(|e| e.to_string())?;
        }
        Value::TextArray(items) => match ty.kind() {
            Kind::Array(member) if is_textual(base_type(member)) => {
                return items.to_sql(ty, out).map_err(driver)
            }
            _ => return Err(mismatch(v, ty)),
        },
        Value::IntArray(items) => return encode_int_array(v, items, ty, out),
        Value::List(items) => match ty.kind() {
            Kind::Array(_) => {
                let elements: Vec<Element<'_>> = items.iter().map(Element).collect();
                return elements.to_sql(ty, out).map_err(driver);
            }
            _ => {
                return Err(format!(
                    "a list binds only to an array parameter (as in `= ANY($n)`), not to {}",
                    type_name(ty)
                ))
            }
        },
        #[cfg(feature = "decimal")]
        Value::Decimal(d) => return encode_decimal(d, ty, out),
        Value::Enum { label, .. } => {
            if is_textual(ty) {
                out.put_slice(label.as_bytes());
            } else {
                return Err(mismatch(v, ty));
            }
        }
        Value::Default => return Err(DEFAULT_NOT_BINDABLE.to_owned()),
        other => return Err(format!("a {} value cannot be bound on PostgreSQL", other.kind())),
    }
    Ok(IsNull::No)
}

fn out_of_range(what: impl fmt::Display, ty: &Type) -> String {
    format!("{what} is out of range for type {}", type_name(ty))
}

fn encode_int(i: i64, ty: &Type, out: &mut BytesMut) -> Result<(), String> {
    match *ty {
        Type::INT2 => out.put_i16(i16::try_from(i).map_err(|_| out_of_range(i, ty))?),
        Type::INT4 => out.put_i32(i32::try_from(i).map_err(|_| out_of_range(i, ty))?),
        Type::INT8 => out.put_i64(i),
        Type::OID => out.put_u32(u32::try_from(i).map_err(|_| out_of_range(i, ty))?),
        // Integers beyond 2^24 (real) or 2^53 (double) round to the nearest float, as a
        // literal in SQL would.
        #[allow(clippy::cast_precision_loss)]
        Type::FLOAT4 => out.put_f32(i as f32),
        #[allow(clippy::cast_precision_loss)]
        Type::FLOAT8 => out.put_f64(i as f64),
        Type::NUMERIC => put_numeric(&i.to_string(), out)?,
        _ => return Err(mismatch(&Value::Int(i), ty)),
    }
    Ok(())
}

fn encode_float(f: f64, ty: &Type, out: &mut BytesMut) -> Result<(), String> {
    match *ty {
        Type::FLOAT8 => out.put_f64(f),
        Type::FLOAT4 => {
            if f.is_finite() && f.abs() > f64::from(f32::MAX) {
                return Err(out_of_range(f, ty));
            }
            // Rounds to the nearest `real`; the range is checked above.
            #[allow(clippy::cast_possible_truncation)]
            out.put_f32(f as f32);
        }
        Type::NUMERIC => {
            if f.is_nan() {
                put_numeric_special(NUMERIC_NAN, out);
            } else if f.is_infinite() {
                put_numeric_special(if f > 0.0 { NUMERIC_PINF } else { NUMERIC_NINF }, out);
            } else {
                // `Display` for f64 writes the shortest exact decimal, never an exponent.
                put_numeric(&f.to_string(), out)?;
            }
        }
        _ => return Err(mismatch(&Value::Float(f), ty)),
    }
    Ok(())
}

#[cfg(feature = "decimal")]
fn encode_decimal(
    d: &rust_decimal::Decimal,
    ty: &Type,
    out: &mut BytesMut,
) -> Result<IsNull, String> {
    use rust_decimal::prelude::ToPrimitive;
    match *ty {
        Type::NUMERIC => return d.to_sql(ty, out).map_err(driver),
        Type::FLOAT4 | Type::FLOAT8 => {
            let f = d.to_f64().ok_or_else(|| out_of_range(d, ty))?;
            encode_float(f, ty, out)?;
        }
        Type::INT2 | Type::INT4 | Type::INT8 => {
            let i = d
                .fract()
                .is_zero()
                .then(|| d.to_i64())
                .flatten()
                .ok_or_else(|| format!("decimal {d} is not a whole number within bigint"))?;
            encode_int(i, ty, out)?;
        }
        _ if is_textual(ty) => out.put_slice(d.to_string().as_bytes()),
        _ => return Err(mismatch(&Value::Decimal(*d), ty)),
    }
    Ok(IsNull::No)
}

fn encode_text(s: &str, ty: &Type, out: &mut BytesMut) -> Result<(), String> {
    let unparsable = |what: &str| {
        let shown: String = s.chars().take(40).collect();
        let more = if shown.len() < s.len() { "..." } else { "" };
        format!("text {shown:?}{more} is not a valid {what}")
    };
    match *ty {
        _ if is_textual(ty) => out.put_slice(s.as_bytes()),
        Type::UUID => {
            let u = uuid::Uuid::parse_str(s).map_err(|_| unparsable("uuid"))?;
            out.put_slice(u.as_bytes());
        }
        Type::JSON | Type::JSONB => {
            serde_json::from_str::<serde_json::Value>(s)
                .map_err(|_| unparsable("JSON document"))?;
            if *ty == Type::JSONB {
                out.put_u8(1);
            }
            out.put_slice(s.as_bytes());
        }
        Type::TIMESTAMPTZ => {
            let t = parse_timestamptz(s).ok_or_else(|| unparsable("timestamp"))?;
            t.to_sql(ty, out).map_err(driver)?;
        }
        Type::TIMESTAMP => {
            let t = parse_timestamp(s).ok_or_else(|| unparsable("timestamp"))?;
            t.to_sql(ty, out).map_err(driver)?;
        }
        Type::DATE => {
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| unparsable("date"))?;
            d.to_sql(ty, out).map_err(driver)?;
        }
        _ => return Err(mismatch(&Value::Text(String::new()), ty)),
    }
    Ok(())
}

/// RFC 3339, or a timestamp without offset read as UTC.
fn parse_timestamptz(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    parse_naive(s).map(|n| n.and_utc())
}

/// A timestamp without offset, or RFC 3339 converted to UTC.
fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    parse_naive(s).or_else(|| DateTime::parse_from_rfc3339(s).ok().map(|t| t.naive_utc()))
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
}

fn encode_int_array(
    v: &Value,
    items: &[i64],
    ty: &Type,
    out: &mut BytesMut,
) -> Result<IsNull, String> {
    let Kind::Array(member) = ty.kind() else {
        return Err(mismatch(v, ty));
    };
    let member = base_type(member);
    match *member {
        Type::INT8 => items.to_sql(ty, out).map_err(driver),
        Type::INT4 => {
            let narrow = items
                .iter()
                .map(|&i| i32::try_from(i).map_err(|_| out_of_range(i, member)))
                .collect::<Result<Vec<i32>, String>>()?;
            narrow.to_sql(ty, out).map_err(driver)
        }
        Type::INT2 => {
            let narrow = items
                .iter()
                .map(|&i| i16::try_from(i).map_err(|_| out_of_range(i, member)))
                .collect::<Result<Vec<i16>, String>>()?;
            narrow.to_sql(ty, out).map_err(driver)
        }
        _ => Err(mismatch(v, ty)),
    }
}

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

fn put_numeric_special(sign: u16, out: &mut BytesMut) {
    out.put_i16(0);
    out.put_i16(0);
    out.put_u16(sign);
    out.put_u16(0);
}

/// Writes a plain decimal (`-123.4500`: optional sign, digits, optional fraction) as
/// PostgreSQL's binary `numeric`: base-10000 digits around the decimal point.
fn put_numeric(s: &str, out: &mut BytesMut) -> Result<(), String> {
    let bad = || format!("{s:?} is not a decimal number");
    let (negative, unsigned) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let int = int.trim_start_matches('0');
    let dscale = u16::try_from(frac.len()).map_err(|_| bad())?;
    let int_pad = (4 - int.len() % 4) % 4;
    let frac_pad = (4 - frac.len() % 4) % 4;
    let digits: Vec<u8> = std::iter::repeat_n(b'0', int_pad)
        .chain(int.bytes())
        .chain(frac.bytes())
        .chain(std::iter::repeat_n(b'0', frac_pad))
        .collect();
    let mut groups: Vec<i16> = digits
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0')))
        .collect();
    let int_groups = (int.len() + int_pad) / 4;
    let mut weight = i16::try_from(int_groups).map_err(|_| bad())? - 1;
    let leading = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..leading);
    weight -= i16::try_from(leading).map_err(|_| bad())?;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    let sign = if negative && !groups.is_empty() { NUMERIC_NEG } else { NUMERIC_POS };
    if groups.is_empty() {
        weight = 0;
    }
    out.put_i16(i16::try_from(groups.len()).map_err(|_| bad())?);
    out.put_i16(weight);
    out.put_u16(sign);
    out.put_u16(dscale);
    for g in groups {
        out.put_i16(g);
    }
    Ok(())
}

/// Reads PostgreSQL's binary `numeric` as its exact decimal text (`NaN`, `Infinity` and
/// `-Infinity` for the special values).
pub fn numeric_to_string(raw: &[u8]) -> Option<String> {
    use std::fmt::Write;
    let word = |i: usize| -> Option<[u8; 2]> { raw.get(i * 2..i * 2 + 2)?.try_into().ok() };
    let ndigits = usize::try_from(i16::from_be_bytes(word(0)?)).ok()?;
    let weight = i16::from_be_bytes(word(1)?);
    let sign = u16::from_be_bytes(word(2)?);
    let dscale = usize::from(u16::from_be_bytes(word(3)?));
    let digits: Vec<i16> =
        (0..ndigits).map(|i| word(4 + i).map(i16::from_be_bytes)).collect::<Option<_>>()?;
    match sign {
        NUMERIC_NAN => return Some("NaN".into()),
        NUMERIC_PINF => return Some("Infinity".into()),
        NUMERIC_NINF => return Some("-Infinity".into()),
        NUMERIC_POS | NUMERIC_NEG => {}
        _ => return None,
    }
    // The group at position `k` (0 = the first stored digit) has weight `weight - k`.
    let digit = |k: i32| -> i16 {
        usize::try_from(k).ok().and_then(|k| digits.get(k)).copied().unwrap_or(0)
    };
    let mut s = String::new();
    if sign == NUMERIC_NEG {
        s.push('-');
    }
    let weight = i32::from(weight);
    if weight < 0 {
        s.push('0');
    } else {
        for k in 0..=weight {
            let d = digit(k);
            let _ = if k == 0 { write!(s, "{d}") } else { write!(s, "{d:04}") };
        }
    }
    if dscale > 0 {
        s.push('.');
        let mut frac = String::with_capacity(dscale + 4);
        let mut k = weight + 1;
        while frac.len() < dscale {
            let _ = write!(frac, "{:04}", digit(k));
            k += 1;
        }
        frac.truncate(dscale);
        s.push_str(&frac);
    }
    Some(s)
}

/// A binary `numeric` as a `Decimal` (with the `decimal` feature, when it fits one: not NaN, not
/// infinite, at most 28 significant digits), else as [`numeric_value`] reads it.
fn numeric_ref(raw: &[u8]) -> Option<ValueRef<'static>> {
    #[cfg(feature = "decimal")]
    if let Ok(d) = rust_decimal::Decimal::from_sql(&Type::NUMERIC, raw) {
        return Some(ValueRef::Decimal(d));
    }
    numeric_value(raw)
}

/// A binary `numeric` as `Int` when it is a whole number within `i64`, else as the nearest
/// `Float` (`NaN` and the infinities included).
pub fn numeric_value(raw: &[u8]) -> Option<ValueRef<'static>> {
    let word = |i: usize| -> Option<[u8; 2]> { raw.get(i * 2..i * 2 + 2)?.try_into().ok() };
    let ndigits = usize::try_from(i16::from_be_bytes(word(0)?)).ok()?;
    let weight = i32::from(i16::from_be_bytes(word(1)?));
    let sign = u16::from_be_bytes(word(2)?);
    // Stored digits never end in a zero group: the value is whole when the last one's weight
    // (`weight - (ndigits - 1)`) is not negative.
    let last_weight = i32::try_from(ndigits).ok().map(|n| weight - (n - 1))?;
    if matches!(sign, NUMERIC_POS | NUMERIC_NEG) && (ndigits == 0 || last_weight >= 0) {
        let mut v: i64 = 0;
        let mut whole = true;
        for k in 0..ndigits {
            let d = i64::from(i16::from_be_bytes(word(4 + k)?));
            match v.checked_mul(10_000).and_then(|v| {
                if sign == NUMERIC_NEG {
                    v.checked_sub(d)
                } else {
                    v.checked_add(d)
                }
            }) {
                Some(n) => v = n,
                None => {
                    whole = false;
                    break;
                }
            }
        }
        for _ in 0..last_weight.max(0) {
            match v.checked_mul(10_000) {
                Some(n) if whole => v = n,
                _ => {
                    whole = false;
                    break;
                }
            }
        }
        if whole {
            return Some(ValueRef::Int(v));
        }
    }
    let f = match numeric_to_string(raw)?.as_str() {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        s => s.parse().ok()?,
    };
    Some(ValueRef::Float(f))
}

/// How a column of one PostgreSQL type is read; chosen once per prepared statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// `boolean`
    Bool,
    /// `smallint`
    Int2,
    /// `integer`
    Int4,
    /// `bigint`
    Int8,
    /// `oid`
    Oid,
    /// `real`
    Float4,
    /// `double precision`
    Float8,
    /// Text types and enums: the bytes are UTF-8 text.
    Text,
    /// `bytea`
    Bytea,
    /// `uuid`
    Uuid,
    /// `timestamptz`
    Timestamptz,
    /// `timestamp`
    Timestamp,
    /// `date`
    Date,
    /// `json`: the document's text.
    Json,
    /// `jsonb`: a version byte, then the document's text.
    Jsonb,
    /// Arrays of text types or enums (cached per row).
    TextArray,
    /// `smallint[]`, `integer[]`, `bigint[]` (cached per row).
    IntArray,
    /// `numeric`: a `Decimal` with the `decimal` feature; otherwise (or when it does not fit
    /// one) a whole number that fits as `Int`, else the nearest `Float`.
    Numeric,
    /// A type this backend does not read.
    Unsupported,
}

impl Decoder {
    /// The decoder for columns of type `ty`.
    pub fn for_type(ty: &Type) -> Decoder {
        let ty = base_type(ty);
        match *ty {
            Type::BOOL => Decoder::Bool,
            Type::INT2 => Decoder::Int2,
            Type::INT4 => Decoder::Int4,
            Type::INT8 => Decoder::Int8,
            Type::OID => Decoder::Oid,
            Type::FLOAT4 => Decoder::Float4,
            Type::FLOAT8 => Decoder::Float8,
            Type::BYTEA => Decoder::Bytea,
            Type::UUID => Decoder::Uuid,
            Type::TIMESTAMPTZ => Decoder::Timestamptz,
            Type::TIMESTAMP => Decoder::Timestamp,
            Type::DATE => Decoder::Date,
            Type::JSON => Decoder::Json,
            Type::JSONB => Decoder::Jsonb,
            Type::NUMERIC => Decoder::Numeric,
            _ if is_textual(ty) => Decoder::Text,
            _ => match ty.kind() {
                Kind::Array(member) => {
                    let member = base_type(member);
                    if is_textual(member) {
                        Decoder::TextArray
                    } else if is_integer(member) {
                        Decoder::IntArray
                    } else {
                        Decoder::Unsupported
                    }
                }
                _ => Decoder::Unsupported,
            },
        }
    }

    /// Whether values are decoded into an owned [`Value`] kept for the row (arrays).
    pub fn is_cached(self) -> bool {
        matches!(self, Decoder::TextArray | Decoder::IntArray)
    }

    /// Reads a non-NULL scalar value borrowed from `raw`. Cached kinds go through
    /// [`Decoder::decode_owned`].
    pub fn decode<'a>(self, ty: &Type, raw: &'a [u8]) -> Result<ValueRef<'a>, DecodeError> {
        let wrong = |e: BoxError| DecodeError::new(self.expected(), format!("{}: {e}", ty.name()));
        Ok(match self {
            Decoder::Bool => ValueRef::Bool(bool::from_sql(&Type::BOOL, raw).map_err(wrong)?),
            Decoder::Int2 => {
                ValueRef::Int(i64::from(i16::from_sql(&Type::INT2, raw).map_err(wrong)?))
            }
            Decoder::Int4 => {
                ValueRef::Int(i64::from(i32::from_sql(&Type::INT4, raw).map_err(wrong)?))
            }
            Decoder::Int8 => ValueRef::Int(i64::from_sql(&Type::INT8, raw).map_err(wrong)?),
            Decoder::Oid => {
                ValueRef::Int(i64::from(u32::from_sql(&Type::OID, raw).map_err(wrong)?))
            }
            Decoder::Float4 => {
                ValueRef::Float(f64::from(f32::from_sql(&Type::FLOAT4, raw).map_err(wrong)?))
            }
            Decoder::Float8 => ValueRef::Float(f64::from_sql(&Type::FLOAT8, raw).map_err(wrong)?),
            Decoder::Text | Decoder::Json => ValueRef::Text(utf8(self, raw)?),
            Decoder::Jsonb => match raw.split_first() {
                Some((1, doc)) => ValueRef::Text(utf8(self, doc)?),
                Some((v, _)) => {
                    return Err(DecodeError::new(
                        self.expected(),
                        format!("jsonb of unknown format version {v}"),
                    ))
                }
                None => return Err(DecodeError::new(self.expected(), "an empty jsonb value")),
            },
            Decoder::Bytea => ValueRef::Blob(raw),
            Decoder::Uuid => ValueRef::Uuid(uuid::Uuid::from_sql(&Type::UUID, raw).map_err(wrong)?),
            Decoder::Timestamptz => ValueRef::Timestamp(
                DateTime::<Utc>::from_sql(&Type::TIMESTAMPTZ, raw).map_err(wrong)?,
            ),
            Decoder::Timestamp => {
                ValueRef::DateTime(NaiveDateTime::from_sql(&Type::TIMESTAMP, raw).map_err(wrong)?)
            }
            Decoder::Date => ValueRef::Date(NaiveDate::from_sql(&Type::DATE, raw).map_err(wrong)?),
            Decoder::Numeric => numeric_ref(raw)
                .ok_or_else(|| DecodeError::new(self.expected(), "a malformed numeric value"))?,
            Decoder::TextArray | Decoder::IntArray | Decoder::Unsupported => {
                return Err(self.unsupported(ty))
            }
        })
    }

    /// Decodes a non-NULL value of a cached kind into an owned [`Value`].
    pub fn decode_owned(self, ty: &Type, raw: &[u8]) -> Result<Value, DecodeError> {
        let ty = base_type(ty);
        let wrong = |e: BoxError| DecodeError::new(self.expected(), format!("{}: {e}", ty.name()));
        match self {
            Decoder::TextArray => {
                Vec::<String>::from_sql(ty, raw).map(Value::TextArray).map_err(wrong)
            }
            Decoder::IntArray => {
                let Kind::Array(member) = ty.kind() else {
                    return Err(self.unsupported(ty));
                };
                let ints = match *base_type(member) {
                    Type::INT8 => Vec::<i64>::from_sql(ty, raw).map_err(wrong)?,
                    Type::INT4 => Vec::<i32>::from_sql(ty, raw)
                        .map_err(wrong)?
                        .into_iter()
                        .map(i64::from)
                        .collect(),
                    Type::INT2 => Vec::<i16>::from_sql(ty, raw)
                        .map_err(wrong)?
                        .into_iter()
                        .map(i64::from)
                        .collect(),
                    _ => return Err(self.unsupported(ty)),
                };
                Ok(Value::IntArray(ints))
            }
            _ => self.decode(ty, raw).map(|v| v.to_owned_value()),
        }
    }

    /// The error for a column whose type this backend does not read.
    pub fn unsupported(self, ty: &Type) -> DecodeError {
        DecodeError::new(
            "a PostgreSQL type this backend reads",
            format!("a value of type {} (cast it in SQL, e.g. `::text`)", type_name(ty)),
        )
    }

    fn expected(self) -> &'static str {
        match self {
            Decoder::Bool => "boolean",
            Decoder::Int2 => "smallint",
            Decoder::Int4 => "integer",
            Decoder::Int8 => "bigint",
            Decoder::Oid => "oid",
            Decoder::Float4 => "real",
            Decoder::Float8 => "double precision",
            Decoder::Text => "UTF-8 text",
            Decoder::Bytea => "bytea",
            Decoder::Uuid => "uuid",
            Decoder::Timestamptz => "timestamptz",
            Decoder::Timestamp => "timestamp",
            Decoder::Date => "date",
            Decoder::Json => "json",
            Decoder::Jsonb => "jsonb",
            Decoder::TextArray => "a one-dimensional text array without NULLs",
            Decoder::IntArray => "a one-dimensional integer array without NULLs",
            Decoder::Numeric => "numeric",
            Decoder::Unsupported => "a PostgreSQL type this backend reads",
        }
    }
}

fn utf8(d: Decoder, raw: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(raw)
        .map_err(|e| DecodeError::new(d.expected(), format!("invalid UTF-8 ({e})")))
}

/// A column's raw bytes (`None` for NULL), taken from a row without conversion.
#[derive(Debug, Clone, Copy)]
pub struct RawValue<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawValue<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawValue(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(RawValue(None))
    }

    /// Every type: the [`Decoder`] chosen for the column decides what it means.
    fn accepts(_: &Type) -> bool {
        true
    }
}
