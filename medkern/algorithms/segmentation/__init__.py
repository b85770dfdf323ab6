"""Segmentation (public path ``medkern.segmentation``): connected-component labelling,
histogram thresholds, region growing and the tables of labelled regions.

One private module per algorithm family, as scikit-image lays out an area:

- :mod:`._label` -- ``label`` (``scipy.ndimage.label``, exact) and
  ``generate_binary_structure``.

Where SciPy and scikit-image disagree on a name, each function's docstring says which
reference it follows (``label`` is SciPy's: ``structure`` decides connectivity, nonzero
elements are features).
"""
from ._label import generate_binary_structure, label

__all__ = ["label", "generate_binary_structure"]
