//! The header stage inside a build: `[tool.headerkit]` headers → cdef, through
//! the `.headerkit/` store so a build whose headers are cached needs no
//! libclang.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cache::store::{DEPENDENCY_LIMIT, dependency_path, hash_dependency};
use crate::cache::{CacheKey, Dependency, Entry, Store};
use crate::cdef::writer::{self, WriterOptions};
use crate::headers::{self, ParseRequest, exports};
use crate::project::headerkit::HeaderkitConfig;
use crate::project::{ModuleConfig, Project};
use crate::untrusted::{self, Links, ReadError};

/// Why the header stage failed; the build reports it as it is.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file of the build's own could not be written.
    #[error(transparent)]
    Write(#[from] crate::report::WriteError),
    /// The `.headerkit/` store could not be read or written.
    #[error("the .headerkit store: {0}")]
    Store(String),
    /// libclang failed on a module's headers.
    #[error("module {module}: {message}")]
    Headers {
        /// Module.
        module: String,
        /// Message (every clang error with file:line:col).
        message: String,
    },
    /// The configuration or a cached entry is unusable.
    #[error("{0}")]
    Invalid(String),
}

impl StageError {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        StageError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

/// Bump when the header model changes (what the walk produces).
const MODEL_VERSION: &str = "headerwheel-model-5";
/// Bump when the cdef writer changes what it writes.
const WRITER_VERSION: &str = "headerwheel-writer-5";

/// The store directory (`store_dir`, default `.headerkit`).
pub fn store_dir(project: &Project) -> PathBuf {
    let dir = project
        .headerkit
        .as_ref()
        .and_then(|h| h.store_dir.clone())
        .unwrap_or_else(|| ".headerkit".to_string());
    project.root.join(dir)
}

fn system_include_dirs() -> Vec<PathBuf> {
    [
        "/usr/local/include",
        "/usr/include/x86_64-linux-gnu",
        "/usr/include",
    ]
    .iter()
    .map(PathBuf::from)
    .collect()
}

fn rel_or_abs(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(r) => r.to_string_lossy().replace('\\', "/"),
        Err(_) => p.to_string_lossy().to_string(),
    }
}

/// Writes the cdef generated for `module` beside its build output
/// (`<build-dir>/<module>/<module>.cdef.txt`, only when changed) and makes
/// it the origin its errors cite, so that a message's file:line exists.
pub fn keep_generated_cdef(
    build_dir: &Path,
    module: &str,
    cdef: &mut crate::cdef::CdefInput,
) -> Result<(), StageError> {
    let dir = build_dir.join(module);
    std::fs::create_dir_all(&dir).map_err(|e| StageError::io(&dir, e))?;
    let path = dir.join(format!("{module}.cdef.txt"));
    crate::report::write_if_changed(&path, cdef.text.as_bytes())?;
    crate::report::log(&format!(
        "[{module}] the generated cdef is {}",
        path.display()
    ));
    cdef.origin = path.display().to_string();
    Ok(())
}

/// What the compile of a module defines that its header stage must define
/// too (see [`headers::environment`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderEnv {
    /// The target interpreter's feature-test macros, `NAME=VALUE`.
    pub python_defines: Vec<String>,
    /// Those of them `pyconfig.h` defines only when not defined already.
    pub python_guarded: Vec<String>,
    /// Say every warning of the cdef writer, not a summary per kind
    /// (`-C verbose=true`). Not a parse input: no cache key has it.
    pub verbose: bool,
}

impl HeaderEnv {
    /// From the target interpreter's include directories
    /// (`Interpreter.toolchain.include_dirs`): the first `pyconfig.h` there.
    pub fn from_python_include_dirs(dirs: &[PathBuf]) -> HeaderEnv {
        for d in dirs {
            if let Some(env) = HeaderEnv::of_pyconfig(&d.join("pyconfig.h")) {
                return env;
            }
        }
        HeaderEnv::default()
    }

    /// The feature-test macros of the `pyconfig.h` at `path`, through a
    /// multiarch wrapper to this machine's own (looked for in the system
    /// include roots); `None` when it cannot be read.
    fn of_pyconfig(path: &Path) -> Option<HeaderEnv> {
        let mut text = std::fs::read_to_string(path).ok()?;
        if let Some(inner) = headers::environment::multiarch_include(&text, std::env::consts::ARCH)
        {
            let roots = ["/usr/include", "/usr/local/include"];
            text = roots
                .iter()
                .find_map(|r| std::fs::read_to_string(Path::new(r).join(&inner)).ok())?;
        }
        Some(HeaderEnv {
            python_defines: headers::environment::feature_defines(&text),
            python_guarded: headers::environment::guarded_names(&text),
            verbose: false,
        })
    }

