//! The unit of work's promises, each tested with the case that would break it, on every
//! backend: a commit says Ok only when the database committed; a value the user set reaches the
//! database; a column nobody changed is never written, whatever happened since the copy was
//! read (another session's commit, a re-read, a bulk update); one state per identity.

mod common;

use common::models::*;
use common::{backend_tests, take, Backend};
use orm::prelude::*;
use orm::testing::StatementLog;
use orm::Error;

backend_tests! {
    commit_after_a_failed_statement_in_the_transaction_is_an_error_not_a_silent_rollback,
    a_nested_rollback_heals_a_statement_that_failed_inside_it,
    a_failed_read_outside_a_transaction_or_a_failed_decode_aborts_nothing,
    a_failed_raw_write_in_a_transaction_is_rolled_back_alone,
    a_value_set_on_a_column_with_a_server_default_is_written,
    a_re_read_after_another_sessions_commit_does_not_make_an_untouched_column_written,
    populate_existing_and_refresh_take_the_databases_values_on_request,
    a_bulk_update_keeps_the_sessions_view_true_and_a_stale_copy_writes_only_its_change,
    a_copy_changed_back_to_a_value_a_bulk_update_replaced_is_an_error_not_a_guess,
    a_bulk_delete_makes_the_session_forget_the_rows,
    changes_through_get_mut_are_written_without_add,
    changes_through_a_handle_are_written_at_commit,
    a_rollback_gives_held_objects_the_databases_values_again,
    merge_updates_an_existing_row_and_never_inserts_it_twice,
    an_update_of_a_row_another_session_deleted_is_stale_data_and_writes_nothing,
    a_versioned_update_checks_and_bumps_the_version,
    a_versioned_update_from_a_stale_copy_is_stale_data_and_the_session_goes_on,
    a_versioned_delete_of_a_stale_copy_is_stale_data,
    get_mut_of_held_rows_stages_changes_without_a_flush_each,
    a_handle_from_before_expunge_all_no_longer_reaches_an_object,
    a_nested_rollback_takes_back_a_bulk_update_from_the_objects_held,
}

fn tables() -> Vec<&'static orm::TableSchema> {
    all_tables()
}

fn count_users(db: &Database) -> u64 {
    db.session().query::<User>().count().unwrap()
}

// ----- commit means committed ------------------------------------------------------------------

fn commit_after_a_failed_statement_in_the_transaction_is_an_error_not_a_silent_rollback(
    backend: Backend,
) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("tata"));
    s.flush().unwrap(); // the row is written inside the open transaction
    let failed = s.sql("SELECT nope FROM no_such_table").all::<(i64,)>();
    assert!(failed.is_err(), "{backend}");
    // Handled by the caller; the transaction is still not committable.
    match s.commit() {
        Err(Error::TransactionAborted(msg)) => {
            assert!(msg.contains("no_such_table"), "{backend}: {msg}")
        }
        other => panic!("{backend}: commit after a failed statement gave {other:?}"),
    }
    assert!(matches!(s.query::<User>().count(), Err(Error::TransactionAborted(_))), "{backend}");
    assert!(matches!(s.get::<User>(1), Err(Error::TransactionAborted(_))), "{backend}");
    s.rollback().unwrap();
    assert_eq!(count_users(&db), 0, "{backend}: nothing was committed, and the session said so");
    // Usable again after the rollback.
    s.add(User::new("titi"));
    s.commit().unwrap();
    assert_eq!(count_users(&db), 1, "{backend}");
}

fn a_nested_rollback_heals_a_statement_that_failed_inside_it(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("tata"));
    s.flush().unwrap();
    {
        let mut n = s.begin_nested().unwrap();
        n.add(User::new("inner"));
        n.flush().unwrap();
        assert!(n.sql("SELECT nope FROM no_such_table").all::<(i64,)>().is_err());
        assert!(matches!(n.flush(), Ok(())), "{backend}: nothing pending");
        n.rollback().unwrap();
    }
    s.commit().unwrap();
    let names: Vec<String> =
        db.session().query::<User>().all().unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["tata"], "{backend}: the outer work committed, the nested work did not");
}

