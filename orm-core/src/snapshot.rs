//! The identity map's snapshots: a row's columns encoded as bytes, in one buffer per model.
//!
//! A tracked read keeps, for each row, the columns as the session knows them, to tell later
//! which ones the user changed. Keeping them as a typed copy (`Model::Snapshot`) costs one
//! allocation per text column plus one for the copy; these bytes go in one growing buffer per
//! model (the session's identity map), with no allocation per row, in about a third of the
//! memory. Each column is what [`ToValue::to_value`] gives, tagged: so two values are "the same"
//! exactly when binding them would write the same thing (a float by its bits, a JSON document by
//! its text), which is what dirty checking asks. Columns are read back through
//! [`FromValue`](crate::FromValue) (`Model::set_column`, `Model::decode`), as from a row.
//!
//! Types that store themselves often override [`ToValue::snapshot_into`] to encode without the
//! intermediate [`Value`]; each override writes the same bytes as encoding its `to_value`
//! (tested below for every built-in type).

use crate::error::{Error, Result};
use crate::value::{Value, ValueRef};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

const NULL: u8 = 0;
const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 3;
const TEXT: u8 = 4;
const BLOB: u8 = 5;
const UUID: u8 = 6;
const TIMESTAMP: u8 = 7;
const DATETIME: u8 = 8;
const DATE: u8 = 9;
const JSON: u8 = 10;
const TEXT_ARRAY: u8 = 11;
const INT_ARRAY: u8 = 12;
const ENUM: u8 = 13;
#[cfg(feature = "decimal")]
const DECIMAL: u8 = 14;
const DEFAULT: u8 = 15;
const LIST: u8 = 16;

/// A row's columns as the session's identity map keeps them (see the module's documentation),
/// borrowed from the map's buffer. Not a public API.
#[doc(hidden)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SnapshotRef<'a>(&'a [u8]);

impl std::fmt::Debug for SnapshotRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SnapshotRef({} bytes)", self.0.len())
    }
}

thread_local! {
    /// The buffer a model is encoded into to be compared with a snapshot.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with an empty scratch buffer (a fresh one if the thread's is in use).
fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            f(&mut buf)
        }
        Err(_) => f(&mut Vec::new()),
    })
}

impl<'a> SnapshotRef<'a> {
    /// The snapshot whose columns are encoded (by `snapshot_into`) in `bytes`.
    pub fn new(bytes: &'a [u8]) -> SnapshotRef<'a> {
        SnapshotRef(bytes)
    }

    /// The indexes of the columns in which what `encode` writes differs from this snapshot:
    /// every column when the two do not have the same columns.
    pub fn changed(&self, columns: usize, encode: impl FnOnce(&mut Vec<u8>)) -> crate::ColumnMask {
        with_scratch(|buf| {
            encode(buf);
            let mut mask = crate::ColumnMask::empty();
            // Most objects compared are unchanged: one comparison of the whole.
            if self.0[..] == buf[..] {
                return mask;
            }
            let (mut a, mut b) = (self.0, &buf[..]);
            for i in 0..columns {
                // The encoding is self-delimiting: if `b` starts with `a`'s first value, that
                // is `b`'s first value too.
                let Some(n) = value_len(a) else {
                    (i..columns).for_each(|j| mask.set(j));
                    break;
                };
                if b.get(..n) == Some(&a[..n]) {
                    b = &b[n..];
                } else {
                    mask.set(i);
                    match value_len(b) {
                        Some(m) => b = &b[m..],
                        None => {
                            (i..columns).for_each(|j| mask.set(j));
                            break;
                        }
                    }
                }
                a = &a[n..];
            }
            mask
        })
    }

    /// Column `idx`, decoded.
    pub fn column(&self, idx: usize) -> Option<Decoded<'a>> {
        let mut rest = self.0;
        for _ in 0..idx {
            rest = split_value(rest)?.1;
        }
        decode(split_value(rest)?.0)
    }

