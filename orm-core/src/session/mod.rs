//! The [`Session`]: a unit of work. Objects are plain structs; the session keeps, per model, an
//! identity map from primary key to a columns-only snapshot, and the objects added to it in an
//! arena addressed by [`Handle`]s. `flush` plans every pending INSERT / UPDATE / DELETE, orders
//! them by foreign keys, runs them inside a savepoint and writes generated keys and snapshots back
//! only when all succeeded, so a failed flush leaves both the database and the session as they
//! were.
//!
//! Changes reach the session through the objects it holds ([`Session::get_mut`], a handle's
//! `s[h]`), compared with their snapshots at the next flush, or through [`Session::add`] of a
//! changed copy; either way the flush UPDATEs the changed columns only. The rules (one state per
//! identity, no lost or stray write, stale copies, versions, aborted transactions) are stated in
//! the README's "Sessions" section and held by `tests/unit_of_work.rs`.

use crate::engine::{Engine, PooledConnection};
use crate::error::{Error, Result};
use crate::model::{ColumnMask, MapKey, Model, SnapshotRef};
use crate::raw::{bind_named, FromRow};
use crate::schema::TableSchema;
use crate::statement::{key_filter, select_all_of};
use crate::value::{ToValue, Value, ValueRef};
use std::any::{Any, TypeId};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

mod flush;
mod identity;
mod transaction;

pub use crate::model::AnyModel;
use identity::{map_of, Entry, Maps};
pub use transaction::Nested;

static NEXT_SESSION_ID: AtomicU64 = AtomicU64::new(1);

/// A reference to an object added to a session: `Copy + Send`, read with `session[handle]` (after
/// a flush, it shows the generated key).
pub struct Handle<M> {
    slot: usize,
    session: u64,
    _marker: PhantomData<fn() -> M>,
}

impl<M> Clone for Handle<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M> Copy for Handle<M> {}
impl<M> std::fmt::Debug for Handle<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Handle({}#{})", std::any::type_name::<M>(), self.slot)
    }
}
impl<M> PartialEq for Handle<M> {
    fn eq(&self, other: &Self) -> bool {
        self.slot == other.slot && self.session == other.session
    }
}
impl<M> Eq for Handle<M> {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    PendingInsert,
    PendingUpdate,
    Persistent,
    Detached,
}

/// An object in the session's arena. Not a public API.
#[doc(hidden)]
pub struct Slot {
    obj: Option<Box<dyn AnyModel>>,
    state: SlotState,
    /// The session's staging clock when the slot last became pending (a nested rollback
    /// discards what was staged since it began).
    born: usize,
    /// Why the object cannot be written as added (see `Entry::stale_columns`): the next flush
    /// fails with [`Error::StaleData`] saying so, writing nothing.
    conflict: Option<String>,
}

impl Slot {
    fn new(obj: Box<dyn AnyModel>, state: SlotState, born: usize) -> Slot {
        Slot { obj: Some(obj), state, born, conflict: None }
    }
}

/// A model's type-erased methods: what the identity map and the flush use.
impl<M: Model> AnyModel for M {
    fn relations(&self) -> &'static [crate::relation::RelationSchema] {
        M::RELATIONS
    }
    fn related(&self, rel: usize) -> Option<Vec<&dyn AnyModel>> {
        Model::related(self, rel)
    }
    fn related_mut(&mut self, rel: usize) -> Option<Vec<&mut dyn AnyModel>> {
        Model::related_mut(self, rel)
    }
    fn table(&self) -> &'static TableSchema {
        M::TABLE
    }
    fn column_value(&self, idx: usize) -> Value {
        Model::column_value(self, idx)
    }
    fn set_column(&mut self, idx: usize, v: ValueRef<'_>) -> Result<()> {
        Model::set_column(self, idx, v)
    }
    fn has_key(&self) -> bool {
        self.key().is_some()
    }
    fn key_values(&self) -> Option<Vec<Value>> {
        self.key().map(|k| M::key_values(&k))
    }
    fn map_key(&self) -> Option<MapKey> {
        self.key().map(|k| MapKey::of::<M>(&k))
    }
    fn snapshot_into(&self, out: &mut Vec<u8>) {
        Model::snapshot_into(self, out);
    }
    fn changed_since(&self, snapshot: SnapshotRef<'_>) -> ColumnMask {
        snapshot.changed(M::TABLE.columns.len(), |out| Model::snapshot_into(self, out))
    }
    fn restore_from(&mut self, snapshot: SnapshotRef<'_>, mask: ColumnMask) -> ColumnMask {
        let mut failed = ColumnMask::empty();
        for idx in mask.iter() {
            // A snapshot holding no value to give (`DbDefault::Default`: the database's
            // value is not known yet) leaves the object's.
            if let Some(v) = snapshot.column(idx) {
                if let Ok(v) = v.value_ref() {
                    if Model::set_column(self, idx, v).is_err() {
                        failed.set(idx);
                    }
                }
            }
        }
        failed
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// A slice of one model's objects seen without their type: what the identity map records rows
/// read from (one copy of its code, not one per model).
pub(crate) trait ModelSlice {
    fn len(&self) -> usize;
    fn at(&self, i: usize) -> &dyn AnyModel;
    fn at_mut(&mut self, i: usize) -> &mut dyn AnyModel;
}

impl<M: Model> ModelSlice for Vec<M> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn at(&self, i: usize) -> &dyn AnyModel {
        &self[i]
    }
    fn at_mut(&mut self, i: usize) -> &mut dyn AnyModel {
        &mut self[i]
    }
}

