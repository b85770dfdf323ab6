"""Expected deviations: reference tests medkern does not pass, each with its reason.

An entry is a suite name, an ``fnmatch`` pattern over the test id (the part after
``::``) and the reason a user would read. Matching tests still count as not
passed; the list only separates the known and explained from the unexpected.
A listed test that passes is reported, so the list does not go stale.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deviation:
    suite: str
    pattern: str
    reason: str


_CALLABLE = ("generic_filter takes a Taichi ti.func of the window (compiled into the kernel), or "
             "one of numpy's reductions (np.sum, np.mean, np.ptp...) which run as kernels; an "
             "arbitrary Python callable or scipy.LowLevelCallable would run once per pixel on "
             "the host and is refused with a TypeError naming the alternatives")
_FOUR_D = ("medkern's filters take 1-3 D images (Taichi kernels over 3-D buffers); a 4-D image is "
           "refused with a ValueError that says how to filter its components or batch items")

DEVIATIONS: list[Deviation] = [
    Deviation("scipy.ndimage/test_filters", "TestNdimageFilters::test_generic_filter01*", _CALLABLE),
    Deviation("scipy.ndimage/test_filters", "test_ticket_701*", _CALLABLE),
    Deviation("scipy.ndimage/test_filters", "test_valid_origins1*", _CALLABLE),
    Deviation("scipy.ndimage/test_filters", "test_gaussian_filter_float16*",
              "medkern filters float16 input (computed in float32, returned as float16, as torch "
              "and CuPy users need); SciPy refuses float16 with RuntimeError"),
    Deviation("skimage/filters/test_gaussian", "test_4d_ok*", _FOUR_D),
    Deviation("scipy.ndimage/test_morphology", "TestNdimageMorphology::test_distance_transform_cdt05*",
              "the test passes a float metric array; SciPy reads its bytes as a bool array "
              "(scipy#17381) and expects the distances of that accidental metric; medkern "
              "takes the metric's truth values (nonzero = neighbour), as documented"),
    Deviation("scipy.ndimage/test_morphology", "TestNdimageMorphology::test_distance_transform_edt5*",
              "a 0-d input: medkern's distance transforms take 1-3 D images and refuse a 0-d "
              "array with a ValueError; SciPy returns the 0-d distance"),
]
