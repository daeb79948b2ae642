# Small pure helpers shared by the pinion Nix library. They use only builtins so
# the library needs nothing from nixpkgs' `lib` (and works with any nixpkgs).
let
  upper = [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" ];
  lower = [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" ];
  strings = builtins.filter builtins.isString;
in
rec {
  toLower = builtins.replaceStrings upper lower;

  # PEP 503 normalization, identical to pinion_pep::ProjectName.
  normalizeName = s: toLower (builtins.concatStringsSep "-" (strings (builtins.split "[-_.]+" s)));

  trim = s:
    let m = builtins.match "[[:space:]]*(.*[^[:space:]])[[:space:]]*" s;
    in if m == null then "" else builtins.head m;

  splitComma = s: builtins.filter (x: x != "") (map trim (strings (builtins.split "," s)));

  # Same semantics as nixpkgs' lib.composeExtensions / composeManyExtensions,
  # so user overlays compose exactly as with `python.override { packageOverrides }`.
  composeExtensions = f: g: self: super:
    let
      fApplied = f self super;
      super' = super // fApplied;
    in
    fApplied // g self super';
  composeManyExtensions = builtins.foldl' composeExtensions (_: _: { });

  # Transitive closure of `start` over `edges` (name -> list of names), sorted.
  closure = edges: start:
    map (x: x.key) (builtins.genericClosure {
      startSet = map (key: { inherit key; }) start;
      operator = item: map (key: { inherit key; }) (edges item.key);
    });

  majorMinor = v:
    let parts = strings (builtins.split "\\." v);
    in builtins.concatStringsSep "." (builtins.genList (builtins.elemAt parts) (if builtins.length parts < 2 then builtins.length parts else 2));

  # "name-1.0-cp311-cp311-manylinux_2_17_x86_64.whl" -> needs autoPatchelf; pure
  # ("any") and macOS wheels do not.
  wheelIsLinuxBinary = filename: builtins.match ".*-[^-]*linux[^-]*\\.whl" filename != null;

  fix = f: let x = f x; in x;
  extends = f: rattrs: self: let super = rattrs self; in super // f self super;

  unique = names: builtins.attrNames (builtins.listToAttrs (map (n: { name = n; value = null; }) names));

  # Normalized project names of the requirement lines of a requirements.txt text
  # (options, URLs and includes skipped). Only a hint of which nixpkgs attributes to
  # look at first: a name missed here is found in the first lock (see resolve.nix).
  requirementNames = text:
    let
      lines = strings (builtins.split "\n" text);
      name = line:
        let m = builtins.match "[[:space:]]*([A-Za-z0-9][A-Za-z0-9._-]*)([][:space:];<>=!~@[].*)?" (builtins.head (builtins.split "#" line));
        in if m == null then [ ] else [ (normalizeName (builtins.head m)) ];
    in
    builtins.concatMap name lines;

  # Runtime edges to leave out so that no package depends on itself (PyPI has such
  # cycles; a Nix derivation cannot). A depth-first walk in name order over the
  # lock's `dependencies` drops every edge that points at a package still on the
  # walk's stack. Returns { "<from> <to>" = true; }. The environment still gets every
  # package: it is built from the lock's full dependency closure.
  cutCycles = packages:
    let
      visit = state: node:
        if state.done ? ${node} then state
        else
          let
            entered = state // { onStack = state.onStack // { ${node} = true; }; };
            walked = builtins.foldl'
              (st: dep:
                if st.onStack ? ${dep} then st // { cut = st.cut // { "${node} ${dep}" = true; }; }
                else visit st dep)
              entered
              packages.${node}.dependencies;
          in
          walked // { onStack = builtins.removeAttrs walked.onStack [ node ]; done = walked.done // { ${node} = true; }; };
    in
    (builtins.foldl' visit { done = { }; onStack = { }; cut = { }; } (builtins.attrNames packages)).cut;
}