fn a_failed_read_outside_a_transaction_or_a_failed_decode_aborts_nothing(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    assert!(s.sql("SELECT nope FROM no_such_table").all::<(i64,)>().is_err());
    s.add(User::new("tata"));
    s.flush().unwrap();
    // The statement ran; only reading its text into an integer failed.
    let decoded = s.sql("SELECT 'x' AS v").all::<(i64,)>();
    assert!(matches!(decoded, Err(Error::Decode { .. })), "{backend}: {decoded:?}");
    s.commit().unwrap();
    assert_eq!(count_users(&db), 1, "{backend}");
}

fn a_failed_raw_write_in_a_transaction_is_rolled_back_alone(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("tata"));
    s.flush().unwrap();
    let dup = s.sql("INSERT INTO users (id, username, email) VALUES (1, 'x', 'y')").execute();
    assert!(matches!(dup, Err(Error::UniqueViolation(_))), "{backend}: {dup:?}");
    s.commit().unwrap();
    assert_eq!(count_users(&db), 1, "{backend}: the guarded write failed alone");
}

// ----- a value the user set reaches the database ---------------------------------------------

fn a_value_set_on_a_column_with_a_server_default_is_written(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    let u = s.add(User::new("ada"));
    s.commit().unwrap();
    let author = s[u].id;
    let log = StatementLog::attach(&db);
    let set = DateTime::from_timestamp(1_620_284_889, 0).unwrap();
    let p = s.add(Post { views: 7, created_at: DbDefault::Value(set), ..Post::new(author, "set") });
    let d = s.add(Post::new(author, "defaults"));
    s.commit().unwrap();
    let inserts: Vec<String> = take(&log).into_iter().filter(|q| q.starts_with("INSERT")).collect();
    assert!(
        inserts[0].contains("\"views\"") && inserts[0].contains("\"created_at\""),
        "{backend}: {inserts:?}"
    );
    assert!(inserts[1].contains("RETURNING \"id\", \"created_at\""), "{backend}: {inserts:?}");
    let mut check = db.session();
    let stored = check.get::<Post>(s[p].id).unwrap().unwrap();
    assert_eq!((stored.views, stored.created_at), (7, DbDefault::Value(set)), "{backend}");
    let defaulted = check.get::<Post>(s[d].id).unwrap().unwrap();
    let default_time = DateTime::from_timestamp(1_577_836_800, 0).unwrap();
    assert_eq!(
        defaulted.created_at,
        DbDefault::Value(default_time),
        "{backend}: the server default"
    );
    assert_eq!(
        s[d].created_at,
        DbDefault::Value(default_time),
        "{backend}: read back into the object"
    );
    assert_eq!(defaulted.views, 0, "{backend}: a plain i64 writes its value, 0 here");
}

// ----- no lost update, no stray write --------------------------------------------------------

fn updates(log: &StatementLog) -> Vec<String> {
    take(log).into_iter().filter(|q| q.starts_with("UPDATE")).collect()
}

fn set_clause(backend: Backend, cols: &[&str]) -> String {
    let mut out = String::from("UPDATE \"users\" SET ");
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!(
            "\"{c}\" = {}",
            if backend == Backend::Sqlite { format!("?{}", i + 1) } else { format!("${}", i + 1) }
        ));
    }
    let n = cols.len() + 1;
    out.push_str(&format!(
        " WHERE \"users\".\"id\" = {}",
        if backend == Backend::Sqlite { format!("?{n}") } else { format!("${n}") }
    ));
    out
}

