# Checks of library internals (list of { what; ok; } per attribute, see run.sh).
let
  inherit (import ../common.nix { }) pinion pkgs;
  util = import ../../../nix/util.nix { inherit (pkgs) lib; };
  resolve = import ../../../nix/resolve.nix { inherit pkgs; resolver = ../fake-resolver; dbFile = ../fixtures/universe.json; };
  t = what: ok: { inherit what ok; };
  versions = resolve.nixpkgsVersions pkgs.python3.pkgs [ "requests" "pyyaml" "removed-package" "python" "buildpythonpackage" "six" "typing-extensions" ];
in
{
  util = [
    (t "normalizeName collapses runs of -_. and lowercases" (util.normalizeName "Foo__Bar.-Baz" == "foo-bar-baz"))
    (t "provider strings split and trimmed" (util.splitComma " nixpkgs , sdist,," == [ "nixpkgs" "sdist" ]))
    (t "linux wheel detected" (util.wheelIsLinuxBinary "a-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"))
    (t "musllinux wheel detected" (util.wheelIsLinuxBinary "a-1-cp311-cp311-musllinux_1_1_x86_64.whl"))
    (t "pure wheel not patched" (!(util.wheelIsLinuxBinary "a_linux-1-py3-none-any.whl")))
    (t "macOS wheel not patched" (!(util.wheelIsLinuxBinary "a-1-cp311-cp311-macosx_11_0_arm64.whl")))
    (t "composeManyExtensions order: later sees earlier" ((pkgs.lib.fix (pkgs.lib.extends (pkgs.lib.composeManyExtensions [ (s: p: { x = p.x + "a"; }) (s: p: { x = p.x + "b"; }) ]) (s: { x = "0"; }))).x == "0ab"))
  ];
  nixpkgs-versions = [
    (t "package derivations listed with attr and version" (versions.requests == { attr = "requests"; version = "2.31.0"; }))
    (t "only the names asked about" (builtins.attrNames versions == [ "requests" "six" ]))
    (t "an attr named differently (pyyaml_6) is not found" (!(versions ? pyyaml)))
    (t "throwing attributes skipped" (!(versions ? removed-package)))
    (t "the interpreter is not a package" (!(versions ? python)))
    (t "underscore spelling of older nixpkgs found" ((resolve.nixpkgsVersions { typing_extensions = pkgs.python3.pkgs.six // { pname = "typing_extensions"; }; } [ "typing-extensions" ]).typing-extensions.attr == "typing_extensions"))
  ];
  options =
    let
      lock = builtins.fromJSON (builtins.readFile ../fixtures/real.lock.json.in);
      extra = pkgs.python3.pkgs.numpy;
      env = pinion.mkPython { requirements = "six"; packagesExtra = [ extra ]; tests = true; };
      collide = pinion.mkPython { requirements = "six"; ignoreCollisions = true; };
      camel = pinion.mkPython {
        requirements = "six";
        overridesPre = [ (s: p: { marker-pre = true; }) ];
        overridesPost = [ (s: p: { six = p.six.overridePythonAttrs (o: { postInstall = "echo post"; }); }) ];
      };
      # An attribute that aborts (uncatchable) proves the lock path never walks python.pkgs.
      nixLock = pkgs.runCommand "six.lock.nix" { } ''
        ${../fake-resolver}/bin/resolver --db ${../fixtures/universe.json} -r ${builtins.toFile "r.txt" "six"} \
          --python 3.11.2 --system x86_64-linux --format nix -o $out
      '';
      lazy = pinion.mkPython { inherit lock; overrides_pre = [ (s: p: { boom = abort "python.pkgs was forced"; }) ]; };
    in
    [
      (t "packagesExtra added to the env" (builtins.elem extra.outPath (map (d: d.outPath) env.packages)))
      (t "tests = true enables checks of resolved packages" (env.pinion.packages.six.derivation.doCheck == true))
      (t "tests = false by default" ((pinion.mkPython { requirements = "six"; }).pinion.packages.six.derivation.doCheck == false))
      (t "ignoreCollisions uses python.buildEnv with ignoreCollisions" (collide.ignoreCollisions == true && builtins.length collide.packages == 1))
      (t "camelCase override aliases" (camel.pinion.overlays == [ "overrides_pre[0]" "pinion" "overrides_post[0]" ] && camel.pinion.packages.six.changed_by_overrides_post && camel.pythonPackages.marker-pre))
      (t "lock path does not force python.pkgs" (builtins.isString lazy.drvPath))
      (t "a .nix lock (resolver --format nix) is read like JSON" ((pinion.mkPython { lock = nixLock; }).pinion.roots == [ "six" ]))
      (t "resolve returns the lock" ((pinion.resolve { requirements = "six"; }).packages.six.version == "1.16.0"))
    ];
  providers = [
    (t "keys normalized, _default kept, values canonical" (resolve.checkProviders { _default = "nixpkgs, sdist"; Foo_Bar = "wheel"; } == { _default = "nixpkgs,sdist"; foo-bar = "wheel"; }))
  ];
}
