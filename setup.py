"""Maps the top-level folders (schemas/, streams/, ...) into one import root, ``streamsense``.

The layout keeps the folders at the top level while the distribution installs a single,
collision-free package name (a top-level ``models`` or ``schemas`` would clash with other libraries).
"""

from setuptools import find_packages, setup

TOP_LEVEL = ["schemas", "streams", "agents", "models", "datasets", "infra", "cli"]

setup(
    package_dir={"streamsense": "."},
    packages=["streamsense"] + [f"streamsense.{p}" for p in find_packages(include=[f"{t}*" for t in TOP_LEVEL])],
    package_data={"streamsense": ["infra/**/*", "datasets/data/**/*"]},
    include_package_data=True,
)
