"""A module split into several translation units (`-C split=N`) behaves as
the single file does: same calls, same results, nothing but its PyInit_
exported; and a preamble that is not only preprocessor lines keeps the
module in one file."""
import shutil
import subprocess
import zipfile

from conftest import FIXTURES, PY, build_wheel, run, validate_wheel


def exported(so):
    out = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True, check=True).stdout
    return sorted(line.split()[2] for line in out.splitlines() if len(line.split()) == 3)


def test_a_split_module_calls_the_same_and_exports_only_its_init(tmp_path, fresh_venv, wheelhouse):
    out = tmp_path / "out"
    p = build_wheel(FIXTURES / "zlibcffi", out, settings=["split=3", "no-cache=true", "verbose=true"])
    whl = next(out.glob("*.whl"))
    validate_wheel(whl)
    with zipfile.ZipFile(whl) as z:
        so_name = next(n for n in z.namelist() if n.endswith(".so"))
        (tmp_path / "m.so").write_bytes(z.read(so_name))
    assert exported(tmp_path / "m.so") == ["PyInit__zlib_cffi"]
    build_dir = tmp_path / "build-out" / "zlibcffi._zlib_cffi"
    parts = sorted(build_dir.glob("*.part*.c"))
    assert len(parts) == 4, parts  # the tables and three parts of wrappers
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, whl)
    fresh_venv.run(
        "-c",
        "import zlib, zlibcffi\n"
        "data = b'split' * 99\n"
        "assert zlibcffi.crc32(data) == zlib.crc32(data)\n"
        "assert zlibcffi.adler32(data) == zlib.adler32(data)\n"
        "assert zlibcffi.decompress(zlibcffi.compress(data), len(data)) == data\n",
    )


def test_a_preamble_with_code_is_not_split(tmp_path):
    src = tmp_path / "extrasrc"
    shutil.copytree(FIXTURES / "extrasrc", src, ignore=shutil.ignore_patterns("build"))
    csrc = next((src / "src" / "extrasrc").glob("*.csrc.c"))
    csrc.write_text(csrc.read_text() + "\nstatic int hw_state;\n")
    code = ("import os, sys; os.chdir(sys.argv[1]); import headerwheel as h; "
            "h.build_wheel(sys.argv[2], {'build-dir': sys.argv[3], 'split': '2', 'no-cache': 'true'})")
    p = run([PY, "-c", code, src, tmp_path / "o", tmp_path / "b"])
    assert "compiled as one file: the split needs a preamble of preprocessor lines only" in p.stderr, p.stderr
    assert not list((tmp_path / "b").rglob("*.part*.c"))
