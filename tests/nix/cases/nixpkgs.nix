# What real nixpkgs does to pinion, on the stand-in (issue 11): each attribute is a
# set of { expr; expected; context ? ; } cases (see common.nix and run.sh). `lock` is
# the lock make-fixtures.py writes.
{
  lock ? null,
}:
let
  inherit (import ../common.nix { }) pinion pkgs;
  resolve = import ../../../nix/resolve.nix {
    inherit pkgs;
    resolver = ../fake-resolver;
    dbFile = ../fixtures/universe.json;
  };
  ps = pkgs.python3.pkgs;
  realLock = builtins.fromJSON (builtins.readFile ../fixtures/real.lock.json.in);
  fixtureLock = builtins.fromJSON (builtins.readFile lock);
  hooksOf =
    name: drv:
    map (d: d.drvPath) (builtins.filter (d: (d.name or "") == name) (drv.nativeBuildInputs or [ ]));
  plainPyproject = ps.buildPythonPackage {
    pname = "x";
    version = "1";
    pyproject = true;
    src = ../seed/project;
  };
  # Every one of `xs` is in `list`: the missing ones are shown.
  hasAll = xs: list: {
    expr = builtins.filter (x: !(builtins.elem x list)) xs;
    expected = [ ];
    context = list;
  };
  # An expression that evaluates (instead of throwing or aborting) to a string.
  isString = x: {
    expr = builtins.typeOf x;
    expected = "string";
  };
