//! Relationships as `#[derive(Model)]` generates them, without a database: the `RELATIONS`
//! schemas of every kind and field shape, cascade flags and their defaults, association tables
//! (schema, registration, the same from both sides), the typed handles (`set_loaded`, `loaded`,
//! `loaded_mut`) and `related` / `related_mut`.
#![allow(missing_docs)]

use orm::prelude::*;
use orm::Model;
use orm::{
    Cascade, ColumnType, Error, ModelEntry, ReferentialAction, RelationKind, RelationSchema,
    TableSchema, Through, Value, ValueRef,
};
use std::any::TypeId;

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "users")]
pub struct User {
    #[orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[orm(has_many(foreign_key = author_id))]
    pub posts: Related<Vec<Post>>,
    #[orm(has_one(foreign_key = user_id, cascade = "all, delete_orphan"))]
    pub profile: Related<Option<Profile>>,
    /// A self-referencing association table, its remote column sorting first.
    #[orm(many_to_many(through = "friendships", local = user_id, remote = friend_id))]
    pub friends: Related<Vec<User>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "profiles")]
pub struct Profile {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = User, on_delete = cascade)]
    pub user_id: i64,
    pub bio: String,
    #[orm(belongs_to(foreign_key = user_id))]
    pub user: Related<Box<User>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "posts")]
pub struct Post {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    #[orm(references = User, on_delete = cascade)]
    pub author_id: i64,
    #[orm(references = User, column = "reviewer")]
    pub reviewer_id: Option<i64>,
    #[orm(belongs_to(foreign_key = author_id))]
    pub author: Related<User>,
    #[orm(belongs_to(foreign_key = reviewer_id))]
    pub reviewer: Related<Option<User>>,
    #[orm(has_many(foreign_key = post_id, cascade = "delete, delete_orphan", passive_deletes))]
    pub comments: Related<Vec<Comment>>,
    #[orm(many_to_many(through = "post_tags", local = post_id, remote = tag_id))]
    pub tags: Related<Vec<Tag>>,
    #[orm(many_to_many(through = PostTag, local = post_id, remote = tag_id))]
    pub tags2: Related<Vec<Tag>>,
    #[orm(skip)]
    pub scratch: u8,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "tags")]
pub struct Tag {
    #[orm(primary_key, max_length = 40)]
    pub name: String,
    /// The other side of `Post::tags`: the same association table.
    #[orm(many_to_many(through = "post_tags", local = tag_id, remote = post_id))]
    pub posts: Related<Vec<Post>>,
}

/// An association table with a model of its own.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "post_tag_links")]
pub struct PostTag {
    #[orm(primary_key, references = Post, on_delete = cascade)]
    pub post_id: i64,
    #[orm(primary_key, references = Tag, on_delete = cascade)]
    pub tag_id: String,
    pub weight: i32,
}

/// Self reference: a parent and replies.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "comments")]
pub struct Comment {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Post, on_delete = cascade)]
    pub post_id: i64,
    #[orm(references = Self, on_delete = cascade)]
    pub parent_id: Option<i64>,
    pub body: String,
    #[orm(belongs_to(foreign_key = parent_id))]
    pub parent: Related<Option<Box<Comment>>>,
    #[orm(has_many(foreign_key = parent_id))]
    pub replies: Related<Vec<Self>>,
}

/// Composite keys: a list of columns in `foreign_key`.
#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "editions")]
pub struct Edition {
    #[orm(primary_key)]
    pub book_id: i64,
    #[orm(primary_key)]
    pub number: i32,
    #[orm(has_many(foreign_key = (edition_book_id, edition_number)))]
    pub printings: Related<Vec<Printing>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "printings")]
pub struct Printing {
    #[orm(primary_key)]
    pub id: i64,
    pub edition_book_id: i64,
    #[orm(column = "edition_no")]
    pub edition_number: i32,
    #[orm(belongs_to(foreign_key = (edition_book_id, edition_number)))]
    pub edition: Related<Edition>,
}

