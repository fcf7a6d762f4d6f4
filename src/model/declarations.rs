//! Declarations in CFFI's order: what each names, its kind, and the ordered
//! table of them.

use rustc_hash::FxHashMap as HashMap;
use std::fmt;

use super::{Quals, TypeId};

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
    use crate::model::Types;

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
