//! Applies the embedded migrations at start-up, then writes and reads a post.
//! `DATABASE_URL=sqlite://blog.db cargo run -p blog`

use blog::{Post, PostStatus, User, MIGRATIONS};
use orm::prelude::*;

fn main() -> orm::Result<()> {
    let db = Database::connect_env_or("sqlite://blog.db")?;
    let applied = MIGRATIONS.upgrade(&db)?;
    println!("applied {} revision(s)", applied.len());
    let mut s = db.session();
    let user = match s.query::<User>().filter(User::username.eq("tata")).one_or_none()? {
        Some(u) => u,
        None => s.save(User {
            username: "tata".into(),
            email: "tata@example.com".into(),
            ..Default::default()
        })?,
    };
    s.add(Post {
        title: "Hello".into(),
        content: "First post".into(),
        author_id: user.id,
        status: PostStatus::Published,
        ..Default::default()
    });
    s.commit()?;
    let n = s.query::<Post>().filter(Post::author_id.eq(user.id)).count()?;
    println!("{} has {n} post(s)", user.username);
    Ok(())
}
