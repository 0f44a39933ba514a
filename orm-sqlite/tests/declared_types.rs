//! Declared column types as SQLite's other writers spell them (SQL scripts, the sqlite3 shell,
//! SQLAlchemy), read by what they mean: `parse_declared_type` for every spelling, and the same
//! spellings reflected from a real database, with the keys SQLite generates (the rowid) told
//! from those it does not.

use orm_core::migrate::dialect::numeric_precision;
use orm_core::{ColumnType, Connection};
use orm_sqlite::dialect::parse_declared_type;

fn memory() -> Box<dyn Connection> {
    orm_sqlite::connector("sqlite::memory:").and_then(|c| c.connect()).expect("connect")
}

/// A portable type and a maximum length.
type Meaning = (ColumnType<&'static str>, Option<u32>);

/// Every spelling, with exactly what it must give (`None`: kept as a custom type).
const CASES: &[(&str, Option<Meaning>)] = &[
    // The names the ORM writes round-trip.
    ("INTEGER", Some((ColumnType::BigInt, None))),
    ("REAL", Some((ColumnType::Double, None))),
    ("BOOLEAN", Some((ColumnType::Boolean, None))),
    ("TEXT", Some((ColumnType::Text, None))),
    ("VARCHAR(80)", Some((ColumnType::Text, Some(80)))),
    ("BLOB", Some((ColumnType::Blob, None))),
    ("TIMESTAMPTZ_TEXT", Some((ColumnType::Timestamptz, None))),
    ("TIMESTAMP_TEXT", Some((ColumnType::Timestamp, None))),
    ("DATE_TEXT", Some((ColumnType::Date, None))),
    ("UUID_TEXT", Some((ColumnType::Uuid, None))),
    ("JSON_TEXT", Some((ColumnType::Json, None))),
    ("STRING_ARRAY_TEXT", Some((ColumnType::TextArray, None))),
    ("I64_ARRAY_TEXT", Some((ColumnType::BigIntArray, None))),
    ("DECIMAL_TEXT", Some((ColumnType::Numeric, None))),
    // Text: a length becomes max_length.
    ("NVARCHAR(120)", Some((ColumnType::Text, Some(120)))),
    ("nvarchar( 120 )", Some((ColumnType::Text, Some(120)))),
    ("NCHAR(10)", Some((ColumnType::Text, Some(10)))),
    ("CHAR(3)", Some((ColumnType::Text, Some(3)))),
    ("CHARACTER(20)", Some((ColumnType::Text, Some(20)))),
    ("VARYING CHARACTER(255)", Some((ColumnType::Text, Some(255)))),
    ("NATIVE CHARACTER(70)", Some((ColumnType::Text, Some(70)))),
    ("CHARACTER  VARYING(40)", Some((ColumnType::Text, Some(40)))),
    ("VARCHAR", Some((ColumnType::Text, None))),
    ("CLOB", Some((ColumnType::Text, None))),
    ("text", Some((ColumnType::Text, None))),
    // Times.
    ("DATETIME", Some((ColumnType::Timestamp, None))),
    ("TIMESTAMP", Some((ColumnType::Timestamp, None))),
    ("DATE", Some((ColumnType::Date, None))),
    // Exact numbers: SQLite keeps no precision.
    ("NUMERIC(10,2)", Some((ColumnType::Numeric, None))),
    ("NUMERIC(10, 2)", Some((ColumnType::Numeric, None))),
    ("DECIMAL(10,5)", Some((ColumnType::Numeric, None))),
    ("NUMERIC", Some((ColumnType::Numeric, None))),
    ("DECIMAL", Some((ColumnType::Numeric, None))),
    // Integers.
    ("INT", Some((ColumnType::Integer, None))),
    ("MEDIUMINT", Some((ColumnType::Integer, None))),
    ("TINYINT", Some((ColumnType::SmallInt, None))),
    ("SMALLINT", Some((ColumnType::SmallInt, None))),
    ("INT2", Some((ColumnType::SmallInt, None))),
    ("BIGINT", Some((ColumnType::BigInt, None))),
    ("INT8", Some((ColumnType::BigInt, None))),
    ("UNSIGNED BIG INT", Some((ColumnType::BigInt, None))),
    ("INTEGER(11)", Some((ColumnType::BigInt, None))),
    // SQLite's rule 1 comes first: a name holding INT is an integer, even `CHARINT`, `POINT`.
    ("CHARINT", Some((ColumnType::BigInt, None))),
    ("POINT", Some((ColumnType::BigInt, None))),
    // Booleans, floats, no type.
    ("BOOL", Some((ColumnType::Boolean, None))),
    ("DOUBLE", Some((ColumnType::Double, None))),
    ("DOUBLE PRECISION", Some((ColumnType::Double, None))),
    ("FLOAT", Some((ColumnType::Double, None))),
    ("", Some((ColumnType::Blob, None))),
    // NUMERIC affinity without one portable meaning, and malformed lengths: custom.
    ("MONEY", None),
    ("JSON", None),
    ("TIME", None),
    ("VARCHAR(abc)", None),
    ("VARCHAR(10, 2)", None),
    ("VARCHAR(-1)", None),
    ("NUMERIC(10", None),
];

#[test]
fn every_declared_spelling_means_its_type() {
    for (declared, want) in CASES {
        let want = want.map(|(ty, n)| (ty.to_owned_type(), n));
        assert_eq!(parse_declared_type(declared), want, "{declared:?}");
    }
}

#[test]
fn the_same_spellings_reflect_from_a_live_database() {
    let mut conn = memory();
    // SQLite's grammar refuses these two: they come only from a hand-made schema text.
    let writable = |d: &str| !matches!(d, "VARCHAR(abc)" | "NUMERIC(10");
    let columns: Vec<String> = CASES
        .iter()
        .enumerate()
        .filter(|(_, (d, _))| writable(d))
        .map(|(i, (declared, _))| format!("\"c{i}\" {declared}"))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE t (\"id\" INTEGER PRIMARY KEY, {})",
        columns.join(", ")
    ))
    .expect("create");
    let schema = orm_sqlite::MIGRATIONS.reflect(&mut *conn).expect("reflect");
    let t = &schema.tables["t"];
    for (i, (declared, want)) in CASES.iter().enumerate().filter(|(_, (d, _))| writable(d)) {
        let c = t.columns.iter().find(|c| c.name == format!("c{i}")).expect("column");
        let got = (c.ty.clone(), c.max_length);
        let want = match want {
            // A NUMERIC / DECIMAL with a precision is reflected as declared, so that a model's
            // `precision` and `scale` compare with it (SQLite does not enforce them).
            _ if matches!(numeric_precision(declared), Some(Some(_))) => {
                (ColumnType::Custom(declared.trim().to_owned()), None)
            }
            Some((ty, n)) => (ty.to_owned_type(), *n),
            None => (ColumnType::Custom(declared.to_string()), None),
        };
        // SQLite keeps the declared text as written, spaces inside included.
        let got = match got {
            (ColumnType::Custom(s), n) => (ColumnType::Custom(s.trim().to_owned()), n),
            other => other,
        };
        assert_eq!(got, want, "{declared:?}");
    }
}

