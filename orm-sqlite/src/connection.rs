//! [`SqliteConnection`]: the core's [`Connection`] over a `rusqlite::Connection`, and
//! [`SqliteRow`], the core's [`Row`] over a `rusqlite::Row`.
//!
//! Every statement goes through rusqlite's prepared-statement cache, sized for the fixed
//! statements of about a hundred models, so a statement the ORM renders once per model is parsed
//! once per connection. Rows are handed to the callback as borrowed values straight from SQLite:
//! no per-row allocation.

use crate::error::from_rusqlite;
use crate::value::{value_ref, Bind};
use orm_core::connection::{may_change_schema, EachRow, RowCallback, RowRun};
use orm_core::value::DEFAULT_NOT_BINDABLE;
use orm_core::{Connection, Error, Result, Row, Value, ValueRef};

/// How many prepared statements each connection keeps: room for the fixed statements (get,
/// insert, update by key, delete, select all) of 100 models, and then some.
pub const STATEMENT_CACHE_CAPACITY: usize = 256;

/// The SQL function that lowercases text by Unicode's rules (`'MOTÖRHEAD'` → `'motörhead'`),
/// where SQLite's own `LOWER` folds ASCII letters only. The dialect writes `ilike` and
/// [`lower`](orm_core::lower) with it, so they fold as PostgreSQL does in a UTF-8 locale.
pub const LOWER_FUNCTION: &str = "orm_lower";
/// The SQL function that uppercases text by Unicode's rules, for [`upper`](orm_core::upper).
pub const UPPER_FUNCTION: &str = "orm_upper";

/// Registers the SQL functions the dialect's SQL calls ([`LOWER_FUNCTION`],
/// [`UPPER_FUNCTION`], [`DECIMAL_CMP_FUNCTION`](crate::value::DECIMAL_CMP_FUNCTION)) on a
/// connection. The connector does it for every connection it opens;
/// call it on a connection opened by other means before handing it to
/// [`SqliteConnection::new`]. Both are deterministic: text is mapped with Rust's
/// `str::to_lowercase` / `to_uppercase` (full Unicode case mapping, the same in every
/// locale), NULL stays NULL, numbers and blobs are returned as they are, and text that is not
/// UTF-8 is an error.
pub fn register_functions(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function(LOWER_FUNCTION, 1, flags, |ctx| map_case(ctx, str::to_lowercase))?;
    conn.create_scalar_function(UPPER_FUNCTION, 1, flags, |ctx| map_case(ctx, str::to_uppercase))?;
    conn.create_scalar_function(crate::value::DECIMAL_CMP_FUNCTION, 2, flags, |ctx| {
        let order = crate::value::compare_decimals(ctx.get_raw(0), ctx.get_raw(1))
            .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))?;
        Ok(order.map(|o| o as i64))
    })?;
    conn.create_collation(crate::value::DECIMAL_COLLATION, crate::value::collate_decimals)
}

fn map_case(
    ctx: &rusqlite::functions::Context<'_>,
    map: fn(&str) -> String,
) -> rusqlite::Result<rusqlite::types::Value> {
    use rusqlite::types::{Value as SqlValue, ValueRef as SqlValueRef};
    Ok(match ctx.get_raw(0) {
        SqlValueRef::Text(bytes) => {
            let s = std::str::from_utf8(bytes)
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
            SqlValue::Text(map(s))
        }
        other => other.into(),
    })
}

/// A connection to one SQLite database.
pub struct SqliteConnection {
    conn: rusqlite::Connection,
    /// Per table asked about, what inserts need to know of it ([`Connection::is_rowid`],
    /// [`Connection::next_rowid`]). Emptied by DDL run through this connection.
    rowids: std::collections::HashMap<String, TableFacts>,
}

