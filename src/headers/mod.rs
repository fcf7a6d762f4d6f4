//! C headers → header model, through libclang: one walk over the
//! translation unit, keeping the project's declarations and the types they
//! need; macros evaluated from their tokens.
//!
//! `clang` is the only module of the crate allowed to use `unsafe`.
pub mod clang;
pub mod decls;
pub mod environment;
pub mod exports;
pub mod locate;
pub mod macros;
pub mod stage;
pub mod summary;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clang::kinds::*;
use clang::{Cursor, Libclang, TranslationUnit, Type};
use decls::{
    CType, EnumDecl, Field, Function, HeaderModel, Item, Loc, Macro, Record, Typedef, Variable,
};

/// What to parse.
#[derive(Debug, Clone, Default)]
pub struct ParseRequest {
    /// The header file, or a name for `code`.
    pub header: PathBuf,
    /// Source text (an umbrella header of `#include` lines), instead of the file.
    pub code: Option<String>,
    /// `-I` directories.
    pub include_dirs: Vec<PathBuf>,
    /// `-D` definitions (`NAME` or `NAME=VALUE`).
    pub defines: Vec<String>,
    /// Extra compiler arguments.
    pub args: Vec<String>,
    /// Files whose declarations belong to the project (besides the rule in
    /// [`is_project_file`]).
    pub project_files: Vec<PathBuf>,
}

/// A header could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    /// libclang is missing.
    #[error("libclang is not available: {0}")]
    NoLibclang(clang::ClangError),
    /// libclang could not parse.
    #[error(transparent)]
    Parse(clang::ClangError),
    /// Errors in the header: every one, with file:line:col.
    #[error("{} error{} in {}:\n{}", .errors.len(), if .errors.len() == 1 { "" } else { "s" }, .header.display(), .errors.join("\n"))]
    Diagnostics {
        /// The header.
        header: PathBuf,
        /// `file:line:col: error: message` lines.
        errors: Vec<String>,
    },
}

/// Whether `file` belongs to the project whose main header is `main`: the
/// main header itself, or a file in the library's own directory
/// (`/usr/include/nng/...` for `nng/nng.h`, `/usr/include/sodium/...` for
/// `sodium.h`), but not the generic system include roots.
pub fn is_project_file(file: &Path, main: &Path, extra: &[PathBuf]) -> bool {
    if file == main || extra.iter().any(|e| e == file) {
        return true;
    }
    let Some(dir) = main.parent() else {
        return false;
    };
    let generic = |d: &Path| {
        matches!(
            d.to_str(),
            Some("/usr/include" | "/usr/local/include" | "/include" | "" | "/")
        ) || d.ends_with("include")
            && d.parent()
                .is_some_and(|p| p == Path::new("/usr") || p == Path::new("/usr/local"))
    };
    let stem = main
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    if file.starts_with(dir.join(&stem)) {
        return true;
    }
    !generic(dir) && file.starts_with(dir)
}

