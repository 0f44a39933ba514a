//! Code generation for `#[derive(DbEnum)]`: the `DbEnum` impl (type name and labels), the
//! `ToValue` / `FromValue` impls that store the enum by label, and `Default`.

use crate::ast::DbEnum;
use crate::check;
use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let e = DbEnum::from_ast(&cx, input);
    if let Some(e) = &e {
        check::db_enum(&cx, e);
    }
    cx.check()?;
    Ok(e.map(|e| generate(&e)).unwrap_or_default())
}

fn generate(e: &DbEnum) -> TokenStream {
    let krate = crate::attr::krate(&e.attrs.krate);
    let ident = e.ident;
    let type_name = e.type_name();
    let variants: Vec<&syn::Ident> = e.variants.iter().map(|v| v.ident).collect();
    let labels: Vec<String> = e.variants.iter().map(|v| v.label()).collect();

    let default_impl = if e.attrs.no_default.is_some() {
        TokenStream::new()
    } else {
        let default = e
            .variants
            .iter()
            .find(|v| v.attrs.default.is_some())
            .or_else(|| e.variants.first())
            .map(|v| v.ident);
        quote! {
            #[automatically_derived]
            impl ::core::default::Default for #ident {
                fn default() -> Self {
                    Self::#default
                }
            }
        }
    };

    quote! {
        #[doc(hidden)]
        #[allow(unused_qualifications, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl #krate::DbEnum for #ident {
                const TYPE_NAME: &'static str = #type_name;
                const LABELS: &'static [&'static str] = &[#(#labels),*];

                fn label(&self) -> &'static str {
                    match self {
                        #(Self::#variants => #labels,)*
                    }
                }

                fn from_label(label: &str) -> ::core::option::Option<Self> {
                    match label {
                        #(#labels => ::core::option::Option::Some(Self::#variants),)*
                        _ => ::core::option::Option::None,
                    }
                }
            }

            #[automatically_derived]
            impl #krate::ToValue for #ident {
                const COLUMN_TYPE: #krate::ColumnType = #krate::ColumnType::Enum {
                    name: <Self as #krate::DbEnum>::TYPE_NAME,
                    variants: <Self as #krate::DbEnum>::LABELS,
                };

                fn to_value(&self) -> #krate::Value {
                    #krate::Value::Enum {
                        type_name: <Self as #krate::DbEnum>::TYPE_NAME,
                        label: <Self as #krate::DbEnum>::label(self),
                    }
                }
            }

            #[automatically_derived]
            impl #krate::FromValue for #ident {
                fn from_value(
                    value: #krate::ValueRef<'_>,
                ) -> ::core::result::Result<Self, #krate::DecodeError> {
                    #krate::__private::decode_enum(value)
                }
            }

            #default_impl
        };
    }
}
