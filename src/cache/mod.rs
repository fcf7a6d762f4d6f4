//! The `.headerkit/` content-addressed store: parsed header models and cdef outputs keyed by every input.
