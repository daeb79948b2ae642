#!/usr/bin/env bash
# The daily publication job, runnable locally: the GitHub workflow calls exactly this script.
#
#   scripts/publish.sh --state DIR --out DIR [--index URL] [--date YYYY-MM-DD]
#                      [--projects-file F | --all] [--smoke-requirements F] [--pin FILE]
#
# 1. crawler sync (incremental; the state in DIR/crawl.sqlite is restored by the caller),
#    then crawler setup-py where the sandbox can run
# 2. dbgen build -> OUT/pinion-db-DATE.tar.xz (+ .sha256, + .nar-sha256: the pin) and its hash shards in
#    OUT/shards/ (shard-XXXX.bin; published as a commit of a data branch, see data-format.md), dbgen verify
# 3. a smoke resolution of --smoke-requirements against the new DB
# 4. the new default pin for nix/ written to --pin (url template from PINION_RELEASE_URL, shard
#    base URL from PINION_SHARDS_URL, default: file://OUT/shards)
# Binaries come from $PINION_BIN (default: target/release).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${PINION_BIN:-$here/target/release}
state="" out="" index="https://pypi.org/simple/" date=$(date -u +%F) select=(--all) smoke="" pin=""
while (($#)); do
  case $1 in
    --state) state=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --index) index=$2; shift 2 ;;
    --date) date=$2; shift 2 ;;
    --projects-file) select=(--projects-file "$2"); shift 2 ;;
    --all) select=(--all); shift ;;
    --smoke-requirements) smoke=$2; shift 2 ;;
    --pin) pin=$2; shift 2 ;;
    *) echo "publish.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
[ -n "$state" ] && [ -n "$out" ] || { echo "publish.sh: --state DIR and --out DIR are required" >&2; exit 64; }
mkdir -p "$state" "$out"

echo ">> crawl ($index)"
set +e
"$bin/crawler" sync --state "$state/crawl.sqlite" --index "$index" "${select[@]}" --json-summary >"$out/crawl-summary.json"
rc=$?
set -e
# Exit status 3 means "some files or pages failed and were recorded" (README: exit status); the
# DB is still built from what succeeded.
if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then echo "publish.sh: crawler failed ($rc)" >&2; exit "$rc"; fi

# 1b. setup.py sandbox over sdists whose requirements are still unknown or partial. It needs
# bubblewrap and unprivileged user namespaces (GitHub's ubuntu-24.04 runners: only after
# `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, which crawl.yml does);
# PINION_SETUP_PY=0 skips it, =1 makes its absence an error, default: run when available.
setup_py=${PINION_SETUP_PY:-auto}
if [ "$setup_py" != 0 ] && command -v bwrap >/dev/null && bwrap --unshare-user --ro-bind / / true 2>/dev/null; then
  echo ">> setup.py sandbox over sdists with unknown or partial requirements"
  "$bin/crawler" setup-py --state "$state/crawl.sqlite"
elif [ "$setup_py" = 1 ]; then
  echo "publish.sh: PINION_SETUP_PY=1 but bwrap cannot create a user namespace here" >&2; exit 1
else
  echo ">> setup.py sandbox unavailable (no bwrap or no user namespaces): those sdists stay unknown"
fi

db="$out/pinion-db-$date.tar.xz"
echo ">> dbgen build -> $db"
# created-at is the publication date, not the wall clock, so anyone can rebuild the same bytes
# from the published crawl state: dbgen build --state crawl.sqlite --created-at DATE.
"$bin/dbgen" build --state "$state/crawl.sqlite" --out "$db" --shards-out "$out/shards" --created-at "${date}T00:00:00Z" \
  --nar-sha256-out "$db.nar-sha256"
"$bin/dbgen" verify "$db" --shards "$out/shards"
sha=$(sha256sum "$db" | cut -d' ' -f1)
echo "$sha  $(basename "$db")" > "$db.sha256"

if [ -n "$smoke" ]; then
  echo ">> smoke resolution of $smoke"
  "$bin/resolver" --db "$db" --shards "$out/shards" -r "$smoke" --python 3.11.7 --system x86_64-linux --format json -o "$out/smoke.lock.json"
fi

if [ -n "$pin" ]; then
  url=${PINION_RELEASE_URL:-file://$db}
  url=${url//\{date\}/$date}
  shards_url=${PINION_SHARDS_URL:-file://$out/shards}
  shards_url=${shards_url//\{date\}/$date}
  # The pin's sha256 is the NAR hash of the unpacked tree: Nix fetches the DB with
  # builtins.fetchTarball, so only the unpacked pinion.db lands in the store.
  printf '{\n  "sha256": "%s",\n  "shards_url": "%s",\n  "url": "%s"\n}\n' "$(cat "$db.nar-sha256")" "$shards_url" "$url" > "$pin"
  echo ">> pin written to $pin"
fi
echo ">> published $db ($sha)"
