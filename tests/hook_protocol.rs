//! `headerwheel hook`, the conversation the Python shim has with the
//! program: one JSON line in, one JSON line out (a `need` first when the
//! wheel compiles and the request carried no interpreter's facts).
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `headerwheel hook` with `input` on stdin; returns (exit code,
/// stdout lines).
fn converse(input: &str) -> (i32, Vec<serde_json::Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_headerwheel"))
        .arg("hook")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code().unwrap(), lines)
}

fn request(project: &str, hook: &str, out: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(project);
    let req = serde_json::json!({
        "hook": hook, "source_dir": src, "output_dir": out,
        "config_settings": {}, "interpreter": null,
    });
    format!("{req}\n")
}

#[test]
fn a_pure_wheel_needs_no_facts() {
    let out = tempfile::tempdir().unwrap();
    let (code, lines) = converse(&request(
        "purepy",
        "prepare_metadata_for_build_wheel",
        out.path(),
    ));
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(
        lines,
        [serde_json::json!({"result": "hw_pure-0.3.1.dist-info"})]
    );
}

#[test]
fn a_wheel_that_compiles_asks_for_the_facts_and_ends_cleanly_without_them() {
    let out = tempfile::tempdir().unwrap();
    let (code, lines) = converse(&request("zlibcffi", "build_wheel", out.path()));
    assert_eq!(code, 1);
    assert_eq!(
        lines,
        [
            serde_json::json!({"need": "interpreter"}),
            serde_json::json!({"error": "the hook's input ended before the interpreter's facts"}),
        ]
    );
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn a_bad_request_is_an_error_reply() {
    let (code, lines) = converse("{\"hook\": 3}\n");
    assert_eq!(code, 1);
    let error = lines[0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("internal error: bad hook input (the request): "),
        "{error}"
    );
}
