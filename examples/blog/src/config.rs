//! Configuration as the tutorials' `config.py`: `DATABASE_URL` with a SQLite fallback, the
//! pool from `POOL_SIZE`, `MAX_OVERFLOW` and `POOL_TIMEOUT`, and `--echo` to log every
//! statement.

use orm::{Database, Error};
use std::time::Duration;

/// The database used when `DATABASE_URL` is unset: `blog.db` in the current folder.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://blog.db";

/// How to reach the database.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// `DATABASE_URL`, or [`DEFAULT_DATABASE_URL`].
    pub database_url: String,
    /// `POOL_SIZE`: connections kept open (the URL's or the backend's default when unset).
    pub pool_size: Option<u32>,
    /// `MAX_OVERFLOW`: connections opened beyond `pool_size` under load.
    pub max_overflow: Option<u32>,
    /// `POOL_TIMEOUT` in seconds: how long a request waits for a connection.
    pub pool_timeout: Option<Duration>,
    /// Print every statement, its parameters and its time on standard error.
    pub echo: bool,
}

impl Config {
    /// Reads the environment through `var` (`std::env::var(..).ok()` in the program). A
    /// setting that is not a number is an `Error::Config` naming it.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> orm::Result<Config> {
        let set = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let number = |name: &str| -> orm::Result<Option<u32>> {
            set(name)
                .map(|v| {
                    v.parse::<u32>().map_err(|_| {
                        Error::Config(format!("{name} must be a whole number, not {v:?}"))
                    })
                })
                .transpose()
        };
        let pool_timeout = set("POOL_TIMEOUT")
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                    .ok_or_else(|| {
                        Error::Config(format!(
                            "POOL_TIMEOUT must be a number of seconds, not {v:?}"
                        ))
                    })
            })
            .transpose()?;
        Ok(Config {
            database_url: set("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            pool_size: number("POOL_SIZE")?,
            max_overflow: number("MAX_OVERFLOW")?,
            pool_timeout,
            echo: false,
        })
    }

    /// Connects. The pool holds at most `pool_size + max_overflow` connections; a setting
    /// left unset takes the URL's option or the ORM's default for the backend (10 + 10 on
    /// PostgreSQL, 5 + 0 for a SQLite file; see "The pool" in the ORM's README).
    pub fn connect(&self) -> orm::Result<Database> {
        let mut options = Database::options();
        if let Some(n) = self.pool_size {
            options = options.pool_size(n);
        }
        if let Some(n) = self.max_overflow {
            options = options.max_overflow(n);
        }
        if let Some(t) = self.pool_timeout {
            options = options.pool_timeout(t);
        }
        let db = options.connect(&self.database_url)?;
        if self.echo {
            db.add_listener(std::sync::Arc::new(|ev: &orm::StatementEvent<'_>| {
                let params: Vec<String> = ev.params.iter().map(sql_literal).collect();
                eprintln!(
                    "SQL {:.3} ms: {} [{}]",
                    ev.elapsed.as_secs_f64() * 1000.0,
                    ev.sql,
                    params.join(", ")
                );
            }));
        }
        Ok(db)
    }
}

/// A parameter as SQL would write it: `'text'`, `42`, `NULL` (for the echo, not for SQL).
fn sql_literal(v: &orm::Value) -> String {
    use orm::Value as V;
    let quote = |t: &str| format!("'{}'", t.replace('\'', "''"));
    match v {
        V::Null => "NULL".into(),
        V::Bool(b) => b.to_string(),
        V::Int(i) => i.to_string(),
        V::Float(f) => f.to_string(),
        V::Text(t) => quote(t),
        V::Blob(b) => format!("<{} bytes>", b.len()),
        V::Uuid(u) => quote(&u.to_string()),
        V::Timestamp(t) => quote(&t.to_rfc3339()),
        V::DateTime(t) => quote(&t.to_string()),
        V::Date(d) => quote(&d.to_string()),
        V::Json(j) => quote(&j.to_string()),
        V::TextArray(a) => quote(&serde_json::to_string(a).unwrap_or_default()),
        V::IntArray(a) => quote(&serde_json::to_string(a).unwrap_or_default()),
        V::List(items) => {
            format!("({})", items.iter().map(sql_literal).collect::<Vec<_>>().join(", "))
        }
        V::Enum { label, .. } => quote(label),
        _ => "?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_environment_sets_the_url_and_the_pool() {
        let c = Config::from_env(env(&[
            ("DATABASE_URL", "postgresql://u@h/db"),
            ("POOL_SIZE", "4"),
            ("MAX_OVERFLOW", "2"),
            ("POOL_TIMEOUT", "1.5"),
        ]))
        .unwrap();
        assert_eq!(c.database_url, "postgresql://u@h/db");
        assert_eq!(c.pool_size, Some(4));
        assert_eq!(c.max_overflow, Some(2));
        assert_eq!(c.pool_timeout, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn unset_or_empty_falls_back_to_sqlite() {
        let c = Config::from_env(env(&[("DATABASE_URL", "  ")])).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.pool_size, None);
    }

    /// The settings reach the pool: with one connection held by a transaction, a second
    /// session waits `POOL_TIMEOUT` and fails with `PoolTimeout`.
    #[test]
    fn the_pool_takes_the_settings() {
        let dir = std::env::temp_dir().join(format!("blog-pool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/pool.db", dir.display());
        let c = Config::from_env(env(&[
            ("DATABASE_URL", url.as_str()),
            ("POOL_SIZE", "1"),
            ("MAX_OVERFLOW", "0"),
            ("POOL_TIMEOUT", "0.2"),
        ]))
        .unwrap();
        let db = c.connect().unwrap();
        let mut holder = db.session();
        holder.execute_ddl("CREATE TABLE t (x INTEGER)").unwrap();
        holder.sql("INSERT INTO t VALUES (1)").execute().unwrap(); // a transaction holds the one connection
        let started = std::time::Instant::now();
        let err = db.session().sql("SELECT x FROM t").all::<(i64,)>().unwrap_err();
        assert!(matches!(err, Error::PoolTimeout { .. }), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
        holder.rollback().unwrap();
        drop((holder, db));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bad_number_is_a_config_error_naming_it() {
        let e = Config::from_env(env(&[("POOL_SIZE", "ten")])).unwrap_err();
        assert!(e.to_string().contains("POOL_SIZE must be a whole number, not \"ten\""), "{e}");
        let e = Config::from_env(env(&[("POOL_TIMEOUT", "-1")])).unwrap_err();
        assert!(e.to_string().contains("POOL_TIMEOUT"), "{e}");
    }
}
