#!/usr/bin/env bash
# Installs what pinion's build and tests need on a fresh Debian machine (idempotent).
# Rust (cargo 1.95) and python3 are expected to be present already.
set -euo pipefail
need=()
command -v nix-build >/dev/null 2>&1 || need+=(nix-bin)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
if ((${#need[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages ${need[*]}; run as root or install them: apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo ">> apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
command -v cargo >/dev/null || { echo "error: cargo not found; install Rust 1.95 (rustup)" >&2; exit 1; }
