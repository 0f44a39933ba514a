//! The [`Engine`]: a pool of connections to one database, its dialect, statement echo and
//! listeners. Cheap to clone and shared across threads; sessions check connections out of it.
//! (The `orm` facade wraps it as `Database`, which adds `connect(url)` for the enabled backends.)

use crate::connection::{Connection, Connector, EachRow, PoolConfig, RowCallback, RowRun};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::value::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// One statement as it ran: what `echo` logs and listeners receive.
#[derive(Debug)]
pub struct StatementEvent<'a> {
    /// The SQL text.
    pub sql: &'a str,
    /// The bound parameters.
    pub params: &'a [Value],
    /// How long it took.
    pub elapsed: Duration,
    /// The error it ended with, if any.
    pub error: Option<&'a Error>,
}

/// A callback receiving every statement an engine runs.
pub type StatementListener = Arc<dyn Fn(&StatementEvent<'_>) + Send + Sync>;

/// What the pool's connections share: the generation a broken connection ends.
#[derive(Debug, Default)]
struct PoolHealth {
    /// Bumped when a statement fails on a connection that turns out to be dead: every
    /// connection opened before (a lower generation) is replaced before its next use, since a
    /// server restart or failover kills them all.
    generation: AtomicU64,
    /// The error of the last attempt to open a connection, until one opens: a checkout that
    /// times out while it is set failed for this reason, not because every connection was busy.
    last_connect_error: Mutex<Option<Arc<Error>>>,
}

impl PoolHealth {
    fn record_connect(&self, outcome: Option<Arc<Error>>) {
        if let Ok(mut last) = self.last_connect_error.lock() {
            *last = outcome;
        }
    }

    fn last_connect_error(&self) -> Option<Arc<Error>> {
        self.last_connect_error.lock().ok().and_then(|last| last.clone())
    }
}

/// A connection of the pool: the backend's, with the generation it was opened in.
pub(crate) struct Pooled {
    conn: Box<dyn Connection>,
    generation: u64,
    health: Arc<PoolHealth>,
}

impl Pooled {
    /// Passes `r` on; when it is an error and the connection turns out to be dead, ends the
    /// generation the connection belongs to (once, however many of its peers fail after it).
    fn watch<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() && self.conn.is_broken() {
            let _ = self.health.generation.compare_exchange(
                self.generation,
                self.generation + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
        r
    }

    fn is_stale(&self) -> bool {
        self.generation < self.health.generation.load(Ordering::Acquire)
    }
}

impl Connection for Pooled {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let r = self.conn.execute(sql, params);
        self.watch(r)
    }

    fn query(&mut self, sql: &str, params: &[Value], each: &mut RowCallback<'_>) -> Result<()> {
        let r = self.conn.query(sql, params, each);
        self.watch(r)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        let r = self.conn.execute_batch(sql);
        self.watch(r)
    }

    fn is_rowid(&mut self, table: &str, column: &str) -> Result<bool> {
        let r = self.conn.is_rowid(table, column);
        self.watch(r)
    }

    fn last_insert_rowid(&mut self) -> Option<i64> {
        self.conn.last_insert_rowid()
    }

    fn next_rowid(&mut self, table: &str) -> Result<Option<i64>> {
        let r = self.conn.next_rowid(table);
        self.watch(r)
    }

    fn execute_each(
        &mut self,
        sql: &str,
        params: &[Value],
        shape: (usize, usize),
        each: &mut RowRun<'_>,
        keep: EachRow<'_>,
    ) -> Result<()> {
        let r = self.conn.execute_each(sql, params, shape, each, keep);
        self.watch(r)
    }

    fn is_valid(&mut self) -> bool {
        self.conn.is_valid()
    }

    fn is_broken(&mut self) -> bool {
        self.conn.is_broken()
    }
}

pub(crate) struct Manager {
    connector: Box<dyn Connector>,
    health: Arc<PoolHealth>,
    pre_ping: bool,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = Error;

    fn connect(&self) -> Result<Pooled> {
        // The generation before connecting: a failure seen while this one opens ends it.
        let generation = self.health.generation.load(Ordering::Acquire);
        match self.connector.connect() {
            Ok(conn) => {
                self.health.record_connect(None);
                Ok(Pooled { conn, generation, health: self.health.clone() })
            }
            Err(e) => {
                // r2d2 only logs this one; checkouts read the kept one.
                let message = e.to_string();
                self.health.record_connect(Some(Arc::new(e)));
                Err(Error::connection(message))
            }
        }
    }

    /// On checkout: a connection of an ended generation is replaced, and with
    /// `pool_pre_ping` every connection must answer a round trip.
    fn is_valid(&self, conn: &mut Pooled) -> Result<()> {
        if conn.is_stale() || conn.conn.is_broken() {
            return Err(Error::connection("connection closed while idle in the pool"));
        }
        if self.pre_ping && !conn.conn.is_valid() {
            return Err(Error::connection("connection failed its pre-ping"));
        }
        Ok(())
    }

    /// On return: a dead connection is dropped, not pooled.
    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.is_stale() || conn.conn.is_broken()
    }
}

