# Seed page: "mkPython / mkPythonShell" (build a python environment from a list of requirements).
{
  pinion-src ? ../pinion-src,
  shell ? false,
}:
let
  pinion = import pinion-src { };
in
(if shell then pinion.mkPythonShell else pinion.mkPython) {
  requirements = builtins.readFile ./requirements.txt;
}
