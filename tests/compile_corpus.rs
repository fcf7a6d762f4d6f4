//! Emitted modules compile, import and work: a sample of corpus cases
//! (`tests/compile-sample.txt`) is emitted by our recompiler, compiled with
//! the C compiler into CPython extension modules, imported and exercised
//! through `_cffi_backend` by `tests/tools/exercise_cffi_module.py` (every
//! lib attribute realised, functions called, globals written, every struct
//! instantiated so CFFI checks its layout against the compiler's). Every
//! ABI-mode case's `.py` is imported and its types parsed the same way, and
//! embedding modules are loaded with ctypes so that calling an exported
//! function starts Python and runs their init code.
//!
//! Skipped with a message when the corpus, cffi 2.1.1 or a C compiler is
//! absent; `HEADERWHEEL_REQUIRE_CORPUS=1` turns the skips into failures.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use headerwheel::commands::case::Case;
use headerwheel::emit::{self, CffiRuntime, EmitOptions};

const SAMPLE: &str = include_str!("compile-sample.txt");

/// What the emitted C of the sample must contain between them: one marker
/// per wrapper kind, so the sample cannot silently stop covering one.
const WRAPPER_KINDS: &[(&str, &str)] = &[
    (
        "function without arguments (METH_NOARGS)",
        "_CFFI_OP(_CFFI_OP_CPYTHON_BLTN_N,",
    ),
    (
        "function with one argument (METH_O)",
        "_CFFI_OP(_CFFI_OP_CPYTHON_BLTN_O,",
    ),
    (
        "function with several arguments (METH_VARARGS)",
        "_CFFI_OP(_CFFI_OP_CPYTHON_BLTN_V,",
    ),
    (
        "pointer argument (alloca, large_args_free)",
        "  datasize = _cffi_prepare_pointer_call_argument(",
    ),
    ("struct argument by value", "if (_cffi_to_c((char *)&x"),
    (
        "struct returned by value",
        "_cffi_from_c_struct((char *)&result",
    ),
    ("PyPy struct-return indirection", "{ *result = "),
    (
        "variadic function as a constant function pointer",
        "_CFFI_OP(_CFFI_OP_CONSTANT,",
    ),
    ("global variable getter", "_CFFI_OP(_CFFI_OP_GLOBAL_VAR_F,"),
    ("integer constant", "_CFFI_OP(_CFFI_OP_CONSTANT_INT, -1)"),
    (
        "integer constant with a checked value",
        "if (!_cffi_check_int(*o, n, ",
    ),
    ("non-integer constant", "static void _cffi_const_"),
    ("enum", "_CFFI_OP(_CFFI_OP_ENUM, -1)"),
    ("struct with checked fields", ", _CFFI_F_CHECK_FIELDS"),
    ("bitfield", "_CFFI_OP(_CFFI_OP_BITFIELD,"),
    ("union", ", _CFFI_F_UNION"),
    ("opaque struct or union", "_CFFI_F_OPAQUE,\n"),
    (
        "typedef",
        "static const struct _cffi_typename_s _cffi_typenames[]",
    ),
    ("extern \"Python\"", "_CFFI_OP(_CFFI_OP_EXTERN_PYTHON,"),
    ("packed struct", "|_CFFI_F_PACKED"),
    (
        "partial struct (...;) laid out by the compiler",
        ", 0,\n    sizeof(",
    ),
    ("typedef ... *name (named pointer)", "(size_t)(((char *)&(("),
    ("anonymous enum sized by cdef values", "_cffi_prim_int(4, "),
    (
        "unknown-size integer typedef (int...)",
        "_CFFI_OP(_CFFI_OP_PRIMITIVE, _cffi_prim_int(sizeof(",
    ),
    (
        "array of unknown length ([...])",
        "(_cffi_opcode_t)(_cffi_array_len(",
    ),
];

/// `extern "Python+C"`: the wrapper is neither `static` nor `CFFI_DLLEXPORT`.
const PLUS_C: &str = r"(?m)^static struct _cffi_externpy_s \w+ =\n  \{[^\n]*\};\n\n[^sC]";

struct Env {
    python: String,
    cc: String,
    cxx: String,
    include: String,
    ext_suffix: String,
    runtime: CffiRuntime,
    harness: PathBuf,
}

fn require() -> bool {
    std::env::var("HEADERWHEEL_REQUIRE_CORPUS").as_deref() == Ok("1")
}

