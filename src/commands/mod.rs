//! The `headerwheel` command line, parsed by clap's derive: `gen-src`
//! (cdef → C or Python source, as `cffi-gen-src` does), `generate` and
//! `inspect` (headers → cdef or JSON), `stubs`, `cache`, `init`, `migrate`,
//! and the hidden `hook` the Python shim runs.
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Parser, Subcommand};

pub mod case;
pub mod init;
pub mod migrate;

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
        Command::GenSrc(a) => match gen_src_usage(&a) {
            Some(code) => return code,
            None => gen_src(a).map(|()| 0),
        },
        Command::Generate(a) => {
            let inspect = a.json;
            generate(a, inspect).map(|()| 0)
        }
        Command::Inspect(a) => generate(a, true).map(|()| 0),
        Command::Stubs(a) => stubs(a).map(|()| 0),
        Command::Cache(c) => cache(c),
        Command::Init(a) => init(a).map(|()| 0),
        Command::Migrate(a) => migrate(a),
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

/// The usage errors clap cannot see in `gen-src`'s arguments: neither
/// `read-sources` nor `--case-json`, or the wrong files for the mode.
fn gen_src_usage(a: &GenSrcArgs) -> Option<i32> {
    use clap::error::ErrorKind;
    match &a.sources {
        None if a.case_json.is_none() => Some(usage_error(
            &["gen-src"],
            ErrorKind::MissingSubcommand,
            "give `read-sources MODULE CDEF [CSRC] OUT` or `--case-json CASE.json --out OUT`",
        )),
        Some(GenSrcSources::ReadSources { files, .. }) if files.len() != 2 - usize::from(a.abi) => {
            Some(usage_error(
                &["gen-src", "read-sources"],
                ErrorKind::WrongNumberOfValues,
                if a.abi {
                    "ABI mode reads MODULE CDEF OUT (no CSRC)"
                } else {
                    "API mode reads MODULE CDEF CSRC OUT"
                },
            ))
        }
        _ => None,
    }
}

fn gen_src(a: GenSrcArgs) -> Result<(), String> {
    use crate::emit::{self, EmitOptions};
    // ABI-mode output is the same for every supported cffi: its version is
    // only read when a cffi is named or needed for C.
    let mut options = EmitOptions {
        no_limited_api: a.no_limited_api,
        ..EmitOptions::default()
    };
    if let Some(dir) = &a.cffi_dir {
        options.cffi_version = emit::CffiVersion::from_dir(dir).map_err(|e| e.0)?;
    }
    if let Some(case_path) = &a.case_json {
        let out = a.out.as_ref().ok_or("--case-json needs --out")?;
        let text = std::fs::read_to_string(case_path)
            .map_err(|e| format!("{}: {e}", case_path.display()))?;
        let case =
            case::Case::from_json(&text).map_err(|e| format!("{}: {e}", case_path.display()))?;
        let mut r = case.replay().map_err(|e| e.to_string())?;
        let ffi = r
            .ffis
            .remove(&case.target_ffi)
            .expect("the target FFI exists");
        let result = if case.target == "c" {
            let (runtime, cffi_version) = runtime(a.cffi_dir.as_deref())?;
            options.cffi_version = cffi_version;
            emit::emit_c(
                &mut r.types,
                &ffi,
                &case.module_name,
                case.preamble.as_deref().unwrap_or(""),
                &runtime,
                &options,
            )
        } else {
            emit::emit_py(&mut r.types, &ffi, &case.module_name, &options)
        };
        let text = result.map_err(|e| e.message)?;
        return write_atomic(out, &text);
    }
    let Some(GenSrcSources::ReadSources {
        module,
        cdef,
        files,
    }) = &a.sources
    else {
        unreachable!("gen_src_usage checked read-sources or --case-json");
    };
    let read = |p: &str| {
        let bytes = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?;
        crate::text::utf8(bytes, Path::new(p)).map_err(|e| e.to_string())
    };
    if a.abi {
        let [out] = files.as_slice() else {
            unreachable!("gen_src_usage checked the files");
        };
        let input = crate::cdef::CdefInput::new(read(cdef)?, cdef.as_str());
        let text = emit::py_source(module, &[input], &options).map_err(|e| e.message)?;
        write_atomic(Path::new(out), &text)
    } else {
        let [csrc, out] = files.as_slice() else {
            unreachable!("gen_src_usage checked the files");
        };
        let input = crate::cdef::CdefInput::new(read(cdef)?, cdef.as_str());
        let preamble = read(csrc)?;
        let (runtime, cffi_version) = runtime(a.cffi_dir.as_deref())?;
        options.cffi_version = cffi_version;
        if a.bench > 0 {
            // One untimed run first (page faults, the allocator's first
            // growth), as the peer's loop in bench/run does.
            let mut times = Vec::new();
            for i in 0..=a.bench {
                let t = std::time::Instant::now();
                let text = emit::c_source(
                    module,
                    std::slice::from_ref(&input),
                    &preamble,
                    &runtime,
                    &options,
                )
                .map_err(|e| e.message)?;
                if i > 0 {
                    times.push(t.elapsed().as_secs_f64());
                }
                std::hint::black_box(text);
            }
            times.sort_by(f64::total_cmp);
            eprintln!(
                "bench: parse+emit median {:.6} s over {} runs",
                times[times.len() / 2],
                times.len()
            );
        }
        let text = emit::c_source(module, &[input], &preamble, &runtime, &options)
            .map_err(|e| e.message)?;
        write_atomic(Path::new(out), &text)
    }
}

