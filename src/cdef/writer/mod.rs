//! Header model → CFFI cdef text.
//!
//! The project's declarations are written in source order, each preceded by
//! what it needs: typedefs from system headers become `typedef int... t;`
//! (integers), `typedef float... t;` or their real definition; system
//! structs become partial (`struct timespec { ...; };`); opaque types stay
//! incomplete (`typedef struct X X;`). Records whose layout CFFI would not
//! compute from their fields (packed, `#pragma pack`, aligned members: see
//! `Record::packed`) are written partial so the compiler supplies it.
//! Nothing CFFI cannot express is written (over-aligned typedefs, `va_list`,
//! `__int128`, bitfields and anonymous-typed fields of partial records...);
//! each omission is reported.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use regex::Regex;

use crate::headers::decls::{CType, HeaderModel, Item, Record};

/// How to write.
#[derive(Debug, Clone, Default)]
pub struct WriterOptions {
    /// `define_patterns`: macros whose name matches (`re.search`) are written
    /// as `#define NAME ...` when they are integer constants.
    pub define_patterns: Vec<Regex>,
    /// `extra_cdef`: lines appended verbatim.
    pub extra_cdef: Vec<String>,
    /// When set, functions and variables not in it (the libraries' exported
    /// symbols) are left out.
    pub exported: Option<HashSet<String>>,
    /// Names to leave out.
    pub exclude: Vec<Regex>,
    /// When set, only these functions and variables are written (wherever
    /// they are declared, system headers included), with the types they need.
    pub only: Option<HashSet<String>>,
    /// Which macros are written.
    pub macros: MacroSelection,
    /// Write macros with their values (`#define X 42`) rather than `...`:
    /// ABI mode cannot ask the compiler.
    pub macro_values: bool,
}

/// Which object-like macros a cdef declares (`[tool.headerkit.writer.cffi]
/// macros`): each as the compiler sees it where the header ends, an integer
/// as `#define X ...`, a string as `static const char *const X;`, a name of
/// a written function as that function's declaration under the macro's name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MacroSelection {
    /// `"all-library"`: every macro of the library's own headers (none when
    /// the bindings are a selection of functions, `symbols`), and those of
    /// any header that `define_patterns` names.
    AllLibrary,
    /// `"patterns"`: only those `define_patterns` names (headerkit's rule).
    #[default]
    Patterns,
}

impl MacroSelection {
    /// The configuration's spelling.
    pub fn parse(s: &str) -> Option<MacroSelection> {
        match s {
            "all-library" => Some(MacroSelection::AllLibrary),
            "patterns" => Some(MacroSelection::Patterns),
            _ => None,
        }
    }

    /// The configuration's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MacroSelection::AllLibrary => "all-library",
            MacroSelection::Patterns => "patterns",
        }
    }
}

/// The written cdef and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// The cdef text.
    pub cdef: String,
    /// One line per omission, with the reason.
    pub warnings: Vec<String>,
}

/// Type names CFFI knows without a declaration (its common types, less its
/// own `_cffi_*_complex_t` spellings, which no header declares).
fn cffi_common(name: &str) -> bool {
    crate::cdef::preprocess::COMMON_TYPE_WORDS.contains(&name) && !name.starts_with("_cffi_")
}

struct W<'m> {
    m: &'m HeaderModel,
    out: String,
    warnings: Vec<String>,
    done_typedefs: HashSet<String>,
    done_records: HashSet<usize>,
    done_enums: HashSet<usize>,
    in_progress: HashSet<String>,
    /// Write system structs with their fields (bindings of system functions).
    system_full: bool,
    /// `exclude_patterns`: typedefs, tags and functions whose name matches
    /// are left out, with everything that needs them.
    exclude: Vec<Regex>,
    /// The typedef that names each anonymous struct/union/enum
    /// (`typedef struct { ... } T, *P;`: `P` is spelled `T *`).
    anon_records: HashMap<usize, String>,
    anon_enums: HashMap<usize, String>,
    /// Over-aligned typedefs, left out: their uses are spelled with the type
    /// they name.
    over_aligned: HashMap<String, CType>,
    /// How many record definitions are being written (nested through their
    /// fields' needs).
    depth: usize,
    /// Structs behind pointers in the fields of the record being written:
    /// defined after it, so that a struct needed by value is never written
    /// after one that embeds it.
    deferred: Vec<usize>,
    /// Records whose definition is being written.
    writing_records: HashSet<usize>,
    /// Structs wanted behind pointers whose definition needs a declaration
    /// still being written (a cycle: `typedef void (*cb)(h_t *);` with
    /// `struct h { cb close; }`): written once nothing is in progress.
    pending: Vec<usize>,
}

