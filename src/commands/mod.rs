//! The `headerwheel` command line, parsed by clap's derive: `gen-src`
//! (cdef → C or Python source, as `cffi-gen-src` does), `generate` and
//! `inspect` (headers → cdef or JSON), `stubs`, `cache`, `init`, `migrate`,
//! and the hidden `hook` the Python shim runs.
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Parser, Subcommand};

mod cache;
pub mod case;
mod gen_src;
mod generate;
pub mod init;
mod locate;
pub mod migrate;
mod stubs;

/// A Python build backend that turns C headers into CFFI extension modules.
#[derive(Debug, Parser)]
#[command(name = "headerwheel", version, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// cdef → C source (API mode) or Python source (ABI mode), as cffi-gen-src
    GenSrc(GenSrcArgs),
    /// header → CFFI cdef (stdout or PATH)
    Generate(GenerateArgs),
    /// every function's signature, struct layout and macro value, as JSON
    /// (the signature database)
    Inspect(GenerateArgs),
    /// the module's type stub (.pyi), to stdout or OUT
    Stubs(StubsArgs),
    /// the .headerkit store
    #[command(subcommand)]
    Cache(CacheCommand),
    /// a new binding project for a header (zlib.h or a file), building with
    /// `pip wheel .` at once
    Init(InitArgs),
    /// a setuptools/hatchling + CFFI project becomes a headerwheel one
    ///
    /// The builders are recorded with the project's Python, cdef/csrc files
    /// written, pyproject.toml edited (comments kept).
    Migrate(MigrateArgs),
    /// The PEP 517 hooks, for the Python shim (not for people: hidden).
    #[command(hide = true)]
    Hook,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct GenSrcArgs {
    #[command(subcommand)]
    sources: Option<GenSrcSources>,
    /// replay a CFFI corpus case (with --out)
    #[arg(long, value_name = "CASE.json", requires = "out")]
    case_json: Option<PathBuf>,
    /// where the replayed case's source goes
    #[arg(long, value_name = "OUT", requires = "case_json")]
    out: Option<PathBuf>,
    /// ABI mode: write the Python source
    #[arg(long, global = true)]
    abi: bool,
    /// where CFFI's headers are (default: $HEADERWHEEL_CFFI_DIR, else the
    /// cffi package of `python3`)
    #[arg(long, global = true, value_name = "DIR")]
    cffi_dir: Option<PathBuf>,
    /// the target cannot use the limited API (free-threaded CPython < 3.15)
    #[arg(long, global = true)]
    no_limited_api: bool,
    /// emit this many times (after one untimed run) and report the median
    /// time (benchmarks)
    #[arg(long, global = true, value_name = "COUNT", default_value_t = 0)]
    bench: usize,
}

#[derive(Debug, Subcommand)]
enum GenSrcSources {
    /// MODULE CDEF CSRC OUT (API mode) or --abi MODULE CDEF OUT (ABI mode)
    ReadSources {
        /// the module's full name
        module: String,
        /// the cdef file
        cdef: String,
        /// the preamble (API mode only), then the output file
        #[arg(value_name = "[CSRC] OUT", num_args = 1..=2, required = true)]
        files: Vec<String>,
    },
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// the header: a path, or a name found on the include path
    header: String,
    /// an include directory
    #[arg(short = 'I', value_name = "DIR")]
    include_dirs: Vec<String>,
    /// a macro, NAME or NAME=VALUE
    #[arg(short = 'D', value_name = "NAME[=VAL]")]
    defines: Vec<String>,
    /// write the macros whose names match RE (default: the library's own)
    #[arg(long = "define-pattern", value_name = "RE")]
    define_patterns: Vec<String>,
    /// a line added to the cdef
    #[arg(long = "extra-cdef", value_name = "LINE")]
    extra_cdef: Vec<String>,
    /// keep only what these libraries export
    #[arg(short = 'l', value_name = "LIB")]
    libraries: Vec<String>,
    /// C code parsed after the header
    #[arg(long, value_name = "TEXT")]
    code: Option<String>,
    /// the signature database as JSON (what `inspect` writes)
    #[arg(long)]
    json: bool,
    /// the writer (only cffi)
    #[arg(short = 'w', value_name = "WRITER")]
    writer: Option<String>,
    /// where the output goes (default: stdout)
    #[arg(short = 'o', value_name = "[cffi:]PATH")]
    out: Option<String>,
}

