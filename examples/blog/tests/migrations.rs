//! The migrations folder matches the models, and a test database built by running it works.

use blog::{Post, PostStatus, User};

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

#[test]
fn migrations_match_the_models() {
    orm::testing::assert_migrations_match_models(MIGRATIONS);
}

/// A database built by the migrations takes the models' rows and agrees with the revisions.
fn a_database_built_by_the_migrations(db: orm::Database) -> orm::Result<()> {
    let mut s = db.session();
    let u = s.save(User { username: "a".into(), email: "a@x".into(), ..Default::default() })?;
    s.add(Post {
        title: "t".into(),
        author_id: u.id,
        status: PostStatus::Draft,
        ..Default::default()
    });
    s.commit()?;
    assert_eq!(s.query::<Post>().count()?, 1);
    let revisions = blog::MIGRATIONS.revisions()?;
    let m = orm::migrate::Migrator::new(db.engine(), &revisions);
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
