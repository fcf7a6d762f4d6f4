//! CFFI cdef text: the parser (cdef text → [`Ffi`] declarations over a
//! [`model::Types`](crate::model::Types) arena) and the writer (header model
//! → cdef text).
//!
//! [`Ffi`] is the state of one `cffi.FFI()` object as far as the recompiler
//! needs it: what `ffi.cdef()`, `ffi.include()` and
//! `ffi.embedding_init_code()` left behind.

use std::collections::{BTreeMap, HashSet};

use crate::model::{Declarations, TypeId};

/// One FFI reached through `ffi.include(other)`: the recompiler lists it in
/// the `_cffi_includes` table (C) or imports it (Python).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludedFfi {
    /// The module name given to the included FFI's `set_source()`.
    pub module_name: String,
    /// The included FFI was set up for ABI mode (`set_source(name, None)`).
    pub abi_mode: bool,
}

/// The declarations of one FFI, as CFFI's `ffi._parser` and `ffi` hold them.
#[derive(Debug, Clone, Default)]
pub struct Ffi {
    /// `ffi._parser._declarations`, in insertion order.
    pub declarations: Declarations,
    /// `ffi._parser._included_declarations`: the types that came from an
    /// included FFI (by identity).
    pub included_declarations: HashSet<TypeId>,
    /// `ffi._parser._int_constants`: integer constants (macros, enum values,
    /// `static const int`) by name.
    pub int_constants: BTreeMap<String, i128>,
    /// `ffi._included_ffis`, in `include()` order.
    pub included_ffis: Vec<IncludedFfi>,
    /// `ffi._embedding`: the Python code of `embedding_init_code()`, if any.
    pub embedding: Option<String>,
}
