//! Code generation for a model's relationships: the static `RELATIONS` table, `related` /
//! `related_mut` (the loaded targets as `AnyModel` trait objects, for the session's cascades),
//! one typed `Relation<M, R>` handle per relationship field, and the schema and registration of
//! each association table named by a string (`through = "post_tags"`).
//!
//! Constant evaluation must not cycle when models refer to each other (or to themselves): a
//! model's `TABLE` reads other models' `TABLE_NAME` and `PRIMARY_KEY_COLUMNS` only, never a
//! `RELATIONS`. So `RELATIONS` may read the target's `TABLE` (an inferred foreign key is found
//! in its `foreign_keys`), its column handles (`Post::author_id.name`, for a field named in
//! `foreign_key`, `local` or `remote`), `TABLE_NAME` and `PRIMARY_KEY_COLUMNS`; other
//! relationships only through fn pointers. An association table is a const of its own, which
//! reads the target's `TABLE` but is read by no model's `TABLE`.

use crate::ast::{Holder, Model, Relationship};
use crate::attr::{CascadeSpec, Names, RelationKind, Spanned, ThroughSpec};
use crate::model::{resolve_self, some, type_text};
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned as _;

/// What the relationships add to a model's expansion.
#[derive(Default)]
pub(crate) struct Relations {
    /// `const RELATIONS`, `fn related` and `fn related_mut`, inside `impl Model`.
    pub(crate) model_items: TokenStream,
    /// The typed handles, inside the inherent impl next to the column handles.
    pub(crate) handles: Vec<TokenStream>,
    /// Items of the `const _` block: key-length assertions, association tables and their
    /// registration.
    pub(crate) items: TokenStream,
}

fn names(n: &Option<Spanned<Names>>) -> Vec<String> {
    n.as_ref().map(|n| n.value.iter().map(|s| s.value.clone()).collect()).unwrap_or_default()
}

/// The target type, `Self` resolved to the model (fn pointers and handles live where `Self`
/// means nothing or something else).
fn target_type(ty: &syn::Type, ident: &syn::Ident) -> TokenStream {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => resolve_self(&p.path, ident),
        _ => ty.to_token_stream(),
    }
}

