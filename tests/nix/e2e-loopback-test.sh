#!/usr/bin/env bash
# The whole pipeline on real PyPI files served from a loopback "PyPI": a crawl
# state describing tests/nix/fixtures -> `dbgen build` -> DB -> mkPython through the
# real resolver (IFD) -> sandboxed nix-build -> the env's python imports everything.
# Usage: e2e-loopback-test.sh DBGEN RESOLVER [COPY_DB_TO]
set -euo pipefail
dbgen="$1" resolver="$2"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$here/fixtures" && exec python3 -m http.server --bind 127.0.0.1 "$port" >"$work/http.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break; sleep 0.1; done

python3 "$here/make-crawl-state.py" "$repo/crawler/schema.sql" "$here/fixtures" "http://127.0.0.1:$port" "$work/crawl.sqlite"
"$dbgen" build --state "$work/crawl.sqlite" --out "$work/pinion-db.tar.xz" --shards-out "$work/pinion-db-shards"
[ -s "$work/pinion-db.tar.xz" ] || { echo "dbgen wrote no DB"; exit 1; }
mkdir -p "$work/resolver/bin"
cp "$resolver" "$work/resolver/bin/resolver"
# The hash shards travel beside the tarball (nix/db.nix: `X.tar.xz` -> `X-shards/`).
[ -z "${3:-}" ] || { cp "$work/pinion-db.tar.xz" "$3"; cp -r "$work/pinion-db-shards" "${3%.tar.xz}-shards"; }
expr='{ resolver, db }:
  let pinion = import '"$here"'/../.. { pkgs = import '"$here"'/../nixpkgs-stub { }; inherit resolver db; };
  in pinion.mkPython {
    requirements = "requests==2.31.0\nsix\ntomli\n";
    providers = { six = "sdist"; };
  }'
NIX_PATH= nix-instantiate --read-write-mode --eval --strict --json --arg resolver "$work/resolver" \
  --arg db "$work/pinion-db.tar.xz" -E "$expr" -A pinion.packages >"$work/packages.json"
python3 - "$work/packages.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
got = {n: (v["version"], v["provider"], v["build_dependencies"]) for n, v in p.items()}
want = {
    "certifi": ("2023.7.22", "wheel", []), "charset-normalizer": ("3.3.2", "wheel", []),
    "idna": ("3.4", "wheel", []), "requests": ("2.31.0", "wheel", []), "urllib3": ("2.0.7", "wheel", []),
    "six": ("1.16.0", "sdist", ["setuptools", "wheel"]), "tomli": ("2.0.1", "sdist", ["flit-core"]),
    "setuptools": ("68.2.2", "wheel", []), "wheel": ("0.41.2", "wheel", []), "flit-core": ("3.9.0", "wheel", []),
}
assert got == want, f"resolution differs:\n got  {got}\n want {want}"
assert p["six"]["format"] == "setuptools" and p["tomli"]["format"] == "pyproject", p
print("resolved as expected:", ", ".join(f"{n}=={v[0]} ({v[1]})" for n, v in sorted(got.items())))
PY
env=$(NIX_PATH= nix-build --no-out-link --arg resolver "$work/resolver" --arg db "$work/pinion-db.tar.xz" -E "$expr")
"$env/bin/python" "$here/check_env.py" "$env" requests=2.31.0 six=1.16.0 tomli=2.0.1 idna=3.4 urllib3=2.0.7 certifi=2023.7.22 charset_normalizer=3.3.2

# The nixpkgs provider through the real resolver: nixpkgs' (the stub's) requests 2.31.0.
NIX_PATH= nix-instantiate --read-write-mode --eval --strict --json --arg resolver "$work/resolver" \
  --arg db "$work/pinion-db.tar.xz" -E '{ resolver, db }:
  let pinion = import '"$here"'/../.. { pkgs = import '"$here"'/../nixpkgs-stub { }; inherit resolver db; };
  in (pinion.mkPython { requirements = "requests"; providers.requests = "nixpkgs"; }).pinion.packages.requests' >"$work/nixpkgs.json"
python3 - "$work/nixpkgs.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["provider"], r["version"], r["source"]) == ("nixpkgs", "2.31.0", "nixpkgs:requests"), r
assert r["derivation"]["propagatedBuildInputs"] == ["certifi", "charset-normalizer", "idna", "urllib3"], r
print("requests from nixpkgs with resolved dependencies:", r["derivation"])
PY

# Snapshot of mkPython { requirements = "requests==2.31.0"; } through the real resolver.
NIX_PATH= nix-instantiate --read-write-mode --eval --strict --json --arg resolver "$work/resolver" \
  --arg db "$work/pinion-db.tar.xz" -E '{ resolver, db }:
  let pinion = import '"$here"'/../.. { pkgs = import '"$here"'/../nixpkgs-stub { }; inherit resolver db; };
  in (pinion.mkPython { requirements = "requests==2.31.0"; }).pinion' | python3 -m json.tool --sort-keys >"$work/snap.json"
if [ -n "${PINION_UPDATE_SNAPSHOTS:-}" ]; then cp "$work/snap.json" "$here/expected/real-resolver-requests.json"; fi
diff -u "$here/expected/real-resolver-requests.json" "$work/snap.json"
echo "snapshot expected/real-resolver-requests.json matches"
