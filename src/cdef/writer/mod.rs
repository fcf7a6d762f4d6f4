//! Header model → CFFI cdef text.
//!
//! The project's declarations are written in source order, each preceded by
//! what it needs: typedefs from system headers become `typedef int... t;`
//! (integers), `typedef float... t;` or their real definition; system
//! structs become partial (`struct timespec { ...; };`); opaque types stay
//! incomplete (`typedef struct X X;`). Records whose layout CFFI would not
//! compute from their fields (packed, `#pragma pack`, aligned members: see
//! `Record::packed`) are written partial so the compiler supplies it.
//! Nothing CFFI cannot express is written (over-aligned typedefs, `va_list`,
//! `__int128`, bitfields and anonymous-typed fields of partial records...);
//! each omission is reported.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use regex::Regex;

use crate::headers::decls::{CType, HeaderModel, Item};

mod declarators;
mod order;
mod records;

pub use declarators::c_decl;
use records::{unsupported, where_};

/// How to write.
#[derive(Debug, Clone, Default)]
pub struct WriterOptions {
    /// `define_patterns`: macros whose name matches (`re.search`) are written
    /// as `#define NAME ...` when they are integer constants.
    pub define_patterns: Vec<Regex>,
    /// `extra_cdef`: lines appended verbatim.
    pub extra_cdef: Vec<String>,
    /// When set, functions and variables not in it (the libraries' exported
    /// symbols) are left out.
    pub exported: Option<HashSet<String>>,
    /// Names to leave out.
    pub exclude: Vec<Regex>,
    /// When set, only these functions and variables are written (wherever
    /// they are declared, system headers included), with the types they need.
    pub only: Option<HashSet<String>>,
    /// Which macros are written.
    pub macros: MacroSelection,
    /// Write macros with their values (`#define X 42`) rather than `...`:
    /// ABI mode cannot ask the compiler.
    pub macro_values: bool,
    /// `keep_deprecated`: write the functions and variables the headers
    /// mark deprecated (`__attribute__((deprecated))`), which are left out
    /// otherwise (unless `only` names them).
    pub keep_deprecated: bool,
}

/// Which object-like macros a cdef declares (`[tool.headerkit.writer.cffi]
/// macros`): each as the compiler sees it where the header ends, an integer
/// as `#define X ...`, a string as `static const char *const X;`, a name of
/// a written function as that function's declaration under the macro's name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MacroSelection {
    /// `"all-library"`: every macro of the library's own headers (none when
    /// the bindings are a selection of functions, `symbols`), and those of
    /// any header that `define_patterns` names.
    AllLibrary,
    /// `"patterns"`: only those `define_patterns` names (headerkit's rule).
    #[default]
    Patterns,
}

impl MacroSelection {
    /// The configuration's spelling.
    pub fn parse(s: &str) -> Option<MacroSelection> {
        match s {
            "all-library" => Some(MacroSelection::AllLibrary),
            "patterns" => Some(MacroSelection::Patterns),
            _ => None,
        }
    }

    /// The configuration's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MacroSelection::AllLibrary => "all-library",
            MacroSelection::Patterns => "patterns",
        }
    }
}

/// The written cdef and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// The cdef text.
    pub cdef: String,
    /// One line per omission, with the reason.
    pub warnings: Vec<String>,
}

/// Type names CFFI knows without a declaration (its common types, less its
/// own `_cffi_*_complex_t` spellings, which no header declares).
fn cffi_common(name: &str) -> bool {
    crate::cdef::preprocess::COMMON_TYPE_WORDS.contains(&name) && !name.starts_with("_cffi_")
}

