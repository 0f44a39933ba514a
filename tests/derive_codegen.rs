//! The per-model code `#[derive(Model)]` generates calls helpers shared by all models (issue 10,
//! compile cost per model): `FromValue::decode_column` / `set_column_value`, `Clone::clone_from`,
//! `no_such_column`, `any_models`. These tests pin what those calls do, without a database:
//! decoding at an offset, the exact error texts, restoring only the masked columns, and the
//! loaded targets of relationships.
#![allow(missing_docs)]

use orm::prelude::*;
use orm::{ColumnMask, Row, Value, ValueRef};

/// A row over borrowed values, as a driver would hand one out.
struct TestRow<'a>(Vec<ValueRef<'a>>);

impl Row for TestRow<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, idx: usize) -> orm::Result<ValueRef<'_>> {
        self.0.get(idx).copied().ok_or_else(|| orm::Error::InvalidUse(format!("no column {idx}")))
    }
    fn column_name(&self, _idx: usize) -> Option<&str> {
        None
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "gadgets")]
pub struct Gadget {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(column = "nick")]
    pub nickname: Option<String>,
    pub weight: f64,
    pub active: bool,
    #[orm(skip)]
    pub scratch: Vec<u8>,
}

fn gadget_values<'a>() -> Vec<ValueRef<'a>> {
    vec![
        ValueRef::Int(7),
        ValueRef::Text("gizmo"),
        ValueRef::Null,
        ValueRef::Float(2.5),
        ValueRef::Bool(true),
    ]
}

#[test]
fn decode_reads_the_columns_after_the_offset_in_schema_order() {
    // Two columns of another table first, as in a joined row.
    let mut values = vec![ValueRef::Text("other"), ValueRef::Int(99)];
    values.extend(gadget_values());
    let g = Gadget::decode(&TestRow(values), 2).unwrap();
    assert_eq!(
        g,
        Gadget {
            id: 7,
            name: "gizmo".into(),
            nickname: None,
            weight: 2.5,
            active: true,
            scratch: Vec::new(),
        }
    );
}

#[test]
fn a_value_of_the_wrong_type_is_a_decode_error_naming_the_column() {
    let mut values = gadget_values();
    values[2] = ValueRef::Int(3); // `nick` is text
    let err = Gadget::decode(&TestRow(values.clone()), 0).unwrap_err();
    assert_eq!(err.to_string(), "cannot decode column `nick`: expected String, got integer 3");
    assert!(
        matches!(&err, orm::Error::Decode { column, expected: "String", .. } if column == "nick")
    );

    // The first bad column is the one reported.
    values[1] = ValueRef::Null;
    let err = Gadget::decode(&TestRow(values), 0).unwrap_err();
    assert_eq!(err.to_string(), "cannot decode column `name`: expected String, got NULL");
}

#[test]
fn a_row_too_short_or_an_overflowing_offset_is_the_rows_error_not_a_panic() {
    let short = gadget_values()[..4].to_vec();
    let err = Gadget::decode(&TestRow(short), 0).unwrap_err();
    assert_eq!(err.to_string(), "invalid use: no column 4");
    let err = Gadget::decode(&TestRow(gadget_values()), usize::MAX).unwrap_err();
    assert_eq!(err.to_string(), format!("invalid use: no column {}", usize::MAX));
}

#[test]
fn set_column_writes_one_column_and_names_it_in_errors() {
    let mut g = Gadget::decode(&TestRow(gadget_values()), 0).unwrap();
    g.set_column(0, ValueRef::Int(41)).unwrap();
    g.set_column(2, ValueRef::Text("gz")).unwrap();
    assert_eq!((g.id, g.nickname.as_deref()), (41, Some("gz")));

    let before = g.clone();
    let err = g.set_column(3, ValueRef::Text("heavy")).unwrap_err();
    assert_eq!(err.to_string(), "cannot decode column `weight`: expected f64, got text \"heavy\"");
    assert_eq!(g, before, "a failed write leaves the field as it was");

    let err = g.set_column(5, ValueRef::Int(1)).unwrap_err();
    assert_eq!(err.to_string(), "invalid use: model `Gadget` has no column 5");
    assert!(matches!(err, orm::Error::InvalidUse(_)));
}

#[test]
fn restore_columns_restores_the_masked_columns_only_and_reuses_a_strings_buffer() {
    let original = Gadget::decode(&TestRow(gadget_values()), 0).unwrap();
    let snapshot = original.snapshot();
    let mut g = original.clone();
    g.name = String::with_capacity(64);
    g.name.push_str("renamed");
    g.nickname = Some("n".into());
    g.weight = 9.0;
    g.scratch = vec![1];
    let buffer = g.name.as_ptr();

    let mut mask = ColumnMask::empty();
    mask.set(1);
    mask.set(3);
    g.restore_columns(&snapshot, mask);
    assert_eq!(g.name, "gizmo");
    assert_eq!(g.weight, 2.5);
    assert_eq!(g.nickname.as_deref(), Some("n"), "not in the mask");
    assert_eq!(g.scratch, [1], "not a column");
    assert_eq!(g.name.as_ptr(), buffer, "clone_from into a large enough String keeps its buffer");
    assert_eq!(g.changed_columns(&snapshot).iter().collect::<Vec<_>>(), [2]);
}

#[test]
fn key_values_of_single_and_composite_keys() {
    assert_eq!(Gadget::key_values(&12), vec![Value::Int(12)]);
    assert_eq!(Pairing::key_values(&(3, "x".into())), vec![Value::Int(3), Value::Text("x".into())]);
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "pairings")]
pub struct Pairing {
    #[orm(primary_key)]
    pub left: i32,
    #[orm(primary_key)]
    pub right: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "shelves")]
pub struct Shelf {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(has_many)]
    pub books: Related<Vec<Tome>>,
    #[orm(has_one(foreign_key = shelf_id))]
    pub label: Related<Option<Tome>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "tomes")]
pub struct Tome {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Shelf)]
    pub shelf_id: i64,
}

#[test]
fn related_gives_the_loaded_targets_as_models_and_none_when_unloaded() {
    let tome = |id| Tome { id, shelf_id: 1 };
    let mut shelf =
        Shelf { id: 1, books: Related::Loaded(vec![tome(10), tome(11)]), label: Related::Unloaded };
    let books = shelf.related(0).unwrap();
    assert_eq!(books.len(), 2);
    assert_eq!(books[1].table().name, "tomes");
    assert_eq!(books[1].column_value(0), Value::Int(11));
    assert!(shelf.related(1).is_none(), "unloaded is not empty");
    assert!(shelf.related(2).is_none(), "no such relationship");

    shelf.label = Related::Loaded(None);
    assert_eq!(shelf.related(1).unwrap().len(), 0, "loaded and empty");
    for t in shelf.related_mut(0).unwrap() {
        t.set_column(1, ValueRef::Int(2)).unwrap();
    }
    let Related::Loaded(books) = &shelf.books else { panic!("still loaded") };
    assert_eq!(books.iter().map(|t| t.shelf_id).collect::<Vec<_>>(), [2, 2]);
}
