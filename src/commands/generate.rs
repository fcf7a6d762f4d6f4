//! `headerwheel generate` and `inspect`: a header through libclang to a CFFI
//! cdef, or to the signature database (JSON).

use std::path::PathBuf;

use super::{GenerateArgs, write_atomic};

/// `generate` (the cdef) or, `inspect`, the signature database.
pub(super) fn generate(a: GenerateArgs, inspect: bool) -> Result<(), String> {
    use crate::cdef::writer::{self, WriterOptions};
    use crate::headers::{self, ParseRequest, exports};
    let mut req = ParseRequest {
        include_dirs: a.include_dirs.iter().map(PathBuf::from).collect(),
        defines: a.defines,
        code: a.code,
        ..ParseRequest::default()
    };
    let mut opts = WriterOptions {
        extra_cdef: a.extra_cdef,
        ..WriterOptions::default()
    };
    for p in &a.define_patterns {
        opts.define_patterns
            .push(regex::Regex::new(p).map_err(|e| format!("--define-pattern {p:?}: {e}"))?);
    }
    if let Some(w) = a.writer.as_deref().filter(|w| *w != "cffi") {
        return Err(format!("writer '{w}' is not supported (only cffi)"));
    }
    let out: Option<PathBuf> = a
        .out
        .as_deref()
        .map(|o| o.strip_prefix("cffi:").unwrap_or(o).into());
    let libs = a.libraries;
    let header = a.header;
    req.header = header.clone().into();
    if !libs.is_empty() {
        let path = exports::library_search_path(&[]);
        let mut all = std::collections::HashSet::new();
        for l in &libs {
            let p = exports::find_library(l, &path)
                .ok_or_else(|| format!("library '{l}' not found on the linker path"))?;
            all.extend(exports::exported_symbols(&p)?);
        }
        opts.exported = Some(all);
    }
    // Parsed as a CFFI module compiles it: with Python.h's feature macros.
    req.defines = crate::headers::stage::HeaderEnv::discover().after(&req.defines);
    let t = std::time::Instant::now();
    let model = headers::parse(&req).map_err(|e| e.to_string())?;
    if inspect {
        let json = inspect_json(&model);
        let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n";
        return match out {
            Some(p) => write_atomic(&p, &text),
            None => {
                print!("{text}");
                Ok(())
            }
        };
    }
    if opts.define_patterns.is_empty() {
        // As `[tool.headerkit]` without define_patterns: the library's macros.
        opts.macros = writer::MacroSelection::AllLibrary;
    }
    let written = writer::write(&model, &opts);
    for w in &written.warnings {
        eprintln!("headerwheel: warning: {w}");
    }
    eprintln!(
        "headerwheel: {header}: {} declarations in {:.1} ms",
        model.items.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    match out {
        Some(p) => {
            write_atomic(&p, &written.cdef)?;
            eprintln!("headerwheel: wrote {}", p.display());
            Ok(())
        }
        None => {
            print!("{}", written.cdef);
            Ok(())
        }
    }
}

/// The signature database of a header model.
fn inspect_json(model: &crate::headers::decls::HeaderModel) -> serde_json::Value {
    use crate::cdef::writer::c_decl;
    use crate::headers::decls::CType;
    use serde_json::json;
    let functions: Vec<_> = model
        .functions
        .iter()
        .map(|f| {
            let (ret, params, variadic) = match &f.ty {
                CType::Function {
                    ret,
                    params,
                    variadic,
                } => (ret.as_ref().clone(), params.clone(), *variadic),
                other => (other.clone(), vec![], false),
            };
            json!({
                "name": f.name,
                "signature": c_decl(model, &f.ty, &f.name),
                "returns": c_decl(model, &ret, ""),
                "params": params.iter().enumerate().map(|(i, p)| json!({
                    "name": f.param_names.get(i).cloned().flatten(),
                    "type": c_decl(model, p, ""),
                })).collect::<Vec<_>>(),
                "variadic": variadic,
                "inline": f.inline,
                "file": f.loc.file,
                "line": f.loc.line,
            })
        })
        .collect();
    let records: Vec<_> = model
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.loc.project)
        .map(|(i, r)| {
            json!({
                "name": r.tag.as_ref().map(|t| format!("{} {t}", if r.is_union { "union" } else { "struct" })),
                "id": i,
                "kind": if r.is_union { "union" } else { "struct" },
                "size": r.size,
                "align": r.align,
                "packed": r.packed,
                "fields": r.fields.as_ref().map(|fs| fs.iter().map(|f| json!({
                    "name": f.name,
                    "type": c_decl(model, &f.ty, ""),
                    "offset_bits": f.offset_bits,
                    "bits": f.bits,
                })).collect::<Vec<_>>()),
                "file": r.loc.file,
                "line": r.loc.line,
            })
        })
        .collect();
    let enums: Vec<_> = model
        .enums
        .iter()
        .map(|e| json!({"name": e.tag, "values": e.values.iter().map(|(n, v)| json!([n, v.to_string()])).collect::<Vec<_>>(), "file": e.loc.file}))
        .collect();
    let typedefs: Vec<_> = model
        .typedefs
        .iter()
        .map(|t| json!({"name": t.name, "type": c_decl(model, &t.ty, ""), "file": t.loc.file}))
        .collect();
    let macros: Vec<_> = model
        .macros
        .iter()
        .filter(|m| m.loc.project)
        .map(|m| json!({"name": m.name, "value": m.value.map(|v| v.to_string()), "tokens": m.tokens.join(" "), "file": m.loc.file, "line": m.loc.line}))
        .collect();
    json!({"functions": functions, "records": records, "enums": enums, "typedefs": typedefs, "macros": macros})
}
