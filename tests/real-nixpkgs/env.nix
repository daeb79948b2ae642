# The environment the real-nixpkgs job builds: numpy and opencv-python as binary wheels
# (opencv-python needs manylinux system libraries), requests (pure wheel) and flit-core built
# from its sdist (a bootstrap build backend nixpkgs' own hooks also use).
# `lock`: a JSON lock from `mkLock` (then no import-from-derivation); `peer`: the same
# packages straight from nixpkgs, for evaluation-time ratios.
{
  pinion-src,
  lock ? null,
  peer ? false,
}:
let
  pinion = import pinion-src { };
  pkgs = import <nixpkgs> { };
  args = {
    requirements = ''
      numpy
      requests
      flit-core
      opencv-python
    '';
    providers = {
      flit-core = "sdist";
      opencv-python = "wheel";
    };
  };
in
if peer then
  pkgs.python3.withPackages (ps: [
    ps.numpy
    ps.requests
    ps.flit-core
    ps.opencv4
  ])
else
  pinion.mkPython (args // (if lock == null then { } else { inherit lock; }))
  // {
    lockFile = pinion.mkLock args;
  }
