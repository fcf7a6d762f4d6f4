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
pub mod license;
pub mod metadata;
mod packages;
pub mod paths;
pub mod pkgconfig;
pub mod requirements;
pub mod toml;
mod tool;
pub mod version;
pub mod walk;

use std::path::{Path, PathBuf};

use packages::package_candidates;
use tool::read_tool;

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

/// Hostile projects: every path a project names is confined, every name
/// importable, every destination its own; the errors name the key.
#[cfg(test)]
mod hostile_project_tests {
    use super::tool::MAX_IMPORT_NAME;
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
