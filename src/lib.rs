//! headerwheel: a Python build backend that turns C headers into CFFI
//! extension modules.
//!
//! The pipeline flows one way, one module per stage:
//!
//! ```text
//! config ─► headers (libclang) ─► cdef::writer ─► cdef text ─► cdef::parser ─► model
//!        ─► emit (C for API mode, .py for ABI mode) ─► compile (cc) ─► wheel
//! ```
//!
//! with `cache` (the `.headerkit/` store) beside it, and the CLI (`cli`) on
//! top: the `headerwheel` program, whose hidden `hook` command the PEP 517
//! shim (`backend/headerwheel`, pure Python) runs once per hook.
//! All `unsafe` code lives in `headers::clang`; everything else is safe.
//! Files of trees that are not ours are read through `untrusted`.
#![deny(unsafe_code)]

pub mod build;
pub mod cache;
pub mod cdef;
pub mod cli;
pub mod compile;
pub mod config;
pub mod emit;
pub mod headers;
pub mod init;
pub mod migrate;
pub mod model;
pub mod portable;
pub mod text;
pub mod untrusted;
pub mod wheel;
