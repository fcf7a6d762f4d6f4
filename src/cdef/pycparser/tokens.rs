//! The parser's footing: the scopes of typedef names (which change the
//! parse, as in pycparser), token lookahead, errors and the nesting bound.

use super::{
    CParser, Coord, FUNCSPEC, MAX_NESTING, PResult, ParseError, QUALS, SIMPLE_TYPES, STORAGE, T,
};
use crate::cdef::lexer::{Tok, Token};
use rustc_hash::FxHashMap as HashMap;

impl<'a> CParser<'a> {
    // ---- scopes -------------------------------------------------------

    pub(super) fn is_type(&self, name: &str) -> bool {
        for s in self.scopes.iter().rev() {
            if let Some(&b) = s.get(name) {
                return b;
            }
        }
        false
    }

    pub(super) fn add_typedef_name(&mut self, name: &str, coord: Coord) -> PResult<()> {
        let top = self.scopes.last_mut().expect("a scope");
        if top.get(name) == Some(&false) {
            return Err(ParseError {
                message: format!(
                    "Typedef {name:?} previously declared as non-typedef in this scope"
                )
                .replace('"', "'"),
                coord: Some(coord),
            });
        }
        top.insert(name.to_string(), true);
        Ok(())
    }

    pub(super) fn add_identifier(&mut self, name: &str, coord: Coord) -> PResult<()> {
        let top = self.scopes.last_mut().expect("a scope");
        if top.get(name) == Some(&true) {
            return Err(ParseError {
                message: format!(
                    "Non-typedef {name:?} previously declared as typedef in this scope"
                )
                .replace('"', "'"),
                coord: Some(coord),
            });
        }
        top.insert(name.to_string(), false);
        Ok(())
    }

    // ---- tokens -------------------------------------------------------

    pub(super) fn class(&self, t: &Token) -> T {
        match t.kind {
            Tok::Ident => {
                if self.is_type(&t.text) {
                    T::TypeId
                } else {
                    T::Id
                }
            }
            Tok::Keyword => T::Kw,
            Tok::IntConst | Tok::FloatConst | Tok::CharConst => T::Const,
            Tok::StringLit => T::Str,
            Tok::Punct => T::Punct,
            Tok::Pragma => T::Pragma,
            Tok::Hash => T::Hash,
        }
    }

