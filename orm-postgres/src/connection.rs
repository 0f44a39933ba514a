//! [`PgConnection`]: the core's [`Connection`] over a `postgres::Client`, and [`PgRow`], the
//! core's [`Row`] over a `postgres::Row`.
//!
//! Every statement is prepared once per connection and kept in a bounded cache
//! ([`STATEMENT_CACHE_CAPACITY`]), together with the way each of its columns is read, so the
//! fixed statements the ORM renders once per model are parsed and planned once per connection.
//! A query's rows are streamed (`Client::query_raw`): each is handed to the callback as it
//! arrives, with its scalar values borrowed from the driver's buffers, and dropped before the
//! next, so a read holds what the callback keeps plus one row, never the whole result twice
//! (100,000 rows: 14 MB more at the peak instead of 45 MB). Only arrays and `numeric` values are
//! decoded into an owned cache, reused from row to row. The price is the driver entering its
//! runtime once per row (about 1,300 more instructions per row than one call that collects every
//! row). When the callback fails, the rest of the rows are read and dropped undecoded: a failure
//! of the statement itself further on (after which PostgreSQL has aborted the transaction, and a
//! COMMIT would roll back without an error) is returned instead of the callback's error, and the
//! connection is ready for the next statement. A statement run for its effect is one call
//! (`Client::execute`, which discards any rows and returns the count).
//!
//! Schema changes make cached statements stale (PostgreSQL refuses a prepared `SELECT *` whose
//! result columns changed), so DDL clears the cache: a DDL statement run through
//! [`Connection::execute`] or [`Connection::query`] is not cached and empties the cache, and so
//! does any [`Connection::execute_batch`] other than transaction control. A statement that fails
//! in a way that says it is stale (its result type changed, a name it uses is gone) is dropped
//! from the cache, so the next use prepares it afresh.

use crate::error::from_postgres;
use crate::runtime::{self, Where};
use crate::value::{Bind, Decoder, RawValue};
use orm_core::connection::RowCallback;
use orm_core::value::DEFAULT_NOT_BINDABLE;
use orm_core::{Connection, Error, Result, Row, Value, ValueRef};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::Statement;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::time::Duration;

/// How many prepared statements each connection keeps: room for the fixed statements (get,
/// insert, update by key, delete, select all) of 100 models, and then some.
pub const STATEMENT_CACHE_CAPACITY: usize = 256;

/// A prepared statement and how to read each of its columns.
struct Prepared {
    stmt: Statement,
    decoders: Box<[Decoder]>,
    /// Whether some column is decoded into the per-row cache.
    cached_columns: bool,
}

impl Prepared {
    fn new(stmt: Statement) -> Self {
        let decoders: Box<[Decoder]> =
            stmt.columns().iter().map(|c| Decoder::for_type(c.type_())).collect();
        let cached_columns = decoders.iter().any(|d| d.is_cached());
        Prepared { stmt, decoders, cached_columns }
    }
}

/// A connection to one PostgreSQL database.
///
/// Usable from any thread, also one that drives a tokio runtime: every call into the driver
/// (each statement, each row read, the close when the connection is dropped) is made where it
/// may block, so none panics there (see the crate's "Async runtimes").
pub struct PgConnection {
    /// `None` only once the connection was dropped or unwrapped ([`PgConnection::into_raw`]).
    client: Option<postgres::Client>,
    cache: HashMap<String, Prepared>,
}

/// Closes the client where closing cannot panic (the driver blocks on a runtime of its own to
/// close it, which tokio refuses on a thread driving a runtime).
impl Drop for PgConnection {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            runtime::close(client);
        }
    }
}

impl std::fmt::Debug for PgConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConnection")
            .field("closed", &self.client.as_ref().is_none_or(postgres::Client::is_closed))
            .field("cached_statements", &self.cache.len())
            .finish()
    }
}

impl PgConnection {
    /// Wraps a connected client as it is (the connector configures it; see
    /// [`PgConnector`](crate::PgConnector)).
    pub fn new(client: postgres::Client) -> Self {
        PgConnection { client: Some(client), cache: HashMap::new() }
    }

