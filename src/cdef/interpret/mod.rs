//! CFFI's interpretation of a cdef (`cffi/cparser.py`'s `Parser`): the C
//! declarations from [`super::pycparser`] become model types and declarations
//! in an [`Ffi`], with CFFI's rules, numbering and error wording.

use rustc_hash::FxHashMap as HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::lexer;
use super::preprocess::{self};
use super::pycparser::{self, Coord, External};
use super::{CdefError, CdefInput, CffiErrorKind, Ffi, IncludedFfi};
use crate::model::{DeclKind, TypeId, Types};

mod consts;
mod declarations;
mod structs;
mod types;

/// Types nested deeper are refused (CFFI's own emitter hits Python's
/// recursion limit at 491 levels of pointers).
const MAX_TYPE_DEPTH: u32 = 400;

/// The name CFFI gives cdef text in its messages.
pub const CDEF_SOURCE_STRING: &str = "<cdef source string>";

static R_INT_LITERAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^-?0?x?[0-9a-f]+[lu]*\n?$").expect("regex"));
static R_ENUM_DOTDOTDOT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^__dotdotdot\d+__$").expect("regex"));

/// A constant expression's value: an integer, or `...` (`[...]` lengths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConstVal {
    Int(i128),
    Dots,
}

/// Where the current extern "Python" block stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExternPython {
    Stop,
    Start,
    PlusC,
}

/// The state of one `cdef()` call.
struct Cx<'a> {
    types: &'a mut Types,
    file: String,
    files: Vec<String>,
    text: &'a str,
    override_: bool,
    packed: u32,
    dllexport: bool,
    inside_extern_python: ExternPython,
    /// CFFI's `_structnode2type`: specifier node id → type.
    node_types: HashMap<usize, TypeId>,
    partial_length: bool,
    /// Where the declaration being processed starts (for error locations).
    current: Option<Coord>,
}

impl Ffi {
    /// `ffi.cdef(text, override=..., packed=..., pack=...)`.
    pub fn cdef(&mut self, types: &mut Types, input: &CdefInput) -> Result<(), CdefError> {
        self.parse_cdef(types, input, false)
    }

    /// `ffi.embedding_api(text, packed=..., pack=...)`: the functions are
    /// exported from the embedding module.
    pub fn embedding_api(&mut self, types: &mut Types, input: &CdefInput) -> Result<(), CdefError> {
        let mut input = input.clone();
        input.override_ = false;
        self.parse_cdef(types, &input, true)?;
        if self.embedding.is_none() {
            self.embedding = Some(String::new());
        }
        Ok(())
    }

    /// `ffi.embedding_init_code(pysource)`: stores the Python code, with
    /// leading blank lines removed and the common indentation stripped.
    pub fn embedding_init_code(&mut self, pysource: &str) -> Result<(), CdefError> {
        if self.embedding.as_deref().is_some_and(|e| !e.is_empty()) {
            return Err(CdefError::new(
                CffiErrorKind::ValueError,
                "embedding_init_code() can only be called once",
                "<embedding>",
            ));
        }
        // Remove the longest run of leading whitespace that ends in '\n'.
        let mut src = pysource;
        let ws_end = src
            .char_indices()
            .find(|(_, c)| !c.is_whitespace())
            .map_or(src.len(), |(i, _)| i);
        if let Some(nl) = src[..ws_end].rfind('\n') {
            src = &src[nl + 1..];
        }
        let mut lines: Vec<&str> = src.lines().collect();
        if lines.is_empty() {
            lines.push("");
        }
        let first = lines[0];
        let mut prefix: &str = &first[..first.len() - first.trim_start().len()];
        for line in &lines[1..] {
            if !line.trim_end().is_empty() {
                while !line.starts_with(prefix) {
                    let mut cs = prefix.chars();
                    cs.next_back();
                    prefix = cs.as_str();
                }
            }
        }
        let n = prefix.len();
        let mut out = String::new();
        for line in lines {
            out.push_str(line.get(n..).unwrap_or(""));
            out.push('\n');
        }
        self.embedding = Some(out);
        Ok(())
    }

