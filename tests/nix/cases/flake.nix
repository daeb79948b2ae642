# The flake's outputs, called with the nixpkgs stub as the `nixpkgs` input
# ({ expr; expected; } cases, see common.nix).
let
  flake = import ../../../flake.nix;
  stub = import ../../nixpkgs-stub { };
  nixpkgs = {
    legacyPackages.x86_64-linux = stub;
  };
  outputs = flake.outputs {
    self = outputs;
    inherit nixpkgs;
  };
  custom = outputs.lib.mkPinion {
    pkgs = stub;
    resolver = ../fake-resolver;
    db = ../fixtures/universe.json;
  };
  env = custom.mkPython { requirements = "six"; };
  functions = [
    "mkPython"
    "mkPythonShell"
    "buildPythonPackage"
    "buildPythonApplication"
    "resolve"
    "mkLock"
  ];
in
{
  checks = {
    "nixpkgs input is a github flake ref" = {
      expr = builtins.match "github:NixOS/nixpkgs/.*" flake.inputs.nixpkgs.url != null;
      expected = true;
      context = flake.inputs.nixpkgs.url;
    };
    "lib.<system> has the library functions" = {
      expr = map (n: builtins.typeOf (outputs.lib.x86_64-linux.${n} or null)) functions;
      expected = map (_: "lambda") functions;
      context = functions;
    };
    "lib.mkPinion with custom resolver/db works" = {
      expr = env.pinion.packages.six.version;
      expected = "1.16.0";
    };
    "packages.<system>.resolver built from this repo's Cargo.lock" = {
      expr = {
        inherit (outputs.packages.x86_64-linux.resolver) name;
        drvPath = builtins.typeOf outputs.packages.x86_64-linux.resolver.drvPath;
      };
      expected = {
        name = "pinion-resolver-0.1.0";
        drvPath = "string";
      };
    };
    "apps.<system>.resolver runs bin/resolver" = {
      expr =
        builtins.match "/nix/store/.*-pinion-resolver-0.1.0/bin/resolver" outputs.apps.x86_64-linux.resolver.program
        != null;
      expected = true;
      context = outputs.apps.x86_64-linux.resolver.program;
    };
  };
}