/// Parses a header into a model.
pub fn parse(req: &ParseRequest) -> Result<HeaderModel, HeaderError> {
    let lc = Libclang::get().map_err(HeaderError::NoLibclang)?;
    let mut args: Vec<String> = vec!["-x".into(), "c".into(), "-std=gnu11".into()];
    if let Some(b) = clang::builtin_include_dir(lc) {
        args.push(format!("-isystem{}", b.display()));
    }
    for d in &req.include_dirs {
        args.push(format!("-I{}", d.display()));
    }
    for d in &req.defines {
        args.push(format!("-D{d}"));
    }
    args.extend(req.args.iter().cloned());
    let file = req.header.to_string_lossy().to_string();
    let tu = TranslationUnit::parse(lc, &file, req.code.as_deref(), &args)
        .map_err(HeaderError::Parse)?;
    let errors: Vec<String> = tu
        .diagnostics()
        .into_iter()
        .filter(|d| d.severity >= 3)
        .map(|d| match d.location {
            Some((f, l, c)) => format!("{}:{l}:{c}: error: {}", f.display(), d.message),
            None => format!("error: {}", d.message),
        })
        .collect();
    if !errors.is_empty() {
        return Err(HeaderError::Diagnostics {
            header: req.header.clone(),
            errors,
        });
    }
    let main = std::fs::canonicalize(&req.header).unwrap_or_else(|_| req.header.clone());
    let mut w = Walker {
        model: HeaderModel::default(),
        records: HashMap::new(),
        enums: HashMap::new(),
        typedefs: HashMap::new(),
        main,
        code_name: req.code.as_ref().map(|_| req.header.clone()),
        extra: req.project_files.clone(),
        project_cache: HashMap::new(),
    };
    let root = tu.cursor();
    let mut files: BTreeSet<String> = BTreeSet::new();
    if req.code.is_none() {
        files.insert(file.clone());
    }
    let top = root.children();
    for c in &top {
        if c.kind() == CXCursor_InclusionDirective
            && let Some(f) = c.included_file()
        {
            files.insert(f.to_string_lossy().to_string());
        }
    }
    for c in &top {
        w.top_level(c);
    }
    // Macros last: their values may use enum constants.
    let mut raw_macros = Vec::new();
    for c in &top {
        if c.kind() == CXCursor_MacroDefinition && !c.is_macro_function_like() {
            let loc = w.loc(c);
            if loc.file.is_empty() {
                continue; // builtin
            }
            let toks: Vec<String> = c.tokens().into_iter().map(|(_, s)| s).collect();
            if toks.is_empty() {
                continue;
            }
            raw_macros.push((toks[0].clone(), toks[1..].to_vec(), loc));
        }
    }
    let mut known: HashMap<String, Vec<String>> = HashMap::new();
    for (n, t, _) in &raw_macros {
        known.insert(n.clone(), t.clone());
    }
    let mut enum_consts: HashMap<String, i128> = HashMap::new();
    for e in &w.model.enums {
        for (n, v) in &e.values {
            enum_consts.insert(n.clone(), *v);
        }
    }
    let probed = probe_macros(lc, req, &file, &args, &raw_macros);
    for (name, tokens, loc) in raw_macros {
        let (value, string, alias) = match &probed {
            Some(p) => match p.get(&name) {
                Some(Probed::Int(v)) => (Some(*v), None, None),
                Some(Probed::Str(s)) => (None, Some(s.clone()), None),
                Some(Probed::Function(f) | Probed::Variable(f)) => (None, None, Some(f.clone())),
                None => (None, None, None),
            },
            // The probe could not run: the macro's own tokens.
            None => (macros::evaluate(&tokens, &known, &enum_consts), None, None),
        };
        w.model.macros.push(Macro {
            name,
            tokens,
            value,
            string,
            alias,
            loc,
        });
    }
    w.model.files = files.into_iter().collect();
    Ok(w.model)
}

/// What an object-like macro is where the header ends, as the compiler
/// sees it.
enum Probed {
    /// An integer constant expression, with its value.
    Int(i128),
    /// A string literal.
    Str(String),
    /// The name of a declared function (`#define pcre2_compile pcre2_compile_8`).
    Function(String),
    /// The name of a declared variable (`#define ffi_type_sint ffi_type_sint32`).
    Variable(String),
}

/// The prefix of the probe variables.
const PROBE: &str = "__headerwheel_macro_probe_";

