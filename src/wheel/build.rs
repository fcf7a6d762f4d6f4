//! The build itself, as the PEP 517 / 660 hooks ask for it: configuration →
//! emitted module sources → compiled extensions → wheel, sdist or editable
//! wheel. Every fact about the interpreter and the environment arrives in a
//! [`BuildRequest`]; log lines go to the given logger (stderr in the product).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::archive::{self, ArchiveError, WheelContents};
use super::sdist;
use crate::compile::{self, CompileError, CompileJob, CompileOptions, Interpreter, Log};
use crate::config::{self, ConfigError, Mode, ModuleConfig, Preamble, Project};
use crate::emit::{self, CdefInput, CffiRuntime, EmitError, EmitOptions};
use crate::portable;

/// What a hook asks for.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildRequest {
    /// The project directory (holding `pyproject.toml`).
    pub project_dir: PathBuf,
    /// Where the wheel, sdist or metadata goes.
    pub out_dir: PathBuf,
    /// The target interpreter's facts.
    pub interpreter: Interpreter,
    /// PEP 517 `config_settings` (`-C key=value`).
    #[serde(default)]
    pub config_settings: BTreeMap<String, serde_json::Value>,
    /// `SOURCE_DATE_EPOCH` from the environment, if set.
    #[serde(default)]
    pub source_date_epoch: Option<String>,
}

/// The `-C` settings headerwheel understands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildSettings {
    /// `build-dir`: keep intermediates (generated C, objects, a compile
    /// cache) there instead of a temporary directory.
    pub build_dir: Option<PathBuf>,
    /// `opt-level`: `0`..`3`, `s`, `z`, `g`, `fast`.
    pub opt_level: Option<String>,
    /// `verbose`: log compiler and linker command lines.
    pub verbose: bool,
    /// `skip-cache`: rebuild even when the build directory's compile cache
    /// has the module.
    pub skip_cache: bool,
    /// `abi3`: `false` builds for the full API of this interpreter.
    pub abi3: Option<bool>,
}

/// The `-C` keys, for messages.
pub const SETTING_KEYS: &[&str] = &["abi3", "build-dir", "opt-level", "skip-cache", "verbose"];

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// `pyproject.toml` is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A `-C` setting is wrong.
    #[error("config setting `{key}`: {message}")]
    Setting {
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The request itself is malformed.
    #[error("invalid build request: {0}")]
    Request(String),
    /// A module's cdef could not be turned into source.
    #[error("module {module}: {source}")]
    Emit {
        /// The module.
        module: String,
        /// The emitter's message (file:line:col).
        source: EmitError,
    },
    /// Compiling or linking failed.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// Writing an archive failed.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// A file operation failed.
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        /// What was attempted.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The built extension is not a readable ELF file.
    #[error("module {module}: cannot read the built extension: {message}")]
    Elf {
        /// The module.
        module: String,
        /// Why.
        message: String,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BuildError + use<'a> {
    move |source| BuildError::Io { action, path: path.to_path_buf(), source }
}

fn setting_bool(key: &str, v: &str) -> Result<bool, BuildError> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(BuildError::Setting { key: key.into(), message: format!("`{v}` is not a boolean (true/false)") }),
    }
}

/// Parses PEP 517 `config_settings`; unknown keys are errors.
pub fn parse_settings(map: &BTreeMap<String, serde_json::Value>, project_dir: &Path) -> Result<BuildSettings, BuildError> {
    let mut s = BuildSettings::default();
    for (key, value) in map {
        // A key given twice (`-C a=1 -C a=2`) arrives as a list: the last wins.
        let v = match value {
            serde_json::Value::String(v) => v.clone(),
            serde_json::Value::Array(items) => items.last().and_then(|x| x.as_str()).unwrap_or("").to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        match key.as_str() {
            "build-dir" => {
                if v.is_empty() {
                    return Err(BuildError::Setting { key: key.clone(), message: "needs a directory".into() });
                }
                s.build_dir = Some(project_dir.join(v));
            }
            "opt-level" => {
                if !["0", "1", "2", "3", "s", "z", "g", "fast"].contains(&v.as_str()) {
                    return Err(BuildError::Setting {
                        key: key.clone(),
                        message: format!("`{v}` is not an optimization level (0, 1, 2, 3, s, z, g, fast)"),
                    });
                }
                s.opt_level = Some(v);
            }
            "verbose" => s.verbose = setting_bool(key, &v)?,
            "skip-cache" => s.skip_cache = setting_bool(key, &v)?,
            "abi3" => s.abi3 = Some(setting_bool(key, &v)?),
            _ => {
                return Err(BuildError::Setting {
                    key: key.clone(),
                    message: format!("unknown setting (headerwheel understands: {})", SETTING_KEYS.join(", ")),
                });
            }
        }
    }
    Ok(s)
}

/// `SOURCE_DATE_EPOCH`, or the fixed default (1980-01-01, the zip epoch).
pub fn source_date_epoch(value: Option<&str>) -> Result<u64, BuildError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(archive::ZIP_EPOCH),
        Some(v) => v.parse().map_err(|_| BuildError::Request(format!("SOURCE_DATE_EPOCH=`{v}` is not a number of seconds"))),
    }
}

