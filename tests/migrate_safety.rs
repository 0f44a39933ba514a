//! Migrations never lose data silently, on both backends: a column change that would cut a
//! text, round a number or fail on some rows counts those rows first and fails the revision
//! with `Error::DataLoss` (inside its transaction, so the rows and the version stay as they
//! were); the failed-migration error says where the database is, for an upgrade and a
//! downgrade; the offline SQL of a guarded change is valid SQL.

mod common;

use common::{backend_tests, Backend};
use orm::migrate::{render_revision, Direction, Migrator, Revision, Revisions};
use orm::{Database, Error};

backend_tests! {
    a_narrowing_downgrade_with_too_long_text_fails_and_keeps_the_rows,
    each_lossy_conversion_fails_with_data_loss_and_keeps_the_rows,
    a_failed_revision_says_where_the_database_is,
    removing_an_enum_label_that_rows_hold_fails_with_data_loss,
    the_offline_sql_of_a_guarded_change_is_valid_sql,
}

/// A table and a column with quotes and a dollar-quote tag in their names.
const TABLE: &str = "we\"ird $orm$ posts";
const COLUMN: &str = "ti'tle";

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn revision(id: &str, parent: Option<&str>, ops: &str) -> Revision {
    let parents = parent.map(|p| format!("\"{p}\"")).unwrap_or_default();
    let text = format!(
        "id = \"{id}\"\nparents = [{parents}]\nmessage = \"{id}\"\ncreated = \"2024-01-01T00:00:00Z\"\n{ops}"
    );
    Revision::parse(id, &text).unwrap_or_else(|e| panic!("{id}: {e}\n{text}"))
}

/// r1 creates the table with the column as `from`; r2 alters it to `to`.
fn alter_revisions(table: &str, column: &str, from: &str, to: &str) -> Revisions {
    let (t, c) = (toml_str(table), toml_str(column));
    let r1 = revision(
        "r1",
        None,
        &format!(
            "[[ops]]\nop = \"create_table\"\nname = {t}\ncolumns = [{{ name = \"id\", type = \"bigint\" }}, {{ name = {c}, {from} }}]\nprimary_key = [\"id\"]\n"
        ),
    );
    let r2 = revision(
        "r2",
        Some("r1"),
        &format!(
            "[[ops]]\nop = \"alter_column\"\ntable = {t}\nfrom = {{ name = {c}, {from} }}\nto = {{ name = {c}, {to} }}\n"
        ),
    );
    Revisions::new(vec![r1, r2]).unwrap()
}

#[derive(orm::FromRow, Debug, PartialEq)]
struct Text {
    v: Option<String>,
}

/// The column's values as text, by id.
fn values(db: &Database, table: &str, column: &str) -> Vec<Option<String>> {
    let sql =
        format!("SELECT CAST({} AS TEXT) AS v FROM {} ORDER BY id", ident(column), ident(table));
    let rows: Vec<Text> = db.session().sql(&sql).all().unwrap();
    rows.into_iter().map(|r| r.v).collect()
}

