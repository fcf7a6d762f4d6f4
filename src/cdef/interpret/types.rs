//! Types: a declarator chain and its qualifiers turned into a model type
//! (`_get_type_and_quals`), function types, and the names of primitive and
//! common types.

use super::structs::{SueNode, anonymous_numbered};
use super::{ConstVal, Cx, MAX_TYPE_DEPTH};
use crate::cdef::preprocess::COMMON_TYPE_WORDS;
use crate::cdef::pycparser::{Base, Coord, Param, TyNode};
use crate::cdef::{CdefError, CffiErrorKind, Ffi};
use crate::model::{
    ArrayLength, DeclKind, DeclValue, FunctionSig, Q_CONST, Q_RESTRICT, Q_VOLATILE, Quals, TypeId,
    TypeKind, primitive_kind,
};

impl Ffi {
    pub(super) fn type_pointer(
        &mut self,
        cx: &mut Cx<'_>,
        tp: TypeId,
        quals: Quals,
        declname: Option<&str>,
    ) -> TypeId {
        if cx.types.is_raw_function(tp) {
            return cx.types.as_function_pointer(tp);
        }
        if let Some(declname) = declname {
            let anon = match cx.types.kind(tp) {
                TypeKind::StructOrUnion(s) => anonymous_numbered(&s.name) && s.forcename.is_none(),
                TypeKind::Enum(e) => anonymous_numbered(&e.name) && e.forcename.is_none(),
                _ => false,
            };
            if anon {
                return cx.types.named_pointer(tp, declname, quals);
            }
        }
        cx.types.pointer(tp, quals)
    }

    /// The type a declarator tree denotes. Types nested deeper than
    /// [`MAX_TYPE_DEPTH`] (a chain of typedefs adding one pointer each) are
    /// refused: everything after the parser walks types recursively.
    pub(super) fn type_and_quals(
        &mut self,
        cx: &mut Cx<'_>,
        node: &TyNode,
        name: Option<&str>,
        partial_length_ok: bool,
        typedef_example: Option<String>,
    ) -> Result<(TypeId, Quals), CdefError> {
        let (t, q) = self.type_and_quals_in(cx, node, name, partial_length_ok, typedef_example)?;
        if cx.types.depth(t) > MAX_TYPE_DEPTH {
            return Err(cx.error(
                CffiErrorKind::CDefError,
                format!("a type nested deeper than {MAX_TYPE_DEPTH} levels is not supported"),
                Some(node.coord()),
            ));
        }
        Ok((t, q))
    }

    fn type_and_quals_in(
        &mut self,
        cx: &mut Cx<'_>,
        node: &TyNode,
        name: Option<&str>,
        partial_length_ok: bool,
        typedef_example: Option<String>,
    ) -> Result<(TypeId, Quals), CdefError> {
        // A typedef name already declared.
        if let TyNode::TypeDecl {
            base: Base::Names(n),
            quals,
            ..
        } = node
            && n.len() == 1
            && let Some(d) = self.declarations.get(DeclKind::Typedef, &n[0])
            && let DeclValue::Type(t) = d.value
        {
            return Ok((t, d.quals | extract_quals(quals)));
        }
        match node {
            TyNode::Array { dim, inner, .. } => {
                let mut length = match dim {
                    None => ArrayLength::Open,
                    Some(e) => match self.parse_constant(cx, e, partial_length_ok)? {
                        ConstVal::Dots => ArrayLength::Dots,
                        ConstVal::Int(n) => {
                            let Ok(n) = u64::try_from(n) else {
                                return Err(cx.error(
                                    CffiErrorKind::CDefError,
                                    format!("negative array length: {n}"),
                                    Some(e.coord()),
                                ));
                            };
                            ArrayLength::Known(n)
                        }
                    },
                };
                let mut example = typedef_example;
                if let Some(ex) = &example {
                    if length == ArrayLength::Dots {
                        length = ArrayLength::Expr(format!("_cffi_array_len({ex})"));
                    }
                    example = Some(format!("*{ex}"));
                }
                let (tp, quals) =
                    self.type_and_quals(cx, inner, None, partial_length_ok, example)?;
                Ok((cx.types.array(tp, length), quals))
            }
            TyNode::Ptr { quals, inner, .. } => {
                let (item, itemquals) = self.type_and_quals(cx, inner, None, false, None)?;
                let tp = self.type_pointer(cx, item, itemquals, name);
                Ok((tp, extract_quals(quals)))
            }
            TyNode::TypeDecl { quals, base, coord } => {
                let quals = extract_quals(quals);
                match base {
                    Base::Names(names) => {
                        let ident = normalize_names(names);
                        if ident == "void" {
                            return Ok((cx.types.void(), quals));
                        }
                        if ident == "__dotdotdot__" {
                            return Err(cx.error(
                                CffiErrorKind::FfiError,
                                format!(":{}: bad usage of \"...\"", coord.line),
                                Some(*coord),
                            ));
                        }
                        let (tp, q0) = resolve_common_type(cx, &ident, *coord)?;
                        Ok((tp, quals | q0))
                    }
                    Base::Su(n) => {
                        let kind = if n.is_union { "union" } else { "struct" };
                        Ok((self.sue_type(cx, kind, SueNode::Su(n), name, false)?, quals))
                    }
                    Base::Enum(n) => Ok((
                        self.sue_type(cx, "enum", SueNode::Enum(n), name, false)?,
                        quals,
                    )),
                }
            }
            TyNode::Func { params, ret, coord } => Ok((
                self.function_type(cx, params.as_deref(), ret, name, *coord)?,
                0,
            )),
            TyNode::Bare(Base::Su(n), _) => {
                let kind = if n.is_union { "union" } else { "struct" };
                Ok((self.sue_type(cx, kind, SueNode::Su(n), name, true)?, 0))
            }
            TyNode::Bare(_, coord) => Err(cx.error(
                CffiErrorKind::FfiError,
                format!(":{}: bad or unsupported type declaration", coord.line),
                Some(*coord),
            )),
        }
    }

