//! orm-derive
