//! The operations a revision holds ([`Op`], each optionally for one dialect: [`Step`]), what
//! each does to a [`Schema`] when replayed ([`Schema::apply`]), and each one's inverse (what a
//! downgrade runs). Every op carries what its inverse needs: a dropped column or table keeps its
//! whole definition, an altered column both its old and new definitions.

use super::schema::{
    Check, Column, ForeignKey, Index, ObjectKind, Schema, SqlObject, Table, Unique,
};
use serde::{Deserialize, Serialize};

/// One schema change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// `CREATE TABLE`, with its indexes.
    CreateTable(Table),
    /// `DROP TABLE`; the whole definition is kept for the downgrade.
    DropTable(Table),
    /// `ALTER TABLE from RENAME TO to`.
    RenameTable {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `ALTER TABLE ... ADD COLUMN`.
    AddColumn {
        /// The table.
        table: String,
        /// The new column.
        column: Column,
    },
    /// `ALTER TABLE ... DROP COLUMN`; the definition is kept for the downgrade.
    DropColumn {
        /// The table.
        table: String,
        /// The dropped column.
        column: Column,
    },
    /// A change of type, nullability, default, length or generation of one column.
    AlterColumn {
        /// The table.
        table: String,
        /// The column before.
        from: Column,
        /// The column after (same name).
        to: Column,
        /// The SQL expression converting old values (PostgreSQL `USING`, the SQLite copy);
        /// default: a cast of the column.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        using: Option<String>,
        /// The same, for the downgrade.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        down_using: Option<String>,
    },
    /// `ALTER TABLE ... RENAME COLUMN from TO to`.
    RenameColumn {
        /// The table.
        table: String,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `CREATE INDEX`.
    CreateIndex {
        /// The table.
        table: String,
        /// The index.
        index: Index,
        /// PostgreSQL `CREATE INDEX CONCURRENTLY`: runs outside the revision's transaction.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        concurrently: bool,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// The table.
        table: String,
        /// The index, kept for the downgrade.
        index: Index,
    },
    /// `ADD CONSTRAINT ... UNIQUE`.
    AddUnique {
        /// The table.
        table: String,
        /// The constraint.
        unique: Unique,
    },
    /// `DROP CONSTRAINT` of a UNIQUE constraint.
    DropUnique {
        /// The table.
        table: String,
        /// The constraint, kept for the downgrade.
        unique: Unique,
    },
    /// `ADD CONSTRAINT ... FOREIGN KEY`.
    AddForeignKey {
        /// The table.
        table: String,
        /// The constraint.
        foreign_key: ForeignKey,
    },
    /// `DROP CONSTRAINT` of a FOREIGN KEY.
    DropForeignKey {
        /// The table.
        table: String,
        /// The constraint, kept for the downgrade.
        foreign_key: ForeignKey,
    },
    /// `ADD CONSTRAINT ... CHECK`.
    AddCheck {
        /// The table.
        table: String,
        /// The constraint.
        check: Check,
    },
    /// `DROP CONSTRAINT` of a CHECK.
    DropCheck {
        /// The table.
        table: String,
        /// The constraint, kept for the downgrade.
        check: Check,
    },
    /// A new primary key.
    AlterPrimaryKey {
        /// The table.
        table: String,
        /// The key's columns before.
        from: Vec<String>,
        /// The key's columns after.
        to: Vec<String>,
    },
    /// `CREATE TYPE ... AS ENUM` (nothing on SQLite, whose enum columns carry a CHECK).
    CreateEnum {
        /// The type's name.
        name: String,
        /// Its labels.
        values: Vec<String>,
    },
    /// `DROP TYPE`.
    DropEnum {
        /// The type's name.
        name: String,
        /// Its labels, kept for the downgrade.
        values: Vec<String>,
    },
    /// New labels of an enum type (`ALTER TYPE ... ADD VALUE` when only appended).
    AlterEnum {
        /// The type's name.
        name: String,
        /// The labels before.
        from: Vec<String>,
        /// The labels after.
        to: Vec<String>,
    },
    /// Raw SQL (triggers, functions, views, data fixes) and the SQL that undoes it, with the
    /// objects it creates or drops (so replay, `check` and the downgrade know them).
    Sql {
        /// Run on upgrade. Empty: the op drops its `drops` objects with generated SQL (the
        /// inverse of an op without `down` whose objects are declared).
        up: String,
        /// Run on downgrade. Without it, a downgrade drops the declared `creates` objects (and
        /// an op that declares none, or declares `drops`, cannot be downgraded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        down: Option<String>,
        /// The triggers, views and functions `up` creates.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        creates: Vec<SqlObject>,
        /// The triggers, views and functions `up` drops.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        drops: Vec<SqlObject>,
    },
}

/// An [`Op`], optionally for one dialect only (`dialect = "postgresql"` or `"sqlite"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The operation.
    #[serde(flatten)]
    pub op: Op,
    /// The one dialect this step is for; all when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<String>,
}

