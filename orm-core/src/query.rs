//! The typed query builder: `session.query::<User>().filter(User::age.gt(30)).all()`. Builder
//! methods take and return `Self`; terminal methods (`all`, `one`, `count`, `paginate`, bulk
//! `update` / `delete`) flush pending work first (autoflush), then run one statement.

use crate::error::{Error, Result};
use crate::expr::{Assignment, Column, IntoTyped, Operand, Selectable};
use crate::loading::LoadPath;
use crate::model::Model;
use crate::relation::{Relation, RelationKind};
use crate::session::{Session, Tracking};
use crate::statement::{
    join_on, select_all_of, Delete, Expr, From, Join, JoinKind, OrderBy, Rendered, Select, Update,
};
use crate::value::KeyValues;
use std::collections::HashMap;
use std::marker::PhantomData;

/// Builder methods shared by [`Query`] and [`SelectQuery`], which both hold a `select`.
macro_rules! paging_methods {
    () => {
        /// Adds a sort key.
        pub fn order_by(mut self, order: OrderBy) -> Self {
            self.select.order_by.push(order);
            self
        }

        /// At most `n` rows.
        pub fn limit(mut self, n: u64) -> Self {
            self.select.limit = Some(n);
            self
        }

        /// Skips the first `n` rows.
        pub fn offset(mut self, n: u64) -> Self {
            self.select.offset = Some(n);
            self
        }
    };
}

/// A query over model `M`, made by [`Session::query`].
pub struct Query<'s, M: Model> {
    session: &'s mut Session,
    select: Select,
    tracking: Tracking,
    loaders: Vec<Box<dyn LoadPath<M>>>,
    joined: Option<Box<dyn JoinedLoad<M>>>,
    _marker: PhantomData<fn() -> M>,
}

impl<'s, M: Model> Query<'s, M> {
    pub(crate) fn new(session: &'s mut Session) -> Self {
        Query {
            session,
            select: select_all_of(M::TABLE),
            tracking: Tracking::Tracked,
            loaders: Vec::new(),
            joined: None,
            _marker: PhantomData,
        }
    }

    /// Eagerly loads a relationship (or a path, `User::posts.then(Post::comments)`) of every
    /// row with one more query per level, whatever the number of rows (SQLAlchemy's
    /// `selectinload`).
    pub fn load(mut self, path: impl LoadPath<M>) -> Self {
        self.loaders.push(Box::new(path));
        self
    }

    /// Eagerly loads one relationship in the same statement, with a LEFT OUTER JOIN
    /// (SQLAlchemy's `joinedload`). A limit or offset applies to the parent rows (the parent
    /// query becomes a subquery). One joined relationship per query; `load` the rest.
    pub fn load_joined<R: Model>(mut self, rel: Relation<M, R>) -> Self {
        self.joined = Some(Box::new(Joined(rel)));
        self
    }

    /// Joins a related table (INNER JOIN), to filter or order on its columns:
    /// `query::<Post>().join(Post::author).filter(User::username.eq("tata"))`. Rows of `M`
    /// come back once each, however many related rows matched.
    pub fn join<R: Model>(self, rel: Relation<M, R>) -> Self {
        self.add_join(rel.schema(), JoinKind::Inner, None)
    }

    /// Joins a related table with LEFT OUTER JOIN (rows without a related row stay).
    pub fn outer_join<R: Model>(self, rel: Relation<M, R>) -> Self {
        self.add_join(rel.schema(), JoinKind::Left, None)
    }

    /// Joins a related table under an alias, for a table joined twice (`author` and
    /// `reviewer`); read its columns with [`Column::of`]: `User::username.of("reviewer")`.
    pub fn join_as<R: Model>(self, rel: Relation<M, R>, alias: &'static str) -> Self {
        self.add_join(rel.schema(), JoinKind::Inner, Some(alias))
    }

    /// [`join_as`](Self::join_as) with LEFT OUTER JOIN.
    pub fn outer_join_as<R: Model>(self, rel: Relation<M, R>, alias: &'static str) -> Self {
        self.add_join(rel.schema(), JoinKind::Left, Some(alias))
    }

    /// Joins a relationship of a table already joined into the query (a second hop:
    /// `.join(Post::author).join_from(User::profile)`).
    pub fn join_from<S: Model, R: Model>(self, rel: Relation<S, R>) -> Self {
        self.add_join(rel.schema(), JoinKind::Inner, None)
    }

