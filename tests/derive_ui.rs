//! Compile-fail tests of the derives: each case in `tests/ui/` must fail with the `.stderr` next
//! to it, short and pointing at the attribute at fault. Regenerate the expectations with
//! `TRYBUILD=overwrite cargo test --test derive_ui`, then read every one.

#[test]
fn derive_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
