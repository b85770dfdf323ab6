"""Segmentation (public path ``medkern.segmentation``): connected-component labelling,
histogram thresholds, region growing and the tables of labelled regions.

One private module per algorithm family, as scikit-image lays out an area:

- :mod:`._label` -- ``label`` (``scipy.ndimage.label``, exact) and
  ``generate_binary_structure``.
- :mod:`._thresholds` -- scikit-image's histogram thresholds: ``threshold_otsu``,
  ``threshold_multiotsu``, ``threshold_li``, ``threshold_yen``, ``threshold_triangle``,
  ``threshold_isodata``, ``threshold_mean``, ``threshold_minimum`` and
  ``threshold_local`` (histograms and reductions on the device).

Where SciPy and scikit-image disagree on a name, each function's docstring says which
reference it follows (``label`` is SciPy's: ``structure`` decides connectivity, nonzero
elements are features).
"""
from ._label import generate_binary_structure, label
from ._thresholds import (threshold_isodata, threshold_li, threshold_local, threshold_mean,
                          threshold_minimum, threshold_multiotsu, threshold_otsu,
                          threshold_triangle, threshold_yen)

__all__ = ["label", "generate_binary_structure", "threshold_otsu", "threshold_multiotsu",
           "threshold_li", "threshold_yen", "threshold_triangle", "threshold_isodata",
           "threshold_mean", "threshold_minimum", "threshold_local"]
