//! The `.headerkit/` content-addressed store: parsed header models and cdef
//! outputs keyed by every input, and the per-user compile cache.
//!
//! See [`store`] for the layout and its guarantees.

pub mod store;

pub use store::{CacheError, CacheKey, Damage, Dependency, Entry, ObjectId, Store};
