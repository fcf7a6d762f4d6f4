//! Tokens of C as the cdef parser sees them (the rules of pycparser's lexer,
//! which CFFI uses): identifiers, keywords, constants, string literals,
//! punctuators, `#line` / `# N "file"` directives and `#pragma` lines.
//!
//! Whether an identifier is a type name is decided by the parser when it
//! looks at the token, not here.

use std::sync::LazyLock;

use regex::Regex;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tok {
    /// An identifier (a typedef name or not).
    Ident,
    /// A keyword; the text says which.
    Keyword,
    /// An integer constant.
    IntConst,
    /// A floating constant.
    FloatConst,
    /// A character constant.
    CharConst,
    /// A string literal.
    StringLit,
    /// A punctuator (`(`, `...`, `<<=`); the text says which.
    Punct,
    /// A `#pragma` line (text: the rest of the line).
    Pragma,
    /// A `#` that starts another directive (`#include`...).
    Hash,
}

/// One token with its position (1-based line and column, in the file named
/// by the latest `#line` directive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// Its text.
    pub text: String,
    /// Line.
    pub line: u32,
    /// Column.
    pub col: u32,
    /// Index of the file name in [`Lexed::files`].
    pub file: u16,
}

impl Token {
    /// True if this is the punctuator or keyword `s`.
    pub fn is(&self, s: &str) -> bool {
        matches!(self.kind, Tok::Punct | Tok::Keyword) && self.text == s
    }
}

/// A lexing error at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// The message (pycparser's wording).
    pub message: String,
    /// Line.
    pub line: u32,
    /// Column.
    pub col: u32,
    /// Index of the file name in [`Lexed::files`].
    pub file: u16,
}

/// The tokens of a source text.
#[derive(Debug, Clone, Default)]
pub struct Lexed {
    /// The tokens.
    pub tokens: Vec<Token>,
    /// File names: index 0 is the initial name, later ones come from `#line`.
    pub files: Vec<String>,
}

const KEYWORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "offsetof",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "__int128",
    "_Bool",
    "_Complex",
    "_Noreturn",
    "_Thread_local",
    "_Static_assert",
    "_Atomic",
    "_Alignof",
    "_Alignas",
    "_Pragma",
];

static KEYWORD_SET: LazyLock<rustc_hash::FxHashSet<&'static str>> =
    LazyLock::new(|| KEYWORDS.iter().copied().collect());

/// Whether `word` is a C keyword for the parser.
pub fn is_keyword(word: &str) -> bool {
    KEYWORD_SET.contains(word)
}

const PUNCTS: &[&str] = &[
    "...", "<<=", ">>=", "++", "--", "->", "&&", "||", "<<", ">>", "<=", ">=", "==", "!=", "*=",
    "/=", "%=", "+=", "-=", "&=", "|=", "^=", "=", "+", "-", "*", "/", "%", "|", "&", "~", "^",
    "!", "<", ">", "?", "(", ")", "[", "]", "{", "}", ",", ".", ";", ":",
];

/// The longest punctuator `rest` starts with (what a search of [`PUNCTS`]
/// in order finds), by the first bytes instead of up to 46 comparisons.
fn punct_at(rest: &[u8]) -> Option<&'static str> {
    let b1 = rest.get(1).copied().unwrap_or(0);
    let b2 = rest.get(2).copied().unwrap_or(0);
    let p = match (rest.first()?, b1) {
        (b'.', b'.') if b2 == b'.' => "...",
        (b'<', b'<') if b2 == b'=' => "<<=",
        (b'>', b'>') if b2 == b'=' => ">>=",
        (b'+', b'+') => "++",
        (b'-', b'-') => "--",
        (b'-', b'>') => "->",
        (b'&', b'&') => "&&",
        (b'|', b'|') => "||",
        (b'<', b'<') => "<<",
        (b'>', b'>') => ">>",
        (b'<', b'=') => "<=",
        (b'>', b'=') => ">=",
        (b'=', b'=') => "==",
        (b'!', b'=') => "!=",
        (b'*', b'=') => "*=",
        (b'/', b'=') => "/=",
        (b'%', b'=') => "%=",
        (b'+', b'=') => "+=",
        (b'-', b'=') => "-=",
        (b'&', b'=') => "&=",
        (b'|', b'=') => "|=",
        (b'^', b'=') => "^=",
        (c, _) => {
            let i = PUNCTS
                .iter()
                .position(|p| p.len() == 1 && p.as_bytes()[0] == *c)?;
            PUNCTS[i]
        }
    };
    Some(p)
}

