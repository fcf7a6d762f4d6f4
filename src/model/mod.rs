//! CFFI's type model: types with their exact C names, and declarations in
//! CFFI's order.
//!
//! CFFI (`cffi/model.py`) has two notions of sameness, and both matter for
//! byte-identical output:
//!
//! * **identity** (`is`): the parser rejects a second declaration of a name
//!   unless it is the *same object* (`prevobj is obj`); structs, unions and
//!   enums are only ever equal to themselves.
//! * **structure** (`==`): the recompiler's type table merges equal
//!   primitive, pointer, array and function types.
//!
//! So every constructed type gets a fresh [`TypeId`] in the [`Types`] arena
//! (identity is id equality), and [`Types::structural_key`] gives the
//! structural key used where CFFI compares with `==`. Parsers reuse an
//! existing id exactly where CFFI reuses an object (typedef lookups, struct
//! tags, the `void` singleton, the common-types cache).
//!
//! Every type stores its C name "with marker": the C spelling with `&` where
//! a declarator name goes (`int(*&)(void)`), computed when the type is made,
//! as CFFI does. Struct, union and enum names can change later
//! ([`Types::force_the_name`]), and only their own names follow the change.

use rustc_hash::FxHashMap as HashMap;

mod declarations;
mod names;
mod types;

pub use declarations::{DeclKind, DeclValue, Declaration, Declarations};
pub use names::qualify;

/// `const` type qualifier bit (CFFI's `Q_CONST`).
pub const Q_CONST: u8 = 0x01;
/// `restrict` type qualifier bit (CFFI's `Q_RESTRICT`).
pub const Q_RESTRICT: u8 = 0x02;
/// `volatile` type qualifier bit (CFFI's `Q_VOLATILE`).
pub const Q_VOLATILE: u8 = 0x04;

/// A bit set of [`Q_CONST`], [`Q_RESTRICT`], [`Q_VOLATILE`].
pub type Quals = u8;

/// Index of a type in a [`Types`] arena. Equal ids mean the same object
/// (CFFI's `is`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(u32);

impl TypeId {
    /// The position of this type in its arena.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What kind of number a primitive type holds (CFFI's
/// `ALL_PRIMITIVE_TYPES` letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrimitiveKind {
    /// `'c'`: char, wchar_t, char16_t, char32_t.
    Char,
    /// `'i'`: every integer type, `_Bool` included.
    Integer,
    /// `'f'`: float, double, long double.
    Float,
    /// `'j'`: the complex types.
    Complex,
}

/// CFFI's primitive types, in CFFI's order, with their kind.
pub const ALL_PRIMITIVE_TYPES: &[(&str, PrimitiveKind)] = {
    use PrimitiveKind::*;
    &[
        ("char", Char),
        ("short", Integer),
        ("int", Integer),
        ("long", Integer),
        ("long long", Integer),
        ("signed char", Integer),
        ("unsigned char", Integer),
        ("unsigned short", Integer),
        ("unsigned int", Integer),
        ("unsigned long", Integer),
        ("unsigned long long", Integer),
        ("float", Float),
        ("double", Float),
        ("long double", Float),
        ("_cffi_float_complex_t", Complex),
        ("_cffi_double_complex_t", Complex),
        ("_Bool", Integer),
        ("wchar_t", Char),
        ("char16_t", Char),
        ("char32_t", Char),
        ("int8_t", Integer),
        ("uint8_t", Integer),
        ("int16_t", Integer),
        ("uint16_t", Integer),
        ("int32_t", Integer),
        ("uint32_t", Integer),
        ("int64_t", Integer),
        ("uint64_t", Integer),
        ("int_least8_t", Integer),
        ("uint_least8_t", Integer),
        ("int_least16_t", Integer),
        ("uint_least16_t", Integer),
        ("int_least32_t", Integer),
        ("uint_least32_t", Integer),
        ("int_least64_t", Integer),
        ("uint_least64_t", Integer),
        ("int_fast8_t", Integer),
        ("uint_fast8_t", Integer),
        ("int_fast16_t", Integer),
        ("uint_fast16_t", Integer),
        ("int_fast32_t", Integer),
        ("uint_fast32_t", Integer),
        ("int_fast64_t", Integer),
        ("uint_fast64_t", Integer),
        ("intptr_t", Integer),
        ("uintptr_t", Integer),
        ("intmax_t", Integer),
        ("uintmax_t", Integer),
        ("ptrdiff_t", Integer),
        ("size_t", Integer),
        ("ssize_t", Integer),
    ]
};

