//! The text rewrites CFFI applies to cdef source before parsing it as C
//! (`cffi/cparser.py`'s `_preprocess` and `_common_type_names`).
//!
//! They are reproduced exactly, quirks included: line numbers in error
//! messages and the numbering of partial enums depend on them.

use std::collections::BTreeSet;
use std::ops::Range;
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
re!(R_DOTDOTDOT, r"\.\.\.");

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
    let (rewritten, macros) = rewrite(csource, false)?;
    Ok(Preprocessed {
        csource: rewritten.text,
        macros,
    })
}

/// Where each character of CFFI's rewritten text (the text its line and
/// column numbers count) came from in the cdef as written.
///
/// Built only when an error needs it: it runs the rewrites of [`preprocess`]
/// again, this time keeping the original byte offset of every byte.
#[derive(Debug, Clone)]
pub struct SourceMap {
    /// The rewritten text.
    csource: String,
    /// For each byte of `csource`, and for its end, the byte offset in the
    /// original text it came from.
    origin: Vec<usize>,
}

impl SourceMap {
    /// The map of `text`'s rewrites; None if `text` cannot be preprocessed.
    pub fn new(text: &str) -> Option<SourceMap> {
        let (rewritten, _) = rewrite(text, true).ok()?;
        Some(SourceMap {
            csource: rewritten.text,
            origin: rewritten.origin.expect("tracked"),
        })
    }

    /// The byte offset in the original text of the character at 1-based
    /// `line` and `col` (in characters) of the rewritten text, as CFFI's
    /// messages count them; a position past the end of its line is that
    /// line's end. None if the rewritten text has no such line.
    ///
    /// Text kept by the rewrites maps to itself, so a line swallowed by a
    /// `#define` or a column shifted by `[...]` is undone; text a rewrite
    /// put in (` __dotdotdot__ `, `volatile volatile const`, the markers of
    /// `extern "Python"`) maps to the `...` it replaced, or to the start of
    /// what it replaced.
    pub fn original_offset(&self, line: u32, col: u32) -> Option<usize> {
        let mut start = 0usize;
        for _ in 1..line {
            start += self.csource[start..].find('\n')? + 1;
        }
        let end = self.csource[start..]
            .find('\n')
            .map_or(self.csource.len(), |i| start + i);
        let pos = self.csource[start..end]
            .char_indices()
            .nth(col.saturating_sub(1) as usize)
            .map_or(end, |(i, _)| start + i);
        Some(self.origin[pos])
    }
}

/// The byte offset in `text` (a cdef as given) of the character at 1-based
/// `line` and `col` (in characters) of CFFI's rewritten text; see
/// [`SourceMap::original_offset`].
pub fn original_offset(text: &str, line: u32, col: u32) -> Option<usize> {
    SourceMap::new(text)?.original_offset(line, col)
}

/// Text being rewritten and, when tracked, where each of its bytes came from.
struct Rewriting {
    text: String,
    /// For each byte of `text`, and for its end, the byte offset in the
    /// original text; None when not asked for (parsing does not need it).
    origin: Option<Vec<usize>>,
}

impl Rewriting {
    fn new(text: &str, track: bool) -> Self {
        Rewriting {
            text: text.to_string(),
            origin: track.then(|| (0..=text.len()).collect()),
        }
    }

