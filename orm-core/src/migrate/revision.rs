//! Revision files and the graph they form.
//!
//! A revision is a TOML file a person reads and edits: its id, its parent(s), a message, a
//! creation date, and a list of `[[ops]]`, each with what its downgrade needs. Downgrading runs
//! the ops' inverses in reverse order. [`Revisions`] loads a folder of them, checks the graph
//! (known parents, no cycles), finds heads, resolves targets (`head`, `heads`, `base`, an id or
//! a unique prefix of one, `+N`, `-N`) and replays the files into a [`Schema`].
//!
//! ```toml
//! id = "8a1f3c2d9b7e"
//! parents = ["1c0e5d7a4b2f"]
//! message = "add age to user"
//! created = "2024-05-01T12:30:00Z"
//!
//! [[ops]]
//! op = "add_column"
//! table = "users"
//! column = { name = "age", type = "integer", nullable = true }
//! ```

use super::ops::Step;
use super::schema::Schema;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

/// One revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    /// Its id (letters, digits, `_` and `-`).
    pub id: String,
    /// The revisions it follows: none for the first, two for a merge.
    #[serde(default)]
    pub parents: Vec<String>,
    /// What it does, in words.
    #[serde(default)]
    pub message: String,
    /// When it was written (RFC 3339, UTC).
    #[serde(default)]
    pub created: String,
    /// The operations, in upgrade order.
    #[serde(default)]
    pub ops: Vec<Step>,
    /// The file it was read from.
    #[serde(skip)]
    pub file: Option<String>,
}

fn migration_error(msg: impl Into<String>) -> Error {
    Error::Migration(msg.into())
}

/// The dialect names a revision's op may be limited to (the backends' `Dialect::name`).
pub const DIALECT_NAMES: &[&str] = &["sqlite", "postgresql"];

impl Revision {
    /// A new revision with a fresh random id, created now.
    pub fn new(parents: Vec<String>, message: &str, ops: Vec<Step>) -> Revision {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let created = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        Revision { id, parents, message: message.to_owned(), created, ops, file: None }
    }

    /// Parses a revision file; `name` is used in errors.
    pub fn parse(name: &str, text: &str) -> Result<Revision> {
        let mut r: Revision = toml::from_str(text)
            .map_err(|e| migration_error(format!("{name}: {}", e.to_string().trim_end())))?;
        if r.id.is_empty()
            || !r.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(migration_error(format!(
                "{name}: revision id {:?} must be letters, digits, `_` or `-`",
                r.id
            )));
        }
        for (i, step) in r.ops.iter().enumerate() {
            if let Some(d) = step.dialect.as_deref().filter(|d| !DIALECT_NAMES.contains(d)) {
                // A misspelt dialect would make the op silently skipped on every backend.
                return Err(migration_error(format!(
                    "{name}: op {} is for dialect {d:?}, which is no dialect: expected one of {}",
                    i + 1,
                    DIALECT_NAMES.join(", ")
                )));
            }
        }
        r.file = Some(name.to_owned());
        Ok(r)
    }

    /// The file name to write it under: `<id>_<message as a slug>.toml`.
    pub fn file_name(&self) -> String {
        let mut slug = String::new();
        for c in self.message.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('_') && !slug.is_empty() {
                slug.push('_');
            }
            if slug.len() >= 40 {
                break;
            }
        }
        let slug = slug.trim_end_matches('_');
        if slug.is_empty() {
            format!("{}.toml", self.id)
        } else {
            format!("{}_{slug}.toml", self.id)
        }
    }

    /// The file's text: a header comment, the fields, then each op as an `[[ops]]` table whose
    /// nested values are written inline and whose SQL is in multi-line strings.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        // A comment holds no control character but tab.
        let message: String = self
            .message
            .chars()
            .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
            .collect();
        out.push_str(&format!("# Revision {}: {message}\n", self.id));
        out.push_str(
            "# Written by `db migrate`; review and edit it freely. Upgrade runs `ops` in order,\n\
             # downgrade runs each op's inverse in reverse order.\n\n",
        );
        out.push_str(&format!("id = {}\n", toml_string(&self.id)));
        let parents: Vec<String> = self.parents.iter().map(|p| toml_string(p)).collect();
        out.push_str(&format!("parents = [{}]\n", parents.join(", ")));
        out.push_str(&format!("message = {}\n", toml_string(&self.message)));
        out.push_str(&format!("created = {}\n", toml_string(&self.created)));
        for step in &self.ops {
            out.push_str("\n[[ops]]\n");
            match serde_json::to_value(step) {
                Ok(serde_json::Value::Object(map)) => {
                    // `op` first, then the fields in declaration order (serde_json keeps them
                    // sorted; the order below is the readable one).
                    let mut keys: Vec<&String> = map.keys().collect();
                    keys.sort_by_key(|k| key_rank(k));
                    for k in keys {
                        if let Some(v) = map.get(k) {
                            out.push_str(&format!("{} = {}\n", toml_key(k), toml_value(v, true)));
                        }
                    }
                }
                _ => out.push_str("# (this op could not be written)\n"),
            }
        }
        out
    }

    /// The steps of a downgrade: each op's inverse, in reverse order.
    pub fn downgrade_steps(&self) -> Result<Vec<Step>> {
        self.ops
            .iter()
            .rev()
            .map(|s| {
                s.op.inverse().map(|op| Step { op, dialect: s.dialect.clone() }).map_err(|e| {
                    migration_error(format!("revision {} cannot be downgraded: {e}", self.id))
                })
            })
            .collect()
    }
}

