//! Checks that need more than one attribute, or an attribute and the field's type: conflicting
//! options, options on the wrong kind of field, names used twice, a missing primary key. Each
//! problem is reported at the attribute that causes it and checking goes on.

use crate::ast::{BaseType, DbEnum, Holder, Model, ModelField};
use crate::attr::{
    DefaultSpec, ReferentialAction, RelationAttr, RelationKind, Spanned, ThroughSpec,
};
use crate::ctxt::Ctxt;
use quote::quote;
use std::collections::HashSet;

/// The most columns a model may have: `orm::model::MAX_COLUMNS`, the width of `ColumnMask`.
pub(crate) const MAX_COLUMNS: usize = 256;

pub(crate) fn model(cx: &Ctxt, m: &Model) {
    if !m.input.generics.params.is_empty() || m.input.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &m.input.generics,
            "a model cannot be generic: `#[derive(Model)]` maps one concrete struct to one table",
        );
    }
    for f in &m.fields {
        field(cx, m, f);
    }

    let mut columns = HashSet::new();
    for f in m.columns() {
        let name = f.column_name();
        if !columns.insert(name.clone()) {
            cx.error_spanned_by(f.name_tokens(), format!("column `{name}` is defined twice"));
        }
    }

    let count = m.columns().count();
    if count > MAX_COLUMNS {
        cx.error_spanned_by(
            m.ident,
            format!("a model has at most {MAX_COLUMNS} columns; `{}` has {count}", m.ident),
        );
    }
    let mut versions = m.columns().filter_map(|f| Some((f, f.attrs.version.as_ref()?)));
    if let Some((first, _)) = versions.next() {
        for (_, v) in versions {
            cx.error_spanned_by(
                &v.tokens,
                format!(
                    "a model has at most one `version` column, and `{}` is already it",
                    first.ident
                ),
            );
        }
    }
    if m.primary_key().is_empty() {
        cx.error_spanned_by(
            m.ident,
            format!(
                "model `{}` has no primary key: mark its key field(s) `#[orm(primary_key)]`",
                m.ident
            ),
        );
    }

    for c in &m.attrs.indexes {
        if c.has_expr() && c.name.is_none() {
            cx.error_spanned_by(
                &c.tokens,
                "an index on an expression needs a name: add `name = \"ix_...\"`",
            );
        }
    }
    for c in m.attrs.indexes.iter().chain(&m.attrs.uniques) {
        for ident in c.fields() {
            match m.field(ident) {
                Some(f) if f.is_column() => {}
                Some(_) => cx.error_spanned_by(ident, format!("field `{ident}` is not a column")),
                None => cx.error_spanned_by(ident, format!("no field `{ident}` in `{}`", m.ident)),
            }
        }
    }
    let (indexes, uniques) = m.indexes();
    let mut names = HashSet::new();
    let named = indexes
        .iter()
        .chain(&uniques)
        .map(|ix| (ix.name.as_str(), &ix.tokens))
        .chain(m.attrs.checks.iter().map(|c| (c.name.value.as_str(), &c.name.tokens)));
    for (name, tokens) in named {
        if !names.insert(name) {
            cx.error_spanned_by(tokens, format!("constraint name `{name}` is used twice"));
        }
    }
}