impl Step {
    /// A step for every dialect.
    pub fn new(op: Op) -> Step {
        Step { op, dialect: None }
    }

    /// Whether it runs on `dialect` (`None`: the dialect-neutral replay, which skips the steps
    /// of one dialect).
    pub fn applies_to(&self, dialect: Option<&str>) -> bool {
        match (&self.dialect, dialect) {
            (None, _) => true,
            (Some(d), Some(want)) => d == want,
            (Some(_), None) => false,
        }
    }
}

impl Op {
    /// The op that undoes this one. Raw SQL without `down` has none.
    pub fn inverse(&self) -> Result<Op, String> {
        Ok(match self.clone() {
            Op::CreateTable(t) => Op::DropTable(t),
            Op::DropTable(t) => Op::CreateTable(t),
            Op::RenameTable { from, to } => Op::RenameTable { from: to, to: from },
            Op::AddColumn { table, column } => Op::DropColumn { table, column },
            Op::DropColumn { table, column } => Op::AddColumn { table, column },
            Op::AlterColumn { table, from, to, using, down_using } => {
                Op::AlterColumn { table, from: to, to: from, using: down_using, down_using: using }
            }
            Op::RenameColumn { table, from, to } => Op::RenameColumn { table, from: to, to: from },
            Op::CreateIndex { table, index, .. } => Op::DropIndex { table, index },
            Op::DropIndex { table, index } => Op::CreateIndex { table, index, concurrently: false },
            Op::AddUnique { table, unique } => Op::DropUnique { table, unique },
            Op::DropUnique { table, unique } => Op::AddUnique { table, unique },
            Op::AddForeignKey { table, foreign_key } => Op::DropForeignKey { table, foreign_key },
            Op::DropForeignKey { table, foreign_key } => Op::AddForeignKey { table, foreign_key },
            Op::AddCheck { table, check } => Op::DropCheck { table, check },
            Op::DropCheck { table, check } => Op::AddCheck { table, check },
            Op::AlterPrimaryKey { table, from, to } => {
                Op::AlterPrimaryKey { table, from: to, to: from }
            }
            Op::CreateEnum { name, values } => Op::DropEnum { name, values },
            Op::DropEnum { name, values } => Op::CreateEnum { name, values },
            Op::AlterEnum { name, from, to } => Op::AlterEnum { name, from: to, to: from },
            Op::Sql { up, down, creates, drops } => match down {
                Some(down) => Op::Sql { up: down, down: Some(up), creates: drops, drops: creates },
                None if !creates.is_empty() && drops.is_empty() && !up.trim().is_empty() => {
                    Op::Sql { up: String::new(), down: None, creates: Vec::new(), drops: creates }
                }
                None => {
                    return Err("a raw SQL step without `down` cannot be downgraded (give \
                                `down`, or declare what it creates with `creates`)"
                        .into())
                }
            },
        })
    }

