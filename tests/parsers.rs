//! Properties of the parsers that read text a user supplies: SQLite and PostgreSQL URLs, raw SQL
//! with named parameters, revision files.
//!
//! - No input makes any of them panic.
//! - No part of a URL's password shows: not in an error (Display or Debug), not in the Debug
//!   output of the connector a URL gives. The password is random, with the characters that end
//!   a part of a URL (`? @ / : # % & = [ ]`) and percent escapes in it, written as is or escaped,
//!   in the user info and as a `password=` option, among other options and garbage.
//! - Raw SQL binds exactly the `:name`s outside strings, quoted identifiers, comments and casts,
//!   in order, and leaves the rest of the text as it was.
//! - A revision reads back as it was written.
//!
//! `ORM_PARSER_CASES` sets the number of cases per property (2,000 by default; more by hand).
//! The fuzz targets in `fuzz/` run the same parsers for as long as one likes.

use orm::migrate::{
    Check, Column, ColumnType, ForeignKey, Index, IndexKey, Literal, ObjectKind, Op, Revision,
    Revisions, SqlObject, Step, Table,
};
use orm::raw::bind_named;
use orm::schema::ReferentialAction;
use orm::{Dialect, Value};
use orm_postgres::PgConnector;
use orm_sqlite::SqliteConnector;
use proptest::prelude::*;
use proptest::test_runner::Config;

fn cases() -> u32 {
    std::env::var("ORM_PARSER_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

fn config() -> Config {
    Config { cases: cases(), failure_persistence: None, ..Config::default() }
}

/// Text made of the pieces that trouble parsers: quotes of every kind, escapes, line breaks,
/// control characters, delimiters, non-ASCII.
fn awkward_text(max: usize) -> BoxedStrategy<String> {
    const PIECES: &[&str] = &[
        "'",
        "''",
        "'''",
        "\"",
        "\"\"\"",
        "\\",
        "\\u0041",
        "\n",
        "\r",
        "\r\n",
        "\t",
        "\u{0}",
        "\u{1b}",
        "\u{7f}",
        "\u{feff}",
        "é",
        "🔑",
        "#",
        "=",
        "[[x]]",
        "{ a = 1 }",
        ",",
        "$$",
        ":a",
        "%",
    ];
    const PLAIN: &[&str] = &["a", "Zz", "0", "42", "_", " ", "id", "user_name", "x1 ", "SELECT"];
    let piece = prop_oneof![
        prop::sample::select(PLAIN).prop_map(str::to_owned),
        prop::sample::select(PIECES).prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..max).prop_map(|v| v.concat()).boxed()
}

/// Any text, including what no URL or SQL would hold.
fn any_text() -> BoxedStrategy<String> {
    prop_oneof![any::<String>(), awkward_text(16), "[ -~]{0,40}"].boxed()
}

// ----------------------------------------------------------------------------------------------
// URLs

/// A password: letters and digits, the characters that end a part of a URL, percent escapes
/// (good and bad), non-ASCII.
fn password() -> impl Strategy<Value = String> {
    let select = |v: &'static [&'static str]| prop::sample::select(v).prop_map(str::to_owned);
    let piece = prop_oneof![
        6 => "[a-zA-Z0-9]{1,3}",
        4 => select(&["?", "@", "/", ":", "#", "%", "&", "=", "[", "]"]),
        1 => select(&["%2F", "%40", "%3f", "%25", "%zz", "%4", "%C3%A9", "%ff"]),
        1 => select(&["é", "🔑", " ", "+", "~", "-", "_", ".", "!", "$", "'"]),
    ];
    prop::collection::vec(piece, 1..10).prop_map(|v| v.concat())
}

/// `s` with everything but the unreserved characters percent-escaped.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The same shape with other letters and digits: ROT13 and +5, leaving the two characters after
/// a `%` alone so an escape stays (in)valid. A URL with it takes the same path through a parser,
/// so text that shows with both passwords is the parser's own, not the password's.
fn rotate(s: &str) -> String {
    let mut after_percent = 0;
    s.chars()
        .map(|c| {
            if after_percent > 0 {
                after_percent -= 1;
                return c;
            }
            if c == '%' {
                after_percent = 2;
            }
            let shift = |c: char, base: u8, n: u8, by: u8| {
                char::from(base + (u8::try_from(c).unwrap_or(base) - base + by) % n)
            };
            match c {
                'a'..='z' => shift(c, b'a', 26, 13),
                'A'..='Z' => shift(c, b'A', 26, 13),
                '0'..='9' => shift(c, b'0', 10, 5),
                c => c,
            }
        })
        .collect()
}

/// Where the password goes.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// `user:password@`.
    UserInfo,
    /// `password=...`, among the options.
    Option,
    /// Both.
    Both,
}

