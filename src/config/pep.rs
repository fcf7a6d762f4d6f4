//! Validators for the packaging standards `[project]` values must follow:
//! PEP 440 versions and specifiers, PEP 508 requirements and markers, PEP 503
//! names, and PEP 639 SPDX license expressions. Each returns the reason a
//! value is wrong; the caller adds the file, line and key.

use std::sync::OnceLock;

use regex::Regex;

use super::spdx_ids;

fn version_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // The PEP 440 grammar, as the specification states it.
        Regex::new(
            r"(?ix)^\s*v?
            (?:(?:[0-9]+)!)?
            [0-9]+(?:\.[0-9]+)*
            (?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?:[0-9]+)?)?
            (?:(?:-[0-9]+)|(?:[-_.]?(?:post|rev|r)[-_.]?(?:[0-9]+)?))?
            (?:[-_.]?dev[-_.]?(?:[0-9]+)?)?
            (?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?
            \s*$",
        )
        .expect("valid regex")
    })
}

/// Whether `v` is a valid PEP 440 version.
pub fn check_version(v: &str) -> Result<(), String> {
    if version_re().is_match(v) {
        Ok(())
    } else {
        Err(format!("`{v}` is not a valid PEP 440 version"))
    }
}

/// Whether `name` is a valid project name (PEP 508 / core metadata `Name`).
pub fn check_name(name: &str) -> Result<(), String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$").expect("valid regex")
    });
    if re.is_match(name) {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid project name (letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit)"
        ))
    }
}

/// The PEP 503 normalized form of a project name (`Foo.Bar_baz` → `foo-bar-baz`).
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

const OPERATORS: &[&str] = &["===", "~=", "==", "!=", "<=", ">=", "<", ">"];

