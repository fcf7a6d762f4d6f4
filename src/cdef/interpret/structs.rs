//! Structs, unions and enums (`_get_struct_union_enum_type`): one model
//! type per specifier node, completed or made partial as CFFI does.

use super::{ConstVal, Cx, R_ENUM_DOTDOTDOT};
use crate::cdef::pycparser::{Base, Coord, EnumNode, Member, SuNode, TyNode};
use crate::cdef::{CdefError, CffiErrorKind, Ffi};
use crate::model::{DeclKind, DeclValue, Field, StructKind, TypeId, TypeKind};

impl Ffi {
    /// CFFI's `_get_struct_union_enum_type`.
    pub(super) fn sue_type(
        &mut self,
        cx: &mut Cx<'_>,
        kind: &str,
        node: SueNode<'_>,
        force_name: Option<&str>,
        nested: bool,
    ) -> Result<TypeId, CdefError> {
        if let Some(&t) = cx.node_types.get(&node.id()) {
            return Ok(t);
        }
        let decl_kind = match kind {
            "struct" => DeclKind::Struct,
            "union" => DeclKind::Union,
            _ => DeclKind::Enum,
        };
        let tag = node.name();
        let explicit_name;
        let mut tp = None;
        match tag {
            None => {
                explicit_name = match force_name {
                    Some(f) => format!("${f}"),
                    None => {
                        self.anonymous_counter += 1;
                        format!("${}", self.anonymous_counter)
                    }
                };
            }
            Some(n) => {
                explicit_name = n.to_string();
                if let Some(d) = self.declarations.get(decl_kind, n)
                    && let DeclValue::Type(t) = d.value
                {
                    tp = Some(t);
                }
            }
        }
        let tp = match tp {
            None => {
                let t = match &node {
                    SueNode::Su(n) => cx.types.struct_or_union(
                        if n.is_union {
                            StructKind::Union
                        } else {
                            StructKind::Struct
                        },
                        &explicit_name,
                        None,
                    ),
                    SueNode::Enum(n) => {
                        if explicit_name == "__dotdotdot__" {
                            return Err(cx.error(
                                CffiErrorKind::CDefError,
                                "Enums cannot be declared with ...".into(),
                                Some(n.coord),
                            ));
                        }
                        self.build_enum_type(cx, &explicit_name, n)?
                    }
                };
                if let Some(n) = tag {
                    self.declare(cx, decl_kind, n, DeclValue::Type(t), false, 0)?;
                }
                t
            }
            Some(t) => {
                if let SueNode::Enum(n) = &node
                    && n.values.is_some()
                {
                    return Err(cx.error(
                            CffiErrorKind::NotImplemented,
                            format!(
                                "enum {explicit_name}: the '{{}}' declaration should appear on the first time the enum is mentioned, not later"
                            ),
                            Some(n.coord),
                        ));
                }
                t
            }
        };
        let (forcename, name) = match cx.types.kind(tp) {
            TypeKind::StructOrUnion(s) => (s.forcename.clone(), s.name.clone()),
            TypeKind::Enum(e) => (e.forcename.clone(), e.name.clone()),
            _ => (None, String::new()),
        };
        let forcename = if forcename.as_deref().is_none_or(str::is_empty) {
            cx.types.force_the_name(tp, force_name);
            match cx.types.kind(tp) {
                TypeKind::StructOrUnion(s) => s.forcename.clone(),
                TypeKind::Enum(e) => e.forcename.clone(),
                _ => None,
            }
        } else {
            forcename
        };
        if let Some(f) = forcename.filter(|f| !f.is_empty())
            && name.contains('$')
        {
            self.declare(cx, DeclKind::Anonymous, &f, DeclValue::Type(tp), false, 0)?;
        }
        cx.node_types.insert(node.id(), tp);
        let SueNode::Su(su) = node else {
            return Ok(tp);
        };
        let Some(members) = &su.decls else {
            return Ok(tp);
        };
        if cx.types.as_struct(tp).is_some_and(|s| s.fields.is_some()) {
            return Err(cx.error(
                CffiErrorKind::CDefError,
                format!(
                    "duplicate declaration of struct {}",
                    su.name.as_deref().unwrap_or("None")
                ),
                Some(su.coord),
            ));
        }
        let mut fields = Vec::new();
        for m in members {
            let d = match m {
                Member::Decl(d) => d,
                Member::Pragma(c) => {
                    return Err(cx.error(
                        CffiErrorKind::CDefError,
                        "#pragma inside a struct or union is not supported in cdef()".into(),
                        Some(*c),
                    ));
                }
            };
            if let TyNode::Bare(Base::Names(n), _) = &d.ty
                && n.concat() == "__dotdotdot__"
            {
                self.make_partial(cx, tp, nested, d.coord)?;
                continue;
            }
            let bitsize = match &d.bitsize {
                None => -1,
                Some(e) => match self.parse_constant(cx, e, false)? {
                    ConstVal::Int(n) => i64::try_from(n).map_err(|_| {
                        cx.error(
                            CffiErrorKind::CDefError,
                            format!("invalid bit size {n}"),
                            Some(e.coord()),
                        )
                    })?,
                    ConstVal::Dots => unreachable!("partial_length_ok is false"),
                },
            };
            cx.partial_length = false;
            let (ftype, fqual) = self.type_and_quals(cx, &d.ty, None, true, None)?;
            if cx.partial_length {
                self.make_partial(cx, tp, nested, d.coord)?;
            }
            if cx
                .types
                .as_struct(ftype)
                .is_some_and(|s| s.kind == StructKind::Struct && s.partial)
            {
                self.make_partial(cx, tp, nested, d.coord)?;
            }
            fields.push(Field {
                name: d.name.clone().unwrap_or_default(),
                ty: ftype,
                bitsize,
                quals: fqual,
            });
        }
        let has_bitfields = fields.iter().any(|f| f.bitsize != -1);
        let repr = cx.types.repr(tp);
        let packed = cx.packed;
        let s = cx.types.struct_mut(tp).expect("a struct or union");
        s.fields = Some(fields);
        if has_bitfields && s.kind == StructKind::Struct && s.partial {
            return Err(cx.error(
                CffiErrorKind::NotImplemented,
                format!("{repr}: using both bitfields and '...;'"),
                Some(su.coord),
            ));
        }
        if cx.types.contains_itself_anonymously(tp) {
            // CFFI accepts it here and recurses without end when it emits.
            return Err(cx.error(
                CffiErrorKind::CDefError,
                format!("{repr}: contains itself through anonymous members"),
                Some(su.coord),
            ));
        }
        let s = cx.types.struct_mut(tp).expect("a struct or union");
        s.packed = packed;
        Ok(tp)
    }

