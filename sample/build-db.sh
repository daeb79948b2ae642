#!/usr/bin/env bash
# Builds sample/pinion-db.tar.xz and its hash shards sample/pinion-db-shards/ from
# sample/crawl.sqlite.xz (no network). With --check, builds into a temporary directory and fails
# unless the tarball and every shard are byte-identical to the committed ones.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dbgen="${PINION_DBGEN:-$here/../target/release/dbgen}"
[ -x "$dbgen" ] || { echo "build-db.sh: $dbgen missing; run: cargo build --release -p dbgen" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
xz -dc "$here/crawl.sqlite.xz" >"$tmp/crawl.sqlite"
# created-at defaults to the state's last_sync_finished_at, so the output depends on the state only.
"$dbgen" build --state "$tmp/crawl.sqlite" --out "$tmp/pinion-db.tar.xz" \
  --shards-out "$tmp/pinion-db-shards" >&2
if [ "${1:-}" = "--check" ]; then
  cmp "$tmp/pinion-db.tar.xz" "$here/pinion-db.tar.xz" ||
    { echo "sample/pinion-db.tar.xz is not what sample/crawl.sqlite.xz builds to" >&2; exit 1; }
  diff -r "$tmp/pinion-db-shards" "$here/pinion-db-shards" >&2 ||
    { echo "sample/pinion-db-shards/ is not what sample/crawl.sqlite.xz builds to" >&2; exit 1; }
  echo "sample DB reproducible: $(sha256sum "$here/pinion-db.tar.xz" | cut -d' ' -f1)" >&2
else
  rm -rf "$here/pinion-db-shards"
  mv "$tmp/pinion-db-shards" "$here/pinion-db-shards"
  mv "$tmp/pinion-db.tar.xz" "$here/pinion-db.tar.xz"
  echo "wrote sample/pinion-db.tar.xz and sample/pinion-db-shards/" >&2
fi
