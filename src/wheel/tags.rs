//! Wheel compatibility tags (PEP 425, the PyPA platform compatibility tags
//! spec): which interpreters, ABIs and platforms a wheel runs on, chosen from
//! the facts of the interpreter it was built for.
//!
//! The rules follow `packaging.tags` (what pip and uv install by):
//!
//! - CPython: `cp{MN}` with the ABI `cp{MN}` plus the flags `t`
//!   (free-threaded, 3.13+) and `d` (debug), `m` before 3.8; the stable ABI
//!   is `abi3` under the interpreter tag of the oldest version it targets,
//!   and on free-threaded 3.15+ `abi3.abi3t` (PEP 803).
//! - Others (PyPy, GraalPy, ...): the implementation's short name (`pp` for
//!   PyPy, else the name itself) and the Python version, with the ABI taken
//!   from `EXT_SUFFIX` (`.pypy39-pp73-x86_64-linux-gnu.so` → `pypy39_pp73`,
//!   `.graalpy242-311-native-x86_64-linux.so` → `graalpy242_311_native`).
//! - No extension module (only ABI-mode modules, maybe a shared library):
//!   `py3-none-<platform>`, or `py3-none-any` when nothing is compiled.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// Why a tag could not be read or chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// A tag string is malformed.
    #[error("wheel tag '{tag}': {why}")]
    Parse {
        /// The text.
        tag: String,
        /// What is wrong with it.
        why: String,
    },
    /// The limited API was asked of an interpreter without a stable ABI.
    #[error("{interpreter} has no stable ABI to tag a limited-API build with: {why}")]
    NoStableAbi {
        /// The interpreter (`pypy 3.9`).
        interpreter: String,
        /// Why.
        why: String,
    },
    /// The interpreter's facts name no ABI.
    #[error("{interpreter}: neither EXT_SUFFIX '{ext_suffix}' nor SOABI names an ABI")]
    NoAbi {
        /// The interpreter.
        interpreter: String,
        /// Its `EXT_SUFFIX`.
        ext_suffix: String,
    },
}

fn parse_error(tag: &str, why: impl Into<String>) -> TagError {
    TagError::Parse {
        tag: tag.to_string(),
        why: why.into(),
    }
}

/// The facts of the target interpreter a tag depends on, as its `sysconfig`
/// states them (the shim sends them; tests record them from real
/// interpreters).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InterpreterFacts {
    /// `sys.implementation.name` (`cpython`, `pypy`, `graalpy`).
    pub implementation: String,
    /// `sys.version_info[:2]`: the Python language version.
    pub version: (u32, u32),
    /// `EXT_SUFFIX` (`.cpython-312-x86_64-linux-gnu.so`).
    pub ext_suffix: String,
    /// `SOABI` (`cpython-312-x86_64-linux-gnu`), absent on some Windows
    /// builds.
    #[serde(default)]
    pub soabi: Option<String>,
    /// `Py_GIL_DISABLED`.
    #[serde(default)]
    pub free_threaded: bool,
    /// A debug build (`Py_DEBUG`, `sys.gettotalrefcount`).
    #[serde(default)]
    pub debug: bool,
}

impl InterpreterFacts {
    fn is_cpython(&self) -> bool {
        self.implementation == "cpython"
    }

    fn describe(&self) -> String {
        format!(
            "{} {}.{}{}",
            self.implementation,
            self.version.0,
            self.version.1,
            if self.free_threaded {
                " (free-threaded)"
            } else {
                ""
            }
        )
    }

    /// Whether the interpreter can load a stable-ABI module, and why not:
    /// CPython only, and free-threaded builds only from 3.15 (PEP 803).
    pub fn stable_abi(&self) -> Result<(), String> {
        if !self.is_cpython() {
            return Err(format!("{} has no stable ABI", self.implementation));
        }
        if self.free_threaded && self.version < (3, 15) {
            return Err(format!(
                "free-threaded CPython {}.{} has no stable ABI (abi3t starts with 3.15)",
                self.version.0, self.version.1
            ));
        }
        Ok(())
    }

