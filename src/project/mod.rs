//! Project configuration: `pyproject.toml` (`[project]`, `[tool.headerwheel]`,
//! `[tool.headerkit]`), validated with located errors.
//!
//! `[tool.headerwheel]` declares the extension modules; without it, the
//! convention of headerkit's CFFI build integration applies: every
//! `pkg/_x.cdef.txt` beside a `pkg/_x.csrc.c` becomes the module `pkg._x_cffi`.
//!
//! ```toml
//! [tool.headerwheel]
//! limited-api = true          # abi3 wheels (default)
//! bundle-libs = false         # copy external shared libraries into the wheel
//!
//! [tool.headerwheel.modules."zlib_cffi._zlib"]
//! cdef = "src/zlib_cffi/_zlib.cdef.txt"
//! preamble = "src/zlib_cffi/_zlib.csrc.c"   # or preamble-code = "#include <zlib.h>"
//! libraries = ["z"]
//! ```

pub mod headerkit;
pub mod metadata;
pub mod paths;
pub mod pkgconfig;
mod spdx_ids;
pub mod toml;
pub mod version;

use std::path::{Path, PathBuf};

pub use metadata::Metadata;
pub use paths::{Expect, PathError, ProjectDir};
pub use toml::{ConfigError, Node, TomlFile};

/// Where a module's cdef comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CdefSource {
    /// A cdef file, relative to the project root.
    File(PathBuf),
    /// Inline cdef text.
    Code(String),
    /// Generated from the headers of `[tool.headerkit]` (its `output.cffi`
    /// path names the module's cdef).
    Headers(PathBuf),
}

/// Where a module's preamble (the C source given to `set_source`) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preamble {
    /// A file, relative to the project root.
    File(PathBuf),
    /// Inline C code.
    Code(String),
}

/// API mode (compiled C extension) or ABI mode (generated `.py`, `dlopen`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `set_source(name, preamble)`: a compiled module.
    Api,
    /// `set_source(name, None)`: a Python module using `ffi.dlopen()`.
    Abi,
}

impl Mode {
    /// The stable name cache keys use (`Api`, `Abi`: the spelling keys of
    /// committed stores were made with, so they keep matching).
    pub fn key_name(self) -> &'static str {
        match self {
            Mode::Api => "Api",
            Mode::Abi => "Abi",
        }
    }
}

/// One extension module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleConfig {
    /// The import name (`pkg._x_cffi`).
    pub name: String,
    /// The cdef.
    pub cdef: CdefSource,
    /// The preamble (API mode).
    pub preamble: Option<Preamble>,
    /// The mode.
    pub mode: Mode,
    /// Libraries to link (`-l`).
    pub libraries: Vec<String>,
    /// Include directories (relative to the root, or absolute).
    pub include_dirs: Vec<PathBuf>,
    /// Library directories.
    pub library_dirs: Vec<PathBuf>,
    /// Macros (`-DNAME=VALUE`).
    pub define_macros: Vec<(String, Option<String>)>,
    /// Extra C sources compiled into the module.
    pub sources: Vec<PathBuf>,
    /// Extra compiler arguments.
    pub extra_compile_args: Vec<String>,
    /// Extra linker arguments.
    pub extra_link_args: Vec<String>,
    /// For a module built from headers: keep only these functions and
    /// variables (and the types they need), wherever they are declared.
    pub symbols: Vec<String>,
    /// The key where it was declared (for messages), or the convention files.
    pub declared_at: String,
}

impl ModuleConfig {
    /// Adds pkg-config's flags after the module's own (each once).
    fn add_pkg_flags(&mut self, f: &pkgconfig::PkgFlags) {
        let mut own = pkgconfig::PkgFlags {
            include_dirs: std::mem::take(&mut self.include_dirs),
            define_macros: std::mem::take(&mut self.define_macros),
            extra_compile_args: std::mem::take(&mut self.extra_compile_args),
            library_dirs: std::mem::take(&mut self.library_dirs),
            libraries: std::mem::take(&mut self.libraries),
            extra_link_args: std::mem::take(&mut self.extra_link_args),
        };
        own.merge(f);
        self.include_dirs = own.include_dirs;
        self.define_macros = own.define_macros;
        self.extra_compile_args = own.extra_compile_args;
        self.library_dirs = own.library_dirs;
        self.libraries = own.libraries;
        self.extra_link_args = own.extra_link_args;
    }
}

/// A top-level Python package (or module) shipped in the wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonPackage {
    /// Import name.
    pub name: String,
    /// Its directory (or `.py` file), relative to the root.
    pub path: PathBuf,
}

/// A plain shared library built into the wheel (for ABI-mode modules that
/// `dlopen` it): `[tool.headerwheel.shared-libraries."pkg/libx.so"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLibrary {
    /// Its path inside the wheel (`pkg/libx.so`).
    pub wheel_path: String,
    /// C sources.
    pub sources: Vec<PathBuf>,
    /// Include directories.
    pub include_dirs: Vec<PathBuf>,
    /// Macros.
    pub define_macros: Vec<(String, Option<String>)>,
    /// Libraries to link.
    pub libraries: Vec<String>,
}

/// `[tool.headerwheel]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolConfig {
    /// The directory holding the packages (`src` or the root).
    pub package_dir: PathBuf,
    /// The packages.
    pub packages: Vec<PythonPackage>,
    /// The extension modules, sorted by name.
    pub modules: Vec<ModuleConfig>,
    /// Build API-mode modules for the limited API (abi3).
    pub limited_api: bool,
    /// Copy external shared libraries into the wheel.
    pub bundle_libs: bool,
    /// Put a `<module>.pyi` beside every CFFI module (`stubs`, default true).
    pub stubs: bool,
    /// Add `py.typed` to the packages holding them (`typed`, default true).
    pub typed: bool,
    /// Plain shared libraries built into the wheel.
    pub shared_libraries: Vec<SharedLibrary>,
    /// Extra sdist include globs.
    pub sdist_include: Vec<String>,
    /// sdist exclude globs.
    pub sdist_exclude: Vec<String>,
}

