//! `postgres` errors as [`orm_core::Error`]s, told apart by SQLSTATE:
//!
//! | SQLSTATE | error |
//! |---|---|
//! | `23505` unique_violation | `UniqueViolation`: table, the key's columns (from the DETAIL), constraint |
//! | `23503` foreign_key_violation | `ForeignKeyViolation`: table, the key's columns, constraint |
//! | `23502` not_null_violation | `NotNullViolation`: table, column |
//! | `23514` check_violation | `CheckViolation`: table, constraint |
//! | `40001` serialization_failure | `SerializationFailure` |
//! | `40P01` deadlock_detected | `Deadlock` |
//! | class `08` and `57P01`-`57P03` | `Connection` |
//! | anything else | `Database { code: Some(sqlstate), message }` |
//!
//! A closed connection or an I/O failure is `Connection`; a value that does not fit its parameter
//! ([`BindError`]) is `InvalidUse`. Messages are the server's, with its DETAIL and HINT appended.

use crate::value::BindError;
use orm_core::{ConstraintInfo, Error};
use postgres::error::DbError;

/// Converts a `postgres` error into the ORM's error.
pub fn from_postgres(e: postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let read = from_db_error(db);
        return read.caused_by(e);
    }
    if let Some(b) = find_source::<BindError>(&e) {
        return Error::InvalidUse(b.to_string());
    }
    if e.is_closed() || find_source::<std::io::Error>(&e).is_some() {
        return Error::connection_caused_by(e.to_string(), e);
    }
    let message = e.to_string();
    Error::database(None, message).caused_by(e)
}

/// Converts an error the server reported.
pub fn from_db_error(db: &DbError) -> Error {
    let code = db.code().code();
    let message = full_message(db);
    match code {
        "23505" => Error::UniqueViolation(info(db, key_columns(db.detail()), message)),
        "23503" => Error::ForeignKeyViolation(info(db, key_columns(db.detail()), message)),
        "23502" => Error::NotNullViolation(info(
            db,
            db.column().map(str::to_owned).into_iter().collect(),
            message,
        )),
        "23514" => Error::CheckViolation(info(
            db,
            db.column().map(str::to_owned).into_iter().collect(),
            message,
        )),
        "40001" => Error::SerializationFailure(message),
        "40P01" => Error::Deadlock(message),
        c if c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03") => {
            Error::connection(format!("{message} (SQLSTATE {c})"))
        }
        c => Error::database(Some(c.to_owned()), message),
    }
}

fn info(db: &DbError, columns: Vec<String>, message: String) -> ConstraintInfo {
    ConstraintInfo {
        table: db.table().map(str::to_owned),
        columns,
        constraint: db.constraint().map(str::to_owned),
        message,
    }
}

/// The server's message, then its DETAIL and HINT when it gave them:
/// `duplicate key value violates unique constraint "uq"; detail: Key (email)=(a@x) already exists.`
pub fn full_message(db: &DbError) -> String {
    let mut m = db.message().to_owned();
    if let Some(d) = db.detail() {
        m.push_str("; detail: ");
        m.push_str(d);
    }
    if let Some(h) = db.hint() {
        m.push_str("; hint: ");
        m.push_str(h);
    }
    m
}

/// The columns named by a key DETAIL: `Key (a, b)=(1, 2) already exists.` gives `["a", "b"]`;
/// quoted names (`"Odd ""name"""`) are unquoted. Nothing for an expression key or another text.
pub fn key_columns(detail: Option<&str>) -> Vec<String> {
    let Some(rest) = detail.and_then(|d| d.strip_prefix("Key (")) else {
        return Vec::new();
    };
    let Some(end) = rest.find(")=(") else {
        return Vec::new();
    };
    let list = &rest[..end];
    let mut out = Vec::new();
    let mut chars = list.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut name = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        name.push('"');
                    }
                    Some('"') | None => break,
                    Some(c) => name.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                name.push(c);
                chars.next();
            }
            // An expression (`lower(email::text)`) names no single column.
            if !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                return Vec::new();
            }
        }
        if name.is_empty() {
            return Vec::new();
        }
        out.push(name);
        match chars.next() {
            Some(',') => continue,
            None => break,
            Some(_) => return Vec::new(),
        }
    }
    out
}

fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<T>() {
            return Some(t);
        }
        cur = err.source();
    }
    None
}
