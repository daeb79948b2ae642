#!/usr/bin/env bash
# The main job on the bundled sample database: builds the tools, checks the sample DB, and resolves
# each sample requirement set offline for CPython 3.11 on x86_64-linux. Locks and Nix expressions
# are written to target/sample/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-machine.sh >/dev/null
cargo build --release --locked -q -p resolver -p dbgen
db=sample/pinion-db.tar.xz
shards=sample/pinion-db-shards
out=target/sample
mkdir -p "$out"
target/release/dbgen verify "$db" --shards "$shards" >&2
for req in sample/requirements/*.txt; do
  set_name=$(basename "$req" .txt)
  echo ">> $req" >&2
  target/release/resolver --db "$db" --shards "$shards" -r "$req" --python 3.11.7 --system x86_64-linux \
    --format json -o "$out/$set_name.lock.json"
  target/release/resolver --db "$db" --shards "$shards" -r "$req" --python 3.11.7 --system x86_64-linux \
    --format nix -o "$out/$set_name.lock.nix"
  python3 - "$out/$set_name.lock.json" <<'PY' >&2
import json, sys
lock = json.load(open(sys.argv[1]))
pk = lock["packages"]
by = {}
for p in pk.values():
    by[p["provider"]] = by.get(p["provider"], 0) + 1
print(f"   {len(pk)} packages ({', '.join(f'{n} {k}' for k, n in sorted(by.items()))}): "
      + ", ".join(f"{p['name']}=={p['version']}" for p in sorted(pk.values(), key=lambda p: p['name'])[:8])
      + (" ..." if len(pk) > 8 else ""))
PY
done
echo "locks written to $out/" >&2
