//! Typed column handles and expressions. `User::email` is a `Column<User, String>`; its methods
//! accept only operands of the column's type (a wrong type does not compile, with a short error
//! naming the column's type), and return the untyped [`Expr`] AST.

use crate::connection::{decode_at, Row};
use crate::error::Result;
use crate::model::Model;
use crate::statement::{BinaryOp, Expr, Func, OrderBy};
use crate::value::{DbDefault, FromValue, ToValue};
use std::marker::PhantomData;

/// A column of model `M` holding values of type `T`. Generated as associated consts by
/// `#[derive(Model)]`: `User::email`.
///
/// Its methods make the conditions of `filter` (and the keys of `order_by`), taking only
/// values of the column's type: `eq ne lt le gt ge`, `in_list`, `between`, `asc`/`desc`; on
/// text, `like ilike starts_with ends_with contains`; on `Option`s, `is_null`; conditions
/// combine with `and`, `or` and `not` ([`Expr`]).
///
/// ```
/// # use orm::prelude::*;
/// # #[derive(Model, Debug, Clone, PartialEq)]
/// # pub struct User {
/// #     #[orm(primary_key)]
/// #     pub id: i64,
/// #     pub name: String,
/// #     pub age: Option<i32>,
/// # }
/// # fn main() -> orm::Result<()> {
/// # let db = orm::testing::memory_database_with(&[User::TABLE])?;
/// # let mut s = db.session();
/// # for (name, age) in [("ann", Some(31)), ("bob", None), ("cy", Some(17))] {
/// #     s.add(User { name: name.into(), age, ..Default::default() });
/// # }
/// # s.commit()?;
/// # let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();
/// let found = s
///     .query::<User>()
///     .filter(User::age.ge(18).or(User::age.is_null()))
///     .filter(User::name.ilike("%O%").or(User::name.ilike("A%"))) // bob, ann
///     .order_by(User::name.desc())
///     .all()?;
/// assert_eq!(names(found), ["bob", "ann"]);
/// # Ok(()) }
/// ```
///
/// A value of another type does not compile: `User::age.eq("thirty")` is an error naming
/// the column's type, `Option<i32>`.
pub struct Column<M, T> {
    /// The column's index in the table schema.
    pub index: usize,
    /// The column's name.
    pub name: &'static str,
    /// The table alias it is read through (see [`Column::of`]), if any.
    pub alias: Option<&'static str>,
    _marker: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, T> Copy for Column<M, T> {}
impl<M, T> std::fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Column({})", self.name)
    }
}

impl<M, T> Column<M, T> {
    /// A handle on column `index` named `name`; called by the derive.
    pub const fn new(index: usize, name: &'static str) -> Self {
        Column { index, name, alias: None, _marker: PhantomData }
    }

    /// The column as read through an outer join, where any column can be NULL:
    /// `.outer_join_as(Post::reviewer, "r").filter(User::id.of("r").nullable().is_null())`.
    pub const fn nullable(self) -> Column<M, Option<T>> {
        Column { index: self.index, name: self.name, alias: self.alias, _marker: PhantomData }
    }

    /// The same column read through a table alias, for a table joined twice:
    /// `query::<Post>().join_as(Post::reviewer, "reviewer").filter(User::username.of("reviewer").eq("ann"))`.
    pub const fn of(self, alias: &'static str) -> Self {
        Column { alias: Some(alias), ..self }
    }
}

impl<M: Model, T> Column<M, T> {
    /// The column as an expression.
    pub fn expr(self) -> Expr {
        Expr::Column { table: self.alias.unwrap_or(M::TABLE_NAME), name: self.name }
    }

    /// `SET column = value`, for bulk updates.
    pub fn set(self, value: impl Operand<T>) -> Assignment {
        Assignment { column: self.name, table: M::TABLE.name, value: value.into_expr() }
    }
}

/// A typed expression other than a plain column: an aggregate or function result.
pub struct TypedExpr<T> {
    expr: Expr,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for TypedExpr<T> {
    fn clone(&self) -> Self {
        TypedExpr { expr: self.expr.clone(), _marker: PhantomData }
    }
}
impl<T> std::fmt::Debug for TypedExpr<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.expr.fmt(f)
    }
}

impl<T> TypedExpr<T> {
    /// Wraps an untyped expression; the caller vouches for `T`.
    pub fn new(expr: Expr) -> Self {
        TypedExpr { expr, _marker: PhantomData }
    }

    /// The untyped expression.
    pub fn expr(self) -> Expr {
        self.expr
    }
}

/// Something that can stand where a value of type `T` is expected: a `T`, a borrowed form of it
/// (`&str` for `String`), a bare value for an `Option<T>` or a `DbDefault<T>` column, or another
/// column of type `T`.
///
/// A wrong operand is one short error: the message names the column's type, and the impls are
/// `do_not_recommend`, so the compiler does not list them all after it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be compared with or assigned to a column of type `{T}`",
    label = "expected a value or a column of type `{T}`"
)]
pub trait Operand<T> {
    /// The operand as an expression.
    fn into_expr(self) -> Expr;
}

