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
