# Real sandboxed builds of the stand-in fixtures (make-fixtures.py, served on loopback).
{ lock }:
let
  inherit (import ../common.nix { }) pinion pkgs;
  l = builtins.fromJSON (builtins.readFile lock);
  fetch =
    p:
    pkgs.fetchurl {
      inherit (p.source) url sha256;
      name = p.source.filename;
    };
  ps = pkgs.python3.pkgs;
  wheel =
    name: attrs:
    ps.buildPythonPackage (
      {
        pname = name;
        inherit (l.packages.${name}) version;
        format = "wheel";
        src = fetch l.packages.${name};
      }
      // attrs
    );
  libdep = wheel "libdep" { };
in
{
  # The stand-in alone, built the way the library did before issue 11: each must fail
  # the way nixpkgs fails (run.sh checks the messages).
  standIn = {
    missingLibraries = wheel "binpkg" {
      nativeBuildInputs = [ pkgs.autoPatchelfHook ];
      buildInputs = [ pkgs.stdenv.cc.cc.lib ];
      propagatedBuildInputs = [ libdep ];
    };
    stripped = wheel "binpkg" { dontStrip = false; };
    runtimeDeps = ps.buildPythonPackage {
      pname = "needsdep";
      version = "1.0";
      format = "pyproject";
      src = fetch l.packages.needsdep;
      nativeBuildInputs = [
        ps.setuptools
        ps.wheel
      ];
    };
    oldPackaging =
      (pkgs.python3.override { packageOverrides = self: super: { packaging = wheel "packaging" { }; }; })
      .pkgs.buildPythonPackage
        {
          pname = "needsdep";
          version = "1.0";
          format = "pyproject";
          src = fetch l.packages.needsdep;
          nativeBuildInputs = [
            ps.setuptools
            ps.wheel
          ];
          propagatedBuildInputs = [ ps.six ];
        };
  };
  env = pinion.mkPython { inherit lock; };
  testsOn = pinion.mkPython {
    lock = l // {
      roots = [ "importfails" ];
    };
    tests = true;
  };
  testsOff = pinion.mkPython {
    lock = l // {
      roots = [ "importfails" ];
    };
  };
}
