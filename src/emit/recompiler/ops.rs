//! CFFI's `CffiOp`: the opcodes of the type table and the step tables, and
//! their spellings in C (`_CFFI_OP(...)`) and in Python (four-byte strings).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::LazyLock;

use super::err;
use crate::emit::EmitError;

pub(super) const OP_PRIMITIVE: u8 = 1;
pub(super) const OP_POINTER: u8 = 3;
pub(super) const OP_ARRAY: u8 = 5;
pub(super) const OP_OPEN_ARRAY: u8 = 7;
pub(super) const OP_STRUCT_UNION: u8 = 9;
pub(super) const OP_ENUM: u8 = 11;
pub(super) const OP_FUNCTION: u8 = 13;
pub(super) const OP_FUNCTION_END: u8 = 15;
pub(super) const OP_NOOP: u8 = 17;
pub(super) const OP_BITFIELD: u8 = 19;
pub(super) const OP_CPYTHON_BLTN_V: u8 = 23;
pub(super) const OP_CPYTHON_BLTN_N: u8 = 25;
pub(super) const OP_CPYTHON_BLTN_O: u8 = 27;
pub(super) const OP_CONSTANT: u8 = 29;
pub(super) const OP_CONSTANT_INT: u8 = 31;
pub(super) const OP_GLOBAL_VAR: u8 = 33;
pub(super) const OP_DLOPEN_FUNC: u8 = 35;
pub(super) const OP_DLOPEN_CONST: u8 = 37;
pub(super) const OP_GLOBAL_VAR_F: u8 = 39;
pub(super) const OP_EXTERN_PYTHON: u8 = 41;

pub(super) fn op_class_name(op: u8) -> &'static str {
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
pub(super) fn primitive_index(name: &str) -> Option<i64> {
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
pub(super) enum Arg {
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
pub(super) struct CffiOp {
    pub(super) op: Option<u8>,
    pub(super) arg: Arg,
}

impl CffiOp {
    pub(super) fn new(op: u8, arg: i64) -> Self {
        CffiOp {
            op: Some(op),
            arg: Arg::Int(arg),
        }
    }

    /// The C expression (`_CFFI_OP(_CFFI_OP_POINTER, 3)`), displayed
    /// straight into the output.
    pub(super) fn as_c_expr(&self) -> CExpr<'_> {
        CExpr(self)
    }

    pub(super) fn as_python_bytes(&self) -> Result<String, EmitError> {
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
pub(super) fn numbered(prefix: &'static str, i: usize) -> Cow<'static, str> {
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

pub(super) struct CExpr<'a>(&'a CffiOp);

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

pub(super) fn format_four_bytes(num: i64) -> String {
    format!(
        "\\x{:02X}\\x{:02X}\\x{:02X}\\x{:02X}",
        (num >> 24) & 0xFF,
        (num >> 16) & 0xFF,
        (num >> 8) & 0xFF,
        num & 0xFF
    )
}

/// Python's `repr()` of a string (quotes chosen as Python does).
pub(super) fn py_repr(s: &str) -> String {
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
