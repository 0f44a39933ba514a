//! Code generation for `#[derive(FromRow)]`: each field is decoded from the result column of the
//! same name (or `column = "..."`), looked up by name in the row.

use crate::ast::RowStruct;
use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn expand(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let s = RowStruct::from_ast(&cx, input);
    cx.check()?;
    Ok(s.map(|s| generate(&s)).unwrap_or_default())
}

fn generate(s: &RowStruct) -> TokenStream {
    let krate = crate::attr::krate(&s.krate);
    let ident = &s.input.ident;
    // A generic struct: each field type must be decodable (or `Default` when skipped).
    let mut generics = s.input.generics.clone();
    if generics.type_params().next().is_some() {
        let where_clause = generics.make_where_clause();
        for f in &s.fields {
            let ty = f.ty;
            where_clause.predicates.push(if f.attrs.skip.is_some() {
                syn::parse_quote!(#ty: ::core::default::Default)
            } else {
                syn::parse_quote!(#ty: #krate::FromValue)
            });
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let fields = s.fields.iter().map(|f| {
        let (field, ty) = (f.ident, f.ty);
        if f.attrs.skip.is_some() {
            let default = quote_spanned!(ty.span()=> <#ty as ::core::default::Default>::default());
            return quote!(#field: #default);
        }
        let name = f.column_name();
        let decode_at = quote_spanned!(ty.span()=> #krate::__private::decode_at::<#ty>);
        quote! {
            #field: #decode_at(row, #krate::__private::column_index(row, #name)?, #name)?
        }
    });
    quote! {
        #[doc(hidden)]
        #[allow(unused_qualifications, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::FromRow for #ident #ty_generics #where_clause {
                fn from_row(row: &dyn #krate::Row) -> #krate::Result<Self> {
                    ::core::result::Result::Ok(Self { #(#fields,)* })
                }
            }
        };
    }
}
