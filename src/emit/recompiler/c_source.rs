//! The C writer of API mode: CFFI's headers spliced, the declarations'
//! code, then the type and step tables and the module's init function.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{Recompiler, Slot, Step, VERSION_EMBEDDED, err, verification};
use crate::emit::{CffiRuntime, CffiVersion, EmitError};
use crate::model::TypeId;
use rustc_hash::FxHashMap as HashMap;

impl Recompiler<'_> {
    fn print_string_literal_in_array(&mut self, s: &str) {
        self.prnt("// # NB. this is not a string because of a size limit in MSVC");
        // cffi before 2.1 declared the encoding of non-ASCII code.
        let s: Cow<str> = if self.options.cffi_version < CffiVersion::V2_1 && !s.is_ascii() {
            Cow::Owned(format!("# -*- encoding: utf8 -*-\n{s}"))
        } else {
            Cow::Borrowed(s)
        };
        for line in split_lines_keep(s.as_bytes()) {
            let comment = bytes_ascii_repr_tail(line);
            let c = format!("// {comment}");
            self.prnt(c.trim_end());
            let mut printed = String::new();
            for &b in line {
                if printed.len() >= 76 {
                    self.prnt(&printed);
                    printed.clear();
                }
                let _ = write!(printed, "{b},");
            }
            self.prnt(&printed);
        }
    }

    pub(crate) fn write_c_source(
        mut self,
        preamble: &str,
        runtime: &CffiRuntime,
    ) -> Result<String, EmitError> {
        // About a kilobyte of C per declaration: one allocation instead of a
        // dozen doublings of a multi-megabyte string.
        self.out.reserve(
            runtime.include_h.len()
                + runtime.parse_c_type_h.len()
                + preamble.len()
                + 1024 * self.sorted_decls.len(),
        );
        if self.ffi.embedding.is_some() {
            self.prnt("#define _CFFI_USE_EMBEDDING");
        }
        if self.options.no_limited_api {
            self.prnt("#define _CFFI_NO_LIMITED_API");
        }
        let include = splice(
            &runtime.include_h,
            "#include \"parse_c_type.h\"\n",
            &runtime.parse_c_type_h,
        )?;
        self.prnt(&include);
        let base_module_name = self
            .module_name
            .rsplit('.')
            .next()
            .unwrap_or(self.module_name)
            .to_string();
        if let Some(embedding) = self.ffi.embedding.clone() {
            pf!(self, "#define _CFFI_MODULE_NAME  \"{}\"", self.module_name);
            self.prnt("static const char _CFFI_PYTHON_STARTUP_CODE[] = {");
            self.print_string_literal_in_array(&embedding);
            self.prnt("0 };");
            self.prnt("#ifdef PYPY_VERSION");
            pf!(
                self,
                "# define _CFFI_PYTHON_STARTUP_FUNC  _cffi_pypyinit_{base_module_name}"
            );
            if self.options.cffi_version < CffiVersion::V2_1 {
                self.prnt("#elif PY_MAJOR_VERSION >= 3");
                pf!(
                    self,
                    "# define _CFFI_PYTHON_STARTUP_FUNC  PyInit_{base_module_name}"
                );
                self.prnt("#else");
                pf!(
                    self,
                    "# define _CFFI_PYTHON_STARTUP_FUNC  init{base_module_name}"
                );
            } else {
                self.prnt("#else");
                pf!(
                    self,
                    "# define _CFFI_PYTHON_STARTUP_FUNC  PyInit_{base_module_name}"
                );
            }
            self.prnt("#endif");
            let emb = splice(
                &runtime.embedding_h,
                "#include \"_cffi_errors.h\"\n",
                &runtime.errors_h,
            )?;
            self.prnt(&emb);
            self.needs_version(VERSION_EMBEDDED);
        }
        self.prnt("/************************************************************/");
        self.prnt("");
        self.prnt(preamble);
        self.prnt("");
        self.prnt("/************************************************************/");
        self.prnt("");
        self.prnt("static void *_cffi_types[] = {");
        let mut index2type: HashMap<usize, TypeId> = HashMap::default();
        for &t in &self.typesorder.clone() {
            let c = self.types.canonical(t);
            if let Some(Some(i)) = self.typesdict.get(&c) {
                index2type.entry(*i).or_insert(t);
            }
        }
        for i in 0..self.cffi_types.len() {
            let Slot::Op(op) = &self.cffi_types[i] else {
                return Err(err("internal error: unfilled type table slot".into()));
            };
            let _ = write!(self.out, "/* {i:2} */ {},", op.as_c_expr());
            if let Some(t) = index2type.get(&i) {
                let (a, b) = self.types.c_name_parts(*t);
                let _ = write!(self.out, " // {a}{b}");
            }
            self.out.push('\n');
        }
        if self.cffi_types.is_empty() {
            self.prnt("  0");
        }
        self.prnt("};");
        self.prnt("");
        self.generate(Step::Decl)?;
        // the tables
        let lsts = std::mem::take(&mut self.lsts);
        let nums = [
            lsts.global.len(),
            lsts.field.len(),
            lsts.struct_union.len(),
            lsts.enumx.len(),
            lsts.typename.len(),
        ];
        let names = ["global", "field", "struct_union", "enum", "typename"];
        if !lsts.global.is_empty() {
            self.prnt("static const struct _cffi_global_s _cffi_globals[] = {");
            for g in &lsts.global {
                pf!(
                    self,
                    "  {{ \"{}\", (void *){}, {}, (void *){} }},",
                    g.name,
                    g.address,
                    g.type_op.as_c_expr(),
                    g.size
                );
            }
            self.prnt("};");
            self.prnt("");
        }
        if !lsts.field.is_empty() {
            self.prnt("static const struct _cffi_field_s _cffi_fields[] = {");
            for f in &lsts.field {
                let width = f.name.chars().count() + 3;
                pf!(
                    self,
                    "  {{ \"{}\", {},\n     {:width$}{},\n     {:width$}{} }},",
                    f.name,
                    f.field_offset,
                    "",
                    f.field_size,
                    "",
                    f.field_type_op.as_c_expr()
                );
            }
            self.prnt("};");
            self.prnt("");
        }
        if !lsts.struct_union.is_empty() {
            self.prnt("static const struct _cffi_struct_union_s _cffi_struct_unions[] = {");
            for s in &lsts.struct_union {
                let mut line = format!(
                    "  {{ \"{}\", {}, {},\n    {}, {}, {}, {} ",
                    s.name,
                    s.type_index,
                    s.flags,
                    s.size,
                    s.alignment,
                    s.first_field_index,
                    s.c_fields.len()
                );
                if let Some(c) = &s.comment {
                    let _ = write!(line, "/* {c} */ ");
                }
                line.push_str("},");
                self.prnt(&line);
            }
            self.prnt("};");
            self.prnt("");
        }
        if !lsts.enumx.is_empty() {
            self.prnt("static const struct _cffi_enum_s _cffi_enums[] = {");
            for e in &lsts.enumx {
                let mut lines = vec![format!(
                    "  {{ \"{}\", {}, _cffi_prim_int({}, {}),",
                    e.name, e.type_index, e.size, e.signed
                )];
                let a = e.allenums.as_str();
                let mut pending = 0usize;
                // cffi before 2.1 wrote the list as one literal.
                while self.options.cffi_version >= CffiVersion::V2_1 && a.len() > pending + 110 {
                    let Some(j) = a[pending + 100..].find(',').map(|j| j + pending + 100) else {
                        break;
                    };
                    let j = j + 1;
                    lines.push(format!("    \"{}\"", &a[pending..j]));
                    pending = j;
                }
                lines.push(format!("    \"{}\" }},", &a[pending..]));
                self.prnt(&lines.join("\n"));
            }
            self.prnt("};");
            self.prnt("");
        }
        if !lsts.typename.is_empty() {
            self.prnt("static const struct _cffi_typename_s _cffi_typenames[] = {");
            for t in &lsts.typename {
                pf!(self, "  {{ \"{}\", {} }},", t.name, t.type_index);
            }
            self.prnt("};");
            self.prnt("");
        }
        if !self.ffi.included_ffis.is_empty() {
            self.prnt("static const char * const _cffi_includes[] = {");
            for inc in &self.ffi.included_ffis {
                if inc.module_name.is_empty() {
                    return Err(verification(
                        "ffi object includes another, but the latter has not been prepared with set_source()".into(),
                    ));
                }
                if inc.abi_mode {
                    return Err(verification(
                        "not implemented yet: ffi.include() of a Python-based ffi inside a C-based ffi".into(),
                    ));
                }
                let line = format!("  \"{}\",", inc.module_name);
                self.prnt(&line);
            }
            self.prnt("  NULL");
            self.prnt("};");
            self.prnt("");
        }
        self.prnt("static const struct _cffi_type_context_s _cffi_type_context = {");
        self.prnt("  _cffi_types,");
        for (n, name) in nums.iter().zip(names) {
            if *n > 0 {
                pf!(self, "  _cffi_{name}s,");
            } else {
                pf!(self, "  NULL,  /* no {name}s */");
            }
        }
        for (n, name) in nums.iter().zip(names) {
            if name != "field" {
                pf!(self, "  {n},  /* num_{name}s */");
            }
        }
        if !self.ffi.included_ffis.is_empty() {
            self.prnt("  _cffi_includes,");
        } else {
            self.prnt("  NULL,  /* no includes */");
        }
        pf!(self, "  {},  /* num_types */", self.cffi_types.len());
        let flags = i32::from(self.num_externpy > 0 || self.ffi.embedding.is_some());
        pf!(self, "  {flags},  /* flags */");
        self.prnt("};");
        self.prnt("");
        self.prnt("#ifdef __GNUC__");
        self.prnt("#  pragma GCC visibility push(default)  /* for -fvisibility= */");
        self.prnt("#endif");
        self.prnt("");
        self.prnt("#ifdef PYPY_VERSION");
        self.prnt("PyMODINIT_FUNC");
        pf!(self, "_cffi_pypyinit_{base_module_name}(const void *p[])");
        self.prnt("{");
        if flags & 1 != 0 {
            self.prnt("    if (((intptr_t)p[0]) >= 0x0A03) {");
            self.prnt(
                "        _cffi_call_python_org = (void(*)(struct _cffi_externpy_s *, char *))p[1];",
            );
            self.prnt("    }");
        }
        // cffi before 2.1 still wrote the Python 2 branches.
        let py2 = self.options.cffi_version < CffiVersion::V2_1;
        pf!(self, "    p[0] = (const void *)0x{:x};", self.version);
        self.prnt("    p[1] = &_cffi_type_context;");
        if py2 {
            self.prnt("#if PY_MAJOR_VERSION >= 3");
        }
        self.prnt("    return NULL;");
        if py2 {
            self.prnt("#endif");
        }
        self.prnt("}");
        self.prnt("#  ifdef _MSC_VER");
        self.prnt("     PyMODINIT_FUNC");
        if py2 {
            self.prnt("#  if PY_MAJOR_VERSION >= 3");
        }
        pf!(
            self,
            "     PyInit_{base_module_name}(void) {{ return NULL; }}"
        );
        if py2 {
            self.prnt("#  else");
            pf!(self, "     init{base_module_name}(void) {{ }}");
            self.prnt("#  endif");
        }
        self.prnt("#  endif");
        self.prnt(if py2 {
            "#elif PY_MAJOR_VERSION >= 3"
        } else {
            "#else"
        });
        self.prnt("PyMODINIT_FUNC");
        pf!(self, "PyInit_{base_module_name}(void)");
        self.prnt("{");
        pf!(
            self,
            "  return _cffi_init(\"{}\", 0x{:x}, &_cffi_type_context);",
            self.module_name,
            self.version
        );
        self.prnt("}");
        if py2 {
            self.prnt("#else");
            self.prnt("PyMODINIT_FUNC");
            pf!(self, "init{base_module_name}(void)");
            self.prnt("{");
            pf!(
                self,
                "  _cffi_init(\"{}\", 0x{:x}, &_cffi_type_context);",
                self.module_name,
                self.version
            );
            self.prnt("}");
        }
        self.prnt("#endif");
        self.prnt("");
        self.prnt("#ifdef __GNUC__");
        self.prnt("#  pragma GCC visibility pop");
        self.prnt("#endif");
        Ok(self.out)
    }
}

