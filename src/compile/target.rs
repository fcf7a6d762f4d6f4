//! The platform a wheel is built for when it is not the build machine
//! (`-C target=`): an older glibc, macOS (arm64, x86_64, universal2) or
//! Windows (amd64, arm64), all through `zig cc` from the `ziglang` package.
//!
//! A cross build cannot ask the target's interpreter anything, so what the
//! module's file name, tag and compile depend on comes from CPython's own
//! rules for that platform ([`Target::interpreter_facts`], checked against
//! `fixtures/targets/interpreters.json`), and the target's `pyconfig.h` is
//! written by [`pyconfig_h`] unless `-C python-include=DIR` names a directory
//! of the target's real headers.

use std::path::{Path, PathBuf};

use super::Toolchain;
use crate::wheel::tags::InterpreterFacts;

/// The operating system a module is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// Linux (glibc or musl).
    Linux,
    /// macOS.
    Macos,
    /// Windows.
    Windows,
}

impl Os {
    /// The operating system this program runs on (a native build's target).
    pub fn host() -> Os {
        if cfg!(target_os = "macos") {
            Os::Macos
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }
}

impl Default for Os {
    fn default() -> Self {
        Os::host()
    }
}

/// A `-C target=` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Linux with an older glibc, as zig names it (`{machine}-linux-gnu.2.17`,
    /// `{machine}` standing for the build machine's architecture), or a zig
    /// Linux triple given as is.
    Glibc(String),
    /// macOS: one architecture or both (`universal2`), with the minimum
    /// macOS if the value named one (`aarch64-macos.11.0`).
    Macos {
        /// zig's architecture names (`aarch64`, `x86_64`), in fat-file order.
        archs: Vec<&'static str>,
        /// The minimum macOS the value names.
        min: Option<(u32, u32)>,
    },
    /// Windows (the MinGW-w64 ABI with the UCRT, which CPython's MSVC build
    /// loads: both link `api-ms-win-crt-*`).
    Windows {
        /// zig's architecture name (`x86_64`, `aarch64`).
        arch: &'static str,
    },
}

/// What `-C target=` accepts, for error messages.
pub const ACCEPTED: &str = "a glibc baseline (manylinux2014, manylinux_2_17, 2.17), a zig Linux target (x86_64-linux-gnu.2.17), aarch64-macos, x86_64-macos or universal2-macos (each optionally with the minimum macOS: aarch64-macos.11.0), x86_64-windows or aarch64-windows";

impl Target {
    /// Reads a `-C target=` value; the error names the setting and every
    /// accepted form.
    pub fn parse(v: &str) -> Result<Target, String> {
        let bad = || format!("config setting 'target': '{v}' is not {ACCEPTED}");
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let glibc = |x: &str, y: &str| Target::Glibc(format!("{{machine}}-linux-gnu.{x}.{y}"));
        if v == "manylinux2014" {
            return Ok(glibc("2", "17"));
        }
        if let Some(rest) = v.strip_prefix("manylinux_") {
            let (x, y) = rest.split_once('_').ok_or_else(bad)?;
            return if digits(x) && digits(y) {
                Ok(glibc(x, y))
            } else {
                Err(bad())
            };
        }
        if let Some((x, y)) = v.split_once('.').filter(|(x, y)| digits(x) && digits(y)) {
            return Ok(glibc(x, y));
        }
        if v.contains("-linux-gnu") {
            return Ok(Target::Glibc(v.to_string()));
        }
        let (base, version) = match v.split_once('.') {
            Some((b, ver)) => (b, Some(ver)),
            None => (v, None),
        };
        match base {
            "aarch64-macos" | "arm64-macos" | "x86_64-macos" | "universal2-macos" => {
                let min = match version {
                    None => None,
                    Some(ver) => Some(parse_macos_version(ver).ok_or_else(bad)?),
                };
                let archs = match base {
                    "x86_64-macos" => vec!["x86_64"],
                    "universal2-macos" => vec!["x86_64", "aarch64"],
                    _ => vec!["aarch64"],
                };
                Ok(Target::Macos { archs, min })
            }
            "x86_64-windows" | "x86_64-windows-gnu" if version.is_none() => {
                Ok(Target::Windows { arch: "x86_64" })
            }
            "aarch64-windows" | "aarch64-windows-gnu" if version.is_none() => {
                Ok(Target::Windows { arch: "aarch64" })
            }
            _ => Err(bad()),
        }
    }