/// Checks one version specifier (`>=3.9`, `==1.2.*`, `~=2.2`).
pub fn check_specifier(spec: &str) -> Result<(), String> {
    let spec = spec.trim();
    let Some(op) = OPERATORS.iter().find(|op| spec.starts_with(**op)) else {
        return Err(format!(
            "`{spec}` is not a version specifier (expected one of {} then a version)",
            OPERATORS.join(" ")
        ));
    };
    let version = spec[op.len()..].trim();
    if version.is_empty() {
        return Err(format!("`{spec}` lacks a version after `{op}`"));
    }
    match *op {
        "===" => {
            if version.chars().any(|c| c.is_whitespace() || c == ',' || c == ';') {
                return Err(format!("`{spec}`: invalid arbitrary-equality version"));
            }
            Ok(())
        }
        "==" | "!=" => {
            if let Some(prefix) = version.strip_suffix(".*") {
                if prefix.contains('+') {
                    return Err(format!("`{spec}`: a prefix match cannot have a local version"));
                }
                check_version(prefix).map_err(|e| format!("`{spec}`: {e}"))
            } else {
                check_version(version).map_err(|e| format!("`{spec}`: {e}"))
            }
        }
        _ => {
            check_version(version).map_err(|e| format!("`{spec}`: {e}"))?;
            if version.contains('+') {
                return Err(format!("`{spec}`: `{op}` cannot take a local version"));
            }
            if *op == "~=" {
                let release = version
                    .trim_start_matches(['v', 'V'])
                    .split('!')
                    .next_back()
                    .unwrap_or("");
                let segments = release
                    .split(|c: char| !c.is_ascii_digit() && c != '.')
                    .next()
                    .unwrap_or("")
                    .split('.')
                    .filter(|s| !s.is_empty())
                    .count();
                if segments < 2 {
                    return Err(format!(
                        "`{spec}`: `~=` needs a version with at least two release segments"
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Checks a comma-separated specifier set (`>=3.9, <4`).
pub fn check_specifier_set(set: &str) -> Result<(), String> {
    if set.trim().is_empty() {
        return Err("empty version specifier".into());
    }
    set.split(',').try_for_each(check_specifier)
}

/// The lowest `3.N` a `requires-python` specifier set admits, if it states one
/// (`>=3.10` → 10, `~=3.9` → 9, `==3.11.*` → 11).
pub fn min_python_minor(set: &str) -> Option<u32> {
    set.split(',')
        .filter_map(|spec| {
            let spec = spec.trim();
            let version = [">=", "~=", "==", ">"]
                .iter()
                .find_map(|op| spec.strip_prefix(op).map(|v| (*op, v.trim())))?;
            let mut parts = version.1.trim_end_matches(".*").split('.');
            let major: u32 = parts.next()?.parse().ok()?;
            let minor: u32 = parts.next().unwrap_or("0").parse().ok()?;
            if major != 3 {
                return None;
            }
            Some(if version.0 == ">" { minor } else { minor })
        })
        .max()
}

/// One parsed PEP 508 requirement (only what the backend needs to know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The distribution name as written.
    pub name: String,
}

const MARKER_VARS: &[&str] = &[
    "python_version",
    "python_full_version",
    "os_name",
    "sys_platform",
    "platform_release",
    "platform_system",
    "platform_version",
    "platform_machine",
    "platform_python_implementation",
    "implementation_name",
    "implementation_version",
    "extra",
    "extras",
    "dependency_groups",
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Op(String),
    LParen,
    RParen,
}

fn marker_tokens(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == '"' || c == '\'' {
            let end = chars[i + 1..]
                .iter()
                .position(|&d| d == c)
                .ok_or_else(|| format!("unterminated string in marker `{text}`"))?;
            out.push(Tok::Str(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if "<>=!~".contains(c) {
            let start = i;
            while i < chars.len() && "<>=!~".contains(chars[i]) {
                i += 1;
            }
            let op: String = chars[start..i].iter().collect();
            if !OPERATORS.contains(&op.as_str()) {
                return Err(format!("`{op}` is not a marker operator in `{text}`"));
            }
            out.push(Tok::Op(op));
        } else {
            return Err(format!("unexpected `{c}` in marker `{text}`"));
        }
    }
    Ok(out)
}

struct MarkerParser<'t> {
    toks: &'t [Tok],
    pos: usize,
    text: &'t str,
}

impl MarkerParser<'_> {
    fn peek_ident(&self, word: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Ident(w)) if w == word)
    }

    fn or(&mut self) -> Result<(), String> {
        self.and()?;
        while self.peek_ident("or") {
            self.pos += 1;
            self.and()?;
        }
        Ok(())
    }

    fn and(&mut self) -> Result<(), String> {
        self.expr()?;
        while self.peek_ident("and") {
            self.pos += 1;
            self.expr()?;
        }
        Ok(())
    }

    fn var(&mut self) -> Result<(), String> {
        match self.toks.get(self.pos) {
            Some(Tok::Str(_)) => {
                self.pos += 1;
                Ok(())
            }
            Some(Tok::Ident(name)) if MARKER_VARS.contains(&name.as_str()) => {
                self.pos += 1;
                Ok(())
            }
            Some(Tok::Ident(name)) => Err(format!(
                "`{name}` is not a marker variable in `{}` (expected a quoted string or one of: {})",
                self.text,
                MARKER_VARS.join(", ")
            )),
            _ => Err(format!(
                "expected a marker variable or string in `{}`",
                self.text
            )),
        }
    }

    fn expr(&mut self) -> Result<(), String> {
        if self.toks.get(self.pos) == Some(&Tok::LParen) {
            self.pos += 1;
            self.or()?;
            if self.toks.get(self.pos) != Some(&Tok::RParen) {
                return Err(format!("missing `)` in marker `{}`", self.text));
            }
            self.pos += 1;
            return Ok(());
        }
        self.var()?;
        match self.toks.get(self.pos) {
            Some(Tok::Op(_)) => self.pos += 1,
            Some(Tok::Ident(w)) if w == "in" => self.pos += 1,
            Some(Tok::Ident(w)) if w == "not" && self.toks.get(self.pos + 1) == Some(&Tok::Ident("in".into())) => {
                self.pos += 2
            }
            _ => {
                return Err(format!(
                    "expected a comparison operator in marker `{}`",
                    self.text
                ));
            }
        }
        self.var()
    }
}

/// Checks a PEP 508 environment marker.
pub fn check_marker(text: &str) -> Result<(), String> {
    let toks = marker_tokens(text)?;
    if toks.is_empty() {
        return Err("empty environment marker after `;`".into());
    }
    let mut p = MarkerParser {
        toks: &toks,
        pos: 0,
        text,
    };
    p.or()?;
    if p.pos != toks.len() {
        return Err(format!("unexpected text at the end of marker `{text}`"));
    }
    Ok(())
}

/// Parses and checks a PEP 508 dependency specifier.
pub fn parse_requirement(text: &str) -> Result<Requirement, String> {
    let s = text.trim();
    let name_len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(s.len());
    let name = &s[..name_len];
    if name.is_empty() {
        return Err(format!("`{text}` does not start with a distribution name"));
    }
    check_name(name).map_err(|e| format!("`{text}`: {e}"))?;
    let mut rest = s[name_len..].trim_start();
    if let Some(after) = rest.strip_prefix('[') {
        let end = after
            .find(']')
            .ok_or_else(|| format!("`{text}`: missing `]` after the extras"))?;
        for extra in after[..end].split(',') {
            let extra = extra.trim();
            if !extra.is_empty() || after[..end].contains(',') {
                check_name(extra).map_err(|_| format!("`{text}`: `{extra}` is not a valid extra name"))?;
            }
        }
        rest = after[end + 1..].trim_start();
    }
    let (spec_part, marker) = if let Some(url) = rest.strip_prefix('@') {
        let url = url.trim_start();
        let end = url.find(char::is_whitespace).unwrap_or(url.len());
        let (u, tail) = url.split_at(end);
        if !u.contains("://") && !u.starts_with("file:") {
            return Err(format!("`{text}`: `{u}` is not a URL"));
        }
        let tail = tail.trim_start();
        if tail.is_empty() {
            return Ok(Requirement { name: name.into() });
        }
        let Some(m) = tail.strip_prefix(';') else {
            return Err(format!("`{text}`: unexpected `{tail}` after the URL"));
        };
        ("", Some(m))
    } else {
        match rest.find(';') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        }
    };
    let spec = spec_part.trim();
    if !spec.is_empty() {
        let inner = match spec.strip_prefix('(') {
            Some(x) => x
                .strip_suffix(')')
                .ok_or_else(|| format!("`{text}`: missing `)`"))?,
            None => spec,
        };
        check_specifier_set(inner).map_err(|e| format!("`{text}`: {e}"))?;
    }
    if let Some(m) = marker {
        check_marker(m.trim()).map_err(|e| format!("`{text}`: {e}"))?;
    }
    Ok(Requirement { name: name.into() })
}

fn lookup(list: &'static [&'static str], id: &str) -> Option<&'static str> {
    let lower = id.to_ascii_lowercase();
    list.binary_search_by(|x| x.to_ascii_lowercase().cmp(&lower))
        .ok()
        .map(|i| list[i])
}

/// Checks a PEP 639 license expression and returns its canonical spelling
/// (identifiers as SPDX spells them, operators in capitals).
pub fn canonical_license_expression(expr: &str) -> Result<String, String> {
    let mut toks: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in expr.chars() {
        if c == '(' || c == ')' || c.is_whitespace() {
            if !cur.is_empty() {
                toks.push(std::mem::take(&mut cur));
            }
            if !c.is_whitespace() {
                toks.push(c.to_string());
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        toks.push(cur);
    }
    if toks.is_empty() {
        return Err("empty license expression".into());
    }
    let mut out = Vec::new();
    let mut pos = 0;
    spdx_or(&toks, &mut pos, &mut out, expr)?;
    if pos != toks.len() {
        return Err(format!(
            "unexpected `{}` in license expression `{expr}`",
            toks[pos]
        ));
    }
    // Join with spaces, but no space inside parentheses.
    let mut s = String::new();
    for t in out {
        if !(s.is_empty() || s.ends_with('(') || t == ")") {
            s.push(' ');
        }
        s.push_str(&t);
    }
    Ok(s)
}

fn is_op(t: &str, op: &str) -> bool {
    t.eq_ignore_ascii_case(op)
}

fn spdx_or(t: &[String], pos: &mut usize, out: &mut Vec<String>, e: &str) -> Result<(), String> {
    spdx_and(t, pos, out, e)?;
    while t.get(*pos).is_some_and(|x| is_op(x, "OR")) {
        out.push("OR".into());
        *pos += 1;
        spdx_and(t, pos, out, e)?;
    }
    Ok(())
}

fn spdx_and(t: &[String], pos: &mut usize, out: &mut Vec<String>, e: &str) -> Result<(), String> {
    spdx_with(t, pos, out, e)?;
    while t.get(*pos).is_some_and(|x| is_op(x, "AND")) {
        out.push("AND".into());
        *pos += 1;
        spdx_with(t, pos, out, e)?;
    }
    Ok(())
}

fn spdx_with(t: &[String], pos: &mut usize, out: &mut Vec<String>, e: &str) -> Result<(), String> {
    let Some(tok) = t.get(*pos) else {
        return Err(format!("license expression `{e}` ends where a license is expected"));
    };
    if tok == "(" {
        out.push("(".into());
        *pos += 1;
        spdx_or(t, pos, out, e)?;
        if t.get(*pos).map(String::as_str) != Some(")") {
            return Err(format!("missing `)` in license expression `{e}`"));
        }
        out.push(")".into());
        *pos += 1;
        return Ok(());
    }
    if ["AND", "OR", "WITH", ")"].iter().any(|op| is_op(tok, op)) {
        return Err(format!("expected a license before `{tok}` in `{e}`"));
    }
    *pos += 1;
    out.push(license_id(tok, e)?);
    if t.get(*pos).is_some_and(|x| is_op(x, "WITH")) {
        *pos += 1;
        let Some(exc) = t.get(*pos) else {
            return Err(format!("`WITH` needs an exception in `{e}`"));
        };
        *pos += 1;
        let canon = if exc.starts_with("AdditionRef-") {
            exc.clone()
        } else {
            lookup(spdx_ids::EXCEPTIONS, exc)
                .ok_or_else(|| format!("`{exc}` is not an SPDX license exception (in `{e}`)"))?
                .to_string()
        };
        out.push("WITH".into());
        out.push(canon);
    }
    Ok(())
}

fn license_id(tok: &str, e: &str) -> Result<String, String> {
    let valid_ref = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    if let Some(r) = tok.strip_prefix("LicenseRef-") {
        if valid_ref(r) {
            return Ok(tok.to_string());
        }
    }
    let (base, plus) = match tok.strip_suffix('+') {
        Some(b) => (b, "+"),
        None => (tok, ""),
    };
    match lookup(spdx_ids::LICENSES, base) {
        Some(id) => Ok(format!("{id}{plus}")),
        None => Err(format!(
            "`{tok}` is not an SPDX license identifier (in `{e}`; see https://spdx.org/licenses/)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["1", "1.0", "2!1.0.post1.dev3", "1.0rc1", "v1.0", "1.0+local.7", "1.0a"] {
            check_version(ok).unwrap();
        }
        for bad in ["", "1.0-foo", "one", "1..0", "1.0+"] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn specifiers() {
        check_specifier_set(">=3.9, <4").unwrap();
        check_specifier_set("==1.2.*").unwrap();
        check_specifier_set("~=2.2").unwrap();
        assert!(check_specifier_set("~=2").is_err());
        assert!(check_specifier_set(">=3.9.*").is_err());
        assert!(check_specifier_set("3.9").is_err());
        assert!(check_specifier_set(">=").is_err());
        assert!(check_specifier_set(">1.0+local").is_err());
    }

    #[test]
    fn min_python() {
        assert_eq!(min_python_minor(">=3.10"), Some(10));
        assert_eq!(min_python_minor(">=3.8, <4"), Some(8));
        assert_eq!(min_python_minor("<4"), None);
    }

    #[test]
    fn requirements() {
        for ok in [
            "cffi",
            "cffi>=1.17",
            "requests[security, socks] (>=2.8.1, ==2.8.*) ; python_version < \"2.7\"",
            "name @ https://example.com/x.whl ; os_name == 'posix'",
            "pywin32 >1.0; sys_platform == 'win32' and (extra == 'x' or extra not in 'y')",
        ] {
            parse_requirement(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            ">=1.0",
            "foo >= bar",
            "foo; python_versio < '3'",
            "foo; python_version <",
            "foo[bar",
            "foo @ notaurl",
            "foo ~ 1",
        ] {
            assert!(parse_requirement(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(normalize_name("Foo.Bar__baz"), "foo-bar-baz");
        check_name("a").unwrap();
        assert!(check_name("-a").is_err());
        assert!(check_name("a b").is_err());
    }

    #[test]
    fn license_expressions() {
        assert_eq!(canonical_license_expression("mit").unwrap(), "MIT");
        assert_eq!(
            canonical_license_expression("(mit or apache-2.0) and gpl-2.0-or-later with classpath-exception-2.0")
                .unwrap(),
            "(MIT OR Apache-2.0) AND GPL-2.0-or-later WITH Classpath-exception-2.0"
        );
        assert_eq!(
            canonical_license_expression("LicenseRef-Proprietary").unwrap(),
            "LicenseRef-Proprietary"
        );
        for bad in ["", "MIT-ish", "MIT OR", "(MIT", "MIT WITH Nope", "AND MIT"] {
            assert!(canonical_license_expression(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn spdx_lists_are_sorted_for_binary_search() {
        for list in [spdx_ids::LICENSES, spdx_ids::EXCEPTIONS] {
            assert!(list.windows(2).all(|w| w[0].to_ascii_lowercase() < w[1].to_ascii_lowercase()));
        }
    }
}
