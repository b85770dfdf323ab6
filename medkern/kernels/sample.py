"""Sampling at fractional coordinates: B-spline orders 0-5 and SciPy's interpolation modes.

Two kernel generators, each written once and specialised by *structure*
(axis kinds, spline order, boundary mode, dtypes, coordinate source); every
*value* that changes from call to call (matrix, offset, shift, zoom, cval,
pre-padding) is a kernel argument, so a new matrix reuses the compiled kernel.

``resample(source, kinds, order, mode, ...)``
    ``out[o] = spline(src)(x(o))`` for every output index ``o``, as
    ``scipy.ndimage``'s ``NI_GeometricTransform`` / ``NI_ZoomShift`` compute it:
    the coordinate ``x`` is mapped into range per ``mode``, the ``order + 1``
    taps per axis start at ``floor(x) - order // 2`` (odd orders) or
    ``floor(x + 0.5) - order // 2`` (even), taps outside the array are mapped by
    the spline boundary (mirror for ``constant``/``wrap``) or are ``cval``
    (``grid-constant``), and the weighted sum runs over taps in C order with
    each coefficient multiplied by the per-axis weights in axis order (SciPy's
    rounding). Coordinate sources: ``"affine"`` (``x = offset + M o``, summed in
    SciPy's order), ``"zoomshift"`` (``x = (o + shift) * zoom``, or with
    ``grid_mode`` ``((o + shift) + 0.5) * zoom - 0.5``), ``"coords"`` (a buffer
    of coordinates, component ``c`` of point ``(z, y, x)`` at ``buf[c * s0 + z, y, x]``)
    or a user ``ti.func`` ``index -> coordinates``.
``spline_filter1d(order, axis, mode, ...)``
    SciPy's B-spline prefilter along one axis: a gain, then one causal and one
    anti-causal first-order recursion per pole with SciPy's boundary
    initialisation, in float64, one row per thread.

Axis kinds: every buffer is 3-D; each of its axes is ``"i"`` (interpolated),
``"b"`` (batch: the input index is the output index, as ``rotate`` does for
axes outside its plane) or ``"p"`` (a padding axis of length 1, index 0).

Integer outputs are rounded as SciPy stores them (``t > 0 ? t + 0.5 : t - 0.5``,
clipped to the dtype's range, then truncated; unsigned: negative values -> 0).
"""

import functools

import numpy as np
import taichi as ti

from ..arrays import ti_dtype
from .dsl import KERNEL_CACHE, ND3, _fuses, _rounding_barrier, _serial_inner, converter

#: SciPy's interpolation boundary modes (``reflect`` is also spelled ``grid-mirror``).
MODES = ("constant", "grid-constant", "nearest", "mirror", "reflect", "wrap", "grid-wrap")

#: Poles of the B-spline prefilter per order (SciPy's ni_splines.c values).
POLES = {
    2: (-0.171572875253809902396622551580603843,),
    3: (-0.267949192431122706472553658494127633,),
    4: (-0.361341225900220177092212841325675255, -0.013725429297339121360331226939128204),
    5: (-0.430575347099973791851434783493520110, -0.043096288203264653822712376822550182),
}


#: Test-only switch: reproduce SciPy <= 1.17.1's reflect-mode prefilter initialisation,
#: which accumulates the causal sum in ``c[0]`` while its last term still reads ``c[0]``
#: (scipy/scipy#24615). medkern always uses the exact half-sample-symmetric boundary
#: condition (SciPy >= 1.18); the buggy formula differs from it by ~z**(2n) -- up to ~2e-2
#: of the line's magnitude at n = 2, ~4e-7 at n = 9, ~3e-12 at n = 16, float64 rounding
#: from ~20. Tests set this to prove the rest of the pipeline SciPy-exact, operation by
#: operation, against a SciPy that has the bug; nothing else may.
_LEGACY_REFLECT = False


def _gain(order: int) -> float:
    g = 1.0
    for z in POLES[order]:
        g *= (1.0 - z) * (1.0 - 1.0 / z)  # the same double operations as SciPy's C
    return g


def spline_mode(mode: str) -> str:
    """The mode the spline's edge taps (and the prefilter) use: modes without an exact
    spline extension (``constant``, ``wrap``) fall back to mirror, as in SciPy."""
    return "mirror" if mode in ("constant", "wrap") else mode


