//! The query AST: an untyped runtime value built by the typed query builder and rendered to SQL by
//! a [`Dialect`](crate::Dialect). Values are never written into SQL text: they stay [`Value`]s and
//! become bound parameters when rendered.

use crate::schema::TableSchema;
use crate::value::Value;

/// The escape character of LIKE patterns on every backend: `\%`, `\_` and `\\` match `%`, `_`
/// and `\` themselves. The builder writes `ESCAPE '\'` after every LIKE, so a pattern means
/// the same on PostgreSQL and SQLite.
pub const LIKE_ESCAPE: char = '\\';

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinaryOp {
    /// The operator's SQL text.
    pub fn as_sql(self) -> &'static str {
        match self {
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }
}

/// A SQL function the builder can call. A closed set: every dialect knows how to write each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Func {
    /// `COUNT(x)`
    Count,
    /// `COUNT(DISTINCT x)`
    CountDistinct,
    /// `SUM(x)`
    Sum,
    /// `AVG(x)`
    Avg,
    /// `MIN(x)`
    Min,
    /// `MAX(x)`
    Max,
    /// `LOWER(x)`
    Lower,
    /// `UPPER(x)`
    Upper,
    /// `LENGTH(x)` (character length)
    Length,
    /// `COALESCE(a, b, ...)`
    Coalesce,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Expr {
    /// A table-qualified column.
    Column {
        /// The table (or its alias).
        table: &'static str,
        /// The column.
        name: &'static str,
    },
    /// A bound value.
    Value(Value),
    /// `left op right`
    Binary {
        /// Left operand.
        left: Box<Expr>,
        /// Operator.
        op: BinaryOp,
        /// Right operand.
        right: Box<Expr>,
    },
    /// All of these (an empty list is true).
    And(Vec<Expr>),
    /// Any of these (an empty list is false).
    Or(Vec<Expr>),
    /// `NOT x`
    Not(Box<Expr>),
    /// `x IS [NOT] NULL`
    IsNull {
        /// The tested expression.
        expr: Box<Expr>,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `x [NOT] IN (...)`; an empty list is false (true when negated).
    InList {
        /// The tested expression.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `x [NOT] BETWEEN low AND high`
    Between {
        /// The tested expression.
        expr: Box<Expr>,
        /// Lower bound, inclusive.
        low: Box<Expr>,
        /// Upper bound, inclusive.
        high: Box<Expr>,
        /// `NOT BETWEEN`.
        negated: bool,
    },
    /// `x [NOT] LIKE pattern`, case-insensitively for ILIKE.
    Like {
        /// The tested expression.
        expr: Box<Expr>,
        /// The pattern (`%` and `_` wildcards).
        pattern: Box<Expr>,
        /// ILIKE.
        case_insensitive: bool,
        /// `NOT LIKE`.
        negated: bool,
    },
    /// A function call.
    Func {
        /// Which function.
        func: Func,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// `COUNT(*)`
    CountStar,
    /// `EXISTS (subquery)`
    Exists(Box<Select>),
    /// An integer written into the SQL text (for constants the builder itself chooses, such as
    /// `SELECT 1`; user values are always [`Expr::Value`]).
    Int(i64),
    /// `CAST(expr AS type)`.
    Cast {
        /// The expression.
        expr: Box<Expr>,
        /// The target type, written by the dialect.
        ty: crate::schema::ColumnType,
    },
    /// A JSON operator: `expr -> arg`, `expr ->> arg`, `expr @> arg`, `expr ? arg`.
    Json {
        /// Which operator.
        op: JsonOp,
        /// The JSON document.
        expr: Box<Expr>,
        /// The key, or the contained document.
        arg: Box<Expr>,
    },
    /// An array operator: `expr @> arg`, `expr && arg`, `arg = ANY(expr)`.
    Array {
        /// Which operator.
        op: ArrayOp,
        /// The array column.
        expr: Box<Expr>,
        /// The other array, or the element for `Any`.
        arg: Box<Expr>,
    },
    /// Full-text search: `to_tsvector(config, document) @@ plainto_tsquery(config, query)`
    /// (`websearch_to_tsquery` when `websearch`).
    FullText {
        /// The searched text: one expression, or several joined with spaces.
        document: Vec<Expr>,
        /// The text search configuration, e.g. `english` (letters, digits and `_` only).
        config: String,
        /// The query text.
        query: Box<Expr>,
        /// Web-search syntax (`"quoted phrases" -excluded or`).
        websearch: bool,
    },
}

/// A JSON operator, see [`Expr::Json`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonOp {
    /// `->`: the value at a key, as JSON.
    Get,
    /// `->>`: the value at a key, as text.
    GetText,
    /// `@>`: contains the given document.
    Contains,
    /// `?`: has the key at top level.
    HasKey,
}

/// An array operator, see [`Expr::Array`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayOp {
    /// `@>`: holds every element of the other array.
    Contains,
    /// `&&`: shares at least one element with the other array.
    Overlaps,
    /// `arg = ANY(expr)`: holds the element.
    Any,
}

impl Expr {
    /// `left op right`
    pub fn binary(left: Expr, op: BinaryOp, right: Expr) -> Expr {
        Expr::Binary { left: Box::new(left), op, right: Box::new(right) }
    }

    /// Both conditions (flattens nested ANDs).
    pub fn and(self, other: Expr) -> Expr {
        match self {
            Expr::And(mut v) => {
                v.push(other);
                Expr::And(v)
            }
            e => Expr::And(vec![e, other]),
        }
    }

    /// Either condition (flattens nested ORs).
    pub fn or(self, other: Expr) -> Expr {
        match self {
            Expr::Or(mut v) => {
                v.push(other);
                Expr::Or(v)
            }
            e => Expr::Or(vec![e, other]),
        }
    }

    /// The negated condition.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

/// One ORDER BY term.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    /// The sort key.
    pub expr: Expr,
    /// Descending.
    pub desc: bool,
}

/// What a SELECT reads from.
#[derive(Debug, Clone, PartialEq)]
pub enum From {
    /// A table.
    Table(&'static str),
    /// A table under an alias (`"employees" AS "orm_any_1"`): the table read again inside a
    /// subquery of a query of it.
    TableAs(&'static str, &'static str),
    /// A subquery with an alias.
    Subquery(Box<Select>, &'static str),
}

/// How a table is joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// `JOIN`: rows with a match only.
    Inner,
    /// `LEFT OUTER JOIN`: every row of the left side, NULLs where nothing matches.
    Left,
}

/// One JOIN of a SELECT.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// Inner or left outer.
    pub kind: JoinKind,
    /// The joined table.
    pub table: &'static str,
    /// Its alias (needed to join one table twice).
    pub alias: Option<&'static str>,
    /// The join condition.
    pub on: Expr,
}

/// A SELECT statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// `DISTINCT`.
    pub distinct: bool,
    /// The selected expressions; empty means `*`.
    pub columns: Vec<Expr>,
    /// The FROM item.
    pub from: From,
    /// JOINs, in order.
    pub joins: Vec<Join>,
    /// WHERE.
    pub filter: Option<Expr>,
    /// GROUP BY.
    pub group_by: Vec<Expr>,
    /// HAVING.
    pub having: Option<Expr>,
    /// ORDER BY.
    pub order_by: Vec<OrderBy>,
    /// LIMIT.
    pub limit: Option<u64>,
    /// OFFSET.
    pub offset: Option<u64>,
}

