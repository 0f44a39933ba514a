//! The typed query builder, in two forms with one implementation:
//!
//! - [`select::<M>()`](select) builds a [`Select<M>`]: an owned value with no session in it
//!   (SQLAlchemy 2's `select(User)`). Build it in one function and run it in another, run it
//!   twice, clone and extend it, send it to another thread; a session runs it:
//!   [`s.all(&q)`](Session::all), [`s.one(&q)`](Session::one), [`s.count(&q)`](Session::count),
//!   [`s.paginate(&q, 1, 20)`](Session::paginate), [`s.delete_where(&q)`](Session::delete_where).
//! - [`s.query::<M>()`](Session::query) is the short form: a [`Query`] is a session and a
//!   `Select<M>`, its builder methods are the value's and its terminal methods the session's.
//!
//! Builder methods take and return `Self`. Running flushes pending work first (autoflush), then
//! runs one statement (and one more per level eagerly loaded with `load`).
//!
//! Which tables a query may read is checked in two steps. At compile time, what is typed by the
//! query's model takes only that model: `filter_by(Column<M, _>, ..)`, `join(Relation<M, _>)`,
//! `load(..)`, `load_joined(..)`. A condition (`filter`, `order_by`, `having`) is an untyped
//! [`Expr`] once built (typed columns check names and value types, not which query they go
//! in), so before a query runs (and in `to_sql`) every column it reads must belong to its model
//! or to a table joined into it (by name, or by the alias of `join_as`); any other is
//! [`Error::InvalidUse`] naming that model and saying to join it. Subqueries (`Relation::any`,
//! `Relation::exists`) may read the tables of the query around them: that is their correlation.

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::expr::{Assignment, Column, IntoTyped, Operand, Selectable};
use crate::loading::LoadPath;
use crate::model::{AnyModel, ColumnMask, MapKey, Model};
use crate::relation::{Relation, RelationKind, RelationSchema};
use crate::schema::TableSchema;
use crate::session::{Session, Tracking};
use crate::statement::{
    join_on, select_all_of, Delete, Expr, From, Join, JoinKind, OrderBy, Rendered,
    Select as SelectStatement, Update,
};
use crate::value::{Value, ValueRef};
use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

/// Builder methods of every query form (on objects and on chosen columns, owned or on a
/// session); `parts()` is the owned query being built.
macro_rules! paging_methods {
    () => {
        /// Adds a sort key (after any given before): `Post::created_at.desc()`.
        pub fn order_by(mut self, order: OrderBy) -> Self {
            self.parts().stmt.order_by.push(order);
            self
        }

        /// At most `n` rows.
        pub fn limit(mut self, n: u64) -> Self {
            self.parts().stmt.limit = Some(n);
            self
        }

        /// Skips the first `n` rows.
        pub fn offset(mut self, n: u64) -> Self {
            self.parts().stmt.offset = Some(n);
            self
        }
    };
}

/// Builder methods of a query of model objects, for [`Select`] and [`Query`].
macro_rules! model_builder_methods {
    () => {
        /// Eagerly loads a relationship (or a path, `User::posts.then(Post::comments)`) of every
        /// row with one more query per level, whatever the number of rows (SQLAlchemy's
        /// `selectinload`).
        pub fn load(mut self, path: impl LoadPath<M>) -> Self {
            self.parts().loaders.push(Arc::new(path));
            self
        }

        /// Eagerly loads one relationship in the same statement, with a LEFT OUTER JOIN
        /// (SQLAlchemy's `joinedload`). A limit or offset applies to the parent rows (the parent
        /// query becomes a subquery). One joined relationship per query; `load` the rest.
        pub fn load_joined<R: Model>(mut self, rel: Relation<M, R>) -> Self {
            self.parts().joined = Some(Arc::new(Joined(rel)));
            self
        }

        /// Joins a related table (INNER JOIN), to filter or order on its columns:
        /// `select::<Post>().join(Post::author).filter(User::username.eq("tata"))`. Rows of `M`
        /// come back once each, however many related rows matched.
        pub fn join<R: Model>(mut self, rel: Relation<M, R>) -> Self {
            self.parts().add_join(rel.schema(), JoinKind::Inner, None);
            self
        }

        /// Joins a related table with LEFT OUTER JOIN (rows without a related row stay).
        pub fn outer_join<R: Model>(mut self, rel: Relation<M, R>) -> Self {
            self.parts().add_join(rel.schema(), JoinKind::Left, None);
            self
        }

        /// Joins a related table under an alias, for a table joined twice (`author` and
        /// `reviewer`); read its columns with [`Column::of`]: `User::username.of("reviewer")`.
        pub fn join_as<R: Model>(mut self, rel: Relation<M, R>, alias: &'static str) -> Self {
            self.parts().add_join(rel.schema(), JoinKind::Inner, Some(alias));
            self
        }

        /// [`join_as`](Self::join_as) with LEFT OUTER JOIN.
        pub fn outer_join_as<R: Model>(mut self, rel: Relation<M, R>, alias: &'static str) -> Self {
            self.parts().add_join(rel.schema(), JoinKind::Left, Some(alias));
            self
        }

        /// Joins a relationship of a table already joined into the query (a second hop:
        /// `.join(Post::author).join_from(User::profile)`). Its source must be in the query by
        /// then, or running it is [`Error::InvalidUse`].
        pub fn join_from<S: Model, R: Model>(mut self, rel: Relation<S, R>) -> Self {
            self.parts().add_join(rel.schema(), JoinKind::Inner, None);
            self
        }

        /// Keeps rows matching `cond` (AND-ed with earlier filters). Its columns must be of `M`
        /// or of a table joined into the query.
        pub fn filter(mut self, cond: Expr) -> Self {
            self.parts().stmt.and_where(cond);
            self
        }

        /// Keeps rows whose `column` (of `M`, checked at compile time) equals `value`
        /// (SQLAlchemy's `filter_by`).
        pub fn filter_by<T>(self, column: Column<M, T>, value: impl Operand<T>) -> Self {
            self.filter(column.eq(value))
        }

        paging_methods!();

        /// Reads without recording snapshots in the identity map: the fastest read, for rows
        /// that will not be changed and added back (adding one back later is treated as a new
        /// object). The relationships it loads (`load`, `load_joined`) are read untracked too.
        pub fn untracked(mut self) -> Self {
            self.parts().tracking = Tracking::Untracked;
            self
        }

        /// Reads the rows' values from the database even for rows the session already holds,
        /// and makes them the session's state (SQLAlchemy's `populate_existing`). Without it a
        /// row the session knows comes back as the session knows it: one state per identity.
        /// Objects the session holds (`get_mut`, handles) take the new values too; a copy read
        /// before keeps its old ones, which are then not written back unless changed.
        pub fn populate_existing(mut self) -> Self {
            self.parts().tracking = Tracking::Populate;
            self
        }
    };
}

/// Builder methods of a query of chosen columns, for [`SelectColumns`] and [`SelectQuery`].
macro_rules! column_builder_methods {
    () => {
        /// Keeps rows matching `cond` (AND-ed with earlier filters).
        pub fn filter(mut self, cond: Expr) -> Self {
            self.parts().stmt.and_where(cond);
            self
        }

        /// Groups rows by `expr`.
        pub fn group_by<T>(mut self, expr: impl IntoTyped<T>) -> Self {
            self.parts().stmt.group_by.push(expr.into_untyped());
            self
        }

        /// Keeps groups matching `cond` (e.g. `count_star().gt(1)`).
        pub fn having(mut self, cond: Expr) -> Self {
            let stmt = &mut self.parts().stmt;
            stmt.having = Some(match stmt.having.take() {
                Some(h) => h.and(cond),
                None => cond,
            });
            self
        }

        paging_methods!();

        /// Only distinct rows.
        pub fn distinct(mut self) -> Self {
            self.parts().stmt.distinct = true;
            self
        }
    };
}

