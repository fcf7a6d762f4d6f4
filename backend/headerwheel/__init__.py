"""headerwheel: a PEP 517 build backend that turns C headers into CFFI extension modules.

The build is the ``headerwheel`` program (Rust, one binary for every
interpreter, installed as this package's script). Each hook runs it once,
as ``headerwheel hook``, and talks to it in JSON lines: the request on its
stdin, the interpreter's facts (``sysconfig``) when it asks for them, the
result or the error on its stdout. Its stderr is the build log, untouched.
"""
import json
import os
import sys

__all__ = [
    "build_wheel",
    "build_sdist",
    "build_editable",
    "prepare_metadata_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "get_requires_for_build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_editable",
    "find_headerwheel_bin",
]

_EXE = "headerwheel.exe" if os.name == "nt" else "headerwheel"


def _scripts_dir(sysconfig, scheme=None):
    """``sysconfig.get_path("scripts", scheme)``, without computing every
    configuration variable when the scheme's template names only prefixes
    (every scheme's does but the user schemes'): that would cost a
    millisecond and a half, a tenth of a pure-Python project's hook."""
    args = (scheme,) if scheme else ()
    template = sysconfig.get_path("scripts", *args, expand=False)
    prefixes = {
        "base": sys.prefix,
        "platbase": sys.exec_prefix,
        "installed_base": sys.base_prefix,
        "installed_platbase": sys.base_exec_prefix,
    }
    try:
        return os.path.normpath(os.path.expanduser(template).format(**prefixes))
    except (KeyError, IndexError, ValueError):
        return sysconfig.get_path("scripts", *args)


def _bin_dirs(sysconfig):
    """Where the program may be, in order; each computed only if the ones
    before did not have it."""
    yield _scripts_dir(sysconfig)
    if sys.version_info >= (3, 10):
        yield _scripts_dir(sysconfig, sysconfig.get_preferred_scheme("user"))
    else:
        yield _scripts_dir(sysconfig, "nt_user" if os.name == "nt" else "posix_user")
    site = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # <prefix>/lib/pythonX.Y/site-packages/headerwheel (<prefix>/Lib/site-packages on Windows)
    if os.path.basename(site).lower() == "site-packages":
        lib = os.path.dirname(site)
        if os.name == "nt":
            yield os.path.join(os.path.dirname(lib), "Scripts")
        else:
            yield os.path.join(os.path.dirname(os.path.dirname(lib)), "bin")
    # <target>/headerwheel, from `pip install --target <target>`
    yield os.path.join(site, "bin")


def find_headerwheel_bin():
    """The path of the ``headerwheel`` program: ``$HEADERWHEEL_BIN``, else the
    first found of this interpreter's scripts directory, the user scheme's,
    the one beside the package (``pip install --prefix`` or ``--target``),
    then ``PATH``."""
    explicit = os.environ.get("HEADERWHEEL_BIN")
    if explicit:
        return explicit
    import sysconfig

    looked = []
    for d in _bin_dirs(sysconfig):
        path = os.path.join(d, _EXE)
        if os.path.isfile(path):
            return path
        looked.append(d)
    import shutil

    path = shutil.which(_EXE)
    if path:
        return path
    raise SystemExit(
        "headerwheel: error: the headerwheel program is not installed beside its Python package "
        "(looked in %s and PATH; HEADERWHEEL_BIN names it)" % ", ".join(looked)
    )


