//! The session's connection and transaction: opening it (`BEGIN`, `BEGIN IMMEDIATE` on
//! SQLite), running statements in it, the savepoint guard around every write, an aborted
//! transaction's state, commit, rollback (with the undo log) and nested transactions.

use super::{CollectionKey, Session, SlotState, Undo};
use crate::connection::{Connection, Row};
use crate::engine::{Engine, PooledConnection};
use crate::error::{Error, Result};
use crate::model::{MapKey, Model};
use crate::value::Value;
use std::collections::HashSet;

/// The savepoint that guards a flush or a raw or bulk write inside an open transaction.
const GUARD_SAVEPOINT: &str = "orm_flush";

const TEST_SAVEPOINT: &str = "orm_test";

impl Drop for Session {
    fn drop(&mut self) {
        if self.in_tx {
            if let Some(conn) = self.conn.as_mut() {
                let _ = self.engine.run_batch(&mut **conn, self.engine.dialect().rollback_sql());
            }
        }
    }
}

/// A nested transaction (SAVEPOINT) started by [`Session::begin_nested`]. Derefs to the session.
/// Dropping it without `commit` rolls its work back.
pub struct Nested<'s> {
    session: &'s mut Session,
    name: String,
    /// The journal length when it began: its changes to the session's state are after it.
    mark: usize,
    /// The staging clock when it began: objects staged since are its own.
    since: usize,
    done: bool,
}

impl Nested<'_> {
    /// Flushes and releases the savepoint: the work joins the enclosing transaction.
    pub fn commit(mut self) -> Result<()> {
        self.session.flush()?;
        self.session.check_usable()?;
        let sql = self.session.engine.dialect().release_savepoint_sql(&self.name);
        self.session.batch(&sql)?;
        self.done = true;
        self.session.nested_depth -= 1;
        Ok(())
    }

    /// Rolls back to the savepoint: the database and the session forget this nested work.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.undo()
    }

    fn undo(&mut self) -> Result<()> {
        let s = &mut *self.session;
        s.discard_pending(self.since);
        let d = s.engine.dialect();
        let sql = format!(
            "{}; {}",
            d.rollback_to_savepoint_sql(&self.name),
            d.release_savepoint_sql(&self.name)
        );
        let depth = s.nested_depth;
        let r = s.batch(&sql);
        if r.is_ok() && s.aborted.as_ref().is_some_and(|(_, at)| *at >= depth) {
            // The savepoint was taken before the failure: rolling back to it heals the
            // transaction (as on PostgreSQL).
            s.aborted = None;
        }
        s.undo_journal(self.mark);
        s.nested_depth = s.nested_depth.saturating_sub(1);
        r
    }
}

impl std::ops::Deref for Nested<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        self.session
    }
}

impl std::ops::DerefMut for Nested<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        self.session
    }
}

impl Drop for Nested<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.undo() {
                tracing::warn!(target: "orm::session", "rolling back a nested transaction failed: {e}");
            }
        }
    }
}

impl Session {
    /// Fails with [`Error::TransactionAborted`] when an earlier statement of the open
    /// transaction failed.
    pub(super) fn check_usable(&self) -> Result<()> {
        match &self.aborted {
            Some((msg, _)) => Err(Error::TransactionAborted(msg.clone())),
            None => Ok(()),
        }
    }

    /// Records that a statement failed: outside a savepoint guard, inside a transaction, the
    /// transaction is done for (PostgreSQL says so; SQLite is held to the same rule).
    pub(super) fn note_failure(&mut self, e: &Error) {
        if self.in_tx && self.guarded == 0 && self.aborted.is_none() {
            self.aborted = Some((e.to_string(), self.nested_depth));
        }
    }

    /// A session whose work is never committed: it opens a transaction now, `commit` only marks
    /// a savepoint, and dropping it rolls everything back. For tests that share one database.
    pub fn new_test_session(engine: &Engine) -> Result<Session> {
        let mut s = Session::new(engine.clone());
        s.test_mode = true;
        s.ensure_tx()?;
        let sql = s.engine.dialect().savepoint_sql(TEST_SAVEPOINT);
        s.batch(&sql)?;
        Ok(s)
    }

