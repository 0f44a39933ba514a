//! `embed_migrations!("migrations")`: compiles the revision files of a folder (relative to the
//! crate's `Cargo.toml`) into the program, as `include_str!`s, so that a change to a file
//! rebuilds it. Adding a file is not seen by cargo on its own: a `build.rs` with
//! `println!("cargo:rerun-if-changed=migrations");` makes it so.

use proc_macro2::TokenStream;
use quote::quote;
use std::path::PathBuf;

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let lit: syn::LitStr = if input.is_empty() {
        syn::LitStr::new("migrations", proc_macro2::Span::call_site())
    } else {
        syn::parse2(input).map_err(|e| {
            syn::Error::new(e.span(), "expected `embed_migrations!(\"path/to/migrations\")`")
        })?
    };
    let base = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let dir = base.join(lit.value());
    // The same scanner as `Revisions::load_dir`, so a folder holds the same revisions embedded
    // or read at run time. A folder that does not exist yet embeds nothing, so that the program
    // (and its `db` binary) builds before `cargo db init` creates it.
    let files = match orm_migration_files::revision_files(&dir) {
        Ok(files) => files,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(quote!(::orm::migrate::EmbeddedMigrations::new(&[])));
        }
        Err(e) => {
            return Err(syn::Error::new(
                lit.span(),
                format!("cannot read the migrations folder {}: {e}", dir.display()),
            ))
        }
    };
    let items = files.iter().map(|f| {
        let (name, path) = (&f.name, f.path.to_string_lossy().into_owned());
        quote!((#name, ::core::include_str!(#path)))
    });
    Ok(quote! {
        ::orm::migrate::EmbeddedMigrations::new(&[#(#items),*])
    })
}
