"""`-C target=` for macOS and Windows: wheels cross-built here with zig cc,
checked against the projects' own published wheels for those platforms.

Built: the b64 example (ABI mode + a shared library), bcrypt 3.2.2 and
brotlicffi 1.2.1.0 (its bundled C sources) migrated as tests/test_migrate.py
migrates them. For each of macOS arm64, macOS x86_64 and Windows amd64 the
wheel must have the published wheel's module file names, the same kind of
binary, `PyInit_*` exported, imports limited to what the platform's Python
provides, and a tag at least as compatible; abi3audit checks the abi3 ones.

The published wheels are downloaded once into ~/.cache/headerwheel-tests/
(`pip download --platform ... --only-binary :all:`). Nothing here runs the
built modules: no macOS or Windows interpreter is reachable from Linux; the
Mach-O and PE files are read by the small readers below (independent of the
Rust ones in src/portable/macho.rs).
"""
import importlib.util
import json
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import IN_CI, PY, ROOT, run, unavailable
from test_migrate import migrate, sdist

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ziglang") is None and not IN_CI,
    reason="the ziglang package is not installed (pip install ziglang): -C target= builds with zig cc",
)

CACHE = Path.home() / ".cache" / "headerwheel-tests" / "published"

# Each project's published wheels, by the platform they are compared with.
# bcrypt 3.2.2 has no thin macOS wheel: its universal2 wheel's slices stand
# for arm64 and x86_64. brotlicffi 1.2.1.0 has no x86_64 macOS wheel: its
# arm64 wheel's file names and kind stand for it.
PUBLISHED = {
    "bcrypt": {
        "spec": "bcrypt==3.2.2",
        "macos-arm64": ("macosx_10_10_universal2", "arm64"),
        "macos-x86_64": ("macosx_10_10_universal2", "x86_64"),
        "windows-amd64": ("win_amd64", None),
    },
    "brotlicffi": {
        "spec": "brotlicffi==1.2.1.0",
        "macos-arm64": ("macosx_11_0_arm64", "arm64"),
        "macos-x86_64": ("macosx_11_0_arm64", None),
        "windows-amd64": ("win_amd64", None),
    },
}

TARGETS = {
    "macos-arm64": "aarch64-macos",
    "macos-x86_64": "x86_64-macos",
    "windows-amd64": "x86_64-windows",
}


def published_wheel(spec, platform):
    """The published wheel of `spec` for `platform`, from the cache."""
    name, version = spec.split("==")
    d = CACHE / name
    found = sorted(d.glob("%s-%s-*%s.whl" % (name, version, platform)))
    if not found:
        d.mkdir(parents=True, exist_ok=True)
        p = subprocess.run(
            [PY, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:", "--platform", platform,
             "--python-version", "3.11", "--implementation", "cp", spec, "-d", d],
            capture_output=True, text=True,
        )
        if p.returncode != 0:
            unavailable("cannot download %s for %s: %s" % (spec, platform, p.stderr.strip().splitlines()[-1:]))
        found = sorted(d.glob("%s-%s-*%s.whl" % (name, version, platform)))
    return found[0]


# --- Readers -----------------------------------------------------------------

FAT_MAGIC = 0xCAFEBABE
MH_MAGIC_64 = 0xFEEDFACF
CPU = {0x01000007: "x86_64", 0x0100000C: "arm64"}
LC_LOAD_DYLIB, LC_ID_DYLIB, LC_SYMTAB = 0xC, 0xD, 0x2
LC_VERSION_MIN_MACOSX, LC_BUILD_VERSION = 0x24, 0x32
LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB = 0x80000018, 0x8000001F


