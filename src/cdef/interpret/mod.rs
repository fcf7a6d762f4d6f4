//! CFFI's interpretation of a cdef (`cffi/cparser.py`'s `Parser`): the C
//! declarations from [`super::pycparser`] become model types and declarations
//! in an [`Ffi`], with CFFI's rules, numbering and error wording.

use rustc_hash::FxHashMap as HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::lexer;
use super::preprocess::{self, COMMON_TYPE_WORDS};
use super::pycparser::{
    self, Base, ConstKind, Coord, Decl, EnumNode, Expr, External, Init, Member, Param, SuNode,
    TyNode,
};
use super::{CdefError, CdefInput, CffiErrorKind, Ffi, IncludedFfi};
use crate::model::{
    ArrayLength, DeclKind, DeclValue, Declaration, Field, FunctionSig, Q_CONST, Q_RESTRICT,
    Q_VOLATILE, Quals, StructKind, TypeId, TypeKind, Types, primitive_kind,
};

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

    fn process_macros(
        &mut self,
        cx: &mut Cx<'_>,
        macros: &[(String, String)],
    ) -> Result<(), CdefError> {
        for (key, value) in macros {
            let value = value.trim();
            if R_INT_LITERAL.is_match(value) {
                self.add_integer_constant(cx, key, value)?;
            } else if value == "..." {
                self.declare(cx, DeclKind::Macro, key, DeclValue::MacroDots, false, 0)?;
            } else {
                let message = format!(
                    "only supports one of the following syntax:\n  #define {key} ...     (literally dot-dot-dot)\n  #define {key} NUMBER  (with NUMBER an integer constant, decimal/hex/octal)\ngot:\n  #define {key} {value}"
                );
                return Err(match cx.find_define(key) {
                    Some(offset) => CdefError::at_offset(
                        CffiErrorKind::CDefError,
                        message,
                        cx.file.clone(),
                        offset,
                        cx.text,
                    ),
                    None => cx.error(CffiErrorKind::CDefError, message, None),
                });
            }
        }
        Ok(())
    }

    fn add_constant(&mut self, cx: &Cx<'_>, key: &str, val: i128) -> Result<(), CdefError> {
        if let Some(&prev) = self.int_constants.get(key) {
            if prev == val {
                return Ok(());
            }
            return Err(cx.error(
                CffiErrorKind::FfiError,
                format!("multiple declarations of constant: {key}"),
                None,
            ));
        }
        self.int_constants.insert(key.to_string(), val);
        Ok(())
    }

    fn add_integer_constant(
        &mut self,
        cx: &mut Cx<'_>,
        name: &str,
        int_str: &str,
    ) -> Result<(), CdefError> {
        let lower = int_str.to_lowercase();
        let mut s = lower.trim_end_matches(['u', 'l']);
        let neg = s.starts_with('-');
        if neg {
            s = &s[1..];
        }
        let parsed = if let Some(h) = s.strip_prefix("0x") {
            i128::from_str_radix(h, 16).ok()
        } else if s.starts_with('0') && s != "0" {
            i128::from_str_radix(&s[1..], 8).ok()
        } else if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
            s.parse::<i128>().ok()
        } else {
            None
        };
        let Some(mut v) = parsed else {
            return Err(cx.error(
                CffiErrorKind::CDefError,
                format!("invalid integer constant for {name}: {int_str:?}"),
                None,
            ));
        };
        if neg {
            v = -v;
        }
        self.add_constant(cx, name, v)?;
        self.declare(cx, DeclKind::Macro, name, DeclValue::MacroInt(v), false, 0)
    }

    /// CFFI's `_declare`: a second declaration of a name is an error unless
    /// it is the very same object (or `override=True`).
    fn declare(
        &mut self,
        cx: &mut Cx<'_>,
        kind: DeclKind,
        name: &str,
        value: DeclValue,
        included: bool,
        quals: Quals,
    ) -> Result<(), CdefError> {
        if let Some(prev) = self.declarations.get(kind, name) {
            let same = match (&prev.value, &value) {
                (DeclValue::Type(a), DeclValue::Type(b)) => a == b,
                // Python's small ints are shared objects; other values are not.
                (DeclValue::MacroInt(a), DeclValue::MacroInt(b)) => {
                    a == b && (-5..=256).contains(a)
                }
                _ => false,
            };
            if same && prev.quals == quals {
                return Ok(());
            }
            if !cx.override_ {
                return Err(cx.error(
                    CffiErrorKind::FfiError,
                    format!(
                        "multiple declarations of {kind} {name} (for interactive usage, try cdef(xx, override=True))"
                    ),
                    None,
                ));
            }
        }
        if let Some(c) = cx.current.filter(|c| c.line > 0) {
            let file = cx.files.get(c.file as usize).unwrap_or(&cx.file);
            self.locations.insert(
                (kind, name.to_string()),
                format!("{file}:{}:{}", c.line, c.col),
            );
        }
        if included && let DeclValue::Type(t) = value {
            let c = cx.types.canonical(t);
            self.included_declarations.insert(c);
        }
        self.declarations.insert(Declaration {
            kind,
            name: name.to_string(),
            value,
            quals,
        });
        Ok(())
    }

    fn typedef(&mut self, cx: &mut Cx<'_>, d: &Decl) -> Result<(), CdefError> {
        let Some(name) = &d.name else {
            return Err(cx.error(
                CffiErrorKind::CDefError,
                "typedef does not declare any name".into(),
                Some(d.coord),
            ));
        };
        let mut quals = 0;
        let dotted = |n: &[String]| n.last().is_some_and(|w| w.starts_with("__dotdotdot"));
        let realtype = match &d.ty {
            TyNode::TypeDecl {
                base: Base::Names(n),
                coord,
                ..
            } if dotted(n) => self.unknown_type(cx, name, n, *coord)?,
            TyNode::Ptr { inner, coord, .. } if matches!(&**inner, TyNode::TypeDecl { base: Base::Names(n), .. } if dotted(n)) =>
            {
                let TyNode::TypeDecl {
                    base: Base::Names(n),
                    ..
                } = &**inner
                else {
                    unreachable!()
                };
                if n.len() == 1 && n[0] == "__dotdotdot__" {
                    cx.types.unknown_ptr_type(name, None)
                } else {
                    return Err(cx.error(
                        CffiErrorKind::FfiError,
                        format!(":{}: unsupported usage of \"...\" in typedef", coord.line),
                        Some(*coord),
                    ));
                }
            }
            _ => {
                let (t, q) = self.type_and_quals(
                    cx,
                    &d.ty,
                    Some(name),
                    true,
                    Some(format!("*({name} *)0")),
                )?;
                quals = q;
                t
            }
        };
        self.declare(
            cx,
            DeclKind::Typedef,
            name,
            DeclValue::Type(realtype),
            false,
            quals,
        )
    }

    fn unknown_type(
        &mut self,
        cx: &mut Cx<'_>,
        name: &str,
        names: &[String],
        coord: Coord,
    ) -> Result<TypeId, CdefError> {
        match names {
            [n] if n == "__dotdotdot__" => Ok(cx.types.unknown_type(name, None)),
            [n] if n == "__dotdotdotint__" => Ok(cx.types.unknown_integer(name)),
            [n] if n == "__dotdotdotfloat__" => Ok(cx.types.unknown_float(name)),
            _ => Err(cx.error(
                CffiErrorKind::FfiError,
                format!(":{}: unsupported usage of \"...\" in typedef", coord.line),
                Some(coord),
            )),
        }
    }

    fn parse_decl(&mut self, cx: &mut Cx<'_>, d: &Decl) -> Result<(), CdefError> {
        if let TyNode::Func { .. } = &d.ty {
            let (tp, quals) = self.type_and_quals(cx, &d.ty, d.name.as_deref(), false, None)?;
            return self.declare_function(cx, tp, quals, d.name.as_deref().unwrap_or(""));
        }
        match &d.ty {
            TyNode::Bare(Base::Su(n), _) => {
                let kind = if n.is_union { "union" } else { "struct" };
                self.sue_type(cx, kind, SueNode::Su(n), None, false)?;
            }
            TyNode::Bare(Base::Enum(n), _) => {
                self.sue_type(cx, "enum", SueNode::Enum(n), None, false)?;
            }
            _ if d.name.is_none() => {
                return Err(cx.error(
                    CffiErrorKind::CDefError,
                    "construct does not declare any variable".into(),
                    Some(d.coord),
                ));
            }
            _ => {}
        }
        let Some(name) = &d.name else { return Ok(()) };
        let (tp, quals) = self.type_and_quals(cx, &d.ty, None, true, None)?;
        if cx.types.is_raw_function(tp) {
            return self.declare_function(cx, tp, quals, name);
        }
        if cx.types.is_integer_type(tp) {
            match &d.init {
                Some(Init::Expr(Expr::Const { text, .. })) if R_INT_LITERAL.is_match(text) => {
                    return self.add_integer_constant(cx, name, text);
                }
                Some(Init::Expr(Expr::Unary(op, e, _))) if op == "-" => {
                    if let Expr::Const { text, .. } = &**e
                        && R_INT_LITERAL.is_match(text)
                    {
                        return self.add_integer_constant(cx, name, &format!("-{text}"));
                    }
                }
                _ => {}
            }
        }
        if tp == cx.types.void() && name.starts_with("__cffi_extern_python_") {
            cx.inside_extern_python = match name.as_str() {
                "__cffi_extern_python_start" => ExternPython::Start,
                "__cffi_extern_python_plus_c_start" => ExternPython::PlusC,
                _ => ExternPython::Stop,
            };
            return Ok(());
        }
        if cx.inside_extern_python != ExternPython::Stop {
            return Err(cx.error(
                CffiErrorKind::CDefError,
                "cannot declare constants or variables with 'extern \"Python\"'".into(),
                Some(d.coord),
            ));
        }
        if quals & Q_CONST != 0 && !cx.types.is_array_type(tp) {
            self.declare(
                cx,
                DeclKind::Constant,
                name,
                DeclValue::Type(tp),
                false,
                quals,
            )
        } else {
            if d.storage.is_empty() {
                self.warnings.push(format!(
                    "Global variable '{name}' in cdef(): for consistency with C it should have a storage class specifier (usually 'extern')"
                ));
            }
            self.declare(
                cx,
                DeclKind::Variable,
                name,
                DeclValue::Type(tp),
                false,
                quals,
            )
        }
    }

    fn declare_function(
        &mut self,
        cx: &mut Cx<'_>,
        tp: TypeId,
        quals: Quals,
        name: &str,
    ) -> Result<(), CdefError> {
        let tp = self.type_pointer(cx, tp, quals, None);
        let kind = if cx.dllexport {
            DeclKind::DllexportPython
        } else {
            match cx.inside_extern_python {
                ExternPython::Start => DeclKind::ExternPython,
                ExternPython::PlusC => DeclKind::ExternPythonPlusC,
                ExternPython::Stop => DeclKind::Function,
            }
        };
        self.declare(cx, kind, name, DeclValue::Type(tp), false, 0)
    }

    fn type_pointer(
        &mut self,
        cx: &mut Cx<'_>,
        tp: TypeId,
        quals: Quals,
        declname: Option<&str>,
    ) -> TypeId {
        if cx.types.is_raw_function(tp) {
            return cx.types.as_function_pointer(tp);
        }
        if let Some(declname) = declname {
            let anon = match cx.types.kind(tp) {
                TypeKind::StructOrUnion(s) => anonymous_numbered(&s.name) && s.forcename.is_none(),
                TypeKind::Enum(e) => anonymous_numbered(&e.name) && e.forcename.is_none(),
                _ => false,
            };
            if anon {
                return cx.types.named_pointer(tp, declname, quals);
            }
        }
        cx.types.pointer(tp, quals)
    }

    /// The type a declarator tree denotes. Types nested deeper than
    /// [`MAX_TYPE_DEPTH`] (a chain of typedefs adding one pointer each) are
    /// refused: everything after the parser walks types recursively.
    fn type_and_quals(
        &mut self,
        cx: &mut Cx<'_>,
        node: &TyNode,
        name: Option<&str>,
        partial_length_ok: bool,
        typedef_example: Option<String>,
    ) -> Result<(TypeId, Quals), CdefError> {
        let (t, q) = self.type_and_quals_in(cx, node, name, partial_length_ok, typedef_example)?;
        if cx.types.depth(t) > MAX_TYPE_DEPTH {
            return Err(cx.error(
                CffiErrorKind::CDefError,
                format!("a type nested deeper than {MAX_TYPE_DEPTH} levels is not supported"),
                Some(node.coord()),
            ));
        }
        Ok((t, q))
    }

    fn type_and_quals_in(
        &mut self,
        cx: &mut Cx<'_>,
        node: &TyNode,
        name: Option<&str>,
        partial_length_ok: bool,
        typedef_example: Option<String>,
    ) -> Result<(TypeId, Quals), CdefError> {
        // A typedef name already declared.
        if let TyNode::TypeDecl {
            base: Base::Names(n),
            quals,
            ..
        } = node
            && n.len() == 1
            && let Some(d) = self.declarations.get(DeclKind::Typedef, &n[0])
            && let DeclValue::Type(t) = d.value
        {
            return Ok((t, d.quals | extract_quals(quals)));
        }
        match node {
            TyNode::Array { dim, inner, .. } => {
                let mut length = match dim {
                    None => ArrayLength::Open,
                    Some(e) => match self.parse_constant(cx, e, partial_length_ok)? {
                        ConstVal::Dots => ArrayLength::Dots,
                        ConstVal::Int(n) => {
                            let Ok(n) = u64::try_from(n) else {
                                return Err(cx.error(
                                    CffiErrorKind::CDefError,
                                    format!("negative array length: {n}"),
                                    Some(e.coord()),
                                ));
                            };
                            ArrayLength::Known(n)
                        }
                    },
                };
                let mut example = typedef_example;
                if let Some(ex) = &example {
                    if length == ArrayLength::Dots {
                        length = ArrayLength::Expr(format!("_cffi_array_len({ex})"));
                    }
                    example = Some(format!("*{ex}"));
                }
                let (tp, quals) =
                    self.type_and_quals(cx, inner, None, partial_length_ok, example)?;
                Ok((cx.types.array(tp, length), quals))
            }
            TyNode::Ptr { quals, inner, .. } => {
                let (item, itemquals) = self.type_and_quals(cx, inner, None, false, None)?;
                let tp = self.type_pointer(cx, item, itemquals, name);
                Ok((tp, extract_quals(quals)))
            }
            TyNode::TypeDecl { quals, base, coord } => {
                let quals = extract_quals(quals);
                match base {
                    Base::Names(names) => {
                        let ident = normalize_names(names);
                        if ident == "void" {
                            return Ok((cx.types.void(), quals));
                        }
                        if ident == "__dotdotdot__" {
                            return Err(cx.error(
                                CffiErrorKind::FfiError,
                                format!(":{}: bad usage of \"...\"", coord.line),
                                Some(*coord),
                            ));
                        }
                        let (tp, q0) = resolve_common_type(cx, &ident, *coord)?;
                        Ok((tp, quals | q0))
                    }
                    Base::Su(n) => {
                        let kind = if n.is_union { "union" } else { "struct" };
                        Ok((self.sue_type(cx, kind, SueNode::Su(n), name, false)?, quals))
                    }
                    Base::Enum(n) => Ok((
                        self.sue_type(cx, "enum", SueNode::Enum(n), name, false)?,
                        quals,
                    )),
                }
            }
            TyNode::Func { params, ret, coord } => Ok((
                self.function_type(cx, params.as_deref(), ret, name, *coord)?,
                0,
            )),
            TyNode::Bare(Base::Su(n), _) => {
                let kind = if n.is_union { "union" } else { "struct" };
                Ok((self.sue_type(cx, kind, SueNode::Su(n), name, true)?, 0))
            }
            TyNode::Bare(_, coord) => Err(cx.error(
                CffiErrorKind::FfiError,
                format!(":{}: bad or unsupported type declaration", coord.line),
                Some(*coord),
            )),
        }
    }

    fn function_type(
        &mut self,
        cx: &mut Cx<'_>,
        params: Option<&[Param]>,
        ret: &TyNode,
        funcname: Option<&str>,
        coord: Coord,
    ) -> Result<TypeId, CdefError> {
        let mut params: Vec<&Param> = params.unwrap_or(&[]).iter().collect();
        let what = funcname.unwrap_or("in expression");
        for (i, p) in params.iter().enumerate() {
            if let Param::Untyped(n, c) = p {
                return Err(cx.error(
                    CffiErrorKind::CDefError,
                    format!(
                        "{what} arg {}: unknown type '{n}' (if you meant to use the old C syntax of giving untyped arguments, it is not supported)",
                        i + 1
                    ),
                    Some(*c),
                ));
            }
        }
        let ellipsis = matches!(params.last(), Some(Param::Typed { ty: TyNode::TypeDecl { base: Base::Names(n), .. }, .. }) if n.len() == 1 && n[0] == "__dotdotdot__");
        if ellipsis {
            params.pop();
            if params.is_empty() {
                return Err(cx.error(
                    CffiErrorKind::CDefError,
                    format!("{what}: a function with only '(...)' as argument is not correct C"),
                    Some(coord),
                ));
            }
        }
        let mut args = Vec::with_capacity(params.len());
        for p in params {
            let Param::Typed { ty, .. } = p else {
                unreachable!()
            };
            let (t, q) = self.type_and_quals(cx, ty, None, false, None)?;
            args.push(self.as_func_arg(cx, t, q));
        }
        if !ellipsis && args.len() == 1 && args[0] == cx.types.void() {
            args.clear();
        }
        let (result, _) = self.type_and_quals(cx, ret, None, false, None)?;
        let abi = match ret {
            TyNode::TypeDecl { quals, .. } | TyNode::Ptr { quals, .. }
                if quals.len() >= 3
                    && quals[quals.len() - 3..] == ["volatile", "volatile", "const"] =>
            {
                Some("__stdcall".to_string())
            }
            _ => None,
        };
        Ok(cx.types.raw_function(FunctionSig {
            args,
            result,
            ellipsis,
            abi,
        }))
    }

    fn as_func_arg(&mut self, cx: &mut Cx<'_>, t: TypeId, quals: Quals) -> TypeId {
        match cx.types.kind(t) {
            TypeKind::Array { item, .. } => {
                let item = *item;
                cx.types.pointer(item, quals)
            }
            TypeKind::RawFunction(_) => cx.types.as_function_pointer(t),
            _ => t,
        }
    }

    /// CFFI's `_get_struct_union_enum_type`.
    fn sue_type(
        &mut self,
        cx: &mut Cx<'_>,
        kind: &str,
        node: SueNode<'_>,
        force_name: Option<&str>,
        nested: bool,
    ) -> Result<TypeId, CdefError> {
        if let Some(&t) = cx.node_types.get(&node.id()) {
            return Ok(t);
        }
        let decl_kind = match kind {
            "struct" => DeclKind::Struct,
            "union" => DeclKind::Union,
            _ => DeclKind::Enum,
        };
        let tag = node.name();
        let explicit_name;
        let mut tp = None;
        match tag {
            None => {
                explicit_name = match force_name {
                    Some(f) => format!("${f}"),
                    None => {
                        self.anonymous_counter += 1;
                        format!("${}", self.anonymous_counter)
                    }
                };
            }
            Some(n) => {
                explicit_name = n.to_string();
                if let Some(d) = self.declarations.get(decl_kind, n)
                    && let DeclValue::Type(t) = d.value
                {
                    tp = Some(t);
                }
            }
        }
        let tp = match tp {
            None => {
                let t = match &node {
                    SueNode::Su(n) => cx.types.struct_or_union(
                        if n.is_union {
                            StructKind::Union
                        } else {
                            StructKind::Struct
                        },
                        &explicit_name,
                        None,
                    ),
                    SueNode::Enum(n) => {
                        if explicit_name == "__dotdotdot__" {
                            return Err(cx.error(
                                CffiErrorKind::CDefError,
                                "Enums cannot be declared with ...".into(),
                                Some(n.coord),
                            ));
                        }
                        self.build_enum_type(cx, &explicit_name, n)?
                    }
                };
                if let Some(n) = tag {
                    self.declare(cx, decl_kind, n, DeclValue::Type(t), false, 0)?;
                }
                t
            }
            Some(t) => {
                if let SueNode::Enum(n) = &node
                    && n.values.is_some()
                {
                    return Err(cx.error(
                            CffiErrorKind::NotImplemented,
                            format!(
                                "enum {explicit_name}: the '{{}}' declaration should appear on the first time the enum is mentioned, not later"
                            ),
                            Some(n.coord),
                        ));
                }
                t
            }
        };
        let (forcename, name) = match cx.types.kind(tp) {
            TypeKind::StructOrUnion(s) => (s.forcename.clone(), s.name.clone()),
            TypeKind::Enum(e) => (e.forcename.clone(), e.name.clone()),
            _ => (None, String::new()),
        };
        let forcename = if forcename.as_deref().is_none_or(str::is_empty) {
            cx.types.force_the_name(tp, force_name);
            match cx.types.kind(tp) {
                TypeKind::StructOrUnion(s) => s.forcename.clone(),
                TypeKind::Enum(e) => e.forcename.clone(),
                _ => None,
            }
        } else {
            forcename
        };
        if let Some(f) = forcename.filter(|f| !f.is_empty())
            && name.contains('$')
        {
            self.declare(cx, DeclKind::Anonymous, &f, DeclValue::Type(tp), false, 0)?;
        }
        cx.node_types.insert(node.id(), tp);
        let SueNode::Su(su) = node else {
            return Ok(tp);
        };
        let Some(members) = &su.decls else {
            return Ok(tp);
        };
        if cx.types.as_struct(tp).is_some_and(|s| s.fields.is_some()) {
            return Err(cx.error(
                CffiErrorKind::CDefError,
                format!(
                    "duplicate declaration of struct {}",
                    su.name.as_deref().unwrap_or("None")
                ),
                Some(su.coord),
            ));
        }
        let mut fields = Vec::new();
        for m in members {
            let d = match m {
                Member::Decl(d) => d,
                Member::Pragma(c) => {
                    return Err(cx.error(
                        CffiErrorKind::CDefError,
                        "#pragma inside a struct or union is not supported in cdef()".into(),
                        Some(*c),
                    ));
                }
            };
            if let TyNode::Bare(Base::Names(n), _) = &d.ty
                && n.concat() == "__dotdotdot__"
            {
                self.make_partial(cx, tp, nested, d.coord)?;
                continue;
            }
            let bitsize = match &d.bitsize {
                None => -1,
                Some(e) => match self.parse_constant(cx, e, false)? {
                    ConstVal::Int(n) => i64::try_from(n).map_err(|_| {
                        cx.error(
                            CffiErrorKind::CDefError,
                            format!("invalid bit size {n}"),
                            Some(e.coord()),
                        )
                    })?,
                    ConstVal::Dots => unreachable!("partial_length_ok is false"),
                },
            };
            cx.partial_length = false;
            let (ftype, fqual) = self.type_and_quals(cx, &d.ty, None, true, None)?;
            if cx.partial_length {
                self.make_partial(cx, tp, nested, d.coord)?;
            }
            if cx
                .types
                .as_struct(ftype)
                .is_some_and(|s| s.kind == StructKind::Struct && s.partial)
            {
                self.make_partial(cx, tp, nested, d.coord)?;
            }
            fields.push(Field {
                name: d.name.clone().unwrap_or_default(),
                ty: ftype,
                bitsize,
                quals: fqual,
            });
        }
        let has_bitfields = fields.iter().any(|f| f.bitsize != -1);
        let repr = cx.types.repr(tp);
        let packed = cx.packed;
        let s = cx.types.struct_mut(tp).expect("a struct or union");
        s.fields = Some(fields);
        if has_bitfields && s.kind == StructKind::Struct && s.partial {
            return Err(cx.error(
                CffiErrorKind::NotImplemented,
                format!("{repr}: using both bitfields and '...;'"),
                Some(su.coord),
            ));
        }
        if cx.types.contains_itself_anonymously(tp) {
            // CFFI accepts it here and recurses without end when it emits.
            return Err(cx.error(
                CffiErrorKind::CDefError,
                format!("{repr}: contains itself through anonymous members"),
                Some(su.coord),
            ));
        }
        let s = cx.types.struct_mut(tp).expect("a struct or union");
        s.packed = packed;
        Ok(tp)
    }

    fn make_partial(
        &mut self,
        cx: &mut Cx<'_>,
        tp: TypeId,
        nested: bool,
        coord: Coord,
    ) -> Result<(), CdefError> {
        if cx.types.as_struct(tp).is_none() {
            let r = cx.types.repr(tp);
            return Err(cx.error(
                CffiErrorKind::CDefError,
                format!("{r} cannot be partial"),
                Some(coord),
            ));
        }
        if !cx.types.has_c_name(tp) && !nested {
            let r = cx.types.repr(tp);
            return Err(cx.error(
                CffiErrorKind::NotImplemented,
                format!("{r} is partial but has no C name"),
                Some(coord),
            ));
        }
        cx.types.struct_mut(tp).expect("checked").partial = true;
        Ok(())
    }

    fn build_enum_type(
        &mut self,
        cx: &mut Cx<'_>,
        explicit_name: &str,
        node: &EnumNode,
    ) -> Result<TypeId, CdefError> {
        let Some(values) = &node.values else {
            return Ok(cx.types.enum_type(explicit_name, vec![], vec![], None));
        };
        let mut partial = false;
        let mut names = Vec::new();
        let mut vals = Vec::new();
        let mut next: i128 = 0;
        for e in values {
            if R_ENUM_DOTDOTDOT.is_match(&e.name) {
                partial = true;
                continue;
            }
            if let Some(v) = &e.value {
                next = match self.parse_constant(cx, v, false)? {
                    ConstVal::Int(n) => n,
                    ConstVal::Dots => unreachable!("partial_length_ok is false"),
                };
            }
            names.push(e.name.clone());
            vals.push(next);
            self.add_constant(cx, &e.name, next)?;
            next += 1;
        }
        let tp = cx.types.enum_type(explicit_name, names, vals, None);
        cx.types.enum_mut(tp).expect("an enum").partial = partial;
        Ok(tp)
    }

    /// CFFI's `_parse_constant`.
    fn parse_constant(
        &mut self,
        cx: &mut Cx<'_>,
        e: &Expr,
        partial_length_ok: bool,
    ) -> Result<ConstVal, CdefError> {
        let c = e.coord();
        match e {
            Expr::Const { kind, text, .. } => {
                let s = text.as_str();
                if s.starts_with(|ch: char| ch.is_ascii_digit()) && *kind != ConstKind::Str {
                    let t = s.trim_end_matches(['u', 'U', 'l', 'L']);
                    let lower = t.to_ascii_lowercase();
                    let v = if t.starts_with('0') {
                        i128::from_str_radix(t, 8).ok().or_else(|| {
                            if let Some(h) = lower.strip_prefix("0x") {
                                i128::from_str_radix(h, 16).ok()
                            } else if let Some(b) = lower.strip_prefix("0b") {
                                i128::from_str_radix(b, 2).ok()
                            } else {
                                None
                            }
                        })
                    } else {
                        t.parse::<i128>().ok()
                    };
                    return v.map(ConstVal::Int).ok_or_else(|| {
                        cx.error(
                            CffiErrorKind::CDefError,
                            format!("invalid constant '{t}'"),
                            Some(c),
                        )
                    });
                }
                let chars: Vec<char> = s.chars().collect();
                if chars.len() >= 3
                    && chars[0] == '\''
                    && chars[chars.len() - 1] == '\''
                    && (chars.len() == 3 || (chars.len() == 4 && chars[1] == '\\'))
                {
                    return Ok(ConstVal::Int(chars[chars.len() - 2] as i128));
                }
                Err(cx.error(
                    CffiErrorKind::CDefError,
                    format!("invalid constant '{s}'"),
                    Some(c),
                ))
            }
            Expr::Unary(op, inner, _) if op == "+" => self.parse_constant(cx, inner, false),
            Expr::Unary(op, inner, _) if op == "-" => {
                match self.parse_constant(cx, inner, false)? {
                    ConstVal::Int(n) => Ok(ConstVal::Int(-n)),
                    ConstVal::Dots => Err(cx.unsupported_expr(c)),
                }
            }
            Expr::Id(n, _) if self.int_constants.contains_key(n) => {
                Ok(ConstVal::Int(self.int_constants[n]))
            }
            Expr::Id(n, _) if n == "__dotdotdotarray__" => {
                if partial_length_ok {
                    cx.partial_length = true;
                    return Ok(ConstVal::Dots);
                }
                Err(cx.error(
                    CffiErrorKind::FfiError,
                    format!(
                        ":{}: unsupported '[...]' here, cannot derive the actual array length in this context",
                        c.line
                    ),
                    Some(c),
                ))
            }
            Expr::Binary(op, l, r, _) => {
                let l = self.parse_constant(cx, l, false)?;
                let r = self.parse_constant(cx, r, false)?;
                let (ConstVal::Int(a), ConstVal::Int(b)) = (l, r) else {
                    return Err(cx.unsupported_expr(c));
                };
                let overflow = || {
                    cx.error(
                        CffiErrorKind::CDefError,
                        "constant expression overflows".into(),
                        Some(c),
                    )
                };
                let v = match op.as_str() {
                    "+" => a.checked_add(b),
                    "-" => a.checked_sub(b),
                    "*" => a.checked_mul(b),
                    "/" | "%" => {
                        if b == 0 {
                            return Err(cx.error(
                                CffiErrorKind::CDefError,
                                "division by zero in a constant".into(),
                                Some(c),
                            ));
                        }
                        let q = c_div(a, b);
                        if op == "/" {
                            Some(q)
                        } else {
                            q.checked_mul(b).and_then(|m| a.checked_sub(m))
                        }
                    }
                    "<<" => u32::try_from(b).ok().and_then(|s| {
                        if s >= 127 || (a.abs().leading_zeros() as i64) <= s as i64 + 1 {
                            None
                        } else {
                            Some(a << s)
                        }
                    }),
                    ">>" => u32::try_from(b).ok().map(|s| {
                        if s >= 127 {
                            if a < 0 { -1 } else { 0 }
                        } else {
                            a >> s
                        }
                    }),
                    "&" => Some(a & b),
                    "|" => Some(a | b),
                    "^" => Some(a ^ b),
                    _ => return Err(cx.unsupported_expr(c)),
                };
                v.map(ConstVal::Int).ok_or_else(overflow)
            }
            _ => Err(cx.unsupported_expr(c)),
        }
    }
}