/// Whether `row`'s key is new to `seen` (rows without a key always are): each row once.
pub(crate) fn first_sighting(seen: &mut crate::fast::Set<MapKey>, row: &dyn AnyModel) -> bool {
    match row.map_key() {
        Some(k) => seen.insert(k),
        None => true,
    }
}

/// Every column of `t`.
fn every_column(t: &TableSchema) -> ColumnMask {
    let mut all = ColumnMask::empty();
    for i in 0..t.columns.len() {
        all.set(i);
    }
    all
}

/// A model with the snapshot's columns; relationships unloaded, skipped fields default.
fn from_snapshot<M: Model>(snapshot: SnapshotRef<'_>) -> Result<M> {
    match snapshot.row() {
        Some(row) => M::decode(&row, 0),
        None => Err(Error::InvalidUse(format!(
            "the session's state of a {} row cannot be read back",
            M::TABLE.name
        ))),
    }
}

/// One entry of the session's undo log: a change the open transaction made to the session's
/// state, taken back (newest first) when it rolls back, wholly or to a savepoint.
enum Undo {
    /// The identity map of this model holds this many changes on its own typed log (the
    /// rows of one model a flush wrote are one entry).
    Map(TypeId, usize),
    /// A flush replaced the snapshot of a loaded collection: put the previous one back.
    Collection(CollectionKey, Option<Vec<MapKey>>),
}

struct PendingDelete {
    type_id: TypeId,
    /// The row's key, as the identity map holds it.
    key: MapKey,
    table: &'static TableSchema,
    relations: &'static [crate::relation::RelationSchema],
    key_values: Vec<Value>,
    /// The `#[orm(version)]` value the row must still have, when known.
    version: Option<Value>,
    born: usize,
}

/// The pending DELETEs in the order they were asked for, with a set of their rows: whether a row
/// is pending deletion is one look-up, so deleting or re-adding n objects costs O(n), not O(n²).
#[derive(Default)]
struct PendingDeletes {
    list: Vec<PendingDelete>,
    rows: crate::fast::Set<(TypeId, MapKey)>,
}

impl PendingDeletes {
    fn contains(&self, model: TypeId, key: &MapKey) -> bool {
        self.rows.contains(&(model, key.clone()))
    }

    fn push(&mut self, d: PendingDelete) {
        self.rows.insert((d.type_id, d.key.clone()));
        self.list.push(d);
    }

    /// Keeps the deletes `keep` says to keep, in order.
    fn retain(&mut self, mut keep: impl FnMut(&PendingDelete) -> bool) {
        let rows = &mut self.rows;
        self.list.retain(|d| {
            let k = keep(d);
            if !k {
                rows.remove(&(d.type_id, d.key.clone()));
            }
            k
        });
    }

    fn clear(&mut self) {
        self.list.clear();
        self.rows.clear();
    }
}

impl std::ops::Deref for PendingDeletes {
    type Target = [PendingDelete];
    fn deref(&self) -> &[PendingDelete] {
        &self.list
    }
}

/// What a read does with the session's identity map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tracking {
    /// Nothing: the rows are returned as read.
    Untracked,
    /// New rows are recorded; rows the session knows come back in the session's state.
    Tracked,
    /// Rows the session knows take the database's values (`populate_existing`, `refresh`).
    Populate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum StmtKind {
    Insert,
    /// An INSERT without RETURNING whose generated key is read as the rowid.
    InsertRowid,
    /// A [`Dialect::insert_many`](crate::Dialect::insert_many) statement (empty: none).
    InsertMany,
    /// A multi-row INSERT of rows whose rowid keys the flush gives (`Connection::next_rowid`).
    InsertValues,
    Update,
    Delete,
    Get,
    SelectAll,
}

