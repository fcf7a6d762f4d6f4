//! The PEP 517 / 660 hooks' work: load the project, emit each module's
//! source, compile, choose the tags and write the wheel, sdist or editable
//! wheel. The Python shim (`backend/headerwheel`) gathers the interpreter's
//! facts and calls [`run_hook`] with a JSON request.
//!
//! Here: the request, the interpreter's facts, the errors and the metadata
//! hooks; [`settings`] reads the `-C` settings, [`modules`] builds the
//! extension modules, [`cross`] what differs for another OS or libc,
//! [`assemble`] writes the wheel and the sdist, [`protocol`] is the JSON-lines
//! conversation with the shim.

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

mod assemble;
mod cross;
mod modules;
pub mod protocol;
mod settings;
mod stubs;

use assemble::*;
use cross::*;
pub use modules::module_sources;
use modules::*;
use settings::*;

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
    /// A module's cdef does not parse or cannot be emitted.
    #[error("module {module}: {source}")]
    Emitting {
        /// Module.
        module: String,
        /// Why.
        #[source]
        source: emit::EmitError,
    },
    /// A module's inputs cannot be emitted (read, preamble, options).
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
    /// The header stage failed.
    #[error(transparent)]
    Stage(#[from] crate::headers::stage::StageError),
    /// Listing the project's files failed (a link out of the project...).
    #[error(transparent)]
    Walk(#[from] crate::project::walk::WalkError),
    /// A file of the project cannot be read (confined, bounded).
    #[error(transparent)]
    Path(#[from] crate::project::paths::PathError),
    /// A file of the tree cannot be read (regular, bounded).
    #[error("{path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: crate::untrusted::ReadError,
    },
    /// A file cannot go in a wheel as it is named.
    #[error("{path}: {why}")]
    Package {
        /// The path.
        path: String,
        /// Why.
        why: &'static str,
    },
    /// A built module is not what its platform loads.
    #[error("{module}: {message}")]
    Binary {
        /// The module (its path in the wheel, or its name).
        module: String,
        /// Why.
        message: String,
    },
    /// The wheel's tags cannot be chosen.
    #[error(transparent)]
    Tag(#[from] crate::wheel::tags::TagError),
    /// `-C target=`: what the target needs and lacks.
    #[error("{0}")]
    Target(String),
    /// `bundle-libs` cannot copy the libraries.
    #[error("bundle-libs: {0}")]
    Bundle(String),
    /// A glob pattern of the configuration is wrong.
    #[error("{0}")]
    Glob(String),
    /// The build environment's cffi cannot be used.
    #[error("{0}")]
    Cffi(String),
    /// The shim asked for a hook that does not exist.
    #[error("unknown hook '{0}'")]
    UnknownHook(String),
}

impl From<crate::report::WriteError> for BuildError {
    fn from(e: crate::report::WriteError) -> Self {
        BuildError::Io {
            path: e.path,
            source: e.source,
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
        other => Err(BuildError::UnknownHook(other.to_string())),
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
        let data = project.paths.read(f, crate::untrusted::TEXT_LIMIT)?;
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
