//! `headerwheel stubs`: the `.pyi` of a module, from its cdef.

use std::path::Path;

use super::{StubsArgs, write_atomic};

/// `headerwheel stubs MODULE CDEF [--abi] [-o OUT]`: the `.pyi` a build puts
/// beside the module.
pub(super) fn stubs(a: StubsArgs) -> Result<(), String> {
    use crate::emit::stubs::{StubMode, stub_source};
    let mode = if a.abi { StubMode::Abi } else { StubMode::Api };
    let (module, cdef) = (&a.module, &a.cdef);
    let bytes = std::fs::read(cdef).map_err(|e| format!("{cdef}: {e}"))?;
    let text = crate::text::utf8(bytes, Path::new(cdef)).map_err(|e| e.to_string())?;
    let input = crate::cdef::CdefInput::new(text, cdef.as_str());
    let (types, ffi) = crate::emit::parse_all(&[input]).map_err(|e| e.to_string())?;
    let stub = stub_source(module, &types, &ffi, mode);
    match &a.out {
        Some(o) => write_atomic(o, &stub),
        None => {
            print!("{stub}");
            Ok(())
        }
    }
}
