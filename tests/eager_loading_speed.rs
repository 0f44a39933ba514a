//! Eager loading after its speed work (issue 11): joined loads decode a parent once per run of
//! its rows and sort integer-keyed children in Rust; selectin groups targets by numbered keys.
//! These cases would expose a mix-up: children under the wrong parent, children out of key
//! order, a parent twice, a shared target lost, on every backend.

#![allow(missing_docs)] // test models, not a public API

mod common;

use common::{backend_tests, take, Backend};
use orm::prelude::*;
use orm::testing::StatementLog;

backend_tests! {
    joined_and_selectin_attach_each_child_to_its_parent_in_key_order,
    joined_parents_whose_rows_come_apart_are_still_returned_once,
    a_target_shared_by_several_parents_is_given_to_each,
    a_joined_load_joined_to_another_to_many_table_gives_each_child_once,
    an_untracked_joined_copy_after_a_bulk_update_is_not_taken_for_a_stale_one,
    an_untracked_query_loads_its_targets_untracked_too,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "els_shelves")]
pub struct Shelf {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(max_length = 40)]
    pub name: String,
    #[orm(has_many(foreign_key = shelf_id))]
    pub books: Related<Vec<Book>>,
    #[orm(has_many(foreign_key = shelf_id))]
    pub labels: Related<Vec<Label>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "els_books")]
pub struct Book {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Shelf, index)]
    pub shelf_id: i64,
    #[orm(max_length = 40)]
    pub title: String,
    #[orm(belongs_to(foreign_key = shelf_id))]
    pub shelf: Related<Shelf>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "els_labels")]
pub struct Label {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Shelf)]
    pub shelf_id: i64,
    #[orm(max_length = 40)]
    pub name: String,
}

fn tables() -> Vec<&'static orm::TableSchema> {
    vec![Shelf::TABLE, Book::TABLE, Label::TABLE]
}

/// Shelves 1..=4 (`s1`..`s4`; 3 has no book); books with keys given out of order and
/// interleaved between shelves, inserted in that order, so that neither the insertion order
/// nor the order of the shelves' rows is the books' key order.
fn seed(db: &Database) {
    let mut s = db.session();
    for id in 1..=4 {
        s.add(Shelf { id, name: format!("s{id}"), ..Default::default() });
    }
    s.commit().unwrap();
    let books = [(50, 1), (7, 2), (10, 1), (93, 4), (30, 1), (8, 2), (1, 4), (70, 2), (2, 1)];
    for (id, shelf_id) in books {
        s.add(Book { id, shelf_id, title: format!("b{id}"), ..Default::default() });
    }
    s.commit().unwrap();
}

/// Each shelf's name with its books' keys, in the order loaded.
fn shape(shelves: &[Shelf]) -> Vec<(String, Vec<i64>)> {
    shelves
        .iter()
        .map(|s| {
            let books = s.books.get().expect("books loaded");
            assert!(books.iter().all(|b| b.shelf_id == s.id), "a book under shelf {}", s.id);
            (s.name.clone(), books.iter().map(|b| b.id).collect())
        })
        .collect()
}

fn joined_and_selectin_attach_each_child_to_its_parent_in_key_order(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let log = StatementLog::attach(&db);
    let expected: Vec<(String, Vec<i64>)> = vec![
        ("s4".into(), vec![1, 93]),
        ("s3".into(), vec![]),
        ("s2".into(), vec![7, 8, 70]),
        ("s1".into(), vec![2, 10, 30, 50]),
    ];
    for tracked in [true, false] {
        let mut s = db.session();
        let q = s.query::<Shelf>().order_by(Shelf::name.desc()).load_joined(Shelf::books);
        let q = if tracked { q } else { q.untracked() };
        let joined = q.all().unwrap();
        assert_eq!(take(&log).len(), 1, "{backend}: one statement");
        assert_eq!(shape(&joined), expected, "{backend}: joined, tracked {tracked}");

        let mut s = db.session();
        let q = s.query::<Shelf>().order_by(Shelf::name.desc()).load(Shelf::books);
        let q = if tracked { q } else { q.untracked() };
        let selectin = q.all().unwrap();
        assert_eq!(take(&log).len(), 2, "{backend}: two statements");
        assert_eq!(shape(&selectin), expected, "{backend}: selectin, tracked {tracked}");
        assert_eq!(joined, selectin, "{backend}: the same objects both ways");
    }
    // Without an order of the user's: the parents in key order.
    let mut s = db.session();
    let joined = s.query::<Shelf>().load_joined(Shelf::books).all().unwrap();
    let names: Vec<&str> = joined.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["s1", "s2", "s3", "s4"], "{backend}");
    assert_eq!(joined[0].books.get().unwrap().len(), 4, "{backend}");
    // The loaded collection is the session's snapshot: taking a book out and saving the
    // shelf detaches exactly that book (its key set to NULL is refused: NOT NULL), so the
    // snapshot must name the shelf's books and no other.
    let mut s = db.session();
    let mut shelves =
        s.query::<Shelf>().filter(Shelf::id.eq(2)).load_joined(Shelf::books).all().unwrap();
    let mut shelf = shelves.remove(0);
    if let Related::Loaded(books) = &mut shelf.books {
        books.retain(|b| b.id != 8);
    }
    s.add(shelf);
    assert!(s.commit().is_err(), "{backend}: book 8 would lose its shelf");
}

