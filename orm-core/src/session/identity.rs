//! The identity maps: per model, the session's state of each row it knows (a columns-only
//! snapshot), the earlier states a bulk update or refresh replaced (to tell stale copies), and
//! an undo log of the changes the open transaction made, for rollback.
//!
//! The maps are one type for every model: keys are [`MapKey`]s, snapshots are the columns
//! encoded as bytes (`crate::snapshot`), kept in one buffer per map, and a model's own methods
//! are reached through [`AnyModel`]. So this code is
//! compiled once, not once per model (the compile cost per model, issue 10); the generic
//! session methods that call it are thin shells.

use super::{ModelSlice, Session, Slot, SlotState, Undo};
use crate::error::{Error, Result};
use crate::model::{AnyModel, ColumnMask, MapKey, SnapshotRef};
use crate::value::Value;
use std::any::TypeId;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};

/// The identity maps, one per model type.
pub(super) type Maps = crate::fast::Map<TypeId, IdentityMap>;

/// One change the open transaction made to an identity map, and what it replaced: what a
/// rollback takes back, newest first.
///
/// Small (40 bytes): a flush of many new rows writes one per row. The entries to put back are
/// on [`IdentityMap::undo_entries`], in the same order (the log is undone last first).
enum MapUndo {
    /// A flush wrote the row: put the previous entry back (`previous`: it is the last of
    /// `undo_entries`), or forget a row it inserted, detaching the object held in `slot`.
    Written { key: MapKey, previous: bool, slot: Option<usize> },
    /// The row was deleted: remember it again (its entry is the last of `undo_entries`), and
    /// re-attach the object held for it.
    Removed { key: MapKey, slot: Option<usize> },
    /// A bulk update replaced the session's state of the row: take the newest state back.
    Superseded(MapKey),
}

/// Where a snapshot's bytes are in its map's buffer ([`IdentityMap::arena`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Snap {
    start: usize,
    /// Never 0: the buffer's first byte is no snapshot's (so `Option<Snap>` is no larger).
    end: NonZeroUsize,
}

impl Snap {
    /// The snapshot's bytes in `arena`, its map's buffer.
    pub(super) fn view(self, arena: &[u8]) -> SnapshotRef<'_> {
        SnapshotRef::new(arena.get(self.start..self.end.get()).unwrap_or(&[]))
    }
}

/// Appends `obj`'s snapshot to `arena`.
fn store(arena: &mut Vec<u8>, obj: &dyn AnyModel) -> Snap {
    if arena.is_empty() {
        // One allocation for the first rows, rather than a growth step per few bytes.
        arena.reserve(256);
        arena.push(0);
    }
    let start = arena.len();
    obj.snapshot_into(arena);
    Snap { start, end: NonZeroUsize::new(arena.len()).unwrap_or(NonZeroUsize::MIN) }
}

/// The session's entry for one row: 32 bytes (with its 16-byte key, 48 per bucket of the map's
/// table; a million rows read make a million of them).
pub(super) struct Entry {
    /// The row's columns as this session knows them (last read, written, or synchronised
    /// after a bulk update); `None` only while the row is a pending INSERT.
    pub(super) snapshot: Option<Snap>,
    /// The arena slot holding this row's object, if it was added, and whether the row is
    /// persistent (`false` while it is only a pending INSERT): see [`SlotAndFlag`].
    held: SlotAndFlag,
    /// The row's earlier states, oldest first: each the state just before a bulk update or a
    /// refresh replaced values behind copies' backs. Copies read then still hold them; see
    /// [`Entry::stale_columns`]. Boxed: rare, and every row read has an entry (8 bytes, not
    /// a `Vec`'s 24).
    #[allow(clippy::box_collection)]
    pub(super) superseded: Option<Box<Vec<Superseded>>>,
}

/// One earlier state of a row: the end of a "generation" that a bulk update or refresh closed.
pub(super) struct Superseded {
    /// The row as the session knew it when the generation ended.
    before: Snap,
    /// Whether copies of the *next* generation's state may exist: the row was handed out (a
    /// read, `get`, a handle) or written while that generation was the newest.
    next_seen: AtomicBool,
}

