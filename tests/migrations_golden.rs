//! Golden migration cases: for each kind of change, the models before and after (Rust modules
//! below), the revision autogenerate writes (`tests/migrations/<case>/revision.toml`) and the
//! SQL of its upgrade and downgrade per dialect (`tests/migrations/<case>/<dialect>/up.sql`,
//! `down.sql`). Cases named `hand_*` start from a hand-written `revision.toml` instead.
//!
//! Each case also runs on both real servers: upgrade to head, reflect and compare (no
//! difference), downgrade one step (no difference), downgrade to base (an empty schema),
//! upgrade again. `ORM_BLESS=1 cargo test --test migrations_golden` rewrites the expected files.

mod common;

use common::{backend_tests, Backend};
use orm::migrate::{
    autogenerate, render_revision, Direction, Migrator, Revision, Revisions, Statement,
};
use orm::{Model, TableSchema};
use std::path::{Path, PathBuf};

backend_tests! {
    golden_cases_round_trip,
}

macro_rules! models {
    ($($name:ident { $($item:item)* })*) => {
        $(
            // `index(city, name)` and `index(email, city, ...)` are not duplicates.
            #[allow(dead_code, clippy::duplicated_attributes)]
            mod $name {
                use orm::prelude::*;
                $($item)*
            }
        )*
    };
}