/// A unit of work over one [`Engine`] (SQLAlchemy's `Session`): objects `add`ed to it are
/// INSERTed or UPDATEd (changed columns only) at the next flush, in foreign-key order; queries
/// flush first (autoflush); `commit` flushes and commits, `rollback` undoes the transaction in
/// the database and in the session. Within a session a row is one object (the identity map:
/// `get` of a row it holds costs no statement). `Send`: move it into a blocking task if you
/// must; share the `Database`, not the session. Changes reach the session only through `add`,
/// `get_mut` or a handle (`s[h]`): Rust cannot see a field written on a copy.
///
/// Every call is synchronous: from async code, make the session and use it inside
/// `tokio::task::spawn_blocking`. Called on an async thread instead, it still works and never
/// panics (the PostgreSQL backend runs its driver's calls in `block_in_place`, or on a helper
/// thread on a current-thread runtime), but each statement holds that thread until it is done.
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
/// let ann = s.add(User { name: "ann".into(), ..Default::default() }); // a handle
/// s.add(Post { author_id: 0, title: "draft".into(), ..Default::default() });
/// s.rollback()?; // nothing was written
/// s.add(User { name: "ann".into(), ..Default::default() });
/// s.commit()?; // INSERT INTO "users" ... RETURNING "id"
///
/// let mut copy = s.query::<User>().filter(User::name.eq("ann")).one()?;
/// copy.karma = 10;
/// s.add(copy); // a changed copy goes back through add
/// s.commit()?; // UPDATE "users" SET "karma" = ?1 WHERE "users"."id" = ?2
/// assert_eq!(s.get::<User>(1)?.map(|u| u.karma), Some(10));
/// # let _ = ann;
/// # Ok(()) }
/// ```
pub struct Session {
    engine: Engine,
    id: u64,
    conn: Option<PooledConnection>,
    in_tx: bool,
    /// A test session: the outer transaction is never committed; `commit` keeps a savepoint.
    test_mode: bool,
    slots: Vec<Slot>,
    maps: Maps,
    deletes: PendingDeletes,
    journal: Vec<Undo>,
    nested_depth: usize,
    /// The keys of each loaded collection (source table, parent key, relationship) as last
    /// loaded or flushed: what delete-orphan and many-to-many unlinking compare against.
    collections: crate::fast::Map<CollectionKey, Vec<MapKey>>,
    /// Collections read again (tracked) with other contents than the session had recorded:
    /// another transaction changed them in between, and copies of the parent may hold either
    /// list, so a child missing from the one added cannot be told from one removed. Their
    /// changes fail to flush (`StaleData`) until a `populate_existing()` read takes the
    /// database's list.
    collection_conflicts: crate::fast::Set<CollectionKey>,
    /// How to undo the collection snapshots flushes wrote in this transaction: the key and the
    /// snapshot it replaced.
    /// Set when a statement failed inside the transaction with no savepoint to roll back to:
    /// the first failure's text and the nested depth it happened at. Only a rollback (of the
    /// session, or of a nested transaction at that depth or above) clears it.
    aborted: Option<(String, usize)>,
    /// How many savepoint-guarded writes are running: a failure inside one is rolled back to
    /// its savepoint and leaves the transaction usable.
    guarded: usize,
    /// Arena slots staged (made pending) since the last flush, perhaps twice or no longer
    /// pending: what `has_pending` and the flush look at instead of every slot.
    staged: Vec<usize>,
    /// Counts staging events (see `Slot::born`); only ever grows.
    clock: usize,
    /// Whether a bulk update or refresh ever replaced values behind copies' backs: until then,
    /// handing out an object needs no bookkeeping (see `Entry::stale_columns`).
    any_superseded: bool,
}

/// A loaded collection: the parent's table, the parent's key (the relationship's source
/// columns' values), the relationship's name. Its children are recorded by their identity-map
/// keys (an integer key without allocating).
type CollectionKey = (&'static str, MapKey, &'static str);

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("in_transaction", &self.in_tx)
            .field("objects", &self.slots.len())
            .field("pending_deletes", &self.deletes.len())
            .finish()
    }
}

// The engine's sessions are made here: `engine.rs` knows nothing of sessions (no import cycle).
impl Engine {
    /// A new session (unit of work). It checks a connection out only while it needs one.
    pub fn session(&self) -> Session {
        Session::new(self.clone())
    }
}

impl Session {
    pub(crate) fn new(engine: Engine) -> Session {
        Session {
            engine,
            id: NEXT_SESSION_ID.fetch_add(1, Ordering::Relaxed),
            conn: None,
            in_tx: false,
            test_mode: false,
            slots: Vec::new(),
            maps: crate::fast::Map::default(),
            deletes: PendingDeletes::default(),
            journal: Vec::new(),
            nested_depth: 0,
            collections: crate::fast::Map::default(),
            collection_conflicts: crate::fast::Set::default(),
            aborted: None,
            guarded: 0,
            staged: Vec::new(),
            clock: 0,
            any_superseded: false,
        }
    }

    /// The next tick of the staging clock.
    fn tick(&mut self) -> usize {
        self.clock += 1;
        self.clock
    }

