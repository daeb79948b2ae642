# The stub's Python: interpreter attrs, a package set built as a fixed point
# (like nixpkgs' python.pkgs with packageOverrides), buildPythonPackage, and
# withPackages/buildEnv. The interpreter is the host's /usr/bin/python3.
{ lib, mkDerivation, runCommand }:
let
  hostPython = "/usr/bin/python3";
  install = ./install.py;

  # nixpkgs' requiredPythonModules: the propagated closure of Python modules.
  requiredPythonModules = drvs:
    map (x: x.drv) (builtins.genericClosure {
      startSet = map (drv: { key = drv.outPath; inherit drv; }) (builtins.filter (d: d ? pythonModule) drvs);
      operator = item: map (drv: { key = drv.outPath; inherit drv; })
        (builtins.filter (d: d ? pythonModule) ((item.drv.propagatedBuildInputs or [ ]) ++ (item.drv.dependencies or [ ])));
    });

  mkInterpreter = { version, packageOverrides ? (_: _: { }) }:
    let
      pythonVersion = builtins.concatStringsSep "." (builtins.genList (builtins.elemAt (builtins.filter builtins.isString (builtins.split "\\." version))) 2);
      sitePackages = "lib/python${pythonVersion}/site-packages";

      interpreter = runCommand "python3-${version}" { } ''
        mkdir -p "$out/bin"
        ln -s ${hostPython} "$out/bin/python3"
        ln -s ${hostPython} "$out/bin/python"
      '';

      # nixpkgs' buildPythonPackage: format = "wheel" | "pyproject" | "setuptools"
      # (plus "stub" for the stub's own placeholder packages, which install a module
      # `<name>` with `__version__`).
      buildPythonPackage = attrs@{ pname, version, format ? "setuptools", src ? null
                                 , propagatedBuildInputs ? [ ], dependencies ? [ ]
                                 , nativeBuildInputs ? [ ], build-system ? [ ], buildInputs ? [ ]
                                 , passthru ? { }, ... }:
        let
          # Like nixpkgs, format = "setuptools" brings setuptools and wheel from the set.
          implicit = if format == "setuptools" && !(builtins.elem pname [ "setuptools" "wheel" ]) then [ pkgs.setuptools pkgs.wheel ] else [ ];
          buildClosure = requiredPythonModules (implicit ++ nativeBuildInputs ++ build-system ++ buildInputs ++ propagatedBuildInputs ++ dependencies);
          drv = mkDerivation ((builtins.removeAttrs attrs [ "passthru" ]) // {
            name = "python${pythonVersion}-${pname}-${version}";
            inherit format;
            pinionStubSitePackages = sitePackages;
            pinionStubBuildPath = lib.concatMapStringsSep ":" (d: "${d}/${sitePackages}") buildClosure;
            buildPhase = ''
              ${hostPython} ${install}
            '';
            passthru = passthru // {
              pythonModule = python;
              overridePythonAttrs = f: buildPythonPackage (attrs // (if builtins.isFunction f then f attrs else f));
            };
          });
        in
        drv;

      stubPackage = pname: version: deps: buildPythonPackage {
        inherit pname version;
        format = "stub";
        propagatedBuildInputs = deps;
      };

      basePackages = self: {
        inherit python buildPythonPackage;
        buildPythonApplication = buildPythonPackage;
        setuptools = stubPackage "setuptools" "68.2.2" [ ];
        wheel = stubPackage "wheel" "0.41.2" [ ];
        six = stubPackage "six" "1.16.0" [ ];
        idna = stubPackage "idna" "3.4" [ ];
        certifi = stubPackage "certifi" "2023.7.22" [ ];
        urllib3 = stubPackage "urllib3" "2.0.7" [ ];
        charset-normalizer = stubPackage "charset-normalizer" "3.3.2" [ ];
        requests = stubPackage "requests" "2.31.0" (with self; [ certifi charset-normalizer idna urllib3 ]);
        numpy = stubPackage "numpy" "1.26.4" [ ];
        tensorflow = stubPackage "tensorflow" "2.1.0" [ self.numpy self.six ];
        # An attr whose name differs from its PyPI name, like nixpkgs' typing-extensions aliases.
        pyyaml_6 = stubPackage "PyYAML" "6.0.1" [ ];
        # Like nixpkgs' removed-package aliases: evaluating it throws.
        removed-package = throw "removed-package has been removed";
      };

      pkgs = lib.fix (lib.extends packageOverrides basePackages);

      mkEnv = { extraLibs ? [ ], ignoreCollisions ? false }:
        let
          closure = requiredPythonModules extraLibs;
        in
        runCommand "python3-${version}-env"
          {
            packages = closure;
            inherit ignoreCollisions;
            passthru.override = args: mkEnv ({ inherit extraLibs ignoreCollisions; } // args);
          } ''
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
        inherit version pythonVersion sitePackages pkgs;
        interpreter = "${interpreter}/bin/python3";
        executable = "python3";
        withPackages = f: mkEnv { extraLibs = f pkgs; };
        buildEnv = mkEnv { };
        # Like nixpkgs, `packageOverrides` replaces (not extends) earlier ones; `self`
        # is accepted for the nixpkgs idiom `python.override { ...; self = python'; }`.
        override = { packageOverrides ? (_: _: { }), self ? null }: mkInterpreter { inherit version packageOverrides; };
      };
    in
    python;
in
{ inherit mkInterpreter; }
