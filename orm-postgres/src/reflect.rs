//! Reflection: the schema of a live PostgreSQL database (the current schema of the search path),
//! read from `pg_catalog`, for `db check`. [`comparable`] reduces a schema to what reflection
//! can compare: defaults as normalised SQL text. Custom column types, index keys, predicates
//! and CHECK conditions are compared as the server writes them: [`canonical`] puts the
//! expected ones through the server first.

use orm_core::connection::decode_at;
use orm_core::migrate::dialect::quote_literal;
use orm_core::migrate::dialect::MigrationDialect;
use orm_core::migrate::{
    Check, Column, ForeignKey, Index, IndexKey, ObjectKind, Schema, SqlObject, Table, Unique,
    VERSION_TABLE,
};
use orm_core::{ColumnType, Connection, Error, ReferentialAction, Result, SqlWriter, Value};

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

/// A column's type and its maximum length (`character varying(n)`).
type TypeAndLength = (ColumnType<String>, Option<u32>);

fn sql_type(formatted: &str, typtype: &str, typname: &str) -> TypeAndLength {
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
                COALESCE(fc.relname::text, ''), {}, con.confdeltype::text, con.confupdtype::text, \
                CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid, true) END \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         WHERE n.nspname = current_schema() ORDER BY 1, 2",
        cols("con.conkey", "con.conrelid"),
        cols("con.confkey", "con.confrelid"),
    );
    for r in rows(conn, &sql, &[])? {
        let [table, name, kind, columns, ref_table, ref_columns, on_delete, on_update, check] =
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
            "c" => t.checks.push(Check { name: name.clone(), expr: check_expr(check) }),
            _ => {}
        }
    }
    // A key is generated by the database when it is an identity column or a `serial` (a
    // default drawing from a sequence); a plain integer key is not, whatever its type.
    for t in schema.tables.values_mut() {
        let [key] = t.primary_key.as_slice() else { continue };
        if let Some(c) = t.columns.iter_mut().find(|c| &c.name == key) {
            let integer =
                matches!(c.ty, ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt);
            let serial = c.server_default.as_deref().is_some_and(|d| d.starts_with("nextval("));
            if integer && serial {
                c.auto_increment = true;
            }
        }
    }
    for (table, index) in indexes(conn, "n.nspname = current_schema()")? {
        if let Some(t) = schema.tables.get_mut(&table) {
            t.indexes.push(index);
        }
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
    // Triggers (not the internal ones behind foreign keys), views, and functions that no
    // extension owns.
    for r in rows(
        conn,
        "SELECT 'trigger', tg.tgname::text, c.relname::text FROM pg_trigger tg \
         JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND NOT tg.tgisinternal \
         UNION ALL SELECT CASE c.relkind WHEN 'm' THEN 'materialized_view' ELSE 'view' END, \
                c.relname::text, '' FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm') \
         UNION ALL SELECT 'function', p.proname::text, '' FROM pg_proc p \
         JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p') \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass \
                           AND d.objid = p.oid AND d.deptype = 'e')",
        &[],
    )? {
        let [kind, name, table] = r.as_slice() else { continue };
        let kind = match kind.as_str() {
            "trigger" => ObjectKind::Trigger,
            "view" => ObjectKind::View,
            "materialized_view" => ObjectKind::MaterializedView,
            _ => ObjectKind::Function,
        };
        let table = (!table.is_empty()).then(|| table.clone());
        schema.objects.insert(SqlObject::new(kind, name.clone(), table));
    }
    Ok(schema)
}

/// A CHECK constraint's condition from `pg_get_constraintdef` (`CHECK ((price > 0))`): what
/// is inside `CHECK (...)`.
fn check_expr(def: &str) -> String {
    let d = def.trim();
    let d = d.strip_suffix(" NOT VALID").unwrap_or(d);
    match d.strip_prefix("CHECK (").and_then(|x| x.strip_suffix(')')) {
        Some(inner) => inner.to_owned(),
        None => d.to_owned(),
    }
}

/// Separators of an index's keys in one text cell: between keys, and between a key and its
/// operator class; a key that is an expression starts with [`EXPR`].
const KEY_SEP: char = '\u{1f}';
const OPCLASS_SEP: char = '\u{1e}';
const EXPR: char = '\u{2}';