    /// `defines` (the command line's: the module's and the headers') and
    /// then the interpreter's, as the module's compile sees them: the
    /// command line first, `pyconfig.h` (through `Python.h`) after it, its
    /// unguarded definitions overriding (the later `-D` wins), its guarded
    /// ones left out where the command line defines the name.
    pub fn after(&self, defines: &[String]) -> Vec<String> {
        let name = |d: &str| d.split('=').next().unwrap_or("").to_string();
        let given: Vec<String> = defines.iter().map(|d| name(d)).collect();
        let mut out = defines.to_vec();
        out.extend(
            self.python_defines
                .iter()
                .filter(|d| {
                    let n = name(d);
                    !(self.python_guarded.contains(&n) && given.contains(&n))
                })
                .cloned(),
        );
        out
    }

    /// For the command line, which has no target interpreter: `python3`'s
    /// `pyconfig.h` (through its sysconfig); none, with a note, when there
    /// is no such interpreter or header.
    pub fn discover() -> HeaderEnv {
        HeaderEnv::of_python("python3").unwrap_or_else(|| {
            eprintln!(
                "headerwheel: note: no pyconfig.h found through python3's sysconfig: the headers are parsed without Python's feature-test macros (_GNU_SOURCE, _FILE_OFFSET_BITS...), and a build with them misses the store"
            );
            HeaderEnv::default()
        })
    }

    /// The environment of the interpreter `python` (its sysconfig's
    /// `pyconfig.h`); `None` when it cannot say or the file is unreadable.
    pub fn of_python(python: &str) -> Option<HeaderEnv> {
        let out = std::process::Command::new(python)
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_config_h_filename())",
            ])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output();
        let path = match out {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
            _ => String::new(),
        };
        if path.is_empty() {
            return None;
        }
        HeaderEnv::of_pyconfig(Path::new(&path))
    }
}

/// The headers of `module` in the compile's environment: each parsed also
/// with the module's `define-macros` (before the headers' own defines), the
/// interpreter's feature-test macros (after them, [`HeaderEnv::after`]) and
/// the module's `include-dirs` (after the headers').
fn resolve_for_module(
    project: &Project,
    hk: &HeaderkitConfig,
    module: &ModuleConfig,
    env: &HeaderEnv,
) -> Result<Vec<ResolvedHeader>, StageError> {
    let module_inc: Vec<PathBuf> = module
        .include_dirs
        .iter()
        .map(|d| project.root.join(d))
        .collect();
    let mut headers = resolve_headers(project, hk, &module_inc)?;
    let module_defines: Vec<String> = module
        .define_macros
        .iter()
        .map(|(n, v)| match v {
            Some(v) => format!("{n}={v}"),
            None => n.clone(),
        })
        .collect();
    for (_, inc, defs, _) in &mut headers {
        let own = std::mem::take(defs);
        *defs = env.after(&[module_defines.clone(), own].concat());
        for d in &module_inc {
            if !inc.contains(d) {
                inc.push(d.clone());
            }
        }
    }
    Ok(headers)
}

