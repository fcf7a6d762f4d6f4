//! `headerwheel init HEADER`: a new binding project for one C header.
//!
//! The scaffold is a PEP 621 project whose one extension module takes its
//! cdef from the header through `[tool.headerkit]` (headerkit's convention:
//! `pkg/_x.cdef.txt` named by `output.cffi`, beside `pkg/_x.csrc.c`), a thin
//! package re-exporting `ffi` and `lib`, a test that imports the module and
//! calls one function, and a README. The files are planned here (pure);
//! `run`, the command, writes them, fills the `.headerkit/` store and then
//! plans the test from the generated cdef.

use std::path::{Path, PathBuf};

use super::{InitArgs, load_project, write_atomic};

/// What `init` was asked for.
#[derive(Debug, Clone, Default)]
pub struct InitRequest {
    /// The header: a system header name (`zlib.h`), or a file to copy into
    /// the project's `include/`.
    pub header: String,
    /// The project name (default: the header's stem + `-cffi`).
    pub name: Option<String>,
    /// The library to link (`-l`), if any.
    pub library: Option<String>,
    /// pkg-config packages (`--pkg-config NAME`): the module's
    /// `pkg-config`, whose flags the header stage and the compile use.
    pub pkg_config: Vec<String>,
    /// Include directories (`-I DIR`), absolute: `[tool.headerkit]
    /// include_dirs` (which the compile uses too).
    pub include_dirs: Vec<String>,
    /// Macros (`-D X[=Y]`): the module's `define-macros`.
    pub defines: Vec<String>,
}

/// The planned project.
#[derive(Debug, Clone)]
pub struct Scaffold {
    /// The project name.
    pub name: String,
    /// The import package (`zlib_cffi`).
    pub package: String,
    /// The extension module (`zlib_cffi._zlib_cffi`).
    pub module: String,
    /// Files relative to the project directory, with their text.
    pub files: Vec<(PathBuf, String)>,
    /// A header file to copy into the project (source, destination).
    pub copy_header: Option<(PathBuf, PathBuf)>,
    /// The header pattern of `[tool.headerkit]`.
    pub header_pattern: String,
}

/// A C identifier made of `s` (other characters become `_`).
fn identifier(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

/// A TOML array of basic strings.
fn toml_list(items: &[String]) -> String {
    let v: Vec<String> = items.iter().map(|i| toml_str(i)).collect();
    format!("[{}]", v.join(", "))
}

/// A TOML key: bare when it can be.
fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        toml_str(s)
    }
}

