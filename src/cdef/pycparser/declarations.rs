//! External declarations and their specifiers, and pycparser's
//! `_build_declarations`: specifiers and declarators combined into [`Decl`]s.

use super::{
    Base, CParser, Coord, Decl, DeclItem, Declarator, External, FUNCSPEC, Info, Init, Mod, PResult,
    QUALS, SIMPLE_TYPES, STORAGE, Spec, SpecType, T, TyNode,
};

impl<'a> CParser<'a> {
    pub(super) fn external_declaration(&mut self) -> PResult<Vec<External>> {
        let Some(tok) = self.peek(0) else {
            return Ok(vec![]);
        };
        match self.class(tok) {
            T::Hash => return self.err("Directives not supported yet", Some(Self::coord_of(tok))),
            T::Pragma => {
                self.pos += 1;
                return Ok(vec![External::Pragma(Self::coord_of(tok))]);
            }
            _ => {}
        }
        if tok.is(";") {
            self.advance()?;
            return Ok(vec![]);
        }
        if tok.is("_Static_assert") {
            let c = Self::coord_of(tok);
            self.static_assert()?;
            return Ok(vec![External::Unsupported("StaticAssert", c)]);
        }
        if tok.is("_Pragma") {
            let c = Self::coord_of(tok);
            self.advance()?;
            self.expect("(")?;
            self.skip_balanced_parens()?;
            return Ok(vec![External::Pragma(c)]);
        }
        if !self.starts_declaration() {
            if let Some(hint) = self.unknown_type_hint() {
                return self.err(&hint, self.here());
            }
            // Old-style function definition with an implicit `int`.
            let d = self.declarator_kind(true, true)?;
            if !self.peek_is(0, "{") {
                return self.err("Invalid function definition", Some(d.coord));
            }
            self.skip_compound()?;
            return Ok(vec![External::Unsupported("FuncDef", d.coord)]);
        }
        let (mut spec, saw_type, spec_coord) = self.declaration_specifiers(true)?;
        let (name_type, _) = self.peek_declarator_name_info();
        if name_type != Some(T::Id) {
            let decls = self.decl_body_with_spec(spec, saw_type)?;
            self.expect(";")?;
            return Ok(decls.into_iter().map(External::Decl).collect());
        }
        let d = self.declarator_kind(true, true)?;
        if self.peek_is(0, "{") || self.starts_declaration() {
            while self.starts_declaration() {
                let _ = self.decl_body()?;
                self.expect(";")?;
            }
            if !self.peek_is(0, "{") {
                return self.err("Invalid function definition", Some(d.coord));
            }
            if spec.types.is_empty() {
                spec.types.push(SpecType::Names(
                    "int".into(),
                    spec_coord.unwrap_or_default(),
                ));
            }
            self.skip_compound()?;
            return Ok(vec![External::Unsupported("FuncDef", d.coord)]);
        }
        let mut first = Info {
            decl: DeclItem::D(d),
            init: None,
            bitsize: None,
        };
        if self.accept("=")?.is_some() {
            first.init = Some(self.initializer()?);
        }
        let items = self.init_declarator_list(Some(first), false)?;
        let decls = self.build_declarations(spec, items, true)?;
        self.expect(";")?;
        Ok(decls.into_iter().map(External::Decl).collect())
    }

    fn static_assert(&mut self) -> PResult<()> {
        self.advance()?;
        self.expect("(")?;
        self.skip_balanced_parens()?;
        self.expect(";")?;
        Ok(())
    }

    /// After a `(`: skips up to and including the matching `)`.
    pub(super) fn skip_balanced_parens(&mut self) -> PResult<()> {
        let mut depth = 1;
        while depth > 0 {
            let t = self.advance()?;
            if t.is("(") {
                depth += 1;
            } else if t.is(")") {
                depth -= 1;
            }
        }
        Ok(())
    }

    /// Skips a `{ ... }` block (a function body).
    pub(super) fn skip_compound(&mut self) -> PResult<()> {
        self.expect("{")?;
        let mut depth = 1;
        while depth > 0 {
            let t = self.advance()?;
            if t.is("{") {
                depth += 1;
            } else if t.is("}") {
                depth -= 1;
            }
        }
        Ok(())
    }

    fn decl_body(&mut self) -> PResult<Vec<Decl>> {
        let (spec, saw_type, _) = self.declaration_specifiers(true)?;
        self.decl_body_with_spec(spec, saw_type)
    }