/// A loaded project.
#[derive(Debug)]
pub struct Project {
    /// The project directory.
    pub root: PathBuf,
    /// The resolver of every path the project names.
    pub paths: ProjectDir,
    /// `pyproject.toml`.
    pub pyproject: TomlFile,
    /// `[project]`.
    pub metadata: Metadata,
    /// `[tool.headerwheel]`.
    pub tool: ToolConfig,
    /// `[tool.headerkit]`, if present.
    pub headerkit: Option<headerkit::HeaderkitConfig>,
}

const TOOL_KEYS: &[&str] = &[
    "package-dir",
    "python-packages",
    "limited-api",
    "bundle-libs",
    "stubs",
    "typed",
    "modules",
    "shared-libraries",
    "sdist",
    "version",
    "pkg-config",
];
const MODULE_KEYS: &[&str] = &[
    "cdef",
    "cdef-code",
    "preamble",
    "preamble-code",
    "mode",
    "libraries",
    "include-dirs",
    "library-dirs",
    "define-macros",
    "sources",
    "extra-compile-args",
    "extra-link-args",
    "symbols",
    "pkg-config",
];

impl Project {
    /// Loads `root/pyproject.toml`.
    pub fn load(root: &Path) -> Result<Project, ConfigError> {
        let dir = ProjectDir::new(root);
        let pyproject = TomlFile::read(&root.join("pyproject.toml"), Path::new("pyproject.toml"))?;
        let doc = pyproject.root();
        doc.only_keys(&["build-system", "project", "tool", "dependency-groups"])?;
        let project = doc.get("project")?.ok_or_else(|| {
            pyproject.error(
                None,
                "project",
                "the [project] table is missing (headerwheel reads the PEP 621 metadata)",
            )
        })?;
        let tool_node = match doc.get("tool")? {
            Some(t) => t.get("headerwheel")?,
            None => None,
        };
        let tool_version = match &tool_node {
            Some(t) => t.get("version")?,
            None => None,
        };
        let metadata = Metadata::from_project(&project, &dir, tool_version.as_ref())?;
        for w in &metadata.warnings {
            eprintln!("headerwheel: warning: {w}");
        }
        let hk_node = match doc.get("tool")? {
            Some(t) => t.get("headerkit")?,
            None => None,
        };
        let headerkit = hk_node
            .map(|n| headerkit::HeaderkitConfig::from_node(&n, &dir, &|v| std::env::var(v).ok()))
            .transpose()?;
        let output = headerkit.as_ref().and_then(|h| h.output_cffi.clone());
        let tool = read_tool(
            &pyproject,
            tool_node.as_ref(),
            &dir,
            &metadata,
            output.as_deref(),
        )?;
        if tool.packages.is_empty() && tool.modules.is_empty() {
            let dir = if tool.package_dir.as_os_str().is_empty() {
                ".".to_string()
            } else {
                tool.package_dir.display().to_string()
            };
            let at = project.get("name")?.unwrap_or_else(|| project.clone());
            let candidates = package_candidates(root, &tool.package_dir);
            let others = if candidates.is_empty() {
                "and no other package directory was found".to_string()
            } else {
                format!(
                    "and there are several other packages ({})",
                    candidates.join(", ")
                )
            };
            return Err(at.error(format!(
                "no Python package to ship: neither '{0}/' (with __init__.py) nor '{0}.py' is in '{dir}', {others}; \
                 list the import packages in [tool.headerwheel] python-packages",
                metadata::filename_name(&metadata.name)
            )));
        }
        Ok(Project {
            root: root.to_path_buf(),
            paths: dir,
            pyproject,
            metadata,
            tool,
            headerkit,
        })
    }
}

/// A path naming something the project owns (a cdef, a preamble, a
/// source, a package): inside the project (see [`paths`]), of the expected
/// kind; `what` names it in messages (`the cdef file 'x' does not exist`).
fn inside_project(
    dir: &ProjectDir,
    p: &str,
    n: &Node<'_>,
    expect: Expect,
    what: &str,
) -> Result<PathBuf, ConfigError> {
    dir.resolve(p, expect).map_err(|e| {
        n.error(match e {
            PathError::Missing(p) => format!("the {what} '{p}' does not exist"),
            PathError::WrongKind { path, kind, .. } => {
                let want = if expect == Expect::Dir {
                    "a directory"
                } else {
                    "a regular file"
                };
                format!("the {what} '{path}' is {kind}, not {want}")
            }
            e => e.to_string(),
        })
    })
}

/// Include or library directories: absolute (the system's), or inside the
/// project (see [`ProjectDir::search_dir`]).
fn search_dirs(node: Option<Node<'_>>, dir: &ProjectDir) -> Result<Vec<PathBuf>, ConfigError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    node.str_array()?
        .into_iter()
        .map(|(s, n)| dir.search_dir(&s).map_err(|e| n.error(e.to_string())))
        .collect()
}

/// `sources = [...]`: paths relative to the root, each an existing file.
fn source_files(node: Option<Node<'_>>, dir: &ProjectDir) -> Result<Vec<PathBuf>, ConfigError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    node.str_array()?
        .into_iter()
        .map(|(p, n)| inside_project(dir, &p, &n, Expect::File, "source file"))
        .collect()
}

fn strings(node: Option<Node<'_>>) -> Result<Vec<String>, ConfigError> {
    Ok(match node {
        Some(n) => n.str_array()?.into_iter().map(|(s, _)| s).collect(),
        None => Vec::new(),
    })
}

/// Python's hard keywords: a name made of one cannot be imported
/// (`import pkg.class` is a syntax error). Soft keywords (`match`, `type`)
/// are identifiers.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// The longest dotted module name: it names the module's files (the emitted
/// C, the object, the module itself) and its `PyInit_` function, and file
/// names stop at 255 bytes.
const MAX_IMPORT_NAME: usize = 200;

fn valid_module_name(name: &str) -> bool {
    check_import_name(name, "module").is_ok()
}

