//! The identity maps: per model, the session's state of each row it knows (a columns-only
//! snapshot), the earlier states a bulk update or refresh replaced (to tell stale copies), and
//! a typed undo log of the changes the open transaction made, for rollback.

use super::{Session, Slot, SlotState, Undo};
use crate::model::{ColumnMask, Model};
use crate::value::{KeyValues, Value};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// The identity maps, one per model type. Not a public API.
#[doc(hidden)]
pub type Maps = HashMap<TypeId, Box<dyn ErasedMap>>;

/// An identity map seen without its model type. Not a public API.
#[doc(hidden)]
pub trait ErasedMap: Send {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// Forgets the rows with these key values (they were deleted), detaching the objects held
    /// for them; returns how many the map had (each an entry on the map's undo log). One pass
    /// over the map, however many keys.
    fn remove_values(&mut self, keys: &[&[Value]], slots: &mut [Slot]) -> usize;
    /// Forgets the row with this key (an `M::Key`), as [`ErasedMap::remove_values`].
    fn remove_key(&mut self, key: &dyn Any, slots: &mut [Slot]) -> bool;
    /// Takes back the newest change on the map's undo log; returns the arena slot of the object
    /// held for that row, if any (its columns may need the restored state).
    fn undo_last(&mut self, slots: &mut [Slot]) -> Option<usize>;
}

impl<M: Model> ErasedMap for IdentityMap<M> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn remove_values(&mut self, keys: &[&[Value]], slots: &mut [Slot]) -> usize {
        if keys.is_empty() || self.entries.is_empty() {
            return 0;
        }
        let wanted: std::collections::HashSet<KeyValues> =
            keys.iter().map(|k| KeyValues(k.to_vec())).collect();
        let found: Vec<M::Key> = self
            .entries
            .keys()
            .filter(|k| wanted.contains(&KeyValues(M::key_values(k))))
            .cloned()
            .collect();
        found.into_iter().filter(|k| self.remove(k.clone(), slots)).count()
    }
    fn remove_key(&mut self, key: &dyn Any, slots: &mut [Slot]) -> bool {
        match key.downcast_ref::<M::Key>() {
            Some(k) => self.remove(k.clone(), slots),
            None => false,
        }
    }
    fn undo_last(&mut self, slots: &mut [Slot]) -> Option<usize> {
        match self.undo.pop()? {
            MapUndo::Written { key, previous, slot } => {
                let current = self.entries.remove(&key);
                match previous {
                    Some(mut prev) if prev.persistent => {
                        if let Some(c) = current {
                            prev.superseded = c.superseded;
                        }
                        let held = prev.slot;
                        self.entries.insert(key, prev);
                        held
                    }
                    _ => {
                        if let Some(s) = slot.and_then(|i| slots.get_mut(i)) {
                            s.state = SlotState::Detached;
                        }
                        None
                    }
                }
            }
            MapUndo::Removed { key, entry, slot } => {
                if let Some(s) = slot.and_then(|i| slots.get_mut(i)) {
                    s.state = SlotState::Persistent;
                }
                self.entries.insert(key, entry);
                slot
            }
            MapUndo::Superseded(key) => {
                let e = self.entries.get_mut(&key)?;
                if let Some(sup) = e.superseded.pop() {
                    e.snapshot = Some(sup.before);
                }
                e.slot
            }
        }
    }
}

/// One change the open transaction made to an identity map, and what it replaced: what a
/// rollback takes back, newest first.
enum MapUndo<M: Model> {
    /// A flush wrote the row: put `previous` back (or forget a row it inserted, detaching the
    /// object held in `slot`).
    Written { key: M::Key, previous: Option<Entry<M>>, slot: Option<usize> },
    /// The row was deleted: remember it again, and re-attach the object held for it.
    Removed { key: M::Key, entry: Entry<M>, slot: Option<usize> },
    /// A bulk update replaced the session's state of the row: take the newest state back.
    Superseded(M::Key),
}

