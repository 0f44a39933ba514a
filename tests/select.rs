//! Stand-alone queries (`orm::select::<M>()`, SQLAlchemy 2's `select(User)`) on every backend:
//! built without a session and run by one, reused, cloned and extended, sent to another thread;
//! the same rows, statements and session behaviour as `s.query::<M>()`; and the check that a
//! query reads only the tables in it.

#![allow(missing_docs)] // test models, not a public API

mod common;

use common::models::{all_tables, Post, PostStatus, User};
use common::{backend_tests, take, Backend};
use orm::prelude::*;
use orm::testing::StatementLog;
use orm::{SelectColumns, TableSchema};

backend_tests! {
    a_query_built_in_one_function_runs_in_another,
    one_query_runs_twice_with_the_same_rows_also_on_another_session,
    a_clone_extended_leaves_the_original_as_it_was,
    a_query_sent_to_another_thread_runs_on_a_session_there,
    sql_of_a_value_without_a_session_exact_per_dialect,
    paginate_count_exists_one_first_on_the_value_agree_with_query,
    chosen_columns_and_aggregates_on_the_value,
    autoflush_and_the_identity_map_as_with_query,
    bulk_update_and_delete_where_on_the_value,
    eager_loading_via_the_value_costs_what_it_costs_via_query,
    joins_on_the_value_and_into_select,
    a_filter_on_a_model_not_joined_is_invalid_use_naming_it_and_works_once_joined,
    subqueries_on_relations_read_the_outer_table_on_purpose,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "sel_writers")]
pub struct Writer {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(unique, max_length = 40)]
    pub name: String,
    #[orm(has_many(foreign_key = writer_id))]
    pub novels: Related<Vec<Novel>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "sel_novels")]
pub struct Novel {
    #[orm(primary_key)]
    pub id: i64,
    pub title: String,
    #[orm(references = Writer)]
    pub writer_id: i64,
    #[orm(references = Writer)]
    pub editor_id: Option<i64>,
    #[orm(belongs_to(foreign_key = writer_id))]
    pub writer: Related<Writer>,
    #[orm(belongs_to(foreign_key = editor_id))]
    pub editor: Related<Option<Writer>>,
    #[orm(has_many(foreign_key = novel_id))]
    pub reviews: Related<Vec<Review>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[orm(table = "sel_reviews")]
pub struct Review {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Novel)]
    pub novel_id: i64,
    pub stars: i32,
}

fn tables() -> Vec<&'static TableSchema> {
    let mut t = all_tables();
    t.extend([Writer::TABLE, Novel::TABLE, Review::TABLE]);
    t
}

/// Four users; posts by users 1, 2 and 3.
fn seed(db: &Database) {
    let mut s = db.session();
    for (name, age) in [("ann", Some(31)), ("bob", Some(25)), ("cid", None), ("dora", Some(40))] {
        s.add(User { age, ..User::new(name) });
    }
    s.commit().unwrap();
    for (author, title, status) in [
        (1, "rust one", PostStatus::Published),
        (1, "rust two", PostStatus::Draft),
        (2, "cooking", PostStatus::Published),
        (3, "gardening", PostStatus::Archived),
    ] {
        s.add(Post { status, ..Post::new(author, title) });
    }
    s.commit().unwrap();
}

/// Writers ann (novels a1 with 2 reviews, a2 with 1, edited by bob), bob (b1, no review), cid
/// (none).
fn seed_novels(db: &Database) {
    let mut s = db.session();
    let ann = s.save(Writer { name: "ann".into(), ..Default::default() }).unwrap();
    let bob = s.save(Writer { name: "bob".into(), ..Default::default() }).unwrap();
    s.save(Writer { name: "cid".into(), ..Default::default() }).unwrap();
    let novel = |title: &str, writer_id, editor_id| Novel {
        title: title.into(),
        writer_id,
        editor_id,
        ..Default::default()
    };
    let a1 = s.save(novel("a1", ann.id, None)).unwrap();
    let a2 = s.save(novel("a2", ann.id, Some(bob.id))).unwrap();
    s.save(novel("b1", bob.id, None)).unwrap();
    for (novel_id, stars) in [(a1.id, 5), (a1.id, 3), (a2.id, 4)] {
        s.add(Review { novel_id, stars, ..Default::default() });
    }
    s.commit().unwrap();
}

