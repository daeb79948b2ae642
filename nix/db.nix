# Turns the `db` argument (or the pin in db.json) into the DB file the resolver reads,
# together with where its hash shards come from (data-format.md, *Hash shards*).
# Accepted: a path or derivation (used as is; a path's shards are the directory beside it,
# `pinion-db.tar.gz` -> `pinion-db-shards/`), or an attrset
# { url, sha256, shards_url } (fetched with pkgs.fetchurl; shards from
# `${shards_url}/shard-XXXX.bin`) / { path, sha256 ? null, shards ? <beside path> }.
# The result is the DB file (an attrset with outPath) plus `shardFor`, which maps one entry
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
        Build one (`dbgen build --state crawl.sqlite --out pinion-db.tar.gz --shards-out pinion-db-shards`) or pass
        `db = pkgs.fetchurl { url = ...; sha256 = ...; }` / `db = ./pinion-db.tar.gz;` to pinion.''
    else if sha256 != null && builtins.hashFile "sha256" path != sha256 then
      throw ''
        pinion: wrong hash for the database file ${toString path} (from ${where}):
          expected sha256 = "${sha256}"
          actual   sha256 = "${builtins.hashFile "sha256" path}"
        Change the sha256 in ${where} to the actual value if this file is the DB you want.''
    else
      path;

  # `pinion-db.tar.gz` -> `pinion-db-shards`, `pinion.db` -> `pinion-shards`.
  besideShards =
    path:
    let
      base = baseNameOf (toString path);
      stem = builtins.head (builtins.match "(.*)(\\.tar\\.gz|\\.db)|(.*)" base);
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
      # A wrong hash here fails in Nix's fetcher with "hash mismatch ... specified: ...
      # got: ..."; the derivation name points the user at the setting to change.
      withShards
        (pkgs.fetchurl {
          inherit (spec) url sha256;
          name = "pinion-db-fix-sha256-in-${
            builtins.replaceStrings [ "/" "." " " "`" ] [ "-" "-" "-" "" ] where
          }";
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
