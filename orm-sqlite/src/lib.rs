//! orm-sqlite
