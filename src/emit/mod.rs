//! The CFFI recompiler in Rust: C source for API mode and Python source for
//! ABI mode, byte-identical to CFFI 2.1.1's `ffi.emit_c_code()` /
//! `ffi.emit_python_code()`.
//!
//! This file pins the API the rest of the crate calls. The emitter itself
//! (type table, step tables, writers) lives in submodules.

use std::path::Path;

/// CFFI's C headers, read from the installed `cffi` package, which the
/// emitted C source inlines (`_cffi_include.h` with `parse_c_type.h` spliced
/// in, `_cffi_errors.h`, and `_embedding.h` for embedding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CffiRuntime {
    /// Text of `_cffi_include.h`.
    pub include_h: String,
    /// Text of `parse_c_type.h`.
    pub parse_c_type_h: String,
    /// Text of `_cffi_errors.h`.
    pub errors_h: String,
    /// Text of `_embedding.h`.
    pub embedding_h: String,
}

impl CffiRuntime {
    /// Reads the headers from the directory of an installed `cffi` package
    /// (the directory holding `cffi/__init__.py`).
    pub fn from_dir(dir: &Path) -> std::io::Result<Self> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| {
                std::io::Error::new(e.kind(), format!("failed to read {}: {e}", path.display()))
            })
        };
        Ok(CffiRuntime {
            include_h: read("_cffi_include.h")?,
            parse_c_type_h: read("parse_c_type.h")?,
            errors_h: read("_cffi_errors.h")?,
            embedding_h: read("_embedding.h")?,
        })
    }
}

/// Facts about the target interpreter that change the emitted text.
/// Filled by the caller (the backend shim or the CLI), never read from the
/// environment here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitOptions {
    /// The target is a free-threaded CPython build (`Py_GIL_DISABLED`) older
    /// than 3.15: the limited API cannot be used (`#define _CFFI_NO_LIMITED_API`).
    pub no_limited_api: bool,
    /// `sizeof(int)` on the target (anonymous enums, ABI-mode enum sizes).
    pub sizeof_int: u8,
    /// `sizeof(long)` on the target.
    pub sizeof_long: u8,
}

impl Default for EmitOptions {
    /// LP64, GIL-enabled CPython: what the CFFI corpus was recorded on.
    fn default() -> Self {
        EmitOptions {
            no_limited_api: false,
            sizeof_int: 4,
            sizeof_long: 8,
        }
    }
}

pub use crate::cdef::CdefInput;

/// A cdef or emit error, already formatted for the user
/// (`file:line:col: message`, the offending line quoted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EmitError {
    /// The full, user-facing message (may span several lines).
    pub message: String,
}

/// Emits the API-mode C source of `module_name` for `cdefs` and `preamble`,
/// as `ffi.set_source(module_name, preamble); ffi.emit_c_code()` would.
pub fn c_source(
    module_name: &str,
    cdefs: &[CdefInput],
    preamble: &str,
    runtime: &CffiRuntime,
    options: &EmitOptions,
) -> Result<String, EmitError> {
    let _ = (module_name, cdefs, preamble, runtime, options);
    Err(EmitError {
        message: "the native emitter is not merged yet".into(),
    })
}

/// Emits the ABI-mode Python source of `module_name` for `cdefs`,
/// as `ffi.set_source(module_name, None); ffi.emit_python_code()` would.
pub fn py_source(
    module_name: &str,
    cdefs: &[CdefInput],
    options: &EmitOptions,
) -> Result<String, EmitError> {
    let _ = (module_name, cdefs, options);
    Err(EmitError {
        message: "the native emitter is not merged yet".into(),
    })
}