/// Replaces the line `marker` (with its newline) in `text` by `insert`.
fn splice(text: &str, marker: &str, insert: &str) -> Result<String, EmitError> {
    // CFFI finds the marker as a whole line.
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line == marker {
            return Ok(format!(
                "{}{}{}",
                &text[..pos],
                insert,
                &text[pos + line.len()..]
            ));
        }
        pos += line.len();
    }
    Err(err(format!(
        "CFFI's header does not contain the line {}",
        marker.trim_end()
    )))
}

/// `bytes.splitlines(True)`: lines with their ends (`\n`, `\r\n`, `\r`).
fn split_lines_keep(s: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\n' {
            out.push(&s[start..=i]);
            start = i + 1;
        } else if s[i] == b'\r' {
            let end = if i + 1 < s.len() && s[i + 1] == b'\n' {
                i + 1
            } else {
                i
            };
            out.push(&s[start..=end]);
            i = end;
            start = end + 1;
        }
        i += 1;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `ascii(bytes)[1:-1]`: the repr of a bytes object without the `b` and the
/// closing quote (CFFI's comment above each embedded line).
fn bytes_ascii_repr_tail(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::new();
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            c if !(0x20..0x7f).contains(&c) => {
                let _ = write!(out, "\\x{c:02x}");
            }
            c => out.push(c as char),
        }
    }
    out
}
