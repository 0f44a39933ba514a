//! Autogenerate: the ops that take the schema the revision files replay to, to the schema the
//! models describe. No database is involved. Renames are declared on the models
//! (`#[orm(renamed_from = "old")]`), never guessed: a declared rename whose old name exists (and
//! whose new one does not) becomes a rename, which keeps the data.
//!
//! CHECK constraints are compared by name and expression (`#[orm(check(...))]`), indexes by
//! everything they declare (keys, operator classes, method, predicate). Raw SQL steps are not
//! compared: the objects they declare (`creates`) are the revisions' own, which `check`
//! compares with the live database. Names matching the migrations folder's `ignore` patterns
//! (see [`Revisions::ignores`]) are left out on both sides.

use super::ops::{Op, Step};
use super::revision::{Revision, Revisions};
use super::schema::{Schema, Table};
use crate::error::{Error, Result};
use crate::schema::TableSchema;

/// The ops from `current` to the models' schema, in an order that works on every backend:
/// enum types, renames, dropped constraints, new tables, column changes, new constraints,
/// dropped tables, dropped enum types. Tables are created parents first; foreign keys that form
/// a cycle are broken at a nullable one, added after the tables (a cycle of NOT NULL foreign
/// keys is an [`Error::ForeignKeyCycle`]).
pub fn diff(current: &Schema, models: &[&TableSchema]) -> Result<Vec<Op>> {
    diff_ignoring(current, models, &|_| false)
}

/// [`diff`], leaving out the tables, indexes, constraints and enum types whose names
/// `ignored` picks, on both sides.
pub fn diff_ignoring(
    current: &Schema,
    models: &[&TableSchema],
    ignored: &dyn Fn(&str) -> bool,
) -> Result<Vec<Op>> {
    let target = Schema::from_tables(models).without(ignored);
    let current = &current.without(ignored);
    // Declared renames, applied to a working copy so the comparison sees them.
    let mut working = current.clone();
    let mut renames = Vec::new();
    for t in models {
        if let Some(old) = t.renamed_from {
            if working.tables.contains_key(old) && !working.tables.contains_key(t.name) {
                let op = Op::RenameTable { from: old.to_owned(), to: t.name.to_owned() };
                let _ = working.apply(&op);
                renames.push(op);
            }
        }
    }
    for t in models {
        for c in t.columns {
            let Some(old) = c.renamed_from else { continue };
            let Some(wt) = working.tables.get(t.name) else { continue };
            if wt.column(old).is_some() && wt.column(c.name).is_none() {
                let op = Op::RenameColumn {
                    table: t.name.to_owned(),
                    from: old.to_owned(),
                    to: c.name.to_owned(),
                };
                let _ = working.apply(&op);
                renames.push(op);
            }
        }
    }
    diff_from(current, &working, &target, renames)
}

/// The ops from one schema to another, with no renames (a renamed table is a drop and a create),
/// including the objects raw SQL declares: one `sql` op each, with no SQL (`create trigger ...`,
/// `drop function ...`), which say what differs rather than what to run.
pub fn diff_schemas(current: &Schema, target: &Schema) -> Result<Vec<Op>> {
    let mut ops = diff_from(current, current, target, Vec::new())?;
    for o in current.objects.difference(&target.objects) {
        ops.push(Op::Sql {
            up: String::new(),
            down: None,
            creates: Vec::new(),
            drops: vec![o.clone()],
        });
    }
    for o in target.objects.difference(&current.objects) {
        ops.push(Op::Sql {
            up: String::new(),
            down: None,
            creates: vec![o.clone()],
            drops: Vec::new(),
        });
    }
    Ok(ops)
}

