//! Relationships with less to write: a has_many / has_one without `foreign_key` takes the one
//! `references = ThisModel` field of the target; `foreign_key`, `local` and `remote` name fields
//! (checked at compile time, see `tests/ui/relation_*`), mapped to their columns when a field is
//! renamed; `Related` equality compares what was loaded; `#[orm(crate = "...")]` names the crate
//! by another path. Schemas without a database, loading on SQLite and PostgreSQL.
#![allow(missing_docs)]

extern crate orm as my_orm;

mod common;

use common::{backend_tests, Backend};
use orm::prelude::*;
use orm::{Model, RelationSchema, TableSchema, Through};

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "inf_artists")]
pub struct Artist {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Inferred: `Album::artist_ref`, the one field of `Album` that references `Artist`.
    #[orm(has_many(cascade = "all"))]
    pub albums: Related<Vec<Album>>,
    /// Inferred too, a has_one.
    #[orm(has_one)]
    pub contract: Related<Option<Contract>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "inf_albums")]
pub struct Album {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    /// A renamed column: relationships name the field, the schema holds the column.
    #[orm(references = Artist, on_delete = cascade, column = "artist")]
    pub artist_ref: i64,
    #[orm(belongs_to(foreign_key = artist_ref))]
    pub artist: Related<Artist>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "inf_contracts")]
pub struct Contract {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Artist, on_delete = cascade)]
    pub artist_id: i64,
    pub label: String,
}

/// A self reference, inferred, and two references to one model, named.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "inf_nodes")]
pub struct Node {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Self, on_delete = cascade)]
    pub parent_id: Option<i64>,
    #[orm(has_many)]
    pub children: Related<Vec<Node>>,
    #[orm(has_many(foreign_key = sender))]
    pub sent: Related<Vec<Message>>,
    #[orm(has_many(foreign_key = recipient))]
    pub received: Related<Vec<Message>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "inf_messages")]
pub struct Message {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Node, column = "from_node")]
    pub sender: i64,
    #[orm(references = Node, column = "to_node")]
    pub recipient: i64,
}

/// Many-to-many through a model whose fields have other column names: `local` and `remote`
/// name its fields.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "inf_clubs")]
pub struct Club {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(many_to_many(through = ClubMember, local = club_ref, remote = person_ref))]
    pub people: Related<Vec<Person>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "inf_people")]
pub struct Person {
    #[orm(primary_key)]
    pub id: i64,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "inf_club_members")]
pub struct ClubMember {
    #[orm(primary_key, references = Club, on_delete = cascade, column = "club")]
    pub club_ref: i64,
    #[orm(primary_key, references = Person, on_delete = cascade, column = "person")]
    pub person_ref: i64,
}

/// The crate named by another path: every generated path goes through `crate = "..."`.
mod renamed {
    #[derive(my_orm::Model, Debug, Clone, PartialEq)]
    #[orm(crate = "my_orm", table = "inf_renamed")]
    pub struct Renamed {
        #[orm(primary_key)]
        pub id: i64,
        #[orm(default = "x")]
        pub tag: String,
        pub state: State,
        #[orm(has_many)]
        pub items: my_orm::Related<Vec<RenamedItem>>,
    }

    #[derive(my_orm::Model, Debug, Clone, PartialEq)]
    #[orm(crate = "crate::reexport::orm_again", table = "inf_renamed_items")]
    pub struct RenamedItem {
        #[orm(primary_key)]
        pub id: i64,
        #[orm(references = Renamed)]
        pub renamed_id: i64,
    }

    #[derive(my_orm::DbEnum, Debug, Clone, Copy, PartialEq)]
    #[orm(crate = "my_orm")]
    pub enum State {
        On,
        Off,
    }

    #[derive(my_orm::FromRow, Debug, PartialEq)]
    #[orm(crate = "my_orm")]
    pub struct Count {
        pub n: i64,
    }
}

mod reexport {
    pub use ::orm as orm_again;
}

fn rel<M: Model>(name: &str) -> &'static RelationSchema {
    M::RELATIONS.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no relation {name}"))
}

fn tables() -> Vec<&'static TableSchema> {
    vec![Artist::TABLE, Album::TABLE, Contract::TABLE, Node::TABLE, Message::TABLE]
}

#[test]
fn has_many_and_has_one_infer_the_one_reference_to_their_model() {
    let r = rel::<Artist>("albums");
    assert_eq!((r.source_columns, r.target_columns), (&["id"][..], &["artist"][..]));
    let r = rel::<Artist>("contract");
    assert_eq!((r.target_table, r.target_columns), ("inf_contracts", &["artist_id"][..]));
    let r = rel::<Node>("children");
    assert_eq!((r.source_columns, r.target_columns), (&["id"][..], &["parent_id"][..]));
}

