//! The `blog` binary as a user runs it, on a SQLite file: `db upgrade` twice (the second
//! applies nothing), `seed`, `db check` through `blog db`, `--echo`, and a bad setting.

use std::path::PathBuf;
use std::process::{Command, Output};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("blog-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn blog(dir: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_blog"));
    cmd.args(args).current_dir(&dir.0).env_remove("DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run blog")
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn upgrade_seed_and_check_on_the_default_sqlite_file() {
    let dir = TempDir::new("walk");
    assert_eq!(stdout(&blog(&dir, &["db", "upgrade"], &[])), "applied 3 revision(s)\n");
    assert!(dir.0.join("blog.db").exists(), "the fallback database is blog.db here");
    assert_eq!(stdout(&blog(&dir, &["db", "upgrade"], &[])), "applied 0 revision(s)\n");
    let seeded = stdout(&blog(&dir, &["seed", "--users", "3", "--batch", "2"], &[]));
    assert!(seeded.starts_with("added 3 users, 30 posts, 150 comments in "), "{seeded}");
    let again =
        stdout(&blog(&dir, &["seed", "--users", "2", "--posts", "1", "--comments", "0"], &[]));
    assert!(again.starts_with("added 2 users, 2 posts, 0 comments in "), "{again}");
    assert_eq!(
        stdout(&blog(&dir, &["db", "check"], &[])),
        "OK: models, migrations and database agree.\n"
    );
    assert_eq!(
        stdout(&blog(&dir, &["db", "current"], &[])),
        "d3a1ab1e940a (head), add age to user\n"
    );
}

#[test]
fn echo_prints_the_statements_with_their_parameters() {
    let dir = TempDir::new("echo");
    let url = format!("sqlite://{}/echo.db", dir.0.display());
    let o = blog(&dir, &["--echo", "db", "upgrade"], &[("DATABASE_URL", &url)]);
    assert_eq!(stdout(&o), "applied 3 revision(s)\n");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines().any(|l| l.starts_with("SQL ") && l.contains("CREATE TABLE \"users\"")),
        "{err}"
    );
    let o = blog(&dir, &["seed", "--users", "1", "--echo"], &[("DATABASE_URL", &url)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("'user00000@example.com'"), "parameters as SQL writes them: {err}");
    let o = blog(&dir, &["db", "upgrade"], &[("DATABASE_URL", &url)]);
    assert!(o.stderr.is_empty(), "no echo without --echo");
}

#[test]
fn a_bad_setting_stops_the_program_naming_it() {
    let dir = TempDir::new("bad");
    let o = blog(&dir, &["db", "upgrade"], &[("POOL_SIZE", "ten")]);
    assert!(!o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: configuration error: POOL_SIZE must be a whole number, not \"ten\"\n"
    );
    assert!(!dir.0.join("blog.db").exists(), "nothing opened");
}
