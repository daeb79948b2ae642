#!/usr/bin/env bash
# Evaluation time of tests/real-nixpkgs/env.nix on real nixpkgs, builds excluded: the
# import-from-derivation path (lock derivation already built, so this is the nixpkgs-versions
# walk + reading the lock + the package set) and the committed-lock path (IFD disabled),
# each against a peer measured in the same run: `python3.withPackages` of the same packages
# straight from nixpkgs. Prints figures; fails only if an evaluation fails.
#   PINION_EVAL_RUNS  evaluations per variant (default 5); min and median are printed
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
rn_require_nixpkgs eval-time.sh
src="$rn_work/pinion-src"
log="$rn_work/log"
env_nix="$rn_here/env.nix"
runs="${PINION_EVAL_RUNS:-5}"

rn_section "warm-up: resolver, lock derivation, nixpkgs sources in the store"
if ! nix-build "$env_nix" --arg pinion-src "$src" -A lockFile -o "$rn_work/lock.json" >"$log" 2>&1; then
  rn_bad "building the lock failed" "$log"; rn_summary; exit 1
fi
cp -L "$rn_work/lock.json" "$rn_work/pinion.lock.json"
python3 -c 'import json, sys; print("  lock:", len(json.load(open(sys.argv[1]))["packages"]), "packages")' \
  "$rn_work/pinion.lock.json"

variants=(peer ifd lock)
# Sets `vargs` (extra nix-instantiate arguments) and `describe` for variant $1.
variant() {
  case "$1" in
    peer) vargs=(--arg peer true); describe="peer: nixpkgs python3.withPackages" ;;
    ifd) vargs=(); describe="pinion, IFD (lock drv built)" ;;
    lock)
      vargs=(--arg lock "$rn_work/pinion.lock.json" --option allow-import-from-derivation false)
      describe="pinion, committed lock, IFD off" ;;
  esac
}

# One evaluation: prints "wall_seconds eval_cpu_seconds" (cpu from NIX_SHOW_STATS, "-" if absent).
eval_once() {
  local stats="$rn_work/stats.json" t0 t1
  rm -f "$stats"
  t0="$(rn_now)"
  NIX_SHOW_STATS=1 NIX_SHOW_STATS_PATH="$stats" \
    nix-instantiate "$env_nix" --arg pinion-src "$src" "$@" >/dev/null 2>"$log" || return 1
  t1="$(rn_now)"
  python3 - "$t0" "$t1" "$stats" <<'PY'
import json, sys
t0, t1, stats = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
try:
    cpu = "%.3f" % json.load(open(stats))["cpuTime"]
except (OSError, ValueError, KeyError):
    cpu = "-"
print("%.3f %s" % (t1 - t0, cpu))
PY
}

rn_section "evaluation time ($runs runs each, seconds)"
declare -A wall_min wall_med cpu_med
for v in "${variants[@]}"; do
  variant "$v"
  eval_once "${vargs[@]}" >/dev/null || { rn_bad "$v: evaluation failed" "$log"; continue; }
  : >"$rn_work/$v.times"
  for _ in $(seq "$runs"); do
    eval_once "${vargs[@]}" >>"$rn_work/$v.times" || { rn_bad "$v: evaluation failed" "$log"; continue 2; }
  done
  read -r "wall_min[$v]" "wall_med[$v]" "cpu_med[$v]" < <(python3 - "$rn_work/$v.times" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
wall = [float(r[0]) for r in rows]
cpu = [float(r[1]) for r in rows if r[1] != "-"]
print("%.3f %.3f %s" % (min(wall), statistics.median(wall), "%.3f" % statistics.median(cpu) if cpu else "-"))
PY
)
  rn_ok "$v: evaluates"
done

printf '\n  %-34s %9s %9s %12s %14s\n' variant "wall min" "wall med" "eval cpu med" "wall med/peer"
for v in "${variants[@]}"; do
  [ -n "${wall_med[$v]:-}" ] || continue
  variant "$v"
  ratio="$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' \
    "${wall_med[$v]}" "${wall_med[peer]:-0}" 2>/dev/null || echo -)"
  printf '  %-34s %9s %9s %12s %14s\n' "$describe" "${wall_min[$v]}" "${wall_med[$v]}" "${cpu_med[$v]}" "$ratio"
done
echo

rn_summary
