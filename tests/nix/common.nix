# Shared setup of the Nix tests: the nixpkgs stub, pinion instances over it, and the
# evaluation of test cases.
{
  resolver ? ./fake-resolver,
  db ? ./fixtures/universe.json,
}:
rec {
  pkgs = import ../nixpkgs-stub { };
  pinion = import ../.. { inherit pkgs resolver db; };

  # Test cases are sets { "<what it checks>" = { expr; expected; context ? null; }; },
  # the shape of nixpkgs' lib.runTests: a case passes when `expr == expected`. run.sh
  # evaluates `runCases <set>` and reports each case; a failing one carries `expected`,
  # `actual` and `context` (values that explain a true/false check) for the report.
  runCases =
    cases:
    map (
      what:
      let
        c = cases.${what};
        ok = c.expr == c.expected;
      in
      {
        inherit what ok;
      }
      // (
        if ok then
          { }
        else
          {
            expected = printable 0 c.expected;
            actual = printable 0 c.expr;
            context = printable 0 (c.context or null);
          }
      )
    ) (builtins.attrNames cases);

  # A value as JSON can hold it: functions and derivations named, deep values cut.
  printable =
    depth: v:
    if builtins.isFunction v then
      "<function>"
    else if builtins.isAttrs v && (v.type or null) == "derivation" then
      let
        out = builtins.tryEval (toString v.outPath);
      in
      "<derivation ${if out.success then out.value else v.name or "?"}>"
    else if depth > 8 && (builtins.isAttrs v || builtins.isList v) then
      "<...>"
    else if builtins.isAttrs v then
      builtins.mapAttrs (_: printable (depth + 1)) v
    else if builtins.isList v then
      map (printable (depth + 1)) v
    else
      v;
}
