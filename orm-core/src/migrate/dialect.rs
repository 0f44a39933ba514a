//! [`MigrationDialect`]: how a backend writes the DDL of migration ops, keeps its version table,
//! locks against a concurrent migrator and reflects a live schema. The default methods write
//! standard SQL (which is PostgreSQL's); a backend overrides what differs (SQLite rebuilds a
//! table for what its ALTER TABLE cannot do). No other part of the migration engine writes SQL.

use super::ops::Op;
use super::schema::{
    Column, ForeignKey, Index, IndexKey, Literal, ObjectKind, Schema, SqlObject, Table,
};
use crate::connection::Connection;
use crate::dialect::{Dialect, SqlWriter};
use crate::error::{Error, Result};
use crate::schema::{ColumnType, ReferentialAction};

/// The name of the table recording which revisions a database is at (one row per head).
pub const VERSION_TABLE: &str = "orm_migrations";

/// One statement of a rendered op, and how the runner runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// SQL run inside the revision's transaction.
    Sql(String),
    /// SQL that cannot run inside a transaction (`CREATE INDEX CONCURRENTLY`): the runner
    /// commits what came before, runs it on its own, and opens a new transaction.
    NoTransaction(String),
    /// A query whose rows (each one SQL text) are kept, to run again at
    /// [`Statement::RestoreSaved`]: SQLite saves a rebuilt table's triggers this way.
    Save(String),
    /// Runs what the last [`Statement::Save`] kept.
    RestoreSaved,
    /// Nothing to run: a note for the script (SQLite skipping a GIN index, say).
    Comment(String),
    /// Counts the rows that a column's conversion would lose or change; any fails the revision
    /// with [`Error::DataLoss`] before the conversion runs.
    Guard(Guard),
}

/// A check run before a column's values are converted: the rows it counts would be lost or
/// changed by the conversion (see [`MigrationDialect::lossy_rows`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// The table (its name in the revision).
    pub table: String,
    /// The column.
    pub column: String,
    /// Why the counted rows do not fit, e.g. `are longer than 100 characters`.
    pub reason: String,
    /// `SELECT count(*) FROM ... WHERE ...`: the rows that do not fit.
    pub query: String,
    /// The check as a script writes it ([`MigrationDialect::guard_script`]).
    pub script: String,
}

impl Statement {
    /// The statement as a script shows it (`sql` command): SQL ending with `;`, or a comment.
    pub fn to_script(&self) -> String {
        match self {
            Statement::Sql(s) => format!("{};", s.trim_end().trim_end_matches(';')),
            Statement::NoTransaction(s) => format!(
                "-- outside the transaction:\nCOMMIT;\n{};\nBEGIN;",
                s.trim_end().trim_end_matches(';')
            ),
            Statement::Save(q) => format!("-- keep the SQL that this query returns: {q}"),
            Statement::RestoreSaved => "-- run the SQL kept above".to_owned(),
            Statement::Comment(c) => sql_comment(c),
            Statement::Guard(g) => g.script.clone(),
        }
    }
}

/// The quoted literal of an enum column's default, `'draft'`, from `'draft'` or
/// `'draft'::post_status` (a cast to any type name); `None` for other SQL.
pub fn enum_label_literal(sql: &str) -> Option<&str> {
    let sql = sql.trim();
    let rest = sql.strip_prefix('\'')?;
    // The literal ends at the first quote that is not doubled.
    let mut end = None;
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            end = Some(i);
            break;
        }
        i += 1;
    }
    let end = end? + 2; // both quotes
    let (literal, tail) = sql.split_at(end);
    let tail = tail.trim();
    let cast_ok = tail.is_empty()
        || tail.strip_prefix("::").is_some_and(|t| {
            let t = t.trim();
            !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || "_\".".contains(c))
        });
    cast_ok.then_some(literal)
}

/// `text` as SQL comment lines (`-- ` before each line, so that no line of it is SQL).
pub fn sql_comment(text: &str) -> String {
    text.lines().map(|l| format!("-- {l}")).collect::<Vec<_>>().join("\n")
}

/// What a column's type is, for deciding which conversions can lose data and which need an
/// explicit cast on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind<'a> {
    /// An integer type, with its range.
    Int(i128, i128),
    /// A float (`true`: single precision).
    Float(bool),
    /// `NUMERIC`, with its precision and scale when declared (`NUMERIC(10, 2)`).
    Decimal(Option<(u32, u32)>),
    /// Text, with its maximum length.
    Text(Option<u32>),
    /// An enum type.
    Enum(&'a str),
    /// Boolean.
    Bool,
    /// A timestamp (`true`) or a date.
    Time(bool),
    /// Anything else (UUID, JSON, arrays, bytes, other custom types).
    Other,
}

