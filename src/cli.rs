//! The `db` command line, for a binary of your own application so that it sees your compiled
//! models (they register themselves):
//!
//! ```text
//! // src/bin/db.rs
//! fn main() {
//!     orm::cli::main()
//! }
//! ```
//!
//! With the alias `db = "run --quiet --bin db --"` in `.cargo/config.toml`, the commands read as
//! Flask-Migrate's: `cargo db init`, `cargo db migrate -m "add age"`, `cargo db upgrade`,
//! `cargo db downgrade`, `cargo db current`, `history`, `heads`, `stamp`, `merge`, `check`,
//! `sql`, and `models` (model source for an existing database). The database is
//! `--database-url` or `$DATABASE_URL`. Output is plain text (no colours), so it reads the same
//! in a terminal, a pipe or a CI log.

use crate::migrate::{
    autogenerate, differences, models_source, render_revision, Direction, Migrator, ModelsOptions,
    Revision, Revisions,
};
use crate::{Database, Dialect, Error, Result, TableSchema};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::io::Write;
use std::path::{Path, PathBuf};

const DEFAULT_DIR: &str = "migrations";

fn command() -> Command {
    let rev = |name: &'static str, help: &'static str| Arg::new(name).help(help);
    Command::new("db")
        .about(
            "Database migrations: autogenerate revisions from your models, apply and revert them",
        )
        .disable_colored_help(true)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("database-url")
                .long("database-url")
                .global(true)
                .value_name("URL")
                .help("The database (default: $DATABASE_URL)"),
        )
        .arg(
            Arg::new("directory")
                .short('d')
                .long("directory")
                .global(true)
                .value_name("DIR")
                .help("The migrations folder [default: migrations]"),
        )
        .subcommand(Command::new("init").about("Create the migrations folder"))
        .subcommand(
            Command::new("migrate")
                .about("Autogenerate a revision from the models (no database needed)")
                .arg(
                    Arg::new("message")
                        .short('m')
                        .long("message")
                        .value_name("MESSAGE")
                        .help("What the revision does"),
                ),
        )
        .subcommand(
            Command::new("upgrade")
                .about("Upgrade the database to a later revision")
                .arg(rev("revision", "head (default), heads, a revision id (or prefix), +N"))
                .arg(
                    Arg::new("sql")
                        .long("sql")
                        .action(ArgAction::SetTrue)
                        .help("Print the SQL instead of running it"),
                ),
        )
        .subcommand(
            Command::new("downgrade")
                .about("Revert the database to an earlier revision")
                .arg(
                    rev("revision", "-1 (default), -N, a revision id (or prefix), base")
                        .allow_hyphen_values(true),
                )
                .arg(
                    Arg::new("sql")
                        .long("sql")
                        .action(ArgAction::SetTrue)
                        .help("Print the SQL instead of running it"),
                ),
        )
        .subcommand(Command::new("current").about("Show the revision(s) the database is at"))
        .subcommand(Command::new("history").about("List the revisions, newest first"))
        .subcommand(Command::new("heads").about("Show the newest revision(s)"))
        .subcommand(
            Command::new("stamp")
                .about("Record a revision as the database's without running anything")
                .arg(rev("revision", "head, heads, base or a revision id").required(true)),
        )
        .subcommand(
            Command::new("merge")
                .about("Write a revision joining two or more heads")
                .arg(
                    Arg::new("message")
                        .short('m')
                        .long("message")
                        .value_name("MESSAGE")
                        .help("What the merge is"),
                )
                .arg(Arg::new("revisions").num_args(0..).help("The heads to join (default: all)")),
        )
        .subcommand(
            Command::new("check").about(
                "Fail, listing the differences, when models, revisions and database disagree",
            ),
        )
        .subcommand(
            Command::new("models")
                .about(
                    "Write #[derive(Model)] source describing the database (adopt an existing one)",
                )
                .arg(
                    Arg::new("output")
                        .short('o')
                        .long("output")
                        .value_name("FILE")
                        .help("Write the source to FILE instead of standard output"),
                )
                .arg(
                    Arg::new("decimal")
                        .long("decimal")
                        .action(ArgAction::SetTrue)
                        .help("NUMERIC columns as orm::Decimal (the `decimal` feature)"),
                ),
        )
        .subcommand(
            Command::new("sql")
                .about("Print the SQL of a range of revisions for a dialect, without a database")
                .arg(
                    rev(
                        "range",
                        "TO (from base: head, an id, +N), or FROM:TO; with --down, TO (from the \
                         heads: -N, an id, base) or FROM:TO going down [default: head; with \
                         --down: -1, undoing the newest revision]",
                    )
                    .allow_hyphen_values(true),
                )
                .arg(
                    Arg::new("dialect")
                        .long("dialect")
                        .value_name("DIALECT")
                        .help("sqlite or postgresql (default: the database URL's)"),
                )
                .arg(
                    Arg::new("down")
                        .long("down")
                        .action(ArgAction::SetTrue)
                        .help("The downgrade's SQL"),
                ),
        )
}

