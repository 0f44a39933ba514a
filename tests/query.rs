//! The typed query builder on every backend: filters and combinators, ordering and paging,
//! terminal methods, chosen columns and aggregates, bulk writes, raw SQL and the statement echo.

mod common;

use common::models::*;
use common::{backend_tests, Backend};
use orm::prelude::*;

backend_tests! {
    filters_and_combinators,
    ordering_limits_and_terminal_methods,
    pagination,
    chosen_columns_aggregates_group_by_having,
    bulk_update_and_delete_by_filter,
    raw_sql_with_named_parameters_into_from_row,
    values_are_bound_and_identifiers_quoted,
    every_statement_is_echoed_with_its_timing,
    a_log_of_a_failed_statement_carries_the_error,
}

fn seed(db: &Database) {
    let mut s = db.session();
    for (name, age) in [("ann", Some(31)), ("bob", Some(25)), ("cid", None), ("Dora", Some(40))] {
        s.add(User { age, ..User::new(name) });
    }
    s.commit().unwrap();
    let statuses =
        [PostStatus::Published, PostStatus::Draft, PostStatus::Published, PostStatus::Archived];
    for (i, status) in statuses.into_iter().enumerate() {
        let i64i = i64::try_from(i).unwrap();
        s.add(Post {
            status,
            views: 10 * (i64i + 1),
            ..Post::new(1 + i64i % 2, &format!("Rust post {i}"))
        });
    }
    s.add(Post { status: PostStatus::Published, views: 7, ..Post::new(3, "about cooking") });
    s.commit().unwrap();
}

fn names(users: Vec<User>) -> Vec<String> {
    users.into_iter().map(|u| u.username).collect()
}

fn filters_and_combinators(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    let q = |s: &mut Session, cond: Expr| {
        names(s.query::<User>().filter(cond).order_by(User::id.asc()).all().unwrap())
    };
    assert_eq!(q(&mut s, User::username.eq("ann")), ["ann"], "{backend}");
    assert_eq!(q(&mut s, User::username.ne("ann")), ["bob", "cid", "Dora"]);
    assert_eq!(q(&mut s, User::age.gt(30)), ["ann", "Dora"]);
    assert_eq!(q(&mut s, User::age.ge(31)), ["ann", "Dora"]);
    assert_eq!(q(&mut s, User::age.lt(31)), ["bob"]);
    assert_eq!(q(&mut s, User::age.le(31)), ["ann", "bob"]);
    assert_eq!(q(&mut s, User::age.is_null()), ["cid"]);
    assert_eq!(q(&mut s, User::age.is_not_null()), ["ann", "bob", "Dora"]);
    assert_eq!(q(&mut s, User::age.between(25, 31)), ["ann", "bob"]);
    assert_eq!(q(&mut s, User::username.in_list(["bob", "cid", "zed"])), ["bob", "cid"]);
    assert_eq!(q(&mut s, User::username.in_list(Vec::<String>::new())), Vec::<String>::new());
    assert_eq!(q(&mut s, User::username.not_in_list(["bob"])), ["ann", "cid", "Dora"]);
    assert_eq!(q(&mut s, User::username.like("%o%")), ["bob", "Dora"]);
    assert_eq!(
        q(&mut s, User::username.like("d%")),
        Vec::<String>::new(),
        "{backend}: LIKE is case-sensitive"
    );
    assert_eq!(q(&mut s, User::username.ilike("d%")), ["Dora"], "{backend}");
    assert_eq!(q(&mut s, User::username.not_like("%o%")), ["ann", "cid"]);
    assert_eq!(q(&mut s, User::age.gt(30).and(User::username.like("a%"))), ["ann"]);
    assert_eq!(q(&mut s, User::age.gt(35).or(User::age.is_null())), ["cid", "Dora"]);
    assert_eq!(q(&mut s, User::age.gt(30).not()), ["bob"]);
    assert_eq!(q(&mut s, lower(User::username).eq("dora")), ["Dora"]);
    // Columns compared with columns.
    assert_eq!(q(&mut s, User::username.eq(User::email)), Vec::<String>::new());
    // filter_by and chained filters AND together.
    let got = names(
        s.query::<User>().filter_by(User::username, "ann").filter(User::age.eq(31)).all().unwrap(),
    );
    assert_eq!(got, ["ann"]);
    // Enum columns compare with enum values.
    let published =
        s.query::<Post>().filter(Post::status.eq(PostStatus::Published)).count().unwrap();
    assert_eq!(published, 3, "{backend}");
}

