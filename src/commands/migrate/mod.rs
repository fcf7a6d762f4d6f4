//! `headerwheel migrate`: a setuptools (or hatchling) + CFFI project becomes
//! a headerwheel project.
//!
//! ```text
//! recorder (the project's Python: setup() and cffi.FFI captured) ─► Recording (JSON)
//!     ─► plan (pure: the files to write, pyproject.toml edited with toml_edit)
//!     ─► write (atomic) | --dry-run (unified diffs) | --check (C by headerwheel vs by cffi)
//! ```
//!
//! The plan keeps every comment, key order and format of the user's
//! `pyproject.toml`: it only adds what is missing and switches
//! `[build-system]`. Whatever it cannot move (setuptools-only options,
//! computed values, environment-dependent choices) is reported as a note.

pub mod check;
pub mod diff;
pub mod pyproject;
pub mod recording;
pub mod verify;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

pub use recording::Recording;

/// What a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NoteKind {
    /// A value computed by code, written as the value it had now.
    Computed,
    /// Something that could not be moved.
    NotMoved,
    /// The builder's result depends on the environment.
    Environment,
    /// Something headerwheel cannot express.
    Unsupported,
    /// Good to know.
    Info,
}

impl NoteKind {
    fn label(self) -> &'static str {
        match self {
            NoteKind::Computed => "computed",
            NoteKind::NotMoved => "not moved",
            NoteKind::Environment => "environment",
            NoteKind::Unsupported => "unsupported",
            NoteKind::Info => "note",
        }
    }
}

/// One line of the migration report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    /// Its kind.
    pub kind: NoteKind,
    /// The message (names the file and key).
    pub text: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.text)
    }
}

/// A file the migration writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Relative to the project.
    pub path: PathBuf,
    /// Its text now (`None`: a new file).
    pub old: Option<String>,
    /// Its text after the migration.
    pub new: String,
}

/// One migrated module: what headerwheel will build, and from what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModulePlan {
    /// The import name.
    pub name: String,
    /// API or ABI mode.
    pub abi: bool,
    /// The cdef text (all cdef() calls).
    pub cdef: String,
    /// The cdef file (relative), or a [tool.headerkit] output.
    pub cdef_path: PathBuf,
    /// The preamble (API mode) and its file.
    pub preamble: Option<(PathBuf, String)>,
    /// The module's table entries, in order.
    pub entries: Vec<(&'static str, ModuleValue)>,
    /// The real cffi's source of the module (`--emit`).
    pub emitted: Option<PathBuf>,
    /// `set_source(..., py_limited_api=False)`: not abi3.
    pub no_limited_api: bool,
}

/// A value of a module's `[tool.headerwheel.modules."x"]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleValue {
    /// A string.
    Str(String),
    /// A list of strings.
    List(Vec<String>),
    /// `define-macros`: NAME → value (`None`: defined without a value).
    Macros(Vec<(String, Option<String>)>),
}

/// The migration.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The files to write, pyproject.toml first.
    pub files: Vec<PlannedFile>,
    /// The modules.
    pub modules: Vec<ModulePlan>,
    /// The report.
    pub notes: Vec<Note>,
}

/// Where a metadata value came from.
#[derive(Debug, Clone)]
struct Found {
    value: Value,
    /// `setup.py` or `setup.cfg`.
    file: &'static str,
    /// Written literally there (else: computed by `expr`).
    literal: bool,
    expr: String,
}

/// Reads a metadata key from setup.cfg (resolved by setuptools) or the
/// setup() call (setup.cfg wins, as setuptools applies it last).
struct Sources<'a> {
    rec: &'a Recording,
}

