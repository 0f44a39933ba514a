//! Schema objects beyond tables and columns, against both real servers: indexes with a method,
//! operator classes, expression keys and predicates; CHECK constraints; triggers and functions
//! that `sql` ops declare; ignore patterns. `check` (`Migrator::database_differences`) must see
//! each kind of drift in the live database, and see none where there is none.

mod common;

use common::{backend_tests, Backend};
use orm::migrate::{Migrator, Revisions};
use orm::{Database, Error};

backend_tests! {
    indexes_as_declared_show_no_difference,
    a_changed_index_expression_is_a_difference,
    a_changed_predicate_is_a_difference,
    an_index_the_revisions_do_not_know_is_a_difference_unless_ignored,
    an_operator_class_or_method_that_differs_is_a_difference,
    a_changed_check_expression_is_a_difference,
    declared_triggers_are_compared_by_name,
    a_check_that_rows_break_fails_its_revision_which_is_rolled_back,
    hostile_names_and_expressions_round_trip,
    the_readme_models_migrate_and_check_clean,
    a_renamed_column_is_renamed_in_expressions_predicates_and_checks,
}

/// The README's models (Migrations: indexes, CHECK constraints and names on the model).
#[allow(dead_code)]
mod readme {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[orm(
        table = "users",
        // CREATE INDEX "ix_user_preferences_gin" ON "users" USING gin ("preferences" jsonb_path_ops)
        index(preferences(opclass = "jsonb_path_ops"), using = "gin", name = "ix_user_preferences_gin"),
        // CREATE UNIQUE INDEX "ux_users_lower_email" ON "users" ((lower(email)))
        index(expr = "lower(email)", unique, name = "ux_users_lower_email"),
        unique(email, name = "users_email_key"),            // an existing database's name
    )]
    pub struct User {
        #[orm(primary_key)]
        pub id: i64,
        pub email: String,
        pub preferences: Json<serde_json::Value>,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[orm(
        table = "posts",
        index(expr = "to_tsvector('english', content)", using = "gin", name = "ix_posts_fts"),
        index(author_id, status, where = "status <> 'archived'", name = "ix_posts_live"),
        check(name = "ck_posts_status", expr = "status IN ('draft', 'published', 'archived')")
    )]
    pub struct Post {
        #[orm(primary_key)]
        pub id: i64,
        pub content: String,
        pub status: String,
        #[orm(references = User, fk_name = "posts_author_id_fkey")]
        pub author_id: i64,
    }
}

const TABLES: &str = r#"
id = "r1"
parents = []
message = "tables"
created = "2024-01-01T00:00:00Z"

[[ops]]
op = "create_table"
name = "users"
columns = [
    { name = "id", type = "bigint" },
    { name = "email", type = "text" },
    { name = "prefs", type = "json" },
    { name = "active", type = "boolean" },
]
primary_key = ["id"]

[[ops]]
op = "create_index"
table = "users"
index = { name = "ix_users_lower_email", columns = [{ expr = "lower(email)" }], unique = true }

[[ops]]
op = "create_index"
table = "users"
index = { name = "ix_users_active_email", columns = ["email"], where = "active AND email <> ')('" }

[[ops]]
op = "create_index"
table = "users"
index = { name = "ix_users_prefs", columns = [{ column = "prefs", opclass = "jsonb_path_ops" }], using = "gin" }

[[ops]]
op = "add_check"
table = "users"
check = { name = "ck_users_email", expr = "email <> ''" }
"#;

/// A revision after `TABLES` that replaces the CHECK with another expression under the same
/// name: upgrading to it, then stamping `r1`, leaves a database that differs from `r1`.
const CHECK_CHANGED: &str = r#"
id = "r2"
parents = ["r1"]
message = "another check"
created = "2024-01-02T00:00:00Z"

[[ops]]
op = "drop_check"
table = "users"
check = { name = "ck_users_email", expr = "email <> ''" }

[[ops]]
op = "add_check"
table = "users"
check = { name = "ck_users_email", expr = "email <> 'x'" }
"#;

fn revisions(files: &[(&str, &str)]) -> Revisions {
    Revisions::from_sources(files).expect("revisions")
}

/// A fresh database upgraded to the head of `revs`, then changed by `ddl`.
fn database_with(backend: Backend, revs: &Revisions, ddl: &[&str]) -> Database {
    let db = backend.database(&[]);
    Migrator::new(db.engine(), revs).upgrade("head").unwrap_or_else(|e| panic!("{backend}: {e}"));
    let mut s = db.session();
    for sql in ddl {
        s.sql(sql).execute().unwrap_or_else(|e| panic!("{backend}: {sql}: {e}"));
    }
    s.commit().unwrap();
    db
}

fn differences(backend: Backend, revs: &Revisions, ddl: &[&str]) -> Vec<String> {
    let db = database_with(backend, revs, ddl);
    Migrator::new(db.engine(), revs).database_differences().expect("differences")
}

fn indexes_as_declared_show_no_difference(backend: Backend) {
    let revs = revisions(&[("r1.toml", TABLES)]);
    assert_eq!(differences(backend, &revs, &[]), Vec::<String>::new(), "{backend}");
    // The GIN index is on PostgreSQL only; SQLite skipped it and does not miss it.
    let db = database_with(backend, &revs, &[]);
    let live = Migrator::new(db.engine(), &revs).reflect().unwrap();
    let names: Vec<&str> = live.tables["users"].indexes.iter().map(|i| i.name.as_str()).collect();
    match backend {
        Backend::Postgres => assert_eq!(
            names,
            ["ix_users_active_email", "ix_users_lower_email", "ix_users_prefs"],
            "{backend}"
        ),
        Backend::Sqlite => {
            assert_eq!(names, ["ix_users_active_email", "ix_users_lower_email"], "{backend}")
        }
    }
}

fn a_changed_index_expression_is_a_difference(backend: Backend) {
    let revs = revisions(&[("r1.toml", TABLES)]);
    let found = differences(
        backend,
        &revs,
        &[
            "DROP INDEX ix_users_lower_email",
            "CREATE UNIQUE INDEX ix_users_lower_email ON users (upper(email))",
        ],
    );
    assert_eq!(
        found,
        [
            "drop index ix_users_lower_email on users",
            "create index ix_users_lower_email on users (lower(email))"
        ],
        "{backend}"
    );
}

fn a_changed_predicate_is_a_difference(backend: Backend) {
    let revs = revisions(&[("r1.toml", TABLES)]);
    let found = differences(
        backend,
        &revs,
        &[
            "DROP INDEX ix_users_active_email",
            "CREATE INDEX ix_users_active_email ON users (email) WHERE NOT active",
        ],
    );
    assert_eq!(found.len(), 2, "{backend}: {found:?}");
    assert!(found[0].starts_with("drop index ix_users_active_email on users"), "{found:?}");
    assert!(found[1].starts_with("create index ix_users_active_email on users (email) where "));
}

fn an_index_the_revisions_do_not_know_is_a_difference_unless_ignored(backend: Backend) {
    let revs = revisions(&[("r1.toml", TABLES)]);
    let ddl = ["CREATE INDEX ix_legacy_email ON users (email)"];
    assert_eq!(
        differences(backend, &revs, &ddl),
        ["drop index ix_legacy_email on users"],
        "{backend}"
    );
    let ignoring = revisions(&[("r1.toml", TABLES)]).with_ignore(["ix_legacy_*"]);
    assert_eq!(differences(backend, &ignoring, &ddl), Vec::<String>::new(), "{backend}");
    // The pattern is matched whole: `ix_leg*` with a `y` more, or a different case, is another.
    let other = revisions(&[("r1.toml", TABLES)]).with_ignore(["IX_LEGACY_*", "ix_legacy"]);
    assert_eq!(differences(backend, &other, &ddl).len(), 1, "{backend}");
}

fn an_operator_class_or_method_that_differs_is_a_difference(backend: Backend) {
    let revs = revisions(&[("r1.toml", TABLES)]);
    match backend {
        Backend::Postgres => {
            // The default operator class (jsonb_ops) instead of jsonb_path_ops.
            let found = differences(
                backend,
                &revs,
                &[
                    "DROP INDEX ix_users_prefs",
                    "CREATE INDEX ix_users_prefs ON users USING gin (prefs)",
                ],
            );
            assert_eq!(
                found,
                [
                    "drop index ix_users_prefs on users",
                    "create index ix_users_prefs on users using gin (prefs jsonb_path_ops)"
                ],
                "{backend}"
            );
            // A hash index where a B-tree is declared, all else the same.
            let found = differences(
                backend,
                &revs,
                &[
                    "DROP INDEX ix_users_active_email",
                    "CREATE INDEX ix_users_active_email ON users USING hash (email) \
                     WHERE active AND email <> ')('",
                ],
            );
            assert_eq!(found.len(), 2, "{backend}: {found:?}");
            assert_eq!(found[0], "drop index ix_users_active_email on users", "{backend}");
            assert!(found[1].starts_with("create index ix_users_active_email on users (email)"));
        }
        Backend::Sqlite => {
            // SQLite builds no GIN index: one of that name that it has is not the declared one.
            let found =
                differences(backend, &revs, &["CREATE INDEX ix_users_prefs ON users (prefs)"]);
            assert_eq!(found, ["drop index ix_users_prefs on users"], "{backend}");
        }
    }
}

fn a_changed_check_expression_is_a_difference(backend: Backend) {
    let revs = revisions(&[("r1.toml", TABLES), ("r2.toml", CHECK_CHANGED)]);
    let db = database_with(backend, &revs, &[]);
    let m = Migrator::new(db.engine(), &revs);
    assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{backend} at r2");
    m.stamp("r1").unwrap();
    assert_eq!(
        m.database_differences().unwrap(),
        match backend {
            Backend::Postgres => [
                "drop check ck_users_email on users",
                "add check ck_users_email on users (email <> ''::text)"
            ],
            Backend::Sqlite => {
                [
                    "drop check ck_users_email on users",
                    "add check ck_users_email on users (email <> '')",
                ]
            }
        },
        "{backend}: the live CHECK is r2's"
    );
}

fn triggers(backend: Backend) -> String {
    let (pg, sqlite) = (
        r#"
[[ops]]
op = "sql"
dialect = "postgresql"
creates = [
    { kind = "function", name = "users_touch" },
    { kind = "trigger", name = "trg_users_touch", table = "users" },
]
up = '''
CREATE FUNCTION users_touch() RETURNS trigger AS $$ BEGIN NEW.active = true; RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER trg_users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_touch();
'''
"#,
        r#"
[[ops]]
op = "sql"
dialect = "sqlite"
creates = [{ kind = "trigger", name = "trg_users_touch", table = "users" }]
up = '''
CREATE TRIGGER trg_users_touch AFTER UPDATE OF email ON users BEGIN
  UPDATE users SET active = 1 WHERE id = NEW.id;
END;
'''
"#,
    );
    let _ = backend;
    format!(
        "id = \"r2\"\nparents = [\"r1\"]\nmessage = \"trigger\"\ncreated = \"2024-01-02T00:00:00Z\"\n{pg}{sqlite}"
    )
}

fn declared_triggers_are_compared_by_name(backend: Backend) {
    let r2 = triggers(backend);
    let revs = revisions(&[("r1.toml", TABLES), ("r2.toml", &r2)]);
    assert_eq!(differences(backend, &revs, &[]), Vec::<String>::new(), "{backend}");
    // Dropped by hand: the revisions still say it exists.
    let drop = match backend {
        Backend::Postgres => "DROP TRIGGER trg_users_touch ON users",
        Backend::Sqlite => "DROP TRIGGER trg_users_touch",
    };
    assert_eq!(
        differences(backend, &revs, &[drop]),
        ["create trigger trg_users_touch on users"],
        "{backend}"
    );
    // One the revisions do not know (as raw SQL without `creates` would leave).
    let extra = match backend {
        Backend::Postgres => "CREATE TRIGGER trg_extra BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_touch()",
        Backend::Sqlite => "CREATE TRIGGER trg_extra AFTER INSERT ON users BEGIN SELECT 1; END",
    };
    assert_eq!(
        differences(backend, &revs, &[extra]),
        ["drop trigger trg_extra on users"],
        "{backend}"
    );
    let ignoring = revisions(&[("r1.toml", TABLES), ("r2.toml", &r2)]).with_ignore(["trg_extra"]);
    assert_eq!(differences(backend, &ignoring, &[extra]), Vec::<String>::new(), "{backend}");
    if backend == Backend::Postgres {
        let found = differences(
            backend,
            &revs,
            &["CREATE FUNCTION stray() RETURNS int AS 'SELECT 1' LANGUAGE sql"],
        );
        assert_eq!(found, ["drop function stray"], "{backend}");
    }
    // The downgrade (no `down`) drops what the op declared, and the trigger is gone.
    let db = database_with(backend, &revs, &[]);
    let m = Migrator::new(db.engine(), &revs);
    m.downgrade("r1").unwrap_or_else(|e| panic!("{backend}: {e}"));
    assert!(m.reflect().unwrap().objects.is_empty(), "{backend}");
    assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{backend}");
}

const BAD_CHECK: &str = r#"
id = "r2"
parents = ["r1"]
message = "a check the rows break"
created = "2024-01-02T00:00:00Z"

[[ops]]
op = "add_column"
table = "users"
column = { name = "nickname", type = "text", nullable = true }

[[ops]]
op = "add_check"
table = "users"
check = { name = "ck_users_email_long", expr = "length(email) > 3" }
"#;

fn a_check_that_rows_break_fails_its_revision_which_is_rolled_back(backend: Backend) {
    let revs = revisions(&[("r1.toml", TABLES), ("r2.toml", BAD_CHECK)]);
    let db = backend.database(&[]);
    let m = Migrator::new(db.engine(), &revs);
    m.upgrade("r1").unwrap();
    let mut s = db.session();
    s.sql("INSERT INTO users (id, email, prefs, active) VALUES (1, 'ab', '{}', true)")
        .execute()
        .unwrap();
    s.commit().unwrap();
    drop(s);
    let err = m.upgrade("head").unwrap_err();
    match &err {
        Error::MigrationFailed { revision, .. } => assert_eq!(revision, "r2", "{backend}"),
        other => panic!("{backend}: {other:?}"),
    }
    assert_eq!(m.current().unwrap(), ["r1"], "{backend}");
    // Nothing of r2 stayed (not the column added before the failing CHECK), the row did.
    assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{backend}");
    let live = m.reflect().unwrap();
    assert!(live.tables["users"].column("nickname").is_none(), "{backend}");
    #[derive(orm::FromRow)]
    struct Count {
        n: i64,
    }
    let mut s = db.session();
    let rows = s.sql("SELECT COUNT(*) AS n FROM users").all::<Count>().unwrap();
    assert_eq!(rows[0].n, 1, "{backend}");
}

const HOSTILE: &str = r#"
id = "r1"
parents = []
message = "hostile names"
created = "2024-01-01T00:00:00Z"

[[ops]]
op = "create_table"
name = "odd \"table\""
columns = [{ name = "id", type = "bigint" }, { name = "it's", type = "text" }]
primary_key = ["id"]
checks = [{ name = "ck \"CHECK\" 'x'", expr = "\"it's\" <> ')(' AND \"it's\" <> 'CONSTRAINT c CHECK (1)'" }]

[[ops]]
op = "create_index"
table = "odd \"table\""
index = { name = "ix \"odd\" (name)", columns = ["it's", { expr = "lower(\"it's\")" }], where = "\"it's\" <> ')'" }
"#;

fn hostile_names_and_expressions_round_trip(backend: Backend) {
    let revs = revisions(&[("r1.toml", HOSTILE)]);
    let db = backend.database(&[]);
    let m = Migrator::new(db.engine(), &revs);
    m.upgrade("head").unwrap_or_else(|e| panic!("{backend}: {e}"));
    assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{backend}");
    let live = m.reflect().unwrap();
    let t = &live.tables["odd \"table\""];
    assert_eq!(t.checks.len(), 1, "{backend}: {t:?}");
    assert_eq!(t.checks[0].name, "ck \"CHECK\" 'x'", "{backend}");
    assert_eq!(t.indexes.len(), 1, "{backend}: {t:?}");
    assert_eq!(t.indexes[0].name, "ix \"odd\" (name)", "{backend}");
    // The CHECK holds.
    let mut s = db.session();
    let err = s.sql("INSERT INTO \"odd \"\"table\"\"\" (id, \"it's\") VALUES (1, ')(')").execute();
    assert!(matches!(err, Err(Error::CheckViolation(_))), "{backend}: {err:?}");
    drop(s);
    m.downgrade("base").unwrap_or_else(|e| panic!("{backend}: {e}"));
    assert!(m.reflect().unwrap().is_empty(), "{backend}");
}

/// `ignore = [...]` in the folder's `migrations.toml` reaches `Revisions::ignores`; a settings
/// file with a key it does not know is an error naming the file, not a silent default.
#[test]
fn migrations_toml_gives_the_ignore_patterns() {
    let dir = std::env::temp_dir().join(format!("orm_ignore_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("r1.toml"), TABLES).unwrap();
    std::fs::write(dir.join("migrations.toml"), "ignore = [\"ix_legacy_*\", \"audit_?\"]\n")
        .unwrap();
    let revs = Revisions::load_dir(&dir).expect("load");
    assert_eq!(revs.all().len(), 1, "migrations.toml is no revision");
    assert!(revs.ignores("ix_legacy_email"));
    assert!(revs.ignores("audit_1"));
    assert!(!revs.ignores("audit_12"));
    assert!(!revs.ignores("ix_users_lower_email"));
    std::fs::write(dir.join("migrations.toml"), "ignored = [\"x\"]\n").unwrap();
    let err = Revisions::load_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("migrations.toml") && err.contains("ignored"), "{err}");
    std::fs::write(dir.join("migrations.toml"), "ignore = [\"\"]\n").unwrap();
    let err = Revisions::load_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("empty"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The README's models: a first revision creates the tables with their indexes and CHECK
/// constraints; upgrade, `check` and the CHECK itself work on both servers, and `create_all`
/// builds the same schema.
fn the_readme_models_migrate_and_check_clean(backend: Backend) {
    use orm::Model;
    let models = [readme::User::TABLE, readme::Post::TABLE];
    let first = orm::migrate::autogenerate(&Revisions::default(), &models, "initial")
        .unwrap()
        .expect("a revision");
    let file = first.to_toml();
    assert!(file.contains("using = \"gin\""), "{file}");
    assert!(file.contains("{ expr = \"lower(email)\" }"), "{file}");
    assert!(file.contains("name = \"posts_author_id_fkey\""), "{file}");
    let revs = revisions(&[(first.file_name().as_str(), file.as_str())]);
    assert!(orm::migrate::differences(&revs, &models).unwrap().is_empty());
    let db = backend.database(&[]);
    let m = Migrator::new(db.engine(), &revs);
    m.upgrade("head").unwrap_or_else(|e| panic!("{backend}: {e}"));
    assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{backend}");
    let mut s = db.session();
    s.sql("INSERT INTO users (id, email, preferences) VALUES (1, 'A@x', '{}')").execute().unwrap();
    let dup = s.sql("INSERT INTO users (id, email, preferences) VALUES (2, 'a@X', '{}')").execute();
    assert!(matches!(dup, Err(Error::UniqueViolation(_))), "{backend}: lower(email): {dup:?}");
    s.rollback().unwrap();
    s.sql("INSERT INTO users (id, email, preferences) VALUES (1, 'A@x', '{}')").execute().unwrap();
    let bad = s
        .sql("INSERT INTO posts (id, content, status, author_id) VALUES (1, 'c', 'lost', 1)")
        .execute();
    assert!(matches!(bad, Err(Error::CheckViolation(_))), "{backend}: {bad:?}");
    drop(s);
    // create_all writes the same schema as the revision.
    let fresh = backend.database(&[]);
    fresh.engine().create_all(&models).unwrap();
    Migrator::new(fresh.engine(), &revs).stamp("head").unwrap();
    assert_eq!(
        Migrator::new(fresh.engine(), &revs).database_differences().unwrap(),
        Vec::<String>::new(),
        "{backend}: create_all"
    );
}

const RENAME_EMAIL: &str = r#"
id = "r2"
parents = ["r1"]
message = "rename email"
created = "2024-01-02T00:00:00Z"

[[ops]]
op = "rename_column"
table = "users"
from = "email"
to = "mail"
"#;

/// Both databases rewrite a renamed column in index expressions, predicates and CHECK
/// conditions; so does the replay, or `check` would report them forever.
fn a_renamed_column_is_renamed_in_expressions_predicates_and_checks(backend: Backend) {
    let revs = revisions(&[("r1.toml", TABLES), ("r2.toml", RENAME_EMAIL)]);
    let db = database_with(backend, &revs, &[]);
    let m = Migrator::new(db.engine(), &revs);
    assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{backend}");
    let expected = revs.replay_all(Some(backend.name())).unwrap();
    let users = &expected.tables["users"];
    assert_eq!(users.checks[0].expr, "mail <> ''", "{backend}");
    let ix = users.indexes.iter().find(|i| i.name == "ix_users_active_email").unwrap();
    assert_eq!(ix.where_clause.as_deref(), Some("active AND mail <> ')('"), "{backend}");
    m.downgrade("r1").unwrap();
    assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{backend}");
}
