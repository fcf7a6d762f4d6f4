"""Headers → cdef with libclang, end to end: real library headers (their
cdef accepted by CFFI 2.1.1 and by our parser, compiled, imported, a version
function called), a project header covering the hard constructs (layouts
checked against the C compiler), the nng example, and the .headerkit store
(a cached build needs no libclang; a changed header is never served stale)."""
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, PY, ROOT, build_wheel, run, validate_wheel

HW = [PY, "-m", "headerwheel"]

REAL = [
    ("zstd", "/usr/include/zstd.h", "#include <zstd.h>", "libzstd", "lib.ZSTD_versionNumber()", None),
    ("nng", "/usr/include/nng/nng.h", "#include <nng/nng.h>", "nng", "ffi.string(lib.nng_version()).decode()", None),
    ("sqlite3", "/usr/include/sqlite3.h", "#include <sqlite3.h>", "sqlite3", "ffi.string(lib.sqlite3_libversion()).decode()", None),
    ("sodium", "/usr/include/sodium.h", "#include <sodium.h>", "libsodium", "ffi.string(lib.sodium_version_string()).decode()", None),
    ("git2", "/usr/include/git2.h", "#include <git2.h>", "libgit2", "ffi.new('int[3]')", "git_libgit2_version"),
]


def pkg_version(name):
    if name == "nng":
        # libnng-dev ships no .pc file: read the version macros of its header.
        text = Path("/usr/include/nng/nng.h").read_text()
        parts = [re.search(r"#define NNG_%s_VERSION (\d+)" % k, text).group(1) for k in ("MAJOR", "MINOR", "PATCH")]
        return ".".join(parts)
    p = subprocess.run(["pkg-config", "--modversion", name], capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


@pytest.mark.parametrize("lib,header,include,pc,call,fn", REAL, ids=[r[0] for r in REAL])
def test_real_header_gives_a_working_module(tmp_path, lib, header, include, pc, call, fn):
    if not Path(header).exists():
        pytest.fail("%s is missing: scripts/setup installs it" % header)
    cdef = tmp_path / (lib + ".cdef")
    p = run(HW + ["generate", header, "-l", lib, "-o", cdef])
    assert "declarations in" in p.stderr
    text = cdef.read_text()
    # Our own parser and emitter accept it.
    csrc = tmp_path / "csrc.c"
    csrc.write_text(include + "\n")
    run(HW + ["gen-src", "read-sources", "_m_" + lib, cdef, csrc, tmp_path / "out.c"])
    # CFFI accepts it, and the module compiles, imports and calls into the library.
    code = (
        "import sys, importlib, cffi\n"
        "ffi = cffi.FFI(); ffi.cdef(open(sys.argv[1]).read())\n"
        "ffi.set_source(sys.argv[2], sys.argv[3], libraries=[sys.argv[4]])\n"
        "ffi.compile(tmpdir=sys.argv[5])\n"
        "sys.path.insert(0, sys.argv[5])\n"
        "m = importlib.import_module(sys.argv[2]); lib, ffi = m.lib, m.ffi\n"
        "if sys.argv[7] != 'None':\n"
        "    v = ffi.new('int[3]'); getattr(lib, sys.argv[7])(v, v+1, v+2); print('%d.%d.%d' % (v[0], v[1], v[2]))\n"
        "else:\n"
        "    print(eval(sys.argv[6]))\n"
    )
    out = run([PY, "-c", code, cdef, "_chk_" + lib, include, lib, tmp_path, call, str(fn)]).stdout.strip()
    expected = pkg_version(pc)
    if lib == "zstd":
        major, minor, patch = (int(x) for x in expected.split("."))
        assert int(out) == major * 10000 + minor * 100 + patch
    elif expected:
        assert out == expected, (out, expected)


def test_project_header_constructs_have_the_compilers_layout(tmp_path, fresh_venv, wheelhouse):
    out = tmp_path / "out"
    src = tmp_path / "localhdr"
    shutil.copytree(FIXTURES / "localhdr", src)
    build_wheel(src, out)
    whl = next(out.glob("*.whl"))
    validate_wheel(whl)
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, whl)
    # The C compiler's answers.
    prog = tmp_path / "layout.c"
    prog.write_text(
        '#include <stdio.h>\n#include <stddef.h>\n#include "shapes.h"\n'
        "int main(void) { printf(\"%zu %zu %zu %zu %zu %zu %zu %zu\\n\", sizeof(shape), offsetof(shape, center),"
        " offsetof(shape, flags), offsetof(shape, id), offsetof(shape, area), offsetof(shape, grid),"
        " sizeof(struct flags), sizeof(struct packed_rec)); return 0; }\n"
    )
    run(["cc", "-I", src / "include", prog, "-o", tmp_path / "layout"])
    want = run([tmp_path / "layout"]).stdout.split()
    code = (
        "from localhdr import ffi, lib\n"
        "print(ffi.sizeof('shape'), ffi.offsetof('shape', 'center'), ffi.offsetof('shape', 'flags'),"
        " ffi.offsetof('shape', 'id'), ffi.offsetof('shape', 'area'), ffi.offsetof('shape', 'grid'),"
        " ffi.sizeof('struct flags'), ffi.sizeof('struct packed_rec'))\n"
        "s = ffi.new('shape *'); lib.shape_init(s, lib.SHAPE_SQUARE, 3.0)\n"
        "assert lib.shape_area(s) == 9.0 and s.flags.layer == 3 and s.flags.visible == 1 and s.id == 42\n"
        "assert [list(r) for r in s.grid] == [[0, 1, 2], [3, 4, 5]]\n"
        "assert lib.packed_size() == ffi.sizeof('struct packed_rec')\n"
        "assert lib.sum_ints(3, ffi.cast('int', 1), ffi.cast('int', 2), ffi.cast('int', 39)) == 42\n"
        "h = lib.handle_new(7); assert lib.handle_get(h) == 7; lib.handle_free(h)\n"
        "assert lib.SHAPES_MAX == 201 and lib.SHAPES_LIMIT == 7\n"
        "try:\n    ffi.sizeof('opaque_handle')\nexcept ffi.error:\n    pass\nelse:\n    raise AssertionError('opaque type has a size')\n"
    )
    got = fresh_venv.run("-c", code).stdout.split()
    assert got == want


