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
                    let drops = creates.into_iter().flat_map(|o| with_signatures(o, &up)).collect();
                    Op::Sql { up: String::new(), down: None, creates: Vec::new(), drops }
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
                // A function dropped by its signatures (`f(integer)`, `f(text)`) was declared
                // by its name alone, or the other way round: each drop removes what it names.
                let mut removed: Vec<SqlObject> = Vec::new();
                for o in drops {
                    let gone: Vec<SqlObject> =
                        self.objects.iter().filter(|x| x.names_same(o)).cloned().collect();
                    for g in gone {
                        self.objects.remove(&g);
                        removed.push(g);
                    }
                    if !removed.iter().any(|r| r.names_same(o)) {
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

/// `o` as the downgrade drops it: a function declared without `args` once per signature that
/// the `CREATE [OR REPLACE] FUNCTION` statements of `up` give it (PostgreSQL needs the argument
/// types to tell functions of one name apart); anything else, or a function `up` does not
/// visibly create, as it is.
fn with_signatures(o: SqlObject, up: &str) -> Vec<SqlObject> {
    if o.kind != ObjectKind::Function || o.args.is_some() {
        return vec![o];
    }
    let found = function_signatures(up, &o.name);
    if found.is_empty() {
        return vec![o];
    }
    found.into_iter().map(|args| SqlObject { args: Some(args), ..o.clone() }).collect()
}

/// The argument lists of the functions named `name` that `sql` creates (`CREATE [OR REPLACE]
/// FUNCTION name(...)`, the name bare, quoted or schema-qualified, any case), as `DROP
/// FUNCTION` takes them: each argument as declared (mode, name, type) without its default.
/// Quoted text, dollar-quoted bodies and comments are skipped.
pub(crate) fn function_signatures(sql: &str, name: &str) -> Vec<String> {
    let code = unquoted_code(sql);
    let lower = code.to_ascii_lowercase();
    let words: Vec<(usize, &str)> = word_spans(&lower);
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if w.1 != "function" {
            continue;
        }
        let create = match i {
            0 => false,
            _ => {
                words[i - 1].1 == "create"
                    || (i >= 3
                        && words[i - 1].1 == "replace"
                        && words[i - 2].1 == "or"
                        && words[i - 3].1 == "create")
            }
        };
        if !create {
            continue;
        }
        // The name, up to the opening parenthesis.
        let after = w.0 + w.1.len();
        let Some(open) = code[after..].find('(').map(|p| after + p) else { continue };
        let written = code[after..open].trim();
        let last = written.rsplit('.').next().unwrap_or(written).trim();
        let plain = match last.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
            Some(q) => q.replace("\"\"", "\""),
            None => last.to_ascii_lowercase(),
        };
        if plain != name {
            continue;
        }
        let Some(close) = matching_paren(&code, open) else { continue };
        let args: Vec<String> = split_top_level(&code[open + 1..close])
            .into_iter()
            .map(|a| without_default(&a))
            .filter(|a| !a.is_empty())
            .collect();
        let sig = args.join(", ");
        if !out.contains(&sig) {
            out.push(sig);
        }
    }
    out
}

