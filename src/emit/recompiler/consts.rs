//! Constants, macros and enums: the `_cffi_const_*` functions and checks,
//! their rows in the global table, and the enum table.

use std::fmt::Write as _;

use super::ops::{CffiOp, OP_CONSTANT, OP_CONSTANT_INT, OP_DLOPEN_CONST, OP_ENUM};
use super::{EnumExpr, GlobalExpr, Recompiler, err, verification};
use crate::emit::EmitError;
use crate::model::TypeId;

impl Recompiler<'_> {
    pub(super) fn generate_const(
        &mut self,
        is_int: bool,
        name: &str,
        tp: Option<TypeId>,
        check_value: Option<i128>,
    ) -> Result<(), EmitError> {
        let key = ("const".to_string(), name.to_string());
        if self.seen_constants.contains(&key) {
            return Err(verification(format!(
                "duplicate declaration of const '{name}'"
            )));
        }
        self.seen_constants.insert(key);
        let funcname = format!("_cffi_const_{name}");
        if is_int {
            pf!(self, "static int {funcname}(unsigned long long *o)");
            self.prnt("{");
            pf!(self, "  int n = ({name}) <= 0;");
            pf!(
                self,
                "  *o = (unsigned long long)(({name}) | 0);  /* check that {name} is an integer */"
            );
            if let Some(cv) = check_value {
                let cv = if cv > 0 {
                    format!("{cv}U")
                } else {
                    cv.to_string()
                };
                pf!(self, "  if (!_cffi_check_int(*o, n, {cv}))");
                self.prnt("    n |= 2;");
            }
            self.prnt("  return n;");
            self.prnt("}");
        } else {
            let tp = tp.expect("a type for a non-integer constant");
            let decl = self.cn(tp, "*")?;
            pf!(self, "static void {funcname}(char *o)");
            self.prnt("{");
            pf!(self, "  *({decl})o = {name};");
            self.prnt("}");
        }
        self.prnt("");
        Ok(())
    }

    pub(super) fn constant_ctx(&mut self, tp: TypeId, name: &str) -> Result<(), EmitError> {
        let type_op = if !self.target_is_python && self.types.is_integer_type(tp) {
            CffiOp::new(OP_CONSTANT_INT, -1)
        } else {
            let kind = if self.target_is_python {
                OP_DLOPEN_CONST
            } else {
                OP_CONSTANT
            };
            CffiOp::new(kind, self.typenum(tp)? as i64)
        };
        self.lsts.global.push(GlobalExpr {
            name: name.to_string(),
            address: format!("_cffi_const_{name}"),
            type_op,
            size: "0".into(),
            check_value: None,
        });
        Ok(())
    }

    pub(super) fn enum_decl(&mut self, tp: TypeId) -> Result<(), EmitError> {
        let names = self.types.as_enum(tp).expect("an enum").enumerators.clone();
        for e in names {
            self.generate_const(true, &e, None, None)?;
        }
        Ok(())
    }

    pub(super) fn enum_ctx(&mut self, tp: TypeId, cname: Option<&str>) -> Result<(), EmitError> {
        let type_index = self.typenum(tp)?;
        let e = self.types.as_enum(tp).expect("an enum").clone();
        if self.target_is_python && e.partial && !e.partial_resolved {
            return Err(err(format!("VerificationMissing: {}", self.plain(tp))));
        }
        for (n, v) in e.enumerators.iter().zip(&e.enumvalues) {
            self.lsts.global.push(GlobalExpr {
                name: n.clone(),
                address: format!("_cffi_const_{n}"),
                type_op: CffiOp::new(OP_ENUM, -1),
                size: "0".into(),
                check_value: Some(*v),
            });
        }
        let (size, signed) = match cname {
            Some(c) if !c.contains('$') && !self.target_is_python => {
                (format!("sizeof({c})"), format!("(({c})-1) <= 0"))
            }
            _ => {
                let (size, signed) = self.enum_base_int(&e.enumvalues, tp)?;
                (size.to_string(), signed.to_string())
            }
        };
        self.lsts.enumx.push(EnumExpr {
            name: e.name.clone(),
            type_index,
            size,
            signed,
            allenums: e.enumerators.join(","),
        });
        Ok(())
    }

    /// CFFI's `build_baseinttype`: (size, signed) of the integer type that
    /// holds every value.
    fn enum_base_int(&self, values: &[i128], tp: TypeId) -> Result<(u8, u8), EmitError> {
        let (lo, hi) = if values.is_empty() {
            (0, 0)
        } else {
            (
                *values.iter().min().expect("nonempty"),
                *values.iter().max().expect("nonempty"),
            )
        };
        let sign: u32 = u32::from(lo < 0);
        let sizes = [self.options.sizeof_int, self.options.sizeof_long];
        for size in sizes {
            let bits = 8 * u32::from(size);
            let min = -(1i128 << (bits - 1));
            let max = 1i128 << (bits - sign);
            if lo >= min && hi < max {
                return Ok((size, sign as u8));
            }
        }
        Err(err(format!(
            "{} values don't all fit into either 'long' or 'unsigned long'",
            self.plain(tp)
        )))
    }
}