def macho_slices(data):
    """{arch: facts} of a thin or fat Mach-O file."""
    if struct.unpack_from(">I", data)[0] == FAT_MAGIC:
        n = struct.unpack_from(">I", data, 4)[0]
        out = {}
        for i in range(n):
            cpu, _, off, size, _ = struct.unpack_from(">5I", data, 8 + 20 * i)
            out.update(macho_slices(data[off:off + size]))
        return out
    magic, cpu, _, filetype, ncmds, _, flags, _ = struct.unpack_from("<8I", data)
    assert magic == MH_MAGIC_64, hex(magic)
    facts = {"filetype": filetype, "dylibs": [], "min": None, "exports": set(), "dynamic": set()}
    at = 32
    undefined = []
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<2I", data, at)
        if cmd in (LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB):
            off = struct.unpack_from("<I", data, at + 8)[0]
            facts["dylibs"].append(data[at + off:at + size].split(b"\0")[0].decode())
        elif cmd == LC_VERSION_MIN_MACOSX:
            v = struct.unpack_from("<I", data, at + 8)[0]
            facts["min"] = (v >> 16, (v >> 8) & 0xFF)
        elif cmd == LC_BUILD_VERSION:
            platform, minos = struct.unpack_from("<2I", data, at + 8)
            if platform == 1:
                facts["min"] = (minos >> 16, (minos >> 8) & 0xFF)
        elif cmd == LC_SYMTAB:
            symoff, nsyms, stroff, _ = struct.unpack_from("<4I", data, at + 8)
            for i in range(nsyms):
                strx, ntype, _, desc, _ = struct.unpack_from("<IBBHQ", data, symoff + 16 * i)
                name = data[stroff + strx:].split(b"\0")[0].decode()
                if ntype & 0xE0:
                    continue  # debugging (stab) entries
                if ntype & 0x0E == 0 and ntype & 1:
                    # Not bound to one of its dylibs (ordinal 1..n): looked
                    # up in the loading process (-undefined dynamic_lookup:
                    # 0xfe from Apple's ld; 0 from zig's, whose bind opcodes
                    # say flat lookup); a flat namespace looks up every one.
                    undefined.append((name, desc >> 8))
                elif ntype & 1:
                    facts["exports"].add(name)
        at += size
    for name, ordinal in undefined:
        if not flags & 0x80 or ordinal == 0 or ordinal > len(facts["dylibs"]):
            facts["dynamic"].add(name)
    return {CPU.get(cpu, hex(cpu)): facts}


LC_CODE_SIGNATURE = 0x1D


def code_signature_holds(data):
    """Whether every SHA-256 page hash of a thin Mach-O file's code
    signature matches its pages (what `codesign --verify` checks of an
    ad-hoc signature); None when it has no signature."""
    import hashlib

    _, _, _, _, ncmds, _, _, _ = struct.unpack_from("<8I", data)
    at, sig = 32, None
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<2I", data, at)
        if cmd == LC_CODE_SIGNATURE:
            sig = struct.unpack_from("<2I", data, at + 8)
        at += size
    if sig is None:
        return None
    off = sig[0]
    magic, _, count = struct.unpack_from(">3I", data, off)
    assert magic == 0xFADE0CC0
    checked = 0
    for i in range(count):
        _, blob_off = struct.unpack_from(">2I", data, off + 12 + 8 * i)
        blob = off + blob_off
        if struct.unpack_from(">I", data, blob)[0] != 0xFADE0C02:
            continue
        hash_offset, _, _, n_code, code_limit = struct.unpack_from(">5I", data, blob + 16)
        hash_size, hash_type, _, page_shift = struct.unpack_from(">4B", data, blob + 36)
        assert (hash_size, hash_type) == (32, 2)
        page = 1 << page_shift
        for slot in range(n_code):
            want = data[blob + hash_offset + 32 * slot: blob + hash_offset + 32 * (slot + 1)]
            if hashlib.sha256(data[slot * page: min((slot + 1) * page, code_limit)]).digest() != want:
                return False
            checked += 1
    return checked > 0


def thin_slices(data):
    """The thin files of a Mach-O file (itself unless fat)."""
    if struct.unpack_from(">I", data)[0] != FAT_MAGIC:
        return [data]
    n = struct.unpack_from(">I", data, 4)[0]
    out = []
    for i in range(n):
        _, _, off, size, _ = struct.unpack_from(">5I", data, 8 + 20 * i)
        out.append(data[off:off + size])
    return out


