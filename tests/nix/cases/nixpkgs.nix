# What real nixpkgs does to pinion, on the stand-in (issue 11): each attribute is a
# list of { what; ok; } (see run.sh). `lock` is the lock make-fixtures.py writes.
{ lock ? null }:
let
  inherit (import ../common.nix { }) pinion pkgs;
  resolve = import ../../../nix/resolve.nix { inherit pkgs; resolver = ../fake-resolver; dbFile = ../fixtures/universe.json; };
  t = what: ok: { inherit what ok; };
  ps = pkgs.python3.pkgs;
  realLock = builtins.fromJSON (builtins.readFile ../fixtures/real.lock.json.in);
  fixtureLock = builtins.fromJSON (builtins.readFile lock);
  hooksOf = name: drv: map (d: d.drvPath) (builtins.filter (d: (d.name or "") == name) (drv.nativeBuildInputs or [ ]));
  plainPyproject = ps.buildPythonPackage { pname = "x"; version = "1"; pyproject = true; src = ../seed/project; };
  hasAll = xs: list: builtins.all (x: builtins.elem x list) xs;
in
{
  # 1. The lock's build tools never reach nixpkgs' hook machinery.
  build-tools =
    let
      e = pinion.mkPython { lock = realLock; };
      withOld = pinion.mkPython { lock = fixtureLock; };
      tomli = e.pythonPackages.tomli;
    in
    [
      (t "a lock holding flit_core (display name) instantiates" (builtins.isString e.drvPath))
      (t "pname is the normalized name (nixpkgs picks bootstrap hooks by exact pname)" (e.pythonPackages.flit-core.pname == "flit-core"))
      (t "pinion's pyproject sdist uses nixpkgs' own runtime-deps hook" (hooksOf "python-runtime-deps-check-hook" tomli == hooksOf "python-runtime-deps-check-hook" plainPyproject))
      (t "pinion's packages use nixpkgs' own install hook" (hooksOf "pypa-install-hook" tomli == hooksOf "pypa-install-hook" plainPyproject))
      (t "a lock pinning packaging 21.3 leaves the hooks' packaging alone" (hooksOf "python-runtime-deps-check-hook" withOld.pythonPackages.needsdep == hooksOf "python-runtime-deps-check-hook" plainPyproject))
      (t "the env still gets the locked packaging 21.3" (withOld.pythonPackages.packaging.version == "21.3"))
    ];

  # 1./3. `with self` aliases (Six = self.six), also added by overrides_pre.
  aliases =
    let
      e = pinion.mkPython { requirements = "six"; providers.six = "nixpkgs"; };
      pre = pinion.mkPython { requirements = "six"; providers.six = "nixpkgs"; overrides_pre = [ (self: super: { SIX = self.six; }) ]; };
    in
    [
      (t "six from nixpkgs with the alias Six in the set instantiates" (builtins.isString e.drvPath))
      (t "the lock names attribute six, not the alias" (e.pinion.packages.six.source == "nixpkgs:six"))
      (t "an alias added by overrides_pre does not recurse" (builtins.isString pre.drvPath))
    ];

  # 2. Binary wheels as nixpkgs' torch-bin / poetry2nix / uv2nix build them.
  wheels =
    let
      binpkg = (pinion.mkPython { lock = fixtureLock; }).pythonPackages.binpkg;
      manylinux = map (d: d.outPath) pkgs.pythonManylinuxPackages.manylinux2014;
    in
    [
      (t "binary wheels are not stripped" (binpkg.dontStrip or false))
      (t "libcuda.so.1 is left to the driver" (builtins.elem "libcuda.so.1" (binpkg.autoPatchelfIgnoreMissingDeps or [ ])))
      (t "manylinux2014 libraries are build inputs" (hasAll manylinux (map (d: d.outPath) binpkg.buildInputs)))
    ];

  # 3. The nixpkgs lookup evaluates only names the resolution can reach.
  lookup =
    let
      v = resolve.nixpkgsVersions ps [ "requests" "six" "pyyaml" "py2-only" "broken-package" "removed-package" "not-in-nixpkgs" ];
    in
    [
      (t "attributes named like the requested project are listed" (v.requests == { attr = "requests"; version = "2.31.0"; } && v.six.attr == "six"))
      (t "disabled packages are not offered" (!(v ? py2-only)))
      (t "broken packages are not offered" (!(v ? broken-package)))
      (t "throwing attributes are skipped" (!(v ? removed-package)))
      (t "names nixpkgs lacks are absent" (!(v ? not-in-nixpkgs)))
      (t "an attribute whose pname differs from its name is skipped (pyyaml_6 is not looked at)" (!(v ? pyyaml)))
      (t "mkPython through the resolver never touches the aborting attribute" (builtins.isString (pinion.mkPython { requirements = "requests"; }).drvPath))
      (t "names the providers keep from nixpkgs are not looked up" (builtins.isString (pinion.mkPython {
        requirements = "six"; providers._default = "wheel,sdist"; overrides_pre = [ (self: super: { six = abort "six was evaluated"; }) ];
      }).drvPath))
    ];

  # 4. nixpkgs throws when neither format nor pyproject is given.
  format =
    let
      plain = pinion.buildPythonPackage { pname = "my-package"; version = "1.0.0"; src = ../seed/project; lock = realLock; };
      own = pinion.buildPythonPackage { pname = "my-package"; version = "1.0.0"; src = ../seed/project; lock = realLock; pyproject = true; build-system = [ ps.setuptools ]; };
    in
    [
      (t "buildPythonPackage without format evaluates (default format = \"setuptools\")" (builtins.isString plain.drvPath && plain.format == "setuptools"))
      (t "pyproject = true is passed through" (own.format == "pyproject"))
    ];

  # 5. toPythonModule packages (no overridePythonAttrs) from nixpkgs.
  to-python-module =
    let
      gdalLock = realLock // {
        roots = [ "gdal" ];
        packages = {
          gdal = { name = "gdal"; display_name = "GDAL"; version = "3.8.4"; provider = "nixpkgs"; format = "nixpkgs"; source.attr = "gdal"; dependencies = [ "numpy" ]; build_dependencies = [ ]; extras = [ ]; requirements_known = true; };
          numpy = { name = "numpy"; display_name = "numpy"; version = "1.26.4"; provider = "nixpkgs"; format = "nixpkgs"; source.attr = "numpy"; dependencies = [ ]; build_dependencies = [ ]; extras = [ ]; requirements_known = true; };
        };
      };
      e = pinion.mkPython { lock = gdalLock; };
      nixEntry = name: version: deps: { inherit name version; display_name = name; provider = "nixpkgs"; format = "nixpkgs"; source.attr = name; dependencies = deps; build_dependencies = [ ]; extras = [ ]; requirements_known = true; };
      tf = pinion.mkPython {
        lock = realLock // {
          roots = [ "tensorflow" ];
          packages = { tensorflow = nixEntry "tensorflow" "2.1.0" [ "numpy" "six" ]; numpy = nixEntry "numpy" "1.26.4" [ ]; six = nixEntry "six" "1.16.0" [ ]; };
        };
      };
    in
    [
      (t "a nixpkgs package whose dependencies are the resolved ones is nixpkgs' derivation (dependencies counted once)" (tf.pythonPackages.tensorflow.outPath == ps.tensorflow.outPath))
      (t "gdal with nixpkgs' own numpy is taken as it is" (e.pythonPackages.gdal.outPath == ps.gdal.outPath))
      (t "its numpy is nixpkgs' numpy, unchanged" (e.pythonPackages.numpy.outPath == ps.numpy.outPath))
      (t "the environment instantiates" (builtins.isString e.drvPath))
    ];

  # 6. Documented warnings stay warnings.
  no-hard-failure =
    let e = pinion.mkPython { lock = fixtureLock; }; in [
      (t "requirements_known = false: runtime-deps check off" (e.pythonPackages.needsdep.dontCheckRuntimeDeps or false))
      (t "requirements known: runtime-deps check on" (!(e.pythonPackages.binpkg.dontCheckRuntimeDeps or false)))
    ];

  # 7. Runtime dependency cycles.
  cycles =
    let e = pinion.mkPython { lock = fixtureLock; }; names = d: map (x: x.pname or "") d.propagatedBuildInputs; in [
      (t "a lock with cyc-a <-> cyc-b instantiates" (builtins.isString e.drvPath))
      (t "the cycle is cut at the edge closing it (cyc-b -> cyc-a), in name order" (names e.pythonPackages.cyc-a == [ "cyc-b" ] && names e.pythonPackages.cyc-b == [ ]))
      (t "both are in the environment" (hasAll [ "cyc-a" "cyc-b" ] e.pinion.runtime))
      (t "the package whose edge was cut skips the runtime-deps check" (e.pythonPackages.cyc-b.dontCheckRuntimeDeps or false))
    ];
}
