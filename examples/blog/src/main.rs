//! Applies the embedded migrations. `DATABASE_URL=sqlite://blog.db cargo run -p blog`

use orm::prelude::*;

fn main() -> orm::Result<()> {
    let db = Database::connect_env_or("sqlite://blog.db")?;
    let applied = blog::MIGRATIONS.upgrade(&db)?;
    println!("applied {} revision(s)", applied.len());
    Ok(())
}
