# Stand-in for the small part of nixpkgs the pinion library uses, so the library
# can be evaluated and really built in a sandbox without downloading nixpkgs.
# Imported like nixpkgs: `import ./tests/nixpkgs-stub { }`. Each attribute and
# the real nixpkgs signature it follows is documented in README.md.
# Builders run the host's /bin/sh and /usr/bin/python3 (made visible in the
# sandbox by tests/nix/setup-nix.sh); real nixpkgs never does that.
{
  system ? builtins.currentSystem,
  config ? { },
  overlays ? [ ],
}:
let
  lib = import ./lib.nix;
  hostPath = "/usr/bin:/bin";

  # stdenv.mkDerivation: `buildCommand` if given, else the phases below, run by
  # the host shell; `passthru` is kept out of the environment.
  mkDerivation =
    attrs:
    let
      name = attrs.name or "${attrs.pname}-${attrs.version}";
      env = builtins.removeAttrs attrs [
        "passthru"
        "meta"
        "name"
      ];
      drv = derivation (
        env
        // {
          inherit name system;
          builder = "/bin/sh";
          args = [
            "-e"
            ./builder.sh
          ];
          PATH = hostPath;
        }
      );
    in
    drv
    // (attrs.passthru or { })
    // {
      meta = attrs.meta or { };
      overrideAttrs = f: mkDerivation (attrs // (f attrs));
    };

  runCommand =
    name: env: buildCommand:
    mkDerivation (env // { inherit name buildCommand; });

  python = import ./python.nix {
    inherit
      lib
      mkDerivation
      runCommand
      config
      ;
  };

  basePkgs = self: {
    inherit lib system config;
    stdenv = {
      inherit mkDerivation;
      hostPlatform = { inherit system; };
      shell = "/bin/sh";
      # The C++ runtime (libstdc++, libgcc_s) nixpkgs' gcc provides, taken from the host.
      cc.cc.lib = runCommand "gcc-lib" { } ''
        mkdir -p "$out/lib"
        for l in libstdc++.so.6 libgcc_s.so.1; do ln -s "/usr/lib/x86_64-linux-gnu/$l" "$out/lib/$l"; done
      '';
    };
    inherit runCommand;
    # The builtin fetcher needs no tools and runs outside the build sandbox.
    fetchurl =
      {
        url,
        sha256 ? "",
        hash ? "",
        name ? baseNameOf url,
        ...
      }:
      import <nix/fetchurl.nix> {
        inherit
          url
          sha256
          hash
          name
          ;
      };
    mkShell =
      {
        name ? "nix-shell",
        packages ? [ ],
        buildInputs ? [ ],
        nativeBuildInputs ? [ ],
        shellHook ? "",
        passthru ? { },
        ...
      }@attrs:
      mkDerivation (
        (builtins.removeAttrs attrs [ "packages" ])
        // {
          inherit name passthru shellHook;
          buildInputs = packages ++ buildInputs;
          buildCommand = ''echo "$buildInputs $nativeBuildInputs" > "$out"'';
        }
      );
    # auto-patchelf.sh: sourced as a setup hook; checks DT_NEEDED of the output's
    # ELF files after the fixup phase (see auto-patchelf.py).
    autoPatchelfHook = runCommand "auto-patchelf-hook" { } ''
      mkdir -p "$out/nix-support"
      cat > "$out/nix-support/setup-hook" <<'HOOK'
      autoPatchelfLibs=""
      for dep in $buildInputs $runtimeDependencies; do autoPatchelfLibs="$autoPatchelfLibs $dep/lib"; done
      # Adds every directory under the arguments that holds a shared library.
      addAutoPatchelfSearchPath() {
        for dir in $(find "$@" -type f \( -name '*.so' -o -name '*.so.*' \) -printf '%h\n' | sort -u); do
          autoPatchelfLibs="$autoPatchelfLibs $dir"
        done
      }
      postFixupHooks="$postFixupHooks
      /usr/bin/python3 ${./auto-patchelf.py} \"\$out\" --libs \$autoPatchelfLibs --ignore-missing \''${autoPatchelfIgnoreMissingDeps:-}"
      HOOK
    '';
    # python-packages-base / manylinux: the libraries a manylinux2014 wheel may link
    # without vendoring them (PEP 599), as one package of empty named stand-ins.
    pythonManylinuxPackages.manylinux2014 = [
      (runCommand "manylinux2014-libs" { } ''
        mkdir -p "$out/lib"
        for l in libgcc_s.so.1 libstdc++.so.6 libm.so.6 libdl.so.2 librt.so.1 libc.so.6 libnsl.so.1 libutil.so.1 \
          libpthread.so.0 libresolv.so.2 libX11.so.6 libXext.so.6 libXrender.so.1 libICE.so.6 libSM.so.6 \
          libGL.so.1 libgobject-2.0.so.0 libgthread-2.0.so.0 libglib-2.0.so.0; do : > "$out/lib/$l"; done
      '')
    ];
    rustPlatform.buildRustPackage =
      {
        pname,
        version,
        src,
        cargoLock,
        ...
      }@attrs:
      assert builtins.pathExists cargoLock.lockFile;
      mkDerivation (
        (builtins.removeAttrs attrs [ "cargoLock" ])
        // {
          buildCommand = ''
            echo "nixpkgs-stub: cannot build Rust crates (no toolchain in the stub); pass a prebuilt resolver = ..." >&2
            exit 1
          '';
        }
      );

    python3 = self.python311;
    python311 = python.mkInterpreter { version = "3.11.2"; };
    # Evaluation-only: lets the seed's `pkgs.python36` example evaluate; building it
    # would still run the host's 3.11.
    python36 = python.mkInterpreter { version = "3.6.15"; };
  };
in
lib.fix (lib.extends (lib.composeManyExtensions overlays) basePkgs)