/// Writes the cdef of `model`.
pub fn write(model: &HeaderModel, opts: &WriterOptions) -> Written {
    let mut w = W::new(model, opts.only.is_some());
    w.exclude = opts.exclude.clone();
    let excluded = |n: &str| opts.exclude.iter().any(|r| r.is_match(n));
    let checker = W {
        exclude: opts.exclude.clone(),
        ..W::new(model, opts.only.is_some())
    };
    let excluded_need = |ty: &CType| checker.needs_excluded(ty);
    // Anonymous enums/records named by a typedef are written with it.
    let mut via_typedef: HashSet<Item> = HashSet::new();
    for t in &model.typedefs {
        match t.ty.unqualified() {
            CType::Enum(e) if model.enums[*e].tag.is_none() => {
                via_typedef.insert(Item::Enum(*e));
            }
            CType::Record(r) if model.records[*r].tag.is_none() => {
                via_typedef.insert(Item::Record(*r));
            }
            _ => {}
        }
    }
    // Whether a function or variable is written: selected (the project's,
    // or named in `only`), not excluded, expressible, and exported by the
    // libraries unless it is compiled into the module (`local`).
    let keep = |warnings: &mut Vec<String>,
                what: &str,
                name: &str,
                ty: &CType,
                loc: &crate::headers::decls::Loc,
                local: bool| {
        let selected = match &opts.only {
            Some(only) => only.contains(name),
            None => loc.project,
        };
        if !selected || excluded(name) {
            return false;
        }
        if let Some(reason) = unsupported(ty, model).or_else(|| excluded_need(ty)) {
            warnings.push(format!("{}: {what} {name} left out: {reason}", where_(loc)));
            return false;
        }
        if let Some(exp) = opts.exported.as_ref().filter(|_| !local)
            && !exp.contains(name)
        {
            warnings.push(format!(
                "{}: {what} {name} left out: the library does not export it",
                where_(loc)
            ));
            return false;
        }
        true
    };
    // Functions written, by name (alias macros name them).
    let mut written_functions: HashMap<&str, usize> = HashMap::new();
    let mut written_variables: HashSet<&str> = HashSet::new();
    for item in &model.items {
        w.write_pending();
        match *item {
            Item::Function(i) => {
                let f = &model.functions[i];
                if !keep(
                    &mut w.warnings,
                    "function",
                    &f.name,
                    &f.ty,
                    &f.loc,
                    f.inline,
                ) {
                    continue;
                }
                w.need(&f.ty);
                if let Some(line) = w.function_line(f, &f.name) {
                    let _ = writeln!(w.out, "{line};");
                    written_functions.insert(f.name.as_str(), i);
                }
            }
            Item::Variable(i) => {
                let v = &model.variables[i];
                if !keep(
                    &mut w.warnings,
                    "variable",
                    &v.name,
                    &v.ty,
                    &v.loc,
                    v.is_static,
                ) {
                    continue;
                }
                w.need(&v.ty);
                let line = w.decl(&v.ty, &v.name);
                let storage = if v.is_static { "static" } else { "extern" };
                let _ = writeln!(w.out, "{storage} {line};");
                written_variables.insert(v.name.as_str());
            }
            Item::Typedef(i) => {
                let t = &model.typedefs[i];
                if opts.only.is_none() && t.loc.project && !excluded(&t.name) {
                    w.typedef(&t.name);
                }
            }
            Item::Record(i) => {
                let r = &model.records[i];
                if opts.only.is_none()
                    && r.loc.project
                    && r.tag.is_some()
                    && !via_typedef.contains(item)
                {
                    w.record(i);
                }
            }
            Item::Enum(i) => {
                let e = &model.enums[i];
                if opts.only.is_none() && e.loc.project && !via_typedef.contains(item) {
                    w.enum_(i);
                }
            }
        }
    }
    w.write_pending();
    // Macros. A name the cdef declares already (`enum { A }; #define A A`)
    // is not declared twice: CFFI refuses a duplicate constant.
    let mut seen: HashSet<String> = w
        .done_enums
        .iter()
        .flat_map(|&e| model.enums[e].values.iter().map(|(n, _)| n.clone()))
        .chain(written_variables.iter().map(|n| n.to_string()))
        .chain(written_functions.keys().map(|n| n.to_string()))
        .collect();
    for mac in &model.macros {
        let named = opts.define_patterns.iter().any(|r| r.is_match(&mac.name));
        let selected = match opts.macros {
            // The library's own (unless the bindings are a selection of
            // functions, `only`), and any header's the patterns name.
            MacroSelection::AllLibrary => mac.loc.project && opts.only.is_none() || named,
            // System headers' macros only when the bindings are of system
            // functions (`only`); the project's always.
            MacroSelection::Patterns => named && (mac.loc.project || opts.only.is_some()),
        };
        if !selected || excluded(&mac.name) || !seen.insert(mac.name.clone()) {
            continue;
        }
        if let Some(v) = mac.value {
            if opts.macro_values {
                let _ = writeln!(w.out, "#define {} {v}", mac.name);
            } else {
                let _ = writeln!(w.out, "#define {} ...", mac.name);
            }
        } else if let Some(text) = &mac.string {
            // What ABI mode cannot declare is said only of the macros the
            // patterns name.
            if !opts.macro_values {
                let _ = writeln!(w.out, "static const char *const {};", mac.name);
            } else if named {
                w.warnings.push(format!(
                    "{}: macro {} is a string ({:?}), which an ABI-mode cdef cannot declare, left out",
                    where_(&mac.loc),
                    mac.name,
                    text
                ));
            }
        } else if let Some(target) = &mac.alias {
            let declared = model.functions.iter().any(|f| f.name == mac.name);
            match written_functions.get(target.as_str()) {
                Some(_) if declared || opts.macro_values && !named => {}
                Some(_) if opts.macro_values => w.warnings.push(format!(
                    "{}: macro {} names the function {target}, which ABI mode loads by its own name, left out",
                    where_(&mac.loc),
                    mac.name
                )),
                Some(&i) => {
                    if let Some(line) = w.function_line(&model.functions[i], &mac.name) {
                        let _ = writeln!(w.out, "{line};");
                    }
                }
                None if named => w.warnings.push(format!(
                    "{}: macro {} names the function {target}, which is not in the bindings, left out",
                    where_(&mac.loc),
                    mac.name
                )),
                None => {}
            }
        } else if named && !mac.tokens.is_empty() {
            w.warnings.push(format!(
                "{}: macro {} matches define_patterns but is not an integer constant, a string or a function where the header ends ({}), left out",
                where_(&mac.loc),
                mac.name,
                mac.tokens.join(" ")
            ));
        }
    }
    for line in &opts.extra_cdef {
        w.out.push_str(line);
        if !line.ends_with('\n') {
            w.out.push('\n');
        }
    }
    if let Some(only) = &opts.only {
        let mut missing: Vec<&String> = only
            .iter()
            .filter(|n| {
                !model.functions.iter().any(|f| &f.name == *n)
                    && !model.variables.iter().any(|v| &v.name == *n)
            })
            .collect();
        missing.sort();
        for n in missing {
            w.warnings
                .push(format!("'{n}' is declared by none of the headers"));
        }
    }
    Written {
        cdef: w.out,
        warnings: w.warnings,
    }
}

