"""One small header per C construct (fixtures/headers/<case>/), end to end:

1. `headerwheel generate` gives the committed cdef snapshot (`cdef.snap`, the
   warnings in `warnings.snap`: the `insta` snapshots tests/header_fixtures.rs
   writes; `cargo insta review` or `INSTA_UPDATE=always` updates them);
2. CFFI 2.1.1 builds a module from it, and `headerwheel gen-src` emits the
   same C bytes as CFFI;
3. every struct/union/typedef's size and alignment and every named field's
   offset, as the module's `ffi` reports them, are the C compiler's;
4. every enumerator and macro of the cdef has the compiler's value, and the
   case's `check.py` calls into its `<case>.c`.

A new case is a new folder: `<case>.h`, `<case>.c`, `check.py` with
`check(ffi, lib)`, then `INSTA_UPDATE=always cargo test --test header_fixtures`. A case with a `writer.json`
(`exclude_patterns`, `symbols`: writer options the CLI cannot pass) has its
snapshots checked by tests/header_fixtures.rs only; its module here is
built from the header's whole cdef.
"""
import difflib
import json
import os
import re
from pathlib import Path

import pytest

from conftest import PY, ROOT, run

HW = [PY, "-m", "headerwheel"]
CASES_DIR = ROOT / "fixtures" / "headers"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())
# A case with a writer.json (exclude_patterns, symbols: writer options the CLI
# cannot pass) has its snapshots checked by tests/header_fixtures.rs only.
CLI_CASES = [c for c in CASES if not (CASES_DIR / c / "writer.json").exists()]
# Every macro of the cases' headers is asked for.
GENERATE_ARGS = ["--define-pattern", "."]
WARNING = "headerwheel: warning: "


def preamble(case):
    return '#include "%s.h"\n' % case


def generate(case, out):
    """(cdef text, warnings) of `headerwheel generate` on the case's header,
    with the case directory's path left out of the warnings."""
    d = CASES_DIR / case
    p = run(HW + ["generate", d / (case + ".h"), "-I", d, *GENERATE_ARGS, "-o", out])
    warnings = [l[len(WARNING):].replace(str(d) + "/", "") for l in p.stderr.splitlines() if l.startswith(WARNING)]
    return out.read_text(), "".join(w + "\n" for w in warnings)


def diff(expected, got, name):
    return "".join(difflib.unified_diff(
        expected.splitlines(True), got.splitlines(True), "%s (snapshot)" % name, "%s (generated)" % name))


def snapshot(path):
    """The text of an `insta` snapshot (what follows its metadata header),
    with the final newline insta trims restored."""
    body = path.read_text().split("---\n", 2)[2]
    return body.rstrip("\n") + "\n" if body.strip("\n") else ""


def compare_snapshot(path, got):
    """Fails with a unified diff unless the snapshot at `path` holds `got`."""
    expected = snapshot(path)
    if expected == got:
        return
    pytest.fail("%s differs (`INSTA_UPDATE=always cargo test --test header_fixtures` updates it):\n%s" % (
        path.relative_to(ROOT), diff(expected, got, path.name)), pytrace=False)


# Names a cdef of project headers must not contain: glibc's internals
# (`__time_t`, `_IO_FILE`) and compiler extensions.
INTERNAL = re.compile(r"\b(?!_Bool\b|_Complex\b)(_[A-Z_]\w*)")
# System names a case's cdef may hold on purpose: glibc's fd_set member type,
# declared `typedef int... __fd_mask;` (its size comes from the compiler).
ALLOWED_INTERNALS = {"feature_macros": {"__fd_mask"}}


@pytest.mark.parametrize("case", CLI_CASES)
def test_cdef_matches_snapshot(tmp_path, case):
    d = CASES_DIR / case
    for f in (case + ".h", case + ".c", "check.py"):
        assert (d / f).is_file(), "%s/%s is missing" % (case, f)
    cdef, warnings = generate(case, tmp_path / "out.cdef")
    compare_snapshot(d / "cdef.snap", cdef)
    compare_snapshot(d / "warnings.snap", warnings)
    internal = sorted(set(INTERNAL.findall(cdef)) - ALLOWED_INTERNALS.get(case, set()))
    assert not internal, "system internals in the cdef: %s" % internal


@pytest.fixture(scope="module")
def pypi_libclang(tmp_path_factory):
    """The PyPI `libclang` wheel's library (what an isolated build without a
    system libclang gets: a newer clang than Debian's 14)."""
    target = tmp_path_factory.mktemp("pypi-libclang")
    run([PY, "-m", "pip", "install", "-q", "--no-deps", "--target", target, "libclang==18.1.1"])
    lib = target / "clang" / "native" / "libclang.so"
    assert lib.is_file(), "the libclang wheel has no %s" % lib
    return lib


