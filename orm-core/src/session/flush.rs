//! The flush: plan every pending write, walking the object graph down the relationships that
//! cascade saves; run the statements in foreign-key order; then record the new state.
//!
//! Children get their parent's key as the statements run (a generated key is written into the
//! object at once), so every change made to objects during a flush is logged and undone if any
//! statement fails: a failed flush leaves the objects, the session and the database as before.

use super::{key_filter, Maps, Session, Slot, SlotState, StmtKind, Undo};
use crate::connection::Row;
use crate::error::{Error, Result};
use crate::loading::{column_index, keys_in, typed_key, values_at};
use crate::model::ColumnMask;
use crate::relation::{RelationKind, RelationSchema};
use crate::schema::{sort_by_dependencies, TableSchema};
use crate::session::AnyModel;
use crate::statement::{Delete, Expr, Insert, Select, Update};
use crate::value::{KeyValues, Value};
use std::any::TypeId;
use std::collections::HashSet;

/// How many keys one cascade statement carries (well under SQLite's parameter limit).
const KEYS_PER_STATEMENT: usize = 5000;

/// An object in the arena or nested in one: a slot, then (relationship, position) hops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NodeRef {
    slot: usize,
    path: Vec<(usize, usize)>,
}

impl NodeRef {
    fn child(&self, rel: usize, i: usize) -> NodeRef {
        let mut path = self.path.clone();
        path.push((rel, i));
        NodeRef { slot: self.slot, path }
    }

    fn parent(&self) -> Option<(NodeRef, usize)> {
        let (&(rel, _), rest) = self.path.split_last()?;
        Some((NodeRef { slot: self.slot, path: rest.to_vec() }, rel))
    }
}

pub(super) enum Step {
    Insert(NodeRef),
    Update(NodeRef),
    /// Many-to-many: write the association rows added and removed since the collection's
    /// snapshot.
    Links {
        parent: NodeRef,
        rel: usize,
    },
    /// One-to-many: delete (delete_orphan) or detach the children removed since the snapshot.
    Orphans {
        parent: NodeRef,
        rel: usize,
    },
    Delete(usize),
}

/// What ran: enough to record the new state, or to undo the changes made to objects.
#[derive(Default)]
pub(super) struct Outcome {
    /// Column values overwritten in objects (generated keys, propagated foreign keys), oldest
    /// first.
    reverts: Vec<(NodeRef, usize, Value)>,
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

fn node<'a>(slots: &'a [Slot], n: &NodeRef) -> Option<&'a dyn AnyModel> {
    let mut cur: &'a dyn AnyModel = slots.get(n.slot)?.obj.as_deref()?;
    for &(rel, i) in &n.path {
        cur = cur.related(rel)?.into_iter().nth(i)?;
    }
    Some(cur)
}

fn node_mut<'a>(slots: &'a mut [Slot], n: &NodeRef) -> Option<&'a mut dyn AnyModel> {
    let mut cur: &'a mut dyn AnyModel = slots.get_mut(n.slot)?.obj.as_deref_mut()?;
    for &(rel, i) in &n.path {
        cur = cur.related_mut(rel)?.into_iter().nth(i)?;
    }
    Some(cur)
}

