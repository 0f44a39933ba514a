use orm::prelude::*;

#[derive(Model)]
#[orm(
    check(name = "ck_no_expr"),
    check(expr = "price > 0"),
    check(name = "ck_empty", expr = ""),
    check(name = "ck_price", expr = "price > 0", deferrable),
    check(name = "ix_user_email", expr = "email <> ''"),
    index(email)
)]
struct User {
    #[orm(primary_key)]
    id: i64,
    #[orm(fk_name = "users_email_fkey")]
    email: String,
    price: i64,
}

fn main() {}
