//! The [`Dialect`] trait: how one backend writes SQL. Its default methods render the whole AST in
//! standard SQL; a backend overrides only what differs (placeholders, type names, ILIKE, the
//! transaction that a write starts). No other part of the ORM writes SQL text.

use crate::error::{Error, Result};
use crate::schema::ColumnType;
use crate::statement::{
    ArrayOp, BinaryOp, Delete, Expr, From, Func, Insert, JoinKind, JsonOp, Rendered, Select, Update,
};
use crate::value::Value;

/// Precedence level, see [`precedence`].
pub const PREC_OR: u8 = 1;
/// Precedence level, see [`precedence`].
pub const PREC_AND: u8 = 2;
/// Precedence level, see [`precedence`].
pub const PREC_NOT: u8 = 3;
/// Precedence level, see [`precedence`].
pub const PREC_CMP: u8 = 4;
/// Precedence level, see [`precedence`].
pub const PREC_ADD: u8 = 5;
/// Precedence level, see [`precedence`].
pub const PREC_MUL: u8 = 6;
/// Precedence level, see [`precedence`].
pub const PREC_ATOM: u8 = 7;

/// How tightly an expression binds, as SQL parses it: OR < AND < NOT < comparisons (and IS,
/// IN, BETWEEN, LIKE) < `+ -` < `* /` < everything else.
pub fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Or(l) if l.len() > 1 => PREC_OR,
        Expr::And(l) if l.len() > 1 => PREC_AND,
        Expr::Or(l) | Expr::And(l) => l.first().map_or(PREC_CMP, precedence),
        Expr::Not(_) => PREC_NOT,
        Expr::Binary { op: BinaryOp::Add | BinaryOp::Sub, .. } => PREC_ADD,
        Expr::Binary { op: BinaryOp::Mul | BinaryOp::Div, .. } => PREC_MUL,
        Expr::Binary { .. }
        | Expr::IsNull { .. }
        | Expr::InList { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        // JSON, array and text-search operators: parenthesised as operands, for every backend.
        | Expr::Json { .. }
        | Expr::Array { .. }
        | Expr::FullText { .. } => PREC_CMP,
        _ => PREC_ATOM,
    }
}

/// Whether an expression binds a value somewhere inside it.
fn has_bound_value(e: &Expr) -> bool {
    match e {
        Expr::Value(_) => true,
        Expr::Column { .. } | Expr::CountStar | Expr::Int(_) | Expr::Exists(_) => false,
        Expr::Binary { left, right, .. } => has_bound_value(left) || has_bound_value(right),
        Expr::And(l) | Expr::Or(l) => l.iter().any(has_bound_value),
        Expr::Not(x) | Expr::IsNull { expr: x, .. } | Expr::Cast { expr: x, .. } => {
            has_bound_value(x)
        }
        Expr::Func { args, .. } => args.iter().any(has_bound_value),
        _ => true,
    }
}

/// Writes `x [NOT] IN (a, b, ...)` in standard SQL: the default of [`Dialect::write_in_list`],
/// and the fallback of dialects that override it. An empty list is false (true when negated),
/// since standard SQL has no empty IN list.
pub fn write_standard_in_list<D: Dialect + ?Sized>(
    d: &D,
    w: &mut SqlWriter,
    expr: &Expr,
    list: &[Expr],
    negated: bool,
) {
    if list.is_empty() {
        w.push(if negated { "1 = 1" } else { "1 = 0" });
        return;
    }
    d.write_operand(w, expr, PREC_ADD);
    w.push(if negated { " NOT IN (" } else { " IN (" });
    // Room for a list of bound values at once (a selectin query's thousands of keys).
    w.params.reserve(list.len());
    w.sql.reserve(list.len().saturating_mul(8));
    for (i, e) in list.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        d.write_expr(w, e);
    }
    w.push(")");
}

/// `CAST(expr AS type)`: the default of [`Dialect::write_cast`], and the fallback of dialects
/// that override it.
pub fn write_standard_cast<D: Dialect + ?Sized>(
    d: &D,
    w: &mut SqlWriter,
    expr: &Expr,
    ty: ColumnType,
) {
    w.push("CAST(");
    d.write_expr(w, expr);
    w.push(" AS ");
    w.push(&d.cast_type(ty));
    w.push(")");
}

