//! `SqliteConnector::from_url`: no panic on any text, and no part of a password shows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orm_fuzz::{check_url, UrlInput};
use orm_sqlite::SqliteConnector;

fuzz_target!(|input: UrlInput| {
    check_url(
        &input,
        &["sqlite://", "sqlite:", "SQLite://"],
        |url| match SqliteConnector::from_url(url) {
            Ok(c) => format!("{c:?}"),
            Err(e) => format!("{e}\n{e:?}"),
        },
    );
});
