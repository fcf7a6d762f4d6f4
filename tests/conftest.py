"""End-to-end helpers: real pip in fresh venvs, the locally built headerwheel
wheel from dist/ (scripts/setup builds it), and the artifact validators."""

import email.parser
import hashlib
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "projects"
DIST = ROOT / "dist"

# The native emitter (crate::emit::c_source / py_source) is implemented on
# branch `emitter`; until it is merged, every build with a CFFI module fails
# at the emit step. Tests that need it are strict xfails naming it, so they
# start failing loudly (XPASS) the moment it lands and the marker must go.
EMITTER_READY = "the native emitter is not merged yet" not in (ROOT / "src/emit/mod.rs").read_text()
needs_emitter = pytest.mark.xfail(
    not EMITTER_READY,
    reason="needs the native emitter (crate::emit::c_source/py_source, branch `emitter`)",
    strict=True,
)


def run(cmd, *, cwd=None, env=None, check=True):
    """Runs `cmd`, returning the CompletedProcess; on an unexpected exit the
    assertion shows the whole output."""
    full_env = dict(os.environ)
    full_env.pop("PYTHONPATH", None)
    full_env.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    full_env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if env:
        full_env.update(env)
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=full_env, capture_output=True, text=True)
    if check:
        assert p.returncode == 0, f"{cmd} exited {p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}"
    return p


def headerwheel_wheel():
    wheels = sorted(DIST.glob("headerwheel-*.whl"))
    if not wheels:
        pytest.fail("no dist/headerwheel-*.whl: run scripts/setup first")
    return wheels[-1]


class Venv:
    """A fresh virtual environment."""

    def __init__(self, path: Path):
        self.path = path
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
        self.python = path / "bin" / "python"

    def pip(self, *args, **kw):
        return run([self.python, "-m", "pip", *args], **kw)

    def py(self, code, **kw):
        return run([self.python, "-c", code], **kw)


@pytest.fixture(scope="session")
def builder(tmp_path_factory):
    """A venv with headerwheel (from dist/) and its runtime dependency
    installed: the environment of --no-build-isolation builds."""
    v = Venv(tmp_path_factory.mktemp("builder") / "venv")
    v.pip("install", "-q", "--find-links", DIST, headerwheel_wheel(), "build")
    return v


@pytest.fixture
def fresh_venv(tmp_path):
    """A factory of fresh venvs under the test's tmp_path."""
    count = [0]

    def make():
        count[0] += 1
        return Venv(tmp_path / f"venv{count[0]}")

    return make


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("build", "*.so", "__pycache__"))
    return target


def pip_wheel(builder: Venv, project: Path, out: Path, *, isolation: bool, extra=(), check=True):
    """`pip wheel` of `project` into `out`: with build isolation pip installs
    headerwheel from dist/ via --find-links; without, the builder venv's."""
    args = ["wheel", "--no-deps", "-w", out, "--find-links", DIST]
    if not isolation:
        args.append("--no-build-isolation")
    return builder.pip(*args, *extra, project, check=check)


def only_wheel(out: Path) -> Path:
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def validate_wheel(builder: Venv, wheel: Path, project: Path):
    """Every validator the acceptance names, on one wheel."""
    tools = builder.path / "tools"
    # installer: install into a scratch prefix, validating every RECORD entry.
    run([sys.executable, "-m", "installer", "--validate-record", "all", "--destdir", tools / "inst", wheel])
    run([sys.executable, "-m", "twine", "check", "--strict", wheel])
    run([sys.executable, "-m", "check_wheel_contents", wheel], cwd=project)
    with zipfile.ZipFile(wheel) as z:
        dist_info = next(n.split("/")[0] for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = z.read(f"{dist_info}/METADATA")
    from packaging.metadata import Metadata

    Metadata.from_email(metadata, validate=True)
    return email.parser.BytesParser().parsebytes(metadata)


def validate_sdist(sdist: Path):
    run([sys.executable, "-m", "twine", "check", "--strict", sdist])
    import tarfile

    from packaging.metadata import Metadata

    with tarfile.open(sdist) as t:
        top = t.getnames()[0].split("/")[0]
        pkg_info = t.extractfile(f"{top}/PKG-INFO").read()
    Metadata.from_email(pkg_info, validate=True)
