//! One emitted module as several translation units, compiled in parallel
//! and linked into the same extension: a build strategy for large modules.
//!
//! The single file stays byte-identical to CFFI's; this takes that file
//! apart at its seams:
//!
//! - part 0: the prelude (CFFI's runtime header and the preamble), the type
//!   table, a prototype of every wrapper, the tables and the module's init;
//! - parts 1..n: the prelude again, then the wrappers (`_cffi_d_*`,
//!   `_cffi_f_*`, constants, variable getters, layout checks), spread by
//!   size.
//!
//! The wrappers lose `static` for hidden visibility (so nothing new is
//! exported: the module still exports only its `PyInit_`), and the data the
//! parts share, `_cffi_types` and CFFI's `_cffi_exports`, becomes one hidden
//! definition in part 0 with `extern` declarations elsewhere. `extern
//! "Python"` functions and their `_cffi_externpy_` records stay whole in
//! part 0, beside the tables that name them (and, on PyPy, the
//! `_cffi_call_python_org` they call through, which the init sets).
//!
//! A module the split cannot preserve exactly is left whole
//! ([`split_c_source`] returns None): a preamble holding anything but
//! preprocessor lines and declarations (function prototypes, `extern`
//! declarations, typedefs without a body: anything defined there would be
//! defined once per part), `extern "Python+C"`, embedding, or any
//! top-level construct this module does not know. (C++ sources are not
//! split either: see [`preamble_is_cplusplus`].)

/// The line of CFFI's runtime header that holds the per-module export table.
const EXPORTS_LINE: &str = "static void *_cffi_exports[_CFFI_NUM_EXPORTS];";
const TYPES_LINE: &str = "static void *_cffi_types[] = {";
const HIDDEN: &str = "#if defined(__GNUC__) || defined(__clang__)
#  define _HW_HIDDEN __attribute__((visibility(\"hidden\")))
#else
#  define _HW_HIDDEN
#endif
";
/// Where the tables start (the first of these lines ends the wrappers).
const TABLE_STARTS: &[&str] = &[
    "static const struct _cffi_global_s _cffi_globals[] = {",
    "static const struct _cffi_field_s _cffi_fields[] = {",
    "static const struct _cffi_struct_union_s _cffi_struct_unions[] = {",
    "static const struct _cffi_enum_s _cffi_enums[] = {",
    "static const struct _cffi_typename_s _cffi_typenames[] = {",
    "static const char * const _cffi_includes[] = {",
    "static const struct _cffi_type_context_s _cffi_type_context = {",
];

/// One top-level item of the wrapper section: its lines (with `static`
/// made hidden), the same with each function body replaced by a prototype,
/// and its lines as emitted, with whether they stay in part 0 (`extern
/// "Python"`).
#[derive(Default)]
struct Item {
    full: String,
    prototypes: String,
    original: String,
    in_main: bool,
}

/// Splits the C source of one module (as [`super::c_source`] emits it) into
/// `1 + parts` translation units, or None when it must stay one file.
/// `preamble` is the module's preamble as given to the emitter.
pub fn split_c_source(source: &str, preamble: &str, parts: usize) -> Option<Vec<String>> {
    if !preamble_is_declarations_only(preamble) {
        return None;
    }
    split_any_preamble(source, parts)
}

/// Whether `preamble` is C++ (`extern "C"`): C++ gives unnamed types no
/// linkage, so a wrapper taking one cannot be declared in another part.
pub fn preamble_is_cplusplus(preamble: &str) -> bool {
    preamble.contains("extern \"C\"")
}