pub(crate) type PooledConnection = r2d2::PooledConnection<Manager>;

/// How an [`Engine`] is set up, beyond what its connector says.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Log every statement at INFO (target `orm::sql`) instead of DEBUG, like `SQLALCHEMY_ECHO`.
    pub echo: bool,
    /// Pool settings overriding the connector's.
    pub pool: Option<PoolConfig>,
}

/// What a fixed-shape statement is: its table, kind and column set.
pub(crate) type SqlCacheKey = (&'static str, u8, crate::model::ColumnMask);

struct Inner {
    /// SQL of fixed shapes (insert, update by key, get, select all), rendered once per model.
    sql_cache: RwLock<crate::fast::Map<SqlCacheKey, Arc<str>>>,
    pool: r2d2::Pool<Manager>,
    health: Arc<PoolHealth>,
    dialect: &'static dyn Dialect,
    /// The backend's migration dialect, opaque (see [`Connector::migrations`]).
    migrations: Option<&'static (dyn std::any::Any + Send + Sync)>,
    echo: bool,
    listeners: RwLock<Vec<(u64, StatementListener)>>,
    /// Whether `listeners` holds any (read without the lock, for every statement).
    listening: std::sync::atomic::AtomicBool,
    next_listener: std::sync::atomic::AtomicU64,
}

/// A pool of connections to one database. `Clone + Send + Sync`: clone it into every thread.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("dialect", &self.inner.dialect.name())
            .field("echo", &self.inner.echo)
            .finish()
    }
}

impl Engine {
    /// An engine over `connector`. Opens one connection at once, so a bad path or server is an
    /// error here rather than at the first query.
    pub fn new(connector: Box<dyn Connector>, options: EngineOptions) -> Result<Engine> {
        let dialect = connector.dialect();
        let migrations = connector.migrations();
        let pool_config = options.pool.clone().unwrap_or_else(|| connector.pool_config());
        pool_config.validate()?;
        connector.check_pool_config(&pool_config)?;
        // Open the first connection ourselves so its own error (not a pool timeout) is reported.
        let first = connector.connect()?;
        let health = Arc::<PoolHealth>::default();
        let pool = r2d2::Pool::builder()
            .max_size(pool_config.max_size)
            .min_idle(Some(0))
            .connection_timeout(pool_config.timeout)
            // A cheap check (no round trip) unless `pre_ping` asks for one.
            .test_on_check_out(true)
            // Connections are closed behind the user's back only when asked: an in-memory
            // SQLite database lives exactly as long as its one connection (and its connector
            // refuses both settings).
            .idle_timeout(pool_config.idle_timeout)
            .max_lifetime(pool_config.recycle)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(Manager {
                connector,
                health: health.clone(),
                pre_ping: pool_config.pre_ping,
            });
        drop(first);
        Ok(Engine {
            inner: Arc::new(Inner {
                sql_cache: RwLock::default(),
                pool,
                health,
                dialect,
                migrations,
                echo: options.echo,
                listeners: RwLock::new(Vec::new()),
                listening: std::sync::atomic::AtomicBool::new(false),
                next_listener: std::sync::atomic::AtomicU64::new(1),
            }),
        })
    }