models! {
    users {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users")]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(max_length = 40)]
            pub name: String,
        }
    }
    users_and_notes {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users")]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(max_length = 40)]
            pub name: String,
        }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "notes")]
        pub struct Note {
            #[orm(primary_key)]
            pub id: i64,
            pub body: Option<String>,
            #[orm(default = "x")]
            pub tag: String,
        }
    }
    people {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "people", renamed_from = "users")]
        pub struct Person {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(max_length = 40)]
            pub name: String,
        }
    }
    users_more_columns {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users")]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(max_length = 40)]
            pub name: String,
            pub age: Option<i32>,
            #[orm(default = 0)]
            pub score: i64,
            #[orm(server_default = "CURRENT_TIMESTAMP")]
            pub joined: DateTime<Utc>,
        }
    }
    users_before_alter {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users")]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(max_length = 40)]
            pub name: String,
            pub age: Option<i32>,
            pub level: i32,
            pub active: bool,
        }
    }
    users_after_alter {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users")]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(max_length = 80)]
            pub name: String,
            #[orm(default = 0)]
            pub age: i32,
            pub level: i64,
            #[orm(default = true)]
            pub active: bool,
        }
    }
    users_renamed_column {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users")]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(max_length = 40, renamed_from = "name")]
            pub full_name: String,
        }
    }
    contacts {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "contacts")]
        pub struct Contact {
            #[orm(primary_key)]
            pub id: i64,
            pub name: String,
            pub email: String,
            pub city: String,
        }
    }
    contacts_indexed {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(
            table = "contacts",
            index(city, name),
            index(email, city, name = "ux_contacts_email_city", unique)
        )]
        pub struct Contact {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(index)]
            pub name: String,
            #[orm(index, unique)]
            pub email: String,
            pub city: String,
        }
    }
    contacts_unique {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "contacts", unique(name, city))]
        pub struct Contact {
            #[orm(primary_key)]
            pub id: i64,
            pub name: String,
            #[orm(unique)]
            pub email: String,
            pub city: String,
        }
    }
    posts_no_fk {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users")]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
        }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts")]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            pub author_id: i64,
            pub editor_id: Option<i64>,
        }
    }
    posts_fk {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users")]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
        }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts")]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(references = User, on_delete = cascade, on_update = cascade)]
            pub author_id: i64,
            #[orm(references = User, on_delete = set_null)]
            pub editor_id: Option<i64>,
        }
    }
    status_two {
        #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
        #[orm(type_name = "post_status")]
        pub enum Status { Draft, Published }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts")]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(server_default = "'draft'")]
            pub status: Status,
        }
    }
    status_three {
        #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
        #[orm(type_name = "post_status")]
        pub enum Status { Draft, Published, Archived }
        #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
        #[orm(type_name = "visibility")]
        pub enum Visibility { Public, Private }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts")]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(server_default = "'draft'")]
            pub status: Status,
            pub visibility: Option<Visibility>,
        }
    }
    status_removed {
        #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
        #[orm(type_name = "post_status")]
        pub enum Status { Draft, Archived }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts")]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(server_default = "'draft'")]
            pub status: Status,
        }
    }
    blog_plain {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users")]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
            pub email: String,
            pub preferences: Json<serde_json::Value>,
        }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts")]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            pub content: String,
            pub status: String,
            #[orm(references = User)]
            pub author_id: i64,
        }
    }
    // The tutorial's indexes: a GIN index on JSONB with an operator class, a GIN index on an
    // expression (full text), a unique index on an expression, a partial index.
    blog_indexed {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(
            table = "users",
            index(
                preferences(opclass = "jsonb_path_ops"),
                using = "gin",
                name = "ix_user_preferences_gin"
            ),
            index(expr = "lower(email)", unique, name = "ux_users_lower_email")
        )]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
            pub email: String,
            pub preferences: Json<serde_json::Value>,
        }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(
            table = "posts",
            index(expr = "to_tsvector('english', content)", using = "gin", name = "ix_posts_fts"),
            index(author_id, status, where = "status <> 'archived'", name = "ix_posts_live")
        )]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            pub content: String,
            pub status: String,
            #[orm(references = User)]
            pub author_id: i64,
        }
    }
    // CHECK constraints declared on the model.
    blog_checked {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users")]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
            pub email: String,
            pub preferences: Json<serde_json::Value>,
        }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(
            table = "posts",
            check(name = "ck_posts_status", expr = "status IN ('draft', 'published', 'archived')"),
            check(name = "ck_posts_content_not_empty", expr = "length(content) > 0")
        )]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            pub content: String,
            pub status: String,
            #[orm(references = User)]
            pub author_id: i64,
        }
    }
    // The names an existing database gave its constraints and indexes (PostgreSQL's own
    // `posts_author_id_fkey`, say), declared on the model.
    blog_named {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "users", unique(email, name = "users_email_key"))]
        pub struct User {
            #[orm(primary_key)]
            pub id: i64,
            pub email: String,
            pub preferences: Json<serde_json::Value>,
        }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts", index(status, name = "posts_status_idx"))]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            pub content: String,
            pub status: String,
            #[orm(references = User, fk_name = "posts_author_id_fkey")]
            pub author_id: i64,
        }
    }
    posts_short_title {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts")]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(max_length = 100)]
            pub title: String,
            #[orm(max_length = 200)]
            pub summary: Option<String>,
        }
    }
    posts_long_title {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts")]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(max_length = 200)]
            pub title: String,
            #[orm(max_length = 50)]
            pub summary: Option<String>,
        }
    }
    enum_no_default {
        #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
        #[orm(type_name = "post_status")]
        pub enum Status { Draft, Published }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts")]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            pub status: Status,
        }
    }
    enum_defaults {
        #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
        #[orm(type_name = "post_status")]
        pub enum Status { Draft, Published }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "posts")]
        pub struct Post {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(default = "draft")]
            pub status: Status,
            #[orm(default = "published")]
            pub reviewed: Option<Status>,
            // PostgreSQL's own spelling, kept portable in the revision.
            #[orm(server_default = "'draft'::post_status")]
            pub state: DbDefault<Status>,
        }
    }
    items_one_key {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "items")]
        pub struct Item {
            #[orm(primary_key)]
            pub code: String,
            #[orm(default = 1)]
            pub version: i32,
        }
    }
    items_two_keys {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "items")]
        pub struct Item {
            #[orm(primary_key)]
            pub code: String,
            #[orm(primary_key, default = 1)]
            pub version: i32,
        }
    }
    products_declared {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "products")]
        pub struct Product {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(precision = 10, scale = 2)]
            pub price: orm::Decimal,
            #[orm(precision = 6)]
            pub stock: Option<orm::Decimal>,
            #[orm(sql_type = "char(2)")]
            pub country: String,
            #[orm(sql_type = "varchar")]
            pub note: Option<String>,
            #[orm(sql_type = "json")]
            pub raw: serde_json::Value,
            #[orm(sql_type = "integer[]")]
            pub lucky: Vec<i64>,
        }
    }
    products_plain {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "products")]
        pub struct Product {
            #[orm(primary_key)]
            pub id: i64,
            pub price: orm::Decimal,
            #[orm(max_length = 2)]
            pub country: String,
        }
    }
    products_precise {
        #[derive(Model, Debug, Clone, PartialEq)]
        #[orm(table = "products")]
        pub struct Product {
            #[orm(primary_key)]
            pub id: i64,
            #[orm(precision = 12, scale = 2)]
            pub price: orm::Decimal,
            #[orm(sql_type = "char(2)")]
            pub country: String,
        }
    }
}

