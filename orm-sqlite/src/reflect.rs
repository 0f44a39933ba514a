//! Reflection: the schema of a live SQLite database, read with the `pragma_table_info`,
//! `pragma_index_list`, `pragma_index_info` and `pragma_foreign_key_list` table functions, for
//! `db check`. SQLite keeps less than the models say (one integer type, no enum types, no names
//! for UNIQUE and FOREIGN KEY constraints), so [`comparable`] reduces a schema to what
//! reflection can see before two are compared.

use crate::dialect::parse_declared_type;
use orm_core::connection::decode_at;
use orm_core::migrate::dialect::MigrationDialect;
use orm_core::migrate::{Column, ForeignKey, Index, Schema, Table, Unique, VERSION_TABLE};
use orm_core::ColumnType;
use orm_core::{Connection, ReferentialAction, Result, SqlWriter, Value};

fn texts(
    conn: &mut dyn Connection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Vec<Option<String>>>> {
    let mut out = Vec::new();
    conn.query(sql, params, &mut |row| {
        let mut cells = Vec::with_capacity(row.len());
        for i in 0..row.len() {
            let v = match row.get(i)? {
                orm_core::ValueRef::Null => None,
                orm_core::ValueRef::Int(n) => Some(n.to_string()),
                _ => Some(decode_at::<String>(row, i, "pragma")?),
            };
            cells.push(v);
        }
        out.push(cells);
        Ok(())
    })?;
    Ok(out)
}

fn action(s: Option<&str>) -> ReferentialAction {
    match s.unwrap_or("").to_ascii_uppercase().as_str() {
        "CASCADE" => ReferentialAction::Cascade,
        "RESTRICT" => ReferentialAction::Restrict,
        "SET NULL" => ReferentialAction::SetNull,
        "SET DEFAULT" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

/// The schema of the database behind `conn`: its tables (not SQLite's own, not the version
/// table), columns, primary keys, indexes, UNIQUE constraints and foreign keys.
pub fn reflect(conn: &mut dyn Connection) -> Result<Schema> {
    let mut schema = Schema::default();
    let tables = texts(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?1 ORDER BY name",
        &[Value::Text(VERSION_TABLE.into())],
    )?;
    for row in tables {
        let Some(Some(name)) = row.into_iter().next() else { continue };
        let p = [Value::Text(name.clone())];
        let mut t = Table {
            name: name.clone(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            indexes: Vec::new(),
            uniques: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
        };
        let mut pk: Vec<(i64, String)> = Vec::new();
        let cols = texts(
            conn,
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid",
            &p,
        )?;
        for c in cols {
            let [Some(cname), declared, notnull, default, key] = c.as_slice() else { continue };
            let declared = declared.clone().unwrap_or_default();
            let (ty, max_length) = parse_declared_type(&declared)
                .unwrap_or_else(|| (ColumnType::Custom(declared.clone()), None));
            let mut col = Column::new(cname.clone(), ty);
            col.max_length = max_length;
            col.nullable = notnull.as_deref() == Some("0");
            col.server_default = default.clone();
            let key: i64 = key.as_deref().and_then(|k| k.parse().ok()).unwrap_or(0);
            if key > 0 {
                pk.push((key, cname.clone()));
                col.auto_increment = declared.eq_ignore_ascii_case("INTEGER");
            }
            t.columns.push(col);
        }
        pk.sort();
        if pk.len() != 1 {
            for c in &mut t.columns {
                c.auto_increment = false;
            }
        }
        t.primary_key = pk.into_iter().map(|(_, n)| n).collect();
        let indexes = texts(
            conn,
            "SELECT name, \"unique\", origin FROM pragma_index_list(?1) ORDER BY name",
            &p,
        )?;
        for ix in indexes {
            let [Some(iname), unique, origin] = ix.as_slice() else { continue };
            let columns: Vec<String> = texts(
                conn,
                "SELECT name FROM pragma_index_info(?1) ORDER BY seqno",
                &[Value::Text(iname.clone())],
            )?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect();
            match origin.as_deref() {
                Some("c") => t.indexes.push(Index {
                    name: iname.clone(),
                    columns,
                    unique: unique.as_deref() == Some("1"),
                }),
                Some("u") => t.uniques.push(Unique { name: String::new(), columns }),
                _ => {}
            }
        }
        let fks = texts(
            conn,
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
            &p,
        )?;
        let mut last: Option<String> = None;
        for f in fks {
            let [id, Some(ref_table), Some(from), to, on_update, on_delete] = f.as_slice() else {
                continue;
            };
            if last.as_ref() != id.as_ref() || t.foreign_keys.is_empty() {
                t.foreign_keys.push(ForeignKey {
                    name: String::new(),
                    columns: Vec::new(),
                    ref_table: ref_table.clone(),
                    ref_columns: Vec::new(),
                    on_delete: action(on_delete.as_deref()),
                    on_update: action(on_update.as_deref()),
                });
                last = id.clone();
            }
            if let Some(fk) = t.foreign_keys.last_mut() {
                fk.columns.push(from.clone());
                fk.ref_columns.push(to.clone().unwrap_or_default());
            }
        }
        schema.tables.insert(name, t);
    }
    Ok(schema)
}

/// `schema` as SQLite reflection sees it: integer types as one, floats as one, enum and numeric
/// columns as text; defaults as the SQL text written; no generated keys, enum types, CHECK
/// constraints or constraint names; constraints in a fixed order.
pub fn comparable(d: &dyn MigrationDialect, schema: &Schema) -> Schema {
    let mut out = schema.clone();
    out.enums.clear();
    for t in out.tables.values_mut() {
        for c in &mut t.columns {
            c.ty = match &c.ty {
                ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => {
                    ColumnType::BigInt
                }
                ColumnType::Real | ColumnType::Double => ColumnType::Double,
                ColumnType::Enum { .. } | ColumnType::Numeric | ColumnType::Text => {
                    ColumnType::Text
                }
                ColumnType::Custom(s) => match parse_declared_type(s) {
                    Some((ct, n)) => {
                        c.max_length = n;
                        ct
                    }
                    None => ColumnType::Custom(s.clone()),
                },
                other => other.clone(),
            };
            if c.ty != ColumnType::Text {
                c.max_length = None;
            }
            if let Some(lit) = c.default.take() {
                let mut w = SqlWriter::new();
                d.write_literal(&mut w, &lit);
                c.server_default.get_or_insert(w.sql);
            }
            c.auto_increment = false;
        }
        t.checks.clear();
        for u in &mut t.uniques {
            u.name.clear();
        }
        t.uniques.sort_by(|a, b| a.columns.cmp(&b.columns));
        for f in &mut t.foreign_keys {
            f.name.clear();
        }
        t.foreign_keys.sort_by(|a, b| (&a.ref_table, &a.columns).cmp(&(&b.ref_table, &b.columns)));
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out
}
