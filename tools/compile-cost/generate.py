#!/usr/bin/env python3
"""Generates the compile-cost comparison: one crate of N models x 8 columns plus one 64-column
model, with a select (filtered), an insert and an update per model, written three times, for
this ORM, Diesel 2.3 and SeaORM 2.0, on the same schema (SQLite).

    python3 tools/compile-cost/generate.py OUT_DIR [--models 100]

OUT_DIR gets a Cargo workspace of its own (outside this repository's workspace, so `cargo test`
here never builds Diesel or SeaORM) with the packages `orm_models`, `diesel_models` and
`seaorm_models`. `measure.sh` builds and times them.
"""
import argparse
import os
import sys

# (name, orm/rust type, diesel sql type, seaorm rust type, a value expression)
EIGHT = [
    ("name", "String", "Text", "String", '"x".to_owned()'),
    ("email", "String", "Text", "String", '"x@example.com".to_owned()'),
    ("age", "i32", "Integer", "i32", "30"),
    ("score", "f64", "Double", "f64", "1.5"),
    ("active", "bool", "Bool", "bool", "true"),
    ("note", "Option<String>", "Nullable<Text>", "Option<String>", "None"),
    ("visits", "i64", "BigInt", "i64", "7"),
]
KINDS = [
    ("String", "Text", '"x".to_owned()'),
    ("i32", "Integer", "1"),
    ("i64", "BigInt", "2"),
    ("f64", "Double", "0.5"),
    ("bool", "Bool", "false"),
    ("Option<String>", "Nullable<Text>", "None"),
    ("Option<i64>", "Nullable<BigInt>", "Some(3)"),
]


def wide_columns():
    cols = []
    for i in range(63):
        rust, sql, value = KINDS[i % len(KINDS)]
        cols.append((f"c{i:02}", rust, sql, rust, value))
    return cols


def models(n):
    out = [(f"M{i:03}", f"m{i:03}", EIGHT) for i in range(n)]
    out.append(("Wide", "wide", wide_columns()))
    return out


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def first_int(cols):
    return next(c for c in cols if c[1] in ("i32", "i64"))


def orm_crate(ms, repo):
    lib = ["//! Generated: see tools/compile-cost/generate.py.", "#![allow(missing_docs)]",
           "use orm::prelude::*;", ""]
    for ty, table, cols in ms:
        lib.append("#[derive(Model, Debug, Clone, PartialEq)]")
        lib.append(f'#[orm(table = "{table}")]')
        lib.append(f"pub struct {ty} {{")
        lib.append("    #[orm(primary_key)]")
        lib.append("    pub id: i64,")
        lib += [f"    pub {c}: {r}," for c, r, _, _, _ in cols]
        lib.append("}")
        key = first_int(cols)[0]
        fields = ", ".join(f"{c}: {v}" for c, _, _, _, v in cols)
        lib.append(f"""
pub fn ops_{table}(s: &mut Session) -> orm::Result<usize> {{
    let found = s.query::<{ty}>().filter({ty}::{key}.gt(5)).all()?;
    let mut row = s.save({ty} {{ id: 0, {fields} }})?;
    row.{key} += 1;
    s.add(row);
    s.flush()?;
    Ok(found.len())
}}
""")
    write(OUT + "/orm_models/src/lib.rs", "\n".join(lib))
    write(OUT + "/orm_models/Cargo.toml", f"""[package]
name = "orm_models"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
orm = {{ path = "{repo}", default-features = false, features = ["sqlite"] }}
""")


