"""Morphology kernels: binary erosion / dilation steps and grey-level erosion / dilation
with a non-flat structuring element (``scipy.ndimage``'s ``structure=``).

Binary step (:func:`binary_step`): for every element, the AND (erosion) or OR (SciPy's
``invert`` erosion, i.e. dilation by the reflected structure) of the structure's taps,
read as ``value != 0`` inside the array and as ``border`` outside; where a mask is given
and is 0 the element keeps its input value. The taps are static 3-D offsets (unrolled up
to :data:`UNROLL_MAX`, else a run-time tap table). A step writes a uint8 0/1 result and
stamps the propagation flag (:func:`medkern.kernels.propagate.mark`) when any element
differs from its input. The ``inplace`` variant updates one uint8 buffer in place: used
for "iterate until nothing changes" when the structure holds its own origin, where every
step only removes (erosion) or only adds (dilation) elements, so reading a neighbour's old
or new value both lead to the same fixed point (a monotone operator iterated chaotically
from an extensive / anti-extensive start) and a change travels along a whole row in one
sweep on the CPU arch.

Layouts: on the CPU arch rows run in parallel and each row is walked serially, elements
whose whole window lies inside the array skip the bounds checks; on GPUs one thread per
element.
"""
import functools

import numpy as np
import taichi as ti

from .. import runtime
from ..arrays import ti_dtype
from .boundary import index_map
from .dsl import KERNEL_CACHE, converter, element_ranges
from .propagate import mark
from .scan import nonzero_func

ND1 = functools.partial(ti.types.ndarray, ndim=1)
ND3 = functools.partial(ti.types.ndarray, ndim=3)

#: Taps unrolled into the binary step; larger structures loop over a tap table.
UNROLL_MAX = 64


def rows_layout() -> bool:
    """Rows walked serially on the CPU arch, one thread per element on GPUs."""
    return runtime.is_cpu()


def extent(offsets: tuple) -> tuple:
    """``(lo0, hi0, lo1, hi1, lo2, hi2)``: the smallest and largest offset per axis."""
    t = np.array(offsets, dtype=np.int64).reshape(-1, 3)
    return tuple(int(v) for pair in zip(t.min(axis=0), t.max(axis=0)) for v in pair)


@functools.lru_cache(maxsize=KERNEL_CACHE)
def binary_step(offsets: tuple, dilate: bool, in_dtype: np.dtype, masked: bool,
                inplace: bool, rows: bool):
    """One binary erosion (``dilate=False``: AND of the taps) or SciPy's inverted erosion
    (``dilate=True``: OR of the taps) step.

    Signature ``(a, out, mask, zero, border, taps, flag, stamp)``; with ``inplace`` the
    ``out`` argument is absent and ``a`` (uint8) is updated. ``zero`` is a run-time 0 of
    ``a``'s dtype, ``border`` (0/1) the value read outside the array, ``taps`` the
    offsets as an int32 table (read only when there are more than :data:`UNROLL_MAX`),
    ``mask`` a uint8 buffer (read only when ``masked``). Offsets are static 3-D tuples.

    The GPU layout with a tap table runs in launches of a bounded number of elements
    (:func:`medkern.kernels.dsl.element_ranges`: Mesa's Vulkan ends a thread's loops after
    65535 iterations -- at 256^3 a thread's 128 elements of a 515-tap ball(5) passed it).
    """
    kern = _binary_step_kernel(offsets, dilate, in_dtype, masked, inplace, rows)
    chunked = not rows and len(offsets) > UNROLL_MAX
    cost = len(offsets) + 2

    def run(a, *args):
        n = int(np.prod(a.shape))
        for e0, e1 in (element_ranges(n, cost) if chunked else [(0, n)]):
            kern(a, *args, e0, e1)
    return run


