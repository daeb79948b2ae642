# Tries to reach the network three ways; reports what worked through install_requires.
import socket
from setuptools import setup

reached = []
for host, port in [("127.0.0.1", @PORT@), ("1.1.1.1", 53)]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        reached.append("reached-%s" % host)
    except Exception:
        pass
try:
    socket.getaddrinfo("pypi.org", 443)
    reached.append("resolved-pypi")
except Exception:
    pass
setup(name="net", version="1", install_requires=reached or ["network-blocked"])
