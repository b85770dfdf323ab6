"""Which reference functions each suite replaces with medkern's.

A *suite* is one test module of an installed reference package (SciPy's ndimage
tests ship inside the scipy wheel; scikit-image's inside its wheel and sdist).
Its swaps name the attributes of the reference module the tests call through
(``ndimage.correlate(...)``) and the medkern function put there while the tests
run. Everything not listed stays the reference's own.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Suite:
    name: str
    test_module: str                 # importable test module (pytest --pyargs)
    targets: tuple[str, ...]         # reference modules whose attributes are swapped
    swaps: dict[str, str] = field(default_factory=dict)  # reference name -> "medkern.module:func"
    # count every collected test ("all") or only the tests that call a swapped
    # function at least once ("touched"): the issue counts test_filters whole and
    # the interpolation/measurements modules over what medkern provides
    count: str = "all"


def _same(module: str, names: list[str]) -> dict[str, str]:
    return {n: f"{module}:{n}" for n in names}


_FILTERS = ["correlate1d", "convolve1d", "correlate", "convolve", "gaussian_filter1d",
            "gaussian_filter", "uniform_filter1d", "uniform_filter", "minimum_filter1d",
            "maximum_filter1d", "minimum_filter", "maximum_filter", "median_filter",
            "rank_filter", "percentile_filter", "sobel", "prewitt", "laplace",
            "gaussian_laplace", "gaussian_gradient_magnitude", "generic_filter"]
_INTERPOLATION = ["spline_filter1d", "spline_filter", "map_coordinates", "affine_transform",
                  "geometric_transform", "shift", "zoom", "rotate"]
_MEASUREMENTS = ["sum", "sum_labels", "mean", "variance", "standard_deviation", "minimum",
                 "maximum", "minimum_position", "maximum_position", "extrema",
                 "center_of_mass", "histogram"]

# every scipy.ndimage function medkern provides, swapped in every SciPy suite:
# a test of one function often builds its expected value with another
NDIMAGE = {**_same("medkern.filters", _FILTERS),
           **_same("medkern.interpolation", _INTERPOLATION),
           **_same("medkern.measurements", _MEASUREMENTS),
           "label": "medkern.segmentation:label",
           "find_objects": "medkern.segmentation:find_objects"}
# scipy.ndimage's morphology medkern provides (medkern.morphology)
_MORPHOLOGY = ["binary_erosion", "binary_dilation", "binary_opening", "binary_closing",
               "binary_hit_or_miss", "binary_propagation", "binary_fill_holes",
               "iterate_structure", "grey_erosion", "grey_dilation", "grey_opening",
               "grey_closing", "morphological_gradient", "morphological_laplace",
               "white_tophat", "black_tophat", "distance_transform_edt",
               "distance_transform_cdt", "distance_transform_bf"]
MORPHOLOGY = _same("medkern.morphology", _MORPHOLOGY)
NDIMAGE.update(MORPHOLOGY)
_NDI_TARGETS = ("scipy.ndimage",)
# scikit-image's histogram thresholds medkern provides (medkern.segmentation)
THRESHOLDS = ["threshold_otsu", "threshold_multiotsu", "threshold_li", "threshold_yen",
              "threshold_triangle", "threshold_isodata", "threshold_mean", "threshold_minimum",
              "threshold_local"]

SUITES: dict[str, Suite] = {s.name: s for s in [
    Suite("scipy.ndimage/test_filters", "scipy.ndimage.tests.test_filters", _NDI_TARGETS, NDIMAGE),
    Suite("scipy.ndimage/test_interpolation", "scipy.ndimage.tests.test_interpolation",
          _NDI_TARGETS, NDIMAGE, count="touched"),
    Suite("scipy.ndimage/test_measurements", "scipy.ndimage.tests.test_measurements",
          _NDI_TARGETS, NDIMAGE, count="touched"),
    # morphology (issue 11): every morphology name is in NDIMAGE (extend _MORPHOLOGY)
    Suite("scipy.ndimage/test_morphology", "scipy.ndimage.tests.test_morphology",
          _NDI_TARGETS, NDIMAGE, count="touched"),
    # scikit-image calls scipy.ndimage at run time (``ndi.gaussian_filter`` inside
    # ``skimage.filters.gaussian``): its own tests then exercise medkern underneath.
    # Area issues add their skimage modules here with swaps of skimage names
    # (targets=("skimage.filters",), swaps={"threshold_otsu": "medkern....:threshold_otsu"}).
    Suite("skimage/filters/test_gaussian", "skimage.filters.tests.test_gaussian",
          _NDI_TARGETS, NDIMAGE, count="touched"),
    # the tests import the functions from skimage.filters.thresholding at collection, after
    # the swap (pytest_configure): both the module and the package attribute are replaced
    Suite("skimage/filters/test_thresholding", "skimage.filters.tests.test_thresholding",
          ("skimage.filters", "skimage.filters.thresholding"),
          _same("medkern.segmentation", THRESHOLDS), count="touched"),
    Suite("skimage/filters/test_edges", "skimage.filters.tests.test_edges",
          _NDI_TARGETS, NDIMAGE, count="touched"),
    # segmentation (issue 10): scikit-image's own functions swapped for medkern's
    Suite("skimage/segmentation/test_clear_border",
          "skimage.segmentation.tests.test_clear_border", ("skimage.segmentation",),
          {"clear_border": "medkern.segmentation:clear_border"}, count="touched"),
    Suite("skimage/segmentation/test_join", "skimage.segmentation.tests.test_join",
          ("skimage.segmentation",),
          {"relabel_sequential": "medkern.segmentation:relabel_sequential"}, count="touched"),
    # the tests import flood/flood_fill from skimage.morphology (skimage.segmentation
    # re-exports the same functions)
    Suite("skimage/morphology/test_flood_fill", "skimage.morphology.tests.test_flood_fill",
          ("skimage.morphology", "skimage.segmentation"),
          _same("medkern.segmentation", ["flood", "flood_fill"]), count="touched"),
    # segmentation II (issue 11): each module imports its function from the defining module
    Suite("skimage/segmentation/test_watershed", "skimage.segmentation.tests.test_watershed",
          ("skimage.segmentation._watershed", "skimage.segmentation"),
          {"watershed": "medkern.segmentation:watershed"}, count="touched"),
    Suite("skimage/feature/test_peak", "skimage.feature.tests.test_peak",
          ("skimage.feature.peak", "skimage.feature"),
          {"peak_local_max": "medkern.segmentation:peak_local_max"}, count="touched"),
    Suite("skimage/morphology/test_reconstruction",
          "skimage.morphology.tests.test_reconstruction",
          ("skimage.morphology.grayreconstruct", "skimage.morphology"),
          {"reconstruction": "medkern.morphology:reconstruction"}, count="touched"),
    Suite("skimage/morphology/test_extrema", "skimage.morphology.tests.test_extrema",
          ("skimage.morphology.extrema", "skimage.morphology"),
          _same("medkern.morphology", ["h_maxima", "h_minima", "local_maxima",
                                       "local_minima"]), count="touched"),
    Suite("skimage/morphology/test_misc", "skimage.morphology.tests.test_misc",
          ("skimage.morphology.misc", "skimage.morphology"),
          _same("medkern.morphology", ["remove_small_objects", "remove_small_holes",
                                       "local_maxima"]),
          count="touched"),
]}

# what `make reference-suites` runs: SciPy's three and each area's own skimage modules
# (the filters' skimage suites test scipy.ndimage underneath: run them by name)
DEFAULT = ["scipy.ndimage/test_filters", "scipy.ndimage/test_interpolation",
           "scipy.ndimage/test_measurements", "scipy.ndimage/test_morphology",
           "skimage/filters/test_thresholding",
           "skimage/morphology/test_flood_fill", "skimage/segmentation/test_clear_border",
           "skimage/segmentation/test_join", "skimage/segmentation/test_watershed",
           "skimage/feature/test_peak", "skimage/morphology/test_reconstruction",
           "skimage/morphology/test_extrema", "skimage/morphology/test_misc"]
