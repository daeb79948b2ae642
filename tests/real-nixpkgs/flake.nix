# CI-only pins of real nixpkgs for tests/real-nixpkgs/*.sh (the root flake stays a plain library
# flake whose `inputs.nixpkgs` users can `follows`). Nothing here is built: `sources` are the
# two nixpkgs trees, handed to the scripts as PINION_NIXPKGS (see README.md).
{
  description = "pinion CI: pinned real nixpkgs (current stable and unstable)";

  inputs = {
    # Channel tarball: the nixos-26.05 channel (Hydra-tested), locked to an immutable release URL.
    nixos-stable.url = "https://channels.nixos.org/nixos-26.05/nixexprs.tar.xz";
    nixos-unstable.url = "github:NixOS/nixpkgs/nixos-unstable";
  };

  outputs =
    { nixos-stable, nixos-unstable, ... }:
    {
      sources = {
        stable = nixos-stable.outPath;
        unstable = nixos-unstable.outPath;
      };
    };
}
