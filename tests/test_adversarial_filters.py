"""Adversarial parity sweep: every registered filter (and measurement) against ``scipy.ndimage``.

Each example draws (Hypothesis supplies a derandomized seed per example; the choices are made
uniformly from it, see :class:`S`): the input dtype (all ten supported dtypes), shape (1-D, 2-D, 3-D,
tiny axes of length 1 and 2, filters larger than the array), memory layout (C, Fortran,
reversed and strided views, big-endian), values (random at several scales, extremes of the
dtype, all-equal, +-0.5 steps, inf/NaN for linear filters), boundary mode (the five modes
and the ``grid-`` aliases, per-axis sequences where SciPy takes them), ``cval`` (negative,
non-integer, NaN), origin, size/footprint (random boolean footprints), sigma/order/truncate/
radius, axis/axes (permuted, negative), weights, and ``output=`` (None, another dtype, a
preallocated array of any layout). The reference is the SciPy function of the same name
(``generic_filter``: a ``ti.func`` max-min against ``np.ptp``), called directly.

Checks: same dtype and shape; integer results equal; float results within rtol of the
reference's largest magnitude (1e-5 float32, 1e-10 float64: ``registry.TOLERANCE``), NaN and
+-inf in the same places; rank-type filters (pure selections) equal exactly; ``output=``
arrays filled and returned; the input never modified. Both raising counts as agreement.

Deliberately not generated (documented deviations, tested elsewhere): bool/complex/float16
input, ndim > 3, negative sigma, ``gaussian_filter1d(sigma=0)``, NaN in rank filters
(``test_trust.py``), 64-bit integers beyond 2**53 (SciPy rounds them through float64; medkern's
selections and single-tap passes keep them exact -- a documented deviation), output
aliasing the input, and float -> integer stores of values outside the integer type's range
(undefined behaviour in C): when the output is an integer type, the input (and ``cval``) is
clipped so that every pass stays in range, using an upper bound of the filter's gain. For
1-D median/rank/percentile input the reference is SciPy on ``x[None, :]`` (SciPy's 1-D rank
path has bugs). Negative values are never stored into uint64 (SciPy's paths disagree there:
sign-changing filters of uint64 data store into int64), histogram ranges keep max - min finite
(documented). Kernels stay <= 5 taps per axis (sigma <= 3).

Runs: ``test_sweep`` (default run, a small parameter space so the Taichi kernels compiled
are few) and ``test_sweep_slow`` (``-m slow``: every dtype, mode and parameter). Both are
derandomized: the same cases every run. Each example's mismatches are collected and the
test fails at the end with a reproducer for each distinct one (set
``MEDKERN_ADV_FAILFAST=1`` to stop at the first and let Hypothesis shrink it instead).
``MEDKERN_ADV_LOG=path`` appends one JSON line of counts per test.
"""
from __future__ import annotations

import json
import math
import os
import warnings
import zlib

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy.ndimage import _filters as _sp_filters

import medkern.filters as mf
import medkern.measurements as mm
from medkern import registry
from medkern.kernels.filters import window_range

FAILFAST = os.environ.get("MEDKERN_ADV_FAILFAST", "") not in ("", "0")

ALL_DTYPES = ("float32", "float64", "uint8", "uint16", "int16", "int8", "int32", "uint32",
              "int64", "uint64")
BASE_MODES = ("reflect", "constant", "nearest", "mirror", "wrap")
ALL_MODES = BASE_MODES + ("grid-mirror", "grid-constant", "grid-wrap")
CONSTANT_MODES = ("constant", "grid-constant")

RANK_LIKE = {"minimum_filter", "maximum_filter", "median_filter", "rank_filter",
             "percentile_filter", "minimum_filter1d", "maximum_filter1d"}
MEDIAN_LIKE = {"median_filter", "rank_filter", "percentile_filter"}
MEASUREMENTS = ("sum", "mean", "minimum", "maximum", "histogram")

FILTERS = [a.name for a in registry.algorithms() if a.area == "filters"]


# =========================================================================== profiles
class Space:
    """The parameter space one run draws from."""

    def __init__(self, *, dtypes, out_dtypes, modes, max_dims, max_len, max_fp, max_fp_rank,
                 sigmas, truncates, cvals, weight_sets, fixed_weights, orders, radius,
                 p_output):
        self.dtypes, self.out_dtypes, self.modes = dtypes, out_dtypes, modes
        self.max_dims, self.max_len = max_dims, max_len
        self.max_fp, self.max_fp_rank = max_fp, max_fp_rank
        self.sigmas, self.truncates, self.cvals = sigmas, truncates, cvals
        self.weight_sets, self.fixed_weights = weight_sets, fixed_weights
        self.orders, self.radius, self.p_output = orders, radius, p_output


# Few dtypes, modes, sigmas and fixed weights: kernels are compiled per
# (dtype x mode x footprint x weights x axis), and compilation dominates the run time.
DEFAULT = Space(
    dtypes=("float32", "float64", "uint8", "int16"), out_dtypes=("float64", "uint8", "int16"),
    modes=("reflect", "constant", "wrap", "grid-mirror"), max_dims=3, max_len=7, max_fp=3,
    max_fp_rank=3, sigmas=(1.5,), truncates=(4.0, 2.0), cvals=(0.0, -2.5, 7.0),
    weight_sets=None, fixed_weights=True, orders=(0, 1, 2), radius=(None,), p_output=0.35)