/// What the connection knows of a table, read once from its schema.
#[derive(Debug, Default)]
struct TableFacts {
    /// Its rowid column (`None`: it has none, or might not).
    rowid: Option<String>,
    /// Its CREATE TABLE says AUTOINCREMENT, and `sqlite_sequence` exists: a new rowid is above
    /// every rowid the table ever held, as `sqlite_sequence` records.
    autoincrement: bool,
    /// Some trigger (of the main or the temp schema) is on it: an INSERT may insert more rows.
    triggers: bool,
}

impl std::fmt::Debug for SqliteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConnection").field("path", &self.conn.path()).finish()
    }
}

impl SqliteConnection {
    /// Wraps an open rusqlite connection as it is (the connector sets the pragmas and registers
    /// the SQL functions, see [`SqliteConnector`](crate::SqliteConnector) and
    /// [`register_functions`]), sizing its statement cache.
    pub fn new(conn: rusqlite::Connection) -> Self {
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        SqliteConnection { conn, rowids: std::collections::HashMap::new() }
    }

    /// The rusqlite connection, for what the ORM does not cover.
    pub fn raw(&self) -> &rusqlite::Connection {
        &self.conn
    }

    /// The rusqlite connection, mutably.
    pub fn raw_mut(&mut self) -> &mut rusqlite::Connection {
        &mut self.conn
    }

    /// The rusqlite connection, unwrapped.
    pub fn into_raw(self) -> rusqlite::Connection {
        self.conn
    }
}