    /// Every column, decoded: a [`Row`](crate::Row) a model can be decoded from.
    pub fn row(&self) -> Option<SnapshotRow<'a>> {
        let mut values = Vec::new();
        let mut rest = self.0;
        while !rest.is_empty() {
            let (one, next) = split_value(rest)?;
            values.push(decode(one)?);
            rest = next;
        }
        Some(SnapshotRow(values))
    }
}

/// A column of a snapshot, decoded.
#[doc(hidden)]
#[derive(Debug)]
pub enum Decoded<'a> {
    /// A value a row could hold.
    Ref(ValueRef<'a>),
    /// An array of text (held, as [`ValueRef::TextArray`] borrows a slice of `String`s).
    TextArray(Vec<String>),
    /// An array of integers.
    IntArray(Vec<i64>),
    /// [`Value::Default`] or [`Value::List`]: nothing a column reads back.
    Unreadable(&'static str),
}

impl Decoded<'_> {
    /// The value, as a row would give it.
    pub fn value_ref(&self) -> Result<ValueRef<'_>> {
        Ok(match self {
            Decoded::Ref(v) => *v,
            Decoded::TextArray(a) => ValueRef::TextArray(a),
            Decoded::IntArray(a) => ValueRef::IntArray(a),
            Decoded::Unreadable(what) => {
                return Err(Error::InvalidUse(format!(
                    "the session's state of this row holds {what}, which no column reads back"
                )))
            }
        })
    }
}

/// A snapshot's columns as a [`Row`](crate::Row).
#[doc(hidden)]
#[derive(Debug)]
pub struct SnapshotRow<'a>(Vec<Decoded<'a>>);

impl crate::Row for SnapshotRow<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        match self.0.get(idx) {
            Some(d) => d.value_ref(),
            None => Err(Error::InvalidUse(format!(
                "column {idx} of a snapshot of {} columns",
                self.0.len()
            ))),
        }
    }
    fn column_name(&self, _idx: usize) -> Option<&str> {
        None
    }
}

// ---- encoding ----------------------------------------------------------------------------

