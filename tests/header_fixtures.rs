//! The header fixtures (fixtures/headers/<case>/) through the library's own
//! header stage, without the installed wheel that tests/test_header_fixtures.py
//! drives: per case,
//!
//! 1. the writer's cdef and warnings are the `insta` snapshots `cdef.snap`
//!    and `warnings.snap` beside the header, with the options of the case's `writer.json` if
//!    it has one (`exclude_patterns`, `symbols`: what the CLI cannot pass);
//! 2. CFFI builds a module from that cdef and the case's `.c`
//!    (tests/tools/header_fixture_module.py), its `check.py` passes, and
//!    every size, alignment, offset and constant the module reports is the C
//!    compiler's.
//!
//! The headers are parsed with the feature-test macros of that Python's
//! `pyconfig.h`, as a build parses them.
//!
//! Step 2 needs a Python with cffi: `HEADERWHEEL_TEST_PYTHON`, else `python3`;
//! without cffi it is skipped, with a note on stderr.

use std::path::{Path, PathBuf};
use std::process::Command;

use headerwheel::cdef::writer::{self, WriterOptions};
use headerwheel::headers::{self, ParseRequest};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The feature-test macros of the test Python's pyconfig.h, as a build
/// parses headers with them (`Python.h` comes first in the module).
fn python_defines() -> Vec<String> {
    let py = std::env::var("HEADERWHEEL_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    match headerwheel::headers::stage::HeaderEnv::of_python(&py) {
        Some(env) => env.python_defines,
        None => {
            eprintln!(
                "no pyconfig.h through {py}: the headers are parsed without Python's feature-test macros"
            );
            Vec::new()
        }
    }
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/headers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// The writer options of a case: the CLI's `--define-pattern .`, plus its
/// `writer.json` (`exclude_patterns`, `symbols`, `macros`, `define_patterns`).
fn options(dir: &Path) -> WriterOptions {
    let mut opts = WriterOptions {
        define_patterns: vec![regex::Regex::new(".").unwrap()],
        ..WriterOptions::default()
    };
    let path = dir.join("writer.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let strings = |key: &str| -> Vec<String> {
            v.get(key)
                .and_then(|x| x.as_array())
                .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
                .unwrap_or_default()
        };
        for p in strings("exclude_patterns") {
            opts.exclude.push(regex::Regex::new(&p).unwrap());
        }
        if let Some(m) = v.get("macros").and_then(|x| x.as_str()) {
            opts.macros = writer::MacroSelection::parse(m)
                .unwrap_or_else(|| panic!("{}: macros = {m:?}", path.display()));
        }
        if v.get("define_patterns").is_some() {
            opts.define_patterns = strings("define_patterns")
                .iter()
                .map(|p| regex::Regex::new(p).unwrap())
                .collect();
        }
        let symbols = strings("symbols");
        if !symbols.is_empty() {
            opts.only = Some(symbols.into_iter().collect());
        }
    }
    opts
}

/// (cdef, warnings) of the case, warnings as the CLI prints them without its
/// prefix and without the case directory's path.
fn generate(dir: &Path) -> (String, String) {
    let case = dir.file_name().unwrap().to_str().unwrap();
    let model = headers::parse(&ParseRequest {
        header: dir.join(format!("{case}.h")),
        include_dirs: vec![dir.to_path_buf()],
        defines: python_defines(),
        ..ParseRequest::default()
    })
    .unwrap_or_else(|e| panic!("{case}: {e}"));
    let w = writer::write(&model, &options(dir));
    let prefix = format!("{}/", dir.display());
    let warnings: String = w
        .warnings
        .iter()
        .map(|l| l.replace(&prefix, "") + "\n")
        .collect();
    (w.cdef, warnings)
}

