"""Filters with the names, parameters, defaults and results of ``scipy.ndimage``.

Every function takes a numpy array (any layout) or a :class:`medkern.DeviceArray`
and returns the same kind; a :class:`medkern.Volume` gives a Volume on the same grid
(a new series UID). Sizes, sigmas and footprints are in **voxels** per array axis, as
SciPy's, never millimetres: for a sigma in mm (SimpleITK's Gaussian filters take mm) use
``gaussian_filter(vol, vol.voxels(sigma_mm))``. Boundary ``mode`` is one of ``reflect``,
``constant`` (with ``cval``), ``nearest``, ``mirror``, ``wrap`` or a ``grid-``
alias, exactly as SciPy defines them. See :mod:`medkern.arrays` for the dtype
policy: every filter computes in float64 with SciPy's order of operations, so
integer and float64 outputs equal SciPy's bit for bit (truncation, wrap-around)
and float32 outputs agree within a rounding.

Deviations from SciPy (also under each function's Notes): complex and bool
inputs are rejected; negative ``sigma`` raises instead of being skipped;
rank-type filters (minimum/maximum/median/rank/percentile) order NaN after
every number, as ``np.sort`` does (SciPy's result for NaN depends on traversal
order), for NaN input and ``cval=nan`` alike; int64/uint64 values beyond
2**53 stay exact in selections (rank filters; minimum/maximum, box or footprint,
into the input's dtype) and single-tap passes where SciPy rounds them through
float64; arrays are 1-3 D (at most 2**31 - 1 elements). Floats stored into
integer outputs follow SciPy's C casts as x86-64 builds of SciPy give them, out of
range and NaN included (``dsl.converter``), on every backend.

Empty arrays: every filter here takes an input with no element (shape ``(0,)``,
``(4, 0)``...) as SciPy does and returns an empty array of the result's shape and
dtype (the input's, or the dtype ``output`` names; an ``output`` array of that
shape is itself returned). The arguments are checked as for any input; no kernel
runs. (Interpolation rejects empty input; measurements and ``label`` answer it
their own way.)

Errors: a bad argument raises ``TypeError`` or ``ValueError`` naming the
parameter. Where ``scipy.ndimage`` raises ``RuntimeError`` for it (a per-axis
sequence of the wrong length, a footprint or weights of the wrong ``ndim``, a
mode sequence where one mode is taken, an unknown mode, a size below 1, a rank
or percentile outside the footprint, an output array of the wrong shape) the
error is a :class:`medkern.ArgumentError`, which is both a ``ValueError`` and a
``RuntimeError`` and quotes SciPy's message: code written against either
library catches it.

>>> import numpy as np, medkern, medkern.filters as mf
>>> mf.gaussian_filter(np.zeros((0, 4)), 1.0)
array([], shape=(0, 4), dtype=float64)
>>> try:
...     mf.uniform_filter(np.zeros((4, 4)), size=(3, 3, 3))
... except RuntimeError as err:  # SciPy's exception class; also a ValueError
...     print(type(err).__name__, isinstance(err, ValueError))
ArgumentError True
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np
import numpy.typing as npt

from .. import arrays, checks, runtime
from ..kernels import dsl
from ..kernels import filters as kf
from ..kernels import window as kwindow
from ..runtime import taichi_errors as ti_errors
from ..typing import (ArrayInput, ArrayResult, AxesArg, FloatOrSeq, IntOrSeq, ModeArg,
                      OutputArg, like_input)
from . import complex_parts as fc
from .job import Job

__all__ = [
    "correlate1d", "convolve1d", "correlate", "convolve",
    "gaussian_filter1d", "gaussian_filter", "uniform_filter1d", "uniform_filter",
    "minimum_filter1d", "maximum_filter1d", "minimum_filter", "maximum_filter",
    "median_filter", "rank_filter", "percentile_filter",
    "sobel", "prewitt", "laplace", "gaussian_laplace", "gaussian_gradient_magnitude",
    "generic_filter", "gaussian_kernel1d",
]


# =========================================================================== helpers
def gaussian_kernel1d(sigma: float, order: int, radius: int) -> np.ndarray:
    """Sampled Gaussian (or its ``order``-th derivative) on ``[-radius, radius]``.

    Normalised so the order-0 taps sum to one; the derivative taps are
    ``p(x) * g(x)`` with ``p`` the polynomial that differentiating ``g``
    ``order`` times produces. Evaluated with the same floating-point operations
    SciPy uses, so the taps are identical to SciPy's bit for bit.
    """
    sigma = checks.real(sigma, "sigma")
    if not (sigma > 0 and sigma * sigma > 0):
        raise ValueError(f"sigma must be > 0, got {sigma}")
    order = checks.integer(order, "order", minimum=0)
    radius = checks.integer(radius, "radius", minimum=0)
    x = np.arange(-radius, radius + 1)
    var = sigma * sigma
    g = np.exp(-0.5 / var * x ** 2)
    g = g / g.sum()
    if order == 0:
        return g
    # coefficients c of p(x) = sum c[k] x**k; d/dx (p g) = (p' - x p / var) g,
    # applied as one matrix: superdiagonal k (from p'), subdiagonal -1/var (from -x/var)
    powers = np.arange(order + 1)
    step = np.diag(powers[1:], 1) + np.diag(np.ones(order) / -var, -1)
    c = np.zeros(order + 1)
    c[0] = 1
    for _ in range(order):
        c = step.dot(c)
    return (x[:, None] ** powers).dot(c) * g


def _gaussian_radius(sigma: float, truncate: float, radius: Any) -> int:
    if radius is not None:
        try:
            return checks.integer(radius, "radius", minimum=0, maximum=checks.MAX_TAPS // 2)
        except TypeError:
            # SciPy's contract: ValueError for any radius that is not a nonnegative integer
            raise ValueError(f"radius must be a nonnegative integer, got {radius!r}") from None
    r = truncate * sigma + 0.5
    if r > checks.MAX_TAPS // 2:
        raise ValueError(f"sigma={sigma} with truncate={truncate} makes a kernel of radius "
                         f"{int(r)}; at most {checks.MAX_TAPS // 2} is supported")
    return int(r)


def _corr_pass(job: Job, weights: Sequence[float] | np.ndarray, axis: int, mode: str,
               origin: int) -> Callable[[np.dtype], Callable[..., Any]]:
    w = tuple(float(v) for v in weights)
    ax3 = job.axis3(axis)
    return lambda in_dt: dsl.correlate1d(w, ax3, mode, origin, in_dt, job.out_dtype,
                                         job.compute(in_dt))


def _gaussian_passes(job: Job, sigmas, orders, modes, truncate: float, radii, axes):
    passes = []
    for ax, s, o, m, r in zip(axes, sigmas, orders, modes, radii):
        if s > 1e-15:  # SciPy skips (near-)zero sigmas
            w = gaussian_kernel1d(s, o, _gaussian_radius(s, truncate, r))[::-1]
            passes.append(_corr_pass(job, w, ax, m, 0))
    return passes


def _footprint_origins(job: Job, shape: Sequence[int], origin: Any, axes: Sequence[int],
                       convolution: bool = False) -> list[int]:
    """Per-dimension origins of a footprint (or weights) array placed over ``axes``.

    SciPy places the footprint's dimensions on the filtered axes in increasing
    order (``np.expand_dims`` over the others), whatever the order of ``axes``,
    but pairs a sequence of origins with ``axes`` in the order given -- unless
    every axis is filtered, when origins go by position. A convolution mirrors
    the footprint: its origins are negated (and shifted by one on even lengths).
    The result is checked against the footprint dimension it lands on.
    """
    raw = [checks.integer(o, "origin") for o in checks.per_axis(origin, len(axes), "origin")]
    if len(axes) < job.ndim:
        by_axis = dict(zip(axes, raw))
        raw = [by_axis[a] for a in sorted(axes)]
    if convolution:
        raw = [-o - (1 if n % 2 == 0 else 0) for o, n in zip(raw, shape)]
    return [checks.origin(o, n) for o, n in zip(raw, shape)]


def _footprint_offsets(job: Job, footprint: np.ndarray, origins: Sequence[int],
                       axes: Sequence[int]) -> tuple:
    """Static 3-D offsets (C order) of the True elements of a footprint over ``axes``.

    ``origins`` are per footprint dimension (:func:`_footprint_origins`); the
    footprint's dimensions lie on ``sorted(axes)``, as SciPy places them.
    """
    centre = np.array([n // 2 + o for n, o in zip(footprint.shape, origins)])
    rel = np.argwhere(footprint) - centre
    full = np.zeros((rel.shape[0], job.ndim), dtype=np.int64)
    full[:, sorted(axes)] = rel
    return job.offsets3(full)


def _sizes_or_footprint(size, footprint, naxes: int, func: str):
    """SciPy's size/footprint rules -> (sizes or None, footprint or None)."""
    if footprint is not None:
        if size is not None:
            warnings.warn("ignoring size because footprint is set", UserWarning, stacklevel=3)
        if func in ("minimum_filter", "maximum_filter"):
            _box_footprint_ndim(footprint, naxes)
        fp = checks.footprint(footprint, naxes)
        if fp.all():
            return list(fp.shape), None
        return None, fp
    if size is None:
        raise checks.ArgumentError(f"{func}: either size or footprint must be given"
                                   " (SciPy: no footprint provided)")
    # SciPy's minimum/maximum boxes skip axes of size <= 1 before looking at them: a size
    # of 0 there leaves that axis unfiltered (as uniform_filter); other filters need >= 1
    low = 0 if func in ("minimum_filter", "maximum_filter") else 1
    sizes = [checks.integer(s, "size", minimum=low, maximum=checks.MAX_TAPS) if low == 0
             else checks.window_size(s) for s in checks.per_axis(size, naxes, "size")]
    return sizes, None


