//! Code generation for `#[derive(Model)]`: the `Model` impl with its static schema, the typed
//! column handles, the `Default` impl applying client defaults, and the registry entry; the
//! relationships' part comes from `relation.rs`.
//!
//! Everything is named through the `::orm` facade (or the `crate = "path"` given) and sits in a
//! `const _: () = { ... };` block.
//! Where a field type must implement a trait (`ToValue`, `FromValue`, `Clone`, `PartialEq`,
//! `Default`), the trait path carries the field type's span, so an unsupported type is reported
//! at that field.

use crate::ast::{BaseType, Model, ModelField};
use crate::attr::DefaultSpec;
use crate::check;
use crate::ctxt::Ctxt;
use crate::relation;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

pub(crate) fn expand(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let model = Model::from_ast(&cx, input);
    if let Some(m) = &model {
        check::model(&cx, m);
    }
    cx.check()?;
    Ok(model.map(|m| generate(&m)).unwrap_or_default())
}

pub(crate) fn some(v: Option<TokenStream>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// A signed number as tokens: `-` and a positive literal, which every position accepts.
fn int_tokens(v: i64) -> TokenStream {
    let lit = Literal::u64_unsuffixed(v.unsigned_abs());
    if v < 0 {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

fn float_tokens(v: f64) -> TokenStream {
    let lit = Literal::f64_unsuffixed(v.abs());
    if v.is_sign_negative() {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

/// A type as short text for docs: `Option<String>`, not `Option < String >`.
pub(crate) fn type_text(ty: &syn::Type) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" ,", ",")
        .replace("& ", "&")
}

/// The schema's `DefaultValue` for a client default.
fn schema_default(krate: &TokenStream, d: &DefaultSpec, base: BaseType) -> TokenStream {
    match d {
        DefaultSpec::Now => quote!(#krate::DefaultValue::Now),
        DefaultSpec::Uuid4 => quote!(#krate::DefaultValue::Uuid4),
        // An integer default on a float field: whole numbers up to 2^53 are exact in f64.
        #[allow(clippy::cast_precision_loss)]
        DefaultSpec::Int(v) if base.is_float() => {
            let f = float_tokens(*v as f64);
            quote!(#krate::DefaultValue::Float(#f))
        }
        DefaultSpec::Int(v) => {
            let v = int_tokens(*v);
            quote!(#krate::DefaultValue::Int(#v))
        }
        DefaultSpec::Float(v) => {
            let v = float_tokens(*v);
            quote!(#krate::DefaultValue::Float(#v))
        }
        DefaultSpec::Bool(b) => quote!(#krate::DefaultValue::Bool(#b)),
        DefaultSpec::Text(s) => quote!(#krate::DefaultValue::Text(#s)),
    }
}

/// A column's type: the field type's `ToValue::COLUMN_TYPE`, or the SQL type its attributes
/// say (`precision = 10, scale = 2` is `NUMERIC(10, 2)`, `sql_type = "..."` verbatim), which
/// the dialects write as given.
pub(crate) fn column_type(krate: &TokenStream, f: &ModelField) -> TokenStream {
    let a = &f.attrs;
    let custom = match (&a.sql_type, &a.precision) {
        (Some(t), _) => Some(t.value.trim().to_owned()),
        (None, Some(p)) => {
            Some(format!("NUMERIC({}, {})", p.value, a.scale.as_ref().map_or(0, |s| s.value)))
        }
        (None, None) => None,
    };
    match custom {
        Some(sql) => quote!(#krate::ColumnType::Custom(#sql)),
        None => {
            let ty = f.ty;
            quote_spanned!(ty.span()=> <#ty as #krate::ToValue>::COLUMN_TYPE)
        }
    }
}

/// The value the generated `Default` gives a field with a client default.
fn client_default(krate: &TokenStream, f: &ModelField, d: &DefaultSpec) -> TokenStream {
    let value = match d {
        // Whole microseconds, as both databases store them, so a saved object equals its row.
        DefaultSpec::Now => match f.shape.base {
            BaseType::NaiveDateTime => quote!(#krate::__private::now_naive_utc()),
            BaseType::NaiveDate => quote!(#krate::__private::chrono::Utc::now().date_naive()),
            _ => quote!(#krate::__private::now_utc()),
        },
        DefaultSpec::Uuid4 => quote!(#krate::__private::uuid::Uuid::new_v4()),
        #[allow(clippy::cast_precision_loss)]
        DefaultSpec::Int(v) if f.shape.base.is_float() => float_tokens(*v as f64),
        DefaultSpec::Int(v) => int_tokens(*v),
        DefaultSpec::Float(v) => float_tokens(*v),
        DefaultSpec::Bool(b) => quote!(#b),
        DefaultSpec::Text(s) if f.shape.base == BaseType::Other => {
            // A `DbEnum` label, checked at compile time by `enum_label_check`.
            let inner = crate::ast::option_inner(f.ty);
            return if f.shape.option {
                quote!(<#inner as #krate::DbEnum>::from_label(#s))
            } else {
                quote!(#krate::__private::enum_from_label::<#inner>(#s))
            };
        }
        DefaultSpec::Text(s) => quote!(::std::string::String::from(#s)),
    };
    if f.shape.option {
        quote!(::core::option::Option::Some(#value))
    } else {
        value
    }
}

/// For a text `default` on a field that is not a `String`: a compile-time check that the
/// field's type is a `DbEnum` with that label (an error at the attribute otherwise).
fn enum_label_check(krate: &TokenStream, f: &ModelField) -> Option<TokenStream> {
    let d = f.attrs.default.as_ref()?;
    let DefaultSpec::Text(label) = &d.value else { return None };
    if f.shape.base != BaseType::Other || !f.is_column() {
        return None;
    }
    let inner = crate::ast::option_inner(f.ty);
    let message = format!(
        "`default = {label:?}`: {label:?} is not a label of `{}` (a DbEnum's label, as stored)",
        type_text(inner)
    );
    let span = d.tokens.span();
    Some(quote_spanned! {span=>
        const _: () = if !#krate::__private::enum_has_label::<#inner>(#label) {
            ::core::panic!(#message)
        };
    })
}

/// `path`, with `Self` replaced by the model's name (the foreign-key consts live outside the
/// impl, where `Self` means nothing).
pub(crate) fn resolve_self(path: &syn::Path, ident: &syn::Ident) -> TokenStream {
    if path.is_ident("Self") {
        let mut ident = ident.clone();
        ident.set_span(path.span());
        ident.into_token_stream()
    } else {
        path.to_token_stream()
    }
}

fn generate(m: &Model) -> TokenStream {
    let krate = m.krate();
    let ident = m.ident;
    let vis = &m.input.vis;
    let type_name = ident.to_string();
    let table = m.table_name();
    let columns: Vec<&ModelField> = m.columns().collect();
    let pk = m.primary_key();
    let index_of = |f: &ModelField| columns.iter().position(|c| c.ident == f.ident).unwrap_or(0);
    let lit = Literal::usize_unsuffixed;

    // ---- schema
    let mut fk_consts = TokenStream::new();
    let mut foreign_keys = Vec::new();
    for f in columns.iter().filter(|f| f.attrs.references.is_some()) {
        let Some(reference) = &f.attrs.references else {
            continue;
        };
        let n = foreign_keys.len();
        let col = f.column_name();
        let target = resolve_self(&reference.value, ident);
        let target = quote_spanned!(reference.value.span()=> <#target as #krate::Model>);
        let (len, bytes, name) = (
            format_ident!("__ORM_FK_{}_LEN", n),
            format_ident!("__ORM_FK_{}_BYTES", n),
            format_ident!("__ORM_FK_{}_NAME", n),
        );
        let prefix = format!("fk_{table}_{col}_");
        let given_name = f.attrs.fk_name.as_ref().map(|n| n.value.clone());
        let field_ty = f.ty;
        let key_type = quote_spanned! {field_ty.span()=>
            const _: fn() = || {
                fn foreign_key_of<K, F: #krate::__private::ForeignKeyOf<K>>() {}
                foreign_key_of::<#target::Key, #field_ty>();
            };
        };
        let single_key = quote_spanned! {reference.value.span()=>
            const _: () = ::core::assert!(
                #target::PRIMARY_KEY_COLUMNS.len() == 1,
                "`references` needs a model with a single-column primary key",
            );
            #key_type
        };
        // The name is `fk_<table>_<column>_<referenced table>`, concatenated at compile time.
        // (or the one given with `fk_name`).
        fk_consts.extend(match given_name {
            Some(given) => quote! {
                const #name: &str = #given;
                #single_key
            },
            None => quote! {
                const #len: usize = #prefix.len() + #target::TABLE_NAME.len();
                const #bytes: [u8; #len] = #krate::__private::concat_bytes(&[#prefix, #target::TABLE_NAME]);
                const #name: &str = #krate::__private::str_from_utf8(&#bytes);
                #single_key
            },
        });
        let action = |a: &Option<crate::attr::Spanned<crate::attr::ReferentialAction>>| {
            let v = format_ident!("{}", a.as_ref().map_or("NoAction", |a| a.value.variant()));
            quote!(#krate::ReferentialAction::#v)
        };
        let (on_delete, on_update) = (action(&f.attrs.on_delete), action(&f.attrs.on_update));
        foreign_keys.push(quote! {
            #krate::ForeignKeySchema {
                name: #name,
                columns: &[#col],
                ref_table: #target::TABLE_NAME,
                ref_columns: #target::PRIMARY_KEY_COLUMNS,
                on_delete: #on_delete,
                on_update: #on_update,
            }
        });
    }

    let column_schemas = columns.iter().map(|f| {
        let (name, field, ty) = (f.column_name(), f.field_name(), f.ty);
        let to_value = quote_spanned!(ty.span()=> <#ty as #krate::ToValue>);
        let column_type = column_type(&krate, f);
        let primary_key = f.attrs.primary_key.is_some();
        let auto_increment = m.is_auto_increment(f);
        let max_length = some(
            f.attrs
                .max_length
                .as_ref()
                .map(|l| Literal::u32_unsuffixed(l.value).into_token_stream()),
        );
        let default =
            some(f.attrs.default.as_ref().map(|d| schema_default(&krate, &d.value, f.shape.base)));
        let server_default =
            some(f.attrs.server_default.as_ref().map(|s| s.value.to_token_stream()));
        let renamed_from = some(f.attrs.renamed_from.as_ref().map(|s| s.value.to_token_stream()));
        quote! {
            #krate::ColumnSchema {
                name: #name,
                field: #field,
                ty: #column_type,
                nullable: #to_value::NULLABLE,
                primary_key: #primary_key,
                auto_increment: #auto_increment,
                max_length: #max_length,
                default: #default,
                server_default: #server_default,
                renamed_from: #renamed_from,
            }
        }
    });
    let pk_indexes = pk.iter().map(|f| lit(index_of(f)));
    let version_column = some(
        columns.iter().position(|f| f.attrs.version.is_some()).map(|i| lit(i).into_token_stream()),
    );
    let pk_names: Vec<String> = pk.iter().map(|f| f.column_name()).collect();
    let (indexes, uniques) = m.indexes();
    let table_renamed_from = some(m.attrs.renamed_from.as_ref().map(|s| s.value.to_token_stream()));
    let opt = |s: &Option<String>| some(s.as_ref().map(|s| s.to_token_stream()));
    let indexes = indexes.iter().map(|ix| {
        let (name, cols, unique) = (&ix.name, &ix.columns, ix.unique);
        let keys = ix.keys.iter().map(|k| {
            let (column, expr, opclass) = (opt(&k.column), opt(&k.expr), opt(&k.opclass));
            quote!(#krate::IndexKeySchema { column: #column, expr: #expr, opclass: #opclass })
        });
        let (using, where_clause) = (opt(&ix.using), opt(&ix.where_clause));
        quote!(#krate::IndexSchema {
            name: #name,
            columns: &[#(#cols),*],
            unique: #unique,
            keys: &[#(#keys),*],
            using: #using,
            where_clause: #where_clause,
        })
    });
    let checks = m.attrs.checks.iter().map(|c| {
        let (name, expr) = (&c.name.value, &c.expr.value);
        quote!(#krate::CheckSchema { name: #name, expr: #expr })
    });
    let uniques = uniques.iter().map(|uq| {
        let (name, cols) = (&uq.name, &uq.columns);
        quote!(#krate::UniqueSchema { name: #name, columns: &[#(#cols),*] })
    });

    // ---- key
    let key_ty = match pk.as_slice() {
        [one] => one.ty.to_token_stream(),
        many => {
            let tys = many.iter().map(|f| f.ty);
            quote!((#(#tys,)*))
        }
    };
    let clone_of = |f: &ModelField, from: TokenStream| {
        let ty = f.ty;
        let clone = quote_spanned!(ty.span()=> <#ty as ::core::clone::Clone>::clone);
        quote!(#clone(&#from))
    };
    let key_body = match pk.as_slice() {
        [one] if m.is_auto_increment(one) => {
            let field = one.ident;
            quote! {
                if self.#field == 0 {
                    ::core::option::Option::None
                } else {
                    ::core::option::Option::Some(self.#field)
                }
            }
        }
        [one] => {
            let field = one.ident;
            let v = clone_of(one, quote!(self.#field));
            quote!(::core::option::Option::Some(#v))
        }
        many => {
            let parts = many.iter().map(|f| {
                let field = f.ident;
                clone_of(f, quote!(self.#field))
            });
            quote!(::core::option::Option::Some((#(#parts,)*)))
        }
    };
    // `Vec::from` an array, not `vec![..]`: one `From<[Value; N]>` per key length, shared by
    // all models, instead of the boxing `vec!` writes out in each.
    let key_values = match pk.as_slice() {
        [one] => {
            let ty = one.ty;
            quote!(::std::vec::Vec::from([<#ty as #krate::ToValue>::to_value(key)]))
        }
        many => {
            let parts = many.iter().enumerate().map(|(i, f)| {
                let (ty, i) = (f.ty, syn::Index::from(i));
                quote!(<#ty as #krate::ToValue>::to_value(&key.#i))
            });
            quote!(::std::vec::Vec::from([#(#parts),*]))
        }
    };

    // ---- per-column methods
    let snapshot_ty = columns.iter().map(|f| f.ty);
    let mut decode_fields = Vec::new();
    let mut from_snapshot_fields = Vec::new();
    for f in &m.fields {
        let (field, ty) = (f.ident, f.ty);
        match columns.iter().position(|c| c.ident == f.ident) {
            Some(i) => {
                let at = lit(i);
                // A call of the trait's own helper (one copy per field type, shared by all
                // models), through the same trait path as `set_column`, so an unsupported type
                // gets one "cannot be read" error, not two. A `match`, not `?`: no `Try` calls.
                let name = f.column_name();
                let decode = quote_spanned!(ty.span()=> <#ty as #krate::FromValue>::decode_column);
                decode_fields.push(quote! {
                    #field: match #decode(row, offset, #at, #name) {
                        ::core::result::Result::Ok(v) => v,
                        ::core::result::Result::Err(e) => return ::core::result::Result::Err(e),
                    }
                });
                let snap = syn::Index::from(i);
                let v = clone_of(f, quote!(snapshot.#snap));
                from_snapshot_fields.push(quote!(#field: #v));
            }
            None => {
                let default =
                    quote_spanned!(ty.span()=> <#ty as ::core::default::Default>::default());
                decode_fields.push(quote!(#field: #default));
                from_snapshot_fields.push(quote!(#field: #default));
            }
        }
    }
    let mut column_value_arms = Vec::new();
    let mut set_column_arms = Vec::new();
    let mut snapshot_parts = Vec::new();
    let mut encode = Vec::new();
    let mut changed = Vec::new();
    let mut restore = Vec::new();
    let mut handles = Vec::new();
    for (i, f) in columns.iter().enumerate() {
        let (field, ty, name) = (f.ident, f.ty, f.column_name());
        let (idx, snap) = (lit(i), syn::Index::from(i));
        let to_value = quote_spanned!(ty.span()=> <#ty as #krate::ToValue>::to_value);
        column_value_arms.push(quote!(#idx => #to_value(&self.#field),));
        let set = quote_spanned!(ty.span()=> <#ty as #krate::FromValue>::set_column_value);
        set_column_arms.push(quote!(#idx => #set(&mut self.#field, value, #name),));
        snapshot_parts.push(clone_of(f, quote!(self.#field)));
        let snapshot_into = quote_spanned!(ty.span()=> <#ty as #krate::ToValue>::snapshot_into);
        encode.push(quote!(#snapshot_into(&self.#field, out);));
        let ne = quote_spanned!(ty.span()=> <#ty as ::core::cmp::PartialEq>::ne);
        changed.push(quote! {
            if #ne(&self.#field, &snapshot.#snap) {
                mask.set(#idx);
            }
        });
        // `clone_from`: no drop of the old value here, and a `String` keeps its buffer.
        let clone_from = quote_spanned!(ty.span()=> <#ty as ::core::clone::Clone>::clone_from);
        restore.push(quote! {
            if mask.contains(#idx) {
                #clone_from(&mut self.#field, &snapshot.#snap);
            }
        });
        let doc = format!("Column `{name}` of `{table}` (`{}`).", type_text(ty));
        handles.push(quote! {
            #[doc = #doc]
            #vis const #field: #krate::Column<#ident, #ty> = #krate::Column::new(#idx, #name);
        });
    }

    let relations = relation::generate(m);
    let relation_model_items = &relations.model_items;
    let relation_items = &relations.items;
    handles.extend(relations.handles);

    // ---- Default
    let default_impl = if m.attrs.no_default.is_some() {
        TokenStream::new()
    } else {
        let inits = m.fields.iter().map(|f| {
            let (field, ty) = (f.ident, f.ty);
            match &f.attrs.default {
                Some(d) if f.is_column() => {
                    let v = client_default(&krate, f, &d.value);
                    quote!(#field: #v)
                }
                // A version counter starts at 1, as SQLAlchemy's does.
                _ if f.attrs.version.is_some() => quote!(#field: 1),
                _ => {
                    let default =
                        quote_spanned!(ty.span()=> <#ty as ::core::default::Default>::default());
                    quote!(#field: #default)
                }
            }
        });
        quote! {
            #[automatically_derived]
            impl ::core::default::Default for #ident {
                fn default() -> Self {
                    Self { #(#inits,)* }
                }
            }
        }
    };

    let label_checks = m.fields.iter().filter_map(|f| enum_label_check(&krate, f));

    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            #fk_consts
            #relation_items
            #(#label_checks)*

            #[automatically_derived]
            impl #krate::Model for #ident {
                type Key = #key_ty;
                type Snapshot = (#(#snapshot_ty,)*);

                const TABLE_NAME: &'static str = #table;
                const PRIMARY_KEY_COLUMNS: &'static [&'static str] = &[#(#pk_names),*];
                const TABLE: &'static #krate::TableSchema = &#krate::TableSchema {
                    name: #table,
                    renamed_from: #table_renamed_from,
                    columns: &[#(#column_schemas),*],
                    primary_key: &[#(#pk_indexes),*],
                    indexes: &[#(#indexes),*],
                    uniques: &[#(#uniques),*],
                    foreign_keys: &[#(#foreign_keys),*],
                    checks: &[#(#checks),*],
                    version_column: #version_column,
                };
                #relation_model_items

                fn key(&self) -> ::core::option::Option<Self::Key> {
                    #key_body
                }

                fn key_values(key: &Self::Key) -> ::std::vec::Vec<#krate::Value> {
                    #key_values
                }

                fn decode(row: &dyn #krate::Row, offset: usize) -> #krate::Result<Self> {
                    ::core::result::Result::Ok(Self { #(#decode_fields,)* })
                }

                fn column_value(&self, idx: usize) -> #krate::Value {
                    match idx {
                        #(#column_value_arms)*
                        _ => #krate::Value::Null,
                    }
                }

                fn set_column(&mut self, idx: usize, value: #krate::ValueRef<'_>) -> #krate::Result<()> {
                    match idx {
                        #(#set_column_arms)*
                        _ => ::core::result::Result::Err(
                            #krate::__private::no_such_column(#type_name, idx),
                        ),
                    }
                }

                fn snapshot(&self) -> Self::Snapshot {
                    (#(#snapshot_parts,)*)
                }

                fn from_snapshot(snapshot: &Self::Snapshot) -> Self {
                    Self { #(#from_snapshot_fields,)* }
                }

                fn changed_columns(&self, snapshot: &Self::Snapshot) -> #krate::ColumnMask {
                    let mut mask = #krate::ColumnMask::empty();
                    #(#changed)*
                    mask
                }

                fn restore_columns(&mut self, snapshot: &Self::Snapshot, mask: #krate::ColumnMask) {
                    #(#restore)*
                }

                fn snapshot_into(&self, out: &mut ::std::vec::Vec<u8>) {
                    #(#encode)*
                }
            }

            #[automatically_derived]
            impl #ident {
                #(#handles)*
            }

            #default_impl

            #krate::__private::inventory::submit! {
                #krate::ModelEntry { table: <#ident as #krate::Model>::TABLE, type_name: #type_name }
            }
        };
    }
}
