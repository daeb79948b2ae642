# Real sandboxed builds of the stand-in fixtures (make-fixtures.py, served on loopback).
{ lock }:
let
  inherit (import ../common.nix { }) pinion;
  l = builtins.fromJSON (builtins.readFile lock);
in
{
  env = pinion.mkPython { inherit lock; };
  testsOn = pinion.mkPython { lock = l // { roots = [ "importfails" ]; }; tests = true; };
  testsOff = pinion.mkPython { lock = l // { roots = [ "importfails" ]; }; };
}