/// Asks the compiler what each macro is at the end of the header: the
/// header parsed again, followed by `static const __auto_type P = NAME;`
/// per macro, each read back through libclang's evaluator. A macro that is
/// `#undef`d by then, or expands to no expression, fails to compile and is
/// absent from the answer; every macro-of-macro, function-like helper
/// (`UINT32_C(1)`), cast, `sizeof` and enum constant is the compiler's own.
/// A macro that is one identifier is also probed as `&(NAME)`: the address
/// of a variable is a constant where its value is not, so an alias of a
/// variable is found too. `None` when the probe could not be parsed at all.
fn probe_macros(
    lc: &Libclang,
    req: &ParseRequest,
    file: &str,
    args: &[String],
    raw: &[(String, Vec<String>, Loc)],
) -> Option<HashMap<String, Probed>> {
    let mut names: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (name, tokens, _) in raw {
        // Tokens that could derail the recovery of the lines after theirs
        // (unbalanced brackets, statements) are not probed.
        let depth = tokens.iter().try_fold(0i32, |d, t| match t.as_str() {
            "(" | "[" => Some(d + 1),
            ")" | "]" => (d > 0).then(|| d - 1),
            ";" | "{" | "}" | "#" | "##" => None,
            _ => Some(d),
        });
        if depth == Some(0) && seen.insert(name.as_str()) {
            names.push(name);
        }
    }
    let mut code = match &req.code {
        Some(c) => format!("{c}\n"),
        // By its absolute path: the probe sits beside it, and a relative
        // path would be looked for from there.
        None => {
            let abs = std::fs::canonicalize(file).unwrap_or_else(|_| PathBuf::from(file));
            format!("#include \"{}\"\n", abs.display())
        }
    };
    let first_line = code.lines().count() as u32 + 1;
    for (i, n) in names.iter().enumerate() {
        let _ = writeln!(code, "static const __auto_type {PROBE}{i} = {n};");
    }
    // The identifiers among them, by address: (index in `names`, line).
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut by_address = HashMap::new();
    let mut line = first_line + names.len() as u32;
    for (name, tokens, _) in raw {
        let Some(&at) = index.get(name.as_str()) else {
            continue;
        };
        if let [t] = tokens.as_slice()
            && t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !by_address.contains_key(&at)
        {
            let _ = writeln!(
                code,
                "static const __auto_type {PROBE}address_{at} = &({name});"
            );
            by_address.insert(at, line);
            line += 1;
        }
    }
    let probe_file = match &req.code {
        Some(_) => file.to_string(),
        None => format!("{file}.headerwheel-probe.c"),
    };
    let mut args = args.to_vec();
    args.push("-ferror-limit=0".into());
    let tu = TranslationUnit::parse(lc, &probe_file, Some(&code), &args).ok()?;
    // A line with an error is no answer, whatever recovery made of it.
    let failed: std::collections::HashSet<u32> = tu
        .diagnostics()
        .into_iter()
        .filter(|d| d.severity >= 3)
        .filter_map(|d| d.location)
        .filter(|(f, _, _)| f.to_string_lossy() == probe_file)
        .map(|(_, l, _)| l)
        .collect();
    let mut out = HashMap::new();
    let mut addressed = Vec::new();
    for c in tu.cursor().children() {
        if c.kind() != CXCursor_VarDecl {
            continue;
        }
        let spelling = c.spelling();
        let Some(suffix) = spelling.strip_prefix(PROBE) else {
            continue;
        };
        if let Some(i) = suffix
            .strip_prefix("address_")
            .and_then(|i| i.parse::<usize>().ok())
        {
            let (Some(name), Some((_, line, _))) = (names.get(i), c.location()) else {
                continue;
            };
            if by_address.get(&i) == Some(&line)
                && !failed.contains(&line)
                && let Some(v) = referenced(&c, CXCursor_VarDecl)
            {
                addressed.push((name.to_string(), Probed::Variable(v)));
            }
            continue;
        }
        let Some(i) = suffix.parse::<usize>().ok() else {
            continue;
        };
        let (Some(name), Some((_, line, _))) = (names.get(i), c.location()) else {
            continue;
        };
        if line != first_line + i as u32 || failed.contains(&line) {
            continue;
        }
        let ty = c.ty().canonical();
        let probed = if is_integer_kind(ty.kind()) {
            match c.evaluate() {
                Some(clang::Evaluated::Int(v)) => Some(Probed::Int(v)),
                _ => None,
            }
        } else if ty.kind() == CXType_Pointer {
            let pointee = ty.pointee().canonical().kind();
            if pointee == CXType_FunctionProto || pointee == CXType_FunctionNoProto {
                referenced(&c, CXCursor_FunctionDecl).map(Probed::Function)
            } else if pointee == CXType_Char_S || pointee == CXType_Char_U {
                match c.evaluate() {
                    Some(clang::Evaluated::Str(s)) => Some(Probed::Str(s)),
                    _ => None,
                }
            } else {
                None
            }
        } else {
            None
        };
        if let Some(p) = probed {
            out.insert(name.to_string(), p);
        }
    }
    // What the value probe answered comes first (a function's address is
    // its value).
    for (name, p) in addressed {
        out.entry(name).or_insert(p);
    }
    Some(out)
}

