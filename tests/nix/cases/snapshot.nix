# User-visible structure of mkPython results (`passthru.pinion`), compared by
# run.sh with tests/nix/expected/<name>.json.
let
  inherit (import ../common.nix { }) pinion pkgs;
in
{
  requests = (pinion.mkPython { requirements = "requests==2.31.0"; }).pinion;

  # Providers, both override lists and their order on one environment.
  overrides =
    (pinion.mkPython {
      requirements = "requests==2.31.0";
      providers = {
        certifi = "nixpkgs";
      };
      # overrides_pre change what nixpkgs offers to the resolver: certifi 2099.1.1.
      overrides_pre = [
        (self: super: {
          certifi = super.certifi.overridePythonAttrs (old: {
            version = "2099.1.1";
          });
        })
      ];
      overrides_post = [
        (self: super: {
          urllib3 = super.urllib3.overridePythonAttrs (old: {
            doCheck = true;
          });
        })
        (self: super: {
          idna = super.idna.overridePythonAttrs (old: {
            postInstall = "echo second";
          });
        })
      ];
    }).pinion;
}
