//! The flush: plan every pending write, walking the object graph down the relationships that
//! cascade saves; run the statements in foreign-key order; then record the new state.
//!
//! Children get their parent's key as the statements run (a generated key is written into the
//! object at once), so every change made to objects during a flush is logged and undone if any
//! statement fails: a failed flush leaves the objects, the session and the database as before.
//!
//! The plan lists every object it reaches once, in a flat [`NodeTable`]. A nested object can
//! only be reached through its parent's collection, and listing a collection costs its length,
//! so the phases that touch many objects reach them all in one walk ([`resolve`], [`visit_mut`])
//! rather than one by one: the flush stays linear in the number of objects.

use super::{values_at, Maps, Session, Slot, SlotState, StmtKind, Undo};
use crate::connection::{Connection, Row};
use crate::error::{Error, Result};
use crate::model::{ColumnMask, MapKey};
use crate::relation::{RelationKind, RelationSchema};
use crate::schema::{column_index, topological_order_lenient, write_order, TableSchema};
use crate::session::AnyModel;
use crate::statement::{key_filter, keys_in, Delete, Expr, Insert, Select, Update};
use crate::value::{typed_key, KeyValues, Value};
use std::any::TypeId;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

mod cascade;
mod persist;
mod plan;

/// How many keys one cascade statement carries (well under SQLite's parameter limit).
const KEYS_PER_STATEMENT: usize = 5000;

/// An object's index in the plan's [`NodeTable`].
pub(super) type NodeId = usize;

/// An object the plan reached: a slot's object, or one nested in it.
#[derive(Debug)]
pub(super) struct Node {
    slot: usize,
    /// The collection holding it (an index into [`NodeTable::groups`]) and its position there;
    /// `None` for the slot's own object.
    link: Option<(usize, usize)>,
    /// One past the last node of its subtree.
    end: NodeId,
    table: &'static TableSchema,
    /// Its row is new: an INSERT, not an UPDATE.
    new: bool,
}

/// A collection the plan walked into (one that cascades saves).
#[derive(Debug)]
struct Group {
    parent: NodeId,
    rel: usize,
    /// One past the last node of its objects' subtrees.
    end: NodeId,
}

/// Every object of a flush in tree preorder: an object's descendants follow it, a collection's
/// objects in their order, so a subtree (and a collection) is a range of ids.
#[derive(Debug, Default)]
pub(super) struct NodeTable {
    nodes: Vec<Node>,
    groups: Vec<Group>,
}

impl NodeTable {
    /// The object whose collection holds node `id`, and the relationship.
    fn parent(&self, id: NodeId) -> Option<(NodeId, usize)> {
        let (group, _) = self.nodes.get(id)?.link?;
        let g = self.groups.get(group)?;
        Some((g.parent, g.rel))
    }

    /// The slot's object that node `id` is part of.
    fn root(&self, id: NodeId) -> NodeId {
        let mut at = id;
        while let Some((parent, _)) = self.parent(at) {
            at = parent;
        }
        at
    }

    /// The child of `ancestor` whose subtree holds `id`.
    fn child_towards(&self, ancestor: NodeId, id: NodeId) -> Option<NodeId> {
        let mut at = id;
        loop {
            let (parent, _) = self.parent(at)?;
            if parent == ancestor {
                return Some(at);
            }
            at = parent;
        }
    }

    /// The (relationship, position) hops from the slot's object down to node `id`.
    fn path(&self, id: NodeId) -> Vec<(usize, usize)> {
        let mut path = Vec::new();
        let mut at = id;
        while let Some((group, pos)) = self.nodes.get(at).and_then(|n| n.link) {
            let Some(g) = self.groups.get(group) else { break };
            path.push((g.rel, pos));
            at = g.parent;
        }
        path.reverse();
        path
    }
}

/// A node as the slot of its object and the (relationship, position) hops to it, for messages.
struct Where<'a>(&'a NodeTable, NodeId);

impl std::fmt::Debug for Where<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Where(table, id) = *self;
        match table.nodes.get(id) {
            Some(n) => f
                .debug_struct("NodeRef")
                .field("slot", &n.slot)
                .field("path", &table.path(id))
                .finish(),
            None => write!(f, "NodeRef(#{id})"),
        }
    }
}

