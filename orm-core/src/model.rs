//! The [`Model`] trait that `#[derive(Model)]` implements, the column bit mask used for dirty
//! tracking, relationship fields ([`Related`]) and the registry of models (so `create_all` and
//! the migration engine need no hand-kept list).

use crate::connection::Row;
use crate::error::{Error, Result};
use crate::schema::TableSchema;
use crate::value::{Value, ValueRef};
use std::any::Any;
use std::fmt::Debug;
use std::hash::Hash;

/// The most columns a model may have (the width of [`ColumnMask`]).
pub const MAX_COLUMNS: usize = 256;

/// A set of column indexes: which columns an UPDATE writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ColumnMask([u64; MAX_COLUMNS / 64]);

impl ColumnMask {
    /// No columns.
    pub const fn empty() -> Self {
        ColumnMask([0; MAX_COLUMNS / 64])
    }

    /// Adds column `idx` (indexes past [`MAX_COLUMNS`] are ignored; the derive refuses them).
    pub fn set(&mut self, idx: usize) {
        if let Some(word) = self.0.get_mut(idx / 64) {
            *word |= 1u64 << (idx % 64);
        }
    }

    /// Removes column `idx`.
    pub fn remove(&mut self, idx: usize) {
        if let Some(word) = self.0.get_mut(idx / 64) {
            *word &= !(1u64 << (idx % 64));
        }
    }

    /// Whether column `idx` is in the set.
    pub fn contains(&self, idx: usize) -> bool {
        self.0.get(idx / 64).is_some_and(|w| w & (1u64 << (idx % 64)) != 0)
    }

    /// The columns in both sets.
    pub fn intersection(&self, other: &ColumnMask) -> ColumnMask {
        let mut out = *self;
        for (w, o) in out.0.iter_mut().zip(other.0) {
            *w &= o;
        }
        out
    }

    /// The columns of this set that are not in `other`.
    pub fn difference(&self, other: &ColumnMask) -> ColumnMask {
        let mut out = *self;
        for (w, o) in out.0.iter_mut().zip(other.0) {
            *w &= !o;
        }
        out
    }

    /// The columns in either set.
    pub fn union(&self, other: &ColumnMask) -> ColumnMask {
        let mut out = *self;
        for (w, o) in out.0.iter_mut().zip(other.0) {
            *w |= o;
        }
        out
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// The number of columns in the set.
    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The column indexes, ascending. Visits the set bits only, not all [`MAX_COLUMNS`]: an
    /// UPDATE's parameters and cache key are read from here for every row written.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                Some(w * 64 + bit)
            })
        })
    }
}

