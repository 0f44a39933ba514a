//! Raw SQL with named parameters (`:name`), mapped into `#[derive(FromRow)]` structs. The names
//! are rewritten into the dialect's placeholders; values are always bound, never spliced.

use crate::connection::Row;
use crate::dialect::{Dialect, SqlWriter};
use crate::error::{Error, Result};
use crate::value::Value;

/// A struct built from a row of a raw query, matched by column name. Implemented by
/// `#[derive(FromRow)]`, and for tuples of up to 8 [`FromValue`](crate::FromValue) types (by
/// position).
pub trait FromRow: Sized {
    /// Decodes one row.
    fn from_row(row: &dyn Row) -> Result<Self>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: crate::value::FromValue),+> FromRow for ($($t,)+) {
            fn from_row(row: &dyn Row) -> Result<Self> {
                Ok(($(crate::connection::decode_at::<$t>(row, $i, row.column_name($i).unwrap_or("?"))?,)+))
            }
        }
    };
}
tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// Looks a column up by name for a `FromRow` impl, with a clear error when it is missing.
pub fn column_index(row: &dyn Row, name: &str) -> Result<usize> {
    row.column_index(name).ok_or_else(|| Error::Decode {
        column: name.to_owned(),
        expected: "a column of this name in the result",
        got: "no such column".to_owned(),
    })
}

/// Rewrites `:name` parameters into the dialect's placeholders and orders the values to match.
/// Skips what quotes: strings (`'…'`, PostgreSQL's `E'…'` and `$$…$$` / `$tag$…$tag$`),
/// identifiers (`"…"`, `` `…` ``, and `[…]` where the dialect quotes with brackets), comments,
/// and `::` casts. A name used twice binds
/// twice; a name with no value, or a value with no name in the SQL, is an error.
pub fn bind_named(
    dialect: &dyn Dialect,
    sql: &str,
    params: &[(String, Value)],
) -> Result<(String, Vec<Value>)> {
    let mut w = SqlWriter::new();
    let bytes = sql.as_bytes();
    let mut used = vec![false; params.len()];
    let mut i = 0;
    let mut start = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            // E'...' (PostgreSQL): a backslash escapes the next character, a quote too.
            b'\''
                if i > 0
                    && matches!(bytes[i - 1], b'E' | b'e')
                    && (i < 2
                        || !(bytes[i - 2].is_ascii_alphanumeric() || bytes[i - 2] == b'_')) =>
            {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'\'' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                i = j + 1;
            }
            b'\'' | b'"' | b'`' => {
                let close =
                    bytes[i + 1..].iter().position(|&b| b == c).map_or(bytes.len(), |p| i + 1 + p);
                i = close + 1;
            }
            // [name]: a quoted identifier where the dialect says so (SQLite); elsewhere an
            // array subscript or constructor, whose parameters are parameters.
            b'[' if dialect.brackets_quote_identifiers() => {
                i = bytes[i..].iter().position(|&b| b == b']').map_or(bytes.len(), |p| i + p + 1);
            }
            // $$...$$ or $tag$...$tag$: a dollar-quoted string (PostgreSQL).
            b'$' if dollar_tag(&sql[i..]).is_some() => {
                let tag = dollar_tag(&sql[i..]).unwrap_or("$$");
                let body = i + tag.len();
                i = sql[body..].find(tag).map_or(bytes.len(), |p| body + p + tag.len());
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| i + p);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(bytes.len(), |p| i + 2 + p + 2);
            }
            b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
            b':' if bytes.get(i + 1).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') => {
                let name_start = i + 1;
                let mut end = name_start;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                let name = &sql[name_start..end];
                let Some(pos) = params.iter().position(|(n, _)| n == name) else {
                    return Err(Error::InvalidUse(format!("no value bound for parameter :{name}")));
                };
                used[pos] = true;
                w.push(&sql[start..i]);
                dialect.write_value(&mut w, &params[pos].1);
                i = end;
                start = end;
            }
            _ => i += 1,
        }
    }
    w.push(&sql[start.min(sql.len())..]);
    if let Some(p) = used.iter().position(|u| !u) {
        return Err(Error::InvalidUse(format!(
            "parameter :{} is bound but not used in the SQL",
            params[p].0
        )));
    }
    let r = w.finish()?;
    Ok((r.sql, r.params))
}

/// The opening tag of a dollar-quoted string at the start of `s` (`$$`, `$body$`), if any.
fn dollar_tag(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('$')?;
    let len = rest.find('$')?;
    let tag = &rest[..len];
    let valid = tag.chars().next().is_none_or(|c| c.is_ascii_alphabetic() || c == '_')
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| &s[..len + 2])
}
