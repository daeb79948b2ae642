# A detached grandchild in its own session plus a sleeping parent: the wall-clock timeout
# must take both down.
import subprocess, time
subprocess.Popen(["@PYTHON@", "-c", "import time; time.sleep(600)", "@MARKER@"], start_new_session=True)
time.sleep(600)
