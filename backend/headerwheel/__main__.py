"""`python -m headerwheel` and the `headerwheel` console script."""
import os
import sys


def main() -> None:
    from headerwheel import _native

    # `headerwheel migrate` runs the project's builders with this interpreter.
    os.environ.setdefault("HEADERWHEEL_PYTHON", sys.executable)
    if "HEADERWHEEL_CFFI_DIR" not in os.environ:
        try:
            import cffi

            os.environ["HEADERWHEEL_CFFI_DIR"] = os.path.dirname(cffi.__file__)
        except ImportError:
            pass
    try:
        code = _native.cli(sys.argv[1:])
    except _native.BuildError as e:
        sys.stderr.write("headerwheel: %s\n" % (e,))
        code = 70
    sys.exit(code)


if __name__ == "__main__":
    main()
