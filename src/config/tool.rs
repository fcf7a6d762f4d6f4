//! `[tool.headerwheel]`: the CFFI extension modules, where the Python
//! packages live, and what the sdist holds.
//!
//! ```toml
//! [tool.headerwheel]
//! python-source = "src"          # auto-detected: src/ if it exists, else the root
//! packages = ["zlibbind"]        # auto-detected from the layout
//! abi3 = true                    # limited API for API-mode modules (default)
//!
//! [tool.headerwheel.modules."zlibbind._zlib_cffi"]
//! cdef = "zlibbind/_zlib.cdef.txt"
//! preamble-file = "zlibbind/_zlib.csrc.c"   # or preamble = "#include <zlib.h>"
//! libraries = ["z"]
//! ```
//!
//! headerkit's convention works without a table: `pkg/_x.cdef.txt` (with an
//! optional `pkg/_x.csrc.c` preamble) is module `pkg._x_cffi`; a table of the
//! same name adds to it.

use std::collections::BTreeMap;
use std::path::Path;

use super::ConfigError;
use super::glob;
use super::metadata::Metadata;
use super::toml::{Node, Source, TableView, Value};

/// How a module is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compiled C extension (`ffi.set_source(name, preamble)`).
    Api,
    /// Pure-Python module that loads a shared library at run time.
    Abi,
}

/// The C code placed before the generated code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preamble {
    /// None (empty string).
    None,
    /// Given inline.
    Inline(String),
    /// Read from a file (relative to the root).
    File(String),
}

/// One CFFI extension module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleConfig {
    /// Dotted import name (`pkg._x_cffi`).
    pub name: String,
    /// API or ABI mode.
    pub mode: Mode,
    /// The cdef file, relative to the root.
    pub cdef: String,
    /// The preamble.
    pub preamble: Preamble,
    /// Extra C sources compiled in (relative to the root).
    pub sources: Vec<String>,
    /// Libraries to link (`-l`).
    pub libraries: Vec<String>,
    /// Include directories (relative to the root, or absolute).
    pub include_dirs: Vec<String>,
    /// Library directories (relative to the root, or absolute).
    pub library_dirs: Vec<String>,
    /// `-D` macros, sorted by name.
    pub define_macros: Vec<(String, Option<String>)>,
    /// Extra compiler arguments.
    pub extra_compile_args: Vec<String>,
    /// Extra linker arguments.
    pub extra_link_args: Vec<String>,
    /// Per-module limited-API override.
    pub py_limited_api: Option<bool>,
    /// Where it was declared, for messages (`pyproject.toml:12:1`).
    pub declared_at: String,
}

impl ModuleConfig {
    /// The module's file path inside the wheel without the suffix
    /// (`pkg/_x_cffi`).
    pub fn path_stem(&self) -> String {
        self.name.replace('.', "/")
    }

    /// Every input file of the module (relative to the root), so the sdist
    /// and the wheel's package-data selection can tell them apart.
    pub fn input_files(&self) -> Vec<String> {
        let mut v = vec![self.cdef.clone()];
        if let Preamble::File(f) = &self.preamble {
            v.push(f.clone());
        }
        v.extend(self.sources.iter().cloned());
        v
    }
}

/// Where the Python packages are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The directory holding the packages, relative to the root (`""` or `src`).
    pub source_dir: String,
    /// Top-level packages (directories) shipped in the wheel, sorted.
    pub packages: Vec<String>,
    /// Top-level single-file modules (`name.py`) shipped, sorted.
    pub py_modules: Vec<String>,
}

/// The sdist's extra include and exclude globs (relative to the root).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdistConfig {
    /// Included even when ignored by `.gitignore`.
    pub include: Vec<String>,
    /// Excluded even when otherwise selected.
    pub exclude: Vec<String>,
}

/// What `[tool.headerwheel]` says, resolved against the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Package layout.
    pub layout: Layout,
    /// Modules, sorted by name.
    pub modules: Vec<ModuleConfig>,
    /// Limited API by default.
    pub abi3: bool,
    /// sdist selection.
    pub sdist: SdistConfig,
}