fn names(users: Vec<User>) -> Vec<String> {
    users.into_iter().map(|u| u.username).collect()
}

fn titles(novels: &[Novel]) -> Vec<&str> {
    novels.iter().map(|n| n.title.as_str()).collect()
}

// ----- a value like any other --------------------------------------------------------------

fn assert_value<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}

#[test]
fn queries_are_clone_send_sync_static_and_debug() {
    assert_value::<Select<User>>();
    assert_value::<Select<Novel>>();
    assert_value::<SelectColumns<(Column<User, String>, Column<User, Option<i32>>)>>();
    let q = select::<Novel>().join(Novel::writer).load(Novel::reviews).limit(3);
    let shown = format!("{q:?}");
    assert!(shown.starts_with("Select { model: \"sel_novels\""), "{shown}");
    assert!(shown.contains("limit: Some(3)") && shown.contains("load: 1"), "{shown}");
}

/// Built where no session exists.
fn adults_by_name() -> Select<User> {
    select::<User>().filter(User::age.ge(18)).order_by(User::username.asc())
}

/// Run where the session is.
fn run(s: &mut Session, q: &Select<User>) -> Vec<String> {
    names(s.all(q).unwrap())
}

fn a_query_built_in_one_function_runs_in_another(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let mut s = db.session();
    assert_eq!(run(&mut s, &adults_by_name()), ["ann", "bob", "dora"], "{backend}");
}

fn one_query_runs_twice_with_the_same_rows_also_on_another_session(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let q = adults_by_name().limit(2);
    let mut s = db.session();
    let first = s.all(&q).unwrap();
    let again = s.all(&q).unwrap();
    assert_eq!(first, again, "{backend}");
    assert_eq!(names(first), ["ann", "bob"], "{backend}");
    let mut other = db.session();
    assert_eq!(other.all(&q).unwrap(), again, "{backend}: another session, the same rows");
    assert_eq!(s.count(&q).unwrap(), 2, "{backend}: and counted, still the same query");
}

fn a_clone_extended_leaves_the_original_as_it_was(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let mut s = db.session();
    let base = adults_by_name();
    let older = base.clone().filter(User::age.gt(30));
    let last = base.clone().order_by(User::id.desc()).limit(1);
    assert_eq!(run(&mut s, &older), ["ann", "dora"], "{backend}");
    assert_eq!(run(&mut s, &last), ["ann"], "{backend}: sorted by name first");
    assert_eq!(run(&mut s, &base), ["ann", "bob", "dora"], "{backend}: the original unchanged");
    assert_ne!(base.to_sql(db.dialect()).unwrap(), older.to_sql(db.dialect()).unwrap());
}

fn a_query_sent_to_another_thread_runs_on_a_session_there(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let q = adults_by_name();
    let copy = q.clone();
    let there = db.clone();
    let from_thread = std::thread::spawn(move || {
        let mut s = there.session();
        s.all(&copy).map(names)
    })
    .join()
    .expect("the thread ran")
    .unwrap();
    assert_eq!(from_thread, ["ann", "bob", "dora"], "{backend}");
    assert_eq!(run(&mut db.session(), &q), from_thread, "{backend}");
}

fn sql_of_a_value_without_a_session_exact_per_dialect(backend: Backend) {
    let db = backend.database(&tables());
    let q = select::<Novel>()
        .join(Novel::writer)
        .filter(Writer::name.eq("ann"))
        .order_by(Novel::title.desc())
        .limit(2);
    let r = q.to_sql(db.dialect()).unwrap();
    let p = |n: u32| if backend == Backend::Sqlite { format!("?{n}") } else { format!("${n}") };
    assert_eq!(
        r.sql,
        format!(
            "SELECT \"sel_novels\".\"id\", \"sel_novels\".\"title\", \
             \"sel_novels\".\"writer_id\", \"sel_novels\".\"editor_id\" FROM \"sel_novels\" \
             JOIN \"sel_writers\" ON \"sel_writers\".\"id\" = \"sel_novels\".\"writer_id\" \
             WHERE \"sel_writers\".\"name\" = {} ORDER BY \"sel_novels\".\"title\" DESC \
             LIMIT 2",
            p(1)
        ),
        "{backend}"
    );
    assert_eq!(r.params, vec![orm::Value::Text("ann".into())], "{backend}");
}