#[diagnostic::do_not_recommend]
impl<T: ToValue> Operand<T> for T {
    fn into_expr(self) -> Expr {
        Expr::Value(self.to_value())
    }
}
#[diagnostic::do_not_recommend]
impl<T: ToValue> Operand<T> for &T {
    fn into_expr(self) -> Expr {
        Expr::Value(self.to_value())
    }
}
#[diagnostic::do_not_recommend]
impl<T: ToValue> Operand<Option<T>> for T {
    fn into_expr(self) -> Expr {
        Expr::Value(self.to_value())
    }
}
#[diagnostic::do_not_recommend]
impl Operand<String> for &str {
    fn into_expr(self) -> Expr {
        Expr::Value(crate::value::Value::Text(self.to_owned()))
    }
}
#[diagnostic::do_not_recommend]
impl Operand<Option<String>> for &str {
    fn into_expr(self) -> Expr {
        Expr::Value(crate::value::Value::Text(self.to_owned()))
    }
}
#[diagnostic::do_not_recommend]
impl<T: ToValue> Operand<DbDefault<T>> for T {
    fn into_expr(self) -> Expr {
        Expr::Value(self.to_value())
    }
}
#[diagnostic::do_not_recommend]
impl<T: ToValue> Operand<DbDefault<Option<T>>> for T {
    fn into_expr(self) -> Expr {
        Expr::Value(self.to_value())
    }
}
#[diagnostic::do_not_recommend]
impl Operand<DbDefault<String>> for &str {
    fn into_expr(self) -> Expr {
        Expr::Value(crate::value::Value::Text(self.to_owned()))
    }
}
#[diagnostic::do_not_recommend]
impl Operand<DbDefault<Option<String>>> for &str {
    fn into_expr(self) -> Expr {
        Expr::Value(crate::value::Value::Text(self.to_owned()))
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model, T> Operand<T> for Column<M, T> {
    fn into_expr(self) -> Expr {
        self.expr()
    }
}
#[diagnostic::do_not_recommend]
impl<T> Operand<T> for TypedExpr<T> {
    fn into_expr(self) -> Expr {
        self.expr
    }
}

/// Column types that LIKE applies to.
#[diagnostic::on_unimplemented(message = "LIKE applies to text columns, not to `{Self}`")]
pub trait TextType {}
impl TextType for String {}
impl TextType for Option<String> {}
impl<T: TextType> TextType for DbDefault<T> {}

/// Column types that can be summed and averaged; `Sum` is what SUM returns (64-bit, so a sum
/// of `i32` cannot overflow).
#[diagnostic::on_unimplemented(message = "SUM and AVG apply to numeric columns, not to `{Self}`")]
pub trait NumericType {
    /// The type of the sum.
    type Sum;
    /// The SQL type the sum is cast to, so every backend returns the same type (PostgreSQL's
    /// SUM of a bigint is a numeric).
    const SUM_TYPE: crate::schema::ColumnType;
}
macro_rules! numeric {
    ($($t:ty => $sum:ty, $ct:ident);*) => {$(
        impl NumericType for $t {
            type Sum = $sum;
            const SUM_TYPE: crate::schema::ColumnType = crate::schema::ColumnType::$ct;
        }
    )*};
}
numeric!(i16 => i64, BigInt; i32 => i64, BigInt; i64 => i64, BigInt; f32 => f64, Double; f64 => f64, Double);
#[cfg(feature = "decimal")]
numeric!(rust_decimal::Decimal => rust_decimal::Decimal, Numeric);
impl<T: NumericType> NumericType for Option<T> {
    type Sum = T::Sum;
    const SUM_TYPE: crate::schema::ColumnType = T::SUM_TYPE;
}
impl<T: NumericType> NumericType for DbDefault<T> {
    type Sum = T::Sum;
    const SUM_TYPE: crate::schema::ColumnType = T::SUM_TYPE;
}

/// The nullable form of a column type, for aggregates that are NULL over no rows (`MIN`, `MAX`):
/// `Option<T>` for `T`, and `Option<T>` itself for `Option<T>`.
#[diagnostic::on_unimplemented(message = "MIN and MAX do not apply to `{Self}`")]
pub trait Nullable {
    /// `Option<Self>`, flattened.
    type Nullable;
}
impl<T> Nullable for Option<T> {
    type Nullable = Option<T>;
}
impl<T: Nullable> Nullable for DbDefault<T> {
    type Nullable = T::Nullable;
}
macro_rules! nullable {
    ($($t:ty),*) => { $(impl Nullable for $t { type Nullable = Option<$t>; })* };
}
nullable!(
    i16,
    i32,
    i64,
    f32,
    f64,
    bool,
    String,
    Vec<u8>,
    chrono::DateTime<chrono::Utc>,
    chrono::NaiveDateTime,
    chrono::NaiveDate,
    uuid::Uuid
);
#[cfg(feature = "decimal")]
nullable!(rust_decimal::Decimal);

// The names and the `Operand<T>` bound come from the invocation, so that a wrong operand's
// error points at the invocation and says nothing of a macro (four lines shorter).
macro_rules! comparison_methods {
    ($eq:ident, $ne:ident, $lt:ident, $le:ident, $gt:ident, $ge:ident, $in_list:ident,
     $not_in_list:ident, $between:ident: $operand:ty, $bound:path) => {
        /// `self = value`, where `value` is of the column's type (or `&str` for text, or the
        /// inner type of an `Option` column), or another column or expression of that type.
        ///
        /// ```
        /// # use orm::prelude::*;
        /// # #[derive(Model, Debug, Clone, PartialEq)]
        /// # pub struct User {
        /// #     #[orm(primary_key)]
        /// #     pub id: i64,
        /// #     pub name: String,
        /// #     pub age: Option<i32>,
        /// # }
        /// # fn main() -> orm::Result<()> {
        /// # let db = orm::testing::memory_database_with(&[User::TABLE])?;
        /// # let mut s = db.session();
        /// # for (name, age) in [("ann", Some(31)), ("bob", None), ("cy", Some(17))] {
        /// #     s.add(User { name: name.into(), age, ..Default::default() });
        /// # }
        /// # s.commit()?;
        /// # let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();
        /// let ann = s.query::<User>().filter(User::name.eq("ann")).one()?;
        /// assert_eq!(ann.age, Some(31));
        /// // `age` is an Option<i32>: compare with an i32 (a NULL age never equals anything).
        /// assert_eq!(s.query::<User>().filter(User::age.eq(17)).count()?, 1);
        /// # Ok(()) }
        /// ```
        pub fn $eq(self, value: $operand) -> Expr {
            Expr::binary(self.expr(), BinaryOp::Eq, value.into_expr())
        }
        /// `self <> value`
        pub fn $ne(self, value: $operand) -> Expr {
            Expr::binary(self.expr(), BinaryOp::Ne, value.into_expr())
        }
        /// `self < value`
        pub fn $lt(self, value: $operand) -> Expr {
            Expr::binary(self.expr(), BinaryOp::Lt, value.into_expr())
        }
        /// `self <= value`
        pub fn $le(self, value: $operand) -> Expr {
            Expr::binary(self.expr(), BinaryOp::Le, value.into_expr())
        }
        /// `self > value`
        pub fn $gt(self, value: $operand) -> Expr {
            Expr::binary(self.expr(), BinaryOp::Gt, value.into_expr())
        }
        /// `self >= value`
        pub fn $ge(self, value: $operand) -> Expr {
            Expr::binary(self.expr(), BinaryOp::Ge, value.into_expr())
        }
        /// `self IN (values...)`; an empty list matches nothing. (PostgreSQL binds the whole
        /// list as one array, `= ANY($1)`, so lists of every length share one statement.)
        ///
        /// ```
        /// # use orm::prelude::*;
        /// # #[derive(Model, Debug, Clone, PartialEq)]
        /// # pub struct User {
        /// #     #[orm(primary_key)]
        /// #     pub id: i64,
        /// #     pub name: String,
        /// #     pub age: Option<i32>,
        /// # }
        /// # fn main() -> orm::Result<()> {
        /// # let db = orm::testing::memory_database_with(&[User::TABLE])?;
        /// # let mut s = db.session();
        /// # for (name, age) in [("ann", Some(31)), ("bob", None), ("cy", Some(17))] {
        /// #     s.add(User { name: name.into(), age, ..Default::default() });
        /// # }
        /// # s.commit()?;
        /// # let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();
        /// let two = s.query::<User>().filter(User::name.in_list(["ann", "cy", "zed"])).all()?;
        /// assert_eq!(names(two), ["ann", "cy"]);
        /// let none: [&str; 0] = [];
        /// assert_eq!(s.query::<User>().filter(User::name.in_list(none)).count()?, 0);
        /// # Ok(()) }
        /// ```
        pub fn $in_list<V: $bound>(self, values: impl IntoIterator<Item = V>) -> Expr {
            Expr::InList {
                expr: Box::new(self.expr()),
                list: values.into_iter().map(Operand::into_expr).collect(),
                negated: false,
            }
        }
        /// `self NOT IN (values...)`; an empty list matches everything.
        pub fn $not_in_list<V: $bound>(self, values: impl IntoIterator<Item = V>) -> Expr {
            Expr::InList {
                expr: Box::new(self.expr()),
                list: values.into_iter().map(Operand::into_expr).collect(),
                negated: true,
            }
        }
        /// `self BETWEEN low AND high` (inclusive).
        ///
        /// ```
        /// # use orm::prelude::*;
        /// # #[derive(Model, Debug, Clone, PartialEq)]
        /// # pub struct User {
        /// #     #[orm(primary_key)]
        /// #     pub id: i64,
        /// #     pub name: String,
        /// #     pub age: Option<i32>,
        /// # }
        /// # fn main() -> orm::Result<()> {
        /// # let db = orm::testing::memory_database_with(&[User::TABLE])?;
        /// # let mut s = db.session();
        /// # for (name, age) in [("ann", Some(31)), ("bob", None), ("cy", Some(17))] {
        /// #     s.add(User { name: name.into(), age, ..Default::default() });
        /// # }
        /// # s.commit()?;
        /// # let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();
        /// let teens = s.query::<User>().filter(User::age.between(13, 19)).all()?;
        /// assert_eq!(names(teens), ["cy"]);
        /// # Ok(()) }
        /// ```
        pub fn $between(self, low: $operand, high: $operand) -> Expr {
            Expr::Between {
                expr: Box::new(self.expr()),
                low: Box::new(low.into_expr()),
                high: Box::new(high.into_expr()),
                negated: false,
            }
        }
        /// Ascending order.
        pub fn asc(self) -> OrderBy {
            OrderBy { expr: self.expr(), desc: false }
        }
        /// Descending order.
        ///
        /// ```
        /// # use orm::prelude::*;
        /// # #[derive(Model, Debug, Clone, PartialEq)]
        /// # pub struct User {
        /// #     #[orm(primary_key)]
        /// #     pub id: i64,
        /// #     pub name: String,
        /// #     pub age: Option<i32>,
        /// # }
        /// # fn main() -> orm::Result<()> {
        /// # let db = orm::testing::memory_database_with(&[User::TABLE])?;
        /// # let mut s = db.session();
        /// # for (name, age) in [("ann", Some(31)), ("bob", None), ("cy", Some(17))] {
        /// #     s.add(User { name: name.into(), age, ..Default::default() });
        /// # }
        /// # s.commit()?;
        /// # let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();
        /// let youngest_first = s.query::<User>().filter(User::age.is_not_null()).order_by(User::age.asc());
        /// assert_eq!(names(youngest_first.all()?), ["cy", "ann"]);
        /// let by_name = s.query::<User>().order_by(User::name.desc()).limit(1).all()?;
        /// assert_eq!(names(by_name), ["cy"]);
        /// # Ok(()) }
        /// ```
        pub fn desc(self) -> OrderBy {
            OrderBy { expr: self.expr(), desc: true }
        }
    };
}

macro_rules! text_methods {
    () => {
        /// `self LIKE pattern`: `%` matches any run of characters, `_` any one character, and
        /// `\` makes the next character match itself (`\%`, `\_`, `\\`), written
        /// `ESCAPE '\'` on every backend. Case-sensitive on every backend (on SQLite, whose
        /// LIKE ignores ASCII case, the pattern is translated to a GLOB). To match text from
        /// elsewhere literally, use [`contains`](Self::contains),
        /// [`starts_with`](Self::starts_with), [`ends_with`](Self::ends_with), or
        /// [`escape_like`]. A pattern ending in a lone `\` is an
        /// [`Error::InvalidUse`](crate::Error::InvalidUse) when the query is run.
        ///
        /// ```
        /// # use orm::prelude::*;
        /// # #[derive(Model, Debug, Clone, PartialEq)]
        /// # pub struct User {
        /// #     #[orm(primary_key)]
        /// #     pub id: i64,
        /// #     pub name: String,
        /// #     pub age: Option<i32>,
        /// # }
        /// # fn main() -> orm::Result<()> {
        /// # let db = orm::testing::memory_database_with(&[User::TABLE])?;
        /// # let mut s = db.session();
        /// # for (name, age) in [("ann", Some(31)), ("bob", None), ("cy", Some(17))] {
        /// #     s.add(User { name: name.into(), age, ..Default::default() });
        /// # }
        /// # s.commit()?;
        /// # let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();
        /// assert_eq!(names(s.query::<User>().filter(User::name.like("_n%")).all()?), ["ann"]);
        /// assert_eq!(s.query::<User>().filter(User::name.like("A%")).count()?, 0); // case-sensitive
        /// assert_eq!(s.query::<User>().filter(User::name.ilike("A%")).count()?, 1);
        /// assert_eq!(s.query::<User>().filter(User::name.starts_with("b")).count()?, 1);
        /// # Ok(()) }
        /// ```
        pub fn like(self, pattern: &str) -> Expr {
            like(self.expr(), pattern.to_owned(), false, false)
        }
        /// `self NOT LIKE pattern`, the pattern as in [`like`](Self::like).
        pub fn not_like(self, pattern: &str) -> Expr {
            like(self.expr(), pattern.to_owned(), false, true)
        }
        /// Case-insensitive LIKE, the pattern as in [`like`](Self::like): `ILIKE` on
        /// PostgreSQL, `orm_lower(x) LIKE orm_lower(pattern)` on SQLite, with a Unicode-aware
        /// lower registered on every connection: both fold every letter (`Ö`, `Ω`), not ASCII
        /// only (on PostgreSQL, by the column's collation: a C locale folds ASCII only).
        pub fn ilike(self, pattern: &str) -> Expr {
            like(self.expr(), pattern.to_owned(), true, false)
        }
        /// Case-insensitive NOT LIKE.
        pub fn not_ilike(self, pattern: &str) -> Expr {
            like(self.expr(), pattern.to_owned(), true, true)
        }
        /// The text starts with `prefix`, taken literally (`%`, `_` and `\` in it match
        /// themselves): `self LIKE 'prefix%' ESCAPE '\'`, case-sensitive. An index on the
        /// column can serve it (on SQLite, as a GLOB on a column of the default collation).
        pub fn starts_with(self, prefix: &str) -> Expr {
            like(self.expr(), format!("{}%", escape_like(prefix)), false, false)
        }
        /// The text ends with `suffix`, taken literally: `self LIKE '%suffix' ESCAPE '\'`,
        /// case-sensitive.
        pub fn ends_with(self, suffix: &str) -> Expr {
            like(self.expr(), format!("%{}", escape_like(suffix)), false, false)
        }
    };
}

pub use crate::statement::LIKE_ESCAPE;

/// `text` as a LIKE pattern that matches exactly `text`: `%`, `_` and `\` escaped with
/// [`LIKE_ESCAPE`]. For patterns built around text from elsewhere:
///
/// ```
/// use orm_core::escape_like;
///
/// assert_eq!(escape_like(r"100%_sure\"), r"100\%\_sure\\");
/// let pattern = format!("%{}%", escape_like("50%"));   // ilike(&pattern): contains "50%"
/// assert_eq!(pattern, r"%50\%%");
/// ```
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

fn like(expr: Expr, pattern: String, ci: bool, negated: bool) -> Expr {
    Expr::Like {
        expr: Box::new(expr),
        pattern: Box::new(Expr::Value(crate::value::Value::Text(pattern))),
        case_insensitive: ci,
        negated,
    }
}

/// What [`Column::contains`] means on a column of type `Self` given an `A`: on a text column,
/// the text holds a `&str` (or `String`) as a substring, taken literally (`%`, `_` and `\`
/// match themselves; case-sensitive): `self LIKE '%text%' ESCAPE '\'`. On an array column
/// (`Vec<String>`, `Vec<i64>`, `Option` or `DbDefault` of them), the array holds every one of
/// a list of elements: `self @> items`.
#[diagnostic::on_unimplemented(
    message = "`contains` on a column of type `{Self}` does not take `{A}`",
    label = "expected a substring (text column) or a list of elements (array column)",
    note = "a text column takes a `&str` (a substring, matched literally); an array column takes \
            a list of its elements; other columns have no `contains`"
)]
pub trait Contains<A> {
    /// `column` contains `arg`.
    fn contains(column: Expr, arg: A) -> Expr;
}

