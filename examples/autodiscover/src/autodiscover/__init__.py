"""strlen, getpid, sin and qsort, with signatures discovered from the headers."""
from autodiscover._libc_cffi import ffi, lib

__all__ = ["strlen", "getpid", "sin", "sort_ints"]


def strlen(s):
    return lib.strlen(s.encode())


def getpid():
    return lib.getpid()


def sin(x):
    return lib.sin(x)


@ffi.def_extern()
def _compare_ints(a, b):
    x = ffi.cast("int *", a)[0]
    y = ffi.cast("int *", b)[0]
    return (x > y) - (x < y)


def sort_ints(values):
    """Sorts with C's qsort, calling back into Python to compare."""
    arr = ffi.new("int[]", list(values))
    lib.qsort(arr, len(values), ffi.sizeof("int"), lib._compare_ints)
    return list(arr)
