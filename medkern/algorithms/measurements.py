"""Whole-array statistics and histograms, after ``scipy.ndimage``'s measurement functions.

Notes
-----
These take no ``labels``/``index`` yet (per-label statistics belong with the
segmentation work); they reduce the whole array. Results are Python/numpy
scalars (or a numpy array for :func:`histogram`) even for device input.
"""
from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi

from .. import arrays, checks
from ..kernels import dsl
from ..registry import Algorithm, register
from ..typing import ArrayInput
from .job import Job, reduce_buffer

__all__ = ["sum", "mean", "minimum", "maximum", "histogram"]

def _acc_dtype(dtype: np.dtype) -> np.dtype:
    # float32 sums accumulate in float64; integers in int64/uint64 (exact)
    if dtype.kind == "f":
        return np.dtype(np.float64)
    return np.dtype(np.uint64 if dtype.kind == "u" else np.int64)


def sum(input: ArrayInput) -> int | float:  # noqa: A001 - SciPy's name
    """Sum of all elements.

    Parameters
    ----------
    input : ndarray or DeviceArray

    Returns
    -------
    float or int
        float64 for float input (accumulated in float64), int for integer input.

    Notes
    -----
    Reference: ``scipy.ndimage.sum(input)``. Rows are summed in parallel, each
    in a fixed order, so the result is deterministic (not bit-equal to numpy's
    pairwise sum).
    """
    return _sum_of(Job(input))


def _sum_of(job: Job) -> int | float:
    acc = _acc_dtype(job.in_dtype)
    val = reduce_buffer(dsl.reduce("sum", job.in_dtype, acc), job.src, acc, "sum")
    return float(val) if acc.kind == "f" else int(val)


def mean(input: ArrayInput) -> float:
    """Mean of all elements (float64).

    Parameters
    ----------
    input : ndarray or DeviceArray

    Returns
    -------
    float

    Notes
    -----
    Reference: ``scipy.ndimage.mean(input)``.
    """
    job = Job(input)  # one check and one upload, shared with the sum
    return float(_sum_of(job)) / float(np.prod(job.shape))


def _extreme(input: ArrayInput, op: str) -> np.generic:
    job = Job(input)
    if job.count_nan():
        return job.scalar_dtype.type(np.nan)
    dt = job.in_dtype
    val = reduce_buffer(dsl.reduce(op, dt, dt), job.src, dt, op)
    return job.scalar_dtype.type(val)  # float16 data: its extreme is a float16 value


def minimum(input: ArrayInput) -> np.generic:
    """Smallest element (NaN if the input holds NaN, as numpy's ``min``).

    Parameters
    ----------
    input : ndarray or DeviceArray

    Returns
    -------
    scalar of the input's dtype

    Notes
    -----
    Reference: ``scipy.ndimage.minimum(input)``.
    """
    return _extreme(input, "min")


def maximum(input: ArrayInput) -> np.generic:
    """Largest element (NaN if the input holds NaN).

    Parameters
    ----------
    input : ndarray or DeviceArray

    Returns
    -------
    scalar of the input's dtype

    Notes
    -----
    Reference: ``scipy.ndimage.maximum(input)``.
    """
    return _extreme(input, "max")


def histogram(input: ArrayInput, min: float, max: float, bins: int) -> np.ndarray:  # noqa: A002
    """Counts in ``bins`` equal bins spanning ``[min, max]``.

    Parameters
    ----------
    input : ndarray or DeviceArray
    min, max : float
        Range of the bins (``min <= max``, ``max - min`` finite); values outside
        are not counted. With ``min == max`` every bin edge is ``min`` and values
        equal to it count in the last bin, as in SciPy.
    bins : int
        Number of bins (>= 1).

    Returns
    -------
    ndarray of int64
        The counts. Bin edges are ``np.linspace(min, max, bins + 1)``; a value
        equal to an inner edge goes to the upper bin, ``max`` to the last bin.

    Notes
    -----
    Reference: ``scipy.ndimage.histogram(input, min, max, bins)`` (numpy's
    binning rules). NaN is not counted.

    Examples
    --------
    >>> import numpy as np, medkern.measurements as mm
    >>> mm.histogram(np.array([0, 1, 1, 2, 9], np.uint8), 0, 4, 4)
    array([1, 2, 1, 0])
    """
    job = Job(input)
    lo = checks.real(min, "min")
    hi = checks.real(max, "max")
    if not lo <= hi:
        raise ValueError(f"min must not be larger than max, got min={min}, max={max}")
    if not np.isfinite(hi - lo):
        # SciPy's edges are NaN here and it raises too
        raise ValueError(f"max - min overflows float64 (min={min}, max={max}): no bin edges "
                         "can be computed")
    nb = checks.integer(bins, "bins", minimum=1)
    edges = np.linspace(lo, hi, nb + 1)
    e_buf = arrays.upload_vector(edges)
    counts = arrays.upload_vector(np.zeros(nb, dtype=np.int64))
    with np.errstate(divide="ignore", over="ignore"):
        norm = np.float64(nb) / np.float64(hi - lo) if hi > lo else np.float64(0.0)
    if not np.isfinite(norm):
        norm = np.float64(0.0)  # a subnormal range: the kernel finds the bins from the edges
    job.launch(dsl.histogram(job.in_dtype), job.src, e_buf, counts, lo, float(norm))
    return arrays.download(counts, (nb,)).copy()


def _hist_ref(x, min, max, bins):  # noqa: A002
    return np.asarray(ndi.histogram(x, min, max, bins)).astype(np.int64)


def _scalar_error(ours, ref):
    return abs(float(ours) - float(ref)) / max(abs(float(ref)), 1e-30)


for _name, _ref in (("sum", ndi.sum), ("mean", ndi.mean), ("minimum", ndi.minimum),
                    ("maximum", ndi.maximum)):
    register(Algorithm(name=_name, area="measurements", func=globals()[_name], reference=_ref,
                       reference_name=f"scipy.ndimage.{_name}", bench_kwargs={}, cases=({},),
                       tolerance={"float32": 1e-6, "float64": 1e-12},
                       compare_result=_scalar_error))
register(Algorithm(name="histogram", area="measurements", func=histogram, reference=_hist_ref,
                   reference_name="scipy.ndimage.histogram",
                   bench_kwargs={"min": -1024, "max": 3072, "bins": 4096},
                   cases=({"min": -1024, "max": 3072, "bins": 256}, {"min": 0.5, "max": 200.0, "bins": 7})))
del _name, _ref
