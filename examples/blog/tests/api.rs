//! The HTTP API driven over a real socket (127.0.0.1, a free port), on SQLite and PostgreSQL
//! databases built by the migrations: every route, its 400 / 404 / 409 answers, the
//! statements `/posts/popular` costs, and the same search results on both backends for the
//! seeded data. The client is a plain HTTP/1.1 request over `std::net::TcpStream`.

use blog::seed::{seed, SeedOptions};
use blog::{Post, PostStatus, User};
use orm::prelude::*;
use orm::testing::StatementLog;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

/// The API served on a free port of 127.0.0.1 by a runtime of its own, stopped when dropped.
struct Server {
    _runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    db: Database,
}

impl Server {
    fn start(db: Database) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener =
            runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let addr = listener.local_addr().expect("address");
        runtime.spawn(blog::api::serve(listener, db.clone()));
        Server { _runtime: runtime, addr, db }
    }

    /// Sends one request and returns the status and the JSON body.
    fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let mut stream = TcpStream::connect(self.addr).expect("connect");
        let body = body.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("receive");
        let text = String::from_utf8(raw).expect("UTF-8 answer");
        let (head, payload) = text.split_once("\r\n\r\n").expect("headers end");
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head}"));
        let payload = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk(payload)
        } else {
            payload.to_owned()
        };
        let json = serde_json::from_str(&payload)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {payload:?}"));
        (status, json)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None)
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn error_of(v: &Value) -> &str {
    v["error"].as_str().unwrap_or_else(|| panic!("no error in {v}"))
}

fn users_count(db: &Database) -> u64 {
    db.session().query::<User>().count().expect("count")
}

fn new_user(server: &Server, name: &str, preferences: Value) -> Uuid {
    let body = json!({
        "username": name,
        "email": format!("{name}@example.com"),
        "password": "correct horse battery",
        "preferences": preferences,
        "tags": ["rust", "sql"],
    });
    let (status, v) = server.call("POST", "/users", Some(&body.to_string()));
    assert_eq!(status, 201, "{v}");
    Uuid::parse_str(v["id"].as_str().expect("an id")).expect("a UUID")
}

fn users_are_created_and_read(server: Server) {
    let id = new_user(&server, "ann", json!({"theme": "dark"}));
    let (status, v) = server.get(&format!("/users/{id}"));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["id"], json!(id));
    assert_eq!(v["username"], "ann");
    assert_eq!(v["email"], "ann@example.com");
    assert_eq!(v["preferences"], json!({"theme": "dark"}));
    assert_eq!(v["tags"], json!(["rust", "sql"]));
    assert_eq!(v["age"], Value::Null);
    assert!(v.get("password").is_none() && v.get("password_hash").is_none(), "{v}");

    // The password is stored as an argon2 hash that verifies, never as given.
    let stored = server.db.session().get::<User>(id).unwrap().expect("stored");
    assert!(stored.password_hash.starts_with("$argon2id$"), "{}", stored.password_hash);
    assert!(blog::queries::verify_password("correct horse battery", &stored.password_hash));
    assert!(!blog::queries::verify_password("wrong horse battery", &stored.password_hash));

    let (status, v) = server.get("/users/00000000-0000-0000-0000-000000000000");
    assert_eq!(
        (status, error_of(&v)),
        (404, "no user with id 00000000-0000-0000-0000-000000000000")
    );
    let (status, v) = server.get("/users/42");
    assert_eq!((status, error_of(&v)), (400, "malformed user id 42: expected a UUID"));
    let (status, v) = server.get("/nowhere");
    assert_eq!((status, error_of(&v)), (404, "no route for GET /nowhere"));
    let (status, v) = server.call("DELETE", &format!("/users/{id}"), None);
    assert_eq!(
        (status, error_of(&v)),
        (405, format!("DELETE is not allowed on /users/{id}").as_str())
    );
}