fn where_(loc: &crate::headers::decls::Loc) -> String {
    format!("{}:{}", loc.file, loc.line)
}

/// Why `t` cannot be written, if it cannot.
fn unsupported(t: &CType, m: &HeaderModel) -> Option<String> {
    let mut seen = HashSet::new();
    unsupported_in(t, m, &mut seen)
}

fn unsupported_in(t: &CType, m: &HeaderModel, seen: &mut HashSet<String>) -> Option<String> {
    match t {
        CType::Unsupported(s) => Some(format!("CFFI cannot express the type '{s}'")),
        CType::Pointer(x) | CType::Array(x, _) => unsupported_in(x, m, seen),
        CType::Qual { ty, .. } => unsupported_in(ty, m, seen),
        CType::Function { ret, params, .. } => unsupported_in(ret, m, seen)
            .or_else(|| params.iter().find_map(|p| unsupported_in(p, m, seen))),
        CType::Typedef(n) => {
            if cffi_common(n) || !seen.insert(n.clone()) {
                return None;
            }
            let td = m.typedefs.iter().find(|t| &t.name == n)?;
            if !td.loc.project && (td.integer || td.floating) {
                return None;
            }
            unsupported_in(&td.ty, m, seen).map(|r| format!("{r} (through typedef {n})"))
        }
        _ => None,
    }
}

impl<'m> W<'m> {
    fn new(m: &'m HeaderModel, system_full: bool) -> Self {
        let mut anon_records = HashMap::new();
        let mut anon_enums = HashMap::new();
        let mut over_aligned = HashMap::new();
        for t in &m.typedefs {
            match &t.ty {
                CType::Record(r) if m.records[*r].tag.is_none() => {
                    anon_records.entry(*r).or_insert_with(|| t.name.clone());
                }
                CType::Enum(e) if m.enums[*e].tag.is_none() => {
                    anon_enums.entry(*e).or_insert_with(|| t.name.clone());
                }
                _ => {}
            }
            if t.over_aligned.is_some() {
                over_aligned.insert(t.name.clone(), t.ty.clone());
            }
        }
        W {
            anon_records,
            anon_enums,
            over_aligned,
            depth: 0,
            deferred: Vec::new(),
            writing_records: HashSet::new(),
            pending: Vec::new(),
            m,
            out: String::new(),
            warnings: Vec::new(),
            done_typedefs: HashSet::new(),
            done_records: HashSet::new(),
            done_enums: HashSet::new(),
            in_progress: HashSet::new(),
            system_full,
            exclude: Vec::new(),
        }
    }

    fn need(&mut self, t: &CType) {
        match t {
            CType::Typedef(n) => self.typedef(n),
            CType::Pointer(x) => {
                // A pointer to a named struct needs no declaration of it.
                match x.unqualified() {
                    CType::Record(r) if self.m.records[*r].tag.is_some() => {
                        // Defined structs behind pointers are declared so
                        // they can be allocated (system ones partially).
                        if self.m.records[*r].loc.project || self.m.records[*r].fields.is_some() {
                            if self.depth > 0 {
                                self.deferred.push(*r);
                            } else {
                                self.record_soon(*r);
                            }
                        }
                    }
                    other => self.need(other),
                }
            }
            CType::Array(x, _) => self.need(x),
            CType::Qual { ty, .. } => self.need(ty),
            CType::Function { ret, params, .. } => {
                self.need(ret);
                for p in params {
                    self.need(p);
                }
            }
            CType::Record(r) => {
                if self.m.records[*r].tag.is_some() {
                    self.record(*r);
                } else if let Some(name) = self.anon_records.get(r).cloned() {
                    self.typedef(&name);
                } else if let Some(fields) = &self.m.records[*r].fields {
                    for f in fields {
                        self.need_field(&f.ty);
                    }
                }
            }
            CType::Enum(e) => {
                if self.m.enums[*e].tag.is_some() {
                    self.enum_(*e);
                } else if let Some(name) = self.anon_enums.get(e).cloned() {
                    self.typedef(&name);
                }
            }
            _ => {}
        }
    }

