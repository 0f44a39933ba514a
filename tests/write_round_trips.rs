//! What a commit sends over the wire. With no transaction open, a commit whose flush is one
//! statement (the INSERT or UPDATE of one object) sends that statement alone, without BEGIN and
//! COMMIT: one statement outside a transaction is atomic. Everything else still runs in a
//! transaction. Each test counts the statements the engine sent (every one goes through it,
//! transaction control included) and checks the state the commit leaves, in the database and
//! in the session, against the cases that would tell the two ways apart: a failing insert, a
//! stale update, two statements, a commit inside an open transaction, a nested transaction.

#![allow(missing_docs)] // test models, not a public API

mod common;

use common::models::{Account, User};
use common::{backend_tests, Backend};
use orm::prelude::*;
use orm::testing::StatementLog;
use orm_postgres::test_server::TestCluster;

backend_tests! {
    a_one_row_insert_commits_in_one_statement,
    a_one_row_update_commits_in_one_statement,
    a_failing_single_insert_fails_the_commit_and_leaves_nothing,
    a_stale_single_update_is_stale_data_and_writes_nothing,
    a_stale_versioned_update_is_stale_data_and_writes_nothing,
    a_flush_of_two_statements_runs_in_one_transaction,
    two_rows_of_which_one_fails_leave_nothing,
    a_commit_after_a_read_in_an_open_transaction_commits_it,
    a_nested_transaction_keeps_its_savepoints,
    a_single_delete_still_runs_in_a_transaction,
    many_new_rows_each_get_the_key_of_their_own_row,
    a_failing_row_among_many_leaves_no_row_and_no_key,
    keys_after_deleted_last_rows_are_the_ones_the_database_gives,
}

/// Rows whose keys a test checks one by one against the database.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "tickets")]
pub struct Ticket {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(unique, max_length = 60)]
    pub label: String,
}

fn ticket(label: impl Into<String>) -> Ticket {
    Ticket { label: label.into(), ..Default::default() }
}

/// Every object's key names the row holding its label.
fn assert_keys_match(db: &Database, s: &Session, handles: &[Handle<Ticket>], what: &str) {
    let mut check = db.session();
    for h in handles {
        let t = &s[*h];
        assert!(t.id > 0, "{what}: {} has no key", t.label);
        let row = check.get::<Ticket>(t.id).expect("get").map(|r| r.label);
        assert_eq!(row.as_deref(), Some(t.label.as_str()), "{what}: key {} of {}", t.id, t.label);
    }
}

fn begin(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}

fn insert_user(backend: Backend) -> &'static str {
    match backend {
        // The key is SQLite's rowid, read with last_insert_rowid: no RETURNING.
        Backend::Sqlite => {
            r#"INSERT INTO "users" ("username", "email", "age") VALUES (?1, ?2, ?3)"#
        }
        Backend::Postgres => {
            r#"INSERT INTO "users" ("username", "email", "age") VALUES ($1, $2, $3) RETURNING "id""#
        }
    }
}

fn count_users(db: &Database) -> u64 {
    db.session().query::<User>().count().expect("count")
}

fn a_one_row_insert_commits_in_one_statement(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let log = StatementLog::attach(&db);
    let mut s = db.session();
    let h = s.add(User::new("ann"));
    s.commit().expect("commit");
    assert_eq!(log.statements(), [insert_user(backend)], "{backend}");
    assert!(!s.in_transaction(), "{backend}");
    // The generated key reached the object, and the identity map holds the row.
    assert_eq!(s[h].id, 1, "{backend}");
    log.clear();
    assert_eq!(s.get::<User>(1).expect("get").map(|u| u.username), Some("ann".into()));
    assert_eq!(log.statements(), Vec::<String>::new(), "{backend}: served by the identity map");
    // Committed: another session sees it.
    assert_eq!(db.session().get::<User>(1).expect("get"), Some(User { id: 1, ..User::new("ann") }));
    // A second one-row commit in the same session goes the same way, with its own key.
    log.clear();
    let h2 = s.add(User::new("bob"));
    s.commit().expect("commit");
    assert_eq!(log.statements(), [insert_user(backend)], "{backend}");
    assert_eq!(s[h2].id, 2, "{backend}");
    assert_eq!(count_users(&db), 2, "{backend}");
}

