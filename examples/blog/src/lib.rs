//! The blog of the tutorials, as an application: models with their migrations
//! ([`models`]), the API's reads and writes ([`queries`]), the HTTP JSON API ([`api`], axum),
//! configuration from the environment ([`config`]) and seeding ([`seed`]). `cargo db migrate`
//! diffs the models against `migrations/`; `blog db upgrade` applies the embedded revisions.

pub mod api;
pub mod config;
pub mod models;
pub mod queries;
pub mod seed;

pub use models::{Comment, Post, PostStatus, Preferences, Tag, User};

/// The revisions of `migrations/`, compiled in.
pub static MIGRATIONS: orm::migrate::EmbeddedMigrations = orm::embed_migrations!("migrations");