impl<'a> Kind<'a> {
    fn of(col: &'a Column) -> Kind<'a> {
        match &col.ty {
            ColumnType::SmallInt => Kind::Int(i16::MIN.into(), i16::MAX.into()),
            ColumnType::Integer => Kind::Int(i32::MIN.into(), i32::MAX.into()),
            ColumnType::BigInt => Kind::Int(i64::MIN.into(), i64::MAX.into()),
            ColumnType::Real => Kind::Float(true),
            ColumnType::Double => Kind::Float(false),
            ColumnType::Numeric => Kind::Decimal(None),
            ColumnType::Custom(t) => match (numeric_precision(t), text_length(t)) {
                (Some(p), _) => Kind::Decimal(p),
                (None, Some(n)) => Kind::Text(n),
                (None, None) => Kind::Other,
            },
            ColumnType::Text => Kind::Text(col.max_length),
            ColumnType::Enum { name, .. } => Kind::Enum(name),
            ColumnType::Boolean => Kind::Bool,
            ColumnType::Timestamptz | ColumnType::Timestamp => Kind::Time(true),
            ColumnType::Date => Kind::Time(false),
            _ => Kind::Other,
        }
    }

    fn is_number(self) -> bool {
        matches!(self, Kind::Int(..) | Kind::Float(_) | Kind::Decimal(_))
    }

    /// The most digits before the decimal point a value can have (`None`: unbounded or not
    /// known).
    fn integer_digits(self) -> Option<u32> {
        match self {
            Kind::Int(_, hi) => u32::try_from(hi.to_string().len()).ok(),
            Kind::Decimal(Some((p, s))) => Some(p.saturating_sub(s)),
            _ => None,
        }
    }

    /// The most digits after the decimal point a value can have (`None`: not known).
    fn scale(self) -> Option<u32> {
        match self {
            Kind::Int(..) => Some(0),
            Kind::Decimal(Some((_, s))) => Some(s),
            _ => None,
        }
    }
}

/// `Some(Some((p, s)))` for a custom type `NUMERIC(p, s)` / `DECIMAL(p)` (scale 0),
/// `Some(None)` for `NUMERIC` / `DECIMAL` alone, `None` for any other type.
pub fn numeric_precision(ty: &str) -> Option<Option<(u32, u32)>> {
    let t = ty.trim().to_ascii_uppercase();
    let rest = t.strip_prefix("NUMERIC").or_else(|| t.strip_prefix("DECIMAL"))?.trim();
    if rest.is_empty() {
        return Some(None);
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = inner.split(',').map(|p| p.trim().parse::<u32>());
    let p = parts.next()?.ok()?;
    let s = match parts.next() {
        Some(s) => s.ok()?,
        None => 0,
    };
    if parts.next().is_some() || s > p {
        return None;
    }
    Some(Some((p, s)))
}

/// `Some(Some(n))` for a custom text type of at most `n` characters (`char(2)`, `character(2)`,
/// `varchar(20)`, `character varying(20)`, `nvarchar(20)`), `Some(None)` for one without a
/// length (`varchar`, `text`, `citext`), `None` for any other type. (`char` alone is one
/// character, as in SQL.)
pub fn text_length(ty: &str) -> Option<Option<u32>> {
    let t = ty.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    let (name, args) = match t.split_once('(') {
        Some((name, rest)) => (name.trim(), Some(rest.strip_suffix(')')?.trim())),
        None => (t.as_str(), None),
    };
    let fixed = matches!(name, "char" | "character" | "nchar" | "bpchar");
    let varying = matches!(
        name,
        "varchar" | "character varying" | "nvarchar" | "text" | "citext" | "varchar2"
    );
    match args {
        Some(n) if fixed || varying => n.parse().ok().map(Some),
        None if name == "bpchar" => Some(None),
        None if fixed => Some(Some(1)),
        None if varying => Some(None),
        _ => None,
    }
}

/// Whether PostgreSQL converts `from`'s values to `to`'s type by itself in `ALTER COLUMN ...
/// TYPE` (an implicit or assignment cast exists), so no `USING` is needed. Numbers convert to
/// numbers, anything to text, dates and timestamps to each other; the conversions that can
/// round or fail are guarded by [`MigrationDialect::lossy_rows`] first.
pub fn converts_without_using(from: &Column, to: &Column) -> bool {
    match (Kind::of(from), Kind::of(to)) {
        (Kind::Enum(_), Kind::Enum(_)) => from.ty == to.ty,
        (_, Kind::Text(_)) => true,
        (a, b) if a.is_number() && b.is_number() => true,
        (Kind::Time(_), Kind::Time(_)) => true,
        _ => from.ty == to.ty,
    }
}

/// The standard [`MigrationDialect::lossy_rows`]: conditions over the column's old values,
/// in SQL that both PostgreSQL and SQLite read alike.
pub fn lossy_rows_standard<D: MigrationDialect + ?Sized>(
    d: &D,
    from: &Column,
    to: &Column,
    schema: &Schema,
) -> Vec<(String, String)> {
    let c = d.ident(&from.name);
    let mut out = Vec::new();
    if from.nullable && !to.nullable {
        out.push((format!("{c} IS NULL"), "are NULL, and the column becomes NOT NULL".to_owned()));
    }
    if from.ty == to.ty && from.max_length == to.max_length {
        return out;
    }
    let (src, dst) = (Kind::of(from), Kind::of(to));
    let num = format!("CAST({c} AS NUMERIC)");
    let numeric_source = src.is_number() || matches!(src, Kind::Text(_));
    match dst {
        Kind::Text(Some(n)) => {
            let fits = matches!(src, Kind::Text(Some(m)) if m <= n);
            if !fits {
                let len = match src {
                    Kind::Text(_) => format!("length({c})"),
                    _ => format!("length(CAST({c} AS TEXT))"),
                };
                out.push((format!("{len} > {n}"), format!("are longer than {n} characters")));
            }
        }
        Kind::Int(lo, hi) if numeric_source => {
            // Text that is no integer is counted by the dialect (PostgreSQL's pattern, SQLite's
            // stored type): only numbers are rounded.
            if src.is_number() && src.scale() != Some(0) {
                out.push((
                    format!("{num} <> round({num})"),
                    format!("have a fractional part (the new type is {})", to.ty),
                ));
            }
            let within = matches!(src, Kind::Int(l, h) if l >= lo && h <= hi);
            if !within {
                out.push((
                    format!("{num} NOT BETWEEN {lo} AND {hi}"),
                    format!("are out of the range of {} ({lo} to {hi})", to.ty),
                ));
            }
        }
        Kind::Decimal(Some((p, s))) if numeric_source => {
            if src.scale().is_none_or(|from_s| from_s > s) {
                out.push((
                    format!("{num} <> round({num}, {s})"),
                    format!("have more than {s} decimal place(s)"),
                ));
            }
            let digits = p - s;
            if src.integer_digits().is_none_or(|from_d| from_d > digits) {
                out.push((
                    format!("abs(round({num}, {s})) >= 1{}", "0".repeat(digits as usize)),
                    format!("have more than {digits} digit(s) before the decimal point"),
                ));
            }
        }
        Kind::Float(single) if numeric_source => {
            let exact = match src {
                Kind::Int(lo, hi) => {
                    let bits = if single { 24 } else { 53 };
                    lo >= -(1i128 << bits) && hi <= 1i128 << bits
                }
                Kind::Float(from_single) => from_single || !single,
                _ => false,
            };
            if !exact {
                let ty = if single { "REAL" } else { "DOUBLE PRECISION" };
                out.push((
                    format!("{} <> {num}", d.float_as_numeric(&c, ty)),
                    format!("lose digits as {}", to.ty),
                ));
            }
        }
        Kind::Time(false) if src == Kind::Time(true) => {
            out.push((
                d.time_of_day_predicate(&c),
                "have a time of day other than midnight".into(),
            ));
        }
        Kind::Bool if src.is_number() => {
            out.push((format!("{num} NOT IN (0, 1)"), "are neither 0 nor 1".to_owned()));
        }
        Kind::Enum(name) => {
            if let Some(labels) = schema.enums.get(name) {
                let list: Vec<String> = labels.iter().map(|l| quote_literal(l)).collect();
                out.push((
                    format!("CAST({c} AS TEXT) NOT IN ({})", list.join(", ")),
                    format!("are not labels of enum {name}"),
                ));
            }
        }
        _ => {}
    }
    out
}

/// A string literal with quotes doubled: `'it''s'`.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// How one backend writes migrations. Implemented by each backend's dialect; its connector hands
/// it to the engine ([`crate::Connector::migrations`]), where [`migration_dialect`] finds it.
///
/// [`migration_dialect`]: crate::migrate::migration_dialect
pub trait MigrationDialect: Dialect {
    /// The statements of one op. `before` and `after` are the schema (replayed for this
    /// dialect) before and after it.
    fn render(&self, op: &Op, before: &Schema, after: &Schema) -> Result<Vec<Statement>> {
        render_standard(self, op, before, after)
    }

    /// The table this op rebuilds on this backend, when it does (SQLite, for what its ALTER
    /// TABLE cannot do). Consecutive ops rebuilding one table are rendered as one rebuild.
    fn rebuilds(&self, op: &Op, before: &Schema) -> Option<String> {
        let _ = (op, before);
        None
    }

    /// One rebuild of `table` from its definition in `before` to the one in `after`; `using`
    /// gives copy expressions for some columns (by name).
    fn render_rebuild(
        &self,
        table: &str,
        before: &Schema,
        after: &Schema,
        using: &[(String, String)],
    ) -> Result<Vec<Statement>> {
        let _ = (before, after, using);
        Err(Error::Unsupported { backend: self.name(), what: format!("rebuilding table {table}") })
    }

    /// A quoted identifier.
    fn ident(&self, name: &str) -> String {
        let mut w = SqlWriter::new();
        self.write_ident(&mut w, name);
        w.sql
    }

    /// The SQL type of a column ([`Dialect::sql_type`] of its type and length).
    fn column_sql_type(&self, col: &Column) -> String {
        self.sql_type(col.ty.as_borrowed(), col.max_length)
    }

    /// Writes a database-generated key's clause (PostgreSQL's identity); returns whether it
    /// did, in which case the column gets no DEFAULT.
    fn write_identity(&self, w: &mut SqlWriter, col: &Column) -> bool {
        let _ = (w, col);
        false
    }

    /// Writes a literal.
    fn write_literal(&self, w: &mut SqlWriter, lit: &Literal) {
        match lit {
            Literal::Bool(b) => w.push(self.bool_literal(*b)),
            Literal::Int(i) => w.push(&i.to_string()),
            Literal::Float(f) => w.push(&f.to_string()),
            Literal::Text(t) => w.push(&quote_literal(t)),
        }
    }

    /// Writes ` DEFAULT ...` when the column has a default ([`write_column_default_standard`];
    /// PostgreSQL casts an enum label to its type).
    fn write_column_default(&self, w: &mut SqlWriter, col: &Column) {
        write_column_default_standard(self, w, col);
    }

    /// Writes what keeps an enum column to its labels where there is no enum type (SQLite's
    /// CHECK); nothing by default.
    fn write_enum_constraint(&self, w: &mut SqlWriter, column: &str, labels: &[String]) {
        let _ = (w, column, labels);
    }

    /// Writes a column definition: name, type, identity (a database-generated key), NOT NULL,
    /// DEFAULT, and what keeps an enum column to its labels where there is no enum type. The
    /// one writer of a column's DDL: CREATE TABLE (for `create_all` as for a migration), ADD
    /// COLUMN, and SQLite's rebuilt tables.
    fn write_column(&self, w: &mut SqlWriter, col: &Column, schema: &Schema) {
        self.write_ident(w, &col.name);
        w.push(" ");
        w.push(&self.column_sql_type(col));
        let identity = self.write_identity(w, col);
        if !col.nullable {
            w.push(" NOT NULL");
        }
        if !identity {
            self.write_column_default(w, col);
        }
        if let ColumnType::Enum { name, .. } = &col.ty {
            if let Some(labels) = schema.enums.get(name) {
                self.write_enum_constraint(w, &col.name, labels);
            }
        }
    }

    /// Writes `"a", "b"`.
    fn write_names(&self, w: &mut SqlWriter, names: &[String]) {
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            self.write_ident(w, n);
        }
    }

    /// Writes `FOREIGN KEY (...) REFERENCES t (...) [ON DELETE ...] [ON UPDATE ...]`.
    fn write_foreign_key(&self, w: &mut SqlWriter, fk: &ForeignKey) {
        w.push("FOREIGN KEY (");
        self.write_names(w, &fk.columns);
        w.push(") REFERENCES ");
        self.write_ident(w, &fk.ref_table);
        w.push(" (");
        self.write_names(w, &fk.ref_columns);
        w.push(")");
        if fk.on_delete != ReferentialAction::NoAction {
            w.push(" ON DELETE ");
            w.push(fk.on_delete.as_sql());
        }
        if fk.on_update != ReferentialAction::NoAction {
            w.push(" ON UPDATE ");
            w.push(fk.on_update.as_sql());
        }
    }

    /// `CREATE TABLE name (...)` for `t`, written under `name` (SQLite's rebuild writes a
    /// temporary name), without its indexes.
    fn create_table_sql(&self, t: &Table, name: &str, schema: &Schema) -> String {
        let mut w = SqlWriter::new();
        w.push("CREATE TABLE ");
        self.write_ident(&mut w, name);
        w.push(" (");
        for (i, c) in t.columns.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            self.write_column(&mut w, c, schema);
        }
        if !t.primary_key.is_empty() {
            w.push(", PRIMARY KEY (");
            self.write_names(&mut w, &t.primary_key);
            w.push(")");
        }
        for u in &t.uniques {
            w.push(", CONSTRAINT ");
            self.write_ident(&mut w, &u.name);
            w.push(" UNIQUE (");
            self.write_names(&mut w, &u.columns);
            w.push(")");
        }
        for f in &t.foreign_keys {
            w.push(", CONSTRAINT ");
            self.write_ident(&mut w, &f.name);
            w.push(" ");
            self.write_foreign_key(&mut w, f);
        }
        for c in &t.checks {
            w.push(", CONSTRAINT ");
            self.write_ident(&mut w, &c.name);
            w.push(" CHECK (");
            w.push(&c.expr);
            w.push(")");
        }
        w.push(")");
        w.sql
    }