/// [`split_c_source`] without the check on the preamble: its static
/// functions and variables are copied into every part. Only for tests
/// whose preambles hold stateless code (CFFI's own test cases).
#[doc(hidden)]
pub fn split_any_preamble(source: &str, parts: usize) -> Option<Vec<String>> {
    if parts == 0 {
        return None;
    }
    if line_start(source, "#define _CFFI_USE_EMBEDDING").is_some() {
        return None;
    }
    let types_at = line_start(source, TYPES_LINE)?;
    let prelude = &source[..types_at];
    if prelude.matches(EXPORTS_LINE).count() != 1 {
        return None;
    }
    let types_end = types_at + source[types_at..].find("\n};\n")? + 4;
    let types = &source[types_at..types_end];
    let tables_at = TABLE_STARTS
        .iter()
        .filter_map(|l| line_start(&source[types_end..], l))
        .min()
        .map(|i| types_end + i)?;
    let items = parse_items(&source[types_end..tables_at])?;
    if items.is_empty() {
        return None;
    }
    let tables = &source[tables_at..];

    let shared_prelude = |definition: bool| {
        let exports = if definition {
            "_HW_HIDDEN void *_cffi_exports[_CFFI_NUM_EXPORTS];"
        } else {
            "extern _HW_HIDDEN void *_cffi_exports[_CFFI_NUM_EXPORTS];"
        };
        format!("{HIDDEN}{}", prelude.replacen(EXPORTS_LINE, exports, 1))
    };
    // Part 0.
    let mut main = shared_prelude(true);
    main.push_str(&types.replacen(
        "static void *_cffi_types[]",
        "_HW_HIDDEN void *_cffi_types[]",
        1,
    ));
    for item in &items {
        main.push_str(if item.in_main {
            &item.original
        } else {
            &item.prototypes
        });
    }
    main.push_str(tables);
    // The wrappers, spread by size (largest first onto the lightest part).
    let movable = items.iter().filter(|i| i.moves()).count();
    if movable == 0 {
        return None;
    }
    let n = parts.min(movable);
    let mut order: Vec<usize> = (0..items.len()).filter(|&i| items[i].moves()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(items[i].full.len()));
    let mut load = vec![0usize; n];
    let mut owner = vec![usize::MAX; items.len()];
    for i in order {
        let p = (0..n)
            .min_by_key(|&p| (load[p], p))
            .expect("at least one part");
        load[p] += items[i].full.len();
        owner[i] = p;
    }
    let mut out = vec![main];
    for p in 0..n {
        // CFFI's static helpers and the preamble's static prototypes are
        // unused or undefined in a part: no warning for either.
        let mut part = String::from(
            "#if defined(__GNUC__) || defined(__clang__)\n\
             #  pragma GCC diagnostic ignored \"-Wunused-function\"\n\
             #endif\n",
        );
        part.push_str(&shared_prelude(false));
        part.push_str("extern _HW_HIDDEN void *_cffi_types[];\n\n");
        for (i, item) in items.iter().enumerate() {
            if owner[i] == p {
                part.push_str(&item.full);
            }
        }
        out.push(part);
    }
    Some(out)
}

/// The offset of the line that is exactly `line`, if any.
fn line_start(text: &str, line: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(line) {
        let at = from + i;
        let starts_line = at == 0 || text.as_bytes()[at - 1] == b'\n';
        let ends_line = text[at + line.len()..].starts_with('\n');
        if starts_line && ends_line {
            return Some(at);
        }
        from = at + line.len();
    }
    None
}

/// A preamble of preprocessor lines (includes, defines), comments, blank
/// lines and declarations that define nothing ([`is_pure_declaration`]):
/// every part can hold its own copy without anything differing between
/// them.
fn preamble_is_declarations_only(preamble: &str) -> bool {
    let mut in_comment = false;
    let mut continued = false;
    let mut code = String::new();
    for line in preamble.lines() {
        let mut l = line.trim();
        if continued {
            continued = l.ends_with('\\');
            continue;
        }
        if in_comment {
            match l.find("*/") {
                Some(i) => {
                    in_comment = false;
                    l = l[i + 2..].trim();
                }
                None => continue,
            }
        }
        if l.starts_with("/*") {
            match l.find("*/") {
                Some(i) => l = l[i + 2..].trim(),
                None => {
                    in_comment = true;
                    continue;
                }
            }
        }
        if l.is_empty() || l.starts_with("//") {
            continue;
        }
        if !l.starts_with('#') {
            // A comment later on the line ends the code (`/*` opening a
            // block comment there is not followed: refuse it).
            let l = l.split("//").next().unwrap_or("");
            if l.contains("/*") || l.contains("*/") {
                return false;
            }
            code.push_str(l);
            code.push('\n');
            continue;
        }
        continued = l.ends_with('\\');
    }
    let code = code.trim_end();
    if code.is_empty() {
        return true;
    }
    if !code.ends_with(';') {
        return false;
    }
    code.trim_end_matches(';')
        .split(';')
        .all(is_pure_declaration)
}