@functools.lru_cache(maxsize=KERNEL_CACHE)
def _binary_step_kernel(offsets: tuple, dilate: bool, in_dtype: np.dtype, masked: bool,
                        inplace: bool, rows: bool):
    """:func:`binary_step`'s kernel, its signature ending in ``e0, e1``: the flat elements
    the GPU layout with a tap table updates (the other layouts update all)."""
    t_in = ti.u8 if inplace else ti_dtype(np.dtype(in_dtype))
    nonzero = nonzero_func(np.dtype(np.uint8) if inplace else np.dtype(in_dtype))
    K = len(offsets)
    unrolled = K <= UNROLL_MAX
    lo0, hi0, lo1, hi1, lo2, hi2 = extent(offsets)

    @ti.func
    def tap(a: ti.template(), p, q, r, n0, n1, n2, zero, border, o: ti.template(),
            inside: ti.template()):
        v = border
        ok = 1
        if ti.static(not inside):
            if ti.static(o[0] < 0):
                ok &= ti.cast(p >= 0, ti.i32)
            if ti.static(o[0] > 0):
                ok &= ti.cast(p < n0, ti.i32)
            if ti.static(o[1] < 0):
                ok &= ti.cast(q >= 0, ti.i32)
            if ti.static(o[1] > 0):
                ok &= ti.cast(q < n1, ti.i32)
            if ti.static(o[2] < 0):
                ok &= ti.cast(r >= 0, ti.i32)
            if ti.static(o[2] > 0):
                ok &= ti.cast(r < n2, ti.i32)
        if ok:
            v = ti.cast(nonzero(a[p, q, r], zero), ti.i32)
        return v

    @ti.func
    def fold(a: ti.template(), taps: ti.template(), i, j, l, n0, n1, n2, zero, border,
             inside: ti.template()):
        acc = 0 if ti.static(dilate) else 1
        if ti.static(unrolled):
            for k in ti.static(range(K)):
                o = ti.static(offsets[k])
                v = tap(a, i + o[0], j + o[1], l + o[2], n0, n1, n2, zero, border, o, inside)
                if ti.static(dilate):
                    acc |= v
                else:
                    acc &= v
        else:
            for t in range(K):
                p, q, r = i + taps[3 * t], j + taps[3 * t + 1], l + taps[3 * t + 2]
                v = border
                if ti.static(inside) or (p >= 0 and p < n0 and q >= 0 and q < n1
                                         and r >= 0 and r < n2):
                    v = ti.cast(nonzero(a[p, q, r], zero), ti.i32)
                if ti.static(dilate):
                    acc |= v
                else:
                    acc &= v
        return acc

    @ti.func
    def element(a: ti.template(), mask: ti.template(), taps: ti.template(), i, j, l,
                n0, n1, n2, zero, border, inside: ti.template()):
        # packed as 2 * old + new: one return value
        old = ti.cast(nonzero(a[i, j, l], zero), ti.i32)
        res = old
        if ti.static(masked):
            if mask[i, j, l] != 0:
                res = fold(a, taps, i, j, l, n0, n1, n2, zero, border, inside)
        else:
            res = fold(a, taps, i, j, l, n0, n1, n2, zero, border, inside)
        return 2 * old + res

    @ti.func
    def gpu_element(a: ti.template(), out: ti.template(), mask: ti.template(),
                    taps: ti.template(), i, j, l, n0, n1, n2, zero, border,
                    flag: ti.template(), stamp):
        both = element(a, mask, taps, i, j, l, n0, n1, n2, zero, border, False)
        store(a, out, both, i, j, l, flag, stamp)

    @ti.func
    def store(a: ti.template(), out: ti.template(), both, i, j, l, flag: ti.template(),
              stamp):
        """Write ``element``'s (old, new) pair and mark a change."""
        old, res = both >> 1, both & 1
        if ti.static(inplace):
            if res != old:
                a[i, j, l] = ti.cast(res, ti.u8)
                mark(flag, stamp)
        else:
            out[i, j, l] = ti.cast(res, ti.u8)
            if res != old:
                mark(flag, stamp)

    @ti.func
    def body(a: ti.template(), out: ti.template(), mask: ti.template(), zero, border,
             taps: ti.template(), flag: ti.template(), stamp, e0, e1):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        if ti.static(rows):
            # in place, odd sweeps walk backwards (rows and elements in reverse order):
            # a change then travels both ways along a row within two sweeps
            rev = ti.static(inplace) and (stamp & 1) == 0
            for i0, j0 in ti.ndrange(n0, n1):
                i, j = i0, j0
                if rev:
                    i, j = n0 - 1 - i0, n1 - 1 - j0
                row_in = (i + lo0 >= 0 and i + hi0 < n0 and j + lo1 >= 0 and j + hi1 < n1)
                for l0 in range(n2):
                    l = l0
                    if rev:
                        l = n2 - 1 - l0
                    both = 0
                    if row_in and l + lo2 >= 0 and l + hi2 < n2:
                        both = element(a, mask, taps, i, j, l, n0, n1, n2, zero, border, True)
                    else:
                        both = element(a, mask, taps, i, j, l, n0, n1, n2, zero, border, False)
                    store(a, out, both, i, j, l, flag, stamp)
        elif ti.static(unrolled):
            for i, j, l in ti.ndrange(n0, n1, n2):
                gpu_element(a, out, mask, taps, i, j, l, n0, n1, n2, zero, border, flag, stamp)
        else:
            for e in range(e0, e1):  # flat elements e0 .. e1 - 1 (element_ranges)
                i, j, l = e // (n1 * n2), (e // n2) % n1, e % n2
                gpu_element(a, out, mask, taps, i, j, l, n0, n1, n2, zero, border, flag, stamp)

    if inplace:
        @ti.kernel
        def step_inplace(a: ND3(dtype=ti.u8), mask: ND3(dtype=ti.u8), zero: ti.u8,
                         border: ti.i32, taps: ND1(dtype=ti.i32), flag: ND1(dtype=ti.i32),
                         stamp: ti.i32, e0: ti.i32, e1: ti.i32):
            body(a, a, mask, zero, border, taps, flag, stamp, e0, e1)
        return step_inplace

    @ti.kernel
    def step(a: ND3(dtype=t_in), out: ND3(dtype=ti.u8), mask: ND3(dtype=ti.u8), zero: t_in,
             border: ti.i32, taps: ND1(dtype=ti.i32), flag: ND1(dtype=ti.i32), stamp: ti.i32,
             e0: ti.i32, e1: ti.i32):
        body(a, out, mask, zero, border, taps, flag, stamp, e0, e1)
    return step


