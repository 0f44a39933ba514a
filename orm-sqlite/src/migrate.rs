//! Migrations on SQLite: [`MigrationDialect`] for [`SqliteDialect`].
//!
//! SQLite's `ALTER TABLE` can add, rename and (3.35+) drop a plain column and rename a table;
//! anything else (changing a column, dropping one that an index or constraint uses, adding or
//! dropping a constraint or foreign key, a new primary key, new enum labels, adding a column
//! that needs a non-constant default) is done by rebuilding the table, as SQLite's documentation
//! describes: create the new table under a temporary name, copy every row, drop the old table,
//! rename the new one, re-create its indexes and triggers.
//!
//! Each revision runs with `PRAGMA foreign_keys = OFF` (set before its transaction: SQLite
//! ignores the pragma inside one), so that dropping the old table during a rebuild cascades to
//! no child row, and ends with `PRAGMA foreign_key_check`: any row left pointing nowhere fails
//! the revision, which is rolled back. Foreign keys are switched on again afterwards.
//! `BEGIN IMMEDIATE` takes the write lock, so two processes migrating at once take turns.

use crate::dialect::SqliteDialect;
use orm_core::migrate::dialect::{
    numeric_precision, quote_literal, render_standard, Guard, MigrationDialect, Statement,
};
use orm_core::migrate::{Column, Index, IndexKey, ObjectKind, Op, Schema, SqlObject};
use orm_core::{ColumnType, Connection, Dialect, Error, Result, SqlWriter};

/// The prefix of the temporary name a table is rebuilt under.
pub const REBUILD_PREFIX: &str = "_orm_new_";

impl MigrationDialect for SqliteDialect {
    fn render(&self, op: &Op, before: &Schema, after: &Schema) -> Result<Vec<Statement>> {
        if let Some(table) = self.rebuilds(op, before) {
            let mut using = Vec::new();
            if let Op::AlterColumn { to, using: Some(expr), .. } = op {
                using.push((to.name.clone(), expr.clone()));
            }
            return rebuild(self, &table, before, after, &using);
        }
        match op {
            Op::AlterEnum { name, from, to } => {
                // The rebuilt tables' CHECK would refuse a label that goes: count them first.
                let mut out = self.enum_label_guards(name, from, to, before);
                for t in after.tables.values() {
                    if t.columns.iter().any(|c| c.ty.enum_name() == Some(name)) {
                        out.extend(rebuild(self, &t.name, before, after, &[])?);
                    }
                }
                Ok(out)
            }
            Op::CreateEnum { .. } | Op::DropEnum { .. } => Ok(Vec::new()),
            _ => render_standard(self, op, before, after),
        }
    }

    fn rebuilds(&self, op: &Op, before: &Schema) -> Option<String> {
        match op {
            Op::AddColumn { table, column } if !can_add_in_place(column) => Some(table.clone()),
            Op::DropColumn { table, column }
                if before.table(table).is_some_and(|t| t.is_constrained(&column.name)) =>
            {
                Some(table.clone())
            }
            Op::AlterColumn { table, .. }
            | Op::AddUnique { table, .. }
            | Op::DropUnique { table, .. }
            | Op::AddForeignKey { table, .. }
            | Op::DropForeignKey { table, .. }
            | Op::AddCheck { table, .. }
            | Op::DropCheck { table, .. }
            | Op::AlterPrimaryKey { table, .. } => Some(table.clone()),
            _ => None,
        }
    }

    /// A B-tree index without operator classes (SQLite has neither `USING` nor operator
    /// classes); an index of a method SQLite lacks becomes a comment.
    fn create_index_statement(&self, table: &str, index: &Index, concurrently: bool) -> Statement {
        let _ = concurrently;
        if !has_method(index) {
            return skipped(table, index);
        }
        let mut plain = index.clone();
        plain.using = None;
        plain.columns = index.columns.iter().map(IndexKey::without_opclass).collect();
        Statement::Sql(self.create_index_sql(table, &plain, false))
    }

    fn drop_index_statement(&self, table: &str, index: &Index) -> Statement {
        if !has_method(index) {
            return skipped(table, index);
        }
        Statement::Sql(format!("DROP INDEX {}", self.ident(&index.name)))
    }

    /// `DROP TRIGGER name` (a trigger's name is unique in the database); SQLite has no SQL
    /// functions, so a declared function is a comment.
    fn drop_object_statement(&self, object: &SqlObject) -> Statement {
        let name = self.ident(&object.name);
        match object.kind {
            ObjectKind::Trigger => Statement::Sql(format!("DROP TRIGGER {name}")),
            ObjectKind::View => Statement::Sql(format!("DROP VIEW {name}")),
            ObjectKind::Function => {
                Statement::Comment(format!("SQLite has no functions: nothing to drop for {object}"))
            }
            ObjectKind::MaterializedView => Statement::Comment(format!(
                "SQLite has no materialized views: nothing to drop for {object}"
            )),
        }
    }

