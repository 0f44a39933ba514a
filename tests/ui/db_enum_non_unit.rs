use orm::prelude::*;

#[derive(DbEnum, Clone, Copy)]
enum Shape {
    Point,
    Circle(f64),
    #[orm(rename = "point")]
    Dot,
}

fn main() {}