/// An arena slot or none, and a flag, in one word: the flag in the top bit (an index into a
/// `Vec` is below `isize::MAX`, so the bit is free), the slot plus one below it (0: none).
#[derive(Clone, Copy)]
struct SlotAndFlag(usize);

impl SlotAndFlag {
    const FLAG: usize = 1 << (usize::BITS - 1);

    fn new(slot: Option<usize>, flag: bool) -> SlotAndFlag {
        let mut s = SlotAndFlag(0);
        s.set_slot(slot);
        s.set_flag(flag);
        s
    }

    fn slot(self) -> Option<usize> {
        (self.0 & !Self::FLAG).checked_sub(1)
    }

    fn set_slot(&mut self, slot: Option<usize>) {
        // `i + 1` fits below the flag: `i` indexes a `Vec`, so it is below `isize::MAX`.
        let bits = slot.map_or(0, |i| i.saturating_add(1) & !Self::FLAG);
        self.0 = (self.0 & Self::FLAG) | bits;
    }

    fn flag(self) -> bool {
        self.0 & Self::FLAG != 0
    }

    fn set_flag(&mut self, flag: bool) {
        self.0 = if flag { self.0 | Self::FLAG } else { self.0 & !Self::FLAG };
    }
}

impl Entry {
    /// A pending INSERT held in `slot`.
    pub(super) fn pending(slot: usize) -> Entry {
        Entry { snapshot: None, held: SlotAndFlag::new(Some(slot), false), superseded: None }
    }

    /// A persistent row in the state `snapshot`, its object held in `slot` if any.
    pub(super) fn stored(snapshot: Snap, slot: Option<usize>) -> Entry {
        Entry { snapshot: Some(snapshot), held: SlotAndFlag::new(slot, true), superseded: None }
    }

    /// Whether the session knows the row to exist (`false` while it is only a pending
    /// INSERT).
    pub(super) fn persistent(&self) -> bool {
        self.held.flag()
    }

    pub(super) fn set_persistent(&mut self, persistent: bool) {
        self.held.set_flag(persistent);
    }

    /// The arena slot holding this row's object, if it was added.
    pub(super) fn slot(&self) -> Option<usize> {
        self.held.slot()
    }

    pub(super) fn set_slot(&mut self, slot: Option<usize>) {
        self.held.set_slot(slot);
    }

    /// The session's state of the row, when it knows the row to exist.
    pub(super) fn known(&self) -> Option<Snap> {
        self.snapshot.filter(|_| self.persistent())
    }

    /// Notes that the row was handed out or written: copies of its newest state may exist.
    pub(super) fn handed_out(&self) {
        if let Some(last) = self.generations().last() {
            last.next_seen.store(true, Ordering::Relaxed);
        }
    }

    /// The row's earlier states, oldest first (see [`Entry::superseded`]).
    fn generations(&self) -> &[Superseded] {
        self.superseded.as_deref().map_or(&[], |s| s.as_slice())
    }