    /// The file-name suffix of a stable-ABI module for this interpreter:
    /// `.pyd` on Windows, `.abi3t.so` on free-threaded CPython (whose import
    /// system no longer lists `.abi3.so`, from 3.15), else `.abi3.so`.
    pub fn stable_abi_suffix(&self) -> &'static str {
        if self.ext_suffix.ends_with(".pyd") {
            ".pyd"
        } else if self.free_threaded {
            ".abi3t.so"
        } else {
            ".abi3.so"
        }
    }

    /// The interpreter's short name: `cp`, `pp`, else the name itself.
    fn short_name(&self) -> String {
        match self.implementation.as_str() {
            "cpython" => "cp".into(),
            "pypy" => "pp".into(),
            "ironpython" => "ip".into(),
            "jython" => "jy".into(),
            other => normalize(other),
        }
    }

    /// `{short name}{major}{minor}`: `cp312`, `pp39`, `graalpy311`.
    fn interpreter_tag(&self) -> String {
        format!("{}{}{}", self.short_name(), self.version.0, self.version.1)
    }

    /// The version-specific ABI tag: `cp312`, `cp313t`, `cp312d`,
    /// `pypy39_pp73`, `graalpy242_311_native`.
    pub fn abi_tag(&self) -> Result<String, TagError> {
        if self.is_cpython() {
            let (major, minor) = self.version;
            let mut abi = format!("cp{major}{minor}");
            if self.free_threaded {
                abi.push('t');
            }
            if self.debug {
                abi.push('d');
            }
            if self.version < (3, 8) {
                // pymalloc's `m` (and 2.x's `u`) are gone since 3.8; before,
                // the interpreter's own SOABI says whether it has them.
                let flags = self
                    .soabi_part()
                    .and_then(|s| s.strip_prefix("cpython-"))
                    .and_then(|s| s.split('-').next())
                    .map(|s| s.trim_start_matches(|c: char| c.is_ascii_digit()))
                    .unwrap_or("m");
                abi.extend(flags.chars().filter(|c| matches!(c, 'm' | 'u')));
            }
            return Ok(abi);
        }
        let soabi = self.soabi_part().ok_or_else(|| TagError::NoAbi {
            interpreter: self.describe(),
            ext_suffix: self.ext_suffix.clone(),
        })?;
        // The platform words after the ABI's are dropped:
        // pypy39-pp73-x86_64-linux-gnu, graalpy242-311-native-x86_64-linux.
        let words: Vec<&str> = soabi.split('-').collect();
        let keep = if soabi.starts_with("pypy") {
            2
        } else if soabi.starts_with("graalpy") {
            3
        } else {
            words.len()
        };
        Ok(normalize(&words[..keep.min(words.len())].join("-")))
    }

    /// The SOABI as `EXT_SUFFIX` spells it (`.pypy39-pp73-x86_64-linux-gnu.so`
    /// → `pypy39-pp73-x86_64-linux-gnu`), else the `SOABI` variable.
    fn soabi_part(&self) -> Option<&str> {
        let parts: Vec<&str> = self.ext_suffix.split('.').collect();
        match parts.as_slice() {
            ["", soabi, _ext] if !soabi.is_empty() => Some(soabi),
            _ => self.soabi.as_deref().filter(|s| !s.is_empty()),
        }
    }
}

/// `.`, `-` and spaces become `_`, as in every tag component.
fn normalize(s: &str) -> String {
    s.replace(['.', '-', ' '], "_").to_ascii_lowercase()
}

