use orm::prelude::*;
use orm::Decimal;

#[derive(Model)]
struct Price {
    #[orm(primary_key)]
    id: i64,
    // precision on a type that is not a Decimal
    #[orm(precision = 10)]
    label: String,
    // a scale larger than the precision
    #[orm(precision = 4, scale = 6)]
    amount: Decimal,
    // a scale without a precision
    #[orm(scale = 2)]
    rate: Decimal,
    // a precision no database has
    #[orm(precision = 0)]
    nothing: Decimal,
    // sql_type says the whole type
    #[orm(sql_type = "VARCHAR(3)", max_length = 3)]
    code: String,
    #[orm(sql_type = "NUMERIC(10, 2)", precision = 10, scale = 2)]
    total: Decimal,
    // an empty type
    #[orm(sql_type = " ")]
    blank: String,
}

fn main() {}
