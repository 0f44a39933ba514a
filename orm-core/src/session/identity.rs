//! The identity maps: per model, the session's state of each row it knows (a columns-only
//! snapshot), the earlier states a bulk update or refresh replaced (to tell stale copies), and
//! an undo log of the changes the open transaction made, for rollback.
//!
//! The maps are one type for every model: keys are [`MapKey`]s, snapshots are type-erased
//! ([`Snapshot`]) and a model's own methods are reached through [`AnyModel`]. So this code is
//! compiled once, not once per model (the compile cost per model, issue 10); the generic
//! session methods that call it are thin shells.

use super::{ModelSlice, Session, Slot, SlotState, Undo};
use crate::model::{AnyModel, ColumnMask, MapKey, Snapshot};
use crate::value::Value;
use std::any::TypeId;
use std::sync::atomic::{AtomicBool, Ordering};

/// The identity maps, one per model type.
pub(super) type Maps = crate::fast::Map<TypeId, IdentityMap>;

/// One change the open transaction made to an identity map, and what it replaced: what a
/// rollback takes back, newest first.
enum MapUndo {
    /// A flush wrote the row: put `previous` back (or forget a row it inserted, detaching the
    /// object held in `slot`).
    Written { key: MapKey, previous: Option<Entry>, slot: Option<usize> },
    /// The row was deleted: remember it again, and re-attach the object held for it.
    Removed { key: MapKey, entry: Entry, slot: Option<usize> },
    /// A bulk update replaced the session's state of the row: take the newest state back.
    Superseded(MapKey),
}

pub(super) struct Entry {
    /// The row's columns as this session knows them (last read, written, or synchronised
    /// after a bulk update); `None` only while the row is a pending INSERT.
    pub(super) snapshot: Option<Snapshot>,
    /// The arena slot holding this row's object, if it was added.
    pub(super) slot: Option<usize>,
    /// `false` while the row is only a pending INSERT.
    pub(super) persistent: bool,
    /// The row's earlier states, oldest first: each the state just before a bulk update or a
    /// refresh replaced values behind copies' backs. Copies read then still hold them; see
    /// [`Entry::stale_columns`].
    pub(super) superseded: Vec<Superseded>,
}

/// One earlier state of a row: the end of a "generation" that a bulk update or refresh closed.
pub(super) struct Superseded {
    /// The row as the session knew it when the generation ended.
    before: Snapshot,
    /// Whether copies of the *next* generation's state may exist: the row was handed out (a
    /// read, `get`, a handle) or written while that generation was the newest.
    next_seen: AtomicBool,
}

impl Entry {
    /// A pending INSERT held in `slot`.
    pub(super) fn pending(slot: usize) -> Entry {
        Entry { snapshot: None, slot: Some(slot), persistent: false, superseded: Vec::new() }
    }

    pub(super) fn persistent(snapshot: Snapshot, slot: Option<usize>) -> Entry {
        Entry { snapshot: Some(snapshot), slot, persistent: true, superseded: Vec::new() }
    }

    /// The session's state of the row, when it knows the row to exist.
    pub(super) fn known(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref().filter(|_| self.persistent)
    }

    /// Notes that the row was handed out or written: copies of its newest state may exist.
    pub(super) fn handed_out(&self) {
        if let Some(last) = self.superseded.last() {
            last.next_seen.store(true, Ordering::Relaxed);
        }
    }

    /// Closes the current generation: the session's state is now `now`, and `before` becomes
    /// an earlier state copies may hold. `seen`: the new state is handed out at once.
    fn supersede(&mut self, now: Snapshot, seen: bool) {
        if let Some(before) = self.snapshot.replace(now) {
            self.superseded.push(Superseded { before, next_seen: AtomicBool::new(seen) });
        }
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
    pub(super) fn stale_columns(
        &self,
        obj: &dyn AnyModel,
        key: &MapKey,
    ) -> std::result::Result<ColumnMask, String> {
        let (Some(current), Some(first)) = (&self.snapshot, self.superseded.first()) else {
            return Ok(ColumnMask::empty());
        };
        let table = obj.table();
        let mut changed = obj.changed_since(current);
        if let Some(v) = table.version_column {
            changed.remove(v);
        }
        let write_if_read_at = |state: &Snapshot| changed.intersection(&obj.changed_since(state));
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
                disagree.iter().filter_map(|i| table.columns.get(i)).map(|c| c.name).collect();
            return Err(format!(
                "{} with key {key}: the object added holds, in {}, the value of a state that a \
                 bulk update or refresh replaced, and the row was read or written since, so the \
                 session cannot tell a stale copy from a change back to the old value; change \
                 the row through `get_mut`, or re-read it and apply the change again",
                table.name,
                names.join(", ")
            ));
        }
        Ok(changed.difference(&write))
    }
}

/// One model's identity map.
#[derive(Default)]
pub(super) struct IdentityMap {
    pub(super) entries: crate::fast::Map<MapKey, Entry>,
    /// This map's part of the session's undo log (see [`super::Undo`]).
    undo: Vec<MapUndo>,
}

