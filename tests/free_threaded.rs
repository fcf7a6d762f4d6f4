//! Free-threaded CPython is not installable here, so its path is compiled
//! where that is meaningful: a module emitted for a free-threaded 3.13 (no
//! limited API, `Py_GIL_DISABLED`) compiles against CPython 3.13's own
//! headers with `-DPy_GIL_DISABLED=1`, as a free-threaded build's pyconfig.h
//! would define it; the same module emitted for a GIL build keeps the limited
//! API. Needs pyenv's CPython 3.13 (its headers) and a cffi (its headers to
//! inline): skipped with a message when either is missing, failing under
//! `CI=true`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use headerwheel::cdef::CdefInput;
use headerwheel::emit::{self, CffiRuntime, CffiVersion, EmitOptions};

const CDEF: &str = "
typedef struct { int x; double y; } point_t;
int add(int, int);
double norm(point_t *);
#define ANSWER 42
extern \"Python\" int callback(int);
";

const PREAMBLE: &str = "
typedef struct { int x; double y; } point_t;
static int add(int a, int b) { return a + b; }
static double norm(point_t *p) { return p->x * p->x + p->y * p->y; }
#define ANSWER 42
";

fn missing(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} (scripts/setup installs it)");
    }
    eprintln!("SKIPPED: {what}");
}

fn python313_include() -> Option<PathBuf> {
    let root = std::env::var("PYENV_ROOT").unwrap_or_else(|_| "/root/.pyenv".into());
    let mut found: Vec<PathBuf> = std::fs::read_dir(PathBuf::from(root).join("versions"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("3.13."))
        })
        .map(|p| p.join("include/python3.13"))
        .filter(|p| p.join("Python.h").is_file())
        .collect();
    found.sort();
    found.pop()
}

#[test]
fn a_module_emitted_for_free_threaded_3_13_compiles_with_py_gil_disabled() {
    let Some(include) = python313_include() else {
        return missing("CPython 3.13's headers are not installed under pyenv");
    };
    let Some(cffi_dir) = common::cffi_dir() else {
        return missing("no Python with cffi 2.1.1");
    };
    let runtime = CffiRuntime::from_dir(&cffi_dir).expect("cffi's headers");
    let version = CffiVersion::from_dir(&cffi_dir).expect("a supported cffi");
    let cdef = CdefInput::new(CDEF.to_string(), "ft.cdef");
    let dir = tempfile::tempdir().unwrap();
    let mut no_limited = Vec::new();
    for (free_threaded, define) in [(true, true), (false, false)] {
        let options = EmitOptions::for_interpreter((3, 13), free_threaded, 4, 8, version);
        let c = emit::c_source(
            "ft_mod",
            std::slice::from_ref(&cdef),
            PREAMBLE,
            &runtime,
            &options,
        )
        .expect("the module emits");
        // cffi 2.x writes `#define _CFFI_NO_LIMITED_API` for a free-threaded
        // build before 3.15 (cffi's inlined headers mention it too: count).
        no_limited.push(
            c.lines()
                .filter(|l| l.trim() == "#define _CFFI_NO_LIMITED_API")
                .count(),
        );
        let src = dir.path().join(format!("ft_{free_threaded}.c"));
        std::fs::write(&src, &c).unwrap();
        let mut cc = Command::new("cc");
        cc.arg("-c")
            .arg("-Wall")
            .arg("-Werror=implicit-function-declaration")
            .arg("-fPIC")
            .arg("-I")
            .arg(&include)
            .arg(&src)
            .arg("-o")
            .arg(src.with_extension("o"));
        if define {
            cc.arg("-DPy_GIL_DISABLED=1");
        }
        let out = cc.output().expect("cc runs");
        assert!(
            out.status.success(),
            "free_threaded={free_threaded}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if version != CffiVersion::V1_17 {
        assert_eq!(no_limited[0], no_limited[1] + 1, "{no_limited:?}");
    }
}
