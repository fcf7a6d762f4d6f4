"""Records a project's CFFI builders for ``headerwheel migrate``.

``python -m headerwheel._record PROJECT_DIR [--emit DIR] [--out FILE]`` runs
the project's ``setup.py`` with ``setup()`` captured (its keyword arguments,
and setup.cfg's ``[metadata]``/``[options]``), running each ``cffi_modules``
builder inside ``setup()`` the way cffi's setuptools integration does (same
process: setup.py's modules stay imported), with ``cffi.FFI``'s ``cdef()``,
``set_source()`` and ``include()`` recording their arguments; ``compile()``
and ``distutils_extension()`` write nothing.
A hatchling custom build hook that builds an FFI is run too. It prints one
JSON document (stdout, or FILE); the builders' own output goes to stderr.

With ``--emit DIR``, each module's source is also emitted by the real cffi
(``ffi.emit_c_code``, or ``emit_python_code`` in ABI mode) into DIR: the
reference ``headerwheel migrate --check`` compares against.

Environment variables the project's own code reads, and commands it runs,
are recorded too: what the builder chose depends on them (a copy,
``os.environ.copy()`` or ``dict(os.environ)``, records the variables read
from it, not every variable copied).

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


SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "AUTH")

_builtin_dict = dict
_SELF = os.path.basename(__file__)


class EnvCopy(dict):
    """A copy of ``os.environ`` (``os.environ.copy()``, ``dict(os.environ)``
    in the project's setup.py and builders) that records the variables the
    code then reads from it, as ``os.environ`` does: one note per variable
    read, not one per variable copied."""

    def __init__(self, rec, environ):
        rec.quiet += 1
        try:
            super().__init__((k, environ[k]) for k in list(environ))
        finally:
            rec.quiet -= 1
        self._rec = rec

    def _read(self, key):
        value = _builtin_dict.get(self, key)
        self._rec.env_read(key, value, self._rec._project_frame((_SELF,)))
        return value

    def __getitem__(self, key):
        self._read(key)
        return _builtin_dict.__getitem__(self, key)

    def get(self, key, default=None):
        value = self._read(key)
        return default if value is None else value

    def __contains__(self, key):
        return self._read(key) is not None

    def copy(self):
        c = _builtin_dict.__new__(EnvCopy)
        _builtin_dict.update(c, self)
        c._rec = self._rec
        return c


class _DictType(type):
    def __instancecheck__(cls, x):
        return isinstance(x, _builtin_dict)

    def __subclasscheck__(cls, c):
        return issubclass(c, _builtin_dict)


def _recording_dict(rec):
    """``dict`` for the globals of the project's setup.py and builders:
    ``dict(os.environ)`` is an :class:`EnvCopy`; everything else is the
    builtin (``isinstance(x, dict)`` holds for every dict)."""

    class dict(_builtin_dict, metaclass=_DictType):  # noqa: A001 - shadows on purpose
        def __new__(cls, *a, **k):
            if len(a) == 1 and not k and a[0] is os.environ:
                return EnvCopy(rec, os.environ)
            return _builtin_dict(*a, **k)

    return dict


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
        self.quiet = 0  # >0: environment reads are the recorder's own

    def env_read(self, key, value, where):
        """One read of the environment variable ``key`` by the project's
        code at ``where`` (its value, or None when unset). Values of names
        that look secret are not kept."""
        if where is None:
            return
        if value is not None and any(w in key.upper() for w in SECRET_WORDS):
            value = "(set)"
        entry = {"name": key, "value": value, "at": where}
        if entry not in self.env:
            self.env.append(entry)

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

        # setup.py's `ext_modules=[ffi.distutils_extension()]` writes the C
        # file into build/: an Extension naming it, with nothing written.
        def distutils_extension(self, tmpdir="build", verbose=True):
            if not hasattr(self, "_assigned_source"):
                raise ValueError("set_source() must be called before distutils_extension()")
            name = self._assigned_source[0]
            source = os.path.join(tmpdir, *name.split(".")) + self._assigned_source[2]
            try:
                from setuptools import Extension
            except ImportError:
                import types

                return types.SimpleNamespace(name=name, sources=[source])
            return Extension(name=name, sources=[source])

        FFI.distutils_extension = distutils_extension

        orig_getitem = os._Environ.__getitem__
        orig_keys = os._Environ.keys
        env_frames = ("os.py", "_collections_abc.py", "<frozen os>", "<frozen _collections_abc>")
        # A bulk copy ({**os.environ}, dict(os.environ) in a module not run
        # by the recorder) calls keys() and then reads every key from the
        # same place: those reads decide nothing, they are not recorded.
        bulk = {"at": None}

        def caller(depth):
            f = sys._getframe(depth)
            return (id(f.f_code), f.f_lasti) if f is not None else None

        def keys(environ):
            bulk["at"] = caller(2)
            return orig_keys(environ)

        def getitem(environ, key):
            try:
                value = orig_getitem(environ, key)
            except KeyError:
                value = None
            f = sys._getframe(1)
            quiet = rec.quiet or caller(2) == bulk["at"] or (
                os.path.basename(f.f_code.co_filename) in env_frames and f.f_code.co_name == "__iter__"
            )
            if not quiet and environ is os.environ:
                rec.env_read(key, value, rec._project_frame(env_frames))
            if value is None:
                raise KeyError(key)
            return value

        def copy(environ):
            return EnvCopy(rec, environ)

        os._Environ.__getitem__ = getitem
        os._Environ.keys = keys
        os._Environ.copy = copy

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
    def is_literal(value):
        try:
            ast.literal_eval(value)
            return True
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False

    # Module-level `NAME = {...}` / `NAME = dict(...)`: the entries a
    # `setup(**NAME)` passes, as written.
    assigned = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            v, entries = node.value, {}
            if isinstance(v, ast.Dict):
                for k, x in zip(v.keys, v.values):
                    if isinstance(k, ast.Constant) and isinstance(k.value, str):
                        entries[k.value] = x
            elif isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "dict" and not v.args:
                entries = {kw.arg: kw.value for kw in v.keywords if kw.arg is not None}
            assigned[node.targets[0].id] = entries
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
                # setup(**NAME): its entries as written, else `**NAME`.
                shown = "**" + (ast.get_source_segment(text, kw.value) or "kwargs")
                found.setdefault("**", []).append(shown)
                entries = assigned.get(kw.value.id, {}) if isinstance(kw.value, ast.Name) else {}
                for k, x in entries.items():
                    found[k] = (is_literal(x), ast.get_source_segment(text, x) or shown)
                continue
            found[kw.arg] = (is_literal(kw.value), ast.get_source_segment(text, kw.value) or "")
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


def _run_setup_py(root, rec, result, run_builders):
    """Runs setup.py with setup() captured; returns its keyword arguments.
    The cffi_modules builders run inside setup(), as cffi's setuptools
    integration runs them: in the same process, with setup.py's modules
    and sys.path as they are then (`run_builders(kw)`)."""
    captured = []

    def fake_setup(**kw):
        captured.append(kw)
        run_builders(kw)

        # A Distribution object for code that uses setup()'s return value.
        class _Dist:
            def __getattr__(self, name):
                return None

        return _Dist()

    patched = []
    # `distutils.core` (setuptools' distutils once setuptools is imported),
    # never `setuptools._distutils.core`: importing that name runs a second
    # copy of the module, which undoes setuptools' patching of distutils
    # (distutils.dist.Distribution no longer setuptools').
    for modname in ("setuptools", "distutils.core"):
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
        runpy.run_path(
            os.path.join(root, "setup.py"), init_globals={"dict": _recording_dict(rec)}, run_name="__main__"
        )
    except SystemExit:
        pass
    finally:
        sys.argv = saved_argv
        for mod, orig in patched:
            mod.setup = orig
    if not captured:
        result["warnings"].append("setup.py did not call setup()")
        return {}
    if len(captured) > 1:
        result["warnings"].append("setup.py called setup() %d times; the last call is used" % len(captured))
    return captured[-1]


def _exec_builder(spec, rec):
    """Runs a cffi_modules builder as cffi's setuptools integration does."""
    from cffi.api import FFI

    build_file_name, ffi_var_name = spec.split(":")
    mod_vars = {"__name__": "__cffi__", "__file__": build_file_name, "dict": _recording_dict(rec)}
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
    n_before = len(rec.ffis)
    done = []

    def run_builders(kw):
        mods = kw.get("cffi_modules") or []
        if isinstance(mods, str):
            mods = [mods]
        for spec in specs + [m for m in mods if m not in specs]:
            if spec in done:
                continue
            done.append(spec)
            try:
                ffi = _exec_builder(spec, rec)
            except Exception:  # noqa: BLE001 - reported
                result["errors"].append("builder %s failed:\n%s" % (spec, traceback.format_exc()))
                continue
            r = rec._record(ffi)
            r["builder"] = spec
            if not any(x is ffi for x, _ in rec.ffis):
                rec.ffis.append((ffi, r))

    if os.path.isfile(os.path.join(root, "setup.py")):
        result["sources"].append({"kind": "setup.py", "path": "setup.py"})
        static = _setup_call_keywords(os.path.join(root, "setup.py"))
        starred = ", ".join(static.pop("**", []))
        result["setup_static"] = {k: {"literal": lit, "expr": expr} for k, (lit, expr) in static.items()}
        try:
            kw = _run_setup_py(root, rec, result, run_builders)
        except Exception:  # noqa: BLE001 - reported
            result["errors"].append("setup.py failed:\n" + traceback.format_exc())
            kw = {}
        ext_package = kw.get("ext_package") or ext_package
        result["setup_kwargs"] = _jsonable(kw)
        # What came through a **mapping the text does not spell out.
        for k in kw:
            if k not in result["setup_static"]:
                result["setup_static"][k] = {"literal": False, "expr": starred or "%s=..." % k}
    # setup.cfg's builders, when no setup() ran them.
    run_builders({})
    specs = done
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
