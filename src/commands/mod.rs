//! The `headerwheel` command line: `gen-src` (cdef → C or Python source, as
//! `cffi-gen-src` does), more commands to come.
use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub mod case;
pub mod init;
mod locate;
pub mod migrate;

const USAGE: &str = "usage:
  headerwheel gen-src read-sources MODULE CDEF CSRC OUT    API mode: write the C source
  headerwheel gen-src read-sources --abi MODULE CDEF OUT   ABI mode: write the Python source
  headerwheel gen-src --case-json CASE.json --out OUT      replay a CFFI corpus case
  headerwheel generate HEADER [-I DIR]... [-D NAME[=VAL]]... [--define-pattern RE]...
                       [--extra-cdef LINE]... [-l LIB]... [--code TEXT] [-o [cffi:]PATH]
                                                           header → CFFI cdef (stdout or PATH)
  headerwheel stubs MODULE CDEF [--abi] [-o OUT]            the module's type stub (.pyi) (stdout or OUT)
  headerwheel cache verify|gc|status [STORE]                the .headerkit store (default ./.headerkit):
                                                           check every object and entry / delete what
                                                           nothing references / list entries
  headerwheel cache merge FROM [INTO]                      add another store's entries (e.g. from CI)
  headerwheel cache populate [DIR]                         parse the project's headers into its store
                                                           (run on each platform of a CI matrix, then merge)
  headerwheel cache status --project [DIR]                 hit or miss for each header module, and why
  headerwheel cache import-headerkit STORE [DIR]           take a headerkit 0.47 store's cffi outputs
  headerwheel init HEADER [--name NAME] [--library LIB] [--pkg-config PKG] [-I DIR] [-D X[=Y]] [DIR]
                                                           a new binding project for a header (zlib.h or
                                                           a file), building with `pip wheel .` at once
  headerwheel migrate [DIR] [--dry-run] [--check] [--python PY]
                                                           a setuptools/hatchling + CFFI project becomes a
                                                           headerwheel one: builders recorded with the
                                                           project's Python, cdef/csrc files written,
                                                           pyproject.toml edited (comments kept);
                                                           --dry-run: print the diffs, write nothing;
                                                           --check: C by headerwheel == C by cffi, per module
  headerwheel inspect HEADER [-I DIR]... [-D ...] [--code TEXT] --json
                                                           every function's signature, struct layout and
                                                           macro value, as JSON (the signature database)
options:
  --cffi-dir DIR   where CFFI's headers are (default: $HEADERWHEEL_CFFI_DIR, else the
                   cffi package of `python3`)
  --no-limited-api the target cannot use the limited API (free-threaded CPython < 3.15)";

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
    match args.first().map(String::as_str) {
        Some("gen-src") => match gen_src(&args[1..]) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("headerwheel: error: {e}");
                1
            }
        },
        Some("inspect") => match generate(&args[1..]).and(Ok(())) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("headerwheel: error: {e}");
                1
            }
        },
        Some("generate") => match generate(&args[1..]) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("headerwheel: error: {e}");
                1
            }
        },
        Some("stubs") => match stubs(&args[1..]) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("headerwheel: error: {e}");
                1
            }
        },
        Some("init") => match init(&args[1..]) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("headerwheel: error: {e}");
                1
            }
        },
        Some("migrate") => match migrate(&args[1..]) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("headerwheel: error: {e}");
                1
            }
        },
        Some("cache") => match cache(&args[1..]) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("headerwheel: error: {e}");
                1
            }
        },
        // The PEP 517 hooks, for the Python shim (not for people: hidden).
        Some("hook") if args.len() == 1 => crate::hooks::protocol::run(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            0
        }
        _ => {
            eprintln!("{USAGE}");
            2
        }
    }
}

struct GenSrcArgs {
    abi: bool,
    case_json: Option<PathBuf>,
    out: Option<PathBuf>,
    cffi_dir: Option<PathBuf>,
    no_limited_api: bool,
    /// Emit this many times (after one untimed run) and report the median
    /// time (benchmarks).
    bench: usize,
    positional: Vec<String>,
}