fn a_re_read_after_another_sessions_commit_does_not_make_an_untouched_column_written(
    backend: Backend,
) {
    let db = backend.database(&tables());
    let mut s1 = db.session();
    s1.add(User::new("ada"));
    s1.commit().unwrap();
    let mut first = s1.get::<User>(1).unwrap().unwrap();

    let mut s2 = db.session();
    s2.get_mut::<User>(1).unwrap().unwrap().username = "renamed".into();
    s2.commit().unwrap();

    // Session 1 reads the row again: it keeps its own state of the row (one identity).
    let again = s1.query::<User>().filter(User::id.eq(1)).one().unwrap();
    assert_eq!(
        again.username, "ada",
        "{backend}: a re-read does not overwrite the session's state"
    );
    assert_eq!(s1.get::<User>(1).unwrap().unwrap(), again, "{backend}: get and query agree");

    let log = StatementLog::attach(&db);
    first.age = Some(7);
    s1.add(first);
    s1.commit().unwrap();
    assert_eq!(updates(&log), [set_clause(backend, &["age"])], "{backend}");
    let row = db.session().get::<User>(1).unwrap().unwrap();
    assert_eq!((row.username.as_str(), row.age), ("renamed", Some(7)), "{backend}: no lost update");
}

fn populate_existing_and_refresh_take_the_databases_values_on_request(backend: Backend) {
    let db = backend.database(&tables());
    let mut s1 = db.session();
    s1.add(User::new("ada"));
    s1.commit().unwrap();
    let mut first = s1.get::<User>(1).unwrap().unwrap();
    {
        let mut s2 = db.session();
        s2.get_mut::<User>(1).unwrap().unwrap().username = "renamed".into();
        s2.commit().unwrap();
    }
    let fresh = s1.query::<User>().populate_existing().one().unwrap();
    assert_eq!(fresh.username, "renamed", "{backend}");
    assert_eq!(
        s1.get::<User>(1).unwrap().unwrap().username,
        "renamed",
        "{backend}: the session took it"
    );

    // The first copy holds the old name. The populated read handed out the new one, so an
    // old name in an added copy is either stale or set back on purpose: a conflict.
    first.age = Some(3);
    s1.add(first);
    assert!(matches!(s1.commit(), Err(Error::StaleData(_))), "{backend}");
    s1.rollback().unwrap();
    let log = StatementLog::attach(&db);
    let mut current = s1.get::<User>(1).unwrap().unwrap();
    current.age = Some(3);
    let h = s1.add(current);
    s1.commit().unwrap();
    assert_eq!(updates(&log), [set_clause(backend, &["age"])], "{backend}");
    assert_eq!(s1[h].username, "renamed", "{backend}: the held object shows the row");

    {
        let mut s2 = db.session();
        s2.get_mut::<User>(1).unwrap().unwrap().email = "new@example.com".into();
        s2.commit().unwrap();
    }
    let mut mine = s1.get::<User>(1).unwrap().unwrap();
    assert_eq!(mine.email, "ada@example.com", "{backend}");
    s1.refresh(&mut mine).unwrap();
    assert_eq!(mine.email, "new@example.com", "{backend}");
    assert_eq!(s1.get::<User>(1).unwrap().unwrap().email, "new@example.com", "{backend}");
    s1.delete(&mine).unwrap();
    s1.commit().unwrap();
    assert!(matches!(s1.refresh(&mut mine), Err(Error::NotFound(_))), "{backend}");
}

fn a_bulk_update_keeps_the_sessions_view_true_and_a_stale_copy_writes_only_its_change(
    backend: Backend,
) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("ada"));
    s.add(User::new("bob"));
    s.commit().unwrap();
    let mut first = s.get::<User>(1).unwrap().unwrap();
    let held = s.get_mut::<User>(2).unwrap().unwrap().id;
    let n = s.query::<User>().update([User::age.set(Some(100))]).unwrap();
    assert_eq!(n, 2, "{backend}");
    assert_eq!(
        s.get_mut::<User>(held).unwrap().unwrap().age,
        Some(100),
        "{backend}: held object too"
    );
    assert_eq!(s.get::<User>(2).unwrap().unwrap().age, Some(100), "{backend}: later reads agree");

    let log = StatementLog::attach(&db);
    first.username = "ada2".into();
    s.add(first);
    s.commit().unwrap();
    assert_eq!(updates(&log), [set_clause(backend, &["username"])], "{backend}");
    let row = db.session().get::<User>(1).unwrap().unwrap();
    assert_eq!(
        (row.username.as_str(), row.age),
        ("ada2", Some(100)),
        "{backend}: the bulk value kept"
    );
    assert_eq!(s.get::<User>(1).unwrap().unwrap(), row, "{backend}: the session agrees");
}