impl<T: TextType> Contains<&str> for T {
    fn contains(column: Expr, text: &str) -> Expr {
        like(column, format!("%{}%", escape_like(text)), false, false)
    }
}
impl<T: TextType> Contains<&String> for T {
    fn contains(column: Expr, text: &String) -> Expr {
        <T as Contains<&str>>::contains(column, text)
    }
}
impl<T: TextType> Contains<String> for T {
    fn contains(column: Expr, text: String) -> Expr {
        <T as Contains<&str>>::contains(column, &text)
    }
}

macro_rules! array_contains {
    ($($t:ty),*) => {$(
        impl<I> Contains<I> for $t
        where
            I: IntoIterator,
            I::Item: Into<<$t as ArrayType>::Elem>,
        {
            fn contains(column: Expr, items: I) -> Expr {
                let v = <$t>::array_value(items.into_iter().map(Into::into).collect());
                Expr::Array {
                    op: crate::statement::ArrayOp::Contains,
                    expr: Box::new(column),
                    arg: Box::new(Expr::Value(v)),
                }
            }
        }
    )*};
}
array_contains!(
    Vec<String>,
    Vec<i64>,
    Option<Vec<String>>,
    Option<Vec<i64>>,
    DbDefault<Vec<String>>,
    DbDefault<Vec<i64>>,
    DbDefault<Option<Vec<String>>>,
    DbDefault<Option<Vec<i64>>>
);

