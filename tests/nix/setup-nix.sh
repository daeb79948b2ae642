#!/usr/bin/env bash
# Makes a fresh Debian machine able to run the pinion Nix tests: sandboxed
# single-user (root) builds with Debian's nix-bin, no substituters, no network.
#
# Why extra-sandbox-paths contains /usr /lib /lib64 /bin: nixpkgs cannot be
# downloaded here, so tests use tests/nixpkgs-stub, whose "python3" is the
# host's /usr/bin/python3 and whose builders use the host's coreutils/sh. The
# real library never refers to host paths; with real nixpkgs these entries are
# unnecessary. Nothing else from the host (no /etc/resolv.conf, no network
# namespace sharing) enters the sandbox.
# Idempotent: safe to run repeatedly.
set -euo pipefail

# nix-bin, plus what the tests use: the host python (the stub's interpreter), git, binutils, gcc.
missing=()
command -v nix-build >/dev/null 2>&1 || missing+=(nix-bin)
[ -x /usr/bin/python3 ] || missing+=(python3)
command -v git >/dev/null 2>&1 || missing+=(git)
# The stand-in's autoPatchelf and strip (readelf, strip) and the fixture shared libraries (gcc).
command -v readelf >/dev/null 2>&1 || missing+=(binutils)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi

if ! getent group nixbld >/dev/null; then
  groupadd --system nixbld
fi
for i in $(seq 1 10); do
  if ! getent passwd "nixbld$i" >/dev/null; then
    useradd --system --no-create-home --home-dir /var/empty --shell /usr/sbin/nologin \
      --gid nixbld --groups nixbld "nixbld$i"
  fi
done

mkdir -p /etc/nix
conf=/etc/nix/nix.conf
want='# written by pinion tests/nix/setup-nix.sh
build-users-group = nixbld
sandbox = true
sandbox-fallback = false
extra-sandbox-paths = /usr /lib /lib64 /bin
substituters =
trusted-substituters =
require-sigs = false
experimental-features = nix-command flakes
max-jobs = 2
cores = 2
'
if [ "$(cat "$conf" 2>/dev/null)" != "$(printf '%s' "$want")" ]; then
  printf '%s' "$want" > "$conf"
fi
mkdir -p /nix/store /nix/var/nix
echo "setup-nix: $(nix-build --version), sandbox enabled, config at $conf"