    /// Closes the current generation: the session's state is now `now`, and `before` becomes
    /// an earlier state copies may hold. `seen`: the new state is handed out at once.
    fn supersede(&mut self, now: Snap, seen: bool) {
        if let Some(before) = self.snapshot.replace(now) {
            let earlier = self.superseded.get_or_insert_with(Box::default);
            earlier.push(Superseded { before, next_seen: AtomicBool::new(seen) });
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
        arena: &[u8],
        obj: &dyn AnyModel,
        key: &MapKey,
    ) -> std::result::Result<ColumnMask, String> {
        let superseded = self.generations();
        let (Some(current), Some(first)) = (self.snapshot, superseded.first()) else {
            return Ok(ColumnMask::empty());
        };
        let table = obj.table();
        let mut changed = obj.changed_since(current.view(arena));
        if let Some(v) = table.version_column {
            changed.remove(v);
        }
        let write_if_read_at =
            |state: Snap| changed.intersection(&obj.changed_since(state.view(arena)));
        let seen = |i: usize| superseded[i].next_seen.load(Ordering::Relaxed);
        // The first generation is always possible: the session read the row in it.
        let write = write_if_read_at(first.before);
        let mut disagree = ColumnMask::empty();
        let mut compare = |w: ColumnMask| {
            disagree = disagree.union(&w.difference(&write)).union(&write.difference(&w));
        };
        for (i, generation) in superseded.iter().enumerate().skip(1) {
            if seen(i - 1) {
                compare(write_if_read_at(generation.before));
            }
        }
        if seen(superseded.len() - 1) {
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
    pub(super) entries: crate::fast::KeyMap<Entry>,
    /// This map's part of the session's undo log (see [`super::Undo`]).
    undo: Vec<MapUndo>,
    /// The entries that undoing `undo` puts back, in the log's order.
    undo_entries: Vec<Entry>,
    /// The snapshots' bytes, one after the other (no allocation per row). A snapshot replaced
    /// or forgotten leaves its bytes until the next compaction ([`IdentityMap::end_transaction`]).
    pub(super) arena: Vec<u8>,
    /// The buffer's length after its last compaction.
    compacted: usize,
    /// A buffer a row is encoded into for a moment.
    scratch: Vec<u8>,
}

/// What reading a row did to the session's state of it.
pub(super) enum Tracked {
    /// The row was new to the session, or the same as it knew it.
    Unchanged,
    /// `populate`: the session took the database's values of these columns.
    Populated(ColumnMask),
    /// The session's state of these columns would not read back into the object (see
    /// [`unrestorable`]).
    Unrestorable(ColumnMask),
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
        let slot = entry.slot().filter(|&i| {
            slots.get(i).is_some_and(|s| {
                matches!(s.state, SlotState::Persistent | SlotState::PendingUpdate)
            })
        });
        if let Some(s) = slot.and_then(|i| slots.get_mut(i)) {
            s.state = SlotState::Detached;
        }
        self.undo_entries.push(entry);
        self.undo.push(MapUndo::Removed { key, slot });
        true
    }

    /// Takes back the newest change on the map's undo log; returns the arena slot of the object
    /// held for that row, if any (its columns may need the restored state).
    pub(super) fn undo_last(&mut self, slots: &mut [Slot]) -> Option<usize> {
        match self.undo.pop()? {
            MapUndo::Written { key, previous, slot } => {
                let current = self.entries.remove(&key);
                let previous = if previous { self.undo_entries.pop() } else { None };
                match previous {
                    Some(mut prev) if prev.persistent() => {
                        if let Some(c) = current {
                            prev.superseded = c.superseded;
                        }
                        let held = prev.slot();
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
            MapUndo::Removed { key, slot } => {
                if let Some(s) = slot.and_then(|i| slots.get_mut(i)) {
                    s.state = SlotState::Persistent;
                }
                if let Some(entry) = self.undo_entries.pop() {
                    self.entries.insert(key, entry);
                }
                slot
            }
            MapUndo::Superseded(key) => {
                let e = self.entries.get_mut(&key)?;
                if let Some(sup) = e.superseded.as_mut().and_then(|s| s.pop()) {
                    e.snapshot = Some(sup.before);
                }
                e.slot()
            }
        }
    }

    /// Records that a flush wrote `obj` (held in `slot`, if at the top of the arena): its
    /// snapshot becomes the session's state of the row, with an undo entry.
    fn record_written(&mut self, obj: &dyn AnyModel, slot: Option<usize>) {
        let Some(key) = obj.map_key() else { return };
        let snapshot = store(&mut self.arena, obj);
        // One probe of the table for the row (a flush of many new rows touches each bucket
        // once: at 100k rows the table is larger than the CPU's caches).
        let previous = match self.entries.entry(key.clone()) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let kept_slot = slot.or(e.get().slot());
                let mut entry = Entry::stored(snapshot, kept_slot);
                // Copies read before a bulk update are as stale after this write as before it.
                entry.superseded = e.get_mut().superseded.take();
                // The user may keep a clone of what was written: a copy of the newest state.
                entry.handed_out();
                Some(std::mem::replace(e.get_mut(), entry))
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                let entry = Entry::stored(snapshot, slot);
                entry.handed_out();
                e.insert(entry);
                None
            }
        };
        let had = previous.is_some();
        self.undo_entries.extend(previous);
        self.undo.push(MapUndo::Written { key, previous: had, slot });
    }

    /// Room for `n` more rows written by a flush, `first`'s snapshot size each (at most 256
    /// bytes: an outlier asks no more), so that recording a large flush grows no table or
    /// buffer by doubling (each doubling copies, or rehashes, all that came before). Room not
    /// granted is no error: they grow as they go.
    fn reserve_written(&mut self, n: usize, first: &dyn AnyModel) {
        let _ = self.entries.try_reserve(n);
        let _ = self.undo.try_reserve(n);
        self.scratch.clear();
        first.snapshot_into(&mut self.scratch);
        let per_row = self.scratch.len().min(256);
        let _ = self.arena.try_reserve(per_row.saturating_mul(n));
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
                match (e.snapshot, e.persistent()) {
                    (Some(snap), true) => {
                        e.handed_out();
                        let changed = obj.changed_since(snap.view(&self.arena));
                        if changed.is_empty() {
                            return Tracked::Unchanged;
                        }
                        if !populate {
                            let failed = obj.restore_from(snap.view(&self.arena), changed);
                            if !failed.is_empty() {
                                return Tracked::Unrestorable(failed);
                            }
                            return Tracked::Unchanged;
                        }
                        // Handed out at once: the read returns the new values.
                        e.supersede(store(&mut self.arena, obj), true);
                        Tracked::Populated(changed)
                    }
                    _ => {
                        e.snapshot = Some(store(&mut self.arena, obj));
                        e.set_persistent(true);
                        Tracked::Unchanged
                    }
                }
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Entry::stored(store(&mut self.arena, obj), None));
                Tracked::Unchanged
            }
        }
    }
}

