//! PostgreSQL's operators (JSON path, arrays, full-text search, EXPLAIN, ANY lists) on every
//! backend: PostgreSQL natively; SQLite by an honest emulation or a typed "not supported" error,
//! never a wrong answer.

mod common;

use common::models::*;
use common::{backend_tests, Backend};
use orm::prelude::*;
use serde_json::json;

backend_tests! {
    json_path_operators,
    json_keys_are_keys_not_paths,
    ilike_lower_and_upper_fold_unicode,
    like_and_literal_text_matching_mean_the_same_on_both_backends,
    array_operators,
    full_text_search,
    explain_and_explain_analyze,
    in_lists_have_one_shape_on_postgres,
}

fn seed(db: &Database) {
    let mut s = db.session();
    let docs = [
        (
            "The quick brown fox jumps over the lazy dog",
            "dark",
            true,
            json!({"a": {"b": "x"}, "n": 1}),
            vec!["rust", "orm"],
            vec![1, 2],
        ),
        (
            "A dog runs in the park",
            "light",
            false,
            json!({"a": {"b": "y"}, "k": null}),
            vec!["python"],
            vec![3],
        ),
        ("Quick thinking saves the day", "dark", false, json!({"n": 2}), vec![], vec![]),
    ];
    for (body, theme, notifications, meta, tags, scores) in docs {
        s.add(Document {
            body: body.into(),
            prefs: Json(Preferences { theme: theme.into(), notifications }),
            meta,
            tags: tags.into_iter().map(String::from).collect(),
            scores,
            status: PostStatus::Published,
            ..Default::default()
        });
    }
    s.commit().unwrap();
}

fn ids(s: &mut Session, cond: Expr) -> Result<Vec<i64>> {
    Ok(s.query::<Document>()
        .filter(cond)
        .order_by(Document::id.asc())
        .all()?
        .into_iter()
        .map(|d| d.id)
        .collect())
}

fn is_unsupported<T: std::fmt::Debug>(r: Result<T>) -> bool {
    matches!(r, Err(Error::Unsupported { backend: "sqlite", .. }))
}

fn json_path_operators(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    assert_eq!(
        ids(&mut s, Document::prefs.get_text("theme").eq("dark")).unwrap(),
        [1, 3],
        "{backend}"
    );
    assert_eq!(
        ids(&mut s, Document::meta.get("a").get_text("b").eq("y")).unwrap(),
        [2],
        "{backend}"
    );
    assert_eq!(
        ids(&mut s, Document::meta.has_key("k")).unwrap(),
        [2],
        "{backend}: a key holding null counts"
    );
    assert_eq!(ids(&mut s, Document::meta.has_key("a")).unwrap(), [1, 2], "{backend}");
    assert_eq!(
        ids(&mut s, Document::meta.get_text("missing").is_null()).unwrap(),
        [1, 2, 3],
        "{backend}"
    );
    // Aggregation over a JSON field: grouped by the same path it selects.
    let themes: Vec<(Option<String>, i64)> = s
        .query::<Document>()
        .select((Document::prefs.get_text("theme"), count_star()))
        .group_by(Document::prefs.get_text("theme"))
        .order_by(Document::prefs.get_text("theme").asc())
        .all()
        .unwrap();
    assert_eq!(
        themes,
        vec![(Some("dark".to_string()), 2), (Some("light".to_string()), 1)],
        "{backend}"
    );
    let contains = ids(&mut s, Document::meta.json_contains(json!({"a": {"b": "x"}})));
    match backend {
        Backend::Sqlite => assert!(is_unsupported(contains), "{backend}"),
        Backend::Postgres => assert_eq!(contains.unwrap(), [1], "{backend}"),
    }
}