impl<M: Model, T> Column<M, T> {
    comparison_methods!(
        eq, ne, lt, le, gt, ge, in_list, not_in_list, between: impl Operand<T>, Operand<T>
    );

    /// On a text column, the text holds `text` as a substring, taken literally (`%`, `_` and
    /// `\` in it match themselves; case-sensitive): `self LIKE '%text%' ESCAPE '\'`, a GLOB
    /// on SQLite. On an array column, the array holds every one of `items`: `self @> items`
    /// (emulated with `json_each` on SQLite). See [`Contains`].
    ///
    /// `Post::title.contains("50%")`, `Post::tags.contains(["rust", "orm"])`.
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # pub struct User {
    /// #     #[orm(primary_key)]
    /// #     pub id: i64,
    /// #     pub name: String,
    /// #     pub age: Option<i32>,
    /// # }
    /// # fn main() -> orm::Result<()> {
    /// # let db = orm::testing::memory_database_with(&[User::TABLE])?;
    /// # let mut s = db.session();
    /// # for (name, age) in [("ann", Some(31)), ("bob", None), ("cy", Some(17))] {
    /// #     s.add(User { name: name.into(), age, ..Default::default() });
    /// # }
    /// # s.commit()?;
    /// # let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();
    /// s.add(User { name: "100%_sure".into(), ..Default::default() });
    /// // `%` and `_` are literal here: only the name that holds "0%_" matches.
    /// assert_eq!(names(s.query::<User>().filter(User::name.contains("0%_")).all()?), ["100%_sure"]);
    /// # Ok(()) }
    /// ```
    pub fn contains<A>(self, arg: A) -> Expr
    where
        T: Contains<A>,
    {
        T::contains(self.expr(), arg)
    }
}
impl<T> TypedExpr<T> {
    comparison_methods!(
        eq, ne, lt, le, gt, ge, in_list, not_in_list, between: impl Operand<T>, Operand<T>
    );

