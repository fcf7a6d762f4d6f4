//! The `-C` config settings a frontend passes (`build-dir`, `opt-level`,
//! `target`, ...), the compile cache they name, and the build directory's lock.

use super::*;

/// Settings from `config_settings`.
#[derive(Debug, Clone, Default)]
pub(super) struct Settings {
    pub(super) build_dir: Option<PathBuf>,
    pub(super) opt_level: Option<String>,
    pub(super) verbose: bool,
    pub(super) skip_cache: bool,
    pub(super) no_cache: bool,
    pub(super) bundle_libs: Option<bool>,
    /// Translation units besides the main one (`-C split=N`); `None`: auto.
    pub(super) split: Option<usize>,
    /// The platform to build for with `zig cc` (`-C target=`): an older
    /// glibc, macOS or Windows.
    pub(super) target: Option<Target>,
    /// The target's own Python headers (`-C python-include=DIR`), instead
    /// of the build interpreter's with a generated `pyconfig.h`.
    pub(super) python_include: Option<PathBuf>,
    /// `MACOSX_DEPLOYMENT_TARGET`, read once here.
    pub(super) deployment_target: Option<String>,
    /// Words run before the compiler (`-C compiler-launcher=ccache`, else
    /// `HEADERWHEEL_COMPILER_LAUNCHER`).
    pub(super) launcher: Vec<String>,
}

pub(super) fn settings(cs: &BTreeMap<String, serde_json::Value>) -> Result<Settings, BuildError> {
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

/// The per-user compile cache, unless `-C no-cache` is set.
pub(super) fn compile_cache(s: &Settings) -> Option<PathBuf> {
    if s.no_cache {
        return None;
    }
    compile::user_cache_dir()
}

/// Holds the build directory for this build: builds sharing one (parallel
/// `pip wheel`s of a project) take turns, so none reads another's
/// half-written objects. The lock goes with the process, killed or not.
pub(super) fn lock_build_dir(build_dir: &Path) -> Result<std::fs::File, BuildError> {
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
