# Resolution through the `resolver` binary inside a sandboxed derivation (no
# network), whose output is imported (import-from-derivation), plus the inputs
# it needs: providers, and the versions nixpkgs' Python set offers.
{
  pkgs,
  resolver,
  dbFile,
}:
let
  inherit (pkgs) lib;
  util = import ./util.nix { inherit lib; };

  # The resolver built from this repository when none is given. The source is the
  # workspace's member directories (from Cargo.toml) and Cargo files only, so edits
  # elsewhere (nix/, tests/nix, docs) do not rebuild it.
  cargoToml = builtins.fromTOML (builtins.readFile ../Cargo.toml);
  memberDirs = map (m: builtins.head (builtins.split "/" m)) cargoToml.workspace.members;
  src = builtins.path {
    name = "pinion-source";
    path = ./..;
    filter =
      path: type:
      let
        rel = lib.removePrefix "${toString ./..}/" (toString path);
        top = builtins.head (builtins.split "/" rel);
      in
      (
        builtins.elem rel [
          "Cargo.toml"
          "Cargo.lock"
        ]
        || builtins.elem top memberDirs
      )
      && builtins.match "(.*/)?target(/.*)?|tests/nix.*" rel == null;
  };
  resolverPackage =
    if resolver != null then
      resolver
    else
      pkgs.rustPlatform.buildRustPackage {
        pname = "pinion-resolver";
        version = cargoToml.workspace.package.version;
        inherit src;
        cargoLock.lockFile = ../Cargo.lock;
        cargoBuildFlags = [
          "-p"
          "resolver"
        ];
        doCheck = false;
      };

  validProviders = [
    "wheel"
    "sdist"
    "nixpkgs"
  ];

  # The DB unpacked once into the store, so each resolution memory-maps pinion.db
  # (microseconds) instead of decompressing the tarball (minutes at full PyPI scale). The
  # sha256 of pinion.db is checked against the tarball's manifest here, once, and handed
  # to the resolver for the lock. A tree fetched by builtins.fetchTarball (nix/db.nix) is
  # unpacked already: pinion.db is linked, not copied, so it is in the store once. A raw
  # pinion.db is accepted as is.
  dbUnpacked =
    pkgs.runCommand "pinion-db-unpacked"
      {
        preferLocalBuild = true;
        allowSubstitutes = false;
      }
      ''
        mkdir -p $out
        manifest_sha256() { sed -n 's/^ *"sha256": *"\([0-9a-f]*\)".*/\1/p' "$1"; }
        if [ -d ${dbFile} ]; then
          ln -s ${dbFile}/pinion.db $out/pinion.db
          want=$(manifest_sha256 ${dbFile}/manifest.json)
        elif xz -t ${dbFile} 2>/dev/null; then
          tar -xJf ${dbFile} -C $out --strip-components=1 pinion-db/pinion.db pinion-db/manifest.json
          want=$(manifest_sha256 $out/manifest.json)
        elif gzip -t ${dbFile} 2>/dev/null; then
          echo "pinion: ${dbFile} is a gzip tarball, as published up to database format 3; this pinion reads format 4 (.tar.xz)" >&2
          echo "hint: rebuild it with this version's \`dbgen build\`, or pin a database published for format 4" >&2
          exit 1
        else
          cp ${dbFile} $out/pinion.db
          want=""
        fi
        got=$(sha256sum $out/pinion.db | cut -d' ' -f1)
        if [ -n "$want" ] && [ "$want" != "$got" ]; then
          echo "pinion: ${dbFile}: pinion.db has sha256 $got but its manifest says $want; the DB tarball is corrupt, fetch it again" >&2
          exit 1
        fi
        printf %s "$got" > $out/sha256
      '';
