//! [`SqliteDialect`]: how the ORM writes SQL for SQLite. Everything not overridden here is the
//! standard rendering of [`orm_core::Dialect`]'s default methods.
//!
//! The overrides: numbered `?n` placeholders, `BEGIN IMMEDIATE`, the type mapping (declared types
//! chosen for their affinity, see the crate docs), a CHECK for enum columns, the typed `like` as a
//! GLOB (SQLite's LIKE ignores ASCII case, PostgreSQL's does not), `ilike`, `lower` and `upper`
//! with Unicode-aware functions registered on every connection, JSON keys quoted into paths, and
//! the array and JSON operators emulated with `json_each`.

use crate::connection::{LOWER_FUNCTION, UPPER_FUNCTION};
use orm_core::dialect::{check_like_pattern, LIKE_ESCAPE_CLAUSE};
use orm_core::dialect::{PREC_ADD, PREC_ATOM};
use orm_core::schema::{ColumnSchema, ColumnType};
use orm_core::statement::{ArrayOp, Expr, Func, JsonOp};
use orm_core::{Dialect, Error, Result, SqlWriter, Value, LIKE_ESCAPE};

/// The SQLite dialect. Stateless; use [`DIALECT`] where a `&'static dyn Dialect` is wanted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SqliteDialect;

/// The one instance of [`SqliteDialect`].
pub static DIALECT: SqliteDialect = SqliteDialect;

/// The same dialect as the migration engine sees it (see [`orm_core::migrate::migration_dialect`]).
pub static MIGRATIONS: &dyn orm_core::migrate::MigrationDialect = &DIALECT;

/// Declared type of [`ColumnType::Timestamptz`]: TEXT affinity, values in
/// [`TIMESTAMPTZ_TEXT_FORMAT`](orm_core::value::TIMESTAMPTZ_TEXT_FORMAT).
pub const TIMESTAMPTZ_TYPE: &str = "TIMESTAMPTZ_TEXT";
/// Declared type of [`ColumnType::Timestamp`]: TEXT affinity, values in
/// [`TIMESTAMP_TEXT_FORMAT`](orm_core::value::TIMESTAMP_TEXT_FORMAT).
pub const TIMESTAMP_TYPE: &str = "TIMESTAMP_TEXT";
/// Declared type of [`ColumnType::Date`]: TEXT affinity, values in
/// [`DATE_TEXT_FORMAT`](orm_core::value::DATE_TEXT_FORMAT).
pub const DATE_TYPE: &str = "DATE_TEXT";
/// Declared type of [`ColumnType::Uuid`]: TEXT affinity, hyphenated lowercase values.
pub const UUID_TYPE: &str = "UUID_TEXT";
/// Declared type of [`ColumnType::Json`]: TEXT affinity, JSON text.
pub const JSON_TYPE: &str = "JSON_TEXT";
/// Declared type of [`ColumnType::TextArray`]: TEXT affinity, a JSON array of strings.
pub const TEXT_ARRAY_TYPE: &str = "STRING_ARRAY_TEXT";
/// Declared type of [`ColumnType::BigIntArray`]: TEXT affinity, a JSON array of integers. (Not
/// `BIGINT_...`: any declared type containing `INT` gets INTEGER affinity.)
pub const BIGINT_ARRAY_TYPE: &str = "I64_ARRAY_TEXT";