/// The token rules, tried in pycparser's order (the first that matches wins;
/// a punctuator wins only when longer).
static R_MASTER: LazyLock<Regex> = LazyLock::new(|| {
    let suffix = r"(?:[uU]ll|[uU]LL|ll[uU]?|LL[uU]?|[uU][lL]|[lL][uU]?|[uU])?";
    let escape = r#"(?:\\(?:x[0-9a-fA-F]+|[0-9]+|[a-zA-Z._~!=&\^\-\\?'"]))"#;
    let cchar = format!(r"(?:[^'\\\n]|{escape})");
    let schar = r#"(?:[^"\\\n]|\\[0-9a-zA-Z._~!=&\^\-\\?'"])"#;
    let bad_escape = r#"(?:\\[^a-zA-Z._~^!=&\^\-\\?'"x0-9])"#;
    let exponent = r"(?:[eE][-+]?[0-9]+)";
    let fractional = r"(?:[0-9]*\.[0-9]+|[0-9]+\.)";
    let hexd = "[0-9a-fA-F]+";
    let rules: Vec<(&str, String)> = vec![
        ("cmt", r"/\*|//".to_string()),
        ("badstr", format!(r#""{schar}*{bad_escape}{schar}*""#)),
        ("str", format!(r#"(?:L|u8|u|U)?"{schar}*""#)),
        (
            "hexfloat",
            format!(r"0[xX](?:{hexd}|(?:(?:{hexd})?\.{hexd}|{hexd}\.))[pP][+-]?[0-9]+[FfLl]?"),
        ),
        (
            "float",
            format!(r"(?:(?:{fractional}){exponent}?|[0-9]+{exponent})[FfLl]?"),
        ),
        ("hex", format!(r"0[xX]{hexd}{suffix}")),
        ("bin", format!(r"0[bB][01]+{suffix}")),
        ("badoct", r"0[0-7]*[89]".to_string()),
        ("oct", format!(r"0[0-7]*{suffix}")),
        ("dec", format!(r"(?:[1-9][0-9]*{suffix})")),
        ("multichar", format!(r"'{cchar}{{2,4}}'")),
        ("char", format!(r"(?:L|u8|u|U)?'{cchar}'")),
        ("unmatched", format!(r"'{cchar}*(?:\n|$)")),
        (
            "badchar",
            format!(r"'{cchar}[^'\n]+'|''|'{bad_escape}[^'\n]*'"),
        ),
        ("id", r"[a-zA-Z_$][0-9a-zA-Z_$]*".to_string()),
    ];
    let alt: Vec<String> = rules.iter().map(|(n, p)| format!("(?P<{n}>{p})")).collect();
    Regex::new(&format!("^(?:{})", alt.join("|"))).expect("valid token regex")
});

static R_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[ \t]*line\W|[ \t]*\d+)").expect("regex"));
static R_PRAGMA: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[ \t]*pragma\W").expect("regex"));
static R_STRING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^"(?:[^"\\\n]|\\[0-9a-zA-Z._~!=&\^\-\\?'"])*""#).expect("regex")
});
static R_DECIMAL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]+").expect("regex"));