/// A URL around a password: the scheme, the user info's user, host and path, the options; the
/// password goes in per `place`, as is or escaped.
#[derive(Debug, Clone)]
struct UrlCase {
    scheme: String,
    user: String,
    host_and_path: String,
    options: Vec<String>,
    option_at: usize,
    place: Place,
    escaped: bool,
    password: String,
}

impl UrlCase {
    /// The URL with `password` written in, and the same with each place of the password marked
    /// by a NUL (to find text that occurs elsewhere in the URL).
    fn build(&self, password: &str) -> (String, String) {
        let written = if self.escaped { escape(password) } else { password.to_owned() };
        let mut urls = (String::new(), String::new());
        for (out, pw) in [(&mut urls.0, written.as_str()), (&mut urls.1, "\u{0}")] {
            out.push_str(&self.scheme);
            if matches!(self.place, Place::UserInfo | Place::Both) {
                out.push_str(&format!("{}:{pw}@", self.user));
            }
            out.push_str(&self.host_and_path);
            let mut options = self.options.clone();
            if matches!(self.place, Place::Option | Place::Both) {
                let at = self.option_at.min(options.len());
                options.insert(at, format!("password={pw}"));
            }
            if !options.is_empty() {
                out.push('?');
                out.push_str(&options.join("&"));
            }
        }
        urls
    }
}

fn url_case(
    schemes: Vec<&'static str>,
    users: Vec<&'static str>,
    hosts_and_paths: Vec<&'static str>,
    options: Vec<&'static str>,
) -> impl Strategy<Value = UrlCase> {
    let option = prop_oneof![
        4 => prop::sample::select(options).prop_map(str::to_owned),
        1 => "[a-z_]{1,6}=[a-z0-9%]{0,4}",
        1 => "[a-z&=%?#@:/]{0,8}",
    ];
    (
        prop::sample::select(schemes),
        prop::sample::select(users),
        prop::sample::select(hosts_and_paths),
        prop::collection::vec(option, 0..4),
        0..4usize,
        prop_oneof![Just(Place::UserInfo), Just(Place::Option), Just(Place::Both)],
        any::<bool>(),
        password(),
    )
        .prop_map(|(scheme, user, hp, options, option_at, place, escaped, password)| UrlCase {
            scheme: scheme.to_owned(),
            user: user.to_owned(),
            host_and_path: hp.to_owned(),
            options,
            option_at,
            place,
            escaped,
            password,
        })
}

fn postgres_url() -> impl Strategy<Value = UrlCase> {
    url_case(
        vec!["postgresql://", "postgres://", "PostgreSQL://"],
        vec!["", "u", "app_user", "%75ser"],
        vec![
            "host/db",
            "",
            "/db",
            "localhost:5432/app",
            "db.internal:5433",
            "[::1]:5432/db",
            "h1:5432,h2:5433/db",
            "%2Ftmp/db",
            "host:99999/db",
        ],
        vec![
            "application_name=web",
            "pool_size=3",
            "sslmode=disable",
            "sslmode=require",
            "connect_timeout=5",
            "max_overflow=0",
            "pool_timeout=1.5",
            "options=-c%20x%3D1",
            "port=5433",
            "host=%2Ftmp",
            "user=bob",
            "dbname=other",
            "pool_size=zero",
            "foo=bar",
            "",
            "=x",
            "nokey",
        ],
    )
}

