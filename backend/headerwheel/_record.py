"""Records a project's CFFI builders for ``headerwheel migrate``.

``python -m headerwheel._record PROJECT_DIR [--emit DIR] [--out FILE]`` runs
the project's ``setup.py`` with ``setup()`` captured (its keyword arguments,
and setup.cfg's ``[metadata]``/``[options]``), then each ``cffi_modules``
builder the way cffi's setuptools integration does, with ``cffi.FFI``'s
``cdef()``, ``set_source()`` and ``include()`` recording their arguments.
A hatchling custom build hook that builds an FFI is run too. It prints one
JSON document (stdout, or FILE); the builders' own output goes to stderr.

With ``--emit DIR``, each module's source is also emitted by the real cffi
(``ffi.emit_c_code``, or ``emit_python_code`` in ABI mode) into DIR: the
reference ``headerwheel migrate --check`` compares against.

Environment variables the project's own code reads, and commands it runs,
are recorded too: what the builder chose depends on them.

This file runs under the project's interpreter, which needs cffi (and
setuptools for a setup.py); it imports nothing else of headerwheel.
"""
import ast
import configparser
import json
import os
import runpy
import struct
import sys
import sysconfig
import traceback

STATIC_TYPES = (str, int, float, bool, type(None))


def _jsonable(v):
    if isinstance(v, STATIC_TYPES):
        return v
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        items = [_jsonable(x) for x in v]
        return sorted(items, key=repr) if isinstance(v, (set, frozenset)) else items
    return repr(v)


class StopAtCompile(Exception):
    """Raised by ``ffi.compile()`` while recording."""


class Recorder:
    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.ffis = []  # (ffi, record) in set_source order
        self.records = {}  # id(ffi) -> record
        self.env = []
        self.commands = []
        self.warnings = []

    # -- who is calling: the project's own code, not the libraries it uses --
    def _project_frame(self, skip_files):
        f = sys._getframe(2)
        while f is not None and os.path.basename(f.f_code.co_filename) in skip_files:
            f = f.f_back
        if f is None or f.f_code.co_filename.startswith("<"):
            return None
        path = os.path.realpath(f.f_code.co_filename)
        if not path.startswith(self.root + os.sep):
            return None
        rel = os.path.relpath(path, self.root)
        if "site-packages" in rel or rel.startswith((".venv", "venv", ".tox", ".nox")):
            return None
        return "%s:%d" % (rel, f.f_lineno)

    def _record(self, ffi):
        r = self.records.get(id(ffi))
        if r is None:
            r = {"cdefs": [], "includes": [], "unsupported": []}
            self.records[id(ffi)] = r
        return r

    def install(self):
        import cffi
        import subprocess

        rec = self
        FFI = cffi.FFI
        orig_cdef, orig_set_source, orig_include = FFI.cdef, FFI.set_source, FFI.include
        orig_embedding_api = FFI.embedding_api

        def cdef(self, csource, override=False, packed=False, pack=None):
            rec._record(self)["cdefs"].append(
                {"text": csource, "override": bool(override), "packed": bool(packed), "pack": pack}
            )
            return orig_cdef(self, csource, override=override, packed=packed, pack=pack)

        def set_source(self, module_name, source, source_extension=".c", **kwds):
            r = rec._record(self)
            r["set_source_at"] = rec._project_frame(())
            result = orig_set_source(self, module_name, source, source_extension, **kwds)
            if not any(x is self for x, _ in rec.ffis):
                rec.ffis.append((self, r))
            return result

        def include(self, ffi_to_include):
            r = rec._record(self)
            inc = rec._record(ffi_to_include)
            r["includes"].append({"cdefs": inc["cdefs"]})
            return orig_include(self, ffi_to_include)

        def embedding_api(self, csource, packed=False, pack=None):
            rec._record(self)["unsupported"].append("embedding_api() (an embedded Python)")
            return orig_embedding_api(self, csource, packed=packed, pack=pack)

        FFI.cdef, FFI.set_source, FFI.include, FFI.embedding_api = cdef, set_source, include, embedding_api

        # The builders only declare: compiling is the build backend's job. A
        # build hook stops at compile(): what it does with the result (copy
        # the .so into the tree) must not happen while recording.
        def compile(self, *a, **k):
            raise StopAtCompile()

        FFI.compile = compile

        orig_getitem = os._Environ.__getitem__

        def getitem(environ, key):
            try:
                value = orig_getitem(environ, key)
            except KeyError:
                value = None
            where = rec._project_frame(("os.py", "_collections_abc.py", "<frozen os>", "<frozen _collections_abc>"))
            if where is not None and environ is os.environ:
                entry = {"name": key, "value": value, "at": where}
                if entry not in rec.env:
                    rec.env.append(entry)
            if value is None:
                raise KeyError(key)
            return value

        os._Environ.__getitem__ = getitem

        orig_popen_init = subprocess.Popen.__init__

        def popen_init(self, args, *a, **k):
            where = rec._project_frame(("subprocess.py",))
            if where is not None:
                rec.commands.append({"argv": _jsonable(args), "at": where})
            return orig_popen_init(self, args, *a, **k)

        subprocess.Popen.__init__ = popen_init