/// The rowid (generated by SQLite) is the one key column declared exactly `INTEGER` in any
/// case, in the column or at the table's end, of a rowid table; not `INT PRIMARY KEY`, not
/// `INTEGER PRIMARY KEY DESC`, not a WITHOUT ROWID table, not a composite key.
#[test]
fn only_the_rowid_is_a_generated_key() {
    let mut conn = memory();
    let tables = [
        ("upper", "CREATE TABLE \"upper\" (id INTEGER PRIMARY KEY, x TEXT)", true),
        ("lower", "CREATE TABLE \"lower\" (id integer primary key, x TEXT)", true),
        ("at_end", "CREATE TABLE at_end ([Id] INTEGER NOT NULL, x TEXT, CONSTRAINT [PK_at_end] PRIMARY KEY ([Id]))", true),
        ("at_end_desc", "CREATE TABLE at_end_desc (id INTEGER, PRIMARY KEY (id DESC))", true),
        ("int_key", "CREATE TABLE int_key (id INT PRIMARY KEY, x TEXT)", false),
        ("bigint_key", "CREATE TABLE bigint_key (id BIGINT PRIMARY KEY, x TEXT)", false),
        ("desc_key", "CREATE TABLE desc_key (id INTEGER PRIMARY KEY DESC, x TEXT)", false),
        ("no_rowid", "CREATE TABLE no_rowid (id INTEGER PRIMARY KEY, x TEXT) WITHOUT ROWID", false),
        ("composite", "CREATE TABLE composite (a INTEGER, b INTEGER, PRIMARY KEY (a, b))", false),
        // A quoted name holding the words is not the quirk.
        ("quoted", "CREATE TABLE quoted (id INTEGER PRIMARY KEY, \"primary key desc\" TEXT)", true),
    ];
    for (_, sql, _) in &tables {
        conn.execute_batch(sql).expect(sql);
    }
    let schema = orm_sqlite::MIGRATIONS.reflect(&mut *conn).expect("reflect");
    for (name, sql, rowid) in tables {
        let t = &schema.tables[name];
        let generated: Vec<&str> =
            t.columns.iter().filter(|c| c.auto_increment).map(|c| c.name.as_str()).collect();
        let want: Vec<&str> = if rowid { vec![t.primary_key[0].as_str()] } else { vec![] };
        assert_eq!(generated, want, "{sql}");
        // What SQLite does agrees: inserting no key gives one only to the rowid.
        if let Some(other) = t.columns.iter().find(|c| !t.primary_key.contains(&c.name)) {
            let inserted = conn.execute_batch(&format!(
                "INSERT INTO \"{name}\" (\"{}\") VALUES ('v')",
                other.name
            ));
            let mut keys = Vec::new();
            conn.query(
                &format!("SELECT typeof(\"{}\") FROM \"{name}\"", t.primary_key[0]),
                &[],
                &mut |r| {
                    keys.push(orm_core::connection::decode_at::<String>(r, 0, "k")?);
                    Ok(())
                },
            )
            .expect("read");
            let generated_by_sqlite = inserted.is_ok() && keys == ["integer"];
            assert_eq!(generated_by_sqlite, rowid, "{sql}: {inserted:?} {keys:?}");
        }
    }
}