/// A struct mapped to a table. Implemented by `#[derive(Model)]`; the methods are the session's
/// and query builder's interface to the struct, not meant to be called by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "not a model",
    note = "a model is a struct with `#[derive(Model)]`"
)]
pub trait Model: Sized + Send + 'static {
    /// The primary key: the key column's type, or a tuple for a composite key.
    type Key: Clone + Eq + Hash + Debug + Send + Sync + 'static;
    /// The columns-only copy the session keeps of each loaded row, to find what changed.
    type Snapshot: Send + Sync + 'static;

    /// The table's schema.
    const TABLE: &'static TableSchema;

    /// The table's name, as a constant of its own: other models' schemas name it in their
    /// foreign keys, and reading it from [`Model::TABLE`] there would make a model that
    /// references itself (or two that reference each other) a cycle in constant evaluation.
    const TABLE_NAME: &'static str = Self::TABLE.name;

    /// The primary key's column names, in key order: the columns a foreign key to this model
    /// references.
    const PRIMARY_KEY_COLUMNS: &'static [&'static str];

    /// The relationships this model declares, in field order.
    const RELATIONS: &'static [crate::schema::RelationSchema] = &[];

    /// The primary key, or `None` when the database has yet to assign it (an integer key of 0).
    fn key(&self) -> Option<Self::Key>;

    /// The key's values, in primary-key column order.
    fn key_values(key: &Self::Key) -> Vec<Value>;

    /// Decodes a row whose columns, from `offset`, are this table's in schema order.
    fn decode(row: &dyn Row, offset: usize) -> Result<Self>;

    /// The value of column `idx` (schema order), for binding.
    fn column_value(&self, idx: usize) -> Value;

    /// Writes a value the database generated (RETURNING) into column `idx`.
    fn set_column(&mut self, idx: usize, value: ValueRef<'_>) -> Result<()>;

    /// A columns-only copy.
    fn snapshot(&self) -> Self::Snapshot;

    /// A model with the snapshot's columns; relationships unloaded, skipped fields default.
    fn from_snapshot(snapshot: &Self::Snapshot) -> Self;

    /// The columns whose values differ from the snapshot's.
    fn changed_columns(&self, snapshot: &Self::Snapshot) -> ColumnMask;

    /// Overwrites the columns in `mask` with the snapshot's values; relationships and skipped
    /// fields stay as they are.
    fn restore_columns(&mut self, snapshot: &Self::Snapshot, mask: ColumnMask);

    /// Appends the columns, encoded, to a snapshot of the session's identity map
    /// ([`ToValue::snapshot_into`](crate::ToValue::snapshot_into) of each, in column order).
    /// Implemented by the derive; not meant to be called by hand.
    #[doc(hidden)]
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        for idx in 0..Self::TABLE.columns.len() {
            crate::snapshot::put_value(&self.column_value(idx), out);
        }
    }

    /// The loaded targets of relationship `rel` (index into [`Model::RELATIONS`]), or `None`
    /// when it is not loaded.
    fn related(&self, rel: usize) -> Option<Vec<&dyn AnyModel>> {
        let _ = rel;
        None
    }

    /// The loaded targets of relationship `rel`, mutably.
    fn related_mut(&mut self, rel: usize) -> Option<Vec<&mut dyn AnyModel>> {
        let _ = rel;
        None
    }
}

/// A model's columns as the session's identity map keeps them, without their type: one body of
/// the map's code for every model. Not a public API.
#[doc(hidden)]
pub use crate::snapshot::SnapshotRef;

/// A primary key as the session's identity map holds it: a single integer (most keys) without
/// allocating, otherwise the key's values. Keys of one model compare as their Rust values do:
/// the map is per model, and [`Model::key_values`] is one-to-one. Not a public API.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapKey(KeyRepr);

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyRepr {
    Int(i64),
    /// Boxed, so that the common integer key keeps the map's entries small.
    Values(Box<crate::value::KeyValues>),
}

impl MapKey {
    /// The map key of `M`'s key `key`: an `i64` or `i32` key without allocating.
    pub fn of<M: Model>(key: &M::Key) -> MapKey {
        let any: &dyn Any = key;
        if let Some(i) = any.downcast_ref::<i64>() {
            return MapKey(KeyRepr::Int(*i));
        }
        if let Some(i) = any.downcast_ref::<i32>() {
            return MapKey(KeyRepr::Int(i64::from(*i)));
        }
        MapKey::from_values(M::key_values(key))
    }

    /// The map key of a key given as its values (in primary-key column order): the same as
    /// [`MapKey::of`] gives for the key they are the values of.
    pub fn from_values(values: Vec<Value>) -> MapKey {
        match values.as_slice() {
            [Value::Int(i)] => MapKey(KeyRepr::Int(*i)),
            _ => MapKey(KeyRepr::Values(Box::new(crate::value::KeyValues(values)))),
        }
    }

    /// The map key of a one-column key: [`MapKey::from_values`] of `[value]`, without
    /// allocating for an integer.
    pub fn from_value(value: Value) -> MapKey {
        match value {
            Value::Int(i) => MapKey(KeyRepr::Int(i)),
            v => MapKey::from_values(vec![v]),
        }
    }

