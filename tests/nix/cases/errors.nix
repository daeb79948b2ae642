# Expressions that must fail evaluation; run.sh checks each error message.
let
  inherit (import ../common.nix { }) pinion pkgs;
  force = r: builtins.seq r.drvPath r.drvPath;
in
{
  unknown-provider = force (
    pinion.mkPython {
      requirements = "requests";
      providers = {
        requests = "wheel,conda";
      };
    }
  );
  unknown-default-provider = force (
    pinion.mkPython {
      requirements = "requests";
      providers = {
        _default = "pip";
      };
    }
  );
  missing-requirements = force (pinion.mkPython { providers = { }; });
  requirements-not-string = force (pinion.mkPython { requirements = [ "six" ]; });
  unknown-argument = force (
    pinion.mkPython {
      requirements = "requests";
      requirement = "six";
    }
  );
  unresolvable = force (pinion.mkPython { requirements = "definitely-not-on-pypi==1.0"; });
  wrong-db-hash = force (
    (import ../../.. {
      inherit pkgs;
      resolver = ../fake-resolver;
      db = {
        path = ../fixtures/universe.json;
        sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
      };
    }).mkPython
      { requirements = "requests"; }
  );
  missing-db = force (
    (import ../../.. {
      inherit pkgs;
      resolver = ../fake-resolver;
      db = {
        path = "tests/nix/fixtures/no-such-db.tar.xz";
      };
    }).mkPython
      { requirements = "six"; }
  );
  lock-wrong-python = force (
    pinion.mkPython {
      lock = (builtins.fromJSON (builtins.readFile ../fixtures/real.lock.json.in)) // {
        target = {
          python = "3.10.4";
          system = "x86_64-linux";
          exclude_newer = null;
        };
      };
    }
  );
  lock-wrong-version = force (
    pinion.mkPython {
      lock = {
        lock_version = 2;
      };
    }
  );
  nixpkgs-attr-missing = force (
    pinion.mkPython {
      lock = (builtins.fromJSON (builtins.readFile ../fixtures/real.lock.json.in)) // {
        roots = [ "foo" ];
        packages.foo = {
          name = "foo";
          display_name = "foo";
          version = "1";
          provider = "nixpkgs";
          format = "nixpkgs";
          source.attr = "foo_nonexistent";
          dependencies = [ ];
          build_dependencies = [ ];
          extras = [ ];
          requirements_known = true;
        };
      };
    }
  );
}
