//! A recursive-descent parser for the C declarations a cdef holds, producing
//! the same tree shapes as pycparser (which CFFI uses), so that CFFI's
//! interpretation of that tree can be reproduced exactly in
//! [`super::interpret`].
//!
//! The declarator tree follows pycparser: a declaration's type is a chain of
//! [`TyNode::Ptr`], [`TyNode::Array`] and [`TyNode::Func`] ending in a
//! [`TyNode::TypeDecl`] that carries the specifiers' qualifiers and base
//! type. Struct, union and enum specifier nodes are shared (`Rc`) between the
//! declarators of one declaration, and have an `id` so CFFI's per-node cache
//! can be reproduced.

use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

use super::lexer::{Lexed, Token};

mod declarations;
mod declarators;
mod expressions;
mod structs;
mod tokens;

/// A position in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coord {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// Index into [`Lexed::files`].
    pub file: u16,
}

/// The base type of a declaration: a list of type words (`unsigned long`,
/// a typedef name), or a struct/union/enum specifier.
#[derive(Debug, Clone)]
pub enum Base {
    /// `IdentifierType`: the words, in source order.
    Names(Vec<String>),
    /// A struct or union specifier.
    Su(Rc<SuNode>),
    /// An enum specifier.
    Enum(Rc<EnumNode>),
}

/// A declaration's type, as pycparser shapes it.
#[derive(Debug, Clone)]
pub enum TyNode {
    /// `TypeDecl`: the innermost node, with the specifiers' qualifiers.
    TypeDecl {
        /// Qualifiers in source order (`const`, `volatile`, `restrict`, `_Atomic`).
        quals: Vec<String>,
        /// The base type.
        base: Base,
        /// Position.
        coord: Coord,
    },
    /// `PtrDecl`.
    Ptr {
        /// The pointer's own qualifiers (`* const`).
        quals: Vec<String>,
        /// The pointed-to type.
        inner: Box<TyNode>,
        /// Position.
        coord: Coord,
    },
    /// `ArrayDecl`.
    Array {
        /// The length expression (`None` for `[]`).
        dim: Option<Expr>,
        /// The item type.
        inner: Box<TyNode>,
        /// Position.
        coord: Coord,
    },
    /// `FuncDecl`.
    Func {
        /// The parameters (`None` for `()`).
        params: Option<Vec<Param>>,
        /// The result type.
        ret: Box<TyNode>,
        /// Position.
        coord: Coord,
    },
    /// A declaration without declarator whose type is the specifier node
    /// itself (`struct foo { ... };`, a `...;` struct member).
    Bare(Base, Coord),
}

impl TyNode {
    /// The node's position.
    pub fn coord(&self) -> Coord {
        match self {
            TyNode::TypeDecl { coord, .. }
            | TyNode::Ptr { coord, .. }
            | TyNode::Array { coord, .. }
            | TyNode::Func { coord, .. }
            | TyNode::Bare(_, coord) => *coord,
        }
    }
}

/// A function parameter.
#[derive(Debug, Clone)]
pub enum Param {
    /// A typed parameter, named or not.
    Typed {
        /// Its name, if any.
        name: Option<String>,
        /// Its type.
        ty: TyNode,
    },
    /// An old-style identifier without a type (`int f(a, b)`).
    Untyped(String, Coord),
}

/// A struct or union specifier.
#[derive(Debug)]
pub struct SuNode {
    /// Unique per parse: CFFI caches the type of each specifier node.
    pub id: usize,
    /// `union` rather than `struct`.
    pub is_union: bool,
    /// The tag.
    pub name: Option<String>,
    /// The members, when the specifier has a body.
    pub decls: Option<Vec<Member>>,
    /// Position.
    pub coord: Coord,
}

/// A struct member (or `#pragma` inside a struct).
#[derive(Debug, Clone)]
// Not boxed: nearly every member is a `Decl`, and a box would cost the
// parser's hot path an allocation each.
#[allow(clippy::large_enum_variant)]
pub enum Member {
    /// A member declaration.
    Decl(Decl),
    /// A `#pragma` line.
    Pragma(Coord),
}

/// An enum specifier.
#[derive(Debug)]
pub struct EnumNode {
    /// Unique per parse.
    pub id: usize,
    /// The tag.
    pub name: Option<String>,
    /// The enumerators, when the specifier has a body.
    pub values: Option<Vec<Enumerator>>,
    /// Position.
    pub coord: Coord,
}

/// One enumerator.
#[derive(Debug, Clone)]
pub struct Enumerator {
    /// Its name.
    pub name: String,
    /// Its value expression.
    pub value: Option<Expr>,
    /// Position.
    pub coord: Coord,
}

