//! Dependency order: each declaration written after what it needs
//! (typedefs, records by value, enums), cycles broken by a forward
//! declaration, and what is blocked reported.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::records::{unsupported, where_};
use super::{W, cffi_common};
use crate::headers::decls::CType;

impl W<'_> {
    pub(super) fn need(&mut self, t: &CType) {
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

    pub(super) fn typedef(&mut self, name: &str) {
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

    pub(super) fn record(&mut self, id: usize) {
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
    pub(super) fn write_pending(&mut self) {
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

    pub(super) fn enum_(&mut self, id: usize) {
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
}