/// `headerwheel stubs MODULE CDEF [--abi] [-o OUT]`: the `.pyi` a build puts
/// beside the module.
fn stubs(a: StubsArgs) -> Result<(), String> {
    use crate::emit::stubs::{StubMode, stub_source};
    let mode = if a.abi { StubMode::Abi } else { StubMode::Api };
    let (module, cdef) = (&a.module, &a.cdef);
    let bytes = std::fs::read(cdef).map_err(|e| format!("{cdef}: {e}"))?;
    let text = crate::text::utf8(bytes, Path::new(cdef)).map_err(|e| e.to_string())?;
    let input = crate::cdef::CdefInput::new(text, cdef.as_str());
    let (types, ffi) = crate::emit::parse_all(&[input]).map_err(|e| e.message)?;
    let stub = stub_source(module, &types, &ffi, mode);
    match &a.out {
        Some(o) => write_atomic(o, &stub),
        None => {
            print!("{stub}");
            Ok(())
        }
    }
}

/// CFFI's headers and version, from `dir`, `$HEADERWHEEL_CFFI_DIR`, or the
/// `cffi` package of `python3`.
fn runtime(
    dir: Option<&Path>,
) -> Result<(crate::emit::CffiRuntime, crate::emit::CffiVersion), String> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => crate::emit::locate_cffi_dir().map_err(|e| e.to_string())?,
    };
    let version = crate::emit::CffiVersion::from_dir(&dir).map_err(|e| e.0)?;
    let runtime = crate::emit::CffiRuntime::from_dir(&dir).map_err(|e| e.to_string())?;
    Ok((runtime, version))
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

