# Evaluations that must succeed with a warning on stderr (checked by run.sh).
let
  inherit (import ../common.nix { }) pinion;
  lock = builtins.fromJSON (builtins.readFile ../fixtures/real.lock.json.in);
in
{
  unknown-requirements =
    (pinion.mkPython {
      lock = lock // {
        packages = lock.packages // {
          tomli = lock.packages.tomli // {
            requirements_known = false;
          };
        };
      };
    }).drvPath;
}
