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
        .map_err(Error::connection)
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
        // Where the driver may block (also inside an async runtime), closed there too.
        crate::runtime::call(|| {
            plain_client(&base)?
                .batch_execute(&format!("CREATE SCHEMA \"{name}\""))
                .map_err(|e| Error::connection(format!("creating test schema {name}: {e}")))
        })??;
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
        // Where the driver may block (also inside an async runtime), closed there too.
        let _ = crate::runtime::call(|| {
            if let Ok(mut c) = plain_client(&self.base) {
                let _ =
                    c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
            }
        });
    }
}

fn plain_client(url: &str) -> Result<postgres::Client> {
    postgres::Client::connect(url, postgres::NoTls)
        .map_err(|e| Error::connection(format!("test server at {}: {e}", redact(url))))
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
        .map_err(|e| Error::connection(format!("{what}: cannot run: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::connection(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::connection(format!("no free loopback port: {e}")))?;
    l.local_addr().map(|a| a.port()).map_err(|e| Error::connection(e.to_string()))
}

fn start_cluster() -> Result<String> {
    let cluster = TestCluster::init(false)?;
    cluster.start()?;
    let url = cluster.url();
    // Lives as long as the process; the reaper stops it.
    std::mem::forget(cluster);
    Ok(url)
}

/// A throwaway cluster of one's own, for tests that stop, restart or reconfigure the server
/// (which the shared server of [`url`] must never be): `initdb` into a temporary folder, a free
/// loopback port, stopped and removed when dropped (or when the process exits).
#[derive(Debug)]
pub struct TestCluster {
    bin: PathBuf,
    root: bool,
    dir: PathBuf,
    data: PathBuf,
    port: u16,
    tls: Option<TestCerts>,
}

/// The certificates of a [`TestCluster`] started with TLS: a certificate authority, and the
/// server's certificate it signed, issued for the name `localhost` only.
#[derive(Debug, Clone)]
pub struct TestCerts {
    /// The authority's certificate (PEM), to give as `sslrootcert`.
    pub ca: PathBuf,
}

impl TestCluster {
    /// A new cluster, started, without TLS.
    pub fn start_new() -> Result<TestCluster> {
        let c = TestCluster::init(false)?;
        c.start()?;
        Ok(c)
    }

    /// A new cluster, started with `ssl = on` and a certificate for `localhost` signed by an
    /// authority made now (with the `openssl` command).
    pub fn start_new_with_tls() -> Result<TestCluster> {
        let c = TestCluster::init(true)?;
        c.start()?;
        Ok(c)
    }

    fn init(tls: bool) -> Result<TestCluster> {
        let bin = find_bin_dir().ok_or_else(|| Error::connection(INSTALL_HINT.to_owned()))?;
        let root = is_root();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = NEXT_SCHEMA.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("orm-test-pg-{}-{nanos}-{n}", std::process::id()));
        let data = dir.join("data");
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::connection(format!("creating {}: {e}", dir.display())))?;
        let mut cluster = TestCluster { bin, root, dir, data, port: free_port()?, tls: None };
        if root {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(&cluster.dir);
                    c
                },
                "chown of the test cluster folder to postgres",
            )?;
        }
        let mut initdb = as_owner(root, &cluster.bin.join("initdb"));
        initdb.arg("-D").arg(&cluster.data).args([
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
        if tls {
            cluster.tls = Some(cluster.make_certs()?);
        }
        spawn_reaper(root, &cluster.bin, &cluster.dir, &cluster.data);
        Ok(cluster)
    }

    /// Makes a CA and a server certificate for `localhost` in the data folder.
    fn make_certs(&self) -> Result<TestCerts> {
        let d = &self.data;
        let openssl = |args: &[&str], what: &str| -> Result<()> {
            let mut c = Command::new("openssl");
            c.args(args).current_dir(d);
            run(c, what)
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let mut args = vec!["req", "-x509", "-days", "2", "-subj", "/CN=orm test CA"];
        args.extend(ec);
        args.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&args, "openssl: the test CA (is the openssl command installed?)")?;
        let mut args = vec!["req", "-subj", "/CN=localhost"];
        args.extend(ec);
        args.extend(["-keyout", "server.key", "-out", "server.csr"]);
        openssl(&args, "openssl: the server's key")?;
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .map_err(|e| Error::connection(format!("writing server.ext: {e}")))?;
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                "server.crt",
            ],
            "openssl: the server's certificate",
        )?;
        if self.root {
            let mut c = Command::new("chown");
            c.args(["postgres:postgres", "server.key", "server.crt"]).current_dir(d);
            run(c, "chown of the server's key")?;
        }
        let mut c = Command::new("chmod");
        c.args(["600", "server.key"]).current_dir(d);
        run(c, "chmod of the server's key")?;
        // A copy the tests can read whoever runs them.
        let ca = self.dir.join("ca.crt");
        std::fs::copy(d.join("ca.crt"), &ca)
            .map_err(|e| Error::connection(format!("copying ca.crt: {e}")))?;
        Ok(TestCerts { ca })
    }

    /// The certificates, when started with TLS.
    pub fn certs(&self) -> Option<&TestCerts> {
        self.tls.as_ref()
    }

    /// `postgresql://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on (loopback only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server (waits until it accepts connections).
    pub fn start(&self) -> Result<()> {
        let mut opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        if self.tls.is_some() {
            opts.push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
        }
        let mut pg_ctl = as_owner(self.root, &self.bin.join("pg_ctl"));
        pg_ctl
            .arg("-D")
            .arg(&self.data)
            .arg("-o")
            .arg(&opts)
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "start"]);
        run(pg_ctl, "pg_ctl start").map_err(|e| {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            Error::connection(format!("{e}\nserver log:\n{log}"))
        })
    }

    /// Stops the server the way an administrator's fast shutdown does: every backend is told
    /// to terminate (SQLSTATE 57P01) and its connection closed.
    pub fn stop(&self) -> Result<()> {
        let mut pg_ctl = as_owner(self.root, &self.bin.join("pg_ctl"));
        pg_ctl.arg("-D").arg(&self.data).args(["-m", "fast", "-w", "stop"]);
        run(pg_ctl, "pg_ctl stop")
    }

    /// Stops and starts the server again on the same port and data.
    pub fn restart(&self) -> Result<()> {
        self.stop()?;
        self.start()
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let mut pg_ctl = as_owner(self.root, &self.bin.join("pg_ctl"));
        pg_ctl.arg("-D").arg(&self.data).args(["-m", "immediate", "stop"]);
        let _ = pg_ctl.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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