@pytest.mark.parametrize("case", CLI_CASES)
def test_the_pypi_libclang_writes_the_same_cdef(tmp_path, pypi_libclang, case):
    # libclang 16+ spells a typedef-named anonymous struct or enum by its
    # typedef name: the cdef must not turn it into a tag that the C headers
    # do not have (`enum T` is an incomplete type to the compiler).
    d = CASES_DIR / case
    p = run(HW + ["generate", d / (case + ".h"), "-I", d, *GENERATE_ARGS, "-o", tmp_path / "out.cdef"],
            env=dict(os.environ, LIBCLANG_PATH=str(pypi_libclang)))
    got = (tmp_path / "out.cdef").read_text()
    expected = snapshot(d / "cdef.snap")
    assert got == expected, "libclang 18.1.1 (%s):\n%s" % (p.stderr[-2000:], diff(expected, got, "cdef.snap"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Per case, once: the module built by CFFI from the generated cdef, and
    the driver's report (tests/tools/header_fixture_module.py)."""
    cache = {}

    def get(case):
        if case not in cache:
            work = tmp_path_factory.mktemp(case)
            cdef, _ = generate(case, work / (case + ".cdef"))
            (work / "preamble.c").write_text(preamble(case))
            module = "_hwfix_" + case
            try:
                run([PY, ROOT / "tests" / "tools" / "header_fixture_module.py",
                     CASES_DIR / case, work / (case + ".cdef"), work, module, work / "preamble.c"])
                cache[case] = (work, module, json.loads((work / "report.json").read_text()))
            except AssertionError as e:
                cache[case] = e  # one build per case, even when it fails
        if isinstance(cache[case], Exception):
            pytest.fail("%s: the module does not build:\n%s" % (case, cache[case]), pytrace=False)
        return cache[case]

    return get


@pytest.mark.parametrize("case", CASES)
def test_emitter_matches_cffi(built, case):
    work, module, _ = built(case)
    ours = work / "headerwheel_emitted.c"
    run(HW + ["gen-src", "read-sources", module, work / (case + ".cdef"), work / "preamble.c", ours])
    want, got = (work / "cffi_emitted.c").read_text(), ours.read_text()
    if want != got:
        pytest.fail("gen-src differs from CFFI's emit_c_code:\n" + diff(want, got, module + ".c")[:20000], pytrace=False)


def python_include():
    """The include directory of PY (Python.h, pyconfig.h)."""
    return run([PY, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"]).stdout.strip()


def compiler_answers(work, case, exprs):
    """The C compiler's value of each of `exprs` (integer expressions over
    the case's header), in the module's environment: after Python.h (its
    feature-test macros), as CFFI compiles the module."""
    lines = ['#include <Python.h>', '#include <stddef.h>', '#include <stdio.h>', '#include "%s.h"' % case,
             "int main(void) {"]
    for e in exprs:
        lines.append('    printf("%%lld\\n", (long long)(%s));' % e)
    lines += ["    return 0;", "}", ""]
    prog = work / "layout.c"
    prog.write_text("\n".join(lines))
    exe = work / "layout"
    run(["cc", "-std=gnu11", "-I", python_include(), "-I", CASES_DIR / case, prog, "-o", exe])
    return [int(v) for v in run([exe]).stdout.split()]


@pytest.mark.parametrize("case", CASES)
def test_layout_and_constants_match_the_compiler(built, case):
    work, _, report = built(case)
    queries, constants = report["queries"], report["constants"]
    if not (queries or constants or report["opaque"]):
        # Nothing to compare: only right when the cdef declares nothing to ask about.
        cdef = (work / (case + ".cdef")).read_text()
        assert not re.search(r"\b(struct|union|enum|typedef)\b|#define", cdef), "the report misses the cdef's types"
    want = compiler_answers(work, case, [q[1] for q in queries] + [c[0] for c in constants])
    got = [q[2] for q in queries] + [c[1] for c in constants]
    names = [q[0] for q in queries] + ["value of " + c[0] for c in constants]
    wrong = ["%s: ffi says %r, the C compiler %d" % (n, g, w) for n, g, w in zip(names, got, want) if g != w]
    assert not wrong, "\n".join(wrong)
    assert not [o for o in report["opaque"] if o.endswith("has a size")], report["opaque"]


@pytest.mark.parametrize("case", CLI_CASES)
def test_case_check_calls_into_c(built, case):
    _, _, report = built(case)
    if report["check"] != "ok":
        pytest.fail("%s/check.py failed:\n%s" % (case, report["check"]), pytrace=False)
