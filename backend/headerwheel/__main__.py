"""`python -m headerwheel` and the `headerwheel` console script."""
import sys


def main() -> None:
    from headerwheel import _native

    sys.exit(_native.cli(sys.argv[1:]))


if __name__ == "__main__":
    main()