fn env() -> Option<Env> {
    let python = common::python_with_cffi()?;
    let out = Command::new(&python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))",
        ])
        .output()
        .expect("python runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines = text.lines();
    let include = lines.next().expect("include dir").to_string();
    let ext_suffix = lines.next().expect("EXT_SUFFIX").to_string();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let has_cc = Command::new(&cc)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let has_headers = Path::new(&include).join("Python.h").is_file();
    if !has_cc || !has_headers {
        let what = if has_cc {
            format!("Python.h in {include}")
        } else {
            format!("a C compiler ({cc})")
        };
        assert!(
            !require(),
            "{what} is required (HEADERWHEEL_REQUIRE_CORPUS=1) but absent"
        );
        eprintln!("SKIPPED: no {what}");
        return None;
    }
    let dir = common::cffi_dir().expect("cffi is importable");
    Some(Env {
        python,
        cc,
        cxx,
        include,
        ext_suffix,
        runtime: CffiRuntime::from_dir(&dir).expect("CFFI's headers"),
        harness: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/tools/exercise_cffi_module.py"),
    })
}

fn load_case(corpus: &Path, id: &str) -> Case {
    let path = corpus.join(id).join("case.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Case::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compiles the C source of `module` (a dotted name) into an extension
/// module under `dir`.
fn compile_module(
    env: &Env,
    dir: &Path,
    module: &str,
    source: &str,
    preamble: &str,
) -> Result<(), String> {
    compile_units(env, dir, module, &[source.to_string()], preamble)
}

/// [`compile_module`] from several translation units linked together.
fn compile_units(
    env: &Env,
    dir: &Path,
    module: &str,
    sources: &[String],
    preamble: &str,
) -> Result<(), String> {
    let parts: Vec<&str> = module.split('.').collect();
    let (leaf, packages) = parts.split_last().expect("a module name");
    let mut pkg_dir = dir.to_path_buf();
    for p in packages {
        pkg_dir.push(p);
        std::fs::create_dir_all(&pkg_dir).map_err(|e| e.to_string())?;
        std::fs::write(pkg_dir.join("__init__.py"), "").map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(&pkg_dir).map_err(|e| e.to_string())?;
    let mut c_files = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let c_file = dir.join(format!("{module}.{i}.c"));
        std::fs::write(&c_file, source).map_err(|e| e.to_string())?;
        c_files.push(c_file);
    }
    let so = pkg_dir.join(format!("{leaf}{}", env.ext_suffix));
    // CFFI's own tests wrap their sources in `extern "C" { }` and build
    // them as C++; those cases are built the same way.
    let (compiler, lang): (&str, &[&str]) = if preamble.contains("extern \"C\"") {
        (&env.cxx, &["-x", "c++"])
    } else {
        (&env.cc, &[])
    };
    let out = Command::new(compiler)
        .args(lang)
        .args(["-shared", "-fPIC", "-O0", "-w"])
        .arg(format!("-I{}", env.include))
        .arg("-o")
        .arg(&so)
        .args(&c_files)
        // A preamble's global functions are in every part (see
        // `split_any_preamble`): identical copies, the first one kept.
        .args(if c_files.len() > 1 {
            &["-Wl,--allow-multiple-definition"][..]
        } else {
            &[][..]
        })
        .arg("-lm")
        .output()
        .map_err(|e| format!("cannot run {compiler}: {e}"))?;
    if !out.status.success() {
        return Err(format!("compiling {module} failed:\n{}", tail(&out.stderr)));
    }
    Ok(())
}

/// Emits, compiles, imports and exercises one C case (and the C-mode FFIs
/// it includes, which CFFI imports by name at run time); returns the
/// emitted C of the case's own module.
fn build_and_exercise(env: &Env, case: &Case, root: &Path) -> Result<String, String> {
    build_and_exercise_as(env, case, root, None).map(|(source, _)| source)
}

/// [`build_and_exercise`], the case's own module split into `1 + parts`
/// translation units when `split` is set and the split applies; also says
/// whether it was split.
fn build_and_exercise_as(
    env: &Env,
    case: &Case,
    root: &Path,
    split: Option<usize>,
) -> Result<(String, bool), String> {
    let dir = root.join(&case.id);
    let mut r = case.replay().map_err(|e| e.to_string())?;
    let options = EmitOptions::default();
    for (ffi_id, included) in case.included_sources.iter().flatten() {
        let Some(inc) = included else { continue };
        let Some(preamble) = &inc.source else {
            continue;
        };
        let ffi = r
            .ffis
            .remove(ffi_id)
            .ok_or_else(|| format!("no FFI {ffi_id}"))?;
        let source = emit::emit_c(
            &mut r.types,
            &ffi,
            &inc.module_name,
            preamble,
            &env.runtime,
            &options,
        )
        .map_err(|e| format!("included {}: {}", inc.module_name, e))?;
        compile_module(env, &dir, &inc.module_name, &source, preamble)?;
    }
    let preamble = case.preamble.as_deref().unwrap_or("");
    let source = common::emit_replayed(case, &mut r, &env.runtime)?;
    // CFFI's test preambles define functions: copied into every part, which
    // is what a preamble of includes amounts to (the product only splits
    // those).
    let units = split
        .filter(|_| !headerwheel::emit::split::preamble_is_cplusplus(preamble))
        .and_then(|n| headerwheel::emit::split::split_any_preamble(&source, n));
    let was_split = units.is_some();
    let units = units.unwrap_or_else(|| vec![source.clone()]);
    compile_units(env, &dir, &case.module_name, &units, preamble)?;
    let out = Command::new(&env.python)
        .arg(&env.harness)
        .arg(&dir)
        .arg(&case.module_name)
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", env.python))?;
    if !out.status.success() {
        return Err(format!(
            "exercise failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            tail(&out.stderr)
        ));
    }
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("bad report: {e}"))?;
    if report["counts"]["attrs"].as_u64().unwrap_or(0)
        + report["counts"]["types"].as_u64().unwrap_or(0)
        == 0
    {
        return Err(format!("nothing was exercised: {report}"));
    }
    if was_split {
        // Nothing beyond the module's init is exported.
        let so = std::fs::read_dir(
            dir.join(
                case.module_name
                    .split('.')
                    .take(case.module_name.matches('.').count())
                    .collect::<Vec<_>>()
                    .join("/"),
            ),
        )
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(&env.ext_suffix))
        .ok_or("no module built")?;
        let nm = Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(&so)
            .output()
            .map_err(|e| e.to_string())?;
        let exported: Vec<String> = String::from_utf8_lossy(&nm.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
            .filter(|n| n.starts_with("_cffi") || n.starts_with("_HW"))
            .collect();
        if !exported.is_empty() {
            return Err(format!("the split module exports {exported:?}"));
        }
    }
    Ok((source, was_split))
}

fn tail(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

fn sample_ids() -> Vec<&'static str> {
    SAMPLE
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn sample_of_c_cases_compiles_imports_and_runs() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let Some(env) = env() else { return };
    let ids = sample_ids();
    assert!(
        ids.len() >= 50,
        "the sample must hold at least 50 cases, it holds {}",
        ids.len()
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = Mutex::new(ids.iter().copied());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(id) = work.lock().unwrap().next() else {
                        break;
                    };
                    let case = load_case(&corpus, id);
                    assert_eq!(case.target, "c", "{id} is not a C case");
                    let r = build_and_exercise(&env, &case, tmp.path());
                    results.lock().unwrap().push((id, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(id, _)| *id);
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(id, r)| r.as_ref().err().map(|e| format!("{id}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} sample cases failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
    let sources: Vec<&String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .collect();
    let mut missing: Vec<&str> = WRAPPER_KINDS
        .iter()
        .filter(|(_, marker)| !sources.iter().any(|s| s.contains(marker)))
        .map(|(what, _)| *what)
        .collect();
    let plus_c = regex::Regex::new(PLUS_C).expect("regex");
    if !sources.iter().any(|s| plus_c.is_match(s)) {
        missing.push("extern \"Python+C\"");
    }
    assert!(
        missing.is_empty(),
        "the sample no longer covers: {missing:?}"
    );
}

#[test]
fn sample_of_c_cases_split_into_translation_units_behave_the_same() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let Some(env) = env() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = Mutex::new(sample_ids().into_iter());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(id) = work.lock().unwrap().next() else {
                        break;
                    };
                    let case = load_case(&corpus, id);
                    let r = build_and_exercise_as(&env, &case, tmp.path(), Some(3));
                    results.lock().unwrap().push((id, r));
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(id, r)| r.as_ref().err().map(|e| format!("{id}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} split cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let split = results
        .iter()
        .filter(|(_, r)| matches!(r, Ok((_, true))))
        .count();
    assert!(
        split >= 30,
        "only {split} of {} sample cases were split",
        results.len()
    );
}

#[test]
fn every_abi_mode_case_imports_and_its_types_parse() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let Some(env) = env() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    let mut ids = Vec::new();
    let mut includes = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.py").is_file())
        .collect();
    entries.sort();
    for dir in entries {
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        let case = load_case(&corpus, &id);
        // `from other import ffi as _ffi0`: the included ABI-mode FFIs are
        // emitted beside the case, under their module names.
        let case_dir = tmp.path().join(&id);
        std::fs::create_dir_all(&case_dir).unwrap();
        let mut r = case.replay().unwrap_or_else(|e| panic!("{id}: {e}"));
        for (ffi_id, included) in case.included_sources.iter().flatten() {
            let Some(inc) = included else { continue };
            let ffi = r.ffis.remove(ffi_id).expect("included FFI");
            let text = emit::emit_py(
                &mut r.types,
                &ffi,
                &inc.module_name,
                &EmitOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{id}: included {}: {}", inc.module_name, e));
            std::fs::write(case_dir.join(format!("{}.py", inc.module_name)), text).unwrap();
            includes += 1;
        }
        let source = common::emit_replayed(&case, &mut r, &env.runtime)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let file = case_dir.join(format!("case_{id}.py"));
        std::fs::write(&file, source).unwrap();
        files.push(file);
        ids.push(id);
    }
    assert!(includes >= 10, "only {includes} included ABI-mode FFIs");
    assert!(ids.len() >= 300, "only {} ABI-mode cases found", ids.len());
    let out = Command::new(&env.python)
        .arg(&env.harness)
        .arg("--abi")
        .args(&files)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "ABI-mode modules failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        tail(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(
        report["modules"].as_u64(),
        Some(ids.len() as u64),
        "{report}"
    );
}

/// Embedding cases whose init code defines every exported function as the
/// sum of its arguments (CFFI's `testing/embedding` add1/add2/add3 and the
/// quirk with a non-ASCII comment).
const EMBEDDING_SAMPLE: &[&str] = &["0656", "0661", "0662", "0664", "0665", "1104"];

#[test]
fn embedding_modules_start_python_and_run_their_init_code() {
    use headerwheel::model::{DeclKind, DeclValue, TypeKind};
    let Some(corpus) = common::corpus() else {
        return;
    };
    let Some(env) = env() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for id in EMBEDDING_SAMPLE {
        let case = load_case(&corpus, id);
        let mut r = case.replay().expect("replays");
        let ffi = &r.ffis[&case.target_ffi];
        assert!(ffi.embedding.is_some(), "{id} is not an embedding case");
        // The exported functions and their number of (int) arguments.
        let exported: Vec<(String, usize)> = ffi
            .declarations
            .iter()
            .filter(|d| d.kind == DeclKind::DllexportPython)
            .map(|d| match &d.value {
                DeclValue::Type(t) => match r.types.kind(*t) {
                    TypeKind::FunctionPtr(sig) => (d.name.clone(), sig.args.len()),
                    other => panic!("{id}: {} is {other:?}", d.name),
                },
                _ => panic!("{id}: {} is not a function", d.name),
            })
            .collect();
        assert!(!exported.is_empty(), "{id} exports nothing");
        let preamble = case.preamble.as_deref().unwrap_or("");
        let source = common::emit_replayed(&case, &mut r, &env.runtime)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let dir = tmp.path().join(id);
        if let Err(e) = compile_module(&env, &dir, &case.module_name, &source, preamble) {
            failures.push(format!("{id}: {e}"));
            continue;
        }
        let so = dir.join(format!("{}{}", case.module_name, env.ext_suffix));
        // Loading the library and calling an exported function starts the
        // embedded module: CFFI runs the init code, which attaches the
        // Python implementations with @ffi.def_extern().
        let mut code = String::from(
            "import ctypes, sys\nsys.path.insert(0, sys.argv[1])\nlib = ctypes.CDLL(sys.argv[2])\n",
        );
        for (name, nargs) in &exported {
            let want: usize = (1..=*nargs).sum();
            code.push_str(&format!(
                "got = lib.{name}(*range(1, {}))\nassert got == {want}, ('{name}', got)\n",
                nargs + 1
            ));
        }
        let out = Command::new(&env.python)
            .arg("-c")
            .arg(&code)
            .arg(&dir)
            .arg(&so)
            .current_dir(&dir)
            .output()
            .expect("python runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || stderr.contains("Returning 0") {
            failures.push(format!("{id}: {}\n{}", out.status, tail(&out.stderr)));
        }
    }
    assert!(
        failures.is_empty(),
        "embedding cases failed:\n{}",
        failures.join("\n")
    );
}
