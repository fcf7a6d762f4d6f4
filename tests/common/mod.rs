//! Shared helpers of the integration tests: where the CFFI corpus and
//! cffi 2.1.1 are.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The CFFI corpus (`../shared/corpus/cffi`), or `None` with a message when
/// it is absent; panics instead when `HEADERWHEEL_REQUIRE_CORPUS=1`.
pub fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/cffi");
    if dir.join("README.md").is_file() {
        return Some(dir);
    }
    if std::env::var("HEADERWHEEL_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!(
            "the CFFI corpus is required (HEADERWHEEL_REQUIRE_CORPUS=1) but {} is absent",
            dir.display()
        );
    }
    eprintln!("SKIPPED: the CFFI corpus is absent at {}", dir.display());
    None
}

/// A Python with cffi 2.1.1 importable, or `None` with a message.
pub fn python_with_cffi() -> Option<String> {
    let candidates = [
        std::env::var("HEADERWHEEL_PYTHON").ok(),
        Some(format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR"))),
        Some("python3".to_string()),
    ];
    for py in candidates.into_iter().flatten() {
        let ok = Command::new(&py)
            .args([
                "-c",
                "import cffi, sys; sys.exit(0 if cffi.__version__ == '2.1.1' else 1)",
            ])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(py);
        }
    }
    if std::env::var("HEADERWHEEL_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("cffi 2.1.1 is required (HEADERWHEEL_REQUIRE_CORPUS=1) but no Python has it");
    }
    eprintln!("SKIPPED: no Python with cffi 2.1.1");
    None
}

/// The cffi package directory of the Python [`python_with_cffi`] found
/// (not whatever `python3` is first on PATH: its cffi may be another version).
pub fn cffi_dir() -> Option<std::path::PathBuf> {
    let py = python_with_cffi()?;
    let out = Command::new(&py)
        .args([
            "-c",
            "import cffi, os; print(os.path.dirname(cffi.__file__))",
        ])
        .output()
        .expect("the Python found with cffi runs");
    Some(String::from_utf8_lossy(&out.stdout).trim().into())
}

/// Our emitter's output for the target FFI of an already replayed corpus
/// case (the FFI is taken out of `replayed`).
pub fn emit_replayed(
    case: &headerwheel::commands::case::Case,
    replayed: &mut headerwheel::commands::case::Replayed,
    runtime: &headerwheel::emit::CffiRuntime,
) -> Result<String, String> {
    use headerwheel::emit::{self, EmitOptions};
    if !replayed.problems.is_empty() {
        return Err(format!("{:?}", replayed.problems));
    }
    let ffi = replayed
        .ffis
        .remove(&case.target_ffi)
        .ok_or("no target FFI")?;
    let options = EmitOptions::default();
    if case.target == "c" {
        let preamble = case.preamble.as_deref().unwrap_or("");
        emit::emit_c(
            &mut replayed.types,
            &ffi,
            &case.module_name,
            preamble,
            runtime,
            &options,
        )
    } else {
        emit::emit_py(&mut replayed.types, &ffi, &case.module_name, &options)
    }
    .map_err(|e| e.to_string())
}

/// Replays a corpus case and emits its target FFI with our emitter.
pub fn emit_case(
    case: &headerwheel::commands::case::Case,
    runtime: &headerwheel::emit::CffiRuntime,
) -> Result<String, String> {
    let mut replayed = case.replay().map_err(|e| e.to_string())?;
    emit_replayed(case, &mut replayed, runtime)
}