/// The wheel tag's interpreter and ABI parts.
fn python_abi(interp: &Interpreter, limited: Option<u32>) -> (String, String) {
    let (major, minor) = interp.version;
    if interp.implementation == "cpython" {
        match limited {
            Some(n) => (format!("cp{major}{n}"), "abi3".into()),
            None => {
                let mut abi = format!("cp{major}{minor}");
                if interp.free_threaded {
                    abi.push('t');
                }
                if interp.debug {
                    abi.push('d');
                }
                (format!("cp{major}{minor}"), abi)
            }
        }
    } else {
        let short = if interp.implementation == "pypy" { "pp".to_string() } else { interp.implementation.clone() };
        let abi = interp
            .ext_suffix
            .trim_start_matches('.')
            .split('.')
            .next()
            .unwrap_or("none")
            .replace(['-', '.'], "_");
        (format!("{short}{major}{minor}"), abi)
    }
}

/// Expands a compressed tag (`cp39-abi3-a.b`) into its tags.
pub fn expand_tag(tag: &str) -> Vec<String> {
    let parts: Vec<&str> = tag.splitn(3, '-').collect();
    let mut out = Vec::new();
    for py in parts[0].split('.') {
        for abi in parts[1].split('.') {
            for plat in parts[2].split('.') {
                out.push(format!("{py}-{abi}-{plat}"));
            }
        }
    }
    out
}

/// The `WHEEL` file.
pub fn wheel_file(tag: &str, purelib: bool) -> String {
    let mut s = format!(
        "Wheel-Version: 1.0\nGenerator: headerwheel {}\nRoot-Is-Purelib: {purelib}\n",
        env!("CARGO_PKG_VERSION")
    );
    for t in expand_tag(tag) {
        s.push_str(&format!("Tag: {t}\n"));
    }
    s
}

/// The limited-API minor version for `module`, or `None` for the full API.
fn limited_api_for(project: &Project, settings: &BuildSettings, interp: &Interpreter, module: &ModuleConfig) -> Option<u32> {
    if !(project.abi3 && settings.abi3 != Some(false) && module.py_limited_api != Some(false)) {
        return None;
    }
    if interp.limited_api_blocker().is_some() {
        return None;
    }
    let floor = project
        .metadata
        .requires_python
        .as_deref()
        .and_then(config::pep::min_python_minor)
        .unwrap_or(9);
    Some(floor.clamp(2, interp.version.1))
}

/// What the Python-side modules of a build produced.
struct BuiltModules {
    /// Wheel path → built file (extensions) or generated text (ABI mode).
    extensions: Vec<(String, PathBuf, String)>,
    abi_sources: Vec<(String, String)>,
    /// Limited-API level shared by all extensions, `None` if any uses the full API.
    limited: Option<u32>,
}

struct BuildDir {
    path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

fn build_dir(settings: &BuildSettings) -> Result<BuildDir, BuildError> {
    match &settings.build_dir {
        Some(p) => {
            std::fs::create_dir_all(p).map_err(io("create", p))?;
            Ok(BuildDir { path: p.clone(), _temp: None })
        }
        None => {
            let t = tempfile::Builder::new().prefix("headerwheel-build-").tempdir().map_err(io("create a temporary directory in", &std::env::temp_dir()))?;
            Ok(BuildDir { path: t.path().to_path_buf(), _temp: Some(t) })
        }
    }
}

fn read_root_file(root: &Path, rel: &str) -> Result<String, BuildError> {
    let p = root.join(rel);
    std::fs::read_to_string(&p).map_err(io("read", &p))
}

/// Writes `bytes` to `path` unless it already holds them (atomically).
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io("create a temporary file in", dir))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(io("write", path))?;
    let perms = std::fs::metadata(path).map(|m| m.permissions()).ok();
    if let Some(p) = perms {
        let _ = tmp.as_file().set_permissions(p);
    }
    tmp.persist(path).map_err(|e| BuildError::Io { action: "rename into", path: path.to_path_buf(), source: e.error })?;
    Ok(())
}

