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
use std::fmt;

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

/// `X const (*` (what [`qualify`] and a pointer to an array give) written
/// `X(const *`, as cffi 1.15 wrote it, throughout `marker`; `None` when it
/// holds none.
fn qualified_inside(marker: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = marker;
    let mut changed = false;
    while let Some(i) = rest.find(" (*") {
        let head = &rest[..i];
        let mut start = head.len();
        while let Some(q) = ["const", "volatile", "__restrict"].iter().find(|q| {
            head[..start]
                .strip_suffix(**q)
                .is_some_and(|h| h.ends_with(' '))
        }) {
            start -= q.len() + 1;
        }
        if start < head.len() {
            out.push_str(&head[..start]);
            out.push('(');
            out.push_str(head[start..].trim_start());
            out.push_str(" *");
            changed = true;
        } else {
            out.push_str(head);
            out.push_str(" (*");
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// CFFI's `qualify()`: prefixes `replace_with` with the qualifiers.
pub fn qualify(quals: Quals, replace_with: &str) -> String {
    let mut r = replace_with.to_string();
    if quals & Q_CONST != 0 {
        r = format!(" const {}", r.trim_start());
    }
    if quals & Q_VOLATILE != 0 {
        r = format!(" volatile {}", r.trim_start());
    }
    if quals & Q_RESTRICT != 0 {
        r = format!(" __restrict {}", r.trim_start());
    }
    r
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

    fn push(&mut self, kind: TypeKind, c_name_with_marker: String) -> TypeId {
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

    fn marker(&self, id: TypeId) -> &str {
        &self.data[id.index()].c_name_with_marker
    }

    /// The marker's text before and after its '&'.
    fn marker_split(&self, id: TypeId) -> (&str, &str) {
        let d = &self.data[id.index()];
        let amp = d.amp as usize;
        (
            &d.c_name_with_marker[..amp],
            &d.c_name_with_marker[amp + 1..],
        )
    }

    /// The marker with its '&' replaced by `with`.
    fn marker_replaced(&self, id: TypeId, with: &str) -> String {
        let (a, b) = self.marker_split(id);
        let mut s = String::with_capacity(a.len() + with.len() + b.len());
        s.push_str(a);
        s.push_str(with);
        s.push_str(b);
        s
    }

    /// A new primitive type (`name` must be in [`ALL_PRIMITIVE_TYPES`]).
    pub fn primitive(&mut self, name: &str) -> TypeId {
        debug_assert!(
            primitive_kind(name).is_some(),
            "not a primitive type: {name}"
        );
        self.push(TypeKind::Primitive(name.to_string()), format!("{name}&"))
    }

    /// A new `typedef int... name;` type.
    pub fn unknown_integer(&mut self, name: &str) -> TypeId {
        self.push(
            TypeKind::UnknownInteger(name.to_string()),
            format!("{name}&"),
        )
    }

    /// A new `typedef float... name;` type.
    pub fn unknown_float(&mut self, name: &str) -> TypeId {
        self.push(TypeKind::UnknownFloat(name.to_string()), format!("{name}&"))
    }

    fn function_marker(&self, sig: &FunctionSig, base_pattern: (&str, &str)) -> String {
        // `base0 base1 args)`, with the ABI after the first character, put
        // in place of the result's '&'.
        let mut replace_with = String::with_capacity(64);
        replace_with.push_str(&base_pattern.0[..1]);
        if let Some(abi) = &sig.abi {
            replace_with.push_str(abi);
            replace_with.push(' ');
        }
        replace_with.push_str(&base_pattern.0[1..]);
        replace_with.push_str(base_pattern.1);
        let mut first = true;
        for &a in &sig.args {
            if !first {
                replace_with.push_str(", ");
            }
            first = false;
            let (x, y) = self.marker_split(a);
            replace_with.push_str(x);
            replace_with.push_str(y);
        }
        if sig.ellipsis {
            replace_with.push_str(if first { "..." } else { ", ..." });
            first = false;
        }
        if first {
            replace_with.push_str("void");
        }
        replace_with.push(')');
        self.marker_replaced(sig.result, &replace_with)
    }

    /// A new raw function type (`int(int)`).
    pub fn raw_function(&mut self, sig: FunctionSig) -> TypeId {
        let m = self.function_marker(&sig, ("(&)", "("));
        self.push(TypeKind::RawFunction(sig), m)
    }

    /// A new function pointer type (`int(*)(int)`).
    pub fn function_ptr(&mut self, sig: FunctionSig) -> TypeId {
        let m = self.function_marker(&sig, ("(*&)", "("));
        self.push(TypeKind::FunctionPtr(sig), m)
    }

    /// CFFI's `RawFunctionType.as_function_pointer()`.
    pub fn as_function_pointer(&mut self, raw: TypeId) -> TypeId {
        match self.kind(raw) {
            TypeKind::RawFunction(sig) => {
                let sig = sig.clone();
                self.function_ptr(sig)
            }
            other => panic!("as_function_pointer on {other:?}"),
        }
    }

    /// CFFI's `FunctionPtrType.as_raw_function()`.
    pub fn as_raw_function(&mut self, fptr: TypeId) -> TypeId {
        match self.kind(fptr) {
            TypeKind::FunctionPtr(sig) => {
                let sig = sig.clone();
                self.raw_function(sig)
            }
            other => panic!("as_raw_function on {other:?}"),
        }
    }

    fn pointer_marker(&self, totype: TypeId, quals: Quals) -> String {
        let extra = if self.is_array_type(totype) {
            "(*&)"
        } else {
            " *&"
        };
        let extra = qualify(quals, extra);
        self.marker_replaced(totype, &extra)
    }

    /// A new pointer to `totype`; `quals` qualify the pointed-to type
    /// (`pointer(int, Q_CONST)` is `int const *`).
    pub fn pointer(&mut self, totype: TypeId, quals: Quals) -> TypeId {
        let m = self.pointer_marker(totype, quals);
        self.push(TypeKind::Pointer { totype, quals }, m)
    }

    /// A new named pointer (`typedef ... *name;`): its C name is `name`.
    pub fn named_pointer(&mut self, totype: TypeId, name: &str, quals: Quals) -> TypeId {
        self.push(
            TypeKind::NamedPointer {
                totype,
                name: name.to_string(),
                quals,
            },
            format!("{name}&"),
        )
    }

    /// A new array type.
    pub fn array(&mut self, item: TypeId, length: ArrayLength) -> TypeId {
        let brackets = match &length {
            ArrayLength::Open => "&[]".to_string(),
            ArrayLength::Dots => "&[/*...*/]".to_string(),
            ArrayLength::Known(n) => format!("&[{n}]"),
            ArrayLength::Expr(e) => format!("&[{e}]"),
        };
        let m = self.marker_replaced(item, &brackets);
        self.push(TypeKind::Array { item, length }, m)
    }

    fn struct_like_marker(kind_kw: &str, name: &str, forcename: Option<&str>) -> String {
        match forcename {
            Some(f) => format!("{f}&"),
            None => format!("{kind_kw} {name}&"),
        }
    }

    /// A new struct or union; `fields` is `None` for an opaque one.
    pub fn struct_or_union(
        &mut self,
        kind: StructKind,
        name: &str,
        fields: Option<Vec<Field>>,
    ) -> TypeId {
        let m = Self::struct_like_marker(kind.keyword(), name, None);
        self.push(
            TypeKind::StructOrUnion(StructOrUnion {
                kind,
                name: name.to_string(),
                fields,
                partial: false,
                packed: 0,
                forcename: None,
                unknown_type_origin: false,
            }),
            m,
        )
    }

    /// A new enum.
    pub fn enum_type(
        &mut self,
        name: &str,
        enumerators: Vec<String>,
        enumvalues: Vec<i128>,
        baseinttype: Option<TypeId>,
    ) -> TypeId {
        let m = Self::struct_like_marker("enum", name, None);
        self.push(
            TypeKind::Enum(EnumType {
                name: name.to_string(),
                enumerators,
                enumvalues,
                baseinttype,
                partial: false,
                partial_resolved: false,
                forcename: None,
            }),
            m,
        )
    }

    /// CFFI's `model.unknown_type(name, structname)`: an opaque struct named
    /// `structname` (default `$name`) whose C name is forced to `name`.
    pub fn unknown_type(&mut self, name: &str, structname: Option<&str>) -> TypeId {
        let structname = structname.map_or_else(|| format!("${name}"), str::to_string);
        let id = self.struct_or_union(StructKind::Struct, &structname, None);
        self.force_the_name(id, Some(name));
        if let TypeKind::StructOrUnion(s) = &mut self.data[id.index()].kind {
            s.unknown_type_origin = true;
        }
        id
    }

    /// CFFI's `model.unknown_ptr_type(name, structname)`: a named pointer to
    /// an opaque struct named `structname` (default `$$name`).
    pub fn unknown_ptr_type(&mut self, name: &str, structname: Option<&str>) -> TypeId {
        let structname = structname.map_or_else(|| format!("$${name}"), str::to_string);
        let tp = self.struct_or_union(StructKind::Struct, &structname, None);
        self.named_pointer(tp, name, 0)
    }

    /// Mutable access to a struct or union, to complete it in place.
    pub fn struct_mut(&mut self, id: TypeId) -> Option<&mut StructOrUnion> {
        match &mut self.data[id.index()].kind {
            TypeKind::StructOrUnion(s) => Some(s),
            _ => None,
        }
    }

    /// Mutable access to an enum, to complete it in place.
    pub fn enum_mut(&mut self, id: TypeId) -> Option<&mut EnumType> {
        match &mut self.data[id.index()].kind {
            TypeKind::Enum(e) => Some(e),
            _ => None,
        }
    }

    /// The struct or union behind `id`, if it is one.
    pub fn as_struct(&self, id: TypeId) -> Option<&StructOrUnion> {
        match self.kind(id) {
            TypeKind::StructOrUnion(s) => Some(s),
            _ => None,
        }
    }

    /// The enum behind `id`, if it is one.
    pub fn as_enum(&self, id: TypeId) -> Option<&EnumType> {
        match self.kind(id) {
            TypeKind::Enum(e) => Some(e),
            _ => None,
        }
    }

    /// CFFI's `force_the_name()` on a struct, union or enum. For an enum,
    /// `None` forces the name `$enum_name` (CFFI's quirk).
    pub fn force_the_name(&mut self, id: TypeId, forcename: Option<&str>) {
        let data = &mut self.data[id.index()];
        match &mut data.kind {
            TypeKind::StructOrUnion(s) => {
                s.forcename = forcename.map(str::to_string);
                data.c_name_with_marker =
                    Self::struct_like_marker(s.kind.keyword(), &s.name, s.forcename.as_deref());
            }
            TypeKind::Enum(e) => {
                e.forcename = forcename.map(str::to_string);
                data.c_name_with_marker =
                    Self::struct_like_marker("enum", &e.name, e.forcename.as_deref());
                if e.forcename.is_none() {
                    let official = data.c_name_with_marker.trim_end_matches('&').to_string();
                    e.forcename = Some(format!("${}", official.replace(' ', "_")));
                }
            }
            other => panic!("force_the_name on {other:?}"),
        }
        data.amp = data
            .c_name_with_marker
            .find('&')
            .expect("a type's marker holds '&'") as u32;
    }

    /// Replaces the identifier `from` (whole words only) by `to` in every
    /// type's C name, leaving the kinds as they are: how the emitter writes
    /// a type whose name differs between cffi releases.
    pub fn respell_identifier(&mut self, from: &str, to: &str) {
        let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
        for data in &mut self.data {
            let m = &data.c_name_with_marker;
            if !m.contains(from) {
                continue;
            }
            let mut out = String::with_capacity(m.len() + to.len());
            let mut rest = m.as_str();
            while let Some(i) = rest.find(from) {
                let (before, after) = (&rest[..i], &rest[i + from.len()..]);
                let whole = !out
                    .chars()
                    .chain(before.chars())
                    .next_back()
                    .is_some_and(is_ident)
                    && !after.chars().next().is_some_and(is_ident);
                out.push_str(before);
                out.push_str(if whole { to } else { from });
                rest = after;
            }
            out.push_str(rest);
            data.amp = out.find('&').expect("a type's marker holds '&'") as u32;
            data.c_name_with_marker = out;
        }
    }

    /// Respells every qualified pointer to an array as cffi 1.15's
    /// `PointerType` does, qualifying before parenthesising
    /// (`int(const *)[5]`, which no C compiler takes; 1.16 writes
    /// `int const (*)[5]`), in every C name holding one. Done on the text:
    /// a C name is a snapshot of its parts' names when it was made (a struct
    /// renamed later by a typedef keeps its old name in the types made
    /// before), so it cannot be rebuilt from the parts.
    pub fn qualify_array_pointers_inside(&mut self) {
        for data in &mut self.data {
            if let Some(m) = qualified_inside(&data.c_name_with_marker) {
                data.amp = m.find('&').expect("a type's marker holds '&'") as u32;
                data.c_name_with_marker = m;
            }
        }
    }

    /// CFFI's `get_official_name()` of a struct, union or enum: its C name.
    pub fn official_name(&self, id: TypeId) -> String {
        let m = self.marker(id);
        debug_assert!(m.ends_with('&'));
        m[..m.len() - 1].to_string()
    }

    /// [`Types::c_name_plain`] as the two parts around the marker, for
    /// writing it without allocating.
    pub fn c_name_parts(&self, id: TypeId) -> (&str, &str) {
        self.marker_split(id)
    }

    /// The C name without the marker (CFFI's `_get_c_name()`).
    pub fn c_name_plain(&self, id: TypeId) -> String {
        let (a, b) = self.c_name_parts(id);
        let mut s = String::with_capacity(a.len() + b.len());
        s.push_str(a);
        s.push_str(b);
        s
    }

    /// CFFI's `repr(tp)`: `<c name>`, the key CFFI sorts its type table by.
    pub fn repr(&self, id: TypeId) -> String {
        format!("<{}>", self.c_name_plain(id))
    }

    /// CFFI's `has_c_name()`: the C name has no invented `$` part.
    pub fn has_c_name(&self, id: TypeId) -> bool {
        !self.c_name_plain(id).contains('$')
    }

    /// CFFI's `get_c_name(replace_with, context, quals)`: the C declaration
    /// of `replace_with` (a declarator, may be empty) with this type.
    pub fn get_c_name(
        &self,
        id: TypeId,
        replace_with: &str,
        context: &str,
        quals: Quals,
    ) -> Result<String, ModelError> {
        let marker = self.marker(id);
        debug_assert_eq!(marker.matches('&').count(), 1);
        let rw = replace_with.trim();
        if quals != 0 {
            return self.get_c_name_qualified(id, rw, context, quals);
        }
        // The unqualified case, without intermediate strings: the emitter
        // asks for thousands of these.
        let (before, after) = self.marker_split(id);
        let mut result = String::with_capacity(marker.len() + rw.len() + 2);
        result.push_str(before);
        if !rw.is_empty() {
            if rw.starts_with('*') && marker.contains("&[") {
                result.push('(');
                result.push_str(rw);
                result.push(')');
            } else {
                if !rw.starts_with('[') && !rw.starts_with('(') {
                    result.push(' ');
                }
                result.push_str(rw);
            }
        }
        result.push_str(after);
        if marker.contains('$') || rw.contains('$') {
            return Err(ModelError::UnknownTypeName {
                c_name: self.c_name_plain(id),
                context: context.to_string(),
            });
        }
        Ok(result)
    }

    fn get_c_name_qualified(
        &self,
        id: TypeId,
        rw: &str,
        context: &str,
        quals: Quals,
    ) -> Result<String, ModelError> {
        let result = self.marker(id);
        let mut rw = rw.to_string();
        if !rw.is_empty() {
            if rw.starts_with('*') && result.contains("&[") {
                rw = format!("({rw})");
            } else if !rw.starts_with('[') && !rw.starts_with('(') {
                rw = format!(" {rw}");
            }
        }
        let rw = qualify(quals, &rw);
        let result = result.replacen('&', &rw, 1);
        if result.contains('$') {
            return Err(ModelError::UnknownTypeName {
                c_name: self.c_name_plain(id),
                context: context.to_string(),
            });
        }
        Ok(result)
    }

    /// `is_array_type`.
    pub fn is_array_type(&self, id: TypeId) -> bool {
        matches!(self.kind(id), TypeKind::Array { .. })
    }

    /// `is_raw_function`.
    pub fn is_raw_function(&self, id: TypeId) -> bool {
        matches!(self.kind(id), TypeKind::RawFunction(_))
    }

    /// CFFI's `is_integer_type()`.
    pub fn is_integer_type(&self, id: TypeId) -> bool {
        match self.kind(id) {
            TypeKind::Primitive(n) => primitive_kind(n) == Some(PrimitiveKind::Integer),
            TypeKind::UnknownInteger(_) => true,
            _ => false,
        }
    }

    /// CFFI's `is_char_type()` (primitive types only).
    pub fn is_char_type(&self, id: TypeId) -> bool {
        matches!(self.kind(id), TypeKind::Primitive(n) if primitive_kind(n) == Some(PrimitiveKind::Char))
    }

    /// CFFI's `is_float_type()` (primitive types only).
    pub fn is_float_type(&self, id: TypeId) -> bool {
        matches!(self.kind(id), TypeKind::Primitive(n) if primitive_kind(n) == Some(PrimitiveKind::Float))
    }

    /// CFFI's `is_complex_type()` (primitive types only).
    pub fn is_complex_type(&self, id: TypeId) -> bool {
        matches!(self.kind(id), TypeKind::Primitive(n) if primitive_kind(n) == Some(PrimitiveKind::Complex))
    }

    /// The structural key of `id` with children replaced by their canonical
    /// ids. Equal keys ⇔ CFFI's `==`.
    pub fn structural_key(&mut self, id: TypeId) -> StructuralKey {
        enum Shape {
            Leaf(StructuralKey),
            Func(Vec<TypeId>, TypeId, bool, Option<String>, bool),
            Ptr(TypeId, Quals),
            Named(TypeId, String),
            Arr(TypeId, ArrayLength),
        }
        let shape = match self.kind(id) {
            TypeKind::Void => Shape::Leaf(StructuralKey::Void),
            TypeKind::Primitive(n) => Shape::Leaf(StructuralKey::Primitive(n.clone())),
            TypeKind::UnknownInteger(n) => Shape::Leaf(StructuralKey::UnknownInteger(n.clone())),
            TypeKind::UnknownFloat(n) => Shape::Leaf(StructuralKey::UnknownFloat(n.clone())),
            TypeKind::RawFunction(sig) => Shape::Func(
                sig.args.clone(),
                sig.result,
                sig.ellipsis,
                sig.abi.clone(),
                true,
            ),
            TypeKind::FunctionPtr(sig) => Shape::Func(
                sig.args.clone(),
                sig.result,
                sig.ellipsis,
                sig.abi.clone(),
                false,
            ),
            TypeKind::Pointer { totype, quals } => Shape::Ptr(*totype, *quals),
            TypeKind::NamedPointer { totype, name, .. } => Shape::Named(*totype, name.clone()),
            TypeKind::Array { item, length } => Shape::Arr(*item, length.clone()),
            TypeKind::StructOrUnion(_) | TypeKind::Enum(_) => {
                Shape::Leaf(StructuralKey::Identity(id))
            }
        };
        match shape {
            Shape::Leaf(k) => k,
            Shape::Func(args, result, ellipsis, abi, raw) => {
                let args = args.into_iter().map(|a| self.canonical(a)).collect();
                let result = self.canonical(result);
                if raw {
                    StructuralKey::RawFunction(args, result, ellipsis, abi)
                } else {
                    StructuralKey::FunctionPtr(args, result, ellipsis, abi)
                }
            }
            Shape::Ptr(t, q) => StructuralKey::Pointer(self.canonical(t), q),
            Shape::Named(t, n) => StructuralKey::NamedPointer(self.canonical(t), n),
            Shape::Arr(t, l) => StructuralKey::Array(self.canonical(t), l),
        }
    }

    /// The first type structurally equal to `id` (CFFI's `==`); memoized
    /// (a type's structure never changes once made: structs and enums, the
    /// only mutable types, are keyed by identity).
    pub fn canonical(&mut self, id: TypeId) -> TypeId {
        if let Some(&Some(c)) = self.canon_memo.get(id.index()) {
            return c;
        }
        let key = self.structural_key(id);
        let c = *self.canon.entry(key).or_insert(id);
        if self.canon_memo.len() <= id.index() {
            self.canon_memo.resize(id.index() + 1, None);
        }
        self.canon_memo[id.index()] = Some(c);
        c
    }

    /// The canonical id of `id` when [`Types::canonical`] already computed
    /// it, else `id` itself (for read-only callers, e.g. error reports).
    pub fn canonical_known(&self, id: TypeId) -> TypeId {
        match self.canon_memo.get(id.index()) {
            Some(&Some(c)) => c,
            _ => id,
        }
    }

    /// CFFI's `==` between two types.
    pub fn same_structure(&mut self, a: TypeId, b: TypeId) -> bool {
        a == b || self.canonical(a) == self.canonical(b)
    }

    /// CFFI's `StructOrUnion.enumfields()`: the fields, with anonymous
    /// nested structs/unions flattened when `expand_anonymous` is set.
    pub fn enumfields(&self, id: TypeId, expand_anonymous: bool) -> Vec<Field> {
        let mut out = Vec::new();
        self.enumfields_into(id, expand_anonymous, &mut out);
        out
    }

    fn enumfields_into(&self, id: TypeId, expand_anonymous: bool, out: &mut Vec<Field>) {
        let Some(s) = self.as_struct(id) else { return };
        for f in s.fields.iter().flatten() {
            if f.name.is_empty() && expand_anonymous && self.as_struct(f.ty).is_some() {
                // CFFI always recurses with expansion on.
                self.enumfields_into(f.ty, true, out);
            } else {
                out.push(f.clone());
            }
        }
    }

    /// CFFI's `anonymous_struct_fields()`: the anonymous nested
    /// structs/unions of a struct.
    pub fn anonymous_struct_fields(&self, id: TypeId) -> Vec<TypeId> {
        self.as_struct(id)
            .and_then(|s| s.fields.as_ref())
            .map(|fs| {
                fs.iter()
                    .filter(|f| f.name.is_empty() && self.as_struct(f.ty).is_some())
                    .map(|f| f.ty)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether `id` is reached again through its anonymous struct/union
    /// members (which CFFI expands recursively, without end).
    pub fn contains_itself_anonymously(&self, id: TypeId) -> bool {
        let mut seen = vec![id];
        let mut todo = self.anonymous_struct_fields(id);
        while let Some(t) = todo.pop() {
            if t == id {
                return true;
            }
            if !seen.contains(&t) {
                seen.push(t);
                todo.extend(self.anonymous_struct_fields(t));
            }
        }
        false
    }

    /// CFFI's `force_flatten()`: the struct's own field list becomes the
    /// flattened one.
    pub fn force_flatten(&mut self, id: TypeId) {
        let flat = self.enumfields(id, true);
        if let Some(s) = self.struct_mut(id) {
            s.fields = Some(flat);
        }
    }
}

/// What a declaration names (the first element of CFFI's
/// `_declarations[key]` tuple).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclValue {
    /// A type (functions, typedefs, structs, variables, constants, ...).
    Type(TypeId),
    /// `#define X 42`: an integer macro with its value.
    MacroInt(i128),
    /// `#define X ...`: the compiler supplies the value.
    MacroDots,
}

/// The kind of a declaration: the word before the space in CFFI's
/// `_declarations` keys (`"function foo"`, `"typedef foo_t"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeclKind {
    /// `anonymous NAME`: an anonymous struct/union/enum named by a typedef.
    Anonymous,
    /// `constant NAME`: a `static const` or enum-free constant.
    Constant,
    /// `dllexport_python NAME`: embedding API function.
    DllexportPython,
    /// `enum NAME`.
    Enum,
    /// `extern_python NAME`: `extern "Python"` function.
    ExternPython,
    /// `extern_python_plus_c NAME`: `extern "Python+C"` function.
    ExternPythonPlusC,
    /// `function NAME`.
    Function,
    /// `macro NAME`: `#define`.
    Macro,
    /// `struct NAME`.
    Struct,
    /// `typedef NAME`.
    Typedef,
    /// `union NAME`.
    Union,
    /// `variable NAME`: a global variable.
    Variable,
}

impl DeclKind {
    /// The key prefix CFFI uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DeclKind::Anonymous => "anonymous",
            DeclKind::Constant => "constant",
            DeclKind::DllexportPython => "dllexport_python",
            DeclKind::Enum => "enum",
            DeclKind::ExternPython => "extern_python",
            DeclKind::ExternPythonPlusC => "extern_python_plus_c",
            DeclKind::Function => "function",
            DeclKind::Macro => "macro",
            DeclKind::Struct => "struct",
            DeclKind::Typedef => "typedef",
            DeclKind::Union => "union",
            DeclKind::Variable => "variable",
        }
    }

    /// Parses a key prefix.
    pub fn from_prefix(s: &str) -> Option<Self> {
        Some(match s {
            "anonymous" => DeclKind::Anonymous,
            "constant" => DeclKind::Constant,
            "dllexport_python" => DeclKind::DllexportPython,
            "enum" => DeclKind::Enum,
            "extern_python" => DeclKind::ExternPython,
            "extern_python_plus_c" => DeclKind::ExternPythonPlusC,
            "function" => DeclKind::Function,
            "macro" => DeclKind::Macro,
            "struct" => DeclKind::Struct,
            "typedef" => DeclKind::Typedef,
            "union" => DeclKind::Union,
            "variable" => DeclKind::Variable,
            _ => return None,
        })
    }
}

impl fmt::Display for DeclKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One declaration: CFFI's `_declarations["KIND NAME"] = (obj, quals)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The kind.
    pub kind: DeclKind,
    /// The declared name.
    pub name: String,
    /// What it names.
    pub value: DeclValue,
    /// Qualifiers (`const` on a variable, ...).
    pub quals: Quals,
}

impl Declaration {
    /// CFFI's dictionary key, `"KIND NAME"`; the recompiler walks
    /// declarations sorted by this key.
    pub fn key(&self) -> String {
        format!("{} {}", self.kind.as_str(), self.name)
    }
}

/// CFFI's `_declarations` dict: insertion-ordered, unique by key, with
/// replacement in place (Python dict assignment keeps the original position).
#[derive(Debug, Clone, Default)]
pub struct Declarations {
    items: Vec<Declaration>,
    index: HashMap<DeclKind, HashMap<String, usize>>,
}

impl Declarations {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The declaration of `kind name`, if any.
    pub fn get(&self, kind: DeclKind, name: &str) -> Option<&Declaration> {
        self.index
            .get(&kind)
            .and_then(|m| m.get(name))
            .map(|&i| &self.items[i])
    }

    /// Inserts or replaces (keeping the original position, as a Python dict does).
    pub fn insert(&mut self, decl: Declaration) {
        let by_kind = self.index.entry(decl.kind).or_default();
        match by_kind.get(&decl.name) {
            Some(&i) => self.items[i] = decl,
            None => {
                by_kind.insert(decl.name.clone(), self.items.len());
                self.items.push(decl);
            }
        }
    }

    /// All declarations in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Declaration> {
        self.items.iter()
    }

    /// All declarations sorted by their key's bytes (the recompiler's order).
    pub fn sorted(&self) -> Vec<&Declaration> {
        let mut v: Vec<(String, &Declaration)> = self.items.iter().map(|d| (d.key(), d)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.into_iter().map(|(_, d)| d).collect()
    }

    /// Number of declarations.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
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

    #[test]
    fn declarations_keep_position_on_replace_and_sort_by_key() {
        let mut d = Declarations::new();
        let mut t = Types::new();
        let int = t.primitive("int");
        for (kind, name) in [
            (DeclKind::Typedef, "b"),
            (DeclKind::Function, "z"),
            (DeclKind::Function, "a"),
        ] {
            d.insert(Declaration {
                kind,
                name: name.into(),
                value: DeclValue::Type(int),
                quals: 0,
            });
        }
        d.insert(Declaration {
            kind: DeclKind::Typedef,
            name: "b".into(),
            value: DeclValue::MacroDots,
            quals: 0,
        });
        let order: Vec<String> = d.iter().map(Declaration::key).collect();
        assert_eq!(order, ["typedef b", "function z", "function a"]);
        let sorted: Vec<String> = d.sorted().into_iter().map(Declaration::key).collect();
        assert_eq!(sorted, ["function a", "function z", "typedef b"]);
    }
}
