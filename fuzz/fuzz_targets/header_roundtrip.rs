//! Parse → write → parse: any text as a C header, parsed by libclang into
//! the header model; when it parses, the written cdef is accepted by our own
//! cdef parser, and the model read back from its stored form (the cache's
//! model layer, JSON) writes the same cdef. Needs libclang (LIBCLANG_PATH or
//! the system's).
#![no_main]
use headerwheel::cdef::writer::{self, WriterOptions};
use headerwheel::cdef::{CdefInput, Ffi};
use headerwheel::headers::{self, ParseRequest, decls::HeaderModel};
use headerwheel::model::Types;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.contains("#include") || text.contains("#pragma") || text.contains("#embed") {
        return; // the fuzzer's headers are self-contained: no reading the machine's files
    }
    let req = ParseRequest {
        header: "/headerwheel-fuzz/fuzz.h".into(),
        code: Some(text.to_owned()),
        ..Default::default()
    };
    let model = match headers::parse(&req) {
        Ok(m) => m,
        Err(headers::HeaderError::NoLibclang(e)) => panic!("libclang: {e}"),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    for macro_values in [false, true] {
        let opts = WriterOptions {
            macro_values,
            ..Default::default()
        };
        let written = writer::write(&model, &opts);
        let mut types = Types::new();
        let mut ffi = Ffi::new();
        if let Err(e) = ffi.cdef(
            &mut types,
            &CdefInput::new(written.cdef.as_str(), "written.cdef"),
        ) {
            panic!(
                "the written cdef does not parse: {e}\n--- header\n{text}\n--- cdef\n{}",
                written.cdef
            );
        }
        let stored = serde_json::to_vec(&model).expect("model serializes");
        let back: HeaderModel = serde_json::from_slice(&stored).expect("model reads back");
        assert_eq!(back, model);
        assert_eq!(writer::write(&back, &opts), written);
    }
});
