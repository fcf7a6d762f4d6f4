use std::fs;
use std::path::Path;

use super::*;

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    dir
}

fn load_err(dir: &Path) -> String {
    load(dir).unwrap_err().to_string()
}

const ZLIB: &str = r#"[build-system]
requires = ["headerwheel"]
build-backend = "headerwheel"

[project]
name = "zlib-bind"
version = "1.0.0"
description = "zlib through CFFI"
readme = "README.md"
requires-python = ">=3.9"
license = "mit"
license-files = ["LICENSE"]
authors = [{ name = "Ada", email = "ada@example.org" }, { name = "Bob" }]
dependencies = ["packaging>=20; python_version >= '3.9'"]
optional-dependencies = { test = ["pytest>=7"] }
urls = { Homepage = "https://example.org" }
scripts = { zb = "zlib_bind.cli:main" }

[tool.headerwheel.modules."zlib_bind._zlib_cffi"]
libraries = ["z"]
"#;

fn zlib_tree() -> tempfile::TempDir {
    tree(&[
        ("pyproject.toml", ZLIB),
        ("README.md", "# zlib-bind\n"),
        ("LICENSE", "MIT License\n"),
        ("zlib_bind/__init__.py", ""),
        ("zlib_bind/_zlib.cdef.txt", "unsigned long crc32(unsigned long, const unsigned char *, unsigned int);\n"),
        ("zlib_bind/_zlib.csrc.c", "#include <zlib.h>\n"),
        ("tests/__init__.py", ""),
    ])
}

#[test]
fn convention_module_merged_with_its_table() {
    let dir = zlib_tree();
    let p = load(dir.path()).unwrap();
    assert_eq!(p.layout.source_dir, "");
    assert_eq!(p.layout.packages, vec!["zlib_bind"]);
    assert_eq!(p.modules.len(), 1);
    let m = &p.modules[0];
    assert_eq!(m.name, "zlib_bind._zlib_cffi");
    assert_eq!(m.cdef, "zlib_bind/_zlib.cdef.txt");
    assert_eq!(m.preamble, Preamble::File("zlib_bind/_zlib.csrc.c".into()));
    assert_eq!(m.libraries, vec!["z"]);
    assert_eq!(m.declared_at, "pyproject.toml:19:1");
    assert!(p.abi3);
}

#[test]
fn metadata_rendering() {
    let dir = zlib_tree();
    let p = load(dir.path()).unwrap();
    assert_eq!(
        p.metadata.render("2.1"),
        "Metadata-Version: 2.4
Name: zlib-bind
Version: 1.0.0
Summary: zlib through CFFI
Author: Bob
Author-email: Ada <ada@example.org>
License-Expression: MIT
License-File: LICENSE
Project-URL: Homepage, https://example.org
Requires-Python: >=3.9
Requires-Dist: packaging>=20; python_version >= '3.9'
Requires-Dist: cffi>=2.0
Provides-Extra: test
Requires-Dist: pytest>=7; extra == \"test\"
Description-Content-Type: text/markdown

# zlib-bind
"
    );
    assert_eq!(p.metadata.entry_points_txt().unwrap(), "[console_scripts]\nzb = zlib_bind.cli:main\n\n");
    assert_eq!(p.metadata.dist_info_dir(), "zlib_bind-1.0.0.dist-info");
}

#[test]
fn lowest_metadata_version() {
    let dir = tree(&[
        ("pyproject.toml", "[project]\nname = \"a\"\nversion = \"1\"\n"),
        ("a/__init__.py", ""),
    ]);
    let p = load(dir.path()).unwrap();
    assert!(p.metadata.render("2.1").starts_with("Metadata-Version: 2.1\n"));
    assert!(p.metadata.render("2.2").starts_with("Metadata-Version: 2.2\n"));
    assert!(p.modules.is_empty());
    assert!(p.metadata.dependencies.is_empty(), "no cffi without modules");
}

fn with_project(extra: &str) -> tempfile::TempDir {
    tree(&[
        ("pyproject.toml", &format!("[project]\nname = \"a\"\nversion = \"1\"\n{extra}")),
        ("a/__init__.py", ""),
    ])
}

#[test]
fn unknown_project_key_has_caret() {
    let dir = with_project("licence = \"MIT\"\n");
    let e = load_err(dir.path());
    assert!(e.starts_with("pyproject.toml:4:1: project.licence: unknown key `licence` in [project]"), "{e}");
    assert!(e.ends_with("  |\n4 | licence = \"MIT\"\n  | ^^^^^^^"), "{e}");
}

#[test]
fn bad_spdx() {
    let dir = with_project("license = \"MIT or Nope-1.0\"\n");
    let e = load_err(dir.path());
    assert_eq!(
        e,
        "pyproject.toml:4:11: project.license: `Nope-1.0` is not an SPDX license identifier (in `MIT or Nope-1.0`; see https://spdx.org/licenses/)
  |
4 | license = \"MIT or Nope-1.0\"
  |           ^^^^^^^^^^^^^^^^^"
    );
}

