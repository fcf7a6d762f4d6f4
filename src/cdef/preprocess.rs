//! The text rewrites CFFI applies to cdef source before parsing it as C
//! (`cffi/cparser.py`'s `_preprocess` and `_common_type_names`).
//!
//! They are reproduced exactly, quirks included: line numbers in error
//! messages and the numbering of partial enums depend on them.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Words CFFI knows as "common types": used without a typedef, they are
/// declared as type names for the C parser.
pub const COMMON_TYPE_WORDS: &[&str] = &[
    "FILE",
    "bool",
    "_cffi_float_complex_t",
    "_cffi_double_complex_t",
    "wchar_t",
    "char16_t",
    "char32_t",
    "int8_t",
    "uint8_t",
    "int16_t",
    "uint16_t",
    "int32_t",
    "uint32_t",
    "int64_t",
    "uint64_t",
    "int_least8_t",
    "uint_least8_t",
    "int_least16_t",
    "uint_least16_t",
    "int_least32_t",
    "uint_least32_t",
    "int_least64_t",
    "uint_least64_t",
    "int_fast8_t",
    "uint_fast8_t",
    "int_fast16_t",
    "uint_fast16_t",
    "int_fast32_t",
    "uint_fast32_t",
    "int_fast64_t",
    "uint_fast64_t",
    "intptr_t",
    "uintptr_t",
    "intmax_t",
    "uintmax_t",
    "ptrdiff_t",
    "size_t",
    "ssize_t",
];

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("valid regex"));
    };
}

re!(R_COMMENT, r"(?sm)/\*.*?\*/|//(?:[^\n\\]|\\.)*?$");
re!(
    R_DEFINE,
    r"(?sm)^\s*#\s*define\s+([A-Za-z_][A-Za-z_0-9]*)\b((?:[^\n\\]|\\.)*?)$"
);
re!(R_LINE_DIRECTIVE, r"(?m)^[ \t]*#[ \t]*(?:line|\d+)\b.*$");
re!(R_PARTIAL_ENUM, r"=\s*\.\.\.\s*[,}]|\.\.\.\s*\}");
re!(R_PARTIAL_ARRAY, r"\[\s*\.\.\.\s*\]");
#[cfg(test)]
re!(R_WORDS, r"\w+|\S");
re!(R_STDCALL1, r"\b(?:__stdcall|WINAPI)\b");
re!(R_STDCALL2, r"[(]\s*(?:__stdcall|WINAPI)\b");
re!(R_CDECL, r"\b__cdecl\b");
re!(
    R_EXTERN_PYTHON,
    r#"\bextern\s*"(Python|Python\s*\+\s*C|C\s*\+\s*Python)"\s*."#
);
re!(
    R_INT_DOTDOTDOT,
    r"(?:\b(?:int|long|short|signed|unsigned|char)\s*)+\.\.\."
);
re!(R_FLOAT_DOTDOTDOT, r"\b(?:double|float)\s*\.\.\.");

/// The result of [`preprocess`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preprocessed {
    /// The rewritten source, ready for the C parser.
    pub csource: String,
    /// `#define NAME VALUE` lines, in first-definition order (a later
    /// definition of the same name replaces the value in place, as a Python
    /// dict does).
    pub macros: Vec<(String, String)>,
}

/// A preprocessing error (CFFI's `CDefError` wording).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreprocessError {
    /// The message.
    pub message: String,
    /// Byte offset in the text being rewritten when known.
    pub offset: Option<usize>,
}

/// CFFI's `_preprocess(csource)`.
pub fn preprocess(csource: &str) -> Result<Preprocessed, PreprocessError> {
    // Set the line directives aside: their "filename" could confuse the rest.
    let mut line_directives: Vec<String> = Vec::new();
    let csource = R_LINE_DIRECTIVE.replace_all(csource, |c: &Captures<'_>| {
        let i = line_directives.len();
        line_directives.push(c[0].to_string());
        format!("#line@{i}")
    });
    // Comments become one space plus the newlines they held.
    let csource = R_COMMENT.replace_all(&csource, |c: &Captures<'_>| {
        let n = c[0].matches('\n').count();
        format!(" {}", "\n".repeat(n))
    });
    // `#define` lines are collected and removed.
    let mut macros: Vec<(String, String)> = Vec::new();
    for c in R_DEFINE.captures_iter(&csource) {
        let name = c[1].to_string();
        let value = c[2].replace("\\\n", "").trim().to_string();
        match macros.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => macros.push((name, value)),
        }
    }
    let csource = R_DEFINE.replace_all(&csource, "");
    // `__stdcall`/`WINAPI` become "volatile volatile const", which the parser
    // recognises on a function's result type.
    let csource = R_STDCALL2.replace_all(&csource, " volatile volatile const(");
    let csource = R_STDCALL1.replace_all(&csource, " volatile volatile const ");
    let csource = R_CDECL.replace_all(&csource, " ").into_owned();
    let csource = preprocess_extern_python(csource)?;
    let csource = R_PARTIAL_ARRAY.replace_all(&csource, "[__dotdotdotarray__]");
    // "= ...," / "= ...}" and "...}" (only in enums) become numbered names,
    // numbered from the last one.
    let matches: Vec<(usize, usize)> = R_PARTIAL_ENUM
        .find_iter(&csource)
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut csource = csource.into_owned();
    for (number, &(p, end)) in matches.iter().rev().enumerate() {
        if csource.as_bytes()[p] == b'=' {
            let p2 = p + csource[p..end].find("...").expect("the match holds '...'");
            csource = format!(
                "{},__dotdotdot{number}__ {}",
                &csource[..p],
                &csource[p2 + 3..]
            );
        } else {
            csource = format!(
                "{} __dotdotdot{number}__ {}",
                &csource[..p],
                &csource[p + 3..]
            );
        }
    }
    let csource = R_INT_DOTDOTDOT.replace_all(&csource, " __dotdotdotint__ ");
    let csource = R_FLOAT_DOTDOTDOT.replace_all(&csource, " __dotdotdotfloat__ ");
    let csource = csource.replace("...", " __dotdotdot__ ");
    // Put the line directives back.
    let csource = R_LINE_DIRECTIVE
        .replace_all(&csource, |c: &Captures<'_>| {
            let s = &c[0];
            s.strip_prefix("#line@")
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|i| line_directives.get(i).cloned())
                .unwrap_or_else(|| s.to_string())
        })
        .into_owned();
    Ok(Preprocessed { csource, macros })
}