in
{
  # 1. The lock's build tools never reach nixpkgs' hook machinery.
  build-tools =
    let
      e = pinion.mkPython { lock = realLock; };
      withOld = pinion.mkPython { lock = fixtureLock; };
      tomli = e.pythonPackages.tomli;
    in
    {
      "a lock holding flit_core (display name) instantiates" = isString e.drvPath;
      "pname is the normalized name (nixpkgs picks bootstrap hooks by exact pname)" = {
        expr = e.pythonPackages.flit-core.pname;
        expected = "flit-core";
      };
      "pinion's pyproject sdist uses nixpkgs' own runtime-deps hook" = {
        expr = hooksOf "python-runtime-deps-check-hook" tomli;
        expected = hooksOf "python-runtime-deps-check-hook" plainPyproject;
      };
      "pinion's packages use nixpkgs' own install hook" = {
        expr = hooksOf "pypa-install-hook" tomli;
        expected = hooksOf "pypa-install-hook" plainPyproject;
      };
      "a lock pinning packaging 21.3 leaves the hooks' packaging alone" = {
        expr = hooksOf "python-runtime-deps-check-hook" withOld.pythonPackages.needsdep;
        expected = hooksOf "python-runtime-deps-check-hook" plainPyproject;
      };
      "the env still gets the locked packaging 21.3" = {
        expr = withOld.pythonPackages.packaging.version;
        expected = "21.3";
      };
    };

  # 1./3. `with self` aliases (Six = self.six), also added by overrides_pre.
  aliases =
    let
      e = pinion.mkPython {
        requirements = "six";
        providers.six = "nixpkgs";
      };
      pre = pinion.mkPython {
        requirements = "six";
        providers.six = "nixpkgs";
        overrides_pre = [ (self: super: { SIX = self.six; }) ];
      };
    in
    {
      "six from nixpkgs with the alias Six in the set instantiates" = isString e.drvPath;
      "the lock names attribute six, not the alias" = {
        expr = e.pinion.packages.six.source;
        expected = "nixpkgs:six";
      };
      "an alias added by overrides_pre does not recurse" = isString pre.drvPath;
    };

  # 2. Binary wheels as nixpkgs' torch-bin / poetry2nix / uv2nix build them.
  wheels =
    let
      binpkg = (pinion.mkPython { lock = fixtureLock; }).pythonPackages.binpkg;
      manylinux = map (d: d.outPath) pkgs.pythonManylinuxPackages.manylinux2014;
    in
    {
      "binary wheels are not stripped" = {
        expr = binpkg.dontStrip or false;
        expected = true;
      };
      "libcuda.so.1 is left to the driver" = hasAll [ "libcuda.so.1" ] (
        binpkg.autoPatchelfIgnoreMissingDeps or [ ]
      );
      "manylinux2014 libraries are build inputs" = hasAll manylinux (
        map (d: d.outPath) binpkg.buildInputs
      );
    };

  # 3. The nixpkgs lookup evaluates only names the resolution can reach.
  lookup =
    let
      v = resolve.nixpkgsVersions ps [
        "requests"
        "six"
        "pyyaml"
        "py2-only"
        "broken-package"
        "removed-package"
        "not-in-nixpkgs"
      ];
      absent = name: {
        expr = v ? ${name};
        expected = false;
        context = v;
      };
    in
    {
      "attributes named like the requested project are listed" = {
        expr = {
          inherit (v) requests;
          six = v.six.attr;
        };
        expected = {
          requests = {
            attr = "requests";
            version = "2.31.0";
          };
          six = "six";
        };
      };
      "disabled packages are not offered" = absent "py2-only";
      "broken packages are not offered" = absent "broken-package";
      "throwing attributes are skipped" = absent "removed-package";
      "names nixpkgs lacks are absent" = absent "not-in-nixpkgs";
      "an attribute whose pname differs from its name is skipped (pyyaml_6 is not looked at)" =
        absent "pyyaml";
      # What nix/README.md tells users (mkPython passes overrides_pre the same way).
      "an overrides_pre overlay naming pyyaml_6 by its PyPI name makes it found" = {
        expr =
          resolve.nixpkgsVersions
            (pkgs.python3.override {
              packageOverrides = self: super: { pyyaml = super.pyyaml_6; };
            }).pkgs
            [ "pyyaml" ];
        expected = {
          pyyaml = {
            attr = "pyyaml";
            version = "6.0.1";
          };
        };
      };
      "mkPython through the resolver never touches the aborting attribute" =
        isString
          (pinion.mkPython { requirements = "requests"; }).drvPath;
      "names the providers keep from nixpkgs are not looked up" =
        isString
          (pinion.mkPython {
            requirements = "six";
            providers._default = "wheel,sdist";
            overrides_pre = [ (self: super: { six = abort "six was evaluated"; }) ];
          }).drvPath;
    };

  # 4. nixpkgs throws when neither format nor pyproject is given.
  format =
    let
      plain = pinion.buildPythonPackage {
        pname = "my-package";
        version = "1.0.0";
        src = ../seed/project;
        lock = realLock;
      };
      own = pinion.buildPythonPackage {
        pname = "my-package";
        version = "1.0.0";
        src = ../seed/project;
        lock = realLock;
        pyproject = true;
        build-system = [ ps.setuptools ];
      };
    in
    {
      "buildPythonPackage without format evaluates (default format = \"setuptools\")" = {
        expr = {
          drvPath = builtins.typeOf plain.drvPath;
          inherit (plain) format;
        };
        expected = {
          drvPath = "string";
          format = "setuptools";
        };
      };
      "pyproject = true is passed through" = {
        expr = own.format;
        expected = "pyproject";
      };
    };

  # 5. toPythonModule packages (no overridePythonAttrs) from nixpkgs.
  to-python-module =
    let
      gdalLock = realLock // {
        roots = [ "gdal" ];
        packages = {
          gdal = {
            name = "gdal";
            display_name = "GDAL";
            version = "3.8.4";
            provider = "nixpkgs";
            format = "nixpkgs";
            source.attr = "gdal";
            dependencies = [ "numpy" ];
            build_dependencies = [ ];
            extras = [ ];
            requirements_known = true;
          };
          numpy = {
            name = "numpy";
            display_name = "numpy";
            version = "1.26.4";
            provider = "nixpkgs";
            format = "nixpkgs";
            source.attr = "numpy";
            dependencies = [ ];
            build_dependencies = [ ];
            extras = [ ];
            requirements_known = true;
          };
        };
      };
      e = pinion.mkPython { lock = gdalLock; };
      nixEntry = name: version: deps: {
        inherit name version;
        display_name = name;
        provider = "nixpkgs";
        format = "nixpkgs";
        source.attr = name;
        dependencies = deps;
        build_dependencies = [ ];
        extras = [ ];
        requirements_known = true;
      };
      tf = pinion.mkPython {
        lock = realLock // {
          roots = [ "tensorflow" ];
          packages = {
            tensorflow = nixEntry "tensorflow" "2.1.0" [
              "numpy"
              "six"
            ];
            numpy = nixEntry "numpy" "1.26.4" [ ];
            six = nixEntry "six" "1.16.0" [ ];
          };
        };
      };
    in
    {
      "a nixpkgs package whose dependencies are the resolved ones is nixpkgs' derivation (dependencies counted once)" =
        {
          expr = tf.pythonPackages.tensorflow.outPath;
          expected = ps.tensorflow.outPath;
        };
      "gdal with nixpkgs' own numpy is taken as it is" = {
        expr = e.pythonPackages.gdal.outPath;
        expected = ps.gdal.outPath;
      };
      "its numpy is nixpkgs' numpy, unchanged" = {
        expr = e.pythonPackages.numpy.outPath;
        expected = ps.numpy.outPath;
      };
      "the environment instantiates" = isString e.drvPath;
    };

  # 6. Documented warnings stay warnings.
  no-hard-failure =
    let
      e = pinion.mkPython { lock = fixtureLock; };
    in
    {
      "requirements_known = false: runtime-deps check off" = {
        expr = e.pythonPackages.needsdep.dontCheckRuntimeDeps or false;
        expected = true;
      };
      "requirements known: runtime-deps check on" = {
        expr = e.pythonPackages.binpkg.dontCheckRuntimeDeps or false;
        expected = false;
      };
    };

  # 7. Runtime dependency cycles.
  cycles =
    let
      e = pinion.mkPython { lock = fixtureLock; };
      names = d: map (x: x.pname or "") d.propagatedBuildInputs;
    in
    {
      "a lock with cyc-a <-> cyc-b instantiates" = isString e.drvPath;
      "the cycle is cut at the edge closing it (cyc-b -> cyc-a), in name order" = {
        expr = {
          cyc-a = names e.pythonPackages.cyc-a;
          cyc-b = names e.pythonPackages.cyc-b;
        };
        expected = {
          cyc-a = [ "cyc-b" ];
          cyc-b = [ ];
        };
      };
      "both are in the environment" = hasAll [ "cyc-a" "cyc-b" ] e.pinion.runtime;
      "the package whose edge was cut skips the runtime-deps check" = {
        expr = e.pythonPackages.cyc-b.dontCheckRuntimeDeps or false;
        expected = true;
      };
    };
}