    fn function_type(
        &mut self,
        cx: &mut Cx<'_>,
        params: Option<&[Param]>,
        ret: &TyNode,
        funcname: Option<&str>,
        coord: Coord,
    ) -> Result<TypeId, CdefError> {
        let mut params: Vec<&Param> = params.unwrap_or(&[]).iter().collect();
        let what = funcname.unwrap_or("in expression");
        for (i, p) in params.iter().enumerate() {
            if let Param::Untyped(n, c) = p {
                return Err(cx.error(
                    CffiErrorKind::CDefError,
                    format!(
                        "{what} arg {}: unknown type '{n}' (if you meant to use the old C syntax of giving untyped arguments, it is not supported)",
                        i + 1
                    ),
                    Some(*c),
                ));
            }
        }
        let ellipsis = matches!(params.last(), Some(Param::Typed { ty: TyNode::TypeDecl { base: Base::Names(n), .. }, .. }) if n.len() == 1 && n[0] == "__dotdotdot__");
        if ellipsis {
            params.pop();
            if params.is_empty() {
                return Err(cx.error(
                    CffiErrorKind::CDefError,
                    format!("{what}: a function with only '(...)' as argument is not correct C"),
                    Some(coord),
                ));
            }
        }
        let mut args = Vec::with_capacity(params.len());
        for p in params {
            let Param::Typed { ty, .. } = p else {
                unreachable!()
            };
            let (t, q) = self.type_and_quals(cx, ty, None, false, None)?;
            args.push(self.as_func_arg(cx, t, q));
        }
        if !ellipsis && args.len() == 1 && args[0] == cx.types.void() {
            args.clear();
        }
        let (result, _) = self.type_and_quals(cx, ret, None, false, None)?;
        let abi = match ret {
            TyNode::TypeDecl { quals, .. } | TyNode::Ptr { quals, .. }
                if quals.len() >= 3
                    && quals[quals.len() - 3..] == ["volatile", "volatile", "const"] =>
            {
                Some("__stdcall".to_string())
            }
            _ => None,
        };
        Ok(cx.types.raw_function(FunctionSig {
            args,
            result,
            ellipsis,
            abi,
        }))
    }

    fn as_func_arg(&mut self, cx: &mut Cx<'_>, t: TypeId, quals: Quals) -> TypeId {
        match cx.types.kind(t) {
            TypeKind::Array { item, .. } => {
                let item = *item;
                cx.types.pointer(item, quals)
            }
            TypeKind::RawFunction(_) => cx.types.as_function_pointer(t),
            _ => t,
        }
    }
}

fn extract_quals(quals: &[String]) -> Quals {
    let mut q = 0;
    for s in quals {
        match s.as_str() {
            "const" => q |= Q_CONST,
            "volatile" => q |= Q_VOLATILE,
            "restrict" => q |= Q_RESTRICT,
            _ => {}
        }
    }
    q
}

/// CFFI's reduction of type words to one spelling (`long unsigned int` →
/// `unsigned long`).
fn normalize_names(names: &[String]) -> String {
    if names.len() == 2 && names[0] == "signed" && names[1] == "char" {
        return "signed char".into();
    }
    let mut counts = [0usize; 4]; // short, long, signed, unsigned
    let mut i = 0;
    while i < names.len() {
        match names[i].as_str() {
            "short" => counts[0] += 1,
            "long" => counts[1] += 1,
            "signed" => counts[2] += 1,
            "unsigned" => counts[3] += 1,
            _ => break,
        }
        i += 1;
    }
    let mut rest: Vec<&str> = names[i..].iter().map(String::as_str).collect();
    let mut out: Vec<&str> = Vec::new();
    out.extend(std::iter::repeat_n("unsigned", counts[3]));
    out.extend(std::iter::repeat_n("short", counts[0]));
    out.extend(std::iter::repeat_n("long", counts[1]));
    if rest.is_empty() {
        rest = vec!["int"];
    }
    if rest == ["int"] && (counts[0] > 0 || counts[1] > 0) {
        rest.clear();
    }
    out.extend(rest);
    out.join(" ")
}

/// CFFI's `resolve_common_type`, with the arena's cache.
fn resolve_common_type(
    cx: &mut Cx<'_>,
    ident: &str,
    coord: Coord,
) -> Result<(TypeId, Quals), CdefError> {
    if let Some(hit) = cx.types.common_cached(ident) {
        return Ok(hit);
    }
    let mapped = match ident {
        "FILE" => {
            let t = cx.types.unknown_type("FILE", Some("_IO_FILE"));
            cx.types.cache_common(ident, t, 0);
            return Ok((t, 0));
        }
        "bool" => "_Bool",
        "float _Complex" => "_cffi_float_complex_t",
        "double _Complex" => "_cffi_double_complex_t",
        other => other,
    };
    let is_common = ident != mapped || COMMON_TYPE_WORDS.contains(&ident);
    if primitive_kind(mapped).is_some() {
        let t = cx.types.primitive(mapped);
        cx.types.cache_common(ident, t, 0);
        return Ok((t, 0));
    }
    let _ = is_common;
    Err(cx.error(
        CffiErrorKind::FfiError,
        format!(
            "Unsupported type: '{ident}'.  Please look at http://cffi.readthedocs.io/en/latest/cdef.html#ffi-cdef-limitations and file an issue if you think this type should really be supported."
        ),
        Some(coord),
    ))
}