/// Runs the command line of this process with the registered models and exits with its
/// status: 0, or 1 after printing the error (or `check`'s differences) to standard error.
pub fn main() {
    let mut out = std::io::stdout();
    let code = run(std::env::args_os(), &crate::registered_tables(), &mut out);
    let _ = out.flush();
    std::process::exit(code);
}

/// Runs one command line (`args[0]` is the program's name) against `models`, writing to `out`
/// and errors to standard error; returns the exit status.
pub fn run<I, T>(args: I, models: &[&'static TableSchema], out: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match dispatch(&matches, models, out) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

struct Ctx<'a> {
    dir: PathBuf,
    url: Option<String>,
    out: &'a mut dyn Write,
}

impl Ctx<'_> {
    fn say(&mut self, line: impl AsRef<str>) -> Result<()> {
        writeln!(self.out, "{}", line.as_ref()).map_err(|e| Error::InvalidUse(e.to_string()))
    }

    fn revisions(&self) -> Result<Revisions> {
        Revisions::load_dir(&self.dir)
    }

    fn database(&self) -> Result<Database> {
        match &self.url {
            Some(url) => Database::connect(url),
            None => {
                Err(Error::Config("no database: set DATABASE_URL or pass --database-url".into()))
            }
        }
    }
}

fn dispatch(m: &ArgMatches, models: &[&'static TableSchema], out: &mut dyn Write) -> Result<i32> {
    let Some((name, sub)) = m.subcommand() else { return Ok(2) };
    let dir = sub
        .get_one::<String>("directory")
        .or_else(|| m.get_one::<String>("directory"))
        .map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from);
    let url = sub
        .get_one::<String>("database-url")
        .or_else(|| m.get_one::<String>("database-url"))
        .cloned()
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.trim().is_empty()));
    let mut cx = Ctx { dir, url, out };
    let arg = |key: &str| sub.get_one::<String>(key).cloned();
    match name {
        "init" => init(&mut cx),
        "migrate" => migrate(&mut cx, models, arg("message").as_deref().unwrap_or("")),
        "upgrade" => {
            let target = arg("revision").unwrap_or_else(|| "head".into());
            if sub.get_flag("sql") {
                sql(&mut cx, None, &target, false)
            } else {
                upgrade(&mut cx, &target)
            }
        }
        "downgrade" => {
            let target = arg("revision").unwrap_or_else(|| "-1".into());
            if sub.get_flag("sql") {
                sql(&mut cx, None, &target, true)
            } else {
                downgrade(&mut cx, &target)
            }
        }
        "current" => current(&mut cx),
        "history" => history(&mut cx),
        "heads" => heads(&mut cx),
        "stamp" => stamp(&mut cx, &arg("revision").unwrap_or_default()),
        "merge" => {
            let revs: Vec<String> = sub
                .get_many::<String>("revisions")
                .map(|v| v.cloned().collect())
                .unwrap_or_default();
            merge(&mut cx, &revs, arg("message").as_deref().unwrap_or("merge heads"))
        }
        "check" => check(&mut cx, models),
        "models" => models_command(&mut cx, arg("output").as_deref(), sub.get_flag("decimal")),
        "sql" => {
            let down = sub.get_flag("down");
            // Like `downgrade`, whose default undoes one revision (Alembic's `downgrade --sql`
            // needs a FROM:TO range; from the heads is what a user means here).
            let range = arg("range").unwrap_or_else(|| if down { "-1" } else { "head" }.into());
            let dialect = arg("dialect");
            sql(&mut cx, dialect.as_deref(), &range, down)
        }
        _ => Ok(2),
    }
}