// ----- every terminal, and the same behaviour as s.query -----------------------------------

fn paginate_count_exists_one_first_on_the_value_agree_with_query(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let mut s = db.session();
    let posts = select::<Post>().order_by(Post::title.asc());
    let page = s.paginate(&posts, 2, 3).unwrap();
    let short = s.query::<Post>().order_by(Post::title.asc()).paginate(2, 3).unwrap();
    assert_eq!(page, short, "{backend}");
    assert_eq!((page.total, page.pages(), page.has_next(), page.has_prev()), (4, 2, false, true));
    assert_eq!(page.items.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["rust two"]);
    assert!(matches!(s.paginate(&posts, 0, 3), Err(Error::InvalidUse(_))), "{backend}");

    let rust = posts.clone().filter(Post::title.like("rust%"));
    assert_eq!(s.count(&rust).unwrap(), 2, "{backend}");
    assert_eq!(s.count(&rust.clone().limit(1)).unwrap(), 1, "{backend}: limit respected");
    assert!(s.exists(&rust).unwrap(), "{backend}");
    assert!(!s.exists(&rust.clone().filter(Post::author_id.eq(4))).unwrap(), "{backend}");
    assert_eq!(s.first(&rust).unwrap().map(|p| p.title), Some("rust one".into()), "{backend}");
    assert!(matches!(s.one(&rust), Err(Error::MultipleRows(ref t)) if t == "posts"), "{backend}");
    assert!(matches!(s.one_or_none(&rust), Err(Error::MultipleRows(_))), "{backend}");
    let cooking = posts.clone().filter(Post::title.eq("cooking"));
    assert_eq!(s.one(&cooking).unwrap().author_id, 2, "{backend}");
    let none = posts.filter(Post::title.eq("nothing"));
    assert_eq!(s.one_or_none(&none).unwrap(), None, "{backend}");
    assert!(matches!(s.one(&none), Err(Error::NotFound(ref t)) if t == "posts"), "{backend}");
    assert_eq!(s.first(&none).unwrap(), None, "{backend}");
}

fn chosen_columns_and_aggregates_on_the_value(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let mut s = db.session();
    let per_author = select::<Post>()
        .select((Post::author_id, count_star()))
        .group_by(Post::author_id)
        .having(count_star().ge(1))
        .order_by(count_star().desc())
        .order_by(Post::author_id.asc());
    let rows: Vec<(i64, i64)> = s.all(&per_author).unwrap();
    assert_eq!(rows, vec![(1, 2), (2, 1), (3, 1)], "{backend}");
    assert_eq!(s.first(&per_author).unwrap(), Some((1, 2)), "{backend}");
    assert!(matches!(s.one(&per_author), Err(Error::MultipleRows(_))), "{backend}");
    let busiest = per_author.clone().limit(1);
    assert_eq!(s.one(&busiest).unwrap(), (1, 2), "{backend}");
    let authors = select::<Post>().select(Post::author_id).distinct();
    assert_eq!(s.all(&authors.order_by(Post::author_id.desc())).unwrap(), vec![3, 2, 1]);
    let short: Vec<(i64, i64)> = s
        .query::<Post>()
        .select((Post::author_id, count_star()))
        .group_by(Post::author_id)
        .having(count_star().ge(1))
        .order_by(count_star().desc())
        .order_by(Post::author_id.asc())
        .all()
        .unwrap();
    assert_eq!(short, rows, "{backend}: the same as the short form");
}

