"""Generates the fixtures of the real-nixpkgs stand-in builds (tests/nix/run.sh):
wheels and an sdist built here (the shared libraries with the host's gcc) and a lock
(`nixpkgs.lock.json`) whose URLs point at BASE. Usage: make-fixtures.py OUTDIR BASE

- libdep: a manylinux wheel shipping `libdep/lib/libdep.so.1` (like the nvidia-* wheels)
- binpkg: a manylinux wheel whose `binpkg/_native.so` needs libdep.so.1 (other wheel),
  libGL.so.1 (manylinux2014), libcuda.so.1 (driver, never in the build) and libstdc++;
  bytes after the ELF image stand for data that `strip` would drop
- packaging 21.3: an old pin (nixpkgs' runtime-deps hook needs 23.2+)
- needsdep: a pyproject sdist whose metadata requires `six`, locked with
  requirements_known = false and no dependencies (the DB could not read them)
- checked: a pyproject sdist requiring libdep, requirements known (the runtime-deps check
  runs, with the hooks' packaging)
- cyc-a <-> cyc-b: pure wheels that depend on each other at run time
- importfails: a pure wheel whose module raises on import (not a root; for `tests`)
"""
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

out, base = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(os.path.join(out, "wheels"), exist_ok=True)
os.makedirs(os.path.join(out, "sdists"), exist_ok=True)
PAYLOAD = b"PINION-PAYLOAD-AFTER-ELF"
EPOCH = (2020, 1, 1, 0, 0, 0)


def wheel(name, version, tag, files, requires=()):
    dist = name.replace("-", "_")
    filename = f"{dist}-{version}-{tag}.whl"
    info = f"{dist}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = dict(files)
    files[f"{info}/METADATA"] = meta.encode()
    files[f"{info}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: pinion-tests\nRoot-Is-Purelib: {'true' if tag.endswith('any') else 'false'}\nTag: {tag}\n".encode()
    files[f"{info}/RECORD"] = b""
    path = os.path.join(out, "wheels", filename)
    with zipfile.ZipFile(path, "w") as zf:
        for arcname, data in sorted(files.items()):
            zi = zipfile.ZipInfo(arcname, EPOCH)
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, data)
    return filename


def sdist(name, version, files):
    filename = f"{name}-{version}.tar.gz"
    path = os.path.join(out, "sdists", filename)
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for arcname, data in sorted(files.items()):
            ti = tarfile.TarInfo(f"{name}-{version}/{arcname}")
            ti.size, ti.mtime, ti.mode = len(data), 0, 0o644
            tf.addfile(ti, io.BytesIO(data))
    return filename


def gcc(tmp, out_name, soname, source, libs=()):
    src = os.path.join(tmp, out_name + ".c")
    with open(src, "w") as f:
        f.write(source)
    target = os.path.join(tmp, out_name)
    subprocess.run(["gcc", "-shared", "-fPIC", "-g", "-o", target, f"-Wl,-soname,{soname}", src, f"-L{tmp}", "-Wl,--no-as-needed",
                    *[f"-l:{lib}" for lib in libs]], check=True)
    with open(target, "rb") as f:
        return f.read()


tmp = tempfile.mkdtemp()
try:
    libdep = gcc(tmp, "libdep.so.1", "libdep.so.1", "int dep(void) { return 42; }\n")
    for soname in ("libGL.so.1", "libcuda.so.1"):
        gcc(tmp, soname, soname, "int placeholder(void) { return 0; }\n")
    native = gcc(tmp, "_native.so", "_native.so",
                 "int dep(void); int glFlush(void); int native(void) { return dep(); }\n",
                 ["libdep.so.1", "libGL.so.1", "libcuda.so.1", "libstdc++.so.6"])
finally:
    shutil.rmtree(tmp)

linux = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"
entries = {}


def lock_entry(name, version, provider, filename, deps=(), build=(), fmt=None, known=True):
    kind = "wheels" if provider == "wheel" else "sdists"
    path = os.path.join(out, kind, filename)
    entries[name] = {
        "build_dependencies": sorted(build), "dependencies": sorted(deps), "display_name": name,
        "extras": [], "format": fmt or "wheel", "name": name, "provider": provider,
        "requirements_known": known, "version": version,
        "source": {"filename": filename, "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
                   "url": f"{base}/{kind}/{filename}"},
    }


lock_entry("libdep", "1.0", "wheel", wheel("libdep", "1.0", linux, {"libdep/__init__.py": b"", "libdep/lib/libdep.so.1": libdep}))
lock_entry("binpkg", "1.0", "wheel", wheel("binpkg", "1.0", linux, {
    "binpkg/__init__.py": b"NATIVE = __file__.replace('__init__.py', '_native.so')\n",
    "binpkg/_native.so": native + PAYLOAD}, ["libdep"]), deps=["libdep"])
lock_entry("packaging", "21.3", "wheel", wheel("packaging", "21.3", "py3-none-any", {"packaging/__init__.py": b"__version__ = '21.3'\n"}))
lock_entry("cyc-a", "1.0", "wheel", wheel("cyc-a", "1.0", "py3-none-any", {"cyc_a/__init__.py": b"import cyc_b\n"}, ["cyc-b"]), deps=["cyc-b"])
lock_entry("cyc-b", "1.0", "wheel", wheel("cyc-b", "1.0", "py3-none-any", {"cyc_b/__init__.py": b""}, ["cyc-a"]), deps=["cyc-a"])
lock_entry("importfails", "1.0", "wheel", wheel("importfails", "1.0", "py3-none-any", {"importfails/__init__.py": b"raise ImportError('importfails is broken on purpose')\n"}))
lock_entry("needsdep", "1.0", "sdist", sdist("needsdep", "1.0", {
    "pyproject.toml": b'[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
                      b'[project]\nname = "needsdep"\nversion = "1.0"\ndependencies = ["six"]\n',
    "needsdep/__init__.py": b"",
}), build=["setuptools", "wheel"], fmt="pyproject", known=False)
lock_entry("checked", "1.0", "sdist", sdist("checked", "1.0", {
    "pyproject.toml": b'[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
                      b'[project]\nname = "checked"\nversion = "1.0"\ndependencies = ["libdep"]\n',
    "checked/__init__.py": b"",
}), deps=["libdep"], build=["setuptools", "wheel"], fmt="pyproject")
# The build tools the sdists need, from the committed fixtures.
for name, fn, version in (("setuptools", "setuptools-68.2.2-py3-none-any.whl", "68.2.2"), ("wheel", "wheel-0.41.2-py3-none-any.whl", "0.41.2")):
    shutil.copy(os.path.join(here, "fixtures", "wheels", fn), os.path.join(out, "wheels", fn))
    lock_entry(name, version, "wheel", fn)

lock = {
    "db": {"created_at": "2026-11-20T00:00:00Z", "format": 1, "index_url": "https://pypi.org/simple/", "serial": 1, "sha256": "0" * 64},
    "lock_version": 1,
    "packages": entries,
    "roots": sorted(["binpkg", "packaging", "needsdep", "checked", "cyc-a"]),
    "target": {"exclude_newer": None, "python": "3.11.2", "system": "x86_64-linux"},
}
with open(os.path.join(out, "nixpkgs.lock.json"), "w") as f:
    json.dump(lock, f, indent=2, sort_keys=True)
    f.write("\n")
