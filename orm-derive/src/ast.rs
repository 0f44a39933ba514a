//! The derives' intermediate representation: the input item with its parsed attributes and what
//! the syntax tells about each field's type. Every node keeps its `syn` original for spans, and
//! the names the schema will use (table, columns, indexes) are resolved here once, so the checks
//! and the code generation agree on them.

use crate::attr::{self, Spanned};
use crate::case::snake_case;
use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, Type};

/// What the syntax says a field's type is, looking through `DbDefault<...>` and `Option<...>`.
/// Only last path segments are compared (`chrono::DateTime<Utc>` and `DateTime<Utc>` alike): a
/// derive sees no types, and a user type named like one of these is rare enough to be the user's
/// problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BaseType {
    I16,
    I32,
    I64,
    F32,
    F64,
    Bool,
    String,
    DateTime,
    NaiveDateTime,
    NaiveDate,
    Uuid,
    /// `Decimal` (`rust_decimal::Decimal`).
    Decimal,
    /// `Related<...>`: a relationship, not a column.
    Related,
    /// Anything else (a `DbEnum`, `Json<T>`, a user type...).
    Other,
}

impl BaseType {
    pub(crate) fn is_integer(self) -> bool {
        matches!(self, BaseType::I16 | BaseType::I32 | BaseType::I64)
    }

    pub(crate) fn is_float(self) -> bool {
        matches!(self, BaseType::F32 | BaseType::F64)
    }

    pub(crate) fn is_time(self) -> bool {
        matches!(self, BaseType::DateTime | BaseType::NaiveDateTime | BaseType::NaiveDate)
    }
}

/// A field type's shape: its base type, whether it is wrapped in `Option`, and whether in
/// `DbDefault` (outside the `Option`: `DbDefault<Option<T>>`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TypeShape {
    pub(crate) option: bool,
    pub(crate) base: BaseType,
    /// `DbDefault<...>`: a column the database may fill, of the inner type's shape.
    pub(crate) db_default: bool,
    /// `Option<DbDefault<...>>`, which the checks refuse (the base is `Other`).
    pub(crate) option_of_db_default: bool,
}

impl TypeShape {
    pub(crate) fn of(ty: &Type) -> Self {
        if let Some(inner) = last_segment(ty).and_then(|s| wrapped("DbDefault", s)) {
            let inner = Self::plain(inner);
            let base = match inner.base {
                BaseType::Related => BaseType::Other,
                b => b,
            };
            return TypeShape { db_default: true, base, ..inner };
        }
        let mut shape = Self::plain(ty);
        shape.option_of_db_default = shape.option
            && last_segment(ty)
                .and_then(|s| wrapped("Option", s))
                .and_then(last_segment)
                .is_some_and(|s| s.ident == "DbDefault");
        shape
    }

    /// The shape of a type not wrapped in `DbDefault`.
    fn plain(ty: &Type) -> Self {
        let shape = |option, base| TypeShape {
            option,
            base,
            db_default: false,
            option_of_db_default: false,
        };
        if let Some(inner) = last_segment(ty).and_then(|s| wrapped("Option", s)) {
            let base = match Self::base(inner) {
                BaseType::Related => BaseType::Other,
                b => b,
            };
            return shape(true, base);
        }
        shape(false, Self::base(ty))
    }

    fn base(ty: &Type) -> BaseType {
        let Some(seg) = last_segment(ty) else {
            return BaseType::Other;
        };
        match seg.ident.to_string().as_str() {
            "i16" => BaseType::I16,
            "i32" => BaseType::I32,
            "i64" => BaseType::I64,
            "f32" => BaseType::F32,
            "f64" => BaseType::F64,
            "bool" => BaseType::Bool,
            "String" => BaseType::String,
            "DateTime" => BaseType::DateTime,
            "NaiveDateTime" => BaseType::NaiveDateTime,
            "NaiveDate" => BaseType::NaiveDate,
            "Uuid" => BaseType::Uuid,
            "Decimal" => BaseType::Decimal,
            "Related" => BaseType::Related,
            _ => BaseType::Other,
        }
    }
}

/// `T` of `Option<T>`, or the type itself.
pub(crate) fn option_inner(ty: &Type) -> &Type {
    last_segment(ty).and_then(|s| wrapped("Option", s)).unwrap_or(ty)
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// `T` of `Option<T>` (`wrapper` = `"Option"`), likewise `DbDefault<T>`.
fn wrapped<'a>(wrapper: &str, seg: &'a syn::PathSegment) -> Option<&'a Type> {
    if seg.ident != wrapper {
        return None;
    }
    single_type_argument(seg)
}