/// Resolves the header patterns to files: globs under the project root,
/// else the path under an include directory or the system's.
fn resolve_headers(
    project: &Project,
    hk: &HeaderkitConfig,
    module_inc: &[PathBuf],
) -> Result<Vec<ResolvedHeader>, StageError> {
    let root = &project.root;
    let abs = |d: &str| {
        let p = PathBuf::from(d);
        if p.is_absolute() { p } else { root.join(p) }
    };
    let global_inc: Vec<PathBuf> = hk.include_dirs.iter().map(|d| abs(d)).collect();
    let excludes: Vec<globset::GlobMatcher> = hk
        .exclude
        .iter()
        .filter_map(|g| globset::Glob::new(g).ok().map(|g| g.compile_matcher()))
        .collect();
    let mut out = Vec::new();
    for h in &hk.headers {
        let mut inc = global_inc.clone();
        inc.extend(h.include_dirs.iter().map(|d| abs(d)));
        let mut defines = hk.defines.clone();
        defines.extend(h.defines.iter().cloned());
        let mut args = hk.backend_args.clone();
        args.extend(h.backend_args.iter().cloned());
        // A header is also looked for where the module's include
        // directories (pkg-config's among them) say.
        let search: Vec<PathBuf> = inc.iter().chain(module_inc).cloned().collect();
        let is_glob = h.pattern.contains(['*', '?', '[']);
        let mut files: Vec<PathBuf> = if is_glob {
            crate::project::metadata::glob_files(root, &h.pattern)
                .map_err(StageError::Invalid)?
                .into_iter()
                .map(|p| root.join(p))
                .collect()
        } else {
            let p = PathBuf::from(&h.pattern);
            let candidates: Vec<PathBuf> = if p.is_absolute() {
                vec![p.clone()]
            } else {
                std::iter::once(root.join(&p))
                    .chain(search.iter().map(|d| d.join(&p)))
                    .chain(
                        search
                            .iter()
                            .filter_map(|d| p.strip_prefix("include").ok().map(|s| d.join(s))),
                    )
                    .chain(system_include_dirs().into_iter().map(|d| d.join(&p)))
                    .chain(
                        system_include_dirs()
                            .into_iter()
                            .filter_map(|d| p.strip_prefix("include").ok().map(|s| d.join(s))),
                    )
                    .collect()
            };
            candidates
                .into_iter()
                .find(|c| c.is_file())
                .into_iter()
                .collect()
        };
        files.retain(|f| !excludes.iter().any(|g| g.is_match(rel_or_abs(root, f))));
        if files.is_empty() {
            return Err(StageError::Invalid(format!(
                "pyproject.toml: {}: the header pattern '{}' matches no file (looked under the project, include_dirs {:?} and the system include directories)",
                h.key, h.pattern, inc
            )));
        }
        for f in files {
            out.push((f, inc.clone(), defines.clone(), args.clone()));
        }
    }
    Ok(out)
}

/// The sha256 of a dependency file, memoized. A file that cannot be hashed
/// (gone, not a regular file, over [`DEPENDENCY_LIMIT`]) is `None`, so an
/// entry listing it is a miss; why is said once, unless the file is simply
/// gone (a changed include).
fn sha256_file(path: &Path, memo: &mut HashMap<PathBuf, Option<String>>) -> Option<String> {
    memo.entry(path.to_path_buf())
        .or_insert_with(|| match hash_dependency(path, DEPENDENCY_LIMIT) {
            Ok(h) => Some(h),
            Err(ReadError::NotFound) => None,
            Err(e) => {
                eprintln!(
                    "headerwheel: warning: {}: not hashed as a cache dependency: {e}",
                    path.display()
                );
                None
            }
        })
        .clone()
}

/// The current sha256 of an entry's dependency `dep` (relative to the
/// project `root`, or absolute for a system header). The entry comes from
/// the store, which is untrusted: a relative path that leaves the project is
/// never read, only a mismatch.
fn dependency_hash(
    root: &Path,
    dep: &str,
    memo: &mut HashMap<PathBuf, Option<String>>,
) -> Option<String> {
    match dependency_path(root, dep) {
        Some(path) => sha256_file(&path, memo),
        None => {
            eprintln!(
                "headerwheel: warning: a cache entry lists the dependency {dep:?}, which is not a path inside the project; the entry does not apply"
            );
            None
        }
    }
}

/// Where a module's cdef came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdefOrigin {
    /// The cdef layer of the store: nothing was generated.
    CachedCdef,
    /// The header model layer of the store, written again (a writer option
    /// changed): no libclang.
    CachedModel,
    /// libclang parsed the headers.
    Parsed,
}

/// The keys of a module's two store layers.
struct Keys {
    /// The parsed header model: the headers and everything the parse sees.
    model: CacheKey,
    /// The cdef: the model's inputs plus the writer's options.
    cdef: CacheKey,
}