/// Plans the project for `req`; `header_file` says whether the header is a
/// file to copy (else a system header found on the include path).
pub fn scaffold(req: &InitRequest, header_file: Option<&Path>) -> Result<Scaffold, String> {
    let header_name = Path::new(&req.header)
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("'{}' is not a header name", req.header))?
        .to_string();
    let stem = identifier(header_name.split('.').next().unwrap_or(&header_name));
    let name = req
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-cffi", stem.trim_matches('_').replace('_', "-")));
    let package = crate::project::metadata::filename_name(&name);
    if package.is_empty()
        || !package
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    {
        return Err(format!(
            "'{name}' does not give a valid import name (got '{package}'); pass --name"
        ));
    }
    let module = format!("{package}._{stem}_cffi");
    let (header_pattern, copy_header, include) = match header_file {
        Some(src) => {
            let dest = PathBuf::from("include").join(&header_name);
            (
                format!("include/{header_name}"),
                Some((src.to_path_buf(), dest)),
                format!("#include \"{header_name}\""),
            )
        }
        None => (
            req.header.clone(),
            None,
            format!("#include <{}>", req.header),
        ),
    };
    let lib_text = req
        .library
        .as_deref()
        .map(|l| format!(" (library `{l}`)"))
        .unwrap_or_default();
    let mut pyproject = format!(
        "[build-system]\n\
         requires = [\"headerwheel\"]\n\
         build-backend = \"headerwheel\"\n\
         \n\
         [project]\n\
         name = {name_s}\n\
         version = \"0.1.0\"\n\
         description = {desc}\n\
         readme = \"README.md\"\n\
         requires-python = \">=3.9\"\n\
         \n\
         # The cdef is generated from the header by libclang at build time (or\n\
         # served from the committed .headerkit/ store: `headerwheel cache populate`).\n\
         [tool.headerkit]\n",
        name_s = toml_str(&name),
        desc = toml_str(&format!(
            "CFFI bindings for {}{}",
            req.header,
            lib_text.replace('`', "")
        )),
    );
    let mut hk_include: Vec<String> = Vec::new();
    if header_file.is_some() {
        hk_include.push("include".into());
    }
    hk_include.extend(req.include_dirs.iter().cloned());
    if !hk_include.is_empty() {
        pyproject.push_str(&format!("include_dirs = {}\n", toml_list(&hk_include)));
    }
    pyproject.push_str(&format!(
        "\n[[tool.headerkit.headers]]\npattern = {}\n\n[tool.headerkit.output]\ncffi = {}\n\n\
         # src/{package}/_{stem}.csrc.c (the C that declares what the cdef names) and the\n\
         # output above make the module {module}.\n\
         [tool.headerwheel.modules.{}]\n",
        toml_str(&header_pattern),
        toml_str(&format!("src/{package}/_{stem}.cdef.txt")),
        toml_str(&module),
    ));
    match &req.library {
        Some(l) => pyproject.push_str(&format!("libraries = [{}]\n", toml_str(l))),
        None => pyproject.push_str("libraries = []\n"),
    }
    if header_file.is_some() {
        pyproject.push_str("include-dirs = [\"include\"]\n");
    }
    if !req.pkg_config.is_empty() {
        pyproject.push_str(&format!("pkg-config = {}\n", toml_list(&req.pkg_config)));
    }
    if !req.defines.is_empty() {
        let items: Vec<String> = req
            .defines
            .iter()
            .map(|d| match d.split_once('=') {
                Some((n, v)) => format!("{} = {}", toml_key(n), toml_str(v)),
                None => format!("{} = true", toml_key(d)),
            })
            .collect();
        pyproject.push_str(&format!("define-macros = {{ {} }}\n", items.join(", ")));
    }
    let init_py = format!(
        "\"\"\"Python bindings for `{header}`{lib_text}.\n\
         \n\
         `lib` holds the C functions, constants and variables of the header;\n\
         `ffi` makes and reads C data (`ffi.new`, `ffi.string`, `ffi.buffer`).\n\
         Write the Pythonic API of the package here, over them.\n\
         \"\"\"\n\
         from {package}._{stem}_cffi import ffi, lib\n\
         \n\
         __all__ = [\"ffi\", \"lib\"]\n",
        header = req.header,
    );
    let files = vec![
        (PathBuf::from("pyproject.toml"), pyproject),
        (PathBuf::from(format!("src/{package}/__init__.py")), init_py),
        (
            PathBuf::from(format!("src/{package}/_{stem}.csrc.c")),
            format!("{include}\n"),
        ),
        (
            PathBuf::from(".gitignore"),
            "build/\ndist/\n*.so\n__pycache__/\n".to_string(),
        ),
    ];
    Ok(Scaffold {
        name,
        package,
        module,
        files,
        copy_header,
        header_pattern,
    })
}

/// The function the generated test calls: a function of no parameters
/// whose name says it only reads something (a version, a `get...`), found
/// in the cdef; otherwise the test only checks that the first function
/// exists. Returns (name, return type) and whether it is safe to call.
pub fn pick_function(cdef: &str) -> Option<(String, String, bool)> {
    let re = regex::Regex::new(r"(?m)^\s*(?:extern\s+)?([A-Za-z_][\w\s\*]*?)\s*\b([A-Za-z]\w*)\s*\((\s*void\s*|[^()]*)\)\s*;").ok()?;
    let mut best: Option<(u8, String, String, bool)> = None;
    for c in re.captures_iter(cdef) {
        let ret = c[1].trim().to_string();
        let name = c[2].to_string();
        if ret.starts_with("typedef") || ret.contains("static") {
            continue;
        }
        let no_args = c[3].trim() == "void";
        let lower = name.to_ascii_lowercase();
        let rank = if no_args && ret != "void" && lower.contains("version") {
            0
        } else if no_args && ret != "void" && (lower.starts_with("get") || lower.contains("_get")) {
            1
        } else {
            2
        };
        if best.as_ref().is_none_or(|b| rank < b.0) {
            best = Some((rank, name, ret, rank < 2));
        }
    }
    best.map(|(_, n, r, call)| (n, r, call))
}

