"""Morphology (public path ``medkern.morphology``): binary and grey-level morphology,
exact distance transforms, morphological reconstruction and regional extrema.

One private module per algorithm family, as scikit-image lays out an area:

- :mod:`._footprints` -- structuring elements (SciPy's ``generate_binary_structure`` /
  ``iterate_structure``, scikit-image's ``disk``, ``ball``, ``square``, ``cube``,
  ``diamond``, ``octahedron``) and a ball / ellipsoid sized in millimetres;
- :mod:`._binary` -- ``scipy.ndimage``'s binary morphology;
- :mod:`._grey` -- ``scipy.ndimage``'s grey-level morphology;
- :mod:`._distance` -- ``distance_transform_edt`` (exact), ``_cdt`` and ``_bf``;
- :mod:`._reconstruction` -- scikit-image's ``reconstruction``, ``h_maxima``/``h_minima``,
  ``local_maxima``/``local_minima``, ``remove_small_objects``/``remove_small_holes``.
"""
from ._binary import (binary_closing, binary_dilation, binary_erosion, binary_fill_holes,
                      binary_hit_or_miss, binary_opening, binary_propagation,
                      generate_binary_structure, iterate_structure)
from ._distance import distance_transform_bf, distance_transform_cdt, distance_transform_edt
from ._footprints import (ball, ball_mm, cube, diamond, disk, ellipse, ellipsoid_mm,
                          footprint_rectangle, octahedron, square)
from ._grey import (black_tophat, grey_closing, grey_dilation, grey_erosion, grey_opening,
                    morphological_gradient, morphological_laplace, white_tophat)
from ._reconstruction import (h_maxima, h_minima, local_maxima, local_minima, reconstruction,
                              remove_small_holes, remove_small_objects)

__all__ = [
    "binary_erosion", "binary_dilation", "binary_opening", "binary_closing",
    "binary_hit_or_miss", "binary_propagation", "binary_fill_holes",
    "generate_binary_structure", "iterate_structure",
    "grey_erosion", "grey_dilation", "grey_opening", "grey_closing",
    "morphological_gradient", "morphological_laplace", "white_tophat", "black_tophat",
    "distance_transform_edt", "distance_transform_cdt", "distance_transform_bf",
    "disk", "ball", "square", "cube", "diamond", "octahedron", "ellipse",
    "footprint_rectangle", "ball_mm", "ellipsoid_mm",
    "reconstruction", "h_maxima", "h_minima", "local_maxima", "local_minima",
    "remove_small_objects", "remove_small_holes",
]
