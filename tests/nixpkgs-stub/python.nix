# The stub's Python: interpreter attrs, a package set built as a fixed point
# (like nixpkgs' python.pkgs with packageOverrides), buildPythonPackage with
# nixpkgs' hook selection, and withPackages/buildEnv. The interpreter is the
# host's /usr/bin/python3. README.md names the nixpkgs file each part models.
{
  lib,
  mkDerivation,
  runCommand,
  config,
}:
let
  hostPython = "/usr/bin/python3";
  install = ./install.py;

  # nixpkgs' requiredPythonModules: the propagated closure of Python modules.
  requiredPythonModules =
    drvs:
    map (x: x.drv) (
      builtins.genericClosure {
        startSet = map (drv: {
          key = drv.outPath;
          inherit drv;
        }) (builtins.filter (d: d ? pythonModule) drvs);
        operator =
          item:
          map
            (drv: {
              key = drv.outPath;
              inherit drv;
            })
            (
              builtins.filter (d: d ? pythonModule) (
                (item.drv.propagatedBuildInputs or [ ]) ++ (item.drv.dependencies or [ ])
              )
            );
      }
    );

  # A setup hook: a derivation whose nix-support/setup-hook the builder sources
  # (stdenv does this for every nativeBuildInputs entry).
  mkHook =
    name: script: env:
    runCommand name
      (
        env
        // {
          inherit script;
          passAsFile = [ "script" ];
        }
      )
      ''
        mkdir -p "$out/nix-support"
        cp "$scriptPath" "$out/nix-support/setup-hook"
      '';

  # nixpkgs' top-level python-packages.nix bootstrap set: the tools the hooks of
  # bootstrap packages use; plain derivations, never replaced by packageOverrides.
  bootstrapTool =
    sitePackages: pname: version:
    mkDerivation {
      name = "python-bootstrap-${pname}-${version}";
      inherit pname version;
      format = "stub";
      pinionStubSitePackages = sitePackages;
      buildPhase = "${hostPython} ${install}";
    };

  # `with self` aliases as nixpkgs' python-aliases.nix writes them, an attribute that
  # aborts (uncatchable by tryEval), warning aliases (lib.warn at evaluation,
  # warnOnInstantiate-like at instantiation) and a removed-package throw.
  aliases = self: super: {
    Six = self.six;
    PyYAML = self.pyyaml_6;
    removed-package = throw "removed-package has been removed";
    broken-abort = abort "broken-abort: this attribute aborts evaluation (models an uncatchable failure in python.pkgs)";
    old-requests = lib.warn "old-requests has been renamed to requests" self.requests;
    requests-warn-on-instantiate = self.requests // {
      drvPath = lib.warn "requests-warn-on-instantiate was renamed to requests" self.requests.drvPath;
    };
  };

  mkInterpreter =
    {
      version,
      packageOverrides ? (_: _: { }),
      onBuild ? false,
      overridden ? false,
    }:
    let
      pythonVersion = builtins.concatStringsSep "." (
        builtins.genList (builtins.elemAt (builtins.filter builtins.isString (builtins.split "\\." version))) 2
      );
      sitePackages = "lib/python${pythonVersion}/site-packages";

      interpreter = runCommand "python3-${version}" { } ''
        mkdir -p "$out/bin"
        ln -s ${hostPython} "$out/bin/python3"
        ln -s ${hostPython} "$out/bin/python"
      '';

      # passthrufun.nix: `pythonOnBuildForHost = pythonOnBuildForHost.override {
      # inherit packageOverrides; ... }`, so overrides reach the build-time set too.
      # Native build: pkgsBuildHost.python3 is python3 itself until it is overridden.
      pythonOnBuildForHost =
        if onBuild || !overridden then
          python
        else
          mkInterpreter {
            inherit version packageOverrides;
            onBuild = true;
          };
      buildSet = pythonOnBuildForHost.pkgs;

      # hooks/default.nix: each hook takes its tool from pythonOnBuildForHost.pkgs;
      # bootstrap packages get the same hooks over `bootstrap` tools instead.
      installHook = installer: mkHook "pypa-install-hook" "pinionStubInstaller=${installer}" { };
      buildHook = build: wheel: mkHook "pypa-build-hook" "pinionStubBuild=\"${build} ${wheel}\"" { };
      runtimeDepsHook =
        packaging:
        mkHook "python-runtime-deps-check-hook" ''
          if [ -z "''${dontCheckRuntimeDeps:-}" ]; then export pinionStubPackaging=${packaging}; fi
        '' { };
      setuptoolsBuildHook =
        mkHook "setuptools-build-hook" "pinionStubSetuptools=\"${buildSet.setuptools} ${buildSet.wheel}\""
          { };
      bootstrapInstallHook = installHook buildSet.bootstrap.installer;

      # mk-python-derivation.nix
      buildPythonPackage =
        attrs@{
          pname,
          version,
          format ? null,
          pyproject ? null,
          src ? null,
          propagatedBuildInputs ? [ ],
          dependencies ? [ ],
          nativeBuildInputs ? [ ],
          build-system ? [ ],
          buildInputs ? [ ],
          disabled ? false,
          catchConflicts ? true,
          doCheck ? false,
          passthru ? { },
          ...
        }:
        let
          name = "${pname}-${version}";
          format' =
            if pyproject != null then
              (if pyproject then "pyproject" else "other")
            else if format != null then
              format
            else
              throw "${name} does not configure a `format`. To build with setuptools as before, set `pyproject = true` and `build-system = [ setuptools ]`.";
          # Exact pnames, as nixpkgs compares them.
          isBootstrapInstallPackage = builtins.elem pname [
            "flit-core"
            "installer"
          ];
          isBootstrapPackage =
            isBootstrapInstallPackage
            || builtins.elem pname [
              "build"
              "packaging"
              "pyproject-hooks"
              "wheel"
            ];
          hooks =
            (
              if
                builtins.elem format' [
                  "pyproject"
                  "setuptools"
                  "wheel"
                ]
              then
                [ (if isBootstrapInstallPackage then bootstrapInstallHook else installHook buildSet.installer) ]
              else
                [ ]
            )
            ++ (
              if format' == "pyproject" then
                (
                  if isBootstrapPackage then
                    [
                      (buildHook buildSet.bootstrap.build "")
                      (runtimeDepsHook buildSet.bootstrap.packaging)
                    ]
                  else
                    [
                      (buildHook buildSet.build buildSet.wheel)
                      (runtimeDepsHook buildSet.packaging)
                    ]
                )
              else
                [ ]
            )
            ++ (if format' == "setuptools" then [ setuptoolsBuildHook ] else [ ]);
          implicit =
            if
              format' == "setuptools"
              && !(builtins.elem pname [
                "setuptools"
                "wheel"
              ])
            then
              [
                buildSet.setuptools
                buildSet.wheel
              ]
            else
              [ ];
          buildClosure = requiredPythonModules (
            implicit
            ++ nativeBuildInputs
            ++ build-system
            ++ buildInputs
            ++ propagatedBuildInputs
            ++ dependencies
          );
          propagatedClosure = requiredPythonModules (propagatedBuildInputs ++ dependencies);
          drv = mkDerivation (
            (builtins.removeAttrs attrs [
              "passthru"
              "disabled"
              "pyproject"
              "catchConflicts"
              "doCheck"
            ])
            // {
              # Python packages have no checkPhase, only an installCheckPhase.
              doCheck = false;
              doInstallCheck = doCheck;
              name = "python${pythonVersion}-${pname}-${version}";
              format = format';
              nativeBuildInputs = hooks ++ nativeBuildInputs;
              # nixpkgs propagates `dependencies` (and keeps them as an attribute).
              propagatedBuildInputs = propagatedBuildInputs ++ dependencies;
              pinionStubSitePackages = sitePackages;
              pinionStubBuildPath = lib.concatMapStringsSep ":" (d: "${d}/${sitePackages}") buildClosure;
              # catch_conflicts.py walks the propagated closure of the output.
              pinionStubCatchConflicts = catchConflicts;
              pinionStubPropagatedPath = lib.concatMapStringsSep ":" (
                d: "${d}/${sitePackages}"
              ) propagatedClosure;
              buildPhase = ''
                ${hostPython} ${install}
              '';
              passthru = passthru // {
                pythonModule = python;
                overridePythonAttrs =
                  f: buildPythonPackage (attrs // (if builtins.isFunction f then f attrs else f));
              };
            }
          );
        in
        if disabled then throw "${name} not supported for interpreter python${pythonVersion}" else drv;

      # python-packages-base.nix: a derivation marked as a Python module, without
      # overridePythonAttrs (gdal, gdcm... are built this way).
      toPythonModule = drv: drv // { pythonModule = python; };

      stubPackage =
        pname: version: deps:
        buildPythonPackage {
          inherit pname version;
          format = "stub";
          propagatedBuildInputs = deps;
        };
      # Hook tools are built with flit-core, as in nixpkgs.
      tool =
        self: pname: version:
        buildPythonPackage {
          inherit pname version;
          format = "stub";
          build-system = if pname == "flit-core" then [ ] else [ self.flit-core ];
        };

      # A generated set so python.pkgs has ~10,000 attributes like nixpkgs' (timing).
      generated = builtins.listToAttrs (
        builtins.genList (
          i:
          let
            n = "generated-package-${toString i}";
          in
          {
            name = n;
            value = stubPackage n "1.0.${toString i}" [ ];
          }
        ) (config.stubGeneratedPackages or 10000)
      );

      basePackages =
        self:
        generated
        // {
          inherit python buildPythonPackage toPythonModule;
          buildPythonApplication = buildPythonPackage;
          bootstrap = {
            installer = bootstrapTool sitePackages "installer" "0.7.0";
            build = bootstrapTool sitePackages "build" "1.2.1";
            packaging = bootstrapTool sitePackages "packaging" "24.0";
            flit-core = bootstrapTool sitePackages "flit-core" "3.9.0";
          };
          flit-core = tool self "flit-core" "3.9.0";
          installer = tool self "installer" "0.7.0";
          build = tool self "build" "1.2.1";
          packaging = tool self "packaging" "24.0";
          pyproject-hooks = tool self "pyproject-hooks" "1.0.0";
          # Real ones (from the test fixtures' wheels): format = "setuptools" builds run them.
          wheel = buildPythonPackage {
            pname = "wheel";
            version = "0.41.2";
            format = "wheel";
            src = ../nix/fixtures/wheels/wheel-0.41.2-py3-none-any.whl;
          };
          setuptools = buildPythonPackage {
            pname = "setuptools";
            version = "68.2.2";
            format = "wheel";
            src = ../nix/fixtures/wheels/setuptools-68.2.2-py3-none-any.whl;
          };
          six = stubPackage "six" "1.16.0" [ ];
          idna = stubPackage "idna" "3.4" [ ];
          certifi = stubPackage "certifi" "2023.7.22" [ ];
          urllib3 = stubPackage "urllib3" "2.0.7" [ ];
          charset-normalizer = stubPackage "charset-normalizer" "3.3.2" [ ];
          requests = stubPackage "requests" "2.31.0" (
            with self;
            [
              certifi
              charset-normalizer
              idna
              urllib3
            ]
          );
          numpy = stubPackage "numpy" "1.26.4" [ ];
          tensorflow = buildPythonPackage {
            pname = "tensorflow";
            version = "2.1.0";
            format = "stub";
            dependencies = [
              self.numpy
              self.six
            ];
          };
          # An attr whose name differs from its PyPI name, like nixpkgs' versioned attrs.
          pyyaml_6 = stubPackage "PyYAML" "6.0.1" [ ];
          # meta.broken: nixpkgs refuses to build it (allowBroken = false).
          broken-package = buildPythonPackage {
            pname = "broken-package";
            version = "1.0";
            format = "stub";
            meta.broken = true;
          };
          # disabled = true throws "... not supported for interpreter ...".
          py2-only = buildPythonPackage {
            pname = "py2-only";
            version = "1.0";
            format = "stub";
            disabled = true;
          };
          # Like nixpkgs' gdal: toPythonModule over a C library build, no overridePythonAttrs.
          gdal = toPythonModule (mkDerivation {
            pname = "gdal";
            version = "3.8.4";
            propagatedBuildInputs = [ self.numpy ];
            pinionStubSitePackages = sitePackages;
            format = "stub";
            buildPhase = "${hostPython} ${install}";
          });
        };

      pkgs = lib.fix (lib.extends (lib.composeExtensions aliases packageOverrides) basePackages);

      mkEnv =
        {
          extraLibs ? [ ],
          ignoreCollisions ? false,
        }:
        let
          closure = requiredPythonModules extraLibs;
        in
        runCommand "python3-${version}-env"
          {
            packages = closure;
            inherit ignoreCollisions;
            passthru.override = args: mkEnv ({ inherit extraLibs ignoreCollisions; } // args);
          }
          ''
            site="$out/${sitePackages}"
            mkdir -p "$site" "$out/bin"
            for p in $packages; do
              for f in "$p/${sitePackages}"/* ; do
                [ -e "$f" ] || continue
                dest="$site/''${f##*/}"
                if [ -e "$dest" ]; then
                  if [ -n "$ignoreCollisions" ]; then continue; fi
                  echo "collision between $f and $(readlink "$dest")" >&2
                  exit 1
                fi
                ln -s "$f" "$dest"
              done
            done
            cat > "$out/bin/python" <<WRAP
            #!/bin/sh
            PYTHONPATH="$site\''${PYTHONPATH:+:\$PYTHONPATH}" PYTHONNOUSERSITE=1 exec ${hostPython} "\$@"
            WRAP
            chmod +x "$out/bin/python"
            ln -s python "$out/bin/python3"
            for p in $packages; do
              for f in "$p/bin"/* ; do
                [ -e "$f" ] || continue
                printf '#!/bin/sh\nexec %s %s "$@"\n' "$out/bin/python" "$f" > "$out/bin/''${f##*/}"
                chmod +x "$out/bin/''${f##*/}"
              done
            done
          '';

      python = interpreter // {
        inherit
          version
          pythonVersion
          sitePackages
          pkgs
          ;
        interpreter = "${interpreter}/bin/python3";
        executable = "python3";
        inherit pythonOnBuildForHost;
        withPackages = f: mkEnv { extraLibs = f pkgs; };
        buildEnv = mkEnv { };
        # Like nixpkgs, `packageOverrides` replaces (not extends) earlier ones and also
        # reaches pythonOnBuildForHost; `self` is accepted for the nixpkgs idiom
        # `python.override { ...; self = python'; }`.
        override =
          {
            packageOverrides ? (_: _: { }),
            self ? null,
          }:
          mkInterpreter {
            inherit version packageOverrides onBuild;
            overridden = true;
          };
      };
    in
    python;
in
{
  inherit mkInterpreter;
}
