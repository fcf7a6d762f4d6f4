"""The .headerkit store against the defects it must not have (each test
fails on a store that has it): stale output after a transitively included
header changes, keys holding absolute paths, no regeneration from the cached
model without libclang, entries of another libclang served, damaged objects
served, entries lost under parallel writers, merges that drop entries; and
the headerkit 0.47 import."""
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import PY, run, unavailable

HW = [PY, "-m", "headerwheel"]
NO_CLANG = {"HEADERWHEEL_NO_LIBCLANG": "1"}

PYPROJECT = """\
[build-system]
requires = ["headerwheel"]
build-backend = "headerwheel"

[project]
name = "transitive"
version = "1.0"

[tool.headerkit]
include_dirs = ["include"]
{extra}
[[tool.headerkit.headers]]
pattern = "include/top.h"

[tool.headerkit.writer.cffi]
define_patterns = [{patterns}]

[tool.headerkit.output]
cffi = "src/transitive/_top.cdef.txt"

[tool.headerwheel.modules."transitive._top_cffi"]
preamble-code = '#include "top.h"'
include-dirs = ["include"]
"""


def make_project(d, patterns='"^TOP_"', extra=""):
    (d / "include").mkdir(parents=True)
    (d / "include" / "top.h").write_text('#include "inner.h"\n#define TOP_ANSWER 42\n#define TOP_OTHER 7\nint top_area(struct inner *p);\n')
    (d / "include" / "inner.h").write_text("struct inner { int w; int h; };\n")
    (d / "pyproject.toml").write_text(PYPROJECT.format(patterns=patterns, extra=extra))
    (d / "src" / "transitive").mkdir(parents=True)
    (d / "src" / "transitive" / "__init__.py").write_text("")
    return d


def populate(d, env=None, check=True):
    return run(HW + ["cache", "populate", d], env=env, check=check)


def status(d, env=None):
    return run(HW + ["cache", "status", "--project", d], env=env, check=False)


def cdef_of(d):
    store = d / ".headerkit"
    for e in sorted((store / "entries").rglob("*.json")):
        entry = json.loads(e.read_text())
        if entry["kind"] == "cdef":
            o = entry["object"]
            yield (store / "objects" / o[:2] / o[2:]).read_text()


def test_a_changed_transitive_header_is_a_miss_with_fresh_output(tmp_path):
    d = make_project(tmp_path / "p")
    assert "headers parsed" in populate(d).stdout
    assert "hit (cdef)" in status(d).stdout
    (d / "include" / "inner.h").write_text("struct inner { int w; int h; int depth; };\n")
    s = status(d)
    assert s.returncode == 1 and "miss" in s.stdout and "include/inner.h changed" in s.stdout, s.stdout
    assert "headers parsed" in populate(d).stdout
    assert any("int depth;" in c for c in cdef_of(d))


def test_a_moved_checkout_hits_without_libclang(tmp_path):
    d = make_project(tmp_path / "p")
    populate(d)
    moved = tmp_path / "elsewhere" / "deeper" / "p"
    shutil.copytree(d, moved)
    assert "hit (cdef)" in status(moved, env=NO_CLANG).stdout
    assert "already in the store" in populate(moved, env=NO_CLANG).stdout
    # No key or entry names the build machine's paths.
    for f in (moved / ".headerkit").rglob("*.json"):
        assert str(tmp_path) not in f.read_text(), f


def test_a_changed_writer_option_is_written_from_the_cached_model_without_libclang(tmp_path):
    d = make_project(tmp_path / "p")
    populate(d)
    pp = d / "pyproject.toml"
    pp.write_text(pp.read_text().replace('define_patterns = ["^TOP_"]', 'define_patterns = ["^TOP_ANSWER$"]'))
    assert "hit (header model" in status(d, env=NO_CLANG).stdout
    p = populate(d, env=NO_CLANG)
    assert "cdef written from the stored header model" in p.stdout, p.stdout + p.stderr
    cdefs = list(cdef_of(d))
    assert any("TOP_ANSWER" in c and "TOP_OTHER" not in c for c in cdefs), cdefs