SLOW = Space(
    dtypes=ALL_DTYPES, out_dtypes=ALL_DTYPES, modes=ALL_MODES, max_dims=3, max_len=9, max_fp=5,
    max_fp_rank=5, sigmas=None, truncates=(4.0, 2.0, 1.0, 0.5, 3.3), 
    cvals=(0.0, 7.0, -2.5, 0.25, -1.0, 255.5, 300.0, -100000.0, 1e10, float("nan")),
    weight_sets=None, fixed_weights=False, orders=(0, 1, 2, 3), radius=(None, 0, 1, 2, 3, 4),
    p_output=0.45)

#: Examples per function: (default run, slow run).
EXAMPLES = {
    "gaussian_filter": (8, 160), "gaussian_filter1d": (10, 150), "uniform_filter": (14, 200),
    "uniform_filter1d": (14, 160), "median_filter": (12, 200), "minimum_filter": (14, 200),
    "maximum_filter": (14, 200), "minimum_filter1d": (14, 150), "maximum_filter1d": (14, 150),
    "rank_filter": (12, 200), "percentile_filter": (12, 200), "correlate": (14, 200),
    "convolve": (14, 200), "correlate1d": (14, 180), "convolve1d": (14, 180), "sobel": (10, 150),
    "prewitt": (10, 150), "laplace": (12, 160), "gaussian_laplace": (7, 120),
    "gaussian_gradient_magnitude": (7, 120), "generic_filter": (12, 150),
    "sum": (15, 150), "mean": (15, 150), "minimum": (15, 150), "maximum": (15, 150),
    "histogram": (15, 150),
}

# fixed weights for the default run (each distinct weights array compiles a kernel)
_W1 = ([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0], [0.5, -1.0, 0.25, 2.0], [3.0], [1.0, 1e-17, -2.0])
_WN = {1: [np.array([1.0, -2.0, 0.5])],
       2: [np.array([[0.5, -1.0, 0.25], [2.0, 0.0, -0.75]]), np.array([[1.0, 2.0], [3.0, 4.0]])],
       3: [np.arange(1.0, 9.0).reshape(2, 2, 2) / 10.0 - 0.3]}


# =========================================================================== drawing
class S:
    """Strategy-like choices drawn from a numpy Generator (``draw(S.integers(1, 5))``).

    Hypothesis supplies one seed per example (derandomized: the same seeds every run); the
    choices are uniform, so rare branches and every dtype get their share (Hypothesis' own
    draws favour small values and repeats, which left whole dtype x footprint corners empty).
    """

    @staticmethod
    def sampled_from(seq):
        seq = list(seq)
        return lambda rng: seq[int(rng.integers(len(seq)))]

    @staticmethod
    def integers(lo, hi):
        return lambda rng: int(rng.integers(lo, hi, endpoint=True))

    @staticmethod
    def booleans():
        return lambda rng: bool(rng.integers(2))

    @staticmethod
    def floats(lo, hi):
        return lambda rng: float(rng.uniform(lo, hi))

    @staticmethod
    def permutations(seq):
        seq = list(seq)
        return lambda rng: [seq[i] for i in rng.permutation(len(seq))]

    @staticmethod
    def one_of(*strategies):
        return lambda rng: strategies[int(rng.integers(len(strategies)))](rng)


def _rare(draw, p):
    """True with probability p."""
    return draw(S.floats(0, 1)) < p


def _axes(draw, ndim, allow=True):
    """None, or a subset of the axes in any order, some given as negative numbers."""
    if not allow or not draw(S.booleans()):
        return None
    k = draw(S.integers(1, ndim))
    perm = draw(S.permutations(range(ndim)))[:k]
    return tuple(a - ndim if draw(S.booleans()) else a for a in perm)


def _mode(draw, sp, n, seq_ok):
    if seq_ok and n > 0 and _rare(draw, 0.25):
        return [draw(S.sampled_from(sp.modes)) for _ in range(n)]
    return draw(S.sampled_from(sp.modes))


def _uses_constant(mode):
    modes = [mode] if isinstance(mode, str) else list(mode)
    return any(m in CONSTANT_MODES for m in modes)


