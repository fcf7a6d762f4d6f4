//! Safe wrappers over libclang (clang-sys, loaded at run time). The only
//! module of the crate with `unsafe`.
//!
//! libclang is loaded once per process ([`Libclang::get`]) from
//! `LIBCLANG_PATH`, or where clang-sys looks on the system (llvm-config,
//! `/usr/lib/llvm-*`); each thread that uses it attaches the shared handle.
//! A [`TranslationUnit`] owns its index; [`Cursor`]s and [`Type`]s borrow
//! the translation unit, so none outlives the data libclang gives them.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::os::raw::{c_char, c_uint};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use clang_sys::*;

/// The loaded libclang.
pub struct Libclang {
    lib: Arc<SharedLibrary>,
    /// Where it was loaded from.
    pub path: PathBuf,
    /// `clang_getClangVersion()`, e.g. `Debian clang version 14.0.6`.
    pub version: String,
}

static LIBCLANG: OnceLock<Result<Libclang, ClangError>> = OnceLock::new();

/// Why libclang could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClangError {
    /// `HEADERWHEEL_NO_LIBCLANG` is set.
    #[error("libclang is disabled (HEADERWHEEL_NO_LIBCLANG is set)")]
    Disabled,
    /// The shared library could not be found or loaded.
    #[error(
        "{0}\n(install libclang, e.g. `apt install libclang1-14` or `pip install libclang`, or set LIBCLANG_PATH)"
    )]
    NotLoaded(String),
    /// A file name or argument holds a NUL byte (C strings cannot).
    #[error("bad {what} {value:?} (a NUL byte)")]
    Nul {
        /// `file name`, `argument` or `source`.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// `clang_parseTranslationUnit2` failed (not a diagnostic: libclang
    /// itself could not run, e.g. the file cannot be read).
    #[error("libclang could not parse {file} (error {code})")]
    Parse {
        /// The file.
        file: String,
        /// The `CXErrorCode`.
        code: i64,
    },
}

fn cxstring(s: CXString) -> String {
    // SAFETY: `s` is a CXString returned by libclang just now; clang_getCString
    // gives a NUL-terminated buffer (or NULL) valid until clang_disposeString,
    // which we call exactly once after copying.
    unsafe {
        let p = clang_getCString(s);
        let out = if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        };
        clang_disposeString(s);
        out
    }
}

impl Libclang {
    /// The process-wide libclang, loaded on first use and attached to the
    /// calling thread.
    pub fn get() -> Result<&'static Libclang, ClangError> {
        if std::env::var_os("HEADERWHEEL_NO_LIBCLANG").is_some_and(|v| !v.is_empty() && v != "0") {
            return Err(ClangError::Disabled);
        }
        let lc = LIBCLANG
            .get_or_init(|| {
                let lib = load_manually().map_err(|e| ClangError::NotLoaded(e.to_string()))?;
                let path = lib.path().to_path_buf();
                let lib = Arc::new(lib);
                set_library(Some(lib.clone()));
                // SAFETY: the library was just loaded and attached to this
                // thread; clang_getClangVersion takes no arguments.
                let version = cxstring(unsafe { clang_getClangVersion() });
                Ok(Libclang { lib, path, version })
            })
            .as_ref()
            .map_err(Clone::clone)?;
        if get_library().is_none() {
            set_library(Some(lc.lib.clone()));
        }
        Ok(lc)
    }
}

/// A diagnostic from parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 0 ignored, 1 note, 2 warning, 3 error, 4 fatal.
    pub severity: u32,
    /// File, line, column.
    pub location: Option<(PathBuf, u32, u32)>,
    /// The message.
    pub message: String,
}

/// A parsed translation unit (owns its index).
pub struct TranslationUnit {
    index: CXIndex,
    tu: CXTranslationUnit,
}

// SAFETY: a translation unit is used from one thread at a time (the type is
// Send but not Sync), which libclang allows.
unsafe impl Send for TranslationUnit {}