/// An initializer.
#[derive(Debug, Clone)]
pub enum Init {
    /// `= expression`.
    Expr(Expr),
    /// `= { ... }`.
    List,
}

/// A declaration (`Decl`) or typedef (`Typedef`).
#[derive(Debug, Clone)]
pub struct Decl {
    /// The declared name.
    pub name: Option<String>,
    /// Storage classes (`extern`, `static`, `typedef`...).
    pub storage: Vec<String>,
    /// The type.
    pub ty: TyNode,
    /// The initializer.
    pub init: Option<Init>,
    /// The bit size of a bitfield member.
    pub bitsize: Option<Expr>,
    /// Position.
    pub coord: Coord,
    /// A typedef rather than a declaration.
    pub is_typedef: bool,
}

/// A constant's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstKind {
    /// Integer.
    Int,
    /// Floating.
    Float,
    /// Character.
    Char,
    /// String literal.
    Str,
}

/// An expression, kept as far as CFFI looks into it.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A constant with its source text.
    Const {
        /// Its kind.
        kind: ConstKind,
        /// Its text.
        text: String,
        /// Position.
        coord: Coord,
    },
    /// An identifier.
    Id(String, Coord),
    /// A unary operator (`-x`, `+x`, `~x`...).
    Unary(String, Box<Expr>, Coord),
    /// A binary operator.
    Binary(String, Box<Expr>, Box<Expr>, Coord),
    /// Anything else (casts, calls, `sizeof`, `?:`...), by pycparser class name.
    Other(&'static str, Coord),
}

impl Expr {
    /// The expression's position.
    pub fn coord(&self) -> Coord {
        match self {
            Expr::Const { coord, .. }
            | Expr::Id(_, coord)
            | Expr::Unary(_, _, coord)
            | Expr::Binary(_, _, _, coord)
            | Expr::Other(_, coord) => *coord,
        }
    }
}

/// A top-level item.
#[derive(Debug, Clone)]
// Not boxed, as `Member`: nearly every item is a `Decl`.
#[allow(clippy::large_enum_variant)]
pub enum External {
    /// A declaration or typedef.
    Decl(Decl),
    /// A `#pragma` line.
    Pragma(Coord),
    /// Valid C that a cdef cannot hold (`FuncDef`, `StaticAssert`).
    Unsupported(&'static str, Coord),
}

/// A syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// pycparser's wording (`before: foo`, `Invalid declaration`).
    pub message: String,
    /// Where (`None`: at end of input).
    pub coord: Option<Coord>,
}

type PResult<T> = Result<T, ParseError>;

/// One declarator before it is combined with the specifiers: a name and the
/// type modifiers from the outermost (next to the name) inwards.
#[derive(Debug, Clone, Default)]
struct Declarator {
    name: Option<(String, Coord)>,
    mods: Vec<Mod>,
    coord: Coord,
}

#[derive(Debug, Clone)]
enum Mod {
    Ptr(Vec<String>, Coord),
    Array(Option<Expr>, Coord),
    Func(Option<Vec<Param>>, Coord),
}

/// What a declarator list item holds before `_build_declarations`.
#[derive(Debug, Clone)]
enum DeclItem {
    /// No declarator at all (`decl=None`).
    None,
    /// A bare specifier node (struct members without declarator).
    Bare(Base, Coord),
    /// A declarator.
    D(Declarator),
}

#[derive(Debug, Clone)]
struct Info {
    decl: DeclItem,
    init: Option<Init>,
    bitsize: Option<Expr>,
}

#[derive(Debug, Clone)]
enum SpecType {
    Names(String, Coord),
    Su(Rc<SuNode>, Coord),
    Enum(Rc<EnumNode>, Coord),
}

#[derive(Debug, Clone, Default)]
struct Spec {
    qual: Vec<String>,
    storage: Vec<String>,
    types: Vec<SpecType>,
}

const STORAGE: &[&str] = &[
    "auto",
    "register",
    "static",
    "extern",
    "typedef",
    "_Thread_local",
];
const FUNCSPEC: &[&str] = &["inline", "_Noreturn"];
const QUALS: &[&str] = &["const", "restrict", "volatile", "_Atomic"];
const SIMPLE_TYPES: &[&str] = &[
    "void", "_Bool", "char", "short", "int", "long", "float", "double", "_Complex", "signed",
    "unsigned", "__int128",
];
const BINARY_PREC: &[(&str, u8)] = &[
    ("||", 0),
    ("&&", 1),
    ("|", 2),
    ("^", 3),
    ("&", 4),
    ("==", 5),
    ("!=", 5),
    (">", 6),
    (">=", 6),
    ("<", 6),
    ("<=", 6),
    (">>", 7),
    ("<<", 7),
    ("+", 8),
    ("-", 8),
    ("*", 9),
    ("/", 9),
    ("%", 9),
];
const ASSIGN_OPS: &[&str] = &[
    "=", "^=", "*=", "/=", "%=", "+=", "-=", "<<=", ">>=", "&=", "|=",
];

