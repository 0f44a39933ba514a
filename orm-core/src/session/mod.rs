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

use crate::connection::{Connection, Row};
use crate::engine::{Engine, PooledConnection};
use crate::error::{Error, Result};
use crate::model::{ColumnMask, Model};
use crate::query::Query;
use crate::raw::{bind_named, FromRow};
use crate::schema::TableSchema;
use crate::statement::{Expr, Select};
use crate::value::{ToValue, Value, ValueRef};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

mod flush;

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
    /// The journal length when the slot became pending (for nested rollback).
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

/// The identity maps, one per model type. Not a public API.
#[doc(hidden)]
pub type Maps = HashMap<TypeId, Box<dyn ErasedMap>>;

/// An identity map seen without its model type. Not a public API.
#[doc(hidden)]
pub trait ErasedMap: Send {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// Forgets the row with these key values (it was deleted); returns how to undo that.
    fn remove_values(&mut self, key: &[Value]) -> Option<Undo>;
}

impl<M: Model> ErasedMap for IdentityMap<M> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn remove_values(&mut self, key: &[Value]) -> Option<Undo> {
        let k = self.entries.keys().find(|k| M::key_values(k) == key)?.clone();
        let entry = self.entries.remove(&k)?;
        Some(Box::new(move |maps: &mut Maps, _: &mut Vec<Slot>| {
            map_of::<M>(maps).entries.insert(k, entry);
        }))
    }
}
/// How to undo one recorded write when its transaction rolls back. Not a public API.
#[doc(hidden)]
pub type Undo = Box<dyn FnOnce(&mut Maps, &mut Vec<Slot>) + Send>;

struct Entry<M: Model> {
    /// The row's columns as this session knows them (last read, written, or synchronised
    /// after a bulk update); `None` only while the row is a pending INSERT.
    snapshot: Option<M::Snapshot>,
    /// The arena slot holding this row's object, if it was added.
    slot: Option<usize>,
    /// `false` while the row is only a pending INSERT.
    persistent: bool,
    /// The row's earlier states, oldest first: each the state just before a bulk update or a
    /// refresh replaced values behind copies' backs. Copies read then still hold them; see
    /// [`Entry::stale_columns`].
    superseded: Vec<Superseded<M>>,
}

/// One earlier state of a row: the end of a "generation" that a bulk update or refresh closed.
struct Superseded<M: Model> {
    /// The row as the session knew it when the generation ended.
    before: M::Snapshot,
    /// Whether copies of the *next* generation's state may exist: the row was handed out (a
    /// read, `get`, a handle) or written while that generation was the newest.
    next_seen: AtomicBool,
}

impl<M: Model> Entry<M> {
    /// Notes that the row was handed out or written: copies of its newest state may exist.
    fn handed_out(&self) {
        if let Some(last) = self.superseded.last() {
            last.next_seen.store(true, Ordering::Relaxed);
        }
    }

    /// Closes the current generation: the session's state is now `now`, and `before` becomes
    /// an earlier state copies may hold. `seen`: the new state is handed out at once.
    fn supersede(&mut self, now: M::Snapshot, seen: bool) {
        if let Some(before) = self.snapshot.replace(now) {
            self.superseded.push(Superseded { before, next_seen: AtomicBool::new(seen) });
        }
    }

    fn persistent(snapshot: M::Snapshot, slot: Option<usize>) -> Entry<M> {
        Entry { snapshot: Some(snapshot), slot, persistent: true, superseded: Vec::new() }
    }

    /// The columns in which `obj` differs from the session's state only because it is a copy
    /// read before a bulk update or refresh replaced them, so the user did not change them;
    /// they are not written back (a column the user did not change is never written).
    ///
    /// A copy was read in one of the row's generations: the first one, or a later one whose
    /// state was handed out. Under each such reading, the columns to write are those in which
    /// `obj` differs both from that generation's state (the user changed them) and from the
    /// session's state. When every possible reading gives the same columns, the rest are
    /// stale. When they disagree (say a copy read after a bulk update and set back on purpose
    /// to the old value, which a copy read before would also hold), guessing could lose a
    /// write either way: that is an error naming the columns (`StaleData` at flush). The
    /// version column takes no part: a copy's version is the one it was read at.
    fn stale_columns(&self, obj: &M) -> std::result::Result<ColumnMask, String> {
        let (Some(current), Some(first)) = (&self.snapshot, self.superseded.first()) else {
            return Ok(ColumnMask::empty());
        };
        let mut changed = obj.changed_columns(current);
        if let Some(v) = M::TABLE.version_column {
            changed.remove(v);
        }
        let write_if_read_at =
            |state: &M::Snapshot| changed.intersection(&obj.changed_columns(state));
        let seen = |i: usize| self.superseded[i].next_seen.load(Ordering::Relaxed);
        // The first generation is always possible: the session read the row in it.
        let write = write_if_read_at(&first.before);
        let mut disagree = ColumnMask::empty();
        let mut compare = |w: ColumnMask| {
            disagree = disagree.union(&w.difference(&write)).union(&write.difference(&w));
        };
        for i in 1..self.superseded.len() {
            if seen(i - 1) {
                compare(write_if_read_at(&self.superseded[i].before));
            }
        }
        if seen(self.superseded.len() - 1) {
            compare(changed);
        }
        if !disagree.is_empty() {
            let names: Vec<&str> =
                disagree.iter().filter_map(|i| M::TABLE.columns.get(i)).map(|c| c.name).collect();
            return Err(format!(
                "{} with key {:?}: the object added holds, in {}, the value of a state that a \
                 bulk update or refresh replaced, and the row was read or written since, so the \
                 session cannot tell a stale copy from a change back to the old value; change \
                 the row through `get_mut`, or re-read it and apply the change again",
                M::TABLE.name,
                obj.key(),
                names.join(", ")
            ));
        }
        Ok(changed.difference(&write))
    }
}

struct IdentityMap<M: Model> {
    entries: HashMap<M::Key, Entry<M>>,
}

/// What reading a row did to the session's state of it.
enum Tracked {
    /// The row was new to the session, or the same as it knew it.
    Unchanged,
    /// `populate`: the session took the database's values of these columns.
    Populated(ColumnMask),
}