fn sqlite_url() -> impl Strategy<Value = UrlCase> {
    url_case(
        vec!["sqlite://", "sqlite:", "SQLite://"],
        vec!["", "u", "app_user"],
        vec!["host/app.db", "app.db", "/tmp/app.db", "", ":memory:", "dir/app.db", "my%20app.db"],
        vec![
            "mode=ro",
            "mode=rwc",
            "busy_timeout=100",
            "journal_mode=delete",
            "synchronous=full",
            "foreign_keys=off",
            "pool_size=2",
            "max_overflow=1",
            "pool_timeout=3",
            "mode=bad",
            "cache=shared",
            "",
            "=x",
            "nokey",
        ],
    )
}

/// What a parser says about a URL: its error (Display and Debug) or the connector's Debug.
fn sqlite_says(url: &str) -> String {
    match SqliteConnector::from_url(url) {
        Ok(c) => format!("{c:?}"),
        Err(e) => format!("{e}\n{e:?}"),
    }
}

fn postgres_says(url: &str) -> String {
    match PgConnector::from_url(url) {
        Ok(c) => format!("{c:?}\n{}", c.target()),
        Err(e) => format!("{e}\n{e:?}"),
    }
}

/// Whether user information (`user:password`, as written) with an unescaped `@` and, after it,
/// an unescaped `?` reads two ways: the `@` may end the user information or the `?` start the
/// query (`postgresql://:U:@p_0U?password=@`). Such a URL is not well formed (RFC 3986 has no
/// `@` in user information); the parser reads it one way, and what it then shows of the host
/// or the query is not counted as a leak.
fn two_readings(written: &str) -> bool {
    written.find('@').is_some_and(|at| written[at..].contains('?'))
}

/// A part of the password that `says` shows for the URL of `case`: four characters or more of
/// the password (as written in the URL, or as meant) that occur nowhere else in the URL and
/// that the parser does not also show with another password of the same shape.
fn leaked_part(case: &UrlCase, says: fn(&str) -> String) -> Option<String> {
    let (url, elsewhere) = case.build(&case.password);
    let said = says(&url);
    let (other_url, _) = case.build(&rotate(&case.password));
    let said_for_other = says(&other_url);
    let written = if case.escaped { escape(&case.password) } else { case.password.clone() };
    if matches!(case.place, Place::UserInfo | Place::Both)
        && two_readings(&format!("{}:{written}", case.user))
    {
        return None;
    }
    if matches!(case.place, Place::Option | Place::Both) && written.contains('&') {
        // `password=a&host=b`: an unescaped `&` makes two options of the password.
        return None;
    }
    for form in [&case.password, &written] {
        let chars: Vec<char> = form.chars().collect();
        for w in chars.windows(4) {
            let part: String = w.iter().collect();
            if said.contains(&part) && !elsewhere.contains(&part) && !said_for_other.contains(&part)
            {
                return Some(format!("`{part}` of the password shows in: {said}"));
            }
        }
    }
    None
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_url_panics_a_parser(url in prop_oneof![
        any_text(),
        any_text().prop_map(|s| format!("sqlite:{s}")),
        any_text().prop_map(|s| format!("sqlite://{s}")),
        any_text().prop_map(|s| format!("postgresql://{s}")),
        "(postgres|sqlite)://[a-z:@/?&=%#\\[\\],.0-9]{0,30}",
    ]) {
        let _ = SqliteConnector::from_url(&url);
        let _ = PgConnector::from_url(&url).map(|c| c.target());
    }

    #[test]
    fn no_sqlite_url_shows_its_password(case in sqlite_url()) {
        if let Some(leak) = leaked_part(&case, sqlite_says) {
            prop_assert!(false, "{} {leak}", case.build(&case.password).0);
        }
    }

    #[test]
    fn no_postgres_url_shows_its_password(case in postgres_url()) {
        if let Some(leak) = leaked_part(&case, postgres_says) {
            prop_assert!(false, "{} {leak}", case.build(&case.password).0);
        }
    }
}