    /// The `postgres` client, for what the ORM does not cover. Statements it prepares do not
    /// enter this connection's cache; after DDL run through it, call
    /// [`clear_statement_cache`](Self::clear_statement_cache). Its calls are the driver's own:
    /// they panic on a thread that drives a tokio runtime, so from async code make them inside
    /// `tokio::task::spawn_blocking`. (An error only if the client was taken, which safe code
    /// cannot observe.)
    pub fn raw(&mut self) -> Result<&mut postgres::Client> {
        self.client.as_mut().ok_or_else(closed)
    }

    /// The `postgres` client, unwrapped (the same caveat as [`raw`](Self::raw); dropping it
    /// on a thread that drives a tokio runtime panics in the driver).
    pub fn into_raw(mut self) -> Result<postgres::Client> {
        self.client.take().ok_or_else(closed)
    }

    /// How many prepared statements are cached.
    pub fn cached_statements(&self) -> usize {
        self.cache.len()
    }

    /// Forgets every cached prepared statement (they are closed on the server).
    pub fn clear_statement_cache(&mut self) {
        self.cache.clear();
    }

    /// Runs `sql` and calls `each` for each row (without `each`, for its effect only); `Ok(rows
    /// affected)`, or 0 when `each` is given.
    fn run(
        &mut self,
        sql: &str,
        params: &[Value],
        each: Option<&mut RowCallback<'_>>,
    ) -> Result<u64> {
        let PgConnection { client, cache } = self;
        let client = client.as_mut().ok_or_else(closed)?;
        if is_ddl(sql) {
            // Not cached: it changes what cached statements mean.
            cache.clear();
            let stmt = runtime::call(|| client.prepare(sql))?.map_err(from_postgres)?;
            let p = Prepared::new(stmt);
            return run_prepared(client, &p, params, each);
        }
        if !cache.contains_key(sql) {
            let stmt = runtime::call(|| client.prepare(sql))?.map_err(from_postgres)?;
            if cache.len() >= STATEMENT_CACHE_CAPACITY {
                // Any entry will do: the fixed statements the ORM uses come back at once.
                if let Some(k) = cache.keys().next().cloned() {
                    cache.remove(&k);
                }
            }
            cache.insert(sql.to_owned(), Prepared::new(stmt));
        }
        let Some(p) = cache.get(sql) else {
            return Err(Error::InvalidUse("prepared statement missing from the cache".into()));
        };
        let r = run_prepared(client, p, params, each);
        if matches!(&r, Err(e) if may_be_stale(e)) {
            cache.remove(sql);
        }
        r
    }
}

/// The error for a connection whose client was taken (dropped, or unwrapped).
fn closed() -> Error {
    Error::InvalidUse("the PostgreSQL connection was closed".into())
}

/// Whether an error may come from a prepared statement that no longer fits the schema: its
/// result type changed (`0A000`), something it names is gone or changed (class `42`), or the
/// server forgot it (`26000`, e.g. after `DISCARD ALL`). A constraint violation, a refused bind
/// or a serialization failure leaves the statement as good as it was.
fn may_be_stale(e: &Error) -> bool {
    match e {
        Error::Database { code: Some(c), .. } => {
            c == "0A000" || c == "26000" || c.starts_with("42")
        }
        _ => false,
    }
}

fn run_prepared(
    client: &mut postgres::Client,
    p: &Prepared,
    params: &[Value],
    each: Option<&mut RowCallback<'_>>,
) -> Result<u64> {
    let expected = p.stmt.params().len();
    if params.len() != expected {
        return Err(Error::InvalidUse(format!(
            "the statement takes {expected} parameters, {} were given",
            params.len()
        )));
    }
    if params.iter().any(|v| matches!(v, Value::Default)) {
        return Err(Error::InvalidUse(DEFAULT_NOT_BINDABLE.to_owned()));
    }
    let binds: Vec<Bind<'_>> =
        params.iter().enumerate().map(|(i, v)| Bind::new(v, i + 1)).collect();
    let Some(each) = each else {
        let refs: Vec<&(dyn ToSql + Sync)> =
            binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
        return runtime::call(|| client.execute(&p.stmt, &refs))?.map_err(from_postgres);
    };
    // The callback is the caller's and need not be `Send`: it runs on this thread, with the
    // rows read here or, where the driver cannot block on this thread, on a helper thread.
    match Where::current() {
        Where::Here => stream(client, p, &binds, each),
        Where::BlockInPlace => tokio::task::block_in_place(|| stream(client, p, &binds, each)),
        Where::HelperThread => stream_from_helper(client, p, &binds, each),
    }
}

