use std::sync::{Arc, Mutex};

use super::*;

fn job(dir: &std::path::Path) -> CompileJob {
    CompileJob {
        module: "pkg._m_cffi".into(),
        sources: vec![dir.join("m.c")],
        include_dirs: vec![dir.join("include")],
        library_dirs: vec![dir.join("lib")],
        libraries: vec!["z".into()],
        define_macros: vec![("A".into(), None), ("B".into(), Some("2".into()))],
        extra_compile_args: vec!["-Wno-unused".into()],
        extra_link_args: vec!["-Wl,-O1".into()],
        limited_api: Some(9),
        output: dir.join("out/m.abi3.so"),
        obj_dir: dir.join("obj"),
    }
}

#[test]
fn split_words_like_a_shell() {
    assert_eq!(split_words("gcc -pthread"), vec!["gcc", "-pthread"]);
    assert_eq!(split_words(" a 'b c' \"d\\\"e\" f\\ g "), vec!["a", "b c", "d\"e", "f g"]);
    assert!(split_words("   ").is_empty());
}

#[test]
fn compile_and_link_arguments() {
    let j = job(std::path::Path::new("/p"));
    let opts = CompileOptions {
        opt_level: Some("2".into()),
        verbose: false,
        prefix_maps: vec![("/p".into(), ".".into())],
    };
    let i = Interpreter::example();
    assert_eq!(
        compile_args(&i, &j, &opts).join(" "),
        "-pthread -Wsign-compare -DNDEBUG -g -fwrapv -Wall -fPIC -O2 -ffile-prefix-map=/p=. \
         -DPy_LIMITED_API=0x03090000 -DA -DB=2 -I/p/include -I/usr/include/python3.11 -Wno-unused"
    );
    assert_eq!(
        link_args(&i, &j, &["/p/obj/a.o".into()]).join(" "),
        "gcc -pthread -shared /p/obj/a.o -L/p/lib -lz -Wl,-O1 -Wl,--no-as-needed -lc -o /p/out/m.abi3.so"
    );
    let mut full = j.clone();
    full.limited_api = None;
    assert!(compile_args(&i, &full, &CompileOptions::default()).contains(&"-D_CFFI_NO_LIMITED_API".to_string()));
}

#[test]
fn environment_overrides_like_distutils() {
    let mut i = Interpreter::example();
    i.env.insert("CC".into(), "clang -m64".into());
    i.env.insert("CFLAGS".into(), "-march=native".into());
    i.env.insert("LDFLAGS".into(), "-Wl,-z,now".into());
    assert_eq!(i.compiler(), vec!["clang", "-m64"]);
    assert!(i.compile_flags().contains(&"-march=native".to_string()));
    assert_eq!(i.link_command().join(" "), "clang -m64 -shared -Wl,-z,now");
    i.env.insert("LDSHARED".into(), "ld -shared".into());
    assert_eq!(i.link_command().join(" "), "ld -shared -Wl,-z,now");
}

#[test]
fn limited_api_blockers() {
    let mut i = Interpreter::example();
    assert_eq!(i.limited_api_blocker(), None);
    i.free_threaded = true;
    assert!(i.limited_api_blocker().unwrap().contains("free-threaded"));
    assert_eq!(Interpreter::example().target_triple(), "x86_64-unknown-linux-gnu");
}

/// A fake compiler (a shell script) that records its argv and writes the
/// `-o` file: the command lines cc and the linker step run, without a toolchain.
#[test]
fn fake_compiler_records_argv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("m.c"), "int x;\n").unwrap();
    let log_file = d.join("argv.log");
    let script = d.join("fakecc");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\nwhile [ $# -gt 0 ]; do if [ \"$1\" = -o ]; then : > \"$2\"; fi; shift; done\n",
            log_file.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut i = Interpreter::example();
    i.cc = script.display().to_string();
    i.ldshared = format!("{} -shared", script.display());
    i.env.insert("PATH".into(), std::env::var("PATH").unwrap_or_default());
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let log: Arc<Log> = Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_string()));
    let opts = CompileOptions { verbose: true, ..Default::default() };
    let out = compile_module(&i, &job(d), &opts, log).unwrap();
    assert!(out.is_file());
    let argv = std::fs::read_to_string(&log_file).unwrap();
    let calls: Vec<&str> = argv.lines().filter(|l| l.contains("m.c") || l.contains("-shared")).collect();
    assert_eq!(calls.len(), 2, "{argv}");
    assert!(calls[0].contains("-DPy_LIMITED_API=0x03090000") && calls[0].contains(" -c "), "{}", calls[0]);
    assert!(calls[1].starts_with("-shared ") && calls[1].ends_with(&format!("-lc -o {}", out.display())), "{}", calls[1]);
    let logged = lines.lock().unwrap().join("\n");
    assert!(logged.contains("[pkg._m_cffi] compile: "), "{logged}");
    assert!(logged.contains("[pkg._m_cffi] link: "), "{logged}");
}

