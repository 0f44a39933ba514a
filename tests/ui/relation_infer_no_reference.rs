use orm::prelude::*;

#[derive(Model)]
pub struct Artist {
    #[orm(primary_key)]
    pub id: i64,
    #[orm(has_many)]
    pub albums: Related<Vec<Album>>,
}

#[derive(Model)]
pub struct Album {
    #[orm(primary_key)]
    pub id: i64,
    pub artist_id: i64,
}

fn main() {}
