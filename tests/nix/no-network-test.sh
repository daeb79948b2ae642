#!/usr/bin/env bash
# Shows the resolve derivation has no network: a wrapper around RESOLVER, run as
# the library's resolver, first tries to connect to a TCP listener this script
# started on 127.0.0.1 (reachable from the host, checked below) and to
# pypi.org:443; either succeeding fails the resolution. Then it runs RESOLVER.
# Usage: no-network-test.sh RESOLVER DB REQUIREMENT
set -euo pipefail
resolver="$1" db="$2" req="$3"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
python3 - >"$work/port" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
sys.stdout.close()
s.settimeout(120)
try:
    while True:
        c, _ = s.accept(); c.close()
except OSError:
    pass
PY
listener=$!
trap 'kill $listener 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 2)" \
  || { echo "listener on 127.0.0.1:$port not reachable from the host: test is meaningless"; exit 1; }
echo "host can connect to 127.0.0.1:$port"

mkdir -p "$work/resolver/bin"
cp "$resolver" "$work/resolver/bin/resolver-real"
cat >"$work/resolver/bin/resolver" <<EOF
#!/bin/sh
/usr/bin/python3 - <<'PY' || exit 1
import socket, sys
for host, port in (("127.0.0.1", $port), ("pypi.org", 443)):
    try:
        socket.create_connection((host, port), 3).close()
    except OSError as e:
        print(f"network check: {host}:{port} unreachable as expected ({e})", file=sys.stderr)
    else:
        sys.exit(f"network check: connected to {host}:{port} from the resolve derivation")
PY
exec "\$(dirname "\$0")/resolver-real" "\$@"
EOF
chmod +x "$work/resolver/bin/resolver"
NIX_PATH= nix-instantiate --read-write-mode --eval --strict --json \
  --arg resolver "$work/resolver" --arg db "$db" --argstr req "$req" -E '
  { resolver, db, req }:
  let pinion = import '"$here"'/../.. { pkgs = import '"$here"'/../nixpkgs-stub { }; inherit resolver db; };
  in (pinion.mkPython { requirements = req; }).pinion.roots' 2>"$work/log" || { cat "$work/log"; exit 1; }
cat "$work/log"
grep -q "127.0.0.1:$port unreachable as expected" "$work/log"
grep -q "pypi.org:443 unreachable as expected" "$work/log"