    fn typedef(&mut self, name: &str) {
        if cffi_common(name) || self.done_typedefs.contains(name) || self.in_progress.contains(name)
        {
            return;
        }
        let Some(td) = self.m.typedefs.iter().find(|t| t.name == name) else {
            return;
        };
        let td = td.clone();
        if self.is_excluded(name) {
            self.done_typedefs.insert(name.to_string());
            return;
        }
        if let Some(reason) = self.needs_excluded(&td.ty) {
            self.done_typedefs.insert(name.to_string());
            self.warnings.push(format!(
                "{}: typedef {name} left out: {reason}",
                where_(&td.loc)
            ));
            return;
        }
        if let Some(align) = td.over_aligned {
            self.done_typedefs.insert(name.to_string());
            if td.loc.project {
                self.warnings.push(format!(
                    "{}: typedef {name} left out: CFFI cannot express its alignment ({align}, set by an attribute); its uses are written as '{}'",
                    where_(&td.loc),
                    self.decl(&td.ty, "")
                ));
            }
            self.need(&td.ty);
            return;
        }
        if let Some(reason) = unsupported(&td.ty, self.m)
            && (!td.integer || td.loc.project)
        {
            self.warnings.push(format!(
                "{}: typedef {name} left out: {reason}",
                where_(&td.loc)
            ));
            self.done_typedefs.insert(name.to_string());
            return;
        }
        self.in_progress.insert(name.to_string());
        let line = if !td.loc.project && td.integer {
            format!("typedef int... {name};")
        } else if !td.loc.project && td.floating {
            format!("typedef float... {name};")
        } else {
            match td.ty.unqualified() {
                CType::Record(r)
                    if self.m.records[*r].tag.is_none()
                        && self.anon_records.get(r).is_none_or(|n| n == name) =>
                {
                    let rec = self.m.records[*r].clone();
                    if let Some(fields) = &rec.fields {
                        for f in fields {
                            self.need_field(&f.ty);
                        }
                    }
                    self.warn_left_out(&rec, name);
                    let body = self.record_body(&rec, 0);
                    let kw = if rec.is_union { "union" } else { "struct" };
                    format!("typedef {kw} {body} {name};")
                }
                CType::Enum(e)
                    if self.m.enums[*e].tag.is_none()
                        && self.anon_enums.get(e).is_none_or(|n| n == name) =>
                {
                    let body = self.enum_body(*e, 0);
                    format!("typedef enum {body} {name};")
                }
                CType::Record(r) => {
                    // `typedef struct X X;` first (the struct may refer to the
                    // typedef), then the struct's definition.
                    let line = self.decl_line(&td.ty, name);
                    self.in_progress.remove(name);
                    self.done_typedefs.insert(name.to_string());
                    let _ = writeln!(self.out, "{line}");
                    if self.m.records[*r].loc.project || td.loc.project {
                        self.record_soon(*r);
                    }
                    return;
                }
                _ => {
                    self.need(&td.ty);
                    self.decl_line(&td.ty, name)
                }
            }
        };
        self.in_progress.remove(name);
        if self.done_typedefs.insert(name.to_string()) {
            let _ = writeln!(self.out, "{line}");
        }
    }

    fn decl_line(&self, t: &CType, name: &str) -> String {
        format!("typedef {};", self.decl(t, name))
    }

    fn record(&mut self, id: usize) {
        if self.done_records.contains(&id) {
            return;
        }
        self.done_records.insert(id);
        let rec = self.m.records[id].clone();
        let Some(tag) = &rec.tag else { return };
        if self.is_excluded(tag) {
            return;
        }
        let kw = if rec.is_union { "union" } else { "struct" };
        match &rec.fields {
            None => {
                let _ = writeln!(self.out, "{kw} {tag};");
            }
            Some(fields) if !rec.loc.project && !self.system_full => {
                let _ = fields;
                let _ = writeln!(self.out, "{kw} {tag} {{ ...; }};");
            }
            Some(fields) => {
                self.depth += 1;
                self.writing_records.insert(id);
                for f in fields {
                    self.need_field(&f.ty);
                }
                self.writing_records.remove(&id);
                self.depth -= 1;
                self.warn_left_out(&rec, &format!("{kw} {tag}"));
                let body = self.record_body(&rec, 0);
                let _ = writeln!(self.out, "{kw} {tag} {body};");
                if self.depth == 0 {
                    while !self.deferred.is_empty() {
                        for r in std::mem::take(&mut self.deferred) {
                            self.record_soon(r);
                        }
                    }
                }
            }
        }
    }

    /// Writes the struct `id`, wanted behind a pointer, now if it can be:
    /// unless its definition needs a declaration still being written (then
    /// the pointer needs no more than the tag, and the definition waits
    /// until nothing is in progress, see [`Self::write_pending`]).
    fn record_soon(&mut self, id: usize) {
        if self.done_records.contains(&id) {
            return;
        }
        let mut seen = (HashSet::new(), HashSet::new());
        if self.blocked(&CType::Record(id), &mut seen, true) {
            if !self.pending.contains(&id) {
                self.pending.push(id);
            }
        } else {
            self.record(id);
        }
    }