def test_another_libclang_is_a_miss(tmp_path):
    d = make_project(tmp_path / "p")
    populate(d)
    # The same library under another name and path: another libclang as far
    # as the store knows (a real second version behaves the same).
    found = run(HW + ["cache", "status", "--project", d]).stdout
    assert "hit (cdef)" in found
    src = Path("/usr/lib/llvm-14/lib/libclang.so.1")
    if not src.exists():
        unavailable("the system libclang (libclang1-14) is not installed")
    other = tmp_path / "otherclang" / "libclang.so"
    other.parent.mkdir()
    shutil.copy(src, other)
    env = {"LIBCLANG_PATH": str(other)}
    s = status(d, env=env)
    assert s.returncode == 1 and "made by another libclang" in s.stdout, s.stdout
    assert "headers parsed" in populate(d, env=env).stdout
    # Both entries stay: each libclang hits its own.
    assert "hit (cdef)" in status(d).stdout
    assert "hit (cdef)" in status(d, env=env).stdout


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_objects_are_named_never_served_and_rebuilt(tmp_path, damage):
    d = make_project(tmp_path / "p")
    populate(d)
    good = list(cdef_of(d))
    objects = [p for p in (d / ".headerkit" / "objects").rglob("*") if p.is_file()]
    assert len(objects) == 2  # the header model and the cdef
    for o in objects:
        o.write_bytes(o.read_bytes()[:40] if damage == "truncated" else os.urandom(300))
    v = run(HW + ["cache", "verify", d / ".headerkit"], check=False)
    assert v.returncode == 1
    for o in objects:
        assert "damaged: %s" % o in v.stdout, v.stdout
    p = populate(d)
    assert "headers parsed" in p.stdout
    assert "damaged cache item ignored" in p.stderr
    assert list(cdef_of(d)) == good
    assert run(HW + ["cache", "verify", d / ".headerkit"]).returncode == 0


def test_eight_parallel_populates_keep_every_entry(tmp_path):
    """Eight populates of one project at once, each a variant of its headers
    (a define from the environment): the project's one store keeps all."""
    d = make_project(tmp_path / "p", extra='defines = ["VARIANT=${HW_VARIANT}"]\n')
    variants = [{"HW_VARIANT": str(i)} for i in range(8)]
    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(lambda env: populate(d, env=env, check=False), variants))
    for r in results:
        assert r.returncode == 0, r.stderr
    store = d / ".headerkit"
    entries = list((store / "entries").rglob("*.json"))
    kinds = sorted(json.loads(e.read_text())["kind"] for e in entries)
    assert kinds == ["cdef"] * 8 + ["header-model"] * 8
    assert run(HW + ["cache", "verify", store]).returncode == 0
    for env in variants:
        assert "hit (cdef)" in status(d, env=env).stdout


def test_merging_stores_keeps_both_entries_for_one_header(tmp_path):
    a = make_project(tmp_path / "a")
    b = make_project(tmp_path / "b")
    populate(a)
    # Store b gets another entry for the same key: made by another libclang.
    src = Path("/usr/lib/llvm-14/lib/libclang.so.1")
    if not src.exists():
        unavailable("the system libclang (libclang1-14) is not installed")
    other = tmp_path / "otherclang" / "libclang.so"
    other.parent.mkdir()
    shutil.copy(src, other)
    populate(b, env={"LIBCLANG_PATH": str(other)})
    before = {e.name for e in (a / ".headerkit" / "entries").rglob("*.json")}
    theirs = {e.name for e in (b / ".headerkit" / "entries").rglob("*.json")}
    assert before.isdisjoint(theirs)
    run(HW + ["cache", "merge", b / ".headerkit", a / ".headerkit"])
    after = {e.name for e in (a / ".headerkit" / "entries").rglob("*.json")}
    assert after == before | theirs
    assert "hit (cdef)" in status(a, env={"LIBCLANG_PATH": str(other)}).stdout
    assert "hit (cdef)" in status(a).stdout