def _box_footprint_ndim(footprint: Any, naxes: int) -> None:
    """SciPy's minimum/maximum_filter turn an all-True footprint into box sizes before
    looking at its dimensions: one with too many or too few is then a size sequence of
    the wrong length (its error, matched by SciPy's tests)."""
    fp = np.asarray(footprint)
    if fp.ndim != naxes and fp.size and fp.dtype.kind in "biuf" and fp.all():
        raise checks.ArgumentError(
            f"footprint has ndim={fp.ndim}, expected one dimension per filtered axis ({naxes}); "
            f"an all-True footprint is a box of sizes {fp.shape}"
            " (SciPy: sequence argument must have length equal to input rank)")


# =========================================================================== correlation
@like_input
def correlate1d(input: ArrayInput, weights: npt.ArrayLike, axis: int = -1,
                output: OutputArg = None, mode: str = "reflect", cval: float = 0.0,
                origin: int = 0) -> ArrayResult:
    """One-dimensional correlation along ``axis``.

    Parameters
    ----------
    input : ndarray or DeviceArray
        1-3 D real array.
    weights : array_like
        1-D sequence of weights.
    axis : int, optional
        Axis along which to correlate. Default -1.
    output : array, DeviceArray or dtype, optional
        Where to write the result, or its dtype. Default: input's dtype.
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}, optional
        Boundary extension (``grid-`` aliases accepted). Default 'reflect'.
    cval : float, optional
        Value outside the edges for ``mode='constant'``. Default 0.
    origin : int, optional
        Shift of the filter placement. Default 0.

    Returns
    -------
    ndarray or DeviceArray
        Same shape as ``input``.

    Notes
    -----
    Reference: :func:`scipy.ndimage.correlate1d` (same sums in the same order).

    Examples
    --------
    >>> import numpy as np, medkern.filters as mf
    >>> mf.correlate1d(np.array([2, 8, 0, 4, 1, 9, 9, 0]), [1, 3])
    array([ 8, 26,  8, 12,  7, 28, 36,  9])
    """
    if fc.is_complex(input) or fc.is_complex(weights):
        return fc.weighted(correlate1d, input, weights, output, cval, conjugate=True,
                           axis=axis, mode=mode, origin=origin)
    job = Job(input, output, empty=True)
    w = checks.weights_array(weights, 1, "weights")
    ax = checks.axis(axis, job.ndim)
    m = checks.mode(mode)
    o = checks.origin(origin, w.size)
    cv = checks.cval(cval)
    return job.finish(job.chain([_corr_pass(job, w, ax, m, o)], cv))


@like_input
def convolve1d(input: ArrayInput, weights: npt.ArrayLike, axis: int = -1, output: OutputArg = None,
               mode: str = "reflect", cval: float = 0.0, origin: int = 0) -> ArrayResult:
    """One-dimensional convolution along ``axis``.

    Parameters are those of :func:`correlate1d`; the weights are mirrored and
    the origin negated (and shifted by one for even lengths), as in
    :func:`scipy.ndimage.convolve1d`.

    Returns
    -------
    ndarray or DeviceArray

    Examples
    --------
    >>> import numpy as np, medkern.filters as mf
    >>> mf.convolve1d(np.array([2, 8, 0, 4, 1, 9, 9, 0]), [1, 3])
    array([14, 24,  4, 13, 12, 36, 27,  0])
    """
    if fc.is_complex(weights):
        checks.weights_array(np.asarray(weights).real, 1, "weights")
        # conjugated here so that correlate1d's conjugation cancels: convolutions do not
        # conjugate complex weights
        w = np.asarray(weights)[::-1].conj()
    else:
        w = checks.weights_array(weights, 1, "weights")[::-1]
    o = -checks.integer(origin, "origin")
    if w.size % 2 == 0:
        o -= 1
    return correlate1d(input, w, axis, output, mode, cval, o)


