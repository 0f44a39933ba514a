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
use crate::connection::Row;
use crate::error::{Error, Result};
use crate::model::ColumnMask;
use crate::relation::{RelationKind, RelationSchema};
use crate::schema::{column_index, sort_by_dependencies, TableSchema};
use crate::session::AnyModel;
use crate::statement::{key_filter, keys_in, Delete, Expr, Insert, Select, Update};
use crate::value::{typed_key, KeyValues, Value};
use std::any::TypeId;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

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

/// A node with the table it indexes: what a step or a written object refers to.
#[derive(Clone)]
pub(super) struct NodeRef {
    id: NodeId,
    table: Arc<NodeTable>,
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

impl std::fmt::Debug for NodeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Where(&self.table, self.id).fmt(f)
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
}

pub(super) enum Step {
    /// INSERTs of one table, nodes ascending (tree preorder), so that one walk of the objects
    /// reaches them all.
    Insert(Vec<NodeId>),
    /// UPDATEs of one table, nodes ascending, reached in one walk like the INSERTs.
    Update(Vec<NodeId>),
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
    /// Objects inserted or updated.
    written: Vec<NodeRef>,
    /// Rows deleted by cascades and orphan removal: (model type, key).
    removed: Vec<(TypeId, Vec<Value>)>,
    /// Rows whose foreign key was set to NULL behind the session's back.
    detached: Vec<(TypeId, Vec<Value>)>,
    /// New collection snapshots.
    collections: Vec<(super::CollectionKey, Vec<Vec<Value>>)>,
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
    let table = obj.table();
    let mut out = Vec::new();
    if let Some(from) = from {
        for (i, c) in from.rel.target_columns.iter().enumerate() {
            let ci = column_index(table, c)?;
            out.push((ci, from.key.as_ref().and_then(|k| k.get(i).cloned())));
        }
    }
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
            out.push((column_index(table, c)?, Some(v)));
        }
    }
    Ok(out)
}

fn no_parent_key(table: &NodeTable, id: NodeId) -> Error {
    Error::InvalidUse(format!("{:?}: its parent has no key to give it", Where(table, id)))
}

/// The keys of a loaded collection's objects (those that have one).
fn child_keys(obj: &dyn AnyModel, rel: usize) -> Option<Vec<Vec<Value>>> {
    Some(obj.related(rel)?.iter().filter_map(|c| c.key_values()).collect())
}

/// Splits node ids into runs of ascending ids, in order.
fn ascending_runs(ids: Vec<NodeId>) -> Vec<Vec<NodeId>> {
    let mut runs: Vec<Vec<NodeId>> = Vec::new();
    for id in ids {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|&last| last < id) => run.push(id),
            _ => runs.push(vec![id]),
        }
    }
    runs
}

