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
        panic!("the CFFI corpus is required (HEADERWHEEL_REQUIRE_CORPUS=1) but {} is absent", dir.display());
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
            .args(["-c", "import cffi, sys; sys.exit(0 if cffi.__version__ == '2.1.1' else 1)"])
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