    /// The engine this session runs on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.in_tx
    }

    /// Whether anything waits for the next flush.
    pub fn has_pending(&self) -> bool {
        !self.deletes.is_empty()
            || self.staged.iter().any(|&i| {
                self.slots.get(i).is_some_and(|s| {
                    matches!(s.state, SlotState::PendingInsert | SlotState::PendingUpdate)
                })
            })
    }

    /// The arena slots that wait for the next flush, ascending. Costs the number of objects
    /// staged since the last flush, not the number the session holds: every query autoflushes.
    pub(crate) fn pending_slots(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .staged
            .iter()
            .copied()
            .filter(|&i| {
                self.slots.get(i).is_some_and(|s| {
                    matches!(s.state, SlotState::PendingInsert | SlotState::PendingUpdate)
                })
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    // ----- adding, deleting, reading handles ---------------------------------------------------

    /// Adds an object: a new one (its key unset, or a key the session has not seen) is INSERTed
    /// at the next flush; a loaded one (its key in the identity map) is UPDATEd with the columns
    /// that changed, or costs nothing if none did. Returns a handle to read it back.
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
    /// let h = s.add(User { name: "cy".into(), ..Default::default() });
    /// assert_eq!(s[h].id, 0); // not flushed yet: the database assigns the key
    /// s.commit()?;
    /// assert_eq!(s[h].id, 3);
    /// s[h].karma += 1; // through the handle: the session's own object
    /// s.commit()?; // UPDATE of "karma" only
    /// # Ok(()) }
    /// ```
    pub fn add<M: Model>(&mut self, obj: M) -> Handle<M> {
        let slot = self.add_erased(Box::new(obj));
        self.handle(slot)
    }

    /// [`add`](Self::add) without the model's type; returns the arena slot.
    fn add_erased(&mut self, mut obj: Box<dyn AnyModel>) -> usize {
        let born = self.tick();
        let Some(key) = obj.map_key() else {
            let slot = self.slots.len();
            self.slots.push(Slot::new(obj, SlotState::PendingInsert, born));
            self.staged.push(slot);
            return slot;
        };
        let model = obj.as_any().type_id();
        // Adding back an object whose DELETE is pending cancels the delete.
        if self.deletes.contains(model, &key) {
            self.deletes.retain(|d| !(d.type_id == model && d.key == key));
        }
        let map = map_of(&mut self.maps, model);
        let Some(entry) = map.entries.get_mut(&key) else {
            let slot = self.slots.len();
            map.entries.insert(key, Entry::pending(slot));
            self.slots.push(Slot::new(obj, SlotState::PendingInsert, born));
            self.staged.push(slot);
            return slot;
        };
        let mut conflict = None;
        let state = if entry.persistent() {
            match entry.stale_columns(&map.arena, &*obj, &key) {
                Ok(stale) => {
                    if let (false, Some(snap)) = (stale.is_empty(), entry.snapshot) {
                        let failed = obj.restore_from(snap.view(&map.arena), stale);
                        if !failed.is_empty() {
                            conflict = Some(identity::unrestorable(&*obj, failed));
                        }
                    }
                }
                Err(why) => conflict = Some(why),
            }
            SlotState::PendingUpdate
        } else {
            SlotState::PendingInsert
        };
        if let Some(slot) = entry.slot().filter(|&s| s < self.slots.len()) {
            let sl = &mut self.slots[slot];
            sl.obj = Some(obj);
            sl.conflict = conflict;
            if sl.state != SlotState::PendingInsert {
                sl.state = state;
                sl.born = born;
            }
            self.staged.push(slot);
            return slot;
        }
        let slot = self.slots.len();
        entry.set_slot(Some(slot));
        let mut sl = Slot::new(obj, state, born);
        sl.conflict = conflict;
        self.slots.push(sl);
        self.staged.push(slot);
        slot
    }

    /// Adds every object of `objs`.
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
    /// let hs = s.add_all(["cy", "dee"].map(|n| User { name: n.into(), ..Default::default() }));
    /// s.commit()?;
    /// assert_eq!(hs.iter().map(|&h| s[h].id).collect::<Vec<_>>(), [3, 4]);
    /// # Ok(()) }
    /// ```
    pub fn add_all<M: Model>(&mut self, objs: impl IntoIterator<Item = M>) -> Vec<Handle<M>> {
        objs.into_iter().map(|o| self.add(o)).collect()
    }

    /// Adds and flushes one object, and gives it back with its generated key and defaults. On
    /// error the object is taken out of the session again, so the session stays usable.
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
    /// let cy = s.save(User { name: "cy".into(), ..Default::default() })?;
    /// assert_eq!(cy.id, 3);
    /// let post = s.save(Post { author_id: cy.id, title: "hello".into(), ..Default::default() })?;
    /// let orphan = s.save(Post { author_id: 99, title: "nobody's".into(), ..Default::default() });
    /// assert!(matches!(orphan, Err(Error::ForeignKeyViolation(_))));
    /// s.commit()?; // the failed save left nothing behind
    /// # let _ = post;
    /// # Ok(()) }
    /// ```
    pub fn save<M: Model>(&mut self, obj: M) -> Result<M> {
        let h = self.add(obj);
        if let Err(e) = self.flush() {
            self.expunge(h);
            return Err(e);
        }
        self.take(h)
            .ok_or_else(|| Error::InvalidUse("saved object vanished from the session".into()))
    }

    /// Marks a persistent object for DELETE at the next flush. Deleting an object whose INSERT is
    /// still pending just forgets it. An object that has no key yet is an error.
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
    /// let bob = s.get_or_not_found::<User>(2)?;
    /// s.delete(&bob)?;
    /// s.commit()?; // DELETE FROM "users" WHERE "users"."id" = ?1
    /// assert_eq!(s.get::<User>(2)?, None);
    /// s.delete_by_key::<User>(1)?; // without reading the row first
    /// s.commit()?;
    /// assert_eq!(s.query::<User>().count()?, 0);
    /// # Ok(()) }
    /// ```
    pub fn delete<M: Model>(&mut self, obj: &M) -> Result<()> {
        let key = obj.key().ok_or_else(|| {
            Error::InvalidUse(format!(
                "cannot delete a {} that was never saved (its key is unset)",
                std::any::type_name::<M>()
            ))
        })?;
        let version = M::TABLE.version_column.map(|v| obj.column_value(v));
        self.delete_with_version::<M>(key, version)
    }

    /// Marks the row of model `M` with primary key `key` for DELETE at the next flush. On a
    /// model with `#[orm(version)]`, the DELETE checks the version the session knows the row
    /// at, if it knows the row.
    pub fn delete_by_key<M: Model>(&mut self, key: M::Key) -> Result<()> {
        let map_key = MapKey::of::<M>(&key);
        let version = M::TABLE.version_column.and_then(|v| {
            let map = self.maps.get(&TypeId::of::<M>())?;
            let snap = map.entries.get(&map_key)?.snapshot?.view(&map.arena);
            Some(snap.column(v)?.value_ref().ok()?.to_owned_value())
        });
        self.delete_with_version::<M>(key, version)
    }

    fn delete_with_version<M: Model>(&mut self, key: M::Key, version: Option<Value>) -> Result<()> {
        let key_values = M::key_values(&key);
        self.delete_erased(TypeId::of::<M>(), M::TABLE, M::RELATIONS, key_values, version);
        Ok(())
    }

    /// Marks a row for DELETE, without the model's type.
    fn delete_erased(
        &mut self,
        model: TypeId,
        table: &'static TableSchema,
        relations: &'static [crate::relation::RelationSchema],
        key_values: Vec<Value>,
        version: Option<Value>,
    ) {
        let key = MapKey::from_values(key_values.clone());
        let map = map_of(&mut self.maps, model);
        if let Some(entry) = map.entries.get(&key) {
            if !entry.persistent() {
                if let Some(slot) = entry.slot() {
                    if let Some(s) = self.slots.get_mut(slot) {
                        s.state = SlotState::Detached;
                    }
                }
                map.entries.remove(&key);
                return;
            }
            if let Some(slot) = entry.slot() {
                if let Some(s) = self.slots.get_mut(slot) {
                    if s.state == SlotState::PendingUpdate {
                        s.state = SlotState::Persistent;
                    }
                }
            }
        }
        if self.deletes.contains(model, &key) {
            return;
        }
        let born = self.tick();
        self.deletes.push(PendingDelete {
            type_id: model,
            key,
            table,
            relations,
            key_values,
            version,
            born,
        });
    }

    fn handle<M>(&self, slot: usize) -> Handle<M> {
        Handle { slot, session: self.id, _marker: PhantomData }
    }

    /// The object behind a handle, if the handle is this session's and the object is still here.
    pub fn try_get<M: Model>(&self, h: Handle<M>) -> Option<&M> {
        if h.session != self.id {
            return None;
        }
        let obj = self.slots.get(h.slot)?.obj.as_ref()?.as_any().downcast_ref::<M>()?;
        self.note_handed_out(obj);
        Some(obj)
    }

    /// The object behind a handle, mutably: what you change through it is written by the next
    /// flush (the session compares it with its snapshot then), with no `add`.
    pub fn try_get_mut<M: Model>(&mut self, h: Handle<M>) -> Option<&mut M> {
        if h.session != self.id {
            return None;
        }
        self.slot_mut(h.slot)
    }

    /// The object in arena slot `i`, mutably, marked for comparison at the next flush.
    fn slot_mut<M: Model>(&mut self, i: usize) -> Option<&mut M> {
        self.slot_mut_erased(i)?.as_any_mut().downcast_mut::<M>()
    }

    /// [`slot_mut`](Self::slot_mut) without the model's type.
    fn slot_mut_erased(&mut self, i: usize) -> Option<&mut (dyn AnyModel + 'static)> {
        let born = self.tick();
        self.note_handed_out(self.slots.get(i)?.obj.as_deref()?);
        let slot = self.slots.get_mut(i)?;
        if slot.state == SlotState::Persistent {
            slot.state = SlotState::PendingUpdate;
            slot.born = born;
            self.staged.push(i);
        }
        slot.obj.as_deref_mut()
    }

    /// The object of model `M` with primary key `key`, held by the session for changing in
    /// place: every change made through the reference is written by the next flush (an UPDATE
    /// of the changed columns), with nothing to forget. The first way to change a row:
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
    /// if let Some(user) = s.get_mut::<User>(1)? {
    ///     user.karma += 1;
    /// }
    /// s.commit()?; // UPDATE "users" SET "karma" = ?1 WHERE "users"."id" = ?2
    /// assert_eq!(s.get::<User>(1)?.map(|u| u.karma), Some(1));
    /// # Ok(()) }
    /// ```
    ///
    /// Served from the identity map when the row is there (no SELECT). `None` when no such row
    /// exists.
    pub fn get_mut<M: Model>(&mut self, key: impl Into<M::Key>) -> Result<Option<&mut M>> {
        let key = key.into();
        // The object the session holds needs no flush first (its own pending changes are in
        // it), unless a DELETE is pending, which may be of this row.
        if !self.deletes.is_empty() {
            self.autoflush()?;
        }
        self.check_usable()?;
        let model = TypeId::of::<M>();
        let map_key = MapKey::of::<M>(&key);
        let slot = match self.held_slot(model, &map_key) {
            Some(i) => i,
            None => {
                let Some(obj) = self.get::<M>(key)? else { return Ok(None) };
                self.hold(model, &map_key, Box::new(obj))
            }
        };
        Ok(self.slot_mut(slot))
    }

    /// The arena slot of the object the session holds for a persistent row, if any.
    fn held_slot(&self, model: TypeId, key: &MapKey) -> Option<usize> {
        self.maps
            .get(&model)?
            .entries
            .get(key)
            .filter(|e| e.persistent())
            .and_then(|e| e.slot())
            .filter(|&i| {
                self.slots.get(i).is_some_and(|s| {
                    s.obj.is_some()
                        && matches!(s.state, SlotState::Persistent | SlotState::PendingUpdate)
                })
            })
    }

    /// Holds `obj`, a copy of a persistent row just read, in a new arena slot.
    fn hold(&mut self, model: TypeId, key: &MapKey, obj: Box<dyn AnyModel>) -> usize {
        let i = self.slots.len();
        let born = self.tick();
        self.slots.push(Slot::new(obj, SlotState::Persistent, born));
        if let Some(e) = map_of(&mut self.maps, model).entries.get_mut(key) {
            e.set_slot(Some(i));
        }
        i
    }

    /// Takes the object out of the session's arena (the identity map keeps its snapshot, so
    /// adding it back after changes still UPDATEs only what changed). A pending INSERT or UPDATE
    /// of it is cancelled.
    pub fn take<M: Model>(&mut self, h: Handle<M>) -> Option<M> {
        if h.session != self.id {
            return None;
        }
        let obj = self.take_erased(TypeId::of::<M>(), h.slot)?;
        obj.into_any().downcast::<M>().ok().map(|b| *b)
    }

    /// [`take`](Self::take) without the model's type: the object in slot `i`, if it is a
    /// `model`.
    fn take_erased(&mut self, model: TypeId, i: usize) -> Option<Box<dyn AnyModel>> {
        let obj = self.slots.get(i)?.obj.as_deref()?;
        if obj.as_any().type_id() != model {
            return None;
        }
        self.note_handed_out(obj);
        let slot = self.slots.get_mut(i)?;
        let obj = slot.obj.take()?;
        match slot.state {
            SlotState::PendingInsert => {
                identity::forget_pending(&mut self.maps, &*obj);
                slot.state = SlotState::Detached;
            }
            SlotState::PendingUpdate => slot.state = SlotState::Persistent,
            _ => {}
        }
        Some(obj)
    }

    /// Removes an object from the session: a pending INSERT or UPDATE of it is cancelled, and
    /// the identity map forgets its row.
    pub fn expunge<M: Model>(&mut self, h: Handle<M>) {
        if h.session == self.id {
            self.expunge_erased(TypeId::of::<M>(), h.slot);
        }
    }

    /// [`expunge`](Self::expunge) without the model's type.
    fn expunge_erased(&mut self, model: TypeId, i: usize) {
        if let Some(obj) = self.take_erased(model, i) {
            if let (Some(k), Some(map)) = (obj.map_key(), self.maps.get_mut(&model)) {
                map.entries.remove(&k);
            }
        }
    }

    /// Forgets every object and snapshot and cancels everything pending (the transaction, if
    /// any, stays open). Handles given out before no longer belong to the session.
    pub fn expunge_all(&mut self) {
        // Handles given out so far name slots that are gone: a new identity makes them foreign
        // (`try_get` gives `None`) rather than pointing at whatever takes their slot next.
        self.id = NEXT_SESSION_ID.fetch_add(1, Ordering::Relaxed);
        self.slots.clear();
        self.maps.clear();
        self.deletes.clear();
        self.staged.clear();
        self.journal.clear();
        self.collections.clear();
        self.collection_conflicts.clear();
        self.any_superseded = false;
    }

    // ----- transactions -------------------------------------------------------------------------

    fn cached_sql(
        &self,
        table: &'static TableSchema,
        kind: StmtKind,
        mask: ColumnMask,
        render: &dyn Fn() -> Result<String>,
    ) -> Result<Arc<str>> {
        self.engine.cached_sql((table.name, kind as u8, mask), render)
    }

    // ----- reading -----------------------------------------------------------------------------

    /// The object of model `M` with primary key `key`. A row already in the identity map is
    /// served from it without a statement.
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
    /// let log = orm::testing::StatementLog::attach(&db);
    /// let ann = s.get::<User>(1)?.expect("ann");
    /// assert_eq!(ann.name, "ann");
    /// assert_eq!(s.get::<User>(42)?, None);
    /// let before = log.queries().len();
    /// s.get::<User>(1)?; // held by the session since the commit: no SELECT
    /// assert_eq!(log.queries().len(), before);
    /// # Ok(()) }
    /// ```
    pub fn get<M: Model>(&mut self, key: impl Into<M::Key>) -> Result<Option<M>> {
        let key = key.into();
        self.autoflush()?;
        // What the identity map holds may be work of an aborted transaction.
        self.check_usable()?;
        let held = self.maps.get(&TypeId::of::<M>()).and_then(|m| {
            let e = m.entries.get(&MapKey::of::<M>(&key))?;
            Some((e, e.known()?.view(&m.arena)))
        });
        if let Some((e, snap)) = held {
            e.handed_out();
            return from_snapshot::<M>(snap).map(Some);
        }
        let sql = self.get_sql(M::TABLE)?;
        let params = M::key_values(&key);
        let mut rows = self.load_rows::<M>(&sql, &params, Tracking::Tracked)?;
        Ok(rows.pop())
    }

    fn get_sql(&self, t: &'static TableSchema) -> Result<Arc<str>> {
        let dialect = self.engine.dialect();
        self.cached_sql(t, StmtKind::Get, ColumnMask::empty(), &|| {
            let mut sel = select_all_of(t);
            sel.filter = Some(key_filter(t));
            dialect.select(&sel).map(|r| r.sql)
        })
    }

    /// Reads `obj`'s row again and gives `obj` its columns (relationships stay as they are).
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
    /// let mut ann = s.get_or_not_found::<User>(1)?;
    /// let mut other = db.session(); // another writer
    /// other.sql("UPDATE users SET karma = 5 WHERE id = 1").execute()?;
    /// other.commit()?;
    /// s.refresh(&mut ann)?;
    /// assert_eq!(ann.karma, 5);
    /// # Ok(()) }
    /// ```
    ///    /// The session takes the row's values too, and so does the object it holds for the row;
    /// copies read before keep their old values, which are then not written back unless
    /// changed. A row that no longer exists is [`Error::NotFound`].
    pub fn refresh<M: Model>(&mut self, obj: &mut M) -> Result<()> {
        let key = obj.key().ok_or_else(|| {
            Error::InvalidUse(format!(
                "cannot refresh a {} that was never saved (its key is unset)",
                std::any::type_name::<M>()
            ))
        })?;
        self.autoflush()?;
        let sql = self.get_sql(M::TABLE)?;
        let mut rows = self.load_rows::<M>(&sql, &M::key_values(&key), Tracking::Populate)?;
        let row = rows
            .pop()
            .ok_or_else(|| Error::NotFound(format!("{} with key {key:?}", M::TABLE.name)))?;
        let snap = row.snapshot();
        let changed = obj.changed_columns(&snap);
        obj.restore_columns(&snap, changed);
        Ok(())
    }

    /// Brings an object from elsewhere (another session, a request body) into this session,
    /// SQLAlchemy's `merge`: it finds the row (in the identity map, or by one SELECT) and
    /// schedules an UPDATE of the columns in which `obj` differs from it; it never INSERTs a
    /// row that exists. An object whose key is unset, or whose row does not exist, is INSERTed.
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
    /// // An object from elsewhere (a form, another session), with every column filled in.
    /// let edited = User { id: 2, name: "bobby".into(), karma: 0, posts: Related::Unloaded };
    /// let mut fresh = db.session();
    /// fresh.merge(edited)?; // one SELECT of row 2, then only "name" differs
    /// fresh.commit()?;
    /// assert_eq!(s.get_or_not_found::<User>(2)?.name, "bob"); // s holds its own copy...
    /// assert_eq!(db.session().get_or_not_found::<User>(2)?.name, "bobby"); // ...the row changed
    /// # Ok(()) }
    /// ```
    pub fn merge<M: Model>(&mut self, obj: M) -> Result<Handle<M>> {
        if let Some(key) = obj.key() {
            let known = self
                .maps
                .get(&TypeId::of::<M>())
                .and_then(|m| m.entries.get(&MapKey::of::<M>(&key)))
                .is_some_and(|e| e.persistent() || e.slot().is_some());
            if !known {
                self.get::<M>(key)?;
            }
        }
        Ok(self.add(obj))
    }

    /// Like [`get`](Self::get), but a missing row is [`Error::NotFound`].
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
    /// assert_eq!(s.get_or_not_found::<User>(1)?.name, "ann");
    /// assert!(matches!(s.get_or_not_found::<User>(42), Err(Error::NotFound(_))));
    /// # Ok(()) }
    /// ```
    pub fn get_or_not_found<M: Model>(&mut self, key: impl Into<M::Key>) -> Result<M> {
        let key = key.into();
        let desc = format!("{} with key {:?}", M::TABLE.name, key);
        self.get::<M>(key)?.ok_or(Error::NotFound(desc))
    }

    pub(crate) fn autoflush(&mut self) -> Result<()> {
        if self.has_pending() {
            self.flush()?;
        }
        Ok(())
    }

    pub(crate) fn select_all_sql(&mut self, t: &'static TableSchema) -> Result<Arc<str>> {
        let dialect = self.engine.dialect();
        self.cached_sql(t, StmtKind::SelectAll, ColumnMask::empty(), &|| {
            dialect.select(&select_all_of(t)).map(|r| r.sql)
        })
    }

    /// Runs a SELECT of `M`'s columns and decodes the rows, tracking them as `tracking` says.
    pub(crate) fn load_rows<M: Model>(
        &mut self,
        sql: &str,
        params: &[Value],
        tracking: Tracking,
    ) -> Result<Vec<M>> {
        self.load_rows_distinct(sql, params, tracking, false)
    }

    /// [`load_rows`](Self::load_rows), keeping only the first row of each key when `distinct`
    /// (a query joining a to-many relationship repeats its rows).
    pub(crate) fn load_rows_distinct<M: Model>(
        &mut self,
        sql: &str,
        params: &[Value],
        tracking: Tracking,
        distinct: bool,
    ) -> Result<Vec<M>> {
        let mut out: Vec<M> = Vec::new();
        let mut seen = crate::fast::Set::default();
        self.read(sql, params, &mut |row| {
            let obj = M::decode(row, 0)?;
            if !distinct || first_sighting(&mut seen, &obj) {
                out.push(obj);
            }
            Ok(())
        })?;
        // Untracked rows need bookkeeping only once a bulk update or refresh made copies stale.
        if tracking != Tracking::Untracked || self.any_superseded {
            self.track_loaded(&mut out, tracking)?;
        }
        Ok(out)
    }

    /// Runs a SELECT of `M`'s columns and hands each row decoded to `each`, for the caller to
    /// track them ([`track_loaded`](Self::track_loaded)) once it has read all of them: an
    /// eager load reading its targets in several queries sizes the identity map once.
    pub(crate) fn decode_each<M: Model>(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(M),
    ) -> Result<()> {
        self.read(sql, params, &mut |row| {
            each(M::decode(row, 0)?);
            Ok(())
        })
    }

    /// Makes room in `M`'s identity map for `n` more rows about to be tracked one by one, so
    /// that a large read grows the table once rather than by doubling (each doubling rehashes
    /// every entry, in memory no cache holds). Room not granted is no error.
    pub(crate) fn reserve_tracked<M: Model>(&mut self, n: usize) {
        let _ = identity::map_of(&mut self.maps, TypeId::of::<M>()).entries.try_reserve(n);
    }

    /// Records rows just read as `tracking` says.
    pub(crate) fn track_loaded(
        &mut self,
        objs: &mut dyn ModelSlice,
        tracking: Tracking,
    ) -> Result<()> {
        match tracking {
            Tracking::Untracked => {
                for i in 0..objs.len() {
                    self.note_handed_out(objs.at(i));
                }
                Ok(())
            }
            Tracking::Tracked => self.track_all(objs, false),
            Tracking::Populate => self.track_all(objs, true),
        }
    }

    /// Makes room for `n` more loaded collections (an eager load records one per parent).
    pub(crate) fn reserve_collections(&mut self, n: usize) {
        self.collections.reserve(n);
    }

    /// Remembers the keys of a loaded collection.
    /// Records the keys of a collection just read for a tracked parent. Read again with other
    /// contents (another transaction changed it), the collection is marked in conflict (see
    /// [`Session::collection_conflicts`]) unless `populate` (`populate_existing()`) says the
    /// database's list replaces the session's.
    pub(crate) fn record_collection(
        &mut self,
        table: &'static str,
        parent: MapKey,
        relation: &'static str,
        children: Vec<MapKey>,
        populate: bool,
    ) {
        let key = (table, parent, relation);
        if populate {
            self.collection_conflicts.remove(&key);
        } else if let Some(known) = self.collections.get(&key) {
            if !same_keys(known, &children) {
                self.collection_conflicts.insert(key.clone());
            }
        }
        self.collections.insert(key, children);
    }

    /// Raw SQL with `:name` parameters: `s.sql("SELECT ... WHERE id = :id").bind("id", 5)`.
    /// Values are always bound, never spliced into the text; rows map into tuples or
    /// `#[derive(FromRow)]` structs by column name.
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
    /// let (n,): (i64,) = s.sql("SELECT count(*) FROM users WHERE name <> :name").bind("name", "bob").one()?;
    /// assert_eq!(n, 1);
    /// let changed = s.sql("UPDATE users SET karma = karma + :k").bind("k", 2).execute()?;
    /// assert_eq!(changed, 2);
    /// # Ok(()) }
    /// ```
    pub fn sql(&mut self, sql: &str) -> RawQuery<'_> {
        RawQuery { session: self, sql: sql.to_owned(), params: Vec::new() }
    }
}

impl<M: Model> std::ops::Index<Handle<M>> for Session {
    type Output = M;
    /// # Panics
    /// On a handle of another session, or one whose object was taken out with `take`.
    fn index(&self, h: Handle<M>) -> &M {
        match self.try_get(h) {
            Some(m) => m,
            None => panic!(
                "{h:?} does not belong to this session (or was given out before expunge_all), \
                 or its object was taken"
            ),
        }
    }
}

impl<M: Model> std::ops::IndexMut<Handle<M>> for Session {
    /// # Panics
    /// As for `Index`.
    fn index_mut(&mut self, h: Handle<M>) -> &mut M {
        match self.try_get_mut(h) {
            Some(m) => m,
            None => panic!(
                "{h:?} does not belong to this session (or was given out before expunge_all), \
                 or its object was taken"
            ),
        }
    }
}

/// A raw SQL statement with named parameters, made by [`Session::sql`].
pub struct RawQuery<'s> {
    session: &'s mut Session,
    sql: String,
    params: Vec<(String, Value)>,
}

