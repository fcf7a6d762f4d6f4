//! CFFI cdef text: the parser (cdef text → [`Ffi`] declarations over a
//! [`model::Types`](crate::model::Types) arena) and the writer (header model
//! → cdef text).
//!
//! [`Ffi`] is the state of one `cffi.FFI()` object as far as the recompiler
//! needs it: what `ffi.cdef()`, `ffi.include()` and
//! `ffi.embedding_init_code()` left behind.
//!
//! Parsing goes in three steps, as in CFFI: [`preprocess`] (CFFI's text
//! rewrites), [`lexer`] + [`pycparser`] (C declarations, shaped as pycparser
//! shapes them), then [`interpret`] (CFFI's interpretation into the model).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use crate::model::{Declarations, TypeId, Types};

pub mod diagnose;
pub mod interpret;
pub mod lexer;
pub mod preprocess;
pub mod pycparser;
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
///
/// Build one with [`CdefError::at`] (or [`CdefError::new`]): it quotes the
/// line and places the caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdefError {
    /// The class of error CFFI raises for it.
    pub kind: CffiErrorKind,
    /// The message (CFFI's wording where it has one).
    pub message: String,
    /// The file (the cdef's origin, or a `#line` file name).
    pub file: String,
    /// 1-based line and column, when known, as CFFI reports them: they
    /// count CFFI's rewritten text (a comment is one space, a `#define`
    /// line takes the blank lines above it, `[...]` is
    /// `[__dotdotdotarray__]`...), columns in characters, not bytes. They
    /// are kept as CFFI gives them, so that the first message is CFFI's
    /// byte for byte; the quoted line is the one as written.
    pub line: Option<(u32, u32)>,
    /// The offending line of the original text, quoted in the display: its
    /// 1-based number in the original text, its text, and the 1-based
    /// character column in it of the caret (under the offending token).
    pub source_line: Option<(u32, String, u32)>,
    /// The byte offset in the original text of the character under the
    /// caret, when the error quotes a line of it.
    pub offset: Option<usize>,
}

impl CdefError {
    /// An error without a location in the text.
    pub fn new(kind: CffiErrorKind, message: impl Into<String>, file: impl Into<String>) -> Self {
        Self::at(kind, message, file, None, None)
    }

    /// An error at `line` (line and column as CFFI counts them, see
    /// [`CdefError::line`]) of `file`; `text` is the file's original text
    /// when it is at hand (the line is then quoted, with a caret under the
    /// character the position names once CFFI's rewrites are undone).
    pub fn at(
        kind: CffiErrorKind,
        message: impl Into<String>,
        file: impl Into<String>,
        line: Option<(u32, u32)>,
        text: Option<&str>,
    ) -> Self {
        let (source_line, offset) = match (line, text) {
            (Some((l, c)), Some(text)) => quote_line(text, l, c),
            _ => (None, None),
        };
        CdefError {
            kind,
            message: message.into(),
            file: file.into(),
            line,
            source_line,
            offset,
        }
    }

    /// An error at byte `offset` of `text`, the file's original text, for
    /// an error CFFI gives no place for: the line and column shown are then
    /// those of the text as written.
    pub fn at_offset(
        kind: CffiErrorKind,
        message: impl Into<String>,
        file: impl Into<String>,
        offset: usize,
        text: &str,
    ) -> Self {
        let (source_line, offset) = quote_offset(text, offset);
        CdefError {
            kind,
            message: message.into(),
            file: file.into(),
            line: source_line.as_ref().map(|(l, _, c)| (*l, *c)),
            source_line,
            offset,
        }
    }

    /// Whether `other` is the same error as this one: same class, message,
    /// file and place in the original text (CFFI's line numbers may differ
    /// once a declaration above is blanked).
    pub fn same_as(&self, other: &CdefError) -> bool {
        (self.kind, &self.message, &self.file, self.offset)
            == (other.kind, &other.message, &other.file, other.offset)
    }
}

/// The line of `text` holding the character at CFFI's position (`line`,
/// `col`) (see [`preprocess::SourceMap`]), and that character's offset.
fn quote_line(text: &str, line: u32, col: u32) -> (Option<(u32, String, u32)>, Option<usize>) {
    match preprocess::original_offset(text, line, col) {
        Some(offset) => quote_offset(text, offset),
        // A text CFFI's rewrites fail on, or a position it does not have:
        // the line by its number, the caret at its end at most.
        None => {
            let quoted = (line as usize)
                .checked_sub(1)
                .and_then(|i| text.lines().nth(i));
            let quoted = quoted.map(|src| {
                let caret = col.min(src.chars().count() as u32 + 1);
                (line, src.to_string(), caret)
            });
            (quoted, None)
        }
    }
}

