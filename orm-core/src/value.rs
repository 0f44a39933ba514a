//! Values crossing the boundary with the database. [`Value`] is an owned bound parameter;
//! [`ValueRef`] is a value borrowed from a driver's row while decoding, so reading a row allocates
//! only what the target struct keeps. A Rust type joins in by implementing [`ToValue`] (its column
//! type and how to bind it) and [`FromValue`] (how to read it back).

use crate::error::DecodeError;
use crate::schema::ColumnType;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use uuid::Uuid;

/// An owned value, bound as a statement parameter. Each dialect binds it in its documented form
/// (e.g. on SQLite a UUID is hyphenated TEXT and a timestamp is fixed-width ISO-8601 TEXT).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// Any integer, widened to 64 bits.
    Int(i64),
    /// Any float, widened to 64 bits.
    Float(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// A UUID.
    Uuid(Uuid),
    /// A UTC timestamp.
    Timestamp(DateTime<Utc>),
    /// A timestamp without time zone.
    DateTime(NaiveDateTime),
    /// A date.
    Date(NaiveDate),
    /// A JSON document.
    Json(serde_json::Value),
    /// An array of text.
    TextArray(Vec<String>),
    /// An array of integers.
    IntArray(Vec<i64>),
    /// A list bound as one array parameter (PostgreSQL's `= ANY($1)`); its elements share
    /// one kind.
    List(Vec<Value>),
    /// An enum label of the SQL enum type `type_name`.
    Enum {
        /// The SQL type's name.
        type_name: &'static str,
        /// The label.
        label: &'static str,
    },
    /// An exact decimal (`NUMERIC`), with the `decimal` feature.
    #[cfg(feature = "decimal")]
    Decimal(rust_decimal::Decimal),
    /// The column's database default: an INSERT leaves the column out and reads it back; it is
    /// never bound. What a [`DbDefault::Default`] field's value is; binding it is an
    /// [`Error::InvalidUse`](crate::Error::InvalidUse) ([`DEFAULT_NOT_BINDABLE`]).
    Default,
}

/// The message of the error a backend returns when asked to bind [`Value::Default`].
pub const DEFAULT_NOT_BINDABLE: &str =
    "DbDefault::Default cannot be bound as a parameter: it only means 'leave the column to its \
     server default' in an INSERT";

impl Value {
    /// A borrowed view, for the scalar kinds a driver's row can hold (`None` for JSON, lists,
    /// enums and [`Value::Default`]).
    pub fn as_value_ref(&self) -> Option<ValueRef<'_>> {
        Some(match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Text(s) => ValueRef::Text(s),
            Value::Blob(b) => ValueRef::Blob(b),
            Value::Uuid(u) => ValueRef::Uuid(*u),
            Value::Timestamp(t) => ValueRef::Timestamp(*t),
            Value::DateTime(t) => ValueRef::DateTime(*t),
            Value::Date(d) => ValueRef::Date(*d),
            Value::TextArray(a) => ValueRef::TextArray(a),
            Value::IntArray(a) => ValueRef::IntArray(a),
            #[cfg(feature = "decimal")]
            Value::Decimal(d) => ValueRef::Decimal(*d),
            Value::Json(_) | Value::List(_) | Value::Enum { .. } | Value::Default => return None,
        })
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Bool(_) => "bool",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Text(_) => "text",
            Value::Blob(_) => "blob",
            Value::Uuid(_) => "uuid",
            Value::Timestamp(_) => "timestamptz",
            Value::DateTime(_) => "timestamp",
            Value::Date(_) => "date",
            Value::Json(_) => "json",
            Value::TextArray(_) => "text[]",
            Value::IntArray(_) => "bigint[]",
            Value::List(_) => "list",
            Value::Enum { .. } => "enum",
            #[cfg(feature = "decimal")]
            Value::Decimal(_) => "decimal",
            Value::Default => "DbDefault::Default",
        }
    }
}