def pe_facts(data):
    import pefile

    pe = pefile.PE(data=data)
    imports = sorted(e.dll.decode() for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", []))
    exports = {s.name.decode() for s in pe.DIRECTORY_ENTRY_EXPORT.symbols if s.name}
    return {
        "machine": pe.FILE_HEADER.Machine,
        "dll": bool(pe.FILE_HEADER.Characteristics & 0x2000),
        "imports": imports,
        "exports": exports,
    }


def modules_of(whl):
    """{path in the wheel: bytes} of the wheel's binaries."""
    with zipfile.ZipFile(whl) as z:
        return {n: z.read(n) for n in z.namelist() if n.endswith((".so", ".pyd", ".dll", ".dylib"))}


def tag_of(whl):
    return Path(whl).name[: -len(".whl")].split("-")[-3:]


def macos_version(plat):
    parts = plat.split("_")
    return int(parts[1]), int(parts[2])


WINDOWS_PYTHON = {"python3.dll", "kernel32.dll", "vcruntime140.dll", "ucrtbase.dll"}


def allowed_dll(name):
    n = name.lower()
    return n in WINDOWS_PYTHON or n.startswith("api-ms-win-crt-")


def validate(whl):
    """conftest.validate_wheel's checks that hold for any platform
    (auditwheel judges Linux wheels only; abi3audit runs in the tests)."""
    import tempfile

    run([PY, "-m", "twine", "check", "--strict", whl])
    run([PY, "-m", "check_wheel_contents", whl])
    with tempfile.TemporaryDirectory() as d:
        run([PY, "-m", "installer", "--validate-record", "all", "--destdir", d, whl])


# --- Builds --------------------------------------------------------------------


def build(project, out, target, tmp_path):
    cs = {"target": target, "build-dir": str(tmp_path / ("build-" + target)), "no-cache": "true"}
    code = ("import json, os, sys; os.chdir(sys.argv[1]); import headerwheel as h; "
            "print(h.build_wheel(sys.argv[2], json.loads(sys.argv[3])))")
    # The shim of this tree (it sets ZIG_COMMAND for Windows builds), with
    # the headerwheel program it finds as every test does.
    p = run([PY, "-c", code, project, out, json.dumps(cs)], env={"PYTHONPATH": str(ROOT / "backend")}, timeout=1800)
    return Path(out) / p.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """bcrypt and brotlicffi (bundled sources) migrated, once per module."""
    base = tmp_path_factory.mktemp("migrated")
    out = {}
    for name, spec in [("bcrypt", "bcrypt==3.2.2"), ("brotlicffi", "brotlicffi==1.2.1.0")]:
        shutil.unpack_archive(str(sdist(spec)), base / name)
        project = next((base / name).iterdir())
        migrate(project)
        out[name] = project
    return out


@pytest.mark.parametrize("platform", list(TARGETS))
@pytest.mark.parametrize("name", list(PUBLISHED))
def test_a_cross_built_wheel_matches_the_published_one(name, platform, migrated, tmp_path):
    ours = build(migrated[name], tmp_path / "out", TARGETS[platform], tmp_path)
    plat_name, slice_arch = PUBLISHED[name][platform]
    theirs = published_wheel(PUBLISHED[name]["spec"], plat_name)
    our_mods, their_mods = modules_of(ours), modules_of(theirs)
    # The same module file names (.abi3.so / .pyd).
    assert sorted(our_mods) == sorted(their_mods), (sorted(our_mods), sorted(their_mods))
    py, abi, plat = tag_of(ours)
    their_py, their_abi, their_plat = tag_of(theirs)
    assert abi == their_abi == "abi3"
    # At least as compatible: the same or an older oldest Python.
    assert int(py[2:]) <= int(their_py[2:]) or py[3:] <= their_py[3:], (py, their_py)
    for path, data in our_mods.items():
        init = "PyInit_" + path.rsplit("/", 1)[-1].split(".")[0]
        if platform.startswith("macos"):
            arch = "arm64" if platform.endswith("arm64") else "x86_64"
            (ours_slice,) = macho_slices(data).values()
            their_slices = macho_slices(their_mods[path])
            theirs_slice = their_slices[slice_arch] if slice_arch else next(iter(their_slices.values()))
            assert list(macho_slices(data)) == [arch]
            # A bundle (MH_BUNDLE), as setuptools links one (zig's dylib is
            # turned into one), with a valid ad-hoc signature where there is
            # one (arm64 macOS runs nothing unsigned).
            assert ours_slice["filetype"] == theirs_slice["filetype"] == 8
            for thin in thin_slices(data):
                assert code_signature_holds(thin) in (True, None)
            if arch == "arm64":
                assert code_signature_holds(data) is True
            for thin in thin_slices(their_mods[path]):
                assert code_signature_holds(thin) in (True, None)
            assert "_" + init in ours_slice["exports"]
            assert all(d.startswith("/usr/lib/") for d in ours_slice["dylibs"]), ours_slice["dylibs"]
            assert all(d.startswith("/usr/lib/") for d in theirs_slice["dylibs"])
            # Python's own symbols are left to dynamic lookup; nothing else.
            for facts in (ours_slice, theirs_slice):
                assert facts["dynamic"] and all(s.startswith(("_Py", "__Py")) for s in facts["dynamic"]), facts["dynamic"]
            # The tag: macosx_X_Y_<arch>, X_Y the slice's minimum macOS.
            assert plat == "macosx_%d_%d_%s" % (ours_slice["min"][0], ours_slice["min"][1], arch), plat
            if slice_arch:
                assert ours_slice["min"] <= max(theirs_slice["min"], (11, 0) if arch == "arm64" else (0, 0))
        else:
            ours_pe, theirs_pe = pe_facts(data), pe_facts(their_mods[path])
            assert ours_pe["machine"] == theirs_pe["machine"] == 0x8664
            assert ours_pe["dll"] and theirs_pe["dll"]
            assert init in ours_pe["exports"] and ours_pe["exports"] == theirs_pe["exports"] == {init}
            assert "python3.dll" in ours_pe["imports"]
            assert all(allowed_dll(d) for d in ours_pe["imports"]), ours_pe["imports"]
            assert all(allowed_dll(d) for d in theirs_pe["imports"]), theirs_pe["imports"]
            assert plat == their_plat == "win_amd64"
    if platform.startswith("macos") and slice_arch:
        assert macos_version(plat) <= max(macos_version(their_plat), (11, 0) if "arm64" in plat else (0, 0))
    run([PY, "-m", "abi3audit", "--strict", "--report", ours])
    validate(ours)


def test_universal2_joins_both_slices(migrated, tmp_path):
    ours = build(migrated["bcrypt"], tmp_path / "out", "universal2-macos", tmp_path)
    theirs = published_wheel("bcrypt==3.2.2", "macosx_10_10_universal2")
    assert sorted(modules_of(ours)) == sorted(modules_of(theirs))
    (data,) = modules_of(ours).values()
    slices = macho_slices(data)
    assert sorted(slices) == ["arm64", "x86_64"]
    assert all(s["filetype"] == 8 for s in slices.values())
    assert [code_signature_holds(t) in (True, None) for t in thin_slices(data)] == [True, True]
    assert slices["x86_64"]["min"] == (10, 9) and slices["arm64"]["min"] == (11, 0)
    assert tag_of(ours)[2] == "macosx_10_9_universal2"  # at least as compatible as macosx_10_10_universal2
    run([PY, "-m", "abi3audit", "--strict", "--report", ours])


def test_the_deployment_target_sets_the_minimum_macos(migrated, tmp_path):
    cs = ["x86_64-macos.10.13"]
    ours = build(migrated["bcrypt"], tmp_path / "out", cs[0], tmp_path)
    assert tag_of(ours)[2] == "macosx_10_13_x86_64"


@pytest.mark.parametrize("target,suffix,plat", [
    ("aarch64-macos", "dylib", "macosx_11_0_arm64"),
    ("x86_64-macos", "dylib", "macosx_10_9_x86_64"),
    ("x86_64-windows", "dll", "win_amd64"),
])
def test_the_b64_example_cross_builds(target, suffix, plat, tmp_path):
    project = tmp_path / "b64"
    shutil.copytree(ROOT / "examples" / "b64", project, ignore=shutil.ignore_patterns("build", "*.whl"))
    whl = build(project, tmp_path / "out", target, tmp_path)
    assert tag_of(whl) == ["py3", "none", plat]
    validate(whl)
    mods = modules_of(whl)
    assert sorted(mods) == ["b64/libb64.%s" % suffix]
    data = mods["b64/libb64.%s" % suffix]
    if suffix == "dll":
        pe = pe_facts(data)
        assert pe["dll"] and {"b64_encode", "b64_decode", "b64_version"} <= pe["exports"]
        assert all(allowed_dll(d) for d in pe["imports"]), pe["imports"]
    else:
        (s,) = macho_slices(data).values()
        assert s["filetype"] == 6 and {"_b64_encode", "_b64_decode", "_b64_version"} <= s["exports"]
        assert all(d.startswith("/usr/lib/") for d in s["dylibs"])
    # The loader looks for the platform's name.
    with zipfile.ZipFile(whl) as z:
        loader = z.read("b64/_loader.py").decode()
    assert ("lib{name}.%s" % suffix) in loader


def test_a_system_library_the_target_lacks_is_named(tmp_path):
    project = tmp_path / "zlinked"
    (project / "src" / "zlinked").mkdir(parents=True)
    (project / "src" / "zlinked" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["headerwheel"]\nbuild-backend = "headerwheel"\n\n'
        '[project]\nname = "zlinked"\nversion = "1.0"\n\n'
        '[tool.headerwheel.modules."zlinked._z"]\n'
        'cdef-code = "unsigned long zlibCompileFlags(void);"\n'
        'preamble-code = "#include <zlib.h>"\nlibraries = ["z"]\n'
    )
    with pytest.raises(AssertionError) as e:
        build(project, tmp_path / "out", "x86_64-windows", tmp_path)
    assert "module zlinked._z: links 'z' (libraries), which x86_64-windows does not provide" in str(e.value)
    assert "library-dirs" in str(e.value)


def test_a_bad_target_names_the_accepted_forms(tmp_path):
    project = tmp_path / "b64"
    shutil.copytree(ROOT / "examples" / "b64", project)
    with pytest.raises(AssertionError) as e:
        build(project, tmp_path / "out", "windows", tmp_path)
    assert "config setting 'target': 'windows' is not a glibc baseline" in str(e.value)
    assert "x86_64-windows or aarch64-windows" in str(e.value)


def test_the_signature_check_holds_for_a_published_module_and_not_for_a_changed_one():
    """The checker above, on brotlicffi's arm64 module (signed by Apple's
    linker): its hashes hold; one changed header byte breaks them."""
    theirs = published_wheel("brotlicffi==1.2.1.0", "macosx_11_0_arm64")
    (data,) = modules_of(theirs).values()
    assert code_signature_holds(data) is True
    changed = bytearray(data)
    changed[12] = 6  # MH_BUNDLE → MH_DYLIB
    assert code_signature_holds(bytes(changed)) is False


@pytest.mark.parametrize("target,suffix,plat", [
    ("x86_64-windows", ".cp{v}-win_amd64.pyd", "win_amd64"),
    ("aarch64-windows", ".cp{v}-win_arm64.pyd", "win_arm64"),
    ("x86_64-macos", ".cpython-{v}-darwin.so", "macosx_10_9_x86_64"),
])
def test_a_version_specific_module_takes_the_targets_name_and_dll(target, suffix, plat, tmp_path):
    """limited-api = false: the target's EXT_SUFFIX for the build
    interpreter's version, and on Windows its python3X.dll."""
    import sys

    v = "%d%d" % sys.version_info[:2]
    project = tmp_path / "extrasrc"
    shutil.copytree(ROOT / "fixtures" / "projects" / "extrasrc", project)
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text.replace("[tool.headerwheel.modules", "[tool.headerwheel]\nlimited-api = false\n\n[tool.headerwheel.modules", 1))
    whl = build(project, tmp_path / "out", target, tmp_path)
    assert tag_of(whl) == ["cp" + v, "cp" + v, plat]
    mods = modules_of(whl)
    assert sorted(mods) == ["extrasrc/_fast_cffi" + suffix.format(v=v)]
    (data,) = mods.values()
    if "windows" in target:
        pe = pe_facts(data)
        assert "python%s.dll" % v in pe["imports"] and "python3.dll" not in pe["imports"], pe["imports"]
        assert pe["exports"] == {"PyInit__fast_cffi"}
    else:
        (s,) = macho_slices(data).values()
        assert s["filetype"] == 8 and "_PyInit__fast_cffi" in s["exports"]


def test_python_include_names_a_directory_of_the_targets_headers(tmp_path):
    project = tmp_path / "extrasrc"
    shutil.copytree(ROOT / "fixtures" / "projects" / "extrasrc", project)
    code = ("import json, os, sys; os.chdir(sys.argv[1]); import headerwheel as h; "
            "print(h.build_wheel(sys.argv[2], json.loads(sys.argv[3])))")
    env = {"PYTHONPATH": str(ROOT / "backend")}
    empty = tmp_path / "empty"
    empty.mkdir()
    for cs, message in [
        ({"target": "x86_64-windows", "python-include": str(empty)}, "config setting 'python-include': %s holds no Python.h" % empty),
        ({"python-include": str(empty)}, "config setting 'python-include': the target's own Python headers are for a macOS or Windows target"),
    ]:
        cs["build-dir"] = str(tmp_path / "build")
        p = run([PY, "-c", code, project, tmp_path / "out", json.dumps(cs)], env=env, check=False)
        assert p.returncode != 0 and message in p.stderr, p.stderr