    fn decl_body_with_spec(&mut self, spec: Spec, saw_type: bool) -> PResult<Vec<Decl>> {
        let mut items = None;
        if saw_type {
            if self.starts_declarator(false) {
                items = Some(self.init_declarator_list(None, false)?);
            }
        } else if self.starts_declarator(true) {
            items = Some(self.init_declarator_list(None, true)?);
        }
        match items {
            Some(items) => self.build_declarations(spec, items, true),
            None => {
                if spec.types.len() == 1 {
                    let bare = match &spec.types[0] {
                        SpecType::Su(n, c) => Some((Base::Su(n.clone()), *c)),
                        SpecType::Enum(n, c) => Some((Base::Enum(n.clone()), *c)),
                        SpecType::Names(..) => None,
                    };
                    if let Some((base, c)) = bare {
                        return Ok(vec![Decl {
                            name: None,
                            is_typedef: false,
                            storage: spec.storage.clone(),
                            ty: TyNode::Bare(base, c),
                            init: None,
                            bitsize: None,
                            coord: c,
                        }]);
                    }
                }
                self.build_declarations(
                    spec,
                    vec![Info {
                        decl: DeclItem::None,
                        init: None,
                        bitsize: None,
                    }],
                    true,
                )
            }
        }
    }

    pub(super) fn declaration_specifiers(
        &mut self,
        allow_no_type: bool,
    ) -> PResult<(Spec, bool, Option<Coord>)> {
        let mut spec = Spec::default();
        let mut any = false;
        let mut saw_type = false;
        let mut first: Option<Coord> = None;
        while let Some(tok) = self.peek(0) {
            let c = Self::coord_of(tok);
            let class = self.class(tok);
            let w = tok.text.as_str();
            if class == T::Kw && w == "_Alignas" {
                first.get_or_insert(c);
                self.advance()?;
                self.expect("(")?;
                self.skip_balanced_parens()?;
                any = true;
                continue;
            }
            if class == T::Kw && w == "_Atomic" && self.peek_is(1, "(") {
                first.get_or_insert(c);
                self.advance()?;
                self.expect("(")?;
                let ty = self.type_name()?;
                self.expect(")")?;
                spec.types.push(ty);
                saw_type = true;
                any = true;
                continue;
            }
            if class == T::Kw && QUALS.contains(&w) {
                first.get_or_insert(c);
                spec.qual.push(self.advance()?.text.clone());
                any = true;
                continue;
            }
            if class == T::Kw && STORAGE.contains(&w) {
                first.get_or_insert(c);
                spec.storage.push(self.advance()?.text.clone());
                any = true;
                continue;
            }
            if class == T::Kw && FUNCSPEC.contains(&w) {
                first.get_or_insert(c);
                self.advance()?;
                any = true;
                continue;
            }
            if class == T::Kw && SIMPLE_TYPES.contains(&w) {
                first.get_or_insert(c);
                let t = self.advance()?;
                spec.types.push(SpecType::Names(t.text.clone(), c));
                saw_type = true;
                any = true;
                continue;
            }
            if class == T::TypeId {
                if saw_type {
                    break;
                }
                first.get_or_insert(c);
                let t = self.advance()?;
                spec.types.push(SpecType::Names(t.text.clone(), c));
                saw_type = true;
                any = true;
                continue;
            }
            if class == T::Kw && (w == "struct" || w == "union") {
                first.get_or_insert(c);
                let n = self.struct_or_union_specifier()?;
                spec.types.push(n);
                saw_type = true;
                any = true;
                continue;
            }
            if class == T::Kw && w == "enum" {
                first.get_or_insert(c);
                let n = self.enum_specifier()?;
                spec.types.push(n);
                saw_type = true;
                any = true;
                continue;
            }
            break;
        }
        if !any {
            if let Some(hint) = self.unknown_type_hint() {
                return self.err(&hint, self.here());
            }
            return self.err("Invalid declaration", self.here());
        }
        if !saw_type && !allow_no_type {
            return self.err("Missing type in declaration", first);
        }
        Ok((spec, saw_type, first))
    }

    pub(super) fn specifier_qualifier_list(&mut self) -> PResult<Spec> {
        let (spec, saw_type, first) = self.declaration_specifiers(true)?;
        if !spec.storage.is_empty() {
            // Storage classes are not part of a specifier-qualifier list.
            return self.err("Invalid declaration", first);
        }
        if !saw_type {
            return self.err("Missing type in declaration", first);
        }
        Ok(spec)
    }

    fn init_declarator_list(&mut self, first: Option<Info>, id_only: bool) -> PResult<Vec<Info>> {
        let mut v = vec![match first {
            Some(f) => f,
            None => self.init_declarator(id_only)?,
        }];
        while self.accept(",")?.is_some() {
            v.push(self.init_declarator(id_only)?);
        }
        Ok(v)
    }

    fn init_declarator(&mut self, id_only: bool) -> PResult<Info> {
        let d = if id_only {
            self.declarator_kind(true, true)?
        } else {
            self.declarator()?
        };
        let mut init = None;
        if self.accept("=")?.is_some() {
            init = Some(self.initializer()?);
        }
        Ok(Info {
            decl: DeclItem::D(d),
            init,
            bitsize: None,
        })
    }