impl Dialect for SqliteDialect {
    fn brackets_quote_identifiers(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    /// `?1`, `?2`, ...: numbered, so one value can be referred to twice.
    fn write_placeholder(&self, w: &mut SqlWriter, n: usize) {
        w.sql.push('?');
        w.sql.push_str(&n.to_string());
    }

    fn column_type(&self, col: &ColumnSchema) -> String {
        match col.ty {
            // Exactly `INTEGER`, so that a single-column integer primary key is a rowid alias
            // and the database assigns it.
            ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => "INTEGER".into(),
            ColumnType::Real | ColumnType::Double => "REAL".into(),
            ColumnType::Boolean => "BOOLEAN".into(),
            ColumnType::Text => match col.max_length {
                Some(n) => format!("VARCHAR({n})"),
                None => "TEXT".into(),
            },
            ColumnType::Blob => "BLOB".into(),
            ColumnType::Timestamptz => TIMESTAMPTZ_TYPE.into(),
            ColumnType::Timestamp => TIMESTAMP_TYPE.into(),
            ColumnType::Date => DATE_TYPE.into(),
            ColumnType::Uuid => UUID_TYPE.into(),
            ColumnType::Json => JSON_TYPE.into(),
            ColumnType::TextArray => TEXT_ARRAY_TYPE.into(),
            ColumnType::BigIntArray => BIGINT_ARRAY_TYPE.into(),
            ColumnType::Enum { .. } => "TEXT".into(),
            ColumnType::Custom(s) => s.into(),
            // A type added to the core later: TEXT keeps whatever is bound unchanged.
            _ => "TEXT".into(),
        }
    }

    /// `BEGIN IMMEDIATE`: takes the write lock up front. A deferred transaction that reads and
    /// then writes must upgrade its lock, and that upgrade fails with SQLITE_BUSY at once when
    /// another connection wrote meanwhile; no busy timeout cures it.
    fn begin_sql(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }

    /// `orm_lower` and `orm_upper` ([`LOWER_FUNCTION`], [`UPPER_FUNCTION`], registered on
    /// every connection) for `LOWER` and `UPPER`: SQLite's own fold ASCII letters only,
    /// PostgreSQL's fold every letter (in a UTF-8 locale).
    fn function_name(&self, func: Func) -> &'static str {
        match func {
            Func::Lower => LOWER_FUNCTION,
            Func::Upper => UPPER_FUNCTION,
            other => orm_core::dialect::standard_function_name(other),
        }
    }

    /// The typed `like` is case-sensitive, as on PostgreSQL, without touching what LIKE means
    /// in the user's own SQL (SQLite's LIKE ignores ASCII case, and the connection keeps
    /// SQLite's default): a text pattern is translated to a GLOB when it is bound
    /// ([`like_to_glob`]: `%` → `*`, `_` → `?`, escaped and GLOB-special characters in
    /// brackets), `x GLOB ?1`, which an index on `x` can serve as it serves a prefix LIKE. A
    /// pattern that is not a bound text (a column, an expression) cannot be translated and is an
    /// [`Error::Unsupported`]. `ilike` compares text lowercased by Unicode's rules
    /// ([`LOWER_FUNCTION`]) with LIKE and `ESCAPE '\'`, as PostgreSQL's ILIKE does, and takes
    /// any pattern.
    fn write_like(&self, w: &mut SqlWriter, expr: &Expr, pattern: &Expr, ci: bool, negated: bool) {
        check_like_pattern(w, pattern);
        if ci {
            w.push(LOWER_FUNCTION);
            w.push("(");
            self.write_expr(w, expr);
            w.push(")");
            w.push(if negated { " NOT LIKE " } else { " LIKE " });
            w.push(LOWER_FUNCTION);
            w.push("(");
            self.write_expr(w, pattern);
            w.push(")");
            w.push(LIKE_ESCAPE_CLAUSE);
            return;
        }
        let glob = match pattern {
            Expr::Value(Value::Text(p)) => Value::Text(like_to_glob(p)),
            Expr::Value(Value::Null) => Value::Null,
            _ => {
                return w.fail(unsupported(
                    "a case-sensitive LIKE whose pattern is not a bound text (SQLite's LIKE \
                     ignores case; a text pattern is translated to GLOB, an expression cannot \
                     be)",
                ))
            }
        };
        self.write_operand(w, expr, PREC_ADD);
        w.push(if negated { " NOT GLOB " } else { " GLOB " });
        self.write_value(w, &glob);
    }