    fn add_join(
        mut self,
        rel: &'static crate::relation::RelationSchema,
        kind: JoinKind,
        alias: Option<&'static str>,
    ) -> Self {
        self.select.joins.extend(relation_joins(rel, rel.source_table, kind, alias));
        self
    }

    /// Keeps rows matching `cond` (AND-ed with earlier filters).
    pub fn filter(mut self, cond: Expr) -> Self {
        self.select.and_where(cond);
        self
    }

    /// Keeps rows whose `column` equals `value` (SQLAlchemy's `filter_by`).
    pub fn filter_by<T>(self, column: Column<M, T>, value: impl Operand<T>) -> Self {
        self.filter(column.eq(value))
    }

    paging_methods!();

    /// Reads without recording snapshots in the identity map: the fastest read, for rows that
    /// will not be changed and added back (adding one back later is treated as a new object).
    pub fn untracked(mut self) -> Self {
        self.tracking = Tracking::Untracked;
        self
    }

    /// Reads the rows' values from the database even for rows the session already holds,
    /// and makes them the session's state (SQLAlchemy's `populate_existing`). Without it a
    /// row the session knows comes back as the session knows it: one state per identity.
    /// Objects the session holds (`get_mut`, handles) take the new values too; a copy read
    /// before keeps its old ones, which are then not written back unless changed.
    pub fn populate_existing(mut self) -> Self {
        self.tracking = Tracking::Populate;
        self
    }

    /// The SELECT this query runs, rendered for the session's dialect.
    pub fn to_sql(&self) -> Result<Rendered> {
        self.session.engine().dialect().select(&self.select)
    }

    /// Every matching row (with the relationships asked for loaded).
    pub fn all(self) -> Result<Vec<M>> {
        self.session.autoflush()?;
        let mut rows = if let Some(joined) = &self.joined {
            joined.run(self.session, self.select, self.tracking)?
        } else {
            let plain = self.select.filter.is_none()
                && self.select.joins.is_empty()
                && self.select.order_by.is_empty()
                && self.select.limit.is_none()
                && self.select.offset.is_none();
            if plain {
                let sql = self.session.select_all_sql::<M>()?;
                self.session.load_rows::<M>(&sql, &[], self.tracking)?
            } else {
                let joins = !self.select.joins.is_empty();
                let r = self.session.engine().dialect().select(&self.select)?;
                let rows = self.session.load_rows::<M>(&r.sql, &r.params, self.tracking)?;
                if joins {
                    dedupe(rows)
                } else {
                    rows
                }
            }
        };
        if !self.loaders.is_empty() {
            let mut refs: Vec<&mut M> = rows.iter_mut().collect();
            for l in &self.loaders {
                l.load_into(self.session, &mut refs)?;
            }
        }
        Ok(rows)
    }

    /// The first row, if any.
    pub fn first(mut self) -> Result<Option<M>> {
        self.select.limit = Some(1);
        Ok(self.all()?.into_iter().next())
    }

    /// Exactly one row: none is [`Error::NotFound`], more [`Error::MultipleRows`].
    pub fn one(self) -> Result<M> {
        match self.one_or_none()? {
            Some(m) => Ok(m),
            None => Err(Error::NotFound(M::TABLE.name.to_owned())),
        }
    }

    /// At most one row: more is [`Error::MultipleRows`].
    pub fn one_or_none(mut self) -> Result<Option<M>> {
        self.select.limit = Some(2);
        let mut rows = self.all()?;
        if rows.len() > 1 {
            return Err(Error::MultipleRows(M::TABLE.name.to_owned()));
        }
        Ok(rows.pop())
    }

    /// The number of matching rows (respecting limit and offset; each row of `M` once, however
    /// many joined rows matched it).
    pub fn count(self) -> Result<u64> {
        count_of::<M>(self.session, self.select)
    }