impl Sources<'_> {
    fn get(&self, key: &str) -> Option<Found> {
        for section in ["metadata", "options"] {
            let raw = self.rec.setup_cfg.get(section).and_then(|s| s.get(key));
            let Some(raw) = raw.and_then(Value::as_str) else {
                continue;
            };
            let resolved = self
                .rec
                .setup_cfg_resolved
                .as_ref()
                .and_then(|r| r.get(section))
                .and_then(|s| s.get(key))
                .cloned()
                .unwrap_or_else(|| Value::String(raw.trim().to_string()));
            let t = raw.trim();
            let literal = !(t.starts_with("attr:")
                || t.starts_with("file:")
                || t.starts_with("find:")
                || t.starts_with("find_namespace:"));
            // A literal is taken as written (setuptools turns some into
            // objects, like a SpecifierSet); a directive, as resolved.
            let value = if literal {
                Value::String(t.to_string())
            } else {
                resolved
            };
            return Some(Found {
                value,
                file: "setup.cfg",
                literal,
                expr: t.to_string(),
            });
        }
        let value = self.rec.setup_kwargs.get(key)?.clone();
        let (literal, expr) = match self.rec.setup_static.get(key) {
            Some(s) => (
                s.get("literal").and_then(Value::as_bool).unwrap_or(false),
                s.get("expr")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            None => (false, format!("{key}=... (not in the setup() call's text)")),
        };
        Some(Found {
            value,
            file: "setup.py",
            literal,
            expr,
        })
    }

    /// A setup.cfg section such as `options.extras_require`, as a map.
    fn cfg_section(&self, section: &str) -> Option<(serde_json::Map<String, Value>, bool)> {
        let raw = self.rec.setup_cfg.get(section)?.as_object()?.clone();
        let literal = raw.values().all(|v| {
            v.as_str()
                .is_none_or(|s| !s.trim().starts_with("attr:") && !s.trim().starts_with("file:"))
        });
        Some((raw, literal))
    }
}

/// A list from a JSON list, or a setup.cfg multi-line / `;`-separated string.
fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .collect(),
        Value::String(s) => s
            .split(['\n', ';'])
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.starts_with('#'))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// `path` relative to the project, normalized (`./a/../b` → `b`); an
/// absolute path inside `root` becomes relative; outside, it stays.
fn project_path(root: &Path, path: &str) -> (String, bool) {
    let p = Path::new(path);
    let rel = if p.is_absolute() {
        match p.strip_prefix(root) {
            Ok(r) => r.to_path_buf(),
            Err(_) => return (path.to_string(), false),
        }
    } else {
        p.to_path_buf()
    };
    let mut out: Vec<String> = Vec::new();
    for c in rel.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.pop() {
                Some(_) => {}
                None => return (path.to_string(), false),
            },
            Component::Normal(s) => out.push(s.to_string_lossy().to_string()),
            _ => {}
        }
    }
    (
        if out.is_empty() {
            ".".to_string()
        } else {
            out.join("/")
        },
        true,
    )
}

/// Plans the migration of the project at `root` from `rec`.
/// `read` reads a project file (relative path) if it exists.
pub fn plan(
    root: &Path,
    rec: &Recording,
    read: &dyn Fn(&Path) -> Option<String>,
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let notes = &mut plan.notes;
    if let Some(e) = rec.errors.first() {
        return Err(format!("recording the project failed: {e}"));
    }
    if rec.modules.is_empty() {
        return Err(format!(
            "{}: no CFFI builder found (looked for setup.py/setup.cfg cffi_modules and a hatchling custom build hook that calls set_source())",
            root.display()
        ));
    }
    for w in &rec.warnings {
        notes.push(Note {
            kind: NoteKind::Info,
            text: w.clone(),
        });
    }
    let src = Sources { rec };
    let old_pyproject = read(Path::new("pyproject.toml"));
    let mut doc: toml_edit::DocumentMut = match &old_pyproject {
        Some(t) => t.parse().map_err(|e| format!("pyproject.toml: {e}"))?,
        None => toml_edit::DocumentMut::new(),
    };

    // Where the packages live.
    let package_dir = package_dir(&src, root, notes);
    let headerkit_output = doc
        .get("tool")
        .and_then(|t| t.get("headerkit"))
        .and_then(|h| h.get("output"))
        .and_then(|o| o.get("cffi"))
        .and_then(|c| c.as_str())
        .map(PathBuf::from);

    // The modules.
    for m in &rec.modules {
        let mp = module_plan(
            root,
            rec,
            m,
            &package_dir,
            headerkit_output.as_deref(),
            read,
            notes,
        )?;
        plan.modules.push(mp);
    }
    for e in &rec.environment {
        let value = e
            .value
            .as_deref()
            .map_or_else(|| "unset".to_string(), |v| format!("'{v}'"));
        notes.push(Note {
            kind: NoteKind::Environment,
            text: format!(
                "{} reads the environment variable {} (now {value}): the modules were recorded for this environment; build them again with another value by migrating again",
                e.at, e.name
            ),
        });
    }
    for c in &rec.commands {
        notes.push(Note {
            kind: NoteKind::Environment,
            text: format!(
                "{} runs {}: its output (now) is in the recorded options",
                c.at, c.argv
            ),
        });
    }

    let moved = src_metadata(&src, root, &doc, &package_dir, read, notes);
    pyproject::edit(&mut doc, &moved, &package_dir, &plan.modules, notes);
    let new_pyproject = same_line_endings(old_pyproject.as_deref(), doc.to_string());
    let mut files = vec![PlannedFile {
        path: "pyproject.toml".into(),
        old: old_pyproject,
        new: new_pyproject,
    }];
    for m in &plan.modules {
        if Some(m.cdef_path.as_path()) != headerkit_output.as_deref() {
            files.push(PlannedFile {
                path: m.cdef_path.clone(),
                old: read(&m.cdef_path),
                new: m.cdef.clone(),
            });
        }
        if let Some((p, text)) = &m.preamble {
            files.push(PlannedFile {
                path: p.clone(),
                old: read(p),
                new: text.clone(),
            });
        }
    }
    for name in ["setup.py", "setup.cfg"] {
        if read(Path::new(name)).is_some() {
            notes.push(Note {
                kind: NoteKind::Info,
                text: format!("{name} is no longer used by the build; delete it once the notes above are handled"),
            });
        }
    }
    let shipped = verify::load_planned(root, &files)?;
    if shipped.is_empty() && !moved.python_packages.is_empty() {
        return Err(format!(
            "setup() declares the packages {:?}, but the migrated project would ship no Python package (package directory '{}'): the wheel would hold only the modules",
            moved.python_packages,
            if package_dir.is_empty() {
                "."
            } else {
                package_dir.as_str()
            }
        ));
    }
    plan.files = files;
    plan.notes.sort();
    plan.notes.dedup();
    Ok(plan)
}

