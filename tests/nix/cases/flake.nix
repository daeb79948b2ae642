# The flake's outputs, called with the nixpkgs stub as the `nixpkgs` input.
let
  flake = import ../../../flake.nix;
  stub = import ../../nixpkgs-stub { };
  nixpkgs = { legacyPackages.x86_64-linux = stub; };
  outputs = flake.outputs { self = outputs; inherit nixpkgs; };
  t = what: ok: { inherit what ok; };
  custom = outputs.lib.mkPinion { pkgs = stub; resolver = ../fake-resolver; db = ../fixtures/universe.json; };
  env = custom.mkPython { requirements = "six"; };
in
{
  checks = [
    (t "nixpkgs input is a github flake ref" (builtins.match "github:NixOS/nixpkgs/.*" flake.inputs.nixpkgs.url != null))
    (t "lib.<system> has the library functions" (builtins.all (n: builtins.isFunction outputs.lib.x86_64-linux.${n}) [ "mkPython" "mkPythonShell" "buildPythonPackage" "buildPythonApplication" "resolve" "mkLock" ]))
    (t "lib.mkPinion with custom resolver/db works" (env.pinion.packages.six.version == "1.16.0"))
    (t "packages.<system>.resolver built from this repo's Cargo.lock" (outputs.packages.x86_64-linux.resolver.name == "pinion-resolver-0.1.0" && builtins.isString outputs.packages.x86_64-linux.resolver.drvPath))
    (t "apps.<system>.resolver runs bin/resolver" (builtins.match "/nix/store/.*-pinion-resolver-0.1.0/bin/resolver" outputs.apps.x86_64-linux.resolver.program != null))
  ];
}