/// A function's standard SQL name (`COUNT` for both `Count` and `CountDistinct`): the default
/// of [`Dialect::function_name`], and the fallback of dialects that override it.
pub fn standard_function_name(func: Func) -> &'static str {
    match func {
        Func::Count | Func::CountDistinct => "COUNT",
        Func::Sum => "SUM",
        Func::Avg => "AVG",
        Func::Min => "MIN",
        Func::Max => "MAX",
        Func::Lower => "LOWER",
        Func::Upper => "UPPER",
        Func::Length => "LENGTH",
        Func::Coalesce => "COALESCE",
    }
}

/// ` ESCAPE '\'`: the escape clause of every LIKE the builder writes.
pub const LIKE_ESCAPE_CLAUSE: &str = " ESCAPE '\\'";

/// Refuses a text LIKE pattern that ends in a lone escape character (`50\`): PostgreSQL
/// rejects it when the statement runs and SQLite matches nothing, so it is an
/// [`Error::InvalidUse`] on every backend, before anything runs.
pub fn check_like_pattern(w: &mut SqlWriter, pattern: &Expr) {
    let Expr::Value(Value::Text(p)) = pattern else {
        return;
    };
    let mut escaped = false;
    for c in p.chars() {
        escaped = !escaped && c == crate::statement::LIKE_ESCAPE;
    }
    if escaped {
        w.fail(Error::InvalidUse(format!(
            "the LIKE pattern {p:?} ends in the escape character `\\`, which escapes nothing \
             (write `\\\\` for a backslash, or use escape_like)"
        )));
    }
}

/// Writes `left op right` in standard SQL, each operand parenthesised where it binds more loosely
/// than the operator: the default of [`Dialect::write_binary`], and the fallback of dialects that
/// override it.
pub fn write_standard_binary<D: Dialect + ?Sized>(
    d: &D,
    w: &mut SqlWriter,
    left: &Expr,
    op: BinaryOp,
    right: &Expr,
) {
    let (l, r) = match op {
        BinaryOp::Add | BinaryOp::Sub => (PREC_ADD, PREC_MUL),
        BinaryOp::Mul | BinaryOp::Div => (PREC_MUL, PREC_ATOM),
        _ => (PREC_ADD, PREC_ADD),
    };
    d.write_operand(w, left, l);
    w.push(" ");
    w.push(op.as_sql());
    w.push(" ");
    d.write_operand(w, right, r);
}

/// Writes `x [NOT] BETWEEN low AND high` in standard SQL: the default of
/// [`Dialect::write_between`], and the fallback of dialects that override it.
pub fn write_standard_between<D: Dialect + ?Sized>(
    d: &D,
    w: &mut SqlWriter,
    expr: &Expr,
    low: &Expr,
    high: &Expr,
    negated: bool,
) {
    d.write_operand(w, expr, PREC_ADD);
    w.push(if negated { " NOT BETWEEN " } else { " BETWEEN " });
    d.write_operand(w, low, PREC_ADD);
    w.push(" AND ");
    d.write_operand(w, high, PREC_ADD);
}

/// Accumulates SQL text and parameters while a dialect renders a statement.
#[derive(Debug, Default)]
pub struct SqlWriter {
    /// The SQL written so far.
    pub sql: String,
    /// The parameters bound so far.
    pub params: Vec<Value>,
    /// The first reason the statement cannot be written (e.g. an operator the backend lacks).
    pub error: Option<Error>,
}

