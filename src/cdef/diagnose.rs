//! Every error of a cdef in one report, not just the first.
//!
//! CFFI stops at the first error. The first error we report is that one,
//! byte for byte; to find the next, the declaration holding the error is
//! blanked out (spaces, newlines kept so that every later line and column
//! stays where it was) and the cdefs are parsed again, until they parse or a
//! limit is reached. The declaration is found in the text as written:
//! [`CdefError::offset`] undoes CFFI's rewrites (a `#define` taking the
//! lines above it, `[...]`, comments), so it is the one holding the error
//! and the next parse finds the next error. An error already reported
//! (same class, message and place) ends the search. An error that names no line, or a line we cannot map
//! back to the text (after a `#line` directive), ends the search.

use super::{CdefError, CdefInput, Ffi};
use crate::model::Types;

/// How many errors one report lists at most.
pub const MAX_ERRORS: usize = 20;

/// Parses `inputs` as successive `ffi.cdef()` calls on one FFI; on failure,
/// every error that can be found (the first is CFFI's), at most `max`.
pub fn parse_reporting_all(
    inputs: &[CdefInput],
    max: usize,
) -> Result<(Types, Ffi), Vec<CdefError>> {
    let mut inputs: Vec<CdefInput> = inputs.to_vec();
    let mut errors: Vec<CdefError> = Vec::new();
    loop {
        let (k, error) = match parse(&inputs) {
            Ok(done) if errors.is_empty() => return Ok(done),
            Ok(_) => return Err(errors),
            Err(e) => e,
        };
        // The same error again (blanking did not remove what holds it):
        // reporting it twice would say nothing new.
        if errors.iter().any(|e| e.same_as(&error)) {
            return Err(errors);
        }
        let next = blank_declaration(&inputs[k], &error);
        errors.push(error);
        match next {
            Some(text) if errors.len() < max => inputs[k].text = text,
            _ => return Err(errors),
        }
    }
}

fn parse(inputs: &[CdefInput]) -> Result<(Types, Ffi), (usize, CdefError)> {
    let mut types = Types::new();
    let mut ffi = Ffi::new();
    for (k, input) in inputs.iter().enumerate() {
        ffi.cdef(&mut types, input).map_err(|e| (k, e))?;
    }
    Ok((types, ffi))
}