const FOLDER_README: &str = "\
# Migrations

Each `.toml` file here is one revision: its `id`, its `parents`, a `message`, and a list of
`[[ops]]` that upgrade the database; a downgrade runs each op's inverse in reverse order.
Review and edit them freely: autogeneration replays these files, it never rewrites them.

- `cargo db migrate -m \"message\"`: write a revision from the changes to the models
- `cargo db upgrade` / `cargo db downgrade`: apply / revert revisions
- `cargo db history`, `current`, `heads`, `check`, `sql`: look around

Raw SQL steps (triggers, views, data fixes) are ops too:

```toml
[[ops]]
op = \"sql\"
dialect = \"postgresql\"          # optional: only on this backend
up = '''
CREATE INDEX ix_posts_search ON posts USING GIN (to_tsvector('english', content));
'''
down = '''
DROP INDEX ix_posts_search;
'''
```
";

fn init(cx: &mut Ctx<'_>) -> Result<i32> {
    let io = |e: std::io::Error| Error::Migration(format!("{}: {e}", cx_dir_display(&cx.dir)));
    if cx.dir.exists() && std::fs::read_dir(&cx.dir).map_err(io)?.next().is_some() {
        return Err(Error::Migration(format!("{} exists and is not empty", cx.dir.display())));
    }
    std::fs::create_dir_all(&cx.dir).map_err(io)?;
    std::fs::write(cx.dir.join("README.md"), FOLDER_README).map_err(io)?;
    let dir = cx.dir.display().to_string();
    cx.say(format!("Created {dir}/ (revisions go here as .toml files)"))?;
    cx.say(format!("Created {dir}/README.md"))?;
    cx.say("Next: `cargo db migrate -m \"initial\"` writes the first revision from your models.")?;
    Ok(0)
}

fn cx_dir_display(p: &Path) -> String {
    p.display().to_string()
}

fn write_revision(cx: &mut Ctx<'_>, rev: &Revision) -> Result<PathBuf> {
    let path = cx.dir.join(rev.file_name());
    std::fs::write(&path, rev.to_toml())
        .map_err(|e| Error::Migration(format!("writing {}: {e}", path.display())))?;
    Ok(path)
}

fn migrate(cx: &mut Ctx<'_>, models: &[&'static TableSchema], message: &str) -> Result<i32> {
    let revisions = cx.revisions()?;
    match autogenerate(&revisions, models, message)? {
        None => {
            cx.say("No changes in the models: no revision written.")?;
        }
        Some(rev) => {
            for step in &rev.ops {
                cx.say(format!("Detected {}", step.op.describe()))?;
            }
            let path = write_revision(cx, &rev)?;
            cx.say(format!("Generated {} (review it before `upgrade`)", path.display()))?;
        }
    }
    Ok(0)
}

fn parent_text(rev: &Revision) -> String {
    if rev.parents.is_empty() {
        "<base>".into()
    } else {
        rev.parents.join(", ")
    }
}

