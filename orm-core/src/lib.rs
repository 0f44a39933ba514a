//! Backend-neutral core of the `orm` crate: schema metadata, values, the [`Model`] trait, typed
//! columns and expressions, the query AST, the [`Dialect`] and [`Connection`] traits that backends
//! implement, the [`Session`] (unit of work) and the [`Engine`] (a pool of connections; `orm::Database` in the facade).
//!
//! Applications use it through the `orm` facade crate, which adds the backends and the derives.

pub mod connection;
pub mod dialect;
pub mod engine;
pub mod error;
pub mod expr;
mod keyhash;
pub mod loading;
pub mod migrate;
pub mod model;
pub mod query;
pub mod raw;
pub mod relation;
pub mod schema;
pub mod session;
mod snapshot;
pub mod statement;
pub mod url;
pub mod value;

/// Hash maps and sets keyed by keys the ORM hashes per row (identity map, caches): foldhash,
/// seeded per process, instead of SipHash.
pub(crate) mod fast {
    /// A `HashMap` with foldhash.
    pub type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
    /// A `HashSet` with foldhash.
    pub type Set<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
    /// A `HashMap` of identity-map keys, whose integer keys that are close get buckets that
    /// are close ([`crate::keyhash`]).
    pub type KeyMap<V> =
        std::collections::HashMap<crate::model::MapKey, V, crate::keyhash::KeyState>;
}

pub use connection::{Connection, Connector, PoolConfig, Row};
pub use dialect::{Dialect, SqlWriter};
pub use engine::{Engine, EngineOptions, StatementEvent, StatementListener};
pub use error::{ConstraintInfo, DecodeError, DriverError, Error, Result};
pub use expr::{
    avg, count, count_distinct, count_star, escape_like, lower, max, min, search, search_websearch,
    sum, upper, ArrayType, Assignment, Column, Contains, IntoTyped, JsonType, Nullable,
    NumericType, Operand, Selectable, TextType, TypedExpr, LIKE_ESCAPE,
};
pub use loading::{LoadPath, Then};
pub use model::{ColumnMask, Model, ModelEntry, Related};
pub use query::{select, Page, Query, ReadQuery, Select, SelectColumns, SelectQuery};
pub use raw::FromRow;
pub use relation::{Cascade, Relation, RelationKind, RelationSchema, Through};
/// The exact decimal type of `NUMERIC` columns, with the `decimal` feature.
#[cfg(feature = "decimal")]
pub use rust_decimal::Decimal;
pub use schema::{
    CheckSchema, ColumnSchema, ColumnType, DefaultValue, ForeignKeySchema, IndexKeySchema,
    IndexSchema, ReferentialAction, TableSchema, UniqueSchema,
};
pub use session::{Handle, Nested, RawQuery, Session};
pub use statement::{ArrayOp, Expr, JsonOp, OrderBy};
pub use value::{DbDefault, DbEnum, FromValue, Json, ToValue, Value, ValueRef};

/// Items the derive macros' generated code names. Not a public API: may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::connection::decode_at;
    pub use crate::model::{
        any_models, any_models_mut, concat_bytes, no_such_column, str_from_utf8, ForeignKeyOf,
    };
    pub use crate::raw::column_index;
    pub use crate::relation::{
        association_sides_agree, count_foreign_keys_to, field_column, inferred_foreign_key,
    };
    pub use crate::value::{decode_enum, enum_from_label, enum_has_label, now_naive_utc, now_utc};
    pub use chrono;
    pub use inventory;
    pub use uuid;
}
