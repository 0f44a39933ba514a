//! A PostgreSQL server for test suites, so that one `cargo test` covers both backends.
//!
//! [`url`] gives the URL of a server: `ORM_TEST_POSTGRES_URL` when it is set, otherwise a
//! throwaway cluster that this process starts on first use (`initdb` into a temporary folder, a
//! free loopback port, durability off for speed) and that is stopped and removed when the process
//! ends. When running as root the cluster runs as the `postgres` user (`initdb` refuses root).
//! No PostgreSQL binaries is a loud error saying how to install them, never a skipped test.
//!
//! [`TestSchema::create`] gives each test its own empty schema on that server (fast, and enum
//! types and sequences start afresh), dropped again when the guard is dropped.
//!
//! Only with the `testing` feature, which a test suite enables as a dev-dependency:
//!
//! ```toml
//! [dev-dependencies]
//! orm-postgres = { version = "0.1", features = ["testing"] }
//! ```

use orm_core::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable naming an existing server to test against instead of a throwaway
/// one, e.g. `postgresql://postgres:secret@localhost:5432/orm_test`.
pub const URL_ENV: &str = "ORM_TEST_POSTGRES_URL";

static SERVER: OnceLock<std::result::Result<String, String>> = OnceLock::new();
static NEXT_SCHEMA: AtomicU64 = AtomicU64::new(1);

/// The URL of the test server, starting a throwaway cluster on first use when
/// `ORM_TEST_POSTGRES_URL` is not set.
pub fn url() -> Result<String> {
    SERVER
        .get_or_init(|| match std::env::var(URL_ENV) {
            Ok(u) if !u.trim().is_empty() => Ok(u.trim().to_owned()),
            _ => start_cluster().map_err(|e| e.to_string()),
        })
        .clone()
        .map_err(Error::Connection)
}

/// An empty schema of its own on the test server; dropped (CASCADE) with the guard.
#[derive(Debug)]
pub struct TestSchema {
    base: String,
    name: String,
    url: String,
}

impl TestSchema {
    /// Creates a schema with a unique name and a URL whose connections use it
    /// (`options=-c search_path=<schema>`).
    pub fn create() -> Result<TestSchema> {
        let base = url()?;
        let name = format!(
            "orm_test_{}_{}",
            std::process::id(),
            NEXT_SCHEMA.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = plain_client(&base)?;
        client
            .batch_execute(&format!("CREATE SCHEMA \"{name}\""))
            .map_err(|e| Error::Connection(format!("creating test schema {name}: {e}")))?;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
        Ok(TestSchema { base, name, url })
    }

    /// The URL to connect to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = plain_client(&self.base) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}

fn plain_client(url: &str) -> Result<postgres::Client> {
    postgres::Client::connect(url, postgres::NoTls)
        .map_err(|e| Error::Connection(format!("test server at {}: {e}", redact(url))))
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(c) => format!("{}:***{}", &url[..s + 3 + c], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

const INSTALL_HINT: &str = "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or \
     under /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `apt-get install -y postgresql`) \
     or point the tests at a server with ORM_TEST_POSTGRES_URL=postgresql://user:pass@host/db";

/// The folder holding `initdb` and `pg_ctl`: on PATH, or Debian's versioned folders (newest).
fn find_bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the cluster's owner: `runuser -u postgres --` when we are root.
fn as_owner(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut cmd: Command, what: &str) -> Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Connection(format!("{what}: cannot run: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Connection(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Connection(format!("no free loopback port: {e}")))?;
    l.local_addr().map(|a| a.port()).map_err(|e| Error::Connection(e.to_string()))
}

fn start_cluster() -> Result<String> {
    let bin = find_bin_dir().ok_or_else(|| Error::Connection(INSTALL_HINT.to_owned()))?;
    let root = is_root();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("orm-test-pg-{}-{nanos}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Connection(format!("creating {}: {e}", dir.display())))?;
    if root {
        run(
            {
                let mut c = Command::new("chown");
                c.args(["-R", "postgres:postgres"]).arg(&dir);
                c
            },
            "chown of the test cluster folder to postgres",
        )?;
    }
    let mut initdb = as_owner(root, &bin.join("initdb"));
    initdb.arg("-D").arg(&data).args([
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    ]);
    run(initdb, "initdb")?;

    let port = free_port()?;
    let opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=200",
        dir.display()
    );
    let mut pg_ctl = as_owner(root, &bin.join("pg_ctl"));
    pg_ctl
        .arg("-D")
        .arg(&data)
        .arg("-o")
        .arg(&opts)
        .arg("-l")
        .arg(dir.join("server.log"))
        .args(["-w", "-t", "60", "start"]);
    if let Err(e) = run(pg_ctl, "pg_ctl start") {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        return Err(Error::Connection(format!("{e}\nserver log:\n{log}")));
    }
    spawn_reaper(root, &bin, &dir, &data);
    Ok(format!("postgresql://postgres@127.0.0.1:{port}/postgres"))
}

/// Stops the cluster and removes its folder once this process has exited, whichever way it
/// exits: a detached shell waits for our pid to disappear.
fn spawn_reaper(root: bool, bin: &Path, dir: &Path, data: &Path) {
    let pg_ctl = bin.join("pg_ctl");
    let stop = if root {
        format!(
            "runuser -u postgres -- '{}' -D '{}' -m immediate stop",
            pg_ctl.display(),
            data.display()
        )
    } else {
        format!("'{}' -D '{}' -m immediate stop", pg_ctl.display(), data.display())
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display()
    );
    let _ = Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
