"""A module split into several translation units (`-C split=N`) behaves as
the single file does: same calls, same results, nothing but its PyInit_
exported; `extern "Python"` callbacks work; and a preamble that defines
anything keeps the module in one file."""
import shutil
import subprocess
import zipfile

from conftest import FIXTURES, PY, build_wheel, run, validate_wheel


def exported(so):
    out = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True, check=True).stdout
    return sorted(line.split()[2] for line in out.splitlines() if len(line.split()) == 3)


def test_a_split_module_calls_the_same_and_exports_only_its_init(tmp_path, fresh_venv, wheelhouse):
    out = tmp_path / "out"
    p = build_wheel(FIXTURES / "zlibcffi", out, settings=["split=3", "no-cache=true", "verbose=true"])
    whl = next(out.glob("*.whl"))
    validate_wheel(whl)
    with zipfile.ZipFile(whl) as z:
        so_name = next(n for n in z.namelist() if n.endswith(".so"))
        (tmp_path / "m.so").write_bytes(z.read(so_name))
    assert exported(tmp_path / "m.so") == ["PyInit__zlib_cffi"]
    build_dir = tmp_path / "build-out" / "zlibcffi._zlib_cffi"
    parts = sorted(build_dir.glob("*.part*.c"))
    assert len(parts) == 4, parts  # the tables and three parts of wrappers
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, whl)
    fresh_venv.run(
        "-c",
        "import zlib, zlibcffi\n"
        "data = b'split' * 99\n"
        "assert zlibcffi.crc32(data) == zlib.crc32(data)\n"
        "assert zlibcffi.adler32(data) == zlib.adler32(data)\n"
        "assert zlibcffi.decompress(zlibcffi.compress(data), len(data)) == data\n",
    )


def test_a_preamble_with_code_is_not_split(tmp_path):
    src = tmp_path / "extrasrc"
    shutil.copytree(FIXTURES / "extrasrc", src, ignore=shutil.ignore_patterns("build"))
    csrc = next((src / "src" / "extrasrc").glob("*.csrc.c"))
    csrc.write_text(csrc.read_text() + "\nstatic int hw_state;\n")
    code = ("import os, sys; os.chdir(sys.argv[1]); import headerwheel as h; "
            "h.build_wheel(sys.argv[2], {'build-dir': sys.argv[3], 'split': '2', 'no-cache': 'true'})")
    p = run([PY, "-c", code, src, tmp_path / "o", tmp_path / "b"])
    assert "compiled as one file: the split needs a preamble of preprocessor lines and declarations only" in p.stderr, p.stderr
    assert not list((tmp_path / "b").rglob("*.part*.c"))


def test_extern_python_callbacks_work_in_a_split_module(tmp_path, fresh_venv, wheelhouse):
    """`extern "Python"` functions stay in part 0 with their records; the
    preamble's static prototype of the callback is a declaration, which
    every part may hold."""
    p = tmp_path / "cbsplit"
    pkg = p / "src" / "cbsplit"
    pkg.mkdir(parents=True)
    (p / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["headerwheel"]\nbuild-backend = "headerwheel"\n'
        '[project]\nname = "cbsplit"\nversion = "1.0"\n'
    )
    (pkg / "__init__.py").write_text(
        "from cbsplit._cb_cffi import ffi, lib\n\n"
        "@ffi.def_extern()\n"
        "def cmp(a, b):\n"
        "    x, y = ffi.cast('int *', a)[0], ffi.cast('int *', b)[0]\n"
        "    return (x > y) - (x < y)\n\n"
        "def sort_ints(values):\n"
        "    arr = ffi.new('int[]', values)\n"
        "    lib.qsort(arr, len(values), ffi.sizeof('int'), lib.cmp)\n"
        "    return list(arr)\n"
    )
    (pkg / "_cb.cdef.txt").write_text(
        'extern "Python" int cmp(const void *, const void *);\n'
        "void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *));\n"
        "int abs(int);\nlong labs(long);\nsize_t strlen(const char *);\nint atoi(const char *);\n"
    )
    (pkg / "_cb.csrc.c").write_text(
        "#include <stdlib.h>\n#include <string.h>\n\n"
        "/* the callback, defined by CFFI below */\n"
        "static int cmp(const void *, const void *);\n"
    )
    out = tmp_path / "out"
    build_wheel(p, out, settings=["split=2", "no-cache=true"])
    parts = sorted((tmp_path / "build-out" / "cbsplit._cb_cffi").glob("*.part*.c"))
    assert len(parts) == 3, parts
    assert "_cffi_externpy__cmp =" in parts[0].read_text()
    assert not any("_cffi_externpy__cmp" in q.read_text() for q in parts[1:])
    whl = next(out.glob("*.whl"))
    with zipfile.ZipFile(whl) as z:
        so_name = next(n for n in z.namelist() if n.endswith(".so"))
        (tmp_path / "m.so").write_bytes(z.read(so_name))
    assert exported(tmp_path / "m.so") == ["PyInit__cb_cffi"]
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, whl)
    got = fresh_venv.run(
        "-c",
        "import cbsplit\n"
        "from cbsplit import lib\n"
        "print(cbsplit.sort_ints([5, -2, 9, 0, 3]), lib.abs(-4), lib.strlen(b'abc'), lib.atoi(b'42'))\n",
    ).stdout.strip()
    assert got == "[-2, 0, 3, 5, 9] 4 3 42"