struct W<'m> {
    m: &'m HeaderModel,
    out: String,
    warnings: Vec<String>,
    done_typedefs: HashSet<String>,
    done_records: HashSet<usize>,
    done_enums: HashSet<usize>,
    in_progress: HashSet<String>,
    /// Write system structs with their fields (bindings of system functions).
    system_full: bool,
    /// `exclude_patterns`: typedefs, tags and functions whose name matches
    /// are left out, with everything that needs them.
    exclude: Vec<Regex>,
    /// The typedef that names each anonymous struct/union/enum
    /// (`typedef struct { ... } T, *P;`: `P` is spelled `T *`).
    anon_records: HashMap<usize, String>,
    anon_enums: HashMap<usize, String>,
    /// Over-aligned typedefs, left out: their uses are spelled with the type
    /// they name.
    over_aligned: HashMap<String, CType>,
    /// How many record definitions are being written (nested through their
    /// fields' needs).
    depth: usize,
    /// Structs behind pointers in the fields of the record being written:
    /// defined after it, so that a struct needed by value is never written
    /// after one that embeds it.
    deferred: Vec<usize>,
    /// Records whose definition is being written.
    writing_records: HashSet<usize>,
    /// Structs wanted behind pointers whose definition needs a declaration
    /// still being written (a cycle: `typedef void (*cb)(h_t *);` with
    /// `struct h { cb close; }`): written once nothing is in progress.
    pending: Vec<usize>,
    /// Object-like macros of the headers by name, with their replacement:
    /// a field of that name is expanded in the module's C
    /// (`offsetof(xmlGlobalState, xmlLastError)` under libxml2's
    /// `#define xmlLastError (*(__xmlLastError()))`).
    macro_names: HashMap<&'m str, String>,
}