/// A value borrowed from a driver's row. Backends produce the variants their wire format has
/// (SQLite only the first six); [`FromValue`] impls accept every variant that can honestly hold
/// their type.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ValueRef<'a> {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
    /// A boolean.
    Bool(bool),
    /// A UUID.
    Uuid(Uuid),
    /// A UTC timestamp.
    Timestamp(DateTime<Utc>),
    /// A timestamp without time zone.
    DateTime(NaiveDateTime),
    /// A date.
    Date(NaiveDate),
    /// An array of text (PostgreSQL `text[]`).
    TextArray(&'a [String]),
    /// An array of integers (PostgreSQL `bigint[]`).
    IntArray(&'a [i64]),
    /// An exact decimal (PostgreSQL `numeric`), with the `decimal` feature.
    #[cfg(feature = "decimal")]
    Decimal(rust_decimal::Decimal),
}

impl ValueRef<'_> {
    /// A description for error messages, e.g. `text "abc"`.
    pub fn describe(&self) -> String {
        match self {
            ValueRef::Null => "NULL".into(),
            ValueRef::Int(i) => format!("integer {i}"),
            ValueRef::Float(f) => format!("float {f}"),
            ValueRef::Text(s) if s.len() > 40 => format!("text {:?}...", truncate(s, 40)),
            ValueRef::Text(s) => format!("text {s:?}"),
            ValueRef::Blob(b) => format!("blob of {} bytes", b.len()),
            ValueRef::Bool(b) => format!("bool {b}"),
            ValueRef::Uuid(u) => format!("uuid {u}"),
            ValueRef::Timestamp(t) => format!("timestamptz {t}"),
            ValueRef::DateTime(t) => format!("timestamp {t}"),
            ValueRef::Date(d) => format!("date {d}"),
            ValueRef::TextArray(a) => format!("text[] of {} elements", a.len()),
            ValueRef::IntArray(a) => format!("bigint[] of {} elements", a.len()),
            #[cfg(feature = "decimal")]
            ValueRef::Decimal(d) => format!("decimal {d}"),
        }
    }

    /// An owned copy.
    pub fn to_owned_value(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Text(s) => Value::Text(s.to_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Uuid(u) => Value::Uuid(u),
            ValueRef::Timestamp(t) => Value::Timestamp(t),
            ValueRef::DateTime(t) => Value::DateTime(t),
            ValueRef::Date(d) => Value::Date(d),
            ValueRef::TextArray(a) => Value::TextArray(a.to_vec()),
            ValueRef::IntArray(a) => Value::IntArray(a.to_vec()),
            #[cfg(feature = "decimal")]
            ValueRef::Decimal(d) => Value::Decimal(d),
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A Rust type that can be stored in a column: its portable column type, and how it is bound.
///
/// Implement it (with [`FromValue`]) to store your own type:
///
/// ```
/// use orm_core::{ColumnType, DecodeError, FromValue, ToValue, Value, ValueRef};
///
/// #[derive(Debug, Clone, PartialEq)]
/// struct Email(String);
///
/// impl ToValue for Email {
///     const COLUMN_TYPE: ColumnType = ColumnType::Text;
///     fn to_value(&self) -> Value { Value::Text(self.0.clone()) }
/// }
/// impl FromValue for Email {
///     fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
///         String::from_value(v).map(Email)
///     }
/// }
/// assert_eq!(Email("a@b.c".into()).to_value(), Value::Text("a@b.c".into()));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a column",
    label = "unsupported column type",
    note = "supported: i16, i32, i64, f32, f64, bool, String, Vec<u8>, DateTime<Utc>, NaiveDateTime, NaiveDate, Uuid, Json<T>, serde_json::Value, Vec<String>, Vec<i64>, #[derive(DbEnum)] enums, and Option of each",
    note = "a type of your own can be stored by implementing `ToValue` and `FromValue`"
)]
pub trait ToValue {
    /// The column type used in DDL.
    const COLUMN_TYPE: ColumnType;
    /// `true` only for `Option<T>`: the column is nullable.
    const NULLABLE: bool = false;
    /// The value to bind.
    fn to_value(&self) -> Value;

    /// Appends the value to a snapshot of the session's identity map: what encoding
    /// [`to_value`](Self::to_value) writes. Built-in types write the same bytes without the
    /// intermediate `Value`; not meant to be overridden elsewhere.
    #[doc(hidden)]
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        crate::snapshot::put_value(&self.to_value(), out);
    }
}

/// One result row, borrowed from the driver for the duration of a callback.
pub trait Row {
    /// The number of columns.
    fn len(&self) -> usize;

    /// Whether the row has no columns.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `idx` (0-based). An index past the end is an error, not a panic.
    fn get(&self, idx: usize) -> crate::error::Result<ValueRef<'_>>;

    /// The name of column `idx`, as the database reported it.
    fn column_name(&self, idx: usize) -> Option<&str>;

    /// The index of the column named `name`.
    fn column_index(&self, name: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.column_name(i) == Some(name))
    }
}

