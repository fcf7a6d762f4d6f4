"""headerwheel as the backend under every interpreter a cffi project builds
for: pyenv's CPython 3.9, 3.10, 3.12 and 3.13 and Debian's PyPy (scripts/setup
installs pypy3, pypy3-dev and pypy3-venv). Under each, `pip wheel` with build
isolation (headerwheel from dist/, cffi and the rest from the index) builds
an API-mode fixture, the ABI-mode example with its shared library and a pure
project; each wheel carries the tag of that interpreter, passes installer's
RECORD check, installs into a venv of that interpreter and is called.

An interpreter that is not installed fails under CI=true (the scripts install
them) and skips otherwise."""
import glob
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, PY, ROOT, run, unavailable

PYENV = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
INTERPRETERS = ["3.9", "3.10", "3.12", "3.13", "pypy3"]


def interpreter(name):
    if name == "pypy3":
        found = [p for p in ["/usr/bin/pypy3"] if os.path.exists(p)]
    else:
        found = sorted(glob.glob(str(PYENV / f"{name}.*" / "bin" / f"python{name}")))
    if not found:
        unavailable(f"{name} is not installed: scripts/setup installs it (pyenv's CPython, Debian's pypy3)")
    return Path(found[-1])


@pytest.fixture(scope="module", params=INTERPRETERS)
def venv(request, tmp_path_factory, hw_dist):
    """A venv of the interpreter with a current pip (3.9's pip predates
    some of what isolated builds need)."""
    py = interpreter(request.param)
    d = tmp_path_factory.mktemp("venv-" + request.param)
    run([py, "-m", "venv", d / "venv"], timeout=300)
    vpy = d / "venv" / "bin" / "python"
    run([vpy, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--upgrade", "pip"], timeout=600)
    return request.param, vpy


# project, a program calling it, the tag's shape (cpython / pypy)
PROJECTS = {
    "zlibcffi": (
        FIXTURES / "zlibcffi",
        "import zlib, zlibcffi\n"
        "data = b'any interpreter' * 50\n"
        "assert zlibcffi.crc32(data) == zlib.crc32(data)\n"
        "assert zlibcffi.decompress(zlibcffi.compress(data), len(data)) == data\n",
        {"cpython": "-cp39-abi3-manylinux", "pypy": "-pp39-pypy39_pp73-manylinux"},
    ),
    "b64": (
        ROOT / "examples" / "b64",
        "import base64, b64\n"
        "assert b64.encode(b'hello') == base64.b64encode(b'hello').decode()\n"
        "assert b64.decode(b64.encode(b'\\x00\\xff')) == b'\\x00\\xff'\n",
        {"cpython": "-py3-none-manylinux", "pypy": "-py3-none-manylinux"},
    ),
    "purepy": (
        FIXTURES / "purepy",
        None,
        {"cpython": "-py3-none-any", "pypy": "-py3-none-any"},
    ),
}


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_builds_as_the_backend_with_isolation_installs_and_calls(tmp_path, venv, hw_dist, project):
    name, vpy = venv
    src, program, tags = PROJECTS[project]
    work = tmp_path / src.name
    shutil.copytree(src, work)
    out = tmp_path / "out"
    run(
        [vpy, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
         "--find-links", hw_dist, "-w", out, work],
        env={"PIP_CONFIG_FILE": os.devnull},
        timeout=900,
    )
    (whl,) = out.glob("*.whl")
    kind = "pypy" if name == "pypy3" else "cpython"
    assert tags[kind] in whl.name, whl.name
    with zipfile.ZipFile(whl) as z:
        tag_lines = [l for l in z.read(next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))).decode().splitlines() if l.startswith("Tag: ")]
    assert tag_lines and all(t[5:] in whl.name or t[5:].split("-")[0] in whl.name for t in tag_lines), tag_lines
    # The RECORD check is the wheel's, not the interpreter's: installer with
    # --validate-record needs Python 3.10+, so the suite's own runs it.
    run([PY, "-m", "installer", "--validate-record", "all", "--destdir", tmp_path / "dest", whl])
    run([vpy, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--find-links", hw_dist, whl], timeout=600)
    if program:
        # Out of the source tree, so the installed package is the one imported.
        run([vpy, "-c", program], cwd=tmp_path)


def test_headerwheels_own_wheel_is_one_py3_none_manylinux2014_wheel(hw_dist):
    """One wheel for every interpreter (the program beside the pure-Python
    shim), for the oldest baseline cibuildwheel's containers use."""
    (whl,) = Path(hw_dist).glob("headerwheel-*.whl")
    assert "-py3-none-manylinux2014_x86_64" in whl.name, whl.name
    show = run([PY, "-m", "auditwheel", "show", whl]).stdout.replace("\n", " ")
    tag = re.search(r'consistent with the following platform tag: "manylinux_2_(\d+)_x86_64"', show)
    assert tag and int(tag.group(1)) <= 17, show
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
    assert any(n.endswith(".data/scripts/headerwheel") for n in names), names
    assert not any(n.endswith(".so") for n in names), "no interpreter-specific extension: %s" % names