fn a_one_row_update_commits_in_one_statement(backend: Backend) {
    let db = backend.database(&[Account::TABLE]);
    let mut s = db.session();
    s.add(Account { owner: "ann".into(), balance: 10, version: 1, ..Default::default() });
    s.commit().expect("insert");
    let log = StatementLog::attach(&db);
    let mut acc = s.get::<Account>(1).expect("get").expect("row");
    acc.balance = 25;
    let h = s.add(acc);
    s.commit().expect("commit");
    let update = match backend {
        Backend::Sqlite => {
            r#"UPDATE "accounts" SET "balance" = ?1, "version" = ?2 WHERE "accounts"."id" = ?3 AND "accounts"."version" = ?4"#
        }
        Backend::Postgres => {
            r#"UPDATE "accounts" SET "balance" = $1, "version" = $2 WHERE "accounts"."id" = $3 AND "accounts"."version" = $4"#
        }
    };
    assert_eq!(log.statements(), [update], "{backend}");
    assert!(!s.in_transaction(), "{backend}");
    // The version was bumped in the object and the snapshot: a second change checks version 2.
    assert_eq!(s[h].version, 2, "{backend}");
    let row = db.session().get::<Account>(1).expect("get").expect("row");
    assert_eq!((row.balance, row.version), (25, 2), "{backend}");
    s[h].balance = 30;
    s.commit().expect("second update");
    let row = db.session().get::<Account>(1).expect("get").expect("row");
    assert_eq!((row.balance, row.version), (30, 3), "{backend}");
    // Nothing changed: nothing at all is sent.
    log.clear();
    let same = s.get::<Account>(1).expect("get").expect("row");
    s.add(same);
    s.commit().expect("no-op commit");
    assert_eq!(log.statements(), Vec::<String>::new(), "{backend}");
}

fn a_failing_single_insert_fails_the_commit_and_leaves_nothing(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let mut s = db.session();
    s.add(User::new("ann"));
    s.commit().expect("first");
    let log = StatementLog::attach(&db);
    let dup = s.add(User { email: "other@example.com".into(), ..User::new("ann") });
    let err = s.commit().expect_err("duplicate username");
    assert!(matches!(err, Error::UniqueViolation(_)), "{backend}: {err:?}");
    assert_eq!(log.statements(), [insert_user(backend)], "{backend}");
    // Nothing written, no key given, no transaction left open or aborted; the work is pending.
    assert_eq!(count_users(&db), 1, "{backend}");
    assert_eq!(s[dup].id, 0, "{backend}");
    assert!(!s.in_transaction(), "{backend}");
    assert!(s.has_pending(), "{backend}");
    // Fixed, the same object goes through.
    s[dup].username = "ann2".into();
    s.commit().expect("fixed");
    // (PostgreSQL's sequence gave the failed INSERT a number, which is not reused.)
    let id = s[dup].id;
    assert!(id > 1, "{backend}: {id}");
    let row = db.session().get::<User>(id).expect("get").map(|u| u.username);
    assert_eq!(row.as_deref(), Some("ann2"), "{backend}");
    assert_eq!(count_users(&db), 2, "{backend}");
    // Taken out instead, the rest goes through.
    let bad = s.add(User { email: "third@example.com".into(), ..User::new("ann") });
    assert!(matches!(s.commit(), Err(Error::UniqueViolation(_))), "{backend}");
    s.expunge(bad);
    s.add(User::new("cy"));
    s.commit().expect("after expunge");
    assert_eq!(count_users(&db), 3, "{backend}");
}

fn a_stale_single_update_is_stale_data_and_writes_nothing(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let mut s = db.session();
    s.add(User::new("ann"));
    s.commit().expect("insert");
    let mut ann = s.get::<User>(1).expect("get").expect("row");
    // Deleted behind the session's back.
    let mut other = db.session();
    other.delete_by_key::<User>(1).expect("delete");
    other.commit().expect("other commit");
    drop(other);
    let log = StatementLog::attach(&db);
    ann.age = Some(40);
    s.add(ann);
    let err = s.commit().expect_err("stale");
    assert!(matches!(err, Error::StaleData(_)), "{backend}: {err:?}");
    assert_eq!(log.queries().len(), 1, "{backend}: {:?}", log.statements());
    assert!(!s.in_transaction(), "{backend}");
    assert_eq!(count_users(&db), 0, "{backend}");
    s.rollback().expect("rollback");
    assert!(!s.has_pending(), "{backend}");
}