impl<M: Model> IdentityMap<M> {
    /// Records a row read from the database. A row the session already knows keeps the
    /// session's state, and `obj` is set to it (one state per identity), unless `populate`
    /// asks for the database's values: then the session takes them, remembering the values
    /// they replaced.
    fn track(&mut self, obj: &mut M, populate: bool) -> Tracked {
        let Some(k) = obj.key() else { return Tracked::Unchanged };
        match self.entries.entry(k) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let e = e.get_mut();
                match (&e.snapshot, e.persistent) {
                    (Some(snap), true) => {
                        e.handed_out();
                        let changed = obj.changed_columns(snap);
                        if changed.is_empty() {
                            return Tracked::Unchanged;
                        }
                        if !populate {
                            obj.restore_columns(snap, changed);
                            return Tracked::Unchanged;
                        }
                        // Handed out at once: the read returns the new values.
                        e.supersede(obj.snapshot(), true);
                        Tracked::Populated(changed)
                    }
                    _ => {
                        e.snapshot = Some(obj.snapshot());
                        e.persistent = true;
                        Tracked::Unchanged
                    }
                }
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Entry::persistent(obj.snapshot(), None));
                Tracked::Unchanged
            }
        }
    }
}

fn map_of<M: Model>(maps: &mut Maps) -> &mut IdentityMap<M> {
    let any = maps
        .entry(TypeId::of::<M>())
        .or_insert_with(|| Box::new(IdentityMap::<M> { entries: HashMap::new() }));
    match any.as_any_mut().downcast_mut::<IdentityMap<M>>() {
        Some(m) => m,
        None => unreachable!("identity maps are keyed by their model's TypeId"),
    }
}

fn map_ref<M: Model>(maps: &Maps) -> Option<&IdentityMap<M>> {
    maps.get(&TypeId::of::<M>()).and_then(|m| m.as_any().downcast_ref::<IdentityMap<M>>())
}

/// A model seen through the session's type-erased arena (also the nested objects of its
/// relationships). Implemented for every [`Model`]; not a public API.
#[doc(hidden)]
pub trait AnyModel: Send {
    fn relations(&self) -> &'static [crate::relation::RelationSchema];
    fn related(&self, rel: usize) -> Option<Vec<&dyn AnyModel>>;
    fn related_mut(&mut self, rel: usize) -> Option<Vec<&mut dyn AnyModel>>;
    fn table(&self) -> &'static TableSchema;
    fn column_value(&self, idx: usize) -> Value;
    fn set_column(&mut self, idx: usize, v: ValueRef<'_>) -> Result<()>;
    fn has_key(&self) -> bool;
    fn key_values(&self) -> Option<Vec<Value>>;
    fn update_mask(&self, maps: &Maps) -> ColumnMask;
    fn is_persistent(&self, maps: &Maps) -> bool;
    fn record_persisted(&self, maps: &mut Maps, slot: Option<usize>) -> Undo;
    fn forget_pending(&self, maps: &mut Maps);
    /// Gives the object the session's state of its row again (after a rollback).
    fn reset_to_snapshot(&mut self, maps: &Maps);
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

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
    fn update_mask(&self, maps: &Maps) -> ColumnMask {
        let snap = self
            .key()
            .and_then(|k| map_ref::<M>(maps).and_then(|m| m.entries.get(&k)))
            .and_then(|e| e.snapshot.as_ref());
        match snap {
            Some(s) => {
                let mut mask = self.changed_columns(s);
                // A primary key identifies the row; it is never SET. The version column is
                // the flush's to bump, with the other columns, never on its own.
                for &pk in M::TABLE.primary_key {
                    mask.remove(pk);
                }
                if let Some(v) = M::TABLE.version_column {
                    mask.remove(v);
                }
                mask
            }
            None => {
                let mut all = ColumnMask::empty();
                for i in 0..M::TABLE.columns.len() {
                    if !M::TABLE.primary_key.contains(&i) && M::TABLE.version_column != Some(i) {
                        all.set(i);
                    }
                }
                all
            }
        }
    }
    fn is_persistent(&self, maps: &Maps) -> bool {
        self.key()
            .and_then(|k| map_ref::<M>(maps).and_then(|m| m.entries.get(&k).map(|e| e.persistent)))
            .unwrap_or(false)
    }
    fn record_persisted(&self, maps: &mut Maps, slot: Option<usize>) -> Undo {
        let Some(key) = self.key() else {
            return Box::new(|_, _| {});
        };
        let map = map_of::<M>(maps);
        let mut previous = map.entries.remove(&key);
        let kept_slot = slot.or_else(|| previous.as_ref().and_then(|e| e.slot));
        let mut entry = Entry::persistent(self.snapshot(), kept_slot);
        if let Some(p) = previous.as_mut() {
            // Copies read before a bulk update are as stale after this write as before it.
            entry.superseded = std::mem::take(&mut p.superseded);
        }
        // The user may keep a clone of what was written: a copy of the newest state.
        entry.handed_out();
        map.entries.insert(key.clone(), entry);
        Box::new(move |maps, slots| {
            let map = map_of::<M>(maps);
            let current = map.entries.remove(&key);
            match previous {
                Some(mut prev) if prev.persistent => {
                    if let Some(c) = current {
                        prev.superseded = c.superseded;
                    }
                    map.entries.insert(key, prev);
                }
                _ => {
                    map.entries.remove(&key);
                    if let Some(s) = slot.and_then(|i| slots.get_mut(i)) {
                        s.state = SlotState::Detached;
                    }
                }
            }
        })
    }
    fn forget_pending(&self, maps: &mut Maps) {
        if let Some(key) = self.key() {
            let map = map_of::<M>(maps);
            if map.entries.get(&key).is_some_and(|e| !e.persistent) {
                map.entries.remove(&key);
            }
        }
    }
    fn reset_to_snapshot(&mut self, maps: &Maps) {
        let Some(k) = self.key() else { return };
        if let Some(snap) =
            map_ref::<M>(maps).and_then(|m| m.entries.get(&k)).and_then(|e| e.snapshot.as_ref())
        {
            let changed = self.changed_columns(snap);
            self.restore_columns(snap, changed);
        }
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

type DeleteDone = Arc<dyn Fn(&mut Maps, &mut Vec<Slot>) -> Undo + Send + Sync>;

struct PendingDelete {
    type_id: TypeId,
    table: &'static TableSchema,
    relations: &'static [crate::relation::RelationSchema],
    key_values: Vec<Value>,
    /// The `#[orm(version)]` value the row must still have, when known.
    version: Option<Value>,
    done: DeleteDone,
    born: usize,
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
    Update,
    Delete,
    Get,
    SelectAll,
}

/// A unit of work over one [`Engine`]. `Send`: move it into a blocking task if you must; share
/// the engine, not the session.
///
/// ```
/// # fn main() -> orm_core::Result<()> { Ok(()) }
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
    deletes: Vec<PendingDelete>,
    journal: Vec<Undo>,
    nested_depth: usize,
    /// The keys of each loaded collection (source table, parent key, relationship) as last
    /// loaded or flushed: what delete-orphan and many-to-many unlinking compare against.
    collections: HashMap<CollectionKey, Vec<Vec<Value>>>,
    /// How to undo the collection snapshots flushes wrote in this transaction: the key and the
    /// snapshot it replaced.
    collection_journal: Vec<(CollectionKey, Option<Vec<Vec<Value>>>)>,
    /// Set when a statement failed inside the transaction with no savepoint to roll back to:
    /// the first failure's text and the nested depth it happened at. Only a rollback (of the
    /// session, or of a nested transaction at that depth or above) clears it.
    aborted: Option<(String, usize)>,
    /// How many savepoint-guarded writes are running: a failure inside one is rolled back to
    /// its savepoint and leaves the transaction usable.
    guarded: usize,
    /// Whether a bulk update or refresh ever replaced values behind copies' backs: until then,
    /// handing out an object needs no bookkeeping (see `Entry::stale_columns`).
    any_superseded: bool,
}

type CollectionKey = (&'static str, crate::value::KeyValues, &'static str);

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("in_transaction", &self.in_tx)
            .field("objects", &self.slots.len())
            .field("pending_deletes", &self.deletes.len())
            .finish()
    }
}

