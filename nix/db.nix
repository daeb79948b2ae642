# Turns the `db` argument (or the pin in db.json) into the DB file the resolver reads.
# Accepted: a path or derivation (used as is), or an attrset
# { url, sha256 } (fetched with pkgs.fetchurl) / { path, sha256 ? null }.
{ pkgs, db }:
let
  pin = builtins.fromJSON (builtins.readFile ./db.json);
  repoRoot = ./..;

  checkedPath =
    where: path: sha256:
    if !(builtins.pathExists path) then
      throw ''
        pinion: the database file ${toString path} (from ${where}) does not exist.
        Build one (`dbgen build --state crawl.sqlite --out pinion-db.tar.gz`) or pass
        `db = pkgs.fetchurl { url = ...; sha256 = ...; }` / `db = ./pinion-db.tar.gz;` to pinion.''
    else if sha256 != null && builtins.hashFile "sha256" path != sha256 then
      throw ''
        pinion: wrong hash for the database file ${toString path} (from ${where}):
          expected sha256 = "${sha256}"
          actual   sha256 = "${builtins.hashFile "sha256" path}"
        Change the sha256 in ${where} to the actual value if this file is the DB you want.''
    else
      path;

  fromSpec =
    where: spec:
    if spec ? url then
      # A wrong hash here fails in Nix's fetcher with "hash mismatch ... specified: ...
      # got: ..."; the derivation name points the user at the setting to change.
      pkgs.fetchurl {
        inherit (spec) url sha256;
        name = "pinion-db-fix-sha256-in-${
          builtins.replaceStrings [ "/" "." " " "`" ] [ "-" "-" "-" "" ] where
        }";
      }
    else if spec ? path then
      checkedPath where (if builtins.isPath spec.path then spec.path else repoRoot + "/${spec.path}") (
        spec.sha256 or null
      )
    else
      throw "pinion: ${where} must contain `url` and `sha256`, or `path` (got keys: ${builtins.concatStringsSep ", " (builtins.attrNames spec)})";
in
if db == null then
  fromSpec "nix/db.json" pin
else if builtins.isAttrs db && !(db ? outPath) then
  fromSpec "the db argument" db
else
  db