/// The parameters as the driver takes them.
fn bind_refs<'b>(
    binds: &'b [Bind<'_>],
) -> impl ExactSizeIterator<Item = &'b (dyn ToSql + Sync)> + 'b {
    binds.iter().map(|b| b as &(dyn ToSql + Sync))
}

/// The per-row cache of decoded values, when some column needs one.
fn row_cache(p: &Prepared) -> Vec<OnceCell<Value>> {
    let mut cache: Vec<OnceCell<Value>> = Vec::new();
    if p.cached_columns {
        cache.resize_with(p.decoders.len(), OnceCell::new);
    }
    cache
}

/// Runs the query on this thread, handing each row to `each` as it arrives.
fn stream(
    client: &mut postgres::Client,
    p: &Prepared,
    binds: &[Bind<'_>],
    each: &mut RowCallback<'_>,
) -> Result<u64> {
    let mut rows = client.query_raw(&p.stmt, bind_refs(binds)).map_err(from_postgres)?;
    let mut cache = row_cache(p);
    // One row at a time: each is dropped once the callback has read it.
    while let Some(row) = rows.next().map_err(from_postgres)? {
        if let Err(e) = each(&PgRow { row: &row, decoders: &p.decoders, cache: &cache }) {
            drop(row);
            return Err(drain(rows).err().unwrap_or(e));
        }
        for cell in &mut cache {
            cell.take();
        }
    }
    Ok(0)
}

/// How many rows a helper thread reads ahead of the callback ([`stream_from_helper`]).
const ROWS_AHEAD: usize = 64;

/// Runs the query on a helper thread, which sends each row over a bounded channel to this
/// thread, where `each` reads it: the same rows, errors and memory bound as [`stream`]. After
/// the callback fails, the rest of the rows are received and dropped undecoded, and a failure
/// of the statement itself further on wins, as in [`drain`].
fn stream_from_helper(
    client: &mut postgres::Client,
    p: &Prepared,
    binds: &[Bind<'_>],
    each: &mut RowCallback<'_>,
) -> Result<u64> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<postgres::Row>(ROWS_AHEAD);
    let stmt = &p.stmt;
    std::thread::scope(|scope| {
        let reader = runtime::helper()
            .spawn_scoped(scope, move || -> std::result::Result<(), postgres::Error> {
                let mut rows = client.query_raw(stmt, bind_refs(binds))?;
                while let Some(row) = rows.next()? {
                    // The receiver stays until every row is sent (or this thread is done).
                    if sender.send(row).is_err() {
                        break;
                    }
                }
                Ok(())
            })
            .map_err(runtime::cannot_start)?;
        let mut cache = row_cache(p);
        let mut failed = None;
        for row in receiver.iter() {
            if failed.is_none() {
                if let Err(e) = each(&PgRow { row: &row, decoders: &p.decoders, cache: &cache }) {
                    failed = Some(e);
                }
                for cell in &mut cache {
                    cell.take();
                }
            }
        }
        match reader.join() {
            Ok(Ok(())) => failed.map_or(Ok(0), Err),
            Ok(Err(e)) => Err(from_postgres(e)),
            Err(_) => Err(Error::connection("the PostgreSQL driver panicked")),
        }
    })
}

/// Reads the rest of a statement's rows without decoding them, after the callback failed: a
/// failure of the statement itself further on (which aborts the transaction on the server, so
/// a later COMMIT would roll back without an error) is then reported instead of the callback's
/// error. Dropping the iterator unread would leave the connection usable too (the driver
/// discards what is left), but would lose that failure.
fn drain(mut rows: postgres::RowIter<'_>) -> Result<()> {
    while rows.next().map_err(from_postgres)?.is_some() {}
    Ok(())
}

/// Whether `sql` is a statement that changes the schema (so it must not be cached and makes
/// the cached statements stale).
fn is_ddl(sql: &str) -> bool {
    let word = first_word(sql);
    ["CREATE", "ALTER", "DROP", "TRUNCATE", "COMMENT", "DO", "GRANT", "REVOKE", "REINDEX", "IMPORT"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

/// Whether every statement of a batch is transaction control, which leaves cached statements
/// valid (the session's BEGIN, COMMIT and SAVEPOINT batches).
fn is_transaction_control(sql: &str) -> bool {
    sql.split(';').map(first_word).filter(|w| !w.is_empty()).all(|w| {
        [
            "BEGIN",
            "START",
            "COMMIT",
            "END",
            "ROLLBACK",
            "ABORT",
            "SAVEPOINT",
            "RELEASE",
            "SET",
            "SELECT",
        ]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
    })
}

fn first_word(sql: &str) -> &str {
    let s = sql.trim_start();
    let end = s.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(s.len());
    &s[..end]
}

impl Connection for PgConnection {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.run(sql, params, None)
    }

    fn query(&mut self, sql: &str, params: &[Value], each: &mut RowCallback<'_>) -> Result<()> {
        self.run(sql, params, Some(each)).map(|_| ())
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        if !is_transaction_control(sql) {
            self.cache.clear();
        }
        let client = self.client.as_mut().ok_or_else(closed)?;
        runtime::call(|| client.batch_execute(sql))?.map_err(from_postgres)
    }

    /// Not closed, and answers an empty query within 5 seconds.
    fn is_valid(&mut self) -> bool {
        let Some(client) = self.client.as_mut() else {
            return false;
        };
        !client.is_closed()
            && runtime::call(|| client.is_valid(Duration::from_secs(5))).is_ok_and(|r| r.is_ok())
    }

    /// The driver saw the connection close (a statement failed on it).
    fn is_broken(&mut self) -> bool {
        self.client.as_ref().is_none_or(postgres::Client::is_closed)
    }
}

/// One row of a query, borrowed from the driver for the duration of the callback.
pub struct PgRow<'a> {
    row: &'a postgres::Row,
    decoders: &'a [Decoder],
    cache: &'a [OnceCell<Value>],
}

impl PgRow<'_> {
    fn column(&self, idx: usize) -> String {
        self.column_name(idx).map_or_else(|| format!("#{idx}"), str::to_owned)
    }
}