def diesel_crate(ms):
    lib = ["//! Generated: see tools/compile-cost/generate.py.", "#![allow(missing_docs)]",
           "use diesel::prelude::*;", ""]
    for ty, table, cols in ms:
        lib.append("diesel::table! {")
        lib.append(f"    {table} (id) {{")
        lib.append("        id -> BigInt,")
        lib += [f"        {c} -> {s}," for c, _, s, _, _ in cols]
        lib.append("    }")
        lib.append("}")
        lib.append("")
        lib.append("#[derive(Queryable, Selectable, Identifiable, AsChangeset, Debug, Clone, PartialEq)]")
        lib.append(f"#[diesel(table_name = {table})]")
        lib.append("#[diesel(check_for_backend(diesel::sqlite::Sqlite))]")
        lib.append(f"pub struct {ty} {{")
        lib.append("    pub id: i64,")
        lib += [f"    pub {c}: {r}," for c, r, _, _, _ in cols]
        lib.append("}")
        lib.append("")
        lib.append("#[derive(Insertable)]")
        lib.append(f"#[diesel(table_name = {table})]")
        lib.append(f"pub struct New{ty} {{")
        lib += [f"    pub {c}: {r}," for c, r, _, _, _ in cols]
        lib.append("}")
        key = first_int(cols)[0]
        fields = ", ".join(f"{c}: {v}" for c, _, _, _, v in cols)
        lib.append(f"""
pub fn ops_{table}(c: &mut SqliteConnection) -> QueryResult<usize> {{
    let found: Vec<{ty}> = {table}::table
        .filter({table}::{key}.gt(5))
        .select({ty}::as_select())
        .load(c)?;
    let mut row: {ty} = diesel::insert_into({table}::table)
        .values(New{ty} {{ {fields} }})
        .returning({ty}::as_returning())
        .get_result(c)?;
    row.{key} += 1;
    diesel::update(&row).set(&row).execute(c)?;
    Ok(found.len())
}}
""")
    write(OUT + "/diesel_models/src/lib.rs", "\n".join(lib))
    write(OUT + "/diesel_models/Cargo.toml", """[package]
name = "diesel_models"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
diesel = { version = "2.3", default-features = false, features = ["sqlite", "64-column-tables", "returning_clauses_for_sqlite_3_35"] }
libsqlite3-sys = { version = "*", features = ["bundled"] }
""")


def camel(name):
    return "".join(p.capitalize() for p in name.split("_"))


def seaorm_crate(ms):
    lib = ["//! Generated: see tools/compile-cost/generate.py.", "#![allow(missing_docs)]",
           "use sea_orm::entity::prelude::*;", "use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, QueryFilter};", ""]
    for ty, table, cols in ms:
        lib.append(f"pub mod {table} {{")
        lib.append("    use sea_orm::entity::prelude::*;")
        lib.append("    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]")
        lib.append(f'    #[sea_orm(table_name = "{table}")]')
        lib.append("    pub struct Model {")
        lib.append("        #[sea_orm(primary_key)]")
        lib.append("        pub id: i64,")
        lib += [f"        pub {c}: {r}," for c, _, _, r, _ in cols]
        lib.append("    }")
        lib.append("    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]")
        lib.append("    pub enum Relation {}")
        lib.append("    impl ActiveModelBehavior for ActiveModel {}")
        lib.append("}")
        key = first_int(cols)[0]
        sets = ", ".join(f"{c}: Set({v})" for c, _, _, _, v in cols)
        lib.append(f"""
pub async fn ops_{table}(db: &DatabaseConnection) -> Result<usize, DbErr> {{
    let found = {table}::Entity::find().filter({table}::Column::{camel(key)}.gt(5)).all(db).await?;
    let row = {table}::ActiveModel {{ {sets}, ..Default::default() }}.insert(db).await?;
    let bumped = row.{key} + 1;
    let mut active: {table}::ActiveModel = row.into();
    active.{key} = Set(bumped);
    active.update(db).await?;
    Ok(found.len())
}}
""")
    write(OUT + "/seaorm_models/src/lib.rs", "\n".join(lib))
    write(OUT + "/seaorm_models/Cargo.toml", """[package]
name = "seaorm_models"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
sea-orm = { version = "2.0", default-features = false, features = ["macros", "sqlx-sqlite", "runtime-tokio"] }
""")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--models", type=int, default=100)
    a = ap.parse_args()
    OUT = os.path.abspath(a.out)
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ms = models(a.models)
    orm_crate(ms, repo)
    diesel_crate(ms)
    seaorm_crate(ms)
    write(OUT + "/Cargo.toml", """# Generated by tools/compile-cost/generate.py: a workspace of its own.
[workspace]
members = ["orm_models", "diesel_models", "seaorm_models"]
resolver = "2"

[profile.release]
# The defaults, written out: what a user's release build is.
opt-level = 3
""")
    print(f"wrote {len(ms)} models x 3 crates to {OUT}", file=sys.stderr)
