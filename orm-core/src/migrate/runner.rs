//! Applying revisions to a database: [`Migrator`] upgrades, downgrades and stamps through an
//! [`Engine`], one transaction per revision, recording the heads it reached in the version table
//! ([`VERSION_TABLE`](super::dialect::VERSION_TABLE)). A revision that fails is rolled back as a
//! whole, so the database stays where it was (at the revision before it for an upgrade, at the
//! revision itself for a downgrade), and the error names the revision, the statement and where
//! the database is.
//!
//! Two processes migrating at once take turns: each revision's transaction starts with a lock
//! (`BEGIN IMMEDIATE` on SQLite, `pg_advisory_xact_lock` on PostgreSQL) and reads the version
//! table again under it, so a revision the other process applied meanwhile is skipped.

use super::dialect::{Guard, MigrationDialect, Statement};
use super::ops::{Op, Step};
use super::revision::{Revision, Revisions};
use super::schema::{Schema, SqlObject, Table};
use crate::connection::{decode_at, Connection};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::schema::TableSchema;
use std::collections::BTreeSet;

/// Which way a revision is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Upgrade: the revision's ops.
    Up,
    /// Downgrade: their inverses, in reverse order.
    Down,
}

/// The statements that run `rev` in `direction` on `dialect`, rendered from the schema its
/// ancestors replay to (for that dialect).
pub fn render_revision(
    dialect: &dyn MigrationDialect,
    revisions: &Revisions,
    rev: &Revision,
    direction: Direction,
) -> Result<Vec<Statement>> {
    let name = Some(dialect.name());
    let mut ancestors = revisions.ancestors_of([rev.id.as_str()])?;
    let steps = match direction {
        Direction::Up => {
            ancestors.remove(&rev.id);
            rev.ops.clone()
        }
        Direction::Down => rev.downgrade_steps()?,
    };
    let schema = revisions.replay(&ancestors, name)?;
    let steps: Vec<(usize, &Step)> =
        steps.iter().enumerate().filter(|(_, s)| s.applies_to(name)).collect();
    let where_ = |i: usize, step: &Step| {
        format!("revision {}, op {} ({})", rev.id, i + 1, step.op.describe())
    };
    render_steps(dialect, schema, &steps, &where_)
}

/// The statements that run `ops` on `dialect` from the schema `schema` (as this dialect has
/// it): what [`create_all`] and [`drop_all`] run, rendered as a revision's ops are.
pub fn render_ops(
    dialect: &dyn MigrationDialect,
    schema: Schema,
    ops: &[Op],
) -> Result<Vec<Statement>> {
    let steps: Vec<Step> = ops.iter().cloned().map(Step::new).collect();
    let steps: Vec<(usize, &Step)> = steps.iter().enumerate().collect();
    render_steps(dialect, schema, &steps, &|i, step| {
        format!("op {} ({})", i + 1, step.op.describe())
    })
}

/// Renders steps one after the other from `schema`, joining the consecutive ones that rebuild
/// one table (SQLite); `where_` names a step in errors.
fn render_steps(
    dialect: &dyn MigrationDialect,
    mut schema: Schema,
    steps: &[(usize, &Step)],
    where_: &dyn Fn(usize, &Step) -> String,
) -> Result<Vec<Statement>> {
    let apply = |schema: &Schema, i: usize, step: &Step| -> Result<Schema> {
        let mut after = schema.clone();
        after.apply(&step.op).map_err(|e| Error::Migration(format!("{}: {e}", where_(i, step))))?;
        Ok(after)
    };
    let context = |e: Error, what: String| match e {
        Error::Unsupported { backend, what: w } => {
            Error::Unsupported { backend, what: format!("{w} ({what})") }
        }
        e => Error::Migration(format!("{what}: {e}")),
    };
    let mut out = Vec::new();
    let mut k = 0;
    while let Some(&(i, step)) = steps.get(k) {
        let mut after = apply(&schema, i, step)?;
        k += 1;
        if let Some(table) = dialect.rebuilds(&step.op, &schema) {
            // Join the ops after it that rebuild the same table: one copy of the rows.
            let mut using: Vec<(String, String)> = Vec::new();
            add_using(&step.op, &mut using);
            while let Some(&(j, next)) = steps.get(k) {
                let joins = dialect.rebuilds(&next.op, &after).as_deref() == Some(table.as_str())
                    && !conflicting_using(&next.op, &using);
                if !joins {
                    break;
                }
                after = apply(&after, j, next)?;
                add_using(&next.op, &mut using);
                k += 1;
            }
            let stmts = dialect
                .render_rebuild(&table, &schema, &after, &using)
                .map_err(|e| context(e, where_(i, step)))?;
            out.extend(stmts);
        } else {
            let stmts = dialect
                .render(&step.op, &schema, &after)
                .map_err(|e| context(e, where_(i, step)))?;
            out.extend(stmts);
        }
        schema = after;
    }
    Ok(out)
}

