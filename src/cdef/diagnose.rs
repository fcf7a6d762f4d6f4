//! Every error of a cdef in one report, not just the first.
//!
//! CFFI stops at the first error. The first error we report is that one,
//! byte for byte; to find the next, the declaration holding the error is
//! blanked out (spaces, newlines kept so that every later line and column
//! stays where it was) and the cdefs are parsed again, until they parse or a
//! limit is reached. An error that names no line, or a line we cannot map
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
        let next = blank_declaration(&inputs[k], &error);
        if errors.last() == Some(&error) {
            return Err(errors);
        }
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
    let at = error.offset_in(text)?;
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
