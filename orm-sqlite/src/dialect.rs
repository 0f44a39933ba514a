//! [`SqliteDialect`]: how the ORM writes SQL for SQLite. Everything not overridden here is the
//! standard rendering of [`orm_core::Dialect`]'s default methods.
//!
//! The overrides: numbered `?n` placeholders, `BEGIN IMMEDIATE`, the type mapping (declared types
//! chosen for their affinity, see the crate docs; enum columns are TEXT, their CHECK is written by
//! the DDL writer in `migrate.rs`), the typed `like` as a
//! GLOB (SQLite's LIKE ignores ASCII case, PostgreSQL's does not), `ilike`, `lower` and `upper`
//! with Unicode-aware functions registered on every connection, JSON keys quoted into paths, and
//! the array and JSON operators emulated with `json_each`.

use crate::connection::{LOWER_FUNCTION, UPPER_FUNCTION};
use crate::value::DECIMAL_CMP_FUNCTION;
use orm_core::__private::chrono::NaiveDateTime;
use orm_core::dialect::{
    check_like_pattern, write_standard_between, write_standard_binary, write_standard_in_list,
    LIKE_ESCAPE_CLAUSE,
};
use orm_core::dialect::{PREC_ADD, PREC_ATOM};
use orm_core::schema::ColumnType;
use orm_core::statement::{ArrayOp, BinaryOp, Expr, Func, JsonOp};
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
/// Declared type of [`ColumnType::Numeric`]: TEXT affinity, the decimal's exact text
/// (`-12.50`), which SQLite's NUMERIC affinity would turn into a REAL of 15 significant digits.
pub const DECIMAL_TYPE: &str = "DECIMAL_TEXT";
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
        w.push_numbered('?', n);
    }

    /// Enum columns are TEXT (with a CHECK, written by the DDL writer); NUMERIC is
    /// [`DECIMAL_TYPE`], TEXT affinity (decimals are bound as their exact text).
    fn sql_type(&self, ty: ColumnType<&str>, max_length: Option<u32>) -> String {
        match ty {
            // Exactly `INTEGER`, so that a single-column integer primary key is a rowid alias
            // and the database assigns it.
            ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => "INTEGER".into(),
            ColumnType::Real | ColumnType::Double => "REAL".into(),
            ColumnType::Boolean => "BOOLEAN".into(),
            ColumnType::Text => match max_length {
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
            ColumnType::Numeric => DECIMAL_TYPE.into(),
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
    /// A cast to an exact decimal (`sum` of a `Decimal` column casts to it) would compute in
    /// floating point on SQLite, so a different answer than PostgreSQL's: refused.
    fn write_cast(&self, w: &mut SqlWriter, expr: &Expr, ty: ColumnType) {
        if ty == ColumnType::Numeric {
            w.fail(unsupported(
                "a decimal computed in the database (SUM of a Decimal column, a cast to NUMERIC): \
                 SQLite computes in floating point; add the values in Rust",
            ));
            return;
        }
        orm_core::dialect::write_standard_cast(self, w, expr, ty);
    }

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

    /// A comparison with a bound time (`DateTime<Utc>`, `NaiveDateTime`) compares by the time a
    /// stored text stands for, not by its characters, so a row written as `2024-01-01 00:00:00`
    /// (SQLite's functions, the sqlite3 shell) equals one written as
    /// `2024-01-01 00:00:00.000000` (SQLAlchemy, this ORM): the time is bound as the two texts
    /// that bound its every form ([`time_bounds`]), `x = t` as `x BETWEEN lo AND hi`, `x < t` as
    /// `x < lo`, `x <= t` as `x <= hi`, `x > t` as `x > hi`, `x >= t` as `x >= lo`. Each is a
    /// range on `x`, which an index on `x` serves.
    ///
    /// A comparison with a bound `Decimal` compares by value, whatever the column holds
    /// (this backend's decimal text, or the integers and floats of a NUMERIC column):
    /// `orm_decimal_cmp(x, ?1) op 0` ([`DECIMAL_CMP_FUNCTION`]), since SQLite compares two
    /// texts character by character (`'10.00' < '9.99'`). Arithmetic with a bound `Decimal`
    /// would be done in floating point, and is an [`Error::Unsupported`].
    fn write_binary(&self, w: &mut SqlWriter, left: &Expr, op: BinaryOp, right: &Expr) {
        if is_decimal(left) || is_decimal(right) {
            return self.write_decimal_comparison(w, left, op, right);
        }
        let mirrored = match op {
            BinaryOp::Eq => BinaryOp::Eq,
            BinaryOp::Ne => BinaryOp::Ne,
            BinaryOp::Lt => BinaryOp::Gt,
            BinaryOp::Le => BinaryOp::Ge,
            BinaryOp::Gt => BinaryOp::Lt,
            BinaryOp::Ge => BinaryOp::Le,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                return write_standard_binary(self, w, left, op, right)
            }
        };
        match (time_value(left), time_value(right)) {
            (None, Some(t)) => self.write_time_comparison(w, left, op, t),
            (Some(t), None) => self.write_time_comparison(w, right, mirrored, t),
            _ => write_standard_binary(self, w, left, op, right),
        }
    }

    /// `x BETWEEN t1 AND t2` for bound times: `x BETWEEN lo(t1) AND hi(t2)`, by the times the
    /// texts stand for, as [`write_binary`](Self::write_binary) compares.
    fn write_between(
        &self,
        w: &mut SqlWriter,
        expr: &Expr,
        low: &Expr,
        high: &Expr,
        negated: bool,
    ) {
        if [expr, low, high].into_iter().any(is_decimal) {
            // `x >= low AND x <= high`, each by value (NULL where BETWEEN gives NULL).
            w.push(if negated { "NOT (" } else { "(" });
            self.write_decimal_comparison(w, expr, BinaryOp::Ge, low);
            w.push(" AND ");
            self.write_decimal_comparison(w, expr, BinaryOp::Le, high);
            w.push(")");
            return;
        }
        if time_value(expr).is_some() && (time_value(low).is_none() || time_value(high).is_none()) {
            // A bound time between two columns: `low <= t AND high >= t`, each by time.
            w.push(if negated { "NOT (" } else { "(" });
            self.write_binary(w, low, BinaryOp::Le, expr);
            w.push(" AND ");
            self.write_binary(w, high, BinaryOp::Ge, expr);
            w.push(")");
            return;
        }
        let bound = |e: &Expr, pick_high: bool| -> Result<Option<Value>> {
            time_value(e)
                .map(time_bounds)
                .transpose()
                .map(|b| b.map(|(lo, hi)| if pick_high { hi } else { lo }))
        };
        let (lo, hi) = match (bound(low, false), bound(high, true)) {
            (Ok(lo), Ok(hi)) => (lo, hi),
            (Err(e), _) | (_, Err(e)) => return w.fail(e),
        };
        if lo.is_none() && hi.is_none() {
            return write_standard_between(self, w, expr, low, high, negated);
        }
        self.write_operand(w, expr, PREC_ADD);
        w.push(if negated { " NOT BETWEEN " } else { " BETWEEN " });
        match &lo {
            Some(v) => self.write_value(w, v),
            None => self.write_operand(w, low, PREC_ADD),
        }
        w.push(" AND ");
        match &hi {
            Some(v) => self.write_value(w, v),
            None => self.write_operand(w, high, PREC_ADD),
        }
    }

    /// `x IN (t1, t2)` for bound times: `(x BETWEEN lo1 AND hi1 OR x BETWEEN lo2 AND hi2)`, by
    /// the times the texts stand for; `NOT (...)` for NOT IN. With bound decimals, `(x = d1 OR
    /// x = d2)` by value, as [`write_binary`](Self::write_binary) compares. Other lists are
    /// standard.
    fn write_in_list(&self, w: &mut SqlWriter, expr: &Expr, list: &[Expr], negated: bool) {
        let timed = time_value(expr).is_some() || list.iter().any(|e| time_value(e).is_some());
        let decimal = is_decimal(expr) || list.iter().any(is_decimal);
        if !(timed || decimal) || list.is_empty() {
            return write_standard_in_list(self, w, expr, list, negated);
        }
        w.push(if negated { "NOT (" } else { "(" });
        for (i, item) in list.iter().enumerate() {
            if i > 0 {
                w.push(" OR ");
            }
            self.write_binary(w, expr, BinaryOp::Eq, item);
        }
        w.push(")");
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
}

/// The portable type and maximum length a declared column type means, for reflection.
/// Case-insensitive; runs of white space count as one space.
///
/// The names [`SqliteDialect::sql_type`] writes come back as the type they were written for
/// (`TEXT` as [`ColumnType::Text`]: an enum column is TEXT too, its labels are in its CHECK;
/// `JSON_TEXT` as [`ColumnType::Json`], ...). The names other tools write (SQL scripts, the
/// sqlite3 shell, SQLAlchemy) are read by what they mean, following SQLAlchemy's SQLite
/// dialect where it names the type and SQLite's affinity rules
/// (<https://www.sqlite.org/datatype3.html>, section 3.1) otherwise:
///
/// | declared | type | length |
/// |---|---|---|
/// | `INTEGER`, `BIGINT`, `INT8`, `UNSIGNED BIG INT`, any other name containing `INT` | [`ColumnType::BigInt`] | |
/// | `INT`, `MEDIUMINT` | [`ColumnType::Integer`] | |
/// | `SMALLINT`, `TINYINT`, `INT2` | [`ColumnType::SmallInt`] | |
/// | `TEXT`, `CLOB`, `VARCHAR(n)`, `NVARCHAR(n)`, `CHAR(n)`, `NCHAR(n)`, `CHARACTER(n)`, `VARYING CHARACTER(n)`, `NATIVE CHARACTER(n)`, `CHARACTER VARYING(n)`, any other name containing `CHAR`, `CLOB` or `TEXT` | [`ColumnType::Text`] | `n` |
/// | `BLOB`, no type at all | [`ColumnType::Blob`] | |
/// | `REAL`, `DOUBLE`, `DOUBLE PRECISION`, `FLOAT`, any other name containing `REAL`, `FLOA` or `DOUB` | [`ColumnType::Double`] | |
/// | `NUMERIC`, `DECIMAL`, `NUMERIC(p, s)`, `DECIMAL(p, s)`, `DECIMAL_TEXT` | [`ColumnType::Numeric`] | |
/// | `BOOLEAN`, `BOOL` | [`ColumnType::Boolean`] | |
/// | `DATETIME`, `TIMESTAMP` | [`ColumnType::Timestamp`] | |
/// | `DATE` | [`ColumnType::Date`] | |
///
/// SQLite keeps no precision: `NUMERIC(10, 2)` is a NUMERIC-affinity column like any other,
/// so `p` and `s` are not kept. Another name with NUMERIC affinity (`TIME`, `MONEY`, `JSON`)
/// says nothing SQLite enforces or that names one portable type, and is `None` (the caller
/// keeps it as [`ColumnType::Custom`]), as is a length that is not a number.
///
/// ```
/// use orm_core::ColumnType;
/// use orm_sqlite::dialect::parse_declared_type;
///
/// assert_eq!(parse_declared_type("nvarchar( 120 )"), Some((ColumnType::Text, Some(120))));
/// assert_eq!(parse_declared_type("NUMERIC(10,2)"), Some((ColumnType::Numeric, None)));
/// assert_eq!(parse_declared_type("JSON_TEXT"), Some((ColumnType::Json, None)));
/// assert_eq!(parse_declared_type("MONEY"), None);
/// ```
pub fn parse_declared_type(declared: &str) -> Option<(ColumnType<String>, Option<u32>)> {
    let upper = declared.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase();
    // The name, and what its parentheses hold (`VARCHAR(120)`: `VARCHAR`, `120`).
    let (name, args) = match upper.split_once('(') {
        Some((name, rest)) => (name.trim(), Some(rest.strip_suffix(')')?.trim())),
        None => (upper.as_str(), None),
    };
    // The names this dialect writes, first: they round-trip whatever their affinity says.
    let own = match (name, args) {
        ("INTEGER", None) => Some(ColumnType::BigInt),
        ("REAL", None) => Some(ColumnType::Double),
        ("BOOLEAN", None) => Some(ColumnType::Boolean),
        ("TEXT", None) => Some(ColumnType::Text),
        ("BLOB", None) => Some(ColumnType::Blob),
        (TIMESTAMPTZ_TYPE, None) => Some(ColumnType::Timestamptz),
        (TIMESTAMP_TYPE, None) => Some(ColumnType::Timestamp),
        (DATE_TYPE, None) => Some(ColumnType::Date),
        (UUID_TYPE, None) => Some(ColumnType::Uuid),
        (JSON_TYPE, None) => Some(ColumnType::Json),
        (TEXT_ARRAY_TYPE, None) => Some(ColumnType::TextArray),
        (BIGINT_ARRAY_TYPE, None) => Some(ColumnType::BigIntArray),
        (DECIMAL_TYPE, None) => Some(ColumnType::Numeric),
        _ => None,
    };
    if let Some(ty) = own {
        return Some((ty, None));
    }
    let ty = match name {
        "INT" | "MEDIUMINT" => ColumnType::Integer,
        "SMALLINT" | "TINYINT" | "INT2" => ColumnType::SmallInt,
        "NUMERIC" | "DECIMAL" => ColumnType::Numeric,
        "BOOL" | "BOOLEAN" => ColumnType::Boolean,
        "DATETIME" | "TIMESTAMP" => ColumnType::Timestamp,
        "DATE" => ColumnType::Date,
        // SQLite's affinity rules, in their order.
        n if n.contains("INT") => ColumnType::BigInt,
        n if n.contains("CHAR") || n.contains("CLOB") || n.contains("TEXT") => ColumnType::Text,
        n if n.contains("BLOB") || n.is_empty() => ColumnType::Blob,
        n if n.contains("REAL") || n.contains("FLOA") || n.contains("DOUB") => ColumnType::Double,
        _ => return None,
    };
    // A length counts for text only; the arguments of the others (precision, scale, display
    // width) are numbers SQLite ignores.
    let numbers: Option<Vec<u32>> = match args {
        Some(a) => a.split(',').map(|n| n.trim().parse().ok()).collect(),
        None => Some(Vec::new()),
    };
    let numbers = numbers?;
    match (&ty, numbers.as_slice()) {
        (ColumnType::Text, [n]) => Some((ty, Some(*n))),
        (ColumnType::Text, []) => Some((ty, None)),
        (ColumnType::Text, _) => None,
        _ if numbers.len() <= 2 => Some((ty, None)),
        _ => None,
    }
}

impl SqliteDialect {
    /// Writes `left op right`, one of them a bound decimal, by value; see
    /// [`write_binary`](Dialect::write_binary).
    fn write_decimal_comparison(&self, w: &mut SqlWriter, left: &Expr, op: BinaryOp, right: &Expr) {
        if matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div) {
            return w.fail(unsupported(
                "arithmetic with a Decimal (SQLite would compute it in floating point): \
                 compute the value in Rust, or compare the stored value",
            ));
        }
        w.push(DECIMAL_CMP_FUNCTION);
        w.push("(");
        self.write_expr(w, left);
        w.push(", ");
        self.write_expr(w, right);
        w.push(") ");
        w.push(op.as_sql());
        w.push(" 0");
    }

    /// Writes `x op t` by the time the texts in `x` stand for; see
    /// [`write_binary`](Dialect::write_binary).
    fn write_time_comparison(&self, w: &mut SqlWriter, x: &Expr, op: BinaryOp, t: NaiveDateTime) {
        let (lo, hi) = match time_bounds(t) {
            Ok(b) => b,
            Err(e) => return w.fail(e),
        };
        self.write_operand(w, x, PREC_ADD);
        let (sql, bound) = match op {
            BinaryOp::Eq | BinaryOp::Ne => {
                w.push(if op == BinaryOp::Eq { " BETWEEN " } else { " NOT BETWEEN " });
                self.write_value(w, &lo);
                w.push(" AND ");
                self.write_value(w, &hi);
                return;
            }
            BinaryOp::Lt => (" < ", lo),
            BinaryOp::Le => (" <= ", hi),
            BinaryOp::Gt => (" > ", hi),
            BinaryOp::Ge => (" >= ", lo),
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                w.push(" ");
                w.push(op.as_sql());
                w.push(" ");
                return self.write_value(w, &Value::DateTime(t));
            }
        };
        w.push(sql);
        self.write_value(w, &bound);
    }
}