fn compile_key(interp: &Interpreter, job: &CompileJob, opts: &CompileOptions) -> Result<String, BuildError> {
    let mut h = Sha256::new();
    for s in &job.sources {
        h.update(std::fs::read(s).map_err(io("read", s))?);
        h.update([0]);
    }
    h.update(compile::compile_args(interp, job, opts).join("\0"));
    h.update(compile::link_args(interp, job, &[]).join("\0"));
    h.update(format!("{interp:?}"));
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Emits and compiles every module of `project` into `dir`.
fn build_modules(
    project: &Project,
    interp: &Interpreter,
    settings: &BuildSettings,
    dir: &Path,
    log: &Arc<Log>,
) -> Result<BuiltModules, BuildError> {
    let root = &project.root;
    let mut built = BuiltModules { extensions: Vec::new(), abi_sources: Vec::new(), limited: None };
    if project.modules.is_empty() {
        return Ok(built);
    }
    let emit_options = EmitOptions {
        no_limited_api: interp.free_threaded && interp.version < (3, 15),
        sizeof_int: interp.sizeof_int,
        sizeof_long: interp.sizeof_long,
    };
    let needs_runtime = project.modules.iter().any(|m| m.mode == Mode::Api);
    let runtime = if needs_runtime {
        let Some(cffi_dir) = interp.cffi_dir.as_deref() else {
            return Err(BuildError::Request("cffi is not installed in the build environment: its C headers are needed for API-mode modules".into()));
        };
        Some(CffiRuntime::from_dir(cffi_dir).map_err(io("read CFFI's headers from", cffi_dir))?)
    } else {
        None
    };
    if let Some(why) = interp.limited_api_blocker() {
        log(&format!("headerwheel: building for the full API, not abi3: {why}"));
    }
    let opts = CompileOptions {
        opt_level: settings.opt_level.clone(),
        verbose: settings.verbose,
        prefix_maps: vec![(root.clone(), ".".into()), (dir.to_path_buf(), "build".into())],
    };
    let mut jobs = Vec::new();
    let mut limits = Vec::new();
    for m in &project.modules {
        let cdef = CdefInput {
            text: read_root_file(root, &m.cdef)?,
            origin: m.cdef.clone(),
            ..Default::default()
        };
        match m.mode {
            Mode::Abi => {
                log(&format!("headerwheel: emitting Python for {} (ABI mode)", m.name));
                let py = emit::py_source(&m.name, &[cdef], &emit_options)
                    .map_err(|source| BuildError::Emit { module: m.name.clone(), source })?;
                built.abi_sources.push((format!("{}.py", m.path_stem()), py));
            }
            Mode::Api => {
                log(&format!("headerwheel: emitting C for {}", m.name));
                let preamble = match &m.preamble {
                    Preamble::None => String::new(),
                    Preamble::Inline(p) => p.clone(),
                    Preamble::File(f) => read_root_file(root, f)?,
                };
                let c = emit::c_source(&m.name, &[cdef], &preamble, runtime.as_ref().expect("API mode has a runtime"), &emit_options)
                    .map_err(|source| BuildError::Emit { module: m.name.clone(), source })?;
                let c_path = dir.join("src").join(format!("{}.c", m.name));
                write_if_changed(&c_path, c.as_bytes())?;
                let limited = limited_api_for(project, settings, interp, m);
                limits.push(limited);
                let suffix = if limited.is_some() { ".abi3.so".to_string() } else { interp.ext_suffix.clone() };
                let abs = |p: &String| if Path::new(p).is_absolute() { PathBuf::from(p) } else { root.join(p) };
                let mut sources = vec![c_path];
                sources.extend(m.sources.iter().map(|s| root.join(s)));
                let wheel_path = format!("{}{suffix}", m.path_stem());
                jobs.push((
                    wheel_path,
                    CompileJob {
                        module: m.name.clone(),
                        sources,
                        include_dirs: m.include_dirs.iter().map(abs).collect(),
                        library_dirs: m.library_dirs.iter().map(abs).collect(),
                        libraries: m.libraries.clone(),
                        define_macros: m.define_macros.clone(),
                        extra_compile_args: m.extra_compile_args.clone(),
                        extra_link_args: m.extra_link_args.clone(),
                        limited_api: limited,
                        output: dir.join("lib").join(format!("{}{suffix}", m.name)),
                        obj_dir: dir.join("obj").join(&m.name),
                    },
                ));
            }
        }
    }
    // The compile cache (only in a kept build directory).
    let mut to_compile = Vec::new();
    let mut cached = BTreeSet::new();
    let cache_dir = dir.join("cache");
    for (i, (_, job)) in jobs.iter().enumerate() {
        let key = compile_key(interp, job, &opts)?;
        let hit = cache_dir.join(format!("{key}.so"));
        if settings.build_dir.is_some() && !settings.skip_cache && hit.is_file() {
            log(&format!("headerwheel: {} unchanged, reusing {}", job.module, hit.display()));
            let bytes = std::fs::read(&hit).map_err(io("read", &hit))?;
            write_if_changed(&job.output, &bytes)?;
            cached.insert(i);
        } else {
            to_compile.push(job.clone());
        }
    }
    compile::compile_all(interp, &to_compile, &opts, log.clone())?;
    for (i, (wheel_path, job)) in jobs.iter().enumerate() {
        if settings.build_dir.is_some() && !cached.contains(&i) {
            let key = compile_key(interp, job, &opts)?;
            let bytes = std::fs::read(&job.output).map_err(io("read", &job.output))?;
            write_if_changed(&cache_dir.join(format!("{key}.so")), &bytes)?;
        }
        built.extensions.push((wheel_path.clone(), job.output.clone(), job.module.clone()));
    }
    built.limited = if limits.iter().all(Option::is_some) { limits.iter().flatten().copied().min() } else { None };
    if !built.extensions.is_empty() && built.limited.is_some() && limits.iter().flatten().any(|l| Some(*l) != built.limited) {
        log("headerwheel: modules use different limited-API levels; the wheel is tagged with the lowest");
    }
    Ok(built)
}

/// The full wheel tag for what was built.
fn wheel_tag(interp: &Interpreter, built: &BuiltModules) -> Result<String, BuildError> {
    if built.extensions.is_empty() {
        return Ok("py3-none-any".into());
    }
    let mut elves = Vec::new();
    for (_, path, module) in &built.extensions {
        let bytes = std::fs::read(path).map_err(io("read", path))?;
        elves.push(portable::elf::read_elf(&bytes).map_err(|e| BuildError::Elf { module: module.clone(), message: e.to_string() })?);
    }
    let libc = if interp.libc == "musl" {
        let mut v = interp.libc_version.split('.').filter_map(|x| x.parse().ok());
        portable::Libc::Musl(v.next().unwrap_or(1), v.next().unwrap_or(2))
    } else {
        portable::Libc::Glibc
    };
    let arch = interp.platform.rsplit('-').next().unwrap_or(&interp.machine).replace(['-', '.'], "_");
    let plat = portable::platform_tag(&arch, libc, &elves, &BTreeSet::new());
    let (py, abi) = python_abi(interp, built.limited);
    Ok(format!("{py}-{abi}-{}", plat.compressed()))
}

fn python_files(project: &Project) -> Result<Vec<(String, PathBuf, bool)>, BuildError> {
    let src = project.root.join(&project.layout.source_dir);
    let inputs: BTreeSet<PathBuf> = project.modules.iter().flat_map(|m| m.input_files()).map(|f| project.root.join(f)).collect();
    let outputs: BTreeSet<String> = project.modules.iter().map(|m| format!("{}.py", m.path_stem())).collect();
    let mut out = Vec::new();
    for pkg in &project.layout.packages {
        let files = config::glob::walk_files(&src.join(pkg)).map_err(io("list", &src.join(pkg)))?;
        for rel in files {
            let wheel_path = format!("{pkg}/{rel}");
            let path = src.join(pkg).join(&rel);
            let name = rel.rsplit('/').next().unwrap_or(&rel);
            let artifact = [".pyc", ".pyo", ".so", ".pyd", ".o"].iter().any(|e| name.ends_with(e));
            if artifact || inputs.contains(&path) || outputs.contains(&wheel_path) {
                continue;
            }
            let exec = {
                use std::os::unix::fs::PermissionsExt;
                std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o111 != 0).unwrap_or(false)
            };
            out.push((wheel_path, path, exec));
        }
    }
    for m in &project.layout.py_modules {
        out.push((format!("{m}.py"), src.join(format!("{m}.py")), false));
    }
    Ok(out)
}

