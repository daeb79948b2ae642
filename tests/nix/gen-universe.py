"""Generates a universe for tests/nix/fake-resolver: N pure-wheel packages, each
depending on up to 3 lower-numbered ones. Usage: gen-universe.py N UNIVERSE NAMES"""
import hashlib
import json
import random
import sys

n, universe_path, names_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(0)
packages = {}
for i in range(n):
    name = f"pkg{i:04d}"
    fn = f"{name}-1.0.{i}-py3-none-any.whl"
    deps = sorted({f"pkg{j:04d}" for j in rng.sample(range(i), min(i, rng.randint(0, 3)))})
    packages[name] = {"version": f"1.0.{i}", "dependencies": deps, "files": {"wheel": {
        "url": f"https://files.pythonhosted.org/packages/py3/p/{name}/{fn}",
        "sha256": hashlib.sha256(fn.encode()).hexdigest(), "filename": fn}}}
db = {"created_at": "2026-11-20T00:00:00Z", "format": 1, "index_url": "https://pypi.org/simple/",
      "serial": 1, "sha256": "0" * 64}
json.dump({"db": db, "packages": packages}, open(universe_path, "w"))
with open(names_path, "w") as f:
    names = list(packages)
    rng.shuffle(names)
    f.write("\n".join(names) + "\n")
