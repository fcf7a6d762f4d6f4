"""Safe helpers over system APIs; the raw bindings stay in `_sys_cffi`."""
from sysinfo_cffi._sys_cffi import ffi as _ffi, lib as _lib

__all__ = ["total_memory", "uptime", "page_size", "cpu_count", "pid"]


def _sysinfo():
    info = _ffi.new("struct sysinfo *")
    if _lib.sysinfo(info) != 0:
        raise OSError(_ffi.errno, "sysinfo() failed")
    return info


def total_memory():
    """Total RAM in bytes."""
    info = _sysinfo()
    return info.totalram * info.mem_unit


def uptime():
    """Seconds since boot."""
    return _sysinfo().uptime


def page_size():
    return _lib.sysconf(_lib._SC_PAGESIZE)


def cpu_count():
    return _lib.sysconf(_lib._SC_NPROCESSORS_ONLN)


def pid():
    return _lib.getpid()


def main():
    print("total_memory", total_memory())
    print("uptime", uptime())
    print("page_size", page_size())
    print("cpu_count", cpu_count())
    print("pid", pid())
