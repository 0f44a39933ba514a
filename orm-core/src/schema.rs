//! Static schema metadata: what `#[derive(Model)]` knows about a table, as `'static` data built at
//! compile time. The migration engine builds its schema from it (`migrate::Table::of`), which
//! the dialects render as DDL; the session reads keys and foreign keys from it. Also the one
//! topological sort of the ORM ([`topological_order`]), which orders tables by their foreign
//! keys and rows of a self-referencing table by their references.

use std::fmt;
use std::str::FromStr;

/// The portable type of a column: the one type enum of the ORM. Models hold it with `'static`
/// names (`ColumnType`, the default parameter, is `Copy` and built at compile time); the
/// migration engine's schema ([`crate::migrate::Schema`]), read from revision files or a live
/// database, holds it with owned names (`ColumnType<String>`). Each dialect names it in SQL
/// with one function ([`Dialect::sql_type`](crate::Dialect::sql_type); see the README's type
/// table); a `max_length` turns `Text` into `VARCHAR(n)`.
///
/// Revision files write it as a short name ([`fmt::Display`], [`FromStr`]): `bigint`, `text`,
/// `timestamptz`, `text[]`, `enum(post_status)`, `custom(NUMERIC(10, 2))`...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType<S = &'static str> {
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
    /// Text (VARCHAR(n) with a max length).
    Text,
    /// Bytes.
    Blob,
    /// Timestamp with time zone, always UTC in Rust.
    Timestamptz,
    /// Timestamp without time zone.
    Timestamp,
    /// Calendar date.
    Date,
    /// UUID.
    Uuid,
    /// JSON document.
    Json,
    /// Array of text.
    TextArray,
    /// Array of 64-bit integers.
    BigIntArray,
    /// An exact decimal (`NUMERIC`); Rust values need the `decimal` feature.
    Numeric,
    /// An enum stored by label: a native ENUM type on PostgreSQL, TEXT with a CHECK on SQLite.
    Enum {
        /// The SQL type name (PostgreSQL's `CREATE TYPE` name).
        name: S,
        /// The labels, in declaration order, as a model's `DbEnum` declares them. A schema
        /// ([`crate::migrate::Schema`]) keeps the labels of its enum types in
        /// [`Schema::enums`](crate::migrate::Schema::enums), and its columns' types have none
        /// here ([`ColumnType::to_owned_type`] leaves them out), so that a column compares by
        /// its type's name alone.
        variants: &'static [&'static str],
    },
    /// A type written verbatim by a user type (e.g. `NUMERIC(10, 2)`); not portable.
    Custom(S),
}

impl<S: AsRef<str>> ColumnType<S> {
    /// The same type with borrowed names.
    pub fn as_borrowed(&self) -> ColumnType<&str> {
        self.map_names(|name| name, true)
    }

    /// The same type with owned names, as a schema holds it: an enum's labels are left out
    /// (a schema keeps them in [`Schema::enums`](crate::migrate::Schema::enums)).
    pub fn to_owned_type(&self) -> ColumnType<String> {
        self.map_names(str::to_owned, false)
    }

    /// The same type with its name (an enum's or a custom type's) mapped by `f`, and an enum's
    /// labels kept or left out.
    fn map_names<'a, T>(&'a self, f: impl FnOnce(&'a str) -> T, labels: bool) -> ColumnType<T> {
        match self {
            ColumnType::SmallInt => ColumnType::SmallInt,
            ColumnType::Integer => ColumnType::Integer,
            ColumnType::BigInt => ColumnType::BigInt,
            ColumnType::Real => ColumnType::Real,
            ColumnType::Double => ColumnType::Double,
            ColumnType::Boolean => ColumnType::Boolean,
            ColumnType::Text => ColumnType::Text,
            ColumnType::Blob => ColumnType::Blob,
            ColumnType::Timestamptz => ColumnType::Timestamptz,
            ColumnType::Timestamp => ColumnType::Timestamp,
            ColumnType::Date => ColumnType::Date,
            ColumnType::Uuid => ColumnType::Uuid,
            ColumnType::Json => ColumnType::Json,
            ColumnType::TextArray => ColumnType::TextArray,
            ColumnType::BigIntArray => ColumnType::BigIntArray,
            ColumnType::Numeric => ColumnType::Numeric,
            ColumnType::Enum { name, variants } => ColumnType::Enum {
                name: f(name.as_ref()),
                variants: if labels { variants } else { &[] },
            },
            ColumnType::Custom(s) => ColumnType::Custom(f(s.as_ref())),
        }
    }

