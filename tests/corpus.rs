//! The emitter against CFFI 2.1.1: every corpus case replayed in-process
//! must give CFFI's recorded output byte for byte, and every case CFFI
//! rejects must be rejected.

mod common;

use std::path::Path;

use headerwheel::cli::case::Case;
use headerwheel::emit::{self, CffiRuntime, EmitOptions};

fn run(case: &Case, runtime: &CffiRuntime) -> Result<String, String> {
    let mut r = case.replay().map_err(|e| e.to_string())?;
    if !r.problems.is_empty() {
        return Err(format!("{:?}", r.problems));
    }
    let ffi = r.ffis.remove(&case.target_ffi).expect("target FFI");
    let options = EmitOptions::default();
    if case.target == "c" {
        emit::emit_c(
            &mut r.types,
            &ffi,
            &case.module_name,
            case.preamble.as_deref().unwrap_or(""),
            runtime,
            &options,
        )
    } else {
        emit::emit_py(&mut r.types, &ffi, &case.module_name, &options)
    }
    .map_err(|e| e.message)
}

fn cases(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    v.sort();
    v
}

fn runtime() -> Option<CffiRuntime> {
    common::python_with_cffi()?;
    let dir = common::cffi_dir().expect("cffi is importable");
    Some(CffiRuntime::from_dir(&dir).expect("CFFI's headers"))
}

#[test]
fn every_corpus_case_is_byte_identical_to_cffi() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let Some(runtime) = runtime() else { return };
    let mut n = 0;
    let mut failures = Vec::new();
    for dir in cases(&corpus) {
        let case =
            Case::from_json(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        let expected_file = if case.target == "c" {
            "expected.c"
        } else {
            "expected.py"
        };
        let expected = std::fs::read_to_string(dir.join(expected_file)).unwrap();
        n += 1;
        match run(&case, &runtime) {
            Ok(got) if got == expected => {}
            Ok(got) => {
                let line = got
                    .lines()
                    .zip(expected.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| got.lines().count().min(expected.lines().count()));
                failures.push(format!(
                    "{}: differs at line {}:\n   got: {:?}\n  want: {:?}",
                    case.id,
                    line + 1,
                    got.lines().nth(line).unwrap_or("<end>"),
                    expected.lines().nth(line).unwrap_or("<end>")
                ));
            }
            Err(e) => failures.push(format!("{}: error: {e}", case.id)),
        }
    }
    assert!(n >= 1500, "only {n} cases found");
    assert!(
        failures.is_empty(),
        "{} of {n} corpus cases differ from CFFI:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_case_cffi_rejects_is_rejected() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let Some(runtime) = runtime() else { return };
    let mut n = 0;
    let mut accepted = Vec::new();
    for dir in cases(&corpus.join("errors")) {
        let case =
            Case::from_json(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        n += 1;
        if run(&case, &runtime).is_ok() {
            accepted.push(case.id.clone());
        }
    }
    assert!(n >= 380, "only {n} error cases found");
    assert!(
        accepted.is_empty(),
        "accepted although CFFI rejects them: {accepted:?}"
    );
}