    /// Every match of `re` replaced by what `replacement` makes of it.
    fn replace_all(&mut self, re: &Regex, mut replacement: impl FnMut(&Captures<'_>) -> String) {
        let edits: Vec<(Range<usize>, String)> = re
            .captures_iter(&self.text)
            .map(|c| (c.get(0).expect("group 0").range(), replacement(&c)))
            .collect();
        self.splice(edits);
    }

    /// Each byte range of `edits` (in order, disjoint) replaced by its text.
    fn splice(&mut self, edits: Vec<(Range<usize>, String)>) {
        if edits.is_empty() {
            return;
        }
        let old = &self.text;
        let mut text = String::with_capacity(old.len());
        let mut origin = self
            .origin
            .as_ref()
            .map(|_| Vec::with_capacity(old.len() + 1));
        let mut kept = 0usize;
        for (range, replacement) in &edits {
            text.push_str(&old[kept..range.start]);
            text.push_str(replacement);
            if let (Some(new), Some(from)) = (origin.as_mut(), self.origin.as_ref()) {
                new.extend_from_slice(&from[kept..range.start]);
                map_replacement(new, from, old.as_bytes(), range.clone(), replacement);
            }
            kept = range.end;
        }
        text.push_str(&old[kept..]);
        if let (Some(new), Some(from)) = (origin.as_mut(), self.origin.as_ref()) {
            new.extend_from_slice(&from[kept..]);
        }
        self.text = text;
        self.origin = origin;
    }
}

/// Appends to `new` where each byte of `replacement`, put in for
/// `old[range]`, came from: a prefix and a suffix the two share byte for
/// byte map to themselves, each newline to the next newline of the replaced
/// text (a comment's newlines stay on their lines), the rest to the first
/// `...` of the replaced text, or else to its start.
fn map_replacement(
    new: &mut Vec<usize>,
    from: &[usize],
    old: &[u8],
    range: Range<usize>,
    replacement: &str,
) {
    let (a, b) = (&old[range.clone()], replacement.as_bytes());
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let middle = range.start + prefix..range.end - suffix;
    let anchor = old[middle.clone()]
        .windows(3)
        .position(|w| w == b"...")
        .map_or(middle.start, |i| middle.start + i);
    let mut newlines = middle.clone().filter(|&i| old[i] == b'\n');
    new.extend_from_slice(&from[range.start..middle.start]);
    for &byte in &b[prefix..b.len() - suffix] {
        let at = match byte {
            b'\n' => newlines.next().unwrap_or(anchor),
            _ => anchor,
        };
        new.push(from[at]);
    }
    new.extend_from_slice(&from[middle.end..range.end]);
}

/// The rewrites of [`preprocess`], tracking where every byte came from when
/// `track` is set; also the `#define`s.
fn rewrite(
    csource: &str,
    track: bool,
) -> Result<(Rewriting, Vec<(String, String)>), PreprocessError> {
    let mut rw = Rewriting::new(csource, track);
    // Set the line directives aside: their "filename" could confuse the rest.
    let mut line_directives: Vec<String> = Vec::new();
    rw.replace_all(&R_LINE_DIRECTIVE, |c| {
        let i = line_directives.len();
        line_directives.push(c[0].to_string());
        format!("#line@{i}")
    });
    // Comments become one space plus the newlines they held.
    rw.replace_all(&R_COMMENT, |c| {
        let n = c[0].matches('\n').count();
        format!(" {}", "\n".repeat(n))
    });
    // `#define` lines are collected and removed.
    let mut macros: Vec<(String, String)> = Vec::new();
    for c in R_DEFINE.captures_iter(&rw.text) {
        let name = c[1].to_string();
        let value = c[2].replace("\\\n", "").trim().to_string();
        match macros.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => macros.push((name, value)),
        }
    }
    rw.replace_all(&R_DEFINE, |_| String::new());
    // `__stdcall`/`WINAPI` become "volatile volatile const", which the parser
    // recognises on a function's result type.
    rw.replace_all(&R_STDCALL2, |_| " volatile volatile const(".into());
    rw.replace_all(&R_STDCALL1, |_| " volatile volatile const ".into());
    rw.replace_all(&R_CDECL, |_| " ".into());
    preprocess_extern_python(&mut rw)?;
    rw.replace_all(&R_PARTIAL_ARRAY, |_| "[__dotdotdotarray__]".into());
    // "= ...," / "= ...}" and "...}" (only in enums) become numbered names,
    // numbered from the last one.
    let matches: Vec<Range<usize>> = R_PARTIAL_ENUM
        .find_iter(&rw.text)
        .map(|m| m.range())
        .collect();
    let edits = matches
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let number = matches.len() - 1 - i;
            if rw.text.as_bytes()[m.start] == b'=' {
                let dots = m.start
                    + rw.text[m.clone()]
                        .find("...")
                        .expect("the match holds '...'");
                (m.start..dots + 3, format!(",__dotdotdot{number}__ "))
            } else {
                (m.start..m.start + 3, format!(" __dotdotdot{number}__ "))
            }
        })
        .collect();
    rw.splice(edits);
    rw.replace_all(&R_INT_DOTDOTDOT, |_| " __dotdotdotint__ ".into());
    rw.replace_all(&R_FLOAT_DOTDOTDOT, |_| " __dotdotdotfloat__ ".into());
    rw.replace_all(&R_DOTDOTDOT, |_| " __dotdotdot__ ".into());
    // Put the line directives back.
    rw.replace_all(&R_LINE_DIRECTIVE, |c| {
        let s = &c[0];
        s.strip_prefix("#line@")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|i| line_directives.get(i).cloned())
            .unwrap_or_else(|| s.to_string())
    });
    Ok((rw, macros))
}

