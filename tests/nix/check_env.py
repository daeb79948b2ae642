"""Run by an environment's python: checks each `module=version` is imported from
that environment (not the host) and that its installed distribution has that version.
Usage: python check_env.py ENV module=version..."""
import importlib
import importlib.metadata
import os
import sys

env = os.path.realpath(sys.argv[1])
site = os.path.join(env, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}", "site-packages")
errors = []
for spec in sys.argv[2:]:
    module, version = spec.split("=")
    mod = importlib.import_module(module)
    where = os.path.abspath(mod.__file__)
    if not where.startswith(site + os.sep):
        errors.append(f"{module} imported from {where}, not from {site}")
    got = importlib.metadata.version(module)
    if got != version:
        errors.append(f"{module}: installed version {got}, expected {version}")
    print(f"{module} {got} {where}")
if errors:
    sys.exit("\n".join(errors))
