# Shared setup of the Nix tests: the nixpkgs stub and pinion instances over it.
{ resolver ? ./fake-resolver, db ? ./fixtures/universe.json }:
rec {
  pkgs = import ../nixpkgs-stub { };
  pinion = import ../.. { inherit pkgs resolver db; };
}
