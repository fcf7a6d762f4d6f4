"""The founding scenarios as examples, each built by pip with headerwheel,
installed into a fresh venv and run, asserting on real output."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, build_wheel, run, validate_wheel, unavailable

EXAMPLES = ROOT / "examples"


def build_and_install(tmp_path, name, venv, hw_dist, wheelhouse):
    src = tmp_path / name
    shutil.copytree(EXAMPLES / name, src, ignore=shutil.ignore_patterns(".headerkit", "build"))
    out = tmp_path / "out"
    build_wheel(src, out, isolation=True, hw_dist=hw_dist, wheelhouse=wheelhouse)
    whl = next(out.glob("*.whl"))
    validate_wheel(whl)
    venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, whl)
    return whl


def test_procmapquery_walks_the_same_mappings_as_proc_maps(tmp_path, fresh_venv, hw_dist, wheelhouse):
    build_and_install(tmp_path, "procmapquery", fresh_venv, hw_dist, wheelhouse)
    code = (
        "import errno, sys, procmapquery\n"
        "try:\n"
        "    got = [m.maps_line() for m in procmapquery.mappings()]\n"
        "except OSError as e:\n"
        "    if e.errno == errno.ENOTTY:\n"
        "        print('SKIP: kernel without PROCMAP_QUERY'); sys.exit(0)\n"
        "    raise\n"
        "want = [l.rstrip() for l in open('/proc/self/maps') if '[vsyscall]' not in l]\n"
        "# Mappings made between the two reads (the list itself) may differ: compare ranges of the binary.\n"
        "exe = [l for l in want if 'python' in l]\n"
        "assert exe and all(l in got for l in exe), (exe, got)\n"
        "assert len(got) >= len(want) - 8, (len(got), len(want))\n"
        "print(len(got))\n"
    )
    out = fresh_venv.run("-c", code).stdout.strip()
    if out.startswith("SKIP"):
        pytest.skip(out)
    assert int(out) > 10


def test_sysinfo_helpers_agree_with_the_system(tmp_path, fresh_venv, hw_dist, wheelhouse):
    build_and_install(tmp_path, "sysinfo", fresh_venv, hw_dist, wheelhouse)
    code = (
        "import os, sysinfo_cffi as s\n"
        "mem_kb = int([l for l in open('/proc/meminfo') if l.startswith('MemTotal:')][0].split()[1])\n"
        "assert s.total_memory() // 1024 == mem_kb, (s.total_memory(), mem_kb)\n"
        "assert s.page_size() == os.sysconf('SC_PAGESIZE')\n"
        "assert s.cpu_count() == os.sysconf('SC_NPROCESSORS_ONLN')\n"
        "assert s.pid() == os.getpid()\n"
        "up = float(open('/proc/uptime').read().split()[0])\n"
        "assert abs(s.uptime() - up) <= 2, (s.uptime(), up)\n"
        "print('ok', s.cpu_count())\n"
    )
    assert fresh_venv.run("-c", code).stdout.split()[0] == "ok"
    # Only the named functions were bound.
    names = fresh_venv.run("-c", "from sysinfo_cffi._sys_cffi import lib; print(sorted(n for n in dir(lib) if not n.startswith('_SC')))").stdout
    assert names.strip() == "['getpid', 'sysconf', 'sysinfo']"


def test_autodiscover_calls_each_discovered_function(tmp_path, fresh_venv, hw_dist, wheelhouse):
    build_and_install(tmp_path, "autodiscover", fresh_venv, hw_dist, wheelhouse)
    code = (
        "import math, os, autodiscover as a\n"
        "print(a.strlen('héllo'), a.getpid() == os.getpid(), a.sin(0.5) == math.sin(0.5), a.sort_ints([3, -1, 2, 10, 0]))\n"
    )
    assert fresh_venv.run("-c", code).stdout.strip() == "6 True True [-1, 0, 2, 3, 10]"
    # The cdef holds exactly the named functions (plus the callback). The
    # cache also keeps the header model (JSON) beside it, and directory order
    # is the filesystem's: pick the cdef by its content.
    store = (tmp_path / "autodiscover" / ".headerkit").rglob("*")
    objs = [p.read_text() for p in store if p.is_file() and "objects" in p.parts]
    cdefs = [t for t in objs if not t.lstrip().startswith("{")]
    assert len(cdefs) == 1, [t[:80] for t in objs]
    text = cdefs[0]
    for fn in ("strlen(", "getpid(", "sin(", "qsort("):
        assert fn in text, text
    assert "strcpy" not in text and "malloc" not in text


def test_b64_abi_mode_needs_no_compiler_and_finds_its_library(tmp_path, fresh_venv, hw_dist, wheelhouse):
    whl = build_and_install(tmp_path, "b64", fresh_venv, hw_dist, wheelhouse)
    # ABI mode: the wheel holds Python, the library, and nothing built against Python.
    assert "-py3-none-manylinux" in whl.name
    code = (
        "import base64, os, b64\n"
        "for n in (0, 1, 2, 3, 11, 100, 4096, 100000):\n"
        "    data = os.urandom(n)\n"
        "    assert b64.encode(data) == base64.b64encode(data).decode(), n\n"
        "    assert b64.decode(base64.b64encode(data).decode()) == data, n\n"
        "try:\n    b64.decode('not base64!')\nexcept b64.B64Error:\n    pass\nelse:\n    raise AssertionError('invalid input accepted')\n"
        "print(b64.version())\n"
    )
    assert fresh_venv.run("-c", code).stdout.strip() == "1.2"
    # A missing library is an error listing every place tried.
    code = (
        "import os, sys\n"
        "from b64._b64_abi import ffi\n"
        "from b64._loader import load_library, LibraryNotFound\n"
        "os.environ['NOSUCHLIB_LIB_PATH'] = '/tmp/a:/tmp/b'\n"
        "try:\n    load_library(ffi, 'nosuchlib')\nexcept LibraryNotFound as e:\n    print(e)\n"
    )
    out = fresh_venv.run("-c", code).stdout
    assert "/tmp/a/libnosuchlib.so" in out and "/tmp/b/libnosuchlib.so" in out and "system linker path" in out


def test_nng_bundled_wheel_loads_its_own_copy_of_libnng(tmp_path, fresh_venv, hw_dist, wheelhouse):
    src = tmp_path / "nng"
    shutil.copytree(EXAMPLES / "nng", src, ignore=shutil.ignore_patterns("build"))
    out = tmp_path / "out"
    build_wheel(src, out, settings=["bundle-libs=true"])
    whl = next(out.glob("*.whl"))
    validate_wheel(whl)
    p = run(["auditwheel", "show", whl])
    tag = whl.name.split("-")[-1][: -len(".whl")]
    assert '"%s"' % tag in p.stdout.replace("\n", " "), (tag, p.stdout)
    fresh_venv.pip("install", "-q", "--no-index", "--find-links", wheelhouse, whl)
    site = Path(fresh_venv.run("-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])").stdout.strip())
    ext = next((site / "nngpair").glob("_nng_cffi*.so"))
    ldd = run(["ldd", ext]).stdout
    nng_line = [l for l in ldd.splitlines() if "libnng" in l][0]
    assert str(site / "nngpair" / "_libs") in nng_line, ldd
    assert "received: hello from headerwheel" in fresh_venv.run("-m", "nngpair").stdout
    # With the system's libnng made unusable (a private mount namespace binds
    # /dev/null over it), the wheel still runs on its own copy.
    import glob
    system = [p for p in glob.glob("/usr/lib/*/libnng.so.1*") + glob.glob("/lib/*/libnng.so.1*") if os.path.isfile(p)]
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    if not system or probe.returncode != 0:
        unavailable("cannot hide the system libnng here (no mount namespaces)")
    hide = " && ".join("mount --bind /dev/null %s" % p for p in system)
    check = "python3 -c 'import ctypes; ctypes.CDLL(\"libnng.so.1\")' 2>/dev/null && exit 3; "
    p = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         "%s && %s%s -m nngpair" % (hide, check, fresh_venv.python)],
        capture_output=True, text=True,
    )
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert "received: hello from headerwheel" in p.stdout