    /// Whether it is one of the integer types.
    pub fn is_integer(&self) -> bool {
        matches!(self, ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt)
    }

    /// The enum type's name, for an enum.
    pub fn enum_name(&self) -> Option<&str> {
        match self {
            ColumnType::Enum { name, .. } => Some(name.as_ref()),
            _ => None,
        }
    }
}

impl ColumnType<String> {
    /// The enum type named `name` (its labels are the schema's).
    pub fn enum_named(name: impl Into<String>) -> Self {
        ColumnType::Enum { name: name.into(), variants: &[] }
    }
}

impl<S: AsRef<str>> fmt::Display for ColumnType<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.as_borrowed() {
            ColumnType::SmallInt => "smallint",
            ColumnType::Integer => "integer",
            ColumnType::BigInt => "bigint",
            ColumnType::Real => "real",
            ColumnType::Double => "double",
            ColumnType::Boolean => "boolean",
            ColumnType::Text => "text",
            ColumnType::Blob => "blob",
            ColumnType::Timestamptz => "timestamptz",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Date => "date",
            ColumnType::Uuid => "uuid",
            ColumnType::Json => "json",
            ColumnType::TextArray => "text[]",
            ColumnType::BigIntArray => "bigint[]",
            ColumnType::Numeric => "numeric",
            ColumnType::Enum { name, .. } => return write!(f, "enum({name})"),
            ColumnType::Custom(s) => return write!(f, "custom({s})"),
        };
        f.write_str(s)
    }
}

impl FromStr for ColumnType<String> {
    type Err = String;

