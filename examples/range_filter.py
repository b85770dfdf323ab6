"""A filter prototyped with medkern's DSL: the README's example.

Run its parity tests, benchmark and comparison with the rest of the registry:

    MEDKERN_PLUGINS=examples/range_filter.py python -m pytest tests/test_parity.py -k range_filter
    MEDKERN_PLUGINS=examples/range_filter.py medkern compare --only range_filter
"""
import numpy as np
import scipy.ndimage as ndi
import taichi as ti

import medkern.filters as mf
from medkern.registry import Algorithm, register


@ti.func
def local_range(window):  # window: ti.Vector of the neighbourhood's values
    return window.max() - window.min()


def range_filter(image, size=3, mode="reflect"):
    """max - min over a size^ndim box; runs on CUDA, Vulkan or the CPU."""
    return mf.generic_filter(image, local_range, size=size, mode=mode)


register(Algorithm(
    name="range_filter", area="prototypes", func=range_filter,
    reference=lambda image, **kw: ndi.generic_filter(image, np.ptp, **kw),
    reference_name="scipy.ndimage.generic_filter(np.ptp)",
    bench_kwargs={"size": 3}, cases=({"size": 3}, {"size": 5, "mode": "wrap"})))
