//! Compiling emitted C into an extension module with the `cc` crate, using the target interpreter's flags.
//!
//! `cc` is driven explicitly: target, host, opt level and out dir are set,
//! Cargo metadata and warnings are off, the environment it sees is the one
//! the shim handed over (never the process's), and only its fallible calls
//! are used. Compiler stderr reaches our log line by line, prefixed with the
//! module name. The shared object is linked here with the interpreter's
//! `LDSHARED`, as distutils would.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use serde::Deserialize;

/// Facts about the target interpreter, gathered by the backend shim from
/// `sysconfig` (never read from the environment here).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Interpreter {
    /// `sys.implementation.name` (`cpython`, `pypy`).
    pub implementation: String,
    /// `(major, minor)`.
    pub version: (u32, u32),
    /// `EXT_SUFFIX` (`.cpython-311-x86_64-linux-gnu.so`).
    pub ext_suffix: String,
    /// `Python.h`'s directories (`include`, `platinclude`).
    pub include_dirs: Vec<PathBuf>,
    /// `CC`.
    pub cc: String,
    /// `CFLAGS`.
    pub cflags: String,
    /// `CCSHARED` (`-fPIC`).
    pub ccshared: String,
    /// `LDSHARED` (`gcc -shared ...`).
    pub ldshared: String,
    /// `platform.machine()` (`x86_64`, `aarch64`).
    pub machine: String,
    /// `sysconfig.get_platform()` (`linux-x86_64`).
    pub platform: String,
    /// The C library: `glibc` or `musl`.
    pub libc: String,
    /// Its version (`2.36`), if known.
    #[serde(default)]
    pub libc_version: String,
    /// `Py_GIL_DISABLED`.
    #[serde(default)]
    pub free_threaded: bool,
    /// A debug build (`sys.gettotalrefcount` exists).
    #[serde(default)]
    pub debug: bool,
    /// `sizeof(int)`.
    pub sizeof_int: u8,
    /// `sizeof(long)`.
    pub sizeof_long: u8,
    /// The installed `cffi` package's directory (its C headers), if found.
    #[serde(default)]
    pub cffi_dir: Option<PathBuf>,
    /// The environment the compiler runs with (`PATH`, ...) and the
    /// distutils overrides (`CC`, `CFLAGS`, `CPPFLAGS`, `LDFLAGS`, `LDSHARED`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

impl Interpreter {
    /// The interpreter running this process's tests: CPython 3.11 on x86-64
    /// glibc, as `sysconfig` describes a typical Linux build.
    pub fn example() -> Self {
        Interpreter {
            implementation: "cpython".into(),
            version: (3, 11),
            ext_suffix: ".cpython-311-x86_64-linux-gnu.so".into(),
            include_dirs: vec!["/usr/include/python3.11".into()],
            cc: "gcc -pthread".into(),
            cflags: "-Wsign-compare -DNDEBUG -g -fwrapv -O3 -Wall".into(),
            ccshared: "-fPIC".into(),
            ldshared: "gcc -pthread -shared".into(),
            machine: "x86_64".into(),
            platform: "linux-x86_64".into(),
            libc: "glibc".into(),
            libc_version: "2.36".into(),
            free_threaded: false,
            debug: false,
            sizeof_int: 4,
            sizeof_long: 8,
            cffi_dir: None,
            env: BTreeMap::new(),
        }
    }

    /// Why the limited API cannot be used on this interpreter, if it cannot.
    pub fn limited_api_blocker(&self) -> Option<&'static str> {
        if self.implementation != "cpython" {
            Some("the limited API is CPython's")
        } else if self.free_threaded {
            Some("free-threaded builds have no stable ABI before 3.15")
        } else if self.debug {
            Some("debug builds (Py_DEBUG) cannot use the limited API")
        } else {
            None
        }
    }

    /// The Rust target triple `cc` wants for this interpreter.
    pub fn target_triple(&self) -> String {
        let env = if self.libc == "musl" { "musl" } else { "gnu" };
        let arch = match self.machine.as_str() {
            "amd64" | "AMD64" => "x86_64",
            "arm64" => "aarch64",
            "i386" | "i586" | "i686" => "i686",
            "ppc64le" => "powerpc64le",
            other => other,
        };
        match arch {
            "armv7l" => format!("armv7-unknown-linux-{env}eabihf"),
            _ => format!("{arch}-unknown-linux-{env}"),
        }
    }

    fn env_var(&self, key: &str) -> Option<&str> {
        self.env.get(key).map(String::as_str).filter(|s| !s.is_empty())
    }

    /// The compiler and its leading arguments, after the `CC` override.
    pub fn compiler(&self) -> Vec<String> {
        split_words(self.env_var("CC").unwrap_or(&self.cc))
    }

    /// Compile flags as distutils' `customize_compiler` forms them:
    /// `CFLAGS` (+ env `CFLAGS`, `CPPFLAGS`), then `CCSHARED`.
    pub fn compile_flags(&self) -> Vec<String> {
        let mut v = split_words(&self.cflags);
        for key in ["CFLAGS", "CPPFLAGS"] {
            if let Some(x) = self.env_var(key) {
                v.extend(split_words(x));
            }
        }
        v.extend(split_words(&self.ccshared));
        v
    }

    /// The link command's program and leading arguments (`LDSHARED` and the
    /// env `LDFLAGS`, `CPPFLAGS`; a `CC` override replaces its compiler).
    pub fn link_command(&self) -> Vec<String> {
        let mut v = match self.env_var("LDSHARED") {
            Some(l) => split_words(l),
            None => {
                let mut l = split_words(&self.ldshared);
                if let Some(cc) = self.env_var("CC") {
                    let old = split_words(&self.cc);
                    if l.starts_with(&old) {
                        l.splice(0..old.len(), split_words(cc));
                    }
                }
                l
            }
        };
        for key in ["LDFLAGS", "CPPFLAGS"] {
            if let Some(x) = self.env_var(key) {
                v.extend(split_words(x));
            }
        }
        v
    }
}