/// `T` of `Name<T>`.
fn single_type_argument(seg: &syn::PathSegment) -> Option<&Type> {
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    match (args.args.len(), args.args.first()) {
        (1, Some(syn::GenericArgument::Type(t))) => Some(t),
        _ => None,
    }
}

/// How a `Related<...>` field holds its target model `R`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    /// `Vec<R>`
    Vec,
    /// `R`
    One,
    /// `Box<R>`
    Boxed,
    /// `Option<R>`
    Option,
    /// `Option<Box<R>>`
    OptionBox,
}

impl Holder {
    pub(crate) fn is_option(self) -> bool {
        matches!(self, Holder::Option | Holder::OptionBox)
    }
}

/// The argument of a `Related<...>` field: how it holds the target, and the target's type.
pub(crate) struct RelatedType<'a> {
    pub(crate) holder: Holder,
    pub(crate) target: &'a Type,
}

impl<'a> RelatedType<'a> {
    /// `Related<Vec<R>>`, `Related<R>`, `Related<Box<R>>`, `Related<Option<R>>` or
    /// `Related<Option<Box<R>>>`, with `R` a path that is none of these wrappers; `None` for
    /// anything else.
    pub(crate) fn of(ty: &'a Type) -> Option<Self> {
        let seg = last_segment(ty).filter(|s| s.ident == "Related")?;
        let arg = single_type_argument(seg)?;
        let (holder, target) = match wrapper(arg) {
            Some(("Vec", r)) => (Holder::Vec, r),
            Some(("Box", r)) => (Holder::Boxed, r),
            Some(("Option", inner)) => match wrapper(inner) {
                Some(("Box", r)) => (Holder::OptionBox, r),
                _ => (Holder::Option, inner),
            },
            _ => (Holder::One, arg),
        };
        let plain = last_segment(target)
            .is_some_and(|s| !["Vec", "Box", "Option", "Related"].iter().any(|w| s.ident == w));
        plain.then_some(RelatedType { holder, target })
    }
}

/// `("Vec", T)` for `Vec<T>`, likewise `Box` and `Option`.
fn wrapper(ty: &Type) -> Option<(&'static str, &Type)> {
    let seg = last_segment(ty)?;
    let name = ["Vec", "Box", "Option"].into_iter().find(|w| seg.ident == w)?;
    Some((name, single_type_argument(seg)?))
}

/// The named fields of a struct, or an error saying that a struct with named fields is needed.
fn named_fields<'a>(
    cx: &Ctxt,
    input: &'a DeriveInput,
    derive: &str,
) -> Option<&'a syn::punctuated::Punctuated<syn::Field, syn::Token![,]>> {
    let expected = format!("`#[derive({derive})]` needs a struct with named fields: `struct Name {{ field: Type, ... }}`");
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => return Some(&named.named),
            Fields::Unnamed(f) => cx.error_spanned_by(f, expected),
            Fields::Unit => cx.error_spanned_by(&input.ident, expected),
        },
        Data::Enum(e) => cx.error_spanned_by(e.enum_token, expected),
        Data::Union(u) => cx.error_spanned_by(u.union_token, expected),
    }
    None
}

// ---------------------------------------------------------------------------------------------
// #[derive(Model)]

/// A struct deriving `Model`.
pub(crate) struct Model<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) input: &'a DeriveInput,
    pub(crate) attrs: attr::ModelAttrs,
    pub(crate) fields: Vec<ModelField<'a>>,
}

/// A field of a model: a column unless `skip` or a `Related<...>`.
pub(crate) struct ModelField<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) attrs: attr::ModelFieldAttrs,
    pub(crate) shape: TypeShape,
    /// For a `Related<...>` field of a supported shape.
    pub(crate) related: Option<RelatedType<'a>>,
}

/// A relationship: its field, attribute and `Related<...>` type.
pub(crate) struct Relationship<'m, 'a> {
    pub(crate) field: &'m ModelField<'a>,
    pub(crate) attr: &'m attr::RelationAttr,
    pub(crate) ty: &'m RelatedType<'a>,
}

/// An index or UNIQUE constraint, with its name and column names resolved.
pub(crate) struct IndexDef {
    pub(crate) name: String,
    /// The columns of its column keys, in order.
    pub(crate) columns: Vec<String>,
    pub(crate) unique: bool,
    /// Every key, when one is an expression or has an operator class (else empty).
    pub(crate) keys: Vec<KeyDef>,
    /// `using = "gin"`.
    pub(crate) using: Option<String>,
    /// `where = "..."`.
    pub(crate) where_clause: Option<String>,
    /// Where it was declared.
    pub(crate) tokens: TokenStream,
}

/// One key of an index: a column or an expression, with an optional operator class.
pub(crate) struct KeyDef {
    pub(crate) column: Option<String>,
    pub(crate) expr: Option<String>,
    pub(crate) opclass: Option<String>,
}

