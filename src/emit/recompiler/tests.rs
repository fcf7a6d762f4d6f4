//! Exact vectors for the recompiler, ported from CFFI 2.1.1's
//! `testing/cffi1/test_recompiler.py` (`check_type_table`) and checked
//! against `cffi` itself: small tables that fail fast and say precisely
//! which opcode is wrong, before any corpus case or compiler runs.

use super::ops::op_class_name;
use super::*;
use crate::cdef::{CdefInput, IncludedFfi};
use crate::emit::CffiRuntime;

/// CFFI's `str(CffiOp)`: `(CLASSNAME arg)`, `(None arg)` for a raw length.
fn op_str(slot: &Slot) -> String {
    match slot {
        Slot::Op(CffiOp { op: Some(op), arg }) => format!("({} {arg})", op_class_name(*op)),
        Slot::Op(CffiOp { op: None, arg }) => format!("(None {arg})"),
        other => panic!("unfilled type table slot {other:?}"),
    }
}

fn parse(types: &mut Types, included: Option<&str>, input: &str) -> Ffi {
    let mut ffi = Ffi::new();
    if let Some(inc) = included {
        let mut ffi1 = Ffi::new();
        ffi1.cdef(types, &CdefInput::new(inc, ""))
            .expect("included cdef parses");
        ffi.include(
            types,
            &ffi1,
            IncludedFfi {
                module_name: "included".into(),
                abi_mode: false,
            },
        )
        .expect("include works");
    }
    ffi.cdef(types, &CdefInput::new(input, ""))
        .expect("cdef parses");
    ffi
}

/// CFFI's `check_type_table(input, expected_output, included)`.
fn check_type_table_incl(input: &str, expected: &str, included: Option<&str>) {
    let mut types = Types::new();
    let ffi = parse(&mut types, included, input);
    let options = EmitOptions::default();
    let mut r = Recompiler::new(&mut types, &ffi, "testmod", false, &options);
    r.collect_type_table().expect("type table");
    let got: String = r.cffi_types.iter().map(op_str).collect();
    assert_eq!(got, expected, "type table of {input:?}");
}

fn check_type_table(input: &str, expected: &str) {
    check_type_table_incl(input, expected, None);
}

#[test]
fn type_table_func() {
    check_type_table(
        "double sin(double);",
        "(FUNCTION 1)(PRIMITIVE 14)(FUNCTION_END 0)",
    );
    check_type_table(
        "float sin(double);",
        "(FUNCTION 3)(PRIMITIVE 14)(FUNCTION_END 0)(PRIMITIVE 13)",
    );
    check_type_table(
        "float sin(void);",
        "(FUNCTION 2)(FUNCTION_END 0)(PRIMITIVE 13)",
    );
    check_type_table(
        "double sin(float); double cos(float);",
        "(FUNCTION 3)(PRIMITIVE 13)(FUNCTION_END 0)(PRIMITIVE 14)",
    );
    check_type_table(
        "double sin(float); double cos(double);",
        "(FUNCTION 1)(PRIMITIVE 14)(FUNCTION_END 0)(FUNCTION 1)(PRIMITIVE 13)(FUNCTION_END 0)",
    );
    check_type_table(
        "float sin(double); float cos(float);",
        "(FUNCTION 4)(PRIMITIVE 14)(FUNCTION_END 0)(FUNCTION 4)(PRIMITIVE 13)(FUNCTION_END 0)",
    );
}

#[test]
fn type_table_use_noop_for_repeated_args() {
    check_type_table(
        "double sin(double *, double *);",
        "(FUNCTION 4)(POINTER 4)(NOOP 1)(FUNCTION_END 0)(PRIMITIVE 14)",
    );
    check_type_table(
        "double sin(double *, double *, double);",
        "(FUNCTION 3)(POINTER 3)(NOOP 1)(PRIMITIVE 14)(FUNCTION_END 0)",
    );
}

