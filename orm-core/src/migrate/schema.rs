//! An owned, comparable model of a database schema: tables with their columns, primary key,
//! indexes, UNIQUE, FOREIGN KEY and CHECK constraints, and enum types. Built from the models'
//! static [`TableSchema`]s, by replaying revision files, or by reflecting a live database; the
//! autogenerator diffs two of them. The same structs are what revision files hold.

use crate::schema::{ColumnType, DefaultValue, ReferentialAction, TableSchema};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A column's portable type, written in revision files as a short name: `bigint`, `text`,
/// `timestamptz`, `text[]`, `enum(post_status)`, `custom(NUMERIC(10, 2))`...
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SqlType {
    /// 16-bit integer.
    SmallInt,
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    BigInt,
    /// 32-bit float.
    Real,
    /// 64-bit float.
    Double,
    /// Boolean.
    Boolean,
    /// Text (`VARCHAR(n)` with a `max_length`).
    Text,
    /// Bytes.
    Blob,
    /// Timestamp with time zone.
    Timestamptz,
    /// Timestamp without time zone.
    Timestamp,
    /// Date.
    Date,
    /// UUID.
    Uuid,
    /// JSON document.
    Json,
    /// Array of text.
    TextArray,
    /// Array of 64-bit integers.
    BigIntArray,
    /// Exact decimal.
    Numeric,
    /// A named enum type (its labels are in [`Schema::enums`]).
    Enum(String),
    /// A type written verbatim.
    Custom(String),
}

impl SqlType {
    /// The portable type of a model column.
    pub fn of(ty: ColumnType) -> SqlType {
        match ty {
            ColumnType::SmallInt => SqlType::SmallInt,
            ColumnType::Integer => SqlType::Integer,
            ColumnType::BigInt => SqlType::BigInt,
            ColumnType::Real => SqlType::Real,
            ColumnType::Double => SqlType::Double,
            ColumnType::Boolean => SqlType::Boolean,
            ColumnType::Text => SqlType::Text,
            ColumnType::Blob => SqlType::Blob,
            ColumnType::Timestamptz => SqlType::Timestamptz,
            ColumnType::Timestamp => SqlType::Timestamp,
            ColumnType::Date => SqlType::Date,
            ColumnType::Uuid => SqlType::Uuid,
            ColumnType::Json => SqlType::Json,
            ColumnType::TextArray => SqlType::TextArray,
            ColumnType::BigIntArray => SqlType::BigIntArray,
            ColumnType::Enum { name, .. } => SqlType::Enum(name.to_owned()),
            ColumnType::Custom(s) => SqlType::Custom(s.to_owned()),
            #[cfg(feature = "decimal")]
            ColumnType::Numeric => SqlType::Numeric,
        }
    }

    /// The core's [`ColumnType`] for the types that need no name (not enum, custom or numeric),
    /// so a dialect's `column_type` can name them.
    pub fn column_type(&self) -> Option<ColumnType> {
        Some(match self {
            SqlType::SmallInt => ColumnType::SmallInt,
            SqlType::Integer => ColumnType::Integer,
            SqlType::BigInt => ColumnType::BigInt,
            SqlType::Real => ColumnType::Real,
            SqlType::Double => ColumnType::Double,
            SqlType::Boolean => ColumnType::Boolean,
            SqlType::Text => ColumnType::Text,
            SqlType::Blob => ColumnType::Blob,
            SqlType::Timestamptz => ColumnType::Timestamptz,
            SqlType::Timestamp => ColumnType::Timestamp,
            SqlType::Date => ColumnType::Date,
            SqlType::Uuid => ColumnType::Uuid,
            SqlType::Json => ColumnType::Json,
            SqlType::TextArray => ColumnType::TextArray,
            SqlType::BigIntArray => ColumnType::BigIntArray,
            SqlType::Numeric | SqlType::Enum(_) | SqlType::Custom(_) => return None,
        })
    }

    /// Whether it is one of the integer types.
    pub fn is_integer(&self) -> bool {
        matches!(self, SqlType::SmallInt | SqlType::Integer | SqlType::BigInt)
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            SqlType::SmallInt => "smallint",
            SqlType::Integer => "integer",
            SqlType::BigInt => "bigint",
            SqlType::Real => "real",
            SqlType::Double => "double",
            SqlType::Boolean => "boolean",
            SqlType::Text => "text",
            SqlType::Blob => "blob",
            SqlType::Timestamptz => "timestamptz",
            SqlType::Timestamp => "timestamp",
            SqlType::Date => "date",
            SqlType::Uuid => "uuid",
            SqlType::Json => "json",
            SqlType::TextArray => "text[]",
            SqlType::BigIntArray => "bigint[]",
            SqlType::Numeric => "numeric",
            SqlType::Enum(n) => return write!(f, "enum({n})"),
            SqlType::Custom(s) => return write!(f, "custom({s})"),
        };
        f.write_str(s)
    }
}

