#!/usr/bin/env bash
# Evaluation time of mkPython for 5, 50 and 200 requirements, through the resolver
# (import-from-derivation) and from a lock (no IFD), and the share of the IFD time
# spent in the resolver process itself. Evaluated against the nixpkgs stub, in
# read-write mode (derivations written to the store, as nix-build does).
#   bench.sh RESOLVER DB NAMES     NAMES: file of requirement names, one per line,
#                                  all resolvable together (>= 200 for the largest set)
#   bench.sh --synthetic           fake resolver over a generated 250-package universe
#                                  (measures the library alone; resolver share is the fake's)
#   bench.sh --synthetic-db RESOLVER DBGEN   real resolver over a dbgen-built synthetic
#                                  250-project DB (gen-crawl-state.py)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ "${1:-}" = --synthetic ]; then
  python3 "$here/gen-universe.py" 250 "$work/universe.json" "$work/names"
  resolver="$here/fake-resolver/bin/resolver" db="$work/universe.json" names="$work/names"
elif [ "${1:-}" = --synthetic-db ]; then
  python3 "$here/gen-crawl-state.py" "$here/../../crawler/schema.sql" 250 "$work/crawl.sqlite" "$work/names"
  "$3" build --state "$work/crawl.sqlite" --out "$work/db.tar.gz" >&2
  resolver="$2" db="$work/db.tar.gz" names="$work/names"
else
  resolver="$1" db="$2" names="$3"
fi
mkdir -p "$work/r/bin"
cp "$resolver" "$work/r/bin/resolver-real"
# Times the resolver process inside the resolve derivation.
cat >"$work/r/bin/resolver" <<'EOF'
#!/bin/sh
start=$(date +%s%N)
"$(dirname "$0")/resolver-real" "$@"; rc=$?
echo "pinion-bench: resolver took $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
exit $rc
EOF
chmod +x "$work/r/bin/resolver"
# Added once, then referenced like a built package: re-hashing a (debug, 80 MB) binary on
# every evaluation would be a benchmark artifact.
rstore=$(nix-store --add "$work/r")
expr='{ resolver, db, reqFile, lock ? null }:
  let pinion = import '"$here"'/../.. { pkgs = import '"$here"'/../nixpkgs-stub { }; inherit resolver db; };
      requirements = builtins.readFile reqFile;
  in { ifd = (pinion.mkPython { inherit requirements; }).drvPath;
       lock = pinion.mkLock { inherit requirements; };
       fromLock = (pinion.mkPython { inherit lock; }).drvPath; }'
ms() { python3 -c 'import sys; print(int((float(sys.argv[2]) - float(sys.argv[1])) * 1000))' "$1" "$2"; }
now() { date +%s.%N; }
printf '%-6s %12s %14s %16s %14s\n' reqs "ifd eval ms" "resolver ms" "resolver share" "lock eval ms"
for n in 5 50 200; do
  avail=$(grep -c . "$names")
  [ "$avail" -ge "$n" ] || { echo "only $avail names in $names; skipping $n"; continue; }
  # A unique comment makes a new resolve derivation, so each run really resolves.
  { echo "# bench $n $(date +%s%N)"; head -n "$n" "$names"; } >"$work/req-$n.txt"
  t0=$(now)
  NIX_PATH= nix-instantiate --read-write-mode --eval --strict --arg resolver "builtins.storePath $rstore" --arg db "$db" \
    --arg reqFile "$work/req-$n.txt" -E "$expr" -A ifd >/dev/null 2>"$work/log-$n"
  t1=$(now)
  rms=$(sed -n 's/.*pinion-bench: resolver took \([0-9]*\) ms.*/\1/p' "$work/log-$n" | tail -1)
  lock=$(NIX_PATH= nix-build --no-out-link --arg resolver "builtins.storePath $rstore" --arg db "$db" \
    --arg reqFile "$work/req-$n.txt" -E "$expr" -A lock 2>/dev/null)
  t2=$(now)
  NIX_PATH= nix-instantiate --read-write-mode --eval --strict --option allow-import-from-derivation false --arg resolver "builtins.storePath $rstore" \
    --arg db "$db" --arg reqFile "$work/req-$n.txt" --arg lock "$lock" -E "$expr" -A fromLock >/dev/null
  t3=$(now)
  ifd=$(ms "$t0" "$t1")
  printf '%-6s %12s %14s %15s%% %14s\n' "$n" "$ifd" "${rms:-?}" "$(( ${rms:-0} * 100 / (ifd > 0 ? ifd : 1) ))" "$(ms "$t2" "$t3")"
done