    /// A one-line description: `add column users.age`.
    pub fn describe(&self) -> String {
        match self {
            Op::CreateTable(t) => format!("create table {}", t.name),
            Op::DropTable(t) => format!("drop table {}", t.name),
            Op::RenameTable { from, to } => format!("rename table {from} to {to}"),
            Op::AddColumn { table, column } => format!("add column {table}.{}", column.name),
            Op::DropColumn { table, column } => format!("drop column {table}.{}", column.name),
            Op::AlterColumn { table, from, to, .. } => format!(
                "alter column {table}.{} ({})",
                to.name,
                from.describe_change(to).unwrap_or_default()
            ),
            Op::RenameColumn { table, from, to } => {
                format!("rename column {table}.{from} to {to}")
            }
            Op::CreateIndex { table, index, .. } => {
                let mut s = format!("create index {} on {table}", index.name);
                if let Some(m) = &index.using {
                    s.push_str(&format!(" using {m}"));
                }
                s.push_str(&format!(" ({})", index.describe_keys()));
                if let Some(w) = &index.where_clause {
                    s.push_str(&format!(" where {w}"));
                }
                s
            }
            Op::DropIndex { table, index } => format!("drop index {} on {table}", index.name),
            Op::AddUnique { table, unique } => {
                format!("add unique {} on {table} ({})", unique.name, unique.columns.join(", "))
            }
            Op::DropUnique { table, unique } => format!("drop unique {} on {table}", unique.name),
            Op::AddForeignKey { table, foreign_key: f } => format!(
                "add foreign key {} on {table} ({}) -> {}",
                f.name,
                f.columns.join(", "),
                f.ref_table
            ),
            Op::DropForeignKey { table, foreign_key } => {
                format!("drop foreign key {} on {table}", foreign_key.name)
            }
            Op::AddCheck { table, check } => {
                format!("add check {} on {table} ({})", check.name, check.expr)
            }
            Op::DropCheck { table, check } => format!("drop check {} on {table}", check.name),
            Op::AlterPrimaryKey { table, to, .. } => {
                format!("alter primary key of {table} to ({})", to.join(", "))
            }
            Op::CreateEnum { name, values } => {
                format!("create enum {name} ({})", values.join(", "))
            }
            Op::DropEnum { name, .. } => format!("drop enum {name}"),
            Op::AlterEnum { name, from, to } => {
                format!("alter enum {name} ({}) -> ({})", from.join(", "), to.join(", "))
            }
            Op::Sql { up, creates, drops, .. }
                if up.trim().is_empty() && !(drops.is_empty() && creates.is_empty()) =>
            {
                let names: Vec<String> = drops
                    .iter()
                    .map(|o| format!("drop {o}"))
                    .chain(creates.iter().map(|o| format!("create {o}")))
                    .collect();
                names.join(", ")
            }
            Op::Sql { up, .. } => {
                let first = up.trim().lines().next().unwrap_or("");
                format!("sql: {first}")
            }
        }
    }
}

fn table_mut<'a>(s: &'a mut Schema, name: &str) -> Result<&'a mut Table, String> {
    s.tables.get_mut(name).ok_or_else(|| format!("table {name:?} does not exist"))
}

fn rename_in(cols: &mut [String], from: &str, to: &str) {
    for c in cols.iter_mut().filter(|c| *c == from) {
        *c = to.to_owned();
    }
}

/// Removes the item named `name` from `list`, or says it is missing.
fn remove_named<T>(
    list: &mut Vec<T>,
    name: &str,
    what: &str,
    table: &str,
    name_of: impl Fn(&T) -> &str,
) -> Result<(), String> {
    let before = list.len();
    list.retain(|x| name_of(x) != name);
    if list.len() == before {
        return Err(format!("{what} {name:?} does not exist on table {table:?}"));
    }
    Ok(())
}