/// Where a key goes in an `[[ops]]` table: the op's name and subject first, SQL last.
fn key_rank(k: &str) -> (u8, String) {
    let rank = match k {
        "op" => 0,
        "dialect" => 1,
        "name" | "table" => 2,
        "type" => 3,
        "from" => 4,
        "to" => 5,
        "columns" => 6,
        "ref_table" => 7,
        "ref_columns" => 8,
        "on_delete" => 9,
        "on_update" => 10,
        "primary_key" => 11,
        "up" => 13,
        "down" => 14,
        _ => 12,
    };
    (rank, k.to_owned())
}

fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_owned()
    } else {
        toml_string(k)
    }
}

/// A TOML basic string, escaped.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a TOML multi-line literal string holds `s` as it is: no `'''`, and no control
/// character but tab and line feed (a carriage return would be read back as part of a line
/// break, or refused).
fn fits_literal(s: &str) -> bool {
    !s.contains("'''") && !s.chars().any(|c| (c < ' ' && c != '\t' && c != '\n') || c == '\u{7f}')
}

/// A TOML value. At the top of an op (`top`), text with line breaks becomes a multi-line
/// literal string (when one holds it exactly) and a list of tables one table per line; inside,
/// everything is inline.
fn toml_value(v: &serde_json::Value, top: bool) -> String {
    use serde_json::Value as J;
    match v {
        J::Null => "\"\"".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.is_finite() => {
                let s = format!("{f:?}");
                if s.contains(['.', 'e', 'E']) {
                    s
                } else {
                    format!("{s}.0")
                }
            }
            _ => n.to_string(),
        },
        // Exactly the text: the newline after the opening quotes is not part of it, and none is
        // added before the closing ones.
        J::String(s) if top && s.contains('\n') && fits_literal(s) => format!("'''\n{s}'''"),
        J::String(s) => toml_string(s),
        J::Array(items) => {
            let tables = items.iter().any(|i| i.is_object());
            let inner: Vec<String> = items.iter().map(|i| toml_value(i, false)).collect();
            if top && tables && items.len() > 1 {
                let mut s = String::from("[\n");
                for i in inner {
                    s.push_str("    ");
                    s.push_str(&i);
                    s.push_str(",\n");
                }
                s.push(']');
                s
            } else {
                format!("[{}]", inner.join(", "))
            }
        }
        J::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| key_rank(k));
            let parts: Vec<String> = keys
                .iter()
                .filter_map(|k| {
                    map.get(*k).map(|v| format!("{} = {}", toml_key(k), toml_value(v, false)))
                })
                .collect();
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
    }
}

/// The revisions of a migrations folder, checked and ordered (parents first), and the folder's
/// settings.
#[derive(Debug, Clone, Default)]
pub struct Revisions {
    /// In topological order: every revision after its parents; ties by creation date, then id.
    list: Vec<Revision>,
    /// Name patterns that autogenerate and `check` leave out ([`Revisions::ignores`]).
    ignore: Vec<String>,
}

/// The settings file of a migrations folder, `migrations.toml`:
///
/// ```toml
/// # Names that autogenerate and `check` leave alone (`*` is any run of characters, `?` one).
/// ignore = ["ix_legacy_*", "audit_log"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderConfig {
    /// Name patterns of tables, indexes, constraints, enum types, triggers, views and functions
    /// that autogenerate does not compare and `check` does not report (Alembic's
    /// `include_object`).
    #[serde(default)]
    pub ignore: Vec<String>,
}