fn put_len(n: usize, out: &mut Vec<u8>) {
    // LEB128: one byte below 128.
    let mut n = n as u64;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn put_bytes(tag: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    put_len(bytes.len(), out);
    out.extend_from_slice(bytes);
}

/// SQL NULL.
pub fn put_null(out: &mut Vec<u8>) {
    out.push(NULL);
}

/// An integer (every integer type widens to `i64`, as its `to_value` does).
pub fn put_int(i: i64, out: &mut Vec<u8>) {
    out.push(INT);
    out.extend_from_slice(&i.to_le_bytes());
}

/// A float, by its bits.
pub fn put_float(f: f64, out: &mut Vec<u8>) {
    out.push(FLOAT);
    out.extend_from_slice(&f.to_bits().to_le_bytes());
}

/// A boolean.
pub fn put_bool(b: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(&[BOOL, u8::from(b)]);
}

/// Text.
pub fn put_text(s: &str, out: &mut Vec<u8>) {
    put_bytes(TEXT, s.as_bytes(), out);
}

/// Bytes.
pub fn put_blob(b: &[u8], out: &mut Vec<u8>) {
    put_bytes(BLOB, b, out);
}

/// A UUID.
pub fn put_uuid(u: &uuid::Uuid, out: &mut Vec<u8>) {
    out.push(UUID);
    out.extend_from_slice(u.as_bytes());
}

fn put_instant(tag: u8, t: &NaiveDateTime, out: &mut Vec<u8>) {
    let utc = t.and_utc();
    out.push(tag);
    out.extend_from_slice(&utc.timestamp().to_le_bytes());
    out.extend_from_slice(&utc.timestamp_subsec_nanos().to_le_bytes());
}

/// A UTC timestamp, to the nanosecond.
pub fn put_timestamp(t: &DateTime<Utc>, out: &mut Vec<u8>) {
    put_instant(TIMESTAMP, &t.naive_utc(), out);
}

/// A timestamp without time zone, to the nanosecond.
pub fn put_datetime(t: &NaiveDateTime, out: &mut Vec<u8>) {
    put_instant(DATETIME, t, out);
}

/// A date.
pub fn put_date(d: &NaiveDate, out: &mut Vec<u8>) {
    out.push(DATE);
    out.extend_from_slice(&d.num_days_from_ce().to_le_bytes());
}

/// `v`, encoded: what [`ToValue::snapshot_into`](crate::ToValue::snapshot_into) writes unless
/// a type writes the same bytes more directly.
pub fn put_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => put_null(out),
        Value::Bool(b) => put_bool(*b, out),
        Value::Int(i) => put_int(*i, out),
        Value::Float(f) => put_float(*f, out),
        Value::Text(s) => put_text(s, out),
        Value::Blob(b) => put_blob(b, out),
        Value::Uuid(u) => put_uuid(u, out),
        Value::Timestamp(t) => put_timestamp(t, out),
        Value::DateTime(t) => put_datetime(t, out),
        Value::Date(d) => put_date(d, out),
        // `Value::Json`'s text: serde_json's maps are ordered, so equal documents are equal text.
        Value::Json(j) => put_bytes(JSON, j.to_string().as_bytes(), out),
        Value::TextArray(a) => {
            out.push(TEXT_ARRAY);
            put_len(a.len(), out);
            for s in a {
                put_len(s.len(), out);
                out.extend_from_slice(s.as_bytes());
            }
        }
        Value::IntArray(a) => {
            out.push(INT_ARRAY);
            put_len(a.len(), out);
            for i in a {
                out.extend_from_slice(&i.to_le_bytes());
            }
        }
        Value::Enum { label, .. } => put_bytes(ENUM, label.as_bytes(), out),
        #[cfg(feature = "decimal")]
        Value::Decimal(d) => {
            out.push(DECIMAL);
            out.extend_from_slice(&d.serialize());
        }
        Value::Default => out.push(DEFAULT),
        Value::List(items) => {
            out.push(LIST);
            put_len(items.len(), out);
            for item in items {
                put_value(item, out);
            }
        }
    }
}

// ---- decoding ----------------------------------------------------------------------------

fn take_len(b: &[u8]) -> Option<(usize, &[u8])> {
    let mut n: u64 = 0;
    for (i, &byte) in b.iter().enumerate().take(10) {
        n |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((usize::try_from(n).ok()?, &b[i + 1..]));
        }
    }
    None
}

/// The length-prefixed bytes at the start of `b`.
fn text(b: &[u8]) -> Option<&[u8]> {
    let (n, after) = take_len(b)?;
    Some(take(after, n)?.0)
}

fn take(b: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    (b.len() >= n).then(|| b.split_at(n))
}

/// The length of the first encoded value of `b` (tag included): at most `b.len()`.
#[inline]
fn value_len(b: &[u8]) -> Option<usize> {
    match b {
        [NULL | DEFAULT, ..] => Some(1),
        [BOOL, _, ..] => Some(2),
        [INT | FLOAT, rest @ ..] if rest.len() >= 8 => Some(9),
        // Short text: a one-byte length.
        [TEXT, n, rest @ ..] if *n < 0x80 && rest.len() >= usize::from(*n) => {
            Some(2 + usize::from(*n))
        }
        _ => split_value(b).map(|(one, _)| one.len()),
    }
}

/// The first encoded value of `b` (tag included) and the rest.
fn split_value(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&tag, body) = b.split_first()?;
    let body_len = match tag {
        NULL | DEFAULT => 0,
        BOOL => 1,
        INT | FLOAT => 8,
        UUID => 16,
        TIMESTAMP | DATETIME => 12,
        DATE => 4,
        #[cfg(feature = "decimal")]
        DECIMAL => 16,
        TEXT | BLOB | JSON | ENUM => {
            let (n, after) = take_len(body)?;
            body.len() - after.len() + n
        }
        TEXT_ARRAY => {
            let (count, mut rest) = take_len(body)?;
            for _ in 0..count {
                let (n, after) = take_len(rest)?;
                rest = take(after, n)?.1;
            }
            body.len() - rest.len()
        }
        INT_ARRAY => {
            let (count, after) = take_len(body)?;
            body.len() - after.len() + count.checked_mul(8)?
        }
        LIST => {
            let (count, mut rest) = take_len(body)?;
            for _ in 0..count {
                rest = split_value(rest)?.1;
            }
            body.len() - rest.len()
        }
        _ => return None,
    };
    take(b, 1 + body_len)
}

