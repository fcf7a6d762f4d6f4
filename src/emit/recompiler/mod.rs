//! The port of CFFI 2.1.1's `recompiler.py`: the type table, the step tables
//! (globals, fields, struct_unions, enums, typenames) and the C and Python
//! writers. Method names follow CFFI's so the two can be read side by side.
//! Where 1.17 and 2.0 wrote other text, the writers branch on
//! [`EmitOptions::cffi_version`] (the differences are listed in
//! `cffi_version.rs`).
//!
//! This file holds the emission's state and the dispatch of each declaration
//! over CFFI's three passes (collect types, declare, fill the tables); the
//! passes' work is split by kind: `ops` (the opcodes), `types` (the type
//! table), `structs`, `functions`, `globals` (typedefs and variables),
//! `consts` (constants, macros and enums), and the writers `c_source` and
//! `py_source`.

/// `self.prnt(&format!(...))` without the intermediate String: formats
/// straight into the output (the emitter's hottest path).
macro_rules! pf {
    ($s:expr, $($arg:tt)*) => {{
        let _ = writeln!($s.out, $($arg)*);
    }};
}

mod c_source;
mod consts;
mod functions;
mod globals;
mod ops;
mod py_source;
mod structs;
mod types;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::{EmitError, EmitOptions};
use crate::cdef::Ffi;
use crate::model::{DeclKind, DeclValue, Quals, TypeId, TypeKind, Types};
use ops::{
    CffiOp, OP_CONSTANT_INT, OP_CPYTHON_BLTN_N, OP_CPYTHON_BLTN_O, OP_CPYTHON_BLTN_V,
    OP_DLOPEN_FUNC, OP_EXTERN_PYTHON, OP_GLOBAL_VAR, OP_GLOBAL_VAR_F,
};

const VERSION_BASE: u32 = 0x2601;
const VERSION_EMBEDDED: u32 = 0x2701;
const VERSION_CHAR16CHAR32: u32 = 0x2801;

/// The error kinds CFFI raises while emitting, named in the message.
fn err(message: String) -> EmitError {
    EmitError::Recompile(message)
}

fn verification(message: String) -> EmitError {
    err(message)
}

#[derive(Debug, Clone)]
enum Slot {
    Placeholder,
    End,
    Len,
    Op(CffiOp),
}

struct GlobalExpr {
    name: String,
    address: String,
    type_op: CffiOp,
    size: String,
    check_value: Option<i128>,
}

struct FieldExpr {
    name: String,
    field_offset: String,
    field_size: String,
    fbitsize: i64,
    field_type_op: CffiOp,
}

struct StructUnionExpr {
    name: String,
    type_index: usize,
    flags: String,
    size: String,
    alignment: String,
    comment: Option<String>,
    first_field_index: i64,
    c_fields: Vec<FieldExpr>,
}

struct EnumExpr {
    name: String,
    type_index: usize,
    size: String,
    signed: String,
    allenums: String,
}

struct TypenameExpr {
    name: String,
    type_index: usize,
}

#[derive(Default)]
struct Lsts {
    global: Vec<GlobalExpr>,
    field: Vec<FieldExpr>,
    struct_union: Vec<StructUnionExpr>,
    enumx: Vec<EnumExpr>,
    typename: Vec<TypenameExpr>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    CollectType,
    Decl,
    Ctx,
}

/// One emission (CFFI's `Recompiler` object).
pub(crate) struct Recompiler<'a> {
    types: &'a mut Types,
    ffi: &'a Ffi,
    module_name: &'a str,
    target_is_python: bool,
    options: &'a EmitOptions,
    version: u32,
    /// `_typesdict`: canonical id → index (None until assigned).
    typesdict: HashMap<TypeId, Option<usize>>,
    /// The keys of `_typesdict` in insertion order (the first id seen).
    typesorder: Vec<TypeId>,
    cffi_types: Vec<Slot>,
    struct_unions: HashMap<TypeId, usize>,
    struct_unions_order: Vec<TypeId>,
    enums: HashMap<TypeId, usize>,
    lsts: Lsts,
    seen_struct_unions: HashSet<TypeId>,
    seen_constants: HashSet<(String, String)>,
    current_quals: Quals,
    num_externpy: usize,
    out: String,
    /// For each type collected, the index in `sorted_decls` of the
    /// declaration that brought it in (to place errors about the type).
    type_origin: HashMap<TypeId, usize>,
    /// The index in `sorted_decls` of the declaration being generated.
    current_decl: usize,
    /// The declarations in CFFI's order (sorted once).
    sorted_decls: Vec<(DeclKind, String, DeclValue, Quals)>,
}