fn insert(db: &Database, table: &str, column: &str, id: i64, value: &str) {
    let sql =
        format!("INSERT INTO {} (id, {}) VALUES ({id}, {value})", ident(table), ident(column));
    db.engine().execute_autocommit(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The `DataLoss` inside a `MigrationFailed` of `revision`, with where the database stays.
fn data_loss(e: &Error, revision: &str) -> (String, String, u64, String, Vec<String>) {
    match e {
        Error::MigrationFailed { revision: r, source, at, .. } => {
            assert_eq!(r, revision, "{e}");
            match &**source {
                Error::DataLoss { table, column, rows, reason } => {
                    (table.clone(), column.clone(), *rows, reason.clone(), at.clone())
                }
                other => panic!("expected DataLoss, got {other:?} ({e})"),
            }
        }
        other => panic!("expected MigrationFailed, got {other:?}"),
    }
}

fn a_narrowing_downgrade_with_too_long_text_fails_and_keeps_the_rows(backend: Backend) {
    let revs = alter_revisions(
        TABLE,
        COLUMN,
        "type = \"text\", max_length = 100",
        "type = \"text\", max_length = 200",
    );
    let db = backend.database(&[]);
    let m = Migrator::new(db.engine(), &revs);
    m.upgrade("head").unwrap();
    // 100 characters of two bytes each fit VARCHAR(100); 150 characters do not.
    let fits = "é".repeat(100);
    let long = format!("{}{}", "a".repeat(120), "ü".repeat(30));
    insert(&db, TABLE, COLUMN, 1, &format!("'{fits}'"));
    insert(&db, TABLE, COLUMN, 2, &format!("'{long}'"));

    let e = m.downgrade("-1").unwrap_err();
    let (table, column, rows, reason, at) = data_loss(&e, "r2");
    assert_eq!((table.as_str(), column.as_str(), rows), (TABLE, COLUMN, 1), "{backend}: {e}");
    assert_eq!(reason, "are longer than 100 characters", "{backend}");
    assert_eq!(at, ["r2"], "{backend}: a failed downgrade stays at the revision it undid");
    let text = e.to_string();
    assert!(text.contains("stays at r2") && text.contains("1 row(s)"), "{backend}: {text}");
    assert!(text.contains(&format!("{TABLE}.{COLUMN}")), "{backend}: {text}");
    assert_eq!(values(&db, TABLE, COLUMN), [Some(fits.clone()), Some(long.clone())], "{backend}");
    assert_eq!(m.current().unwrap(), ["r2"], "{backend}");
    let live = m.reflect().unwrap();
    let col = live.tables[TABLE].column(COLUMN).unwrap().clone();
    assert_eq!(col.max_length, Some(200), "{backend}: the column was not narrowed");

    // Once the long row fits, the downgrade runs.
    let short = format!("UPDATE {} SET {} = 'short' WHERE id = 2", ident(TABLE), ident(COLUMN));
    db.engine().execute_autocommit(&short).unwrap();
    assert_eq!(m.downgrade("-1").unwrap(), ["r2"], "{backend}");
    assert_eq!(m.current().unwrap(), ["r1"], "{backend}");
    assert_eq!(values(&db, TABLE, COLUMN), [Some(fits), Some("short".into())], "{backend}");
    let live = m.reflect().unwrap();
    assert_eq!(live.tables[TABLE].column(COLUMN).unwrap().max_length, Some(100), "{backend}");
}

/// One lossy change: the column's type before and after, a value that does not fit, one that
/// does, and the reason the error gives.
struct Lossy {
    from: &'static str,
    to: &'static str,
    bad: &'static str,
    good: &'static str,
    reason: &'static str,
    /// SQLite keeps the value unchanged (both of its float types are 8 bytes).
    sqlite_keeps: bool,
    /// The good value after the change, as text, when the test checks it.
    after: Option<&'static str>,
}

const LOSSY: &[Lossy] = &[
    Lossy {
        from: "type = \"bigint\"",
        to: "type = \"integer\"",
        bad: "3000000000",
        good: "7",
        reason: "are out of the range of integer (-2147483648 to 2147483647)",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"integer\"",
        to: "type = \"smallint\"",
        bad: "-40000",
        good: "-7",
        reason: "are out of the range of smallint (-32768 to 32767)",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"double\"",
        to: "type = \"bigint\"",
        bad: "2.5",
        good: "3",
        reason: "have a fractional part (the new type is bigint)",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"custom(NUMERIC(10, 2))\"",
        to: "type = \"custom(NUMERIC(10, 1))\"",
        bad: "1.25",
        good: "1.5",
        reason: "have more than 1 decimal place(s)",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"custom(NUMERIC(10, 2))\"",
        to: "type = \"custom(NUMERIC(4, 2))\"",
        bad: "123.45",
        good: "12.5",
        reason: "have more than 2 digit(s) before the decimal point",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"double\"",
        to: "type = \"custom(NUMERIC(4, 1))\"",
        bad: "999.96",
        good: "999.5",
        reason: "have more than 1 decimal place(s)",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"text\"",
        to: "type = \"bigint\"",
        bad: "'12abc'",
        good: "'42'",
        reason: "are not integers",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"text\"",
        to: "type = \"integer\"",
        bad: "'12.5'",
        good: "'-12'",
        reason: "are not integers",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"text\"",
        to: "type = \"double\"",
        bad: "'one'",
        good: "'1.5'",
        reason: "are not numbers",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"integer\"",
        to: "type = \"boolean\"",
        bad: "5",
        good: "1",
        reason: "are neither 0 nor 1",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"double\"",
        to: "type = \"real\"",
        bad: "0.1234567890123",
        good: "0.5",
        reason: "lose digits as real",
        sqlite_keeps: true,
        after: None,
    },
    Lossy {
        from: "type = \"bigint\"",
        to: "type = \"double\"",
        bad: "9007199254740993",
        good: "1234567890123456",
        reason: "lose digits as double",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"double\"",
        to: "type = \"real\"",
        bad: "16777217",
        good: "1234567",
        reason: "lose digits as real",
        sqlite_keeps: true,
        after: None,
    },
    Lossy {
        from: "type = \"text\", nullable = true",
        to: "type = \"text\"",
        bad: "NULL",
        good: "'x'",
        reason: "are NULL, and the column becomes NOT NULL",
        sqlite_keeps: false,
        after: None,
    },
    Lossy {
        from: "type = \"timestamp\"",
        to: "type = \"date\"",
        bad: "'2024-05-01 12:30:00.000000'",
        good: "'2024-05-01 00:00:00.000000'",
        reason: "have a time of day other than midnight",
        sqlite_keeps: false,
        after: Some("2024-05-01"),
    },
    Lossy {
        from: "type = \"date\"",
        to: "type = \"timestamp\"",
        bad: "NULL",
        good: "'2024-05-01'",
        reason: "",
        sqlite_keeps: false,
        after: Some("2024-05-01 00:00:00"),
    },
];

fn each_lossy_conversion_fails_with_data_loss_and_keeps_the_rows(backend: Backend) {
    for case in LOSSY {
        let what = format!("{} -> {} on {backend}", case.from, case.to);
        let revs = alter_revisions("t", "v", case.from, case.to);
        let db = backend.database(&[]);
        let m = Migrator::new(db.engine(), &revs);
        m.upgrade("r1").unwrap_or_else(|e| panic!("{what}: {e}"));
        insert(&db, "t", "v", 1, case.good);
        if case.reason.is_empty() {
            // A change that loses nothing: it runs, and converts.
            m.upgrade("head").unwrap_or_else(|e| panic!("{what}: {e}"));
            let got = values(&db, "t", "v");
            let after = case.after.unwrap_or_default();
            assert!(got[0].as_deref().is_some_and(|v| v.starts_with(after)), "{what}: {got:?}");
            continue;
        }
        insert(&db, "t", "v", 2, case.bad);
        let before = values(&db, "t", "v");
        if case.sqlite_keeps && backend == Backend::Sqlite {
            m.upgrade("head").unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(values(&db, "t", "v"), before, "{what}: SQLite keeps the value");
            continue;
        }
        let e = m.upgrade("head").expect_err(&what);
        let (table, column, rows, reason, at) = data_loss(&e, "r2");
        assert_eq!((table.as_str(), column.as_str(), rows), ("t", "v", 1), "{what}: {e}");
        assert_eq!(reason, case.reason, "{what}");
        assert_eq!(at, ["r1"], "{what}: a failed upgrade stays at the revision before");
        assert!(e.to_string().contains("stays at r1"), "{what}: {e}");
        assert_eq!(values(&db, "t", "v"), before, "{what}: the rows are intact");
        assert_eq!(m.current().unwrap(), ["r1"], "{what}");
        // Without the row that does not fit, the change runs and keeps the other.
        db.engine().execute_autocommit("DELETE FROM t WHERE id = 2").unwrap();
        m.upgrade("head").unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(m.current().unwrap(), ["r2"], "{what}");
        let got = values(&db, "t", "v");
        assert_eq!(got.len(), 1, "{what}");
        if let Some(after) = case.after {
            assert_eq!(got[0].as_deref(), Some(after), "{what}");
        }
    }
}

fn a_failed_revision_says_where_the_database_is(backend: Backend) {
    let table = |name: &str| {
        format!("[[ops]]\nop = \"sql\"\nup = \"CREATE TABLE {name} (id INTEGER PRIMARY KEY)\"\ndown = \"DROP TABLE {name}\"\n")
    };
    let failing_up = "[[ops]]\nop = \"sql\"\nup = \"INSERT INTO no_such_table VALUES (1)\"\ndown = \"SELECT 1\"\n";
    let failing_down = "[[ops]]\nop = \"sql\"\nup = \"SELECT 1\"\ndown = \"INSERT INTO no_such_table VALUES (1)\"\n";

    // The first revision fails: the database stays at base.
    let revs = Revisions::new(vec![revision("r1", None, failing_up)]).unwrap();
    let db = backend.database(&[]);
    let m = Migrator::new(db.engine(), &revs);
    let e = m.upgrade("head").unwrap_err();
    assert!(matches!(&e, Error::MigrationFailed { at, .. } if at.is_empty()), "{backend}: {e:?}");
    assert!(e.to_string().contains("revision r1 failed, the database stays at base"), "{e}");
    assert!(m.current().unwrap().is_empty(), "{backend}");

    // An upgrade fails at r2: the database stays at r1.
    let revs = Revisions::new(vec![
        revision("r1", None, &table("one")),
        revision("r2", Some("r1"), &format!("{}{failing_up}", table("two"))),
    ])
    .unwrap();
    let db = backend.database(&[]);
    let m = Migrator::new(db.engine(), &revs);
    let e = m.upgrade("head").unwrap_err();
    assert!(matches!(&e, Error::MigrationFailed { at, .. } if at == &["r1"]), "{e:?}");
    assert!(e.to_string().contains("revision r2 failed, the database stays at r1"), "{e}");
    assert_eq!(m.current().unwrap(), ["r1"], "{backend}");

    // A downgrade of r2 fails: the database stays at r2, not at the revision before it.
    let revs = Revisions::new(vec![
        revision("r1", None, &table("one")),
        revision("r2", Some("r1"), &format!("{}{failing_down}", table("two"))),
    ])
    .unwrap();
    let db = backend.database(&[]);
    let m = Migrator::new(db.engine(), &revs);
    m.upgrade("head").unwrap();
    let e = m.downgrade("base").unwrap_err();
    assert!(matches!(&e, Error::MigrationFailed { at, .. } if at == &["r2"]), "{e:?}");
    assert!(e.to_string().contains("revision r2 failed, the database stays at r2"), "{e}");
    assert_eq!(m.current().unwrap(), ["r2"], "{backend}");
    assert!(m.reflect().unwrap().tables.contains_key("two"), "{backend}: rolled back");
}

fn the_offline_sql_of_a_guarded_change_is_valid_sql(backend: Backend) {
    let revs = alter_revisions(
        TABLE,
        COLUMN,
        "type = \"text\", max_length = 100",
        "type = \"text\", max_length = 200",
    );
    let db = backend.database(&[]);
    let m = Migrator::new(db.engine(), &revs);
    m.upgrade("head").unwrap();
    insert(&db, TABLE, COLUMN, 1, &format!("'{}'", "x".repeat(150)));
    let dialect = orm::cli::migration_dialect_named(backend.name()).unwrap();
    let rev = revs.get("r2").unwrap();
    let script: Vec<String> = render_revision(dialect, &revs, rev, Direction::Down)
        .unwrap()
        .iter()
        .map(|s| s.to_script())
        .collect();
    let script = script.join("\n");
    match backend {
        Backend::Postgres => {
            // The check is a DO block that stops the script (one implicit transaction).
            let e = db.engine().execute_autocommit(&script).unwrap_err();
            assert!(e.to_string().contains("are longer than 100 characters"), "{e}\n{script}");
            let live = m.reflect().unwrap();
            assert_eq!(live.tables[TABLE].column(COLUMN).unwrap().max_length, Some(200));
        }
        Backend::Sqlite => {
            // SQLite cannot stop a script on a condition: the script says so, in a comment,
            // with the query to run, and stays valid SQL.
            assert!(
                script.contains("-- check (not expressible in plain SQL on sqlite"),
                "{script}"
            );
            assert!(script.contains("length(\"ti'tle\") > 100"), "{script}");
            for line in script.lines().filter(|l| l.contains("count(*)")) {
                assert!(line.starts_with("-- "), "{line}");
            }
            let guard = format!(
                "SELECT count(*) AS n FROM {} WHERE length({}) > 100",
                ident(TABLE),
                ident(COLUMN)
            );
            #[derive(orm::FromRow)]
            struct N {
                n: i64,
            }
            let n: Vec<N> = db.session().sql(&guard).all().unwrap();
            assert_eq!(n[0].n, 1);
        }
    }
    // Without the long row, the same script runs to the end.
    let delete = format!("DELETE FROM {} WHERE id = 1", ident(TABLE));
    db.engine().execute_autocommit(&delete).unwrap();
    db.engine().execute_autocommit(&script).unwrap_or_else(|e| panic!("{e}\n{script}"));
    let live = m.reflect().unwrap();
    assert_eq!(live.tables[TABLE].column(COLUMN).unwrap().max_length, Some(100), "{backend}");
}

#[test]
fn an_alter_column_is_described_without_option_syntax() {
    use orm::migrate::{Column, ColumnType, Op};
    let col =
        |max: Option<u32>| Column { max_length: max, ..Column::new("title", ColumnType::Text) };
    let alter = |from, to| Op::AlterColumn {
        table: "post".into(),
        from: col(from),
        to: col(to),
        using: None,
        down_using: None,
    };
    assert_eq!(
        alter(Some(100), Some(200)).describe(),
        "alter column post.title (max_length 100 -> 200)"
    );
    assert_eq!(alter(None, Some(50)).describe(), "alter column post.title (max_length none -> 50)");
    assert_eq!(alter(Some(50), None).describe(), "alter column post.title (max_length 50 -> none)");
}

/// SQLite checks foreign keys at the end of each revision; the rows it reports are named by
/// their values, not by the driver's debug output.
#[test]
fn a_broken_foreign_key_names_its_rows_plainly() {
    let ops = "[[ops]]\nop = \"sql\"\nup = '''\nCREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES users (id));\nINSERT INTO posts (id, author_id) VALUES (7, 99);\n'''\ndown = \"DROP TABLE posts; DROP TABLE users\"\n";
    let revs = Revisions::new(vec![revision("r1", None, ops)]).unwrap();
    let db = Backend::Sqlite.database(&[]);
    let e = Migrator::new(db.engine(), &revs).upgrade("head").unwrap_err();
    let text = e.to_string();
    assert!(text.contains("rows break a foreign key: posts row 7 -> users"), "{text}");
    assert!(text.contains("the database stays at base"), "{text}");
}

fn removing_an_enum_label_that_rows_hold_fails_with_data_loss(backend: Backend) {
    let r1 = revision(
        "r1",
        None,
        "[[ops]]\nop = \"create_enum\"\nname = \"ms_status\"\nvalues = [\"draft\", \"live\", \"gone\"]\n\n\
         [[ops]]\nop = \"create_table\"\nname = \"ms_posts\"\ncolumns = [{ name = \"id\", type = \"bigint\" }, { name = \"status\", type = \"enum(ms_status)\", nullable = true }]\nprimary_key = [\"id\"]\n",
    );
    let r2 = revision(
        "r2",
        Some("r1"),
        "[[ops]]\nop = \"alter_enum\"\nname = \"ms_status\"\nfrom = [\"draft\", \"live\", \"gone\"]\nto = [\"draft\", \"live\"]\n",
    );
    let revs = Revisions::new(vec![r1, r2]).unwrap();
    let db = backend.database(&[]);
    let m = Migrator::new(db.engine(), &revs);
    m.upgrade("r1").unwrap();
    insert(&db, "ms_posts", "status", 1, "'live'");
    insert(&db, "ms_posts", "status", 2, "'gone'");
    insert(&db, "ms_posts", "status", 3, "'gone'");
    insert(&db, "ms_posts", "status", 4, "NULL");
    let e = m.upgrade("head").unwrap_err();
    let (table, column, rows, reason, at) = data_loss(&e, "r2");
    assert_eq!((table.as_str(), column.as_str(), rows), ("ms_posts", "status", 2), "{backend}");
    assert_eq!(reason, "hold labels that enum ms_status no longer has", "{backend}");
    assert_eq!(at, ["r1"], "{backend}");
    let want = [Some("live".to_owned()), Some("gone".into()), Some("gone".into()), None];
    assert_eq!(values(&db, "ms_posts", "status"), want, "{backend}");
    assert_eq!(m.current().unwrap(), ["r1"], "{backend}");
    db.engine().execute_autocommit("UPDATE ms_posts SET status = 'draft' WHERE id > 1").unwrap();
    m.upgrade("head").unwrap();
    assert_eq!(m.reflect().unwrap().tables.len(), 1, "{backend}");
    assert_eq!(values(&db, "ms_posts", "status").len(), 4, "{backend}");
}