fn field(cx: &Ctxt, m: &Model, f: &ModelField) {
    let a = &f.attrs;
    if f.shape.base == BaseType::Related {
        let not_columns =
            a.column_options().into_iter().chain(a.column.as_ref().map(|c| ("column", &c.tokens)));
        for (key, tokens) in not_columns {
            cx.error_spanned_by(
                tokens,
                format!("`{key}` does not apply to a `Related<...>` field: it is not a column"),
            );
        }
        related_field(cx, m, f);
        return;
    }
    if let Some(r) = &a.relation {
        cx.error_spanned_by(
            &r.tokens,
            format!(
                "`{}(...)` applies only to a `Related<...>` field, such as `{}: {}`",
                r.kind.key(),
                f.ident,
                if r.kind.is_many() { "Related<Vec<Model>>" } else { "Related<Model>" }
            ),
        );
    }
    if a.skip.is_some() {
        let not_columns =
            a.column_options().into_iter().chain(a.column.as_ref().map(|c| ("column", &c.tokens)));
        for (key, tokens) in not_columns {
            cx.error_spanned_by(
                tokens,
                format!("`skip` cannot be combined with `{key}`: a skipped field is not a column"),
            );
        }
        return;
    }

    if let Some(pk) = &a.primary_key {
        if f.shape.option {
            cx.error_spanned_by(
                &pk.tokens,
                "`primary_key` conflicts with an `Option<T>` field: key columns are NOT NULL",
            );
        }
    }
    if let Some(ai) = &a.auto_increment {
        if a.primary_key.is_none() {
            cx.error_spanned_by(
                &ai.tokens,
                "`auto_increment` applies only to a `primary_key` field",
            );
        } else if ai.value
            && !(f.shape.base.is_integer() && !f.shape.option && m.primary_key().len() == 1)
        {
            cx.error_spanned_by(
                &ai.tokens,
                "`auto_increment` applies only to a single-column i16, i32 or i64 primary key",
            );
        } else if ai.value && a.default.is_some() {
            cx.error_spanned_by(&ai.tokens, "`auto_increment` conflicts with `default`");
        }
    }
    if let Some(ml) = &a.max_length {
        if f.shape.base != BaseType::String {
            cx.error_spanned_by(
                &ml.tokens,
                "`max_length` applies only to `String` and `Option<String>` fields",
            );
        }
    }
    sql_type_options(cx, f);
    if let Some(d) = &a.default {
        if f.shape.db_default {
            cx.error_spanned_by(
                &d.tokens,
                "`default` conflicts with a `DbDefault<T>` field: the database fills it (from \
                 `server_default`); drop `default`, or make the field a plain `T`",
            );
        } else {
            if let Err(msg) = default_fits(&d.value, f.shape.base) {
                cx.error_spanned_by(&d.tokens, format!("bad default: {msg}"));
            }
            if let Some(sd) = &a.server_default {
                cx.error_spanned_by(
                    &sd.tokens,
                    "`server_default` conflicts with `default`: give one of them",
                );
            }
        }
    }
    db_default(cx, f);
    if let Some(v) = &a.version {
        version(cx, f, v);
    }
    if let (Some(n), None) = (&a.fk_name, &a.references) {
        cx.error_spanned_by(&n.tokens, "`fk_name` needs `references = Model` on the same field");
    }
    for (key, action) in [("on_delete", &a.on_delete), ("on_update", &a.on_update)] {
        let Some(action) = action else { continue };
        if a.references.is_none() {
            cx.error_spanned_by(
                &action.tokens,
                format!("`{key}` needs `references = Model` on the same field"),
            );
        } else if action.value == ReferentialAction::SetNull && !f.shape.option {
            cx.error_spanned_by(
                &action.tokens,
                format!("`{key} = set_null` needs an `Option<T>` field"),
            );
        }
    }
}

/// The most digits a `NUMERIC(p, s)` may declare (PostgreSQL's limit).
const MAX_PRECISION: u32 = 1000;

/// `precision` / `scale` (a `Decimal`'s `NUMERIC(p, s)`) and `sql_type` (the whole SQL type):
/// on the fields they fit, within range, and not both ways at once.
fn sql_type_options(cx: &Ctxt, f: &ModelField) {
    let a = &f.attrs;
    if let Some(p) = &a.precision {
        if f.shape.base != BaseType::Decimal {
            cx.error_spanned_by(
                &p.tokens,
                "`precision` applies only to `Decimal` and `Option<Decimal>` fields (it makes \
                 the column NUMERIC(precision, scale)); for another type write the whole type: \
                 `sql_type = \"...\"`",
            );
        } else if p.value == 0 || p.value > MAX_PRECISION {
            cx.error_spanned_by(
                &p.tokens,
                format!("`precision = {}` is out of range: 1 to {MAX_PRECISION}", p.value),
            );
        }
    }
    if let Some(s) = &a.scale {
        match &a.precision {
            None => cx.error_spanned_by(
                &s.tokens,
                "`scale` needs `precision` on the same field: `precision = 10, scale = 2`",
            ),
            Some(p) if s.value > p.value => cx.error_spanned_by(
                &s.tokens,
                format!(
                    "`scale = {}` is greater than `precision = {}`: the scale counts digits \
                     after the point among the precision's",
                    s.value, p.value
                ),
            ),
            Some(_) => {}
        }
    }
    if let Some(t) = &a.sql_type {
        let with = [("precision", &a.precision), ("max_length", &a.max_length)];
        for (key, given) in with {
            if given.is_some() {
                cx.error_spanned_by(
                    &t.tokens,
                    format!(
                        "`sql_type` conflicts with `{key}`: `sql_type` is the whole type, so \
                         write the {key} in it (`sql_type = \"NUMERIC(10, 2)\"`, `sql_type = \
                         \"VARCHAR(20)\"`), or drop `sql_type`"
                    ),
                );
            }
        }
    }
}

