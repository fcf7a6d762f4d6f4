//! Functions: the argument conversions and wrappers of the C source
//! (`_cffi_f_*`, `_cffi_d_*`), and the `extern "Python"` callbacks.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::ops::numbered;
use super::{Recompiler, VERSION_CHAR16CHAR32, err};
use crate::emit::EmitError;
use crate::model::{TypeId, TypeKind, Types};

impl Recompiler<'_> {
    fn convert_funcarg_to_c(
        &mut self,
        tp: TypeId,
        fromvar: &str,
        tovar: &str,
        errcode: &str,
    ) -> Result<(), EmitError> {
        let mut extraarg = String::new();
        let converter;
        let errvalue;
        if self.is_base_primitive(tp) && !self.is_complex(tp) {
            let name = self.prim_name(tp).expect("primitive").to_string();
            if self.types.is_integer_type(tp) && name != "_Bool" {
                converter = "_cffi_to_c_int".to_string();
                extraarg = format!(", {name}");
            } else if matches!(self.types.kind(tp), TypeKind::UnknownFloat(_)) {
                converter = format!("({})_cffi_to_c_double", self.cn(tp, "")?);
            } else {
                let cname = self.cn(tp, "")?;
                converter = format!("({cname})_cffi_to_c_{}", name.replace(' ', "_"));
                if cname == "char16_t" || cname == "char32_t" {
                    self.needs_version(VERSION_CHAR16CHAR32);
                }
            }
            errvalue = "-1".to_string();
        } else if self.is_pointer(tp) {
            return self.convert_funcarg_to_c_ptr_or_array(tp, fromvar, tovar, errcode);
        } else if self.is_struct(tp)
            || matches!(self.types.kind(tp), TypeKind::Enum(_))
            || self.is_base_primitive(tp)
        {
            let n = self.typenum(tp)?;
            pf!(
                self,
                "  if (_cffi_to_c((char *)&{tovar}, _cffi_type({n}), {fromvar}) < 0)"
            );
            pf!(self, "    {errcode};");
            return Ok(());
        } else if matches!(self.types.kind(tp), TypeKind::FunctionPtr(_)) {
            converter = format!("({})_cffi_to_c_pointer", self.cn(tp, "")?);
            extraarg = format!(", _cffi_type({})", self.typenum(tp)?);
            errvalue = "NULL".to_string();
        } else {
            return Err(err(format!("NotImplementedError: {}", self.repr(tp))));
        }
        pf!(self, "  {tovar} = {converter}({fromvar}{extraarg});");
        let c = self.cn(tp, "")?;
        pf!(
            self,
            "  if ({tovar} == ({c}){errvalue} && PyErr_Occurred())"
        );
        pf!(self, "    {errcode};");
        Ok(())
    }

    fn convert_funcarg_to_c_ptr_or_array(
        &mut self,
        tp: TypeId,
        fromvar: &str,
        tovar: &str,
        errcode: &str,
    ) -> Result<(), EmitError> {
        let n = self.typenum(tp)?;
        let c = self.cn(tp, "")?;
        self.prnt("  datasize = _cffi_prepare_pointer_call_argument(");
        pf!(
            self,
            "      _cffi_type({n}), {fromvar}, (char **)&{tovar});"
        );
        self.prnt("  if (datasize != 0) {");
        pf!(
            self,
            "    {tovar} = ((size_t)datasize) <= 640 ? ({c})alloca((size_t)datasize) : NULL;"
        );
        pf!(
            self,
            "    if (_cffi_convert_array_argument(_cffi_type({n}), {fromvar}, (char **)&{tovar},"
        );
        self.prnt("            datasize, &large_args_free) < 0)");
        pf!(self, "      {errcode};");
        self.prnt("  }");
        Ok(())
    }

    fn convert_expr_from_c(
        &mut self,
        tp: TypeId,
        var: &str,
        context: &str,
    ) -> Result<String, EmitError> {
        if self.is_base_primitive(tp) {
            let name = self.prim_name(tp).expect("primitive").to_string();
            if self.types.is_integer_type(tp) && name != "_Bool" {
                return Ok(format!("_cffi_from_c_int({var}, {name})"));
            }
            if matches!(self.types.kind(tp), TypeKind::UnknownFloat(_)) {
                return Ok(format!("_cffi_from_c_double({var})"));
            }
            if name != "long double" && !self.is_complex(tp) {
                let cname = name.replace(' ', "_");
                if cname == "char16_t" || cname == "char32_t" {
                    self.needs_version(VERSION_CHAR16CHAR32);
                }
                return Ok(format!("_cffi_from_c_{cname}({var})"));
            }
            return Ok(format!(
                "_cffi_from_c_deref((char *)&{var}, _cffi_type({}))",
                self.typenum(tp)?
            ));
        }
        match self.types.kind(tp).clone() {
            TypeKind::Pointer { .. } | TypeKind::NamedPointer { .. } | TypeKind::FunctionPtr(_) => {
                Ok(format!(
                    "_cffi_from_c_pointer((char *){var}, _cffi_type({}))",
                    self.typenum(tp)?
                ))
            }
            TypeKind::Array { item, .. } => {
                let p = self.types.pointer(item, 0);
                Ok(format!(
                    "_cffi_from_c_pointer((char *){var}, _cffi_type({}))",
                    self.typenum(p)?
                ))
            }
            TypeKind::StructOrUnion(s) => {
                if s.fields.is_none() {
                    return Err(err(format!(
                        "'{}' is used as {context}, but is opaque",
                        self.plain(tp)
                    )));
                }
                Ok(format!(
                    "_cffi_from_c_struct((char *)&{var}, _cffi_type({}))",
                    self.typenum(tp)?
                ))
            }
            TypeKind::Enum(_) => Ok(format!(
                "_cffi_from_c_deref((char *)&{var}, _cffi_type({}))",
                self.typenum(tp)?
            )),
            _ => Err(err(format!("NotImplementedError: {}", self.repr(tp)))),
        }
    }

    pub(super) fn function_decl(&mut self, tp: TypeId, name: &str) -> Result<(), EmitError> {
        let sig = self.sig(tp);
        if sig.ellipsis {
            let is_int = self.types.is_integer_type(tp);
            return self.generate_const(is_int, name, Some(tp), None);
        }
        let numargs = sig.args.len();
        let argname = match numargs {
            0 => "noarg",
            1 => "arg0",
            _ => "args",
        };
        // the 'd' version, only for addressof(lib, 'func')
        let context = format!("argument of {name}");
        let mut arguments = Vec::new();
        let mut call_arguments = Vec::new();
        for (i, a) in sig.args.iter().enumerate() {
            arguments.push(self.c_name(*a, &numbered(" x", i), &context, 0)?);
            call_arguments.push(numbered("x", i));
        }
        let repr_arguments = if arguments.is_empty() {
            "void".to_string()
        } else {
            arguments.join(", ")
        };
        let abi = sig
            .abi
            .as_ref()
            .map(|a| format!("{a} "))
            .unwrap_or_default();
        let name_and_arguments = format!("{abi}_cffi_d_{name}({repr_arguments})");
        let head = self.cn(sig.result, &name_and_arguments)?;
        pf!(self, "static {head}");
        self.prnt("{");
        let result_is_void = matches!(self.types.kind(sig.result), TypeKind::Void);
        let result_code = if result_is_void { "" } else { "return " };
        pf!(
            self,
            "  {result_code}{name}({});",
            call_arguments.join(", ")
        );
        self.prnt("}");
        self.prnt("#ifndef PYPY_VERSION");
        self.prnt("static PyObject *");
        pf!(self, "_cffi_f_{name}(PyObject *self, PyObject *{argname})");
        self.prnt("{");
        for decl in &arguments {
            pf!(self, "  {decl};");
        }
        let mut localvars: BTreeSet<&str> = BTreeSet::new();
        let mut freelines: BTreeSet<&str> = BTreeSet::new();
        for a in &sig.args {
            if self.is_pointer(*a) {
                localvars.insert("Py_ssize_t datasize");
                localvars.insert("struct _cffi_freeme_s *large_args_free = NULL");
                freelines.insert(
                    "if (large_args_free != NULL) _cffi_free_array_arguments(large_args_free);",
                );
            }
        }
        for d in &localvars {
            pf!(self, "  {d};");
        }
        let (mut result_decl, result_code) = if !result_is_void {
            let rd = format!(
                "  {};",
                self.c_name(sig.result, " result", &format!("result of {name}"), 0)?
            );
            self.prnt(&rd);
            self.prnt("  PyObject *pyresult;");
            (Some(rd), "result = ")
        } else {
            (None, "")
        };
        if numargs > 1 {
            for i in 0..numargs {
                pf!(self, "  PyObject *arg{i};");
            }
            self.prnt("");
            let refs: Vec<Cow<'static, str>> = (0..numargs).map(|i| numbered("&arg", i)).collect();
            pf!(
                self,
                "  if (!PyArg_UnpackTuple(args, \"{name}\", {numargs}, {numargs}, {}))",
                refs.join(", ")
            );
            self.prnt("    return NULL;");
        }
        self.prnt("");
        for (i, a) in sig.args.iter().enumerate() {
            self.convert_funcarg_to_c(*a, &numbered("arg", i), &numbered("x", i), "return NULL")?;
            self.prnt("");
        }
        self.prnt("  Py_BEGIN_ALLOW_THREADS");
        self.prnt("  _cffi_restore_errno();");
        pf!(
            self,
            "  {{ {result_code}{name}({}); }}",
            call_arguments.join(", ")
        );
        self.prnt("  _cffi_save_errno();");
        self.prnt("  Py_END_ALLOW_THREADS");
        self.prnt("");
        self.prnt("  (void)self; /* unused */");
        if numargs == 0 {
            self.prnt("  (void)noarg; /* unused */");
        }
        if !result_code.is_empty() {
            let conv = self.convert_expr_from_c(sig.result, "result", "result type")?;
            pf!(self, "  pyresult = {conv};");
            for f in &freelines {
                pf!(self, "  {f}");
            }
            self.prnt("  return pyresult;");
        } else {
            for f in &freelines {
                pf!(self, "  {f}");
            }
            self.prnt("  Py_INCREF(Py_None);");
            self.prnt("  return Py_None;");
        }
        self.prnt("}");
        self.prnt("#else");
        // PyPy: struct/union and complex arguments and results by pointer.
        let need_indirection = |types: &Types, t: TypeId| {
            matches!(types.kind(t), TypeKind::StructOrUnion(_))
                || (matches!(types.kind(t), TypeKind::Primitive(_)) && types.is_complex_type(t))
        };
        let mut difference = false;
        let mut arguments = Vec::new();
        let mut call_arguments = Vec::new();
        for (i, a) in sig.args.iter().enumerate() {
            let ind = if need_indirection(self.types, *a) {
                difference = true;
                "*"
            } else {
                ""
            };
            arguments.push(self.c_name(*a, &format!(" {ind}x{i}"), &context, 0)?);
            call_arguments.push(format!("{ind}x{i}"));
        }
        let mut tp_result = sig.result;
        let mut result_code = result_code.to_string();
        if need_indirection(self.types, tp_result) {
            let arg = self.c_name(tp_result, " *result", &format!("result of {name}"), 0)?;
            arguments.insert(0, arg);
            tp_result = self.types.void();
            result_decl = None;
            result_code = "*result = ".to_string();
            difference = true;
        }
        if difference {
            let repr_arguments = if arguments.is_empty() {
                "void".to_string()
            } else {
                arguments.join(", ")
            };
            let name_and_arguments = format!("{abi}_cffi_f_{name}({repr_arguments})");
            let head = self.cn(tp_result, &name_and_arguments)?;
            pf!(self, "static {head}");
            self.prnt("{");
            if let Some(rd) = &result_decl {
                self.prnt(rd);
            }
            pf!(
                self,
                "  {{ {result_code}{name}({}); }}",
                call_arguments.join(", ")
            );
            if result_decl.is_some() {
                self.prnt("  return result;");
            }
            self.prnt("}");
        } else {
            pf!(self, "#  define _cffi_f_{name} _cffi_d_{name}");
        }
        self.prnt("#endif");
        self.prnt("");
        Ok(())
    }

    pub(super) fn extern_python_decl(
        &mut self,
        tp: TypeId,
        name: &str,
        tag_and_space: &str,
    ) -> Result<(), EmitError> {
        let sig = self.sig(tp);
        let size_of_result = if matches!(self.types.kind(sig.result), TypeKind::Void) {
            "0".to_string()
        } else {
            format!(
                "(int)sizeof({})",
                self.c_name(sig.result, "", &format!("result of {name}"), 0)?
            )
        };
        pf!(
            self,
            "static struct _cffi_externpy_s _cffi_externpy__{name} ="
        );
        pf!(
            self,
            "  {{ \"{}.{name}\", {size_of_result}, 0, 0 }};",
            self.module_name
        );
        self.prnt("");
        let context = format!("argument of {name}");
        let mut arguments = Vec::new();
        for (i, a) in sig.args.iter().enumerate() {
            arguments.push(self.c_name(*a, &numbered(" a", i), &context, 0)?);
        }
        let repr_arguments = if arguments.is_empty() {
            "void".to_string()
        } else {
            arguments.join(", ")
        };
        let mut name_and_arguments = format!("{name}({repr_arguments})");
        if sig.abi.as_deref() == Some("__stdcall") {
            name_and_arguments = format!("_cffi_stdcall {name_and_arguments}");
        }
        let may_need_128 = |types: &Types, t: TypeId| matches!(types.kind(t), TypeKind::Primitive(n) if n == "long double");
        let mut size_of_a = (sig.args.len() * 8).max(8);
        if may_need_128(self.types, sig.result) {
            size_of_a = size_of_a.max(16);
        }
        let size_of_a = if self.is_struct(sig.result) {
            let r = self.cn(sig.result, "")?;
            format!("sizeof({r}) > {size_of_a} ? sizeof({r}) : {size_of_a}")
        } else {
            size_of_a.to_string()
        };
        let head = self.cn(sig.result, &name_and_arguments)?;
        pf!(self, "{tag_and_space}{head}");
        self.prnt("{");
        pf!(self, "  char a[{size_of_a}];");
        self.prnt("  char *p = a;");
        for (i, a) in sig.args.iter().enumerate() {
            let mut arg = format!("a{i}");
            let mut t = *a;
            if self.is_struct(t) || may_need_128(self.types, t) {
                arg = format!("&{arg}");
                t = self.types.pointer(t, 0);
            }
            let c = self.cn(t, "*")?;
            pf!(self, "  *({c})(p + {}) = {arg};", i * 8);
        }
        pf!(self, "  _cffi_call_python(&_cffi_externpy__{name}, p);");
        if !matches!(self.types.kind(sig.result), TypeKind::Void) {
            let c = self.cn(sig.result, "*")?;
            pf!(self, "  return *({c})p;");
        }
        self.prnt("}");
        self.prnt("");
        self.num_externpy += 1;
        Ok(())
    }
}