impl Select {
    /// `SELECT * FROM table`.
    pub fn from_table(table: &'static str) -> Self {
        Select {
            distinct: false,
            columns: Vec::new(),
            from: From::Table(table),
            joins: Vec::new(),
            filter: None,
            group_by: Vec::new(),
            having: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
        }
    }

    /// Adds a WHERE condition, AND-ed with any already there.
    pub fn and_where(&mut self, cond: Expr) {
        self.filter = Some(match self.filter.take() {
            Some(f) => f.and(cond),
            None => cond,
        });
    }
}

/// An INSERT of one or more rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    /// The table.
    pub table: &'static str,
    /// The columns given; empty means `DEFAULT VALUES`.
    pub columns: Vec<&'static str>,
    /// The rows, each as long as `columns`.
    pub rows: Vec<Vec<Value>>,
    /// Columns to read back (`RETURNING`).
    pub returning: Vec<&'static str>,
}

/// An INSERT of any number of rows in one statement whose parameters are one array per column
/// (PostgreSQL's `unnest`), so the statement has one shape whatever the number of rows: see
/// [`Dialect::insert_many`](crate::Dialect::insert_many).
#[derive(Debug, Clone, PartialEq)]
pub struct InsertMany<'a> {
    /// The table.
    pub table: &'a str,
    /// The columns given, each with its type as the database declares it (what
    /// [`Dialect::insert_many_catalog`](crate::Dialect::insert_many_catalog) read); parameter
    /// `n` is the array of column `n`'s values, one per row.
    pub columns: &'a [(&'a str, &'a str)],
    /// A generated key left out of `columns`, and the sequence that generates it: the statement
    /// takes one value per row from it and inserts it as the row's key.
    pub key: Option<(&'a str, &'a str)>,
    /// Columns to read back. The statement then returns, per row, the row's position among the
    /// arrays (from 1) followed by these columns.
    pub returning: &'a [&'a str],
    /// When `key` is `None` and `returning` is not empty: the positions in `columns` of the
    /// primary key, by which the rows read back are matched to the rows given.
    pub match_on: &'a [usize],
}