#[test]
fn type_table_dont_use_noop_for_primitives() {
    check_type_table(
        "double sin(double, double);",
        "(FUNCTION 1)(PRIMITIVE 14)(PRIMITIVE 14)(FUNCTION_END 0)",
    );
}

#[test]
fn type_table_funcptr_as_argument() {
    check_type_table(
        "int sin(double(float));",
        "(FUNCTION 6)(PRIMITIVE 13)(FUNCTION_END 0)(FUNCTION 7)(POINTER 0)(FUNCTION_END 0)(PRIMITIVE 14)(PRIMITIVE 7)",
    );
}

#[test]
fn type_table_variadic_function() {
    check_type_table(
        "int sin(int, ...);",
        "(FUNCTION 1)(PRIMITIVE 7)(FUNCTION_END 1)(POINTER 0)",
    );
}

#[test]
fn type_table_array_typedef_prebuilt() {
    check_type_table("int a[100];", "(PRIMITIVE 7)(ARRAY 0)(None 100)");
    check_type_table("typedef int foo_t;", "(PRIMITIVE 7)");
    check_type_table(
        "int32_t f(void);",
        "(FUNCTION 2)(FUNCTION_END 0)(PRIMITIVE 21)",
    );
}

#[test]
fn type_table_structs_unions_enums() {
    check_type_table("struct foo_s;", "(STRUCT_UNION 0)");
    check_type_table(
        "struct foo_s { int a; long b; };",
        "(PRIMITIVE 7)(PRIMITIVE 9)(STRUCT_UNION 0)",
    );
    check_type_table(
        "union foo_u { int a; long b; };",
        "(PRIMITIVE 7)(PRIMITIVE 9)(STRUCT_UNION 0)",
    );
    check_type_table(
        "struct foo_s { int a; long b; }; int f(struct foo_s*);",
        "(FUNCTION 3)(POINTER 5)(FUNCTION_END 0)(PRIMITIVE 7)(PRIMITIVE 9)(STRUCT_UNION 0)",
    );
    check_type_table(
        "typedef struct { int a; long b; } foo_t;",
        "(STRUCT_UNION 0)(PRIMITIVE 7)(PRIMITIVE 9)",
    );
    check_type_table("enum foo_e { AA, BB, ... };", "(ENUM 0)");
}

#[test]
fn type_table_include() {
    check_type_table_incl(
        "foo_t sin(foo_t);",
        "(FUNCTION 1)(PRIMITIVE 14)(FUNCTION_END 0)",
        Some("typedef double foo_t;"),
    );
    check_type_table_incl(
        "struct foo_s *sin(struct foo_s *);",
        "(FUNCTION 1)(POINTER 3)(FUNCTION_END 0)(STRUCT_UNION 0)",
        Some("struct foo_s { int x, y; };"),
    );
}

// ---- host facts (EmitOptions): not covered by the corpus, which was
// recorded on LP64 with a GIL build.

/// A stand-in for CFFI's headers: the splice points are all the emitter
/// relies on.
fn fake_runtime() -> CffiRuntime {
    CffiRuntime {
        include_h: "/* include.h */\n#include \"parse_c_type.h\"\n/* end include.h */\n".into(),
        parse_c_type_h: "/* parse_c_type.h */\n".into(),
        errors_h: "/* errors.h */\n".into(),
        embedding_h: "/* embedding.h */\n#include \"_cffi_errors.h\"\n".into(),
    }
}

fn c_out(cdef: &str, options: &EmitOptions) -> Result<String, EmitError> {
    crate::emit::c_source(
        "m",
        &[CdefInput::new(cdef, "")],
        "",
        &fake_runtime(),
        options,
    )
}

fn py_out(cdef: &str, options: &EmitOptions) -> Result<String, EmitError> {
    crate::emit::py_source("m", &[CdefInput::new(cdef, "")], options)
}

