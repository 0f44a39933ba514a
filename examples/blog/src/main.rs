//! The blog's command line:
//!
//! ```text
//! blog db upgrade                      apply the embedded migrations (other `db` commands:
//!                                      the `cargo db` command line, see migrations/README.md)
//! blog serve --addr 127.0.0.1:8000     serve the JSON API
//! blog seed --users 1000               add users with posts, comments and tags
//! ```
//!
//! `--echo` (before or after the command) prints every SQL statement. The database is
//! `$DATABASE_URL`, or `sqlite://blog.db`; the pool is sized by `POOL_SIZE`, `MAX_OVERFLOW`
//! and `POOL_TIMEOUT`.

use blog::config::Config;
use blog::seed::SeedOptions;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::process::ExitCode;

fn command() -> Command {
    Command::new("blog")
        .about("The tutorial blog: a JSON API over the ORM")
        .disable_colored_help(true)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("echo")
                .long("echo")
                .global(true)
                .action(ArgAction::SetTrue)
                .help("Print every SQL statement with its parameters and time"),
        )
        .subcommand(
            Command::new("db")
                .about("Database migrations: `db upgrade` applies the embedded revisions; other commands as `cargo db`")
                .arg(Arg::new("args").num_args(0..).trailing_var_arg(true).allow_hyphen_values(true)),
        )
        .subcommand(
            Command::new("serve").about("Serve the JSON API").arg(
                Arg::new("addr")
                    .long("addr")
                    .value_name("ADDR")
                    .default_value("127.0.0.1:8000")
                    .help("The address to listen on"),
            ),
        )
        .subcommand(
            Command::new("seed")
                .about("Add users with posts, comments and tags")
                .arg(number_arg("users", "Users to add", "100"))
                .arg(number_arg("posts", "Posts per user", "10"))
                .arg(number_arg("comments", "Comments per post", "5"))
                .arg(number_arg("batch", "Users per transaction", "100")),
        )
}

fn number_arg(name: &'static str, help: &'static str, default: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .value_name("N")
        .default_value(default)
        .value_parser(clap::value_parser!(u64))
        .help(help)
}

fn number(m: &ArgMatches, name: &str) -> u64 {
    m.get_one::<u64>(name).copied().unwrap_or_default()
}

fn main() -> ExitCode {
    let matches = command().get_matches();
    match run(&matches) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(matches: &ArgMatches) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut config = Config::from_env(|k| std::env::var(k).ok())?;
    config.echo = matches.get_flag("echo");
    match matches.subcommand() {
        Some(("db", m)) => {
            let args: Vec<String> =
                m.get_many::<String>("args").into_iter().flatten().cloned().collect();
            if args.first().map(String::as_str) == Some("upgrade") && args.len() == 1 {
                let db = config.connect()?;
                let applied = blog::MIGRATIONS.upgrade(&db)?;
                println!("applied {} revision(s)", applied.len());
                return Ok(ExitCode::SUCCESS);
            }
            // Anything else is the ORM's command line, on this crate's migrations folder.
            let mut cli =
                vec!["db".to_owned(), "--database-url".into(), config.database_url.clone()];
            if !args.iter().any(|a| a == "-d" || a.starts_with("--directory")) {
                cli.push("--directory".into());
                cli.push(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations").into());
            }
            cli.extend(args);
            let code = orm::cli::run(cli, &orm::registered_tables(), &mut std::io::stdout());
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
        }
        Some(("serve", m)) => {
            let addr = m.get_one::<String>("addr").cloned().unwrap_or_default();
            let db = config.connect()?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&addr).await?;
                println!("listening on http://{}", listener.local_addr()?);
                blog::api::serve(listener, db).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Some(("seed", m)) => {
            let db = config.connect()?;
            let options = SeedOptions {
                users: number(m, "users"),
                posts_per_user: number(m, "posts"),
                comments_per_post: number(m, "comments"),
                batch: number(m, "batch").max(1),
                progress: true,
            };
            let started = std::time::Instant::now();
            let r = blog::seed::seed(&db, options)?;
            println!(
                "added {} users, {} posts, {} comments in {:.2} s",
                r.users,
                r.posts,
                r.comments,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => Ok(ExitCode::FAILURE),
    }
}