fn bad_users_are_400_and_write_nothing(server: Server) {
    new_user(&server, "ann", json!({}));
    let cases: &[(&str, &str)] = &[
        (
            r#"{"username":"ann","email":"other@example.com","password":"long enough"}"#,
            "username ann is already taken",
        ),
        (
            r#"{"username":"bob","email":"ann@example.com","password":"long enough"}"#,
            "email ann@example.com is already registered",
        ),
        (r#"{"username":"bob","password":"long enough"}"#, "missing field `email`"),
        (r#"{"username":"bob","email":"bob@example.com"}"#, "missing field `password`"),
        (
            r#"{"username":"bob","email":"bob@example.com","password":"short"}"#,
            "`password` must have 8 to 1024 characters, not 5",
        ),
        (
            r#"{"username":7,"email":"bob@example.com","password":"long enough"}"#,
            "`username` must be a string",
        ),
        (
            r#"{"username":"bob","email":"bob","password":"long enough"}"#,
            "`email` is not an address: bob",
        ),
        (
            r#"{"username":"bob","email":"bob@example.com","password":"long enough","age":-1}"#,
            "`age` must be a whole number from 0 to 150, not -1",
        ),
        (
            r#"{"username":"bob","email":"bob@example.com","password":"long enough","preferences":[1]}"#,
            "`preferences` must be a JSON object",
        ),
        (
            r#"{"username":"bob","email":"bob@example.com","password":"long enough","tags":[1]}"#,
            "`tags` must be an array of strings",
        ),
        (
            r#"{"username":"bob","email":"bob@example.com","pasword":"long enough"}"#,
            "unknown field `pasword` (expected `username`, `email`, `password`, `age`, `preferences`, `tags`)",
        ),
        (r#"[1, 2]"#, "the body must be a JSON object"),
        (r#"{"username": "bob""#, "malformed JSON: EOF while parsing an object at line 1 column 18"),
    ];
    for (body, message) in cases {
        let (status, v) = server.call("POST", "/users", Some(body));
        assert_eq!((status, error_of(&v)), (400, *message), "{body}");
    }
    assert_eq!(users_count(&server.db), 1, "nothing written by a refused request");
}

fn preferences_are_counted_per_key(server: Server) {
    new_user(&server, "ann", json!({"theme": "dark", "language": "fr"}));
    new_user(&server, "bob", json!({"theme": "light"}));
    new_user(&server, "cid", json!({}));
    new_user(&server, "dee", json!({"theme": "dark", "language": "en", "beta": true}));
    let (status, v) = server.get("/users/preferences/summary");
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v,
        json!({"keys": [
            {"key": "beta", "users": 1},
            {"key": "language", "users": 2},
            {"key": "theme", "users": 3},
        ]})
    );
}

fn seeded(server: &Server, users: u64) {
    let options = SeedOptions { users, ..SeedOptions::default() };
    let report = seed(&server.db, options).expect("seed");
    assert_eq!(report.posts, users * 10);
    assert_eq!(report.comments, users * 50);
}

fn popular_posts_take_two_statements(server: Server) {
    seeded(&server, 5);
    let log = StatementLog::attach(&server.db);
    let (status, v) = server.get("/posts/popular");
    assert_eq!(status, 200, "{v}");
    let queries = log.queries();
    assert_eq!(queries.len(), 2, "one for the posts, one for their authors: {queries:#?}");

    let posts = v["posts"].as_array().expect("posts");
    assert_eq!(posts.len(), 10);
    let views: Vec<i64> = posts.iter().map(|p| p["views"].as_i64().unwrap()).collect();
    assert!(views.windows(2).all(|w| w[0] >= w[1]), "by views: {views:?}");
    let mut s = server.db.session();
    let most = s
        .query::<Post>()
        .filter(Post::status.eq(PostStatus::Published))
        .order_by(Post::views.desc())
        .first()
        .unwrap()
        .expect("a post");
    assert_eq!(views[0], most.views);
    for p in posts {
        assert_eq!(p["status"], "published");
        let author = s.get::<User>(Uuid::parse_str(p["author_id"].as_str().unwrap()).unwrap());
        assert_eq!(p["author"]["username"], json!(author.unwrap().expect("author").username));
    }
}

fn posts_are_paginated_with_totals(server: Server) {
    seeded(&server, 3);
    let published = server
        .db
        .session()
        .query::<Post>()
        .filter(Post::status.eq(PostStatus::Published))
        .count()
        .unwrap();
    assert!(published > 7, "the seed publishes most posts: {published}");
    let (status, v) = server.get("/posts?page=2&per_page=7");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["page"], 2);
    assert_eq!(v["per_page"], 7);
    assert_eq!(v["total"], published);
    assert_eq!(v["pages"], published.div_ceil(7));
    assert_eq!(v["has_prev"], true);
    assert_eq!(v["items"].as_array().unwrap().len(), 7);

    // Pages do not overlap, newest first.
    let (_, first) = server.get("/posts?page=1&per_page=7");
    let ids = |v: &Value| -> Vec<Value> {
        v["items"].as_array().unwrap().iter().map(|p| p["id"].clone()).collect()
    };
    assert!(ids(&first).iter().all(|id| !ids(&v).contains(id)));
    let times = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|p| p["created_at"].to_string()).collect()
    };
    let mut all = times(&first);
    all.extend(times(&v));
    assert!(all.windows(2).all(|w| w[0] >= w[1]), "newest first: {all:?}");

    let (status, v) = server.get("/posts?per_page=5000");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["per_page"], 100, "capped");
    assert_eq!(v["items"].as_array().unwrap().len(), usize::try_from(published.min(100)).unwrap());

    let (status, v) = server.get(&format!("/posts?page={}&per_page=7", published.div_ceil(7) + 1));
    assert_eq!(
        (status, v["items"].as_array().unwrap().len(), &v["has_next"]),
        (200, 0, &json!(false))
    );

    for (query, message) in [
        ("page=0", "`page` must be a whole number from 1, not 0"),
        ("per_page=ten", "`per_page` must be a whole number from 1, not ten"),
        ("page=-1", "`page` must be a whole number from 1, not -1"),
    ] {
        let (status, v) = server.get(&format!("/posts?{query}"));
        assert_eq!((status, error_of(&v)), (400, message), "{query}");
    }
}

