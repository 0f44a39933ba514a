//! Loading relationships without N+1: a relationship of a whole slice of objects is loaded with
//! ONE query (`IN (...)` on the keys, SQLAlchemy's "selectin"), nested paths
//! (`User::posts.then(Post::comments)`) with one query per level, and explicitly for one object
//! (`session.load_related(&mut user, User::posts)`). Joined eager loading lives in the query
//! builder (`Query::load_joined`).

use crate::connection::Row;
use crate::error::{Error, Result};
use crate::model::{MapKey, Model};
use crate::relation::{Relation, RelationKind};
use crate::schema::column_index;
use crate::session::{values_at, Session, Tracking};
use crate::statement::{join_on, keys_in, select_all_of, Expr, Join, JoinKind};
use crate::value::{key_order, typed_key, KeyValues, Value};

/// How many parent keys one IN list carries; more parents take more queries.
const KEYS_PER_QUERY: usize = 5000;

/// Something that loads relationships into a slice of `M`: a [`Relation`], or a path of them
/// made with [`Relation::then`].
pub trait LoadPath<M: Model>: Send + Sync + 'static {
    /// Loads into every parent, in as few queries as the path has levels.
    fn load_into(&self, session: &mut Session, parents: &mut [&mut M]) -> Result<()>;

    /// [`load_into`](Self::load_into) for an `untracked()` query: the targets are read
    /// untracked too, and do not enter the identity map. Not meant to be called by hand.
    #[doc(hidden)]
    fn load_into_untracked(&self, session: &mut Session, parents: &mut [&mut M]) -> Result<()> {
        self.load_into(session, parents)
    }

    /// [`load_into`](Self::load_into) for a `populate_existing()` query: the targets take the
    /// database's values, and each collection the database's list. Not meant to be called by
    /// hand.
    #[doc(hidden)]
    fn load_into_populate(&self, session: &mut Session, parents: &mut [&mut M]) -> Result<()> {
        self.load_into(session, parents)
    }
}

impl<M: Model, R: Model> LoadPath<M> for Relation<M, R> {
    fn load_into(&self, session: &mut Session, parents: &mut [&mut M]) -> Result<()> {
        select_in(session, *self, parents, Tracking::Tracked)
    }
    fn load_into_untracked(&self, session: &mut Session, parents: &mut [&mut M]) -> Result<()> {
        select_in(session, *self, parents, Tracking::Untracked)
    }
    fn load_into_populate(&self, session: &mut Session, parents: &mut [&mut M]) -> Result<()> {
        select_in(session, *self, parents, Tracking::Populate)
    }
}

/// A relationship followed by a path from its targets: `User::posts.then(Post::comments)`.
pub struct Then<M, R, B> {
    first: Relation<M, R>,
    next: B,
}

impl<M: Model, R: Model, B: LoadPath<R>> LoadPath<M> for Then<M, R, B> {
    fn load_into(&self, session: &mut Session, parents: &mut [&mut M]) -> Result<()> {
        self.first.load_into(session, parents)?;
        let mut children = self.targets(parents);
        self.next.load_into(session, &mut children)
    }
    fn load_into_untracked(&self, session: &mut Session, parents: &mut [&mut M]) -> Result<()> {
        self.first.load_into_untracked(session, parents)?;
        let mut children = self.targets(parents);
        self.next.load_into_untracked(session, &mut children)
    }
    fn load_into_populate(&self, session: &mut Session, parents: &mut [&mut M]) -> Result<()> {
        self.first.load_into_populate(session, parents)?;
        let mut children = self.targets(parents);
        self.next.load_into_populate(session, &mut children)
    }
}

impl<M: Model, R: Model, B> Then<M, R, B> {
    /// The targets the first relationship loaded, of every parent.
    fn targets<'p>(&self, parents: &'p mut [&mut M]) -> Vec<&'p mut R> {
        let mut children: Vec<&mut R> = Vec::new();
        for p in parents.iter_mut() {
            if let Some(loaded) = (self.first.loaded_mut)(p) {
                children.extend(loaded.iter_mut());
            }
        }
        children
    }
}

impl<M: Model, R: Model> Relation<M, R> {
    /// This relationship, then `next` from each of its targets.
    pub fn then<B: LoadPath<R>>(self, next: B) -> Then<M, R, B> {
        Then { first: self, next }
    }
}