    /// `CREATE [UNIQUE] INDEX [CONCURRENTLY] name ON table [USING method] (key [opclass], ...)
    /// [WHERE predicate]`; an expression key is written in parentheses.
    fn create_index_sql(&self, table: &str, index: &Index, concurrently: bool) -> String {
        let mut w = SqlWriter::new();
        w.push(if index.unique { "CREATE UNIQUE INDEX " } else { "CREATE INDEX " });
        if concurrently {
            w.push("CONCURRENTLY ");
        }
        self.write_ident(&mut w, &index.name);
        w.push(" ON ");
        self.write_ident(&mut w, table);
        if let Some(m) = &index.using {
            w.push(" USING ");
            w.push(m);
        }
        w.push(" (");
        for (i, k) in index.columns.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            match k {
                IndexKey::Column { name, .. } => self.write_ident(&mut w, name),
                IndexKey::Expr { expr, .. } => {
                    w.push("(");
                    w.push(expr);
                    w.push(")");
                }
            }
            if let Some(o) = k.opclass() {
                w.push(" ");
                w.push(o);
            }
        }
        w.push(")");
        if let Some(p) = &index.where_clause {
            w.push(" WHERE ");
            w.push(p);
        }
        w.sql
    }

    /// The statement creating `index`: [`MigrationDialect::create_index_sql`], outside the
    /// transaction when `concurrently`. SQLite makes it a comment when it lacks the method.
    fn create_index_statement(&self, table: &str, index: &Index, concurrently: bool) -> Statement {
        let sql = self.create_index_sql(table, index, concurrently);
        if concurrently {
            Statement::NoTransaction(sql)
        } else {
            Statement::Sql(sql)
        }
    }

    /// The statement dropping `index` of `table`.
    fn drop_index_statement(&self, table: &str, index: &Index) -> Statement {
        let _ = table;
        Statement::Sql(format!("DROP INDEX {}", self.ident(&index.name)))
    }

    /// The statement dropping an object an `sql` op declared (`DROP TRIGGER name ON table`,
    /// `DROP VIEW name`, `DROP FUNCTION name(args)`, or `DROP FUNCTION name` when its argument
    /// types are not known), for the downgrade of an op without `down`.
    fn drop_object_statement(&self, object: &SqlObject) -> Statement {
        let name = self.ident(&object.name);
        Statement::Sql(match (object.kind, &object.table) {
            (ObjectKind::Trigger, Some(t)) => format!("DROP TRIGGER {name} ON {}", self.ident(t)),
            (ObjectKind::Trigger, None) => format!("DROP TRIGGER {name}"),
            (ObjectKind::View, _) => format!("DROP VIEW {name}"),
            (ObjectKind::MaterializedView, _) => format!("DROP MATERIALIZED VIEW {name}"),
            (ObjectKind::Function, _) => match &object.args {
                Some(args) => format!("DROP FUNCTION {name}({args})"),
                None => format!("DROP FUNCTION {name}"),
            },
        })
    }

    /// `expected` (what the revisions replay to) with its custom column types, index keys,
    /// predicates and CHECK expressions written as the server writes them back (PostgreSQL's
    /// `character(2)` for a model's `char(2)`), so they compare with a reflected
    /// schema (`live`, read on `conn` inside a transaction that is rolled back). By default,
    /// as it is.
    fn canonical(
        &self,
        conn: &mut dyn Connection,
        live: &Schema,
        expected: &Schema,
    ) -> Result<Schema> {
        let _ = (conn, live);
        Ok(expected.clone())
    }

    /// The statement creating the version table when it does not exist.
    fn version_table_sql(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({} VARCHAR(64) NOT NULL PRIMARY KEY)",
            self.ident(VERSION_TABLE),
            self.ident("version")
        )
    }

    /// The query reading the version table's rows.
    fn read_versions_sql(&self) -> String {
        format!("SELECT {} FROM {}", self.ident("version"), self.ident(VERSION_TABLE))
    }

    /// The statements setting the version table to exactly `heads`.
    fn write_versions_sql(&self, heads: &[String]) -> Vec<String> {
        let mut out = vec![format!("DELETE FROM {}", self.ident(VERSION_TABLE))];
        for h in heads {
            out.push(format!(
                "INSERT INTO {} ({}) VALUES ({})",
                self.ident(VERSION_TABLE),
                self.ident("version"),
                quote_literal(h)
            ));
        }
        out
    }

    /// A statement run first in each revision's transaction so that two migrating processes
    /// take turns (PostgreSQL's `pg_advisory_xact_lock`); `None` when `BEGIN` already locks.
    fn lock_sql(&self) -> Option<String> {
        None
    }

    /// Statements run before each revision's transaction (SQLite turns foreign keys off, which
    /// it cannot do inside a transaction, so that rebuilding a table cascades nothing).
    fn before_revision_sql(&self) -> Vec<String> {
        Vec::new()
    }

    /// Statements run after each revision's transaction, committed or not, when
    /// [`MigrationDialect::restore_settings_query`] gives none.
    fn after_revision_sql(&self) -> Vec<String> {
        Vec::new()
    }

    /// A query, run before [`MigrationDialect::before_revision_sql`], whose rows (one text column)
    /// are the statements that put back what it changes on the connection, run after the
    /// revision: a connection whose URL turned a setting off gets it off again.
    fn restore_settings_query(&self) -> Option<String> {
        None
    }

    /// A query run at the end of each revision's transaction; any row it returns is a broken
    /// constraint and fails the revision (SQLite's `PRAGMA foreign_key_check`).
    fn integrity_check_sql(&self) -> Option<String> {
        None
    }

    /// The rows of a column that converting it from `from` to `to` would lose or change, as
    /// conditions over its old values, each with why (`are longer than 100 characters`):
    /// text longer than a new length, integers out of a new range, fractions for an integer,
    /// more decimal places or digits than a new `NUMERIC(p, s)`, NULLs for NOT NULL, text that
    /// is not a label of a new enum type. `schema` is the one after the change.
    fn lossy_rows(&self, from: &Column, to: &Column, schema: &Schema) -> Vec<(String, String)> {
        lossy_rows_standard(self, from, to, schema)
    }

    /// `expr` converted to the float type `float_type` (`REAL`, `DOUBLE PRECISION`) and back to
    /// an exact `NUMERIC`, to compare with `CAST(expr AS NUMERIC)`: a difference is a digit the
    /// float type loses.
    fn float_as_numeric(&self, expr: &str, float_type: &str) -> String {
        format!("CAST(CAST({expr} AS {float_type}) AS NUMERIC)")
    }

    /// The condition that the timestamp `expr` is not at midnight: what making it a date
    /// would lose.
    fn time_of_day_predicate(&self, expr: &str) -> String {
        format!("CAST({expr} AS DATE) <> {expr}")
    }

    /// The [`Guard`]s of converting `from` to `to` (the conditions of
    /// [`MigrationDialect::lossy_rows`]), counted over `source` (the table holding the old
    /// values; `table` is the table's name in the revision).
    fn guards(
        &self,
        table: &str,
        source: &str,
        from: &Column,
        to: &Column,
        schema: &Schema,
    ) -> Vec<Statement> {
        self.lossy_rows(from, to, schema)
            .into_iter()
            .map(|(predicate, reason)| self.guard(table, source, &to.name, &predicate, reason))
            .collect()
    }

    /// One [`Guard`]: the rows of `source` matching `predicate` (over old values of `column`
    /// of `table`) fail the revision, `reason` saying why.
    fn guard(
        &self,
        table: &str,
        source: &str,
        column: &str,
        predicate: &str,
        reason: String,
    ) -> Statement {
        let query = format!("SELECT count(*) FROM {} WHERE {predicate}", self.ident(source));
        let message =
            format!("rows of {table}.{column} {reason}: the change would lose or alter them");
        let script = self.guard_script(source, predicate, &message);
        Statement::Guard(Guard {
            table: table.to_owned(),
            column: column.to_owned(),
            reason,
            query,
            script,
        })
    }

    /// The guards of changing the labels of enum type `name` from `from` to `to`: rows of the
    /// columns of that type (in `before`) holding a label that goes (none when none goes).
    fn enum_label_guards(
        &self,
        name: &str,
        from: &[String],
        to: &[String],
        before: &Schema,
    ) -> Vec<Statement> {
        let mut out = Vec::new();
        if from.iter().all(|l| to.contains(l)) {
            return out;
        }
        let list: Vec<String> = to.iter().map(|l| quote_literal(l)).collect();
        for t in before.tables.values() {
            for c in t.columns.iter().filter(|c| c.ty.enum_name() == Some(name)) {
                let predicate =
                    format!("CAST({} AS TEXT) NOT IN ({})", self.ident(&c.name), list.join(", "));
                let reason = format!("hold labels that enum {name} no longer has");
                out.push(self.guard(&t.name, &t.name, &c.name, &predicate, reason));
            }
        }
        out
    }

    /// A guard in a script (`sql` command): SQL that fails when a row of `table` matches
    /// `predicate`, with `message`. Standard SQL cannot stop a script on a condition, so the
    /// default is a comment with the query that must count no row (PostgreSQL writes a
    /// `DO` block that raises).
    fn guard_script(&self, table: &str, predicate: &str, message: &str) -> String {
        sql_comment(&format!(
            "check (not expressible in plain SQL on {}: run it and stop if it counts any row): {message}\nSELECT count(*) FROM {} WHERE {predicate};",
            self.name(),
            self.ident(table)
        ))
    }

    /// The schema of the live database behind `conn` (without the version table).
    fn reflect(&self, conn: &mut dyn Connection) -> Result<Schema> {
        let _ = conn;
        Err(Error::Unsupported { backend: self.name(), what: "schema reflection".into() })
    }

    /// `schema` as reflection on this backend can see it, so a reflected schema and a replayed
    /// one compare equal when the database matches (SQLite keeps one integer type, say).
    fn comparable(&self, schema: &Schema) -> Schema {
        schema.clone()
    }
}

