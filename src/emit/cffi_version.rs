//! Which cffi's bytes the emitter writes: the cffi of the build environment.
//!
//! The emitted text follows the installed cffi in two ways. Its inlined
//! headers (`_cffi_include.h`, `parse_c_type.h`, `_cffi_errors.h`,
//! `_embedding.h`, the last saying "compiled with cffi version: X") are read
//! from the package itself ([`super::CffiRuntime`]). The rest is written by
//! `recompiler.py` and `model.py`/`commontypes.py`, whose output changed
//! between the supported releases (found by diffing every corpus case's
//! output under cffi 1.15.1, 1.16.0, 1.17.1, 2.0.0 and 2.1.1 with
//! `scripts/corpus-oracles`, and their `recompiler.py`s; the parser and the
//! error messages did not change for any corpus case):
//!
//! | what | 1.15, 1.16 | 1.17 | 2.0 | 2.1 |
//! |---|---|---|---|---|
//! | offset of a field of a struct known only through a pointer typedef | `((char *)&((p)0)->f) - (char *)0` | `((char *)&((p)4096)->f) - (char *)4096` | `(size_t)(` that `)` | as 2.0 |
//! | a qualified pointer to an array | 1.15: `int(const *)[5]` (not C; PyPy's own 1.15.1 as 1.16); 1.16: as 1.17 | `int const (*)[5]` | as 1.17 | as 1.17 |
//! | the complex primitives' C names | `float _Complex`, `double _Complex` | `_cffi_float_complex_t`, `_cffi_double_complex_t` (also as the type table's sort key) | as 1.17 | as 1.17 |
//! | `USE_LIMITED_API` (`#define _CFFI_NO_LIMITED_API` when false) | as 1.17 | always | not on free-threaded builds | not on free-threaded builds older than 3.15 |
//! | module init (`_cffi_pypyinit_`, the `_MSC_VER` stub, `PyInit_`) | as 1.17 | with the Python 2 branches (`#if PY_MAJOR_VERSION >= 3`, `init<name>`) | as 1.17 | Python 3 only |
//! | `_CFFI_PYTHON_STARTUP_FUNC` (embedding) | as 1.17 | `#elif PY_MAJOR_VERSION >= 3` … `#else init<name>` | as 1.17 | `#else PyInit_<name>` |
//! | an enum's enumerator list in `_cffi_enums` | as 1.17 | one string literal | as 1.17 | split into literals of about 100 characters |
//! | non-ASCII embedding init code | as 1.17 | prefixed with `# -*- encoding: utf8 -*-\n` | as 1.17 | as is |
//!
//! The C names (both rows) also order the type table, in ABI mode too. 1.15
//! and 1.16 emit the same recompiler text; no corpus case has a qualified
//! pointer to an array, so on the corpus they differ only in their headers.
//! One change no corpus case reaches is not reproduced: 1.17 gives pycparser
//! the cdef text followed by a newline (`test_missing_newline_bug`).

use std::fmt;
use std::path::Path;

/// A cffi release series whose recompiler output headerwheel reproduces
/// (`cffi>=1.15.1,<2.2`); patch releases within a series emit the same text.
/// PyPy's built-in cffi is supported too: Debian's PyPy 7.3.11 has a 1.15.1
/// that emits as 1.16 does (see [`CffiVersion::from_dir`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CffiVersion {
    /// cffi 1.15.x as released on PyPI.
    V1_15,
    /// cffi 1.16.x, and PyPy's own 1.15.1.
    V1_16,
    /// cffi 1.17.x.
    V1_17,
    /// cffi 2.0.x.
    V2_0,
    /// cffi 2.1.x (what the CFFI corpus was recorded with).
    V2_1,
}

/// The supported range, as a requirement and as the message says it.
pub const SUPPORTED_CFFI: &str = "cffi>=1.15.1,<2.2 (1.15.x, 1.16.x, 1.17.x, 2.0.x or 2.1.x)";

/// A cffi whose version is outside [`SUPPORTED_CFFI`] or cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnsupportedCffi(pub String);