fn autoflush_and_the_identity_map_as_with_query(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let log = StatementLog::attach(&db);
    let mut s = db.session();
    s.add(User::new("zed"));
    let everyone = select::<User>().order_by(User::id.asc());
    assert_eq!(s.count(&everyone).unwrap(), 5, "{backend}: the pending user was flushed");
    s.commit().unwrap();

    // Tracked: the rows read are in the identity map, `get` needs no SELECT.
    let users = s.all(&everyone).unwrap();
    take(&log);
    assert_eq!(s.get::<User>(users[1].id).unwrap().unwrap().username, "bob");
    assert_eq!(take(&log).len(), 0, "{backend}: served by the identity map");

    // One state per identity: another session's change is not seen until populate_existing.
    let mut other = db.session();
    other.get_mut::<User>(2).unwrap().unwrap().age = Some(99);
    other.commit().unwrap();
    let bob = everyone.clone().filter(User::id.eq(2));
    assert_eq!(s.one(&bob).unwrap().age, Some(25), "{backend}: the session's state");
    assert_eq!(s.one(&bob.clone().populate_existing()).unwrap().age, Some(99), "{backend}");
    assert_eq!(s.get::<User>(2).unwrap().unwrap().age, Some(99), "{backend}: taken");

    // Untracked rows stay out of the identity map: `get` of one reads it.
    let mut fresh = db.session();
    let untracked = fresh.all(&everyone.clone().untracked()).unwrap();
    take(&log);
    fresh.get::<User>(untracked[0].id).unwrap();
    assert_eq!(take(&log).len(), 1, "{backend}: not in the identity map");
}

fn bulk_update_and_delete_where_on_the_value(backend: Backend) {
    let db = backend.database(&tables());
    seed(&db);
    let mut s = db.session();
    let held = s.all(&select::<Post>()).unwrap();
    assert_eq!(held.len(), 4);
    let drafts = select::<Post>().filter(Post::status.eq(PostStatus::Draft));
    let n = s.update_where(&drafts, [Post::status.set(PostStatus::Archived)]).unwrap();
    assert_eq!(n, 1, "{backend}");
    assert_eq!(s.count(&drafts).unwrap(), 0, "{backend}");
    let archived = select::<Post>().filter(Post::status.eq(PostStatus::Archived));
    assert_eq!(s.delete_where(&archived).unwrap(), 2, "{backend}");
    assert_eq!(s.count(&select::<Post>()).unwrap(), 2, "{backend}");
    assert_eq!(
        s.update_where(&archived, Vec::<orm::Assignment>::new()).unwrap(),
        0,
        "{backend}: nothing to set"
    );
    let limited = archived.clone().limit(1);
    assert!(matches!(s.delete_where(&limited), Err(Error::InvalidUse(_))), "{backend}");
    s.commit().unwrap();
    assert_eq!(db.session().query::<Post>().count().unwrap(), 2, "{backend}: committed");
}

fn eager_loading_via_the_value_costs_what_it_costs_via_query(backend: Backend) {
    let db = backend.database(&tables());
    seed_novels(&db);
    let log = StatementLog::attach(&db);
    let by_id = select::<Writer>().order_by(Writer::id.asc());

    let mut s = db.session();
    let q = by_id.clone().load(Writer::novels);
    let writers = s.all(&q).unwrap();
    let value_cost = take(&log).len();
    let mut s = db.session();
    let short = s.query::<Writer>().order_by(Writer::id.asc()).load(Writer::novels).all();
    assert_eq!(take(&log).len(), value_cost, "{backend}");
    assert_eq!(value_cost, 2, "{backend}: selectin = 2 statements");
    assert_eq!(writers, short.unwrap(), "{backend}");
    assert_eq!(titles(writers[0].novels.get().unwrap()), ["a1", "a2"], "{backend}");
    assert!(writers[2].novels.get().unwrap().is_empty(), "{backend}");

    let mut s = db.session();
    let q = by_id.clone().load(Writer::novels.then(Novel::reviews));
    let writers = s.all(&q).unwrap();
    assert_eq!(take(&log).len(), 3, "{backend}: a path of two = 3 statements");
    let mut s = db.session();
    let short = s
        .query::<Writer>()
        .order_by(Writer::id.asc())
        .load(Writer::novels.then(Novel::reviews))
        .all()
        .unwrap();
    assert_eq!(take(&log).len(), 3, "{backend}");
    assert_eq!(writers, short, "{backend}");
    let a1 = &writers[0].novels.get().unwrap()[0];
    assert_eq!(a1.reviews.get().unwrap().len(), 2, "{backend}");

    let mut s = db.session();
    let q = by_id.load_joined(Writer::novels).limit(2);
    let writers = s.all(&q).unwrap();
    assert_eq!(take(&log).len(), 1, "{backend}: joined = 1 statement");
    let mut s = db.session();
    let short = s
        .query::<Writer>()
        .order_by(Writer::id.asc())
        .load_joined(Writer::novels)
        .limit(2)
        .all()
        .unwrap();
    assert_eq!(take(&log).len(), 1, "{backend}");
    assert_eq!(writers, short, "{backend}");
    assert_eq!(writers.len(), 2, "{backend}: the limit counts writers");
    assert_eq!(titles(writers[1].novels.get().unwrap()), ["b1"], "{backend}");
}