/// ` DEFAULT ...`: the column's `server_default` as written, else its literal `default`.
pub fn write_column_default_standard<D: MigrationDialect + ?Sized>(
    d: &D,
    w: &mut SqlWriter,
    col: &Column,
) {
    if let Some(sd) = &col.server_default {
        w.push(" DEFAULT ");
        w.push(sd);
    } else if let Some(lit) = &col.default {
        w.push(" DEFAULT ");
        d.write_literal(w, lit);
    }
}

/// The standard rendering of an op, the default of [`MigrationDialect::render`].
pub fn render_standard<D: MigrationDialect + ?Sized>(
    d: &D,
    op: &Op,
    before: &Schema,
    after: &Schema,
) -> Result<Vec<Statement>> {
    let alter = |t: &str| format!("ALTER TABLE {}", d.ident(t));
    let one = |s: String| Ok(vec![Statement::Sql(s)]);
    match op {
        Op::CreateTable(t) => {
            let mut out = vec![Statement::Sql(d.create_table_sql(t, &t.name, after))];
            for ix in &t.indexes {
                out.push(d.create_index_statement(&t.name, ix, false));
            }
            Ok(out)
        }
        Op::DropTable(t) => one(format!("DROP TABLE {}", d.ident(&t.name))),
        Op::RenameTable { from, to } => one(format!("{} RENAME TO {}", alter(from), d.ident(to))),
        Op::AddColumn { table, column } => {
            let mut w = SqlWriter::new();
            w.push(&alter(table));
            w.push(" ADD COLUMN ");
            d.write_column(&mut w, column, after);
            one(w.sql)
        }
        Op::DropColumn { table, column } => {
            one(format!("{} DROP COLUMN {}", alter(table), d.ident(&column.name)))
        }
        Op::AlterColumn { table, from, to, using, .. } => {
            Ok(alter_column_standard(d, table, from, to, using.as_deref(), after))
        }
        Op::RenameColumn { table, from, to } => {
            one(format!("{} RENAME COLUMN {} TO {}", alter(table), d.ident(from), d.ident(to)))
        }
        Op::CreateIndex { table, index, concurrently } => {
            Ok(vec![d.create_index_statement(table, index, *concurrently)])
        }
        Op::DropIndex { table, index } => Ok(vec![d.drop_index_statement(table, index)]),
        Op::AddUnique { table, unique } => {
            let mut w = SqlWriter::new();
            w.push(&alter(table));
            w.push(" ADD CONSTRAINT ");
            d.write_ident(&mut w, &unique.name);
            w.push(" UNIQUE (");
            d.write_names(&mut w, &unique.columns);
            w.push(")");
            one(w.sql)
        }
        Op::AddForeignKey { table, foreign_key } => {
            let mut w = SqlWriter::new();
            w.push(&alter(table));
            w.push(" ADD CONSTRAINT ");
            d.write_ident(&mut w, &foreign_key.name);
            w.push(" ");
            d.write_foreign_key(&mut w, foreign_key);
            one(w.sql)
        }
        Op::AddCheck { table, check } => one(format!(
            "{} ADD CONSTRAINT {} CHECK ({})",
            alter(table),
            d.ident(&check.name),
            check.expr
        )),
        Op::DropUnique { table, unique: super::schema::Unique { name, .. } }
        | Op::DropForeignKey { table, foreign_key: ForeignKey { name, .. } }
        | Op::DropCheck { table, check: super::schema::Check { name, .. } } => {
            one(format!("{} DROP CONSTRAINT {}", alter(table), d.ident(name)))
        }
        Op::AlterPrimaryKey { table, from, to } => {
            let mut out = Vec::new();
            if !from.is_empty() {
                out.push(Statement::Sql(format!(
                    "{} DROP CONSTRAINT {}",
                    alter(table),
                    d.ident(&format!("{table}_pkey"))
                )));
            }
            if !to.is_empty() {
                let mut w = SqlWriter::new();
                w.push(&alter(table));
                w.push(" ADD PRIMARY KEY (");
                d.write_names(&mut w, to);
                w.push(")");
                out.push(Statement::Sql(w.sql));
            }
            Ok(out)
        }
        Op::CreateEnum { name, values } => {
            let labels: Vec<&str> = values.iter().map(String::as_str).collect();
            Ok(d.create_enum_type(name, &labels).map(Statement::Sql).into_iter().collect())
        }
        Op::DropEnum { name, .. } => {
            Ok(d.drop_enum_type(name).map(Statement::Sql).into_iter().collect())
        }
        Op::AlterEnum { name, .. } => {
            let _ = before;
            Err(Error::Unsupported {
                backend: d.name(),
                what: format!("changing the labels of enum type {name}"),
            })
        }
        Op::Sql { up, drops, .. } if up.trim().is_empty() => {
            // The downgrade of an op without `down`: its objects dropped, triggers and views
            // before the functions they may call.
            let mut objects: Vec<&SqlObject> = drops.iter().collect();
            objects.sort_by_key(|o| o.kind);
            Ok(objects.into_iter().map(|o| d.drop_object_statement(o)).collect())
        }
        Op::Sql { up, .. } => one(up.clone()),
    }
}