/// Splits a shell-style command line (quotes and backslashes, no expansion).
pub fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// One extension module to compile and link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileJob {
    /// Dotted module name (for messages).
    pub module: String,
    /// C sources: the emitted module source first, then extra sources.
    pub sources: Vec<PathBuf>,
    /// Include directories (absolute).
    pub include_dirs: Vec<PathBuf>,
    /// Library directories (absolute).
    pub library_dirs: Vec<PathBuf>,
    /// Libraries (`-l`).
    pub libraries: Vec<String>,
    /// `-D` macros.
    pub define_macros: Vec<(String, Option<String>)>,
    /// Extra compiler arguments.
    pub extra_compile_args: Vec<String>,
    /// Extra linker arguments.
    pub extra_link_args: Vec<String>,
    /// `Some(minor)`: build for the limited API of 3.minor
    /// (`Py_LIMITED_API=0x03NN0000`); `None`: the full API
    /// (`_CFFI_NO_LIMITED_API`).
    pub limited_api: Option<u32>,
    /// The shared object to write.
    pub output: PathBuf,
    /// Directory for the object files.
    pub obj_dir: PathBuf,
}

/// How to compile, from `-C` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompileOptions {
    /// `-C opt-level=`: replaces the `-O` flags of `CFLAGS`.
    pub opt_level: Option<String>,
    /// `-C verbose=true`: log every command line.
    pub verbose: bool,
    /// Path prefixes rewritten in debug info and `__FILE__` (so the same
    /// tree in another place gives the same bytes).
    pub prefix_maps: Vec<(PathBuf, String)>,
}

/// Why compiling or linking failed.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// `cc` could not compile (the compiler's output was logged above).
    #[error("module {module}: compiling failed: {message}")]
    Compile {
        /// The module.
        module: String,
        /// cc's message.
        message: String,
    },
    /// The linker failed.
    #[error("module {module}: linking failed ({status}):\n{stderr}")]
    Link {
        /// The module.
        module: String,
        /// Exit status.
        status: String,
        /// The linker's stderr.
        stderr: String,
    },
    /// The linker could not run.
    #[error("module {module}: cannot run the linker `{program}`: {source}")]
    Spawn {
        /// The module.
        module: String,
        /// The program.
        program: String,
        /// The error.
        source: std::io::Error,
    },
    /// A directory could not be created.
    #[error("failed to create {}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Where log lines go (stderr in the product, a buffer in tests).
pub type Log = dyn Fn(&str) + Send + Sync;

struct ModuleLogger {
    module: String,
    verbose: bool,
    log: Arc<Log>,
}

impl cc::BuildMessageLogger for ModuleLogger {
    fn log(&self, kind: cc::BuildMessageKind, msg: cc::BuildMessage<'_>, _extra: &dyn std::any::Any) {
        let text = msg.to_string();
        match kind {
            cc::BuildMessageKind::StderrForwarding => (self.log)(&format!("[{}] {text}", self.module)),
            cc::BuildMessageKind::CompileCommand if self.verbose => {
                (self.log)(&format!("[{}] compile: {text}", self.module))
            }
            cc::BuildMessageKind::GeneralWarning => (self.log)(&format!("[{}] warning: {text}", self.module)),
            _ => {}
        }
    }
}

fn replace_opt(flags: Vec<String>, opt: &Option<String>) -> Vec<String> {
    match opt {
        None => flags,
        Some(o) => flags
            .into_iter()
            .filter(|f| !(f.starts_with("-O") && f.len() <= 6))
            .chain(std::iter::once(format!("-O{o}")))
            .collect(),
    }
}

