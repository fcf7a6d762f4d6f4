//! The port of CFFI 2.1.1's `recompiler.py`: the type table, the step tables
//! (globals, fields, struct_unions, enums, typenames) and the C and Python
//! writers. Method names follow CFFI's so the two can be read side by side.
//! Where 1.17 and 2.0 wrote other text, the writers branch on
//! [`EmitOptions::cffi_version`] (the differences are listed in
//! `cffi_version.rs`).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::LazyLock;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::fmt::Write as _;

/// `self.prnt(&format!(...))` without the intermediate String: formats
/// straight into the output (the emitter's hottest path).
macro_rules! pf {
    ($s:expr, $($arg:tt)*) => {{
        let _ = writeln!($s.out, $($arg)*);
    }};
}

use super::{CffiRuntime, CffiVersion, EmitError, EmitOptions};
use crate::cdef::Ffi;
use crate::model::{ArrayLength, DeclKind, DeclValue, Quals, StructKind, TypeId, TypeKind, Types};

const VERSION_BASE: u32 = 0x2601;
const VERSION_EMBEDDED: u32 = 0x2701;
const VERSION_CHAR16CHAR32: u32 = 0x2801;

const OP_PRIMITIVE: u8 = 1;
const OP_POINTER: u8 = 3;
const OP_ARRAY: u8 = 5;
const OP_OPEN_ARRAY: u8 = 7;
const OP_STRUCT_UNION: u8 = 9;
const OP_ENUM: u8 = 11;
const OP_FUNCTION: u8 = 13;
const OP_FUNCTION_END: u8 = 15;
const OP_NOOP: u8 = 17;
const OP_BITFIELD: u8 = 19;
const OP_CPYTHON_BLTN_V: u8 = 23;
const OP_CPYTHON_BLTN_N: u8 = 25;
const OP_CPYTHON_BLTN_O: u8 = 27;
const OP_CONSTANT: u8 = 29;
const OP_CONSTANT_INT: u8 = 31;
const OP_GLOBAL_VAR: u8 = 33;
const OP_DLOPEN_FUNC: u8 = 35;
const OP_DLOPEN_CONST: u8 = 37;
const OP_GLOBAL_VAR_F: u8 = 39;
const OP_EXTERN_PYTHON: u8 = 41;

fn op_class_name(op: u8) -> &'static str {
    match op {
        OP_PRIMITIVE => "PRIMITIVE",
        OP_POINTER => "POINTER",
        OP_ARRAY => "ARRAY",
        OP_OPEN_ARRAY => "OPEN_ARRAY",
        OP_STRUCT_UNION => "STRUCT_UNION",
        OP_ENUM => "ENUM",
        OP_FUNCTION => "FUNCTION",
        OP_FUNCTION_END => "FUNCTION_END",
        OP_NOOP => "NOOP",
        OP_BITFIELD => "BITFIELD",
        21 => "TYPENAME",
        OP_CPYTHON_BLTN_V => "CPYTHON_BLTN_V",
        OP_CPYTHON_BLTN_N => "CPYTHON_BLTN_N",
        OP_CPYTHON_BLTN_O => "CPYTHON_BLTN_O",
        OP_CONSTANT => "CONSTANT",
        OP_CONSTANT_INT => "CONSTANT_INT",
        OP_GLOBAL_VAR => "GLOBAL_VAR",
        OP_DLOPEN_FUNC => "DLOPEN_FUNC",
        OP_DLOPEN_CONST => "DLOPEN_CONST",
        OP_GLOBAL_VAR_F => "GLOBAL_VAR_F",
        OP_EXTERN_PYTHON => "EXTERN_PYTHON",
        _ => "?",
    }
}