/// The kind of `name` if it is one of CFFI's primitive types.
pub fn primitive_kind(name: &str) -> Option<PrimitiveKind> {
    ALL_PRIMITIVE_TYPES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
}

/// The length of an array type (CFFI's `ArrayType.length`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArrayLength {
    /// `T[]` (`None`).
    Open,
    /// A known length (a Python int).
    Known(u64),
    /// `T[...]`: the compiler decides (`'...'`).
    Dots,
    /// A C expression computing the length, e.g. CFFI's
    /// `_cffi_array_len(*(foo_t *)0)` for `typedef int foo_t[...];`.
    /// Like [`ArrayLength::Dots`] it counts as unknown.
    Expr(String),
}

impl ArrayLength {
    /// CFFI's `length_is_unknown()`: the length is a string.
    pub fn is_unknown(&self) -> bool {
        matches!(self, ArrayLength::Dots | ArrayLength::Expr(_))
    }
}

/// A function signature (CFFI's `BaseFunctionType` attributes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionSig {
    /// Argument types.
    pub args: Vec<TypeId>,
    /// Result type.
    pub result: TypeId,
    /// Variadic (`...` after the arguments).
    pub ellipsis: bool,
    /// Calling convention, e.g. `Some("__stdcall")`.
    pub abi: Option<String>,
}

/// `struct` or `union`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StructKind {
    /// `struct`.
    Struct,
    /// `union`.
    Union,
}

impl StructKind {
    /// The C keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            StructKind::Struct => "struct",
            StructKind::Union => "union",
        }
    }
}

/// One field of a struct or union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field name; empty for an anonymous nested struct/union or an unnamed bitfield.
    pub name: String,
    /// Field type.
    pub ty: TypeId,
    /// Bit size, or -1 when the field is not a bitfield.
    pub bitsize: i64,
    /// Qualifiers of the field.
    pub quals: Quals,
}

/// A struct or union (CFFI's `StructOrUnion`): compared by identity and
/// completed in place once its body is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOrUnion {
    /// `struct` or `union`.
    pub kind: StructKind,
    /// The tag, or an invented name (`$1`, `$foo_t`) for anonymous ones.
    pub name: String,
    /// The fields; `None` while the type is opaque.
    pub fields: Option<Vec<Field>>,
    /// Declared with `...;`: the compiler completes the layout.
    pub partial: bool,
    /// Packing: 0 (default), 1 (`packed=True`) or the `pack=N` value.
    pub packed: u32,
    /// The C name forced on it (`force_the_name`), e.g. a typedef name.
    pub forcename: Option<String>,
    /// Made for an unknown type name (`typedef ... foo_t;`), CFFI's
    /// `origin = "unknown_type"`.
    pub unknown_type_origin: bool,
}

/// An enum (CFFI's `EnumType`): compared by identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    /// The tag, or an invented name for anonymous enums.
    pub name: String,
    /// The enumerator names, in order.
    pub enumerators: Vec<String>,
    /// Their values.
    pub enumvalues: Vec<i128>,
    /// The base integer type, when known (`typedef int... e_t` style).
    pub baseinttype: Option<TypeId>,
    /// Declared with a trailing `...`.
    pub partial: bool,
    /// The partial enum was completed by the compiler.
    pub partial_resolved: bool,
    /// The C name forced on it (`force_the_name`).
    pub forcename: Option<String>,
}

