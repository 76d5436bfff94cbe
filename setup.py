"""Build shim: metadata, dependencies and entry points live in setup.cfg.

The only thing setup.cfg cannot express is that the top-level ``zoo/`` folder
(manifests and weights) is installed as the package ``specnet._zoo``, so that
``specnet.zoo.load(...)`` works offline from a non-editable install.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["specnet", "specnet.*"]) + ["specnet._zoo"],
    package_dir={"specnet._zoo": "zoo"},
)