/// `input`'s text with the declaration holding `error` replaced by spaces,
/// or None when the error cannot be placed in the text.
fn blank_declaration(input: &CdefInput, error: &CdefError) -> Option<String> {
    if error.file != input.origin
        || input.text.contains("#line")
        || input.text.lines().any(is_line_marker)
    {
        return None;
    }
    let text = &input.text;
    let at = error.offset?;
    let (start, end) = declaration_span(text, at);
    if start >= end {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    out.extend(
        text[start..end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' }),
    );
    out.push_str(&text[end..]);
    Some(out)
}

/// `# 12 "file"`: a line marker, which renames lines as `#line` does.
fn is_line_marker(line: &str) -> bool {
    let l = line.trim_start();
    l.strip_prefix('#')
        .is_some_and(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit()))
}

/// The byte range of the top-level declaration that holds offset `at`: from
/// after the previous top-level `;` (or `}` closing a top-level block) to
/// its own `;` inclusive; a `#` directive line is a declaration of its own.
/// Comments and string or character literals are skipped.
fn declaration_span(text: &str, at: usize) -> (usize, usize) {
    let b = text.as_bytes();
    let mut depth = 0i32;
    let mut start = 0usize;
    let mut i = 0usize;
    let mut line_begins = true;
    while i < b.len() {
        let c = b[i];
        if line_begins && depth == 0 && c == b'#' {
            // A directive: to the end of the line, with continuations.
            let mut j = i;
            while j < b.len() && !(b[j] == b'\n' && (j == 0 || b[j - 1] != b'\\')) {
                j += 1;
            }
            if at < j.max(i + 1) && at >= start {
                return if at >= i { (i, j) } else { (start, i) };
            }
            i = j;
            start = j;
            continue;
        }
        match c {
            b'\n' => {
                line_begins = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(b.len(), |k| i + 2 + k + 2);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(b.len(), |k| i + k);
                continue;
            }
            b'"' | b'\'' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != c && b[j] != b'\n' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                i = (j + 1).min(b.len());
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth -= 1;
                i += 1;
                // `extern "Python" { ... }` ends without a ';'.
                if depth <= 0 {
                    depth = 0;
                    let rest = text[i..].trim_start();
                    if !rest.starts_with(';')
                        && !rest
                            .starts_with(|ch: char| ch.is_alphanumeric() || ch == '_' || ch == '*')
                    {
                        if at < i {
                            return (start, i);
                        }
                        start = i;
                    }
                }
            }
            b';' if depth == 0 => {
                i += 1;
                if at < i {
                    return (start, i);
                }
                start = i;
            }
            _ => i += 1,
        }
        line_begins = false;
    }
    (start, b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match parse_reporting_all(&[CdefInput::new(text, "t.cdef")], MAX_ERRORS) {
            Ok(_) => vec![],
            Err(es) => es
                .iter()
                .map(|e| format!("{}:{}", e.line.unwrap().0, e.message))
                .collect(),
        }
    }

    #[test]
    fn every_bad_declaration_is_reported() {
        let text = "int f(int);\nfoo_t g(void);\nint ok(void);\nstruct s { int x; bar_t y; };\nint h(baz_t);\n";
        let es = errors(text);
        assert_eq!(es.len(), 3, "{es:?}");
        assert!(
            es[0].starts_with("2:cannot parse: unknown type name 'foo_t'"),
            "{es:?}"
        );
        assert!(
            es[1].starts_with("4:cannot parse: unknown type name 'bar_t'"),
            "{es:?}"
        );
        assert!(
            es[2].starts_with("5:") && es[2].contains("unknown type 'baz_t'"),
            "{es:?}"
        );
    }

    #[test]
    fn the_first_error_is_cffis() {
        let text = "int f(int;\nint g(void);\n";
        let first = {
            let mut types = Types::new();
            Ffi::new()
                .cdef(&mut types, &CdefInput::new(text, "t.cdef"))
                .unwrap_err()
        };
        let all = parse_reporting_all(&[CdefInput::new(text, "t.cdef")], MAX_ERRORS)
            .err()
            .unwrap();
        assert_eq!(all[0], first);
    }

    #[test]
    fn errors_after_non_ascii_comments_are_each_found() {
        let text = "/*é*/ foo_t y;\n/* 日本 */ bar_t w; int ok;\n/*😀*/ baz_t v;\n";
        let es = errors(text);
        assert_eq!(es.len(), 3, "{es:?}");
        assert!(es[0].starts_with("1:cannot parse: unknown type name 'foo_t'"));
        assert!(es[1].starts_with("2:cannot parse: unknown type name 'bar_t'"));
        assert!(es[2].starts_with("3:cannot parse: unknown type name 'baz_t'"));
    }

    /// The report as the build prints it: every error, in order.
    fn report(text: &str) -> String {
        match parse_reporting_all(&[CdefInput::new(text, "t.cdef")], MAX_ERRORS) {
            Ok(_) => "ok".into(),
            Err(es) => es
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    #[test]
    fn an_error_after_defines_quotes_its_own_line_once() {
        // CFFI 2.1.1: `<cdef source string>:14:3` (the `#define` below the
        // blank line takes it); the error is on line 15 as written.
        let mut text = String::from("typedef unsigned long uLong;\n");
        for i in 0..8 {
            text.push_str(&format!("int f{i}(int);\n"));
        }
        text.push_str("int uncompress(char *dest);\n\n#define Z_OK 0\n#define Z_BUF_ERROR ...\n#define Z_BEST_COMPRESSION ...\n/* é */ x y;\n");
        insta::assert_snapshot!(report(&text), @r"
        t.cdef:14:3: cannot parse: unknown type name 'x' (declare it first, e.g. 'typedef ... x;', 'typedef int... x;' or 'typedef struct { ...; } x;')
            /* é */ x y;
                    ^
            (line 15 as written: CFFI's number counts the cdef after its rewrites, e.g. of #define lines)
        ");
    }

    #[test]
    fn an_error_after_a_continued_define() {
        // CFFI: 3:1 for `x y;` (the define's two lines are one). The macro's
        // own error (CFFI gives it no place) is at its `#define` as written.
        insta::assert_snapshot!(report("int a;\n#define X 1 \\\n  + 2\nx y;\n"), @r"
        t.cdef:3:1: cannot parse: unknown type name 'x' (declare it first, e.g. 'typedef ... x;', 'typedef int... x;' or 'typedef struct { ...; } x;')
            x y;
            ^
            (line 4 as written: CFFI's number counts the cdef after its rewrites, e.g. of #define lines)
        t.cdef:2:1: only supports one of the following syntax:
          #define X ...     (literally dot-dot-dot)
          #define X NUMBER  (with NUMBER an integer constant, decimal/hex/octal)
        got:
          #define X 1   + 2
            #define X 1 \
            ^
        ");
    }

    #[test]
    fn two_errors_after_defines_are_each_reported_once() {
        // CFFI: 4:1 for the first (it stops there).
        let text = "int a;\n\n#define A 1\n\n#define B ...\nfoo_t f(void);\nint ok;\n\n#define C 2\nbar_t g(void);\n";
        insta::assert_snapshot!(report(text), @r"
        t.cdef:4:1: cannot parse: unknown type name 'foo_t' (declare it first, e.g. 'typedef ... foo_t;', 'typedef int... foo_t;' or 'typedef struct { ...; } foo_t;')
            foo_t f(void);
            ^
            (line 6 as written: CFFI's number counts the cdef after its rewrites, e.g. of #define lines)
        t.cdef:7:1: cannot parse: unknown type name 'bar_t' (declare it first, e.g. 'typedef ... bar_t;', 'typedef int... bar_t;' or 'typedef struct { ...; } bar_t;')
            bar_t g(void);
            ^
            (line 10 as written: CFFI's number counts the cdef after its rewrites, e.g. of #define lines)
        ");
    }

    #[test]
    fn the_caret_is_under_the_token_after_a_partial_array() {
        // CFFI: 1:28, a column of `int a[__dotdotdotarray__]; x y;`.
        insta::assert_snapshot!(report("int a[...]; x y;"), @r"
        t.cdef:1:28: cannot parse: unknown type name 'x' (declare it first, e.g. 'typedef ... x;', 'typedef int... x;' or 'typedef struct { ...; } x;')
            int a[...]; x y;
                        ^
        ");
    }

    #[test]
    fn an_error_after_an_extern_python_block() {
        // CFFI: 4:1 and 1:81 (after the start/stop markers).
        insta::assert_snapshot!(report("extern \"Python\" {\n  int cb(int);\n}\nx y;\n"), @r"
        t.cdef:4:1: cannot parse: unknown type name 'x' (declare it first, e.g. 'typedef ... x;', 'typedef int... x;' or 'typedef struct { ...; } x;')
            x y;
            ^
        ");
        insta::assert_snapshot!(report("extern \"Python\" { int cb(int); } x y;"), @r#"
        t.cdef:1:81: cannot parse: unknown type name 'x' (declare it first, e.g. 'typedef ... x;', 'typedef int... x;' or 'typedef struct { ...; } x;')
            extern "Python" { int cb(int); } x y;
                                             ^
        "#);
    }

    #[test]
    fn an_error_is_the_same_wherever_cffi_numbers_it() {
        // Blanking a `#define` gives its blank lines back to CFFI's count:
        // the same error then has another line number, not another place.
        use crate::cdef::CffiErrorKind::CDefError as K;
        let text = "\n#define A 1\nx y;";
        let before = CdefError::at(K, "m", "t", Some((2, 1)), Some(text));
        let after = CdefError::at(K, "m", "t", Some((3, 1)), Some("\n           \nx y;"));
        assert_eq!(before.offset, after.offset);
        assert!(before.same_as(&after));
        assert!(!before.same_as(&CdefError::at(K, "other", "t", Some((2, 1)), Some(text))));
    }

    #[test]
    fn a_good_cdef_parses() {
        assert!(errors("int f(int);\n#define X 1\nstruct s { int a; };\n").is_empty());
    }

    #[test]
    fn spans_follow_blocks_directives_and_comments() {
        let t = "int a; /* ; */ struct s { int x; } v;\n#define Y 2\nint b;";
        assert_eq!(
            &t[declaration_span(t, 20).0..declaration_span(t, 20).1],
            " /* ; */ struct s { int x; } v;"
        );
        let (s, e) = declaration_span(t, t.find("#define").unwrap() + 3);
        assert_eq!(&t[s..e], "#define Y 2");
        let (s, e) = declaration_span(t, t.len() - 2);
        assert_eq!(&t[s..e], "\nint b;");
    }
}