impl TranslationUnit {
    /// Parses `file` (its text given in `contents` if it is not on disk)
    /// with compiler `args`, keeping the preprocessing record (macros).
    pub fn parse(
        _lc: &Libclang,
        file: &str,
        contents: Option<&str>,
        args: &[String],
    ) -> Result<TranslationUnit, ClangError> {
        let nul = |what, value: &str| ClangError::Nul {
            what,
            value: value.to_string(),
        };
        let c_file = CString::new(file).map_err(|_| nul("file name", file))?;
        let c_args: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_str()).map_err(|_| nul("argument", a)))
            .collect::<Result<_, _>>()?;
        let arg_ptrs: Vec<*const c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
        let c_contents = contents
            .map(|c| CString::new(c).map_err(|_| nul("source text of", file)))
            .transpose()?;
        let mut unsaved = Vec::new();
        if let Some(c) = &c_contents {
            unsaved.push(CXUnsavedFile {
                Filename: c_file.as_ptr(),
                Contents: c.as_ptr(),
                Length: c.as_bytes().len() as _,
            });
        }
        // SAFETY: every pointer passed (file name, arguments, unsaved file)
        // points into CStrings that live until the end of this function;
        // libclang copies what it keeps. The index is disposed in Drop, or
        // here if parsing fails.
        unsafe {
            let index = clang_createIndex(0, 0);
            let mut tu: CXTranslationUnit = std::ptr::null_mut();
            let options = CXTranslationUnit_DetailedPreprocessingRecord
                | CXTranslationUnit_SkipFunctionBodies;
            let err = clang_parseTranslationUnit2(
                index,
                c_file.as_ptr(),
                arg_ptrs.as_ptr(),
                arg_ptrs.len() as i32,
                if unsaved.is_empty() {
                    std::ptr::null_mut()
                } else {
                    unsaved.as_mut_ptr()
                },
                unsaved.len() as c_uint,
                options,
                &mut tu,
            );
            if err != CXError_Success || tu.is_null() {
                clang_disposeIndex(index);
                return Err(ClangError::Parse {
                    file: file.to_string(),
                    code: i64::from(err),
                });
            }
            Ok(TranslationUnit { index, tu })
        }
    }

    /// Every diagnostic.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        // SAFETY: `self.tu` is a live translation unit; each diagnostic is
        // disposed after use.
        unsafe {
            let n = clang_getNumDiagnostics(self.tu);
            for i in 0..n {
                let d = clang_getDiagnostic(self.tu, i);
                let severity = clang_getDiagnosticSeverity(d) as u32;
                let message = cxstring(clang_getDiagnosticSpelling(d));
                let location = location_of(clang_getDiagnosticLocation(d));
                clang_disposeDiagnostic(d);
                out.push(Diagnostic {
                    severity,
                    location,
                    message,
                });
            }
        }
        out
    }

    /// The root cursor.
    pub fn cursor(&self) -> Cursor<'_> {
        // SAFETY: `self.tu` is live; the cursor borrows `self`.
        Cursor {
            raw: unsafe { clang_getTranslationUnitCursor(self.tu) },
            _tu: PhantomData,
        }
    }
}

impl Drop for TranslationUnit {
    fn drop(&mut self) {
        // SAFETY: both were created in `parse` and are disposed exactly once;
        // no Cursor or Type outlives `self` (they borrow it).
        unsafe {
            clang_disposeTranslationUnit(self.tu);
            clang_disposeIndex(self.index);
        }
    }
}

fn location_of(loc: CXSourceLocation) -> Option<(PathBuf, u32, u32)> {
    // SAFETY: `loc` comes from a live translation unit; the out-pointers are
    // valid locals.
    unsafe {
        let mut file: CXFile = std::ptr::null_mut();
        let (mut line, mut col, mut off) = (0u32, 0u32, 0u32);
        clang_getExpansionLocation(loc, &mut file, &mut line, &mut col, &mut off);
        if file.is_null() {
            return None;
        }
        Some((PathBuf::from(cxstring(clang_getFileName(file))), line, col))
    }
}

/// A cursor into a translation unit.
#[derive(Clone, Copy)]
pub struct Cursor<'tu> {
    raw: CXCursor,
    _tu: PhantomData<&'tu TranslationUnit>,
}

extern "C" fn collect_children(
    c: CXCursor,
    _parent: CXCursor,
    data: CXClientData,
) -> CXChildVisitResult {
    // SAFETY: `data` is the `&mut Vec<CXCursor>` passed by `children` below,
    // alive for the whole visit.
    let v = unsafe { &mut *(data as *mut Vec<CXCursor>) };
    v.push(c);
    CXChildVisit_Continue
}