/// CFFI's `PRIMITIVE_TO_INDEX`.
fn primitive_index(name: &str) -> Option<i64> {
    Some(match name {
        "char" => 2,
        "short" => 5,
        "int" => 7,
        "long" => 9,
        "long long" => 11,
        "signed char" => 3,
        "unsigned char" => 4,
        "unsigned short" => 6,
        "unsigned int" => 8,
        "unsigned long" => 10,
        "unsigned long long" => 12,
        "float" => 13,
        "double" => 14,
        "long double" => 15,
        "_cffi_float_complex_t" => 48,
        "_cffi_double_complex_t" => 49,
        "_Bool" => 1,
        "wchar_t" => 16,
        "char16_t" => 50,
        "char32_t" => 51,
        "int8_t" => 17,
        "uint8_t" => 18,
        "int16_t" => 19,
        "uint16_t" => 20,
        "int32_t" => 21,
        "uint32_t" => 22,
        "int64_t" => 23,
        "uint64_t" => 24,
        "intptr_t" => 25,
        "uintptr_t" => 26,
        "ptrdiff_t" => 27,
        "size_t" => 28,
        "ssize_t" => 29,
        "int_least8_t" => 30,
        "uint_least8_t" => 31,
        "int_least16_t" => 32,
        "uint_least16_t" => 33,
        "int_least32_t" => 34,
        "uint_least32_t" => 35,
        "int_least64_t" => 36,
        "uint_least64_t" => 37,
        "int_fast8_t" => 38,
        "uint_fast8_t" => 39,
        "int_fast16_t" => 40,
        "uint_fast16_t" => 41,
        "int_fast32_t" => 42,
        "uint_fast32_t" => 43,
        "int_fast64_t" => 44,
        "uint_fast64_t" => 45,
        "intmax_t" => 46,
        "uintmax_t" => 47,
        _ => return None,
    })
}

/// An opcode argument: a number or a C expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Int(i64),
    Str(String),
}

impl std::fmt::Display for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arg::Int(n) => write!(f, "{n}"),
            Arg::Str(s) => f.write_str(s),
        }
    }
}

/// CFFI's `CffiOp`; `op == None` is a raw length.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CffiOp {
    op: Option<u8>,
    arg: Arg,
}

impl CffiOp {
    fn new(op: u8, arg: i64) -> Self {
        CffiOp {
            op: Some(op),
            arg: Arg::Int(arg),
        }
    }

    /// The C expression (`_CFFI_OP(_CFFI_OP_POINTER, 3)`), displayed
    /// straight into the output.
    fn as_c_expr(&self) -> CExpr<'_> {
        CExpr(self)
    }

    fn as_python_bytes(&self) -> Result<String, EmitError> {
        if let (None, Arg::Str(s)) = (self.op, &self.arg)
            && !s.is_empty()
            && s.chars().all(|c| c.is_ascii_digit())
        {
            let v: u128 = s.parse().unwrap_or(u128::MAX);
            if v >= 1 << 31 {
                return Err(err(format!(
                    "cannot emit {}: limited to 2**31-1",
                    py_repr(s)
                )));
            }
            return Ok(format_four_bytes(v as i64));
        }
        match (&self.arg, self.op) {
            (Arg::Str(s), _) => Err(err(format!("cannot emit to Python: {}", py_repr(s)))),
            (Arg::Int(n), Some(op)) => Ok(format_four_bytes((n << 8) | op as i64)),
            (Arg::Int(n), None) => Ok(format_four_bytes(*n)),
        }
    }
}

/// `prefix` followed by `i` (`x3`, `&arg0`): the names of a wrapper's
/// arguments, made once for the usual counts instead of formatted for
/// every argument of every function.
fn numbered(prefix: &'static str, i: usize) -> Cow<'static, str> {
    const PREFIXES: [&str; 5] = [" x", "x", "arg", "&arg", " a"];
    const N: usize = 64;
    static NAMES: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
        PREFIXES
            .iter()
            .map(|p| (0..N).map(|i| format!("{p}{i}")).collect())
            .collect()
    });
    match PREFIXES.iter().position(|p| *p == prefix) {
        Some(k) if i < N => Cow::Borrowed(NAMES[k][i].as_str()),
        _ => Cow::Owned(format!("{prefix}{i}")),
    }
}

struct CExpr<'a>(&'a CffiOp);

impl std::fmt::Display for CExpr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.op {
            None => write!(f, "(_cffi_opcode_t)({})", self.0.arg),
            Some(op) => write!(
                f,
                "_CFFI_OP(_CFFI_OP_{}, {})",
                op_class_name(op),
                self.0.arg
            ),
        }
    }
}

fn format_four_bytes(num: i64) -> String {
    format!(
        "\\x{:02X}\\x{:02X}\\x{:02X}\\x{:02X}",
        (num >> 24) & 0xFF,
        (num >> 16) & 0xFF,
        (num >> 8) & 0xFF,
        num & 0xFF
    )
}

