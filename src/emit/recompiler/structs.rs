//! Structs and unions: their field types, the layout checks of the C
//! source, and the rows of the struct/union and field tables.

use std::fmt::Write as _;

use super::ops::{CffiOp, OP_BITFIELD, OP_NOOP, py_repr};
use super::{FieldExpr, Recompiler, StructUnionExpr, err};
use crate::emit::{CffiVersion, EmitError};
use crate::model::{ArrayLength, StructKind, TypeId, TypeKind};

impl Recompiler<'_> {
    pub(super) fn field_type(
        &mut self,
        tp_struct: TypeId,
        field_name: &str,
        tp_field: TypeId,
    ) -> Result<TypeId, EmitError> {
        if let TypeKind::Array { item, length } = self.types.kind(tp_field).clone() {
            let length = if length == ArrayLength::Dots {
                let ptr = self.cn(tp_struct, "*")?;
                ArrayLength::Expr(format!("_cffi_array_len((({ptr})0)->{field_name})"))
            } else {
                length
            };
            let item = self.field_type(tp_struct, &format!("{field_name}[0]"), item)?;
            return Ok(self.types.array(item, length));
        }
        Ok(tp_field)
    }

    pub(super) fn struct_collecttype(&mut self, tp: TypeId) -> Result<(), EmitError> {
        self.do_collect_type(tp)?;
        if self.target_is_python {
            for f in self.types.anonymous_struct_fields(tp) {
                self.struct_collecttype(f)?;
            }
        }
        Ok(())
    }

    pub(super) fn struct_names(&self, tp: TypeId) -> Result<(String, String), EmitError> {
        let cname = self.cn(tp, "")?;
        if cname.contains(' ') {
            let a = cname.replace(' ', "_");
            Ok((cname, a))
        } else {
            let a = format!("_{cname}");
            Ok((cname, a))
        }
    }

    pub(super) fn struct_decl(
        &mut self,
        tp: TypeId,
        cname: &str,
        approxname: &str,
    ) -> Result<(), EmitError> {
        if self.types.as_struct(tp).is_none_or(|s| s.fields.is_none()) {
            return Ok(());
        }
        let checkfuncname = format!("_cffi_checkfld_{approxname}");
        self.prnt("_CFFI_UNUSED_FN");
        pf!(self, "static void {checkfuncname}({cname} *p)");
        self.prnt("{");
        self.prnt("  /* only to generate compile-time warnings or errors */");
        self.prnt("  (void)p;");
        for f in self.enum_fields(tp) {
            let mut fname = f.name.clone();
            let mut ftype = f.ty;
            if self.types.is_integer_type(ftype) || f.bitsize >= 0 {
                if !fname.is_empty() {
                    pf!(
                        self,
                        "  (void)((p->{fname}) | 0);  /* check that '{cname}.{fname}' is an integer */"
                    );
                }
                continue;
            }
            while let TypeKind::Array { item, length } = self.types.kind(ftype) {
                if matches!(length, ArrayLength::Open | ArrayLength::Dots) {
                    ftype = *item;
                    fname.push_str("[0]");
                } else {
                    break;
                }
            }
            match self.c_name(
                ftype,
                "*tmp",
                &format!("field {}", py_repr(&fname)),
                f.quals,
            ) {
                Ok(decl) => pf!(self, "  {{ {decl} = &p->{fname}; (void)tmp; }}"),
                Err(e) => pf!(self, "  /* {} */", e),
            }
        }
        self.prnt("}");
        pf!(
            self,
            "struct _cffi_align_{approxname} {{ char x; {cname} y; }};"
        );
        self.prnt("");
        Ok(())
    }

    pub(super) fn struct_ctx(
        &mut self,
        tp: TypeId,
        cname: Option<&str>,
        approxname: Option<&str>,
        named_ptr: Option<TypeId>,
    ) -> Result<(), EmitError> {
        let type_index = self.typenum(tp)?;
        let s = self.types.as_struct(tp).expect("a struct or union").clone();
        let mut reason: Option<&str> = None;
        let mut flags: Vec<&str> = Vec::new();
        if s.kind == StructKind::Union {
            flags.push("_CFFI_F_UNION");
        }
        if s.fields.is_none() {
            flags.push("_CFFI_F_OPAQUE");
            reason = Some("opaque");
        }
        let included = self.is_included(tp) || named_ptr.is_some_and(|np| self.is_included(np));
        if !included {
            if s.fields.is_none() || s.partial || !self.types.anonymous_struct_fields(tp).is_empty()
            {
                // opaque, or layout obtained silently from the C compiler
            } else {
                flags.push("_CFFI_F_CHECK_FIELDS");
            }
            if s.packed != 0 {
                if s.packed > 1 {
                    return Err(err(format!(
                        "{} is declared with 'pack={}'; only 0 or 1 are supported in API mode (try to use \"...;\", which does not require a 'pack' declaration)",
                        self.repr(tp),
                        s.packed
                    )));
                }
                flags.push("_CFFI_F_PACKED");
            }
        } else {
            flags.push("_CFFI_F_EXTERNAL");
            reason = Some("external");
        }
        let flags = if flags.is_empty() {
            "0".to_string()
        } else {
            flags.join("|")
        };
        let mut c_fields = Vec::new();
        let (size, align, first_field_index, comment);
        if reason.is_none() {
            let np_name = named_ptr.map(|np| match self.types.kind(np) {
                TypeKind::NamedPointer { name, .. } => name.clone(),
                _ => String::new(),
            });
            for f in self.enum_fields(tp) {
                let fldtype = self.field_type(tp, &f.name, f.ty)?;
                self.check_not_opaque(fldtype, &format!("field '{}.{}'", s.name, f.name))?;
                let mut op = OP_NOOP;
                let fsize = if f.bitsize >= 0 {
                    op = OP_BITFIELD;
                    format!("{} /* bits */", f.bitsize)
                } else if cname.is_none()
                    || matches!(
                        self.types.kind(fldtype),
                        TypeKind::Array {
                            length: ArrayLength::Open,
                            ..
                        }
                    )
                {
                    "(size_t)-1".to_string()
                } else {
                    let ptr = match &np_name {
                        None => self.cn(tp, "*")?,
                        Some(n) => n.clone(),
                    };
                    format!("sizeof((({ptr})0)->{})", f.name)
                };
                let offset = if cname.is_none() || f.bitsize >= 0 {
                    "(size_t)-1".to_string()
                } else if let Some(n) = &np_name {
                    if self.options.cffi_version < CffiVersion::V1_17 {
                        format!("((char *)&(({n})0)->{}) - (char *)0", f.name)
                    } else if self.options.cffi_version == CffiVersion::V1_17 {
                        format!("((char *)&(({n})4096)->{}) - (char *)4096", f.name)
                    } else {
                        format!(
                            "(size_t)(((char *)&(({n})4096)->{}) - (char *)4096)",
                            f.name
                        )
                    }
                } else {
                    format!("offsetof({}, {})", self.cn(tp, "")?, f.name)
                };
                let ti = self.typenum(fldtype)?;
                c_fields.push(FieldExpr {
                    name: f.name.clone(),
                    field_offset: offset,
                    field_size: fsize,
                    fbitsize: f.bitsize,
                    field_type_op: CffiOp::new(op, ti as i64),
                });
            }
            first_field_index = self.lsts.field.len() as i64;
            match cname {
                None => {
                    size = "(size_t)-2".to_string();
                    align = "-2".to_string();
                    comment = Some("unnamed".to_string());
                }
                Some(cname) => {
                    if let Some(n) = &np_name {
                        size = format!("sizeof(*({n})0)");
                        align = "-1 /* unknown alignment */".to_string();
                    } else {
                        size = format!("sizeof({cname})");
                        align = format!(
                            "offsetof(struct _cffi_align_{}, y)",
                            approxname.unwrap_or("None")
                        );
                    }
                    comment = None;
                }
            }
        } else {
            size = "(size_t)-1".to_string();
            align = "-1".to_string();
            first_field_index = -1;
            comment = reason.map(str::to_string);
        }
        let n_fields = c_fields.len();
        let mut entry_fields = Vec::new();
        for f in &c_fields {
            entry_fields.push(FieldExpr {
                name: f.name.clone(),
                field_offset: f.field_offset.clone(),
                field_size: f.field_size.clone(),
                fbitsize: f.fbitsize,
                field_type_op: f.field_type_op.clone(),
            });
        }
        debug_assert_eq!(n_fields, entry_fields.len());
        self.lsts.field.extend(c_fields);
        self.lsts.struct_union.push(StructUnionExpr {
            name: s.name.clone(),
            type_index,
            flags,
            size,
            alignment: align,
            comment,
            first_field_index,
            c_fields: entry_fields,
        });
        self.seen_struct_unions.insert(tp);
        Ok(())
    }

    fn check_not_opaque(&self, mut tp: TypeId, location: &str) -> Result<(), EmitError> {
        while let TypeKind::Array { item, .. } = self.types.kind(tp) {
            tp = *item;
        }
        if self.types.as_struct(tp).is_some_and(|s| s.fields.is_none()) {
            return Err(err(format!(
                "{location} is of an opaque type (not declared in cdef())"
            )));
        }
        Ok(())
    }

    pub(super) fn add_missing_struct_unions(&mut self) -> Result<(), EmitError> {
        let mut lst: Vec<(TypeId, usize)> = self
            .struct_unions_order
            .iter()
            .map(|t| (*t, self.struct_unions[t]))
            .collect();
        lst.sort_by_key(|&(_, i)| i);
        for (tp, _) in lst {
            if self.seen_struct_unions.contains(&tp) {
                continue;
            }
            let s = self.types.as_struct(tp).expect("struct").clone();
            if s.partial {
                return Err(err(format!(
                    "internal inconsistency: {} is partial but was not seen at this point",
                    self.repr(tp)
                )));
            }
            let approx;
            if s.name.starts_with('$')
                && s.name.len() > 1
                && s.name[1..].chars().all(|c| c.is_ascii_digit())
            {
                approx = s.name[1..].to_string();
            } else if s.name == "_IO_FILE" && s.forcename.as_deref() == Some("FILE") {
                approx = "FILE".to_string();
                self.typedef_ctx(tp, "FILE")?;
            } else {
                return Err(err(format!("internal inconsistency: {}", self.repr(tp))));
            }
            self.struct_ctx(tp, None, Some(&approx), None)?;
        }
        Ok(())
    }
}