    fn initializer(&mut self) -> PResult<Init> {
        if self.peek_is(0, "{") {
            self.skip_compound()?;
            return Ok(Init::List);
        }
        Ok(Init::Expr(self.assignment_expression()?))
    }

    /// pycparser's `_fix_decl_name_type` for one declarator: the type
    /// chain ending in a `TypeDecl` with the specifiers' base and qualifiers.
    pub(super) fn fix_type(&self, spec: &Spec, d: &Declarator, coord: Coord) -> PResult<TyNode> {
        let base = {
            let mut non_names = spec
                .types
                .iter()
                .filter(|t| !matches!(t, SpecType::Names(..)));
            match non_names.next() {
                Some(t) => {
                    if spec.types.len() > 1 {
                        let c = match t {
                            SpecType::Su(_, c) | SpecType::Enum(_, c) | SpecType::Names(_, c) => *c,
                        };
                        return self.err("Invalid multiple types specified", Some(c));
                    }
                    match t {
                        SpecType::Su(n, _) => Base::Su(n.clone()),
                        SpecType::Enum(n, _) => Base::Enum(n.clone()),
                        SpecType::Names(..) => unreachable!(),
                    }
                }
                None => {
                    if spec.types.is_empty() {
                        if !matches!(d.mods.first(), Some(Mod::Func(..))) {
                            return self.err("Missing type in declaration", Some(d.coord));
                        }
                        Base::Names(vec!["int".into()])
                    } else {
                        Base::Names(
                            spec.types
                                .iter()
                                .map(|t| match t {
                                    SpecType::Names(n, _) => n.clone(),
                                    _ => unreachable!(),
                                })
                                .collect(),
                        )
                    }
                }
            }
        };
        let type_coord = d.name.as_ref().map_or(coord, |(_, c)| *c);
        let mut ty = TyNode::TypeDecl {
            quals: spec.qual.clone(),
            base,
            coord: type_coord,
        };
        for m in d.mods.iter().rev() {
            ty = match m {
                Mod::Ptr(q, c) => TyNode::Ptr {
                    quals: q.clone(),
                    inner: Box::new(ty),
                    coord: *c,
                },
                Mod::Array(dim, c) => TyNode::Array {
                    dim: dim.clone(),
                    inner: Box::new(ty),
                    coord: *c,
                },
                Mod::Func(p, c) => TyNode::Func {
                    params: p.clone(),
                    ret: Box::new(ty),
                    coord: *c,
                },
            };
        }
        Ok(ty)
    }

    pub(super) fn build_declarations(
        &mut self,
        mut spec: Spec,
        mut items: Vec<Info>,
        typedef_namespace: bool,
    ) -> PResult<Vec<Decl>> {
        let is_typedef = spec.storage.iter().any(|s| s == "typedef");
        if items[0].bitsize.is_none() {
            match &mut items[0].decl {
                DeclItem::None => {
                    let last_ok = spec.types.len() >= 2
                        && matches!(spec.types.last(), Some(SpecType::Names(n, _)) if self.is_type(n));
                    if !last_ok {
                        let c = spec
                            .types
                            .iter()
                            .map(|t| match t {
                                SpecType::Names(_, c)
                                | SpecType::Su(_, c)
                                | SpecType::Enum(_, c) => *c,
                            })
                            .next();
                        return self.err("Invalid declaration", c);
                    }
                    let Some(SpecType::Names(n, c)) = spec.types.pop() else {
                        unreachable!()
                    };
                    items[0].decl = DeclItem::D(Declarator {
                        name: Some((n, c)),
                        mods: vec![],
                        coord: c,
                    });
                }
                DeclItem::D(d) if d.name.is_none() => {
                    if let Some(SpecType::Names(n, c)) = spec.types.last().cloned() {
                        d.name = Some((n, c));
                        spec.types.pop();
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for item in items {
            let (name, ty, coord) = match item.decl {
                DeclItem::None => unreachable!("fixed above"),
                DeclItem::Bare(base, c) => (None, TyNode::Bare(base, c), c),
                DeclItem::D(d) => {
                    let c = d.name.as_ref().map_or(d.coord, |(_, c)| *c);
                    let ty = self.fix_type(&spec, &d, c)?;
                    (d.name.map(|(n, _)| n), ty, c)
                }
            };
            if typedef_namespace && let Some(n) = &name {
                if is_typedef {
                    self.add_typedef_name(n, coord)?;
                } else {
                    self.add_identifier(n, coord)?;
                }
            }
            out.push(Decl {
                name,
                storage: spec.storage.clone(),
                ty,
                init: item.init,
                bitsize: item.bitsize,
                coord,
                is_typedef,
            });
        }
        Ok(out)
    }
}