/// The kinds of CFFI types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    /// `void`.
    Void,
    /// One of [`ALL_PRIMITIVE_TYPES`].
    Primitive(String),
    /// `typedef int... foo_t;`: an integer type of unknown size.
    UnknownInteger(String),
    /// `typedef float... foo_t;`: a float type of unknown size.
    UnknownFloat(String),
    /// A function type, not a pointer to one (`int(int)`).
    RawFunction(FunctionSig),
    /// A pointer to a function (`int(*)(int)`).
    FunctionPtr(FunctionSig),
    /// A pointer; `quals` qualify the pointed-to type (`const int *`).
    Pointer {
        /// The pointed-to type.
        totype: TypeId,
        /// Qualifiers of the pointed-to type (CFFI's `PointerType.quals`).
        quals: Quals,
    },
    /// `typedef ... *foo_p;`: a pointer known only by its name.
    NamedPointer {
        /// The pointed-to (opaque) type.
        totype: TypeId,
        /// The typedef name, which is also its C name.
        name: String,
        /// Qualifiers of the pointed-to type.
        quals: Quals,
    },
    /// An array.
    Array {
        /// The item type.
        item: TypeId,
        /// The length.
        length: ArrayLength,
    },
    /// A struct or union.
    StructOrUnion(StructOrUnion),
    /// An enum.
    Enum(EnumType),
}

/// A type and its C name with the `&` marker.
#[derive(Debug, Clone)]
pub struct TypeData {
    /// What the type is.
    pub kind: TypeKind,
    c_name_with_marker: String,
    /// Where the '&' is in `c_name_with_marker`.
    amp: u32,
    /// 1 + the deepest type it is made of.
    depth: u32,
}

impl TypeData {
    /// The C name with `&` where a declarator goes (CFFI's `c_name_with_marker`).
    pub fn c_name_with_marker(&self) -> &str {
        &self.c_name_with_marker
    }
}

/// The structural key of a type: equal keys mean CFFI's `==` holds.
/// Children are keyed by their canonical id (see [`Types::canonical`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StructuralKey {
    /// Structs, unions and enums: only equal to themselves.
    Identity(TypeId),
    /// `void`.
    Void,
    /// A primitive type by name.
    Primitive(String),
    /// An unknown integer type by name.
    UnknownInteger(String),
    /// An unknown float type by name.
    UnknownFloat(String),
    /// A raw function type.
    RawFunction(Vec<TypeId>, TypeId, bool, Option<String>),
    /// A function pointer type.
    FunctionPtr(Vec<TypeId>, TypeId, bool, Option<String>),
    /// A pointer.
    Pointer(TypeId, Quals),
    /// A named pointer (CFFI compares `totype` and `name` only).
    NamedPointer(TypeId, String),
    /// An array.
    Array(TypeId, ArrayLength),
}

/// An error from the model, worded as CFFI words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// A type with an invented (`$`) name cannot be written in C.
    #[error("cannot generate '{c_name}' in {context}: unknown type name")]
    UnknownTypeName {
        /// The C name containing `$`.
        c_name: String,
        /// Where it was needed (`a C file`, ...).
        context: String,
    },
}

/// The arena of every type made while parsing one set of cdefs (all the FFIs
/// of one build share it, as CFFI's objects are shared across `include()`).
#[derive(Debug, Clone)]
pub struct Types {
    data: Vec<TypeData>,
    void: TypeId,
    /// Canonical representative of each structural key.
    canon: HashMap<StructuralKey, TypeId>,
    /// CFFI's process-wide `commontypes._CACHE`: one object per common type
    /// name (`int`, `size_t`, `FILE`...), shared by every FFI of the arena.
    common: HashMap<String, (TypeId, Quals)>,
    /// Memo of [`Types::canonical`] by type index.
    canon_memo: Vec<Option<TypeId>>,
}

impl Default for Types {
    fn default() -> Self {
        Self::new()
    }
}

impl Types {
    /// An arena holding only the `void` singleton.
    pub fn new() -> Self {
        let mut t = Types {
            data: Vec::new(),
            void: TypeId(0),
            canon: HashMap::default(),
            common: HashMap::default(),
            canon_memo: Vec::new(),
        };
        t.void = t.push(TypeKind::Void, "void&".to_string());
        t
    }

    pub(super) fn push(&mut self, kind: TypeKind, c_name_with_marker: String) -> TypeId {
        let id = TypeId(u32::try_from(self.data.len()).expect("fewer than 2^32 types"));
        let amp = c_name_with_marker
            .find('&')
            .expect("a type's marker holds '&'") as u32;
        let d = |t: &TypeId| self.data[t.0 as usize].depth;
        let depth = 1 + match &kind {
            TypeKind::Pointer { totype, .. } | TypeKind::NamedPointer { totype, .. } => d(totype),
            TypeKind::Array { item, .. } => d(item),
            TypeKind::RawFunction(sig) | TypeKind::FunctionPtr(sig) => sig
                .args
                .iter()
                .map(d)
                .max()
                .unwrap_or(0)
                .max(d(&sig.result)),
            _ => 0,
        };
        self.data.push(TypeData {
            kind,
            c_name_with_marker,
            amp,
            depth,
        });
        id
    }