    /// Whether any row matches.
    pub fn exists(self) -> Result<bool> {
        let mut inner = self.select;
        inner.columns = vec![Expr::Int(1)];
        inner.order_by.clear();
        let mut outer = Select::from_table(M::TABLE.name);
        outer.columns = vec![Expr::Exists(Box::new(inner))];
        outer.from = From::Table(M::TABLE.name);
        outer.limit = Some(1);
        self.session.autoflush()?;
        let r = self.session.engine().dialect().select(&outer)?;
        // `SELECT EXISTS (...) FROM t LIMIT 1` returns no row for an empty table.
        let rows = self.session.fetch(&r.sql, &r.params, &mut |row| {
            crate::connection::decode_at::<bool>(row, 0, "exists")
        })?;
        Ok(rows.first().copied().unwrap_or(false))
    }

    /// One page of results, like Flask-SQLAlchemy's `paginate`: `page` counts from 1.
    pub fn paginate(self, page: u64, per_page: u64) -> Result<Page<M>> {
        if page == 0 || per_page == 0 {
            return Err(Error::InvalidUse(format!(
                "paginate needs page >= 1 and per_page >= 1, got page {page}, per_page {per_page}"
            )));
        }
        let count_sel = Select { order_by: Vec::new(), ..self.select.clone() };
        let total = count_of::<M>(self.session, count_sel)?;
        let items = self.limit(per_page).offset((page - 1).saturating_mul(per_page)).all()?;
        Ok(Page { items, page, per_page, total })
    }

    /// The database's plan for this query, as text (`EXPLAIN`; on SQLite `EXPLAIN QUERY PLAN`).
    pub fn explain(self) -> Result<String> {
        self.explain_with(false)
    }

    /// The plan with real row counts and timings (`EXPLAIN ANALYZE`; runs the query). Not
    /// available on SQLite.
    pub fn explain_analyze(self) -> Result<String> {
        self.explain_with(true)
    }

    fn explain_with(self, analyze: bool) -> Result<String> {
        self.session.autoflush()?;
        let dialect = self.session.engine().dialect();
        let prefix = dialect.explain_prefix(analyze)?;
        let r = dialect.select(&self.select)?;
        let sql = format!("{prefix}{}", r.sql);
        let lines = self.session.fetch(&sql, &r.params, &mut |row| {
            // The plan text is the last column (PostgreSQL has one; SQLite's is `detail`).
            let last = row.len().saturating_sub(1);
            let name = row.column_name(last).unwrap_or("plan").to_owned();
            crate::connection::decode_at::<String>(row, last, &name)
        })?;
        Ok(lines.join("\n"))
    }

    /// Bulk UPDATE of every matching row; returns the number of rows changed. When the session
    /// holds rows of `M`, the statement returns the rows it changed (`RETURNING`, on both
    /// backends) and the session takes their new values: later reads agree with the database,
    /// the objects it holds show the new values, and a copy read before the update never writes
    /// an old value back.
    pub fn update(self, assignments: impl IntoIterator<Item = Assignment>) -> Result<u64> {
        let set: Vec<(&'static str, Expr)> = assignments
            .into_iter()
            .map(|a| {
                if a.table == M::TABLE.name {
                    Ok((a.column, a.value))
                } else {
                    Err(Error::InvalidUse(format!(
                        "cannot set column {}.{} in an update of {}",
                        a.table,
                        a.column,
                        M::TABLE.name
                    )))
                }
            })
            .collect::<Result<_>>()?;
        if set.is_empty() {
            return Ok(0);
        }
        self.bulk_guard("update")?;
        let update = Update { table: M::TABLE.name, set, filter: self.select.filter };
        let dialect = self.session.engine().dialect();
        self.session.autoflush()?;
        if !self.session.holds_rows_of::<M>() {
            let r = dialect.update(&update)?;
            return self.session.write(&r.sql, &r.params);
        }
        // The session holds rows of M: read back the rows changed, to keep its view true.
        let r = dialect.update_returning(&update, &all_columns(M::TABLE))?;
        let rows = self.session.write_returning::<M>(&r.sql, &r.params)?;
        let n = rows.len() as u64;
        let mut mask = crate::model::ColumnMask::empty();
        for (name, _) in &update.set {
            if let Some(i) = M::TABLE.columns.iter().position(|c| c.name == *name) {
                mask.set(i);
            }
        }
        self.session.sync_updated(rows, mask);
        Ok(n)
    }

    /// Bulk DELETE of every matching row; returns the number of rows deleted. The session forgets
    /// the rows deleted (read back with `RETURNING` when it holds rows of `M`).
    pub fn delete(self) -> Result<u64> {
        self.bulk_guard("delete")?;
        let delete = Delete { table: M::TABLE.name, filter: self.select.filter };
        let dialect = self.session.engine().dialect();
        self.session.autoflush()?;
        if !self.session.holds_rows_of::<M>() {
            let r = dialect.delete(&delete)?;
            return self.session.write(&r.sql, &r.params);
        }
        // The session holds rows of M: read back the rows deleted, to forget them.
        let r = dialect.delete_returning(&delete, &all_columns(M::TABLE))?;
        let rows = self.session.write_returning::<M>(&r.sql, &r.params)?;
        let n = rows.len() as u64;
        self.session.sync_deleted(rows);
        Ok(n)
    }

    fn bulk_guard(&self, what: &str) -> Result<()> {
        if self.select.limit.is_some()
            || self.select.offset.is_some()
            || !self.select.order_by.is_empty()
        {
            return Err(Error::InvalidUse(format!(
                "bulk {what} takes filters only, not order_by / limit / offset"
            )));
        }
        Ok(())
    }

    /// Selects chosen columns and aggregates instead of whole objects:
    /// `.select((Post::status, count_star())).group_by(Post::status).all()`.
    pub fn select<S: Selectable>(mut self, columns: S) -> SelectQuery<'s, S> {
        let mut exprs = Vec::new();
        columns.push_exprs(&mut exprs);
        self.select.columns = exprs;
        SelectQuery { session: self.session, select: self.select, _marker: PhantomData }
    }
}

