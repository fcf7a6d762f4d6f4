//! Declarators, abstract declarators, parameter lists and type names: the
//! modifiers (pointer, array, function) from the name outwards.

use super::{
    CParser, Coord, DeclItem, Declarator, Expr, Info, Mod, PResult, Param, QUALS, SpecType, T,
};

impl<'a> CParser<'a> {
    pub(super) fn declarator(&mut self) -> PResult<Declarator> {
        let (d, _) = self.any_declarator(false, false)?;
        Ok(d.expect("a named declarator"))
    }

    fn any_declarator(
        &mut self,
        allow_abstract: bool,
        typeid_paren_as_abstract: bool,
    ) -> PResult<(Option<Declarator>, bool)> {
        let (name_type, saw_paren) = self.peek_declarator_name_info();
        if name_type.is_none()
            || (typeid_paren_as_abstract && name_type == Some(T::TypeId) && saw_paren)
        {
            if !allow_abstract {
                return self.err("Invalid declarator", self.here());
            }
            return Ok((self.abstract_declarator_opt()?, false));
        }
        let d = if name_type == Some(T::TypeId) {
            self.declarator_kind(false, !typeid_paren_as_abstract)?
        } else {
            self.declarator_kind(true, true)?
        };
        Ok((Some(d), true))
    }

    pub(super) fn declarator_kind(&mut self, id: bool, allow_paren: bool) -> PResult<Declarator> {
        self.nest()?;
        let r = self.declarator_kind_in(id, allow_paren);
        self.depth -= 1;
        r
    }

    fn declarator_kind_in(&mut self, id: bool, allow_paren: bool) -> PResult<Declarator> {
        let stars = self.pointer()?;
        let mut d = self.direct_declarator(id, allow_paren)?;
        if let Some(first) = stars.first()
            && let Mod::Ptr(_, c) = first
        {
            d.coord = if d.mods.is_empty() && d.name.is_none() {
                *c
            } else {
                d.coord
            };
        }
        d.mods.extend(stars.into_iter().rev());
        Ok(d)
    }

    fn direct_declarator(&mut self, id: bool, allow_paren: bool) -> PResult<Declarator> {
        let mut d = if allow_paren && self.peek_is(0, "(") {
            self.advance()?;
            let d = self.declarator_kind(id, true)?;
            self.expect(")")?;
            d
        } else {
            let t = self.expect_class(if id { T::Id } else { T::TypeId })?;
            let c = Self::coord_of(t);
            Declarator {
                name: Some((t.text.clone(), c)),
                mods: vec![],
                coord: c,
            }
        };
        self.decl_suffixes(&mut d.mods, d.coord)?;
        Ok(d)
    }

    fn decl_suffixes(&mut self, mods: &mut Vec<Mod>, coord: Coord) -> PResult<()> {
        loop {
            if self.peek_is(0, "[") {
                let m = self.array_suffix(coord)?;
                mods.push(m);
                continue;
            }
            if self.peek_is(0, "(") {
                let m = self.function_suffix(coord)?;
                mods.push(m);
                continue;
            }
            return Ok(());
        }
    }

    fn array_suffix(&mut self, coord: Coord) -> PResult<Mod> {
        self.expect("[")?;
        if self.accept("static")?.is_some() {
            while Self::kw_in(self.peek(0), QUALS) {
                self.advance()?;
            }
            let dim = self.assignment_expression()?;
            self.expect("]")?;
            return Ok(Mod::Array(Some(dim), coord));
        }
        let mut had_quals = false;
        while Self::kw_in(self.peek(0), QUALS) {
            self.advance()?;
            had_quals = true;
        }
        if had_quals && self.accept("static")?.is_some() {
            let dim = self.assignment_expression()?;
            self.expect("]")?;
            return Ok(Mod::Array(Some(dim), coord));
        }
        if self.peek_is(0, "*") && self.peek_is(1, "]") {
            let t = self.advance()?;
            self.advance()?;
            return Ok(Mod::Array(
                Some(Expr::Id("*".into(), Self::coord_of(t))),
                coord,
            ));
        }
        let dim = if self.starts_expression() {
            Some(self.assignment_expression()?)
        } else {
            None
        };
        self.expect("]")?;
        Ok(Mod::Array(dim, coord))
    }

    fn function_suffix(&mut self, coord: Coord) -> PResult<Mod> {
        self.expect("(")?;
        if self.accept(")")?.is_some() {
            return Ok(Mod::Func(None, coord));
        }
        let params = if self.starts_declaration() {
            self.parameter_type_list()?
        } else {
            let mut v = Vec::new();
            if !self.peek_is(0, ")") {
                loop {
                    let t = self.expect_class(T::Id)?;
                    v.push(Param::Untyped(t.text.clone(), Self::coord_of(t)));
                    if self.accept(",")?.is_none() {
                        break;
                    }
                }
            }
            v
        };
        self.expect(")")?;
        Ok(Mod::Func(Some(params), coord))
    }

