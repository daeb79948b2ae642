#!/usr/bin/env bash
# Builds tests/real-nixpkgs/env.nix (numpy, requests, a flit-core sdist, an opencv-python wheel)
# on real nixpkgs and import-checks every package in the built environment; then checks that
# the committed-lock path (no import-from-derivation) gives the very same derivation.
# Needs PINION_NIXPKGS (else skipped) and a DB holding these projects in PINION_DB (db.sh).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
rn_require_nixpkgs env.sh
src="$rn_work/pinion-src"
log="$rn_work/log"
env_nix="$rn_here/env.nix"

rn_section "resolver built by this nixpkgs"
if [ -n "${PINION_RESOLVER:-}" ]; then
  echo "  note  resolver not built: PINION_RESOLVER=$PINION_RESOLVER given"
else
  rustc_version="$(nix-instantiate --eval --json -E '(import <nixpkgs> { }).rustc.version' 2>"$log" | tr -d '"')"
  if nix-build -E "(import $src { }).resolver" -o "$rn_work/resolver" >"$log" 2>&1; then
    rn_ok "resolver builds with nixpkgs rustc ${rustc_version:-unknown}"
  else
    rn_bad "resolver does not build with nixpkgs rustc ${rustc_version:-unknown}" "$log"
  fi
fi

rn_section "resolution (import-from-derivation)"
providers="$rn_work/providers.json"
if nix-instantiate --eval --strict --json --read-write-mode -E \
  "builtins.mapAttrs (n: p: p.provider) (import $env_nix { pinion-src = $src; }).pinion.packages" \
  >"$providers" 2>"$log"; then
  rn_ok "resolves: $(cat "$providers")"
  for want in numpy=wheel requests=wheel flit-core=sdist opencv-python=wheel; do
    name="${want%=*}" provider="${want#*=}"
    got="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], "absent"))' \
      "$providers" "$name")"
    if [ "$got" = "$provider" ]; then rn_ok "$name from $provider"; else rn_bad "$name: provider $got, expected $provider"; fi
  done
else
  rn_bad "resolution failed" "$log"
fi

rn_section "build and import-check"
if nix-build "$env_nix" --arg pinion-src "$src" -o "$rn_work/env" >"$log" 2>&1; then
  rn_ok "environment builds"
  py="$rn_work/env/bin/python"
  check() {
    if "$py" -c "$2" >"$log" 2>&1; then rn_ok "$1: $(tail -1 "$log")"; else rn_bad "$1 does not import" "$log"; fi
  }
  check numpy 'import numpy; assert numpy.arange(6).reshape(2, 3).sum() == 15; print(numpy.__version__)'
  check requests 'import requests; requests.Session(); print(requests.__version__)'
  check flit-core 'import flit_core, flit_core.buildapi; print(flit_core.__version__)'
  # imencode exercises the manylinux libraries the wheel links against, not just the import.
  check opencv-python 'import cv2, numpy
ok, png = cv2.imencode(".png", numpy.zeros((4, 4, 3), numpy.uint8))
assert ok and png.size > 0
print(cv2.__version__)'
else
  rn_bad "environment build failed" "$log"
fi

rn_section "committed lock (no import-from-derivation)"
if nix-build "$env_nix" --arg pinion-src "$src" -A lockFile -o "$rn_work/lock.json" >"$log" 2>&1; then
  rn_ok "mkLock writes a lock"
  # A committed lock is a plain file in the user's tree, not a store path.
  cp -L "$rn_work/lock.json" "$rn_work/pinion.lock.json"
  ifd_drv="$(nix-instantiate "$env_nix" --arg pinion-src "$src" 2>"$log")"
  if lock_drv="$(nix-instantiate "$env_nix" --arg pinion-src "$src" --arg lock "$rn_work/pinion.lock.json" \
    --option allow-import-from-derivation false 2>"$log")"; then
    if [ "$lock_drv" = "$ifd_drv" ]; then
      rn_ok "evaluates without IFD to the same derivation ($lock_drv)"
    else
      rn_bad "lock path gives $lock_drv, IFD path $ifd_drv"
    fi
  else
    rn_bad "evaluation from the lock failed with IFD disabled" "$log"
  fi
else
  rn_bad "mkLock failed" "$log"
fi

rn_summary