fn a_stale_versioned_update_is_stale_data_and_writes_nothing(backend: Backend) {
    let db = backend.database(&[Account::TABLE]);
    let mut s = db.session();
    s.add(Account { owner: "ann".into(), balance: 10, version: 1, ..Default::default() });
    s.commit().expect("insert");
    let mut mine = s.get::<Account>(1).expect("get").expect("row");
    // Another writer changes the row first (version 1 -> 2).
    let mut other = db.session();
    let mut theirs = other.get::<Account>(1).expect("get").expect("row");
    theirs.balance = 99;
    other.add(theirs);
    other.commit().expect("other commit");
    drop(other);
    let log = StatementLog::attach(&db);
    mine.balance = 11;
    let h = s.add(mine);
    let err = s.commit().expect_err("stale");
    assert!(matches!(err, Error::StaleData(_)), "{backend}: {err:?}");
    assert_eq!(log.statements().len(), 1, "{backend}: {:?}", log.statements());
    // The object keeps the version it read; the database keeps the other writer's change.
    assert_eq!((s[h].balance, s[h].version), (11, 1), "{backend}");
    let row = db.session().get::<Account>(1).expect("get").expect("row");
    assert_eq!((row.balance, row.version), (99, 2), "{backend}");
    // Still stale on a second try: the conflict is not forgotten.
    assert!(matches!(s.commit(), Err(Error::StaleData(_))), "{backend}");
    s.rollback().expect("rollback");
}

fn a_flush_of_two_statements_runs_in_one_transaction(backend: Backend) {
    let db = backend.database(&[User::TABLE, Account::TABLE]);
    let log = StatementLog::attach(&db);
    let mut s = db.session();
    s.add(User::new("ann"));
    s.add(Account { owner: "ann".into(), balance: 1, version: 1, ..Default::default() });
    s.commit().expect("commit");
    let stmts = log.statements();
    assert_eq!(stmts.len(), 4, "{backend}: {stmts:?}");
    assert_eq!(stmts.first().map(String::as_str), Some(begin(backend)), "{backend}: {stmts:?}");
    assert_eq!(stmts.last().map(String::as_str), Some("COMMIT"), "{backend}: {stmts:?}");
    // Two rows of one table: one statement on PostgreSQL, two on SQLite, one transaction.
    log.clear();
    s.add(User::new("bob"));
    s.add(User::new("cy"));
    s.commit().expect("commit");
    let stmts = log.statements();
    assert_eq!(stmts.first().map(String::as_str), Some(begin(backend)), "{backend}: {stmts:?}");
    assert_eq!(stmts.last().map(String::as_str), Some("COMMIT"), "{backend}: {stmts:?}");
    assert_eq!(count_users(&db), 3, "{backend}");
}

fn two_rows_of_which_one_fails_leave_nothing(backend: Backend) {
    let db = backend.database(&[User::TABLE, Account::TABLE]);
    let mut s = db.session();
    s.add(User::new("ann"));
    s.commit().expect("first");
    // The account's INSERT runs and succeeds; the user's then fails: neither stays.
    let acc = s.add(Account { owner: "zed".into(), balance: 1, version: 1, ..Default::default() });
    s.add(User { email: "other@example.com".into(), ..User::new("ann") });
    assert!(matches!(s.commit(), Err(Error::UniqueViolation(_))), "{backend}");
    assert_eq!(s[acc].id, 0, "{backend}");
    assert_eq!(db.session().query::<Account>().count().expect("count"), 0, "{backend}");
    assert_eq!(count_users(&db), 1, "{backend}");
}

