# shellcheck shell=bash
# Shared by the tests/real-nixpkgs scripts (sourced, not run). They run pinion's Nix library
# against a real nixpkgs tree; nothing here works with tests/nixpkgs-stub.
#
# Environment:
#   PINION_NIXPKGS           a nixpkgs tree (checkout, channel or `nix eval --raw
#                            ./tests/real-nixpkgs#sources.stable`); unset: the script skips
#   PINION_NIXPKGS_UNSTABLE  what `<unstable>` means in the seed examples (default: PINION_NIXPKGS)
#   PINION_DB                DB tarball (default: pinion's own pin, nix/db.json); the seed examples
#                            and the environment test need one built by tests/real-nixpkgs/db.sh
#   PINION_RESOLVER          a directory with bin/resolver (default: built by the nixpkgs'
#                            rustPlatform, which is itself a check of `rust-version`)
set -uo pipefail

rn_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rn_repo="$(cd "$rn_here/../.." && pwd)"

# Exit 0 with a clear message unless PINION_NIXPKGS names a nixpkgs tree.
rn_require_nixpkgs() {
  local script="$1"
  if [ -z "${PINION_NIXPKGS:-}" ]; then
    echo "$script: skipped: PINION_NIXPKGS not set (give it a nixpkgs checkout, or in CI:" \
      "PINION_NIXPKGS=\$(nix eval --raw ./tests/real-nixpkgs#sources.stable))"
    exit 0
  fi
  if [ ! -f "$PINION_NIXPKGS/default.nix" ] || [ ! -d "$PINION_NIXPKGS/pkgs/top-level" ]; then
    echo "error: PINION_NIXPKGS=\`$PINION_NIXPKGS\` is not a nixpkgs tree (no default.nix and pkgs/top-level)" >&2
    echo "hint: point it at a nixpkgs checkout or a channel's nixexprs directory" >&2
    exit 1
  fi
  for tool in nix-build nix-instantiate nix-shell; do
    command -v "$tool" >/dev/null 2>&1 ||
      { echo "error: \`$tool\` not found; install Nix first" >&2; exit 1; }
  done
  export NIX_PATH="nixpkgs=$PINION_NIXPKGS:unstable=${PINION_NIXPKGS_UNSTABLE:-$PINION_NIXPKGS}"
  rn_work="$(mktemp -d)"
  trap 'rm -rf "$rn_work"' EXIT
  rn_write_pinion_src "$rn_work/pinion-src"
}

# `pinion-src` for the seed examples (they call `import pinion-src { }`): this repository's
# library with PINION_DB / PINION_RESOLVER as defaults, nixpkgs from NIX_PATH like a user's.
rn_write_pinion_src() {
  local dir="$1" defaults=""
  mkdir -p "$dir"
  if [ -n "${PINION_DB:-}" ]; then
    [ -f "$PINION_DB" ] || { echo "error: PINION_DB=\`$PINION_DB\` is not a file" >&2; exit 1; }
    defaults+=" db = /. + \"$(realpath "$PINION_DB")\";"
  fi
  if [ -n "${PINION_RESOLVER:-}" ]; then
    [ -x "$PINION_RESOLVER/bin/resolver" ] ||
      { echo "error: PINION_RESOLVER=\`$PINION_RESOLVER\` has no bin/resolver" >&2; exit 1; }
    defaults+=" resolver = /. + \"$(realpath "$PINION_RESOLVER")\";"
  fi
  cat >"$dir/default.nix" <<EOF
# Written by tests/real-nixpkgs/lib.sh: pinion from $rn_repo with the test's DB and resolver.
args: import (/. + "$rn_repo") ({$defaults } // args)
EOF
}

rn_passed=0 rn_failed=0
rn_ok() { echo "  ok    $1"; rn_passed=$((rn_passed + 1)); }
rn_bad() {
  echo "  FAIL  $1"
  if [ -n "${2:-}" ] && [ -f "$2" ]; then tail -30 "$2" | sed 's/^/        | /'; fi
  rn_failed=$((rn_failed + 1))
}
rn_section() { echo "== $1"; }
rn_summary() {
  echo "$rn_passed passed, $rn_failed failed"
  [ "$rn_failed" -eq 0 ]
}

rn_now() { date +%s.%N; }