#[test]
fn headers_are_spliced_and_limited_api_define_only_when_asked() {
    let lp64 = EmitOptions::default();
    let with_limited = c_out("int f(int);", &lp64).unwrap();
    assert!(
        with_limited.starts_with("/* include.h */\n/* parse_c_type.h */\n/* end include.h */\n\n"),
        "{with_limited:.200}"
    );
    assert!(!with_limited.contains("_CFFI_NO_LIMITED_API"));
    let free_threaded = EmitOptions {
        no_limited_api: true,
        ..lp64
    };
    let without = c_out("int f(int);", &free_threaded).unwrap();
    assert_eq!(
        without,
        format!("#define _CFFI_NO_LIMITED_API\n{with_limited}")
    );
}

#[test]
fn embedding_define_comes_before_the_limited_api_one() {
    let mut types = Types::new();
    let mut ffi = Ffi::new();
    ffi.embedding_api(&mut types, &CdefInput::new("int add(int, int);", ""))
        .unwrap();
    ffi.embedding_init_code("from m import ffi\n").unwrap();
    let options = EmitOptions {
        no_limited_api: true,
        ..EmitOptions::default()
    };
    let out =
        crate::emit::emit_c(&mut types, &ffi, "pkg.m", "", &fake_runtime(), &options).unwrap();
    assert!(out.starts_with(
        "#define _CFFI_USE_EMBEDDING\n#define _CFFI_NO_LIMITED_API\n/* include.h */\n"
    ));
    // _cffi_errors.h is spliced into _embedding.h, and the module name is the
    // full dotted one while the init function uses the last part.
    assert!(out.contains("#define _CFFI_MODULE_NAME  \"pkg.m\"\n"));
    assert!(out.contains("/* embedding.h */\n/* errors.h */\n"));
    assert!(out.contains("# define _CFFI_PYTHON_STARTUP_FUNC  PyInit_m\n"));
    assert!(out.contains("CFFI_DLLEXPORT int add(int a0, int a1)\n"));
    assert!(out.contains("  return _cffi_init(\"pkg.m\", 0x2701, &_cffi_type_context);\n"));
}

#[test]
fn anonymous_enum_size_follows_sizeof_int() {
    // cffi 2.1.1, LP64: `  { "$1", 0, _cffi_prim_int(4, 0),`
    let out = c_out("enum { AA, BB };", &EmitOptions::default()).unwrap();
    assert!(out.contains("  { \"$1\", 0, _cffi_prim_int(4, 0),\n"));
    let ilp16 = EmitOptions {
        sizeof_int: 2,
        sizeof_long: 4,
        ..EmitOptions::default()
    };
    let out = c_out("enum { AA, BB };", &ilp16).unwrap();
    assert!(out.contains("  { \"$1\", 0, _cffi_prim_int(2, 0),\n"));
    // A named enum is measured by the C compiler instead.
    let out = c_out("enum e { AA, BB };", &ilp16).unwrap();
    assert!(out.contains("_cffi_prim_int(sizeof(enum e), ((enum e)-1) <= 0),\n"));
}

#[test]
fn abi_mode_enum_base_type_follows_sizeof_long() {
    // cffi 2.1.1, LP64: the values need a signed 64-bit 'long' (PRIM_INT64 = 0x17).
    let cdef = "enum e { A = -1, B = 2147483648 };";
    let out = py_out(cdef, &EmitOptions::default()).unwrap();
    assert_eq!(
        out,
        "# auto-generated file\nimport _cffi_backend\n\nffi = _cffi_backend.FFI('m',\n    _version = 0x2601,\n    _types = b'\\x00\\x00\\x00\\x0B',\n    _globals = (b'\\xFF\\xFF\\xFF\\x0BA',-1,b'\\xFF\\xFF\\xFF\\x0BB',2147483648),\n    _enums = (b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x17e\\x00A,B',),\n)\n"
    );
    // LLP64 (Windows): 'long' is 4 bytes too, so nothing holds them.
    let llp64 = EmitOptions {
        sizeof_long: 4,
        ..EmitOptions::default()
    };
    let e = py_out(cdef, &llp64).unwrap_err();
    assert!(
        e.to_string()
            .contains("enum e values don't all fit into either 'long' or 'unsigned long'"),
        "{}",
        e
    );
    // Unsigned values up to 2**32-1 fit an 'unsigned int' (PRIM_UINT32 = 0x16).
    let out = py_out("enum u { X = 4294967295 };", &llp64).unwrap();
    assert!(out.contains("\\x00\\x00\\x00\\x16u\\x00X'"), "{out}");
}

