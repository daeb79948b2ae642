# Real builds from a lock file (run.sh points its URLs at a loopback server).
{ lock }:
let
  inherit (import ../common.nix { }) pinion pkgs;
  package = pinion.buildPythonPackage {
    pname = "my-package";
    version = "1.0.0";
    src = ../seed/project;
    inherit lock;
  };
in
{
  env = pinion.mkPython { inherit lock; };
  shell = pinion.mkPythonShell { inherit lock; };
  inherit package;
  packageEnv = pkgs.python3.withPackages (ps: [ package ]);
}
