//! Compiling emitted C into an extension module: the `cc` crate builds the
//! compiler command (explicit target, host, optimisation and flags, no cargo
//! metadata), we run one compiler per source file in parallel, forward the
//! compiler's messages to stderr prefixed with the module name, and link the
//! shared object ourselves.

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod target;

/// What the target interpreter says about compiling extensions (from its
/// `sysconfig`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Toolchain {
    /// `CC`, e.g. `gcc -pthread`.
    pub cc: String,
    /// `CFLAGS`.
    pub cflags: String,
    /// `CCSHARED`, e.g. `-fPIC`.
    pub ccshared: String,
    /// The Python include directories.
    pub include_dirs: Vec<PathBuf>,
    /// The target's machine (`x86_64`).
    pub machine: String,
    /// Linker flags from the environment (`LDFLAGS`), as distutils passes
    /// them: library search paths of a non-standard prefix, `-Wl,...`.
    #[serde(default)]
    pub ldflags: String,
    /// The operating system the module is for (the build machine's unless
    /// `-C target=` names another): the link's form follows it.
    #[serde(default)]
    pub os: target::Os,
}

/// One compile-and-link job.
#[derive(Debug, Clone)]
pub struct Job {
    /// The module's import name (for messages).
    pub module: String,
    /// C sources: the emitted one first, then extra sources.
    pub sources: Vec<PathBuf>,
    /// Include directories.
    pub include_dirs: Vec<PathBuf>,
    /// Macros.
    pub defines: Vec<(String, Option<String>)>,
    /// Libraries (`-l`).
    pub libraries: Vec<String>,
    /// Library directories (`-L`).
    pub library_dirs: Vec<PathBuf>,
    /// Extra compiler arguments.
    pub extra_compile_args: Vec<String>,
    /// Extra linker arguments.
    pub extra_link_args: Vec<String>,
    /// Where objects go.
    pub build_dir: PathBuf,
    /// The shared object to write.
    pub output: PathBuf,
    /// Optimisation level override (`-C opt-level=N`); `None`: the interpreter's flags.
    pub opt_level: Option<String>,
    /// Path prefixes to map to `.` in debug info (reproducibility).
    pub prefix_maps: Vec<PathBuf>,
    /// Launcher words put before the compiler (`-C compiler-launcher=ccache`).
    pub launcher: Vec<String>,
    /// Print the commands.
    pub verbose: bool,
    /// The compile cache (a store of linked modules, keyed by everything
    /// that goes into them); `None`: always compile.
    pub cache: Option<PathBuf>,
}

/// A compile or link failure.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The compiler could not be set up.
    #[error("module {module}: cannot set up the C compiler: {message}")]
    Setup {
        /// Module.
        module: String,
        /// Why.
        message: String,
    },
    /// The compiler or linker could not be started.
    #[error("module {module}: cannot run `{command}`: {source}")]
    Spawn {
        /// Module.
        module: String,
        /// The command.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// The compiler or linker failed.
    #[error("module {module}: {what} failed with {status}:\n  {command}{output}")]
    Failed {
        /// Module.
        module: String,
        /// "compiling x.c" or "linking".
        what: String,
        /// Exit status.
        status: String,
        /// The command.
        command: String,
        /// The compiler's messages.
        output: String,
    },
}

/// `value` (of the variable `what`) split into words as a POSIX shell does
/// (quotes and backslashes honoured, as make and setuptools pass `CFLAGS`).
fn shell_split(module: &str, what: &str, value: &str) -> Result<Vec<String>, CompileError> {
    shlex::split(value).ok_or_else(|| CompileError::Setup {
        module: module.to_string(),
        message: format!("{what} ({value:?}) has an unbalanced quote or a trailing backslash"),
    })
}

/// Programs that run the compiler named after them without changing its
/// output (compiler caches, distributed compilers): they are left out of the
/// compile cache's key, so a build with and without one shares entries.
const LAUNCHERS: &[&str] = &[
    "ccache",
    "sccache",
    "distcc",
    "icecc",
    "buildcache",
    "cachepot",
];

