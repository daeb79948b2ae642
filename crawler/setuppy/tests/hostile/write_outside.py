# Tries to write and delete outside its own folder, then reports which attempts "worked"
# (inside the sandbox a private /tmp makes some of them appear to).
import os
from setuptools import setup

done = []
for path in ["@CANARY@", "@CANARY_DIR@/new-file", "../../escape", "/usr/evil", "/etc/passwd", "/pinion/src/setup.py"]:
    try:
        with open(path, "w") as f:
            f.write("pwned")
        done.append("wrote-" + os.path.basename(path))
    except Exception:
        pass
try:
    os.remove("@CANARY@")
except Exception:
    pass
setup(name="writer", version="1", install_requires=["ran"])
