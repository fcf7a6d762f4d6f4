"""Reliability: bad input gives a non-zero exit and leaves the output directory,
the .headerkit store and the compile cache as they were; a panic never
crosses into Python; parallel builds sharing a build directory and cache, and
builds killed mid-way, never leave anything half-written; the same inputs
give the same bytes whatever the checkout path, umask or locale; a build
writes only where it may and ships no path of the build machine. The
bad-input matrix with its exact errors is tests/bad_input.rs."""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, PY, ROOT, run, sha256, unavailable

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


def edit(path, old, new):
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


# The bad-input matrix (every case, its exact error, nothing written) is
# tests/bad_input.rs, through the `headerwheel hook` program. Here: the same
# failure through the Python shim, as pip runs it: exit 1, the error line on
# stderr, no traceback, nothing on stdout or in the output directory.
@pytest.mark.parametrize("case", ["config", "compile"])
def test_a_bad_project_fails_cleanly_through_the_shim(tmp_path, case):
    src = tmp_path / "p" / "zlibcffi"
    shutil.copytree(FIXTURES / "zlibcffi", src)
    if case == "config":
        edit(src / "pyproject.toml", 'libraries = ["z"]', 'libraries = "z"')
        want = "headerwheel: error: pyproject.toml:"
    else:
        (src / "src" / "zlibcffi" / "_zlib.csrc.c").write_text("#include <zlib.h>\nint oops(void) { return nope; }\n")
        want = "headerwheel: error: module zlibcffi._zlib_cffi: compiling zlibcffi._zlib_cffi.c failed"
    out = tmp_path / "out"
    out.mkdir()
    p = hook(src, out, tmp_path / "build", timeout=120)
    assert p.returncode == 1, "exit %d\n%s" % (p.returncode, p.stderr)
    assert p.stdout == ""
    assert "Traceback" not in p.stderr and "panicked" not in p.stderr, p.stderr
    assert any(line.startswith(want) for line in p.stderr.splitlines()), p.stderr
    assert list(out.iterdir()) == [], "output left behind"


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
        unavailable("this machine does not allow a read-only bind mount (needs root)")
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
        unavailable("this machine does not allow mounting a tmpfs (needs root)")
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
        unavailable("ccache is not installed (scripts/setup installs it)")
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