    /// `->` and `->>` are SQLite's own JSON operators (3.38+), given a path that names the key
    /// and nothing else: `'$.' || json_quote(key)`, so the key is one quoted label whatever it
    /// holds (`$`, `a.b`, `[0]`, `"`, the empty string), as PostgreSQL reads a key. A bare text
    /// key would be read as a path (`$` the whole document, `a.b` a nested value). `->>` returns
    /// SQL values, so it is cast to TEXT to match PostgreSQL's text result (a JSON `true` reads
    /// back as `1`, not `true`). `?` is PostgreSQL's: an object has the key (`json_type` on the
    /// same path), an array holds it as a string element, a string is it; NULL for a NULL
    /// document. `@>` (containment) has no SQLite equivalent and is an [`Error::Unsupported`].
    fn write_json(&self, w: &mut SqlWriter, op: JsonOp, expr: &Expr, arg: &Expr) {
        match op {
            JsonOp::Get => {
                self.write_operand(w, expr, PREC_ATOM);
                w.push(" -> (");
                write_key_path(self, w, arg);
                w.push(")");
            }
            JsonOp::GetText => {
                w.push("CAST(");
                self.write_operand(w, expr, PREC_ATOM);
                w.push(" ->> (");
                write_key_path(self, w, arg);
                w.push(") AS TEXT)");
            }
            JsonOp::HasKey => {
                w.push("(CASE WHEN ");
                self.write_operand(w, expr, PREC_ADD);
                w.push(" IS NULL THEN NULL WHEN json_type(");
                self.write_expr(w, expr);
                w.push(") = 'object' THEN json_type(");
                self.write_expr(w, expr);
                w.push(", ");
                write_key_path(self, w, arg);
                w.push(") IS NOT NULL WHEN json_type(");
                self.write_expr(w, expr);
                w.push(") IN ('array', 'text') THEN EXISTS (SELECT 1 FROM json_each(");
                self.write_expr(w, expr);
                w.push(r#") AS "elem" WHERE "elem"."type" = 'text' AND "elem"."value" = "#);
                self.write_operand(w, arg, PREC_ADD);
                w.push(") ELSE FALSE END)");
            }
            JsonOp::Contains => w.fail(unsupported("JSON containment (@>)")),
        }
    }

    /// Arrays are JSON text on SQLite; the operators are emulated with `json_each`, with
    /// PostgreSQL's results for non-NULL arrays.
    fn write_array(&self, w: &mut SqlWriter, op: ArrayOp, expr: &Expr, arg: &Expr) {
        match op {
            ArrayOp::Contains => {
                w.push("NOT EXISTS (SELECT 1 FROM json_each(");
                self.write_expr(w, arg);
                w.push(") AS \"want\" WHERE \"want\".\"value\" NOT IN (SELECT \"have\".\"value\" FROM json_each(");
                self.write_expr(w, expr);
                w.push(") AS \"have\"))");
            }
            ArrayOp::Overlaps => {
                w.push("EXISTS (SELECT 1 FROM json_each(");
                self.write_expr(w, expr);
                w.push(") AS \"have\" WHERE \"have\".\"value\" IN (SELECT \"want\".\"value\" FROM json_each(");
                self.write_expr(w, arg);
                w.push(") AS \"want\"))");
            }
            ArrayOp::Any => {
                w.push("EXISTS (SELECT 1 FROM json_each(");
                self.write_expr(w, expr);
                w.push(") AS \"have\" WHERE \"have\".\"value\" = ");
                self.write_operand(w, arg, PREC_ADD);
                w.push(")");
            }
        }
    }

    /// SQLite's full-text search needs an FTS5 virtual table; plain tables cannot be searched
    /// with PostgreSQL's semantics, so this is an [`Error::Unsupported`], never a LIKE guess.
    fn write_full_text(&self, w: &mut SqlWriter, _: &[Expr], _: &str, _: &Expr, _: bool) {
        w.fail(unsupported("full-text search (to_tsvector @@ tsquery)"));
    }

    /// `EXPLAIN QUERY PLAN`; SQLite has no EXPLAIN ANALYZE.
    fn explain_prefix(&self, analyze: bool) -> Result<&'static str> {
        if analyze {
            Err(unsupported("EXPLAIN ANALYZE"))
        } else {
            Ok("EXPLAIN QUERY PLAN ")
        }
    }

