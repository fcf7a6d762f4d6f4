//! The cdef parser against CFFI's own: for every corpus case, the target
//! FFI's declarations (keys, order, qualifiers, C names, struct fields, enum
//! values, partial/packed flags) and integer constants must equal what
//! cffi 2.1.1's parser holds after the same operations.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use headerwheel::cdef::debug_dump;
use headerwheel::commands::case::Case;

#[test]
fn parser_state_equals_cffi_on_every_corpus_case() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let Some(py) = common::python_with_cffi() else {
        return;
    };
    let out = tempfile::NamedTempFile::new().unwrap();
    let tool = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/cffi_decls.py");
    let st = Command::new(&py)
        .arg(tool)
        .arg(&corpus)
        .arg(out.path())
        .status()
        .unwrap();
    assert!(st.success(), "{tool} failed");
    let mut expected: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for line in std::fs::read_to_string(out.path()).unwrap().lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = v["id"].as_str().unwrap().to_string();
        v.as_object_mut().unwrap().remove("id");
        expected.insert(id, v);
    }
    assert!(
        expected.len() >= 1500,
        "only {} cases dumped",
        expected.len()
    );
    let mut failures = Vec::new();
    for (id, want) in &expected {
        let text = std::fs::read_to_string(corpus.join(id).join("case.json")).unwrap();
        let case = Case::from_json(&text).unwrap();
        let got = match case.replay() {
            Ok(r) => {
                if !r.problems.is_empty() {
                    failures.push(format!("{id}: {:?}", r.problems));
                    continue;
                }
                debug_dump(&r.types, &r.ffis[&case.target_ffi])
            }
            Err(e) => {
                failures.push(format!("{id}: error {e}"));
                continue;
            }
        };
        if &got != want {
            let g = got.to_string();
            let w = want.to_string();
            let at = g
                .bytes()
                .zip(w.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let lo = at.saturating_sub(80);
            failures.push(format!(
                "{id}: differs\n   got: ...{}\n  want: ...{}",
                &g[lo..(at + 80).min(g.len())],
                &w[lo..(at + 80).min(w.len())]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from CFFI's parser:\n{}",
        failures.len(),
        expected.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