/// Records an `alter_column`'s `using` expression for a joined rebuild.
fn add_using(op: &Op, using: &mut Vec<(String, String)>) {
    if let Op::AlterColumn { to, using: Some(expr), .. } = op {
        using.push((to.name.clone(), expr.clone()));
    }
}

/// Whether `op` converts a column whose conversion an earlier joined op already gives.
fn conflicting_using(op: &Op, using: &[(String, String)]) -> bool {
    matches!(op, Op::AlterColumn { to, using: Some(_), .. } if using.iter().any(|(c, _)| *c == to.name))
}

/// The migration dialect of an engine's backend.
pub fn migration_dialect(engine: &Engine) -> Result<&'static dyn MigrationDialect> {
    engine
        .migrations()
        .and_then(|m| m.downcast_ref::<&'static dyn MigrationDialect>())
        .copied()
        .ok_or_else(|| Error::Unsupported {
            backend: engine.dialect().name(),
            what: "migrations".into(),
        })
}

/// Runs revisions against one database.
#[derive(Debug)]
pub struct Migrator<'a> {
    engine: &'a Engine,
    revisions: &'a Revisions,
}

/// One connection held for a whole run, and the transaction on it.
struct Run<'e> {
    engine: &'e Engine,
    dialect: &'static dyn MigrationDialect,
    conn: crate::engine::PooledConnection,
    in_tx: bool,
    /// What puts the connection's settings back after a revision (see
    /// `MigrationDialect::restore_settings_query`).
    restore: Vec<String>,
    /// Whether `begin` creates the version table (not for `create_all` / `drop_all`).
    versioned: bool,
}