/// Whether `name` is a dotted name Python can import: ASCII identifiers
/// (what C symbols and file names can carry), no keyword, no `__init__`
/// (the package itself), not too long. `what` names it in the message.
fn check_import_name(name: &str, what: &str) -> Result<(), String> {
    let identifier = |p: &str| {
        p.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if name.is_empty() || !name.split('.').all(identifier) {
        return Err(format!(
            "'{name}' is not a valid {what} import name (dotted identifiers of ASCII letters, digits and '_', not starting with a digit)"
        ));
    }
    if let Some(k) = name.split('.').find(|p| KEYWORDS.contains(p)) {
        return Err(format!(
            "'{name}' cannot be imported: '{k}' is a Python keyword"
        ));
    }
    if name.split('.').any(|p| p == "__init__") {
        return Err(format!(
            "'{name}' cannot be a {what}: '__init__' is the package's own module (its __init__.py)"
        ));
    }
    if name.len() > MAX_IMPORT_NAME {
        return Err(format!(
            "'{}...' is {} characters long: a {what} name is at most {MAX_IMPORT_NAME} (it names the module's files and its init function)",
            &name[..40],
            name.len()
        ));
    }
    Ok(())
}

/// Where a shared library may go in the wheel: a normalised relative path
/// (no `.`, `..`, empty part or backslash), ending in `.so` (or a versioned
/// `.so.N`), outside the `.dist-info`/`.data` directories installers own.
fn check_wheel_destination(path: &str) -> Result<(), String> {
    let normal = !path.is_empty()
        && !path.contains('\\')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
    let file = path.rsplit('/').next().unwrap_or(path);
    if !normal || !(file.ends_with(".so") || file.contains(".so.")) {
        return Err(format!(
            "'{path}' must be a relative path inside the wheel ending in .so (like 'pkg/libx.so')"
        ));
    }
    let first = path.split('/').next().unwrap_or(path);
    if first.ends_with(".dist-info") || first.ends_with(".data") {
        return Err(format!(
            "'{path}' is inside '{first}', which installers own: put the library in a package directory (like 'pkg/libx.so')"
        ));
    }
    Ok(())
}

fn collision_message(module: &str, clash: &Path) -> String {
    format!(
        "the module '{module}' would replace or shadow the project's own '{}': rename the module or that file",
        clash.display()
    )
}

/// A module's files go where the package's own would be (`pkg/_x.py`
/// beside the module `pkg._x`, or a subpackage `pkg/_x/`): the module would
/// silently replace or shadow them. Returns the clashing project path. An
/// ABI-mode module an editable install placed there earlier (CFFI's
/// `# auto-generated file` first lines) is ours, not the package's.
fn module_collision(root: &Path, package_dir: &Path, module: &str) -> Option<PathBuf> {
    let stem = package_dir.join(module.replace('.', "/"));
    let py = stem.with_file_name(format!("{}.py", stem.file_name()?.to_string_lossy()));
    let generated = |p: &Path| {
        crate::untrusted::read_regular(&root.join(p), 1 << 20, crate::untrusted::Links::Refuse)
            .is_ok_and(|b| b.starts_with(b"# auto-generated file\nimport _cffi_backend\n"))
    };
    [py, stem]
        .into_iter()
        .find(|p| std::fs::symlink_metadata(root.join(p)).is_ok() && !generated(p))
}

fn read_tool(
    file: &TomlFile,
    node: Option<&Node<'_>>,
    dir: &ProjectDir,
    metadata: &Metadata,
    headers_output: Option<&Path>,
) -> Result<ToolConfig, ConfigError> {
    let root = dir.root();
    if let Some(n) = node {
        n.only_keys(TOOL_KEYS)?;
    }
    let get = |k: &str| -> Result<Option<Node<'_>>, ConfigError> {
        match node {
            Some(n) => n.get(k),
            None => Ok(None),
        }
    };
    let limited_api = get("limited-api")?
        .map(|n| n.bool())
        .transpose()?
        .unwrap_or(true);
    let bundle_libs = get("bundle-libs")?
        .map(|n| n.bool())
        .transpose()?
        .unwrap_or(false);
    let stubs = get("stubs")?.map(|n| n.bool()).transpose()?.unwrap_or(true);
    let typed = get("typed")?.map(|n| n.bool()).transpose()?.unwrap_or(true);
    let (sdist_include, sdist_exclude) = match get("sdist")? {
        Some(s) => {
            s.only_keys(&["include", "exclude"])?;
            (strings(s.get("include")?)?, strings(s.get("exclude")?)?)
        }
        None => (Vec::new(), Vec::new()),
    };
    // Packages.
    let import_name = metadata::filename_name(&metadata.name);
    let package_dir = match get("package-dir")? {
        // `.` (or `./`) is the root: no `./pkg` beside `pkg` in the wheel.
        Some(n) => inside_project(dir, n.str()?, &n, Expect::Dir, "package directory")?
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect(),
        None => default_package_dir(root, &import_name),
    };
    let mut packages = Vec::new();
    if let Some(n) = get("python-packages")? {
        for (p, pn) in n.str_array()? {
            if p.contains('.') {
                return Err(pn.error(format!("'{p}' is not a top-level package name")));
            }
            check_import_name(&p, "package").map_err(|e| pn.error(e))?;
            let pkg_dir = package_dir.join(&p);
            let file = package_dir.join(format!("{p}.py"));
            let path = if root.join(&pkg_dir).is_dir() {
                pkg_dir
            } else if root.join(&file).is_file() {
                file
            } else {
                return Err(pn.error(format!(
                    "neither '{}' nor '{}' exists",
                    pkg_dir.display(),
                    file.display()
                )));
            };
            let shown = path.to_string_lossy().to_string();
            dir.check(&shown, &path, Expect::Any)
                .map_err(|e| pn.error(e.to_string()))?;
            packages.push(PythonPackage { name: p, path });
        }
    } else {
        packages = discover_packages(root, &package_dir, &import_name);
    }
    // `pkg-config = [...]`: every package's flags, each asked once, an
    // unknown one an error at its name.
    let mut pkg_memo: std::collections::HashMap<String, pkgconfig::PkgFlags> =
        std::collections::HashMap::new();
    let mut pkg_flags = |node: Option<Node<'_>>| -> Result<pkgconfig::PkgFlags, ConfigError> {
        let mut all = pkgconfig::PkgFlags::default();
        let Some(node) = node else {
            return Ok(all);
        };
        for (name, n) in node.str_array()? {
            if !pkg_memo.contains_key(&name) {
                let f = pkgconfig::query(&name).map_err(|e| n.error(e))?;
                pkg_memo.insert(name.clone(), f);
            }
            all.merge(&pkg_memo[&name]);
        }
        Ok(all)
    };
    let global_pkg = pkg_flags(get("pkg-config")?)?;
    // Modules declared in the table.
    let mut modules: Vec<ModuleConfig> = Vec::new();
    if let Some(mods) = get("modules")? {
        for (name, m) in mods.table()? {
            check_import_name(&name, "module").map_err(|e| m.error(e))?;
            if let Some(clash) = module_collision(root, &package_dir, &name) {
                return Err(m.error(collision_message(&name, &clash)));
            }
            m.only_keys(MODULE_KEYS)?;
            let mode = match m.get("mode")? {
                None => Mode::Api,
                Some(n) => match n.str()? {
                    "api" => Mode::Api,
                    "abi" => Mode::Abi,
                    other => {
                        return Err(
                            n.error(format!("'{other}' is not a mode: use \"api\" or \"abi\""))
                        );
                    }
                },
            };
            let convention = convention_files(&package_dir, &name);
            let cdef = match (m.get("cdef")?, m.get("cdef-code")?) {
                (Some(_), Some(c)) => return Err(c.error("give 'cdef' or 'cdef-code', not both")),
                (Some(f), None) => {
                    let p = inside_project(dir, f.str()?, &f, Expect::Any, "cdef file")?;
                    if Some(p.as_path()) == headers_output {
                        CdefSource::Headers(p)
                    } else {
                        let shown = p.to_string_lossy().to_string();
                        inside_project(dir, &shown, &f, Expect::File, "cdef file")?;
                        CdefSource::File(p)
                    }
                }
                (None, Some(c)) => CdefSource::Code(c.str()?.to_string()),
                (None, None) => match &convention {
                    Some((c, _)) if Some(c.as_path()) == headers_output => {
                        CdefSource::Headers(c.clone())
                    }
                    Some((c, _)) if root.join(c).is_file() => CdefSource::File(c.clone()),
                    _ => {
                        let hint = convention
                            .map(|(c, _)| format!(" (or create '{}')", c.display()))
                            .unwrap_or_default();
                        return Err(
                            m.error(format!("module '{name}' needs 'cdef' or 'cdef-code'{hint}"))
                        );
                    }
                },
            };
            let preamble = match (m.get("preamble")?, m.get("preamble-code")?) {
                (Some(_), Some(c)) => {
                    return Err(c.error("give 'preamble' or 'preamble-code', not both"));
                }
                (Some(f), None) => Some(Preamble::File(inside_project(
                    dir,
                    f.str()?,
                    &f,
                    Expect::File,
                    "preamble file",
                )?)),
                (None, Some(c)) => Some(Preamble::Code(c.str()?.to_string())),
                (None, None) => match &convention {
                    Some((_, s)) if root.join(s).is_file() => Some(Preamble::File(s.clone())),
                    _ => None,
                },
            };
            if mode == Mode::Api && preamble.is_none() {
                return Err(m.error(format!(
                    "API-mode module '{name}' needs 'preamble' or 'preamble-code' (the C code that declares what the cdef names, e.g. '#include <zlib.h>')"
                )));
            }
            if mode == Mode::Abi
                && preamble.is_some()
                && (m.get("preamble")?.is_some() || m.get("preamble-code")?.is_some())
            {
                return Err(m.error("an ABI-mode module has no preamble (nothing is compiled)"));
            }
            let mut define_macros = Vec::new();
            if let Some(d) = m.get("define-macros")? {
                for (k, v) in d.table()? {
                    let val = match v.str() {
                        Ok(s) => Some(s.to_string()),
                        Err(_) => {
                            if v.bool()? {
                                None
                            } else {
                                continue;
                            }
                        }
                    };
                    define_macros.push((k, val));
                }
            }
            let sources = source_files(m.get("sources")?, dir)?;
            let own_pkg = pkg_flags(m.get("pkg-config")?)?;
            modules.push(ModuleConfig {
                name: name.clone(),
                cdef,
                preamble: if mode == Mode::Abi { None } else { preamble },
                mode,
                libraries: strings(m.get("libraries")?)?,
                include_dirs: search_dirs(m.get("include-dirs")?, dir)?,
                library_dirs: search_dirs(m.get("library-dirs")?, dir)?,
                define_macros,
                sources,
                extra_compile_args: strings(m.get("extra-compile-args")?)?,
                extra_link_args: strings(m.get("extra-link-args")?)?,
                symbols: strings(m.get("symbols")?)?,
                declared_at: m.key.clone(),
            });
            if let Some(last) = modules.last_mut() {
                last.add_pkg_flags(&own_pkg);
            }
        }
    }
    // The convention: pkg/_x.cdef.txt + pkg/_x.csrc.c → pkg._x_cffi; the
    // cdef may be the output of [tool.headerkit].
    for pkg in &packages {
        let mut found = find_convention_modules(root, &package_dir, &pkg.path);
        if let Some(out) = headers_output
            && let Some(stem) = out.to_str().and_then(|s| s.strip_suffix(".cdef.txt"))
        {
            let csrc = PathBuf::from(format!("{stem}.csrc.c"));
            if root.join(&csrc).is_file()
                && out.starts_with(&pkg.path)
                && !found.iter().any(|f| f.0 == out)
            {
                let rel = PathBuf::from(stem);
                let rel = rel
                    .strip_prefix(&package_dir)
                    .unwrap_or(&rel)
                    .to_string_lossy()
                    .replace(['/', '\\'], ".");
                found.push((out.to_path_buf(), csrc, format!("{rel}_cffi")));
            }
        }
        for (cdef, csrc, name) in found {
            let cdef_source = if Some(cdef.as_path()) == headers_output {
                CdefSource::Headers(cdef.clone())
            } else {
                CdefSource::File(cdef.clone())
            };
            let claimed = modules.iter().any(|m| {
                m.name == name
                    || m.cdef == CdefSource::File(cdef.clone())
                    || m.cdef == CdefSource::Headers(cdef.clone())
            });
            if !claimed {
                modules.push(ModuleConfig {
                    name,
                    cdef: cdef_source,
                    preamble: Some(Preamble::File(csrc)),
                    mode: Mode::Api,
                    libraries: Vec::new(),
                    include_dirs: Vec::new(),
                    library_dirs: Vec::new(),
                    define_macros: Vec::new(),
                    sources: Vec::new(),
                    extra_compile_args: Vec::new(),
                    extra_link_args: Vec::new(),
                    symbols: Vec::new(),
                    declared_at: cdef.display().to_string(),
                });
            }
        }
    }
    modules.sort_by(|a, b| a.name.cmp(&b.name));
    for m in &mut modules {
        m.add_pkg_flags(&global_pkg);
    }
    for m in &modules {
        // Modules of the convention (a table's were checked at their key).
        if let Some(clash) = module_collision(root, &package_dir, &m.name) {
            return Err(file.error(None, &m.declared_at, collision_message(&m.name, &clash)));
        }
    }
    let mut shared_libraries = Vec::new();
    if let Some(libs) = get("shared-libraries")? {
        for (path, l) in libs.table()? {
            l.only_keys(&["sources", "include-dirs", "define-macros", "libraries"])?;
            check_wheel_destination(&path).map_err(|e| l.error(e))?;
            let sources = source_files(l.get("sources")?, dir)?;
            if sources.is_empty() {
                return Err(l.error("a shared library needs 'sources'"));
            }
            let mut define_macros = Vec::new();
            if let Some(d) = l.get("define-macros")? {
                for (k, v) in d.table()? {
                    define_macros.push((k, Some(v.str()?.to_string())));
                }
            }
            shared_libraries.push(SharedLibrary {
                wheel_path: path,
                sources,
                include_dirs: search_dirs(l.get("include-dirs")?, dir)?,
                define_macros,
                libraries: strings(l.get("libraries")?)?,
            });
        }
    }
    // A module inside a package when no package is shipped: the wheel would
    // hold `pkg/_x.so` and no `pkg/__init__.py` (the package is not where
    // headerwheel looks for it).
    if packages.is_empty()
        && let Some(m) = modules.iter().find(|m| m.name.contains('.'))
    {
        let top = m.name.split('.').next().unwrap_or("");
        let at = match get("modules")? {
            Some(mods) => mods.get(&m.name)?.unwrap_or(mods),
            None => match node {
                Some(n) => n.clone(),
                None => file.root(),
            },
        };
        let shown = if package_dir.as_os_str().is_empty() {
            ".".to_string()
        } else {
            package_dir.display().to_string()
        };
        return Err(at.error(format!(
            "the module '{}' is in the package '{top}', but no Python package is shipped: '{top}/' is not in the package directory '{shown}' (set [tool.headerwheel] package-dir or python-packages)",
            m.name
        )));
    }
    Ok(ToolConfig {
        shared_libraries,
        package_dir,
        packages,
        modules,
        limited_api,
        bundle_libs,
        stubs,
        typed,
        sdist_include,
        sdist_exclude,
    })
}