    pub(super) fn conn_of<'a>(
        engine: &Engine,
        conn: &'a mut Option<PooledConnection>,
    ) -> Result<&'a mut dyn Connection> {
        if conn.is_none() {
            *conn = Some(engine.checkout()?);
        }
        match conn.as_mut() {
            Some(c) => Ok(&mut **c),
            None => Err(Error::connection("no connection")),
        }
    }

    /// Runs transaction control or DDL. A failure inside a transaction aborts it (see
    /// [`Error::TransactionAborted`]).
    pub(super) fn batch(&mut self, sql: &str) -> Result<()> {
        let r = {
            let conn = Self::conn_of(&self.engine, &mut self.conn)?;
            self.engine.run_batch(conn, sql)
        };
        if let Err(e) = &r {
            self.note_failure(e);
        }
        r
    }

    /// Returns the connection to the pool when no transaction needs it.
    pub(super) fn release_if_idle(&mut self) {
        if !self.in_tx {
            self.conn = None;
        }
    }

    pub(super) fn ensure_tx(&mut self) -> Result<()> {
        if !self.in_tx {
            let sql = self.engine.dialect().begin_sql();
            let r = self.batch(sql);
            if r.is_err() {
                self.release_if_idle();
            }
            r?;
            self.in_tx = true;
        }
        Ok(())
    }

    /// Flushes, then commits the transaction (if one is open). On error in the flush nothing of
    /// this flush is written and the pending work stays pending: fix it, `expunge` it, or
    /// `rollback`. Ok means committed; [`Error::CommitOutcomeUnknown`] means the connection
    /// died under the COMMIT.
    ///
    /// With no transaction open (nothing flushed since the last commit), a flush of a single
    /// statement (the INSERT or UPDATE of one object) is sent alone, without BEGIN and COMMIT:
    /// one statement outside a transaction is atomic, so it is the same commit in one round
    /// trip. Its failure is a failed flush as above; only a connection lost under it is
    /// [`Error::CommitOutcomeUnknown`], since the database may have committed it.
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # #[orm(table = "users")]
    /// # pub struct User {
    /// #     #[orm(primary_key)]
    /// #     pub id: i64,
    /// #     pub name: String,
    /// #     pub karma: i32,
    /// #     #[orm(has_many(foreign_key = author_id))]
    /// #     pub posts: Related<Vec<Post>>,
    /// # }
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # #[orm(table = "posts")]
    /// # pub struct Post {
    /// #     #[orm(primary_key)]
    /// #     pub id: i64,
    /// #     #[orm(references = User, on_delete = cascade)]
    /// #     pub author_id: i64,
    /// #     pub title: String,
    /// # }
    /// # fn main() -> orm::Result<()> {
    /// # let db = orm::testing::memory_database_with(&[User::TABLE, Post::TABLE])?;
    /// # let mut s = db.session();
    /// # s.add(User { name: "ann".into(), ..Default::default() });
    /// # s.add(User { name: "bob".into(), ..Default::default() });
    /// # s.commit()?;
    /// s.add(User { name: "cy".into(), ..Default::default() });
    /// let bad = s.add(Post { author_id: 99, title: "nobody's".into(), ..Default::default() });
    /// assert!(matches!(s.commit(), Err(Error::ForeignKeyViolation(_)))); // nothing was written
    /// s.expunge(bad); // take the bad object out, and the rest goes through
    /// s.commit()?;
    /// assert_eq!(s.query::<User>().count()?, 3);
    /// # Ok(()) }
    /// ```
    pub fn commit(&mut self) -> Result<()> {
        if self.nested_depth > 0 {
            return Err(Error::InvalidUse(
                "commit inside begin_nested(): commit or roll back the nested transaction first"
                    .into(),
            ));
        }
        // With no transaction open, a flush of one statement commits it by itself.
        let alone = !self.in_tx;
        self.flush_then_commit(alone)?;
        self.check_usable()?;
        if self.in_tx {
            if self.test_mode {
                let d = self.engine.dialect();
                let sql = format!(
                    "{}; {}",
                    d.release_savepoint_sql(TEST_SAVEPOINT),
                    d.savepoint_sql(TEST_SAVEPOINT)
                );
                self.batch(&sql)?;
            } else {
                let r = self.batch(self.engine.dialect().commit_sql());
                if let Err(e) = r {
                    // A server's answer (a deferred constraint, a serialization failure) means
                    // nothing was committed; a connection that died under the COMMIT leaves
                    // the outcome unknown.
                    let lost = self.conn.as_mut().is_some_and(|c| c.is_broken());
                    let _ = self.rollback();
                    return Err(if lost { Error::CommitOutcomeUnknown(e.to_string()) } else { e });
                }
                self.in_tx = false;
            }
        }
        self.journal.clear();
        self.end_map_transactions();
        self.release_if_idle();
        Ok(())
    }

    /// Discards pending work and rolls the transaction back: the database is as at the last
    /// commit, the identity map forgets what this transaction wrote, and objects inserted in it
    /// are detached. The session stays usable.
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # #[orm(table = "users")]
    /// # pub struct User {
    /// #     #[orm(primary_key)]
    /// #     pub id: i64,
    /// #     pub name: String,
    /// #     pub karma: i32,
    /// #     #[orm(has_many(foreign_key = author_id))]
    /// #     pub posts: Related<Vec<Post>>,
    /// # }
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # #[orm(table = "posts")]
    /// # pub struct Post {
    /// #     #[orm(primary_key)]
    /// #     pub id: i64,
    /// #     #[orm(references = User, on_delete = cascade)]
    /// #     pub author_id: i64,
    /// #     pub title: String,
    /// # }
    /// # fn main() -> orm::Result<()> {
    /// # let db = orm::testing::memory_database_with(&[User::TABLE, Post::TABLE])?;
    /// # let mut s = db.session();
    /// # s.add(User { name: "ann".into(), ..Default::default() });
    /// # s.add(User { name: "bob".into(), ..Default::default() });
    /// # s.commit()?;
    /// if let Some(ann) = s.get_mut::<User>(1)? {
    ///     ann.karma = 100;
    /// }
    /// s.flush()?; // written inside the transaction...
    /// s.rollback()?; // ...and undone, in the database and in the session
    /// assert_eq!(s.get::<User>(1)?.map(|u| u.karma), Some(0));
    /// # Ok(()) }
    /// ```
    pub fn rollback(&mut self) -> Result<()> {
        self.discard_pending(0);
        let mut result = Ok(());
        if self.in_tx {
            if self.test_mode {
                let sql = self.engine.dialect().rollback_to_savepoint_sql(TEST_SAVEPOINT);
                result = self.batch(&sql);
            } else {
                result = self.batch(self.engine.dialect().rollback_sql());
                self.in_tx = false;
            }
        }
        self.aborted = None;
        self.undo_journal(0);
        self.end_map_transactions();
        self.nested_depth = 0;
        self.release_if_idle();
        result
    }

    pub(super) fn discard_pending(&mut self, since: usize) {
        // Every pending object was staged since the last flush, so it is on `staged`.
        for &i in &self.staged {
            let Some(slot) = self.slots.get_mut(i).filter(|s| s.born >= since) else { continue };
            match slot.state {
                SlotState::PendingInsert => {
                    if let Some(o) = &slot.obj {
                        super::identity::forget_pending(&mut self.maps, &**o);
                    }
                    slot.state = SlotState::Detached;
                }
                SlotState::PendingUpdate => slot.state = SlotState::Persistent,
                _ => {}
            }
            slot.conflict = None;
        }
        self.deletes.retain(|d| d.born < since);
    }

    /// Records a collection snapshot written by a flush, so a rollback can restore the old one.
    pub(crate) fn set_collection(&mut self, key: CollectionKey, children: Vec<MapKey>) {
        let previous = self.collections.insert(key.clone(), children);
        self.journal.push(Undo::Collection(key, previous));
    }

    /// Undoes what the journal recorded after `to`, and gives the objects the session holds
    /// their rows' state again: after a rollback they show what the database holds, as
    /// SQLAlchemy's expire-on-rollback does (so no change of the rolled-back transaction is
    /// written later without being made again).
    pub(super) fn undo_journal(&mut self, to: usize) {
        // The held objects whose rows the undone entries restored; with those staged since
        // `to`, the only ones that can differ from their rows' state now.
        let mut touched: HashSet<usize> = HashSet::new();
        while self.journal.len() > to {
            match self.journal.pop() {
                Some(Undo::Map(model, n)) => {
                    if let Some(map) = self.maps.get_mut(&model) {
                        for _ in 0..n {
                            touched.extend(map.undo_last(&mut self.slots));
                        }
                    }
                }
                Some(Undo::Collection(key, Some(previous))) => {
                    self.collections.insert(key, previous);
                }
                Some(Undo::Collection(key, None)) => {
                    self.collections.remove(&key);
                }
                None => {}
            }
        }
        // Objects changed but not flushed since are on `staged` (a nested transaction begins
        // with a flush, which empties it); flushed ones are among `touched`. No other object
        // can differ from its row's state.
        touched.extend(self.staged.drain(..));
        for i in touched {
            let Some(slot) = self.slots.get_mut(i) else { continue };
            if matches!(slot.state, SlotState::Persistent | SlotState::PendingUpdate) {
                if let Some(obj) = slot.obj.as_deref_mut() {
                    let failed = super::identity::reset_to_snapshot(&self.maps, obj);
                    if !failed.is_empty() {
                        // Changed through it (`get_mut`), it fails to flush, saying why.
                        slot.conflict = Some(super::identity::unrestorable(obj, failed));
                    }
                }
            }
        }
    }

    /// Starts a nested transaction (a SAVEPOINT), flushing first. The returned guard derefs to
    /// the session; `commit()` it to keep its work, or drop it / `rollback()` it to undo exactly
    /// that work (database and session both).
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # #[orm(table = "users")]
    /// # pub struct User {
    /// #     #[orm(primary_key)]
    /// #     pub id: i64,
    /// #     pub name: String,
    /// #     pub karma: i32,
    /// #     #[orm(has_many(foreign_key = author_id))]
    /// #     pub posts: Related<Vec<Post>>,
    /// # }
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # #[orm(table = "posts")]
    /// # pub struct Post {
    /// #     #[orm(primary_key)]
    /// #     pub id: i64,
    /// #     #[orm(references = User, on_delete = cascade)]
    /// #     pub author_id: i64,
    /// #     pub title: String,
    /// # }
    /// # fn main() -> orm::Result<()> {
    /// # let db = orm::testing::memory_database_with(&[User::TABLE, Post::TABLE])?;
    /// # let mut s = db.session();
    /// # s.add(User { name: "ann".into(), ..Default::default() });
    /// # s.add(User { name: "bob".into(), ..Default::default() });
    /// # s.commit()?;
    /// s.add(User { name: "cy".into(), ..Default::default() });
    /// {
    ///     let mut nested = s.begin_nested()?; // cy is flushed first, outside the savepoint
    ///     nested.add(User { name: "dee".into(), ..Default::default() });
    ///     nested.flush()?;
    ///     nested.rollback()?; // only dee is undone
    /// }
    /// s.commit()?;
    /// assert_eq!(s.query::<User>().count()?, 3);
    /// # Ok(()) }
    /// ```
    pub fn begin_nested(&mut self) -> Result<Nested<'_>> {
        self.flush()?;
        self.check_usable()?;
        self.ensure_tx()?;
        self.nested_depth += 1;
        let name = format!("orm_nested_{}", self.nested_depth);
        let sql = self.engine.dialect().savepoint_sql(&name);
        if let Err(e) = self.batch(&sql) {
            self.nested_depth -= 1;
            return Err(e);
        }
        let mark = self.journal.len();
        let since = self.clock + 1;
        Ok(Nested { session: self, name, mark, since, done: false })
    }

    /// Runs `work` so that a failure in it changes nothing in the database and leaves the
    /// transaction usable, on every backend: under a savepoint when a transaction is already
    /// open (PostgreSQL would otherwise abort it), else in a new transaction that a failure
    /// rolls back. The one place writes are guarded.
    pub(super) fn guarded<T>(&mut self, work: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
        self.check_usable()?;
        let fresh_tx = !self.in_tx;
        self.ensure_tx()?;
        let dialect = self.engine.dialect();
        if !fresh_tx {
            self.batch(&dialect.savepoint_sql(GUARD_SAVEPOINT))?;
        }
        self.guarded += 1;
        let r = work(self);
        self.guarded -= 1;
        match r {
            Ok(v) => {
                if !fresh_tx {
                    self.batch(&dialect.release_savepoint_sql(GUARD_SAVEPOINT))?;
                }
                Ok(v)
            }
            Err(e) if fresh_tx => {
                let _ = self.batch(dialect.rollback_sql());
                self.in_tx = false;
                self.release_if_idle();
                Err(e)
            }
            Err(e) => {
                // A failed ROLLBACK TO marks the transaction aborted (in `batch`).
                let _ = self.batch(&format!(
                    "{}; {}",
                    dialect.rollback_to_savepoint_sql(GUARD_SAVEPOINT),
                    dialect.release_savepoint_sql(GUARD_SAVEPOINT)
                ));
                Err(e)
            }
        }
    }

    /// Runs a query and decodes each row with `decode`.
    pub(crate) fn fetch<T>(
        &mut self,
        sql: &str,
        params: &[Value],
        decode: &mut dyn FnMut(&dyn Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.read(sql, params, &mut |row| {
            out.push(decode(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs a query, handing each row to `each`. A failure of the statement inside a
    /// transaction aborts it ([`Error::TransactionAborted`] until rollback); a failure to decode
    /// a row is the caller's error alone and leaves the transaction as it was.
    pub(super) fn read(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        self.check_usable()?;
        let mut decode_error = None;
        let r = {
            let conn = Self::conn_of(&self.engine, &mut self.conn)?;
            self.engine.run_query(conn, sql, params, &mut |row: &dyn Row| {
                if decode_error.is_none() {
                    if let Err(e) = each(row) {
                        decode_error = Some(e);
                    }
                }
                Ok(())
            })
        };
        if let Err(e) = &r {
            self.note_failure(e);
        }
        self.release_if_idle();
        r?;
        decode_error.map_or(Ok(()), Err)
    }

    /// Runs a writing statement inside the session's transaction. A failing statement changes
    /// nothing and leaves the transaction usable, on every backend (see [`Session::guarded`]).
    pub(crate) fn write(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.autoflush()?;
        self.guarded(|s| {
            let conn = Self::conn_of(&s.engine, &mut s.conn)?;
            s.engine.run_execute(conn, sql, params)
        })
    }

    /// Runs a writing statement that returns rows of `M` (`UPDATE … RETURNING`), guarded like
    /// [`write`](Self::write): if it or the decoding of its rows fails, nothing is written.
    pub(crate) fn write_returning<M: Model>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<M>> {
        self.autoflush()?;
        self.guarded(|s| {
            let mut out = Vec::new();
            s.read(sql, params, &mut |row| {
                out.push(M::decode(row, 0)?);
                Ok(())
            })?;
            Ok(out)
        })
    }

    /// Runs a DDL statement in the session's transaction.
    pub fn execute_ddl(&mut self, sql: &str) -> Result<()> {
        self.check_usable()?;
        self.ensure_tx()?;
        self.batch(sql)
    }
}