/// The leak the issue found: a password with an unescaped `?` (or `#`, `/`) in the user info,
/// read as a port or a host; and one with an unescaped `&` in `password=`, whose rest reads as
/// another option.
#[test]
fn a_password_with_a_url_delimiter_never_shows() {
    let pg = [
        "postgresql://u:hunter2?x@host/db",
        "postgresql://u:hunter2?@host/db",
        "postgresql://u:hunter2?sslmode=disable@host/db",
        "postgresql://u:x?hunter2@host/db",
        "postgresql://u:hunter2#x@host/db",
        "postgresql://u:hunter2/x@host/db",
        "postgresql://u:hunter2%zz@host/db",
        "postgresql://:hunter2@host/db",
        "postgresql://u:hunter2@host:bad/db",
        "postgresql://host/db?password=hunter2%zz",
        "postgresql://host/db?password=x&hunter2",
        "postgresql://host/db?password=x&hunter2=y&hunter2",
    ];
    let sqlite = [
        "sqlite://u:hunter2?x@host/db",
        "sqlite://u:hunter2@host/app.db",
        "sqlite://u:hunter2@app.db",
        "sqlite:u:hunter2@host/app.db",
        "sqlite://u:hunter2/x@host/app.db",
        "sqlite://u:hunter2%zz@host/app.db",
        "sqlite://?password=hunter2",
        "sqlite://app.db?password=hunter2",
        "sqlite://app.db?password=hunter2%zz",
        "sqlite://app.db?password=%ffhunter2",
        "sqlite://app.db?mode=ro&password=hunter2",
    ];
    let mut leaks = Vec::new();
    for url in pg {
        let said = postgres_says(url);
        if said.contains("hunter2") {
            leaks.push(format!("{url}: {said}"));
        }
    }
    for url in sqlite {
        let said = sqlite_says(url);
        if said.contains("hunter2") {
            leaks.push(format!("{url}: {said}"));
        }
    }
    assert!(leaks.is_empty(), "the password shows:\n{}", leaks.join("\n"));
}

/// A URL that neither backend takes is refused without being echoed.
#[test]
fn an_unsupported_url_is_not_echoed() {
    for url in [
        "mysql://u:hunter2@host/db",
        "mysql://u:hunter2?x@host/db",
        "mysql://host/db?password=hunter2",
        "mysql:u:hunter2@host",
        "hunter2",
    ] {
        let e = orm::Database::connect(url).map(|_| ()).unwrap_err();
        let said = format!("{e}\n{e:?}");
        assert!(!said.contains("hunter2"), "{url}: {said}");
    }
}

// ----------------------------------------------------------------------------------------------
// Raw SQL

const NAMES: [&str; 5] = ["a", "id", "user_name", "x1", "_p"];

/// A piece of raw SQL.
#[derive(Debug, Clone)]
enum Tok {
    /// Text with nothing that quotes, comments or binds.
    Plain(String),
    /// `:name`.
    Param(usize),
    /// `'...'`, quotes doubled.
    Str(String),
    /// `E'...'` (PostgreSQL), backslash escapes.
    EStr(String),
    /// `"..."`, quotes doubled.
    Ident(String),
    /// `` `...` `` (SQLite).
    Backtick(String),
    /// `[...]`: an identifier on SQLite.
    Bracket(String),
    /// `[:name]`: an array subscript on PostgreSQL.
    Subscript(usize),
    /// `$tag$...$tag$` (PostgreSQL).
    Dollar(String, String),
    /// `-- ...` to the end of the line.
    LineComment(String),
    /// `/* ... */`.
    BlockComment(String),
    /// `::int`.
    Cast,
}

fn tok(sqlite: bool) -> impl Strategy<Value = Tok> {
    let name = 0..NAMES.len();
    let text = awkward_text(6);
    let common = prop_oneof![
        3 => "[a-dA-D0-9 ,()=+<>;.\n]{1,8}".prop_map(Tok::Plain),
        3 => name.clone().prop_map(Tok::Param),
        2 => text.clone().prop_map(Tok::Str),
        2 => text.clone().prop_map(Tok::Ident),
        1 => ("[a-z_]{0,3}", text.clone())
            .prop_map(|(t, b)| Tok::Dollar(t, b.replace('$', ""))),
        1 => text.clone().prop_map(|s| Tok::LineComment(s.replace(['\n', '\r'], ""))),
        1 => text.clone().prop_map(|s| Tok::BlockComment(s.replace(['*', '/'], ""))),
        1 => Just(Tok::Cast),
    ];
    if sqlite {
        prop_oneof![
            8 => common,
            1 => text.clone().prop_map(|s| Tok::Backtick(s.replace('`', ""))),
            1 => text.prop_map(|s| Tok::Bracket(s.replace(']', ""))),
        ]
        .boxed()
    } else {
        prop_oneof![
            8 => common,
            1 => text.prop_map(Tok::EStr),
            1 => name.prop_map(Tok::Subscript),
        ]
        .boxed()
    }
}