pub(super) struct Entry<M: Model> {
    /// The row's columns as this session knows them (last read, written, or synchronised
    /// after a bulk update); `None` only while the row is a pending INSERT.
    pub(super) snapshot: Option<M::Snapshot>,
    /// The arena slot holding this row's object, if it was added.
    pub(super) slot: Option<usize>,
    /// `false` while the row is only a pending INSERT.
    pub(super) persistent: bool,
    /// The row's earlier states, oldest first: each the state just before a bulk update or a
    /// refresh replaced values behind copies' backs. Copies read then still hold them; see
    /// [`Entry::stale_columns`].
    pub(super) superseded: Vec<Superseded<M>>,
}

/// One earlier state of a row: the end of a "generation" that a bulk update or refresh closed.
pub(super) struct Superseded<M: Model> {
    /// The row as the session knew it when the generation ended.
    before: M::Snapshot,
    /// Whether copies of the *next* generation's state may exist: the row was handed out (a
    /// read, `get`, a handle) or written while that generation was the newest.
    next_seen: AtomicBool,
}

impl<M: Model> Entry<M> {
    /// Notes that the row was handed out or written: copies of its newest state may exist.
    pub(super) fn handed_out(&self) {
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

    pub(super) fn persistent(snapshot: M::Snapshot, slot: Option<usize>) -> Entry<M> {
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
    pub(super) fn stale_columns(&self, obj: &M) -> std::result::Result<ColumnMask, String> {
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

pub(super) struct IdentityMap<M: Model> {
    pub(super) entries: HashMap<M::Key, Entry<M>>,
    /// This map's part of the session's undo log (see [`super::Undo`]).
    undo: Vec<MapUndo<M>>,
}

/// What reading a row did to the session's state of it.
pub(super) enum Tracked {
    /// The row was new to the session, or the same as it knew it.
    Unchanged,
    /// `populate`: the session took the database's values of these columns.
    Populated(ColumnMask),
}

impl<M: Model> IdentityMap<M> {
    /// Forgets a deleted row, detaching the object held for it, with an undo entry.
    fn remove(&mut self, key: M::Key, slots: &mut [Slot]) -> bool {
        let Some(entry) = self.entries.remove(&key) else { return false };
        let slot = entry.slot.filter(|&i| {
            slots.get(i).is_some_and(|s| {
                matches!(s.state, SlotState::Persistent | SlotState::PendingUpdate)
            })
        });
        if let Some(s) = slot.and_then(|i| slots.get_mut(i)) {
            s.state = SlotState::Detached;
        }
        self.undo.push(MapUndo::Removed { key, entry, slot });
        true
    }

    /// Records that a flush wrote `obj` (held in `slot`, if at the top of the arena): its
    /// snapshot becomes the session's state of the row, with an undo entry.
    pub(super) fn record_written(&mut self, obj: &M, slot: Option<usize>) {
        let Some(key) = obj.key() else { return };
        let mut previous = self.entries.remove(&key);
        let kept_slot = slot.or_else(|| previous.as_ref().and_then(|e| e.slot));
        let mut entry = Entry::persistent(obj.snapshot(), kept_slot);
        if let Some(p) = previous.as_mut() {
            // Copies read before a bulk update are as stale after this write as before it.
            entry.superseded = std::mem::take(&mut p.superseded);
        }
        // The user may keep a clone of what was written: a copy of the newest state.
        entry.handed_out();
        self.entries.insert(key.clone(), entry);
        self.undo.push(MapUndo::Written { key, previous, slot });
    }

    /// Records a row read from the database. A row the session already knows keeps the
    /// session's state, and `obj` is set to it (one state per identity), unless `populate`
    /// asks for the database's values: then the session takes them, remembering the values
    /// they replaced.
    pub(super) fn track(&mut self, obj: &mut M, populate: bool) -> Tracked {
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

pub(super) fn map_of<M: Model>(maps: &mut Maps) -> &mut IdentityMap<M> {
    let any = maps.entry(TypeId::of::<M>()).or_insert_with(|| {
        Box::new(IdentityMap::<M> { entries: HashMap::new(), undo: Vec::new() })
    });
    match any.as_any_mut().downcast_mut::<IdentityMap<M>>() {
        Some(m) => m,
        None => unreachable!("identity maps are keyed by their model's TypeId"),
    }
}

pub(super) fn map_ref<M: Model>(maps: &Maps) -> Option<&IdentityMap<M>> {
    maps.get(&TypeId::of::<M>()).and_then(|m| m.as_any().downcast_ref::<IdentityMap<M>>())
}

impl Session {
    /// Records a row read from the database in the identity map. A row the session already
    /// knows is given the session's state (one state per identity).
    pub(crate) fn track<M: Model>(&mut self, obj: &mut M) {
        self.track_with(obj, false);
    }

    /// [`track`](Self::track), or with `populate` the session takes the row's values from the
    /// database, and so does the object it holds for that row.
    pub(crate) fn track_with<M: Model>(&mut self, obj: &mut M, populate: bool) {
        if let Tracked::Populated(changed) = map_of::<M>(&mut self.maps).track(obj, populate) {
            self.populated(obj, changed);
        }
    }

    /// After a read took the database's values of `changed` into the session's state of
    /// `obj`'s row: the object the session holds for the row takes them too.
    pub(super) fn populated<M: Model>(&mut self, obj: &M, changed: ColumnMask) {
        self.any_superseded = true;
        let Some(entry) = obj.key().and_then(|k| map_ref::<M>(&self.maps)?.entries.get(&k)) else {
            return;
        };
        let (Some(slot), Some(snap)) = (entry.slot, entry.snapshot.as_ref()) else { return };
        if let Some(held) = self
            .slots
            .get_mut(slot)
            .and_then(|s| s.obj.as_mut())
            .and_then(|o| o.as_any_mut().downcast_mut::<M>())
        {
            held.restore_columns(snap, changed);
        }
    }

    /// Notes that the session handed out (a copy of) `obj`'s row; see `Entry::stale_columns`.
    /// Free until a bulk update or refresh gave some row values to be stale in.
    pub(super) fn note_handed_out<M: Model>(&self, obj: &M) {
        if !self.any_superseded {
            return;
        }
        if let Some(e) = obj.key().and_then(|k| map_ref::<M>(&self.maps)?.entries.get(&k)) {
            e.handed_out();
        }
    }

    /// Whether the identity map holds any row of `M` (a bulk statement then reads back the
    /// rows it touched, to keep the session's view of them true).
    pub(crate) fn holds_rows_of<M: Model>(&self) -> bool {
        map_ref::<M>(&self.maps).is_some_and(|m| m.entries.values().any(|e| e.persistent))
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
            let returned = row.snapshot();
            now.restore_columns(&returned, changed);
            entry.supersede(now.snapshot(), false);
            self.any_superseded = true;
            if let Some(held) = entry
                .slot
                .and_then(|i| self.slots.get_mut(i))
                .and_then(|s| s.obj.as_mut())
                .and_then(|o| o.as_any_mut().downcast_mut::<M>())
            {
                held.restore_columns(&returned, changed);
            }
            map_of::<M>(&mut self.maps).undo.push(MapUndo::Superseded(key));
            self.journal.push(Undo::Map(TypeId::of::<M>()));
        }
    }

    /// After a bulk DELETE: the session forgets the rows it deleted, and the objects it held
    /// for them are detached. Undone by a rollback.
    pub(crate) fn sync_deleted<M: Model>(&mut self, rows: Vec<M>) {
        for row in rows {
            let Some(key) = row.key() else { continue };
            if map_of::<M>(&mut self.maps).remove(key, &mut self.slots) {
                self.journal.push(Undo::Map(TypeId::of::<M>()));
            }
        }
    }
}
