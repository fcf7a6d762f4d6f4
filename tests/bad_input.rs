//! Bad input, hostile or merely wrong: each case edits a copy of a fixture
//! project, runs the build hook on it, and checks that the build fails
//! cleanly: exit 1, the error (an `insta` snapshot under
//! `tests/snapshots/`, paths made stable), nothing on stdout but that error,
//! no panic, the output directory empty, and the `.headerkit/` store and the
//! compile cache unchanged.
//!
//! The hook runs as `headerwheel hook`, the program the shim runs (its one
//! caller of `hooks::run_hook`), with the interpreter's facts in the
//! request: each case gets its own environment (`SOURCE_DATE_EPOCH`, the
//! compile cache) without touching this process's, and a case that
//! regressed into a hang or a runaway read (a FIFO, `/dev/zero`) is killed
//! after two minutes or stopped by a 2 GiB address-space cap, failing one
//! test instead of the whole run.
//!
//! `cargo insta review` (or `INSTA_UPDATE=always`) updates the snapshots.
mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/projects");

/// The interpreter's facts as the shim sends them (`_interpreter()` of
/// `backend/headerwheel`, run by the Python with cffi 2.1.1).
fn facts() -> Option<&'static Value> {
    static FACTS: OnceLock<Option<Value>> = OnceLock::new();
    FACTS
        .get_or_init(|| {
            let py = common::python_with_cffi()?;
            let backend = concat!(env!("CARGO_MANIFEST_DIR"), "/backend");
            let out = Command::new(py)
                .env_remove("CC")
                .env_remove("CFLAGS")
                .args([
                    "-c",
                    "import json, sys; sys.path.insert(0, sys.argv[1]); import headerwheel; print(json.dumps(headerwheel._interpreter()))",
                    backend,
                ])
                .output()
                .expect("the Python with cffi runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            Some(serde_json::from_slice(&out.stdout).expect("the facts are JSON"))
        })
        .as_ref()
}

/// Where a case runs: `root/p/<fixture>` is the project (so `root/p` is
/// "beside the project" and `root` is the temporary directory).
struct Case {
    root: tempfile::TempDir,
    src: PathBuf,
    env: Vec<(&'static str, String)>,
    /// Replaces the compiler the facts name (as `CC` would).
    cc: Option<&'static str>,
    /// Whether the compile cache must be unchanged too (a module that
    /// compiles and links is cached before a later check refuses it).
    cache_unchanged: bool,
}

impl Case {
    fn new(fixture: &str) -> Case {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("p").join(fixture);
        copy_tree(&Path::new(FIXTURES).join(fixture), &src);
        Case {
            root,
            src,
            env: Vec::new(),
            cc: None,
            cache_unchanged: true,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.src.join(rel)
    }

    /// Replaces the first `old` in the project file `rel` with `new`.
    fn edit(&self, rel: &str, old: &str, new: &str) {
        let path = self.path(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(old), "{rel} has no {old:?}");
        std::fs::write(&path, text.replacen(old, new, 1)).unwrap();
    }

    fn append(&self, rel: &str, more: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.path(rel))
            .unwrap();
        f.write_all(more).unwrap();
    }

    /// A file of the build machine beside the project: never to be read.
    fn secret(&self) -> PathBuf {
        let secret = self.src.parent().unwrap().join("secret.txt");
        std::fs::write(&secret, "build machine secret\n").unwrap();
        secret
    }

    fn fifo(&self, rel: &str) {
        let path = self.path(rel);
        std::fs::remove_file(&path).unwrap();
        let ok = Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(ok.success());
    }

    /// An ABI-mode module named `name` (beside a package file `_x.py`).
    fn abi_module(&self, name: &str) {
        std::fs::write(self.path("src/zlibcffi/_x.py"), "x = 1\n").unwrap();
        self.append(
            "pyproject.toml",
            format!("\n[tool.headerwheel.modules.\"{name}\"]\nmode = \"abi\"\ncdef-code = \"int f(int);\"\n").as_bytes(),
        );
    }

