"""Statistics over the whole array or per label, after ``scipy.ndimage``'s measurement functions.

Every function takes SciPy's ``labels=`` and ``index=`` and returns what SciPy returns:

* ``labels=None``: the whole array (``index`` is ignored, as SciPy ignores it; the
  labelled :func:`histogram` refuses an ``index`` without labels, as SciPy does);
* ``index=None``: the elements whose label is **> 0** as one region (SciPy's code; its
  documentation says "non-zero", but negative labels are left out);
* a scalar ``index``: the elements equal to it, one result (a scalar, or a tuple for
  positions and centres of mass);
* a sequence (any shape): one result per entry, as an array of ``index``'s shape (a list
  of tuples for positions and centres of mass, an object array for histograms).
  Labels that do not occur give SciPy's defaults: 0 for sums, minima, maxima and
  positions ``(0, ...)``, NaN for means, variances and centres of mass (numpy's
  "invalid value" RuntimeWarning, as SciPy), ``None`` for histograms.

``labels`` is a numpy array (or list), a :class:`~medkern.DeviceArray` or another
library's array, of any integer dtype or bool, of the input's shape or broadcasting to it
(dimensions of width 1; labels that would enlarge the input raise ``ValueError``, where
SciPy broadcasts the input); labels are compared exactly (negative, above 2**31, uint64).
``index`` holds integers (bool and integral floats work too; ``1.5`` raises
``ValueError``: SciPy would truncate it for some functions and not for others). Float
labels (numpy or device) are compared with ``index`` by value, as SciPy does (``2.5`` is a
label then; NaN labels match nothing): they are numbered on the host first
(:func:`medkern.algorithms.regions.float_label_codes`).
Results are Python/numpy scalars or numpy arrays even for device input; per-label work runs
as scatter kernels (:mod:`medkern.kernels.scatter`) with the data where it is.

The input may also be what SciPy takes and the rest of medkern does not: bool data (0/1;
minima and maxima are bool, a one-region sum int64, as numpy's), a 0-d array (one
element; its position and centre of mass are ``()``) and an array without elements (no
kernel runs: sums 0, means, variances and centres of mass NaN, ``ValueError`` for the
extremes and positions of one region -- SciPy's answers; for a sequence ``index``, where
SciPy raises, the defaults of absent labels).

Result types follow SciPy's:

* :func:`sum`/:func:`sum_labels`: whole array, as before: ``int`` for integer data, ``float``
  (float64) for floats. One region (``index=None`` or a scalar): numpy's sum type (int64,
  uint64 -- both exact, wrapping like numpy -- or the float dtype). A sequence: float64
  (exact for integer data while the sums stay below 2**53).
* :func:`mean`, :func:`variance` (``ddof=0``), :func:`standard_deviation`,
  :func:`center_of_mass`: float64.
* :func:`minimum`, :func:`maximum`, :func:`extrema`: the input's dtype; positions are
  tuples of int64.

Notes
-----
Sums of integer data are exact (integer atomics). Float sums accumulate in float64; on
the CPU arch each of a fixed number of slots sums a fixed block of rows and the slots are
combined in a fixed order, so results are the same on every run; on GPUs they are atomic
float64 additions whose order varies from run to run (the last bits may differ). Both are
within the registry's tolerance of SciPy (which sums float32 data in float32 for one
region, and per label with ``np.bincount`` in float64).

NaN, as SciPy: a region's minimum/maximum is NaN if it holds one (for a sequence ``index``
the minimum is NaN only if every value is: SciPy's sorting puts NaN last); positions are
those of the first element equal to the reported extreme (SciPy raises ``IndexError`` when
that extreme is NaN for one region, and picks an arbitrary one of equal values for a
sequence). An empty region raises ``ValueError`` for minima, maxima and positions of one
region (numpy's "zero-size array"), as SciPy does.
"""
from __future__ import annotations

import math
from typing import Any, overload

import numpy as np
import scipy.ndimage as ndi

from .. import arrays, checks
from ..kernels import dsl, scatter
from ..registry import Algorithm, register
from ..typing import ArrayInput
from .job import Job, host_like, reduce_buffer
from .regions import Regions

__all__ = ["sum", "sum_labels", "mean", "variance", "standard_deviation", "minimum",
           "maximum", "minimum_position", "maximum_position", "extrema", "center_of_mass",
           "histogram"]


