//! Typedefs and global variables: their names in the typename and global
//! tables, and the accessor function of a global variable.

use std::fmt::Write as _;

use super::{Recompiler, TypenameExpr};
use crate::emit::EmitError;
use crate::model::{ArrayLength, TypeId, TypeKind};

impl Recompiler<'_> {
    pub(super) fn typedef_type(&mut self, tp: TypeId, name: &str) -> Result<TypeId, EmitError> {
        self.global_type(tp, &format!("(*({name} *)0)"))
    }

    pub(super) fn typedef_ctx(&mut self, tp: TypeId, name: &str) -> Result<(), EmitError> {
        let type_index = self.typenum(tp)?;
        self.lsts.typename.push(TypenameExpr {
            name: name.to_string(),
            type_index,
        });
        Ok(())
    }

    pub(super) fn global_type(
        &mut self,
        tp: TypeId,
        global_name: &str,
    ) -> Result<TypeId, EmitError> {
        if let TypeKind::Array { item, length } = self.types.kind(tp).clone() {
            let length = if length == ArrayLength::Dots {
                ArrayLength::Expr(format!("_cffi_array_len({global_name})"))
            } else {
                length
            };
            let item = self.global_type(item, &format!("{global_name}[0]"))?;
            return Ok(self.types.array(item, length));
        }
        Ok(tp)
    }

    pub(super) fn variable_decl(&mut self, tp: TypeId, name: &str) -> Result<(), EmitError> {
        let mut t = self.global_type(tp, name)?;
        let mut ampersand = "&";
        if let TypeKind::Array {
            item,
            length: ArrayLength::Open,
        } = self.types.kind(t)
        {
            t = *item;
            ampersand = "";
        }
        let decl = format!("*_cffi_var_{name}(void)");
        let head = self.c_name(t, &decl, "a C file", self.current_quals)?;
        pf!(self, "static {head}");
        self.prnt("{");
        pf!(self, "  return {ampersand}({name});");
        self.prnt("}");
        self.prnt("");
        Ok(())
    }
}
