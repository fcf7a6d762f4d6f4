"""`python -m headerwheel`: runs the `headerwheel` program (the package's
script), telling it which interpreter ran it."""
import os
import sys


def main() -> None:
    from headerwheel import _cffi, find_headerwheel_bin

    program = find_headerwheel_bin()
    env = dict(os.environ)
    # `headerwheel migrate` runs the project's builders with this interpreter,
    # and the commands that emit C read this interpreter's cffi headers.
    env.setdefault("HEADERWHEEL_PYTHON", sys.executable)
    if "HEADERWHEEL_CFFI_DIR" not in env:
        try:
            env["HEADERWHEEL_CFFI_DIR"] = _cffi()[0]
        except SystemExit:
            pass  # no cffi here: the commands that need it say so
    argv = [program, *sys.argv[1:]]
    if sys.platform == "win32":
        import subprocess

        try:
            sys.exit(subprocess.run(argv, env=env).returncode)
        except KeyboardInterrupt:
            sys.exit(2)
    os.execve(program, argv, env)


if __name__ == "__main__":
    main()