fn joins_on_the_value_and_into_select(backend: Backend) {
    let db = backend.database(&tables());
    seed_novels(&db);
    let mut s = db.session();
    let edited_by_bob = select::<Novel>()
        .join(Novel::writer)
        .join_as(Novel::editor, "editor")
        .filter(Writer::name.eq("ann").and(Writer::name.of("editor").eq("bob")));
    assert_eq!(titles(&s.all(&edited_by_bob).unwrap()), ["a2"], "{backend}");
    let unedited = select::<Novel>()
        .outer_join_as(Novel::editor, "editor")
        .filter(Writer::id.of("editor").nullable().is_null())
        .order_by(Novel::title.asc());
    assert_eq!(titles(&s.all(&unedited).unwrap()), ["a1", "b1"], "{backend}");
    // A to-many join gives each writer once, and counts it once.
    let with_reviews = select::<Writer>()
        .join(Writer::novels)
        .join_from(Novel::reviews)
        .filter(Review::stars.ge(3));
    assert_eq!(s.all(&with_reviews).unwrap().len(), 1, "{backend}");
    assert_eq!(s.count(&with_reviews).unwrap(), 1, "{backend}");
    let no_novel =
        select::<Writer>().outer_join(Writer::novels).filter(Novel::id.nullable().is_null());
    assert_eq!(s.one(&no_novel).unwrap().name, "cid", "{backend}");
    // The short form hands its query over.
    let kept = s.query::<Novel>().filter(Novel::title.like("a%")).into_select();
    assert_eq!(s.count(&kept).unwrap(), 2, "{backend}");
}

// ----- only the tables in the query ---------------------------------------------------------

const JOIN_IT: &str = "join it first (join, outer_join or join_from a relationship to it; a \
                       table joined with join_as is read through its alias with Column::of)";

fn invalid_use(r: orm::Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(Error::InvalidUse(m)) => m,
        other => panic!("expected InvalidUse, got {other:?}"),
    }
}