fn a_commit_after_a_read_in_an_open_transaction_commits_it(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let log = StatementLog::attach(&db);
    let mut s = db.session();
    s.add(User::new("ann"));
    s.flush().expect("flush"); // opens the transaction
    assert!(s.in_transaction(), "{backend}");
    let seen = s.query::<User>().count().expect("read in the transaction");
    assert_eq!(seen, 1, "{backend}");
    s.add(User::new("bob"));
    s.commit().expect("commit");
    let stmts = log.statements();
    assert_eq!(stmts.first().map(String::as_str), Some(begin(backend)), "{backend}: {stmts:?}");
    assert_eq!(stmts.last().map(String::as_str), Some("COMMIT"), "{backend}: {stmts:?}");
    assert_eq!(stmts.iter().filter(|q| q.starts_with("INSERT")).count(), 2, "{backend}");
    assert!(!s.in_transaction(), "{backend}");
    assert_eq!(count_users(&db), 2, "{backend}");

    // A flushed row and a rollback: the rollback still undoes the flushed row.
    let mut s = db.session();
    s.add(User::new("cy"));
    s.flush().expect("flush");
    assert_eq!(s.query::<User>().count().expect("read"), 3, "{backend}");
    s.rollback().expect("rollback");
    assert_eq!(count_users(&db), 2, "{backend}");

    // A read outside a transaction, then a one-row commit: alone, and it sees the read's row.
    let mut s = db.session();
    let mut ann = s.query::<User>().filter(User::username.eq("ann")).one().expect("read");
    log.clear();
    ann.age = Some(7);
    s.add(ann);
    s.commit().expect("commit");
    assert_eq!(log.statements().len(), 1, "{backend}: {:?}", log.statements());
    assert_eq!(db.session().get::<User>(1).expect("get").and_then(|u| u.age), Some(7));
}

fn a_nested_transaction_keeps_its_savepoints(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let log = StatementLog::attach(&db);
    let mut s = db.session();
    {
        let mut nested = s.begin_nested().expect("nested");
        nested.add(User::new("ann"));
        nested.commit().expect("release");
    }
    {
        let mut nested = s.begin_nested().expect("nested");
        nested.add(User::new("bob"));
        nested.flush().expect("flush");
        nested.rollback().expect("rollback to savepoint");
    }
    s.commit().expect("commit");
    let stmts = log.statements();
    assert_eq!(stmts.first().map(String::as_str), Some(begin(backend)), "{backend}: {stmts:?}");
    assert_eq!(stmts.last().map(String::as_str), Some("COMMIT"), "{backend}: {stmts:?}");
    assert!(stmts.iter().any(|q| q.starts_with("SAVEPOINT")), "{backend}: {stmts:?}");
    let names: Vec<String> =
        db.session().query::<User>().all().expect("all").into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["ann"], "{backend}");
}

fn a_single_delete_still_runs_in_a_transaction(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    let mut s = db.session();
    s.add(User::new("ann"));
    s.commit().expect("insert");
    let log = StatementLog::attach(&db);
    s.delete_by_key::<User>(1).expect("delete");
    s.commit().expect("commit");
    let stmts = log.statements();
    assert_eq!(stmts.first().map(String::as_str), Some(begin(backend)), "{backend}: {stmts:?}");
    assert_eq!(stmts.last().map(String::as_str), Some("COMMIT"), "{backend}: {stmts:?}");
    assert_eq!(count_users(&db), 0, "{backend}");
}

/// A one-statement commit on a connection the server closed while it was idle (a restart): the
/// statement went out without BEGIN, so nothing can say it did not commit. The answer is
/// CommitOutcomeUnknown, as for a COMMIT that lost its connection; here nothing was written,
/// the session is rolled back locally and works again on a new connection.
#[test]
fn a_single_statement_commit_on_a_dead_connection_says_the_outcome_is_unknown() {
    let cluster = TestCluster::start_new().expect("a PostgreSQL cluster of its own");
    let url = format!("{}?pool_size=1&max_overflow=0", cluster.url());
    let db = Database::connect(&url).expect("connect");
    db.create_tables(&[User::TABLE]).expect("tables");
    let mut s = db.session();
    s.add(User::new("ann"));
    s.commit().expect("first commit");
    cluster.restart().expect("restart");
    s.add(User::new("bob"));
    let err = s.commit().expect_err("dead connection");
    assert!(matches!(err, Error::CommitOutcomeUnknown(_)), "{err:?}");
    assert!(!s.has_pending(), "rolled back locally");
    assert!(!s.in_transaction());
    assert_eq!(count_users(&db), 1, "bob was not written");
    s.add(User::new("cy"));
    s.commit().expect("the session works again");
    assert_eq!(count_users(&db), 2);
}

