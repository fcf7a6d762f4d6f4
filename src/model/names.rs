//! C names: the spelling "with marker" every type carries, qualifiers
//! inserted where CFFI puts them, renaming (`force_the_name`, respelled
//! identifiers) and `get_c_name`.

use super::{ModelError, Q_CONST, Q_RESTRICT, Q_VOLATILE, Quals, TypeId, TypeKind, Types};

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
    fn marker(&self, id: TypeId) -> &str {
        &self.data[id.index()].c_name_with_marker
    }

    /// The marker's text before and after its '&'.
    pub(super) fn marker_split(&self, id: TypeId) -> (&str, &str) {
        let d = &self.data[id.index()];
        let amp = d.amp as usize;
        (
            &d.c_name_with_marker[..amp],
            &d.c_name_with_marker[amp + 1..],
        )
    }

    /// The marker with its '&' replaced by `with`.
    pub(super) fn marker_replaced(&self, id: TypeId, with: &str) -> String {
        let (a, b) = self.marker_split(id);
        let mut s = String::with_capacity(a.len() + with.len() + b.len());
        s.push_str(a);
        s.push_str(with);
        s.push_str(b);
        s
    }
}

impl Types {
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
}