    /// The dialect of this engine's backend.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.inner.dialect
    }

    /// The backend's migration dialect, opaque: read it with
    /// `orm_core::migrate::migration_dialect`. Not a public API.
    #[doc(hidden)]
    pub fn migrations(&self) -> Option<&'static (dyn std::any::Any + Send + Sync)> {
        self.inner.migrations
    }

    /// Runs one statement (no parameters) on a connection of its own in autocommit, outside any
    /// transaction: for the statements a transaction refuses, such as `VACUUM`,
    /// `CREATE DATABASE`, `CREATE INDEX CONCURRENTLY` or `ALTER SYSTEM`. It takes effect at once;
    /// no session's transaction sees or undoes it. Give one statement per call: PostgreSQL runs
    /// several sent together as one implicit transaction.
    pub fn execute_autocommit(&self, sql: &str) -> Result<()> {
        let mut conn = self.checkout()?;
        self.run_batch(&mut *conn, sql)
    }

    /// Calls `listener` for every statement run through this engine (and its clones) until
    /// [`Engine::remove_listener`] is called with the returned id.
    pub fn add_listener(&self, listener: StatementListener) -> u64 {
        let id = self.inner.next_listener.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut l) = self.inner.listeners.write() {
            l.push((id, listener));
            self.inner.listening.store(true, std::sync::atomic::Ordering::Release);
        }
        id
    }

    /// Stops calling a listener.
    pub fn remove_listener(&self, id: u64) {
        if let Ok(mut l) = self.inner.listeners.write() {
            l.retain(|(i, _)| *i != id);
            self.inner.listening.store(!l.is_empty(), std::sync::atomic::Ordering::Release);
        }
    }

    /// The SQL for `key`, rendered by `render` the first time it is asked for. Not generic
    /// (`render` is a `dyn Fn`): one copy, whatever the caller and model.
    pub(crate) fn cached_sql(
        &self,
        key: SqlCacheKey,
        render: &dyn Fn() -> Result<String>,
    ) -> Result<Arc<str>> {
        if let Some(sql) = self.cached(&key) {
            return Ok(sql);
        }
        Ok(self.cache_sql(key, render()?))
    }

    /// The cached SQL for `key`, if any.
    pub(crate) fn cached(&self, key: &SqlCacheKey) -> Option<Arc<str>> {
        self.inner.sql_cache.read().ok().and_then(|c| c.get(key).cloned())
    }

    /// Caches `sql` for `key` (keeping what another thread cached first) and returns it.
    pub(crate) fn cache_sql(&self, key: SqlCacheKey, sql: String) -> Arc<str> {
        let sql: Arc<str> = Arc::from(sql);
        if let Ok(mut c) = self.inner.sql_cache.write() {
            c.entry(key).or_insert_with(|| sql.clone());
        }
        sql
    }

    pub(crate) fn checkout(&self) -> Result<PooledConnection> {
        // r2d2 fails a checkout only when its timeout passes: because every connection was
        // busy, or because none could be opened (then the connector's error is kept).
        self.inner.pool.get().map_err(|_| match self.inner.health.last_connect_error() {
            Some(cause) => {
                let message = match cause.as_ref() {
                    Error::Connection { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                Error::connection_caused_by(message, cause)
            }
            None => Error::PoolTimeout { waited: self.inner.pool.connection_timeout() },
        })
    }

    /// When a statement starts: `None` when nothing would see its time (no echo, no listener,
    /// no `tracing` subscriber taking `orm::sql` at DEBUG), so that a statement nobody observes
    /// reads no clock.
    fn start(&self) -> Option<Instant> {
        let observed = self.inner.echo
            || self.inner.listening.load(std::sync::atomic::Ordering::Acquire)
            || tracing::enabled!(target: "orm::sql", tracing::Level::DEBUG);
        observed.then(Instant::now)
    }

    fn observe(
        &self,
        sql: &str,
        params: &[Value],
        started: Option<Instant>,
        error: Option<&Error>,
    ) {
        if let Some(started) = started {
            self.observe_elapsed(sql, params, started.elapsed(), error);
        }
    }

    fn observe_elapsed(
        &self,
        sql: &str,
        params: &[Value],
        elapsed: std::time::Duration,
        error: Option<&Error>,
    ) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if self.inner.echo {
            tracing::info!(target: "orm::sql", elapsed_us = micros, params = ?params, "{sql}");
        } else {
            tracing::debug!(target: "orm::sql", elapsed_us = micros, params = ?params, "{sql}");
        }
        if let Ok(listeners) = self.inner.listeners.read() {
            if !listeners.is_empty() {
                let ev = StatementEvent { sql, params, elapsed, error };
                for (_, l) in listeners.iter() {
                    l(&ev);
                }
            }
        }
    }

    /// Forgets cached SQL that depends on the tables' column types
    /// ([`Dialect::insert_many`] casts to them) when `sql` may change the schema
    /// ([`may_change_schema`](crate::connection::may_change_schema)).
    fn forget_types_on_ddl(&self, sql: &str) {
        if crate::connection::may_change_schema(sql) {
            if let Ok(mut c) = self.inner.sql_cache.write() {
                c.clear();
            }
        }
    }

    pub(crate) fn run_execute(
        &self,
        conn: &mut dyn Connection,
        sql: &str,
        params: &[Value],
    ) -> Result<u64> {
        self.forget_types_on_ddl(sql);
        let started = self.start();
        let r = conn.execute(sql, params);
        self.observe(sql, params, started, r.as_ref().err());
        r
    }

    /// [`Connection::execute_each`], each row logged as a statement of its own.
    pub(crate) fn run_each(
        &self,
        conn: &mut dyn Connection,
        sql: &str,
        params: &[Value],
        shape: (usize, usize),
        keep: EachRow<'_>,
    ) -> Result<()> {
        conn.execute_each(
            sql,
            params,
            shape,
            &mut |row, elapsed, error| self.observe_elapsed(sql, row, elapsed, error),
            keep,
        )
    }

    pub(crate) fn run_batch(&self, conn: &mut dyn Connection, sql: &str) -> Result<()> {
        self.forget_types_on_ddl(sql);
        let started = self.start();
        let r = conn.execute_batch(sql);
        self.observe(sql, &[], started, r.as_ref().err());
        r
    }

    pub(crate) fn run_query(
        &self,
        conn: &mut dyn Connection,
        sql: &str,
        params: &[Value],
        each: &mut RowCallback<'_>,
    ) -> Result<()> {
        let started = self.start();
        let r = conn.query(sql, params, each);
        self.observe(sql, params, started, r.as_ref().err());
        r
    }
}
