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
//! definition in part 0 with `extern` declarations elsewhere. A module the
//! split cannot preserve exactly is left whole ([`split_c_source`] returns
//! None): a preamble with anything but preprocessor lines (its static
//! functions or variables would be duplicated per part), `extern "Python"`,
//! embedding, or any top-level construct this module does not know. (C++
//! sources are not split either: see [`preamble_is_cplusplus`].)

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

/// One top-level item of the wrapper section: its lines, and the same with
/// each function body replaced by a prototype.
struct Item {
    full: String,
    prototypes: String,
}

/// Splits the C source of one module (as [`super::c_source`] emits it) into
/// `1 + parts` translation units, or None when it must stay one file.
/// `preamble` is the module's preamble as given to the emitter.
pub fn split_c_source(source: &str, preamble: &str, parts: usize) -> Option<Vec<String>> {
    if !preamble_is_directives_only(preamble) {
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
    if line_start(source, "#define _CFFI_USE_EMBEDDING").is_some()
        || source.contains("_cffi_externpy__")
    {
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
        main.push_str(&item.prototypes);
    }
    main.push_str(tables);
    // The wrappers, spread by size (largest first onto the lightest part).
    let n = parts.min(items.len());
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(items[i].full.len()));
    let mut load = vec![0usize; n];
    let mut owner = vec![0usize; items.len()];
    for i in order {
        let p = (0..n)
            .min_by_key(|&p| (load[p], p))
            .expect("at least one part");
        load[p] += items[i].full.len();
        owner[i] = p;
    }
    let mut out = vec![main];
    for p in 0..n {
        let mut part = shared_prelude(false);
        part.push_str("#if defined(__GNUC__) || defined(__clang__)\n");
        part.push_str("#  pragma GCC diagnostic ignored \"-Wunused-function\"\n");
        part.push_str("#endif\n");
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

/// A preamble of preprocessor lines (includes, defines), comments and
/// blank lines only: nothing it defines can differ between two parts.
fn preamble_is_directives_only(preamble: &str) -> bool {
    let mut in_comment = false;
    let mut continued = false;
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
            return false;
        }
        continued = l.ends_with('\\');
    }
    true
}

/// The wrapper section as items: functions (a `static` signature, a body
/// from a `{` line to a `}` line), with the `_CFFI_UNUSED_FN` before them
/// and the preprocessor lines around them, and `struct _cffi_align_*`
/// lines. Anything else: None.
fn parse_items(section: &str) -> Option<Vec<Item>> {
    let mut items = Vec::new();
    let mut full = String::new();
    let mut protos = String::new();
    let mut lines = section.split_inclusive('\n').peekable();
    let mut pp_depth = 0i32;
    while let Some(line) = lines.next() {
        let t = line.trim_end_matches('\n');
        if t.is_empty() {
            full.push_str(line);
            protos.push_str(line);
            if pp_depth == 0 {
                items.push(Item {
                    full: std::mem::take(&mut full),
                    prototypes: std::mem::take(&mut protos),
                });
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
            full.push_str(line);
            protos.push_str(line);
            continue;
        }
        if t == "_CFFI_UNUSED_FN" {
            full.push_str(line);
            protos.push_str(line);
            continue;
        }
        if t.starts_with("struct _cffi_align_") && t.ends_with("};") {
            full.push_str(line);
            protos.push_str(line);
            continue;
        }
        if let Some(rest) = t.strip_prefix("static ") {
            // The signature: this line and the following ones up to `{`.
            let mut sig = format!("_HW_HIDDEN {rest}");
            loop {
                let next = lines.next()?;
                let n = next.trim_end_matches('\n');
                if n == "{" {
                    break;
                }
                if n.starts_with('#') || n.is_empty() || n.starts_with(' ') {
                    return None;
                }
                sig.push('\n');
                sig.push_str(n);
            }
            if !sig.contains('(') {
                return None;
            }
            full.push_str(&sig);
            full.push_str("\n{\n");
            protos.push_str(&sig);
            protos.push_str(";\n");
            // The body, to the `}` line.
            loop {
                let body = lines.next()?;
                full.push_str(body);
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
    if !full.is_empty() {
        items.push(Item {
            full,
            prototypes: protos,
        });
    }
    Some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preambles_of_directives_only() {
        assert!(preamble_is_directives_only(
            "#include <zlib.h>\n/* a\n comment */\n#define X \\\n  1\n// x\n"
        ));
        assert!(!preamble_is_directives_only(
            "#include <zlib.h>\nstatic int counter;\n"
        ));
        assert!(!preamble_is_directives_only("int f(void) { return 1; }"));
    }

    #[test]
    fn lines_are_found_whole() {
        assert_eq!(line_start("a\nstatic x\n", "static x"), Some(2));
        assert_eq!(line_start("static xy\n", "static x"), None);
    }
}
