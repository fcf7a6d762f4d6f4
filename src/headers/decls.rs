//! The header model: a plain-data picture of a header's declarations, made
//! by one libclang walk ([`super::parse`]) and written as CFFI cdef by
//! [`crate::cdef::writer`]. Serializable, so it can be cached.

use serde::{Deserialize, Serialize};

/// A C type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CType {
    /// `void`.
    Void,
    /// A builtin type, spelled as CFFI spells it (`unsigned long`).
    Prim(String),
    /// A typedef name.
    Typedef(String),
    /// A struct or union, by index in [`HeaderModel::records`].
    Record(usize),
    /// An enum, by index in [`HeaderModel::enums`].
    Enum(usize),
    /// A pointer.
    Pointer(Box<CType>),
    /// A qualified type.
    Qual {
        /// The type.
        ty: Box<CType>,
        /// `const`.
        konst: bool,
        /// `volatile`.
        volatile: bool,
    },
    /// An array (`None`: `[]`).
    Array(Box<CType>, Option<u64>),
    /// A function type.
    Function {
        /// Result.
        ret: Box<CType>,
        /// Parameter types.
        params: Vec<CType>,
        /// `...`.
        variadic: bool,
    },
    /// Something CFFI cannot express (`va_list`, vectors, `__int128`...).
    Unsupported(String),
}

impl CType {
    /// The type without qualifiers.
    pub fn unqualified(&self) -> &CType {
        match self {
            CType::Qual { ty, .. } => ty.unqualified(),
            t => t,
        }
    }
}

/// Where a declaration is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Loc {
    /// File (as libclang reports it).
    pub file: String,
    /// Line.
    pub line: u32,
    /// Declared in one of the project's headers.
    pub project: bool,
}

/// A struct or union field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Name (`None`: anonymous member or unnamed bitfield).
    pub name: Option<String>,
    /// Type.
    pub ty: CType,
    /// Bit width of a bitfield.
    pub bits: Option<u32>,
    /// Offset in bits, from libclang.
    pub offset_bits: Option<u64>,
}

/// A struct or union.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// `union` rather than `struct`.
    pub is_union: bool,
    /// The tag.
    pub tag: Option<String>,
    /// The fields, when defined.
    pub fields: Option<Vec<Field>>,
    /// The layout is not the one CFFI computes from the fields as a cdef
    /// spells them (`packed`, `#pragma pack`, `aligned` on the record, a
    /// member or a member's typedef): the record is written partial.
    pub packed: bool,
    /// `sizeof`, from libclang.
    pub size: Option<u64>,
    /// `_Alignof`, from libclang.
    pub align: Option<u64>,
    /// Where.
    pub loc: Loc,
}

/// An enum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumDecl {
    /// The tag.
    pub tag: Option<String>,
    /// Enumerators and values.
    pub values: Vec<(String, i128)>,
    /// Where.
    pub loc: Loc,
}

/// A typedef.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typedef {
    /// Name.
    pub name: String,
    /// Underlying type.
    pub ty: CType,
    /// The canonical type is an integer (for `typedef int... t;`).
    pub integer: bool,
    /// The canonical type is a floating type.
    pub floating: bool,
    /// `Some(n)`: an `aligned` attribute on the typedef gives it an
    /// alignment its type does not have, which a cdef cannot express.
    #[serde(default)]
    pub over_aligned: Option<u64>,
    /// Where.
    pub loc: Loc,
}

/// A function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    /// Name.
    pub name: String,
    /// Its type ([`CType::Function`]).
    pub ty: CType,
    /// Parameter names.
    pub param_names: Vec<Option<String>>,
    /// `static` or `inline`: compiled into the module, not a library symbol.
    pub inline: bool,
    /// Marked deprecated by the header (`__attribute__((deprecated))`).
    #[serde(default)]
    pub deprecated: bool,
    /// Where.
    pub loc: Loc,
}

/// A global variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: CType,
    /// `static const`: compiled into the module, not a library symbol.
    #[serde(default)]
    pub is_static: bool,
    /// Marked deprecated by the header (`__attribute__((deprecated))`).
    #[serde(default)]
    pub deprecated: bool,
    /// Where.
    pub loc: Loc,
}

/// An object-like macro.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Macro {
    /// Name.
    pub name: String,
    /// The replacement tokens.
    pub tokens: Vec<String>,
    /// Its integer value, when it is an integer constant expression where
    /// the header ends (the compiler's answer).
    pub value: Option<i128>,
    /// Its text, when it is a string literal.
    #[serde(default)]
    pub string: Option<String>,
    /// The function or variable it names (`#define EVP_MD_size
    /// EVP_MD_get_size`, `#define ffi_type_sint ffi_type_sint32`).
    #[serde(default)]
    pub alias: Option<String>,
    /// Where.
    pub loc: Loc,
}

/// A top-level declaration, in source order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Item {
    /// A struct or union definition or declaration.
    Record(usize),
    /// An enum.
    Enum(usize),
    /// A typedef.
    Typedef(usize),
    /// A function.
    Function(usize),
    /// A variable.
    Variable(usize),
}

/// Everything one header (with what it includes) declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderModel {
    /// Structs and unions.
    pub records: Vec<Record>,
    /// Enums.
    pub enums: Vec<EnumDecl>,
    /// Typedefs.
    pub typedefs: Vec<Typedef>,
    /// Functions.
    pub functions: Vec<Function>,
    /// Variables.
    pub variables: Vec<Variable>,
    /// Macros of the project's headers.
    pub macros: Vec<Macro>,
    /// Top-level declarations in source order.
    pub items: Vec<Item>,
    /// Every file the preprocessor opened (for the cache manifest).
    pub files: Vec<String>,
}