/// The SQL of `toks`, and what binding it should give: the SQL with each parameter replaced by
/// the dialect's next placeholder, and the index of each parameter's name, in order.
fn render(toks: &[Tok], placeholder: char) -> (String, String, Vec<usize>) {
    let mut sql = String::new();
    let mut want = String::new();
    let mut bound = Vec::new();
    for t in toks {
        let text = match t {
            Tok::Plain(s) => s.clone(),
            Tok::Param(k) | Tok::Subscript(k) => {
                bound.push(*k);
                let (open, close) =
                    if matches!(t, Tok::Subscript(_)) { ("[", "]") } else { ("", "") };
                sql.push_str(&format!("{open}:{} {close}", NAMES[*k]));
                want.push_str(&format!("{open}{placeholder}{} {close}", bound.len()));
                continue;
            }
            Tok::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Tok::EStr(s) => format!(" E'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Tok::Ident(s) => format!("\"{}\"", s.replace('"', "\"\"")),
            Tok::Backtick(s) => format!("`{s}`"),
            Tok::Bracket(s) => format!("[{s}]"),
            Tok::Dollar(tag, body) => format!("${tag}${body}${tag}$"),
            Tok::LineComment(s) => format!("--{s}\n"),
            Tok::BlockComment(s) => format!("/*{s}*/"),
            Tok::Cast => "::int".to_owned(),
        };
        sql.push_str(&text);
        want.push_str(&text);
    }
    (sql, want, bound)
}

fn int(k: usize) -> Value {
    Value::Int(i64::try_from(k).unwrap_or(-1))
}

fn check_binding(dialect: &dyn Dialect, toks: &[Tok]) -> Result<(), TestCaseError> {
    let placeholder = if dialect.name() == "sqlite" { '?' } else { '$' };
    let (sql, want, bound) = render(toks, placeholder);
    let mut used: Vec<usize> = bound.clone();
    used.sort_unstable();
    used.dedup();
    let params: Vec<(String, Value)> =
        used.iter().map(|&k| (NAMES[k].to_owned(), int(k))).collect();
    let (got, values) = bind_named(dialect, &sql, &params)
        .map_err(|e| TestCaseError::fail(format!("{sql:?}: {e}")))?;
    prop_assert_eq!(&got, &want, "{:?}", sql);
    let want_values: Vec<Value> = bound.iter().map(|&k| int(k)).collect();
    prop_assert_eq!(values, want_values, "{:?}", sql);
    // A name without a value, and a value without a name, are errors.
    if let Some((_, rest)) = params.split_first() {
        prop_assert!(bind_named(dialect, &sql, rest).is_err(), "{:?}", sql);
    }
    let mut extra = params.clone();
    extra.push(("unused".to_owned(), Value::Null));
    prop_assert!(bind_named(dialect, &sql, &extra).is_err(), "{:?}", sql);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_raw_sql_panics_the_binder(sql in prop_oneof![
        any_text(),
        "[a-z:'\"`\\[\\]$E\\\\/*\\- \n]{0,30}",
    ]) {
        let params: Vec<(String, Value)> =
            NAMES.iter().map(|n| ((*n).to_owned(), Value::Null)).collect();
        for dialect in [&orm_sqlite::DIALECT as &dyn Dialect, &orm_postgres::DIALECT] {
            let _ = bind_named(dialect, &sql, &params);
            let _ = bind_named(dialect, &sql, &[]);
        }
    }

    #[test]
    fn raw_sql_binds_the_names_outside_quotes_on_sqlite(
        toks in prop::collection::vec(tok(true), 0..12)
    ) {
        check_binding(&orm_sqlite::DIALECT, &toks)?;
    }

    #[test]
    fn raw_sql_binds_the_names_outside_quotes_on_postgres(
        toks in prop::collection::vec(tok(false), 0..12)
    ) {
        check_binding(&orm_postgres::DIALECT, &toks)?;
    }
}