    /// The build machine as a target when it is macOS or Windows (a
    /// native build there: its modules are Mach-O or PE files, checked and
    /// tagged as a cross build's are); `None` on Linux.
    pub fn native(machine: &str) -> Option<Target> {
        let arch = match machine {
            "arm64" | "aarch64" | "ARM64" => "aarch64",
            _ => "x86_64",
        };
        match Os::host() {
            Os::Linux => None,
            Os::Macos => Some(Target::Macos {
                archs: vec![arch],
                min: None,
            }),
            Os::Windows => Some(Target::Windows { arch }),
        }
    }

    /// The operating system.
    pub fn os(&self) -> Os {
        match self {
            Target::Glibc(_) => Os::Linux,
            Target::Macos { .. } => Os::Macos,
            Target::Windows { .. } => Os::Windows,
        }
    }

    /// Whether the target runs another operating system than Linux (its
    /// interpreter facts, headers and tags are not the build machine's).
    pub fn is_foreign(&self) -> bool {
        self.os() != Os::Linux
    }

    /// The name of the target in messages (`x86_64-windows`).
    pub fn describe(&self) -> String {
        match self {
            Target::Glibc(z) => z.clone(),
            Target::Macos { archs, .. } if archs.len() > 1 => "universal2-macos".into(),
            Target::Macos { archs, .. } => format!("{}-macos", archs[0]),
            Target::Windows { arch } => format!("{arch}-windows"),
        }
    }

    /// The minimum macOS of one architecture's slice: the value's, else
    /// `MACOSX_DEPLOYMENT_TARGET` (`deployment_target`), else 10.9 for
    /// x86_64 (what cibuildwheel defaults to); never below 11.0 for arm64,
    /// the first macOS that runs on it.
    pub fn macos_min(
        &self,
        arch: &str,
        deployment_target: Option<&str>,
    ) -> Result<(u32, u32), String> {
        let Target::Macos { min, .. } = self else {
            return Err(format!("{} is not a macOS target", self.describe()));
        };
        let wanted = match (min, deployment_target) {
            (Some(m), _) => *m,
            (None, Some(d)) => parse_macos_version(d).ok_or_else(|| {
                format!("MACOSX_DEPLOYMENT_TARGET: '{d}' is not a macOS version (11.0, 10.9)")
            })?,
            (None, None) => (10, 9),
        };
        Ok(if arch == "aarch64" {
            wanted.max((11, 0))
        } else {
            wanted
        })
    }

    /// The target interpreter's facts, for the build interpreter's Python
    /// version: CPython's rules for `EXT_SUFFIX` and `SOABI` on the target.
    /// Only CPython is cross-built for another operating system.
    pub fn interpreter_facts(&self, build: &InterpreterFacts) -> Result<InterpreterFacts, String> {
        if !self.is_foreign() {
            return Ok(build.clone());
        }
        if build.implementation != "cpython" {
            return Err(format!(
                "config setting 'target': {} builds for CPython only; this build runs on {}",
                self.describe(),
                build.implementation
            ));
        }
        let (major, minor) = build.version;
        let flags = format!(
            "{}{}",
            if build.free_threaded { "t" } else { "" },
            if build.debug { "d" } else { "" }
        );
        let mut facts = build.clone();
        match self {
            Target::Windows { arch } => {
                // dynload_win.c: PYD_TAGGED_SUFFIX is "." PYD_SOABI ".pyd",
                // PYD_SOABI "cp" + version + flags + "-" + the platform.
                let plat = windows_platform(arch);
                let debug = if build.debug { "_d" } else { "" };
                let t = if build.free_threaded { "t" } else { "" };
                facts.ext_suffix = format!("{debug}.cp{major}{minor}{t}-{plat}.pyd");
                facts.soabi = Some(format!("cp{major}{minor}{t}-{plat}"));
            }
            Target::Macos { .. } => {
                facts.ext_suffix = format!(".cpython-{major}{minor}{flags}-darwin.so");
                facts.soabi = Some(format!("cpython-{major}{minor}{flags}-darwin"));
            }
            Target::Glibc(_) => {}
        }
        Ok(facts)
    }