def _setup_call_keywords(path):
    """{keyword: (is_literal, source text)} of the setup(...) call in setup.py."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return {}
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
        if name != "setup":
            continue
        for kw in node.keywords:
            if kw.arg is None:
                continue
            try:
                ast.literal_eval(kw.value)
                literal = True
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                literal = False
            found[kw.arg] = (literal, ast.get_source_segment(text, kw.value) or "")
    return found


def _read_setup_cfg(path):
    """setup.cfg's [metadata] and [options] (and their subsections), raw."""
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read(path, encoding="utf-8")
    except (OSError, configparser.Error):
        return {}
    out = {}
    for section in cp.sections():
        if section in ("metadata", "options") or section.startswith("options."):
            out[section] = dict(cp.items(section))
    return out


def _resolved_setup_cfg(path):
    """setup.cfg as setuptools resolves it (attr:, file:, find:)."""
    try:
        from setuptools.config.setupcfg import read_configuration
    except ImportError:
        try:
            from setuptools.config import read_configuration
        except ImportError:
            return None
    try:
        return _jsonable(read_configuration(path, ignore_option_errors=True))
    except Exception as e:  # noqa: BLE001 - reported, never fatal
        return {"error": "%s: %s" % (type(e).__name__, e)}


def _run_setup_py(root, rec, result):
    """Runs setup.py with setup() captured; returns its keyword arguments."""
    captured = []

    def fake_setup(**kw):
        captured.append(kw)
        # A Distribution object for code that uses setup()'s return value.
        class _Dist:
            def __getattr__(self, name):
                return None

        return _Dist()

    # setup.py's imports (setuptools' distutils shim among them) must not
    # leak into the builders, which cffi runs in a fresh build process.
    modules_before = set(sys.modules)
    patched = []
    for modname in ("setuptools", "setuptools._distutils.core"):
        try:
            mod = __import__(modname, fromlist=["setup"])
        except ImportError:
            continue
        if hasattr(mod, "setup"):
            patched.append((mod, mod.setup))
            mod.setup = fake_setup
    saved_argv = sys.argv
    sys.argv = ["setup.py", "bdist_wheel"]
    try:
        runpy.run_path(os.path.join(root, "setup.py"), run_name="__main__")
    except SystemExit:
        pass
    finally:
        sys.argv = saved_argv
        for mod, orig in patched:
            mod.setup = orig
        for name in set(sys.modules) - modules_before:
            del sys.modules[name]
    if not captured:
        result["warnings"].append("setup.py did not call setup()")
        return {}
    if len(captured) > 1:
        result["warnings"].append("setup.py called setup() %d times; the last call is used" % len(captured))
    return captured[-1]


def _exec_builder(spec):
    """Runs a cffi_modules builder as cffi's setuptools integration does."""
    from cffi.api import FFI

    build_file_name, ffi_var_name = spec.split(":")
    mod_vars = {"__name__": "__cffi__", "__file__": build_file_name}
    with open(build_file_name) as f:
        src = f.read() + "\n"
    try:
        exec(compile(src, build_file_name, "exec"), mod_vars, mod_vars)
    except StopAtCompile:
        pass
    ffi = mod_vars[ffi_var_name]
    if not isinstance(ffi, FFI):
        ffi = ffi()
    return ffi


