//! Models are sent and received as JSON, as every web app does: `#[derive(Serialize,
//! Deserialize)]` works on a model with `Uuid`, time, `Json<T>`, array, enum and relationship
//! fields (the re-exported uuid and chrono have their serde features on), and a row read back from
//! either backend serializes to the same JSON as the value written.

mod common;

use common::{backend_tests, Backend};
use orm::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Preferences {
    theme: String,
    notify: bool,
}

#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum Mood {
    Calm,
    Busy,
}

#[derive(Model, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[orm(table = "serde_authors")]
struct Author {
    #[orm(primary_key, default = uuid4)]
    id: Uuid,
    name: String,
    joined: DateTime<Utc>,
    birthday: Option<NaiveDate>,
    preferences: Json<Preferences>,
    tags: Vec<String>,
    mood: Mood,
    #[orm(has_many(foreign_key = author_id))]
    #[serde(default, skip_serializing_if = "Related::is_unloaded")]
    notes: Related<Vec<Note>>,
}

#[derive(Model, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[orm(table = "serde_notes")]
struct Note {
    #[orm(primary_key)]
    id: i64,
    #[orm(references = Author, on_delete = cascade)]
    author_id: Uuid,
    body: String,
}

fn author() -> Author {
    Author {
        id: Uuid::parse_str("6f1c2b8e-8d1a-4c3e-9f0a-1b2c3d4e5f60").expect("uuid"),
        name: "tata".into(),
        joined: DateTime::parse_from_rfc3339("2024-05-06T07:08:09.123456Z")
            .expect("time")
            .with_timezone(&Utc),
        birthday: NaiveDate::from_ymd_opt(1990, 1, 31),
        preferences: Json(Preferences { theme: "dark".into(), notify: true }),
        tags: vec!["rust".into(), "sql".into()],
        mood: Mood::Busy,
        notes: Related::Unloaded,
    }
}

const AUTHOR_JSON: &str = r#"{"id":"6f1c2b8e-8d1a-4c3e-9f0a-1b2c3d4e5f60","name":"tata","joined":"2024-05-06T07:08:09.123456Z","birthday":"1990-01-31","preferences":{"theme":"dark","notify":true},"tags":["rust","sql"],"mood":"Busy"}"#;

#[test]
fn a_model_serializes_to_plain_json_and_reads_back() {
    let a = author();
    assert_eq!(serde_json::to_string(&a).expect("serialize"), AUTHOR_JSON);
    let back: Author = serde_json::from_str(AUTHOR_JSON).expect("deserialize");
    assert_eq!(back, a);
    assert!(back.notes.is_unloaded(), "a missing relationship reads as not loaded");
}

#[test]
fn a_loaded_relationship_is_written_and_read_as_its_value() {
    let mut a = author();
    a.notes = Related::Loaded(vec![Note { id: 1, author_id: a.id, body: "hi".into() }]);
    let json = serde_json::to_value(&a).expect("serialize");
    assert_eq!(
        json["notes"],
        serde_json::json!([{"id": 1, "author_id": "6f1c2b8e-8d1a-4c3e-9f0a-1b2c3d4e5f60", "body": "hi"}])
    );
    let back: Author = serde_json::from_value(json).expect("deserialize");
    assert_eq!(back.notes.loaded().map(Vec::len), Some(1));
    // `null` is "not loaded", never an empty collection.
    let mut null = serde_json::to_value(author()).expect("serialize");
    null["notes"] = serde_json::Value::Null;
    let back: Author = serde_json::from_value(null).expect("deserialize");
    assert!(back.notes.is_unloaded());
}

backend_tests! {
    rows_read_back_serialize_like_the_values_written,
}

/// Writes an author with a note, reads both back with the notes loaded, and compares the JSON.
fn rows_read_back_serialize_like_the_values_written(backend: Backend) {
    let db = backend.database(&[Author::TABLE, Note::TABLE]);
    let mut s = db.session();
    let a = author();
    s.add(a.clone());
    s.add(Note { author_id: a.id, body: "hi".into(), ..Default::default() });
    s.commit().expect("commit");
    let mut fresh = db.session();
    let read = fresh.query::<Author>().load(Author::notes).one().expect("read back");
    let json = serde_json::to_value(&read).expect("serialize");
    let mut expected: serde_json::Value = serde_json::from_str(AUTHOR_JSON).expect("json");
    expected["notes"] = serde_json::json!([{"id": 1, "author_id": a.id, "body": "hi"}]);
    assert_eq!(json, expected, "{backend}");
}