    /// The key's values, as [`MapKey::from_values`] took them (an integer key as one
    /// [`Value::Int`], which is how every integer column's value is held).
    pub fn to_values(&self) -> Vec<Value> {
        match &self.0 {
            KeyRepr::Int(i) => vec![Value::Int(*i)],
            KeyRepr::Values(v) => v.0.clone(),
        }
    }
}

impl std::hash::Hash for MapKey {
    /// An integer key hashes as the integer alone (one hasher write per lookup: the identity map
    /// hashes a key for every row read). It may share a hash with a key of values, which then
    /// differ by `Eq`.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match &self.0 {
            KeyRepr::Int(i) => state.write_i64(*i),
            KeyRepr::Values(v) => v.hash(state),
        }
    }
}

impl std::fmt::Display for MapKey {
    /// The key as an error message shows it: `7`, `'ann'`, `(1, 'x')`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn one(v: &Value, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match v {
                Value::Int(i) => write!(f, "{i}"),
                Value::Text(s) => write!(f, "{s:?}"),
                Value::Uuid(u) => write!(f, "{u}"),
                other => write!(f, "{other:?}"),
            }
        }
        match &self.0 {
            KeyRepr::Int(i) => write!(f, "{i}"),
            KeyRepr::Values(v) if v.0.len() == 1 => one(&v.0[0], f),
            KeyRepr::Values(v) => {
                f.write_str("(")?;
                for (i, x) in v.0.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    one(x, f)?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A model seen without its type: the objects of the session's arena, and the nested objects
/// of relationships. Implemented for every [`Model`] (by the session); the identity map works
/// through these methods, so its code is compiled once, not once per model. Not a public API.
#[doc(hidden)]
pub trait AnyModel: Send {
    fn relations(&self) -> &'static [crate::schema::RelationSchema];
    fn related(&self, rel: usize) -> Option<Vec<&dyn AnyModel>>;
    fn related_mut(&mut self, rel: usize) -> Option<Vec<&mut dyn AnyModel>>;
    fn table(&self) -> &'static TableSchema;
    fn column_value(&self, idx: usize) -> Value;
    fn set_column(&mut self, idx: usize, v: ValueRef<'_>) -> Result<()>;
    fn has_key(&self) -> bool;
    fn key_values(&self) -> Option<Vec<Value>>;
    /// The key as the identity map holds it, or `None` while the database has yet to assign it.
    fn map_key(&self) -> Option<MapKey>;
    /// [`Model::snapshot_into`]: the columns, encoded as the identity map keeps them.
    fn snapshot_into(&self, out: &mut Vec<u8>);
    /// [`Model::changed_columns`] against a snapshot of this model (every column when the
    /// snapshot is another model's, which the session never passes).
    fn changed_since(&self, snapshot: SnapshotRef<'_>) -> ColumnMask;
    /// [`Model::restore_columns`] from a snapshot of this model; returns the columns whose
    /// recorded value the object's field type would not take back (a type whose `FromValue`
    /// rejects what its `ToValue` gave, e.g. a `Json<T>` whose serde does not round-trip),
    /// which keep the object's value.
    fn restore_from(&mut self, snapshot: SnapshotRef<'_>, mask: ColumnMask) -> ColumnMask;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// The error of a derived `Model::set_column` given an index past the model's columns: out of
/// line, so each model's `set_column` holds a call, not the formatting.
#[doc(hidden)]
#[cold]
#[inline(never)]
pub fn no_such_column(type_name: &'static str, idx: usize) -> Error {
    Error::InvalidUse(format!("model `{type_name}` has no column {idx}"))
}

/// The loaded targets of a relationship as trait objects: what a derived `Model::related`
/// returns. Generic over the target type only, so models sharing a target share one copy.
#[doc(hidden)]
pub fn any_models<R: Model>(targets: Option<&[R]>) -> Option<Vec<&dyn AnyModel>> {
    targets.map(|targets| targets.iter().map(|t| t as &dyn AnyModel).collect())
}

/// [`any_models`], mutably: what a derived `Model::related_mut` returns.
#[doc(hidden)]
pub fn any_models_mut<R: Model>(targets: Option<&mut [R]>) -> Option<Vec<&mut dyn AnyModel>> {
    targets.map(|targets| targets.iter_mut().map(|t| t as &mut dyn AnyModel).collect())
}

/// Concatenates `parts` into `N` bytes at compile time; the derive builds foreign-key names
/// (`fk_<table>_<column>_<referenced table>`) with it. Panics (a compile error, in a constant)
/// when the lengths do not add up to `N`.
#[doc(hidden)]
pub const fn concat_bytes<const N: usize>(parts: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    let mut i = 0;
    while i < parts.len() {
        let bytes = parts[i].as_bytes();
        let mut j = 0;
        while j < bytes.len() {
            out[at] = bytes[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    assert!(at == N, "concat_bytes: the parts do not add up to N bytes");
    out
}

/// The text of bytes made by [`concat_bytes`] from `&str` parts (so always UTF-8).
#[doc(hidden)]
pub const fn str_from_utf8(bytes: &'static [u8]) -> &'static str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => panic!("str_from_utf8: not UTF-8"),
    }
}

/// A relationship field: not a column, filled by loading.
///
/// # Equality
///
/// Two `Related` values are equal when both are `Unloaded`, or both are `Loaded` with equal
/// contents. `Unloaded` never equals `Loaded`, not even `Loaded(vec![])`: "not loaded" says
/// nothing about the rows, "loaded and empty" says there are none, and a session treats them
/// differently (an `Unloaded` collection is never taken as empty by `delete_orphan`).
///
/// A model's derived `PartialEq` therefore compares what was loaded too, as SeaORM's
/// `(Model, Vec<Related>)` pairs do: the same row read with and without eager loading gives
/// unequal values, and the targets of a model that derives `PartialEq` need `PartialEq` too.
/// To compare the columns only, compare snapshots ([`Model::snapshot`]),
/// which hold no relationships.
///
/// The guide `orm::relationships` ("Equality") shows both levels in a runnable example.
#[derive(Debug, Clone, Default)]
pub enum Related<T> {
    /// Not loaded (reading it is an [`Error::NotLoaded`], never a hidden query).
    #[default]
    Unloaded,
    /// Loaded.
    Loaded(T),
}

impl<T> Related<T> {
    /// The loaded value, or [`Error::NotLoaded`].
    pub fn get(&self) -> Result<&T> {
        match self {
            Related::Loaded(v) => Ok(v),
            Related::Unloaded => Err(Error::NotLoaded(std::any::type_name::<T>())),
        }
    }

    /// The loaded value, if loaded.
    pub fn loaded(&self) -> Option<&T> {
        match self {
            Related::Loaded(v) => Some(v),
            Related::Unloaded => None,
        }
    }

    /// Whether it is loaded.
    pub fn is_loaded(&self) -> bool {
        matches!(self, Related::Loaded(_))
    }

    /// Whether it is not loaded (for `#[serde(skip_serializing_if = "Related::is_unloaded")]`).
    pub fn is_unloaded(&self) -> bool {
        matches!(self, Related::Unloaded)
    }
}

impl<T: PartialEq> PartialEq for Related<T> {
    /// Both unloaded, or both loaded with equal contents (see [`Related`]'s "Equality").
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Related::Unloaded, Related::Unloaded) => true,
            (Related::Loaded(a), Related::Loaded(b)) => a == b,
            _ => false,
        }
    }
}

impl<T: Eq> Eq for Related<T> {}

/// A registered model: `#[derive(Model)]` submits one per struct.
#[derive(Debug)]
pub struct ModelEntry {
    /// The model's schema.
    pub table: &'static TableSchema,
    /// The Rust type's name.
    pub type_name: &'static str,
}

inventory::collect!(ModelEntry);

/// Every model compiled into this program, in foreign-key order (parents first), each table once.
pub fn registered_tables() -> Vec<&'static TableSchema> {
    let mut tables: Vec<&'static TableSchema> = Vec::new();
    for e in inventory::iter::<ModelEntry> {
        if !tables.iter().any(|t| t.name == e.table.name) {
            tables.push(e.table);
        }
    }
    tables.sort_by_key(|t| t.name);
    crate::schema::sort_by_dependencies(&tables)
}

/// A loaded relationship is written as its value, an unloaded one as nothing (`null` in JSON):
/// "not loaded" is not "empty", so it is never written as `[]`. Leave unloaded ones out with
/// `#[serde(skip_serializing_if = "Related::is_unloaded")]`.
///
/// ```
/// use orm_core::Related;
/// let loaded: Related<Vec<i32>> = Related::Loaded(vec![1, 2]);
/// assert_eq!(serde_json::to_string(&loaded).unwrap(), "[1,2]");
/// assert_eq!(serde_json::to_string(&Related::<Vec<i32>>::Unloaded).unwrap(), "null");
/// ```
impl<T: serde::Serialize> serde::Serialize for Related<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Related::Loaded(v) => v.serialize(serializer),
            Related::Unloaded => serializer.serialize_none(),
        }
    }
}

/// A value reads as [`Related::Loaded`], `null` as [`Related::Unloaded`]; with
/// `#[serde(default)]` a missing field is `Unloaded` too.
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Related<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|v| v.map_or(Related::Unloaded, Related::Loaded))
    }
}