/// CFFI's `_preprocess_extern_python`: `extern "Python" int f(int);` and
/// `extern "Python" { ... }` become start/stop marker declarations.
fn preprocess_extern_python(rw: &mut Rewriting) -> Result<(), PreprocessError> {
    let csource = &rw.text;
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    // CFFI searches the rest of the text after each match; the rest starts
    // after a `}` or `;`, so `\b` sees the same thing here.
    let mut from = 0usize;
    while let Some(c) = R_EXTERN_PYTHON.captures_at(csource, from) {
        let whole = c.get(0).expect("group 0");
        // The last matched character (may be multi-byte).
        let last_len = whole.as_str().chars().next_back().map_or(1, char::len_utf8);
        let endpos = whole.end() - last_len;
        let start_marker = if c[1].contains('C') {
            "void __cffi_extern_python_plus_c_start; "
        } else {
            "void __cffi_extern_python_start; "
        };
        let stop_marker = " void __cffi_extern_python_stop;".to_string();
        if csource.as_bytes()[endpos] == b'{' {
            let Some(closing) = csource[endpos..].find('}').map(|i| i + endpos) else {
                return Err(PreprocessError {
                    message: "'extern \"Python\" {': no '}' found".into(),
                    offset: Some(whole.start()),
                });
            };
            if csource[endpos + 1..closing].contains('{') {
                return Err(PreprocessError {
                    message: "cannot use { } inside a block 'extern \"Python\" { ... }'".into(),
                    offset: Some(whole.start()),
                });
            }
            edits.push((whole.start()..endpos + 1, start_marker.into()));
            edits.push((closing..closing + 1, stop_marker));
            from = closing + 1;
        } else {
            let Some(semicolon) = csource[endpos..].find(';').map(|i| i + endpos) else {
                return Err(PreprocessError {
                    message: "'extern \"Python\": no ';' found".into(),
                    offset: Some(whole.start()),
                });
            };
            edits.push((whole.start()..endpos, start_marker.into()));
            edits.push((semicolon + 1..semicolon + 1, stop_marker));
            from = semicolon + 1;
        }
    }
    rw.splice(edits);
    Ok(())
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
            ";" if is_typedef => {
                used.remove(previous);
                look_for.remove(previous);
                is_typedef = false;
            }
            "typedef" => {
                is_typedef = true;
                paren = 0;
            }
            "(" => paren += 1,
            ")" => paren -= 1,
            "," if is_typedef && paren == 0 => {
                used.remove(previous);
                look_for.remove(previous);
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

    /// The original text from CFFI's position (`line`, `col`) on.
    fn from(text: &str, line: u32, col: u32) -> &str {
        &text[original_offset(text, line, col).unwrap()..]
    }

    #[test]
    fn positions_map_back_through_every_rewrite() {
        // Each position is the one CFFI 2.1.1 reports for `x` in that text.
        let cases = [
            ("int a;\n\n#define A 1\n#define B \\\n 2\nx y;", 4, 1),
            ("int a[...]; x y;", 1, 28),
            ("int a[\n...\n]; x y;", 1, 28),
            ("int __cdecl f(int); x y;", 1, 15),
            ("int (__stdcall *p)(int); x y;", 1, 41),
            ("typedef int... t; x y;", 1, 31),
            ("enum e { A=..., B, ... }; x y;", 1, 52),
            ("extern \"Python\" { int cb(int); } x y;", 1, 81),
            ("extern \"Python\" int cb(int); x y;", 1, 79),
            ("/* a\n b */ /* é */ x y;", 2, 4),
        ];
        for (text, line, col) in cases {
            assert_eq!(from(text, line, col), "x y;", "{text:?}");
        }
    }

    #[test]
    fn inserted_text_maps_to_what_it_replaced() {
        let text = "int a[...]; typedef int... t; int __stdcall f(void);";
        let p = preprocess(text).unwrap().csource;
        let col = |s: &str| p[..p.find(s).unwrap()].chars().count() as u32 + 1;
        assert_eq!(
            from(text, 1, col("__dotdotdotarray__")),
            "...]; typedef int... t; int __stdcall f(void);"
        );
        assert_eq!(
            from(text, 1, col("]")),
            "]; typedef int... t; int __stdcall f(void);"
        );
        assert_eq!(
            from(text, 1, col("__dotdotdotint__")),
            "... t; int __stdcall f(void);"
        );
        assert_eq!(from(text, 1, col("volatile")), "__stdcall f(void);");
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