/// `generate` (the cdef) or, `inspect`, the signature database.
fn generate(a: GenerateArgs, inspect: bool) -> Result<(), String> {
    use crate::cdef::writer::{self, WriterOptions};
    use crate::headers::{self, ParseRequest, exports};
    let mut req = ParseRequest {
        include_dirs: a.include_dirs.iter().map(PathBuf::from).collect(),
        defines: a.defines,
        code: a.code,
        ..ParseRequest::default()
    };
    let mut opts = WriterOptions {
        extra_cdef: a.extra_cdef,
        ..WriterOptions::default()
    };
    for p in &a.define_patterns {
        opts.define_patterns
            .push(regex::Regex::new(p).map_err(|e| format!("--define-pattern {p:?}: {e}"))?);
    }
    if let Some(w) = a.writer.as_deref().filter(|w| *w != "cffi") {
        return Err(format!("writer '{w}' is not supported (only cffi)"));
    }
    let out: Option<PathBuf> = a
        .out
        .as_deref()
        .map(|o| o.strip_prefix("cffi:").unwrap_or(o).into());
    let libs = a.libraries;
    let header = a.header;
    req.header = header.clone().into();
    if !libs.is_empty() {
        let path = exports::library_search_path(&[]);
        let mut all = std::collections::HashSet::new();
        for l in &libs {
            let p = exports::find_library(l, &path)
                .ok_or_else(|| format!("library '{l}' not found on the linker path"))?;
            all.extend(exports::exported_symbols(&p)?);
        }
        opts.exported = Some(all);
    }
    // Parsed as a CFFI module compiles it: with Python.h's feature macros.
    req.defines = crate::headers::stage::HeaderEnv::discover().after(&req.defines);
    let t = std::time::Instant::now();
    let model = headers::parse(&req).map_err(|e| e.to_string())?;
    if inspect {
        let json = inspect_json(&model);
        let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n";
        return match out {
            Some(p) => write_atomic(&p, &text),
            None => {
                print!("{text}");
                Ok(())
            }
        };
    }
    if opts.define_patterns.is_empty() {
        // As `[tool.headerkit]` without define_patterns: the library's macros.
        opts.macros = writer::MacroSelection::AllLibrary;
    }
    let written = writer::write(&model, &opts);
    for w in &written.warnings {
        eprintln!("headerwheel: warning: {w}");
    }
    eprintln!(
        "headerwheel: {header}: {} declarations in {:.1} ms",
        model.items.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    match out {
        Some(p) => {
            write_atomic(&p, &written.cdef)?;
            eprintln!("headerwheel: wrote {}", p.display());
            Ok(())
        }
        None => {
            print!("{}", written.cdef);
            Ok(())
        }
    }
}

/// The signature database of a header model.
fn inspect_json(model: &crate::headers::decls::HeaderModel) -> serde_json::Value {
    use crate::cdef::writer::c_decl;
    use crate::headers::decls::CType;
    use serde_json::json;
    let functions: Vec<_> = model
        .functions
        .iter()
        .map(|f| {
            let (ret, params, variadic) = match &f.ty {
                CType::Function {
                    ret,
                    params,
                    variadic,
                } => (ret.as_ref().clone(), params.clone(), *variadic),
                other => (other.clone(), vec![], false),
            };
            json!({
                "name": f.name,
                "signature": c_decl(model, &f.ty, &f.name),
                "returns": c_decl(model, &ret, ""),
                "params": params.iter().enumerate().map(|(i, p)| json!({
                    "name": f.param_names.get(i).cloned().flatten(),
                    "type": c_decl(model, p, ""),
                })).collect::<Vec<_>>(),
                "variadic": variadic,
                "inline": f.inline,
                "file": f.loc.file,
                "line": f.loc.line,
            })
        })
        .collect();
    let records: Vec<_> = model
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.loc.project)
        .map(|(i, r)| {
            json!({
                "name": r.tag.as_ref().map(|t| format!("{} {t}", if r.is_union { "union" } else { "struct" })),
                "id": i,
                "kind": if r.is_union { "union" } else { "struct" },
                "size": r.size,
                "align": r.align,
                "packed": r.packed,
                "fields": r.fields.as_ref().map(|fs| fs.iter().map(|f| json!({
                    "name": f.name,
                    "type": c_decl(model, &f.ty, ""),
                    "offset_bits": f.offset_bits,
                    "bits": f.bits,
                })).collect::<Vec<_>>()),
                "file": r.loc.file,
                "line": r.loc.line,
            })
        })
        .collect();
    let enums: Vec<_> = model
        .enums
        .iter()
        .map(|e| json!({"name": e.tag, "values": e.values.iter().map(|(n, v)| json!([n, v.to_string()])).collect::<Vec<_>>(), "file": e.loc.file}))
        .collect();
    let typedefs: Vec<_> = model
        .typedefs
        .iter()
        .map(|t| json!({"name": t.name, "type": c_decl(model, &t.ty, ""), "file": t.loc.file}))
        .collect();
    let macros: Vec<_> = model
        .macros
        .iter()
        .filter(|m| m.loc.project)
        .map(|m| json!({"name": m.name, "value": m.value.map(|v| v.to_string()), "tokens": m.tokens.join(" "), "file": m.loc.file, "line": m.loc.line}))
        .collect();
    json!({"functions": functions, "records": records, "enums": enums, "typedefs": typedefs, "macros": macros})
}

/// The project in `dir` (default: the current directory).
fn load_project(dir: Option<&Path>) -> Result<crate::project::Project, String> {
    let dir = dir.unwrap_or(Path::new("."));
    let root = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::project::Project::load(&root).map_err(|e| e.to_string())
}

