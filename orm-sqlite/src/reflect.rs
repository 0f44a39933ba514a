//! Reflection: the schema of a live SQLite database, read with the `pragma_table_info`,
//! `pragma_index_list`, `pragma_index_info` and `pragma_foreign_key_list` table functions, for
//! `db check`. SQLite keeps less than the models say (one integer type, no enum types, no names
//! for UNIQUE and FOREIGN KEY constraints), so [`comparable`] reduces a schema to what
//! reflection can see before two are compared. Expression keys and predicates of indexes, and
//! named CHECK constraints, are read from the statements' text in `sqlite_master`, which SQLite
//! keeps as written; triggers and views from `sqlite_master` too.

use crate::dialect::parse_declared_type;
use orm_core::connection::decode_at;
use orm_core::migrate::dialect::{numeric_precision, MigrationDialect};
use orm_core::migrate::{
    Check, Column, ForeignKey, Index, IndexKey, ObjectKind, Schema, SqlObject, Table, Unique,
    VERSION_TABLE,
};
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
            // `NUMERIC(10,2)` keeps its precision (a model says it with `precision` and
            // `scale`), though SQLite does not enforce it: `comparable` reads it as a decimal.
            let (ty, max_length) = match numeric_precision(&declared) {
                Some(Some(_)) => (ColumnType::Custom(declared.trim().to_owned()), None),
                _ => parse_declared_type(&declared)
                    .unwrap_or_else(|| (ColumnType::Custom(declared.clone()), None)),
            };
            let mut col = Column::new(cname.clone(), ty);
            col.max_length = max_length;
            col.nullable = notnull.as_deref() == Some("0");
            col.server_default = default.clone();
            let key: i64 = key.as_deref().and_then(|k| k.parse().ok()).unwrap_or(0);
            if key > 0 {
                pk.push((key, cname.clone()));
                col.auto_increment = declared.trim().eq_ignore_ascii_case("INTEGER");
            }
            t.columns.push(col);
        }
        pk.sort();
        let table_sql =
            texts(conn, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1", &p)?
                .into_iter()
                .find_map(|r| r.into_iter().next().flatten())
                .unwrap_or_default();
        let without_rowid =
            texts(conn, "SELECT wr FROM pragma_table_list(?1) WHERE schema = 'main'", &p)?
                .into_iter()
                .any(|r| r.first().is_some_and(|w| w.as_deref() == Some("1")));
        // The rowid alias: the one key column, declared exactly `INTEGER` (any case), of a
        // rowid table, unless its own definition says `PRIMARY KEY DESC` (SQLite's quirk).
        if pk.len() != 1 || without_rowid || says_key_desc(&table_sql) {
            for c in &mut t.columns {
                c.auto_increment = false;
            }
        }
        // The rowid holds no NULL, though `pragma_table_info` says `notnull = 0` for an
        // `INTEGER PRIMARY KEY` declared without `NOT NULL` (a NULL inserted there is given a
        // new rowid).
        for c in &mut t.columns {
            if c.auto_increment {
                c.nullable = false;
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
                Some("c") => {
                    let sql = texts(
                        conn,
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                        &[Value::Text(iname.clone())],
                    )?
                    .into_iter()
                    .find_map(|r| r.into_iter().next().flatten());
                    let mut index = Index {
                        name: iname.clone(),
                        columns: columns.iter().map(IndexKey::column).collect(),
                        unique: unique.as_deref() == Some("1"),
                        using: None,
                        where_clause: None,
                    };
                    // Expression keys and the predicate are only in the statement's text.
                    if let Some((keys, predicate)) = sql.as_deref().and_then(split_index_sql) {
                        index.columns = keys;
                        index.where_clause = predicate;
                    }
                    t.indexes.push(index);
                }
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
        t.checks = named_checks(&table_sql);
        schema.tables.insert(name, t);
    }
    for r in texts(
        conn,
        "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('trigger', 'view') \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
        &[],
    )? {
        let [Some(kind), Some(name), table] = r.as_slice() else { continue };
        schema.objects.insert(match kind.as_str() {
            "trigger" => SqlObject::new(ObjectKind::Trigger, name.clone(), table.clone()),
            _ => SqlObject::new(ObjectKind::View, name.clone(), None),
        });
    }
    Ok(schema)
}

/// The byte ranges of `sql` outside quotes (`'...'`, `"..."`, `` `...` ``, `[...]`), each
/// character with its nesting depth of parentheses: `(position, char, depth)`.
fn unquoted(sql: &str) -> Vec<(usize, char, usize)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in sql.char_indices() {
        match quote {
            // A doubled quote closes and reopens: the same as staying inside.
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '[' => quote = Some(']'),
                '(' => {
                    depth += 1;
                    out.push((i, c, depth));
                }
                ')' => {
                    out.push((i, c, depth));
                    depth = depth.saturating_sub(1);
                }
                _ => out.push((i, c, depth)),
            },
        }
    }
    out
}

