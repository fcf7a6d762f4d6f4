"""More of the backend through a real pip: a pure-Python project whose
import name differs from its distribution name (with and without build
isolation), compiler warnings reaching the user, config_settings checks,
and an editable install whose C code is rebuilt by reinstalling."""
import json
import subprocess
import zipfile

import pytest

from conftest import FIXTURES, PY, build_wheel, run, sha256, validate_wheel


def only_wheel(d):
    wheels = sorted(d.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.mark.parametrize("isolation", [False, True], ids=["no-isolation", "isolated"])
def test_pure_python_project(tmp_path, fresh_venv, hw_dist, wheelhouse, isolation):
    out = tmp_path / "out"
    build_wheel(FIXTURES / "purepy", out, isolation=isolation, hw_dist=hw_dist, wheelhouse=wheelhouse)
    whl = only_wheel(out)
    assert whl.name == "hw_pure-0.3.1-py3-none-any.whl"
    meta = validate_wheel(whl)
    assert "Requires-Dist: cffi>=1.17; platform_python_implementation != 'PyPy'\n" not in meta, "no CFFI module, no unconditional cffi requirement"
    assert 'Requires-Dist: cffi>=1.17; (platform_python_implementation == \'CPython\') and extra == "fast"' in meta
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        assert z.read("hw_pure-0.3.1.dist-info/WHEEL").decode().splitlines()[2:] == [
            "Root-Is-Purelib: true",
            "Tag: py3-none-any",
        ]
    assert names[:3] == ["hwpure/__init__.py", "hwpure/cli.py", "hwpure/data.toml"], names
    fresh_venv.pip("install", "-q", "--no-index", whl)
    assert fresh_venv.run("-c", "import hwpure; print(hwpure.greet('pip'))").stdout == "hello, pip\n"
    assert run([fresh_venv.path / "bin" / "hw-pure-greet", "cli"]).stdout == "hello, cli\n"
    ep = fresh_venv.run(
        "-c",
        "from importlib.metadata import entry_points; print(entry_points(group='hwpure.plugins')['default'].value)",
    )
    assert ep.stdout.strip() == "hwpure:greet"


def test_pure_python_project_is_reproducible(tmp_path, project_copy):
    src = project_copy("purepy")
    build_wheel(src, tmp_path / "a")
    build_wheel(src, tmp_path / "b")
    assert sha256(only_wheel(tmp_path / "a")) == sha256(only_wheel(tmp_path / "b"))


def test_nothing_to_ship_is_an_error(tmp_path, project_copy):
    src = project_copy("purepy")
    (src / "hwpure").rename(src / "tests")
    out = tmp_path / "out"
    p = build_wheel(src, out, check=False)
    assert p.returncode != 0
    assert "pyproject.toml:6:8: project.name: no Python package to ship" in p.stderr, p.stderr
    assert not out.exists() or list(out.glob("*")) == []


def test_compiler_warnings_reach_the_user_with_the_module_name(tmp_path, project_copy):
    src = project_copy("zlibcffi")
    csrc = src / "src" / "zlibcffi" / "_zlib.csrc.c"
    csrc.write_text(csrc.read_text() + '#warning "a warning from the preamble"\n')
    p = run([PY, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", tmp_path / "out", src])
    lines = [l for l in (p.stdout + p.stderr).splitlines() if "a warning from the preamble" in l]
    assert lines and all("[zlibcffi._zlib_cffi]" in l for l in lines), p.stderr


def test_unknown_config_setting_is_refused(tmp_path):
    out = tmp_path / "out"
    p = build_wheel(FIXTURES / "purepy", out, settings=["opt-levl=2"], check=False)
    assert p.returncode != 0
    assert "unknown config setting 'opt-levl'" in p.stderr, p.stderr
    assert not out.exists() or list(out.glob("*")) == []
    p = build_wheel(FIXTURES / "zlibcffi", out, settings=["opt-level=9"], check=False)
    assert p.returncode != 0 and "'opt-level': '9'" in p.stderr, p.stderr


def test_verbose_shows_the_compiler_command_lines(tmp_path):
    p = run([PY, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", tmp_path / "out",
             "-C", "verbose=true", "-C", "opt-level=1", "-C", "build-dir=%s" % (tmp_path / "b"), FIXTURES / "zlibcffi"])
    shown = [l for l in (p.stdout + p.stderr).splitlines() if "[zlibcffi._zlib_cffi]" in l and " -c " in l]
    assert shown and "-O1" in shown[0] and "-O3" not in shown[0], p.stdout + p.stderr


def test_editable_reinstall_rebuilds_changed_c_code(tmp_path, project_copy, fresh_venv, hw_dist, wheelhouse):
    src = project_copy("extrasrc")
    install = ["install", "-q", "--no-index", "--find-links", hw_dist, "--find-links", wheelhouse, "-e", src]
    fresh_venv.pip(*install)
    assert fresh_venv.run("-c", "import extrasrc; print(extrasrc.add(1, 2))").stdout.strip() == "3"
    fast = src / "csrc" / "fast.c"
    text = fast.read_text()
    assert "a + b" in text, text
    fast.write_text(text.replace("a + b", "a + b + 100"))
    fresh_venv.pip(*install)
    assert fresh_venv.run("-c", "import extrasrc; print(extrasrc.add(1, 2))").stdout.strip() == "103"


def test_cppflags_and_ldflags_from_the_environment(tmp_path, project_copy):
    """As distutils does: CPPFLAGS join the compile flags, LDFLAGS the link."""
    src = project_copy("zlibcffi")
    csrc = src / "src" / "zlibcffi" / "_zlib.csrc.c"
    csrc.write_text('#ifndef HW_FROM_CPPFLAGS\n#error "CPPFLAGS did not reach the compiler"\n#endif\n' + csrc.read_text())
    out = tmp_path / "out"
    cmd = [PY, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out, "-C", "build-dir=%s" % (tmp_path / "b"), src]
    failed = run(cmd, check=False)
    assert failed.returncode != 0 and "CPPFLAGS did not reach the compiler" in failed.stdout + failed.stderr
    run(cmd, env={"CPPFLAGS": "-DHW_FROM_CPPFLAGS", "LDFLAGS": "-Wl,-soname,hw-from-ldflags.so"})
    so = tmp_path / "so"
    with zipfile.ZipFile(only_wheel(out)) as z:
        so.write_bytes(z.read("zlibcffi/_zlib_cffi.abi3.so"))
    dynamic = run(["readelf", "-d", so]).stdout
    assert "[hw-from-ldflags.so]" in dynamic, dynamic


def test_sdist_metadata_is_at_least_2_2(tmp_path, project_copy):
    """The sdist format wants PKG-INFO at core metadata 2.2 or later even
    when the wheel's METADATA can stay at 2.1 (no PEP 639 fields)."""
    import tarfile

    src = project_copy("purepy")
    pp = src / "pyproject.toml"
    pp.write_text(pp.read_text().replace('license = "MIT"\n', "").replace('license-files = ["LICENSE"]\n', ""))
    code = "import os, sys; os.chdir(sys.argv[1]); import headerwheel as h; print(h.build_sdist(sys.argv[2]))"
    name = run([PY, "-c", code, src, tmp_path / "sd"]).stdout.strip()
    sdist = tmp_path / "sd" / name
    run([PY, "-m", "twine", "check", "--strict", sdist])
    with tarfile.open(sdist) as t:
        pkg_info = t.extractfile("hw_pure-0.3.1/PKG-INFO").read()
    assert pkg_info.startswith(b"Metadata-Version: 2.2\n"), pkg_info[:40]
    check = "import sys; from packaging.metadata import Metadata; Metadata.from_email(sys.stdin.buffer.read(), validate=True)"
    assert subprocess.run([PY, "-c", check], input=pkg_info).returncode == 0
    out = tmp_path / "out"
    build_wheel(src, out)
    meta = validate_wheel(only_wheel(out))
    assert meta.startswith("Metadata-Version: 2.1\n"), meta[:40]


def test_build_dir_inside_or_outside_the_tree_gives_the_same_wheel(tmp_path, project_copy):
    """The default build directory is inside the project (as in any build
    from an unpacked sdist); debug info must not record which it was."""
    src = project_copy("zlibcffi")
    build_wheel(src, tmp_path / "inside", settings=["build-dir=build/headerwheel"])
    build_wheel(src, tmp_path / "outside", settings=["build-dir=%s" % (tmp_path / "elsewhere")])
    assert sha256(only_wheel(tmp_path / "inside")) == sha256(only_wheel(tmp_path / "outside"))


def test_cflags_from_the_environment_are_passed_once(tmp_path):
    p = run([PY, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", tmp_path / "out",
             "-C", "verbose=true", "-C", "build-dir=%s" % (tmp_path / "b"), FIXTURES / "zlibcffi"],
            env={"CFLAGS": "-DHW_ENV_MARK=1"})
    compile_lines = [l for l in (p.stdout + p.stderr).splitlines() if "[zlibcffi._zlib_cffi]" in l and " -c " in l]
    assert compile_lines, p.stderr
    assert compile_lines[0].count("-DHW_ENV_MARK=1") == 1, compile_lines[0]


def hook_without_facts(src, hook, out):
    """Runs `headerwheel hook` (the program the shim runs) with a request
    and no interpreter's facts, then ends its input; returns its replies
    (one JSON object a line)."""
    program = run([PY, "-c", "import headerwheel; print(headerwheel.find_headerwheel_bin())"]).stdout.strip()
    request = {"hook": hook, "source_dir": str(src), "output_dir": str(out), "config_settings": {}, "interpreter": None}
    p = subprocess.run([program, "hook"], input=json.dumps(request) + "\n", capture_output=True, text=True)
    return [json.loads(line) for line in p.stdout.splitlines()]


@pytest.mark.parametrize("hook", ["prepare_metadata_for_build_wheel", "build_wheel"])
def test_the_interpreter_facts_are_gathered_only_for_modules(tmp_path, project_copy, hook):
    # The shim sends each hook without sysconfig's facts: a pure project
    # never pays for them, metadata never needs them, and a wheel with
    # modules asks for them (the shim then sends them).
    out = tmp_path / "out"
    out.mkdir()
    pure = hook_without_facts(project_copy("purepy"), hook, out)
    assert len(pure) == 1 and pure[0]["result"].startswith("hw_pure-"), pure
    zlib = hook_without_facts(project_copy("zlibcffi"), hook, out)
    if hook == "build_wheel":
        assert zlib == [{"need": "interpreter"}, {"error": "the hook's input ended before the interpreter's facts"}], zlib
        assert not list(out.glob("zlibcffi*")), "nothing is written before the facts are there"
    else:
        assert len(zlib) == 1 and zlib[0]["result"].startswith("zlibcffi-"), zlib


def test_a_wheel_of_shared_libraries_alone_asks_for_the_interpreter(tmp_path):
    # No modules, one shared library: the wheel compiles, so build_wheel
    # needs the compiler flags; through the shim the library is in the wheel.
    p = tmp_path / "libonly"
    (p / "src" / "libonly").mkdir(parents=True)
    (p / "src" / "libonly" / "__init__.py").write_text("")
    (p / "csrc").mkdir()
    (p / "csrc" / "answer.c").write_text("int answer(void) { return 42; }\n")
    (p / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["headerwheel"]\nbuild-backend = "headerwheel"\n'
        '[project]\nname = "libonly"\nversion = "1.0"\n'
        '[tool.headerwheel.shared-libraries."libonly/libanswer.so"]\nsources = ["csrc/answer.c"]\n'
    )
    out = tmp_path / "out"
    out.mkdir()
    r = hook_without_facts(p, "build_wheel", out)
    assert r[0] == {"need": "interpreter"}, r
    build_wheel(p, out)
    whl = next(out.glob("libonly-1.0-*.whl"))
    assert "-none-any" not in whl.name, whl.name
    with zipfile.ZipFile(whl) as z:
        assert "libonly/libanswer.so" in z.namelist(), z.namelist()
