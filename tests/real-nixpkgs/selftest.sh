#!/usr/bin/env bash
# The part of tests/real-nixpkgs that runs without nixpkgs (scripts/test.sh runs it): the
# scripts parse and pass shellcheck, skip cleanly without PINION_NIXPKGS, refuse a directory
# that is not nixpkgs, and flake.nix's inputs are the ones flake.lock pins.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
passed=0 failed=0
ok() { echo "  ok    $1"; passed=$((passed + 1)); }
bad() {
  echo "  FAIL  $1"
  [ -n "${2:-}" ] && printf '        | %s\n' "${2//$'\n'/$'\n'        | }"
  failed=$((failed + 1))
}

scripts=("$here"/*.sh)
for s in "${scripts[@]}"; do
  if out="$(bash -n "$s" 2>&1)"; then ok "$(basename "$s"): bash -n"; else bad "$(basename "$s"): bash -n" "$out"; fi
done

if command -v shellcheck >/dev/null 2>&1; then
  if out="$(shellcheck -x "${scripts[@]}" 2>&1)"; then ok "shellcheck -x"; else bad "shellcheck -x" "$out"; fi
else
  bad "shellcheck is not installed" "hint: scripts/setup-machine.sh installs it (apt-get install shellcheck)"
fi

empty="$(mktemp -d)"
trap 'rm -rf "$empty"' EXIT
for s in seed.sh env.sh eval-time.sh; do
  out="$(env -u PINION_NIXPKGS "$here/$s" 2>&1)"; rc=$?
  if [ "$rc" = 0 ] && grep -q "^$s: skipped: PINION_NIXPKGS not set" <<<"$out"; then
    ok "$s: skips without PINION_NIXPKGS"
  else
    bad "$s: rc $rc without PINION_NIXPKGS" "$out"
  fi
  out="$(PINION_NIXPKGS="$empty" "$here/$s" 2>&1)"; rc=$?
  if [ "$rc" = 1 ] && grep -q "^error: PINION_NIXPKGS=.* is not a nixpkgs tree" <<<"$out"; then
    ok "$s: refuses a directory that is not nixpkgs"
  else
    bad "$s: rc $rc for PINION_NIXPKGS=<empty dir>" "$out"
  fi
done

# nix flake would re-lock (or refuse with --no-update-lock-file) if an input's URL no longer
# matches the lock's `original`; Debian's Nix 2.8 cannot read the tarball lock, so compare here.
if out="$(python3 - "$here/flake.nix" "$here/flake.lock" 2>&1 <<'PY'
import json, re, sys
nix, lock = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
urls = dict(re.findall(r'^\s*([\w-]+)\.url = "([^"]+)";', nix, re.M))
nodes = lock["nodes"]
assert set(urls) == set(nodes["root"]["inputs"]), f"inputs {sorted(urls)} vs lock {sorted(nodes['root']['inputs'])}"
for name, url in urls.items():
    o, l = nodes[nodes["root"]["inputs"][name]]["original"], nodes[nodes["root"]["inputs"][name]]["locked"]
    if url.startswith("github:"):
        owner, repo, ref = url[len("github:"):].split("/")
        want = {"type": "github", "owner": owner, "repo": repo, "ref": ref}
    else:
        want = {"type": "tarball", "url": url}
    assert o == want, f"{name}: flake.nix says {want}, lock original is {o}"
    assert l.get("narHash", "").startswith("sha256-"), f"{name}: locked without narHash"
    print(f"{name}: {l.get('rev', l.get('url'))}")
PY
)"; then
  ok "flake.lock pins every flake.nix input: $(tr '\n' ' ' <<<"$out")"
else
  bad "flake.lock does not match flake.nix" "$out"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
