"""Region growing pieces: condition masks, seed marks over component roots, the gather.

Region growing (``medkern.segmentation``'s flood, connected thresholds, hysteresis) is
(1) a condition mask on the device (:func:`in_range`, :func:`above`, a box of
values in the interval: :func:`in_range` eroded by :func:`erode_line` along each axis), (2) its components' roots
(``medkern.algorithms.segmentation._label.components``: a flat int32 buffer, the root's
flat position + 1 per foreground element), (3) the roots of the seed elements marked in a
flat int32 table (:func:`mark_points`, :func:`mark_mask`) and (4) the gather
``out = marks[root - 1]`` (:func:`gather`). Marks are int32, not bytes: two threads may
mark the same root (same value, no atomic needed) and a word store never touches a
neighbour's entry. :func:`region_sums` gives per-row sums of a region (confidence
connected's statistics), :func:`box_sums` the sums of boxes around seed points.

All kernels are one flat parallel loop: they run once per call (no sweep), so the CPU's
row layout would buy nothing. Thresholds are run-time arguments (never constants: Mesa's
Vulkan miscompiles 64-bit comparisons with constants).
"""
import functools

import numpy as np
import taichi as ti

from ..arrays import ti_dtype

ND1 = functools.partial(ti.types.ndarray, ndim=1)
ND3 = functools.partial(ti.types.ndarray, ndim=3)


@functools.lru_cache(maxsize=None)
def in_range(in_dtype: np.dtype):
    """``(a, m, lo, hi)``: ``m = 1`` where ``lo <= a <= hi`` (compared in the input's dtype,
    exact for every integer; NaN never inside), else 0. ``m`` is a uint8 buffer of ``a``'s
    shape."""
    t_in = ti_dtype(in_dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t_in), m: ND3(dtype=ti.u8), lo: t_in, hi: t_in):
        for i, j, l in ti.ndrange(a.shape[0], a.shape[1], a.shape[2]):
            v = a[i, j, l]
            m[i, j, l] = ti.cast(ti.cast(lo <= v, ti.i32) & ti.cast(v <= hi, ti.i32), ti.u8)
    return kern


@functools.lru_cache(maxsize=None)
def above(in_dtype: np.dtype):
    """``(a, m, t)``: ``m = 1`` where ``a > t`` compared in float64 (numpy's comparison of
    an array with a float64 scalar), else 0."""
    t_in = ti_dtype(in_dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t_in), m: ND3(dtype=ti.u8), t: ti.f64):
        for i, j, l in ti.ndrange(a.shape[0], a.shape[1], a.shape[2]):
            m[i, j, l] = ti.cast(ti.cast(a[i, j, l], ti.f64) > t, ti.u8)
    return kern


