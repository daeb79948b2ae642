# Seed page: "Include poetry2nix overrides" (everything from sdist, overrides from a file).
{
  pinion-src ? ../pinion-src,
}:
let
  pinion = import pinion-src { };
in
pinion.mkPython rec {

  requirements = ''
    # bunch of other requirements
    imagecodecs
  '';

  providers = {
    _default = "sdist";
  };

  # Use unstable channel
  pkgs = import <unstable> { };

  # Import overrides from poetry2nix
  # Caution! Use poetry2nix overrides only in `overrides_post`, not `overrides_pre`.
  overrides_post = [
    (import ./poetry2nix-overrides.nix { inherit pkgs; })
  ];
}
