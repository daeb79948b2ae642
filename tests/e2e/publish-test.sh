#!/usr/bin/env bash
# End-to-end test of the publication job (scripts/publish.sh) against a loopback index:
#   day 1: crawl -> tarball, rebuilt from the crawl state to the same bytes;
#   day 2: the index gains a release, a yank and a removal -> the incremental run fetches exactly
#          the new files, and the new DB differs exactly as expected;
#   shards: crawling day 2 as two shards and merging gives the same DB as the incremental state.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PINION_BIN:-$repo/target/release}
export PINION_BIN=$bin
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat >"$tmp/day1.json" <<'JSON'
{"serial": 10, "projects": {
  "alpha": {"serial": 3, "releases": [
    {"version": "1.0", "upload_time": "2024-01-01T00:00:00Z", "files": ["wheel", "sdist"]},
    {"version": "1.1", "upload_time": "2024-02-01T00:00:00Z", "requires_dist": ["beta>=1.0"], "files": ["wheel"]}]},
  "beta": {"serial": 5, "releases": [
    {"version": "1.0", "upload_time": "2024-01-05T00:00:00Z", "requires_python": ">=3.8", "files": ["wheel"]}]},
  "gamma": {"serial": 7, "releases": [
    {"version": "0.9", "upload_time": "2023-06-01T00:00:00Z", "files": ["wheel"]},
    {"version": "1.0", "upload_time": "2024-03-01T00:00:00Z", "requires_dist": ["alpha; extra == \"a\""], "files": ["wheel"]}]}
}}
JSON
# day 2: alpha 1.2 (wheel + sdist) is new, beta 1.0's wheel is yanked, gamma 0.9 is removed.
python3 - "$tmp/day1.json" "$tmp/day2.json" <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))
u["serial"] = 20
a = u["projects"]["alpha"]; a["serial"] = 11
a["releases"].append({"version": "1.2", "upload_time": "2024-04-01T00:00:00Z", "requires_dist": ["beta>=1.0"], "files": ["wheel", "sdist"]})
b = u["projects"]["beta"]; b["serial"] = 12; b["releases"][0]["yanked"] = ["wheel"]
g = u["projects"]["gamma"]; g["serial"] = 13; g["releases"] = [r for r in g["releases"] if r["version"] != "0.9"]
json.dump(u, open(sys.argv[2], "w"))
PY

cp "$tmp/day1.json" "$tmp/universe.json"
python3 "$repo/tests/e2e/fixture_index.py" "$tmp/universe.json" --port-file "$tmp/port" --log "$tmp/requests.log" &
server=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || fail "fixture index did not start"
index="http://127.0.0.1:$(cat "$tmp/port")/simple/"

publish() { "$repo/scripts/publish.sh" --state "$tmp/state" --index "$index" --all "$@"; }

echo "--- day 1"
publish --out "$tmp/day1" --date 2026-01-01 >/dev/null
db1=$tmp/day1/pinion-db-2026-01-01.tar.xz
[ -f "$db1" ] || fail "day 1 tarball missing"
"$bin/dbgen" build --state "$tmp/state/crawl.sqlite" --out "$tmp/rebuilt1.tar.xz" --shards-out "$tmp/rebuilt1-shards" --created-at 2026-01-01T00:00:00Z
cmp "$db1" "$tmp/rebuilt1.tar.xz" || fail "day 1 tarball is not reproducible from its crawl state"
diff -r "$tmp/day1/shards" "$tmp/rebuilt1-shards" || fail "day 1 hash shards are not reproducible from its crawl state"
"$bin/dbgen" inspect "$db1" gamma | grep -q "^0\.9 " || fail "day 1 DB lacks gamma 0.9"

echo "--- day 2"
cp "$tmp/day2.json" "$tmp/universe.json"
: >"$tmp/requests.log"
publish --out "$tmp/day2" --date 2026-01-02 >/dev/null
db2=$tmp/day2/pinion-db-2026-01-02.tar.xz
# The only file-level requests are for the two new files: alpha 1.2's wheel metadata and its sdist.
grep '^GET /files/' "$tmp/requests.log" | sort >"$tmp/file-requests"
expected=$'GET /files/alpha-1.2-py3-none-any.whl.metadata\nGET /files/alpha-1.2.tar.gz'
[ "$(cat "$tmp/file-requests")" = "$expected" ] || {
  cat "$tmp/file-requests" >&2; fail "day 2 fetched other files than the 2 new ones"; }
"$bin/dbgen" inspect "$db2" alpha | grep -q "^1\.2 " || fail "day 2 DB lacks alpha 1.2"
"$bin/dbgen" inspect "$db2" gamma | grep -q "^0\.9 " && fail "day 2 DB still has removed gamma 0.9"
"$bin/dbgen" inspect "$db2" beta | grep -q "^1\.0 .*YANKED" || fail "day 2 DB does not show beta 1.0 as yanked"
"$bin/dbgen" inspect "$db1" beta | grep -qi "yanked" && fail "day 1 DB shows beta as yanked"
"$bin/dbgen" build --state "$tmp/state/crawl.sqlite" --out "$tmp/rebuilt2.tar.xz" --shards-out "$tmp/rebuilt2-shards" --created-at 2026-01-02T00:00:00Z
cmp "$db2" "$tmp/rebuilt2.tar.xz" || fail "day 2 tarball is not reproducible from its crawl state"
diff -r "$tmp/day2/shards" "$tmp/rebuilt2-shards" || fail "day 2 hash shards are not reproducible from its crawl state"

echo "--- shards"
for i in 0 1; do
  rc=0; "$bin/crawler" sync --state "$tmp/shard$i.sqlite" --index "$index" --all --shard "$i/2" >/dev/null || rc=$?
  [ "$rc" -eq 0 ] || fail "shard $i crawl exited $rc"
done
"$bin/crawler" merge --out "$tmp/merged.sqlite" "$tmp/shard0.sqlite" "$tmp/shard1.sqlite"
"$bin/dbgen" build --state "$tmp/merged.sqlite" --out "$tmp/merged.tar.xz" --shards-out "$tmp/merged-shards" --created-at 2026-01-02T00:00:00Z
cmp "$db2" "$tmp/merged.tar.xz" || fail "shard + merge DB differs from the incremental crawl's DB"
diff -r "$tmp/day2/shards" "$tmp/merged-shards" || fail "shard + merge hash shards differ from the incremental crawl's"
echo "publish e2e: ok"
