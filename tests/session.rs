//! The unit of work on every backend: inserts with generated keys, updates of changed columns
//! only, the identity map, FK-ordered flush, rollback and failed flushes, nested transactions.

mod common;

use common::models::*;
use common::{backends, take};
use orm::prelude::*;
use orm::testing::StatementLog;

fn tables() -> Vec<&'static orm::TableSchema> {
    all_tables()
}

/// The table each statement starting with `verb` writes to, in order.
fn tables_of(statements: &[String], verb: &str) -> Vec<String> {
    statements
        .iter()
        .filter_map(|q| q.strip_prefix(verb))
        .map(|rest| rest.split('"').nth(1).unwrap_or("").to_owned())
        .collect()
}

#[test]
fn add_and_commit_inserts_and_reads_back_generated_key_and_server_default() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        let u = s.add(User::new("tata"));
        assert_eq!(s[u].id, 0, "{name}: key unset before flush");
        s.commit().unwrap();
        assert_eq!(s[u].id, 1, "{name}");
        let p = s.add(Post::new(s[u].id, "hello"));
        s.commit().unwrap();
        assert!(s[p].id > 0);
        assert_eq!(
            s[p].created_at.value().map(|t| t.to_rfc3339()).unwrap_or_default(),
            "2020-01-01T00:00:00+00:00",
            "{name}: server default read back"
        );
        let again = db.session().query::<User>().all().unwrap();
        assert_eq!(again, vec![User { id: 1, ..User::new("tata") }]);
    }
}

#[test]
fn update_of_one_column_writes_that_column_alone() {
    for (name, db) in backends(&tables()) {
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
        let expected = match name {
            "sqlite" => r#"UPDATE "users" SET "email" = ?1 WHERE "users"."id" = ?2"#,
            _ => r#"UPDATE "users" SET "email" = $1 WHERE "users"."id" = $2"#,
        };
        assert_eq!(update, vec![expected], "{name}: {stmts:?}");
        let reloaded = db.session().get::<User>(1).unwrap().unwrap();
        assert_eq!(reloaded.email, "nouvel_email@example.com");
    }
}

#[test]
fn unchanged_loaded_object_emits_no_statement() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        s.add(User::new("tata"));
        s.commit().unwrap();
        let tata = s.query::<User>().one().unwrap();
        let log = StatementLog::attach(&db);
        s.add(tata.clone());
        s.flush().unwrap();
        s.commit().unwrap();
        assert_eq!(log.statements(), Vec::<String>::new(), "{name}: not even BEGIN/COMMIT");
    }
}

#[test]
fn identity_map_serves_a_second_get_without_a_statement() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        s.add(User::new("tata"));
        s.commit().unwrap();
        let mut s = db.session();
        let log = StatementLog::attach(&db);
        let first = s.get::<User>(1).unwrap().unwrap();
        assert_eq!(take(&log).len(), 1, "{name}: the first get selects");
        let second = s.get::<User>(1).unwrap().unwrap();
        assert_eq!(first, second);
        assert_eq!(log.statements(), Vec::<String>::new(), "{name}: the second get does not");
        assert_eq!(s.get::<User>(99).unwrap(), None);
        // A row loaded by a query is in the map too.
        s.add(User::new("toto"));
        s.commit().unwrap();
        let mut s = db.session();
        let _ = s.query::<User>().all().unwrap();
        log.clear();
        assert_eq!(s.get::<User>(2).unwrap().unwrap().username, "toto");
        assert!(log.statements().is_empty(), "{name}");
    }
}

#[test]
fn children_added_before_parents_are_inserted_in_foreign_key_order() {
    for (name, db) in backends(&tables()) {
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
        assert_eq!(inserts, vec!["authors", "books", "books"], "{name}");
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
        assert_eq!(deletes, vec!["books", "books", "authors"], "{name}");
    }
}

