//! Builds for another operating system or libc (`-C target=`): the zig
//! toolchains per architecture, the target interpreter's facts, and the
//! checks and platform tag of Mach-O and PE modules.

use super::*;

/// The toolchains of a `-C target=` build, one per architecture (two for
/// universal2), each with its architecture: `zig cc` (the `ziglang` package
/// of the interpreter running the build) behind a small wrapper script, so
/// the cc crate sees one compiler path. For macOS and Windows, the Python
/// include directory with the target's `pyconfig.h`; for Windows, the
/// import library of `python3.dll` (`abi3`) or `python3X.dll`.
pub(super) fn target_toolchains(
    interp: &Interpreter,
    target: &Target,
    s: &Settings,
    build_dir: &Path,
    abi3: bool,
    links_python: bool,
) -> Result<Vec<(String, Toolchain)>, BuildError> {
    if !interp.ziglang {
        return Err(BuildError::Setting(format!(
            "config setting 'target': building for {} uses zig cc: install the ziglang package (pip install ziglang) in the build environment",
            target.describe()
        )));
    }
    let python = interp.executable.as_ref().ok_or_else(|| {
        BuildError::Target("-C target=: the interpreter's path is missing".into())
    })?;
    let dir = build_dir.join("zig");
    let wrapper =
        compile::target::zig_wrapper(python, "cc", &dir).map_err(|e| BuildError::io(&dir, e))?;
    let tdir = dir.join(target.describe());
    let include = if target.is_foreign() {
        let pyconfig = compile::target::pyconfig_h(target, &interp.facts);
        Some(
            compile::target::python_include(
                &interp.toolchain.include_dirs,
                s.python_include.as_deref(),
                &tdir.join("python-include"),
                &pyconfig,
            )
            .map_err(BuildError::Target)?,
        )
    } else {
        None
    };
    let mut out = Vec::new();
    for arch in target.archs(&interp.toolchain.machine) {
        let min = match target {
            Target::Macos { .. } => Some(
                target
                    .macos_min(&arch, s.deployment_target.as_deref())
                    .map_err(BuildError::Setting)?,
            ),
            _ => None,
        };
        let (implib, lib) = match target {
            Target::Windows { .. } if links_python => {
                let d = tdir.join("implib");
                let (x, y) = interp.facts.version;
                let version = (!abi3).then_some((x as u8, y as u8));
                let lib = compile::target::python_import_library(
                    &d,
                    &arch,
                    version,
                    interp.facts.free_threaded,
                )
                .map_err(BuildError::Target)?;
                (Some(d), lib)
            }
            _ => (None, String::new()),
        };
        let triple = target.zig_triple(&arch, min);
        log(&format!("compiling for {triple} with zig cc"));
        out.push((
            arch.clone(),
            compile::target::zig_toolchain(
                &interp.toolchain,
                target,
                &arch,
                &triple,
                &wrapper,
                include.clone(),
                implib.as_deref().map(|d| (d, lib.as_str())),
            )
            .map_err(BuildError::Setting)?,
        ));
    }
    Ok(out)
}

/// The platform tag of a wheel of Mach-O or PE modules: each module's (see
/// [`crate::portable::macho::Binary::platform`]); the least compatible when
/// their minimum macOS versions differ.
pub(super) fn foreign_platform(
    built: &[BuiltModule],
) -> Result<crate::wheel::tags::Platform, BuildError> {
    use crate::wheel::tags::Platform;
    let mut found: Option<Platform> = None;
    for b in built.iter().filter(|b| b.so_path.is_some()) {
        let p = crate::portable::macho::read_binary(&b.data)
            .map_err(|e| BuildError::Binary {
                module: b.wheel_path.clone(),
                message: e.to_string(),
            })?
            .platform()
            .map_err(|e| BuildError::Binary {
                module: b.wheel_path.clone(),
                message: e.to_string(),
            })?;
        found = Some(match (found, p) {
            (None, p) => p,
            (
                Some(Platform::Macos { version: a, arch }),
                Platform::Macos {
                    version: b,
                    arch: arch2,
                },
            ) if arch == arch2 => Platform::Macos {
                version: a.max(b),
                arch,
            },
            (Some(a), b) if a == b => a,
            (Some(a), b) => {
                return Err(BuildError::Target(format!(
                    "the built modules are for different platforms ({a} and {b})"
                )));
            }
        });
    }
    found.ok_or_else(|| BuildError::Target("no built module to tag the wheel from".into()))
}

/// The target when the modules are Mach-O or PE files: `-C target=` for
/// macOS or Windows, or a native build on one of them.
pub(super) fn mach_o_or_pe_target(s: &Settings, interp: &Interpreter) -> Option<Target> {
    match &s.target {
        Some(t) if t.is_foreign() => Some(t.clone()),
        Some(_) => None,
        None => Target::native(&interp.toolchain.machine),
    }
}