/// The savepoint that guards a flush or a raw or bulk write inside an open transaction.
const GUARD_SAVEPOINT: &str = "orm_flush";
const TEST_SAVEPOINT: &str = "orm_test";

impl Session {
    pub(crate) fn new(engine: Engine) -> Session {
        Session {
            engine,
            id: NEXT_SESSION_ID.fetch_add(1, Ordering::Relaxed),
            conn: None,
            in_tx: false,
            test_mode: false,
            slots: Vec::new(),
            maps: HashMap::new(),
            deletes: Vec::new(),
            journal: Vec::new(),
            nested_depth: 0,
            collections: HashMap::new(),
            collection_journal: Vec::new(),
            aborted: None,
            guarded: 0,
            any_superseded: false,
        }
    }

    /// Fails with [`Error::TransactionAborted`] when an earlier statement of the open
    /// transaction failed.
    fn check_usable(&self) -> Result<()> {
        match &self.aborted {
            Some((msg, _)) => Err(Error::TransactionAborted(msg.clone())),
            None => Ok(()),
        }
    }

    /// Records that a statement failed: outside a savepoint guard, inside a transaction, the
    /// transaction is done for (PostgreSQL says so; SQLite is held to the same rule).
    fn note_failure(&mut self, e: &Error) {
        if self.in_tx && self.guarded == 0 && self.aborted.is_none() {
            self.aborted = Some((e.to_string(), self.nested_depth));
        }
    }

    /// A session whose work is never committed: it opens a transaction now, `commit` only marks
    /// a savepoint, and dropping it rolls everything back. For tests that share one database.
    pub fn new_test_session(engine: &Engine) -> Result<Session> {
        let mut s = Session::new(engine.clone());
        s.test_mode = true;
        s.ensure_tx()?;
        let sql = s.engine.dialect().savepoint_sql(TEST_SAVEPOINT);
        s.batch(&sql)?;
        Ok(s)
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
            || self
                .slots
                .iter()
                .any(|s| matches!(s.state, SlotState::PendingInsert | SlotState::PendingUpdate))
    }

    // ----- adding, deleting, reading handles ---------------------------------------------------

    /// Adds an object: a new one (its key unset, or a key the session has not seen) is INSERTed
    /// at the next flush; a loaded one (its key in the identity map) is UPDATEd with the columns
    /// that changed, or costs nothing if none did. Returns a handle to read it back.
    pub fn add<M: Model>(&mut self, mut obj: M) -> Handle<M> {
        let key = obj.key();
        let born = self.journal.len();
        if let Some(k) = &key {
            // Adding back an object whose DELETE is pending cancels the delete.
            let kv = M::key_values(k);
            self.deletes.retain(|d| !(d.type_id == TypeId::of::<M>() && d.key_values == kv));
            let map = map_of::<M>(&mut self.maps);
            if let Some(entry) = map.entries.get_mut(k) {
                let mut conflict = None;
                let state = if entry.persistent {
                    match entry.stale_columns(&obj) {
                        Ok(stale) => {
                            if let (false, Some(snap)) = (stale.is_empty(), &entry.snapshot) {
                                obj.restore_columns(snap, stale);
                            }
                        }
                        Err(why) => conflict = Some(why),
                    }
                    SlotState::PendingUpdate
                } else {
                    SlotState::PendingInsert
                };
                if let Some(slot) = entry.slot.filter(|&s| s < self.slots.len()) {
                    let sl = &mut self.slots[slot];
                    sl.obj = Some(Box::new(obj));
                    sl.conflict = conflict;
                    if sl.state != SlotState::PendingInsert {
                        sl.state = state;
                        sl.born = born;
                    }
                    return self.handle(slot);
                }
                let slot = self.slots.len();
                entry.slot = Some(slot);
                let mut sl = Slot::new(Box::new(obj), state, born);
                sl.conflict = conflict;
                self.slots.push(sl);
                return self.handle(slot);
            }
            let slot = self.slots.len();
            map.entries.insert(
                k.clone(),
                Entry {
                    snapshot: None,
                    slot: Some(slot),
                    persistent: false,
                    superseded: Vec::new(),
                },
            );
            self.slots.push(Slot::new(Box::new(obj), SlotState::PendingInsert, born));
            return self.handle(slot);
        }
        let slot = self.slots.len();
        self.slots.push(Slot::new(Box::new(obj), SlotState::PendingInsert, born));
        self.handle(slot)
    }