impl<'a> Model<'a> {
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::ModelAttrs::from_ast(cx, &input.attrs);
        let named = named_fields(cx, input, "Model")?;
        let fields = named
            .iter()
            .filter_map(|f| {
                Some(ModelField {
                    ident: f.ident.as_ref()?,
                    ty: &f.ty,
                    attrs: attr::ModelFieldAttrs::from_ast(cx, &f.attrs),
                    shape: TypeShape::of(&f.ty),
                    related: RelatedType::of(&f.ty),
                })
            })
            .collect();
        Some(Model { ident: &input.ident, input, attrs, fields })
    }

    /// The tokens naming the `orm` crate in generated code.
    pub(crate) fn krate(&self) -> TokenStream {
        attr::krate(&self.attrs.krate)
    }

    pub(crate) fn table_name(&self) -> String {
        match &self.attrs.table {
            Some(t) => t.value.clone(),
            None => snake_case(&self.ident.unraw().to_string()),
        }
    }

    /// The column fields, in column order.
    pub(crate) fn columns(&self) -> impl Iterator<Item = &ModelField<'a>> + '_ {
        self.fields.iter().filter(|f| f.is_column())
    }

    /// The primary-key fields, in key order (field order).
    pub(crate) fn primary_key(&self) -> Vec<&ModelField<'a>> {
        self.columns().filter(|f| f.attrs.primary_key.is_some()).collect()
    }

    /// The field named `ident`, if any.
    pub(crate) fn field(&self, ident: &Ident) -> Option<&ModelField<'a>> {
        self.field_named(&ident.unraw().to_string())
    }

    /// The field named `name` (without `r#`), if any.
    pub(crate) fn field_named(&self, name: &str) -> Option<&ModelField<'a>> {
        self.fields.iter().find(|f| f.ident.unraw() == name)
    }

    /// The relationships, in field order: their index in `Model::RELATIONS`. Complete once the
    /// checks passed (every non-skipped `Related<...>` field has an attribute and a shape).
    pub(crate) fn relationships(&self) -> Vec<Relationship<'_, 'a>> {
        self.fields
            .iter()
            .filter(|f| f.shape.base == BaseType::Related && f.attrs.skip.is_none())
            .filter_map(|f| {
                Some(Relationship {
                    field: f,
                    attr: f.attrs.relation.as_ref()?,
                    ty: f.related.as_ref()?,
                })
            })
            .collect()
    }

    /// Whether column `f` is generated by the database: the model's only key column, an integer,
    /// with no client default and no `auto_increment = false`.
    pub(crate) fn is_auto_increment(&self, f: &ModelField) -> bool {
        f.attrs.primary_key.is_some()
            && self.primary_key().len() == 1
            && f.shape.base.is_integer()
            && !f.shape.option
            && f.attrs.default.is_none()
            && f.attrs.auto_increment.as_ref().is_none_or(|a| a.value)
    }

    /// Indexes then UNIQUE constraints: the fields' own (in field order), then the struct's.
    pub(crate) fn indexes(&self) -> (Vec<IndexDef>, Vec<IndexDef>) {
        let table = self.table_name();
        let mut indexes = Vec::new();
        let mut uniques = Vec::new();
        for f in self.columns() {
            let col = f.column_name();
            let plain = |name: String, unique: bool, tokens: &TokenStream| IndexDef {
                name,
                columns: vec![col.clone()],
                unique,
                keys: Vec::new(),
                using: None,
                where_clause: None,
                tokens: tokens.clone(),
            };
            match (&f.attrs.index, &f.attrs.unique) {
                (Some(ix), unique) => {
                    indexes.push(plain(format!("ix_{table}_{col}"), unique.is_some(), &ix.tokens))
                }
                (None, Some(uq)) => {
                    uniques.push(plain(format!("uq_{table}_{col}"), true, &uq.tokens))
                }
                (None, None) => {}
            }
        }
        let column_of =
            |i: &Ident| self.field(i).filter(|f| f.is_column()).map(ModelField::column_name);
        let composite = |c: &attr::CompositeIndex, prefix: &str| {
            let columns: Vec<String> = c.fields().filter_map(column_of).collect();
            let name = match &c.name {
                Some(n) => n.value.clone(),
                None => format!("{prefix}_{table}_{}", columns.join("_")),
            };
            let detailed = c.keys.iter().any(|k| match k {
                attr::CompositeKey::Field { opclass, .. } => opclass.is_some(),
                attr::CompositeKey::Expr(_) => true,
            });
            let keys = if detailed {
                c.keys
                    .iter()
                    .map(|k| match k {
                        attr::CompositeKey::Field { ident, opclass } => KeyDef {
                            column: Some(
                                column_of(ident).unwrap_or_else(|| ident.unraw().to_string()),
                            ),
                            expr: None,
                            opclass: opclass.as_ref().map(|o| o.value.clone()),
                        },
                        attr::CompositeKey::Expr(e) => {
                            KeyDef { column: None, expr: Some(e.value.clone()), opclass: None }
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            IndexDef {
                name,
                columns,
                unique: c.unique || prefix == "uq",
                keys,
                using: c.using.as_ref().map(|u| u.value.clone()),
                where_clause: c.where_clause.as_ref().map(|w| w.value.clone()),
                tokens: c.tokens.clone(),
            }
        };
        indexes.extend(self.attrs.indexes.iter().map(|c| composite(c, "ix")));
        uniques.extend(self.attrs.uniques.iter().map(|c| composite(c, "uq")));
        (indexes, uniques)
    }
}

impl ModelField<'_> {
    /// Whether the field is a column (not `skip`, not a `Related<...>`).
    pub(crate) fn is_column(&self) -> bool {
        self.attrs.skip.is_none() && self.shape.base != BaseType::Related
    }

    /// The Rust field's name, without `r#`.
    pub(crate) fn field_name(&self) -> String {
        self.ident.unraw().to_string()
    }

    pub(crate) fn column_name(&self) -> String {
        match &self.attrs.column {
            Some(c) => c.value.clone(),
            None => self.field_name(),
        }
    }

    /// The tokens to point at when the field as a column is meant: its `column = ...` if any,
    /// else its name.
    pub(crate) fn name_tokens(&self) -> TokenStream {
        match &self.attrs.column {
            Some(Spanned { tokens, .. }) => tokens.clone(),
            None => self.ident.to_token_stream(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// #[derive(DbEnum)]

/// An enum deriving `DbEnum`.
pub(crate) struct DbEnum<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) input: &'a DeriveInput,
    pub(crate) attrs: attr::EnumAttrs,
    pub(crate) variants: Vec<Variant<'a>>,
}

/// A variant of a `DbEnum`.
pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) original: &'a syn::Variant,
    pub(crate) attrs: attr::VariantAttrs,
}

impl<'a> DbEnum<'a> {
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::EnumAttrs::from_ast(cx, &input.attrs);
        let Data::Enum(data) = &input.data else {
            cx.error_spanned_by(
                &input.ident,
                "`#[derive(DbEnum)]` needs an enum of unit variants: `enum Name { A, B, ... }`",
            );
            return None;
        };
        let variants = data
            .variants
            .iter()
            .map(|v| Variant {
                ident: &v.ident,
                original: v,
                attrs: attr::VariantAttrs::from_ast(cx, &v.attrs),
            })
            .collect();
        Some(DbEnum { ident: &input.ident, input, attrs, variants })
    }

    pub(crate) fn type_name(&self) -> String {
        match &self.attrs.type_name {
            Some(t) => t.value.clone(),
            None => snake_case(&self.ident.unraw().to_string()),
        }
    }
}

impl Variant<'_> {
    pub(crate) fn label(&self) -> String {
        match &self.attrs.rename {
            Some(r) => r.value.clone(),
            None => snake_case(&self.ident.unraw().to_string()),
        }
    }

    /// Its `rename = ...` if any, else its name.
    pub(crate) fn label_tokens(&self) -> TokenStream {
        match &self.attrs.rename {
            Some(r) => r.tokens.clone(),
            None => self.ident.to_token_stream(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// #[derive(FromRow)]

/// A struct deriving `FromRow`.
pub(crate) struct RowStruct<'a> {
    pub(crate) input: &'a DeriveInput,
    /// `crate = "path"`.
    pub(crate) krate: Option<Spanned<syn::Path>>,
    pub(crate) fields: Vec<RowField<'a>>,
}

/// A field of a `FromRow` struct.
pub(crate) struct RowField<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) attrs: attr::RowFieldAttrs,
}

impl<'a> RowStruct<'a> {
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let krate = attr::from_row_struct_attrs(cx, &input.attrs);
        let named = named_fields(cx, input, "FromRow")?;
        let fields = named
            .iter()
            .filter_map(|f| {
                Some(RowField {
                    ident: f.ident.as_ref()?,
                    ty: &f.ty,
                    attrs: attr::RowFieldAttrs::from_ast(cx, &f.attrs),
                })
            })
            .collect();
        Some(RowStruct { input, krate, fields })
    }
}

impl RowField<'_> {
    pub(crate) fn column_name(&self) -> String {
        match &self.attrs.column {
            Some(c) => c.value.clone(),
            None => self.ident.unraw().to_string(),
        }
    }
}