    /// `ffi.include(other)`: the other FFI's types (not its functions,
    /// variables or constants' declarations) become usable here.
    pub fn include(
        &mut self,
        types: &mut Types,
        other: &Ffi,
        other_module: IncludedFfi,
    ) -> Result<(), CdefError> {
        let mut cx = Cx {
            types,
            file: "<include>".into(),
            files: vec!["<include>".into()],
            text: "",
            override_: false,
            packed: 0,
            dllexport: false,
            inside_extern_python: ExternPython::Stop,
            node_types: HashMap::default(),
            partial_length: false,
            current: None,
        };
        for d in other.declarations.iter() {
            if d.kind == DeclKind::Anonymous && d.name.starts_with("$enum_$") {
                continue;
            }
            if matches!(
                d.kind,
                DeclKind::Struct
                    | DeclKind::Union
                    | DeclKind::Enum
                    | DeclKind::Anonymous
                    | DeclKind::Typedef
            ) {
                self.declare(&mut cx, d.kind, &d.name, d.value.clone(), true, d.quals)?;
            }
        }
        for (k, v) in &other.int_constants {
            self.add_constant(&cx, k, *v)?;
        }
        self.included_ffis.push(other_module);
        Ok(())
    }

    fn parse_cdef(
        &mut self,
        types: &mut Types,
        input: &CdefInput,
        dllexport: bool,
    ) -> Result<(), CdefError> {
        let file = if input.origin.is_empty() {
            CDEF_SOURCE_STRING.to_string()
        } else {
            input.origin.clone()
        };
        let value_error =
            |message: String| CdefError::new(CffiErrorKind::ValueError, message, file.clone());
        let packed = if input.packed {
            if input.pack.is_some_and(|p| p != 0) {
                return Err(value_error("cannot give both 'pack' and 'packed'".into()));
            }
            1
        } else {
            match input.pack {
                Some(p) if p != 0 => {
                    if !p.is_power_of_two() {
                        return Err(value_error(format!(
                            "'pack' must be a power of two, not {p}"
                        )));
                    }
                    p
                }
                _ => 0,
            }
        };
        let pre = preprocess::preprocess(&input.text).map_err(|e| {
            // The offset is in a rewritten text (maybe not at a character
            // boundary of this one): only the line it is on is kept.
            let line = e.offset.map(|o| {
                let before = input
                    .text
                    .as_bytes()
                    .get(..o)
                    .unwrap_or(input.text.as_bytes());
                (before.iter().filter(|&&b| b == b'\n').count() as u32 + 1, 1)
            });
            CdefError::at(
                CffiErrorKind::CDefError,
                e.message,
                file.clone(),
                line,
                Some(&input.text),
            )
        })?;
        // Type names known before parsing: earlier typedefs, common types used.
        let mut typenames: Vec<String> = self
            .declarations
            .iter()
            .filter(|d| d.kind == DeclKind::Typedef)
            .map(|d| d.name.clone())
            .collect();
        let ctn = preprocess::common_type_names(&pre.csource);
        for n in ctn {
            if !typenames.contains(&n) {
                typenames.push(n);
            }
        }
        for n in ["__dotdotdotint__", "__dotdotdotfloat__", "__dotdotdot__"] {
            typenames.push(n.to_string());
        }
        let syntax_error = |message: String, coord: Option<(u16, u32, u32)>, files: &[String]| {
            let (f, line) = match coord {
                Some((fi, l, c)) => (
                    files
                        .get(fi as usize)
                        .cloned()
                        .unwrap_or_else(|| file.clone()),
                    Some((l, c)),
                ),
                None => (file.clone(), None),
            };
            let text = (f == file).then_some(input.text.as_str());
            CdefError::at(
                CffiErrorKind::CDefError,
                format!("cannot parse: {message}"),
                f,
                line,
                text,
            )
        };
        let lexed = lexer::lex(&pre.csource, &file).map_err(|e| {
            syntax_error(
                e.message,
                Some((e.file, e.line, e.col)),
                std::slice::from_ref(&file),
            )
        })?;
        let ast = pycparser::parse(&lexed, &typenames).map_err(|e| {
            syntax_error(
                e.message,
                e.coord.map(|c| (c.file, c.line, c.col)),
                &lexed.files,
            )
        })?;
        let mut cx = Cx {
            types,
            file: file.clone(),
            files: lexed.files.clone(),
            text: &input.text,
            override_: input.override_,
            packed,
            dllexport,
            inside_extern_python: ExternPython::Stop,
            node_types: HashMap::default(),
            partial_length: false,
            current: None,
        };
        self.process_macros(&mut cx, &pre.macros)?;
        for ext in &ast {
            match ext {
                External::Decl(d) => {
                    cx.current = Some(d.coord);
                    if d.is_typedef {
                        self.typedef(&mut cx, d)?;
                    } else {
                        self.parse_decl(&mut cx, d)?;
                    }
                }
                External::Pragma(c) => {
                    self.warnings.push(format!(
                        "{}:{}: #pragma in cdef() are entirely ignored. They should be removed for now, otherwise your code might behave differently in a future version of CFFI if #pragma support gets added. Note that '#pragma pack' needs to be replaced with the 'packed' keyword argument to cdef().",
                        file, c.line
                    ));
                }
                External::Unsupported(what, c) => {
                    cx.current = Some(*c);
                    return Err(cx.error(
                        CffiErrorKind::CDefError,
                        format!(
                            "unexpected <{what}>: this construct is valid C but not valid in cdef()"
                        ),
                        Some(*c),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Cx<'_> {
    fn error(&self, kind: CffiErrorKind, message: String, coord: Option<Coord>) -> CdefError {
        let coord = coord.or(self.current);
        // CFFI words some messages ":LINE: ..."; the location is shown anyway.
        let message = match message.strip_prefix(':').and_then(|m| m.split_once(": ")) {
            Some((n, rest))
                if coord.is_some() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) =>
            {
                rest.to_string()
            }
            _ => message,
        };
        let (file, line) = match coord {
            Some(c) if c.line > 0 => (
                self.files
                    .get(c.file as usize)
                    .cloned()
                    .unwrap_or_else(|| self.file.clone()),
                Some((c.line, c.col)),
            ),
            _ => (self.file.clone(), None),
        };
        let text = (file == self.file).then_some(self.text);
        CdefError::at(kind, message, file, line, text)
    }

    fn unsupported_expr(&self, c: Coord) -> CdefError {
        self.error(
            CffiErrorKind::FfiError,
            format!(
                ":{}: unsupported expression: expected a simple numeric constant",
                c.line
            ),
            Some(c),
        )
    }

    /// The byte offset of `#define name` in the original text (CFFI gives
    /// no place for an error in a macro; the rewritten text has none).
    fn find_define(&self, name: &str) -> Option<usize> {
        let mut line_start = 0usize;
        for line in self.text.split_inclusive('\n') {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix('#') {
                let rest = rest.trim_start();
                if let Some(rest) = rest.strip_prefix("define") {
                    let after = rest.trim_start().strip_prefix(name);
                    if after
                        .is_some_and(|a| !a.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
                    {
                        return Some(line_start + line.len() - t.len());
                    }
                }
            }
            line_start += line.len();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DeclValue;

    fn parse(src: &str) -> (Types, Ffi) {
        let mut t = Types::new();
        let mut f = Ffi::new();
        f.cdef(&mut t, &CdefInput::new(src, "")).unwrap();
        (t, f)
    }

    fn c_name(t: &Types, f: &Ffi, kind: DeclKind, name: &str) -> String {
        match f.declarations.get(kind, name).unwrap().value {
            DeclValue::Type(id) => t.c_name_plain(id),
            ref v => format!("{v:?}"),
        }
    }

    #[test]
    fn c_names_of_declarations() {
        let (t, f) = parse(
            "typedef struct { int a; } foo_t, *foo_p; int (*g(long))(int); unsigned f(char *const*, ...);
             typedef int arr_t[...][4]; struct s { int x[...]; ...; };\n#define N 0x10\n enum { A = N << 1, B };",
        );
        assert_eq!(c_name(&t, &f, DeclKind::Typedef, "foo_t"), "foo_t");
        assert_eq!(c_name(&t, &f, DeclKind::Typedef, "foo_p"), "foo_t *");
        assert_eq!(
            c_name(&t, &f, DeclKind::Function, "g"),
            "int(*(*)(long))(int)"
        );
        assert_eq!(
            c_name(&t, &f, DeclKind::Function, "f"),
            "unsigned int(*)(char * const *, ...)"
        );
        assert_eq!(
            c_name(&t, &f, DeclKind::Typedef, "arr_t"),
            "int[_cffi_array_len(*(arr_t *)0)][4]"
        );
        assert!(
            t.as_struct(
                match f.declarations.get(DeclKind::Struct, "s").unwrap().value {
                    DeclValue::Type(id) => id,
                    _ => unreachable!(),
                }
            )
            .unwrap()
            .partial
        );
        assert_eq!(f.int_constants["A"], 32);
        assert_eq!(f.int_constants["B"], 33);
        assert!(
            f.declarations
                .get(DeclKind::Anonymous, "$enum_$1")
                .is_some()
        );
    }

    #[test]
    fn redeclaration_rules() {
        let mut t = Types::new();
        let mut f = Ffi::new();
        f.cdef(&mut t, &CdefInput::new("typedef int x_t;\n#define M 5", ""))
            .unwrap();
        f.cdef(&mut t, &CdefInput::new("typedef int x_t;\n#define M 5", ""))
            .unwrap();
        let e = f
            .cdef(&mut t, &CdefInput::new("typedef long x_t;", ""))
            .unwrap_err();
        assert!(
            e.message
                .starts_with("multiple declarations of typedef x_t"),
            "{e}"
        );
        f.cdef(&mut t, &CdefInput::new("#define BIG 1000", ""))
            .unwrap();
        assert!(
            f.cdef(&mut t, &CdefInput::new("#define BIG 1000", ""))
                .is_err()
        );
    }

    #[test]
    fn errors_name_file_line_and_quote_the_source() {
        let mut t = Types::new();
        let mut f = Ffi::new();
        let e = f
            .cdef(
                &mut t,
                &CdefInput::new("int f(int);\nint g(int x y);\n", "pkg/_x.cdef.txt"),
            )
            .unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with("pkg/_x.cdef.txt:2:"), "{shown}");
        assert!(shown.contains("int g(int x y);"), "{shown}");
        let e = f
            .cdef(&mut t, &CdefInput::new("\n\nfoo_t bar(void);", "a.cdef"))
            .unwrap_err();
        assert_eq!(e.line.map(|l| l.0), Some(3), "{e}");
    }

    #[test]
    fn stdcall_and_extern_python() {
        let (t, f) =
            parse("int __stdcall f(int); extern \"Python\" int cb(int); int (__stdcall *p)(int);");
        assert_eq!(
            c_name(&t, &f, DeclKind::Function, "f"),
            "int(__stdcall *)(int)"
        );
        assert!(f.declarations.get(DeclKind::ExternPython, "cb").is_some());
        assert_eq!(
            c_name(&t, &f, DeclKind::Variable, "p"),
            "int(__stdcall *)(int)"
        );
    }
}