fn rel<M: Model>(name: &str) -> &'static RelationSchema {
    M::RELATIONS.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no relation {name}"))
}

fn user(id: i64) -> User {
    User { id, name: format!("u{id}"), ..Default::default() }
}

fn post(id: i64) -> Post {
    Post { id, title: format!("p{id}"), author_id: 1, ..Default::default() }
}

fn comment(id: i64, parent_id: Option<i64>) -> Comment {
    Comment { id, post_id: 1, parent_id, body: format!("c{id}"), ..Default::default() }
}

/// Every entry registered under `name`, one per model that declares it.
fn registered(name: &str) -> Vec<&'static TableSchema> {
    orm::__private::inventory::iter::<ModelEntry>
        .into_iter()
        .filter(|e| e.table.name == name)
        .map(|e| e.table)
        .collect()
}

#[test]
fn relations_are_listed_in_field_order() {
    let names = |rels: &[RelationSchema]| rels.iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(names(Post::RELATIONS), ["author", "reviewer", "comments", "tags", "tags2"]);
    assert_eq!(names(User::RELATIONS), ["posts", "profile", "friends"]);
    assert_eq!(names(PostTag::RELATIONS), Vec::<&str>::new());
    // The handles carry the same index.
    assert_eq!(Post::tags2.index, 4);
    assert_eq!(Post::tags2.schema().name, "tags2");
    assert_eq!(format!("{:?}", Post::reviewer), "Relation(posts.reviewer)");
}

#[test]
fn belongs_to_schema() {
    let r = rel::<Post>("author");
    assert_eq!(r.kind, RelationKind::BelongsTo);
    assert_eq!((r.source_table, r.target_table), ("posts", "users"));
    assert_eq!((r.source_columns, r.target_columns), (&["author_id"][..], &["id"][..]));
    assert_eq!(r.through, None);
    assert_eq!(r.cascade, Cascade::NONE);
    assert_eq!((r.target_schema)().name, "users");
    assert_eq!((r.target_type)(), TypeId::of::<User>());
    assert_eq!((r.target_relations)().len(), User::RELATIONS.len());

    // The foreign key's column name, after `column = ...`.
    let r = rel::<Post>("reviewer");
    assert_eq!((r.source_columns, r.target_columns), (&["reviewer"][..], &["id"][..]));

    let r = rel::<Printing>("edition");
    assert_eq!(r.source_columns, ["edition_book_id", "edition_no"]);
    assert_eq!(r.target_columns, ["book_id", "number"]);
}

#[test]
fn has_one_and_has_many_schema() {
    let r = rel::<User>("posts");
    assert_eq!(r.kind, RelationKind::HasMany);
    assert_eq!((r.source_table, r.target_table), ("users", "posts"));
    assert_eq!((r.source_columns, r.target_columns), (&["id"][..], &["author_id"][..]));
    assert_eq!(r.through, None);
    assert_eq!(r.cascade, Cascade::SAVE, "save is the default");
    assert_eq!((r.target_type)(), TypeId::of::<Post>());

    let r = rel::<User>("profile");
    assert_eq!(r.kind, RelationKind::HasOne);
    assert_eq!((r.target_table, r.target_columns), ("profiles", &["user_id"][..]));
    let all = Cascade { save: true, delete: true, delete_orphan: true, passive_deletes: false };
    assert_eq!(r.cascade, all);

    // An explicit list replaces the default: no save here.
    let r = rel::<Post>("comments");
    let expected =
        Cascade { save: false, delete: true, delete_orphan: true, passive_deletes: true };
    assert_eq!(r.cascade, expected);

    let r = rel::<Edition>("printings");
    assert_eq!(r.source_columns, ["book_id", "number"]);
    assert_eq!(r.target_columns, ["edition_book_id", "edition_no"]); // fields, mapped to columns
}