@functools.lru_cache(maxsize=None)
def set_points():
    """``(m, pos)``: ``m``'s elements at the flat positions ``pos`` (int32) set to 1 (a
    flood's seed belongs to its fill whatever its value)."""

    @ti.kernel
    def kern(m: ND3(dtype=ti.u8), pos: ND1(dtype=ti.i32)):
        n1, n2 = m.shape[1], m.shape[2]
        for k in range(pos.shape[0]):
            f = pos[k]
            m[f // (n1 * n2), (f // n2) % n1, f % n2] = ti.u8(1)
    return kern


@functools.lru_cache(maxsize=None)
def mark_points():
    """``(lab, marks, pos)``: the root of each seed position's component marked
    (``marks[lab[p] - 1] = 1``); seeds in the background mark nothing."""

    @ti.kernel
    def kern(lab: ND1(dtype=ti.i32), marks: ND1(dtype=ti.i32), pos: ND1(dtype=ti.i32)):
        for k in range(pos.shape[0]):
            v = lab[pos[k]]
            if v > 0:
                marks[v - 1] = 1
    return kern


@functools.lru_cache(maxsize=None)
def mark_mask(seed_dtype: np.dtype):
    """``(lab, seeds, marks, zero)``: the root of every component holding a nonzero
    element of ``seeds`` (a 3-D buffer of the image's shape) marked."""
    t_s = ti_dtype(seed_dtype)

    @ti.kernel
    def kern(lab: ND1(dtype=ti.i32), seeds: ND3(dtype=t_s), marks: ND1(dtype=ti.i32),
             zero: t_s):
        n1, n2 = seeds.shape[1], seeds.shape[2]
        for i, j, l in ti.ndrange(seeds.shape[0], n1, n2):
            v = lab[(i * n1 + j) * n2 + l]
            if seeds[i, j, l] != zero and v > 0:
                marks[v - 1] = 1
    return kern


@functools.lru_cache(maxsize=None)
def gather():
    """``(lab, marks, out)``: ``out = 1`` where the element's component is marked, else 0
    (``out`` a uint8 buffer of the image's 3-D shape)."""

    @ti.kernel
    def kern(lab: ND1(dtype=ti.i32), marks: ND1(dtype=ti.i32), out: ND3(dtype=ti.u8)):
        n1, n2 = out.shape[1], out.shape[2]
        for i, j, l in ti.ndrange(out.shape[0], n1, n2):
            v = lab[(i * n1 + j) * n2 + l]
            out[i, j, l] = ti.cast(marks[ti.max(v - 1, 0)] != 0 and v > 0, ti.u8)
    return kern


@functools.lru_cache(maxsize=None)
def region_sums(in_dtype: np.dtype):
    """``(a, m, part)``: per row ``(i, j)`` of the image, the float64 sum, sum of squares
    and count of ``a`` where ``m != 0``, in ``part[i, j, 0..2]`` (combined on the host).
    ``part`` is ``(n0, n1, 3 * S)``: a row longer than :data:`medkern.kernels.dsl.ROW_SEGMENT`
    is summed in ``S = dsl.row_segments(n2)`` segments, segment ``g`` in ``part[i, j, 3 g:
    3 g + 3]`` (Mesa's Vulkan ends a thread's loops after 65535 iterations)."""
    t_in = ti_dtype(in_dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t_in), m: ND3(dtype=ti.u8), part: ND3(dtype=ti.f64)):
        n2 = a.shape[2]
        nseg = part.shape[2] // 3
        seg = (n2 + nseg - 1) // nseg
        for i, j, g in ti.ndrange(a.shape[0], a.shape[1], nseg):
            lo = ti.min(g * seg, n2)
            s = ti.f64(0.0)
            q = ti.f64(0.0)
            c = ti.f64(0.0)
            for l in range(lo, ti.min(lo + seg, n2)):
                w = ti.cast(m[i, j, l] != 0, ti.f64)
                v = ti.cast(a[i, j, l], ti.f64) * w  # 0 outside: no branch, no NaN outside
                s += v
                q += v * v
                c += w
            part[i, j, 3 * g] = s
            part[i, j, 3 * g + 1] = q
            part[i, j, 3 * g + 2] = c
    return kern


@functools.lru_cache(maxsize=None)
def box_sums(in_dtype: np.dtype):
    """``(a, pos, out, r0, r1, r2)``: for each seed ``k`` at flat position ``pos[k]``, the
    float64 sum and sum of squares of the box of radii ``(r0, r1, r2)`` around it, indices
    clamped to the image, summed in raster order (ITK's order), in ``out[2k], out[2k+1]``."""
    t_in = ti_dtype(in_dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t_in), pos: ND1(dtype=ti.i32), out: ND1(dtype=ti.f64),
             r0: ti.i32, r1: ti.i32, r2: ti.i32):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        for k in range(pos.shape[0]):
            f = pos[k]
            i, j, l = f // (n1 * n2), (f // n2) % n1, f % n2
            s = ti.f64(0.0)
            q = ti.f64(0.0)
            for di in range(-r0, r0 + 1):
                ii = ti.min(ti.max(i + di, 0), n0 - 1)
                for dj in range(-r1, r1 + 1):
                    jj = ti.min(ti.max(j + dj, 0), n1 - 1)
                    for dl in range(-r2, r2 + 1):
                        ll = ti.min(ti.max(l + dl, 0), n2 - 1)
                        v = ti.cast(a[ii, jj, ll], ti.f64)
                        s += v
                        q += v * v
            out[2 * k] = s
            out[2 * k + 1] = q
    return kern


