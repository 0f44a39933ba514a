//! A randomized model-based test of the unit of work: two sessions interleave reads, changes
//! through stale copies and through `get_mut`, bulk updates, deletes, savepoints, rollbacks and
//! commits over a few rows. After every step the database must equal what a simple in-memory
//! model of the committed intent says: no lost update, no stray write. Each session's answers
//! must match the model of what that session knows (one state per identity).
//!
//! `ORM_MODEL_CASES` sets the number of cases per backend (2,000 by default; more by hand).

mod common;

use common::models::User;
use orm::prelude::*;
use orm::Error;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::{BTreeMap, HashMap};

const ROWS: i64 = 3;

#[derive(Debug, Clone, Copy)]
enum Field {
    Age,
    Name,
}

#[derive(Debug, Clone)]
enum Op {
    /// `get`: the row as the session knows it; the copy is kept for later.
    Read { s: usize, id: i64 },
    /// Change one field of a kept copy (perhaps stale), `add` it, commit.
    EditCopy { s: usize, copy: usize, field: Field, v: u8 },
    /// Change one field through `get_mut`, commit.
    EditHeld { s: usize, id: i64, field: Field, v: u8 },
    /// Bulk `UPDATE users SET age = ?` (one row or all), commit.
    Bulk { s: usize, id: Option<i64>, v: u8 },
    /// `delete_by_key`, commit.
    Delete { s: usize, id: i64 },
    /// A change inside `begin_nested`, kept or rolled back, then commit.
    Nested { s: usize, id: i64, field: Field, v: u8, keep: bool },
    /// A change flushed, then the whole transaction rolled back.
    RolledBack { s: usize, id: i64, field: Field, v: u8 },
    /// `populate_existing()` over all rows.
    Populate { s: usize },
    /// A plain query of all rows; the copies are kept.
    ReadAll { s: usize },
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![Just(Field::Age), Just(Field::Name)]
}

fn op() -> impl Strategy<Value = Op> {
    let s = 0..2usize;
    let id = 1..=ROWS;
    prop_oneof![
        3 => (s.clone(), id.clone()).prop_map(|(s, id)| Op::Read { s, id }),
        4 => (s.clone(), 0..8usize, field(), 0..3u8)
            .prop_map(|(s, copy, field, v)| Op::EditCopy { s, copy, field, v }),
        3 => (s.clone(), id.clone(), field(), 0..3u8)
            .prop_map(|(s, id, field, v)| Op::EditHeld { s, id, field, v }),
        2 => (s.clone(), proptest::option::of(id.clone()), 0..3u8)
            .prop_map(|(s, id, v)| Op::Bulk { s, id, v }),
        1 => (s.clone(), id.clone()).prop_map(|(s, id)| Op::Delete { s, id }),
        2 => (s.clone(), id.clone(), field(), 0..3u8, any::<bool>())
            .prop_map(|(s, id, field, v, keep)| Op::Nested { s, id, field, v, keep }),
        1 => (s.clone(), id.clone(), field(), 0..3u8)
            .prop_map(|(s, id, field, v)| Op::RolledBack { s, id, field, v }),
        1 => s.clone().prop_map(|s| Op::Populate { s }),
        2 => s.prop_map(|s| Op::ReadAll { s }),
    ]
}

fn age(v: u8) -> Option<i32> {
    [None, Some(1), Some(2)][usize::from(v % 3)]
}

fn name(id: i64, v: u8) -> String {
    format!("u{id}_{v}")
}

fn get(u: &User, f: Field) -> (Option<i32>, String) {
    match f {
        Field::Age => (u.age, String::new()),
        Field::Name => (None, u.username.clone()),
    }
}

fn set(u: &mut User, f: Field, id: i64, v: u8) {
    match f {
        Field::Age => u.age = age(v),
        Field::Name => u.username = name(id, v),
    }
}

/// The committed rows, and what each session knows.
struct Model {
    db: BTreeMap<i64, User>,
    view: [HashMap<i64, User>; 2],
    copies: [Vec<User>; 2],
    /// Rows in which a bulk update or refresh of the session replaced values behind its copies.
    replaced: [std::collections::HashSet<i64>; 2],
}

impl Model {
    /// A session wrote or deleted `id`: its older copies of the row are no longer what it
    /// would write (two live copies of one row in one session is outside the rules).
    fn forget_copies(&mut self, s: usize, id: i64) {
        self.copies[s].retain(|c| c.id != id);
    }
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if cond {
        Ok(())
    } else {
        Err(TestCaseError::fail(what()))
    }
}

fn unexpected(e: impl std::fmt::Debug) -> TestCaseError {
    TestCaseError::fail(format!("{e:?}"))
}

