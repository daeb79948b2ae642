#!/usr/bin/env bash
# Rebuilds sample/crawl.sqlite from pypi.org: the dependency closure (--follow-deps) of the
# requirement sets in sample/requirements/: files uploaded since 2026-03-01, plus each project's
# 3 newest releases when they are older (keeps the state near 30 MB and every project installable).
# Needs the network (once); re-running continues an interrupted crawl and otherwise only
# fetches what changed on PyPI since.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
# PINION_CRAWLER=path/to/crawler skips the build (e.g. to reuse a debug binary);
# PINION_SAMPLE_STATE / PINION_SAMPLE_SINCE override the state path / the date.
crawler="${PINION_CRAWLER:-}"
if [ -z "$crawler" ]; then
  cargo build --release -p crawler --bin crawler
  crawler=target/release/crawler
fi
exec "$crawler" sync \
  --state "${PINION_SAMPLE_STATE:-$here/crawl.sqlite}" \
  --projects-file <(cat "$here"/requirements/{web,data,notebook,backtrack}.txt) \
  --follow-deps \
  --uploaded-since "${PINION_SAMPLE_SINCE:-2026-03-01}" \
  --keep-releases 3 \
  --concurrency "${PINION_SAMPLE_CONCURRENCY:-16}" \
  --json-summary "$@"
