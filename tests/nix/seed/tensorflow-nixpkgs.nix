# Seed page: "Tensorflow with SSE/AVX/FMA support" (tensorflow forced from nixpkgs).
{
  pinion-src ? ../pinion-src,
}:
let
  pinion = import pinion-src { };
in
pinion.mkPython {

  requirements = ''
    # bunch of other requirements
    requests
    tensorflow
  '';

  providers = {
    # force tensorflow to be taken from nixpkgs
    tensorflow = "nixpkgs";
  };
}