    /// Reads the short name [`fmt::Display`] writes, case-insensitively.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let inner = |prefix: &str| {
            let lower = t.get(..prefix.len())?.to_ascii_lowercase();
            (lower == prefix).then(|| t[prefix.len()..].strip_suffix(')')).flatten()
        };
        if let Some(n) = inner("enum(") {
            return Ok(ColumnType::enum_named(n.trim()));
        }
        if let Some(c) = inner("custom(") {
            return Ok(ColumnType::Custom(c.to_owned()));
        }
        Ok(match t.to_ascii_lowercase().as_str() {
            "smallint" => ColumnType::SmallInt,
            "integer" => ColumnType::Integer,
            "bigint" => ColumnType::BigInt,
            "real" => ColumnType::Real,
            "double" => ColumnType::Double,
            "boolean" => ColumnType::Boolean,
            "text" => ColumnType::Text,
            "blob" => ColumnType::Blob,
            "timestamptz" => ColumnType::Timestamptz,
            "timestamp" => ColumnType::Timestamp,
            "date" => ColumnType::Date,
            "uuid" => ColumnType::Uuid,
            "json" => ColumnType::Json,
            "text[]" => ColumnType::TextArray,
            "bigint[]" => ColumnType::BigIntArray,
            "numeric" => ColumnType::Numeric,
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

impl serde::Serialize for ColumnType<String> {
    fn serialize<Ser: serde::Serializer>(&self, s: Ser) -> Result<Ser::Ok, Ser::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ColumnType<String> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A client- or database-side default of a column.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum DefaultValue {
    /// `default = now`: the current time, set by the client in the generated `Default`.
    Now,
    /// `default = uuid4`: a random UUID, set by the client in the generated `Default`.
    Uuid4,
    /// A literal default, applied by the client (and written as the column's DDL default).
    Int(i64),
    /// A literal float default.
    Float(f64),
    /// A literal bool default.
    Bool(bool),
    /// A literal text default.
    Text(&'static str),
}

/// What a foreign key does when the referenced row is deleted or its key updated.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ReferentialAction {
    /// `NO ACTION` (the SQL default).
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl ReferentialAction {
    /// The SQL words.
    pub fn as_sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// One column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnSchema {
    /// The column's name in the database.
    pub name: &'static str,
    /// The Rust field's name.
    pub field: &'static str,
    /// Its portable type.
    pub ty: ColumnType,
    /// `true` for `Option<T>` fields.
    pub nullable: bool,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Generated by the database on insert (an integer primary key); read back after INSERT.
    pub auto_increment: bool,
    /// `VARCHAR(n)`.
    pub max_length: Option<u32>,
    /// Client-side default (also rendered as the DDL default when it is a literal).
    pub default: Option<DefaultValue>,
    /// A database-side default, as SQL text written by the model's author
    /// (`server_default = "CURRENT_TIMESTAMP"`); read back after INSERT.
    pub server_default: Option<&'static str>,
    /// The column's previous name (`#[orm(renamed_from = "old")]`): autogenerate renames the
    /// old column instead of dropping it and adding this one, so its data is kept.
    pub renamed_from: Option<&'static str>,
}

impl ColumnSchema {
    /// A NOT NULL column of type `ty` with nothing else set; a base for struct update syntax.
    pub const fn new(name: &'static str, ty: ColumnType) -> Self {
        ColumnSchema {
            name,
            field: name,
            ty,
            nullable: false,
            primary_key: false,
            auto_increment: false,
            max_length: None,
            default: None,
            server_default: None,
            renamed_from: None,
        }
    }

    /// Whether the database fills this column on INSERT, so it is read back with RETURNING.
    pub fn is_generated(&self) -> bool {
        self.auto_increment || self.server_default.is_some()
    }
}

/// An index, single- or multi-column, on columns or expressions, optionally partial and of a
/// given method (`#[orm(index(...))]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSchema {
    /// Its name (derived as `ix_<table>_<columns>` when not given).
    pub name: &'static str,
    /// The column names of its plain column keys, in order (expression keys are not listed).
    pub columns: &'static [&'static str],
    /// A UNIQUE index.
    pub unique: bool,
    /// Every key in order, when one is an expression or has an operator class; empty when the
    /// keys are just `columns`.
    pub keys: &'static [IndexKeySchema],
    /// The index method (`gin`, `gist`, `btree`, `hash`, `brin`); `None` is the default
    /// (B-tree).
    pub using: Option<&'static str>,
    /// The predicate of a partial index (`WHERE ...`), as SQL.
    pub where_clause: Option<&'static str>,
}

impl IndexSchema {
    /// A plain index on `columns`.
    pub const fn new(name: &'static str, columns: &'static [&'static str], unique: bool) -> Self {
        IndexSchema { name, columns, unique, keys: &[], using: None, where_clause: None }
    }
}

/// One key of an [`IndexSchema`]: a column or an SQL expression, with an optional operator
/// class (`jsonb_path_ops`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexKeySchema {
    /// The column, for a column key.
    pub column: Option<&'static str>,
    /// The SQL expression, for an expression key (`lower(email)`).
    pub expr: Option<&'static str>,
    /// The operator class, when not the default one.
    pub opclass: Option<&'static str>,
}

/// A CHECK constraint declared on a model (`#[orm(check(name = "...", expr = "..."))]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSchema {
    /// Its name.
    pub name: &'static str,
    /// The condition, as SQL.
    pub expr: &'static str,
}

/// A UNIQUE constraint, single- or multi-column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqueSchema {
    /// Its name (derived as `uq_<table>_<columns>` when not given).
    pub name: &'static str,
    /// The column names, in order.
    pub columns: &'static [&'static str],
}

/// A FOREIGN KEY constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKeySchema {
    /// Its name (derived as `fk_<table>_<columns>_<ref_table>`).
    pub name: &'static str,
    /// The referencing columns of this table.
    pub columns: &'static [&'static str],
    /// The referenced table.
    pub ref_table: &'static str,
    /// The referenced columns (the referenced model's primary key unless named).
    pub ref_columns: &'static [&'static str],
    /// `ON DELETE`.
    pub on_delete: ReferentialAction,
    /// `ON UPDATE`.
    pub on_update: ReferentialAction,
}

