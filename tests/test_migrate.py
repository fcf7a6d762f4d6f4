"""`headerwheel migrate`: setuptools + CFFI projects become headerwheel
projects.

The hand-made fixture (fixtures/migrate/setuptools-comments) checks the
plan in detail (golden dry-run diff and notes, comments kept, --check,
build and import). The real projects are PyPI sdists (downloaded once into
a cache outside the repository: $HEADERWHEEL_SDIST_CACHE, default
~/.cache/headerwheel/sdists): each is migrated, --check must report
identical C, the migrated project must build with headerwheel, and the
project's own test suite runs against that wheel and against the wheel of
the project's original build; both pass counts go to
build/migrate-results.json and the test output.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PY, ROOT, Venv, build_wheel, run, unavailable

FIXTURES = ROOT / "fixtures" / "migrate"
UPDATE = os.environ.get("HEADERWHEEL_UPDATE_SNAPSHOTS") == "1"


def migrate(project, *args, env=None, check=True):
    e = {"HEADERWHEEL_PYTHON": PY}
    e.update(env or {})
    return run([PY, "-m", "headerwheel", "migrate", *args, project], env=e, check=check)


def notes_of(stderr):
    """The report lines (the log lines start with 'headerwheel:'; the
    builders' own output is not the report's)."""
    kinds = ("computed:", "not moved:", "environment:", "unsupported:", "note:")
    return "".join(l + "\n" for l in stderr.splitlines() if l.startswith(kinds))


def golden(path, text):
    if UPDATE or not path.exists():
        path.write_text(text)
    assert text == path.read_text(), "%s differs (HEADERWHEEL_UPDATE_SNAPSHOTS=1 rewrites it)" % path.name


@pytest.fixture
def fixture_copy(tmp_path):
    dst = tmp_path / "setuptools-comments"
    shutil.copytree(FIXTURES / "setuptools-comments", dst)
    return dst


def snapshot_of(d):
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_dry_run_prints_the_diffs_and_writes_nothing(case, tmp_path):
    """Golden files beside each fixture: the dry run's diff (stdout, a patch
    `git apply` takes) and its notes."""
    project = tmp_path / case
    shutil.copytree(FIXTURES / case, project)
    before = snapshot_of(project)
    r = migrate(project, "--dry-run")
    assert snapshot_of(project) == before
    golden(FIXTURES / (case + ".dry-run.diff"), r.stdout)
    golden(FIXTURES / (case + ".notes.txt"), notes_of(r.stderr))
    # The patch is the migration: applied, it gives what migrate writes.
    # As bytes: text mode would fold the CRLF of a CRLF pyproject.toml.
    raw = subprocess.run(
        [PY, "-m", "headerwheel", "migrate", "--dry-run", project],
        env=dict(os.environ, HEADERWHEEL_PYTHON=PY),
        capture_output=True,
    ).stdout
    p = subprocess.run(["git", "apply", "-"], input=raw, cwd=project, capture_output=True)
    assert p.returncode == 0, p.stderr.decode()
    written = tmp_path / "written"
    shutil.copytree(FIXTURES / case, written)
    migrate(written)
    assert snapshot_of(project) == snapshot_of(written)


def test_the_pyproject_keeps_comments_order_and_other_tables(fixture_copy):
    old = (fixture_copy / "pyproject.toml").read_text()
    migrate(fixture_copy)
    new = (fixture_copy / "pyproject.toml").read_text()
    # Every comment line stays, in order; the one after the replaced
    # build-backend value spoke of the old backend and goes with it.
    comments = lambda t: [l.strip() for l in t.splitlines() if l.strip().startswith("#")]
    assert comments(new) == comments(old)
    assert "# the old backend" not in new and "# keep this" in new
    headers = [l for l in new.splitlines() if l.startswith("[")]
    assert headers == [
        "[build-system]",
        "[project]",
        "[project.urls]",
        "[tool.black]",
        "[tool.pytest.ini_options]",
        "[tool.headerwheel]",
        '[tool.headerwheel.modules."hwmig._native"]',
        '[tool.headerwheel.modules."hwmig._libc"]',
    ]
    # Migrating again changes nothing.
    r = migrate(fixture_copy, "--dry-run")
    assert r.stdout == ""


def test_check_proves_the_c_is_identical_and_catches_a_difference(fixture_copy):
    r = migrate(fixture_copy, "--check")
    assert r.stdout.splitlines()[-1] == "2 of 2 modules identical", r.stdout
    assert "from the migration plan" in r.stdout
    migrate(fixture_copy)
    r = migrate(fixture_copy, "--check")
    assert "identical: hwmig._native" in r.stdout and "from pyproject.toml" in r.stdout
    assert "identical: hwmig._libc" in r.stdout  # ABI mode: the .py cffi writes
    # A changed cdef on disk is no longer what the builder declares.
    cdef = fixture_copy / "hwmig" / "_native.cdef.txt"
    cdef.write_text(cdef.read_text() + "int hw_extra(void);\n")
    r = migrate(fixture_copy, "--check", check=False)
    assert r.returncode == 1, r.stdout
    assert "DIFFERENT: hwmig._native" in r.stdout and "first difference at line" in r.stdout


def test_environment_dependent_choices_are_recorded_and_reported(fixture_copy):
    r = migrate(fixture_copy, "--dry-run", env={"HWMIG_FAST": "1"})
    assert '+define-macros = { HW_FAST = "1" }' in r.stdout
    assert "build_ffi.py:15 reads the environment variable HWMIG_FAST (now '1')" in r.stderr


def test_the_migrated_fixture_builds_installs_and_runs(fixture_copy, tmp_path, fresh_venv, hw_dist, wheelhouse):
    migrate(fixture_copy)
    out = tmp_path / "out"
    build_wheel(fixture_copy, out, isolation=True, hw_dist=hw_dist, wheelhouse=wheelhouse)
    whl = next(out.glob("hwmig-1.4.2-*.whl"))
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, whl)
    r = fresh_venv.run("-c", "import hwmig; from hwmig._native import lib; print(hwmig.add(2, 3), lib.HW_ANSWER, hwmig.absolute(-7))", cwd=tmp_path)
    assert r.stdout.split() == ["5", "42", "7"]


def case_copy(tmp_path, case):
    dst = tmp_path / case
    shutil.copytree(FIXTURES / case, dst)
    return dst


def test_a_crlf_pyproject_stays_crlf(tmp_path):
    project = case_copy(tmp_path, "crlf-kwargs")
    migrate(project)
    text = (project / "pyproject.toml").read_bytes()
    assert b"[tool.headerwheel]\r\n" in text
    assert text.count(b"\n") == text.count(b"\r\n")


def test_recording_writes_nothing_and_reads_only_what_builders_read(tmp_path):
    """setup.py's helper module stays importable for the builder, the
    distutils_extension() it calls writes no C file, and of the copied
    environment only the two variables read are reported."""
    project = case_copy(tmp_path, "recorder-helpers")
    r = migrate(project, "--dry-run", env={"RECHELP_OPT": "3", "RECHELP_UNRELATED": "x"})
    assert not (project / "build").exists()
    env_notes = [l for l in notes_of(r.stderr).splitlines() if l.startswith("environment:")]
    assert env_notes == [
        "environment: build_ffi.py:8 reads the environment variable RECHELP_DEBUG (now unset): the modules were recorded for this environment; build them again with another value by migrating again",
        "environment: build_ffi.py:9 reads the environment variable RECHELP_OPT (now '3'): the modules were recorded for this environment; build them again with another value by migrating again",
    ]
    assert '+define-macros = { RH_OPT = "3" }' in r.stdout


def test_a_scm_versioned_sdist_builds_its_version(tmp_path, hw_dist, wheelhouse):
    project = case_copy(tmp_path, "scm-version")
    migrate(project)
    out = tmp_path / "out"
    build_wheel(project, out, isolation=True, hw_dist=hw_dist, wheelhouse=wheelhouse)
    assert [w.name.split("-")[1] for w in out.glob("scmver-*.whl")] == ["2.5.1"]


def test_a_flat_layout_beside_a_c_src_and_cffi_under_a_marker(tmp_path, hw_dist, wheelhouse):
    import zipfile

    for case, package in (("src-c-only", "cpkg"), ("cffi-marker", "markpkg")):
        project = case_copy(tmp_path, case)
        migrate(project)
        out = tmp_path / ("out-" + case)
        build_wheel(project, out, isolation=True, hw_dist=hw_dist, wheelhouse=wheelhouse)
        whl = next(out.glob(package + "-*.whl"))
        with zipfile.ZipFile(whl) as z:
            names = z.namelist()
            meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        assert package + "/__init__.py" in names, names
        assert any(n.startswith(package + "/_native.") and n.endswith(".so") for n in names), names
        assert "Requires-Dist: cffi>=1.17; platform_python_implementation != 'PyPy'\n" in meta or case == "src-c-only", meta


def test_no_builder_is_an_error_naming_the_directory(tmp_path):
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(name='x', version='1')\n")
    r = migrate(tmp_path, check=False)
    assert r.returncode == 1
    assert "no CFFI builder found" in r.stderr and str(tmp_path.resolve()) in r.stderr


# --- Real projects from PyPI -------------------------------------------------

SDIST_CACHE = Path(os.environ.get("HEADERWHEEL_SDIST_CACHE", Path.home() / ".cache" / "headerwheel" / "sdists"))
RESULTS = ROOT / "build" / "migrate-results.json"

# name==version, environment for the build (system library variants), the
# test files to copy next to the tests, and how the suite runs.
# brotlicffi's two concurrency tests check that a second thread finds the
# object busy by sleeping 1 or 10 ms while the first one (de)compresses: on a
# loaded 2-core machine the first one can finish before the others wake up
# (CI saw [1, 2] for [1, 2, 3, 4] from one build and not the other, in the
# same run). Their outcome is the machine's timing, not the build's.
BROTLI_RACES = [
    "--deselect", "test/test_multithreaded_sharing.py::test_compress_concurrency",
    "--deselect", "test/test_multithreaded_sharing.py::test_decompressor_concurrency",
]

REAL = {
    "xattr": dict(spec="xattr==1.3.1", env={}, copy=["tests"], run=["pytest", "tests"]),
    "bcrypt": dict(spec="bcrypt==3.2.2", env={}, copy=["tests"], run=["pytest", "tests"]),
    "misaka": dict(spec="misaka==2.1.1", env={}, copy=["tests"], run=["python", "tests/run_tests.py"]),
    "cmarkgfm": dict(spec="cmarkgfm==2025.10.22", env={}, copy=["tests"], run=["pytest", "tests"]),
    "brotlicffi": dict(
        spec="brotlicffi==1.2.1.0",
        env={"USE_SHARED_BROTLI": "1"},  # the system libbrotli (libbrotli-dev)
        deps=["hypothesis"],
        # test_brotli_version compares with libbrotli/c/common/version.h, the
        # bundled brotli's (not in the sdist's test files): it fails with
        # the system library in both builds.
        copy=["test", "libbrotli/tests/testdata"],
        run=["pytest", "test", *BROTLI_RACES],
        # The suite reads brotli's test files, which brotlicffi's sdist leaves
        # out (a git submodule upstream): Brotli's own sdist has them.
        data=[("brotli==1.1.0", "tests/testdata", "libbrotli/tests/testdata")],
    ),
    # The bundled variant: setup()'s build_clib library (brotli's C sources)
    # is compiled into the module.
    "brotlicffi-bundled": dict(
        spec="brotlicffi==1.2.1.0",
        env={},
        deps=["hypothesis"],
        copy=["test", "libbrotli/tests/testdata", "libbrotli/c/common/version.h"],
        run=["pytest", "test", *BROTLI_RACES],
        data=[("brotli==1.1.0", "tests/testdata", "libbrotli/tests/testdata")],
    ),
}


def sdist(spec):
    """The sdist of `spec` from the cache, downloaded once."""
    SDIST_CACHE.mkdir(parents=True, exist_ok=True)
    name, version = spec.split("==")
    found = [p for p in SDIST_CACHE.glob("*.tar.gz") if p.name.lower().replace("_", "-") == "%s-%s.tar.gz" % (name, version)]
    if not found:
        p = subprocess.run(
            [PY, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps", spec, "-d", SDIST_CACHE],
            capture_output=True, text=True,
        )
        if p.returncode != 0:
            unavailable("cannot download %s: %s" % (spec, p.stderr.strip().splitlines()[-1:]))
        found = [p for p in SDIST_CACHE.glob("*.tar.gz") if p.name.lower().replace("_", "-") == "%s-%s.tar.gz" % (name, version)]
    return found[0]


def counts(output):
    """(passed, failed) from pytest's summary line or chibitest's."""
    m = re.search(r"(\d+) passed; (\d+) failed", output)
    if m:
        return int(m.group(1)), int(m.group(2))
    passed = re.search(r"(\d+) passed", output)
    failed = re.search(r"(\d+) (?:failed|error)", output)
    return (int(passed.group(1)) if passed else 0), (int(failed.group(1)) if failed else 0)


def suite(tmp, name, cfg, project, wheel):
    """Runs the project's tests against `wheel` in a new venv (from a copy
    of the test files, so the source tree cannot shadow the install)."""
    venv_dir = tmp / ("venv-" + wheel.name.split("-")[0] + "-" + str(abs(hash(str(wheel)))))
    run([PY, "-m", "venv", venv_dir])
    v = Venv(venv_dir)
    p = v.pip("install", "-q", "pytest", *cfg.get("deps", []), wheel, check=False)
    if p.returncode != 0:
        unavailable("cannot install the test requirements (network?): %s" % p.stderr[-500:])
    work = venv_dir.parent / (venv_dir.name + "-tests")
    for rel in cfg["copy"]:
        if (project / rel).is_dir():
            shutil.copytree(project / rel, work / rel)
        else:
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(project / rel, work / rel)
    cmd = [v.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *cfg["run"][1:]] if cfg["run"][0] == "pytest" else [v.python, *cfg["run"][1:]]
    p = subprocess.run([str(c) for c in cmd], cwd=work, capture_output=True, text=True, timeout=900)
    return counts(p.stdout + p.stderr), p.stdout[-3000:] + p.stderr[-2000:]


def record_result(name, entry):
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[name] = entry
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


@pytest.mark.parametrize("name", list(REAL))
def test_real_project_migrates_checks_builds_and_passes_its_tests(name, tmp_path):
    cfg = REAL[name]
    archive = sdist(cfg["spec"])
    shutil.unpack_archive(str(archive), tmp_path / "orig")
    orig = next((tmp_path / "orig").iterdir())
    project = tmp_path / "migrated"
    shutil.copytree(orig, project)
    env = cfg["env"]
    for spec, src, dst in cfg.get("data", []):
        shutil.unpack_archive(str(sdist(spec)), tmp_path / "data")
        top = next(p for p in (tmp_path / "data").iterdir() if p.name.lower().startswith(spec.split("==")[0]))
        shutil.copytree(top / src, orig / dst)

    # 1. migrate; --check: headerwheel's C is cffi's, byte for byte.
    m = migrate(project, env=env)
    report = m.stdout
    c = migrate(project, "--check", env=env, check=False)
    assert c.returncode == 0 and "DIFFERENT" not in c.stdout, c.stdout
    # 2. build both: headerwheel (no isolation: this environment's
    #    headerwheel) and the project's own backend (isolated, from PyPI).
    out = tmp_path / "out"
    build_wheel(project, out / "hw")
    ours = next((out / "hw").glob("*.whl"))
    p = run([PY, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out / "orig", orig], env=env, check=False)
    if p.returncode != 0:
        unavailable("the original build failed (network?): %s" % p.stderr[-500:])
    theirs = next((out / "orig").glob("*.whl"))
    # 3. the project's own tests against each wheel.
    (our_pass, our_fail), our_log = suite(tmp_path, name, cfg, orig, ours)
    (orig_pass, orig_fail), orig_log = suite(tmp_path, name, cfg, orig, theirs)
    entry = {
        "sdist": archive.name,
        "environment": env,
        "check": [l for l in c.stdout.splitlines() if l.startswith(("identical", "DIFFERENT"))],
        "headerwheel": {"wheel": ours.name, "passed": our_pass, "failed": our_fail},
        "original": {"wheel": theirs.name, "passed": orig_pass, "failed": orig_fail},
        "notes": [l for l in report.splitlines() if not l.startswith(("wrote ", "module "))],
    }
    record_result(name, entry)
    sys.stderr.write("%s: headerwheel %d passed / %d failed; original %d passed / %d failed\n" % (name, our_pass, our_fail, orig_pass, orig_fail))
    assert our_pass > 0, our_log
    assert (our_pass, our_fail) == (orig_pass, orig_fail), "headerwheel:\n%s\noriginal:\n%s" % (our_log, orig_log)


def test_headerkit_and_a_hatch_hook_become_a_headers_module(tmp_path, fresh_venv, hw_dist, wheelhouse):
    """[tool.headerkit] + a hatchling hook compiling with cffi: the module's
    cdef stays headerkit's output (generated from the headers by
    headerwheel), the hook's csrc is reused, the C is cffi's."""
    project = tmp_path / "headerkit-hatch"
    shutil.copytree(FIXTURES / "headerkit-hatch", project)
    r = migrate(project, "--check")
    assert "identical: zpeek._zp_cffi" in r.stdout, r.stdout
    migrate(project)
    assert not (project / "src/zpeek/_zp_cffi.csrc.c").exists()
    (project / "src/zpeek/_zp.cdef.txt").unlink()  # generated again from include/zp.h
    out = tmp_path / "out"
    build_wheel(project, out, isolation=True, hw_dist=hw_dist, wheelhouse=wheelhouse)
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, next(out.glob("zpeek-*.whl")))
    r = fresh_venv.run("-c", "import zpeek; from zpeek._zp_cffi import ffi, lib; print(zpeek.pair_sum(2, 40), ffi.string(lib.zp_version()).decode(), lib.ZP_LIMIT)", cwd=tmp_path)
    assert r.stdout.split() == ["42", "zp", "1.0", "64"]