struct Case {
    name: &'static str,
    before: &'static [&'static TableSchema],
    after: &'static [&'static TableSchema],
}

const CASES: &[Case] = &[
    Case { name: "create_table", before: &[], after: &[users::User::TABLE] },
    Case {
        name: "drop_table",
        before: &[users_and_notes::User::TABLE, users_and_notes::Note::TABLE],
        after: &[users::User::TABLE],
    },
    Case { name: "rename_table", before: &[users::User::TABLE], after: &[people::Person::TABLE] },
    Case {
        name: "add_column",
        before: &[users::User::TABLE],
        after: &[users_more_columns::User::TABLE],
    },
    Case {
        name: "drop_column",
        before: &[users_more_columns::User::TABLE],
        after: &[users::User::TABLE],
    },
    Case {
        name: "alter_column",
        before: &[users_before_alter::User::TABLE],
        after: &[users_after_alter::User::TABLE],
    },
    Case {
        name: "rename_column",
        before: &[users::User::TABLE],
        after: &[users_renamed_column::User::TABLE],
    },
    Case {
        name: "indexes",
        before: &[contacts::Contact::TABLE],
        after: &[contacts_indexed::Contact::TABLE],
    },
    Case {
        name: "unique_constraints",
        before: &[contacts::Contact::TABLE],
        after: &[contacts_unique::Contact::TABLE],
    },
    Case {
        name: "foreign_keys",
        before: &[posts_no_fk::User::TABLE, posts_no_fk::Post::TABLE],
        after: &[posts_fk::User::TABLE, posts_fk::Post::TABLE],
    },
    Case {
        name: "enum_add_values",
        before: &[status_two::Post::TABLE],
        after: &[status_three::Post::TABLE],
    },
    Case {
        name: "enum_remove_value",
        before: &[status_three::Post::TABLE],
        after: &[status_removed::Post::TABLE],
    },
    Case {
        name: "primary_key",
        before: &[items_one_key::Item::TABLE],
        after: &[items_two_keys::Item::TABLE],
    },
    Case {
        name: "alter_varchar_widen_narrow",
        before: &[posts_short_title::Post::TABLE],
        after: &[posts_long_title::Post::TABLE],
    },
    Case {
        name: "enum_defaults",
        before: &[enum_no_default::Post::TABLE],
        after: &[enum_defaults::Post::TABLE],
    },
    Case { name: "hand_raw_sql_and_checks", before: &[users::User::TABLE], after: &[] },
    Case { name: "hand_lossy_conversions", before: &[], after: &[] },
    Case {
        name: "index_methods_expressions_partial",
        before: &[blog_plain::User::TABLE, blog_plain::Post::TABLE],
        after: &[blog_indexed::User::TABLE, blog_indexed::Post::TABLE],
    },
    Case {
        name: "check_constraints",
        before: &[blog_plain::User::TABLE, blog_plain::Post::TABLE],
        after: &[blog_checked::User::TABLE, blog_checked::Post::TABLE],
    },
    Case {
        name: "named_constraints",
        before: &[blog_plain::User::TABLE, blog_plain::Post::TABLE],
        after: &[blog_named::User::TABLE, blog_named::Post::TABLE],
    },
    Case { name: "declared_sql_types", before: &[], after: &[products_declared::Product::TABLE] },
    Case {
        name: "alter_declared_sql_types",
        before: &[products_plain::Product::TABLE],
        after: &[products_precise::Product::TABLE],
    },
    Case { name: "hand_sql_function_args", before: &[users::User::TABLE], after: &[] },
    Case {
        name: "hand_sql_objects",
        before: &[blog_plain::User::TABLE, blog_plain::Post::TABLE],
        after: &[],
    },
];