/// A Rust type that can be read from a column. See [`ToValue`] for an example.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a column",
    note = "a type of your own can be stored by implementing `ToValue` and `FromValue`"
)]
pub trait FromValue: Sized {
    /// Decode a borrowed value; a wrong type is a [`DecodeError`], never a panic.
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError>;

    /// Decodes the value at `offset + idx` of `row`, naming `column` in the error: what a
    /// derived `Model::decode` calls for each column. A method of the trait (generic over the
    /// type only), so one copy per field type is shared by every model, and a type that is not
    /// `FromValue` gets the same one error here as in [`FromValue::set_column_value`]. The
    /// index is added here, once, not in every model (an overflowing one is past the row's end:
    /// the row's error). Not meant to be overridden.
    #[doc(hidden)]
    fn decode_column(
        row: &dyn Row,
        offset: usize,
        idx: usize,
        column: &'static str,
    ) -> crate::error::Result<Self> {
        match Self::from_value(row.get(offset.saturating_add(idx))?) {
            Ok(v) => Ok(v),
            Err(e) => Err(decode_error_at(e, column)),
        }
    }

    /// Decodes `v` into `slot`, naming `column` in the error: what a derived
    /// `Model::set_column` calls for each column (a value the database generated). Not meant
    /// to be overridden.
    #[doc(hidden)]
    fn set_column_value(
        slot: &mut Self,
        v: ValueRef<'_>,
        column: &'static str,
    ) -> crate::error::Result<()> {
        match Self::from_value(v) {
            Ok(v) => {
                *slot = v;
                Ok(())
            }
            Err(e) => Err(decode_error_at(e, column)),
        }
    }
}

/// A [`DecodeError`] with its column: out of line, so the error path is one shared function,
/// not a copy in every field's decode.
#[cold]
#[inline(never)]
fn decode_error_at(e: DecodeError, column: &'static str) -> crate::error::Error {
    e.at(column)
}

macro_rules! int_impl {
    ($t:ty, $ct:expr, $name:literal) => {
        impl ToValue for $t {
            const COLUMN_TYPE: ColumnType = $ct;
            fn to_value(&self) -> Value {
                Value::Int(i64::from(*self))
            }
            fn snapshot_into(&self, out: &mut Vec<u8>) {
                crate::snapshot::put_int(i64::from(*self), out);
            }
        }
        impl FromValue for $t {
            fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
                match v {
                    ValueRef::Int(i) => <$t>::try_from(i)
                        .map_err(|_| DecodeError::new($name, format!("integer {i} out of range"))),
                    ValueRef::Bool(b) => Ok(<$t>::from(b)),
                    // A whole decimal in range (PostgreSQL's SUM of a bigint is a numeric).
                    #[cfg(feature = "decimal")]
                    ValueRef::Decimal(d) => {
                        use rust_decimal::prelude::ToPrimitive;
                        d.fract()
                            .is_zero()
                            .then(|| d.to_i64())
                            .flatten()
                            .and_then(|i| <$t>::try_from(i).ok())
                            .ok_or_else(|| DecodeError::new($name, format!("decimal {d}")))
                    }
                    other => Err(DecodeError::new($name, other.describe())),
                }
            }
        }
    };
}
int_impl!(i16, ColumnType::SmallInt, "i16");
int_impl!(i32, ColumnType::Integer, "i32");
int_impl!(i64, ColumnType::BigInt, "i64");

impl ToValue for f64 {
    const COLUMN_TYPE: ColumnType = ColumnType::Double;
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        crate::snapshot::put_float(*self, out);
    }
}
impl FromValue for f64 {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        match v {
            ValueRef::Float(f) => Ok(f),
            // Integers are exact in f64 up to 2^53; SQLite stores whole REALs as integers
            // only when asked, and aggregates over integers come back as integers.
            #[allow(clippy::cast_precision_loss)]
            ValueRef::Int(i) => Ok(i as f64),
            // The nearest float.
            #[cfg(feature = "decimal")]
            ValueRef::Decimal(d) => rust_decimal::prelude::ToPrimitive::to_f64(&d)
                .ok_or_else(|| DecodeError::new("f64", format!("decimal {d}"))),
            other => Err(DecodeError::new("f64", other.describe())),
        }
    }
}
impl ToValue for f32 {
    const COLUMN_TYPE: ColumnType = ColumnType::Real;
    fn to_value(&self) -> Value {
        Value::Float(f64::from(*self))
    }
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        crate::snapshot::put_float(f64::from(*self), out);
    }
}
impl FromValue for f32 {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        let f = f64::from_value(v).map_err(|e| DecodeError::new("f32", e.got))?;
        // A REAL column holds f32 values widened on the way in; narrowing them back is exact.
        #[allow(clippy::cast_possible_truncation)]
        Ok(f as f32)
    }
}