    /// `sizeof(long)` on the target (Windows is LLP64).
    pub fn sizeof_long(&self, build: u8) -> u8 {
        match self {
            Target::Windows { .. } => 4,
            _ => build,
        }
    }

    /// The zig target of one architecture's build (`aarch64-macos.11.0`,
    /// `x86_64-windows-gnu`); `machine` fills a glibc target's `{machine}`.
    pub fn zig_triple(&self, arch: &str, min: Option<(u32, u32)>) -> String {
        match self {
            Target::Glibc(z) => z.replace("{machine}", arch),
            Target::Macos { .. } => {
                let (x, y) = min.unwrap_or((11, 0));
                format!("{arch}-macos.{x}.{y}")
            }
            Target::Windows { .. } => format!("{arch}-windows-gnu"),
        }
    }

    /// The architectures built (zig's names): two for universal2.
    pub fn archs(&self, machine: &str) -> Vec<String> {
        match self {
            Target::Glibc(z) => vec![
                z.split('-')
                    .next()
                    .unwrap_or(machine)
                    .replace("{machine}", machine),
            ],
            Target::Macos { archs, .. } => archs.iter().map(|a| a.to_string()).collect(),
            Target::Windows { arch } => vec![arch.to_string()],
        }
    }

    /// Libraries every program of the target can link without shipping
    /// them: a module's `libraries` naming anything else needs the
    /// target's build of it in `library-dirs`.
    pub fn system_library(&self, name: &str) -> bool {
        match self {
            Target::Glibc(_) => true,
            // libSystem holds libc, libm, libpthread and libdl.
            Target::Macos { .. } => matches!(
                name,
                "c" | "m" | "pthread" | "dl" | "System" | "c++" | "objc" | "resolv" | "iconv" | "z"
            ),
            // The Windows DLLs zig's MinGW-w64 has import definitions for
            // and every Windows has.
            Target::Windows { .. } => matches!(
                name.to_ascii_lowercase().as_str(),
                "kernel32"
                    | "user32"
                    | "advapi32"
                    | "ws2_32"
                    | "bcrypt"
                    | "shell32"
                    | "ole32"
                    | "oleaut32"
                    | "gdi32"
                    | "crypt32"
                    | "secur32"
                    | "userenv"
                    | "ntdll"
                    | "iphlpapi"
                    | "psapi"
                    | "winmm"
                    | "version"
                    | "shlwapi"
                    | "dbghelp"
                    | "rpcrt4"
                    | "m"
                    | "c"
                    | "pthread"
            ),
        }
    }
}

/// A shared library's path in the wheel on `os`: the configured
/// `pkg/libx.so` (or `.so.N`) becomes `pkg/libx.dylib` on macOS and
/// `pkg/libx.dll` on Windows.
pub fn shared_library_path(configured: &str, os: Os) -> String {
    let ext = match os {
        Os::Linux => return configured.to_string(),
        Os::Macos => ".dylib",
        Os::Windows => ".dll",
    };
    let (dir, file) = configured
        .rsplit_once('/')
        .map_or(("", configured), |(d, f)| (d, f));
    let stem = file.split_once(".so").map_or(file, |(s, _)| s);
    if dir.is_empty() {
        format!("{stem}{ext}")
    } else {
        format!("{dir}/{stem}{ext}")
    }
}