/// A flush's work: the statements in order, and the objects they refer to.
pub(super) struct Plan {
    steps: Vec<Step>,
    table: Arc<NodeTable>,
}

impl Plan {
    /// Whether there is no statement to run.
    pub(super) fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether running the plan sends at most one statement: the INSERT or the UPDATE of one
    /// row (one row goes row by row, [`Session::run_inserts`] / [`Session::run_updates`]). No
    /// delete (a cascade may run several) and no collection work.
    fn is_one_statement(&self) -> bool {
        match self.steps.as_slice() {
            [Step::Insert(run)] | [Step::Update(run, _)] => run.len() == 1,
            _ => false,
        }
    }
}

pub(super) enum Step {
    /// INSERTs of one table, nodes ascending (tree preorder), so that one walk of the objects
    /// reaches them all.
    Insert(Vec<NodeId>),
    /// UPDATEs of one table, nodes ascending, reached in one walk like the INSERTs; with each
    /// the columns the plan found changed (what the UPDATE writes, unless giving the object
    /// its foreign keys changes it).
    Update(Vec<NodeId>, Vec<ColumnMask>),
    /// Loaded collections (parent, relationship) that differ from their snapshots: association
    /// rows to write (many-to-many), children removed to delete or detach (one-to-many), and
    /// the new snapshots.
    Collections(Vec<(NodeId, usize)>),
    Delete(usize),
}

/// What ran: enough to record the new state, or to undo the changes made to objects.
#[derive(Default)]
pub(super) struct Outcome {
    /// The plan's objects, which the entries below refer to.
    table: Arc<NodeTable>,
    /// Column values overwritten in objects (generated keys, propagated foreign keys), oldest
    /// first.
    reverts: Vec<(NodeId, usize, Value)>,
    /// Objects inserted or updated (nodes of `table`).
    written: Vec<NodeId>,
    /// Rows deleted by cascades and orphan removal: (model type, key).
    removed: Vec<(TypeId, Vec<Value>)>,
    /// Rows whose foreign key was set to NULL behind the session's back.
    detached: Vec<(TypeId, Vec<Value>)>,
    /// New collection snapshots.
    collections: Vec<(super::CollectionKey, Vec<MapKey>)>,
    /// Pending deletes that ran.
    deletes_done: Vec<usize>,
}

/// Every node's object, in one walk that lists each collection once. Valid until an object
/// changes.
fn resolve<'a>(slots: &'a [Slot], table: &NodeTable) -> Vec<Option<&'a dyn AnyModel>> {
    let mut listed: Vec<Option<Vec<&'a dyn AnyModel>>> = Vec::new();
    listed.resize_with(table.groups.len(), || None);
    let mut objs: Vec<Option<&'a dyn AnyModel>> = Vec::with_capacity(table.nodes.len());
    for n in &table.nodes {
        let obj = match n.link {
            None => slots.get(n.slot).and_then(|s| s.obj.as_deref()),
            Some((group, pos)) => {
                // Preorder: the parent is resolved before the objects of its collections.
                let children = listed.get_mut(group).and_then(|l| {
                    if l.is_none() {
                        let g = table.groups.get(group)?;
                        *l = objs.get(g.parent).copied().flatten().and_then(|p| p.related(g.rel));
                    }
                    l.as_ref()
                });
                children.and_then(|c| c.get(pos).copied())
            }
        };
        objs.push(obj);
    }
    objs
}

/// What a nested object takes from the parent whose has_many / has_one collection holds it: the
/// relationship, and the parent's values of its source columns (`None` while one is NULL: a
/// parent still to be inserted).
struct FromParent {
    rel: &'static RelationSchema,
    key: Option<Vec<Value>>,
}

fn from_parent(parent: &dyn AnyModel, rel: usize) -> Result<Option<FromParent>> {
    let Some(schema) = parent.relations().get(rel) else { return Ok(None) };
    if !matches!(schema.kind, RelationKind::HasMany | RelationKind::HasOne) {
        return Ok(None);
    }
    let pidx: Vec<usize> = schema
        .source_columns
        .iter()
        .map(|c| column_index(parent.table(), c))
        .collect::<Result<_>>()?;
    Ok(Some(FromParent { rel: schema, key: values_at(parent, &pidx) }))
}