def _valid_origin(draw, size, p_invalid=0.04):
    lo, hi = -(size // 2), (size - 1) // 2
    if _rare(draw, p_invalid):
        return draw(S.sampled_from([lo - 1, hi + 1]))
    return draw(S.integers(lo, hi))


def _origin_arg(draw, sizes):
    """An int (valid for every size) or one origin per size."""
    if draw(S.booleans()):
        lo = max(-(s // 2) for s in sizes)
        hi = min((s - 1) // 2 for s in sizes)
        return draw(S.integers(lo, hi)) if lo <= hi else 0
    return [_valid_origin(draw, s) for s in sizes]


def _footprint(draw, n, max_len):
    shape = tuple(draw(S.integers(1, max_len)) for _ in range(n))
    seed = draw(S.integers(0, 2**32 - 1))
    fp = np.random.default_rng(seed).random(shape) < draw(S.sampled_from([0.3, 0.6, 0.9]))
    fp.flat[draw(S.integers(0, fp.size - 1))] = True
    return fp


def _size_or_footprint(draw, n, max_len):
    """('size', value, box_shape) or ('footprint', fp, fp.shape)."""
    if _rare(draw, 0.35):
        fp = _footprint(draw, n, max_len)
        return "footprint", fp, fp.shape
    if draw(S.booleans()):
        s = draw(S.integers(1, max_len))
        return "size", s, (s,) * n
    sizes = [draw(S.integers(1, max_len)) for _ in range(n)]
    return "size", sizes, tuple(sizes)


def _sigma(draw, sp, allow_zero=False):
    if sp.sigmas is not None:
        return draw(S.sampled_from(sp.sigmas + ((0.0,) if allow_zero else ())))
    lo = 0.0 if allow_zero else 0.05
    v = draw(S.one_of(S.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 0.3] + ([0.0] if allow_zero else [])),
                       S.floats(lo, 3.0)))
    return float(v)


def _weights1d(draw, sp):
    if sp.fixed_weights:
        return list(draw(S.sampled_from(_W1)))
    n = draw(S.integers(1, 5))
    kind = draw(S.sampled_from(["rand", "int", "sym", "anti", "tiny", "unit"]))
    if kind == "unit":  # identity taps: must still round 64-bit integers through float64
        return draw(S.sampled_from([[1.0], [0.0, 1.0, 0.0], [1.0, 0.0]]))
    seed = draw(S.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "int":
        w = rng.integers(-3, 4, n).astype(float)
    else:
        w = np.round(rng.uniform(-2, 2, n), 3)
    if kind in ("sym", "anti") and n % 2 == 1:
        h = n // 2
        w[h + 1:] = (1 if kind == "sym" else -1) * w[:h][::-1]
        if kind == "anti":
            w[h] = 0.0
    if kind == "tiny":
        w[rng.integers(0, n)] = draw(S.sampled_from([1e-17, np.finfo(float).eps, 0.0, -1e-20]))
    return [float(v) for v in w]


def _weights_nd(draw, sp, n):
    if sp.fixed_weights:
        return draw(S.sampled_from(_WN[n]))
    shape = tuple(draw(S.integers(1, 3 if n == 3 else 4)) for _ in range(n))
    seed = draw(S.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(S.sampled_from(["rand", "int", "sparse"]))
    if kind == "int":
        w = rng.integers(-3, 4, shape).astype(float)
    else:
        w = np.round(rng.uniform(-2, 2, shape), 3)
    if kind == "sparse":
        w[rng.random(shape) < 0.5] = 0.0
        w.flat[rng.integers(0, w.size)] = draw(S.sampled_from([1e-17, 0.0, np.finfo(float).eps, 1.5]))
    return w


def _gauss_l1(sigma, order, truncate, radius):
    if sigma <= 1e-15:
        return 1.0
    r = int(truncate * sigma + 0.5) if radius is None else int(radius)
    return max(1.0, float(np.abs(_sp_filters._gaussian_kernel1d(sigma, order, r)).sum()))


def _seq(v, n):
    return list(v) if isinstance(v, (list, tuple)) else [v] * n


def _params(draw, name, sp, ndim):
    """(kwargs, gain, nonneg): gain bounds |every pass's result| / max|input or cval|;
    nonneg: results are >= 0 for non-negative data."""
    kw = {}
    gain, nonneg = 1.0, True
    cval = draw(S.sampled_from(sp.cvals))
    if name in RANK_LIKE and math.isnan(cval):
        cval = 0.0  # NaN sorts last in medkern (documented; test_truS.py)
    if name in ("gaussian_filter", "gaussian_laplace", "gaussian_gradient_magnitude"):
        axes = _axes(draw, ndim)
        n = ndim if axes is None else len(axes)
        if axes is not None:
            kw["axes"] = axes
        nsig = ndim if name == "gaussian_gradient_magnitude" else n
        if draw(S.booleans()):
            sigma = _sigma(draw, sp)
        else:
            sigma = [_sigma(draw, sp, allow_zero=True) for _ in range(nsig)]
            if all(s == 0 for s in sigma):
                sigma[0] = _sigma(draw, sp)
        kw["sigma"] = sigma
        truncate = draw(S.sampled_from(sp.truncates))
        if truncate != 4.0:
            kw["truncate"] = truncate
        nrad = n if name == "gaussian_filter" else ndim
        radius = draw(S.sampled_from(sp.radius))
        if radius is not None and draw(S.booleans()):
            radius = [draw(S.sampled_from([r for r in sp.radius if r is not None])) for _ in range(nrad)]
        if radius is not None:
            kw["radius"] = radius
        kw["mode"] = _mode(draw, sp, n, True)
        kw["cval"] = cval
        rads = _seq(radius, nrad)
        if name == "gaussian_filter":
            order = draw(S.sampled_from(sp.orders))
            if order and draw(S.booleans()):
                order = [draw(S.sampled_from(sp.orders)) for _ in range(n)]
            if order:
                kw["order"] = order
            sig, ords = _seq(sigma, n), _seq(order, n)
            gain = math.prod(_gauss_l1(s, o, truncate, r) for s, o, r in zip(sig, ords, rads))
            nonneg = not any(ords)
        else:
            # one gaussian_filter per filtered axis, the derivative on that axis
            full = _seq(sigma, nsig)
            axes_pos = range(ndim) if axes is None else [a % ndim for a in axes]
            if name == "gaussian_laplace" and axes is not None:
                tmp = [0.0] * ndim
                for s, a in zip(full, axes_pos):
                    tmp[a] = s
                full = tmp
            der = 2 if name == "gaussian_laplace" else 1
            gain = max(math.prod(_gauss_l1(full[d], der if d == a else 0, truncate, rads[d] if d < len(rads) else None)
                                 for d in range(ndim)) for a in axes_pos)
            nonneg = name == "gaussian_gradient_magnitude"
    elif name == "gaussian_filter1d":
        kw["sigma"] = _sigma(draw, sp)
        kw["axis"] = draw(S.integers(-ndim, ndim - 1))
        order = draw(S.sampled_from(sp.orders))
        if order:
            kw["order"] = order
        truncate = draw(S.sampled_from(sp.truncates))
        if truncate != 4.0:
            kw["truncate"] = truncate
        radius = draw(S.sampled_from(sp.radius))
        if radius is not None:
            kw["radius"] = radius
        kw["mode"] = _mode(draw, sp, 1, False)
        kw["cval"] = cval
        gain = _gauss_l1(kw["sigma"], order, truncate, radius)
        nonneg = order == 0
    elif name in ("uniform_filter", "minimum_filter", "maximum_filter", "median_filter",
                  "rank_filter", "percentile_filter", "generic_filter"):
        axes = _axes(draw, ndim)
        n = ndim if axes is None else len(axes)
        if axes is not None:
            kw["axes"] = axes
        max_len = sp.max_fp if name in ("uniform_filter", "minimum_filter", "maximum_filter") \
            else sp.max_fp_rank
        if name == "uniform_filter":
            kind, val, shape = "size", *_size_or_footprint(draw, n, max_len)[1:]
            if isinstance(val, np.ndarray):
                val = list(val.shape)
                shape = tuple(val)
        else:
            kind, val, shape = _size_or_footprint(draw, n, max_len)
        kw[kind] = val
        count = int(np.prod(shape)) if kind == "size" else int(val.sum())
        separable = name in ("uniform_filter", "minimum_filter", "maximum_filter") and (
            kind == "size" or bool(val.all()))
        # a mode sequence only where SciPy takes one; now and then elsewhere (both raise)
        kw["mode"] = _mode(draw, sp, n, separable or _rare(draw, 0.05))
        kw["cval"] = cval
        o = _origin_arg(draw, list(shape))
        if o != 0:
            kw["origin"] = o
        if name == "rank_filter":
            kw["rank"] = (count if _rare(draw, 0.03) else
                          draw(S.one_of(S.integers(-count, count - 1), S.sampled_from([0, -1]))))
        elif name == "percentile_filter":
            kw["percentile"] = draw(S.one_of(S.sampled_from([0.0, 100.0, -100.0, 50.0, -0.5, 99.9]),
                                              S.floats(-100, 100)))
        gain = 2.0 if name == "generic_filter" else 1.0
    elif name in ("uniform_filter1d", "minimum_filter1d", "maximum_filter1d"):
        size = draw(S.integers(1, sp.max_fp + (2 if name == "uniform_filter1d" else 0)))
        kw["size"] = size
        kw["axis"] = draw(S.integers(-ndim, ndim - 1))
        kw["mode"] = _mode(draw, sp, 1, False)
        kw["cval"] = cval
        o = _valid_origin(draw, size)
        if o:
            kw["origin"] = o
    elif name in ("correlate", "convolve"):
        axes = _axes(draw, ndim)
        n = ndim if axes is None else len(axes)
        if axes is not None:
            kw["axes"] = axes
        w = _weights_nd(draw, sp, n)
        kw["weights"] = w
        kw["mode"] = _mode(draw, sp, n, False)
        kw["cval"] = cval
        o = _origin_arg(draw, list(w.shape))
        if o != 0:
            kw["origin"] = o
        gain = max(1.0, float(np.abs(w).sum()))
        nonneg = bool((w >= 0).all())
    elif name in ("correlate1d", "convolve1d"):
        w = _weights1d(draw, sp)
        kw["weights"] = w
        kw["axis"] = draw(S.integers(-ndim, ndim - 1))
        kw["mode"] = _mode(draw, sp, 1, False)
        kw["cval"] = cval
        o = _valid_origin(draw, len(w))
        if o:
            kw["origin"] = o
        gain = max(1.0, float(np.abs(w).sum()))
        nonneg = min(w) >= 0
    elif name in ("sobel", "prewitt"):
        kw["axis"] = draw(S.integers(-ndim, ndim - 1))
        kw["mode"] = _mode(draw, sp, ndim, True)
        kw["cval"] = cval
        gain = 2.0 * (4.0 if name == "sobel" else 3.0) ** (ndim - 1)
        nonneg = False
    elif name == "laplace":
        axes = _axes(draw, ndim)
        n = ndim if axes is None else len(axes)
        if axes is not None:
            kw["axes"] = axes
        kw["mode"] = _mode(draw, sp, n, True)
        kw["cval"] = cval
        gain, nonneg = 4.0, False
    else:
        raise AssertionError(name)
    return kw, gain, nonneg


def _out_range(dt, signed_results):
    """Values a double may take and still be stored in integer dtype ``dt`` (x86/SciPy and
    medkern's C casts agree there); for 8-16-bit outputs that is the int32 range (wrap)."""
    dt = np.dtype(dt)
    if dt.itemsize <= 2 or dt == np.int32:
        return -2.0**31, 2.0**31 - 1
    if dt == np.uint32:
        return -2.0**31, 2.0**32 - 1
    if dt == np.int64:
        return -2.0**63, 2.0**63 - 4096
    return 0.0, 2.0**64 - 8192  # uint64: a negative double -> uint64 is undefined


def _values(draw, dtype, shape, *, nan_ok, limit53):
    dt = np.dtype(dtype)
    seed = draw(S.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    kind = draw(S.sampled_from(["random", "random", "small", "extremes", "equal", "mixed", "halves",
                                 "big"]))
    if dt.kind in "iu":
        info = np.iinfo(dt)
        lo, hi = int(info.min), int(info.max)
        if limit53 and dt.itemsize == 8:
            lo, hi = max(lo, -2**53), min(hi, 2**53)
        special = sorted({lo, hi, lo + 1, hi - 1, 0, min(hi, 1), max(lo, -1), hi // 2, (lo + hi) // 2,
                          min(hi, 127), min(hi, 128), min(hi, 255), min(hi, 2**24 + 1)})
        special = [v for v in special if lo <= v <= hi]
        if kind in ("random", "halves", "big"):
            a = rng.integers(lo, hi, size=n, endpoint=True, dtype=dt)
        elif kind == "small":
            a = rng.integers(max(lo, -10), min(hi, 10), size=n, endpoint=True).astype(dt)
        elif kind == "extremes":
            a = np.array(rng.choice(np.array(special, dtype=object), n), dtype=dt)
        elif kind == "equal":
            a = np.full(n, draw(S.sampled_from(special)), dtype=dt)
        else:
            a = rng.integers(lo, hi, size=n, endpoint=True, dtype=dt)
            k = rng.random(n) < 0.3
            a[k] = np.array(rng.choice(np.array(special, dtype=object), int(k.sum())), dtype=dt)
        return a.reshape(shape)
    fi = np.finfo(dt)
    special = [float(fi.max), -float(fi.max), float(fi.tiny), -float(fi.tiny),
               float(fi.smallest_subnormal), 0.0, -0.0, 1.0, -1.0, float(fi.eps), 0.5, -2.5,
               2.0**24 + 1, 1e30, -1e-30, np.inf, -np.inf]
    if nan_ok:
        special.append(np.nan)
    if kind == "big":
        # near the top of the dtype's range: sums of a few such values overflow it
        sign = draw(S.sampled_from([1.0, -1.0, 0.0]))
        a = rng.uniform(0.25, 1.0, n) * float(fi.max) * (np.sign(rng.uniform(-1, 1, n)) if sign == 0 else sign)
    elif kind == "random":
        scale = draw(S.sampled_from([1.0, 1e3, 1e-3, 1e6, 1e30, 1e-30, 255.0]))
        off = draw(S.sampled_from([0.0, 0.0, 1.0, -1e4]))
        a = rng.uniform(-1, 1, n) * scale + off
    elif kind == "small":
        a = rng.uniform(0, 10, n)
        if nan_ok and draw(S.booleans()):
            a[rng.random(n) < 0.2] = np.nan  # NaN (and so inf - inf) propagation
    elif kind == "halves":
        a = rng.integers(-50, 50, n) + 0.5
    elif kind == "extremes":
        a = rng.choice(np.array(special), n)
    elif kind == "equal":
        a = np.full(n, draw(S.sampled_from(special + [3.7, -1234.5])))
    else:
        a = rng.uniform(-100, 100, n)
        k = rng.random(n) < 0.25
        a[k] = rng.choice(np.array(special), int(k.sum()))
    with np.errstate(over="ignore"):
        return a.astype(dt).reshape(shape)


def _layout(draw, a, allow_byteswap=True):
    """The same values in another memory layout."""
    kind = draw(S.sampled_from(["C", "C", "C", "F", "reversed", "strided", "swapped"]
                                if allow_byteswap else ["C", "C", "F", "reversed", "strided"]))
    if kind == "F":
        return np.asfortranarray(a), kind
    if kind == "reversed":
        b = np.ascontiguousarray(a[(slice(None, None, -1),) * a.ndim])
        return b[(slice(None, None, -1),) * a.ndim], kind
    if kind == "strided":
        big = np.zeros(tuple(2 * s for s in a.shape), a.dtype)
        big[(slice(None, None, 2),) * a.ndim] = a
        return big[(slice(None, None, 2),) * a.ndim], kind
    if kind == "swapped" and a.dtype.itemsize > 1:
        return a.astype(a.dtype.newbyteorder(">")), kind
    return a, "C"


def _garbage_like(shape, dtype, seed, layout):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        g = rng.uniform(-1e3, 1e3, shape).astype(dt)
    else:
        g = rng.integers(0, 100, shape).astype(dt)
    if layout == "F":
        g = np.asfortranarray(g)
    elif layout == "strided":
        big = np.zeros(tuple(2 * s for s in shape), dt)
        big[(slice(None, None, 2),) * len(shape)] = g
        g = big[(slice(None, None, 2),) * len(shape)]
    return g


# =========================================================================== one case
class Case:
    """Everything drawn for one call."""

    def __init__(self, name, x, kw, out_kind, out_dtype, out_seed, out_layout):
        self.name, self.x, self.kw = name, x, kw
        self.out_kind, self.out_dtype, self.out_seed, self.out_layout = (
            out_kind, out_dtype, out_seed, out_layout)

    def reproducer(self):
        with np.printoptions(threshold=10**6, precision=17, floatmode="unique", linewidth=120):
            xs = repr(np.ascontiguousarray(self.x))
            kws = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.kw.items()}
        out = ""
        if self.out_kind == "dtype":
            out = f", output=np.{self.out_dtype}"
        elif self.out_kind == "array":
            out = f", output=np.zeros({self.x.shape}, np.{self.out_dtype})  # layout {self.out_layout}"
        fp = ", footprint=np.array(fp, bool)" if "footprint" in kws else ""
        w = ", weights=np.array(w)" if "weights" in kws else ""
        pre = ""
        if "footprint" in kws:
            pre += f"fp = {kws.pop('footprint')}\n"
        if "weights" in kws:
            pre += f"w = {kws.pop('weights')}\n"
        call = f"{self.name}(x{fp}{w}, **{kws!r}{out})"
        return (f"x = np.{xs}  # dtype {self.x.dtype.str}, "
                f"{'C' if self.x.flags.c_contiguous else 'non-C'} layout\n{pre}"
                f"mf.{call}  vs  ndi.{call}")


def _draw_case(draw, name, sp):
    dtype = draw(S.sampled_from(sp.dtypes))
    ndim = draw(S.integers(1, sp.max_dims))
    shape = tuple(draw(S.one_of(S.sampled_from([1, 2]), S.integers(1, sp.max_len)))
                  for _ in range(ndim))
    if name in MEASUREMENTS:
        x = _values(draw, dtype, shape, nan_ok=True, limit53=False)
        x, _ = _layout(draw, x)
        kw = {}
        if name == "histogram":
            fin = x[np.isfinite(x)] if x.dtype.kind == "f" else x
            a = float(fin.min()) if fin.size else 0.0
            b = float(fin.max()) if fin.size else 1.0
            mid = a / 2 + b / 2
            lo = draw(S.sampled_from([a, a - 1.0, 0.0, mid, -1e300 if x.dtype.kind == "f" else a]))
            hi = draw(S.sampled_from([b, b + 1.0, lo, lo + 0.5, mid + 3.25]))
            if hi < lo:
                lo, hi = hi, lo
            if not np.isfinite(hi - lo):  # documented: medkern needs max - min finite
                lo, hi = lo / 4, hi / 4
            kw = {"min": lo, "max": hi, "bins": draw(S.one_of(S.sampled_from([1, 2, 7]), S.integers(1, 40)))}
        return Case(name, x, kw, "none", None, 0, "C")
    kw, gain, nonneg = _params(draw, name, sp, ndim)
    rank_like = name in RANK_LIKE
    # output=
    out_kind = "none"
    out_dtype = np.dtype(dtype)
    if _rare(draw, sp.p_output):
        out_kind = draw(S.sampled_from(["dtype", "array", "array_same"]))
        if out_kind == "array_same":
            out_kind = "array"
        else:
            out_dtype = np.dtype(draw(S.sampled_from(sp.out_dtypes)))
    out_seed = draw(S.integers(0, 2**31))
    out_layout = draw(S.sampled_from(["C", "C", "F", "strided"]))
    x = _values(draw, dtype, shape, nan_ok=not rank_like and out_dtype.kind == "f",
                limit53=True)  # beyond 2**53 SciPy rounds; some medkern paths stay exact
    # integer output: keep every pass's result representable (a C cast is undefined otherwise)
    if out_dtype == np.uint64 and not nonneg:
        # a negative double -> uint64 is undefined (SciPy's paths disagree): store in int64
        out_dtype = np.dtype(np.int64)
        if out_kind == "none":
            out_kind = "dtype"
    if out_dtype.kind in "iu":
        cval = float(kw.get("cval", 0.0))
        if math.isnan(cval):
            kw["cval"] = cval = 0.0
        if out_dtype == np.uint64:
            lo_ok, lim = True, (2.0**64 - 8192) / gain
            kw["cval"] = cval = abs(cval)
        else:
            signed_results = not nonneg or x.dtype.kind in "if" or cval < 0
            lo, hi = _out_range(out_dtype, signed_results)
            lo_ok, lim = False, (hi if not signed_results else min(-lo, hi)) / gain
        if name == "gaussian_gradient_magnitude" and out_dtype.kind == "i":
            # squares and their sum wrap in a signed type: NaN from sqrt(<0) would be cast
            lim = math.sqrt(float(np.iinfo(out_dtype).max) / len(shape)) / gain
        lim = math.floor(lim * (1 - 1e-6))
        low = 0 if lo_ok else -lim
        if x.dtype.kind == "f":
            x = np.where(np.isfinite(x), x, 0).astype(x.dtype)
            limf = x.dtype.type(lim)
            if float(limf) > lim:
                limf = np.nextafter(limf, x.dtype.type(0))
            x = np.clip(x, x.dtype.type(0) if lo_ok else -limf, limf).astype(x.dtype)
        else:
            info = np.iinfo(x.dtype)
            x = np.clip(x, max(int(info.min), low), min(int(info.max), lim)).astype(x.dtype)
        if abs(cval) > lim:
            kw["cval"] = float(math.copysign(lim, cval))
    if rank_like and x.dtype == np.uint64 and float(kw.get("cval", 0.0)) < 0:
        kw["cval"] = -float(kw["cval"])  # SciPy casts cval to uint64 there: undefined if < 0
    if rank_like and x.dtype.kind in "iu" and abs(float(kw.get("cval", 0.0))) >= 2.0**31:
        kw["cval"] = -100000.0  # SciPy's min/max filters cast cval to the input type (C cast)
    x, _ = _layout(draw, x)
    return Case(name, x, kw, out_kind, out_dtype.name, out_seed, out_layout)


# =========================================================================== running
def _call_medkern(case, out):
    kw = dict(case.kw)
    if case.name in MEASUREMENTS:
        return getattr(mm, case.name)(case.x, **kw)
    if case.name == "generic_filter":
        return mf.generic_filter(case.x, window_range, output=out, **kw)
    return getattr(mf, case.name)(case.x, output=out, **kw)


def _call_scipy(case, out):
    kw = dict(case.kw)
    x = case.x
    if case.name in MEASUREMENTS:
        return getattr(ndi, case.name)(x, **kw)
    if case.name in MEDIAN_LIKE and x.ndim == 1:
        # SciPy's 1-D rank path is wrong in places: the same filter on a (1, n) array
        kw.pop("axes", None)
        if "size" in kw:
            s = kw["size"]
            kw["size"] = (1, s if np.isscalar(s) else s[0])
        if "footprint" in kw:
            kw["footprint"] = kw["footprint"][None, :]
        if "origin" in kw:
            o = kw["origin"]
            kw["origin"] = (0, o if np.isscalar(o) else o[0])
        if not isinstance(kw.get("mode", ""), str):
            kw["mode"] = [kw["mode"][0]] * 2
        o2 = out[None, :] if isinstance(out, np.ndarray) else out
        res = getattr(ndi, case.name)(x[None, :], output=o2, **kw)
        return out if isinstance(out, np.ndarray) else res[0]
    if case.name == "generic_filter":
        return ndi.generic_filter(x, np.ptp, output=out, **kw)
    return getattr(ndi, case.name)(x, output=out, **kw)


def _outputs(case):
    if case.out_kind == "none":
        return None, None
    if case.out_kind == "dtype":
        return np.dtype(case.out_dtype), np.dtype(case.out_dtype)
    return (_garbage_like(case.x.shape, case.out_dtype, case.out_seed, case.out_layout),
            _garbage_like(case.x.shape, case.out_dtype, case.out_seed, case.out_layout))


def _compare_arrays(ours, ref, exact):
    """None if they agree, else a description."""
    a, b = np.asarray(ours), np.asarray(ref)
    if a.shape != b.shape:
        return f"shape {a.shape} != reference {b.shape}"
    if a.dtype.newbyteorder("=") != b.dtype.newbyteorder("="):
        return f"dtype {a.dtype} != reference {b.dtype}"
    if b.dtype.kind in "iu":
        if np.array_equal(a, b):
            return None
        bad = np.argwhere(a != b)
        i = tuple(bad[0])
        return f"{len(bad)} of {a.size} elements differ; first at {i}: {a[i]!r} vs {b[i]!r}"
    af, bf = a.astype(np.float64), b.astype(np.float64)
    nan_a, nan_b = np.isnan(af), np.isnan(bf)
    if (nan_a != nan_b).any():
        i = tuple(np.argwhere(nan_a != nan_b)[0])
        return f"NaN placement differs; first at {i}: {a[i]!r} vs {b[i]!r}"
    inf_a, inf_b = np.isinf(af) & ~nan_a, np.isinf(bf) & ~nan_b
    if (inf_a != inf_b).any() or (af[inf_a] != bf[inf_b]).any():
        i = tuple(np.argwhere((inf_a != inf_b) | (inf_a & (af != bf)))[0])
        return f"inf placement differs; first at {i}: {a[i]!r} vs {b[i]!r}"
    fin = ~(nan_b | inf_b)
    if not fin.any():
        return None
    diff = np.abs(af[fin] - bf[fin])
    if exact:
        if (diff == 0).all():
            return None
        i = tuple(np.argwhere(fin)[int(np.argmax(diff))])
        return f"selection differs (must be exact); at {i}: {a[i]!r} vs {b[i]!r}"
    rtol = registry.TOLERANCE[b.dtype.newbyteorder('=').name]
    scale = max(float(np.abs(bf[fin]).max()), float(np.finfo(np.float64).tiny))
    err = float(diff.max()) / scale
    if err <= rtol:
        return None
    i = tuple(np.argwhere(fin)[int(np.argmax(diff))])
    return (f"relative error {err:.3g} > {rtol} (scale {scale:.6g}); worst at {i}: "
            f"{a[i]!r} vs {b[i]!r}")


def _compare_scalar(name, ours, ref, x):
    if name == "histogram":
        return _compare_arrays(np.asarray(ours).astype(np.int64), np.asarray(ref).astype(np.int64),
                               exact=True)
    o, r = ours, ref
    if isinstance(r, (np.integer, int)) and not isinstance(r, bool):
        return None if int(o) == int(r) else f"{o!r} != reference {r!r}"
    o, r = float(o), float(r)
    if math.isnan(o) or math.isnan(r):
        return None if math.isnan(o) and math.isnan(r) else f"{o!r} vs reference {r!r}"
    if math.isinf(o) or math.isinf(r):
        if o == r:
            return None
        if name in ("sum", "mean") and x.dtype.newbyteorder("=") == np.float32 and math.isfinite(o):
            # SciPy sums float32 in float32 (pairwise); medkern accumulates in float64
            # (documented): compare with SciPy on the float64 data
            r64 = float(getattr(ndi, name)(x.astype(np.float64)))
            if math.isinf(r64) or abs(o - r64) <= 1e-10 * abs(r64):
                return None
        return f"{o!r} vs reference {r!r}"
    if name in ("minimum", "maximum"):
        return None if o == r else f"{o!r} != reference {r!r}"
    if name in ("sum", "mean") and x.dtype.newbyteorder("=") == np.float32:
        # the reference is a float32 pairwise sum: its own error is ~ eps32 * sum|x|
        scale = float(np.abs(x.astype(np.float64)).sum()) / (x.size if name == "mean" else 1)
        return None if abs(o - r) <= 1e-5 * max(scale, abs(r), 1e-300) else f"{o!r} vs reference {r!r}"
    rtol = 1e-10
    return None if abs(o - r) <= rtol * max(abs(r), 1e-300) else f"{o!r} vs reference {r!r}"


def _run_case(case, stats):
    before = case.x.copy()
    out_ours, out_ref = _outputs(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref = _call_scipy(case, out_ref)
            ref_exc = None
        except Exception as e:  # noqa: BLE001 - any SciPy exception counts as "raises"
            ref, ref_exc = None, e
        try:
            ours = _call_medkern(case, out_ours)
            our_exc = None
        except Exception as e:  # noqa: BLE001
            ours, our_exc = None, e
    problem = None
    if not np.array_equal(case.x, before, equal_nan=case.x.dtype.kind == "f"):
        problem = "input was modified"
    elif our_exc is not None and ref_exc is not None:
        stats["both_raise"] += 1
        if os.environ.get("MEDKERN_ADV_DEBUG"):
            print(f"both raise: {case.name} {case.kw} | {our_exc!r} | {ref_exc!r}")
        return None
    elif our_exc is not None:
        problem = f"medkern raised {type(our_exc).__name__}: {str(our_exc)[:300]} (SciPy returns)"
    elif ref_exc is not None:
        problem = (f"SciPy raised {type(ref_exc).__name__}: {str(ref_exc)[:200]}; medkern "
                   f"returned {type(ours).__name__}")
    elif case.name in MEASUREMENTS:
        problem = _compare_scalar(case.name, ours, ref, case.x)
    else:
        if case.out_kind == "array":
            if ours is not out_ours and ref is out_ref:
                problem = "output= array was not returned"
            ours, ref = out_ours, out_ref
        if problem is None:
            problem = _compare_arrays(ours, ref, exact=case.name in RANK_LIKE)
    stats["compared"] += 1
    if problem is None:
        return None
    stats["mismatch"] += 1
    return f"{case.name}: {problem}\n{case.reproducer()}"


def _sweep(name, sp, max_examples, label):
    stats = {"examples": 0, "compared": 0, "both_raise": 0, "mismatch": 0}
    problems = []

    @settings(derandomize=True, deadline=None, database=None, max_examples=max_examples,
              phases=(Phase.generate, Phase.shrink) if FAILFAST else (Phase.generate,),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(seed=st.integers(0, 2**64 - 1))
    def run(seed):
        # the example number keeps cases distinct when Hypothesis repeats a seed
        rng = np.random.default_rng([seed, stats["examples"], zlib.crc32(name.encode())])
        case = _draw_case(lambda strategy: strategy(rng), name, sp)
        stats["examples"] += 1
        msg = _run_case(case, stats)
        if msg is not None:
            if FAILFAST:
                raise AssertionError(msg)
            problems.append(msg)

    run()
    line = {"test": label, "name": name, **stats}
    print(json.dumps(line))
    if os.environ.get("MEDKERN_ADV_LOG"):
        with open(os.environ["MEDKERN_ADV_LOG"], "a") as fh:
            fh.write(json.dumps(line) + "\n")
    if problems:
        distinct = {}
        for p in problems:
            distinct.setdefault(p.split("\n", 1)[0][:90], p)
        body = "\n\n".join(list(distinct.values())[:8])
        pytest.fail(f"{len(problems)} of {stats['examples']} {name} cases disagree with SciPy "
                    f"({len(distinct)} distinct); up to 8 follow:\n\n{body}", pytrace=False)


# =========================================================================== tests
def test_every_registered_filter_is_swept():
    assert set(FILTERS) <= set(EXAMPLES), f"add to EXAMPLES: {sorted(set(FILTERS) - set(EXAMPLES))}"
    # per-label variants (extra `inputs`: label images) are swept by test_measurements_labels
    measured = {a.name for a in registry.algorithms()
                if a.area == "measurements" and a.inputs is None}
    assert measured <= set(MEASUREMENTS)


NAMES = FILTERS + [m for m in MEASUREMENTS if m not in FILTERS]


@pytest.mark.parametrize("name", NAMES)
def test_sweep(name):
    """Default run: a few dtypes, modes, sigmas and fixed weights (few kernels to compile)."""
    _sweep(name, DEFAULT, EXAMPLES[name][0], "default")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_sweep_slow(name):
    """Every dtype, mode and parameter (``-m slow``)."""
    _sweep(name, SLOW, EXAMPLES[name][1], "slow")