impl Schema {
    /// Applies one op, as the database would; an op that does not fit (a missing table, a
    /// column that exists already) is an error naming what is wrong.
    pub fn apply(&mut self, op: &Op) -> Result<(), String> {
        match op {
            Op::CreateTable(t) => {
                t.indexes.iter().try_for_each(check_index)?;
                if self.tables.contains_key(&t.name) {
                    return Err(format!("table {:?} exists already", t.name));
                }
                self.tables.insert(t.name.clone(), t.clone());
            }
            Op::DropTable(t) => {
                self.tables
                    .remove(&t.name)
                    .ok_or_else(|| format!("table {:?} does not exist", t.name))?;
                // Its triggers go with it.
                self.objects.retain(|o| o.table.as_deref() != Some(t.name.as_str()));
            }
            Op::RenameTable { from, to } => {
                if self.tables.contains_key(to) {
                    return Err(format!("table {to:?} exists already"));
                }
                let mut t = self
                    .tables
                    .remove(from)
                    .ok_or_else(|| format!("table {from:?} does not exist"))?;
                t.name = to.clone();
                for f in t.foreign_keys.iter_mut().filter(|f| f.ref_table == *from) {
                    f.ref_table = to.clone();
                }
                self.tables.insert(to.clone(), t);
                let triggers: Vec<SqlObject> = self
                    .objects
                    .iter()
                    .filter(|o| o.table.as_deref() == Some(from.as_str()))
                    .cloned()
                    .collect();
                for mut o in triggers {
                    self.objects.remove(&o);
                    o.table = Some(to.clone());
                    self.objects.insert(o);
                }
                // Both databases follow a rename in the foreign keys that point at the table.
                for other in self.tables.values_mut() {
                    for f in other.foreign_keys.iter_mut().filter(|f| f.ref_table == *from) {
                        f.ref_table = to.clone();
                    }
                }
            }
            Op::AddColumn { table, column } => {
                let t = table_mut(self, table)?;
                if t.column(&column.name).is_some() {
                    return Err(format!("column {table}.{} exists already", column.name));
                }
                t.columns.push(column.clone());
            }
            Op::DropColumn { table, column } => {
                let t = table_mut(self, table)?;
                remove_named(&mut t.columns, &column.name, "column", table, |c| &c.name)?;
            }
            Op::AlterColumn { table, from, to, .. } => {
                let t = table_mut(self, table)?;
                if from.name != to.name {
                    return Err(format!(
                        "alter_column of {table}.{} cannot rename it to {}: use rename_column",
                        from.name, to.name
                    ));
                }
                let c = t
                    .columns
                    .iter_mut()
                    .find(|c| c.name == to.name)
                    .ok_or_else(|| format!("column {table}.{} does not exist", to.name))?;
                *c = to.clone();
            }
            Op::RenameColumn { table, from, to } => {
                let t = table_mut(self, table)?;
                if t.column(to).is_some() {
                    return Err(format!("column {table}.{to} exists already"));
                }
                let c = t
                    .columns
                    .iter_mut()
                    .find(|c| c.name == *from)
                    .ok_or_else(|| format!("column {table}.{from} does not exist"))?;
                c.name = to.clone();
                rename_in(&mut t.primary_key, from, to);
                // Both databases rewrite the column's name in index expressions, predicates and
                // CHECK conditions too.
                for i in &mut t.indexes {
                    for k in &mut i.columns {
                        match k {
                            super::schema::IndexKey::Column { name, .. } if name == from => {
                                *name = to.clone()
                            }
                            super::schema::IndexKey::Expr { expr, .. } => {
                                *expr = rename_identifier(expr, from, to)
                            }
                            _ => {}
                        }
                    }
                    if let Some(w) = &mut i.where_clause {
                        *w = rename_identifier(w, from, to);
                    }
                }
                for c in &mut t.checks {
                    c.expr = rename_identifier(&c.expr, from, to);
                }
                for u in &mut t.uniques {
                    rename_in(&mut u.columns, from, to);
                }
                for f in &mut t.foreign_keys {
                    rename_in(&mut f.columns, from, to);
                }
                for other in self.tables.values_mut() {
                    for f in other.foreign_keys.iter_mut().filter(|f| f.ref_table == *table) {
                        rename_in(&mut f.ref_columns, from, to);
                    }
                }
            }
            Op::CreateIndex { table, index, .. } => {
                check_index(index)?;
                let exists =
                    self.tables.values().any(|t| t.indexes.iter().any(|i| i.name == index.name));
                if exists {
                    return Err(format!("index {:?} exists already", index.name));
                }
                table_mut(self, table)?.indexes.push(index.clone());
            }
            Op::DropIndex { table, index } => {
                let t = table_mut(self, table)?;
                remove_named(&mut t.indexes, &index.name, "index", table, |i| &i.name)?;
            }
            Op::AddUnique { table, unique } => table_mut(self, table)?.uniques.push(unique.clone()),
            Op::DropUnique { table, unique } => {
                let t = table_mut(self, table)?;
                remove_named(&mut t.uniques, &unique.name, "unique constraint", table, |u| {
                    &u.name
                })?;
            }
            Op::AddForeignKey { table, foreign_key } => {
                table_mut(self, table)?.foreign_keys.push(foreign_key.clone())
            }
            Op::DropForeignKey { table, foreign_key } => {
                let t = table_mut(self, table)?;
                remove_named(&mut t.foreign_keys, &foreign_key.name, "foreign key", table, |f| {
                    &f.name
                })?;
            }
            Op::AddCheck { table, check } => table_mut(self, table)?.checks.push(check.clone()),
            Op::DropCheck { table, check } => {
                let t = table_mut(self, table)?;
                remove_named(&mut t.checks, &check.name, "check constraint", table, |c| &c.name)?;
            }
            Op::AlterPrimaryKey { table, to, .. } => {
                table_mut(self, table)?.primary_key = to.clone()
            }
            Op::CreateEnum { name, values } => {
                if self.enums.contains_key(name) {
                    return Err(format!("enum type {name:?} exists already"));
                }
                self.enums.insert(name.clone(), values.clone());
            }
            Op::DropEnum { name, .. } => {
                self.enums
                    .remove(name)
                    .ok_or_else(|| format!("enum type {name:?} does not exist"))?;
            }
            Op::AlterEnum { name, to, .. } => {
                let e = self
                    .enums
                    .get_mut(name)
                    .ok_or_else(|| format!("enum type {name:?} does not exist"))?;
                *e = to.clone();
            }
            Op::Sql { creates, drops, .. } => {
                for o in drops {
                    if !self.objects.remove(o) {
                        return Err(format!("{o} does not exist"));
                    }
                }
                for o in creates {
                    check_object(o)?;
                    if o.kind == ObjectKind::Trigger {
                        let t = o.table.as_deref().unwrap_or_default();
                        if !self.tables.contains_key(t) {
                            return Err(format!("{o}: table {t:?} does not exist"));
                        }
                    }
                    if !self.objects.insert(o.clone()) {
                        return Err(format!("{o} exists already"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether an index can be written: keys, and a method and operator classes that are names
/// (`gin`, `public.jsonb_path_ops`), which go into the SQL as they are.
fn check_index(index: &Index) -> Result<(), String> {
    let word = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|part| {
                part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
    };
    if index.columns.is_empty() {
        return Err(format!("index {:?} has no key", index.name));
    }
    if let Some(m) = index.using.as_deref().filter(|m| !word(m)) {
        return Err(format!("index {:?}: `using = {m:?}` is no index method name", index.name));
    }
    if let Some(o) = index.columns.iter().filter_map(|k| k.opclass()).find(|o| !word(o)) {
        return Err(format!("index {:?}: {o:?} is no operator class name", index.name));
    }
    if index.where_clause.as_deref().is_some_and(|w| w.trim().is_empty()) {
        return Err(format!("index {:?}: `where` is empty", index.name));
    }
    Ok(())
}

/// Whether an object's declaration is complete: a name, and a table for a trigger (only).
fn check_object(o: &SqlObject) -> Result<(), String> {
    if o.name.trim().is_empty() {
        return Err(format!("a {} declared by an sql op needs a name", o.kind.as_str()));
    }
    match (o.kind, &o.table) {
        (ObjectKind::Trigger, None) => {
            Err(format!("trigger {} needs the table it is on: `table = \"...\"`", o.name))
        }
        (ObjectKind::Trigger, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(format!("{} {} takes no `table`", o.kind.as_str(), o.name)),
    }
}

/// `sql` with the column `from` renamed `to` where it is named: a bare word (any case when
/// `from` is lowercase, as unquoted names fold) that is not a function call, or a quoted
/// identifier; string literals are left alone. `to` is written bare when it can be, else
/// quoted.
pub(crate) fn rename_identifier(sql: &str, from: &str, to: &str) -> String {
    let bare = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let new_name =
        if bare(to) { to.to_owned() } else { format!("\"{}\"", to.replace('"', "\"\"")) };
    let matches_bare = |w: &str| {
        if bare(from) {
            w.eq_ignore_ascii_case(from)
        } else {
            w == from
        }
    };
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            // A literal or a quoted identifier, with doubled quotes inside.
            let mut j = i + 1;
            let mut inner = String::new();
            while j < chars.len() {
                if chars[j] == c {
                    if chars.get(j + 1) == Some(&c) {
                        inner.push(c);
                        j += 2;
                        continue;
                    }
                    break;
                }
                inner.push(chars[j]);
                j += 1;
            }
            let end = (j + 1).min(chars.len());
            if c == '"' && inner == from {
                out.push_str(&new_name);
            } else {
                out.extend(&chars[i..end]);
            }
            i = end;
        } else if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '$')
            {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            let mut k = j;
            while k < chars.len() && chars[k].is_whitespace() {
                k += 1;
            }
            let call = chars.get(k) == Some(&'(');
            let qualified = i > 0 && chars[i - 1] == '.';
            if matches_bare(&word) && !call && !qualified {
                out.push_str(&new_name);
            } else {
                out.push_str(&word);
            }
            i = j;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rename_identifier;

    #[test]
    fn a_renamed_column_is_renamed_where_sql_names_it() {
        let r = |sql: &str| rename_identifier(sql, "email", "mail");
        assert_eq!(r("lower(email)"), "lower(mail)");
        assert_eq!(
            r("EMAIL <> 'email' AND \"email\" IS NOT NULL"),
            "mail <> 'email' AND mail IS NOT NULL"
        );
        // Not a longer word, a function of that name, or a qualified name.
        assert_eq!(r("email_2 || email(1) || t.email"), "email_2 || email(1) || t.email");
        // A name that needs quotes gets them; a quoted mixed-case name matches exactly.
        assert_eq!(rename_identifier("a + 1", "a", "B c"), "\"B c\" + 1");
        assert_eq!(rename_identifier("\"A\" + a", "A", "b"), "b + a");
        assert_eq!(rename_identifier("'it''s' || a", "a", "b"), "'it''s' || b");
    }
}