impl Row for PgRow<'_> {
    fn len(&self) -> usize {
        self.row.len()
    }

    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        let (Some(&decoder), Some(column)) = (self.decoders.get(idx), self.row.columns().get(idx))
        else {
            return Err(Error::Decode {
                column: format!("#{idx}"),
                expected: "a column at this position",
                got: format!("a row of {} columns", self.len()),
            });
        };
        let raw = self.row.try_get::<_, RawValue<'_>>(idx).map_err(|e| Error::Decode {
            column: self.column(idx),
            expected: "a column value",
            got: e.to_string(),
        })?;
        let Some(raw) = raw.0 else {
            return Ok(ValueRef::Null);
        };
        let ty = column.type_();
        if !decoder.is_cached() {
            if decoder == Decoder::Unsupported {
                return Err(decoder.unsupported(ty).at(self.column(idx)));
            }
            return decoder.decode(ty, raw).map_err(|e| e.at(self.column(idx)));
        }
        let Some(cell) = self.cache.get(idx) else {
            return Err(Error::InvalidUse("row cache missing for a cached column".into()));
        };
        if cell.get().is_none() {
            let v = decoder.decode_owned(ty, raw).map_err(|e| e.at(self.column(idx)))?;
            let _ = cell.set(v);
        }
        cell.get()
            .and_then(Value::as_value_ref)
            .ok_or_else(|| Error::InvalidUse("row cache holds no readable value".into()))
    }

    fn column_name(&self, idx: usize) -> Option<&str> {
        self.row.columns().get(idx).map(|c| c.name())
    }
}
