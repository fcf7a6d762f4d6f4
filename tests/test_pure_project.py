"""A pure-Python project through pip: wheel, sdist, editable, validators,
reproducibility. Needs no CFFI module, so it runs before the emitter lands."""

import tarfile
import zipfile

import pytest

from conftest import (
    DIST, copy_fixture, only_wheel, pip_wheel, run, sha256, validate_sdist, validate_wheel,
)


@pytest.mark.parametrize("isolation", [True, False], ids=["isolated", "no-isolation"])
def test_pip_wheel_install_and_run(builder, fresh_venv, tmp_path, isolation):
    project = copy_fixture("pure", tmp_path)
    out = tmp_path / "out"
    pip_wheel(builder, project, out, isolation=isolation)
    wheel = only_wheel(out)
    assert wheel.name == "hw_pure-0.3.1-py3-none-any.whl"
    meta = validate_wheel(builder, wheel, project)
    assert meta["Metadata-Version"] == "2.4"
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("Requires-Dist") == ["cffi>=1.17; (platform_python_implementation == 'CPython') and extra == \"fast\""]

    v = fresh_venv()
    v.pip("install", "-q", "--no-index", wheel)
    assert v.py("import hwpure; print(hwpure.greet('pip'))").stdout == "hello, pip\n"
    assert run([v.path / "bin" / "hw-pure-greet", "cli"]).stdout == "hello, cli\n"
    eps = v.py("from importlib.metadata import entry_points; print(entry_points(group='hwpure.plugins')['default'].value)")
    assert eps.stdout.strip() == "hwpure:greet"


def test_two_builds_give_identical_bytes_and_sdist_gives_the_same_wheel(builder, tmp_path):
    project = copy_fixture("pure", tmp_path)
    hashes = []
    for i in range(2):
        out = tmp_path / f"out{i}"
        pip_wheel(builder, project, out, isolation=False)
        hashes.append(sha256(only_wheel(out)))
    assert hashes[0] == hashes[1]

    sdist_out = tmp_path / "sdist"
    run([builder.python, "-m", "build", "--sdist", "--no-isolation", "-o", sdist_out, project])
    sdist = next(sdist_out.glob("*.tar.gz"))
    assert sdist.name == "hw_pure-0.3.1.tar.gz"
    validate_sdist(sdist)
    with tarfile.open(sdist) as t:
        names = t.getnames()
        assert all(m.uid == 0 and m.gid == 0 for m in t.getmembers())
        t.extractall(tmp_path / "unpacked", filter="data")
    assert "hw_pure-0.3.1/PKG-INFO" in names and "hw_pure-0.3.1/pyproject.toml" in names
    out = tmp_path / "from_sdist"
    pip_wheel(builder, tmp_path / "unpacked" / "hw_pure-0.3.1", out, isolation=False)
    assert sha256(only_wheel(out)) == hashes[0]

    # Two sdists of the same tree are identical too.
    again = tmp_path / "sdist2"
    run([builder.python, "-m", "build", "--sdist", "--no-isolation", "-o", again, project])
    assert sha256(next(again.glob("*.tar.gz"))) == sha256(sdist)


def test_source_date_epoch_sets_entry_times(builder, tmp_path):
    project = copy_fixture("pure", tmp_path)
    out = tmp_path / "out"
    run([builder.python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out, project],
        env={"SOURCE_DATE_EPOCH": "1600000000"})
    with zipfile.ZipFile(only_wheel(out)) as z:
        infos = z.infolist()
        assert {i.date_time[:3] for i in infos} == {(2020, 9, 13)}
        names = [i.filename for i in infos]
        assert names[-1].endswith(".dist-info/RECORD")
        dist = [n for n in names if ".dist-info/" in n]
        assert names[len(names) - len(dist):] == dist, "dist-info last"


def test_editable_install_sees_source_changes(builder, tmp_path):
    project = copy_fixture("pure", tmp_path)
    builder.pip("install", "-q", "--no-build-isolation", "--no-deps", "-e", project)
    try:
        assert builder.py("import hwpure; print(hwpure.greet('e'))").stdout == "hello, e\n"
        init = project / "hwpure" / "__init__.py"
        init.write_text(init.read_text().replace('f"hello, {name}"', 'f"hi, {name}"'))
        assert builder.py("import hwpure; print(hwpure.greet('e'))").stdout == "hi, e\n"
    finally:
        builder.pip("uninstall", "-q", "-y", "hw-pure")


def test_prepare_metadata_equals_wheel_metadata(builder, tmp_path):
    project = copy_fixture("pure", tmp_path)
    code = f"""
import pyproject_hooks, sys, zipfile, pathlib
hooks = pyproject_hooks.BuildBackendHookCaller({str(project)!r}, "headerwheel", python_executable=sys.executable)
md = pathlib.Path({str(tmp_path / 'md')!r}); md.mkdir()
name = hooks.prepare_metadata_for_build_wheel(str(md))
out = pathlib.Path({str(tmp_path / 'whl')!r}); out.mkdir()
whl = hooks.build_wheel(str(out), metadata_directory=str(md / name))
with zipfile.ZipFile(out / whl) as z:
    assert z.read(name + "/METADATA") == (md / name / "METADATA").read_bytes()
print(hooks.get_requires_for_build_wheel(), hooks.get_requires_for_build_sdist())
"""
    assert builder.py(code).stdout.strip() == "[] []"


def test_config_settings_are_checked(builder, tmp_path):
    project = copy_fixture("pure", tmp_path)
    out = tmp_path / "out"
    p = pip_wheel(builder, project, out, isolation=False, extra=["-C", "opt-levl=2"], check=False)
    assert p.returncode != 0
    assert "config setting `opt-levl`: unknown setting" in p.stderr
    assert not out.exists() or not any(out.iterdir())
    pip_wheel(builder, project, out, isolation=False, extra=["-C", "opt-level=2", "-C", "verbose=true"])
    only_wheel(out)