fn upgrade(cx: &mut Ctx<'_>, target: &str) -> Result<i32> {
    let revisions = cx.revisions()?;
    let db = cx.database()?;
    let mut lines = Vec::new();
    let result = Migrator::new(db.engine(), &revisions).upgrade_with(target, &mut |r| {
        lines.push(format!("Running upgrade {} -> {}, {}", parent_text(r), r.id, r.message));
    });
    for l in &lines {
        cx.say(l)?;
    }
    let done = result?;
    if done.is_empty() {
        cx.say("Nothing to upgrade: the database is at the target.")?;
    }
    Ok(0)
}

fn downgrade(cx: &mut Ctx<'_>, target: &str) -> Result<i32> {
    let revisions = cx.revisions()?;
    let db = cx.database()?;
    let mut lines = Vec::new();
    let result = Migrator::new(db.engine(), &revisions).downgrade_with(target, &mut |r| {
        lines.push(format!("Running downgrade {} -> {}, {}", r.id, parent_text(r), r.message));
    });
    for l in &lines {
        cx.say(l)?;
    }
    let done = result?;
    if done.is_empty() {
        cx.say("Nothing to downgrade.")?;
    }
    Ok(0)
}

fn head_mark(revisions: &Revisions, id: &str) -> &'static str {
    if revisions.head_ids().iter().any(|h| h == id) {
        " (head)"
    } else {
        ""
    }
}

fn current(cx: &mut Ctx<'_>) -> Result<i32> {
    let revisions = cx.revisions()?;
    let db = cx.database()?;
    let heads = Migrator::new(db.engine(), &revisions).current()?;
    if heads.is_empty() {
        cx.say("No revision applied (base).")?;
    }
    for h in heads {
        let message = revisions.get(&h).map(|r| r.message.clone()).unwrap_or_default();
        cx.say(format!("{h}{}, {message}", head_mark(&revisions, &h)))?;
    }
    Ok(0)
}

fn history(cx: &mut Ctx<'_>) -> Result<i32> {
    let revisions = cx.revisions()?;
    if revisions.is_empty() {
        cx.say("No revisions yet: `migrate -m \"message\"` writes the first.")?;
    }
    for r in revisions.all().iter().rev() {
        cx.say(format!(
            "{} -> {}{}, {} ({})",
            parent_text(r),
            r.id,
            head_mark(&revisions, &r.id),
            r.message,
            r.created
        ))?;
    }
    Ok(0)
}

fn heads(cx: &mut Ctx<'_>) -> Result<i32> {
    let revisions = cx.revisions()?;
    let heads = revisions.heads();
    if heads.len() > 1 {
        cx.say(format!("{} heads: join them with `merge`.", heads.len()))?;
    }
    let lines: Vec<String> =
        heads.iter().map(|r| format!("{} (head), {}", r.id, r.message)).collect();
    for l in lines {
        cx.say(l)?;
    }
    Ok(0)
}

fn stamp(cx: &mut Ctx<'_>, target: &str) -> Result<i32> {
    let revisions = cx.revisions()?;
    let db = cx.database()?;
    let heads = Migrator::new(db.engine(), &revisions).stamp(target)?;
    cx.say(format!(
        "Stamped the database at {}",
        if heads.is_empty() { "base".into() } else { heads.join(", ") }
    ))?;
    Ok(0)
}

fn merge(cx: &mut Ctx<'_>, given: &[String], message: &str) -> Result<i32> {
    let revisions = cx.revisions()?;
    let parents: Vec<String> = if given.is_empty() {
        revisions.head_ids()
    } else {
        given.iter().map(|g| revisions.resolve(g).map(|r| r.id.clone())).collect::<Result<_>>()?
    };
    if parents.len() < 2 {
        cx.say("Only one head: nothing to merge.")?;
        return Ok(0);
    }
    let rev = Revision::new(parents, message, Vec::new());
    let path = write_revision(cx, &rev)?;
    cx.say(format!("Generated {} joining {}", path.display(), rev.parents.join(", ")))?;
    Ok(0)
}