/// `Ok(true)` when the session committed, `Ok(false)` when it said `StaleData` (and was rolled
/// back), and only when `stale_allowed`.
fn committed(
    s: &mut Session,
    r: orm::Result<()>,
    stale_allowed: bool,
) -> Result<bool, TestCaseError> {
    match r {
        Ok(()) => Ok(true),
        Err(Error::StaleData(msg)) => {
            s.rollback().map_err(unexpected)?;
            check(stale_allowed, || format!("StaleData where none was due: {msg}"))?;
            Ok(false)
        }
        Err(e) => Err(unexpected(e)),
    }
}

fn run_case(db: &Database, ops: &[Op]) -> Result<(), TestCaseError> {
    {
        let mut s = db.session();
        s.sql("DELETE FROM users").execute().map_err(unexpected)?;
        for id in 1..=ROWS {
            s.add(User { id, username: format!("u{id}"), email: format!("e{id}"), age: None });
        }
        s.commit().map_err(unexpected)?;
    }
    let mut m = Model {
        db: (1..=ROWS)
            .map(|id| {
                (id, User { id, username: format!("u{id}"), email: format!("e{id}"), age: None })
            })
            .collect(),
        view: [HashMap::new(), HashMap::new()],
        copies: [Vec::new(), Vec::new()],
        replaced: Default::default(),
    };
    let mut sessions = [db.session(), db.session()];
    for (step, op) in ops.iter().enumerate() {
        apply(&mut sessions, &mut m, op)
            .map_err(|e| TestCaseError::fail(format!("step {step} {op:?}: {e}")))?;
        // The database equals the committed intent.
        let rows: Vec<User> = db
            .session()
            .query::<User>()
            .order_by(User::id.asc())
            .untracked()
            .all()
            .map_err(unexpected)?;
        let expected: Vec<User> = m.db.values().cloned().collect();
        check(rows == expected, || {
            format!("after step {step} {op:?}: database {rows:?}, model {expected:?}")
        })?;
    }
    Ok(())
}