    /// ` CHECK ("col" IN ('a', 'b'))`: SQLite has no enum type.
    fn write_enum_check(&self, w: &mut SqlWriter, col: &ColumnSchema, variants: &[&str]) {
        w.push(" CHECK (");
        self.write_ident(w, col.name);
        w.push(" IN (");
        for (i, v) in variants.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.push("'");
            w.push(&v.replace('\'', "''"));
            w.push("'");
        }
        w.push("))");
    }
}

/// The portable type and maximum length behind a declared column type written by
/// [`SqliteDialect::column_type`], for reflection. Case-insensitive. `TEXT` comes back as
/// [`ColumnType::Text`] (an enum column is TEXT too: its labels are in its CHECK); a type this
/// dialect never writes is `None`.
pub fn parse_declared_type(declared: &str) -> Option<(ColumnType, Option<u32>)> {
    let upper = declared.trim().to_ascii_uppercase();
    let ty = match upper.as_str() {
        "INTEGER" => ColumnType::BigInt,
        "REAL" => ColumnType::Double,
        "BOOLEAN" => ColumnType::Boolean,
        "TEXT" => ColumnType::Text,
        "BLOB" => ColumnType::Blob,
        TIMESTAMPTZ_TYPE => ColumnType::Timestamptz,
        TIMESTAMP_TYPE => ColumnType::Timestamp,
        DATE_TYPE => ColumnType::Date,
        UUID_TYPE => ColumnType::Uuid,
        JSON_TYPE => ColumnType::Json,
        TEXT_ARRAY_TYPE => ColumnType::TextArray,
        BIGINT_ARRAY_TYPE => ColumnType::BigIntArray,
        other => {
            let n = other.strip_prefix("VARCHAR(")?.strip_suffix(')')?;
            return n.trim().parse().ok().map(|n| (ColumnType::Text, Some(n)));
        }
    };
    Some((ty, None))
}

/// A LIKE pattern (escape character [`LIKE_ESCAPE`]) as the GLOB pattern that matches the same
/// text, case-sensitively: `%` becomes `*`, `_` becomes `?`, an escaped character stands for
/// itself, and the characters GLOB treats specially (`*`, `?`, `[`) are put in brackets to match
/// themselves (`[*]`, `[?]`, `[[]`). A trailing lone escape (refused before this is called)
/// is dropped.
///
/// ```
/// use orm_sqlite::dialect::like_to_glob;
///
/// assert_eq!(like_to_glob("%ta_"), "*ta?");
/// assert_eq!(like_to_glob(r"100\%*[?]_"), "100%[*][[][?]]?");
/// ```
pub fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut escaped = false;
    for c in pattern.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                push_glob_literal(&mut out, c);
            }
            LIKE_ESCAPE => escaped = true,
            '%' => out.push('*'),
            '_' => out.push('?'),
            _ => push_glob_literal(&mut out, c),
        }
    }
    out
}

fn push_glob_literal(out: &mut String, c: char) {
    match c {
        '*' | '?' | '[' => {
            out.push('[');
            out.push(c);
            out.push(']');
        }
        _ => out.push(c),
    }
}

/// The JSON path of one top-level key: `'$.' || json_quote(key)`, a quoted label in which SQLite
/// reads JSON escapes (`$."a\"b"`), so any text is one key.
fn write_key_path(d: &SqliteDialect, w: &mut SqlWriter, key: &Expr) {
    w.push("'$.' || json_quote(");
    d.write_expr(w, key);
    w.push(")");
}

fn unsupported(what: &str) -> Error {
    Error::Unsupported { backend: "sqlite", what: what.to_owned() }
}
