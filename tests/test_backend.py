"""The backend end to end: real pip builds of the fixture projects, with and
without build isolation, installed into fresh venvs, imported and called;
every wheel and sdist validated; reproducibility; bad input."""
import json
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, PY, ROOT, build_wheel, run, sha256, validate_wheel


def only_file(d, pattern):
    files = sorted(Path(d).glob(pattern))
    assert len(files) == 1, files
    return files[0]


def install(venv, wheel, wheelhouse):
    venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, wheel)


def test_zlib_binding_builds_installs_and_calls(tmp_path, fresh_venv, wheelhouse):
    out = tmp_path / "out"
    build_wheel(FIXTURES / "zlibcffi", out)
    whl = only_file(out, "*.whl")
    assert whl.name == "zlibcffi-1.0.0-cp39-abi3-manylinux_2_12_x86_64.manylinux2010_x86_64.whl"
    meta = validate_wheel(whl)
    assert "Requires-Dist: cffi>=1.17; platform_python_implementation != 'PyPy'\n" in meta
    assert "License-Expression: MIT" in meta
    assert "License-File: LICENSE" in meta
    install(fresh_venv, whl, wheelhouse)
    p = fresh_venv.run(
        "-c",
        "import zlib, zlibcffi\n"
        "data = b'headerwheel' * 50\n"
        "assert zlibcffi.crc32(data) == zlib.crc32(data)\n"
        "assert zlibcffi.adler32(data) == zlib.adler32(data)\n"
        "c = zlibcffi.compress(data)\n"
        "assert zlib.decompress(c) == data\n"
        "assert zlibcffi.decompress(c, len(data)) == data\n"
        "print(zlibcffi.zlib_version(), len(c))\n",
    )
    version, size = p.stdout.split()
    assert version.startswith("1.")
    assert 0 < int(size) < 550
    # The console script from [project.scripts].
    p = run([fresh_venv.path / "bin" / "zlibcffi-crc32", "hello"])
    assert p.stdout.strip() == "3610a686"


def test_auditwheel_and_abi3audit_agree_with_the_tag(tmp_path):
    out = tmp_path / "out"
    build_wheel(FIXTURES / "zlibcffi", out)
    whl = only_file(out, "*.whl")
    p = run(["auditwheel", "show", whl])
    assert '"manylinux_2_12_x86_64"' in p.stdout.replace("\n", " "), p.stdout
    run(["abi3audit", "--strict", "--report", whl])


def test_two_modules_and_a_pure_package_with_build_isolation(tmp_path, fresh_venv, hw_dist, wheelhouse):
    out = tmp_path / "out"
    build_wheel(FIXTURES / "multimod", out, isolation=True, hw_dist=hw_dist, wheelhouse=wheelhouse)
    whl = only_file(out, "*.whl")
    meta = validate_wheel(whl)
    assert "Provides-Extra: test" in meta
    assert 'Requires-Dist: pytest>=7; (python_version >= \'3.9\') and extra == "test"' in meta
    names = zipfile.ZipFile(whl).namelist()
    assert "multimod/util/__init__.py" in names
    assert "multimod/_math_cffi.abi3.so" in names and "multimod/_text.abi3.so" in names
    install(fresh_venv, whl, wheelhouse)
    p = fresh_venv.run(
        "-c",
        "import multimod, multimod.util\n"
        "print(multimod.hypot(3.0, 4.0), multimod.shout('abc'), multimod.length('héllo'), multimod.util.double(21))",
    )
    assert p.stdout.split() == ["5.0", "ABC", "6", "42"]


def test_extra_c_sources_are_compiled_in(tmp_path, fresh_venv, wheelhouse):
    out = tmp_path / "out"
    build_wheel(FIXTURES / "extrasrc", out)
    whl = only_file(out, "*.whl")
    validate_wheel(whl)
    install(fresh_venv, whl, wheelhouse)
    p = fresh_venv.run("-c", "import extrasrc as e; print(e.add(2, 40), e.mean([1.0, 2.0, 6.0]), e.scale())")
    assert p.stdout.split() == ["42", "3.0", "3"]