/// The compiler command, as make and setuptools run `$(CC)`: every word of
/// the launcher and of `CC`, in order, before the flags (`ccache gcc -c ...`,
/// `gcc -pthread -c ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompilerCommand {
    /// Every word.
    pub words: Vec<String>,
    /// How many leading words are launchers.
    pub launchers: usize,
}

impl CompilerCommand {
    /// `launcher` (the `-C compiler-launcher` words) then `cc`.
    pub fn new(module: &str, launcher: &[String], cc: &str) -> Result<Self, CompileError> {
        let mut words = launcher.to_vec();
        words.extend(shell_split(module, "CC", cc)?);
        if words.len() == launcher.len() {
            words.push("cc".to_string());
        }
        let is_launcher = |w: &String| {
            let base = Path::new(w)
                .file_name()
                .map_or(w.as_str(), |n| n.to_str().unwrap_or(""));
            LAUNCHERS.contains(&base)
        };
        let launchers = launcher.len()
            + words[launcher.len()..]
                .iter()
                .take_while(|w| is_launcher(w))
                .count()
                .min(words.len() - launcher.len() - 1);
        Ok(CompilerCommand { words, launchers })
    }

    /// The compiler itself (what cc probes for its family).
    pub fn compiler(&self) -> &str {
        &self.words[self.launchers]
    }

    /// A command running the compiler (through its launchers) with `args`.
    fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(&self.words[0]);
        cmd.args(&self.words[1..]).args(args);
        cmd
    }
}

fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().to_string();
    for a in cmd.get_args() {
        s.push(' ');
        let a = a.to_string_lossy();
        if a.contains(char::is_whitespace) {
            s.push_str(&format!("'{a}'"));
        } else {
            s.push_str(&a);
        }
    }
    s
}

/// Environment variables through which cc would change the compiler or its
/// flags behind the toolchain's back.
fn cc_reads_for_flags(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    k.contains("CFLAGS")
        || k.contains("CXXFLAGS")
        || k == "CC"
        || k == "CXX"
        || k.starts_with("CC_")
        || k.starts_with("CRATE_CC")
        || k.starts_with("TARGET_C")
        || k.starts_with("HOST_C")
        || k.starts_with("CARGO_")
        || matches!(
            k.as_str(),
            "TARGET" | "HOST" | "OPT_LEVEL" | "DEBUG" | "PROFILE" | "OUT_DIR" | "RUSTFLAGS"
        )
}

fn triple(machine: &str, os: target::Os) -> String {
    match os {
        target::Os::Linux => format!("{machine}-unknown-linux-gnu"),
        target::Os::Macos => format!("{machine}-apple-darwin"),
        target::Os::Windows => format!("{machine}-pc-windows-gnu"),
    }
}

