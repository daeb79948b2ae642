# Small pure helpers shared by the pinion Nix library, over nixpkgs' `lib`. Only
# `lib` functions nixpkgs has had for years are used, so older nixpkgs work too.
{ lib }:
rec {
  # PEP 503 normalization: lowercase, each run of `-`, `_`, `.` becomes `-`. Gives what
  # pinion_pep::ProjectName gives for a valid name (ASCII letters, digits, `-_.`, a
  # letter or digit at each end); other strings are not checked (`_a` -> `-a`).
  normalizeName =
    s:
    lib.toLower (
      builtins.concatStringsSep "-" (builtins.filter builtins.isString (builtins.split "[-_.]+" s))
    );

  # Leading and trailing whitespace removed. (lib.strings.trim does the same but is a
  # 2024 addition that older nixpkgs lack.)
  trim =
    s:
    let
      m = builtins.match "[[:space:]]*(.*[^[:space:]])[[:space:]]*" s;
    in
    if m == null then "" else builtins.head m;

  # " a , b,," -> [ "a" "b" ]: the comma-separated items, trimmed, empty ones dropped.
  splitComma = s: builtins.filter (x: x != "") (map trim (lib.splitString "," s));

  # Transitive closure of `start` over `edges` (name -> list of names), each name
  # once, in breadth-first order: `start` first, then the names they reach, in the
  # order `edges` lists them (builtins.genericClosure's order). Not sorted.
  closure =
    edges: start:
    map (x: x.key) (
      builtins.genericClosure {
        startSet = map (key: { inherit key; }) start;
        operator = item: map (key: { inherit key; }) (edges item.key);
      }
    );

  # "name-1.0-cp311-cp311-manylinux_2_17_x86_64.whl" -> needs autoPatchelf; pure
  # ("any") and macOS wheels do not.
  wheelIsLinuxBinary = filename: builtins.match ".*-[^-]*linux[^-]*\\.whl" filename != null;

  # The distinct strings of `names`, sorted. (lib.unique keeps the first
  # occurrences in list order instead, and is quadratic.)
  uniqueSorted = names: builtins.attrNames (lib.genAttrs names (_: null));

  # Normalized project names of the requirement lines of a requirements.txt text
  # (options, URLs and includes skipped). Only a hint of which nixpkgs attributes to
  # look at first: a name missed here is found in the first lock (see resolve.nix).
  requirementNames =
    text:
    let
      name =
        line:
        let
          m = builtins.match "[[:space:]]*([A-Za-z0-9][A-Za-z0-9._-]*)([][:space:];<>=!~@[].*)?" (
            builtins.head (lib.splitString "#" line)
          );
        in
        lib.optional (m != null) (normalizeName (builtins.head m));
    in
    builtins.concatMap name (lib.splitString "\n" text);

  # Runtime edges to leave out so that no package depends on itself (PyPI has such
  # cycles; a Nix derivation cannot). A depth-first walk, starting from each package
  # in name order and following each package's `dependencies` in the lock's order,
  # drops every edge that points at a package still on the walk's stack. Returns
  # { "<from> <to>" = true; }. The environment still gets every package: it is
  # built from the lock's full dependency closure.
  cutCycles =
    packages:
    let
      visit =
        state: node:
        if state.done ? ${node} then
          state
        else
          let
            entered = state // {
              onStack = state.onStack // {
                ${node} = true;
              };
            };
            walked = builtins.foldl' (
              st: dep:
              if st.onStack ? ${dep} then
                st
                // {
                  cut = st.cut // {
                    "${node} ${dep}" = true;
                  };
                }
              else
                visit st dep
            ) entered packages.${node}.dependencies;
          in
          walked
          // {
            onStack = builtins.removeAttrs walked.onStack [ node ];
            done = walked.done // {
              ${node} = true;
            };
          };
    in
    (builtins.foldl' visit {
      done = { };
      onStack = { };
      cut = { };
    } (builtins.attrNames packages)).cut;
}