// ----------------------------------------------------------------------------------------------
// Revision files

fn ident() -> BoxedStrategy<String> {
    "[a-z_][a-z0-9_]{0,8}".boxed()
}

fn literal() -> BoxedStrategy<Literal> {
    prop_oneof![
        any::<bool>().prop_map(Literal::Bool),
        any::<i64>().prop_map(Literal::Int),
        prop::num::f64::NORMAL.prop_map(Literal::Float),
        Just(Literal::Float(0.0)),
        awkward_text(6).prop_map(Literal::Text),
    ]
    .boxed()
}

fn sql_type() -> BoxedStrategy<ColumnType<String>> {
    prop_oneof![
        4 => prop::sample::select(vec![
            ColumnType::SmallInt,
            ColumnType::Integer,
            ColumnType::BigInt,
            ColumnType::Real,
            ColumnType::Double,
            ColumnType::Boolean,
            ColumnType::Text,
            ColumnType::Blob,
            ColumnType::Timestamptz,
            ColumnType::Timestamp,
            ColumnType::Date,
            ColumnType::Uuid,
            ColumnType::Json,
            ColumnType::TextArray,
            ColumnType::BigIntArray,
            ColumnType::Numeric,
        ]),
        1 => ident().prop_map(ColumnType::enum_named),
        1 => awkward_text(4).prop_map(ColumnType::Custom),
    ]
    .boxed()
}

fn column() -> BoxedStrategy<Column> {
    (
        awkward_text(4),
        sql_type(),
        any::<bool>(),
        prop::option::of(any::<u32>()),
        prop::option::of(literal()),
        prop::option::of(awkward_text(4)),
        any::<bool>(),
    )
        .prop_map(|(name, ty, nullable, max_length, default, server_default, auto_increment)| {
            Column { name, ty, nullable, max_length, default, server_default, auto_increment }
        })
        .boxed()
}

fn action() -> BoxedStrategy<ReferentialAction> {
    prop::sample::select(vec![
        ReferentialAction::NoAction,
        ReferentialAction::Restrict,
        ReferentialAction::Cascade,
        ReferentialAction::SetNull,
        ReferentialAction::SetDefault,
    ])
    .boxed()
}

fn names() -> BoxedStrategy<Vec<String>> {
    prop::collection::vec(awkward_text(3), 0..3).boxed()
}

fn index_key() -> BoxedStrategy<IndexKey> {
    // Non-empty texts: an empty `column`, `expr` or `opclass` is refused by the parser.
    let text = || awkward_text(6).prop_filter("not blank", |t| !t.trim().is_empty());
    prop_oneof![
        text().prop_map(IndexKey::column),
        (text(), prop::option::of(text()))
            .prop_map(|(name, opclass)| IndexKey::Column { name, opclass }),
        (text(), prop::option::of(text()))
            .prop_map(|(expr, opclass)| IndexKey::Expr { expr, opclass }),
    ]
    .boxed()
}

fn index() -> BoxedStrategy<Index> {
    (
        awkward_text(8),
        prop::collection::vec(index_key(), 0..3),
        any::<bool>(),
        prop::option::of(awkward_text(5)),
        prop::option::of(awkward_text(8)),
    )
        .prop_map(|(name, columns, unique, using, where_clause)| Index {
            name,
            columns,
            unique,
            using,
            where_clause,
        })
        .boxed()
}

fn sql_object() -> BoxedStrategy<SqlObject> {
    (
        prop_oneof![
            Just(ObjectKind::Trigger),
            Just(ObjectKind::View),
            Just(ObjectKind::MaterializedView),
            Just(ObjectKind::Function)
        ],
        awkward_text(8),
        prop::option::of(awkward_text(8)),
    )
        .prop_map(|(kind, name, table)| SqlObject::new(kind, name, table))
        .boxed()
}

fn foreign_key() -> BoxedStrategy<ForeignKey> {
    (awkward_text(8), names(), awkward_text(8), names(), action(), action())
        .prop_map(|(name, columns, ref_table, ref_columns, on_delete, on_update)| ForeignKey {
            name,
            columns,
            ref_table,
            ref_columns,
            on_delete,
            on_update,
        })
        .boxed()
}