    /// How deeply the type nests (1 for a primitive, a struct, an enum).
    pub fn depth(&self, id: TypeId) -> u32 {
        self.data[id.0 as usize].depth
    }

    /// The cached type of a common type name (CFFI's `commontypes._CACHE`).
    pub fn common_cached(&self, name: &str) -> Option<(TypeId, Quals)> {
        self.common.get(name).copied()
    }

    /// Caches the type of a common type name.
    pub fn cache_common(&mut self, name: &str, id: TypeId, quals: Quals) {
        self.common.insert(name.to_string(), (id, quals));
    }

    /// The `void` singleton (CFFI's `model.void_type`).
    pub fn void(&self) -> TypeId {
        self.void
    }

    /// Number of types in the arena.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the arena holds only `void`.
    pub fn is_empty(&self) -> bool {
        self.data.len() <= 1
    }

    /// The data of `id`.
    pub fn get(&self, id: TypeId) -> &TypeData {
        &self.data[id.index()]
    }

    /// The kind of `id`.
    pub fn kind(&self, id: TypeId) -> &TypeKind {
        &self.data[id.index()].kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from CFFI's testing/cffi0/test_model.py.
    #[test]
    fn c_names_of_pointers_arrays_and_functions() {
        let mut t = Types::new();
        let int = t.primitive("int");
        assert_eq!(t.get_c_name(int, "", "a C file", 0).unwrap(), "int");
        assert_eq!(t.get_c_name(int, "x", "a C file", 0).unwrap(), "int x");
        let ptr = t.pointer(int, 0);
        assert_eq!(t.get_c_name(ptr, "", "", 0).unwrap(), "int *");
        assert_eq!(t.get_c_name(ptr, "x", "", 0).unwrap(), "int * x");
        let cptr = t.pointer(int, Q_CONST);
        assert_eq!(t.get_c_name(cptr, "x", "", 0).unwrap(), "int const * x");
        let arr = t.array(int, ArrayLength::Known(5));
        assert_eq!(t.get_c_name(arr, "", "", 0).unwrap(), "int[5]");
        assert_eq!(t.get_c_name(arr, "x", "", 0).unwrap(), "int x[5]");
        assert_eq!(t.get_c_name(arr, "*x", "", 0).unwrap(), "int(*x)[5]");
        let parr = t.pointer(arr, 0);
        assert_eq!(t.get_c_name(parr, "", "", 0).unwrap(), "int(*)[5]");
        let open = t.array(int, ArrayLength::Open);
        assert_eq!(t.get_c_name(open, "", "", 0).unwrap(), "int[]");
        let dots = t.array(int, ArrayLength::Dots);
        assert_eq!(t.c_name_plain(dots), "int[/*...*/]");
        let void = t.void();
        let f = t.function_ptr(FunctionSig {
            args: vec![],
            result: int,
            ellipsis: false,
            abi: None,
        });
        assert_eq!(t.get_c_name(f, "", "", 0).unwrap(), "int(*)(void)");
        assert_eq!(t.get_c_name(f, "x", "", 0).unwrap(), "int(* x)(void)");
        let raw = t.raw_function(FunctionSig {
            args: vec![int, ptr],
            result: void,
            ellipsis: true,
            abi: None,
        });
        assert_eq!(t.c_name_plain(raw), "void()(int, int *, ...)");
        let std = t.function_ptr(FunctionSig {
            args: vec![int],
            result: int,
            ellipsis: false,
            abi: Some("__stdcall".into()),
        });
        assert_eq!(t.c_name_plain(std), "int(__stdcall *)(int)");
        let fp_ret = t.function_ptr(FunctionSig {
            args: vec![],
            result: f,
            ellipsis: false,
            abi: None,
        });
        assert_eq!(t.c_name_plain(fp_ret), "int(*(*)(void))(void)");
    }

    #[test]
    fn an_identifier_is_respelled_whole_in_every_c_name() {
        let mut t = Types::new();
        let c = t.primitive("_cffi_float_complex_t");
        let p = t.pointer(c, Q_CONST);
        let s = t.struct_or_union(StructKind::Struct, "my_cffi_float_complex_t", None);
        let f = t.function_ptr(FunctionSig {
            args: vec![c, s],
            result: p,
            ellipsis: false,
            abi: None,
        });
        t.respell_identifier("_cffi_float_complex_t", "float _Complex");
        assert_eq!(t.c_name_plain(c), "float _Complex");
        assert_eq!(
            t.get_c_name(p, "x", "", 0).unwrap(),
            "float _Complex const * x"
        );
        assert_eq!(
            t.c_name_plain(f),
            "float _Complex const *(*)(float _Complex, struct my_cffi_float_complex_t)"
        );
        assert!(t.is_complex_type(c), "the kind keeps its name");
    }

    #[test]
    fn cffi_1_15_qualifies_a_pointer_to_an_array_inside_its_parentheses() {
        let mut t = Types::new();
        let int = t.primitive("int");
        let arr = t.array(int, ArrayLength::Known(5));
        let cparr = t.pointer(arr, Q_CONST);
        let parr = t.pointer(arr, 0);
        let f = t.function_ptr(FunctionSig {
            args: vec![cparr, parr],
            result: int,
            ellipsis: false,
            abi: None,
        });
        let cvparr = t.pointer(arr, Q_CONST | Q_VOLATILE);
        let cint_p = t.pointer(int, Q_CONST);
        let arr2 = t.array(cint_p, ArrayLength::Known(5));
        let cparr2 = t.pointer(arr2, Q_CONST);
        assert_eq!(t.c_name_plain(cparr), "int const (*)[5]");
        assert_eq!(t.c_name_plain(cparr2), "int const * const (*)[5]");
        t.qualify_array_pointers_inside();
        assert_eq!(t.c_name_plain(cvparr), "int(volatile const *)[5]");
        assert_eq!(t.c_name_plain(cparr2), "int const *(const *)[5]");
        assert_eq!(
            t.get_c_name(cparr, "x", "", 0).unwrap(),
            "int(const * x)[5]"
        );
        assert_eq!(t.c_name_plain(parr), "int(*)[5]");
        assert_eq!(t.c_name_plain(f), "int(*)(int(const *)[5], int(*)[5])");
    }

    #[test]
    fn qualifiers_and_unknown_names() {
        let mut t = Types::new();
        let char_ = t.primitive("char");
        assert_eq!(
            t.get_c_name(char_, "x", "", Q_CONST).unwrap(),
            "char const x"
        );
        let p = t.pointer(char_, 0);
        assert_eq!(
            t.get_c_name(p, "", "", Q_CONST | Q_VOLATILE).unwrap(),
            "char * volatile const "
        );
        let s = t.struct_or_union(StructKind::Struct, "$1", None);
        assert_eq!(
            t.get_c_name(s, "", "a C file", 0).unwrap_err().to_string(),
            "cannot generate 'struct $1' in a C file: unknown type name"
        );
        t.force_the_name(s, Some("foo_t"));
        assert_eq!(t.get_c_name(s, "x", "", 0).unwrap(), "foo_t x");
        let file = t.unknown_type("FILE", Some("_IO_FILE"));
        assert_eq!(t.c_name_plain(file), "FILE");
        let np = t.unknown_ptr_type("handle_t", None);
        assert_eq!(t.c_name_plain(np), "handle_t");
        let e = t.enum_type("$e", vec![], vec![], None);
        t.force_the_name(e, None);
        assert_eq!(t.as_enum(e).unwrap().forcename.as_deref(), Some("$enum_$e"));
    }

    #[test]
    fn structure_vs_identity() {
        let mut t = Types::new();
        let a = t.primitive("int");
        let b = t.primitive("int");
        assert_ne!(a, b);
        assert!(t.same_structure(a, b));
        let pa = t.pointer(a, 0);
        let pb = t.pointer(b, 0);
        assert!(t.same_structure(pa, pb));
        let s1 = t.struct_or_union(StructKind::Struct, "s", None);
        let s2 = t.struct_or_union(StructKind::Struct, "s", None);
        assert!(!t.same_structure(s1, s2));
        assert_eq!(t.repr(pa), "<int *>");
    }
}