/// The target interpreter of a build for another operating system: the
/// build interpreter's version and cffi, the target's file names and sizes.
pub(super) fn cross_interpreter(
    interp: &Interpreter,
    target: &Target,
) -> Result<Interpreter, BuildError> {
    let mut cross = interp.clone();
    cross.facts = target
        .interpreter_facts(&interp.facts)
        .map_err(BuildError::Setting)?;
    cross.sizeof_long = target.sizeof_long(interp.sizeof_long);
    cross.libc = None;
    Ok(cross)
}

/// Before compiling for macOS or Windows: a library the target does not
/// have is an error naming it, unless the module names a directory to
/// find the target's build of it in (`library-dirs`).
pub(super) fn foreign_link_check(
    target: &Target,
    jobs: &[(String, String, compile::Job)],
) -> Result<(), BuildError> {
    for (name, _, job) in jobs {
        for l in &job.libraries {
            if !target.system_library(l) && job.library_dirs.is_empty() {
                return Err(BuildError::Setting(format!(
                    "module {name}: links '{l}' (libraries), which {} does not provide: a cross build cannot use this machine's copy. Add the directory holding the target's build of it to the module's library-dirs, or compile its C sources into the module (sources)",
                    target.describe()
                )));
            }
        }
    }
    Ok(())
}

/// After building for macOS or Windows: the module is the platform's kind
/// of extension (a Mach-O bundle or dylib, a PE DLL), exports its
/// `PyInit_<init>` (API-mode modules), and needs only what the platform and
/// Python provide (see [`crate::portable::macho::Binary::foreign_needs`]).
pub(super) fn check_foreign_module(
    module: &str,
    data: &[u8],
    target: &Target,
    job: &compile::Job,
    init: Option<&str>,
) -> Result<(), BuildError> {
    use crate::portable::macho::{Binary, read_binary};
    let bin = read_binary(data).map_err(|e| BuildError::Binary {
        module: format!("module {module}"),
        message: e.to_string(),
    })?;
    let kind_ok = match (&bin, target) {
        (Binary::MachO(slices), Target::Macos { .. }) => {
            slices.iter().all(|s| s.filetype == 6 || s.filetype == 8)
        }
        (Binary::Pe(p), Target::Windows { .. }) => p.is_dll,
        _ => false,
    };
    if !kind_ok {
        return Err(BuildError::Target(format!(
            "module {module}: the linker did not write a loadable module for {}",
            target.describe()
        )));
    }
    if let Some(init) = init
        && !bin.exports_init(init)
    {
        return Err(BuildError::Target(format!(
            "module {module}: the built module does not export PyInit_{init}"
        )));
    }
    let own: Vec<String> = job
        .libraries
        .iter()
        .map(|l| l.to_ascii_lowercase())
        .collect();
    let needs = bin.foreign_needs(&|dll: &str| {
        target.system_library(dll) || own.iter().any(|l| l == dll || format!("lib{l}") == dll)
    });
    if needs.is_empty() {
        return Ok(());
    }
    Err(BuildError::Unresolved {
        module: module.to_string(),
        message: format!(
            "the module built for {} needs what the platform and Python do not provide; importing it would fail:\n  {}",
            target.describe(),
            needs.join("\n  ")
        ),
    })
}

/// Fails the build when the module requires a symbol that neither its
/// libraries nor the interpreter define (a cdef declaring a function the
/// library does not export, a missing `libraries` entry): the import would
/// fail with "undefined symbol". Names the cdef line declaring it.
pub(super) fn check_imports(
    module: &str,
    so: &[u8],
    cdef: &CdefInput,
    job: &compile::Job,
    python: Option<&Path>,
) -> Result<(), BuildError> {
    let Ok(info) = crate::portable::elf::read_elf(so) else {
        return Ok(());
    };
    let missing = crate::portable::unresolved_imports(&info, &job.library_dirs, python);
    if missing.is_empty() {
        return Ok(());
    }
    let word = |line: &str, name: &str| {
        line.match_indices(name).any(|(i, _)| {
            let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
            !line[..i].ends_with(ident) && !line[i + name.len()..].starts_with(ident)
        })
    };
    let lines: Vec<String> = missing
        .iter()
        .map(|name| match cdef.text.lines().position(|l| word(l, name)) {
            Some(i) => format!("  '{name}', declared at {}:{}", cdef.origin, i + 1),
            None => format!("  '{name}'"),
        })
        .collect();
    let libs = if job.libraries.is_empty() {
        "none".to_string()
    } else {
        job.libraries.join(", ")
    };
    Err(BuildError::Unresolved {
        module: module.to_string(),
        message: format!(
            "the module needs symbols that no library it links (libraries: {libs}) nor Python defines; importing it would fail with 'undefined symbol':\n{}\n(declare only what the library exports, or add the library that defines it to 'libraries')",
            lines.join("\n")
        ),
    })
}
