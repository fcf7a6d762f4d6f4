"""Other frontends than pip: `python -m build` and `uv build` (both with
build isolation, headerwheel from dist/, sdist first then the wheel from the
unpacked sdist) give a valid sdist and the very wheel `pip wheel` gives."""
import shutil
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, PY, build_wheel, run, sha256, validate_wheel


def only(d, pattern):
    found = sorted(d.glob(pattern))
    assert len(found) == 1, found
    return found[0]


UV = shutil.which("uv") or str(Path(sys.executable).parent / "uv")

FRONTENDS = {
    "build": lambda out, hw_dist, cache: [PY, "-m", "build", "--installer", "pip", "-o", out],
    "uv": lambda out, hw_dist, cache: [UV, "build", "--cache-dir", cache,
                                       "--find-links", hw_dist, "-o", out],
}


@pytest.mark.parametrize("frontend", sorted(FRONTENDS))
@pytest.mark.parametrize("project", ["zlibcffi", "purepy"])
def test_frontend_builds_sdist_then_wheel(tmp_path, project_copy, hw_dist, frontend, project):
    if frontend == "uv" and not Path(UV).exists():
        pytest.fail("uv is missing: scripts/setup installs it from scripts/requirements-dev.txt")
    src = project_copy(project)
    out = tmp_path / "out"
    cmd = FRONTENDS[frontend](out, hw_dist, tmp_path / "uv-cache") + [src]
    # `python -m build` reaches dist/ through pip's environment.
    run(cmd, env={"PIP_FIND_LINKS": str(hw_dist)})
    sdist = only(out, "*.tar.gz")
    wheel = only(out, "*.whl")
    run([PY, "-m", "twine", "check", "--strict", sdist])
    validate_wheel(wheel)
    reference = tmp_path / "pip"
    build_wheel(src, reference)
    assert sha256(only(reference, "*.whl")) == sha256(wheel), "same wheel from every frontend"