/// A platform tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Platform {
    /// `any`: runs everywhere.
    Any,
    /// `manylinux_{X}_{Y}_{arch}` (PEP 600): glibc X.Y or newer.
    Manylinux {
        /// glibc (major, minor).
        glibc: (u32, u32),
        /// `x86_64`, `aarch64`, ...
        arch: String,
    },
    /// The legacy names of three baselines (PEP 513, 571, 599):
    /// `manylinux1` (glibc 2.5), `manylinux2010` (2.12), `manylinux2014`
    /// (2.17).
    LegacyManylinux {
        /// glibc (2, 5), (2, 12) or (2, 17).
        glibc: (u32, u32),
        /// The architecture.
        arch: String,
    },
    /// `musllinux_{X}_{Y}_{arch}` (PEP 656).
    Musllinux {
        /// musl (major, minor).
        musl: (u32, u32),
        /// The architecture.
        arch: String,
    },
    /// `linux_{arch}`: this machine's kind of Linux only.
    Linux {
        /// The architecture.
        arch: String,
    },
    /// `macosx_{X}_{Y}_{arch}`: macOS X.Y or newer; arch `x86_64`, `arm64`,
    /// `universal2`, ...
    Macos {
        /// The deployment target (major, minor).
        version: (u32, u32),
        /// The architecture or fat-binary format.
        arch: String,
    },
    /// `win_amd64`, `win_arm64`, `win32`.
    Windows(WindowsArch),
    /// Any other well-formed platform tag (`android_21_arm64_v8a`, ...).
    Other(String),
}

/// A Windows platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WindowsArch {
    /// `win_amd64`.
    Amd64,
    /// `win_arm64`.
    Arm64,
    /// `win32`.
    Win32,
}

const LEGACY_MANYLINUX: [(&str, (u32, u32)); 3] = [
    ("manylinux1", (2, 5)),
    ("manylinux2010", (2, 12)),
    ("manylinux2014", (2, 17)),
];

impl Platform {
    /// The legacy alias of a `manylinux_2_Y` baseline, if it has one.
    pub fn legacy_alias(&self) -> Option<Platform> {
        match self {
            Platform::Manylinux { glibc, arch } => LEGACY_MANYLINUX
                .iter()
                .any(|(_, v)| v == glibc)
                .then(|| Platform::LegacyManylinux {
                    glibc: *glibc,
                    arch: arch.clone(),
                }),
            _ => None,
        }
    }

    /// What orders platforms: family, architecture, version, and a legacy
    /// manylinux name right after the PEP 600 name of its baseline.
    fn sort_key(&self) -> (u8, &str, (u32, u32), u8) {
        match self {
            Platform::Manylinux { glibc, arch } => (0, arch, *glibc, 0),
            Platform::LegacyManylinux { glibc, arch } => (0, arch, *glibc, 1),
            Platform::Musllinux { musl, arch } => (1, arch, *musl, 0),
            Platform::Linux { arch } => (2, arch, (0, 0), 0),
            Platform::Macos { version, arch } => (3, arch, *version, 0),
            Platform::Windows(w) => (4, "", (*w as u32, 0), 0),
            Platform::Other(s) => (5, s, (0, 0), 0),
            Platform::Any => (6, "", (0, 0), 0),
        }
    }
}

impl Ord for Platform {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for Platform {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Platform::Any => f.write_str("any"),
            Platform::Manylinux { glibc, arch } => {
                write!(f, "manylinux_{}_{}_{arch}", glibc.0, glibc.1)
            }
            Platform::LegacyManylinux { glibc, arch } => {
                let name = LEGACY_MANYLINUX
                    .iter()
                    .find(|(_, v)| v == glibc)
                    .map_or("manylinux2014", |(n, _)| n);
                write!(f, "{name}_{arch}")
            }
            Platform::Musllinux { musl, arch } => {
                write!(f, "musllinux_{}_{}_{arch}", musl.0, musl.1)
            }
            Platform::Linux { arch } => write!(f, "linux_{arch}"),
            Platform::Macos { version, arch } => {
                write!(f, "macosx_{}_{}_{arch}", version.0, version.1)
            }
            Platform::Windows(WindowsArch::Amd64) => f.write_str("win_amd64"),
            Platform::Windows(WindowsArch::Arm64) => f.write_str("win_arm64"),
            Platform::Windows(WindowsArch::Win32) => f.write_str("win32"),
            Platform::Other(s) => f.write_str(s),
        }
    }
}

/// `X_Y_rest` → ((X, Y), rest), rest non-empty.
fn version_and_arch(s: &str) -> Option<((u32, u32), &str)> {
    let mut it = s.splitn(3, '_');
    let number = |w: Option<&str>| {
        w.filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))?
            .parse()
            .ok()
    };
    let major = number(it.next())?;
    let minor = number(it.next())?;
    let arch = it.next().filter(|a| !a.is_empty())?;
    Some(((major, minor), arch))
}