    /// Adds every object of `objs`.
    pub fn add_all<M: Model>(&mut self, objs: impl IntoIterator<Item = M>) -> Vec<Handle<M>> {
        objs.into_iter().map(|o| self.add(o)).collect()
    }

    /// Adds and flushes one object, and gives it back with its generated key and defaults. On
    /// error the object is taken out of the session again, so the session stays usable.
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
        let version = M::TABLE.version_column.and_then(|v| {
            let snap = map_ref::<M>(&self.maps)?.entries.get(&key)?.snapshot.as_ref()?;
            Some(M::from_snapshot(snap).column_value(v))
        });
        self.delete_with_version::<M>(key, version)
    }

    fn delete_with_version<M: Model>(&mut self, key: M::Key, version: Option<Value>) -> Result<()> {
        let map = map_of::<M>(&mut self.maps);
        if let Some(entry) = map.entries.get(&key) {
            if !entry.persistent {
                if let Some(slot) = entry.slot {
                    if let Some(s) = self.slots.get_mut(slot) {
                        s.state = SlotState::Detached;
                    }
                }
                map.entries.remove(&key);
                return Ok(());
            }
            if let Some(slot) = entry.slot {
                if let Some(s) = self.slots.get_mut(slot) {
                    if s.state == SlotState::PendingUpdate {
                        s.state = SlotState::Persistent;
                    }
                }
            }
        }
        let key_values = M::key_values(&key);
        if self.deletes.iter().any(|d| d.type_id == TypeId::of::<M>() && d.key_values == key_values)
        {
            return Ok(());
        }
        let done: DeleteDone = Arc::new(move |maps: &mut Maps, slots: &mut Vec<Slot>| -> Undo {
            let map = map_of::<M>(maps);
            let removed = map.entries.remove(&key);
            if let Some(slot) = removed.as_ref().and_then(|e| e.slot) {
                if let Some(s) = slots.get_mut(slot) {
                    s.state = SlotState::Detached;
                }
            }
            let key = key.clone();
            Box::new(move |maps: &mut Maps, slots: &mut Vec<Slot>| {
                if let Some(prev) = removed {
                    if let Some(slot) = prev.slot {
                        if let Some(s) = slots.get_mut(slot) {
                            s.state = SlotState::Persistent;
                        }
                    }
                    map_of::<M>(maps).entries.insert(key, prev);
                }
            })
        });
        self.deletes.push(PendingDelete {
            type_id: TypeId::of::<M>(),
            table: M::TABLE,
            relations: M::RELATIONS,
            key_values,
            version,
            done,
            born: self.journal.len(),
        });
        Ok(())
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
        let born = self.journal.len();
        if let Some(obj) = self.slots.get(i)?.obj.as_ref()?.as_any().downcast_ref::<M>() {
            self.note_handed_out(obj);
        }
        let slot = self.slots.get_mut(i)?;
        if slot.state == SlotState::Persistent {
            slot.state = SlotState::PendingUpdate;
            slot.born = born;
        }
        slot.obj.as_mut()?.as_any_mut().downcast_mut::<M>()
    }

    /// Notes that the session handed out (a copy of) `obj`'s row; see `Entry::stale_columns`.
    /// Free until a bulk update or refresh gave some row values to be stale in.
    fn note_handed_out<M: Model>(&self, obj: &M) {
        if !self.any_superseded {
            return;
        }
        if let Some(e) = obj.key().and_then(|k| map_ref::<M>(&self.maps)?.entries.get(&k)) {
            e.handed_out();
        }
    }

    /// The object of model `M` with primary key `key`, held by the session for changing in
    /// place: every change made through the reference is written by the next flush (an UPDATE
    /// of the changed columns), with nothing to forget. The first way to change a row:
    ///
    /// ```ignore
    /// if let Some(user) = s.get_mut::<User>(1)? {
    ///     user.karma += 1;
    /// }
    /// s.commit()?; // UPDATE "users" SET "karma" = ? WHERE "users"."id" = ?
    /// ```
    ///
    /// Served from the identity map when the row is there (no SELECT). `None` when no such row
    /// exists.
    pub fn get_mut<M: Model>(&mut self, key: impl Into<M::Key>) -> Result<Option<&mut M>> {
        let key = key.into();
        self.autoflush()?;
        self.check_usable()?;
        let held = map_ref::<M>(&self.maps)
            .and_then(|m| m.entries.get(&key))
            .filter(|e| e.persistent)
            .and_then(|e| e.slot)
            .filter(|&i| {
                self.slots.get(i).is_some_and(|s| {
                    s.obj.is_some()
                        && matches!(s.state, SlotState::Persistent | SlotState::PendingUpdate)
                })
            });
        let slot = match held {
            Some(i) => i,
            None => {
                let Some(obj) = self.get::<M>(key.clone())? else { return Ok(None) };
                let i = self.slots.len();
                self.slots.push(Slot::new(
                    Box::new(obj),
                    SlotState::Persistent,
                    self.journal.len(),
                ));
                if let Some(e) = map_of::<M>(&mut self.maps).entries.get_mut(&key) {
                    e.slot = Some(i);
                }
                i
            }
        };
        Ok(self.slot_mut(slot))
    }

    /// Takes the object out of the session's arena (the identity map keeps its snapshot, so
    /// adding it back after changes still UPDATEs only what changed). A pending INSERT or UPDATE
    /// of it is cancelled.
    pub fn take<M: Model>(&mut self, h: Handle<M>) -> Option<M> {
        if h.session != self.id {
            return None;
        }
        if let Some(obj) = self.slots.get(h.slot)?.obj.as_ref()?.as_any().downcast_ref::<M>() {
            self.note_handed_out(obj);
        }
        let slot = self.slots.get_mut(h.slot)?;
        let obj = slot.obj.take()?;
        match slot.state {
            SlotState::PendingInsert => {
                obj.forget_pending(&mut self.maps);
                slot.state = SlotState::Detached;
            }
            SlotState::PendingUpdate => slot.state = SlotState::Persistent,
            _ => {}
        }
        obj.into_any().downcast::<M>().ok().map(|b| *b)
    }

    /// Removes an object from the session: a pending INSERT or UPDATE of it is cancelled, and
    /// the identity map forgets its row.
    pub fn expunge<M: Model>(&mut self, h: Handle<M>) {
        if let Some(obj) = self.take(h) {
            if let Some(k) = obj.key() {
                map_of::<M>(&mut self.maps).entries.remove(&k);
            }
        }
    }

    /// Forgets every object and snapshot and cancels everything pending (the transaction, if
    /// any, stays open).
    pub fn expunge_all(&mut self) {
        self.slots.clear();
        self.maps.clear();
        self.deletes.clear();
        self.journal.clear();
        self.collections.clear();
        self.collection_journal.clear();
        self.any_superseded = false;
    }

    // ----- transactions -------------------------------------------------------------------------

    fn conn_of<'a>(
        engine: &Engine,
        conn: &'a mut Option<PooledConnection>,
    ) -> Result<&'a mut dyn Connection> {
        if conn.is_none() {
            *conn = Some(engine.checkout()?);
        }
        match conn.as_mut() {
            Some(c) => Ok(c.as_mut()),
            None => Err(Error::Connection("no connection".into())),
        }
    }

    /// Runs transaction control or DDL. A failure inside a transaction aborts it (see
    /// [`Error::TransactionAborted`]).
    fn batch(&mut self, sql: &str) -> Result<()> {
        let r = {
            let conn = Self::conn_of(&self.engine, &mut self.conn)?;
            self.engine.run_batch(conn, sql)
        };
        if let Err(e) = &r {
            self.note_failure(e);
        }
        r
    }

    /// Returns the connection to the pool when no transaction needs it.
    fn release_if_idle(&mut self) {
        if !self.in_tx {
            self.conn = None;
        }
    }

    fn ensure_tx(&mut self) -> Result<()> {
        if !self.in_tx {
            let sql = self.engine.dialect().begin_sql();
            let r = self.batch(sql);
            if r.is_err() {
                self.release_if_idle();
            }
            r?;
            self.in_tx = true;
        }
        Ok(())
    }

    /// Flushes, then commits the transaction (if one is open). On error in the flush nothing of
    /// this flush is written and the pending work stays pending: fix it, `expunge` it, or
    /// `rollback`.
    pub fn commit(&mut self) -> Result<()> {
        if self.nested_depth > 0 {
            return Err(Error::InvalidUse(
                "commit inside begin_nested(): commit or roll back the nested transaction first"
                    .into(),
            ));
        }
        self.flush()?;
        self.check_usable()?;
        if self.in_tx {
            if self.test_mode {
                let d = self.engine.dialect();
                let sql = format!(
                    "{}; {}",
                    d.release_savepoint_sql(TEST_SAVEPOINT),
                    d.savepoint_sql(TEST_SAVEPOINT)
                );
                self.batch(&sql)?;
            } else {
                let r = self.batch(self.engine.dialect().commit_sql());
                if let Err(e) = r {
                    let _ = self.rollback();
                    return Err(e);
                }
                self.in_tx = false;
            }
        }
        self.journal.clear();
        self.collection_journal.clear();
        self.release_if_idle();
        Ok(())
    }

    /// Discards pending work and rolls the transaction back: the database is as at the last
    /// commit, the identity map forgets what this transaction wrote, and objects inserted in it
    /// are detached. The session stays usable.
    pub fn rollback(&mut self) -> Result<()> {
        self.discard_pending(0);
        let mut result = Ok(());
        if self.in_tx {
            if self.test_mode {
                let sql = self.engine.dialect().rollback_to_savepoint_sql(TEST_SAVEPOINT);
                result = self.batch(&sql);
            } else {
                result = self.batch(self.engine.dialect().rollback_sql());
                self.in_tx = false;
            }
        }
        self.aborted = None;
        self.undo_journal(0);
        self.undo_collections(0);
        self.nested_depth = 0;
        self.release_if_idle();
        result
    }

    fn discard_pending(&mut self, since: usize) {
        for slot in self.slots.iter_mut().filter(|s| s.born >= since) {
            match slot.state {
                SlotState::PendingInsert => {
                    if let Some(o) = &slot.obj {
                        o.forget_pending(&mut self.maps);
                    }
                    slot.state = SlotState::Detached;
                }
                SlotState::PendingUpdate => slot.state = SlotState::Persistent,
                _ => {}
            }
            slot.conflict = None;
        }
        self.deletes.retain(|d| d.born < since);
    }

    /// Records a collection snapshot written by a flush, so a rollback can restore the old one.
    pub(crate) fn set_collection(&mut self, key: CollectionKey, children: Vec<Vec<Value>>) {
        let previous = self.collections.insert(key.clone(), children);
        self.collection_journal.push((key, previous));
    }

    fn undo_collections(&mut self, to: usize) {
        while self.collection_journal.len() > to {
            if let Some((key, previous)) = self.collection_journal.pop() {
                match previous {
                    Some(p) => self.collections.insert(key, p),
                    None => self.collections.remove(&key),
                };
            }
        }
    }

    /// Undoes what the journal recorded after `to`, and gives the objects the session holds
    /// their rows' state again: after a rollback they show what the database holds, as
    /// SQLAlchemy's expire-on-rollback does (so no change of the rolled-back transaction is
    /// written later without being made again).
    fn undo_journal(&mut self, to: usize) {
        while self.journal.len() > to {
            if let Some(undo) = self.journal.pop() {
                undo(&mut self.maps, &mut self.slots);
            }
        }
        for slot in &mut self.slots {
            if matches!(slot.state, SlotState::Persistent | SlotState::PendingUpdate) {
                if let Some(obj) = slot.obj.as_deref_mut() {
                    obj.reset_to_snapshot(&self.maps);
                }
            }
        }
    }

    /// Starts a nested transaction (a SAVEPOINT), flushing first. The returned guard derefs to
    /// the session; `commit()` it to keep its work, or drop it / `rollback()` it to undo exactly
    /// that work (database and session both).
    pub fn begin_nested(&mut self) -> Result<Nested<'_>> {
        self.flush()?;
        self.check_usable()?;
        self.ensure_tx()?;
        self.nested_depth += 1;
        let name = format!("orm_nested_{}", self.nested_depth);
        let sql = self.engine.dialect().savepoint_sql(&name);
        if let Err(e) = self.batch(&sql) {
            self.nested_depth -= 1;
            return Err(e);
        }
        let mark = self.journal.len();
        let collection_mark = self.collection_journal.len();
        Ok(Nested { session: self, name, mark, collection_mark, done: false })
    }

    // ----- flush -------------------------------------------------------------------------------

    /// Writes every pending change, in foreign-key order, inside the session's transaction
    /// (opened if needed). Nothing is written if any statement fails.
    pub fn flush(&mut self) -> Result<()> {
        if !self.has_pending() {
            return Ok(());
        }
        self.check_usable()?;
        if let Some(why) = self
            .slots
            .iter()
            .filter(|s| s.state == SlotState::PendingUpdate)
            .find_map(|s| s.conflict.clone())
        {
            return Err(Error::StaleData(why));
        }
        let steps = self.plan()?;
        if steps.is_empty() {
            // Only unchanged objects were added: no statement at all.
            for s in &mut self.slots {
                if s.state == SlotState::PendingUpdate {
                    s.state = SlotState::Persistent;
                }
            }
            return Ok(());
        }
        let mut outcome = flush::Outcome::default();
        match self.guarded(|s| s.run_steps(&steps, &mut outcome)) {
            Ok(()) => {
                self.apply(outcome);
                Ok(())
            }
            Err(e) => {
                self.revert(&outcome);
                Err(e)
            }
        }
    }

    /// Runs `work` so that a failure in it changes nothing in the database and leaves the
    /// transaction usable, on every backend: under a savepoint when a transaction is already
    /// open (PostgreSQL would otherwise abort it), else in a new transaction that a failure
    /// rolls back. The one place writes are guarded.
    fn guarded<T>(&mut self, work: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
        self.check_usable()?;
        let fresh_tx = !self.in_tx;
        self.ensure_tx()?;
        let dialect = self.engine.dialect();
        if !fresh_tx {
            self.batch(&dialect.savepoint_sql(GUARD_SAVEPOINT))?;
        }
        self.guarded += 1;
        let r = work(self);
        self.guarded -= 1;
        match r {
            Ok(v) => {
                if !fresh_tx {
                    self.batch(&dialect.release_savepoint_sql(GUARD_SAVEPOINT))?;
                }
                Ok(v)
            }
            Err(e) if fresh_tx => {
                let _ = self.batch(dialect.rollback_sql());
                self.in_tx = false;
                self.release_if_idle();
                Err(e)
            }
            Err(e) => {
                // A failed ROLLBACK TO marks the transaction aborted (in `batch`).
                let _ = self.batch(&format!(
                    "{}; {}",
                    dialect.rollback_to_savepoint_sql(GUARD_SAVEPOINT),
                    dialect.release_savepoint_sql(GUARD_SAVEPOINT)
                ));
                Err(e)
            }
        }
    }

    fn cached_sql(
        &self,
        table: &'static TableSchema,
        kind: StmtKind,
        mask: ColumnMask,
        render: impl FnOnce() -> Result<String>,
    ) -> Result<Arc<str>> {
        self.engine.cached_sql((table.name, kind as u8, mask), render)
    }

    // ----- reading -----------------------------------------------------------------------------

    /// A query over model `M`.
    pub fn query<M: Model>(&mut self) -> Query<'_, M> {
        Query::new(self)
    }

    /// The object of model `M` with primary key `key`. A row already in the identity map is
    /// served from it without a statement.
    pub fn get<M: Model>(&mut self, key: impl Into<M::Key>) -> Result<Option<M>> {
        let key = key.into();
        self.autoflush()?;
        // What the identity map holds may be work of an aborted transaction.
        self.check_usable()?;
        if let Some(e) = map_ref::<M>(&self.maps).and_then(|m| m.entries.get(&key)) {
            if let (true, Some(snap)) = (e.persistent, e.snapshot.as_ref()) {
                e.handed_out();
                return Ok(Some(M::from_snapshot(snap)));
            }
        }
        let sql = self.get_sql::<M>()?;
        let params = M::key_values(&key);
        let mut rows = self.load_rows::<M>(&sql, &params, Tracking::Tracked)?;
        Ok(rows.pop())
    }

    fn get_sql<M: Model>(&self) -> Result<Arc<str>> {
        let t = M::TABLE;
        let dialect = self.engine.dialect();
        self.cached_sql(t, StmtKind::Get, ColumnMask::empty(), || {
            let mut sel = select_all_of(t);
            sel.filter = Some(key_filter(t));
            dialect.select(&sel).map(|r| r.sql)
        })
    }

    /// Reads `obj`'s row again and gives `obj` its columns (relationships stay as they are).
    /// The session takes the row's values too, and so does the object it holds for the row;
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
        let sql = self.get_sql::<M>()?;
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
    pub fn merge<M: Model>(&mut self, obj: M) -> Result<Handle<M>> {
        if let Some(key) = obj.key() {
            let known = map_ref::<M>(&self.maps)
                .and_then(|m| m.entries.get(&key))
                .is_some_and(|e| e.persistent || e.slot.is_some());
            if !known {
                self.get::<M>(key)?;
            }
        }
        Ok(self.add(obj))
    }

    /// Like [`get`](Self::get), but a missing row is [`Error::NotFound`].
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

    pub(crate) fn select_all_sql<M: Model>(&mut self) -> Result<Arc<str>> {
        let dialect = self.engine.dialect();
        self.cached_sql(M::TABLE, StmtKind::SelectAll, ColumnMask::empty(), || {
            dialect.select(&select_all_of(M::TABLE)).map(|r| r.sql)
        })
    }

    /// Runs a SELECT of `M`'s columns and decodes the rows, tracking them as `tracking` says.
    pub(crate) fn load_rows<M: Model>(
        &mut self,
        sql: &str,
        params: &[Value],
        tracking: Tracking,
    ) -> Result<Vec<M>> {
        let mut out: Vec<M> = Vec::new();
        self.read(sql, params, &mut |row| {
            out.push(M::decode(row, 0)?);
            Ok(())
        })?;
        if tracking != Tracking::Untracked {
            map_of::<M>(&mut self.maps).entries.reserve(out.len());
            for obj in &mut out {
                self.track_with(obj, tracking == Tracking::Populate);
            }
        } else if self.any_superseded {
            for obj in &out {
                self.note_handed_out(obj);
            }
        }
        Ok(out)
    }

    /// Records a row read from the database in the identity map. A row the session already
    /// knows is given the session's state (one state per identity).
    pub(crate) fn track<M: Model>(&mut self, obj: &mut M) {
        self.track_with(obj, false);
    }

    /// [`track`](Self::track), or with `populate` the session takes the row's values from the
    /// database, and so does the object it holds for that row.
    pub(crate) fn track_with<M: Model>(&mut self, obj: &mut M, populate: bool) {
        let map = map_of::<M>(&mut self.maps);
        let Tracked::Populated(changed) = map.track(obj, populate) else { return };
        self.any_superseded = true;
        let Some(slot) = obj.key().and_then(|k| map.entries.get(&k)).and_then(|e| e.slot) else {
            return;
        };
        if let Some(held) = self
            .slots
            .get_mut(slot)
            .and_then(|s| s.obj.as_mut())
            .and_then(|o| o.as_any_mut().downcast_mut::<M>())
        {
            held.restore_columns(&obj.snapshot(), changed);
        }
    }

    /// Remembers the keys of a loaded collection.
    pub(crate) fn record_collection(
        &mut self,
        table: &'static str,
        parent: Vec<Value>,
        relation: &'static str,
        children: Vec<Vec<Value>>,
    ) {
        self.collections.insert((table, crate::value::KeyValues(parent), relation), children);
    }

    /// Loads relationship `rel` (or a path of them) of one object, with one query per level
    /// (explicit lazy loading): `s.load_related(&mut user, User::posts)?`. See the `orm`
    /// crate's `relationships` guide for a runnable example.
    pub fn load_related<M: Model>(
        &mut self,
        obj: &mut M,
        path: impl crate::loading::LoadPath<M>,
    ) -> Result<()> {
        self.autoflush()?;
        path.load_into(self, &mut [obj])
    }

    /// Loads relationship `rel` (or a path of them) of every object of a slice, with one query
    /// per level whatever the number of objects.
    pub fn load_related_all<M: Model>(
        &mut self,
        objs: &mut [M],
        path: impl crate::loading::LoadPath<M>,
    ) -> Result<()> {
        self.autoflush()?;
        let mut refs: Vec<&mut M> = objs.iter_mut().collect();
        path.load_into(self, &mut refs)
    }

    /// Runs a query and decodes each row with `decode`.
    pub(crate) fn fetch<T>(
        &mut self,
        sql: &str,
        params: &[Value],
        decode: &mut dyn FnMut(&dyn Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.read(sql, params, &mut |row| {
            out.push(decode(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs a query, handing each row to `each`. A failure of the statement inside a
    /// transaction aborts it ([`Error::TransactionAborted`] until rollback); a failure to decode
    /// a row is the caller's error alone and leaves the transaction as it was.
    fn read(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        self.check_usable()?;
        let mut decode_error = None;
        let r = {
            let conn = Self::conn_of(&self.engine, &mut self.conn)?;
            self.engine.run_query(conn, sql, params, &mut |row: &dyn Row| {
                if decode_error.is_none() {
                    if let Err(e) = each(row) {
                        decode_error = Some(e);
                    }
                }
                Ok(())
            })
        };
        if let Err(e) = &r {
            self.note_failure(e);
        }
        self.release_if_idle();
        r?;
        decode_error.map_or(Ok(()), Err)
    }

    /// Runs a writing statement inside the session's transaction. A failing statement changes
    /// nothing and leaves the transaction usable, on every backend (see [`Session::guarded`]).
    pub(crate) fn write(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.autoflush()?;
        self.guarded(|s| {
            let conn = Self::conn_of(&s.engine, &mut s.conn)?;
            s.engine.run_execute(conn, sql, params)
        })
    }

    /// Whether the identity map holds any row of `M` (a bulk statement then reads back the
    /// rows it touched, to keep the session's view of them true).
    pub(crate) fn holds_rows_of<M: Model>(&self) -> bool {
        map_ref::<M>(&self.maps).is_some_and(|m| m.entries.values().any(|e| e.persistent))
    }

    /// Runs a writing statement that returns rows of `M` (`UPDATE … RETURNING`), guarded like
    /// [`write`](Self::write): if it or the decoding of its rows fails, nothing is written.
    pub(crate) fn write_returning<M: Model>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<M>> {
        self.autoflush()?;
        self.guarded(|s| {
            let mut out = Vec::new();
            s.read(sql, params, &mut |row| {
                out.push(M::decode(row, 0)?);
                Ok(())
            })?;
            Ok(out)
        })
    }

    /// After a bulk UPDATE of the columns `set`: the session takes their new values (as the
    /// statement returned them) into its state of the rows it holds, and so do the objects it
    /// holds; its state of the other columns stays (one state per identity). A copy read
    /// before keeps the old values, which are known stale and never written back (see
    /// `Entry::stale_columns`). Undone by a rollback.
    pub(crate) fn sync_updated<M: Model>(&mut self, rows: Vec<M>, set: ColumnMask) {
        for row in rows {
            let Some(key) = row.key() else { continue };
            let map = map_of::<M>(&mut self.maps);
            let Some(entry) = map.entries.get_mut(&key).filter(|e| e.persistent) else { continue };
            let Some(snap) = &entry.snapshot else { continue };
            let changed = row.changed_columns(snap).intersection(&set);
            if changed.is_empty() {
                continue;
            }
            let mut now = M::from_snapshot(snap);
            now.restore_columns(&row.snapshot(), changed);
            entry.supersede(now.snapshot(), false);
            self.any_superseded = true;
            if let Some(held) = entry
                .slot
                .and_then(|i| self.slots.get_mut(i))
                .and_then(|s| s.obj.as_mut())
                .and_then(|o| o.as_any_mut().downcast_mut::<M>())
            {
                held.restore_columns(&row.snapshot(), changed);
            }
            self.journal.push(Box::new(move |maps: &mut Maps, _: &mut Vec<Slot>| {
                if let Some(e) = map_of::<M>(maps).entries.get_mut(&key) {
                    if let Some(sup) = e.superseded.pop() {
                        e.snapshot = Some(sup.before);
                    }
                }
            }));
        }
    }

    /// After a bulk DELETE: the session forgets the rows it deleted, and the objects it held
    /// for them are detached. Undone by a rollback.
    pub(crate) fn sync_deleted<M: Model>(&mut self, rows: Vec<M>) {
        for row in rows {
            let Some(key) = row.key() else { continue };
            let Some(entry) = map_of::<M>(&mut self.maps).entries.remove(&key) else { continue };
            let slot = entry.slot.filter(|&i| {
                self.slots.get(i).is_some_and(|s| {
                    matches!(s.state, SlotState::Persistent | SlotState::PendingUpdate)
                })
            });
            if let Some(s) = slot.and_then(|i| self.slots.get_mut(i)) {
                s.state = SlotState::Detached;
            }
            self.journal.push(Box::new(move |maps: &mut Maps, slots: &mut Vec<Slot>| {
                if let Some(s) = slot.and_then(|i| slots.get_mut(i)) {
                    s.state = SlotState::Persistent;
                }
                map_of::<M>(maps).entries.insert(key, entry);
            }));
        }
    }

    /// Runs a DDL statement in the session's transaction.
    pub fn execute_ddl(&mut self, sql: &str) -> Result<()> {
        self.check_usable()?;
        self.ensure_tx()?;
        self.batch(sql)
    }

    /// Raw SQL with `:name` parameters: `s.sql("SELECT ... WHERE id = :id").bind("id", 5)`.
    pub fn sql(&mut self, sql: &str) -> RawQuery<'_> {
        RawQuery { session: self, sql: sql.to_owned(), params: Vec::new() }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.in_tx {
            if let Some(conn) = self.conn.as_mut() {
                let _ = self.engine.run_batch(conn.as_mut(), self.engine.dialect().rollback_sql());
            }
        }
    }
}

impl<M: Model> std::ops::Index<Handle<M>> for Session {
    type Output = M;
    /// # Panics
    /// On a handle of another session, or one whose object was taken out with `take`.
    fn index(&self, h: Handle<M>) -> &M {
        match self.try_get(h) {
            Some(m) => m,
            None => panic!("{h:?} does not belong to this session or its object was taken"),
        }
    }
}

impl<M: Model> std::ops::IndexMut<Handle<M>> for Session {
    /// # Panics
    /// As for `Index`.
    fn index_mut(&mut self, h: Handle<M>) -> &mut M {
        match self.try_get_mut(h) {
            Some(m) => m,
            None => panic!("{h:?} does not belong to this session or its object was taken"),
        }
    }
}

/// A nested transaction (SAVEPOINT) started by [`Session::begin_nested`]. Derefs to the session.
/// Dropping it without `commit` rolls its work back.
pub struct Nested<'s> {
    session: &'s mut Session,
    name: String,
    mark: usize,
    collection_mark: usize,
    done: bool,
}

impl Nested<'_> {
    /// Flushes and releases the savepoint: the work joins the enclosing transaction.
    pub fn commit(mut self) -> Result<()> {
        self.session.flush()?;
        self.session.check_usable()?;
        let sql = self.session.engine.dialect().release_savepoint_sql(&self.name);
        self.session.batch(&sql)?;
        self.done = true;
        self.session.nested_depth -= 1;
        Ok(())
    }

    /// Rolls back to the savepoint: the database and the session forget this nested work.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.undo()
    }

    fn undo(&mut self) -> Result<()> {
        let s = &mut *self.session;
        s.discard_pending(self.mark);
        let d = s.engine.dialect();
        let sql = format!(
            "{}; {}",
            d.rollback_to_savepoint_sql(&self.name),
            d.release_savepoint_sql(&self.name)
        );
        let depth = s.nested_depth;
        let r = s.batch(&sql);
        if r.is_ok() && s.aborted.as_ref().is_some_and(|(_, at)| *at >= depth) {
            // The savepoint was taken before the failure: rolling back to it heals the
            // transaction (as on PostgreSQL).
            s.aborted = None;
        }
        s.undo_journal(self.mark);
        s.undo_collections(self.collection_mark);
        s.nested_depth = s.nested_depth.saturating_sub(1);
        r
    }
}

impl std::ops::Deref for Nested<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        self.session
    }
}
impl std::ops::DerefMut for Nested<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        self.session
    }
}
impl Drop for Nested<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.undo() {
                tracing::warn!(target: "orm::session", "rolling back a nested transaction failed: {e}");
            }
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

/// `SELECT <all columns of t> FROM t`.
pub(crate) fn select_all_of(t: &'static TableSchema) -> Select {
    let mut sel = Select::from_table(t.name);
    sel.columns = t.columns.iter().map(|c| Expr::Column { table: t.name, name: c.name }).collect();
    sel
}

/// `pk1 = ? AND pk2 = ?` with NULL placeholders, for statements rendered once per model.
fn key_filter(t: &'static TableSchema) -> Expr {
    let mut conds: Vec<Expr> = t
        .primary_key_columns()
        .map(|c| {
            Expr::binary(
                Expr::Column { table: t.name, name: c.name },
                crate::statement::BinaryOp::Eq,
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

/// The columns an INSERT leaves to the database and reads back: an unset generated key, and
/// the columns whose value is `DbDefault::Default`. Every other value is written, also on a
/// column with a `server_default`: a value the user set reaches the database.
fn insert_returning(t: &'static TableSchema, obj: &dyn AnyModel) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, c) in t.columns.iter().enumerate() {
        let generated =
            if c.auto_increment { !obj.has_key() } else { obj.column_value(i) == Value::Default };
        if generated {
            out.push(i);
        }
    }
    out
}
