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
pub(in crate::commands) mod command;
pub mod diff;
mod metadata;
mod modules;
pub mod pyproject;
pub mod recording;
pub mod verify;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

pub use metadata::MovedMetadata;
use metadata::src_metadata;
use modules::module_plan;
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

#[cfg(test)]
mod tests {
    use super::*;

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
