# Stand-in for poetry2nix's overrides file of the seed example: `{ pkgs }:` -> overlay.
{ pkgs }:
pythonSelf: pythonSuper: {
  imagecodecs = pythonSuper.imagecodecs.overridePythonAttrs (old: {
    nativeBuildInputs = (old.nativeBuildInputs or [ ]) ++ [ pkgs.autoPatchelfHook ];
  });
}
