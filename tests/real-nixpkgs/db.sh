#!/usr/bin/env bash
# Builds a DB for the real-nixpkgs job: crawls tests/real-nixpkgs/projects.txt and its
# dependency closure from PyPI (network), uploads since $PINION_CRAWL_SINCE plus each project's
# 3 newest releases (requests 2.31.0, pinned by the seed example, is from 2023-05), then dbgen;
# the hash shards go beside the DB (OUT-shards/ for OUT.tar.xz), where nix/db.nix looks for them.
#   db.sh OUT.tar.xz   (needs target/release/crawler and dbgen: cargo build --release -p crawler -p dbgen)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:?usage: db.sh OUT.tar.xz}"
crawler="${PINION_CRAWLER:-$repo/target/release/crawler}"
dbgen="${PINION_DBGEN:-$repo/target/release/dbgen}"
for bin in "$crawler" "$dbgen"; do
  [ -x "$bin" ] || { echo "error: \`$bin\` missing" >&2; echo "hint: cargo build --release --locked -p crawler -p dbgen" >&2; exit 1; }
done
state="$(mktemp -d)/crawl.sqlite"
set +e
"$crawler" sync --state "$state" --projects-file "$here/projects.txt" --follow-deps \
  --uploaded-since "${PINION_CRAWL_SINCE:-2023-05-01}" --keep-releases 3 --concurrency 16
rc=$?
set -e
# Exit 2: finished, some files failed; the DB then lacks those files (reported above).
if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then exit "$rc"; fi
"$dbgen" build --state "$state" --out "$out" --shards-out "${out%.tar.xz}-shards"
grep -v '^#' "$here/projects.txt" | while read -r name; do
  "$dbgen" inspect "$out" "$name" >/dev/null ||
    { echo "error: \`$name\` is not in $out after the crawl" >&2; exit 1; }
done
echo "db.sh: wrote $out and ${out%.tar.xz}-shards/"