/// The writer's cdef and warnings of each case are `insta` snapshots beside
/// its header (`fixtures/headers/<case>/cdef.snap`, `warnings.snap`);
/// `cargo insta review` (or `INSTA_UPDATE=always`) updates them.
#[test]
fn every_fixture_header_writes_its_snapshot() {
    insta::glob!("../fixtures/headers", "*/*.h", |header| {
        let dir = header.parent().unwrap();
        let (cdef, warnings) = generate(dir);
        insta::with_settings!({
            snapshot_path => dir,
            prepend_module_to_snapshot => false,
            snapshot_suffix => "",
            omit_expression => true,
        }, {
            insta::assert_snapshot!("cdef", cdef);
            insta::assert_snapshot!("warnings", warnings);
        });
    });
}

fn python() -> Option<String> {
    let py = std::env::var("HEADERWHEEL_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import cffi"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(py)
    } else {
        eprintln!("no cffi in {py} (set HEADERWHEEL_TEST_PYTHON): the modules are not built");
        None
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The C compiler's value of each of `exprs` over the case's header.
fn compiler_answers(dir: &Path, work: &Path, exprs: &[String]) -> Vec<i64> {
    let case = dir.file_name().unwrap().to_str().unwrap();
    let mut prog = format!(
        "#include <stddef.h>\n#include <stdio.h>\n#include \"{case}.h\"\nint main(void) {{\n"
    );
    for e in exprs {
        prog.push_str(&format!("    printf(\"%lld\\n\", (long long)({e}));\n"));
    }
    prog.push_str("    return 0;\n}\n");
    std::fs::write(work.join("layout.c"), prog).unwrap();
    let exe = work.join("layout");
    // With the module's environment: Python.h's feature-test macros.
    run(Command::new("cc")
        .args(["-std=gnu11"])
        .args(python_defines().iter().map(|d| format!("-D{d}")))
        .arg("-I")
        .arg(dir)
        .arg(work.join("layout.c"))
        .arg("-o")
        .arg(&exe));
    run(&mut Command::new(&exe))
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

#[test]
fn every_fixture_module_builds_checks_and_has_the_compilers_layout() {
    let Some(py) = python() else { return };
    let mut failures = Vec::new();
    for dir in cases() {
        let case = dir.file_name().unwrap().to_str().unwrap().to_string();
        let work = tempfile::tempdir().unwrap();
        let work = work.path();
        let (cdef, _) = generate(&dir);
        let cdef_path = work.join(format!("{case}.cdef"));
        std::fs::write(&cdef_path, &cdef).unwrap();
        std::fs::write(work.join("preamble.c"), format!("#include \"{case}.h\"\n")).unwrap();
        let out = Command::new(&py)
            .arg(root().join("tests/tools/header_fixture_module.py"))
            .arg(&dir)
            .arg(&cdef_path)
            .arg(work)
            .arg(format!("_hwfix_{case}"))
            .arg(work.join("preamble.c"))
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{case}: the module does not build:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(work.join("report.json")).unwrap())
                .unwrap();
        if report["check"] != "ok" {
            failures.push(format!("{case}/check.py failed:\n{}", report["check"]));
        }
        for o in report["opaque"].as_array().unwrap() {
            if o.as_str().unwrap().ends_with("has a size") {
                failures.push(format!("{case}: {o}"));
            }
        }
        let queries = report["queries"].as_array().unwrap();
        let constants = report["constants"].as_array().unwrap();
        let exprs: Vec<String> = queries
            .iter()
            .map(|q| q[1].as_str().unwrap().to_string())
            .chain(constants.iter().map(|c| c[0].as_str().unwrap().to_string()))
            .collect();
        let got: Vec<(String, &serde_json::Value)> = queries
            .iter()
            .map(|q| (q[0].as_str().unwrap().to_string(), &q[2]))
            .chain(
                constants
                    .iter()
                    .map(|c| (format!("value of {}", c[0].as_str().unwrap()), &c[1])),
            )
            .collect();
        let want = compiler_answers(&dir, work, &exprs);
        for ((name, g), w) in got.iter().zip(&want) {
            if g.as_i64() != Some(*w) {
                failures.push(format!("{case}: {name}: ffi says {g}, the C compiler {w}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