def _correlate_nd(input, weights, output, mode, cval, origin, axes, convolution: bool):
    if fc.is_complex(input) or fc.is_complex(weights):
        return fc.weighted(lambda x, w, output, cval: _correlate_nd(
            x, w, output, mode, cval, origin, axes, convolution),
            input, weights, output, cval, conjugate=not convolution)
    job = Job(input, output, empty=True)
    ax = checks.axes(axes, job.ndim)
    w = checks.weights_array(weights, len(ax), "weights")
    m = checks.mode(mode)
    cv = checks.cval(cval)
    if convolution:
        w = w[(slice(None, None, -1),) * w.ndim]
    origins = _footprint_origins(job, w.shape, origin, ax, convolution)
    # SciPy drops taps whose |weight| <= DBL_EPSILON and sums the rest in C order
    keep = np.abs(w) > np.finfo(np.float64).eps
    if not keep.any():
        out = job.buffer()
        job.launch(dsl.pointwise(kf.zero, (job.in_dtype,), job.out_dtype, np.float64), job.src, out)
        return job.finish(out)
    offsets = _footprint_offsets(job, keep, origins, ax)
    taps = tuple(float(v) for v in w[keep])
    kern = dsl.stencil_fold(offsets, taps, "sum", m, job.in_dtype, job.out_dtype, job.compute())
    out = job.buffer()
    job.launch(kern, job.src, out, cv)
    return job.finish(out)


@like_input
def correlate(input: ArrayInput, weights: npt.ArrayLike, output: OutputArg = None,
              mode: str = "reflect", cval: float = 0.0, origin: IntOrSeq = 0, *,
              axes: AxesArg = None) -> ArrayResult:
    """Multidimensional correlation with a weights array.

    Parameters
    ----------
    input : ndarray or DeviceArray
    weights : array_like
        Weights, one dimension per filtered axis.
    output, mode, cval :
        As in :func:`correlate1d` (one mode for all axes).
    origin : int or sequence of int, optional
        Per-axis placement shift.

    Other Parameters
    ----------------
    axes : sequence of int, optional
        Axes the weights span (default: all).

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Reference: :func:`scipy.ndimage.correlate`. Each distinct weights array
    compiles its own kernel (taps are constants); very large kernels (thousands
    of taps) compile slowly.
    """
    return _correlate_nd(input, weights, output, mode, cval, origin, axes, False)


@like_input
def convolve(input: ArrayInput, weights: npt.ArrayLike, output: OutputArg = None,
             mode: str = "reflect", cval: float = 0.0, origin: IntOrSeq = 0, *,
             axes: AxesArg = None) -> ArrayResult:
    """Multidimensional convolution (:func:`correlate` with mirrored weights).

    Parameters are those of :func:`correlate`. Reference:
    :func:`scipy.ndimage.convolve`.

    Returns
    -------
    ndarray or DeviceArray
    """
    return _correlate_nd(input, weights, output, mode, cval, origin, axes, True)


# =========================================================================== gaussian
@like_input
def gaussian_filter1d(input: ArrayInput, sigma: float, axis: int = -1, order: int = 0,
                      output: OutputArg = None, mode: str = "reflect", cval: float = 0.0,
                      truncate: float = 4.0, *, radius: int | None = None) -> ArrayResult:
    """One-dimensional Gaussian filter (or derivative of order ``order``).

    Parameters
    ----------
    input : ndarray or DeviceArray
    sigma : float
        Standard deviation (>= 0).
    axis : int, optional
    order : int, optional
        0 smooths; 1, 2, ... convolve with that derivative of the Gaussian.
    output, mode, cval :
        As in :func:`correlate1d`.
    truncate : float, optional
        Radius in standard deviations (default 4).
    radius : int, optional
        Explicit kernel radius; overrides ``truncate``. A negative or non-integer
        radius (1.5, "2") raises ``ValueError``, SciPy's exception class for it.

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Reference: :func:`scipy.ndimage.gaussian_filter1d`; taps from
    :func:`gaussian_kernel1d`, identical to SciPy's. Deviation: ``sigma`` 0
    (or below 1e-15) returns a copy, as :func:`gaussian_filter` does for that
    axis (SciPy raises ``ZeroDivisionError``).
    """
    if fc.is_complex(input):
        return fc.by_parts(gaussian_filter1d, input, output, cval, promote=True, sigma=sigma,
                           axis=axis, order=order, mode=mode, truncate=truncate, radius=radius)
    job = Job(input, output, empty=True)
    ax = checks.axis(axis, job.ndim)
    s = checks.nonneg_real(sigma, "sigma")
    o = checks.integer(order, "order", minimum=0)
    t = checks.nonneg_real(truncate, "truncate")
    m = checks.mode(mode)
    cv = checks.cval(cval)
    passes = _gaussian_passes(job, [s], [o], [m], t, [radius], [ax])  # skips sigma ~ 0
    return job.finish(job.chain(passes, cv))


@like_input
def gaussian_filter(input: ArrayInput, sigma: FloatOrSeq, order: IntOrSeq = 0,
                    output: OutputArg = None, mode: ModeArg = "reflect", cval: float = 0.0,
                    truncate: float = 4.0, *, radius: IntOrSeq | None = None,
                    axes: AxesArg = None) -> ArrayResult:
    """Multidimensional Gaussian filter as separable 1-D passes.

    Parameters
    ----------
    input : ndarray or DeviceArray
        1-3 D real array.
    sigma : float or sequence of float
        Standard deviation per filtered axis (>= 0; ~0 skips the axis).
    order : int or sequence of int, optional
        Derivative order per axis (0 smooths).
    output : array, DeviceArray or dtype, optional
    mode : str or sequence of str, optional
        Boundary mode, or one per axis. Default 'reflect'.
    cval : float, optional
    truncate : float, optional
        Kernel radius in sigmas. Default 4.
    radius : int or sequence of int, optional
        Explicit radius per axis, overriding ``truncate``.
    axes : sequence of int, optional
        Axes to filter (default all).

    Returns
    -------
    ndarray or DeviceArray
        Filtered array. Intermediate passes are stored in the output dtype
        (as SciPy does), so integer results equal SciPy's.

    Notes
    -----
    Reference: :func:`scipy.ndimage.gaussian_filter`. Deviation: a negative
    ``sigma`` raises ``ValueError`` (SciPy silently skips that axis).

    References
    ----------
    .. [1] SciPy ``ndimage`` documentation, "gaussian_filter".

    Examples
    --------
    >>> import numpy as np, medkern.filters as mf
    >>> a = np.arange(50, step=2).reshape((5, 5)).astype(np.float32)
    >>> mf.gaussian_filter(a, sigma=1).round(1)[0]
    array([ 5.1,  6.4,  8.3, 10.1, 11.4], dtype=float32)
    """
    if fc.is_complex(input):
        return fc.by_parts(gaussian_filter, input, output, cval, promote=False, sigma=sigma,
                           order=order, mode=mode, truncate=truncate, radius=radius, axes=axes)
    job = Job(input, output, empty=True)
    ax = checks.axes(axes, job.ndim)
    n = len(ax)
    sigmas = [checks.nonneg_real(s, "sigma") for s in checks.per_axis(sigma, n, "sigma")]
    orders = [checks.integer(o, "order", minimum=0) for o in checks.per_axis(order, n, "order")]
    modes = checks.modes(mode, n)
    t = checks.nonneg_real(truncate, "truncate")
    radii = checks.per_axis(radius, n, "radius")
    cv = checks.cval(cval)
    return job.finish(job.chain(_gaussian_passes(job, sigmas, orders, modes, t, radii, ax), cv))