impl<'tu> Cursor<'tu> {
    fn wrap(&self, raw: CXCursor) -> Cursor<'tu> {
        Cursor {
            raw,
            _tu: PhantomData,
        }
    }

    /// The cursor kind (`CXCursor_*`).
    pub fn kind(&self) -> CXCursorKind {
        // SAFETY: the cursor belongs to a live translation unit ('tu).
        unsafe { clang_getCursorKind(self.raw) }
    }

    /// The name.
    pub fn spelling(&self) -> String {
        // SAFETY: as above.
        cxstring(unsafe { clang_getCursorSpelling(self.raw) })
    }

    /// The direct children.
    pub fn children(&self) -> Vec<Cursor<'tu>> {
        let mut v: Vec<CXCursor> = Vec::new();
        // SAFETY: the callback only pushes into `v`, which outlives the call.
        unsafe {
            clang_visitChildren(
                self.raw,
                collect_children,
                &mut v as *mut Vec<CXCursor> as CXClientData,
            );
        }
        v.into_iter().map(|c| self.wrap(c)).collect()
    }

    /// File, line and column where it is expanded.
    pub fn location(&self) -> Option<(PathBuf, u32, u32)> {
        // SAFETY: as above.
        location_of(unsafe { clang_getCursorLocation(self.raw) })
    }

    /// Whether it is in a system header.
    pub fn in_system_header(&self) -> bool {
        // SAFETY: as above.
        unsafe { clang_Location_isInSystemHeader(clang_getCursorLocation(self.raw)) != 0 }
    }

    /// Its type.
    pub fn ty(&self) -> Type<'tu> {
        // SAFETY: as above.
        Type {
            raw: unsafe { clang_getCursorType(self.raw) },
            _tu: PhantomData,
        }
    }

    /// A function's result type.
    pub fn result_type(&self) -> Type<'tu> {
        // SAFETY: as above.
        Type {
            raw: unsafe { clang_getCursorResultType(self.raw) },
            _tu: PhantomData,
        }
    }

    /// A typedef's underlying type.
    pub fn typedef_underlying(&self) -> Type<'tu> {
        // SAFETY: as above.
        Type {
            raw: unsafe { clang_getTypedefDeclUnderlyingType(self.raw) },
            _tu: PhantomData,
        }
    }

    /// A function's parameters.
    pub fn arguments(&self) -> Vec<Cursor<'tu>> {
        // SAFETY: as above; indices are below the count libclang reports.
        unsafe {
            let n = clang_Cursor_getNumArguments(self.raw);
            (0..n.max(0) as u32)
                .map(|i| self.wrap(clang_Cursor_getArgument(self.raw, i)))
                .collect()
        }
    }

    /// Whether this declaration is a definition.
    pub fn is_definition(&self) -> bool {
        // SAFETY: as above.
        unsafe { clang_isCursorDefinition(self.raw) != 0 }
    }

    /// The definition of the entity, if any.
    pub fn definition(&self) -> Option<Cursor<'tu>> {
        // SAFETY: as above.
        let d = unsafe { clang_getCursorDefinition(self.raw) };
        // SAFETY: as above.
        if unsafe { clang_Cursor_isNull(d) } != 0 {
            None
        } else {
            Some(self.wrap(d))
        }
    }

    /// Whether two cursors are the same entity.
    pub fn same(&self, other: &Cursor<'_>) -> bool {
        // SAFETY: as above.
        unsafe { clang_equalCursors(self.raw, other.raw) != 0 }
    }

    /// A stable hash of the cursor (same entity, same hash).
    pub fn hash(&self) -> u32 {
        // SAFETY: as above.
        unsafe { clang_hashCursor(self.raw) }
    }

    /// An enum constant's value.
    pub fn enum_value(&self) -> i64 {
        // SAFETY: as above.
        unsafe { clang_getEnumConstantDeclValue(self.raw) }
    }

    /// An enum constant's value as unsigned.
    pub fn enum_value_unsigned(&self) -> u64 {
        // SAFETY: as above.
        unsafe { clang_getEnumConstantDeclUnsignedValue(self.raw) }
    }

    /// An enum's integer type.
    pub fn enum_integer_type(&self) -> Type<'tu> {
        // SAFETY: as above.
        Type {
            raw: unsafe { clang_getEnumDeclIntegerType(self.raw) },
            _tu: PhantomData,
        }
    }

    /// A bitfield's width, if it is one.
    pub fn bitfield_width(&self) -> Option<u32> {
        // SAFETY: as above.
        unsafe {
            if clang_Cursor_isBitField(self.raw) != 0 {
                Some(clang_getFieldDeclBitWidth(self.raw).max(0) as u32)
            } else {
                None
            }
        }
    }

    /// A field's offset in bits, if known.
    pub fn field_offset_bits(&self) -> Option<u64> {
        // SAFETY: as above.
        let o = unsafe { clang_Cursor_getOffsetOfField(self.raw) };
        (o >= 0).then_some(o as u64)
    }

    /// Whether a record is anonymous (no tag).
    pub fn is_anonymous(&self) -> bool {
        // SAFETY: as above.
        unsafe { clang_Cursor_isAnonymous(self.raw) != 0 }
    }

    /// Whether a function-like macro.
    pub fn is_macro_function_like(&self) -> bool {
        // SAFETY: as above.
        unsafe { clang_Cursor_isMacroFunctionLike(self.raw) != 0 }
    }

    /// Whether an inline function.
    pub fn is_inline(&self) -> bool {
        // SAFETY: as above.
        unsafe { clang_Cursor_isFunctionInlined(self.raw) != 0 }
    }

    /// Whether the declaration is marked deprecated
    /// (`__attribute__((deprecated))`, OpenSSL's `OSSL_DEPRECATEDIN_3_0`).
    pub fn is_deprecated(&self) -> bool {
        // SAFETY: as above.
        unsafe { clang_getCursorAvailability(self.raw) == CXAvailability_Deprecated }
    }

    /// The storage class (`CX_SC_*`).
    pub fn storage_class(&self) -> CX_StorageClass {
        // SAFETY: as above.
        unsafe { clang_Cursor_getStorageClass(self.raw) }
    }

    /// The cursor a reference names (a `DeclRefExpr`'s declaration).
    pub fn referenced(&self) -> Option<Cursor<'tu>> {
        // SAFETY: as above; a null cursor is checked before use.
        let r = unsafe { clang_getCursorReferenced(self.raw) };
        // SAFETY: as above.
        if unsafe { clang_Cursor_isNull(r) } != 0 {
            None
        } else {
            Some(self.wrap(r))
        }
    }

    /// What libclang's constant evaluator makes of an expression, or of a
    /// variable's initializer: an integer, a string literal, or nothing.
    pub fn evaluate(&self) -> Option<Evaluated> {
        // SAFETY: as above; the result is disposed after its value is
        // copied (the string is copied before disposal).
        unsafe {
            let r = clang_Cursor_Evaluate(self.raw);
            if r.is_null() {
                return None;
            }
            let kind = clang_EvalResult_getKind(r);
            let v = if kind == CXEval_Int {
                Some(Evaluated::Int(if clang_EvalResult_isUnsignedInt(r) != 0 {
                    i128::from(clang_EvalResult_getAsUnsigned(r))
                } else {
                    i128::from(clang_EvalResult_getAsLongLong(r))
                }))
            } else if kind == CXEval_StrLiteral {
                let p = clang_EvalResult_getAsStr(r);
                (!p.is_null())
                    .then(|| Evaluated::Str(CStr::from_ptr(p).to_string_lossy().into_owned()))
            } else {
                None
            };
            clang_EvalResult_dispose(r);
            v
        }
    }

    /// The tokens of the cursor's extent (macro definitions).
    pub fn tokens(&self) -> Vec<(CXTokenKind, String)> {
        let mut out = Vec::new();
        // SAFETY: tokens come from the cursor's own translation unit and are
        // disposed after their spellings are copied.
        unsafe {
            let tu = clang_Cursor_getTranslationUnit(self.raw);
            let range = clang_getCursorExtent(self.raw);
            let mut toks: *mut CXToken = std::ptr::null_mut();
            let mut n: c_uint = 0;
            clang_tokenize(tu, range, &mut toks, &mut n);
            if toks.is_null() {
                return out;
            }
            let slice = std::slice::from_raw_parts(toks, n as usize);
            for t in slice {
                out.push((
                    clang_getTokenKind(*t),
                    cxstring(clang_getTokenSpelling(tu, *t)),
                ));
            }
            clang_disposeTokens(tu, toks, n);
        }
        out
    }
}