/// Splits `text` into tokens. `filename` names the text until a `#line`
/// directive renames it.
pub fn lex(text: &str, filename: &str) -> Result<Lexed, LexError> {
    let mut out = Lexed {
        // A token per five bytes or so of C: one allocation for most texts.
        tokens: Vec::with_capacity(text.len() / 5),
        files: vec![filename.to_string()],
    };
    let bytes = text.as_bytes();
    let mut pos = 0usize;
    let mut line: u32 = 1;
    // Where the line starts, moved forward past the extra bytes of non-ASCII
    // literals (see `multibyte_excess`): `pos - line_start + 1` is the
    // character column.
    let mut line_start = 0usize;
    let mut file: u16 = 0;
    let err = |msg: String, line: u32, col: usize, file: u16| LexError {
        message: msg,
        line,
        col: col as u32,
        file,
    };
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' => pos += 1,
            b'\n' => {
                line += 1;
                pos += 1;
                line_start = pos;
            }
            b'#' => {
                let rest = &text[pos + 1..];
                let line_end = text[pos..].find('\n').map_or(text.len(), |i| i + pos);
                if R_LINE.is_match(rest) {
                    // `#line N "file"` or `# N "file" flags...`
                    let mut l = text[pos + 1..line_end].trim_start_matches([' ', '\t']);
                    if let Some(s) = l.strip_prefix("line") {
                        l = s;
                    }
                    l = l.trim_start_matches([' ', '\t']);
                    let Some(m) = R_DECIMAL.find(l) else {
                        let msg = if l.is_empty() {
                            "line number missing in #line"
                        } else if l.starts_with('"') {
                            "filename before line number in #line"
                        } else {
                            "invalid #line directive"
                        };
                        return Err(err(msg.into(), line, pos - line_start + 1, file));
                    };
                    let number: u32 = m.as_str().parse().unwrap_or(u32::MAX);
                    let after = l[m.end()..].trim_start_matches([' ', '\t']);
                    if !after.is_empty() {
                        let Some(fm) = R_STRING.find(after) else {
                            return Err(err(
                                "invalid #line directive".into(),
                                line,
                                pos - line_start + 1,
                                file,
                            ));
                        };
                        let name = fm.as_str().trim_matches('"').to_string();
                        let tail = after[fm.end()..].trim_matches([' ', '\t']);
                        if !tail
                            .split([' ', '\t'])
                            .filter(|s| !s.is_empty())
                            .all(|s| s.bytes().all(|b| b.is_ascii_digit()))
                        {
                            return Err(err(
                                "invalid #line directive".into(),
                                line,
                                pos - line_start + 1,
                                file,
                            ));
                        }
                        file = match out.files.iter().position(|f| *f == name) {
                            Some(i) => i as u16,
                            None => {
                                out.files.push(name);
                                (out.files.len() - 1) as u16
                            }
                        };
                    }
                    line = number;
                    pos = line_end + 1;
                    line_start = pos;
                    continue;
                }
                if R_PRAGMA.is_match(rest) {
                    let start = pos;
                    out.tokens.push(Token {
                        kind: Tok::Pragma,
                        text: text[pos + 1..line_end].trim().to_string(),
                        line,
                        col: (start - line_start + 1) as u32,
                        file,
                    });
                    pos = line_end;
                    continue;
                }
                out.tokens.push(Token {
                    kind: Tok::Hash,
                    text: "#".into(),
                    line,
                    col: (pos - line_start + 1) as u32,
                    file,
                });
                pos += 1;
            }
            b if b.is_ascii_alphabetic() || b == b'_' || b == b'$' => {
                // Fast path: identifiers and keywords (most tokens), unless a
                // literal prefix (L'x', u8"s") follows.
                let mut end = pos + 1;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric()
                        || bytes[end] == b'_'
                        || bytes[end] == b'$')
                {
                    end += 1;
                }
                let word = &text[pos..end];
                let quote_follows =
                    end < bytes.len() && (bytes[end] == b'\'' || bytes[end] == b'"');
                if quote_follows && matches!(word, "L" | "u8" | "u" | "U") {
                    let start = pos;
                    pos = lex_slow(text, pos, line, line_start, file, &mut out)?;
                    line_start += multibyte_excess(&text[start..pos]);
                    continue;
                }
                out.tokens.push(Token {
                    kind: if is_keyword(word) {
                        Tok::Keyword
                    } else {
                        Tok::Ident
                    },
                    text: word.to_string(),
                    line,
                    col: (pos - line_start + 1) as u32,
                    file,
                });
                pos = end;
            }
            b if !b.is_ascii_digit()
                && b != b'.'
                && b != b'\''
                && b != b'"'
                && b != b'/'
                && b.is_ascii() =>
            {
                // Punctuators (longest first).
                let rest = &text[pos..];
                let Some(p) = punct_at(rest.as_bytes()) else {
                    let ch = rest.chars().next().expect("not at end");
                    return Err(err(
                        format!("Illegal character {}", py_repr(ch)),
                        line,
                        pos - line_start + 1,
                        file,
                    ));
                };
                out.tokens.push(Token {
                    kind: Tok::Punct,
                    text: p.to_string(),
                    line,
                    col: (pos - line_start + 1) as u32,
                    file,
                });
                pos += p.len();
            }
            b if b.is_ascii_digit() && simple_integer_len(&bytes[pos..]) > 0 => {
                // Fast path: a plain decimal integer (`42`, `0`), which the
                // token rules can only read as `dec` or `oct`.
                let end = pos + simple_integer_len(&bytes[pos..]);
                out.tokens.push(Token {
                    kind: Tok::IntConst,
                    text: text[pos..end].to_string(),
                    line,
                    col: (pos - line_start + 1) as u32,
                    file,
                });
                pos = end;
            }
            _ => {
                let start = pos;
                pos = lex_slow(text, pos, line, line_start, file, &mut out)?;
                line_start += multibyte_excess(&text[start..pos]);
            }
        }
    }
    Ok(out)
}