/// Compiles and links `job`; returns the shared object's path.
pub fn build(job: &Job, tc: &Toolchain) -> Result<PathBuf, CompileError> {
    let cc = CompilerCommand::new(&job.module, &job.launcher, &tc.cc)?;
    let compiler = cc.compiler().to_string();
    let mut b = cc::Build::new();
    // cc would read CC, CFLAGS, TARGET_CFLAGS, CRATE_CC_NO_DEFAULTS... from
    // the process environment on its own; the shim already folded what
    // distutils honours into `tc`, so cc sees the environment without them
    // (otherwise CFLAGS arrived twice, and Cargo-only variables changed the build).
    b.set_envs_snapshot(
        std::env::vars_os().filter(|(k, _)| !cc_reads_for_flags(&k.to_string_lossy())),
    );
    b.cargo_metadata(false)
        .cargo_warnings(false)
        .cargo_output(false)
        .emit_rerun_if_env_changed(false)
        .no_default_flags(true)
        // `warnings(false)` would add `-w` and swallow every diagnostic of the
        // user's preamble and sources; keep the interpreter's `-Wall` level
        // (cc adds `-Wall`, which CFLAGS usually has already) without `-Wextra`.
        .warnings(true)
        .extra_warnings(false)
        .target(&triple(&tc.machine, tc.os))
        .host(&triple(std::env::consts::ARCH, target::Os::host()))
        .opt_level(0)
        .debug(false)
        .out_dir(&job.build_dir)
        .compiler(&compiler);
    let mut cflags = shell_split(&job.module, "CFLAGS", &tc.cflags)?;
    if let Some(o) = &job.opt_level {
        cflags.retain(|f| !f.starts_with("-O"));
        cflags.push(format!("-O{o}"));
    }
    for f in cflags
        .iter()
        .chain(shell_split(&job.module, "CCSHARED", &tc.ccshared)?.iter())
    {
        b.flag(f);
    }
    // GCC applies the last matching map, so the most specific prefix goes
    // last: a build directory inside the project (the default, and any build
    // from an unpacked sdist) then maps the same as one outside it, and the
    // wheel's bytes do not depend on where the build directory was.
    let mut maps: Vec<&PathBuf> = job.prefix_maps.iter().collect();
    maps.sort_by_key(|p| p.as_os_str().len());
    for p in maps {
        b.flag(format!("-ffile-prefix-map={}=.", p.display()));
    }
    // The interpreter's headers and include directories outside the
    // project: their paths are the build machine's (a pyenv prefix, a
    // vendored SDK), so they are named by what they are. Most specific
    // last, after the project's own maps.
    for (p, to) in outside_maps(tc, job) {
        b.flag(format!("-ffile-prefix-map={}={to}", p.display()));
    }
    for d in &tc.include_dirs {
        b.include(d);
    }
    for d in &job.include_dirs {
        b.include(d);
    }
    for (k, v) in &job.defines {
        b.define(k, v.as_deref());
    }
    for a in &job.extra_compile_args {
        b.flag(a);
    }
    let tool = b.try_get_compiler().map_err(|e| CompileError::Setup {
        module: job.module.clone(),
        message: e.to_string(),
    })?;
    std::fs::create_dir_all(&job.build_dir).map_err(|e| CompileError::Spawn {
        module: job.module.clone(),
        command: format!("mkdir {}", job.build_dir.display()),
        source: e,
    })?;
    // The compile cache: the key is the sources' bytes and every flag; the
    // entry lists the headers the compiler read (from its `-MD` output).
    let cache = job
        .cache
        .as_ref()
        .map(|dir| crate::cache::Store::new(dir.clone()));
    let key = match &cache {
        Some(_) => Some(cache_key(job, tc, &tool, &cc)?),
        None => None,
    };
    if let (Some(store), Some(key)) = (&cache, &key) {
        let mut memo = std::collections::HashMap::new();
        if let Ok(found) = store.lookup(key, |p| {
            // Bounded, never blocking: a dependency that is no longer a
            // regular file is a miss.
            memo.entry(p.to_string())
                .or_insert_with(|| {
                    crate::cache::store::hash_dependency(
                        Path::new(p),
                        crate::cache::store::DEPENDENCY_LIMIT,
                    )
                    .ok()
                })
                .clone()
        }) && let Some(hit) = found.hit
        {
            write_output(job, &hit.bytes)?;
            eprintln!(
                "headerwheel: [{}] compiled module taken from the compile cache",
                job.module
            );
            return Ok(job.output.clone());
        }
    }
    // Compile every source in parallel.
    let objects: Vec<PathBuf> = job
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let stem = s
                .file_stem()
                .map_or_else(|| "src".into(), |x| x.to_string_lossy().to_string());
            job.build_dir.join(format!("{i}-{stem}.o"))
        })
        .collect();
    let results: Vec<Result<(), CompileError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = job
            .sources
            .iter()
            .zip(&objects)
            .map(|(src, obj)| {
                let mut cmd = cc.command(tool.args());
                cmd.envs(tool.get_envs());
                cmd.arg("-c").arg(src).arg("-o").arg(obj);
                if cache.is_some() {
                    cmd.arg("-MD").arg("-MF").arg(obj.with_extension("d"));
                }
                let what = format!(
                    "compiling {}",
                    src.file_name()
                        .map_or_else(String::new, |f| f.to_string_lossy().to_string())
                );
                scope.spawn(move || run(&job.module, &what, cmd, job.verbose))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("compiler thread"))
            .collect()
    });
    for r in results {
        r?;
    }
    // Link.
    let mut link = cc.command(["-shared"]);
    link.args(shell_split(&job.module, "LDFLAGS", &tc.ldflags)?);
    link.args(&objects);
    for d in &job.library_dirs {
        link.arg(format!("-L{}", d.display()));
    }
    for l in &job.libraries {
        link.arg(format!("-l{l}"));
    }
    // Name libc explicitly so its version requirements are readable.
    match tc.os {
        target::Os::Linux => {
            link.arg("-Wl,--no-as-needed").arg("-lc");
        }
        target::Os::Macos => {
            // Python's API is found in the loading process, as setuptools
            // links extensions. The install name is the file's own (not the
            // build path), and no debug map names the object files (`-S`):
            // the bytes do not depend on where the build ran.
            let name = job
                .output
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().to_string());
            link.args(["-undefined", "dynamic_lookup"])
                .arg(format!("-Wl,-install_name,{name}"))
                .arg("-Wl,-S");
        }
        target::Os::Windows => {}
    }
    link.args(&job.extra_link_args);
    if let Some(parent) = job.output.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    link.arg("-o").arg(&job.output);
    run(&job.module, "linking", link, job.verbose)?;
    if let (Some(store), Some(key)) = (&cache, &key) {
        // A cache that cannot be written costs the next build a compile,
        // nothing more: say so and go on.
        if let Err(e) = remember(store, key, job, &objects) {
            eprintln!(
                "headerwheel: [{}] warning: the compile cache was not updated: {e}",
                job.module
            );
        }
    }
    Ok(job.output.clone())
}