impl IdentityMap {
    /// The transaction ended (committed or rolled back): its undo log is done with, and the
    /// buffer is compacted when it has at least doubled since it last was (so that its
    /// unreferenced bytes, of snapshots replaced or forgotten, never outweigh the rest for
    /// long; amortized, each byte is copied a bounded number of times).
    fn end_transaction(&mut self) {
        self.undo.clear();
        self.undo_entries.clear();
        if self.arena.len() > 2 * self.compacted.max(64 * 1024) {
            // Copied only when at least half the bytes are garbage: a buffer of live
            // snapshots (a large flush or read) is left as it is, and looked at again once it
            // has doubled (the walk below is paid for by the bytes added since).
            if 2 * self.live_bytes() <= self.arena.len() {
                self.compact();
            } else {
                self.compacted = self.arena.len();
            }
        }
    }

    /// The bytes of the snapshots still referenced.
    fn live_bytes(&self) -> usize {
        let len = |s: Snap| s.end.get() - s.start;
        self.entries
            .values()
            .map(|e| {
                e.snapshot.map_or(0, len)
                    + e.generations().iter().map(|g| len(g.before)).sum::<usize>()
            })
            .sum()
    }

    /// Copies the snapshots still referenced (each entry's, and their earlier states) into a
    /// fresh buffer. Only with an empty undo log, whose entries would point into the old one.
    fn compact(&mut self) {
        debug_assert!(self.undo.is_empty());
        let old = std::mem::take(&mut self.arena);
        let fresh = &mut self.arena;
        fresh.push(0);
        let mut copy = |s: Snap| {
            let start = fresh.len();
            fresh.extend_from_slice(old.get(s.start..s.end.get()).unwrap_or(&[]));
            Snap { start, end: NonZeroUsize::new(fresh.len()).unwrap_or(NonZeroUsize::MIN) }
        };
        for e in self.entries.values_mut() {
            if let Some(s) = e.snapshot {
                e.snapshot = Some(copy(s));
            }
            for g in e.superseded.iter_mut().flat_map(|g| g.iter_mut()) {
                g.before = copy(g.before);
            }
        }
        self.compacted = self.arena.len();
    }
}

/// `model`'s identity map, made empty if it has none yet.
pub(super) fn map_of(maps: &mut Maps, model: TypeId) -> &mut IdentityMap {
    maps.entry(model).or_default()
}

