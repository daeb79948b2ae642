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

# nixpkgs-lookup rounds (nix/README.md): the first run, without shards, names the packages it
# picked in its need file, so the second run already has nixpkgs' versions of requests'
# dependencies (the stand-in has them) with the shards: two resolver runs, not three (a
# third run once asked nixpkgs about the lock's names).
echo "-- nixpkgs-lookup rounds: 'requests' resolves in 2 resolver runs, the second offered nixpkgs' dependencies"
rreq="requests # rounds $(date +%s%N)"
rdrv=$(NIX_PATH= nix-instantiate --arg resolver "$work/resolver" --arg db "$db" --argstr req "$rreq" -E "$expr" -A lock 2>"$work/rounds.log") \
  || { cat "$work/rounds.log"; exit 1; }
runs=$(grep -c "^pinion: resolving " "$work/rounds.log" || true)
[ "$runs" = 2 ] || { cat "$work/rounds.log"; echo "expected 2 resolver runs, got $runs"; exit 1; }
NIX_PATH= nix-store --realise "$rdrv" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
python3 - "$(nix-store -q --outputs "$rdrv")" "$(nix-store -q --binding nixpkgsJson "$rdrv")" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
offered = json.loads(sys.argv[2])
deps = set(lock["packages"]) - set(lock["roots"])
assert lock["roots"] == ["requests"] and deps, lock["roots"]
# The stand-in has idna, urllib3, certifi and charset-normalizer: asked about only after a run.
assert deps & set(offered), ("no dependency offered from nixpkgs in the last run", sorted(offered))
assert set(offered) <= set(lock["packages"]), sorted(offered)
print("2 runs; the last one offered nixpkgs'", ", ".join(sorted(deps & set(offered))))
PY

