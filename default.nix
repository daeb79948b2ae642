# pinion: `import ./pinion { pkgs = ...; }` gives mkPython, mkPythonShell,
# buildPythonPackage, buildPythonApplication, resolve and mkLock (see nix/default.nix).
import ./nix
