//! Which Python packages a project ships: a flat or `src/` layout found as
//! setuptools finds it, and headerkit's convention modules
//! (`pkg/_x.cdef.txt` beside `pkg/_x.csrc.c`).

use std::path::{Path, PathBuf};

use super::tool::valid_module_name;
use super::*;

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
pub(super) fn package_candidates(root: &Path, package_dir: &Path) -> Vec<String> {
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
pub(super) fn default_package_dir(root: &Path, import_name: &str) -> PathBuf {
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
pub(super) fn discover_packages(
    root: &Path,
    package_dir: &Path,
    import_name: &str,
) -> Vec<PythonPackage> {
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
pub(super) fn convention_files(package_dir: &Path, module: &str) -> Option<(PathBuf, PathBuf)> {
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
pub(super) fn find_convention_modules(
    root: &Path,
    package_dir: &Path,
    pkg_path: &Path,
) -> Vec<(PathBuf, PathBuf, String)> {
    let mut out = Vec::new();
    let o = super::walk::WalkOptions {
        skip_dot_dirs: true,
        ..Default::default()
    };
    // A package that cannot be walked has no convention modules; the
    // package walk of the build reports why.
    for path in super::walk::files(root, &root.join(pkg_path), o).unwrap_or_default() {
        let Ok(child) = path.strip_prefix(root) else {
            continue;
        };
        let (Some(rel), Some(name)) = (child.parent(), child.file_name().and_then(|n| n.to_str()))
        else {
            continue;
        };
        if let Some(stem) = name.strip_suffix(".cdef.txt") {
            let csrc = rel.join(format!("{stem}.csrc.c"));
            if root.join(&csrc).is_file() {
                let pkg_mod = rel
                    .strip_prefix(package_dir)
                    .unwrap_or(rel)
                    .to_string_lossy()
                    .replace(['/', '\\'], ".");
                out.push((child.to_path_buf(), csrc, format!("{pkg_mod}.{stem}_cffi")));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Project;

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