fn a_copy_changed_back_to_a_value_a_bulk_update_replaced_is_an_error_not_a_guess(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("ada"));
    s.commit().unwrap();
    let _before = s.get::<User>(1).unwrap().unwrap();
    s.query::<User>().update([User::age.set(Some(100))]).unwrap();
    s.commit().unwrap();
    // A copy read after the update, set back on purpose to the replaced value (None):
    // the session cannot tell it from a copy read before, so it refuses.
    let mut after = s.get::<User>(1).unwrap().unwrap();
    after.age = None;
    s.add(after);
    assert!(matches!(s.commit(), Err(Error::StaleData(_))), "{backend}");
    s.rollback().unwrap();
    // get_mut has no such doubt: it changes the session's own object.
    s.get_mut::<User>(1).unwrap().unwrap().age = None;
    s.commit().unwrap();
    assert_eq!(db.session().get::<User>(1).unwrap().unwrap().age, None, "{backend}");
    assert_eq!(_before.age, None);
}

fn a_bulk_delete_makes_the_session_forget_the_rows(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("ada"));
    s.add(User::new("bob"));
    s.commit().unwrap();
    assert!(s.get::<User>(1).unwrap().is_some());
    let n = s.query::<User>().filter(User::username.eq("ada")).delete().unwrap();
    assert_eq!(n, 1, "{backend}");
    let log = StatementLog::attach(&db);
    assert_eq!(s.get::<User>(1).unwrap(), None, "{backend}: not served from the identity map");
    assert_eq!(take(&log).len(), 1, "{backend}: read again");
    s.rollback().unwrap();
    assert!(s.get::<User>(1).unwrap().is_some(), "{backend}: the rollback brought the row back");
}

// ----- changes that cannot be forgotten ------------------------------------------------------

fn changes_through_get_mut_are_written_without_add(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("ada"));
    s.commit().unwrap();
    let log = StatementLog::attach(&db);
    s.get_mut::<User>(1).unwrap().unwrap().age = Some(36);
    s.commit().unwrap();
    assert_eq!(updates(&log), [set_clause(backend, &["age"])], "{backend}");
    // Unchanged access costs nothing.
    let _ = s.get_mut::<User>(1).unwrap().unwrap();
    s.commit().unwrap();
    assert_eq!(log.statements(), Vec::<String>::new(), "{backend}");
    assert!(s.get_mut::<User>(99).unwrap().is_none(), "{backend}");
    assert_eq!(db.session().get::<User>(1).unwrap().unwrap().age, Some(36), "{backend}");
}

fn changes_through_a_handle_are_written_at_commit(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    let h = s.add(User::new("ada"));
    s.commit().unwrap();
    s[h].username = "ada2".into();
    s.commit().unwrap();
    assert_eq!(db.session().get::<User>(1).unwrap().unwrap().username, "ada2", "{backend}");
    if let Some(u) = s.try_get_mut(h) {
        u.age = Some(5);
    }
    s.commit().unwrap();
    assert_eq!(db.session().get::<User>(1).unwrap().unwrap().age, Some(5), "{backend}");
}

fn a_rollback_gives_held_objects_the_databases_values_again(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("ada"));
    s.commit().unwrap();
    s.get_mut::<User>(1).unwrap().unwrap().age = Some(1);
    s.flush().unwrap();
    s.rollback().unwrap();
    assert_eq!(s.get_mut::<User>(1).unwrap().unwrap().age, None, "{backend}");
    s.commit().unwrap();
    assert_eq!(db.session().get::<User>(1).unwrap().unwrap().age, None, "{backend}: nothing stray");
}