/// What [`visit_mut`] calls on each object: its node, the object, what its parent gives it.
type Visitor<'f> = dyn FnMut(NodeId, &mut dyn AnyModel, Option<&FromParent>) -> Result<()> + 'f;

/// Calls `f` on the objects of nodes `ids` (ascending: tree preorder), in one walk that lists
/// each collection on the way once. A parent's values are read as the walk enters its
/// collection, after `f` ran on the parent.
fn visit_mut(
    slots: &mut [Slot],
    table: &NodeTable,
    ids: &[NodeId],
    f: &mut Visitor<'_>,
) -> Result<()> {
    let mut cursor = 0;
    while let Some(&next) = ids.get(cursor) {
        let root = table.root(next);
        let obj = table
            .nodes
            .get(root)
            .and_then(|n| slots.get_mut(n.slot))
            .and_then(|s| s.obj.as_deref_mut())
            .ok_or_else(|| missing_node(table, next))?;
        visit(obj, root, None, table, ids, &mut cursor, f)?;
        if ids.get(cursor) == Some(&next) {
            // Not ascending: the walk went past it.
            return Err(missing_node(table, next));
        }
    }
    Ok(())
}

fn visit(
    obj: &mut dyn AnyModel,
    id: NodeId,
    from: Option<&FromParent>,
    table: &NodeTable,
    ids: &[NodeId],
    cursor: &mut usize,
    f: &mut Visitor<'_>,
) -> Result<()> {
    if ids.get(*cursor) == Some(&id) {
        f(id, obj, from)?;
        *cursor += 1;
    }
    let end = table.nodes.get(id).map_or(id, |n| n.end);
    while let Some(&next) = ids.get(*cursor).filter(|&&next| next > id && next < end) {
        let child = table.child_towards(id, next).ok_or_else(|| missing_node(table, next))?;
        let (group, _) = table
            .nodes
            .get(child)
            .and_then(|n| n.link)
            .ok_or_else(|| missing_node(table, child))?;
        let g = table.groups.get(group).ok_or_else(|| missing_node(table, child))?;
        let from = from_parent(obj, g.rel)?;
        let mut children = obj.related_mut(g.rel).ok_or_else(|| missing_node(table, next))?;
        while let Some(&next) = ids.get(*cursor).filter(|&&next| next < g.end) {
            let child = table.child_towards(id, next).ok_or_else(|| missing_node(table, next))?;
            let pos =
                table.nodes.get(child).and_then(|n| n.link).map_or(usize::MAX, |(_, pos)| pos);
            let target = children.get_mut(pos).ok_or_else(|| missing_node(table, child))?;
            visit(&mut **target, child, from.as_ref(), table, ids, cursor, f)?;
        }
    }
    Ok(())
}

fn missing_node(table: &NodeTable, id: NodeId) -> Error {
    Error::InvalidUse(format!("object {:?} left the session during flush", Where(table, id)))
}

/// A value that can be written back with `set_column` (JSON, enums and arrays as their text).
fn revertible(v: Value) -> Value {
    match v {
        Value::Json(j) => Value::Text(j.to_string()),
        Value::Enum { label, .. } => Value::Text(label.to_owned()),
        Value::IntArray(a) => Value::Text(serde_json::Value::from(a).to_string()),
        other => other,
    }
}

/// Sets a column of node `id`'s object, logging the old value.
fn set_logged(
    obj: &mut dyn AnyModel,
    id: NodeId,
    col: usize,
    v: Value,
    out: &mut Outcome,
) -> Result<()> {
    let old = obj.column_value(col);
    if old == v {
        return Ok(());
    }
    let vr = v.as_value_ref().ok_or_else(|| {
        Error::InvalidUse(format!("cannot write a {} into column {col}", v.kind()))
    })?;
    obj.set_column(col, vr)?;
    out.reverts.push((id, col, revertible(old)));
    Ok(())
}