def _acc_dtype(dtype: np.dtype) -> np.dtype:
    # float32 sums accumulate in float64; integers in int64/uint64 (exact)
    if dtype.kind == "f":
        return np.dtype(np.float64)
    return np.dtype(np.uint64 if dtype.kind == "u" else np.int64)


def _sum_dtype(dtype: np.dtype) -> np.dtype:
    """numpy's ``np.sum`` result dtype for data of ``dtype`` (what SciPy's one-region sum gives)."""
    if dtype.kind == "f":
        return dtype
    return np.dtype(np.uint64 if dtype.kind == "u" else np.int64)


class _Measured(Job):
    """The input of a measurement, with SciPy's inputs that no other function takes.

    * bool data is read as uint8 0/1 (sums, means, centres of mass as numpy computes them
      for bool); minima and maxima come back as bool, one-region sums as int64 (numpy's
      sum of bool);
    * a 0-d array is one element (``zero_d``: positions and centres of mass are ``()``,
      as SciPy's).
    """

    def __init__(self, input: Any):
        x = host_like(input)
        self.zero_d = isinstance(x, np.ndarray) and x.ndim == 0
        is_bool = isinstance(x, np.ndarray) and x.dtype == np.bool_
        super().__init__(x.reshape(1) if self.zero_d else x, bools=True)
        if is_bool:
            self.scalar_dtype = np.dtype(np.bool_)