/// `win_amd64` / `win_arm64` for zig's architecture name.
pub fn windows_platform(arch: &str) -> &'static str {
    match arch {
        "aarch64" => "win_arm64",
        "x86" | "i386" => "win32",
        _ => "win_amd64",
    }
}

/// `11.0`, `10.9` or `11` → (major, minor).
pub fn parse_macos_version(v: &str) -> Option<(u32, u32)> {
    let mut it = v.split('.');
    let major: u32 = it.next()?.parse().ok()?;
    let minor: u32 = match it.next() {
        Some(m) => m.parse().ok()?,
        None => 0,
    };
    if it.next().is_some_and(|p| p.parse::<u32>().is_err()) || !(10..=99).contains(&major) {
        return None;
    }
    Some((major, minor))
}

/// The target's `pyconfig.h`, written by headerwheel from the facts
/// CPython's own `pyconfig.h` states for that platform that `Python.h`
/// reads (type sizes, the Windows DLL import convention, headers present);
/// nothing else of CPython's configuration matters to an extension module.
/// It replaces the build interpreter's (a Linux one) in a copy of its
/// include directory.
pub fn pyconfig_h(target: &Target, facts: &InterpreterFacts) -> String {
    let mut s = String::from(
        "/* Written by headerwheel for a cross build: the facts of the target's\n   \
         CPython that Python.h reads. Pass -C python-include=DIR to use the\n   \
         target's own headers instead. */\n#ifndef Py_PYCONFIG_H\n#define Py_PYCONFIG_H\n",
    );
    let mut define = |k: &str, v: &str| s.push_str(&format!("#define {k} {v}\n"));
    match target {
        Target::Windows { arch } => {
            for k in ["MS_WIN32", "MS_WINDOWS", "NT_THREADS", "WITH_THREAD"] {
                define(k, "1");
            }
            if *arch != "x86" {
                define("MS_WIN64", "1");
            }
            // Python's API is imported from python3.dll / python3X.dll
            // (__declspec(dllimport)), PyInit_* exported.
            define("Py_ENABLE_SHARED", "1");
            define("HAVE_DECLSPEC_DLL", "1");
            define("SIZEOF_LONG", "4");
            define("SIZEOF_WCHAR_T", "2");
            define("SIZEOF_OFF_T", "4");
            define("SIZEOF_PID_T", "8");
            define("HAVE_IO_H", "1");
            define("HAVE_PROCESS_H", "1");
        }
        Target::Macos { .. } | Target::Glibc(_) => {
            define("SIZEOF_LONG", "8");
            define("SIZEOF_WCHAR_T", "4");
            define("SIZEOF_OFF_T", "8");
            define("SIZEOF_PID_T", "4");
            define("SIZEOF_PTHREAD_T", "8");
            define("SIZEOF_PTHREAD_KEY_T", "8");
            for k in [
                "HAVE_UNISTD_H",
                "HAVE_SYS_TIME_H",
                "HAVE_PTHREAD_H",
                "HAVE_DLFCN_H",
                "HAVE_DYNAMIC_LOADING",
                "HAVE_SYS_SELECT_H",
                "HAVE_CLOCK_GETTIME",
                "HAVE_FORK",
            ] {
                define(k, "1");
            }
            define("WITH_DYLD", "1");
        }
    }
    for (k, v) in [
        ("SIZEOF_SHORT", "2"),
        ("SIZEOF_INT", "4"),
        ("SIZEOF_LONG_LONG", "8"),
        ("SIZEOF_FLOAT", "4"),
        ("SIZEOF_DOUBLE", "8"),
        ("SIZEOF_VOID_P", "8"),
        ("SIZEOF_SIZE_T", "8"),
        ("SIZEOF_UINTPTR_T", "8"),
        ("SIZEOF_TIME_T", "8"),
        ("SIZEOF_FPOS_T", "8"),
        ("SIZEOF__BOOL", "1"),
        ("ALIGNOF_SIZE_T", "8"),
        (
            "ALIGNOF_LONG",
            if matches!(target, Target::Windows { .. }) {
                "4"
            } else {
                "8"
            },
        ),
        ("HAVE_SSIZE_T", "1"),
        ("HAVE_STDDEF_H", "1"),
        ("HAVE_STDLIB_H", "1"),
        ("HAVE_STRING_H", "1"),
        ("HAVE_ERRNO_H", "1"),
        ("HAVE_WCHAR_H", "1"),
        ("HAVE_STDINT_H", "1"),
        ("HAVE_INTTYPES_H", "1"),
        ("HAVE_SYS_TYPES_H", "1"),
        ("HAVE_SYS_STAT_H", "1"),
        ("HAVE_FCNTL_H", "1"),
        ("HAVE_SIGNAL_H", "1"),
        ("HAVE_STD_ATOMIC", "1"),
        ("HAVE_LONG_DOUBLE", "1"),
        ("PY_LONG_LONG", "long long"),
        ("WITH_DOC_STRINGS", "1"),
        ("WITH_PYMALLOC", "1"),
    ] {
        define(k, v);
    }
    if facts.free_threaded {
        define("Py_GIL_DISABLED", "1");
    }
    if facts.debug {
        define("Py_DEBUG", "1");
    }
    s.push_str("#endif /* Py_PYCONFIG_H */\n");
    s
}

