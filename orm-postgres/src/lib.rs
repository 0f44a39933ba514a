//! orm-postgres
pub mod test_server;