/// `-ffile-prefix-map` targets for directories of the build machine the
/// compiler reads headers from: the interpreter's include directories become
/// `/python-include/N`, the job's include directories outside every mapped
/// prefix `/include/N` (N: their position, which the configuration fixes).
fn outside_maps(tc: &Toolchain, job: &Job) -> Vec<(PathBuf, String)> {
    let mapped = |d: &Path| job.prefix_maps.iter().any(|p| d.starts_with(p));
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for (i, d) in tc.include_dirs.iter().enumerate() {
        out.push((d.clone(), format!("/python-include/{i}")));
    }
    for (i, d) in job.include_dirs.iter().enumerate() {
        if !mapped(d) && !out.iter().any(|(p, _)| p == d) {
            out.push((d.clone(), format!("/include/{i}")));
        }
    }
    out
}

/// Bump when what goes into a cached module changes.
const COMPILE_CACHE_VERSION: &str = "headerwheel-compile-2";

/// The compile cache key: the compiler (its real path, size and mtime),
/// every compile and link argument that can change the bytes (not the
/// build directory's paths, which `-ffile-prefix-map` keeps out of the
/// output), and the sources' bytes.
fn cache_key(
    job: &Job,
    tc: &Toolchain,
    tool: &cc::Tool,
    cc: &CompilerCommand,
) -> Result<crate::cache::CacheKey, CompileError> {
    let mut parts: Vec<(String, Vec<u8>)> =
        vec![("version".into(), COMPILE_CACHE_VERSION.as_bytes().to_vec())];
    let compiler = cc.compiler();
    let resolved = which(compiler).unwrap_or_else(|| PathBuf::from(compiler));
    let real = std::fs::canonicalize(&resolved).unwrap_or(resolved);
    let meta = std::fs::metadata(&real).ok();
    parts.push((
        "compiler".into(),
        format!(
            "{}:{}:{}",
            real.display(),
            meta.as_ref().map_or(0, |m| m.len()),
            // Seconds and nanoseconds since the epoch (not `Debug` output,
            // which is not promised to stay the same).
            meta.and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or_else(String::new, |d| format!(
                    "{}.{:09}",
                    d.as_secs(),
                    d.subsec_nanos()
                ))
        )
        .into_bytes(),
    ));
    // The compiler's own words (`-pthread`), not its launchers'.
    for w in &cc.words[cc.launchers + 1..] {
        parts.push(("ccword".into(), w.as_bytes().to_vec()));
    }
    for a in tool.args() {
        let a = a.to_string_lossy();
        if !a.starts_with("-ffile-prefix-map=") {
            parts.push(("cflag".into(), a.as_bytes().to_vec()));
        }
    }
    for src in &job.sources {
        let bytes = crate::untrusted::read_regular(
            src,
            crate::untrusted::ARCHIVE_FILE_LIMIT,
            crate::untrusted::Links::Follow,
        )
        .map_err(|e| CompileError::Setup {
            module: job.module.clone(),
            message: format!("cannot read {}: {e}", src.display()),
        })?;
        parts.push(("source".into(), bytes));
    }
    parts.push(("ldflags".into(), tc.ldflags.as_bytes().to_vec()));
    parts.push(("os".into(), format!("{:?}", tc.os).into_bytes()));
    for d in &job.library_dirs {
        parts.push(("libdir".into(), d.to_string_lossy().as_bytes().to_vec()));
    }
    for l in &job.libraries {
        parts.push(("lib".into(), l.as_bytes().to_vec()));
    }
    for a in &job.extra_link_args {
        parts.push(("ldarg".into(), a.as_bytes().to_vec()));
    }
    parts.push((
        "output".into(),
        job.output
            .file_name()
            .map_or_else(Vec::new, |n| n.to_string_lossy().as_bytes().to_vec()),
    ));
    Ok(crate::cache::CacheKey::from_parts(
        parts.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
    ))
}

