#!/usr/bin/env bash
# The seed usage page's examples (tests/nix/seed/*.nix, unchanged) on real nixpkgs: the ones a
# current nixpkgs can build are built and run; the ones written for long-gone nixpkgs/PyPI
# states must fail at evaluation with a message that names what to change.
# Needs PINION_NIXPKGS (else skipped) and a DB from db.sh in PINION_DB (see lib.sh).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
rn_require_nixpkgs seed.sh
rn_seed="$rn_repo/tests/nix/seed"
src="$rn_work/pinion-src"
log="$rn_work/log"

# build NAME FILE [nix-build args...]: builds into $rn_work/NAME.
build() {
  local name="$1" file="$2"; shift 2
  if nix-build "$file" --arg pinion-src "$src" -o "$rn_work/$name" "$@" >"$log" 2>&1; then
    rn_ok "$name: builds"
  else
    rn_bad "$name: nix-build failed" "$log"; return 1
  fi
}

# runs NAME COMMAND...: the command must succeed.
runs() {
  local what="$1"; shift
  if "$@" >"$log" 2>&1; then rn_ok "$what"; else rn_bad "$what" "$log"; fi
}

# fails_with NAME FILE PATTERN...: instantiation must fail with a message containing every PATTERN.
fails_with() {
  local name="$1" file="$2"; shift 2
  if nix-instantiate "$file" --arg pinion-src "$src" >"$log" 2>&1; then
    rn_bad "$name: instantiated, but this example cannot work on current nixpkgs/PyPI"; return
  fi
  for pattern in "$@"; do
    grep -qF -- "$pattern" "$log" || { rn_bad "$name: failed without saying \`$pattern\`" "$log"; return; }
  done
  rn_ok "$name: fails at evaluation saying: $*"
}

instantiates() {
  local name="$1" file="$2"; shift 2
  if nix-instantiate "$file" --arg pinion-src "$src" "$@" >"$log" 2>&1; then
    rn_ok "$name: instantiates ($(tail -1 "$log"))"
  else
    rn_bad "$name: nix-instantiate failed" "$log"
  fi
}

rn_section "mkPython / mkPythonShell (requests==2.31.0, six)"
if build mkpython "$rn_seed/mkpython.nix"; then
  runs "mkpython: imports requests 2.31.0 and six" "$rn_work/mkpython/bin/python" -c \
    'import requests, six; assert requests.__version__ == "2.31.0", requests.__version__'
fi
runs "mkpythonshell: nix-shell provides the environment" nix-shell "$rn_seed/mkpython.nix" \
  --arg pinion-src "$src" --arg shell true --run \
  'python -c "import requests, six; assert requests.__version__ == \"2.31.0\""'

rn_section "buildPythonPackage / buildPythonApplication (tests/nix/seed/project)"
for application in false true; do
  if build "bpp-$application" "$rn_seed/buildpythonpackage.nix" --arg application "$application"; then
    runs "bpp-$application: my_package installed" \
      sh -c "ls '$rn_work/bpp-$application'/lib/python3*/site-packages/my_package/__init__.py"
  fi
done
# The package is importable together with its resolved requirements.
expr="let p = import $rn_seed/buildpythonpackage.nix { pinion-src = $src; };
      in p.pythonPackages.python.withPackages (_: [ p ])"
if nix-build -E "$expr" -o "$rn_work/bpp-env" >"$log" 2>&1; then
  runs "bpp: my_package and requests import in python.withPackages" \
    "$rn_work/bpp-env/bin/python" -c 'import my_package, requests'
else
  rn_bad "bpp: python.withPackages of the package failed" "$log"
fi

rn_section "buildPythonPackage from git (a local repository)"
git init -q -b master "$rn_work/git"
cp -r "$rn_seed/project/setup.py" "$rn_seed/project/my_package" "$rn_work/git/"
echo six >"$rn_work/git/requirements.txt"
git -C "$rn_work/git" add -A
git -C "$rn_work/git" -c user.email=ci@example.org -c user.name=ci commit -qm init
if build github "$rn_seed/github.nix" --argstr gitUrl "file://$rn_work/git"; then
  runs "github: my_package installed" \
    sh -c "ls '$rn_work/github'/lib/python3*/site-packages/my_package/__init__.py"
fi

rn_section "examples needing large or historical builds: evaluated, not built"
# tensorflow taken from nixpkgs: evaluation proves the nixpkgs provider path on real nixpkgs;
# building it is hours of CPU (or a cache hit we do not control).
instantiates tensorflow-nixpkgs "$rn_seed/tensorflow-nixpkgs.nix"
# imagecodecs and everything else from sdists, poetry2nix-style overrides in overrides_post.
instantiates poetry2nix "$rn_seed/poetry2nix.nix"
# Written for 2020: python36 is gone from nixpkgs, and tensorflow 2.2.0rc4 has wheels for
# CPython <= 3.8 only. Both must stop with a message naming the culprit.
fails_with pytorch "$rn_seed/pytorch.nix" python36
# The resolver (its derivation logs "pinion: resolving") must be what stops, naming tensorflow.
fails_with tensorflow-wheel "$rn_seed/tensorflow-wheel.nix" "pinion: resolving" "tensorflow"

rn_summary
