"""Reliability: bad input gives the exact error (snapshots under
tests/snapshots/bad-input/), a non-zero exit, and leaves the output directory,
the .headerkit store and the compile cache as they were; a panic never
crosses into Python; parallel builds sharing a build directory and cache, and
builds killed mid-way, never leave anything half-written; the same inputs
give the same bytes whatever the checkout path, umask or locale; a build
writes only where it may and ships no path of the build machine.

HEADERWHEEL_UPDATE_SNAPSHOTS=1 rewrites the snapshots."""
import difflib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, PY, ROOT, run, sha256

SNAPSHOTS = ROOT / "tests" / "snapshots" / "bad-input"
HOOK = (
    "import json, os, sys; os.chdir(sys.argv[1]); import headerwheel as h; "
    "s = dict(json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}, **{'build-dir': sys.argv[4]}); "
    "print(getattr(h, sys.argv[3])(sys.argv[2], s))"
)


def hook(src, out, build_dir, env=None, name="build_wheel", timeout=600, memory=None, settings=None, python=PY):
    """Calls a PEP 517 hook in a fresh interpreter, as a frontend does (pip
    itself refuses a malformed pyproject.toml before reaching the backend);
    `settings` are config settings besides build-dir; `memory` caps its
    address space (prlimit --as) in bytes."""
    cmd = [python, "-c", HOOK, src, out, name, build_dir, json.dumps(settings or {})]
    if memory:
        cmd = ["prlimit", "--as=%d" % memory, "--"] + cmd
    return run(cmd, env=env, check=False, timeout=timeout)


def tree_state(*dirs):
    """Every file under `dirs` with its hash (the 'unchanged' check)."""
    state = {}
    for d in dirs:
        d = Path(d)
        if not d.exists():
            continue
        for p in sorted(d.rglob("*")):
            if p.is_file() and not p.name.startswith(".headerwheel-lock"):
                state[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return state


def error_text(stderr, src, tmp):
    """The error part of stderr (from the first 'error:' line), with the
    test's temporary paths made stable."""
    lines = stderr.splitlines()
    start = next((i for i, l in enumerate(lines) if "error:" in l), 0)
    text = "\n".join(lines[start:]) + "\n"
    import sysconfig

    text = text.replace(str(src), "<project>").replace(str(tmp), "<tmp>")
    text = text.replace(sysconfig.get_paths()["include"], "<python-include>")
    return re.sub(r"/tmp/[^ :'\"]*", "<tmpfile>", text)


def check_snapshot(name, text):
    path = SNAPSHOTS / (name + ".txt")
    if os.environ.get("HEADERWHEEL_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), "no snapshot %s (HEADERWHEEL_UPDATE_SNAPSHOTS=1 writes it):\n%s" % (path, text)
    want = path.read_text()
    if text != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True), "snapshot", "now"))
        pytest.fail("error text differs from %s:\n%s" % (path, diff))


def edit(path, old, new):
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


# Each case: (fixture project, edit(src, tmp) -> extra environment or None).
def _malformed(src, tmp):
    edit(src / "pyproject.toml", 'version = "1.0.0"', 'version = "1.0.0')


def _unknown_key(src, tmp):
    edit(src / "pyproject.toml", 'libraries = ["z"]', 'libraries = ["z"]\nlibrary-dir = ["x"]')


def _wrong_type(src, tmp):
    edit(src / "pyproject.toml", 'libraries = ["z"]', 'libraries = "z"')


def _unset_var(src, tmp):
    edit(src / "pyproject.toml", 'include_dirs = ["include"]', 'include_dirs = ["${HW_TEST_NOT_SET}/include"]')


def _missing_header(src, tmp):
    edit(src / "pyproject.toml", 'pattern = "include/shapes.h"', 'pattern = "include/shapez.h"')


def _header_syntax(src, tmp):
    h = src / "include" / "shapes.h"
    text = h.read_text()
    h.write_text(text + "\nint broken(int x;\nunknown_t make_unknown(void);\n")


