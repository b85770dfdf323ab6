"""The Examples in public docstrings run and print what they say."""
import doctest
import importlib

import pytest

MODULES = ["medkern.algorithms.filters", "medkern.algorithms.measurements", "medkern.algorithms.interpolation",
           "medkern.algorithms.custom", "medkern.volume", "medkern.io.nifti"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
