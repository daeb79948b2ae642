from setuptools import setup

setup(name="my-package", version="1.0.0", packages=["my_package"])
