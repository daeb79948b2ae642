# pinion's Python package overlay: turns the packages of a lock into
# `pythonSelf: pythonSuper: { <name> = <derivation>; }`, built per provider
# (wheel, sdist or nixpkgs). Dependencies refer to `pythonSelf`, so later
# overlays (overrides_post) replace them everywhere, as in nixpkgs.
{ pkgs, lock, tests }:
let
  util = import ./util.nix;

  fetch = p: pkgs.fetchurl { inherit (p.source) url sha256; name = p.source.filename; };

  warnUnknown = p: x:
    if p.requirements_known or true then x
    else builtins.trace "pinion warning: the requirements of ${p.name} ${p.version} (sdist) are unknown to the DB (dynamic setup.py); its dependencies may be incomplete" x;

  build = pySelf: pySuper: p:
    let
      deps = map (d: pySelf.${d}) p.dependencies;
      buildDeps = map (d: pySelf.${d}) p.build_dependencies;
      pinion = { inherit (p) name version provider format; };
      notPython = builtins.filter (d: !(builtins.isAttrs d && d ? pythonModule));
      binary = p.provider == "wheel" && util.wheelIsLinuxBinary p.source.filename;
    in
    if p.provider == "wheel" then
      pySuper.buildPythonPackage {
        pname = p.display_name;
        inherit (p) version;
        format = "wheel";
        src = fetch p;
        nativeBuildInputs = if binary then [ pkgs.autoPatchelfHook ] else [ ];
        # manylinux wheels link libstdc++/libgcc_s, which auditwheel does not vendor.
        buildInputs = if binary && pkgs.stdenv ? cc then [ pkgs.stdenv.cc.cc.lib ] else [ ];
        propagatedBuildInputs = deps;
        doCheck = tests;
        passthru = { inherit pinion; };
      }
    else if p.provider == "sdist" then
      warnUnknown p (pySuper.buildPythonPackage {
        pname = p.display_name;
        inherit (p) version format;
        src = fetch p;
        nativeBuildInputs = buildDeps;
        propagatedBuildInputs = deps;
        doCheck = tests;
        passthru = { inherit pinion; };
      })
    else if p.provider == "nixpkgs" then
      let
        attr = p.source.attr;
        original = pySuper.${attr} or (throw "pinion: the lock takes ${p.name} from nixpkgs attribute python.pkgs.${attr}, which this python's package set does not have; re-resolve against this nixpkgs");
      in
      original.overridePythonAttrs (old: {
        # Keep non-Python inputs (C libraries), replace Python ones by the resolved set.
        propagatedBuildInputs = notPython (old.propagatedBuildInputs or [ ]) ++ deps;
        doCheck = tests;
        passthru = (old.passthru or { }) // { inherit pinion; };
      } // (if old ? dependencies then { dependencies = notPython old.dependencies; } else { }))
    else
      throw "pinion: lock entry ${p.name} has unknown provider \"${p.provider}\" (expected wheel, sdist or nixpkgs)";
in
pySelf: pySuper:
let
  built = builtins.mapAttrs (_: build pySelf pySuper) lock.packages;
  # nixpkgs-provided packages are also reachable under their nixpkgs attribute.
  aliases = builtins.listToAttrs (builtins.concatMap
    (p: if p.provider == "nixpkgs" && p.source.attr != p.name then [{ name = p.source.attr; value = pySelf.${p.name}; }] else [ ])
    (builtins.attrValues lock.packages));
in
aliases // built