fn ordering_limits_and_terminal_methods(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    let by_age = names(
        s.query::<User>().filter(User::age.is_not_null()).order_by(User::age.desc()).all().unwrap(),
    );
    assert_eq!(by_age, ["Dora", "ann", "bob"], "{backend}");
    let page = names(s.query::<User>().order_by(User::id.asc()).limit(2).offset(1).all().unwrap());
    assert_eq!(page, ["bob", "cid"]);
    assert_eq!(
        s.query::<User>().order_by(User::id.desc()).first().unwrap().unwrap().username,
        "Dora"
    );
    assert_eq!(s.query::<User>().filter(User::id.eq(99)).first().unwrap(), None);
    assert!(matches!(s.query::<User>().filter(User::id.eq(99)).one(), Err(Error::NotFound(_))));
    assert!(matches!(s.query::<User>().one(), Err(Error::MultipleRows(_))));
    assert!(matches!(s.query::<User>().one_or_none(), Err(Error::MultipleRows(_))));
    assert_eq!(s.query::<User>().filter(User::id.eq(99)).one_or_none().unwrap(), None);
    assert_eq!(s.query::<User>().filter(User::id.eq(2)).one().unwrap().username, "bob");
    assert_eq!(s.query::<User>().count().unwrap(), 4);
    assert_eq!(s.query::<User>().limit(3).count().unwrap(), 3, "{backend}: count respects limit");
    assert!(s.query::<User>().filter(User::username.eq("bob")).exists().unwrap());
    assert!(!s.query::<User>().filter(User::username.eq("zed")).exists().unwrap());
    assert!(!s.query::<Author>().exists().unwrap(), "{backend}: exists on an empty table");
    let untracked = s.query::<User>().untracked().all().unwrap();
    assert_eq!(untracked.len(), 4);
}

fn pagination(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    let p1 = s.query::<User>().order_by(User::id.asc()).paginate(1, 3).unwrap();
    assert_eq!(names(p1.items.clone()), ["ann", "bob", "cid"], "{backend}");
    assert_eq!((p1.total, p1.pages(), p1.has_next(), p1.has_prev()), (4, 2, true, false));
    assert_eq!((p1.next_num(), p1.prev_num()), (Some(2), None));
    let p2 = s.query::<User>().order_by(User::id.asc()).paginate(2, 3).unwrap();
    assert_eq!(names(p2.items.clone()), ["Dora"]);
    assert_eq!((p2.has_next(), p2.has_prev(), p2.prev_num()), (false, true, Some(1)));
    let empty = s.query::<User>().filter(User::age.gt(100)).paginate(1, 10).unwrap();
    assert_eq!((empty.total, empty.pages(), empty.has_next()), (0, 0, false));
    assert!(matches!(s.query::<User>().paginate(0, 10), Err(Error::InvalidUse(_))));
}

fn chosen_columns_aggregates_group_by_having(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    let pairs: Vec<(String, Option<i32>)> = s
        .query::<User>()
        .select((User::username, User::age))
        .order_by(User::username.asc())
        .limit(2)
        .all()
        .unwrap();
    assert_eq!(
        pairs,
        vec![("Dora".to_string(), Some(40)), ("ann".to_string(), Some(31))],
        "{backend}"
    );
    let per_status: Vec<(PostStatus, i64, Option<i64>)> = s
        .query::<Post>()
        .select((Post::status, count_star(), sum(Post::views)))
        .group_by(Post::status)
        .having(count_star().ge(1))
        .order_by(count_star().desc())
        .all()
        .unwrap();
    assert_eq!(per_status[0], (PostStatus::Published, 3, Some(10 + 30 + 7)), "{backend}");
    assert_eq!(per_status.len(), 3);
    let busy: Vec<i64> = s
        .query::<Post>()
        .select(Post::author_id)
        .group_by(Post::author_id)
        .having(count_star().gt(1))
        .order_by(Post::author_id.asc())
        .all()
        .unwrap();
    assert_eq!(busy, vec![1, 2]);
    let (lo, hi, avg_age): (Option<i32>, Option<i32>, Option<f64>) =
        s.query::<User>().select((min(User::age), max(User::age), avg(User::age))).one().unwrap();
    assert_eq!((lo, hi), (Some(25), Some(40)));
    assert!((avg_age.unwrap() - 32.0).abs() < 1e-9, "{backend}: {avg_age:?}");
    let n: i64 = s.query::<User>().select(count(User::age)).one().unwrap();
    assert_eq!(n, 3, "COUNT(col) skips NULLs");
    let distinct: Vec<i64> = s
        .query::<Post>()
        .select(Post::author_id)
        .distinct()
        .order_by(Post::author_id.asc())
        .all()
        .unwrap();
    assert_eq!(distinct, vec![1, 2, 3]);
    let none: Option<i64> =
        s.query::<Post>().filter(Post::views.gt(1000)).select(sum(Post::views)).one().unwrap();
    assert_eq!(none, None);
}