/// A query of model `M` that stands alone: no session in it, so it is built in one place and
/// run in another, run again, cloned and extended, sent to another thread (`Clone + Send +
/// Sync + 'static`). Made by [`select`]; run by a session: [`Session::all`], [`Session::one`],
/// [`Session::one_or_none`], [`Session::first`], [`Session::count`], [`Session::exists`],
/// [`Session::paginate`], [`Session::update_where`], [`Session::delete_where`].
///
/// ```
/// use orm::prelude::*;
///
/// #[derive(Model, Debug, Clone, PartialEq)]
/// pub struct Task {
///     #[orm(primary_key)]
///     pub id: i64,
///     pub title: String,
///     pub done: bool,
/// }
///
/// /// Built once, with no session: a value like any other.
/// fn open_tasks() -> Select<Task> {
///     select::<Task>().filter(Task::done.eq(false)).order_by(Task::title.asc())
/// }
///
/// # fn main() -> orm::Result<()> {
/// let db = orm::testing::memory_database_with(&[Task::TABLE])?;
/// let mut s = db.session();
/// s.add(Task { title: "write".into(), ..Default::default() });
/// s.add(Task { title: "read".into(), done: true, ..Default::default() });
/// s.commit()?;
///
/// let q = open_tasks();
/// assert_eq!(s.all(&q)?.len(), 1);                 // run it...
/// assert_eq!(s.count(&q)?, 1);                     // ...and again, as it is
/// let first = s.one(&q.clone().limit(1))?;         // or a copy, extended
/// assert_eq!(first.title, "write");
/// assert_eq!(
///     q.to_sql(db.dialect())?.sql,
///     "SELECT \"task\".\"id\", \"task\".\"title\", \"task\".\"done\" FROM \"task\" \
///      WHERE \"task\".\"done\" = ?1 ORDER BY \"task\".\"title\" ASC"
/// );
/// # Ok(()) }
/// ```
pub struct Select<M: Model> {
    stmt: SelectStatement,
    tracking: Tracking,
    loaders: Vec<Arc<dyn LoadPath<M>>>,
    joined: Option<Arc<dyn JoinedLoad<M>>>,
    _marker: PhantomData<fn() -> M>,
}

/// A stand-alone query of every row of model `M`, to narrow with the builder methods of
/// [`Select`] and run with a session's (`s.all(&q)`, `s.one(&q)`, ...). SQLAlchemy 2's
/// `select(User)`; `s.query::<M>()` is the same query bound to a session.
///
/// ```
/// use orm::prelude::*;
///
/// #[derive(Model, Debug, Clone, PartialEq)]
/// pub struct City {
///     #[orm(primary_key)]
///     pub id: i64,
///     pub name: String,
///     pub people: i64,
/// }
///
/// # fn main() -> orm::Result<()> {
/// let db = orm::testing::memory_database_with(&[City::TABLE])?;
/// let mut s = db.session();
/// s.add(City { name: "Lyon".into(), people: 520_000, ..Default::default() });
/// s.add(City { name: "Paris".into(), people: 2_100_000, ..Default::default() });
/// s.commit()?;
///
/// let big = select::<City>().filter(City::people.gt(1_000_000));
/// assert_eq!(s.one(&big)?.name, "Paris");
/// assert_eq!(s.all(&select::<City>())?.len(), 2);
/// # Ok(()) }
/// ```
pub fn select<M: Model>() -> Select<M> {
    Select {
        stmt: select_all_of(M::TABLE),
        tracking: Tracking::Tracked,
        loaders: Vec::new(),
        joined: None,
        _marker: PhantomData,
    }
}

impl<M: Model> Clone for Select<M> {
    fn clone(&self) -> Self {
        Select {
            stmt: self.stmt.clone(),
            tracking: self.tracking,
            loaders: self.loaders.clone(),
            joined: self.joined.clone(),
            _marker: PhantomData,
        }
    }
}

impl<M: Model> std::fmt::Debug for Select<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select")
            .field("model", &M::TABLE.name)
            .field("statement", &self.stmt)
            .field("tracking", &self.tracking)
            .field("load", &self.loaders.len())
            .field("load_joined", &self.joined.is_some())
            .finish()
    }
}

impl<M: Model> Select<M> {
    fn parts(&mut self) -> &mut Self {
        self
    }

    fn add_join(
        &mut self,
        rel: &'static RelationSchema,
        kind: JoinKind,
        alias: Option<&'static str>,
    ) {
        self.stmt.joins.extend(relation_joins(rel, rel.source_table, kind, alias));
    }

    model_builder_methods!();

    /// Selects chosen columns and aggregates instead of whole objects (keeping the filters,
    /// joins, order and limits): `select::<Post>().select((Post::status, count_star()))
    /// .group_by(Post::status)`. Eager loads asked for are dropped: there are no objects.
    pub fn select<S: Selectable>(self, columns: S) -> SelectColumns<S> {
        let mut stmt = self.stmt;
        stmt.columns.clear();
        columns.push_exprs(&mut stmt.columns);
        SelectColumns { stmt, _marker: PhantomData }
    }

    /// The SELECT this query runs (without the statements of eager loads), rendered for
    /// `dialect` (`db.dialect()`), after the check that every column it reads is in the query.
    pub fn to_sql(&self, dialect: &dyn Dialect) -> Result<Rendered> {
        check_in_query(&self.stmt)?;
        dialect.select(&self.stmt)
    }

    /// Runs it (the check, autoflush, one SELECT, eager loads), with `window` overriding its
    /// limit and offset.
    fn rows(&self, session: &mut Session, window: Window) -> Result<Vec<M>> {
        let mut rows = match &self.joined {
            Some(joined) => {
                let stmt = prepare_read(&self.stmt, session, window)?;
                joined.run(session, stmt.into_owned(), self.tracking)?
            }
            None => {
                let (sql, params, joins) = plan_read(&self.stmt, session, window, M::TABLE)?;
                session.load_rows_distinct::<M>(&sql, &params, self.tracking, joins)?
            }
        };
        if !self.loaders.is_empty() {
            let mut refs: Vec<&mut M> = rows.iter_mut().collect();
            for l in &self.loaders {
                match self.tracking {
                    Tracking::Untracked => l.load_into_untracked(session, &mut refs)?,
                    Tracking::Populate => l.load_into_populate(session, &mut refs)?,
                    Tracking::Tracked => l.load_into(session, &mut refs)?,
                }
            }
        }
        Ok(rows)
    }
}

/// Checks a query before it runs, autoflushes, and applies `window`.
fn prepare_read<'q>(
    stmt: &'q SelectStatement,
    session: &mut Session,
    window: Window,
) -> Result<Cow<'q, SelectStatement>> {
    // A plain query of a model reads its own table's columns only: nothing to check.
    if !is_plain(stmt) {
        check_in_query(stmt)?;
    }
    session.autoflush()?;
    Ok(window.apply(stmt))
}

/// The SQL and parameters of a query of `table`'s rows (with no joined eager loads), and
/// whether it joins other tables (then a row can come back once per joined match).
fn plan_read(
    stmt: &SelectStatement,
    session: &mut Session,
    window: Window,
    table: &'static TableSchema,
) -> Result<(Arc<str>, Vec<Value>, bool)> {
    let stmt = prepare_read(stmt, session, window)?;
    if is_plain(&stmt) {
        return Ok((session.select_all_sql(table)?, Vec::new(), false));
    }
    let r = session.engine().dialect().select(&stmt)?;
    Ok((Arc::from(r.sql), r.params, !stmt.joins.is_empty()))
}

/// A limit and offset that replace a query's own for one run (`first`, `one`, `paginate`).
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    limit: Option<u64>,
    offset: Option<u64>,
}

