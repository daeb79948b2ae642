# Seed page: "Recent PyTorch with nixpkgs dependencies, overlays, and custom python".
{
  pinion-src ? ../pinion-src,
}:
let
  pinion = import pinion-src { };
  overlays = [ ]; # some very useful overlays
in
pinion.mkPython rec {

  requirements = ''
    # bunch of other requirements
    requests
    torch == 1.5.0
  '';

  providers = {
    # disallow wheels by default
    _default = "nixpkgs,sdist";
    # allow wheels only for torch
    torch = "wheel";
  };

  # Include my own overlay.
  pkgs = import <nixpkgs> {
    config = {
      allowUnfree = true;
    };
    inherit overlays;
  };

  # Select custom python version (Must be taken from pkgs with the overlay applied)
  python = pkgs.python36;
}
