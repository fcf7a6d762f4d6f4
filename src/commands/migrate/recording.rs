//! What the recorder (`backend/headerwheel/_record.py`, run with the
//! project's interpreter) reports about a project's CFFI builders.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// The recorder's source, run from a temporary file so the project's
/// interpreter needs cffi (and setuptools) but not headerwheel.
pub const RECORDER_PY: &str = include_str!("record.py");

/// One `cdef()` call.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CdefCall {
    /// The cdef text.
    pub text: String,
    /// `override=True`.
    #[serde(default)]
    pub override_: bool,
    /// `packed=True`.
    #[serde(default)]
    pub packed: bool,
    /// `pack=N`.
    #[serde(default)]
    pub pack: Option<u32>,
}

/// One `include()` of another FFI.
#[derive(Debug, Clone, Deserialize)]
pub struct Include {
    /// The included FFI's cdef calls.
    #[serde(default)]
    pub cdefs: Vec<CdefCall>,
}

/// One module: an FFI on which `set_source()` was called.
#[derive(Debug, Clone, Deserialize)]
pub struct RecordedModule {
    /// `path/build.py:ffi`, when it came from `cffi_modules`.
    pub builder: Option<String>,
    /// `file:line` of the `set_source()` call.
    pub set_source_at: Option<String>,
    /// The name given to `set_source()`.
    pub module: String,
    /// That name under setup()'s `ext_package`: the import name.
    pub qualified: String,
    /// `api` or `abi` (`set_source(name, None)`).
    pub mode: String,
    /// The C source given to `set_source()` (API mode).
    pub preamble: Option<String>,
    /// `.c` or `.cpp`.
    pub source_extension: String,
    /// The keyword arguments of `set_source()` (libraries, sources, ...).
    pub kwds: serde_json::Map<String, Value>,
    /// The `cdef()` calls, in order.
    pub cdefs: Vec<CdefCall>,
    /// `include()`d FFIs.
    #[serde(default)]
    pub includes: Vec<Include>,
    /// Features headerwheel cannot express (`embedding_api`, ...).
    #[serde(default)]
    pub unsupported: Vec<String>,
    /// Where the real cffi wrote the module's source (`--emit`).
    pub emitted: Option<PathBuf>,
}

/// An environment variable the project's own code read.
#[derive(Debug, Clone, Deserialize)]
pub struct EnvRead {
    /// Its name.
    pub name: String,
    /// Its value then (`None`: unset).
    pub value: Option<String>,
    /// `file:line`.
    pub at: String,
}

/// A command the project's own code ran.
#[derive(Debug, Clone, Deserialize)]
pub struct CommandRun {
    /// argv (or the shell string).
    pub argv: Value,
    /// `file:line`.
    pub at: String,
}

/// The interpreter that ran the builders.
#[derive(Debug, Clone, Deserialize)]
pub struct PythonFacts {
    /// `sys.executable`.
    pub executable: String,
    /// (major, minor).
    pub version: (u32, u32),
    /// `Py_GIL_DISABLED`.
    pub free_threaded: bool,
    /// `sizeof(int)`.
    pub sizeof_int: u8,
    /// `sizeof(long)`.
    pub sizeof_long: u8,
    /// `cffi.__version__`.
    pub cffi_version: String,
    /// The cffi package directory (its headers).
    pub cffi_dir: PathBuf,
}

/// Everything the recorder reports.
#[derive(Debug, Clone, Deserialize)]
pub struct Recording {
    /// The interpreter.
    pub python: PythonFacts,
    /// Files it read the configuration from (setup.py, setup.cfg, a hook).
    pub sources: Vec<Value>,
    /// setup()'s keyword arguments (values as JSON, or their repr).
    pub setup_kwargs: serde_json::Map<String, Value>,
    /// For each keyword of the setup() call: `{literal, expr}`.
    pub setup_static: serde_json::Map<String, Value>,
    /// setup.cfg's sections, raw.
    pub setup_cfg: serde_json::Map<String, Value>,
    /// setup.cfg as setuptools resolves it (attr:, file:, find:).
    pub setup_cfg_resolved: Option<Value>,
    /// setup()'s (or setup.cfg's) `ext_package`.
    pub ext_package: Option<String>,
    /// The modules.
    pub modules: Vec<RecordedModule>,
    /// Environment variables read by the project's code.
    pub environment: Vec<EnvRead>,
    /// Commands run by the project's code.
    pub commands: Vec<CommandRun>,
    /// Things to tell the user.
    pub warnings: Vec<String>,
    /// Failures (a builder that raised, ...).
    pub errors: Vec<String>,
}

impl Recording {
    /// Parses the recorder's JSON.
    pub fn from_json(text: &str) -> Result<Recording, String> {
        // The recorder spells `override` as a Python keyword would.
        let text = text.replace("\"override\":", "\"override_\":");
        serde_json::from_str(&text).map_err(|e| format!("the recorder's output: {e}"))
    }
}

/// Runs the recorder with `python` on the project at `root`; with
/// `emit_dir`, the real cffi also writes each module's source there.
pub fn record(python: &str, root: &Path, emit_dir: Option<&Path>) -> Result<Recording, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
    let script = dir.path().join("headerwheel_record.py");
    std::fs::write(&script, RECORDER_PY).map_err(|e| format!("{}: {e}", script.display()))?;
    let out = dir.path().join("recording.json");
    // A relative interpreter path means the caller's directory, not the project's.
    let exe = if python.contains('/') && Path::new(python).is_relative() {
        std::env::current_dir()
            .map(|d| d.join(python))
            .unwrap_or_else(|_| PathBuf::from(python))
    } else {
        PathBuf::from(python)
    };
    let mut cmd = std::process::Command::new(exe);
    // Recording writes nothing into the project, not even __pycache__.
    cmd.arg(&script)
        .arg(root)
        .arg("--out")
        .arg(&out)
        .current_dir(root)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if let Some(d) = emit_dir {
        cmd.arg("--emit").arg(d);
    }
    // The builders' own output is a log: it goes to our stderr.
    let status = cmd
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {python}: {e} (pass --python PATH, the project's interpreter with cffi and setuptools)"))?;
    if !status.success() {
        return Err(format!(
            "the recorder failed under {python} ({status}); its messages are above"
        ));
    }
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    Recording::from_json(&text)
}