/// The column of `table` that is its rowid: the one primary-key column of a rowid table whose
/// declared type is `INTEGER` (SQLite's rule). `None` also when the table's SQL says `DESC`
/// anywhere (an `INTEGER PRIMARY KEY DESC` column is not the rowid), a cautious answer that
/// only costs a `RETURNING` clause.
fn table_facts(conn: &rusqlite::Connection, table: &str) -> rusqlite::Result<TableFacts> {
    let mut stmt = conn.prepare_cached(
        "SELECT (SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1) \
         + (SELECT count(*) FROM sqlite_temp_schema WHERE type = 'trigger' AND tbl_name = ?1), \
         (SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'), \
         (SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
    )?;
    let (triggers, sequence, sql): (i64, i64, Option<String>) =
        stmt.query_row([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let autoincrement = sequence > 0 && sql.is_some_and(|s| says_word(&s, "autoincrement"));
    Ok(TableFacts { rowid: rowid_column(conn, table)?, autoincrement, triggers: triggers > 0 })
}

fn rowid_column(conn: &rusqlite::Connection, table: &str) -> rusqlite::Result<Option<String>> {
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut stmt =
        conn.prepare_cached("SELECT name, type FROM pragma_table_info(?1) WHERE pk > 0")?;
    let mut rows = stmt.query([table])?;
    while let Some(r) = rows.next()? {
        keys.push((r.get(0)?, r.get(1)?));
    }
    drop(rows);
    let [(name, declared)] = keys.as_slice() else { return Ok(None) };
    if !declared.eq_ignore_ascii_case("INTEGER") {
        return Ok(None);
    }
    // `wr`: a WITHOUT ROWID table; `sql`: its CREATE TABLE, for the DESC check.
    let mut stmt = conn.prepare_cached(
        "SELECT l.wr, s.sql FROM pragma_table_list(?1) AS l \
         JOIN sqlite_schema AS s ON s.name = l.name AND s.type = 'table' WHERE l.schema = 'main'",
    )?;
    let mut rows = stmt.query([table])?;
    let Some(r) = rows.next()? else { return Ok(None) };
    let without_rowid: i64 = r.get(0)?;
    let sql: Option<String> = r.get(1)?;
    if without_rowid != 0 || sql.is_none_or(|s| says_word(&s, "desc")) {
        return Ok(None);
    }
    Ok(Some(name.clone()))
}

/// Whether `sql` holds `word` (lowercase ASCII; any case in `sql`) outside a longer word.
fn says_word(sql: &str, word: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let letter = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    lower.match_indices(word).any(|(i, _)| {
        let before = i.checked_sub(1).and_then(|j| bytes.get(j)).copied();
        let after = bytes.get(i + word.len()).copied();
        !before.is_some_and(letter) && !after.is_some_and(letter)
    })
}

/// Refuses a value SQLite would not give back: NaN (SQLite stores it as NULL) and times outside
/// the years 0 to 9999 (their text would neither sort nor read back). PostgreSQL stores both.
fn storable(v: &Value) -> Result<()> {
    use orm_core::__private::chrono::Datelike;
    let unsupported = |what: String| Err(Error::Unsupported { backend: "sqlite", what });
    let year = match v {
        Value::Float(f) if f.is_nan() => {
            return unsupported("NaN (SQLite would store it as NULL)".into());
        }
        Value::Timestamp(t) => t.year(),
        Value::DateTime(t) => t.year(),
        Value::Date(d) => d.year(),
        _ => return Ok(()),
    };
    if (0..=9999).contains(&year) {
        Ok(())
    } else {
        unsupported(format!(
            "the year {year}: SQLite stores times as text, which holds the years 0 to 9999"
        ))
    }
}

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, params: &[Value]) -> Result<()> {
    let expected = stmt.parameter_count();
    if params.len() != expected {
        return Err(Error::InvalidUse(format!(
            "the statement takes {expected} parameters, {} were given",
            params.len()
        )));
    }
    for (i, p) in params.iter().enumerate() {
        if matches!(p, Value::Default) {
            return Err(Error::InvalidUse(DEFAULT_NOT_BINDABLE.to_owned()));
        }
        storable(p)?;
        stmt.raw_bind_parameter(i + 1, Bind(p)).map_err(from_rusqlite)?;
    }
    Ok(())
}

impl SqliteConnection {
    /// What inserts need to know of `table`, read once.
    fn facts(&mut self, table: &str) -> Result<&TableFacts> {
        if !self.rowids.contains_key(table) {
            let found = table_facts(&self.conn, table).map_err(from_rusqlite)?;
            self.rowids.insert(table.to_owned(), found);
        }
        self.rowids
            .get(table)
            .ok_or_else(|| Error::InvalidUse(format!("{table}: schema facts not recorded")))
    }
}

impl Connection for SqliteConnection {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        if !self.rowids.is_empty() && may_change_schema(sql) {
            self.rowids.clear();
        }
        let mut stmt = self.conn.prepare_cached(sql).map_err(from_rusqlite)?;
        bind(&mut stmt, params)?;
        if stmt.column_count() == 0 {
            let n = stmt.raw_execute().map_err(from_rusqlite)?;
            return u64::try_from(n).map_err(|_| Error::InvalidUse("row count overflow".into()));
        }
        // A statement that returns rows (a PRAGMA, an INSERT ... RETURNING) run for its effect:
        // step it to the end.
        let readonly = stmt.readonly();
        let mut rows = stmt.raw_query();
        while rows.next().map_err(from_rusqlite)?.is_some() {}
        drop(rows);
        Ok(if readonly { 0 } else { self.conn.changes() })
    }

    fn query(&mut self, sql: &str, params: &[Value], each: &mut RowCallback<'_>) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(from_rusqlite)?;
        bind(&mut stmt, params)?;
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(from_rusqlite)? {
            each(&SqliteRow { row })?;
        }
        Ok(())
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        if !self.rowids.is_empty() && may_change_schema(sql) {
            self.rowids.clear();
        }
        self.conn.execute_batch(sql).map_err(from_rusqlite)
    }

    /// Reads the table's columns once per connection (`pragma_table_info`, `pragma_table_list`),
    /// then answers from memory.
    fn is_rowid(&mut self, table: &str, column: &str) -> Result<bool> {
        Ok(self.facts(table)?.rowid.as_deref() == Some(column))
    }

    /// Inside a transaction, on a rowid table no trigger is on: one more than the largest
    /// rowid the table holds, or (AUTOINCREMENT) ever held as `sqlite_sequence` records, which
    /// is the rowid SQLite's own algorithm gives the next row
    /// (<https://www.sqlite.org/autoinc.html>). One query (`max(rowid)` is a seek to the last
    /// row); the table's facts are read once per connection.
    fn next_rowid(&mut self, table: &str) -> Result<Option<i64>> {
        if self.conn.is_autocommit() {
            return Ok(None);
        }
        let facts = self.facts(table)?;
        if facts.rowid.is_none() || facts.triggers {
            return Ok(None);
        }
        let autoincrement = facts.autoincrement;
        let mut w = orm_core::dialect::SqlWriter::new();
        w.push("SELECT max(coalesce((SELECT max(rowid) FROM ");
        orm_core::Dialect::write_ident(&crate::dialect::DIALECT, &mut w, table);
        w.push("), 0), ");
        if autoincrement {
            w.push("coalesce((SELECT max(seq) FROM sqlite_sequence WHERE name = ?1), 0))");
        } else {
            w.push("0)");
        }
        let sql = w.finish()?.sql;
        let mut stmt = self.conn.prepare_cached(&sql).map_err(from_rusqlite)?;
        let largest: i64 = if autoincrement {
            stmt.query_row([table], |r| r.get(0))
        } else {
            stmt.query_row([], |r| r.get(0))
        }
        .map_err(from_rusqlite)?;
        Ok(largest.checked_add(1))
    }

    /// Prepares (or takes from the cache) the statement once, then binds and steps it per row.
    fn execute_each(
        &mut self,
        sql: &str,
        params: &[Value],
        (rows, width): (usize, usize),
        each: &mut RowRun<'_>,
        mut keep: EachRow<'_>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(from_rusqlite)?;
        for row in 0..rows {
            let values = params.get(row * width..(row + 1) * width).unwrap_or_default();
            let started = std::time::Instant::now();
            let r =
                bind(&mut stmt, values).and_then(|()| stmt.raw_execute().map_err(from_rusqlite));
            each(values, started.elapsed(), r.as_ref().err());
            let changed = r?;
            match &mut keep {
                EachRow::Nothing => {}
                EachRow::Rowid(ids) => ids.push(self.conn.last_insert_rowid()),
                EachRow::Changed(counts) => counts.push(u64::try_from(changed).unwrap_or(u64::MAX)),
            }
        }
        Ok(())
    }

    fn last_insert_rowid(&mut self) -> Option<i64> {
        Some(self.conn.last_insert_rowid())
    }

    /// Steps a cached `SELECT 1`: no parse, no allocation.
    fn is_valid(&mut self) -> bool {
        let Ok(mut stmt) = self.conn.prepare_cached("SELECT 1") else {
            return false;
        };
        let mut rows = stmt.raw_query();
        matches!(rows.next(), Ok(Some(_)))
    }
}

/// One row of a query, borrowed from rusqlite for the duration of the callback.
pub struct SqliteRow<'a, 'stmt> {
    row: &'a rusqlite::Row<'stmt>,
}

impl<'a, 'stmt> SqliteRow<'a, 'stmt> {
    /// Wraps a rusqlite row.
    pub fn new(row: &'a rusqlite::Row<'stmt>) -> Self {
        SqliteRow { row }
    }
}

impl Row for SqliteRow<'_, '_> {
    fn len(&self) -> usize {
        self.row.as_ref().column_count()
    }

    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        let column = || self.column_name(idx).map_or_else(|| format!("#{idx}"), str::to_owned);
        let Ok(v) = self.row.get_ref(idx) else {
            return Err(Error::Decode {
                column: column(),
                expected: "a column at this position",
                got: format!("a row of {} columns", self.len()),
            });
        };
        value_ref(v).map_err(|e| e.at(column()))
    }

    fn column_name(&self, idx: usize) -> Option<&str> {
        self.row.as_ref().column_name(idx).ok()
    }
}