/// The standard `ALTER TABLE ... ALTER COLUMN` statements: the [`Guard`]s of the conversion
/// (none with an explicit `using`), default dropped before a type change and set after it,
/// `TYPE ...` (with `USING` only when the op gives one or PostgreSQL has no assignment cast
/// between the types: an explicit cast may truncate or round), NOT NULL, identity.
pub fn alter_column_standard<D: MigrationDialect + ?Sized>(
    d: &D,
    table: &str,
    from: &Column,
    to: &Column,
    using: Option<&str>,
    schema: &Schema,
) -> Vec<Statement> {
    let col = format!("ALTER TABLE {} ALTER COLUMN {}", d.ident(table), d.ident(&to.name));
    // An explicit `using` says how to convert: the user asked for what it does to the rows.
    let mut out =
        if using.is_none() { d.guards(table, table, from, to, schema) } else { Vec::new() };
    let retyped = from.ty != to.ty || from.max_length != to.max_length;
    let had_default = from.default.is_some() || from.server_default.is_some();
    let has_default = to.default.is_some() || to.server_default.is_some();
    let default_changed = from.default != to.default || from.server_default != to.server_default;
    if from.auto_increment && !to.auto_increment {
        out.push(Statement::Sql(format!("{col} DROP IDENTITY IF EXISTS")));
    }
    if had_default && (retyped || default_changed) {
        out.push(Statement::Sql(format!("{col} DROP DEFAULT")));
    }
    if retyped {
        let ty = d.column_sql_type(to);
        let cast = match using {
            Some(u) => Some(u.to_owned()),
            None if converts_without_using(from, to) => None,
            None if from.ty.enum_name().is_some() || to.ty.enum_name().is_some() => {
                Some(format!("CAST(CAST({} AS TEXT) AS {ty})", d.ident(&to.name)))
            }
            None => Some(format!("CAST({} AS {ty})", d.ident(&to.name))),
        };
        out.push(Statement::Sql(match cast {
            Some(cast) => format!("{col} TYPE {ty} USING {cast}"),
            None => format!("{col} TYPE {ty}"),
        }));
    }
    if has_default && (retyped || default_changed) {
        let mut w = SqlWriter::new();
        d.write_column_default(&mut w, to);
        out.push(Statement::Sql(format!("{col} SET{}", w.sql)));
    }
    if from.nullable != to.nullable {
        out.push(Statement::Sql(format!(
            "{col} {} NOT NULL",
            if to.nullable { "DROP" } else { "SET" }
        )));
    }
    if to.auto_increment && !from.auto_increment {
        out.push(Statement::Sql(format!("{col} ADD GENERATED BY DEFAULT AS IDENTITY")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{enum_label_literal, numeric_precision, text_length};

    #[test]
    fn an_enum_default_is_read_as_a_label_only_when_it_is_one() {
        assert_eq!(enum_label_literal("'draft'"), Some("'draft'"));
        assert_eq!(enum_label_literal(" 'draft'::post_status "), Some("'draft'"));
        assert_eq!(enum_label_literal("'it''s'::\"Post Status\""), None);
        assert_eq!(enum_label_literal("'it''s'::\"PostStatus\""), Some("'it''s'"));
        assert_eq!(enum_label_literal("'a' || 'b'"), None);
        assert_eq!(enum_label_literal("'a'::t; DROP TABLE x"), None);
        assert_eq!(enum_label_literal("'unterminated"), None);
        assert_eq!(enum_label_literal("lower('A')"), None);
    }

    #[test]
    fn numeric_precision_reads_numeric_and_decimal() {
        assert_eq!(numeric_precision("NUMERIC(10, 2)"), Some(Some((10, 2))));
        assert_eq!(numeric_precision("decimal(5)"), Some(Some((5, 0))));
        assert_eq!(numeric_precision("numeric"), Some(None));
        assert_eq!(numeric_precision("NUMERIC(2, 5)"), None);
        assert_eq!(numeric_precision("NUMERIC(a, b)"), None);
        assert_eq!(numeric_precision("VARCHAR(10)"), None);
    }

    #[test]
    fn text_length_reads_text_types() {
        assert_eq!(text_length("char(2)"), Some(Some(2)));
        assert_eq!(text_length("CHARACTER (3)"), Some(Some(3)));
        assert_eq!(text_length("character varying(40)"), Some(Some(40)));
        assert_eq!(text_length("varchar"), Some(None));
        assert_eq!(text_length("char"), Some(Some(1)));
        assert_eq!(text_length("citext"), Some(None));
        assert_eq!(text_length("character varying(40)[]"), None);
        assert_eq!(text_length("char(x)"), None);
        assert_eq!(text_length("json"), None);
    }
}
