//! The unit of work on every backend: inserts with generated keys, updates of changed columns
//! only, the identity map, FK-ordered flush, rollback and failed flushes, nested transactions.

mod common;

use common::models::*;
use common::{backend_tests, take, Backend};
use orm::prelude::*;
use orm::testing::StatementLog;

backend_tests! {
    add_and_commit_inserts_and_reads_back_generated_key_and_server_default,
    update_of_one_column_writes_that_column_alone,
    unchanged_loaded_object_emits_no_statement,
    identity_map_serves_a_second_get_without_a_statement,
    children_added_before_parents_are_inserted_in_foreign_key_order,
    self_referencing_rows_are_inserted_parent_first,
    unique_violation_is_typed_rolls_back_and_the_session_goes_on,
    failed_flush_inside_a_transaction_keeps_earlier_flushed_work,
    other_constraint_violations_are_typed,
    rollback_discards_and_forgets,
    dropping_a_session_with_uncommitted_work_leaves_the_database_as_before,
    queries_see_pending_changes_autoflush,
    delete_and_database_cascade,
    composite_keys_and_literal_defaults,
    nested_transactions_roll_back_only_their_own_work,
    save_returns_the_object_with_its_key,
    testing_sessions_roll_back_when_the_test_ends,
    statements_a_transaction_refuses_run_in_autocommit,
    each_test_runs_on_the_backend_its_name_says,
}

fn tables() -> Vec<&'static orm::TableSchema> {
    all_tables()
}

/// The table each statement starting with `verb` writes to, in order.
fn tables_of(statements: &[String], verb: &str) -> Vec<String> {
    statements
        .iter()
        .filter_map(|q| q.find(verb).and_then(|at| q.get(at + verb.len()..)))
        .map(|rest| rest.split('"').nth(1).unwrap_or("").to_owned())
        .collect()
}

fn add_and_commit_inserts_and_reads_back_generated_key_and_server_default(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    let u = s.add(User::new("tata"));
    assert_eq!(s[u].id, 0, "{backend}: key unset before flush");
    s.commit().unwrap();
    assert_eq!(s[u].id, 1, "{backend}");
    let p = s.add(Post::new(s[u].id, "hello"));
    s.commit().unwrap();
    assert!(s[p].id > 0);
    assert_eq!(
        s[p].created_at.value().map(|t| t.to_rfc3339()).unwrap_or_default(),
        "2020-01-01T00:00:00+00:00",
        "{backend}: server default read back"
    );
    let again = db.session().query::<User>().all().unwrap();
    assert_eq!(again, vec![User { id: 1, ..User::new("tata") }]);
}

fn update_of_one_column_writes_that_column_alone(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("tata"));
    s.commit().unwrap();
    let log = StatementLog::attach(&db);
    let mut tata = s.query::<User>().filter(User::username.eq("tata")).one().unwrap();
    tata.email = "nouvel_email@example.com".into();
    s.add(tata);
    s.commit().unwrap();
    let stmts = take(&log);
    let update: Vec<_> = stmts.iter().filter(|q| q.starts_with("UPDATE")).collect();
    let expected = match backend {
        Backend::Sqlite => r#"UPDATE "users" SET "email" = ?1 WHERE "users"."id" = ?2"#,
        Backend::Postgres => r#"UPDATE "users" SET "email" = $1 WHERE "users"."id" = $2"#,
    };
    assert_eq!(update, vec![expected], "{backend}: {stmts:?}");
    let reloaded = db.session().get::<User>(1).unwrap().unwrap();
    assert_eq!(reloaded.email, "nouvel_email@example.com");
}

fn unchanged_loaded_object_emits_no_statement(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("tata"));
    s.commit().unwrap();
    let tata = s.query::<User>().one().unwrap();
    let log = StatementLog::attach(&db);
    s.add(tata.clone());
    s.flush().unwrap();
    s.commit().unwrap();
    assert_eq!(log.statements(), Vec::<String>::new(), "{backend}: not even BEGIN/COMMIT");
}

fn identity_map_serves_a_second_get_without_a_statement(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("tata"));
    s.commit().unwrap();
    let mut s = db.session();
    let log = StatementLog::attach(&db);
    let first = s.get::<User>(1).unwrap().unwrap();
    assert_eq!(take(&log).len(), 1, "{backend}: the first get selects");
    let second = s.get::<User>(1).unwrap().unwrap();
    assert_eq!(first, second);
    assert_eq!(log.statements(), Vec::<String>::new(), "{backend}: the second get does not");
    assert_eq!(s.get::<User>(99).unwrap(), None);
    // A row loaded by a query is in the map too.
    s.add(User::new("toto"));
    s.commit().unwrap();
    let mut s = db.session();
    let _ = s.query::<User>().all().unwrap();
    log.clear();
    assert_eq!(s.get::<User>(2).unwrap().unwrap().username, "toto");
    assert!(log.statements().is_empty(), "{backend}");
}