    fn make_partial(
        &mut self,
        cx: &mut Cx<'_>,
        tp: TypeId,
        nested: bool,
        coord: Coord,
    ) -> Result<(), CdefError> {
        if cx.types.as_struct(tp).is_none() {
            let r = cx.types.repr(tp);
            return Err(cx.error(
                CffiErrorKind::CDefError,
                format!("{r} cannot be partial"),
                Some(coord),
            ));
        }
        if !cx.types.has_c_name(tp) && !nested {
            let r = cx.types.repr(tp);
            return Err(cx.error(
                CffiErrorKind::NotImplemented,
                format!("{r} is partial but has no C name"),
                Some(coord),
            ));
        }
        cx.types.struct_mut(tp).expect("checked").partial = true;
        Ok(())
    }

    fn build_enum_type(
        &mut self,
        cx: &mut Cx<'_>,
        explicit_name: &str,
        node: &EnumNode,
    ) -> Result<TypeId, CdefError> {
        let Some(values) = &node.values else {
            return Ok(cx.types.enum_type(explicit_name, vec![], vec![], None));
        };
        let mut partial = false;
        let mut names = Vec::new();
        let mut vals = Vec::new();
        let mut next: i128 = 0;
        for e in values {
            if R_ENUM_DOTDOTDOT.is_match(&e.name) {
                partial = true;
                continue;
            }
            if let Some(v) = &e.value {
                next = match self.parse_constant(cx, v, false)? {
                    ConstVal::Int(n) => n,
                    ConstVal::Dots => unreachable!("partial_length_ok is false"),
                };
            }
            names.push(e.name.clone());
            vals.push(next);
            self.add_constant(cx, &e.name, next)?;
            next += 1;
        }
        let tp = cx.types.enum_type(explicit_name, names, vals, None);
        cx.types.enum_mut(tp).expect("an enum").partial = partial;
        Ok(tp)
    }
}

/// A struct/union or enum specifier node.
pub(super) enum SueNode<'a> {
    Su(&'a SuNode),
    Enum(&'a EnumNode),
}

impl SueNode<'_> {
    fn id(&self) -> usize {
        match self {
            SueNode::Su(n) => n.id,
            SueNode::Enum(n) => n.id,
        }
    }

    fn name(&self) -> Option<&str> {
        match self {
            SueNode::Su(n) => n.name.as_deref(),
            SueNode::Enum(n) => n.name.as_deref(),
        }
    }
}

/// `$1`, `$2`...: a name invented for an anonymous struct.
pub(super) fn anonymous_numbered(name: &str) -> bool {
    name.strip_prefix('$')
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
}