/// The Python include directory a cross build compiles with: `explicit`
/// (`-C python-include=DIR`, the target's real headers) as it is, else a
/// copy of the build interpreter's headers (the limited API's and the
/// version's declarations are the same on every platform) under `dest`
/// with the target's [`pyconfig_h`] in place of the build machine's. A copy
/// rather than another `-I` before it: `Python.h` includes `"pyconfig.h"`
/// with quotes, which finds the file beside it first.
pub fn python_include(
    build_include_dirs: &[PathBuf],
    explicit: Option<&Path>,
    dest: &Path,
    pyconfig: &str,
) -> Result<PathBuf, String> {
    if let Some(d) = explicit {
        if !d.join("Python.h").is_file() {
            return Err(format!(
                "config setting 'python-include': {} holds no Python.h",
                d.display()
            ));
        }
        return Ok(d.to_path_buf());
    }
    let src = build_include_dirs
        .iter()
        .find(|d| d.join("Python.h").is_file())
        .ok_or_else(|| "the build interpreter's include directory holds no Python.h".to_string())?;
    copy_headers(src, dest)
        .map_err(|e| format!("copying {} to {}: {e}", src.display(), dest.display()))?;
    write_if_changed(&dest.join("pyconfig.h"), pyconfig.as_bytes())
        .map_err(|e| format!("{}: {e}", dest.join("pyconfig.h").display()))?;
    Ok(dest.to_path_buf())
}

fn copy_headers(src: &Path, dest: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dest)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let name = e.file_name();
        let to = dest.join(&name);
        let ft = std::fs::metadata(e.path())?.file_type();
        if ft.is_dir() {
            copy_headers(&e.path(), &to)?;
        } else if ft.is_file() && name != "pyconfig.h" && name.to_string_lossy().ends_with(".h") {
            write_if_changed(&to, &std::fs::read(e.path())?)?;
        }
    }
    Ok(())
}