#[test]
fn named_fields_map_to_their_columns() {
    assert_eq!(rel::<Node>("sent").target_columns, ["from_node"]);
    assert_eq!(rel::<Node>("received").target_columns, ["to_node"]);
    assert_eq!(rel::<Album>("artist").source_columns, ["artist"]);
    let through = rel::<Club>("people").through;
    assert_eq!(
        through,
        Some(Through {
            table: "inf_club_members",
            local_columns: &["club"],
            remote_columns: &["person"]
        })
    );
}

#[test]
fn crate_path_reaches_every_generated_item() {
    use renamed::{Count, Renamed, RenamedItem, State};
    assert_eq!(<Renamed as Model>::TABLE_NAME, "inf_renamed");
    assert_eq!(Renamed::default().tag, "x");
    assert_eq!(Renamed::tag.name, "tag");
    assert_eq!(rel::<Renamed>("items").target_columns, ["renamed_id"]);
    assert_eq!(<RenamedItem as Model>::TABLE.foreign_keys[0].ref_table, "inf_renamed");
    assert_eq!(<State as orm::DbEnum>::LABELS, ["on", "off"]);
    let db = orm::testing::memory_database_with(&[]).unwrap();
    let counts: Vec<Count> = db.session().sql("SELECT 3 AS n").all().unwrap();
    assert_eq!(counts, [Count { n: 3 }]);
}

#[test]
fn related_equality_compares_what_was_loaded() {
    let unloaded: Related<Vec<Album>> = Related::Unloaded;
    assert_eq!(unloaded, Related::Unloaded);
    assert_ne!(unloaded, Related::Loaded(vec![]), "not loaded is not empty");
    let one = |title: &str| Album { id: 1, title: title.into(), ..Default::default() };
    assert_eq!(Related::Loaded(vec![one("a")]), Related::Loaded(vec![one("a")]));
    assert_ne!(Related::Loaded(vec![one("a")]), Related::Loaded(vec![one("b")]));

    // A model compares its relationships too; its snapshot (the columns) does not.
    let plain = Artist { id: 1, name: "x".into(), ..Default::default() };
    let eager = Artist { albums: Related::Loaded(vec![one("a")]), ..plain.clone() };
    assert_ne!(plain, eager);
    assert_eq!(plain, plain.clone());
    assert_eq!(plain.snapshot(), eager.snapshot());
}

backend_tests! {
    inferred_and_renamed_keys_save_and_load,
}

fn inferred_and_renamed_keys_save_and_load(backend: Backend) {
    let db = backend.database(&tables());
    let mut s = db.session();
    s.add(Artist {
        name: "Nina".into(),
        albums: Related::Loaded(vec![
            Album { title: "Pastel Blues".into(), ..Default::default() },
            Album { title: "Wild Is the Wind".into(), ..Default::default() },
        ]),
        ..Default::default()
    });
    s.commit().unwrap();
    let artist_id = s.query::<Artist>().one().unwrap().id;
    let albums = s.query::<Album>().filter(Album::artist_ref.eq(artist_id)).count().unwrap();
    assert_eq!(albums, 2, "{backend}: the children got the parent's key");

    let mut s = db.session();
    let eager = s.query::<Artist>().load(Artist::albums).all().unwrap();
    assert_eq!(eager[0].albums.get().unwrap().len(), 2, "{backend}");
    let joined = s.query::<Artist>().load_joined(Artist::albums).all().unwrap();
    assert_eq!(joined[0].albums.get().unwrap().len(), 2, "{backend}");
    let mut albums = s.query::<Album>().all().unwrap();
    s.load_related_all(&mut albums, Album::artist).unwrap();
    assert_eq!(albums[1].artist.get().unwrap().name, "Nina", "{backend}");

    let root = s.save(Node::default()).unwrap();
    let child = s.save(Node { parent_id: Some(root.id), ..Default::default() }).unwrap();
    s.save(Message { sender: root.id, recipient: child.id, ..Default::default() }).unwrap();
    let mut nodes = s.query::<Node>().order_by(Node::id.asc()).all().unwrap();
    s.load_related_all(&mut nodes, Node::children).unwrap();
    s.load_related_all(&mut nodes, Node::sent).unwrap();
    s.load_related_all(&mut nodes, Node::received).unwrap();
    assert_eq!(nodes[0].children.get().unwrap().len(), 1, "{backend}");
    assert_eq!(nodes[0].sent.get().unwrap().len(), 1, "{backend}");
    assert_eq!(nodes[0].received.get().unwrap().len(), 0, "{backend}");
    assert_eq!(nodes[1].received.get().unwrap().len(), 1, "{backend}");
}
