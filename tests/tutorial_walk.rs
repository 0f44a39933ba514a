//! The tutorials' migration walk, with no hand edit but the one declared `sql` revision of the
//! `modified_at` trigger: an initial schema with a GIN index on JSON preferences, a full-text
//! GIN index on `to_tsvector(...)` and the trigger; add a column; drop one and widen another;
//! add an enum label; rename a column; down to base and up again; the offline SQL of every
//! revision; and `check` clean at each step, on both backends.

mod common;

use common::{backend_tests, Backend, TempDir};
use orm::migrate::{autogenerate, render_revision, Direction, Migrator, Revision, Revisions};
use orm::TableSchema;

backend_tests! {
    the_tutorial_walk_needs_no_hand_edit_and_checks_clean,
}

macro_rules! version {
    ($name:ident { status: [$($label:ident),*], user: { $($ufield:tt)* }, title: $title:literal }) => {
        #[allow(dead_code)]
        mod $name {
            use orm::prelude::*;

            #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
            #[orm(type_name = "post_status")]
            pub enum Status {
                $($label),*
            }

            #[derive(Model, Debug, Clone, PartialEq)]
            #[orm(
                table = "users",
                index(preferences(opclass = "jsonb_path_ops"), using = "gin", name = "ix_user_preferences_gin")
            )]
            pub struct User {
                #[orm(primary_key)]
                pub id: i64,
                #[orm(unique, max_length = 120)]
                pub email: String,
                pub preferences: serde_json::Value,
                $($ufield)*
            }

            #[derive(Model, Debug, Clone, PartialEq)]
            #[orm(
                table = "posts",
                index(expr = "to_tsvector('english', content)", using = "gin", name = "ix_posts_fts")
            )]
            pub struct Post {
                #[orm(primary_key)]
                pub id: i64,
                #[orm(max_length = $title)]
                pub title: String,
                pub content: String,
                pub status: Status,
                pub modified_at: Option<DateTime<Utc>>,
                #[orm(references = User)]
                pub user_id: i64,
            }

            pub const TABLES: &[&orm::TableSchema] = &[User::TABLE, Post::TABLE];
        }
    };
}

version!(v1 { status: [Draft, Published], user: {
    #[orm(unique, max_length = 40)]
    pub username: String,
    pub nickname: Option<String>,
}, title: 100 });
version!(v2 { status: [Draft, Published], user: {
    #[orm(unique, max_length = 40)]
    pub username: String,
    pub nickname: Option<String>,
    pub age: Option<i32>,
}, title: 100 });
version!(v3 { status: [Draft, Published], user: {
    #[orm(unique, max_length = 40)]
    pub username: String,
    pub age: Option<i32>,
}, title: 200 });
version!(v4 { status: [Draft, Published, Archived], user: {
    #[orm(unique, max_length = 40)]
    pub username: String,
    pub age: Option<i32>,
}, title: 200 });
version!(v5 { status: [Draft, Published, Archived], user: {
    #[orm(unique, max_length = 40, renamed_from = "username")]
    pub handle: String,
    pub age: Option<i32>,
}, title: 200 });

/// The tutorial's trigger, written once per dialect, declaring what it creates.
const TRIGGER: &str = r#"
id = "trigger0001"
parents = ["PARENT"]
message = "modified_at trigger"
created = "2024-01-01T00:00:00Z"

[[ops]]
op = "sql"
dialect = "postgresql"
creates = [
    { kind = "function", name = "update_modified_column" },
    { kind = "trigger", name = "trg_posts_modified", table = "posts" },
]
up = '''
CREATE FUNCTION update_modified_column() RETURNS trigger AS $$
BEGIN
  NEW.modified_at = now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER trg_posts_modified BEFORE UPDATE ON posts
FOR EACH ROW EXECUTE FUNCTION update_modified_column();
'''

[[ops]]
op = "sql"
dialect = "sqlite"
creates = [{ kind = "trigger", name = "trg_posts_modified", table = "posts" }]
up = '''
CREATE TRIGGER trg_posts_modified AFTER UPDATE ON posts
FOR EACH ROW WHEN NEW.modified_at IS OLD.modified_at BEGIN
  UPDATE posts SET modified_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
'''
"#;

