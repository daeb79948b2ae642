#!/usr/bin/env bash
# Runs every Nix test of pinion against the nixpkgs stub, in the Nix sandbox.
# Needs tests/nix/setup-nix.sh to have run (root, sandbox = true).
#   PINION_UPDATE_SNAPSHOTS=1  rewrite tests/nix/expected/*.json
#   PINION_RESOLVER, PINION_DBGEN, PINION_DB: binaries and DB for the
#     real-resolver tests (default: target/{release,debug}/{resolver,dbgen}, sample/pinion-db.tar.xz);
#   PINION_REQUIRE_RESOLVER=1  fail (instead of skip) when they are missing.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"
export NIX_PATH="nixpkgs=$repo/tests/nixpkgs-stub:unstable=$repo/tests/nixpkgs-stub"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

passed=0 failed=0 skipped=0
ok() { echo "  ok    $1"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $1"; [ -n "${2:-}" ] && sed 's/^/        | /' <<<"$2" | tail -25; failed=$((failed + 1)); }
skip() { echo "  skip  $1"; skipped=$((skipped + 1)); }
section() { echo "== $1"; }

ev() { nix-instantiate --read-write-mode --eval --strict --json "$@"; }

# Evaluates attribute ATTR of FILE (a set of { expr; expected; context ? ; } cases, see
# common.nix; FILE may be a function of the --arg/--argstr given) and reports every case,
# with the expected and actual values (and the context) of a failing one.
checks() {
  local file="$1" attr="$2"; shift 2
  local out
  if ! out="$(ev -E '{ file, attr, ... }@args: let f = import file; cases = if builtins.isFunction f then f (builtins.removeAttrs args [ "file" "attr" ]) else f; in (import ./common.nix { }).runCases cases.${attr}' \
    --arg file "./$file" --argstr attr "$attr" "$@" 2>"$work/err")"; then
    bad "$attr: evaluation failed" "$(cat "$work/err")"; return
  fi
  if ! python3 -c 'import json, sys
cases = json.load(sys.stdin)
assert isinstance(cases, list) and cases, "no cases"
show = lambda v: json.dumps(v, sort_keys=True)
for c in cases:
    line = ("True" if c["ok"] is True else "False") + "\t" + c["what"]
    if c["ok"] is not True:
        detail = "expected: " + show(c["expected"]) + "\nactual:   " + show(c["actual"])
        if c.get("context") is not None:
            detail += "\ncontext:  " + show(c["context"])
        # One line for read; printf %b restores the newlines.
        line += "\t" + detail.replace("\\", "\\\\").replace("\n", "\\n")
    print(line)' <<<"$out" >"$work/checks" 2>"$work/err"; then
    bad "$attr: bad case list" "$(cat "$work/err")"; return
  fi
  while IFS=$'\t' read -r status what detail; do
    if [ "$status" = True ]; then ok "$attr: $what"; else bad "$attr: $what" "$(printf '%b' "$detail")"; fi
  done <"$work/checks"
}

# Expects evaluating FILE -A ATTR to fail with a message containing every PATTERN.
fails_with() {
  local file="$1" attr="$2"; shift 2
  if ev "$file" -A "$attr" >/dev/null 2>"$work/err"; then
    bad "$attr: evaluation succeeded but must fail"; return
  fi
  for pat in "$@"; do
    if ! grep -qF -- "$pat" "$work/err"; then bad "$attr: message lacks '$pat'" "$(cat "$work/err")"; return; fi
  done
  ok "$attr: fails with a clear message"
}

serve() { # serve DIR -> sets $port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$1" && exec python3 -m http.server --bind 127.0.0.1 "$port" >"$work/http-$port.log" 2>&1) &
  pids+=($!)
  for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && return; sleep 0.1; done
  echo "http server did not start" >&2; exit 1
}

section "setup"
if ! command -v nix-build >/dev/null; then echo "nix-build missing: run tests/nix/setup-nix.sh" >&2; exit 1; fi
# The stub's python3 is the host's /usr/bin/python3 declared as 3.11 (Debian 12).
if [ "$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = 3.11 ]; then
  ok "host /usr/bin/python3 is 3.11 (the stub's interpreter)"
else bad "/usr/bin/python3 must be CPython 3.11 (Debian 12) for the nixpkgs stub"; fi
if [ "$(nix show-config 2>/dev/null | awk '$1=="sandbox"{print $3}')" = true ]; then ok "sandbox enabled"; else bad "sandbox not enabled (run tests/nix/setup-nix.sh)"; fi

section "library internals"
for a in util stand-in-lib nixpkgs-versions providers options; do checks cases/units.nix "$a"; done

section "seed page examples (tests/nix/seed, fake resolver)"
git init -q -b master "$work/git" && cp "$here/seed/project/setup.py" "$work/git/" && cp -r "$here/seed/project/my_package" "$work/git/" \
  && echo six >"$work/git/requirements.txt" && git -C "$work/git" add -A \
  && git -C "$work/git" -c user.email=t@example.org -c user.name=t commit -qm init
for a in mkpython mkpythonshell buildpythonpackage github tensorflow-nixpkgs tensorflow-wheel pytorch poetry2nix; do
  checks cases/seed.nix "$a" --argstr gitUrl "file://$work/git"
done

section "snapshots of mkPython structure (tests/nix/expected)"
for a in requests overrides; do
  if ! ev cases/snapshot.nix -A "$a" 2>"$work/err" | python3 -m json.tool --sort-keys >"$work/$a.json"; then
    bad "snapshot $a: evaluation failed" "$(cat "$work/err")"; continue
  fi
  if [ -n "${PINION_UPDATE_SNAPSHOTS:-}" ]; then cp "$work/$a.json" "expected/$a.json"; ok "snapshot $a updated"
  elif diff -u "expected/$a.json" "$work/$a.json" >"$work/diff"; then ok "snapshot $a"
  else bad "snapshot $a differs (PINION_UPDATE_SNAPSHOTS=1 to accept)" "$(cat "$work/diff")"; fi
done

section "error messages"
fails_with cases/errors.nix unknown-provider 'unknown provider "conda"' 'valid providers are: wheel, sdist, nixpkgs'
fails_with cases/errors.nix unknown-default-provider 'providers._default = "pip"' 'valid providers are'
fails_with cases/errors.nix missing-requirements 'missing argument `requirements`'
fails_with cases/errors.nix requirements-not-string '`requirements` must be a string' 'got a list'
fails_with cases/errors.nix unknown-argument 'unknown argument(s) requirement' 'valid arguments are'
fails_with cases/errors.nix unresolvable 'definitely-not-on-pypi is not in the database' 'pinion: the resolution failed'
fails_with cases/errors.nix wrong-db-hash 'wrong hash for the database file' 'actual   sha256 = "' 'Change the sha256 in the db argument'
fails_with cases/errors.nix missing-db 'does not exist' 'db = { url = ...; sha256 = ...; shards_url = ...; }'
fails_with cases/errors.nix lock-wrong-python 'resolved for Python 3.10.4 but python is 3.11.2'
fails_with cases/errors.nix lock-wrong-version 'lock_version 2'
fails_with cases/errors.nix nixpkgs-attr-missing 'python.pkgs.foo_nonexistent'

if ev cases/warnings.nix -A unknown-requirements >/dev/null 2>"$work/err" \
  && grep -q "pinion warning: the requirements of tomli 2.0.1 (sdist) are unknown" "$work/err"; then
  ok "requirements_known = false: builds with a warning"
else bad "requirements_known = false warning" "$(cat "$work/err")"; fi

# The default DB pin (nix/db.json) is a repository path until a release rewrites it.
pin_path=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("path", ""))' "$repo/nix/db.json")
if [ -z "$pin_path" ]; then
  ok "nix/db.json pins a released DB (url + sha256)"
elif [ -f "$repo/$pin_path" ]; then
  if [ "$(ev -E "toString (import $repo { pkgs = import $repo/tests/nixpkgs-stub { }; }).db" 2>"$work/err")" = "\"$repo/$pin_path\"" ]; then
    ok "default DB is nix/db.json's $pin_path"; else bad "default DB" "$(cat "$work/err")"; fi
else
  if ev -E "(import $repo { pkgs = import $repo/tests/nixpkgs-stub { }; }).db" >/dev/null 2>"$work/err"; then
    bad "a missing default DB must fail evaluation"
  elif grep -q "(from nix/db.json) does not exist" "$work/err"; then ok "missing default DB ($pin_path) names nix/db.json"
  else bad "missing default DB message" "$(cat "$work/err")"; fi
fi

section "flake outputs (stub as nixpkgs)"
checks cases/flake.nix checks

section "real sandboxed builds from a lock (loopback PyPI, no IFD)"
serve "$here/fixtures"
base="http://127.0.0.1:$port"
sed "s#@BASE@#$base#g" fixtures/real.lock.json.in >"$work/pinion.lock.json"
real() { nix-build --no-out-link --option allow-import-from-derivation false cases/real.nix --argstr lock "$work/pinion.lock.json" "$@"; }
if ev --option allow-import-from-derivation false cases/real.nix --argstr lock "$work/pinion.lock.json" -A env.drvPath >/dev/null 2>"$work/err"; then
  ok "lock path evaluates with allow-import-from-derivation = false"
else bad "lock path needs IFD" "$(cat "$work/err")"; fi
if ev --option allow-import-from-derivation false --argstr lock "$work/pinion.lock.json" -E \
  '{ lock }: ((import ./common.nix { db = /nonexistent/pinion-db.tar.xz; }).pinion.mkPython { lock = /. + lock; }).drvPath' \
  >/dev/null 2>"$work/err"; then
  ok "lock path needs no DB (db = a missing file, without shards)"
else bad "lock path with a missing DB" "$(cat "$work/err")"; fi
if env=$(real -A env 2>"$work/build.log"); then
  ok "environment built (wheels + setuptools sdist + flit sdist)"
  if out=$("$env/bin/python" "$here/check_env.py" "$env" requests=2.31.0 six=1.16.0 tomli=2.0.1 idna=3.4 urllib3=2.0.7 certifi=2023.7.22 charset_normalizer=3.3.2 2>&1); then
    ok "env python imports every package from the env"; else bad "env python imports" "$out"; fi
else bad "environment build" "$(cat "$work/build.log")"; fi
if pkg=$(real -A package 2>"$work/build.log"); then
  if out=$("$(real -A packageEnv 2>/dev/null)/bin/python" -c 'import my_package, requests; print(my_package.__file__)' 2>&1); then
    ok "buildPythonPackage from a local project built; it and its requirements import"; else bad "buildPythonPackage imports" "$out"; fi
else bad "buildPythonPackage build" "$(cat "$work/build.log")"; fi
if shell=$(real -A shell 2>"$work/build.log") && grep -q -- "-env" "$shell"; then ok "mkPythonShell builds with the env"; else bad "mkPythonShell" "$(cat "$work/build.log")"; fi
# The published shape (data-format.md, *Publication*): one directory pinion-db/ in a .tar.xz,
# pinned by the NAR hash of the unpacked tree (here the fake resolver's universe.json as
# pinion.db). Its own name per run: Nix caches fetched tarballs by URL.
mkdir -p "$work/urldb/pinion-db"
cp fixtures/universe.json "$work/urldb/pinion-db/pinion.db"
printf '{\n  "sha256": "%s"\n}\n' "$(sha256sum fixtures/universe.json | cut -d' ' -f1)" >"$work/urldb/pinion-db/manifest.json"
urldb="urldb-$(date +%s%N).tar.xz"
mkdir -p "$work/www-db"
tar -cJf "$work/www-db/$urldb" -C "$work/urldb" pinion-db
serve "$work/www-db"
dbbase="http://127.0.0.1:$port"
sha=$(nix --extra-experimental-features nix-command hash path --type sha256 --base16 "$work/urldb/pinion-db")
if ev cases/fetched-db.nix --argstr url "$dbbase/$urldb" --argstr sha256 "$sha" -A six >/dev/null 2>"$work/err"; then
  ok "db = { url; sha256 = NAR hash; } fetched unpacked and used"; else bad "db from url" "$(cat "$work/err")"; fi
if ev -E "{ url, sha256 }: builtins.fetchTarball { inherit url sha256; }" --argstr url "$dbbase/$urldb" --argstr sha256 "$sha" >"$work/tree" 2>"$work/err" \
  && [ "$(ls "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])))' "$work/tree")")" = "$(printf 'manifest.json\npinion.db')" ]; then
  ok "the fetched DB is the unpacked tree (manifest.json, pinion.db), not the tarball"; else bad "fetched DB tree" "$(cat "$work/err" "$work/tree")"; fi