#[test]
fn bad_version_and_requirement() {
    let dir = tree(&[("pyproject.toml", "[project]\nname = \"a\"\nversion = \"1.0-beta-x\"\n"), ("a/__init__.py", "")]);
    let e = load_err(dir.path());
    assert!(e.starts_with("pyproject.toml:3:11: project.version: `1.0-beta-x` is not a valid PEP 440 version"), "{e}");
    let dir = with_project("dependencies = [\"ok\", \"bad >= what\"]\n");
    let e = load_err(dir.path());
    assert!(e.starts_with("pyproject.toml:4:23: project.dependencies: invalid requirement: `bad >= what`"), "{e}");
}

#[test]
fn unknown_module_key_and_missing_cdef() {
    let dir = with_project("[tool.headerwheel.modules.\"a._m\"]\ncdef = \"a/m.cdef\"\nlibrary = [\"z\"]\n");
    let e = load_err(dir.path());
    assert!(e.starts_with("pyproject.toml:6:1: tool.headerwheel.modules.\"a._m\".library: unknown key `library`"), "{e}");
    let dir = with_project("[tool.headerwheel.modules.\"a._m\"]\ncdef = \"a/missing.cdef\"\n");
    let e = load_err(dir.path());
    assert!(
        e.starts_with("pyproject.toml:5:8: tool.headerwheel.modules.\"a._m\".cdef: file `a/missing.cdef` does not exist"),
        "{e}"
    );
    let dir = with_project("[tool.headerwheel.modules.\"a._m\"]\nlibraries = [\"z\"]\n");
    let e = load_err(dir.path());
    assert!(e.contains("module `a._m` needs `cdef`"), "{e}");
}

#[test]
fn module_outside_packages() {
    let dir = tree(&[
        ("pyproject.toml", "[project]\nname = \"a\"\nversion = \"1\"\n[tool.headerwheel.modules.\"b._m\"]\ncdef = \"m.cdef\"\n"),
        ("a/__init__.py", ""),
        ("m.cdef", "int f(void);"),
    ]);
    let e = load_err(dir.path());
    assert!(e.contains("module `b._m` (pyproject.toml:4:1) is in package `b`, which is not a package of this project (found: a)"), "{e}");
}

#[test]
fn abi_mode_rejects_compile_keys() {
    let dir = tree(&[
        ("pyproject.toml", "[project]\nname = \"a\"\nversion = \"1\"\n[tool.headerwheel.modules.\"a._m\"]\ncdef = \"m.cdef\"\nmode = \"abi\"\nlibraries = [\"z\"]\n"),
        ("a/__init__.py", ""),
        ("m.cdef", "int f(void);"),
    ]);
    let e = load_err(dir.path());
    assert!(e.contains("ABI mode, which compiles nothing: `libraries` does not apply"), "{e}");
}

#[test]
fn malformed_toml() {
    let dir = tree(&[("pyproject.toml", "[project]\nname = \"a\nversion = \"1\"\n")]);
    let e = load_err(dir.path());
    assert!(e.starts_with("pyproject.toml:2:"), "{e}");
    assert!(e.contains("invalid TOML"), "{e}");
}

#[test]
fn dynamic_is_refused_with_reason() {
    let dir = tree(&[("pyproject.toml", "[project]\nname = \"a\"\ndynamic = [\"version\"]\n"), ("a/__init__.py", "")]);
    let e = load_err(dir.path());
    assert!(e.contains("project.dynamic: headerwheel does not compute `version` dynamically"), "{e}");
}

#[test]
fn src_layout_and_legacy_license() {
    let dir = tree(&[
        ("pyproject.toml", "[project]\nname = \"My.Pkg\"\nversion = \"2.0\"\nlicense = { text = \"Custom\" }\nreadme = { text = \"hi\", content-type = \"text/plain\" }\n"),
        ("src/mypkg/__init__.py", ""),
        ("src/other/__init__.py", ""),
        ("src/single.py", ""),
        ("src/mypkg/_x.cdef.txt", "int f(void);"),
    ]);
    let p = load(dir.path()).unwrap();
    assert_eq!(p.layout.source_dir, "src");
    assert_eq!(p.layout.packages, vec!["mypkg", "other"]);
    assert_eq!(p.layout.py_modules, vec!["single"]);
    assert_eq!(p.modules[0].name, "mypkg._x_cffi");
    assert_eq!(p.modules[0].cdef, "src/mypkg/_x.cdef.txt");
    assert_eq!(p.modules[0].preamble, Preamble::None);
    assert_eq!(p.metadata.file_name(), "my_pkg");
    let md = p.metadata.render("2.1");
    assert!(md.starts_with("Metadata-Version: 2.1\nName: My.Pkg\n"), "{md}");
    assert!(md.contains("\nLicense: Custom\n"), "{md}");
}
