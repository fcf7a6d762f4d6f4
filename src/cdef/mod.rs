//! CFFI cdef text: the parser (cdef text → [`Ffi`] declarations over a
//! [`model::Types`](crate::model::Types) arena) and the writer (header model
//! → cdef text).
//!
//! [`Ffi`] is the state of one `cffi.FFI()` object as far as the recompiler
//! needs it: what `ffi.cdef()`, `ffi.include()` and
//! `ffi.embedding_init_code()` left behind.
//!
//! Parsing goes in three steps, as in CFFI: [`preprocess`] (CFFI's text
//! rewrites), [`lexer`] + [`cparse`] (C declarations, shaped as pycparser
//! shapes them), then [`parser`] (CFFI's interpretation into the model).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use crate::model::{Declarations, TypeId, Types};

pub mod cparse;
pub mod diagnose;
pub mod lexer;
pub mod parser;
pub mod preprocess;
pub mod writer;

/// One `ffi.cdef()` call: the text and its options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CdefInput {
    /// The cdef text.
    pub text: String,
    /// File name shown in error messages (`<cdef source string>` if empty).
    pub origin: String,
    /// `ffi.cdef(..., override=True)`.
    pub override_: bool,
    /// `ffi.cdef(..., packed=True)`.
    pub packed: bool,
    /// `ffi.cdef(..., pack=N)`.
    pub pack: Option<u32>,
}

impl CdefInput {
    /// A cdef with default options.
    pub fn new(text: impl Into<String>, origin: impl Into<String>) -> Self {
        CdefInput {
            text: text.into(),
            origin: origin.into(),
            ..Default::default()
        }
    }
}

/// The Python exception class CFFI raises for the same input; kept so tests
/// can compare with CFFI and callers can tell syntax from support errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CffiErrorKind {
    /// `cffi.CDefError`: the cdef is not valid.
    CDefError,
    /// `cffi.FFIError`: valid C that CFFI cannot handle, or a conflict.
    FfiError,
    /// `NotImplementedError`.
    NotImplemented,
    /// `ValueError` (bad options).
    ValueError,
}

/// An error in a cdef: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdefError {
    /// The class of error CFFI raises for it.
    pub kind: CffiErrorKind,
    /// The message (CFFI's wording where it has one).
    pub message: String,
    /// The file (the cdef's origin, or a `#line` file name).
    pub file: String,
    /// 1-based line and column, when known.
    pub line: Option<(u32, u32)>,
    /// The offending source line, quoted in the display.
    pub source_line: Option<String>,
}

impl fmt::Display for CdefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some((line, col)) => {
                write!(f, "{}:{}:{}: {}", self.file, line, col, self.message)?;
                if let Some(src) = &self.source_line {
                    let src = src.trim_end();
                    write!(f, "\n    {src}")?;
                    let caret_at = (col as usize).saturating_sub(1).min(src.len());
                    let pad: String = src[..caret_at]
                        .chars()
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    write!(f, "\n    {pad}^")?;
                }
                Ok(())
            }
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for CdefError {}

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
    /// included FFI, by canonical id (CFFI tests membership with `==`, so
    /// test with [`Ffi::is_included`]).
    pub included_declarations: HashSet<TypeId>,
    /// `ffi._parser._int_constants`: integer constants (macros, enum values,
    /// `static const int`) by name.
    pub int_constants: BTreeMap<String, i128>,
    /// `ffi._included_ffis`, in `include()` order.
    pub included_ffis: Vec<IncludedFfi>,
    /// `ffi._embedding`: the Python code of `embedding_init_code()`, if any.
    pub embedding: Option<String>,
    /// `ffi._parser._anonymous_counter`: numbers anonymous structs `$1`, `$2`...
    pub anonymous_counter: u32,
    /// Warnings CFFI would print (`#pragma` ignored, ...).
    pub warnings: Vec<String>,
    /// Where each declaration was made (`file:line:col`), for errors found
    /// later, while emitting.
    pub locations: rustc_hash::FxHashMap<(crate::model::DeclKind, String), String>,
}

impl Ffi {
    /// A fresh FFI (`cffi.FFI()`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `id` is (structurally) one of the included declarations.
    pub fn is_included(&self, types: &mut Types, id: TypeId) -> bool {
        !self.included_declarations.is_empty()
            && self.included_declarations.contains(&types.canonical(id))
    }
}

/// The parser state of `ffi` as JSON, in the shape of the corpus tool
/// `tests/tools/cffi_decls.py` (for differential tests against CFFI).
pub fn debug_dump(types: &Types, ffi: &Ffi) -> serde_json::Value {
    use crate::model::{DeclValue, TypeKind};
    use serde_json::json;
    let desc = |v: &DeclValue| -> serde_json::Value {
        match v {
            DeclValue::MacroInt(n) => json!(n.to_string()),
            DeclValue::MacroDots => json!("..."),
            DeclValue::Type(id) => {
                let mut d = serde_json::Map::new();
                d.insert("c".into(), json!(types.c_name_plain(*id)));
                match types.kind(*id) {
                    TypeKind::StructOrUnion(s) => {
                        d.insert(
                            "fields".into(),
                            match &s.fields {
                                None => serde_json::Value::Null,
                                Some(fs) => fs
                                    .iter()
                                    .map(|f| {
                                        json!([
                                            f.name,
                                            types.c_name_plain(f.ty),
                                            f.bitsize,
                                            f.quals
                                        ])
                                    })
                                    .collect(),
                            },
                        );
                        d.insert("partial".into(), json!(s.partial));
                        d.insert("packed".into(), json!(s.packed));
                    }
                    TypeKind::Enum(e) => {
                        let vals: Vec<String> =
                            e.enumvalues.iter().map(|v| v.to_string()).collect();
                        d.insert("enum".into(), json!([e.enumerators, vals]));
                        d.insert("partial".into(), json!(e.partial));
                    }
                    _ => {}
                }
                serde_json::Value::Object(d)
            }
        }
    };
    let decls: Vec<serde_json::Value> = ffi
        .declarations
        .iter()
        .map(|d| json!([d.key(), d.quals, desc(&d.value)]))
        .collect();
    let consts: serde_json::Map<String, serde_json::Value> = ffi
        .int_constants
        .iter()
        .map(|(k, v)| (k.clone(), json!(v.to_string())))
        .collect();
    json!({"decls": decls, "consts": consts})
}