/// What reading a row did to the session's state of it.
pub(super) enum Tracked {
    /// The row was new to the session, or the same as it knew it.
    Unchanged,
    /// `populate`: the session took the database's values of these columns.
    Populated(ColumnMask),
}

impl IdentityMap {
    /// Forgets the rows with these key values (they were deleted), detaching the objects held
    /// for them; returns how many the map had (each an entry on the map's undo log).
    pub(super) fn remove_values(&mut self, keys: &[&[Value]], slots: &mut [Slot]) -> usize {
        keys.iter().filter(|k| self.remove(MapKey::from_values(k.to_vec()), slots)).count()
    }

    /// Forgets a deleted row, detaching the object held for it, with an undo entry.
    pub(super) fn remove(&mut self, key: MapKey, slots: &mut [Slot]) -> bool {
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

    /// Takes back the newest change on the map's undo log; returns the arena slot of the object
    /// held for that row, if any (its columns may need the restored state).
    pub(super) fn undo_last(&mut self, slots: &mut [Slot]) -> Option<usize> {
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

    /// Records that a flush wrote `obj` (held in `slot`, if at the top of the arena): its
    /// snapshot becomes the session's state of the row, with an undo entry.
    fn record_written(&mut self, obj: &dyn AnyModel, slot: Option<usize>) {
        let Some(key) = obj.map_key() else { return };
        let mut previous = self.entries.remove(&key);
        let kept_slot = slot.or_else(|| previous.as_ref().and_then(|e| e.slot));
        let mut entry = Entry::persistent(obj.snapshot_erased(), kept_slot);
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
    fn track(&mut self, obj: &mut dyn AnyModel, populate: bool) -> Tracked {
        let Some(k) = obj.map_key() else { return Tracked::Unchanged };
        match self.entries.entry(k) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let e = e.get_mut();
                match (&e.snapshot, e.persistent) {
                    (Some(snap), true) => {
                        e.handed_out();
                        let changed = obj.changed_since(snap);
                        if changed.is_empty() {
                            return Tracked::Unchanged;
                        }
                        if !populate {
                            obj.restore_from(snap, changed);
                            return Tracked::Unchanged;
                        }
                        // Handed out at once: the read returns the new values.
                        e.supersede(obj.snapshot_erased(), true);
                        Tracked::Populated(changed)
                    }
                    _ => {
                        e.snapshot = Some(obj.snapshot_erased());
                        e.persistent = true;
                        Tracked::Unchanged
                    }
                }
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Entry::persistent(obj.snapshot_erased(), None));
                Tracked::Unchanged
            }
        }
    }
}

/// `model`'s identity map, made empty if it has none yet.
pub(super) fn map_of(maps: &mut Maps, model: TypeId) -> &mut IdentityMap {
    maps.entry(model).or_default()
}

/// The session's entry for `obj`'s row, if it has one.
pub(super) fn entry_of<'m>(maps: &'m Maps, obj: &dyn AnyModel) -> Option<&'m Entry> {
    let key = obj.map_key()?;
    maps.get(&obj.as_any().type_id())?.entries.get(&key)
}

/// The columns an UPDATE of `obj` writes, against the session's state of its row: the changed
/// ones, or every column when the session does not know the row. Never the primary key (it
/// identifies the row), nor the version column (the flush bumps it with the other columns).
pub(super) fn update_mask(maps: &Maps, obj: &dyn AnyModel) -> ColumnMask {
    let t = obj.table();
    let mut mask = match entry_of(maps, obj).and_then(|e| e.snapshot.as_ref()) {
        Some(snap) => obj.changed_since(snap),
        None => super::every_column(t),
    };
    for &pk in t.primary_key {
        mask.remove(pk);
    }
    if let Some(v) = t.version_column {
        mask.remove(v);
    }
    mask
}

/// Whether the session knows `obj`'s row to exist.
pub(super) fn is_persistent(maps: &Maps, obj: &dyn AnyModel) -> bool {
    entry_of(maps, obj).is_some_and(|e| e.persistent)
}

/// Records that a flush wrote `obj`; returns its model's type, whose map holds the undo entry.
pub(super) fn record_persisted(maps: &mut Maps, obj: &dyn AnyModel, slot: Option<usize>) -> TypeId {
    let model = obj.as_any().type_id();
    map_of(maps, model).record_written(obj, slot);
    model
}

/// Forgets `obj`'s pending INSERT.
pub(super) fn forget_pending(maps: &mut Maps, obj: &dyn AnyModel) {
    let Some(key) = obj.map_key() else { return };
    if let Some(map) = maps.get_mut(&obj.as_any().type_id()) {
        if map.entries.get(&key).is_some_and(|e| !e.persistent) {
            map.entries.remove(&key);
        }
    }
}