impl FromStr for Platform {
    type Err = TagError;

    fn from_str(s: &str) -> Result<Self, TagError> {
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(parse_error(
                s,
                "a platform tag is lowercase letters, digits and '_'",
            ));
        }
        let arch = |a: &str| a.to_string();
        if let Some(rest) = s.strip_prefix("manylinux_") {
            let (glibc, a) = version_and_arch(rest)
                .ok_or_else(|| parse_error(s, "expected manylinux_X_Y_<arch>"))?;
            return Ok(Platform::Manylinux {
                glibc,
                arch: a.into(),
            });
        }
        for (name, glibc) in LEGACY_MANYLINUX {
            if let Some(a) = s.strip_prefix(name).and_then(|r| r.strip_prefix('_'))
                && !a.is_empty()
            {
                return Ok(Platform::LegacyManylinux {
                    glibc,
                    arch: arch(a),
                });
            }
        }
        if let Some(rest) = s.strip_prefix("musllinux_") {
            let (musl, a) = version_and_arch(rest)
                .ok_or_else(|| parse_error(s, "expected musllinux_X_Y_<arch>"))?;
            return Ok(Platform::Musllinux {
                musl,
                arch: a.into(),
            });
        }
        if let Some(rest) = s.strip_prefix("macosx_") {
            let (version, a) = version_and_arch(rest)
                .ok_or_else(|| parse_error(s, "expected macosx_X_Y_<arch>"))?;
            return Ok(Platform::Macos {
                version,
                arch: a.into(),
            });
        }
        if let Some(a) = s.strip_prefix("linux_").filter(|a| !a.is_empty()) {
            return Ok(Platform::Linux { arch: arch(a) });
        }
        Ok(match s {
            "any" => Platform::Any,
            "win_amd64" => Platform::Windows(WindowsArch::Amd64),
            "win_arm64" => Platform::Windows(WindowsArch::Arm64),
            "win32" => Platform::Windows(WindowsArch::Win32),
            other => Platform::Other(other.to_string()),
        })
    }
}

/// A wheel's tag set: interpreters × ABIs × platforms, each a set (PEP 425
/// compressed tag sets: `cp315-abi3.abi3t-manylinux_2_17_x86_64.manylinux2014_x86_64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelTag {
    /// `cp312`, `pp39`, `py3`, ... (sorted).
    pub interpreters: BTreeSet<String>,
    /// `cp312`, `abi3`, `none`, ... (sorted).
    pub abis: BTreeSet<String>,
    /// The platforms, most specific first within a family.
    pub platforms: BTreeSet<Platform>,
}

impl WheelTag {
    fn new(interpreter: String, abis: &[&str], platforms: BTreeSet<Platform>) -> Self {
        WheelTag {
            interpreters: BTreeSet::from([interpreter]),
            abis: abis.iter().map(|a| a.to_string()).collect(),
            platforms,
        }
    }

    /// `py3-none-any`: nothing compiled.
    pub fn pure() -> Self {
        WheelTag::new("py3".into(), &["none"], BTreeSet::from([Platform::Any]))
    }

    /// `py3-none-<platform>`: compiled code no interpreter loads as an
    /// extension module (ABI-mode modules and the shared libraries they
    /// open), so any Python 3 on the platform can use it.
    pub fn without_extension(platforms: impl IntoIterator<Item = Platform>) -> Self {
        WheelTag::new("py3".into(), &["none"], platforms.into_iter().collect())
    }

