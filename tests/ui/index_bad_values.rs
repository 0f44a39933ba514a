use orm::prelude::*;

// Every bad value is reported at once, each at its place.
#[derive(Model)]
#[orm(
    index(email, using = "fulltext"),
    index(expr = "", name = "ix_empty"),
    index(expr = "lower(email)"),
    index(email, where = "  ", name = "ix_where"),
    index(email(opclass = ""), name = "ix_opclass"),
    index(email(collate = "C"), name = "ix_collate"),
    index(email(opclass = "text_ops DESC"), name = "ix_desc"),
    unique(email, using = "gin")
)]
struct User {
    #[orm(primary_key)]
    id: i64,
    email: String,
}

fn main() {}
