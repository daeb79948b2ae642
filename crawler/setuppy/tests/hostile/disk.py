# Tries to fill the disk: one file past RLIMIT_FSIZE, then many files past the tmpfs size.
import os
from setuptools import setup

outcomes = []
chunk = b"x" * (1 << 20)
try:
    with open("/tmp/big", "wb") as f:
        for _ in range(64):
            f.write(chunk)
    outcomes.append("big-file-written")
except (IOError, OSError) as e:
    outcomes.append("big-file-errno-%d" % e.errno)
try:
    for i in range(1000):
        with open("/tmp/many-%d" % i, "wb") as f:
            for _ in range(8):
                f.write(chunk)
    outcomes.append("tmpfs-filled")
except (IOError, OSError) as e:
    outcomes.append("tmpfs-errno-%d" % e.errno)
setup(name="disk", install_requires=outcomes)