/// Writes `data` unless the file holds it already (mtimes stay, so the
/// compile cache and make-like tools see no change).
fn write_if_changed(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if std::fs::read(path).ok().as_deref() == Some(data) {
        return Ok(());
    }
    let tmp = path.with_extension("tmp-headerwheel");
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

/// A wrapper script running `python -m ziglang <tool>`: the cc crate and
/// the linker see one program path. A `.cmd` file on a Windows build
/// machine, a shell script elsewhere.
pub fn zig_wrapper(python: &Path, tool: &str, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    #[cfg(windows)]
    {
        let wrapper = dir.join(format!("zig-{tool}.cmd"));
        let script = format!("@\"{}\" -m ziglang {tool} %*\r\n", python.display());
        write_if_changed(&wrapper, script.as_bytes())?;
        Ok(wrapper)
    }
    #[cfg(not(windows))]
    {
        use std::os::unix::fs::PermissionsExt;
        let wrapper = dir.join(format!("zig-{tool}"));
        let script = format!(
            "#!/bin/sh\nexec '{}' -m ziglang {tool} \"$@\"\n",
            python.display().to_string().replace('\'', "'\\''")
        );
        write_if_changed(&wrapper, script.as_bytes())?;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))?;
        Ok(wrapper)
    }
}

/// The toolchain of one architecture's build for `target`: zig cc for
/// `triple`, the interpreter's optimisation and warning flags without what
/// only GCC knows (Linux), or CPython's own release flags (macOS, Windows:
/// the build machine's flags are a Linux GCC's); the platform's link flags.
pub fn zig_toolchain(
    build: &Toolchain,
    target: &Target,
    arch: &str,
    triple: &str,
    cc_wrapper: &Path,
    python_include: Option<PathBuf>,
    python_lib: Option<(&Path, &str)>,
) -> Result<Toolchain, String> {
    let mut tc = build.clone();
    // Split again as a shell splits CC: quoted, a path with spaces stays one word.
    let quoted = |what: &str, v: &str| {
        shlex::try_quote(v)
            .map(|q| q.into_owned())
            .map_err(|e| format!("-C target=: {what} '{v}': {e}"))
    };
    tc.cc = format!(
        "{} -target {}",
        quoted("the zig wrapper's path", &cc_wrapper.display().to_string())?,
        quoted("the target", triple)?
    );
    tc.os = target.os();
    tc.machine = arch.to_string();
    match target {
        Target::Glibc(_) => {
            let multiarch = format!("/usr/lib/{}-linux-gnu", build.machine);
            let gcc_only = [
                "-fno-semantic-interposition",
                "-ffat-lto-objects",
                "-flto=auto",
            ];
            // CFLAGS as the compile splits them (a shell's words: quoted
            // flags stay whole), and joined back quoted.
            let words = shlex::split(&tc.cflags).ok_or_else(|| {
                format!(
                    "CFLAGS: '{}' has an unbalanced quote or a trailing backslash",
                    tc.cflags
                )
            })?;
            let kept: Vec<&str> = words
                .iter()
                .map(String::as_str)
                .filter(|f| {
                    !gcc_only.contains(f) && !f.starts_with("-fprofile-") && !f.starts_with("-flto")
                })
                .chain([
                    "-idirafter",
                    "/usr/local/include",
                    "-idirafter",
                    "/usr/include",
                ])
                .collect();
            tc.cflags = shlex::try_join(kept).map_err(|e| format!("CFLAGS: {e}"))?;
            tc.ldflags = format!("{} -L{multiarch} -L/usr/lib -L/usr/local/lib", tc.ldflags)
                .trim()
                .to_string();
        }
        Target::Macos { .. } => {
            // CPython's macOS CFLAGS, less the -arch flags (zig's -target).
            tc.cflags =
                "-Wsign-compare -Wunreachable-code -fno-common -DNDEBUG -fwrapv -O3 -Wall".into();
            tc.ccshared = String::new();
            // `-undefined dynamic_lookup` is the link's (see compile::build).
            tc.ldflags = String::new();
            tc.include_dirs = python_include.into_iter().collect();
        }
        Target::Windows { .. } => {
            // Sources written for MSVC call its intrinsics
            // (`_byteswap_uint64`) without declaring them, as MSVC allows:
            // with the Microsoft extensions clang knows their types, and an
            // undeclared call is the warning it is for MSVC, not an error.
            tc.cflags = "-DNDEBUG -fwrapv -O2 -Wall -fms-extensions -Wno-error=implicit-function-declaration".into();
            tc.ccshared = String::new();
            tc.ldflags = match python_lib {
                Some((d, lib)) => format!("-L{} -l{lib}", d.display()),
                None => String::new(),
            };
            tc.include_dirs = python_include.into_iter().collect();
        }
    }
    Ok(tc)
}

