//! Planning a flush: every object the pending work reaches, once, in a flat node table; which
//! need an INSERT or an UPDATE; the tables in foreign-key order (rows of a self-referencing
//! table in dependency order); loaded collections to compare with their snapshots.

use super::*;
use crate::session::CollectionKey;

impl Session {
    /// Every statement the pending work needs, in order: inserts and updates table by table,
    /// parents first (within a table, an object before the objects of its collections), then
    /// association rows and orphans, then deletes, children first.
    pub(super) fn plan(&mut self, pending: &[usize]) -> Result<Plan> {
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
                    let new = !crate::session::identity::is_persistent(maps, *child);
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
        for &i in pending {
            let Some(slot) = self.slots.get(i) else { continue };
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
        // By the identity map's key (an integer key is no allocation and one hash write).
        let mut seen: crate::fast::Set<(&'static str, MapKey)> = crate::fast::Set::default();
        let planned: Vec<NodeId> = (0..table.nodes.len())
            .filter(|&id| {
                let Some(n) = table.nodes.get(id) else { return false };
                match objs.get(id).copied().flatten().and_then(|o| o.map_key()) {
                    Some(k) => seen.insert((n.table.name, k)),
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
        // Parents first; a cycle of tables is broken at a nullable foreign key (a row whose
        // key is NULL need not wait), else it is an error naming the tables.
        let order = write_order(&tables)?;
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
            let (mut updates, mut masks) = (Vec::new(), Vec::new());
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
                if let Some(mask) = self.update_needed(obj, from.as_ref())? {
                    updates.push(id);
                    masks.push(mask);
                }
            }
            if !updates.is_empty() {
                steps.push(Step::Update(updates, masks));
            }
        }

        // A persistent parent's collection set by hand (never loaded, so no snapshot): read the
        // keys it has in the database now, so the flush writes exactly the difference.
        let mut unread: Vec<(CollectionKey, &'static RelationSchema)> = Vec::new();
        let mut asked: HashSet<CollectionKey> = HashSet::new();
        for &(parent, rel) in &collections {
            let Some(obj) = objs.get(parent).copied().flatten() else { continue };
            let Some(schema) = obj.relations().get(rel) else { continue };
            if !crate::session::identity::is_persistent(&self.maps, obj) {
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
                if let Some(key) = self.collection_key(obj, rel) {
                    if self.collection_conflicts.contains(&key) {
                        return Err(Error::StaleData(format!(
                            "{}.{} of the {} with key {}: the session read this collection \
                             again with other contents (another transaction changed it), so a \
                             child missing from the object added cannot be told from one \
                             removed; read the parent with populate_existing() and its \
                             collection loaded, change that copy, and add it",
                            obj.table().name,
                            key.2,
                            obj.table().name,
                            key.1,
                        )));
                    }
                }
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

    /// Whether a persistent object needs an UPDATE (a changed column, or a foreign key its
    /// parent or belongs_to target will change), with the columns changed now.
    pub(super) fn update_needed(
        &self,
        obj: &dyn AnyModel,
        from: Option<&FromParent>,
    ) -> Result<Option<ColumnMask>> {
        let mask = crate::session::identity::update_mask(&self.maps, obj);
        if !mask.is_empty() {
            return Ok(Some(mask));
        }
        let keys_change = fk_assignments(obj, from)?
            .into_iter()
            .any(|(ci, v)| v.is_none_or(|v| obj.column_value(ci) != v));
        Ok(keys_change.then_some(mask))
    }

    /// Whether a loaded collection differs from its snapshot (a new object in it counts).
    pub(super) fn collection_changed(&self, obj: &dyn AnyModel, rel: usize) -> Result<bool> {
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
    pub(super) fn read_collection_snapshot(
        &mut self,
        key: CollectionKey,
        schema: &'static RelationSchema,
    ) -> Result<()> {
        let target = (schema.target_schema)();
        let parent_key = key.1.to_values();
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
        let children =
            keys.into_iter().map(|k| MapKey::from_values(typed_key(k, &types))).collect();
        self.collections.insert(key, children);
        Ok(())
    }

    pub(super) fn collection_key(&self, obj: &dyn AnyModel, rel: usize) -> Option<CollectionKey> {
        let schema = obj.relations().get(rel)?;
        let idx: Vec<usize> = schema
            .source_columns
            .iter()
            .map(|c| column_index(obj.table(), c))
            .collect::<Result<_>>()
            .ok()?;
        Some((obj.table().name, crate::session::values_key(obj, &idx)?, schema.name))
    }
}

/// Splits node ids into runs of ascending ids, in order.
pub(super) fn ascending_runs(ids: Vec<NodeId>) -> Vec<Vec<NodeId>> {
    let mut runs: Vec<Vec<NodeId>> = Vec::new();
    for id in ids {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|&last| last < id) => run.push(id),
            _ => runs.push(vec![id]),
        }
    }
    runs
}

/// Orders INSERTs of a self-referencing table so that a row comes after the row its foreign
/// key points at (when both keys are known before insert, e.g. UUIDs).
pub(super) fn order_self_referencing(
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
    // Rows that reference each other in a cycle keep their order (the database then says
    // which foreign key fails); every other row comes after the row it references.
    let out = topological_order_lenient(inserts.len(), |i| deps[i].iter().copied());
    out.into_iter().map(|i| inserts[i]).collect()
}