/// CFFI's `_preprocess_extern_python`: `extern "Python" int f(int);` and
/// The byte offset in `text` (a cdef as given) of the character at 1-based
/// `line` and `col` (in characters) of its preprocessed text, where each
/// comment is one space plus the newlines it held; a position past the end
/// of its line is that line's end. None if the text has no such line.
///
/// Only comments are put back: the other rewrites (`[...]`, `...`,
/// `__cdecl`, `extern "Python"`, a `#define` taking the blank lines above
/// it) can leave the caret a few characters off on their line. Error
/// messages keep CFFI's numbers, which count the preprocessed text; only
/// the caret under the quoted original line uses this.
pub fn original_offset(text: &str, line: u32, col: u32) -> Option<usize> {
    // Comments as `preprocess` finds them: after the line directives are set
    // aside (blanked here, so that every offset stays that of `text`).
    let blanked = R_LINE_DIRECTIVE.replace_all(text, |c: &Captures<'_>| " ".repeat(c[0].len()));
    let mut comments = R_COMMENT.find_iter(&blanked).peekable();
    let (mut l, mut c) = (1u32, 1u32);
    let mut pos = 0usize;
    while pos < text.len() && l <= line {
        if (l, c) == (line, col) {
            return Some(pos);
        }
        if let Some(m) = comments.next_if(|m| m.start() == pos) {
            c += 1;
            let newlines = text[m.range()].matches('\n').count() as u32;
            if newlines > 0 {
                l += newlines;
                c = 1;
            }
            pos = m.end();
            continue;
        }
        let ch = text[pos..]
            .chars()
            .next()
            .expect("pos < len, at a boundary");
        if ch == '\n' {
            if l == line {
                return Some(pos);
            }
            l += 1;
            c = 1;
        } else {
            c += 1;
        }
        pos += ch.len_utf8();
    }
    (l == line).then_some(pos.min(text.len()))
}

/// `extern "Python" { ... }` become start/stop marker declarations.
fn preprocess_extern_python(mut csource: String) -> Result<String, PreprocessError> {
    let mut parts = String::new();
    let mut consumed = 0usize;
    loop {
        let Some(c) = R_EXTERN_PYTHON.captures(&csource) else {
            break;
        };
        let whole = c.get(0).expect("group 0");
        // The last matched character (may be multi-byte).
        let last_len = whole.as_str().chars().next_back().map_or(1, char::len_utf8);
        let endpos = whole.end() - last_len;
        parts.push_str(&csource[..whole.start()]);
        if c[1].contains('C') {
            parts.push_str("void __cffi_extern_python_plus_c_start; ");
        } else {
            parts.push_str("void __cffi_extern_python_start; ");
        }
        let rest;
        if csource.as_bytes()[endpos] == b'{' {
            let Some(closing) = csource[endpos..].find('}').map(|i| i + endpos) else {
                return Err(PreprocessError {
                    message: "'extern \"Python\" {': no '}' found".into(),
                    offset: Some(consumed + whole.start()),
                });
            };
            if csource[endpos + 1..closing].contains('{') {
                return Err(PreprocessError {
                    message: "cannot use { } inside a block 'extern \"Python\" { ... }'".into(),
                    offset: Some(consumed + whole.start()),
                });
            }
            parts.push_str(&csource[endpos + 1..closing]);
            rest = csource[closing + 1..].to_string();
            consumed += closing + 1;
        } else {
            let Some(semicolon) = csource[endpos..].find(';').map(|i| i + endpos) else {
                return Err(PreprocessError {
                    message: "'extern \"Python\": no ';' found".into(),
                    offset: Some(consumed + whole.start()),
                });
            };
            parts.push_str(&csource[endpos..=semicolon]);
            rest = csource[semicolon + 1..].to_string();
            consumed += semicolon + 1;
        }
        parts.push_str(" void __cffi_extern_python_stop;");
        csource = rest;
    }
    parts.push_str(&csource);
    Ok(parts)
}

/// CFFI's `_common_type_names(csource)`: the common type words the source
/// uses (minus those it defines with a typedef).
pub fn common_type_names(csource: &str) -> BTreeSet<String> {
    let mut look_for: BTreeSet<&str> = COMMON_TYPE_WORDS.iter().copied().collect();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut is_typedef = false;
    let mut paren: i64 = 0;
    let mut previous = "";
    for word in words(csource) {
        match word {
            ";" => {
                if is_typedef {
                    used.remove(previous);
                    look_for.remove(previous);
                    is_typedef = false;
                }
            }
            "typedef" => {
                is_typedef = true;
                paren = 0;
            }
            "(" => paren += 1,
            ")" => paren -= 1,
            "," => {
                if is_typedef && paren == 0 {
                    used.remove(previous);
                    look_for.remove(previous);
                }
            }
            // Every common type word ends in `_t` but these two.
            w if (w.ends_with("_t") || w == "FILE" || w == "bool") && look_for.contains(w) => {
                used.insert(w.to_string());
            }
            _ => {}
        }
        previous = word;
    }
    used
}

/// The matches of the regex `\w+|\S` (Unicode classes, as Python's `re`
/// and the `regex` crate define them), without a regex: this scan runs over
/// the whole cdef and was an eighth of the parse time.
fn words(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            let &b = bytes.get(i)?;
            if b.is_ascii() {
                if b.is_ascii_alphanumeric() || b == b'_' {
                    let start = i;
                    i += 1;
                    while i < bytes.len() {
                        let c = bytes[i];
                        if c.is_ascii_alphanumeric() || c == b'_' {
                            i += 1;
                        } else if c.is_ascii() {
                            break;
                        } else {
                            let ch = text[i..].chars().next().expect("a char starts here");
                            if !regex_syntax::is_word_character(ch) {
                                break;
                            }
                            i += ch.len_utf8();
                        }
                    }
                    return Some(&text[start..i]);
                }
                i += 1;
                if b.is_ascii_whitespace() || b == 0x0b {
                    continue;
                }
                return Some(&text[i - 1..i]);
            }
            let ch = text[i..].chars().next().expect("a char starts here");
            let start = i;
            i += ch.len_utf8();
            if regex_syntax::is_word_character(ch) {
                while let Some(c) = text[i..].chars().next() {
                    if !regex_syntax::is_word_character(c) {
                        break;
                    }
                    i += c.len_utf8();
                }
                return Some(&text[start..i]);
            }
            if ch.is_whitespace() {
                continue;
            }
            return Some(&text[start..i]);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_enums_are_numbered_from_the_end() {
        let p = preprocess("enum e { A=..., B, ... };").unwrap();
        assert_eq!(
            p.csource,
            "enum e { A,__dotdotdot1__ , B,  __dotdotdot0__  };"
        );
    }

    #[test]
    fn defines_comments_and_dots() {
        let p = preprocess("#define X 42\n/* c\n */ typedef int... t; int a[...];\n#define Y ...")
            .unwrap();
        assert_eq!(
            p.macros,
            vec![("X".into(), "42".into()), ("Y".into(), "...".into())]
        );
        assert_eq!(
            p.csource,
            "\n \n typedef  __dotdotdotint__  t; int a[__dotdotdotarray__];\n"
        );
    }

    #[test]
    fn extern_python_markers() {
        let p = preprocess("extern \"Python\" int f(int);").unwrap();
        assert_eq!(
            p.csource,
            "void __cffi_extern_python_start; int f(int); void __cffi_extern_python_stop;"
        );
        let p = preprocess("extern \"Python+C\" { int f(int); }").unwrap();
        assert_eq!(
            p.csource,
            "void __cffi_extern_python_plus_c_start;  int f(int);  void __cffi_extern_python_stop;"
        );
    }

    #[test]
    fn common_types_minus_typedefs() {
        let used = common_type_names("size_t f(FILE *); typedef int bool;");
        assert_eq!(used.into_iter().collect::<Vec<_>>(), vec!["FILE", "size_t"]);
    }

    #[test]
    fn words_match_the_regex() {
        let samples = [
            "size_t f(FILE *); typedef int bool;",
            "  a\tb\x0b\x0cc\r\n d_1 ;;( )",
            "caf\u{e9} \u{3c0}x \u{a0}y\u{2003}z n\u{301}x \u{1d7d9}9 \u{ff3f}_",
            "",
            "\u{85}w \u{2028} #define X 1",
        ];
        for s in samples {
            let ours: Vec<&str> = words(s).collect();
            let theirs: Vec<&str> = R_WORDS.find_iter(s).map(|m| m.as_str()).collect();
            assert_eq!(ours, theirs, "{s:?}");
        }
    }
}
