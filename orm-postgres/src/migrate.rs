//! Migrations on PostgreSQL: [`MigrationDialect`] for [`PgDialect`].
//!
//! PostgreSQL runs DDL in transactions, so every revision is one. What differs from the standard
//! rendering: identity columns for generated keys, enum labels changed with
//! `ALTER TYPE ... ADD VALUE` when they are only appended (otherwise the type is re-created and
//! its columns converted with `USING`), a primary key dropped by whatever name it has, and
//! `pg_advisory_xact_lock` at the start of each revision's transaction so two processes migrating
//! the same schema take turns.
//!
//! `CREATE INDEX CONCURRENTLY` (`concurrently = true` on a `create_index` op) cannot run in a
//! transaction: the runner commits the revision's earlier statements, builds the index on its
//! own, then goes on in a new transaction. Such a revision is not atomic; keep it to the index.
//! New enum labels added in a revision cannot be used by that same revision (PostgreSQL refuses
//! a label added in the current transaction).

use crate::dialect::PgDialect;
use orm_core::migrate::dialect::{
    enum_label_literal, lossy_rows_standard, numeric_precision, quote_literal, render_standard,
    write_column_default_standard, MigrationDialect, Statement,
};
use orm_core::migrate::{Column, Literal, Op, Schema};
use orm_core::{ColumnType, Connection, Dialect, Result, SqlWriter};

/// Text that PostgreSQL casts to an integer type (spaces around, a sign, digits).
const INTEGER_TEXT: &str = r"^\s*[+-]?[0-9]+\s*$";
/// Text that PostgreSQL casts to a number (also a fraction and an exponent).
const NUMBER_TEXT: &str = r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$";

impl MigrationDialect for PgDialect {
    fn render(&self, op: &Op, before: &Schema, after: &Schema) -> Result<Vec<Statement>> {
        match op {
            Op::AlterEnum { name, from, to } => Ok(alter_enum(self, name, from, to, before)),
            Op::AlterPrimaryKey { table, from, to } => {
                let mut out = Vec::new();
                if !from.is_empty() {
                    out.push(Statement::Sql(format!(
                        "DO $orm$ DECLARE pk text; BEGIN \
                         SELECT conname INTO pk FROM pg_constraint WHERE conrelid = {}::regclass AND contype = 'p'; \
                         IF pk IS NOT NULL THEN EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', {}, pk); END IF; \
                         END $orm$",
                        quote_literal(&self.ident(table)),
                        quote_literal(table)
                    )));
                }
                if !to.is_empty() {
                    let mut w = SqlWriter::new();
                    w.push("ALTER TABLE ");
                    self.write_ident(&mut w, table);
                    w.push(" ADD PRIMARY KEY (");
                    self.write_names(&mut w, to);
                    w.push(")");
                    out.push(Statement::Sql(w.sql));
                }
                Ok(out)
            }
            _ => render_standard(self, op, before, after),
        }
    }

