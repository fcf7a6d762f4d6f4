"""headerwheel: a PEP 517 build backend that turns C headers into CFFI extension modules.

Each hook gathers the facts of the interpreter it runs under (sysconfig),
hands them with its arguments to the Rust core as JSON, and returns what the
core returns. Validation, defaults and every decision live in Rust.
"""

import os

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

# Environment variables the compiler and linker may read, passed on
# explicitly (distutils' overrides and the toolchain's own search paths).
_ENV_KEYS = (
    "PATH", "TMPDIR", "HOME", "LANG", "LC_ALL",
    "CC", "CFLAGS", "CPPFLAGS", "LDFLAGS", "LDSHARED",
    "CPATH", "C_INCLUDE_PATH", "LIBRARY_PATH", "PKG_CONFIG_PATH",
)


def _facts():
    import importlib.util
    import platform
    import sys
    import sysconfig

    var = sysconfig.get_config_var
    paths = sysconfig.get_paths()
    includes = []
    for key in ("include", "platinclude"):
        if paths.get(key) and paths[key] not in includes:
            includes.append(paths[key])
    libc, libc_version = platform.libc_ver()
    gnu_type = (var("HOST_GNU_TYPE") or "") + (var("SOABI") or "")
    if "musl" in gnu_type:
        libc = "musl"
    spec = importlib.util.find_spec("cffi")
    return {
        "implementation": sys.implementation.name,
        "version": list(sys.version_info[:2]),
        "ext_suffix": var("EXT_SUFFIX") or ".so",
        "include_dirs": includes,
        "cc": var("CC") or "cc",
        "cflags": var("CFLAGS") or "",
        "ccshared": var("CCSHARED") or "",
        "ldshared": var("LDSHARED") or "cc -shared",
        "machine": platform.machine(),
        "platform": sysconfig.get_platform(),
        "libc": libc or "glibc",
        "libc_version": libc_version or "",
        "free_threaded": bool(var("Py_GIL_DISABLED")),
        "debug": hasattr(sys, "gettotalrefcount"),
        "sizeof_int": var("SIZEOF_INT") or 4,
        "sizeof_long": var("SIZEOF_LONG") or 8,
        "cffi_dir": os.path.dirname(spec.origin) if spec and spec.origin else None,
        "env": {k: os.environ[k] for k in _ENV_KEYS if k in os.environ},
    }


def _request(directory, config_settings):
    import json

    return json.dumps({
        "project_dir": os.getcwd(),
        "out_dir": os.path.abspath(directory),
        "interpreter": _facts(),
        "config_settings": config_settings or {},
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH"),
    })


def _native():
    from headerwheel import _native

    return _native


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 517: build a wheel into `wheel_directory`; returns its file name."""
    return _native().build_wheel(_request(wheel_directory, config_settings), False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 660: build an editable wheel (a .pth to the source tree, modules built in place)."""
    return _native().build_wheel(_request(wheel_directory, config_settings), True)


def build_sdist(sdist_directory, config_settings=None):
    """PEP 517: build the sdist into `sdist_directory`; returns its file name."""
    return _native().build_sdist(_request(sdist_directory, config_settings))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    """PEP 517: write the .dist-info the wheel will have; returns its name."""
    return _native().prepare_metadata(_request(metadata_directory, config_settings))


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    """PEP 660: as prepare_metadata_for_build_wheel."""
    return _native().prepare_metadata(_request(metadata_directory, config_settings))


def get_requires_for_build_wheel(config_settings=None):
    """PEP 517: what the build environment still needs (cffi when it is missing)."""
    return _native().get_requires(_request(".", config_settings), "wheel")


def get_requires_for_build_editable(config_settings=None):
    """PEP 660: as get_requires_for_build_wheel."""
    return _native().get_requires(_request(".", config_settings), "editable")


def get_requires_for_build_sdist(config_settings=None):
    """PEP 517: nothing beyond headerwheel itself."""
    return _native().get_requires(_request(".", config_settings), "sdist")