/// Whether `e` is a bound decimal (`Value::Decimal`, with the `decimal` feature).
fn is_decimal(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if v.kind() == "decimal")
}

/// The time a bound value stands for, if it is a timestamp (with time zone: in UTC).
fn time_value(e: &Expr) -> Option<NaiveDateTime> {
    match e {
        Expr::Value(Value::Timestamp(t)) => Some(t.naive_utc()),
        Expr::Value(Value::DateTime(t)) => Some(*t),
        _ => None,
    }
}

/// The two texts that bound every text form of the time `t` (see the crate docs): `lo`, its
/// shortest form (`2024-05-01 12:30:00`, `2024-05-01 12:30:00.5`), and `hi`, its longest to the
/// nanosecond (`2024-05-01 12:30:00.500000000`). A text written for `t` with the space separator
/// and up to nine fractional digits, as SQLite's functions, the sqlite3 shell, SQLAlchemy and this
/// ORM write it, sorts between the two; a text of any later time sorts after `hi`, of any earlier
/// time before `lo`. Times outside the years 0 to 9999 have no such text: an
/// [`Error::Unsupported`], as when one is stored.
///
/// ```
/// use chrono::NaiveDate;
/// use orm_core::Value;
/// use orm_sqlite::dialect::time_bounds;
///
/// let text = |s: &str| Value::Text(s.into());
/// let day = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
/// let (lo, hi) = time_bounds(day.and_hms_micro_opt(12, 30, 0, 500_000).unwrap())?;
/// assert_eq!((lo, hi), (text("2024-05-01 12:30:00.5"), text("2024-05-01 12:30:00.500000000")));
/// let (lo, hi) = time_bounds(day.and_hms_opt(12, 30, 0).unwrap())?;
/// assert_eq!((lo, hi), (text("2024-05-01 12:30:00"), text("2024-05-01 12:30:00.000000000")));
/// # Ok::<(), orm_core::Error>(())
/// ```
pub fn time_bounds(t: NaiveDateTime) -> Result<(Value, Value)> {
    use orm_core::__private::chrono::{Datelike, Timelike};
    if !(0..=9999).contains(&t.year()) {
        return Err(unsupported(&format!(
            "the year {}: SQLite stores times as text, which holds the years 0 to 9999",
            t.year()
        )));
    }
    let seconds = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let micros = format!("{:06}", t.nanosecond() / 1_000);
    let fraction = micros.trim_end_matches('0');
    let lo = if fraction.is_empty() { seconds.clone() } else { format!("{seconds}.{fraction}") };
    Ok((Value::Text(lo), Value::Text(format!("{seconds}.{micros}000"))))
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
