//! Record and enum bodies, and what CFFI cannot express: partial records,
//! left-out fields, excluded names and unsupported types, each reported.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::{W, cffi_common};
use crate::headers::decls::{CType, HeaderModel, Record};

pub(super) fn where_(loc: &crate::headers::decls::Loc) -> String {
    format!("{}:{}", loc.file, loc.line)
}

/// Why `t` cannot be written, if it cannot.
pub(super) fn unsupported(t: &CType, m: &HeaderModel) -> Option<String> {
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

impl W<'_> {
    pub(super) fn record_body(&self, rec: &Record, depth: usize) -> String {
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
        if let Some(tokens) = f.name.as_deref().and_then(|n| self.macro_names.get(n)) {
            return Some(format!(
                "its name is a macro of the headers (`{tokens}`), which the compiler expands in the module's C (the struct is partial)"
            ));
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
    pub(super) fn is_excluded(&self, name: &str) -> bool {
        self.exclude.iter().any(|r| r.is_match(name))
    }

    /// Why a declaration of type `t` cannot be written once `exclude_patterns`
    /// has left declarations out: it names an excluded typedef (anywhere) or
    /// holds an excluded struct, union or enum by value (a pointer to a
    /// struct needs no declaration of it).
    pub(super) fn needs_excluded(&self, t: &CType) -> Option<String> {
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
    pub(super) fn warn_left_out(&mut self, rec: &Record, what: &str) {
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

    pub(super) fn enum_body(&self, id: usize, depth: usize) -> String {
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
}