fn array<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    b.get(..N)?.try_into().ok()
}

fn instant(b: &[u8]) -> Option<NaiveDateTime> {
    let secs = i64::from_le_bytes(array(b)?);
    let nanos = u32::from_le_bytes(array(b.get(8..)?)?);
    DateTime::from_timestamp(secs, nanos).map(|t| t.naive_utc())
}

/// One encoded value (as [`split_value`] cut it), decoded.
fn decode(one: &[u8]) -> Option<Decoded<'_>> {
    let (&tag, body) = one.split_first()?;
    Some(Decoded::Ref(match tag {
        NULL => ValueRef::Null,
        BOOL => ValueRef::Bool(*body.first()? != 0),
        INT => ValueRef::Int(i64::from_le_bytes(array(body)?)),
        FLOAT => ValueRef::Float(f64::from_bits(u64::from_le_bytes(array(body)?))),
        TEXT | JSON | ENUM => ValueRef::Text(std::str::from_utf8(text(body)?).ok()?),
        BLOB => ValueRef::Blob(text(body)?),
        UUID => ValueRef::Uuid(uuid::Uuid::from_bytes(array(body)?)),
        TIMESTAMP => ValueRef::Timestamp(instant(body)?.and_utc()),
        DATETIME => ValueRef::DateTime(instant(body)?),
        DATE => {
            ValueRef::Date(NaiveDate::from_num_days_from_ce_opt(i32::from_le_bytes(array(body)?))?)
        }
        #[cfg(feature = "decimal")]
        DECIMAL => ValueRef::Decimal(rust_decimal::Decimal::deserialize(array(body)?)),
        TEXT_ARRAY => {
            let (count, mut rest) = take_len(body)?;
            let mut items = Vec::with_capacity(count.min(rest.len()));
            for _ in 0..count {
                let (n, after) = take_len(rest)?;
                let (s, next) = take(after, n)?;
                items.push(std::str::from_utf8(s).ok()?.to_owned());
                rest = next;
            }
            return Some(Decoded::TextArray(items));
        }
        INT_ARRAY => {
            let (count, rest) = take_len(body)?;
            let items = rest.chunks_exact(8).take(count).map(|c| array(c).map(i64::from_le_bytes));
            return items.collect::<Option<Vec<i64>>>().map(Decoded::IntArray);
        }
        DEFAULT => return Some(Decoded::Unreadable("DbDefault::Default")),
        LIST => return Some(Decoded::Unreadable("a list")),
        _ => return None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DbDefault, FromValue, Json, Row, ToValue};

    /// Encodes `v` both ways (its own `snapshot_into`, and its `to_value`), checks they agree,
    /// and that the value reads back as itself.
    fn round_trip<T: ToValue + FromValue + PartialEq + std::fmt::Debug>(v: T) {
        let mut direct = Vec::new();
        v.snapshot_into(&mut direct);
        let mut via_value = Vec::new();
        put_value(&v.to_value(), &mut via_value);
        assert_eq!(direct, via_value, "{v:?}: snapshot_into and to_value disagree");
        let snap = SnapshotRef(&direct);
        let row = snap.row().expect("decodes");
        assert_eq!(row.len(), 1);
        let back = T::from_value(row.get(0).expect("a value")).expect("reads back");
        assert_eq!(back, v);
        assert!(snap.changed(1, |out| v.snapshot_into(out)).is_empty());
    }

    #[test]
    fn every_built_in_type_encodes_as_its_value_and_reads_back() {
        round_trip(7_i16);
        round_trip(-7_i32);
        round_trip(i64::MIN);
        round_trip(1.5_f32);
        round_trip(-0.0_f64);
        round_trip(f64::INFINITY);
        round_trip(true);
        round_trip(String::new());
        round_trip("é€ — a longer text of more than 127 bytes ".repeat(4));
        round_trip(vec![0_u8, 255, 7]);
        round_trip(uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0));
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        round_trip(t);
        round_trip(t.naive_utc());
        round_trip(NaiveDate::from_ymd_opt(-44, 3, 15).unwrap());
        round_trip(serde_json::json!({"b": [1, 2.5, null], "a": "x"}));
        round_trip(Json(vec![String::from("x")]));
        round_trip(vec![String::from("a"), String::new(), String::from("é")]);
        round_trip(vec![1_i64, -2, i64::MAX]);
        round_trip(Some(String::from("x")));
        round_trip(None::<String>);
        round_trip(Some(3_i32));
        round_trip(DbDefault::Value(5_i64));
        #[cfg(feature = "decimal")]
        round_trip("-19.990".parse::<rust_decimal::Decimal>().unwrap());
    }

    /// The bytes `encode` writes.
    fn encoded(encode: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&mut out);
        out
    }

    #[test]
    fn changed_names_the_columns_that_differ() {
        fn enc(a: i64, b: &str, c: Option<f64>) -> impl FnOnce(&mut Vec<u8>) + '_ {
            move |out: &mut Vec<u8>| {
                a.snapshot_into(out);
                b.snapshot_into(out);
                c.snapshot_into(out);
            }
        }
        let bytes = encoded(enc(1, "x", Some(1.0)));
        let snap = SnapshotRef(&bytes);
        assert!(snap.changed(3, enc(1, "x", Some(1.0))).is_empty());
        let cols = |m: crate::ColumnMask| m.iter().collect::<Vec<_>>();
        assert_eq!(cols(snap.changed(3, enc(2, "x", Some(1.0)))), [0]);
        assert_eq!(cols(snap.changed(3, enc(1, "xy", None))), [1, 2]);
        // A float by its bits: -0.0 is a change (it is stored), NaN is not.
        assert_eq!(cols(snap.changed(3, enc(1, "x", Some(-0.0)))), [2]);
        let nan_bytes = encoded(enc(1, "x", Some(f64::NAN)));
        let nan = SnapshotRef(&nan_bytes);
        assert!(nan.changed(3, enc(1, "x", Some(f64::NAN))).is_empty());
        // Text longer than a one-byte length, changed in its last byte, then the next column.
        let long = "é".repeat(100);
        let long_bytes = encoded(enc(1, &long, Some(2.0)));
        let snap_long = SnapshotRef(&long_bytes);
        assert!(snap_long.changed(3, enc(1, &long, Some(2.0))).is_empty());
        assert_eq!(cols(snap_long.changed(3, enc(1, &format!("{long}!"), Some(2.0)))), [1]);
        assert_eq!(cols(snap_long.changed(3, enc(1, &long[..198], Some(3.0)))), [1, 2]);
        // Another shape of columns: every column differs from there on.
        assert_eq!(cols(snap.changed(3, |out| put_text("x", out))), [0, 1, 2]);
    }

    #[test]
    fn a_default_or_a_damaged_snapshot_is_an_error_not_a_panic() {
        let bytes = encoded(|out| DbDefault::<i64>::Default.snapshot_into(out));
        let row = SnapshotRef(&bytes).row().expect("decodes");
        assert!(matches!(row.get(0), Err(Error::InvalidUse(_))));
        assert!(matches!(row.get(1), Err(Error::InvalidUse(_))));
        for damaged in [&[TEXT, 5, b'a'][..], &[INT, 1, 2], &[99], &[TEXT_ARRAY, 2, 1, b'a']] {
            assert!(SnapshotRef(damaged).row().is_none(), "{damaged:?}");
        }
    }
}