fn merge_updates_an_existing_row_and_never_inserts_it_twice(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("ada"));
    s.commit().unwrap();
    // An object from another session (or a request body) with the row's key.
    let mut detached = db.session().get::<User>(1).unwrap().unwrap();
    detached.age = Some(9);
    let mut other = db.session();
    let log = StatementLog::attach(&db);
    let h = other.merge(detached).unwrap();
    other.commit().unwrap();
    let stmts = take(&log);
    assert_eq!(stmts.iter().filter(|q| q.starts_with("INSERT")).count(), 0, "{backend}: {stmts:?}");
    assert_eq!(
        stmts.iter().filter(|q| q.starts_with("UPDATE")).cloned().collect::<Vec<_>>(),
        [set_clause(backend, &["age"])],
        "{backend}"
    );
    assert_eq!(other[h].age, Some(9));
    // A key with no row is inserted.
    let h2 = other.merge(User { id: 7, ..User::new("new") }).unwrap();
    other.commit().unwrap();
    assert_eq!(other[h2].id, 7, "{backend}");
    assert_eq!(count_users(&db), 2, "{backend}");
}

// ----- conflicts are errors, not overwrites ---------------------------------------------------

fn an_update_of_a_row_another_session_deleted_is_stale_data_and_writes_nothing(backend: Backend) {
    let db = backend.database(&tables());
    let mut s1 = db.session();
    s1.add(User::new("ada"));
    s1.add(User::new("bob"));
    s1.commit().unwrap();
    assert!(s1.get::<User>(1).unwrap().is_some());
    {
        let mut s2 = db.session();
        s2.delete_by_key::<User>(1).unwrap();
        s2.commit().unwrap();
    }
    s1.get_mut::<User>(2).unwrap().unwrap().age = Some(1);
    s1.get_mut::<User>(1).unwrap().unwrap().age = Some(1); // served from the identity map
    assert!(matches!(s1.commit(), Err(Error::StaleData(_))), "{backend}");
    s1.rollback().unwrap();
    let bob = db.session().get::<User>(2).unwrap().unwrap();
    assert_eq!(bob.age, None, "{backend}: nothing of the failed flush was written");
}

fn a_versioned_update_checks_and_bumps_the_version(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    let a = s.add(Account { owner: "ada".into(), balance: 10, ..Default::default() });
    s.commit().unwrap();
    assert_eq!(s[a].version, 1, "{backend}: a new row starts at version 1");
    let id = s[a].id;
    let log = StatementLog::attach(&db);
    s.get_mut::<Account>(id).unwrap().unwrap().balance = 20;
    s.commit().unwrap();
    let expected = match backend {
        Backend::Sqlite => {
            r#"UPDATE "accounts" SET "balance" = ?1, "version" = ?2 WHERE "accounts"."id" = ?3 AND "accounts"."version" = ?4"#
        }
        Backend::Postgres => {
            r#"UPDATE "accounts" SET "balance" = $1, "version" = $2 WHERE "accounts"."id" = $3 AND "accounts"."version" = $4"#
        }
    };
    assert_eq!(updates(&log), [expected], "{backend}");
    assert_eq!(s[a].version, 2, "{backend}: the object holds the new version");
    let row = db.session().get::<Account>(id).unwrap().unwrap();
    assert_eq!((row.balance, row.version), (20, 2), "{backend}");
    // Nothing changed: no statement, no bump.
    log.clear();
    let _ = s.get_mut::<Account>(id).unwrap().unwrap();
    s.commit().unwrap();
    assert_eq!(log.statements(), Vec::<String>::new(), "{backend}");
}

fn a_versioned_update_from_a_stale_copy_is_stale_data_and_the_session_goes_on(backend: Backend) {
    let db = backend.database(&tables());
    let mut s1 = db.session();
    s1.add(Account { id: 1, owner: "ada".into(), balance: 10, version: 1 });
    s1.commit().unwrap();
    let mut mine = s1.get::<Account>(1).unwrap().unwrap();
    {
        let mut s2 = db.session();
        s2.get_mut::<Account>(1).unwrap().unwrap().balance = 50;
        s2.commit().unwrap();
    }
    mine.balance = 11;
    s1.add(mine);
    match s1.commit() {
        Err(Error::StaleData(msg)) => {
            assert!(msg.contains("with key 1 at version 1 matched no row"), "{backend}: {msg}")
        }
        other => panic!("{backend}: a conflicting update gave {other:?}"),
    }
    s1.rollback().unwrap();
    let row = db.session().get::<Account>(1).unwrap().unwrap();
    assert_eq!((row.balance, row.version), (50, 2), "{backend}: the other writer's update stands");
    // Read again, apply again: it goes through.
    let mut fresh = s1.get::<Account>(1).unwrap().unwrap();
    s1.refresh(&mut fresh).unwrap();
    fresh.balance += 1;
    s1.add(fresh);
    s1.commit().unwrap();
    let row = db.session().get::<Account>(1).unwrap().unwrap();
    assert_eq!((row.balance, row.version), (51, 3), "{backend}");
}

