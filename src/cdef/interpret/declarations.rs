//! Declarations: typedefs, variables, functions and their redeclaration
//! rules (`_declare`, `_parse_decl`).

use super::structs::SueNode;
use super::{Cx, ExternPython, R_INT_LITERAL};
use crate::cdef::pycparser::{Base, Coord, Decl, Expr, Init, TyNode};
use crate::cdef::{CdefError, CffiErrorKind, Ffi};
use crate::model::{DeclKind, DeclValue, Declaration, Q_CONST, Quals, TypeId};

impl Ffi {
    /// CFFI's `_declare`: a second declaration of a name is an error unless
    /// it is the very same object (or `override=True`).
    pub(super) fn declare(
        &mut self,
        cx: &mut Cx<'_>,
        kind: DeclKind,
        name: &str,
        value: DeclValue,
        included: bool,
        quals: Quals,
    ) -> Result<(), CdefError> {
        if let Some(prev) = self.declarations.get(kind, name) {
            let same = match (&prev.value, &value) {
                (DeclValue::Type(a), DeclValue::Type(b)) => a == b,
                // Python's small ints are shared objects; other values are not.
                (DeclValue::MacroInt(a), DeclValue::MacroInt(b)) => {
                    a == b && (-5..=256).contains(a)
                }
                _ => false,
            };
            if same && prev.quals == quals {
                return Ok(());
            }
            if !cx.override_ {
                return Err(cx.error(
                    CffiErrorKind::FfiError,
                    format!(
                        "multiple declarations of {kind} {name} (for interactive usage, try cdef(xx, override=True))"
                    ),
                    None,
                ));
            }
        }
        if let Some(c) = cx.current.filter(|c| c.line > 0) {
            let file = cx.files.get(c.file as usize).unwrap_or(&cx.file);
            self.locations.insert(
                (kind, name.to_string()),
                format!("{file}:{}:{}", c.line, c.col),
            );
        }
        if included && let DeclValue::Type(t) = value {
            let c = cx.types.canonical(t);
            self.included_declarations.insert(c);
        }
        self.declarations.insert(Declaration {
            kind,
            name: name.to_string(),
            value,
            quals,
        });
        Ok(())
    }

    pub(super) fn typedef(&mut self, cx: &mut Cx<'_>, d: &Decl) -> Result<(), CdefError> {
        let Some(name) = &d.name else {
            return Err(cx.error(
                CffiErrorKind::CDefError,
                "typedef does not declare any name".into(),
                Some(d.coord),
            ));
        };
        let mut quals = 0;
        let dotted = |n: &[String]| n.last().is_some_and(|w| w.starts_with("__dotdotdot"));
        let realtype = match &d.ty {
            TyNode::TypeDecl {
                base: Base::Names(n),
                coord,
                ..
            } if dotted(n) => self.unknown_type(cx, name, n, *coord)?,
            TyNode::Ptr { inner, coord, .. } if matches!(&**inner, TyNode::TypeDecl { base: Base::Names(n), .. } if dotted(n)) =>
            {
                let TyNode::TypeDecl {
                    base: Base::Names(n),
                    ..
                } = &**inner
                else {
                    unreachable!()
                };
                if n.len() == 1 && n[0] == "__dotdotdot__" {
                    cx.types.unknown_ptr_type(name, None)
                } else {
                    return Err(cx.error(
                        CffiErrorKind::FfiError,
                        format!(":{}: unsupported usage of \"...\" in typedef", coord.line),
                        Some(*coord),
                    ));
                }
            }
            _ => {
                let (t, q) = self.type_and_quals(
                    cx,
                    &d.ty,
                    Some(name),
                    true,
                    Some(format!("*({name} *)0")),
                )?;
                quals = q;
                t
            }
        };
        self.declare(
            cx,
            DeclKind::Typedef,
            name,
            DeclValue::Type(realtype),
            false,
            quals,
        )
    }

