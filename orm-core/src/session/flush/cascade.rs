//! The flush's collection work and deletes: many-to-many link rows, orphans (deleted or
//! detached), and deletes that cascade down relationships level by level.

use super::*;
use crate::session::CollectionKey;

impl Session {
    /// Compares loaded collections with their snapshots, after every INSERT and UPDATE. Their
    /// objects no longer change, so everything is read from them first, in one walk.
    pub(super) fn run_collections(
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
        // The objects each one-to-many collection lost since its snapshot (none for a new
        // parent, and none, found without hashing, for a collection as it was).
        let lost: Vec<Vec<MapKey>> = compared
            .iter()
            .map(|(schema, key, current)| match self.collections.get(key) {
                Some(previous) if schema.kind != RelationKind::ManyToMany => {
                    removed_keys(previous, current)
                }
                _ => Vec::new(),
            })
            .collect();
        // An object that moved to another collection of this flush is no orphan: the rows
        // written, read once, and only if some collection lost objects.
        let placed: crate::fast::Set<(&'static str, MapKey)> = if lost.iter().any(|l| !l.is_empty())
        {
            out.written
                .iter()
                .filter_map(|&id| objs.get(id).copied().flatten())
                .filter_map(|o| Some((o.table().name, o.map_key()?)))
                .collect()
        } else {
            crate::fast::Set::default()
        };
        drop(objs);
        for ((schema, key, current), mut removed) in compared.into_iter().zip(lost) {
            match schema.kind {
                RelationKind::ManyToMany => self.run_links(schema, key, current, out)?,
                _ => {
                    let target = (schema.target_schema)().name;
                    removed.retain(|k| !placed.contains(&(target, k.clone())));
                    let removed = removed.iter().map(MapKey::to_values).collect();
                    self.run_orphans(schema, key, current, removed, out)?
                }
            }
        }
        Ok(())
    }

    /// Many-to-many: writes the association rows added and removed since the snapshot (all of
    /// them for a new parent).
    pub(super) fn run_links(
        &mut self,
        schema: &'static RelationSchema,
        ckey: CollectionKey,
        current: Vec<MapKey>,
        out: &mut Outcome,
    ) -> Result<()> {
        let through = schema.through.ok_or_else(|| {
            Error::InvalidUse(format!("many_to_many {} has no through table", schema.name))
        })?;
        let previous = self.collections.get(&ckey).map(Vec::as_slice).unwrap_or_default();
        let before: crate::fast::Set<&MapKey> = previous.iter().collect();
        let now: crate::fast::Set<&MapKey> = current.iter().collect();
        let removed: Vec<Vec<Value>> =
            previous.iter().filter(|k| !now.contains(k)).map(MapKey::to_values).collect();
        let added: Vec<Vec<Value>> =
            current.iter().filter(|k| !before.contains(k)).map(MapKey::to_values).collect();
        drop((before, now));
        let local = ckey.1.to_values();
        let dialect = self.engine.dialect();
        for added in added {
            let columns: Vec<&'static str> =
                through.local_columns.iter().chain(through.remote_columns).copied().collect();
            let row: Vec<Value> = local.iter().cloned().chain(added).collect();
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
    pub(super) fn run_orphans(
        &mut self,
        schema: &'static RelationSchema,
        ckey: CollectionKey,
        current: Vec<MapKey>,
        removed: Vec<Vec<Value>>,
        out: &mut Outcome,
    ) -> Result<()> {
        let target = (schema.target_schema)();
        if removed.is_empty() {
            out.collections.push((ckey, current));
            return Ok(());
        }
        if schema.cascade.delete_orphan {
            // All the collection's orphans in one cascade (one statement per level and chunk).
            self.cascade_delete(
                target,
                (schema.target_relations)(),
                Some((schema.target_type)()),
                removed,
                out,
            )?;
        } else {
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
            let pk: Vec<&'static str> = target.primary_key_columns().map(|c| c.name).collect();
            for chunk in removed.chunks(KEYS_PER_STATEMENT) {
                let set =
                    schema.target_columns.iter().map(|c| (*c, Expr::Value(Value::Null))).collect();
                let r = self.engine.dialect().update(&Update {
                    table: target.name,
                    set,
                    filter: Some(keys_in(target.name, &pk, chunk)),
                })?;
                self.exec(&r.sql, &r.params)?;
            }
            out.detached.extend(removed.into_iter().map(|k| ((schema.target_type)(), k)));
        }
        out.collections.push((ckey, current));
        Ok(())
    }

    /// Deletes rows by key, first deleting what their relationships cascade to (children first,
    /// association rows always), unless they are passive (left to the database's ON DELETE).
    /// Each level costs one SELECT and one DELETE per relationship for all its rows (in chunks of
    /// a few thousand keys), not one per row.
    pub(super) fn cascade_delete(
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
            let sql = self.cached_sql(table, StmtKind::Delete, ColumnMask::empty(), &|| {
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
}

/// `pk = key` for a table.
pub(super) fn pk_equals(t: &'static TableSchema, key: &[Value]) -> Expr {
    let cols: Vec<&'static str> = t.primary_key_columns().map(|c| c.name).collect();
    keys_in(t.name, &cols, &[key.to_vec()])
}

/// The keys in `previous` (a collection's snapshot) that are not in `current`: none, found
/// without hashing, when the collection is as it was.
fn removed_keys(previous: &[MapKey], current: &[MapKey]) -> Vec<MapKey> {
    if previous == current {
        return Vec::new();
    }
    let now: crate::fast::Set<&MapKey> = current.iter().collect();
    previous.iter().filter(|k| !now.contains(k)).cloned().collect()
}