/// A key is a key on both backends: never a JSON path, whatever characters it holds.
fn json_keys_are_keys_not_paths(backend: Backend) {
    let doc = json!({
        "$": "dollar",
        "a": {"b": "nested"},
        "a.b": "dotted",
        "a\"b": "quoted",
        "[0]": "bracket",
        "ключ 🔑": "unicode",
        "": "empty",
        "back\\slash": "backslash",
        "it's": true
    });
    let db = backend.database(&all_tables());
    let mut s = db.session();
    let id = s
        .save(Document { body: "keys".into(), meta: doc.clone(), ..Default::default() })
        .unwrap()
        .id;
    let array = s
        .save(Document { body: "array".into(), meta: json!(["$", "a", 1]), ..Default::default() })
        .unwrap()
        .id;
    let string = s
        .save(Document { body: "string".into(), meta: json!("a.b"), ..Default::default() })
        .unwrap()
        .id;
    s.commit().unwrap();
    let text = |s: &mut Session, key: &str| -> Option<String> {
        s.query::<Document>()
            .filter(Document::id.eq(id))
            .select(Document::meta.get_text(key))
            .one()
            .unwrap()
    };
    let value = |s: &mut Session, key: &str| -> Option<serde_json::Value> {
        s.query::<Document>()
            .filter(Document::id.eq(id))
            .select(Document::meta.get(key))
            .one()
            .unwrap()
    };
    for (key, want) in [
        ("$", "dollar"),
        ("a.b", "dotted"),
        ("a\"b", "quoted"),
        ("[0]", "bracket"),
        ("ключ 🔑", "unicode"),
        ("", "empty"),
        ("back\\slash", "backslash"),
    ] {
        assert_eq!(text(&mut s, key).as_deref(), Some(want), "{backend}: get_text({key:?})");
        assert_eq!(value(&mut s, key), Some(json!(want)), "{backend}: get({key:?})");
        let mut want_ids = vec![id];
        match key {
            "$" => want_ids.push(array),
            "a.b" => want_ids.push(string),
            _ => {}
        }
        assert_eq!(
            ids(&mut s, Document::meta.has_key(key)).unwrap(),
            want_ids,
            "{backend}: has_key({key:?}): a key of an object, a string in an array, the string"
        );
    }
    assert_eq!(ids(&mut s, Document::meta.has_key("a")).unwrap(), [id, array], "{backend}");
    assert_eq!(
        ids(&mut s, Document::meta.has_key("1")).unwrap(),
        Vec::<i64>::new(),
        "{backend}: not a number"
    );
    assert_eq!(
        ids(&mut s, Document::meta.has_key("nested").not()).unwrap(),
        [id, array, string],
        "{backend}"
    );
    for key in ["$.a.b", "$.a", "$[0]", "a\\\"b", "b", "$$"] {
        assert_eq!(text(&mut s, key), None, "{backend}: get_text({key:?})");
        assert_eq!(value(&mut s, key), None, "{backend}: get({key:?})");
        assert_eq!(
            ids(&mut s, Document::meta.has_key(key)).unwrap(),
            Vec::<i64>::new(),
            "{backend}: has_key({key:?})"
        );
    }
    assert_eq!(value(&mut s, "a"), Some(json!({"b": "nested"})), "{backend}");
    assert_eq!(
        s.query::<Document>()
            .filter(Document::id.eq(id))
            .select(Document::meta.get("a").get_text("b"))
            .one()
            .unwrap()
            .as_deref(),
        Some("nested"),
        "{backend}: nesting is by chaining"
    );
    assert_eq!(value(&mut s, "it's"), Some(json!(true)), "{backend}");
    assert_eq!(
        ids(&mut s, Document::meta.get_text("a.b").eq("dotted")).unwrap(),
        [id],
        "{backend}: in a filter"
    );
    // A NULL document has no answer, so its negation is no answer either.
    s.save(AllTypes { id: 0, ..Default::default() }).unwrap();
    s.commit().unwrap();
    let n = s.query::<AllTypes>().filter(AllTypes::o_prefs.has_key("theme").not()).count();
    assert_eq!(n.unwrap(), 0, "{backend}");
}