/// The foreign-key values an object must hold: from the parent whose has_one / has_many
/// collection holds it, and from its own loaded belongs_to targets. `Ok(None)` for a value not
/// known yet (a parent still to be inserted).
fn fk_assignments(
    obj: &dyn AnyModel,
    from: Option<&FromParent>,
) -> Result<Vec<(usize, Option<Value>)>> {
    let mut out = parent_key_columns(obj.table(), from).collect::<Result<Vec<_>>>()?;
    out.extend(belongs_to_keys(obj)?.into_iter().map(|(c, v)| (c, Some(v))));
    Ok(out)
}

/// The foreign-key columns of `table` that `from` (the parent whose has_one / has_many
/// collection holds the object) gives, each with its value (`None` while the parent has no
/// key).
fn parent_key_columns<'a>(
    table: &'static TableSchema,
    from: Option<&'a FromParent>,
) -> impl Iterator<Item = Result<(usize, Option<Value>)>> + 'a {
    from.into_iter().flat_map(move |from| {
        from.rel.target_columns.iter().enumerate().map(move |(i, c)| {
            Ok((column_index(table, c)?, from.key.as_ref().and_then(|k| k.get(i).cloned())))
        })
    })
}

/// The foreign-key values an object's loaded belongs_to targets give it (none allocated when
/// it has none loaded). A target not saved yet is an error.
fn belongs_to_keys(obj: &dyn AnyModel) -> Result<Vec<(usize, Value)>> {
    let table = obj.table();
    let mut out = Vec::new();
    for (ri, rel) in obj.relations().iter().enumerate() {
        if rel.kind != RelationKind::BelongsTo {
            continue;
        }
        let Some(targets) = obj.related(ri) else { continue };
        let Some(target) = targets.first() else { continue };
        let key = target.key_values().ok_or_else(|| {
            Error::InvalidUse(format!(
                "{}.{}: the related {} is not saved yet (belongs_to only supplies a saved object's key)",
                table.name,
                rel.name,
                target.table().name
            ))
        })?;
        for (c, v) in rel.source_columns.iter().zip(key) {
            out.push((column_index(table, c)?, v));
        }
    }
    Ok(out)
}

fn no_parent_key(table: &NodeTable, id: NodeId) -> Error {
    Error::InvalidUse(format!("{:?}: its parent has no key to give it", Where(table, id)))
}

/// The keys of a loaded collection's objects (those that have one).
fn child_keys(obj: &dyn AnyModel, rel: usize) -> Option<Vec<MapKey>> {
    Some(obj.related(rel)?.iter().filter_map(|c| c.map_key()).collect())
}

impl Session {
    /// Writes every pending change, in foreign-key order, inside the session's transaction
    /// (opened if needed). Nothing is written if any statement fails.
    pub fn flush(&mut self) -> Result<()> {
        self.flush_then_commit(false).map(|_| ())
    }

    /// The flush of [`flush`](Self::flush) and of [`commit`](Self::commit). With `alone` (a
    /// commit with no transaction open), a flush of one statement sends it by itself, without
    /// BEGIN and COMMIT: a single statement outside a transaction is atomic (it commits whole or
    /// fails leaving nothing), so this is the same commit in one round trip instead of three.
    /// `Ok(true)` when it did so: the work is committed and no transaction is open. Its failure
    /// is a failed flush (nothing written, the work still pending), except that a connection
    /// lost under it leaves the outcome unknown, as under a COMMIT: then the session is rolled
    /// back locally and the error is [`Error::CommitOutcomeUnknown`].
    pub(super) fn flush_then_commit(&mut self, alone: bool) -> Result<bool> {
        if !self.has_pending() {
            return Ok(false);
        }
        self.check_usable()?;
        let pending = self.pending_slots();
        if let Some(why) = pending
            .iter()
            .filter_map(|&i| self.slots.get(i))
            .filter(|s| s.state == SlotState::PendingUpdate)
            .find_map(|s| s.conflict.clone())
        {
            return Err(Error::StaleData(why));
        }
        let steps = self.plan(&pending)?;
        if steps.is_empty() {
            // Only unchanged objects were added: no statement at all.
            self.settle(&pending);
            return Ok(false);
        }
        let mut outcome = Outcome::default();
        if alone && !self.in_tx && !self.test_mode && steps.is_one_statement() {
            let r = self.run_steps(&steps, &mut outcome);
            let lost = r.is_err() && self.conn.as_mut().is_some_and(|c| c.is_broken());
            self.release_if_idle();
            return match r {
                Ok(()) => {
                    self.apply(outcome);
                    Ok(true)
                }
                Err(e) if lost => {
                    // As after a COMMIT that lost its connection: rolled back locally.
                    self.revert(&outcome);
                    let _ = self.rollback();
                    Err(Error::CommitOutcomeUnknown(e.to_string()))
                }
                Err(e) => {
                    self.revert(&outcome);
                    Err(e)
                }
            };
        }
        match self.guarded(|s| s.run_steps(&steps, &mut outcome)) {
            Ok(()) => {
                self.apply(outcome);
                Ok(false)
            }
            Err(e) => {
                self.revert(&outcome);
                Err(e)
            }
        }
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let conn = Self::conn_of(&self.engine, &mut self.conn)?;
        self.engine.run_execute(conn, sql, params)
    }