/// The session's entry for `obj`'s row, if it has one.
pub(super) fn entry_of<'m>(maps: &'m Maps, obj: &dyn AnyModel) -> Option<&'m Entry> {
    held(maps, obj).map(|(_, e)| e)
}

/// The session's state of `obj`'s row, if it has one (also while the row is a pending INSERT
/// that a flush wrote).
fn state_of<'m>(maps: &'m Maps, obj: &dyn AnyModel) -> Option<SnapshotRef<'m>> {
    let (map, e) = held(maps, obj)?;
    Some(e.snapshot?.view(&map.arena))
}

/// `obj`'s model's map and its entry for `obj`'s row, if it has one.
fn held<'m>(maps: &'m Maps, obj: &dyn AnyModel) -> Option<(&'m IdentityMap, &'m Entry)> {
    let key = obj.map_key()?;
    let map = maps.get(&obj.as_any().type_id())?;
    Some((map, map.entries.get(&key)?))
}

/// The columns an UPDATE of `obj` writes, against the session's state of its row: the changed
/// ones, or every column when the session does not know the row. Never the primary key (it
/// identifies the row), nor the version column (the flush bumps it with the other columns).
pub(super) fn update_mask(maps: &Maps, obj: &dyn AnyModel) -> ColumnMask {
    let t = obj.table();
    let mut mask = match state_of(maps, obj) {
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
    entry_of(maps, obj).is_some_and(|e| e.persistent())
}

/// Records that a flush wrote `objs` (each with the slot holding it, if at the top of the
/// arena): their snapshots become the session's state of their rows, each with an undo entry
/// on its model's map. Returns the runs of one model, in order (model, rows), for the
/// session's journal.
pub(super) fn record_persisted(
    maps: &mut Maps,
    objs: &[(&dyn AnyModel, Option<usize>)],
) -> Vec<(TypeId, usize)> {
    let mut runs: Vec<(TypeId, usize)> = Vec::new();
    for (obj, _) in objs {
        let model = obj.as_any().type_id();
        match runs.last_mut() {
            Some((m, n)) if *m == model => *n += 1,
            _ => runs.push((model, 1)),
        }
    }
    // Room first, per model (a graph's children are one long run).
    let mut at = 0;
    for &(model, n) in &runs {
        if n > 1 {
            if let Some((first, _)) = objs.get(at) {
                map_of(maps, model).reserve_written(n, *first);
            }
        }
        at += n;
    }
    let mut at = 0;
    for &(model, n) in &runs {
        let map = map_of(maps, model);
        for (obj, slot) in objs.get(at..at + n).unwrap_or_default() {
            map.record_written(*obj, *slot);
        }
        at += n;
    }
    runs
}

/// Forgets `obj`'s pending INSERT.
pub(super) fn forget_pending(maps: &mut Maps, obj: &dyn AnyModel) {
    let Some(key) = obj.map_key() else { return };
    if let Some(map) = maps.get_mut(&obj.as_any().type_id()) {
        if map.entries.get(&key).is_some_and(|e| !e.persistent()) {
            map.entries.remove(&key);
        }
    }
}

/// Gives `obj` the session's state of its row again (after a rollback); returns the columns
/// that would not take it (see [`unrestorable`]).
pub(super) fn reset_to_snapshot(maps: &Maps, obj: &mut dyn AnyModel) -> ColumnMask {
    match state_of(maps, obj) {
        Some(snap) => {
            let changed = obj.changed_since(snap);
            obj.restore_from(snap, changed)
        }
        None => ColumnMask::empty(),
    }
}

/// Why `obj` cannot be trusted in the columns `failed`: the session's state of them would not
/// read back into its fields. The field's type rejects the value its own `ToValue` gave (a
/// `Json<T>` whose serde does not round-trip, a custom type whose conversions disagree), so
/// the object keeps another value than the session's state: written back, it would be a
/// change nobody made. The next flush of the object fails with this (as `StaleData`); a read
/// fails with [`unrestorable_read`].
pub(super) fn unrestorable(obj: &dyn AnyModel, failed: ColumnMask) -> String {
    let t = obj.table();
    let names: Vec<&str> = failed.iter().filter_map(|i| t.columns.get(i)).map(|c| c.name).collect();
    format!(
        "{}: the session's state of {} does not read back into the object's field (its type's \
         FromValue rejects what its ToValue gave, e.g. a Json<T> whose serde does not \
         round-trip), so the object holds another value than the session knows; fix the \
         type's conversions",
        t.name,
        names.join(", ")
    )
}

/// The error of a read that cannot give a row the session's state (see [`unrestorable`]).
fn unrestorable_read(obj: &dyn AnyModel, failed: ColumnMask) -> Error {
    let t = obj.table();
    let column = failed.iter().find_map(|i| t.columns.get(i)).map_or("?", |c| c.name);
    Error::Decode {
        column: format!("{}.{column}", t.name),
        expected: "the value the session holds for the row (its state, one per identity)",
        got: format!("a value the field's type does not read back: {}", unrestorable(obj, failed)),
    }
}

impl Session {
    /// Records a row read from the database in the identity map. A row the session already
    /// knows is given the session's state (one state per identity), or with `populate` the
    /// session takes the row's values from the database, and so does the object it holds for
    /// that row.
    pub(crate) fn track_with(&mut self, obj: &mut dyn AnyModel, populate: bool) -> Result<()> {
        let model = obj.as_any().type_id();
        match map_of(&mut self.maps, model).track(obj, populate) {
            Tracked::Unchanged => Ok(()),
            Tracked::Populated(changed) => {
                self.populated(obj, changed);
                Ok(())
            }
            Tracked::Unrestorable(failed) => Err(unrestorable_read(obj, failed)),
        }
    }

    /// Records rows read from the database, as [`track_with`](Self::track_with) does, with one
    /// map lookup for all of them (they are all of one model).
    pub(super) fn track_all(&mut self, objs: &mut dyn ModelSlice, populate: bool) -> Result<()> {
        if objs.len() == 0 {
            return Ok(());
        }
        let map = map_of(&mut self.maps, objs.at(0).as_any().type_id());
        // Room for all of them at once (room not granted is no error: the table grows).
        let _ = map.entries.try_reserve(objs.len());
        // Only rows that took new values (populate) need more.
        let mut populated = Vec::new();
        for i in 0..objs.len() {
            let before = map.arena.len();
            match map.track(objs.at_mut(i), populate) {
                Tracked::Unchanged => {}
                Tracked::Populated(changed) => populated.push((i, changed)),
                Tracked::Unrestorable(failed) => return Err(unrestorable_read(objs.at(i), failed)),
            }
            if i == 0 {
                // Rows of one read are alike: room for the rest at the first one's size (at
                // most 256 bytes each: an outlier first row asks no more), so the buffer does
                // not grow by doubling (up to twice the memory) over a big read. Room not
                // granted is no error: the buffer then grows as it goes.
                let first = (map.arena.len() - before).min(256);
                let _ = map.arena.try_reserve(first.saturating_mul(objs.len() - 1));
            }
        }
        for (i, changed) in populated {
            self.populated(objs.at(i), changed);
        }
        Ok(())
    }

    /// After a read took the database's values of `changed` into the session's state of
    /// `obj`'s row: the object the session holds for the row takes them too.
    pub(super) fn populated(&mut self, obj: &dyn AnyModel, changed: ColumnMask) {
        self.any_superseded = true;
        let Some((map, entry)) = held(&self.maps, obj) else { return };
        let (Some(slot), Some(snap)) = (entry.slot(), entry.snapshot) else { return };
        if let Some(s) = self.slots.get_mut(slot) {
            if let Some(o) = s.obj.as_mut() {
                let failed = o.restore_from(snap.view(&map.arena), changed);
                if !failed.is_empty() {
                    s.conflict = Some(unrestorable(&**o, failed));
                }
            }
        }
    }

    /// Notes that the session handed out (a copy of) `obj`'s row; see `Entry::stale_columns`.
    /// Free until a bulk update or refresh gave some row values to be stale in.
    pub(crate) fn note_handed_out(&self, obj: &dyn AnyModel) {
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
        self.maps.get(&model).is_some_and(|m| m.entries.values().any(|e| e.persistent()))
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
            let Some(entry) = map.entries.get_mut(&key).filter(|e| e.persistent()) else {
                continue;
            };
            let Some(snap) = entry.snapshot else { continue };
            let changed = row.changed_since(snap.view(&map.arena)).intersection(&set);
            if changed.is_empty() {
                continue;
            }
            map.scratch.clear();
            row.snapshot_into(&mut map.scratch);
            if let Some(s) = entry.slot().and_then(|i| self.slots.get_mut(i)) {
                if let Some(held) = s.obj.as_mut() {
                    let failed = held.restore_from(SnapshotRef::new(&map.scratch), changed);
                    if !failed.is_empty() {
                        s.conflict = Some(unrestorable(&**held, failed));
                    }
                }
            }
            // The new state: the returned values of `changed`, the known state of the rest.
            let rest = super::every_column(row.table()).difference(&changed);
            // A column that does not take the known state keeps the value the statement
            // returned, which the database holds: still a true state of the row.
            let _ = row.restore_from(snap.view(&map.arena), rest);
            entry.supersede(store(&mut map.arena, &**row), false);
            self.any_superseded = true;
            map.undo.push(MapUndo::Superseded(key));
            self.journal.push(Undo::Map(model, 1));
        }
    }

    /// The transaction ended: the maps' undo logs are done with (and their buffers compacted
    /// when worth it).
    pub(super) fn end_map_transactions(&mut self) {
        for map in self.maps.values_mut() {
            map.end_transaction();
        }
    }

    /// After a bulk DELETE: the session forgets the rows it deleted (`rows`, as the statement
    /// returned them), and the objects it held for them are detached. Undone by a rollback.
    pub(crate) fn sync_deleted(&mut self, rows: &[&dyn AnyModel]) {
        for row in rows {
            let Some(key) = row.map_key() else { continue };
            let model = row.as_any().type_id();
            if map_of(&mut self.maps, model).remove(key, &mut self.slots) {
                self.journal.push(Undo::Map(model, 1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Entry, SlotAndFlag, Snap};
    use crate::model::MapKey;
    use std::num::NonZeroUsize;

    /// Every row a tracked read returns has an entry in its model's map: the common case (an
    /// integer key, no earlier states) stays at 48 bytes per row plus the map's control byte.
    #[test]
    fn an_entry_and_its_key_stay_small() {
        assert!(std::mem::size_of::<MapKey>() <= 16, "{}", std::mem::size_of::<MapKey>());
        assert!(std::mem::size_of::<Entry>() <= 32, "{}", std::mem::size_of::<Entry>());
    }

    /// A flush of n new rows writes n undo entries.
    #[test]
    fn an_undo_entry_stays_small() {
        let size = std::mem::size_of::<super::MapUndo>();
        assert!(size <= 40, "{size}");
    }

    #[test]
    fn an_entry_keeps_its_slot_and_flag_apart() {
        for slot in [None, Some(0), Some(1), Some(41), Some(usize::MAX >> 2)] {
            for flag in [false, true] {
                let mut s = SlotAndFlag::new(slot, flag);
                assert_eq!((s.slot(), s.flag()), (slot, flag));
                s.set_flag(!flag);
                assert_eq!((s.slot(), s.flag()), (slot, !flag));
                s.set_slot(Some(7));
                assert_eq!((s.slot(), s.flag()), (Some(7), !flag));
                s.set_slot(None);
                assert_eq!((s.slot(), s.flag()), (None, !flag));
            }
        }
        let pending = Entry::pending(3);
        assert_eq!((pending.slot(), pending.persistent()), (Some(3), false));
        let snap = Snap { start: 1, end: NonZeroUsize::MIN.saturating_add(4) };
        let mut stored = Entry::stored(snap, None);
        assert_eq!((stored.slot(), stored.persistent()), (None, true));
        stored.set_slot(Some(9));
        assert_eq!((stored.slot(), stored.persistent()), (Some(9), true));
    }
}
