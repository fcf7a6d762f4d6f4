//! Any text as a cdef: parsed (every error located, never a panic or a
//! hang), and when it parses, emitted in both modes.
#![no_main]
use headerwheel::cdef::CdefInput;
use headerwheel::emit::{self, CffiRuntime, EmitOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let inputs = [CdefInput::new(text, "fuzz.cdef")];
    let options = EmitOptions::default();
    match emit::py_source("_fuzz", &inputs, &options) {
        Ok(_) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    let runtime = CffiRuntime {
        include_h: "/* include */\n#include \"parse_c_type.h\"\n".into(),
        parse_c_type_h: "/* parse_c_type */\n".into(),
        errors_h: String::new(),
        embedding_h: "#include \"_cffi_errors.h\"\n".into(),
    };
    let _ = emit::c_source("_fuzz", &inputs, "", &runtime, &options);
});