/// `sql` with the insides of quoted text (`'...'`, `"..."` kept: identifiers), dollar-quoted
/// bodies and comments blanked out with spaces, so that byte positions stay the same.
fn unquoted_code(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to] {
            if b.is_ascii() {
                *b = b' ';
            }
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => {
                let start = i;
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                blank(&mut out, start, i);
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                let start = i;
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                blank(&mut out, start, i);
            }
            b'$' => {
                // `$tag$ ... $tag$`
                let tag_end = bytes[i + 1..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(e) if bytes[e] == b'$' => {
                        let tag = &sql[i..=e];
                        let body = e + 1;
                        let end =
                            sql[body..].find(tag).map_or(bytes.len(), |p| body + p + tag.len());
                        blank(&mut out, i, end);
                        i = end;
                    }
                    _ => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    // Only ASCII bytes were replaced (by ASCII), so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// The words (letters, digits, `_`) of `s` with their byte positions.
fn word_spans(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        let word = c.is_ascii_alphanumeric() || c == '_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                out.push((st, &s[st..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

/// The position of the `)` that closes the `(` at `open`.
fn matching_paren(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `s` split at the commas outside parentheses, each part trimmed.
fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(s[start..i].trim().to_owned());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim().to_owned());
    out
}

/// A function argument's declaration without its default (`b integer DEFAULT 0` and `b integer
/// = 0` are `b integer`), white space made single spaces.
fn without_default(arg: &str) -> String {
    let words: Vec<&str> = arg.split_whitespace().collect();
    let mut kept = Vec::new();
    for w in words {
        if w.eq_ignore_ascii_case("default") || w.starts_with('=') {
            break;
        }
        match w.split_once('=') {
            Some((before, _)) => {
                if !before.is_empty() {
                    kept.push(before);
                }
                break;
            }
            None => kept.push(w),
        }
    }
    kept.join(" ")
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
    if o.args.is_some() && o.kind != ObjectKind::Function {
        return Err(format!("{} {} takes no `args` (a function's)", o.kind.as_str(), o.name));
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
    use super::{function_signatures, rename_identifier, Op};
    use crate::migrate::schema::{ObjectKind, SqlObject};

    #[test]
    fn function_signatures_come_from_create_function() {
        let sql = r#"
-- CREATE FUNCTION add_tax(text) in a comment is no function
CREATE OR REPLACE FUNCTION add_tax(price numeric, rate numeric DEFAULT 0.2) RETURNS numeric
AS $$ SELECT price * (1 + rate) $$ LANGUAGE sql;
create function public."add_tax"(IN price integer, OUT total numeric(10, 2)) AS $body$
BEGIN total := price * 1.2; END; $body$ LANGUAGE plpgsql;
CREATE FUNCTION add_tax_too(x int = 3) RETURNS int AS 'SELECT x' LANGUAGE sql;
CREATE FUNCTION touch() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql;
SELECT 'CREATE FUNCTION add_tax(bigint)';
"#;
        assert_eq!(
            function_signatures(sql, "add_tax"),
            vec![
                "price numeric, rate numeric".to_owned(),
                "IN price integer, OUT total numeric(10, 2)".to_owned()
            ]
        );
        assert_eq!(function_signatures(sql, "add_tax_too"), vec!["x int".to_owned()]);
        assert_eq!(function_signatures(sql, "touch"), vec![String::new()]);
        assert!(function_signatures(sql, "missing").is_empty());
    }

    #[test]
    fn the_downgrade_of_a_created_function_names_its_signatures() {
        let up = "CREATE FUNCTION f(a integer) RETURNS int AS 'SELECT a' LANGUAGE sql;\n\
                  CREATE FUNCTION f(a text) RETURNS text AS 'SELECT a' LANGUAGE sql;";
        let declared = |args: Option<&str>| SqlObject {
            args: args.map(str::to_owned),
            ..SqlObject::new(ObjectKind::Function, "f", None)
        };
        let op =
            Op::Sql { up: up.into(), down: None, creates: vec![declared(None)], drops: vec![] };
        let Op::Sql { drops, .. } = op.inverse().expect("inverse") else { panic!("an sql op") };
        assert_eq!(drops, vec![declared(Some("a integer")), declared(Some("a text"))]);
        // Declared arguments are kept as they are.
        let op = Op::Sql {
            up: up.into(),
            down: None,
            creates: vec![declared(Some("int4"))],
            drops: vec![],
        };
        let Op::Sql { drops, .. } = op.inverse().expect("inverse") else { panic!("an sql op") };
        assert_eq!(drops, vec![declared(Some("int4"))]);
    }

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