def _full_sigmas(ndim: int, sigma: Any, ax: Sequence[int], order: int) -> list[float]:
    """One sigma per dimension, as SciPy hands them to ``gaussian_filter``.

    ``gaussian_laplace`` (order 2) gives the filtered axes their sigma (in the
    order of ``axes`` when fewer than all, by position when all) and 0 to the
    others; ``gaussian_gradient_magnitude`` (order 1) smooths every dimension,
    so its sigma is a scalar or one per dimension.
    """
    if order == 1:
        return [checks.nonneg_real(v, "sigma") for v in checks.per_axis(sigma, ndim, "sigma")]
    s = [checks.nonneg_real(v, "sigma") for v in checks.per_axis(sigma, len(ax), "sigma")]
    if len(ax) == ndim:
        return s
    full = [0.0] * ndim
    for v, a in zip(s, ax):
        full[a] = v
    return full


def _derivative_sum(input, sigma, output, mode, cval, axes, truncate, radius, order: int):
    """Gaussian derivatives per axis combined as SciPy's generic_laplace/gradient do."""
    if fc.is_complex(input):
        if order == 2:  # linear: the parts separately
            return fc.by_parts(_derivative_sum_real, input, output, cval, promote=False,
                               sigma=sigma, mode=mode, axes=axes, truncate=truncate,
                               radius=radius, order=order)
        x = np.asarray(input)
        sig = _full_sigmas(x.ndim, sigma, checks.axes(axes, x.ndim), order)

        def derivative(x, axis, mode, dtype):
            orders = [int(d == axis) for d in range(x.ndim)]
            return gaussian_filter(x, sig, orders, dtype, mode, cval, truncate, radius=radius)

        return fc.gradient_magnitude(derivative, x, output, axes, mode)
    return _derivative_sum_real(input, sigma, output, mode, cval, axes, truncate, radius, order)


def _derivative_sum_real(input, sigma, output, mode, cval, axes, truncate, radius, order: int):
    job = Job(input, output, empty=True)
    ax = checks.axes(axes, job.ndim)
    sig = _full_sigmas(job.ndim, sigma, ax, order)
    modes = checks.modes(mode, len(ax))
    t = checks.nonneg_real(truncate, "truncate")
    radii = checks.per_axis(radius, job.ndim, "radius")
    cv = checks.cval(cval)
    if not ax:
        return job.finish(job.cast_copy())
    every = range(job.ndim)
    out_dt = job.out_dtype
    # element-wise steps run in int64 for integer outputs (numpy's wrap-around
    # arithmetic, mod 2**bits, is the same whichever width it is done in)
    elem = np.dtype(np.int64) if out_dt.kind in "iu" else out_dt
    acc = None
    for n, a in enumerate(ax):
        orders = [order if d == a else 0 for d in every]
        g = job.chain(_gaussian_passes(job, sig, orders, [modes[n]] * job.ndim, t, radii, every), cv)
        if acc is None:
            acc = g
            if order == 1:
                job.launch(dsl.pointwise(kf.square, (out_dt,), out_dt, elem), g, acc)
        else:
            step = kf.add_square if order == 1 else kf.add
            job.launch(dsl.pointwise(step, (out_dt, out_dt), out_dt, elem), acc, g, acc)
            arrays.release_buffer(g)
    if order == 1:
        job.launch(dsl.pointwise(kf.numpy_sqrt(out_dt.name), (out_dt,), out_dt, np.float64), acc, acc)
    return job.finish(acc)


@like_input
def gaussian_laplace(input: ArrayInput, sigma: FloatOrSeq, output: OutputArg = None,
                     mode: ModeArg = "reflect", cval: float = 0.0, *, axes: AxesArg = None,
                     truncate: float = 4.0, radius: IntOrSeq | None = None) -> ArrayResult:
    """Laplace filter using Gaussian second derivatives (sum over axes).

    Parameters
    ----------
    input : ndarray or DeviceArray
    sigma : float or sequence of float
    output, mode, cval :
        As in :func:`gaussian_filter`; ``mode`` may be one per axis (the mode
        of axis *k* is used for every pass of the *k*-th derivative).

    Other Parameters
    ----------------
    axes, truncate, radius :
        As in :func:`gaussian_filter`.

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Reference: :func:`scipy.ndimage.gaussian_laplace` (per-axis results are
    added in the output dtype, wrapping for integers, as SciPy does).
    """
    return _derivative_sum(input, sigma, output, mode, cval, axes, truncate, radius, 2)


@like_input
def gaussian_gradient_magnitude(input: ArrayInput, sigma: FloatOrSeq, output: OutputArg = None,
                                mode: ModeArg = "reflect", cval: float = 0.0, *,
                                axes: AxesArg = None, truncate: float = 4.0,
                                radius: IntOrSeq | None = None) -> ArrayResult:
    """Gradient magnitude using Gaussian first derivatives.

    Parameters
    ----------
    input : ndarray or DeviceArray
    sigma : float or sequence of float
    output, mode, cval :
        As in :func:`gaussian_laplace`.

    Other Parameters
    ----------------
    axes, truncate, radius :
        As in :func:`gaussian_filter`.

    Returns
    -------
    ndarray or DeviceArray
        ``sqrt(sum_k d_k**2)``.

    Notes
    -----
    Reference: :func:`scipy.ndimage.gaussian_gradient_magnitude`. For integer
    outputs the squares and sums wrap in the output dtype and the square root
    is taken at numpy's precision for that dtype (float16 for 8-bit types,
    float32 for 16-bit), exactly as SciPy's numpy calls do.
    """
    return _derivative_sum(input, sigma, output, mode, cval, axes, truncate, radius, 1)


# =========================================================================== uniform
@like_input
def uniform_filter1d(input: ArrayInput, size: int, axis: int = -1, output: OutputArg = None,
                     mode: str = "reflect", cval: float = 0.0, origin: int = 0) -> ArrayResult:
    """One-dimensional moving average over ``size`` samples.

    Parameters
    ----------
    input : ndarray or DeviceArray
    size : int
        Window length (>= 1).
    axis, output, mode, cval, origin :
        As in :func:`correlate1d`.

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Reference: :func:`scipy.ndimage.uniform_filter1d`: the same float64 running
    sum, so integer outputs are identical.
    """
    if fc.is_complex(input):
        return fc.by_parts(uniform_filter1d, input, output, cval, promote=True, size=size,
                           axis=axis, mode=mode, origin=origin)
    job = Job(input, output, empty=True)
    sz = checks.window_size(size)
    ax = checks.axis(axis, job.ndim)
    m = checks.mode(mode)
    o = checks.origin(origin, sz)
    cv = checks.cval(cval)
    ax3 = job.axis3(ax)
    make = lambda in_dt: dsl.running_mean1d(sz, ax3, m, o, in_dt, job.out_dtype)  # noqa: E731
    return job.finish(job.chain([make], cv))