impl Window {
    /// At most `n` rows more than the query's own limit allows (`first`, `one`): a query
    /// limited to 1 row that `one` runs reads that row, not 2.
    fn at_most(stmt: &SelectStatement, n: Option<u64>) -> Window {
        let limit = match (stmt.limit, n) {
            (Some(own), Some(n)) => Some(own.min(n)),
            (own, n) => n.or(own),
        };
        Window { limit, offset: None }
    }

    /// The statement with this window: borrowed when it changes nothing.
    fn apply(self, stmt: &SelectStatement) -> Cow<'_, SelectStatement> {
        if self.limit.is_none() && self.offset.is_none() {
            return Cow::Borrowed(stmt);
        }
        let mut s = stmt.clone();
        if self.limit.is_some() {
            s.limit = self.limit;
        }
        if self.offset.is_some() {
            s.offset = self.offset;
        }
        Cow::Owned(s)
    }
}

/// Whether `stmt` reads every row of its table as is: the SQL rendered once per model serves it.
fn is_plain(stmt: &SelectStatement) -> bool {
    stmt.filter.is_none()
        && stmt.joins.is_empty()
        && stmt.order_by.is_empty()
        && stmt.limit.is_none()
        && stmt.offset.is_none()
        && !stmt.distinct
        && stmt.group_by.is_empty()
        && stmt.having.is_none()
        && matches!(stmt.from, From::Table(_))
}

/// A stand-alone query of chosen columns or aggregates (made by [`Select::select`]), run by
/// [`Session::all`], [`Session::first`], [`Session::one`] or [`Session::one_or_none`]; rows are
/// `S::Output` tuples. `Clone + Send + Sync + 'static` like [`Select`].
///
/// ```
/// use orm::prelude::*;
///
/// #[derive(Model, Debug, Clone, PartialEq)]
/// pub struct Sale {
///     #[orm(primary_key)]
///     pub id: i64,
///     pub shop: String,
///     pub amount: i64,
/// }
///
/// # fn main() -> orm::Result<()> {
/// let db = orm::testing::memory_database_with(&[Sale::TABLE])?;
/// let mut s = db.session();
/// for (shop, amount) in [("a", 5), ("a", 7), ("b", 1)] {
///     s.add(Sale { shop: shop.into(), amount, ..Default::default() });
/// }
/// s.commit()?;
///
/// let per_shop = select::<Sale>()
///     .select((Sale::shop, sum(Sale::amount)))
///     .group_by(Sale::shop)
///     .order_by(Sale::shop.asc());
/// assert_eq!(s.all(&per_shop)?, vec![("a".to_string(), Some(12)), ("b".to_string(), Some(1))]);
/// # Ok(()) }
/// ```
pub struct SelectColumns<S: Selectable> {
    stmt: SelectStatement,
    _marker: PhantomData<fn() -> S>,
}

impl<S: Selectable> Clone for SelectColumns<S> {
    fn clone(&self) -> Self {
        SelectColumns { stmt: self.stmt.clone(), _marker: PhantomData }
    }
}

impl<S: Selectable> std::fmt::Debug for SelectColumns<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelectColumns").field("statement", &self.stmt).finish()
    }
}

impl<S: Selectable> SelectColumns<S> {
    fn parts(&mut self) -> &mut Self {
        self
    }

    column_builder_methods!();

    /// The SELECT this query runs, rendered for `dialect`, after the check that every column it
    /// reads is in the query.
    pub fn to_sql(&self, dialect: &dyn Dialect) -> Result<Rendered> {
        check_in_query(&self.stmt)?;
        dialect.select(&self.stmt)
    }

    fn rows(&self, session: &mut Session, window: Window) -> Result<Vec<S::Output>> {
        check_in_query(&self.stmt)?;
        session.autoflush()?;
        let stmt = window.apply(&self.stmt);
        let r = session.engine().dialect().select(&stmt)?;
        session.fetch(&r.sql, &r.params, &mut |row| S::decode(row, 0))
    }
}

mod sealed {
    /// Keeps [`ReadQuery`](super::ReadQuery) to this crate's query values.
    pub trait Sealed {}
    impl<M: crate::model::Model> Sealed for super::Select<M> {}
    impl<S: crate::expr::Selectable> Sealed for super::SelectColumns<S> {}
}

/// A stand-alone query that reads rows: [`Select<M>`] (rows are `M`) or [`SelectColumns<S>`]
/// (rows are the selected columns' tuple). What [`Session::all`], [`Session::first`],
/// [`Session::one`] and [`Session::one_or_none`] take. Sealed: implemented by this crate only.
pub trait ReadQuery: sealed::Sealed {
    /// What one row reads as.
    type Row;

    /// Runs the query on `session`, at most `limit` rows when given. Not a public API: call
    /// the session's methods.
    #[doc(hidden)]
    fn read_rows(&self, session: &mut Session, limit: Option<u64>) -> Result<Vec<Self::Row>>;

    /// What the query reads, for [`Error::NotFound`] and [`Error::MultipleRows`].
    #[doc(hidden)]
    fn subject(&self) -> &'static str;
}

impl<M: Model> ReadQuery for Select<M> {
    type Row = M;
    fn read_rows(&self, session: &mut Session, limit: Option<u64>) -> Result<Vec<M>> {
        self.rows(session, Window::at_most(&self.stmt, limit))
    }
    fn subject(&self) -> &'static str {
        M::TABLE.name
    }
}

impl<S: Selectable> ReadQuery for SelectColumns<S> {
    type Row = S::Output;
    fn read_rows(&self, session: &mut Session, limit: Option<u64>) -> Result<Vec<S::Output>> {
        self.rows(session, Window::at_most(&self.stmt, limit))
    }
    fn subject(&self) -> &'static str {
        "select"
    }
}