/// The program `name` found on PATH as a shell finds it (or as given, when
/// it is a path): the one lookup of programs (compilers, patchelf).
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Records the linked module under `key`, with the headers the compiler
/// read (outside the build directory) as the entry's dependencies.
fn remember(
    store: &crate::cache::Store,
    key: &crate::cache::CacheKey,
    job: &Job,
    objects: &[PathBuf],
) -> Result<(), String> {
    let mut deps = std::collections::BTreeMap::new();
    for obj in objects {
        let d = std::fs::read_to_string(obj.with_extension("d"))
            .map_err(|e| format!("{}: {e}", obj.display()))?;
        for path in depfile_paths(&d) {
            let p = PathBuf::from(&path);
            let abs = if p.is_absolute() {
                p
            } else {
                std::env::current_dir().map_err(|e| e.to_string())?.join(p)
            };
            if abs.starts_with(&job.build_dir) || job.sources.contains(&abs) {
                continue;
            }
            let hash =
                crate::cache::store::hash_dependency(&abs, crate::cache::store::DEPENDENCY_LIMIT)
                    .map_err(|e| format!("{}: {e}", abs.display()))?;
            deps.insert(abs.to_string_lossy().to_string(), hash);
        }
    }
    let data = std::fs::read(&job.output).map_err(|e| format!("{}: {e}", job.output.display()))?;
    let object = store.put(&data).map_err(|e| e.to_string())?;
    let mut meta = std::collections::BTreeMap::new();
    meta.insert("module".into(), job.module.clone());
    store
        .add_entry(
            key,
            &crate::cache::Entry {
                kind: "extension".into(),
                deps: deps
                    .into_iter()
                    .map(|(path, sha256)| crate::cache::Dependency { path, sha256 })
                    .collect(),
                object,
                meta,
            },
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The prerequisites a compiler's `-MD` file lists (`obj.o: a.c b.h \`),
/// with `\ ` unescaped to a space.
fn depfile_paths(text: &str) -> Vec<String> {
    let joined = text.replace("\\\n", " ");
    let Some((_, rest)) = joined.split_once(": ") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                cur.push(' ');
                chars.next();
            }
            ' ' | '\n' | '\t' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Writes a cached module to the job's output (temp file + rename).
fn write_output(job: &Job, bytes: &[u8]) -> Result<(), CompileError> {
    let err = |e: std::io::Error| CompileError::Spawn {
        module: job.module.clone(),
        command: format!("write {}", job.output.display()),
        source: e,
    };
    let dir = job.output.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(err)?;
    tmp.persist(&job.output).map_err(|e| err(e.error))?;
    Ok(())
}

/// The per-user compile cache directory: `$HEADERWHEEL_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/headerwheel`, else `~/.cache/headerwheel` (outside any
/// build environment, so pip's isolated builds share it).
pub fn user_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("HEADERWHEEL_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("headerwheel"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".cache").join("headerwheel"))
}

fn run(module: &str, what: &str, mut cmd: Command, verbose: bool) -> Result<(), CompileError> {
    let shown = show(&cmd);
    if verbose {
        eprintln!("headerwheel: [{module}] {shown}");
    }
    let out = cmd.output().map_err(|e| CompileError::Spawn {
        module: module.to_string(),
        command: shown.clone(),
        source: e,
    })?;
    let mut messages = String::new();
    for line in String::from_utf8_lossy(&out.stderr)
        .lines()
        .chain(String::from_utf8_lossy(&out.stdout).lines())
    {
        messages.push_str(&format!("\n  [{module}] {line}"));
    }
    if !out.status.success() {
        return Err(CompileError::Failed {
            module: module.to_string(),
            what: what.to_string(),
            status: out.status.to_string(),
            command: shown,
            output: messages,
        });
    }
    if !messages.is_empty() {
        eprintln!("headerwheel: [{module}] {what}:{messages}");
    }
    Ok(())
}

/// The default build directory of a project: `build/headerwheel` under it.
pub fn default_build_dir(root: &Path) -> PathBuf {
    root.join("build").join("headerwheel")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(launcher: &[&str], cc: &str) -> Result<CompilerCommand, String> {
        let l: Vec<String> = launcher.iter().map(|s| s.to_string()).collect();
        CompilerCommand::new("m", &l, cc).map_err(|e| e.to_string())
    }

    #[test]
    fn cc_is_split_as_a_shell_and_make_do() {
        let c = words(&[], "ccache gcc -pthread").unwrap();
        assert_eq!(
            (c.words.join(" "), c.launchers, c.compiler()),
            ("ccache gcc -pthread".into(), 1, "gcc")
        );
        let c = words(&[], "/usr/bin/sccache cc").unwrap();
        assert_eq!((c.launchers, c.compiler()), (1, "cc"));
        let c = words(&["sccache"], "'/opt/my cc/gcc' -m64").unwrap();
        assert_eq!(c.words, ["sccache", "/opt/my cc/gcc", "-m64"]);
        assert_eq!((c.launchers, c.compiler()), (1, "/opt/my cc/gcc"));
        // A wrapper we do not know is the command; its words follow it.
        let c = words(&[], "mywrap --fast gcc").unwrap();
        assert_eq!((c.launchers, c.compiler()), (0, "mywrap"));
        let c = words(&[], "ccache").unwrap();
        assert_eq!((c.launchers, c.compiler()), (0, "ccache"));
        assert_eq!(words(&[], "").unwrap().words, ["cc"]);
        assert_eq!(
            words(&[], "gcc '-DX=1").unwrap_err(),
            "module m: cannot set up the C compiler: CC (\"gcc '-DX=1\") has an unbalanced quote or a trailing backslash"
        );
    }

    /// A compiler that records its argv (one line per call) and makes the
    /// file `-o` names; `cc`'s probe (`-E`) gets an empty answer.
    #[cfg(unix)]
    fn fake_compiler(dir: &Path, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        let log = dir.join(format!("{name}.log"));
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\necho \"$0 $*\" >> '{}'\nout=\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\n[ -n \"$out\" ] && : > \"$out\"\nexit 0\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[cfg(unix)]
    #[test]
    fn launchers_and_cc_words_come_before_every_flag_and_leave_the_cache_key_alone() {
        let d = tempfile::tempdir().unwrap();
        let launcher = fake_compiler(d.path(), "ccache");
        let gcc = fake_compiler(d.path(), "gcc");
        let src = d.path().join("m.c");
        std::fs::write(&src, "int x;\n").unwrap();
        let job = |launcher: Vec<String>, out: &str| Job {
            module: "m".into(),
            sources: vec![src.clone()],
            include_dirs: vec![d.path().join("inc")],
            defines: vec![],
            libraries: vec![],
            library_dirs: vec![],
            extra_compile_args: vec![],
            extra_link_args: vec![],
            build_dir: d.path().join("obj"),
            output: d.path().join(out),
            opt_level: None,
            prefix_maps: vec![],
            launcher,
            verbose: false,
            cache: Some(d.path().join("cache")),
        };
        let tc = Toolchain {
            cc: format!("{} -pthread", gcc.display()),
            cflags: "-O2 '-DGREETING=\"a b\"'".into(),
            ccshared: "-fPIC".into(),
            include_dirs: vec![PathBuf::from("/opt/py/include/python3.11")],
            machine: "x86_64".into(),
            ldflags: String::new(),
            os: target::Os::Linux,
        };
        let with = job(vec![launcher.display().to_string()], "a.so");
        build(&with, &tc).unwrap();
        let log = std::fs::read_to_string(d.path().join("ccache.log")).unwrap();
        let compile = log.lines().find(|l| l.contains(" -c ")).unwrap();
        let expected_start = format!("{} {} -pthread ", launcher.display(), gcc.display());
        assert!(compile.starts_with(&expected_start), "{compile}");
        assert!(compile.contains(" -DGREETING=\"a b\" "), "{compile}");
        assert!(
            compile.contains(" -ffile-prefix-map=/opt/py/include/python3.11=/python-include/0 "),
            "{compile}"
        );
        let link = log.lines().find(|l| l.contains(" -shared")).unwrap();
        assert!(
            link.starts_with(&format!("{expected_start}-shared ")),
            "{link}"
        );
        // The same module without the launcher: the key is the same; other
        // words of the compiler's own change it.
        let key = |j: &Job, tc: &Toolchain| {
            let cc = CompilerCommand::new("m", &j.launcher, &tc.cc).unwrap();
            let tool = cc::Build::new()
                .cargo_metadata(false)
                .no_default_flags(true)
                .target("x86_64-unknown-linux-gnu")
                .host("x86_64-unknown-linux-gnu")
                .opt_level(0)
                .compiler(cc.compiler())
                .get_compiler();
            cache_key(j, tc, &tool, &cc).unwrap()
        };
        assert_eq!(
            key(&with, &tc).as_str(),
            key(&job(vec![], "a.so"), &tc).as_str()
        );
        let other = Toolchain {
            cc: format!("{} -pthread -m32", gcc.display()),
            ..tc.clone()
        };
        assert_ne!(
            key(&with, &other).as_str(),
            key(&with, &tc).as_str(),
            "the compiler's own words are in the key"
        );
    }

    #[test]
    fn depfiles_are_read_with_continuations_and_escaped_spaces() {
        let d = "obj/0-m.o: /b/m.c /usr/include/stdio.h \\\n /usr/include/a\\ b.h\n";
        assert_eq!(
            depfile_paths(d),
            vec!["/b/m.c", "/usr/include/stdio.h", "/usr/include/a b.h"]
        );
    }

    #[test]
    fn cc_sees_no_flag_variables_of_its_own() {
        for k in [
            "CFLAGS",
            "TARGET_CFLAGS",
            "CFLAGS_x86_64_unknown_linux_gnu",
            "CC",
            "CRATE_CC_NO_DEFAULTS",
            "CARGO_CFG_TARGET_OS",
            "OPT_LEVEL",
        ] {
            assert!(cc_reads_for_flags(k), "{k}");
        }
        for k in [
            "PATH",
            "HOME",
            "TMPDIR",
            "CCACHE_DIR",
            "LANG",
            "LIBRARY_PATH",
            "CPATH",
        ] {
            assert!(!cc_reads_for_flags(k), "{k}");
        }
    }
}