/// `repr(ch)` as Python writes it (pycparser's "Illegal character %r"):
/// `'\ufeff'`, `'\x01'`, `"'"`, not Rust's `'\u{feff}'`.
fn py_repr(ch: char) -> String {
    match ch {
        '\'' => return "\"'\"".into(),
        '"' => return "'\"'".into(),
        '\\' => return "'\\\\'".into(),
        '\t' => return "'\\t'".into(),
        '\n' => return "'\\n'".into(),
        '\r' => return "'\\r'".into(),
        _ => {}
    }
    // Rust's escapes follow the same idea of "printable" as Python's
    // `str.isprintable()`; after a letter, a combining mark is printed.
    let plain: String = ['a', ch].iter().collect();
    if plain.escape_debug().to_string() == plain {
        return format!("'{ch}'");
    }
    match ch as u32 {
        n @ 0..=0xff => format!("'\\x{n:02x}'"),
        n @ 0x100..=0xffff => format!("'\\u{n:04x}'"),
        n => format!("'\\U{n:08x}'"),
    }
}

/// How many more bytes than characters `token` has. Columns count
/// characters, as pycparser's do (they index a Python `str`); only string
/// and character literals can hold non-ASCII text (a non-ASCII character
/// anywhere else is an illegal character, an error at its own column), so
/// after such a literal `line_start` moves forward by this much and every
/// later `pos - line_start + 1` on the line is a character column.
fn multibyte_excess(token: &str) -> usize {
    if token.is_ascii() {
        0
    } else {
        token.len() - token.chars().count()
    }
}

/// The length of the decimal integer at the start of `bytes` when nothing
/// after it could make it another token (a suffix, a float, `0x`, `08`),
/// else 0.
fn simple_integer_len(bytes: &[u8]) -> usize {
    let n = if bytes[0] == b'0' {
        1
    } else {
        bytes.iter().take_while(|b| b.is_ascii_digit()).count()
    };
    match bytes.get(n) {
        Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$' | b'\'' | b'"') => 0,
        _ => n,
    }
}

