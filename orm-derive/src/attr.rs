//! Parsing of `#[orm(...)]` attributes into plain values, each kept with the tokens it was
//! written as so later checks can point at it. Parsing never stops at a bad key: the error is
//! recorded in the [`Ctxt`], the key's value is skipped, and the next key is read. Only broken
//! token syntax (a missing comma, say) ends the attribute early.
//!
//! Which keys a place accepts is decided here; whether they make sense together and with the
//! field's type is decided in `check.rs`.

use crate::ctxt::Ctxt;
use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::{token, Token};

/// A value and the tokens it was written as (`key = value`), for error spans.
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) tokens: TokenStream,
}

/// An attribute that may be given once; a second one is a "duplicate" error.
struct Slot<'c, T> {
    cx: &'c Ctxt,
    name: &'static str,
    value: Option<Spanned<T>>,
}

impl<'c, T> Slot<'c, T> {
    fn new(cx: &'c Ctxt, name: &'static str) -> Self {
        Slot { cx, name, value: None }
    }

    fn set(&mut self, value: Option<Spanned<T>>) {
        let Some(value) = value else { return };
        if self.value.is_some() {
            self.cx.error_spanned_by(
                &value.tokens,
                format!("duplicate orm attribute `{}`", self.name),
            );
        } else {
            self.value = Some(value);
        }
    }

    fn get(self) -> Option<Spanned<T>> {
        self.value
    }
}

/// The key of a nested meta item as written (`primary_key`, or `a::b` for a path).
fn key_of(meta: &ParseNestedMeta) -> String {
    match meta.path.get_ident() {
        Some(ident) => ident.unraw().to_string(),
        None => meta.path.to_token_stream().to_string().replace(' ', ""),
    }
}

/// Calls `f` for every `key...` item of every `#[orm(...)]` attribute.
fn for_each_item(
    cx: &Ctxt,
    attrs: &[syn::Attribute],
    mut f: impl FnMut(&str, &ParseNestedMeta) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("orm")) {
        if !matches!(attr.meta, syn::Meta::List(_)) {
            cx.error_spanned_by(attr, "expected `#[orm(...)]`");
            continue;
        }
        if let Err(e) = attr.parse_nested_meta(|meta| f(&key_of(&meta), &meta)) {
            cx.syn_error(e);
        }
    }
}

/// The tokens up to the next top-level comma.
fn rest_of_item(input: ParseStream) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        tokens.extend([input.parse::<TokenTree>()?]);
    }
    Ok(tokens)
}

/// Skips whatever follows a key (`= ...` or `(...)`) and returns it.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    if meta.input.peek(Token![=]) {
        meta.input.parse::<Token![=]>()?.to_tokens(&mut tokens);
        tokens.extend(rest_of_item(meta.input)?);
    } else if meta.input.peek(token::Paren) {
        tokens.extend([meta.input.parse::<TokenTree>()?]);
    }
    Ok(tokens)
}

/// Reports an unknown key, listing the keys this place accepts, and skips its value.
fn unknown(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &str,
    place: &str,
    expected: &str,
) -> syn::Result<()> {
    skip_value(meta)?;
    cx.error_spanned_by(
        &meta.path,
        format!("unknown orm {place} attribute `{key}`; expected one of: {expected}"),
    );
    Ok(())
}