fn check(cx: &mut Ctx<'_>, models: &[&'static TableSchema]) -> Result<i32> {
    let revisions = cx.revisions()?;
    let mut problems = Vec::new();
    if models.is_empty() {
        problems.push("no model is registered in this program".to_owned());
    } else {
        for d in differences(&revisions, models)? {
            problems.push(format!("models differ from the migrations: {d} (run `migrate`)"));
        }
    }
    let heads = revisions.head_ids();
    if heads.len() > 1 {
        problems.push(format!("several heads: {} (run `merge`)", heads.join(", ")));
    }
    if cx.url.is_some() {
        let db = cx.database()?;
        let migrator = Migrator::new(db.engine(), &revisions);
        let mut at = migrator.current()?;
        at.sort();
        let mut want = heads.clone();
        want.sort();
        if at != want {
            problems.push(format!(
                "the database is at {}, the migrations at {} (run `upgrade`)",
                if at.is_empty() { "base".into() } else { at.join(", ") },
                if want.is_empty() { "base".into() } else { want.join(", ") }
            ));
        }
        for d in migrator.database_differences()? {
            problems.push(format!("the database differs from its revision: {d}"));
        }
    }
    if problems.is_empty() {
        cx.say(if cx.url.is_some() {
            "OK: models, migrations and database agree."
        } else {
            "OK: models and migrations agree."
        })?;
        return Ok(0);
    }
    for p in &problems {
        eprintln!("{p}");
    }
    eprintln!("check failed: {} difference(s)", problems.len());
    Ok(1)
}

/// `url` without what may be secret: the user and password (all before the last `@`, so a
/// password holding `/`, `?` or `@` goes too), then the query string.
fn redacted_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let place = rest.rsplit_once('@').map_or(rest, |(_, place)| place);
            format!("{scheme}://{}", place.split('?').next().unwrap_or(""))
        }
        None => url.split('?').next().unwrap_or("").to_owned(),
    }
}

/// `models`: reflects the database and writes model source for it (names that
/// `migrations.toml` ignores are left out).
fn models_command(cx: &mut Ctx<'_>, output: Option<&str>, decimal: bool) -> Result<i32> {
    let revisions = if cx.dir.is_dir() { cx.revisions()? } else { Revisions::new(Vec::new())? };
    let db = cx.database()?;
    let schema = Migrator::new(db.engine(), &revisions).reflect()?;
    let schema = schema.without(&|name| revisions.ignores(name));
    let source = format!(
        "the {} database {}",
        db.engine().dialect().name(),
        redacted_url(cx.url.as_deref().unwrap_or(""))
    );
    let generated = models_source(&schema, &ModelsOptions::new(source).with_decimal(decimal));
    for n in &generated.notes {
        eprintln!("note: {n}");
    }
    match output {
        Some(path) => {
            std::fs::write(path, &generated.text)
                .map_err(|e| Error::InvalidUse(format!("writing {path}: {e}")))?;
            cx.say(format!(
                "Wrote {path}: {} table(s), {} enum type(s)",
                schema.tables.len(),
                schema.enums.len()
            ))?;
        }
        None => {
            write!(cx.out, "{}", generated.text).map_err(|e| Error::InvalidUse(e.to_string()))?;
        }
    }
    Ok(0)
}

/// The dialect named `name`: `sqlite` or `postgresql` (`postgres`).
pub fn dialect_named(name: &str) -> Result<&'static dyn Dialect> {
    match name.to_ascii_lowercase().as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => Ok(&orm_sqlite::DIALECT),
        #[cfg(feature = "postgres")]
        "postgresql" | "postgres" => Ok(&orm_postgres::DIALECT),
        other => Err(Error::Config(format!(
            "unknown dialect {other:?}: expected sqlite or postgresql (of the enabled backends)"
        ))),
    }
}

