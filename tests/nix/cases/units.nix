# Cases of library internals ({ expr; expected; } per check, see common.nix and run.sh).
let
  inherit (import ../common.nix { }) pinion pkgs;
  inherit (pkgs) lib;
  util = import ../../../nix/util.nix { inherit lib; };
  resolve = import ../../../nix/resolve.nix {
    inherit pkgs;
    resolver = ../fake-resolver;
    dbFile = ../fixtures/universe.json;
  };
  versions = resolve.nixpkgsVersions pkgs.python3.pkgs [
    "requests"
    "pyyaml"
    "removed-package"
    "python"
    "buildpythonpackage"
    "six"
    "typing-extensions"
  ];
in
{
  util = {
    "normalizeName collapses runs of -_. and lowercases" = {
      expr = util.normalizeName "Foo__Bar.-Baz";
      expected = "foo-bar-baz";
    };
    "provider strings split and trimmed" = {
      expr = util.splitComma " nixpkgs , sdist,,";
      expected = [
        "nixpkgs"
        "sdist"
      ];
    };
    "linux wheel detected" = {
      expr = util.wheelIsLinuxBinary "a-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
      expected = true;
    };
    "musllinux wheel detected" = {
      expr = util.wheelIsLinuxBinary "a-1-cp311-cp311-musllinux_1_1_x86_64.whl";
      expected = true;
    };
    "pure wheel not patched" = {
      expr = util.wheelIsLinuxBinary "a_linux-1-py3-none-any.whl";
      expected = false;
    };
    "macOS wheel not patched" = {
      expr = util.wheelIsLinuxBinary "a-1-cp311-cp311-macosx_11_0_arm64.whl";
      expected = false;
    };
    "composeManyExtensions order: later sees earlier" = {
      expr =
        (lib.fix (
          lib.extends
            (lib.composeManyExtensions [
              (s: p: { x = p.x + "a"; })
              (s: p: { x = p.x + "b"; })
            ])
            (s: {
              x = "0";
            })
        )).x;
      expected = "0ab";
    };
    "closure: start first, then breadth-first in edge order, each name once (not sorted)" = {
      expr = util.closure (
        n:
        {
          b = [
            "d"
            "c"
          ];
          c = [
            "a"
            "b"
          ];
        }
        .${n} or [ ]
      ) [ "b" ];
      expected = [
        "b"
        "d"
        "c"
        "a"
      ];
    };
    "uniqueSorted: distinct and sorted" = {
      expr = util.uniqueSorted [
        "b"
        "a"
        "b"
        "c"
        "a"
      ];
      expected = [
        "a"
        "b"
        "c"
      ];
    };
    "requirementNames: names of requirement lines only" = {
      expr = util.requirementNames "Foo_Bar[x]>=1 # c\n-r other.txt\n# comment\nhttps://example.org/x.whl\nbaz @ https://example.org/b.whl\n  qux;python_version<'4'\n";
      expected = [
        "foo-bar"
        "baz"
        "qux"
      ];
    };
    "cutCycles: the edge closing a cycle in a name-order walk is cut" = {
      expr = util.cutCycles {
        a.dependencies = [ "b" ];
        b.dependencies = [ "c" ];
        c.dependencies = [
          "a"
          "c"
        ];
      };
      expected = {
        "c a" = true;
        "c c" = true;
      };
    };
  };

  # The stand-in's lib functions the library uses, on the examples of nixpkgs' lib/*.nix
  # documentation (the stand-in must answer what nixpkgs' lib answers).
  stand-in-lib = {
    "toLower \"HOME\"" = {
      expr = lib.toLower "HOME";
      expected = "home";
    };
    "splitString \".\" \"foo.bar.baz\"" = {
      expr = lib.splitString "." "foo.bar.baz";
      expected = [
        "foo"
        "bar"
        "baz"
      ];
    };
    "splitString \"/\" \"/usr/local/bin\" keeps the empty first piece" = {
      expr = lib.splitString "/" "/usr/local/bin";
      expected = [
        ""
        "usr"
        "local"
        "bin"
      ];
    };
    "hasPrefix \"foo\" \"foobar\"" = {
      expr = lib.hasPrefix "foo" "foobar";
      expected = true;
    };
    "hasPrefix \"foo\" \"barfoo\"" = {
      expr = lib.hasPrefix "foo" "barfoo";
      expected = false;
    };
    "hasSuffix \"foo\" \"foobar\"" = {
      expr = lib.hasSuffix "foo" "foobar";
      expected = false;
    };
    "hasSuffix \"foo\" \"barfoo\"" = {
      expr = lib.hasSuffix "foo" "barfoo";
      expected = true;
    };
    "removePrefix \"foo.\" \"foo.bar.baz\"" = {
      expr = lib.removePrefix "foo." "foo.bar.baz";
      expected = "bar.baz";
    };
    "removePrefix \"xxx\" \"foo.bar.baz\"" = {
      expr = lib.removePrefix "xxx" "foo.bar.baz";
      expected = "foo.bar.baz";
    };
    "versions.majorMinor \"1.2.3\"" = {
      expr = lib.versions.majorMinor "1.2.3";
      expected = "1.2";
    };
    "versions.majorMinor \"3\" and \"3.13.0rc1\"" = {
      expr = map lib.versions.majorMinor [
        "3"
        "3.13.0rc1"
      ];
      expected = [
        "3"
        "3.13"
      ];
    };
    "genAttrs [ \"foo\" \"bar\" ] (name: \"x_\" + name)" = {
      expr = lib.genAttrs [ "foo" "bar" ] (name: "x_" + name);
      expected = {
        foo = "x_foo";
        bar = "x_bar";
      };
    };
    "mapAttrs' (name: value: nameValuePair (\"foo_\" + name) (\"bar-\" + value))" = {
      expr = lib.mapAttrs' (name: value: lib.nameValuePair ("foo_" + name) ("bar-" + value)) {
        x = "a";
        y = "b";
      };
      expected = {
        foo_x = "bar-a";
        foo_y = "bar-b";
      };
    };
    "optionalAttrs true / false" = {
      expr = [
        (lib.optionalAttrs true { my = "set"; })
        (lib.optionalAttrs false { my = "set"; })
      ];
      expected = [
        { my = "set"; }
        { }
      ];
    };
    "optional true \"foo\" / false" = {
      expr = [
        (lib.optional true "foo")
        (lib.optional false "foo")
      ];
      expected = [
        [ "foo" ]
        [ ]
      ];
    };
    "remove 3 [ 1 3 4 3 ]" = {
      expr = lib.remove 3 [
        1
        3
        4
        3
      ];
      expected = [
        1
        4
      ];
    };
    "subtractLists [ 3 2 ] [ 1 2 3 4 5 3 ]" = {
      expr = lib.subtractLists [ 3 2 ] [ 1 2 3 4 5 3 ];
      expected = [
        1
        4
        5
      ];
    };
  };

  nixpkgs-versions = {
    "package derivations listed with attr and version" = {
      expr = versions.requests;
      expected = {
        attr = "requests";
        version = "2.31.0";
      };
    };
    "only the names asked about" = {
      expr = builtins.attrNames versions;
      expected = [
        "requests"
        "six"
      ];
    };
    "an attr named differently (pyyaml_6) is not found" = {
      expr = versions ? pyyaml;
      expected = false;
      context = versions;
    };
    "throwing attributes skipped" = {
      expr = versions ? removed-package;
      expected = false;
      context = versions;
    };
    "the interpreter is not a package" = {
      expr = versions ? python;
      expected = false;
      context = versions;
    };
    "underscore spelling of older nixpkgs found" = {
      expr =
        (resolve.nixpkgsVersions {
          typing_extensions = pkgs.python3.pkgs.six // {
            pname = "typing_extensions";
          };
        } [ "typing-extensions" ]).typing-extensions.attr;
      expected = "typing_extensions";
    };
  };

  options =
    let
      lock = builtins.fromJSON (builtins.readFile ../fixtures/real.lock.json.in);
      extra = pkgs.python3.pkgs.numpy;
      env = pinion.mkPython {
        requirements = "six";
        packagesExtra = [ extra ];
        tests = true;
      };
      collide = pinion.mkPython {
        requirements = "six";
        ignoreCollisions = true;
      };
      camel = pinion.mkPython {
        requirements = "six";
        overridesPre = [ (s: p: { marker-pre = true; }) ];
        overridesPost = [
          (s: p: {
            six = p.six.overridePythonAttrs (o: {
              postInstall = "echo post";
            });
          })
        ];
      };
      # An attribute that aborts (uncatchable) proves the lock path never walks python.pkgs.
      nixLock = pkgs.runCommand "six.lock.nix" { } ''
        ${../fake-resolver}/bin/resolver --db ${../fixtures/universe.json} -r ${builtins.toFile "r.txt" "six"} \
          --python 3.11.2 --system x86_64-linux --format nix -o $out
      '';
      lazy = pinion.mkPython {
        inherit lock;
        overrides_pre = [ (s: p: { boom = abort "python.pkgs was forced"; }) ];
      };
    in
    {
      "packagesExtra added to the env" = {
        expr = builtins.elem extra.outPath (map (d: d.outPath) env.packages);
        expected = true;
        context = {
          extra = extra.outPath;
          packages = map (d: d.outPath) env.packages;
        };
      };
      "tests = true enables checks of resolved packages" = {
        expr = env.pinion.packages.six.derivation.doCheck;
        expected = true;
      };
      "tests = false by default" = {
        expr = (pinion.mkPython { requirements = "six"; }).pinion.packages.six.derivation.doCheck;
        expected = false;
      };
      "ignoreCollisions uses python.buildEnv with ignoreCollisions" = {
        expr = {
          inherit (collide) ignoreCollisions;
          packages = builtins.length collide.packages;
        };
        expected = {
          ignoreCollisions = true;
          packages = 1;
        };
      };
      "camelCase override aliases" = {
        expr = {
          inherit (camel.pinion) overlays;
          inherit (camel.pinion.packages.six) changed_by_overrides_post;
          inherit (camel.pythonPackages) marker-pre;
        };
        expected = {
          overlays = [
            "overrides_pre[0]"
            "pinion"
            "overrides_post[0]"
          ];
          changed_by_overrides_post = true;
          marker-pre = true;
        };
      };
      "lock path does not force python.pkgs" = {
        expr = builtins.typeOf lazy.drvPath;
        expected = "string";
      };
      "a .nix lock (resolver --format nix) is read like JSON" = {
        expr = (pinion.mkPython { lock = nixLock; }).pinion.roots;
        expected = [ "six" ];
      };
      "resolve returns the lock" = {
        expr = (pinion.resolve { requirements = "six"; }).packages.six.version;
        expected = "1.16.0";
      };
    };

  providers = {
    "keys normalized, _default kept, values canonical" = {
      expr = resolve.checkProviders {
        _default = "nixpkgs, sdist";
        Foo_Bar = "wheel";
      };
      expected = {
        _default = "nixpkgs,sdist";
        foo-bar = "wheel";
      };
    };
  };
}
