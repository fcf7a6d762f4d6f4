//! The module tables of a migrated project: each recorded FFI becomes a
//! `[tool.headerwheel.modules."..."]` table (and its cdef and preamble
//! files), with setup()'s build_clib libraries as the module's sources.

use super::*;

pub(super) fn module_plan(
    root: &Path,
    rec: &Recording,
    m: &recording::RecordedModule,
    package_dir: &str,
    headerkit_output: Option<&Path>,
    read: &dyn Fn(&Path) -> Option<String>,
    notes: &mut Vec<Note>,
) -> Result<ModulePlan, String> {
    let at = m
        .builder
        .clone()
        .or_else(|| m.set_source_at.clone())
        .unwrap_or_else(|| "the builder".into());
    let name = m.qualified.clone();
    if m.qualified != m.module {
        notes.push(Note {
            kind: NoteKind::Info,
            text: format!(
                "{at}: set_source('{}') with ext_package '{}' is the module '{name}'",
                m.module,
                rec.ext_package.as_deref().unwrap_or("")
            ),
        });
    }
    for u in &m.unsupported {
        notes.push(Note {
            kind: NoteKind::Unsupported,
            text: format!("{at}: {u}"),
        });
    }
    if m.source_extension != ".c" {
        notes.push(Note {
            kind: NoteKind::Unsupported,
            text: format!(
                "{at}: source_extension '{}': headerwheel compiles the module as C",
                m.source_extension
            ),
        });
    }
    if !m.includes.is_empty() {
        notes.push(Note {
            kind: NoteKind::Unsupported,
            text: format!(
                "{at}: ffi.include() of another FFI: headerwheel modules are built alone"
            ),
        });
    }
    let mut cdef = String::new();
    for (i, c) in m.cdefs.iter().enumerate() {
        if c.packed || c.pack.is_some() || c.override_ {
            notes.push(Note {
                kind: NoteKind::Unsupported,
                text: format!(
                    "{at}: cdef() call {} uses {}: headerwheel reads one cdef without options (the text is kept; --check shows the effect)",
                    i + 1,
                    [c.packed.then_some("packed=True"), c.pack.map(|_| "pack=N"), c.override_.then_some("override=True")]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        if i > 0 && !cdef.ends_with('\n') {
            cdef.push('\n');
        }
        cdef.push_str(&c.text);
    }
    // The files beside the module: pkg/sub/_x.cdef.txt and .csrc.c.
    let (parent, last) = name.rsplit_once('.').unwrap_or(("", name.as_str()));
    let mut dir = PathBuf::from(package_dir);
    if !parent.is_empty() {
        dir.push(parent.replace('.', "/"));
    }
    let mut cdef_path = dir.join(format!("{last}.cdef.txt"));
    // A cdef that is [tool.headerkit]'s output stays generated from the headers.
    if let Some(out) = headerkit_output
        && read(out).is_some_and(|t| t == cdef)
    {
        notes.push(Note {
                kind: NoteKind::Info,
                text: format!("{name}: the cdef is [tool.headerkit]'s output {}: headerwheel generates it from the headers", out.display()),
            });
        cdef_path = out.to_path_buf();
    }
    let abi = m.mode == "abi";
    // A preamble the builder read from a project file keeps that file: the
    // csrc beside a [tool.headerkit] output (headerkit's convention), or
    // the one the migration would write.
    let preamble = if abi {
        None
    } else {
        let text = m.preamble.clone().unwrap_or_default();
        let beside_cdef = cdef_path
            .to_str()
            .and_then(|c| c.strip_suffix(".cdef.txt"))
            .map(|stem| PathBuf::from(format!("{stem}.csrc.c")));
        let path = beside_cdef
            .filter(|p| read(p).is_some_and(|t| t == text))
            .unwrap_or_else(|| dir.join(format!("{last}.csrc.c")));
        Some((path, text))
    };
    let mut entries: Vec<(&'static str, ModuleValue)> = Vec::new();
    entries.push((
        "cdef",
        ModuleValue::Str(cdef_path.to_string_lossy().replace('\\', "/")),
    ));
    if let Some((p, _)) = &preamble {
        entries.push((
            "preamble",
            ModuleValue::Str(p.to_string_lossy().replace('\\', "/")),
        ));
    }
    if abi {
        entries.push(("mode", ModuleValue::Str("abi".into())));
    }
    let build_clib = build_clib_libraries(rec);
    let mut kwds = m.kwds.clone();
    let mut paths = |key: &str, notes: &mut Vec<Note>| -> Vec<String> {
        let list = kwds
            .remove(key)
            .map(|v| string_list(&v))
            .unwrap_or_default();
        list.iter()
            .map(|p| {
                let (rel, inside) = project_path(root, p);
                if !inside {
                    notes.push(Note {
                        kind: NoteKind::Environment,
                        text: format!("{at}: {key} has '{p}', outside the project: kept as it is (true of this machine)"),
                    });
                }
                rel
            })
            .collect()
    };
    let mut sources = paths("sources", notes);
    let mut include_dirs = paths("include_dirs", notes);
    let library_dirs = paths("library_dirs", notes);
    let mut libraries = kwds
        .remove("libraries")
        .map(|v| string_list(&v))
        .unwrap_or_default();
    let mut macros: Vec<(String, Option<String>)> = Vec::new();
    if let Some(Value::Array(ms)) = kwds.remove("define_macros") {
        for d in ms {
            let pair = d.as_array().cloned().unwrap_or_default();
            if let Some(n) = pair.first().and_then(Value::as_str) {
                macros.push((
                    n.to_string(),
                    pair.get(1).and_then(Value::as_str).map(str::to_string),
                ));
            }
        }
    }
    // A static library setup() builds (build_clib) is compiled into the module.
    libraries.retain(|l| match build_clib.get(l) {
        Some((srcs, incs, defs)) => {
            notes.push(Note {
                kind: NoteKind::Info,
                text: format!("{at}: the library '{l}' setup() builds with build_clib: its {} sources are compiled into the module", srcs.len()),
            });
            for s in srcs {
                let r = project_path(root, s).0;
                if !sources.contains(&r) {
                    sources.push(r);
                }
            }
            for i in incs {
                let r = project_path(root, i).0;
                if !include_dirs.contains(&r) {
                    include_dirs.push(r);
                }
            }
            macros.extend(defs.iter().cloned());
            false
        }
        None => true,
    });
    let extra_compile_args = kwds
        .remove("extra_compile_args")
        .map(|v| string_list(&v))
        .unwrap_or_default();
    let extra_link_args = kwds
        .remove("extra_link_args")
        .map(|v| string_list(&v))
        .unwrap_or_default();
    for (k, v) in [
        ("libraries", libraries),
        ("include-dirs", include_dirs),
        ("library-dirs", library_dirs),
    ] {
        if !v.is_empty() {
            entries.push((k, ModuleValue::List(v)));
        }
    }
    if !macros.is_empty() {
        entries.push(("define-macros", ModuleValue::Macros(macros)));
    }
    for (k, v) in [
        ("sources", sources),
        ("extra-compile-args", extra_compile_args),
        ("extra-link-args", extra_link_args),
    ] {
        if !v.is_empty() {
            entries.push((k, ModuleValue::List(v)));
        }
    }
    // Keywords with nothing to say to headerwheel.
    kwds.remove("depends");
    let no_limited_api = kwds
        .remove("py_limited_api")
        .is_some_and(|v| v == Value::Bool(false));
    for (k, v) in kwds {
        notes.push(Note {
            kind: NoteKind::NotMoved,
            text: format!("{at}: set_source(..., {k}={v}): no headerwheel module key"),
        });
    }
    Ok(ModulePlan {
        name,
        abi,
        cdef,
        cdef_path,
        preamble,
        entries,
        emitted: m.emitted.clone(),
        no_limited_api,
    })
}

/// setup(libraries=[(name, {sources, include_dirs, macros})]): the static
/// libraries build_clib makes.
#[allow(clippy::type_complexity)]
fn build_clib_libraries(
    rec: &Recording,
) -> BTreeMap<String, (Vec<String>, Vec<String>, Vec<(String, Option<String>)>)> {
    let mut out = BTreeMap::new();
    if let Some(Value::Array(libs)) = rec.setup_kwargs.get("libraries") {
        for l in libs {
            let Some(pair) = l.as_array() else { continue };
            let (Some(name), Some(info)) = (pair.first().and_then(Value::as_str), pair.get(1))
            else {
                continue;
            };
            let list = |k: &str| info.get(k).map(string_list).unwrap_or_default();
            let macros = info
                .get("macros")
                .and_then(Value::as_array)
                .map(|ms| {
                    ms.iter()
                        .filter_map(|d| {
                            let p = d.as_array()?;
                            Some((
                                p.first()?.as_str()?.to_string(),
                                p.get(1).and_then(Value::as_str).map(str::to_string),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.insert(
                name.to_string(),
                (list("sources"), list("include_dirs"), macros),
            );
        }
    }
    out
}
