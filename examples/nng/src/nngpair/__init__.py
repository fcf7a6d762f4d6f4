"""A minimal nng binding: pair0 sockets, send and receive."""
from nngpair._nng_cffi import ffi, lib

__all__ = ["Pair", "version", "NNGError"]


class NNGError(Exception):
    pass


def _check(rv):
    if rv != 0:
        raise NNGError(ffi.string(lib.nng_strerror(rv)).decode())


def version():
    return ffi.string(lib.nng_version()).decode()


class Pair:
    """A pair0 socket."""

    def __init__(self):
        self._sock = ffi.new("nng_socket *")
        _check(lib.nng_pair0_open(self._sock))

    def listen(self, url):
        _check(lib.nng_listen(self._sock[0], url.encode(), ffi.NULL, 0))

    def dial(self, url):
        _check(lib.nng_dial(self._sock[0], url.encode(), ffi.NULL, 0))

    def send(self, data):
        _check(lib.nng_send(self._sock[0], data, len(data), 0))

    def recv(self):
        buf = ffi.new("void **")
        size = ffi.new("size_t *")
        _check(lib.nng_recv(self._sock[0], buf, size, lib.NNG_FLAG_ALLOC))
        try:
            return ffi.buffer(buf[0], size[0])[:]
        finally:
            lib.nng_free(buf[0], size[0])

    def close(self):
        _check(lib.nng_close(self._sock[0]))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main():
    with Pair() as a, Pair() as b:
        a.listen("inproc://nngpair-demo")
        b.dial("inproc://nngpair-demo")
        b.send(b"hello from headerwheel")
        print("nng", version(), "received:", a.recv().decode())


if __name__ == "__main__":
    main()
