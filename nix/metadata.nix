# `passthru.pinion` of every result: what was resolved and how each package is
# built (provider, inputs, which overlays changed it), for users and for tests.
# Lazy: nothing here is evaluated unless inspected.
{
  lock,
  python0,
  system,
  runtimeNames,
  overridesPre,
  overridesPost,
  final,
  withoutPost,
}:
let
  names = drvs: map (d: d.pname or d.name) drvs;
  describe =
    name: p:
    let
      drv = final.${name};
    in
    {
      inherit (p)
        version
        provider
        format
        dependencies
        build_dependencies
        ;
      source = p.source.filename or "nixpkgs:${p.source.attr}";
      derivation = {
        name = drv.name;
        format = drv.format or null;
        nativeBuildInputs = names (drv.nativeBuildInputs or [ ]);
        propagatedBuildInputs = names (drv.propagatedBuildInputs or [ ]);
        # Python packages run their checks in installCheckPhase (doCheck becomes doInstallCheck).
        doCheck = (drv.doCheck or false) || (drv.doInstallCheck or false);
      };
      changed_by_overrides_post = drv.drvPath != withoutPost.${name}.drvPath;
    };
in
{
  python = python0.version;
  inherit system;
  inherit (lock) roots;
  runtime = runtimeNames;
  overlays =
    builtins.genList (i: "overrides_pre[${toString i}]") (builtins.length overridesPre)
    ++ [ "pinion" ]
    ++ builtins.genList (i: "overrides_post[${toString i}]") (builtins.length overridesPost);
  packages = builtins.mapAttrs describe lock.packages;
}
