# A DB given as { url; sha256; } (fetched with pkgs.fetchurl).
{ url, sha256 }:
let
  pkgs = import ../../nixpkgs-stub { };
  pinion = import ../../.. {
    inherit pkgs;
    resolver = ../fake-resolver;
    db = { inherit url sha256; };
  };
in
{
  six = (pinion.mkPython { requirements = "six"; }).pinion.packages.six.version;
}
