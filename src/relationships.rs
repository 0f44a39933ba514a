//! # Relationships
//!
//! A relationship is a `Related<T>` field with one of four attributes. It is plain data, never a
//! hidden query: it is `Unloaded` until you load it, and reading it then is
//! [`Error::NotLoaded`](crate::Error::NotLoaded) (SQLAlchemy's `raise` loading strategy).
//!
//! | attribute | field | the foreign key is on |
//! |---|---|---|
//! | `belongs_to(foreign_key = author_id)` | `Related<User>`, `Related<Option<User>>`, `Related<Option<Box<Self>>>` | this table (`author_id` names a field of this struct) |
//! | `has_one`, `has_one(foreign_key = user_id)` | `Related<Option<Profile>>` | the target (`user_id` names its field) |
//! | `has_many`, `has_many(foreign_key = author_id)` | `Related<Vec<Post>>` | the target |
//! | `many_to_many(through = PostTag, local = post_id, remote = tag_id)` | `Related<Vec<Tag>>` | an association model (`local`, `remote`: its fields) |
//! | `many_to_many(through = "post_tags", local = post_id, remote = tag_id)` | `Related<Vec<Tag>>` | an association table the derive generates (`local`, `remote`: its columns) |
//!
//! A key is written once, on its column (`references = User`). Without `foreign_key`, a has_one
//! or has_many takes the target's one field marked `references = ThisModel`; when the target has
//! none or several, compiling fails and says to write `foreign_key = field`. Names are fields,
//! checked at compile time (a name the model does not have is an error at the name), and a field
//! with `#[orm(column = "...")]` stands for that column. Both sides may declare a
//! `through = "table"`; they must mirror each other (one side's `local` is the other's
//! `remote`), which is checked at compile time too.
//!
//! Each side declares its own relationship, so both are navigable (`User::posts` and
//! `Post::author`). Two relationships may target one table (`author`, `reviewer`), and a model
//! may refer to itself (`parent` / `replies`).
//!
//! ```
//! use orm::prelude::*;
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! pub struct Author {
//!     #[orm(primary_key)]
//!     pub id: i64,
//!     pub name: String,
//!     #[orm(has_many(cascade = "all, delete_orphan"))]    // Book::author_id, inferred
//!     pub books: Related<Vec<Book>>,
//! }
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! pub struct Book {
//!     #[orm(primary_key)]
//!     pub id: i64,
//!     pub title: String,
//!     #[orm(references = Author)]
//!     pub author_id: i64,
//!     #[orm(belongs_to(foreign_key = author_id))]
//!     pub author: Related<Author>,
//!     #[orm(many_to_many(through = "book_genres", local = book_id, remote = genre_id))]
//!     pub genres: Related<Vec<Genre>>,
//! }
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! pub struct Genre {
//!     #[orm(primary_key)]
//!     pub id: i64,
//!     pub name: String,
//! }
//!
//! # fn main() -> orm::Result<()> {
//! let db = orm::testing::memory_database()?;   // every registered table, book_genres included
//! let mut s = db.session();
//!
//! // Saving a graph: one `add`, INSERTs parent first, each child gets its parent's new key.
//! let fantasy = s.save(Genre { name: "fantasy".into(), ..Default::default() })?;
//! s.add(Author {
//!     name: "Ursula".into(),
//!     books: Related::Loaded(vec![
//!         Book { title: "A Wizard of Earthsea".into(), genres: Related::Loaded(vec![fantasy.clone()]), ..Default::default() },
//!         Book { title: "The Dispossessed".into(), ..Default::default() },
//!     ]),
//!     ..Default::default()
//! });
//! s.commit()?;
//!
//! // Eager loading by a second query per level (selectin): 2 statements for any number of rows.
//! let authors = s.query::<Author>().load(Author::books.then(Book::genres)).all()?;
//! let books = authors[0].books.get()?;
//! assert_eq!(books.len(), 2);
//! assert_eq!(books[0].genres.get()?[0].name, "fantasy");
//!
//! // Eager loading by JOIN: one statement.
//! let authors = s.query::<Author>().load_joined(Author::books).all()?;
//! assert_eq!(authors[0].books.get()?.len(), 2);
//!
//! // Explicit lazy loading, for one object or a whole slice (one query either way).
//! let mut books = s.query::<Book>().all()?;
//! assert!(matches!(books[0].author.get(), Err(Error::NotLoaded(_))));
//! s.load_related_all(&mut books, Book::author)?;
//! assert_eq!(books[1].author.get()?.name, "Ursula");
//!
//! // Filtering on related columns: joins, and EXISTS on a collection.
//! let by_ursula = s.query::<Book>().join(Book::author).filter(Author::name.eq("Ursula")).count()?;
//! assert_eq!(by_ursula, 2);
//! let with_fantasy = s.query::<Book>().filter(Book::genres.any(Genre::name.eq("fantasy"))).count()?;
//! assert_eq!(with_fantasy, 1);
//!
//! // delete_orphan: a book removed from its author's loaded collection is deleted.
//! let mut ursula = s.query::<Author>().one()?;
//! s.load_related(&mut ursula, Author::books)?;
//! if let Related::Loaded(list) = &mut ursula.books {
//!     list.retain(|b| b.title != "The Dispossessed");
//! }
//! s.add(ursula);
//! s.commit()?;
//! assert_eq!(s.query::<Book>().count()?, 1);
//! # Ok(()) }
//! ```
//!
//! ## Equality
//!
//! `Related` compares what was loaded: two `Unloaded` are equal, two `Loaded` are equal when their
//! contents are, and `Unloaded` never equals `Loaded`, not even `Loaded(vec![])` ("not loaded"
//! says nothing of the rows, "loaded and empty" says there are none). A model's derived
//! `PartialEq` compares its loaded relationships too, as SeaORM's `(Model, Vec<Related>)` pairs
//! do; snapshots compare the columns only.
//!
//! ```
//! use orm::prelude::*;
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! pub struct Author {
//!     #[orm(primary_key)]
//!     pub id: i64,
//!     #[orm(has_many)]
//!     pub books: Related<Vec<Book>>,
//! }
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! pub struct Book {
//!     #[orm(primary_key)]
//!     pub id: i64,
//!     #[orm(references = Author)]
//!     pub author_id: i64,
//! }
//!
//! let none: Related<Vec<Book>> = Related::Unloaded;
//! assert_eq!(none, Related::Unloaded);
//! assert_ne!(none, Related::Loaded(vec![]));      // not loaded is not empty
//! assert_eq!(Related::<Vec<Book>>::Loaded(vec![]), Related::Loaded(vec![]));
//!
//! let plain = Author { id: 1, books: Related::Unloaded };
//! let eager = Author { id: 1, books: Related::Loaded(vec![]) };
//! assert_ne!(plain, eager);                       // the model compares what was loaded
//! assert_eq!(plain.snapshot(), eager.snapshot()); // its columns are the same
//! ```
//!
//! ## Writing
//!
//! - `add` of an object walks its loaded `has_one`, `has_many` and `many_to_many` collections
//!   (cascade `save`, the default): new objects are INSERTed after their parent and get its key
//!   (integer or UUID), changed ones are UPDATEd with their changed columns, and association
//!   rows are written or deleted to match a loaded many-to-many collection.
//! - `belongs_to` only supplies a key: a loaded target's key is written into the foreign key
//!   columns; a target that was never saved is [`Error::InvalidUse`](crate::Error::InvalidUse).
//! - `cascade = "..."` replaces the default: `save`, `delete` (deleting this object deletes its
//!   children first, also without an ON DELETE in the schema), `delete_orphan` (a child removed
//!   from a loaded collection is deleted; without it the child's foreign key is set to NULL, or
//!   the flush is refused when it cannot be NULL), `all` (= save, delete). `passive_deletes`
//!   leaves child rows to the database's `ON DELETE`.
//! - A collection that is `Unloaded` is never taken as empty: nothing is orphaned or unlinked.
//! - Objects linked into a collection should be loaded in the same session: an object the
//!   session has not seen is a new one, and is INSERTed.
//!
//! ## Loading
//!
//! - [`Query::load`](crate::Query::load): one more query per level, with `IN (...)` on the
//!   keys (`= ANY($1)` on PostgreSQL); nested with [`Relation::then`](crate::Relation). Each
//!   collection comes in its targets' primary-key order (text compared byte by byte, the same on
//!   both backends), sorted in Rust: the query has no `ORDER BY`, which on PostgreSQL made the
//!   cached statement's generic plan test every row against the whole key array.
//! - [`Query::load_joined`](crate::Query::load_joined): the same statement, LEFT OUTER JOIN;
//!   a limit or offset still counts parent rows.
//! - [`Session::load_related`](crate::Session::load_related) and
//!   [`Session::load_related_all`](crate::Session::load_related_all): on request.
//! - [`Query::join`](crate::Query::join), `outer_join`, `join_as` (a table joined twice, its
//!   columns read with `Column::of(alias)`), and `Relation::any(cond)` / `exists()` for EXISTS.
