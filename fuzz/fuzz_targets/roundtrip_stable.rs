//! Parse → emit is a function of the text: parsing a cdef twice gives the
//! same model, and emitting it twice the same bytes (tables are sorted by
//! bytes, never by hash-map order), in C and in Python.
#![no_main]
use headerwheel::cdef::{self, CdefInput, Ffi};
use headerwheel::emit::{self, CffiRuntime, EmitOptions};
use headerwheel::model::Types;
use libfuzzer_sys::fuzz_target;

fn model(text: &str) -> Option<serde_json::Value> {
    let mut types = Types::new();
    let mut ffi = Ffi::new();
    ffi.cdef(&mut types, &CdefInput::new(text, "fuzz.cdef"))
        .ok()?;
    Some(cdef::debug_dump(&types, &ffi))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(first) = model(text) else { return };
    assert_eq!(Some(first), model(text));
    let inputs = [CdefInput::new(text, "fuzz.cdef")];
    let options = EmitOptions::default();
    let runtime = CffiRuntime {
        include_h: "#include \"parse_c_type.h\"\n".into(),
        parse_c_type_h: String::new(),
        errors_h: String::new(),
        embedding_h: "#include \"_cffi_errors.h\"\n".into(),
    };
    let c1 = emit::c_source("_fuzz", &inputs, "", &runtime, &options).ok();
    let c2 = emit::c_source("_fuzz", &inputs, "", &runtime, &options).ok();
    assert_eq!(c1, c2);
    let p1 = emit::py_source("_fuzz", &inputs, &options).ok();
    let p2 = emit::py_source("_fuzz", &inputs, &options).ok();
    assert_eq!(p1, p2);
});