/// The declaration of kind `kind` (a function, a variable) a probe
/// variable's initializer names, when it is just that (through
/// parentheses, implicit conversions and `&`).
fn referenced(var: &Cursor<'_>, kind: CXCursorKind) -> Option<String> {
    let mut c = *var;
    loop {
        let kids: Vec<Cursor<'_>> = c
            .children()
            .into_iter()
            .filter(|k| k.kind() != CXCursor_TypeRef)
            .collect();
        let [only] = kids.as_slice() else {
            return None;
        };
        if only.kind() == CXCursor_DeclRefExpr {
            let d = only.referenced()?;
            return (d.kind() == kind).then(|| d.spelling());
        }
        if ![
            CXCursor_UnexposedExpr,
            CXCursor_ParenExpr,
            CXCursor_UnaryOperator,
        ]
        .contains(&only.kind())
        {
            return None;
        }
        c = *only;
    }
}

/// An integer type (enums included).
fn is_integer_kind(k: CXTypeKind) -> bool {
    [
        CXType_Bool,
        CXType_Char_S,
        CXType_Char_U,
        CXType_SChar,
        CXType_UChar,
        CXType_Short,
        CXType_UShort,
        CXType_Int,
        CXType_UInt,
        CXType_Long,
        CXType_ULong,
        CXType_LongLong,
        CXType_ULongLong,
        CXType_WChar,
        CXType_Char16,
        CXType_Char32,
        CXType_Enum,
    ]
    .contains(&k)
}

struct Walker {
    model: HeaderModel,
    records: HashMap<(String, u32, u32, String), usize>,
    enums: HashMap<(String, u32, u32, String), usize>,
    typedefs: HashMap<String, usize>,
    main: PathBuf,
    code_name: Option<PathBuf>,
    extra: Vec<PathBuf>,
    project_cache: HashMap<String, bool>,
}

impl Walker {
    fn loc(&mut self, c: &Cursor<'_>) -> Loc {
        match c.location() {
            Some((f, line, _)) => {
                let file = f.to_string_lossy().to_string();
                let project = match self.project_cache.get(&file) {
                    Some(p) => *p,
                    None => {
                        let p = if self.code_name.as_deref() == Some(f.as_path()) {
                            false
                        } else {
                            let canon = std::fs::canonicalize(&f).unwrap_or(f.clone());
                            is_project_file(&canon, &self.main, &self.extra)
                                || is_project_file(&f, &self.main, &self.extra)
                        };
                        self.project_cache.insert(file.clone(), p);
                        p
                    }
                };
                Loc {
                    file,
                    line,
                    project,
                }
            }
            None => Loc::default(),
        }
    }

    fn key(&self, c: &Cursor<'_>) -> (String, u32, u32, String) {
        match c.location() {
            Some((f, l, col)) => (f.to_string_lossy().to_string(), l, col, c.spelling()),
            None => (String::new(), 0, 0, c.spelling()),
        }
    }

