"""Installs one Python package for the nixpkgs stub's buildPythonPackage.

Reads the derivation environment: `format` (wheel | pyproject | setuptools | stub |
other), `src`, `out`, `pname`, `version`, `pinionStubSitePackages`, `pinionStubBuildPath`
(site-packages of the build inputs) and `pinionStubPropagatedPath` (of the propagated
closure). sdists are built in-process through their PEP 517 backend (no pip, no
network), then installed like a wheel.

Two checks of nixpkgs' Python builds are ported (own code):
- pythonRuntimeDepsCheckHook (hooks/python-runtime-deps-check-hook.py), set up by
  the hook's setup script as `pinionStubPackaging`: the built wheel's Requires-Dist
  (without extras) must be installed in the build environment; the hook's
  `packaging` must be 23.2 or newer (the hook uses `packaging.metadata`).
- catch_conflicts.py: no distribution twice in the propagated closure.
"""
import configparser
import os
import re
import shutil
import sys
import tarfile
import tempfile
import zipfile

out = os.environ["out"]
site = os.path.join(out, os.environ["pinionStubSitePackages"])
bindir = os.path.join(out, "bin")
fmt = os.environ["format"]


def module_name(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def install_wheel(path):
    os.makedirs(site, exist_ok=True)
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename
            parts = name.split("/")
            if len(parts) > 2 and parts[0].endswith(".data"):
                kind, rest = parts[1], "/".join(parts[2:])
                if kind in ("purelib", "platlib"):
                    target = os.path.join(site, rest)
                elif kind == "scripts":
                    target = os.path.join(bindir, rest)
                else:
                    continue
            else:
                target = os.path.join(site, name)
            if name.endswith("/"):
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                dst.write(src.read())
            mode = (info.external_attr >> 16) & 0o777
            if mode & 0o111 or target.startswith(bindir):
                os.chmod(target, 0o755)
    for entry in os.listdir(site):
        ep = os.path.join(site, entry, "entry_points.txt")
        if entry.endswith(".dist-info") and os.path.exists(ep):
            cp = configparser.ConfigParser(delimiters=("=",))
            cp.optionxform = str
            cp.read(ep)
            if cp.has_section("console_scripts"):
                os.makedirs(bindir, exist_ok=True)
                for script, target in cp.items("console_scripts"):
                    mod, _, func = target.strip().partition(":")
                    path = os.path.join(bindir, script)
                    with open(path, "w") as f:
                        f.write(f"import sys\nfrom {mod} import {func.split('.')[0]} as _f\nsys.exit(_f())\n")
                    os.chmod(path, 0o755)


def unpack_sdist(src, dest):
    if os.path.isdir(src):
        # Like nixpkgs' unpackPhase: builds write into the source tree, store paths are read-only.
        shutil.copytree(src, dest)
        os.chmod(dest, 0o755)
        for root, dirs, files in os.walk(dest):
            for entry in dirs + files:
                os.chmod(os.path.join(root, entry), 0o755)
        return dest
    if src.endswith(".zip"):
        zipfile.ZipFile(src).extractall(dest)
    else:
        with tarfile.open(src) as tf:
            # The "data" filter exists only from Python 3.11.4 (Debian 12 has 3.11.2).
            tf.extractall(dest, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    entries = os.listdir(dest)
    return os.path.join(dest, entries[0]) if len(entries) == 1 else dest


def build_sdist(src):
    work = tempfile.mkdtemp()
    tree = unpack_sdist(src, os.path.join(work, "src"))
    os.chdir(tree)
    backend_spec = "setuptools.build_meta:__legacy__"
    backend_path = []
    if fmt == "pyproject" and os.path.exists("pyproject.toml"):
        import tomllib

        with open("pyproject.toml", "rb") as f:
            bs = tomllib.load(f).get("build-system", {})
        backend_spec = bs.get("build-backend", backend_spec)
        backend_path = bs.get("backend-path", [])
    build_path = [p for p in os.environ.get("pinionStubBuildPath", "").split(":") if p]
    sys.path[:0] = [os.path.join(tree, p) for p in backend_path] + build_path
    os.environ["PYTHONPATH"] = ":".join(build_path)
    mod, _, obj = backend_spec.partition(":")
    backend = __import__(mod, fromlist=["_"])
    for attr in filter(None, obj.split(".")):
        backend = getattr(backend, attr)
    wheel_dir = os.path.join(work, "dist")
    os.makedirs(wheel_dir)
    name = backend.build_wheel(wheel_dir)
    if os.environ.get("pinionStubPackaging"):
        runtime_deps_check(os.path.join(wheel_dir, name), build_path)
    install_wheel(os.path.join(wheel_dir, name))


def dist_infos(sites):
    """{normalized name: [(version, dir)]} of the .dist-info directories in `sites`."""
    found = {}
    for site_dir in sites:
        if not os.path.isdir(site_dir):
            continue
        for entry in os.listdir(site_dir):
            if entry.endswith(".dist-info"):
                name, _, version = entry[: -len(".dist-info")].partition("-")
                found.setdefault(module_name(name).replace("_", "-"), []).append((version, site_dir))
    return found


def runtime_deps_check(wheel, build_path):
    packaging = os.environ["pinionStubPackaging"]
    versions = [v for v, _ in dist_infos([os.path.join(packaging, os.environ["pinionStubSitePackages"])]).get("packaging", [])]
    if not versions or tuple(int(x) for x in re.findall(r"\d+", versions[0])[:2]) < (23, 2):
        sys.exit(f"pythonRuntimeDepsCheckHook: ImportError: cannot import name 'metadata' from 'packaging' "
                 f"(packaging {versions[0] if versions else '?'} from {packaging}; the hook needs 23.2 or newer)")
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(meta).decode()
    installed = dist_infos(build_path)
    missing, checked = [], 0
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = line.split(":", 1)[1].strip()
        if "extra" in req.partition(";")[2]:
            continue
        name = module_name(re.match(r"[A-Za-z0-9._-]+", req).group(0)).replace("_", "-")
        checked += 1
        if name not in installed:
            missing.append(req)
    if missing:
        for req in missing:
            print(f"  - {req} not installed", file=sys.stderr)
        sys.exit(f"pythonRuntimeDepsCheckHook: {os.environ['pname']} {os.environ['version']}: "
                 f"{len(missing)} runtime requirement(s) not satisfied (set dontCheckRuntimeDeps = true to skip)")
    print(f"pythonRuntimeDepsCheckHook: {os.environ['pname']}: {checked} requirement(s) installed", file=sys.stderr)


def catch_conflicts():
    sites = [site] + [p for p in os.environ.get("pinionStubPropagatedPath", "").split(":") if p]
    for name, where in sorted(dist_infos(sites).items()):
        if len(set(where)) > 1:
            listing = ", ".join(f"{name} {v} ({d})" for v, d in where)
            sys.exit(f"Found duplicated packages in closure for dependency '{name}': {listing}")


def install_stub():
    pkg = os.path.join(site, module_name(os.environ["pname"]))
    os.makedirs(pkg)
    with open(os.path.join(pkg, "__init__.py"), "w") as f:
        f.write(f"__version__ = {os.environ['version']!r}\nNIXPKGS_STUB = True\n")
    info = os.path.join(site, f"{module_name(os.environ['pname'])}-{os.environ['version']}.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write(f"Metadata-Version: 2.1\nName: {os.environ['pname']}\nVersion: {os.environ['version']}\n")


if fmt == "wheel":
    install_wheel(os.environ["src"])
elif fmt in ("pyproject", "setuptools"):
    build_sdist(os.environ["src"])
elif fmt == "stub":
    install_stub()
elif fmt == "other":
    os.makedirs(out, exist_ok=True)
else:
    sys.exit(f"nixpkgs-stub buildPythonPackage: unsupported format {fmt!r}")
if os.environ.get("pinionStubCatchConflicts") and fmt != "other":
    catch_conflicts()