    /// As [`Column::contains`]: a literal substring of text, or elements of an array.
    pub fn contains<A>(self, arg: A) -> Expr
    where
        T: Contains<A>,
    {
        T::contains(self.expr, arg)
    }
}
impl<M: Model, T: TextType> Column<M, T> {
    text_methods!();
}
impl<T: TextType> TypedExpr<T> {
    text_methods!();
}

impl<M: Model, T> Column<M, Option<T>> {
    /// `self IS NULL` (only on `Option` columns: a NOT NULL column has no such method).
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # pub struct User {
    /// #     #[orm(primary_key)]
    /// #     pub id: i64,
    /// #     pub name: String,
    /// #     pub age: Option<i32>,
    /// # }
    /// # fn main() -> orm::Result<()> {
    /// # let db = orm::testing::memory_database_with(&[User::TABLE])?;
    /// # let mut s = db.session();
    /// # for (name, age) in [("ann", Some(31)), ("bob", None), ("cy", Some(17))] {
    /// #     s.add(User { name: name.into(), age, ..Default::default() });
    /// # }
    /// # s.commit()?;
    /// # let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();
    /// assert_eq!(names(s.query::<User>().filter(User::age.is_null()).all()?), ["bob"]);
    /// assert_eq!(s.query::<User>().filter(User::age.is_not_null()).count()?, 2);
    /// # Ok(()) }
    /// ```
    pub fn is_null(self) -> Expr {
        Expr::IsNull { expr: Box::new(self.expr()), negated: false }
    }
    /// `self IS NOT NULL`
    pub fn is_not_null(self) -> Expr {
        Expr::IsNull { expr: Box::new(self.expr()), negated: true }
    }
}