fn children_added_before_parents_are_inserted_in_foreign_key_order(backend: Backend) {
    let db = backend.database(&tables());
    let log = StatementLog::attach(&db);
    let mut s = db.session();
    let author = Author { name: "Ursula".into(), ..Default::default() };
    let book1 = Book { author_id: author.id, title: "Earthsea".into(), ..Default::default() };
    let book2 = Book { author_id: author.id, title: "Lathe".into(), ..Default::default() };
    s.add(book1);
    s.add(book2);
    s.add(author.clone());
    s.commit().unwrap();
    let inserts = tables_of(&take(&log), "INSERT INTO");
    // PostgreSQL inserts both books in one statement (`WITH "orm_rows" AS (...) INSERT ...`).
    let expected: &[&str] = match backend {
        Backend::Sqlite => &["authors", "books", "books"],
        Backend::Postgres => &["authors", "books"],
    };
    assert_eq!(inserts, expected, "{backend}");
    assert_eq!(db.session().query::<Book>().count().unwrap(), 2);

    // Deleting parent and child in one flush deletes the child first.
    let mut s = db.session();
    let books = s.query::<Book>().all().unwrap();
    s.delete(&author).unwrap();
    for b in &books {
        s.delete(b).unwrap();
    }
    s.commit().unwrap();
    let deletes = tables_of(&take(&log), "DELETE FROM");
    assert_eq!(deletes, vec!["books", "books", "authors"], "{backend}");
}

fn self_referencing_rows_are_inserted_parent_first(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    let root = Category { name: "root".into(), ..Default::default() };
    let child = Category { name: "child".into(), parent_id: Some(root.id), ..Default::default() };
    let grandchild =
        Category { name: "grandchild".into(), parent_id: Some(child.id), ..Default::default() };
    s.add(grandchild);
    s.add(child);
    s.add(root.clone());
    s.commit().unwrap_or_else(|e| panic!("{backend}: {e}"));
    assert_eq!(db.session().query::<Category>().count().unwrap(), 3);
    // ON DELETE CASCADE declared on the model is in the schema.
    let mut s = db.session();
    s.delete(&root).unwrap();
    s.commit().unwrap();
    assert_eq!(db.session().query::<Category>().count().unwrap(), 0, "{backend}");
}

fn unique_violation_is_typed_rolls_back_and_the_session_goes_on(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("tata"));
    s.commit().unwrap();

    s.add(User::new("ok_in_same_flush"));
    s.add(User { email: "another@example.com".into(), ..User::new("tata") });
    let err = s.commit().unwrap_err();
    match &err {
        Error::UniqueViolation(info) => {
            assert_eq!(info.table.as_deref(), Some("users"), "{backend}: {info:?}");
            assert_eq!(info.columns, vec!["username".to_string()], "{backend}: {info:?}");
        }
        other => panic!("{backend}: expected UniqueViolation, got {other:?}"),
    }
    // Nothing of the failed flush reached the database.
    assert_eq!(db.session().query::<User>().count().unwrap(), 1, "{backend}");
    s.rollback().unwrap();
    assert!(!s.has_pending());
    let h = s.add(User::new("titi"));
    s.commit().unwrap();
    assert!(s[h].id > 0);
    let names: Vec<String> = db
        .session()
        .query::<User>()
        .order_by(User::id.asc())
        .all()
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, vec!["tata", "titi"], "{backend}");
}

fn failed_flush_inside_a_transaction_keeps_earlier_flushed_work(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("a"));
    s.flush().unwrap();
    s.add(User::new("a"));
    assert!(matches!(s.flush(), Err(Error::UniqueViolation(_))), "{backend}");
    // The failed add is still pending; take it back out, then commit the rest.
    s.rollback().unwrap();
    assert_eq!(
        db.session().query::<User>().count().unwrap(),
        0,
        "{backend}: rollback undid the first flush too"
    );

    let mut s = db.session();
    s.add(User::new("a"));
    s.flush().unwrap();
    let bad = s.add(User::new("a"));
    assert!(s.flush().is_err());
    s.expunge(bad);
    s.commit().unwrap();
    assert_eq!(db.session().query::<User>().count().unwrap(), 1, "{backend}");
}