/// The migration dialect of an enabled backend by name, for `db sql --dialect` (no database).
pub fn migration_dialect_named(
    name: &str,
) -> Result<&'static dyn crate::migrate::MigrationDialect> {
    match name.to_ascii_lowercase().as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => Ok(orm_sqlite::MIGRATIONS),
        #[cfg(feature = "postgres")]
        "postgresql" | "postgres" => Ok(orm_postgres::MIGRATIONS),
        other => Err(Error::Config(format!(
            "unknown dialect {other:?}: expected sqlite or postgresql (of the enabled backends)"
        ))),
    }
}

fn sql(cx: &mut Ctx<'_>, dialect: Option<&str>, range: &str, down: bool) -> Result<i32> {
    let revisions = cx.revisions()?;
    let name = match (dialect, &cx.url) {
        (Some(d), _) => d.to_owned(),
        (None, Some(url)) => url.split(':').next().unwrap_or("").to_owned(),
        (None, None) => {
            return Err(Error::Config(
                "which dialect? pass --dialect sqlite|postgresql (or a database URL)".into(),
            ))
        }
    };
    let md = migration_dialect_named(&name)?;
    let (from, to) = match range.split_once(':') {
        Some((a, b)) => (Some(a.trim()), b.trim()),
        None => (None, range.trim()),
    };
    let start: std::collections::BTreeSet<String> = match (down, from) {
        (true, None | Some("heads")) => {
            revisions.ancestors_of(revisions.head_ids().iter().map(String::as_str))?
        }
        (false, None | Some("base")) => Default::default(),
        (_, Some("head")) => {
            revisions.ancestors_of(revisions.single_head()?.map(|r| r.id.as_str()))?
        }
        (_, Some(s)) => revisions.ancestors_of([revisions.resolve(s)?.id.as_str()])?,
    };
    let plan: Vec<&Revision> = if down {
        revisions.downgrade_plan(&start, to)?
    } else {
        revisions.upgrade_plan(&start, to)?
    };
    let mut applied = start.clone();
    cx.say(format!(
        "-- {} SQL for {}, {}",
        if down { "Downgrade" } else { "Upgrade" },
        md.name(),
        range
    ))?;
    cx.say(format!("{};", md.version_table_sql()))?;
    for rev in plan {
        let direction = if down { Direction::Down } else { Direction::Up };
        let statements = render_revision(md, &revisions, rev, direction)?;
        cx.say("")?;
        cx.say(format!("-- Revision {}: {}", rev.id, rev.message))?;
        for s in md.before_revision_sql() {
            cx.say(format!("{s};"))?;
        }
        cx.say(format!("{};", md.begin_sql()))?;
        if let Some(lock) = md.lock_sql() {
            cx.say(format!("{lock};"))?;
        }
        for s in statements {
            cx.say(s.to_script())?;
        }
        if let Some(check) = md.integrity_check_sql() {
            cx.say(format!("{check}; -- must return no row"))?;
        }
        if down {
            applied.remove(&rev.id);
        } else {
            applied.insert(rev.id.clone());
        }
        for s in md.write_versions_sql(&revisions.heads_of(&applied)) {
            cx.say(format!("{s};"))?;
        }
        cx.say("COMMIT;")?;
        for s in md.after_revision_sql() {
            cx.say(format!("{s};"))?;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::command;

    /// `sql`'s help states the defaults that `dispatch` applies (tests/cli.rs runs them).
    #[test]
    fn sql_help_states_both_defaults() {
        let cmd = command();
        let sql = cmd.find_subcommand("sql").expect("sql subcommand");
        let range = sql.get_arguments().find(|a| a.get_id() == "range").expect("range");
        let help = range.get_help().map(|h| h.to_string()).unwrap_or_default();
        assert!(help.contains("[default: head; with --down: -1"), "{help}");
    }
}