/// A whole table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableSchema {
    /// The table's name.
    pub name: &'static str,
    /// The table's previous name (`#[orm(renamed_from = "old")]` on the model): autogenerate
    /// renames the old table instead of dropping it and creating this one.
    pub renamed_from: Option<&'static str>,
    /// Its columns, in field order (the order rows are selected and decoded in).
    pub columns: &'static [ColumnSchema],
    /// Indexes into `columns` of the primary key, in key order.
    pub primary_key: &'static [usize],
    /// Indexes (including single-column `index` fields).
    pub indexes: &'static [IndexSchema],
    /// UNIQUE constraints (including single-column `unique` fields).
    pub uniques: &'static [UniqueSchema],
    /// FOREIGN KEY constraints.
    pub foreign_keys: &'static [ForeignKeySchema],
    /// CHECK constraints.
    pub checks: &'static [CheckSchema],
    /// Index into `columns` of the version counter (`#[orm(version)]`, an `i32` or `i64`
    /// column), for optimistic concurrency as SQLAlchemy's `version_id_col`: the session's
    /// UPDATE and DELETE match the version the object was loaded with, and an UPDATE increments
    /// it. `None` without one.
    pub version_column: Option<usize>,
}

impl TableSchema {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&'static ColumnSchema> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The primary key's columns.
    pub fn primary_key_columns(&self) -> impl Iterator<Item = &'static ColumnSchema> + '_ {
        self.primary_key.iter().filter_map(|&i| self.columns.get(i))
    }

    /// Whether this table has a database-generated (auto-increment) primary key column.
    pub fn has_generated_key(&self) -> bool {
        self.primary_key_columns().any(|c| c.auto_increment)
    }

    /// The tables this one references, without itself.
    pub fn dependencies(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.foreign_keys.iter().map(|fk| fk.ref_table).filter(move |t| *t != self.name)
    }
}

/// Orders the nodes `0..n` so that every node comes after the nodes it depends on
/// (`deps(i)` lists them), or finds a cycle. The one topological sort of the ORM: tables by
/// their foreign keys (`create_all`, `drop_all`, autogenerate, the flush) and rows of a
/// self-referencing table by their references (the flush).
///
/// Depth-first, iterative (no recursion, so a chain of 100,000 rows is fine), in O(nodes +
/// edges): nodes come out parents first, otherwise in their given order. A node depending on
/// itself is no cycle (a self-reference), and a dependency out of range is ignored.
///
/// `Err(cycle)` lists the nodes of one cycle in order, each depending on the next and the last
/// on the first.
///
/// ```
/// use orm_core::schema::topological_order;
///
/// // 0 depends on 1 and 2, both on 3 (a diamond); 3 on itself.
/// let deps = [vec![1, 2], vec![3], vec![3], vec![3]];
/// assert_eq!(topological_order(4, |i| deps[i].iter().copied()), Ok(vec![3, 1, 2, 0]));
/// // 0 -> 1 -> 2 -> 0.
/// let deps = [vec![1], vec![2], vec![0]];
/// assert_eq!(topological_order(3, |i| deps[i].iter().copied()), Err(vec![0, 1, 2]));
/// ```
pub fn topological_order<I>(n: usize, deps: impl Fn(usize) -> I) -> Result<Vec<usize>, Vec<usize>>
where
    I: IntoIterator<Item = usize>,
{
    depth_first(n, deps, true)
}

/// The same order as [`topological_order`], except that a cycle does not stop it: the
/// dependency that closes a cycle is ignored, so the nodes of a cycle keep their given order
/// relative to each other, after everything else they depend on.
pub fn topological_order_lenient<I>(n: usize, deps: impl Fn(usize) -> I) -> Vec<usize>
where
    I: IntoIterator<Item = usize>,
{
    match depth_first(n, deps, false) {
        Ok(order) | Err(order) => order,
    }
}