/// Running stand-alone queries ([`Select`], [`SelectColumns`]). Each flushes pending work
/// first (autoflush), and checks before anything runs that every column the query reads is in
/// it (else [`Error::InvalidUse`]). The query is borrowed: run it again, or on another session.
impl Session {
    /// A query over model `M`; `s.query::<M>()` is the short form of running an
    /// [`orm::select::<M>()`](crate::select) value on this session.
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # #[orm(table = "users")]
    /// # pub struct User {
    /// #     #[orm(primary_key)]
    /// #     pub id: i64,
    /// #     pub name: String,
    /// #     pub karma: i32,
    /// #     #[orm(has_many(foreign_key = author_id))]
    /// #     pub posts: Related<Vec<Post>>,
    /// # }
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # #[orm(table = "posts")]
    /// # pub struct Post {
    /// #     #[orm(primary_key)]
    /// #     pub id: i64,
    /// #     #[orm(references = User, on_delete = cascade)]
    /// #     pub author_id: i64,
    /// #     pub title: String,
    /// # }
    /// # fn main() -> orm::Result<()> {
    /// # let db = orm::testing::memory_database_with(&[User::TABLE, Post::TABLE])?;
    /// # let mut s = db.session();
    /// # s.add(User { name: "ann".into(), ..Default::default() });
    /// # s.add(User { name: "bob".into(), ..Default::default() });
    /// # s.commit()?;
    /// let names: Vec<String> = s
    ///     .query::<User>()
    ///     .filter(User::name.ne("bob"))
    ///     .order_by(User::id.asc())
    ///     .all()?
    ///     .into_iter()
    ///     .map(|u| u.name)
    ///     .collect();
    /// assert_eq!(names, ["ann"]);
    /// # Ok(()) }
    /// ```
    pub fn query<M: Model>(&mut self) -> Query<'_, M> {
        Query::new(self)
    }

    /// Every row of `query` (with the relationships it asks for loaded).
    ///
    /// ```
    /// use orm::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// pub struct Pet {
    ///     #[orm(primary_key)]
    ///     pub id: i64,
    ///     pub name: String,
    /// }
    ///
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::testing::memory_database_with(&[Pet::TABLE])?;
    /// let mut s = db.session();
    /// s.add(Pet { name: "Rex".into(), ..Default::default() });
    /// let q = select::<Pet>().order_by(Pet::name.asc());
    /// assert_eq!(s.all(&q)?[0].name, "Rex");       // autoflush: the pending pet is there
    /// # Ok(()) }
    /// ```
    pub fn all<Q: ReadQuery>(&mut self, query: &Q) -> Result<Vec<Q::Row>> {
        query.read_rows(self, None)
    }

    /// The first row of `query`, if any (it runs with `LIMIT 1`).
    ///
    /// ```
    /// use orm::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// pub struct Pet {
    ///     #[orm(primary_key)]
    ///     pub id: i64,
    ///     pub name: String,
    /// }
    ///
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::testing::memory_database_with(&[Pet::TABLE])?;
    /// let mut s = db.session();
    /// let q = select::<Pet>().order_by(Pet::name.asc());
    /// assert_eq!(s.first(&q)?, None);
    /// s.add_all([Pet { name: "Rex".into(), ..Default::default() }, Pet { name: "Ada".into(), ..Default::default() }]);
    /// assert_eq!(s.first(&q)?.map(|p| p.name), Some("Ada".to_string()));
    /// # Ok(()) }
    /// ```
    pub fn first<Q: ReadQuery>(&mut self, query: &Q) -> Result<Option<Q::Row>> {
        Ok(query.read_rows(self, Some(1))?.into_iter().next())
    }

    /// Exactly one row of `query`: none is [`Error::NotFound`], more [`Error::MultipleRows`].
    ///
    /// ```
    /// use orm::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// pub struct Pet {
    ///     #[orm(primary_key)]
    ///     pub id: i64,
    ///     pub name: String,
    /// }
    ///
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::testing::memory_database_with(&[Pet::TABLE])?;
    /// let mut s = db.session();
    /// let rex = select::<Pet>().filter(Pet::name.eq("Rex"));
    /// assert!(matches!(s.one(&rex), Err(Error::NotFound(_))));
    /// s.add(Pet { name: "Rex".into(), ..Default::default() });
    /// assert_eq!(s.one(&rex)?.name, "Rex");
    /// # Ok(()) }
    /// ```
    pub fn one<Q: ReadQuery>(&mut self, query: &Q) -> Result<Q::Row> {
        match self.one_or_none(query)? {
            Some(row) => Ok(row),
            None => Err(Error::NotFound(query.subject().to_owned())),
        }
    }

    /// At most one row of `query`: more is [`Error::MultipleRows`].
    ///
    /// ```
    /// use orm::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// pub struct Pet {
    ///     #[orm(primary_key)]
    ///     pub id: i64,
    ///     pub name: String,
    /// }
    ///
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::testing::memory_database_with(&[Pet::TABLE])?;
    /// let mut s = db.session();
    /// let q = select::<Pet>();
    /// assert_eq!(s.one_or_none(&q)?, None);
    /// s.add_all([Pet { name: "Rex".into(), ..Default::default() }, Pet { name: "Ada".into(), ..Default::default() }]);
    /// assert!(matches!(s.one_or_none(&q), Err(Error::MultipleRows(_))));
    /// # Ok(()) }
    /// ```
    pub fn one_or_none<Q: ReadQuery>(&mut self, query: &Q) -> Result<Option<Q::Row>> {
        let mut rows = query.read_rows(self, Some(2))?;
        if rows.len() > 1 {
            return Err(Error::MultipleRows(query.subject().to_owned()));
        }
        Ok(rows.pop())
    }

    /// The number of rows `query` matches (respecting its limit and offset; each row of `M`
    /// once, however many joined rows matched it).
    ///
    /// ```
    /// use orm::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// pub struct Pet {
    ///     #[orm(primary_key)]
    ///     pub id: i64,
    ///     pub name: String,
    /// }
    ///
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::testing::memory_database_with(&[Pet::TABLE])?;
    /// let mut s = db.session();
    /// s.add_all([Pet { name: "Rex".into(), ..Default::default() }, Pet { name: "Ada".into(), ..Default::default() }]);
    /// assert_eq!(s.count(&select::<Pet>())?, 2);
    /// assert_eq!(s.count(&select::<Pet>().filter(Pet::name.like("R%")))?, 1);
    /// # Ok(()) }
    /// ```
    pub fn count<M: Model>(&mut self, query: &Select<M>) -> Result<u64> {
        check_in_query(&query.stmt)?;
        count_of(self, query.stmt.clone(), M::TABLE)
    }

    /// Whether `query` matches any row (`SELECT EXISTS (...)`).
    ///
    /// ```
    /// use orm::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// pub struct Pet {
    ///     #[orm(primary_key)]
    ///     pub id: i64,
    ///     pub name: String,
    /// }
    ///
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::testing::memory_database_with(&[Pet::TABLE])?;
    /// let mut s = db.session();
    /// let rex = select::<Pet>().filter(Pet::name.eq("Rex"));
    /// assert!(!s.exists(&rex)?);
    /// s.add(Pet { name: "Rex".into(), ..Default::default() });
    /// assert!(s.exists(&rex)?);
    /// # Ok(()) }
    /// ```
    pub fn exists<M: Model>(&mut self, query: &Select<M>) -> Result<bool> {
        exists_of(self, &query.stmt, M::TABLE)
    }

    /// One page of `query`'s rows, like Flask-SQLAlchemy's `paginate`: `page` counts from 1;
    /// the page knows the total (one `COUNT` statement, then the page's SELECT).
    ///
    /// ```
    /// use orm::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// pub struct Pet {
    ///     #[orm(primary_key)]
    ///     pub id: i64,
    ///     pub name: String,
    /// }
    ///
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::testing::memory_database_with(&[Pet::TABLE])?;
    /// let mut s = db.session();
    /// s.add_all(["a", "b", "c"].map(|n| Pet { name: n.into(), ..Default::default() }));
    /// let page = s.paginate(&select::<Pet>().order_by(Pet::name.asc()), 2, 2)?;
    /// assert_eq!((page.total, page.pages(), page.has_next()), (3, 2, false));
    /// assert_eq!(page.items[0].name, "c");
    /// # Ok(()) }
    /// ```
    pub fn paginate<M: Model>(
        &mut self,
        query: &Select<M>,
        page: u64,
        per_page: u64,
    ) -> Result<Page<M>> {
        if page == 0 || per_page == 0 {
            return Err(Error::InvalidUse(format!(
                "paginate needs page >= 1 and per_page >= 1, got page {page}, per_page {per_page}"
            )));
        }
        check_in_query(&query.stmt)?;
        let counted = SelectStatement { order_by: Vec::new(), ..query.stmt.clone() };
        let total = count_of(self, counted, M::TABLE)?;
        let window =
            Window { limit: Some(per_page), offset: Some((page - 1).saturating_mul(per_page)) };
        let items = query.rows(self, window)?;
        Ok(Page { items, page, per_page, total })
    }

    /// Bulk UPDATE of every row `query` matches; returns the number of rows changed. The query
    /// gives filters only (no joins, order or limits: filter on related rows with
    /// [`Relation::any`]). When the session holds rows of `M`, the statement returns the rows
    /// it changed (`RETURNING`, on both backends) and the session takes their new values: later
    /// reads agree with the database, the objects it holds show the new values, and a copy
    /// read before the update never writes an old value back.
    ///
    /// Named `update_where` (and [`delete_where`](Self::delete_where)) because
    /// [`Session::delete`] already deletes one object: both say they act on the rows a query
    /// matches, not on an object.
    ///
    /// ```
    /// use orm::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// pub struct Pet {
    ///     #[orm(primary_key)]
    ///     pub id: i64,
    ///     pub name: String,
    ///     pub age: i32,
    /// }
    ///
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::testing::memory_database_with(&[Pet::TABLE])?;
    /// let mut s = db.session();
    /// s.add_all(["a", "b"].map(|n| Pet { name: n.into(), ..Default::default() }));
    /// let young = select::<Pet>().filter(Pet::age.lt(1));
    /// assert_eq!(s.update_where(&young, [Pet::age.set(1)])?, 2);
    /// assert_eq!(s.count(&young)?, 0);
    /// # Ok(()) }
    /// ```
    pub fn update_where<M: Model>(
        &mut self,
        query: &Select<M>,
        assignments: impl IntoIterator<Item = Assignment>,
    ) -> Result<u64> {
        let Some(update) = bulk_update(&query.stmt, M::TABLE, assignments.into_iter().collect())?
        else {
            return Ok(0);
        };
        let dialect = self.engine().dialect();
        self.autoflush()?;
        if !self.holds_rows(std::any::TypeId::of::<M>()) {
            let r = dialect.update(&update)?;
            return self.write(&r.sql, &r.params);
        }
        // The session holds rows of M: read back the rows changed, to keep its view true.
        let r = dialect.update_returning(&update, &all_columns(M::TABLE))?;
        let mut rows = self.write_returning::<M>(&r.sql, &r.params)?;
        let n = rows.len() as u64;
        let mut erased: Vec<&mut dyn AnyModel> =
            rows.iter_mut().map(|r| r as &mut dyn AnyModel).collect();
        self.sync_updated(&mut erased, set_mask(M::TABLE, &update));
        Ok(n)
    }

    /// Bulk DELETE of every row `query` matches (filters only, as for
    /// [`update_where`](Self::update_where)); returns the number of rows deleted. The session
    /// forgets the rows deleted (read back with `RETURNING` when it holds rows of `M`).
    ///
    /// ```
    /// use orm::prelude::*;
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// pub struct Pet {
    ///     #[orm(primary_key)]
    ///     pub id: i64,
    ///     pub name: String,
    /// }
    ///
    /// # fn main() -> orm::Result<()> {
    /// let db = orm::testing::memory_database_with(&[Pet::TABLE])?;
    /// let mut s = db.session();
    /// s.add_all(["a", "b"].map(|n| Pet { name: n.into(), ..Default::default() }));
    /// assert_eq!(s.delete_where(&select::<Pet>().filter(Pet::name.eq("a")))?, 1);
    /// assert_eq!(s.count(&select::<Pet>())?, 1);
    /// # Ok(()) }
    /// ```
    pub fn delete_where<M: Model>(&mut self, query: &Select<M>) -> Result<u64> {
        let delete = bulk_delete(&query.stmt, M::TABLE)?;
        let dialect = self.engine().dialect();
        self.autoflush()?;
        if !self.holds_rows(std::any::TypeId::of::<M>()) {
            let r = dialect.delete(&delete)?;
            return self.write(&r.sql, &r.params);
        }
        // The session holds rows of M: read back the rows deleted, to forget them.
        let r = dialect.delete_returning(&delete, &all_columns(M::TABLE))?;
        let rows = self.write_returning::<M>(&r.sql, &r.params)?;
        let n = rows.len() as u64;
        let erased: Vec<&dyn AnyModel> = rows.iter().map(|r| r as &dyn AnyModel).collect();
        self.sync_deleted(&erased);
        Ok(n)
    }
}