    fn top_level(&mut self, c: &Cursor<'_>) {
        match c.kind() {
            k if k == CXCursor_StructDecl || k == CXCursor_UnionDecl => {
                let id = self.record(c);
                if tag_of(c).is_some() {
                    // A struct stands where it is defined (`typedef struct
                    // h h_t;` may come long before, and what the definition
                    // uses between them).
                    let at = self.model.items.iter().position(|i| *i == Item::Record(id));
                    match at {
                        None => self.model.items.push(Item::Record(id)),
                        Some(at) if c.is_definition() => {
                            self.model.items.remove(at);
                            self.model.items.push(Item::Record(id));
                        }
                        Some(_) => {}
                    }
                }
            }
            k if k == CXCursor_EnumDecl => {
                let id = self.enum_decl(c);
                if !self.model.items.contains(&Item::Enum(id)) {
                    self.model.items.push(Item::Enum(id));
                }
            }
            k if k == CXCursor_TypedefDecl => {
                let id = self.typedef(c);
                self.model.items.push(Item::Typedef(id));
            }
            k if k == CXCursor_FunctionDecl => {
                let name = c.spelling();
                if self.model.functions.iter().any(|f| f.name == name) {
                    return;
                }
                let loc = self.loc(c);
                let ty = self.ctype(c.ty());
                let param_names = c
                    .arguments()
                    .iter()
                    .map(|a| {
                        let n = a.spelling();
                        (!n.is_empty()).then_some(n)
                    })
                    .collect();
                let inline = c.is_inline() || c.storage_class() == CX_SC_Static;
                self.model.functions.push(Function {
                    name,
                    ty,
                    param_names,
                    inline,
                    deprecated: c.is_deprecated(),
                    loc,
                });
                self.model
                    .items
                    .push(Item::Function(self.model.functions.len() - 1));
            }
            k if k == CXCursor_VarDecl => {
                let name = c.spelling();
                // `static const int X = 5;` in a header is a constant the
                // module can read; other static variables are private.
                let is_static = c.storage_class() == CX_SC_Static;
                if self.model.variables.iter().any(|v| v.name == name)
                    || (is_static && !c.ty().is_const())
                {
                    return;
                }
                let loc = self.loc(c);
                let ty = self.ctype(c.ty());
                self.model.variables.push(Variable {
                    name,
                    ty,
                    is_static,
                    deprecated: c.is_deprecated(),
                    loc,
                });
                self.model
                    .items
                    .push(Item::Variable(self.model.variables.len() - 1));
            }
            _ => {}
        }
    }