/// The depth-first walk behind [`topological_order`]: with `strict`, the first cycle met is
/// the `Err`; otherwise the edge closing it is skipped and the order is always `Ok`.
fn depth_first<I>(
    n: usize,
    deps: impl Fn(usize) -> I,
    strict: bool,
) -> Result<Vec<usize>, Vec<usize>>
where
    I: IntoIterator<Item = usize>,
{
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; n];
    let mut out = Vec::with_capacity(n);
    // The current path: each node with what is left of its dependencies.
    let mut path: Vec<(usize, I::IntoIter)> = Vec::new();
    for root in 0..n {
        if state[root] != NEW {
            continue;
        }
        state[root] = ON_PATH;
        path.push((root, deps(root).into_iter()));
        while let Some((node, rest)) = path.last_mut() {
            let node = *node;
            match rest.next() {
                Some(dep) if dep >= n || dep == node => {}
                Some(dep) => match state[dep] {
                    NEW => {
                        state[dep] = ON_PATH;
                        path.push((dep, deps(dep).into_iter()));
                    }
                    ON_PATH if strict => {
                        let from = path.iter().position(|(p, _)| *p == dep).unwrap_or(0);
                        return Err(path[from..].iter().map(|(p, _)| *p).collect());
                    }
                    _ => {}
                },
                None => {
                    state[node] = DONE;
                    out.push(node);
                    path.pop();
                }
            }
        }
    }
    Ok(out)
}

/// Orders tables so that every table comes after the tables it references (parents first),
/// by [`topological_order_lenient`]: tables in a cycle keep their given order relative to each
/// other. For a listing (`registered_tables`); what creates, drops or writes rows uses the
/// strict order, which reports a cycle.
pub fn sort_by_dependencies(tables: &[&'static TableSchema]) -> Vec<&'static TableSchema> {
    let index = table_index(tables.iter().map(|t| t.name));
    let order = topological_order_lenient(tables.len(), |i| {
        tables[i].dependencies().filter_map(|d| index.get(d).copied())
    });
    order.into_iter().map(|i| tables[i]).collect()
}

/// Position by table name (the first of a name wins).
pub(crate) fn table_index<'a>(
    names: impl Iterator<Item = &'a str>,
) -> std::collections::HashMap<&'a str, usize> {
    let mut index = std::collections::HashMap::new();
    for (i, name) in names.enumerate() {
        index.entry(name).or_insert(i);
    }
    index
}

/// Orders `n` tables by their foreign keys (`deps(i)`: the tables table `i` references), parents
/// first. When they form a cycle, by the foreign keys that cannot be NULL only (`required(i)`):
/// a nullable one can be left NULL and filled, or its constraint added, once the other table is
/// there. A cycle of foreign keys that cannot be NULL is an [`Error::ForeignKeyCycle`] naming
/// its tables (`name(i)`).
///
/// [`Error::ForeignKeyCycle`]: crate::error::Error::ForeignKeyCycle
pub(crate) fn foreign_key_order<I, J>(
    n: usize,
    deps: impl Fn(usize) -> I,
    required: impl Fn(usize) -> J,
    name: impl Fn(usize) -> String,
) -> crate::error::Result<Vec<usize>>
where
    I: IntoIterator<Item = usize>,
    J: IntoIterator<Item = usize>,
{
    topological_order(n, deps)
        .or_else(|_| topological_order(n, required))
        .map_err(|cycle| cycle_error(cycle.into_iter().map(name).collect()))
}

impl TableSchema {
    /// Whether a foreign key of this table can be NULL (one of its columns is nullable), so a
    /// row need not wait for the row it references.
    pub fn foreign_key_is_nullable(&self, fk: &ForeignKeySchema) -> bool {
        fk.columns.iter().any(|c| self.column(c).is_none_or(|c| c.nullable))
    }
}

/// Orders tables by their foreign keys for writing rows (the flush), parents first; see
/// `foreign_key_order`: a cycle is broken at a nullable foreign key, or is an
/// [`Error::ForeignKeyCycle`](crate::error::Error::ForeignKeyCycle).
pub fn write_order(
    tables: &[&'static TableSchema],
) -> crate::error::Result<Vec<&'static TableSchema>> {
    let index = table_index(tables.iter().map(|t| t.name));
    let refs = |i: usize, all: bool| {
        let t = tables[i];
        let index = &index;
        t.foreign_keys
            .iter()
            .filter(move |fk| all || !t.foreign_key_is_nullable(fk))
            .filter_map(move |fk| index.get(fk.ref_table).copied())
    };
    let order = foreign_key_order(
        tables.len(),
        |i| refs(i, true),
        |i| refs(i, false),
        |i| tables[i].name.to_owned(),
    )?;
    Ok(order.into_iter().map(|i| tables[i]).collect())
}