/// One token by pycparser's full rules (constants, literals, comments).
fn lex_slow(
    text: &str,
    pos: usize,
    line: u32,
    line_start: usize,
    file: u16,
    out: &mut Lexed,
) -> Result<usize, LexError> {
    let err = |msg: String, line: u32, col: usize, file: u16| LexError {
        message: msg,
        line,
        col: col as u32,
        file,
    };
    let rest = &text[pos..];
    let col = pos - line_start + 1;
    let mut best: Option<(usize, Tok, &str)> = None;
    if let Some(c) = R_MASTER.captures(rest) {
        let m = c.get(0).expect("group 0");
        let group = [
            "cmt",
            "badstr",
            "str",
            "hexfloat",
            "float",
            "hex",
            "bin",
            "badoct",
            "oct",
            "dec",
            "multichar",
            "char",
            "unmatched",
            "badchar",
            "id",
        ]
        .into_iter()
        .find(|g| c.name(g).is_some())
        .expect("one group matched");
        let kind = match group {
            "cmt" => {
                return Err(err("Comments are not supported".into(), line, col, file));
            }
            "badstr" => {
                return Err(err(
                    "String contains invalid escape code".into(),
                    line,
                    col,
                    file,
                ));
            }
            "badoct" => {
                return Err(err("Invalid octal constant".into(), line, col, file));
            }
            "unmatched" => return Err(err("Unmatched '".into(), line, col, file)),
            "badchar" => {
                return Err(err(
                    format!("Invalid char constant {}", m.as_str()),
                    line,
                    col,
                    file,
                ));
            }
            "str" => Tok::StringLit,
            "hexfloat" | "float" => Tok::FloatConst,
            "hex" | "bin" | "oct" | "dec" | "multichar" => Tok::IntConst,
            "char" => Tok::CharConst,
            _ => {
                if is_keyword(m.as_str()) {
                    Tok::Keyword
                } else {
                    Tok::Ident
                }
            }
        };
        best = Some((m.len(), kind, m.as_str()));
    }
    if let Some(p) = punct_at(rest.as_bytes())
        && best.is_none_or(|(len, _, _)| p.len() > len)
    {
        best = Some((p.len(), Tok::Punct, p));
    }
    let Some((len, kind, s)) = best else {
        let ch = rest.chars().next().expect("not at end");
        return Err(err(
            format!("Illegal character {}", py_repr(ch)),
            line,
            col,
            file,
        ));
    };
    out.tokens.push(Token {
        kind,
        text: s.to_string(),
        line,
        col: col as u32,
        file,
    });
    Ok(pos + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn illegal_characters_are_written_as_python_writes_them() {
        // repr() in CPython 3.11 of each character.
        let cases = [
            ('\u{feff}', r"'\ufeff'"),
            ('\u{1}', r"'\x01'"),
            ('\u{7f}', r"'\x7f'"),
            ('\u{a0}', r"'\xa0'"),
            ('\u{200b}', r"'\u200b'"),
            ('\u{e0001}', r"'\U000e0001'"),
            ('\u{301}', "'\u{301}'"),
            ('😀', "'😀'"),
            ('é', "'é'"),
            ('@', "'@'"),
            ('\'', r#""'""#),
            ('"', r#"'"'"#),
            ('\\', r"'\\'"),
            ('\r', r"'\r'"),
        ];
        for (ch, want) in cases {
            assert_eq!(py_repr(ch), want, "{ch:?}");
        }
    }

    fn kinds(s: &str) -> Vec<(Tok, String)> {
        lex(s, "<t>")
            .unwrap()
            .tokens
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn constants_and_punctuators() {
        assert_eq!(
            kinds("x<<=0x1FUL+.5e3-'a'"),
            vec![
                (Tok::Ident, "x".into()),
                (Tok::Punct, "<<=".into()),
                (Tok::IntConst, "0x1FUL".into()),
                (Tok::Punct, "+".into()),
                (Tok::FloatConst, ".5e3".into()),
                (Tok::Punct, "-".into()),
                (Tok::CharConst, "'a'".into()),
            ]
        );
    }

    #[test]
    fn line_directives_rename_and_renumber() {
        let l = lex("# 10 \"foo.h\"\nint\n#line 3\nx", "<t>").unwrap();
        assert_eq!(l.tokens[0].line, 10);
        assert_eq!(l.files[l.tokens[0].file as usize], "foo.h");
        assert_eq!(l.tokens[1].line, 3);
    }

    #[test]
    fn integers_take_the_fast_path_only_when_plain() {
        for src in [
            "42", "0", "7)", "0;", "12 ", "123u", "1.5", "0x1f", "017", "08", "1e3", "12L",
            "0b101", "9$",
        ] {
            let fast = lex(src, "<t>").map(|l| {
                l.tokens
                    .into_iter()
                    .map(|t| (t.kind, t.text))
                    .collect::<Vec<_>>()
            });
            let mut slow = Lexed {
                tokens: Vec::new(),
                files: vec!["<t>".into()],
            };
            let mut pos = 0;
            let mut ok = true;
            while pos < src.len() && !src[pos..].starts_with([' ', ')', ';']) {
                match lex_slow(src, pos, 1, 0, 0, &mut slow) {
                    Ok(p) => pos = p,
                    Err(_) => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                let fast = fast.expect("lexes");
                assert_eq!(
                    fast[0],
                    (slow.tokens[0].kind, slow.tokens[0].text.clone()),
                    "{src}"
                );
            } else {
                assert!(fast.is_err(), "{src}");
            }
        }
    }

    #[test]
    fn punctuators_by_bytes_match_the_ordered_search() {
        let chars = "<>=+-*/%&|^!~?()[]{},.;:x";
        for a in chars.chars() {
            for b in chars.chars() {
                for c in chars.chars() {
                    let s = format!("{a}{b}{c}");
                    let want = PUNCTS.iter().find(|p| s.starts_with(**p)).copied();
                    assert_eq!(punct_at(s.as_bytes()), want, "{s}");
                    let s2 = format!("{a}{b}");
                    let want = PUNCTS.iter().find(|p| s2.starts_with(**p)).copied();
                    assert_eq!(punct_at(s2.as_bytes()), want, "{s2}");
                }
            }
        }
    }

    #[test]
    fn bad_octal_is_an_error() {
        assert!(lex("int a[08];", "<t>").is_err());
    }
}