/// A declaration that defines nothing: a function prototype (`static` or
/// not), an `extern` declaration without an initializer, or a typedef
/// without a body. Braces, initializers, strings and function-pointer
/// declarators are refused (a `static void (*cb)(void);` is a variable).
fn is_pure_declaration(decl: &str) -> bool {
    let d = decl.trim();
    if d.is_empty() || d.contains(['{', '}', '=', '"', '\'', '[']) {
        return false;
    }
    let first = d
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| !w.is_empty());
    if matches!(first, Some("typedef" | "extern")) {
        return true;
    }
    // A prototype: `… name(params) [attributes]`, its first parenthesis
    // opening the parameters of an identifier that is not a keyword.
    let Some(open) = d.find('(') else {
        return false;
    };
    let before = d[..open].trim_end();
    let name = before
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    let after = d[open + 1..].trim_start();
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !matches!(
            name,
            "__attribute__"
                | "__declspec"
                | "__typeof__"
                | "typeof"
                | "sizeof"
                | "_Alignas"
                | "alignas"
        )
        && !C_TYPE_WORDS.contains(&name)
        && !after.starts_with(['*', '^', '(', '&'])
        && d.ends_with(')')
}

/// Words that end a type, never a function's name.
const C_TYPE_WORDS: &[&str] = &[
    "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool",
    "bool", "const", "volatile", "restrict", "static", "inline", "struct", "union", "enum",
    "extern",
];

