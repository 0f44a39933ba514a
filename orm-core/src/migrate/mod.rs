//! Migrations, in the manner of Alembic / Flask-Migrate.
//!
//! - [`schema`]: an owned, comparable schema, built from the models or by replaying revisions.
//! - [`ops`]: the operations a revision holds, how each changes a schema, and each one's inverse.
//! - [`revision`]: revision files (TOML a person reviews and edits) and the graph they form.
//! - [`autogen`]: the ops from the replayed revisions to the models; no database needed.
//! - [`codegen`]: model source from a reflected schema (`cargo db models`).
//! - [`dialect`]: [`MigrationDialect`], how a backend writes each op (and reflects a schema).
//! - [`runner`]: [`Migrator`], upgrade / downgrade / stamp in one transaction per revision; and
//!   [`create_all`] / [`drop_all`], which create (drop) what the models describe with the very
//!   ops and DDL a migration would, so `create_all` and `upgrade` give the same schema.
//!
//! Revisions can be compiled into a program with `embed_migrations!("migrations")` (see
//! [`EmbeddedMigrations`]) and applied at start-up with one call.
//!
//! The `db` command line (`orm::cli::main()`) drives all of this; programs and tests can too:
//!
//! ```
//! use orm::migrate::{autogenerate, Migrator, Revisions};
//! use orm::prelude::*;
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! #[orm(table = "notes")]
//! pub struct Note {
//!     #[orm(primary_key)]
//!     pub id: i64,
//!     #[orm(index)]
//!     pub title: String,
//! }
//!
//! # fn main() -> orm::Result<()> {
//! // `cargo db migrate -m "notes"`: a revision from the models, as the text of its file.
//! let none = Revisions::new(Vec::new())?;
//! let rev = autogenerate(&none, &[Note::TABLE], "notes")?.expect("something to do");
//! let file = rev.to_toml();
//! assert!(file.contains("create_table"));
//! // The folder, as `Revisions::load_dir("migrations")` or `embed_migrations!` reads it.
//! let revisions = Revisions::from_sources(&[(rev.file_name().as_str(), file.as_str())])?;
//!
//! // `cargo db upgrade` / `current` / `downgrade base`.
//! let db = Database::connect("sqlite::memory:")?;
//! let migrator = Migrator::new(db.engine(), &revisions);
//! assert_eq!(migrator.upgrade("head")?, [rev.id.clone()]);
//! assert_eq!(migrator.current()?, [rev.id.clone()]);
//! assert!(migrator.database_differences()?.is_empty()); // `cargo db check`
//! migrator.downgrade("base")?;
//! assert!(migrator.current()?.is_empty());
//! # Ok(()) }
//! ```

pub mod autogen;
pub mod codegen;
pub mod dialect;
pub mod ops;
pub mod revision;
pub mod runner;
pub mod schema;

pub use autogen::{
    autogenerate, create_ops, diff, diff_ignoring, diff_schemas, differences, drop_ops,
};
pub use codegen::{models_source, ModelsOptions, ModelsSource};
pub use dialect::{MigrationDialect, Statement, VERSION_TABLE};
pub use ops::{Op, Step};
pub use revision::{name_matches, FolderConfig, Revision, Revisions};
pub use runner::{
    create_all, create_statements, drop_all, migration_dialect, render_ops, render_revision,
    Direction, Migrator,
};
pub use schema::{
    creation_order, Check, Column, CreationOrder, ForeignKey, Index, IndexKey, Literal, ObjectKind,
    Schema, SqlObject, Table, Unique,
};

/// The one column type enum, re-exported here for revision-writing code.
pub use crate::schema::ColumnType;

use crate::engine::Engine;
use crate::error::Result;

/// Revision files compiled into a program by `embed_migrations!("migrations")`: their names
/// and texts.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigrations {
    files: &'static [(&'static str, &'static str)],
}

impl EmbeddedMigrations {
    /// Revision files given as `(name, text)` pairs.
    pub const fn new(files: &'static [(&'static str, &'static str)]) -> Self {
        EmbeddedMigrations { files }
    }

    /// The files, as `(name, text)`.
    pub fn files(&self) -> &'static [(&'static str, &'static str)] {
        self.files
    }

    /// The revisions, parsed and checked.
    pub fn revisions(&self) -> Result<Revisions> {
        Revisions::from_sources(self.files)
    }

    /// Upgrades the database to the (single) head; returns the ids applied. Safe to call from
    /// several processes starting at once: each revision is applied once.
    pub fn upgrade(&self, engine: &Engine) -> Result<Vec<String>> {
        let revisions = self.revisions()?;
        Migrator::new(engine, &revisions).upgrade("head")
    }
}
