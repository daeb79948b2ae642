# pinion setup.py shim: runs an untrusted setup.py inside the sandbox with `setup()` replaced
# by a recorder, prints the recorded keyword arguments as one JSON line on a private copy of
# the original stdout, and exits before anything is built.
#
# Must stay valid Python 2.7 and 3.x: old sdists are run with old interpreters too.
# Usage (inside the sandbox): python shim.py SRC_DIR WORK_DIR
import os
import sys

MARK = "PINION-SETUPPY-RESULT "
# Missing prose files replaced by empty ones, relative to the source root (see _stand_in_for).
_STAND_INS = []
# The arguments of the first setup() call, once made.
_RESULT = []
_MAIN_PID = os.getpid()
# The result channel: a private duplicate of fd 1. fd 1 itself is pointed at stderr so that
# whatever setup.py prints cannot be confused with the result.
_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)

try:
    import builtins
except ImportError:  # Python 2
    import __builtin__ as builtins

try:
    _text_types = (str, unicode)  # noqa: F821  (Python 2)
except NameError:
    _text_types = (str,)


def _emit(obj):
    # A forked child of setup.py runs this code too; only the original process may answer.
    if os.getpid() != _MAIN_PID:
        os._exit(1)
    import json

    _out.write(MARK + json.dumps(obj, sort_keys=True) + "\n")
    _out.flush()
    sys.stderr.flush()
    os._exit(0)


def _text(value):
    if isinstance(value, bytes):  # also Python 2 `str`
        return value.decode("utf-8", "replace")
    return u"%s" % (value,)


def _lines(value, depth=0):
    """Flattens a requirement list the way pkg_resources.yield_lines does: strings are split
    into lines, nested iterables are walked, comments and blank lines dropped."""
    if depth > 20:
        raise TypeError("requirement list nested too deeply")
    out = []
    if value is None:
        return out
    if isinstance(value, _text_types + (bytes,)):
        for line in _text(value).splitlines():
            if " #" in line:
                line = line[: line.index(" #")]
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
        return out
    if isinstance(value, dict):
        raise TypeError("expected a list of requirements, got a dict")
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=_text)
    try:
        items = iter(value)
    except TypeError:
        # pkg_resources.Requirement and similar objects stand for one requirement.
        return _lines(_text(value), depth + 1)
    for item in items:
        out.extend(_lines(item, depth + 1))
    return out


def _optional_text(value):
    if value is None:
        return None
    # Some setup.py pass lazy objects (a version read from the package, which needs the
    # package's own dependencies); name and version are informational, so give up quietly.
    try:
        return _text(value)
    except Exception:
        return None


def _fake_setup(*args, **kw):
    # pbr / d2to1 compute the real requirements from files while setup() runs; recording the
    # bare keyword arguments would claim "no requirements", which is worse than unknown.
    for plugin in ("pbr", "d2to1", "setup_cfg"):
        if kw.get(plugin):
            _emit({"error": {"type": "Unsupported", "message": "setup() uses the %s plugin" % plugin}})
    try:
        extras = {}
        raw_extras = kw.get("extras_require") or {}
        if not hasattr(raw_extras, "items"):
            raise TypeError("extras_require is not a dict")
        for key, reqs in raw_extras.items():
            extras[_text(key)] = _lines(reqs)
        result = {
            "name": _optional_text(kw.get("name")),
            "version": _optional_text(kw.get("version")),
            "install_requires": _lines(kw.get("install_requires")),
            "setup_requires": _lines(kw.get("setup_requires")),
            "tests_require": _lines(kw.get("tests_require")),
            "extras_require": extras,
            "python_requires": _optional_text(kw.get("python_requires")),
            "stand_ins": list(_STAND_INS),
        }
    except Exception as e:
        _emit({"error": {"type": "InvalidArguments", "message": "%s: %s" % (type(e).__name__, e)}})
    # setup.py goes on after setup() returns: a second call with other arguments (hellp
    # 0.0.0's setup.py is two scripts pasted together) makes the result ambiguous, since
    # which call a frontend's build uses is not defined.
    if _RESULT and _RESULT[0] != result:
        _emit({"error": {"type": "InvalidArguments", "message": "setup() was called more than once with different arguments"}})
    if not _RESULT:
        _RESULT.append(result)