def test_a_headerkit_store_is_imported_for_builds_without_libclang(tmp_path):
    d = make_project(tmp_path / "p")
    hk = tmp_path / "hk-store"
    # A headerkit 0.47 store, as its _cache_store writes one.
    (hk / "ir" / "top_h-abc").mkdir(parents=True)
    (hk / "ir" / "top_h-abc" / "metadata.json").write_text(json.dumps({"cache_key": "k1", "header_path": "include/top.h"}))
    (hk / "output" / "cffi" / "top_h-def").mkdir(parents=True)
    (hk / "output" / "cffi" / "top_h-def" / "metadata.json").write_text(
        json.dumps({"cache_key": "k2", "ir_cache_key": "k1", "writer_name": "cffi", "headerkit_version": "0.47.8"}))
    cdef = "struct inner { int w; int h; };\nint top_area(struct inner *p);\n#define TOP_ANSWER 42\n"
    (hk / "output" / "cffi" / "top_h-def" / "output.h").write_text(cdef)
    p = run(HW + ["cache", "import-headerkit", hk, d])
    assert "imported top_h-def (include/top.h) as the cdef of module transitive._top_cffi" in p.stdout
    assert "hit (cdef)" in status(d, env=NO_CLANG).stdout
    assert list(cdef_of(d)) == [cdef]
    # With a libclang, the headers are parsed again (the import names none).
    if Path("/usr/lib/llvm-14/lib/libclang.so.1").exists():
        assert "miss" in status(d).stdout


def get_requires(d, env=None):
    code = "import json, headerwheel; print(json.dumps(headerwheel.get_requires_for_build_wheel()))"
    return json.loads(run([PY, "-c", code], cwd=d, env=env).stdout)


def test_the_libclang_wheel_is_asked_for_only_when_needed(tmp_path):
    d = make_project(tmp_path / "p")
    # Not cached, no libclang on the machine: the PyPI wheel is needed.
    assert get_requires(d, env=NO_CLANG) == ["libclang"]
    if Path("/usr/lib/llvm-14/lib/libclang.so.1").exists():
        # The machine's own libclang will do.
        assert get_requires(d) == []
    populate(d)
    # Cached: nothing to parse, nothing to ask for.
    assert get_requires(d, env=NO_CLANG) == []
    # A project without header modules never needs it.
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pyproject.toml").write_text('[project]\nname = "plain"\nversion = "1"\n')
    (plain / "plain").mkdir()
    (plain / "plain" / "__init__.py").write_text("")
    assert get_requires(plain, env=NO_CLANG) == []


def test_the_compile_cache_skips_the_compiler_until_an_input_changes(tmp_path, monkeypatch):
    from conftest import FIXTURES

    monkeypatch.setenv("HEADERWHEEL_CACHE_DIR", str(tmp_path / "cc-cache"))
    src = tmp_path / "extrasrc"
    shutil.copytree(FIXTURES / "extrasrc", src, ignore=shutil.ignore_patterns("build"))

    def build(out, *settings):
        cs = dict(s.split("=", 1) for s in settings)
        cs["build-dir"] = str(tmp_path / ("b-" + out))
        code = ("import json, os, sys; os.chdir(sys.argv[1]); import headerwheel as h; "
                "h.build_wheel(sys.argv[2], json.loads(sys.argv[3]))")
        p = run([PY, "-c", code, src, tmp_path / out, json.dumps(cs)])
        return p, next((tmp_path / out).glob("*.whl")).read_bytes()

    p1, w1 = build("o1")
    assert "from the compile cache" not in p1.stderr
    p2, w2 = build("o2")
    assert "extrasrc._fast_cffi] compiled module taken from the compile cache" in p2.stderr, p2.stderr
    assert w1 == w2
    # -C no-cache=true compiles again.
    p3, w3 = build("o3", "no-cache=true")
    assert "from the compile cache" not in p3.stderr and w3 == w1
    # A header the compiler read changed: a miss, and the new value is in.
    h = src / "csrc" / "fast.h"
    h.write_text(h.read_text() + "\n/* changed */\n#define FAST_CHANGED 1\n")
    p4, _ = build("o4")
    assert "from the compile cache" not in p4.stderr
    p5, _ = build("o5")
    assert "from the compile cache" in p5.stderr