def grey_structure(minimum: bool, mode: str, in_dtype: np.dtype, out_dtype: np.dtype):
    """Grey erosion (``minimum``) or dilation over a footprint with run-time structure
    values, with the arithmetic of SciPy's ``NI_MinOrMaxFilter`` (the C loop of
    ``min_or_max_filter`` with a structure).

    SciPy adds ``s`` (``-s`` for an erosion) to each value: the footprint's first tap (C
    order) in float64, every other tap in the *input* type -- ``s`` cast to that type
    (C cast: truncation, x86-64 results for negative values into unsigned types) and the
    sum wrapping around for integers, float32 arithmetic for float32 -- then keeps the
    smallest (largest) by plain comparisons (a NaN never replaces, a first NaN stays) and
    stores it with its unsigned-safe cast (a negative result wraps: -2 -> 254). Written
    out here so every backend gives SciPy's x86-64 integers.

    Signature ``(a, out, cval, taps, w, lo0, hi0, lo1, hi1, lo2, hi2)``: ``taps`` the
    int32 offset table (3 per tap), ``w`` the float64 structure values (not negated),
    ``lo*``/``hi*`` the table's extent (elements whose window is inside skip the boundary
    maps). ``cval`` is read as the input dtype's value. numpy bools run as uint8 (SciPy's
    ``npy_bool`` is an unsigned char): an erosion of False by 1 stores the byte 255, as
    SciPy's does, and a later step reads it as 255. Runs in launches of a bounded number of
    elements (:func:`medkern.kernels.dsl.element_ranges`: Mesa's Vulkan ends a thread's
    loops after 65535 iterations).
    """
    kern = _grey_structure_kernel(minimum, mode, np.dtype(in_dtype), np.dtype(out_dtype))

    def run(a, out, cval, taps, w, *bounds):
        n = int(np.prod(a.shape))
        # both folds (inside / at the border) where lavapipe's lockstep threads disagree
        for e0, e1 in element_ranges(n, 2 * int(w.shape[0]) + 4):
            kern(a, out, cval, taps, w, *bounds, e0, e1)
    return run