fn joined_parents_whose_rows_come_apart_are_still_returned_once(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let mut s = db.session();
    // Labels sort the shelves' rows apart: shelf 1 is first (label "a") and last (label "z").
    for (id, shelf_id, name) in [(1, 1, "a"), (2, 2, "m"), (3, 1, "z"), (4, 4, "b")] {
        s.add(Label { id, shelf_id, name: name.into() });
    }
    s.commit().unwrap();
    let mut s = db.session();
    let shelves = s
        .query::<Shelf>()
        .join(Shelf::labels)
        .order_by(Label::name.asc())
        .load_joined(Shelf::books)
        .all()
        .unwrap();
    let names: Vec<&str> = shelves.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["s1", "s4", "s2"], "{backend}: once each, where first seen");
    for shelf in &shelves {
        // Shelf 1 has two labels, so two rows per book: each book still comes once.
        let ids: Vec<i64> = shelf.books.get().unwrap().iter().map(|b| b.id).collect();
        let expected: Vec<i64> = match shelf.id {
            1 => vec![2, 10, 30, 50],
            2 => vec![7, 8, 70],
            _ => vec![1, 93],
        };
        assert_eq!(ids, expected, "{backend}: shelf {}", shelf.id);
    }
}

fn a_target_shared_by_several_parents_is_given_to_each(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let mut s = db.session();
    let books = s.query::<Book>().order_by(Book::id.asc()).load(Book::shelf).all().unwrap();
    assert_eq!(books.len(), 9, "{backend}");
    for b in &books {
        let shelf = b.shelf.get().unwrap();
        assert_eq!((shelf.id, shelf.name.clone()), (b.shelf_id, format!("s{}", b.shelf_id)));
    }
    let mut s = db.session();
    let joined = s.query::<Book>().order_by(Book::id.asc()).load_joined(Book::shelf).all().unwrap();
    assert_eq!(joined, books, "{backend}: joined and selectin agree");
}

fn a_joined_load_joined_to_another_to_many_table_gives_each_child_once(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let mut s = db.session();
    for (id, name) in [(1, "x"), (2, "y"), (3, "z")] {
        s.add(Label { id, shelf_id: 2, name: name.into() });
    }
    s.commit().unwrap();
    // Shelf 2's rows: 3 labels x 3 books. Its books once each, in key order, for both the
    // integer-keyed sort in Rust and any order the user gives.
    for tracked in [true, false] {
        let mut s = db.session();
        let q = s.query::<Shelf>().join(Shelf::labels).load_joined(Shelf::books);
        let shelves = if tracked { q.all() } else { q.untracked().all() }.unwrap();
        assert_eq!(shape(&shelves), [("s2".to_string(), vec![7, 8, 70])], "{backend}");
        let mut s = db.session();
        let shelves = s
            .query::<Shelf>()
            .join(Shelf::labels)
            .order_by(Label::name.desc())
            .load_joined(Shelf::books)
            .all()
            .unwrap();
        assert_eq!(shape(&shelves), [("s2".to_string(), vec![7, 8, 70])], "{backend}");
    }
    // The loaded collection is right too: saving the shelf unchanged writes nothing.
    let mut s = db.session();
    let log = StatementLog::attach(&db);
    let shelf = s.query::<Shelf>().join(Shelf::labels).load_joined(Shelf::books).one().unwrap();
    take(&log);
    s.add(shelf);
    s.commit().unwrap();
    assert_eq!(take(&log), Vec::<String>::new(), "{backend}");
}

fn an_untracked_joined_copy_after_a_bulk_update_is_not_taken_for_a_stale_one(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let mut s = db.session();
    // The session knows book 7 as "b7"; a bulk update makes it "new".
    let _before = s.get::<Book>(7).unwrap().unwrap();
    s.query::<Book>().filter(Book::id.eq(7)).update([Book::title.set("new")]).unwrap();
    // A copy read untracked after it holds "new"; setting it back to "b7" on purpose is a
    // change the session cannot tell from a stale copy's value: an error, not a lost write.
    let shelf = s
        .query::<Shelf>()
        .filter(Shelf::id.eq(2))
        .load_joined(Shelf::books)
        .untracked()
        .one()
        .unwrap();
    let mut book = shelf.books.get().unwrap().iter().find(|b| b.id == 7).unwrap().clone();
    assert_eq!(book.title, "new", "{backend}");
    book.title = "b7".into();
    s.add(book);
    assert!(matches!(s.commit(), Err(Error::StaleData(_))), "{backend}");
}

fn an_untracked_query_loads_its_targets_untracked_too(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let log = StatementLog::attach(&db);
    for tracked in [true, false] {
        let mut s = db.session();
        let q = s.query::<Shelf>().load(Shelf::books.then(Book::shelf));
        let shelves = if tracked { q.all() } else { q.untracked().all() }.unwrap();
        assert_eq!(shelves.len(), 4, "{backend}");
        assert_eq!(shelves[1].books.get().unwrap()[0].shelf.get().unwrap().id, 2, "{backend}");
        assert_eq!(take(&log).len(), 3, "{backend}: one query per level");
        // A tracked load leaves the books in the identity map (a get needs no statement); an
        // untracked one leaves nothing there.
        let book = s.get::<Book>(7).unwrap().unwrap();
        assert_eq!(book.title, "b7", "{backend}");
        let expected = if tracked { 0 } else { 1 };
        assert_eq!(take(&log).len(), expected, "{backend}: tracked {tracked}");
    }
    // The same objects either way.
    let mut s = db.session();
    let tracked = s.query::<Shelf>().load(Shelf::books).all().unwrap();
    let mut s = db.session();
    let untracked = s.query::<Shelf>().load(Shelf::books).untracked().all().unwrap();
    assert_eq!(shape(&tracked), shape(&untracked), "{backend}");
}
