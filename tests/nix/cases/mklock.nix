# mkLock writes a JSON lock; the same environment must come from it (without
# IFD) and from resolving directly (with IFD).
{
  lock ? null,
}:
let
  inherit (import ../common.nix { }) pinion;
  requirements = "requests==2.31.0";
in
{
  lock = pinion.mkLock { inherit requirements; };
  fromLock = (pinion.mkPython { inherit lock; }).drvPath;
  viaIfd = (pinion.mkPython { inherit requirements; }).drvPath;
}
