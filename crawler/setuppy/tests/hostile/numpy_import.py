from numpy.distutils.core import setup
setup(name="needs-numpy", install_requires=["numpy"])