    fn record(&mut self, c: &Cursor<'_>) -> usize {
        let def = c.definition().unwrap_or(*c);
        let canon = if c.definition().is_some() { def } else { *c };
        // One entry per entity: key by the first declaration seen for the tag.
        let tag = tag_of(c);
        let is_union = c.kind() == CXCursor_UnionDecl;
        let key = match &tag {
            Some(t) => (
                if is_union { "union" } else { "struct" }.to_string(),
                0,
                0,
                t.clone(),
            ),
            None => self.key(&canon),
        };
        let id = match self.records.get(&key) {
            Some(&id) => id,
            None => {
                let loc = self.loc(&canon);
                self.model.records.push(Record {
                    is_union,
                    tag: tag.clone(),
                    fields: None,
                    packed: false,
                    size: None,
                    align: None,
                    loc,
                });
                let id = self.model.records.len() - 1;
                self.records.insert(key, id);
                id
            }
        };
        if self.model.records[id].fields.is_none()
            && let Some(d) = c.definition()
        {
            self.model.records[id].fields = Some(Vec::new());
            self.model.records[id].loc = self.loc(&d);
            let mut fields = Vec::new();
            // Each member's type and offset in bits, for `natural_layout`.
            let mut members = Vec::new();
            let mut has_bitfields = false;
            let children = d.children();
            for (i, f) in children.iter().enumerate() {
                match f.kind() {
                    k if k == CXCursor_FieldDecl => {
                        let name = f.spelling();
                        has_bitfields |= f.bitfield_width().is_some();
                        members.push((f.ty(), f.field_offset_bits()));
                        // An anonymous struct/union member appears as the
                        // record decl followed by an unnamed field of its type.
                        let ty = self.ctype(f.ty());
                        fields.push(Field {
                            name: (!name.is_empty()).then_some(name),
                            ty,
                            bits: f.bitfield_width(),
                            offset_bits: f.field_offset_bits(),
                        });
                    }
                    k if k == CXCursor_StructDecl || k == CXCursor_UnionDecl => {
                        let nested = self.record(f);
                        // A nested anonymous record with no field naming it
                        // (`union {...} u;`, `union {...} u[2];`, `struct {...} *p;`)
                        // is an anonymous member (C11).
                        let named_by_next_field = children.get(i + 1).is_some_and(|n| {
                            n.kind() == CXCursor_FieldDecl && declares(&self.ctype(n.ty()), nested)
                        });
                        if f.is_anonymous() && !named_by_next_field {
                            members.push((f.ty(), anonymous_member_offset(d.ty(), f)));
                            fields.push(Field {
                                name: None,
                                ty: CType::Record(nested),
                                bits: None,
                                offset_bits: None,
                            });
                        }
                    }
                    k if k == CXCursor_EnumDecl => {
                        self.enum_decl(f);
                    }
                    _ => {}
                }
            }
            let ty = d.ty();
            let r = &mut self.model.records[id];
            r.fields = Some(fields);
            // Bitfields: CFFI lays them out as the compiler does, unless
            // an attribute says otherwise.
            r.packed = d.has_layout_attribute()
                || !has_bitfields && !natural_layout(ty, is_union, &members);
            r.size = ty.size_of();
            r.align = ty.align_of();
        }
        id
    }

    fn enum_decl(&mut self, c: &Cursor<'_>) -> usize {
        let def = c.definition().unwrap_or(*c);
        let tag = tag_of(&def);
        let key = match &tag {
            Some(t) => ("enum".into(), 0, 0, t.clone()),
            None => self.key(&def),
        };
        if let Some(&id) = self.enums.get(&key) {
            return id;
        }
        let loc = self.loc(&def);
        let unsigned = matches!(def.enum_integer_type().canonical().kind(), k if k == CXType_UInt || k == CXType_ULong || k == CXType_ULongLong || k == CXType_UChar || k == CXType_UShort);
        let values = def
            .children()
            .iter()
            .filter(|e| e.kind() == CXCursor_EnumConstantDecl)
            .map(|e| {
                let v = if unsigned {
                    e.enum_value_unsigned() as i128
                } else {
                    e.enum_value() as i128
                };
                (e.spelling(), v)
            })
            .collect();
        self.model.enums.push(EnumDecl { tag, values, loc });
        let id = self.model.enums.len() - 1;
        self.enums.insert(key, id);
        id
    }

    fn typedef(&mut self, c: &Cursor<'_>) -> usize {
        let name = c.spelling();
        if let Some(&id) = self.typedefs.get(&name) {
            return id;
        }
        let loc = self.loc(c);
        let under = c.typedef_underlying();
        let canon = under.canonical();
        let ck = canon.kind();
        let integer = is_integer_kind(ck);
        let floating = [CXType_Float, CXType_Double].contains(&ck);
        // Reserve the slot first (typedefs can be self-referential through pointers).
        self.model.typedefs.push(Typedef {
            name: name.clone(),
            ty: CType::Void,
            integer,
            floating,
            over_aligned: None,
            loc,
        });
        let id = self.model.typedefs.len() - 1;
        self.typedefs.insert(name, id);
        let ty = self.ctype(under);
        // `typedef int aligned_int __attribute__((aligned(8)));`: the
        // attribute is on the typedef, not on its type.
        let own = c.ty().align_of();
        let over_aligned = own.filter(|a| natural_size_align(under).is_some_and(|(_, n)| n != *a));
        let td = &mut self.model.typedefs[id];
        td.ty = ty;
        td.over_aligned = over_aligned;
        id
    }

