//! TLS against a real server started with `ssl = on` and a certificate for `localhost` made at
//! test time (by an authority made at test time): every `sslmode`, checked on the server side
//! with `pg_stat_ssl`.

mod common;

use common::one;
use orm_core::{Connection, Error};
use orm_postgres::test_server::TestCluster;
use orm_postgres::PgConnector;

fn encrypted(url: &str) -> orm_core::Result<bool> {
    let mut conn = PgConnector::from_url(url)?.open()?;
    one(&mut conn, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
}

fn refused(url: &str) -> String {
    match PgConnector::from_url(url).and_then(|c| c.open()) {
        Err(Error::Connection { message: m, .. }) => m,
        Err(e) => panic!("{url}: expected a connection error, got {e:?}"),
        Ok(mut c) => panic!("{url}: connected (valid: {})", c.is_valid()),
    }
}

#[test]
fn every_sslmode_against_a_server_with_tls() -> orm_core::Result<()> {
    let cluster = TestCluster::start_new_with_tls()?;
    let port = cluster.port();
    let ca = cluster.certs().expect("certificates").ca.display().to_string();
    let by_ip = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    let by_name = format!("postgresql://postgres@localhost:{port}/postgres");

    assert!(!encrypted(&format!("{by_ip}?sslmode=disable"))?, "disable: no TLS");
    assert!(encrypted(&by_ip)?, "prefer (the default): TLS when the server offers it");
    assert!(encrypted(&format!("{by_ip}?sslmode=allow"))?);
    // require: encrypted, the certificate not checked (libpq's rule without a root file).
    assert!(encrypted(&format!("{by_ip}?sslmode=require"))?);
    // verify-ca: signed by the authority, whatever the name.
    assert!(encrypted(&format!("{by_ip}?sslmode=verify-ca&sslrootcert={ca}"))?);
    // verify-full: and issued for the host connected to.
    assert!(encrypted(&format!("{by_name}?sslmode=verify-full&sslrootcert={ca}"))?);
    let m = refused(&format!("{by_ip}?sslmode=verify-full&sslrootcert={ca}"));
    assert!(m.contains("certificate"), "verify-full on a wrong host name: {m}");
    // An authority the client does not trust (the system's store has not got ours).
    let m = refused(&format!("{by_name}?sslmode=verify-full&sslrootcert=system"));
    assert!(m.contains("certificate"), "verify-full with untrusted roots: {m}");
    // require with a root file checks the chain too (as verify-ca), as libpq does.
    let m = refused(&format!("{by_ip}?sslmode=require&sslrootcert={}", cluster_foreign_ca()?));
    assert!(m.contains("certificate"), "require with a foreign root file: {m}");
    Ok(())
}

#[test]
fn require_refuses_a_server_without_tls() -> orm_core::Result<()> {
    let cluster = TestCluster::start_new()?;
    let m = refused(&format!("{}?sslmode=require", cluster.url()));
    assert!(m.to_lowercase().contains("tls") || m.contains("SSL"), "{m}");
    // prefer falls back to a plain connection.
    assert!(!encrypted(&cluster.url())?);
    Ok(())
}

/// The authority of another TLS cluster: a root that did not sign the first one's certificate.
fn cluster_foreign_ca() -> orm_core::Result<String> {
    static OTHER: std::sync::OnceLock<(TestCluster, String)> = std::sync::OnceLock::new();
    if let Some((_, ca)) = OTHER.get() {
        return Ok(ca.clone());
    }
    let other = TestCluster::start_new_with_tls()?;
    other.stop()?;
    let ca = other.certs().expect("certificates").ca.display().to_string();
    Ok(OTHER.get_or_init(|| (other, ca)).1.clone())
}