fn keys(
    project: &Project,
    hk: &HeaderkitConfig,
    module: &ModuleConfig,
    headers: &[ResolvedHeader],
) -> Keys {
    let root = &project.root;
    // Every input that changes the output, paths project-relative.
    let mut parts: Vec<(String, Vec<u8>)> = vec![
        ("generator".into(), MODEL_VERSION.as_bytes().to_vec()),
        (
            "target".into(),
            format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS).into_bytes(),
        ),
    ];
    for (f, inc, defs, args) in headers {
        parts.push(("header".into(), rel_or_abs(root, f).into_bytes()));
        for d in inc {
            parts.push(("include".into(), rel_or_abs(root, d).into_bytes()));
        }
        parts.push(("defines".into(), defs.join("\0").into_bytes()));
        parts.push(("args".into(), args.join("\0").into_bytes()));
    }
    let model = CacheKey::from_parts(parts.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
    parts.push(("writer".into(), WRITER_VERSION.as_bytes().to_vec()));
    parts.push((
        "define_patterns".into(),
        hk.define_patterns.join("\0").into_bytes(),
    ));
    parts.push(("macros".into(), hk.macro_selection().as_str().into()));
    parts.push(("extra_cdef".into(), hk.extra_cdef.join("\0").into_bytes()));
    if hk.keep_deprecated {
        parts.push(("keep_deprecated".into(), b"true".to_vec()));
    }
    parts.push((
        "exclude_patterns".into(),
        hk.exclude_patterns.join("\0").into_bytes(),
    ));
    parts.push(("libraries".into(), module.libraries.join("\0").into_bytes()));
    parts.push(("symbols".into(), module.symbols.join("\0").into_bytes()));
    parts.push(("mode".into(), module.mode.key_name().into()));
    let cdef = CacheKey::from_parts(parts.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
    Keys { model, cdef }
}

/// A header file to parse, with its include directories, defines and
/// extra arguments.
type ResolvedHeader = (PathBuf, Vec<PathBuf>, Vec<String>, Vec<String>);

/// The cdef of `module`, generated from `[tool.headerkit]`, or taken from
/// the store when every input is unchanged: the cdef itself, else the
/// parsed header model written again (no libclang for either).
pub fn cdef_for_module(
    project: &Project,
    module: &ModuleConfig,
    skip_cache: bool,
    env: &HeaderEnv,
) -> Result<String, StageError> {
    cdef_for_module_from(project, module, skip_cache, env).map(|(cdef, _)| cdef)
}

/// [`cdef_for_module`], saying where the cdef came from.
pub fn cdef_for_module_from(
    project: &Project,
    module: &ModuleConfig,
    skip_cache: bool,
    env: &HeaderEnv,
) -> Result<(String, CdefOrigin), StageError> {
    let hk = project.headerkit.as_ref().ok_or_else(|| {
        StageError::Invalid(format!("module {}: no [tool.headerkit] table", module.name))
    })?;
    let t = Instant::now();
    let headers = resolve_for_module(project, hk, module, env)?;
    let root = &project.root;
    let keys = keys(project, hk, module, &headers);
    let store = Store::new(store_dir(project));
    let mut memo = HashMap::new();
    let local_clang = headers::locate::local_identity();
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    if !skip_cache {
        if let Some(hit) = lookup(&store, &keys.cdef, local_clang.as_deref(), root, &mut memo)? {
            eprintln!(
                "headerwheel: [{}] cdef from the .headerkit store ({:.1} ms, no libclang needed)",
                module.name,
                ms(t)
            );
            let cdef = String::from_utf8(hit.bytes)
                .map_err(|_| StageError::Invalid("a cached cdef is not UTF-8".into()))?;
            return Ok((cdef, CdefOrigin::CachedCdef));
        }
        if let Some(hit) = lookup(&store, &keys.model, local_clang.as_deref(), root, &mut memo)? {
            match serde_json::from_slice::<headers::decls::HeaderModel>(&hit.bytes) {
                Ok(model) => {
                    let cdef = write_cdef(project, hk, module, &model, env.verbose)?;
                    record(
                        &store,
                        &keys.cdef,
                        "cdef",
                        cdef.as_bytes(),
                        hit.entry.deps.clone(),
                        module,
                        &hit.entry.meta,
                    );
                    eprintln!(
                        "headerwheel: [{}] cdef written from the header model in the .headerkit store ({:.1} ms, no libclang needed)",
                        module.name,
                        ms(t)
                    );
                    return Ok((cdef, CdefOrigin::CachedModel));
                }
                Err(e) => eprintln!(
                    "headerwheel: warning: a cached header model could not be read ({e}); parsing the headers again"
                ),
            }
        }
    }
    // Parse: one header directly, several through an umbrella.
    let (first, inc, defines, args) = headers[0].clone();
    let mut include_dirs = inc;
    let mut defs = defines;
    let mut extra_args = args;
    let (header, code) = if headers.len() == 1 {
        (first, None)
    } else {
        let mut code = String::new();
        for (f, i, d, a) in &headers {
            code.push_str(&format!("#include \"{}\"\n", f.display()));
            for x in i {
                if !include_dirs.contains(x) {
                    include_dirs.push(x.clone());
                }
            }
            for x in d {
                if !defs.contains(x) {
                    defs.push(x.clone());
                }
            }
            for x in a {
                if !extra_args.contains(x) {
                    extra_args.push(x.clone());
                }
            }
        }
        (root.join("_headerwheel_umbrella.h"), Some(code))
    };
    let req = ParseRequest {
        header,
        code,
        include_dirs,
        defines: defs,
        args: extra_args,
        project_files: headers.iter().map(|h| h.0.clone()).collect(),
    };
    crate::report::stage(format!("parsing the headers of module {}", module.name));
    let model = headers::parse(&req).map_err(|e| StageError::Headers {
        module: module.name.clone(),
        message: e.to_string(),
    })?;
    let cdef = write_cdef(project, hk, module, &model, env.verbose)?;
    eprintln!(
        "headerwheel: [{}] cdef generated from {} header file(s) with libclang ({:.1} ms)",
        module.name,
        headers.len(),
        ms(t)
    );
    // Record both layers, with every file the preprocessor opened as a dependency.
    let mut deps = Vec::new();
    for f in model
        .files
        .iter()
        .map(PathBuf::from)
        .chain(headers.iter().map(|h| h.0.clone()))
    {
        if let Some(h) = sha256_file(&f, &mut memo) {
            deps.push(Dependency {
                path: rel_or_abs(root, &f),
                sha256: h,
            });
        }
    }
    let mut meta = BTreeMap::new();
    if let Ok(lc) = headers::clang::Libclang::get() {
        meta.insert("libclang".into(), lc.version.clone());
        meta.insert("libclang-id".into(), headers::locate::identity(&lc.path));
    }
    let model_json = serde_json::to_vec(&model)
        .map_err(|e| StageError::Invalid(format!("the header model: {e}")))?;
    record(
        &store,
        &keys.model,
        "header-model",
        &model_json,
        deps.clone(),
        module,
        &meta,
    );
    record(
        &store,
        &keys.cdef,
        "cdef",
        cdef.as_bytes(),
        deps,
        module,
        &meta,
    );
    Ok((cdef, CdefOrigin::Parsed))
}

/// An entry of `key` whose files are unchanged and, when this machine has a
/// libclang, that this libclang made (a machine without one takes an entry
/// from any).
fn lookup(
    store: &Store,
    key: &CacheKey,
    local_clang: Option<&str>,
    root: &Path,
    memo: &mut HashMap<PathBuf, Option<String>>,
) -> Result<Option<crate::cache::store::Hit>, StageError> {
    let found = store
        .lookup_where(
            key,
            |p| dependency_hash(root, p, memo),
            |entry| {
                local_clang
                    .is_none_or(|id| entry.meta.get("libclang-id").map(String::as_str) == Some(id))
            },
        )
        .map_err(|e| StageError::Store(e.to_string()))?;
    for d in &found.damage {
        eprintln!(
            "headerwheel: warning: damaged cache item ignored: {}: {}",
            d.path.display(),
            d.what
        );
    }
    Ok(found.hit)
}

/// Stores an entry; a store that cannot be written (a read-only checkout, a
/// full disk) is reported and the build goes on without caching.
fn record(
    store: &Store,
    key: &CacheKey,
    kind: &str,
    bytes: &[u8],
    deps: Vec<Dependency>,
    module: &ModuleConfig,
    meta: &BTreeMap<String, String>,
) {
    if let Err(e) = record_entry(store, key, kind, bytes, deps, module, meta) {
        eprintln!("headerwheel: [{}] warning: not cached: {e}", module.name);
    }
}

fn record_entry(
    store: &Store,
    key: &CacheKey,
    kind: &str,
    bytes: &[u8],
    deps: Vec<Dependency>,
    module: &ModuleConfig,
    meta: &BTreeMap<String, String>,
) -> Result<(), StageError> {
    let object = store
        .put(bytes)
        .map_err(|e| StageError::Store(e.to_string()))?;
    let mut meta = meta.clone();
    meta.insert("module".into(), module.name.clone());
    meta.insert(
        "generator".into(),
        format!("{MODEL_VERSION}/{WRITER_VERSION}"),
    );
    store
        .add_entry(
            key,
            &Entry {
                kind: kind.into(),
                deps,
                object,
                meta,
            },
        )
        .map_err(|e| StageError::Store(e.to_string()))?;
    Ok(())
}

/// The cdef of `model` under the project's writer options.
fn write_cdef(
    project: &Project,
    hk: &HeaderkitConfig,
    module: &ModuleConfig,
    model: &headers::decls::HeaderModel,
    verbose: bool,
) -> Result<String, StageError> {
    let root = &project.root;
    let mut opts = WriterOptions {
        extra_cdef: hk.extra_cdef.clone(),
        only: (!module.symbols.is_empty()).then(|| module.symbols.iter().cloned().collect()),
        macro_values: module.mode == crate::project::Mode::Abi,
        macros: hk.macro_selection(),
        keep_deprecated: hk.keep_deprecated,
        ..Default::default()
    };
    for p in &hk.define_patterns {
        opts.define_patterns.push(regex::Regex::new(p).map_err(|e| {
            StageError::Invalid(format!("pyproject.toml: tool.headerkit.writer.cffi.define_patterns: '{p}' is not a regular expression: {e}"))
        })?);
    }
    for p in &hk.exclude_patterns {
        opts.exclude.push(regex::Regex::new(p).map_err(|e| {
            StageError::Invalid(format!("pyproject.toml: tool.headerkit exclude pattern '{p}' is not a regular expression: {e}"))
        })?);
    }
    if !module.libraries.is_empty() {
        let lib_dirs: Vec<PathBuf> = module.library_dirs.iter().map(|d| root.join(d)).collect();
        let path = exports::library_search_path(&lib_dirs);
        let mut all = std::collections::HashSet::new();
        let mut complete = true;
        for l in &module.libraries {
            match exports::find_library(l, &path).map(|p| exports::exported_symbols(&p)) {
                Some(Ok(syms)) => all.extend(syms),
                _ => complete = false,
            }
        }
        if complete {
            opts.exported = Some(all);
        }
    }
    let written = writer::write(model, &opts);
    for w in headers::summary::summarise(&written.warnings, verbose) {
        eprintln!("headerwheel: [{}] warning: {w}", module.name);
    }
    Ok(written.cdef)
}

/// The modules of `project` whose cdef comes from its headers.
pub fn header_modules(project: &Project) -> Vec<&ModuleConfig> {
    project
        .tool
        .modules
        .iter()
        .filter(|m| matches!(m.cdef, crate::project::CdefSource::Headers(_)))
        .collect()
}

/// What a build would find in the store for `module`, and why: `hit
/// (cdef)`, `hit (header model; the cdef is written again)`, or `miss:
/// <reasons>`. Nothing is written.
pub fn status(
    project: &Project,
    module: &ModuleConfig,
    env: &HeaderEnv,
) -> Result<(bool, String), StageError> {
    let hk = project.headerkit.as_ref().ok_or_else(|| {
        StageError::Invalid(format!("module {}: no [tool.headerkit] table", module.name))
    })?;
    let headers = resolve_for_module(project, hk, module, env)?;
    let keys = keys(project, hk, module, &headers);
    let store = Store::new(store_dir(project));
    let local_clang = headers::locate::local_identity();
    let mut memo = HashMap::new();
    let root = &project.root;
    let mut reasons = Vec::new();
    for (layer, key) in [("cdef", &keys.cdef), ("header model", &keys.model)] {
        let found = store
            .lookup_where(
                key,
                |p| dependency_hash(root, p, &mut memo),
                |entry| {
                    local_clang.as_deref().is_none_or(|id| {
                        entry.meta.get("libclang-id").map(String::as_str) == Some(id)
                    })
                },
            )
            .map_err(|e| StageError::Store(e.to_string()))?;
        if found.hit.is_some() {
            let what = if layer == "cdef" {
                "hit (cdef)".to_string()
            } else {
                "hit (header model; the cdef is written again)".to_string()
            };
            return Ok((true, what));
        }
        if found.stale.is_empty() && found.damage.is_empty() {
            reasons.push(format!("no {layer} entry for these inputs"));
        }
        reasons.extend(found.stale.iter().map(|s| format!("{layer}: {s}")));
        reasons.extend(
            found
                .damage
                .iter()
                .map(|d| format!("{layer}: damaged {}: {}", d.path.display(), d.what)),
        );
    }
    reasons.dedup();
    Ok((false, format!("miss: {}", reasons.join("; "))))
}

/// Reads a headerkit 0.47 `.headerkit/` store (`ir/<slug>/metadata.json`
/// naming the header, `output/cffi/<slug>/output.*` the cdef) and records
/// each cffi output as the cdef entry of the project's module with that one
/// header. The entries depend on the header's current bytes and name no
/// libclang, so they serve only machines without one (an sdist build);
/// where libclang is present the headers are parsed again. Returns a line
/// per output: imported, or skipped and why.
pub fn import_headerkit(project: &Project, from: &Path) -> Result<Vec<String>, StageError> {
    let read_json = |p: &Path| -> Option<serde_json::Value> {
        // Another tool's store, as untrusted as ours: regular files only.
        let bytes = untrusted::read_regular(p, untrusted::TEXT_LIMIT, Links::Refuse).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let mut ir_headers: HashMap<String, String> = HashMap::new();
    for dir in sorted_subdirs(&from.join("ir")) {
        if let Some(m) = read_json(&dir.join("metadata.json"))
            && let (Some(k), Some(h)) = (m["cache_key"].as_str(), m["header_path"].as_str())
        {
            ir_headers.insert(k.to_string(), h.to_string());
        }
    }
    let Some(hk) = project.headerkit.as_ref() else {
        return Err(StageError::Invalid(
            "pyproject.toml: no [tool.headerkit] table to import for".into(),
        ));
    };
    let headers = resolve_headers(project, hk, &[])?;
    // Keyed as a build of this machine's python3 would look them up.
    let env = HeaderEnv::discover();
    let store = Store::new(store_dir(project));
    let mut memo = HashMap::new();
    let mut report = Vec::new();
    let outputs = sorted_subdirs(&from.join("output").join("cffi"));
    if outputs.is_empty() {
        report.push(format!(
            "{}: no cffi outputs (output/cffi/*) found",
            from.display()
        ));
    }
    for dir in outputs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let Some(meta) = read_json(&dir.join("metadata.json")) else {
            report.push(format!("skipped {name}: no readable metadata.json"));
            continue;
        };
        let Some(header) = meta["ir_cache_key"]
            .as_str()
            .and_then(|k| ir_headers.get(k))
        else {
            report.push(format!(
                "skipped {name}: its IR entry (the header it came from) is not in the store"
            ));
            continue;
        };
        let Some(output) = std::fs::read_dir(&dir).ok().and_then(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .find(|p| p.file_stem().is_some_and(|s| s == "output"))
        }) else {
            report.push(format!("skipped {name}: no output file"));
            continue;
        };
        let cdef = match untrusted::read_regular(&output, untrusted::TEXT_LIMIT, Links::Refuse) {
            Ok(b) => b,
            Err(e) => {
                report.push(format!("skipped {name}: {}: {e}", output.display()));
                continue;
            }
        };
        let matches = |f: &PathBuf| {
            let h = Path::new(header);
            f == h
                || f.ends_with(h)
                || (h.is_relative() && f.ends_with(h.strip_prefix("include").unwrap_or(h)))
        };
        if headers.len() != 1 || !matches(&headers[0].0) {
            report.push(format!(
                "skipped {name}: header {header} is not the one header of this project's [tool.headerkit] (headerwheel parses several headers as one umbrella)"
            ));
            continue;
        }
        let Some(hash) = sha256_file(&headers[0].0, &mut memo) else {
            report.push(format!(
                "skipped {name}: {} cannot be read",
                headers[0].0.display()
            ));
            continue;
        };
        let deps = vec![Dependency {
            path: rel_or_abs(&project.root, &headers[0].0),
            sha256: hash,
        }];
        let mut meta_out = BTreeMap::new();
        meta_out.insert(
            "imported-from".into(),
            format!(
                "headerkit {}",
                meta["headerkit_version"].as_str().unwrap_or("?")
            ),
        );
        for module in header_modules(project) {
            let keys = keys(
                project,
                hk,
                module,
                &resolve_for_module(project, hk, module, &env)?,
            );
            record_entry(
                &store,
                &keys.cdef,
                "cdef",
                &cdef,
                deps.clone(),
                module,
                &meta_out,
            )?;
            report.push(format!(
                "imported {name} ({header}) as the cdef of module {}",
                module.name
            ));
        }
    }
    Ok(report)
}