/// `cargo db migrate -m msg` against `dir`: the revision autogenerate writes, saved.
fn migrate(dir: &TempDir, models: &[&'static TableSchema], msg: &str, n: usize) -> String {
    let revisions = Revisions::load_dir(dir).expect("load");
    let mut rev: Revision =
        autogenerate(&revisions, models, msg).expect("autogenerate").expect("a change");
    rev.created = format!("2024-01-0{}T00:00:00Z", n + 1);
    std::fs::write(dir.join(rev.file_name()), rev.to_toml()).expect("write");
    rev.id
}

fn the_tutorial_walk_needs_no_hand_edit_and_checks_clean(backend: Backend) {
    let dir = TempDir::new(&format!("walk-{backend}"));
    let db = backend.database(&[]);
    let check = |dir: &TempDir, models: &[&'static TableSchema], at: &str| {
        let revisions = Revisions::load_dir(dir).expect("load");
        let m = Migrator::new(db.engine(), &revisions);
        m.upgrade("head").unwrap_or_else(|e| panic!("{backend} {at}: {e}"));
        assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{backend} {at}");
        assert!(autogenerate(&revisions, models, "again").unwrap().is_none(), "{backend} {at}");
    };

    let mut ids = vec![migrate(&dir, v1::TABLES, "initial", 0)];
    let trigger = TRIGGER.replace("PARENT", &ids[0]);
    std::fs::write(dir.join("trigger0001_modified_at_trigger.toml"), trigger).expect("write");
    ids.push("trigger0001".into());
    check(&dir, v1::TABLES, "initial + trigger");
    ids.push(migrate(&dir, v2::TABLES, "add age to user", 1));
    check(&dir, v2::TABLES, "add a column");
    ids.push(migrate(&dir, v3::TABLES, "drop nickname, widen title", 2));
    check(&dir, v3::TABLES, "drop one, widen another");
    ids.push(migrate(&dir, v4::TABLES, "archived posts", 3));
    check(&dir, v4::TABLES, "add an enum label");
    ids.push(migrate(&dir, v5::TABLES, "rename username", 4));
    check(&dir, v5::TABLES, "rename a column");

    // The trigger works: an update stamps modified_at.
    let mut s = db.session();
    s.add(v5::User {
        id: 1,
        email: "ann@example.com".into(),
        preferences: serde_json::json!({"theme": "dark"}),
        handle: "ann".into(),
        age: None,
    });
    s.add(v5::Post {
        id: 1,
        title: "t".repeat(150),
        content: "hello".into(),
        status: v5::Status::Archived,
        modified_at: None,
        user_id: 1,
    });
    s.commit().unwrap();
    s.sql("UPDATE posts SET content = 'edited' WHERE id = 1").execute().unwrap();
    s.commit().unwrap();
    let stamped = db.session().sql("SELECT modified_at IS NOT NULL FROM posts").all::<(bool,)>();
    assert_eq!(stamped.unwrap(), [(true,)], "{backend}: the trigger ran");
    s.sql("DELETE FROM posts").execute().unwrap();
    s.sql("DELETE FROM users").execute().unwrap();
    s.commit().unwrap();

    // Down to base (the trigger and function dropped, nothing left) and up again.
    let revisions = Revisions::load_dir(&dir).expect("load");
    let m = Migrator::new(db.engine(), &revisions);
    m.downgrade("base").unwrap_or_else(|e| panic!("{backend}: {e}"));
    let live = m.reflect().unwrap();
    assert!(live.tables.is_empty() && live.enums.is_empty(), "{backend}: {live:#?}");
    assert_eq!(m.upgrade("head").unwrap(), ids, "{backend}");
    assert_eq!(m.database_differences().unwrap(), Vec::<String>::new(), "{backend}: up again");

    // Offline SQL of every revision, both ways, for this backend's dialect.
    let dialect = orm::migrate::migration_dialect(db.engine()).expect("a migration dialect");
    for id in &ids {
        let rev = revisions.get(id).expect("revision");
        for direction in [Direction::Up, Direction::Down] {
            let sql = render_revision(dialect, &revisions, rev, direction)
                .unwrap_or_else(|e| panic!("{backend} {id}: {e}"));
            assert!(!sql.is_empty(), "{backend} {id}");
        }
    }
}