/// The error for tables whose foreign keys form a cycle that no nullable foreign key breaks.
pub(crate) fn cycle_error(tables: Vec<String>) -> crate::error::Error {
    crate::error::Error::ForeignKeyCycle { tables }
}

/// The index of column `name` in `table`.
pub(crate) fn column_index(table: &TableSchema, name: &str) -> crate::error::Result<usize> {
    table.columns.iter().position(|c| c.name == name).ok_or_else(|| {
        crate::error::Error::InvalidUse(format!(
            "table {} has no column {name} (named by a relationship)",
            table.name
        ))
    })
}

// ----- relationships, as static data (their typed handles are `crate::relation`) -----------

/// The kind of a relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationKind {
    /// This model holds the foreign key (`Post.author`).
    BelongsTo,
    /// The target holds a foreign key to this model; at most one target row.
    HasOne,
    /// The target holds a foreign key to this model; any number of target rows.
    HasMany,
    /// Linked through an association table holding keys of both.
    ManyToMany,
}

impl RelationKind {
    /// Whether it holds a collection.
    pub fn is_many(self) -> bool {
        matches!(self, RelationKind::HasMany | RelationKind::ManyToMany)
    }
}

/// What happens to related rows when this side is saved or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cascade {
    /// Adding this object adds the loaded related objects too (the default for has_one,
    /// has_many and many_to_many).
    pub save: bool,
    /// Deleting this object deletes its related rows (has_one / has_many), children first, also
    /// when the database declares no ON DELETE.
    pub delete: bool,
    /// A related object removed from a loaded collection is deleted (has_one / has_many).
    pub delete_orphan: bool,
    /// Leave deletes of related rows to the database's ON DELETE: the session issues no
    /// statement for them.
    pub passive_deletes: bool,
}

impl Cascade {
    /// `save` only.
    pub const SAVE: Cascade =
        Cascade { save: true, delete: false, delete_orphan: false, passive_deletes: false };
    /// Nothing (belongs_to).
    pub const NONE: Cascade =
        Cascade { save: false, delete: false, delete_orphan: false, passive_deletes: false };
}

/// The association table of a many-to-many relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Through {
    /// Its name.
    pub table: &'static str,
    /// Its columns holding this model's key.
    pub local_columns: &'static [&'static str],
    /// Its columns holding the target's key.
    pub remote_columns: &'static [&'static str],
}

/// A declared relationship, as static data.
#[derive(Debug, Clone, Copy)]
pub struct RelationSchema {
    /// The field's name.
    pub name: &'static str,
    /// Its kind.
    pub kind: RelationKind,
    /// This model's table.
    pub source_table: &'static str,
    /// The target's table.
    pub target_table: &'static str,
    /// The columns of this table that the join starts from: the foreign key for belongs_to,
    /// the primary key otherwise.
    pub source_columns: &'static [&'static str],
    /// The columns of the target they match: its primary key for belongs_to and many_to_many,
    /// its foreign key to this table for has_one / has_many.
    pub target_columns: &'static [&'static str],
    /// The association table, for many_to_many.
    pub through: Option<Through>,
    /// Cascades.
    pub cascade: Cascade,
    /// The target's schema (a function, so that models referring to each other are no cycle
    /// in constant evaluation).
    pub target_schema: fn() -> &'static TableSchema,
    /// The target's relationships.
    pub target_relations: fn() -> &'static [RelationSchema],
    /// The target model's type.
    pub target_type: fn() -> std::any::TypeId,
}

impl PartialEq for RelationSchema {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.source_table == other.source_table
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn order(deps: &[&[usize]]) -> Result<Vec<usize>, Vec<usize>> {
        topological_order(deps.len(), |i| deps[i].iter().copied())
    }