/// Gives `obj` the session's state of its row again (after a rollback).
pub(super) fn reset_to_snapshot(maps: &Maps, obj: &mut dyn AnyModel) {
    if let Some(snap) = entry_of(maps, obj).and_then(|e| e.snapshot.as_ref()) {
        let changed = obj.changed_since(snap);
        obj.restore_from(snap, changed);
    }
}

impl Session {
    /// Records a row read from the database in the identity map. A row the session already
    /// knows is given the session's state (one state per identity).
    pub(crate) fn track(&mut self, obj: &mut dyn AnyModel) {
        self.track_with(obj, false);
    }

    /// [`track`](Self::track), or with `populate` the session takes the row's values from the
    /// database, and so does the object it holds for that row.
    pub(crate) fn track_with(&mut self, obj: &mut dyn AnyModel, populate: bool) {
        let model = obj.as_any().type_id();
        if let Tracked::Populated(changed) = map_of(&mut self.maps, model).track(obj, populate) {
            self.populated(obj, changed);
        }
    }

    /// Records rows read from the database, as [`track_with`](Self::track_with) does, with one
    /// map lookup for all of them (they are all of one model).
    pub(super) fn track_all(&mut self, objs: &mut dyn ModelSlice, populate: bool) {
        if objs.len() == 0 {
            return;
        }
        let map = map_of(&mut self.maps, objs.at(0).as_any().type_id());
        map.entries.reserve(objs.len());
        // Only rows that took new values (populate) need more.
        let mut populated = Vec::new();
        for i in 0..objs.len() {
            if let Tracked::Populated(changed) = map.track(objs.at_mut(i), populate) {
                populated.push((i, changed));
            }
        }
        for (i, changed) in populated {
            self.populated(objs.at(i), changed);
        }
    }

    /// After a read took the database's values of `changed` into the session's state of
    /// `obj`'s row: the object the session holds for the row takes them too.
    pub(super) fn populated(&mut self, obj: &dyn AnyModel, changed: ColumnMask) {
        self.any_superseded = true;
        let Some(entry) = entry_of(&self.maps, obj) else { return };
        let (Some(slot), Some(snap)) = (entry.slot, entry.snapshot.as_ref()) else { return };
        if let Some(held) = self.slots.get_mut(slot).and_then(|s| s.obj.as_mut()) {
            held.restore_from(snap, changed);
        }
    }

    /// Notes that the session handed out (a copy of) `obj`'s row; see `Entry::stale_columns`.
    /// Free until a bulk update or refresh gave some row values to be stale in.
    pub(super) fn note_handed_out(&self, obj: &dyn AnyModel) {
        if !self.any_superseded {
            return;
        }
        if let Some(e) = entry_of(&self.maps, obj) {
            e.handed_out();
        }
    }

    /// Whether the identity map holds any row of `model` (a bulk statement then reads back the
    /// rows it touched, to keep the session's view of them true).
    pub(crate) fn holds_rows(&self, model: TypeId) -> bool {
        self.maps.get(&model).is_some_and(|m| m.entries.values().any(|e| e.persistent))
    }

    /// After a bulk UPDATE of the columns `set`: the session takes their new values (as the
    /// statement returned them in `rows`) into its state of the rows it holds, and so do the
    /// objects it holds; its state of the other columns stays (one state per identity). A copy
    /// read before keeps the old values, which are known stale and never written back (see
    /// `Entry::stale_columns`). Undone by a rollback.
    pub(crate) fn sync_updated(&mut self, rows: &mut [&mut dyn AnyModel], set: ColumnMask) {
        for row in rows {
            let Some(key) = row.map_key() else { continue };
            let model = row.as_any().type_id();
            let map = map_of(&mut self.maps, model);
            let Some(entry) = map.entries.get_mut(&key).filter(|e| e.persistent) else { continue };
            let Some(snap) = &entry.snapshot else { continue };
            let changed = row.changed_since(snap).intersection(&set);
            if changed.is_empty() {
                continue;
            }
            let returned = row.snapshot_erased();
            if let Some(held) =
                entry.slot.and_then(|i| self.slots.get_mut(i)).and_then(|s| s.obj.as_mut())
            {
                held.restore_from(&returned, changed);
            }
            // The new state: the returned values of `changed`, the known state of the rest.
            row.restore_from(snap, super::every_column(row.table()).difference(&changed));
            entry.supersede(row.snapshot_erased(), false);
            self.any_superseded = true;
            map.undo.push(MapUndo::Superseded(key));
            self.journal.push(Undo::Map(model));
        }
    }

    /// After a bulk DELETE: the session forgets the rows it deleted (`rows`, as the statement
    /// returned them), and the objects it held for them are detached. Undone by a rollback.
    pub(crate) fn sync_deleted(&mut self, rows: &[&dyn AnyModel]) {
        for row in rows {
            let Some(key) = row.map_key() else { continue };
            let model = row.as_any().type_id();
            if map_of(&mut self.maps, model).remove(key, &mut self.slots) {
                self.journal.push(Undo::Map(model));
            }
        }
    }
}