impl FolderConfig {
    /// Parses the text of a `migrations.toml`; `name` is used in errors.
    pub fn parse(name: &str, text: &str) -> Result<FolderConfig> {
        let c: FolderConfig = toml::from_str(text)
            .map_err(|e| migration_error(format!("{name}: {}", e.to_string().trim_end())))?;
        if let Some(p) = c.ignore.iter().find(|p| p.trim().is_empty()) {
            return Err(migration_error(format!("{name}: an ignore pattern is empty ({p:?})")));
        }
        Ok(c)
    }
}

/// Whether `name` matches the glob `pattern`: `*` is any run of characters, `?` any one, all
/// else itself (case-sensitive, as identifiers are).
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // The classic two-pointer match, backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

impl Revisions {
    /// The revisions in the revision files of `dir` (its `.toml` files, by name: see
    /// [`orm_migration_files`], the scanner `embed_migrations!` uses too). A missing folder is
    /// an error saying to run `init`.
    pub fn load_dir(dir: &Path) -> Result<Revisions> {
        let files = orm_migration_files::revision_files(dir).map_err(|e| {
            migration_error(format!(
                "cannot read the migrations folder {}: {e} (run `db init` to create it)",
                dir.display()
            ))
        })?;
        let mut sources = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f.path)
                .map_err(|e| migration_error(format!("cannot read {}: {e}", f.path.display())))?;
            sources.push((f.path.display().to_string(), text));
        }
        let refs: Vec<(&str, &str)> =
            sources.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let mut revisions = Revisions::from_sources(&refs)?;
        let config = dir.join(orm_migration_files::CONFIG_FILE);
        match std::fs::read_to_string(&config) {
            Ok(text) => {
                let c = FolderConfig::parse(&config.display().to_string(), &text)?;
                revisions.ignore = c.ignore;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(migration_error(format!("cannot read {}: {e}", config.display())))
            }
        }
        Ok(revisions)
    }

    /// The same revisions, with name patterns that autogenerate and `check` leave out (what
    /// `ignore = [...]` in the folder's `migrations.toml` gives).
    pub fn with_ignore(mut self, patterns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.ignore = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// The ignore patterns.
    pub fn ignore_patterns(&self) -> &[String] {
        &self.ignore
    }

    /// Whether an object named `name` is left out by an ignore pattern.
    pub fn ignores(&self, name: &str) -> bool {
        self.ignore.iter().any(|p| name_matches(p, name))
    }

    /// The revisions in `(file name, text)` pairs (what `embed_migrations!` compiles in).
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Revisions> {
        let list =
            sources.iter().map(|(n, t)| Revision::parse(n, t)).collect::<Result<Vec<_>>>()?;
        Revisions::new(list)
    }

    /// Checks and orders revisions: unique ids, known parents, no cycle.
    pub fn new(list: Vec<Revision>) -> Result<Revisions> {
        let mut by_id: BTreeMap<&str, &Revision> = BTreeMap::new();
        for r in &list {
            if let Some(other) = by_id.insert(&r.id, r) {
                return Err(migration_error(format!(
                    "two revisions have the id {}: {} and {}",
                    r.id,
                    other.file.as_deref().unwrap_or("?"),
                    r.file.as_deref().unwrap_or("?")
                )));
            }
        }
        for r in &list {
            for p in &r.parents {
                if !by_id.contains_key(p.as_str()) {
                    return Err(migration_error(format!(
                        "revision {} ({}) names a parent {p} that is not in the migrations folder",
                        r.id,
                        r.file.as_deref().unwrap_or("?")
                    )));
                }
            }
        }
        // Kahn's algorithm, always taking the oldest ready revision.
        let mut remaining: Vec<Revision> = list.clone();
        remaining.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
        let mut done: HashSet<String> = HashSet::new();
        let mut ordered = Vec::with_capacity(list.len());
        while !remaining.is_empty() {
            let Some(pos) =
                remaining.iter().position(|r| r.parents.iter().all(|p| done.contains(p)))
            else {
                let ids: Vec<&str> = remaining.iter().map(|r| r.id.as_str()).collect();
                return Err(migration_error(format!(
                    "the revisions {} form a cycle",
                    ids.join(", ")
                )));
            };
            let r = remaining.remove(pos);
            done.insert(r.id.clone());
            ordered.push(r);
        }
        Ok(Revisions { list: ordered, ignore: Vec::new() })
    }

    /// Every revision, parents first.
    pub fn all(&self) -> &[Revision] {
        &self.list
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The revision with id `id`.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.list.iter().find(|r| r.id == id)
    }

    /// The revisions no other revision follows, oldest first.
    pub fn heads(&self) -> Vec<&Revision> {
        let parents: HashSet<&str> =
            self.list.iter().flat_map(|r| r.parents.iter().map(String::as_str)).collect();
        self.list.iter().filter(|r| !parents.contains(r.id.as_str())).collect()
    }

    /// The ids of [`Revisions::heads`].
    pub fn head_ids(&self) -> Vec<String> {
        self.heads().into_iter().map(|r| r.id.clone()).collect()
    }

    /// The single head, or an error naming the heads when there are several.
    pub fn single_head(&self) -> Result<Option<&Revision>> {
        let heads = self.heads();
        if heads.len() > 1 {
            let ids: Vec<&str> = heads.iter().map(|r| r.id.as_str()).collect();
            return Err(migration_error(format!(
                "there are {} heads ({}): join them with `db merge`, or name one",
                heads.len(),
                ids.join(", ")
            )));
        }
        Ok(heads.into_iter().next())
    }

    /// The revision an id or a unique prefix of one names.
    pub fn resolve(&self, spec: &str) -> Result<&Revision> {
        if let Some(r) = self.get(spec) {
            return Ok(r);
        }
        let matches: Vec<&Revision> =
            self.list.iter().filter(|r| r.id.starts_with(spec) && !spec.is_empty()).collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(migration_error(format!("no revision {spec:?} in the migrations folder"))),
            many => {
                let ids: Vec<&str> = many.iter().map(|r| r.id.as_str()).collect();
                Err(migration_error(format!(
                    "{spec:?} names several revisions ({}): give more of the id",
                    ids.join(", ")
                )))
            }
        }
    }

    /// `ids` and every revision before them.
    pub fn ancestors_of<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        let mut stack: Vec<String> = ids.into_iter().map(str::to_owned).collect();
        while let Some(id) = stack.pop() {
            if out.contains(&id) {
                continue;
            }
            let r = self.get(&id).ok_or_else(|| {
                migration_error(format!(
                    "the database is at revision {id}, which is not in the migrations folder"
                ))
            })?;
            stack.extend(r.parents.iter().cloned());
            out.insert(id);
        }
        Ok(out)
    }

    /// The heads of a set of applied revisions: those no other member follows.
    pub fn heads_of(&self, applied: &BTreeSet<String>) -> Vec<String> {
        let parents: HashSet<&str> = self
            .list
            .iter()
            .filter(|r| applied.contains(&r.id))
            .flat_map(|r| r.parents.iter().map(String::as_str))
            .collect();
        self.list
            .iter()
            .filter(|r| applied.contains(&r.id) && !parents.contains(r.id.as_str()))
            .map(|r| r.id.clone())
            .collect()
    }

    /// The revisions to apply, in order, to go from `applied` to `target`: `head` (the single
    /// head), `heads`, an id or unique prefix, or `+N` (the next N).
    pub fn upgrade_plan(&self, applied: &BTreeSet<String>, target: &str) -> Result<Vec<&Revision>> {
        let target = target.trim();
        let pending = |want: &BTreeSet<String>| -> Vec<&Revision> {
            self.list.iter().filter(|r| want.contains(&r.id) && !applied.contains(&r.id)).collect()
        };
        if let Some(n) = target.strip_prefix('+') {
            let n: usize = n
                .parse()
                .map_err(|_| migration_error(format!("bad upgrade target {target:?}: +N")))?;
            let all: BTreeSet<String> = match self.single_head()? {
                Some(h) => self.ancestors_of([h.id.as_str()])?,
                None => BTreeSet::new(),
            };
            let plan = pending(&all);
            if plan.len() < n {
                return Err(migration_error(format!(
                    "cannot upgrade {n} revisions: only {} are pending",
                    plan.len()
                )));
            }
            return Ok(plan.into_iter().take(n).collect());
        }
        let want = match target {
            "head" => match self.single_head()? {
                Some(h) => self.ancestors_of([h.id.as_str()])?,
                None => BTreeSet::new(),
            },
            "heads" => self.list.iter().map(|r| r.id.clone()).collect(),
            spec => {
                let r = self.resolve(spec)?;
                self.ancestors_of([r.id.as_str()])?
            }
        };
        Ok(pending(&want))
    }

    /// The revisions to undo, in order, to go from `applied` down to `target`: `base`
    /// (everything), an id or unique prefix (kept, with its ancestors), or `-N` (the last N).
    pub fn downgrade_plan(
        &self,
        applied: &BTreeSet<String>,
        target: &str,
    ) -> Result<Vec<&Revision>> {
        let target = target.trim();
        let applied_desc: Vec<&Revision> =
            self.list.iter().rev().filter(|r| applied.contains(&r.id)).collect();
        if let Some(n) = target.strip_prefix('-') {
            let n: usize = n
                .parse()
                .map_err(|_| migration_error(format!("bad downgrade target {target:?}: -N")))?;
            if applied_desc.len() < n {
                return Err(migration_error(format!(
                    "cannot downgrade {n} revisions: only {} are applied",
                    applied_desc.len()
                )));
            }
            return Ok(applied_desc.into_iter().take(n).collect());
        }
        if target == "base" {
            return Ok(applied_desc);
        }
        let r = self.resolve(target)?;
        if !applied.contains(&r.id) {
            return Err(migration_error(format!(
                "revision {} is not applied: nothing to downgrade to",
                r.id
            )));
        }
        let keep = self.ancestors_of([r.id.as_str()])?;
        Ok(applied_desc.into_iter().filter(|r| !keep.contains(&r.id)).collect())
    }

    /// The schema the given revisions build, replayed in order. `dialect`: include the steps
    /// of that dialect (`None`: only steps for every dialect).
    pub fn replay(&self, ids: &BTreeSet<String>, dialect: Option<&str>) -> Result<Schema> {
        let mut schema = Schema::default();
        for r in self.list.iter().filter(|r| ids.contains(&r.id)) {
            for (i, step) in r.ops.iter().enumerate().filter(|(_, s)| s.applies_to(dialect)) {
                schema.apply(&step.op).map_err(|e| {
                    migration_error(format!(
                        "revision {} ({}), op {} ({}): {e}",
                        r.id,
                        r.file.as_deref().unwrap_or("?"),
                        i + 1,
                        step.op.describe()
                    ))
                })?;
            }
        }
        Ok(schema)
    }

    /// The schema every revision builds (all heads).
    pub fn replay_all(&self, dialect: Option<&str>) -> Result<Schema> {
        let all = self.list.iter().map(|r| r.id.clone()).collect();
        self.replay(&all, dialect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::{IndexKey, ObjectKind, Op, SqlObject};

    #[test]
    fn glob_patterns_match_whole_names() {
        for (p, n) in
            [("ix_*", "ix_a"), ("ix_*", "ix_"), ("*", ""), ("a?c", "abc"), ("*_gin", "x_gin")]
        {
            assert!(name_matches(p, n), "{p} {n}");
        }
        for (p, n) in
            [("ix_*", "uq_a"), ("a?c", "ac"), ("ix", "ix_a"), ("*_gin", "x_gist"), ("IX_*", "ix_a")]
        {
            assert!(!name_matches(p, n), "{p} {n}");
        }
        // Backtracking past a first partial match.
        assert!(name_matches("*ab*ab", "xabyabab"));
    }

    fn rev(ops: &str) -> Result<Revisions> {
        let text = format!(
            "id = \"r1\"\nparents = []\n\n[[ops]]\nop = \"create_table\"\nname = \"posts\"\n\
             columns = [{{ name = \"id\", type = \"bigint\" }}]\n{ops}"
        );
        let r = Revisions::from_sources(&[("r1.toml", &text)])?;
        r.replay_all(Some("postgresql"))?;
        Ok(r)
    }

    #[test]
    fn index_keys_are_a_column_or_an_expression() {
        let ok =
            rev("[[ops]]\nop = \"create_index\"\ntable = \"posts\"\nindex = { name = \"ix\", \
                      columns = [\"id\", { expr = \"id + 1\", opclass = \"int8_ops\" }] }\n")
            .expect("keys");
        let Op::CreateIndex { index, .. } = &ok.all()[0].ops[1].op else { panic!() };
        assert_eq!(
            index.columns,
            [
                IndexKey::column("id"),
                IndexKey::Expr { expr: "id + 1".into(), opclass: Some("int8_ops".into()) }
            ]
        );
        for bad in [
            "{ column = \"id\", expr = \"id\" }",
            "{ opclass = \"x\" }",
            "{ expr = \" \" }",
            "{ column = \"id\", opclass = \"\" }",
            "{ column = \"id\", collate = \"C\" }",
            "{ column = \"id\", opclass = \"x); DROP TABLE posts; --\" }",
        ] {
            let ops = format!(
                "[[ops]]\nop = \"create_index\"\ntable = \"posts\"\n\
                 index = {{ name = \"ix\", columns = [{bad}] }}\n"
            );
            let err = rev(&ops).expect_err(bad).to_string();
            assert!(err.contains("r1.toml"), "{bad}: {err}");
        }
        for bad in ["using = \"gin (id); --\"", "columns = []", "where = \" \""] {
            let columns = if bad.starts_with("columns") { "" } else { "columns = [\"id\"], " };
            let ops = format!(
                "[[ops]]\nop = \"create_index\"\ntable = \"posts\"\n\
                 index = {{ name = \"ix\", {columns}{bad} }}\n"
            );
            let err = rev(&ops).expect_err(bad).to_string();
            assert!(err.contains("index \"ix\""), "{bad}: {err}");
        }
    }

    fn trigger(name: &str, table: Option<&str>) -> SqlObject {
        SqlObject::new(ObjectKind::Trigger, name, table.map(Into::into))
    }

    #[test]
    fn declared_objects_are_replayed_and_checked() {
        let sql = |creates: &str| {
            format!("[[ops]]\nop = \"sql\"\nup = \"CREATE ...\"\ncreates = [{creates}]\n")
        };
        let r = rev(&sql("{ kind = \"trigger\", name = \"t\", table = \"posts\" }")).unwrap();
        let s = r.replay_all(None).unwrap();
        assert!(s.objects.contains(&trigger("t", Some("posts"))));
        // A trigger on a table that does not exist, without a table, twice; a function on a
        // table; an unknown kind.
        for bad in [
            "{ kind = \"trigger\", name = \"t\", table = \"nope\" }",
            "{ kind = \"trigger\", name = \"t\" }",
            "{ kind = \"trigger\", name = \"t\", table = \"posts\" }, { kind = \"trigger\", name = \"t\", table = \"posts\" }",
            "{ kind = \"function\", name = \"f\", table = \"posts\" }",
            "{ kind = \"function\", name = \" \" }",
            "{ kind = \"sequence\", name = \"s\" }",
        ] {
            assert!(rev(&sql(bad)).is_err(), "{bad}");
        }
        // Dropping the table drops its triggers in the replay as in the database.
        let dropped = format!(
            "{}[[ops]]\nop = \"drop_table\"\nname = \"posts\"\ncolumns = []\n",
            sql("{ kind = \"trigger\", name = \"t\", table = \"posts\" }")
        );
        assert!(rev(&dropped).unwrap().replay_all(None).unwrap().objects.is_empty());
    }

    #[test]
    fn an_sql_op_without_down_is_undone_by_dropping_what_it_created() {
        let created = vec![trigger("t", Some("posts"))];
        let op = Op::Sql {
            up: "CREATE ...".into(),
            down: None,
            creates: created.clone(),
            drops: vec![],
        };
        assert_eq!(
            op.inverse().unwrap(),
            Op::Sql { up: String::new(), down: None, creates: vec![], drops: created.clone() }
        );
        assert_eq!(op.inverse().unwrap().describe(), "drop trigger t on posts");
        // Nothing declared, or objects it drops (which it cannot re-create): no downgrade.
        let bare = Op::Sql { up: "x".into(), down: None, creates: vec![], drops: vec![] };
        assert!(bare.inverse().is_err());
        let drops =
            Op::Sql { up: "x".into(), down: None, creates: created.clone(), drops: created };
        assert!(drops.inverse().is_err());
        // With `down`, what it creates and drops swap.
        let both = Op::Sql {
            up: "a".into(),
            down: Some("b".into()),
            creates: vec![trigger("new", Some("posts"))],
            drops: vec![trigger("old", Some("posts"))],
        };
        let Op::Sql { creates, drops, .. } = both.inverse().unwrap() else { panic!() };
        assert_eq!((creates[0].name.as_str(), drops[0].name.as_str()), ("old", "new"));
    }
}
