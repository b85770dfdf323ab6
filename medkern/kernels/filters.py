"""Element-wise pieces of the composite filters (used through ``dsl.pointwise``).

Each ``ti.func`` here receives values already cast to the compute dtype the
algorithm chose; the DSL stores the result with C cast semantics.
"""

import functools

import numpy as np
import taichi as ti


@ti.func
def identity(a):
    return a


@ti.func
def zero(a):
    # weights that are all dropped (|w| <= DBL_EPSILON, as SciPy drops them) sum to 0
    # whatever the input, NaN included
    return ti.f64(0.0)


@ti.func
def add(a, b):
    return a + b


@ti.func
def subtract(a, b):
    return a - b


@ti.func
def unless_nan(x, flag):
    """``x``, or NaN where ``flag`` is NaN (numpy's median of a window holding NaN)."""
    return ti.select(ti.math.isnan(flag), flag, x)


@ti.func
def midpoint_unless_nan(lo, hi, flag):
    """numpy's median of an even window: the mean of the middle pair, NaN if any NaN."""
    return ti.select(ti.math.isnan(flag), flag, (lo + hi) / 2.0)


@ti.func
def add_square(acc, g):
    return acc + g * g


@ti.func
def square(g):
    return g * g


@ti.func
def window_range(window):
    """max - min of a window, NaN if it holds one (``np.ptp``; ``generic_filter``'s registry case).

    Taichi's vector ``max``/``min`` skip NaN, so NaN is looked for explicitly.
    """
    r = window.max() - window.min()
    for k in ti.static(range(window.n)):
        if ti.math.isnan(window[k]):
            r = window[k]
    return r


@ti.func
def _round_to_half_precision(x):
    # Round a positive float32 to the nearest float16 value (ties to even):
    # numpy evaluates np.sqrt on (u)int8 arrays in float16.
    r = x
    if x > 0.0:
        e = ti.floor(ti.log(x) / ti.log(2.0))
        # guard the log2 estimate against rounding at powers of two
        if ti.pow(2.0, e) > x:
            e -= 1.0
        elif ti.pow(2.0, e + 1.0) <= x:
            e += 1.0
        quantum = ti.pow(2.0, ti.max(e, -14.0) - 10.0)
        t = x / quantum
        f = ti.floor(t)
        d = t - f
        if d > 0.5 or (d == 0.5 and ti.cast(f, ti.i64) % 2 == 1):
            f += 1.0
        r = f * quantum
    return r


@functools.lru_cache(maxsize=None)
def numpy_sqrt(dtype_name: str):
    """``sqrt`` with the precision numpy uses for an array of this dtype.

    (u)int8 -> float16, (u)int16 -> float32, wider ints and float64 -> float64,
    float32 -> float32. The returned func takes a float64 (or float32) value.
    """
    kind = np.dtype(dtype_name)
    if kind in (np.dtype(np.int8), np.dtype(np.uint8)):
        @ti.func
        def f(v):
            return ti.cast(_round_to_half_precision(ti.sqrt(ti.cast(v, ti.f32))), ti.f64)
    elif kind in (np.dtype(np.int16), np.dtype(np.uint16), np.dtype(np.float32)):
        @ti.func
        def f(v):
            return ti.cast(ti.sqrt(ti.cast(v, ti.f32)), ti.f64)
    else:
        @ti.func
        def f(v):
            return ti.sqrt(ti.cast(v, ti.f64))
    return f