/// A query over model `M` bound to a session, made by [`Session::query`]: the short form of
/// `s.all(&select::<M>()...)`. Its builder methods are [`Select`]'s, its terminal methods run
/// the session's on the select it holds.
pub struct Query<'s, M: Model> {
    session: &'s mut Session,
    select: Select<M>,
}

impl<'s, M: Model> Query<'s, M> {
    pub(crate) fn new(session: &'s mut Session) -> Self {
        Query { session, select: select::<M>() }
    }

    fn parts(&mut self) -> &mut Select<M> {
        &mut self.select
    }

    model_builder_methods!();

    /// The stand-alone query this one holds, to keep, clone or run elsewhere.
    pub fn into_select(self) -> Select<M> {
        self.select
    }

    /// The SELECT this query runs, rendered for the session's dialect.
    pub fn to_sql(&self) -> Result<Rendered> {
        self.select.to_sql(self.session.engine().dialect())
    }

    /// Every matching row (with the relationships asked for loaded); see [`Session::all`].
    pub fn all(self) -> Result<Vec<M>> {
        self.session.all(&self.select)
    }

    /// The first row, if any; see [`Session::first`].
    pub fn first(self) -> Result<Option<M>> {
        self.session.first(&self.select)
    }

    /// Exactly one row: none is [`Error::NotFound`], more [`Error::MultipleRows`].
    pub fn one(self) -> Result<M> {
        self.session.one(&self.select)
    }

    /// At most one row: more is [`Error::MultipleRows`].
    pub fn one_or_none(self) -> Result<Option<M>> {
        self.session.one_or_none(&self.select)
    }

    /// The number of matching rows (respecting limit and offset; each row of `M` once, however
    /// many joined rows matched it).
    pub fn count(self) -> Result<u64> {
        self.session.count(&self.select)
    }

    /// Whether any row matches.
    pub fn exists(self) -> Result<bool> {
        self.session.exists(&self.select)
    }

    /// One page of results, like Flask-SQLAlchemy's `paginate`: `page` counts from 1.
    pub fn paginate(self, page: u64, per_page: u64) -> Result<Page<M>> {
        self.session.paginate(&self.select, page, per_page)
    }

    /// The database's plan for this query, as text (`EXPLAIN`; on SQLite `EXPLAIN QUERY PLAN`).
    pub fn explain(self) -> Result<String> {
        explain_of(self.session, &self.select.stmt, false)
    }

    /// The plan with real row counts and timings (`EXPLAIN ANALYZE`; runs the query). Not
    /// available on SQLite.
    pub fn explain_analyze(self) -> Result<String> {
        explain_of(self.session, &self.select.stmt, true)
    }

    /// Bulk UPDATE of every matching row; see [`Session::update_where`].
    pub fn update(self, assignments: impl IntoIterator<Item = Assignment>) -> Result<u64> {
        self.session.update_where(&self.select, assignments)
    }

    /// Bulk DELETE of every matching row; see [`Session::delete_where`].
    pub fn delete(self) -> Result<u64> {
        self.session.delete_where(&self.select)
    }

    /// Selects chosen columns and aggregates instead of whole objects:
    /// `.select((Post::status, count_star())).group_by(Post::status).all()`.
    pub fn select<S: Selectable>(self, columns: S) -> SelectQuery<'s, S> {
        SelectQuery { session: self.session, select: self.select.select(columns) }
    }
}

/// A query of chosen columns or aggregates bound to a session, made by [`Query::select`]: a
/// session and a [`SelectColumns`].
pub struct SelectQuery<'s, S: Selectable> {
    session: &'s mut Session,
    select: SelectColumns<S>,
}

impl<S: Selectable> SelectQuery<'_, S> {
    fn parts(&mut self) -> &mut SelectColumns<S> {
        &mut self.select
    }

    column_builder_methods!();

    /// The stand-alone query this one holds.
    pub fn into_select(self) -> SelectColumns<S> {
        self.select
    }

    /// The SELECT this query runs.
    pub fn to_sql(&self) -> Result<Rendered> {
        self.select.to_sql(self.session.engine().dialect())
    }

    /// Every row.
    pub fn all(self) -> Result<Vec<S::Output>> {
        self.session.all(&self.select)
    }

    /// The first row, if any.
    pub fn first(self) -> Result<Option<S::Output>> {
        self.session.first(&self.select)
    }

    /// Exactly one row.
    pub fn one(self) -> Result<S::Output> {
        self.session.one(&self.select)
    }
}