def filter_mode(mode: str) -> str:
    """The prefilter's boundary initialisation for an interpolation mode."""
    if mode in ("constant", "grid-constant", "mirror", "wrap"):
        return "mirror"
    if mode == "grid-wrap":
        return "wrap"
    return "reflect"  # nearest, reflect


@ti.func
def _trunc(v):
    """C's cast of a double to an integer (toward zero), kept in float64 so that far
    coordinates cannot overflow an integer."""
    return ti.select(v < 0, ti.ceil(v), ti.floor(v))


def _coordinate_map(mode: str):
    """``map(x, n)``: SciPy's ``map_coordinate`` for one mode, in float64 (-1: use cval)."""
    @ti.func
    def cmap(x, n):
        one = ti.f64(1.0)
        y = x
        if x < 0:
            if ti.static(mode == "mirror"):
                if n <= one:
                    y = ti.f64(0.0)
                else:
                    sz2 = 2 * n - 2
                    y = sz2 * _trunc(-x / sz2) + x
                    y = ti.select(y <= one - n, y + sz2, -y)
            elif ti.static(mode == "reflect"):
                if n <= one:
                    y = ti.f64(0.0)
                else:
                    sz2 = 2 * n
                    if y < -sz2:
                        y = sz2 * _trunc(-y / sz2) + y
                    # SciPy's guard against -y - 1 == -1 for y within 1e-15 of 0
                    y = ti.select(y < -n, y + sz2, ti.select(y > ti.f64(-1e-15), ti.f64(1e-15), -y) - one)
            elif ti.static(mode == "wrap"):
                if n <= one:
                    y = ti.f64(0.0)
                else:
                    sz = n - 1
                    y = x + sz * (_trunc(-x / sz) + one)
            elif ti.static(mode == "grid-wrap"):
                if n <= one:
                    y = ti.f64(0.0)
                else:
                    y = x + n * (_trunc((-one - x) / n) + one)
            elif ti.static(mode == "nearest"):
                y = ti.f64(0.0)
            else:  # constant
                y = -one
        elif x > n - one:
            if ti.static(mode == "mirror"):
                if n <= one:
                    y = ti.f64(0.0)
                else:
                    sz2 = 2 * n - 2
                    y = x - sz2 * _trunc(x / sz2)
                    if y >= n:
                        y = sz2 - y
            elif ti.static(mode == "reflect"):
                if n <= one:
                    y = ti.f64(0.0)
                else:
                    sz2 = 2 * n
                    y = x - sz2 * _trunc(x / sz2)
                    if y >= n:
                        y = sz2 - y - one
            elif ti.static(mode == "wrap"):
                if n <= one:
                    y = ti.f64(0.0)
                else:
                    sz = n - 1
                    y = x - sz * _trunc(x / sz)
            elif ti.static(mode == "grid-wrap"):
                if n <= one:
                    y = ti.f64(0.0)
                else:
                    y = x - n * _trunc(x / n)
            elif ti.static(mode == "nearest"):
                y = n - one
            else:
                y = -one
        return y
    return cmap