/// `headerwheel cache ...`; returns the exit code (1 when damage is found).
fn cache(command: CacheCommand) -> Result<i32, String> {
    use crate::cache::Store;
    let store_at =
        |a: Option<PathBuf>| Store::new(a.unwrap_or_else(|| PathBuf::from(".headerkit")));
    match command {
        CacheCommand::Verify { store } => {
            let s = store_at(store);
            let r = s.verify().map_err(|e| e.to_string())?;
            println!(
                "{} objects and {} entries verified",
                r.objects_ok, r.entries_ok
            );
            for d in &r.damage {
                println!("damaged: {}: {}", d.path.display(), d.what);
            }
            Ok(i32::from(!r.damage.is_empty()))
        }
        CacheCommand::Gc { store } => {
            let s = store_at(store);
            let r = s.gc().map_err(|e| e.to_string())?;
            println!(
                "removed {} unreferenced objects, {} damaged items, {} temporary files",
                r.objects_removed, r.damaged_removed, r.temp_removed
            );
            // Not regular files of the store (symlinks, FIFOs, directories):
            // gc never deletes through them; they are for a person to remove.
            for d in &r.left {
                println!("left in place: {}: {}", d.path.display(), d.what);
            }
            Ok(i32::from(!r.left.is_empty()))
        }
        CacheCommand::Merge { from, into } => {
            let into = store_at(into);
            let r = into
                .merge_from(&Store::new(from))
                .map_err(|e| e.to_string())?;
            println!(
                "added {} objects and {} entries",
                r.objects_added, r.entries_added
            );
            for d in &r.damage {
                println!("skipped damaged: {}: {}", d.path.display(), d.what);
            }
            Ok(0)
        }
        CacheCommand::Status {
            project: true,
            path,
        } => {
            let project = load_project(path.as_deref())?;
            let env = crate::headers::stage::HeaderEnv::discover();
            let mut all_hit = true;
            for m in crate::headers::stage::header_modules(&project) {
                let (hit, why) =
                    crate::headers::stage::status(&project, m, &env).map_err(|e| e.to_string())?;
                all_hit &= hit;
                println!("{}: {why}", m.name);
            }
            Ok(i32::from(!all_hit))
        }
        CacheCommand::Status {
            project: false,
            path,
        } => {
            let s = store_at(path);
            // Real key directories only: a symlinked one is damage, not listed.
            let (keys, key_damage) = s.keys().map_err(|e| e.to_string())?;
            for d in &key_damage {
                println!("damaged: {}: {}", d.path.display(), d.what);
            }
            for key in &keys {
                let k = key.as_str();
                let (entries, damage) = s.entries(key).map_err(|e| e.to_string())?;
                for e in entries {
                    let module = e.meta.get("module").cloned().unwrap_or_default();
                    println!(
                        "{k:.16} {} {module} ({} files, object {:.16})",
                        e.kind,
                        e.deps.len(),
                        e.object.as_str()
                    );
                }
                for d in damage {
                    println!("damaged: {}: {}", d.path.display(), d.what);
                }
            }
            println!("{} keys in {}", keys.len(), s.root().display());
            Ok(0)
        }
        CacheCommand::Populate { dir } => {
            let project = load_project(dir.as_deref())?;
            let env = crate::headers::stage::HeaderEnv::discover();
            let modules = crate::headers::stage::header_modules(&project);
            if modules.is_empty() {
                return Err(format!(
                    "{}: no module takes its cdef from [tool.headerkit] headers",
                    project.root.display()
                ));
            }
            for m in modules {
                let (_, origin) =
                    crate::headers::stage::cdef_for_module_from(&project, m, false, &env)
                        .map_err(|e| e.to_string())?;
                // A build goes on when the store cannot be written; populating does not.
                if !crate::headers::stage::status(&project, m, &env).is_ok_and(|(hit, _)| hit) {
                    return Err(format!(
                        "module {}: the cdef could not be stored (see the warning above)",
                        m.name
                    ));
                }
                let what = match origin {
                    crate::headers::stage::CdefOrigin::CachedCdef => "already in the store",
                    crate::headers::stage::CdefOrigin::CachedModel => {
                        "cdef written from the stored header model"
                    }
                    crate::headers::stage::CdefOrigin::Parsed => {
                        "headers parsed, model and cdef stored"
                    }
                };
                println!("{}: {what}", m.name);
            }
            Ok(0)
        }
        CacheCommand::ImportHeaderkit { store, dir } => {
            let project = load_project(dir.as_deref())?;
            let report = crate::headers::stage::import_headerkit(&project, &store)
                .map_err(|e| e.to_string())?;
            for line in &report {
                println!("{line}");
            }
            Ok(i32::from(!report.iter().any(|l| l.starts_with("imported"))))
        }
    }
}

