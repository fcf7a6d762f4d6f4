"""`headerwheel init`: a new binding project for a system header builds with
pip (isolated, from local wheels), installs into a fresh venv and passes its
own generated test."""
import shutil

import pytest

from conftest import PY, build_wheel, run, validate_wheel


def test_init_zlib_builds_installs_and_passes_its_test(tmp_path, fresh_venv, hw_dist, wheelhouse):
    r = run([PY, "-m", "headerwheel", "init", "zlib.h", "--library", "z", tmp_path / "zproj"])
    proj = tmp_path / "zproj"
    assert r.stdout.strip() == str(proj)
    for rel in ("pyproject.toml", "README.md", "src/zlib_cffi/__init__.py", "src/zlib_cffi/_zlib.csrc.c",
                "tests/test_zlib_cffi.py"):
        assert (proj / rel).is_file(), rel
    text = (proj / "pyproject.toml").read_text()
    assert '[tool.headerwheel.modules."zlib_cffi._zlib_cffi"]\nlibraries = ["z"]' in text
    assert "lib.zlibVersion()" in (proj / "tests/test_zlib_cffi.py").read_text()
    out = tmp_path / "out"
    build_wheel(proj, out, isolation=True, hw_dist=hw_dist, wheelhouse=wheelhouse)
    whl = next(out.glob("*.whl"))
    validate_wheel(whl)
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, whl)
    # The generated test, run from outside the project (the installed package, not src/).
    test = tmp_path / "test_zlib_cffi.py"
    shutil.copy(proj / "tests/test_zlib_cffi.py", test)
    r = fresh_venv.run(test, cwd=tmp_path)
    assert r.stdout.splitlines()[-1] == "ok", r.stdout
    import zlib

    assert "zlibVersion() -> %s" % zlib.ZLIB_RUNTIME_VERSION in r.stdout


def test_init_refuses_an_existing_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    r = run([PY, "-m", "headerwheel", "init", "zlib.h", tmp_path], check=False)
    assert r.returncode == 1
    assert "already has a pyproject.toml" in r.stderr


def test_init_with_a_local_header_copies_it(tmp_path, fresh_venv, hw_dist, wheelhouse):
    hdr = tmp_path / "answer.h"
    hdr.write_text("static inline int answer_version(void) { return 42; }\n")
    r = run([PY, "-m", "headerwheel", "init", hdr, "--name", "answer", tmp_path / "a"], cwd=tmp_path)
    proj = tmp_path / "a"
    assert (proj / "include/answer.h").read_text() == hdr.read_text()
    assert '#include "answer.h"' in (proj / "src/answer/_answer.csrc.c").read_text()
    assert "lib.answer_version()" in (proj / "tests/test_answer.py").read_text()
    out = tmp_path / "out"
    build_wheel(proj, out, isolation=True, hw_dist=hw_dist, wheelhouse=wheelhouse)
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, next(out.glob("answer-*.whl")))
    r = fresh_venv.run(proj / "tests/test_answer.py", cwd=tmp_path)
    assert "answer_version() -> 42" in r.stdout and r.stdout.splitlines()[-1] == "ok", r.stdout