impl ToValue for bool {
    const COLUMN_TYPE: ColumnType = ColumnType::Boolean;
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        crate::snapshot::put_bool(*self, out);
    }
}
impl FromValue for bool {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        match v {
            ValueRef::Bool(b) => Ok(b),
            ValueRef::Int(0) => Ok(false),
            ValueRef::Int(1) => Ok(true),
            other => Err(DecodeError::new("bool", other.describe())),
        }
    }
}

impl ToValue for String {
    const COLUMN_TYPE: ColumnType = ColumnType::Text;
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        crate::snapshot::put_text(self, out);
    }
}
impl FromValue for String {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        match v {
            ValueRef::Text(s) => Ok(s.to_owned()),
            other => Err(DecodeError::new("String", other.describe())),
        }
    }
}

impl ToValue for str {
    const COLUMN_TYPE: ColumnType = ColumnType::Text;
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        crate::snapshot::put_text(self, out);
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    const COLUMN_TYPE: ColumnType = T::COLUMN_TYPE;
    const NULLABLE: bool = T::NULLABLE;
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        (**self).snapshot_into(out);
    }
}

impl ToValue for Vec<u8> {
    const COLUMN_TYPE: ColumnType = ColumnType::Blob;
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        crate::snapshot::put_blob(self, out);
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            other => Err(DecodeError::new("Vec<u8>", other.describe())),
        }
    }
}

/// The text form of a UTC timestamp where a backend has no timestamp type (SQLite):
/// `2024-05-01 12:30:00.000000`, in UTC with no suffix. It is SQLite's own form (what
/// `datetime()` and `CURRENT_TIMESTAMP` write, with a space) with six fractional digits always,
/// exactly as SQLAlchemy stores times in SQLite; fixed-width, so it sorts chronologically as text,
/// and SQLite's date functions read it. (Earlier versions of this ORM wrote
/// `2024-05-01T12:30:00.000000Z`: such texts still read back.)
pub const TIMESTAMPTZ_TEXT_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";
/// The text form of a timestamp without time zone: the same as [`TIMESTAMPTZ_TEXT_FORMAT`].
pub const TIMESTAMP_TEXT_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";
/// The text form of a date: `2024-05-01`, as SQLite's `date()` and SQLAlchemy write it.
pub const DATE_TEXT_FORMAT: &str = "%Y-%m-%d";

/// The current time truncated to whole microseconds, the precision both backends store (the
/// text forms above, PostgreSQL's `timestamptz`): what `default = now` gives a `DateTime<Utc>`
/// field, so that a saved object equals the row read back.
#[doc(hidden)]
pub fn now_utc() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// [`now_utc`] without time zone, for `NaiveDateTime` fields.
#[doc(hidden)]
pub fn now_naive_utc() -> NaiveDateTime {
    now_utc().naive_utc()
}

impl ToValue for DateTime<Utc> {
    const COLUMN_TYPE: ColumnType = ColumnType::Timestamptz;
    fn to_value(&self) -> Value {
        Value::Timestamp(*self)
    }
}
impl FromValue for DateTime<Utc> {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        match v {
            ValueRef::Timestamp(t) => Ok(t),
            ValueRef::Text(s) => parse_timestamptz(s)
                .ok_or_else(|| DecodeError::new("DateTime<Utc>", format!("text {s:?}"))),
            ValueRef::Int(secs) => DateTime::from_timestamp(secs, 0)
                .ok_or_else(|| DecodeError::new("DateTime<Utc>", format!("integer {secs}"))),
            other => Err(DecodeError::new("DateTime<Utc>", other.describe())),
        }
    }
}

/// A UTC time from text: `YYYY-MM-DD HH:MM:SS[.f]` (the stored form, SQLite's
/// `CURRENT_TIMESTAMP` and `datetime()`, SQLAlchemy's) or with `T` (this ORM's earlier form),
/// read as UTC; or RFC 3339 with an offset (`...Z`, `...+02:00`, `T` or space).
fn parse_timestamptz(s: &str) -> Option<DateTime<Utc>> {
    if let Some(n) = parse_naive(s) {
        return Some(n.and_utc());
    }
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// A time without zone from text: `YYYY-MM-DD HH:MM:SS[.f]`, or with `T` for the space.
fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    let format = match s.as_bytes().get(10) {
        Some(b'T') => "%Y-%m-%dT%H:%M:%S%.f",
        _ => "%Y-%m-%d %H:%M:%S%.f",
    };
    NaiveDateTime::parse_from_str(s, format).ok()
}