    fn ctype(&mut self, t: Type<'_>) -> CType {
        let base = self.ctype_unqualified(t);
        let (konst, volatile) = (t.is_const(), t.is_volatile());
        if konst || volatile {
            CType::Qual {
                ty: Box::new(base),
                konst,
                volatile,
            }
        } else {
            base
        }
    }

    fn ctype_unqualified(&mut self, t: Type<'_>) -> CType {
        let k = t.kind();
        let prim = |s: &str| CType::Prim(s.to_string());
        match k {
            _ if k == CXType_Void => CType::Void,
            _ if k == CXType_Bool => prim("_Bool"),
            _ if k == CXType_Char_S || k == CXType_Char_U => prim("char"),
            _ if k == CXType_SChar => prim("signed char"),
            _ if k == CXType_UChar => prim("unsigned char"),
            _ if k == CXType_Short => prim("short"),
            _ if k == CXType_UShort => prim("unsigned short"),
            _ if k == CXType_Int => prim("int"),
            _ if k == CXType_UInt => prim("unsigned int"),
            _ if k == CXType_Long => prim("long"),
            _ if k == CXType_ULong => prim("unsigned long"),
            _ if k == CXType_LongLong => prim("long long"),
            _ if k == CXType_ULongLong => prim("unsigned long long"),
            _ if k == CXType_Float => prim("float"),
            _ if k == CXType_Double => prim("double"),
            _ if k == CXType_LongDouble => prim("long double"),
            _ if k == CXType_WChar => prim("wchar_t"),
            _ if k == CXType_Pointer => CType::Pointer(Box::new(self.ctype(t.pointee()))),
            _ if k == CXType_Elaborated => self.ctype(t.named()),
            _ if k == CXType_Attributed => self.ctype(t.modified()),
            _ if k == CXType_Typedef => {
                let d = t.declaration();
                let name = d.spelling();
                if matches!(
                    name.as_str(),
                    "va_list" | "__builtin_va_list" | "__gnuc_va_list"
                ) {
                    return CType::Unsupported(name);
                }
                self.typedef(&d);
                CType::Typedef(name)
            }
            _ if k == CXType_Record => {
                let d = t.declaration();
                CType::Record(self.record(&d))
            }
            _ if k == CXType_Enum => {
                let d = t.declaration();
                CType::Enum(self.enum_decl(&d))
            }
            _ if k == CXType_ConstantArray => {
                CType::Array(Box::new(self.ctype(t.element())), t.array_size())
            }
            _ if k == CXType_IncompleteArray => {
                CType::Array(Box::new(self.ctype(t.element())), None)
            }
            _ if k == CXType_FunctionProto || k == CXType_FunctionNoProto => {
                let ret = self.ctype(t.result());
                let params = t
                    .args()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| self.ctype(a))
                    .collect();
                CType::Function {
                    ret: Box::new(ret),
                    params,
                    // libclang calls `int f()` (no prototype) variadic; a cdef
                    // cannot say `(...)` alone, and CFFI reads `()` as `(void)`.
                    variadic: k == CXType_FunctionProto && t.is_variadic(),
                }
            }
            _ if k == CXType_Complex => {
                let s = t.spelling();
                if s.contains("double") {
                    prim("double _Complex")
                } else if s.contains("float") {
                    prim("float _Complex")
                } else {
                    CType::Unsupported(s)
                }
            }
            _ => CType::Unsupported(t.spelling()),
        }
    }
}

