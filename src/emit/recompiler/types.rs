//! The type table (`_cffi_types`): every type the declarations reach,
//! collected, sorted by C name and numbered, then written as opcodes.

use super::ops::{
    Arg, CffiOp, OP_ARRAY, OP_ENUM, OP_FUNCTION, OP_FUNCTION_END, OP_NOOP, OP_OPEN_ARRAY,
    OP_POINTER, OP_PRIMITIVE, OP_STRUCT_UNION, primitive_index, py_repr,
};
use super::{Recompiler, Slot, Step, err, verification};
use crate::emit::EmitError;
use crate::model::{ArrayLength, TypeId, TypeKind, Types};

impl Recompiler<'_> {
    pub(super) fn typenum(&mut self, t: TypeId) -> Result<usize, EmitError> {
        let c = self.types.canonical(t);
        match self.typesdict.get(&c) {
            Some(Some(i)) => Ok(*i),
            _ => Err(err(format!(
                "internal error: type {} is not in the type table",
                self.repr(t)
            ))),
        }
    }

    pub(super) fn is_included(&mut self, t: TypeId) -> bool {
        self.ffi.is_included(self.types, t)
    }

    pub(crate) fn collect_type_table(&mut self) -> Result<(), EmitError> {
        self.generate(Step::CollectType)?;
        let mut all: Vec<(String, TypeId)> = self
            .typesorder
            .iter()
            .map(|&t| (self.types.repr(t), t))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let all_decls: Vec<TypeId> = all.into_iter().map(|(_, t)| t).collect();
        // FUNCTION sequences first.
        for &tp in &all_decls {
            if let TypeKind::RawFunction(sig) = self.types.kind(tp).clone() {
                let c = self.types.canonical(tp);
                self.typesdict.insert(c, Some(self.cffi_types.len()));
                self.cffi_types.push(Slot::Placeholder);
                for a in sig.args {
                    let ca = self.types.canonical(a);
                    if self.typesdict.get(&ca).copied().flatten().is_none() {
                        self.typesdict.insert(ca, Some(self.cffi_types.len()));
                    }
                    self.cffi_types.push(Slot::Placeholder);
                }
                self.cffi_types.push(Slot::End);
            }
        }
        for &tp in &all_decls {
            let c = self.types.canonical(tp);
            if !self.types.is_raw_function(tp)
                && self.typesdict.get(&c).copied().flatten().is_none()
            {
                self.typesdict.insert(c, Some(self.cffi_types.len()));
                self.cffi_types.push(Slot::Placeholder);
                if let TypeKind::Array { length, .. } = self.types.kind(tp)
                    && *length != ArrayLength::Open
                {
                    self.cffi_types.push(Slot::Len);
                }
            }
        }
        // structs, unions and enums, numbered by name.
        let mut sus: Vec<TypeId> = Vec::new();
        let mut ens: Vec<TypeId> = Vec::new();
        for &tp in &all_decls {
            match self.types.kind(tp) {
                TypeKind::StructOrUnion(_) if !sus.contains(&tp) => sus.push(tp),
                TypeKind::Enum(_) if !ens.contains(&tp) => ens.push(tp),
                _ => {}
            }
        }
        let name_of = |types: &Types, t: TypeId| match types.kind(t) {
            TypeKind::StructOrUnion(s) => s.name.clone(),
            TypeKind::Enum(e) => e.name.clone(),
            _ => String::new(),
        };
        let mut sorted_sus = sus.clone();
        sorted_sus.sort_by_key(|&t| name_of(self.types, t));
        for (i, t) in sorted_sus.iter().enumerate() {
            self.struct_unions.insert(*t, i);
        }
        self.struct_unions_order = sus;
        let mut sorted_ens = ens.clone();
        sorted_ens.sort_by_key(|&t| name_of(self.types, t));
        for (i, t) in sorted_ens.iter().enumerate() {
            self.enums.insert(*t, i);
        }
        for &tp in &all_decls {
            let index = self.typenum(tp)?;
            self.emit_bytecode(tp, index)?;
        }
        Ok(())
    }

    fn emit_bytecode(&mut self, tp: TypeId, index: usize) -> Result<(), EmitError> {
        let kind = self.types.kind(tp).clone();
        let op = match kind {
            TypeKind::Void => CffiOp::new(OP_PRIMITIVE, 0),
            TypeKind::Primitive(ref n) => {
                CffiOp::new(OP_PRIMITIVE, primitive_index(n).expect("a primitive"))
            }
            TypeKind::UnknownInteger(ref n) => CffiOp {
                op: Some(OP_PRIMITIVE),
                arg: Arg::Str(format!(
                    "_cffi_prim_int(sizeof({n}), (\n           (({n})-1) | 0 /* check that {n} is an integer type */\n         ) <= 0)"
                )),
            },
            TypeKind::UnknownFloat(ref n) => CffiOp {
                op: Some(OP_PRIMITIVE),
                arg: Arg::Str(format!(
                    "_cffi_prim_float(sizeof({n}) *\n           ((({n})1) / 2) * 2 /* integer => 0, float => 1 */\n         )"
                )),
            },
            TypeKind::RawFunction(sig) => {
                let r = self.typenum(sig.result)?;
                self.cffi_types[index] = Slot::Op(CffiOp::new(OP_FUNCTION, r as i64));
                let mut i = index + 1;
                for a in &sig.args {
                    let real = self.typenum(*a)?;
                    if i != real {
                        if let TypeKind::Primitive(n) = self.types.kind(*a) {
                            self.cffi_types[i] = Slot::Op(CffiOp::new(
                                OP_PRIMITIVE,
                                primitive_index(n).expect("a primitive"),
                            ));
                        } else {
                            self.cffi_types[i] = Slot::Op(CffiOp::new(OP_NOOP, real as i64));
                        }
                    }
                    i += 1;
                }
                let mut flags = i64::from(sig.ellipsis);
                match sig.abi.as_deref() {
                    None => {}
                    Some("__stdcall") => flags |= 2,
                    Some(other) => return Err(err(format!("abi={}", py_repr(other)))),
                }
                self.cffi_types[i] = Slot::Op(CffiOp::new(OP_FUNCTION_END, flags));
                return Ok(());
            }
            TypeKind::Pointer { totype, .. } | TypeKind::NamedPointer { totype, .. } => {
                CffiOp::new(OP_POINTER, self.typenum(totype)? as i64)
            }
            TypeKind::FunctionPtr(_) => {
                let raw = self.types.as_raw_function(tp);
                CffiOp::new(OP_POINTER, self.typenum(raw)? as i64)
            }
            TypeKind::Array { item, ref length } => {
                let item_index = self.typenum(item)? as i64;
                match length {
                    ArrayLength::Open => CffiOp::new(OP_OPEN_ARRAY, item_index),
                    ArrayLength::Dots => {
                        return Err(verification(format!(
                            "type {} badly placed: the '...' array length can only be used on global arrays or on fields of structures",
                            self.repr(tp).replace("/*...*/", "...")
                        )));
                    }
                    ArrayLength::Known(n) => {
                        self.cffi_types[index + 1] = Slot::Op(CffiOp {
                            op: None,
                            arg: Arg::Str(n.to_string()),
                        });
                        CffiOp::new(OP_ARRAY, item_index)
                    }
                    ArrayLength::Expr(e) => {
                        self.cffi_types[index + 1] = Slot::Op(CffiOp {
                            op: None,
                            arg: Arg::Str(e.clone()),
                        });
                        CffiOp::new(OP_ARRAY, item_index)
                    }
                }
            }
            TypeKind::StructOrUnion(_) => {
                CffiOp::new(OP_STRUCT_UNION, self.struct_unions[&tp] as i64)
            }
            TypeKind::Enum(_) => CffiOp::new(OP_ENUM, self.enums[&tp] as i64),
        };
        self.cffi_types[index] = Slot::Op(op);
        Ok(())
    }

    /// `e` about the type in slot `index` of the type table, placed at the
    /// declaration that brought the type in (`file:line:col: typedef t:
    /// type 'int32_t[3000000000]': ...`).
    pub(super) fn placed(&self, index: usize, e: EmitError) -> EmitError {
        // An array's length is the slot after the array's own.
        let slot_of = |index: usize| {
            self.typesorder.iter().copied().find(|&t| {
                let c = self.types.canonical_known(t);
                matches!(self.typesdict.get(&c), Some(Some(i)) if *i == index)
            })
        };
        let Some(t) = slot_of(index).or_else(|| index.checked_sub(1).and_then(slot_of)) else {
            return e;
        };
        let c = self.types.canonical_known(t);
        let Some((kind, name, _, _)) = self
            .type_origin
            .get(&c)
            .and_then(|&d| self.sorted_decls.get(d))
        else {
            return e;
        };
        let at = match self.ffi.locations.get(&(*kind, name.clone())) {
            Some(loc) => format!("{loc}: "),
            None => String::new(),
        };
        EmitError::Recompile(format!(
            "{at}{} {name}: type '{}': {e}",
            kind.as_str(),
            self.types.c_name_plain(t),
        ))
    }

    pub(super) fn enum_fields(&self, tp: TypeId) -> Vec<crate::model::Field> {
        self.types.enumfields(tp, !self.target_is_python)
    }

    pub(super) fn do_collect_type(&mut self, tp: TypeId) -> Result<(), EmitError> {
        let c = self.types.canonical(tp);
        if self.typesdict.contains_key(&c) {
            return Ok(());
        }
        self.typesdict.insert(c, None);
        self.typesorder.push(tp);
        self.type_origin.insert(c, self.current_decl);
        match self.types.kind(tp).clone() {
            TypeKind::FunctionPtr(_) => {
                let raw = self.types.as_raw_function(tp);
                self.do_collect_type(raw)?;
            }
            TypeKind::StructOrUnion(s) if s.fields.is_some() && !self.is_included(tp) => {
                for f in self.enum_fields(tp) {
                    let ft = self.field_type(tp, &f.name, f.ty)?;
                    self.do_collect_type(ft)?;
                }
            }
            TypeKind::RawFunction(sig) => {
                for a in sig.args {
                    self.do_collect_type(a)?;
                }
                self.do_collect_type(sig.result)?;
            }
            TypeKind::Pointer { totype, .. } | TypeKind::NamedPointer { totype, .. } => {
                self.do_collect_type(totype)?;
            }
            TypeKind::Array { item, .. } => self.do_collect_type(item)?,
            _ => {}
        }
        Ok(())
    }
}