/// A field type that can hold a key of type `K`: `K` itself, `Option<K>` for a nullable
/// foreign key, or `DbDefault<K>` / `DbDefault<Option<K>>` for one the
/// database may fill in. The derive checks each `references = Model` field with it, so that a foreign
/// key whose type differs from the referenced model's key (a `String` referencing an `i64`
/// key, an `i32` referencing an `i64`) does not compile: its values would never equal the
/// keys they point at. Not a public API.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a `references` field of type `{Self}` cannot hold the referenced model's key, `{K}`",
    label = "declare this field as `{K}`, or `Option<{K}>` for a foreign key that may be NULL"
)]
pub trait ForeignKeyOf<K> {}

impl<K> ForeignKeyOf<K> for K {}

impl<K> ForeignKeyOf<K> for Option<K> {}

impl<K> ForeignKeyOf<K> for crate::value::DbDefault<K> {}

impl<K> ForeignKeyOf<K> for crate::value::DbDefault<Option<K>> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_mask_iterates_its_columns_in_order_across_words() {
        let mut m = ColumnMask::empty();
        for i in [255, 0, 64, 63, 5, 130] {
            m.set(i);
        }
        assert_eq!(m.iter().collect::<Vec<_>>(), [0, 5, 63, 64, 130, 255]);
        assert_eq!(m.len(), 6);
        m.remove(63);
        m.remove(7); // not in the set: no change
        m.remove(MAX_COLUMNS); // past the end: ignored
        assert_eq!(m.iter().collect::<Vec<_>>(), [0, 5, 64, 130, 255]);
        assert!(!m.contains(63) && m.contains(64));
        assert_eq!(ColumnMask::empty().iter().next(), None);
        let mut other = ColumnMask::empty();
        for i in [0, 1, 255] {
            other.set(i);
        }
        assert_eq!(m.intersection(&other).iter().collect::<Vec<_>>(), [0, 255]);
        assert_eq!(m.difference(&other).iter().collect::<Vec<_>>(), [5, 64, 130]);
        assert_eq!(m.union(&other).iter().collect::<Vec<_>>(), [0, 1, 5, 64, 130, 255]);
    }
}