/// The size and alignment a cdef gives a member of type `t`: its canonical
/// type's, since a cdef cannot carry an `aligned` attribute (a flexible
/// array member: size 0 and its element's alignment).
/// Whether a field of type `t` is declared with the record `nested` as its
/// type, through arrays, pointers and qualifiers: its declarator names the
/// nested record, which is then no anonymous member.
fn declares(t: &CType, nested: usize) -> bool {
    match t.unqualified() {
        CType::Record(r) => *r == nested,
        CType::Array(x, _) | CType::Pointer(x) => declares(x, nested),
        _ => false,
    }
}

fn natural_size_align(t: Type<'_>) -> Option<(u64, u64)> {
    let c = t.canonical();
    if c.kind() == CXType_IncompleteArray {
        return Some((0, natural_size_align(c.element())?.1));
    }
    Some((c.size_of()?, c.align_of()?))
}

/// The tag of a struct, union or enum declaration; None when it has none
/// (`typedef struct {…} T;`, an anonymous member).
///
/// libclang's answer depends on its version: up to 15 such a declaration
/// is spelled `` or `struct (anonymous at f.h:3:9)`; from 16 on it is
/// spelled by its typedef name (`T`) and `clang_Cursor_isAnonymous` is
/// false. What holds in every version: the type of a real tag is spelled
/// with its keyword (`struct T`), a typedef-named anonymous one without.
fn tag_of(c: &Cursor<'_>) -> Option<String> {
    if c.is_anonymous() {
        return None;
    }
    let name = c.spelling();
    if name.is_empty() || name.contains("(anonymous") || name.contains("(unnamed") {
        return None;
    }
    let ty = c.ty().spelling();
    let keyworded = ty
        .strip_suffix(name.as_str())
        .is_some_and(|kw| matches!(kw, "struct " | "union " | "enum "));
    keyworded.then_some(name)
}

/// The offset in bits of the anonymous struct/union member `member` of the
/// record type `outer`: libclang knows the offsets of named fields only, so
/// through one of the member's fields, found in both.
fn anonymous_member_offset(outer: Type<'_>, member: &Cursor<'_>) -> Option<u64> {
    let inner = member.ty();
    let mut names = Vec::new();
    field_names(member, &mut names);
    names.iter().find_map(|n| {
        outer
            .offset_of_bits(n)?
            .checked_sub(inner.offset_of_bits(n)?)
    })
}

/// The names of the fields of `record` and of its nested records, depth first.
fn field_names(record: &Cursor<'_>, names: &mut Vec<String>) {
    for c in record.children() {
        let k = c.kind();
        if k == CXCursor_FieldDecl {
            let n = c.spelling();
            if !n.is_empty() {
                names.push(n);
            }
        } else if k == CXCursor_StructDecl || k == CXCursor_UnionDecl {
            field_names(&c, names);
        }
    }
}

/// Whether CFFI, laying out a record from its cdef fields, gets libclang's
/// layout: each member at the next multiple of its natural alignment
/// ([`natural_size_align`]), the size rounded up to the largest. Not so under
/// `#pragma pack`, or with `aligned` on a member or on a typedef a member
/// uses: such records must be written partial (`...;`) so that the compiler
/// supplies the layout. Unknown sizes or offsets count as natural.
fn natural_layout(ty: Type<'_>, is_union: bool, members: &[(Type<'_>, Option<u64>)]) -> bool {
    let (Some(size), Some(align)) = (ty.size_of(), ty.align_of()) else {
        return true;
    };
    let (mut end, mut max_align) = (0u64, 1u64);
    for (t, offset_bits) in members {
        let (Some((s, a)), Some(offset_bits)) = (natural_size_align(*t), *offset_bits) else {
            return true;
        };
        let a = a.max(1);
        let at = if is_union { 0 } else { end.div_ceil(a) * a };
        if offset_bits != at * 8 {
            return false;
        }
        end = if is_union { end.max(s) } else { at + s };
        max_align = max_align.max(a);
    }
    end.div_ceil(max_align) * max_align == size && max_align == align
}