impl<M: Model, T> Column<M, DbDefault<Option<T>>> {
    /// `self IS NULL`
    pub fn is_null(self) -> Expr {
        Expr::IsNull { expr: Box::new(self.expr()), negated: false }
    }
    /// `self IS NOT NULL`
    pub fn is_not_null(self) -> Expr {
        Expr::IsNull { expr: Box::new(self.expr()), negated: true }
    }
}

impl<T> TypedExpr<Option<T>> {
    /// `self IS NULL`
    pub fn is_null(self) -> Expr {
        Expr::IsNull { expr: Box::new(self.expr), negated: false }
    }
    /// `self IS NOT NULL`
    pub fn is_not_null(self) -> Expr {
        Expr::IsNull { expr: Box::new(self.expr), negated: true }
    }
}

/// Anything that is a typed SQL expression of type `T`: a column or a [`TypedExpr`].
pub trait IntoTyped<T> {
    /// The untyped expression.
    fn into_untyped(self) -> Expr;
}
impl<M: Model, T> IntoTyped<T> for Column<M, T> {
    fn into_untyped(self) -> Expr {
        self.expr()
    }
}
impl<T> IntoTyped<T> for TypedExpr<T> {
    fn into_untyped(self) -> Expr {
        self.expr
    }
}

/// `COUNT(*)`.
pub fn count_star() -> TypedExpr<i64> {
    TypedExpr::new(Expr::CountStar)
}
/// `COUNT(x)`: the non-NULL values of `x`.
pub fn count<T>(x: impl IntoTyped<T>) -> TypedExpr<i64> {
    TypedExpr::new(Expr::Func { func: Func::Count, args: vec![x.into_untyped()] })
}
/// `COUNT(DISTINCT x)`.
pub fn count_distinct<T>(x: impl IntoTyped<T>) -> TypedExpr<i64> {
    TypedExpr::new(Expr::Func { func: Func::CountDistinct, args: vec![x.into_untyped()] })
}
/// `SUM(x)`: NULL (None) over no rows; integer columns sum to `i64`, float columns to `f64`.
pub fn sum<T: NumericType>(x: impl IntoTyped<T>) -> TypedExpr<Option<T::Sum>> {
    let sum = Expr::Func { func: Func::Sum, args: vec![x.into_untyped()] };
    TypedExpr::new(Expr::Cast { expr: Box::new(sum), ty: T::SUM_TYPE })
}
/// `AVG(x)`, as a float; NULL (None) over no rows.
pub fn avg<T: NumericType>(x: impl IntoTyped<T>) -> TypedExpr<Option<f64>> {
    let avg = Expr::Func { func: Func::Avg, args: vec![x.into_untyped()] };
    TypedExpr::new(Expr::Cast { expr: Box::new(avg), ty: crate::schema::ColumnType::Double })
}
/// `MIN(x)`: NULL (None) over no rows.
pub fn min<T: Nullable>(x: impl IntoTyped<T>) -> TypedExpr<T::Nullable> {
    TypedExpr::new(Expr::Func { func: Func::Min, args: vec![x.into_untyped()] })
}
/// `MAX(x)`: NULL (None) over no rows.
pub fn max<T: Nullable>(x: impl IntoTyped<T>) -> TypedExpr<T::Nullable> {
    TypedExpr::new(Expr::Func { func: Func::Max, args: vec![x.into_untyped()] })
}
/// `LOWER(x)`, by Unicode's rules on every backend (SQLite calls a Unicode-aware function
/// registered on its connections; PostgreSQL folds by the collation, every letter in a UTF-8
/// locale).
pub fn lower<T: TextType>(x: impl IntoTyped<T>) -> TypedExpr<T> {
    TypedExpr::new(Expr::Func { func: Func::Lower, args: vec![x.into_untyped()] })
}
/// `UPPER(x)`, by Unicode's rules on every backend, as [`lower`].
pub fn upper<T: TextType>(x: impl IntoTyped<T>) -> TypedExpr<T> {
    TypedExpr::new(Expr::Func { func: Func::Upper, args: vec![x.into_untyped()] })
}