    pub(super) fn unknown_type(
        &mut self,
        cx: &mut Cx<'_>,
        name: &str,
        names: &[String],
        coord: Coord,
    ) -> Result<TypeId, CdefError> {
        match names {
            [n] if n == "__dotdotdot__" => Ok(cx.types.unknown_type(name, None)),
            [n] if n == "__dotdotdotint__" => Ok(cx.types.unknown_integer(name)),
            [n] if n == "__dotdotdotfloat__" => Ok(cx.types.unknown_float(name)),
            _ => Err(cx.error(
                CffiErrorKind::FfiError,
                format!(":{}: unsupported usage of \"...\" in typedef", coord.line),
                Some(coord),
            )),
        }
    }

    pub(super) fn parse_decl(&mut self, cx: &mut Cx<'_>, d: &Decl) -> Result<(), CdefError> {
        if let TyNode::Func { .. } = &d.ty {
            let (tp, quals) = self.type_and_quals(cx, &d.ty, d.name.as_deref(), false, None)?;
            return self.declare_function(cx, tp, quals, d.name.as_deref().unwrap_or(""));
        }
        match &d.ty {
            TyNode::Bare(Base::Su(n), _) => {
                let kind = if n.is_union { "union" } else { "struct" };
                self.sue_type(cx, kind, SueNode::Su(n), None, false)?;
            }
            TyNode::Bare(Base::Enum(n), _) => {
                self.sue_type(cx, "enum", SueNode::Enum(n), None, false)?;
            }
            _ if d.name.is_none() => {
                return Err(cx.error(
                    CffiErrorKind::CDefError,
                    "construct does not declare any variable".into(),
                    Some(d.coord),
                ));
            }
            _ => {}
        }
        let Some(name) = &d.name else { return Ok(()) };
        let (tp, quals) = self.type_and_quals(cx, &d.ty, None, true, None)?;
        if cx.types.is_raw_function(tp) {
            return self.declare_function(cx, tp, quals, name);
        }
        if cx.types.is_integer_type(tp) {
            match &d.init {
                Some(Init::Expr(Expr::Const { text, .. })) if R_INT_LITERAL.is_match(text) => {
                    return self.add_integer_constant(cx, name, text);
                }
                Some(Init::Expr(Expr::Unary(op, e, _))) if op == "-" => {
                    if let Expr::Const { text, .. } = &**e
                        && R_INT_LITERAL.is_match(text)
                    {
                        return self.add_integer_constant(cx, name, &format!("-{text}"));
                    }
                }
                _ => {}
            }
        }
        if tp == cx.types.void() && name.starts_with("__cffi_extern_python_") {
            cx.inside_extern_python = match name.as_str() {
                "__cffi_extern_python_start" => ExternPython::Start,
                "__cffi_extern_python_plus_c_start" => ExternPython::PlusC,
                _ => ExternPython::Stop,
            };
            return Ok(());
        }
        if cx.inside_extern_python != ExternPython::Stop {
            return Err(cx.error(
                CffiErrorKind::CDefError,
                "cannot declare constants or variables with 'extern \"Python\"'".into(),
                Some(d.coord),
            ));
        }
        if quals & Q_CONST != 0 && !cx.types.is_array_type(tp) {
            self.declare(
                cx,
                DeclKind::Constant,
                name,
                DeclValue::Type(tp),
                false,
                quals,
            )
        } else {
            if d.storage.is_empty() {
                self.warnings.push(format!(
                    "Global variable '{name}' in cdef(): for consistency with C it should have a storage class specifier (usually 'extern')"
                ));
            }
            self.declare(
                cx,
                DeclKind::Variable,
                name,
                DeclValue::Type(tp),
                false,
                quals,
            )
        }
    }

    fn declare_function(
        &mut self,
        cx: &mut Cx<'_>,
        tp: TypeId,
        quals: Quals,
        name: &str,
    ) -> Result<(), CdefError> {
        let tp = self.type_pointer(cx, tp, quals, None);
        let kind = if cx.dllexport {
            DeclKind::DllexportPython
        } else {
            match cx.inside_extern_python {
                ExternPython::Start => DeclKind::ExternPython,
                ExternPython::PlusC => DeclKind::ExternPythonPlusC,
                ExternPython::Stop => DeclKind::Function,
            }
        };
        self.declare(cx, kind, name, DeclValue::Type(tp), false, 0)
    }
}
