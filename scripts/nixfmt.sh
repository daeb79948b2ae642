#!/usr/bin/env bash
# Checks (default) or, with --write, formats every *.nix file of the repository with nixfmt in
# the RFC 166 style (the official nixfmt's). The binary is nixfmt-rs, a Rust port that
# produces the Haskell nixfmt's output, installed from crates.io on first use (Debian has no
# nixfmt package): about 10 minutes of building on 2 busy cores, cached afterwards.
#   scripts/nixfmt.sh [--write]
#   PINION_NIXFMT=/path/to/nixfmt  use that binary instead
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
version=0.5.3
root="${NIXFMT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pinion-nixfmt-$version}"
mode=--check
case "${1:-}" in
  "") ;;
  --write) mode="" ;;
  *) echo "error: unknown argument \`$1\`" >&2; echo "hint: scripts/nixfmt.sh [--write]" >&2; exit 2 ;;
esac

nixfmt="${PINION_NIXFMT:-$root/bin/nixfmt}"
if [ ! -x "$nixfmt" ]; then
  echo "nixfmt.sh: installing nixfmt_rs $version into $root (cargo install, once)" >&2
  cargo install --quiet --locked nixfmt_rs --version "$version" --root "$root" >&2
fi

cd "$repo"
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.nix')
[ "${#files[@]}" -gt 0 ] || { echo "error: no *.nix files found under $repo" >&2; exit 1; }
if [ -n "$mode" ]; then
  if ! "$nixfmt" "$mode" "${files[@]}"; then
    echo "hint: scripts/nixfmt.sh --write formats them" >&2
    exit 1
  fi
  echo "nixfmt: all ${#files[@]} *.nix files are formatted"
else
  "$nixfmt" "${files[@]}"
  echo "nixfmt: formatted ${#files[@]} files"
fi