const TOOL_KEYS: &[&str] = &["python-source", "packages", "abi3", "modules", "sdist", "convention"];
const MODULE_KEYS: &[&str] = &[
    "cdef",
    "mode",
    "preamble",
    "preamble-file",
    "sources",
    "libraries",
    "include-dirs",
    "library-dirs",
    "define-macros",
    "extra-compile-args",
    "extra-link-args",
    "py-limited-api",
];

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

fn check_module_name(name: &str) -> Result<(), String> {
    if name.split('.').all(is_identifier) {
        Ok(())
    } else {
        Err(format!("`{name}` is not a dotted Python module name"))
    }
}

fn check_relative_file(root: &Path, rel: &str) -> Result<(), String> {
    let p = root.join(rel);
    if p.is_file() {
        Ok(())
    } else {
        Err(format!("file `{rel}` does not exist (looked at {})", p.display()))
    }
}

/// Detects the packages: `python-source` (or `src/` if it exists, else the
/// root), then every directory with `__init__.py` there (for src layouts) or
/// the package named like the project (flat layouts).
fn detect_layout(root: &Path, source_dir: &str, metadata: &Metadata, module_pkgs: &[String]) -> std::io::Result<Layout> {
    let dir = root.join(source_dir);
    let mut packages = Vec::new();
    let mut py_modules = Vec::new();
    let flat = source_dir.is_empty();
    let project_pkg = metadata.file_name();
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() && is_identifier(&name) && path.join("__init__.py").is_file() {
            if !flat || name == project_pkg || module_pkgs.contains(&name) {
                packages.push(name);
            }
        } else if !flat && path.is_file() {
            if let Some(stem) = name.strip_suffix(".py") {
                if is_identifier(stem) {
                    py_modules.push(stem.to_string());
                }
            }
        }
    }
    if flat && packages.is_empty() {
        // No package named like the project: every importable directory
        // except the usual non-package ones.
        const NOT_PACKAGES: &[&str] = &["tests", "test", "docs", "doc", "examples", "example", "bench", "benchmarks", "scripts", "tools", "fixtures", "build", "dist"];
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_identifier(&name) && !NOT_PACKAGES.contains(&name.as_str()) && entry.path().join("__init__.py").is_file() {
                packages.push(name);
            }
        }
    }
    packages.sort();
    py_modules.sort();
    Ok(Layout {
        source_dir: source_dir.to_string(),
        packages,
        py_modules,
    })
}

/// Finds `pkg/_x.cdef.txt` files under the source dir: module name → (cdef,
/// preamble file).
fn convention_modules(root: &Path, source_dir: &str) -> std::io::Result<BTreeMap<String, (String, Option<String>)>> {
    let dir = root.join(source_dir);
    let mut out = BTreeMap::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for rel in glob::walk_files(&dir)? {
        let Some(stem_path) = rel.strip_suffix(".cdef.txt") else {
            continue;
        };
        let parts: Vec<&str> = stem_path.split('/').collect();
        if !parts.iter().all(|p| is_identifier(p)) {
            continue;
        }
        // Only inside packages: every parent directory has __init__.py.
        let in_package = (1..parts.len()).all(|i| dir.join(parts[..i].join("/")).join("__init__.py").is_file());
        if parts.len() < 2 || !in_package {
            continue;
        }
        let prefix = if source_dir.is_empty() { String::new() } else { format!("{source_dir}/") };
        let csrc = format!("{stem_path}.csrc.c");
        let preamble = dir.join(&csrc).is_file().then(|| format!("{prefix}{csrc}"));
        out.insert(format!("{}_cffi", parts.join(".")), (format!("{prefix}{rel}"), preamble));
    }
    Ok(out)
}

fn str_list(t: &TableView, key: &str) -> Result<Vec<String>, ConfigError> {
    Ok(t.str_array(key)?.into_iter().map(|(s, _)| s.to_string()).collect())
}