/// Writes the import library of `python3.dll` (the stable ABI) or
/// `python3X.dll` into `dir` with the `python3-dll-a` crate (its
/// definitions of each DLL's exports, and `zig dlltool` through
/// `ZIG_COMMAND`, which the Python shim sets to the build environment's
/// `python -m ziglang` when it is not set); returns the library's `-l` name.
pub fn python_import_library(
    dir: &Path,
    arch: &str,
    version: Option<(u8, u8)>,
    free_threaded: bool,
) -> Result<String, String> {
    if std::env::var_os("ZIG_COMMAND").is_none() {
        return Err("the python3.dll import library is made with zig dlltool: set ZIG_COMMAND (for example to 'python -m ziglang'); the headerwheel backend sets it when the ziglang package is installed and the interpreter's path has no spaces".into());
    }
    let name = match version {
        None => "python3".to_string(),
        Some((x, y)) => format!("python{x}{y}{}", if free_threaded { "t" } else { "" }),
    };
    if dir.join(format!("{name}.lib")).is_file() {
        return Ok(name);
    }
    let mut g = python3_dll_a::ImportLibraryGenerator::new(arch, "msvc");
    g.version(version);
    if free_threaded {
        g.abiflags(Some("t"));
    }
    g.generate(dir).map_err(|e| {
        format!(
            "generating the {name}.dll import library in {}: {e}",
            dir.display()
        )
    })?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_form_parses() {
        let mac = |archs: &[&'static str], min| Target::Macos {
            archs: archs.to_vec(),
            min,
        };
        for (v, want) in [
            (
                "manylinux2014",
                Target::Glibc("{machine}-linux-gnu.2.17".into()),
            ),
            (
                "manylinux_2_28",
                Target::Glibc("{machine}-linux-gnu.2.28".into()),
            ),
            ("2.17", Target::Glibc("{machine}-linux-gnu.2.17".into())),
            (
                "aarch64-linux-gnu.2.17",
                Target::Glibc("aarch64-linux-gnu.2.17".into()),
            ),
            ("aarch64-macos", mac(&["aarch64"], None)),
            ("arm64-macos", mac(&["aarch64"], None)),
            ("aarch64-macos.12.3", mac(&["aarch64"], Some((12, 3)))),
            ("x86_64-macos.10.9", mac(&["x86_64"], Some((10, 9)))),
            ("universal2-macos", mac(&["x86_64", "aarch64"], None)),
            ("x86_64-windows", Target::Windows { arch: "x86_64" }),
            ("aarch64-windows", Target::Windows { arch: "aarch64" }),
        ] {
            assert_eq!(Target::parse(v), Ok(want), "{v}");
        }
    }

    #[test]
    fn a_wrong_value_names_the_setting_and_the_forms() {
        for v in [
            "windows",
            "x86_64-macos.eleven",
            "mips-macos",
            "x86_64-windows.10",
            "manylinux_2",
        ] {
            let e = Target::parse(v).unwrap_err();
            assert_eq!(
                e,
                format!("config setting 'target': '{v}' is not {ACCEPTED}")
            );
        }
    }

    #[test]
    fn the_minimum_macos_comes_from_the_value_then_the_environment() {
        let t = Target::parse("universal2-macos").unwrap();
        assert_eq!(t.macos_min("x86_64", None), Ok((10, 9)));
        assert_eq!(t.macos_min("aarch64", None), Ok((11, 0)));
        assert_eq!(t.macos_min("x86_64", Some("10.13")), Ok((10, 13)));
        assert_eq!(t.macos_min("aarch64", Some("10.13")), Ok((11, 0)));
        assert_eq!(t.macos_min("aarch64", Some("12")), Ok((12, 0)));
        let t = Target::parse("x86_64-macos.10.15").unwrap();
        assert_eq!(t.macos_min("x86_64", Some("10.9")), Ok((10, 15)));
        assert!(t.macos_min("x86_64", None).is_ok());
        let t = Target::parse("x86_64-macos").unwrap();
        assert!(
            t.macos_min("x86_64", Some("ten"))
                .unwrap_err()
                .contains("MACOSX_DEPLOYMENT_TARGET")
        );
    }

    #[derive(serde::Deserialize)]
    struct Recorded {
        source: String,
        target: String,
        #[serde(flatten)]
        facts: InterpreterFacts,
        sizeof_long: u8,
    }

    /// The recorded facts of real macOS and Windows interpreters are what
    /// a cross build derives from a Linux interpreter of the same version.
    #[test]
    fn cross_facts_match_the_recorded_interpreters() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/targets/interpreters.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let recorded: Vec<Recorded> = serde_json::from_str(&text).unwrap();
        assert!(recorded.len() >= 6);
        for r in recorded {
            assert!(!r.source.is_empty());
            let t = Target::parse(&r.target).unwrap();
            let linux = InterpreterFacts {
                implementation: "cpython".into(),
                version: r.facts.version,
                ext_suffix: format!(
                    ".cpython-{}{}-x86_64-linux-gnu.so",
                    r.facts.version.0, r.facts.version.1
                ),
                soabi: None,
                free_threaded: r.facts.free_threaded,
                debug: r.facts.debug,
            };
            let got = t.interpreter_facts(&linux).unwrap();
            assert_eq!(got.ext_suffix, r.facts.ext_suffix, "{}", r.source);
            if r.facts.soabi.is_some() {
                assert_eq!(got.soabi, r.facts.soabi, "{}", r.source);
            }
            assert_eq!(t.sizeof_long(8), r.sizeof_long, "{}", r.source);
        }
    }

    #[test]
    fn shared_libraries_take_the_platform_extension() {
        assert_eq!(
            shared_library_path("b64/libb64.so", Os::Macos),
            "b64/libb64.dylib"
        );
        assert_eq!(
            shared_library_path("b64/libb64.so.1", Os::Windows),
            "b64/libb64.dll"
        );
        assert_eq!(shared_library_path("libx.so", Os::Windows), "libx.dll");
        assert_eq!(
            shared_library_path("b64/libb64.so", Os::Linux),
            "b64/libb64.so"
        );
    }

    #[test]
    fn pypy_is_not_cross_built_for_another_os() {
        let pypy = InterpreterFacts {
            implementation: "pypy".into(),
            version: (3, 10),
            ext_suffix: ".pypy310-pp73-x86_64-linux-gnu.so".into(),
            soabi: None,
            free_threaded: false,
            debug: false,
        };
        let e = Target::parse("x86_64-windows")
            .unwrap()
            .interpreter_facts(&pypy)
            .unwrap_err();
        assert!(e.contains("CPython only"), "{e}");
    }

    #[test]
    fn the_generated_pyconfig_states_the_target_sizes() {
        let f = InterpreterFacts {
            implementation: "cpython".into(),
            version: (3, 13),
            ext_suffix: String::new(),
            soabi: None,
            free_threaded: true,
            debug: false,
        };
        let w = pyconfig_h(&Target::parse("x86_64-windows").unwrap(), &f);
        assert!(w.contains("#define SIZEOF_LONG 4\n") && w.contains("#define MS_WIN64 1\n"));
        assert!(
            w.contains("#define Py_ENABLE_SHARED 1\n") && w.contains("#define Py_GIL_DISABLED 1\n")
        );
        let m = pyconfig_h(&Target::parse("aarch64-macos").unwrap(), &f);
        assert!(m.contains("#define SIZEOF_LONG 8\n") && !m.contains("MS_WINDOWS"));
    }
}
