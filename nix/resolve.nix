# Resolution through the `resolver` binary inside a sandboxed derivation (no
# network), whose output is imported (import-from-derivation), plus the inputs
# it needs: providers, and the versions nixpkgs' Python set offers.
{ pkgs, resolver, dbFile }:
let
  util = import ./util.nix;

  # The resolver built from this repository when none is given. The source is the
  # workspace's member directories (from Cargo.toml) and Cargo files only, so edits
  # elsewhere (nix/, tests/nix, docs) do not rebuild it.
  cargoToml = builtins.fromTOML (builtins.readFile ../Cargo.toml);
  memberDirs = map (m: builtins.head (builtins.split "/" m)) cargoToml.workspace.members;
  src = builtins.path {
    name = "pinion-source";
    path = ./..;
    filter = path: type:
      let
        rel = builtins.substring (builtins.stringLength (toString ./..) + 1) (-1) (toString path);
        top = builtins.head (builtins.split "/" rel);
      in
      (builtins.elem rel [ "Cargo.toml" "Cargo.lock" ] || builtins.elem top memberDirs)
      && builtins.match "(.*/)?target(/.*)?|tests/nix.*" rel == null;
  };
  resolverPackage =
    if resolver != null then resolver
    else pkgs.rustPlatform.buildRustPackage {
      pname = "pinion-resolver";
      version = cargoToml.workspace.package.version;
      inherit src;
      cargoLock.lockFile = ../Cargo.lock;
      cargoBuildFlags = [ "-p" "resolver" ];
      doCheck = false;
    };

  validProviders = [ "wheel" "sdist" "nixpkgs" ];

  # The DB unpacked once into the store, so each resolution memory-maps pinion.db
  # (microseconds) instead of inflating the tarball (seconds at full PyPI scale). The
  # sha256 of pinion.db is checked against the tarball's manifest here, once, and handed
  # to the resolver for the lock. A raw pinion.db is accepted as is.
  dbUnpacked = pkgs.runCommand "pinion-db-unpacked"
    {
      preferLocalBuild = true;
      allowSubstitutes = false;
    } ''
    mkdir -p $out
    if gzip -t ${dbFile} 2>/dev/null; then
      tar -xzf ${dbFile} -C $out pinion.db manifest.json
      want=$(sed -n 's/^ *"sha256": *"\([0-9a-f]*\)".*/\1/p' $out/manifest.json)
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
  checkProviders = providers:
    builtins.listToAttrs (map
      (key:
        let
          value = providers.${key};
          names = if builtins.isString value then util.splitComma value
            else throw "pinion: providers.${key} must be a string like \"wheel,sdist\", got a ${builtins.typeOf value}";
          bad = builtins.filter (p: !(builtins.elem p validProviders)) names;
        in
        if names == [ ] then throw "pinion: providers.${key} is empty; valid providers are: ${builtins.concatStringsSep ", " validProviders}"
        else if bad != [ ] then throw "pinion: providers.${key} = \"${value}\": unknown provider \"${builtins.head bad}\"; valid providers are: ${builtins.concatStringsSep ", " validProviders}"
        else { name = if key == "_default" then key else util.normalizeName key; value = builtins.concatStringsSep "," names; })
      (builtins.attrNames providers));

  # { "<normalized pname>" = { attr; version; }; } for every attribute of the
  # Python set that is a Python package derivation. Each attribute is evaluated
  # only as far as `pname`/`version`, inside tryEval so broken or removed
  # packages (which throw) are skipped.
  nixpkgsVersions = ps:
    let
      entry = attr:
        let
          r = builtins.tryEval (
            let v = ps.${attr}; in
            if builtins.isAttrs v && v ? pythonModule && v ? pname && v ? version
              && builtins.isString v.pname && builtins.isString v.version
            then { name = util.normalizeName v.pname; value = { inherit attr; inherit (v) version; }; }
            else null);
        in
        if r.success then r.value else null;
      entries = builtins.filter (e: e != null) (map entry (builtins.attrNames ps));
      # Several attrs can share a pname (e.g. versioned attrs): prefer the attr
      # whose own name normalizes to the pname, else the first in sorted order.
      exact = builtins.listToAttrs (builtins.filter (e: util.normalizeName e.value.attr == e.name) entries);
      first = builtins.listToAttrs entries; # first occurrence wins
    in
    first // exact;

  # One resolution step in the sandbox (data-format.md, *Resolution in two steps*): the
  # resolver gets the hash shards fetched so far and writes `need.json` (every shard the
  # lock needs), and `lock` once it has them all.
  resolveStep = { requirements, providers, python, system, nixpkgsPs, format }: name: shards:
    pkgs.runCommand name
      {
        inherit requirements;
        providersJson = builtins.toJSON (checkProviders providers);
        nixpkgsJson = builtins.toJSON (nixpkgsVersions nixpkgsPs);
        passAsFile = [ "requirements" "providersJson" "nixpkgsJson" ];
        preferLocalBuild = true;
        allowSubstitutes = false;
      } ''
      echo "pinion: resolving for Python ${python.version} on ${system} with ${dbFile} (${toString (builtins.length shards)} hash shards)"
      mkdir -p $out shards
      ${builtins.concatStringsSep "\n" (map (s: "ln -s ${s.path} shards/${s.file}") shards)}
      ${resolverExe} --db ${dbUnpacked}/pinion.db --db-sha256 "$(cat ${dbUnpacked}/sha256)" -r "$requirementsPath" \
        --python ${python.version} --system ${system} \
        --providers "$providersJsonPath" --nixpkgs "$nixpkgsJsonPath" \
        --shards shards --need-shards $out/need.json \
        --format ${format} -o $out/lock
    '';

  # The derivation whose output is the lock for these inputs (format "nix" for
  # import, "json" for a lock file users commit). Resolves without hash shards first,
  # fetches the shards the resolver asks for, and resolves again with them; a third step
  # only when `--hash` options made the picks depend on hashes. Each step is imported
  # (import-from-derivation) to read which shards it needs.
  lockDerivation = args:
    let
      ext = if args.format == "json" then ".json" else ".nix";
      shardFor = dbFile.shardFor or (s: throw "pinion: the database ${toString dbFile} comes without hash shards, and the resolution needs ${s.file}; pass `db = { path = ...; shards = ./dir; }` or `{ url; sha256; shards_url; }`");
      loop = n: have:
        let
          step = resolveStep args (if n == 1 then "pinion-lock${ext}" else "pinion-lock${ext}-step${toString n}") have;
          need = (builtins.fromJSON (builtins.readFile "${step}/need.json")).shards;
          missing = builtins.filter (s: !(builtins.any (h: h.file == s.file) have)) need;
        in
        if missing == [ ] then step
        else if n >= 3 then throw "pinion: the resolver still needs hash shards after ${toString n} steps (${builtins.concatStringsSep ", " (map (s: s.file) missing)}); this is a bug"
        else loop (n + 1) (have ++ map (s: { inherit (s) file; path = shardFor s; }) missing);
      final = loop 1 [ ];
    in
    pkgs.runCommand "pinion-lock${ext}" { preferLocalBuild = true; allowSubstitutes = false; } ''
      cp ${final}/lock $out
    '';
}
