#!/usr/bin/env python3
"""A loopback PEP 691/503 index for end-to-end tests, generated from a small JSON universe.

    fixture_index.py UNIVERSE.json --port-file F --log F

Serves /simple/ (root list), /simple/<name>/ (PEP 691 JSON when asked, else PEP 503 HTML), the
files under /files/, and PEP 658 `.metadata` sidecars. Every request is appended to --log as
"METHOD PATH" so tests can count what a crawl fetched. The universe is re-read on every request,
so a test moves the index from "day 1" to "day 2" by rewriting the file.

Universe: {"serial": N, "projects": {"name": {"serial": N, "releases": [{"version": "1.0",
  "upload_time": "2024-01-01T00:00:00Z", "requires_dist": [...], "requires_python": ">=3.8",
  "files": ["wheel", "sdist"], "yanked": ["wheel"] }]}}}
Archives are built deterministically (fixed timestamps), so hashes are stable across runs.
"""
import argparse, hashlib, html, io, json, sys, tarfile, threading, zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def metadata(name, rel):
    lines = ["Metadata-Version: 2.2", f"Name: {name}", f"Version: {rel['version']}"]
    if rel.get("requires_python"):
        lines.append(f"Requires-Python: {rel['requires_python']}")
    lines += [f"Requires-Dist: {r}" for r in rel.get("requires_dist", [])]
    return ("\n".join(lines) + "\n\n").encode()

def wheel(name, rel):
    buf = io.BytesIO()
    mod = name.replace("-", "_")
    di = f"{mod}-{rel['version']}.dist-info"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in [(f"{mod}/__init__.py", f"__version__ = {rel['version']!r}\n".encode()),
                           (f"{di}/METADATA", metadata(name, rel)),
                           (f"{di}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
                           (f"{di}/RECORD", b"")]:
            z.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()

def sdist(name, rel):
    buf = io.BytesIO()
    mod = name.replace("-", "_")
    top = f"{mod}-{rel['version']}"
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as t:
        for path, data in [(f"{top}/PKG-INFO", metadata(name, rel)),
                           (f"{top}/pyproject.toml", b'[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n')]:
            info = tarfile.TarInfo(path); info.size = len(data); info.mtime = 1577836800
            t.addfile(info, io.BytesIO(data))
    # gzip header carries an mtime; zero it so the bytes are stable
    raw = bytearray(buf.getvalue()); raw[4:8] = b"\0\0\0\0"
    return bytes(raw)

def files_of(universe):
    out = {}
    for name, proj in universe["projects"].items():
        for rel in proj["releases"]:
            mod = name.replace("-", "_")
            for kind in rel.get("files", ["wheel"]):
                if kind == "wheel":
                    fn, data = f"{mod}-{rel['version']}-py3-none-any.whl", wheel(name, rel)
                else:
                    fn, data = f"{mod}-{rel['version']}.tar.gz", sdist(name, rel)
                out[fn] = dict(project=name, rel=rel, kind=kind, data=data,
                               yanked=kind in rel.get("yanked", []))
    return out

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="text/plain", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with self.server.lock, open(self.server.log, "a") as log:
            log.write(f"GET {self.path}\n")
        universe = json.load(open(self.server.universe))
        files = files_of(universe)
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        want_json = "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", "")
        if parts == ["simple"]:
            names = sorted(universe["projects"])
            if want_json:
                body = json.dumps({"meta": {"api-version": "1.0", "_last-serial": universe["serial"]},
                                   "projects": [{"name": n, "_last-serial": universe["projects"][n]["serial"]} for n in names]}).encode()
                return self.send(200, body, "application/vnd.pypi.simple.v1+json")
            body = "".join(f'<a href="/simple/{n}/">{n}</a>\n' for n in names).encode()
            return self.send(200, b"<html><body>\n" + body + b"</body></html>", "text/html")
        if len(parts) == 2 and parts[0] == "simple":
            name = parts[1]
            if name not in universe["projects"]:
                return self.send(404, b"not found")
            mine = sorted((fn, f) for fn, f in files.items() if f["project"] == name)
            serial = universe["projects"][name]["serial"]
            if want_json:
                body = json.dumps({"meta": {"api-version": "1.1", "_last-serial": serial}, "name": name,
                    "files": [{"filename": fn, "url": f"/files/{fn}",
                               "hashes": {"sha256": hashlib.sha256(f["data"]).hexdigest()},
                               "size": len(f["data"]), "upload-time": f["rel"].get("upload_time"),
                               "requires-python": f["rel"].get("requires_python"),
                               "yanked": f["yanked"],
                               **({"core-metadata": {"sha256": hashlib.sha256(metadata(name, f["rel"])).hexdigest()}}
                                  if f["kind"] == "wheel" else {})}
                              for fn, f in mine]}).encode()
                return self.send(200, body, "application/vnd.pypi.simple.v1+json",
                                 [("X-PyPI-Last-Serial", str(serial))])
            links = "".join(
                f'<a href="/files/{fn}#sha256={hashlib.sha256(f["data"]).hexdigest()}"'
                + (f' data-requires-python="{html.escape(f["rel"]["requires_python"])}"' if f["rel"].get("requires_python") else "")
                + (' data-yanked=""' if f["yanked"] else "") + f">{fn}</a>\n" for fn, f in mine)
            return self.send(200, f"<html><body>\n{links}</body></html>".encode(), "text/html",
                             [("X-PyPI-Last-Serial", str(serial))])
        if len(parts) == 2 and parts[0] == "files":
            fn = parts[1]
            if fn.endswith(".metadata") and fn[:-9] in files and files[fn[:-9]]["kind"] == "wheel":
                f = files[fn[:-9]]
                return self.send(200, metadata(f["project"], f["rel"]), "application/octet-stream")
            if fn in files:
                return self.send(200, files[fn]["data"], "application/octet-stream")
        return self.send(404, b"not found")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("universe")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.universe, srv.log, srv.lock = a.universe, a.log, threading.Lock()
    open(a.log, "a").close()
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os; os.replace(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()

if __name__ == "__main__":
    sys.exit(main())