impl RawQuery<'_> {
    /// Binds `:name` to `value`.
    pub fn bind(mut self, name: &str, value: impl ToValue) -> Self {
        self.params.push((name.to_owned(), value.to_value()));
        self
    }

    fn rendered(&self) -> Result<(String, Vec<Value>)> {
        bind_named(self.session.engine.dialect(), &self.sql, &self.params)
    }

    /// Runs it (after flushing pending work) and maps every row into `R`.
    pub fn all<R: FromRow>(self) -> Result<Vec<R>> {
        let (sql, params) = self.rendered()?;
        self.session.autoflush()?;
        self.session.fetch(&sql, &params, &mut |row| R::from_row(row))
    }

    /// The first row, if any.
    pub fn first<R: FromRow>(self) -> Result<Option<R>> {
        Ok(self.all::<R>()?.into_iter().next())
    }

    /// Exactly one row: none is [`Error::NotFound`], several [`Error::MultipleRows`].
    pub fn one<R: FromRow>(self) -> Result<R> {
        let what = self.sql.clone();
        let mut rows = self.all::<R>()?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            0 => Err(Error::NotFound(what)),
            _ => Err(Error::MultipleRows(what)),
        }
    }

    /// Runs a statement that returns no rows, in the session's transaction; returns the number of
    /// rows changed.
    pub fn execute(self) -> Result<u64> {
        let (sql, params) = self.rendered()?;
        self.session.write(&sql, &params)
    }
}

/// The values of columns `idx` of an object, or `None` when any is NULL (no key to match).
pub(crate) fn values_at(obj: &dyn AnyModel, idx: &[usize]) -> Option<Vec<Value>> {
    let v: Vec<Value> = idx.iter().map(|&i| obj.column_value(i)).collect();
    (!v.contains(&Value::Null)).then_some(v)
}

/// The values of columns `idx` of an object as a map key (a collection's parent key), or
/// `None` when any is NULL: [`MapKey::from_values`] of [`values_at`], without allocating for
/// one integer column.
pub(crate) fn values_key(obj: &dyn AnyModel, idx: &[usize]) -> Option<MapKey> {
    match idx {
        [i] => match obj.column_value(*i) {
            Value::Null => None,
            v => Some(MapKey::from_value(v)),
        },
        _ => values_at(obj, idx).map(MapKey::from_values),
    }
}

/// Whether two collections hold the same keys, in any order.
fn same_keys(a: &[MapKey], b: &[MapKey]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a == b {
        return true;
    }
    let set: crate::fast::Set<&MapKey> = a.iter().collect();
    b.iter().all(|k| set.contains(k))
}