/// A `DbDefault<T>` field: the database must have something to fill it with, and the session
/// must know the key of an object before the INSERT.
fn db_default(cx: &Ctxt, f: &ModelField) {
    let (ident, ty) = (f.ident, f.ty);
    if f.shape.option_of_db_default {
        cx.error_spanned_by(
            ty,
            "`Option<DbDefault<T>>` is not a column type: write `DbDefault<Option<T>>` for a \
             nullable column the database may fill",
        );
    }
    if !f.shape.db_default {
        return;
    }
    if f.attrs.server_default.is_none() {
        cx.error_spanned_by(
            quote!(#ident: #ty),
            "`DbDefault<T>` needs `#[orm(server_default = \"SQL\")]`: without one the database \
             has nothing to fill the column with",
        );
    }
    if let Some(pk) = &f.attrs.primary_key {
        cx.error_spanned_by(
            &pk.tokens,
            "`primary_key` conflicts with a `DbDefault<T>` field: the session needs an object's \
             key before its INSERT; use an integer key (generated by the database) or \
             `default = uuid4`",
        );
    }
}

/// `version`: on one non-key, NOT NULL `i32` or `i64` column (one per model is checked in
/// [`model`]).
fn version(cx: &Ctxt, f: &ModelField, v: &Spanned<()>) {
    let a = &f.attrs;
    let integer = matches!(f.shape.base, BaseType::I32 | BaseType::I64);
    if a.primary_key.is_some() {
        cx.error_spanned_by(
            &v.tokens,
            "`version` conflicts with `primary_key`: the version counter changes with every \
             UPDATE, a key does not; put `version` on an `i32` or `i64` field of its own",
        );
    } else if !integer || f.shape.option || f.shape.db_default {
        cx.error_spanned_by(
            &v.tokens,
            "`version` needs an `i32` or `i64` field (not `Option`, not `DbDefault`): the version \
             counter is a NOT NULL integer that the session sets",
        );
    }
    if let Some(d) = &a.default {
        cx.error_spanned_by(
            &d.tokens,
            "`default` conflicts with `version`: the generated `Default` starts a version \
             counter at 1",
        );
    }
}

/// A `Related<...>` field: its relationship attribute against its type and the model.
fn related_field(cx: &Ctxt, m: &Model, f: &ModelField) {
    let a = &f.attrs;
    let Some(r) = &a.relation else {
        if a.skip.is_none() {
            let (ident, ty) = (f.ident, f.ty);
            cx.error_spanned_by(
                quote!(#ident: #ty),
                "a Related field needs belongs_to(...), has_one(...), has_many(...) or \
                 many_to_many(...), e.g. `#[orm(has_many(foreign_key = author_id))]`",
            );
        }
        return;
    };
    if let Some(skip) = &a.skip {
        cx.error_spanned_by(
            &skip.tokens,
            format!(
                "`skip` conflicts with `{}(...)`: a skipped field is no relationship",
                r.kind.key()
            ),
        );
    }
    const ONE: &str = "`Related<Model>`, `Related<Option<Model>>`, `Related<Box<Model>>` or \
                       `Related<Option<Box<Model>>>`";
    match &f.related {
        None => cx.error_spanned_by(
            f.ty,
            format!(
                "unsupported relationship type: expected `Related<Vec<Model>>` (has_many, \
                 many_to_many), or {ONE} (belongs_to, has_one)"
            ),
        ),
        Some(t) if r.kind.is_many() && t.holder != Holder::Vec => cx.error_spanned_by(
            f.ty,
            format!("a {} holds a collection: expected `Related<Vec<Model>>`", r.kind.key()),
        ),
        Some(t) if !r.kind.is_many() && t.holder == Holder::Vec => cx
            .error_spanned_by(f.ty, format!("a {} holds one target: expected {ONE}", r.kind.key())),
        Some(_) => {}
    }

    let pk = m.primary_key().len();
    match r.kind {
        RelationKind::BelongsTo => belongs_to(cx, m, f, r),
        RelationKind::HasOne | RelationKind::HasMany => {
            if let Some(fk) = &r.foreign_key {
                if pk > 0 && fk.value.len() != pk {
                    cx.error_spanned_by(
                        &fk.tokens,
                        format!(
                            "`foreign_key` names {} field(s) of the target, but the primary key \
                             of `{}` has {pk}: expected `foreign_key = (field, ...)` in key order",
                            fk.value.len(),
                            m.ident
                        ),
                    );
                }
                field_names(cx, "foreign_key", &fk.value);
            }
        }
        RelationKind::ManyToMany => many_to_many(cx, m, r),
    }

    if let Some(c) = &r.cascade {
        if c.value.delete_orphan && !matches!(r.kind, RelationKind::HasOne | RelationKind::HasMany)
        {
            cx.error_spanned_by(
                &c.tokens,
                format!(
                    "`delete_orphan` applies only to has_one and has_many, not to {}",
                    r.kind.key()
                ),
            );
        }
    }
}

/// `belongs_to(foreign_key = ...)` names column fields of this struct; a nullable one needs an
/// optional target.
fn belongs_to(cx: &Ctxt, m: &Model, f: &ModelField, r: &RelationAttr) {
    let Some(fk) = &r.foreign_key else { return };
    let mut nullable = None;
    for name in &fk.value {
        match m.field_named(&name.value) {
            None => cx.error_spanned_by(
                &name.tokens,
                format!(
                    "no field `{}` in `{}`: a belongs_to's `foreign_key` names the field of this \
                     struct that holds the target's key",
                    name.value, m.ident
                ),
            ),
            Some(k) if !k.is_column() => cx.error_spanned_by(
                &name.tokens,
                format!(
                    "field `{}` is not a column: `foreign_key` needs a column field",
                    name.value
                ),
            ),
            Some(k) if k.shape.option => nullable = nullable.or(Some(k)),
            Some(_) => {}
        }
    }
    if let (Some(k), Some(t)) = (nullable, &f.related) {
        if !t.holder.is_option() {
            cx.error_spanned_by(
                f.ty,
                format!(
                    "foreign key `{}` is nullable, so the target may be missing: expected \
                     `Related<Option<Model>>` or `Related<Option<Box<Model>>>`",
                    k.ident
                ),
            );
        }
    }
}

/// Names that must be fields of another model (`foreign_key` of has_one / has_many, `local` and
/// `remote` of a `through = Model`): identifiers, which the generated code looks up.
fn field_names(cx: &Ctxt, key: &str, names: &[Spanned<String>]) {
    for n in names {
        if crate::relation::field_ident(n).is_none() {
            cx.error_spanned_by(
                &n.tokens,
                format!(
                    "`{}` is not a field name: `{key}` names fields, e.g. `{key} = author_id`",
                    n.value
                ),
            );
        }
    }
}

/// `many_to_many(through = ..., local = ..., remote = ...)`.
fn many_to_many(cx: &Ctxt, m: &Model, r: &RelationAttr) {
    let pk = m.primary_key().len();
    if let Some(local) = &r.local {
        if pk > 0 && local.value.len() != pk {
            cx.error_spanned_by(
                &local.tokens,
                format!(
                    "`local` names {} key part(s), but the primary key of `{}` has {pk}: \
                     expected `local = (name, ...)` in key order",
                    local.value.len(),
                    m.ident
                ),
            );
        }
    }
    if let (Some(local), Some(remote)) = (&r.local, &r.remote) {
        for name in &remote.value {
            if local.value.iter().any(|l| l.value == name.value) {
                cx.error_spanned_by(
                    &name.tokens,
                    format!("`{}` is both `local` and `remote`", name.value),
                );
            }
        }
    }
    let Some(through) = &r.through else { return };
    if let ThroughSpec::Model(_) = &through.value {
        for (key, names) in [("local", &r.local), ("remote", &r.remote)] {
            if let Some(n) = names {
                field_names(cx, key, &n.value);
            }
        }
    }
    if let ThroughSpec::Table(table) = &through.value {
        if pk > 1 {
            cx.error_spanned_by(
                &through.tokens,
                format!(
                    "`through = \"{table}\"` needs a single-column primary key, and `{}` has {pk} \
                     columns: declare the association table as a model and write `through = Model`",
                    m.ident
                ),
            );
        }
        if let Some(remote) = r.remote.as_ref().filter(|r| r.value.len() > 1) {
            cx.error_spanned_by(
                &remote.tokens,
                "`through = \"table\"` needs a target with a single-column primary key: expected \
                 `remote = column`, or declare the association table as a model",
            );
        }
    }
}

/// Whether a client default fits a field of base type `base`, as far as the syntax tells.
fn default_fits(d: &DefaultSpec, base: BaseType) -> Result<(), String> {
    let (fits, need) = match d {
        DefaultSpec::Now => {
            (base.is_time(), "`now` needs a DateTime<Utc>, NaiveDateTime or NaiveDate field")
        }
        DefaultSpec::Uuid4 => (base == BaseType::Uuid, "`uuid4` needs a Uuid field"),
        DefaultSpec::Int(v) => {
            let (range, ty) = match base {
                BaseType::I16 => (i64::from(i16::MIN)..=i64::from(i16::MAX), "i16"),
                BaseType::I32 => (i64::from(i32::MIN)..=i64::from(i32::MAX), "i32"),
                _ => (i64::MIN..=i64::MAX, "i64"),
            };
            if !range.contains(v) {
                return Err(format!("{v} is out of range for {ty}"));
            }
            (
                base.is_integer() || base.is_float(),
                "an integer default needs an integer or float field",
            )
        }
        DefaultSpec::Float(_) => (base.is_float(), "a float default needs an f32 or f64 field"),
        DefaultSpec::Bool(_) => (base == BaseType::Bool, "a bool default needs a bool field"),
        // On another type, the text is a `DbEnum` label: the generated code checks at compile
        // time that the type is a `DbEnum` and has that label (`enum_label_check`).
        DefaultSpec::Text(_) => (
            matches!(base, BaseType::String | BaseType::Other),
            "a string default needs a String field, or a DbEnum field (a label)",
        ),
    };
    if fits {
        Ok(())
    } else {
        Err(need.to_owned())
    }
}

pub(crate) fn db_enum(cx: &Ctxt, e: &DbEnum) {
    if !e.input.generics.params.is_empty() {
        cx.error_spanned_by(&e.input.generics, "a DbEnum cannot be generic");
    }
    if e.variants.is_empty() {
        cx.error_spanned_by(e.ident, "a DbEnum needs at least one variant");
    }
    let mut labels = HashSet::new();
    let mut default_seen = false;
    for v in &e.variants {
        if !matches!(v.original.fields, syn::Fields::Unit) {
            cx.error_spanned_by(
                &v.original.fields,
                format!("a DbEnum variant cannot hold data: write `{}` as a unit variant", v.ident),
            );
        }
        let label = v.label();
        if !labels.insert(label.clone()) {
            cx.error_spanned_by(v.label_tokens(), format!("label `{label}` is used twice"));
        }
        if let Some(d) = &v.attrs.default {
            if default_seen {
                cx.error_spanned_by(&d.tokens, "only one variant can be `#[orm(default)]`");
            }
            if e.attrs.no_default.is_some() {
                cx.error_spanned_by(&d.tokens, "`default` conflicts with `no_default` on the enum");
            }
            default_seen = true;
        }
    }
}
