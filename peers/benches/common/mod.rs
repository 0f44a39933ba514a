//! Diesel's side of the workloads, written as Diesel's own `diesel_bench` writes them (its
//! `diesel_benches.rs`), for the connection type `TestConnection` that each bench target names.
//! The schema, the data, the sizes and the group names come from the ORM's benches
//! (`benches/benches/workloads/spec.rs`, included as it is), so the figures compare.

#[allow(dead_code)]
#[path = "../../../benches/benches/workloads/spec.rs"]
pub mod spec;

use super::{TestConnection, BACKEND};
use criterion::Criterion;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use spec::*;
use std::collections::HashMap;

diesel::table! {
    users {
        id -> Integer,
        name -> Text,
        hair_color -> Nullable<Text>,
    }
}

diesel::table! {
    posts {
        id -> Integer,
        user_id -> Integer,
        title -> Text,
        body -> Nullable<Text>,
    }
}

diesel::table! {
    comments {
        id -> Integer,
        post_id -> Integer,
        text -> Text,
    }
}

diesel::joinable!(comments -> posts (post_id));
diesel::joinable!(posts -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, posts, comments);

/// A user, as Diesel's benchmark declares it.
#[derive(PartialEq, Eq, Debug, Clone, Queryable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub hair_color: Option<String>,
}

/// A new user (its `None` is NULL, not DEFAULT: one multi-row INSERT on SQLite too).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewUser {
    pub name: String,
    pub hair_color: Option<String>,
}

/// A post.
#[derive(PartialEq, Eq, Debug, Clone, Queryable, Identifiable, Associations)]
#[diesel(belongs_to(User))]
#[diesel(table_name = posts)]
pub struct Post {
    pub id: i32,
    pub user_id: i32,
    pub title: String,
    pub body: Option<String>,
}

/// A new post.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = posts)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewPost {
    pub user_id: i32,
    pub title: String,
    pub body: Option<String>,
}

/// A comment.
#[derive(PartialEq, Eq, Debug, Clone, Queryable, Identifiable, Associations)]
#[diesel(belongs_to(Post))]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: i32,
    pub post_id: i32,
    pub text: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

fn count(conn: &mut TestConnection, sql: &str) -> i64 {
    let rows: Vec<Count> = diesel::sql_query(sql).load(conn).expect("count");
    rows.first().map(|c| c.count).unwrap_or(-1)
}

fn run_all(conn: &mut TestConnection, statements: &[String]) {
    for s in statements {
        diesel::sql_query(s.as_str()).execute(conn).expect("seed");
    }
    if BACKEND == "postgres" {
        // As the ORM's side does after seeding.
        diesel::sql_query("ANALYZE").execute(conn).expect("analyze");
    }
}

fn trivial(conn: &mut TestConnection) -> Vec<User> {
    users::table.load::<User>(conn).expect("trivial query")
}

fn medium(conn: &mut TestConnection) -> Vec<(User, Option<Post>)> {
    users::table
        .left_outer_join(posts::table)
        .filter(users::hair_color.eq("black"))
        .load::<(User, Option<Post>)>(conn)
        .expect("medium query")
}

fn insert(conn: &mut TestConnection, n: usize) -> usize {
    let data: Vec<NewUser> = (0..n)
        .map(|i| NewUser { name: format!("User {i}"), hair_color: Some("hair_color".into()) })
        .collect();
    diesel::insert_into(users::table).values(&data).execute(conn).expect("insert")
}

type Tree = Vec<(User, Vec<(Post, Vec<Comment>)>)>;

fn associations(conn: &mut TestConnection) -> Tree {
    let users = users::table.load::<User>(conn).expect("users");
    let posts = Post::belonging_to(&users).load::<Post>(conn).expect("posts");
    let comments = Comment::belonging_to(&posts).load::<Comment>(conn).expect("comments");
    let comments = comments.grouped_by(&posts);
    let posts_and_comments = posts.into_iter().zip(comments).grouped_by(&users);
    users.into_iter().zip(posts_and_comments).collect()
}

fn update(conn: &mut TestConnection, round: u64) -> Vec<User> {
    let mut all = users::table.load::<User>(conn).expect("load users");
    let colour = format!("colour {round}");
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        for u in &mut all {
            u.hair_color = Some(colour.clone());
            diesel::update(users::table.find(u.id))
                .set(users::hair_color.eq(&u.hair_color))
                .execute(conn)?;
        }
        Ok(())
    })
    .expect("update");
    all
}