#[test]
fn self_referencing_rows_are_inserted_parent_first() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        let root = Category { name: "root".into(), ..Default::default() };
        let child =
            Category { name: "child".into(), parent_id: Some(root.id), ..Default::default() };
        let grandchild =
            Category { name: "grandchild".into(), parent_id: Some(child.id), ..Default::default() };
        s.add(grandchild);
        s.add(child);
        s.add(root.clone());
        s.commit().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(db.session().query::<Category>().count().unwrap(), 3);
        // ON DELETE CASCADE declared on the model is in the schema.
        let mut s = db.session();
        s.delete(&root).unwrap();
        s.commit().unwrap();
        assert_eq!(db.session().query::<Category>().count().unwrap(), 0, "{name}");
    }
}

#[test]
fn unique_violation_is_typed_rolls_back_and_the_session_goes_on() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        s.add(User::new("tata"));
        s.commit().unwrap();

        s.add(User::new("ok_in_same_flush"));
        s.add(User { email: "another@example.com".into(), ..User::new("tata") });
        let err = s.commit().unwrap_err();
        match &err {
            Error::UniqueViolation(info) => {
                assert_eq!(info.table.as_deref(), Some("users"), "{name}: {info:?}");
                assert_eq!(info.columns, vec!["username".to_string()], "{name}: {info:?}");
            }
            other => panic!("{name}: expected UniqueViolation, got {other:?}"),
        }
        // Nothing of the failed flush reached the database.
        assert_eq!(db.session().query::<User>().count().unwrap(), 1, "{name}");
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
        assert_eq!(names, vec!["tata", "titi"], "{name}");
    }
}

#[test]
fn failed_flush_inside_a_transaction_keeps_earlier_flushed_work() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        s.add(User::new("a"));
        s.flush().unwrap();
        s.add(User::new("a"));
        assert!(matches!(s.flush(), Err(Error::UniqueViolation(_))), "{name}");
        // The failed add is still pending; take it back out, then commit the rest.
        s.rollback().unwrap();
        assert_eq!(
            db.session().query::<User>().count().unwrap(),
            0,
            "{name}: rollback undid the first flush too"
        );

        let mut s = db.session();
        s.add(User::new("a"));
        s.flush().unwrap();
        let bad = s.add(User::new("a"));
        assert!(s.flush().is_err());
        s.expunge(bad);
        s.commit().unwrap();
        assert_eq!(db.session().query::<User>().count().unwrap(), 1, "{name}");
    }
}

#[test]
fn other_constraint_violations_are_typed() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        let err = s.save(Post::new(12345, "orphan")).unwrap_err();
        assert!(matches!(err, Error::ForeignKeyViolation(_)), "{name}: {err:?}");
        let err = s
            .sql("INSERT INTO users (username, email) VALUES (:u, NULL)")
            .bind("u", "x")
            .execute()
            .unwrap_err();
        match err {
            Error::NotNullViolation(info) => {
                assert_eq!(info.columns, vec!["email".to_string()], "{name}")
            }
            other => panic!("{name}: {other:?}"),
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
            "{name}: {err:?}"
        );
    }
}

#[test]
fn rollback_discards_and_forgets() {
    for (name, db) in backends(&tables()) {
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
        assert_eq!(check.query::<User>().count().unwrap(), 1, "{name}");
        assert_eq!(check.get::<User>(1).unwrap().unwrap().age, None, "{name}");
        // The session's snapshot went back too: the same change is written again.
        s.add(kept);
        s.commit().unwrap();
        assert_eq!(db.session().get::<User>(1).unwrap().unwrap().age, Some(40), "{name}");
    }
}

#[test]
fn dropping_a_session_with_uncommitted_work_leaves_the_database_as_before() {
    for (name, db) in backends(&tables()) {
        {
            let mut s = db.session();
            s.add(User::new("ghost"));
            s.flush().unwrap();
            assert_eq!(s.query::<User>().count().unwrap(), 1, "{name}: the session sees its flush");
        }
        assert_eq!(db.session().query::<User>().count().unwrap(), 0, "{name}");
    }
}

#[test]
fn queries_see_pending_changes_autoflush() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        s.add(User::new("pending"));
        assert_eq!(
            s.query::<User>().filter(User::username.eq("pending")).count().unwrap(),
            1,
            "{name}"
        );
        s.rollback().unwrap();
        assert_eq!(s.query::<User>().count().unwrap(), 0, "{name}");
    }
}