/// The `.dist-info` files every wheel and `prepare_metadata` share.
fn dist_info_files(project: &Project) -> Result<Vec<(String, Vec<u8>)>, BuildError> {
    let m = &project.metadata;
    let mut v = vec![("METADATA".to_string(), m.render("2.1").into_bytes())];
    if let Some(ep) = m.entry_points_txt() {
        v.push(("entry_points.txt".into(), ep.into_bytes()));
    }
    for (rel, path) in config::metadata::license_paths(m, &project.root) {
        v.push((format!("licenses/{rel}"), std::fs::read(&path).map_err(io("read", &path))?));
    }
    Ok(v)
}

/// Loads the project and the settings of `req`.
fn load(req: &BuildRequest) -> Result<(Project, BuildSettings, u64), BuildError> {
    let settings = parse_settings(&req.config_settings, &req.project_dir)?;
    let project = config::load(&req.project_dir)?;
    let epoch = source_date_epoch(req.source_date_epoch.as_deref())?;
    std::fs::create_dir_all(&req.out_dir).map_err(io("create", &req.out_dir))?;
    Ok((project, settings, epoch))
}

/// `prepare_metadata_for_build_wheel` / `_editable`: writes the
/// `.dist-info` directory into `out_dir`; returns its name.
pub fn prepare_metadata(req: &BuildRequest) -> Result<String, BuildError> {
    let (project, _, _) = load(req)?;
    let name = project.metadata.dist_info_dir();
    let dir = req.out_dir.join(&name);
    for (rel, bytes) in dist_info_files(&project)? {
        write_if_changed(&dir.join(rel), &bytes)?;
    }
    Ok(name)
}

