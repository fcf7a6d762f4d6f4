//! Any bytes as pyproject.toml (with [tool.headerwheel] and
//! [tool.headerkit]): loaded or refused with a located error, never a panic.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| {
        let d = tempfile::tempdir().expect("temp dir");
        for pkg in ["pkg", "src/pkg", "zlibcffi", "src/zlibcffi"] {
            std::fs::create_dir_all(d.path().join(pkg)).unwrap();
            std::fs::write(d.path().join(pkg).join("__init__.py"), "").unwrap();
        }
        std::fs::create_dir_all(d.path().join("include")).unwrap();
        std::fs::write(d.path().join("include/x.h"), "int x(void);\n").unwrap();
        std::fs::write(d.path().join("README.md"), "# x\n").unwrap();
        d
    });
    if std::fs::write(dir.path().join("pyproject.toml"), data).is_err() {
        return;
    }
    match headerwheel::project::Project::load(dir.path()) {
        Ok(_) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