/// Writes the cdef of `model`.
pub fn write(model: &HeaderModel, opts: &WriterOptions) -> Written {
    let mut w = W::new(model, opts.only.is_some());
    w.exclude = opts.exclude.clone();
    let excluded = |n: &str| opts.exclude.iter().any(|r| r.is_match(n));
    let checker = W {
        exclude: opts.exclude.clone(),
        ..W::new(model, opts.only.is_some())
    };
    let excluded_need = |ty: &CType| checker.needs_excluded(ty);
    // Anonymous enums/records named by a typedef are written with it.
    let mut via_typedef: HashSet<Item> = HashSet::new();
    for t in &model.typedefs {
        match t.ty.unqualified() {
            CType::Enum(e) if model.enums[*e].tag.is_none() => {
                via_typedef.insert(Item::Enum(*e));
            }
            CType::Record(r) if model.records[*r].tag.is_none() => {
                via_typedef.insert(Item::Record(*r));
            }
            _ => {}
        }
    }
    // Whether a function or variable is written: selected (the project's,
    // or named in `only`), not excluded, expressible, and exported by the
    // libraries unless it is compiled into the module (`local`), and not
    // deprecated unless that is asked for.
    let keep = |warnings: &mut Vec<String>,
                what: &str,
                name: &str,
                ty: &CType,
                loc: &crate::headers::decls::Loc,
                (local, deprecated): (bool, bool)| {
        let selected = match &opts.only {
            Some(only) => only.contains(name),
            None => loc.project,
        };
        if !selected || excluded(name) {
            return false;
        }
        if deprecated && !opts.keep_deprecated && opts.only.is_none() {
            warnings.push(format!(
                "{}: {what} {name} left out: deprecated by the header (keep_deprecated = true keeps it)",
                where_(loc)
            ));
            return false;
        }
        if let Some(reason) = unsupported(ty, model).or_else(|| excluded_need(ty)) {
            warnings.push(format!("{}: {what} {name} left out: {reason}", where_(loc)));
            return false;
        }
        if let Some(exp) = opts.exported.as_ref().filter(|_| !local)
            && !exp.contains(name)
        {
            warnings.push(format!(
                "{}: {what} {name} left out: the library does not export it",
                where_(loc)
            ));
            return false;
        }
        true
    };
    // Functions written, by name (alias macros name them).
    let mut written_functions: HashMap<&str, usize> = HashMap::new();
    let mut written_variables: HashSet<&str> = HashSet::new();
    for item in &model.items {
        w.write_pending();
        match *item {
            Item::Function(i) => {
                let f = &model.functions[i];
                if !keep(
                    &mut w.warnings,
                    "function",
                    &f.name,
                    &f.ty,
                    &f.loc,
                    (f.inline, f.deprecated),
                ) {
                    continue;
                }
                w.need(&f.ty);
                if let Some(line) = w.function_line(f, &f.name) {
                    let _ = writeln!(w.out, "{line};");
                    written_functions.insert(f.name.as_str(), i);
                }
            }
            Item::Variable(i) => {
                let v = &model.variables[i];
                if !keep(
                    &mut w.warnings,
                    "variable",
                    &v.name,
                    &v.ty,
                    &v.loc,
                    (v.is_static, v.deprecated),
                ) {
                    continue;
                }
                w.need(&v.ty);
                let line = w.decl(&v.ty, &v.name);
                let storage = if v.is_static { "static" } else { "extern" };
                let _ = writeln!(w.out, "{storage} {line};");
                written_variables.insert(v.name.as_str());
            }
            Item::Typedef(i) => {
                let t = &model.typedefs[i];
                if opts.only.is_none() && t.loc.project && !excluded(&t.name) {
                    w.typedef(&t.name);
                }
            }
            Item::Record(i) => {
                let r = &model.records[i];
                if opts.only.is_none()
                    && r.loc.project
                    && r.tag.is_some()
                    && !via_typedef.contains(item)
                {
                    w.record(i);
                }
            }
            Item::Enum(i) => {
                let e = &model.enums[i];
                if opts.only.is_none() && e.loc.project && !via_typedef.contains(item) {
                    w.enum_(i);
                }
            }
        }
    }
    w.write_pending();
    // Macros. A name the cdef declares already (`enum { A }; #define A A`)
    // is not declared twice: CFFI refuses a duplicate constant.
    let mut seen: HashSet<String> = w
        .done_enums
        .iter()
        .flat_map(|&e| model.enums[e].values.iter().map(|(n, _)| n.clone()))
        .chain(written_variables.iter().map(|n| n.to_string()))
        .chain(written_functions.keys().map(|n| n.to_string()))
        .collect();
    for mac in &model.macros {
        let named = opts.define_patterns.iter().any(|r| r.is_match(&mac.name));
        let selected = match opts.macros {
            // The library's own (unless the bindings are a selection of
            // functions, `only`), and any header's the patterns name.
            MacroSelection::AllLibrary => mac.loc.project && opts.only.is_none() || named,
            // System headers' macros only when the bindings are of system
            // functions (`only`); the project's always.
            MacroSelection::Patterns => named && (mac.loc.project || opts.only.is_some()),
        };
        if !selected || excluded(&mac.name) || !seen.insert(mac.name.clone()) {
            continue;
        }
        if let Some(v) = mac.value {
            if opts.macro_values {
                let _ = writeln!(w.out, "#define {} {v}", mac.name);
            } else {
                let _ = writeln!(w.out, "#define {} ...", mac.name);
            }
        } else if let Some(text) = &mac.string {
            // What ABI mode cannot declare is said only of the macros the
            // patterns name.
            if !opts.macro_values {
                let _ = writeln!(w.out, "static const char *const {};", mac.name);
            } else if named {
                w.warnings.push(format!(
                    "{}: macro {} is a string ({:?}), which an ABI-mode cdef cannot declare, left out",
                    where_(&mac.loc),
                    mac.name,
                    text
                ));
            }
        } else if let Some(v) = mac
            .alias
            .as_deref()
            .filter(|t| written_variables.contains(t))
            .and_then(|t| model.variables.iter().find(|v| v.name == t))
        {
            // `#define ffi_type_sint ffi_type_sint32`: the variable under the
            // macro's name (API mode; ABI mode looks symbols up by name).
            if !opts.macro_values {
                let storage = if v.is_static { "static" } else { "extern" };
                let _ = writeln!(w.out, "{storage} {};", w.decl(&v.ty, &mac.name));
            } else if named {
                w.warnings.push(format!(
                    "{}: macro {} names the variable {}, which ABI mode loads by its own name, left out",
                    where_(&mac.loc),
                    mac.name,
                    v.name
                ));
            }
        } else if let Some(target) = &mac.alias {
            let declared = model.functions.iter().any(|f| f.name == mac.name);
            match written_functions.get(target.as_str()) {
                Some(_) if declared || opts.macro_values && !named => {}
                Some(_) if opts.macro_values => w.warnings.push(format!(
                    "{}: macro {} names the function {target}, which ABI mode loads by its own name, left out",
                    where_(&mac.loc),
                    mac.name
                )),
                Some(&i) => {
                    if let Some(line) = w.function_line(&model.functions[i], &mac.name) {
                        let _ = writeln!(w.out, "{line};");
                    }
                }
                None if named => w.warnings.push(format!(
                    "{}: macro {} names the function {target}, which is not in the bindings, left out",
                    where_(&mac.loc),
                    mac.name
                )),
                None => {}
            }
        } else if named && !mac.tokens.is_empty() {
            w.warnings.push(format!(
                "{}: macro {} matches define_patterns but is not an integer constant, a string or a function where the header ends ({}), left out",
                where_(&mac.loc),
                mac.name,
                mac.tokens.join(" ")
            ));
        }
    }
    for line in &opts.extra_cdef {
        w.out.push_str(line);
        if !line.ends_with('\n') {
            w.out.push('\n');
        }
    }
    if let Some(only) = &opts.only {
        let mut missing: Vec<&String> = only
            .iter()
            .filter(|n| {
                !model.functions.iter().any(|f| &f.name == *n)
                    && !model.variables.iter().any(|v| &v.name == *n)
            })
            .collect();
        missing.sort();
        for n in missing {
            w.warnings
                .push(format!("'{n}' is declared by none of the headers"));
        }
    }
    Written {
        cdef: w.out,
        warnings: w.warnings,
    }
}

