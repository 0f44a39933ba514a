use orm::prelude::*;

// Every error of a struct at once: names that cannot be fields, and a bad crate path.
#[derive(Model)]
#[orm(crate = "not a path")]
pub struct Artist {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(has_many(foreign_key = "artist id"))]
    pub albums: Related<Vec<Album>>,
    #[orm(many_to_many(through = Credit, local = "1st", remote = album_id))]
    pub credits: Related<Vec<Album>>,
}

#[derive(Model)]
pub struct Album {
    #[orm(primary_key)]
    pub id: i64,
}

#[derive(Model)]
pub struct Credit {
    #[orm(primary_key)]
    pub artist_id: i64,
    #[orm(primary_key)]
    pub album_id: i64,
}

fn main() {}
