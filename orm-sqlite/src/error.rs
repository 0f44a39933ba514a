//! rusqlite errors as [`orm_core::Error`]s. Constraint failures are told apart by SQLite's
//! extended result code and carry the table, columns or constraint parsed from its message;
//! anything else keeps the code's name and number, e.g. `SQLITE_BUSY (5)`.

use orm_core::{ConstraintInfo, Error};
use rusqlite::ffi;

/// `SQLITE_CONSTRAINT_CHECK`
const CONSTRAINT_CHECK: i32 = 275;
/// `SQLITE_CONSTRAINT_FOREIGNKEY`
const CONSTRAINT_FOREIGNKEY: i32 = 787;
/// `SQLITE_CONSTRAINT_NOTNULL`
const CONSTRAINT_NOTNULL: i32 = 1299;
/// `SQLITE_CONSTRAINT_PRIMARYKEY`
const CONSTRAINT_PRIMARYKEY: i32 = 1555;
/// `SQLITE_CONSTRAINT_UNIQUE`
const CONSTRAINT_UNIQUE: i32 = 2067;

/// Converts a rusqlite error into the ORM's error; a `Connection` or `Database` error keeps `e`
/// as its `source()`.
pub fn from_rusqlite(e: rusqlite::Error) -> Error {
    read(&e).caused_by(e)
}

/// The ORM's reading of `e`, without `e` itself as the source.
pub(crate) fn read(e: &rusqlite::Error) -> Error {
    use rusqlite::Error as E;
    match e {
        E::SqliteFailure(err, msg) => {
            let message = msg.clone().unwrap_or_else(|| err.to_string());
            from_code(err.extended_code, message)
        }
        // Rusqlite reports errors that point into the SQL text (syntax errors) with the place.
        E::SqlInputError { error, msg, sql, offset } => {
            from_code(error.extended_code, format!("{msg} in `{sql}` at offset {offset}"))
        }
        E::Utf8Error(u) => Error::Decode {
            column: "?".into(),
            expected: "UTF-8 text",
            got: format!("text that is not UTF-8 ({u})"),
        },
        E::InvalidColumnIndex(i) => Error::Decode {
            column: format!("#{i}"),
            expected: "a column at this position",
            got: "no such column in the result".into(),
        },
        E::InvalidColumnName(name) => Error::Decode {
            column: name.clone(),
            expected: "a column of this name in the result",
            got: "no such column".into(),
        },
        E::IntegralValueOutOfRange(i, v) => Error::Decode {
            column: format!("#{i}"),
            expected: "an integer in range",
            got: format!("integer {v}"),
        },
        E::InvalidColumnType(i, name, ty) => Error::Decode {
            column: if name.is_empty() { format!("#{i}") } else { name.clone() },
            expected: "another SQLite type",
            got: ty.to_string(),
        },
        E::FromSqlConversionFailure(i, ty, err) => Error::Decode {
            column: format!("#{i}"),
            expected: "a convertible value",
            got: format!("{ty}: {err}"),
        },
        E::InvalidParameterCount(given, expected) => Error::InvalidUse(format!(
            "the statement takes {expected} parameters, {given} were given"
        )),
        E::MultipleStatement => Error::InvalidUse(
            "more than one SQL statement given where one was expected (use execute_batch)".into(),
        ),
        E::NulError(n) => Error::InvalidUse(format!("SQL text contains a NUL byte: {n}")),
        E::InvalidPath(p) => Error::connection(format!("invalid database path {}", p.display())),
        E::ToSqlConversionFailure(err) => Error::InvalidUse(format!("cannot bind a value: {err}")),
        other => Error::database(None, other.to_string()),
    }
}

