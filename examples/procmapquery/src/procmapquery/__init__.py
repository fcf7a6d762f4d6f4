"""Walk a process's memory mappings with Linux's PROCMAP_QUERY ioctl.

The struct layout and the ioctl number come from the kernel's header through
CFFI's API mode (see _procmap.cdef.txt): nothing here hard-codes the ABI.
"""

import errno
import fcntl
import os
import sys
from dataclasses import dataclass
from typing import Iterator, Optional

from procmapquery._procmap_cffi import ffi, lib

__all__ = ["Mapping", "mappings", "main"]


@dataclass(frozen=True)
class Mapping:
    """One memory mapping, as a line of /proc/PID/maps describes it."""

    start: int
    end: int
    readable: bool
    writable: bool
    executable: bool
    shared: bool
    offset: int
    dev_major: int
    dev_minor: int
    inode: int
    path: str

    @property
    def perms(self) -> str:
        return "".join(
            (
                "r" if self.readable else "-",
                "w" if self.writable else "-",
                "x" if self.executable else "-",
                "s" if self.shared else "p",
            )
        )

    def maps_line(self) -> str:
        """This mapping in /proc/PID/maps's format."""
        head = (
            f"{self.start:08x}-{self.end:08x} {self.perms} {self.offset:08x} "
            f"{self.dev_major:02x}:{self.dev_minor:02x} {self.inode}"
        )
        return f"{head:<72} {self.path}".rstrip() if self.path else head


def mappings(pid: Optional[int] = None) -> Iterator[Mapping]:
    """Yields every mapping of process `pid` (default: this process), in address order.

    Raises OSError(ENOTTY) on kernels without PROCMAP_QUERY (before 6.11).
    """
    path = f"/proc/{'self' if pid is None else pid}/maps"
    fd = os.open(path, os.O_RDONLY)
    try:
        query = ffi.new("struct procmap_query *")
        name = ffi.new("char[]", 4096)
        addr = 0
        while True:
            query.size = ffi.sizeof("struct procmap_query")
            query.query_flags = lib.PROCMAP_QUERY_COVERING_OR_NEXT_VMA
            query.query_addr = addr
            query.vma_name_addr = int(ffi.cast("uintptr_t", name))
            query.vma_name_size = len(name)
            try:
                fcntl.ioctl(fd, lib.PROCMAP_QUERY, ffi.buffer(query))
            except OSError as e:
                if e.errno == errno.ENOENT:  # no mapping at or after addr
                    return
                raise
            flags = query.vma_flags
            yield Mapping(
                start=query.vma_start,
                end=query.vma_end,
                readable=bool(flags & lib.PROCMAP_QUERY_VMA_READABLE),
                writable=bool(flags & lib.PROCMAP_QUERY_VMA_WRITABLE),
                executable=bool(flags & lib.PROCMAP_QUERY_VMA_EXECUTABLE),
                shared=bool(flags & lib.PROCMAP_QUERY_VMA_SHARED),
                offset=query.vma_offset,
                dev_major=query.dev_major,
                dev_minor=query.dev_minor,
                inode=query.inode,
                path=ffi.string(name, query.vma_name_size).decode("utf-8", "surrogateescape")
                if query.vma_name_size
                else "",
            )
            addr = query.vma_end
    finally:
        os.close(fd)


def main() -> None:
    """Prints this process's mappings like /proc/self/maps."""
    try:
        for m in mappings(int(sys.argv[1]) if len(sys.argv) > 1 else None):
            print(m.maps_line())
    except OSError as e:
        if e.errno == errno.ENOTTY:
            sys.exit("procmapquery: this kernel has no PROCMAP_QUERY (Linux 6.11 or newer is needed)")
        raise
