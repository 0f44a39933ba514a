//! Connection and database errors keep the driver's error as their `source()`, so a program can
//! downcast it, and a checkout that fails because no connection can be opened says so (with the
//! connector's error behind it) instead of reporting a busy pool.

use orm::prelude::*;
use orm::Error;
use orm_postgres::test_server::TestCluster;
use std::error::Error as _;
use std::time::{Duration, Instant};

/// The driver's error of type `E` somewhere in the source chain of `e`.
fn driver_error<E: std::error::Error + 'static>(e: &Error) -> Option<&E> {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(found) = s.downcast_ref::<E>() {
            return Some(found);
        }
        source = s.source();
    }
    None
}

mod sqlite {
    use super::*;

    #[test]
    fn a_sqlite_database_error_has_the_rusqlite_error_as_source() {
        let db = Database::connect("sqlite::memory:").expect("memory");
        let err = db.session().execute_ddl("CREATE TABLE (").expect_err("a syntax error");
        let Error::Database { code, message, .. } = &err else { panic!("{err:?}") };
        assert_eq!(code.as_deref(), Some("SQLITE_ERROR (1)"));
        assert!(message.contains("syntax error"), "{message}");
        let source = err.source().and_then(|s| s.downcast_ref::<orm::rusqlite::Error>());
        assert!(
            matches!(source, Some(orm::rusqlite::Error::SqlInputError { offset: 13, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn a_sqlite_file_that_cannot_be_opened_is_a_connection_error_with_its_cause() {
        let dir = std::env::temp_dir().join(format!("orm-no-such-dir-{}", std::process::id()));
        let url = format!("sqlite://{}/app.db", dir.display());
        let err = Database::connect(&url).expect_err("the folder does not exist");
        let Error::Connection { message, .. } = &err else { panic!("{err:?}") };
        assert!(message.starts_with("cannot open SQLite database"), "{message}");
        let source = err.source().and_then(|s| s.downcast_ref::<orm::rusqlite::Error>());
        assert_eq!(
            source.and_then(orm::rusqlite::Error::sqlite_error_code),
            Some(orm::rusqlite::ErrorCode::CannotOpen),
            "{err:?}"
        );
    }
}

mod postgres {
    use super::*;

    #[test]
    fn a_postgres_statement_error_has_the_postgres_error_as_source() {
        let db = orm::testing::postgres_database_with(&[]).expect("PostgreSQL test database");
        let err = db.session().execute_ddl("CREATE TABLE (").expect_err("a syntax error");
        let Error::Database { code, .. } = &err else { panic!("{err:?}") };
        assert_eq!(code.as_deref(), Some("42601"));
        let pg = driver_error::<orm::postgres::Error>(&err).expect("the postgres error behind it");
        assert_eq!(pg.code(), Some(&orm::postgres::error::SqlState::SYNTAX_ERROR));
    }

    #[test]
    fn a_checkout_that_cannot_connect_is_a_connection_error_not_a_pool_timeout() {
        let cluster = TestCluster::start_new().expect("a PostgreSQL cluster of its own");
        let url = format!("{}?pool_size=2&max_overflow=0&pool_timeout=1", cluster.url());
        let db = Database::connect(&url).expect("connect");
        let busy = {
            // Both connections busy: a checkout waits its timeout, then says the pool was busy.
            let mut a = db.session();
            let mut b = db.session();
            a.execute_ddl("SELECT 1").expect("hold a");
            b.execute_ddl("SELECT 1").expect("hold b");
            let started = Instant::now();
            let err = db.session().execute_ddl("SELECT 1").expect_err("the pool is busy");
            assert!(
                started.elapsed() >= Duration::from_millis(900),
                "waited {:?}",
                started.elapsed()
            );
            err
        };
        assert!(matches!(busy, Error::PoolTimeout { .. }), "{busy:?}");

        // The server gone: every pooled connection is dead, and no new one can be opened.
        cluster.stop().expect("stop the server");
        let mut last = None;
        for _ in 0..3 {
            let err = db.session().execute_ddl("SELECT 1").expect_err("no server");
            assert!(matches!(err, Error::Connection { .. }), "{err:?}");
            last = Some(err);
        }
        let err = last.expect("three errors");
        let pg = driver_error::<orm::postgres::Error>(&err);
        assert!(pg.is_some(), "the postgres error behind {err:?}");
        assert!(err.to_string().contains("cannot connect to PostgreSQL"), "{err}");

        // The server back: the kept connect error is gone with the first connection opened,
        // and a busy pool is a pool timeout again, not a stale connection error.
        cluster.start().expect("start the server again");
        let mut ok = None;
        for _ in 0..5 {
            match db.session().execute_ddl("SELECT 1") {
                Ok(()) => {
                    ok = Some(());
                    break;
                }
                Err(e) => assert!(matches!(e, Error::Connection { .. }), "{e:?}"),
            }
        }
        assert!(ok.is_some(), "the pool heals once the server is back");
        let mut a = db.session();
        let mut b = db.session();
        a.execute_ddl("SELECT 1").expect("hold a");
        b.execute_ddl("SELECT 1").expect("hold b");
        let err = db.session().execute_ddl("SELECT 1").expect_err("the pool is busy");
        assert!(matches!(err, Error::PoolTimeout { .. }), "{err:?}");
    }
}