fn diff_from(
    current: &Schema,
    working: &Schema,
    target: &Schema,
    renames: Vec<Op>,
) -> Result<Vec<Op>> {
    let mut ops = Vec::new();
    for (name, values) in &target.enums {
        match current.enums.get(name) {
            None => ops.push(Op::CreateEnum { name: name.clone(), values: values.clone() }),
            Some(old) if old != values => ops.push(Op::AlterEnum {
                name: name.clone(),
                from: old.clone(),
                to: values.clone(),
            }),
            Some(_) => {}
        }
    }
    ops.extend(renames);

    let mut drop_constraints = Vec::new();
    let mut create_tables = Vec::new();
    let mut add_columns = Vec::new();
    let mut alter_columns = Vec::new();
    let mut primary_keys = Vec::new();
    let mut drop_columns = Vec::new();
    let mut add_constraints = Vec::new();
    let mut add_foreign_keys = Vec::new();

    let order = target.creation_order()?;
    let new_tables: Vec<&Table> =
        order.tables.iter().copied().filter(|t| !working.tables.contains_key(&t.name)).collect();
    for op in create_ops(&new_tables, &[])? {
        match op {
            Op::CreateTable(_) => create_tables.push(op),
            // A foreign key closing a cycle, added once the tables it joins exist.
            _ => add_foreign_keys.push(op),
        }
    }
    for &tt in &order.tables {
        let Some(wt) = working.tables.get(&tt.name) else { continue };
        let table = || tt.name.clone();
        for f in wt.foreign_keys.iter().filter(|f| !tt.foreign_keys.contains(f)) {
            drop_constraints.push(Op::DropForeignKey { table: table(), foreign_key: f.clone() });
        }
        for i in wt.indexes.iter().filter(|i| !tt.indexes.contains(i)) {
            drop_constraints.push(Op::DropIndex { table: table(), index: i.clone() });
        }
        for u in wt.uniques.iter().filter(|u| !tt.uniques.contains(u)) {
            drop_constraints.push(Op::DropUnique { table: table(), unique: u.clone() });
        }
        for c in wt.checks.iter().filter(|c| !tt.checks.contains(c)) {
            drop_constraints.push(Op::DropCheck { table: table(), check: c.clone() });
        }
        for c in &tt.columns {
            match wt.column(&c.name) {
                None => add_columns.push(Op::AddColumn { table: table(), column: c.clone() }),
                Some(old) if old != c => alter_columns.push(Op::AlterColumn {
                    table: table(),
                    from: old.clone(),
                    to: c.clone(),
                    using: None,
                    down_using: None,
                }),
                Some(_) => {}
            }
        }
        if wt.primary_key != tt.primary_key {
            primary_keys.push(Op::AlterPrimaryKey {
                table: table(),
                from: wt.primary_key.clone(),
                to: tt.primary_key.clone(),
            });
        }
        for c in wt.columns.iter().filter(|c| tt.column(&c.name).is_none()) {
            drop_columns.push(Op::DropColumn { table: table(), column: c.clone() });
        }
        for u in tt.uniques.iter().filter(|u| !wt.uniques.contains(u)) {
            add_constraints.push(Op::AddUnique { table: table(), unique: u.clone() });
        }
        for c in tt.checks.iter().filter(|c| !wt.checks.contains(c)) {
            add_constraints.push(Op::AddCheck { table: table(), check: c.clone() });
        }
        for i in tt.indexes.iter().filter(|i| !wt.indexes.contains(i)) {
            add_constraints.push(Op::CreateIndex {
                table: table(),
                index: i.clone(),
                concurrently: false,
            });
        }
        for f in tt.foreign_keys.iter().filter(|f| !wt.foreign_keys.contains(f)) {
            add_foreign_keys.push(Op::AddForeignKey { table: table(), foreign_key: f.clone() });
        }
    }

    ops.extend(drop_constraints);
    ops.extend(create_tables);
    ops.extend(add_columns);
    ops.extend(alter_columns);
    ops.extend(primary_keys);
    ops.extend(drop_columns);
    ops.extend(add_constraints);
    ops.extend(add_foreign_keys);

    // Dropped tables, children first; the foreign keys closing a cycle before them.
    let dropped: Vec<&Table> =
        working.tables.values().filter(|t| !target.tables.contains_key(&t.name)).collect();
    ops.extend(drop_ops(&dropped)?);

    for (name, values) in &current.enums {
        if !target.enums.contains_key(name) {
            ops.push(Op::DropEnum { name: name.clone(), values: values.clone() });
        }
    }
    Ok(ops)
}

/// The ops creating `tables` (from a schema holding their enum types' labels in `enums`)
/// where none of them exists: their enum types, the tables parents first, then the foreign
/// keys that close a cycle. What `create_all` runs, and what autogenerate writes for new tables.
pub fn create_ops(tables: &[&Table], enums: &[(&str, &[String])]) -> Result<Vec<Op>> {
    let mut ops: Vec<Op> = enums
        .iter()
        .map(|(name, values)| Op::CreateEnum { name: (*name).to_owned(), values: values.to_vec() })
        .collect();
    let order = super::schema::creation_order(tables)?;
    for &t in &order.tables {
        let mut created = t.clone();
        created.foreign_keys.retain(|f| !order.is_deferred(&t.name, f));
        ops.push(Op::CreateTable(created));
    }
    for (table, f) in &order.deferred {
        ops.push(Op::AddForeignKey { table: (*table).to_owned(), foreign_key: (*f).clone() });
    }
    Ok(ops)
}

/// The ops dropping `tables`: the foreign keys that close a cycle between them, then the
/// tables, children first.
pub fn drop_ops(tables: &[&Table]) -> Result<Vec<Op>> {
    let order = super::schema::creation_order(tables)?;
    let mut ops: Vec<Op> = order
        .deferred
        .iter()
        .map(|(table, f)| Op::DropForeignKey {
            table: (*table).to_owned(),
            foreign_key: (*f).clone(),
        })
        .collect();
    for &t in order.tables.iter().rev() {
        let mut dropped = t.clone();
        dropped.foreign_keys.retain(|f| !order.is_deferred(&t.name, f));
        ops.push(Op::DropTable(dropped));
    }
    Ok(ops)
}

/// The differences between what the revisions build and what the models describe, one line
/// each (empty when they agree).
pub fn differences(revisions: &Revisions, models: &[&TableSchema]) -> Result<Vec<String>> {
    let current = revisions.replay_all(None)?;
    let ignored = |name: &str| revisions.ignores(name);
    Ok(diff_ignoring(&current, models, &ignored)?.iter().map(Op::describe).collect())
}

/// A new revision taking the migrations to the models, or `None` when nothing changed. Refuses
/// to run without models (that revision would drop every table) and with several heads.
pub fn autogenerate(
    revisions: &Revisions,
    models: &[&TableSchema],
    message: &str,
) -> Result<Option<Revision>> {
    if models.is_empty() {
        return Err(Error::Migration(
            "no model is registered: refusing to write a revision that drops every table \
             (is the crate that defines the models linked into this binary?)"
                .into(),
        ));
    }
    let parents: Vec<String> = match revisions.single_head()? {
        Some(h) => vec![h.id.clone()],
        None => Vec::new(),
    };
    let current = revisions.replay_all(None)?;
    let ignored = |name: &str| revisions.ignores(name);
    let ops = diff_ignoring(&current, models, &ignored)?;
    if ops.is_empty() {
        return Ok(None);
    }
    Ok(Some(Revision::new(parents, message, ops.into_iter().map(Step::new).collect())))
}