/// The compiler arguments for `job` besides `-c`/`-o` and the file (a pure
/// function, so command lines are testable without a compiler).
pub fn compile_args(interp: &Interpreter, job: &CompileJob, opts: &CompileOptions) -> Vec<String> {
    let mut args: Vec<String> = interp.compiler().into_iter().skip(1).collect();
    args.extend(replace_opt(interp.compile_flags(), &opts.opt_level));
    for (from, to) in &opts.prefix_maps {
        args.push(format!("-ffile-prefix-map={}={to}", from.display()));
    }
    match job.limited_api {
        Some(minor) => args.push(format!("-DPy_LIMITED_API=0x03{minor:02X}0000")),
        None => args.push("-D_CFFI_NO_LIMITED_API".into()),
    }
    for (k, v) in &job.define_macros {
        args.push(match v {
            Some(v) => format!("-D{k}={v}"),
            None => format!("-D{k}"),
        });
    }
    for d in job.include_dirs.iter().chain(&interp.include_dirs) {
        args.push(format!("-I{}", d.display()));
    }
    args.extend(job.extra_compile_args.iter().cloned());
    args
}

/// The link command line for `objects` (program first).
pub fn link_args(interp: &Interpreter, job: &CompileJob, objects: &[PathBuf]) -> Vec<String> {
    let mut args = interp.link_command();
    args.extend(objects.iter().map(|o| o.display().to_string()));
    for d in &job.library_dirs {
        args.push(format!("-L{}", d.display()));
    }
    for l in &job.libraries {
        args.push(format!("-l{l}"));
    }
    args.extend(job.extra_link_args.iter().cloned());
    // Name libc explicitly so auditwheel (and portable) can read the glibc
    // requirement even when nothing else pulls it in (`--as-needed` would
    // drop it from a module that calls no libc function).
    args.push("-Wl,--no-as-needed".into());
    args.push("-lc".into());
    args.push("-o".into());
    args.push(job.output.display().to_string());
    args
}

/// Compiles and links one module; compiler output goes to `log` prefixed
/// with the module name.
pub fn compile_module(interp: &Interpreter, job: &CompileJob, opts: &CompileOptions, log: Arc<Log>) -> Result<PathBuf, CompileError> {
    std::fs::create_dir_all(&job.obj_dir).map_err(|source| CompileError::Io { path: job.obj_dir.clone(), source })?;
    if let Some(parent) = job.output.parent() {
        std::fs::create_dir_all(parent).map_err(|source| CompileError::Io { path: parent.to_path_buf(), source })?;
    }
    let compiler = interp.compiler();
    let triple = interp.target_triple();
    let mut build = cc::Build::new();
    build
        .set_envs_snapshot(interp.env.iter())
        .target(&triple)
        .host(&triple)
        .out_dir(&job.obj_dir)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .cargo_debug(false)
        .emit_rerun_if_env_changed(false)
        .inherit_rustflags(false)
        .no_default_flags(true)
        .warnings(false)
        .debug(false)
        .opt_level(0)
        .message_logger(Some(Arc::new(ModuleLogger {
            module: job.module.clone(),
            verbose: opts.verbose,
            log: log.clone(),
        })))
        .compiler(compiler.first().map_or("cc", String::as_str));
    for a in compile_args(interp, job, opts) {
        build.flag(a);
    }
    build.files(&job.sources);
    let objects = build
        .try_compile_intermediates()
        .map_err(|e| CompileError::Compile { module: job.module.clone(), message: e.to_string() })?;
    let args = link_args(interp, job, &objects);
    if opts.verbose {
        log(&format!("[{}] link: {}", job.module, args.join(" ")));
    }
    let mut cmd = Command::new(&args[0]);
    cmd.args(&args[1..]).env_clear().envs(&interp.env);
    let out = cmd.output().map_err(|source| CompileError::Spawn {
        module: job.module.clone(),
        program: args[0].clone(),
        source,
    })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(CompileError::Link {
            module: job.module.clone(),
            status: out.status.to_string(),
            stderr: stderr.trim_end().to_string(),
        });
    }
    for line in stderr.lines() {
        log(&format!("[{}] {line}", job.module));
    }
    Ok(job.output.clone())
}

/// Compiles every job, several at once (as many as the machine has cores);
/// returns the outputs in job order, or the first failure in job order
/// after all have finished (so every module's diagnostics are shown).
pub fn compile_all(interp: &Interpreter, jobs: &[CompileJob], opts: &CompileOptions, log: Arc<Log>) -> Result<Vec<PathBuf>, CompileError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<PathBuf, CompileError>>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    log(&format!("headerwheel: compiling {}", job.module));
                    let r = compile_module(interp, job, opts, log.clone());
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()).expect("every job ran"))
        .collect()
}

#[cfg(test)]
mod tests;
