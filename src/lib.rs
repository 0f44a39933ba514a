//! # orm
//!
//! An ORM for Rust in the spirit of SQLAlchemy + Alembic: models are structs with
//! `#[derive(Model)]`, a [`Session`] is a unit of work, queries are typed.
//! This facade re-exports the backend-neutral core, the derives, and the backends enabled by
//! features (`sqlite`, the default, and `postgres`).

pub use orm_core::*;
pub use orm_derive::{DbEnum, FromRow, Model};

/// What most programs need: `use orm::prelude::*;`.
pub mod prelude {
    pub use orm_core::{
        avg, count, count_distinct, count_star, lower, max, min, sum, upper, Column, DbEnum as _,
        Error, FromRow as _, Json, Model as _, Related, Result,
    };
    pub use orm_derive::{DbEnum, FromRow, Model};
    pub use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    pub use uuid::Uuid;
}