/// A query of chosen columns or aggregates, made by [`Query::select`].
pub struct SelectQuery<'s, S: Selectable> {
    session: &'s mut Session,
    select: Select,
    _marker: PhantomData<fn() -> S>,
}

impl<S: Selectable> SelectQuery<'_, S> {
    /// Keeps rows matching `cond`.
    pub fn filter(mut self, cond: Expr) -> Self {
        self.select.and_where(cond);
        self
    }

    /// Groups rows by `expr`.
    pub fn group_by<T>(mut self, expr: impl IntoTyped<T>) -> Self {
        self.select.group_by.push(expr.into_untyped());
        self
    }

    /// Keeps groups matching `cond` (e.g. `count_star().gt(1)`).
    pub fn having(mut self, cond: Expr) -> Self {
        self.select.having = Some(match self.select.having.take() {
            Some(h) => h.and(cond),
            None => cond,
        });
        self
    }

    paging_methods!();

    /// Only distinct rows.
    pub fn distinct(mut self) -> Self {
        self.select.distinct = true;
        self
    }

    /// The SELECT this query runs.
    pub fn to_sql(&self) -> Result<Rendered> {
        self.session.engine().dialect().select(&self.select)
    }

    /// Every row.
    pub fn all(self) -> Result<Vec<S::Output>> {
        self.session.autoflush()?;
        let r = self.session.engine().dialect().select(&self.select)?;
        self.session.fetch(&r.sql, &r.params, &mut |row| S::decode(row, 0))
    }

    /// The first row, if any.
    pub fn first(mut self) -> Result<Option<S::Output>> {
        self.select.limit = Some(1);
        Ok(self.all()?.into_iter().next())
    }

    /// Exactly one row.
    pub fn one(mut self) -> Result<S::Output> {
        self.select.limit = Some(2);
        let mut rows = self.all()?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            0 => Err(Error::NotFound("select".into())),
            _ => Err(Error::MultipleRows("select".into())),
        }
    }
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
fn all_columns(t: &'static crate::schema::TableSchema) -> Vec<&'static str> {
    t.columns.iter().map(|c| c.name).collect()
}

/// `SELECT COUNT(*)` of a query of `M`: over a subquery when it limits, groups or joins (a
/// joined query counts each row of `M` once).
fn count_of<M: Model>(session: &mut Session, s: Select) -> Result<u64> {
    let simple = s.limit.is_none()
        && s.offset.is_none()
        && !s.distinct
        && s.group_by.is_empty()
        && s.joins.is_empty();
    let sel = if simple {
        Select { columns: vec![Expr::CountStar], order_by: Vec::new(), ..s }
    } else {
        let mut inner = s;
        if !inner.joins.is_empty() {
            inner.distinct = true;
            inner.columns = M::TABLE
                .primary_key_columns()
                .map(|c| Expr::Column { table: M::TABLE_NAME, name: c.name })
                .collect();
            inner.order_by.clear();
        }
        let mut outer = Select::from_table(M::TABLE.name);
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

/// Keeps the first of each row with the same key (a to-many join repeats its parent).
fn dedupe<M: Model>(rows: Vec<M>) -> Vec<M> {
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|r| match r.key() {
            Some(k) => seen.insert(k),
            None => true,
        })
        .collect()
}

/// The JOINs that follow relationship `rel` from `source` (a table or its alias); the target
/// is joined as `alias` when given.
pub(crate) fn relation_joins(
    rel: &'static crate::relation::RelationSchema,
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
    fn run(&self, session: &mut Session, select: Select, tracking: Tracking) -> Result<Vec<M>>;
}

struct Joined<M, R>(Relation<M, R>);

impl<M: Model, R: Model> JoinedLoad<M> for Joined<M, R> {
    fn run(&self, session: &mut Session, select: Select, tracking: Tracking) -> Result<Vec<M>> {
        let rel = self.0.schema();
        let target = (rel.target_schema)();
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
        for c in M::TABLE.primary_key_columns() {
            sel.order_by.push(OrderBy {
                expr: Expr::Column { table: M::TABLE_NAME, name: c.name },
                desc: false,
            });
        }
        for c in target.primary_key_columns() {
            sel.order_by
                .push(OrderBy { expr: Expr::Column { table: tname, name: c.name }, desc: false });
        }
        let first_key = target.primary_key.first().copied().unwrap_or(0);
        let r = session.engine().dialect().select(&sel)?;
        let pairs = session.fetch(&r.sql, &r.params, &mut |row| {
            let parent = M::decode(row, 0)?;
            let child = match row.get(width + first_key)? {
                crate::value::ValueRef::Null => None,
                _ => Some(R::decode(row, width)?),
            };
            Ok((parent, child))
        })?;
        let mut parents: Vec<M> = Vec::new();
        let mut children: Vec<Vec<R>> = Vec::new();
        let mut index: HashMap<KeyValues, usize> = HashMap::new();
        for (p, c) in pairs {
            let key = p.key().map(|k| KeyValues(M::key_values(&k)));
            let at = match key.as_ref().and_then(|k| index.get(k)) {
                Some(&i) => i,
                None => {
                    if let Some(k) = key {
                        index.insert(k, parents.len());
                    }
                    parents.push(p);
                    children.push(Vec::new());
                    parents.len() - 1
                }
            };
            if let Some(c) = c {
                children[at].push(c);
            }
        }
        for (p, mut kids) in parents.iter_mut().zip(children) {
            if tracking != Tracking::Untracked {
                let populate = tracking == Tracking::Populate;
                session.track_with(p, populate);
                for k in &mut kids {
                    session.track_with(k, populate);
                }
            }
            if rel.kind != RelationKind::BelongsTo {
                if let Some(k) = p.key() {
                    let child_keys =
                        kids.iter().filter_map(|c| c.key().map(|k| R::key_values(&k))).collect();
                    session.record_collection(
                        M::TABLE_NAME,
                        M::key_values(&k),
                        rel.name,
                        child_keys,
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

impl<M: Model, R: Model> Relation<M, R> {
    /// `EXISTS` a related row matching `cond`: `User::posts.any(Post::status.eq(Published))`,
    /// `Post::author.any(User::username.eq("ann"))`.
    pub fn any(self, cond: Expr) -> Expr {
        let rel = self.schema();
        let mut sub = Select::from_table(rel.target_table);
        sub.columns = vec![Expr::Int(1)];
        let (from, correlation) = match (rel.kind, rel.through) {
            (RelationKind::ManyToMany, Some(t)) => {
                sub.joins.push(Join {
                    kind: JoinKind::Inner,
                    table: rel.target_table,
                    alias: None,
                    on: join_on(rel.target_table, rel.target_columns, t.table, t.remote_columns),
                });
                (t.table, join_on(t.table, t.local_columns, M::TABLE_NAME, rel.source_columns))
            }
            _ => (
                rel.target_table,
                join_on(rel.target_table, rel.target_columns, M::TABLE_NAME, rel.source_columns),
            ),
        };
        sub.from = From::Table(from);
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
