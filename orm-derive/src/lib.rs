//! Derive macros for the `orm` crate: `Model`, `DbEnum`, `FromRow`.
use proc_macro::TokenStream;

/// Derives `orm::Model`.
#[proc_macro_derive(Model, attributes(orm))]
pub fn derive_model(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Derives `orm::DbEnum`.
#[proc_macro_derive(DbEnum, attributes(orm))]
pub fn derive_db_enum(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Derives `orm::FromRow`.
#[proc_macro_derive(FromRow, attributes(orm))]
pub fn derive_from_row(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
