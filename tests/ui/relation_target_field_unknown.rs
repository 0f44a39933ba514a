use orm::prelude::*;

#[derive(Model)]
pub struct Artist {
    #[orm(primary_key)]
    pub id: i64,
    // A column name where a field name is expected: `Album`'s field is `artist_ref`.
    #[orm(has_many(foreign_key = artist))]
    pub albums: Related<Vec<Album>>,
    #[orm(many_to_many(through = Credit, local = artist, remote = album_id))]
    pub credits: Related<Vec<Album>>,
}

#[derive(Model)]
pub struct Album {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(references = Artist, column = "artist")]
    pub artist_ref: i64,
}

#[derive(Model)]
pub struct Credit {
    #[orm(primary_key, references = Artist, column = "artist")]
    pub artist_id: i64,
    #[orm(primary_key, references = Album)]
    pub album_id: i64,
}

fn main() {}