    fn render_rebuild(
        &self,
        table: &str,
        before: &Schema,
        after: &Schema,
        using: &[(String, String)],
    ) -> Result<Vec<Statement>> {
        rebuild(self, table, before, after, using)
    }

    /// A decimal column compares by value ([`crate::value::DECIMAL_COLLATION`]).
    fn column_sql_type(&self, col: &Column) -> String {
        let ty = self.sql_type(col.ty.as_borrowed(), col.max_length);
        if col.ty == ColumnType::Numeric {
            format!("{ty} COLLATE {}", crate::value::DECIMAL_COLLATION)
        } else {
            ty
        }
    }

    /// ` CHECK ("col" IN ('a', 'b'))`.
    fn write_enum_constraint(&self, w: &mut SqlWriter, column: &str, labels: &[String]) {
        w.push(" CHECK (");
        self.write_ident(w, column);
        w.push(" IN (");
        let quoted: Vec<String> = labels.iter().map(|l| quote_literal(l)).collect();
        w.push(&quoted.join(", "));
        w.push("))");
    }

    /// Timestamps are text in a fixed format (`2024-05-01 12:30:00.000000`): one that is not
    /// exactly its date at midnight.
    fn time_of_day_predicate(&self, expr: &str) -> String {
        format!("{expr} IS NOT date({expr}) || ' 00:00:00.000000'")
    }

    fn before_revision_sql(&self) -> Vec<String> {
        vec!["PRAGMA foreign_keys = OFF".into()]
    }

    fn after_revision_sql(&self) -> Vec<String> {
        vec!["PRAGMA foreign_keys = ON".into()]
    }

    fn restore_settings_query(&self) -> Option<String> {
        Some("SELECT 'PRAGMA foreign_keys = ' || foreign_keys FROM pragma_foreign_keys".into())
    }

    fn integrity_check_sql(&self) -> Option<String> {
        Some("PRAGMA foreign_key_check".into())
    }

    fn reflect(&self, conn: &mut dyn Connection) -> Result<Schema> {
        crate::reflect::reflect(conn)
    }

    fn comparable(&self, schema: &Schema) -> Schema {
        crate::reflect::comparable(self, schema)
    }

    fn canonical(
        &self,
        conn: &mut dyn Connection,
        live: &Schema,
        expected: &Schema,
    ) -> Result<Schema> {
        let _ = conn;
        Ok(crate::reflect::canonical(live, expected))
    }
}

/// Whether SQLite has the index's method: B-tree (the default) only.
pub(crate) fn has_method(index: &Index) -> bool {
    index.using.as_deref().is_none_or(|m| m.eq_ignore_ascii_case("btree"))
}

/// The note standing for an index SQLite cannot build.
fn skipped(table: &str, index: &Index) -> Statement {
    let method = index.using.as_deref().unwrap_or_default();
    Statement::Comment(format!(
        "SQLite has no {method} index method: index {} on {table} is skipped",
        index.name
    ))
}

/// Whether `ALTER TABLE ADD COLUMN` can add the column: not part of a key, and either nullable
/// or with a literal default (SQLite refuses NOT NULL without a default, and any non-constant
/// default such as `CURRENT_TIMESTAMP`).
fn can_add_in_place(c: &Column) -> bool {
    let constant_server_default = c.server_default.as_deref().is_some_and(|d| {
        let d = d.trim();
        d.parse::<f64>().is_ok()
            || (d.starts_with('\'') && d.ends_with('\'') && d.len() >= 2)
            || d.eq_ignore_ascii_case("null")
            || d.eq_ignore_ascii_case("true")
            || d.eq_ignore_ascii_case("false")
    });
    let has_default = c.default.is_some() || constant_server_default;
    if c.server_default.is_some() && !constant_server_default {
        return false;
    }
    !c.auto_increment && (c.nullable || has_default)
}

/// How the rebuild copies column `from` into `to`: as it is, or, between dates and timestamps
/// (text in their formats, which SQLite's affinity does not convert), in the new format.
fn copy_expression(d: &SqliteDialect, from: &Column, to: &Column) -> String {
    let c = d.ident(&from.name);
    let timestamp =
        |ty: &ColumnType<String>| matches!(ty, ColumnType::Timestamp | ColumnType::Timestamptz);
    match (&from.ty, &to.ty) {
        (f, ColumnType::Date) if timestamp(f) => format!("date({c})"),
        (ColumnType::Date, t) if timestamp(t) => format!("{c} || ' 00:00:00.000000'"),
        _ => c,
    }
}

