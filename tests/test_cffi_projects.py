"""The CFFI fixture projects through a real pip: zlib (API mode, system
libz, headerkit's file convention), duo (two API-mode modules compiled in
parallel, one ABI-mode module, a pure package beside them, src layout),
extra (extra C sources, include dirs, macros, libm)."""

import subprocess
import sys
import zipfile

import pytest

from conftest import (
    copy_fixture, needs_emitter, only_wheel, pip_wheel, run, sha256, validate_sdist, validate_wheel,
)

CALLS = {
    "zlib": (
        "import hwzlib, zlib; d = b'headerwheel' * 50; "
        "assert hwzlib.crc32(d) == zlib.crc32(d); "
        "c = hwzlib.compress(d); assert hwzlib.decompress(c, len(d)) == d; "
        "print(hwzlib.crc32(b'hello'), hwzlib.zlib_version() == zlib.ZLIB_RUNTIME_VERSION)",
        "907060870 True",
    ),
    "duo": (
        "import duo, duo_tools; print(duo.add(2, 40), duo.mul_add(6, 7, 0), duo.count_char(b'banana', b'a'), "
        "duo.c_strlen(b'four'), duo_tools.mean([1, 2, 3]))",
        "42 42 3 4 2.0",
    ),
    "extra": ("import extra; print(extra.distance((0, 0), (3, 4)), extra.scale())", "5.0 2"),
}

MODULE_FILES = {
    "zlib": ["hwzlib/_zlib_cffi.abi3.so"],
    "duo": ["duo/_arith_cffi.abi3.so", "duo/_libc_cffi.py", "duo/_text_cffi.abi3.so"],
    "extra": ["extra/_geom_cffi.abi3.so"],
}

ABI3_TAG = {"zlib": "cp39-abi3", "duo": "cp310-abi3", "extra": "cp39-abi3"}


@needs_emitter
@pytest.mark.parametrize("isolation", [True, False], ids=["isolated", "no-isolation"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_build_validate_install_call(builder, fresh_venv, tmp_path, name, isolation):
    project = copy_fixture(name, tmp_path)
    out = tmp_path / "out"
    pip_wheel(builder, project, out, isolation=isolation)
    wheel = only_wheel(out)
    assert wheel.name.split("-", 2)[2].startswith(ABI3_TAG[name] + "-manylinux_"), wheel.name
    meta = validate_wheel(builder, wheel, project)
    assert "cffi>=2.0" in meta.get_all("Requires-Dist")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        for f in MODULE_FILES[name]:
            assert f in names, names
        assert not any(n.endswith((".c", ".cdef.txt", ".o")) for n in names), names
    # auditwheel agrees with our platform tag.
    shown = run([sys.executable, "-m", "auditwheel", "show", wheel]).stdout
    plat = wheel.stem.split("-")[-1].split(".")[0]
    assert f'"{plat}"' in shown.replace("\n", " "), shown

    v = fresh_venv()
    v.pip("install", "-q", "--find-links", out, wheel)
    code, expected = CALLS[name]
    assert v.py(code).stdout.strip() == expected


@needs_emitter
@pytest.mark.parametrize("name", sorted(CALLS))
def test_reproducible_and_sdist_roundtrip(builder, tmp_path, name):
    project = copy_fixture(name, tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    pip_wheel(builder, project, first, isolation=False)
    pip_wheel(builder, project, second, isolation=False)
    assert sha256(only_wheel(first)) == sha256(only_wheel(second))

    sd = tmp_path / "sdist"
    run([builder.python, "-m", "build", "--sdist", "--no-isolation", "-o", sd, project])
    sdist = next(sd.glob("*.tar.gz"))
    validate_sdist(sdist)
    import tarfile

    with tarfile.open(sdist) as t:
        t.extractall(tmp_path / "unpacked", filter="data")
    unpacked = next((tmp_path / "unpacked").iterdir())
    from_sdist = tmp_path / "c"
    pip_wheel(builder, unpacked, from_sdist, isolation=False)
    assert sha256(only_wheel(from_sdist)) == sha256(only_wheel(first))


@needs_emitter
def test_editable_builds_modules_in_place(builder, tmp_path):
    project = copy_fixture("duo", tmp_path)
    builder.pip("install", "-q", "--no-build-isolation", "--no-deps", "-e", project)
    try:
        assert (project / "src/duo/_arith_cffi.abi3.so").is_file()
        code, expected = CALLS["duo"]
        assert builder.py(code).stdout.strip() == expected
        # Change the C source; reinstalling rebuilds in place.
        csrc = project / "src/duo/_arith.csrc.c"
        csrc.write_text(csrc.read_text().replace("return a + b;", "return a + b + 1;"))
        builder.pip("install", "-q", "--no-build-isolation", "--no-deps", "-e", project)
        assert builder.py("import duo; print(duo.add(2, 40))").stdout.strip() == "43"
    finally:
        builder.pip("uninstall", "-q", "-y", "hw-duo")


@needs_emitter
def test_build_dir_cache_and_settings(builder, tmp_path):
    project = copy_fixture("zlib", tmp_path)
    bdir = tmp_path / "bdir"
    out = tmp_path / "out"
    p = pip_wheel(builder, project, out, isolation=False, extra=["-v", "-C", f"build-dir={bdir}", "-C", "verbose=true"])
    assert "[hwzlib._zlib_cffi] compile: " in p.stderr + p.stdout
    assert (bdir / "src" / "hwzlib._zlib_cffi.c").is_file()
    first = sha256(only_wheel(out))
    p = pip_wheel(builder, project, out, isolation=False, extra=["-v", "-C", f"build-dir={bdir}"])
    assert "unchanged, reusing" in p.stderr + p.stdout
    assert sha256(only_wheel(out)) == first
    p = pip_wheel(builder, project, out, isolation=False, extra=["-v", "-C", f"build-dir={bdir}", "-C", "skip-cache=true", "-C", "abi3=false"])
    assert "unchanged, reusing" not in p.stderr + p.stdout
    wheels = sorted(out.glob("*.whl"))
    assert any("-cp311-cp311-" in w.name or f"-cp{sys.version_info[0]}{sys.version_info[1]}-" in w.name for w in wheels), wheels