/// `new` with the line endings of `old`: a CRLF file stays CRLF (the lines
/// toml_edit adds end in LF).
fn same_line_endings(old: Option<&str>, new: String) -> String {
    match old {
        Some(o) if o.contains("\r\n") => new.replace("\r\n", "\n").replace('\n', "\r\n"),
        _ => new,
    }
}

/// Where the packages are, found as setuptools finds them: an explicit
/// `package_dir={'': 'src'}` / `package_dir = =src`; else where the
/// declared `packages`/`py_modules` are; else the root when it holds a
/// package (flat layout); else `src` when it holds a Python package or
/// module (a `src/` of C files is no src layout); else the root.
fn package_dir(src: &Sources<'_>, root: &Path, notes: &mut Vec<Note>) -> String {
    let Some(f) = src.get("package_dir") else {
        let declared: Vec<String> = ["packages", "py_modules"]
            .iter()
            .filter_map(|k| src.get(k))
            .flat_map(|f| string_list(&f.value))
            .map(|p| p.split('.').next().unwrap_or("").to_string())
            .filter(|p| !p.is_empty())
            .collect();
        let holds = |dir: &Path, p: &str| {
            dir.join(p).join("__init__.py").is_file() || dir.join(format!("{p}.py")).is_file()
        };
        let holds_python = |dir: &Path| {
            std::fs::read_dir(dir).is_ok_and(|rd| {
                rd.flatten().any(|e| {
                    let n = e.file_name().to_string_lossy().to_string();
                    let skip = n.starts_with('.')
                        || [
                            "tests", "test", "docs", "doc", "build", "dist", "venv", "src",
                        ]
                        .contains(&n.as_str());
                    !skip
                        && (e.path().join("__init__.py").is_file()
                            || (dir != root && n.ends_with(".py")))
                })
            })
        };
        let src_dir = root.join("src");
        return if !declared.is_empty() {
            if declared.iter().all(|p| holds(root, p))
                || !declared.iter().any(|p| holds(&src_dir, p))
            {
                String::new()
            } else {
                "src".into()
            }
        } else if holds_python(root) || !holds_python(&src_dir) {
            String::new()
        } else {
            "src".into()
        };
    };
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    match &f.value {
        Value::Object(o) => {
            for (k, v) in o {
                map.insert(k.clone(), v.as_str().unwrap_or("").to_string());
            }
        }
        Value::String(s) => {
            for line in s.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let (k, v) = line.split_once('=').unwrap_or(("", line));
                map.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
        _ => {}
    }
    let base = map.remove("").unwrap_or_default();
    for (k, v) in &map {
        notes.push(Note {
            kind: NoteKind::NotMoved,
            text: format!("{}: package_dir maps '{k}' to '{v}': headerwheel has one package directory ('{base}')", f.file),
        });
    }
    match project_path(root, &base).0.as_str() {
        "." => String::new(),
        d => d.trim_matches('/').to_string(),
    }
}

fn module_plan(
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

/// The `[project]` values recorded from setup.py / setup.cfg, as TOML
/// items in PEP 621 order, plus `python-packages`.
pub struct MovedMetadata {
    /// (key, value) for `[project]`.
    pub project: Vec<(&'static str, toml_edit::Item)>,
    /// Top-level packages (and modules) setup() ships.
    pub python_packages: Vec<String>,
    /// `[tool.headerwheel] version` when the version is computed at build
    /// time (`{ from-vcs = true }`, `{ file = ... }`).
    pub dynamic_version: Option<toml_edit::InlineTable>,
}

fn src_metadata(
    src: &Sources<'_>,
    root: &Path,
    doc: &toml_edit::DocumentMut,
    package_dir: &str,
    read: &dyn Fn(&Path) -> Option<String>,
    notes: &mut Vec<Note>,
) -> MovedMetadata {
    use toml_edit::{Array, InlineTable, Item, Table, value};
    let mut project: Vec<(&'static str, Item)> = Vec::new();
    let computed = |f: &Found, key: &str, shown: &str, notes: &mut Vec<Note>| {
        if !f.literal {
            notes.push(Note {
                kind: NoteKind::Computed,
                text: format!("{}: {key} is computed by `{}`: written as its value now, {shown}; keep it up to date in pyproject.toml", f.file, f.expr),
            });
        }
    };
    let s = |f: &Found| -> Option<String> {
        match &f.value {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let dynamic_version = version_source(src, doc, package_dir, read, notes);
    for (key, to) in [
        ("name", "name"),
        ("version", "version"),
        ("description", "description"),
    ] {
        if let Some(f) = src.get(key)
            && let Some(v) = s(&f)
        {
            if key == "version" && dynamic_version.is_some() {
                continue;
            }
            computed(&f, key, &format!("'{v}'"), notes);
            project.push((to, value(v)));
        }
    }
    // readme: the file whose text long_description is.
    if let Some(f) = src.get("long_description") {
        let text = match &f.value {
            Value::String(t) => t.clone(),
            _ => String::new(),
        };
        let ctype = src.get("long_description_content_type").and_then(|c| s(&c));
        let mut candidates: Vec<String> = std::fs::read_dir(root)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| n.to_ascii_uppercase().starts_with("README"))
                    .collect()
            })
            .unwrap_or_default();
        candidates.sort();
        let from_cfg = f.expr.strip_prefix("file:").map(|x| x.trim().to_string());
        let exact = candidates
            .iter()
            .find(|c| read(Path::new(c)).is_some_and(|t| t.trim() == text.trim()))
            .cloned();
        let prefix = candidates
            .iter()
            .find(|c| {
                read(Path::new(c))
                    .is_some_and(|t| !t.trim().is_empty() && text.starts_with(t.trim_end()))
            })
            .cloned();
        let file = from_cfg
            .filter(|f| !f.contains(','))
            .or(exact.clone())
            .or(prefix.clone());
        match file {
            Some(file) => {
                if exact.is_none() && f.file == "setup.py" {
                    notes.push(Note {
                        kind: NoteKind::NotMoved,
                        text: format!("setup.py: long_description (`{}`) is more than {file}: the readme is {file} alone", f.expr),
                    });
                }
                let inferred = if file.ends_with(".md") {
                    Some("text/markdown")
                } else if file.ends_with(".rst") {
                    Some("text/x-rst")
                } else {
                    None
                };
                let same = match (ctype.as_deref(), inferred) {
                    (None, Some(_)) => true,
                    (Some(c), Some(i)) => c == i,
                    _ => false,
                };
                if same {
                    project.push(("readme", value(file)));
                } else {
                    let mut t = InlineTable::new();
                    t.insert("file", file.as_str().into());
                    t.insert(
                        "content-type",
                        ctype.as_deref().unwrap_or("text/plain").into(),
                    );
                    project.push(("readme", value(t)));
                }
            }
            None => notes.push(Note {
                kind: NoteKind::NotMoved,
                text: format!(
                    "{}: long_description (`{}`) is no file of the project: set [project] readme",
                    f.file, f.expr
                ),
            }),
        }
    }
    if let Some(f) = src.get("python_requires")
        && let Some(v) = s(&f)
    {
        computed(&f, "python_requires", &format!("'{v}'"), notes);
        project.push(("requires-python", value(v)));
    }
    // license: an SPDX expression when it is one (and no License ::
    // classifier says it again, PEP 639), else the legacy text table.
    let classifiers = src.get("classifiers").map(|f| (string_list(&f.value), f));
    let has_license_classifier = classifiers
        .as_ref()
        .is_some_and(|(c, _)| c.iter().any(|c| c.starts_with("License ::")));
    if let Some(f) = src.get("license")
        && let Some(v) = s(&f)
    {
        computed(&f, "license", &format!("'{v}'"), notes);
        let files: Vec<String> = ["license_files", "license_file"]
            .iter()
            .filter_map(|k| src.get(k))
            .flat_map(|f| string_list(&f.value))
            .collect();
        match crate::project::license::check_license_expression(&v) {
            Ok(expr) if !has_license_classifier => {
                project.push(("license", value(expr)));
                if !files.is_empty() {
                    project.push((
                        "license-files",
                        value(files.iter().map(String::as_str).collect::<Array>()),
                    ));
                }
            }
            _ => {
                let mut t = InlineTable::new();
                t.insert("text", v.as_str().into());
                project.push(("license", value(t)));
                if !files.is_empty() {
                    notes.push(Note {
                            kind: NoteKind::NotMoved,
                            text: format!(
                                "license_files {files:?}: PEP 621's legacy license table takes no files (use an SPDX expression and license-files)"
                            ),
                        });
                }
            }
        }
    }
    for (who, key) in [("author", "authors"), ("maintainer", "maintainers")] {
        let name = src.get(who).and_then(|f| s(&f));
        let email = src.get(&format!("{who}_email")).and_then(|f| s(&f));
        let list = people(name.as_deref(), email.as_deref());
        if !list.is_empty() {
            let mut a = Array::new();
            for (n, e) in list {
                let mut t = InlineTable::new();
                if let Some(n) = &n {
                    t.insert("name", n.as_str().into());
                }
                if let Some(e) = &e {
                    t.insert("email", e.as_str().into());
                }
                a.push(t);
            }
            if a.len() > 1 {
                for v in a.iter_mut() {
                    v.decor_mut().set_prefix("\n    ");
                }
                a.set_trailing("\n");
                a.set_trailing_comma(true);
            }
            project.push((key, value(a)));
        }
    }
    if let Some(f) = src.get("keywords") {
        let list: Vec<String> = match &f.value {
            Value::String(s) => s
                .split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
            v => string_list(v),
        };
        if !list.is_empty() {
            project.push((
                "keywords",
                value(list.iter().map(String::as_str).collect::<Array>()),
            ));
        }
    }
    if let Some((list, f)) = &classifiers {
        computed(f, "classifiers", "the list above", notes);
        if !list.is_empty() {
            project.push(("classifiers", Item::Value(multiline(list))));
        }
    }
    let mut urls = Table::new();
    if let Some(u) = src.get("url").and_then(|f| s(&f)) {
        urls.insert("Homepage", value(u));
    }
    if let Some(u) = src.get("download_url").and_then(|f| s(&f)) {
        urls.insert("Download", value(u));
    }
    if let Some(f) = src.get("project_urls") {
        match &f.value {
            Value::Object(o) => {
                for (k, v) in o {
                    if let Some(v) = v.as_str() {
                        urls.insert(k, value(v));
                    }
                }
            }
            Value::String(text) => {
                for line in text.lines() {
                    if let Some((k, v)) = line.split_once('=') {
                        urls.insert(k.trim(), value(v.trim()));
                    }
                }
            }
            _ => {}
        }
    }
    if !urls.is_empty() {
        project.push(("urls", Item::Table(urls)));
    }
    if let Some(f) = src.get("install_requires") {
        let list = string_list(&f.value);
        computed(&f, "install_requires", &format!("{list:?}"), notes);
        let deps = crate::project::metadata::Metadata {
            dependencies: list.clone(),
            ..Default::default()
        };
        let named = |d: &String| crate::project::requirements::requirement_name(d) == "cffi";
        if list.iter().any(named) && !deps.requires_unconditionally("cffi") {
            notes.push(Note {
                kind: NoteKind::Info,
                text: format!("{}: install_requires names cffi only under a marker: headerwheel adds the cffi its modules need (cffi>=1.17) for every interpreter", f.file),
            });
        }
        if !list.is_empty() {
            project.push(("dependencies", Item::Value(multiline(&list))));
        }
    }
    let extras = src
        .cfg_section("options.extras_require")
        .map(|(m, _)| Value::Object(m))
        .or_else(|| src.get("extras_require").map(|f| f.value));
    if let Some(Value::Object(o)) = extras {
        let mut t = Table::new();
        for (k, v) in &o {
            t.insert(k, Item::Value(multiline(&string_list(v))));
        }
        if !t.is_empty() {
            project.push(("optional-dependencies", Item::Table(t)));
        }
    }
    let entry_points = src
        .cfg_section("options.entry_points")
        .map(|(m, _)| Value::Object(m))
        .or_else(|| src.get("entry_points").map(|f| f.value));
    match entry_points {
        Some(Value::Object(groups)) => {
            let mut eps = Table::new();
            eps.set_implicit(true);
            for (group, list) in &groups {
                let mut t = Table::new();
                for line in string_list(list).iter().flat_map(|l| l.lines().map(str::to_string).collect::<Vec<_>>()) {
                    if let Some((k, v)) = line.split_once('=') {
                        t.insert(k.trim(), value(v.trim()));
                    }
                }
                match group.as_str() {
                    "console_scripts" => project.push(("scripts", Item::Table(t))),
                    "gui_scripts" => project.push(("gui-scripts", Item::Table(t))),
                    g => {
                        eps.insert(g, Item::Table(t));
                    }
                }
            }
            if !eps.is_empty() {
                project.push(("entry-points", Item::Table(eps)));
            }
        }
        Some(Value::String(s)) if !s.trim().is_empty() => notes.push(Note {
            kind: NoteKind::NotMoved,
            text: "setup.py: entry_points given as INI text: move them to [project.scripts] / [project.entry-points]".into(),
        }),
        _ => {}
    }
    let mut python_packages: Vec<String> = Vec::new();
    for key in ["packages", "py_modules"] {
        if let Some(f) = src.get(key) {
            for p in string_list(&f.value) {
                let top = p.split('.').next().unwrap_or("").to_string();
                if !top.is_empty() && !python_packages.contains(&top) {
                    python_packages.push(top);
                }
            }
        }
    }
    // What setuptools did that PEP 621 / headerwheel does not.
    let handled = [
        "name",
        "version",
        "description",
        "long_description",
        "long_description_content_type",
        "python_requires",
        "license",
        "license_file",
        "license_files",
        "author",
        "author_email",
        "maintainer",
        "maintainer_email",
        "keywords",
        "classifiers",
        "url",
        "download_url",
        "project_urls",
        "install_requires",
        "extras_require",
        "entry_points",
        "packages",
        "py_modules",
        "package_dir",
        "cffi_modules",
        "ext_package",
        "use_scm_version",
    ];
    let mut leftover: Vec<(String, &'static str, String)> = Vec::new();
    for (k, v) in &src.rec.setup_kwargs {
        let empty = match v {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        if !handled.contains(&k.as_str()) && !empty {
            let expr = src
                .rec
                .setup_static
                .get(k)
                .and_then(|s| s.get("expr"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            leftover.push((k.clone(), "setup.py", expr));
        }
    }
    for section in ["metadata", "options"] {
        if let Some(Value::Object(o)) = src.rec.setup_cfg.get(section) {
            for (k, v) in o {
                if !handled.contains(&k.as_str()) {
                    leftover.push((
                        k.clone(),
                        "setup.cfg",
                        v.as_str().unwrap_or("").trim().replace('\n', " "),
                    ));
                }
            }
        }
    }
    for (k, file, expr) in leftover {
        let why = match k.as_str() {
            "cmdclass" => "custom setuptools commands (dynamic code) do not run under headerwheel",
            "setup_requires" | "tests_require" => {
                "build requirements are [build-system] requires (headerwheel needs none)"
            }
            "zip_safe" => "wheels are never installed as zipped eggs",
            "include_package_data" | "package_data" | "exclude_package_data" => {
                "headerwheel ships every file of the packages"
            }
            "libraries" => {
                "build_clib libraries are compiled into the modules that link them (see above)"
            }
            "scripts" => "script files are not PEP 621: make them [project.scripts] entry points",
            "platforms" => "not PEP 621 metadata",
            "ext_modules" => {
                "setuptools extensions are not built by headerwheel (a CFFI one, from distutils_extension(), is a module above)"
            }
            _ => "no PEP 621 or headerwheel equivalent",
        };
        notes.push(Note {
            kind: NoteKind::NotMoved,
            text: format!("{file}: {k} (`{expr}`): {why}"),
        });
    }
    MovedMetadata {
        project,
        python_packages,
        dynamic_version,
    }
}

/// Where a computed version comes from, as `[tool.headerwheel] version`:
/// setuptools_scm (`[tool.setuptools_scm]`, `setup(use_scm_version=...)`)
/// or hatch's `source = "vcs"` → `{ from-vcs = true }`; setup.cfg's
/// `attr:`/`file:`, hatch's `path`, or a setup.py computing the
/// `__version__` a package file holds → `{ file = ... }`.
fn version_source(
    src: &Sources<'_>,
    doc: &toml_edit::DocumentMut,
    package_dir: &str,
    read: &dyn Fn(&Path) -> Option<String>,
    notes: &mut Vec<Note>,
) -> Option<toml_edit::InlineTable> {
    use toml_edit::InlineTable;
    let tool = doc.get("tool");
    let scm_table = tool.and_then(|t| t.get("setuptools_scm"));
    let use_scm = src
        .rec
        .setup_kwargs
        .get("use_scm_version")
        .is_some_and(|v| !matches!(v, Value::Null | Value::Bool(false)));
    let hatch = tool
        .and_then(|t| t.get("hatch"))
        .and_then(|h| h.get("version"));
    let hatch_source = hatch.and_then(|h| h.get("source")).and_then(|s| s.as_str());
    let in_project = |dir: &str, rel: String| {
        if dir.is_empty() {
            rel
        } else {
            format!("{dir}/{rel}")
        }
    };
    let file_table = |file: &str, regex: Option<&str>| {
        let mut t = InlineTable::new();
        t.insert("file", file.into());
        if let Some(r) = regex {
            t.insert("regex", r.into());
        }
        t
    };
    if scm_table.is_some() || use_scm || hatch_source == Some("vcs") {
        let from = if use_scm {
            "setup.py: use_scm_version"
        } else if scm_table.is_some() {
            "pyproject.toml: [tool.setuptools_scm]"
        } else {
            "pyproject.toml: [tool.hatch.version] source = \"vcs\""
        };
        notes.push(Note {
            kind: NoteKind::Info,
            text: format!("{from}: the version comes from git: [tool.headerwheel] version = {{ from-vcs = true }} (setuptools_scm's default scheme)"),
        });
        let options: Vec<String> = scm_table
            .and_then(|t| t.as_table_like())
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default();
        let kw_options: Vec<String> = match src.rec.setup_kwargs.get("use_scm_version") {
            Some(Value::Object(o)) => o.keys().cloned().collect(),
            _ => Vec::new(),
        };
        for (at, options) in [
            ("pyproject.toml: [tool.setuptools_scm]", options),
            ("setup.py: use_scm_version", kw_options),
        ] {
            if !options.is_empty() {
                notes.push(Note {
                    kind: NoteKind::NotMoved,
                    text: format!("{at} {}: headerwheel uses setuptools_scm's default scheme and writes no version file", options.join(", ")),
                });
            }
        }
        let mut t = InlineTable::new();
        t.insert("from-vcs", true.into());
        return Some(t);
    }
    if let Some(path) = hatch.and_then(|h| h.get("path")).and_then(|p| p.as_str()) {
        let regex = hatch
            .and_then(|h| h.get("pattern"))
            .and_then(|p| p.as_str());
        notes.push(Note {
            kind: NoteKind::Info,
            text: format!("pyproject.toml: [tool.hatch.version] path: [tool.headerwheel] version = {{ file = \"{path}\" }} reads it at build time"),
        });
        return Some(file_table(path, regex));
    }
    let f = src.get("version")?;
    if f.literal {
        return None;
    }
    let expr = f.expr.trim();
    let file = if let Some(attr) = expr.strip_prefix("attr:") {
        // attr: pkg.mod.__version__ → pkg/mod.py or pkg/mod/__init__.py.
        let (module, name) = attr.trim().rsplit_once('.')?;
        if name != "__version__" {
            return None;
        }
        let base = module.replace('.', "/");
        [format!("{base}.py"), format!("{base}/__init__.py")]
            .into_iter()
            .map(|r| in_project(package_dir, r))
            .find(|p| read(Path::new(p)).is_some())
            .map(|p| (p, None))
    } else if let Some(file) = expr.strip_prefix("file:") {
        let file = file.trim();
        (!file.contains(',')).then(|| (file.to_string(), Some(r"(?m)^\s*(\S+)")))
    } else {
        // A setup.py computing the value a package file's __version__ holds.
        let value = f.value.as_str()?.trim().to_string();
        let packages: Vec<String> = ["packages", "py_modules"]
            .iter()
            .filter_map(|k| src.get(k))
            .flat_map(|f| string_list(&f.value))
            .filter(|p| !p.contains('.'))
            .collect();
        let line =
            regex::Regex::new(r#"(?m)^\s*__version__\s*(?::\s*str\s*)?=\s*['"]([^'"]+)['"]"#)
                .expect("a valid regex");
        packages
            .iter()
            .flat_map(|p| {
                ["__init__.py", "_version.py", "version.py", "__about__.py"]
                    .iter()
                    .map(move |f| format!("{p}/{f}"))
                    .chain(std::iter::once(format!("{p}.py")))
            })
            .map(|r| in_project(package_dir, r))
            .find(|p| {
                read(Path::new(p)).is_some_and(|t| {
                    line.captures(&t)
                        .is_some_and(|c| c.get(1).is_some_and(|m| m.as_str().trim() == value))
                })
            })
            .map(|p| (p, None))
    };
    let (file, regex) = file?;
    notes.push(Note {
        kind: NoteKind::Info,
        text: format!(
            "{}: version (`{expr}`) is read from {file}: [tool.headerwheel] version = {{ file = \"{file}\" }} reads it at build time",
            f.file
        ),
    });
    Some(file_table(&file, regex))
}

/// setup()'s `author` and `author_email` as PEP 621 people: the emails
/// are a comma-separated list, each `addr` or `Name <addr>`; a lone plain
/// address goes with the author's name, a name no address carries stays
/// a person of its own.
fn people(name: Option<&str>, email: Option<&str>) -> Vec<(Option<String>, Option<String>)> {
    static NAMED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^([^<>]*?)\s*<([^<>\s]+)>$").expect("a valid regex")
    });
    let emails: Vec<(Option<String>, String)> = email
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| match NAMED.captures(e) {
            Some(c) => {
                let who = c[1].trim().trim_matches('"').trim();
                ((!who.is_empty()).then(|| who.to_string()), c[2].to_string())
            }
            None => (None, e.to_string()),
        })
        .collect();
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    match (name, emails.as_slice()) {
        (Some(n), [(None, e)]) => vec![(Some(n.to_string()), Some(e.clone()))],
        (n, list) => {
            let mut out: Vec<(Option<String>, Option<String>)> = Vec::new();
            if let Some(n) = n
                && !list.iter().any(|(w, _)| w.as_deref() == Some(n))
            {
                out.push((Some(n.to_string()), None));
            }
            out.extend(list.iter().map(|(w, e)| (w.clone(), Some(e.clone()))));
            out
        }
    }
}

/// A TOML array with one string per line (classifiers, dependencies).
fn multiline(items: &[String]) -> toml_edit::Value {
    let mut a: toml_edit::Array = items.iter().map(String::as_str).collect();
    if items.len() > 1 {
        for v in a.iter_mut() {
            v.decor_mut().set_prefix("\n    ");
        }
        a.set_trailing("\n");
        a.set_trailing_comma(true);
    }
    toml_edit::Value::Array(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authors_and_their_emails() {
        let p = |n: Option<&str>, e: Option<&str>| -> Vec<(Option<String>, Option<String>)> {
            people(n, e)
        };
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            p(Some("Ada"), Some("ada@example.org")),
            vec![(s("Ada"), s("ada@example.org"))]
        );
        assert_eq!(
            p(None, Some("Ada Lovelace <ada@example.org>")),
            vec![(s("Ada Lovelace"), s("ada@example.org"))]
        );
        assert_eq!(
            p(
                Some("Ada Lovelace"),
                Some("Ada Lovelace <ada@example.org>, \"Bob\" <bob@example.org>, c@example.org")
            ),
            vec![
                (s("Ada Lovelace"), s("ada@example.org")),
                (s("Bob"), s("bob@example.org")),
                (None, s("c@example.org")),
            ]
        );
        assert_eq!(
            p(Some("The Team"), Some("a@example.org, b@example.org")),
            vec![
                (s("The Team"), None),
                (None, s("a@example.org")),
                (None, s("b@example.org")),
            ]
        );
        assert_eq!(p(Some("Ada"), None), vec![(s("Ada"), None)]);
        assert!(p(None, None).is_empty());
    }

    #[test]
    fn a_crlf_file_stays_crlf() {
        assert_eq!(
            same_line_endings(Some("a\r\nb\r\n"), "a\r\nb\r\nc\n".into()),
            "a\r\nb\r\nc\r\n"
        );
        assert_eq!(same_line_endings(Some("a\n"), "a\nb\n".into()), "a\nb\n");
        assert_eq!(same_line_endings(None, "a\n".into()), "a\n");
    }

    #[test]
    fn project_paths() {
        let root = Path::new("/p");
        assert_eq!(
            project_path(root, "/p/src/_csrc"),
            ("src/_csrc".into(), true)
        );
        assert_eq!(project_path(root, "./a/../b/c.c"), ("b/c.c".into(), true));
        assert_eq!(
            project_path(root, "/usr/include"),
            ("/usr/include".into(), false)
        );
    }
}