impl<'e> Run<'e> {
    fn new(engine: &'e Engine, versioned: bool) -> Result<Run<'e>> {
        Ok(Run {
            engine,
            dialect: migration_dialect(engine)?,
            conn: engine.checkout()?,
            in_tx: false,
            restore: Vec::new(),
            versioned,
        })
    }

    /// Runs rendered statements in order; the first failure rolls back and comes back as
    /// `failed(statement, error)`.
    fn execute(
        &mut self,
        statements: &[Statement],
        failed: &dyn Fn(&str, Error) -> Error,
    ) -> Result<()> {
        let mut saved: Vec<String> = Vec::new();
        for st in statements {
            let r = match st {
                Statement::Sql(sql) => self.batch(sql),
                Statement::NoTransaction(sql) => {
                    self.commit().and_then(|_| self.batch(sql)).and_then(|_| self.begin())
                }
                Statement::Save(query) => self.strings(query).map(|s| saved = s),
                Statement::RestoreSaved => {
                    std::mem::take(&mut saved).iter().try_for_each(|sql| self.batch(sql))
                }
                Statement::Comment(_) => Ok(()),
                Statement::Guard(g) => self.guard(g),
            };
            if let Err(e) = r {
                self.rollback();
                let text = match st {
                    Statement::Sql(s) | Statement::NoTransaction(s) | Statement::Save(s) => {
                        s.clone()
                    }
                    Statement::RestoreSaved => "(re-creating saved triggers)".into(),
                    Statement::Comment(c) => c.clone(),
                    Statement::Guard(g) => g.query.clone(),
                };
                return Err(failed(&text, e));
            }
        }
        Ok(())
    }

    /// Counts the rows a conversion would lose; any is an [`Error::DataLoss`].
    fn guard(&mut self, g: &Guard) -> Result<()> {
        let engine = self.engine;
        let mut rows = 0i64;
        engine.run_query(&mut *self.conn, &g.query, &[], &mut |row| {
            rows = decode_at::<i64>(row, 0, "count")?;
            Ok(())
        })?;
        if rows == 0 {
            return Ok(());
        }
        Err(Error::DataLoss {
            table: g.table.clone(),
            column: g.column.clone(),
            rows: u64::try_from(rows).unwrap_or(0),
            reason: g.reason.clone(),
        })
    }

    fn conn(&mut self) -> &mut dyn Connection {
        &mut *self.conn
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        let engine = self.engine;
        engine.run_batch(&mut *self.conn, sql)
    }

    fn begin(&mut self) -> Result<()> {
        if let Some(q) = self.dialect.restore_settings_query() {
            let engine = self.engine;
            let mut restore = Vec::new();
            engine.run_query(&mut *self.conn, &q, &[], &mut |row| {
                restore.push(decode_at::<String>(row, 0, "restore")?);
                Ok(())
            })?;
            self.restore = restore;
        }
        for s in self.dialect.before_revision_sql() {
            self.batch(&s)?;
        }
        self.batch(self.dialect.begin_sql())?;
        self.in_tx = true;
        if let Some(lock) = self.dialect.lock_sql() {
            self.batch(&lock)?;
        }
        if self.versioned {
            self.batch(&self.dialect.version_table_sql())?;
        }
        Ok(())
    }

    fn finish(&mut self, sql: &str) -> Result<()> {
        let r = self.batch(sql);
        self.in_tx = false;
        let after = if self.restore.is_empty() {
            self.dialect.after_revision_sql()
        } else {
            std::mem::take(&mut self.restore)
        };
        for s in after {
            let _ = self.batch(&s);
        }
        r
    }

    fn commit(&mut self) -> Result<()> {
        let r = self.finish("COMMIT");
        if r.is_err() {
            let _ = self.finish("ROLLBACK");
        }
        r
    }

    fn rollback(&mut self) {
        if self.in_tx {
            let _ = self.finish("ROLLBACK");
        }
    }

    fn strings(&mut self, sql: &str) -> Result<Vec<String>> {
        let engine = self.engine;
        let mut out = Vec::new();
        engine.run_query(&mut *self.conn, sql, &[], &mut |row| {
            if let Ok(s) = decode_at::<Option<String>>(row, 0, "sql") {
                out.extend(s);
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn heads(&mut self) -> Result<Vec<String>> {
        let sql = self.dialect.read_versions_sql();
        self.strings(&sql)
    }

    fn set_heads(&mut self, heads: &[String]) -> Result<()> {
        for s in self.dialect.write_versions_sql(heads) {
            self.batch(&s)?;
        }
        Ok(())
    }
}

impl Drop for Run<'_> {
    fn drop(&mut self) {
        self.rollback();
    }
}

/// The error of `rev` failing at `statement`, the database left at the heads `at`.
fn failed(rev: &Revision, at: &[String], statement: &str, source: Error) -> Error {
    Error::MigrationFailed {
        revision: rev.id.clone(),
        statement: statement.to_owned(),
        source: Box::new(source),
        at: at.to_vec(),
    }
}

impl<'a> Migrator<'a> {
    /// A migrator of `revisions` over `engine`.
    pub fn new(engine: &'a Engine, revisions: &'a Revisions) -> Self {
        Migrator { engine, revisions }
    }

    fn run(&self) -> Result<Run<'a>> {
        Run::new(self.engine, true)
    }

    /// The revisions the database is at (its heads; empty for a database never migrated).
    /// Creates the version table when it is missing.
    pub fn current(&self) -> Result<Vec<String>> {
        let mut run = self.run()?;
        run.begin()?;
        let heads = run.heads()?;
        run.commit()?;
        Ok(self.order(heads))
    }

    /// Heads in the order of the revision list (unknown ones last).
    fn order(&self, mut heads: Vec<String>) -> Vec<String> {
        let pos =
            |h: &String| self.revisions.all().iter().position(|r| &r.id == h).unwrap_or(usize::MAX);
        heads.sort_by_key(pos);
        heads
    }

    /// Applies the revisions up to `target` (`head`, `heads`, an id, `+N`), each in its own
    /// transaction; returns the ids applied, in order.
    pub fn upgrade(&self, target: &str) -> Result<Vec<String>> {
        self.upgrade_with(target, &mut |_| {})
    }

    /// [`Migrator::upgrade`], calling `each` before each revision runs.
    pub fn upgrade_with(
        &self,
        target: &str,
        each: &mut dyn FnMut(&Revision),
    ) -> Result<Vec<String>> {
        let applied = self.revisions.ancestors_of(self.current()?.iter().map(String::as_str))?;
        let plan = self.revisions.upgrade_plan(&applied, target)?;
        let mut done = Vec::new();
        for rev in plan {
            each(rev);
            if self.apply(rev, Direction::Up)? {
                done.push(rev.id.clone());
            }
        }
        Ok(done)
    }

    /// Undoes the revisions down to `target` (`base`, an id, `-N`), each in its own
    /// transaction; returns the ids undone, in order.
    pub fn downgrade(&self, target: &str) -> Result<Vec<String>> {
        self.downgrade_with(target, &mut |_| {})
    }

    /// [`Migrator::downgrade`], calling `each` before each revision is undone.
    pub fn downgrade_with(
        &self,
        target: &str,
        each: &mut dyn FnMut(&Revision),
    ) -> Result<Vec<String>> {
        let applied = self.revisions.ancestors_of(self.current()?.iter().map(String::as_str))?;
        let plan = self.revisions.downgrade_plan(&applied, target)?;
        let mut done = Vec::new();
        for rev in plan {
            each(rev);
            if self.apply(rev, Direction::Down)? {
                done.push(rev.id.clone());
            }
        }
        Ok(done)
    }

    /// Records `target` (`head`, `heads`, `base`, an id) as the database's revision without
    /// running anything.
    pub fn stamp(&self, target: &str) -> Result<Vec<String>> {
        let heads: Vec<String> = match target.trim() {
            "base" => Vec::new(),
            "heads" => self.revisions.head_ids(),
            "head" => self.revisions.single_head()?.map(|r| r.id.clone()).into_iter().collect(),
            spec => vec![self.revisions.resolve(spec)?.id.clone()],
        };
        let mut run = self.run()?;
        run.begin()?;
        run.set_heads(&heads)?;
        run.commit()?;
        Ok(heads)
    }

    /// Runs one revision in its own transaction; `false` when another process had already
    /// done it.
    fn apply(&self, rev: &Revision, direction: Direction) -> Result<bool> {
        let mut run = self.run()?;
        let statements = render_revision(run.dialect, self.revisions, rev, direction)?;
        run.begin()?;
        // Where the database stays when the revision fails (rolled back).
        let at = self.order(run.heads()?);
        let mut applied = self.revisions.ancestors_of(at.iter().map(String::as_str))?;
        match direction {
            Direction::Up if applied.contains(&rev.id) => {
                run.commit()?;
                return Ok(false);
            }
            Direction::Down if !applied.contains(&rev.id) => {
                run.commit()?;
                return Ok(false);
            }
            _ => {}
        }
        if direction == Direction::Up {
            if let Some(p) = rev.parents.iter().find(|p| !applied.contains(*p)) {
                return Err(Error::Migration(format!(
                    "revision {} follows {p}, which the database does not have",
                    rev.id
                )));
            }
        }
        run.execute(&statements, &|statement, e| failed(rev, &at, statement, e))?;
        if let Some(check) = run.dialect.integrity_check_sql() {
            let engine = self.engine;
            let mut problems = Vec::new();
            let r = engine.run_query(run.conn(), &check, &[], &mut |row| {
                let cell = |i: usize| -> String {
                    match row.get(i) {
                        Ok(crate::value::ValueRef::Text(s)) => s.to_owned(),
                        Ok(crate::value::ValueRef::Int(n)) => n.to_string(),
                        Ok(v) => v.describe(),
                        Err(_) => String::new(),
                    }
                };
                problems.push(format!("{} row {} -> {}", cell(0), cell(1), cell(2)));
                Ok(())
            });
            let problem = match r {
                Err(e) => Some(e),
                Ok(()) if !problems.is_empty() => {
                    Some(Error::ForeignKeyViolation(crate::error::ConstraintInfo {
                        message: format!("rows break a foreign key: {}", problems.join("; ")),
                        ..Default::default()
                    }))
                }
                Ok(()) => None,
            };
            if let Some(e) = problem {
                run.rollback();
                return Err(failed(rev, &at, &check, e));
            }
        }
        match direction {
            Direction::Up => {
                applied.insert(rev.id.clone());
            }
            Direction::Down => {
                applied.remove(&rev.id);
            }
        }
        let heads = self.revisions.heads_of(&applied);
        if let Err(e) = run.set_heads(&heads) {
            run.rollback();
            return Err(failed(rev, &at, "(recording the version)", e));
        }
        run.commit().map_err(|e| failed(rev, &at, "COMMIT", e))?;
        Ok(true)
    }

    /// The schema of the live database (without the version table).
    pub fn reflect(&self) -> Result<super::schema::Schema> {
        let mut run = self.run()?;
        run.begin()?;
        let dialect = run.dialect;
        let live = dialect.reflect(run.conn());
        run.rollback();
        live
    }

    /// The differences between the live database and the schema its revisions replay to, one
    /// line each (empty when they agree): tables, columns, keys, indexes (keys, operator
    /// classes, method, predicate), constraints, enum types, and the triggers, views and
    /// functions that `sql` ops declare. Names matching the revisions' ignore patterns
    /// ([`Revisions::ignores`]) are left out.
    ///
    /// Expressions (index keys and predicates, CHECK conditions) are compared as the server
    /// writes them back ([`MigrationDialect::canonical`]): on PostgreSQL the expected ones are
    /// created on an empty copy of their table inside the comparison's transaction, which is
    /// rolled back, and read back as the live ones are.
    pub fn database_differences(&self) -> Result<Vec<String>> {
        let mut run = self.run()?;
        run.begin()?;
        let dialect = run.dialect;
        let found = (|| {
            let heads = run.heads()?;
            let live = dialect.reflect(run.conn())?;
            let applied: BTreeSet<String> =
                self.revisions.ancestors_of(heads.iter().map(String::as_str))?;
            let expected = self.revisions.replay(&applied, Some(dialect.name()))?;
            let expected = dialect.canonical(run.conn(), &live, &expected)?;
            Ok::<_, Error>((live, expected))
        })();
        run.rollback();
        let (live, expected) = found?;
        let ignored = |name: &str| self.revisions.ignores(name);
        // Functions compare by name: reflection does not read argument types.
        let by_name = |mut s: Schema| {
            s.objects = s.objects.into_iter().map(|o| SqlObject { args: None, ..o }).collect();
            s
        };
        let ops = super::autogen::diff_schemas(
            &by_name(dialect.comparable(&live).without(&ignored)),
            &by_name(dialect.comparable(&expected).without(&ignored)),
        )?;
        Ok(ops.iter().map(|op| op.describe()).collect())
    }
}

// Schema creation is the migration engine's work, offered on the engine: `engine.rs` knows
// nothing of migrations (no import cycle between the two modules).
impl Engine {
    /// Creates the tables (their enum types, indexes and constraints) that do not exist yet,
    /// parents first, in one transaction, with the DDL a migration writes; see [`create_all`].
    pub fn create_all(&self, tables: &[&'static TableSchema]) -> Result<()> {
        create_all(self, tables)
    }

    /// Drops the tables that exist, children first, and their enum types, in one transaction;
    /// see [`drop_all`].
    pub fn drop_all(&self, tables: &[&'static TableSchema]) -> Result<()> {
        drop_all(self, tables)
    }
}

/// Creates, in one transaction, what the models' `tables` describe and the database does not
/// have yet: their enum types, the tables (parents first; a foreign key closing a cycle
/// afterwards, see [`creation_order`](super::schema::creation_order)), their indexes and
/// constraints. Tables that exist are left as they are. The ops are those
/// [`autogenerate`](super::autogenerate) writes for new tables ([`create_ops`]), rendered by
/// the same writer as a revision's, so `create_all` and `upgrade` give the same schema. Two
/// callers at once take turns, as migrations do (the revision lock).
///
/// [`create_ops`]: super::autogen::create_ops
pub fn create_all(engine: &Engine, tables: &[&TableSchema]) -> Result<()> {
    let target = Schema::from_tables(tables);
    let mut run = Run::new(engine, false)?;
    run.begin()?;
    let live = run.dialect.reflect(run.conn())?;
    let missing: Vec<&Table> =
        target.tables.values().filter(|t| !live.tables.contains_key(&t.name)).collect();
    let enums: Vec<(&str, &[String])> = target
        .enums
        .iter()
        .filter(|(name, _)| !live.enums.contains_key(*name))
        .map(|(name, labels)| (name.as_str(), labels.as_slice()))
        .collect();
    let ops = super::autogen::create_ops(&missing, &enums)?;
    let statements = render_ops(run.dialect, live, &ops)?;
    run.execute(&statements, &|_, e| e)?;
    run.commit()
}

/// Drops, in one transaction, the models' `tables` that the database has (children first;
/// the foreign keys closing a cycle between them before), then their enum types that no
/// remaining table uses.
pub fn drop_all(engine: &Engine, tables: &[&TableSchema]) -> Result<()> {
    let target = Schema::from_tables(tables);
    let mut run = Run::new(engine, false)?;
    run.begin()?;
    let live = run.dialect.reflect(run.conn())?;
    let present: Vec<&Table> =
        live.tables.values().filter(|t| target.tables.contains_key(&t.name)).collect();
    let mut ops = super::autogen::drop_ops(&present)?;
    let in_use = |name: &str| {
        live.tables
            .values()
            .filter(|t| !target.tables.contains_key(&t.name))
            .any(|t| t.columns.iter().any(|c| c.ty.enum_name() == Some(name)))
    };
    for (name, values) in &live.enums {
        if target.enums.contains_key(name) && !in_use(name) {
            ops.push(Op::DropEnum { name: name.clone(), values: values.clone() });
        }
    }
    let statements = render_ops(run.dialect, live, &ops)?;
    run.execute(&statements, &|_, e| e)?;
    run.commit()
}

/// The SQL that [`create_all`] runs for `tables` on an empty database of `dialect`, one
/// statement each (for a script, or to see what the models describe).
pub fn create_statements(
    dialect: &dyn MigrationDialect,
    tables: &[&TableSchema],
) -> Result<Vec<Statement>> {
    let target = Schema::from_tables(tables);
    let all: Vec<&Table> = target.tables.values().collect();
    let enums: Vec<(&str, &[String])> =
        target.enums.iter().map(|(n, l)| (n.as_str(), l.as_slice())).collect();
    let ops = super::autogen::create_ops(&all, &enums)?;
    render_ops(dialect, Schema::default(), &ops)
}