fn apply(sessions: &mut [Session; 2], m: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    match *op {
        Op::Read { s, id } => {
            let got = sessions[s].get::<User>(id).map_err(unexpected)?;
            let want = m.view[s].get(&id).or_else(|| m.db.get(&id)).cloned();
            check(got == want, || format!("get gave {got:?}, the session's state is {want:?}"))?;
            if let Some(u) = got {
                m.view[s].insert(id, u.clone());
                m.copies[s].push(u);
            }
        }
        Op::EditCopy { s, copy, field, v } => {
            if m.copies[s].is_empty() {
                return Ok(());
            }
            let orig = m.copies[s].remove(copy % m.copies[s].len());
            let id = orig.id;
            let Some(view) = m.view[s].get(&id).cloned() else {
                return Err(TestCaseError::fail("a copy of a row the session does not know"));
            };
            let mut changed = orig.clone();
            set(&mut changed, field, id, v);
            let user_changed = get(&orig, field) != get(&changed, field);
            let intended = user_changed && get(&view, field) != get(&changed, field);
            let row_gone = !m.db.contains_key(&id);
            // A copy that differs from the session's state in a row whose values a bulk update
            // or refresh replaced may be ambiguous (stale, or changed back): StaleData may come.
            let ambiguous = changed != view && m.replaced[s].contains(&id);
            sessions[s].add(changed.clone());
            let r = sessions[s].commit();
            if committed(&mut sessions[s], r, (intended && row_gone) || ambiguous)? {
                check(!(intended && row_gone), || "an UPDATE of a deleted row said Ok".into())?;
                if intended {
                    set(m.db.get_mut(&id).expect("row"), field, id, v);
                    set(m.view[s].get_mut(&id).expect("view"), field, id, v);
                }
            }
            m.forget_copies(s, id);
        }
        Op::EditHeld { s, id, field, v } | Op::Nested { s, id, field, v, keep: true } => {
            let nested = matches!(op, Op::Nested { .. });
            let known = m.view[s].get(&id).or_else(|| m.db.get(&id)).cloned();
            let session = &mut sessions[s];
            let r = if nested {
                let mut n = session.begin_nested().map_err(unexpected)?;
                if let Some(u) = n.get_mut::<User>(id).map_err(unexpected)? {
                    set(u, field, id, v);
                }
                n.commit()
            } else {
                if let Some(u) = session.get_mut::<User>(id).map_err(unexpected)? {
                    set(u, field, id, v);
                }
                Ok(())
            };
            let r = r.and_then(|()| session.commit());
            let Some(view) = known else { return committed(session, r, false).map(|_| ()) };
            m.view[s].insert(id, view.clone());
            let mut changed = view.clone();
            set(&mut changed, field, id, v);
            let intended = get(&view, field) != get(&changed, field);
            let row_gone = !m.db.contains_key(&id);
            if committed(session, r, intended && row_gone)? {
                check(!(intended && row_gone), || "an UPDATE of a deleted row said Ok".into())?;
                if intended {
                    set(m.db.get_mut(&id).expect("row"), field, id, v);
                    m.view[s].insert(id, changed);
                }
            }
            m.forget_copies(s, id);
        }
        Op::Nested { s, id, field, v, keep: false } => {
            let session = &mut sessions[s];
            {
                let mut n = session.begin_nested().map_err(unexpected)?;
                if let Some(u) = n.get_mut::<User>(id).map_err(unexpected)? {
                    set(u, field, id, v);
                }
                n.rollback().map_err(unexpected)?;
            }
            session.commit().map_err(unexpected)?;
            if let Some(u) = m.view[s].get(&id).or_else(|| m.db.get(&id)).cloned() {
                m.view[s].insert(id, u);
            }
        }
        Op::RolledBack { s, id, field, v } => {
            let session = &mut sessions[s];
            if let Some(u) = session.get_mut::<User>(id).map_err(unexpected)? {
                set(u, field, id, v);
            }
            match session.flush() {
                Ok(()) | Err(Error::StaleData(_)) => {}
                Err(e) => return Err(unexpected(e)),
            }
            session.rollback().map_err(unexpected)?;
            if let Some(u) = m.view[s].get(&id).or_else(|| m.db.get(&id)).cloned() {
                m.view[s].insert(id, u);
            }
            let after = sessions[s].get::<User>(id).map_err(unexpected)?;
            let want = m.view[s].get(&id).cloned();
            check(after == want, || {
                format!("after rollback the session has {after:?}, not {want:?}")
            })?;
        }
        Op::Bulk { s, id, v } => {
            let session = &mut sessions[s];
            let q = session.query::<User>();
            let q = match id {
                Some(id) => q.filter(User::id.eq(id)),
                None => q,
            };
            let n = q.update([User::age.set(age(v))]).map_err(unexpected)?;
            session.commit().map_err(unexpected)?;
            let hit: Vec<i64> =
                m.db.keys().copied().filter(|k| id.is_none_or(|i| i == *k)).collect();
            check(n == hit.len() as u64, || {
                format!("bulk update said {n} rows, {} matched", hit.len())
            })?;
            for k in hit {
                m.db.get_mut(&k).expect("row").age = age(v);
                if let Some(u) = m.view[s].get_mut(&k) {
                    if u.age != age(v) {
                        m.replaced[s].insert(k);
                    }
                    u.age = age(v);
                }
            }
        }
        Op::Delete { s, id } => {
            let session = &mut sessions[s];
            session.delete_by_key::<User>(id).map_err(unexpected)?;
            session.commit().map_err(unexpected)?;
            m.db.remove(&id);
            m.view[s].remove(&id);
            m.forget_copies(s, id);
        }
        Op::Populate { s } => {
            let rows = sessions[s]
                .query::<User>()
                .order_by(User::id.asc())
                .populate_existing()
                .all()
                .map_err(unexpected)?;
            let want: Vec<User> = m.db.values().cloned().collect();
            check(rows == want, || {
                format!("populate_existing gave {rows:?}, the database has {want:?}")
            })?;
            for u in rows {
                if m.view[s].get(&u.id).is_some_and(|v| *v != u) {
                    m.replaced[s].insert(u.id);
                }
                m.view[s].insert(u.id, u);
            }
        }
        Op::ReadAll { s } => {
            let rows =
                sessions[s].query::<User>().order_by(User::id.asc()).all().map_err(unexpected)?;
            let want: Vec<User> =
                m.db.values()
                    .map(|u| m.view[s].get(&u.id).cloned().unwrap_or_else(|| u.clone()))
                    .collect();
            check(rows == want, || {
                format!("a query gave {rows:?}, the session's state is {want:?}")
            })?;
            for u in rows {
                m.view[s].insert(u.id, u.clone());
                m.copies[s].push(u);
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("ORM_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

fn run_on(db: &Database) {
    let mut runner =
        TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    let result = runner.run(&proptest::collection::vec(op(), 1..14), |ops| run_case(db, &ops));
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn two_sessions_never_lose_an_update_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("orm-uow-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/model.db?synchronous=off", dir.display());
    let db = Database::connect(&url).expect("SQLite file database");
    db.create_tables(&[User::TABLE]).expect("tables");
    run_on(&db);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_sessions_never_lose_an_update_on_postgresql() {
    let db = orm::testing::postgres_database_with(&[User::TABLE])
        .unwrap_or_else(|e| panic!("PostgreSQL test database: {e}"));
    run_on(&db);
}
