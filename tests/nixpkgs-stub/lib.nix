# The nixpkgs `lib` functions the pinion library, the stub and the tests use, written
# for the stub with nixpkgs' semantics (README: which lib/*.nix file each follows).
let
  upperChars = [
    "A"
    "B"
    "C"
    "D"
    "E"
    "F"
    "G"
    "H"
    "I"
    "J"
    "K"
    "L"
    "M"
    "N"
    "O"
    "P"
    "Q"
    "R"
    "S"
    "T"
    "U"
    "V"
    "W"
    "X"
    "Y"
    "Z"
  ];
  lowerChars = [
    "a"
    "b"
    "c"
    "d"
    "e"
    "f"
    "g"
    "h"
    "i"
    "j"
    "k"
    "l"
    "m"
    "n"
    "o"
    "p"
    "q"
    "r"
    "s"
    "t"
    "u"
    "v"
    "w"
    "x"
    "y"
    "z"
  ];
  # Characters special in a POSIX extended regular expression, backslash-escaped.
  regexSpecial = [
    "\\"
    "["
    "{"
    "("
    ")"
    "^"
    "$"
    "?"
    "*"
    "+"
    "|"
    "."
  ];
  escapeRegex = builtins.replaceStrings regexSpecial (map (c: "\\" + c) regexSpecial);
in
rec {
  # lib/fixed-points.nix
  fix =
    f:
    let
      x = f x;
    in
    x;
  extends =
    f: rattrs: self:
    let
      super = rattrs self;
    in
    super // f self super;
  composeExtensions =
    f: g: final: prev:
    let
      fApplied = f final prev;
      prev' = prev // fApplied;
    in
    fApplied // g final prev';
  composeManyExtensions = builtins.foldl' composeExtensions (_: _: { });

  # lib/strings.nix
  concatMapStringsSep =
    sep: f: list:
    builtins.concatStringsSep sep (map f list);
  toLower = builtins.replaceStrings upperChars lowerChars;
  # Splits at every occurrence of the literal `sep`; keeps empty pieces and the
  # string context of `s`.
  splitString =
    sep: s:
    map (piece: builtins.substring 0 0 s + piece) (
      builtins.filter builtins.isString (builtins.split (escapeRegex (toString sep)) (toString s))
    );
  hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;
  hasSuffix =
    suffix: s:
    let
      n = builtins.stringLength s;
      k = builtins.stringLength suffix;
    in
    n >= k && builtins.substring (n - k) n s == suffix;
  removePrefix =
    prefix: s:
    let
      k = builtins.stringLength prefix;
    in
    if builtins.substring 0 k s == prefix then builtins.substring k (-1) s else s;

  # lib/versions.nix (the first two parts by builtins.splitVersion, so "3.11rc1" -> "3.11")
  versions.majorMinor =
    v:
    let
      parts = builtins.splitVersion v;
    in
    builtins.concatStringsSep "." (
      builtins.genList (builtins.elemAt parts) (
        if builtins.length parts < 2 then builtins.length parts else 2
      )
    );

  # lib/attrsets.nix
  nameValuePair = name: value: { inherit name value; };
  genAttrs = names: f: builtins.listToAttrs (map (n: nameValuePair n (f n)) names);
  mapAttrs' = f: set: builtins.listToAttrs (map (name: f name set.${name}) (builtins.attrNames set));
  optionalAttrs = cond: set: if cond then set else { };

  # lib/lists.nix
  optional = cond: x: if cond then [ x ] else [ ];
  remove = x: builtins.filter (y: y != x);
  subtractLists = drop: builtins.filter (x: !(builtins.elem x drop));

  # lib/trivial.nix: warn prints "evaluation warning: ..." and aborts when
  # NIX_ABORT_ON_WARN is set (nixpkgs' way of making warnings fatal in CI).
  warn =
    msg: v:
    if
      builtins.elem (builtins.getEnv "NIX_ABORT_ON_WARN") [
        "1"
        "true"
        "yes"
      ]
    then
      abort "evaluation warning: ${msg}"
    else
      builtins.trace "evaluation warning: ${msg}" v;
}
