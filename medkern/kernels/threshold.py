"""Reductions of the histogram thresholds (``medkern.segmentation.threshold_*``).

Both kernels reduce each row ``a[i, j, :]`` serially in index order into float64
partials (one row per thread: deterministic, the same on every arch; the caller adds
the partials on the host), as :func:`medkern.kernels.dsl.reduce` does -- rows longer
than :data:`medkern.kernels.dsl.ROW_SEGMENT` in ``S = dsl.row_segments(n2)`` segments,
each its own partial (Mesa's Vulkan ends a thread's loops after 65535 iterations):

* :func:`finite_stats` -- what ``threshold_li`` asks of a float image before iterating:
  how many values are not NaN and their extremes, how many are finite and theirs;
* :func:`split_sums` -- one Li iteration: the sum and count of the (shifted, finite)
  values above a threshold and of those at or below it.

Infinities and the largest finite value are run-time arguments (Mesa's Vulkan
miscompiles comparisons with 64-bit constants).
"""

import functools

import numpy as np
import taichi as ti

from ..arrays import ti_dtype

ND3 = functools.partial(ti.types.ndarray, ndim=3)


@functools.lru_cache(maxsize=None)
def finite_stats(in_dtype: np.dtype):
    """Per-row ``[non-NaN count, min, max of the non-NaN values, finite count, min, max of
    the finite values]``.

    Signature ``(a, partial, inf: f64, big: f64)`` with ``partial`` of shape
    ``(n0, n1, 6 * S)`` float64 (segment ``s`` in ``partial[i, j, 6 s: 6 s + 6]``), ``inf`` = +infinity and ``big`` the dtype's largest finite
    value (both as float64). Extremes of an empty set are ``+inf`` / ``-inf``.
    """
    t_in = ti_dtype(in_dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t_in), partial: ND3(dtype=ti.f64), inf: ti.f64, big: ti.f64):
        n2 = a.shape[2]
        nseg = partial.shape[2] // 6
        seg = (n2 + nseg - 1) // nseg
        for i, j, s in ti.ndrange(a.shape[0], a.shape[1], nseg):
            lo = ti.min(s * seg, n2)
            n_num = ti.f64(0.0)
            n_fin = ti.f64(0.0)
            lo_num = inf
            hi_num = -inf
            lo_fin = inf
            hi_fin = -inf
            for l in range(lo, ti.min(lo + seg, n2)):
                x = ti.cast(a[i, j, l], ti.f64)
                if not ti.math.isnan(x):
                    n_num += 1.0
                    lo_num = ti.min(lo_num, x)
                    hi_num = ti.max(hi_num, x)
                    if ti.abs(x) <= big:
                        n_fin += 1.0
                        lo_fin = ti.min(lo_fin, x)
                        hi_fin = ti.max(hi_fin, x)
            partial[i, j, 6 * s] = n_num
            partial[i, j, 6 * s + 1] = lo_num
            partial[i, j, 6 * s + 2] = hi_num
            partial[i, j, 6 * s + 3] = n_fin
            partial[i, j, 6 * s + 4] = lo_fin
            partial[i, j, 6 * s + 5] = hi_fin
    return kern


@functools.lru_cache(maxsize=None)
def split_sums(in_dtype: np.dtype):
    """Per-row ``[sum, count]`` of the finite values' ``y = x - shift`` with ``y > t``,
    then ``[sum, count]`` of those with ``y <= t``, in float64.

    Signature ``(a, partial, shift, t: f64, big: f64)``: ``shift`` has the input's dtype
    (``y`` is rounded to it, as numpy's ``image - image_min`` is), ``partial`` is
    ``(n0, n1, 4 * S)`` float64 (segment ``s`` in ``partial[i, j, 4 s: 4 s + 4]``), ``big`` the dtype's largest finite value.
    """
    t_in = ti_dtype(in_dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t_in), partial: ND3(dtype=ti.f64), shift: t_in, t: ti.f64,
             big: ti.f64):
        n2 = a.shape[2]
        nseg = partial.shape[2] // 4
        seg = (n2 + nseg - 1) // nseg
        for i, j, s in ti.ndrange(a.shape[0], a.shape[1], nseg):
            lo = ti.min(s * seg, n2)
            s_hi = ti.f64(0.0)
            c_hi = ti.f64(0.0)
            s_lo = ti.f64(0.0)
            c_lo = ti.f64(0.0)
            for l in range(lo, ti.min(lo + seg, n2)):
                x = a[i, j, l]
                if ti.abs(ti.cast(x, ti.f64)) <= big:
                    y = ti.cast(x - shift, ti.f64)
                    if y > t:
                        s_hi += y
                        c_hi += 1.0
                    else:
                        s_lo += y
                        c_lo += 1.0
            partial[i, j, 4 * s] = s_hi
            partial[i, j, 4 * s + 1] = c_hi
            partial[i, j, 4 * s + 2] = s_lo
            partial[i, j, 4 * s + 3] = c_lo
    return kern


@functools.lru_cache(maxsize=None)
def subtract_scalar(dtype: np.dtype):
    """In place ``a -= c`` in ``a``'s (float) dtype: ``c`` is rounded to it first, as
    numpy rounds a Python scalar subtracted from an array. Signature ``(a, c)``."""
    t = ti_dtype(dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t), c: t):
        for I in ti.grouped(a):
            a[I] = a[I] - c
    return kern