    fn pointer(&mut self) -> PResult<Vec<Mod>> {
        let mut stars = Vec::new();
        while self.peek_is(0, "*") {
            let t = self.advance()?;
            let mut quals = Vec::new();
            while Self::kw_in(self.peek(0), QUALS) {
                quals.push(self.advance()?.text.clone());
            }
            stars.push(Mod::Ptr(quals, Self::coord_of(t)));
        }
        Ok(stars)
    }

    fn parameter_type_list(&mut self) -> PResult<Vec<Param>> {
        self.nest()?;
        let r = self.parameter_type_list_in();
        self.depth -= 1;
        r
    }

    fn parameter_type_list_in(&mut self) -> PResult<Vec<Param>> {
        let mut params = vec![self.parameter_declaration()?];
        while self.peek_is(0, ",") && !self.peek_is(1, "...") {
            self.advance()?;
            params.push(self.parameter_declaration()?);
        }
        if self.peek_is(0, ",") && self.peek_is(1, "...") {
            // Not reachable from cdefs (CFFI rewrites "..."), kept for C.
            self.advance()?;
            self.advance()?;
        }
        Ok(params)
    }

    fn parameter_declaration(&mut self) -> PResult<Param> {
        let (mut spec, _, spec_coord) = self.declaration_specifiers(true)?;
        if spec.types.is_empty() {
            spec.types.push(SpecType::Names(
                "int".into(),
                spec_coord.unwrap_or_default(),
            ));
        }
        let decl = if self.starts_declarator(false) {
            let (d, named) = self.any_declarator(true, true)?;
            if named {
                let decls = self.build_declarations(
                    spec,
                    vec![Info {
                        decl: DeclItem::D(d.expect("named")),
                        init: None,
                        bitsize: None,
                    }],
                    false,
                )?;
                let d = decls.into_iter().next().expect("one");
                return Ok(Param::Typed {
                    name: d.name,
                    ty: d.ty,
                });
            }
            d
        } else {
            self.abstract_declarator_opt()?
        };
        // pycparser's _build_parameter_declaration
        let last_is_type = match spec.types.last() {
            Some(SpecType::Names(n, _)) => spec.types.len() > 1 && self.is_type(n),
            _ => false,
        };
        let d = decl.unwrap_or_default();
        if last_is_type {
            let decls = self.build_declarations(
                spec,
                vec![Info {
                    decl: DeclItem::D(d),
                    init: None,
                    bitsize: None,
                }],
                false,
            )?;
            let d = decls.into_iter().next().expect("one");
            return Ok(Param::Typed {
                name: d.name,
                ty: d.ty,
            });
        }
        let ty = self.fix_type(&spec, &d, spec_coord.unwrap_or_default())?;
        Ok(Param::Typed { name: None, ty })
    }

    /// A type name (`(type)` in casts, `sizeof(type)`); only its shape is
    /// kept, as a base-type item.
    pub(super) fn type_name(&mut self) -> PResult<SpecType> {
        let spec = self.specifier_qualifier_list()?;
        let _ = self.abstract_declarator_opt()?;
        let c = self.here().unwrap_or_default();
        Ok(spec
            .types
            .into_iter()
            .next()
            .unwrap_or(SpecType::Names("int".into(), c)))
    }

    fn abstract_declarator_opt(&mut self) -> PResult<Option<Declarator>> {
        if self.peek_is(0, "*") {
            let stars = self.pointer()?;
            let c = match stars.first() {
                Some(Mod::Ptr(_, c)) => *c,
                _ => Coord::default(),
            };
            let mut d = if self.peek_is(0, "(") || self.peek_is(0, "[") {
                self.direct_abstract_declarator()?
            } else {
                Declarator {
                    name: None,
                    mods: vec![],
                    coord: c,
                }
            };
            d.mods.extend(stars.into_iter().rev());
            return Ok(Some(d));
        }
        if self.peek_is(0, "(") || self.peek_is(0, "[") {
            return Ok(Some(self.direct_abstract_declarator()?));
        }
        Ok(None)
    }

    fn direct_abstract_declarator(&mut self) -> PResult<Declarator> {
        self.nest()?;
        let r = self.direct_abstract_declarator_in();
        self.depth -= 1;
        r
    }

    fn direct_abstract_declarator_in(&mut self) -> PResult<Declarator> {
        let c = self.here().unwrap_or_default();
        let mut d;
        if self.peek_is(0, "(") {
            self.advance()?;
            if self.starts_declaration() || self.peek_is(0, ")") {
                let params = if self.peek_is(0, ")") {
                    None
                } else {
                    Some(self.parameter_type_list()?)
                };
                self.expect(")")?;
                d = Declarator {
                    name: None,
                    mods: vec![Mod::Func(params, c)],
                    coord: c,
                };
            } else {
                let inner = self.abstract_declarator_opt()?;
                self.expect(")")?;
                d = match inner {
                    Some(d) => d,
                    None => return self.err("Invalid abstract declarator", Some(c)),
                };
            }
        } else if self.peek_is(0, "[") {
            let m = self.array_suffix(c)?;
            d = Declarator {
                name: None,
                mods: vec![m],
                coord: c,
            };
        } else {
            return self.err("Invalid abstract declarator", Some(c));
        }
        let coord = d.coord;
        self.decl_suffixes(&mut d.mods, coord)?;
        Ok(d)
    }
}