#[test]
fn delete_and_database_cascade() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        let u = s.save(User::new("writer")).unwrap();
        s.add(Post::new(u.id, "one"));
        s.add(Post::new(u.id, "two"));
        s.commit().unwrap();
        assert_eq!(s.query::<Post>().count().unwrap(), 2);
        s.delete(&u).unwrap();
        s.commit().unwrap();
        assert_eq!(s.query::<User>().count().unwrap(), 0, "{name}");
        assert_eq!(s.query::<Post>().count().unwrap(), 0, "{name}: ON DELETE CASCADE");
        assert_eq!(s.get::<User>(u.id).unwrap(), None);
        // Deleting an object that was never saved is an error, not a statement.
        assert!(matches!(s.delete(&User::new("never")), Err(Error::InvalidUse(_))));
        // Deleting a pending object forgets it.
        let pending = Author { name: "p".into(), ..Default::default() };
        s.add(pending.clone());
        s.delete(&pending).unwrap();
        s.commit().unwrap();
        assert_eq!(s.query::<Author>().count().unwrap(), 0, "{name}");
    }
}

#[test]
fn composite_keys_and_literal_defaults() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        let m = Membership { user_id: 1, group_name: "admins".into(), ..Default::default() };
        assert_eq!(m.role, "member");
        s.add(m);
        s.add(Membership { user_id: 1, group_name: "users".into(), role: "owner".into() });
        s.commit().unwrap();
        let mut got = s.get::<Membership>((1, "admins".to_string())).unwrap().unwrap();
        assert_eq!(got.role, "member", "{name}");
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
        assert_eq!(roles, vec!["admin", "owner"], "{name}");
    }
}

#[test]
fn nested_transactions_roll_back_only_their_own_work() {
    for (name, db) in backends(&tables()) {
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
        assert_eq!(names, vec!["inner_kept", "outer"], "{name}");
    }
}

#[test]
fn save_returns_the_object_with_its_key() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        let u = s.save(User::new("saved")).unwrap();
        assert_eq!(u.id, 1, "{name}");
        s.commit().unwrap();
        // A failing save leaves nothing pending.
        assert!(s.save(User::new("saved")).is_err());
        assert!(!s.has_pending(), "{name}");
        s.commit().unwrap();
        assert_eq!(db.session().query::<User>().count().unwrap(), 1, "{name}");
    }
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

#[test]
fn testing_sessions_roll_back_when_the_test_ends() {
    for (name, db) in backends(&[User::TABLE]) {
        {
            let mut s = orm::testing::session(&db).unwrap();
            s.add(User::new("only_in_test"));
            s.commit().unwrap();
            assert_eq!(s.query::<User>().count().unwrap(), 1, "{name}");
            s.add(User::new("rolled_back"));
            s.flush().unwrap();
            s.rollback().unwrap();
            assert_eq!(s.query::<User>().count().unwrap(), 1, "{name}: back to the last commit");
            s.add(User::new("second"));
            s.commit().unwrap();
            assert_eq!(s.query::<User>().count().unwrap(), 2, "{name}");
        }
        assert_eq!(
            db.session().query::<User>().count().unwrap(),
            0,
            "{name}: nothing outlives the test"
        );
    }
}

#[test]
fn statements_a_transaction_refuses_run_in_autocommit() {
    for (name, db) in backends(&tables()) {
        let mut s = db.session();
        s.add(User::new("ada"));
        s.flush().unwrap();
        // Inside a transaction VACUUM is refused, on both backends.
        assert!(s.execute_ddl("VACUUM").is_err(), "{name}");
        s.rollback().unwrap();
        db.execute_autocommit("VACUUM").unwrap();
        if name == "postgresql" {
            let db_name = format!("orm_autocommit_{}", std::process::id());
            db.execute_autocommit(&format!("CREATE DATABASE \"{db_name}\"")).unwrap();
            let found = db
                .session()
                .sql("SELECT COUNT(*) FROM pg_database WHERE datname = :n")
                .bind("n", db_name.as_str())
                .one::<(i64,)>()
                .unwrap();
            assert_eq!(found.0, 1, "{name}: the database exists");
            db.execute_autocommit(&format!("DROP DATABASE \"{db_name}\"")).unwrap();
        }
    }
}