    const fn fk(ref_table: &'static str, column: &'static [&'static str]) -> ForeignKeySchema {
        ForeignKeySchema {
            name: ref_table,
            columns: column,
            ref_table,
            ref_columns: &["id"],
            on_delete: ReferentialAction::NoAction,
            on_update: ReferentialAction::NoAction,
        }
    }

    const ID: ColumnSchema =
        ColumnSchema { primary_key: true, ..ColumnSchema::new("id", ColumnType::BigInt) };
    const REF: ColumnSchema = ColumnSchema::new("ref_id", ColumnType::BigInt);
    const NULLABLE_REF: ColumnSchema =
        ColumnSchema { nullable: true, ..ColumnSchema::new("ref_id", ColumnType::BigInt) };

    const fn table(
        name: &'static str,
        columns: &'static [ColumnSchema],
        foreign_keys: &'static [ForeignKeySchema],
    ) -> TableSchema {
        TableSchema {
            name,
            renamed_from: None,
            columns,
            primary_key: &[0],
            indexes: &[],
            uniques: &[],
            foreign_keys,
            version_column: None,
            checks: &[],
        }
    }

    #[test]
    fn a_diamond_comes_out_parents_first_in_given_order() {
        // 0 -> {1, 2} -> 3, given children first.
        assert_eq!(order(&[&[1, 2], &[3], &[3], &[]]), Ok(vec![3, 1, 2, 0]));
        // Independent nodes keep their order.
        assert_eq!(order(&[&[], &[], &[]]), Ok(vec![0, 1, 2]));
    }

    #[test]
    fn a_self_reference_is_not_a_cycle() {
        assert_eq!(order(&[&[0], &[1, 0]]), Ok(vec![0, 1]));
    }

    #[test]
    fn cycles_of_two_and_three_are_reported_with_every_node() {
        assert_eq!(order(&[&[1], &[0]]), Err(vec![0, 1]));
        // 3 leads into the cycle 0 -> 2 -> 1 -> 0 but is not on it.
        assert_eq!(order(&[&[2], &[0], &[1], &[0]]), Err(vec![0, 2, 1]));
    }

    #[test]
    fn the_lenient_order_keeps_a_cycle_in_given_order() {
        let deps: [&[usize]; 3] = [&[1], &[0], &[0]];
        assert_eq!(topological_order_lenient(3, |i| deps[i].iter().copied()), vec![1, 0, 2]);
    }

    #[test]
    fn a_chain_of_a_hundred_thousand_needs_no_deep_stack() {
        let n = 100_000;
        let out = topological_order(n, |i| (i + 1 < n).then_some(i + 1)).expect("no cycle");
        assert_eq!(out.first(), Some(&(n - 1)));
        assert_eq!(out.last(), Some(&0));
    }

    static A_NOT_NULL: TableSchema = table("a", &[ID, REF], &[fk("b", &["ref_id"])]);
    static B_NOT_NULL: TableSchema = table("b", &[ID, REF], &[fk("c", &["ref_id"])]);
    static C_NOT_NULL: TableSchema = table("c", &[ID, REF], &[fk("a", &["ref_id"])]);
    static C_NULLABLE: TableSchema = table("c", &[ID, NULLABLE_REF], &[fk("a", &["ref_id"])]);
    static SELF: TableSchema = table("self", &[ID, REF], &[fk("self", &["ref_id"])]);

    #[test]
    fn a_not_null_cycle_of_tables_is_an_error_naming_them_all() {
        let err = write_order(&[&A_NOT_NULL, &B_NOT_NULL, &C_NOT_NULL]).expect_err("a cycle");
        match &err {
            Error::ForeignKeyCycle { tables } => assert_eq!(tables, &["a", "b", "c"]),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("a -> b -> c"), "{err}");
    }

    #[test]
    fn a_nullable_foreign_key_breaks_a_cycle_of_tables() {
        let names = |v: Vec<&TableSchema>| v.iter().map(|t| t.name).collect::<Vec<_>>();
        let order = write_order(&[&A_NOT_NULL, &B_NOT_NULL, &C_NULLABLE]).expect("broken cycle");
        // a needs b, b needs c; c's reference to a may wait.
        assert_eq!(names(order), ["c", "b", "a"]);
        assert_eq!(names(write_order(&[&SELF, &A_NOT_NULL]).expect("self")), ["self", "a"]);
    }
}