def _weights(order: int):
    """``w(x)``: SciPy's B-spline weights of the ``order + 1`` taps for coordinate ``x``
    (same formulas and operation order as ``get_spline_interpolation_weights``)."""
    K = order + 1

    # every literal is an explicit float64 constant: default_fp is f32, bare literals round
    @ti.func
    def weights(cc):
        w = ti.Vector.zero(ti.f64, K)
        x = cc
        if ti.static(order & 1):
            x = cc - ti.floor(cc)
        else:
            x = cc - ti.floor(cc + ti.f64(0.5))
        y = x
        z = ti.f64(1.0) - x
        if ti.static(order == 1):
            w[0] = ti.f64(1.0) - x
        elif ti.static(order == 2):
            w[1] = ti.f64(0.75) - x * x
            y = ti.f64(0.5) - x
            w[0] = ti.f64(0.5) * y * y
        elif ti.static(order == 3):
            w[1] = (y * y * (y - ti.f64(2.0)) * ti.f64(3.0) + ti.f64(4.0)) / ti.f64(6.0)
            w[2] = (z * z * (z - ti.f64(2.0)) * ti.f64(3.0) + ti.f64(4.0)) / ti.f64(6.0)
            w[0] = z * z * z / ti.f64(6.0)
        elif ti.static(order == 4):
            t = x * x
            w[2] = t * (t * ti.f64(0.25) - ti.f64(0.625)) + ti.f64(115.0 / 192.0)
            y = ti.f64(1.0) + x
            w[1] = y * (y * (y * (ti.f64(5.0) - y) / ti.f64(6.0) - ti.f64(1.25)) + ti.f64(5.0 / 24.0)) + ti.f64(55.0 / 96.0)
            w[3] = z * (z * (z * (ti.f64(5.0) - z) / ti.f64(6.0) - ti.f64(1.25)) + ti.f64(5.0 / 24.0)) + ti.f64(55.0 / 96.0)
            y = ti.f64(0.5) - x
            t = y * y
            w[0] = t * t / ti.f64(24.0)
        elif ti.static(order == 5):
            t = y * y
            w[2] = t * (t * (ti.f64(0.25) - y / ti.f64(12.0)) - ti.f64(0.5)) + ti.f64(0.55)
            t = z * z
            w[3] = t * (t * (ti.f64(0.25) - z / ti.f64(12.0)) - ti.f64(0.5)) + ti.f64(0.55)
            y = y + ti.f64(1.0)
            w[1] = y * (y * (y * (y * (y / ti.f64(24.0) - ti.f64(0.375)) + ti.f64(1.25)) - ti.f64(1.75))
                        + ti.f64(0.625)) + ti.f64(0.425)
            z = z + ti.f64(1.0)
            w[4] = z * (z * (z * (z * (z / ti.f64(24.0) - ti.f64(0.375)) + ti.f64(1.25)) - ti.f64(1.75))
                        + ti.f64(0.625)) + ti.f64(0.425)
            y = ti.f64(1.0) - x
            t = y * y
            w[0] = y * t * t / ti.f64(120.0)
        # the weights add up to one: the last one is what the others leave
        w[order] = ti.f64(1.0)
        for i in ti.static(range(order)):
            w[order] -= w[i]
        return w
    return weights


def _store(out_dtype: np.dtype):
    """``store(t)``: SciPy's conversion of an interpolated double to the output dtype."""
    dt = np.dtype(out_dtype)
    tdst = ti_dtype(dt)
    if dt.kind == "f":
        @ti.func
        def store(t):
            return ti.cast(t, tdst)
        return store
    info = np.iinfo(dt)
    hi, lo = float(info.max), float(info.min)
    conv = converter(np.dtype(np.float64), dt)
    if dt.kind == "u":
        @ti.func
        def store(t):
            v = ti.select(t > 0, t + ti.f64(0.5), ti.f64(0.0))
            v = ti.select(v > ti.f64(hi), ti.f64(hi), v)
            v = ti.select(v < 0, ti.f64(0.0), v)
            return conv(v)
    else:
        @ti.func
        def store(t):
            v = ti.select(t > 0, t + ti.f64(0.5), t - ti.f64(0.5))
            v = ti.select(v > ti.f64(hi), ti.f64(hi), v)
            v = ti.select(v < ti.f64(lo), ti.f64(lo), v)
            return conv(v)
    return store