/// Tokens as C text: a space only between two that would otherwise join
/// (`(*(f()))`, `unsigned long`).
fn spell_tokens(tokens: &[String]) -> String {
    let word = |t: &str| t.ends_with(|c: char| c.is_alphanumeric() || c == '_');
    let mut s = String::new();
    for t in tokens {
        if word(&s) && t.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            s.push(' ');
        }
        s.push_str(t);
    }
    s
}

impl<'m> W<'m> {
    fn new(m: &'m HeaderModel, system_full: bool) -> Self {
        let mut anon_records = HashMap::new();
        let mut anon_enums = HashMap::new();
        let mut over_aligned = HashMap::new();
        for t in &m.typedefs {
            match &t.ty {
                CType::Record(r) if m.records[*r].tag.is_none() => {
                    anon_records.entry(*r).or_insert_with(|| t.name.clone());
                }
                CType::Enum(e) if m.enums[*e].tag.is_none() => {
                    anon_enums.entry(*e).or_insert_with(|| t.name.clone());
                }
                _ => {}
            }
            if t.over_aligned.is_some() {
                over_aligned.insert(t.name.clone(), t.ty.clone());
            }
        }
        let macro_names = m
            .macros
            .iter()
            .filter(|mac| mac.tokens != [mac.name.as_str()])
            .map(|mac| (mac.name.as_str(), spell_tokens(&mac.tokens)))
            .collect();
        W {
            macro_names,
            anon_records,
            anon_enums,
            over_aligned,
            depth: 0,
            deferred: Vec::new(),
            writing_records: HashSet::new(),
            pending: Vec::new(),
            m,
            out: String::new(),
            warnings: Vec::new(),
            done_typedefs: HashSet::new(),
            done_records: HashSet::new(),
            done_enums: HashSet::new(),
            in_progress: HashSet::new(),
            system_full,
            exclude: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::{self, ParseRequest};

    /// The cdef and warnings of `header` (a project header), through libclang.
    fn cdef_of(header: &str) -> (String, Vec<String>) {
        cdef_with(header, &WriterOptions::default())
    }

    /// [`cdef_of`] under `opts`.
    fn cdef_with(header: &str, opts: &WriterOptions) -> (String, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.h");
        std::fs::write(&path, header).unwrap();
        let model = headers::parse(&ParseRequest {
            header: path,
            ..ParseRequest::default()
        })
        .unwrap();
        let w = write(&model, opts);
        (w.cdef, w.warnings)
    }

    const MACROS: &str = "#include <stdint.h>\n#define T_A UINT32_C(1) << 3\n#define T_S \"s\"\n\
         #define T_GONE 1\n#define T_F 1.5\nint t_f_8(int);\n#define t_f t_f_8\n#undef T_GONE\n";

    #[test]
    fn all_library_macros_as_the_compiler_sees_them_where_the_header_ends() {
        let opts = WriterOptions {
            macros: MacroSelection::AllLibrary,
            ..WriterOptions::default()
        };
        let (cdef, warnings) = cdef_with(MACROS, &opts);
        assert_eq!(
            cdef,
            "int t_f_8(int);\n#define T_A ...\nstatic const char *const T_S;\nint t_f(int);\n"
        );
        assert_eq!(warnings, Vec::<String>::new());
        // ABI mode: values; a string or an alias cannot be declared (said
        // of those the patterns name).
        let abi = WriterOptions {
            macro_values: true,
            ..opts.clone()
        };
        let (cdef, warnings) = cdef_with(MACROS, &abi);
        assert_eq!(cdef, "int t_f_8(int);\n#define T_A 8\n");
        assert_eq!(warnings, Vec::<String>::new());
        let abi = WriterOptions {
            macro_values: true,
            define_patterns: vec![Regex::new("^(T_S|t_f)$").unwrap()],
            ..opts
        };
        let (cdef, warnings) = cdef_with(MACROS, &abi);
        assert_eq!(cdef, "int t_f_8(int);\n#define T_A 8\n");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].ends_with(
            ": macro T_S is a string (\"s\"), which an ABI-mode cdef cannot declare, left out"
        ));
        assert!(warnings[1].ends_with(
            ": macro t_f names the function t_f_8, which ABI mode loads by its own name, left out"
        ));
    }