def test_prepare_metadata_equals_the_wheel_metadata(tmp_path):
    code = (
        "import os, sys, json\n"
        "os.chdir(sys.argv[1])\n"
        "import headerwheel as h\n"
        "d = sys.argv[2]\n"
        "name = h.prepare_metadata_for_build_wheel(d)\n"
        "print(json.dumps([name, open(os.path.join(d, name, 'METADATA')).read()]))\n"
    )
    md = tmp_path / "md"
    md.mkdir()
    name, text = json.loads(run([PY, "-c", code, FIXTURES / "zlibcffi", md]).stdout)
    out = tmp_path / "out"
    build_wheel(FIXTURES / "zlibcffi", out)
    whl = only_file(out, "*.whl")
    with zipfile.ZipFile(whl) as z:
        assert z.read(name + "/METADATA").decode() == text


def test_two_builds_give_identical_wheels(tmp_path, project_copy):
    # Two checkouts at different paths, two builds each with its own build dir.
    a = project_copy("zlibcffi")
    b = tmp_path / "elsewhere" / "zlibcffi"
    shutil.copytree(a, b)
    build_wheel(a, tmp_path / "o1")
    build_wheel(b, tmp_path / "o2")
    w1 = only_file(tmp_path / "o1", "*.whl")
    w2 = only_file(tmp_path / "o2", "*.whl")
    assert sha256(w1) == sha256(w2)
    # No build-machine path inside the wheel, not even in the compiled module.
    for whl in (w1,):
        with zipfile.ZipFile(whl) as z:
            for n in z.namelist():
                data = z.read(n)
                assert str(a).encode() not in data, n
                assert str(tmp_path).encode() not in data, n


