//! The migrations folder matches the models, and a database built by running it works: the
//! models' rows go in, the `modified_at` trigger stamps an update, and `check` finds no
//! difference (the FTS5 tables of SQLite left out by `migrations.toml`).

use blog::{Post, PostStatus, User};
use orm::migrate::{Migrator, Revisions};

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

#[test]
fn migrations_match_the_models() {
    orm::testing::assert_migrations_match_models(MIGRATIONS);
}

/// A database built by the migrations takes the models' rows and agrees with the revisions.
fn a_database_built_by_the_migrations(db: orm::Database) -> orm::Result<()> {
    let mut s = db.session();
    let u = s.save(User {
        username: "a".into(),
        email: "a@x".into(),
        age: Some(30),
        ..Default::default()
    })?;
    let p = s.save(Post {
        title: "t".into(),
        content: "c".into(),
        author_id: u.id,
        status: PostStatus::Draft,
        ..Default::default()
    })?;
    s.commit()?;
    assert_eq!(p.modified_at, None, "not stamped on insert");
    if let Some(p) = s.get_mut::<Post>(p.id)? {
        p.content = "edited".into();
    }
    s.commit()?;
    let mut p = p;
    s.refresh(&mut p)?;
    assert!(p.modified_at.is_some(), "the trigger stamped the update");
    assert_eq!(p.version, 2);

    let revisions = Revisions::load_dir(std::path::Path::new(MIGRATIONS))?;
    let m = Migrator::new(db.engine(), &revisions);
    assert_eq!(m.database_differences()?, Vec::<String>::new());
    Ok(())
}

// One test per backend, named by it (`cargo test sqlite::` needs no PostgreSQL server).
mod sqlite {
    #[test]
    fn a_database_built_by_the_migrations() -> orm::Result<()> {
        super::a_database_built_by_the_migrations(orm::testing::migrated_memory_database(
            super::MIGRATIONS,
        )?)
    }
}

mod postgres {
    #[test]
    fn a_database_built_by_the_migrations() -> orm::Result<()> {
        super::a_database_built_by_the_migrations(orm::testing::migrated_postgres_database(
            super::MIGRATIONS,
        )?)
    }
}