/// Whether a `CREATE TABLE` statement's text says `PRIMARY KEY DESC` (outside quotes): a
/// column declared `INTEGER PRIMARY KEY DESC` is not the rowid, unlike `PRIMARY KEY ("id"
/// DESC)` at the table's end (<https://www.sqlite.org/lang_createtable.html#rowid>).
fn says_key_desc(sql: &str) -> bool {
    let bare: String = unquoted(sql).into_iter().map(|(_, c, _)| c).collect();
    let words: Vec<String> = bare
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    words.windows(3).any(|w| w == ["PRIMARY", "KEY", "DESC"])
}

/// `name` unquoted when it is one quoted identifier (`"a""b"` -> `a"b`; also SQLite's
/// `[name]` and `` `name` ``, which scripts written for other databases use) or a bare word.
fn identifier(text: &str) -> Option<String> {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return (!inner.contains(']')).then(|| inner.to_owned());
    }
    if let Some(inner) = t.strip_prefix('`').and_then(|x| x.strip_suffix('`')) {
        if !inner.replace("``", "").contains('`') {
            return Some(inner.replace("``", "`"));
        }
        return None;
    }
    if let Some(inner) = t.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        if !inner.replace("\"\"", "").contains('"') {
            return Some(inner.replace("\"\"", "\""));
        }
        return None;
    }
    (!t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_')).then(|| t.to_owned())
}

/// The keys and the predicate of a `CREATE INDEX` statement's text: `(keys) [WHERE ...]`. A
/// key that is an identifier is a column; anything else an expression (without the one pair
/// of parentheses the dialect writes around it).
fn split_index_sql(sql: &str) -> Option<(Vec<IndexKey>, Option<String>)> {
    let chars = unquoted(sql);
    let open = chars.iter().find(|(_, c, d)| *c == '(' && *d == 1)?.0;
    let close = chars.iter().find(|(i, c, d)| *i > open && *c == ')' && *d == 1)?.0;
    let mut keys = Vec::new();
    let mut start = open + 1;
    let commas = chars.iter().filter(|(i, c, d)| *i > open && *i < close && *c == ',' && *d == 1);
    for &(i, _, _) in commas.chain(std::iter::once(&(close, ')', 1))) {
        let text = sql.get(start..i)?.trim();
        start = i + 1;
        keys.push(match identifier(text) {
            Some(name) => IndexKey::column(name),
            None => IndexKey::Expr { expr: strip_parens(text).to_owned(), opclass: None },
        });
    }
    let rest = sql.get(close + 1..)?.trim();
    let predicate = match rest.get(..5) {
        Some(w) if w.eq_ignore_ascii_case("where") => Some(rest[5..].trim().to_owned()),
        _ => None,
    };
    Some((keys, predicate))
}

/// `text` without one pair of parentheses around all of it.
fn strip_parens(text: &str) -> &str {
    let t = text.trim();
    if t.starts_with('(') && t.ends_with(')') {
        let chars = unquoted(t);
        // The first parenthesis closes at the very end only.
        let first_close = chars.iter().find(|(_, c, d)| *c == ')' && *d == 1).map(|x| x.0);
        if first_close == Some(t.len() - 1) {
            return t[1..t.len() - 1].trim();
        }
    }
    t
}