fn search_finds_published_posts_ranked(server: Server) {
    seeded(&server, 5);
    let (status, v) = server.get("/posts/search?q=tokio");
    assert_eq!(status, 200, "{v}");
    let results = v["results"].as_array().expect("results");
    assert!(!results.is_empty());
    let ranks: Vec<f64> = results.iter().map(|r| r["rank"].as_f64().unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "best first: {ranks:?}");
    let mut s = server.db.session();
    for r in results {
        let post = s.get::<Post>(Uuid::parse_str(r["id"].as_str().unwrap()).unwrap());
        let post = post.unwrap().expect("the post");
        assert_eq!(post.status, PostStatus::Published);
        assert!(post.content.split(' ').any(|w| w == "tokio"), "{}", post.content);
    }
    // The best has the word most often.
    let mut count = |id: &Value| {
        let p = s.get::<Post>(Uuid::parse_str(id.as_str().unwrap()).unwrap()).unwrap().unwrap();
        p.content.split(' ').filter(|w| *w == "tokio").count()
    };
    let counts: Vec<usize> = results.iter().map(|r| count(&r["id"])).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "by occurrences: {counts:?}");

    // Stemming: "triggers" finds "trigger"; every word is required; nothing for no word.
    let (_, v) = server.get("/posts/search?q=triggers");
    assert!(!v["results"].as_array().unwrap().is_empty());
    let (_, v) = server.get("/posts/search?q=tokio%20zebra");
    assert_eq!(v["results"], json!([]));
    let (_, v) = server.get("/posts/search?q=%2A%2A");
    assert_eq!(v["results"], json!([]));
    let (status, v) = server.get("/posts/search?q=%20");
    assert_eq!((status, error_of(&v)), (400, "missing query parameter `q`"));
    let (status, v) = server.get("/posts/search");
    assert_eq!((status, error_of(&v)), (400, "missing query parameter `q`"));
}