pub(crate) fn generate(m: &Model) -> Relations {
    let rels = m.relationships();
    if rels.is_empty() {
        return Relations::default();
    }
    let krate = m.krate();
    let ident = m.ident;
    let table = m.table_name();
    let pk_names: Vec<String> = m.primary_key().iter().map(|f| f.column_name()).collect();
    let mut out = Relations::default();
    let mut schemas = Vec::new();
    let mut related = Vec::new();
    let mut related_mut = Vec::new();
    for (i, rel) in rels.iter().enumerate() {
        let (r, field, idx) = (rel.attr, rel.field.ident, Literal::usize_unsuffixed(i));
        let name = rel.field.field_name();
        let target_ty = target_type(rel.ty.target, ident);
        let target = quote_spanned!(rel.ty.target.span()=> <#target_ty as #krate::Model>);
        let kind = format_ident!("{}", r.kind.variant());
        let fk = names(&r.foreign_key);
        let (local, remote) = (names(&r.local), names(&r.remote));

        let (source_columns, target_columns) = match r.kind {
            RelationKind::BelongsTo => {
                let cols = fk.iter().filter_map(|n| m.field_named(n)).map(|f| f.column_name());
                (quote!(&[#(#cols),*]), quote!(#target::PRIMARY_KEY_COLUMNS))
            }
            RelationKind::HasOne | RelationKind::HasMany => {
                let target_columns = match &r.foreign_key {
                    Some(fk) => field_columns(&krate, &target_ty, &fk.value),
                    None => {
                        out.items.extend(inferred_key_check(m, rel, &target));
                        quote!(#krate::__private::inferred_foreign_key(#target::TABLE, #table))
                    }
                };
                (quote!(&[#(#pk_names),*]), target_columns)
            }
            RelationKind::ManyToMany => {
                (quote!(&[#(#pk_names),*]), quote!(#target::PRIMARY_KEY_COLUMNS))
            }
        };
        // The columns matched against the target's key must be as many as its key has (an
        // association table asserts a single-column key itself).
        let string_through =
            matches!(&r.through, Some(t) if matches!(t.value, ThroughSpec::Table(_)));
        let key_len = match r.kind {
            RelationKind::ManyToMany if string_through => None,
            RelationKind::BelongsTo => Some((
                fk.len(),
                "belongs_to: `foreign_key` must name as many fields as the target's primary key has columns",
            )),
            RelationKind::ManyToMany => Some((
                remote.len(),
                "many_to_many: `remote` must name as many columns as the target's primary key has",
            )),
            RelationKind::HasOne | RelationKind::HasMany => None,
        };
        if let Some((len, msg)) = key_len {
            out.items.extend(quote_spanned! {rel.ty.target.span()=>
                const _: () = ::core::assert!(#target::PRIMARY_KEY_COLUMNS.len() == #len, #msg);
            });
        }

        let through = match &r.through {
            Some(t) if r.kind == RelationKind::ManyToMany => {
                let through_table = match &t.value {
                    ThroughSpec::Table(s) => {
                        out.items.extend(association_table(m, rel, i, s, &target));
                        out.items.extend(mirror_check(m, rel, s, &t.tokens, &target));
                        s.to_token_stream()
                    }
                    ThroughSpec::Model(p) => {
                        let p = resolve_self(p, ident);
                        quote_spanned!(p.span()=> <#p as #krate::Model>::TABLE_NAME)
                    }
                };
                // Fields of an association model, columns of a table named by a string.
                let (local_columns, remote_columns) = match &t.value {
                    ThroughSpec::Table(_) => (quote!(&[#(#local),*]), quote!(&[#(#remote),*])),
                    ThroughSpec::Model(p) => {
                        let p = resolve_self(p, ident);
                        let names = |n: &Option<Spanned<Names>>| match n {
                            Some(n) => field_columns(&krate, &p, &n.value),
                            None => quote!(&[]),
                        };
                        (names(&r.local), names(&r.remote))
                    }
                };
                quote! {
                    ::core::option::Option::Some(#krate::Through {
                        table: #through_table,
                        local_columns: #local_columns,
                        remote_columns: #remote_columns,
                    })
                }
            }
            _ => quote!(::core::option::Option::None),
        };
        let defaults =
            CascadeSpec { save: r.kind != RelationKind::BelongsTo, ..Default::default() };
        let c = r.cascade.as_ref().map_or(defaults, |c| c.value);
        let (save, delete, orphan) = (c.save, c.delete, c.delete_orphan);
        let passive = r.passive_deletes.is_some();
        schemas.push(quote! {
            #krate::RelationSchema {
                name: #name,
                kind: #krate::RelationKind::#kind,
                source_table: #table,
                target_table: #target::TABLE_NAME,
                source_columns: #source_columns,
                target_columns: #target_columns,
                through: #through,
                cascade: #krate::Cascade {
                    save: #save,
                    delete: #delete,
                    delete_orphan: #orphan,
                    passive_deletes: #passive,
                },
                target_schema: || #target::TABLE,
                target_relations: || #target::RELATIONS,
                target_type: || ::std::any::TypeId::of::<#target_ty>(),
            }
        });

        // Calls of helpers generic over the target type only: no closures per relationship.
        related.push(quote! {
            #idx => #krate::__private::any_models((#ident::#field.loaded)(self)),
        });
        related_mut.push(quote! {
            #idx => #krate::__private::any_models_mut((#ident::#field.loaded_mut)(self)),
        });
        out.handles.push(handle(m, rel, i, &target_ty));
    }

    let any = quote!(#krate::session::AnyModel);
    out.model_items = quote! {
        const RELATIONS: &'static [#krate::RelationSchema] = &[#(#schemas),*];

        fn related(
            &self,
            rel: usize,
        ) -> ::core::option::Option<::std::vec::Vec<&dyn #any>> {
            match rel {
                #(#related)*
                _ => ::core::option::Option::None,
            }
        }

        fn related_mut(
            &mut self,
            rel: usize,
        ) -> ::core::option::Option<::std::vec::Vec<&mut dyn #any>> {
            match rel {
                #(#related_mut)*
                _ => ::core::option::Option::None,
            }
        }
    };
    out
}

/// `&[<Owner>::field, ...]` as column names: each field's column handle (generated by the
/// owner's derive) read in a constant, so a name that is no column field of `owner` is a compile
/// error at the name, and a field with `column = "..."` gives that column.
fn field_columns(krate: &TokenStream, owner: &TokenStream, names: &Names) -> TokenStream {
    let columns = names.iter().filter_map(|n| {
        let mut field = field_ident(n)?;
        let span = n.tokens.clone().into_iter().next().map_or_else(Span::call_site, |t| t.span());
        field.set_span(span);
        Some(quote_spanned!(span=> #krate::__private::field_column(<#owner>::#field)))
    });
    quote!(&[#(#columns),*])
}

/// The field a name in a relationship attribute stands for; `None` when it is not an
/// identifier (reported by the checks).
pub(crate) fn field_ident(n: &Spanned<String>) -> Option<syn::Ident> {
    syn::parse_str::<syn::Ident>(&n.value)
        .or_else(|_| syn::parse_str::<syn::Ident>(&format!("r#{}", n.value)))
        .ok()
}

/// For a has_one / has_many without `foreign_key`: a constant that fails to compile unless the
/// target has exactly one `references = ThisModel` field, with a message saying what to write.
fn inferred_key_check(m: &Model, rel: &Relationship, target: &TokenStream) -> TokenStream {
    let krate = m.krate();
    let (table, kind) = (m.table_name(), rel.attr.kind.key());
    let (model, target_name, field) = (m.ident, type_text(rel.ty.target), rel.field.field_name());
    let start = format!("{kind} `{model}::{field}` has no `foreign_key`, so it is inferred");
    let none = format!(
        "{start}, but `{target_name}` has no `references = {model}` field: add one, or name the \
         field of `{target_name}` that holds the key of `{model}`: `{kind}(foreign_key = field)`"
    );
    let many = format!(
        "{start}, but `{target_name}` has more than one `references = {model}` field: say which \
         holds the key of `{model}`: `{kind}(foreign_key = field)`"
    );
    let span =
        rel.attr.tokens.clone().into_iter().next().map_or_else(Span::call_site, |t| t.span());
    quote_spanned! {span=>
        const _: () = match #krate::__private::count_foreign_keys_to(#target::TABLE, #table) {
            1 => {}
            0 => ::core::panic!(#none),
            _ => ::core::panic!(#many),
        };
    }
}

/// For a `through = "table"`: a constant that fails to compile when the target declares the
/// same association table back to this model with other columns (both sides generate it).
fn mirror_check(
    m: &Model,
    rel: &Relationship,
    through: &str,
    tokens: &TokenStream,
    target: &TokenStream,
) -> TokenStream {
    let krate = m.krate();
    let (table, name) = (m.table_name(), rel.field.field_name());
    let (local, remote) = (names(&rel.attr.local), names(&rel.attr.remote));
    let (model, target_name) = (m.ident, type_text(rel.ty.target));
    let msg = format!(
        "many_to_many `{model}::{name}` through \"{through}\": `{target_name}` declares this table \
         with other columns; the two sides mirror each other: this side's `local` is the other's \
         `remote`, and its `remote` the other's `local`"
    );
    let span = tokens.clone().into_iter().next().map_or_else(Span::call_site, |t| t.span());
    quote_spanned! {span=>
        const _: () = ::core::assert!(
            #krate::__private::association_sides_agree(
                #target::RELATIONS, #through, #table, #name, &[#(#local),*], &[#(#remote),*],
            ),
            #msg,
        );
    }
}

/// `pub const posts: Relation<User, Post> = Relation::new(index, set_loaded, loaded,
/// loaded_mut)`, the three functions written as closures for the field's holder.
fn handle(m: &Model, rel: &Relationship, index: usize, target_ty: &TokenStream) -> TokenStream {
    let krate = m.krate();
    let (ident, vis, field) = (m.ident, &m.input.vis, rel.field.ident);
    let idx = Literal::usize_unsuffixed(index);
    let table = m.table_name();
    let name = rel.field.field_name();
    let related = quote!(#krate::Related);
    let ok = quote!(::core::result::Result::Ok(()));
    let boxed = quote!(::std::boxed::Box::new);
    let (from_ref, from_mut) = (quote!(::core::slice::from_ref), quote!(::core::slice::from_mut));
    let required = |wrap: TokenStream| {
        let msg = format!("{table}.{name}: no related row");
        quote! {
            match v.into_iter().next() {
                ::core::option::Option::Some(t) => {
                    m.#field = #related::Loaded(#wrap);
                    #ok
                }
                ::core::option::Option::None => ::core::result::Result::Err(
                    #krate::Error::NotFound(::std::string::String::from(#msg)),
                ),
            }
        }
    };
    let (set, get, get_mut) = match rel.ty.holder {
        Holder::Vec => (
            quote!({ m.#field = #related::Loaded(v); #ok }),
            quote!(v.as_slice()),
            quote!(v.as_mut_slice()),
        ),
        Holder::One => (required(quote!(t)), quote!(#from_ref(v)), quote!(#from_mut(v))),
        Holder::Boxed => {
            (required(quote!(#boxed(t))), quote!(#from_ref(&**v)), quote!(#from_mut(&mut **v)))
        }
        Holder::Option => (
            quote!({ m.#field = #related::Loaded(v.into_iter().next()); #ok }),
            quote!(v.as_slice()),
            quote!(v.as_mut_slice()),
        ),
        Holder::OptionBox => (
            quote!({ m.#field = #related::Loaded(v.into_iter().next().map(#boxed)); #ok }),
            quote! {
                match v {
                    ::core::option::Option::Some(b) => #from_ref(&**b),
                    ::core::option::Option::None => &[],
                }
            },
            quote! {
                match v {
                    ::core::option::Option::Some(b) => #from_mut(&mut **b),
                    ::core::option::Option::None => &mut [],
                }
            },
        ),
    };
    let doc = format!(
        "Relationship `{name}` of `{table}`: {} `{}` (`{}`).",
        rel.attr.kind.key(),
        type_text(rel.ty.target),
        type_text(rel.field.ty)
    );
    quote! {
        #[doc = #doc]
        #vis const #field: #krate::Relation<#ident, #target_ty> = #krate::Relation::new(
            #idx,
            |m, v| #set,
            |m| match &m.#field {
                #related::Loaded(v) => ::core::option::Option::Some(#get),
                #related::Unloaded => ::core::option::Option::None,
            },
            |m| match &mut m.#field {
                #related::Loaded(v) => ::core::option::Option::Some(#get_mut),
                #related::Unloaded => ::core::option::Option::None,
            },
        );
    }
}

/// The schema of association table `through` and its registration: this model's key column and
/// the target's, both NOT NULL, together the primary key, each a foreign key ON DELETE CASCADE.
/// Columns, key and foreign keys are ordered by column name, so that the two models of an
/// association that both declare it produce the same schema.
fn association_table(
    m: &Model,
    rel: &Relationship,
    index: usize,
    through: &str,
    target: &TokenStream,
) -> TokenStream {
    let krate = m.krate();
    let pk = m.primary_key();
    let (local, remote) = (names(&rel.attr.local), names(&rel.attr.remote));
    let (Some(own), [local], [remote]) = (pk.first(), local.as_slice(), remote.as_slice()) else {
        return TokenStream::new(); // refused by the checks
    };
    let table = m.table_name();
    let (own_column_type, own_key) = (crate::model::column_type(&krate, own), own.column_name());
    let own_len = some(
        own.attrs.max_length.as_ref().map(|l| Literal::u32_unsuffixed(l.value).into_token_stream()),
    );
    let target_key = quote!(#target::TABLE.columns[#target::TABLE.primary_key[0]]);
    let action = |a: &str| {
        let a = format_ident!("{}", a);
        quote!(#krate::ReferentialAction::#a)
    };
    let (cascade, no_action) = (action("Cascade"), action("NoAction"));

    let local_column = quote! {
        #krate::ColumnSchema {
            primary_key: true,
            max_length: #own_len,
            ..#krate::ColumnSchema::new(#local, #own_column_type)
        }
    };
    let local_fk_name = format!("fk_{through}_{local}_{table}");
    let local_fk = quote! {
        #krate::ForeignKeySchema {
            name: #local_fk_name,
            columns: &[#local],
            ref_table: #table,
            ref_columns: &[#own_key],
            on_delete: #cascade,
            on_update: #no_action,
        }
    };
    let remote_column = quote! {
        #krate::ColumnSchema {
            primary_key: true,
            max_length: #target_key.max_length,
            ..#krate::ColumnSchema::new(#remote, #target_key.ty)
        }
    };
    // `fk_<through>_<remote>_<target table>`, concatenated at compile time.
    let (len, bytes, fk_name) = (
        format_ident!("__ORM_ASSOC_{}_FK_LEN", index),
        format_ident!("__ORM_ASSOC_{}_FK_BYTES", index),
        format_ident!("__ORM_ASSOC_{}_FK_NAME", index),
    );
    let prefix = format!("fk_{through}_{remote}_");
    let remote_fk = quote! {
        #krate::ForeignKeySchema {
            name: #fk_name,
            columns: &[#remote],
            ref_table: #target::TABLE_NAME,
            ref_columns: #target::PRIMARY_KEY_COLUMNS,
            on_delete: #cascade,
            on_update: #no_action,
        }
    };
    let (columns, fks) = if local < remote {
        ([local_column, remote_column], [local_fk, remote_fk])
    } else {
        ([remote_column, local_column], [remote_fk, local_fk])
    };
    let assoc = format_ident!("__ORM_ASSOC_{}", index);
    let single_key = quote_spanned! {rel.ty.target.span()=>
        const _: () = ::core::assert!(
            #target::PRIMARY_KEY_COLUMNS.len() == 1,
            "`through = \"table\"` needs a target with a single-column primary key; declare the association table as a model",
        );
    };
    quote! {
        #single_key
        const #len: usize = #prefix.len() + #target::TABLE_NAME.len();
        const #bytes: [u8; #len] =
            #krate::__private::concat_bytes(&[#prefix, #target::TABLE_NAME]);
        const #fk_name: &str = #krate::__private::str_from_utf8(&#bytes);
        const #assoc: &#krate::TableSchema = &#krate::TableSchema {
            name: #through,
            renamed_from: ::core::option::Option::None,
            columns: &[#(#columns),*],
            primary_key: &[0, 1],
            indexes: &[],
            uniques: &[],
            foreign_keys: &[#(#fks),*],
            version_column: ::core::option::Option::None,
            checks: &[],
        };
        #krate::__private::inventory::submit! {
            #krate::ModelEntry { table: #assoc, type_name: #through }
        }
    }
}