impl Session {
    /// Every statement the pending work needs, in order: inserts and updates table by table,
    /// parents first (within a table, an object before the objects of its collections), then
    /// association rows and orphans, then deletes, children first.
    pub(super) fn plan(&mut self) -> Result<Plan> {
        let mut table = NodeTable::default();
        let mut collections: Vec<(NodeId, usize)> = Vec::new();
        fn walk(
            obj: &dyn AnyModel,
            at: NodeId,
            maps: &Maps,
            table: &mut NodeTable,
            collections: &mut Vec<(NodeId, usize)>,
        ) {
            let slot = table.nodes.get(at).map_or(0, |n| n.slot);
            for (ri, rel) in obj.relations().iter().enumerate() {
                if rel.kind == RelationKind::BelongsTo {
                    continue;
                }
                let Some(children) = obj.related(ri) else { continue };
                // A loaded collection is always compared with its snapshot (links, orphans);
                // its objects are saved with it only under cascade `save`.
                collections.push((at, ri));
                if !rel.cascade.save {
                    continue;
                }
                let group = table.groups.len();
                table.groups.push(Group { parent: at, rel: ri, end: 0 });
                for (pos, child) in children.iter().enumerate() {
                    let id = table.nodes.len();
                    let link = Some((group, pos));
                    let new = !child.is_persistent(maps);
                    table.nodes.push(Node { slot, link, end: 0, table: child.table(), new });
                    walk(*child, id, maps, table, collections);
                    let end = table.nodes.len();
                    if let Some(n) = table.nodes.get_mut(id) {
                        n.end = end;
                    }
                }
                let end = table.nodes.len();
                if let Some(g) = table.groups.get_mut(group) {
                    g.end = end;
                }
            }
        }
        for (i, slot) in self.slots.iter().enumerate() {
            let new = match slot.state {
                SlotState::PendingInsert => true,
                SlotState::PendingUpdate => false,
                _ => continue,
            };
            let Some(obj) = slot.obj.as_deref() else { continue };
            let id = table.nodes.len();
            table.nodes.push(Node { slot: i, link: None, end: 0, table: obj.table(), new });
            walk(obj, id, &self.maps, &mut table, &mut collections);
            let end = table.nodes.len();
            if let Some(n) = table.nodes.get_mut(id) {
                n.end = end;
            }
        }
        let table = Arc::new(table);
        let objs = resolve(&self.slots, &table);

        // One row is one identity: the same object reachable twice (a label in two articles'
        // collections) is written once.
        let mut seen: HashSet<(&'static str, KeyValues)> = HashSet::new();
        let planned: Vec<NodeId> = (0..table.nodes.len())
            .filter(|&id| {
                let Some(n) = table.nodes.get(id) else { return false };
                match objs.get(id).copied().flatten().and_then(|o| o.key_values()) {
                    Some(k) => seen.insert((n.table.name, KeyValues(k))),
                    None => true,
                }
            })
            .collect();

        let mut tables: Vec<&'static TableSchema> = Vec::new();
        let planned_tables = planned.iter().filter_map(|&id| table.nodes.get(id)).map(|n| n.table);
        for t in planned_tables.chain(self.deletes.iter().map(|d| d.table)) {
            if !tables.iter().any(|x| std::ptr::eq(*x, t)) {
                tables.push(t);
            }
        }
        let order = sort_by_dependencies(&tables);
        // The planned rows of a table, new or not, in tree preorder.
        let of_table = |t: &TableSchema, new: bool| -> Vec<NodeId> {
            planned
                .iter()
                .copied()
                .filter(|&id| {
                    table.nodes.get(id).is_some_and(|n| n.new == new && std::ptr::eq(n.table, t))
                })
                .collect()
        };
        let mut steps = Vec::new();
        for t in &order {
            let inserts = order_self_referencing(t, &table, &objs, of_table(t, true));
            // Each run is one walk of the objects; a row ordered before the row it points to
            // (a self-referencing table) starts a new run.
            for run in ascending_runs(inserts) {
                steps.push(Step::Insert(run));
            }
            let mut updates = Vec::new();
            for id in of_table(t, false) {
                let obj =
                    objs.get(id).copied().flatten().ok_or_else(|| missing_node(&table, id))?;
                let from = match table.parent(id) {
                    Some((p, rel)) => match objs.get(p).copied().flatten() {
                        Some(parent) => from_parent(parent, rel)?,
                        None => return Err(missing_node(&table, p)),
                    },
                    None => None,
                };
                if self.update_needed(obj, from.as_ref())? {
                    updates.push(id);
                }
            }
            if !updates.is_empty() {
                steps.push(Step::Update(updates));
            }
        }

        // A persistent parent's collection set by hand (never loaded, so no snapshot): read the
        // keys it has in the database now, so the flush writes exactly the difference.
        let mut unread: Vec<(super::CollectionKey, &'static RelationSchema)> = Vec::new();
        let mut asked: HashSet<super::CollectionKey> = HashSet::new();
        for &(parent, rel) in &collections {
            let Some(obj) = objs.get(parent).copied().flatten() else { continue };
            let Some(schema) = obj.relations().get(rel) else { continue };
            if !obj.is_persistent(&self.maps) {
                continue;
            }
            let Some(key) = self.collection_key(obj, rel) else { continue };
            if !self.collections.contains_key(&key) && asked.insert(key.clone()) {
                unread.push((key, schema));
            }
        }
        drop(objs);
        for (key, schema) in unread {
            self.read_collection_snapshot(key, schema)?;
        }
        let objs = resolve(&self.slots, &table);
        let mut changed = Vec::new();
        for (parent, rel) in collections {
            let Some(obj) = objs.get(parent).copied().flatten() else { continue };
            if self.collection_changed(obj, rel)? {
                changed.push((parent, rel));
            }
        }
        if !changed.is_empty() {
            steps.push(Step::Collections(changed));
        }
        for t in order.iter().rev() {
            for (index, d) in self.deletes.iter().enumerate() {
                if std::ptr::eq(d.table, *t) {
                    steps.push(Step::Delete(index));
                }
            }
        }
        Ok(Plan { steps, table })
    }

    /// Whether a persistent object needs an UPDATE: a changed column, or a foreign key its
    /// parent or belongs_to target will change.
    fn update_needed(&self, obj: &dyn AnyModel, from: Option<&FromParent>) -> Result<bool> {
        if !obj.update_mask(&self.maps).is_empty() {
            return Ok(true);
        }
        Ok(fk_assignments(obj, from)?
            .into_iter()
            .any(|(ci, v)| v.is_none_or(|v| obj.column_value(ci) != v)))
    }

    /// Whether a loaded collection differs from its snapshot (a new object in it counts).
    fn collection_changed(&self, obj: &dyn AnyModel, rel: usize) -> Result<bool> {
        let Some(children) = obj.related(rel) else { return Ok(false) };
        if children.iter().any(|c| !c.has_key()) {
            return Ok(true);
        }
        let current = child_keys(obj, rel).unwrap_or_default();
        Ok(match self.collection_key(obj, rel).and_then(|k| self.collections.get(&k)) {
            Some(prev) => *prev != current,
            // A new parent: links to write; nothing to orphan.
            None => !current.is_empty(),
        })
    }

    /// Reads the keys a persistent parent's collection `key` has in the database now, as its
    /// snapshot.
    fn read_collection_snapshot(
        &mut self,
        key: super::CollectionKey,
        schema: &'static RelationSchema,
    ) -> Result<()> {
        let target = (schema.target_schema)();
        let parent_key = key.1 .0.clone();
        let mut sel = Select::from_table(target.name);
        match (schema.kind, schema.through) {
            (RelationKind::ManyToMany, Some(t)) => {
                sel.from = crate::statement::From::Table(t.table);
                sel.columns = t
                    .remote_columns
                    .iter()
                    .map(|c| Expr::Column { table: t.table, name: c })
                    .collect();
                sel.filter =
                    Some(keys_in(t.table, t.local_columns, std::slice::from_ref(&parent_key)));
            }
            _ => {
                sel.columns = target
                    .primary_key_columns()
                    .map(|c| Expr::Column { table: target.name, name: c.name })
                    .collect();
                sel.filter = Some(keys_in(
                    target.name,
                    schema.target_columns,
                    std::slice::from_ref(&parent_key),
                ));
            }
        }
        let width = sel.columns.len();
        let r = self.engine.dialect().select(&sel)?;
        let keys = self.fetch(&r.sql, &r.params, &mut |row| {
            (0..width).map(|i| row.get(i).map(|v| v.to_owned_value())).collect::<Result<Vec<_>>>()
        })?;
        // Keys read back are compared with the objects' own: read them in the same form.
        let types: Vec<crate::schema::ColumnType> =
            target.primary_key_columns().map(|c| c.ty).collect();
        let children = keys.into_iter().map(|k| typed_key(k, &types)).collect();
        self.collections.insert(key, children);
        Ok(())
    }

    fn collection_key(&self, obj: &dyn AnyModel, rel: usize) -> Option<super::CollectionKey> {
        let schema = obj.relations().get(rel)?;
        let idx: Vec<usize> = schema
            .source_columns
            .iter()
            .map(|c| column_index(obj.table(), c))
            .collect::<Result<_>>()
            .ok()?;
        let key = values_at(obj, &idx)?;
        Some((obj.table().name, KeyValues(key), schema.name))
    }

    /// Runs the planned statements, logging every change to objects in `out`.
    pub(super) fn run_steps(&mut self, plan: &Plan, out: &mut Outcome) -> Result<()> {
        out.table = plan.table.clone();
        let dialect = self.engine.dialect();
        for step in &plan.steps {
            match step {
                Step::Insert(run) => self.run_inserts(&plan.table, run, out)?,
                Step::Update(run) => self.run_updates(&plan.table, run, out)?,
                Step::Collections(list) => self.run_collections(&plan.table, list, out)?,
                Step::Delete(index) => {
                    let d = &self.deletes[*index];
                    let (table, relations, key) = (d.table, d.relations, d.key_values.clone());
                    let version = d.version.clone();
                    if let (Some(read), Some(c)) =
                        (&version, table.version_column.and_then(|v| table.columns.get(v)))
                    {
                        // Check the version first, taking the row's lock (an UPDATE that sets
                        // nothing new), so no writer slips in before the DELETE: a stale DELETE
                        // cascades to nothing.
                        let column = Expr::Column { table: table.name, name: c.name };
                        let r = dialect.update(&Update {
                            table: table.name,
                            set: vec![(c.name, column.clone())],
                            filter: Some(pk_equals(table, &key).and(Expr::binary(
                                column,
                                crate::statement::BinaryOp::Eq,
                                Expr::Value(read.clone()),
                            ))),
                        })?;
                        let found = self.exec(&r.sql, &r.params)?;
                        if found == 0 {
                            return Err(Error::StaleData(format!(
                                "DELETE of {} with key {key:?} at version {read:?} matched no \
                                 row: another writer changed or deleted it since it was read",
                                table.name
                            )));
                        }
                    }
                    self.cascade_delete(table, relations, None, vec![key], out)?;
                    out.deletes_done.push(*index);
                }
            }
        }
        Ok(())
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let conn = Self::conn_of(&self.engine, &mut self.conn)?;
        self.engine.run_execute(conn, sql, params)
    }

    /// UPDATEs the changed columns of each object of `run` (after giving it the foreign keys
    /// its parent or belongs_to targets hold), reaching them all in one walk. On a model with
    /// `#[orm(version)]` the UPDATE checks and bumps the version. No row matched is
    /// [`Error::StaleData`].
    fn run_updates(
        &mut self,
        table: &Arc<NodeTable>,
        run: &[NodeId],
        out: &mut Outcome,
    ) -> Result<()> {
        let engine = &self.engine;
        let dialect = engine.dialect();
        let conn_slot = &mut self.conn;
        let maps = &self.maps;
        visit_mut(&mut self.slots, table, run, &mut |id, obj, from| {
            for (col, v) in fk_assignments(obj, from)? {
                let v = v.ok_or_else(|| no_parent_key(table, id))?;
                set_logged(obj, id, col, v, out)?;
            }
            let mask = obj.update_mask(maps);
            if !mask.is_empty() {
                let t = obj.table();
                let mut params: Vec<Value> = mask.iter().map(|i| obj.column_value(i)).collect();
                // `#[orm(version)]`: SET version = read + 1 … WHERE … AND version = read.
                let version = match t.version_column {
                    Some(v) => Some((v, obj.column_value(v), next_version(t, v, obj)?)),
                    None => None,
                };
                if let Some((_, _, next)) = &version {
                    params.push(next.clone());
                }
                let key = obj.key_values().unwrap_or_default();
                params.extend(key.iter().cloned());
                if let Some((_, read, _)) = &version {
                    params.push(read.clone());
                }
                // As `Session::cached_sql`, whose `&self` the walk's borrow of the slots excludes.
                let sql = engine.cached_sql((t.name, StmtKind::Update as u8, mask), || {
                    let mut set: Vec<(&'static str, Expr)> = mask
                        .iter()
                        .filter_map(|i| t.columns.get(i))
                        .map(|c| (c.name, Expr::Value(Value::Null)))
                        .collect();
                    let mut filter = key_filter(t);
                    if let Some(c) = t.version_column.and_then(|v| t.columns.get(v)) {
                        set.push((c.name, Expr::Value(Value::Null)));
                        filter = filter.and(Expr::binary(
                            Expr::Column { table: t.name, name: c.name },
                            crate::statement::BinaryOp::Eq,
                            Expr::Value(Value::Null),
                        ));
                    }
                    dialect
                        .update(&Update { table: t.name, set, filter: Some(filter) })
                        .map(|r| r.sql)
                })?;
                let conn = Session::conn_of(engine, conn_slot)?;
                let changed = engine.run_execute(conn, &sql, &params)?;
                if changed == 0 {
                    return Err(Error::StaleData(match &version {
                        Some((_, read, _)) => format!(
                            "UPDATE of {} with key {key:?} at version {read:?} matched no row: \
                             another writer changed or deleted it since this copy was read",
                            t.name
                        ),
                        None => format!(
                            "UPDATE of {} with key {key:?} matched no row: it was deleted since \
                             this session read it",
                            t.name
                        ),
                    }));
                }
                if let Some((v, _, next)) = version {
                    set_logged(obj, id, v, next, out)?;
                }
            }
            out.written.push(NodeRef { id, table: table.clone() });
            Ok(())
        })
    }

    /// Runs INSERTs of one table (nodes ascending) in one walk of the objects: each object gets
    /// its foreign keys, is inserted, then gets the values the database generated.
    fn run_inserts(
        &mut self,
        table: &Arc<NodeTable>,
        run: &[NodeId],
        out: &mut Outcome,
    ) -> Result<()> {
        let engine = &self.engine;
        let dialect = engine.dialect();
        let conn_slot = &mut self.conn;
        visit_mut(&mut self.slots, table, run, &mut |id, obj, from| {
            for (col, v) in fk_assignments(obj, from)? {
                let v = v.ok_or_else(|| no_parent_key(table, id))?;
                set_logged(obj, id, col, v, out)?;
            }
            let t = obj.table();
            let returning = super::insert_returning(t, obj);
            let mut included = ColumnMask::empty();
            let mut params = Vec::with_capacity(t.columns.len());
            for i in 0..t.columns.len() {
                if !returning.contains(&i) {
                    included.set(i);
                    params.push(obj.column_value(i));
                }
            }
            // As `Session::cached_sql`, whose `&self` the walk's borrow of the slots excludes.
            let sql = engine.cached_sql((t.name, StmtKind::Insert as u8, included), || {
                let cols: Vec<&'static str> =
                    included.iter().filter_map(|i| t.columns.get(i)).map(|c| c.name).collect();
                let rows = vec![vec![Value::Null; cols.len()]];
                let returning =
                    returning.iter().filter_map(|&i| t.columns.get(i)).map(|c| c.name).collect();
                dialect
                    .insert(&Insert { table: t.name, columns: cols, rows, returning })
                    .map(|r| r.sql)
            })?;
            let conn = Session::conn_of(engine, conn_slot)?;
            if returning.is_empty() {
                engine.run_execute(conn, &sql, &params)?;
            } else {
                let mut got = Vec::with_capacity(returning.len());
                engine.run_query(conn, &sql, &params, &mut |row: &dyn Row| {
                    for (pos, &col) in returning.iter().enumerate() {
                        got.push((col, row.get(pos)?.to_owned_value()));
                    }
                    Ok(())
                })?;
                for (col, v) in got {
                    set_logged(obj, id, col, v, out)?;
                }
            }
            out.written.push(NodeRef { id, table: table.clone() });
            Ok(())
        })
    }

    /// Compares loaded collections with their snapshots, after every INSERT and UPDATE. Their
    /// objects no longer change, so everything is read from them first, in one walk.
    fn run_collections(
        &mut self,
        table: &NodeTable,
        list: &[(NodeId, usize)],
        out: &mut Outcome,
    ) -> Result<()> {
        let objs = resolve(&self.slots, table);
        let mut compared = Vec::with_capacity(list.len());
        for &(parent, rel) in list {
            let obj =
                objs.get(parent).copied().flatten().ok_or_else(|| missing_node(table, parent))?;
            let Some(schema) = obj.relations().get(rel) else { continue };
            let Some(key) = self.collection_key(obj, rel) else {
                if schema.kind == RelationKind::ManyToMany {
                    return Err(Error::InvalidUse(format!(
                        "{}.{}: the parent has no key",
                        obj.table().name,
                        schema.name
                    )));
                }
                continue;
            };
            compared.push((schema, key, child_keys(obj, rel).unwrap_or_default()));
        }
        // An object that moved to another collection of this flush is no orphan: the rows
        // written, read once, and only if a one-to-many collection lost objects can have lost
        // one (a parent with a snapshot).
        let orphans_possible = compared.iter().any(|(schema, key, _)| {
            schema.kind != RelationKind::ManyToMany && self.collections.contains_key(key)
        });
        let placed: HashSet<(&'static str, KeyValues)> = if orphans_possible {
            out.written
                .iter()
                .filter_map(|n| objs.get(n.id).copied().flatten())
                .filter_map(|o| Some((o.table().name, KeyValues(o.key_values()?))))
                .collect()
        } else {
            HashSet::new()
        };
        drop(objs);
        for (schema, key, current) in compared {
            match schema.kind {
                RelationKind::ManyToMany => self.run_links(schema, key, current, out)?,
                _ => self.run_orphans(schema, key, current, &placed, out)?,
            }
        }
        Ok(())
    }

    /// Many-to-many: writes the association rows added and removed since the snapshot (all of
    /// them for a new parent).
    fn run_links(
        &mut self,
        schema: &'static RelationSchema,
        ckey: super::CollectionKey,
        current: Vec<Vec<Value>>,
        out: &mut Outcome,
    ) -> Result<()> {
        let through = schema.through.ok_or_else(|| {
            Error::InvalidUse(format!("many_to_many {} has no through table", schema.name))
        })?;
        let previous = self.collections.get(&ckey).map(Vec::as_slice).unwrap_or_default();
        let before: HashSet<KeyValues> = previous.iter().cloned().map(KeyValues).collect();
        let now: HashSet<KeyValues> = current.iter().cloned().map(KeyValues).collect();
        let removed: Vec<Vec<Value>> =
            previous.iter().filter(|k| !now.contains(&KeyValues(k.to_vec()))).cloned().collect();
        let local = ckey.1 .0.clone();
        let dialect = self.engine.dialect();
        for added in current.iter().filter(|k| !before.contains(&KeyValues(k.to_vec()))) {
            let columns: Vec<&'static str> =
                through.local_columns.iter().chain(through.remote_columns).copied().collect();
            let row: Vec<Value> = local.iter().chain(added).cloned().collect();
            let r = dialect.insert(&Insert {
                table: through.table,
                columns,
                rows: vec![row],
                returning: Vec::new(),
            })?;
            self.exec(&r.sql, &r.params)?;
        }
        for removed in &removed {
            let cond = keys_in(through.table, through.local_columns, std::slice::from_ref(&local))
                .and(keys_in(through.table, through.remote_columns, std::slice::from_ref(removed)));
            let r = dialect.delete(&Delete { table: through.table, filter: Some(cond) })?;
            self.exec(&r.sql, &r.params)?;
        }
        out.collections.push((ckey, current));
        Ok(())
    }

    /// One-to-many: deletes (delete_orphan) or detaches the children removed since the
    /// snapshot, except those `placed` in another collection. A parent without a snapshot is
    /// new: nothing to look for.
    fn run_orphans(
        &mut self,
        schema: &'static RelationSchema,
        ckey: super::CollectionKey,
        current: Vec<Vec<Value>>,
        placed: &HashSet<(&'static str, KeyValues)>,
        out: &mut Outcome,
    ) -> Result<()> {
        let Some(previous) = self.collections.get(&ckey) else {
            out.collections.push((ckey, current));
            return Ok(());
        };
        let target = (schema.target_schema)();
        let now: HashSet<KeyValues> = current.iter().cloned().map(KeyValues).collect();
        let removed: Vec<Vec<Value>> = previous
            .iter()
            .filter(|k| {
                let k = KeyValues(k.to_vec());
                !now.contains(&k) && !placed.contains(&(target.name, k))
            })
            .cloned()
            .collect();
        for key in removed {
            if schema.cascade.delete_orphan {
                self.cascade_delete(
                    target,
                    (schema.target_relations)(),
                    Some((schema.target_type)()),
                    vec![key],
                    out,
                )?;
                continue;
            }
            let nullable = schema
                .target_columns
                .iter()
                .all(|c| target.column(c).is_some_and(|col| col.nullable));
            if !nullable {
                return Err(Error::InvalidUse(format!(
                    "a {} was removed from {}.{}, but its foreign key cannot be NULL: declare \
                     cascade = \"delete_orphan\" to delete it, or delete it yourself",
                    target.name, schema.source_table, schema.name
                )));
            }
            let set =
                schema.target_columns.iter().map(|c| (*c, Expr::Value(Value::Null))).collect();
            let r = self.engine.dialect().update(&Update {
                table: target.name,
                set,
                filter: Some(pk_equals(target, &key)),
            })?;
            self.exec(&r.sql, &r.params)?;
            out.detached.push(((schema.target_type)(), key));
        }
        out.collections.push((ckey, current));
        Ok(())
    }

    /// Deletes rows by key, first deleting what their relationships cascade to (children first,
    /// association rows always), unless they are passive (left to the database's ON DELETE).
    /// Each level costs one SELECT and one DELETE per relationship for all its rows (in chunks of
    /// a few thousand keys), not one per row.
    fn cascade_delete(
        &mut self,
        table: &'static TableSchema,
        relations: &'static [RelationSchema],
        type_id: Option<TypeId>,
        keys: Vec<Vec<Value>>,
        out: &mut Outcome,
    ) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let dialect = self.engine.dialect();
        for rel in relations {
            if rel.cascade.passive_deletes {
                continue;
            }
            match (rel.kind, rel.through) {
                (RelationKind::ManyToMany, Some(t)) => {
                    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
                        let r = dialect.delete(&Delete {
                            table: t.table,
                            filter: Some(keys_in(t.table, t.local_columns, chunk)),
                        })?;
                        self.exec(&r.sql, &r.params)?;
                    }
                }
                (RelationKind::HasMany | RelationKind::HasOne, _) if rel.cascade.delete => {
                    let target = (rel.target_schema)();
                    let width = target.primary_key.len();
                    let mut children = Vec::new();
                    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
                        let mut sel = Select::from_table(target.name);
                        sel.columns = target
                            .primary_key_columns()
                            .map(|c| Expr::Column { table: target.name, name: c.name })
                            .collect();
                        sel.filter = Some(keys_in(target.name, rel.target_columns, chunk));
                        let r = dialect.select(&sel)?;
                        children.extend(self.fetch(&r.sql, &r.params, &mut |row| {
                            (0..width)
                                .map(|i| row.get(i).map(|v| v.to_owned_value()))
                                .collect::<Result<Vec<_>>>()
                        })?);
                    }
                    self.cascade_delete(
                        target,
                        (rel.target_relations)(),
                        Some((rel.target_type)()),
                        children,
                        out,
                    )?;
                }
                _ => {}
            }
        }
        if let [key] = keys.as_slice() {
            let sql = self.cached_sql(table, StmtKind::Delete, ColumnMask::empty(), || {
                dialect
                    .delete(&Delete { table: table.name, filter: Some(key_filter(table)) })
                    .map(|r| r.sql)
            })?;
            self.exec(&sql, key)?;
        } else {
            let pk: Vec<&'static str> = table.primary_key_columns().map(|c| c.name).collect();
            for chunk in keys.chunks(KEYS_PER_STATEMENT) {
                let r = dialect.delete(&Delete {
                    table: table.name,
                    filter: Some(keys_in(table.name, &pk, chunk)),
                })?;
                self.exec(&r.sql, &r.params)?;
            }
        }
        if let Some(t) = type_id {
            out.removed.extend(keys.into_iter().map(|k| (t, k)));
        }
        Ok(())
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

    /// Records what a successful flush wrote: snapshots, collections, removed rows.
    pub(super) fn apply(&mut self, out: Outcome) {
        let objs = resolve(&self.slots, &out.table);
        let mut saved_slots = Vec::new();
        for n in &out.written {
            let Some(obj) = objs.get(n.id).copied().flatten() else { continue };
            let slot = out.table.nodes.get(n.id).filter(|x| x.link.is_none()).map(|x| x.slot);
            let model = obj.record_persisted(&mut self.maps, slot);
            self.journal.push(Undo::Map(model));
            saved_slots.extend(slot);
        }
        drop(objs);
        for i in saved_slots {
            if let Some(s) = self.slots.get_mut(i) {
                s.state = SlotState::Persistent;
            }
        }
        for s in &mut self.slots {
            if s.state == SlotState::PendingUpdate {
                s.state = SlotState::Persistent;
            }
        }
        for (k, v) in out.collections {
            self.set_collection(k, v);
        }
        for (type_id, key) in out.removed.iter().chain(&out.detached) {
            if let Some(map) = self.maps.get_mut(type_id) {
                if map.remove_values(key, &mut self.slots) {
                    self.journal.push(Undo::Map(*type_id));
                }
            }
        }
        for index in &out.deletes_done {
            let d = &self.deletes[*index];
            if let Some(map) = self.maps.get_mut(&d.type_id) {
                if map.remove_key(d.key.as_ref(), &mut self.slots) {
                    self.journal.push(Undo::Map(d.type_id));
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

/// The next value of a `#[orm(version)]` column: the one read, plus one.
fn next_version(t: &'static TableSchema, v: usize, obj: &dyn AnyModel) -> Result<Value> {
    match obj.column_value(v) {
        Value::Int(i) => i
            .checked_add(1)
            .map(Value::Int)
            .ok_or_else(|| Error::InvalidUse(format!("{}: the version column overflows", t.name))),
        other => Err(Error::InvalidUse(format!(
            "{}: the version column holds {}, not an integer",
            t.name,
            other.kind()
        ))),
    }
}

/// `pk = key` for a table.
fn pk_equals(t: &'static TableSchema, key: &[Value]) -> Expr {
    let cols: Vec<&'static str> = t.primary_key_columns().map(|c| c.name).collect();
    keys_in(t.name, &cols, &[key.to_vec()])
}

/// Orders INSERTs of a self-referencing table so that a row comes after the row its foreign
/// key points at (when both keys are known before insert, e.g. UUIDs).
fn order_self_referencing(
    t: &'static TableSchema,
    table: &NodeTable,
    objs: &[Option<&dyn AnyModel>],
    inserts: Vec<NodeId>,
) -> Vec<NodeId> {
    let self_fks: Vec<_> = t.foreign_keys.iter().filter(|fk| fk.ref_table == t.name).collect();
    if self_fks.is_empty() || inserts.len() < 2 {
        return inserts;
    }
    let col_idx = |name: &str| t.columns.iter().position(|c| c.name == name);
    let obj = |id: NodeId| objs.get(id).copied().flatten();
    let mut by_key: HashMap<KeyValues, Vec<usize>> = HashMap::new();
    for (i, &id) in inserts.iter().enumerate() {
        if let Some(k) = obj(id).and_then(|o| o.key_values()) {
            by_key.entry(KeyValues(k)).or_default().push(i);
        }
    }
    let position: HashMap<NodeId, usize> =
        inserts.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); inserts.len()];
    for (i, &id) in inserts.iter().enumerate() {
        let Some(o) = obj(id) else { continue };
        for fk in &self_fks {
            let vals: Vec<Value> =
                fk.columns.iter().filter_map(|c| col_idx(c)).map(|ci| o.column_value(ci)).collect();
            if vals.contains(&Value::Null) {
                continue;
            }
            for &j in by_key.get(&KeyValues(vals)).into_iter().flatten() {
                if j != i {
                    deps[i].push(j);
                }
            }
        }
        // A nested object comes after the object whose collection holds it.
        if let Some(&j) = table.parent(id).and_then(|(parent, _)| position.get(&parent)) {
            deps[i].push(j);
        }
    }
    let mut out = Vec::with_capacity(inserts.len());
    let mut state = vec![0u8; inserts.len()];
    fn visit(i: usize, deps: &[Vec<usize>], state: &mut [u8], out: &mut Vec<usize>) {
        if state[i] != 0 {
            return;
        }
        state[i] = 1;
        for &j in &deps[i] {
            visit(j, deps, state, out);
        }
        state[i] = 2;
        out.push(i);
    }
    for i in 0..inserts.len() {
        visit(i, &deps, &mut state, &mut out);
    }
    out.into_iter().map(|i| inserts[i]).collect()
}