#[test]
fn many_to_many_schema() {
    let r = rel::<Post>("tags");
    assert_eq!(r.kind, RelationKind::ManyToMany);
    assert_eq!((r.source_table, r.target_table), ("posts", "tags"));
    assert_eq!((r.source_columns, r.target_columns), (&["id"][..], &["name"][..]));
    let through =
        Through { table: "post_tags", local_columns: &["post_id"], remote_columns: &["tag_id"] };
    assert_eq!(r.through, Some(through));
    assert_eq!(r.cascade, Cascade::SAVE);

    let r = rel::<Post>("tags2");
    let through = Through {
        table: "post_tag_links",
        local_columns: &["post_id"],
        remote_columns: &["tag_id"],
    };
    assert_eq!(r.through, Some(through));

    let r = rel::<Tag>("posts");
    assert_eq!((r.source_columns, r.target_columns), (&["name"][..], &["id"][..]));
    let through =
        Through { table: "post_tags", local_columns: &["tag_id"], remote_columns: &["post_id"] };
    assert_eq!(r.through, Some(through));
}

#[test]
fn association_table_schema() {
    let t = registered("post_tags")[0];
    let cols: Vec<_> = t.columns.iter().map(|c| (c.name, c.ty, c.max_length)).collect();
    assert_eq!(
        cols,
        [("post_id", ColumnType::BigInt, None), ("tag_id", ColumnType::Text, Some(40))]
    );
    assert!(t.columns.iter().all(|c| c.primary_key && !c.nullable && !c.auto_increment));
    assert!(t.columns.iter().all(|c| c.default.is_none() && c.server_default.is_none()));
    assert_eq!(t.primary_key, [0, 1]);
    assert!(t.indexes.is_empty() && t.uniques.is_empty());
    let fks: Vec<_> =
        t.foreign_keys.iter().map(|f| (f.name, f.columns, f.ref_table, f.ref_columns)).collect();
    assert_eq!(
        fks,
        [
            ("fk_post_tags_post_id_posts", &["post_id"][..], "posts", &["id"][..]),
            ("fk_post_tags_tag_id_tags", &["tag_id"][..], "tags", &["name"][..]),
        ]
    );
    assert!(t.foreign_keys.iter().all(|f| f.on_delete == ReferentialAction::Cascade));
    assert!(t.foreign_keys.iter().all(|f| f.on_update == ReferentialAction::NoAction));

    // Self-referencing: ordered by column name, both keys to `users`.
    let t = registered("friendships")[0];
    assert_eq!(t.columns.iter().map(|c| c.name).collect::<Vec<_>>(), ["friend_id", "user_id"]);
    assert!(t.columns.iter().all(|c| c.ty == ColumnType::BigInt));
    let fks: Vec<_> = t.foreign_keys.iter().map(|f| (f.name, f.ref_table)).collect();
    assert_eq!(
        fks,
        [("fk_friendships_friend_id_users", "users"), ("fk_friendships_user_id_users", "users")]
    );
}

#[test]
fn association_table_is_the_same_from_both_sides_and_registered_once() {
    let sides = registered("post_tags");
    assert_eq!(sides.len(), 2, "Post and Tag both declare it");
    assert_eq!(sides[0], sides[1]);

    let tables = orm::registered_tables();
    let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
    assert_eq!(names.iter().filter(|n| **n == "post_tags").count(), 1);
    assert!(names.contains(&"friendships"));
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(at("posts") < at("post_tags") && at("tags") < at("post_tags"), "{names:?}");
    // A through model is a model, not a generated table.
    assert_eq!(registered("post_tag_links").len(), 1);
    assert_eq!(registered("post_tag_links")[0], PostTag::TABLE);
}

