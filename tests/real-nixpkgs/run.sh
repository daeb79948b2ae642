#!/usr/bin/env bash
# Every real-nixpkgs check, in order (each skips when PINION_NIXPKGS is unset); see README.md.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
status=0
for script in seed.sh env.sh eval-time.sh; do
  echo "=== tests/real-nixpkgs/$script"
  "$here/$script" || status=1
done
exit "$status"