/// A constant libclang evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluated {
    /// An integer.
    Int(i128),
    /// A string literal's bytes, as text.
    Str(String),
}

/// A type in a translation unit.
#[derive(Clone, Copy)]
pub struct Type<'tu> {
    raw: CXType,
    _tu: PhantomData<&'tu TranslationUnit>,
}

impl<'tu> Type<'tu> {
    fn wrap(&self, raw: CXType) -> Type<'tu> {
        Type {
            raw,
            _tu: PhantomData,
        }
    }

    /// The type kind (`CXType_*`).
    pub fn kind(&self) -> CXTypeKind {
        self.raw.kind
    }

    /// Its spelling.
    pub fn spelling(&self) -> String {
        // SAFETY: the type belongs to a live translation unit ('tu).
        cxstring(unsafe { clang_getTypeSpelling(self.raw) })
    }

    /// The canonical type.
    pub fn canonical(&self) -> Type<'tu> {
        // SAFETY: as above.
        self.wrap(unsafe { clang_getCanonicalType(self.raw) })
    }

    /// The pointee of a pointer.
    pub fn pointee(&self) -> Type<'tu> {
        // SAFETY: as above.
        self.wrap(unsafe { clang_getPointeeType(self.raw) })
    }

    /// The type named by an elaborated type (`struct x` → the record).
    pub fn named(&self) -> Type<'tu> {
        // SAFETY: as above.
        self.wrap(unsafe { clang_Type_getNamedType(self.raw) })
    }

    /// The element of an array.
    pub fn element(&self) -> Type<'tu> {
        // SAFETY: as above.
        self.wrap(unsafe { clang_getArrayElementType(self.raw) })
    }

    /// The size of a constant array.
    pub fn array_size(&self) -> Option<u64> {
        // SAFETY: as above.
        let n = unsafe { clang_getArraySize(self.raw) };
        (n >= 0).then_some(n as u64)
    }

    /// The declaration of a record, enum or typedef type.
    pub fn declaration(&self) -> Cursor<'tu> {
        // SAFETY: as above.
        Cursor {
            raw: unsafe { clang_getTypeDeclaration(self.raw) },
            _tu: PhantomData,
        }
    }

    /// A function type's result.
    pub fn result(&self) -> Type<'tu> {
        // SAFETY: as above.
        self.wrap(unsafe { clang_getResultType(self.raw) })
    }

    /// A function type's parameter types (`None` for `int f()`).
    pub fn args(&self) -> Option<Vec<Type<'tu>>> {
        // SAFETY: as above; indices are below the count.
        unsafe {
            let n = clang_getNumArgTypes(self.raw);
            if n < 0 {
                return None;
            }
            Some(
                (0..n as u32)
                    .map(|i| self.wrap(clang_getArgType(self.raw, i)))
                    .collect(),
            )
        }
    }

    /// Whether a function type is variadic.
    pub fn is_variadic(&self) -> bool {
        // SAFETY: as above.
        unsafe { clang_isFunctionTypeVariadic(self.raw) != 0 }
    }

    /// `const`-qualified.
    pub fn is_const(&self) -> bool {
        // SAFETY: as above.
        unsafe { clang_isConstQualifiedType(self.raw) != 0 }
    }

    /// `volatile`-qualified.
    pub fn is_volatile(&self) -> bool {
        // SAFETY: as above.
        unsafe { clang_isVolatileQualifiedType(self.raw) != 0 }
    }

    /// `sizeof`, if complete.
    pub fn size_of(&self) -> Option<u64> {
        // SAFETY: as above.
        let n = unsafe { clang_Type_getSizeOf(self.raw) };
        (n >= 0).then_some(n as u64)
    }

    /// `_Alignof`, if complete.
    pub fn align_of(&self) -> Option<u64> {
        // SAFETY: as above.
        let n = unsafe { clang_Type_getAlignOf(self.raw) };
        (n >= 0).then_some(n as u64)
    }

    /// The offset in bits of the field `name` of a record type (a field of
    /// an anonymous member counts as the record's own), if known.
    pub fn offset_of_bits(&self, name: &str) -> Option<u64> {
        let name = CString::new(name).ok()?;
        // SAFETY: the type belongs to a live translation unit ('tu); `name`
        // is a NUL-terminated string that outlives the call.
        let n = unsafe { clang_Type_getOffsetOf(self.raw, name.as_ptr()) };
        (n >= 0).then_some(n as u64)
    }
}