/// The error for SQLite result code `code` (extended, when the connection has them on; rusqlite
/// turns them on) with `message`.
pub fn from_code(code: i32, message: String) -> Error {
    match code {
        CONSTRAINT_UNIQUE | CONSTRAINT_PRIMARYKEY => Error::UniqueViolation(constraint(message)),
        CONSTRAINT_FOREIGNKEY => Error::ForeignKeyViolation(constraint(message)),
        CONSTRAINT_NOTNULL => Error::NotNullViolation(constraint(message)),
        CONSTRAINT_CHECK => Error::CheckViolation(constraint(message)),
        _ => match code & 0xff {
            ffi::SQLITE_CANTOPEN | ffi::SQLITE_NOTADB => Error::connection(message),
            _ => Error::database(Some(code_name(code)), message),
        },
    }
}

/// Parses SQLite's constraint messages:
/// `UNIQUE constraint failed: users.email, users.name`, `UNIQUE constraint failed: index 'ix'`,
/// `NOT NULL constraint failed: users.name`, `FOREIGN KEY constraint failed`, and
/// `CHECK constraint failed: <name>`, where the name is the constraint's, or for an unnamed
/// column CHECK (an enum column's) the column's, or for an unnamed table CHECK its expression.
pub fn constraint(message: String) -> ConstraintInfo {
    let mut info = ConstraintInfo::default();
    if let Some((kind, detail)) = message.split_once(" constraint failed: ") {
        let detail = detail.trim();
        if kind == "CHECK" {
            info.constraint = Some(detail.to_owned());
        } else if let Some(name) =
            detail.strip_prefix("index '").and_then(|rest| rest.strip_suffix('\''))
        {
            info.constraint = Some(name.to_owned());
        } else {
            for item in detail.split(", ") {
                match item.split_once('.') {
                    Some((table, column)) => {
                        if info.table.is_none() {
                            info.table = Some(table.to_owned());
                        }
                        info.columns.push(column.to_owned());
                    }
                    None => info.columns.push(item.to_owned()),
                }
            }
        }
    }
    info.message = message;
    info
}

/// `SQLITE_BUSY (5)`: the name of an extended result code (or of its primary code when the
/// extended one is not listed) and the number.
pub fn code_name(code: i32) -> String {
    let name = extended_name(code).unwrap_or_else(|| primary_name(code & 0xff));
    format!("{name} ({code})")
}

fn primary_name(code: i32) -> &'static str {
    match code {
        ffi::SQLITE_ERROR => "SQLITE_ERROR",
        ffi::SQLITE_INTERNAL => "SQLITE_INTERNAL",
        ffi::SQLITE_PERM => "SQLITE_PERM",
        ffi::SQLITE_ABORT => "SQLITE_ABORT",
        ffi::SQLITE_BUSY => "SQLITE_BUSY",
        ffi::SQLITE_LOCKED => "SQLITE_LOCKED",
        ffi::SQLITE_NOMEM => "SQLITE_NOMEM",
        ffi::SQLITE_READONLY => "SQLITE_READONLY",
        ffi::SQLITE_INTERRUPT => "SQLITE_INTERRUPT",
        ffi::SQLITE_IOERR => "SQLITE_IOERR",
        ffi::SQLITE_CORRUPT => "SQLITE_CORRUPT",
        ffi::SQLITE_NOTFOUND => "SQLITE_NOTFOUND",
        ffi::SQLITE_FULL => "SQLITE_FULL",
        ffi::SQLITE_CANTOPEN => "SQLITE_CANTOPEN",
        ffi::SQLITE_PROTOCOL => "SQLITE_PROTOCOL",
        ffi::SQLITE_EMPTY => "SQLITE_EMPTY",
        ffi::SQLITE_SCHEMA => "SQLITE_SCHEMA",
        ffi::SQLITE_TOOBIG => "SQLITE_TOOBIG",
        ffi::SQLITE_CONSTRAINT => "SQLITE_CONSTRAINT",
        ffi::SQLITE_MISMATCH => "SQLITE_MISMATCH",
        ffi::SQLITE_MISUSE => "SQLITE_MISUSE",
        ffi::SQLITE_NOLFS => "SQLITE_NOLFS",
        ffi::SQLITE_AUTH => "SQLITE_AUTH",
        ffi::SQLITE_FORMAT => "SQLITE_FORMAT",
        ffi::SQLITE_RANGE => "SQLITE_RANGE",
        ffi::SQLITE_NOTADB => "SQLITE_NOTADB",
        ffi::SQLITE_NOTICE => "SQLITE_NOTICE",
        ffi::SQLITE_WARNING => "SQLITE_WARNING",
        _ => "SQLITE_UNKNOWN",
    }
}

