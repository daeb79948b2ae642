# Megabytes on both streams, then a failure whose message must survive in the stderr tail.
import os, sys
chunk = "x" * 65536 + "\n"
for _ in range(160):
    sys.stdout.write(chunk)
    sys.stderr.write(chunk)
sys.stdout.flush()
os.write(1, b"y" * 1000000)
raise RuntimeError("failed after the flood")