    /// Undoes the changes a failed flush made to objects: each object's newest first, all
    /// objects in one walk.
    pub(super) fn revert(&mut self, out: &Outcome) {
        let mut by_node: BTreeMap<NodeId, Vec<(usize, &Value)>> = BTreeMap::new();
        for (id, col, old) in &out.reverts {
            by_node.entry(*id).or_default().push((*col, old));
        }
        let ids: Vec<NodeId> = by_node.keys().copied().collect();
        let _ = visit_mut(&mut self.slots, &out.table, &ids, &mut |id, obj, _| {
            for (col, old) in by_node.get(&id).into_iter().flatten().rev() {
                if let Some(v) = old.as_value_ref() {
                    let _ = obj.set_column(*col, v);
                }
            }
            Ok(())
        });
    }

    /// After a flush: the staged objects that needed no statement are persistent again, and
    /// nothing is staged.
    fn settle(&mut self, pending: &[usize]) {
        for &i in pending {
            if let Some(s) = self.slots.get_mut(i) {
                if s.state == SlotState::PendingUpdate {
                    s.state = SlotState::Persistent;
                }
            }
        }
        self.staged.clear();
    }

    /// Records what a successful flush wrote: snapshots, collections, removed rows.
    pub(super) fn apply(&mut self, out: Outcome) {
        let objs = resolve(&self.slots, &out.table);
        let written: Vec<(&dyn AnyModel, Option<usize>)> = out
            .written
            .iter()
            .filter_map(|&id| {
                let obj = objs.get(id).copied().flatten()?;
                Some((obj, out.table.nodes.get(id).filter(|x| x.link.is_none()).map(|x| x.slot)))
            })
            .collect();
        let saved_slots: Vec<usize> = written.iter().filter_map(|&(_, slot)| slot).collect();
        let runs = super::identity::record_persisted(&mut self.maps, &written);
        // One journal entry per run of one model (a rollback undoes that many of its map's).
        self.journal.extend(runs.into_iter().map(|(model, n)| Undo::Map(model, n)));
        drop(written);
        drop(objs);
        for i in saved_slots {
            if let Some(s) = self.slots.get_mut(i) {
                s.state = SlotState::Persistent;
            }
        }
        let pending = self.pending_slots();
        self.settle(&pending);
        for (k, v) in out.collections {
            self.set_collection(k, v);
        }
        let mut gone: HashMap<TypeId, Vec<&[Value]>> = HashMap::new();
        for (type_id, key) in out.removed.iter().chain(&out.detached) {
            gone.entry(*type_id).or_default().push(key);
        }
        for (type_id, keys) in gone {
            if let Some(map) = self.maps.get_mut(&type_id) {
                let n = map.remove_values(&keys, &mut self.slots);
                if n > 0 {
                    self.journal.push(Undo::Map(type_id, n));
                }
            }
        }
        for index in &out.deletes_done {
            let d = &self.deletes[*index];
            if let Some(map) = self.maps.get_mut(&d.type_id) {
                if map.remove(d.key.clone(), &mut self.slots) {
                    self.journal.push(Undo::Map(d.type_id, 1));
                }
            }
        }
        let done: HashSet<usize> = out.deletes_done.iter().copied().collect();
        let mut i = 0;
        self.deletes.retain(|_| {
            let keep = !done.contains(&i);
            i += 1;
            keep
        });
    }
}
