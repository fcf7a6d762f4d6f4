//! Inputs the fuzzers (fuzz/, `cargo fuzz run <target>`) found crashing,
//! kept as regression tests, and the nesting the parser refuses: every one is
//! a located error, never a panic or a stack overflow (tests run on 2 MiB
//! threads, smaller than the 8 MiB a build hook's thread has).

use headerwheel::cdef::CdefInput;
use headerwheel::emit::{self, CffiRuntime, EmitOptions};

fn runtime() -> CffiRuntime {
    CffiRuntime {
        include_h: "#include \"parse_c_type.h\"\n".into(),
        parse_c_type_h: String::new(),
        errors_h: String::new(),
        embedding_h: "#include \"_cffi_errors.h\"\n".into(),
    }
}

/// Both emitters on `text`: the C emitter's result (the Python one must agree
/// on acceptance).
fn emit_both(text: &str) -> Result<String, String> {
    let inputs = [CdefInput::new(text, "input.cdef")];
    let options = EmitOptions::default();
    let c = emit::c_source("_m", &inputs, "", &runtime(), &options).map_err(|e| e.to_string());
    let py = emit::py_source("_m", &inputs, &options).map_err(|e| e.to_string());
    assert_eq!(
        c.is_ok(),
        py.is_ok(),
        "the C and Python emitters disagree: {c:?} / {py:?}"
    );
    c
}

#[test]
fn every_kept_fuzz_input_gives_a_result_or_a_located_error() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fuzz-regressions/cdef_parse"
    );
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        if let Err(e) = emit_both(&text) {
            assert!(
                e.contains("input.cdef:"),
                "{}: error without a location: {e}",
                path.display()
            );
        }
        n += 1;
    }
    assert!(n >= 1);
}

#[test]
fn a_struct_holding_itself_as_an_anonymous_member_is_an_error() {
    let e = emit_both("struct foo_s { int x; struct foo_s { int x; }; };").unwrap_err();
    assert!(
        e.contains("input.cdef:1:8:") && e.contains("contains itself through anonymous members"),
        "{e}"
    );
    let e =
        emit_both("struct a { int x; struct b; };\nstruct b { int y; struct a; };").unwrap_err();
    assert!(
        e.contains("contains itself through anonymous members"),
        "{e}"
    );
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let n = 20_000;
    let cases = [
        format!("int a[{}1{}];", "(".repeat(n), ")".repeat(n)),
        format!("int {}f{}(void);", "(*".repeat(n), ")".repeat(n)),
        format!(
            "struct s {{ {} int x; {} }};",
            "struct { ".repeat(n),
            "};".repeat(n)
        ),
        format!("int a[{}1];", "-".repeat(n)),
        format!("int a[{}1];", "- ".repeat(n)),
        format!("void f({}int{});", "void (*)(".repeat(n), ")".repeat(n)),
        format!("int a[{}];", "sizeof ".repeat(n) + "1"),
    ];
    for text in &cases {
        let e = emit_both(text).unwrap_err();
        assert!(
            e.contains("nesting deeper than 200 levels"),
            "{}: {e}",
            &text[..40]
        );
    }
    // 200 levels are fine.
    let ok = format!("int a[{}1{}];", "(".repeat(190), ")".repeat(190));
    emit_both(&ok).unwrap();
}

#[test]
fn a_typedef_chain_nesting_too_deep_is_refused() {
    let mut text = String::from("typedef int *t0;\n");
    for i in 0..100_000 {
        text.push_str(&format!("typedef t{i} *t{};\n", i + 1));
    }
    let e = emit_both(&text).unwrap_err();
    assert!(
        e.contains("input.cdef:400:14: a type nested deeper than 400 levels"),
        "{}",
        &e[..200.min(e.len())]
    );
    // 300 levels compile.
    let mut text = String::from("typedef int *t0;\n");
    for i in 0..300 {
        text.push_str(&format!("typedef t{i} *t{};\n", i + 1));
    }
    text.push_str("void f(t300);\n");
    emit_both(&text).unwrap();
}

#[test]
fn headers_that_crash_libclang_are_an_error_not_a_crash() {
    use headerwheel::headers::{self, ParseRequest};
    if headers::locate::local_identity().is_none() {
        eprintln!("SKIPPED: no libclang on this machine");
        return;
    }
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fuzz-regressions/header_roundtrip"
    );
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let req = ParseRequest {
            header: "/headerwheel-test/fuzz.h".into(),
            code: Some(String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()),
            ..Default::default()
        };
        // libclang 14 crashes inside on this one and recovers: an error.
        let e = headers::parse(&req).expect_err("a malformed header is an error");
        assert!(!e.to_string().is_empty());
    }
}
