//! Expressions (array lengths, bit-field widths, enumerator values,
//! initializers): precedence climbing over pycparser's grammar.

use super::{ASSIGN_OPS, BINARY_PREC, CParser, ConstKind, Coord, Expr, PResult, T};
use crate::cdef::lexer::Tok;

impl<'a> CParser<'a> {
    fn expression(&mut self) -> PResult<Expr> {
        let e = self.assignment_expression()?;
        if self.peek_is(0, ",") {
            while self.accept(",")?.is_some() {
                self.assignment_expression()?;
            }
            return Ok(Expr::Other("ExprList", e.coord()));
        }
        Ok(e)
    }

    pub(super) fn assignment_expression(&mut self) -> PResult<Expr> {
        if self.peek_is(0, "(") && self.peek_is(1, "{") {
            let c = self.here().unwrap_or_default();
            self.advance()?;
            self.skip_compound()?;
            self.expect(")")?;
            return Ok(Expr::Other("Compound", c));
        }
        let e = self.conditional_expression()?;
        if self
            .peek(0)
            .is_some_and(|t| t.kind == Tok::Punct && ASSIGN_OPS.contains(&t.text.as_str()))
        {
            self.advance()?;
            self.assignment_expression()?;
            return Ok(Expr::Other("Assignment", e.coord()));
        }
        Ok(e)
    }

    pub(super) fn conditional_expression(&mut self) -> PResult<Expr> {
        let e = self.binary_expression(0, None)?;
        if self.accept("?")?.is_some() {
            self.expression()?;
            self.expect(":")?;
            self.conditional_expression()?;
            return Ok(Expr::Other("TernaryOp", e.coord()));
        }
        Ok(e)
    }

    fn binary_prec(&self) -> Option<(String, u8)> {
        let t = self.peek(0)?;
        if t.kind != Tok::Punct {
            return None;
        }
        BINARY_PREC
            .iter()
            .find(|(op, _)| *op == t.text)
            .map(|(op, p)| (op.to_string(), *p))
    }