fn other_constraint_violations_are_typed(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    let err = s.save(Post::new(12345, "orphan")).unwrap_err();
    assert!(matches!(err, Error::ForeignKeyViolation(_)), "{backend}: {err:?}");
    let err = s
        .sql("INSERT INTO users (username, email) VALUES (:u, NULL)")
        .bind("u", "x")
        .execute()
        .unwrap_err();
    match err {
        Error::NotNullViolation(info) => {
            assert_eq!(info.columns, vec!["email".to_string()], "{backend}")
        }
        other => panic!("{backend}: {other:?}"),
    }
    s.rollback().unwrap();
    let u = s.save(User::new("author")).unwrap();
    let err = s
        .sql("INSERT INTO posts (title, content, author_id, status, views) VALUES ('t', 'c', :a, 'bogus', 0)")
        .bind("a", u.id)
        .execute()
        .unwrap_err();
    assert!(
        matches!(err, Error::CheckViolation(_)) || matches!(err, Error::Database { .. }),
        "{backend}: {err:?}"
    );
}

fn rollback_discards_and_forgets(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("kept"));
    s.commit().unwrap();
    let mut kept = s.get::<User>(1).unwrap().unwrap();
    kept.age = Some(40);
    s.add(kept.clone());
    s.add(User::new("dropped"));
    s.flush().unwrap();
    s.rollback().unwrap();
    let mut check = db.session();
    assert_eq!(check.query::<User>().count().unwrap(), 1, "{backend}");
    assert_eq!(check.get::<User>(1).unwrap().unwrap().age, None, "{backend}");
    // The session's snapshot went back too: the same change is written again.
    s.add(kept);
    s.commit().unwrap();
    assert_eq!(db.session().get::<User>(1).unwrap().unwrap().age, Some(40), "{backend}");
}

fn dropping_a_session_with_uncommitted_work_leaves_the_database_as_before(backend: Backend) {
    let db = backend.database(&tables());
    {
        let mut s = db.session();
        s.add(User::new("ghost"));
        s.flush().unwrap();
        assert_eq!(s.query::<User>().count().unwrap(), 1, "{backend}: the session sees its flush");
    }
    assert_eq!(db.session().query::<User>().count().unwrap(), 0, "{backend}");
}

fn queries_see_pending_changes_autoflush(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("pending"));
    assert_eq!(
        s.query::<User>().filter(User::username.eq("pending")).count().unwrap(),
        1,
        "{backend}"
    );
    s.rollback().unwrap();
    assert_eq!(s.query::<User>().count().unwrap(), 0, "{backend}");
}

fn delete_and_database_cascade(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    let u = s.save(User::new("writer")).unwrap();
    s.add(Post::new(u.id, "one"));
    s.add(Post::new(u.id, "two"));
    s.commit().unwrap();
    assert_eq!(s.query::<Post>().count().unwrap(), 2);
    s.delete(&u).unwrap();
    s.commit().unwrap();
    assert_eq!(s.query::<User>().count().unwrap(), 0, "{backend}");
    assert_eq!(s.query::<Post>().count().unwrap(), 0, "{backend}: ON DELETE CASCADE");
    assert_eq!(s.get::<User>(u.id).unwrap(), None);
    // Deleting an object that was never saved is an error, not a statement.
    assert!(matches!(s.delete(&User::new("never")), Err(Error::InvalidUse(_))));
    // Deleting a pending object forgets it.
    let pending = Author { name: "p".into(), ..Default::default() };
    s.add(pending.clone());
    s.delete(&pending).unwrap();
    s.commit().unwrap();
    assert_eq!(s.query::<Author>().count().unwrap(), 0, "{backend}");
}

fn composite_keys_and_literal_defaults(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    let m = Membership { user_id: 1, group_name: "admins".into(), ..Default::default() };
    assert_eq!(m.role, "member");
    s.add(m);
    s.add(Membership { user_id: 1, group_name: "users".into(), role: "owner".into() });
    s.commit().unwrap();
    let mut got = s.get::<Membership>((1, "admins".to_string())).unwrap().unwrap();
    assert_eq!(got.role, "member", "{backend}");
    got.role = "admin".into();
    s.add(got);
    s.commit().unwrap();
    let roles: Vec<String> = db
        .session()
        .query::<Membership>()
        .order_by(Membership::group_name.asc())
        .all()
        .unwrap()
        .into_iter()
        .map(|m| m.role)
        .collect();
    assert_eq!(roles, vec!["admin", "owner"], "{backend}");
}

fn nested_transactions_roll_back_only_their_own_work(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("outer"));
    {
        let mut nested = s.begin_nested().unwrap();
        nested.add(User::new("inner_dropped"));
        nested.flush().unwrap();
        nested.rollback().unwrap();
    }
    {
        let mut nested = s.begin_nested().unwrap();
        nested.add(User::new("inner_kept"));
        nested.commit().unwrap();
    }
    {
        let mut nested = s.begin_nested().unwrap();
        nested.add(User::new("dropped_by_drop"));
        nested.flush().unwrap();
    }
    s.commit().unwrap();
    let mut names: Vec<String> =
        db.session().query::<User>().all().unwrap().into_iter().map(|u| u.username).collect();
    names.sort();
    assert_eq!(names, vec!["inner_kept", "outer"], "{backend}");
}