    /// The structs [`Self::record_soon`] put off, in the order they were wanted.
    fn write_pending(&mut self) {
        while !self.pending.is_empty() {
            for r in std::mem::take(&mut self.pending) {
                self.record_soon(r);
            }
        }
    }

    /// Whether declaring something that needs `t` (by value; a pointer to a
    /// tagged struct needs nothing) would need a typedef or record whose
    /// declaration is in progress.
    fn blocked(
        &self,
        t: &CType,
        seen: &mut (HashSet<usize>, HashSet<String>),
        by_value: bool,
    ) -> bool {
        match t {
            CType::Typedef(n) => {
                if self.in_progress.contains(n) {
                    return true;
                }
                // `X` by value needs the definition of the struct it names,
                // even when the typedef itself is written.
                if let Some(r) = self.tagged_record_of(n).filter(|_| by_value)
                    && self.blocked(&CType::Record(r), seen, true)
                {
                    return true;
                }
                if cffi_common(n) || self.done_typedefs.contains(n) || !seen.1.insert(n.clone()) {
                    return false;
                }
                let Some(td) = self.m.typedefs.iter().find(|t| &t.name == n) else {
                    return false;
                };
                if !td.loc.project && (td.integer || td.floating) {
                    return false;
                }
                match td.ty.unqualified() {
                    // `typedef struct X X;` needs no definition.
                    CType::Record(r) if self.m.records[*r].tag.is_some() => false,
                    other => self.blocked(other, seen, by_value),
                }
            }
            CType::Pointer(x) => match x.unqualified() {
                CType::Record(r) if self.m.records[*r].tag.is_some() => false,
                other => self.blocked(other, seen, false),
            },
            CType::Array(x, _) => self.blocked(x, seen, by_value),
            CType::Qual { ty, .. } => self.blocked(ty, seen, by_value),
            CType::Function { ret, params, .. } => {
                self.blocked(ret, seen, false)
                    || params.iter().any(|p| self.blocked(p, seen, false))
            }
            CType::Record(r) => {
                if self.writing_records.contains(r) {
                    return true;
                }
                if self.done_records.contains(r) || !seen.0.insert(*r) {
                    return false;
                }
                self.m.records[*r]
                    .fields
                    .iter()
                    .flatten()
                    .any(|f| self.blocked(&f.ty, seen, true))
            }
            _ => false,
        }
    }

    fn need_field(&mut self, t: &CType) {
        // A field of struct type by value needs the struct complete before,
        // through typedef names too (`handle_t first;`).
        match t.unqualified() {
            CType::Record(r) if self.m.records[*r].tag.is_some() => self.record(*r),
            CType::Array(x, _) => self.need_field(x),
            CType::Typedef(n) => {
                self.typedef(n);
                if let Some(r) = self.tagged_record_of(n) {
                    self.record(r);
                }
            }
            other => self.need(other),
        }
    }

    /// The tagged struct or union the typedef `name` names by value, through
    /// typedef chains, qualifiers and arrays.
    fn tagged_record_of(&self, name: &str) -> Option<usize> {
        let mut seen = HashSet::new();
        let mut t = &self.m.typedefs.iter().find(|t| t.name == name)?.ty;
        loop {
            match t.unqualified() {
                CType::Record(r) if self.m.records[*r].tag.is_some() => return Some(*r),
                CType::Array(x, _) => t = x,
                CType::Typedef(n) if seen.insert(n.clone()) => {
                    t = &self.m.typedefs.iter().find(|t| &t.name == n)?.ty;
                }
                _ => return None,
            }
        }
    }

    fn record_body(&self, rec: &Record, depth: usize) -> String {
        let Some(fields) = &rec.fields else {
            return "{ ...; }".to_string();
        };
        let indent = "    ".repeat(depth + 1);
        let partial = self.partial(rec);
        let mut s = String::from("{\n");
        for f in fields {
            if partial && self.left_out(f).is_some() {
                continue;
            }
            match (&f.name, f.ty.unqualified()) {
                (None, CType::Record(r)) if f.bits.is_none() => {
                    let inner = &self.m.records[*r];
                    let kw = if inner.is_union { "union" } else { "struct" };
                    let _ = writeln!(s, "{indent}{kw} {};", self.record_body(inner, depth + 1));
                }
                (name, _) => {
                    let n = name.clone().unwrap_or_default();
                    let d = self.decl_in(&f.ty, &n, depth + 1);
                    match f.bits {
                        Some(b) => {
                            let _ = writeln!(s, "{indent}{d} : {b};");
                        }
                        None => {
                            let _ = writeln!(s, "{indent}{d};");
                        }
                    }
                }
            }
        }
        if partial {
            let _ = writeln!(s, "{indent}...;");
        }
        s.push_str(&"    ".repeat(depth));
        s.push('}');
        s
    }

    /// Whether `rec` is written partial (`...;`), the compiler supplying its
    /// layout.
    fn partial(&self, rec: &Record) -> bool {
        rec.packed
            || rec
                .fields
                .iter()
                .flatten()
                .any(|f| f.bits.is_none() && self.left_out(f).is_some())
    }