/// `SET column = value` in a bulk update; made by [`Column::set`].
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The table the column belongs to.
    pub table: &'static str,
    /// The column.
    pub column: &'static str,
    /// The new value.
    pub value: Expr,
}

/// What `select(...)` accepts: a column, a typed expression, or a tuple of them (up to 8). Each
/// knows how to decode its own part of a row.
pub trait Selectable {
    /// The Rust type a row decodes to.
    type Output;
    /// Appends the selected expressions.
    fn push_exprs(self, out: &mut Vec<Expr>);
    /// Decodes the row's columns from `offset`.
    fn decode(row: &dyn Row, offset: usize) -> Result<Self::Output>;
    /// How many columns it selects.
    const WIDTH: usize;
}

impl<M: Model, T: FromValue> Selectable for Column<M, T> {
    type Output = T;
    const WIDTH: usize = 1;
    fn push_exprs(self, out: &mut Vec<Expr>) {
        out.push(self.expr());
    }
    fn decode(row: &dyn Row, offset: usize) -> Result<T> {
        decode_at(row, offset, row.column_name(offset).unwrap_or("?"))
    }
}

impl<T: FromValue> Selectable for TypedExpr<T> {
    type Output = T;
    const WIDTH: usize = 1;
    fn push_exprs(self, out: &mut Vec<Expr>) {
        out.push(self.expr);
    }
    fn decode(row: &dyn Row, offset: usize) -> Result<T> {
        decode_at(row, offset, row.column_name(offset).unwrap_or("?"))
    }
}

macro_rules! tuple_selectable {
    ($($t:ident),+) => {
        impl<$($t: Selectable),+> Selectable for ($($t,)+) {
            type Output = ($($t::Output,)+);
            const WIDTH: usize = 0 $(+ $t::WIDTH)+;
            #[allow(non_snake_case)]
            fn push_exprs(self, out: &mut Vec<Expr>) {
                let ($($t,)+) = self;
                $($t.push_exprs(out);)+
            }
            #[allow(unused_assignments)]
            fn decode(row: &dyn Row, offset: usize) -> Result<Self::Output> {
                let mut at = offset;
                Ok(($({
                    let v = $t::decode(row, at)?;
                    at += $t::WIDTH;
                    v
                },)+))
            }
        }
    };
}
tuple_selectable!(A);
tuple_selectable!(A, B);
tuple_selectable!(A, B, C);
tuple_selectable!(A, B, C, D);
tuple_selectable!(A, B, C, D, E);
tuple_selectable!(A, B, C, D, E, F);
tuple_selectable!(A, B, C, D, E, F, G);
tuple_selectable!(A, B, C, D, E, F, G, H);

/// Column types holding JSON: `Json<T>`, `serde_json::Value`, and `Option` or `DbDefault` of
/// them.
pub trait JsonType {}
impl<T> JsonType for crate::value::Json<T> {}
impl JsonType for serde_json::Value {}
impl<T: JsonType> JsonType for Option<T> {}
impl<T: JsonType> JsonType for DbDefault<T> {}

fn json(op: crate::statement::JsonOp, expr: Expr, arg: crate::value::Value) -> Expr {
    Expr::Json { op, expr: Box::new(expr), arg: Box::new(Expr::Value(arg)) }
}

