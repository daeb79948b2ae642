# pinion's Python package overlay: turns the packages of a lock into
# `pythonSelf: pythonSuper: { <name> = <derivation>; }`, built per provider
# (wheel, sdist or nixpkgs). Dependencies refer to `pythonSelf`, so later
# overlays (overrides_post) replace them everywhere, as in nixpkgs.
#
# It is applied to a package set of pinion's own (see default.nix), never through
# `python.override { packageOverrides }`: that would also reach nixpkgs' build-time
# Python (`pythonOnBuildForHost`), whose installer, build, packaging, wheel and
# setuptools run nixpkgs' build hooks. Builders come from `base` (nixpkgs' set),
# so every package is built by nixpkgs' own, unchanged hooks.
{
  pkgs,
  python,
  base,
  lock,
  tests,
}:
let
  inherit (pkgs) lib;
  util = import ./util.nix { inherit lib; };

  fetch =
    p:
    pkgs.fetchurl {
      inherit (p.source) url sha256;
      name = p.source.filename;
    };

  warnUnknown =
    p: x:
    if p.requirements_known or true then
      x
    else
      builtins.trace "pinion warning: the requirements of ${p.name} ${p.version} (sdist) are unknown to the DB (dynamic setup.py); its dependencies may be incomplete" x;

  cut = util.cutCycles lock.packages;
  depNames = p: builtins.filter (d: !(cut ? "${p.name} ${d}")) p.dependencies;
  # A package whose metadata names a dependency pinion does not pass (unknown
  # requirements, an edge cut to break a cycle) would fail nixpkgs'
  # pythonRuntimeDepsCheckHook; the lock documents these cases as warnings.
  skipRuntimeCheck = p: !(p.requirements_known or true) || depNames p != p.dependencies;

  # tests = true: after installing a wheel or sdist, import each of its top-level
  # modules with its dependencies (the import check nixpkgs does by pythonImportsCheck,
  # over the modules the package really installed).
  importCheck = ''
    ${python.interpreter} - "$out/${python.sitePackages}" <<'PINION_IMPORT_CHECK'
    import importlib, os, sys
    site = sys.argv[1]
    sys.path.insert(0, site)
    names = sorted({e[:-3] if e.endswith(".py") else e for e in os.listdir(site)
                    if (e.endswith(".py") or os.path.isdir(os.path.join(site, e))) and e.replace(".py", "").isidentifier()
                    and not e.startswith("_")})
    for name in names:
        print(f"pinion: tests = true: importing {name}", file=sys.stderr)
        importlib.import_module(name)
    PINION_IMPORT_CHECK
  '';
  checks =
    if tests then
      {
        doCheck = true;
        installCheckPhase = importCheck;
      }
    else
      { doCheck = false; };

  build =
    pySelf: pySuper: p:
    let
      deps = map (d: pySelf.${d}) (depNames p);
      buildDeps = map (d: pySelf.${d}) p.build_dependencies;
      pinion = {
        inherit (p)
          name
          version
          provider
          format
          ;
      };
      notPython = builtins.filter (d: !(builtins.isAttrs d && d ? pythonModule));
      binary = p.provider == "wheel" && util.wheelIsLinuxBinary p.source.filename;
      # Libraries shipped inside other wheels (torch/lib, nvidia/*/lib) of the runtime closure.
      closureDeps = map (d: pySelf.${d}) (
        lib.remove p.name (util.closure (n: depNames lock.packages.${n}) (depNames p))
      );
      runtimeCheck = lib.optionalAttrs (skipRuntimeCheck p) { dontCheckRuntimeDeps = true; };
    in
    if p.provider == "wheel" then
      base.buildPythonPackage (
        {
          pname = p.name;
          inherit (p) version;
          format = "wheel";
          src = fetch p;
          # As nixpkgs' torch-bin, poetry2nix and uv2nix: a wheel is installed as shipped.
          dontStrip = true;
          propagatedBuildInputs = deps;
          passthru = { inherit pinion; };
        }
        // checks
        // runtimeCheck
        // lib.optionalAttrs binary {
          nativeBuildInputs = [ pkgs.autoPatchelfHook ];
          # manylinux wheels link libstdc++/libgcc_s and the PEP 599 system libraries
          # (libGL, glib, X11...) that auditwheel does not vendor.
          buildInputs =
            lib.optional (pkgs.stdenv ? cc) pkgs.stdenv.cc.cc.lib
            ++ (pkgs.pythonManylinuxPackages.manylinux2014 or [ ]);
          # The CUDA driver library comes from the host system at run time, as in nixpkgs.
          autoPatchelfIgnoreMissingDeps = [ "libcuda.so.1" ];
          preFixup = lib.concatMapStringsSep "\n" (
            d: "addAutoPatchelfSearchPath ${d}/${python.sitePackages}"
          ) closureDeps;
        }
      )
    else if p.provider == "sdist" then
      warnUnknown p (
        base.buildPythonPackage (
          {
            pname = p.name;
            inherit (p) version format;
            src = fetch p;
            nativeBuildInputs = buildDeps;
            propagatedBuildInputs = deps;
            passthru = { inherit pinion; };
          }
          // checks
          // runtimeCheck
        )
      )
    else if p.provider == "nixpkgs" then
      let
        attr = p.source.attr;
        original =
          pySuper.${attr}
            or (throw "pinion: the lock takes ${p.name} from nixpkgs attribute python.pkgs.${attr}, which this python's package set does not have; re-resolve against this nixpkgs");
        # nixpkgs puts `dependencies` into propagatedBuildInputs too, with the interpreter.
        pyDeps = builtins.filter (
          d: builtins.isAttrs d && d ? pythonModule && d ? pname && d.outPath != python.outPath
        ) ((original.propagatedBuildInputs or [ ]) ++ (original.dependencies or [ ]));
        pyDepNames = util.uniqueSorted (map (d: util.normalizeName d.pname) pyDeps);
        # nixpkgs' package already has exactly the resolved dependencies: take it as
        # it is (same derivation as nixpkgs', so a binary cache has it).
        unchanged =
          pyDepNames == builtins.sort builtins.lessThan (depNames p)
          && builtins.all (d: (pySelf.${util.normalizeName d.pname}.outPath or null) == d.outPath) pyDeps;
        describe =
          name:
          let
            e = lock.packages.${name} or null;
          in
          if e == null then "${name} (not in the lock)" else "${name} ${e.version} (${e.provider})";
        misfit = throw ''
          pinion: nixpkgs' `python.pkgs.${attr}` (${p.name} ${p.version}) has no overridePythonAttrs (a toPythonModule wrapper), so its Python dependencies cannot be replaced, and they differ from the lock's:
            nixpkgs' ${attr} has: ${
              if pyDeps == [ ] then
                "none"
              else
                builtins.concatStringsSep ", " (
                  util.uniqueSorted (map (d: "${util.normalizeName d.pname} ${d.version or "?"}") pyDeps)
                )
            }
            the lock has: ${
              if depNames p == [ ] then "none" else builtins.concatStringsSep ", " (map describe (depNames p))
            }
          hint: pin those packages to nixpkgs' versions with provider `nixpkgs` (e.g. `providers = { ${
            builtins.head (pyDepNames ++ [ "name" ])
          } = "nixpkgs"; };`), or take `${p.name}` from `wheel` or `sdist`.'';
      in
      if unchanged then
        original
      else if !(original ? overridePythonAttrs) then
        misfit
      else
        original.overridePythonAttrs (
          old:
          {
            # Keep non-Python inputs (C libraries), replace Python ones by the resolved set.
            propagatedBuildInputs = notPython (old.propagatedBuildInputs or [ ]) ++ deps;
            passthru = (old.passthru or { }) // {
              inherit pinion;
            };
          }
          // lib.optionalAttrs (old ? dependencies) { dependencies = notPython old.dependencies; }
          // lib.optionalAttrs (!tests) { doCheck = false; }
          // runtimeCheck
        )
    else
      throw "pinion: lock entry ${p.name} has unknown provider \"${p.provider}\" (expected wheel, sdist or nixpkgs)";
in
pySelf: pySuper:
let
  built = builtins.mapAttrs (_: build pySelf pySuper) lock.packages;
  # nixpkgs-provided packages are also reachable under their nixpkgs attribute.
  aliases = builtins.listToAttrs (
    builtins.concatMap (
      p:
      lib.optional (p.provider == "nixpkgs" && p.source.attr != p.name) {
        name = p.source.attr;
        value = pySelf.${p.name};
      }
    ) (builtins.attrValues lock.packages)
  );
in
aliases // built