def _cdef_syntax(src, tmp):
    edit(src / "src" / "zlibcffi" / "_zlib.cdef.txt", "uLong compressBound(uLong sourceLen);", "uLong compressBound(uLong sourceLen) oops;")


def _not_exported(src, tmp):
    cd = src / "src" / "zlibcffi" / "_zlib.cdef.txt"
    cd.write_text(cd.read_text() + "int zlib_has_no_such_function(int);\n")


def _missing_library(src, tmp):
    edit(src / "pyproject.toml", 'libraries = ["z"]', 'libraries = ["z_does_not_exist"]')


def _missing_compiler(src, tmp):
    return {"CC": "/nonexistent/bin/cc"}


def _preamble_error(src, tmp):
    (src / "src" / "zlibcffi" / "_zlib.csrc.c").write_text("#include <zlib.h>\nint oops(void) { return nope; }\n")


def _cdef_outside(src, tmp):
    (src.parent / "outside.cdef").write_text("int f(void);\n")
    edit(src / "pyproject.toml", 'libraries = ["z"]', 'libraries = ["z"]\ncdef = "../outside.cdef"')


def _cdef_absolute(src, tmp):
    edit(src / "pyproject.toml", 'libraries = ["z"]', 'libraries = ["z"]\ncdef = "/etc/hostname"')


def _cdef_symlink(src, tmp):
    (src.parent / "outside.cdef").write_text("int f(void);\n")
    os.symlink(src.parent / "outside.cdef", src / "link.cdef")
    edit(src / "pyproject.toml", 'libraries = ["z"]', 'libraries = ["z"]\ncdef = "link.cdef"')


def _output_outside(src, tmp):
    edit(src / "pyproject.toml", 'cffi = "src/localhdr/_shapes.cdef.txt"', 'cffi = "../../evil.cdef.txt"')


def _package_symlink_out(src, tmp):
    (src.parent / "secret.txt").write_text("build machine secret\n")
    os.symlink(src.parent / "secret.txt", src / "src" / "zlibcffi" / "data.txt")


def _zip_slip_name(src, tmp):
    (src / "src" / "zlibcffi" / "..\\..\\evil.py").write_text("x = 1\n")


def _secret(src):
    """A file of the build machine beside the project: never to be read."""
    (src.parent / "secret.txt").write_text("build machine secret\n")


def _license_table_outside(src, tmp):
    _secret(src)
    edit(src / "pyproject.toml", 'license = "MIT"\nlicense-files = ["LICENSE"]', 'license = {file = "src/../../secret.txt"}')


def _license_table_absolute(src, tmp):
    edit(src / "pyproject.toml", 'license = "MIT"\nlicense-files = ["LICENSE"]', 'license = {file = "/etc/hostname"}')


def _readme_outside(src, tmp):
    _secret(src)
    edit(src / "pyproject.toml", 'readme = "README.md"', 'readme = "../secret.txt"')


def _readme_absolute(src, tmp):
    edit(src / "pyproject.toml", 'readme = "README.md"', 'readme = "/etc/passwd"')


def _readme_fifo(src, tmp):
    (src / "README.md").unlink()
    os.mkfifo(src / "README.md")


def _readme_dev_zero(src, tmp):
    (src / "README.md").unlink()
    os.symlink("/dev/zero", src / "README.md")


def _cdef_fifo(src, tmp):
    cdef = src / "src" / "zlibcffi" / "_zlib.cdef.txt"
    cdef.unlink()
    os.mkfifo(cdef)
    edit(src / "pyproject.toml", 'libraries = ["z"]', 'libraries = ["z"]\ncdef = "src/zlibcffi/_zlib.cdef.txt"')


def _store_outside(src, tmp):
    edit(src / "pyproject.toml", 'include_dirs = ["include"]', 'include_dirs = ["include"]\nstore_dir = "../../elsewhere"')


def _abi_module(name):
    def prepare(src, tmp):
        (src / "src" / "zlibcffi" / "_x.py").write_text("x = 1\n")
        with open(src / "pyproject.toml", "a") as f:
            f.write('\n[tool.headerwheel.modules."%s"]\nmode = "abi"\ncdef-code = "int f(int);"\n' % name)
    return prepare


