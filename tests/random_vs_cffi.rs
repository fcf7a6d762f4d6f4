//! Differential test beyond the corpus: `tests/tools/random_cdefs.py`
//! generates random cdefs (with includes, packing and embedding) and has
//! CFFI 2.1.1 emit them; our parser and emitter must give the same bytes,
//! or reject what CFFI rejects.
//!
//! The seeds are fixed (0..400), so a failure reproduces; widen the search
//! with `HEADERWHEEL_RANDOM_SEEDS=FIRST:COUNT`. Skipped with a message when
//! no Python has cffi 2.1.1 (a failure under `HEADERWHEEL_REQUIRE_CORPUS=1`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use headerwheel::commands::case::Case;
use headerwheel::emit::CffiRuntime;

fn seeds() -> (u64, u64) {
    match std::env::var("HEADERWHEEL_RANDOM_SEEDS") {
        Ok(s) => {
            let (a, b) = s
                .split_once(':')
                .expect("HEADERWHEEL_RANDOM_SEEDS is FIRST:COUNT");
            (a.parse().expect("FIRST"), b.parse().expect("COUNT"))
        }
        Err(_) => (0, 400),
    }
}

/// The first differing line, with its neighbours, for the failure message.
fn first_difference(got: &str, want: &str) -> String {
    let g: Vec<&str> = got.lines().collect();
    let w: Vec<&str> = want.lines().collect();
    let i = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    let from = i.saturating_sub(2);
    let show = |v: &[&str]| {
        v.iter()
            .enumerate()
            .skip(from)
            .take(5)
            .map(|(n, l)| format!("      {:5} {l}", n + 1))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "first difference at line {}\n    got:\n{}\n    want:\n{}",
        i + 1,
        show(&g),
        show(&w)
    )
}

#[test]
fn random_cdefs_emit_as_cffi_emits_them() {
    let Some(python) = common::python_with_cffi() else {
        return;
    };
    let (first, count) = seeds();
    let tmp = tempfile::tempdir().expect("temp dir");
    let tool = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/random_cdefs.py");
    let status = Command::new(&python)
        .arg(&tool)
        .arg(tmp.path())
        .arg(first.to_string())
        .arg(count.to_string())
        .status()
        .expect("python runs");
    assert!(status.success(), "{} failed", tool.display());
    let runtime = CffiRuntime::from_dir(&common::cffi_dir().expect("cffi is importable"))
        .expect("CFFI's headers");
    let (mut same, mut rejected) = (0, 0);
    let mut failures = Vec::new();
    for seed in first..first + count {
        let path = |ext: &str| tmp.path().join(format!("{seed}.{ext}"));
        let case = Case::from_json(&std::fs::read_to_string(path("json")).unwrap()).unwrap();
        let ours = common::emit_case(&case, &runtime);
        let cdefs = || -> String {
            case.ops
                .iter()
                .map(|op| format!("{op:?}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        match (ours, read(&path("expected")), read(&path("error"))) {
            (Ok(got), Some(want), _) if got == want => same += 1,
            (Ok(got), Some(want), _) => failures.push(format!(
                "seed {seed}: output differs from CFFI's; {}\n  case: {}",
                first_difference(&got, &want),
                cdefs()
            )),
            (Err(_), None, Some(_)) => rejected += 1,
            (Err(e), Some(_), _) => failures.push(format!(
                "seed {seed}: we reject what CFFI accepts: {e}\n  case: {}",
                cdefs()
            )),
            (Ok(_), None, Some(cffi_error)) => failures.push(format!(
                "seed {seed}: we accept what CFFI rejects ({cffi_error})\n  case: {}",
                cdefs()
            )),
            (_, None, None) => panic!("seed {seed}: the tool wrote no outcome"),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} random cases differ from CFFI ({same} identical, {rejected} rejected by both):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        same >= count as usize / 2,
        "only {same} of {count} random cases were accepted by CFFI: the generator has drifted"
    );
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}