#[test]
fn limited_api_as_cffi_decides_it() {
    use crate::emit::CffiVersion::{V1_17, V2_0, V2_1};
    let opts = |v, ft, c| EmitOptions::for_interpreter(v, ft, 4, 8, c).no_limited_api;
    assert!(!opts((3, 11), false, V2_1));
    assert!(!opts((3, 13), false, V2_1));
    assert!(
        opts((3, 13), true, V2_1),
        "3.13t cannot use the limited API"
    );
    assert!(
        opts((3, 14), true, V2_1),
        "3.14t cannot use the limited API"
    );
    assert!(!opts((3, 15), true, V2_1), "3.15t supports the stable ABI");
    // cffi 2.0 never uses it on a free-threaded build, 1.17 always does.
    assert!(opts((3, 15), true, V2_0));
    assert!(!opts((3, 14), false, V2_0));
    assert!(!opts((3, 14), true, V1_17));
    let llp64 = EmitOptions::for_interpreter((3, 12), false, 4, 4, V2_1);
    assert_eq!((llp64.sizeof_int, llp64.sizeof_long), (4, 4));
    assert_eq!(
        EmitOptions::for_interpreter((3, 11), false, 4, 8, V2_1),
        EmitOptions::default()
    );
}

#[test]
fn errors_while_emitting_name_the_declaration_and_its_line() {
    let input = CdefInput::new("int ok;\nstruct s { int a[3000000000]; };\n", "s.cdef");
    let e = crate::emit::py_source("_m", &[input], &EmitOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "s.cdef:2:8: struct s: type 'int[3000000000]': cannot emit '3000000000': limited to 2**31-1"
    );
}