    /// Why the field `f` is left out of a partial record, if it is.
    fn left_out(&self, f: &crate::headers::decls::Field) -> Option<String> {
        if let Some(reason) = unsupported(&f.ty, self.m) {
            return Some(reason);
        }
        if let Some(reason) = self.needs_excluded(&f.ty) {
            return Some(format!("{reason} (the struct is partial)"));
        }
        if f.bits.is_some() {
            return Some("CFFI cannot take the layout of bitfields from the compiler (the struct is partial)".into());
        }
        let mut t = f.ty.unqualified();
        while let CType::Array(x, _) | CType::Pointer(x) = t {
            t = x.unqualified();
        }
        match t {
            // A partial anonymous type must be an anonymous member (CFFI
            // takes its fields as the outer record's): a named field's type
            // needs a C name. CFFI makes a record partial when it holds a
            // partial one by value, too.
            CType::Record(r)
                if f.name.is_some()
                    && self.m.records[*r].tag.is_none()
                    && !self.anon_records.contains_key(r)
                    && self.cffi_partial(*r) =>
            {
                let rec = &self.m.records[*r];
                let kw = if rec.is_union { "union" } else { "struct" };
                Some(format!(
                    "CFFI cannot take the layout of its anonymous {kw} type from the compiler (a tag would give it one)"
                ))
            }
            _ => None,
        }
    }

    /// Whether `exclude_patterns` leaves out the typedef, tag or function `name`.
    fn is_excluded(&self, name: &str) -> bool {
        self.exclude.iter().any(|r| r.is_match(name))
    }

    /// Why a declaration of type `t` cannot be written once `exclude_patterns`
    /// has left declarations out: it names an excluded typedef (anywhere) or
    /// holds an excluded struct, union or enum by value (a pointer to a
    /// struct needs no declaration of it).
    fn needs_excluded(&self, t: &CType) -> Option<String> {
        if self.exclude.is_empty() {
            return None;
        }
        self.needs_excluded_in(t, true, &mut HashSet::new())
    }

    fn needs_excluded_in(
        &self,
        t: &CType,
        by_value: bool,
        seen: &mut HashSet<String>,
    ) -> Option<String> {
        let reason =
            |what: String| Some(format!("it needs '{what}', left out by exclude_patterns"));
        match t {
            CType::Typedef(n) => {
                if cffi_common(n) || !seen.insert(n.clone()) {
                    return None;
                }
                if self.is_excluded(n) {
                    return reason(n.clone());
                }
                let td = self.m.typedefs.iter().find(|t| &t.name == n)?;
                self.needs_excluded_in(&td.ty, by_value, seen)
            }
            CType::Record(r) => {
                let rec = &self.m.records[*r];
                match &rec.tag {
                    Some(tag) if by_value && self.is_excluded(tag) => {
                        let kw = if rec.is_union { "union" } else { "struct" };
                        reason(format!("{kw} {tag}"))
                    }
                    // A named record that needs something excluded is
                    // written partial instead, and stays usable.
                    Some(_) => None,
                    None if self.anon_records.contains_key(r) => None,
                    None => rec
                        .fields
                        .iter()
                        .flatten()
                        .find_map(|f| self.needs_excluded_in(&f.ty, true, seen)),
                }
            }
            CType::Enum(e) => match &self.m.enums[*e].tag {
                Some(tag) if self.is_excluded(tag) => reason(format!("enum {tag}")),
                _ => None,
            },
            CType::Pointer(x) => self.needs_excluded_in(x, false, seen),
            CType::Array(x, _) => self.needs_excluded_in(x, by_value, seen),
            CType::Qual { ty, .. } => self.needs_excluded_in(ty, by_value, seen),
            CType::Function { ret, params, .. } => {
                self.needs_excluded_in(ret, true, seen).or_else(|| {
                    params
                        .iter()
                        .find_map(|p| self.needs_excluded_in(p, true, seen))
                })
            }
            _ => None,
        }
    }

    /// Whether CFFI takes the record `r` as partial: written with `...;`,
    /// or holding such a record by value (through arrays and typedefs).
    fn cffi_partial(&self, r: usize) -> bool {
        let rec = &self.m.records[r];
        if rec.tag.is_some() && !rec.loc.project && !self.system_full && rec.fields.is_some() {
            return true; // a system struct, written `{ ...; }`
        }
        self.partial(rec)
            || rec.fields.iter().flatten().any(|f| {
                self.by_value_record(&f.ty)
                    .is_some_and(|x| self.cffi_partial(x))
            })
    }

    /// The record a field of type `t` holds by value, through qualifiers,
    /// arrays and typedefs.
    fn by_value_record(&self, t: &CType) -> Option<usize> {
        match t.unqualified() {
            CType::Record(r) => Some(*r),
            CType::Array(x, _) => self.by_value_record(x),
            CType::Typedef(n) if !self.over_aligned.contains_key(n) => {
                let td = self.m.typedefs.iter().find(|t| &t.name == n)?;
                if !td.loc.project && (td.integer || td.floating) {
                    return None;
                }
                self.by_value_record(&td.ty)
            }
            _ => None,
        }
    }