// ----- the checks and bodies every model shares (not generic) ------------------------------

/// The model name registered for `table`, if a model of that table is compiled in.
fn model_of(table: &str) -> Option<&'static str> {
    inventory::iter::<crate::model::ModelEntry>
        .into_iter()
        .find(|e| e.table.name == table)
        .map(|e| e.type_name)
}

/// `User (table "users")`, or `table "reviewer"` for a name no model has (an alias).
fn describe_table(table: &str) -> String {
    match model_of(table) {
        Some(model) => format!("{model} (table \"{table}\")"),
        None => format!("table \"{table}\""),
    }
}

/// Checks that every column `stmt` reads is of a table in it (its FROM table, a joined table
/// or alias); a subquery may also read the tables of the queries around it (correlation).
fn check_in_query(stmt: &SelectStatement) -> Result<()> {
    let mut scope = Vec::new();
    match check_select(stmt, &mut scope) {
        Ok(()) => Ok(()),
        Err((clause, table, column)) => {
            let root = match &stmt.from {
                From::Table(t) | From::TableAs(_, t) | From::Subquery(_, t) => *t,
            };
            Err(Error::InvalidUse(format!(
                "the {clause} reads \"{table}\".\"{column}\", but {} is not in this query of {}; \
                 join it first (join, outer_join or join_from a relationship to it; a table joined \
                 with join_as is read through its alias with Column::of)",
                describe_table(table),
                describe_table(root),
            )))
        }
    }
}

/// The clause, table and column of the first column read from a table not in scope.
type Foreign = (&'static str, &'static str, &'static str);

fn check_select(s: &SelectStatement, scope: &mut Vec<&'static str>) -> Result<(), Foreign> {
    let depth = scope.len();
    let r = (|| {
        match &s.from {
            From::Table(t) | From::TableAs(_, t) => scope.push(t),
            From::Subquery(inner, alias) => {
                check_select(inner, scope)?;
                scope.push(alias);
            }
        }
        for j in &s.joins {
            scope.push(j.alias.unwrap_or(j.table));
            check_expr(&j.on, scope, "join")?;
        }
        for c in &s.columns {
            check_expr(c, scope, "select")?;
        }
        if let Some(f) = &s.filter {
            check_expr(f, scope, "filter")?;
        }
        for g in &s.group_by {
            check_expr(g, scope, "group_by")?;
        }
        if let Some(h) = &s.having {
            check_expr(h, scope, "having")?;
        }
        for o in &s.order_by {
            check_expr(&o.expr, scope, "order_by")?;
        }
        Ok(())
    })();
    scope.truncate(depth);
    r
}

fn check_expr(
    e: &Expr,
    scope: &mut Vec<&'static str>,
    clause: &'static str,
) -> Result<(), Foreign> {
    let all = |es: &[Expr], scope: &mut Vec<&'static str>| {
        es.iter().try_for_each(|e| check_expr(e, scope, clause))
    };
    match e {
        Expr::Column { table, name } => {
            if scope.contains(table) {
                Ok(())
            } else {
                Err((clause, *table, *name))
            }
        }
        Expr::Value(_) | Expr::CountStar | Expr::Int(_) => Ok(()),
        Expr::Binary { left, right, .. } => {
            check_expr(left, scope, clause)?;
            check_expr(right, scope, clause)
        }
        Expr::And(v) | Expr::Or(v) => all(v, scope),
        Expr::Func { args, .. } => all(args, scope),
        Expr::Not(x) | Expr::IsNull { expr: x, .. } | Expr::Cast { expr: x, .. } => {
            check_expr(x, scope, clause)
        }
        Expr::InList { expr, list, .. } => {
            check_expr(expr, scope, clause)?;
            all(list, scope)
        }
        Expr::Between { expr, low, high, .. } => {
            check_expr(expr, scope, clause)?;
            check_expr(low, scope, clause)?;
            check_expr(high, scope, clause)
        }
        Expr::Like { expr, pattern, .. } => {
            check_expr(expr, scope, clause)?;
            check_expr(pattern, scope, clause)
        }
        Expr::Json { expr, arg, .. } | Expr::Array { expr, arg, .. } => {
            check_expr(expr, scope, clause)?;
            check_expr(arg, scope, clause)
        }
        Expr::FullText { document, query, .. } => {
            all(document, scope)?;
            check_expr(query, scope, clause)
        }
        Expr::Exists(sub) => check_select(sub, scope),
    }
}

/// The UPDATE of a bulk update, or `None` when it sets nothing.
fn bulk_update(
    stmt: &SelectStatement,
    table: &'static TableSchema,
    assignments: Vec<Assignment>,
) -> Result<Option<Update>> {
    let set: Vec<(&'static str, Expr)> = assignments
        .into_iter()
        .map(|a| {
            if a.table == table.name {
                Ok((a.column, a.value))
            } else {
                Err(Error::InvalidUse(format!(
                    "cannot set column {}.{} in an update of {}",
                    a.table, a.column, table.name
                )))
            }
        })
        .collect::<Result<_>>()?;
    if set.is_empty() {
        return Ok(None);
    }
    bulk_guard(stmt, "update")?;
    Ok(Some(Update { table: table.name, set, filter: stmt.filter.clone() }))
}

/// The DELETE of a bulk delete.
fn bulk_delete(stmt: &SelectStatement, table: &'static TableSchema) -> Result<Delete> {
    bulk_guard(stmt, "delete")?;
    Ok(Delete { table: table.name, filter: stmt.filter.clone() })
}

/// A bulk write takes the filters of a query, of its own table only.
fn bulk_guard(stmt: &SelectStatement, what: &str) -> Result<()> {
    if stmt.limit.is_some() || stmt.offset.is_some() || !stmt.order_by.is_empty() {
        return Err(Error::InvalidUse(format!(
            "bulk {what} takes filters only, not order_by / limit / offset"
        )));
    }
    if !stmt.joins.is_empty() {
        return Err(Error::InvalidUse(format!(
            "bulk {what} takes filters only, not joins: filter on related rows with \
             Relation::any or Relation::exists"
        )));
    }
    check_in_query(stmt)
}

/// The columns an UPDATE sets, as a mask over `t`'s columns.
fn set_mask(t: &'static TableSchema, update: &Update) -> ColumnMask {
    let mut mask = ColumnMask::empty();
    for (name, _) in &update.set {
        if let Some(i) = t.columns.iter().position(|c| c.name == *name) {
            mask.set(i);
        }
    }
    mask
}

/// `SELECT EXISTS (<stmt>) FROM t LIMIT 1`.
fn exists_of(
    session: &mut Session,
    stmt: &SelectStatement,
    t: &'static TableSchema,
) -> Result<bool> {
    check_in_query(stmt)?;
    let mut inner = stmt.clone();
    inner.columns = vec![Expr::Int(1)];
    inner.order_by.clear();
    let mut outer = SelectStatement::from_table(t.name);
    outer.columns = vec![Expr::Exists(Box::new(inner))];
    outer.limit = Some(1);
    session.autoflush()?;
    let r = session.engine().dialect().select(&outer)?;
    // `SELECT EXISTS (...) FROM t LIMIT 1` returns no row for an empty table.
    let rows = session.fetch(&r.sql, &r.params, &mut |row| {
        crate::connection::decode_at::<bool>(row, 0, "exists")
    })?;
    Ok(rows.first().copied().unwrap_or(false))
}

/// The database's plan for `stmt`.
fn explain_of(session: &mut Session, stmt: &SelectStatement, analyze: bool) -> Result<String> {
    check_in_query(stmt)?;
    session.autoflush()?;
    let dialect = session.engine().dialect();
    let prefix = dialect.explain_prefix(analyze)?;
    let r = dialect.select(stmt)?;
    let sql = format!("{prefix}{}", r.sql);
    let lines = session.fetch(&sql, &r.params, &mut |row| {
        // The plan text is the last column (PostgreSQL has one; SQLite's is `detail`).
        let last = row.len().saturating_sub(1);
        let name = row.column_name(last).unwrap_or("plan").to_owned();
        crate::connection::decode_at::<String>(row, last, &name)
    })?;
    Ok(lines.join("\n"))
}

/// One page of a paginated query.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<M> {
    /// The rows on this page.
    pub items: Vec<M>,
    /// This page's number, from 1.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Rows matching the query on all pages.
    pub total: u64,
}