fn a_filter_on_a_model_not_joined_is_invalid_use_naming_it_and_works_once_joined(backend: Backend) {
    let db = backend.database(&tables());
    seed_novels(&db);
    let log = StatementLog::attach(&db);
    let mut s = db.session();
    s.add(Writer { name: "pending".into(), ..Default::default() });
    let by_ann = select::<Novel>().filter(Writer::name.eq("ann"));
    let expected = format!(
        "the filter reads \"sel_writers\".\"name\", but Writer (table \"sel_writers\") is not \
         in this query of Novel (table \"sel_novels\"); {JOIN_IT}"
    );
    assert_eq!(invalid_use(s.all(&by_ann)), expected, "{backend}");
    assert_eq!(invalid_use(s.count(&by_ann)), expected, "{backend}");
    assert_eq!(invalid_use(s.exists(&by_ann)), expected, "{backend}");
    assert_eq!(invalid_use(s.paginate(&by_ann, 1, 10)), expected, "{backend}");
    assert_eq!(invalid_use(s.first(&by_ann)), expected, "{backend}");
    assert_eq!(invalid_use(by_ann.to_sql(db.dialect())), expected, "{backend}");
    assert_eq!(invalid_use(s.delete_where(&by_ann)), expected, "{backend}");
    assert_eq!(
        invalid_use(s.query::<Novel>().filter(Writer::name.eq("ann")).all()),
        expected,
        "{backend}: the short form too"
    );
    assert!(take(&log).is_empty(), "{backend}: checked before anything ran (no autoflush)");
    assert!(s.has_pending(), "{backend}");

    // The same filter after a join.
    let joined = select::<Novel>().join(Novel::writer).filter(Writer::name.eq("ann"));
    assert_eq!(titles(&s.all(&joined).unwrap()), ["a1", "a2"], "{backend}");

    // Other clauses, and a table joined only under an alias.
    let ordered = select::<Novel>().order_by(Writer::name.asc());
    assert_eq!(
        invalid_use(s.all(&ordered)),
        format!(
            "the order_by reads \"sel_writers\".\"name\", but Writer (table \"sel_writers\") \
             is not in this query of Novel (table \"sel_novels\"); {JOIN_IT}"
        ),
        "{backend}"
    );
    let aliased = select::<Novel>().join_as(Novel::editor, "editor");
    let err = invalid_use(s.all(&aliased.clone().filter(Writer::name.eq("bob"))));
    assert!(err.starts_with("the filter reads \"sel_writers\".\"name\", but Writer"), "{err}");
    let by_alias = aliased.filter(Writer::name.of("editor").eq("bob"));
    assert_eq!(titles(&s.all(&by_alias).unwrap()), ["a2"], "{backend}");
    let grouped =
        select::<Writer>().select((Novel::writer_id, count_star())).group_by(Novel::writer_id);
    assert!(
        invalid_use(s.all(&grouped)).starts_with("the select reads \"sel_novels\".\"writer_id\"")
    );
    let having = select::<Writer>()
        .join(Writer::novels)
        .select(Writer::name)
        .group_by(Writer::name)
        .having(count(Review::stars).gt(1));
    assert!(invalid_use(s.all(&having)).starts_with("the having reads \"sel_reviews\".\"stars\""));
    // A second hop whose source is not joined.
    let hop = select::<Writer>().join_from(Novel::reviews);
    assert_eq!(
        invalid_use(s.all(&hop)),
        format!(
            "the join reads \"sel_novels\".\"id\", but Novel (table \"sel_novels\") is not in \
             this query of Writer (table \"sel_writers\"); {JOIN_IT}"
        ),
        "{backend}"
    );
    // A bulk write takes its own table's filters only.
    let joined_delete = invalid_use(s.delete_where(&joined));
    assert!(joined_delete.starts_with("bulk delete takes filters only, not joins"), "{backend}");
    s.rollback().unwrap();
}

fn subqueries_on_relations_read_the_outer_table_on_purpose(backend: Backend) {
    let db = backend.database(&tables());
    seed_novels(&db);
    let mut s = db.session();
    let writing = select::<Writer>().filter(Writer::novels.exists()).order_by(Writer::name.asc());
    let got: Vec<String> = s.all(&writing).unwrap().into_iter().map(|w| w.name).collect();
    assert_eq!(got, ["ann", "bob"], "{backend}");
    let well_reviewed = select::<Novel>()
        .filter(Novel::reviews.any(Review::stars.ge(5)))
        .order_by(Novel::title.asc());
    assert_eq!(titles(&s.all(&well_reviewed).unwrap()), ["a1"], "{backend}");
    let by_bob = select::<Novel>().filter(Novel::writer.any(Writer::name.eq("bob")));
    assert_eq!(titles(&s.all(&by_bob).unwrap()), ["b1"], "{backend}");
    assert_eq!(s.delete_where(&select::<Review>().filter(Review::stars.lt(4))).unwrap(), 1);
    let idle = select::<Writer>().filter(Writer::novels.exists().not());
    assert_eq!(s.one(&idle).unwrap().name, "cid", "{backend}");
    // A subquery's own table is in scope inside it only.
    let leaked = select::<Writer>().filter(Writer::novels.exists().and(Novel::title.eq("a1")));
    let err = invalid_use(s.all(&leaked));
    assert!(err.starts_with("the filter reads \"sel_novels\".\"title\", but Novel"), "{err}");
    // A relationship of a model that is not in the query is still refused.
    let foreign = select::<Review>().filter(Writer::novels.exists());
    let err = invalid_use(s.all(&foreign));
    assert!(
        err.starts_with("the filter reads \"sel_writers\".\"id\", but Writer (table \"sel_writers\") is not in this query of Review"),
        "{backend}: {err}"
    );
}