macro_rules! json_methods {
    () => {
        /// `self -> key`: the value at `key`, as JSON (NULL when absent). `key` is one key of the
        /// top-level object whatever it holds (`"$"`, `"a.b"` and `"[0]"` are keys, not paths,
        /// on every backend); nest by chaining: `.get("a").get_text("b")`.
        pub fn get(self, key: &str) -> TypedExpr<Option<serde_json::Value>> {
            TypedExpr::new(json(
                crate::statement::JsonOp::Get,
                self.expr(),
                crate::value::Value::Text(key.to_owned()),
            ))
        }
        /// `self ->> key`: the value at `key`, as text (NULL when absent); `key` as in
        /// [`get`](Self::get).
        pub fn get_text(self, key: &str) -> TypedExpr<Option<String>> {
            TypedExpr::new(json(
                crate::statement::JsonOp::GetText,
                self.expr(),
                crate::value::Value::Text(key.to_owned()),
            ))
        }
        /// `self @> doc`: the document contains `doc` (PostgreSQL only).
        pub fn json_contains(self, doc: serde_json::Value) -> Expr {
            json(crate::statement::JsonOp::Contains, self.expr(), crate::value::Value::Json(doc))
        }
        /// `self ? key`, PostgreSQL's meaning on every backend: an object has `key` at top
        /// level, an array holds `key` as a string element, or the document is the string `key`.
        pub fn has_key(self, key: &str) -> Expr {
            json(
                crate::statement::JsonOp::HasKey,
                self.expr(),
                crate::value::Value::Text(key.to_owned()),
            )
        }
    };
}

impl<M: Model, T: JsonType> Column<M, T> {
    json_methods!();
}
impl<T: JsonType> TypedExpr<T> {
    json_methods!();
}

/// Column types holding arrays: `Vec<String>`, `Vec<i64>`, and `Option` or `DbDefault` of them.
pub trait ArrayType {
    /// The element type.
    type Elem;
    /// The elements as one bound value.
    fn array_value(items: Vec<Self::Elem>) -> crate::value::Value;
}
impl ArrayType for Vec<String> {
    type Elem = String;
    fn array_value(items: Vec<String>) -> crate::value::Value {
        crate::value::Value::TextArray(items)
    }
}
impl ArrayType for Vec<i64> {
    type Elem = i64;
    fn array_value(items: Vec<i64>) -> crate::value::Value {
        crate::value::Value::IntArray(items)
    }
}
impl<T: ArrayType> ArrayType for Option<T> {
    type Elem = T::Elem;
    fn array_value(items: Vec<T::Elem>) -> crate::value::Value {
        T::array_value(items)
    }
}
impl<T: ArrayType> ArrayType for DbDefault<T> {
    type Elem = T::Elem;
    fn array_value(items: Vec<T::Elem>) -> crate::value::Value {
        T::array_value(items)
    }
}

impl<M: Model, T: ArrayType> Column<M, T> {
    fn array(self, op: crate::statement::ArrayOp, arg: Expr) -> Expr {
        Expr::Array { op, expr: Box::new(self.expr()), arg: Box::new(arg) }
    }

    /// `self && items`: the array holds at least one of `items`.
    pub fn overlaps<E: Into<T::Elem>>(self, items: impl IntoIterator<Item = E>) -> Expr {
        let v = T::array_value(items.into_iter().map(Into::into).collect());
        self.array(crate::statement::ArrayOp::Overlaps, Expr::Value(v))
    }

    /// `item = ANY(self)`: the array holds `item`.
    pub fn any_eq(self, item: impl Operand<T::Elem>) -> Expr {
        self.array(crate::statement::ArrayOp::Any, item.into_expr())
    }
}

impl<M: Model, T: TextType> Column<M, T> {
    /// Full-text search: `to_tsvector(config, self) @@ plainto_tsquery(config, query)`, where
    /// `config` is a text search configuration such as `"english"`, from a literal or from
    /// data (a user's language): it is checked to be a plain name (letters, digits, `_`) and
    /// written into the SQL, so that an expression index on `to_tsvector('english', ...)`
    /// serves the query. PostgreSQL only.
    pub fn matches(self, config: &str, query: &str) -> Expr {
        search([self.expr()], config, query)
    }

    /// Full-text search with web-search syntax (`"a phrase" -not or`):
    /// `websearch_to_tsquery`. PostgreSQL only.
    pub fn matches_websearch(self, config: &str, query: &str) -> Expr {
        search_websearch([self.expr()], config, query)
    }
}

/// Full-text search over several text expressions joined with spaces:
/// `search([Post::title.expr(), Post::content.expr()], "english", "rust orm")`.
pub fn search(document: impl IntoIterator<Item = Expr>, config: &str, query: &str) -> Expr {
    Expr::FullText {
        document: document.into_iter().collect(),
        config: config.to_owned(),
        query: Box::new(Expr::Value(crate::value::Value::Text(query.to_owned()))),
        websearch: false,
    }
}

/// [`search`] with web-search query syntax.
pub fn search_websearch(
    document: impl IntoIterator<Item = Expr>,
    config: &str,
    query: &str,
) -> Expr {
    Expr::FullText {
        document: document.into_iter().collect(),
        config: config.to_owned(),
        query: Box::new(Expr::Value(crate::value::Value::Text(query.to_owned()))),
        websearch: true,
    }
}
