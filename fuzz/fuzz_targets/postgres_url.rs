//! `PgConnector::from_url`: no panic on any text, and no part of a password shows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orm_fuzz::{check_url, UrlInput};
use orm_postgres::PgConnector;

fuzz_target!(|input: UrlInput| {
    check_url(&input, &["postgresql://", "postgres://", "PostgreSQL://"], |url| {
        match PgConnector::from_url(url) {
            Ok(c) => format!("{c:?}\n{}", c.target()),
            Err(e) => format!("{e}\n{e:?}"),
        }
    });
});