def _cffi():
    """The installed cffi's directory and version, without importing it
    (each hook runs in a fresh process; the import costs more than the
    lookup)."""
    import importlib.util

    spec = importlib.util.find_spec("cffi")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("headerwheel: error: the cffi package is not installed (pip install cffi)")
    d = list(spec.submodule_search_locations)[0]
    version = None
    with open(os.path.join(d, "__init__.py"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("__version__"):
                version = line.split("=", 1)[1].strip().strip("\"'")
                break
    return d, version or "unknown"


def _has(module):
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _libc():
    """(name, version) of the C library, as ``platform.libc_ver()`` gives it
    (``os.confstr`` on glibc: no file scan, no ``platform`` import)."""
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()
        return [name, version]
    except (AttributeError, ValueError, OSError):
        import platform

        name, version = platform.libc_ver()
        return [name, version] if name else None


def _interpreter():
    """The target interpreter's facts; gathered only for a wheel that
    compiles modules or shared libraries (the program asks for them)."""
    import struct
    import sysconfig

    cffi_dir, cffi_version = _cffi()

    cv = sysconfig.get_config_var
    paths = sysconfig.get_paths()
    include_dirs = []
    for d in (paths.get("include"), paths.get("platinclude")):
        if d and d not in include_dirs:
            include_dirs.append(d)
    machine = os.uname().machine if hasattr(os, "uname") else ""
    machine = machine or "x86_64"
    if machine.lower() == "amd64":
        machine = "x86_64"
    return {
        "implementation": sys.implementation.name,
        "version": [sys.version_info[0], sys.version_info[1]],
        "ext_suffix": cv("EXT_SUFFIX") or ".so",
        "soabi": cv("SOABI"),
        "free_threaded": bool(cv("Py_GIL_DISABLED")),
        "debug": hasattr(sys, "gettotalrefcount"),
        "libc": _libc(),
        "cffi_dir": cffi_dir,
        "cffi_version": cffi_version,
        "executable": sys.executable,
        "ziglang": _has("ziglang"),
        "sizeof_int": struct.calcsize("i"),
        "sizeof_long": struct.calcsize("l"),
        "toolchain": {
            "cc": os.environ.get("CC") or cv("CC") or "cc",
            # distutils' customize_compiler: CFLAGS and CPPFLAGS from the
            # environment add to the interpreter's CFLAGS; LDFLAGS to the link.
            "cflags": " ".join(
                x
                for x in (cv("CFLAGS") or "", os.environ.get("CFLAGS", ""), os.environ.get("CPPFLAGS", ""))
                if x
            ),
            "ldflags": os.environ.get("LDFLAGS", ""),
            "ccshared": cv("CCSHARED") or "-fPIC",
            "include_dirs": include_dirs,
            "machine": machine,
        },
    }


def _pypi_libclang():
    """The PyPI ``libclang`` wheel's library (``clang/native/libclang.so``),
    if that wheel is installed: it comes before the system's, after an
    explicit ``LIBCLANG_PATH``. Looked for in each ``sys.path`` entry
    directly: importing ``importlib.util`` for ``find_spec`` would cost a
    millisecond of every hook."""
    if sys.platform == "win32":
        name = "libclang.dll"
    elif sys.platform == "darwin":
        name = "libclang.dylib"
    else:
        name = "libclang.so"
    for d in sys.path:
        path = os.path.join(d or os.curdir, "clang", "native", name)
        if os.path.isfile(path):
            return os.path.abspath(path)
    return None


def _spawn(argv):
    """Starts `argv` with pipes on its stdin and stdout (stderr inherited);
    returns (to_child, from_child, wait), wait() giving the exit status
    (minus the signal's number when killed). ``posix_spawn`` where there is
    one: importing ``subprocess`` would cost more than the hook's own work."""
    if not hasattr(os, "posix_spawn"):
        import subprocess

        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, encoding="utf-8")
        return p.stdin, p.stdout, p.wait
    r0, w0 = os.pipe()
    r1, w1 = os.pipe()
    try:
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, r0, 0),
            (os.POSIX_SPAWN_DUP2, w1, 1),
        ])
    except OSError:
        os.close(w0)
        os.close(r1)
        raise
    finally:
        os.close(r0)
        os.close(w1)

    def wait():
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    return os.fdopen(w0, "w", encoding="utf-8"), os.fdopen(r1, "r", encoding="utf-8"), wait


def _run(hook, output_dir, config_settings):
    if not os.environ.get("LIBCLANG_PATH"):
        lib = _pypi_libclang()
        if lib:
            os.environ["LIBCLANG_PATH"] = lib
    # A Windows cross build makes python3.dll's import library with
    # `zig dlltool`, which the python3-dll-a crate runs as $ZIG_COMMAND
    # (split at spaces: only an interpreter path without any).
    target = str((config_settings or {}).get("target", ""))
    if "windows" in target and not os.environ.get("ZIG_COMMAND") and not any(c.isspace() for c in sys.executable):
        if _has("ziglang"):
            os.environ["ZIG_COMMAND"] = sys.executable + " -m ziglang"

    request = {
        "hook": hook,
        "source_dir": os.getcwd(),
        "output_dir": os.path.abspath(output_dir),
        "config_settings": dict(config_settings or {}),
        "interpreter": None,
    }
    program = find_headerwheel_bin()
    try:
        to_child, from_child, wait = _spawn([program, "hook"])
    except OSError as e:
        raise SystemExit("headerwheel: error: cannot run %s: %s" % (program, e)) from None
    reply = {}
    try:
        try:
            to_child.write(json.dumps(request) + "\n")
            to_child.flush()
            for line in from_child:
                if not line.startswith("{"):
                    sys.stdout.write(line)  # not ours: a child's stray output
                    continue
                reply = json.loads(line)
                if reply.get("need") == "interpreter":
                    to_child.write(json.dumps(_interpreter()) + "\n")
                    to_child.flush()
        except BrokenPipeError:
            pass  # it stopped reading: its exit status says why
    finally:
        for f in (to_child, from_child):
            try:
                f.close()
            except OSError:
                pass
        code = wait()
    if code == 0 and "result" in reply:
        return reply["result"]
    if "error" in reply:
        raise SystemExit("headerwheel: error: %s" % (reply["error"],))
    how = "was killed by signal %d" % -code if code < 0 else "exited with status %d" % code
    raise SystemExit("headerwheel: error: %s %s without a result (%s)" % (program, how, hook))


def get_requires_for_build_wheel(config_settings=None):
    # ``libclang`` only when a header is not in the .headerkit store and the
    # machine has no libclang; nothing otherwise.
    return json.loads(_run("get_requires_for_build_wheel", ".", config_settings))


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return json.loads(_run("get_requires_for_build_editable", ".", config_settings))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _run("prepare_metadata_for_build_wheel", metadata_directory, config_settings)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _run("prepare_metadata_for_build_editable", metadata_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _run("build_wheel", wheel_directory, config_settings)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _run("build_editable", wheel_directory, config_settings)


def build_sdist(sdist_directory, config_settings=None):
    return _run("build_sdist", sdist_directory, config_settings)