fn sorted_subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            // The type as listed: a symlinked directory is not entered.
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn the_generated_cdef_is_kept_beside_the_build_and_cited() {
        let dir = tempfile::tempdir().unwrap();
        let mut cdef = crate::cdef::CdefInput::new("int f(void);\n", "src/p/_x.cdef.txt");
        keep_generated_cdef(dir.path(), "p._x_cffi", &mut cdef).unwrap();
        let path = dir.path().join("p._x_cffi/p._x_cffi.cdef.txt");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "int f(void);\n");
        assert_eq!(cdef.origin, path.display().to_string());
    }

    #[test]
    fn headers_parse_in_the_compiles_environment_and_it_is_in_the_keys() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/t")).unwrap();
        std::fs::create_dir_all(root.join("include")).unwrap();
        std::fs::write(root.join("include/t.h"), "int t(void);\n").unwrap();
        std::fs::write(root.join("src/t/_t.csrc.c"), "#include \"t.h\"\n").unwrap();
        // A src layout holds Python (setuptools' discovery).
        std::fs::write(root.join("src/t/__init__.py"), "").unwrap();
        std::fs::write(
            root.join("pyproject.toml"),
            "[project]\nname = \"t\"\nversion = \"1\"\n\
             [[tool.headerkit.headers]]\npattern = \"include/t.h\"\ndefines = [\"OWN=1\"]\n\
             [tool.headerkit.output]\ncffi = \"src/t/_t.cdef.txt\"\n\
             [tool.headerwheel.modules.\"t._t_cffi\"]\ndefine-macros = { M = \"2\", N = \"\" }\ninclude-dirs = [\"inc2\"]\n",
        )
        .unwrap();
        let project = Project::load(root).unwrap();
        let hk = project.headerkit.as_ref().unwrap();
        let module = header_modules(&project)[0];
        let env = HeaderEnv {
            python_defines: vec![
                "_GNU_SOURCE=1".into(),
                "_FILE_OFFSET_BITS=64".into(),
                "M=1".into(),
                "N".into(),
            ],
            python_guarded: vec!["_GNU_SOURCE".into(), "N".into()],
            verbose: false,
        };
        let headers = resolve_for_module(&project, hk, module, &env).unwrap();
        let (_, inc, defs, _) = &headers[0];
        // pyconfig.h's after the command line's; a guarded one (N) not
        // where the module defines it, an unguarded one (M) overriding.
        assert_eq!(
            defs,
            &[
                "M=2",
                "N=",
                "OWN=1",
                "_GNU_SOURCE=1",
                "_FILE_OFFSET_BITS=64",
                "M=1"
            ]
        );
        assert!(inc.ends_with(&[root.join("inc2")]), "{inc:?}");
        let with = keys(&project, hk, module, &headers);
        let without = keys(
            &project,
            hk,
            module,
            &resolve_for_module(&project, hk, module, &HeaderEnv::default()).unwrap(),
        );
        assert_ne!(with.model, without.model);
        assert_ne!(with.cdef, without.cdef);
    }

    #[test]
    fn an_entry_dependency_outside_the_project_or_not_a_regular_file_is_a_mismatch() {
        let project = tempfile::tempdir().unwrap();
        let root = project.path();
        std::fs::write(root.join("ok.h"), b"int x;\n").unwrap();
        let fifo = root.join("fifo.h");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let mut memo = HashMap::new();
        assert_eq!(
            dependency_hash(root, "ok.h", &mut memo),
            Some(crate::cache::store::sha256_hex(b"int x;\n"))
        );
        // A FIFO is refused without blocking; a relative path out of the
        // project is never read.
        assert_eq!(dependency_hash(root, "fifo.h", &mut memo), None);
        assert_eq!(dependency_hash(root, "../ok.h", &mut memo), None);
        assert_eq!(dependency_hash(root, "/dev/zero", &mut memo), None);
    }
}