/// Loads relationship `rel` of every parent with one query per [`KEYS_PER_QUERY`] keys.
pub(crate) fn select_in<M: Model, R: Model>(
    session: &mut Session,
    rel: Relation<M, R>,
    parents: &mut [&mut M],
    tracking: Tracking,
) -> Result<()> {
    let schema = rel.schema();
    let target = (schema.target_schema)();
    let source_idx: Vec<usize> =
        schema.source_columns.iter().map(|c| column_index(M::TABLE, c)).collect::<Result<_>>()?;
    let parent_keys: Vec<Option<KeyValues>> =
        parents.iter().map(|p| values_at(&**p, &source_idx).map(KeyValues)).collect();
    // Each key once, in the parents' order, numbered (its group); hashed, so a key costs the
    // same however many parents there are.
    let mut group_of: crate::fast::Map<&KeyValues, usize> =
        crate::fast::Map::with_capacity_and_hasher(parent_keys.len(), Default::default());
    let mut distinct: Vec<&[Value]> = Vec::with_capacity(parent_keys.len());
    let parent_group: Vec<Option<usize>> = parent_keys
        .iter()
        .map(|k| {
            let k = k.as_ref()?;
            Some(*group_of.entry(k).or_insert_with(|| {
                distinct.push(k.0.as_slice());
                distinct.len() - 1
            }))
        })
        .collect();
    // The group of a target's key (read into one reused buffer: no allocation per target).
    let mut buf = KeyValues(Vec::with_capacity(source_idx.len()));
    let mut group_by_values = |values: &mut dyn Iterator<Item = Value>| -> Option<usize> {
        buf.0.clear();
        buf.0.extend(values);
        if buf.0.contains(&Value::Null) {
            return None;
        }
        group_of.get(&buf).copied()
    };

    // Each group's targets (the targets of one distinct parent key), pushed as they are read.
    // A group's list starts with room for the mean count of the groups before it: parents of
    // one load tend to have alike counts, and a list grown push by push ends up to twice its
    // size.
    let mut groups: Vec<Vec<R>> = std::iter::repeat_with(Vec::new).take(distinct.len()).collect();
    let (mut pushed, mut started) = (0usize, 0usize);
    let mut push = |groups: &mut Vec<Vec<R>>, g: usize, r: R| {
        let Some(targets) = groups.get_mut(g) else { return };
        if targets.capacity() == 0 {
            targets.reserve(pushed.div_ceil(started.max(1)));
            started += 1;
        }
        targets.push(r);
        pushed += 1;
    };
    for chunk in distinct.chunks(KEYS_PER_QUERY) {
        match schema.kind {
            RelationKind::BelongsTo | RelationKind::HasOne | RelationKind::HasMany => {
                let mut sel = select_all_of(target);
                sel.filter = Some(keys_in(target.name, schema.target_columns, chunk));
                let r = session.engine().dialect().select(&sel)?;
                let target_idx: Vec<usize> = schema
                    .target_columns
                    .iter()
                    .map(|c| column_index(R::TABLE, c))
                    .collect::<Result<_>>()?;
                // Tracked below, all chunks' rows at once.
                session.decode_each::<R>(&r.sql, &r.params, &mut |row| {
                    let g = group_by_values(&mut target_idx.iter().map(|&i| row.column_value(i)));
                    if let Some(g) = g {
                        push(&mut groups, g, row);
                    }
                })?;
            }
            RelationKind::ManyToMany => {
                let through = schema.through.ok_or_else(|| {
                    Error::InvalidUse(format!("many_to_many {} has no through table", schema.name))
                })?;
                let mut sel = select_all_of(target);
                sel.joins.push(Join {
                    kind: JoinKind::Inner,
                    table: through.table,
                    alias: None,
                    on: join_on(
                        through.table,
                        through.remote_columns,
                        target.name,
                        schema.target_columns,
                    ),
                });
                for c in through.local_columns {
                    sel.columns.push(Expr::Column { table: through.table, name: c });
                }
                sel.filter = Some(keys_in(through.table, through.local_columns, chunk));
                let r = session.engine().dialect().select(&sel)?;
                let width = R::TABLE.columns.len();
                let nkeys = through.local_columns.len();
                let types: Vec<crate::schema::ColumnType> = source_idx
                    .iter()
                    .filter_map(|&i| M::TABLE.columns.get(i))
                    .map(|c| c.ty)
                    .collect();
                let rows = session.fetch(&r.sql, &r.params, &mut |row: &dyn Row| {
                    let obj = R::decode(row, 0)?;
                    let key = (width..width + nkeys)
                        .map(|i| row.get(i).map(|v| v.to_owned_value()))
                        .collect::<Result<Vec<Value>>>()?;
                    Ok((typed_key(key, &types), obj))
                })?;
                for (key, obj) in rows {
                    if let Some(g) = group_by_values(&mut key.into_iter()) {
                        push(&mut groups, g, obj);
                    }
                }
            }
        }
    }
    drop(group_of);
    drop(distinct);

    // The targets of every chunk tracked at once: the identity map grows once for the whole
    // load (a target several parents share is found in the map after its first sighting).
    // Only targets that belong to a parent were kept, and so are tracked.
    if tracking != Tracking::Untracked {
        session.reserve_tracked::<R>(pushed);
    }
    for targets in &mut groups {
        session.track_loaded(targets, tracking)?;
    }

    // Each parent's targets in primary-key order, the same on every backend. The query itself
    // has no ORDER BY: on PostgreSQL one made the cached statement's generic plan (chosen after
    // five runs) sort the table and test every row against the whole key array, one element
    // at a time, where the plan for the keys at hand hashes them.
    for targets in &mut groups {
        in_key_order(targets);
    }

    // Plain structs: each parent owns its targets, so the targets of a key several parents
    // share (a belongs_to) are copied from their snapshots for all but the last of them.
    let mut uses = vec![0usize; groups.len()];
    for &g in parent_group.iter().flatten() {
        if let Some(u) = uses.get_mut(g) {
            *u += 1;
        }
    }
    // Collections are recorded for tracked parents only (an untracked read leaves the
    // session's state as it was).
    let record = (schema.kind.is_many() || schema.kind == RelationKind::HasOne)
        && tracking != Tracking::Untracked;
    if record {
        session.reserve_collections(parents.len());
    }
    let mut take = |g: usize| -> Vec<R> {
        let (Some(left), Some(targets)) = (uses.get_mut(g), groups.get_mut(g)) else {
            return Vec::new();
        };
        *left = left.saturating_sub(1);
        if *left == 0 {
            std::mem::take(targets)
        } else {
            targets.iter().map(|r| R::from_snapshot(&r.snapshot())).collect()
        }
    };
    for ((parent, key), group) in parents.iter_mut().zip(parent_keys).zip(parent_group) {
        let targets: Vec<R> = group.map(&mut take).unwrap_or_default();
        let has_key = key.is_some();
        if record {
            if let Some(k) = key {
                let mut child_keys = Vec::with_capacity(targets.len());
                child_keys
                    .extend(targets.iter().filter_map(|t| t.key().map(|k| MapKey::of::<R>(&k))));
                let populate = tracking == Tracking::Populate;
                let parent = MapKey::from_values(k.0);
                session.record_collection(M::TABLE_NAME, parent, schema.name, child_keys, populate);
            }
        }
        if targets.is_empty() && schema.kind == RelationKind::BelongsTo && !has_key {
            // A NULL foreign key: nothing to load (an Option target becomes None).
            (rel.set_loaded)(&mut **parent, targets).or_else(|e| match e {
                Error::NotFound(_) => Ok(()),
                e => Err(e),
            })?;
            continue;
        }
        (rel.set_loaded)(&mut **parent, targets)?;
    }
    Ok(())
}