fn module_from_table(
    t: &TableView,
    name: &str,
    root: &Path,
    conv: Option<&(String, Option<String>)>,
    source: &Source,
) -> Result<ModuleConfig, ConfigError> {
    t.deny_unknown(MODULE_KEYS)?;
    let (line, col) = source.line_col(t.node.span.start);
    let declared_at = format!("{}:{line}:{col}", source.path.display());
    let mode = match t.str("mode")? {
        None | Some(("api", _)) => Mode::Api,
        Some(("abi", _)) => Mode::Abi,
        Some((other, n)) => return Err(t.error_at(n, "mode", format!("`{other}` is not a mode (expected `api` or `abi`)"))),
    };
    let cdef = match (t.str("cdef")?, conv) {
        (Some((c, n)), _) => {
            check_relative_file(root, c).map_err(|e| t.error_at(n, "cdef", e))?;
            c.to_string()
        }
        (None, Some((c, _))) => c.clone(),
        (None, None) => return Err(t.error_at(t.node, "cdef", format!("module `{name}` needs `cdef` (a cdef file)"))),
    };
    let preamble = match (t.str("preamble")?, t.str("preamble-file")?) {
        (Some(_), Some((_, n))) => return Err(t.error_at(n, "preamble-file", "give `preamble` or `preamble-file`, not both")),
        (Some((p, _)), None) => Preamble::Inline(p.to_string()),
        (None, Some((f, n))) => {
            check_relative_file(root, f).map_err(|e| t.error_at(n, "preamble-file", e))?;
            Preamble::File(f.to_string())
        }
        (None, None) => match conv.and_then(|c| c.1.clone()) {
            Some(f) => Preamble::File(f),
            None => Preamble::None,
        },
    };
    let mut sources = Vec::new();
    for (s, n) in t.str_array("sources")? {
        check_relative_file(root, s).map_err(|e| t.error_at(n, "sources", e))?;
        sources.push(s.to_string());
    }
    let mut define_macros = Vec::new();
    if let Some(defs) = t.table("define-macros")? {
        for e in defs.entries {
            if !is_identifier(&e.key) {
                return Err(defs.source.error(&e.key_span, &defs.key_path(&e.key), format!("`{}` is not a macro name", e.key)));
            }
            let v = match &e.node.value {
                Value::Str(s) => Some(s.clone()),
                Value::Int(i) => Some(i.to_string()),
                Value::Bool(true) => None,
                other => {
                    return Err(defs.error_at(&e.node, &e.key, format!("expected a string, an integer or `true`, found {}", other.type_name())));
                }
            };
            define_macros.push((e.key.clone(), v));
        }
    }
    define_macros.sort();
    let libraries = str_list(t, "libraries")?;
    for (l, n) in t.str_array("libraries")? {
        if l.is_empty() || l.starts_with("-l") || l.contains('/') {
            return Err(t.error_at(n, "libraries", format!("`{l}` should be a bare library name (`z` for libz)")));
        }
    }
    let m = ModuleConfig {
        name: name.to_string(),
        mode,
        cdef,
        preamble,
        sources,
        libraries,
        include_dirs: str_list(t, "include-dirs")?,
        library_dirs: str_list(t, "library-dirs")?,
        define_macros,
        extra_compile_args: str_list(t, "extra-compile-args")?,
        extra_link_args: str_list(t, "extra-link-args")?,
        py_limited_api: t.bool("py-limited-api")?,
        declared_at,
    };
    if m.mode == Mode::Abi {
        for key in ["preamble", "preamble-file", "sources", "define-macros", "extra-compile-args", "extra-link-args", "include-dirs", "library-dirs", "libraries"] {
            if let Some(n) = t.get(key) {
                return Err(t.error_at(n, key, format!("module `{name}` is in ABI mode, which compiles nothing: `{key}` does not apply")));
            }
        }
    }
    Ok(m)
}