impl SqlWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends raw SQL text (keywords and punctuation chosen by the dialect, never user data).
    pub fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    /// Appends `prefix` and the decimal digits of `n` (a placeholder such as `?12` or `$12`),
    /// without the formatting machinery: an IN list of thousands of keys writes one each.
    pub fn push_numbered(&mut self, prefix: char, n: usize) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = n;
        loop {
            at -= 1;
            // `rest % 10` is a digit: the cast cannot truncate.
            #[allow(clippy::cast_possible_truncation)]
            let d = (rest % 10) as u8;
            digits[at] = b'0' + d;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        self.sql.push(prefix);
        for &d in &digits[at..] {
            self.sql.push(char::from(d));
        }
    }

    /// Records that the statement cannot be written; the first reason wins.
    pub fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// The finished statement, or the reason it could not be written.
    pub fn finish(self) -> Result<Rendered> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(Rendered { sql: self.sql, params: self.params }),
        }
    }
}

/// How one backend writes SQL. Object safe: the session holds a `&'static dyn Dialect`.
pub trait Dialect: Send + Sync + 'static {
    /// The backend's name (`sqlite`, `postgresql`), used in errors.
    fn name(&self) -> &'static str;

    /// Writes the placeholder of the `n`th parameter (1-based): `?n` or `$n`.
    fn write_placeholder(&self, w: &mut SqlWriter, n: usize);

    /// The SQL name of a column type: the one mapping of [`ColumnType`] to this backend's types,
    /// used by CREATE TABLE and ALTER COLUMN (see [`crate::migrate::MigrationDialect`]) and by
    /// `CAST`. `max_length` makes text `VARCHAR(n)`.
    fn sql_type(&self, ty: ColumnType<&str>, max_length: Option<u32>) -> String;

    /// The statement that starts a transaction which will write. SQLite overrides it with
    /// `BEGIN IMMEDIATE`, taking the write lock up front.
    fn begin_sql(&self) -> &'static str {
        "BEGIN"
    }

    /// Whether `[name]` quotes an identifier (SQLite) rather than indexing or building an
    /// array (PostgreSQL): raw SQL's `:name` parameters are not looked for inside one.
    fn brackets_quote_identifiers(&self) -> bool {
        false
    }

    /// The statement that commits the open transaction.
    fn commit_sql(&self) -> &'static str {
        "COMMIT"
    }

    /// The statement that rolls the open transaction back.
    fn rollback_sql(&self) -> &'static str {
        "ROLLBACK"
    }

    /// Writes an identifier, quoted, with embedded quotes doubled: no name can break out.
    fn write_ident(&self, w: &mut SqlWriter, ident: &str) {
        w.sql.reserve(ident.len() + 2);
        w.sql.push('"');
        for ch in ident.chars() {
            if ch == '"' {
                w.sql.push('"');
            }
            w.sql.push(ch);
        }
        w.sql.push('"');
    }

    /// Binds a value and writes its placeholder.
    fn write_value(&self, w: &mut SqlWriter, v: &Value) {
        w.params.push(v.clone());
        self.write_placeholder(w, w.params.len());
    }

    /// Writes `x [NOT] LIKE pattern ESCAPE '\'`, `ILIKE` for a case-insensitive match
    /// (PostgreSQL's). The escape character is written out so that a pattern means the same on
    /// every backend (see [`LIKE_ESCAPE`](crate::statement::LIKE_ESCAPE)); a text pattern ending in a
    /// lone escape is refused ([`check_like_pattern`]).
    fn write_like(&self, w: &mut SqlWriter, expr: &Expr, pattern: &Expr, ci: bool, negated: bool) {
        check_like_pattern(w, pattern);
        self.write_operand(w, expr, PREC_ADD);
        w.push(match (ci, negated) {
            (false, false) => " LIKE ",
            (false, true) => " NOT LIKE ",
            (true, false) => " ILIKE ",
            (true, true) => " NOT ILIKE ",
        });
        self.write_operand(w, pattern, PREC_ADD);
        w.push(LIKE_ESCAPE_CLAUSE);
    }

    /// Writes `left op right`; see [`write_standard_binary`]. SQLite overrides it to compare
    /// times stored as text by the time they stand for.
    fn write_binary(&self, w: &mut SqlWriter, left: &Expr, op: BinaryOp, right: &Expr) {
        write_standard_binary(self, w, left, op, right);
    }

    /// Writes `x [NOT] BETWEEN low AND high`; see [`write_standard_between`].
    fn write_between(
        &self,
        w: &mut SqlWriter,
        expr: &Expr,
        low: &Expr,
        high: &Expr,
        negated: bool,
    ) {
        write_standard_between(self, w, expr, low, high, negated);
    }

    /// Writes `x IN (...)`; see [`write_standard_in_list`].
    fn write_in_list(&self, w: &mut SqlWriter, expr: &Expr, list: &[Expr], negated: bool) {
        write_standard_in_list(self, w, expr, list, negated);
    }

    /// The name a function is called by: [`standard_function_name`] by default. SQLite calls
    /// its own Unicode-aware case mappings instead of `LOWER` / `UPPER`.
    fn function_name(&self, func: Func) -> &'static str {
        standard_function_name(func)
    }

    /// Writes a function call.
    fn write_func(&self, w: &mut SqlWriter, func: Func, args: &[Expr]) {
        w.push(self.function_name(func));
        w.push(if func == Func::CountDistinct { "(DISTINCT " } else { "(" });
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            self.write_expr(w, a);
        }
        w.push(")");
    }

    /// Writes any expression.
    fn write_expr(&self, w: &mut SqlWriter, e: &Expr) {
        match e {
            Expr::Column { table, name } => {
                self.write_ident(w, table);
                w.push(".");
                self.write_ident(w, name);
            }
            Expr::Value(v) => self.write_value(w, v),
            Expr::Binary { left, op, right } => self.write_binary(w, left, *op, right),
            Expr::And(list) | Expr::Or(list) => {
                let and = matches!(e, Expr::And(_));
                if list.is_empty() {
                    w.push(if and { "1 = 1" } else { "1 = 0" });
                    return;
                }
                for (i, c) in list.iter().enumerate() {
                    if i > 0 {
                        w.push(if and { " AND " } else { " OR " });
                    }
                    // An AND inside an OR is parenthesised too, for the reader.
                    self.write_operand(w, c, PREC_NOT);
                }
            }
            Expr::Not(inner) => {
                w.push("NOT ");
                self.write_operand(w, inner, PREC_ATOM);
            }
            Expr::IsNull { expr, negated } => {
                self.write_operand(w, expr, PREC_ADD);
                w.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Expr::InList { expr, list, negated } => self.write_in_list(w, expr, list, *negated),
            Expr::Between { expr, low, high, negated } => {
                self.write_between(w, expr, low, high, *negated)
            }
            Expr::Like { expr, pattern, case_insensitive, negated } => {
                self.write_like(w, expr, pattern, *case_insensitive, *negated)
            }
            Expr::Func { func, args } => self.write_func(w, *func, args),
            Expr::CountStar => w.push("COUNT(*)"),
            Expr::Exists(sel) => {
                w.push("EXISTS (");
                self.write_select(w, sel);
                w.push(")");
            }
            Expr::Int(i) => w.push(&i.to_string()),
            Expr::Cast { expr, ty } => self.write_cast(w, expr, *ty),
            Expr::Json { op, expr, arg } => self.write_json(w, *op, expr, arg),
            Expr::Array { op, expr, arg } => self.write_array(w, *op, expr, arg),
            Expr::FullText { document, config, query, websearch } => {
                self.write_full_text(w, document, config, query, *websearch)
            }
        }
    }

    /// The type name used in `CAST(x AS type)`.
    fn cast_type(&self, ty: ColumnType) -> String {
        self.sql_type(ty, None)
    }

    /// Writes `CAST(expr AS type)`. SQLite refuses a cast to an exact decimal (its arithmetic,
    /// `SUM` included, is in floating point).
    fn write_cast(&self, w: &mut SqlWriter, expr: &Expr, ty: ColumnType) {
        write_standard_cast(self, w, expr, ty);
    }

    /// Writes a JSON operator (PostgreSQL syntax by default).
    fn write_json(&self, w: &mut SqlWriter, op: JsonOp, expr: &Expr, arg: &Expr) {
        self.write_operand(w, expr, PREC_ATOM);
        w.push(match op {
            JsonOp::Get => " -> ",
            JsonOp::GetText => " ->> ",
            JsonOp::Contains => " @> ",
            JsonOp::HasKey => " ? ",
        });
        self.write_operand(w, arg, PREC_ATOM);
    }

    /// Writes an array operator (PostgreSQL syntax by default).
    fn write_array(&self, w: &mut SqlWriter, op: ArrayOp, expr: &Expr, arg: &Expr) {
        match op {
            ArrayOp::Contains | ArrayOp::Overlaps => {
                self.write_operand(w, expr, PREC_ATOM);
                w.push(if op == ArrayOp::Contains { " @> " } else { " && " });
                self.write_operand(w, arg, PREC_ATOM);
            }
            ArrayOp::Any => {
                self.write_operand(w, arg, PREC_ADD);
                w.push(" = ANY(");
                self.write_expr(w, expr);
                w.push(")");
            }
        }
    }

    /// Writes full-text search (PostgreSQL syntax by default). The configuration is written as a
    /// literal, so an expression index on `to_tsvector('english', ...)` matches the query.
    fn write_full_text(
        &self,
        w: &mut SqlWriter,
        document: &[Expr],
        config: &str,
        query: &Expr,
        websearch: bool,
    ) {
        if config.is_empty() || !config.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            w.fail(Error::InvalidUse(format!(
                "text search configuration {config:?} must be a plain name such as english"
            )));
            return;
        }
        w.push("to_tsvector('");
        w.push(config);
        w.push("', ");
        self.write_text_document(w, document);
        w.push(if websearch { ") @@ websearch_to_tsquery('" } else { ") @@ plainto_tsquery('" });
        w.push(config);
        w.push("', ");
        self.write_expr(w, query);
        w.push(")");
    }

    /// Writes the searched document: one column, or several as `coalesce(a, '') || ' ' || ...`.
    fn write_text_document(&self, w: &mut SqlWriter, document: &[Expr]) {
        if let [one] = document {
            self.write_expr(w, one);
            return;
        }
        for (i, e) in document.iter().enumerate() {
            if i > 0 {
                w.push(" || ' ' || ");
            }
            w.push("COALESCE(");
            self.write_expr(w, e);
            w.push(", '')");
        }
    }

    /// The prefix that turns a query into its plan: `EXPLAIN ` or `EXPLAIN ANALYZE `.
    fn explain_prefix(&self, analyze: bool) -> Result<&'static str> {
        Ok(if analyze { "EXPLAIN ANALYZE " } else { "EXPLAIN " })
    }

    /// The statement that creates an enum type, for backends that have them (`None` otherwise).
    /// `create_all` creates only the types the database lacks, so it needs no `IF NOT EXISTS`.
    fn create_enum_type(&self, name: &str, labels: &[&str]) -> Option<String> {
        let _ = (name, labels);
        None
    }

    /// The statement that drops an enum type, for backends that have them.
    fn drop_enum_type(&self, name: &str) -> Option<String> {
        let _ = name;
        None
    }

    /// Writes `e` as an operand that must bind at least as tightly as `min_prec`, in
    /// parentheses when it binds more loosely (so `(a + 1) * b` keeps its meaning).
    fn write_operand(&self, w: &mut SqlWriter, e: &Expr, min_prec: u8) {
        if precedence(e) < min_prec {
            w.push("(");
            self.write_expr(w, e);
            w.push(")");
        } else {
            self.write_expr(w, e);
        }
    }

    /// Writes LIMIT / OFFSET.
    fn write_limit_offset(&self, w: &mut SqlWriter, limit: Option<u64>, offset: Option<u64>) {
        if let Some(l) = limit {
            w.push(" LIMIT ");
            w.push(&l.to_string());
        }
        if let Some(o) = offset {
            w.push(" OFFSET ");
            w.push(&o.to_string());
        }
    }

    /// Writes a SELECT.
    fn write_select(&self, w: &mut SqlWriter, s: &Select) {
        w.push(if s.distinct { "SELECT DISTINCT " } else { "SELECT " });
        if s.columns.is_empty() {
            w.push("*");
        }
        for (i, c) in s.columns.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            self.write_expr(w, c);
        }
        w.push(" FROM ");
        match &s.from {
            From::Table(t) => self.write_ident(w, t),
            From::TableAs(t, alias) => {
                self.write_ident(w, t);
                w.push(" AS ");
                self.write_ident(w, alias);
            }
            From::Subquery(sub, alias) => {
                w.push("(");
                self.write_select(w, sub);
                w.push(") AS ");
                self.write_ident(w, alias);
            }
        }
        for j in &s.joins {
            w.push(match j.kind {
                JoinKind::Inner => " JOIN ",
                JoinKind::Left => " LEFT OUTER JOIN ",
            });
            self.write_ident(w, j.table);
            if let Some(a) = j.alias {
                w.push(" AS ");
                self.write_ident(w, a);
            }
            w.push(" ON ");
            self.write_expr(w, &j.on);
        }
        if let Some(f) = &s.filter {
            w.push(" WHERE ");
            self.write_expr(w, f);
        }
        if !s.group_by.is_empty() {
            w.push(" GROUP BY ");
            for (i, g) in s.group_by.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                self.write_group_term(w, s, g);
            }
        }
        if let Some(h) = &s.having {
            w.push(" HAVING ");
            self.write_expr(w, h);
        }
        if !s.order_by.is_empty() {
            w.push(" ORDER BY ");
            for (i, o) in s.order_by.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                self.write_group_term(w, s, &o.expr);
                w.push(if o.desc { " DESC" } else { " ASC" });
            }
        }
        self.write_limit_offset(w, s.limit, s.offset);
    }

    /// Writes a GROUP BY or ORDER BY term. A term that repeats a selected expression holding
    /// bound values (`prefs ->> $1`) is written as that column's position: the server cannot
    /// tell that `$1` and `$3` are equal, and PostgreSQL would reject the grouping.
    fn write_group_term(&self, w: &mut SqlWriter, s: &Select, e: &Expr) {
        if has_bound_value(e) {
            if let Some(pos) = s.columns.iter().position(|c| c == e) {
                w.push(&(pos + 1).to_string());
                return;
            }
        }
        self.write_operand(w, e, PREC_OR);
    }

    /// Writes an INSERT.
    fn write_insert(&self, w: &mut SqlWriter, ins: &Insert) {
        w.push("INSERT INTO ");
        self.write_ident(w, ins.table);
        if ins.columns.is_empty() {
            w.push(" DEFAULT VALUES");
        } else {
            w.push(" (");
            for (i, c) in ins.columns.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                self.write_ident(w, c);
            }
            w.push(") VALUES ");
            for (r, row) in ins.rows.iter().enumerate() {
                if r > 0 {
                    w.push(", ");
                }
                w.push("(");
                for (i, v) in row.iter().enumerate() {
                    if i > 0 {
                        w.push(", ");
                    }
                    self.write_value(w, v);
                }
                w.push(")");
            }
        }
        self.write_returning(w, &ins.returning);
    }

    /// Writes ` RETURNING a, b` (nothing for an empty list).
    fn write_returning(&self, w: &mut SqlWriter, cols: &[&'static str]) {
        for (i, c) in cols.iter().enumerate() {
            w.push(if i == 0 { " RETURNING " } else { ", " });
            self.write_ident(w, c);
        }
    }

    /// Writes an UPDATE.
    fn write_update(&self, w: &mut SqlWriter, u: &Update) {
        w.push("UPDATE ");
        self.write_ident(w, u.table);
        w.push(" SET ");
        for (i, (col, e)) in u.set.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            self.write_ident(w, col);
            w.push(" = ");
            self.write_expr(w, e);
        }
        if let Some(f) = &u.filter {
            w.push(" WHERE ");
            self.write_expr(w, f);
        }
    }

    /// Writes a DELETE.
    fn write_delete(&self, w: &mut SqlWriter, d: &Delete) {
        w.push("DELETE FROM ");
        self.write_ident(w, d.table);
        if let Some(f) = &d.filter {
            w.push(" WHERE ");
            self.write_expr(w, f);
        }
    }

    /// `TRUE`/`FALSE` or `1`/`0`.
    fn bool_literal(&self, b: bool) -> &'static str {
        if b {
            "TRUE"
        } else {
            "FALSE"
        }
    }

    /// Renders a SELECT.
    fn select(&self, s: &Select) -> Result<Rendered> {
        let mut w = SqlWriter::new();
        self.write_select(&mut w, s);
        w.finish()
    }

    /// Renders an INSERT.
    fn insert(&self, i: &Insert) -> Result<Rendered> {
        let mut w = SqlWriter::new();
        self.write_insert(&mut w, i);
        w.finish()
    }

    /// The query that reads what [`insert_many`](Self::insert_many) needs to know of `table`:
    /// one row per column, holding its name, its type as SQL writes it, and the sequence that
    /// generates its values (NULL for none). `None` (the default): the backend has no
    /// [`insert_many`](Self::insert_many), and a flush inserts rows one statement each.
    fn insert_many_catalog(&self, table: &str) -> Option<Rendered> {
        let _ = table;
        None
    }

    /// One statement that inserts any number of rows given as one array per column and reads
    /// back what [`InsertMany::returning`](crate::statement::InsertMany::returning) names, each row with its position among the arrays,
    /// so every value read back is matched to its row by a rule the database guarantees (never
    /// by the order of the rows returned). `None` when this backend or these columns (arrays of
    /// arrays) do not allow it.
    fn insert_many(&self, spec: &crate::statement::InsertMany<'_>) -> Option<String> {
        let _ = spec;
        None
    }

    /// Renders an UPDATE.
    fn update(&self, u: &Update) -> Result<Rendered> {
        let mut w = SqlWriter::new();
        self.write_update(&mut w, u);
        w.finish()
    }

    /// Renders a DELETE.
    fn delete(&self, d: &Delete) -> Result<Rendered> {
        let mut w = SqlWriter::new();
        self.write_delete(&mut w, d);
        w.finish()
    }

    /// Renders an UPDATE that reads `returning` back from every row it changed.
    fn update_returning(&self, u: &Update, returning: &[&'static str]) -> Result<Rendered> {
        let mut w = SqlWriter::new();
        self.write_update(&mut w, u);
        self.write_returning(&mut w, returning);
        w.finish()
    }

    /// Renders a DELETE that reads `returning` back from every row it deleted.
    fn delete_returning(&self, d: &Delete, returning: &[&'static str]) -> Result<Rendered> {
        let mut w = SqlWriter::new();
        self.write_delete(&mut w, d);
        self.write_returning(&mut w, returning);
        w.finish()
    }

    /// `SAVEPOINT name`
    fn savepoint_sql(&self, name: &str) -> String {
        let mut w = SqlWriter::new();
        w.push("SAVEPOINT ");
        self.write_ident(&mut w, name);
        w.sql
    }

    /// `RELEASE SAVEPOINT name`
    fn release_savepoint_sql(&self, name: &str) -> String {
        let mut w = SqlWriter::new();
        w.push("RELEASE SAVEPOINT ");
        self.write_ident(&mut w, name);
        w.sql
    }

    /// `ROLLBACK TO SAVEPOINT name`
    fn rollback_to_savepoint_sql(&self, name: &str) -> String {
        let mut w = SqlWriter::new();
        w.push("ROLLBACK TO SAVEPOINT ");
        self.write_ident(&mut w, name);
        w.sql
    }
}

#[cfg(test)]
mod tests {
    use super::SqlWriter;

    #[test]
    fn numbered_placeholders_are_written_in_decimal() {
        for (n, want) in
            [(0, "?0"), (1, "?1"), (9, "?9"), (10, "?10"), (32_766, "?32766"), (100_000, "?100000")]
        {
            let mut w = SqlWriter::new();
            w.push_numbered('?', n);
            assert_eq!(w.sql, want);
        }
        let mut w = SqlWriter::new();
        w.push_numbered('$', usize::MAX);
        assert_eq!(w.sql, format!("${}", usize::MAX));
    }
}
