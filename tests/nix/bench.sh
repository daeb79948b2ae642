#!/usr/bin/env bash
# Evaluation time of mkPython for 5, 50 and 200 requirements, through the resolver
# (import-from-derivation; package builds excluded) and from a lock (no IFD), against
# the nixpkgs stand-in with its ~10,000-attribute Python set, in read-write mode
# (derivations written to the store, as nix-build does). Also printed: the resolver
# runs' share of the IFD time, and as a peer measured in the same run, what the
# library did before issue 11: evaluating pname/version of every attribute of the
# 10,000-attribute set (which real nixpkgs cannot even survive: one aborting
# attribute stops it).
#   bench.sh                       target/release/resolver (else debug) and the sample DB;
#                                  requirement names from a resolution of sample/requirements/*.txt
#   bench.sh RESOLVER DB NAMES     NAMES: file of requirement names, one per line (DB's hash
#                                  shards beside it: X.tar.xz -> X-shards/),
#                                  all resolvable together (>= 200 for the largest set)
#   bench.sh --synthetic           fake resolver over a generated 250-package universe
#                                  (measures the library alone; resolver share is the fake's)
#   bench.sh --synthetic-db RESOLVER DBGEN   real resolver over a dbgen-built synthetic
#                                  250-project DB (gen-crawl-state.py)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ "${1:-}" = --synthetic ]; then
  python3 "$here/gen-universe.py" 250 "$work/universe.json" "$work/names"
  resolver="$here/fake-resolver/bin/resolver" db="$work/universe.json" names="$work/names"
elif [ "${1:-}" = --synthetic-db ]; then
  python3 "$here/gen-crawl-state.py" "$here/../../crawler/schema.sql" 250 "$work/crawl.sqlite" "$work/names"
  "$3" build --state "$work/crawl.sqlite" --out "$work/db.tar.xz" --shards-out "$work/db-shards" >&2
  resolver="$2" db="$work/db.tar.xz" names="$work/names"
elif [ $# -eq 0 ]; then
  resolver="$repo/target/release/resolver"; [ -x "$resolver" ] || resolver="$repo/target/debug/resolver"
  [ -x "$resolver" ] || { echo "bench.sh: no resolver binary; run cargo build --release -p resolver" >&2; exit 1; }
  db="$repo/sample/pinion-db.tar.xz"
  mkdir -p "$work/db"
  tar -xJf "$db" -C "$work/db" --strip-components=1 pinion-db/pinion.db
  # Every package of one resolution resolves together; its names are the requirements.
  grep -hv '^#' "$repo"/sample/requirements/{web,data,notebook}.txt >"$work/all.txt"
  "$resolver" --db "$work/db/pinion.db" --shards "$repo/sample/pinion-db-shards" -r "$work/all.txt" --python 3.11.2 --system x86_64-linux \
    --format json -o "$work/all.lock.json" 2>/dev/null
  python3 -c 'import json, sys; print("\n".join(sorted(json.load(open(sys.argv[1]))["packages"])))' "$work/all.lock.json" >"$work/names"
  names="$work/names"
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
  let pkgs = import '"$here"'/../nixpkgs-stub { };
      pinion = import '"$here"'/../.. { inherit pkgs resolver db; };
      requirements = builtins.readFile reqFile;
      ps = pkgs.python3.pkgs;
      generated = builtins.filter (n: builtins.substring 0 18 n == "generated-package-") (builtins.attrNames ps);
  in { ifd = (pinion.mkPython { inherit requirements; }).drvPath;
       lock = pinion.mkLock { inherit requirements; };
       fromLock = (pinion.mkPython { inherit lock; }).drvPath;
       walk = builtins.length (builtins.filter (n: let v = ps.${n}; in builtins.isString v.pname && builtins.isString v.version) generated); }'
ms() { python3 -c 'import sys; print(int((float(sys.argv[2]) - float(sys.argv[1])) * 1000))' "$1" "$2"; }
now() { date +%s.%N; }
# Evaluator CPU time (ms) of the last `stats` run: on a shared machine, wall time is
# mostly waiting for a core; this is what the evaluation itself costs.
stats() { NIX_SHOW_STATS=1 NIX_SHOW_STATS_PATH="$work/stats.json" "$@"; }
cpu() { python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["cpuTime"] * 1000))' "$work/stats.json"; }
attrs=$(NIX_PATH= nix-instantiate --eval -E "builtins.length (builtins.attrNames (import $here/../nixpkgs-stub { }).python3.pkgs)")
# Floors measured in the same run: starting the evaluator, and one trivial
# import-from-derivation build (what each resolution round costs at least).
t0=$(now); stats nix-instantiate --eval -E 1 >/dev/null; floor=$(ms "$t0" "$(now)"); floorcpu=$(cpu)
t0=$(now)
NIX_PATH= nix-instantiate --read-write-mode --eval -E "let pkgs = import $here/../nixpkgs-stub { }; in builtins.readFile (pkgs.runCommand \"bench-ifd\" { n = \"$(date +%s%N)\"; } \"echo ok > \$out\")" >/dev/null 2>&1
ifdfloor=$(ms "$t0" "$(now)")
t0=$(now)
NIX_PATH= stats nix-instantiate --eval --strict --arg resolver null --arg db null --arg reqFile null -E "$expr" -A walk >/dev/null
walk=$(ms "$t0" "$(now)"); walkcpu=$(cpu)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); python.pkgs of the stand-in: $attrs attributes"
echo "floors: nix-instantiate --eval 1: $floor ms wall ($floorcpu ms cpu); one trivial IFD build: $ifdfloor ms wall"
echo "peer (pre-issue-11 lookup: pname/version of 10,000 attributes): $walk ms wall, $walkcpu ms cpu"
# Warm-up (not timed): unpacks the DB into the store once, as any earlier use would have.
head -n 1 "$names" >"$work/req-warm.txt"
NIX_PATH= nix-instantiate --read-write-mode --eval --strict --arg resolver "builtins.storePath $rstore" --arg db "$db" \
  --arg reqFile "$work/req-warm.txt" -E "$expr" -A ifd >/dev/null 2>&1
