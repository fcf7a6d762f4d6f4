//! Making types (each a fresh id, as CFFI makes a fresh object), asking
//! what they are, and their structure: the keys by which CFFI's `==`
//! merges types, and the fields of structs and unions.

use super::{
    ArrayLength, EnumType, Field, FunctionSig, PrimitiveKind, Quals, StructKind, StructOrUnion,
    StructuralKey, TypeId, TypeKind, Types, primitive_kind, qualify,
};

impl Types {
    /// A new primitive type (`name` must be in [`ALL_PRIMITIVE_TYPES`](super::ALL_PRIMITIVE_TYPES)).
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

    pub(super) fn struct_like_marker(kind_kw: &str, name: &str, forcename: Option<&str>) -> String {
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
}

impl Types {
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