/// Directories that are not the project's packages in a flat layout.
const NOT_PACKAGES: &[&str] = &[
    "bench",
    "benchmarks",
    "build",
    "dist",
    "doc",
    "docs",
    "example",
    "examples",
    "fixtures",
    "scripts",
    "test",
    "testing",
    "tests",
    "tools",
];

/// The package directories in `package_dir` (sorted), leaving out the usual
/// non-package ones in a flat layout (tests, docs, ...).
fn package_candidates(root: &Path, package_dir: &Path) -> Vec<String> {
    let src_layout = !package_dir.as_os_str().is_empty();
    let Ok(entries) = std::fs::read_dir(root.join(package_dir)) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().join("__init__.py").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| {
            valid_module_name(n)
                && !n.contains('.')
                && (src_layout || !NOT_PACKAGES.contains(&n.as_str()))
        })
        .collect();
    found.sort();
    found
}

/// Where the packages are when `package-dir` is not given, as setuptools
/// finds them: the root when the package named like the project is there
/// (flat layout), else `src` when it holds a Python package or module (a
/// `src/` of C files only is no src layout), else the root.
fn default_package_dir(root: &Path, import_name: &str) -> PathBuf {
    // A directory named like the project is a package only with its
    // __init__.py (`brotli/` may be the C library beside `src/brotli/`).
    if root.join(import_name).join("__init__.py").is_file()
        || root.join(format!("{import_name}.py")).is_file()
    {
        return PathBuf::new();
    }
    let src = Path::new("src");
    let python_in_src = std::fs::read_dir(root.join(src)).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let path = e.path();
            (path.join("__init__.py").is_file() && valid_module_name(&name))
                || name
                    .strip_suffix(".py")
                    .is_some_and(|stem| path.is_file() && valid_module_name(stem))
        })
    });
    if python_in_src {
        src.to_path_buf()
    } else {
        PathBuf::new()
    }
}