def _hatch_hook(root, rec, result):
    """A hatchling custom build hook (``[tool.hatch.build.hooks.custom]``,
    default ``hatch_build.py``): its ``initialize`` runs with the FFIs it
    makes recorded (their compile() is skipped)."""
    pyproject = os.path.join(root, "pyproject.toml")
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            return
    try:
        with open(pyproject, "rb") as f:
            doc = tomllib.load(f)
    except OSError:
        return
    hooks = doc.get("tool", {}).get("hatch", {}).get("build", {})
    custom = None
    for where in (hooks.get("hooks", {}), hooks.get("targets", {}).get("wheel", {}).get("hooks", {})):
        if "custom" in where:
            custom = where["custom"]
    if custom is None:
        return
    path = os.path.join(root, custom.get("path", "hatch_build.py"))
    result["sources"].append({"kind": "hatch-build-hook", "path": os.path.relpath(path, root)})
    try:
        from hatchling.builders.hooks.plugin.interface import BuildHookInterface
    except ImportError:
        BuildHookInterface = _hatch_stub()
    ns = runpy.run_path(path, run_name="__hatch_build__")
    classes = [
        c for c in ns.values()
        if isinstance(c, type) and issubclass(c, BuildHookInterface) and c is not BuildHookInterface
    ]
    for cls in classes:
        hook = cls(root, custom, None, None, os.path.join(root, "dist"), "wheel")
        try:
            hook.initialize("standard", {"artifacts": [], "force_include": {}, "build_hooks": []})
        except StopAtCompile:
            result["warnings"].append(
                "%s: the hook stopped at ffi.compile() (what it does after, with the compiled module, is headerwheel's job now)"
                % os.path.relpath(path, root)
            )


def _hatch_stub():
    """hatchling's BuildHookInterface, enough to run a hook's initialize()
    where hatchling is not installed."""
    import types

    class BuildHookInterface:
        PLUGIN_NAME = ""

        def __init__(self, root, config, build_config, metadata, directory, target_name, app=None):
            self.root, self.config, self.build_config = root, config, build_config
            self.metadata, self.directory, self.target_name = metadata, directory, target_name

        def initialize(self, version, build_data):
            pass

    names = ["hatchling", "hatchling.builders", "hatchling.builders.hooks", "hatchling.builders.hooks.plugin"]
    for n in names:
        sys.modules.setdefault(n, types.ModuleType(n))
    mod = types.ModuleType("hatchling.builders.hooks.plugin.interface")
    mod.BuildHookInterface = BuildHookInterface
    sys.modules["hatchling.builders.hooks.plugin.interface"] = mod
    return BuildHookInterface


