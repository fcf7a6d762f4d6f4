//! The CFFI recompiler in Rust: C source for API mode and Python source for
//! ABI mode, byte-identical to `ffi.emit_c_code()` / `ffi.emit_python_code()`
//! of the cffi the build environment has (1.15.x to 2.1.x: see
//! [`CffiVersion`]).
//!
//! This file pins the API the rest of the crate calls. The emitter itself
//! (type table, step tables, writers) lives in submodules.

use std::path::Path;

use crate::cdef::Ffi;
use crate::model::Types;

mod cffi_version;
mod recompiler;
pub mod split;
pub mod stubs;

pub use cffi_version::{CffiVersion, SUPPORTED_CFFI, UnsupportedCffi};

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
    /// The cffi of the build environment, whose recompiler's text is
    /// reproduced (its headers come with the [`CffiRuntime`]).
    pub cffi_version: CffiVersion,
}

impl Default for EmitOptions {
    /// LP64, GIL-enabled CPython: what the CFFI corpus was recorded on.
    fn default() -> Self {
        EmitOptions {
            no_limited_api: false,
            sizeof_int: 4,
            sizeof_long: 8,
            cffi_version: CffiVersion::V2_1,
        }
    }
}

impl EmitOptions {
    /// The options for a CPython `version` (`sys.version_info[:2]`), built
    /// with or without the GIL (`Py_GIL_DISABLED`), with the C `int` and
    /// `long` sizes of its platform, and the build environment's cffi.
    ///
    /// cffi decides `USE_LIMITED_API` from the interpreter running it: 2.1
    /// uses the limited API except on free-threaded builds older than 3.15,
    /// 2.0 except on any free-threaded build, 1.15 to 1.17 always (the Windows
    /// clause of each only excludes Pythons older than 3.5).
    pub fn for_interpreter(
        version: (u32, u32),
        free_threaded: bool,
        sizeof_int: u8,
        sizeof_long: u8,
        cffi_version: CffiVersion,
    ) -> Self {
        let no_limited_api = match cffi_version {
            CffiVersion::V1_15 | CffiVersion::V1_16 | CffiVersion::V1_17 => false,
            CffiVersion::V2_0 => free_threaded,
            CffiVersion::V2_1 => free_threaded && version < (3, 15),
        };
        EmitOptions {
            no_limited_api,
            sizeof_int,
            sizeof_long,
            cffi_version,
        }
    }
}

pub use crate::cdef::CdefInput;

/// Why a cdef could not be emitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The cdef does not parse: every error found (at most
    /// [`crate::cdef::diagnose::MAX_ERRORS`]), each located
    /// (`file:line:col: message`, the offending line quoted).
    #[error("{}", cdef_errors_message(.0))]
    Cdef(Vec<crate::cdef::CdefError>),
    /// CFFI's recompiler refuses a declaration the parser accepted (its
    /// `VerificationError`, `TypeError`...), located where the cdef declares
    /// it when known.
    #[error("{0}")]
    Recompile(String),
}

/// The errors of a cdef as one message: each on its lines, then how many.
fn cdef_errors_message(errors: &[crate::cdef::CdefError]) -> String {
    let mut message = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    if errors.len() >= crate::cdef::diagnose::MAX_ERRORS {
        message.push_str("\n(stopped after this many errors)");
    } else if errors.len() > 1 {
        message.push_str(&format!("\n{} errors in the cdef", errors.len()));
    }
    message
}

/// Emits the API-mode C source of `module_name` for `cdefs` and `preamble`,
/// byte-identical to `ffi.emit_c_code()`.
pub fn c_source(
    module_name: &str,
    cdefs: &[CdefInput],
    preamble: &str,
    runtime: &CffiRuntime,
    options: &EmitOptions,
) -> Result<String, EmitError> {
    let (mut types, ffi) = parse_all(cdefs)?;
    emit_c(&mut types, &ffi, module_name, preamble, runtime, options)
}

/// A copy of `types` with the C names of a cffi older than 1.17 (also the
/// type table's sort key): the complex primitives named `float _Complex` and
/// `double _Complex` (1.17 maps both to its own `_cffi_float_complex_t` /
/// `_cffi_double_complex_t`, which the parser follows), and for 1.15 the
/// qualifiers of a pointer to an array inside its parentheses. A copy, so
/// that the caller's arena keeps the names the parser gave it.
fn named_as_before_1_17(types: &Types, cffi_version: CffiVersion) -> Types {
    let mut old = types.clone();
    old.respell_identifier("_cffi_float_complex_t", "float _Complex");
    old.respell_identifier("_cffi_double_complex_t", "double _Complex");
    if cffi_version == CffiVersion::V1_15 {
        old.qualify_array_pointers_inside();
    }
    old
}

/// Emits the ABI-mode Python source of `module_name` for `cdefs`,
/// byte-identical to CFFI's out-of-line ABI mode (`set_source(name, None)`).
pub fn py_source(
    module_name: &str,
    cdefs: &[CdefInput],
    options: &EmitOptions,
) -> Result<String, EmitError> {
    let (mut types, ffi) = parse_all(cdefs)?;
    emit_py(&mut types, &ffi, module_name, options)
}

/// Parses `cdefs` into one FFI, as [`c_source`] and [`py_source`] do: for
/// callers that emit more than one thing (source and stub) from one parse.
pub fn parse_all(cdefs: &[CdefInput]) -> Result<(Types, Ffi), EmitError> {
    crate::cdef::diagnose::parse_reporting_all(cdefs, crate::cdef::diagnose::MAX_ERRORS)
        .map_err(EmitError::Cdef)
}

/// Emits the C source of an already parsed FFI (`ffi` and the FFIs it
/// includes share `types`).
pub fn emit_c(
    types: &mut Types,
    ffi: &Ffi,
    module_name: &str,
    preamble: &str,
    runtime: &CffiRuntime,
    options: &EmitOptions,
) -> Result<String, EmitError> {
    let mut old;
    let types = if options.cffi_version < CffiVersion::V1_17 {
        old = named_as_before_1_17(types, options.cffi_version);
        &mut old
    } else {
        types
    };
    let mut r = recompiler::Recompiler::new(types, ffi, module_name, false, options);
    r.collect_type_table()?;
    r.collect_step_tables()?;
    r.write_c_source(preamble, runtime)
}

/// Emits the ABI-mode Python source of an already parsed FFI.
pub fn emit_py(
    types: &mut Types,
    ffi: &Ffi,
    module_name: &str,
    options: &EmitOptions,
) -> Result<String, EmitError> {
    let mut old;
    let types = if options.cffi_version < CffiVersion::V1_17 {
        old = named_as_before_1_17(types, options.cffi_version);
        &mut old
    } else {
        types
    };
    let mut r = recompiler::Recompiler::new(types, ffi, module_name, true, options);
    r.collect_type_table()?;
    r.collect_step_tables()?;
    r.write_py_source()
}