/// An UPDATE.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The table.
    pub table: &'static str,
    /// `SET column = expr` pairs.
    pub set: Vec<(&'static str, Expr)>,
    /// WHERE.
    pub filter: Option<Expr>,
}

/// A DELETE.
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    /// The table.
    pub table: &'static str,
    /// WHERE.
    pub filter: Option<Expr>,
}

/// SQL text and its bound parameters, in placeholder order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rendered {
    /// The SQL.
    pub sql: String,
    /// The parameters.
    pub params: Vec<Value>,
}

// ----- statement shapes the session and the loaders share ----------------------------------

/// `SELECT <all columns of t> FROM t`.
pub(crate) fn select_all_of(t: &'static TableSchema) -> Select {
    let mut sel = Select::from_table(t.name);
    sel.columns = t.columns.iter().map(|c| Expr::Column { table: t.name, name: c.name }).collect();
    sel
}

/// `pk1 = ? AND pk2 = ?` with NULL placeholders, for statements rendered once per model.
pub(crate) fn key_filter(t: &'static TableSchema) -> Expr {
    let mut conds: Vec<Expr> = t
        .primary_key_columns()
        .map(|c| {
            Expr::binary(
                Expr::Column { table: t.name, name: c.name },
                BinaryOp::Eq,
                Expr::Value(Value::Null),
            )
        })
        .collect();
    if conds.len() == 1 {
        conds.remove(0)
    } else {
        Expr::And(conds)
    }
}