@like_input
def uniform_filter(input: ArrayInput, size: IntOrSeq = 3, output: OutputArg = None,
                   mode: ModeArg = "reflect", cval: float = 0.0, origin: IntOrSeq = 0, *,
                   axes: AxesArg = None) -> ArrayResult:
    """Multidimensional moving average (separable running sums).

    Parameters
    ----------
    input : ndarray or DeviceArray
    size : int or sequence of int, optional
        Window length per filtered axis. Default 3; 0 or 1 leaves an axis unfiltered,
        as in SciPy. Deviation: a negative size raises ``ValueError`` (SciPy skips
        that axis too).
    output, mode, cval, origin :
        As in :func:`gaussian_filter`; ``mode``/``origin`` may be per axis.

    Other Parameters
    ----------------
    axes : sequence of int, optional

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Reference: :func:`scipy.ndimage.uniform_filter`.
    """
    if fc.is_complex(input):
        return fc.by_parts(uniform_filter, input, output, cval, promote=True, size=size,
                           mode=mode, origin=origin, axes=axes)
    job = Job(input, output, empty=True)
    ax = checks.axes(axes, job.ndim)
    n = len(ax)
    # sizes 0 and 1 leave an axis unfiltered, as in SciPy (which skips sizes <= 1)
    sizes = [checks.integer(s, "size", minimum=0, maximum=checks.MAX_TAPS)
             for s in checks.per_axis(size, n, "size")]
    modes = checks.modes(mode, n)
    origins = _separable_origins(origin, sizes)
    cv = checks.cval(cval)
    passes = []
    for a, s, m, o in zip(ax, sizes, modes, origins):
        if s > 1:
            ax3 = job.axis3(a)
            passes.append(lambda in_dt, s=s, ax3=ax3, m=m, o=o:
                          dsl.running_mean1d(s, ax3, m, o, in_dt, job.out_dtype))
    return job.finish(job.chain(passes, cv))


# =========================================================================== rank filters
def _extremum1d_pass(job: Job, size: int, axis: int, mode: str, origin: int, minimum: bool,
                     cval: float):
    ax3 = job.axis3(axis)
    return lambda in_dt: dsl.extremum1d(size, ax3, mode, origin, minimum, in_dt, job.out_dtype,
                                        _extremum_compute(job, in_dt, cval))


def _extremum_compute(job: Job, in_dt: np.dtype, cval: float) -> np.dtype:
    """The dtype a min/max pass compares in: float64 as SciPy, except for 64-bit integers,
    which float64 rounds beyond 2**53 (SciPy returns such rounded values, which are not in
    the window: a documented deviation), when the output has the input's dtype. Min and
    max commute with the monotone float -> integer cast, so comparing integers gives
    SciPy's result wherever SciPy is exact; ``cval`` must then be in the dtype's range
    (else float64, as SciPy)."""
    dt = np.dtype(in_dt)
    lo, hi = (0.0, 2.0**64) if dt == np.uint64 else (-2.0**63, 2.0**63)
    if dt.kind in "iu" and dt.itemsize == 8 and job.out_dtype == dt \
            and np.isfinite(cval) and lo <= cval < hi:
        return dt
    return job.compute(in_dt)


def _extremum1d(input, size, axis, output, mode, cval, origin, minimum: bool, name: str):
    job = Job(input, output, empty=True)
    sz = checks.window_size(size)
    ax = checks.axis(axis, job.ndim)
    m = checks.mode(mode)
    o = checks.origin(origin, sz)
    cv = checks.cval(cval)
    return job.finish(job.chain([_extremum1d_pass(job, sz, ax, m, o, minimum, cv)], cv))


@like_input
def minimum_filter1d(input: ArrayInput, size: int, axis: int = -1, output: OutputArg = None,
                     mode: str = "reflect", cval: float = 0.0, origin: int = 0) -> ArrayResult:
    """One-dimensional minimum filter.

    Parameters are those of :func:`uniform_filter1d`. Reference:
    :func:`scipy.ndimage.minimum_filter1d`. NaN sorts after every number
    (``np.sort``'s order): the minimum is NaN only where the window is all NaN.

    Returns
    -------
    ndarray or DeviceArray
    """
    return _extremum1d(input, size, axis, output, mode, cval, origin, True, "minimum_filter1d")


@like_input
def maximum_filter1d(input: ArrayInput, size: int, axis: int = -1, output: OutputArg = None,
                     mode: str = "reflect", cval: float = 0.0, origin: int = 0) -> ArrayResult:
    """One-dimensional maximum filter.

    Parameters are those of :func:`uniform_filter1d`. Reference:
    :func:`scipy.ndimage.maximum_filter1d`. NaN sorts after every number
    (``np.sort``'s order): the maximum is NaN wherever the window holds one.

    Returns
    -------
    ndarray or DeviceArray
    """
    return _extremum1d(input, size, axis, output, mode, cval, origin, False, "maximum_filter1d")


def _separable_origins(origin: Any, sizes: Sequence[int]) -> list[int]:
    """Per-axis origins of separable passes; SciPy skips size-1 axes before checking theirs."""
    raw = [checks.integer(o, "origin") for o in checks.per_axis(origin, len(sizes), "origin")]
    return [checks.origin(o, s) if s > 1 else o for o, s in zip(raw, sizes)]


def _sorted_axes_values(job: Job, values: list, axes: Sequence[int]) -> list:
    """Per-axis ``values`` given in the order of ``axes``, listed for ``sorted(axes)``.

    SciPy's rule (``_expand_origin``/``_expand_mode``): with fewer axes than
    dimensions the values follow ``axes`` as given; with all axes, by position.
    """
    if len(axes) < job.ndim:
        by_axis = dict(zip(axes, values))
        return [by_axis[a] for a in sorted(axes)]
    return list(values)


#: Taps of a rank filter's footprint one Vulkan thread selects from correctly, measured on
#: Mesa's lavapipe: a 25^3 median (15,625 taps) right, a 141 x 141 one (19,881) wrong
#: (gather + quickselect, ~3-4 loop iterations a tap on random data, against its cap).
VULKAN_RANK_TAPS = 16000


