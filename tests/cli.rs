//! The `db` command line, run in-process on a temporary folder and a SQLite file: init,
//! migrate, upgrade, current, history, heads, check, sql, downgrade, stamp, merge.

use orm::{Model, TableSchema};
use std::path::{Path, PathBuf};

mod before {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[orm(table = "users")]
    pub struct User {
        #[orm(primary_key)]
        pub id: i64,
        #[orm(unique, max_length = 80)]
        pub username: String,
    }
}

mod after {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[orm(table = "users")]
    pub struct User {
        #[orm(primary_key)]
        pub id: i64,
        #[orm(unique, max_length = 80)]
        pub username: String,
        pub age: Option<i32>,
    }
}

mod short {
    use orm::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[orm(table = "users")]
    pub struct User {
        #[orm(primary_key)]
        pub id: i64,
        #[orm(unique, max_length = 10)]
        pub username: String,
    }
}

struct Cli {
    dir: PathBuf,
    url: String,
}

impl Drop for Cli {
    /// The folder (database, migrations) goes with the test.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Cli {
    fn new(name: &str) -> Cli {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("orm-cli-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("app.db").display());
        Cli { dir, url }
    }

    fn migrations(&self) -> PathBuf {
        self.dir.join("migrations")
    }

    /// Runs `db <args>` against `models`; returns the exit status and what it printed.
    fn run(&self, models: &[&'static TableSchema], args: &[&str]) -> (i32, String) {
        let mut argv: Vec<String> = vec!["db".into()];
        argv.extend(args.iter().map(|a| (*a).to_owned()));
        argv.extend([
            "--directory".into(),
            self.migrations().display().to_string(),
            "--database-url".into(),
            self.url.clone(),
        ]);
        let mut out = Vec::new();
        let code = orm::cli::run(argv, models, &mut out);
        (code, String::from_utf8_lossy(&out).into_owned())
    }

    fn ok(&self, models: &[&'static TableSchema], args: &[&str]) -> String {
        let (code, out) = self.run(models, args);
        assert_eq!(code, 0, "db {args:?}: {out}");
        out
    }
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn the_tutorial_workflow() {
    let cli = Cli::new("workflow");
    let v1: &[&TableSchema] = &[before::User::TABLE];
    let v2: &[&TableSchema] = &[after::User::TABLE];

    let out = cli.ok(v1, &["init"]);
    assert!(out.contains("Created"), "{out}");
    assert_ne!(cli.run(v1, &["init"]).0, 0, "init twice");

    let out = cli.ok(v1, &["migrate", "-m", "create users"]);
    assert!(out.contains("Detected create table users"), "{out}");
    assert!(out.contains("Generated"), "{out}");
    assert_eq!(toml_files(&cli.migrations()).len(), 1);
    let out = cli.ok(v1, &["migrate", "-m", "nothing"]);
    assert!(out.contains("No changes"), "{out}");
    assert_eq!(cli.run(&[], &["migrate", "-m", "x"]).0, 1, "no models: refused");

    let out = cli.ok(v1, &["upgrade"]);
    assert!(out.contains("Running upgrade <base> -> "), "{out}");
    let out = cli.ok(v1, &["current"]);
    assert!(out.contains("(head), create users"), "{out}");
    assert!(cli.ok(v1, &["check"]).contains("OK"));

    // A model changes and nobody runs migrate: check fails.
    assert_eq!(cli.run(v2, &["check"]).0, 1);
    let out = cli.ok(v2, &["migrate", "-m", "add age to user"]);
    assert!(out.contains("Detected add column users.age"), "{out}");
    let files = toml_files(&cli.migrations());
    assert_eq!(files.len(), 2);
    assert!(files.iter().any(|f| f.to_string_lossy().ends_with("_add_age_to_user.toml")));
    assert_eq!(cli.run(v2, &["check"]).0, 1, "database not upgraded");
    let out = cli.ok(v2, &["upgrade"]);
    assert!(out.contains("add age to user"), "{out}");
    assert!(cli.ok(v2, &["check"]).contains("OK"));

    let out = cli.ok(v2, &["history"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].contains("(head), add age to user"), "{out}");
    assert!(lines[1].starts_with("<base> -> "), "{out}");
    assert!(cli.ok(v2, &["heads"]).contains("(head), add age to user"));

    let out = cli.ok(v2, &["sql", "--dialect", "postgresql"]);
    assert!(out.contains("CREATE TABLE \"users\""), "{out}");
    assert!(out.contains("ALTER TABLE \"users\" ADD COLUMN \"age\" INTEGER;"), "{out}");
    assert!(out.contains("INSERT INTO \"orm_migrations\""), "{out}");
    let out = cli.ok(v2, &["sql", "--dialect", "sqlite", "--down", "heads:base"]);
    assert!(out.contains("ALTER TABLE \"users\" DROP COLUMN \"age\";"), "{out}");
    assert!(out.contains("DROP TABLE \"users\";"), "{out}");

    // `--down` without a range undoes the newest revision, as `downgrade` does.
    let out = cli.ok(v2, &["sql", "--dialect", "sqlite", "--down"]);
    assert!(out.starts_with("-- Downgrade SQL for sqlite, -1\n"), "{out}");
    assert!(out.contains("ALTER TABLE \"users\" DROP COLUMN \"age\";"), "{out}");
    assert!(!out.contains("DROP TABLE \"users\";"), "only the newest revision: {out}");
    assert_eq!(out.matches("-- Revision ").count(), 1, "{out}");
    let out = cli.ok(v2, &["sql", "--down", "-2", "--dialect", "sqlite"]);
    assert!(out.contains("DROP TABLE \"users\";"), "{out}");
    assert_eq!(out.matches("-- Revision ").count(), 2, "{out}");
    let (code, _) = cli.run(v2, &["sql", "--dialect", "sqlite", "--down", "-3"]);
    assert_eq!(code, 1, "only two revisions to undo");

    let out = cli.ok(v2, &["downgrade"]);
    assert!(out.contains("Running downgrade"), "{out}");
    assert!(cli.ok(v2, &["current"]).contains("create users"));
    let out = cli.ok(v2, &["downgrade", "base"]);
    assert!(out.contains("Running downgrade"), "{out}");
    assert!(cli.ok(v2, &["current"]).contains("No revision applied"));
    let out = cli.ok(v2, &["stamp", "head"]);
    assert!(out.contains("Stamped"), "{out}");
    cli.ok(v2, &["stamp", "base"]);
    cli.ok(v2, &["upgrade", "+1"]);
    cli.ok(v2, &["upgrade"]);
    assert!(cli.ok(v2, &["check"]).contains("OK"));
}

#[test]
fn two_heads_are_reported_and_merged() {
    let cli = Cli::new("merge");
    let v1: &[&TableSchema] = &[before::User::TABLE];
    let v2: &[&TableSchema] = &[after::User::TABLE];
    cli.ok(v1, &["init"]);
    cli.ok(v1, &["migrate", "-m", "create users"]);
    let first = toml_files(&cli.migrations())[0].clone();
    let first_id = std::fs::read_to_string(&first)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("id = \"").map(|s| s.trim_end_matches('"').to_owned()))
        .unwrap();
    // Two developers each write a revision on top of the first one.
    for (id, msg) in [("branch_a", "a"), ("branch_b", "b")] {
        let text = format!(
            "id = \"{id}\"\nparents = [\"{first_id}\"]\nmessage = \"{msg}\"\ncreated = \"2999-01-01T00:00:00Z\"\n\n[[ops]]\nop = \"sql\"\nup = \"SELECT 1\"\ndown = \"SELECT 1\"\n"
        );
        std::fs::write(cli.migrations().join(format!("{id}.toml")), text).unwrap();
    }
    let out = cli.ok(v1, &["heads"]);
    assert!(out.contains("2 heads"), "{out}");
    assert_eq!(cli.run(v2, &["migrate", "-m", "x"]).0, 1, "migrate refuses two heads");
    assert_eq!(cli.run(v1, &["check"]).0, 1);
    let out = cli.ok(v1, &["merge", "-m", "join"]);
    assert!(out.contains("joining branch_a, branch_b"), "{out}");
    assert!(!cli.ok(v1, &["heads"]).contains("2 heads"));
    cli.ok(v1, &["upgrade"]);
    assert!(cli.ok(v1, &["check"]).contains("OK"));
    cli.ok(v2, &["migrate", "-m", "after merge"]);
    cli.ok(v2, &["upgrade"]);
    cli.ok(v2, &["downgrade", "base"]);
}

#[test]
fn help_on_each_command() {
    for cmd in [
        "init",
        "migrate",
        "upgrade",
        "downgrade",
        "current",
        "history",
        "heads",
        "stamp",
        "merge",
        "check",
        "sql",
    ] {
        let mut out = Vec::new();
        // clap prints help itself and reports success.
        let code = orm::cli::run(["db", cmd, "--help"], &[], &mut out);
        assert_eq!(code, 0, "{cmd}");
    }
}

/// The tutorial's complaint: an index made outside the revisions makes `check` fail ("drop
/// index ..."), until the migrations folder's `migrations.toml` ignores its name.
#[test]
fn check_leaves_out_what_migrations_toml_ignores() {
    let cli = Cli::new("ignore");
    let v1: &[&TableSchema] = &[before::User::TABLE];
    cli.ok(v1, &["init"]);
    cli.ok(v1, &["migrate", "-m", "create users"]);
    cli.ok(v1, &["upgrade"]);
    let db = orm::Database::connect(&cli.url).unwrap();
    let mut s = db.session();
    s.sql("CREATE INDEX ix_legacy_username ON users (username)").execute().unwrap();
    s.commit().unwrap();
    drop(s);
    assert_eq!(cli.run(v1, &["check"]).0, 1, "an index no revision knows");
    std::fs::write(cli.migrations().join("migrations.toml"), "ignore = [\"ix_legacy_*\"]\n")
        .unwrap();
    assert!(cli.ok(v1, &["check"]).contains("OK"));
    // Still no revision to write, and the settings file is no revision.
    assert!(cli.ok(v1, &["migrate", "-m", "nothing"]).contains("No changes"));
    assert!(cli.ok(v1, &["history"]).lines().count() == 1);
    std::fs::write(cli.migrations().join("migrations.toml"), "ignore = \"ix_legacy_*\"\n").unwrap();
    assert_eq!(cli.run(v1, &["check"]).0, 1, "a malformed settings file is an error");
}

/// A revision that would cut a username fails (exit status 1), and the database stays at the
/// revision before it; `sql` shows the check.
#[test]
fn a_lossy_upgrade_fails_and_the_database_stays() {
    let cli = Cli::new("lossy");
    let v1: &[&TableSchema] = &[before::User::TABLE];
    let v2: &[&TableSchema] = &[short::User::TABLE];
    cli.ok(v1, &["init"]);
    cli.ok(v1, &["migrate", "-m", "create users"]);
    cli.ok(v1, &["upgrade"]);
    let db = orm::Database::connect(&cli.url).unwrap();
    db.engine()
        .execute_autocommit("INSERT INTO users (id, username) VALUES (1, 'a-long-user-name')")
        .unwrap();
    drop(db);
    let out = cli.ok(v2, &["migrate", "-m", "shorter names"]);
    assert!(out.contains("Detected alter column users.username (max_length 80 -> 10)"), "{out}");
    let out = cli.ok(v2, &["sql", "--dialect", "sqlite"]);
    assert!(
        out.contains("-- SELECT count(*) FROM \"users\" WHERE length(\"username\") > 10;"),
        "{out}"
    );
    let (code, out) = cli.run(v2, &["upgrade"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Running upgrade"), "{out}");
    assert!(cli.ok(v2, &["current"]).contains("create users"), "still at the first revision");
    let (code, _) = cli.run(v2, &["check"]);
    assert_eq!(code, 1, "the database is behind the models");
}