class _NoElements(_Measured):
    """A measurement's input holding no element (a 0 in its shape): every region is empty,
    so no kernel runs and the totals are the reductions' identities (counts and sums 0),
    which give SciPy's results: sums 0, means, variances and centres of mass NaN (numpy's
    RuntimeWarning), ``ValueError`` for the extremes of one region."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype):
        # Job's constructor refuses an input without elements (every other function has
        # nothing to return for it): this sets what the measurements read of a job
        dt = np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)
        # the dtype and rank checks (and messages) of every input, on a stand-in element
        checks.array(np.zeros((1,) * len(shape), np.uint8 if dt == np.bool_ else dt))
        self.volume = None
        self.library = None
        self.device = False
        self.zero_d = False
        self.shape = tuple(int(n) for n in shape)
        self.ndim = len(self.shape)
        self.in_dtype = np.dtype(np.uint8) if dt == np.bool_ else dt.newbyteorder("=")
        self.scalar_dtype = np.dtype(np.bool_) if dt == np.bool_ else (
            np.dtype(np.float16) if dtype == np.float16 else self.in_dtype)
        self._x = np.zeros(self.shape, self.in_dtype)
        self._extra = []

    @property
    def src(self) -> Any:
        """A host array without elements: only numpy reads it (no kernel runs)."""
        return self._x


def _job(input: ArrayInput) -> _Measured:
    """The checked input of a measurement (:class:`_Measured`; :class:`_NoElements` when
    it holds no element)."""
    x = host_like(input)
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    if (isinstance(x, (np.ndarray, arrays.DeviceArray)) and shape is not None
            and len(shape) > 0 and math.prod(shape) == 0):
        return _NoElements(tuple(shape), np.dtype(dtype))
    return _Measured(x)


def _regions(input: ArrayInput, labels: Any, index: Any, **kw: Any) -> tuple[_Measured, Regions]:
    job = _job(input)
    return job, Regions(job, labels, index, **kw)


# --------------------------------------------------------------------------- sums
@overload
def sum(input: ArrayInput, labels: None = None, index: Any = None) -> int | float: ...
@overload
def sum(input: ArrayInput, labels: Any, index: Any = None) -> Any: ...
def sum(input: ArrayInput, labels: Any = None, index: Any = None) -> Any:  # noqa: A001
    """Sum of the elements, of the whole array or per label.

    Parameters
    ----------
    input : ndarray or DeviceArray
    labels : array_like of int or bool, optional
        Label image (the input's shape, or broadcasting to it). ``None``: the whole array.
    index : int or sequence of int, optional
        Labels to sum over (``None``: every element whose label is > 0, as one region).

    Returns
    -------
    int, float, numpy scalar or ndarray
        Whole array: ``int`` for integer data, ``float`` (float64) for floats. One
        region: numpy's sum type (int64/uint64 exact, or the float dtype). A sequence
        ``index``: float64 array of its shape (0 for labels that do not occur).

    Notes
    -----
    Reference: ``scipy.ndimage.sum(input, labels, index)``. The whole-array sum is
    numpy's (SciPy's) on the CPU arch, bit for bit; device arches add rows in float64 in a
    fixed order (deterministic; within float32 rounding of SciPy's float32 sum). Per-label
    sums are described in the module notes.

    Examples
    --------
    >>> import numpy as np, medkern.measurements as mm
    >>> x = np.array([[1, 2, 0], [3, 4, 5]], np.uint8)
    >>> lab = np.array([[1, 1, 0], [2, 2, 7]])
    >>> mm.sum(x, lab, [1, 2, 3])
    array([3., 7., 0.])
    >>> mm.sum(x, lab, 2)
    np.uint64(7)
    """
    return sum_labels(input, labels, index)


@overload
def sum_labels(input: ArrayInput, labels: None = None, index: Any = None) -> int | float: ...
@overload
def sum_labels(input: ArrayInput, labels: Any, index: Any = None) -> Any: ...
def sum_labels(input: ArrayInput, labels: Any = None, index: Any = None) -> Any:
    """Sum of the elements per label (:func:`sum` under SciPy's newer name).

    Parameters
    ----------
    input : ndarray or DeviceArray
    labels : array_like of int or bool, optional
    index : int or sequence of int, optional

    Returns
    -------
    int, float, numpy scalar or ndarray
        As :func:`sum`.

    Notes
    -----
    Reference: ``scipy.ndimage.sum_labels(input, labels, index)``.
    """
    if labels is None:
        return _sum_of(_job(input))
    job, reg = _regions(input, labels, index)
    try:
        count, exact, fsum = reg.moments()
    finally:
        reg.release()
    if reg.scalar:
        return _one_sum(job, exact, fsum)
    return reg.gather(fsum, 0.0)


def _one_sum(job: Job, exact: np.ndarray | None, fsum: np.ndarray) -> np.generic:
    st = _sum_dtype(job.scalar_dtype)
    return st.type(exact[0]) if exact is not None else st.type(fsum[0])


def _sum_of(job: Job) -> int | float:
    """The whole array's sum.

    On the CPU arch the kernel buffer is a numpy array and numpy's own sum reads it in
    place: that is SciPy's arithmetic (``input.sum()``: float32 data summed pairwise in
    float32, integers in 64 bits), so the result is SciPy's to the bit and as fast (the
    float64 row kernel ran at 0.5x: one conversion per element). Device arches add each
    row in float64 (integers in 64 bits) in index order and combine the rows with numpy:
    deterministic, and at least as accurate as SciPy's float32 sum.
    """
    acc = _acc_dtype(job.in_dtype)
    src = job.src
    if isinstance(src, np.ndarray) and not isinstance(src, arrays.DeviceMemory):
        val = src.sum() if acc.kind == "f" else src.sum(dtype=acc)
    else:
        val = reduce_buffer(dsl.reduce("sum", job.in_dtype, acc), src, acc, "sum")
    return float(val) if acc.kind == "f" else int(val)


@overload
def mean(input: ArrayInput, labels: None = None, index: Any = None) -> float: ...
@overload
def mean(input: ArrayInput, labels: Any, index: Any = None) -> Any: ...
def mean(input: ArrayInput, labels: Any = None, index: Any = None) -> Any:
    """Mean of the elements, of the whole array or per label (float64).

    Parameters
    ----------
    input : ndarray or DeviceArray
    labels : array_like of int or bool, optional
    index : int or sequence of int, optional

    Returns
    -------
    float, numpy.float64 or ndarray of float64
        NaN (with numpy's RuntimeWarning) for a region without elements.

    Notes
    -----
    Reference: ``scipy.ndimage.mean(input, labels, index)``.

    Examples
    --------
    >>> import numpy as np, medkern.measurements as mm
    >>> x = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 5.0]])
    >>> mm.mean(x, [[1, 1, 0], [2, 2, 2]], [1, 2])
    array([1.5, 4. ])
    """
    if labels is None:
        job = _job(input)  # one check and one upload, shared with the sum
        with np.errstate(invalid="warn", divide="warn"):  # no element: NaN, as SciPy
            return np.float64(_sum_of(job)) / np.float64(math.prod(job.shape))
    count, total = _count_sum(input, labels, index)
    return total / np.asanyarray(count).astype(np.float64)


def _count_sum(input: ArrayInput, labels: Any, index: Any) -> tuple[Any, Any]:
    """Per-region element counts and float64 sums, gathered like ``index`` (0 where absent)."""
    job, reg = _regions(input, labels, index)
    try:
        count, _, fsum = reg.moments()
    finally:
        reg.release()
    if reg.scalar:
        return count[0], np.float64(fsum[0])
    return reg.gather(count, 0), reg.gather(fsum, 0.0)


@overload
def variance(input: ArrayInput, labels: None = None, index: Any = None) -> np.float64: ...
@overload
def variance(input: ArrayInput, labels: Any, index: Any = None) -> Any: ...
def variance(input: ArrayInput, labels: Any = None, index: Any = None) -> Any:
    """Variance of the elements (``ddof=0``), of the whole array or per label (float64).

    Parameters
    ----------
    input : ndarray or DeviceArray
    labels : array_like of int or bool, optional
    index : int or sequence of int, optional

    Returns
    -------
    numpy.float64 or ndarray of float64
        NaN (with numpy's RuntimeWarning) for a region without elements.

    Notes
    -----
    Reference: ``scipy.ndimage.variance(input, labels, index)``. Two passes, as SciPy:
    the means, then the sum of squared deviations from them, in float64.

    Examples
    --------
    >>> import numpy as np, medkern.measurements as mm
    >>> x = np.array([[1, 2, 0], [3, 5, 7]], np.int16)
    >>> mm.variance(x, [[1, 1, 0], [2, 2, 2]], [1, 2])
    array([0.25      , 2.66666667])
    """
    job, reg = _regions(input, labels, index)
    try:
        count, _, fsum = reg.moments()
        with np.errstate(invalid="ignore", divide="ignore"):
            means = fsum / count
        dev2 = reg.centered(means)
    finally:
        reg.release()
    if reg.scalar:
        return dev2[0] / np.float64(count[0])
    return reg.gather(dev2, 0.0) / reg.gather(count, 0).astype(np.float64)


@overload
def standard_deviation(input: ArrayInput, labels: None = None, index: Any = None
                       ) -> np.float64: ...
@overload
def standard_deviation(input: ArrayInput, labels: Any, index: Any = None) -> Any: ...
def standard_deviation(input: ArrayInput, labels: Any = None, index: Any = None) -> Any:
    """Standard deviation (``ddof=0``), of the whole array or per label: ``sqrt(variance)``.

    Parameters
    ----------
    input : ndarray or DeviceArray
    labels : array_like of int or bool, optional
    index : int or sequence of int, optional

    Returns
    -------
    numpy.float64 or ndarray of float64

    Notes
    -----
    Reference: ``scipy.ndimage.standard_deviation(input, labels, index)``.
    """
    return np.sqrt(variance(input, labels, index))


# --------------------------------------------------------------------------- extremes
def _extreme(input: ArrayInput, op: str) -> np.generic:
    """The whole array's minimum or maximum; NaN if it holds one (as ``np.min``):
    :meth:`Job.extreme` (numpy on the CPU arch's host buffer, one device pass elsewhere)."""
    job = _job(input)
    if isinstance(job, _NoElements):
        raise ValueError(f"{op}imum of an input without elements (shape {job.shape}): numpy's "
                         "zero-size array to reduction operation, which SciPy raises too")
    return job.scalar_dtype.type(job.extreme(op))  # float16 data: a float16 value


def _nan_key(dtype: np.dtype) -> int | None:
    if dtype.kind != "f":
        return None
    return int(scatter.value_keys(np.array([np.nan]), dtype)[0])


def _empty_region(what: str) -> ValueError:
    return ValueError(f"{what} of an empty region: no element has the label(s) asked for "
                      "(numpy: zero-size array to reduction operation, which SciPy raises too)")


def _extremes(input: ArrayInput, labels: Any, index: Any, positions: bool) -> dict:
    """Minima and maxima (values of the input's dtype) and, if asked, their positions."""
    job, reg = _regions(input, labels, index)
    dt, vdt = job.in_dtype, job.scalar_dtype
    try:
        count, kmin, kmax = reg.minmax()
        nan = _nan_key(dt)
        if reg.scalar:
            if count[0] == 0:
                raise _empty_region("minimum and maximum")
            if nan is not None and int(kmax[0]) == nan:  # one region: NaN propagates, as np.min
                kmin = kmax.copy()
        pmin = pmax = None
        if positions:
            pmin, pmax = reg.first_positions(kmin, kmax)
    finally:
        reg.release()
    out: dict = {}
    lo = scatter.keys_to_values(kmin, dt).astype(vdt)
    hi = scatter.keys_to_values(kmax, dt).astype(vdt)
    empty = count == 0
    lo[empty] = 0
    hi[empty] = 0
    if reg.scalar:
        out["min"], out["max"] = lo[0], hi[0]
    else:
        out["min"], out["max"] = reg.gather(lo, 0), reg.gather(hi, 0)
    if positions:
        assert pmin is not None and pmax is not None
        pmin[empty] = 0
        pmax[empty] = 0
        shape = np.array(job.shape)
        steps = np.cumprod([1] + list(shape[:0:-1]))[::-1]
        for key, flat in (("minpos", pmin), ("maxpos", pmax)):
            if job.zero_d:  # the one element of a 0-d array is at ()
                out[key] = () if reg.scalar else [()] * int(np.prod(reg.shape))
            elif reg.scalar:
                out[key] = tuple((np.int64(flat[0]) // steps) % shape)
            else:
                coords = (reg.gather(flat, 0).reshape(-1, 1) // steps) % shape
                out[key] = [tuple(row) for row in coords]
    return out


def minimum(input: ArrayInput, labels: Any = None, index: Any = None) -> Any:
    """Smallest element, of the whole array or per label.

    Parameters
    ----------
    input : ndarray or DeviceArray
    labels : array_like of int or bool, optional
    index : int or sequence of int, optional

    Returns
    -------
    scalar of the input's dtype, or ndarray of it for a sequence ``index``
        NaN if the region holds NaN (a sequence: only if all its values are NaN, as
        SciPy); 0 for a label that does not occur. An empty single region raises
        ``ValueError``.

    Notes
    -----
    Reference: ``scipy.ndimage.minimum(input, labels, index)``.

    Examples
    --------
    >>> import numpy as np, medkern.measurements as mm
    >>> x = np.array([[1, 2, 0], [3, 4, 5]], np.int16)
    >>> mm.minimum(x, [[1, 1, 0], [2, 2, 2]], [2, 1, 9])
    array([3, 1, 0], dtype=int16)
    """
    if labels is None:
        return _extreme(input, "min")
    return _extremes(input, labels, index, False)["min"]


def maximum(input: ArrayInput, labels: Any = None, index: Any = None) -> Any:
    """Largest element, of the whole array or per label (NaN if the region holds NaN).

    Parameters
    ----------
    input : ndarray or DeviceArray
    labels : array_like of int or bool, optional
    index : int or sequence of int, optional

    Returns
    -------
    scalar of the input's dtype, or ndarray of it for a sequence ``index``
        0 for a label that does not occur; an empty single region raises ``ValueError``.

    Notes
    -----
    Reference: ``scipy.ndimage.maximum(input, labels, index)``.
    """
    if labels is None:
        return _extreme(input, "max")
    return _extremes(input, labels, index, False)["max"]


def minimum_position(input: ArrayInput, labels: Any = None, index: Any = None) -> Any:
    """Position of the first smallest element, of the whole array or per label.

    Parameters
    ----------
    input : ndarray or DeviceArray
    labels : array_like of int or bool, optional
    index : int or sequence of int, optional

    Returns
    -------
    tuple of int64, or list of them for a sequence ``index``
        The first element (C order) equal to the region's minimum; ``(0, ...)`` for a
        label that does not occur.

    Notes
    -----
    Reference: ``scipy.ndimage.minimum_position(input, labels, index)``.
    """
    return _extremes(input, labels, index, True)["minpos"]


def maximum_position(input: ArrayInput, labels: Any = None, index: Any = None) -> Any:
    """Position of the first largest element, of the whole array or per label.

    Parameters
    ----------
    input : ndarray or DeviceArray
    labels : array_like of int or bool, optional
    index : int or sequence of int, optional

    Returns
    -------
    tuple of int64, or list of them for a sequence ``index``

    Notes
    -----
    Reference: ``scipy.ndimage.maximum_position(input, labels, index)``.
    """
    return _extremes(input, labels, index, True)["maxpos"]


def extrema(input: ArrayInput, labels: Any = None, index: Any = None) -> tuple:
    """Minima, maxima and their positions, of the whole array or per label.

    Parameters
    ----------
    input : ndarray or DeviceArray
    labels : array_like of int or bool, optional
    index : int or sequence of int, optional

    Returns
    -------
    minimums, maximums : scalar or ndarray of the input's dtype
    min_positions, max_positions : tuple, or list of tuples, of int64

    Notes
    -----
    Reference: ``scipy.ndimage.extrema(input, labels, index)``: one pass for the values,
    one for the positions.

    Examples
    --------
    >>> import numpy as np, medkern.measurements as mm
    >>> x = np.array([[1, 2, 0], [3, 4, 5]], np.int16)
    >>> mm.extrema(x, [[1, 1, 0], [2, 2, 2]], 2)
    (np.int16(3), np.int16(5), (np.int64(1), np.int64(0)), (np.int64(1), np.int64(2)))
    """
    r = _extremes(input, labels, index, True)
    return r["min"], r["max"], r["minpos"], r["maxpos"]


def center_of_mass(input: ArrayInput, labels: Any = None, index: Any = None) -> Any:
    """Centre of mass (value-weighted mean position), of the whole array or per label.

    Parameters
    ----------
    input : ndarray or DeviceArray
        The masses (negative ones too).
    labels : array_like of int or bool, optional
    index : int or sequence of int, optional

    Returns
    -------
    tuple of float64, or list of them for a sequence ``index``
        NaN/inf (with numpy's RuntimeWarning) where the masses sum to zero.

    Notes
    -----
    Reference: ``scipy.ndimage.center_of_mass(input, labels, index)``: the sums of
    value x coordinate per axis (float64) divided by the sum of the values.

    Examples
    --------
    >>> import numpy as np, medkern.measurements as mm
    >>> x = np.array([[1, 2, 0], [3, 4, 5]], np.uint8)
    >>> [tuple(float(c) for c in p) for p in mm.center_of_mass(x, [[1, 1, 0], [2, 2, 2]], [1, 2])]
    [(0.0, 0.6666666666666666), (1.0, 1.1666666666666667)]
    """
    job, reg = _regions(input, labels, index)
    try:
        _, exact, fsum = reg.moments()
        weighted = reg.com()
    finally:
        reg.release()
    ndim = 0 if job.zero_d else job.ndim  # a 0-d array has no coordinates: ()
    if reg.scalar:
        norm = _one_sum(job, exact, fsum) if exact is not None else np.float64(fsum[0])
        return tuple(np.float64(w) / norm for w in weighted[0][:ndim])
    norm_all = reg.gather(fsum, 0.0)
    results = [reg.gather(weighted[:, d], 0.0) / norm_all for d in range(ndim)]
    if not results:
        return [()] * int(np.prod(reg.shape))
    return [tuple(v) for v in np.array(results).T]


# --------------------------------------------------------------------------- histogram
def _bins_of(min: float, max: float, bins: int) -> tuple[np.ndarray, float, float]:  # noqa: A002
    """Checked ``(edges, lo, norm)`` of ``bins`` equal bins over ``[min, max]``."""
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
    with np.errstate(divide="ignore", over="ignore"):
        norm = np.float64(nb) / np.float64(hi - lo) if hi > lo else np.float64(0.0)
    if not np.isfinite(norm):
        norm = np.float64(0.0)  # a subnormal range: the kernel finds the bins from the edges
    return edges, lo, float(norm)


def histogram(input: ArrayInput, min: float, max: float, bins: int,  # noqa: A002
              labels: Any = None, index: Any = None) -> Any:
    """Counts in ``bins`` equal bins spanning ``[min, max]``, of the whole array or per label.

    Parameters
    ----------
    input : ndarray or DeviceArray
    min, max : float
        Range of the bins (``min <= max``, ``max - min`` finite); values outside
        are not counted. With ``min == max`` every bin edge is ``min`` and values
        equal to it count in the last bin, as in SciPy.
    bins : int
        Number of bins (>= 1).
    labels : array_like of int or bool, optional
        Label image; ``None``: the whole array (then ``index`` must be ``None``, as SciPy
        requires).
    index : int or sequence of int, optional
        Labels to count (``None``: every element whose label is > 0). Every value must
        be representable in the labels' dtype (SciPy raises ``ValueError`` otherwise,
        and so does this).

    Returns
    -------
    ndarray of int64, None, or ndarray of objects
        The counts. One region: an int64 array (``None`` for a scalar ``index`` that no
        element has). A sequence ``index``: an object array of its shape holding one
        int64 array per label (``None`` where the label does not occur). Bin edges are
        ``np.linspace(min, max, bins + 1)``; a value equal to an inner edge goes to the
        upper bin, ``max`` to the last bin.

    Notes
    -----
    Reference: ``scipy.ndimage.histogram(input, min, max, bins, labels, index)``
    (numpy's binning rules). NaN is not counted.

    Examples
    --------
    >>> import numpy as np, medkern.measurements as mm
    >>> mm.histogram(np.array([0, 1, 1, 2, 9], np.uint8), 0, 4, 4)
    array([1, 2, 1, 0])
    >>> mm.histogram(np.array([0, 1, 1, 2, 9], np.uint8), 0, 4, 2, [1, 1, 2, 2, 2], [2, 5])
    array([array([1, 1]), None], dtype=object)
    """
    job = _job(input)
    edges, lo, norm = _bins_of(min, max, bins)
    nb = len(edges) - 1
    if labels is None:
        if index is not None:
            raise ValueError("index needs labels: histogram(..., labels=None) counts the whole "
                             "array (SciPy raises 'index without defined labels')")
        if isinstance(job, _NoElements):
            return np.zeros(nb, np.int64)
        return job.histogram(edges, lo, norm)
    if index is not None and not np.isscalar(index) and np.asarray(index).size == 0:
        raise ValueError("index is empty (SciPy raises for it too: zero-size array)")
    reg = Regions(job, labels, index, strict=True)
    try:
        hist, present = reg.histogram(edges, lo, norm)
    finally:
        reg.release()
    if reg.scalar:
        return hist[0] if present[0] or index is None else None
    out = np.empty(reg.where.shape, dtype=object)
    for k, b in enumerate(reg.where):
        out[k] = hist[b].copy() if b >= 0 and present[b] else None
    return out.reshape(reg.shape)


# --------------------------------------------------------------------------- registry
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


# ------------------------------------------------------------------ per-label variants
#: Label images of the registry's per-label cases: ``"_labels": (kind, count, dtype,
#: values)`` (see :func:`medkern.sample_data.label_image`); ``"_index": "all"`` asks for
#: ``index = 1 .. count`` (the benchmarks: every label, as an array).
_LABEL_SETS = {
    "blobs": ("blobs", 6, "int32", None),
    "sparse": ("sparse", 5, "uint16", None),
    "noise": ("noise", 4, "int64", (-4, 5, 2**31 - 1, 70000)),
    "bench": ("blobs", 1000, "int32", None),
}


def _label_inputs(shape: tuple, seed: int, case: dict) -> dict:
    """Registry ``inputs``: the label image (and ``index``) a per-label case asks for."""
    name = case.get("_labels")
    if name is None:
        return {}
    from ..sample_data import label_image
    kind, n, dtype, values = _LABEL_SETS[name]
    out: dict = {"labels": label_image(shape, n, seed, kind, values=values, dtype=dtype)}
    if case.get("_index") == "all":
        out["index"] = np.arange(1, n + 1)
    return out


def _leaf_error(o: Any, r: Any) -> float:
    if r is None or o is None:
        return 0.0 if o is None and r is None else float("inf")
    a, b = np.asarray(o), np.asarray(r)
    if a.shape != b.shape or a.dtype != b.dtype:
        return float("inf")
    if a.dtype == object:
        return max([_nested_error(p, q) for p, q in zip(a.ravel(), b.ravel())],
                            default=0.0)
    fa, fb = a.astype(np.float64), b.astype(np.float64)
    if np.any(np.isnan(fa) != np.isnan(fb)):
        return float("inf")
    ok = ~np.isnan(fb)
    if not ok.any():
        return 0.0
    with np.errstate(invalid="ignore"):
        diff = np.abs(fa[ok] - fb[ok])
    if np.any(np.isinf(fb[ok])) or np.any(np.isinf(fa[ok])):
        return 0.0 if np.array_equal(fa[ok], fb[ok]) else float("inf")
    if b.dtype.kind != "f":
        return float(diff.max())
    return float(diff.max() / max(float(np.abs(fb[ok]).max()), 1e-30))


def _nested_error(ours: Any, ref: Any) -> float:
    """Largest error over a result's leaves (tuples, lists, object arrays, None, arrays):
    relative to each leaf's magnitude for floats, absolute for integers, inf where the
    structure, a dtype or a NaN differs."""
    if isinstance(ref, (tuple, list)):
        if not isinstance(ours, (tuple, list)) or len(ours) != len(ref):
            return float("inf")
        return max([_nested_error(o, r) for o, r in zip(ours, ref)], default=0.0)
    return _leaf_error(ours, ref)


#: Results equal for integer data except where SciPy and medkern round differently:
#: variances sum squared deviations in another order.
_INT_ROUNDING = {d: 1e-12 for d in ("uint8", "uint16", "int16", "int8", "int32", "uint32",
                                    "int64", "uint64")}
_CASES = ({"_labels": "blobs"},
          {"_labels": "blobs", "index": [1, 3, 0, 9, -2, 3]},
          {"_labels": "noise", "index": 5},
          {"_labels": "sparse", "index": np.arange(0, 7)})
_EVERY_LABEL = {"_labels": "bench", "_index": "all"}
for _name, _func, _ref, _tol, _cases, _bench in (
        ("sum_labels", sum_labels, ndi.sum_labels, {}, _CASES, _EVERY_LABEL),
        ("mean_labels", mean, ndi.mean, {}, _CASES, _EVERY_LABEL),
        ("variance_labels", variance, ndi.variance, _INT_ROUNDING, _CASES, _EVERY_LABEL),
        ("minimum_labels", minimum, ndi.minimum, {}, _CASES, _EVERY_LABEL),
        ("maximum_labels", maximum, ndi.maximum, {}, _CASES, _EVERY_LABEL),
        # positions of tied extremes: SciPy takes the first for one region (as medkern
        # always does) but any of them for a sequence index (its sort is not stable), so
        # the registry checks extrema on one region (index None / a scalar); sequences are
        # checked in tests/test_measurements_labels.py against the first tied position
        ("extrema_labels", extrema, ndi.extrema, {}, _CASES[:1] + _CASES[2:3],
         {"_labels": "bench"}),
        ("center_of_mass_labels", center_of_mass, ndi.center_of_mass, {}, _CASES,
         _EVERY_LABEL),
        ("standard_deviation_labels", standard_deviation, ndi.standard_deviation,
         _INT_ROUNDING, _CASES, _EVERY_LABEL),
        # one region per call, as extrema_labels (tied positions)
        ("minimum_position_labels", minimum_position, ndi.minimum_position, {},
         _CASES[:1] + _CASES[2:3], {"_labels": "bench"}),
        ("maximum_position_labels", maximum_position, ndi.maximum_position, {},
         _CASES[:1] + _CASES[2:3], {"_labels": "bench"})):
    register(Algorithm(name=_name, area="measurements", func=_func, reference=_ref,
                       reference_name=f"scipy.ndimage.{_ref.__name__}", bench_kwargs=_bench,
                       cases=_cases, tolerance=_tol, compare_result=_nested_error,
                       inputs=_label_inputs))
register(Algorithm(name="histogram_labels", area="measurements", func=histogram,
                   reference=ndi.histogram, reference_name="scipy.ndimage.histogram",
                   bench_kwargs={"min": -1024, "max": 3072, "bins": 256, "_labels": "bench",
                                 "_index": "all"},
                   cases=tuple({"min": -1024, "max": 3072, "bins": 64, **c}
                               for c in (_CASES[0], _CASES[1], _CASES[3])),
                   compare_result=_nested_error, inputs=_label_inputs))
del _name, _func, _ref, _tol, _cases, _bench
