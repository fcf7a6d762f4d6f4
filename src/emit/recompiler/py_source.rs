//! The Python writer of ABI mode: the `_cffi_backend.FFI(...)` call with
//! the type and step tables as byte strings.

use std::fmt::Write as _;

use super::ops::{OP_BITFIELD, OP_NOOP, format_four_bytes};
use super::{Recompiler, Slot, err, verification};
use crate::emit::EmitError;

impl Recompiler<'_> {
    pub(crate) fn write_py_source(mut self) -> Result<String, EmitError> {
        self.prnt("# auto-generated file");
        self.prnt("import _cffi_backend");
        for (i, inc) in self.ffi.included_ffis.iter().enumerate() {
            if inc.module_name.is_empty() {
                return Err(verification(
                    "ffi object includes another, but the latter has not been prepared with set_source()".into(),
                ));
            }
            if !inc.abi_mode {
                return Err(verification(
                    "not implemented yet: ffi.include() of a C-based ffi inside a Python-based ffi"
                        .into(),
                ));
            }
            let line = format!("from {} import ffi as _ffi{i}", inc.module_name);
            self.out.push_str(&line);
            self.out.push('\n');
        }
        self.prnt("");
        pf!(self, "ffi = _cffi_backend.FFI('{}',", self.module_name);
        pf!(self, "    _version = 0x{:x},", self.version);
        let mut types_bytes = String::new();
        for (i, s) in self.cffi_types.iter().enumerate() {
            let Slot::Op(op) = s else {
                return Err(err("internal error: unfilled type table slot".into()));
            };
            types_bytes.push_str(&op.as_python_bytes().map_err(|e| self.placed(i, e))?);
        }
        pf!(self, "    _types = b'{types_bytes}',");
        let lsts = std::mem::take(&mut self.lsts);
        // globals
        if !lsts.global.is_empty() {
            let mut rep = Vec::new();
            for g in &lsts.global {
                rep.push(format!(
                    "b'{}{}',{}",
                    g.type_op.as_python_bytes()?,
                    g.name,
                    g.check_value.unwrap_or(0)
                ));
            }
            pf!(self, "    _globals = {},", py_tuple(rep));
        }
        if !lsts.struct_union.is_empty() {
            let mut rep = Vec::new();
            for s in &lsts.struct_union {
                let mut flags = 0i64;
                for f in s.flags.split('|') {
                    flags |= match f {
                        "_CFFI_F_UNION" => 0x01,
                        "_CFFI_F_CHECK_FIELDS" => 0x02,
                        "_CFFI_F_PACKED" => 0x04,
                        "_CFFI_F_EXTERNAL" => 0x08,
                        "_CFFI_F_OPAQUE" => 0x10,
                        _ => 0,
                    };
                }
                let mut fields = Vec::new();
                for f in &s.c_fields {
                    let size_expr = match f.field_type_op.op {
                        Some(OP_NOOP) => String::new(),
                        Some(OP_BITFIELD) => format_four_bytes(f.fbitsize),
                        _ => return Err(err("NotImplementedError".into())),
                    };
                    fields.push(format!(
                        "b'{}{}{}'",
                        f.field_type_op.as_python_bytes()?,
                        size_expr,
                        f.name
                    ));
                }
                rep.push(format!(
                    "(b'{}{}{}',{})",
                    format_four_bytes(s.type_index as i64),
                    format_four_bytes(flags),
                    s.name,
                    fields.join(",")
                ));
            }
            pf!(self, "    _struct_unions = {},", py_tuple(rep));
        }
        if !lsts.enumx.is_empty() {
            let mut rep = Vec::new();
            for e in &lsts.enumx {
                let prim = match (e.size.as_str(), e.signed.as_str()) {
                    ("1", "0") => 18,
                    ("1", "1") => 17,
                    ("2", "0") => 20,
                    ("2", "1") => 19,
                    ("4", "0") => 22,
                    ("4", "1") => 21,
                    ("8", "0") => 24,
                    ("8", "1") => 23,
                    _ => return Err(err(format!("KeyError: ({}, {})", e.size, e.signed))),
                };
                rep.push(format!(
                    "b'{}{}{}\\x00{}'",
                    format_four_bytes(e.type_index as i64),
                    format_four_bytes(prim),
                    e.name,
                    e.allenums
                ));
            }
            pf!(self, "    _enums = {},", py_tuple(rep));
        }
        if !lsts.typename.is_empty() {
            let rep: Vec<String> = lsts
                .typename
                .iter()
                .map(|t| format!("b'{}{}'", format_four_bytes(t.type_index as i64), t.name))
                .collect();
            pf!(self, "    _typenames = {},", py_tuple(rep));
        }
        let n = self.ffi.included_ffis.len();
        if n > 0 {
            let names: Vec<String> = (0..n).map(|i| format!("_ffi{i}")).collect();
            pf!(self, "    _includes = ({},),", names.join(", "));
        }
        self.prnt(")");
        Ok(self.out)
    }
}

/// CFFI's `_to_py` of a list: `(a,b)`, or `(a,)` for one item.
fn py_tuple(mut rep: Vec<String>) -> String {
    if rep.len() == 1 {
        rep.push(String::new());
    }
    format!("({})", rep.join(","))
}