/// The indexes (not those behind a constraint) of the tables `filter` picks (SQL over
/// `n`, the table's namespace, `t` its `pg_class` and `i` the index's), with their table:
/// keys (a column's name, or an expression as `pg_get_indexdef` writes it), operator classes
/// other than the type's default, method and predicate.
pub(crate) fn indexes(conn: &mut dyn Connection, filter: &str) -> Result<Vec<(String, Index)>> {
    let sql = format!(
        "SELECT t.relname::text, i.relname::text, ix.indisunique::text, am.amname::text, \
                COALESCE(pg_get_expr(ix.indpred, ix.indrelid, true), ''), \
                array_to_string(ARRAY(SELECT \
                    CASE WHEN ix.indkey[k.o - 1] <> 0 \
                         THEN (SELECT a.attname::text FROM pg_attribute a \
                               WHERE a.attrelid = ix.indrelid AND a.attnum = ix.indkey[k.o - 1]) \
                         ELSE chr({expr}) || pg_get_indexdef(ix.indexrelid, k.o, true) END \
                    || chr({opsep}) || COALESCE((SELECT oc.opcname::text FROM pg_opclass oc \
                         WHERE oc.oid = ix.indclass[k.o - 1] AND NOT oc.opcdefault), '') \
                  FROM generate_series(1, ix.indnkeyatts::int) k(o) ORDER BY k.o), chr({keysep})) \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_am am ON am.oid = i.relam \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE {filter} \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid) \
         ORDER BY 1, 2",
        expr = EXPR as u32,
        opsep = OPCLASS_SEP as u32,
        keysep = KEY_SEP as u32,
    );
    let mut out = Vec::new();
    for r in rows(conn, &sql, &[])? {
        let [table, name, unique, method, predicate, keys] = r.as_slice() else { continue };
        let columns = keys
            .split(KEY_SEP)
            .filter(|k| !k.is_empty())
            .map(|k| {
                let (key, opclass) = k.split_once(OPCLASS_SEP).unwrap_or((k, ""));
                let opclass = (!opclass.is_empty()).then(|| opclass.to_owned());
                match key.strip_prefix(EXPR) {
                    Some(expr) => IndexKey::Expr { expr: expr.to_owned(), opclass },
                    None => IndexKey::Column { name: key.to_owned(), opclass },
                }
            })
            .collect();
        out.push((
            table.clone(),
            Index {
                name: name.clone(),
                columns,
                unique: unique == "true",
                using: Some(method.clone()),
                where_clause: (!predicate.is_empty()).then(|| predicate.clone()),
            },
        ));
    }
    Ok(out)
}

/// `expected` with its columns' custom types (a model's `sql_type`, `precision`) as reflection
/// reads them (each declared on a column of a temporary table and read back with
/// `format_type`), and the indexes and CHECK constraints of the tables that `live` has written
/// as PostgreSQL writes them back: each table's are created on an empty temporary copy of the
/// live table (`CREATE TEMP TABLE ... (LIKE ...)`), inside the caller's transaction (which is
/// rolled back), and read back as [`reflect`] reads the live ones. One that the server refuses
/// (a column the live table lacks, a type it does not know) is left as written, so it shows as
/// a difference.
pub fn canonical(conn: &mut dyn Connection, live: &Schema, expected: &Schema) -> Result<Schema> {
    let mut out = expected.clone();
    let d = crate::dialect::PgDialect;
    canonical_types(conn, &mut out)?;
    for (n, t) in out.tables.values_mut().enumerate() {
        if !live.tables.contains_key(&t.name) {
            continue;
        }
        let probe_needed = !t.checks.is_empty()
            || t.indexes.iter().any(|i| {
                i.using.is_some()
                    || i.where_clause.is_some()
                    || i.columns.iter().any(|k| k.column_name().is_none() || k.opclass().is_some())
            });
        if !probe_needed {
            continue;
        }
        let probe = format!("_orm_probe_{n}");
        conn.execute_batch(&format!(
            "CREATE TEMP TABLE {} (LIKE {})",
            d.ident(&probe),
            d.ident(&t.name)
        ))
        .map_err(|e| {
            Error::Migration(format!(
                "to compare the index and CHECK expressions of table {}, check builds them on                  a temporary copy of it, which failed (does the user lack the TEMP                  privilege?): {e}",
                t.name
            ))
        })?;
        for index in &mut t.indexes {
            let mut probed = index.clone();
            probed.name = format!("{probe}_ix");
            let sql = d.create_index_sql(&probe, &probed, false);
            let filter = format!(
                "i.relname = {} AND n.oid = pg_my_temp_schema()",
                quote_literal(&probed.name)
            );
            if let Some((_, back)) = attempt(conn, &sql, |conn| indexes(conn, &filter))?
                .and_then(|found| found.into_iter().next())
            {
                index.columns = back.columns;
                index.using = back.using;
                index.where_clause = back.where_clause;
            }
        }
        for check in &mut t.checks {
            let name = format!("{probe}_ck");
            let sql = format!(
                "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})",
                d.ident(&probe),
                d.ident(&name),
                check.expr
            );
            let read = format!(
                "SELECT pg_get_constraintdef(con.oid, true) FROM pg_constraint con \
                 JOIN pg_class c ON c.oid = con.conrelid \
                 WHERE c.relname = {} AND c.relnamespace = pg_my_temp_schema() AND con.conname = {}",
                quote_literal(&probe),
                quote_literal(&name)
            );
            let back = attempt(conn, &sql, |conn| rows(conn, &read, &[]))?;
            if let Some(def) =
                back.and_then(|r| r.into_iter().next()).and_then(|r| r.into_iter().next())
            {
                check.expr = check_expr(&def);
            }
        }
        conn.execute_batch(&format!("DROP TABLE {}", d.ident(&probe)))?;
    }
    Ok(out)
}