#[test]
fn every_cdef_error_is_reported_at_once() {
    let input = CdefInput::new("int f(int);\nfoo_t g(void);\nint h(bar_t);\n", "m.cdef");
    let e = crate::emit::py_source("_m", &[input], &EmitOptions::default()).unwrap_err();
    assert!(matches!(&e, crate::emit::EmitError::Cdef(errors) if errors.len() == 2));
    let message = e.to_string();
    let lines: Vec<&str> = message
        .lines()
        .filter(|l| l.starts_with("m.cdef:"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", e);
    assert!(
        lines[0].starts_with("m.cdef:2:1: cannot parse: unknown type name 'foo_t'"),
        "{}",
        e
    );
    assert!(
        lines[1].starts_with("m.cdef:3:7: h arg 1: unknown type 'bar_t'"),
        "{}",
        e
    );
    assert!(e.to_string().ends_with("2 errors in the cdef"), "{}", e);
}

/// Headers that only carry the lines the writer splices at.
fn bare_runtime() -> CffiRuntime {
    CffiRuntime {
        include_h: "#include \"parse_c_type.h\"\n".into(),
        parse_c_type_h: String::new(),
        errors_h: String::new(),
        embedding_h: "#include \"_cffi_errors.h\"\n".into(),
    }
}

/// An embedding module with non-ASCII init code and a long enum, as each
/// cffi series writes it (the fragments are cffi 2.0.0's and 2.1.1's output
/// for the same FFI).
#[test]
fn each_cffi_version_writes_its_own_text() {
    use crate::emit::CffiVersion::{V1_15, V1_16, V1_17, V2_0, V2_1};
    let emit = |cffi_version| {
        let mut types = Types::new();
        let mut ffi = Ffi::new();
        ffi.embedding_api(&mut types, &CdefInput::new("int f(void);", ""))
            .unwrap();
        ffi.embedding_init_code("s = '\u{e9}'\n").unwrap();
        let enumerators: Vec<String> = (0..12).map(|i| format!("E_NUMBER_{i}")).collect();
        let cdef = format!(
            "enum e {{ {} }};\ntypedef struct {{ int x; }} *sp;",
            enumerators.join(", ")
        );
        ffi.cdef(&mut types, &CdefInput::new(&cdef, "")).unwrap();
        let options = EmitOptions {
            cffi_version,
            ..EmitOptions::default()
        };
        crate::emit::emit_c(&mut types, &ffi, "pkg._m", "", &bare_runtime(), &options).unwrap()
    };
    let old = emit(V2_0);
    assert_eq!(
        emit(V1_17),
        old.replace(
            "(size_t)(((char *)&((sp)4096)->x) - (char *)4096)",
            "((char *)&((sp)4096)->x) - (char *)4096"
        ),
        "1.17 differs from 2.0 only in offsets"
    );
    assert_eq!(
        emit(V1_16),
        emit(V1_17).replace(
            "((char *)&((sp)4096)->x) - (char *)4096",
            "((char *)&((sp)0)->x) - (char *)0"
        ),
        "1.16 differs from 1.17 only in offsets (without complex types)"
    );
    assert_eq!(emit(V1_15), emit(V1_16));
    let new = emit(V2_1);
    let all = "E_NUMBER_0,E_NUMBER_1,E_NUMBER_2,E_NUMBER_3,E_NUMBER_4,E_NUMBER_5,\
               E_NUMBER_6,E_NUMBER_7,E_NUMBER_8,E_NUMBER_9,";
    let has = |text: &str, fragment: &str| {
        assert!(text.contains(fragment), "{fragment}\nnot in:\n{text}");
    };
    has(&old, &format!("    \"{all}E_NUMBER_10,E_NUMBER_11\" }},\n"));
    has(
        &new,
        &format!("    \"{all}\"\n    \"E_NUMBER_10,E_NUMBER_11\" }},\n"),
    );
    has(
        &old,
        "// '# -*- encoding: utf8 -*-\\n\n\
         35,32,45,42,45,32,101,110,99,111,100,105,110,103,58,32,117,116,102,56,32,45,\n\
         42,45,10,\n\
         // \"s = '\\xc3\\xa9'\\n\n",
    );
    has(
        &new,
        "MSVC\n// \"s = '\\xc3\\xa9'\\n\n115,32,61,32,39,195,169,39,10,\n0 };\n",
    );
    has(
        &old,
        "#elif PY_MAJOR_VERSION >= 3\n# define _CFFI_PYTHON_STARTUP_FUNC  PyInit__m\n\
         #else\n# define _CFFI_PYTHON_STARTUP_FUNC  init_m\n#endif\n",
    );
    has(
        &new,
        "#else\n# define _CFFI_PYTHON_STARTUP_FUNC  PyInit__m\n#endif\n",
    );
    has(&old, "(size_t)(((char *)&((sp)4096)->x) - (char *)4096)");
    has(&new, "(size_t)(((char *)&((sp)4096)->x) - (char *)4096)");
    let tail = |text: &str| text[text.rfind("#ifdef PYPY_VERSION\n").unwrap()..].to_string();
    assert_eq!(
        tail(&old),
        "#ifdef PYPY_VERSION
PyMODINIT_FUNC
_cffi_pypyinit__m(const void *p[])
{
    if (((intptr_t)p[0]) >= 0x0A03) {
        _cffi_call_python_org = (void(*)(struct _cffi_externpy_s *, char *))p[1];
    }
    p[0] = (const void *)0x2701;
    p[1] = &_cffi_type_context;
#if PY_MAJOR_VERSION >= 3
    return NULL;
#endif
}
#  ifdef _MSC_VER
     PyMODINIT_FUNC
#  if PY_MAJOR_VERSION >= 3
     PyInit__m(void) { return NULL; }
#  else
     init_m(void) { }
#  endif
#  endif
#elif PY_MAJOR_VERSION >= 3
PyMODINIT_FUNC
PyInit__m(void)
{
  return _cffi_init(\"pkg._m\", 0x2701, &_cffi_type_context);
}
#else
PyMODINIT_FUNC
init_m(void)
{
  _cffi_init(\"pkg._m\", 0x2701, &_cffi_type_context);
}
#endif

#ifdef __GNUC__
#  pragma GCC visibility pop
#endif
"
    );
    assert_eq!(
        tail(&new),
        "#ifdef PYPY_VERSION
PyMODINIT_FUNC
_cffi_pypyinit__m(const void *p[])
{
    if (((intptr_t)p[0]) >= 0x0A03) {
        _cffi_call_python_org = (void(*)(struct _cffi_externpy_s *, char *))p[1];
    }
    p[0] = (const void *)0x2701;
    p[1] = &_cffi_type_context;
    return NULL;
}
#  ifdef _MSC_VER
     PyMODINIT_FUNC
     PyInit__m(void) { return NULL; }
#  endif
#else
PyMODINIT_FUNC
PyInit__m(void)
{
  return _cffi_init(\"pkg._m\", 0x2701, &_cffi_type_context);
}
#endif

#ifdef __GNUC__
#  pragma GCC visibility pop
#endif
"
    );
}

/// Before 1.17 cffi names the complex primitives as C99 does, in the type
/// table's comments (and so its order) as in declarations, and 1.15 puts the
/// qualifiers of a pointer to an array inside its parentheses (fragments of
/// cffi 1.15.1's and 1.16.0's output); the caller's arena keeps 1.17's names.
#[test]
fn cffi_before_1_17_spells_complex_types_as_c99() {
    use crate::emit::CffiVersion::{V1_15, V1_16, V1_17};
    let mut types = Types::new();
    let mut ffi = Ffi::new();
    let cdef = "double _Complex f(float _Complex);\nfloat _Complex *g(void);\n\
                int k(const int (*p)[5]);";
    ffi.cdef(&mut types, &CdefInput::new(cdef, "")).unwrap();
    let emit = |types: &mut Types, cffi_version| {
        let options = EmitOptions {
            cffi_version,
            ..EmitOptions::default()
        };
        crate::emit::emit_c(types, &ffi, "_m", "", &bare_runtime(), &options).unwrap()
    };
    let new = emit(&mut types, V1_17);
    let old = emit(&mut types, V1_16);
    assert!(new.contains("_cffi_double_complex_t"), "{new}");
    assert!(!old.contains("_cffi_double_complex_t"), "{old}");
    assert!(!old.contains("_cffi_float_complex_t"), "{old}");
    assert!(
        old.contains("static double _Complex _cffi_d_f(float _Complex x0)\n"),
        "{old}"
    );
    assert!(old.contains("// float _Complex *()(void)\n"), "{old}");
    assert!(
        old.contains("static int _cffi_d_k(int const (* x0)[5])\n"),
        "{old}"
    );
    let oldest = emit(&mut types, V1_15);
    assert_eq!(
        oldest,
        old.replace("int const (*", "int(const *"),
        "1.15 differs from 1.16 in pointers to arrays only"
    );
    assert!(
        oldest.contains("_CFFI_OP(_CFFI_OP_POINTER, 11), // int(const *)[5]\n"),
        "{oldest}"
    );
    assert_eq!(emit(&mut types, V1_17), new, "the arena is left as it was");
}