impl ToValue for NaiveDateTime {
    const COLUMN_TYPE: ColumnType = ColumnType::Timestamp;
    fn to_value(&self) -> Value {
        Value::DateTime(*self)
    }
}
impl FromValue for NaiveDateTime {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        match v {
            ValueRef::DateTime(t) => Ok(t),
            ValueRef::Text(s) => parse_naive(s)
                .ok_or_else(|| DecodeError::new("NaiveDateTime", format!("text {s:?}"))),
            other => Err(DecodeError::new("NaiveDateTime", other.describe())),
        }
    }
}

impl ToValue for NaiveDate {
    const COLUMN_TYPE: ColumnType = ColumnType::Date;
    fn to_value(&self) -> Value {
        Value::Date(*self)
    }
}
impl FromValue for NaiveDate {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        match v {
            ValueRef::Date(d) => Ok(d),
            ValueRef::Text(s) => NaiveDate::parse_from_str(s, DATE_TEXT_FORMAT)
                .map_err(|_| DecodeError::new("NaiveDate", format!("text {s:?}"))),
            other => Err(DecodeError::new("NaiveDate", other.describe())),
        }
    }
}

impl ToValue for Uuid {
    const COLUMN_TYPE: ColumnType = ColumnType::Uuid;
    fn to_value(&self) -> Value {
        Value::Uuid(*self)
    }
}
impl FromValue for Uuid {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        match v {
            ValueRef::Uuid(u) => Ok(u),
            ValueRef::Text(s) => {
                Uuid::parse_str(s).map_err(|_| DecodeError::new("Uuid", format!("text {s:?}")))
            }
            ValueRef::Blob(b) => Uuid::from_slice(b)
                .map_err(|_| DecodeError::new("Uuid", format!("blob of {} bytes", b.len()))),
            other => Err(DecodeError::new("Uuid", other.describe())),
        }
    }
}

/// A column holding any serde type as JSON: JSONB on PostgreSQL, JSON text on SQLite.
///
/// ```
/// use orm_core::{Json, ToValue, Value};
/// let j = Json(vec![1, 2]);
/// assert_eq!(j.to_value(), Value::Json(serde_json::json!([1, 2])));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// Written and read as `T` itself (no wrapper in the JSON a web app sends).
impl<T: serde::Serialize> serde::Serialize for Json<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Json<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Json)
    }
}

impl<T: serde::Serialize> ToValue for Json<T> {
    const COLUMN_TYPE: ColumnType = ColumnType::Json;
    fn to_value(&self) -> Value {
        // Serializing a value to a JSON tree fails only for maps with non-string keys; NULL is
        // the honest value then, and the NOT NULL constraint reports it.
        Value::Json(serde_json::to_value(&self.0).unwrap_or(serde_json::Value::Null))
    }
}
impl<T: serde::de::DeserializeOwned> FromValue for Json<T> {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        let number = match v {
            // A JSON number in a column SQLite gave NUMERIC affinity (declared `JSON`, as
            // other tools write it) is stored as a number.
            ValueRef::Int(i) => Some(serde_json::Value::from(i)),
            ValueRef::Float(f) => serde_json::Number::from_f64(f).map(serde_json::Value::Number),
            _ => None,
        };
        if let Some(n) = number {
            return serde_json::from_value(n)
                .map(Json)
                .map_err(|e| DecodeError::new("Json<T>", format!("JSON that does not fit: {e}")));
        }
        let text = match v {
            ValueRef::Text(s) => s.as_bytes(),
            ValueRef::Blob(b) => b,
            other => return Err(DecodeError::new("Json<T>", other.describe())),
        };
        serde_json::from_slice(text)
            .map(Json)
            .map_err(|e| DecodeError::new("Json<T>", format!("JSON that does not fit: {e}")))
    }
}

impl ToValue for serde_json::Value {
    const COLUMN_TYPE: ColumnType = ColumnType::Json;
    fn to_value(&self) -> Value {
        Value::Json(self.clone())
    }
}
impl FromValue for serde_json::Value {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        Json::<serde_json::Value>::from_value(v).map(|j| j.0)
    }
}