if ev cases/fetched-db.nix --argstr url "$dbbase/$urldb" --argstr sha256 "$(printf 0%.0s $(seq 64))" -A six >/dev/null 2>"$work/err"; then
  bad "wrong url db hash accepted"
elif grep -q "hash mismatch in file downloaded from '$dbbase/$urldb'" "$work/err" && grep -q "specified: sha256:" "$work/err"; then
  # builtins.fetchTarball names the URL, not the store path (nix/db.nix's name is not shown).
  ok "wrong url db hash: mismatch error names the DB's URL and both hashes"
else bad "wrong url db hash message" "$(cat "$work/err")"; fi
# A tarball whose pinion.db does not match its manifest is refused once, when it is unpacked.
mkdir -p "$work/baddb"
tar -xJf ../../sample/pinion-db.tar.xz -C "$work/baddb"
python3 - "$work/baddb/pinion-db/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["sha256"] = ("0" if m["sha256"][0] != "0" else "1") + m["sha256"][1:]
json.dump(m, open(sys.argv[1], "w"), indent=2, sort_keys=True)
PY
tar -cJf "$work/bad-db.tar.xz" -C "$work/baddb" pinion-db
if ev -E "{ db }: (import ./common.nix { inherit db; }).pinion.resolve { requirements = \"six\"; }" \
    --arg db "$work/bad-db.tar.xz" >/dev/null 2>"$work/err"; then
  bad "DB whose manifest sha256 does not match was accepted"
