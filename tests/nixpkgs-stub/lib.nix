# The nixpkgs `lib` functions the stub and the tests use, with nixpkgs' semantics.
rec {
  fix = f: let x = f x; in x;
  extends = f: rattrs: self: let super = rattrs self; in super // f self super;
  composeExtensions = f: g: final: prev:
    let
      fApplied = f final prev;
      prev' = prev // fApplied;
    in
    fApplied // g final prev';
  composeManyExtensions = builtins.foldl' composeExtensions (_: _: { });
  concatMapStringsSep = sep: f: list: builtins.concatStringsSep sep (map f list);
  # lib/trivial.nix: warn prints "evaluation warning: ..." and aborts when
  # NIX_ABORT_ON_WARN is set (nixpkgs' way of making warnings fatal in CI).
  warn = msg: v:
    if builtins.elem (builtins.getEnv "NIX_ABORT_ON_WARN") [ "1" "true" "yes" ]
    then abort "evaluation warning: ${msg}"
    else builtins.trace "evaluation warning: ${msg}" v;
}
