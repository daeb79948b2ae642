"""Writes a pinion crawl state (crawler/schema.sql, v1) describing the files in
tests/nix/fixtures/{wheels,sdists} as served from BASE_URL, so `dbgen build` can
turn it into a DB whose URLs point at a loopback server.
Usage: make-crawl-state.py SCHEMA_SQL FIXTURES_DIR BASE_URL OUT_SQLITE"""
import email.parser
import hashlib
import json
import os
import re
import sqlite3
import sys
import tarfile
import tomllib
import zipfile

schema, fixtures, base, out = sys.argv[1:5]
NOW = 1_763_596_800  # 2025-11-20, fixed for determinism


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_metadata(text):
    msg = email.parser.Parser().parsestr(text)
    return msg


db = sqlite3.connect(out)
db.executescript(open(schema).read())
db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
    ("schema_version", "2"), ("index_url", base + "/simple/"), ("last_serial", "1"),
    ("last_sync_started_at", str(NOW)), ("last_sync_finished_at", str(NOW))])
projects = {}
for kind_dir in ("wheels", "sdists"):
    for fn in sorted(os.listdir(os.path.join(fixtures, kind_dir))):
        path = os.path.join(fixtures, kind_dir, fn)
        data = open(path, "rb").read()
        build, setup, backend, build_source = [], [], None, None
        if fn.endswith(".whl"):
            kind = "wheel"
            dist, version, py, abi, plat = fn[:-4].split("-")
            with zipfile.ZipFile(path) as zf:
                meta_name = next(n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
                msg = parse_metadata(zf.read(meta_name).decode())
            dist_source = "metadata"
        else:
            kind = "sdist"
            py = abi = plat = None
            dist, version = fn[: -len(".tar.gz")].rsplit("-", 1)
            with tarfile.open(path) as tf:
                top = tf.getnames()[0].split("/")[0]
                msg = parse_metadata(tf.extractfile(f"{top}/PKG-INFO").read().decode())
                try:
                    bs = tomllib.loads(tf.extractfile(f"{top}/pyproject.toml").read().decode()).get("build-system")
                except KeyError:
                    bs = None
            if bs:
                build, backend, build_source = bs.get("requires", []), bs.get("build-backend"), "pyproject"
            else:
                build, build_source = ["setuptools>=40.8.0", "wheel"], "default"
            dist_source = "pkg-info"
        name = norm(msg["Name"])
        if name not in projects:
            cur = db.execute("INSERT INTO projects(name, display_name, last_serial, synced_serial, page_fetched_at)"
                             " VALUES (?, ?, 1, 1, ?)", (name, msg["Name"], NOW))
            projects[name] = cur.lastrowid
        cur = db.execute(
            "INSERT INTO files(project_id, filename, url, version, kind, sha256, size, upload_time, requires_python,"
            " python_tags, abi_tags, platform_tags) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (projects[name], fn, f"{base}/{kind_dir}/{fn}", version, kind, hashlib.sha256(data).digest(),
             len(data), NOW, msg["Requires-Python"], py, abi, plat))
        fid = cur.lastrowid
        db.execute(
            "INSERT INTO file_metadata(file_id, method, metadata_version, name, version, requires_python,"
            " provides_extra, requires_dist_source, build_requires_source, setup_requires_source, build_backend,"
            " fetched_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (fid, "download", msg["Metadata-Version"], msg["Name"], msg["Version"], msg["Requires-Python"],
             json.dumps(msg.get_all("Provides-Extra") or []), dist_source, build_source,
             "setup.py-static" if kind == "sdist" else None, backend, NOW))
        for k, reqs in (("dist", msg.get_all("Requires-Dist") or []), ("build", build), ("setup", setup)):
            db.executemany("INSERT INTO requirements(file_id, kind, position, raw, canonical) VALUES (?,?,?,?,?)",
                           [(fid, k, i, r, r.strip()) for i, r in enumerate(reqs)])
db.commit()
