"""One abi3 wheel serves every CPython the project allows: the zlib fixture's
wheel, built once under this interpreter, installs and calls zlib under each
other CPython 3.9+ found on the machine (pyenv's), and building under another
interpreter gives the same cp39-abi3 tag. Interpreters that are not installed
are skipped by name; cffi for them comes from the package index."""
import glob
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, build_wheel, run, unavailable

PYENV = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
VERSIONS = ["3.9", "3.10", "3.12", "3.13"]


def interpreter(version):
    found = sorted(glob.glob(str(PYENV / f"{version}.*" / "bin" / f"python{version}")))
    if not found:
        unavailable(f"CPython {version} is not installed under {PYENV}")
    return Path(found[-1])


@pytest.fixture(scope="module")
def zlib_wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("abi3") / "out"
    build_wheel(FIXTURES / "zlibcffi", out)
    (whl,) = out.glob("*.whl")
    assert "-cp39-abi3-" in whl.name, whl.name
    return whl


CALL = (
    "import sys, zlib, zlibcffi\n"
    "data = b'abi3' * 100\n"
    "assert zlibcffi.crc32(data) == zlib.crc32(data)\n"
    "assert zlibcffi.decompress(zlibcffi.compress(data), len(data)) == data\n"
    "print('%d.%d' % sys.version_info[:2], zlibcffi.__file__.endswith('__init__.py'))\n"
)


@pytest.mark.parametrize("version", VERSIONS)
def test_one_wheel_runs_on_other_cpythons(tmp_path, zlib_wheel, version):
    py = interpreter(version)
    venv = tmp_path / "venv"
    run([py, "-m", "venv", venv])
    vpy = venv / "bin" / "python"
    run([vpy, "-m", "pip", "install", "-q", "--disable-pip-version-check", zlib_wheel])
    assert run([vpy, "-c", CALL]).stdout.split() == [version, "True"]


def test_building_under_another_cpython_gives_the_same_tag(tmp_path, hw_dist):
    py = interpreter("3.13")
    venv = tmp_path / "venv"
    run([py, "-m", "venv", venv])
    vpy = venv / "bin" / "python"
    out = tmp_path / "out"
    # Build isolation: headerwheel from dist/, cffi for 3.13 from the index.
    run([vpy, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps", "--find-links", hw_dist,
         "-w", out, "-C", "build-dir=%s" % (tmp_path / "build"), FIXTURES / "zlibcffi"])
    (whl,) = out.glob("*.whl")
    assert whl.name.startswith("zlibcffi-1.0.0-cp39-abi3-manylinux_"), whl.name
    with zipfile.ZipFile(whl) as z:
        assert "zlibcffi/_zlib_cffi.abi3.so" in z.namelist()
    run([vpy, "-m", "pip", "install", "-q", "--disable-pip-version-check", whl])
    assert run([vpy, "-c", CALL]).stdout.split() == ["3.13", "True"]