    /// Runs `build_wheel`; checks the clean failure; returns the error with
    /// this machine's paths replaced by `<project>`, `<tmp>`,
    /// `<python-include>` and `<tmpfile>`.
    fn fails(self) -> Option<String> {
        let mut facts = facts()?.clone();
        if let Some(cc) = self.cc {
            facts["toolchain"]["cc"] = json!(cc);
        }
        let tmp = self.root.path();
        let out = tmp.join("out");
        let cache = tmp.join("compile-cache");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::create_dir_all(&cache).unwrap();
        let mut watched = vec![self.src.join(".headerkit")];
        if self.cache_unchanged {
            watched.push(cache.clone());
        }
        let before = tree_state(&watched);
        let request = json!({
            "hook": "build_wheel", "source_dir": self.src, "output_dir": out,
            "config_settings": {"build-dir": tmp.join("build")},
            "interpreter": facts,
        });

        let bin = env!("CARGO_BIN_EXE_headerwheel");
        let mut cmd = if Path::new("/usr/bin/prlimit").exists() {
            let mut c = Command::new("/usr/bin/prlimit");
            c.args(["--as=2147483648", "--", bin, "hook"]);
            c
        } else {
            let mut c = Command::new(bin);
            c.arg("hook");
            c
        };
        cmd.env("HEADERWHEEL_CACHE_DIR", &cache)
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("HEADERWHEEL_COMPILER_LAUNCHER")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{request}\n").as_bytes())
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("the hook hung on bad input (killed after 120 s)");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let result = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(1), "stderr:\n{stderr}");
        assert!(!stderr.contains("panicked"), "stderr:\n{stderr}");
        let lines: Vec<Value> = String::from_utf8(result.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "one reply: {lines:?}");
        let error = lines[0]["error"].as_str().expect("an error reply");
        assert!(!error.starts_with("internal error"), "{error}");
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "output left behind"
        );
        assert_eq!(
            tree_state(&watched),
            before,
            "the store or the compile cache changed"
        );
        Some(stable_paths(error, &self.src, tmp))
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file under `dirs` with its content (the "unchanged" check); the
/// store's lock file is not content.
fn tree_state(dirs: &[PathBuf]) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(d: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(d) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(&p, into);
            } else if !e
                .file_name()
                .to_string_lossy()
                .starts_with(".headerwheel-lock")
            {
                into.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut state = BTreeMap::new();
    for d in dirs {
        walk(d, &mut state);
    }
    state
}

fn stable_paths(error: &str, src: &Path, tmp: &Path) -> String {
    let mut text = error
        .replace(&src.display().to_string(), "<project>")
        .replace(&tmp.display().to_string(), "<tmp>");
    if let Some(dirs) = facts().and_then(|f| f["toolchain"]["include_dirs"].as_array()) {
        for d in dirs.iter().filter_map(Value::as_str) {
            text = text.replace(d, "<python-include>");
        }
    }
    let tmpfile = regex::Regex::new(r#"/tmp/[^ :'"]*"#).unwrap();
    tmpfile.replace_all(&text, "<tmpfile>").into_owned()
}

/// One test per case: `name: fixture, |case| { edits }`.
macro_rules! bad_input {
    ($($name:ident: $fixture:literal, |$c:ident| $prepare:block)*) => {$(
        #[test]
        fn $name() {
            #[allow(unused_mut)]
            let mut $c = Case::new($fixture);
            $prepare
            if let Some(error) = $c.fails() {
                insta::assert_snapshot!(stringify!($name), error);
            }
        }
    )*};
}

bad_input! {
    malformed_toml: "zlibcffi", |c| {
        c.edit("pyproject.toml", "version = \"1.0.0\"", "version = \"1.0.0");
    }
    unknown_key: "zlibcffi", |c| {
        c.edit("pyproject.toml", "libraries = [\"z\"]", "libraries = [\"z\"]\nlibrary-dir = [\"x\"]");
    }
    wrong_type: "zlibcffi", |c| {
        c.edit("pyproject.toml", "libraries = [\"z\"]", "libraries = \"z\"");
    }
    unset_variable: "localhdr", |c| {
        c.edit("pyproject.toml", "include_dirs = [\"include\"]", "include_dirs = [\"${HW_TEST_NOT_SET}/include\"]");
    }
    missing_header: "localhdr", |c| {
        c.edit("pyproject.toml", "pattern = \"include/shapes.h\"", "pattern = \"include/shapez.h\"");
    }
    header_syntax_error: "localhdr", |c| {
        c.append("include/shapes.h", b"\nint broken(int x;\nunknown_t make_unknown(void);\n");
    }
    cdef_syntax_error: "zlibcffi", |c| {
        c.edit("src/zlibcffi/_zlib.cdef.txt", "uLong compressBound(uLong sourceLen);", "uLong compressBound(uLong sourceLen) oops;");
    }
    not_exported: "zlibcffi", |c| {
        c.append("src/zlibcffi/_zlib.cdef.txt", b"int zlib_has_no_such_function(int);\n");
        // Found after linking: the compile cache keeps the (correct) module
        // its inputs make; a rebuild hits it and fails the same way.
        c.cache_unchanged = false;
    }
    missing_library: "zlibcffi", |c| {
        c.edit("pyproject.toml", "libraries = [\"z\"]", "libraries = [\"z_does_not_exist\"]");
    }
    missing_compiler: "zlibcffi", |c| {
        c.cc = Some("/nonexistent/bin/cc");
    }
    cc_unbalanced_quote: "zlibcffi", |c| {
        c.cc = Some("gcc '-DX=1");
    }
    preamble_compile_error: "zlibcffi", |c| {
        std::fs::write(c.path("src/zlibcffi/_zlib.csrc.c"), "#include <zlib.h>\nint oops(void) { return nope; }\n").unwrap();
    }
    cdef_outside_project: "zlibcffi", |c| {
        std::fs::write(c.src.parent().unwrap().join("outside.cdef"), "int f(void);\n").unwrap();
        c.edit("pyproject.toml", "libraries = [\"z\"]", "libraries = [\"z\"]\ncdef = \"../outside.cdef\"");
    }
    cdef_absolute_path: "zlibcffi", |c| {
        c.edit("pyproject.toml", "libraries = [\"z\"]", "libraries = [\"z\"]\ncdef = \"/etc/hostname\"");
    }
    cdef_symlink_out: "zlibcffi", |c| {
        let outside = c.src.parent().unwrap().join("outside.cdef");
        std::fs::write(&outside, "int f(void);\n").unwrap();
        std::os::unix::fs::symlink(&outside, c.path("link.cdef")).unwrap();
        c.edit("pyproject.toml", "libraries = [\"z\"]", "libraries = [\"z\"]\ncdef = \"link.cdef\"");
    }
    cdef_fifo: "zlibcffi", |c| {
        c.fifo("src/zlibcffi/_zlib.cdef.txt");
        c.edit("pyproject.toml", "libraries = [\"z\"]", "libraries = [\"z\"]\ncdef = \"src/zlibcffi/_zlib.cdef.txt\"");
    }
    output_outside_project: "localhdr", |c| {
        c.edit("pyproject.toml", "cffi = \"src/localhdr/_shapes.cdef.txt\"", "cffi = \"../../evil.cdef.txt\"");
    }
    package_symlink_out: "zlibcffi", |c| {
        let secret = c.secret();
        std::os::unix::fs::symlink(secret, c.path("src/zlibcffi/data.txt")).unwrap();
    }
    zip_slip_name: "zlibcffi", |c| {
        std::fs::write(c.path("src/zlibcffi/..\\..\\evil.py"), "x = 1\n").unwrap();
    }
    license_table_outside: "zlibcffi", |c| {
        c.secret();
        c.edit("pyproject.toml", "license = \"MIT\"\nlicense-files = [\"LICENSE\"]", "license = {file = \"src/../../secret.txt\"}");
    }
    license_table_absolute: "zlibcffi", |c| {
        c.edit("pyproject.toml", "license = \"MIT\"\nlicense-files = [\"LICENSE\"]", "license = {file = \"/etc/hostname\"}");
    }
    readme_outside: "zlibcffi", |c| {
        c.secret();
        c.edit("pyproject.toml", "readme = \"README.md\"", "readme = \"../secret.txt\"");
    }
    readme_absolute: "zlibcffi", |c| {
        c.edit("pyproject.toml", "readme = \"README.md\"", "readme = \"/etc/passwd\"");
    }
    readme_fifo: "zlibcffi", |c| {
        c.fifo("README.md");
    }
    readme_dev_zero: "zlibcffi", |c| {
        std::fs::remove_file(c.path("README.md")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", c.path("README.md")).unwrap();
    }
    store_dir_outside: "localhdr", |c| {
        c.edit("pyproject.toml", "include_dirs = [\"include\"]", "include_dirs = [\"include\"]\nstore_dir = \"../../elsewhere\"");
    }
    module_keyword: "zlibcffi", |c| {
        c.abi_module("zlibcffi.class");
    }
    module_replaces_init: "zlibcffi", |c| {
        c.abi_module("zlibcffi.__init__");
    }
    module_shadows_package_file: "zlibcffi", |c| {
        c.abi_module("zlibcffi._x");
    }
    module_name_too_long: "zlibcffi", |c| {
        c.abi_module(&format!("zlibcffi.{}", "m".repeat(300)));
    }
    shared_library_in_dist_info: "zlibcffi", |c| {
        c.append("pyproject.toml", b"\n[tool.headerwheel.shared-libraries.\"zlibcffi-1.0.0.dist-info/libx.so\"]\nsources = [\"src/zlibcffi/_zlib.csrc.c\"]\n");
    }
    cdef_non_ascii_before_error: "zlibcffi", |c| {
        c.append("src/zlibcffi/_zlib.cdef.txt", "/* é */ x y;\n".as_bytes());
    }
    cdef_invalid_utf8: "zlibcffi", |c| {
        c.append("src/zlibcffi/_zlib.cdef.txt", b"int caf\xe9(void);\n");
    }
    pyproject_invalid_utf8: "zlibcffi", |c| {
        let path = c.path("pyproject.toml");
        let text = std::fs::read(&path).unwrap();
        let at = text.windows(19).position(|w| w == b"description = \"zlib").unwrap() + 15;
        let mut bad = text[..at].to_vec();
        bad.extend_from_slice(b"\xff ");
        bad.extend_from_slice(&text[at..]);
        std::fs::write(&path, bad).unwrap();
    }
    source_date_epoch_not_a_number: "zlibcffi", |c| {
        c.env.push(("SOURCE_DATE_EPOCH", "yesterday".into()));
    }
}
