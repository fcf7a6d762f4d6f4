//! `headerwheel gen-src`: cdef → the C source of an API-mode module or the
//! Python source of an ABI-mode one, as `cffi-gen-src` writes them (and a
//! CFFI corpus case replayed).

use std::path::Path;

use super::{GenSrcArgs, GenSrcSources, case, usage_error, write_atomic};

/// The usage errors clap cannot see in `gen-src`'s arguments: neither
/// `read-sources` nor `--case-json`, or the wrong files for the mode.
pub(super) fn gen_src_usage(a: &GenSrcArgs) -> Option<i32> {
    use clap::error::ErrorKind;
    match &a.sources {
        None if a.case_json.is_none() => Some(usage_error(
            &["gen-src"],
            ErrorKind::MissingSubcommand,
            "give `read-sources MODULE CDEF [CSRC] OUT` or `--case-json CASE.json --out OUT`",
        )),
        Some(GenSrcSources::ReadSources { files, .. }) if files.len() != 2 - usize::from(a.abi) => {
            Some(usage_error(
                &["gen-src", "read-sources"],
                ErrorKind::WrongNumberOfValues,
                if a.abi {
                    "ABI mode reads MODULE CDEF OUT (no CSRC)"
                } else {
                    "API mode reads MODULE CDEF CSRC OUT"
                },
            ))
        }
        _ => None,
    }
}

pub(super) fn gen_src(a: GenSrcArgs) -> Result<(), String> {
    use crate::emit::{self, EmitOptions};
    // ABI-mode output is the same for every supported cffi: its version is
    // only read when a cffi is named or needed for C.
    let mut options = EmitOptions {
        no_limited_api: a.no_limited_api,
        ..EmitOptions::default()
    };
    if let Some(dir) = &a.cffi_dir {
        options.cffi_version = emit::CffiVersion::from_dir(dir).map_err(|e| e.0)?;
    }
    if let Some(case_path) = &a.case_json {
        let out = a.out.as_ref().ok_or("--case-json needs --out")?;
        let text = std::fs::read_to_string(case_path)
            .map_err(|e| format!("{}: {e}", case_path.display()))?;
        let case =
            case::Case::from_json(&text).map_err(|e| format!("{}: {e}", case_path.display()))?;
        let mut r = case.replay().map_err(|e| e.to_string())?;
        let ffi = r
            .ffis
            .remove(&case.target_ffi)
            .expect("the target FFI exists");
        let result = if case.target == "c" {
            let (runtime, cffi_version) = runtime(a.cffi_dir.as_deref())?;
            options.cffi_version = cffi_version;
            emit::emit_c(
                &mut r.types,
                &ffi,
                &case.module_name,
                case.preamble.as_deref().unwrap_or(""),
                &runtime,
                &options,
            )
        } else {
            emit::emit_py(&mut r.types, &ffi, &case.module_name, &options)
        };
        let text = result.map_err(|e| e.to_string())?;
        return write_atomic(out, &text);
    }
    let Some(GenSrcSources::ReadSources {
        module,
        cdef,
        files,
    }) = &a.sources
    else {
        unreachable!("gen_src_usage checked read-sources or --case-json");
    };
    let read = |p: &str| {
        let bytes = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?;
        crate::text::utf8(bytes, Path::new(p)).map_err(|e| e.to_string())
    };
    if a.abi {
        let [out] = files.as_slice() else {
            unreachable!("gen_src_usage checked the files");
        };
        let input = crate::cdef::CdefInput::new(read(cdef)?, cdef.as_str());
        let text = emit::py_source(module, &[input], &options).map_err(|e| e.to_string())?;
        write_atomic(Path::new(out), &text)
    } else {
        let [csrc, out] = files.as_slice() else {
            unreachable!("gen_src_usage checked the files");
        };
        let input = crate::cdef::CdefInput::new(read(cdef)?, cdef.as_str());
        let preamble = read(csrc)?;
        let (runtime, cffi_version) = runtime(a.cffi_dir.as_deref())?;
        options.cffi_version = cffi_version;
        if a.bench > 0 {
            // One untimed run first (page faults, the allocator's first
            // growth), as the peer's loop in bench/run does.
            let mut times = Vec::new();
            for i in 0..=a.bench {
                let t = std::time::Instant::now();
                let text = emit::c_source(
                    module,
                    std::slice::from_ref(&input),
                    &preamble,
                    &runtime,
                    &options,
                )
                .map_err(|e| e.to_string())?;
                if i > 0 {
                    times.push(t.elapsed().as_secs_f64());
                }
                std::hint::black_box(text);
            }
            times.sort_by(f64::total_cmp);
            eprintln!(
                "bench: parse+emit median {:.6} s over {} runs",
                times[times.len() / 2],
                times.len()
            );
        }
        let text = emit::c_source(module, &[input], &preamble, &runtime, &options)
            .map_err(|e| e.to_string())?;
        write_atomic(Path::new(out), &text)
    }
}

/// CFFI's headers and version, from `dir`, `$HEADERWHEEL_CFFI_DIR`, or the
/// `cffi` package of `python3`.
fn runtime(
    dir: Option<&Path>,
) -> Result<(crate::emit::CffiRuntime, crate::emit::CffiVersion), String> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => super::locate::cffi_dir().map_err(|e| e.to_string())?,
    };
    let version = crate::emit::CffiVersion::from_dir(&dir).map_err(|e| e.0)?;
    let runtime = crate::emit::CffiRuntime::from_dir(&dir).map_err(|e| e.to_string())?;
    Ok((runtime, version))
}
