{
  description = "pinion: reproducible Python environments for Nix, resolved offline against a compact PyPI metadata DB";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems =
        f:
        builtins.listToAttrs (
          map (system: {
            name = system;
            value = f system;
          }) systems
        );
      # Same arguments as `import ./. { ... }`: pkgs, python, db, resolver.
      mkPinion = args: import ./nix args;
      pinionFor = system: mkPinion { pkgs = nixpkgs.legacyPackages.${system}; };
    in
    {
      # `pinion.lib.x86_64-linux.mkPython { requirements = ...; }`, or
      # `pinion.lib.mkPinion { pkgs = ...; db = ...; }` for other arguments.
      lib = forAllSystems pinionFor // {
        inherit mkPinion;
      };

      packages = forAllSystems (system: rec {
        resolver = (pinionFor system).resolver;
        default = resolver;
      });

      # `nix run github:pinion-nix/pinion#resolver -- --db DB -r requirements.txt --format json -o pinion.lock.json`
      apps = forAllSystems (system: rec {
        resolver = {
          type = "app";
          program = "${self.packages.${system}.resolver}/bin/resolver";
        };
        default = resolver;
      });
    };
}