def test_nng_example_builds_with_isolation_and_runs(tmp_path, fresh_venv, hw_dist, wheelhouse):
    src = tmp_path / "nng"
    shutil.copytree(ROOT / "examples" / "nng", src, ignore=shutil.ignore_patterns(".headerkit"))
    out = tmp_path / "out"
    build_wheel(src, out, isolation=True, hw_dist=hw_dist, wheelhouse=wheelhouse)
    whl = next(out.glob("*.whl"))
    validate_wheel(whl)
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, whl)
    p = fresh_venv.run("-m", "nngpair")
    assert p.stdout.strip() == "nng %s received: hello from headerwheel" % pkg_version("nng")
    # The cdef was stored for the next build.
    assert list((src / ".headerkit" / "entries").iterdir())


def test_cached_build_needs_no_libclang_and_is_never_stale(tmp_path):
    src = tmp_path / "localhdr"
    shutil.copytree(FIXTURES / "localhdr", src)
    first = build_wheel(src, tmp_path / "o1")
    no_clang = {"HEADERWHEEL_NO_LIBCLANG": "1"}
    cmd = [PY, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "o2",
           "-C", "build-dir=%s" % (tmp_path / "b2"), src]
    p = run(cmd, env=no_clang)
    w1 = next((tmp_path / "o1").glob("*.whl")).read_bytes()
    w2 = next((tmp_path / "o2").glob("*.whl")).read_bytes()
    assert w1 == w2
    # A header change is a miss: without libclang the build fails clearly...
    h = src / "include" / "shapes.h"
    h.write_text(h.read_text().replace("int sum_ints(int n, ...);", "int sum_ints(int n, ...);\nint answer(void);"))
    (src / "csrc" / "shapes.c").write_text((src / "csrc" / "shapes.c").read_text() + "\nint answer(void) { return 42; }\n")
    cmd3 = [PY, "-c", "import os, sys; os.chdir(sys.argv[1]); import headerwheel as h; h.build_wheel(sys.argv[2])", src, tmp_path / "o3"]
    p = run(cmd3, env=no_clang, check=False)
    assert p.returncode == 1 and "libclang is disabled" in p.stderr, p.stderr
    # ...and with libclang the new declaration is there.
    run(cmd3)
    with zipfile.ZipFile(next((tmp_path / "o3").glob("*.whl"))) as z:
        so = [n for n in z.namelist() if n.endswith(".so")][0]
        assert b"answer" in z.read(so)


def test_unset_environment_variable_is_an_error_naming_the_key(tmp_path):
    src = tmp_path / "localhdr"
    shutil.copytree(FIXTURES / "localhdr", src)
    pp = src / "pyproject.toml"
    pp.write_text(pp.read_text().replace('include_dirs = ["include"]', 'include_dirs = ["${HW_TEST_UNSET_VAR}"]'))
    code = "import os, sys; os.chdir(sys.argv[1]); import headerwheel as h; h.build_wheel(sys.argv[2])"
    p = run([PY, "-c", code, src, tmp_path / "o"], check=False, env={"HW_TEST_UNSET_VAR": ""} if False else None)
    assert p.returncode == 1
    assert "pyproject.toml:13:17: tool.headerkit.include_dirs[0]: the environment variable 'HW_TEST_UNSET_VAR' is not set" in p.stderr, p.stderr


def test_damaged_store_is_reported_ignored_and_healed(tmp_path):
    src = tmp_path / "localhdr"
    shutil.copytree(FIXTURES / "localhdr", src)
    build_wheel(src, tmp_path / "o1")
    store = src / ".headerkit"
    # Two layers: the header model and the cdef.
    assert run(HW + ["cache", "verify", store]).stdout.startswith("2 objects and 2 entries verified")
    for obj in [p for p in (store / "objects").rglob("*") if p.is_file()]:
        obj.write_bytes(obj.read_bytes()[:100])  # truncated
    p = run(HW + ["cache", "verify", store], check=False)
    assert p.returncode == 1 and "damaged" in p.stdout
    # A build never serves the truncated cdef: it regenerates, and the store heals.
    p = build_wheel(src, tmp_path / "o2")
    w1 = next((tmp_path / "o1").glob("*.whl")).read_bytes()
    w2 = next((tmp_path / "o2").glob("*.whl")).read_bytes()
    assert w1 == w2
    assert run(HW + ["cache", "verify", store]).returncode == 0
    # Stores merge by union (CI populating one platform's entries).
    other = tmp_path / "other"
    run(HW + ["cache", "merge", store, other])
    assert run(HW + ["cache", "verify", other]).stdout.startswith("2 objects and 2 entries verified")