/// `headerwheel init HEADER [--name NAME] [--library LIB] [--pkg-config PKG] [-I DIR] [-D X[=Y]] [DIR]`.
fn init(a: InitArgs) -> Result<(), String> {
    use crate::commands::init::{self, InitRequest};
    // An include directory of the command line, from where it was given.
    let absolute = |d: &String| -> Result<String, String> {
        std::path::absolute(d)
            .map(|p| p.display().to_string())
            .map_err(|e| format!("-I {d}: {e}"))
    };
    let req = InitRequest {
        header: a.header,
        name: a.name,
        library: a.library,
        pkg_config: a.pkg_config,
        include_dirs: a
            .include_dirs
            .iter()
            .map(absolute)
            .collect::<Result<_, _>>()?,
        defines: a.defines,
    };
    let dir = a.dir;
    for p in &req.pkg_config {
        crate::project::pkgconfig::query(p).map_err(|e| format!("--pkg-config {p}: {e}"))?;
    }
    // A header given as an existing file is copied into the project; a name
    // like `zlib.h` is a system header.
    let header_file = Path::new(&req.header)
        .is_file()
        .then(|| PathBuf::from(&req.header));
    let s = init::scaffold(&req, header_file.as_deref())?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(&s.name));
    if dir.join("pyproject.toml").exists() {
        return Err(format!(
            "{}: already has a pyproject.toml (init makes new projects; see `headerwheel migrate`)",
            dir.display()
        ));
    }
    let write = |rel: &Path, text: &str| -> Result<(), String> {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        write_atomic(&p, text)?;
        eprintln!("headerwheel: wrote {}", p.display());
        Ok(())
    };
    for (rel, text) in &s.files {
        write(rel, text)?;
    }
    write(Path::new("README.md"), &init::readme(&s, &req))?;
    if let Some((src, dest)) = &s.copy_header {
        let text = std::fs::read_to_string(src).map_err(|e| format!("{}: {e}", src.display()))?;
        write(dest, &text)?;
    }
    // Parse the header now: the store makes later builds libclang-free, and
    // the cdef says which function the test can call.
    let project = load_project(Some(&dir))?;
    let function = match crate::headers::stage::header_modules(&project).first() {
        Some(m) => match crate::headers::stage::cdef_for_module_from(
            &project,
            m,
            false,
            &crate::headers::stage::HeaderEnv::discover(),
        ) {
            Ok((cdef, _)) => init::pick_function(&cdef),
            Err(e) => {
                eprintln!(
                    "headerwheel: warning: the header could not be parsed now ({e}); the test only imports the module"
                );
                None
            }
        },
        None => None,
    };
    write(
        Path::new(&format!("tests/test_{}.py", s.package)),
        &init::test_file(&s, function.as_ref()),
    )?;
    println!("{}", dir.display());
    Ok(())
}

/// `headerwheel migrate [DIR] [--dry-run] [--check] [--python PY]`; returns
/// the exit code (1 when --check finds a module that differs).
fn migrate(a: MigrateArgs) -> Result<i32, String> {
    use crate::commands::migrate::{self, check, diff};
    let (dry_run, check_only) = (a.dry_run, a.check);
    // The project's interpreter: --python, else the one running headerwheel
    // (set by `python -m headerwheel`), else python3.
    let python = a
        .python
        .or_else(|| std::env::var("HEADERWHEEL_PYTHON").ok())
        .unwrap_or_else(|| "python3".to_string());
    let dir = a.dir.unwrap_or_else(|| PathBuf::from("."));
    let root = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let emit_dir = if check_only {
        Some(tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?)
    } else {
        None
    };
    eprintln!(
        "headerwheel: recording the CFFI builders of {} with {python}",
        root.display()
    );
    let rec = migrate::recording::record(&python, &root, emit_dir.as_ref().map(|d| d.path()))?;
    let read = |rel: &Path| std::fs::read_to_string(root.join(rel)).ok();
    let plan = migrate::plan(&root, &rec, &read)?;
    if check_only {
        let results = check::check(&root, &rec, &plan.modules)?;
        let mut differ = 0;
        for r in &results {
            match &r.difference {
                None => println!(
                    "identical: {} ({} bytes of {}, headerwheel from {}; cffi {})",
                    r.name,
                    r.ours,
                    r.language(),
                    r.from,
                    rec.python.cffi_version
                ),
                Some(d) => {
                    differ += 1;
                    println!(
                        "DIFFERENT: {} (headerwheel {} bytes from {}, cffi {} bytes)\n{d}",
                        r.name, r.ours, r.from, r.theirs
                    );
                }
            }
        }
        println!(
            "{} of {} modules identical",
            results.len() - differ,
            results.len()
        );
        return Ok(i32::from(differ > 0));
    }
    if dry_run {
        for f in &plan.files {
            print!("{}", diff::unified(f));
        }
        for n in &plan.notes {
            eprintln!("{n}");
        }
        return Ok(0);
    }
    for f in &plan.files {
        if f.old.as_deref() == Some(f.new.as_str()) {
            continue;
        }
        let p = root.join(&f.path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        write_atomic(&p, &f.new)?;
        println!("wrote {}", f.path.display());
    }
    for m in &plan.modules {
        println!(
            "module {} ({})",
            m.name,
            if m.abi { "ABI mode" } else { "API mode" }
        );
    }
    for n in &plan.notes {
        println!("{n}");
    }
    Ok(0)
}