/// A bare `key`.
fn flag(cx: &Ctxt, meta: &ParseNestedMeta, key: &str) -> syn::Result<Option<Spanned<()>>> {
    let path = meta.path.to_token_stream();
    if meta.input.peek(Token![=]) || meta.input.peek(token::Paren) {
        let rest = skip_value(meta)?;
        cx.error_spanned_by(quote!(#path #rest), format!("`{key}` takes no value: write `{key}`"));
    }
    // Even when written with a value, the flag counts as given: no follow-on errors.
    Ok(Some(Spanned { value: (), tokens: path }))
}

/// `key = <value>`, the value read by `parse`; `expected` is the syntax shown when it fails.
fn value_with<T>(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    expected: &str,
    parse: impl FnOnce(ParseStream) -> syn::Result<T>,
) -> syn::Result<Option<Spanned<T>>> {
    let path = meta.path.to_token_stream();
    if !meta.input.peek(Token![=]) {
        let rest = skip_value(meta)?;
        cx.error_spanned_by(quote!(#path #rest), format!("expected `{expected}`"));
        return Ok(None);
    }
    let eq: Token![=] = meta.input.parse()?;
    let value = rest_of_item(meta.input)?;
    let tokens = quote!(#path #eq #value);
    match parse.parse2(value) {
        Ok(value) => Ok(Some(Spanned { value, tokens })),
        Err(_) => {
            cx.error_spanned_by(&tokens, format!("expected `{expected}`"));
            Ok(None)
        }
    }
}

/// `key = "text"`.
fn string(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    expected: &str,
) -> syn::Result<Option<Spanned<String>>> {
    let v = value_with(cx, meta, expected, |input| input.parse::<syn::LitStr>())?;
    Ok(v.map(|s| Spanned { value: s.value.value(), tokens: s.tokens }))
}

/// `key = "name"`, where the name may not be empty.
fn name(cx: &Ctxt, meta: &ParseNestedMeta, expected: &str) -> syn::Result<Option<Spanned<String>>> {
    let v = string(cx, meta, expected)?;
    if let Some(s) = &v {
        if s.value.trim().is_empty() {
            cx.error_spanned_by(
                &s.tokens,
                format!("a name cannot be empty: expected `{expected}`"),
            );
            return Ok(None);
        }
    }
    Ok(v)
}

/// `crate = "path"`: the path the generated code names the `orm` crate by.
fn crate_path(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<Spanned<syn::Path>>> {
    value_with(cx, meta, CRATE_SYNTAX, |input| input.parse::<syn::LitStr>()?.parse::<syn::Path>())
}

const CRATE_SYNTAX: &str = "crate = \"path\"`, the path the `orm` crate is reached by, such as `crate = \"my_orm\"` or `crate = \"::app::db::orm\"";

/// The tokens that name the `orm` crate in generated code: `crate = "..."` if given, else
/// `::orm`.
pub(crate) fn krate(path: &Option<Spanned<syn::Path>>) -> TokenStream {
    match path {
        Some(p) => p.value.to_token_stream(),
        None => quote!(::orm),
    }
}

/// `key` (true) or `key = true|false`.
fn boolean(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &str,
    expected: &str,
) -> syn::Result<Option<Spanned<bool>>> {
    if meta.input.peek(Token![=]) {
        let v = value_with(cx, meta, expected, |input| input.parse::<syn::LitBool>())?;
        return Ok(v.map(|b| Spanned { value: b.value.value, tokens: b.tokens }));
    }
    Ok(flag(cx, meta, key)?.map(|f| Spanned { value: true, tokens: f.tokens }))
}

/// A client-side default, `default = ...`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DefaultSpec {
    /// `now`
    Now,
    /// `uuid4`
    Uuid4,
    /// An integer literal, sign included.
    Int(i64),
    /// A float literal, sign included.
    Float(f64),
    /// `true` / `false`
    Bool(bool),
    /// A string literal.
    Text(String),
}

const DEFAULT_SYNTAX: &str = "default = now`, `default = uuid4` or a literal such as `default = 0`, `default = 1.5`, `default = true`, `default = \"text\"";

fn parse_default(input: ParseStream) -> syn::Result<DefaultSpec> {
    if input.peek(syn::LitBool) {
        return Ok(DefaultSpec::Bool(input.parse::<syn::LitBool>()?.value));
    }
    if input.peek(syn::Ident) {
        let ident: syn::Ident = input.parse()?;
        return match ident.to_string().as_str() {
            "now" => Ok(DefaultSpec::Now),
            "uuid4" => Ok(DefaultSpec::Uuid4),
            _ => Err(syn::Error::new(ident.span(), "unknown default")),
        };
    }
    let negative = input.parse::<Option<Token![-]>>()?.is_some();
    match input.parse::<syn::Lit>()? {
        syn::Lit::Int(i) => {
            let v = i.base10_parse::<i128>()?;
            let v = if negative { -v } else { v };
            let v = i64::try_from(v).map_err(|_| syn::Error::new(i.span(), "out of range"))?;
            Ok(DefaultSpec::Int(v))
        }
        syn::Lit::Float(f) => {
            let v = f.base10_parse::<f64>()?;
            if !v.is_finite() {
                return Err(syn::Error::new(f.span(), "not finite"));
            }
            Ok(DefaultSpec::Float(if negative { -v } else { v }))
        }
        syn::Lit::Str(s) if !negative => Ok(DefaultSpec::Text(s.value())),
        other => Err(syn::Error::new(other.span(), "unsupported literal")),
    }
}

/// `ON DELETE` / `ON UPDATE` action, by its variant name in `orm::ReferentialAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReferentialAction {
    Cascade,
    SetNull,
    SetDefault,
    Restrict,
    NoAction,
}

impl ReferentialAction {
    pub(crate) fn variant(self) -> &'static str {
        match self {
            ReferentialAction::Cascade => "Cascade",
            ReferentialAction::SetNull => "SetNull",
            ReferentialAction::SetDefault => "SetDefault",
            ReferentialAction::Restrict => "Restrict",
            ReferentialAction::NoAction => "NoAction",
        }
    }
}

fn action(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &str,
) -> syn::Result<Option<Spanned<ReferentialAction>>> {
    let expected = format!("{key} = cascade|set_null|set_default|restrict|no_action");
    value_with(cx, meta, &expected, |input| {
        let ident: syn::Ident = input.parse()?;
        match ident.to_string().as_str() {
            "cascade" => Ok(ReferentialAction::Cascade),
            "set_null" => Ok(ReferentialAction::SetNull),
            "set_default" => Ok(ReferentialAction::SetDefault),
            "restrict" => Ok(ReferentialAction::Restrict),
            "no_action" => Ok(ReferentialAction::NoAction),
            _ => Err(syn::Error::new(ident.span(), "unknown action")),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// #[derive(Model)]

const MODEL_KEYS: &str =
    "table, index(...), unique(...), check(...), no_default, renamed_from, crate";
const MODEL_FIELD_KEYS: &str = "primary_key, auto_increment, unique, index, max_length, \
                                precision, scale, sql_type, default, server_default, \
                                references, on_delete, on_update, fk_name, column, skip, \
                                belongs_to(...), has_one(...), has_many(...), many_to_many(...), \
                                renamed_from, version";

/// The index methods `using = "..."` accepts.
pub(crate) const INDEX_METHODS: &[&str] = &["btree", "hash", "gist", "gin", "brin"];

/// One key of a struct-level `index(...)`: a field (with an optional operator class,
/// `field(opclass = "jsonb_path_ops")`) or an SQL expression (`expr = "lower(email)"`).
pub(crate) enum CompositeKey {
    Field { ident: syn::Ident, opclass: Option<Spanned<String>> },
    Expr(Spanned<String>),
}

/// A multi-column `index(...)` or `unique(...)` on the struct.
pub(crate) struct CompositeIndex {
    /// The keys, as written.
    pub(crate) keys: Vec<CompositeKey>,
    pub(crate) name: Option<Spanned<String>>,
    /// `unique` inside `index(...)`.
    pub(crate) unique: bool,
    /// `using = "gin"`.
    pub(crate) using: Option<Spanned<String>>,
    /// `where = "SQL"`: a partial index.
    pub(crate) where_clause: Option<Spanned<String>>,
    /// The whole `index(...)`, for error spans.
    pub(crate) tokens: TokenStream,
}

impl CompositeIndex {
    /// The fields it names, as written.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &syn::Ident> {
        self.keys.iter().filter_map(|k| match k {
            CompositeKey::Field { ident, .. } => Some(ident),
            CompositeKey::Expr(_) => None,
        })
    }

    /// Whether a key is an expression.
    pub(crate) fn has_expr(&self) -> bool {
        self.keys.iter().any(|k| matches!(k, CompositeKey::Expr(_)))
    }
}

/// A struct-level `check(name = "...", expr = "...")`.
pub(crate) struct CheckAttr {
    pub(crate) name: Spanned<String>,
    pub(crate) expr: Spanned<String>,
}

/// Struct attributes of a model.
pub(crate) struct ModelAttrs {
    pub(crate) table: Option<Spanned<String>>,
    pub(crate) indexes: Vec<CompositeIndex>,
    pub(crate) uniques: Vec<CompositeIndex>,
    /// `check(name = "...", expr = "...")`.
    pub(crate) checks: Vec<CheckAttr>,
    pub(crate) no_default: Option<Spanned<()>>,
    /// `renamed_from = "old_table"`.
    pub(crate) renamed_from: Option<Spanned<String>>,
    /// `crate = "path"`.
    pub(crate) krate: Option<Spanned<syn::Path>>,
}

impl ModelAttrs {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut table = Slot::new(cx, "table");
        let mut no_default = Slot::new(cx, "no_default");
        let mut renamed_from = Slot::new(cx, "renamed_from");
        let mut krate = Slot::new(cx, "crate");
        let mut indexes = Vec::new();
        let mut uniques = Vec::new();
        let mut checks = Vec::new();
        for_each_item(cx, attrs, |key, meta| {
            match key {
                "table" => table.set(name(cx, meta, "table = \"name\"")?),
                "check" => checks.extend(check(cx, meta)?),
                "no_default" => no_default.set(flag(cx, meta, key)?),
                "renamed_from" => renamed_from.set(name(cx, meta, "renamed_from = \"old_table\"")?),
                "crate" => krate.set(crate_path(cx, meta)?),
                "index" => indexes.extend(composite(cx, meta, true)?),
                "unique" => uniques.extend(composite(cx, meta, false)?),
                _ => unknown(cx, meta, key, "struct", MODEL_KEYS)?,
            }
            Ok(())
        });
        ModelAttrs {
            table: table.get(),
            indexes,
            uniques,
            checks,
            no_default: no_default.get(),
            renamed_from: renamed_from.get(),
            krate: krate.get(),
        }
    }
}

const CHECK_SYNTAX: &str = "check(name = \"ck_name\", expr = \"SQL condition\")";

/// `check(name = "ck_price_positive", expr = "price > 0")`.
fn check(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<CheckAttr>> {
    let path = meta.path.to_token_stream();
    if !meta.input.peek(token::Paren) {
        let rest = skip_value(meta)?;
        cx.error_spanned_by(quote!(#path #rest), format!("expected `{CHECK_SYNTAX}`"));
        return Ok(None);
    }
    let group: TokenTree = meta.input.parse()?;
    let content = match &group {
        TokenTree::Group(g) => g.stream(),
        _ => TokenStream::new(),
    };
    let mut check_name = Slot::new(cx, "name");
    let mut expr = Slot::new(cx, "expr");
    let (mut saw_name, mut saw_expr) = (false, false);
    let items = syn::meta::parser(|inner| {
        match key_of(&inner).as_str() {
            "name" => {
                saw_name = true;
                check_name.set(name(cx, &inner, CHECK_SYNTAX)?)
            }
            "expr" => {
                saw_expr = true;
                expr.set(sql_text(cx, &inner, "expr", CHECK_SYNTAX)?)
            }
            key => unknown(cx, &inner, key, "check", "name, expr")?,
        }
        Ok(())
    });
    if let Err(e) = items.parse2(content) {
        cx.syn_error(e);
    }
    let tokens = quote!(#path #group);
    match (check_name.get(), expr.get()) {
        (Some(name), Some(expr)) => Ok(Some(CheckAttr { name, expr })),
        _ => {
            // A key given with a bad value was reported already.
            for (missing, seen) in [("name", saw_name), ("expr", saw_expr)] {
                if !seen {
                    cx.error_spanned_by(
                        &tokens,
                        format!("`check(...)` needs `{missing}`: expected `{CHECK_SYNTAX}`"),
                    );
                }
            }
            Ok(None)
        }
    }
}

/// `key = "SQL"`, where the SQL may not be empty.
fn sql_text(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &str,
    expected: &str,
) -> syn::Result<Option<Spanned<String>>> {
    let v = string(cx, meta, expected)?;
    if let Some(s) = &v {
        if s.value.trim().is_empty() {
            cx.error_spanned_by(
                &s.tokens,
                format!("`{key}` cannot be empty: expected `{expected}`"),
            );
            return Ok(None);
        }
    }
    Ok(v)
}

/// `index(a, b, name = "ix", unique, using = "gin", where = "...", expr = "...",
/// field(opclass = "..."))` or `unique(a, b, name = "uq")`.
fn composite(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    is_index: bool,
) -> syn::Result<Option<CompositeIndex>> {
    let expected = if is_index {
        "index(field, ..., name = \"ix_name\", unique, using = \"gin\", expr = \"SQL\", \
         field(opclass = \"name\"), where = \"SQL\")"
    } else {
        "unique(field, ..., name = \"uq_name\")"
    };
    let path = meta.path.to_token_stream();
    if !meta.input.peek(token::Paren) {
        let rest = skip_value(meta)?;
        cx.error_spanned_by(quote!(#path #rest), format!("expected `{expected}`"));
        return Ok(None);
    }
    let group: TokenTree = meta.input.parse()?;
    let content = match &group {
        TokenTree::Group(g) => g.stream(),
        _ => TokenStream::new(),
    };
    let mut keys = Vec::new();
    let mut index_name = Slot::new(cx, "name");
    let mut unique = Slot::new(cx, "unique");
    let mut using = Slot::new(cx, "using");
    let mut where_clause = Slot::new(cx, "where");
    let mut bad_key = false;
    if !content.is_empty() {
        let items = syn::meta::parser(|inner| {
            let key = key_of(&inner);
            let has_value = inner.input.peek(Token![=]) || inner.input.peek(token::Paren);
            if key == "name" && has_value {
                index_name.set(name(cx, &inner, expected)?);
            } else if key == "unique" && is_index {
                unique.set(flag(cx, &inner, "unique")?);
            } else if key == "using" && is_index && has_value {
                using.set(index_method(cx, &inner)?);
            } else if key == "where" && is_index && has_value {
                where_clause.set(sql_text(cx, &inner, "where", "where = \"SQL condition\"")?);
            } else if key == "expr" && is_index && has_value {
                match sql_text(cx, &inner, "expr", "expr = \"lower(email)\"")? {
                    Some(e) => keys.push(CompositeKey::Expr(e)),
                    None => bad_key = true,
                }
            } else if let (Some(ident), true) =
                (inner.path.get_ident(), is_index && inner.input.peek(token::Paren))
            {
                let ident = ident.clone();
                let mut opclass = Slot::new(cx, "opclass");
                let syntax = "field(opclass = \"jsonb_path_ops\")";
                let parsed = inner.parse_nested_meta(|o| {
                    match key_of(&o).as_str() {
                        "opclass" => opclass.set(opclass_name(cx, &o, syntax)?),
                        k => unknown(cx, &o, k, "index key", "opclass")?,
                    }
                    Ok(())
                });
                if let Err(e) = parsed {
                    cx.syn_error(e);
                }
                keys.push(CompositeKey::Field { ident, opclass: opclass.get() });
            } else if let (Some(ident), false) = (inner.path.get_ident(), has_value) {
                keys.push(CompositeKey::Field { ident: ident.clone(), opclass: None });
            } else {
                let rest = skip_value(&inner)?;
                let p = &inner.path;
                cx.error_spanned_by(quote!(#p #rest), format!("expected `{expected}`"));
                bad_key = true;
            }
            Ok(())
        });
        if let Err(e) = items.parse2(content) {
            cx.syn_error(e);
        }
    }
    if keys.is_empty() {
        if !bad_key {
            let what = if is_index { "one field or `expr`" } else { "one field" };
            cx.error_spanned_by(
                quote!(#path #group),
                format!("expected at least {what}: `{expected}`"),
            );
        }
        return Ok(None);
    }
    Ok(Some(CompositeIndex {
        keys,
        name: index_name.get(),
        unique: unique.get().is_some(),
        using: using.get(),
        where_clause: where_clause.get(),
        tokens: quote!(#path #group),
    }))
}

/// `opclass = "jsonb_path_ops"`: a name, optionally schema-qualified (it is written into the
/// SQL as it is).
fn opclass_name(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    expected: &str,
) -> syn::Result<Option<Spanned<String>>> {
    let Some(v) = name(cx, meta, expected)? else { return Ok(None) };
    let word = v.value.split('.').all(|part| {
        part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if !word {
        cx.error_spanned_by(
            &v.tokens,
            format!("`{}` is no operator class name: expected `{expected}`", v.value),
        );
        return Ok(None);
    }
    Ok(Some(v))
}

/// `using = "gin"`: one of [`INDEX_METHODS`].
fn index_method(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<Spanned<String>>> {
    let expected = format!("using = \"{}\"", INDEX_METHODS.join("\" | \""));
    let Some(v) = string(cx, meta, &expected)? else { return Ok(None) };
    let method = v.value.to_ascii_lowercase();
    if !INDEX_METHODS.contains(&method.as_str()) {
        cx.error_spanned_by(
            &v.tokens,
            format!(
                "unknown index method `{}`; expected one of: {}",
                v.value,
                INDEX_METHODS.join(", ")
            ),
        );
        return Ok(None);
    }
    Ok(Some(Spanned { value: method, tokens: v.tokens }))
}

/// Field attributes of a model.
#[derive(Default)]
pub(crate) struct ModelFieldAttrs {
    pub(crate) primary_key: Option<Spanned<()>>,
    pub(crate) auto_increment: Option<Spanned<bool>>,
    pub(crate) unique: Option<Spanned<()>>,
    pub(crate) index: Option<Spanned<()>>,
    pub(crate) max_length: Option<Spanned<u32>>,
    /// `precision = 10`: a `Decimal`'s total digits (SQLAlchemy's `Numeric(10, 2)`).
    pub(crate) precision: Option<Spanned<u32>>,
    /// `scale = 2`: a `Decimal`'s digits after the point (with `precision`).
    pub(crate) scale: Option<Spanned<u32>>,
    /// `sql_type = "char(2)"`: the column's SQL type, written verbatim in the DDL.
    pub(crate) sql_type: Option<Spanned<String>>,
    pub(crate) default: Option<Spanned<DefaultSpec>>,
    pub(crate) server_default: Option<Spanned<String>>,
    pub(crate) references: Option<Spanned<syn::Path>>,
    pub(crate) on_delete: Option<Spanned<ReferentialAction>>,
    pub(crate) on_update: Option<Spanned<ReferentialAction>>,
    /// `fk_name = "..."`: the name of the foreign key `references` makes.
    pub(crate) fk_name: Option<Spanned<String>>,
    pub(crate) column: Option<Spanned<String>>,
    pub(crate) skip: Option<Spanned<()>>,
    /// `renamed_from = "old_column"`.
    pub(crate) renamed_from: Option<Spanned<String>>,
    /// `version`: the optimistic-concurrency counter.
    pub(crate) version: Option<Spanned<()>>,
    /// `belongs_to(...)`, `has_one(...)`, `has_many(...)` or `many_to_many(...)`.
    pub(crate) relation: Option<RelationAttr>,
}

impl ModelFieldAttrs {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut primary_key = Slot::new(cx, "primary_key");
        let mut auto_increment = Slot::new(cx, "auto_increment");
        let mut unique = Slot::new(cx, "unique");
        let mut index = Slot::new(cx, "index");
        let mut max_length = Slot::new(cx, "max_length");
        let mut precision = Slot::new(cx, "precision");
        let mut scale = Slot::new(cx, "scale");
        let mut sql_type = Slot::new(cx, "sql_type");
        let mut default = Slot::new(cx, "default");
        let mut server_default = Slot::new(cx, "server_default");
        let mut references = Slot::new(cx, "references");
        let mut on_delete = Slot::new(cx, "on_delete");
        let mut on_update = Slot::new(cx, "on_update");
        let mut fk_name = Slot::new(cx, "fk_name");
        let mut column = Slot::new(cx, "column");
        let mut skip = Slot::new(cx, "skip");
        let mut renamed_from = Slot::new(cx, "renamed_from");
        let mut version = Slot::new(cx, "version");
        let mut relation: Option<RelationAttr> = None;
        for_each_item(cx, attrs, |key, meta| {
            if let Some(kind) = RelationKind::from_key(key) {
                let Some(r) = relationship(cx, meta, kind)? else { return Ok(()) };
                match &relation {
                    Some(first) => cx.error_spanned_by(
                        &r.tokens,
                        format!(
                            "a field declares one relationship: `{}` conflicts with `{}`",
                            kind.key(),
                            first.kind.key()
                        ),
                    ),
                    None => relation = Some(r),
                }
                return Ok(());
            }
            match key {
                "primary_key" => primary_key.set(flag(cx, meta, key)?),
                "auto_increment" => {
                    auto_increment.set(boolean(cx, meta, key, "auto_increment = false")?)
                }
                "unique" => unique.set(flag(cx, meta, key)?),
                "index" => index.set(flag(cx, meta, key)?),
                "max_length" => max_length.set(value_with(cx, meta, "max_length = 80", |input| {
                    let n = input.parse::<syn::LitInt>()?.base10_parse::<u32>()?;
                    if n == 0 {
                        return Err(input.error("zero"));
                    }
                    Ok(n)
                })?),
                "precision" => precision.set(value_with(cx, meta, "precision = 10", |input| {
                    input.parse::<syn::LitInt>()?.base10_parse::<u32>()
                })?),
                "scale" => scale.set(value_with(cx, meta, "scale = 2", |input| {
                    input.parse::<syn::LitInt>()?.base10_parse::<u32>()
                })?),
                "sql_type" => {
                    let t = string(cx, meta, "sql_type = \"char(2)\"")?;
                    match t {
                        Some(t) if t.value.trim().is_empty() => cx.error_spanned_by(
                            &t.tokens,
                            "`sql_type` cannot be empty: expected the column's SQL type, such \
                             as `sql_type = \"char(2)\"`",
                        ),
                        t => sql_type.set(t),
                    }
                }
                "default" => default.set(value_with(cx, meta, DEFAULT_SYNTAX, parse_default)?),
                "server_default" => {
                    server_default.set(string(cx, meta, "server_default = \"SQL expression\"")?)
                }
                "references" => {
                    references.set(value_with(cx, meta, "references = Model", |input| {
                        input.parse::<syn::Path>()
                    })?)
                }
                "on_delete" => on_delete.set(action(cx, meta, key)?),
                "on_update" => on_update.set(action(cx, meta, key)?),
                "fk_name" => fk_name.set(name(cx, meta, "fk_name = \"name\"")?),
                "column" => column.set(name(cx, meta, "column = \"name\"")?),
                "skip" => skip.set(flag(cx, meta, key)?),
                "renamed_from" => {
                    renamed_from.set(name(cx, meta, "renamed_from = \"old_column\"")?)
                }
                "version" => version.set(flag(cx, meta, key)?),
                _ => unknown(cx, meta, key, "field", MODEL_FIELD_KEYS)?,
            }
            Ok(())
        });
        ModelFieldAttrs {
            primary_key: primary_key.get(),
            auto_increment: auto_increment.get(),
            unique: unique.get(),
            index: index.get(),
            max_length: max_length.get(),
            precision: precision.get(),
            scale: scale.get(),
            sql_type: sql_type.get(),
            default: default.get(),
            server_default: server_default.get(),
            references: references.get(),
            on_delete: on_delete.get(),
            on_update: on_update.get(),
            fk_name: fk_name.get(),
            column: column.get(),
            skip: skip.get(),
            renamed_from: renamed_from.get(),
            version: version.get(),
            relation,
        }
    }

    /// Every key given other than `skip` and `column`, with its tokens: what `skip` and a
    /// `Related` field cannot have.
    pub(crate) fn column_options(&self) -> Vec<(&'static str, &TokenStream)> {
        fn t<T>(s: &Option<Spanned<T>>) -> Option<&TokenStream> {
            s.as_ref().map(|s| &s.tokens)
        }
        [
            ("primary_key", t(&self.primary_key)),
            ("auto_increment", t(&self.auto_increment)),
            ("unique", t(&self.unique)),
            ("index", t(&self.index)),
            ("max_length", t(&self.max_length)),
            ("precision", t(&self.precision)),
            ("scale", t(&self.scale)),
            ("sql_type", t(&self.sql_type)),
            ("default", t(&self.default)),
            ("server_default", t(&self.server_default)),
            ("references", t(&self.references)),
            ("on_delete", t(&self.on_delete)),
            ("on_update", t(&self.on_update)),
            ("fk_name", t(&self.fk_name)),
            ("renamed_from", t(&self.renamed_from)),
            ("version", t(&self.version)),
        ]
        .into_iter()
        .filter_map(|(key, tokens)| Some((key, tokens?)))
        .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Relationships: `belongs_to(...)`, `has_one(...)`, `has_many(...)`, `many_to_many(...)`

/// The kind of a relationship, by the key that declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelationKind {
    BelongsTo,
    HasOne,
    HasMany,
    ManyToMany,
}

impl RelationKind {
    fn from_key(key: &str) -> Option<Self> {
        match key {
            "belongs_to" => Some(RelationKind::BelongsTo),
            "has_one" => Some(RelationKind::HasOne),
            "has_many" => Some(RelationKind::HasMany),
            "many_to_many" => Some(RelationKind::ManyToMany),
            _ => None,
        }
    }

    pub(crate) fn key(self) -> &'static str {
        match self {
            RelationKind::BelongsTo => "belongs_to",
            RelationKind::HasOne => "has_one",
            RelationKind::HasMany => "has_many",
            RelationKind::ManyToMany => "many_to_many",
        }
    }

    /// Its variant in `orm::RelationKind`.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            RelationKind::BelongsTo => "BelongsTo",
            RelationKind::HasOne => "HasOne",
            RelationKind::HasMany => "HasMany",
            RelationKind::ManyToMany => "ManyToMany",
        }
    }

    /// Whether it holds a collection (`Related<Vec<Model>>`).
    pub(crate) fn is_many(self) -> bool {
        matches!(self, RelationKind::HasMany | RelationKind::ManyToMany)
    }

    /// The full syntax, shown in errors.
    pub(crate) fn syntax(self) -> &'static str {
        match self {
            RelationKind::BelongsTo => "belongs_to(foreign_key = field)",
            RelationKind::HasOne => {
                "has_one` or `has_one(foreign_key = field, cascade = \"save, delete, delete_orphan\", passive_deletes)"
            }
            RelationKind::HasMany => {
                "has_many` or `has_many(foreign_key = field, cascade = \"save, delete, delete_orphan\", passive_deletes)"
            }
            RelationKind::ManyToMany => {
                "many_to_many(through = Model | \"table\", local = field | column, remote = field | column, cascade = \"save, delete\", passive_deletes)"
            }
        }
    }

    /// The keys it accepts, for the "unknown key" error.
    fn keys(self) -> &'static str {
        match self {
            RelationKind::BelongsTo => "foreign_key",
            RelationKind::HasOne | RelationKind::HasMany => "foreign_key, cascade, passive_deletes",
            RelationKind::ManyToMany => "through, local, remote, cascade, passive_deletes",
        }
    }
}

/// `through = "table"` (an association table without a model) or `through = Model`.
pub(crate) enum ThroughSpec {
    Table(String),
    Model(syn::Path),
}

/// The words of `cascade = "..."`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CascadeSpec {
    pub(crate) save: bool,
    pub(crate) delete: bool,
    pub(crate) delete_orphan: bool,
}

const CASCADE_WORDS: &str = "save, delete, delete_orphan, all";

/// Column or field names: `name`, `"name"` or `(a, b)`, each with its tokens.
pub(crate) type Names = Vec<Spanned<String>>;

/// A relationship attribute on a field.
pub(crate) struct RelationAttr {
    pub(crate) kind: RelationKind,
    /// belongs_to: fields of this struct; has_one / has_many: fields of the target (inferred
    /// when not given).
    pub(crate) foreign_key: Option<Spanned<Names>>,
    pub(crate) through: Option<Spanned<ThroughSpec>>,
    /// What holds this model's key in the association: fields of a `through = Model`, columns
    /// of a `through = "table"`.
    pub(crate) local: Option<Spanned<Names>>,
    /// What holds the target's key, likewise.
    pub(crate) remote: Option<Spanned<Names>>,
    pub(crate) cascade: Option<Spanned<CascadeSpec>>,
    pub(crate) passive_deletes: Option<Spanned<()>>,
    /// The whole `has_many(...)`, for error spans.
    pub(crate) tokens: TokenStream,
}

/// One name: an identifier (`r#` removed) or a non-empty string.
fn parse_name(input: ParseStream) -> syn::Result<Spanned<String>> {
    if input.peek(syn::LitStr) {
        let s: syn::LitStr = input.parse()?;
        if s.value().trim().is_empty() {
            return Err(syn::Error::new(s.span(), "empty name"));
        }
        return Ok(Spanned { value: s.value(), tokens: s.into_token_stream() });
    }
    let ident = input.call(syn::Ident::parse_any)?;
    Ok(Spanned { value: ident.unraw().to_string(), tokens: ident.into_token_stream() })
}

/// `name` or `(a, b, ...)`.
fn parse_names(input: ParseStream) -> syn::Result<Names> {
    if !input.peek(token::Paren) {
        return Ok(vec![parse_name(input)?]);
    }
    let content;
    syn::parenthesized!(content in input);
    let names: Names =
        syn::punctuated::Punctuated::<_, Token![,]>::parse_terminated_with(&content, parse_name)?
            .into_iter()
            .collect();
    if names.is_empty() {
        return Err(content.error("no names"));
    }
    Ok(names)
}

fn parse_through(input: ParseStream) -> syn::Result<ThroughSpec> {
    if input.peek(syn::LitStr) {
        let s: syn::LitStr = input.parse()?;
        if s.value().trim().is_empty() {
            return Err(syn::Error::new(s.span(), "empty name"));
        }
        return Ok(ThroughSpec::Table(s.value()));
    }
    Ok(ThroughSpec::Model(input.parse()?))
}

/// `cascade = "word, word"`; an unknown word is reported at the string, the others kept.
fn cascade(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<Spanned<CascadeSpec>>> {
    let expected = "cascade = \"save, delete, delete_orphan\"";
    let Some(lit) = value_with(cx, meta, expected, |input| input.parse::<syn::LitStr>())? else {
        return Ok(None);
    };
    let mut spec = CascadeSpec::default();
    for word in lit.value.value().split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match word {
            "save" => spec.save = true,
            "delete" => spec.delete = true,
            "delete_orphan" => spec.delete_orphan = true,
            "all" => {
                spec.save = true;
                spec.delete = true;
            }
            _ => cx.error_spanned_by(
                &lit.value,
                format!(
                    "unknown cascade `{word}`; expected a comma-separated list of: {CASCADE_WORDS}"
                ),
            ),
        }
    }
    Ok(Some(Spanned { value: spec, tokens: lit.tokens }))
}

/// `belongs_to(...)`, `has_one(...)`, `has_many(...)` or `many_to_many(...)`.
fn relationship(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    kind: RelationKind,
) -> syn::Result<Option<RelationAttr>> {
    let expected = kind.syntax();
    let path = meta.path.to_token_stream();
    let bare = !meta.input.peek(token::Paren) && !meta.input.peek(Token![=]);
    if bare && matches!(kind, RelationKind::HasOne | RelationKind::HasMany) {
        // `has_many` alone: every key has its default, the foreign key is inferred.
        return Ok(Some(RelationAttr {
            kind,
            foreign_key: None,
            through: None,
            local: None,
            remote: None,
            cascade: None,
            passive_deletes: None,
            tokens: path,
        }));
    }
    if !meta.input.peek(token::Paren) {
        let rest = skip_value(meta)?;
        cx.error_spanned_by(quote!(#path #rest), format!("expected `{expected}`"));
        return Ok(None);
    }
    let group: TokenTree = meta.input.parse()?;
    let tokens = quote!(#path #group);
    let content = match &group {
        TokenTree::Group(g) => g.stream(),
        _ => TokenStream::new(),
    };
    let mut foreign_key = Slot::new(cx, "foreign_key");
    let mut through = Slot::new(cx, "through");
    let mut local = Slot::new(cx, "local");
    let mut remote = Slot::new(cx, "remote");
    let mut cascades = Slot::new(cx, "cascade");
    let mut passive_deletes = Slot::new(cx, "passive_deletes");
    let m2m = kind == RelationKind::ManyToMany;
    let items = syn::meta::parser(|inner| {
        let key = key_of(&inner);
        match key.as_str() {
            "foreign_key" if !m2m => {
                let syntax = "foreign_key = field` or `foreign_key = (field, field)";
                foreign_key.set(value_with(cx, &inner, syntax, parse_names)?);
            }
            "through" if m2m => through.set(value_with(
                cx,
                &inner,
                "through = \"table\"` or `through = Model",
                parse_through,
            )?),
            "local" if m2m => local.set(value_with(
                cx,
                &inner,
                "local = field` or `local = (field, field)",
                parse_names,
            )?),
            "remote" if m2m => remote.set(value_with(
                cx,
                &inner,
                "remote = field` or `remote = (field, field)",
                parse_names,
            )?),
            "cascade" | "passive_deletes" if kind == RelationKind::BelongsTo => {
                let rest = skip_value(&inner)?;
                let p = &inner.path;
                cx.error_spanned_by(
                    quote!(#p #rest),
                    format!(
                        "`{key}` does not apply to belongs_to: a belongs_to only supplies a key; \
                         declare cascades on the other side's has_one or has_many"
                    ),
                );
            }
            "cascade" => cascades.set(cascade(cx, &inner)?),
            "passive_deletes" => passive_deletes.set(flag(cx, &inner, "passive_deletes")?),
            _ => unknown(cx, &inner, &key, kind.key(), kind.keys())?,
        }
        Ok(())
    });
    if let Err(e) = items.parse2(content) {
        cx.syn_error(e);
    }
    let attr = RelationAttr {
        kind,
        foreign_key: foreign_key.get(),
        through: through.get(),
        local: local.get(),
        remote: remote.get(),
        cascade: cascades.get(),
        passive_deletes: passive_deletes.get(),
        tokens,
    };
    let required = if m2m {
        vec![
            ("through", attr.through.is_some()),
            ("local", attr.local.is_some()),
            ("remote", attr.remote.is_some()),
        ]
    } else if kind == RelationKind::BelongsTo {
        vec![("foreign_key", attr.foreign_key.is_some())]
    } else {
        Vec::new() // has_one / has_many: inferred from the target's `references`
    };
    let missing: Vec<&str> =
        required.into_iter().filter_map(|(key, given)| (!given).then_some(key)).collect();
    if !missing.is_empty() {
        cx.error_spanned_by(
            &attr.tokens,
            format!("`{}` needs `{}`: expected `{expected}`", kind.key(), missing.join("`, `")),
        );
    }
    Ok(Some(attr))
}

// ---------------------------------------------------------------------------------------------
// #[derive(DbEnum)]

/// Enum attributes of a `DbEnum`.
pub(crate) struct EnumAttrs {
    pub(crate) type_name: Option<Spanned<String>>,
    pub(crate) no_default: Option<Spanned<()>>,
    /// `crate = "path"`.
    pub(crate) krate: Option<Spanned<syn::Path>>,
}

impl EnumAttrs {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut type_name = Slot::new(cx, "type_name");
        let mut no_default = Slot::new(cx, "no_default");
        let mut krate = Slot::new(cx, "crate");
        for_each_item(cx, attrs, |key, meta| {
            match key {
                "type_name" => type_name.set(name(cx, meta, "type_name = \"name\"")?),
                "no_default" => no_default.set(flag(cx, meta, key)?),
                "crate" => krate.set(crate_path(cx, meta)?),
                _ => unknown(cx, meta, key, "enum", "type_name, no_default, crate")?,
            }
            Ok(())
        });
        EnumAttrs { type_name: type_name.get(), no_default: no_default.get(), krate: krate.get() }
    }
}

/// Variant attributes of a `DbEnum`.
pub(crate) struct VariantAttrs {
    pub(crate) rename: Option<Spanned<String>>,
    pub(crate) default: Option<Spanned<()>>,
}

impl VariantAttrs {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut rename = Slot::new(cx, "rename");
        let mut default = Slot::new(cx, "default");
        for_each_item(cx, attrs, |key, meta| {
            match key {
                "rename" => rename.set(name(cx, meta, "rename = \"label\"")?),
                "default" => default.set(flag(cx, meta, key)?),
                _ => unknown(cx, meta, key, "variant", "rename, default")?,
            }
            Ok(())
        });
        VariantAttrs { rename: rename.get(), default: default.get() }
    }
}

// ---------------------------------------------------------------------------------------------
// #[derive(FromRow)]
//
// A struct may derive both `Model` and `FromRow`, so the Model keys are accepted (and ignored)
// here; keys neither derive knows are errors.

const MODEL_ONLY_STRUCT_KEYS: &[&str] =
    &["table", "index", "unique", "check", "no_default", "renamed_from"];
const MODEL_ONLY_FIELD_KEYS: &[&str] = &[
    "belongs_to",
    "has_one",
    "has_many",
    "many_to_many",
    "primary_key",
    "auto_increment",
    "unique",
    "index",
    "max_length",
    "precision",
    "scale",
    "sql_type",
    "default",
    "server_default",
    "references",
    "on_delete",
    "on_update",
    "fk_name",
    "renamed_from",
    "version",
];

/// Struct attributes of a `FromRow` struct: `crate = "path"`, the only one of its own.
pub(crate) fn from_row_struct_attrs(
    cx: &Ctxt,
    attrs: &[syn::Attribute],
) -> Option<Spanned<syn::Path>> {
    let mut krate = Slot::new(cx, "crate");
    for_each_item(cx, attrs, |key, meta| {
        if key == "crate" {
            krate.set(crate_path(cx, meta)?);
            Ok(())
        } else if MODEL_ONLY_STRUCT_KEYS.contains(&key) {
            skip_value(meta)?;
            Ok(())
        } else {
            unknown(cx, meta, key, "FromRow struct", "crate")
        }
    });
    krate.get()
}

/// Field attributes of a `FromRow` struct.
pub(crate) struct RowFieldAttrs {
    pub(crate) column: Option<Spanned<String>>,
    pub(crate) skip: Option<Spanned<()>>,
}

impl RowFieldAttrs {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut column = Slot::new(cx, "column");
        let mut skip = Slot::new(cx, "skip");
        for_each_item(cx, attrs, |key, meta| {
            match key {
                "column" => column.set(name(cx, meta, "column = \"name\"")?),
                "skip" => skip.set(flag(cx, meta, key)?),
                _ if MODEL_ONLY_FIELD_KEYS.contains(&key) => {
                    skip_value(meta)?;
                }
                _ => unknown(cx, meta, key, "field", "column, skip")?,
            }
            Ok(())
        });
        RowFieldAttrs { column: column.get(), skip: skip.get() }
    }
}
