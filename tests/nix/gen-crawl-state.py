"""Generates a synthetic crawl state (crawler/schema.sql v1) for benchmarks: N
projects with 3 versions of one pure wheel each, every release depending on up to 3
lower-numbered projects with `>=` specifiers. Also writes the project names (shuffled)
to NAMES. Usage: gen-crawl-state.py SCHEMA_SQL N OUT_SQLITE NAMES"""
import hashlib
import random
import sqlite3
import sys

schema, n, out, names_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rng = random.Random(0)
NOW = 1_763_596_800
db = sqlite3.connect(out)
db.executescript(open(schema).read())
db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
    ("schema_version", "2"), ("index_url", "https://pypi.org/simple/"), ("last_serial", "1"),
    ("last_sync_started_at", str(NOW)), ("last_sync_finished_at", str(NOW))])
for i in range(n):
    name = f"pkg{i:04d}"
    pid = db.execute("INSERT INTO projects(name, display_name, last_serial, synced_serial, page_fetched_at)"
                     " VALUES (?, ?, 1, 1, ?)", (name, name, NOW)).lastrowid
    deps = rng.sample(range(i), min(i, rng.randint(0, 3)))
    for minor in range(3):
        version = f"1.{minor}.0"
        fn = f"{name}-{version}-py3-none-any.whl"
        fid = db.execute(
            "INSERT INTO files(project_id, filename, url, version, kind, sha256, size, upload_time,"
            " requires_python, python_tags, abi_tags, platform_tags) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (pid, fn, f"https://files.pythonhosted.org/packages/py3/p/{name}/{fn}", version, "wheel",
             hashlib.sha256(fn.encode()).digest(), 1000, NOW - (3 - minor) * 86400, ">=3.8", "py3", "none", "any"),
        ).lastrowid
        db.execute("INSERT INTO file_metadata(file_id, method, metadata_version, name, version, requires_python,"
                   " requires_dist_source, fetched_at) VALUES (?,?,?,?,?,?,?,?)",
                   (fid, "pep658", "2.1", name, version, ">=3.8", "metadata", NOW))
        reqs = [f"pkg{d:04d}>=1.{rng.randint(0, minor)}" for d in deps]
        db.executemany("INSERT INTO requirements(file_id, kind, position, raw, canonical) VALUES (?,?,?,?,?)",
                       [(fid, "dist", k, r, r) for k, r in enumerate(reqs)])
db.commit()
names = [f"pkg{i:04d}" for i in range(n)]
rng.shuffle(names)
open(names_path, "w").write("\n".join(names) + "\n")