impl ToValue for Vec<String> {
    const COLUMN_TYPE: ColumnType = ColumnType::TextArray;
    fn to_value(&self) -> Value {
        Value::TextArray(self.clone())
    }
}
impl FromValue for Vec<String> {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        if let ValueRef::TextArray(a) = v {
            return Ok(a.to_vec());
        }
        Json::<Vec<String>>::from_value(v)
            .map(|j| j.0)
            .map_err(|e| DecodeError::new("Vec<String>", e.got))
    }
}

impl ToValue for Vec<i64> {
    const COLUMN_TYPE: ColumnType = ColumnType::BigIntArray;
    fn to_value(&self) -> Value {
        Value::IntArray(self.clone())
    }
}
impl FromValue for Vec<i64> {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        if let ValueRef::IntArray(a) = v {
            return Ok(a.to_vec());
        }
        Json::<Vec<i64>>::from_value(v)
            .map(|j| j.0)
            .map_err(|e| DecodeError::new("Vec<i64>", e.got))
    }
}

impl<T: ToValue> ToValue for Option<T> {
    const COLUMN_TYPE: ColumnType = T::COLUMN_TYPE;
    const NULLABLE: bool = true;
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        match self {
            Some(v) => v.snapshot_into(out),
            None => crate::snapshot::put_null(out),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A column the database may fill: [`DbDefault::Default`] leaves it to the column's server
/// default (an INSERT leaves the column out and reads the value back), [`DbDefault::Value`] is a
/// value like any other. A model field of type `DbDefault<T>` is a column of `T`'s type
/// (`DbDefault<Option<T>>` a nullable one) and needs `#[orm(server_default = "SQL")]`; the
/// generated `Default` gives it `DbDefault::Default`.
///
/// ```
/// use orm_core::{DbDefault, FromValue, ToValue, Value, ValueRef};
///
/// let views: DbDefault<i64> = DbDefault::default();
/// assert!(views.is_default());
/// assert_eq!(views.to_value(), Value::Default);
/// assert_eq!(DbDefault::from(7_i64).to_value(), Value::Int(7));
/// assert_eq!(DbDefault::<i64>::from_value(ValueRef::Int(3)), Ok(DbDefault::Value(3)));
/// ```
///
/// With serde it is `Option`-like: `Default` is `null`/none, `Value(v)` is `v`; so a
/// `DbDefault<Option<T>>` holding `Value(None)` reads back as `Default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DbDefault<T> {
    /// Whatever the column's server default gives, once the row is inserted.
    Default,
    /// This value.
    Value(T),
}

impl<T> DbDefault<T> {
    /// The value, if there is one.
    pub fn value(&self) -> Option<&T> {
        match self {
            DbDefault::Default => None,
            DbDefault::Value(v) => Some(v),
        }
    }

    /// The value, if there is one.
    pub fn into_value(self) -> Option<T> {
        match self {
            DbDefault::Default => None,
            DbDefault::Value(v) => Some(v),
        }
    }

    /// Whether this is [`DbDefault::Default`].
    pub fn is_default(&self) -> bool {
        matches!(self, DbDefault::Default)
    }
}

/// [`DbDefault::Default`], whatever `T` is (a derived impl would need `T: Default`).
impl<T> Default for DbDefault<T> {
    fn default() -> Self {
        DbDefault::Default
    }
}

impl<T> From<T> for DbDefault<T> {
    fn from(v: T) -> Self {
        DbDefault::Value(v)
    }
}

impl<T: serde::Serialize> serde::Serialize for DbDefault<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            DbDefault::Default => serializer.serialize_none(),
            DbDefault::Value(v) => serializer.serialize_some(v),
        }
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for DbDefault<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer)
            .map(|v| v.map_or(DbDefault::Default, DbDefault::Value))
    }
}

/// `T`'s column; [`DbDefault::Default`] is [`Value::Default`].
impl<T: ToValue> ToValue for DbDefault<T> {
    const COLUMN_TYPE: ColumnType = T::COLUMN_TYPE;
    const NULLABLE: bool = T::NULLABLE;
    fn to_value(&self) -> Value {
        match self {
            DbDefault::Default => Value::Default,
            DbDefault::Value(v) => v.to_value(),
        }
    }
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        match self {
            DbDefault::Default => crate::snapshot::put_value(&Value::Default, out),
            DbDefault::Value(v) => v.snapshot_into(out),
        }
    }
}

/// A value read from the database is always a [`DbDefault::Value`].
impl<T: FromValue> FromValue for DbDefault<T> {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        T::from_value(v).map(DbDefault::Value)
    }
}