fn patch_changes_the_given_fields_once(server: Server) {
    seeded(&server, 1);
    let post = server
        .db
        .session()
        .query::<Post>()
        .order_by(Post::title.asc())
        .first()
        .unwrap()
        .expect("a post");
    assert_eq!((post.version, post.modified_at), (1, None));
    let path = format!("/posts/{}", post.id);

    let log = StatementLog::attach(&server.db);
    let (status, v) = server.call("PATCH", &path, Some(r#"{"version": 1, "title": "Edited"}"#));
    assert_eq!(status, 200, "{v}");
    let updates: Vec<String> =
        log.queries().into_iter().filter(|q| q.starts_with("UPDATE")).collect();
    assert_eq!(updates.len(), 1, "{updates:#?}");
    assert!(
        updates[0].contains("\"title\"") && updates[0].contains("\"version\""),
        "{}",
        updates[0]
    );
    assert!(
        !updates[0].contains("\"content\"") && !updates[0].contains("\"status\""),
        "{}",
        updates[0]
    );
    assert_eq!(v["title"], "Edited");
    assert_eq!(v["content"], json!(post.content), "untouched");
    assert_eq!(v["version"], 2);
    assert!(v["modified_at"].is_string(), "stamped by the trigger: {v}");
    let stored = server.db.session().get::<Post>(post.id).unwrap().unwrap();
    assert_eq!((stored.title.as_str(), stored.version), ("Edited", 2));
    assert!(stored.modified_at.is_some());

    // A stale version: 409, nothing written.
    let (status, v) = server.call("PATCH", &path, Some(r#"{"version": 1, "content": "lost"}"#));
    assert_eq!(
        (status, error_of(&v)),
        (
            409,
            format!(
                "post {} is at version 2, not 1: read it again and reapply your change",
                post.id
            )
            .as_str()
        )
    );
    let (status, v) = server.call("PATCH", &path, Some(r#"{"version": 2, "status": "archived"}"#));
    assert_eq!((status, &v["status"], &v["version"]), (200, &json!("archived"), &json!(3)));

    for (body, message) in [
        (r#"{"title": "x"}"#, "missing field `version`: send the version you read, so that a concurrent edit is not overwritten"),
        (r#"{"version": 3}"#, "nothing to change: give `title`, `content` or `status`"),
        (r#"{"version": 3, "status": "gone"}"#, "`status` must be one of draft, published, archived, not gone"),
        (r#"{"version": 3, "title": ""}"#, "`title` must have 1 to 200 characters, not 0"),
        (r#"{"version": 3, "views": 5}"#, "unknown field `views` (expected `version`, `title`, `content`, `status`)"),
        (r#"{"version": "3", "title": "x"}"#, "`version` must be a whole number, not \"3\""),
    ] {
        let (status, v) = server.call("PATCH", &path, Some(body));
        assert_eq!((status, error_of(&v)), (400, message), "{body}");
    }
    let (status, v) = server.call(
        "PATCH",
        "/posts/00000000-0000-0000-0000-000000000000",
        Some(r#"{"version": 1, "title": "x"}"#),
    );
    assert_eq!(
        (status, error_of(&v)),
        (404, "no post with id 00000000-0000-0000-0000-000000000000")
    );
    let (status, v) = server.call("PATCH", "/posts/abc", Some(r#"{"version": 1, "title": "x"}"#));
    assert_eq!((status, error_of(&v)), (400, "malformed post id abc: expected a UUID"));
    let stored = server.db.session().get::<Post>(post.id).unwrap().unwrap();
    assert_eq!((stored.version, stored.content), (3, post.content));
}

/// Edits of one version sent at once: one wins, every other is a 409, none is lost silently.
fn concurrent_edits_conflict(server: Server) {
    seeded(&server, 1);
    let post = server.db.session().query::<Post>().first().unwrap().expect("a post");
    let path = format!("/posts/{}", post.id);
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (server, path) = (&server, &path);
                scope.spawn(move || {
                    let body = json!({"version": 1, "content": format!("edit {i}")}).to_string();
                    server.call("PATCH", path, Some(&body)).0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("request")).collect()
    });
    assert_eq!(answers.iter().filter(|s| **s == 200).count(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|s| **s == 409).count(), 5, "{answers:?}");
    let stored = server.db.session().get::<Post>(post.id).unwrap().unwrap();
    assert_eq!(stored.version, 2);
}

macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let db = orm::testing::migrated_memory_database(super::MIGRATIONS).expect("database");
                    super::$name(super::Server::start(db));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let db = orm::testing::migrated_postgres_database(super::MIGRATIONS).expect("database");
                    super::$name(super::Server::start(db));
                }
            )*
        }
    };
}

api_tests! {
    users_are_created_and_read,
    bad_users_are_400_and_write_nothing,
    preferences_are_counted_per_key,
    popular_posts_take_two_statements,
    posts_are_paginated_with_totals,
    search_finds_published_posts_ranked,
    patch_changes_the_given_fields_once,
    concurrent_edits_conflict,
}

/// The same seed gives the same search answers, in the same order, on both backends (and the
/// same popular posts and preference counts).
#[test]
fn search_results_are_the_same_on_both_backends() {
    let lite = Server::start(orm::testing::migrated_memory_database(MIGRATIONS).expect("sqlite"));
    let pg = Server::start(orm::testing::migrated_postgres_database(MIGRATIONS).expect("postgres"));
    seeded(&lite, 20);
    seeded(&pg, 20);
    let titles = |server: &Server, path: &str, list: &str| -> Vec<Value> {
        let (status, v) = server.get(path);
        assert_eq!(status, 200, "{path}: {v}");
        v[list].as_array().expect(list).iter().map(|r| r["title"].clone()).collect()
    };
    for word in ["rust", "tokio", "cursor", "queue", "migrations", "user00007", "nothing"] {
        let path = format!("/posts/search?q={word}");
        let (a, b) = (titles(&lite, &path, "results"), titles(&pg, &path, "results"));
        assert_eq!(a, b, "{word}");
        if word != "nothing" {
            assert!(!a.is_empty(), "{word}");
        }
    }
    assert_eq!(titles(&lite, "/posts/popular", "posts"), titles(&pg, "/posts/popular", "posts"));
    assert_eq!(lite.get("/users/preferences/summary").1, pg.get("/users/preferences/summary").1);
}