/// The facts of the `python3` on PATH, as the shim would gather them.
pub(crate) fn host_interpreter() -> Option<Interpreter> {
    let code = r#"
import json, sys, sysconfig, platform
v = sysconfig.get_config_var
print(json.dumps({
  "implementation": sys.implementation.name, "version": list(sys.version_info[:2]),
  "ext_suffix": v("EXT_SUFFIX"), "include_dirs": [sysconfig.get_path("include")],
  "cc": v("CC"), "cflags": v("CFLAGS"), "ccshared": v("CCSHARED"), "ldshared": v("LDSHARED"),
  "machine": platform.machine(), "platform": sysconfig.get_platform(), "libc": "glibc",
  "sizeof_int": v("SIZEOF_INT"), "sizeof_long": v("SIZEOF_LONG"),
  "env": {"PATH": __import__("os").environ.get("PATH", "")}}))
"#;
    let out = std::process::Command::new("python3").args(["-c", code]).output().ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

const EXT: &str = r#"
#include <Python.h>
static PyObject *twice(PyObject *self, PyObject *arg) {
    return PyLong_FromLong(2 * PyLong_AsLong(arg));
}
static PyMethodDef methods[] = {{"twice", twice, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "plain", NULL, -1, methods};
PyMODINIT_FUNC PyInit_plain(void) { return PyModule_Create(&def); }
"#;

/// Compiles a plain C extension with the real toolchain, imports it and calls it.
#[test]
fn real_compile_link_and_import() {
    let Some(i) = host_interpreter() else {
        panic!("python3 with sysconfig is needed for this test");
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("plain.c"), EXT).unwrap();
    let j = CompileJob {
        module: "plain".into(),
        sources: vec![d.join("plain.c")],
        include_dirs: vec![],
        library_dirs: vec![],
        libraries: vec![],
        define_macros: vec![],
        extra_compile_args: vec![],
        extra_link_args: vec![],
        limited_api: Some(9),
        output: d.join("pkg/plain.abi3.so"),
        obj_dir: d.join("obj"),
    };
    let log: Arc<Log> = Arc::new(|l: &str| eprintln!("{l}"));
    let outs = compile_all(&i, &[j], &CompileOptions::default(), log).unwrap();
    let out = std::process::Command::new("python3")
        .current_dir(d.join("pkg"))
        .args(["-c", "import plain; print(plain.twice(21))"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42", "{}", String::from_utf8_lossy(&out.stderr));
    let info = crate::portable::elf::read_elf(&std::fs::read(&outs[0]).unwrap()).unwrap();
    assert!(info.needed.iter().any(|n| n.starts_with("libc.so")), "{:?}", info.needed);
}

/// A compile error names the module and carries the compiler's message.
#[test]
fn compile_error_names_the_module() {
    let Some(i) = host_interpreter() else {
        panic!("python3 with sysconfig is needed for this test");
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.c"), "int f(void) { return undeclared_thing; }\n").unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let log: Arc<Log> = Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_string()));
    let j = CompileJob {
        module: "pkg._bad_cffi".into(),
        sources: vec![d.join("bad.c")],
        include_dirs: vec![],
        library_dirs: vec![],
        libraries: vec!["definitely_not_a_library".into()],
        define_macros: vec![],
        extra_compile_args: vec![],
        extra_link_args: vec![],
        limited_api: None,
        output: d.join("bad.so"),
        obj_dir: d.join("obj"),
    };
    let err = compile_all(&i, &[j.clone()], &CompileOptions::default(), log).unwrap_err().to_string();
    assert!(err.starts_with("module pkg._bad_cffi: compiling failed"), "{err}");
    let logged = lines.lock().unwrap().join("\n");
    assert!(logged.contains("[pkg._bad_cffi] ") && logged.contains("undeclared_thing"), "{logged}");

    // A missing library fails at link time, naming the module and the library.
    std::fs::write(d.join("bad.c"), "int f(void) { return 1; }\n").unwrap();
    let log: Arc<Log> = Arc::new(|_: &str| {});
    let err = compile_all(&i, &[j], &CompileOptions::default(), log).unwrap_err().to_string();
    assert!(err.starts_with("module pkg._bad_cffi: linking failed"), "{err}");
    assert!(err.contains("definitely_not_a_library"), "{err}");
}