#[derive(Debug, Args)]
struct StubsArgs {
    /// the module's full name
    module: String,
    /// the cdef file
    cdef: String,
    /// an ABI-mode module (it exports only `ffi`)
    #[arg(long)]
    abi: bool,
    /// where the stub goes (default: stdout)
    #[arg(short = 'o', value_name = "OUT")]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum CacheCommand {
    /// check every object and entry (default store ./.headerkit)
    Verify { store: Option<PathBuf> },
    /// delete what nothing references
    Gc { store: Option<PathBuf> },
    /// list the store's entries, or (--project) hit or miss for each header
    /// module of the project in DIR, and why
    Status {
        /// the argument is a project directory, not a store
        #[arg(long)]
        project: bool,
        /// the store (default ./.headerkit), or with --project the project
        /// (default .)
        #[arg(value_name = "STORE|DIR")]
        path: Option<PathBuf>,
    },
    /// add another store's entries (e.g. from CI)
    Merge {
        /// the store to merge from
        from: PathBuf,
        /// the store to merge into (default ./.headerkit)
        into: Option<PathBuf>,
    },
    /// parse the project's headers into its store (run on each platform of
    /// a CI matrix, then merge)
    Populate { dir: Option<PathBuf> },
    /// take a headerkit 0.47 store's cffi outputs
    ImportHeaderkit {
        /// the headerkit store (a .headerkit directory)
        store: PathBuf,
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct InitArgs {
    /// a system header (zlib.h) or a path to a header file (copied to include/)
    header: String,
    /// the project's directory (default: the project's name)
    dir: Option<PathBuf>,
    /// the project's name
    #[arg(long)]
    name: Option<String>,
    /// the library the module links
    #[arg(long, short = 'l', value_name = "LIB")]
    library: Option<String>,
    /// a pkg-config package of the module
    #[arg(long = "pkg-config", value_name = "PKG")]
    pkg_config: Vec<String>,
    /// an include directory ([tool.headerkit] include_dirs, made absolute)
    #[arg(short = 'I', value_name = "DIR")]
    include_dirs: Vec<String>,
    /// a macro of the module's define-macros, X or X=Y
    #[arg(short = 'D', value_name = "X[=Y]")]
    defines: Vec<String>,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    /// the project (default .)
    dir: Option<PathBuf>,
    /// print the diffs, write nothing
    #[arg(long)]
    dry_run: bool,
    /// C by headerwheel == C by cffi, per module (exit 1 if not)
    #[arg(long)]
    check: bool,
    /// the project's interpreter (default: the one running headerwheel, else python3)
    #[arg(long, value_name = "PY")]
    python: Option<String>,
}

/// Runs the command line with `args` (without the program name); returns
/// the exit code. A panic is reported as the bug it is, naming the stage,
/// with exit code 70.
pub fn main(args: Vec<OsString>) -> i32 {
    crate::report::catch_panic(|| dispatch(args)).unwrap_or_else(|e| {
        eprintln!("headerwheel: error: {e}");
        70
    })
}

fn dispatch(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = match args.into_iter().map(|a| a.into_string()).collect() {
        Ok(a) => a,
        Err(bad) => {
            eprintln!("headerwheel: argument is not valid UTF-8: {bad:?}");
            return 2;
        }
    };
    let cli = match Cli::try_parse_from(std::iter::once("headerwheel".to_string()).chain(args)) {
        Ok(cli) => cli,
        // --help and --version (exit 0, stdout), or a usage error (exit 2).
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let result = match cli.command {
        Command::GenSrc(a) => match gen_src::gen_src_usage(&a) {
            Some(code) => return code,
            None => gen_src::gen_src(a).map(|()| 0),
        },
        Command::Generate(a) => {
            let inspect = a.json;
            generate::generate(a, inspect).map(|()| 0)
        }
        Command::Inspect(a) => generate::generate(a, true).map(|()| 0),
        Command::Stubs(a) => stubs::stubs(a).map(|()| 0),
        Command::Cache(c) => cache::cache(c),
        Command::Init(a) => init::run(a).map(|()| 0),
        Command::Migrate(a) => migrate::command::run(a),
        Command::Hook => return crate::hooks::protocol::run(),
    };
    result.unwrap_or_else(|e| {
        eprintln!("headerwheel: error: {e}");
        1
    })
}

/// A usage error of the subcommand at `path` (exit 2), in clap's words.
fn usage_error(path: &[&str], kind: clap::error::ErrorKind, message: &str) -> i32 {
    let mut cmd = Cli::command();
    cmd.build();
    let mut sub = &mut cmd;
    for name in path {
        sub = sub
            .find_subcommand_mut(name)
            .expect("a subcommand of the CLI");
    }
    let e = sub.error(kind, message);
    let _ = e.print();
    e.exit_code()
}

/// Writes `text` to `path` through a temporary file in the same directory.
fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

/// The project in `dir` (default: the current directory).
fn load_project(dir: Option<&Path>) -> Result<crate::project::Project, String> {
    let dir = dir.unwrap_or(Path::new("."));
    let root = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::project::Project::load(&root).map_err(|e| e.to_string())
}
