//! The emitter against CFFI: every corpus case replayed in-process must
//! give CFFI 2.1.1's recorded output byte for byte, and every case CFFI
//! rejects must be rejected. The same again for each cffi version whose
//! output `scripts/corpus-oracles` regenerated under `build/cffi-oracles/`
//! (with that version's headers and `EmitOptions::cffi_version`).

mod common;

use std::path::Path;

use headerwheel::commands::case::Case;
use headerwheel::emit::{self, CffiRuntime, CffiVersion, EmitOptions};

fn run(case: &Case, runtime: &CffiRuntime) -> Result<String, String> {
    run_with(case, runtime, &EmitOptions::default())
}

fn run_with(case: &Case, runtime: &CffiRuntime, options: &EmitOptions) -> Result<String, String> {
    let mut r = case.replay().map_err(|e| e.to_string())?;
    if !r.problems.is_empty() {
        return Err(format!("{:?}", r.problems));
    }
    let ffi = r.ffis.remove(&case.target_ffi).expect("target FFI");
    if case.target == "c" {
        emit::emit_c(
            &mut r.types,
            &ffi,
            &case.module_name,
            case.preamble.as_deref().unwrap_or(""),
            runtime,
            options,
        )
    } else {
        emit::emit_py(&mut r.types, &ffi, &case.module_name, options)
    }
    .map_err(|e| e.to_string())
}

/// `id: differs at line N`, with both lines.
fn first_difference(id: &str, got: &str, expected: &str) -> String {
    let line = got
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| got.lines().count().min(expected.lines().count()));
    format!(
        "{id}: differs at line {}:\n   got: {:?}\n  want: {:?}",
        line + 1,
        got.lines().nth(line).unwrap_or("<end>"),
        expected.lines().nth(line).unwrap_or("<end>")
    )
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
            Ok(got) => failures.push(first_difference(&case.id, &got, &expected)),
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

/// The output of cffi `version` for every corpus case, as
/// `scripts/corpus-oracles` wrote it, or `None` with a message when it has
/// not been run; panics instead when `HEADERWHEEL_REQUIRE_CFFI_ORACLES=1`.
fn oracle(version: &str) -> Option<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("build/cffi-oracles")
        .join(version);
    let complete = ["stamp.json", "errors.json", "cffi-dir"]
        .iter()
        .all(|f| dir.join(f).is_file())
        && dir.join("expected").is_dir();
    if complete {
        return Some(dir);
    }
    if std::env::var("HEADERWHEEL_REQUIRE_CFFI_ORACLES").as_deref() == Ok("1") {
        panic!(
            "the cffi {version} oracle is required (HEADERWHEEL_REQUIRE_CFFI_ORACLES=1) but {} \
             is incomplete: run scripts/corpus-oracles",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: no cffi {version} oracle at {} (run scripts/corpus-oracles)",
        dir.display()
    );
    None
}

/// Every corpus case emitted as cffi `version` would (its headers, its
/// `cffi_version`) against that version's own output; every case it
/// rejects rejected.
fn matches_oracle(version: &str) {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let Some(dir) = oracle(version) else { return };
    let cffi_dir = std::fs::read_to_string(dir.join("cffi-dir")).unwrap();
    let cffi_dir = Path::new(cffi_dir.trim());
    let runtime = CffiRuntime::from_dir(cffi_dir).expect("the oracle's cffi headers");
    let options = EmitOptions {
        cffi_version: CffiVersion::from_dir(cffi_dir).expect("a supported cffi"),
        ..EmitOptions::default()
    };
    let errors: std::collections::BTreeMap<String, Option<(String, String)>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("errors.json")).unwrap())
            .expect("errors.json");
    let (mut n, mut same, mut failures) = (0, 0, Vec::new());
    for case_dir in cases(&corpus) {
        let case =
            Case::from_json(&std::fs::read_to_string(case_dir.join("case.json")).unwrap()).unwrap();
        n += 1;
        let got = run_with(&case, &runtime, &options);
        let expected = dir
            .join("expected")
            .join(format!("{}.{}", case.id, case.target));
        match (std::fs::read_to_string(&expected), got) {
            (Ok(want), Ok(got)) if got == want => same += 1,
            (Ok(want), Ok(got)) => failures.push(first_difference(&case.id, &got, &want)),
            (Ok(_), Err(e)) => failures.push(format!("{}: error: {e}", case.id)),
            (Err(_), got) => match (errors.get(&case.id), got) {
                (Some(Some(_)), Err(_)) => same += 1,
                (Some(Some(e)), Ok(_)) => failures.push(format!(
                    "{}: accepted, cffi {version} raises {e:?}",
                    case.id
                )),
                _ => failures.push(format!("{}: no output of cffi {version}", case.id)),
            },
        }
    }
    let (mut e, mut rejected, mut accepted) = (0, 0, Vec::new());
    for case_dir in cases(&corpus.join("errors")) {
        let case =
            Case::from_json(&std::fs::read_to_string(case_dir.join("case.json")).unwrap()).unwrap();
        e += 1;
        let cffi_rejects = matches!(errors.get(&case.id), Some(Some(_)));
        let we_reject = run_with(&case, &runtime, &options).is_err();
        if we_reject == cffi_rejects {
            rejected += 1;
        } else {
            accepted.push(case.id.clone());
        }
    }
    eprintln!("cffi {version}: {same} of {n} identical");
    eprintln!("cffi {version}: {rejected} of {e} error cases rejected as cffi rejects them");
    assert!(n >= 1500, "only {n} cases found");
    assert!(e >= 380, "only {e} error cases found");
    assert!(
        failures.is_empty() && accepted.is_empty(),
        "{} of {n} corpus cases differ from cffi {version}:\n{}\nerror cases decided \
         otherwise than cffi {version}: {accepted:?}",
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
fn every_corpus_case_is_byte_identical_to_cffi_1_15_1() {
    matches_oracle("1.15.1");
}

#[test]
fn every_corpus_case_is_byte_identical_to_cffi_1_16_0() {
    matches_oracle("1.16.0");
}

/// The first `name` on `PATH`.
fn on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The cffi built into the system's PyPy (`pypy3` on PATH), whose oracle
/// `scripts/corpus-oracles` writes to `pypy-<its cffi version>`: required
/// under `HEADERWHEEL_REQUIRE_CFFI_ORACLES=1` only where a `pypy3` is.
#[test]
fn every_corpus_case_is_byte_identical_to_pypys_cffi() {
    let Some(pypy) = on_path("pypy3") else {
        eprintln!("SKIPPED: no pypy3 on PATH, so no oracle of PyPy's own cffi");
        return;
    };
    let out = std::process::Command::new(&pypy)
        .args(["-c", "import cffi; print(cffi.__version__)"])
        .output()
        .expect("pypy3 runs");
    assert!(
        out.status.success(),
        "{} cannot import cffi: {}",
        pypy.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    matches_oracle(&format!("pypy-{version}"));
}

#[test]
fn every_corpus_case_is_byte_identical_to_cffi_1_17_1() {
    matches_oracle("1.17.1");
}

#[test]
fn every_corpus_case_is_byte_identical_to_cffi_2_0_0() {
    matches_oracle("2.0.0");
}

#[test]
fn every_corpus_case_is_byte_identical_to_cffi_2_1_1() {
    matches_oracle("2.1.1");
}