_PATCHED = ("setuptools", "distutils.core", "setuptools._distutils.core", "numpy.distutils.core")


def _patch_loaded():
    for name in _PATCHED:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "setup", None) is not _fake_setup:
            try:
                module.setup = _fake_setup
            except Exception:
                pass


_real_import = builtins.__import__


def _import(*args, **kwargs):
    # Patching after every import catches `from numpy.distutils.core import setup` and
    # modules that re-import distutils late, without touching the import machinery itself.
    module = _real_import(*args, **kwargs)
    _patch_loaded()
    return module


# Files larger than this are linked to the read-only original instead of copied: data files
# (trained models, test images) can exceed the sandbox's file-size limit and its tmpfs, and
# a setup.py that only needs its metadata does not write to them.
_LINK_ABOVE = 1 << 20


def _copy_tree(src, dst):
    # Python 2's shutil.copytree has no copy_function, so the walk is done here.
    import shutil

    for here, dirs, files in os.walk(src):
        target_dir = os.path.join(dst, os.path.relpath(here, src))
        os.makedirs(target_dir)
        for name in dirs + files:
            source = os.path.join(here, name)
            target = os.path.join(target_dir, name)
            if os.path.islink(source):
                os.symlink(os.readlink(source), target)
                if name in dirs:
                    dirs.remove(name)
            elif name in files:
                if os.path.getsize(source) > _LINK_ABOVE:
                    os.symlink(os.path.abspath(source), target)
                else:
                    shutil.copy2(source, target)


# A file setup.py opens that the sdist does not ship is replaced by an empty one only when
# its name says it is prose for long_description, which setup() does not need to compute
# requirements: README, CHANGES, CHANGELOG, HISTORY, NEWS, AUTHORS, CONTRIBUTORS, with any
# extension. Anything else (requirements.txt, a package's __init__.py) may hold
# requirements or a version, so the run fails as before.
_PROSE = ("readme", "changes", "changelog", "history", "news", "authors", "contributors")
_MAX_STAND_INS = 4


def _stand_in_for(error, root):
    import errno

    if not isinstance(error, (IOError, OSError)) or error.errno != errno.ENOENT:
        return None
    name = getattr(error, "filename", None)
    if not isinstance(name, _text_types + (bytes,)):
        return None
    path = os.path.normpath(os.path.join(os.getcwd(), _text(name)))
    if os.path.commonprefix([path, root + os.sep]) != root + os.sep:
        return None
    if os.path.basename(path).split(".")[0].lower() not in _PROSE:
        return None
    if os.path.lexists(path) or not os.path.isdir(os.path.dirname(path)):
        return None
    return path


def main():
    src, work = sys.argv[1], sys.argv[2]
    root = os.path.join(work, "src")
    _copy_tree(src, root)
    os.chdir(root)
    path = os.path.join(root, "setup.py")
    sys.argv = [path, "egg_info"]
    sys.path.insert(0, root)
    for name in ("setuptools", "distutils.core"):
        try:
            __import__(name)
        except Exception:
            pass
    _patch_loaded()
    builtins.__import__ = _import
    with open(path, "rb") as f:
        source = f.read()
    while True:
        os.chdir(root)
        namespace = {"__name__": "__main__", "__file__": path, "__builtins__": builtins}
        try:
            code = compile(source, path, "exec")
            exec(code, namespace)
        except SystemExit as e:
            if _RESULT:
                break
            _emit({"error": {"type": "SystemExit", "message": _text(e.code)}})
        except BaseException as e:
            if _RESULT:
                # What setup.py does after setup() (post-install steps, printing) does not
                # change the arguments setup() received.
                break
            stand_in = _stand_in_for(e, root)
            if stand_in is not None and len(_STAND_INS) < _MAX_STAND_INS:
                # setup() was not reached (no result yet), so running setup.py again
                # from the top sees the same state plus the empty file.
                open(stand_in, "w").close()
                _STAND_INS.append(os.path.relpath(stand_in, root))
                continue
            import traceback

            traceback.print_exc()
            _emit({"error": {"type": type(e).__name__, "message": _text(e)[:2000]}})
        break
    if _RESULT:
        _emit({"ok": _RESULT[0]})
    _emit({"error": {"type": "NoSetupCall", "message": "setup.py finished without calling setup()"}})


main()