fn graph(conn: &mut TestConnection, round: u64) {
    let new_users: Vec<NewUser> = (0..GRAPH_USERS)
        .map(|k| NewUser { name: graph_user_name(round, k), hair_color: Some("graph".into()) })
        .collect();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let keys: HashMap<String, i32> = diesel::insert_into(users::table)
            .values(&new_users)
            .returning((users::name, users::id))
            .get_results::<(String, i32)>(conn)?
            .into_iter()
            .collect();
        let new_posts: Vec<NewPost> = new_users
            .iter()
            .flat_map(|u| {
                let user_id = keys.get(&u.name).copied().expect("the user's key");
                (0..GRAPH_POSTS).map(move |j| NewPost {
                    user_id,
                    title: graph_post_title(j, &u.name),
                    body: None,
                })
            })
            .collect();
        diesel::insert_into(posts::table).values(&new_posts).execute(conn)?;
        Ok(())
    })
    .expect("graph");
}

/// Every workload on fresh databases from `fresh` (Diesel's schema, empty tables).
pub fn all(c: &mut Criterion, mut fresh: impl FnMut() -> TestConnection, assoc_users: usize) {
    for n in TRIVIAL_SIZES {
        let mut conn = fresh();
        run_all(&mut conn, &[seed_users_sql(BACKEND, n, Hair::None)]);
        assert_eq!(trivial(&mut conn).len(), n);
        let mut g = group(c, BACKEND, trivial_name(n));
        g.bench_function("diesel", |b| b.iter(|| trivial(&mut conn)));
        g.finish();
    }

    let mut conn = fresh();
    run_all(&mut conn, &[seed_users_sql(BACKEND, MEDIUM_SIZE, Hair::BlackOrBrown)]);
    let rows = medium(&mut conn);
    assert_eq!(rows.len(), MEDIUM_SIZE / 2);
    assert!(rows.iter().all(|(u, p)| u.hair_color.as_deref() == Some("black") && p.is_none()));
    let mut g = group(c, BACKEND, "medium query 10k, load_joined");
    g.bench_function("diesel", |b| b.iter(|| medium(&mut conn)));
    g.finish();

    let mut conn = fresh();
    let mut seed = vec![seed_users_sql(BACKEND, assoc_users, Hair::BlackOrBrown)];
    seed.extend(seed_associations_sql(BACKEND));
    run_all(&mut conn, &seed);
    let tree = associations(&mut conn);
    assert_eq!(tree.len(), assoc_users);
    assert!(tree
        .iter()
        .all(|(u, p)| p.len() == 10 && p.iter().all(|(p, c)| p.user_id == u.id && c.len() == 10)));
    let mut g = group(c, BACKEND, "associations users-posts-comments");
    g.bench_function("diesel", |b| b.iter(|| associations(&mut conn)));
    g.finish();

    for n in INSERT_SIZES {
        let mut conn = fresh();
        assert_eq!(insert(&mut conn, n), n);
        assert_eq!(trivial(&mut conn).len(), n);
        let mut g = group(c, BACKEND, insert_name(n));
        g.bench_function("diesel", |b| b.iter(|| insert(&mut conn, n)));
        g.finish();
    }

    let mut conn = fresh();
    run_all(&mut conn, &[seed_users_sql(BACKEND, UPDATE_ROWS, Hair::BlackOrBrown)]);
    let mut changed = update(&mut conn, 0);
    changed.sort_by_key(|u| u.id);
    let mut stored = trivial(&mut conn);
    stored.sort_by_key(|u| u.id);
    assert_eq!(changed.len(), UPDATE_ROWS);
    assert_eq!(changed, stored);
    let mut round = 0;
    let mut g = group(c, BACKEND, "load 1000, change one column each, commit");
    g.bench_function("diesel", |b| {
        b.iter(|| {
            round += 1;
            update(&mut conn, round)
        })
    });
    g.finish();

    let mut conn = fresh();
    graph(&mut conn, 0);
    let expected = i64::try_from(GRAPH_USERS * GRAPH_POSTS).unwrap_or(0);
    assert_eq!(count(&mut conn, GRAPH_CHECK), expected);
    let mut round = 0;
    let mut g = group(c, BACKEND, "add 100 users x 10 posts, commit");
    g.bench_function("diesel", |b| {
        b.iter(|| {
            round += 1;
            graph(&mut conn, round)
        })
    });
    g.finish();
}
