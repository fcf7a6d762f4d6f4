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

use super::lexer::{Lexed, Tok, Token};

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

impl<'a> CParser<'a> {
    // ---- scopes -------------------------------------------------------

    fn is_type(&self, name: &str) -> bool {
        for s in self.scopes.iter().rev() {
            if let Some(&b) = s.get(name) {
                return b;
            }
        }
        false
    }

    fn add_typedef_name(&mut self, name: &str, coord: Coord) -> PResult<()> {
        let top = self.scopes.last_mut().expect("a scope");
        if top.get(name) == Some(&false) {
            return Err(ParseError {
                message: format!(
                    "Typedef {name:?} previously declared as non-typedef in this scope"
                )
                .replace('"', "'"),
                coord: Some(coord),
            });
        }
        top.insert(name.to_string(), true);
        Ok(())
    }

    fn add_identifier(&mut self, name: &str, coord: Coord) -> PResult<()> {
        let top = self.scopes.last_mut().expect("a scope");
        if top.get(name) == Some(&true) {
            return Err(ParseError {
                message: format!(
                    "Non-typedef {name:?} previously declared as typedef in this scope"
                )
                .replace('"', "'"),
                coord: Some(coord),
            });
        }
        top.insert(name.to_string(), false);
        Ok(())
    }

    // ---- tokens -------------------------------------------------------

    fn class(&self, t: &Token) -> T {
        match t.kind {
            Tok::Ident => {
                if self.is_type(&t.text) {
                    T::TypeId
                } else {
                    T::Id
                }
            }
            Tok::Keyword => T::Kw,
            Tok::IntConst | Tok::FloatConst | Tok::CharConst => T::Const,
            Tok::StringLit => T::Str,
            Tok::Punct => T::Punct,
            Tok::Pragma => T::Pragma,
            Tok::Hash => T::Hash,
        }
    }