def _shared_lib_in_dist_info(src, tmp):
    with open(src / "pyproject.toml", "a") as f:
        f.write('\n[tool.headerwheel.shared-libraries."zlibcffi-1.0.0.dist-info/libx.so"]\nsources = ["src/zlibcffi/_zlib.csrc.c"]\n')


def _cdef_non_ascii_error(src, tmp):
    cd = src / "src" / "zlibcffi" / "_zlib.cdef.txt"
    cd.write_text(cd.read_text() + "/* é */ x y;\n", encoding="utf-8")


def _cdef_invalid_utf8(src, tmp):
    cd = src / "src" / "zlibcffi" / "_zlib.cdef.txt"
    cd.write_bytes(cd.read_bytes() + b"int caf\xe9(void);\n")


def _pyproject_invalid_utf8(src, tmp):
    pp = src / "pyproject.toml"
    pp.write_bytes(pp.read_bytes().replace(b'description = "zlib', b'description = "\xff zlib', 1))


def _bad_source_date_epoch(src, tmp):
    return {"SOURCE_DATE_EPOCH": "yesterday"}


def _cc_unbalanced_quote(src, tmp):
    return {"CC": "gcc '-DX=1"}


CASES = {
    "malformed-toml": ("zlibcffi", _malformed),
    "unknown-key": ("zlibcffi", _unknown_key),
    "wrong-type": ("zlibcffi", _wrong_type),
    "unset-variable": ("localhdr", _unset_var),
    "missing-header": ("localhdr", _missing_header),
    "header-syntax-error": ("localhdr", _header_syntax),
    "cdef-syntax-error": ("zlibcffi", _cdef_syntax),
    "not-exported": ("zlibcffi", _not_exported),
    "missing-library": ("zlibcffi", _missing_library),
    "missing-compiler": ("zlibcffi", _missing_compiler),
    "preamble-compile-error": ("zlibcffi", _preamble_error),
    "cdef-outside-project": ("zlibcffi", _cdef_outside),
    "cdef-absolute-path": ("zlibcffi", _cdef_absolute),
    "cdef-symlink-out": ("zlibcffi", _cdef_symlink),
    "output-outside-project": ("localhdr", _output_outside),
    "package-symlink-out": ("zlibcffi", _package_symlink_out),
    "zip-slip-name": ("zlibcffi", _zip_slip_name),
    "license-table-outside": ("zlibcffi", _license_table_outside),
    "license-table-absolute": ("zlibcffi", _license_table_absolute),
    "readme-outside": ("zlibcffi", _readme_outside),
    "readme-absolute": ("zlibcffi", _readme_absolute),
    "readme-fifo": ("zlibcffi", _readme_fifo),
    "readme-dev-zero": ("zlibcffi", _readme_dev_zero),
    "cdef-fifo": ("zlibcffi", _cdef_fifo),
    "store-dir-outside": ("localhdr", _store_outside),
    "module-keyword": ("zlibcffi", _abi_module("zlibcffi.class")),
    "module-replaces-init": ("zlibcffi", _abi_module("zlibcffi.__init__")),
    "module-shadows-package-file": ("zlibcffi", _abi_module("zlibcffi._x")),
    "module-name-too-long": ("zlibcffi", _abi_module("zlibcffi." + "m" * 300)),
    "shared-library-in-dist-info": ("zlibcffi", _shared_lib_in_dist_info),
    "cdef-non-ascii-before-error": ("zlibcffi", _cdef_non_ascii_error),
    "cdef-invalid-utf8": ("zlibcffi", _cdef_invalid_utf8),
    "pyproject-invalid-utf8": ("zlibcffi", _pyproject_invalid_utf8),
    "source-date-epoch-not-a-number": ("zlibcffi", _bad_source_date_epoch),
    "cc-unbalanced-quote": ("zlibcffi", _cc_unbalanced_quote),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_matrix(tmp_path, case):
    fixture, prepare = CASES[case]
    src = tmp_path / "p" / fixture
    shutil.copytree(FIXTURES / fixture, src)
    env = prepare(src, tmp_path) or {}
    cache = tmp_path / "compile-cache"
    cache.mkdir()
    env = dict(env, HEADERWHEEL_CACHE_DIR=str(cache))
    out = tmp_path / "out"
    out.mkdir()
    before = tree_state(src / ".headerkit", cache)
    # A hostile input must fail fast: never hang on a FIFO or read /dev/zero
    # until memory runs out (a regression fails here instead of hanging CI).
    p = hook(src, out, tmp_path / "build", env=env, timeout=120, memory=2 << 30)
    assert p.returncode == 1, "exit %d\n%s" % (p.returncode, p.stderr)
    assert p.stdout == ""
    assert "Traceback" not in p.stderr and "panicked" not in p.stderr, p.stderr
    assert list(out.iterdir()) == [], "output left behind"
    if case == "not-exported":
        # Found after linking: the compile cache keeps the (correct) module
        # its inputs make; a rebuild hits it and fails the same way.
        before = {k: v for k, v in before.items() if not k.startswith(str(cache))}
        assert tree_state(src / ".headerkit") == before, "store changed"
    else:
        assert tree_state(src / ".headerkit", cache) == before, "store or cache changed"
    check_snapshot(case, error_text(p.stderr, src, tmp_path))


def test_a_corrupt_truncated_or_binary_cache_object_is_reported_and_never_served(tmp_path):
    src = tmp_path / "localhdr"
    shutil.copytree(FIXTURES / "localhdr", src)
    out = tmp_path / "out"
    assert hook(src, out, tmp_path / "b").returncode == 0
    good = sha256(next(out.glob("*.whl")))
    objects = sorted((src / ".headerkit" / "objects").rglob("*"))
    objects = [o for o in objects if o.is_file()]
    assert objects
    for damage in ("truncated", "binary", "corrupt"):
        for o in objects:
            data = o.read_bytes()
            o.write_bytes({"truncated": data[: len(data) // 2], "binary": b"\x00\xff" * 40, "corrupt": data.replace(b"int", b"long", 1) or b"x"}[damage])
        shutil.rmtree(out)
        p = hook(src, out, tmp_path / "b")
        assert p.returncode == 0, p.stderr
        assert "does not match its hash" in p.stderr or "damaged" in p.stderr, p.stderr
        assert sha256(next(out.glob("*.whl"))) == good, damage
        # Healed: the next build reads the store without complaint.
        p = hook(src, out, tmp_path / "b")
        assert "damaged" not in p.stderr and "does not match" not in p.stderr, p.stderr


def test_a_panic_becomes_an_error_naming_the_stage(tmp_path):
    src = tmp_path / "zlibcffi"
    shutil.copytree(FIXTURES / "zlibcffi", src)
    out = tmp_path / "out"
    for stage in ("reading the configuration", "emitting module", "compiling", "tagging and writing"):
        p = hook(src, out, tmp_path / "b", env={"HEADERWHEEL_INTERNAL_TEST_PANIC": stage})
        assert p.returncode == 1, p.stderr
        assert "Traceback" not in p.stderr
        assert "headerwheel: error: internal error (a bug in headerwheel) in %s" % stage in p.stderr, p.stderr
        assert "a deliberate panic" in p.stderr
        assert not out.exists() or list(out.iterdir()) == []
    # The command line: a non-zero exit and the message.
    hdr = tmp_path / "localhdr"
    shutil.copytree(FIXTURES / "localhdr", hdr)
    p = run([PY, "-m", "headerwheel", "cache", "populate", hdr], env={"HEADERWHEEL_INTERNAL_TEST_PANIC": "parsing the headers"}, check=False)
    assert p.returncode != 0
    assert "internal error (a bug in headerwheel) in parsing the headers of module localhdr._shapes_cffi: a deliberate panic" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def _read_only_mount(path):
    """Makes `path` a read-only bind mount (root only); False when the
    machine does not allow it."""
    try:
        subprocess.run(["mount", "--bind", path, path], check=True, capture_output=True)
        subprocess.run(["mount", "-o", "remount,ro,bind", path, path], check=True, capture_output=True)
        return True
    except (OSError, subprocess.CalledProcessError):
        subprocess.run(["umount", path], capture_output=True)
        return False


def test_a_read_only_store_is_used_and_the_build_succeeds(tmp_path):
    src = tmp_path / "localhdr"
    shutil.copytree(FIXTURES / "localhdr", src)
    assert hook(src, tmp_path / "o1", tmp_path / "b").returncode == 0
    store = src / ".headerkit"
    if not _read_only_mount(store):
        pytest.skip("this machine does not allow a read-only bind mount (needs root)")
    try:
        # A hit needs no write.
        p = hook(src, tmp_path / "o2", tmp_path / "b")
        assert p.returncode == 0, p.stderr
        # A miss cannot be stored: reported, the build goes on.
        edit(src / "include" / "shapes.h", "#endif", "#define SHAPES_EXTRA 5\n#endif")
        p = hook(src, tmp_path / "o3", tmp_path / "b")
        assert p.returncode == 0, p.stderr
        assert "Read-only file system" in p.stderr, p.stderr
    finally:
        subprocess.run(["umount", store], check=True)


def test_a_full_disk_leaves_no_partial_wheel(tmp_path):
    src = tmp_path / "zlibcffi"
    shutil.copytree(FIXTURES / "zlibcffi", src)
    # A little padding so the wheel cannot fit.
    (src / "src" / "zlibcffi" / "blob.bin").write_bytes(os.urandom(256 * 1024))
    out = tmp_path / "out"
    out.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", out], capture_output=True)
    if p.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs (needs root)")
    try:
        p = hook(src, out, tmp_path / "b")
        assert p.returncode == 1, p.stderr
        assert "No space left on device" in p.stderr, p.stderr
        assert list(out.iterdir()) == [], list(out.iterdir())
    finally:
        subprocess.run(["umount", out], check=True)


def test_eight_parallel_builds_share_a_build_directory_and_cache(tmp_path):
    src = tmp_path / "localhdr"
    shutil.copytree(FIXTURES / "localhdr", src)
    cache = tmp_path / "cache"
    env = dict(os.environ, HEADERWHEEL_CACHE_DIR=str(cache))
    env.pop("PYTHONPATH", None)
    procs = []
    for i in range(8):
        out = tmp_path / ("out%d" % i)
        procs.append((out, subprocess.Popen([PY, "-c", HOOK, src, out, "build_wheel", tmp_path / "shared-build"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    hashes = set()
    for out, pr in procs:
        so, se = pr.communicate(timeout=600)
        assert pr.returncode == 0, se
        hashes.add(sha256(next(out.glob("*.whl"))))
    assert len(hashes) == 1, hashes
    p = run([PY, "-m", "headerwheel", "cache", "verify", src / ".headerkit"], check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def test_builds_killed_at_random_points_never_leave_half_written_files(tmp_path):
    src = tmp_path / "zlibcffi"
    shutil.copytree(FIXTURES / "zlibcffi", src)
    out = tmp_path / "out"
    cache = tmp_path / "cache"
    env = dict(os.environ, HEADERWHEEL_CACHE_DIR=str(cache))
    env.pop("PYTHONPATH", None)
    rng = random.Random(20261202)
    seen = set()
    for i in range(8):
        # Alternate clean and cached builds, so kills land in every stage.
        if i % 2 == 0:
            shutil.rmtree(cache, ignore_errors=True)
        pr = subprocess.Popen([PY, "-c", HOOK, src, out, "build_wheel", tmp_path / "build"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + rng.uniform(0.05, 1.5)
        while time.monotonic() < deadline and pr.poll() is None:
            # Whatever is visible under the wheel's name is a complete wheel.
            for w in out.glob("*.whl") if out.exists() else []:
                seen.add(w.name)
                with zipfile.ZipFile(w) as z:
                    assert z.testzip() is None
            time.sleep(0.01)
        pr.send_signal(signal.SIGKILL)
        pr.wait()
    # The next build succeeds and equals a build from scratch.
    p = hook(src, out, tmp_path / "build", env={"HEADERWHEEL_CACHE_DIR": str(cache)})
    assert p.returncode == 0, p.stderr
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1
    assert [f.name for f in out.iterdir() if not f.name.endswith(".whl")] == [], "temporaries left behind"
    fresh = tmp_path / "fresh"
    assert hook(src, fresh, tmp_path / "build2", env={"HEADERWHEEL_CACHE_DIR": str(tmp_path / "cache2")}).returncode == 0
    assert sha256(wheels[0]) == sha256(next(fresh.glob("*.whl")))


def test_same_bytes_across_checkout_paths_umask_and_locale(tmp_path):
    results = []
    for i, (umask, lang) in enumerate([("022", "C"), ("077", "C.UTF-8"), ("002", "en_US.UTF-8")]):
        src = tmp_path / ("checkout-%d-%s" % (i, "x" * i)) / "zlibcffi"
        shutil.copytree(FIXTURES / "zlibcffi", src)
        out = tmp_path / ("out%d" % i)
        # HOOK reads its settings from argv[5]: the code to run is argv[6].
        code = "import os, sys; os.umask(0o%s); exec(sys.argv[6])" % umask
        env = {"LC_ALL": lang, "LANG": lang, "SOURCE_DATE_EPOCH": "1700000000", "HEADERWHEEL_CACHE_DIR": str(tmp_path / ("c%d" % i))}
        for name in ("build_wheel", "build_sdist"):
            p = run([PY, "-c", code, src, out, name, tmp_path / ("b%d" % i), "{}", HOOK], env=env, check=False)
            assert p.returncode == 0, p.stderr
        got = {f.name: sha256(f) for f in out.iterdir()}
        results.append(got)
    assert results[0] == results[1] == results[2], results
    # SOURCE_DATE_EPOCH is the timestamp of every entry.
    whl = next((tmp_path / "out0").glob("*.whl"))
    with zipfile.ZipFile(whl) as z:
        assert {i.date_time for i in z.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_a_build_writes_only_its_output_build_and_cache_directories_and_ships_no_build_paths(tmp_path):
    src = tmp_path / "project-path-marker" / "localhdr"
    shutil.copytree(FIXTURES / "localhdr", src)
    home = tmp_path / "home"
    home.mkdir()
    out, build, cache = tmp_path / "out", tmp_path / "build-path-marker", tmp_path / "cache"
    watched = [tmp_path, home]
    before = tree_state(*watched)
    (tmp_path / "tmp").mkdir()
    p = hook(src, out, build, env={"HOME": str(home), "HEADERWHEEL_CACHE_DIR": str(cache), "TMPDIR": str(tmp_path / "tmp")})
    assert p.returncode == 0, p.stderr
    after = tree_state(*watched)
    allowed = (str(out), str(build), str(cache), str(src / ".headerkit"), str(src / "src" / "localhdr" / "_shapes.cdef.txt"))
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k) and not k.startswith(allowed))
    assert changed == [], changed
    assert tree_state(home) == {}
    # No path of the build machine in any file of the wheel (the compiled
    # module included: its debug information is mapped with -ffile-prefix-map).
    whl = next(out.glob("*.whl"))
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            data = z.read(info)
            for marker in (b"project-path-marker", b"build-path-marker", str(tmp_path).encode(), str(home).encode()):
                assert marker not in data, (info.filename, marker)


def _ccache_stats(ccache_dir):
    p = run(["ccache", "--print-stats"], env={"CCACHE_DIR": str(ccache_dir)})
    stats = dict(l.split("\t", 1) for l in p.stdout.splitlines() if "\t" in l)
    hits = int(stats.get("direct_cache_hit", 0)) + int(stats.get("preprocessed_cache_hit", 0))
    return hits, int(stats.get("cache_miss", 0))


@pytest.mark.parametrize("how", ["CC", "setting", "environment"])
def test_ccache_in_front_of_the_compiler_is_used_and_changes_no_byte(tmp_path, how):
    """CC="ccache gcc", -C compiler-launcher=ccache and
    HEADERWHEEL_COMPILER_LAUNCHER=ccache build the fixture; after the compile
    cache is emptied, the next build is a ccache hit with the same bytes."""
    if shutil.which("ccache") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ccache is missing: scripts/setup installs it")
        pytest.skip("ccache is not installed (scripts/setup installs it)")
    src = tmp_path / "zlibcffi"
    shutil.copytree(FIXTURES / "zlibcffi", src)
    ccache_dir = tmp_path / "ccache"
    env = {"CCACHE_DIR": str(ccache_dir), "SOURCE_DATE_EPOCH": "1700000000"}
    settings = {}
    if how == "CC":
        env["CC"] = "ccache gcc"
    elif how == "setting":
        settings["compiler-launcher"] = "ccache"
    else:
        env["HEADERWHEEL_COMPILER_LAUNCHER"] = "ccache"
    wheels = []
    for i in range(2):
        cache = tmp_path / ("compile-cache-%d" % i)  # empty each time
        out = tmp_path / ("out%d" % i)
        p = hook(src, out, tmp_path / "build", env=dict(env, HEADERWHEEL_CACHE_DIR=str(cache)), settings=settings)
        assert p.returncode == 0, p.stderr
        assert "taken from the compile cache" not in p.stderr
        wheels.append(sha256(next(out.glob("*.whl"))))
        hits, misses = _ccache_stats(ccache_dir)
        if i == 0:
            assert (hits, misses > 0) == (0, True), (hits, misses)
        else:
            assert hits > 0, (hits, misses)
    # Without ccache: the same bytes.
    p = hook(src, tmp_path / "plain", tmp_path / "build", env={"SOURCE_DATE_EPOCH": "1700000000", "HEADERWHEEL_CACHE_DIR": str(tmp_path / "c-plain")})
    assert p.returncode == 0, p.stderr
    assert wheels == [sha256(next((tmp_path / "plain").glob("*.whl")))] * 2


def _interpreter_at(prefix):
    """The running CPython under another prefix: its binary copied to
    PREFIX/bin/python3, its lib/ and include/ linked, so sysconfig names
    PREFIX/include/... while the headers' bytes stay the same."""
    import sys
    import sysconfig
    base = Path(sys.base_prefix)
    (prefix / "bin").mkdir(parents=True)
    exe = prefix / "bin" / "python3"
    shutil.copy2(os.path.realpath(sys.executable), exe)
    for d in ("lib", "include"):
        os.symlink(base / d, prefix / d)
    site = sysconfig.get_paths()["purelib"]  # headerwheel and cffi of this venv
    return exe, site


def test_the_same_bytes_under_two_interpreter_prefixes(tmp_path):
    """No path of the build machine's interpreter in the built module: its
    include directory is mapped (-ffile-prefix-map), so two prefixes of the
    same interpreter give the same wheel."""
    src = tmp_path / "zlibcffi"
    shutil.copytree(FIXTURES / "zlibcffi", src)
    results = {}
    for name in ("prefix-one", "prefix-two-is-longer"):
        prefix = tmp_path / name / "py"
        exe, site = _interpreter_at(prefix)
        out = tmp_path / ("out-" + name)
        env = {"PYTHONPATH": site, "SOURCE_DATE_EPOCH": "1700000000", "HEADERWHEEL_CACHE_DIR": str(tmp_path / ("c-" + name))}
        probe = run([exe, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"], env=env)
        assert probe.stdout.startswith(str(prefix)), probe.stdout
        p = hook(src, out, tmp_path / "build", env=env, python=exe)
        assert p.returncode == 0, p.stderr
        whl = next(out.glob("*.whl"))
        with zipfile.ZipFile(whl) as z:
            for info in z.infolist():
                assert str(prefix).encode() not in z.read(info), (info.filename, name)
        results[name] = (whl.name, sha256(whl))
    assert len(set(results.values())) == 1, results
