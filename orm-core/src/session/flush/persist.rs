//! Running a flush's INSERTs and UPDATEs, each table's rows in one walk of the objects: foreign
//! keys from parents, generated values read back, `#[orm(version)]` checked and bumped.

use super::cascade::pk_equals;
use super::*;
use crate::connection::EachRow;
use crate::engine::Engine;

impl Session {
    /// Runs the planned statements, logging every change to objects in `out`.
    pub(super) fn run_steps(&mut self, plan: &Plan, out: &mut Outcome) -> Result<()> {
        out.table = plan.table.clone();
        let dialect = self.engine.dialect();
        for step in &plan.steps {
            match step {
                Step::Insert(run) => self.run_inserts(&plan.table, run, out)?,
                Step::Update(run, masks) => self.run_updates(&plan.table, run, masks, out)?,
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
                                "DELETE of {} with key {} at version {} matched no row: \
                                 another writer changed or deleted it since it was read",
                                table.name,
                                shown(&key),
                                shown(std::slice::from_ref(read)),
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

    /// UPDATEs the changed columns of each object of `run` (after giving it the foreign keys
    /// its parent or belongs_to targets hold). On a model with `#[orm(version)]` the UPDATE
    /// checks and bumps the version. No row matched is [`Error::StaleData`]. In three steps,
    /// as [`run_inserts`](Self::run_inserts): one walk collects every object's statement,
    /// rows of the same changed columns run as one prepared statement
    /// ([`Connection::execute_each`](crate::Connection::execute_each)), a second walk gives
    /// the objects their new versions. A self-referencing table goes row by row.
    pub(super) fn run_updates(
        &mut self,
        table: &Arc<NodeTable>,
        run: &[NodeId],
        masks: &[ColumnMask],
        out: &mut Outcome,
    ) -> Result<()> {
        let Some(t) = run.first().and_then(|&id| table.nodes.get(id)).map(|n| n.table) else {
            return Ok(());
        };
        if run.len() < 2 || t.foreign_keys.iter().any(|fk| fk.ref_table == t.name) {
            return self.run_updates_row_by_row(table, run, out);
        }
        let mut rows: Vec<PendingUpdate> = Vec::with_capacity(run.len());
        let mut params: Vec<Value> = Vec::new();
        let maps = &self.maps;
        let mut planned = run.iter().zip(masks);
        visit_mut(&mut self.slots, table, run, &mut |id, obj, from| {
            let logged = out.reverts.len();
            give_keys(obj, id, from, table, out)?;
            // The plan's mask holds while the object is as the plan saw it.
            let mask = match planned.next() {
                Some((&node, &mask)) if node == id && out.reverts.len() == logged => mask,
                _ => crate::session::identity::update_mask(maps, obj),
            };
            if mask.is_empty() {
                rows.push(PendingUpdate { id, mask, width: 0, version: None });
                return Ok(());
            }
            let start = params.len();
            params.extend(mask.iter().map(|i| obj.column_value(i)));
            let version = match t.version_column {
                Some(v) => Some((v, obj.column_value(v), next_version(t, v, obj)?)),
                None => None,
            };
            if let Some((_, _, next)) = &version {
                params.push(next.clone());
            }
            params.extend(obj.key_values().unwrap_or_default());
            if let Some((_, read, _)) = &version {
                params.push(read.clone());
            }
            rows.push(PendingUpdate { id, mask, width: params.len() - start, version });
            Ok(())
        })?;
        let engine = &self.engine;
        let mut start = 0;
        let mut offset = 0;
        while let Some(first) = rows.get(start) {
            let (mask, width) = (first.mask, first.width);
            let n = rows[start..].iter().take_while(|r| r.mask == mask && r.width == width).count();
            if mask.is_empty() {
                start += n;
                continue;
            }
            let sql = update_sql(engine, t, mask)?;
            let values = params.get(offset..offset + n * width).unwrap_or_default();
            let mut counts = Vec::with_capacity(n);
            let conn = Session::conn_of(engine, &mut self.conn)?;
            engine.run_each(conn, &sql, values, (n, width), EachRow::Changed(&mut counts))?;
            for (i, row) in rows[start..start + n].iter().enumerate() {
                if counts.get(i).copied().unwrap_or(0) == 0 {
                    let at = offset + i * width;
                    let key: Vec<Value> = params
                        .get(at + mask.iter().count() + usize::from(row.version.is_some())..)
                        .unwrap_or_default()
                        .iter()
                        .take(t.primary_key_columns().count())
                        .cloned()
                        .collect();
                    return Err(stale_update(
                        t,
                        &key,
                        row.version.as_ref().map(|(_, read, _)| read),
                    ));
                }
            }
            start += n;
            offset += n * width;
        }
        let mut done = rows.into_iter();
        visit_mut(&mut self.slots, table, run, &mut |id, obj, _| {
            let row = done.next().filter(|r| r.id == id).ok_or_else(|| missing_node(table, id))?;
            if let Some((v, _, next)) = row.version {
                set_logged(obj, id, v, next, out)?;
            }
            out.written.push(id);
            Ok(())
        })
    }

    /// UPDATEs the changed columns of each object of `run` one at a time (a self-referencing
    /// table, whose rows may take foreign keys from rows of the same run) (after giving it the foreign keys
    /// its parent or belongs_to targets hold), reaching them all in one walk. On a model with
    /// `#[orm(version)]` the UPDATE checks and bumps the version. No row matched is
    /// [`Error::StaleData`].
    fn run_updates_row_by_row(
        &mut self,
        table: &Arc<NodeTable>,
        run: &[NodeId],
        out: &mut Outcome,
    ) -> Result<()> {
        let engine = &self.engine;
        let conn_slot = &mut self.conn;
        let maps = &self.maps;
        visit_mut(&mut self.slots, table, run, &mut |id, obj, from| {
            give_keys(obj, id, from, table, out)?;
            let mask = crate::session::identity::update_mask(maps, obj);
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
                let sql = update_sql(engine, t, mask)?;
                let conn = Session::conn_of(engine, conn_slot)?;
                let changed = engine.run_execute(conn, &sql, &params)?;
                if changed == 0 {
                    return Err(stale_update(t, &key, version.as_ref().map(|(_, read, _)| read)));
                }
                if let Some((v, _, next)) = version {
                    set_logged(obj, id, v, next, out)?;
                }
            }
            out.written.push(id);
            Ok(())
        })
    }

    /// Runs INSERTs of one table (nodes ascending). A run whose rows cannot point at each other
    /// goes in three steps: one walk gives every object its foreign keys and collects its
    /// values; the rows are inserted in groups of the same columns, as few statements as the
    /// backend allows ([`Session::insert_group`]); a second walk gives each object the values
    /// the database generated. A self-referencing table goes row by row.
    pub(super) fn run_inserts(
        &mut self,
        table: &Arc<NodeTable>,
        run: &[NodeId],
        out: &mut Outcome,
    ) -> Result<()> {
        let Some(t) = run.first().and_then(|&id| table.nodes.get(id)).map(|n| n.table) else {
            return Ok(());
        };
        if run.len() < 2 || t.foreign_keys.iter().any(|fk| fk.ref_table == t.name) {
            return self.run_inserts_row_by_row(table, run, out);
        }
        out.written.reserve(run.len());
        let mut rows: Vec<PendingInsert> = Vec::with_capacity(run.len());
        let mut params: Vec<Value> = Vec::with_capacity(run.len() * t.columns.len());
        visit_mut(&mut self.slots, table, run, &mut |id, obj, from| {
            give_keys(obj, id, from, table, out)?;
            let (included, returning) = new_row(t, obj, &mut params);
            rows.push(PendingInsert { id, included, returning, rowid: None, got: Vec::new() });
            Ok(())
        })?;
        let mut start = 0;
        let mut offset = 0;
        while let Some(first) = rows.get(start) {
            let included = first.included;
            let width = included.iter().count();
            let n = rows[start..].iter().take_while(|r| r.included == included).count();
            let group = &mut rows[start..start + n];
            let values = params.get_mut(offset..offset + n * width).unwrap_or_default();
            self.insert_group(t, values, width, group)?;
            start += n;
            offset += n * width;
        }
        let mut done = rows.into_iter();
        visit_mut(&mut self.slots, table, run, &mut |id, obj, _| {
            let row = done.next().filter(|r| r.id == id).ok_or_else(|| missing_node(table, id))?;
            if let Some((col, key)) = row.rowid {
                set_logged(obj, id, col, Value::Int(key), out)?;
            }
            for (col, v) in row.got {
                set_logged(obj, id, col, v, out)?;
            }
            out.written.push(id);
            Ok(())
        })
    }

    /// INSERTs rows of `t` that give the same columns (`group[0].included`, so the same
    /// generated ones), their values `width` per row in `params`, and records in each row what
    /// the database generated: a rowid key read after each row (SQLite, one prepared statement);
    /// otherwise one `INSERT ... RETURNING` per row.
    fn insert_group(
        &mut self,
        t: &'static TableSchema,
        params: &mut [Value],
        width: usize,
        group: &mut [PendingInsert],
    ) -> Result<()> {
        let Some(first) = group.first() else { return Ok(()) };
        let included = first.included;
        let returning: Vec<usize> = first.returning.iter().collect();
        if group.len() > 1 && width > 0 {
            if let Some(sql) = self.insert_many_sql(t, included, &returning)? {
                for (rows, values) in group
                    .chunks_mut(ROWS_PER_INSERT)
                    .zip(params.chunks_mut(ROWS_PER_INSERT * width))
                {
                    self.insert_many(t, &sql, &returning, values, width, rows)?;
                }
                return Ok(());
            }
        }
        let engine = &self.engine;
        let dialect = engine.dialect();
        let conn = Session::conn_of(engine, &mut self.conn)?;
        let rowid = match returning.as_slice() {
            &[k] => match t.columns.get(k) {
                Some(c) if c.auto_increment => conn.is_rowid(t.name, c.name)?.then_some(k),
                _ => None,
            },
            _ => None,
        };
        let plain = rowid.is_some() || returning.is_empty();
        let kind = if plain { StmtKind::InsertRowid } else { StmtKind::Insert };
        let sql = engine.cached_sql((t.name, kind as u8, included), &|| {
            let cols: Vec<&'static str> =
                included.iter().filter_map(|i| t.columns.get(i)).map(|c| c.name).collect();
            let rows = vec![vec![Value::Null; cols.len()]];
            let returning = match plain {
                true => Vec::new(),
                false => {
                    returning.iter().filter_map(|&i| t.columns.get(i)).map(|c| c.name).collect()
                }
            };
            dialect.insert(&Insert { table: t.name, columns: cols, rows, returning }).map(|r| r.sql)
        })?;
        let (mut group, mut params) = (group, params);
        if let Some(k) = rowid {
            let done = insert_values(engine, conn, t, (included, k), params, width, group)?;
            group = &mut group[done..];
            params = params.get_mut(done * width..).unwrap_or_default();
        }
        if plain {
            let mut ids = Vec::with_capacity(if rowid.is_some() { group.len() } else { 0 });
            let keep = match rowid {
                Some(_) => EachRow::Rowid(&mut ids),
                None => EachRow::Nothing,
            };
            engine.run_each(conn, &sql, params, (group.len(), width), keep)?;
            if let Some(k) = rowid {
                if ids.len() != group.len() {
                    return Err(Error::InvalidUse(format!(
                        "{}: {} rows inserted, {} keys read back",
                        t.name,
                        group.len(),
                        ids.len()
                    )));
                }
                for (row, key) in group.iter_mut().zip(ids) {
                    row.rowid = Some((k, key));
                }
            }
            return Ok(());
        }
        for (i, row) in group.iter_mut().enumerate() {
            let values = params.get(i * width..(i + 1) * width).unwrap_or_default();
            let got = &mut row.got;
            engine.run_query(conn, &sql, values, &mut |r: &dyn Row| {
                for (pos, &col) in returning.iter().enumerate() {
                    got.push((col, r.get(pos)?.to_owned_value()));
                }
                Ok(())
            })?;
            if got.len() != returning.len() {
                return Err(Error::InvalidUse(format!(
                    "{}: the INSERT returned no row to read its generated values from",
                    t.name
                )));
            }
        }
        Ok(())
    }

    /// Runs INSERTs of one table (nodes ascending) row by row in one walk of the objects: each
    /// object gets its foreign keys, is inserted, then gets the values the database generated.
    /// For a self-referencing table, whose rows may take their keys from rows of the same run.
    fn run_inserts_row_by_row(
        &mut self,
        table: &Arc<NodeTable>,
        run: &[NodeId],
        out: &mut Outcome,
    ) -> Result<()> {
        let engine = &self.engine;
        let dialect = engine.dialect();
        let conn_slot = &mut self.conn;
        visit_mut(&mut self.slots, table, run, &mut |id, obj, from| {
            give_keys(obj, id, from, table, out)?;
            let t = obj.table();
            let mut params = Vec::with_capacity(t.columns.len());
            let (included, returning) = new_row(t, obj, &mut params);
            let returning: Vec<usize> = returning.iter().collect();
            let conn = Session::conn_of(engine, conn_slot)?;
            // A generated key that is SQLite's rowid is read with `last_insert_rowid`: no
            // RETURNING (which costs SQLite a temporary table per statement).
            let rowid = match returning.as_slice() {
                &[k] => match t.columns.get(k) {
                    Some(c) if c.auto_increment => conn.is_rowid(t.name, c.name)?.then_some(k),
                    _ => None,
                },
                _ => None,
            };
            let kind = if rowid.is_some() { StmtKind::InsertRowid } else { StmtKind::Insert };
            // As `Session::cached_sql`, whose `&self` the walk's borrow of the slots excludes.
            let sql = engine.cached_sql((t.name, kind as u8, included), &|| {
                let cols: Vec<&'static str> =
                    included.iter().filter_map(|i| t.columns.get(i)).map(|c| c.name).collect();
                let rows = vec![vec![Value::Null; cols.len()]];
                let returning = match rowid {
                    Some(_) => Vec::new(),
                    None => {
                        returning.iter().filter_map(|&i| t.columns.get(i)).map(|c| c.name).collect()
                    }
                };
                dialect
                    .insert(&Insert { table: t.name, columns: cols, rows, returning })
                    .map(|r| r.sql)
            })?;
            if let Some(k) = rowid {
                engine.run_execute(conn, &sql, &params)?;
                let key = conn.last_insert_rowid().ok_or_else(|| {
                    Error::InvalidUse(format!("{}: the connection gave no rowid", t.name))
                })?;
                set_logged(obj, id, k, Value::Int(key), out)?;
            } else if returning.is_empty() {
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
            out.written.push(id);
            Ok(())
        })
    }
}

/// The most rows one [`Dialect::insert_many`](crate::Dialect::insert_many) statement inserts.
const ROWS_PER_INSERT: usize = 10_000;

/// The rows of one multi-row INSERT of [`insert_values`]: enough to spread a statement's fixed
/// cost (on SQLite, an AUTOINCREMENT table's `sqlite_sequence` is read and written once per
/// statement), few enough that a flush of fewer rows goes row by row.
const ROWS_PER_VALUES: usize = 32;

/// The most parameters one [`insert_values`] statement binds: SQLite's smallest limit
/// (`SQLITE_MAX_VARIABLE_NUMBER` before 3.32).
const PARAMS_PER_VALUES: usize = 999;

/// Inserts the first rows of `group` (rows of `t` giving the columns `included`, their values
/// `width` per row in `params`, the key column `k` a rowid the database generates) in
/// multi-row INSERTs that give each row its key: the keys SQLite would give them one by one,
/// from [`Connection::next_rowid`](crate::Connection::next_rowid) (which answers only where
/// no other row can come between: inside the write transaction, no trigger on the table).
/// So every object gets the key of its own row by construction, never by the order rows come
/// back in. Whole statements of [`ROWS_PER_VALUES`] rows only (one SQL shape per column set);
/// returns how many rows it inserted, the rest going row by row after them, whose keys
/// SQLite then gives in the same sequence.
fn insert_values(
    engine: &Engine,
    conn: &mut dyn crate::Connection,
    t: &'static TableSchema,
    (included, k): (ColumnMask, usize),
    params: &mut [Value],
    width: usize,
    group: &mut [PendingInsert],
) -> Result<usize> {
    let per = ROWS_PER_VALUES.min(PARAMS_PER_VALUES / (width + 1));
    let batched = group.len() / per.max(1) * per;
    if per < 2 || batched == 0 || width == 0 || included.contains(k) {
        return Ok(0);
    }
    let Some(first) = conn.next_rowid(t.name)? else { return Ok(0) };
    // Keys past i64::MAX: SQLite would pick unused rowids at random; leave those rows to it.
    if i64::try_from(batched).ok().and_then(|n| first.checked_add(n - 1)).is_none() {
        return Ok(0);
    }
    let mut columns = included;
    columns.set(k);
    // The key's place among the row's values (schema order).
    let at = included.iter().take_while(|&i| i < k).count();
    let sql = engine.cached_sql((t.name, StmtKind::InsertValues as u8, included), &|| {
        let cols: Vec<&'static str> =
            columns.iter().filter_map(|i| t.columns.get(i)).map(|c| c.name).collect();
        let rows = vec![vec![Value::Null; cols.len()]; per];
        let insert = Insert { table: t.name, columns: cols, rows, returning: Vec::new() };
        engine.dialect().insert(&insert).map(|r| r.sql)
    })?;
    let mut key = first;
    let mut values: Vec<Value> = Vec::with_capacity(per * (width + 1));
    for (rows, given) in group[..batched].chunks_mut(per).zip(params.chunks_mut(per * width)) {
        values.clear();
        for (row, row_values) in rows.iter_mut().zip(given.chunks_mut(width.max(1))) {
            for (i, v) in row_values.iter_mut().enumerate() {
                if i == at {
                    values.push(Value::Int(key));
                }
                values.push(std::mem::replace(v, Value::Null));
            }
            if at == width {
                values.push(Value::Int(key));
            }
            row.rowid = Some((k, key));
            key += 1;
        }
        let changed = engine.run_execute(conn, &sql, &values)?;
        if changed != rows.len() as u64 {
            return Err(Error::InvalidUse(format!(
                "{}: {} rows inserted with their keys, but {changed} reported inserted",
                t.name,
                rows.len()
            )));
        }
    }
    Ok(batched)
}

impl Session {
    /// The SQL of [`Dialect::insert_many`](crate::Dialect::insert_many) for rows of `t` giving
    /// the columns `included` (the others generated), cached per engine; `None` when the backend
    /// has none or the table does not allow it (a generated key without a sequence, an array
    /// column). The table's column types are read once from the database's catalog.
    fn insert_many_sql(
        &mut self,
        t: &'static TableSchema,
        included: ColumnMask,
        returning: &[usize],
    ) -> Result<Option<Arc<str>>> {
        let key = (t.name, StmtKind::InsertMany as u8, included);
        if let Some(sql) = self.engine.cached(&key) {
            return Ok((!sql.is_empty()).then_some(sql));
        }
        let dialect = self.engine.dialect();
        let Some(catalog) = dialect.insert_many_catalog(t.name) else { return Ok(None) };
        // Not logged as a statement of the session: it reads the catalog, as a prepare would.
        let conn = Session::conn_of(&self.engine, &mut self.conn)?;
        let mut columns: HashMap<String, (String, Option<String>)> = HashMap::new();
        conn.query(&catalog.sql, &catalog.params, &mut |row: &dyn Row| {
            let text = |i: usize| -> Result<Option<String>> {
                Ok(match row.get(i)?.to_owned_value() {
                    Value::Text(s) => Some(s),
                    _ => None,
                })
            };
            if let (Some(name), Some(ty)) = (text(0)?, text(1)?) {
                columns.insert(name, (ty, text(2)?));
            }
            Ok(())
        })?;
        let sql = (|| {
            let given: Vec<(&str, &str)> = included
                .iter()
                .map(|i| {
                    let c = t.columns.get(i)?;
                    Some((c.name, columns.get(c.name)?.0.as_str()))
                })
                .collect::<Option<_>>()?;
            let key =
                match returning.iter().find_map(|&i| t.columns.get(i).filter(|c| c.auto_increment))
                {
                    Some(c) => Some((c.name, columns.get(c.name)?.1.as_deref()?)),
                    None => None,
                };
            let names: Vec<&str> =
                returning.iter().filter_map(|&i| t.columns.get(i)).map(|c| c.name).collect();
            let positions: Vec<usize> = included.iter().collect();
            let match_on: Vec<usize> = positions
                .iter()
                .enumerate()
                .filter(|(_, &i)| t.columns.get(i).is_some_and(|c| c.primary_key))
                .map(|(n, _)| n)
                .collect();
            dialect.insert_many(&crate::statement::InsertMany {
                table: t.name,
                columns: &given,
                key,
                returning: &names,
                match_on: &match_on,
            })
        })();
        let cached = self.engine.cache_sql(key, sql.unwrap_or_default());
        Ok((!cached.is_empty()).then_some(cached))
    }

    /// Runs an [`insert_many_sql`](Self::insert_many_sql) statement for `rows` (their values
    /// `width` per row in `params`, moved into one array per column), giving each row the
    /// generated values read back for its position. Every row must come back exactly once.
    fn insert_many(
        &mut self,
        t: &'static TableSchema,
        sql: &str,
        returning: &[usize],
        params: &mut [Value],
        width: usize,
        rows: &mut [PendingInsert],
    ) -> Result<()> {
        let n = rows.len();
        let mut arrays: Vec<Vec<Value>> = (0..width).map(|_| Vec::with_capacity(n)).collect();
        for row in params.chunks_mut(width.max(1)) {
            for (array, v) in arrays.iter_mut().zip(row) {
                array.push(std::mem::replace(v, Value::Null));
            }
        }
        let arrays: Vec<Value> = arrays.into_iter().map(Value::List).collect();
        let engine = &self.engine;
        let conn = Session::conn_of(engine, &mut self.conn)?;
        let mismatch = |what: String| {
            Error::InvalidUse(format!(
                "{}: {n} rows inserted, but {what}: a trigger or rule may have changed the rows",
                t.name
            ))
        };
        if returning.is_empty() {
            let changed = engine.run_execute(conn, sql, &arrays)?;
            if changed != n as u64 {
                return Err(mismatch(format!("{changed} reported inserted")));
            }
            return Ok(());
        }
        let mut seen = 0usize;
        let mut problem: Option<String> = None;
        engine.run_query(conn, sql, &arrays, &mut |r: &dyn Row| {
            let ord = match r.get(0)?.to_owned_value() {
                Value::Int(i) => usize::try_from(i).ok().and_then(|i| i.checked_sub(1)),
                _ => None,
            };
            match ord.and_then(|i| rows.get_mut(i)) {
                Some(row) if row.got.is_empty() => {
                    for (pos, &col) in returning.iter().enumerate() {
                        row.got.push((col, r.get(pos + 1)?.to_owned_value()));
                    }
                    seen += 1;
                }
                _ => {
                    problem.get_or_insert_with(|| "a row came back twice or unknown".into());
                }
            }
            Ok(())
        })?;
        if let Some(p) = problem {
            return Err(mismatch(p));
        }
        if seen != n {
            return Err(mismatch(format!("{seen} came back")));
        }
        Ok(())
    }
}

/// A row of a batched UPDATE: its node, the columns it changes, how many parameters its
/// statement takes, and its version column (index, value read, value written).
struct PendingUpdate {
    id: NodeId,
    mask: ColumnMask,
    width: usize,
    version: Option<(usize, Value, Value)>,
}

/// A row of a batched INSERT: its node, the columns it gives, the columns the database
/// generates, and (after the INSERT) the generated values.
struct PendingInsert {
    id: NodeId,
    included: ColumnMask,
    returning: ColumnMask,
    /// The generated key that is the rowid (column, key): known without RETURNING.
    rowid: Option<(usize, i64)>,
    got: Vec<(usize, Value)>,
}

/// The new row of `obj`: pushes the values its INSERT gives onto `params` (schema order) and
/// returns those columns and the ones it leaves to the database and reads back: an unset
/// generated key, and the columns whose value is `DbDefault::Default`. Every other value is
/// written, also on a column with a `server_default`: a value the user set reaches the
/// database. Each column's value is taken once.
fn new_row(
    t: &'static TableSchema,
    obj: &dyn AnyModel,
    params: &mut Vec<Value>,
) -> (ColumnMask, ColumnMask) {
    let (mut included, mut returning) = (ColumnMask::empty(), ColumnMask::empty());
    let mut has_key = None;
    for (i, c) in t.columns.iter().enumerate() {
        if c.auto_increment && !*has_key.get_or_insert_with(|| obj.has_key()) {
            returning.set(i);
            continue;
        }
        let v = obj.column_value(i);
        if !c.auto_increment && v == Value::Default {
            returning.set(i);
        } else {
            included.set(i);
            params.push(v);
        }
    }
    (included, returning)
}

/// The UPDATE of the columns `mask` of `t` by primary key (and, with `#[orm(version)]`,
/// setting and checking the version), cached per engine.
fn update_sql(engine: &Engine, t: &'static TableSchema, mask: ColumnMask) -> Result<Arc<str>> {
    engine.cached_sql((t.name, StmtKind::Update as u8, mask), &|| {
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
        engine.dialect().update(&Update { table: t.name, set, filter: Some(filter) }).map(|r| r.sql)
    })
}

/// Key or version values as a message shows them (`7`, `"ann"`, `(1, "x")`), not as Rust
/// debug output (`[Int(7)]`).
fn shown(values: &[Value]) -> String {
    crate::model::MapKey::from_values(values.to_vec()).to_string()
}

/// The error of an UPDATE of `t` that matched no row: deleted since it was read, or (with a
/// version read) changed by another writer.
fn stale_update(t: &TableSchema, key: &[Value], version: Option<&Value>) -> Error {
    Error::StaleData(match version {
        Some(read) => format!(
            "UPDATE of {} with key {} at version {} matched no row: another writer changed or \
             deleted it since this copy was read",
            t.name,
            shown(key),
            shown(std::slice::from_ref(read)),
        ),
        None => format!(
            "UPDATE of {} with key {} matched no row: it was deleted since this session read it",
            t.name,
            shown(key),
        ),
    })
}

/// The next value of a `#[orm(version)]` column: the one read, plus one.
pub(super) fn next_version(t: &'static TableSchema, v: usize, obj: &dyn AnyModel) -> Result<Value> {
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

/// Gives an object the foreign keys its parent and belongs_to targets hold, logging the old
/// values (before its INSERT or UPDATE).
fn give_keys(
    obj: &mut dyn AnyModel,
    id: NodeId,
    from: Option<&FromParent>,
    table: &NodeTable,
    out: &mut Outcome,
) -> Result<()> {
    // Without an intermediate list for the parent's key (most objects have no belongs_to
    // target loaded): a flush of many children sets it on each.
    let belongs = belongs_to_keys(obj)?;
    for key in parent_key_columns(obj.table(), from) {
        let (col, v) = key?;
        set_logged(obj, id, col, v.ok_or_else(|| no_parent_key(table, id))?, out)?;
    }
    for (col, v) in belongs {
        set_logged(obj, id, col, v, out)?;
    }
    Ok(())
}
