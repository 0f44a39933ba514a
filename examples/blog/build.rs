//! Rebuild when a revision file is added to `migrations/` (they are compiled in).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