def _rank(input, size, footprint, output, mode, cval, origin, axes, *, func: str,
          rank: Any = None, percentile: Any = None) -> ArrayResult:
    """SciPy's dispatch: full boxes run separable min/max passes, others a footprint kernel.

    ``minimum_filter``/``maximum_filter`` with a box pair sizes, origins and
    modes with ``axes`` in the order given (SciPy's separable path); every
    footprint, and the boxes of the other rank filters, are placed on
    ``sorted(axes)`` (SciPy expands them with ``np.expand_dims``).
    """
    job = Job(input, output, empty=True)
    ax = checks.axes(axes, job.ndim)
    n = len(ax)
    sizes, fp = _sizes_or_footprint(size, footprint, n, func)
    cv = checks.cval(cval)
    extremum_box = fp is None and func in ("minimum_filter", "maximum_filter")
    if extremum_box:
        origins = _separable_origins(origin, sizes)
        shape = sizes
    else:
        if fp is None:
            checks.box_taps(sizes)
        box = np.ones(sizes, dtype=bool) if fp is None else fp
        shape = list(box.shape)
        origins = _footprint_origins(job, shape, origin, ax)
    count = int(np.prod(shape)) if fp is None else int(fp.sum())
    if func == "median_filter":
        r = count // 2
    elif func == "percentile_filter":
        p = checks.real(percentile, "percentile")
        if p < 0:
            p += 100.0
        if not 0 <= p <= 100:
            raise checks.ArgumentError(f"percentile must be in [-100, 100], got {percentile}"
                                       " (SciPy: invalid percentile)")
        r = count - 1 if p == 100.0 else int(float(count) * p / 100.0)
    elif func == "rank_filter":
        r = checks.integer(rank, "rank")
        if r < 0:
            r += count
        if not 0 <= r < count:
            raise checks.ArgumentError(f"rank={rank} is outside the footprint of {count} elements"
                                       " (SciPy: rank not within filter footprint size)")
    else:  # minimum_filter / maximum_filter
        r = 0 if func == "minimum_filter" else count - 1
    separable = fp is None and r in (0, count - 1)
    if separable:
        modes = checks.modes(mode, n)
    else:
        if isinstance(mode, (Sequence, np.ndarray)) and not isinstance(mode, str):
            raise checks.ArgumentError(
                f"mode: {func} takes one mode (not a sequence)"
                + (" with a non-box footprint" if func in ("minimum_filter", "maximum_filter")
                   else "") + " (SciPy: A sequence of modes is not supported)")
        m = checks.mode(mode)
    if separable:
        if extremum_box:
            lines = zip(ax, sizes, modes, origins)
        else:
            lines = zip(sorted(ax), shape, _sorted_axes_values(job, modes, ax), origins)
        passes = [_extremum1d_pass(job, s, a, md, o, r == 0, cv) for a, s, md, o in lines if s > 1]
        return job.finish(job.chain(passes, cv))
    offsets = _footprint_offsets(job, box, origins, ax)
    if r in (0, count - 1):
        kern = dsl.stencil_fold(offsets, None, "min" if r == 0 else "max", m, job.in_dtype,
                                job.out_dtype, job.in_dtype, cval_in_input_dtype=True)
    else:
        if runtime.serial_budget() is not None and count > VULKAN_RANK_TAPS:
            # one element's gather and selection run in one thread's loops: not split
            raise NotImplementedError(
                f"{func}: a footprint of {count} elements is more than one Vulkan launch "
                f"can select from (at most {VULKAN_RANK_TAPS}: Mesa's software Vulkan ends "
                "a thread's loops after 65535 iterations without an error): use the CPU arch")
        kern = dsl.stencil_select(offsets, r, m, job.in_dtype, job.out_dtype)
    out = job.buffer()
    job.launch(kern, job.src, out, cv)
    return job.finish(out)


_RANK_PARAMS = """
    size : int or sequence of int, optional
        Box size per filtered axis (ignored, with a warning, if ``footprint`` is given).
    footprint : array_like of bool, optional
        Neighbourhood shape, one dimension per filtered axis.
    output : array, DeviceArray or dtype, optional
    mode : str, optional
        Boundary mode (a sequence is accepted for box-shaped minimum/maximum).
    cval : float, optional
        Outside value for ``mode='constant'``.
    origin : int or sequence of int, optional

    Other Parameters
    ----------------
    axes : sequence of int, optional
        Axes the footprint spans (default all).

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Deviation: NaN (in the input, or as ``cval``) sorts after every number, as
    in ``np.sort``, so the result is the rank-th element of the sorted window on
    every backend (SciPy's result for NaN depends on traversal order).
    Footprints of up to 32 elements use an unrolled selection network; larger
    ones a quickselect per element.
"""


@like_input
def minimum_filter(input: ArrayInput, size: IntOrSeq | None = None,
                   footprint: npt.ArrayLike | None = None, output: OutputArg = None,
                   mode: ModeArg = "reflect", cval: float = 0.0, origin: IntOrSeq = 0, *,
                   axes: AxesArg = None) -> ArrayResult:
    return _rank(input, size, footprint, output, mode, cval, origin, axes, func="minimum_filter")


@like_input
def maximum_filter(input: ArrayInput, size: IntOrSeq | None = None,
                   footprint: npt.ArrayLike | None = None, output: OutputArg = None,
                   mode: ModeArg = "reflect", cval: float = 0.0, origin: IntOrSeq = 0, *,
                   axes: AxesArg = None) -> ArrayResult:
    return _rank(input, size, footprint, output, mode, cval, origin, axes, func="maximum_filter")


@like_input
def median_filter(input: ArrayInput, size: IntOrSeq | None = None,
                  footprint: npt.ArrayLike | None = None, output: OutputArg = None,
                  mode: str = "reflect", cval: float = 0.0, origin: IntOrSeq = 0, *,
                  axes: AxesArg = None) -> ArrayResult:
    return _rank(input, size, footprint, output, mode, cval, origin, axes, func="median_filter")


@like_input
def rank_filter(input: ArrayInput, rank: int, size: IntOrSeq | None = None,
                footprint: npt.ArrayLike | None = None, output: OutputArg = None,
                mode: str = "reflect", cval: float = 0.0, origin: IntOrSeq = 0, *,
                axes: AxesArg = None) -> ArrayResult:
    return _rank(input, size, footprint, output, mode, cval, origin, axes, func="rank_filter",
                 rank=rank)


@like_input
def percentile_filter(input: ArrayInput, percentile: float, size: IntOrSeq | None = None,
                      footprint: npt.ArrayLike | None = None, output: OutputArg = None,
                      mode: str = "reflect", cval: float = 0.0, origin: IntOrSeq = 0, *,
                      axes: AxesArg = None) -> ArrayResult:
    return _rank(input, size, footprint, output, mode, cval, origin, axes,
                 func="percentile_filter", percentile=percentile)


minimum_filter.__doc__ = f"""Minimum over a box or footprint.

    Parameters
    ----------
    input : ndarray or DeviceArray
{_RANK_PARAMS}
    Reference: :func:`scipy.ndimage.minimum_filter` (box sizes run as separable
    1-D passes, as SciPy's do).
    """
maximum_filter.__doc__ = f"""Maximum over a box or footprint.

    Parameters
    ----------
    input : ndarray or DeviceArray
{_RANK_PARAMS}
    Reference: :func:`scipy.ndimage.maximum_filter`.
    """
median_filter.__doc__ = f"""Median over a box or footprint (element ``count // 2`` of the sorted window).

    Parameters
    ----------
    input : ndarray or DeviceArray
{_RANK_PARAMS}
    Reference: :func:`scipy.ndimage.median_filter`.

    Examples
    --------
    >>> import numpy as np, medkern.filters as mf
    >>> mf.median_filter(np.array([[1, 9, 2], [8, 3, 7], [4, 6, 5]], np.uint8), size=3)
    array([[3, 3, 3],
           [4, 5, 5],
           [4, 5, 5]], dtype=uint8)
    """
