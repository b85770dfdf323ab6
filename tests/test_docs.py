"""The Examples in public docstrings run and print what they say.

Every module of the package is run through doctest (found by walking the package, so a new
area module is checked with no edit here); each area module (one that registers
algorithms) must have examples.
"""
import doctest
import importlib
import pkgutil

import pytest

import medkern
from medkern import registry

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

#: Modules whose import needs something optional or that are programs, not libraries.
_SKIP = {"medkern.__main__"}


def _modules():
    names = ["medkern"]
    for info in pkgutil.walk_packages(medkern.__path__, prefix="medkern."):
        if info.name not in _SKIP:
            names.append(info.name)
    return sorted(names)


def _area_modules():
    """The modules defining the public functions of each registered area."""
    found = set()
    for area in registry.areas():
        module = importlib.import_module(f"medkern.{area}")
        found |= {getattr(module, n).__module__ for n in module.__all__
                  if callable(getattr(module, n))}
    return found


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name in _area_modules():
        assert result.attempted > 0, f"{name} registers algorithms but has no Examples"


def test_the_documented_modules_are_found():
    found = set(_modules())
    assert {"medkern.algorithms.filters", "medkern.algorithms.measurements", "medkern.volume",
            "medkern.io.nifti", "medkern.algorithms.custom"} <= found
