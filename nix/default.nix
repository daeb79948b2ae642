# The pinion Nix library: Python environments and packages from a requirements
# list, resolved offline by the `resolver` binary against a pinned PyPI metadata
# DB (or read from a committed lock), built with nixpkgs' Python infrastructure.
{
  pkgs ? import <nixpkgs> { },
  python ? pkgs.python3,
  db ? null,
  resolver ? null,
}:
let
  inherit (pkgs) lib;
  util = import ./util.nix { inherit lib; };
  defaults = { inherit pkgs python; };
  dbFile = import ./db.nix { inherit pkgs db; };
  resolve' = import ./resolve.nix { inherit pkgs resolver dbFile; };

  pinionArgs = [
    "requirements"
    "providers"
    "overrides_pre"
    "overrides_post"
    "overridesPre"
    "overridesPost"
    "pkgs"
    "python"
    "packagesExtra"
    "ignoreCollisions"
    "tests"
    "lock"
  ];

  checkArgs =
    fname: allowed: args:
    let
      unknown = lib.subtractLists allowed (builtins.attrNames args);
    in
    if !(args ? requirements) && !(args ? lock) then
      throw "pinion.${fname}: missing argument `requirements` (a requirements.txt string, e.g. `requirements = builtins.readFile ./requirements.txt;`) or `lock` (a lock file written by the resolver)"
    else if args ? requirements && !(builtins.isString args.requirements) then
      throw "pinion.${fname}: `requirements` must be a string in requirements.txt format, got a ${builtins.typeOf args.requirements}"
    else if unknown != [ ] then
      throw "pinion.${fname}: unknown argument(s) ${builtins.concatStringsSep ", " unknown}; valid arguments are: ${builtins.concatStringsSep ", " allowed}"
    else
      args;

  # Everything mkPython & co. derive from their arguments.
  prepare =
    args:
    let
      userPkgs = args.pkgs or defaults.pkgs;
      python0 = args.python or (if args ? pkgs then args.pkgs.python3 else defaults.python);
      overridesPre = args.overrides_pre or args.overridesPre or [ ];
      overridesPost = args.overrides_post or args.overridesPost or [ ];
      tests = args.tests or false;
      system = userPkgs.stdenv.hostPlatform.system;
      # overrides_pre change nixpkgs' own set (what the resolver may take from it), the
      # nixpkgs way: they reach nixpkgs' build-time Python too.
      basePython =
        if overridesPre == [ ] then
          python0
        else
          let
            p = python0.override {
              packageOverrides = lib.composeManyExtensions overridesPre;
              self = p;
            };
          in
          p;
      basePs = basePython.pkgs;
      resolution = resolve'.resolveIfd {
        inherit (args) requirements;
        providers = args.providers or { };
        python = python0;
        ps = basePs;
        inherit system;
      };
      # Provider names are checked even with a lock, where they have no other effect.
      lock = builtins.seq (resolve'.checkProviders (args.providers or { })) (
        if (args.lock or null) != null then readLock python0 system args.lock else resolution.lock
      );
      pinionOverlay = import ./overlay.nix {
        pkgs = userPkgs;
        python = basePython;
        base = basePs;
        inherit lock tests;
      };
      # pinion's package set: nixpkgs' (after overrides_pre) with the lock's packages and
      # overrides_post on top, a fixed point of its own. Not `python.override`: that
      # would hand the lock's installer/packaging/setuptools... to nixpkgs' build hooks.
      setWith = overlays: lib.fix (lib.extends (lib.composeManyExtensions overlays) (_: basePs));
      finalPs = setWith ([ pinionOverlay ] ++ overridesPost);
      runtimeNames = util.closure (n: lock.packages.${n}.dependencies) lock.roots;
      selected = ps: map (n: ps.${n}) runtimeNames;
      metadata = import ./metadata.nix {
        inherit
          lock
          python0
          system
          runtimeNames
          overridesPre
          overridesPost
          ;
        final = finalPs;
        withoutPost = setWith [ pinionOverlay ];
      };
    in
    {
      inherit
        userPkgs
        basePython
        finalPs
        selected
        lock
        metadata
        resolution
        ;
    };

  readLock =
    python0: system: lockArg:
    let
      # A lock is JSON (`--format json`) or, for a .nix file, the same data as Nix.
      lock =
        if builtins.isAttrs lockArg && !(lockArg ? outPath) then
          lockArg
        else if lib.hasSuffix ".nix" (toString lockArg) then
          import lockArg
        else
          builtins.fromJSON (builtins.readFile lockArg);
      where = if builtins.isAttrs lockArg && !(lockArg ? outPath) then "the lock" else toString lockArg;
    in
    if (lock.lock_version or null) != 1 then
      throw "pinion: ${where} has lock_version ${
        builtins.toJSON (lock.lock_version or null)
      }; this pinion reads version 1 (regenerate the lock with this pinion's resolver)"
    else if lib.versions.majorMinor lock.target.python != lib.versions.majorMinor python0.version then
      throw "pinion: ${where} was resolved for Python ${lock.target.python} but python is ${python0.version}; regenerate the lock for this python (resolver --python ${python0.version})"
    else if lock.target.system != system then
      throw "pinion: ${where} was resolved for ${lock.target.system} but this build is for ${system}; regenerate the lock with --system ${system}"
    else
      lock;

  mkPython =
    args:
    let
      a = checkArgs "mkPython" pinionArgs args;
      p = prepare a;
      libs = p.selected p.finalPs ++ (a.packagesExtra or [ ]);
      env =
        if a.ignoreCollisions or false then
          p.basePython.buildEnv.override {
            extraLibs = libs;
            ignoreCollisions = true;
          }
        else
          p.basePython.withPackages (_: libs);
    in
    env
    // {
      pinion = p.metadata;
      pythonPackages = p.finalPs;
    };

  mkPythonShell =
    args:
    let
      a = checkArgs "mkPythonShell" pinionArgs args;
      env = mkPython a;
    in
    (a.pkgs or defaults.pkgs).mkShell { buildInputs = [ env ]; }
    // {
      inherit (env) pinion pythonPackages;
    };

  # buildPythonPackage / buildPythonApplication: pinion's arguments are consumed,
  # every other attribute goes to nixpkgs' builder unchanged. nixpkgs refuses a
  # package that gives neither `format` nor `pyproject`; pinion defaults to
  # `format = "setuptools"` (setup.py or setuptools' pyproject backend), as
  # mach-nix did.
  mkBuilder =
    fname: builderName: args:
    let
      a = checkArgs fname (builtins.attrNames args) args;
      p = prepare (builtins.intersectAttrs (lib.genAttrs pinionArgs (_: null)) a);
      rest = builtins.removeAttrs a pinionArgs;
      format = lib.optionalAttrs (!(rest ? format || rest ? pyproject)) { format = "setuptools"; };
      built = p.basePython.pkgs.${builderName} (
        format
        // rest
        // {
          propagatedBuildInputs =
            (rest.propagatedBuildInputs or [ ]) ++ p.selected p.finalPs ++ (a.packagesExtra or [ ]);
        }
      );
    in
    built
    // {
      pinion = p.metadata;
      pythonPackages = p.finalPs;
    };

  resolveArgs = [
    "requirements"
    "providers"
    "overrides_pre"
    "overridesPre"
    "pkgs"
    "python"
  ];
in
{
  inherit mkPython mkPythonShell;
  buildPythonPackage = mkBuilder "buildPythonPackage" "buildPythonPackage";
  buildPythonApplication = mkBuilder "buildPythonApplication" "buildPythonApplication";

  # The lock for these requirements as a Nix value (runs the resolver via IFD).
  resolve = args: (prepare (checkArgs "resolve" resolveArgs args)).lock;

  # A derivation whose output is the JSON lock, for committing and passing back as
  # `lock = ./pinion.lock.json;` (no import-from-derivation then):
  #   nix-build -E 'with import ./pinion { }; mkLock { requirements = ...; }' -o result && cp -L result pinion.lock.json
  # The rounds of the nixpkgs lookup (nix/resolve.nix) are import-from-derivation.
  mkLock = args: (prepare (checkArgs "mkLock" resolveArgs args)).resolution.drv;

  # The resolver package used (built from this repository unless `resolver` is given).
  resolver = resolve'.resolverPackage;
  db = dbFile;
  inherit (util) normalizeName;
}
