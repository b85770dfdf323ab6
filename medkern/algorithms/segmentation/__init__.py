"""Segmentation (public path ``medkern.segmentation``): connected-component labelling,
histogram thresholds, region growing and the tables of labelled regions.

One private module per algorithm family, as scikit-image lays out an area:

- :mod:`._label` -- ``label`` (``scipy.ndimage.label``, exact) and
  ``generate_binary_structure``;
- :mod:`._objects` -- ``find_objects`` (SciPy), ``relabel_sequential``, ``clear_border``,
  ``regionprops_table`` (scikit-image) and ``keep_largest_component``;
- :mod:`._thresholds` -- scikit-image's histogram thresholds: ``threshold_otsu``,
  ``threshold_multiotsu``, ``threshold_li``, ``threshold_yen``, ``threshold_triangle``,
  ``threshold_isodata``, ``threshold_mean``, ``threshold_minimum`` and
  ``threshold_local`` (histograms and reductions on the device);
- :mod:`._region_growing` -- ``flood``, ``flood_fill``, ``apply_hysteresis_threshold``
  (scikit-image's), ``connected_threshold``, ``confidence_connected``,
  ``neighborhood_connected`` (ITK's region growing filters) and ``binary_threshold``
  (ITK's: a threshold mask that stays on the device).

Where SciPy and scikit-image disagree on a name, each function's docstring says which
reference it follows (``label`` is SciPy's: ``structure`` decides connectivity, nonzero
elements are features).
"""
from ._label import generate_binary_structure, label
from ._objects import (ArrayMap, clear_border, find_objects, keep_largest_component,
                       regionprops_table, relabel_sequential)
from ._region_growing import (apply_hysteresis_threshold, binary_threshold,
                              confidence_connected, connected_threshold, flood, flood_fill,
                              neighborhood_connected)
from ._peaks import peak_local_max
from ._watershed import watershed
from ._thresholds import (threshold_isodata, threshold_li, threshold_local, threshold_mean,
                          threshold_minimum, threshold_multiotsu, threshold_otsu,
                          threshold_triangle, threshold_yen)

__all__ = ["label", "generate_binary_structure", "find_objects", "relabel_sequential",
           "ArrayMap", "clear_border", "keep_largest_component", "regionprops_table",
           "threshold_otsu", "threshold_multiotsu", "threshold_li", "threshold_yen",
           "threshold_triangle", "threshold_isodata", "threshold_mean", "threshold_minimum",
           "threshold_local", "flood", "flood_fill", "connected_threshold",
           "confidence_connected", "neighborhood_connected", "apply_hysteresis_threshold",
           "binary_threshold", "watershed", "peak_local_max"]
