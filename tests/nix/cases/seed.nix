# Cases on every example of the seed usage page (tests/nix/seed/*.nix), evaluated
# against the nixpkgs stub. Each attribute is a set of { expr; expected; context ? ; }
# cases that run.sh evaluates with --strict and reports (see common.nix).
{
  gitUrl ? null,
}:
let
  seed = ../seed;
  # A derivation instantiates: its drvPath is a store path (shown when it is not).
  instantiates = d: {
    expr = builtins.substring 0 11 d.drvPath;
    expected = "/nix/store/";
    context = d.drvPath;
  };
  pkg = r: n: r.pinion.packages.${n};
  # nativeBuildInputs without the hooks nixpkgs' buildPythonPackage adds itself.
  own = builtins.filter (
    n:
    !(builtins.elem n [
      "pypa-install-hook"
      "pypa-build-hook"
      "python-runtime-deps-check-hook"
      "setuptools-build-hook"
    ])
  );
  # `x` is one of `list`: true/false, with the list shown when it fails.
  member = x: list: {
    expr = builtins.elem x list;
    expected = true;
    context = list;
  };
in
{
  mkpython =
    let
      r = import (seed + "/mkpython.nix") { };
    in
    {
      "instantiates" = instantiates r;
      "roots from requirements.txt" = {
        expr = r.pinion.roots;
        expected = [
          "requests"
          "six"
        ];
      };
      "requests pinned 2.31.0 from a wheel" = {
        expr = { inherit (pkg r "requests") version provider; };
        expected = {
          version = "2.31.0";
          provider = "wheel";
        };
      };
      "env holds the runtime closure" = {
        expr = builtins.sort builtins.lessThan r.pinion.runtime;
        expected = [
          "certifi"
          "charset-normalizer"
          "idna"
          "requests"
          "six"
          "urllib3"
        ];
      };
      "python from <nixpkgs>" = {
        expr = r.pinion.python;
        expected = "3.11.2";
      };
    };

  mkpythonshell =
    let
      r = import (seed + "/mkpython.nix") { shell = true; };
    in
    {
      "instantiates" = instantiates r;
      "shell contains the environment" = {
        expr = builtins.any (d: builtins.match ".*-env" d.name != null) r.buildInputs;
        expected = true;
        context = map (d: d.name) r.buildInputs;
      };
      "metadata passed through" = {
        expr = r.pinion.roots;
        expected = [
          "requests"
          "six"
        ];
      };
    };

  buildpythonpackage =
    builtins.foldl'
      (
        cases: application:
        let
          r = import (seed + "/buildpythonpackage.nix") { inherit application; };
          pnames = map (d: d.pname) r.propagatedBuildInputs;
          app = " (application=${if application then "true" else "false"})";
        in
        cases
        // {
          "instantiates${app}" = instantiates r;
          "pname/version passed through${app}" = {
            expr = r.name;
            expected = "python3.11-my-package-1.0.0";
          };
          "requirements become propagatedBuildInputs${app}" = member "requests" pnames;
          "dependencies of requirements included${app}" = member "urllib3" pnames;
        }
      )
      { }
      [
        false
        true
      ];

  github =
    let
      r = import (seed + "/github.nix") { inherit gitUrl; };
    in
    {
      "instantiates" = instantiates r;
      "requirements read from the fetched source" = {
        expr = r.pinion.roots;
        expected = [ "six" ];
      };
      "doCheck passed through" = {
        expr = { inherit (r) doCheck doInstallCheck; };
        expected = {
          doCheck = false;
          doInstallCheck = false;
        };
      };
    };

  tensorflow-nixpkgs =
    let
      r = import (seed + "/tensorflow-nixpkgs.nix") { };
      tf = pkg r "tensorflow";
    in
    {
      "instantiates" = instantiates r;
      "tensorflow from nixpkgs at nixpkgs' version" = {
        expr = { inherit (tf) provider version source; };
        expected = {
          provider = "nixpkgs";
          version = "2.1.0";
          source = "nixpkgs:tensorflow";
        };
      };
      "other packages keep the default (wheel)" = {
        expr = (pkg r "requests").provider;
        expected = "wheel";
      };
      "nixpkgs tensorflow's python deps replaced by resolved ones" = {
        expr = tf.derivation.propagatedBuildInputs;
        expected = [
          "numpy"
          "six"
        ];
      };
      "resolved six (wheel) is what tensorflow gets" = member "six-1.16.0-py2.py3-none-any.whl" (
        map (d: d.src.name or "") r.pythonPackages.tensorflow.propagatedBuildInputs
      );
    };

  tensorflow-wheel =
    let
      r = import (seed + "/tensorflow-wheel.nix") { };
      tf = pkg r "tensorflow";
    in
    {
      "instantiates" = instantiates r;
      "tensorflow 2.2.0rc4 wheel" = {
        expr = { inherit (tf) provider version; };
        expected = {
          provider = "wheel";
          version = "2.2.0rc4";
        };
      };
      "binary wheel gets autoPatchelfHook" = {
        expr = own tf.derivation.nativeBuildInputs;
        expected = [ "auto-patchelf-hook" ];
      };
      "overrides_post applied to tensorflow" = {
        expr = {
          inherit (tf) changed_by_overrides_post;
          postInstallRemovesTensorboard =
            builtins.match ".*rm [$]out/bin/tensorboard.*" r.pythonPackages.tensorflow.postInstall != null;
        };
        expected = {
          changed_by_overrides_post = true;
          postInstallRemovesTensorboard = true;
        };
        context = r.pythonPackages.tensorflow.postInstall;
      };
      "overrides_post leaves others alone" = {
        expr = (pkg r "requests").changed_by_overrides_post;
        expected = false;
      };
      "overlay order" = {
        expr = r.pinion.overlays;
        expected = [
          "pinion"
          "overrides_post[0]"
        ];
      };
    };

  pytorch =
    let
      r = import (seed + "/pytorch.nix") { };
    in
    {
      "instantiates" = instantiates r;
      "custom python (pkgs.python36) is the resolution target" = {
        expr = r.pinion.python;
        expected = "3.6.15";
      };
      "torch from wheel" = {
        expr = { inherit (pkg r "torch") provider version; };
        expected = {
          provider = "wheel";
          version = "1.5.0";
        };
      };
      "_default = nixpkgs,sdist: requests from nixpkgs" = {
        expr = (pkg r "requests").provider;
        expected = "nixpkgs";
      };
      "_default = nixpkgs,sdist: numpy from nixpkgs" = {
        expr = (pkg r "numpy").provider;
        expected = "nixpkgs";
      };
      "no other wheels" = {
        expr = builtins.filter (n: n != "torch" && r.pinion.packages.${n}.provider == "wheel") (
          builtins.attrNames r.pinion.packages
        );
        expected = [ ];
      };
    };

  poetry2nix =
    let
      r = import (seed + "/poetry2nix.nix") { };
      ic = pkg r "imagecodecs";
    in
    {
      "instantiates" = instantiates r;
      "imagecodecs from sdist with resolved build deps" = {
        expr = { inherit (ic) provider build_dependencies; };
        expected = {
          provider = "sdist";
          build_dependencies = [
            "cython"
            "numpy"
            "setuptools"
            "wheel"
          ];
        };
      };
      "build deps are nativeBuildInputs, then the override's addition" = {
        expr = own ic.derivation.nativeBuildInputs;
        expected = [
          "cython"
          "numpy"
          "setuptools"
          "wheel"
          "auto-patchelf-hook"
        ];
      };
      "overrides_post changed imagecodecs" = {
        expr = ic.changed_by_overrides_post;
        expected = true;
      };
      "everything from sdist" = {
        expr = builtins.filter (n: r.pinion.packages.${n}.provider != "sdist") (
          builtins.attrNames r.pinion.packages
        );
        expected = [ ];
      };
    };
}
