//! Revision files: written, read back equal; hand-written files with every op; the graph.

use orm_core::migrate::*;
use orm_core::ReferentialAction;
use std::collections::BTreeSet;

fn users() -> Table {
    let mut id = Column::new("id", ColumnType::BigInt);
    id.auto_increment = true;
    let mut name = Column::new("name", ColumnType::Text);
    name.max_length = Some(80);
    name.default = Some(Literal::Text("it's".into()));
    let mut status = Column::new("status", ColumnType::enum_named("status"));
    status.nullable = true;
    Table {
        name: "users".into(),
        columns: vec![id, name, status],
        primary_key: vec!["id".into()],
        indexes: vec![Index::on_columns("ix_users_name", &["name"], true)],
        uniques: vec![],
        foreign_keys: vec![ForeignKey {
            name: "fk_users_id_users".into(),
            columns: vec!["id".into()],
            ref_table: "users".into(),
            ref_columns: vec!["id".into()],
            on_delete: ReferentialAction::Cascade,
            on_update: ReferentialAction::NoAction,
        }],
        checks: vec![],
    }
}

#[test]
fn round_trip() {
    let ops = vec![
        Step::new(Op::CreateEnum { name: "status".into(), values: vec!["a".into(), "b".into()] }),
        Step::new(Op::CreateTable(users())),
        Step {
            op: Op::Sql {
                up: "CREATE VIEW v AS\nSELECT 1;\n".into(),
                down: Some("DROP VIEW v".into()),
                creates: vec![],
                drops: vec![],
            },
            dialect: Some("postgresql".into()),
        },
        Step::new(Op::AlterColumn {
            table: "users".into(),
            from: Column::new("x", ColumnType::Integer),
            to: Column {
                default: Some(Literal::Float(1.0)),
                ..Column::new("x", ColumnType::Double)
            },
            using: Some("x * 1.0".into()),
            down_using: None,
        }),
    ];
    let rev = Revision::new(vec!["abc".into()], "add \"users\"", ops);
    let text = rev.to_toml();
    let back = Revision::parse("x.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back.ops, rev.ops, "{text}");
    assert_eq!(back.parents, rev.parents);
    assert_eq!(back.message, rev.message);
    assert!(text.contains("'''\nCREATE VIEW v AS\nSELECT 1;\n'''"), "{text}");
    assert!(text.contains("{ name = \"id\", type = \"bigint\", auto_increment = true }"), "{text}");
}

#[test]
fn awkward_text_reads_back_exactly() {
    let ops = vec![
        // No line break added at the end; a CRLF and a lone CR kept; `'''` and control
        // characters still written.
        Step::new(Op::Sql {
            up: "SELECT 1;\nSELECT 2;".into(),
            down: Some("a\r\nb".into()),
            creates: vec![],
            drops: vec![],
        }),
        Step::new(Op::Sql {
            up: "a\rb\n".into(),
            down: Some("x\n'''\n\u{1}".into()),
            creates: vec![],
            drops: vec![],
        }),
        Step::new(Op::RenameTable { from: "t\n".into(), to: "it's\n'".into() }),
    ];
    let rev = Revision::new(vec![], "a\r\nmessage\u{1b} with\tcontrols", ops);
    let text = rev.to_toml();
    let back = Revision::parse("x.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back.ops, rev.ops, "{text}");
    assert_eq!(back.message, rev.message, "{text}");
    assert!(text.contains("up = '''\nSELECT 1;\nSELECT 2;'''\n"), "{text}");
}

#[test]
fn unknown_keys_are_errors() {
    let text = "id = \"a1\"\n[[ops]]\nop = \"drop_index\"\ntable = \"t\"\nindex = { name = \"i\", columns = [\"c\"] }\ncolour = 1\n";
    let e = Revision::parse("a1.toml", text).unwrap_err().to_string();
    assert!(e.contains("colour"), "{e}");
    let text = "id = \"a1\"\n[[ops]]\nop = \"add_column\"\ntable = \"t\"\ncolumn = { name = \"c\", type = \"strange\" }\n";
    let e = Revision::parse("a1.toml", text).unwrap_err().to_string();
    assert!(e.contains("unknown column type"), "{e}");
}

#[test]
fn an_op_for_an_unknown_dialect_is_an_error_not_skipped() {
    let op = "[[ops]]\nop = \"sql\"\nup = \"SELECT 1\"\ndown = \"SELECT 1\"\n";
    for good in ["sqlite", "postgresql"] {
        let text = format!("id = \"a1\"\n{op}dialect = \"{good}\"\n");
        assert!(Revision::parse("a1.toml", &text).is_ok(), "{good}");
    }
    let text = format!("id = \"a1\"\n{op}dialect = \"postgres\"\n");
    let e = Revision::parse("a1.toml", &text).unwrap_err().to_string();
    assert!(e.contains("a1.toml: op 1 is for dialect \"postgres\""), "{e}");
    assert!(e.contains("sqlite, postgresql"), "{e}");
}

fn rev(id: &str, parents: &[&str], created: &str) -> Revision {
    Revision {
        id: id.into(),
        parents: parents.iter().map(|p| (*p).to_owned()).collect(),
        message: id.into(),
        created: created.into(),
        ops: vec![],
        file: None,
    }
}

#[test]
fn graph_heads_and_plans() {
    let revs = Revisions::new(vec![
        rev("c3", &["b2"], "3"),
        rev("a1", &[], "1"),
        rev("b2", &["a1"], "2"),
        rev("d4", &["b2"], "4"),
    ])
    .unwrap();
    let order: Vec<&str> = revs.all().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(order, ["a1", "b2", "c3", "d4"]);
    assert_eq!(revs.head_ids(), ["c3", "d4"]);
    assert!(revs.single_head().unwrap_err().to_string().contains("merge"));
    let none = BTreeSet::new();
    let ids = |v: Vec<&Revision>| v.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(revs.upgrade_plan(&none, "heads").unwrap()), ["a1", "b2", "c3", "d4"]);
    assert_eq!(ids(revs.upgrade_plan(&none, "c").unwrap()), ["a1", "b2", "c3"]);
    let applied = revs.ancestors_of(["c3", "d4"]).unwrap();
    assert_eq!(revs.heads_of(&applied), ["c3", "d4"]);
    assert_eq!(ids(revs.downgrade_plan(&applied, "b2").unwrap()), ["d4", "c3"]);
    assert_eq!(ids(revs.downgrade_plan(&applied, "-1").unwrap()), ["d4"]);
    assert_eq!(ids(revs.downgrade_plan(&applied, "base").unwrap()).len(), 4);
    let mut partial = applied.clone();
    partial.remove("d4");
    assert_eq!(revs.heads_of(&partial), ["c3"]);
    let cycle = Revisions::new(vec![rev("x", &["y"], "1"), rev("y", &["x"], "2")]);
    assert!(cycle.unwrap_err().to_string().contains("cycle"));
    let missing = Revisions::new(vec![rev("x", &["nope"], "1")]);
    assert!(missing.unwrap_err().to_string().contains("nope"));
}