printf '%-5s %9s %9s %7s %9s %10s %9s %9s\n' reqs "ifd wall" "ifd cpu" runs resolver "lock wall" "lock cpu" "pkgs"
for n in 5 50 200; do
  avail=$(grep -c . "$names")
  [ "$avail" -ge "$n" ] || { echo "only $avail names in $names; skipping $n"; continue; }
  # A unique comment makes a new resolve derivation, so each run really resolves.
  { echo "# bench $n $(date +%s%N)"; head -n "$n" "$names"; } >"$work/req-$n.txt"
  t0=$(now)
  NIX_PATH= stats nix-instantiate --read-write-mode --eval --strict --arg resolver "builtins.storePath $rstore" --arg db "$db" \
    --arg reqFile "$work/req-$n.txt" -E "$expr" -A ifd >/dev/null 2>"$work/log-$n"
  t1=$(now); ifdcpu=$(cpu)
  runs=$(grep -c 'pinion-bench: resolver took' "$work/log-$n" || true)
  rms=$(sed -n 's/.*pinion-bench: resolver took \([0-9]*\) ms.*/\1/p' "$work/log-$n" | awk '{s += $1} END {print s + 0}')
  lock=$(NIX_PATH= nix-build --no-out-link --arg resolver "builtins.storePath $rstore" --arg db "$db" \
    --arg reqFile "$work/req-$n.txt" -E "$expr" -A lock 2>/dev/null)
  t2=$(now)
  NIX_PATH= stats nix-instantiate --read-write-mode --eval --strict --option allow-import-from-derivation false --arg resolver "builtins.storePath $rstore" \
    --arg db "$db" --arg reqFile "$work/req-$n.txt" --arg lock "$lock" -E "$expr" -A fromLock >/dev/null
  t3=$(now); lockcpu=$(cpu)
  printf '%-5s %9s %9s %7s %9s %10s %9s %9s\n' "$n" "$(ms "$t0" "$t1")ms" "${ifdcpu}ms" "$runs" "${rms}ms" "$(ms "$t2" "$t3")ms" "${lockcpu}ms" \
    "$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["packages"]))' "$lock")"
done