    /// The standard conditions, after one for text that is not a number at all when text
    /// becomes a number (PostgreSQL's cast would fail on it: count it first, as the others).
    fn lossy_rows(&self, from: &Column, to: &Column, schema: &Schema) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let to_number = match &to.ty {
            ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => Some(INTEGER_TEXT),
            ColumnType::Real | ColumnType::Double | ColumnType::Numeric => Some(NUMBER_TEXT),
            ColumnType::Custom(t) if numeric_precision(t).is_some() => Some(NUMBER_TEXT),
            _ => None,
        };
        if let (ColumnType::Text, Some(pattern)) = (&from.ty, to_number) {
            out.push((
                format!("{} !~ {}", self.ident(&from.name), quote_literal(pattern)),
                format!("are not {}", if pattern == INTEGER_TEXT { "integers" } else { "numbers" }),
            ));
        }
        out.extend(lossy_rows_standard(self, from, to, schema));
        out
    }

    /// Through text: PostgreSQL writes a float with the fewest digits that read back exactly,
    /// where its float-to-numeric cast keeps only 6 (`REAL`) or 15 digits and would count
    /// `1234567` as changed by `REAL`.
    fn float_as_numeric(&self, expr: &str, float_type: &str) -> String {
        format!("CAST(CAST(CAST({expr} AS {float_type}) AS TEXT) AS NUMERIC)")
    }

    /// A `DO` block raising `message` when a row of `table` matches `predicate`.
    fn guard_script(&self, table: &str, predicate: &str, message: &str) -> String {
        let body = format!(
            "BEGIN IF EXISTS (SELECT 1 FROM {} WHERE {predicate}) THEN RAISE EXCEPTION '%', {}; END IF; END",
            self.ident(table),
            quote_literal(message)
        );
        // A dollar-quote tag that the body (a hostile table name, say) does not contain.
        let mut tag = "$orm$".to_owned();
        let mut n = 0u32;
        while body.contains(&tag) {
            n += 1;
            tag = format!("$orm{n}$");
        }
        format!("DO {tag} {body} {tag};")
    }

    /// An enum column's label default cast to its type, as PostgreSQL itself writes it
    /// (`DEFAULT 'draft'::"post_status"`); other defaults as standard.
    fn write_column_default(&self, w: &mut SqlWriter, col: &Column) {
        if let Some(name) = col.ty.enum_name() {
            let label = match (&col.server_default, &col.default) {
                (Some(sd), _) => enum_label_literal(sd).map(str::to_owned),
                (None, Some(Literal::Text(t))) => Some(quote_literal(t)),
                _ => None,
            };
            if let Some(label) = label {
                w.push(" DEFAULT ");
                w.push(&label);
                w.push("::");
                self.write_ident(w, name);
                return;
            }
        }
        write_column_default_standard(self, w, col);
    }

    /// ` GENERATED BY DEFAULT AS IDENTITY` for a generated integer key.
    fn write_identity(&self, w: &mut SqlWriter, col: &Column) -> bool {
        if col.auto_increment && col.ty.is_integer() {
            w.push(" ");
            w.push(crate::dialect::IDENTITY);
            true
        } else {
            false
        }
    }

    /// A transaction-scoped advisory lock keyed by the current schema, so migrations of
    /// different schemas on one server do not wait for each other.
    fn lock_sql(&self) -> Option<String> {
        Some(
            "SELECT pg_advisory_xact_lock(1869770093, hashtext(COALESCE(current_schema(), '')))"
                .into(),
        )
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
        crate::reflect::canonical(conn, live, expected)
    }
}

/// New labels for an enum type: `ADD VALUE` for each appended label; otherwise rename the old
/// type, create the new one, convert every column using it through text, drop the old type.
fn alter_enum(
    d: &PgDialect,
    name: &str,
    from: &[String],
    to: &[String],
    before: &Schema,
) -> Vec<Statement> {
    let ty = d.ident(name);
    if to.len() >= from.len() && to.starts_with(from) {
        return to[from.len()..]
            .iter()
            .map(|v| Statement::Sql(format!("ALTER TYPE {ty} ADD VALUE {}", quote_literal(v))))
            .collect();
    }
    let old = d.ident(&format!("{name}__orm_old"));
    let labels: Vec<&str> = to.iter().map(String::as_str).collect();
    // A row holding a label that goes would fail the conversion: count them first.
    let mut out = d.enum_label_guards(name, from, to, before);
    out.push(Statement::Sql(format!("ALTER TYPE {ty} RENAME TO {old}")));
    out.extend(d.create_enum_type(name, &labels).map(Statement::Sql));
    for t in before.tables.values() {
        for c in t.columns.iter().filter(|c| c.ty.enum_name() == Some(name)) {
            let col = format!("ALTER TABLE {} ALTER COLUMN {}", d.ident(&t.name), d.ident(&c.name));
            let has_default = c.default.is_some() || c.server_default.is_some();
            if has_default {
                out.push(Statement::Sql(format!("{col} DROP DEFAULT")));
            }
            out.push(Statement::Sql(format!(
                "{col} TYPE {ty} USING CAST(CAST({} AS TEXT) AS {ty})",
                d.ident(&c.name)
            )));
            if has_default {
                let mut w = SqlWriter::new();
                d.write_column_default(&mut w, c);
                out.push(Statement::Sql(format!("{col} SET{}", w.sql)));
            }
        }
    }
    out.push(Statement::Sql(format!("DROP TYPE {old}")));
    out
}