    fn binary_expression(&mut self, min_prec: u8, lhs: Option<Expr>) -> PResult<Expr> {
        let mut lhs = match lhs {
            Some(l) => l,
            None => self.cast_expression()?,
        };
        while let Some((op, prec)) = self.binary_prec() {
            if prec < min_prec {
                break;
            }
            self.advance()?;
            let mut rhs = self.cast_expression()?;
            while let Some((_, next)) = self.binary_prec() {
                if next > prec {
                    rhs = self.binary_expression(next, Some(rhs))?;
                } else {
                    break;
                }
            }
            let c = lhs.coord();
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs), c);
        }
        Ok(lhs)
    }

    fn try_paren_type_name(&mut self) -> PResult<Option<(usize, Coord)>> {
        if !self.peek_is(0, "(") || !self.starts_declaration_at(1) {
            return Ok(None);
        }
        let mark = self.pos;
        let scopes = self.scopes.clone();
        let c = self.here().unwrap_or_default();
        self.advance()?;
        match self.type_name() {
            Ok(_) if self.peek_is(0, ")") => {
                self.advance()?;
                Ok(Some((mark, c)))
            }
            _ => {
                self.pos = mark;
                self.scopes = scopes;
                Ok(None)
            }
        }
    }

    fn cast_expression(&mut self) -> PResult<Expr> {
        self.nest()?;
        let r = self.cast_expression_in();
        self.depth -= 1;
        r
    }

    fn cast_expression_in(&mut self) -> PResult<Expr> {
        if let Some((mark, c)) = self.try_paren_type_name()? {
            if self.peek_is(0, "{") {
                self.pos = mark;
            } else {
                self.cast_expression()?;
                return Ok(Expr::Other("Cast", c));
            }
        }
        self.unary_expression()
    }

    fn unary_expression(&mut self) -> PResult<Expr> {
        let Some(t) = self.peek(0) else {
            return self.err("At end of input", None);
        };
        if t.kind == Tok::Punct && (t.text == "++" || t.text == "--") {
            self.advance()?;
            self.nest()?;
            let e = self.unary_expression();
            self.depth -= 1;
            let e = e?;
            let c = e.coord();
            return Ok(Expr::Unary(t.text.clone(), Box::new(e), c));
        }
        if t.kind == Tok::Punct && matches!(t.text.as_str(), "&" | "*" | "+" | "-" | "~" | "!") {
            self.advance()?;
            let e = self.cast_expression()?;
            let c = e.coord();
            return Ok(Expr::Unary(t.text.clone(), Box::new(e), c));
        }
        if t.is("sizeof") {
            self.advance()?;
            if self.try_paren_type_name()?.is_none() {
                self.nest()?;
                let e = self.unary_expression();
                self.depth -= 1;
                e?;
            }
            return Ok(Expr::Other("UnaryOp", Self::coord_of(t)));
        }
        if t.is("_Alignof") {
            self.advance()?;
            self.expect("(")?;
            self.type_name()?;
            self.expect(")")?;
            return Ok(Expr::Other("UnaryOp", Self::coord_of(t)));
        }
        self.postfix_expression()
    }

    fn postfix_expression(&mut self) -> PResult<Expr> {
        if let Some((mark, c)) = self.try_paren_type_name()? {
            if self.peek_is(0, "{") {
                self.skip_compound()?;
                return Ok(Expr::Other("CompoundLiteral", c));
            }
            self.pos = mark;
        }
        let mut e = self.primary_expression()?;
        loop {
            let c = e.coord();
            if self.accept("[")?.is_some() {
                self.expression()?;
                self.expect("]")?;
                e = Expr::Other("ArrayRef", c);
                continue;
            }
            if self.accept("(")?.is_some() {
                if self.accept(")")?.is_none() {
                    self.assignment_expression()?;
                    while self.accept(",")?.is_some() {
                        self.assignment_expression()?;
                    }
                    self.expect(")")?;
                }
                e = Expr::Other("FuncCall", c);
                continue;
            }
            if self.peek_is(0, ".") || self.peek_is(0, "->") {
                self.advance()?;
                let n = self.advance()?;
                if !matches!(self.class(n), T::Id | T::TypeId) {
                    return self.err("Invalid struct reference", Some(Self::coord_of(n)));
                }
                e = Expr::Other("StructRef", c);
                continue;
            }
            if self.peek_is(0, "++") || self.peek_is(0, "--") {
                self.advance()?;
                e = Expr::Other("UnaryOp", c);
                continue;
            }
            return Ok(e);
        }
    }

    fn primary_expression(&mut self) -> PResult<Expr> {
        let Some(t) = self.peek(0) else {
            return self.err("Invalid expression", None);
        };
        let c = Self::coord_of(t);
        match (self.class(t), t.kind) {
            (T::Id, _) => {
                self.advance()?;
                Ok(Expr::Id(t.text.clone(), c))
            }
            (T::Const, k) => {
                self.advance()?;
                let kind = match k {
                    Tok::IntConst => ConstKind::Int,
                    Tok::FloatConst => ConstKind::Float,
                    _ => ConstKind::Char,
                };
                Ok(Expr::Const {
                    kind,
                    text: t.text.clone(),
                    coord: c,
                })
            }
            (T::Str, _) => {
                self.advance()?;
                let mut text = t.text.clone();
                while self.peek_class(0) == Some(T::Str) {
                    let t2 = self.advance()?;
                    text.pop();
                    text.push_str(&t2.text[1..]);
                }
                Ok(Expr::Const {
                    kind: ConstKind::Str,
                    text,
                    coord: c,
                })
            }
            (T::Punct, _) if t.text == "(" => {
                self.advance()?;
                let e = self.expression()?;
                self.expect(")")?;
                Ok(e)
            }
            (T::Kw, _) if t.text == "offsetof" => {
                self.advance()?;
                self.expect("(")?;
                self.type_name()?;
                self.expect(",")?;
                self.skip_balanced_parens()?;
                Ok(Expr::Other("FuncCall", c))
            }
            _ => self.err("Invalid expression", Some(c)),
        }
    }
}
