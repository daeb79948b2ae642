# Seed page: "buildPythonPackage from GitHub" (the test passes a local git repository's URL).
{
  pinion-src ? ../pinion-src,
  gitUrl,
}:
let
  pinion = import pinion-src { };
in
pinion.buildPythonPackage rec {
  pname = "projectname";
  version = "1.0.0";
  src = builtins.fetchGit {
    url = gitUrl;
    ref = "master";
    # rev = "put_commit_hash_here";
  };
  doCheck = false;
  doInstallCheck = false;
  requirements = builtins.readFile "${src}/requirements.txt";
}
