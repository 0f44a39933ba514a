//! `orm_core::raw::bind_named` on both dialects: no panic, and a binding that succeeds uses
//! every value given at least once.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use orm_core::raw::bind_named;
use orm_core::{Dialect, Value};

#[derive(Debug, Arbitrary)]
struct Input {
    sql: String,
    names: Vec<String>,
}

fuzz_target!(|input: Input| {
    let params: Vec<(String, Value)> =
        input.names.iter().map(|n| (n.clone(), Value::Text(n.clone()))).collect();
    for dialect in [&orm_sqlite::DIALECT as &dyn Dialect, &orm_postgres::DIALECT] {
        if let Ok((_, values)) = bind_named(dialect, &input.sql, &params) {
            assert!(values.len() >= params.len(), "{input:?}: {values:?}");
        }
        let _ = bind_named(dialect, &input.sql, &[]);
    }
});