/// The generated test (runs under pytest, or as a plain script).
pub fn test_file(s: &Scaffold, function: Option<&(String, String, bool)>) -> String {
    let call = match function {
        Some((name, ret, true)) => {
            let (check, shown) = if ret.contains("char") && ret.contains('*') {
                (
                    "    assert ffi.string(result)\n",
                    "ffi.string(result).decode(\"utf-8\", \"replace\")",
                )
            } else if ret.contains('*') {
                ("    assert result != ffi.NULL\n", "result")
            } else {
                ("    assert isinstance(result, (int, float))\n", "result")
            };
            format!("    result = lib.{name}()\n{check}    print(\"{name}() ->\", {shown})\n")
        }
        Some((name, _, false)) => format!("    assert callable(lib.{name})\n"),
        None => "    assert ffi.sizeof(\"int\") > 0\n".to_string(),
    };
    format!(
        "\"\"\"Generated by `headerwheel init`: the module imports and a C function answers.\"\"\"\n\
         from {package} import ffi, lib\n\
         \n\
         \n\
         def test_the_module_calls_into_c():\n\
         {call}\n\
         \n\
         if __name__ == \"__main__\":\n    test_the_module_calls_into_c()\n    print(\"ok\")\n",
        package = s.package,
    )
}

/// The README of the project.
pub fn readme(s: &Scaffold, req: &InitRequest) -> String {
    format!(
        "# {name}\n\
         \n\
         CFFI bindings for `{header}`{lib}, built by [headerwheel](https://pypi.org/project/headerwheel/):\n\
         the cdef is generated from the header, the C module compiled, the wheel made.\n\
         \n\
         ```sh\n\
         pip wheel .              # or: pip install .\n\
         python tests/test_{package}.py\n\
         ```\n\
         \n\
         - `src/{package}/__init__.py`: the Python API, over `{module}`'s `ffi` and `lib`;\n\
         - `src/{package}/{csrc}`: the C code compiled into the module (the `#include`);\n\
         - `pyproject.toml`: `[tool.headerkit]` says which header, `[tool.headerwheel]` which library.\n\
         \n\
         `headerwheel cache populate` parses the header into `.headerkit/` (commit it): builds then\n\
         need no libclang.\n",
        name = s.name,
        header = req.header,
        lib = req
            .library
            .as_deref()
            .map(|l| format!(" (library `{l}`)"))
            .unwrap_or_default(),
        package = s.package,
        module = s.module,
        csrc = s
            .module
            .rsplit('.')
            .next()
            .unwrap_or("")
            .trim_end_matches("_cffi")
            .to_string()
            + ".csrc.c",
    )
}