in
rec {
  inherit resolverPackage dbUnpacked;
  resolverExe = "${resolverPackage}/bin/resolver";

  # Checks provider strings at evaluation time (clear error before any build) and
  # normalizes package keys the way the lock names packages.
  checkProviders =
    providers:
    lib.mapAttrs' (
      key: value:
      let
        names =
          if builtins.isString value then
            util.splitComma value
          else
            throw "pinion: providers.${key} must be a string like \"wheel,sdist\", got a ${builtins.typeOf value}";
        bad = lib.subtractLists validProviders names;
      in
      if names == [ ] then
        throw "pinion: providers.${key} is empty; valid providers are: ${builtins.concatStringsSep ", " validProviders}"
      else if bad != [ ] then
        throw "pinion: providers.${key} = \"${value}\": unknown provider \"${builtins.head bad}\"; valid providers are: ${builtins.concatStringsSep ", " validProviders}"
      else
        lib.nameValuePair (if key == "_default" then key else util.normalizeName key) (
          builtins.concatStringsSep "," names
        )
    ) providers;

  # { "<name>" = { attr; version; }; } for those `names` (normalized project names)
  # that python.pkgs has as an attribute: `name` itself, or its underscore spelling
  # (older nixpkgs). Only those attributes are evaluated, as far as pname/version and
  # meta.broken, inside tryEval (removed packages and `disabled` ones throw; broken ones
  # are skipped); one whose pname does not normalize to `name` is an alias or a
  # different project and is skipped.
  # Nothing else of the set is evaluated: an attribute that aborts or warns
  # elsewhere in python.pkgs costs nothing and prints nothing.
  nixpkgsVersions =
    ps: names:
    let
      entry =
        name:
        let
          underscored = builtins.replaceStrings [ "-" ] [ "_" ] name;
          attr =
            if ps ? ${name} then
              name
            else if ps ? ${underscored} then
              underscored
            else
              null;
          r = builtins.tryEval (
            let
              v = ps.${attr};
            in
            if
              builtins.isAttrs v
              && v ? pythonModule
              && v ? pname
              && v ? version
              && builtins.isString v.pname
              && builtins.isString v.version
              && util.normalizeName v.pname == name
              && !(v.meta.broken or false)
            then
              {
                inherit name;
                value = {
                  inherit attr;
                  inherit (v) version;
                };
              }
            else
              null
          );
        in
        if attr != null && r.success then r.value else null;
    in
    builtins.listToAttrs (builtins.filter (e: e != null) (map entry names));

  # The derivation whose output is the JSON lock for these inputs; `nixpkgs` is
  # the { name = { attr; version; }; } table the resolver may take packages from,
  # `shards` the { "shard-XXXX.bin" = <file>; } hash shards at hand (data-format.md,
  # *Resolution in two steps*). Two other outputs are results too, deterministic in the
  # inputs like a lock: a failed resolution (the failure marker line, then the
  # resolver's message), so that evaluation can ask nixpkgs about the packages it names
  # and try again, and a resolution whose lock needs shards not at hand (the shards
  # marker line, then the resolver's need-shards JSON), so that evaluation fetches them
  # and runs it again (resolveIfd).
  lockDerivation =
    {
      requirements,
      providers,
      python,
      system,
      nixpkgs,
      shards,
    }:
    pkgs.runCommand "pinion-lock.json"
      {
        inherit requirements;
        providersJson = builtins.toJSON (checkProviders providers);
        nixpkgsJson = builtins.toJSON nixpkgs;
        passAsFile = [
          "requirements"
          "providersJson"
          "nixpkgsJson"
        ];
        preferLocalBuild = true;
        allowSubstitutes = false;
      }
      ''
        echo "pinion: resolving for Python ${python.version} on ${system} with ${dbFile} (${toString (builtins.length (builtins.attrNames shards))} hash shards)"
        mkdir shards
        ${builtins.concatStringsSep "\n" (
          map (f: "ln -s ${shards.${f}} shards/${f}") (builtins.attrNames shards)
        )}
        rc=0
        ${resolverExe} --db ${dbUnpacked}/pinion.db --db-sha256 "$(cat ${dbUnpacked}/sha256)" -r "$requirementsPath" \
          --python ${python.version} --system ${system} \
          --providers "$providersJsonPath" --nixpkgs "$nixpkgsJsonPath" \
          --shards shards --need-shards need.json \
          --format json -o lock.json 2>resolver.log || rc=$?
        cat resolver.log >&2
        # Exit status 1 is the resolver's "cannot resolve" (or bad input); anything else
        # (a crash, a kill) fails the build instead of being kept as a result.
        if [ "$rc" = 1 ]; then
          { echo "${failureMarker}"; cat resolver.log; } > "$out"
        elif [ "$rc" != 0 ]; then
          exit "$rc"
        elif [ -e lock.json ]; then
          mv lock.json "$out"
        else
          { echo "${shardsMarker}"; cat need.json; } > "$out"
        fi
      '';
  failureMarker = "pinion: resolution failed";
  shardsMarker = "pinion: hash shards needed";

  # The shard file for one entry ({ file; sha256; }) of the resolver's need-shards list.
  shardFor =
    dbFile.shardFor or (
      s:
      throw "pinion: the database ${toString dbFile} comes without hash shards, and the resolution needs ${s.file}; pass `db = { path = ...; shards = ./dir; }` or `db = { url = ...; sha256 = ...; shards_url = ...; }`"
    );

  # Resolution through import-from-derivation, asking nixpkgs only about names the
  # resolution reaches: first the names in the requirements and providers; then,
  # while the resolution (its need-shards list or lock, or the resolver's failure
  # message) names packages nixpkgs has that were not asked about, again with those
  # added (the resolver may then take nixpkgs versions for them). Hash shards are
  # fetched as the resolver asks for them and kept for the later rounds. The first
  # run has no shards and writes no lock, but its need-shards list names the picked
  # packages, so the second run has both the shards and the next round's names:
  # usually two resolver runs in all, one round or two. Returns the final lock
  # derivation (for mkLock) and its value; a resolution that still fails stops
  # evaluation with the resolver's message.
  resolveIfd =
    {
      requirements,
      providers,
      python,
      system,
      ps,
    }:
    let
      checked = checkProviders providers;
      # Only names the providers let the resolver take from nixpkgs are looked up.
      fromNixpkgs =
        n:
        builtins.elem "nixpkgs" (
          util.splitComma (checked.${n} or checked._default or "wheel,sdist,nixpkgs")
        );
      nixpkgsVersions' = names: nixpkgsVersions ps (builtins.filter fromNixpkgs names);
      # Names the providers restrict to nixpkgs that the lookup did not find: the resolver
      # only says no provider offers them, but the likely cause is an attribute named
      # otherwise (a versioned `pyyaml_6`), which the lookup never guesses.
      unfoundHint =
        names: offered:
        let
          unfound = builtins.filter (
            n: (checked.${n} or checked._default or "") == "nixpkgs" && !(offered ? ${n})
          ) names;
        in
        # The resolver's message ends with a newline.
        lib.concatMapStringsSep "" (n: ''
          hint: `providers` take `${n}` from nixpkgs only, and the nixpkgs lookup found no `python.pkgs.${n}` (it tries the PyPI name and its `_` spelling, and skips aliases, broken and disabled packages); if nixpkgs has it under another attribute (a versioned one such as `pydantic_1`), name it: `overrides_pre = [ (self: super: { ${n} = super.<attribute>; }) ]`
        '') unfound;
      afterLine = marker: text: builtins.substring (builtins.stringLength marker + 1) (-1) text;
      round =
        names: shards:
        let
          offered = nixpkgsVersions' names;
          drv = lockDerivation {
            inherit
              requirements
              providers
              python
              system
              shards
              ;
            nixpkgs = offered;
          };
          text = builtins.readFile drv;
          failed = lib.hasPrefix failureMarker text;
          message = afterLine failureMarker text;
          needsShards = lib.hasPrefix shardsMarker text;
          need = builtins.fromJSON (afterLine shardsMarker text);
          missing = builtins.filter (s: !(shards ? ${s.file})) need.shards;
          lock = builtins.fromJSON text;
          asked = lib.genAttrs names (_: null);
          reached =
            if failed then
              util.uniqueSorted (
                map util.normalizeName (
                  builtins.filter (w: builtins.isString w && w != "") (builtins.split "[^A-Za-z0-9._-]+" message)
                )
              )
            else if needsShards then
              need.packages or [ ]
            else
              builtins.attrNames lock.packages;
          new = builtins.filter (n: !(asked ? ${n})) reached;
        in
        if needsShards then
          # Each such step adds at least one shard, so this ends.
          if missing == [ ] then
            throw "pinion: the resolver asks for hash shards it was given (${drv}); this is a bug"
          else
            round (if nixpkgsVersions' new != { } then names ++ new else names) (
              shards // builtins.listToAttrs (map (s: lib.nameValuePair s.file (shardFor s)) missing)
            )
        else if nixpkgsVersions' new != { } then
          round (names ++ new) shards
        else if failed then
          throw ''
            pinion: the resolution failed (${drv}):
            ${message}${unfoundHint names offered}''
        else
          { inherit drv lock; };
      providerNames = lib.remove "_default" (builtins.attrNames checked);
    in
    round (util.uniqueSorted (util.requirementNames requirements ++ providerNames)) { };
}