impl<M> Page<M> {
    /// The number of pages (0 when there are no rows).
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page)
    }
    /// Whether a later page exists.
    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }
    /// Whether an earlier page exists.
    pub fn has_prev(&self) -> bool {
        self.page > 1
    }
    /// The next page's number, if any.
    pub fn next_num(&self) -> Option<u64> {
        self.has_next().then_some(self.page + 1)
    }
    /// The previous page's number, if any.
    pub fn prev_num(&self) -> Option<u64> {
        self.has_prev().then_some(self.page - 1)
    }
}

/// Every column's name, in schema order (what `M::decode` reads).
fn all_columns(t: &'static TableSchema) -> Vec<&'static str> {
    t.columns.iter().map(|c| c.name).collect()
}

/// `SELECT COUNT(*)` of a query of table `t`: over a subquery when it limits, groups or joins
/// (a joined query counts each row of `t` once).
fn count_of(session: &mut Session, s: SelectStatement, t: &'static TableSchema) -> Result<u64> {
    let simple = s.limit.is_none()
        && s.offset.is_none()
        && !s.distinct
        && s.group_by.is_empty()
        && s.joins.is_empty();
    let sel = if simple {
        SelectStatement { columns: vec![Expr::CountStar], order_by: Vec::new(), ..s }
    } else {
        let mut inner = s;
        if !inner.joins.is_empty() {
            inner.distinct = true;
            inner.columns = t
                .primary_key_columns()
                .map(|c| Expr::Column { table: t.name, name: c.name })
                .collect();
            inner.order_by.clear();
        }
        let mut outer = SelectStatement::from_table(t.name);
        outer.from = From::Subquery(Box::new(inner), "counted");
        outer.columns = vec![Expr::CountStar];
        outer
    };
    session.autoflush()?;
    let r = session.engine().dialect().select(&sel)?;
    let rows = session.fetch(&r.sql, &r.params, &mut |row| {
        crate::connection::decode_at::<i64>(row, 0, "count")
    })?;
    let n = rows.first().copied().unwrap_or(0);
    u64::try_from(n).map_err(|_| Error::Decode {
        column: "count".into(),
        expected: "a non-negative count",
        got: n.to_string(),
    })
}

/// The JOINs that follow relationship `rel` from `source` (a table or its alias); the target
/// is joined as `alias` when given.
pub(crate) fn relation_joins(
    rel: &'static RelationSchema,
    source: &'static str,
    kind: JoinKind,
    alias: Option<&'static str>,
) -> Vec<Join> {
    let target = alias.unwrap_or(rel.target_table);
    let named = |on| Join { kind, table: rel.target_table, alias, on };
    match (rel.kind, rel.through) {
        (RelationKind::ManyToMany, Some(t)) => vec![
            Join {
                kind,
                table: t.table,
                alias: None,
                on: join_on(t.table, t.local_columns, source, rel.source_columns),
            },
            named(join_on(target, rel.target_columns, t.table, t.remote_columns)),
        ],
        _ => vec![named(join_on(target, rel.target_columns, source, rel.source_columns))],
    }
}

/// Joined eager loading of one relationship.
trait JoinedLoad<M>: Send + Sync {
    fn run(
        &self,
        session: &mut Session,
        select: SelectStatement,
        tracking: Tracking,
    ) -> Result<Vec<M>>;
}

struct Joined<M, R>(Relation<M, R>);

impl<M: Model, R: Model> JoinedLoad<M> for Joined<M, R> {
    fn run(
        &self,
        session: &mut Session,
        select: SelectStatement,
        tracking: Tracking,
    ) -> Result<Vec<M>> {
        let rel = self.0.schema();
        let target = (rel.target_schema)();
        // A query that joins other tables (to filter on them) can repeat a child once per
        // joined row: each child is then kept once.
        let may_repeat = !select.joins.is_empty();
        // Limits count parent rows: the parent query becomes a subquery named like the table.
        let mut sel = if select.limit.is_some() || select.offset.is_some() {
            let order = select.order_by.clone();
            let mut outer = select_all_of(M::TABLE);
            outer.from = From::Subquery(Box::new(select), M::TABLE_NAME);
            outer.order_by = order;
            outer
        } else {
            select
        };
        // A self-referencing relationship joins its own table again, under an alias.
        let alias = (target.name == M::TABLE_NAME).then_some("orm_joined");
        let tname = alias.unwrap_or(target.name);
        sel.joins.extend(relation_joins(rel, M::TABLE_NAME, JoinKind::Left, alias));
        let width = sel.columns.len();
        sel.columns
            .extend(target.columns.iter().map(|c| Expr::Column { table: tname, name: c.name }));
        // Rows of one parent are adjacent when every sort key before the parent's primary key
        // is a column of the parent: those keys are then equal on all its rows. Otherwise (a
        // sort on a joined table) a parent can come back apart, and is found by its key.
        let adjacent = sel
            .order_by
            .iter()
            .all(|o| matches!(o.expr, Expr::Column { table, .. } if table == M::TABLE_NAME));
        for c in M::TABLE.primary_key_columns() {
            sel.order_by.push(OrderBy {
                expr: Expr::Column { table: M::TABLE_NAME, name: c.name },
                desc: false,
            });
        }
        // Children in key order: an integer key is sorted here, which is the database's order
        // of integers, and spares SQLite a temporary B-tree over the whole result (its scan of
        // the parent's key already gives the parents' order); other keys are sorted by the SQL.
        let child_key = integer_key(target);
        if child_key.is_none() {
            for c in target.primary_key_columns() {
                sel.order_by.push(OrderBy {
                    expr: Expr::Column { table: tname, name: c.name },
                    desc: false,
                });
            }
        }
        let first_key = target.primary_key.first().copied().unwrap_or(0);
        let r = session.engine().dialect().select(&sel)?;
        let mut parents: Vec<M> = Vec::new();
        let mut children: Vec<Vec<R>> = Vec::new();
        let mut grouper = ParentGrouper::<M>::new(adjacent);
        session.fetch(&r.sql, &r.params, &mut |row| {
            let at = grouper.parent_of(row, &mut parents, &mut children)?;
            if !matches!(row.get(width + first_key)?, crate::value::ValueRef::Null) {
                let child = R::decode(row, width)?;
                if let Some(kids) = children.get_mut(at) {
                    kids.push(child);
                }
            }
            Ok(())
        })?;
        drop(grouper);
        if let Some(k) = child_key {
            for kids in &mut children {
                in_integer_key_order(kids, k);
            }
        }
        if may_repeat {
            for kids in &mut children {
                each_once(kids);
            }
        }
        // The session records what it loaded for the objects it tracks only: an untracked read
        // leaves its state as it was (a parent added later has its collection read from the
        // database, as one set by hand).
        let record = rel.kind != RelationKind::BelongsTo && tracking != Tracking::Untracked;
        // A collection is recorded under its parent's values of the relationship's columns (as
        // the flush looks it up).
        let source_idx: Vec<usize> = rel
            .source_columns
            .iter()
            .map(|c| crate::schema::column_index(M::TABLE, c))
            .collect::<Result<_>>()?;
        if record {
            session.reserve_collections(parents.len());
        }
        if tracking != Tracking::Untracked {
            // The identity maps sized once for the whole read, not grown by doubling.
            session.reserve_tracked::<M>(parents.len());
            session.reserve_tracked::<R>(children.iter().map(Vec::len).sum());
        }
        for (p, mut kids) in parents.iter_mut().zip(children) {
            if tracking == Tracking::Untracked {
                // Copies handed out: what tells a stale copy after a bulk update (free until
                // one happened), as for a plain untracked read.
                session.note_handed_out(p);
                for k in &kids {
                    session.note_handed_out(k);
                }
            } else {
                let populate = tracking == Tracking::Populate;
                session.track_with(p, populate)?;
                for k in &mut kids {
                    session.track_with(k, populate)?;
                }
            }
            if record {
                if let Some(parent) = crate::session::values_key(&*p, &source_idx) {
                    let mut child_keys = Vec::with_capacity(kids.len());
                    child_keys
                        .extend(kids.iter().filter_map(|c| c.key().map(|k| MapKey::of::<R>(&k))));
                    session.record_collection(
                        M::TABLE_NAME,
                        parent,
                        rel.name,
                        child_keys,
                        tracking == Tracking::Populate,
                    );
                }
            }
            match (self.0.set_loaded)(p, kids) {
                Err(Error::NotFound(_)) if rel.kind == RelationKind::BelongsTo => {}
                r => r?,
            }
        }
        Ok(parents)
    }
}

/// Finds the parent of each row of a joined load, decoding a parent once: on the first of its
/// rows, or (when the rows of one parent may come apart) on each row, then found by its key.
struct ParentGrouper<M: Model> {
    /// Whether the rows of one parent are adjacent (see [`JoinedLoad::run`]).
    adjacent: bool,
    /// The raw key values of the last parent, when it has a key (adjacent rows).
    last: Vec<Value>,
    last_has_key: bool,
    /// Each parent's place by key (rows that may come apart).
    index: crate::fast::Map<M::Key, usize>,
}

impl<M: Model> ParentGrouper<M> {
    fn new(adjacent: bool) -> Self {
        ParentGrouper {
            adjacent,
            last: Vec::with_capacity(M::TABLE.primary_key.len()),
            last_has_key: false,
            index: crate::fast::Map::default(),
        }
    }

    /// The place in `parents` of the parent of `row` (whose columns start at 0), decoded and
    /// pushed (with an empty list in `children`) when new. A parent without a key (NULL, or a
    /// database-generated key of 0) is new on each row, as it cannot be told apart.
    fn parent_of<R>(
        &mut self,
        row: &dyn crate::connection::Row,
        parents: &mut Vec<M>,
        children: &mut Vec<Vec<R>>,
    ) -> Result<usize> {
        let pk = M::TABLE.primary_key;
        if self.adjacent {
            if self.last_has_key && !parents.is_empty() && self.same_as_last(row, pk)? {
                return Ok(parents.len() - 1);
            }
            let p = M::decode(row, 0)?;
            let key = p.key();
            // The same key read differently (an integer stored as a float, say) is still the
            // same parent.
            if let (Some(k), Some(last)) = (&key, parents.last()) {
                if self.last_has_key && last.key().as_ref() == Some(k) {
                    return Ok(parents.len() - 1);
                }
            }
            self.last.clear();
            self.last_has_key = key.is_some();
            if self.last_has_key {
                for &i in pk {
                    self.last.push(row.get(i)?.to_owned_value());
                }
            }
            parents.push(p);
            // Room for as many children as the parent before had (its rows are all read):
            // parents of one load tend to have alike counts, and a list grown push by push
            // ends up to twice its size.
            children.push(Vec::with_capacity(children.last().map_or(0, Vec::len)));
            return Ok(parents.len() - 1);
        }
        let p = M::decode(row, 0)?;
        if let Some(k) = p.key() {
            match self.index.entry(k) {
                std::collections::hash_map::Entry::Occupied(e) => return Ok(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(parents.len());
                }
            }
        }
        parents.push(p);
        children.push(Vec::new());
        Ok(parents.len() - 1)
    }

    /// Whether `row`'s key columns hold the last parent's key.
    fn same_as_last(&self, row: &dyn crate::connection::Row, pk: &[usize]) -> Result<bool> {
        for (&i, last) in pk.iter().zip(&self.last) {
            let same = match (row.get(i)?, last) {
                (ValueRef::Int(a), Value::Int(b)) => a == *b,
                (ValueRef::Text(a), Value::Text(b)) => a == b,
                (ValueRef::Uuid(a), Value::Uuid(b)) => a == *b,
                (ValueRef::Null, _) => false,
                (v, last) => v.to_owned_value() == *last,
            };
            if !same {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Keeps the first of each child with the same key (in place, order kept).
fn each_once<R: Model>(kids: &mut Vec<R>) {
    if kids.len() < 2 {
        return;
    }
    let mut seen = crate::fast::Set::default();
    kids.retain(|c| c.key().is_none_or(|k| seen.insert(k)));
}

/// The column of `t`'s primary key when it is one integer column.
fn integer_key(t: &'static TableSchema) -> Option<usize> {
    use crate::schema::ColumnType;
    match t.primary_key {
        [one] => t
            .columns
            .get(*one)
            .filter(|c| {
                matches!(c.ty, ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt)
            })
            .map(|_| *one),
        _ => None,
    }
}

/// Sorts objects by their integer key column `col`, stably (they usually come sorted: one pass).
fn in_integer_key_order<R: Model>(objs: &mut [R], col: usize) {
    let key = |r: &R| match r.column_value(col) {
        Value::Int(i) => Some(i),
        _ => None,
    };
    if objs.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
        return;
    }
    objs.sort_by_cached_key(key);
}

impl<M: Model, R: Model> Relation<M, R> {
    /// `EXISTS` a related row matching `cond`: `User::posts.any(Post::status.eq(Published))`,
    /// `Post::author.any(User::username.eq("ann"))`.
    ///
    /// `cond` reads the related row: on a self-referencing relationship
    /// (`Employee::reports.any(Employee::name.eq("ann"))`), the subquery reads the table under
    /// an alias (`orm_any_1`, deeper ones for nested `any`), and `cond`'s columns of the table
    /// are read from it, so the condition is about the related row, never the outer one.
    pub fn any(self, mut cond: Expr) -> Expr {
        let rel = self.schema();
        let mut sub = SelectStatement::from_table(rel.target_table);
        sub.columns = vec![Expr::Int(1)];
        let alias = (rel.target_table == M::TABLE_NAME).then(|| {
            let alias = crate::statement::any_alias(cond.any_alias_depth() + 1);
            cond.retable(rel.target_table, alias);
            alias
        });
        let target = alias.unwrap_or(rel.target_table);
        let (from, correlation) = match (rel.kind, rel.through) {
            (RelationKind::ManyToMany, Some(t)) => {
                sub.joins.push(Join {
                    kind: JoinKind::Inner,
                    table: rel.target_table,
                    alias,
                    on: join_on(target, rel.target_columns, t.table, t.remote_columns),
                });
                (
                    From::Table(t.table),
                    join_on(t.table, t.local_columns, M::TABLE_NAME, rel.source_columns),
                )
            }
            _ => (
                match alias {
                    Some(a) => From::TableAs(rel.target_table, a),
                    None => From::Table(rel.target_table),
                },
                join_on(target, rel.target_columns, M::TABLE_NAME, rel.source_columns),
            ),
        };
        sub.from = from;
        sub.filter = Some(match cond {
            Expr::And(v) if v.is_empty() => correlation,
            c => correlation.and(c),
        });
        Expr::Exists(Box::new(sub))
    }

    /// `EXISTS` any related row.
    pub fn exists(self) -> Expr {
        self.any(Expr::And(Vec::new()))
    }
}
