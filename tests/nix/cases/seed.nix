# Checks on every example of the seed usage page (tests/nix/seed/*.nix), evaluated
# against the nixpkgs stub. Each attribute is a list of { what; ok; } that
# run.sh evaluates with --strict and reports.
{ gitUrl ? null }:
let
  seed = ../seed;
  t = what: ok: { inherit what ok; };
  isDrv = d: builtins.substring 0 11 d.drvPath == "/nix/store/";
  pkg = r: n: r.pinion.packages.${n};
  has = x: list: builtins.elem x list;
  # nativeBuildInputs without the hooks nixpkgs' buildPythonPackage adds itself.
  own = builtins.filter (n: !(builtins.elem n [ "pypa-install-hook" "pypa-build-hook" "python-runtime-deps-check-hook" "setuptools-build-hook" ]));
in
{
  mkpython =
    let r = import (seed + "/mkpython.nix") { }; in [
      (t "instantiates" (isDrv r))
      (t "roots from requirements.txt" (r.pinion.roots == [ "requests" "six" ]))
      (t "requests pinned 2.31.0 from a wheel" ((pkg r "requests").version == "2.31.0" && (pkg r "requests").provider == "wheel"))
      (t "env holds the runtime closure" (builtins.sort builtins.lessThan r.pinion.runtime == [ "certifi" "charset-normalizer" "idna" "requests" "six" "urllib3" ]))
      (t "python from <nixpkgs>" (r.pinion.python == "3.11.2"))
    ];

  mkpythonshell =
    let r = import (seed + "/mkpython.nix") { shell = true; }; in [
      (t "instantiates" (isDrv r))
      (t "shell contains the environment" (builtins.any (d: builtins.match ".*-env" d.name != null) r.buildInputs))
      (t "metadata passed through" (r.pinion.roots == [ "requests" "six" ]))
    ];

  buildpythonpackage = builtins.concatMap
    (application:
      let r = import (seed + "/buildpythonpackage.nix") { inherit application; }; in [
        (t "instantiates (application=${toString application})" (isDrv r))
        (t "pname/version passed through" (r.name == "python3.11-my-package-1.0.0"))
        (t "requirements become propagatedBuildInputs" (has "requests" (map (d: d.pname) r.propagatedBuildInputs)))
        (t "dependencies of requirements included" (has "urllib3" (map (d: d.pname) r.propagatedBuildInputs)))
      ])
    [ false true ];

  github =
    let r = import (seed + "/github.nix") { inherit gitUrl; }; in [
      (t "instantiates" (isDrv r))
      (t "requirements read from the fetched source" (r.pinion.roots == [ "six" ]))
      (t "doCheck passed through" (r.doCheck == false && r.doInstallCheck == false))
    ];

  tensorflow-nixpkgs =
    let r = import (seed + "/tensorflow-nixpkgs.nix") { }; tf = pkg r "tensorflow"; in [
      (t "instantiates" (isDrv r))
      (t "tensorflow from nixpkgs at nixpkgs' version" (tf.provider == "nixpkgs" && tf.version == "2.1.0" && tf.source == "nixpkgs:tensorflow"))
      (t "other packages keep the default (wheel)" ((pkg r "requests").provider == "wheel"))
      (t "nixpkgs tensorflow's python deps replaced by resolved ones" (tf.derivation.propagatedBuildInputs == [ "numpy" "six" ]))
      (t "resolved six (wheel) is what tensorflow gets" (builtins.elem "six-1.16.0-py2.py3-none-any.whl" (map (d: d.src.name or "") r.pythonPackages.tensorflow.propagatedBuildInputs)))
    ];

  tensorflow-wheel =
    let r = import (seed + "/tensorflow-wheel.nix") { }; tf = pkg r "tensorflow"; in [
      (t "instantiates" (isDrv r))
      (t "tensorflow 2.2.0rc4 wheel" (tf.provider == "wheel" && tf.version == "2.2.0rc4"))
      (t "binary wheel gets autoPatchelfHook" (own tf.derivation.nativeBuildInputs == [ "auto-patchelf-hook" ]))
      (t "overrides_post applied to tensorflow" (tf.changed_by_overrides_post && builtins.match ".*rm [$]out/bin/tensorboard.*" r.pythonPackages.tensorflow.postInstall != null))
      (t "overrides_post leaves others alone" (!(pkg r "requests").changed_by_overrides_post))
      (t "overlay order" (r.pinion.overlays == [ "pinion" "overrides_post[0]" ]))
    ];

  pytorch =
    let r = import (seed + "/pytorch.nix") { }; in [
      (t "instantiates" (isDrv r))
      (t "custom python (pkgs.python36) is the resolution target" (r.pinion.python == "3.6.15"))
      (t "torch from wheel" ((pkg r "torch").provider == "wheel" && (pkg r "torch").version == "1.5.0"))
      (t "_default = nixpkgs,sdist: requests from nixpkgs" ((pkg r "requests").provider == "nixpkgs"))
      (t "_default = nixpkgs,sdist: numpy from nixpkgs" ((pkg r "numpy").provider == "nixpkgs"))
      (t "no other wheels" (builtins.all (p: p.provider != "wheel") (builtins.attrValues (builtins.removeAttrs r.pinion.packages [ "torch" ]))))
    ];

  poetry2nix =
    let r = import (seed + "/poetry2nix.nix") { }; ic = pkg r "imagecodecs"; in [
      (t "instantiates" (isDrv r))
      (t "imagecodecs from sdist with resolved build deps" (ic.provider == "sdist" && ic.build_dependencies == [ "cython" "numpy" "setuptools" "wheel" ]))
      (t "build deps are nativeBuildInputs, then the override's addition" (own ic.derivation.nativeBuildInputs == [ "cython" "numpy" "setuptools" "wheel" "auto-patchelf-hook" ]))
      (t "overrides_post changed imagecodecs" ic.changed_by_overrides_post)
      (t "everything from sdist" (builtins.all (p: p.provider == "sdist") (builtins.attrValues r.pinion.packages)))
    ];
}