/// libclang's builtin-headers directory (`stddef.h`, `stdarg.h`): the
/// resource dir beside the library, else the C compiler's.
pub fn builtin_include_dir(lc: &Libclang) -> Option<PathBuf> {
    // /usr/lib/llvm-14/lib/libclang.so.1 → /usr/lib/llvm-14/lib/clang/14.*/include
    let libdir = lc.path.parent()?;
    for base in [libdir.join("clang"), libdir.join("../lib/clang")] {
        if let Ok(rd) = std::fs::read_dir(&base) {
            let mut versions: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path().join("include"))
                .filter(|p| p.join("stddef.h").is_file())
                .collect();
            versions.sort();
            if let Some(v) = versions.pop() {
                return Some(v);
            }
        }
    }
    let out = std::process::Command::new("cc")
        .arg("-print-file-name=include")
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    p.join("stddef.h").is_file().then_some(p)
}

/// Whether `p` is under one of `dirs`.
pub fn path_under(p: &Path, dirs: &[PathBuf]) -> bool {
    dirs.iter().any(|d| p.starts_with(d))
}

impl<'tu> Cursor<'tu> {
    /// The file an `#include` directive opened.
    pub fn included_file(&self) -> Option<PathBuf> {
        // SAFETY: the cursor belongs to a live translation unit; the file
        // handle is only read for its name.
        unsafe {
            let f = clang_getIncludedFile(self.raw);
            if f.is_null() {
                None
            } else {
                Some(PathBuf::from(cxstring(clang_getFileName(f))))
            }
        }
    }

