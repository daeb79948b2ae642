# Seed page: "Tensorflow via wheel (newer versions, quicker builds)" with an overrides_post fix.
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
    tensorflow == 2.2.0rc4
  '';

  # no need to specify provider settings since wheel is the default anyways

  # Fix the tensorflow wheel
  overrides_post = [
    (pythonSelf: pythonSuper: {
      tensorflow = pythonSuper.tensorflow.overridePythonAttrs (oldAttrs: {
        postInstall = ''
          rm $out/bin/tensorboard
        '';
      });
    })
  ];
}