/// Reads `[tool.headerwheel]` (if any) and resolves it against the tree.
pub fn from_tool(t: Option<&TableView>, source: &Source, root: &Path, metadata: &Metadata) -> Result<Settings, ConfigError> {
    let io = |e: std::io::Error| ConfigError::Io { path: root.to_path_buf(), source: e };
    let empty_node = Node { span: 0..0, value: Value::Table(Vec::new()) };
    let empty = TableView::new(source, "tool.headerwheel", &empty_node)?;
    let t = t.unwrap_or(&empty);
    t.deny_unknown(TOOL_KEYS)?;

    let source_dir = match t.str("python-source")? {
        Some((d, n)) => {
            let d = d.trim_end_matches('/');
            if !root.join(d).is_dir() {
                return Err(t.error_at(n, "python-source", format!("directory `{d}` does not exist")));
            }
            if d == "." { String::new() } else { d.to_string() }
        }
        None if root.join("src").is_dir() => "src".to_string(),
        None => String::new(),
    };

    let conv = if t.bool("convention")?.unwrap_or(true) {
        convention_modules(root, &source_dir).map_err(io)?
    } else {
        BTreeMap::new()
    };
    let mut modules: BTreeMap<String, ModuleConfig> = BTreeMap::new();
    if let Some(mods) = t.table("modules")? {
        for e in mods.entries {
            check_module_name(&e.key).map_err(|m| mods.source.error(&e.key_span, &mods.key_path(&e.key), m))?;
            let mt = TableView::new(source, &mods.key_path(&e.key), &e.node)?;
            let m = module_from_table(&mt, &e.key, root, conv.get(&e.key), source)?;
            modules.insert(e.key.clone(), m);
        }
    }
    for (name, (cdef, preamble)) in &conv {
        modules.entry(name.clone()).or_insert_with(|| ModuleConfig {
            name: name.clone(),
            mode: Mode::Api,
            cdef: cdef.clone(),
            preamble: preamble.clone().map_or(Preamble::None, Preamble::File),
            sources: Vec::new(),
            libraries: Vec::new(),
            include_dirs: Vec::new(),
            library_dirs: Vec::new(),
            define_macros: Vec::new(),
            extra_compile_args: Vec::new(),
            extra_link_args: Vec::new(),
            py_limited_api: None,
            declared_at: format!("convention: {cdef}"),
        });
    }
    let module_pkgs: Vec<String> = modules
        .keys()
        .filter_map(|m| m.split_once('.').map(|(p, _)| p.to_string()))
        .collect();

    let mut layout = detect_layout(root, &source_dir, metadata, &module_pkgs).map_err(io)?;
    let explicit = t.str_array("packages")?;
    if !explicit.is_empty() {
        let mut pkgs = Vec::new();
        for (p, n) in explicit {
            let dir = root.join(&source_dir).join(p);
            if !is_identifier(p) || !dir.join("__init__.py").is_file() {
                return Err(t.error_at(n, "packages", format!("`{p}` is not a package directory with __init__.py in `{}`", if source_dir.is_empty() { "." } else { &source_dir })));
            }
            pkgs.push(p.to_string());
        }
        pkgs.sort();
        pkgs.dedup();
        layout.packages = pkgs;
    }
    if layout.packages.is_empty() && layout.py_modules.is_empty() && modules.is_empty() {
        let shown = if source_dir.is_empty() { ".".to_string() } else { source_dir.clone() };
        return Err(t.error_at(
            t.get("packages").unwrap_or(t.node),
            "packages",
            format!("no Python package (a directory with __init__.py) found in `{shown}`; list them in tool.headerwheel.packages"),
        ));
    }
    // Every module must land inside a shipped package (or at the top level).
    for m in modules.values() {
        if let Some((top, _)) = m.name.split_once('.') {
            if !layout.packages.iter().any(|p| p == top) {
                let where_ = t.get("modules").map_or(t.node, |n| n);
                return Err(t.error_at(
                    where_,
                    "modules",
                    format!("module `{}` ({}) is in package `{top}`, which is not a package of this project (found: {})", m.name, m.declared_at, if layout.packages.is_empty() { "none".to_string() } else { layout.packages.join(", ") }),
                ));
            }
        }
    }

    let sdist = match t.table("sdist")? {
        Some(s) => {
            s.deny_unknown(&["include", "exclude"])?;
            for key in ["include", "exclude"] {
                for (g, n) in s.str_array(key)? {
                    glob::glob_regex(g).map_err(|e| s.error_at(n, key, e))?;
                }
            }
            SdistConfig { include: str_list(&s, "include")?, exclude: str_list(&s, "exclude")? }
        }
        None => SdistConfig::default(),
    };

    Ok(Settings {
        layout,
        modules: modules.into_values().collect(),
        abi3: t.bool("abi3")?.unwrap_or(true),
        sdist,
    })
}
