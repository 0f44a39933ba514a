//! The unit of work's promises, each tested with the case that would break it, on every
//! backend: a commit says Ok only when the database committed; a value the user set reaches the
//! database; a column nobody changed is never written, whatever happened since the copy was
//! read (another session's commit, a re-read, a bulk update); one state per identity.

mod common;

use common::models::*;
use common::{backends, take};
use orm::prelude::*;
use orm::testing::StatementLog;
use orm::Error;

fn tables() -> Vec<&'static orm::TableSchema> {
    all_tables()
}

fn count_users(db: &Database) -> u64 {
    db.session().query::<User>().count().unwrap()
}

// ----- commit means committed ------------------------------------------------------------------

#[test]
fn commit_after_a_failed_statement_in_the_transaction_is_an_error_not_a_silent_rollback() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        s.add(User::new("tata"));
        s.flush().unwrap(); // the row is written inside the open transaction
        let failed = s.sql("SELECT nope FROM no_such_table").all::<(i64,)>();
        assert!(failed.is_err(), "{name}");
        // Handled by the caller; the transaction is still not committable.
        match s.commit() {
            Err(Error::TransactionAborted(msg)) => {
                assert!(msg.contains("no_such_table"), "{name}: {msg}")
            }
            other => panic!("{name}: commit after a failed statement gave {other:?}"),
        }
        assert!(matches!(s.query::<User>().count(), Err(Error::TransactionAborted(_))), "{name}");
        assert!(matches!(s.get::<User>(1), Err(Error::TransactionAborted(_))), "{name}");
        s.rollback().unwrap();
        assert_eq!(count_users(&db), 0, "{name}: nothing was committed, and the session said so");
        // Usable again after the rollback.
        s.add(User::new("titi"));
        s.commit().unwrap();
        assert_eq!(count_users(&db), 1, "{name}");
    }
}

#[test]
fn a_nested_rollback_heals_a_statement_that_failed_inside_it() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        s.add(User::new("tata"));
        s.flush().unwrap();
        {
            let mut n = s.begin_nested().unwrap();
            n.add(User::new("inner"));
            n.flush().unwrap();
            assert!(n.sql("SELECT nope FROM no_such_table").all::<(i64,)>().is_err());
            assert!(matches!(n.flush(), Ok(())), "{name}: nothing pending");
            n.rollback().unwrap();
        }
        s.commit().unwrap();
        let names: Vec<String> =
            db.session().query::<User>().all().unwrap().into_iter().map(|u| u.username).collect();
        assert_eq!(names, ["tata"], "{name}: the outer work committed, the nested work did not");
    }
}

#[test]
fn a_failed_read_outside_a_transaction_or_a_failed_decode_aborts_nothing() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        assert!(s.sql("SELECT nope FROM no_such_table").all::<(i64,)>().is_err());
        s.add(User::new("tata"));
        s.flush().unwrap();
        // The statement ran; only reading its text into an integer failed.
        let decoded = s.sql("SELECT 'x' AS v").all::<(i64,)>();
        assert!(matches!(decoded, Err(Error::Decode { .. })), "{name}: {decoded:?}");
        s.commit().unwrap();
        assert_eq!(count_users(&db), 1, "{name}");
    }
}

#[test]
fn a_failed_raw_write_in_a_transaction_is_rolled_back_alone() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        s.add(User::new("tata"));
        s.flush().unwrap();
        let dup = s.sql("INSERT INTO users (id, username, email) VALUES (1, 'x', 'y')").execute();
        assert!(matches!(dup, Err(Error::UniqueViolation(_))), "{name}: {dup:?}");
        s.commit().unwrap();
        assert_eq!(count_users(&db), 1, "{name}: the guarded write failed alone");
    }
}
