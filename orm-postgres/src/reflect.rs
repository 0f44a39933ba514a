//! Reflection: the schema of a live PostgreSQL database (the current schema of the search path),
//! read from `pg_catalog`, for `db check`. [`comparable`] reduces a schema to what reflection
//! can compare: defaults as normalised SQL text, CHECK constraints by name.

use orm_core::connection::decode_at;
use orm_core::migrate::dialect::MigrationDialect;
use orm_core::migrate::{Check, Column, ForeignKey, Index, Schema, Table, Unique, VERSION_TABLE};
use orm_core::{ColumnType, Connection, ReferentialAction, Result, SqlWriter, Value};

/// The separator of lists aggregated into one text cell.
const SEP: char = '\u{1f}';

fn rows(conn: &mut dyn Connection, sql: &str, params: &[Value]) -> Result<Vec<Vec<String>>> {
    let mut out = Vec::new();
    conn.query(sql, params, &mut |row| {
        let mut cells = Vec::with_capacity(row.len());
        for i in 0..row.len() {
            cells.push(decode_at::<Option<String>>(row, i, "catalog")?.unwrap_or_default());
        }
        out.push(cells);
        Ok(())
    })?;
    Ok(out)
}

fn list(cell: &str) -> Vec<String> {
    cell.split(SEP).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn action(code: &str) -> ReferentialAction {
    match code {
        "r" => ReferentialAction::Restrict,
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

fn sql_type(formatted: &str, typtype: &str, typname: &str) -> (ColumnType<String>, Option<u32>) {
    if typtype == "e" {
        return (ColumnType::enum_named(typname), None);
    }
    let ty = match formatted {
        "smallint" => ColumnType::SmallInt,
        "integer" => ColumnType::Integer,
        "bigint" => ColumnType::BigInt,
        "real" => ColumnType::Real,
        "double precision" => ColumnType::Double,
        "boolean" => ColumnType::Boolean,
        "text" => ColumnType::Text,
        "bytea" => ColumnType::Blob,
        "timestamp with time zone" => ColumnType::Timestamptz,
        "timestamp without time zone" => ColumnType::Timestamp,
        "date" => ColumnType::Date,
        "uuid" => ColumnType::Uuid,
        "jsonb" => ColumnType::Json,
        "text[]" => ColumnType::TextArray,
        "bigint[]" => ColumnType::BigIntArray,
        "numeric" => ColumnType::Numeric,
        other => {
            if let Some(n) =
                other.strip_prefix("character varying(").and_then(|s| s.strip_suffix(')'))
            {
                if let Ok(n) = n.parse() {
                    return (ColumnType::Text, Some(n));
                }
            }
            ColumnType::Custom(other.to_owned())
        }
    };
    (ty, None)
}

fn empty_table(name: &str) -> Table {
    Table {
        name: name.to_owned(),
        columns: Vec::new(),
        primary_key: Vec::new(),
        indexes: Vec::new(),
        uniques: Vec::new(),
        foreign_keys: Vec::new(),
        checks: Vec::new(),
    }
}

/// The schema of the current schema (`current_schema()`) behind `conn`: tables (without the
/// version table), columns, keys, indexes, constraints and enum types.
pub fn reflect(conn: &mut dyn Connection) -> Result<Schema> {
    let mut schema = Schema::default();
    let version = [Value::Text(VERSION_TABLE.into())];
    for r in rows(
        conn,
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname::text <> $1 \
         ORDER BY 1",
        &version,
    )? {
        if let Some(name) = r.first() {
            schema.tables.insert(name.clone(), empty_table(name));
        }
    }
    for r in rows(
        conn,
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                a.attnotnull::text, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, \
                t.typtype::text, t.typname::text \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 \
           AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
        &[],
    )? {
        let [table, name, formatted, notnull, default, identity, typtype, typname] = r.as_slice()
        else {
            continue;
        };
        let Some(t) = schema.tables.get_mut(table) else { continue };
        let (ty, max_length) = sql_type(formatted, typtype, typname);
        let mut c = Column::new(name.clone(), ty);
        c.max_length = max_length;
        c.nullable = notnull != "true";
        c.auto_increment = !identity.is_empty();
        c.server_default = (!default.is_empty()).then(|| default.clone());
        t.columns.push(c);
    }
    let sep = format!("chr({})", SEP as u32);
    let cols = |key: &str, rel: &str| {
        format!(
            "array_to_string(ARRAY(SELECT a.attname::text FROM unnest({key}) WITH ORDINALITY k(n, o) \
             JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.n ORDER BY k.o), {sep})"
        )
    };
    let sql = format!(
        "SELECT c.relname::text, con.conname::text, con.contype::text, {}, \
                COALESCE(fc.relname::text, ''), {}, con.confdeltype::text, con.confupdtype::text \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         WHERE n.nspname = current_schema() ORDER BY 1, 2",
        cols("con.conkey", "con.conrelid"),
        cols("con.confkey", "con.confrelid"),
    );
    for r in rows(conn, &sql, &[])? {
        let [table, name, kind, columns, ref_table, ref_columns, on_delete, on_update] =
            r.as_slice()
        else {
            continue;
        };
        let Some(t) = schema.tables.get_mut(table) else { continue };
        match kind.as_str() {
            "p" => t.primary_key = list(columns),
            "u" => t.uniques.push(Unique { name: name.clone(), columns: list(columns) }),
            "f" => t.foreign_keys.push(ForeignKey {
                name: name.clone(),
                columns: list(columns),
                ref_table: ref_table.clone(),
                ref_columns: list(ref_columns),
                on_delete: action(on_delete),
                on_update: action(on_update),
            }),
            "c" => t.checks.push(Check { name: name.clone(), expr: String::new() }),
            _ => {}
        }
    }
    let sql = format!(
        "SELECT t.relname::text, i.relname::text, ix.indisunique::text, {} \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid) \
         ORDER BY 1, 2",
        cols("ix.indkey::int2[]", "ix.indrelid")
    );
    for r in rows(conn, &sql, &[])? {
        let [table, name, unique, columns] = r.as_slice() else { continue };
        let Some(t) = schema.tables.get_mut(table) else { continue };
        t.indexes.push(Index {
            name: name.clone(),
            columns: list(columns),
            unique: unique == "true",
        });
    }
    let sql = format!(
        "SELECT t.typname::text, array_to_string(ARRAY(SELECT e.enumlabel::text FROM pg_enum e \
         WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), {sep}) \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE n.nspname = current_schema() AND t.typtype = 'e' ORDER BY 1"
    );
    for r in rows(conn, &sql, &[])? {
        if let [name, labels] = r.as_slice() {
            schema.enums.insert(name.clone(), list(labels));
        }
    }
    Ok(schema)
}

/// A default's SQL text without trailing casts (`'draft'::post_status` -> `'draft'`), quotes
/// around a number dropped, lowercased.
fn normalize_default(s: &str) -> String {
    let mut s = s.trim().to_owned();
    while let Some(pos) = s.rfind("::") {
        let tail = &s[pos + 2..];
        if tail.chars().all(|c| c.is_ascii_alphanumeric() || " _\"[](),".contains(c)) {
            s.truncate(pos);
            s = s.trim().to_owned();
        } else {
            break;
        }
    }
    if let Some(inner) = s.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        if inner.parse::<f64>().is_ok() {
            s = inner.to_owned();
        }
    }
    if s.starts_with('(') && s.ends_with(')') && s[1..s.len() - 1].parse::<f64>().is_ok() {
        s = s[1..s.len() - 1].to_owned();
    }
    s.to_lowercase()
}

/// `schema` as reflection compares it: defaults as normalised SQL text, no default on identity
/// columns, custom types lowercased without spaces, CHECK constraints by name only,
/// constraints and indexes in name order.
pub fn comparable(d: &dyn MigrationDialect, schema: &Schema) -> Schema {
    let mut out = schema.clone();
    for t in out.tables.values_mut() {
        for c in &mut t.columns {
            if let Some(lit) = c.default.take() {
                let mut w = SqlWriter::new();
                d.write_literal(&mut w, &lit);
                c.server_default.get_or_insert(w.sql);
            }
            c.server_default = c.server_default.as_deref().map(normalize_default);
            if c.auto_increment {
                c.server_default = None;
            }
            if let ColumnType::Custom(s) = &c.ty {
                c.ty = ColumnType::Custom(s.to_lowercase().replace(' ', ""));
            }
            if c.ty != ColumnType::Text {
                c.max_length = None;
            }
        }
        for ch in &mut t.checks {
            ch.expr.clear();
        }
        t.checks.sort_by(|a, b| a.name.cmp(&b.name));
        t.uniques.sort_by(|a, b| a.name.cmp(&b.name));
        t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out
}
