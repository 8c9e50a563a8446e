//! Shared code of the examples.

pub mod btree_store;
