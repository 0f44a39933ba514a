//! The error collector. Every stage reports problems here instead of stopping at the first one,
//! so a user sees every bad attribute of a struct in one compile.

use quote::ToTokens;
use std::cell::RefCell;
use std::fmt::Display;

/// Collects errors; consumed by [`Ctxt::check`], which combines them into one `syn::Error`.
pub(crate) struct Ctxt {
    // `None` once checked, so a forgotten `check` is caught in debug builds.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt { errors: RefCell::new(Some(Vec::new())) }
    }

    /// An error spanning `obj`'s tokens (first to last token, so `key = value` is underlined
    /// whole).
    pub(crate) fn error_spanned_by<A: ToTokens, T: Display>(&self, obj: A, msg: T) {
        self.syn_error(syn::Error::new_spanned(obj.into_token_stream(), msg));
    }

    /// An error from syn's parser.
    pub(crate) fn syn_error(&self, err: syn::Error) {
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.push(err);
        }
    }

    /// `Err` with every error reported so far, combined, if there is any.
    pub(crate) fn check(self) -> syn::Result<()> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        let mut errors = errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for e in errors {
            combined.combine(e);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        debug_assert!(
            std::thread::panicking() || self.errors.borrow().is_none(),
            "orm-derive: Ctxt dropped without check()"
        );
    }
}