/// `build_sdist`: returns the sdist's file name.
pub fn build_sdist(req: &BuildRequest, log: &Arc<Log>) -> Result<String, BuildError> {
    let (project, _, epoch) = load(req)?;
    log(&format!("headerwheel: writing the sdist of {} {}", project.metadata.name, project.metadata.version));
    let path = sdist::write_sdist(&project, &req.out_dir, epoch)?;
    Ok(file_name(&path))
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `build_wheel` (or `build_editable` with `editable`): returns the wheel's
/// file name.
pub fn build_wheel(req: &BuildRequest, editable: bool, log: &Arc<Log>) -> Result<String, BuildError> {
    let (project, settings, epoch) = load(req)?;
    let interp = &req.interpreter;
    log(&format!(
        "headerwheel: building {}wheel of {} {} ({} module{})",
        if editable { "an editable " } else { "the " },
        project.metadata.name,
        project.metadata.version,
        project.modules.len(),
        if project.modules.len() == 1 { "" } else { "s" }
    ));
    let dir = build_dir(&settings)?;
    let built = build_modules(&project, interp, &settings, &dir.path, log)?;
    let tag = wheel_tag(interp, &built)?;

    let mut contents = WheelContents::default();
    if editable {
        // The compiled modules go beside their sources, where imports find
        // them through the .pth; rerunning the install rebuilds them.
        for (wheel_path, built_path, module) in &built.extensions {
            let dest = project.root.join(&project.layout.source_dir).join(wheel_path);
            let bytes = std::fs::read(built_path).map_err(io("read", built_path))?;
            write_if_changed(&dest, &bytes)?;
            log(&format!("headerwheel: {module} → {}", dest.display()));
        }
        for (wheel_path, text) in &built.abi_sources {
            let dest = project.root.join(&project.layout.source_dir).join(wheel_path);
            write_if_changed(&dest, text.as_bytes())?;
        }
        let src = project.root.join(&project.layout.source_dir);
        let src = src.canonicalize().map_err(io("resolve", &src))?;
        contents.add(
            format!("_headerwheel_editable_{}.pth", project.metadata.file_name()),
            format!("{}\n", src.display()).into_bytes(),
            false,
        )?;
    } else {
        for (wheel_path, path, exec) in python_files(&project)? {
            let bytes = std::fs::read(&path).map_err(io("read", &path))?;
            contents.add(wheel_path, bytes, exec)?;
        }
        for (wheel_path, built_path, _) in &built.extensions {
            let bytes = std::fs::read(built_path).map_err(io("read", built_path))?;
            contents.add(wheel_path.clone(), bytes, true)?;
        }
        for (wheel_path, text) in &built.abi_sources {
            contents.add(wheel_path.clone(), text.clone().into_bytes(), false)?;
        }
    }
    for (rel, bytes) in dist_info_files(&project)? {
        contents.add_dist_info(&rel, bytes);
    }
    contents.add_dist_info("WHEEL", wheel_file(&tag, built.extensions.is_empty()).into_bytes());
    let name = format!("{}-{}-{tag}.whl", project.metadata.file_name(), project.metadata.file_version());
    let target = req.out_dir.join(&name);
    archive::write_wheel_file(&contents, &project.metadata.dist_info_dir(), &target, epoch)?;
    log(&format!("headerwheel: wrote {}", target.display()));
    Ok(name)
}

/// `get_requires_for_build_*`: what the build environment still needs.
pub fn get_requires(req: &BuildRequest, kind: &str) -> Result<Vec<String>, BuildError> {
    let settings = parse_settings(&req.config_settings, &req.project_dir)?;
    let _ = settings;
    if kind == "sdist" {
        return Ok(Vec::new());
    }
    let project = config::load(&req.project_dir)?;
    let mut v = Vec::new();
    if project.modules.iter().any(|m| m.mode == Mode::Api) && req.interpreter.cffi_dir.is_none() {
        v.push(config::CFFI_REQUIREMENT.to_string());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        let mut m = BTreeMap::new();
        m.insert("opt-level".to_string(), serde_json::json!("2"));
        m.insert("verbose".to_string(), serde_json::json!(["false", "true"]));
        m.insert("build-dir".to_string(), serde_json::json!("b"));
        let s = parse_settings(&m, Path::new("/p")).unwrap();
        assert_eq!(s.opt_level.as_deref(), Some("2"));
        assert!(s.verbose);
        assert_eq!(s.build_dir, Some(PathBuf::from("/p/b")));
        m.insert("opt".to_string(), serde_json::json!("2"));
        let e = parse_settings(&m, Path::new("/p")).unwrap_err().to_string();
        assert_eq!(e, "config setting `opt`: unknown setting (headerwheel understands: abi3, build-dir, opt-level, skip-cache, verbose)");
        let mut m = BTreeMap::new();
        m.insert("opt-level".to_string(), serde_json::json!("9"));
        assert!(parse_settings(&m, Path::new("/p")).is_err());
    }

    #[test]
    fn tags() {
        let i = Interpreter::example();
        assert_eq!(python_abi(&i, Some(9)), ("cp39".into(), "abi3".into()));
        assert_eq!(python_abi(&i, None), ("cp311".into(), "cp311".into()));
        let mut ft = i.clone();
        ft.free_threaded = true;
        ft.version = (3, 13);
        assert_eq!(python_abi(&ft, None), ("cp313".into(), "cp313t".into()));
        assert_eq!(
            expand_tag("cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"),
            ["cp39-abi3-manylinux_2_17_x86_64", "cp39-abi3-manylinux2014_x86_64"]
        );
        assert_eq!(
            wheel_file("py3-none-any", true),
            format!("Wheel-Version: 1.0\nGenerator: headerwheel {}\nRoot-Is-Purelib: true\nTag: py3-none-any\n", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn epoch() {
        assert_eq!(source_date_epoch(None).unwrap(), archive::ZIP_EPOCH);
        assert_eq!(source_date_epoch(Some("1700000000")).unwrap(), 1_700_000_000);
        assert!(source_date_epoch(Some("yesterday")).is_err());
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    fn request(project: &Path, out: &Path) -> BuildRequest {
        BuildRequest {
            project_dir: project.to_path_buf(),
            out_dir: out.to_path_buf(),
            interpreter: Interpreter::example(),
            config_settings: BTreeMap::new(),
            source_date_epoch: Some("1700000000".into()),
        }
    }

    fn copy_tree(from: &Path, to: &Path) {
        for rel in config::glob::walk_files(from).unwrap() {
            let dest = to.join(&rel);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(from.join(&rel), dest).unwrap();
        }
    }

    fn names(wheel: &Path) -> Vec<String> {
        let z = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
        z.file_names().map(String::from).collect()
    }

    #[test]
    fn pure_fixture_wheel_sdist_and_metadata() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects/pure");
        let tree = tempfile::tempdir().unwrap();
        copy_tree(&fixture, tree.path());
        std::fs::write(tree.path().join("hwpure/stale.pyc"), b"x").unwrap();
        std::fs::create_dir_all(tree.path().join("build")).unwrap();
        std::fs::write(tree.path().join("build/junk.txt"), b"x").unwrap();
        std::fs::write(tree.path().join("debug.log"), b"x").unwrap();
        let out = tempfile::tempdir().unwrap();
        let log: Arc<Log> = Arc::new(|_: &str| {});
        let req = request(tree.path(), out.path());
        let name = build_wheel(&req, false, &log).unwrap();
        assert_eq!(name, "hw_pure-0.3.1-py3-none-any.whl");
        let wheel = out.path().join(&name);
        assert_eq!(
            names(&wheel),
            [
                "hwpure/__init__.py",
                "hwpure/cli.py",
                "hwpure/data.toml",
                "hw_pure-0.3.1.dist-info/METADATA",
                "hw_pure-0.3.1.dist-info/WHEEL",
                "hw_pure-0.3.1.dist-info/entry_points.txt",
                "hw_pure-0.3.1.dist-info/licenses/LICENSE",
                "hw_pure-0.3.1.dist-info/RECORD",
            ]
        );
        // Same tree, same bytes.
        let first = std::fs::read(&wheel).unwrap();
        build_wheel(&req, false, &log).unwrap();
        assert_eq!(first, std::fs::read(&wheel).unwrap());

        // prepare_metadata writes the wheel's METADATA.
        let md = tempfile::tempdir().unwrap();
        let dist_info = prepare_metadata(&request(tree.path(), md.path())).unwrap();
        let mut z = zip::ZipArchive::new(std::fs::File::open(&wheel).unwrap()).unwrap();
        let mut in_wheel = String::new();
        std::io::Read::read_to_string(&mut z.by_name("hw_pure-0.3.1.dist-info/METADATA").unwrap(), &mut in_wheel).unwrap();
        assert_eq!(std::fs::read_to_string(md.path().join(dist_info).join("METADATA")).unwrap(), in_wheel);

        // The sdist leaves out ignored files and build outputs; a wheel
        // built from it equals the tree's.
        let sdist_name = build_sdist(&req, &log).unwrap();
        assert_eq!(sdist_name, "hw_pure-0.3.1.tar.gz");
        let unpacked = tempfile::tempdir().unwrap();
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(out.path().join(&sdist_name)).unwrap());
        let mut ar = tar::Archive::new(gz);
        let mut listed = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            listed.push(e.path().unwrap().display().to_string());
            e.unpack_in(unpacked.path()).unwrap();
        }
        assert_eq!(
            listed,
            [
                "hw_pure-0.3.1/.gitignore",
                "hw_pure-0.3.1/LICENSE",
                "hw_pure-0.3.1/PKG-INFO",
                "hw_pure-0.3.1/README.md",
                "hw_pure-0.3.1/hwpure/__init__.py",
                "hw_pure-0.3.1/hwpure/cli.py",
                "hw_pure-0.3.1/hwpure/data.toml",
                "hw_pure-0.3.1/pyproject.toml",
            ]
        );
        let out2 = tempfile::tempdir().unwrap();
        let name2 = build_wheel(&request(&unpacked.path().join("hw_pure-0.3.1"), out2.path()), false, &log).unwrap();
        assert_eq!(first, std::fs::read(out2.path().join(name2)).unwrap());
    }

    #[test]
    fn config_error_leaves_no_file() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::write(tree.path().join("pyproject.toml"), "[project]\nname = \"x\"\nversion = \"1\"\nbogus = 1\n").unwrap();
        std::fs::create_dir_all(tree.path().join("x")).unwrap();
        std::fs::write(tree.path().join("x/__init__.py"), "").unwrap();
        let out = tempfile::tempdir().unwrap();
        let log: Arc<Log> = Arc::new(|_: &str| {});
        let e = build_wheel(&request(tree.path(), out.path()), false, &log).unwrap_err().to_string();
        assert!(e.starts_with("pyproject.toml:4:1: project.bogus: unknown key `bogus`"), "{e}");
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    }
}