const DIALECTS: [&str; 2] = ["sqlite", "postgresql"];

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migrations").join(name)
}

fn bless() -> bool {
    std::env::var_os("ORM_BLESS").is_some_and(|v| v != "0")
}

/// Compares `actual` with the file at `path` (or writes it when blessing); returns a problem.
fn golden(path: &Path, actual: &str) -> Option<String> {
    if bless() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create golden folder");
        }
        std::fs::write(path, actual).expect("write golden file");
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!(
            "{} differs (ORM_BLESS=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )),
        Err(e) => Some(format!("{}: {e} (ORM_BLESS=1 writes it)", path.display())),
    }
}

fn fixed(mut rev: Revision, id: &str, created: &str) -> Revision {
    rev.id = id.into();
    rev.created = created.into();
    rev
}

/// The case's revisions: the one building `before` (if any), then the case's own.
fn revisions(case: &Case) -> Revisions {
    let mut list = Vec::new();
    if !case.before.is_empty() {
        let base = autogenerate(&Revisions::default(), case.before, "before")
            .expect("autogenerate before")
            .expect("a base revision");
        list.push(fixed(base, "base", "2024-01-01T00:00:00Z"));
    }
    let so_far = Revisions::new(list.clone()).expect("base revisions");
    let rev = if case.name.starts_with("hand_") {
        let path = case_dir(case.name).join("revision.toml");
        let text = std::fs::read_to_string(&path).expect("hand-written revision.toml");
        Revision::parse(&path.display().to_string(), &text).expect("parse hand-written revision")
    } else {
        let mut rev =
            autogenerate(&so_far, case.after, case.name).expect("autogenerate").expect("a change");
        rev = fixed(rev, "case", "2024-01-02T00:00:00Z");
        rev
    };
    list.push(rev);
    Revisions::new(list).expect("revisions")
}

fn script(statements: &[Statement]) -> String {
    let mut out = String::new();
    for s in statements {
        out.push_str(&s.to_script());
        out.push('\n');
    }
    out
}

#[test]
fn golden_revisions_and_sql() {
    let mut problems = Vec::new();
    for case in CASES {
        let revs = revisions(case);
        let Some(rev) = revs.get("case") else {
            problems.push(format!("{}: its revision must have the id `case`", case.name));
            continue;
        };
        if !case.name.starts_with("hand_") {
            problems.extend(golden(&case_dir(case.name).join("revision.toml"), &rev.to_toml()));
            // Autogenerate again on top: nothing left to do.
            let again = autogenerate(&revs, case.after, "again").expect("autogenerate again");
            if let Some(r) = again {
                problems.push(format!(
                    "{}: a second autogenerate is not empty: {:?}",
                    case.name, r.ops
                ));
            }
        }
        for dialect in DIALECTS {
            let md = orm::cli::migration_dialect_named(dialect).unwrap();
            for (file, direction) in [("up.sql", Direction::Up), ("down.sql", Direction::Down)] {
                match render_revision(md, &revs, rev, direction) {
                    Ok(st) => problems.extend(golden(
                        &case_dir(case.name).join(dialect).join(file),
                        &script(&st),
                    )),
                    Err(e) => problems.push(format!("{} {dialect} {file}: {e}", case.name)),
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

fn golden_cases_round_trip(backend: Backend) {
    for case in CASES {
        let revs = revisions(case);
        let db = backend.database(&[]);
        let what = format!("{} on {backend}", case.name);
        let m = Migrator::new(db.engine(), &revs);
        m.upgrade("head").unwrap_or_else(|e| panic!("{what}: upgrade: {e}"));
        assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{what} at head");
        m.downgrade("-1").unwrap_or_else(|e| panic!("{what}: downgrade: {e}"));
        assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{what} at -1");
        m.downgrade("base").unwrap_or_else(|e| panic!("{what}: downgrade base: {e}"));
        let live = m.reflect().unwrap();
        assert!(live.tables.is_empty() && live.enums.is_empty(), "{what}: {live:#?}");
        m.upgrade("head").unwrap_or_else(|e| panic!("{what}: upgrade again: {e}"));
        assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{what} again");
    }
}