#[test]
fn relationship_fields_are_not_columns() {
    let cols: Vec<&str> = Post::TABLE.columns.iter().map(|c| c.name).collect();
    assert_eq!(cols, ["id", "title", "author_id", "reviewer"]);
    let mut p = post(1);
    p.author = Related::Loaded(user(1));
    p.comments = Related::Loaded(vec![comment(1, None)]);
    // Equality compares what was loaded (Related's PartialEq); the snapshot, the columns only.
    assert_ne!(p, post(1), "a loaded relationship is part of the value");
    assert_eq!(p.snapshot(), post(1).snapshot(), "relationships are left out of snapshots");
    let snap = p.snapshot();
    assert!(p.changed_columns(&snap).is_empty());
    let back = Post::from_snapshot(&snap);
    assert!(!back.author.is_loaded() && !back.comments.is_loaded());
}

#[test]
fn handle_on_a_collection() {
    let mut u = user(1);
    assert!((User::posts.loaded)(&u).is_none());
    assert!((User::posts.loaded_mut)(&mut u).is_none());
    (User::posts.set_loaded)(&mut u, vec![post(1), post(2)]).unwrap();
    let ids: Vec<i64> = (User::posts.loaded)(&u).unwrap().iter().map(|p| p.id).collect();
    assert_eq!(ids, [1, 2]);
    (User::posts.loaded_mut)(&mut u).unwrap()[1].title = "changed".into();
    assert_eq!(u.posts.get().unwrap()[1].title, "changed");
    (User::posts.set_loaded)(&mut u, vec![]).unwrap();
    assert_eq!((User::posts.loaded)(&u).unwrap().len(), 0, "loaded and empty");
}