rank_filter.__doc__ = f"""The ``rank``-th smallest value over a box or footprint.

    Parameters
    ----------
    input : ndarray or DeviceArray
    rank : int
        0 is the minimum; negative ranks count from the maximum (-1).
{_RANK_PARAMS}
    Reference: :func:`scipy.ndimage.rank_filter`.
    """
percentile_filter.__doc__ = f"""Percentile over a box or footprint.

    Parameters
    ----------
    input : ndarray or DeviceArray
    percentile : float
        In [-100, 100]; negative values count from 100. The selected element is
        ``int(count * percentile / 100)`` (the last one for 100).
{_RANK_PARAMS}
    Reference: :func:`scipy.ndimage.percentile_filter`.
    """


#: numpy reductions ``generic_filter`` runs as kernels (SciPy's own tests pass these).
_NUMPY_REDUCTIONS = {np.max: "max", np.amax: "max", np.min: "min", np.amin: "min",
                     np.sum: "sum", np.mean: "mean", np.median: "median", np.ptp: "ptp",
                     np.std: "std", np.var: "var"}
#: Largest window a ti.func (or np.sum/mean/std/var) receives as one ti.Vector: the
#: vector is unrolled, so compile time grows with it (~3 s at 125 elements).
WINDOW_MAX = 125


def _is_ti_func(function: Any) -> bool:
    return bool(getattr(function, "_is_taichi_function", False))


@like_input
def generic_filter(input: ArrayInput, function: Callable[..., Any], size: IntOrSeq | None = None,
                   footprint: npt.ArrayLike | None = None, output: OutputArg = None,
                   mode: str = "reflect", cval: float = 0.0, origin: IntOrSeq = 0,
                   extra_arguments: Sequence[Any] = (),
                   extra_keywords: dict[str, Any] | None = None, *,
                   axes: AxesArg = None) -> ArrayResult:
    """Apply a function to every neighbourhood: a ``ti.func`` or a numpy reduction.

    Parameters
    ----------
    input : ndarray or DeviceArray
    function : ti.func or numpy reduction
        A Taichi function (``ti.func``) taking one ``ti.Vector`` (the window's
        values in footprint C order, float32 for float32 data else float64) and
        returning a scalar; it is compiled into the kernel, so it runs on every
        arch. Or one of ``np.max``/``np.amax``, ``np.min``/``np.amin``,
        ``np.sum``, ``np.mean``, ``np.median``, ``np.ptp``, ``np.std``,
        ``np.var``, which run as medkern kernels with SciPy's results (the
        window in float64, numpy's order of operations and NaN rules). Any
        other Python callable raises ``TypeError``: wrap the computation in a
        ``ti.func``.
    size, footprint, output, mode, cval, origin :
        As in :func:`median_filter` (one mode).
    extra_arguments : sequence, optional
        Not supported (a ``ti.func`` takes parameters through a closure); must be empty.
    extra_keywords : dict, optional
        Only ``{"ddof": int}`` for ``np.std``/``np.var``.

    Other Parameters
    ----------------
    axes : sequence of int, optional

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Reference: :func:`scipy.ndimage.generic_filter`, which calls a Python
    function on a float64 buffer per window. Each distinct ``ti.func`` and
    footprint compiles its own kernel; a window reaches a ``ti.func`` (and
    ``np.sum``/``np.mean``/``np.std``/``np.var``) as one unrolled
    ``ti.Vector``, so footprints are limited to 125 elements there (larger
    ones raise ``ValueError``); ``np.max``/``np.min``/``np.ptp``/``np.median``
    take any footprint.

    Examples
    --------
    >>> import numpy as np, taichi as ti, medkern.filters as mf
    >>> def local_range(w):
    ...     return w.max() - w.min()
    >>> local_range = ti.func(local_range)  # i.e. decorated with ti.func
    >>> mf.generic_filter(np.array([1, 5, 2, 8, 3], np.uint8), local_range, size=3)
    array([4, 4, 6, 6, 5], dtype=uint8)
    >>> mf.generic_filter(np.array([1., 5., 2., 8., 3.]), np.median, size=3)
    array([1., 2., 5., 3., 3.])
    """
    reduction = _NUMPY_REDUCTIONS.get(function) if _hashable(function) else None
    if reduction is None and not _is_ti_func(function):
        what = type(function).__name__ if not callable(function) else getattr(
            function, "__name__", type(function).__name__)
        raise TypeError(
            f"function must be a ti.func (a Taichi function of the window's ti.Vector, compiled "
            f"into the kernel) or one of np.{', np.'.join(sorted(set(_NUMPY_REDUCTIONS.values())))}; "
            f"got {what}. A Python callable cannot run inside a kernel: write it with "
            "@ti.func (see the Examples)")
    ddof = _extra_args(function, reduction, extra_arguments, extra_keywords)
    job = Job(input, output, empty=True)
    ax = checks.axes(axes, job.ndim)
    sizes, fp = _sizes_or_footprint(size, footprint, len(ax), "generic_filter")
    if fp is None:
        checks.box_taps(sizes)
    box = np.ones(sizes, dtype=bool) if fp is None else fp
    origins = _footprint_origins(job, box.shape, origin, ax)
    m = checks.mode(mode)
    cv = checks.cval(cval)
    offsets = _footprint_offsets(job, box, origins, ax)
    K = len(offsets)
    if reduction in ("max", "min", "ptp", "median"):
        return job.finish(_window_order_statistic(job, reduction, offsets, m, cv))
    if K > WINDOW_MAX:
        raise ValueError(
            f"footprint: {K} elements; generic_filter hands a window to "
            f"{'np.' + reduction if reduction else 'a ti.func'} as one unrolled ti.Vector, "
            f"up to {WINDOW_MAX} elements (bigger ones compile for minutes)"
            + ("; uniform_filter/correlate compute sums and means of any size" if reduction else ""))
    if reduction is None:
        fn, compute = function, job.user_compute()
    else:
        fn, compute = kwindow.numpy_reduction(reduction, K, ddof), np.dtype(np.float64)
    kern = dsl.stencil_map(offsets, fn, m, job.in_dtype, job.out_dtype, compute)
    out = job.buffer()
    try:
        job.launch(kern, job.src, out, cv)
    except ti_errors() as exc:
        arrays.release_buffer(out)
        raise TypeError(f"function: the ti.func does not compile as a window -> scalar "
                        f"function ({_first_line(exc)}); it must return one number") from exc
    return job.finish(out)


def _hashable(obj: Any) -> bool:
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def _extra_args(function: Any, reduction: str | None, extra_arguments: Any,
                extra_keywords: Any) -> int:
    """SciPy's ``extra_arguments``/``extra_keywords``: only ``ddof`` for np.std/np.var."""
    if extra_arguments is None or (isinstance(extra_arguments, (tuple, list)) and not extra_arguments):
        pass
    else:
        raise TypeError("extra_arguments: not supported; a ti.func takes extra parameters "
                        "through a closure (numpy reductions take none here)")
    kw = dict(extra_keywords or {})
    ddof = 0
    if reduction in ("std", "var") and "ddof" in kw:
        ddof = checks.integer(kw.pop("ddof"), "extra_keywords['ddof']", minimum=0)
    if kw:
        raise TypeError(f"extra_keywords: {sorted(kw)} not supported"
                        + (" (only 'ddof' for np.std/np.var)" if reduction else
                           "; a ti.func takes extra parameters through a closure"))
    return ddof