fn parse_gen_src(args: &[String]) -> Result<GenSrcArgs, String> {
    let mut a = GenSrcArgs {
        abi: false,
        case_json: None,
        out: None,
        cffi_dir: None,
        no_limited_api: false,
        bench: 0,
        positional: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--abi" => a.abi = true,
            "--no-limited-api" => a.no_limited_api = true,
            "--case-json" => a.case_json = Some(value("--case-json")?.into()),
            "--out" => a.out = Some(value("--out")?.into()),
            "--cffi-dir" => a.cffi_dir = Some(value("--cffi-dir")?.into()),
            "--bench" => {
                a.bench = value("--bench")?
                    .parse()
                    .map_err(|_| "--bench needs a count".to_string())?;
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            s => a.positional.push(s.to_string()),
        }
    }
    Ok(a)
}

fn gen_src(args: &[String]) -> Result<(), String> {
    use crate::emit::{self, EmitOptions};
    let a = parse_gen_src(args)?;
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
    let pos = &a.positional;
    if pos.first().map(String::as_str) != Some("read-sources") {
        return Err(USAGE.to_string());
    }
    let read = |p: &str| {
        let bytes = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?;
        crate::text::utf8(bytes, Path::new(p)).map_err(|e| e.to_string())
    };
    if a.abi {
        let [_, module, cdef, out] = pos.as_slice() else {
            return Err(USAGE.to_string());
        };
        let input = crate::cdef::CdefInput::new(read(cdef)?, cdef.as_str());
        let text = emit::py_source(module, &[input], &options).map_err(|e| e.message)?;
        write_atomic(Path::new(out), &text)
    } else {
        let [_, module, cdef, csrc, out] = pos.as_slice() else {
            return Err(USAGE.to_string());
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
fn stubs(args: &[String]) -> Result<(), String> {
    use crate::emit::stubs::{StubMode, stub_source};
    let (mut mode, mut out, mut pos) = (StubMode::Api, None, Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--abi" => mode = StubMode::Abi,
            "-o" => out = Some(it.next().ok_or("-o needs a value")?),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            s => pos.push(s),
        }
    }
    let [module, cdef] = pos.as_slice() else {
        return Err(USAGE.to_string());
    };
    let bytes = std::fs::read(cdef).map_err(|e| format!("{cdef}: {e}"))?;
    let text = crate::text::utf8(bytes, Path::new(cdef)).map_err(|e| e.to_string())?;
    let input = crate::cdef::CdefInput::new(text, *cdef);
    let (types, ffi) = crate::emit::parse_all(&[input]).map_err(|e| e.message)?;
    let stub = stub_source(module, &types, &ffi, mode);
    match out {
        Some(o) => write_atomic(Path::new(o), &stub),
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
        None => locate::cffi_dir().map_err(|e| e.to_string())?,
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

fn generate(args: &[String]) -> Result<(), String> {
    generate_or_inspect(
        args,
        std::env::args().nth(1).as_deref() == Some("inspect") || args.iter().any(|a| a == "--json"),
    )
}

fn generate_or_inspect(args: &[String], inspect: bool) -> Result<(), String> {
    use crate::cdef::writer::{self, WriterOptions};
    use crate::headers::{self, ParseRequest, exports};
    let mut req = ParseRequest::default();
    let mut opts = WriterOptions::default();
    let mut libs: Vec<String> = Vec::new();
    let mut out: Option<PathBuf> = None;
    let mut header: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match a.as_str() {
            "-I" => req.include_dirs.push(value("-I")?.into()),
            s if s.starts_with("-I") => req.include_dirs.push(s[2..].into()),
            "-D" => req.defines.push(value("-D")?),
            s if s.starts_with("-D") => req.defines.push(s[2..].to_string()),
            "-l" => libs.push(value("-l")?),
            s if s.starts_with("-l") => libs.push(s[2..].to_string()),
            "--define-pattern" => {
                let p = value("--define-pattern")?;
                opts.define_patterns.push(
                    regex::Regex::new(&p).map_err(|e| format!("--define-pattern {p:?}: {e}"))?,
                );
            }
            "--extra-cdef" => opts.extra_cdef.push(value("--extra-cdef")?),
            "--code" => req.code = Some(value("--code")?),
            "--json" => {}
            "-w" => {
                let w = value("-w")?;
                if w != "cffi" {
                    return Err(format!("writer '{w}' is not supported (only cffi)"));
                }
            }
            "-o" => {
                let o = value("-o")?;
                out = Some(o.strip_prefix("cffi:").unwrap_or(&o).into());
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            s => {
                if header.replace(s.to_string()).is_some() {
                    return Err("give one header".into());
                }
            }
        }
    }
    let header = header.ok_or_else(|| format!("which header?\n{USAGE}"))?;
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

/// `headerwheel cache ...`; returns the exit code (1 when damage is found).
/// The project in `dir` (default: the current directory).
fn load_project(dir: Option<&String>) -> Result<crate::project::Project, String> {
    let dir = dir.map_or_else(|| PathBuf::from("."), PathBuf::from);
    let root = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::project::Project::load(&root).map_err(|e| e.to_string())
}

fn cache(args: &[String]) -> Result<i32, String> {
    use crate::cache::Store;
    let store_at = |a: Option<&String>| {
        Store::new(a.map_or_else(|| PathBuf::from(".headerkit"), PathBuf::from))
    };
    match args.first().map(String::as_str) {
        Some("verify") => {
            let s = store_at(args.get(1));
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
        Some("gc") => {
            let s = store_at(args.get(1));
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
        Some("merge") => {
            let from = args
                .get(1)
                .ok_or("cache merge needs the store to merge from")?;
            let into = store_at(args.get(2));
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
        Some("status") if args.get(1).is_some_and(|a| a == "--project") => {
            let project = load_project(args.get(2))?;
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
        Some("status") => {
            let s = store_at(args.get(1));
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
        Some("populate") => {
            let project = load_project(args.get(1))?;
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
        Some("import-headerkit") => {
            let from = args.get(1).ok_or(
                "cache import-headerkit needs the headerkit store (a .headerkit directory)",
            )?;
            let project = load_project(args.get(2))?;
            let report = crate::headers::stage::import_headerkit(&project, Path::new(from))
                .map_err(|e| e.to_string())?;
            for line in &report {
                println!("{line}");
            }
            Ok(i32::from(!report.iter().any(|l| l.starts_with("imported"))))
        }
        _ => Err(format!(
            "usage: headerwheel cache verify|gc|status [STORE] | status --project [DIR] | merge FROM [INTO] | populate [DIR] | import-headerkit STORE [DIR]\n{USAGE}"
        )),
    }
}

/// `headerwheel init HEADER [--name NAME] [--library LIB] [--pkg-config PKG] [-I DIR] [-D X[=Y]] [DIR]`.
fn init(args: &[String]) -> Result<(), String> {
    // An include directory of the command line, from where it was given.
    let absolute = |d: &str| -> Result<String, String> {
        std::path::absolute(d)
            .map(|p| p.display().to_string())
            .map_err(|e| format!("-I {d}: {e}"))
    };
    use crate::commands::init::{self, InitRequest};
    let mut req = InitRequest::default();
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match a.as_str() {
            "--name" => req.name = Some(value("--name")?),
            "--library" | "-l" => req.library = Some(value("--library")?),
            "--pkg-config" => req.pkg_config.push(value("--pkg-config")?),
            "-I" => req.include_dirs.push(absolute(&value("-I")?)?),
            "-D" => req.defines.push(value("-D")?),
            s if s.starts_with("-I") && s.len() > 2 => req.include_dirs.push(absolute(&s[2..])?),
            s if s.starts_with("-D") && s.len() > 2 => req.defines.push(s[2..].to_string()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            s => positional.push(s.to_string()),
        }
    }
    let (header, dir) = match positional.as_slice() {
        [h] => (h.clone(), None),
        [h, d] => (h.clone(), Some(PathBuf::from(d))),
        _ => return Err(format!("init needs HEADER and at most one DIR\n{USAGE}")),
    };
    req.header = header;
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
    let project = load_project(Some(&dir.display().to_string()))?;
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
fn migrate(args: &[String]) -> Result<i32, String> {
    use crate::commands::migrate::{self, check, diff};
    let (mut dry_run, mut check_only) = (false, false);
    let mut python: Option<String> = None;
    let mut dir: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dry-run" => dry_run = true,
            "--check" => check_only = true,
            "--python" => python = Some(it.next().cloned().ok_or("--python needs a value")?),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            s => {
                if dir.replace(s.to_string()).is_some() {
                    return Err("give one project directory".into());
                }
            }
        }
    }
    // The project's interpreter: --python, else the one running headerwheel
    // (set by `python -m headerwheel`), else python3.
    let python = python
        .or_else(|| std::env::var("HEADERWHEEL_PYTHON").ok())
        .unwrap_or_else(|| "python3".to_string());
    let dir = PathBuf::from(dir.unwrap_or_else(|| ".".into()));
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
