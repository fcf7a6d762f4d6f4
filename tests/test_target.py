"""`-C target=`: a module built with zig cc for an older glibc baseline.
dlopen is the probe: built here (glibc 2.36) it binds to dlopen@GLIBC_2.34,
so the wheel is manylinux_2_34; built for manylinux2014 it binds to libdl's
GLIBC_2.2.5 and the wheel gets the older tag, which auditwheel confirms."""
import importlib.util
import subprocess
import zipfile

import pytest

from conftest import IN_CI, PY, run

# Under CI a missing ziglang fails the tests (scripts/setup installs it).
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ziglang") is None and not IN_CI, reason="the ziglang package is not installed")

PYPROJECT = """\
[build-system]
requires = ["headerwheel"]
build-backend = "headerwheel"

[project]
name = "dlprobe"
version = "1.0"
requires-python = ">=3.9"

[tool.headerwheel.modules."dlprobe._dl_cffi"]
cdef-code = '''
void *dlopen(const char *, int);
int dlclose(void *);
#define RTLD_NOW ...
'''
preamble-code = "#include <dlfcn.h>"
libraries = ["dl"]
"""


def build(tmp_path, name, settings):
    src = tmp_path / "dlprobe"
    if not src.exists():
        (src / "src" / "dlprobe").mkdir(parents=True)
        (src / "src" / "dlprobe" / "__init__.py").write_text("")
        (src / "pyproject.toml").write_text(PYPROJECT)
    cs = dict(s.split("=", 1) for s in settings)
    cs["build-dir"] = str(tmp_path / ("b-" + name))
    cs["no-cache"] = "true"
    code = "import json, os, sys; os.chdir(sys.argv[1]); import headerwheel as h; print(h.build_wheel(sys.argv[2], json.loads(sys.argv[3])))"
    import json

    p = run([PY, "-c", code, src, tmp_path / name, json.dumps(cs)], timeout=900)
    return tmp_path / name / p.stdout.strip().splitlines()[-1]


def glibc_versions(whl, tmp_path):
    with zipfile.ZipFile(whl) as z:
        so = next(n for n in z.namelist() if n.endswith(".so"))
        path = tmp_path / ("x" + whl.name + ".so")
        path.write_bytes(z.read(so))
    out = subprocess.run(["objdump", "-T", path], capture_output=True, text=True, check=True).stdout
    return {w.strip("()") for w in out.split() if w.strip("()").startswith("GLIBC_")}


def test_an_older_glibc_baseline_with_zig_cc(tmp_path):
    native = build(tmp_path, "native", [])
    old = build(tmp_path, "old", ["target=manylinux2014"])
    assert "GLIBC_2.34" in glibc_versions(native, tmp_path), native
    assert "manylinux_2_34" in native.name
    versions = glibc_versions(old, tmp_path)
    assert versions and all(tuple(map(int, v[6:].split("."))) <= (2, 17) for v in versions), versions
    assert "manylinux_2_34" not in old.name and "manylinux" in old.name, old.name
    show = run([PY, "-m", "auditwheel", "show", old]).stdout
    tag = old.name.split("-")[-1][: -len(".whl")].split(".")[0]
    assert tag in show, show
    # It loads and calls.
    site = tmp_path / "site"
    run([PY, "-m", "pip", "install", "-q", "--no-deps", "--target", site, old])
    p = run([PY, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from dlprobe._dl_cffi import ffi, lib; "
             "h = lib.dlopen(ffi.NULL, lib.RTLD_NOW); print(h != ffi.NULL); lib.dlclose(h)", site])
    assert p.stdout.strip() == "True"


def test_a_bad_target_is_refused(tmp_path):
    with pytest.raises(AssertionError) as e:
        build(tmp_path, "bad", ["target=windows"])
    assert "config setting 'target': 'windows' is not a glibc baseline" in str(e.value)