/// `headerwheel init HEADER [--name NAME] [--library LIB] [--pkg-config PKG] [-I DIR] [-D X[=Y]] [DIR]`.
pub(super) fn run(a: InitArgs) -> Result<(), String> {
    // An include directory of the command line, from where it was given.
    let absolute = |d: &String| -> Result<String, String> {
        std::path::absolute(d)
            .map(|p| p.display().to_string())
            .map_err(|e| format!("-I {d}: {e}"))
    };
    let req = InitRequest {
        header: a.header,
        name: a.name,
        library: a.library,
        pkg_config: a.pkg_config,
        include_dirs: a
            .include_dirs
            .iter()
            .map(absolute)
            .collect::<Result<_, _>>()?,
        defines: a.defines,
    };
    let dir = a.dir;
    for p in &req.pkg_config {
        crate::project::pkgconfig::query(p).map_err(|e| format!("--pkg-config {p}: {e}"))?;
    }
    // A header given as an existing file is copied into the project; a name
    // like `zlib.h` is a system header.
    let header_file = Path::new(&req.header)
        .is_file()
        .then(|| PathBuf::from(&req.header));
    let s = scaffold(&req, header_file.as_deref())?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(&s.name));
    if dir.join("pyproject.toml").exists() {
        return Err(format!(
            "{}: already has a pyproject.toml (init makes new projects; see `headerwheel migrate`)",
            dir.display()
        ));
    }
    let write = |rel: &Path, text: &str| -> Result<(), String> {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        write_atomic(&p, text)?;
        eprintln!("headerwheel: wrote {}", p.display());
        Ok(())
    };
    for (rel, text) in &s.files {
        write(rel, text)?;
    }
    write(Path::new("README.md"), &readme(&s, &req))?;
    if let Some((src, dest)) = &s.copy_header {
        let text = std::fs::read_to_string(src).map_err(|e| format!("{}: {e}", src.display()))?;
        write(dest, &text)?;
    }
    // Parse the header now: the store makes later builds libclang-free, and
    // the cdef says which function the test can call.
    let project = load_project(Some(&dir))?;
    let function = match crate::headers::stage::header_modules(&project).first() {
        Some(m) => match crate::headers::stage::cdef_for_module_from(
            &project,
            m,
            false,
            &crate::headers::stage::HeaderEnv::discover(),
        ) {
            Ok((cdef, _)) => pick_function(&cdef),
            Err(e) => {
                eprintln!(
                    "headerwheel: warning: the header could not be parsed now ({e}); the test only imports the module"
                );
                None
            }
        },
        None => None,
    };
    write(
        Path::new(&format!("tests/test_{}.py", s.package)),
        &test_file(&s, function.as_ref()),
    )?;
    println!("{}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zlib_scaffold_names() {
        let req = InitRequest {
            header: "zlib.h".into(),
            library: Some("z".into()),
            ..InitRequest::default()
        };
        let s = scaffold(&req, None).unwrap();
        assert_eq!(
            (s.name.as_str(), s.package.as_str(), s.module.as_str()),
            ("zlib-cffi", "zlib_cffi", "zlib_cffi._zlib_cffi")
        );
        let py = &s.files[0].1;
        assert!(py.contains("pattern = \"zlib.h\""), "{py}");
        assert!(
            py.contains("[tool.headerwheel.modules.\"zlib_cffi._zlib_cffi\"]\nlibraries = [\"z\"]"),
            "{py}"
        );
        py.parse::<toml_edit::DocumentMut>().unwrap();
    }

    #[test]
    fn pkg_config_include_dirs_and_macros_go_to_their_keys() {
        let req = InitRequest {
            header: "libxml/parser.h".into(),
            pkg_config: vec!["libxml-2.0".into()],
            include_dirs: vec!["/opt/x/include".into()],
            defines: vec!["X_API=2".into(), "X_SHARED".into()],
            ..InitRequest::default()
        };
        let s = scaffold(&req, None).unwrap();
        let py = &s.files[0].1;
        assert!(
            py.contains("[tool.headerkit]\ninclude_dirs = [\"/opt/x/include\"]\n"),
            "{py}"
        );
        assert!(
            py.contains(
                "[tool.headerwheel.modules.\"parser_cffi._parser_cffi\"]\nlibraries = []\n\
                 pkg-config = [\"libxml-2.0\"]\ndefine-macros = { X_API = \"2\", X_SHARED = true }\n"
            ),
            "{py}"
        );
        py.parse::<toml_edit::DocumentMut>().unwrap();
    }

    #[test]
    fn picks_a_version_function() {
        let cdef = "int deflate(z_streamp strm, int flush);\nconst char *zlibVersion(void);\nuLong zlibCompileFlags(void);\n";
        assert_eq!(
            pick_function(cdef),
            Some(("zlibVersion".into(), "const char *".into(), true))
        );
        let cdef = "void abort(void);\nint close(int);\n";
        assert_eq!(pick_function(cdef).map(|f| f.2), Some(false));
    }
}
