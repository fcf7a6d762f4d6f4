//! C declarators as the writer spells them: a type around a name
//! (`int (*name)(void)`), function lines and parameter lists.

use super::W;
use crate::headers::decls::{CType, HeaderModel};

impl W<'_> {
    pub(super) fn decl_line(&self, t: &CType, name: &str) -> String {
        format!("typedef {};", self.decl(t, name))
    }

    /// The C declaration of `name` with type `t`.
    /// `ret name(params)` of the function `f`, written as `name`; `None`
    /// when its type is no function type.
    pub(super) fn function_line(
        &self,
        f: &crate::headers::decls::Function,
        name: &str,
    ) -> Option<String> {
        let CType::Function {
            ret,
            params,
            variadic,
        } = &f.ty
        else {
            return None;
        };
        let ps: Vec<String> = params
            .iter()
            .enumerate()
            .map(|(j, p)| {
                let n = f.param_names.get(j).cloned().flatten().unwrap_or_default();
                self.decl(p, &n)
            })
            .collect();
        let ps = param_list(ps, *variadic);
        Some(self.decl(ret, &format!("{name}({ps})")))
    }

    pub(super) fn decl(&self, t: &CType, name: &str) -> String {
        self.decl_in(t, name, 0)
    }

    pub(super) fn decl_in(&self, t: &CType, inner: &str, depth: usize) -> String {
        match t {
            CType::Typedef(n) if self.over_aligned.contains_key(n) => {
                self.decl_in(&self.over_aligned[n], inner, depth)
            }
            CType::Pointer(x) => {
                let s = format!("*{inner}");
                self.decl_ptr(x, s, depth)
            }
            CType::Qual {
                ty,
                konst,
                volatile,
            } => {
                let mut q = String::new();
                if *konst {
                    q.push_str("const ");
                }
                if *volatile {
                    q.push_str("volatile ");
                }
                match &**ty {
                    CType::Pointer(x) => {
                        let s = format!("* {}{inner}", q);
                        self.decl_ptr(x, s, depth)
                    }
                    CType::Array(..) | CType::Function { .. } => self.decl_in(ty, inner, depth),
                    base => format!("{q}{}", self.decl_in(base, inner, depth)),
                }
            }
            CType::Array(x, n) => {
                let len = n.map(|n| n.to_string()).unwrap_or_default();
                self.decl_in(x, &format!("{inner}[{len}]"), depth)
            }
            CType::Function {
                ret,
                params,
                variadic,
            } => {
                let ps = params.iter().map(|p| self.decl_in(p, "", depth)).collect();
                let ps = param_list(ps, *variadic);
                self.decl_in(ret, &format!("{inner}({ps})"), depth)
            }
            base => {
                let b = self.base_name(base, depth);
                if inner.is_empty() {
                    b
                } else {
                    format!("{b} {inner}")
                }
            }
        }
    }

    fn decl_ptr(&self, pointee: &CType, s: String, depth: usize) -> String {
        match pointee.unqualified() {
            CType::Array(..) | CType::Function { .. } => {
                // Qualifiers of the pointee apply to the array elements / are
                // meaningless on functions.
                self.decl_in(pointee, &format!("({s})"), depth)
            }
            _ => self.decl_in(pointee, &s, depth),
        }
    }

    fn base_name(&self, t: &CType, depth: usize) -> String {
        match t {
            CType::Void => "void".into(),
            CType::Prim(p) => p.clone(),
            CType::Typedef(n) => n.clone(),
            CType::Record(r) => {
                let rec = &self.m.records[*r];
                let kw = if rec.is_union { "union" } else { "struct" };
                match (&rec.tag, self.anon_records.get(r)) {
                    (Some(tag), _) => format!("{kw} {tag}"),
                    (None, Some(name)) => name.clone(),
                    (None, None) => format!("{kw} {}", self.record_body(rec, depth)),
                }
            }
            CType::Enum(e) => match (&self.m.enums[*e].tag, self.anon_enums.get(e)) {
                (Some(t), _) => format!("enum {t}"),
                (None, Some(name)) => name.clone(),
                (None, None) => format!("enum {}", self.enum_body(*e, depth)),
            },
            CType::Unsupported(s) => s.clone(),
            _ => String::new(),
        }
    }
}

/// The C declaration of `name` with type `t` (`int (*name)(void)`), as the
/// writer spells it; with an empty name, the type alone.
pub fn c_decl(model: &HeaderModel, t: &CType, name: &str) -> String {
    W::new(model, false).decl(t, name)
}

/// A C parameter list: the parameters, `...` after them when variadic,
/// `void` when there are none.
fn param_list(mut ps: Vec<String>, variadic: bool) -> String {
    if variadic {
        ps.push("...".into());
    }
    if ps.is_empty() {
        "void".to_string()
    } else {
        ps.join(", ")
    }
}
