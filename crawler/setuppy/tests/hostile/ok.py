import sys
from setuptools import setup, find_packages
reqs = ["six>=1.0", "futures; python_version < '3'"]
if sys.version_info >= (3, 0):
    reqs.append("py3only")
setup(
    name="good", version="1.0", packages=find_packages(),
    install_requires=reqs, setup_requires=["setuptools_scm"],
    extras_require={"test": ["pytest"], ":sys_platform == 'win32'": ["pywin32"]},
    python_requires=">=2.7",
)
