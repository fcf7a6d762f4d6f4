"""Finds and opens a package's shared library.

Order: each path in `<PKG>_LIB_PATH` (`:`-separated, `;` on Windows), the
package directory, then the system linker path. A missing library raises
LibraryNotFound listing every place tried.
"""

import ctypes.util
import os
import sys

__all__ = ["LibraryNotFound", "load_library"]


class LibraryNotFound(OSError):
    """The shared library is in none of the places tried."""


def _file_names(name: str):
    if sys.platform == "win32":
        return [f"{name}.dll", f"lib{name}.dll"]
    if sys.platform == "darwin":
        return [f"lib{name}.dylib"]
    return [f"lib{name}.so"]


def load_library(ffi, name: str, package_dir: str = os.path.dirname(os.path.abspath(__file__))):
    """Opens library `name` with `ffi.dlopen`, searching as the module doc says."""
    env_var = f"{name.upper()}_LIB_PATH"
    separator = ";" if sys.platform == "win32" else ":"
    tried = []
    dirs = [d for d in os.environ.get(env_var, "").split(separator) if d]
    for directory in dirs + [package_dir]:
        for file_name in _file_names(name):
            path = os.path.join(directory, file_name)
            tried.append(path)
            if os.path.exists(path):
                return ffi.dlopen(path)
    system = ctypes.util.find_library(name)
    tried.append(f"the system linker path ({system or f'no lib{name} found'})")
    if system:
        try:
            return ffi.dlopen(system)
        except OSError as e:
            tried[-1] += f": {e}"
    raise LibraryNotFound(
        f"cannot find the {name} shared library; tried:\n  " + "\n  ".join(tried)
        + f"\nSet {env_var} to the directory holding it."
    )
