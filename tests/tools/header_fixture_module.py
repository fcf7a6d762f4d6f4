"""Builds one header fixture's module with CFFI 2.1.1 and reports, as JSON in
WORK_DIR/report.json, what tests/test_header_fixtures.py compares:

- `queries`: the size and alignment of every struct, union and typedef of
  the cdef, and the offset of every named field (nested records, anonymous
  members and array elements included; bitfields have no offset in C), as
  the module's `ffi` answers, each with the C expression that asks the
  compiler the same question;
- `constants`: every enumerator and `#define` of the cdef, as `lib` has it;
- `opaque`: the types declared without fields (`ffi.sizeof` must fail);
- `check`: `ok`, or the traceback of the case's `check.py` (`check(ffi, lib)`).

usage: header_fixture_module.py CASE_DIR CDEF WORK_DIR MODULE PREAMBLE_FILE

CFFI's own C source is written to WORK_DIR/cffi_emitted.c before compiling.
"""
import importlib
import json
import sys
import traceback
from pathlib import Path

import cffi
from cffi import model


def fields(tp, path, c_path):
    """(ffi.offsetof arguments, C member designator) of every named field of
    the record `tp`, nested ones included."""
    for name, ftp, bits in zip(tp.fldnames, tp.fldtypes, tp.fldbitsize):
        if bits >= 0:
            continue  # a bitfield: offsetof() is not C; check.py reads and writes them
        if name == "":
            # An anonymous member: its fields are the outer record's.
            yield from fields(ftp, path, c_path)
            continue
        p, c = path + [name], (c_path + "." + name if c_path else name)
        yield p, c
        yield from inside(ftp, p, c)


def inside(ftp, path, c_path):
    if isinstance(ftp, model.StructOrUnion) and ftp.fldnames is not None:
        yield from fields(ftp, path, c_path)
    elif isinstance(ftp, model.ArrayType) and isinstance(ftp.length, int) and ftp.length > 0:
        i = 1 if ftp.length > 1 else 0
        p, c = path + [i], "%s[%d]" % (c_path, i)
        yield p, c
        yield from inside(ftp.item, p, c)


def layout_queries(declarations):
    """[(key, C expression, callable on the module's ffi)] and the opaque type names."""
    queries, opaque = [], []
    for key, (tp, _quals) in sorted(declarations.items()):
        kind, _, name = key.partition(" ")
        if kind in ("struct", "union"):
            cname = key
        elif kind == "typedef":
            cname = name
        else:
            continue
        if isinstance(tp, (model.RawFunctionType, model.VoidType)):
            continue
        if isinstance(tp, model.StructOrUnion) and tp.fldnames is None:
            opaque.append(cname)
            continue
        queries.append(("sizeof " + cname, "sizeof(%s)" % cname, lambda ffi, n=cname: ffi.sizeof(n)))
        queries.append(("alignof " + cname, "_Alignof(%s)" % cname, lambda ffi, n=cname: ffi.alignof(n)))
        if isinstance(tp, model.StructOrUnion):
            for path, c_path in fields(tp, [], ""):
                queries.append((
                    "offsetof %s %s" % (cname, c_path),
                    "offsetof(%s, %s)" % (cname, c_path),
                    lambda ffi, n=cname, p=path: ffi.offsetof(n, *p),
                ))
    return queries, opaque


def constant_names(declarations):
    names = set()
    for key, (tp, _quals) in declarations.items():
        if key.startswith("macro "):
            names.add(key.split(" ", 1)[1])
        if isinstance(tp, model.EnumType) and tp.enumerators:
            names.update(tp.enumerators)
    return sorted(names)


def main(case_dir, cdef_path, work, module, preamble_file):
    case_dir, work = Path(case_dir), Path(work)
    case = case_dir.name
    ffi = cffi.FFI()
    ffi.cdef(Path(cdef_path).read_text())
    ffi.set_source(
        module,
        Path(preamble_file).read_text(),
        sources=[str(case_dir / (case + ".c"))],
        include_dirs=[str(case_dir)],
    )
    ffi.emit_c_code(str(work / "cffi_emitted.c"))
    ffi.compile(tmpdir=str(work))
    sys.path.insert(0, str(work))
    m = importlib.import_module(module)
    declarations = ffi._parser._declarations
    queries, opaque = layout_queries(declarations)
    out = {"queries": [], "constants": [], "opaque": [], "check": "ok"}
    for key, c_expr, ask in queries:
        try:
            value = ask(m.ffi)
        except Exception as e:  # a wrong layout: CFFI reports it on first use
            value = "%s: %s" % (type(e).__name__, e)
        out["queries"].append([key, c_expr, value])
    for name in opaque:
        try:
            m.ffi.sizeof(name)
        except m.ffi.error:
            out["opaque"].append(name)
        else:
            out["opaque"].append("%s has a size" % name)
    for name in constant_names(declarations):
        try:
            out["constants"].append([name, getattr(m.lib, name)])
        except Exception as e:
            out["constants"].append([name, "%s: %s" % (type(e).__name__, e)])
    check_file = case_dir / "check.py"
    try:
        namespace = {}
        exec(compile(check_file.read_text(), str(check_file), "exec"), namespace)
        namespace["check"](m.ffi, m.lib)
    except Exception:
        out["check"] = traceback.format_exc()
    (work / "report.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
