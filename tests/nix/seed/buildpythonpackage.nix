# Seed page: "buildPythonPackage / buildPythonApplication" (from source and a list of requirements).
{
  pinion-src ? ../pinion-src,
  application ? false,
}:
let
  pinion = import pinion-src { };
in
(if application then pinion.buildPythonApplication else pinion.buildPythonPackage) {
  pname = "my-package";
  version = "1.0.0";
  src = ./project;
  requirements = builtins.readFile ./project/requirements.txt;
}