/// The packages shipped when `python-packages` is not given: the package (or
/// module) named like the project; otherwise, in a src layout, every package
/// and `.py` module there (what a src layout is for), and in a flat layout
/// the only package directory there is (with several, the user must choose:
/// see the error in [`Project::load`]).
fn discover_packages(root: &Path, package_dir: &Path, import_name: &str) -> Vec<PythonPackage> {
    let named_dir = package_dir.join(import_name);
    let named_file = package_dir.join(format!("{import_name}.py"));
    if root.join(&named_dir).is_dir() {
        return vec![PythonPackage {
            name: import_name.to_string(),
            path: named_dir,
        }];
    }
    if root.join(&named_file).is_file() {
        return vec![PythonPackage {
            name: import_name.to_string(),
            path: named_file,
        }];
    }
    let candidates = package_candidates(root, package_dir);
    let mut found: Vec<PythonPackage> = Vec::new();
    if !package_dir.as_os_str().is_empty() {
        found.extend(candidates.into_iter().map(|name| PythonPackage {
            path: package_dir.join(&name),
            name,
        }));
        if let Ok(entries) = std::fs::read_dir(root.join(package_dir)) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if let Some(stem) = name.strip_suffix(".py")
                    && e.path().is_file()
                    && valid_module_name(stem)
                    && !stem.contains('.')
                {
                    found.push(PythonPackage {
                        name: stem.to_string(),
                        path: package_dir.join(&name),
                    });
                }
            }
        }
    } else if candidates.len() == 1 {
        let name = candidates[0].clone();
        found.push(PythonPackage {
            path: package_dir.join(&name),
            name,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// The convention files of module `pkg.sub._x_cffi`: `pkg/sub/_x.cdef.txt`
/// and `pkg/sub/_x.csrc.c` under `package_dir`.
fn convention_files(package_dir: &Path, module: &str) -> Option<(PathBuf, PathBuf)> {
    let (parent, last) = module.rsplit_once('.')?;
    let stem = last.strip_suffix("_cffi")?;
    let dir = package_dir.join(parent.replace('.', "/"));
    Some((
        dir.join(format!("{stem}.cdef.txt")),
        dir.join(format!("{stem}.csrc.c")),
    ))
}

/// Every `X.cdef.txt` with a sibling `X.csrc.c` inside the package at
/// `pkg_path`, as (cdef, csrc, module name).
fn find_convention_modules(
    root: &Path,
    package_dir: &Path,
    pkg_path: &Path,
) -> Vec<(PathBuf, PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![pkg_path.to_path_buf()];
    while let Some(rel) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(root.join(&rel)) else {
            continue;
        };
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().to_string();
            let child = rel.join(&name);
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                if name != "__pycache__" && !name.starts_with('.') {
                    stack.push(child);
                }
            } else if let Some(stem) = name.strip_suffix(".cdef.txt") {
                let csrc = rel.join(format!("{stem}.csrc.c"));
                if root.join(&csrc).is_file() {
                    let pkg_mod = rel
                        .strip_prefix(package_dir)
                        .unwrap_or(&rel)
                        .to_string_lossy()
                        .replace(['/', '\\'], ".");
                    out.push((child, csrc, format!("{pkg_mod}.{stem}_cffi")));
                }
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod package_discovery_tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    const PYPROJECT: &str = "[project]\nname = \"hw-pure\"\nversion = \"1.0\"\n";

    fn names(p: &Project) -> Vec<&str> {
        p.tool.packages.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn a_src_of_c_files_is_no_src_layout() {
        let d = tree(&[
            ("pyproject.toml", PYPROJECT),
            ("hw_pure/__init__.py", ""),
            ("src/hw.c", ""),
            ("src/hw.h", ""),
        ]);
        let p = Project::load(d.path()).unwrap();
        assert_eq!(p.tool.package_dir, PathBuf::new());
        assert_eq!(names(&p), ["hw_pure"]);
        // With another name at the root, still not src.
        let d = tree(&[
            ("pyproject.toml", PYPROJECT),
            ("hwpure/__init__.py", ""),
            ("src/hw.c", ""),
        ]);
        let p = Project::load(d.path()).unwrap();
        assert_eq!(p.tool.packages[0].path, PathBuf::from("hwpure"));
        // A C library named like the project beside a src layout.
        let d = tree(&[
            ("pyproject.toml", PYPROJECT),
            ("hw_pure/hw.c", ""),
            ("src/hw_pure/__init__.py", ""),
        ]);
        let p = Project::load(d.path()).unwrap();
        assert_eq!(p.tool.packages[0].path, PathBuf::from("src/hw_pure"));
    }

    #[test]
    fn a_module_of_a_package_that_is_not_shipped_is_an_error() {
        let d = tree(&[
            (
                "pyproject.toml",
                "[project]\nname = \"hw-pure\"\nversion = \"1.0\"\n[tool.headerwheel.modules.\"pkg._x\"]\ncdef-code = \"int f(void);\"\npreamble-code = \"int f(void) { return 1; }\"\n",
            ),
            ("src/pkg/__init__.py", ""),
            ("lib/pkg/__init__.py", ""),
        ]);
        std::fs::remove_dir_all(d.path().join("src")).unwrap();
        let e = Project::load(d.path()).unwrap_err();
        assert_eq!(
            e.to_string().lines().next().unwrap(),
            "pyproject.toml:4:1: tool.headerwheel.modules.\"pkg._x\": the module 'pkg._x' is in the package 'pkg', but no Python package is shipped: 'pkg/' is not in the package directory '.' (set [tool.headerwheel] package-dir or python-packages)"
        );
    }

    #[test]
    fn package_dir_dot_is_the_root() {
        let d = tree(&[
            (
                "pyproject.toml",
                "[project]\nname = \"hw-pure\"\nversion = \"1.0\"\n[tool.headerwheel]\npackage-dir = \"./\"\n",
            ),
            ("hw_pure/__init__.py", ""),
        ]);
        let p = Project::load(d.path()).unwrap();
        assert_eq!(p.tool.package_dir, PathBuf::new());
        assert_eq!(p.tool.packages[0].path, PathBuf::from("hw_pure"));
    }

    #[test]
    fn an_unknown_pkg_config_package_is_an_error_at_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("p")).unwrap();
        std::fs::write(root.join("p/__init__.py"), "").unwrap();
        std::fs::write(
            root.join("pyproject.toml"),
            "[project]\nname = \"p\"\nversion = \"1\"\n\n[tool.headerwheel]\npkg-config = [\"headerwheel-no-such-package\"]\n",
        )
        .unwrap();
        let e = Project::load(root).unwrap_err().to_string();
        assert!(
            e.contains("tool.headerwheel.pkg-config")
                && e.contains("pkg-config knows no package 'headerwheel-no-such-package'"),
            "{e}"
        );
    }

    #[test]
    fn flat_layout_with_an_import_name_unlike_the_project_name() {
        let d = tree(&[
            ("pyproject.toml", PYPROJECT),
            ("hwpure/__init__.py", ""),
            ("tests/__init__.py", ""),
            ("docs/conf.py", ""),
            ("setup_helper.py", ""),
        ]);
        let p = Project::load(d.path()).unwrap();
        assert_eq!(names(&p), ["hwpure"]);
        assert_eq!(p.tool.packages[0].path, PathBuf::from("hwpure"));
    }

    #[test]
    fn flat_layout_prefers_the_package_named_like_the_project() {
        let d = tree(&[
            ("pyproject.toml", PYPROJECT),
            ("hw_pure/__init__.py", ""),
            ("other/__init__.py", ""),
        ]);
        assert_eq!(names(&Project::load(d.path()).unwrap()), ["hw_pure"]);
    }

    #[test]
    fn src_layout_ships_every_package_and_module() {
        let d = tree(&[
            ("pyproject.toml", PYPROJECT),
            ("src/b_pkg/__init__.py", ""),
            ("src/a_pkg/__init__.py", ""),
            ("src/single.py", ""),
            ("src/not_a_package/data.txt", ""),
        ]);
        let p = Project::load(d.path()).unwrap();
        assert_eq!(names(&p), ["a_pkg", "b_pkg", "single"]);
        assert_eq!(p.tool.packages[2].path, PathBuf::from("src/single.py"));
    }

    #[test]
    fn flat_layout_with_several_candidates_asks_the_user() {
        let d = tree(&[
            ("pyproject.toml", PYPROJECT),
            ("alpha/__init__.py", ""),
            ("beta/__init__.py", ""),
        ]);
        let e = Project::load(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("there are several other packages (alpha, beta)"),
            "{e}"
        );
    }

    #[test]
    fn nothing_to_ship_is_an_error_at_the_name() {
        let d = tree(&[("pyproject.toml", PYPROJECT), ("tests/__init__.py", "")]);
        let e = Project::load(d.path()).unwrap_err().to_string();
        assert!(
            e.starts_with("pyproject.toml:2:8: project.name: no Python package to ship"),
            "{e}"
        );
        assert!(e.contains("python-packages"), "{e}");
    }
}

/// Hostile projects: every path a project names is confined, every name
/// importable, every destination its own; the errors name the key.
#[cfg(test)]
mod hostile_project_tests {
    use super::*;

    /// A project `p/` inside a temporary directory that also holds
    /// `secret.txt` (what must never be read).
    fn project(pyproject: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
        let base = tempfile::tempdir().unwrap();
        let root = base.path().join("p");
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        std::fs::write(root.join("pkg/__init__.py"), "").unwrap();
        std::fs::write(base.path().join("secret.txt"), "secret\n").unwrap();
        std::fs::write(
            root.join("pyproject.toml"),
            format!("[project]\nname = \"pkg\"\nversion = \"1.0\"\n{pyproject}"),
        )
        .unwrap();
        for (rel, text) in files {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        base
    }

    fn load_err(base: &tempfile::TempDir) -> String {
        let e = Project::load(&base.path().join("p"))
            .unwrap_err()
            .to_string();
        e.replace(&base.path().display().to_string(), "<tmp>")
    }

    fn first_line(e: &str) -> &str {
        e.lines().next().unwrap()
    }

    #[test]
    fn readme_and_license_files_outside_the_project_are_refused() {
        for (key, value) in [
            ("readme", "\"../secret.txt\""),
            ("readme", "\"/etc/passwd\""),
            (
                "readme",
                "{ file = \"../secret.txt\", content-type = \"text/plain\" }",
            ),
            ("license", "{ file = \"../../../../etc/hostname\" }"),
            ("license", "{ file = \"pkg/../../secret.txt\" }"),
        ] {
            let b = project(&format!("{key} = {value}\n"), &[]);
            let e = load_err(&b);
            assert!(
                e.contains("is outside the project: give a path inside it, relative to the directory of pyproject.toml"),
                "{key} = {value}: {e}"
            );
            assert!(e.starts_with("pyproject.toml:4:"), "{e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn readme_symlinks_fifos_and_devices_are_refused_without_reading() {
        let b = project("readme = \"README.txt\"\n", &[]);
        let root = b.path().join("p");
        std::os::unix::fs::symlink(b.path().join("secret.txt"), root.join("README.txt")).unwrap();
        assert_eq!(
            first_line(&load_err(&b)),
            "pyproject.toml:4:10: project.readme: 'README.txt' leads outside the project through a symlink (to <tmp>/secret.txt)"
        );
        std::fs::remove_file(root.join("README.txt")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(root.join("README.txt"))
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(
            first_line(&load_err(&b)),
            "pyproject.toml:4:10: project.readme: 'README.txt' is a FIFO (named pipe), not a regular file"
        );
        std::fs::remove_file(root.join("README.txt")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", root.join("README.txt")).unwrap();
        assert_eq!(
            first_line(&load_err(&b)),
            "pyproject.toml:4:10: project.readme: 'README.txt' leads outside the project through a symlink (to /dev/zero)"
        );
        std::fs::remove_file(root.join("README.txt")).unwrap();
        std::fs::create_dir(root.join("README.txt")).unwrap();
        assert_eq!(
            first_line(&load_err(&b)),
            "pyproject.toml:4:10: project.readme: 'README.txt' is a directory, not a regular file"
        );
    }

    #[test]
    fn a_readme_inside_is_read_with_its_normalised_path() {
        let b = project(
            "readme = \"pkg/../README.md\"\n",
            &[("README.md", "# hello\n")],
        );
        let p = Project::load(&b.path().join("p")).unwrap();
        let r = p.metadata.readme.unwrap();
        assert_eq!(
            (r.text.as_str(), r.file),
            ("# hello\n", Some(PathBuf::from("README.md")))
        );
    }

    #[test]
    fn the_store_and_the_output_stay_inside_the_project() {
        let b = project("[tool.headerkit]\nstore_dir = \"../../elsewhere\"\n", &[]);
        assert_eq!(
            first_line(&load_err(&b)),
            "pyproject.toml:5:13: tool.headerkit.store_dir: '../../elsewhere' is outside the project: the store goes inside it, relative to the directory of pyproject.toml"
        );
        let b = project("[tool.headerkit]\nstore_dir = \"/var/tmp/store\"\n", &[]);
        assert!(load_err(&b).contains("'/var/tmp/store' is outside the project"));
        let b = project("[tool.headerkit]\nstore_dir = \"cache/../.hk\"\n", &[]);
        let p = Project::load(&b.path().join("p")).unwrap();
        assert_eq!(p.headerkit.unwrap().store_dir.as_deref(), Some(".hk"));
        let b = project(
            "[[tool.headerkit.headers]]\npattern = \"../../x/*.h\"\n",
            &[],
        );
        assert_eq!(
            first_line(&load_err(&b)),
            "pyproject.toml:5:11: tool.headerkit.headers[0].pattern: the header pattern '../../x/*.h' climbs out of the directory it is found in: give a path under the project or an include directory, or an absolute path"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_store_behind_a_symlink_out_is_refused() {
        let b = project("[tool.headerkit]\nstore_dir = \"store\"\n", &[]);
        std::os::unix::fs::symlink(b.path(), b.path().join("p/store")).unwrap();
        let real = b.path().canonicalize().unwrap();
        let e = Project::load(&b.path().join("p")).unwrap_err().to_string();
        assert_eq!(
            first_line(&e),
            format!(
                "pyproject.toml:5:13: tool.headerkit.store_dir: 'store' leads outside the project through a symlink (to {})",
                real.display()
            )
        );
    }

    const ABI: &str = "mode = \"abi\"\ncdef-code = \"int f(int);\"\n";

    fn module(name: &str) -> String {
        format!("[tool.headerwheel.modules.\"{name}\"]\n{ABI}")
    }

    #[test]
    fn module_names_must_be_importable_and_their_own() {
        let cases = [
            (
                "pkg.class",
                "'pkg.class' cannot be imported: 'class' is a Python keyword",
            ),
            (
                "pkg.__init__",
                "'pkg.__init__' cannot be a module: '__init__' is the package's own module (its __init__.py)",
            ),
            (
                "pkg.1x",
                "'pkg.1x' is not a valid module import name (dotted identifiers of ASCII letters, digits and '_', not starting with a digit)",
            ),
            (
                "pkg.é",
                "'pkg.é' is not a valid module import name (dotted identifiers of ASCII letters, digits and '_', not starting with a digit)",
            ),
            (
                "pkg._x",
                "the module 'pkg._x' would replace or shadow the project's own 'pkg/_x.py': rename the module or that file",
            ),
            (
                "pkg.sub",
                "the module 'pkg.sub' would replace or shadow the project's own 'pkg/sub': rename the module or that file",
            ),
        ];
        for (name, want) in cases {
            let b = project(
                &module(name),
                &[("pkg/_x.py", "x = 1\n"), ("pkg/sub/__init__.py", "")],
            );
            let e = load_err(&b);
            let line = first_line(&e);
            assert!(
                line.starts_with("pyproject.toml:4:1: tool.headerwheel.modules."),
                "{line}"
            );
            assert!(line.ends_with(want), "{name}: {line}");
        }
        let long = format!("pkg.{}", "m".repeat(300));
        let b = project(&module(&long), &[]);
        let e = load_err(&b);
        assert!(
            first_line(&e).ends_with(&format!(
                "'pkg.mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm...' is 304 characters long: a module name is at most {MAX_IMPORT_NAME} (it names the module's files and its init function)"
            )),
            "{e}"
        );
        // An ABI-mode module an editable install left there is ours.
        let b = project(
            &module("pkg._x"),
            &[(
                "pkg/_x.py",
                "# auto-generated file\nimport _cffi_backend\n\nffi = None\n",
            )],
        );
        Project::load(&b.path().join("p")).unwrap();
        // Soft keywords are names.
        let b = project(&module("pkg.match"), &[]);
        Project::load(&b.path().join("p")).unwrap();
    }

    #[test]
    fn a_convention_module_that_shadows_a_package_file_is_refused() {
        let b = project(
            "",
            &[
                ("pkg/_x.cdef.txt", "int f(int);\n"),
                ("pkg/_x.csrc.c", "int f(int x) { return x; }\n"),
                ("pkg/_x_cffi.py", "x = 1\n"),
            ],
        );
        assert_eq!(
            first_line(&load_err(&b)),
            "pyproject.toml: pkg/_x.cdef.txt: the module 'pkg._x_cffi' would replace or shadow the project's own 'pkg/_x_cffi.py': rename the module or that file"
        );
    }

    #[test]
    fn shared_libraries_go_in_packages_not_in_installer_directories() {
        for (dest, want) in [
            (
                "pkg-1.0.dist-info/libx.so",
                "'pkg-1.0.dist-info/libx.so' is inside 'pkg-1.0.dist-info', which installers own: put the library in a package directory (like 'pkg/libx.so')",
            ),
            (
                "pkg-1.0.data/scripts/libx.so",
                "'pkg-1.0.data/scripts/libx.so' is inside 'pkg-1.0.data', which installers own: put the library in a package directory (like 'pkg/libx.so')",
            ),
            (
                "pkg/../../libx.so",
                "'pkg/../../libx.so' must be a relative path inside the wheel ending in .so (like 'pkg/libx.so')",
            ),
            (
                "pkg/./libx.so",
                "'pkg/./libx.so' must be a relative path inside the wheel ending in .so (like 'pkg/libx.so')",
            ),
            (
                "pkg/libx.sox",
                "'pkg/libx.sox' must be a relative path inside the wheel ending in .so (like 'pkg/libx.so')",
            ),
        ] {
            let b = project(
                &format!("[tool.headerwheel.shared-libraries.\"{dest}\"]\nsources = [\"x.c\"]\n"),
                &[("x.c", "int x;\n")],
            );
            let e = load_err(&b);
            assert!(first_line(&e).ends_with(want), "{dest}: {e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_cdef_that_is_a_directory_or_a_fifo_is_named_as_such() {
        let b = project(
            "[tool.headerwheel.modules.\"pkg._m\"]\nmode = \"abi\"\ncdef = \"m.cdef\"\n",
            &[],
        );
        let root = b.path().join("p");
        std::fs::create_dir(root.join("m.cdef")).unwrap();
        assert_eq!(
            first_line(&load_err(&b)),
            "pyproject.toml:6:8: tool.headerwheel.modules.\"pkg._m\".cdef: the cdef file 'm.cdef' is a directory, not a regular file"
        );
        std::fs::remove_dir(root.join("m.cdef")).unwrap();
        std::process::Command::new("mkfifo")
            .arg(root.join("m.cdef"))
            .status()
            .unwrap();
        assert_eq!(
            first_line(&load_err(&b)),
            "pyproject.toml:6:8: tool.headerwheel.modules.\"pkg._m\".cdef: the cdef file 'm.cdef' is a FIFO (named pipe), not a regular file"
        );
    }
}
