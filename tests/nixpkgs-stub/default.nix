# Stand-in for the small part of nixpkgs the pinion library uses, so the library
# can be evaluated and really built in a sandbox without downloading nixpkgs.
# Imported like nixpkgs: `import ./tests/nixpkgs-stub { }`. Each attribute and
# the real nixpkgs signature it follows is documented in README.md.
# Builders run the host's /bin/sh and /usr/bin/python3 (made visible in the
# sandbox by tests/nix/setup-nix.sh); real nixpkgs never does that.
{ system ? builtins.currentSystem, config ? { }, overlays ? [ ] }:
let
  lib = import ./lib.nix;
  hostPath = "/usr/bin:/bin";

  # stdenv.mkDerivation: `buildCommand` if given, else the phases below, run by
  # the host shell; `passthru` is kept out of the environment.
  mkDerivation = attrs:
    let
      name = attrs.name or "${attrs.pname}-${attrs.version}";
      env = builtins.removeAttrs attrs [ "passthru" "meta" "name" ];
      drv = derivation (env // {
        inherit name system;
        builder = "/bin/sh";
        args = [ "-e" ./builder.sh ];
        PATH = hostPath;
      });
    in
    drv // (attrs.passthru or { }) // {
      overrideAttrs = f: mkDerivation (attrs // (f attrs));
    };

  runCommand = name: env: buildCommand: mkDerivation (env // { inherit name buildCommand; });

  python = import ./python.nix { inherit lib mkDerivation runCommand; };

  basePkgs = self: {
    inherit lib system config;
    stdenv = {
      inherit mkDerivation;
      hostPlatform = { inherit system; };
      shell = "/bin/sh";
    };
    inherit runCommand;
    # The builtin fetcher needs no tools and runs outside the build sandbox.
    fetchurl = { url, sha256 ? "", hash ? "", name ? baseNameOf url, ... }:
      import <nix/fetchurl.nix> { inherit url sha256 hash name; };
    mkShell = { name ? "nix-shell", packages ? [ ], buildInputs ? [ ], nativeBuildInputs ? [ ], shellHook ? "", passthru ? { }, ... }@attrs:
      mkDerivation ((builtins.removeAttrs attrs [ "packages" ]) // {
        inherit name passthru shellHook;
        buildInputs = packages ++ buildInputs;
        buildCommand = ''echo "$buildInputs $nativeBuildInputs" > "$out"'';
      });
    # Marker only: the stub never patches ELF files; builds that need it are
    # recorded (the library adds it for *linux* wheels) and the marker is checked by tests.
    autoPatchelfHook = runCommand "auto-patchelf-hook" { } ''mkdir -p "$out/nix-support"'';
    rustPlatform.buildRustPackage = { pname, version, src, cargoLock, ... }@attrs:
      assert builtins.pathExists cargoLock.lockFile;
      mkDerivation ((builtins.removeAttrs attrs [ "cargoLock" ]) // {
        buildCommand = ''
          echo "nixpkgs-stub: cannot build Rust crates (no toolchain in the stub); pass a prebuilt resolver = ..." >&2
          exit 1
        '';
      });

    python3 = self.python311;
    python311 = python.mkInterpreter { version = "3.11.2"; };
    # Evaluation-only: lets the seed's `pkgs.python36` example evaluate; building it
    # would still run the host's 3.11.
    python36 = python.mkInterpreter { version = "3.6.15"; };
  };
in
lib.fix (lib.extends (lib.composeManyExtensions overlays) basePkgs)
