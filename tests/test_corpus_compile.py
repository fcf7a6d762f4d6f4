"""Modules emitted by headerwheel compile, import and run: a sample of CFFI
corpus cases covering every wrapper kind is emitted with `headerwheel
gen-src --case-json`, compiled against the interpreter, imported through
_cffi_backend, and every lib attribute is read (constants are checked by
the module at import) and every no-argument function called."""
import json
import os
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import PY, ROOT, run

CORPUS = ROOT.parent / "shared" / "corpus" / "cffi"

KINDS = {
    "function 0 args": "_CFFI_OP_CPYTHON_BLTN_N",
    "function 1 arg": "_CFFI_OP_CPYTHON_BLTN_O",
    "function n args": "_CFFI_OP_CPYTHON_BLTN_V",
    "struct result": "_cffi_from_c_struct",
    "struct argument": "_cffi_to_c((char *)&",
    "variadic": "_CFFI_OP_FUNCTION_END, 1)",
    "global variable": "_CFFI_OP_GLOBAL_VAR_F",
    "integer constant": "_CFFI_OP_CONSTANT_INT",
    "non-integer constant": "_CFFI_OP(_CFFI_OP_CONSTANT,",
    "enum": "_CFFI_OP_ENUM, -1",
    "extern Python": "_CFFI_OP_EXTERN_PYTHON",
    "struct fields": "_cffi_fields[]",
}


def pick_cases():
    if not CORPUS.is_dir():
        if os.environ.get("HEADERWHEEL_REQUIRE_CORPUS") == "1":
            pytest.fail("the CFFI corpus is required but absent at %s" % CORPUS)
        pytest.skip("the CFFI corpus is absent at %s" % CORPUS)
    chosen, covered = [], {k: 0 for k in KINDS}
    for d in sorted(CORPUS.iterdir()):
        case = d / "case.json"
        if not case.is_file():
            continue
        c = json.loads(case.read_text())
        if c["target"] != "c" or c.get("has_include") or c.get("embedding") or "module_name" not in c:
            continue
        if c["origin"] not in ("cffi0-verify-harvest", "pytest-recorded", "quirks"):
            continue
        pre = c.get("preamble") or ""
        if "#error" in pre or "Python.h" in pre or "windows.h" in pre.lower():
            continue
        text = (d / "expected.c").read_text()
        useful = [k for k, marker in KINDS.items() if marker in text and covered[k] < 8]
        if useful or len(chosen) < 40:
            chosen.append(d)
            for k, marker in KINDS.items():
                if marker in text:
                    covered[k] += 1
        if len(chosen) >= 90:
            break
    return chosen, covered


def test_a_sample_of_corpus_modules_compiles_imports_and_runs(tmp_path):
    cases, covered = pick_cases()
    missing = [k for k, n in covered.items() if n == 0]
    assert not missing, "no sample case covers: %s" % missing
    include = sysconfig.get_paths()["include"]
    exe = ROOT / "target" / "release" / "headerwheel"
    hw = [exe] if exe.exists() else [PY, "-m", "headerwheel"]

    def one(d):
        c = json.loads((d / "case.json").read_text())
        work = tmp_path / d.name
        work.mkdir()
        src = work / (c["module_name"].split(".")[-1] + ".c")
        run(hw + ["gen-src", "--case-json", d / "case.json", "--out", src])
        assert src.read_bytes() == (d / "expected.c").read_bytes()
        so = work / (c["module_name"].split(".")[-1] + ".so")
        p = run(["cc", "-shared", "-fPIC", "-O0", "-w", "-I", include, src, "-o", so, "-lm"], check=False)
        if p.returncode != 0:
            return d.name, "compile", p.stderr[-400:]
        code = (
            "import sys, importlib\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "m = importlib.import_module(sys.argv[2])\n"
            "called = 0\n"
            "for name in dir(m.lib):\n"
            "    obj = getattr(m.lib, name)\n"
            "    t = m.ffi.typeof(obj) if isinstance(obj, m.ffi.CData) else None\n"
            "    if callable(obj) and not name.startswith('_') and t is None:\n"
            "        try:\n"
            "            obj()\n"
            "            called += 1\n"
            "        except TypeError:\n"
            "            pass\n"
            "print('ok', called)\n"
        )
        p = run([PY, "-c", code, work, c["module_name"]], check=False, timeout=60)
        if p.returncode != 0:
            return d.name, "import", p.stderr[-400:]
        return d.name, "ok", p.stdout

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        results = list(ex.map(one, cases))
    ok = [r for r in results if r[1] == "ok"]
    bad = [r for r in results if r[1] != "ok"]
    # Some cases of CFFI's own suite test compile-time errors on purpose; the
    # bytes being CFFI's, they fail exactly as they do with CFFI.
    assert len(ok) >= 50, "only %d of %d compiled and imported:\n%s" % (
        len(ok), len(results), "\n".join("%s %s: %s" % b for b in bad[:15]))
