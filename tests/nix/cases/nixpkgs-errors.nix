# Stand-in cases that must fail evaluation with a clear message (run.sh checks it).
let
  inherit (import ../common.nix { }) pinion;
  realLock = builtins.fromJSON (builtins.readFile ../fixtures/real.lock.json.in);
  entry =
    name: version: rest:
    {
      inherit name version;
      display_name = name;
      build_dependencies = [ ];
      extras = [ ];
      requirements_known = true;
    }
    // rest;
in
{
  # nixpkgs' gdal (toPythonModule, no overridePythonAttrs) with a numpy other than its own.
  to-python-module-misfit =
    (pinion.mkPython {
      lock = realLock // {
        roots = [ "gdal" ];
        packages = {
          gdal = entry "gdal" "3.8.4" {
            provider = "nixpkgs";
            format = "nixpkgs";
            source.attr = "gdal";
            dependencies = [ "numpy" ];
          };
          numpy = entry "numpy" "2.0.0" {
            provider = "wheel";
            format = "wheel";
            dependencies = [ ];
            source = {
              url = "http://127.0.0.1:1/numpy-2.0.0-py3-none-any.whl";
              sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
              filename = "numpy-2.0.0-py3-none-any.whl";
            };
          };
        };
      };
    }).drvPath;
}