/// An enum stored by label, implemented by `#[derive(DbEnum)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `#[derive(DbEnum)]` enum",
    label = "a text `default` needs a `String` field, or a `DbEnum` one (the text is a label)"
)]
pub trait DbEnum: Sized + Copy + 'static {
    /// The SQL type's name (snake_case of the enum's name unless `#[orm(type_name = "...")]`).
    const TYPE_NAME: &'static str;
    /// Every label, in declaration order.
    const LABELS: &'static [&'static str];
    /// This variant's label.
    fn label(&self) -> &'static str;
    /// The variant with this label.
    fn from_label(label: &str) -> Option<Self>;
}

/// Whether `E` has the label `label`: the derive's compile-time check of a `default = "label"`
/// on a `DbEnum` field.
pub const fn enum_has_label<E: DbEnum>(label: &str) -> bool {
    let labels = E::LABELS;
    let mut i = 0;
    while i < labels.len() {
        if crate::relation::str_eq(labels[i], label) {
            return true;
        }
        i += 1;
    }
    false
}

/// The variant of `E` labelled `label`, which the derive has checked at compile time
/// ([`enum_has_label`]); `E`'s `Default` otherwise, which does not happen.
pub fn enum_from_label<E: DbEnum + Default>(label: &str) -> E {
    E::from_label(label).unwrap_or_default()
}

/// Decodes a [`DbEnum`] from its label; used by the derive's `FromValue` impl.
pub fn decode_enum<E: DbEnum>(v: ValueRef<'_>) -> Result<E, DecodeError> {
    match v {
        ValueRef::Text(s) => E::from_label(s)
            .ok_or_else(|| DecodeError::new(E::TYPE_NAME, format!("unknown label {s:?}"))),
        other => Err(DecodeError::new(E::TYPE_NAME, other.describe())),
    }
}

/// An exact decimal: `NUMERIC` on PostgreSQL. With the `decimal` feature.
///
/// ```
/// use orm_core::{Decimal, FromValue, ToValue, Value, ValueRef};
///
/// let d: Decimal = "19.99".parse().unwrap();
/// assert_eq!(d.to_value(), Value::Decimal(d));
/// assert_eq!(Decimal::from_value(ValueRef::Text("19.99")), Ok(d));
/// assert_eq!(Decimal::from_value(ValueRef::Int(3)), Ok(Decimal::from(3)));
/// ```
#[cfg(feature = "decimal")]
impl ToValue for rust_decimal::Decimal {
    const COLUMN_TYPE: ColumnType = ColumnType::Numeric;
    fn to_value(&self) -> Value {
        Value::Decimal(*self)
    }
}

/// Reads a decimal, an integer, or decimal text (how a backend without a decimal type stores
/// one); a float is taken by its shortest decimal form.
#[cfg(feature = "decimal")]
impl FromValue for rust_decimal::Decimal {
    fn from_value(v: ValueRef<'_>) -> Result<Self, DecodeError> {
        use std::str::FromStr;
        let parse = |s: &str| {
            rust_decimal::Decimal::from_str(s)
                .or_else(|_| rust_decimal::Decimal::from_scientific(s))
                .ok()
        };
        match v {
            ValueRef::Decimal(d) => Ok(d),
            ValueRef::Int(i) => Ok(rust_decimal::Decimal::from(i)),
            ValueRef::Text(s) => {
                parse(s).ok_or_else(|| DecodeError::new("Decimal", format!("text {s:?}")))
            }
            ValueRef::Float(f) => parse(&f.to_string())
                .ok_or_else(|| DecodeError::new("Decimal", format!("float {f}"))),
            other => Err(DecodeError::new("Decimal", other.describe())),
        }
    }
}

/// A row key as values, usable in hash maps: keys are integers, text, UUIDs and the like, so
/// floats hash by their bits and JSON by its text (a NaN key never equals itself, as in SQL).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyValues(pub(crate) Vec<Value>);

impl Eq for KeyValues {}

impl std::hash::Hash for KeyValues {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        KeyRef(&self.0).hash(state);
    }
}

/// [`KeyValues`] borrowed: the same equality and hash, without a copy of the values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KeyRef<'a>(pub(crate) &'a [Value]);

impl Eq for KeyRef<'_> {}

