"""Import one CFFI module built from emitted source and exercise it through
_cffi_backend: every lib attribute is realised (functions, global variables,
constants, enum values, extern "Python" pointers), every function whose
arguments can be made without pointers is called, global variables are
written back, and every type is parsed and, for structs and unions,
instantiated (which makes CFFI compare the field layout with the C
compiler's, for _CFFI_F_CHECK_FIELDS structs).

Usage: python exercise_cffi_module.py DIR MODULE
       python exercise_cffi_module.py --abi FILE.py...
Prints one JSON object: {"errors": [...], "counts": {...}}; exit 0 iff no
errors. With --abi, each FILE is an ABI-mode module: it is imported, its
types are exercised the same way, and the names of `ffi.dlopen(None)` are
looked up (integer constants and enum values resolve; functions and
variables may be absent from the process, which is not an error).
"""
import importlib
import json
import os
import sys

ZERO_BY_CNAME = {
    'char': b'\x00', 'wchar_t': '\x00', 'char16_t': '\x00', 'char32_t': '\x00',
    '_Bool': False, 'float': 0.0, 'double': 0.0, 'long double': 0.0,
    '_cffi_float_complex_t': 0j, '_cffi_double_complex_t': 0j,
    'float _Complex': 0j, 'double _Complex': 0j,
}


# What CFFI itself says about a cdef that declares something unusable
# (a function typedef, an open array field, a constant of opaque type):
# properties of the input, not of the emitted tables.
INHERENT = ("is a function type", "incomplete type", "of unknown size",
            "whose size is not known")


def inherent(e):
    return any(s in str(e) for s in INHERENT)


def zero_arg(ffi, ctype):
    """A harmless value for an argument of type `ctype`, or None."""
    if ctype.kind == 'primitive':
        return ZERO_BY_CNAME.get(ctype.cname, 0)
    if ctype.kind == 'enum':
        return 0
    if ctype.kind in ('struct', 'union'):
        return ffi.new(ctype.cname + ' *')[0]
    return None


def is_opaque(ffi, ctype):
    try:
        ffi.sizeof(ctype)
    except ffi.error as e:
        if "don't know the size" in str(e) or 'opaque' in str(e):
            return True
        raise
    return False


def exercise_types(ffi, counts, errors):
    typedefs, structs, unions = ffi.list_types()
    for cname in (typedefs + ['struct ' + s for s in structs]
                  + ['union ' + u for u in unions]):
        try:
            t = ffi.typeof(cname)
            counts['types'] += 1
            if t.kind in ('struct', 'union') and not is_opaque(ffi, t):
                # realising the layout first: reading .fields of a lazy
                # struct trips an assertion in _cffi_backend
                ffi.new(cname + ' *')
                [f for f in t.fields]
                counts['structs'] += 1
        except Exception as e:
            if inherent(e):
                counts['inherent'] = counts.get('inherent', 0) + 1
            else:
                errors.append('%s: %s: %s' % (cname, type(e).__name__, e))


def main_abi(files):
    import importlib.util
    counts = {'modules': 0, 'attrs': 0, 'unresolved': 0, 'types': 0,
              'structs': 0}
    errors = []
    for path in files:
        name = os.path.splitext(os.path.basename(path))[0]
        # The modules it includes sit beside it; other cases may use the
        # same names, so they are forgotten after this case.
        here = os.path.dirname(os.path.abspath(path))
        sys.path.insert(0, here)
        try:
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            ffi = mod.ffi
        except Exception as e:
            errors.append('%s: import: %s: %s' % (path, type(e).__name__, e))
            continue
        finally:
            sys.path.remove(here)
            for key, m in list(sys.modules.items()):
                if os.path.dirname(os.path.abspath(getattr(m, '__file__', None) or '/')) == here:
                    del sys.modules[key]
        counts['modules'] += 1
        errs = []
        exercise_types(ffi, counts, errs)
        lib = ffi.dlopen(None)
        for attr in dir(lib):
            try:
                getattr(lib, attr)
                counts['attrs'] += 1
            except Exception as e:
                if 'not found in library' in str(e) or inherent(e):
                    counts['unresolved'] += 1
                else:
                    errs.append('lib.%s: %s: %s' % (attr, type(e).__name__, e))
        errors.extend('%s: %s' % (path, e) for e in errs)
    print(json.dumps({'errors': errors, 'modules': counts['modules'],
                      'counts': counts}, sort_keys=True))
    return 1 if errors else 0


def main():
    if sys.argv[1] == '--abi':
        return main_abi(sys.argv[2:])
    directory, module = sys.argv[1], sys.argv[2]
    sys.path.insert(0, directory)
    counts = {'attrs': 0, 'calls': 0, 'writes': 0, 'types': 0, 'structs': 0}
    errors = []
    mod = importlib.import_module(module)
    ffi, lib = mod.ffi, mod.lib
    for name in dir(lib):
        try:
            obj = getattr(lib, name)
        except Exception as e:      # a constant the compiler disagrees with...
            errors.append('lib.%s: %s: %s' % (name, type(e).__name__, e))
            continue
        counts['attrs'] += 1
        if type(obj).__name__ == 'builtin_function_or_method':
            ft = ffi.typeof(obj)
            if ft.ellipsis:
                continue
            args = [zero_arg(ffi, a) for a in ft.args]
            if any(a is None for a in args):
                continue
            try:
                obj(*args)
            except Exception as e:
                errors.append('lib.%s(...): %s: %s' % (name, type(e).__name__, e))
            counts['calls'] += 1
        elif not callable(obj) and isinstance(obj, (int, float)):
            if name in lib.__dict__ and not isinstance(lib.__dict__[name], (int, float)):
                # a global variable: write the value back
                try:
                    setattr(lib, name, obj)
                    counts['writes'] += 1
                except Exception as e:
                    errors.append('lib.%s = ...: %s: %s' % (name, type(e).__name__, e))
    exercise_types(ffi, counts, errors)
    print(json.dumps({'errors': errors, 'counts': counts}, sort_keys=True))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