    /// One warning per field left out of `rec` (named `what`), anonymous
    /// members' fields included.
    fn warn_left_out(&mut self, rec: &Record, what: &str) {
        let mut found = Vec::new();
        self.collect_left_out(rec, &mut found);
        for (name, reason) in found {
            self.warnings.push(format!(
                "{}: field {name} of {what} left out: {reason}",
                where_(&rec.loc)
            ));
        }
    }

    fn collect_left_out(&self, rec: &Record, found: &mut Vec<(String, String)>) {
        let partial = self.partial(rec);
        for f in rec.fields.iter().flatten() {
            if let Some(reason) = self.left_out(f).filter(|_| partial) {
                // Unnamed bitfields are padding: the compiler's layout has it.
                if let Some(name) = &f.name {
                    found.push((name.clone(), reason));
                }
            } else if let CType::Record(r) = f.ty.unqualified()
                && self.m.records[*r].tag.is_none()
                && !self.anon_records.contains_key(r)
            {
                self.collect_left_out(&self.m.records[*r], found);
            }
        }
    }

    fn enum_(&mut self, id: usize) {
        if !self.done_enums.insert(id) {
            return;
        }
        let e = &self.m.enums[id];
        if e.tag.as_deref().is_some_and(|t| self.is_excluded(t)) {
            return;
        }
        let body = self.enum_body(id, 0);
        match &e.tag {
            Some(t) => {
                let _ = writeln!(self.out, "enum {t} {body};");
            }
            None => {
                let _ = writeln!(self.out, "enum {body};");
            }
        }
    }

    fn enum_body(&self, id: usize, depth: usize) -> String {
        let e = &self.m.enums[id];
        let indent = "    ".repeat(depth + 1);
        let mut s = String::from("{\n");
        let n = e.values.len();
        for (i, (name, v)) in e.values.iter().enumerate() {
            let comma = if i + 1 < n { "," } else { "" };
            let _ = writeln!(s, "{indent}{name} = {v}{comma}");
        }
        s.push_str(&"    ".repeat(depth));
        s.push('}');
        s
    }