    #[test]
    fn deprecated_declarations_are_left_out_unless_kept_or_named() {
        let h = "__attribute__((deprecated)) int old_f(void);\nint new_f(void);\n\
                 extern int old_v __attribute__((deprecated));\n";
        let (cdef, warnings) = cdef_of(h);
        assert_eq!(cdef, "int new_f(void);\n");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].ends_with(
                ": function old_f left out: deprecated by the header (keep_deprecated = true keeps it)"
            ),
            "{warnings:?}"
        );
        let keep = WriterOptions {
            keep_deprecated: true,
            ..WriterOptions::default()
        };
        let (cdef, warnings) = cdef_with(h, &keep);
        assert_eq!(
            cdef,
            "int old_f(void);\nint new_f(void);\nextern int old_v;\n"
        );
        assert_eq!(warnings, Vec::<String>::new());
        // Bindings of named symbols (`symbols`) keep what they name.
        let only = WriterOptions {
            only: Some(["old_f".to_string()].into_iter().collect()),
            ..WriterOptions::default()
        };
        assert_eq!(cdef_with(h, &only).0, "int old_f(void);\n");
    }

    #[test]
    fn a_macro_naming_what_the_cdef_declares_is_not_declared_twice() {
        let opts = WriterOptions {
            macros: MacroSelection::AllLibrary,
            ..WriterOptions::default()
        };
        let (cdef, warnings) = cdef_with(
            "enum e { E_A = 1 };\n#define E_A E_A\nint v;\n#define v v\nint f(int);\n#define f f\n",
            &opts,
        );
        assert_eq!(
            cdef,
            "enum e {\n    E_A = 1\n};\nextern int v;\nint f(int);\n"
        );
        assert_eq!(warnings, Vec::<String>::new());
    }

    #[test]
    fn patterns_narrow_the_macros_and_name_what_they_cannot_write() {
        let opts = WriterOptions {
            macros: MacroSelection::Patterns,
            define_patterns: vec![Regex::new("^T_(A|GONE|F)$").unwrap()],
            ..WriterOptions::default()
        };
        let (cdef, warnings) = cdef_with(MACROS, &opts);
        assert_eq!(cdef, "int t_f_8(int);\n#define T_A ...\n");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].ends_with(": macro T_GONE matches define_patterns but is not an integer constant, a string or a function where the header ends (1), left out"), "{warnings:?}");
        assert!(warnings[1].ends_with(": macro T_F matches define_patterns but is not an integer constant, a string or a function where the header ends (1.5), left out"), "{warnings:?}");
        // All-library plus a pattern: a system header's macro too.
        let opts = WriterOptions {
            macros: MacroSelection::AllLibrary,
            define_patterns: vec![Regex::new("^UINT8_MAX$").unwrap()],
            ..WriterOptions::default()
        };
        let (cdef, _) = cdef_with(MACROS, &opts);
        assert_eq!(
            cdef,
            "int t_f_8(int);\n#define UINT8_MAX ...\n#define T_A ...\nstatic const char *const T_S;\nint t_f(int);\n"
        );
    }

    #[test]
    fn anonymous_struct_with_two_typedef_names_is_one_type() {
        let (cdef, _) = cdef_of(
            "typedef struct { short w, h; } size2, *size2_ptr, size2_copy;\nint area(size2_ptr s);\n",
        );
        assert_eq!(
            cdef,
            "typedef struct {\n    short w;\n    short h;\n} size2;\ntypedef size2 *size2_ptr;\ntypedef size2 size2_copy;\nint area(size2_ptr s);\n"
        );
        let (cdef, _) = cdef_of("typedef enum { A = 1 } e_t, *e_ptr;\n");
        assert_eq!(
            cdef,
            "typedef enum {\n    A = 1\n} e_t;\ntypedef e_t *e_ptr;\n"
        );
    }

    #[test]
    fn records_the_cdef_cannot_lay_out_are_partial() {
        let (cdef, _) = cdef_of(
            "#pragma pack(push, 1)\nstruct p1 { char c; double d; };\n#pragma pack(pop)\n\
             struct member { char c; int x __attribute__((aligned(16))); };\n\
             struct anon_member { char c; union { char a; int b __attribute__((aligned(8))); }; };\n\
             struct natural { char c; double d; union { char a; int b; }; int tail[]; };\n",
        );
        assert_eq!(
            cdef,
            "struct p1 {\n    char c;\n    double d;\n    ...;\n};\n\
             struct member {\n    char c;\n    int x;\n    ...;\n};\n\
             struct anon_member {\n    char c;\n    union {\n        char a;\n        int b;\n        ...;\n    };\n};\n\
             struct natural {\n    char c;\n    double d;\n    union {\n        char a;\n        int b;\n    };\n    int tail[];\n};\n"
        );
    }

    #[test]
    fn a_named_field_of_a_partial_anonymous_type_is_left_out_with_a_warning() {
        let (cdef, warnings) = cdef_of(
            "#pragma pack(push, 1)\nstruct o { char c; struct { char a; int b; } inner; union { char x; int y; }; };\n#pragma pack(pop)\n",
        );
        // The anonymous member stays, partial too (CFFI takes its fields as the outer's).
        assert_eq!(
            cdef,
            "struct o {\n    char c;\n    union {\n        char x;\n        int y;\n        ...;\n    };\n    ...;\n};\n"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("field inner of struct o left out: CFFI cannot take the layout of its anonymous struct type"), "{warnings:?}");
    }

    #[test]
    fn over_aligned_typedef_is_left_out_and_its_uses_spelled_through() {
        let (cdef, warnings) = cdef_of(
            "typedef int aint __attribute__((aligned(8)));\nstruct s { char c; aint x; };\naint get(aint *p);\n",
        );
        assert_eq!(
            cdef,
            "struct s {\n    char c;\n    int x;\n    ...;\n};\nint get(int *p);\n"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].ends_with("typedef aint left out: CFFI cannot express its alignment (8, set by an attribute); its uses are written as 'int'"),
            "{warnings:?}"
        );
    }

    #[test]
    fn functions_without_a_prototype_take_void() {
        // Not `(...)`: CFFI rejects "a function with only '(...)' as argument".
        let (cdef, _) =
            cdef_of("struct s { int (*np)(); };\nint old();\nint fmt(const char *f, ...);\n");
        assert_eq!(
            cdef,
            "struct s {\n    int (*np)(void);\n};\nint old(void);\nint fmt(const char *f, ...);\n"
        );
    }

    #[test]
    fn a_struct_embedded_by_value_is_written_before_its_user() {
        let (cdef, _) = cdef_of(
            "struct a;\nstruct b;\nstruct a { int x; struct b *peer; };\nstruct b { struct a inline_a; };\n",
        );
        assert_eq!(
            cdef,
            "struct a {\n    int x;\n    struct b *peer;\n};\nstruct b {\n    struct a inline_a;\n};\n"
        );
    }
}
