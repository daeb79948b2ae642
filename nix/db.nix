# Turns the `db` argument (or the pin in db.json) into the DB file the resolver reads,
# together with where its hash shards come from (data-format.md, *Hash shards*).
# Accepted: a path or derivation (used as is; a path's shards are the directory beside it,
# `pinion-db.tar.xz` -> `pinion-db-shards/`), or an attrset
# { url, sha256, shards_url } (`sha256`: the NAR hash of the unpacked tree, as `dbgen build
# --nar-sha256-out` writes it; fetched and unpacked at evaluation by builtins.fetchTarball, so
# only the unpacked pinion.db and manifest.json land in the store, never the tarball; shards
# from `${shards_url}/shard-XXXX.bin`) / { path, sha256 ? null, shards ? <beside path> }
# (`sha256` of the file at `path`).
# The result is the DB (file or unpacked tree; an attrset with outPath) plus `shardFor`, which maps one entry
# of the resolver's need-shards list ({ file, sha256 }) to the shard file: a fixed-output
# fetch whose hash comes from the DB's shard manifest, or a file of the shards directory
# (the resolver checks its sha256 against the manifest either way).
{ pkgs, db }:
let
  pin = builtins.fromJSON (builtins.readFile ./db.json);
  repoRoot = ./..;

  checkedPath =
    where: path: sha256:
    if !(builtins.pathExists path) then
      throw ''
        pinion: the database file ${toString path} (from ${where}) does not exist.
        Build one (`dbgen build --state crawl.sqlite --out pinion-db.tar.xz --shards-out pinion-db-shards`) or pass
        `db = { url = ...; sha256 = ...; shards_url = ...; }` / `db = ./pinion-db.tar.xz;` to pinion.''
    else if sha256 != null && builtins.hashFile "sha256" path != sha256 then
      throw ''
        pinion: wrong hash for the database file ${toString path} (from ${where}):
          expected sha256 = "${sha256}"
          actual   sha256 = "${builtins.hashFile "sha256" path}"
        Change the sha256 in ${where} to the actual value if this file is the DB you want.''
    else
      path;

  # `pinion-db.tar.xz` -> `pinion-db-shards`, `pinion.db` -> `pinion-shards`.
  besideShards =
    path:
    let
      base = baseNameOf (toString path);
      stem = builtins.head (builtins.match "(.*)(\\.tar\\.xz|\\.db)|(.*)" base);
    in
    "${dirOf (toString path)}/${if stem != null then stem else base}-shards";

  fromDir =
    where: dir: s:
    let
      file = "${toString dir}/${s.file}";
    in
    if builtins.pathExists file then
      /. + file
    else
      throw ''
        pinion: the resolution needs the hash shard ${s.file}, which ${toString dir} (from ${where}) does not have.
        Build the DB with `dbgen build ... --shards-out ${toString dir}`, or pass the shards directory as `db = { path = ...; shards = ./dir; }`.'';

  fromUrl =
    where: base: s:
    # A wrong shard hash fails in Nix's fetcher ("hash mismatch"): the manifest pins it.
    pkgs.fetchurl {
      url = "${base}/${s.file}";
      inherit (s) sha256;
      name = "pinion-db-${s.file}";
    };

  withShards = file: shardFor: {
    outPath = file;
    inherit shardFor;
  };

  fromSpec =
    where: spec:
    if spec ? url then
      # A wrong hash fails in Nix's fetcher with "hash mismatch in file downloaded from
      # '<url>': specified: ... got: ..." (Nix 2.8 names the URL, not the store path). Unpacked
      # at evaluation, so the tarball stays in Nix's download cache, out of the store.
      withShards
        (builtins.fetchTarball {
          inherit (spec) url sha256;
          name = "pinion-db";
        })
        (
          if spec ? shards_url then
            fromUrl where spec.shards_url
          else
            s:
            throw "pinion: ${where} has no `shards_url`, but the resolution needs the hash shard ${s.file}; add the URL the shards were published at"
        )
    else if spec ? path then
      let
        path = if builtins.isPath spec.path then spec.path else repoRoot + "/${spec.path}";
        shards =
          if spec ? shards then
            (if builtins.isPath spec.shards then spec.shards else repoRoot + "/${spec.shards}")
          else
            besideShards path;
      in
      withShards (checkedPath where path (spec.sha256 or null)) (fromDir where shards)
    else
      throw "pinion: ${where} must contain `url` and `sha256`, or `path` (got keys: ${builtins.concatStringsSep ", " (builtins.attrNames spec)})";
in
if db == null then
  fromSpec "nix/db.json" pin
else if builtins.isAttrs db && !(db ? outPath) then
  fromSpec "the db argument" db
else if builtins.isPath db || builtins.isString db then
  withShards db (fromDir "the db argument" (besideShards db))
else
  db
