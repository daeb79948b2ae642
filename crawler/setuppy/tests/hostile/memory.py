hog = bytearray(10 * 1024 ** 3)
from setuptools import setup
setup(name="hog", install_requires=["never"])