elif grep -q "but its manifest says" "$work/err"; then
  ok "DB tarball with a wrong manifest sha256: refused with a clear message"
else bad "DB tarball with a wrong manifest sha256" "$(cat "$work/err")"; fi
# A format 3 DB (a gzip tarball, members at the top) is refused, naming the format and the fix.
tar -czf "$work/old-db.tar.gz" -C "$work/baddb/pinion-db" manifest.json pinion.db
if ev -E "{ db }: (import ./common.nix { inherit db; }).pinion.resolve { requirements = \"six\"; }" \
    --arg db "$work/old-db.tar.gz" >/dev/null 2>"$work/err"; then
  bad "format 3 (gzip) DB tarball was accepted"
elif grep -q "gzip tarball, as published up to database format 3" "$work/err" && grep -q "hint: rebuild it" "$work/err"; then
  ok "format 3 (gzip) DB tarball: refused with a clear message"
else bad "format 3 (gzip) DB tarball message" "$(cat "$work/err")"; fi

section "what real nixpkgs does (stand-in, issue 11)"
wheelfile() { python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$1" "$2"; }
mkdir -p "$work/fx"
serve "$work/fx"
if python3 "$here/make-fixtures.py" "$work/fx" "http://127.0.0.1:$port" 2>"$work/err"; then
  fxlock="$work/fx/nixpkgs.lock.json"
  for a in build-tools aliases wheels lookup format to-python-module no-hard-failure cycles; do
    checks cases/nixpkgs.nix "$a" --argstr lock "$fxlock"
  done
  fails_with cases/nixpkgs-errors.nix to-python-module-misfit \
    'python.pkgs.gdal' 'no overridePythonAttrs' 'numpy 1.26.4' 'hint:'
  # lib.warn aborts under NIX_ABORT_ON_WARN; the lookup must not evaluate warning aliases.
  if NIX_ABORT_ON_WARN=1 ev -E '((import ./common.nix { }).pinion.mkPython { requirements = "requests"; }).drvPath' >/dev/null 2>"$work/err" \
    && ! grep -q "evaluation warning" "$work/err"; then
    ok "lookup: no warning and no abort under NIX_ABORT_ON_WARN=1"
  else bad "lookup under NIX_ABORT_ON_WARN=1" "$(cat "$work/err")"; fi
  fx() { nix-build --no-out-link --option allow-import-from-derivation false cases/nixpkgs-builds.nix --argstr lock "$fxlock" "$@"; }
  # The stand-in must fail where nixpkgs fails (builds as the pre-issue-11 library made them).
  fxfails() { # ATTR WHAT PATTERN
    if fx -A "standIn.$1" >/dev/null 2>"$work/build.log"; then bad "stand-in: $2 was accepted"
    elif grep -qF -- "$3" "$work/build.log"; then ok "stand-in fails like nixpkgs: $2"
    else bad "stand-in: $2" "$(cat "$work/build.log")"; fi
  }
  fxfails missingLibraries "autoPatchelf on a library of another wheel, libGL, libcuda" "could not satisfy dependency libdep.so.1 wanted by"
  fxfails runtimeDeps "runtime-deps check of a pyproject build missing a requirement" "six not installed"
  fxfails oldPackaging "runtime-deps hook over packaging 21.3 from packageOverrides" "cannot import name 'metadata' from 'packaging'"
  if stripped=$(fx -A standIn.stripped 2>"$work/build.log") \
    && ! cmp -s <(wheelfile "$work"/fx/wheels/binpkg-*.whl binpkg/_native.so) "$stripped/lib/python3.11/site-packages/binpkg/_native.so"; then
    ok "stand-in strips like nixpkgs: the wheel's _native.so changed without dontStrip"
  else bad "stand-in strip" "$(cat "$work/build.log")"; fi
  if env=$(fx -A env 2>"$work/build.log"); then
    ok "env with a binary wheel needing another wheel's library, manylinux libs and libcuda, an old packaging pin with a checked pyproject sdist, a requirements_known = false pyproject sdist and a runtime cycle built"
    if out=$("$env/bin/python" -c 'import binpkg, libdep, cyc_a, cyc_b, needsdep, checked, packaging; assert packaging.__version__ == "21.3", packaging.__version__; print(binpkg.NATIVE)' 2>&1); then
      ok "env imports all of them, with packaging 21.3"
      native=$(wheelfile "$work"/fx/wheels/binpkg-*.whl binpkg/_native.so | sha256sum)
      if [ "$(sha256sum <"$out")" = "$native" ]; then ok "binary wheel installed byte for byte (not stripped)"; else bad "binpkg/_native.so differs from the wheel's (stripped?)"; fi
    else bad "env imports" "$out"; fi
  else bad "env build (binary wheels, old packaging, requirements_known = false, cycle)" "$(grep -v '^auto-patchelf: .*found$' "$work/build.log")"; fi
  if fx -A testsOn >/dev/null 2>"$work/build.log"; then bad "tests = true: a wheel whose module fails to import was accepted"
  elif grep -q "importfails is broken on purpose" "$work/build.log"; then ok "tests = true: import check of a wheel's modules fails the build"
  else bad "tests = true import check" "$(cat "$work/build.log")"; fi
  if fx -A testsOff >/dev/null 2>"$work/build.log"; then ok "tests = false: no import check"; else bad "tests = false" "$(cat "$work/build.log")"; fi
else bad "make-fixtures.py" "$(cat "$work/err")"; fi

section "lock writing (mkLock) round trip"
if lockfile=$(nix-build --no-out-link cases/mklock.nix -A lock 2>"$work/err"); then
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["lock_version"]==1 and d["roots"]==["requests"], d' "$lockfile" 2>"$work/err"; then
    ok "mkLock writes a JSON lock"; else bad "mkLock output" "$(cat "$work/err")"; fi
  a=$(ev --option allow-import-from-derivation false cases/mklock.nix --argstr lock "$lockfile" -A fromLock 2>"$work/err") || bad "lock from mkLock without IFD" "$(cat "$work/err")"
  b=$(ev cases/mklock.nix -A viaIfd 2>"$work/err") || bad "IFD evaluation" "$(cat "$work/err")"
  if [ -n "${a:-}" ] && [ "$a" = "${b:-}" ]; then ok "same environment from the committed lock and through IFD"; else bad "lock vs IFD differ" "$a
$b"; fi
else bad "mkLock build" "$(cat "$work/err")"; fi

section "resolver runs without network"
"$here/no-network-test.sh" "$here/fake-resolver/bin/resolver" "$here/fixtures/universe.json" "six" >"$work/nonet.log" 2>&1 \
  && ok "resolve derivation cannot reach a loopback listener or the internet (fake resolver)" || bad "no-network (fake resolver)" "$(cat "$work/nonet.log")"

section "real resolver (import-from-derivation)"
# Release binaries (what CI builds) win over debug ones.
bin="$repo/target/release"; [ -x "$bin/resolver" ] || bin="$repo/target/debug"
resolver="${PINION_RESOLVER:-$bin/resolver}"
dbgen="${PINION_DBGEN:-$bin/dbgen}"
db="${PINION_DB:-$repo/sample/pinion-db.tar.xz}"
have_resolver=; [ -x "$resolver" ] && "$resolver" --help 2>&1 | grep -q -- --nixpkgs && have_resolver=1
if [ -n "$have_resolver" ] && [ -x "$dbgen" ] && "$dbgen" build --help 2>&1 | grep -q -- --state; then
  "$here/e2e-loopback-test.sh" "$dbgen" "$resolver" "$work/fixture-db.tar.xz" >"$work/e2e.log" 2>&1 \
    && ok "crawl state -> dbgen -> resolver (IFD) -> sandboxed build -> imports (loopback PyPI)" || bad "end-to-end over loopback PyPI" "$(cat "$work/e2e.log")"
  # Without the sample DB, the fixture DB the end-to-end test built serves the tests below.
  [ -f "$db" ] || db="$work/fixture-db.tar.xz"
elif [ -n "${PINION_REQUIRE_RESOLVER:-}" ]; then
  bad "end-to-end: need working $resolver and $dbgen"
else skip "end-to-end over loopback PyPI: $resolver or $dbgen missing/not working (cargo build -p resolver -p dbgen)"; fi
if [ -n "$have_resolver" ] && [ -f "$db" ]; then
  "$here/real-resolver-test.sh" "$resolver" "$db" >"$work/real.log" 2>&1 \
    && ok "mkPython/mkLock through the real resolver ($(basename "$db")), resolver errors surface" || bad "real resolver" "$(cat "$work/real.log")"
  "$here/no-network-test.sh" "$resolver" "$db" requests >"$work/nonet.log" 2>&1 \
    && ok "real resolver in the resolve derivation has no network" || bad "no-network (real resolver)" "$(cat "$work/nonet.log")"
elif [ -n "${PINION_REQUIRE_RESOLVER:-}" ]; then
  bad "real resolver tests: need $resolver and a DB ($db)"
else skip "real resolver tests: $resolver or $db missing"; fi

echo "== $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