@functools.lru_cache(maxsize=None)
def _grey_structure_kernel(minimum: bool, mode: str, in_dtype: np.dtype, out_dtype: np.dtype):
    """:func:`grey_structure`'s kernel: its signature ends in ``e0, e1``, the flat elements
    a launch computes."""
    in_dtype, out_dtype = np.dtype(in_dtype), np.dtype(out_dtype)
    t_in, t_out = ti_dtype(in_dtype), ti_dtype(out_dtype)
    f64 = np.dtype(np.float64)
    conv = converter(f64, out_dtype)
    cv_in = converter(f64, in_dtype)
    is_int = in_dtype.kind in "iu"
    is_f32 = in_dtype == np.float32
    bits = in_dtype.itemsize * 8
    signed = in_dtype.kind == "i"
    u64 = in_dtype == np.uint64
    imap = index_map(mode)

    @ti.func
    def in_type_sum(v, s):
        # the value plus the structure value cast to the input type, in that type
        res = ti.f64(0.0)
        if ti.static(is_int):
            c = cv_in(s)
            if ti.static(u64):
                res = ti.cast(ti.cast(v, ti.u64) + ti.cast(c, ti.u64), ti.f64)
            else:
                x = ti.cast(v, ti.i64) + ti.cast(c, ti.i64)
                if ti.static(bits < 64):
                    # wrap to the type's bits by shifts (no 64-bit compares: Mesa)
                    x = x << ti.static(64 - bits)
                    if ti.static(signed):
                        x = x >> ti.static(64 - bits)
                    else:
                        x = ti.cast(ti.cast(x, ti.u64) >> ti.static(64 - bits), ti.i64)
                res = ti.cast(x, ti.f64)
        elif ti.static(is_f32):
            res = ti.cast(ti.cast(v, ti.f32) + ti.cast(s, ti.f32), ti.f64)
        else:
            res = ti.cast(v, ti.f64) + s
        return res

    @ti.func
    def tap(a: ti.template(), taps: ti.template(), w: ti.template(), i, j, l, n0, n1, n2,
            cvc, t, inside: ti.template()):
        v = cvc
        if ti.static(inside):
            v = a[i + taps[3 * t], j + taps[3 * t + 1], l + taps[3 * t + 2]]
        else:
            p = imap(i + taps[3 * t], n0)
            q = imap(j + taps[3 * t + 1], n1)
            r = imap(l + taps[3 * t + 2], n2)
            if ti.static(mode != "constant") or (p >= 0 and q >= 0 and r >= 0):
                v = a[p, q, r]
        s = w[t]
        if ti.static(minimum):
            s = -s
        res = ti.f64(0.0)
        if t == 0:
            res = ti.cast(v, ti.f64) + s
        else:
            res = in_type_sum(v, s)
        return res

    @ti.func
    def fold(a: ti.template(), taps: ti.template(), w: ti.template(), i, j, l, n0, n1, n2,
             cvc, inside: ti.template()):
        K = taps.shape[0] // 3
        acc = tap(a, taps, w, i, j, l, n0, n1, n2, cvc, 0, inside)
        for t in range(1, K):
            v = tap(a, taps, w, i, j, l, n0, n1, n2, cvc, t, inside)
            if ti.static(minimum):
                if v < acc:
                    acc = v
            else:
                if v > acc:
                    acc = v
        return acc

    @ti.kernel
    def kern(a: ND3(dtype=t_in), out: ND3(dtype=t_out), cval: ti.f64,
             taps: ND1(dtype=ti.i32), w: ND1(dtype=ti.f64),
             lo0: ti.i32, hi0: ti.i32, lo1: ti.i32, hi1: ti.i32, lo2: ti.i32, hi2: ti.i32,
             e0: ti.i32, e1: ti.i32):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        cvc = cv_in(cval)
        for e in range(e0, e1):  # flat elements e0 .. e1 - 1 (element_ranges)
            i, j, l = e // (n1 * n2), (e // n2) % n1, e % n2
            res = ti.f64(0.0)
            if (i + lo0 >= 0 and i + hi0 < n0 and j + lo1 >= 0 and j + hi1 < n1
                    and l + lo2 >= 0 and l + hi2 < n2):
                res = fold(a, taps, w, i, j, l, n0, n1, n2, cvc, True)
            else:
                res = fold(a, taps, w, i, j, l, n0, n1, n2, cvc, False)
            out[i, j, l] = conv(res)
    return kern


# --------------------------------------------------------------------------- element-wise
# Pieces for ``dsl.pointwise`` with a float64 compute dtype: results are 0.0 / 1.0, stored
# into uint8 buffers. ``x != 0`` counts NaN as nonzero (Taichi's float ``!=`` is ordered).
@ti.func
def _truth(x):
    return (x != 0.0) | ti.math.isnan(x)


@ti.func
def one(a):
    return ti.f64(1.0)


@ti.func
def logical_not(x):
    return ti.select(_truth(x), 0.0, 1.0)


@ti.func
def and_not(a, b):
    return ti.select(_truth(a) & ~_truth(b), 1.0, 0.0)


@ti.func
def where_mask_value(x, m):
    return ti.select(m != 0.0, 1.0, ti.select(_truth(x), 1.0, 0.0))


@ti.func
def where_mask_zero(x, m):
    return ti.select(m != 0.0, 0.0, ti.select(_truth(x), 1.0, 0.0))