/// CFFI's `_c_div`: Python's floor division corrected to round towards
/// zero, which is Rust's `/`.
fn c_div(a: i128, b: i128) -> i128 {
    a / b
}

/// A struct/union or enum specifier node.
enum SueNode<'a> {
    Su(&'a SuNode),
    Enum(&'a EnumNode),
}

impl SueNode<'_> {
    fn id(&self) -> usize {
        match self {
            SueNode::Su(n) => n.id,
            SueNode::Enum(n) => n.id,
        }
    }

    fn name(&self) -> Option<&str> {
        match self {
            SueNode::Su(n) => n.name.as_deref(),
            SueNode::Enum(n) => n.name.as_deref(),
        }
    }
}

/// `$1`, `$2`...: a name invented for an anonymous struct.
fn anonymous_numbered(name: &str) -> bool {
    name.strip_prefix('$')
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
}

fn extract_quals(quals: &[String]) -> Quals {
    let mut q = 0;
    for s in quals {
        match s.as_str() {
            "const" => q |= Q_CONST,
            "volatile" => q |= Q_VOLATILE,
            "restrict" => q |= Q_RESTRICT,
            _ => {}
        }
    }
    q
}

/// CFFI's reduction of type words to one spelling (`long unsigned int` →
/// `unsigned long`).
fn normalize_names(names: &[String]) -> String {
    if names.len() == 2 && names[0] == "signed" && names[1] == "char" {
        return "signed char".into();
    }
    let mut counts = [0usize; 4]; // short, long, signed, unsigned
    let mut i = 0;
    while i < names.len() {
        match names[i].as_str() {
            "short" => counts[0] += 1,
            "long" => counts[1] += 1,
            "signed" => counts[2] += 1,
            "unsigned" => counts[3] += 1,
            _ => break,
        }
        i += 1;
    }
    let mut rest: Vec<&str> = names[i..].iter().map(String::as_str).collect();
    let mut out: Vec<&str> = Vec::new();
    out.extend(std::iter::repeat_n("unsigned", counts[3]));
    out.extend(std::iter::repeat_n("short", counts[0]));
    out.extend(std::iter::repeat_n("long", counts[1]));
    if rest.is_empty() {
        rest = vec!["int"];
    }
    if rest == ["int"] && (counts[0] > 0 || counts[1] > 0) {
        rest.clear();
    }
    out.extend(rest);
    out.join(" ")
}

