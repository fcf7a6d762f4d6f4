//! Struct, union and enum specifiers: their member and enumerator lists,
//! each node shared between the declarators of its declaration.

use std::rc::Rc;

use super::{
    Base, CParser, DeclItem, Declarator, EnumNode, Enumerator, Info, Member, PResult, SpecType,
    SuNode, T,
};
use crate::cdef::lexer::Tok;

impl<'a> CParser<'a> {
    pub(super) fn struct_or_union_specifier(&mut self) -> PResult<SpecType> {
        self.nest()?;
        let r = self.struct_or_union_specifier_in();
        self.depth -= 1;
        r
    }

    fn struct_or_union_specifier_in(&mut self) -> PResult<SpecType> {
        let tok = self.advance()?;
        let is_union = tok.text == "union";
        if matches!(self.peek_class(0), Some(T::Id | T::TypeId)) {
            let name_tok = self.advance()?;
            let c = Self::coord_of(name_tok);
            let decls = if self.peek_is(0, "{") {
                self.advance()?;
                let d = self.struct_declaration_list()?;
                self.expect("}")?;
                Some(d)
            } else {
                None
            };
            let id = self.new_id();
            return Ok(SpecType::Su(
                Rc::new(SuNode {
                    id,
                    is_union,
                    name: Some(name_tok.text.clone()),
                    decls,
                    coord: c,
                }),
                c,
            ));
        }
        if self.peek_is(0, "{") {
            let brace = self.advance()?;
            let c = Self::coord_of(brace);
            let d = self.struct_declaration_list()?;
            self.expect("}")?;
            let id = self.new_id();
            return Ok(SpecType::Su(
                Rc::new(SuNode {
                    id,
                    is_union,
                    name: None,
                    decls: Some(d),
                    coord: c,
                }),
                c,
            ));
        }
        self.err(
            "Invalid struct/union declaration",
            Some(Self::coord_of(tok)),
        )
    }

    fn struct_declaration_list(&mut self) -> PResult<Vec<Member>> {
        let mut decls = Vec::new();
        while self.peek(0).is_some() && !self.peek_is(0, "}") {
            if self.accept(";")?.is_some() {
                continue;
            }
            if let Some(t) = self.peek(0)
                && t.kind == Tok::Pragma
            {
                self.pos += 1;
                decls.push(Member::Pragma(Self::coord_of(t)));
                continue;
            }
            let spec = self.specifier_qualifier_list()?;
            if self.starts_declarator(false) || self.peek_is(0, ":") {
                let mut items = vec![self.struct_declarator()?];
                while self.accept(",")?.is_some() {
                    items.push(self.struct_declarator()?);
                }
                self.expect(";")?;
                decls.extend(
                    self.build_declarations(spec, items, false)?
                        .into_iter()
                        .map(Member::Decl),
                );
                continue;
            }
            let item = if spec.types.len() == 1 {
                let (base, c) = match &spec.types[0] {
                    SpecType::Names(n, c) => (Base::Names(vec![n.clone()]), *c),
                    SpecType::Su(n, c) => (Base::Su(n.clone()), *c),
                    SpecType::Enum(n, c) => (Base::Enum(n.clone()), *c),
                };
                DeclItem::Bare(base, c)
            } else {
                DeclItem::None
            };
            self.expect(";")?;
            decls.extend(
                self.build_declarations(
                    spec,
                    vec![Info {
                        decl: item,
                        init: None,
                        bitsize: None,
                    }],
                    false,
                )?
                .into_iter()
                .map(Member::Decl),
            );
        }
        Ok(decls)
    }

    fn struct_declarator(&mut self) -> PResult<Info> {
        if self.accept(":")?.is_some() {
            let bitsize = self.conditional_expression()?;
            let c = bitsize.coord();
            return Ok(Info {
                decl: DeclItem::D(Declarator {
                    name: None,
                    mods: vec![],
                    coord: c,
                }),
                init: None,
                bitsize: Some(bitsize),
            });
        }
        let d = self.declarator()?;
        let bitsize = if self.accept(":")?.is_some() {
            Some(self.conditional_expression()?)
        } else {
            None
        };
        Ok(Info {
            decl: DeclItem::D(d),
            init: None,
            bitsize,
        })
    }

    pub(super) fn enum_specifier(&mut self) -> PResult<SpecType> {
        let tok = self.expect("enum")?;
        let c = Self::coord_of(tok);
        let mut name = None;
        if matches!(self.peek_class(0), Some(T::Id | T::TypeId)) {
            name = Some(self.advance()?.text.clone());
            if !self.peek_is(0, "{") {
                let id = self.new_id();
                return Ok(SpecType::Enum(
                    Rc::new(EnumNode {
                        id,
                        name,
                        values: None,
                        coord: c,
                    }),
                    c,
                ));
            }
        }
        self.expect("{")?;
        let mut values = vec![self.enumerator()?];
        while self.accept(",")?.is_some() {
            if self.peek_is(0, "}") {
                break;
            }
            values.push(self.enumerator()?);
        }
        self.expect("}")?;
        let id = self.new_id();
        Ok(SpecType::Enum(
            Rc::new(EnumNode {
                id,
                name,
                values: Some(values),
                coord: c,
            }),
            c,
        ))
    }

    fn enumerator(&mut self) -> PResult<Enumerator> {
        let t = self.expect_class(T::Id)?;
        let c = Self::coord_of(t);
        let value = if self.accept("=")?.is_some() {
            Some(self.conditional_expression()?)
        } else {
            None
        };
        self.add_identifier(&t.text, c)?;
        Ok(Enumerator {
            name: t.text.clone(),
            value,
            coord: c,
        })
    }
}