/// The extended codes a program is likely to meet outside the constraint kinds mapped above.
fn extended_name(code: i32) -> Option<&'static str> {
    Some(match code {
        ffi::SQLITE_BUSY_RECOVERY => "SQLITE_BUSY_RECOVERY",
        ffi::SQLITE_BUSY_SNAPSHOT => "SQLITE_BUSY_SNAPSHOT",
        ffi::SQLITE_BUSY_TIMEOUT => "SQLITE_BUSY_TIMEOUT",
        ffi::SQLITE_LOCKED_SHAREDCACHE => "SQLITE_LOCKED_SHAREDCACHE",
        ffi::SQLITE_READONLY_RECOVERY => "SQLITE_READONLY_RECOVERY",
        ffi::SQLITE_READONLY_CANTLOCK => "SQLITE_READONLY_CANTLOCK",
        ffi::SQLITE_READONLY_ROLLBACK => "SQLITE_READONLY_ROLLBACK",
        ffi::SQLITE_READONLY_DBMOVED => "SQLITE_READONLY_DBMOVED",
        ffi::SQLITE_READONLY_DIRECTORY => "SQLITE_READONLY_DIRECTORY",
        ffi::SQLITE_CONSTRAINT_CHECK => "SQLITE_CONSTRAINT_CHECK",
        ffi::SQLITE_CONSTRAINT_COMMITHOOK => "SQLITE_CONSTRAINT_COMMITHOOK",
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => "SQLITE_CONSTRAINT_FOREIGNKEY",
        ffi::SQLITE_CONSTRAINT_FUNCTION => "SQLITE_CONSTRAINT_FUNCTION",
        ffi::SQLITE_CONSTRAINT_NOTNULL => "SQLITE_CONSTRAINT_NOTNULL",
        ffi::SQLITE_CONSTRAINT_PRIMARYKEY => "SQLITE_CONSTRAINT_PRIMARYKEY",
        ffi::SQLITE_CONSTRAINT_TRIGGER => "SQLITE_CONSTRAINT_TRIGGER",
        ffi::SQLITE_CONSTRAINT_UNIQUE => "SQLITE_CONSTRAINT_UNIQUE",
        ffi::SQLITE_CONSTRAINT_VTAB => "SQLITE_CONSTRAINT_VTAB",
        ffi::SQLITE_CONSTRAINT_ROWID => "SQLITE_CONSTRAINT_ROWID",
        ffi::SQLITE_CONSTRAINT_DATATYPE => "SQLITE_CONSTRAINT_DATATYPE",
        ffi::SQLITE_CANTOPEN_ISDIR => "SQLITE_CANTOPEN_ISDIR",
        ffi::SQLITE_CANTOPEN_FULLPATH => "SQLITE_CANTOPEN_FULLPATH",
        ffi::SQLITE_IOERR_READ => "SQLITE_IOERR_READ",
        ffi::SQLITE_IOERR_WRITE => "SQLITE_IOERR_WRITE",
        ffi::SQLITE_IOERR_FSYNC => "SQLITE_IOERR_FSYNC",
        ffi::SQLITE_IOERR_NOMEM => "SQLITE_IOERR_NOMEM",
        ffi::SQLITE_ERROR_RETRY => "SQLITE_ERROR_RETRY",
        _ => return None,
    })
}