fn missing(n: &NodeRef) -> Error {
    Error::InvalidUse(format!("object {n:?} left the session during flush"))
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

/// The foreign-key values an object must hold: from the parent whose has_one / has_many /
/// many_to_many collection holds it, and from its own loaded belongs_to targets. `Ok(None)`
/// for a value not known yet (a parent still to be inserted).
fn fk_assignments(slots: &[Slot], n: &NodeRef) -> Result<Vec<(usize, Option<Value>)>> {
    let obj = node(slots, n).ok_or_else(|| missing(n))?;
    let table = obj.table();
    let mut out = Vec::new();
    if let Some((parent_ref, rel_idx)) = n.parent() {
        let parent = node(slots, &parent_ref).ok_or_else(|| missing(&parent_ref))?;
        let rel = &parent.relations()[rel_idx];
        if matches!(rel.kind, RelationKind::HasMany | RelationKind::HasOne) {
            let pidx: Vec<usize> = rel
                .source_columns
                .iter()
                .map(|c| column_index(parent.table(), c))
                .collect::<Result<_>>()?;
            let key = values_at(parent, &pidx);
            for (i, c) in rel.target_columns.iter().enumerate() {
                let ci = column_index(table, c)?;
                out.push((ci, key.as_ref().and_then(|k| k.get(i).cloned())));
            }
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

/// The keys of a loaded collection's objects (those that have one).
fn child_keys(obj: &dyn AnyModel, rel: usize) -> Option<Vec<Vec<Value>>> {
    Some(obj.related(rel)?.iter().filter_map(|c| c.key_values()).collect())
}

impl Session {
    /// Every statement the pending work needs, in order: inserts and updates table by table,
    /// parents first (within a table, an object before the objects of its collections), then
    /// association rows and orphans, then deletes, children first.
    pub(super) fn plan(&mut self) -> Result<Vec<Step>> {
        struct Planned {
            node: NodeRef,
            table: &'static TableSchema,
            insert: bool,
        }
        let mut nodes: Vec<Planned> = Vec::new();
        let mut collections: Vec<(NodeRef, usize)> = Vec::new();
        fn walk(
            obj: &dyn AnyModel,
            at: &NodeRef,
            maps: &Maps,
            nodes: &mut Vec<Planned>,
            collections: &mut Vec<(NodeRef, usize)>,
        ) {
            for (ri, rel) in obj.relations().iter().enumerate() {
                if rel.kind == RelationKind::BelongsTo {
                    continue;
                }
                let Some(children) = obj.related(ri) else { continue };
                // A loaded collection is always compared with its snapshot (links, orphans);
                // its objects are saved with it only under cascade `save`.
                collections.push((at.clone(), ri));
                if !rel.cascade.save {
                    continue;
                }
                for (ci, child) in children.iter().enumerate() {
                    let n = at.child(ri, ci);
                    nodes.push(Planned {
                        node: n.clone(),
                        table: child.table(),
                        insert: !child.is_persistent(maps),
                    });
                    walk(*child, &n, maps, nodes, collections);
                }
            }
        }
        for (i, slot) in self.slots.iter().enumerate() {
            let insert = match slot.state {
                SlotState::PendingInsert => true,
                SlotState::PendingUpdate => false,
                _ => continue,
            };
            let Some(obj) = slot.obj.as_deref() else { continue };
            let at = NodeRef { slot: i, path: Vec::new() };
            nodes.push(Planned { node: at.clone(), table: obj.table(), insert });
            walk(obj, &at, &self.maps, &mut nodes, &mut collections);
        }

        // One row is one identity: the same object reachable twice (a label in two articles'
        // collections) is written once.
        let mut seen: HashSet<(&'static str, KeyValues)> = HashSet::new();
        nodes.retain(|n| match node(&self.slots, &n.node).and_then(|o| o.key_values()) {
            Some(k) => seen.insert((n.table.name, KeyValues(k))),
            None => true,
        });

        let mut tables: Vec<&'static TableSchema> = Vec::new();
        for t in nodes.iter().map(|n| n.table).chain(self.deletes.iter().map(|d| d.table)) {
            if !tables.iter().any(|x| std::ptr::eq(*x, t)) {
                tables.push(t);
            }
        }
        let order = sort_by_dependencies(&tables);
        let mut steps = Vec::new();
        for t in &order {
            let inserts: Vec<NodeRef> = nodes
                .iter()
                .filter(|n| n.insert && std::ptr::eq(n.table, *t))
                .map(|n| n.node.clone())
                .collect();
            for n in order_self_referencing(t, &self.slots, inserts) {
                steps.push(Step::Insert(n));
            }
            for n in nodes.iter().filter(|n| !n.insert && std::ptr::eq(n.table, *t)) {
                if self.update_needed(&n.node)? {
                    steps.push(Step::Update(n.node.clone()));
                }
            }
        }
        for (parent, rel) in &collections {
            self.ensure_collection_snapshot(parent, *rel)?;
        }
        for (parent, rel) in collections {
            let Some(obj) = node(&self.slots, &parent) else { continue };
            let schema = &obj.relations()[rel];
            if self.collection_changed(obj, rel)? {
                steps.push(match schema.kind {
                    RelationKind::ManyToMany => Step::Links { parent, rel },
                    _ => Step::Orphans { parent, rel },
                });
            }
        }
        for t in order.iter().rev() {
            for (index, d) in self.deletes.iter().enumerate() {
                if std::ptr::eq(d.table, *t) {
                    steps.push(Step::Delete(index));
                }
            }
        }
        Ok(steps)
    }

    /// Whether a persistent object needs an UPDATE: a changed column, or a foreign key its
    /// parent or belongs_to target will change.
    fn update_needed(&self, n: &NodeRef) -> Result<bool> {
        let obj = node(&self.slots, n).ok_or_else(|| missing(n))?;
        if !obj.update_mask(&self.maps).is_empty() {
            return Ok(true);
        }
        Ok(fk_assignments(&self.slots, n)?
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

    /// A persistent parent's collection set by hand (never loaded, so no snapshot): read the
    /// keys it has in the database now, so the flush writes exactly the difference.
    fn ensure_collection_snapshot(&mut self, parent: &NodeRef, rel: usize) -> Result<()> {
        let Some(obj) = node(&self.slots, parent) else { return Ok(()) };
        if !obj.is_persistent(&self.maps) {
            return Ok(());
        }
        let Some(key) = self.collection_key(obj, rel) else { return Ok(()) };
        if self.collections.contains_key(&key) {
            return Ok(());
        }
        let schema: &'static RelationSchema = &obj.relations()[rel];
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

    /// Sets a column of a node, logging the old value.
    fn set_logged(&mut self, n: &NodeRef, col: usize, v: Value, out: &mut Outcome) -> Result<()> {
        let obj = node_mut(&mut self.slots, n).ok_or_else(|| missing(n))?;
        let old = obj.column_value(col);
        if old == v {
            return Ok(());
        }
        let vr = v.as_value_ref().ok_or_else(|| {
            Error::InvalidUse(format!("cannot write a {} into column {col}", v.kind()))
        })?;
        obj.set_column(col, vr)?;
        out.reverts.push((n.clone(), col, revertible(old)));
        Ok(())
    }

    fn propagate_keys(&mut self, n: &NodeRef, out: &mut Outcome) -> Result<()> {
        for (ci, v) in fk_assignments(&self.slots, n)? {
            let v = v.ok_or_else(|| {
                Error::InvalidUse(format!("{n:?}: its parent has no key to give it"))
            })?;
            self.set_logged(n, ci, v, out)?;
        }
        Ok(())
    }

    /// Runs the planned statements, logging every change to objects in `out`.
    pub(super) fn run_steps(&mut self, steps: &[Step], out: &mut Outcome) -> Result<()> {
        let dialect = self.engine.dialect();
        for step in steps {
            match step {
                Step::Insert(n) => {
                    self.propagate_keys(n, out)?;
                    let obj = node(&self.slots, n).ok_or_else(|| missing(n))?;
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
                    let ret = returning.clone();
                    let sql = self.cached_sql(t, StmtKind::Insert, included, || {
                        let cols: Vec<&'static str> = included
                            .iter()
                            .filter_map(|i| t.columns.get(i))
                            .map(|c| c.name)
                            .collect();
                        let rows = vec![vec![Value::Null; cols.len()]];
                        let returning =
                            ret.iter().filter_map(|&i| t.columns.get(i)).map(|c| c.name).collect();
                        dialect
                            .insert(&Insert { table: t.name, columns: cols, rows, returning })
                            .map(|r| r.sql)
                    })?;
                    let conn = Self::conn_of(&self.engine, &mut self.conn)?;
                    if returning.is_empty() {
                        self.engine.run_execute(conn, &sql, &params)?;
                    } else {
                        let mut got = Vec::with_capacity(returning.len());
                        self.engine.run_query(conn, &sql, &params, &mut |row: &dyn Row| {
                            for (pos, &col) in returning.iter().enumerate() {
                                got.push((col, row.get(pos)?.to_owned_value()));
                            }
                            Ok(())
                        })?;
                        for (col, v) in got {
                            self.set_logged(n, col, v, out)?;
                        }
                    }
                    out.written.push(n.clone());
                }
                Step::Update(n) => {
                    self.propagate_keys(n, out)?;
                    let obj = node(&self.slots, n).ok_or_else(|| missing(n))?;
                    let mask = obj.update_mask(&self.maps);
                    if !mask.is_empty() {
                        let t = obj.table();
                        let mut params: Vec<Value> =
                            mask.iter().map(|i| obj.column_value(i)).collect();
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
                        let sql = self.cached_sql(t, StmtKind::Update, mask, || {
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
                        let conn = Self::conn_of(&self.engine, &mut self.conn)?;
                        let changed = self.engine.run_execute(conn, &sql, &params)?;
                        if changed == 0 {
                            return Err(Error::StaleData(match &version {
                                Some((_, read, _)) => format!(
                                    "UPDATE of {} with key {key:?} at version {read:?} matched no \
                                     row: another writer changed or deleted it since this copy \
                                     was read",
                                    t.name
                                ),
                                None => format!(
                                    "UPDATE of {} with key {key:?} matched no row: it was deleted \
                                     since this session read it",
                                    t.name
                                ),
                            }));
                        }
                        if let Some((v, _, next)) = version {
                            self.set_logged(n, v, next, out)?;
                        }
                    }
                    out.written.push(n.clone());
                }
                Step::Links { parent, rel } => self.run_links(parent, *rel, out)?,
                Step::Orphans { parent, rel } => self.run_orphans(parent, *rel, steps, out)?,
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

    fn run_links(&mut self, parent: &NodeRef, rel: usize, out: &mut Outcome) -> Result<()> {
        let obj = node(&self.slots, parent).ok_or_else(|| missing(parent))?;
        let schema: &'static RelationSchema = &obj.relations()[rel];
        let through = schema.through.ok_or_else(|| {
            Error::InvalidUse(format!("many_to_many {} has no through table", schema.name))
        })?;
        let ckey = self.collection_key(obj, rel).ok_or_else(|| {
            Error::InvalidUse(format!(
                "{}.{}: the parent has no key",
                obj.table().name,
                schema.name
            ))
        })?;
        let current = child_keys(obj, rel).unwrap_or_default();
        let previous = self.collections.get(&ckey).cloned().unwrap_or_default();
        let local = ckey.1 .0.clone();
        let dialect = self.engine.dialect();
        for added in current.iter().filter(|k| !previous.contains(k)) {
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
        for removed in previous.iter().filter(|k| !current.contains(k)) {
            let cond = keys_in(through.table, through.local_columns, std::slice::from_ref(&local))
                .and(keys_in(through.table, through.remote_columns, std::slice::from_ref(removed)));
            let r = dialect.delete(&Delete { table: through.table, filter: Some(cond) })?;
            self.exec(&r.sql, &r.params)?;
        }
        out.collections.push((ckey, current));
        Ok(())
    }

    fn run_orphans(
        &mut self,
        parent: &NodeRef,
        rel: usize,
        steps: &[Step],
        out: &mut Outcome,
    ) -> Result<()> {
        let obj = node(&self.slots, parent).ok_or_else(|| missing(parent))?;
        let schema: &'static RelationSchema = &obj.relations()[rel];
        let Some(ckey) = self.collection_key(obj, rel) else { return Ok(()) };
        let current = child_keys(obj, rel).unwrap_or_default();
        let previous = self.collections.get(&ckey).cloned().unwrap_or_default();
        let target = (schema.target_schema)();
        // An object that moved to another collection of this flush is no orphan.
        let mut placed: HashSet<KeyValues> = HashSet::new();
        for s in steps {
            if let Step::Insert(n) | Step::Update(n) = s {
                if let Some(o) = node(&self.slots, n) {
                    if std::ptr::eq(o.table(), target) {
                        if let Some(k) = o.key_values() {
                            placed.insert(KeyValues(k));
                        }
                    }
                }
            }
        }
        let removed: Vec<Vec<Value>> = previous
            .into_iter()
            .filter(|k| !current.contains(k) && !placed.contains(&KeyValues(k.clone())))
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

    /// Undoes the changes a failed flush made to objects, newest first.
    pub(super) fn revert(&mut self, out: &Outcome) {
        for (n, col, old) in out.reverts.iter().rev() {
            if let (Some(obj), Some(v)) = (node_mut(&mut self.slots, n), old.as_value_ref()) {
                let _ = obj.set_column(*col, v);
            }
        }
    }

    /// Records what a successful flush wrote: snapshots, collections, removed rows.
    pub(super) fn apply(&mut self, out: Outcome) {
        for n in &out.written {
            let Some(obj) = node(&self.slots, n) else { continue };
            let slot = n.path.is_empty().then_some(n.slot);
            let model = obj.record_persisted(&mut self.maps, slot);
            self.journal.push(Undo::Map(model));
            if n.path.is_empty() {
                if let Some(s) = self.slots.get_mut(n.slot) {
                    s.state = SlotState::Persistent;
                }
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
        let mut i = 0;
        self.deletes.retain(|_| {
            let keep = !out.deletes_done.contains(&i);
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
    slots: &[Slot],
    inserts: Vec<NodeRef>,
) -> Vec<NodeRef> {
    let self_fks: Vec<_> = t.foreign_keys.iter().filter(|fk| fk.ref_table == t.name).collect();
    if self_fks.is_empty() || inserts.len() < 2 {
        return inserts;
    }
    let col_idx = |name: &str| t.columns.iter().position(|c| c.name == name);
    let keys: Vec<Option<Vec<Value>>> =
        inserts.iter().map(|n| node(slots, n).and_then(|o| o.key_values())).collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); inserts.len()];
    for (i, n) in inserts.iter().enumerate() {
        let Some(obj) = node(slots, n) else { continue };
        for fk in &self_fks {
            let vals: Vec<Value> = fk
                .columns
                .iter()
                .filter_map(|c| col_idx(c))
                .map(|ci| obj.column_value(ci))
                .collect();
            if vals.contains(&Value::Null) {
                continue;
            }
            for (j, k) in keys.iter().enumerate() {
                if j != i && k.as_ref() == Some(&vals) {
                    deps[i].push(j);
                }
            }
        }
        // A nested object comes after the object whose collection holds it.
        if let Some((parent, _)) = n.parent() {
            if let Some(j) = inserts.iter().position(|x| *x == parent) {
                deps[i].push(j);
            }
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
    out.into_iter().map(|i| inserts[i].clone()).collect()
}