/// CFFI's `resolve_common_type`, with the arena's cache.
fn resolve_common_type(
    cx: &mut Cx<'_>,
    ident: &str,
    coord: Coord,
) -> Result<(TypeId, Quals), CdefError> {
    if let Some(hit) = cx.types.common_cached(ident) {
        return Ok(hit);
    }
    let mapped = match ident {
        "FILE" => {
            let t = cx.types.unknown_type("FILE", Some("_IO_FILE"));
            cx.types.cache_common(ident, t, 0);
            return Ok((t, 0));
        }
        "bool" => "_Bool",
        "float _Complex" => "_cffi_float_complex_t",
        "double _Complex" => "_cffi_double_complex_t",
        other => other,
    };
    let is_common = ident != mapped || COMMON_TYPE_WORDS.contains(&ident);
    if primitive_kind(mapped).is_some() {
        let t = cx.types.primitive(mapped);
        cx.types.cache_common(ident, t, 0);
        return Ok((t, 0));
    }
    let _ = is_common;
    Err(cx.error(
        CffiErrorKind::FfiError,
        format!(
            "Unsupported type: '{ident}'.  Please look at http://cffi.readthedocs.io/en/latest/cdef.html#ffi-cdef-limitations and file an issue if you think this type should really be supported."
        ),
        Some(coord),
    ))
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

    #[test]
    fn c_division_rounds_towards_zero() {
        assert_eq!(c_div(7, 2), 3);
        assert_eq!(c_div(-7, 2), -3);
        assert_eq!(c_div(7, -2), -3);
        assert_eq!(c_div(-7, -2), 3);
    }
}