/// SQLite's multi-row INSERT of [`Ticket`]s: `rows` rows of (key, label).
fn sqlite_ticket_values(rows: usize) -> String {
    let values: Vec<String> =
        (0..rows).map(|r| format!("(?{}, ?{})", 2 * r + 1, 2 * r + 2)).collect();
    format!(r#"INSERT INTO "tickets" ("id", "label") VALUES {}"#, values.join(", "))
}

const SQLITE_TICKET_ROW: &str = r#"INSERT INTO "tickets" ("label") VALUES (?1)"#;

fn many_new_rows_each_get_the_key_of_their_own_row(backend: Backend) {
    let db = backend.database(&[Ticket::TABLE]);
    let mut s = db.session();
    // Rows already there, so keys do not start at 1.
    s.add_all((0..3).map(|i| ticket(format!("old {i}"))));
    s.commit().expect("first rows");
    let log = StatementLog::attach(&db);
    // Labels in an order unrelated to insertion, so a mix-up of keys shows.
    let handles: Vec<_> =
        (0..70).map(|i| s.add(ticket(format!("new {}", (i * 37) % 70)))).collect();
    s.commit().expect("commit");
    let sent = log.statements();
    assert_keys_match(&db, &s, &handles, backend.name());
    let keys: Vec<i64> = handles.iter().map(|h| s[*h].id).collect();
    assert_eq!(keys, (4..74).collect::<Vec<i64>>(), "{backend}: the keys one by one would get");
    if backend == Backend::Sqlite {
        // Two statements of 32 rows giving their keys, then the rest row by row.
        let mut expected = vec!["BEGIN IMMEDIATE".to_owned()];
        expected.extend([sqlite_ticket_values(32), sqlite_ticket_values(32)]);
        expected.extend(std::iter::repeat_n(SQLITE_TICKET_ROW.to_owned(), 6));
        expected.push("COMMIT".to_owned());
        assert_eq!(sent, expected);
    }
    // The identity map holds every new row: no SELECT for any of them.
    log.clear();
    for (i, k) in keys.iter().enumerate() {
        let t = s.get::<Ticket>(*k).expect("get").expect("row");
        assert_eq!(t.label, format!("new {}", (i * 37) % 70), "{backend}");
    }
    assert_eq!(log.statements(), Vec::<String>::new(), "{backend}");
}

fn a_failing_row_among_many_leaves_no_row_and_no_key(backend: Backend) {
    let db = backend.database(&[Ticket::TABLE]);
    let mut s = db.session();
    s.add(ticket("t 35"));
    s.commit().expect("the row the batch collides with");
    // The duplicate is in the second statement of 32 rows: the first one already ran.
    let handles: Vec<_> = (0..70).map(|i| s.add(ticket(format!("t {i}")))).collect();
    let err = s.commit().expect_err("t 35 exists");
    assert!(matches!(err, Error::UniqueViolation(_)), "{backend}: {err:?}");
    for h in &handles {
        assert_eq!(s[*h].id, 0, "{backend}: {} kept a key of a row never stored", s[*h].label);
    }
    s.rollback().expect("rollback");
    assert_eq!(db.session().query::<Ticket>().count().expect("count"), 1, "{backend}");
    let mut s = db.session();
    let handles: Vec<_> =
        (0..70).filter(|&i| i != 35).map(|i| s.add(ticket(format!("t {i}")))).collect();
    s.commit().expect("without the duplicate");
    assert_keys_match(&db, &s, &handles, backend.name());
    assert_eq!(db.session().query::<Ticket>().count().expect("count"), 70, "{backend}");
}

fn keys_after_deleted_last_rows_are_the_ones_the_database_gives(backend: Backend) {
    let db = backend.database(&[Ticket::TABLE]);
    let mut s = db.session();
    s.add_all((0..40).map(|i| ticket(format!("a {i}"))));
    s.commit().expect("first batch");
    s.query::<Ticket>().filter(Ticket::id.gt(30)).delete().expect("delete the last ten");
    s.commit().expect("delete");
    let handles: Vec<_> = (0..40).map(|i| s.add(ticket(format!("b {i}")))).collect();
    s.commit().expect("second batch");
    assert_keys_match(&db, &s, &handles, backend.name());
    // A rowid table without AUTOINCREMENT reuses the keys above the largest left (SQLite
    // gives one more than the largest); a sequence does not (PostgreSQL).
    let first = match backend {
        Backend::Sqlite => 31,
        Backend::Postgres => 41,
    };
    let keys: Vec<i64> = handles.iter().map(|h| s[*h].id).collect();
    assert_eq!(keys, (first..first + 40).collect::<Vec<i64>>(), "{backend}");
}

/// A SQLite database whose `tickets` table is written by hand (AUTOINCREMENT, triggers).
fn sqlite_tickets(ddl: &[&str]) -> Database {
    let db = Database::connect("sqlite::memory:").expect("connect");
    let mut s = db.session();
    for stmt in ddl {
        s.sql(stmt).execute().expect("ddl");
    }
    s.commit().expect("ddl");
    db
}

/// AUTOINCREMENT: a key is never given twice, even after every row was deleted; the keys the
/// flush gives follow `sqlite_sequence`, as SQLite's own would.
#[test]
fn sqlite_autoincrement_keys_are_never_reused() {
    let db =
        sqlite_tickets(&["CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, \
         label VARCHAR(60) NOT NULL UNIQUE)"]);
    let mut s = db.session();
    s.add_all((0..40).map(|i| ticket(format!("a {i}"))));
    s.commit().expect("first batch");
    s.query::<Ticket>().delete().expect("delete every row");
    s.commit().expect("delete");
    let log = StatementLog::attach(&db);
    let handles: Vec<_> = (0..40).map(|i| s.add(ticket(format!("b {i}")))).collect();
    s.commit().expect("second batch");
    assert_eq!(log.statements().get(1), Some(&sqlite_ticket_values(32)));
    assert_keys_match(&db, &s, &handles, "autoincrement");
    let keys: Vec<i64> = handles.iter().map(|h| s[*h].id).collect();
    assert_eq!(keys, (41..81).collect::<Vec<i64>>());
    // And SQLite's own next key agrees: the sequence was moved on.
    let (seq,): (i64,) =
        s.sql("SELECT seq FROM sqlite_sequence WHERE name = 'tickets'").one().expect("seq");
    assert_eq!(seq, 80);
}

/// A trigger that inserts into the same table takes keys in between: the flush then goes row
/// by row (each key read back), also when the trigger is created after the table was written
/// to through the same connection.
#[test]
fn sqlite_a_trigger_on_the_table_makes_the_flush_go_row_by_row() {
    let db = sqlite_tickets(&[
        "CREATE TABLE tickets (id INTEGER PRIMARY KEY, label VARCHAR(60) NOT NULL UNIQUE)",
    ]);
    let mut s = db.session();
    let before: Vec<_> = (0..40).map(|i| s.add(ticket(format!("a {i}")))).collect();
    s.commit().expect("before the trigger");
    assert_keys_match(&db, &s, &before, "before the trigger");
    s.sql(
        "CREATE TRIGGER shadow AFTER INSERT ON tickets WHEN NEW.label NOT LIKE 'shadow%' \
         BEGIN INSERT INTO tickets (label) VALUES ('shadow of ' || NEW.label); END",
    )
    .execute()
    .expect("trigger");
    s.commit().expect("ddl");
    let log = StatementLog::attach(&db);
    let handles: Vec<_> = (0..40).map(|i| s.add(ticket(format!("b {i}")))).collect();
    s.commit().expect("with the trigger");
    let inserts: Vec<String> =
        log.statements().into_iter().filter(|q| q.starts_with("INSERT")).collect();
    assert_eq!(inserts, vec![SQLITE_TICKET_ROW.to_owned(); 40]);
    assert_keys_match(&db, &s, &handles, "with the trigger");
    // Each row's shadow took the key after it.
    let keys: Vec<i64> = handles.iter().map(|h| s[*h].id).collect();
    assert_eq!(keys, (0..40).map(|i| 41 + 2 * i).collect::<Vec<i64>>());
}
