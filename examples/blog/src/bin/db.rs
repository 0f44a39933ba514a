//! `cargo db ...`: the migrations command line, seeing this crate's models.

// Link the models in: they register themselves.
use blog as _;

fn main() {
    orm::cli::main()
}