/// Sorts one parent's loaded targets by their primary key ([`key_order`]), stably (a target
/// listed twice keeps both places). Targets that came in key order (the usual case for an
/// integer key on SQLite) are left as they are after one pass.
fn in_key_order<R: Model>(found: &mut Vec<R>) {
    let pk = R::TABLE.primary_key;
    let width = pk.len();
    if width == 0 || found.len() < 2 {
        return;
    }
    // Already in order (one pass over neighbours, nothing allocated for an integer key; this
    // runs once per parent): nothing to do.
    let neighbours_in_order = found.windows(2).all(|w| {
        pk.iter()
            .map(|&c| key_order(&w[0].column_value(c), &w[1].column_value(c)))
            .find(|o| o.is_ne())
            .is_none_or(|o| o.is_lt())
    });
    if neighbours_in_order {
        return;
    }
    // The key values of target i at keys[i * width..(i + 1) * width]: one allocation.
    let mut keys: Vec<Value> = Vec::with_capacity(found.len().saturating_mul(width));
    keys.extend(found.iter().flat_map(|r| pk.iter().map(|&c| r.column_value(c))));
    let key = |i: usize| keys.get(i * width..(i + 1) * width).unwrap_or(&[]);
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&a, &b| keys_order(key(a), key(b)));
    let mut slots: Vec<Option<R>> = std::mem::take(found).into_iter().map(Some).collect();
    found.extend(order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)));
}

/// Two primary keys' order, column by column ([`key_order`]).
fn keys_order(a: &[Value], b: &[Value]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| key_order(x, y))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

// Explicit lazy loading is offered on the session from here: `session` knows nothing of loading
// paths (no import cycle between the two modules).
impl Session {
    /// Loads relationship `rel` (or a path of them) of one object, with one query per level
    /// (explicit lazy loading): `s.load_related(&mut user, User::posts)?`. See the `orm`
    /// crate's `relationships` guide for more.
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
    /// s.add(Post { author_id: 1, title: "first".into(), ..Default::default() });
    /// s.commit()?;
    /// let mut ann = s.get_or_not_found::<User>(1)?;
    /// assert!(ann.posts.get().is_err()); // never loaded behind your back
    /// s.load_related(&mut ann, User::posts)?; // SELECT ... WHERE "author_id" IN (...)
    /// assert_eq!(ann.posts.get()?.len(), 1);
    /// let mut everyone = s.query::<User>().all()?;
    /// s.load_related_all(&mut everyone, User::posts)?; // one query for all of them
    /// # Ok(()) }
    /// ```
    pub fn load_related<M: Model>(&mut self, obj: &mut M, path: impl LoadPath<M>) -> Result<()> {
        self.autoflush()?;
        path.load_into(self, &mut [obj])
    }

    /// Loads relationship `rel` (or a path of them) of every object of a slice, with one query
    /// per level whatever the number of objects.
    pub fn load_related_all<M: Model>(
        &mut self,
        objs: &mut [M],
        path: impl LoadPath<M>,
    ) -> Result<()> {
        self.autoflush()?;
        let mut refs: Vec<&mut M> = objs.iter_mut().collect();
        path.load_into(self, &mut refs)
    }
}