fn bulk_update_and_delete_by_filter(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    let n = s
        .query::<Post>()
        .filter(Post::status.eq(PostStatus::Draft))
        .update([Post::status.set(PostStatus::Archived), Post::views.set(0)])
        .unwrap();
    assert_eq!(n, 1, "{backend}");
    let n = s.query::<Post>().filter(Post::status.eq(PostStatus::Archived)).delete().unwrap();
    assert_eq!(n, 2, "{backend}");
    s.commit().unwrap();
    assert_eq!(db.session().query::<Post>().count().unwrap(), 3);
    assert!(matches!(s.query::<Post>().limit(1).delete(), Err(Error::InvalidUse(_))));
}

#[derive(FromRow, Debug, PartialEq)]
struct AuthorStats {
    username: String,
    #[orm(column = "n")]
    posts: i64,
    total_views: Option<i64>,
}

fn raw_sql_with_named_parameters_into_from_row(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    let rows: Vec<AuthorStats> = s
        .sql(
            "SELECT u.username, COUNT(p.id) AS n, SUM(p.views) AS total_views \
             FROM users u JOIN posts p ON p.author_id = u.id \
             WHERE p.views >= :min_views AND u.username <> ':not_a_param' \
             GROUP BY u.username ORDER BY n DESC, u.username",
        )
        .bind("min_views", 10)
        .all()
        .unwrap();
    assert_eq!(
        rows,
        vec![
            AuthorStats { username: "ann".into(), posts: 2, total_views: Some(40) },
            AuthorStats { username: "bob".into(), posts: 2, total_views: Some(60) },
        ],
        "{backend}"
    );
    let (n,): (i64,) =
        s.sql("SELECT COUNT(*) FROM users WHERE age > :a OR age < :a").bind("a", 30).one().unwrap();
    assert_eq!(n, 3);
    assert!(matches!(s.sql("SELECT :missing").all::<(i64,)>(), Err(Error::InvalidUse(_))));
    assert!(matches!(
        s.sql("SELECT 1").bind("unused", 1).all::<(i64,)>(),
        Err(Error::InvalidUse(_))
    ));
    let changed = s
        .sql("UPDATE users SET age = :age WHERE username = :name")
        .bind("age", 50)
        .bind("name", "cid")
        .execute()
        .unwrap();
    assert_eq!(changed, 1);
    let missing: Result<Vec<AuthorStats>> = s.sql("SELECT username FROM users").all();
    assert!(
        matches!(missing, Err(Error::Decode { ref column, .. }) if column == "n"),
        "{backend}: {missing:?}"
    );
}

fn values_are_bound_and_identifiers_quoted(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    let evil = "x' OR '1'='1";
    assert_eq!(s.query::<User>().filter(User::username.eq(evil)).count().unwrap(), 0, "{backend}");
    let sql = s.query::<User>().filter(User::username.eq(evil)).to_sql().expect("render");
    assert!(!sql.sql.contains(evil));
    assert_eq!(sql.params, vec![orm::Value::Text(evil.into())]);
}

fn every_statement_is_echoed_with_its_timing(backend: Backend) {
    let db = backend.database(&all_tables());
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let id = db.add_listener(std::sync::Arc::new(move |ev: &orm::StatementEvent<'_>| {
        sink.lock().unwrap().push((
            ev.sql.to_owned(),
            ev.params.len(),
            ev.elapsed,
            ev.error.is_some(),
        ));
    }));
    let mut s = db.session();
    s.add(User::new("echo"));
    s.commit().unwrap();
    let _ = s.query::<User>().filter(User::username.eq("echo")).all().unwrap();
    db.remove_listener(id);
    let _ = s.query::<User>().all().unwrap();
    let ev = events.lock().unwrap();
    let sqls: Vec<&str> = ev.iter().map(|e| e.0.as_str()).collect();
    let insert = match backend {
        // The key is the rowid: read with `last_insert_rowid`, no RETURNING.
        Backend::Sqlite => {
            r#"INSERT INTO "users" ("username", "email", "age") VALUES (?1, ?2, ?3)"#
        }
        Backend::Postgres => {
            r#"INSERT INTO "users" ("username", "email", "age") VALUES ($1, $2, $3) RETURNING "id""#
        }
    };
    // A commit of one statement sends it alone (tests/write_round_trips.rs).
    assert_eq!(sqls[..1], [insert], "{backend}");
    assert_eq!(ev[0].1, 3, "three parameters bound");
    assert_eq!(sqls.len(), 2, "{backend}: the listener was removed: {sqls:?}");
    assert!(sqls[1].starts_with("SELECT \"users\".\"id\", \"users\".\"username\""));
}

fn a_log_of_a_failed_statement_carries_the_error(backend: Backend) {
    let db = backend.database(&all_tables());
    let failed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let f = failed.clone();
    db.add_listener(std::sync::Arc::new(move |ev: &orm::StatementEvent<'_>| {
        if ev.error.is_some() {
            f.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }));
    let mut s = db.session();
    assert!(s.sql("SELECT * FROM no_such_table").all::<(i64,)>().is_err());
    assert_eq!(failed.load(std::sync::atomic::Ordering::SeqCst), 1);
}