def _window_order_statistic(job: Job, reduction: str, offsets: tuple, mode: str, cv: float):
    """np.max/min/ptp/median of each window with numpy's NaN rule (any NaN -> NaN).

    The window is float64 (cval too, uncast), as SciPy's buffer is. max/min fold
    with NaN propagating; ptp subtracts them; median selects the middle element(s)
    of the float64 values and is NaN where the window's maximum is.
    """
    f64 = np.dtype(np.float64)
    if reduction in ("max", "min"):
        kern = dsl.stencil_fold(offsets, None, reduction, mode, job.in_dtype, job.out_dtype, f64,
                                nan_propagates=True)
        out = job.buffer()
        job.launch(kern, job.src, out, cv)
        return out
    hi = job.buffer(f64)
    job.launch(dsl.stencil_fold(offsets, None, "max", mode, job.in_dtype, f64, f64,
                                nan_propagates=True), job.src, hi, cv)
    out = job.buffer()
    if reduction == "ptp":
        lo = job.buffer(f64)
        job.launch(dsl.stencil_fold(offsets, None, "min", mode, job.in_dtype, f64, f64,
                                    nan_propagates=True), job.src, lo, cv)
        job.launch(dsl.pointwise(kf.subtract, (f64, f64), job.out_dtype), hi, lo, out)
        arrays.release_buffer(lo)
    else:
        x64 = job.src
        if job.in_dtype != f64:  # select among float64 values: cval stays uncast
            x64 = job.buffer(f64)
            job.launch(dsl.pointwise(kf.identity, (job.in_dtype,), f64), job.src, x64)
        K = len(offsets)
        lower = job.buffer(f64)
        job.launch(dsl.stencil_select(offsets, (K - 1) // 2, mode, f64, f64), x64, lower, cv)
        upper = lower
        if K % 2 == 0:
            upper = job.buffer(f64)
            job.launch(dsl.stencil_select(offsets, K // 2, mode, f64, f64), x64, upper, cv)
        # hi doubles as the NaN flag: NaN where any window value is
        if K % 2:
            job.launch(dsl.pointwise(kf.unless_nan, (f64, f64), job.out_dtype), lower, hi, out)
        else:
            job.launch(dsl.pointwise(kf.midpoint_unless_nan, (f64, f64, f64), job.out_dtype),
                       lower, upper, hi, out)
        for b in {id(lower): lower, id(upper): upper}.values():
            arrays.release_buffer(b)
        if x64 is not job.src:
            arrays.release_buffer(x64)
    arrays.release_buffer(hi)
    return out


# =========================================================================== derivatives
def _edge_filter(input, axis, output, mode, cval, smooth: Sequence[int]) -> ArrayResult:
    if fc.is_complex(input):
        return fc.by_parts(_edge_filter, input, output, cval, promote=False, axis=axis,
                           mode=mode, smooth=smooth)
    job = Job(input, output, empty=True)
    ax = checks.axis(axis, job.ndim)
    modes = checks.modes(mode, job.ndim)
    cv = checks.cval(cval)
    passes = [_corr_pass(job, (-1, 0, 1), ax, modes[ax], 0)]
    passes += [_corr_pass(job, smooth, d, modes[d], 0) for d in range(job.ndim) if d != ax]
    return job.finish(job.chain(passes, cv))


@like_input
def sobel(input: ArrayInput, axis: int = -1, output: OutputArg = None, mode: ModeArg = "reflect",
          cval: float = 0.0) -> ArrayResult:
    """Sobel derivative along ``axis`` ([-1, 0, 1], smoothed by [1, 2, 1] on the other axes).

    Parameters
    ----------
    input : ndarray or DeviceArray
    axis : int, optional
    output, mode, cval :
        As in :func:`gaussian_filter` (``mode`` may be per axis).

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Reference: :func:`scipy.ndimage.sobel`; unsigned outputs wrap exactly as
    SciPy's do (e.g. -1 -> 255 for uint8).
    """
    return _edge_filter(input, axis, output, mode, cval, (1, 2, 1))


@like_input
def prewitt(input: ArrayInput, axis: int = -1, output: OutputArg = None, mode: ModeArg = "reflect",
            cval: float = 0.0) -> ArrayResult:
    """Prewitt derivative along ``axis`` ([-1, 0, 1], smoothed by [1, 1, 1] elsewhere).

    Parameters and reference as :func:`sobel` (:func:`scipy.ndimage.prewitt`).

    Returns
    -------
    ndarray or DeviceArray
    """
    return _edge_filter(input, axis, output, mode, cval, (1, 1, 1))


@like_input
def laplace(input: ArrayInput, output: OutputArg = None, mode: ModeArg = "reflect",
            cval: float = 0.0, *, axes: AxesArg = None) -> ArrayResult:
    """Discrete Laplacian: sum over axes of [1, -2, 1] second differences.

    Parameters
    ----------
    input : ndarray or DeviceArray
    output, mode, cval :
        As in :func:`gaussian_filter`.

    Other Parameters
    ----------------
    axes : sequence of int, optional

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Reference: :func:`scipy.ndimage.laplace`.
    """
    if fc.is_complex(input):
        return fc.by_parts(laplace, input, output, cval, promote=False, mode=mode, axes=axes)
    job = Job(input, output, empty=True)
    ax = checks.axes(axes, job.ndim)
    modes = checks.modes(mode, len(ax))
    cv = checks.cval(cval)
    if not ax:
        return job.finish(job.cast_copy())
    # one pass computing each axis' term in SciPy's order, when that gives SciPy's
    # result: float outputs (float64 exactly, float32 within a rounding), and integer
    # data up to 32 bits into integer outputs -- per-axis terms are exact integers
    # there unless a non-integer cval enters them. SciPy truncates each axis' term:
    # float data into integer outputs takes the per-axis passes.
    exact_ints = (job.in_dtype.kind in "iu" and job.in_dtype.itemsize <= 4
                  and (modes[0] != "constant" or (float(cv).is_integer() and abs(cv) < 2**31)))
    if len(set(modes)) == 1 and (job.out_dtype.kind == "f" or exact_ints):
        kern = dsl.laplace_stencil(tuple(job.axis3(a) for a in ax), modes[0], job.in_dtype,
                                   job.out_dtype, job.compute())
        out = job.buffer()
        job.launch(kern, job.src, out, cv)
        return job.finish(out)
    out_dt = job.out_dtype
    elem = np.dtype(np.int64) if out_dt.kind in "iu" else out_dt
    acc = None
    for n, a in enumerate(ax):
        g = job.chain([_corr_pass(job, (1, -2, 1), a, modes[n], 0)], cv)
        if acc is None:
            acc = g
        else:
            job.launch(dsl.pointwise(kf.add, (out_dt, out_dt), out_dt, elem), acc, g, acc)
            arrays.release_buffer(g)
    return job.finish(acc)
