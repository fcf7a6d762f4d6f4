//! `[tool.headerwheel]`: the extension modules, shared libraries, packages
//! and settings, each path confined to the project and each name checked
//! (importable, its own, not shadowing a file of the package).

use std::path::{Path, PathBuf};

use super::packages::{
    convention_files, default_package_dir, discover_packages, find_convention_modules,
};
use super::*;

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
pub(super) const MAX_IMPORT_NAME: usize = 200;

pub(super) fn valid_module_name(name: &str) -> bool {
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

pub(super) fn read_tool(
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
