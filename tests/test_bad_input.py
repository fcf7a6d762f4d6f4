"""Bad input through pip: a clear error naming the file, key or module,
a non-zero exit, and nothing left in the output directory."""

import pytest

from conftest import copy_fixture, needs_emitter, pip_wheel


def fails(builder, project, tmp_path, *needles):
    out = tmp_path / "out"
    out.mkdir()
    p = pip_wheel(builder, project, out, isolation=False, check=False)
    assert p.returncode != 0, p.stdout
    text = p.stdout + p.stderr
    for n in needles:
        assert n in text, text
    assert list(out.iterdir()) == [], "no wheel or partial file is left"
    return text


def test_malformed_pyproject(builder, tmp_path):
    project = copy_fixture("pure", tmp_path)
    (project / "pyproject.toml").write_text('[project]\nname = "hw-pure\nversion = "1"\n')
    # pip itself parses pyproject.toml first; either way the file and line are named.
    text = fails(builder, project, tmp_path, "pyproject.toml")
    assert "line 2" in text or "pyproject.toml:2:" in text


def test_unknown_key_with_caret(builder, tmp_path):
    project = copy_fixture("pure", tmp_path)
    py = project / "pyproject.toml"
    py.write_text(py.read_text() + '\n[tool.headerwheel]\npackage = ["hwpure"]\n')
    fails(builder, project, tmp_path,
          "pyproject.toml:27:1: tool.headerwheel.package: unknown key `package` in [tool.headerwheel]",
          "27 | package = [\"hwpure\"]", "  | ^^^^^^^")


def test_bad_spdx_and_requirement(builder, tmp_path):
    project = copy_fixture("pure", tmp_path)
    py = project / "pyproject.toml"
    py.write_text(py.read_text().replace('license = "MIT"', 'license = "MIT OR Bogus-2"'))
    fails(builder, project, tmp_path, "pyproject.toml:9:11: project.license: `Bogus-2` is not an SPDX license identifier")
    py.write_text(py.read_text().replace('license = "MIT OR Bogus-2"', 'license = "MIT"').replace("dependencies = []", 'dependencies = ["requests >= two"]'))
    fails(builder, project, tmp_path / "2", "project.dependencies: invalid requirement: `requests >= two`")


def test_missing_cdef_and_preamble_files(builder, tmp_path):
    project = copy_fixture("extra", tmp_path)
    py = project / "pyproject.toml"
    py.write_text(py.read_text().replace('cdef = "extra/geom.cdef"', 'cdef = "extra/nope.cdef"'))
    fails(builder, project, tmp_path, 'pyproject.toml:15:8: tool.headerwheel.modules."extra._geom_cffi".cdef: file `extra/nope.cdef` does not exist')
    project = copy_fixture("extra", tmp_path / "2")
    py = project / "pyproject.toml"
    py.write_text(py.read_text().replace('preamble = \'#include "geom.h"\'', 'preamble-file = "extra/missing.h"'))
    fails(builder, project, tmp_path / "2", 'modules."extra._geom_cffi".preamble-file: file `extra/missing.h` does not exist')


@needs_emitter
def test_missing_library(builder, tmp_path):
    project = copy_fixture("zlib", tmp_path)
    py = project / "pyproject.toml"
    py.write_text(py.read_text().replace('libraries = ["z"]', 'libraries = ["z", "headerwheel_no_such_lib"]'))
    fails(builder, project, tmp_path, "module hwzlib._zlib_cffi: linking failed", "headerwheel_no_such_lib")


@needs_emitter
def test_compile_error_names_the_module(builder, tmp_path):
    project = copy_fixture("extra", tmp_path)
    (project / "csrc" / "geom.c").write_text('#include "geom.h"\nint geom_scale(void) { return not_declared; }\n')
    fails(builder, project, tmp_path, "[extra._geom_cffi]", "not_declared", "module extra._geom_cffi: compiling failed")


def test_emit_step_reports_the_module(builder, tmp_path):
    """Until the emitter lands, a CFFI project fails cleanly at the emit step
    (named module, no wheel); afterwards a cdef syntax error must name the
    cdef file and line."""
    project = copy_fixture("zlib", tmp_path)
    cdef = project / "hwzlib" / "_zlib.cdef.txt"
    cdef.write_text(cdef.read_text() + "int broken(;\n")
    text = fails(builder, project, tmp_path, "module hwzlib._zlib_cffi:")
    from conftest import EMITTER_READY

    if EMITTER_READY:
        assert "hwzlib/_zlib.cdef.txt:" in text, text
