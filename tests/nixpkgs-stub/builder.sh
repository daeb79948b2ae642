# Generic builder of the nixpkgs stub's mkDerivation (run by the host's /bin/sh).
# Models stdenv's setup.sh where pinion depends on it: setup hooks of
# nativeBuildInputs are sourced, the fixup phase strips debug info from ELF files
# under lib/ and bin/ unless dontStrip is set (strip.sh), then postFixup (where
# autoPatchelfHook registers itself) runs, then installCheckPhase if doInstallCheck.
export HOME="$TMPDIR"
cd "$TMPDIR"
postFixupHooks=""
for dep in $nativeBuildInputs; do
  if [ -f "$dep/nix-support/setup-hook" ]; then . "$dep/nix-support/setup-hook"; fi
done
if [ -n "${buildCommand:-}" ]; then
  eval "$buildCommand"
else
  eval "${buildPhase:-}"
  eval "${installPhase:-}"
  eval "${postInstall:-}"
  eval "${preFixup:-}"
  if [ -z "${dontStrip:-}" ]; then
    for dir in "$out/lib" "$out/bin"; do
      [ -d "$dir" ] || continue
      find "$dir" -type f | while read -r f; do
        if [ "$(head -c 4 "$f" | tail -c 3)" = ELF ]; then /usr/bin/strip -S "$f"; fi
      done
    done
  fi
  eval "$postFixupHooks"
  eval "${postFixup:-}"
  if [ -n "${doInstallCheck:-}" ]; then
    # python's setup hook puts the inputs' site-packages on PYTHONPATH.
    export PYTHONPATH="${pinionStubBuildPath:-}"
    eval "${installCheckPhase:-}"
  fi
fi