/// `ilike`, `lower` and `upper` fold every letter on both backends, not ASCII letters only.
fn ilike_lower_and_upper_fold_unicode(backend: Backend) {
    let db = backend.database(&all_tables());
    let mut s = db.session();
    if backend == Backend::Postgres {
        // PostgreSQL folds case by the column's collation, and the test cluster is made with
        // the C locale, which folds ASCII only; a database in a UTF-8 locale folds every
        // letter, as ICU's root collation does here.
        s.sql(r#"ALTER TABLE documents ALTER COLUMN body TYPE TEXT COLLATE "und-x-icu""#)
            .execute()
            .unwrap();
    }
    for body in ["Motörhead live", "MOTÖRHEAD", "motorhead", "Ωμέγα"] {
        s.add(Document { body: body.into(), ..Default::default() });
    }
    s.commit().unwrap();
    assert_eq!(ids(&mut s, Document::body.ilike("%MOTÖRHEAD%")).unwrap(), [1, 2], "{backend}");
    assert_eq!(ids(&mut s, Document::body.ilike("motörhead")).unwrap(), [2], "{backend}");
    assert_eq!(ids(&mut s, Document::body.not_ilike("%MOTÖRHEAD%")).unwrap(), [3, 4], "{backend}");
    assert_eq!(ids(&mut s, Document::body.ilike("ωμέγα")).unwrap(), [4], "{backend}");
    assert_eq!(ids(&mut s, Document::body.like("%motörhead%")).unwrap(), [] as [i64; 0]);
    assert_eq!(ids(&mut s, lower(Document::body).eq("motörhead")).unwrap(), [2], "{backend}");
    assert_eq!(ids(&mut s, upper(Document::body).eq("ΩΜΈΓΑ")).unwrap(), [4], "{backend}");
    let lowered: Vec<String> = s
        .query::<Document>()
        .select(lower(Document::body))
        .order_by(Document::id.asc())
        .all()
        .unwrap();
    assert_eq!(lowered, ["motörhead live", "motörhead", "motorhead", "ωμέγα"], "{backend}");
}

/// `like` means the same on both backends (case-sensitive, `\` escapes), and `contains`,
/// `starts_with` and `ends_with` take their text literally, whatever SQL or GLOB would read in it.
fn like_and_literal_text_matching_mean_the_same_on_both_backends(backend: Backend) {
    const BODIES: [&str; 14] = [
        "100% sure",
        "100 percent",
        "a_b",
        "axb",
        r"back\slash",
        "star*",
        "what?",
        "[x]",
        "it's",
        "Love",
        "love",
        "GLOVE",
        "ö",
        "",
    ];
    let db = backend.database(&all_tables());
    let mut s = db.session();
    for body in BODIES {
        s.add(Document { body: body.into(), ..Default::default() });
    }
    s.commit().unwrap();
    let mut found = |cond: Expr| -> Vec<&str> {
        let ids = ids(&mut s, cond).unwrap();
        ids.into_iter().map(|id| BODIES[usize::try_from(id - 1).unwrap()]).collect()
    };
    let body = Document::body;
    assert_eq!(found(body.like("%love%")), ["love"], "{backend}: case-sensitive");
    assert_eq!(found(body.ilike("%love%")), ["Love", "love", "GLOVE"], "{backend}");
    assert_eq!(
        found(body.not_like("%o%")),
        BODIES.into_iter().filter(|b| !b.contains('o')).collect::<Vec<_>>(),
        "{backend}"
    );
    assert_eq!(found(body.like("100%")), ["100% sure", "100 percent"], "{backend}");
    assert_eq!(found(body.like(r"100\%%")), ["100% sure"], "{backend}: \\ escapes %");
    assert_eq!(found(body.like("a_b")), ["a_b", "axb"], "{backend}");
    assert_eq!(found(body.like(r"a\_b")), ["a_b"], "{backend}: \\ escapes _");
    assert_eq!(found(body.like(r"back\\slash")), [r"back\slash"], "{backend}: \\\\ is \\");
    assert_eq!(found(body.like(r"\a\_b")), ["a_b"], "{backend}: an escaped letter is itself");
    assert_eq!(found(body.like("star*")), ["star*"], "{backend}: * is no wildcard");
    assert_eq!(found(body.like("what?")), ["what?"], "{backend}: ? is no wildcard");
    assert_eq!(found(body.like("[x]")), ["[x]"], "{backend}: [ is no set");
    assert_eq!(found(body.like("_")), ["ö"], "{backend}: _ is one character");
    assert_eq!(found(body.like("")), [""], "{backend}");
    assert_eq!(found(body.like("it's")), ["it's"], "{backend}");

    assert_eq!(found(body.contains("%")), ["100% sure"], "{backend}");
    assert_eq!(found(body.contains("_")), ["a_b"], "{backend}");
    assert_eq!(found(body.contains(r"\")), [r"back\slash"], "{backend}");
    assert_eq!(found(body.contains("*")), ["star*"], "{backend}");
    assert_eq!(found(body.contains("?")), ["what?"], "{backend}");
    assert_eq!(found(body.contains("[")), ["[x]"], "{backend}");
    assert_eq!(found(body.contains("'")), ["it's"], "{backend}");
    assert_eq!(found(body.contains("ove")), ["Love", "love"], "{backend}: case-sensitive");
    assert_eq!(found(body.contains(String::from("0%"))), ["100% sure"], "{backend}");
    assert_eq!(found(body.contains(&String::from("x]"))), ["[x]"], "{backend}");
    assert_eq!(found(body.starts_with("100%")), ["100% sure"], "{backend}");
    assert_eq!(found(body.starts_with("[")), ["[x]"], "{backend}");
    assert_eq!(found(body.starts_with("a_")), ["a_b"], "{backend}");
    assert_eq!(found(body.ends_with("*")), ["star*"], "{backend}");
    assert_eq!(found(body.ends_with("e")), ["100% sure", "Love", "love"], "{backend}");
    assert_eq!(found(body.ends_with(r"\slash")), [r"back\slash"], "{backend}");
    assert_eq!(found(body.starts_with("").and(body.ends_with(""))).len(), BODIES.len());
    assert_eq!(found(lower(body).contains("love")), ["Love", "love", "GLOVE"], "{backend}");
    let pattern = format!("%{}%", orm::escape_like("% S"));
    assert_eq!(found(body.ilike(&pattern)), ["100% sure"], "{backend}: escape_like");

    let lone = ids(&mut s, body.like(r"50\"));
    assert!(matches!(lone, Err(Error::InvalidUse(_))), "{backend}: {lone:?}");
    // Raw SQL keeps each database's own meaning of LIKE: SQLite's ignores ASCII case.
    #[derive(FromRow)]
    struct N {
        n: i64,
    }
    let raw = s.sql("SELECT COUNT(*) AS n FROM documents WHERE body LIKE '%love%'").one::<N>();
    let want = if backend == Backend::Sqlite { 3 } else { 1 };
    assert_eq!(raw.unwrap().n, want, "{backend}");
}

fn array_operators(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    assert_eq!(ids(&mut s, Document::tags.contains(["rust"])).unwrap(), [1], "{backend}");
    assert_eq!(ids(&mut s, Document::tags.contains(["rust", "orm"])).unwrap(), [1], "{backend}");
    assert_eq!(
        ids(&mut s, Document::tags.contains(["rust", "python"])).unwrap(),
        Vec::<i64>::new(),
        "{backend}"
    );
    assert_eq!(
        ids(&mut s, Document::tags.overlaps(["python", "orm"])).unwrap(),
        [1, 2],
        "{backend}"
    );
    assert_eq!(
        ids(&mut s, Document::tags.overlaps(["go"])).unwrap(),
        Vec::<i64>::new(),
        "{backend}"
    );
    assert_eq!(ids(&mut s, Document::tags.any_eq("python")).unwrap(), [2], "{backend}");
    assert_eq!(ids(&mut s, Document::scores.any_eq(2)).unwrap(), [1], "{backend}");
    assert_eq!(ids(&mut s, Document::scores.contains([3_i64])).unwrap(), [2], "{backend}");
}

fn full_text_search(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    let plain = ids(&mut s, Document::body.matches("english", "running dogs"));
    let web = ids(&mut s, Document::body.matches_websearch("english", "quick -fox"));
    let multi = ids(
        &mut s,
        orm::search(
            [Document::body.expr(), Document::prefs.get_text("theme").expr()],
            "english",
            "light park",
        ),
    );
    match backend {
        Backend::Sqlite => {
            assert!(is_unsupported(plain));
            assert!(is_unsupported(web));
            assert!(is_unsupported(multi));
        }
        Backend::Postgres => {
            assert_eq!(plain.unwrap(), [2], "{backend}: stems match (running ~ runs, dogs ~ dog)");
            assert_eq!(web.unwrap(), [3], "{backend}");
            assert_eq!(multi.unwrap(), [2], "{backend}");
        }
    }
    let bad = ids(&mut s, Document::body.matches("english'); DROP TABLE documents; --", "x"));
    assert!(
        matches!(bad, Err(Error::InvalidUse(_)) | Err(Error::Unsupported { .. })),
        "{backend}: {bad:?}"
    );
}

fn explain_and_explain_analyze(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    let plan = s.query::<Document>().filter(Document::id.eq(1)).explain().unwrap();
    assert!(!plan.trim().is_empty(), "{backend}");
    let analyzed = s.query::<Document>().filter(Document::id.eq(1)).explain_analyze();
    match backend {
        Backend::Sqlite => {
            assert!(plan.contains("documents"), "{plan}");
            assert!(is_unsupported(analyzed));
        }
        Backend::Postgres => {
            assert!(plan.contains("Scan"), "{plan}");
            assert!(analyzed.unwrap().contains("actual time"), "{backend}");
        }
    }
}

fn in_lists_have_one_shape_on_postgres(backend: Backend) {
    let db = backend.database(&all_tables());
    seed(&db);
    let mut s = db.session();
    let q = |n: i64| Document::id.in_list(1..=n);
    let short = s.query::<Document>().filter(q(2)).to_sql().unwrap();
    let long = s.query::<Document>().filter(q(50)).to_sql().unwrap();
    match backend {
        Backend::Postgres => {
            assert_eq!(short.sql, long.sql, "{backend}");
            assert!(short.sql.ends_with(r#"WHERE "documents"."id" = ANY($1)"#), "{}", short.sql);
        }
        Backend::Sqlite => assert_ne!(short.sql, long.sql),
    }
    assert_eq!(ids(&mut s, q(2)).unwrap(), [1, 2], "{backend}");
    assert_eq!(ids(&mut s, Document::id.not_in_list([1, 2])).unwrap(), [3], "{backend}");
    assert_eq!(
        ids(&mut s, Document::status.in_list([PostStatus::Published, PostStatus::Draft])).unwrap(),
        [1, 2, 3],
        "{backend}: enum values in an ANY list"
    );
}