    /// The C declaration of `name` with type `t`.
    /// `ret name(params)` of the function `f`, written as `name`; `None`
    /// when its type is no function type.
    fn function_line(&self, f: &crate::headers::decls::Function, name: &str) -> Option<String> {
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

    fn decl(&self, t: &CType, name: &str) -> String {
        self.decl_in(t, name, 0)
    }

    fn decl_in(&self, t: &CType, inner: &str, depth: usize) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::{self, ParseRequest};

    /// The cdef and warnings of `header` (a project header), through libclang.
    fn cdef_of(header: &str) -> (String, Vec<String>) {
        cdef_with(header, &WriterOptions::default())
    }

    /// [`cdef_of`] under `opts`.
    fn cdef_with(header: &str, opts: &WriterOptions) -> (String, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.h");
        std::fs::write(&path, header).unwrap();
        let model = headers::parse(&ParseRequest {
            header: path,
            ..ParseRequest::default()
        })
        .unwrap();
        let w = write(&model, opts);
        (w.cdef, w.warnings)
    }

    const MACROS: &str = "#include <stdint.h>\n#define T_A UINT32_C(1) << 3\n#define T_S \"s\"\n\
         #define T_GONE 1\n#define T_F 1.5\nint t_f_8(int);\n#define t_f t_f_8\n#undef T_GONE\n";

    #[test]
    fn all_library_macros_as_the_compiler_sees_them_where_the_header_ends() {
        let opts = WriterOptions {
            macros: MacroSelection::AllLibrary,
            ..WriterOptions::default()
        };
        let (cdef, warnings) = cdef_with(MACROS, &opts);
        assert_eq!(
            cdef,
            "int t_f_8(int);\n#define T_A ...\nstatic const char *const T_S;\nint t_f(int);\n"
        );
        assert_eq!(warnings, Vec::<String>::new());
        // ABI mode: values; a string or an alias cannot be declared (said
        // of those the patterns name).
        let abi = WriterOptions {
            macro_values: true,
            ..opts.clone()
        };
        let (cdef, warnings) = cdef_with(MACROS, &abi);
        assert_eq!(cdef, "int t_f_8(int);\n#define T_A 8\n");
        assert_eq!(warnings, Vec::<String>::new());
        let abi = WriterOptions {
            macro_values: true,
            define_patterns: vec![Regex::new("^(T_S|t_f)$").unwrap()],
            ..opts
        };
        let (cdef, warnings) = cdef_with(MACROS, &abi);
        assert_eq!(cdef, "int t_f_8(int);\n#define T_A 8\n");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].ends_with(
            ": macro T_S is a string (\"s\"), which an ABI-mode cdef cannot declare, left out"
        ));
        assert!(warnings[1].ends_with(
            ": macro t_f names the function t_f_8, which ABI mode loads by its own name, left out"
        ));
    }

    #[test]
    fn a_macro_naming_what_the_cdef_declares_is_not_declared_twice() {
        let opts = WriterOptions {
            macros: MacroSelection::AllLibrary,
            ..WriterOptions::default()
        };
        let (cdef, warnings) = cdef_with(
            "enum e { E_A = 1 };\n#define E_A E_A\nint v;\n#define v v\nint f(int);\n#define f f\n",
            &opts,
        );
        assert_eq!(
            cdef,
            "enum e {\n    E_A = 1\n};\nextern int v;\nint f(int);\n"
        );
        assert_eq!(warnings, Vec::<String>::new());
    }

    #[test]
    fn patterns_narrow_the_macros_and_name_what_they_cannot_write() {
        let opts = WriterOptions {
            macros: MacroSelection::Patterns,
            define_patterns: vec![Regex::new("^T_(A|GONE|F)$").unwrap()],
            ..WriterOptions::default()
        };
        let (cdef, warnings) = cdef_with(MACROS, &opts);
        assert_eq!(cdef, "int t_f_8(int);\n#define T_A ...\n");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].ends_with(": macro T_GONE matches define_patterns but is not an integer constant, a string or a function where the header ends (1), left out"), "{warnings:?}");
        assert!(warnings[1].ends_with(": macro T_F matches define_patterns but is not an integer constant, a string or a function where the header ends (1.5), left out"), "{warnings:?}");
        // All-library plus a pattern: a system header's macro too.
        let opts = WriterOptions {
            macros: MacroSelection::AllLibrary,
            define_patterns: vec![Regex::new("^UINT8_MAX$").unwrap()],
            ..WriterOptions::default()
        };
        let (cdef, _) = cdef_with(MACROS, &opts);
        assert_eq!(
            cdef,
            "int t_f_8(int);\n#define UINT8_MAX ...\n#define T_A ...\nstatic const char *const T_S;\nint t_f(int);\n"
        );
    }

    #[test]
    fn anonymous_struct_with_two_typedef_names_is_one_type() {
        let (cdef, _) = cdef_of(
            "typedef struct { short w, h; } size2, *size2_ptr, size2_copy;\nint area(size2_ptr s);\n",
        );
        assert_eq!(
            cdef,
            "typedef struct {\n    short w;\n    short h;\n} size2;\ntypedef size2 *size2_ptr;\ntypedef size2 size2_copy;\nint area(size2_ptr s);\n"
        );
        let (cdef, _) = cdef_of("typedef enum { A = 1 } e_t, *e_ptr;\n");
        assert_eq!(
            cdef,
            "typedef enum {\n    A = 1\n} e_t;\ntypedef e_t *e_ptr;\n"
        );
    }

    #[test]
    fn records_the_cdef_cannot_lay_out_are_partial() {
        let (cdef, _) = cdef_of(
            "#pragma pack(push, 1)\nstruct p1 { char c; double d; };\n#pragma pack(pop)\n\
             struct member { char c; int x __attribute__((aligned(16))); };\n\
             struct anon_member { char c; union { char a; int b __attribute__((aligned(8))); }; };\n\
             struct natural { char c; double d; union { char a; int b; }; int tail[]; };\n",
        );
        assert_eq!(
            cdef,
            "struct p1 {\n    char c;\n    double d;\n    ...;\n};\n\
             struct member {\n    char c;\n    int x;\n    ...;\n};\n\
             struct anon_member {\n    char c;\n    union {\n        char a;\n        int b;\n        ...;\n    };\n};\n\
             struct natural {\n    char c;\n    double d;\n    union {\n        char a;\n        int b;\n    };\n    int tail[];\n};\n"
        );
    }

    #[test]
    fn a_named_field_of_a_partial_anonymous_type_is_left_out_with_a_warning() {
        let (cdef, warnings) = cdef_of(
            "#pragma pack(push, 1)\nstruct o { char c; struct { char a; int b; } inner; union { char x; int y; }; };\n#pragma pack(pop)\n",
        );
        // The anonymous member stays, partial too (CFFI takes its fields as the outer's).
        assert_eq!(
            cdef,
            "struct o {\n    char c;\n    union {\n        char x;\n        int y;\n        ...;\n    };\n    ...;\n};\n"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("field inner of struct o left out: CFFI cannot take the layout of its anonymous struct type"), "{warnings:?}");
    }

    #[test]
    fn over_aligned_typedef_is_left_out_and_its_uses_spelled_through() {
        let (cdef, warnings) = cdef_of(
            "typedef int aint __attribute__((aligned(8)));\nstruct s { char c; aint x; };\naint get(aint *p);\n",
        );
        assert_eq!(
            cdef,
            "struct s {\n    char c;\n    int x;\n    ...;\n};\nint get(int *p);\n"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].ends_with("typedef aint left out: CFFI cannot express its alignment (8, set by an attribute); its uses are written as 'int'"),
            "{warnings:?}"
        );
    }

    #[test]
    fn functions_without_a_prototype_take_void() {
        // Not `(...)`: CFFI rejects "a function with only '(...)' as argument".
        let (cdef, _) =
            cdef_of("struct s { int (*np)(); };\nint old();\nint fmt(const char *f, ...);\n");
        assert_eq!(
            cdef,
            "struct s {\n    int (*np)(void);\n};\nint old(void);\nint fmt(const char *f, ...);\n"
        );
    }

    #[test]
    fn a_struct_embedded_by_value_is_written_before_its_user() {
        let (cdef, _) = cdef_of(
            "struct a;\nstruct b;\nstruct a { int x; struct b *peer; };\nstruct b { struct a inline_a; };\n",
        );
        assert_eq!(
            cdef,
            "struct a {\n    int x;\n    struct b *peer;\n};\nstruct b {\n    struct a inline_a;\n};\n"
        );
    }
}