impl From<SqlType> for String {
    fn from(t: SqlType) -> String {
        t.to_string()
    }
}

impl TryFrom<String> for SqlType {
    type Error = String;
    fn try_from(s: String) -> Result<SqlType, String> {
        let t = s.trim();
        let inner = |prefix: &str| {
            let lower = t.get(..prefix.len())?.to_ascii_lowercase();
            (lower == prefix).then(|| t[prefix.len()..].strip_suffix(')')).flatten()
        };
        if let Some(n) = inner("enum(") {
            return Ok(SqlType::Enum(n.trim().to_owned()));
        }
        if let Some(c) = inner("custom(") {
            return Ok(SqlType::Custom(c.to_owned()));
        }
        Ok(match t.to_ascii_lowercase().as_str() {
            "smallint" => SqlType::SmallInt,
            "integer" => SqlType::Integer,
            "bigint" => SqlType::BigInt,
            "real" => SqlType::Real,
            "double" => SqlType::Double,
            "boolean" => SqlType::Boolean,
            "text" => SqlType::Text,
            "blob" => SqlType::Blob,
            "timestamptz" => SqlType::Timestamptz,
            "timestamp" => SqlType::Timestamp,
            "date" => SqlType::Date,
            "uuid" => SqlType::Uuid,
            "json" => SqlType::Json,
            "text[]" => SqlType::TextArray,
            "bigint[]" => SqlType::BigIntArray,
            "numeric" => SqlType::Numeric,
            _ => {
                return Err(format!(
                    "unknown column type {s:?}: expected smallint, integer, bigint, real, double, \
                     boolean, text, blob, timestamptz, timestamp, date, uuid, json, text[], \
                     bigint[], numeric, enum(name) or custom(SQL type)"
                ))
            }
        })
    }
}

/// A literal column default (`default = 0`, `default = "draft"`, `default = true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Literal {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Float(x) => write!(f, "{x:?}"),
            Literal::Text(s) => write!(f, "{s:?}"),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_no_action(a: &ReferentialAction) -> bool {
    *a == ReferentialAction::NoAction
}

/// One column. Columns are NOT NULL unless `nullable = true`, as model fields are unless
/// `Option<T>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its portable type.
    #[serde(rename = "type")]
    pub ty: SqlType,
    /// Whether it accepts NULL.
    #[serde(default, skip_serializing_if = "is_false")]
    pub nullable: bool,
    /// `VARCHAR(n)` for text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// A literal default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Literal>,
    /// A default written as SQL (`CURRENT_TIMESTAMP`); wins over `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_default: Option<String>,
    /// Generated by the database (an integer key: identity on PostgreSQL, the rowid on SQLite).
    #[serde(default, skip_serializing_if = "is_false")]
    pub auto_increment: bool,
}

impl Column {
    /// A NOT NULL column with nothing else set.
    pub fn new(name: impl Into<String>, ty: SqlType) -> Column {
        Column {
            name: name.into(),
            ty,
            nullable: false,
            max_length: None,
            default: None,
            server_default: None,
            auto_increment: false,
        }
    }

    /// The column of a model.
    pub fn of(c: &crate::schema::ColumnSchema) -> Column {
        let default = match c.default {
            Some(DefaultValue::Int(i)) => Some(Literal::Int(i)),
            Some(DefaultValue::Float(x)) => Some(Literal::Float(x)),
            Some(DefaultValue::Bool(b)) => Some(Literal::Bool(b)),
            Some(DefaultValue::Text(t)) => Some(Literal::Text(t.to_owned())),
            // `now` and `uuid4` are applied by the client only.
            _ => None,
        };
        Column {
            name: c.name.to_owned(),
            ty: SqlType::of(c.ty),
            nullable: c.nullable,
            max_length: if c.ty == ColumnType::Text { c.max_length } else { None },
            // The database ignores a literal default when it has its own.
            default: if c.server_default.is_some() { None } else { default },
            server_default: c.server_default.map(str::to_owned),
            auto_increment: c.auto_increment,
        }
    }

