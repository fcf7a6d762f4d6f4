"""Shared fixtures of the end-to-end suite: the locally built headerwheel
wheel, a wheelhouse of runtime dependencies, fresh virtual environments, and
the validators every built wheel and sdist must pass."""
import glob
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "projects"
PY = sys.executable


# Under CI (CI=true, as .ci/run and every hosted CI set it) nothing may be
# missing: a test that cannot get what it needs fails, naming it, instead of
# skipping (a registry outage must not pass as a shorter run).
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")


def unavailable(reason):
    """Skips the test for want of `reason` (a tool, a download, a privilege);
    under CI fails with it instead."""
    if IN_CI:
        pytest.fail("needed under CI=true: " + reason, pytrace=False)
    pytest.skip(reason)


# Builds share one compile cache per test session, never the user's own.
os.environ.setdefault("HEADERWHEEL_CACHE_DIR", tempfile.mkdtemp(prefix="hw-compile-cache-"))


def run(cmd, cwd=None, env=None, check=True, timeout=600):
    """Runs `cmd`; returns the CompletedProcess (text). Fails with both
    streams shown when `check` and the command fails."""
    full_env = dict(os.environ)
    full_env.pop("PYTHONPATH", None)
    if env:
        full_env.update(env)
    p = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and p.returncode != 0:
        raise AssertionError(
            "command failed (%d): %s\n--- stdout\n%s\n--- stderr\n%s"
            % (p.returncode, " ".join(map(str, cmd)), p.stdout, p.stderr)
        )
    return p


@pytest.fixture(scope="session")
def hw_dist():
    """The directory holding headerwheel's own wheel (built by scripts/setup)."""
    d = ROOT / "dist"
    wheels = glob.glob(str(d / "headerwheel-*.whl"))
    if not wheels:
        pytest.fail("dist/headerwheel-*.whl is missing: run scripts/setup first")
    return d


@pytest.fixture(scope="session")
def wheelhouse():
    """Runtime dependencies (cffi, pycparser, packaging) as local wheels, so
    installs in fresh venvs need no index."""
    d = ROOT / "build" / "wheelhouse"
    stamp = d / ".complete"
    if not stamp.exists():
        d.mkdir(parents=True, exist_ok=True)
        run([PY, "-m", "pip", "download", "-q", "-d", d, "cffi==2.1.1", "packaging>=20"])
        stamp.write_text("ok\n")
    return d


class Venv:
    def __init__(self, path):
        self.path = Path(path)
        self.python = self.path / "bin" / "python"

    def pip(self, *args, **kw):
        return run([self.python, "-m", "pip", "--disable-pip-version-check", *args], **kw)

    def run(self, *args, **kw):
        return run([self.python, *args], **kw)


@pytest.fixture
def fresh_venv(tmp_path):
    """A new empty virtual environment (with pip)."""
    path = tmp_path / "venv"
    run([PY, "-m", "venv", path])
    return Venv(path)


@pytest.fixture
def project_copy(tmp_path):
    """Copies a fixture project to a temporary directory (builds may write
    into the project)."""

    def copy(name):
        dst = tmp_path / "src" / name
        shutil.copytree(FIXTURES / name, dst)
        return dst

    return copy


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build_wheel(project, out, isolation=False, hw_dist=None, wheelhouse=None, settings=(), check=True):
    """`pip wheel` of `project` into `out` (no isolation: with the current
    environment's headerwheel; isolation: headerwheel and cffi from local
    wheels only)."""
    cmd = [PY, "-m", "pip", "wheel", "--no-deps", "-w", out]
    if isolation:
        cmd += ["--no-index", "--find-links", hw_dist, "--find-links", wheelhouse]
    else:
        cmd += ["--no-build-isolation"]
    settings = list(settings)
    if not any(s.startswith("build-dir=") for s in settings):
        # Keep the fixture trees clean: build outside them.
        settings.append("build-dir=%s" % (Path(out).parent / ("build-" + Path(out).name)))
    for s in settings:
        cmd += ["-C", s]
    cmd.append(project)
    return run(cmd, check=check)


def validate_wheel(whl):
    """Every validator a wheel must pass."""
    whl = str(whl)
    run([PY, "-m", "twine", "check", "--strict", whl])
    run([PY, "-m", "check_wheel_contents", whl])
    # installer's own command line: every RECORD entry's hash and size is
    # checked (`--validate-record all`) while the wheel is installed into a
    # scratch destination.
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        run([PY, "-m", "installer", "--validate-record", "all", "--destdir", d, whl])
    # packaging's strict metadata parse
    with zipfile.ZipFile(whl) as z:
        meta = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        assert len(meta) == 1, meta
        text = z.read(meta[0])
    code = (
        "import sys\n"
        "from packaging.metadata import Metadata\n"
        "Metadata.from_email(sys.stdin.buffer.read(), validate=True)\n"
    )
    p = subprocess.run([PY, "-c", code], input=text, capture_output=True)
    assert p.returncode == 0, p.stderr.decode()
    check_platform_tag(whl)
    return text.decode()


def check_platform_tag(whl):
    """A platform wheel's tag is the one auditwheel computes (its most
    compatible manylinux tag, or linux_* where the module needs libraries
    outside the wheel), and an abi3 wheel passes abi3audit --strict."""
    name = os.path.basename(str(whl))
    py, abi, plat = name[: -len(".whl")].split("-")[-3:]
    if plat == "any":
        return
    show = run([PY, "-m", "auditwheel", "show", whl]).stdout.replace("\n", " ")
    ours = plat.split(".")[0]
    import re

    newer = re.search(r'platform tag to "manylinux_2_(\d+)_', show)
    host = platform.libc_ver()[1].split(".")
    # auditwheel's tag is newer than this machine's glibc: linux_* (installable here).
    too_new = newer and host[0] == "2" and int(newer.group(1)) > int(host[1])
    assert 'consistent with the following platform tag: "%s"' % ours in show or (
        ours.startswith("linux_") and ('platform tag: "%s"' % ours in show or too_new)
    ), "auditwheel disagrees with %s:\n%s" % (name, show)
    if abi == "abi3":
        run([PY, "-m", "abi3audit", "--strict", "--report", whl])