fn a_versioned_delete_of_a_stale_copy_is_stale_data(backend: Backend) {
    let db = backend.database(&tables());
    let mut s1 = db.session();
    s1.add(Account { id: 1, owner: "ada".into(), balance: 10, version: 1 });
    s1.commit().unwrap();
    let stale = s1.get::<Account>(1).unwrap().unwrap();
    {
        let mut s2 = db.session();
        s2.get_mut::<Account>(1).unwrap().unwrap().balance = 50;
        s2.commit().unwrap();
    }
    s1.delete(&stale).unwrap();
    assert!(matches!(s1.commit(), Err(Error::StaleData(_))), "{backend}");
    s1.rollback().unwrap();
    assert!(db.session().get::<Account>(1).unwrap().is_some(), "{backend}: not deleted");
    let mut current = stale;
    s1.refresh(&mut current).unwrap();
    s1.delete(&current).unwrap();
    s1.commit().unwrap();
    assert!(db.session().get::<Account>(1).unwrap().is_none(), "{backend}");
}

fn get_mut_of_held_rows_stages_changes_without_a_flush_each(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    for n in ["a", "b", "c"] {
        s.add(User::new(n));
    }
    s.commit().unwrap();
    for id in 1..=3 {
        let _ = s.get_mut::<User>(id).unwrap().unwrap();
    }
    let log = StatementLog::attach(&db);
    for id in 1..=3 {
        s.get_mut::<User>(id).unwrap().unwrap().age = Some(id);
    }
    assert_eq!(log.statements(), Vec::<String>::new(), "{backend}: nothing ran yet");
    s.commit().unwrap();
    assert_eq!(updates(&log).len(), 3, "{backend}");
    let ages: Vec<Option<i32>> = db
        .session()
        .query::<User>()
        .order_by(User::id.asc())
        .all()
        .unwrap()
        .into_iter()
        .map(|u| u.age)
        .collect();
    assert_eq!(ages, [Some(1), Some(2), Some(3)], "{backend}");
}

fn a_handle_from_before_expunge_all_no_longer_reaches_an_object(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    let old = s.add(User::new("ada"));
    s.commit().unwrap();
    s.expunge_all();
    let new = s.add(User::new("bob"));
    assert!(s.try_get(old).is_none(), "{backend}: not bob");
    assert_eq!(s[new].username, "bob", "{backend}");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s[old].id));
    assert!(panicked.is_err(), "{backend}: indexing with a stale handle is refused");
}

fn a_nested_rollback_takes_back_a_bulk_update_from_the_objects_held(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("ada"));
    s.commit().unwrap();
    let _ = s.get_mut::<User>(1).unwrap().unwrap();
    {
        let mut n = s.begin_nested().unwrap();
        n.query::<User>().update([User::age.set(Some(100))]).unwrap();
        assert_eq!(n.get_mut::<User>(1).unwrap().unwrap().age, Some(100), "{backend}");
        n.rollback().unwrap();
    }
    assert_eq!(s.get_mut::<User>(1).unwrap().unwrap().age, None, "{backend}: held object restored");
    let log = StatementLog::attach(&db);
    s.commit().unwrap();
    assert_eq!(updates(&log), Vec::<String>::new(), "{backend}: nothing stray written");
    assert_eq!(db.session().get::<User>(1).unwrap().unwrap().age, None, "{backend}");
}