    /// What differs from `other`, in words (`type bigint -> text, nullable`), or `None`.
    pub fn describe_change(&self, to: &Column) -> Option<String> {
        let mut parts = Vec::new();
        if self.ty != to.ty {
            parts.push(format!("type {} -> {}", self.ty, to.ty));
        }
        if self.max_length != to.max_length {
            parts.push(format!("max_length {:?} -> {:?}", self.max_length, to.max_length));
        }
        if self.nullable != to.nullable {
            parts.push(if to.nullable { "nullable".into() } else { "not null".into() });
        }
        if self.default != to.default || self.server_default != to.server_default {
            let d = |c: &Column| match (&c.server_default, &c.default) {
                (Some(s), _) => s.clone(),
                (None, Some(l)) => l.to_string(),
                (None, None) => "none".into(),
            };
            parts.push(format!("default {} -> {}", d(self), d(to)));
        }
        if self.auto_increment != to.auto_increment {
            parts.push(format!("auto_increment {} -> {}", self.auto_increment, to.auto_increment));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// A UNIQUE index.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
}

/// A UNIQUE constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unique {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
}

/// A FOREIGN KEY constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignKey {
    /// Its name.
    pub name: String,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub ref_table: String,
    /// The referenced columns.
    pub ref_columns: Vec<String>,
    /// `ON DELETE`.
    #[serde(default, skip_serializing_if = "is_no_action")]
    pub on_delete: ReferentialAction,
    /// `ON UPDATE`.
    #[serde(default, skip_serializing_if = "is_no_action")]
    pub on_update: ReferentialAction,
}

/// A CHECK constraint (written by hand in a revision; models have none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Its name.
    pub name: String,
    /// The condition, as SQL.
    pub expr: String,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<Column>,
    /// The primary key's columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primary_key: Vec<String>,
    /// Indexes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// UNIQUE constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<Unique>,
    /// FOREIGN KEY constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// CHECK constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

impl Table {
    /// The table of a model.
    pub fn of(t: &TableSchema) -> Table {
        Table {
            name: t.name.to_owned(),
            columns: t.columns.iter().map(Column::of).collect(),
            primary_key: t.primary_key_columns().map(|c| c.name.to_owned()).collect(),
            indexes: t
                .indexes
                .iter()
                .map(|i| Index {
                    name: i.name.to_owned(),
                    columns: i.columns.iter().map(|c| (*c).to_owned()).collect(),
                    unique: i.unique,
                })
                .collect(),
            uniques: t
                .uniques
                .iter()
                .map(|u| Unique {
                    name: u.name.to_owned(),
                    columns: u.columns.iter().map(|c| (*c).to_owned()).collect(),
                })
                .collect(),
            foreign_keys: t
                .foreign_keys
                .iter()
                .map(|f| ForeignKey {
                    name: f.name.to_owned(),
                    columns: f.columns.iter().map(|c| (*c).to_owned()).collect(),
                    ref_table: f.ref_table.to_owned(),
                    ref_columns: f.ref_columns.iter().map(|c| (*c).to_owned()).collect(),
                    on_delete: f.on_delete,
                    on_update: f.on_update,
                })
                .collect(),
            checks: Vec::new(),
        }
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether `column` is part of the primary key, an index or a constraint.
    pub fn is_constrained(&self, column: &str) -> bool {
        let has = |cols: &[String]| cols.iter().any(|c| c == column);
        has(&self.primary_key)
            || self.indexes.iter().any(|i| has(&i.columns))
            || self.uniques.iter().any(|u| has(&u.columns))
            || self.foreign_keys.iter().any(|f| has(&f.columns))
    }

    /// The tables this one references, without itself.
    pub fn dependencies(&self) -> impl Iterator<Item = &str> + '_ {
        self.foreign_keys.iter().map(|f| f.ref_table.as_str()).filter(move |t| *t != self.name)
    }
}

/// A whole schema: tables by name, enum types by name with their labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    /// The tables.
    pub tables: BTreeMap<String, Table>,
    /// The enum types and their labels, in order.
    pub enums: BTreeMap<String, Vec<String>>,
}

impl Schema {
    /// The schema the models describe.
    pub fn from_tables(tables: &[&TableSchema]) -> Schema {
        let mut s = Schema::default();
        for t in tables {
            for c in t.columns {
                if let ColumnType::Enum { name, variants } = c.ty {
                    s.enums
                        .entry(name.to_owned())
                        .or_insert_with(|| variants.iter().map(|v| (*v).to_owned()).collect());
                }
            }
            s.tables.insert(t.name.to_owned(), Table::of(t));
        }
        s
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// The tables, parents before the tables that reference them (by name within a cycle).
    pub fn tables_in_dependency_order(&self) -> Vec<&Table> {
        let mut out: Vec<&Table> = Vec::new();
        let mut state: BTreeMap<&str, u8> = BTreeMap::new();
        fn visit<'a>(
            t: &'a Table,
            s: &'a Schema,
            state: &mut BTreeMap<&'a str, u8>,
            out: &mut Vec<&'a Table>,
        ) {
            if state.get(t.name.as_str()).is_some() {
                return;
            }
            state.insert(&t.name, 1);
            for dep in t.dependencies() {
                if let Some(d) = s.tables.get(dep) {
                    visit(d, s, state, out);
                }
            }
            state.insert(&t.name, 2);
            out.push(t);
        }
        for t in self.tables.values() {
            visit(t, self, &mut state, &mut out);
        }
        out
    }

    /// Whether the schema has nothing in it.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.enums.is_empty()
    }
}