/// The token classes the grammar distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Id,
    TypeId,
    Kw,
    Const,
    Str,
    Punct,
    Pragma,
    Hash,
}

/// Parses `lexed` with `typedefs` already known as type names.
pub fn parse(lexed: &Lexed, typedefs: &[String]) -> PResult<Vec<External>> {
    let mut scope = HashMap::default();
    for t in typedefs {
        scope.insert(t.clone(), true);
    }
    let mut p = CParser {
        toks: &lexed.tokens,
        pos: 0,
        scopes: vec![scope],
        next_id: 0,
        depth: 0,
    };
    let mut out = Vec::new();
    while p.pos < p.toks.len() {
        out.extend(p.external_declaration()?);
    }
    Ok(out)
}

struct CParser<'a> {
    toks: &'a [Token],
    pos: usize,
    scopes: Vec<HashMap<String, bool>>,
    next_id: usize,
    /// Nesting of the recursive rules (declarators, struct bodies,
    /// parameter lists, expressions): bounded, so that no input overflows
    /// the stack.
    depth: u32,
}

/// Deeper nesting is refused (CFFI's own parser hits Python's recursion
/// limit at 107 to 1936 levels, depending on the construct).
const MAX_NESTING: u32 = 200;

#[cfg(test)]
mod tests {
    use super::super::lexer::lex;
    use super::*;

    fn parse_str(s: &str, typedefs: &[&str]) -> Vec<External> {
        let l = lex(s, "<t>").unwrap();
        let t: Vec<String> = typedefs.iter().map(|s| s.to_string()).collect();
        parse(&l, &t).unwrap()
    }

    fn shape(ty: &TyNode) -> String {
        match ty {
            TyNode::TypeDecl { quals, base, .. } => {
                let b = match base {
                    Base::Names(n) => n.join(" "),
                    Base::Su(s) => format!("struct {:?}", s.name),
                    Base::Enum(e) => format!("enum {:?}", e.name),
                };
                format!(
                    "T({}{})",
                    quals.iter().map(|q| format!("{q} ")).collect::<String>(),
                    b
                )
            }
            TyNode::Ptr { quals, inner, .. } => format!("P{quals:?}({})", shape(inner)),
            TyNode::Array { inner, .. } => format!("A({})", shape(inner)),
            TyNode::Func { params, ret, .. } => format!(
                "F[{}]({})",
                params.as_ref().map_or(0, |p| p.len()),
                shape(ret)
            ),
            TyNode::Bare(..) => "Bare".into(),
        }
    }

    fn decl(e: &External) -> &Decl {
        match e {
            External::Decl(d) => d,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn declarator_chains_match_pycparser() {
        let ast = parse_str(
            "int *a[3]; int (*b)[3]; char * const * c; int (*f)(int, long);",
            &[],
        );
        assert_eq!(shape(&decl(&ast[0]).ty), "A(P[](T(int)))");
        assert_eq!(shape(&decl(&ast[1]).ty), "P[](A(T(int)))");
        assert_eq!(shape(&decl(&ast[2]).ty), "P[](P[\"const\"](T(char)))");
        assert_eq!(shape(&decl(&ast[3]).ty), "P[](F[2](T(int)))");
    }

    #[test]
    fn typedef_names_change_the_parse() {
        let ast = parse_str("typedef int foo_t; foo_t x; void f(foo_t);", &[]);
        assert!(decl(&ast[0]).is_typedef);
        assert_eq!(shape(&decl(&ast[1]).ty), "T(foo_t)");
        assert_eq!(shape(&decl(&ast[2]).ty), "F[1](T(void))");
    }

    #[test]
    fn struct_nodes_are_shared_between_declarators() {
        let ast = parse_str("typedef struct { int a; } s_t, *s_p;", &[]);
        let (
            TyNode::TypeDecl {
                base: Base::Su(a), ..
            },
            TyNode::Ptr { inner, .. },
        ) = (&decl(&ast[0]).ty, &decl(&ast[1]).ty)
        else {
            panic!()
        };
        let TyNode::TypeDecl {
            base: Base::Su(b), ..
        } = &**inner
        else {
            panic!()
        };
        assert_eq!(a.id, b.id);
    }

    #[test]
    fn redeclaring_a_typedef_as_a_variable_is_an_error() {
        let l = lex("typedef int t; int t;", "<t>").unwrap();
        let e = parse(&l, &[]).unwrap_err();
        assert!(
            e.message.contains("previously declared as typedef"),
            "{e:?}"
        );
    }
}