# The lookup evaluates python.pkgs.<name> (and its `_` spelling) only: the stand-in's
# pyyaml_6 (pname PyYAML, like nixpkgs' versioned attributes) is not found under `pyyaml`,
# and a `providers` entry restricting pyyaml to nixpkgs fails with a hint; an overrides_pre
# overlay naming it by its PyPI name makes it found (nix/README.md, Known limits).
echo "-- a nixpkgs attribute named unlike its PyPI name (pyyaml_6): a hint without overrides_pre, found with it"
yexpr='{ resolver, db, alias }:
  let pinion = import '"$here"'/../.. { pkgs = import '"$here"'/../nixpkgs-stub { }; inherit resolver db; };
      env = pinion.mkPython ({ requirements = "pyyaml"; providers.pyyaml = "nixpkgs"; }
        // (if alias then { overrides_pre = [ (self: super: { pyyaml = super.pyyaml_6; }) ]; } else { }));
  in { inherit (env.pinion.packages.pyyaml) version provider; inherit (env.pinion.packages.pyyaml.derivation) name; }'
if ev --arg alias false -E "$yexpr" >/dev/null 2>"$work/err"; then echo "pyyaml resolved from nixpkgs without overrides_pre"; exit 1; fi
grep -q 'hint: `providers` take `pyyaml` from nixpkgs only, and the nixpkgs lookup found no `python.pkgs.pyyaml`' "$work/err" \
  || { cat "$work/err"; exit 1; }
grep -qF 'overrides_pre = [ (self: super: { pyyaml = super.<attribute>; }) ]' "$work/err" || { cat "$work/err"; exit 1; }
got=$(ev --arg alias true -E "$yexpr" 2>"$work/err") || { cat "$work/err"; exit 1; }
[ "$got" = '{"name":"python3.11-PyYAML-6.0.1","provider":"nixpkgs","version":"6.0.1"}' ] || { echo "pyyaml via overrides_pre: $got"; exit 1; }
echo "pyyaml from nixpkgs' pyyaml_6 via overrides_pre: $got"

echo "-- an unresolvable requirement fails with the resolver's message"
if ev --argstr req "pinion-no-such-project-xyz" -E "$expr" -A env >/dev/null 2>"$work/err"; then
  echo "resolution of a missing project succeeded"; exit 1
fi
cat "$work/err"
grep -q "pinion-no-such-project-xyz" "$work/err"

# Hash shards (data-format.md, *Resolution in two steps*): the first run has none, the lock
# from the shards Nix fetched carries every picked file's sha256 and URL.
echo "-- the lock's files have sha256 and URLs from the hash shards"
python3 - "$lock" <<'PY'
import json, re, sys
lock = json.load(open(sys.argv[1]))
pypi = {n: p for n, p in lock["packages"].items() if p["provider"] != "nixpkgs"}
assert pypi, "no package from PyPI: the shards are not exercised"
for name, p in pypi.items():
    assert re.fullmatch("[0-9a-f]{64}", p["source"]["sha256"]) and p["source"]["sha256"] != "0" * 64, (name, p["source"])
    assert p["source"]["url"].startswith("https://"), (name, p["source"])
PY
shards="${db%.tar.xz}-shards"
[ -d "$shards" ] || { echo "no hash shards beside $db ($shards)"; exit 1; }

echo "-- db = { url; sha256; shards_url; } over loopback: shards fetched by the manifest's sha256, same lock"
mkdir -p "$work/www/shards"
# Its own name per run: Nix caches fetched tarballs by URL.
dbname="pinion-db-$(date +%s%N).tar.xz"
cp "$db" "$work/www/$dbname"
cp "$shards"/shard-*.bin "$work/www/shards/"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$work/www" && exec python3 -m http.server --bind 127.0.0.1 "$port" >"$work/http.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break; sleep 0.1; done
# The pin is the NAR hash of the unpacked tree (builtins.fetchTarball), computed here by Nix
# itself from the tarball unpacked by tar.
mkdir -p "$work/unpacked"
tar -xJf "$db" -C "$work/unpacked"
dbsha=$(nix --extra-experimental-features nix-command hash path --type sha256 --base16 "$work/unpacked/pinion-db")
urlexpr='{ resolver, url, sha256, shards_url ? null, req }:
  let pinion = import '"$here"'/../.. { pkgs = import '"$here"'/../nixpkgs-stub { }; inherit resolver;
        db = { inherit url sha256; } // (if shards_url == null then { } else { inherit shards_url; }); };
  in pinion.mkLock { requirements = req; }'
urlbuild() { NIX_PATH= nix-build --no-out-link --arg resolver "$work/resolver" --argstr url "http://127.0.0.1:$port/$dbname" \
  --argstr sha256 "$dbsha" -E "$urlexpr" "$@"; }
# A comment unique to this run makes new resolve derivations, so their logs show the runs.
ureq="$req # $(date +%s%N)"
urllock=$(urlbuild --argstr shards_url "http://127.0.0.1:$port/shards" --argstr req "$ureq" 2>"$work/url.log") || { cat "$work/url.log"; exit 1; }
cmp "$lock" "$urllock"
# The first run has no shards; later ones have those it asked for.
grep -q "pinion: resolving .* (0 hash shards)" "$work/url.log" || { cat "$work/url.log"; exit 1; }
grep -q "pinion: resolving .* ([1-9][0-9]* hash shards)" "$work/url.log" || { cat "$work/url.log"; exit 1; }
# Each shard is a fixed-output fetch pinned to the sha256 of the file the DB was built with
# (Nix's fetcher then refuses other bytes: "hash mismatch").
drv=$(NIX_PATH= nix-instantiate --arg resolver "$work/resolver" --argstr url "http://127.0.0.1:$port/$dbname" \
  --argstr sha256 "$dbsha" --argstr req "$ureq" --argstr shards_url "http://127.0.0.1:$port/shards" -E "$urlexpr" 2>"$work/err") \
  || { cat "$work/err"; exit 1; }
fetched=0
for d in $(nix-store -qR "$drv" | grep -- '-pinion-db-shard-[0-9]*\.bin\.drv$'); do
  file=$(nix-store -q --binding name "$d"); file=${file#pinion-db-}
  [ "$(nix-store -q --binding outputHash "$d")" = "$(sha256sum "$shards/$file" | cut -d' ' -f1)" ] \
    || { echo "$d: outputHash is not the sha256 of $shards/$file"; exit 1; }
  fetched=$((fetched + 1))
done
[ "$fetched" -gt 0 ] || { echo "no shard fetch in the closure of $drv"; exit 1; }
echo "$fetched shard fetches pinned to the shards' sha256"
# Only the unpacked tree is in the store: no tarball in the closure of the resolution.
if nix-store -qR "$drv" | grep -q '\.tar\.xz$'; then echo "a DB tarball is in the closure of $drv"; exit 1; fi
nix-store -qR "$drv" | grep -q -- '-pinion-db$' || { echo "the fetched DB tree is not in the closure of $drv"; exit 1; }

echo "-- without shards_url, the URL form names the setting"
if urlbuild --argstr req "$ureq" >/dev/null 2>"$work/err"; then echo "resolved without shards"; exit 1; fi
grep -q 'has no `shards_url`' "$work/err" || { cat "$work/err"; exit 1; }

echo "-- a DB path without its shards directory names the shard and the fix"
mkdir -p "$work/lonely"
cp "$db" "$work/lonely/pinion-db.tar.xz"
if NIX_PATH= nix-instantiate --read-write-mode --eval --strict --json --arg resolver "$work/resolver" \
  --arg db "$work/lonely/pinion-db.tar.xz" --argstr req "$req" -E "$expr" -A env >/dev/null 2>"$work/err"; then
  echo "resolved without shards"; exit 1
fi
grep -q "needs the hash shard shard-[0-9]*.bin, which $work/lonely/pinion-db-shards (from the db argument) does not have" "$work/err" \
  || { cat "$work/err"; exit 1; }

echo "-- --hash options (the hashed projects' shards are asked for first): same pins"
root=$(python3 -c 'import json, re, sys; print(re.split(r"[^A-Za-z0-9._-]", sys.argv[2].strip())[0].lower().replace("_", "-"))' "$lock" "$req")
hashed=$(python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["packages"][sys.argv[2]]
print(sys.argv[2] + "==" + p["version"] + " --hash=sha256:" + p["source"]["sha256"])' "$lock" "$root")
ev --argstr req "$hashed" -E "$expr" -A env >"$work/hashed.json" 2>"$work/hashed.log" || { cat "$work/hashed.log"; exit 1; }
python3 - "$work/env.json" "$work/hashed.json" <<'PY'
import json, sys
a, b = (json.load(open(f))["packages"] for f in sys.argv[1:])
assert {n: p["version"] for n, p in a.items()} == {n: p["version"] for n, p in b.items()}, (a, b)
PY
echo "-- a --hash no file has fails with the resolver's message"
if ev --argstr req "${hashed%%--hash=*}--hash=sha256:$(printf 0%.0s $(seq 64))" -E "$expr" -A env >/dev/null 2>"$work/err"; then
  echo "a requirement with a hash no file has resolved"; exit 1
fi
cat "$work/err"
grep -q "pinion: the resolution failed" "$work/err"