/// `cols IN (keys)`: one column is one IN list (one array on PostgreSQL); several are an OR of
/// ANDs.
pub(crate) fn keys_in<K: AsRef<[Value]>>(
    table: &'static str,
    cols: &[&'static str],
    keys: &[K],
) -> Expr {
    let col = |c: &'static str| Expr::Column { table, name: c };
    if let [one] = cols {
        return Expr::InList {
            expr: Box::new(col(one)),
            list: keys
                .iter()
                .filter_map(|k| k.as_ref().first().cloned())
                .map(Expr::Value)
                .collect(),
            negated: false,
        };
    }
    Expr::Or(
        keys.iter()
            .map(|k| {
                Expr::And(
                    cols.iter()
                        .zip(k.as_ref())
                        .map(|(c, v)| Expr::binary(col(c), BinaryOp::Eq, Expr::Value(v.clone())))
                        .collect(),
                )
            })
            .collect(),
    )
}

/// The join condition `left.lcols = right.rcols`.
pub(crate) fn join_on(
    left: &'static str,
    lcols: &[&'static str],
    right: &'static str,
    rcols: &[&'static str],
) -> Expr {
    let conds: Vec<Expr> = lcols
        .iter()
        .zip(rcols)
        .map(|(l, r)| {
            Expr::binary(
                Expr::Column { table: left, name: l },
                BinaryOp::Eq,
                Expr::Column { table: right, name: r },
            )
        })
        .collect();
    match <[Expr; 1]>::try_from(conds) {
        Ok([one]) => one,
        Err(many) => Expr::And(many),
    }
}

impl Expr {
    /// Calls `f` on this expression and, where `f` returns true, on the expressions in it,
    /// subqueries included (their join conditions, columns, filter, grouping and order).
    pub(crate) fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Expr) -> bool) {
        if !f(self) {
            return;
        }
        fn all(es: &mut [Expr], f: &mut dyn FnMut(&mut Expr) -> bool) {
            es.iter_mut().for_each(|e| e.visit_mut(f));
        }
        match self {
            Expr::Column { .. } | Expr::Value(_) | Expr::CountStar | Expr::Int(_) => {}
            Expr::Binary { left: x, right: y, .. }
            | Expr::Like { expr: x, pattern: y, .. }
            | Expr::Json { expr: x, arg: y, .. }
            | Expr::Array { expr: x, arg: y, .. } => {
                x.visit_mut(f);
                y.visit_mut(f);
            }
            Expr::And(v) | Expr::Or(v) | Expr::Func { args: v, .. } => all(v, f),
            Expr::Not(e) | Expr::IsNull { expr: e, .. } | Expr::Cast { expr: e, .. } => {
                e.visit_mut(f)
            }
            Expr::InList { expr, list, .. } => {
                expr.visit_mut(f);
                all(list, f);
            }
            Expr::Between { expr, low, high, .. } => {
                expr.visit_mut(f);
                low.visit_mut(f);
                high.visit_mut(f);
            }
            Expr::FullText { document, query, .. } => {
                all(document, f);
                query.visit_mut(f);
            }
            Expr::Exists(sub) => {
                for j in &mut sub.joins {
                    j.on.visit_mut(f);
                }
                all(&mut sub.columns, f);
                if let Some(e) = &mut sub.filter {
                    e.visit_mut(f);
                }
                all(&mut sub.group_by, f);
                if let Some(e) = &mut sub.having {
                    e.visit_mut(f);
                }
                for o in &mut sub.order_by {
                    o.expr.visit_mut(f);
                }
            }
        }
    }

    /// Reads the columns of table `from` as columns of `to` (an alias of it), also in the
    /// subqueries it holds, where `from` names the row of the query around them; not inside a
    /// subquery that reads `from` itself (its FROM or a join without an alias), whose `from`
    /// is its own rows.
    pub(crate) fn retable(&mut self, from: &str, to: &'static str) {
        self.visit_mut(&mut |e| match e {
            Expr::Column { table, .. } => {
                if *table == from {
                    *table = to;
                }
                true
            }
            Expr::Exists(sub) => {
                !(matches!(sub.from, From::Table(t) if t == from)
                    || sub.joins.iter().any(|j| j.alias.is_none() && j.table == from))
            }
            _ => true,
        });
    }

    /// The deepest `n` of the aliases `orm_any_<n>` that the subqueries in this expression
    /// give their tables (0 for none).
    pub(crate) fn any_alias_depth(&mut self) -> usize {
        let mut depth = 0;
        self.visit_mut(&mut |e| {
            if let Expr::Exists(sub) = e {
                let from = match sub.from {
                    From::TableAs(_, a) => Some(a),
                    _ => None,
                };
                for a in from.into_iter().chain(sub.joins.iter().filter_map(|j| j.alias)) {
                    if let Some(n) = a.strip_prefix("orm_any_").and_then(|n| n.parse().ok()) {
                        depth = depth.max(n);
                    }
                }
            }
            true
        });
        depth
    }
}

/// `orm_any_<n>`, the alias of the table a self-referencing relationship's `any` reads in
/// its subquery at nesting depth `n`: a name for the statement's lifetime (one per depth ever
/// asked for, kept for the program's).
pub(crate) fn any_alias(n: usize) -> &'static str {
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<Vec<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| Mutex::new(Vec::new()));
    let mut names = names.lock().unwrap_or_else(|e| e.into_inner());
    while names.len() < n {
        let name = format!("orm_any_{}", names.len() + 1);
        names.push(Box::leak(name.into_boxed_str()));
    }
    names.get(n.saturating_sub(1)).copied().unwrap_or("orm_any_1")
}