impl<'a> Recompiler<'a> {
    pub(crate) fn new(
        types: &'a mut Types,
        ffi: &'a Ffi,
        module_name: &'a str,
        target_is_python: bool,
        options: &'a EmitOptions,
    ) -> Self {
        Recompiler {
            types,
            ffi,
            module_name,
            target_is_python,
            options,
            version: VERSION_BASE,
            typesdict: HashMap::default(),
            typesorder: Vec::new(),
            cffi_types: Vec::new(),
            struct_unions: HashMap::default(),
            struct_unions_order: Vec::new(),
            enums: HashMap::default(),
            lsts: Lsts::default(),
            seen_struct_unions: HashSet::default(),
            seen_constants: HashSet::default(),
            current_quals: 0,
            num_externpy: 0,
            out: String::with_capacity(64 * 1024),
            type_origin: HashMap::default(),
            current_decl: 0,
            sorted_decls: ffi
                .declarations
                .sorted()
                .into_iter()
                .map(|d| (d.kind, d.name.clone(), d.value.clone(), d.quals))
                .collect(),
        }
    }

    fn needs_version(&mut self, v: u32) {
        self.version = self.version.max(v);
    }

    fn prnt(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    // ---- type helpers -------------------------------------------------

    fn c_name(
        &self,
        t: TypeId,
        replace_with: &str,
        context: &str,
        quals: Quals,
    ) -> Result<String, EmitError> {
        self.types
            .get_c_name(t, replace_with, context, quals)
            .map_err(|e| verification(e.to_string()))
    }

    fn cn(&self, t: TypeId, replace_with: &str) -> Result<String, EmitError> {
        self.c_name(t, replace_with, "a C file", 0)
    }

    fn plain(&self, t: TypeId) -> String {
        self.types.c_name_plain(t)
    }

    fn repr(&self, t: TypeId) -> String {
        self.types.repr(t)
    }

    fn prim_name(&self, t: TypeId) -> Option<&str> {
        match self.types.kind(t) {
            TypeKind::Primitive(n) | TypeKind::UnknownInteger(n) | TypeKind::UnknownFloat(n) => {
                Some(n)
            }
            _ => None,
        }
    }

    fn is_base_primitive(&self, t: TypeId) -> bool {
        matches!(
            self.types.kind(t),
            TypeKind::Primitive(_) | TypeKind::UnknownInteger(_) | TypeKind::UnknownFloat(_)
        )
    }

    fn is_struct(&self, t: TypeId) -> bool {
        matches!(self.types.kind(t), TypeKind::StructOrUnion(_))
    }

    fn is_pointer(&self, t: TypeId) -> bool {
        matches!(
            self.types.kind(t),
            TypeKind::Pointer { .. } | TypeKind::NamedPointer { .. }
        )
    }

    fn is_complex(&self, t: TypeId) -> bool {
        self.types.is_complex_type(t)
    }

    fn sig(&self, t: TypeId) -> crate::model::FunctionSig {
        match self.types.kind(t) {
            TypeKind::FunctionPtr(s) | TypeKind::RawFunction(s) => s.clone(),
            other => panic!("not a function: {other:?}"),
        }
    }

    fn generate(&mut self, step: Step) -> Result<(), EmitError> {
        let decls = std::mem::take(&mut self.sorted_decls);
        let result = self.generate_all(step, &decls);
        self.sorted_decls = decls;
        result
    }

    fn generate_all(
        &mut self,
        step: Step,
        decls: &[(DeclKind, String, DeclValue, Quals)],
    ) -> Result<(), EmitError> {
        for (i, (kind, name, value, quals)) in decls.iter().enumerate() {
            let (kind, quals) = (*kind, *quals);
            self.current_decl = i;
            self.current_quals = quals;
            self.generate_one(step, kind, name, value).map_err(|e| {
                let at = match self.ffi.locations.get(&(kind, name.clone())) {
                    Some(loc) => format!("{loc}: "),
                    None => String::new(),
                };
                EmitError::Recompile(format!("{at}{} {}: {e}", kind.as_str(), name))
            })?;
        }
        Ok(())
    }

    fn generate_one(
        &mut self,
        step: Step,
        kind: DeclKind,
        name: &str,
        value: &DeclValue,
    ) -> Result<(), EmitError> {
        if kind == DeclKind::Macro {
            return match step {
                Step::CollectType => Ok(()),
                Step::Decl => {
                    let cv = match value {
                        DeclValue::MacroInt(v) => Some(*v),
                        _ => None,
                    };
                    self.generate_const(true, name, None, cv)
                }
                Step::Ctx => {
                    let cv = match value {
                        DeclValue::MacroInt(v) => Some(*v),
                        _ => {
                            if self.target_is_python {
                                return Err(verification(format!(
                                    "cannot use the syntax '...' in '#define {name} ...' when using the ABI mode"
                                )));
                            }
                            None
                        }
                    };
                    self.lsts.global.push(GlobalExpr {
                        name: name.to_string(),
                        address: format!("_cffi_const_{name}"),
                        type_op: CffiOp::new(OP_CONSTANT_INT, -1),
                        size: "0".into(),
                        check_value: cv,
                    });
                    Ok(())
                }
            };
        }
        let DeclValue::Type(tp) = *value else {
            return Err(err(format!(
                "not implemented in recompile(): '{} {}'",
                kind.as_str(),
                name
            )));
        };
        match (kind, step) {
            (DeclKind::Typedef, Step::CollectType) => {
                let t = self.typedef_type(tp, name)?;
                self.do_collect_type(t)
            }
            (DeclKind::Typedef, Step::Decl) => Ok(()),
            (DeclKind::Typedef, Step::Ctx) => {
                let t = self.typedef_type(tp, name)?;
                self.typedef_ctx(t, name)?;
                match self.types.kind(t).clone() {
                    TypeKind::StructOrUnion(s) if s.unknown_type_origin => {
                        self.struct_ctx(t, Some(&s.name), None, None)
                    }
                    TypeKind::NamedPointer {
                        totype,
                        name: pname,
                        ..
                    } => {
                        let tname = match self.types.kind(totype) {
                            TypeKind::StructOrUnion(s) => s.name.clone(),
                            TypeKind::Enum(e) => e.name.clone(),
                            _ => String::new(),
                        };
                        self.struct_ctx(totype, Some(&tname), Some(&pname), Some(t))
                    }
                    _ => Ok(()),
                }
            }
            (DeclKind::Function, Step::CollectType) => {
                let raw = self.types.as_raw_function(tp);
                self.do_collect_type(raw)?;
                if self.sig(tp).ellipsis && !self.target_is_python {
                    self.do_collect_type(tp)?;
                }
                Ok(())
            }
            (DeclKind::Function, Step::Decl) => self.function_decl(tp, name),
            (DeclKind::Function, Step::Ctx) => {
                if self.sig(tp).ellipsis && !self.target_is_python {
                    return self.constant_ctx(tp, name);
                }
                let raw = self.types.as_raw_function(tp);
                let type_index = self.typenum(raw)?;
                let numargs = self.sig(tp).args.len();
                let meth = if self.target_is_python {
                    OP_DLOPEN_FUNC
                } else if numargs == 0 {
                    OP_CPYTHON_BLTN_N
                } else if numargs == 1 {
                    OP_CPYTHON_BLTN_O
                } else {
                    OP_CPYTHON_BLTN_V
                };
                self.lsts.global.push(GlobalExpr {
                    name: name.to_string(),
                    address: format!("_cffi_f_{name}"),
                    type_op: CffiOp::new(meth, type_index as i64),
                    size: format!("_cffi_d_{name}"),
                    check_value: None,
                });
                Ok(())
            }
            (DeclKind::Struct | DeclKind::Union, Step::CollectType) => self.struct_collecttype(tp),
            (DeclKind::Struct | DeclKind::Union, Step::Decl) => {
                let (cname, approx) = self.struct_names(tp)?;
                self.struct_decl(tp, &cname, &approx)
            }
            (DeclKind::Struct | DeclKind::Union, Step::Ctx) => {
                let (cname, approx) = self.struct_names(tp)?;
                self.struct_ctx(tp, Some(&cname), Some(&approx), None)
            }
            (DeclKind::Anonymous, step) => {
                let is_enum = matches!(self.types.kind(tp), TypeKind::Enum(_));
                match (step, is_enum) {
                    (Step::CollectType, true) => self.do_collect_type(tp),
                    (Step::CollectType, false) => self.struct_collecttype(tp),
                    (Step::Decl, true) => self.enum_decl(tp),
                    (Step::Decl, false) => self.struct_decl(tp, name, &format!("typedef_{name}")),
                    (Step::Ctx, true) => self.enum_ctx(tp, Some(name)),
                    (Step::Ctx, false) => {
                        self.struct_ctx(tp, Some(name), Some(&format!("typedef_{name}")), None)
                    }
                }
            }
            (DeclKind::Constant, Step::CollectType) => {
                let is_int = self.types.is_integer_type(tp);
                if !is_int || self.target_is_python {
                    self.do_collect_type(tp)?;
                }
                Ok(())
            }
            (DeclKind::Constant, Step::Decl) => {
                let is_int = self.types.is_integer_type(tp);
                self.generate_const(is_int, name, Some(tp), None)
            }
            (DeclKind::Constant, Step::Ctx) => self.constant_ctx(tp, name),
            (DeclKind::Enum, Step::CollectType) => self.do_collect_type(tp),
            (DeclKind::Enum, Step::Decl) => self.enum_decl(tp),
            (DeclKind::Enum, Step::Ctx) => {
                let cname = self.plain(tp);
                self.enum_ctx(tp, Some(&cname))
            }
            (DeclKind::Variable, Step::CollectType) => {
                let t = self.global_type(tp, name)?;
                self.do_collect_type(t)
            }
            (DeclKind::Variable, Step::Decl) => self.variable_decl(tp, name),
            (DeclKind::Variable, Step::Ctx) => {
                let t = self.global_type(tp, name)?;
                let type_index = self.typenum(t)?;
                let op = if self.target_is_python {
                    OP_GLOBAL_VAR
                } else {
                    OP_GLOBAL_VAR_F
                };
                self.lsts.global.push(GlobalExpr {
                    name: name.to_string(),
                    address: format!("_cffi_var_{name}"),
                    type_op: CffiOp::new(op, type_index as i64),
                    size: "0".into(),
                    check_value: None,
                });
                Ok(())
            }
            (
                DeclKind::ExternPython | DeclKind::DllexportPython | DeclKind::ExternPythonPlusC,
                Step::CollectType,
            ) => self.do_collect_type(tp),
            (DeclKind::ExternPython, Step::Decl) => self.extern_python_decl(tp, name, "static "),
            (DeclKind::DllexportPython, Step::Decl) => {
                self.extern_python_decl(tp, name, "CFFI_DLLEXPORT ")
            }
            (DeclKind::ExternPythonPlusC, Step::Decl) => self.extern_python_decl(tp, name, ""),
            (
                DeclKind::ExternPython | DeclKind::DllexportPython | DeclKind::ExternPythonPlusC,
                Step::Ctx,
            ) => {
                if self.target_is_python {
                    return Err(verification(
                        "cannot use 'extern \"Python\"' in the ABI mode".into(),
                    ));
                }
                if self.sig(tp).ellipsis {
                    return Err(err("a vararg function is extern \"Python\"".into()));
                }
                let type_index = self.typenum(tp)?;
                self.lsts.global.push(GlobalExpr {
                    name: name.to_string(),
                    address: format!("&_cffi_externpy__{name}"),
                    type_op: CffiOp::new(OP_EXTERN_PYTHON, type_index as i64),
                    size: name.to_string(),
                    check_value: None,
                });
                Ok(())
            }
            (DeclKind::Macro, _) => unreachable!("handled above"),
        }
    }

    // ---- step tables --------------------------------------------------

    pub(crate) fn collect_step_tables(&mut self) -> Result<(), EmitError> {
        self.generate(Step::Ctx)?;
        self.add_missing_struct_unions()?;
        self.lsts.global.sort_by(|a, b| a.name.cmp(&b.name));
        self.lsts.struct_union.sort_by(|a, b| a.name.cmp(&b.name));
        self.lsts.enumx.sort_by(|a, b| a.name.cmp(&b.name));
        self.lsts.typename.sort_by(|a, b| a.name.cmp(&b.name));
        // CFFI's consistency checks.
        for (&tp, &i) in &self.struct_unions {
            let name = match self.types.kind(tp) {
                TypeKind::StructOrUnion(s) => &s.name,
                _ => unreachable!(),
            };
            if i >= self.lsts.struct_union.len() || &self.lsts.struct_union[i].name != name {
                return Err(err("AssertionError: inconsistent struct/union table".into()));
            }
        }
        if self.lsts.struct_union.len() != self.struct_unions.len() {
            return Err(err("AssertionError: inconsistent struct/union table".into()));
        }
        for (&tp, &i) in &self.enums {
            let name = match self.types.kind(tp) {
                TypeKind::Enum(e) => &e.name,
                _ => unreachable!(),
            };
            if i >= self.lsts.enumx.len() || &self.lsts.enumx[i].name != name {
                return Err(err("AssertionError: inconsistent enum table".into()));
            }
        }
        if self.lsts.enumx.len() != self.enums.len() {
            return Err(err("AssertionError: inconsistent enum table".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