    fn peek(&self, k: usize) -> Option<&'a Token> {
        self.toks.get(self.pos + k)
    }

    /// When the next tokens read `name name` or `name *`, with `name` no
    /// type: the usual cause is a type the cdef never declared, and the
    /// parser's own wording ("Invalid declaration") does not say so.
    fn unknown_type_hint(&self) -> Option<String> {
        let t = self.peek(0)?;
        if self.class(t) != T::Id {
            return None;
        }
        let next = self.peek(1)?;
        let looks_declared = matches!(self.class(next), T::Id | T::TypeId) || next.text == "*";
        looks_declared.then(|| {
            format!(
                "unknown type name '{0}' (declare it first, e.g. 'typedef ... {0};', 'typedef int... {0};' or 'typedef struct {{ ...; }} {0};')",
                t.text
            )
        })
    }

    fn peek_class(&self, k: usize) -> Option<T> {
        self.peek(k).map(|t| self.class(t))
    }

    fn peek_is(&self, k: usize, s: &str) -> bool {
        self.peek(k).is_some_and(|t| t.is(s))
    }

    fn coord_of(t: &Token) -> Coord {
        Coord {
            line: t.line,
            col: t.col,
            file: t.file,
        }
    }

    fn here(&self) -> Option<Coord> {
        self.peek(0).map(Self::coord_of)
    }

    fn advance(&mut self) -> PResult<&'a Token> {
        let Some(t) = self.toks.get(self.pos) else {
            return Err(ParseError {
                message: "At end of input".into(),
                coord: None,
            });
        };
        self.pos += 1;
        match t.text.as_str() {
            "{" if t.kind == Tok::Punct => self.scopes.push(HashMap::default()),
            "}" if t.kind == Tok::Punct && self.scopes.len() > 1 => {
                self.scopes.pop();
            }
            _ => {}
        }
        Ok(t)
    }

    fn accept(&mut self, s: &str) -> PResult<Option<&'a Token>> {
        if self.peek_is(0, s) {
            Ok(Some(self.advance()?))
        } else {
            Ok(None)
        }
    }

    fn expect(&mut self, s: &str) -> PResult<&'a Token> {
        let t = self.advance()?;
        if !t.is(s) {
            return Err(Self::before(t));
        }
        Ok(t)
    }

    fn expect_class(&mut self, c: T) -> PResult<&'a Token> {
        let t = self.advance()?;
        if self.class(t) != c {
            return Err(Self::before(t));
        }
        Ok(t)
    }

    fn before(t: &Token) -> ParseError {
        ParseError {
            message: format!("before: {}", t.text),
            coord: Some(Self::coord_of(t)),
        }
    }

    fn err<X>(&self, msg: &str, coord: Option<Coord>) -> PResult<X> {
        Err(ParseError {
            message: msg.to_string(),
            coord,
        })
    }

    /// One level deeper into a recursive rule; an error past [`MAX_NESTING`].
    fn nest(&mut self) -> PResult<()> {
        if self.depth >= MAX_NESTING {
            return self.err(
                &format!("nesting deeper than {MAX_NESTING} levels is not supported"),
                self.here(),
            );
        }
        self.depth += 1;
        Ok(())
    }

    fn new_id(&mut self) -> usize {
        self.next_id += 1;
        self.next_id
    }

    fn kw_in(t: Option<&Token>, set: &[&str]) -> bool {
        t.is_some_and(|t| t.kind == Tok::Keyword && set.contains(&t.text.as_str()))
    }

    fn starts_declaration_at(&self, k: usize) -> bool {
        let Some(t) = self.peek(k) else { return false };
        match self.class(t) {
            T::TypeId => true,
            T::Kw => {
                let w = t.text.as_str();
                STORAGE.contains(&w)
                    || FUNCSPEC.contains(&w)
                    || QUALS.contains(&w)
                    || SIMPLE_TYPES.contains(&w)
                    || matches!(w, "struct" | "union" | "enum" | "_Alignas")
            }
            _ => false,
        }
    }

    fn starts_declaration(&self) -> bool {
        self.starts_declaration_at(0)
    }

    fn starts_expression(&self) -> bool {
        let Some(t) = self.peek(0) else { return false };
        match self.class(t) {
            T::Id | T::Const | T::Str => true,
            T::Punct => matches!(
                t.text.as_str(),
                "(" | "++" | "--" | "+" | "-" | "*" | "&" | "~" | "!"
            ),
            T::Kw => matches!(t.text.as_str(), "sizeof" | "_Alignof" | "offsetof"),
            _ => false,
        }
    }

    fn starts_declarator(&self, id_only: bool) -> bool {
        if self.peek_is(0, "*") || self.peek_is(0, "(") {
            return true;
        }
        match self.peek_class(0) {
            Some(T::Id) => true,
            Some(T::TypeId) => !id_only,
            _ => false,
        }
    }

    /// pycparser's `_scan_declarator_name_info` (without consuming).
    fn peek_declarator_name_info(&mut self) -> (Option<T>, bool) {
        let mark = self.pos;
        let scopes = self.scopes.len();
        let r = self.scan_declarator_name_info();
        self.pos = mark;
        self.scopes.truncate(scopes.max(1));
        while self.scopes.len() < scopes {
            self.scopes.push(HashMap::default());
        }
        r
    }

    fn scan_declarator_name_info(&mut self) -> (Option<T>, bool) {
        let mut saw_paren = false;
        while self.peek_is(0, "*") {
            self.pos += 1;
            while Self::kw_in(self.peek(0), QUALS) {
                self.pos += 1;
            }
        }
        let Some(t) = self.peek(0) else {
            return (None, saw_paren);
        };
        let c = self.class(t);
        if matches!(c, T::Id | T::TypeId) {
            self.pos += 1;
            return (Some(c), saw_paren);
        }
        if t.is("(") {
            saw_paren = true;
            self.pos += 1;
            let (tt, nested) = self.scan_declarator_name_info();
            if nested {
                saw_paren = true;
            }
            let mut depth = 1;
            loop {
                let Some(t) = self.peek(0) else {
                    return (None, saw_paren);
                };
                self.pos += 1;
                if t.is("(") {
                    depth += 1;
                } else if t.is(")") {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            return (tt, saw_paren);
        }
        (None, saw_paren)
    }

    // ---- top level ----------------------------------------------------

    fn external_declaration(&mut self) -> PResult<Vec<External>> {
        let Some(tok) = self.peek(0) else {
            return Ok(vec![]);
        };
        match self.class(tok) {
            T::Hash => return self.err("Directives not supported yet", Some(Self::coord_of(tok))),
            T::Pragma => {
                self.pos += 1;
                return Ok(vec![External::Pragma(Self::coord_of(tok))]);
            }
            _ => {}
        }
        if tok.is(";") {
            self.advance()?;
            return Ok(vec![]);
        }
        if tok.is("_Static_assert") {
            let c = Self::coord_of(tok);
            self.static_assert()?;
            return Ok(vec![External::Unsupported("StaticAssert", c)]);
        }
        if tok.is("_Pragma") {
            let c = Self::coord_of(tok);
            self.advance()?;
            self.expect("(")?;
            self.skip_balanced_parens()?;
            return Ok(vec![External::Pragma(c)]);
        }
        if !self.starts_declaration() {
            if let Some(hint) = self.unknown_type_hint() {
                return self.err(&hint, self.here());
            }
            // Old-style function definition with an implicit `int`.
            let d = self.declarator_kind(true, true)?;
            if !self.peek_is(0, "{") {
                return self.err("Invalid function definition", Some(d.coord));
            }
            self.skip_compound()?;
            return Ok(vec![External::Unsupported("FuncDef", d.coord)]);
        }
        let (mut spec, saw_type, spec_coord) = self.declaration_specifiers(true)?;
        let (name_type, _) = self.peek_declarator_name_info();
        if name_type != Some(T::Id) {
            let decls = self.decl_body_with_spec(spec, saw_type)?;
            self.expect(";")?;
            return Ok(decls.into_iter().map(External::Decl).collect());
        }
        let d = self.declarator_kind(true, true)?;
        if self.peek_is(0, "{") || self.starts_declaration() {
            while self.starts_declaration() {
                let _ = self.decl_body()?;
                self.expect(";")?;
            }
            if !self.peek_is(0, "{") {
                return self.err("Invalid function definition", Some(d.coord));
            }
            if spec.types.is_empty() {
                spec.types.push(SpecType::Names(
                    "int".into(),
                    spec_coord.unwrap_or_default(),
                ));
            }
            self.skip_compound()?;
            return Ok(vec![External::Unsupported("FuncDef", d.coord)]);
        }
        let mut first = Info {
            decl: DeclItem::D(d),
            init: None,
            bitsize: None,
        };
        if self.accept("=")?.is_some() {
            first.init = Some(self.initializer()?);
        }
        let items = self.init_declarator_list(Some(first), false)?;
        let decls = self.build_declarations(spec, items, true)?;
        self.expect(";")?;
        Ok(decls.into_iter().map(External::Decl).collect())
    }

    fn static_assert(&mut self) -> PResult<()> {
        self.advance()?;
        self.expect("(")?;
        self.skip_balanced_parens()?;
        self.expect(";")?;
        Ok(())
    }

    /// After a `(`: skips up to and including the matching `)`.
    fn skip_balanced_parens(&mut self) -> PResult<()> {
        let mut depth = 1;
        while depth > 0 {
            let t = self.advance()?;
            if t.is("(") {
                depth += 1;
            } else if t.is(")") {
                depth -= 1;
            }
        }
        Ok(())
    }

    /// Skips a `{ ... }` block (a function body).
    fn skip_compound(&mut self) -> PResult<()> {
        self.expect("{")?;
        let mut depth = 1;
        while depth > 0 {
            let t = self.advance()?;
            if t.is("{") {
                depth += 1;
            } else if t.is("}") {
                depth -= 1;
            }
        }
        Ok(())
    }

    fn decl_body(&mut self) -> PResult<Vec<Decl>> {
        let (spec, saw_type, _) = self.declaration_specifiers(true)?;
        self.decl_body_with_spec(spec, saw_type)
    }

    fn decl_body_with_spec(&mut self, spec: Spec, saw_type: bool) -> PResult<Vec<Decl>> {
        let mut items = None;
        if saw_type {
            if self.starts_declarator(false) {
                items = Some(self.init_declarator_list(None, false)?);
            }
        } else if self.starts_declarator(true) {
            items = Some(self.init_declarator_list(None, true)?);
        }
        match items {
            Some(items) => self.build_declarations(spec, items, true),
            None => {
                if spec.types.len() == 1 {
                    let bare = match &spec.types[0] {
                        SpecType::Su(n, c) => Some((Base::Su(n.clone()), *c)),
                        SpecType::Enum(n, c) => Some((Base::Enum(n.clone()), *c)),
                        SpecType::Names(..) => None,
                    };
                    if let Some((base, c)) = bare {
                        return Ok(vec![Decl {
                            name: None,
                            is_typedef: false,
                            storage: spec.storage.clone(),
                            ty: TyNode::Bare(base, c),
                            init: None,
                            bitsize: None,
                            coord: c,
                        }]);
                    }
                }
                self.build_declarations(
                    spec,
                    vec![Info {
                        decl: DeclItem::None,
                        init: None,
                        bitsize: None,
                    }],
                    true,
                )
            }
        }
    }

    fn declaration_specifiers(
        &mut self,
        allow_no_type: bool,
    ) -> PResult<(Spec, bool, Option<Coord>)> {
        let mut spec = Spec::default();
        let mut any = false;
        let mut saw_type = false;
        let mut first: Option<Coord> = None;
        while let Some(tok) = self.peek(0) {
            let c = Self::coord_of(tok);
            let class = self.class(tok);
            let w = tok.text.as_str();
            if class == T::Kw && w == "_Alignas" {
                first.get_or_insert(c);
                self.advance()?;
                self.expect("(")?;
                self.skip_balanced_parens()?;
                any = true;
                continue;
            }
            if class == T::Kw && w == "_Atomic" && self.peek_is(1, "(") {
                first.get_or_insert(c);
                self.advance()?;
                self.expect("(")?;
                let ty = self.type_name()?;
                self.expect(")")?;
                spec.types.push(ty);
                saw_type = true;
                any = true;
                continue;
            }
            if class == T::Kw && QUALS.contains(&w) {
                first.get_or_insert(c);
                spec.qual.push(self.advance()?.text.clone());
                any = true;
                continue;
            }
            if class == T::Kw && STORAGE.contains(&w) {
                first.get_or_insert(c);
                spec.storage.push(self.advance()?.text.clone());
                any = true;
                continue;
            }
            if class == T::Kw && FUNCSPEC.contains(&w) {
                first.get_or_insert(c);
                self.advance()?;
                any = true;
                continue;
            }
            if class == T::Kw && SIMPLE_TYPES.contains(&w) {
                first.get_or_insert(c);
                let t = self.advance()?;
                spec.types.push(SpecType::Names(t.text.clone(), c));
                saw_type = true;
                any = true;
                continue;
            }
            if class == T::TypeId {
                if saw_type {
                    break;
                }
                first.get_or_insert(c);
                let t = self.advance()?;
                spec.types.push(SpecType::Names(t.text.clone(), c));
                saw_type = true;
                any = true;
                continue;
            }
            if class == T::Kw && (w == "struct" || w == "union") {
                first.get_or_insert(c);
                let n = self.struct_or_union_specifier()?;
                spec.types.push(n);
                saw_type = true;
                any = true;
                continue;
            }
            if class == T::Kw && w == "enum" {
                first.get_or_insert(c);
                let n = self.enum_specifier()?;
                spec.types.push(n);
                saw_type = true;
                any = true;
                continue;
            }
            break;
        }
        if !any {
            if let Some(hint) = self.unknown_type_hint() {
                return self.err(&hint, self.here());
            }
            return self.err("Invalid declaration", self.here());
        }
        if !saw_type && !allow_no_type {
            return self.err("Missing type in declaration", first);
        }
        Ok((spec, saw_type, first))
    }

    fn specifier_qualifier_list(&mut self) -> PResult<Spec> {
        let (spec, saw_type, first) = self.declaration_specifiers(true)?;
        if !spec.storage.is_empty() {
            // Storage classes are not part of a specifier-qualifier list.
            return self.err("Invalid declaration", first);
        }
        if !saw_type {
            return self.err("Missing type in declaration", first);
        }
        Ok(spec)
    }

    fn init_declarator_list(&mut self, first: Option<Info>, id_only: bool) -> PResult<Vec<Info>> {
        let mut v = vec![match first {
            Some(f) => f,
            None => self.init_declarator(id_only)?,
        }];
        while self.accept(",")?.is_some() {
            v.push(self.init_declarator(id_only)?);
        }
        Ok(v)
    }

    fn init_declarator(&mut self, id_only: bool) -> PResult<Info> {
        let d = if id_only {
            self.declarator_kind(true, true)?
        } else {
            self.declarator()?
        };
        let mut init = None;
        if self.accept("=")?.is_some() {
            init = Some(self.initializer()?);
        }
        Ok(Info {
            decl: DeclItem::D(d),
            init,
            bitsize: None,
        })
    }

    fn initializer(&mut self) -> PResult<Init> {
        if self.peek_is(0, "{") {
            self.skip_compound()?;
            return Ok(Init::List);
        }
        Ok(Init::Expr(self.assignment_expression()?))
    }

    // ---- structs and enums -------------------------------------------

    fn struct_or_union_specifier(&mut self) -> PResult<SpecType> {
        self.nest()?;
        let r = self.struct_or_union_specifier_in();
        self.depth -= 1;
        r
    }

    fn struct_or_union_specifier_in(&mut self) -> PResult<SpecType> {
        let tok = self.advance()?;
        let is_union = tok.text == "union";
        if matches!(self.peek_class(0), Some(T::Id | T::TypeId)) {
            let name_tok = self.advance()?;
            let c = Self::coord_of(name_tok);
            let decls = if self.peek_is(0, "{") {
                self.advance()?;
                let d = self.struct_declaration_list()?;
                self.expect("}")?;
                Some(d)
            } else {
                None
            };
            let id = self.new_id();
            return Ok(SpecType::Su(
                Rc::new(SuNode {
                    id,
                    is_union,
                    name: Some(name_tok.text.clone()),
                    decls,
                    coord: c,
                }),
                c,
            ));
        }
        if self.peek_is(0, "{") {
            let brace = self.advance()?;
            let c = Self::coord_of(brace);
            let d = self.struct_declaration_list()?;
            self.expect("}")?;
            let id = self.new_id();
            return Ok(SpecType::Su(
                Rc::new(SuNode {
                    id,
                    is_union,
                    name: None,
                    decls: Some(d),
                    coord: c,
                }),
                c,
            ));
        }
        self.err(
            "Invalid struct/union declaration",
            Some(Self::coord_of(tok)),
        )
    }

    fn struct_declaration_list(&mut self) -> PResult<Vec<Member>> {
        let mut decls = Vec::new();
        while self.peek(0).is_some() && !self.peek_is(0, "}") {
            if self.accept(";")?.is_some() {
                continue;
            }
            if let Some(t) = self.peek(0)
                && t.kind == Tok::Pragma
            {
                self.pos += 1;
                decls.push(Member::Pragma(Self::coord_of(t)));
                continue;
            }
            let spec = self.specifier_qualifier_list()?;
            if self.starts_declarator(false) || self.peek_is(0, ":") {
                let mut items = vec![self.struct_declarator()?];
                while self.accept(",")?.is_some() {
                    items.push(self.struct_declarator()?);
                }
                self.expect(";")?;
                decls.extend(
                    self.build_declarations(spec, items, false)?
                        .into_iter()
                        .map(Member::Decl),
                );
                continue;
            }
            let item = if spec.types.len() == 1 {
                let (base, c) = match &spec.types[0] {
                    SpecType::Names(n, c) => (Base::Names(vec![n.clone()]), *c),
                    SpecType::Su(n, c) => (Base::Su(n.clone()), *c),
                    SpecType::Enum(n, c) => (Base::Enum(n.clone()), *c),
                };
                DeclItem::Bare(base, c)
            } else {
                DeclItem::None
            };
            self.expect(";")?;
            decls.extend(
                self.build_declarations(
                    spec,
                    vec![Info {
                        decl: item,
                        init: None,
                        bitsize: None,
                    }],
                    false,
                )?
                .into_iter()
                .map(Member::Decl),
            );
        }
        Ok(decls)
    }

    fn struct_declarator(&mut self) -> PResult<Info> {
        if self.accept(":")?.is_some() {
            let bitsize = self.conditional_expression()?;
            let c = bitsize.coord();
            return Ok(Info {
                decl: DeclItem::D(Declarator {
                    name: None,
                    mods: vec![],
                    coord: c,
                }),
                init: None,
                bitsize: Some(bitsize),
            });
        }
        let d = self.declarator()?;
        let bitsize = if self.accept(":")?.is_some() {
            Some(self.conditional_expression()?)
        } else {
            None
        };
        Ok(Info {
            decl: DeclItem::D(d),
            init: None,
            bitsize,
        })
    }

    fn enum_specifier(&mut self) -> PResult<SpecType> {
        let tok = self.expect("enum")?;
        let c = Self::coord_of(tok);
        let mut name = None;
        if matches!(self.peek_class(0), Some(T::Id | T::TypeId)) {
            name = Some(self.advance()?.text.clone());
            if !self.peek_is(0, "{") {
                let id = self.new_id();
                return Ok(SpecType::Enum(
                    Rc::new(EnumNode {
                        id,
                        name,
                        values: None,
                        coord: c,
                    }),
                    c,
                ));
            }
        }
        self.expect("{")?;
        let mut values = vec![self.enumerator()?];
        while self.accept(",")?.is_some() {
            if self.peek_is(0, "}") {
                break;
            }
            values.push(self.enumerator()?);
        }
        self.expect("}")?;
        let id = self.new_id();
        Ok(SpecType::Enum(
            Rc::new(EnumNode {
                id,
                name,
                values: Some(values),
                coord: c,
            }),
            c,
        ))
    }

    fn enumerator(&mut self) -> PResult<Enumerator> {
        let t = self.expect_class(T::Id)?;
        let c = Self::coord_of(t);
        let value = if self.accept("=")?.is_some() {
            Some(self.conditional_expression()?)
        } else {
            None
        };
        self.add_identifier(&t.text, c)?;
        Ok(Enumerator {
            name: t.text.clone(),
            value,
            coord: c,
        })
    }

    // ---- declarators -------------------------------------------------

    fn declarator(&mut self) -> PResult<Declarator> {
        let (d, _) = self.any_declarator(false, false)?;
        Ok(d.expect("a named declarator"))
    }

    fn any_declarator(
        &mut self,
        allow_abstract: bool,
        typeid_paren_as_abstract: bool,
    ) -> PResult<(Option<Declarator>, bool)> {
        let (name_type, saw_paren) = self.peek_declarator_name_info();
        if name_type.is_none()
            || (typeid_paren_as_abstract && name_type == Some(T::TypeId) && saw_paren)
        {
            if !allow_abstract {
                return self.err("Invalid declarator", self.here());
            }
            return Ok((self.abstract_declarator_opt()?, false));
        }
        let d = if name_type == Some(T::TypeId) {
            self.declarator_kind(false, !typeid_paren_as_abstract)?
        } else {
            self.declarator_kind(true, true)?
        };
        Ok((Some(d), true))
    }

    fn declarator_kind(&mut self, id: bool, allow_paren: bool) -> PResult<Declarator> {
        self.nest()?;
        let r = self.declarator_kind_in(id, allow_paren);
        self.depth -= 1;
        r
    }

    fn declarator_kind_in(&mut self, id: bool, allow_paren: bool) -> PResult<Declarator> {
        let stars = self.pointer()?;
        let mut d = self.direct_declarator(id, allow_paren)?;
        if let Some(first) = stars.first()
            && let Mod::Ptr(_, c) = first
        {
            d.coord = if d.mods.is_empty() && d.name.is_none() {
                *c
            } else {
                d.coord
            };
        }
        d.mods.extend(stars.into_iter().rev());
        Ok(d)
    }

    fn direct_declarator(&mut self, id: bool, allow_paren: bool) -> PResult<Declarator> {
        let mut d = if allow_paren && self.peek_is(0, "(") {
            self.advance()?;
            let d = self.declarator_kind(id, true)?;
            self.expect(")")?;
            d
        } else {
            let t = self.expect_class(if id { T::Id } else { T::TypeId })?;
            let c = Self::coord_of(t);
            Declarator {
                name: Some((t.text.clone(), c)),
                mods: vec![],
                coord: c,
            }
        };
        self.decl_suffixes(&mut d.mods, d.coord)?;
        Ok(d)
    }

    fn decl_suffixes(&mut self, mods: &mut Vec<Mod>, coord: Coord) -> PResult<()> {
        loop {
            if self.peek_is(0, "[") {
                let m = self.array_suffix(coord)?;
                mods.push(m);
                continue;
            }
            if self.peek_is(0, "(") {
                let m = self.function_suffix(coord)?;
                mods.push(m);
                continue;
            }
            return Ok(());
        }
    }

    fn array_suffix(&mut self, coord: Coord) -> PResult<Mod> {
        self.expect("[")?;
        if self.accept("static")?.is_some() {
            while Self::kw_in(self.peek(0), QUALS) {
                self.advance()?;
            }
            let dim = self.assignment_expression()?;
            self.expect("]")?;
            return Ok(Mod::Array(Some(dim), coord));
        }
        let mut had_quals = false;
        while Self::kw_in(self.peek(0), QUALS) {
            self.advance()?;
            had_quals = true;
        }
        if had_quals && self.accept("static")?.is_some() {
            let dim = self.assignment_expression()?;
            self.expect("]")?;
            return Ok(Mod::Array(Some(dim), coord));
        }
        if self.peek_is(0, "*") && self.peek_is(1, "]") {
            let t = self.advance()?;
            self.advance()?;
            return Ok(Mod::Array(
                Some(Expr::Id("*".into(), Self::coord_of(t))),
                coord,
            ));
        }
        let dim = if self.starts_expression() {
            Some(self.assignment_expression()?)
        } else {
            None
        };
        self.expect("]")?;
        Ok(Mod::Array(dim, coord))
    }

    fn function_suffix(&mut self, coord: Coord) -> PResult<Mod> {
        self.expect("(")?;
        if self.accept(")")?.is_some() {
            return Ok(Mod::Func(None, coord));
        }
        let params = if self.starts_declaration() {
            self.parameter_type_list()?
        } else {
            let mut v = Vec::new();
            if !self.peek_is(0, ")") {
                loop {
                    let t = self.expect_class(T::Id)?;
                    v.push(Param::Untyped(t.text.clone(), Self::coord_of(t)));
                    if self.accept(",")?.is_none() {
                        break;
                    }
                }
            }
            v
        };
        self.expect(")")?;
        Ok(Mod::Func(Some(params), coord))
    }

    fn pointer(&mut self) -> PResult<Vec<Mod>> {
        let mut stars = Vec::new();
        while self.peek_is(0, "*") {
            let t = self.advance()?;
            let mut quals = Vec::new();
            while Self::kw_in(self.peek(0), QUALS) {
                quals.push(self.advance()?.text.clone());
            }
            stars.push(Mod::Ptr(quals, Self::coord_of(t)));
        }
        Ok(stars)
    }

    fn parameter_type_list(&mut self) -> PResult<Vec<Param>> {
        self.nest()?;
        let r = self.parameter_type_list_in();
        self.depth -= 1;
        r
    }

    fn parameter_type_list_in(&mut self) -> PResult<Vec<Param>> {
        let mut params = vec![self.parameter_declaration()?];
        while self.peek_is(0, ",") && !self.peek_is(1, "...") {
            self.advance()?;
            params.push(self.parameter_declaration()?);
        }
        if self.peek_is(0, ",") && self.peek_is(1, "...") {
            // Not reachable from cdefs (CFFI rewrites "..."), kept for C.
            self.advance()?;
            self.advance()?;
        }
        Ok(params)
    }

    fn parameter_declaration(&mut self) -> PResult<Param> {
        let (mut spec, _, spec_coord) = self.declaration_specifiers(true)?;
        if spec.types.is_empty() {
            spec.types.push(SpecType::Names(
                "int".into(),
                spec_coord.unwrap_or_default(),
            ));
        }
        let decl = if self.starts_declarator(false) {
            let (d, named) = self.any_declarator(true, true)?;
            if named {
                let decls = self.build_declarations(
                    spec,
                    vec![Info {
                        decl: DeclItem::D(d.expect("named")),
                        init: None,
                        bitsize: None,
                    }],
                    false,
                )?;
                let d = decls.into_iter().next().expect("one");
                return Ok(Param::Typed {
                    name: d.name,
                    ty: d.ty,
                });
            }
            d
        } else {
            self.abstract_declarator_opt()?
        };
        // pycparser's _build_parameter_declaration
        let last_is_type = match spec.types.last() {
            Some(SpecType::Names(n, _)) => spec.types.len() > 1 && self.is_type(n),
            _ => false,
        };
        let d = decl.unwrap_or_default();
        if last_is_type {
            let decls = self.build_declarations(
                spec,
                vec![Info {
                    decl: DeclItem::D(d),
                    init: None,
                    bitsize: None,
                }],
                false,
            )?;
            let d = decls.into_iter().next().expect("one");
            return Ok(Param::Typed {
                name: d.name,
                ty: d.ty,
            });
        }
        let ty = self.fix_type(&spec, &d, spec_coord.unwrap_or_default())?;
        Ok(Param::Typed { name: None, ty })
    }

    /// A type name (`(type)` in casts, `sizeof(type)`); only its shape is
    /// kept, as a base-type item.
    fn type_name(&mut self) -> PResult<SpecType> {
        let spec = self.specifier_qualifier_list()?;
        let _ = self.abstract_declarator_opt()?;
        let c = self.here().unwrap_or_default();
        Ok(spec
            .types
            .into_iter()
            .next()
            .unwrap_or(SpecType::Names("int".into(), c)))
    }

    fn abstract_declarator_opt(&mut self) -> PResult<Option<Declarator>> {
        if self.peek_is(0, "*") {
            let stars = self.pointer()?;
            let c = match stars.first() {
                Some(Mod::Ptr(_, c)) => *c,
                _ => Coord::default(),
            };
            let mut d = if self.peek_is(0, "(") || self.peek_is(0, "[") {
                self.direct_abstract_declarator()?
            } else {
                Declarator {
                    name: None,
                    mods: vec![],
                    coord: c,
                }
            };
            d.mods.extend(stars.into_iter().rev());
            return Ok(Some(d));
        }
        if self.peek_is(0, "(") || self.peek_is(0, "[") {
            return Ok(Some(self.direct_abstract_declarator()?));
        }
        Ok(None)
    }

    fn direct_abstract_declarator(&mut self) -> PResult<Declarator> {
        self.nest()?;
        let r = self.direct_abstract_declarator_in();
        self.depth -= 1;
        r
    }

    fn direct_abstract_declarator_in(&mut self) -> PResult<Declarator> {
        let c = self.here().unwrap_or_default();
        let mut d;
        if self.peek_is(0, "(") {
            self.advance()?;
            if self.starts_declaration() || self.peek_is(0, ")") {
                let params = if self.peek_is(0, ")") {
                    None
                } else {
                    Some(self.parameter_type_list()?)
                };
                self.expect(")")?;
                d = Declarator {
                    name: None,
                    mods: vec![Mod::Func(params, c)],
                    coord: c,
                };
            } else {
                let inner = self.abstract_declarator_opt()?;
                self.expect(")")?;
                d = match inner {
                    Some(d) => d,
                    None => return self.err("Invalid abstract declarator", Some(c)),
                };
            }
        } else if self.peek_is(0, "[") {
            let m = self.array_suffix(c)?;
            d = Declarator {
                name: None,
                mods: vec![m],
                coord: c,
            };
        } else {
            return self.err("Invalid abstract declarator", Some(c));
        }
        let coord = d.coord;
        self.decl_suffixes(&mut d.mods, coord)?;
        Ok(d)
    }

    // ---- building declarations ---------------------------------------

    /// pycparser's `_fix_decl_name_type` for one declarator: the type
    /// chain ending in a `TypeDecl` with the specifiers' base and qualifiers.
    fn fix_type(&self, spec: &Spec, d: &Declarator, coord: Coord) -> PResult<TyNode> {
        let base = {
            let mut non_names = spec
                .types
                .iter()
                .filter(|t| !matches!(t, SpecType::Names(..)));
            match non_names.next() {
                Some(t) => {
                    if spec.types.len() > 1 {
                        let c = match t {
                            SpecType::Su(_, c) | SpecType::Enum(_, c) | SpecType::Names(_, c) => *c,
                        };
                        return self.err("Invalid multiple types specified", Some(c));
                    }
                    match t {
                        SpecType::Su(n, _) => Base::Su(n.clone()),
                        SpecType::Enum(n, _) => Base::Enum(n.clone()),
                        SpecType::Names(..) => unreachable!(),
                    }
                }
                None => {
                    if spec.types.is_empty() {
                        if !matches!(d.mods.first(), Some(Mod::Func(..))) {
                            return self.err("Missing type in declaration", Some(d.coord));
                        }
                        Base::Names(vec!["int".into()])
                    } else {
                        Base::Names(
                            spec.types
                                .iter()
                                .map(|t| match t {
                                    SpecType::Names(n, _) => n.clone(),
                                    _ => unreachable!(),
                                })
                                .collect(),
                        )
                    }
                }
            }
        };
        let type_coord = d.name.as_ref().map_or(coord, |(_, c)| *c);
        let mut ty = TyNode::TypeDecl {
            quals: spec.qual.clone(),
            base,
            coord: type_coord,
        };
        for m in d.mods.iter().rev() {
            ty = match m {
                Mod::Ptr(q, c) => TyNode::Ptr {
                    quals: q.clone(),
                    inner: Box::new(ty),
                    coord: *c,
                },
                Mod::Array(dim, c) => TyNode::Array {
                    dim: dim.clone(),
                    inner: Box::new(ty),
                    coord: *c,
                },
                Mod::Func(p, c) => TyNode::Func {
                    params: p.clone(),
                    ret: Box::new(ty),
                    coord: *c,
                },
            };
        }
        Ok(ty)
    }

    fn build_declarations(
        &mut self,
        mut spec: Spec,
        mut items: Vec<Info>,
        typedef_namespace: bool,
    ) -> PResult<Vec<Decl>> {
        let is_typedef = spec.storage.iter().any(|s| s == "typedef");
        if items[0].bitsize.is_none() {
            match &mut items[0].decl {
                DeclItem::None => {
                    let last_ok = spec.types.len() >= 2
                        && matches!(spec.types.last(), Some(SpecType::Names(n, _)) if self.is_type(n));
                    if !last_ok {
                        let c = spec
                            .types
                            .iter()
                            .map(|t| match t {
                                SpecType::Names(_, c)
                                | SpecType::Su(_, c)
                                | SpecType::Enum(_, c) => *c,
                            })
                            .next();
                        return self.err("Invalid declaration", c);
                    }
                    let Some(SpecType::Names(n, c)) = spec.types.pop() else {
                        unreachable!()
                    };
                    items[0].decl = DeclItem::D(Declarator {
                        name: Some((n, c)),
                        mods: vec![],
                        coord: c,
                    });
                }
                DeclItem::D(d) if d.name.is_none() => {
                    if let Some(SpecType::Names(n, c)) = spec.types.last().cloned() {
                        d.name = Some((n, c));
                        spec.types.pop();
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for item in items {
            let (name, ty, coord) = match item.decl {
                DeclItem::None => unreachable!("fixed above"),
                DeclItem::Bare(base, c) => (None, TyNode::Bare(base, c), c),
                DeclItem::D(d) => {
                    let c = d.name.as_ref().map_or(d.coord, |(_, c)| *c);
                    let ty = self.fix_type(&spec, &d, c)?;
                    (d.name.map(|(n, _)| n), ty, c)
                }
            };
            if typedef_namespace && let Some(n) = &name {
                if is_typedef {
                    self.add_typedef_name(n, coord)?;
                } else {
                    self.add_identifier(n, coord)?;
                }
            }
            out.push(Decl {
                name,
                storage: spec.storage.clone(),
                ty,
                init: item.init,
                bitsize: item.bitsize,
                coord,
                is_typedef,
            });
        }
        Ok(out)
    }

    // ---- expressions --------------------------------------------------

    fn expression(&mut self) -> PResult<Expr> {
        let e = self.assignment_expression()?;
        if self.peek_is(0, ",") {
            while self.accept(",")?.is_some() {
                self.assignment_expression()?;
            }
            return Ok(Expr::Other("ExprList", e.coord()));
        }
        Ok(e)
    }

    fn assignment_expression(&mut self) -> PResult<Expr> {
        if self.peek_is(0, "(") && self.peek_is(1, "{") {
            let c = self.here().unwrap_or_default();
            self.advance()?;
            self.skip_compound()?;
            self.expect(")")?;
            return Ok(Expr::Other("Compound", c));
        }
        let e = self.conditional_expression()?;
        if self
            .peek(0)
            .is_some_and(|t| t.kind == Tok::Punct && ASSIGN_OPS.contains(&t.text.as_str()))
        {
            self.advance()?;
            self.assignment_expression()?;
            return Ok(Expr::Other("Assignment", e.coord()));
        }
        Ok(e)
    }

    fn conditional_expression(&mut self) -> PResult<Expr> {
        let e = self.binary_expression(0, None)?;
        if self.accept("?")?.is_some() {
            self.expression()?;
            self.expect(":")?;
            self.conditional_expression()?;
            return Ok(Expr::Other("TernaryOp", e.coord()));
        }
        Ok(e)
    }

    fn binary_prec(&self) -> Option<(String, u8)> {
        let t = self.peek(0)?;
        if t.kind != Tok::Punct {
            return None;
        }
        BINARY_PREC
            .iter()
            .find(|(op, _)| *op == t.text)
            .map(|(op, p)| (op.to_string(), *p))
    }

    fn binary_expression(&mut self, min_prec: u8, lhs: Option<Expr>) -> PResult<Expr> {
        let mut lhs = match lhs {
            Some(l) => l,
            None => self.cast_expression()?,
        };
        while let Some((op, prec)) = self.binary_prec() {
            if prec < min_prec {
                break;
            }
            self.advance()?;
            let mut rhs = self.cast_expression()?;
            while let Some((_, next)) = self.binary_prec() {
                if next > prec {
                    rhs = self.binary_expression(next, Some(rhs))?;
                } else {
                    break;
                }
            }
            let c = lhs.coord();
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs), c);
        }
        Ok(lhs)
    }

    fn try_paren_type_name(&mut self) -> PResult<Option<(usize, Coord)>> {
        if !self.peek_is(0, "(") || !self.starts_declaration_at(1) {
            return Ok(None);
        }
        let mark = self.pos;
        let scopes = self.scopes.clone();
        let c = self.here().unwrap_or_default();
        self.advance()?;
        match self.type_name() {
            Ok(_) if self.peek_is(0, ")") => {
                self.advance()?;
                Ok(Some((mark, c)))
            }
            _ => {
                self.pos = mark;
                self.scopes = scopes;
                Ok(None)
            }
        }
    }

    fn cast_expression(&mut self) -> PResult<Expr> {
        self.nest()?;
        let r = self.cast_expression_in();
        self.depth -= 1;
        r
    }

    fn cast_expression_in(&mut self) -> PResult<Expr> {
        if let Some((mark, c)) = self.try_paren_type_name()? {
            if self.peek_is(0, "{") {
                self.pos = mark;
            } else {
                self.cast_expression()?;
                return Ok(Expr::Other("Cast", c));
            }
        }
        self.unary_expression()
    }

    fn unary_expression(&mut self) -> PResult<Expr> {
        let Some(t) = self.peek(0) else {
            return self.err("At end of input", None);
        };
        if t.kind == Tok::Punct && (t.text == "++" || t.text == "--") {
            self.advance()?;
            self.nest()?;
            let e = self.unary_expression();
            self.depth -= 1;
            let e = e?;
            let c = e.coord();
            return Ok(Expr::Unary(t.text.clone(), Box::new(e), c));
        }
        if t.kind == Tok::Punct && matches!(t.text.as_str(), "&" | "*" | "+" | "-" | "~" | "!") {
            self.advance()?;
            let e = self.cast_expression()?;
            let c = e.coord();
            return Ok(Expr::Unary(t.text.clone(), Box::new(e), c));
        }
        if t.is("sizeof") {
            self.advance()?;
            if self.try_paren_type_name()?.is_none() {
                self.nest()?;
                let e = self.unary_expression();
                self.depth -= 1;
                e?;
            }
            return Ok(Expr::Other("UnaryOp", Self::coord_of(t)));
        }
        if t.is("_Alignof") {
            self.advance()?;
            self.expect("(")?;
            self.type_name()?;
            self.expect(")")?;
            return Ok(Expr::Other("UnaryOp", Self::coord_of(t)));
        }
        self.postfix_expression()
    }

    fn postfix_expression(&mut self) -> PResult<Expr> {
        if let Some((mark, c)) = self.try_paren_type_name()? {
            if self.peek_is(0, "{") {
                self.skip_compound()?;
                return Ok(Expr::Other("CompoundLiteral", c));
            }
            self.pos = mark;
        }
        let mut e = self.primary_expression()?;
        loop {
            let c = e.coord();
            if self.accept("[")?.is_some() {
                self.expression()?;
                self.expect("]")?;
                e = Expr::Other("ArrayRef", c);
                continue;
            }
            if self.accept("(")?.is_some() {
                if self.accept(")")?.is_none() {
                    self.assignment_expression()?;
                    while self.accept(",")?.is_some() {
                        self.assignment_expression()?;
                    }
                    self.expect(")")?;
                }
                e = Expr::Other("FuncCall", c);
                continue;
            }
            if self.peek_is(0, ".") || self.peek_is(0, "->") {
                self.advance()?;
                let n = self.advance()?;
                if !matches!(self.class(n), T::Id | T::TypeId) {
                    return self.err("Invalid struct reference", Some(Self::coord_of(n)));
                }
                e = Expr::Other("StructRef", c);
                continue;
            }
            if self.peek_is(0, "++") || self.peek_is(0, "--") {
                self.advance()?;
                e = Expr::Other("UnaryOp", c);
                continue;
            }
            return Ok(e);
        }
    }

    fn primary_expression(&mut self) -> PResult<Expr> {
        let Some(t) = self.peek(0) else {
            return self.err("Invalid expression", None);
        };
        let c = Self::coord_of(t);
        match (self.class(t), t.kind) {
            (T::Id, _) => {
                self.advance()?;
                Ok(Expr::Id(t.text.clone(), c))
            }
            (T::Const, k) => {
                self.advance()?;
                let kind = match k {
                    Tok::IntConst => ConstKind::Int,
                    Tok::FloatConst => ConstKind::Float,
                    _ => ConstKind::Char,
                };
                Ok(Expr::Const {
                    kind,
                    text: t.text.clone(),
                    coord: c,
                })
            }
            (T::Str, _) => {
                self.advance()?;
                let mut text = t.text.clone();
                while self.peek_class(0) == Some(T::Str) {
                    let t2 = self.advance()?;
                    text.pop();
                    text.push_str(&t2.text[1..]);
                }
                Ok(Expr::Const {
                    kind: ConstKind::Str,
                    text,
                    coord: c,
                })
            }
            (T::Punct, _) if t.text == "(" => {
                self.advance()?;
                let e = self.expression()?;
                self.expect(")")?;
                Ok(e)
            }
            (T::Kw, _) if t.text == "offsetof" => {
                self.advance()?;
                self.expect("(")?;
                self.type_name()?;
                self.expect(",")?;
                self.skip_balanced_parens()?;
                Ok(Expr::Other("FuncCall", c))
            }
            _ => self.err("Invalid expression", Some(c)),
        }
    }
}

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