impl std::hash::Hash for KeyRef<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for v in self.0 {
            std::mem::discriminant(v).hash(state);
            match v {
                Value::Null => {}
                Value::Bool(b) => b.hash(state),
                Value::Int(i) => i.hash(state),
                Value::Float(f) => f.to_bits().hash(state),
                Value::Text(s) => s.hash(state),
                Value::Blob(b) => b.hash(state),
                Value::Uuid(u) => u.hash(state),
                Value::Timestamp(t) => t.hash(state),
                Value::DateTime(t) => t.hash(state),
                Value::Date(d) => d.hash(state),
                Value::Json(j) => j.to_string().hash(state),
                Value::TextArray(a) => a.hash(state),
                Value::IntArray(a) => a.hash(state),
                Value::Enum { type_name, label } => (type_name, label).hash(state),
                other => format!("{other:?}").hash(state),
            }
        }
    }
}

/// The order of two key columns' values, as both backends sort them with their default
/// settings: numbers by value, text and bytes byte by byte (SQLite's `BINARY` collation and
/// PostgreSQL's `C`), UUIDs by their bytes, times by time, enums by label. Values of different
/// kinds (which no key column holds) order by kind.
pub(crate) fn key_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(y),
        (Value::Text(x), Value::Text(y)) => x.cmp(y),
        (Value::Blob(x), Value::Blob(y)) => x.cmp(y),
        (Value::Uuid(x), Value::Uuid(y)) => x.cmp(y),
        (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::TextArray(x), Value::TextArray(y)) => x.cmp(y),
        (Value::IntArray(x), Value::IntArray(y)) => x.cmp(y),
        (Value::Enum { label: x, .. }, Value::Enum { label: y, .. }) => x.cmp(y),
        #[cfg(feature = "decimal")]
        (Value::Decimal(x), Value::Decimal(y)) => x.cmp(y),
        (Value::Json(x), Value::Json(y)) => x.to_string().cmp(&y.to_string()),
        (Value::List(x), Value::List(y)) => x
            .iter()
            .zip(y)
            .map(|(x, y)| key_order(x, y))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        _ => kind_rank(a).cmp(&kind_rank(b)),
    }
}

/// A place for each kind of value, for [`key_order`] of values of different kinds.
fn kind_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) => 2,
        Value::Float(_) => 3,
        #[cfg(feature = "decimal")]
        Value::Decimal(_) => 4,
        Value::Text(_) => 5,
        Value::Blob(_) => 6,
        Value::Uuid(_) => 7,
        Value::Timestamp(_) => 8,
        Value::DateTime(_) => 9,
        Value::Date(_) => 10,
        Value::Json(_) => 11,
        Value::TextArray(_) => 12,
        Value::IntArray(_) => 13,
        Value::List(_) => 14,
        Value::Enum { .. } => 15,
        Value::Default => 16,
    }
}

/// Key values read raw from another table's columns (an association table's, or a key query's),
/// in the form the model's own objects give them (`key_values`), so the two compare equal: a
/// UUID that SQLite returns as text becomes a UUID, a 0/1 a bool.
pub(crate) fn typed_key(values: Vec<Value>, types: &[crate::schema::ColumnType]) -> Vec<Value> {
    use crate::schema::ColumnType;
    values
        .into_iter()
        .zip(types)
        .map(|(v, ty)| match (v, ty) {
            (Value::Text(t), ColumnType::Uuid) => {
                uuid::Uuid::parse_str(&t).map(Value::Uuid).unwrap_or(Value::Text(t))
            }
            (Value::Int(i), ColumnType::Boolean) => Value::Bool(i != 0),
            (v, _) => v,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::{Equal, Greater, Less};

    #[test]
    fn key_order_sorts_keys_as_both_backends_do_by_default() {
        assert_eq!(key_order(&Value::Int(-2), &Value::Int(10)), Less);
        assert_eq!(key_order(&Value::Int(7), &Value::Int(7)), Equal);
        // Text byte by byte (SQLite's BINARY, PostgreSQL's C), not by a locale's rules.
        assert_eq!(key_order(&Value::Text("B".into()), &Value::Text("a".into())), Less);
        assert_eq!(key_order(&Value::Text("é".into()), &Value::Text("z".into())), Greater);
        assert_eq!(key_order(&Value::Text("ab".into()), &Value::Text("abc".into())), Less);
        let (u1, u2) = (Uuid::from_u128(1 << 120), Uuid::from_u128(2));
        assert_eq!(key_order(&Value::Uuid(u1), &Value::Uuid(u2)), Greater, "by bytes");
        let d = |s: &str| Value::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"));
        assert_eq!(key_order(&d("2024-02-01"), &d("2024-10-01")), Less);
        assert_eq!(key_order(&Value::Int(99), &Value::Text("1".into())), Less, "by kind");
    }
}