def test_source_date_epoch_sets_the_timestamps(tmp_path):
    out = tmp_path / "out"
    cmd = [PY, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out,
           "-C", "build-dir=%s" % (tmp_path / "build"), FIXTURES / "extrasrc"]
    run(cmd, env={"SOURCE_DATE_EPOCH": "1700000000"})
    whl = only_file(out, "*.whl")
    with zipfile.ZipFile(whl) as z:
        assert {i.date_time for i in z.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_sdist_then_wheel_equals_the_tree_wheel(tmp_path, project_copy):
    src = project_copy("zlibcffi")
    # Build outputs and ignored files never reach the sdist.
    (src / ".gitignore").write_text("secret.txt\n")
    (src / "secret.txt").write_text("no\n")
    (src / "build").mkdir()
    (src / "build" / "junk.o").write_text("x")
    sd_out = tmp_path / "sd"
    code = "import os, sys; os.chdir(sys.argv[1]); import headerwheel as h; print(h.build_sdist(sys.argv[2]))"
    name = run([PY, "-c", code, src, sd_out]).stdout.strip()
    sdist = sd_out / name
    assert name == "zlibcffi-1.0.0.tar.gz"
    run([PY, "-m", "twine", "check", "--strict", sdist])
    with tarfile.open(sdist) as t:
        members = t.getnames()
        assert "zlibcffi-1.0.0/PKG-INFO" in members
        assert "zlibcffi-1.0.0/src/zlibcffi/_zlib.cdef.txt" in members
        assert not any("secret.txt" in m or "junk.o" in m for m in members), members
        assert all(m.mtime == 315532800 for m in t.getmembers())
        t.extractall(tmp_path / "unpacked", filter="data")
    build_wheel(tmp_path / "unpacked" / "zlibcffi-1.0.0", tmp_path / "from_sdist")
    build_wheel(src, tmp_path / "from_tree")
    assert sha256(only_file(tmp_path / "from_sdist", "*.whl")) == sha256(only_file(tmp_path / "from_tree", "*.whl"))
    # Two sdists are identical too.
    name2 = run([PY, "-c", code, src, tmp_path / "sd2"]).stdout.strip()
    assert sha256(sdist) == sha256(tmp_path / "sd2" / name2)


def test_editable_install_imports_from_the_tree(tmp_path, project_copy, fresh_venv, hw_dist, wheelhouse):
    src = project_copy("extrasrc")
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", hw_dist, "--find-links", wheelhouse, "-e", src)
    p = fresh_venv.run("-c", "import extrasrc; print(extrasrc.__file__, extrasrc.add(1, 2))")
    path, value = p.stdout.split()
    assert Path(path).resolve() == (src / "src" / "extrasrc" / "__init__.py").resolve()
    assert value == "3"
    # Editing the Python code takes effect without rebuilding.
    init = src / "src" / "extrasrc" / "__init__.py"
    init.write_text(init.read_text() + "\nEDITED = True\n")
    assert fresh_venv.run("-c", "import extrasrc; print(extrasrc.EDITED)").stdout.strip() == "True"


@pytest.mark.parametrize(
    "case",
    [
        "malformed",
        "unknown-key",
        "bad-version",
        "bad-license",
        "missing-cdef",
        "cdef-syntax",
        "missing-library",
        "compile-error",
    ],
)
def test_bad_input_is_reported_and_leaves_no_file(tmp_path, project_copy, case):
    src = project_copy("zlibcffi")
    pp = src / "pyproject.toml"
    text = pp.read_text()
    expect = []
    if case == "malformed":
        pp.write_text(text.replace('version = "1.0.0"', 'version = "1.0.0'))
        expect = ["pyproject.toml:7:", "invalid TOML"]
    elif case == "unknown-key":
        pp.write_text(text.replace('libraries = ["z"]', 'libraries = ["z"]\nlibrary = ["x"]'))
        expect = ["pyproject.toml:", "tool.headerwheel.modules.\"zlibcffi._zlib_cffi\".library", "unknown key 'library'", "did you mean 'libraries'"]
    elif case == "bad-version":
        pp.write_text(text.replace('version = "1.0.0"', 'version = "one"'))
        expect = ["pyproject.toml:7:11: project.version: 'one' is not a valid PEP 440 version", "^^^^^"]
    elif case == "bad-license":
        pp.write_text(text.replace('license = "MIT"', 'license = "MIT-ish"'))
        expect = ["project.license", "'MIT-ish' is not a known SPDX license identifier"]
    elif case == "missing-cdef":
        pp.write_text(text + '\n[tool.headerwheel.modules."zlibcffi._other"]\ncdef = "nope.cdef"\npreamble-code = ""\n')
        expect = ["the cdef file 'nope.cdef' does not exist"]
    elif case == "cdef-syntax":
        cd = src / "src" / "zlibcffi" / "_zlib.cdef.txt"
        cd.write_text(cd.read_text().replace("uLong compressBound(uLong sourceLen);", "uLong compressBound(uLong sourceLen) oops;"))
        expect = ["module zlibcffi._zlib_cffi", "src/zlibcffi/_zlib.cdef.txt:9:", "uLong compressBound(uLong sourceLen) oops;", "^"]
    elif case == "missing-library":
        pp.write_text(text.replace('libraries = ["z"]', 'libraries = ["z_does_not_exist"]'))
        expect = ["module zlibcffi._zlib_cffi: linking failed", "z_does_not_exist"]
    elif case == "compile-error":
        cs = src / "src" / "zlibcffi" / "_zlib.csrc.c"
        cs.write_text("#include <zlib_missing_header.h>\n")
        expect = ["module zlibcffi._zlib_cffi: compiling", "zlib_missing_header.h"]
    out = tmp_path / "out"
    out.mkdir()
    # Call the hook as a frontend does (pip itself cannot read a malformed
    # pyproject.toml, so it would never reach the backend).
    code = "import os, sys; os.chdir(sys.argv[1]); import headerwheel as h; h.build_wheel(sys.argv[2])"
    p = run([PY, "-c", code, src, out], check=False)
    assert p.returncode == 1
    for e in expect:
        assert e in p.stderr, "%r not in:\n%s" % (e, p.stderr)
    assert list(out.iterdir()) == []
    assert "Traceback" not in p.stderr
    assert p.stdout == ""
