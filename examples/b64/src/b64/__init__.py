"""base64 through a C library with a stable ABI, called in CFFI's ABI mode.

No compiler is needed at install time: `_b64_abi` is the out-of-line ABI-mode
module headerwheel generated from `b64.h`, and the shared library is found at
run time by `_loader`.
"""

from b64._b64_abi import ffi
from b64._loader import load_library, LibraryNotFound

__all__ = ["version", "encode", "decode", "B64Error", "LibraryNotFound"]

_lib = load_library(ffi, "b64")


class B64Error(ValueError):
    """The library rejected its input."""


def version() -> str:
    """The C library's version."""
    return ffi.string(_lib.b64_version()).decode("ascii")


def _call_with_retry(fn, data, out_type: str, capacity: int):
    """Calls fn(data, len, out, &out_len), growing `out` once on BUFFER_TOO_SMALL."""
    out_len = ffi.new("size_t *")
    for _ in range(2):
        out = ffi.new(f"{out_type}[]", max(capacity, 1))
        out_len[0] = capacity
        status = fn(data, len(data), out, out_len)
        if status == _lib.B64_OK:
            return ffi.buffer(out, out_len[0])[:]
        if status == _lib.B64_BUFFER_TOO_SMALL:
            capacity = out_len[0]
            continue
        raise B64Error(f"b64: invalid input (status {status})")
    raise RuntimeError("b64: the library asked for a larger buffer twice")


def encode(data: bytes) -> str:
    """base64 text of `data`."""
    # Start with a deliberately small buffer: the retry path is the normal path.
    return _call_with_retry(_lib.b64_encode, bytes(data), "char", 16).decode("ascii")


def decode(text: str) -> bytes:
    """The bytes `text` encodes."""
    raw = text.encode("ascii")
    return _call_with_retry(_lib.b64_decode, raw, "uint8_t", 16)