impl CffiVersion {
    /// The series of a version string such as `"2.1.1"` or `"2.0.0rc1"`.
    pub fn parse(version: &str) -> Result<Self, UnsupportedCffi> {
        let mut parts = version.trim().split('.').map(|p| {
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        let series = match (parts.next().flatten(), parts.next().flatten()) {
            (Some(1), Some(15)) => Some(CffiVersion::V1_15),
            (Some(1), Some(16)) => Some(CffiVersion::V1_16),
            (Some(1), Some(17)) => Some(CffiVersion::V1_17),
            (Some(2), Some(0)) => Some(CffiVersion::V2_0),
            (Some(2), Some(1)) => Some(CffiVersion::V2_1),
            _ => None,
        };
        series.ok_or_else(|| {
            UnsupportedCffi(format!(
                "cffi {version} is not supported: headerwheel emits the code of {SUPPORTED_CFFI}"
            ))
        })
    }

    /// The version of the cffi package in `dir` (the directory holding
    /// `cffi/__init__.py`), from its `__version__ = "..."` line: the same
    /// files whose headers the emitted C inlines, read without starting a
    /// Python. A 1.15 whose `model.py` qualifies a pointer to an array as
    /// 1.16 does (PyPy's own) is [`CffiVersion::V1_16`]: it emits 1.16's text.
    pub fn from_dir(dir: &Path) -> Result<Self, UnsupportedCffi> {
        let path = dir.join("__init__.py");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            UnsupportedCffi(format!(
                "cannot read cffi's version: failed to read {}: {e}",
                path.display()
            ))
        })?;
        let version = text
            .lines()
            .filter_map(|l| l.strip_prefix("__version__"))
            .filter_map(|rest| rest.trim_start().strip_prefix('='))
            .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\''))
            .next()
            .ok_or_else(|| {
                UnsupportedCffi(format!(
                    "cannot read cffi's version: no `__version__ = \"...\"` line in {}",
                    path.display()
                ))
            })?;
        let series = CffiVersion::parse(version)
            .map_err(|e| UnsupportedCffi(format!("{} (in {})", e.0, dir.display())))?;
        if series != CffiVersion::V1_15 {
            return Ok(series);
        }
        // PyPy's in-tree cffi 1.15.1 (Debian's PyPy 7.3.11) already has
        // 1.16's `PointerType`, the one change between their emitted texts.
        let model = dir.join("model.py");
        let text = std::fs::read_to_string(&model).map_err(|e| {
            UnsupportedCffi(format!(
                "cannot tell which cffi 1.15 this is: failed to read {}: {e}",
                model.display()
            ))
        })?;
        let qualifies_first = text
            .lines()
            .any(|l| l.trim() == "extra = qualify(quals, \" *&\")");
        Ok(if qualifies_first {
            CffiVersion::V1_15
        } else {
            CffiVersion::V1_16
        })
    }
}

impl fmt::Display for CffiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CffiVersion::V1_15 => "1.15",
            CffiVersion::V1_16 => "1.16",
            CffiVersion::V1_17 => "1.17",
            CffiVersion::V2_0 => "2.0",
            CffiVersion::V2_1 => "2.1",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_map_to_their_series() {
        assert_eq!(CffiVersion::parse("1.15.1"), Ok(CffiVersion::V1_15));
        assert_eq!(CffiVersion::parse("1.16.0"), Ok(CffiVersion::V1_16));
        assert_eq!(CffiVersion::parse("1.17.1"), Ok(CffiVersion::V1_17));
        assert_eq!(CffiVersion::parse("2.0.0"), Ok(CffiVersion::V2_0));
        assert_eq!(CffiVersion::parse("2.1.1"), Ok(CffiVersion::V2_1));
        assert_eq!(CffiVersion::parse("2.1.0rc1"), Ok(CffiVersion::V2_1));
    }

    #[test]
    fn an_unsupported_version_names_the_supported_range() {
        for v in ["1.14.6", "1.18.0", "2.2.0", "3", "", "x.y"] {
            let e = CffiVersion::parse(v).unwrap_err();
            assert_eq!(
                e.0,
                format!(
                    "cffi {v} is not supported: headerwheel emits the code of \
                     cffi>=1.15.1,<2.2 (1.15.x, 1.16.x, 1.17.x, 2.0.x or 2.1.x)"
                )
            );
        }
    }

    #[test]
    fn the_version_is_read_from_the_package_directory() {
        let dir = std::env::temp_dir().join(format!("hw-cffi-version-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("__init__.py"),
            "__all__ = ['FFI']\n\n__version__ = \"2.0.0\"\n__version_info__ = (2, 0, 0)\n",
        )
        .unwrap();
        assert_eq!(CffiVersion::from_dir(&dir), Ok(CffiVersion::V2_0));
        std::fs::write(dir.join("__init__.py"), "__version__ = '1.14.6'\n").unwrap();
        let e = CffiVersion::from_dir(&dir).unwrap_err();
        assert!(e.0.starts_with("cffi 1.14.6 is not supported"), "{e}");
        assert!(e.0.ends_with(&format!("(in {})", dir.display())), "{e}");
        std::fs::write(dir.join("__init__.py"), "__version__ = \"1.15.1\"\n").unwrap();
        let e = CffiVersion::from_dir(&dir).unwrap_err();
        assert!(
            e.0.starts_with("cannot tell which cffi 1.15 this is: failed to read"),
            "{e}"
        );
        let pointer_type = |extra: &str| {
            format!(
                "class PointerType(BaseType):\n    def __init__(self, totype, quals=0):\n        \
                 {extra}\n        if totype.is_array_type:\n"
            )
        };
        let model = dir.join("model.py");
        std::fs::write(&model, pointer_type("extra = qualify(quals, \" *&\")")).unwrap();
        assert_eq!(CffiVersion::from_dir(&dir), Ok(CffiVersion::V1_15));
        std::fs::write(&model, pointer_type("extra = \" *&\"")).unwrap();
        assert_eq!(
            CffiVersion::from_dir(&dir),
            Ok(CffiVersion::V1_16),
            "PyPy's 1.15.1 has 1.16's PointerType"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let e = CffiVersion::from_dir(&dir).unwrap_err();
        assert!(
            e.0.starts_with("cannot read cffi's version: failed to read"),
            "{e}"
        );
    }
}
