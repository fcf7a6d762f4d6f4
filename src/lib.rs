//! headerwheel: a Python build backend that turns C headers into CFFI
//! extension modules.
//!
//! The pipeline flows one way, one module per stage:
//!
//! ```text
//! project ─► headers (libclang) ─► cdef::writer ─► cdef text ─► cdef::pycparser ─► cdef::interpret
//!         ─► model ─► emit (C for API mode, .py for ABI mode) ─► compile (cc) ─► wheel ─► portable
//! ```
//!
//! with `cache` (the `.headerkit/` store) beside it, `hooks` (the PEP 517
//! hooks, which drive the stages) and `commands` (the `headerwheel`
//! program) on top: the shim (`backend/headerwheel`, pure Python) runs the
//! program's hidden `hook` command once per hook. `report` (log, stage,
//! panic guard, atomic writes), `text` and `untrusted` are the floor every
//! stage stands on.
//! All `unsafe` code lives in `headers::clang`; everything else is safe.
//! Files of trees that are not ours are read through `untrusted`.
#![deny(unsafe_code)]

pub mod cache;
pub mod cdef;
pub mod commands;
pub mod compile;
pub mod emit;
pub mod headers;
pub mod hooks;
pub mod model;
pub mod portable;
pub mod project;
pub mod report;
pub mod text;
pub mod untrusted;
pub mod wheel;