def _sampler(kinds: tuple, order: int, mode: str):
    """``sample(src, c, o, nprepad, cval, live) -> f64``: the spline of ``src`` at the
    3-D coordinate vector ``c`` (entries of interpolated axes; ``o`` gives batch axes)."""
    K = order + 1
    half = float(order // 2)
    loffs = [float(l) for l in range(order + 1)]
    cmap = _coordinate_map(mode)
    smap = _coordinate_map(spline_mode(mode))
    weights = _weights(order)
    interp = [d for d in range(3) if kinds[d] == "i"]
    unmapped = mode in ("grid-constant", "nearest")
    taps = [K if kinds[d] == "i" else 1 for d in range(3)]

    @ti.func
    def sample(src: ti.template(), c, o, nprepad, cval, keep: ti.template(), live):
        idx = ti.Matrix.zero(ti.i32, 3, K)
        w = ti.Matrix.zero(ti.f64, 3, K)
        inside = 1
        for d in ti.static(range(3)):
            if ti.static(kinds[d] == "b"):
                idx[d, 0] = o[d]
            elif ti.static(kinds[d] == "i"):
                n = ti.cast(src.shape[d], ti.f64)
                cc = c[d] + ti.cast(nprepad, ti.f64)
                if ti.static(not unmapped):
                    cc = cmap(cc, n)
                if ti.static(unmapped) or cc > ti.f64(-1.0):
                    start = ti.f64(0.0)
                    if ti.static(order & 1):
                        start = ti.floor(cc) - ti.f64(half)
                    else:
                        start = ti.floor(cc + ti.f64(0.5)) - ti.f64(half)
                    for l in ti.static(range(K)):
                        p = start + ti.f64(loffs[l])
                        q = -1
                        if ti.static(mode == "grid-constant"):
                            if p >= 0 and p < n:
                                q = ti.cast(p, ti.i32)
                        else:
                            if p < 0 or p >= n:
                                p = smap(p, n)
                            # a no-op for every mapped tap; keeps a NaN coordinate (whose
                            # weights make the result NaN, as SciPy's) from reading out of bounds
                            q = ti.cast(ti.min(ti.max(p, ti.f64(0.0)), n - ti.f64(1.0)), ti.i32)
                        idx[d, l] = q
                    if ti.static(order > 0):
                        wv = weights(cc)
                        for l in ti.static(range(K)):
                            w[d, l] = wv[l]
                else:
                    inside = 0
        t = cval
        if inside:
            t = ti.f64(0.0)
            for a in ti.static(range(taps[0])):
                for b in ti.static(range(taps[1])):
                    for e in ti.static(range(taps[2])):
                        i0 = idx[0, a]
                        i1 = idx[1, b]
                        i2 = idx[2, e]
                        coeff = cval
                        if ti.static(mode == "grid-constant"):
                            if i0 >= 0 and i1 >= 0 and i2 >= 0:
                                coeff = ti.cast(src[i0, i1, i2], ti.f64)
                        else:
                            coeff = ti.cast(src[i0, i1, i2], ti.f64)
                        if ti.static(order > 0):
                            tap = (a, b, e)
                            for d in ti.static(interp):
                                coeff = coeff * w[d, tap[d]]
                        t += keep(coeff, live)
        return t
    return sample


@functools.lru_cache(maxsize=KERNEL_CACHE)
def resample(source, kinds: tuple, order: int, mode: str, in_dtype: np.dtype,
             out_dtype: np.dtype, coord_dtype: np.dtype | None = None,
             out_kinds: tuple | None = None):
    """A compiled kernel sampling ``src`` into ``dst`` (see the module docstring).

    Signatures by ``source``:

    * ``"affine"``: ``(src, dst, *p, nprepad, cval)`` with ``p`` a 3 x 4 float64
      matrix over the 3-D buffer axes, passed as its 12 entries in C order (``x[d] = p[d, 3] + sum_e o[e] * p[d, e]``
      over the output axes ``e`` whose ``out_kinds`` is ``"i"``, in order);
    * ``"zoomshift"``: ``(src, dst, *p, grid, nprepad, cval)`` with ``p[d, 0]`` the
      shift and ``p[d, 1]`` the zoom of axis ``d`` (``grid``: 1 for grid mode);
    * ``"coords"``: ``(src, dst, coords, nprepad, cval)``;
    * ``"displacement"``: ``(src, dst, field, nprepad, cval)``: the output grid is the
      input's and output index ``o`` samples ``o + field[:, o]`` (a displacement field);
    * a ``ti.func`` ``f(index) -> coordinates`` (``index``: a ``ti.Vector`` of the
      output's logical axes, int32; result: one coordinate per interpolated input
      axis): ``(src, dst, nprepad, cval)``.
    """
    t_in, t_out = ti_dtype(in_dtype), ti_dtype(out_dtype)
    sample = _sampler(kinds, order, mode)
    store = _store(out_dtype)
    keep = _rounding_barrier(_fuses())
    serial = _serial_inner()
    interp = [d for d in range(3) if kinds[d] == "i"]
    okinds = out_kinds or kinds
    oaxes = [d for d in range(3) if okinds[d] != "p"]

    if source == "affine":
        summed = [d for d in range(3) if okinds[d] == "i"]

        @ti.func
        def coord(o, p: ti.template(), extra: ti.template(), live):
            c = ti.Vector.zero(ti.f64, 3)
            for d in ti.static(interp):
                tmp = p[d, 3]
                for e in ti.static(summed):
                    tmp += keep(ti.cast(o[e], ti.f64) * p[d, e], live)
                c[d] = tmp
            return c
    elif source == "zoomshift":
        @ti.func
        def coord(o, p: ti.template(), grid: ti.template(), live):
            c = ti.Vector.zero(ti.f64, 3)
            for d in ti.static(interp):
                cc = ti.cast(o[d], ti.f64) + p[d, 0]
                if grid != 0:
                    cc = (cc + ti.f64(0.5)) * p[d, 1] - ti.f64(0.5)
                else:
                    cc = cc * p[d, 1]
                c[d] = cc
            return c
    elif source in ("coords", "displacement"):
        t_c = ti_dtype(coord_dtype)
        # "displacement": the output grid is the input's, position = index + field,
        # summed in float64 as numpy adds np.indices(shape) + displacement
        relative = source == "displacement"

        @ti.func
        def coord(o, coords: ti.template(), s0: ti.template(), live):
            c = ti.Vector.zero(ti.f64, 3)
            for h in ti.static(range(len(interp))):
                v = ti.cast(coords[h * s0 + o[0], o[1], o[2]], ti.f64)
                if ti.static(relative):
                    v = ti.cast(o[interp[h]], ti.f64) + v
                c[interp[h]] = v
            return c
    else:
        mapping = source

        @ti.func
        def coord(o, p: ti.template(), extra: ti.template(), live):
            index = ti.Vector([o[d] for d in ti.static(oaxes)], dt=ti.i32)
            r = mapping(index)
            c = ti.Vector.zero(ti.f64, 3)
            for h in ti.static(range(len(interp))):
                c[interp[h]] = ti.cast(r[h], ti.f64)
            return c

    @ti.func
    def point(src: ti.template(), dst: ti.template(), i, j, l, p: ti.template(),
              extra: ti.template(), nprepad, cval, live):
        o = ti.Vector([i, j, l], dt=ti.i32)
        c = coord(o, p, extra, live)
        dst[i, j, l] = store(sample(src, c, o, nprepad, cval, keep, live))

    @ti.func
    def run(src: ti.template(), dst: ti.template(), p: ti.template(), extra: ti.template(),
            nprepad, cval):
        live = nprepad >= 0
        if ti.static(serial):
            for i, j in ti.ndrange(dst.shape[0], dst.shape[1]):
                for l in range(dst.shape[2]):
                    point(src, dst, i, j, l, p, extra, nprepad, cval, live)
        else:
            for i, j, l in ti.ndrange(dst.shape[0], dst.shape[1], dst.shape[2]):
                point(src, dst, i, j, l, p, extra, nprepad, cval, live)

    # the matrix travels as 12 scalar arguments: a matrix-typed argument costs ~0.3 ms of
    # Python-side conversion per call, scalars next to nothing (and no device allocation)
    f64 = ti.f64
    if source == "affine":
        @ti.kernel
        def kernel(src: ND3(dtype=t_in), dst: ND3(dtype=t_out),
                   p00: f64, p01: f64, p02: f64, p03: f64, p10: f64, p11: f64, p12: f64, p13: f64,
                   p20: f64, p21: f64, p22: f64, p23: f64, nprepad: ti.i32, cval: ti.f64):
            p = ti.Matrix([[p00, p01, p02, p03], [p10, p11, p12, p13], [p20, p21, p22, p23]],
                          dt=ti.f64)
            run(src, dst, p, 0, nprepad, cval)
    elif source == "zoomshift":
        @ti.kernel
        def kernel(src: ND3(dtype=t_in), dst: ND3(dtype=t_out),
                   p00: f64, p01: f64, p02: f64, p03: f64, p10: f64, p11: f64, p12: f64, p13: f64,
                   p20: f64, p21: f64, p22: f64, p23: f64, grid: ti.i32, nprepad: ti.i32,
                   cval: ti.f64):
            p = ti.Matrix([[p00, p01, p02, p03], [p10, p11, p12, p13], [p20, p21, p22, p23]],
                          dt=ti.f64)
            run(src, dst, p, grid, nprepad, cval)
    elif source in ("coords", "displacement"):
        @ti.kernel
        def kernel(src: ND3(dtype=t_in), dst: ND3(dtype=t_out), coords: ND3(dtype=t_c),
                   nprepad: ti.i32, cval: ti.f64):
            run(src, dst, coords, dst.shape[0], nprepad, cval)
    else:
        @ti.kernel
        def kernel(src: ND3(dtype=t_in), dst: ND3(dtype=t_out), nprepad: ti.i32, cval: ti.f64):
            run(src, dst, 0, 0, nprepad, cval)
    return kernel


def _row(axis: int):
    """``(get, put)`` of element ``l`` of row ``(i, j)`` along buffer axis ``axis``."""
    if axis == 0:
        @ti.func
        def get(a: ti.template(), i, j, l):
            return a[l, i, j]

        @ti.func
        def put(a: ti.template(), i, j, l, v):
            a[l, i, j] = v
    elif axis == 1:
        @ti.func
        def get(a: ti.template(), i, j, l):
            return a[i, l, j]

        @ti.func
        def put(a: ti.template(), i, j, l, v):
            a[i, l, j] = v
    else:
        @ti.func
        def get(a: ti.template(), i, j, l):
            return a[i, j, l]

        @ti.func
        def put(a: ti.template(), i, j, l, v):
            a[i, j, l] = v
    return get, put


@functools.lru_cache(maxsize=KERNEL_CACHE)
def spline_filter1d(order: int, axis: int, mode: str, in_dtype: np.dtype, out_dtype: np.dtype,
                    copy_in: bool, copy_out: bool, legacy_reflect: bool = False):
    """SciPy's B-spline prefilter of order 2-5 along buffer axis ``axis``.

    Kernel ``(src, work, dst)``: each row of ``src`` is copied into the float64
    ``work`` (``copy_in``; else ``work`` already holds it: pass it as ``src``),
    filtered there in place and stored into ``dst`` with C cast semantics
    (``copy_out``; else pass ``work`` as ``dst``). ``mode`` is the interpolation
    mode (its boundary initialisation: :func:`filter_mode`). ``legacy_reflect``: the
    reflect initialisation of SciPy <= 1.17.1 (tests only, see :data:`_LEGACY_REFLECT`).
    """
    fmode = filter_mode(mode)
    poles = POLES[order]
    gain = _gain(order)
    get, put = _row(axis)
    others = [d for d in range(3) if d != axis]
    t_in, t_out = ti_dtype(in_dtype), ti_dtype(out_dtype)
    conv = converter(np.dtype(np.float64), out_dtype)
    keep = _rounding_barrier(_fuses())

    @ti.func
    def causal_init(c: ti.template(), i, j, n, z, live):
        if ti.static(fmode == "mirror"):
            z_n_1 = z ** (n - 1)
            c0 = get(c, i, j, 0) + keep(z_n_1 * get(c, i, j, n - 1), live)
            z_i = z
            for k in range(1, n - 1):
                c0 += keep(z_i * (get(c, i, j, k) + keep(z_n_1 * get(c, i, j, n - 1 - k), live)), live)
                z_i *= z
            put(c, i, j, 0, c0 / (ti.f64(1.0) - keep(z_n_1 * z_n_1, live)))
        elif ti.static(fmode == "wrap"):
            z_i = z
            c0 = get(c, i, j, 0)
            for k in range(1, n):
                c0 += keep(z_i * get(c, i, j, n - k), live)
                z_i *= z
            put(c, i, j, 0, c0 / (ti.f64(1.0) - z_i))
        elif ti.static(not legacy_reflect):
            z_i = z
            z_n = z ** n
            s = get(c, i, j, 0) + keep(z_n * get(c, i, j, n - 1), live)
            for k in range(1, n):
                s += keep(z_i * (get(c, i, j, k) + keep(z_n * get(c, i, j, n - 1 - k), live)), live)
                z_i *= z
            put(c, i, j, 0, get(c, i, j, 0) + keep(s * z / (ti.f64(1.0) - keep(z_n * z_n, live)), live))
        else:  # SciPy <= 1.17: the sum accumulates in c[0], which its last term reads
            z_i = z
            z_n = z ** n
            c00 = get(c, i, j, 0)
            s = c00 + keep(z_n * get(c, i, j, n - 1), live)
            for k in range(1, n):
                other = get(c, i, j, n - 1 - k)
                if k == n - 1:
                    other = s
                s += keep(z_i * (get(c, i, j, k) + keep(z_n * other, live)), live)
                z_i *= z
            put(c, i, j, 0, keep(s * (z / (ti.f64(1.0) - keep(z_n * z_n, live))), live) + c00)

    @ti.func
    def anticausal_init(c: ti.template(), i, j, n, z, live):
        if ti.static(fmode == "mirror"):
            put(c, i, j, n - 1,
                (keep(z * get(c, i, j, n - 2), live) + get(c, i, j, n - 1)) * z / (keep(z * z, live) - ti.f64(1.0)))
        elif ti.static(fmode == "wrap"):
            z_i = z
            cl = get(c, i, j, n - 1)
            for k in range(n - 1):
                cl += keep(z_i * get(c, i, j, k), live)
                z_i *= z
            put(c, i, j, n - 1, cl * (z / (z_i - ti.f64(1.0))))
        else:
            put(c, i, j, n - 1, get(c, i, j, n - 1) * (z / (z - ti.f64(1.0))))

    @ti.kernel
    def kernel(src: ND3(dtype=t_in), work: ND3(dtype=ti.f64), dst: ND3(dtype=t_out)):
        n = work.shape[axis]
        live = n > 0
        for i, j in ti.ndrange(work.shape[others[0]], work.shape[others[1]]):
            if ti.static(copy_in):
                for k in range(n):
                    put(work, i, j, k, ti.cast(get(src, i, j, k), ti.f64))
            if n > 1:
                for k in range(n):
                    put(work, i, j, k, get(work, i, j, k) * ti.f64(gain))
                for pz in ti.static(poles):
                    z = ti.f64(pz)
                    causal_init(work, i, j, n, z, live)
                    for k in range(1, n):
                        put(work, i, j, k, get(work, i, j, k) + keep(z * get(work, i, j, k - 1), live))
                    anticausal_init(work, i, j, n, z, live)
                    for kk in range(n - 1):
                        k = n - 2 - kk
                        put(work, i, j, k, z * (get(work, i, j, k + 1) - get(work, i, j, k)))
            if ti.static(copy_out):
                for k in range(n):
                    put(dst, i, j, k, conv(get(work, i, j, k)))
    return kernel


@functools.lru_cache(maxsize=KERNEL_CACHE)
def prepad(kinds: tuple, mode: str, in_dtype: np.dtype):
    """SciPy's pre-padding for ``nearest`` / ``grid-constant`` prefilters: ``(src, dst,
    npad, cval)`` copies ``src`` into the float64 ``dst``, which is ``2 * npad`` longer
    along every interpolated axis (edge values, or ``cval``)."""
    t_in = ti_dtype(in_dtype)

    @ti.kernel
    def kernel(src: ND3(dtype=t_in), dst: ND3(dtype=ti.f64), npad: ti.i32, cval: ti.f64):
        for i, j, l in ti.ndrange(dst.shape[0], dst.shape[1], dst.shape[2]):
            q = ti.Vector([i, j, l], dt=ti.i32)
            outside = 0
            for d in ti.static(range(3)):
                if ti.static(kinds[d] == "i"):
                    k = q[d] - npad
                    if k < 0 or k >= src.shape[d]:
                        outside = 1
                    q[d] = ti.min(ti.max(k, 0), src.shape[d] - 1)
            v = ti.cast(src[q[0], q[1], q[2]], ti.f64)
            if ti.static(mode == "grid-constant"):
                if outside:
                    v = cval
            dst[i, j, l] = v
    return kernel


@ti.func
def scaled_index(i):
    """``0.9 * index + 0.3`` per axis: the ``geometric_transform`` mapping of the registry's
    parity cases (its Python twin goes to SciPy)."""
    return ti.cast(i, ti.f64) * ti.f64(0.9) + ti.f64(0.3)