def record(root, emit_dir=None):
    root = os.path.abspath(root)
    os.chdir(root)
    for p in (root,):
        if p not in sys.path:
            sys.path.insert(0, p)
    if emit_dir is not None:
        os.makedirs(emit_dir, exist_ok=True)
    rec = Recorder(root)
    rec.install()
    import cffi

    result = {
        "python": {
            "executable": sys.executable,
            "version": list(sys.version_info[:2]),
            "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
            "sizeof_int": struct.calcsize("i"),
            "sizeof_long": struct.calcsize("l"),
            "cffi_version": cffi.__version__,
            "cffi_dir": os.path.dirname(cffi.__file__),
        },
        "sources": [],
        "setup_kwargs": {},
        "setup_static": {},
        "setup_cfg": {},
        "setup_cfg_resolved": None,
        "modules": [],
        "environment": rec.env,
        "commands": rec.commands,
        "warnings": rec.warnings,
        "errors": [],
    }
    specs = []
    ext_package = None
    if os.path.isfile(os.path.join(root, "setup.cfg")):
        cfg = _read_setup_cfg(os.path.join(root, "setup.cfg"))
        if cfg:
            result["sources"].append({"kind": "setup.cfg", "path": "setup.cfg"})
            result["setup_cfg"] = cfg
            result["setup_cfg_resolved"] = _resolved_setup_cfg(os.path.join(root, "setup.cfg"))
            opts = cfg.get("options", {})
            ext_package = opts.get("ext_package") or None
            specs += [s.strip() for s in opts.get("cffi_modules", "").replace(",", "\n").splitlines() if s.strip()]
    if os.path.isfile(os.path.join(root, "setup.py")):
        result["sources"].append({"kind": "setup.py", "path": "setup.py"})
        result["setup_static"] = {k: {"literal": lit, "expr": expr} for k, (lit, expr) in _setup_call_keywords(os.path.join(root, "setup.py")).items()}
        try:
            kw = _run_setup_py(root, rec, result)
        except Exception:  # noqa: BLE001 - reported
            result["errors"].append("setup.py failed:\n" + traceback.format_exc())
            kw = {}
        mods = kw.get("cffi_modules") or []
        if isinstance(mods, str):
            mods = [mods]
        specs += [m for m in mods if m not in specs]
        ext_package = kw.get("ext_package") or ext_package
        result["setup_kwargs"] = _jsonable(kw)
    result["ext_package"] = ext_package
    n_before = len(rec.ffis)
    for spec in specs:
        try:
            ffi = _exec_builder(spec)
        except Exception:  # noqa: BLE001 - reported
            result["errors"].append("builder %s failed:\n%s" % (spec, traceback.format_exc()))
            continue
        r = rec._record(ffi)
        r["builder"] = spec
        if not any(x is ffi for x, _ in rec.ffis):
            rec.ffis.append((ffi, r))
    if len(rec.ffis) == n_before and not specs:
        try:
            _hatch_hook(root, rec, result)
        except Exception:  # noqa: BLE001 - reported
            result["errors"].append("the hatch build hook failed:\n" + traceback.format_exc())
    for ffi, r in rec.ffis:
        if not hasattr(ffi, "_assigned_source"):
            continue
        module_name, source, source_extension, kwds = ffi._assigned_source
        qualified = "%s.%s" % (ext_package, module_name) if ext_package and "builder" in r else module_name
        m = {
            "builder": r.get("builder"),
            "set_source_at": r.get("set_source_at"),
            "module": module_name,
            "qualified": qualified,
            "mode": "abi" if source is None else "api",
            "preamble": source,
            "source_extension": source_extension,
            "kwds": _jsonable(kwds),
            "cdefs": r["cdefs"],
            "includes": r["includes"],
            "unsupported": list(r["unsupported"]),
        }
        if getattr(ffi, "_windows_unicode", None):
            m["unsupported"].append("set_unicode()")
        if getattr(ffi, "_embedding", None) is not None:
            m["unsupported"].append("embedding_init_code()")
        if emit_dir is not None:
            # The real cffi's source for the module as it is imported (the
            # set_source name qualified by ext_package, as headerwheel names it).
            out = os.path.join(emit_dir, qualified + (".py" if source is None else ".c"))
            saved = ffi._assigned_source
            ffi._assigned_source = (qualified, source, source_extension, kwds)
            try:
                if source is None:
                    ffi.emit_python_code(out)
                else:
                    ffi.emit_c_code(out)
                m["emitted"] = out
            except Exception:  # noqa: BLE001 - reported
                result["errors"].append("cffi could not emit %s:\n%s" % (qualified, traceback.format_exc()))
            finally:
                ffi._assigned_source = saved
        result["modules"].append(m)
    return result


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    sys.dont_write_bytecode = True  # recording writes nothing into the project
    emit_dir = out = None
    if "--emit" in argv:
        i = argv.index("--emit")
        emit_dir = os.path.abspath(argv[i + 1])
        del argv[i : i + 2]
    if "--out" in argv:
        i = argv.index("--out")
        out = os.path.abspath(argv[i + 1])
        del argv[i : i + 2]
    root = argv[0] if argv else "."
    # The builders may print: keep stdout for the JSON.
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        result = record(root, emit_dir)
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
        sys.stdout = sys.__stdout__
    text = json.dumps(result, indent=1, sort_keys=True)
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
