import sys
sys.stderr.write("this package does not support your platform\n")
sys.exit(1)