#[test]
fn handle_on_a_required_target() {
    let mut p = post(1);
    assert!((Post::author.loaded)(&p).is_none());
    (Post::author.set_loaded)(&mut p, vec![user(7), user(8)]).unwrap();
    assert_eq!((Post::author.loaded)(&p).unwrap().iter().map(|u| u.id).collect::<Vec<_>>(), [7]);
    (Post::author.loaded_mut)(&mut p).unwrap()[0].name = "seven".into();
    assert_eq!(p.author.get().unwrap().name, "seven");

    let mut p = post(2);
    match (Post::author.set_loaded)(&mut p, vec![]) {
        Err(Error::NotFound(what)) => assert_eq!(what, "posts.author: no related row"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(!p.author.is_loaded());
}

#[test]
fn handle_on_a_boxed_target() {
    let mut pr = Profile { id: 1, user_id: 3, bio: "hi".into(), user: Related::Unloaded };
    assert!((Profile::user.loaded)(&pr).is_none());
    assert!(matches!((Profile::user.set_loaded)(&mut pr, vec![]), Err(Error::NotFound(_))));
    (Profile::user.set_loaded)(&mut pr, vec![user(3)]).unwrap();
    assert_eq!((Profile::user.loaded)(&pr).unwrap()[0].id, 3);
    (Profile::user.loaded_mut)(&mut pr).unwrap()[0].id = 4;
    assert_eq!(pr.user.get().unwrap().id, 4);
}

#[test]
fn handle_on_an_optional_target() {
    let mut p = post(1);
    assert!((Post::reviewer.loaded)(&p).is_none());
    (Post::reviewer.set_loaded)(&mut p, vec![]).unwrap();
    assert_eq!(p.reviewer.get().unwrap(), &None);
    assert_eq!((Post::reviewer.loaded)(&p).unwrap().len(), 0);
    assert_eq!((Post::reviewer.loaded_mut)(&mut p).unwrap().len(), 0);
    (Post::reviewer.set_loaded)(&mut p, vec![user(5)]).unwrap();
    assert_eq!((Post::reviewer.loaded)(&p).unwrap()[0].id, 5);
    (Post::reviewer.loaded_mut)(&mut p).unwrap()[0].id = 6;
    assert_eq!(p.reviewer.get().unwrap().as_ref().unwrap().id, 6);

    let mut u = user(1);
    (User::profile.set_loaded)(&mut u, vec![]).unwrap();
    assert_eq!((User::profile.loaded)(&u).unwrap().len(), 0);
}

#[test]
fn self_reference_parent_and_replies() {
    let r = rel::<Comment>("parent");
    assert_eq!((r.source_table, r.target_table), ("comments", "comments"));
    assert_eq!((r.source_columns, r.target_columns), (&["parent_id"][..], &["id"][..]));
    assert_eq!((r.target_type)(), TypeId::of::<Comment>());
    let r = rel::<Comment>("replies");
    assert_eq!((r.source_columns, r.target_columns), (&["id"][..], &["parent_id"][..]));
    assert_eq!((r.target_relations)()[1].name, "replies");

    let mut c = comment(2, Some(1));
    assert!((Comment::parent.loaded)(&c).is_none());
    (Comment::parent.set_loaded)(&mut c, vec![]).unwrap();
    assert_eq!((Comment::parent.loaded)(&c).unwrap().len(), 0);
    assert_eq!((Comment::parent.loaded_mut)(&mut c).unwrap().len(), 0);
    (Comment::parent.set_loaded)(&mut c, vec![comment(1, None)]).unwrap();
    assert_eq!((Comment::parent.loaded)(&c).unwrap()[0].id, 1);
    (Comment::parent.loaded_mut)(&mut c).unwrap()[0].body = "edited".into();
    assert_eq!(c.parent.get().unwrap().as_ref().unwrap().body, "edited");

    let mut root = comment(1, None);
    (Comment::replies.set_loaded)(&mut root, vec![comment(2, Some(1)), comment(3, Some(1))])
        .unwrap();
    assert_eq!((Comment::replies.loaded)(&root).unwrap().len(), 2);
}

#[test]
fn two_relations_to_one_table() {
    let (a, r) = (rel::<Post>("author"), rel::<Post>("reviewer"));
    assert_eq!((a.target_table, r.target_table), ("users", "users"));
    assert_ne!(a.source_columns, r.source_columns);
    let mut p = post(1);
    (Post::author.set_loaded)(&mut p, vec![user(1)]).unwrap();
    (Post::reviewer.set_loaded)(&mut p, vec![user(2)]).unwrap();
    assert_eq!(
        (p.author.get().unwrap().id, p.reviewer.get().unwrap().as_ref().unwrap().id),
        (1, 2)
    );
}

#[test]
fn related_gives_the_loaded_targets() {
    let mut p = post(1);
    for i in 0..Post::RELATIONS.len() {
        assert!(Model::related(&p, i).is_none(), "relation {i} is unloaded");
        assert!(Model::related_mut(&mut p, i).is_none());
    }
    assert!(Model::related(&p, 99).is_none());

    p.author = Related::Loaded(user(1));
    p.reviewer = Related::Loaded(None);
    p.comments = Related::Loaded(vec![comment(1, None), comment(2, Some(1))]);
    let count = |p: &Post, i| Model::related(p, i).map(|v| v.len());
    assert_eq!(
        (count(&p, 0), count(&p, 1), count(&p, 2), count(&p, 3)),
        (Some(1), Some(0), Some(2), None)
    );

    let targets = Model::related(&p, 2).unwrap();
    assert!(targets.iter().all(|t| t.table().name == "comments"));
    assert_eq!(targets[1].column_value(0), Value::Int(2));
    let author = &Model::related(&p, 0).unwrap()[0];
    assert_eq!(author.as_any().downcast_ref::<User>().map(|u| u.id), Some(1));

    // Through the trait objects, as the save cascade writes children's foreign keys.
    let post_id = Comment::TABLE.columns.iter().position(|c| c.name == "post_id").unwrap();
    for c in Model::related_mut(&mut p, 2).unwrap() {
        c.set_column(post_id, ValueRef::Int(42)).unwrap();
    }
    assert!(p.comments.get().unwrap().iter().all(|c| c.post_id == 42));

    // One level down, through the target's own relations.
    let mut c = comment(2, Some(1));
    c.parent = Related::Loaded(Some(Box::new(comment(1, None))));
    let parent = Model::related(&c, 0).unwrap();
    assert_eq!(parent[0].relations()[1].name, "replies");
    assert!(parent[0].related(1).is_none());
}
