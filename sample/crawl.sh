#!/usr/bin/env bash
# Rebuilds the bundled sample from pypi.org (needs the network, once): crawls the dependency
# closure (--follow-deps) of sample/requirements/*.txt — files uploaded since 2026-03-01 plus each
# project's 5 newest final releases — runs setup.py in the sandbox where static reading is not
# enough, then stores the state as sample/crawl.sqlite.xz and rebuilds sample/pinion-db.tar.xz.
# Re-running continues an interrupted crawl and otherwise fetches only what changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
# PINION_CRAWLER=path/to/crawler skips the build; PINION_SAMPLE_SINCE overrides the date.
crawler="${PINION_CRAWLER:-}"
if [ -z "$crawler" ]; then
  cargo build --release --locked -p crawler --bin crawler
  crawler=target/release/crawler
fi
state="$here/crawl.sqlite"
if [ ! -f "$state" ] && [ -f "$state.xz" ]; then xz -dc "$state.xz" >"$state"; fi
rc=0
"$crawler" sync \
  --state "$state" \
  --projects-file <(cat "$here"/requirements/*.txt) \
  --follow-deps \
  --uploaded-since "${PINION_SAMPLE_SINCE:-2026-03-01}" \
  --keep-releases 5 \
  --run-setup-py \
  --concurrency "${PINION_SAMPLE_CONCURRENCY:-16}" \
  --json-summary "$@" || rc=$?
# 3 = some files or pages failed and are recorded in the state; the sample is still usable.
if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then exit "$rc"; fi
# A compact, read-only-friendly copy for the repository.
python3 - "$state" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode=DELETE")
c.execute("VACUUM")
c.close()
PY
xz -9 -T1 -c "$state" >"$state.xz"
exec "$here/build-db.sh"