    /// Whether the declaration carries `__attribute__((packed))` or an
    /// alignment attribute.
    pub fn has_layout_attribute(&self) -> bool {
        self.children()
            .iter()
            .any(|c| c.kind() == CXCursor_PackedAttr || c.kind() == CXCursor_AlignedAttr)
    }
}

impl<'tu> Type<'tu> {
    /// The type an attributed type modifies.
    pub fn modified(&self) -> Type<'tu> {
        // SAFETY: the type belongs to a live translation unit ('tu).
        self.wrap(unsafe { clang_Type_getModifiedType(self.raw) })
    }
}

/// Re-exported kinds the walker matches on.
pub mod kinds {
    pub use clang_sys::{
        CX_SC_Static, CXCursor_DeclRefExpr, CXCursor_EnumConstantDecl, CXCursor_EnumDecl,
        CXCursor_FieldDecl, CXCursor_FunctionDecl, CXCursor_InclusionDirective,
        CXCursor_MacroDefinition, CXCursor_ParenExpr, CXCursor_StructDecl, CXCursor_TypeRef,
        CXCursor_TypedefDecl, CXCursor_UnaryOperator, CXCursor_UnexposedExpr, CXCursor_UnionDecl,
        CXCursor_VarDecl, CXCursorKind, CXToken_Comment, CXToken_Identifier, CXToken_Keyword,
        CXToken_Literal, CXToken_Punctuation, CXTokenKind, CXType_Attributed, CXType_Bool,
        CXType_Char_S, CXType_Char_U, CXType_Char16, CXType_Char32, CXType_Complex,
        CXType_ConstantArray, CXType_Double, CXType_Elaborated, CXType_Enum, CXType_Float,
        CXType_FunctionNoProto, CXType_FunctionProto, CXType_IncompleteArray, CXType_Int,
        CXType_Long, CXType_LongDouble, CXType_LongLong, CXType_Pointer, CXType_Record,
        CXType_SChar, CXType_Short, CXType_Typedef, CXType_UChar, CXType_UInt, CXType_ULong,
        CXType_ULongLong, CXType_UShort, CXType_Void, CXType_WChar, CXTypeKind,
    };
}