/// Python's `repr()` of a string (quotes chosen as Python does).
pub(crate) fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// The error kinds CFFI raises while emitting, named in the message.
fn err(message: String) -> EmitError {
    EmitError { message }
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

    fn typenum(&mut self, t: TypeId) -> Result<usize, EmitError> {
        let c = self.types.canonical(t);
        match self.typesdict.get(&c) {
            Some(Some(i)) => Ok(*i),
            _ => Err(err(format!(
                "internal error: type {} is not in the type table",
                self.repr(t)
            ))),
        }
    }

    fn is_included(&mut self, t: TypeId) -> bool {
        self.ffi.is_included(self.types, t)
    }

    // ---- the type table -----------------------------------------------

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
    fn placed(&self, index: usize, e: EmitError) -> EmitError {
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
        EmitError {
            message: format!(
                "{at}{} {name}: type '{}': {}",
                kind.as_str(),
                self.types.c_name_plain(t),
                e.message
            ),
        }
    }

    fn enum_fields(&self, tp: TypeId) -> Vec<crate::model::Field> {
        self.types.enumfields(tp, !self.target_is_python)
    }

    fn do_collect_type(&mut self, tp: TypeId) -> Result<(), EmitError> {
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
                EmitError {
                    message: format!("{at}{} {}: {}", kind.as_str(), name, e.message),
                }
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

    fn typedef_type(&mut self, tp: TypeId, name: &str) -> Result<TypeId, EmitError> {
        self.global_type(tp, &format!("(*({name} *)0)"))
    }

    fn typedef_ctx(&mut self, tp: TypeId, name: &str) -> Result<(), EmitError> {
        let type_index = self.typenum(tp)?;
        self.lsts.typename.push(TypenameExpr {
            name: name.to_string(),
            type_index,
        });
        Ok(())
    }

    fn global_type(&mut self, tp: TypeId, global_name: &str) -> Result<TypeId, EmitError> {
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

    fn field_type(
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

    fn struct_collecttype(&mut self, tp: TypeId) -> Result<(), EmitError> {
        self.do_collect_type(tp)?;
        if self.target_is_python {
            for f in self.types.anonymous_struct_fields(tp) {
                self.struct_collecttype(f)?;
            }
        }
        Ok(())
    }

    fn struct_names(&self, tp: TypeId) -> Result<(String, String), EmitError> {
        let cname = self.cn(tp, "")?;
        if cname.contains(' ') {
            let a = cname.replace(' ', "_");
            Ok((cname, a))
        } else {
            let a = format!("_{cname}");
            Ok((cname, a))
        }
    }

    fn struct_decl(&mut self, tp: TypeId, cname: &str, approxname: &str) -> Result<(), EmitError> {
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
                Err(e) => pf!(self, "  /* {} */", e.message),
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

    fn struct_ctx(
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

    fn add_missing_struct_unions(&mut self) -> Result<(), EmitError> {
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

    // ---- constants and enums ------------------------------------------

    fn generate_const(
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

    fn constant_ctx(&mut self, tp: TypeId, name: &str) -> Result<(), EmitError> {
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

    fn enum_decl(&mut self, tp: TypeId) -> Result<(), EmitError> {
        let names = self.types.as_enum(tp).expect("an enum").enumerators.clone();
        for e in names {
            self.generate_const(true, &e, None, None)?;
        }
        Ok(())
    }

    fn enum_ctx(&mut self, tp: TypeId, cname: Option<&str>) -> Result<(), EmitError> {
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

    // ---- functions ----------------------------------------------------

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

    fn function_decl(&mut self, tp: TypeId, name: &str) -> Result<(), EmitError> {
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

    fn variable_decl(&mut self, tp: TypeId, name: &str) -> Result<(), EmitError> {
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

    fn extern_python_decl(
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

    // ---- writers --------------------------------------------------------

    fn print_string_literal_in_array(&mut self, s: &str) {
        self.prnt("// # NB. this is not a string because of a size limit in MSVC");
        // cffi before 2.1 declared the encoding of non-ASCII code.
        let s: Cow<str> = if self.options.cffi_version < CffiVersion::V2_1 && !s.is_ascii() {
            Cow::Owned(format!("# -*- encoding: utf8 -*-\n{s}"))
        } else {
            Cow::Borrowed(s)
        };
        for line in split_lines_keep(s.as_bytes()) {
            let comment = bytes_ascii_repr_tail(line);
            let c = format!("// {comment}");
            self.prnt(c.trim_end());
            let mut printed = String::new();
            for &b in line {
                if printed.len() >= 76 {
                    self.prnt(&printed);
                    printed.clear();
                }
                let _ = write!(printed, "{b},");
            }
            self.prnt(&printed);
        }
    }

    pub(crate) fn write_c_source(
        mut self,
        preamble: &str,
        runtime: &CffiRuntime,
    ) -> Result<String, EmitError> {
        // About a kilobyte of C per declaration: one allocation instead of a
        // dozen doublings of a multi-megabyte string.
        self.out.reserve(
            runtime.include_h.len()
                + runtime.parse_c_type_h.len()
                + preamble.len()
                + 1024 * self.sorted_decls.len(),
        );
        if self.ffi.embedding.is_some() {
            self.prnt("#define _CFFI_USE_EMBEDDING");
        }
        if self.options.no_limited_api {
            self.prnt("#define _CFFI_NO_LIMITED_API");
        }
        let include = splice(
            &runtime.include_h,
            "#include \"parse_c_type.h\"\n",
            &runtime.parse_c_type_h,
        )?;
        self.prnt(&include);
        let base_module_name = self
            .module_name
            .rsplit('.')
            .next()
            .unwrap_or(self.module_name)
            .to_string();
        if let Some(embedding) = self.ffi.embedding.clone() {
            pf!(self, "#define _CFFI_MODULE_NAME  \"{}\"", self.module_name);
            self.prnt("static const char _CFFI_PYTHON_STARTUP_CODE[] = {");
            self.print_string_literal_in_array(&embedding);
            self.prnt("0 };");
            self.prnt("#ifdef PYPY_VERSION");
            pf!(
                self,
                "# define _CFFI_PYTHON_STARTUP_FUNC  _cffi_pypyinit_{base_module_name}"
            );
            if self.options.cffi_version < CffiVersion::V2_1 {
                self.prnt("#elif PY_MAJOR_VERSION >= 3");
                pf!(
                    self,
                    "# define _CFFI_PYTHON_STARTUP_FUNC  PyInit_{base_module_name}"
                );
                self.prnt("#else");
                pf!(
                    self,
                    "# define _CFFI_PYTHON_STARTUP_FUNC  init{base_module_name}"
                );
            } else {
                self.prnt("#else");
                pf!(
                    self,
                    "# define _CFFI_PYTHON_STARTUP_FUNC  PyInit_{base_module_name}"
                );
            }
            self.prnt("#endif");
            let emb = splice(
                &runtime.embedding_h,
                "#include \"_cffi_errors.h\"\n",
                &runtime.errors_h,
            )?;
            self.prnt(&emb);
            self.needs_version(VERSION_EMBEDDED);
        }
        self.prnt("/************************************************************/");
        self.prnt("");
        self.prnt(preamble);
        self.prnt("");
        self.prnt("/************************************************************/");
        self.prnt("");
        self.prnt("static void *_cffi_types[] = {");
        let mut index2type: HashMap<usize, TypeId> = HashMap::default();
        for &t in &self.typesorder.clone() {
            let c = self.types.canonical(t);
            if let Some(Some(i)) = self.typesdict.get(&c) {
                index2type.entry(*i).or_insert(t);
            }
        }
        for i in 0..self.cffi_types.len() {
            let Slot::Op(op) = &self.cffi_types[i] else {
                return Err(err("internal error: unfilled type table slot".into()));
            };
            let _ = write!(self.out, "/* {i:2} */ {},", op.as_c_expr());
            if let Some(t) = index2type.get(&i) {
                let (a, b) = self.types.c_name_parts(*t);
                let _ = write!(self.out, " // {a}{b}");
            }
            self.out.push('\n');
        }
        if self.cffi_types.is_empty() {
            self.prnt("  0");
        }
        self.prnt("};");
        self.prnt("");
        self.generate(Step::Decl)?;
        // the tables
        let lsts = std::mem::take(&mut self.lsts);
        let nums = [
            lsts.global.len(),
            lsts.field.len(),
            lsts.struct_union.len(),
            lsts.enumx.len(),
            lsts.typename.len(),
        ];
        let names = ["global", "field", "struct_union", "enum", "typename"];
        if !lsts.global.is_empty() {
            self.prnt("static const struct _cffi_global_s _cffi_globals[] = {");
            for g in &lsts.global {
                pf!(
                    self,
                    "  {{ \"{}\", (void *){}, {}, (void *){} }},",
                    g.name,
                    g.address,
                    g.type_op.as_c_expr(),
                    g.size
                );
            }
            self.prnt("};");
            self.prnt("");
        }
        if !lsts.field.is_empty() {
            self.prnt("static const struct _cffi_field_s _cffi_fields[] = {");
            for f in &lsts.field {
                let width = f.name.chars().count() + 3;
                pf!(
                    self,
                    "  {{ \"{}\", {},\n     {:width$}{},\n     {:width$}{} }},",
                    f.name,
                    f.field_offset,
                    "",
                    f.field_size,
                    "",
                    f.field_type_op.as_c_expr()
                );
            }
            self.prnt("};");
            self.prnt("");
        }
        if !lsts.struct_union.is_empty() {
            self.prnt("static const struct _cffi_struct_union_s _cffi_struct_unions[] = {");
            for s in &lsts.struct_union {
                let mut line = format!(
                    "  {{ \"{}\", {}, {},\n    {}, {}, {}, {} ",
                    s.name,
                    s.type_index,
                    s.flags,
                    s.size,
                    s.alignment,
                    s.first_field_index,
                    s.c_fields.len()
                );
                if let Some(c) = &s.comment {
                    let _ = write!(line, "/* {c} */ ");
                }
                line.push_str("},");
                self.prnt(&line);
            }
            self.prnt("};");
            self.prnt("");
        }
        if !lsts.enumx.is_empty() {
            self.prnt("static const struct _cffi_enum_s _cffi_enums[] = {");
            for e in &lsts.enumx {
                let mut lines = vec![format!(
                    "  {{ \"{}\", {}, _cffi_prim_int({}, {}),",
                    e.name, e.type_index, e.size, e.signed
                )];
                let a = e.allenums.as_str();
                let mut pending = 0usize;
                // cffi before 2.1 wrote the list as one literal.
                while self.options.cffi_version >= CffiVersion::V2_1 && a.len() > pending + 110 {
                    let Some(j) = a[pending + 100..].find(',').map(|j| j + pending + 100) else {
                        break;
                    };
                    let j = j + 1;
                    lines.push(format!("    \"{}\"", &a[pending..j]));
                    pending = j;
                }
                lines.push(format!("    \"{}\" }},", &a[pending..]));
                self.prnt(&lines.join("\n"));
            }
            self.prnt("};");
            self.prnt("");
        }
        if !lsts.typename.is_empty() {
            self.prnt("static const struct _cffi_typename_s _cffi_typenames[] = {");
            for t in &lsts.typename {
                pf!(self, "  {{ \"{}\", {} }},", t.name, t.type_index);
            }
            self.prnt("};");
            self.prnt("");
        }
        if !self.ffi.included_ffis.is_empty() {
            self.prnt("static const char * const _cffi_includes[] = {");
            for inc in &self.ffi.included_ffis {
                if inc.module_name.is_empty() {
                    return Err(verification(
                        "ffi object includes another, but the latter has not been prepared with set_source()".into(),
                    ));
                }
                if inc.abi_mode {
                    return Err(verification(
                        "not implemented yet: ffi.include() of a Python-based ffi inside a C-based ffi".into(),
                    ));
                }
                let line = format!("  \"{}\",", inc.module_name);
                self.prnt(&line);
            }
            self.prnt("  NULL");
            self.prnt("};");
            self.prnt("");
        }
        self.prnt("static const struct _cffi_type_context_s _cffi_type_context = {");
        self.prnt("  _cffi_types,");
        for (n, name) in nums.iter().zip(names) {
            if *n > 0 {
                pf!(self, "  _cffi_{name}s,");
            } else {
                pf!(self, "  NULL,  /* no {name}s */");
            }
        }
        for (n, name) in nums.iter().zip(names) {
            if name != "field" {
                pf!(self, "  {n},  /* num_{name}s */");
            }
        }
        if !self.ffi.included_ffis.is_empty() {
            self.prnt("  _cffi_includes,");
        } else {
            self.prnt("  NULL,  /* no includes */");
        }
        pf!(self, "  {},  /* num_types */", self.cffi_types.len());
        let flags = i32::from(self.num_externpy > 0 || self.ffi.embedding.is_some());
        pf!(self, "  {flags},  /* flags */");
        self.prnt("};");
        self.prnt("");
        self.prnt("#ifdef __GNUC__");
        self.prnt("#  pragma GCC visibility push(default)  /* for -fvisibility= */");
        self.prnt("#endif");
        self.prnt("");
        self.prnt("#ifdef PYPY_VERSION");
        self.prnt("PyMODINIT_FUNC");
        pf!(self, "_cffi_pypyinit_{base_module_name}(const void *p[])");
        self.prnt("{");
        if flags & 1 != 0 {
            self.prnt("    if (((intptr_t)p[0]) >= 0x0A03) {");
            self.prnt(
                "        _cffi_call_python_org = (void(*)(struct _cffi_externpy_s *, char *))p[1];",
            );
            self.prnt("    }");
        }
        // cffi before 2.1 still wrote the Python 2 branches.
        let py2 = self.options.cffi_version < CffiVersion::V2_1;
        pf!(self, "    p[0] = (const void *)0x{:x};", self.version);
        self.prnt("    p[1] = &_cffi_type_context;");
        if py2 {
            self.prnt("#if PY_MAJOR_VERSION >= 3");
        }
        self.prnt("    return NULL;");
        if py2 {
            self.prnt("#endif");
        }
        self.prnt("}");
        self.prnt("#  ifdef _MSC_VER");
        self.prnt("     PyMODINIT_FUNC");
        if py2 {
            self.prnt("#  if PY_MAJOR_VERSION >= 3");
        }
        pf!(
            self,
            "     PyInit_{base_module_name}(void) {{ return NULL; }}"
        );
        if py2 {
            self.prnt("#  else");
            pf!(self, "     init{base_module_name}(void) {{ }}");
            self.prnt("#  endif");
        }
        self.prnt("#  endif");
        self.prnt(if py2 {
            "#elif PY_MAJOR_VERSION >= 3"
        } else {
            "#else"
        });
        self.prnt("PyMODINIT_FUNC");
        pf!(self, "PyInit_{base_module_name}(void)");
        self.prnt("{");
        pf!(
            self,
            "  return _cffi_init(\"{}\", 0x{:x}, &_cffi_type_context);",
            self.module_name,
            self.version
        );
        self.prnt("}");
        if py2 {
            self.prnt("#else");
            self.prnt("PyMODINIT_FUNC");
            pf!(self, "init{base_module_name}(void)");
            self.prnt("{");
            pf!(
                self,
                "  _cffi_init(\"{}\", 0x{:x}, &_cffi_type_context);",
                self.module_name,
                self.version
            );
            self.prnt("}");
        }
        self.prnt("#endif");
        self.prnt("");
        self.prnt("#ifdef __GNUC__");
        self.prnt("#  pragma GCC visibility pop");
        self.prnt("#endif");
        Ok(self.out)
    }

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

/// Replaces the line `marker` (with its newline) in `text` by `insert`.
fn splice(text: &str, marker: &str, insert: &str) -> Result<String, EmitError> {
    // CFFI finds the marker as a whole line.
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line == marker {
            return Ok(format!(
                "{}{}{}",
                &text[..pos],
                insert,
                &text[pos + line.len()..]
            ));
        }
        pos += line.len();
    }
    Err(err(format!(
        "CFFI's header does not contain the line {}",
        marker.trim_end()
    )))
}

/// `bytes.splitlines(True)`: lines with their ends (`\n`, `\r\n`, `\r`).
fn split_lines_keep(s: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\n' {
            out.push(&s[start..=i]);
            start = i + 1;
        } else if s[i] == b'\r' {
            let end = if i + 1 < s.len() && s[i + 1] == b'\n' {
                i + 1
            } else {
                i
            };
            out.push(&s[start..=end]);
            i = end;
            start = end + 1;
        }
        i += 1;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `ascii(bytes)[1:-1]`: the repr of a bytes object without the `b` and the
/// closing quote (CFFI's comment above each embedded line).
fn bytes_ascii_repr_tail(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::new();
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            c if !(0x20..0x7f).contains(&c) => {
                let _ = write!(out, "\\x{c:02x}");
            }
            c => out.push(c as char),
        }
    }
    out
}

#[cfg(test)]
mod tests;
