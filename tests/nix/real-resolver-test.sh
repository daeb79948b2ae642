#!/usr/bin/env bash
# mkPython through the real `resolver` binary and a real DB (import-from-derivation),
# evaluated against the nixpkgs stub. Usage: real-resolver-test.sh RESOLVER DB
# (requirement from PINION_REAL_REQ, default "requests").
set -euo pipefail
resolver="$1" db="$2" req="${PINION_REAL_REQ:-requests}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/resolver/bin"
cp "$resolver" "$work/resolver/bin/resolver"
ev() {
  NIX_PATH= nix-instantiate --read-write-mode --eval --strict --json \
    --arg resolver "$work/resolver" --arg db "$db" "$@"
}
expr='{ resolver, db, req, lock ? null }:
  let pinion = import '"$here"'/../.. { pkgs = import '"$here"'/../nixpkgs-stub { }; inherit resolver db; };
  in { env = (pinion.mkPython { requirements = req; }).pinion; lock = pinion.mkLock { requirements = req; };
       fromLock = (pinion.mkPython { inherit lock; }).pinion; }'

echo "-- resolving '$req' through IFD"
ev --argstr req "$req" -E "$expr" -A env >"$work/env.json"
python3 - "$work/env.json" "$req" <<'PY'
import json, re, sys
meta = json.load(open(sys.argv[1]))
root = re.split(r"[^A-Za-z0-9._-]", sys.argv[2].strip())[0].lower().replace("_", "-")
assert meta["roots"] == [root], meta["roots"]
assert root in meta["packages"], sorted(meta["packages"])
for name, p in meta["packages"].items():
    assert p["provider"] in ("wheel", "sdist", "nixpkgs"), (name, p)
    assert p["derivation"]["name"].endswith("-" + p["version"]), (name, p)
    for d in p["dependencies"]:
        assert d in meta["packages"], (name, d)
print("resolved:", ", ".join(f"{n}=={p['version']} ({p['provider']})" for n, p in sorted(meta["packages"].items())))
PY

echo "-- mkLock, then the same environment from the lock without IFD"
lock=$(NIX_PATH= nix-build --no-out-link --arg resolver "$work/resolver" --arg db "$db" --argstr req "$req" -E "$expr" -A lock)
ev --option allow-import-from-derivation false --argstr req "$req" --arg lock "$lock" -E "$expr" -A fromLock >"$work/lock.json"
cmp "$work/env.json" "$work/lock.json"

echo "-- an unresolvable requirement fails with the resolver's message"
if ev --argstr req "pinion-no-such-project-xyz" -E "$expr" -A env >/dev/null 2>"$work/err"; then
  echo "resolution of a missing project succeeded"; exit 1
fi
cat "$work/err"
grep -q "pinion-no-such-project-xyz" "$work/err"