/// A guard over the rebuilt table `tmp`: the rows whose value in column `to` is not stored as
/// the number (or boolean) that the new type holds, when its old type was another.
fn stored_type_guard(
    d: &SqliteDialect,
    table: &str,
    tmp: &str,
    from: &Column,
    to: &Column,
) -> Option<Statement> {
    let numeric =
        |ty: &ColumnType<String>| -> bool { ty.is_integer() || matches!(ty, ColumnType::Boolean) };
    let (types, what) = if numeric(&to.ty) {
        ("'integer'", "integers")
    } else if matches!(to.ty, ColumnType::Real | ColumnType::Double) {
        ("'integer', 'real'", "numbers")
    } else {
        return None;
    };
    // Numbers are converted by the affinity (the guards before counted those that round);
    // text and other types may stay what they were.
    let from_number = match &from.ty {
        ColumnType::Custom(t) => numeric_precision(t).is_some(),
        ty => {
            numeric(ty) || matches!(ty, ColumnType::Real | ColumnType::Double | ColumnType::Numeric)
        }
    };
    if from.ty == to.ty || from_number {
        return None;
    }
    let c = d.ident(&to.name);
    let predicate = format!("{c} IS NOT NULL AND typeof({c}) NOT IN ({types})");
    let reason = format!("are not {what}");
    let message =
        format!("rows of {table}.{} {reason}: the change would lose or alter them", to.name);
    Some(Statement::Guard(Guard {
        table: table.to_owned(),
        column: to.name.clone(),
        query: format!("SELECT count(*) FROM {} WHERE {predicate}", d.ident(tmp)),
        script: d.guard_script(tmp, &predicate, &message),
        reason,
    }))
}

/// The statements rebuilding `table` from its definition in `before` to the one in `after`,
/// copying the columns both have (`using` gives some columns' copy expressions).
fn rebuild(
    d: &SqliteDialect,
    table: &str,
    before: &Schema,
    after: &Schema,
    using: &[(String, String)],
) -> Result<Vec<Statement>> {
    let missing = |name: &str| Error::Migration(format!("table {name:?} does not exist"));
    let old = before.table(table).ok_or_else(|| missing(table))?;
    let new = after.table(table).ok_or_else(|| missing(table))?;
    let tmp = format!("{REBUILD_PREFIX}{table}");
    let mut out = vec![
        Statement::Save(format!(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = {}",
            quote_literal(table)
        )),
        Statement::Sql(d.create_table_sql(new, &tmp, after)),
    ];
    let copied: Vec<&Column> =
        new.columns.iter().filter(|c| old.column(&c.name).is_some()).collect();
    let converted = |c: &Column| !using.iter().any(|(col, _)| *col == c.name);
    // Rows that the new definition would lose or change fail the revision before the copy
    // (SQLite itself would keep a long text in a VARCHAR(100), or 2.5 in an INTEGER column,
    // and the schema would lie); an explicit `using` says how to convert, and is trusted.
    for c in copied.iter().copied().filter(|c| converted(c)) {
        if let Some(from) = old.column(&c.name) {
            out.extend(d.guards(table, table, from, c, after));
        }
    }
    if !copied.is_empty() {
        let mut w = SqlWriter::new();
        w.push("INSERT INTO ");
        d.write_ident(&mut w, &tmp);
        w.push(" (");
        let names: Vec<String> = copied.iter().map(|c| c.name.clone()).collect();
        d.write_names(&mut w, &names);
        w.push(") SELECT ");
        for (i, c) in copied.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            match using.iter().find(|(col, _)| *col == c.name) {
                Some((_, expr)) => w.push(expr),
                None => match old.column(&c.name) {
                    Some(from) => w.push(&copy_expression(d, from, c)),
                    None => d.write_ident(&mut w, &c.name),
                },
            }
        }
        w.push(" FROM ");
        d.write_ident(&mut w, table);
        out.push(Statement::Sql(w.sql));
        // What the guards before cannot see: text that the new column's affinity could not
        // make a number of stays text in it. Counted in the copy, before the old table goes.
        for c in copied.iter().copied().filter(|c| converted(c)) {
            if let Some(from) = old.column(&c.name) {
                out.extend(stored_type_guard(d, table, &tmp, from, c));
            }
        }
    }
    out.push(Statement::Sql(format!("DROP TABLE {}", d.ident(table))));
    // Legacy renaming, so that SQLite does not check views and triggers that name the dropped
    // table (they are valid again once the new table has its name).
    out.push(Statement::Sql("PRAGMA legacy_alter_table = ON".into()));
    out.push(Statement::Sql(format!("ALTER TABLE {} RENAME TO {}", d.ident(&tmp), d.ident(table))));
    out.push(Statement::Sql("PRAGMA legacy_alter_table = OFF".into()));
    for ix in &new.indexes {
        out.push(d.create_index_statement(table, ix, false));
    }
    out.push(Statement::RestoreSaved);
    Ok(out)
}