/// The wrapper section as items: functions (a `static` signature, a body
/// from a `{` line to a `}` line), with the `_CFFI_UNUSED_FN` before them
/// and the preprocessor lines around them, `struct _cffi_align_*` lines,
/// and `extern "Python"` records. Anything else: None.
fn parse_items(section: &str) -> Option<Vec<Item>> {
    let mut items = Vec::new();
    let mut cur = Item::default();
    let mut lines = section.split_inclusive('\n').peekable();
    let mut pp_depth = 0i32;
    while let Some(line) = lines.next() {
        let t = line.trim_end_matches('\n');
        if t.is_empty() {
            cur.push_all(line);
            if pp_depth == 0 {
                items.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if t.starts_with('#') {
            let d = t.trim_start_matches('#').trim_start();
            if d.starts_with("if") {
                pp_depth += 1;
            } else if d.starts_with("endif") {
                pp_depth -= 1;
            }
            cur.push_all(line);
            continue;
        }
        if t == "_CFFI_UNUSED_FN" || (t.starts_with("struct _cffi_align_") && t.ends_with("};")) {
            cur.push_all(line);
            continue;
        }
        if t.starts_with("static struct _cffi_externpy_s _cffi_externpy__") && t.ends_with(" =") {
            // An `extern "Python"` record: `{ "name", size, 0, 0 };` on the
            // next line. It stays in part 0.
            let init = lines.next()?;
            let i = init.trim_end_matches('\n');
            if !(i.starts_with("  { ") && i.ends_with(" };")) {
                return None;
            }
            cur.original.push_str(line);
            cur.original.push_str(init);
            cur.in_main = true;
            continue;
        }
        if let Some(rest) = t.strip_prefix("static ") {
            // The signature: this line and the following ones up to `{`.
            cur.original.push_str(line);
            let mut sig = format!("_HW_HIDDEN {rest}");
            loop {
                let next = lines.next()?;
                let n = next.trim_end_matches('\n');
                if n == "{" {
                    cur.original.push_str(next);
                    break;
                }
                if n.starts_with('#') || n.is_empty() || n.starts_with(' ') {
                    return None;
                }
                cur.original.push_str(next);
                sig.push('\n');
                sig.push_str(n);
            }
            if !sig.contains('(') {
                return None;
            }
            cur.full.push_str(&sig);
            cur.full.push_str("\n{\n");
            cur.prototypes.push_str(&sig);
            cur.prototypes.push_str(";\n");
            // The body, to the `}` line.
            loop {
                let body = lines.next()?;
                cur.full.push_str(body);
                cur.original.push_str(body);
                // The function of an `extern "Python"` calls through its
                // record: it stays in part 0 with it.
                if body.contains("_cffi_call_python(&_cffi_externpy__") {
                    cur.in_main = true;
                }
                if body.trim_end_matches('\n') == "}" {
                    break;
                }
            }
            continue;
        }
        return None;
    }
    if pp_depth != 0 {
        return None;
    }
    if !cur.original.is_empty() {
        items.push(cur);
    }
    Some(items)
}

impl Item {
    /// Whether the item goes to one of parts 1..n: code that is not kept in
    /// part 0.
    fn moves(&self) -> bool {
        !self.in_main && !self.full.trim().is_empty()
    }

    /// A line that is the same in every form of the item.
    fn push_all(&mut self, line: &str) {
        self.full.push_str(line);
        self.prototypes.push_str(line);
        self.original.push_str(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preambles_of_directives_only() {
        assert!(preamble_is_declarations_only(
            "#include <zlib.h>\n/* a\n comment */\n#define X \\\n  1\n// x\n"
        ));
        assert!(!preamble_is_declarations_only(
            "#include <zlib.h>\nstatic int counter;\n"
        ));
        assert!(!preamble_is_declarations_only("int f(void) { return 1; }"));
    }

    #[test]
    fn preambles_of_declarations() {
        // Defines nothing: copies in every part are the same declaration.
        for ok in [
            "#include <nng/nng.h>\n\nstatic void _async_complete(void *);\n",
            "int helper(int a,\n           const char *b); // from extra.c\n",
            "struct s *make(void) __attribute__((warn_unused_result));",
            "extern int counter;\ntypedef struct opaque opaque_t;\n",
            "static inline int twice(int);",
        ] {
            assert!(preamble_is_declarations_only(ok), "{ok}");
        }
        // Defines something (once per part), or is not understood.
        for no in [
            "static int counter;",
            "static void (*cb)(void *);",
            "int (*table[4])(void);",
            "static int x = 3;",
            "extern int y = 1;",
            "static const char name[] = \"n\";",
            "struct s { int a; };",
            "static int f(void) { return 0; }",
            "int (*getcb(void))(int);",
            "static int v __attribute__((unused));",
            "static void f(void)",
            "int f(void); /* a\n comment */ static int g;",
        ] {
            assert!(!preamble_is_declarations_only(no), "{no}");
        }
    }

    #[test]
    fn extern_python_stays_in_part_0_with_its_record() {
        let runtime = crate::emit::CffiRuntime {
            include_h: format!("/* include.h */\n{EXPORTS_LINE}\n#include \"parse_c_type.h\"\n"),
            parse_c_type_h: String::new(),
            errors_h: String::new(),
            embedding_h: String::new(),
        };
        let cdef = "extern \"Python\" int cmp(const void *, const void *);\n\
                    int abs(int);\nlong labs(long);\nsize_t strlen(const char *);\n";
        let preamble = "#include <stdlib.h>\n#include <string.h>\nstatic int cmp(const void *, const void *);\n";
        let source = crate::emit::c_source(
            "m",
            &[crate::cdef::CdefInput::new(cdef, "")],
            preamble,
            &runtime,
            &Default::default(),
        )
        .expect("emits");
        let units = split_c_source(&source, preamble, 2).expect("splits");
        assert_eq!(units.len(), 3);
        let record = "static struct _cffi_externpy_s _cffi_externpy__cmp =\n  { \"m.cmp\", (int)sizeof(int), 0, 0 };\n";
        assert!(units[0].contains(record), "{}", units[0]);
        assert!(units[0].contains("\nstatic int cmp(void const * a0, void const * a1)\n{\n"));
        for part in &units[1..] {
            assert!(!part.contains("_cffi_externpy__cmp"), "{part}");
            assert!(
                part.contains("_HW_HIDDEN int _cffi_d_")
                    || part.contains("_HW_HIDDEN long _cffi_d_")
                    || part.contains("_HW_HIDDEN size_t _cffi_d_"),
                "{part}"
            );
            assert!(
                part.starts_with("#if defined(__GNUC__)"),
                "the pragma comes before the preamble"
            );
        }
        // Only extern "Python" functions: nothing to move, one file.
        let only = "extern \"Python\" int cmp(const void *, const void *);\n";
        let source = crate::emit::c_source(
            "m",
            &[crate::cdef::CdefInput::new(only, "")],
            preamble,
            &runtime,
            &Default::default(),
        )
        .expect("emits");
        assert!(split_c_source(&source, preamble, 2).is_none());
        // extern "Python+C" (a function other C code links to): one file.
        let plus_c = "extern \"Python+C\" int cmp(const void *, const void *);\nint abs(int);\n";
        let source = crate::emit::c_source(
            "m",
            &[crate::cdef::CdefInput::new(plus_c, "")],
            "",
            &runtime,
            &Default::default(),
        )
        .expect("emits");
        assert!(split_c_source(&source, "", 2).is_none());
    }

    #[test]
    fn lines_are_found_whole() {
        assert_eq!(line_start("a\nstatic x\n", "static x"), Some(2));
        assert_eq!(line_start("static xy\n", "static x"), None);
    }
}