@functools.lru_cache(maxsize=None)
def set_mask(seed_dtype: np.dtype):
    """``(m, seeds, zero)``: ``m`` set to 1 where ``seeds`` (a 3-D buffer of ``m``'s shape)
    is nonzero (seeds that belong to the region whatever their value: ITK's neighbourhood
    and confidence connected filters)."""
    t_s = ti_dtype(seed_dtype)

    @ti.kernel
    def kern(m: ND3(dtype=ti.u8), seeds: ND3(dtype=t_s), zero: t_s):
        for i, j, l in ti.ndrange(m.shape[0], m.shape[1], m.shape[2]):
            if seeds[i, j, l] != zero:
                m[i, j, l] = ti.u8(1)
    return kern


@functools.lru_cache(maxsize=None)
def clear3():
    """``(m)``: every element of a uint8 3-D buffer 0."""

    @ti.kernel
    def kern(m: ND3(dtype=ti.u8)):
        for i, j, l in ti.ndrange(m.shape[0], m.shape[1], m.shape[2]):
            m[i, j, l] = ti.u8(0)
    return kern


@functools.lru_cache(maxsize=None)
def reach(offsets: tuple):
    """One sweep of a directed fill (an asymmetric footprint: a step goes from ``p`` to
    ``p + o`` for each offset ``o`` only): ``(m, r, flag, stamp)`` sets ``r = 1`` on every
    element of the mask ``m`` that some element of ``r`` steps to, and stores ``stamp`` in
    ``flag[0]`` when it set anything (:mod:`medkern.kernels.propagate` iterates it to the
    fixed point: the elements reachable from the seeds). Each thread writes only its own
    element and ``r`` only grows, so reading old or new neighbours is both correct."""
    from .propagate import mark

    @ti.kernel
    def kern(m: ND3(dtype=ti.u8), r: ND3(dtype=ti.u8), flag: ND1(dtype=ti.i32),
             stamp: ti.i32):
        n0, n1, n2 = m.shape[0], m.shape[1], m.shape[2]
        for i, j, l in ti.ndrange(n0, n1, n2):
            if m[i, j, l] != 0 and r[i, j, l] == 0:
                hit = 0
                for k in ti.static(range(len(offsets))):
                    di, dj, dl = ti.static(offsets[k])
                    a, b, c = i - di, j - dj, l - dl
                    if 0 <= a < n0 and 0 <= b < n1 and 0 <= c < n2:
                        hit |= ti.cast(r[a, b, c] != 0, ti.i32)
                if hit != 0:
                    r[i, j, l] = ti.u8(1)
                    mark(flag, stamp)
    return kern


@functools.lru_cache(maxsize=None)
def erode_line(axis: int):
    """``(m, out, r)``: ``out = 1`` where every element of ``m`` within ``r`` along
    ``axis`` (indices clamped to the image: the edge repeats) is nonzero. Three passes
    give the box test of :func:`box_in_range` (a clamped box is the product of clamped
    lines) in ``3 (2r + 1)`` reads instead of ``(2r + 1)^3``."""

    @ti.kernel
    def kern(m: ND3(dtype=ti.u8), out: ND3(dtype=ti.u8), r: ti.i32):
        n0, n1, n2 = m.shape[0], m.shape[1], m.shape[2]
        for i, j, l in ti.ndrange(n0, n1, n2):
            ok = 1
            for d in range(-r, r + 1):
                if ti.static(axis == 0):
                    ok &= ti.cast(m[ti.min(ti.max(i + d, 0), n0 - 1), j, l] != 0, ti.i32)
                elif ti.static(axis == 1):
                    ok &= ti.cast(m[i, ti.min(ti.max(j + d, 0), n1 - 1), l] != 0, ti.i32)
                else:
                    ok &= ti.cast(m[i, j, ti.min(ti.max(l + d, 0), n2 - 1)] != 0, ti.i32)
            out[i, j, l] = ti.cast(ok, ti.u8)
    return kern
