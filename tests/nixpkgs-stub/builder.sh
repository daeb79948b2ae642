# Generic builder of the nixpkgs stub's mkDerivation (run by the host's /bin/sh).
export HOME="$TMPDIR"
cd "$TMPDIR"
if [ -n "${buildCommand:-}" ]; then
  eval "$buildCommand"
else
  eval "${buildPhase:-}"
  eval "${installPhase:-}"
  eval "${postInstall:-}"
fi