/// The custom types of `schema`'s columns (a model's `sql_type = "char(2)"`, `precision = 10,
/// scale = 2`) as reflection reads them from a column of that type: `char(2)` is `character(2)`,
/// `varchar(20)` a text of at most 20 characters, `int4[]` `integer[]`, `NUMERIC(10, 2)`
/// `numeric(10,2)`. Each type is declared on a column of a temporary table, read back with
/// `format_type`, and undone; a type the server refuses is left as written (a difference).
fn canonical_types(conn: &mut dyn Connection, schema: &mut Schema) -> Result<()> {
    let mut seen: std::collections::BTreeMap<String, Option<TypeAndLength>> =
        std::collections::BTreeMap::new();
    for t in schema.tables.values_mut() {
        for c in &mut t.columns {
            let ColumnType::Custom(ty) = &c.ty else { continue };
            if !seen.contains_key(ty) {
                let sql = format!("CREATE TEMP TABLE _orm_type_probe (c {ty})");
                let read = "SELECT format_type(a.atttypid, a.atttypmod), t.typtype::text, \
                            t.typname::text FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
                            WHERE a.attrelid = 'pg_temp._orm_type_probe'::regclass AND a.attname = 'c'";
                let back = attempt(conn, &sql, |conn| rows(conn, read, &[]))?;
                let mapped =
                    back.and_then(|r| r.into_iter().next()).and_then(|r| match r.as_slice() {
                        [formatted, typtype, typname] => {
                            Some(sql_type(formatted, typtype, typname))
                        }
                        _ => None,
                    });
                seen.insert(ty.clone(), mapped);
            }
            if let Some(Some((mapped, max_length))) = seen.get(ty) {
                c.ty = mapped.clone();
                c.max_length = *max_length;
            }
        }
    }
    Ok(())
}

/// Runs `sql` in a savepoint, then `read`, then undoes both; `None` when `sql` fails.
fn attempt<T>(
    conn: &mut dyn Connection,
    sql: &str,
    read: impl FnOnce(&mut dyn Connection) -> Result<T>,
) -> Result<Option<T>> {
    conn.execute_batch("SAVEPOINT orm_probe")?;
    let got = match conn.execute_batch(sql) {
        Ok(()) => Some(read(conn)?),
        Err(_) => None,
    };
    conn.execute_batch("ROLLBACK TO SAVEPOINT orm_probe")?;
    conn.execute_batch("RELEASE SAVEPOINT orm_probe")?;
    Ok(got)
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
        t.checks.sort_by(|a, b| a.name.cmp(&b.name));
        for i in &mut t.indexes {
            if i.using.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("btree")) {
                i.using = None;
            }
        }
        t.uniques.sort_by(|a, b| a.name.cmp(&b.name));
        t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out
}
