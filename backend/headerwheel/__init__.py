"""headerwheel: a PEP 517 build backend that turns C headers into CFFI extension modules.

The hooks gather facts about the target interpreter (``sysconfig``) and hand
them, with the request, to the Rust core (``headerwheel._native``).
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
]


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
    compiles modules or shared libraries (the Rust core asks for them with
    ``NeedInterpreter``)."""
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
    explicit ``LIBCLANG_PATH``."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("clang")
    except (ImportError, ValueError):
        return None
    for d in (spec.submodule_search_locations or []) if spec else []:
        for name in ("libclang.so", "libclang.dylib", "libclang.dll"):
            path = os.path.join(d, "native", name)
            if os.path.isfile(path):
                return path
    return None


def _run(hook, output_dir, config_settings):
    from headerwheel import _native

    if not os.environ.get("LIBCLANG_PATH"):
        lib = _pypi_libclang()
        if lib:
            os.environ["LIBCLANG_PATH"] = lib

    request = {
        "hook": hook,
        "source_dir": os.getcwd(),
        "output_dir": os.path.abspath(output_dir),
        "config_settings": dict(config_settings or {}),
        "interpreter": None,
    }
    try:
        try:
            return _native.hook(json.dumps(request))
        except _native.NeedInterpreter:
            request["interpreter"] = _interpreter()
            return _native.hook(json.dumps(request))
    except _native.BuildError as e:
        sys.stderr.write("headerwheel: error: %s\n" % (e,))
        sys.stderr.flush()
        raise SystemExit(1) from None


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