/// The line of `text` holding byte `offset`, and the offset, if it is one
/// of `text`'s characters (or its end).
fn quote_offset(text: &str, offset: usize) -> (Option<(u32, String, u32)>, Option<usize>) {
    if !text.is_char_boundary(offset) {
        return (None, None);
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| i + offset);
    let caret = text[line_start..offset].chars().count() as u32 + 1;
    let number = text[..line_start].matches('\n').count() as u32 + 1;
    (
        Some((number, text[line_start..line_end].to_string(), caret)),
        Some(offset),
    )
}

impl fmt::Display for CdefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some((line, col)) => {
                write!(f, "{}:{}:{}: {}", self.file, line, col, self.message)?;
                if let Some((number, src, caret)) = &self.source_line {
                    let src = src.trim_end();
                    write!(f, "\n    {src}")?;
                    let pad = crate::text::caret_pad(src, *caret as usize);
                    write!(f, "\n    {pad}^")?;
                    // CFFI's number counts its rewritten text; say which
                    // line of the file this is when the two differ.
                    if *number != line {
                        write!(
                            f,
                            "\n    (line {number} as written: CFFI's number counts the cdef after its rewrites, e.g. of #define lines)"
                        )?;
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn first_error(text: &str) -> String {
        let mut types = Types::new();
        Ffi::new()
            .cdef(&mut types, &CdefInput::new(text, ""))
            .unwrap_err()
            .to_string()
    }

    const UNKNOWN_X: &str = "cannot parse: unknown type name 'x' (declare it first, e.g. 'typedef ... x;', 'typedef int... x;' or 'typedef struct { ...; } x;')";

    #[test]
    fn a_non_ascii_comment_before_an_error_is_quoted_not_a_panic() {
        // CFFI: `<cdef source string>:1:3: Invalid function definition`.
        assert_eq!(
            first_error("/*é*/ x y;"),
            format!("<cdef source string>:1:3: {UNKNOWN_X}\n    /*é*/ x y;\n          ^")
        );
    }

    #[test]
    fn the_caret_is_under_the_token_after_a_comment() {
        // CFFI's column (3) counts the comment as one space; the caret is
        // under `x` in the line as written.
        assert_eq!(
            first_error("/* c */ x y;"),
            format!("<cdef source string>:1:3: {UNKNOWN_X}\n    /* c */ x y;\n            ^")
        );
        // CFFI: 2:2 (the line after a comment spanning two lines).
        assert_eq!(
            first_error("/* a\n b */ x y;"),
            format!("<cdef source string>:2:2: {UNKNOWN_X}\n     b */ x y;\n          ^")
        );
        assert_eq!(
            first_error("int a; // c\nint b; /* d */ /* e */ int c d;"),
            "<cdef source string>:2:18: cannot parse: before: d\n    int b; /* d */ /* e */ int c d;\n                                 ^"
        );
    }

    #[test]
    fn columns_count_characters_as_cffi_does() {
        // CFFI 2.1.1 gives 1:17, 1:14 and 2:5 (characters, not bytes).
        assert_eq!(
            first_error("char *s = \"日本\"; x y;"),
            format!(
                "<cdef source string>:1:17: {UNKNOWN_X}\n    char *s = \"日本\"; x y;\n                    ^"
            )
        );
        assert_eq!(
            first_error("int x; /*é*/ int 😀;"),
            "<cdef source string>:1:14: cannot parse: Illegal character '😀'\n    int x; /*é*/ int 😀;\n                     ^"
        );
        assert_eq!(
            first_error("// c\nint 日本 y;"),
            "<cdef source string>:2:5: cannot parse: Illegal character '日'\n    int 日本 y;\n        ^"
        );
    }

    #[test]
    fn a_byte_order_mark_is_an_illegal_character_as_in_cffi() {
        assert_eq!(
            first_error("\u{feff}int x;"),
            "<cdef source string>:1:1: cannot parse: Illegal character '\\ufeff'\n    \u{feff}int x;\n    ^"
        );
    }

    #[test]
    fn a_tab_before_the_caret_is_kept() {
        assert_eq!(
            first_error("\t/*\té*/\tx y;"),
            format!("<cdef source string>:1:4: {UNKNOWN_X}\n    \t/*\té*/\tx y;\n    \t  \t   \t^")
        );
    }
}