    /// The tag of extension modules built for the interpreter `facts`
    /// describes, on `platforms`. `limited_api` says whether they were
    /// built for the stable ABI (and why not); `requires_python_floor` is
    /// the lowest `3.N` that `requires-python` allows, which a stable-ABI
    /// wheel is tagged with (never above the building interpreter).
    pub fn for_interpreter<E>(
        facts: &InterpreterFacts,
        limited_api: &Result<(), E>,
        requires_python_floor: Option<u32>,
        platforms: impl IntoIterator<Item = Platform>,
    ) -> Result<Self, TagError> {
        let platforms: BTreeSet<Platform> = platforms.into_iter().collect();
        if limited_api.is_err() {
            return Ok(WheelTag::new(
                facts.interpreter_tag(),
                &[&facts.abi_tag()?],
                platforms,
            ));
        }
        facts.stable_abi().map_err(|why| TagError::NoStableAbi {
            interpreter: facts.describe(),
            why,
        })?;
        let (major, minor) = facts.version;
        // abi3 exists from 3.2; abi3t from 3.15 (PEP 803: `Py_LIMITED_API`
        // on free-threaded headers builds for both, tagged `abi3.abi3t`).
        let lowest = if facts.free_threaded { 15 } else { 2 };
        let floor = requires_python_floor
            .unwrap_or(minor)
            .min(minor)
            .max(lowest);
        let abis: &[&str] = if facts.free_threaded {
            &["abi3", "abi3t"]
        } else {
            &["abi3"]
        };
        Ok(WheelTag::new(format!("cp{major}{floor}"), abis, platforms))
    }

    /// Every tag of the set, one per line of the `WHEEL` file, in the
    /// order of the compressed form.
    pub fn expand(&self) -> Vec<String> {
        let mut out = Vec::new();
        for i in &self.interpreters {
            for a in &self.abis {
                for p in &self.platforms {
                    out.push(format!("{i}-{a}-{p}"));
                }
            }
        }
        out
    }
}

fn join<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

impl fmt::Display for WheelTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            join(&self.interpreters),
            join(&self.abis),
            join(&self.platforms)
        )
    }
}

impl FromStr for WheelTag {
    type Err = TagError;

    /// A tag or compressed tag set (`py2.py3-none-any`); letters are
    /// lowercased, as installers compare them.
    fn from_str(s: &str) -> Result<Self, TagError> {
        let lower = s.to_ascii_lowercase();
        let parts: Vec<&str> = lower.split('-').collect();
        let [interpreters, abis, platforms] = parts.as_slice() else {
            return Err(parse_error(
                s,
                "expected three '-'-separated parts (interpreter-abi-platform)",
            ));
        };
        let words = |part: &str, what: &str| -> Result<Vec<String>, TagError> {
            part.split('.')
                .map(|w| {
                    let ok =
                        !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    ok.then(|| w.to_string())
                        .ok_or_else(|| parse_error(s, format!("{what} '{w}' is not a tag word")))
                })
                .collect()
        };
        let interpreters: BTreeSet<String> = words(interpreters, "interpreter")?
            .into_iter()
            .map(|i| {
                if i.starts_with(|c: char| c.is_ascii_digit()) {
                    Err(parse_error(
                        s,
                        format!("interpreter '{i}' starts with a digit"),
                    ))
                } else {
                    Ok(i)
                }
            })
            .collect::<Result<_, _>>()?;
        let abis = words(abis, "ABI")?.into_iter().collect();
        let platforms = words(platforms, "platform")?
            .iter()
            .map(|p| p.parse())
            .collect::<Result<_, _>>()?;
        Ok(WheelTag {
            interpreters,
            abis,
            platforms,
        })
    }
}

/// `cp39-abi3-a`, `cp39-abi3-b` → `cp39-abi3-a.b`: the file-name form of a
/// list of tags, each part's values in their first-seen order.
pub fn compress_tags(tags: &[String]) -> String {
    let mut pys: Vec<&str> = Vec::new();
    let mut abis: Vec<&str> = Vec::new();
    let mut plats: Vec<&str> = Vec::new();
    for t in tags {
        let mut parts = t.splitn(3, '-');
        let (p, a, pl) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        if !pys.contains(&p) {
            pys.push(p);
        }
        if !abis.contains(&a) {
            abis.push(a);
        }
        if !plats.contains(&pl) {
            plats.push(pl);
        }
    }
    format!("{}-{}-{}", pys.join("."), abis.join("."), plats.join("."))
}

#[cfg(test)]
mod tests;
