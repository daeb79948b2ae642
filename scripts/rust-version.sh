#!/usr/bin/env bash
# Nix users build the resolver with their nixpkgs' rustc (`rustPlatform.buildRustPackage`,
# nix/resolve.nix), so the resolver's `rust-version` must not exceed the rustc of the oldest
# supported nixpkgs, and no crate in its locked dependency closure may need more than that
# `rust-version`. Checks both from `cargo metadata --locked` (normal and build dependencies,
# every target platform; dev-dependencies are not built by Nix).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

# rustc of the oldest nixpkgs release pinion supports: nixos-26.05 ships 1.95.0 (its
# pkgs/development/compilers/rust/1_95.nix; nixos-25.11, end of life since 2026-06-30, had
# 1.91). Raise it only together with the supported range in nix/README.md.
oldest_nixpkgs_rustc="${PINION_OLDEST_NIXPKGS_RUSTC:-1.95}"

cd "$repo"
cargo metadata --locked --format-version 1 >"${TMPDIR:-/tmp}/pinion-metadata.$$.json"
trap 'rm -f "${TMPDIR:-/tmp}/pinion-metadata.$$.json"' EXIT
python3 - "${TMPDIR:-/tmp}/pinion-metadata.$$.json" "$oldest_nixpkgs_rustc" <<'PY'
import json, sys

meta, oldest = json.load(open(sys.argv[1])), sys.argv[2]
# The oldest rustc that knows each edition: a crate without `rust-version` still needs that.
EDITION_MIN = {"2015": "1.0", "2018": "1.31", "2021": "1.56", "2024": "1.85"}

def key(v):
    return tuple(int(x) for x in v.split("."))

packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
roots = [p["id"] for p in meta["packages"] if p["name"] == "resolver" and p["source"] is None]
if len(roots) != 1:
    sys.exit("error: no workspace package `resolver` in cargo metadata")
root = packages[roots[0]]
declared = root.get("rust_version")
if not declared:
    sys.exit("error: `resolver` declares no rust-version\nhint: set rust-version in Cargo.toml ([workspace.package])")

closure, stack = set(), [root["id"]]
while stack:
    pid = stack.pop()
    if pid in closure:
        continue
    closure.add(pid)
    for dep in nodes[pid]["deps"]:
        if any(k["kind"] in (None, "build") for k in dep["dep_kinds"]):
            stack.append(dep["pkg"])

rows = []
for pid in closure:
    p = packages[pid]
    if p["source"] is None:
        continue
    need = max(p.get("rust_version") or "1.0", EDITION_MIN[p["edition"]], key=key)
    rows.append((need, p["name"], p["version"], p.get("rust_version") is not None))
rows.sort(key=lambda r: (key(r[0]), r[1]))
unstated = sorted(f"{n} {v} (edition floor {need})" for need, n, v, stated in rows if not stated)
need, name, version, _ = rows[-1]

print(f"resolver rust-version {declared}; oldest supported nixpkgs rustc {oldest}")
print(f"{len(rows)} locked dependencies (normal + build, all targets); the most demanding:")
for r in rows[-5:]:
    print(f"  {r[0]:>6}  {r[1]} {r[2]}" + ("" if r[3] else "  (no rust-version: edition floor)"))
print(f"{len(unstated)} declare no rust-version; counted at their edition's first rustc")

failed = False
if key(need) > key(declared):
    print(f"error: `{name}` {version} needs rustc {need}, above resolver's rust-version {declared}\n"
          f"hint: pin an older `{name}` in Cargo.lock (cargo update -p {name} --precise ...), "
          f"or raise rust-version if the supported nixpkgs allow it", file=sys.stderr)
    failed = True
if key(declared) > key(oldest):
    print(f"error: resolver's rust-version {declared} is above rustc {oldest} of the oldest "
          f"supported nixpkgs: Nix users there cannot build the resolver\n"
          f"hint: lower rust-version to {oldest}, or drop that nixpkgs release from the supported "
          f"range (nix/README.md) and raise oldest_nixpkgs_rustc in scripts/rust-version.sh",
          file=sys.stderr)
    failed = True
if failed:
    sys.exit(1)
print(f"rust-version ok: dependencies need at most {need}, resolver declares {declared} <= {oldest}")
PY