/// The named CHECK constraints of a `CREATE TABLE` statement's text: `CONSTRAINT name CHECK
/// (expr)` (the unnamed CHECK of an enum column is left out).
fn named_checks(sql: &str) -> Vec<Check> {
    let chars = unquoted(sql);
    let upper: String = sql.to_ascii_uppercase();
    let mut out = Vec::new();
    let is_word = |i: usize, len: usize| {
        let before =
            upper[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let after =
            upper[i + len..].chars().next().is_none_or(|c| !c.is_alphanumeric() && c != '_');
        before && after
    };
    for &(i, _, depth) in &chars {
        if depth != 1 || !upper[i..].starts_with("CONSTRAINT") || !is_word(i, 10) {
            continue;
        }
        // The next CHECK keyword outside quotes (a quoted name may hold the word).
        let Some(&(check_at, _, _)) = chars.iter().find(|(j, _, d)| {
            *j > i + 10 && *d == 1 && upper[*j..].starts_with("CHECK") && is_word(*j, 5)
        }) else {
            continue;
        };
        let Some(name) = identifier(&sql[i + 10..check_at]) else { continue };
        let after_check = check_at + 5;
        let Some(open) = chars.iter().find(|(j, c, d)| *j >= after_check && *c == '(' && *d == 2)
        else {
            continue;
        };
        if !sql[after_check..open.0].trim().is_empty() {
            continue;
        }
        let Some(close) = chars.iter().find(|(j, c, d)| *j > open.0 && *c == ')' && *d == 2) else {
            continue;
        };
        out.push(Check { name, expr: sql[open.0 + 1..close.0].trim().to_owned() });
    }
    out
}

/// `expected` (what the revisions replay to) with the keys SQLite generates marked as such: a
/// table's one key column that `live` has as the rowid is generated whether or not the model
/// leaves it to the database (an `i64` key with `auto_increment = false` is written `INTEGER
/// PRIMARY KEY` too, and the rowid takes the keys it is given). The other way round stays a
/// difference: a model that leaves its key to the database needs the rowid, and an `INT
/// PRIMARY KEY` is not one.
pub fn canonical(live: &Schema, expected: &Schema) -> Schema {
    let mut out = expected.clone();
    for t in out.tables.values_mut() {
        let Some(l) = live.tables.get(&t.name) else { continue };
        let [key] = t.primary_key.as_slice() else { continue };
        if l.primary_key != t.primary_key {
            continue;
        }
        let live_rowid = l.columns.iter().any(|c| &c.name == key && c.auto_increment);
        if let Some(c) = t.columns.iter_mut().find(|c| &c.name == key) {
            c.auto_increment |= live_rowid;
        }
    }
    out
}

/// SQL text for comparing what was written with what SQLite keeps: runs of white space made
/// one space, and quotes dropped around a plain lowercase name (SQLite's RENAME COLUMN writes
/// the new name quoted: `lower(email)` becomes `lower("mail")`).
fn squeeze(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(pos) = rest.find(['\'', '"']) {
        out.push_str(&rest[..pos]);
        let quote = rest[pos..].chars().next().unwrap_or('"');
        // The end of the quoted text: the next quote not doubled.
        let body = &rest[pos + 1..];
        let mut end = None;
        let mut skip = false;
        for (i, c) in body.char_indices() {
            if skip {
                skip = false;
            } else if c == quote {
                if body[i + 1..].starts_with(quote) {
                    skip = true;
                } else {
                    end = Some(i);
                    break;
                }
            }
        }
        let Some(end) = end else {
            out.push_str(&rest[pos..]);
            rest = "";
            break;
        };
        let inner = &body[..end];
        let plain = inner.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && inner.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if quote == '"' && plain {
            out.push_str(inner);
        } else {
            out.push_str(&rest[pos..pos + 1 + end + 1]);
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `schema` as SQLite reflection sees it: integer types as one, floats as one, enum columns as
/// text; a custom type by what its declared name means ([`parse_declared_type`]: a model's
/// `NVARCHAR(120)` compares as text of at most 120 characters); defaults as the SQL text
/// written; no enum types, constraint names, or CHECK constraints but the named ones;
/// constraints in a fixed order.
///
/// Columns compare by the portable type and length their declared type means, not by its
/// spelling: `VARCHAR(120)`, which the ORM writes for a `String` of `max_length = 120`, and
/// `NVARCHAR(120)` are the same column to SQLite (TEXT affinity, a length it does not
/// enforce). What SQLite does differently stays a difference: `INT` and `TEXT`, `NUMERIC`
/// (a REAL of 15 significant digits) and `TEXT`, a length and none.
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
                ColumnType::Enum { .. } | ColumnType::Text => ColumnType::Text,
                ColumnType::Custom(s) => match parse_declared_type(s) {
                    Some((ct, n)) => {
                        c.max_length = n;
                        match ct {
                            ColumnType::SmallInt | ColumnType::Integer => ColumnType::BigInt,
                            ct => ct,
                        }
                    }
                    None => ColumnType::Custom(
                        s.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase(),
                    ),
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
        }
        for c in &mut t.checks {
            c.expr = squeeze(&c.expr);
        }
        t.checks.sort_by(|a, b| a.name.cmp(&b.name));
        // SQLite has B-tree indexes only (the dialect skips the others) and no operator classes.
        t.indexes.retain(crate::migrate::has_method);
        for i in &mut t.indexes {
            i.using = None;
            for k in &mut i.columns {
                *k = match k.without_opclass() {
                    IndexKey::Expr { expr, .. } => {
                        IndexKey::Expr { expr: squeeze(&expr), opclass: None }
                    }
                    key => key,
                };
            }
            i.where_clause = i.where_clause.as_deref().map(squeeze);
        }
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
    out.objects.retain(|o| !matches!(o.kind, ObjectKind::Function | ObjectKind::MaterializedView));
    out
}
