//! The blog of the tutorials, as an application: models with their migrations, a JSON API
//! over HTTP, and a seeding command. `cargo db migrate` diffs the models against
//! `migrations/`; `blog db upgrade` applies the embedded revisions.

pub mod models;

pub use models::{Comment, Post, PostStatus, Preferences, Tag, User};

/// The revisions of `migrations/`, compiled in.
pub static MIGRATIONS: orm::migrate::EmbeddedMigrations = orm::embed_migrations!("migrations");