    pub(super) fn peek(&self, k: usize) -> Option<&'a Token> {
        self.toks.get(self.pos + k)
    }

    /// When the next tokens read `name name` or `name *`, with `name` no
    /// type: the usual cause is a type the cdef never declared, and the
    /// parser's own wording ("Invalid declaration") does not say so.
    pub(super) fn unknown_type_hint(&self) -> Option<String> {
        let t = self.peek(0)?;
        if self.class(t) != T::Id {
            return None;
        }
        let next = self.peek(1)?;
        let looks_declared = matches!(self.class(next), T::Id | T::TypeId) || next.text == "*";
        looks_declared.then(|| {
            format!(
                "unknown type name '{0}' (declare it first, e.g. 'typedef ... {0};', 'typedef int... {0};' or 'typedef struct {{ ...; }} {0};')",
                t.text
            )
        })
    }

    pub(super) fn peek_class(&self, k: usize) -> Option<T> {
        self.peek(k).map(|t| self.class(t))
    }

    pub(super) fn peek_is(&self, k: usize, s: &str) -> bool {
        self.peek(k).is_some_and(|t| t.is(s))
    }

    pub(super) fn coord_of(t: &Token) -> Coord {
        Coord {
            line: t.line,
            col: t.col,
            file: t.file,
        }
    }

    pub(super) fn here(&self) -> Option<Coord> {
        self.peek(0).map(Self::coord_of)
    }

    pub(super) fn advance(&mut self) -> PResult<&'a Token> {
        let Some(t) = self.toks.get(self.pos) else {
            return Err(ParseError {
                message: "At end of input".into(),
                coord: None,
            });
        };
        self.pos += 1;
        match t.text.as_str() {
            "{" if t.kind == Tok::Punct => self.scopes.push(HashMap::default()),
            "}" if t.kind == Tok::Punct && self.scopes.len() > 1 => {
                self.scopes.pop();
            }
            _ => {}
        }
        Ok(t)
    }

    pub(super) fn accept(&mut self, s: &str) -> PResult<Option<&'a Token>> {
        if self.peek_is(0, s) {
            Ok(Some(self.advance()?))
        } else {
            Ok(None)
        }
    }

    pub(super) fn expect(&mut self, s: &str) -> PResult<&'a Token> {
        let t = self.advance()?;
        if !t.is(s) {
            return Err(Self::before(t));
        }
        Ok(t)
    }

    pub(super) fn expect_class(&mut self, c: T) -> PResult<&'a Token> {
        let t = self.advance()?;
        if self.class(t) != c {
            return Err(Self::before(t));
        }
        Ok(t)
    }

    fn before(t: &Token) -> ParseError {
        ParseError {
            message: format!("before: {}", t.text),
            coord: Some(Self::coord_of(t)),
        }
    }

    pub(super) fn err<X>(&self, msg: &str, coord: Option<Coord>) -> PResult<X> {
        Err(ParseError {
            message: msg.to_string(),
            coord,
        })
    }

    /// One level deeper into a recursive rule; an error past [`MAX_NESTING`].
    pub(super) fn nest(&mut self) -> PResult<()> {
        if self.depth >= MAX_NESTING {
            return self.err(
                &format!("nesting deeper than {MAX_NESTING} levels is not supported"),
                self.here(),
            );
        }
        self.depth += 1;
        Ok(())
    }

    pub(super) fn new_id(&mut self) -> usize {
        self.next_id += 1;
        self.next_id
    }

    pub(super) fn kw_in(t: Option<&Token>, set: &[&str]) -> bool {
        t.is_some_and(|t| t.kind == Tok::Keyword && set.contains(&t.text.as_str()))
    }

    pub(super) fn starts_declaration_at(&self, k: usize) -> bool {
        let Some(t) = self.peek(k) else { return false };
        match self.class(t) {
            T::TypeId => true,
            T::Kw => {
                let w = t.text.as_str();
                STORAGE.contains(&w)
                    || FUNCSPEC.contains(&w)
                    || QUALS.contains(&w)
                    || SIMPLE_TYPES.contains(&w)
                    || matches!(w, "struct" | "union" | "enum" | "_Alignas")
            }
            _ => false,
        }
    }

    pub(super) fn starts_declaration(&self) -> bool {
        self.starts_declaration_at(0)
    }

    pub(super) fn starts_expression(&self) -> bool {
        let Some(t) = self.peek(0) else { return false };
        match self.class(t) {
            T::Id | T::Const | T::Str => true,
            T::Punct => matches!(
                t.text.as_str(),
                "(" | "++" | "--" | "+" | "-" | "*" | "&" | "~" | "!"
            ),
            T::Kw => matches!(t.text.as_str(), "sizeof" | "_Alignof" | "offsetof"),
            _ => false,
        }
    }

    pub(super) fn starts_declarator(&self, id_only: bool) -> bool {
        if self.peek_is(0, "*") || self.peek_is(0, "(") {
            return true;
        }
        match self.peek_class(0) {
            Some(T::Id) => true,
            Some(T::TypeId) => !id_only,
            _ => false,
        }
    }

    /// pycparser's `_scan_declarator_name_info` (without consuming).
    pub(super) fn peek_declarator_name_info(&mut self) -> (Option<T>, bool) {
        let mark = self.pos;
        let scopes = self.scopes.len();
        let r = self.scan_declarator_name_info();
        self.pos = mark;
        self.scopes.truncate(scopes.max(1));
        while self.scopes.len() < scopes {
            self.scopes.push(HashMap::default());
        }
        r
    }

    fn scan_declarator_name_info(&mut self) -> (Option<T>, bool) {
        let mut saw_paren = false;
        while self.peek_is(0, "*") {
            self.pos += 1;
            while Self::kw_in(self.peek(0), QUALS) {
                self.pos += 1;
            }
        }
        let Some(t) = self.peek(0) else {
            return (None, saw_paren);
        };
        let c = self.class(t);
        if matches!(c, T::Id | T::TypeId) {
            self.pos += 1;
            return (Some(c), saw_paren);
        }
        if t.is("(") {
            saw_paren = true;
            self.pos += 1;
            let (tt, nested) = self.scan_declarator_name_info();
            if nested {
                saw_paren = true;
            }
            let mut depth = 1;
            loop {
                let Some(t) = self.peek(0) else {
                    return (None, saw_paren);
                };
                self.pos += 1;
                if t.is("(") {
                    depth += 1;
                } else if t.is(")") {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            return (tt, saw_paren);
        }
        (None, saw_paren)
    }
}