fn save_returns_the_object_with_its_key(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    let u = s.save(User::new("saved")).unwrap();
    assert_eq!(u.id, 1, "{backend}");
    s.commit().unwrap();
    // A failing save leaves nothing pending.
    assert!(s.save(User::new("saved")).is_err());
    assert!(!s.has_pending(), "{backend}");
    s.commit().unwrap();
    assert_eq!(db.session().query::<User>().count().unwrap(), 1, "{backend}");
}

#[test]
fn sessions_are_send_and_databases_are_sync() {
    fn assert_send<T: Send>() {}
    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    assert_send::<Session>();
    assert_send::<Handle<User>>();
    assert_send_sync_clone::<Database>();
}

#[test]
fn create_all_and_drop_all_in_foreign_key_order() {
    let db = orm::Database::connect("sqlite::memory:").unwrap();
    let log = StatementLog::attach(&db);
    // Children listed first: created after their parents anyway.
    db.create_tables(&[Book::TABLE, Post::TABLE, Author::TABLE, User::TABLE]).unwrap();
    let creates: Vec<String> = log
        .statements()
        .into_iter()
        .filter(|q| q.starts_with("CREATE TABLE"))
        .map(|q| q.split('"').nth(1).unwrap_or("").to_owned())
        .collect();
    assert_eq!(creates, vec!["authors", "books", "users", "posts"]);
    // Idempotent.
    db.create_tables(&[Book::TABLE, Post::TABLE, Author::TABLE, User::TABLE]).unwrap();
    log.clear();
    db.drop_tables(&[Book::TABLE, Post::TABLE, Author::TABLE, User::TABLE]).unwrap();
    let drops: Vec<String> = log
        .statements()
        .into_iter()
        .filter(|q| q.starts_with("DROP TABLE"))
        .map(|q| q.split('"').nth(1).unwrap_or("").to_owned())
        .collect();
    assert_eq!(drops, vec!["posts", "users", "books", "authors"]);
}

fn testing_sessions_roll_back_when_the_test_ends(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    {
        let mut s = orm::testing::session(&db).unwrap();
        s.add(User::new("only_in_test"));
        s.commit().unwrap();
        assert_eq!(s.query::<User>().count().unwrap(), 1, "{backend}");
        s.add(User::new("rolled_back"));
        s.flush().unwrap();
        s.rollback().unwrap();
        assert_eq!(s.query::<User>().count().unwrap(), 1, "{backend}: back to the last commit");
        s.add(User::new("second"));
        s.commit().unwrap();
        assert_eq!(s.query::<User>().count().unwrap(), 2, "{backend}");
    }
    assert_eq!(
        db.session().query::<User>().count().unwrap(),
        0,
        "{backend}: nothing outlives the test"
    );
}

fn statements_a_transaction_refuses_run_in_autocommit(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(User::new("ada"));
    s.flush().unwrap();
    // Inside a transaction VACUUM is refused, on both backends.
    assert!(s.execute_ddl("VACUUM").is_err(), "{backend}");
    s.rollback().unwrap();
    db.execute_autocommit("VACUUM").unwrap();
    if backend == Backend::Postgres {
        let db_name = format!("orm_autocommit_{}", std::process::id());
        db.execute_autocommit(&format!("CREATE DATABASE \"{db_name}\"")).unwrap();
        let found = db
            .session()
            .sql("SELECT COUNT(*) FROM pg_database WHERE datname = :n")
            .bind("n", db_name.as_str())
            .one::<(i64,)>()
            .unwrap();
        assert_eq!(found.0, 1, "{backend}: the database exists");
        db.execute_autocommit(&format!("DROP DATABASE \"{db_name}\"")).unwrap();
    }
}

/// `sqlite::` tests get SQLite and `postgres::` tests a real PostgreSQL server, never the other.
fn each_test_runs_on_the_backend_its_name_says(backend: Backend) {
    let db = backend.database(&[User::TABLE]);
    assert_eq!(db.engine().dialect().name(), backend.name());
    let (version,): (String,) = db
        .session()
        .sql(match backend {
            Backend::Sqlite => "SELECT 'SQLite ' || sqlite_version()",
            Backend::Postgres => "SELECT version()",
        })
        .one()
        .unwrap();
    let want = match backend {
        Backend::Sqlite => "SQLite 3.",
        Backend::Postgres => "PostgreSQL ",
    };
    assert!(version.starts_with(want), "{backend}: {version}");
}