fn op() -> impl Strategy<Value = Op> {
    let text = || awkward_text(8);
    let table = (
        text(),
        prop::collection::vec(column(), 0..3),
        names(),
        prop::collection::vec(index(), 0..2),
        prop::collection::vec(foreign_key(), 0..2),
        prop::collection::vec((text(), text()), 0..2),
    )
        .prop_map(|(name, columns, primary_key, indexes, foreign_keys, checks)| Table {
            name,
            columns,
            primary_key,
            indexes,
            uniques: Vec::new(),
            foreign_keys,
            checks: checks.into_iter().map(|(name, expr)| Check { name, expr }).collect(),
        });
    prop_oneof![
        (
            text(),
            prop::option::of(text()),
            prop::collection::vec(sql_object(), 0..3),
            prop::collection::vec(sql_object(), 0..2)
        )
            .prop_map(|(up, down, creates, drops)| Op::Sql { up, down, creates, drops }),
        (text(), text()).prop_map(|(from, to)| Op::RenameTable { from, to }),
        (text(), text(), text()).prop_map(|(table, from, to)| Op::RenameColumn { table, from, to }),
        (text(), names()).prop_map(|(name, values)| Op::CreateEnum { name, values }),
        (text(), names(), names()).prop_map(|(name, from, to)| Op::AlterEnum { name, from, to }),
        (text(), column()).prop_map(|(table, column)| Op::AddColumn { table, column }),
        (text(), column(), column(), prop::option::of(text()), prop::option::of(text())).prop_map(
            |(table, from, to, using, down_using)| Op::AlterColumn {
                table,
                from,
                to,
                using,
                down_using
            }
        ),
        (text(), text(), text())
            .prop_map(|(table, name, expr)| Op::AddCheck { table, check: Check { name, expr } }),
        (text(), index(), any::<bool>()).prop_map(|(table, index, concurrently)| {
            Op::CreateIndex { table, index, concurrently }
        }),
        (text(), foreign_key())
            .prop_map(|(table, foreign_key)| Op::AddForeignKey { table, foreign_key }),
        table.prop_map(Op::CreateTable),
    ]
}

fn revision() -> impl Strategy<Value = Revision> {
    let step = (op(), prop::option::of(prop::sample::select(vec!["sqlite", "postgresql"])))
        .prop_map(|(op, dialect)| Step { op, dialect: dialect.map(str::to_owned) });
    (
        "[a-zA-Z0-9_-]{1,12}",
        prop::collection::vec("[a-zA-Z0-9_-]{1,12}", 0..3),
        awkward_text(8),
        awkward_text(4),
        prop::collection::vec(step, 0..4),
    )
        .prop_map(|(id, parents, message, created, ops)| Revision {
            id,
            parents,
            message,
            created,
            ops,
            file: None,
        })
}

/// Reads `text` as a revision file and does what loading a folder does with it.
fn read_revision(text: &str) {
    if let Ok(r) = Revision::parse("r.toml", text) {
        let _ = r.downgrade_steps();
        let _ = r.file_name();
        if let Ok(all) = Revisions::new(vec![r]) {
            let _ = all.replay_all(None);
            let _ = all.replay_all(Some("sqlite"));
        }
    }
}

/// `text` with the characters `at..at + len` replaced by `with`.
fn splice(text: &str, at: usize, len: usize, with: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + len).min(chars.len());
    let mut out: String = chars[..at].iter().collect();
    out.push_str(with);
    out.extend(&chars[end..]);
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_revision_reads_back_as_written(rev in revision()) {
        let text = rev.to_toml();
        let back = Revision::parse("r.toml", &text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, Revision { file: Some("r.toml".into()), ..rev }, "{}", text);
    }

    #[test]
    fn no_revision_text_panics_the_reader(text in any_text()) {
        read_revision(&text);
    }

    #[test]
    fn no_edit_of_a_revision_file_panics_the_reader(
        rev in revision(),
        edits in prop::collection::vec((any::<usize>(), 0..8usize, any_text()), 1..4),
    ) {
        let mut text = rev.to_toml();
        for (at, len, with) in edits {
            text = splice(&text, at, len, &with);
        }
        read_revision(&text);
    }
}
