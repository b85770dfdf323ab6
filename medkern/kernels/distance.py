"""Exact separable distance transforms: feature transforms carried line by line.

Every transform here computes the *feature transform*: for each element, the
coordinates of a nearest background (zero) element, one int32 component per logical
axis, stored in the component layout ``(ndim * s0, s1, s2)`` of
:func:`medkern.arrays.component_shape3` (component ``c`` of point ``(i, j, k)`` at
``ft[c * s0 + i, j, k]``). Distances are computed from it at the end
(:func:`distances`), with the reference's arithmetic.

A transform is one pass per logical axis, in axis order; a pass reads the features
of the previous one (``src``) and writes new ones (``dst``): each *line* along the
pass's axis is one thread that walks the line serially (lines run in parallel), using
a scratch buffer of the image's shape as the line's stack (``g``, ``h``). Before pass
``d`` a feature's components along axes ``>= d`` are still the element's own, so a
line's candidate *sites* are its elements holding a feature (component 0 >= 0) and a
site's cost is its distance, over the other axes, to its feature.

* Euclidean (:func:`edt_pass`): Maurer, Qi and Raghavan's Voronoi pass (IEEE PAMI 25,
  2003) -- the algorithm ``scipy.ndimage.distance_transform_edt`` runs -- with the same
  removal predicate, the same tie rules (a site tied with its neighbours on the stack is
  kept; a query keeps the earlier site on a tie) and the same float64 operations,
  sampling as per-axis weights. Without sampling every quantity is an integer below
  2**53, so the features equal SciPy's exactly, ties included; with sampling they do
  on the CPU arch (GPU compilers could fuse products into sums: every product goes
  through the rounding barrier of :mod:`medkern.kernels.dsl`).
* Chamfer (``distance_transform_cdt``): SciPy's two raster sweeps themselves
  (:func:`cdt_sweep`, serial: every element depends on the one visited before), for
  its indices and any structure; the taxicab / chessboard distances alone by
  separable passes on the distances (:func:`first_scan`, then :func:`line_scan` --
  L1 -- or :func:`linf_pass`, Meijster, Roerdink and Hesselink's lower envelope for
  L-infinity), lines in parallel.

A line without any site is copied through unchanged (SciPy leaves it alone): after the
last pass only an image with no background at all has elements without a feature
(component 0 = -1), and :func:`distances` gives them each reference's values.
"""
import functools

import numpy as np
import taichi as ti

from ..arrays import ti_dtype
from .dsl import ND3, _fuses, _rounding_barrier
from .scan import nonzero_func

#: "No site" cost of the integer passes (far above any distance, far below int32's end).
INF = 1 << 28


def _axes(ndim: int, ax: int):
    """Buffer axis of logical axis ``ax`` and the two other buffer axes (the line's index)."""
    bax = ax + 3 - ndim
    others = tuple(a for a in range(3) if a != bax)
    return bax, others


def _cell_func(bax: int):
    """``cell(p, q, ii)``: the 3-D index of element ``ii`` of line ``(p, q)`` along ``bax``."""
    if bax == 0:
        @ti.func
        def cell0(p, q, ii):
            return ti.Vector([ii, p, q])
        return cell0
    if bax == 1:
        @ti.func
        def cell1(p, q, ii):
            return ti.Vector([p, ii, q])
        return cell1

    @ti.func
    def cell2(p, q, ii):
        return ti.Vector([p, q, ii])
    return cell2


@functools.lru_cache(maxsize=None)
def init(in_dtype: np.dtype, ndim: int):
    """``(a, ft, zero)``: the starting features: a background element (``a == zero``) is
    its own feature; a foreground one (nonzero, NaN included) gets -1 in component 0 and
    0 in the others (SciPy's zero-filled feature array). ``zero`` is a run-time 0 of the
    input's dtype (Mesa's Vulkan miscompiles 64-bit comparisons with constants)."""
    t_in = ti_dtype(np.dtype(in_dtype))
    nonzero = nonzero_func(np.dtype(in_dtype))
    pad = 3 - ndim

    @ti.kernel
    def kern(a: ND3(dtype=t_in), ft: ND3(dtype=ti.i32), zero: t_in):
        s0 = a.shape[0]
        for i, j, k in ti.ndrange(a.shape[0], a.shape[1], a.shape[2]):
            pos = ti.Vector([i, j, k])
            fg = nonzero(a[i, j, k], zero)
            for c in ti.static(range(ndim)):
                v = pos[pad + c]
                if ti.static(c == 0):
                    v = ti.select(fg, -1, v)
                else:
                    v = ti.select(fg, 0, v)
                ft[c * s0 + i, j, k] = v
    return kern


@functools.lru_cache(maxsize=None)
def edt_pass(ndim: int, ax: int):
    """``(src, dst, g, w0, w1, w2, zero, live)``: the Euclidean pass along logical axis
    ``ax`` (module docstring). ``src``/``dst``: features (component layout); ``g``: int32
    scratch of the image's 3-D shape (each line's stack); ``w*``: per logical axis
    weights (sampling; 1.0 where none); ``zero``: a run-time 0.0; ``live``: a run-time 1
    (the rounding barrier)."""
    bax, (oa, ob) = _axes(ndim, ax)
    pad = 3 - ndim
    cell = _cell_func(bax)
    keep = _rounding_barrier(_fuses())

    @ti.func
    def comp(ft: ti.template(), c: ti.template(), s0, e):
        return ft[c * s0 + e[0], e[1], e[2]]

    @ti.kernel
    def kern(src: ND3(dtype=ti.i32), dst: ND3(dtype=ti.i32), g: ND3(dtype=ti.i32),
             w0: ti.f64, w1: ti.f64, w2: ti.f64, zero: ti.f64, live: ti.i32):
        w = ti.Vector([w0, w1, w2], dt=ti.f64)
        s0 = g.shape[0]
        n = g.shape[bax]
        for p, q in ti.ndrange(g.shape[oa], g.shape[ob]):
            base = cell(p, q, 0)
            # 1. the stack of sites whose Voronoi cells cross the line (Maurer's removal)
            l = -1
            for ii in range(n):
                e = cell(p, q, ii)
                if comp(src, 0, s0, e) >= 0:
                    fd = ti.cast(comp(src, ax, s0, e), ti.f64)
                    wr = ti.cast(0.0, ti.f64)
                    for c in ti.static(range(ndim)):
                        if ti.static(c != ax):
                            tw = ti.cast(comp(src, c, s0, e) - base[pad + c], ti.f64) * w[c]
                            wr += keep(tw * tw, live)
                    while l >= 1:
                        e1 = cell(p, q, g[cell(p, q, l)])
                        e2 = cell(p, q, g[cell(p, q, l - 1)])
                        f1 = ti.cast(comp(src, ax, s0, e1), ti.f64)
                        a = (f1 - ti.cast(comp(src, ax, s0, e2), ti.f64)) * w[ax]
                        b = (fd - f1) * w[ax]
                        cc = a + b
                        ur = ti.cast(0.0, ti.f64)
                        vr = ti.cast(0.0, ti.f64)
                        for c in ti.static(range(ndim)):
                            if ti.static(c != ax):
                                tu = ti.cast(comp(src, c, s0, e2) - base[pad + c], ti.f64) * w[c]
                                tv = ti.cast(comp(src, c, s0, e1) - base[pad + c], ti.f64) * w[c]
                                ur += keep(tu * tu, live)
                                vr += keep(tv * tv, live)
                        crit = keep(cc * vr, live) - keep(b * ur, live)
                        crit = crit - keep(a * wr, live)
                        crit = crit - keep(keep(a * b, live) * cc, live)
                        if crit <= zero:
                            break
                        l -= 1
                    l += 1
                    g[cell(p, q, l)] = ii
            maxl = l
            # 2. each element takes the nearest stacked site (the earlier one on a tie)
            if maxl >= 0:
                l = 0
                for ii in range(n):
                    e = cell(p, q, ii)
                    es = cell(p, q, g[cell(p, q, l)])
                    d1 = ti.cast(0.0, ti.f64)
                    for c in ti.static(range(ndim)):
                        t = ti.cast(0.0, ti.f64)
                        if ti.static(c == ax):
                            t = ti.cast(comp(src, c, s0, es) - ii, ti.f64) * w[c]
                        else:
                            t = ti.cast(comp(src, c, s0, es) - base[pad + c], ti.f64) * w[c]
                        d1 += keep(t * t, live)
                    while l < maxl:
                        en = cell(p, q, g[cell(p, q, l + 1)])
                        d2 = ti.cast(0.0, ti.f64)
                        for c in ti.static(range(ndim)):
                            t = ti.cast(0.0, ti.f64)
                            if ti.static(c == ax):
                                t = ti.cast(comp(src, c, s0, en) - ii, ti.f64) * w[c]
                            else:
                                t = ti.cast(comp(src, c, s0, en) - base[pad + c], ti.f64) * w[c]
                            d2 += keep(t * t, live)
                        if d1 <= d2:
                            break
                        d1 = d2
                        l += 1
                    es = cell(p, q, g[cell(p, q, l)])
                    for c in ti.static(range(ndim)):
                        dst[c * s0 + e[0], e[1], e[2]] = comp(src, c, s0, es)
            else:
                for ii in range(n):
                    e = cell(p, q, ii)
                    for c in ti.static(range(ndim)):
                        dst[c * s0 + e[0], e[1], e[2]] = comp(src, c, s0, e)
    return kern


# --------------------------------------------------------------------------- chamfer (cdt)
@functools.lru_cache(maxsize=None)
def cdt_init(in_dtype: np.dtype, far: int, with_ft: bool):
    """``(a, dt, ft, zero)``: the start of ``distance_transform_cdt``: ``dt`` = 0 on the
    background (``a == zero``), ``far`` on the foreground (SciPy's -1 for the sweeps,
    :data:`INF` for the separable passes); with ``with_ft``, ``ft`` = each element's
    own flat (raster) index, SciPy's starting feature array."""
    t_in = ti_dtype(np.dtype(in_dtype))
    nonzero = nonzero_func(np.dtype(in_dtype))

    @ti.kernel
    def kern(a: ND3(dtype=t_in), dt: ND3(dtype=ti.i32), ft: ND3(dtype=ti.i32), zero: t_in):
        n1, n2 = a.shape[1], a.shape[2]
        for i, j, k in ti.ndrange(a.shape[0], n1, n2):
            dt[i, j, k] = ti.select(nonzero(a[i, j, k], zero), far, 0)
            if ti.static(with_ft):
                ft[i, j, k] = (i * n1 + j) * n2 + k
    return kern


@functools.lru_cache(maxsize=None)
def cdt_sweep(offsets: tuple, backward: bool, with_ft: bool):
    """``(dt, ft, start, stop)``: visits ``start..stop-1`` of one of SciPy's chamfer sweeps
    (``NI_DistanceTransformOnePass``), as SciPy runs it: every element in raster order
    (``backward``: the reverse order, SciPy's second sweep over the flipped array), a
    foreground one (``dt != 0``) taking, of its
    already visited neighbours at ``offsets`` (3-D, the structure's first half in its
    raster order; negated for ``backward``) with a distance ``tt >= 0``, the first with
    the strictly smallest ``tt + 1`` -- if that beats its own distance (-1: none yet) --
    and that neighbour's feature (flat index in ``ft``, with ``with_ft``).

    Every element depends on the one visited before it, so the sweep is serial (one
    thread; the outer loop of a single iteration is the kernel's parallel loop): used
    where SciPy's indices (its order of visiting decides ties) or an arbitrary structure
    are asked for."""
    offs = [tuple(-o for o in off) if backward else tuple(off) for off in offsets]

    @ti.func
    def visit(dt: ti.template(), ft: ti.template(), i, j, k, n0, n1, n2):
        v = dt[i, j, k]
        if v != 0:
            m = v
            f = 0
            if ti.static(with_ft):
                f = ft[i, j, k]
            for o in ti.static(offs):
                ii, jj, kk = i + o[0], j + o[1], k + o[2]
                inside = True
                if ti.static(o[0] != 0):
                    inside = inside and 0 <= ii < n0
                if ti.static(o[1] != 0):
                    inside = inside and 0 <= jj < n1
                if ti.static(o[2] != 0):
                    inside = inside and 0 <= kk < n2
                if inside:
                    tt = dt[ii, jj, kk]
                    if tt >= 0 and (m < 0 or tt + 1 < m):
                        m = tt + 1
                        if ti.static(with_ft):
                            f = ft[ii, jj, kk]
            dt[i, j, k] = m
            if ti.static(with_ft):
                ft[i, j, k] = f

    @ti.kernel
    def kern(dt: ND3(dtype=ti.i32), ft: ND3(dtype=ti.i32), start: ti.i32, stop: ti.i32):
        n0, n1, n2 = dt.shape[0], dt.shape[1], dt.shape[2]
        for _ in range(1):
            # the visits start..stop-1 of the sweep's order: one loop, so a launch's
            # iterations are stop - start (runtime.serial_budget)
            for t in range(start, stop):
                r0 = t // (n1 * n2)
                r1 = (t // n2) % n1
                r2 = t % n2
                if ti.static(backward):
                    visit(dt, ft, n0 - 1 - r0, n1 - 1 - r1, n2 - 1 - r2, n0, n1, n2)
                else:
                    visit(dt, ft, r0, r1, r2, n0, n1, n2)
    return kern


@functools.lru_cache(maxsize=None)
def unravel(ndim: int):
    """``(flat, ft)``: flat raster indices (the sweeps' features) as the component
    layout's coordinates."""
    pad = 3 - ndim

    @ti.kernel
    def kern(flat: ND3(dtype=ti.i32), ft: ND3(dtype=ti.i32)):
        n0, n1, n2 = flat.shape[0], flat.shape[1], flat.shape[2]
        for i, j, k in ti.ndrange(n0, n1, n2):
            f = flat[i, j, k]
            q = ti.Vector([f // (n1 * n2), (f // n2) % n1, f % n2])
            for c in ti.static(range(ndim)):
                ft[c * n0 + i, j, k] = q[pad + c]
    return kern


@functools.lru_cache(maxsize=None)
def first_scan(in_dtype: np.dtype, last: bool):
    """``(a, d, zero, t0, t1)``: the first separable pass, along the contiguous axis, every
    line a thread: ``d`` = the distance to the line's nearest background element (``a ==
    zero``), :data:`INF` where the line has none (``last``: SciPy's -1 there, the image
    being 1-D).

    A line's walk is ``2 n`` steps (forward ``k = t``, then backward ``k = 2 n - 1 - t``);
    a launch runs steps ``t0 .. t1 - 1`` (``medkern.kernels.dsl.step_ranges``: Mesa's Vulkan
    ends a thread's loops after 65535 iterations), taking the running distance from the
    element the previous step wrote."""
    t_in = ti_dtype(np.dtype(in_dtype))
    nonzero = nonzero_func(np.dtype(in_dtype))

    @ti.kernel
    def kern(a: ND3(dtype=t_in), d: ND3(dtype=ti.i32), zero: t_in, t0: ti.i32, t1: ti.i32):
        n = a.shape[2]
        for i, j in ti.ndrange(a.shape[0], a.shape[1]):
            run = INF
            if t0 > 0 and t0 < n:
                run = d[i, j, t0 - 1]
            elif t0 > n:  # backward: the element after this one, -1 (``last``) for INF
                v = d[i, j, 2 * n - t0]
                run = ti.select(v < 0, INF, v)
            for t in range(t0, t1):
                if t < n:
                    run = ti.select(nonzero(a[i, j, t], zero), ti.min(run + 1, INF), 0)
                    d[i, j, t] = run
                else:
                    if t == n:
                        run = INF
                    k = 2 * n - 1 - t
                    run = ti.min(d[i, j, k], run + 1)
                    if ti.static(last):
                        d[i, j, k] = ti.select(run >= INF, -1, run)
                    else:
                        d[i, j, k] = run
    return kern


@functools.lru_cache(maxsize=None)
def line_scan(ndim: int, ax: int, last: bool, block: int):
    """``(d, t0, t1)``: in place along logical axis ``ax``: ``d[x] = min(d[x], d[x - 1] + 1)``
    forward, then the same backward -- the exact 1-D L1 transform of the line's costs
    (on the first axis, costs 0 / :data:`INF`: the distance to the line's nearest
    background element, for any metric). ``last``: :data:`INF` (no background
    anywhere) becomes SciPy's -1.

    A thread walks ``block`` neighbouring lines at once when ``ax`` is not the
    contiguous axis, the contiguous one innermost (on the CPU: every step reads whole
    cache lines; ``block=1`` on GPUs, where neighbouring threads read neighbouring
    elements); along the contiguous axis every line is a thread. A walk is ``2 n - 1``
    steps (``n - 1`` forward, the last element's ``last`` mapping, ``n - 1`` backward),
    every state in ``d``: a launch runs steps ``t0 .. t1 - 1``
    (``medkern.kernels.dsl.step_ranges``: Mesa's Vulkan ends a thread's loops after 65535
    iterations)."""
    bax, (oa, ob) = _axes(ndim, ax)
    cell = _cell_func(bax)
    width = block if bax != 2 else 1

    @ti.func
    def put(d: ti.template(), e, v):
        if ti.static(last):
            d[e] = ti.select(v >= INF, -1, v)
        else:
            d[e] = v

    @ti.kernel
    def kern(d: ND3(dtype=ti.i32), t0: ti.i32, t1: ti.i32):
        n = d.shape[bax]
        nq = d.shape[ob]
        for p, qb in ti.ndrange(d.shape[oa], (nq + width - 1) // width):
            for s in range(t0, t1):
                if s < n - 1:  # forward
                    ii = s + 1
                    for t in range(width):
                        q = qb * width + t
                        if q < nq:
                            e = cell(p, q, ii)
                            d[e] = ti.min(d[e], d[cell(p, q, ii - 1)] + 1)
                elif s == n - 1:
                    for t in range(width):
                        q = qb * width + t
                        if q < nq:
                            e = cell(p, q, n - 1)
                            put(d, e, d[e])
                else:  # backward
                    ii = 2 * n - 2 - s
                    for t in range(width):
                        q = qb * width + t
                        if q < nq:
                            e = cell(p, q, ii)
                            nb = d[cell(p, q, ii + 1)]
                            nb = ti.select(nb < 0, INF, nb)  # already -1 (``last``): none
                            put(d, e, ti.min(d[e], nb + 1))
    return kern


@functools.lru_cache(maxsize=None)
def linf_pass(ndim: int, ax: int, last: bool):
    """``(src, dst, g, h)``: along logical axis ``ax``, every line a thread, ``dst[x] =
    min_i max(|x - i|, src[i])`` -- the L-infinity step of a separable transform -- by
    Meijster, Roerdink and Hesselink's lower envelope (2000; ``g``, ``h``: int32 scratch
    of the image's shape, the envelope's sites and where each starts). ``last``:
    :data:`INF` becomes SciPy's -1."""
    bax, (oa, ob) = _axes(ndim, ax)
    cell = _cell_func(bax)

    @ti.func
    def f(x, i, gi):
        return ti.max(ti.abs(x - i), gi)

    @ti.func
    def sep(i, u, gi, gu):
        r = 0
        if gi <= gu:
            r = ti.max(i + gu, (i + u) // 2)
        else:
            r = ti.min(u - gi, (i + u) // 2)
        return r

    @ti.kernel
    def kern(src: ND3(dtype=ti.i32), dst: ND3(dtype=ti.i32), g: ND3(dtype=ti.i32),
             h: ND3(dtype=ti.i32)):
        n = src.shape[bax]
        for p, q in ti.ndrange(src.shape[oa], src.shape[ob]):
            qq = 0
            g[cell(p, q, 0)] = 0
            h[cell(p, q, 0)] = 0
            for u in range(1, n):
                gu = src[cell(p, q, u)]
                while qq >= 0:
                    sq = g[cell(p, q, qq)]
                    tq = h[cell(p, q, qq)]
                    if f(tq, sq, src[cell(p, q, sq)]) <= f(tq, u, gu):
                        break
                    qq -= 1
                if qq < 0:
                    qq = 0
                    g[cell(p, q, 0)] = u
                else:
                    sq = g[cell(p, q, qq)]
                    wpos = 1 + sep(sq, u, src[cell(p, q, sq)], gu)
                    if wpos < n:
                        qq += 1
                        g[cell(p, q, qq)] = u
                        h[cell(p, q, qq)] = wpos
            for r in range(n):
                u = n - 1 - r
                sq = g[cell(p, q, qq)]
                v = ti.min(f(u, sq, src[cell(p, q, sq)]), INF)
                if ti.static(last):
                    v = ti.select(v >= INF, -1, v)
                dst[cell(p, q, u)] = v
                if u == h[cell(p, q, qq)]:
                    qq -= 1
    return kern


@functools.lru_cache(maxsize=None)
def distances(ndim: int, kind: str, out_dtype: np.dtype):
    """``(ft, out, w0, w1, w2, fill, live)``: distances from the features, with the
    reference's arithmetic, and the references' answers where no background exists
    (component 0 of the feature = -1).

    ``kind``:
    ``"edt"``   ``sqrt(sum_c ((f_c - x_c) * w_c) ** 2)`` summed in axis order (SciPy's
                ``distance_transform_edt``, which applies it to the -1 too);
    ``"bf"``    the same, but ``fill`` and features 0 where no background exists
                (``distance_transform_bf``: ``sqrt(DBL_MAX)`` or ``UINT32_MAX``);
    ``"taxicab"`` / ``"chessboard"``: ``sum_c |f_c - x_c|`` / ``max_c``; with
                ``fill`` (``-1`` for ``cdt`` -- whose features are then the elements' own
                positions -- or the bf fill) where no background exists.
    """
    pad = 3 - ndim
    t_out = ti_dtype(np.dtype(out_dtype))
    keep = _rounding_barrier(_fuses())
    euclid = kind in ("edt", "bf")
    cdt = not euclid and np.dtype(out_dtype) == np.int32

    @ti.kernel
    def kern(ft: ND3(dtype=ti.i32), out: ND3(dtype=t_out), w0: ti.f64, w1: ti.f64,
             w2: ti.f64, fill: ti.f64, live: ti.i32):
        w = ti.Vector([w0, w1, w2], dt=ti.f64)
        s0 = out.shape[0]
        for i, j, k in ti.ndrange(out.shape[0], out.shape[1], out.shape[2]):
            pos = ti.Vector([i, j, k])
            missing = ft[i, j, k] < 0
            if ti.static(kind == "edt"):
                acc = ti.cast(0.0, ti.f64)
                for c in ti.static(range(ndim)):
                    t = ti.cast(ft[c * s0 + i, j, k] - pos[pad + c], ti.f64) * w[c]
                    acc += keep(t * t, live)
                out[i, j, k] = ti.cast(ti.sqrt(acc), t_out)
            elif ti.static(euclid):
                acc = ti.cast(0.0, ti.f64)
                for c in ti.static(range(ndim)):
                    t = ti.cast(ft[c * s0 + i, j, k] - pos[pad + c], ti.f64) * w[c]
                    acc += keep(t * t, live)
                if missing:
                    acc = fill
                    for c in ti.static(range(ndim)):
                        ft[c * s0 + i, j, k] = 0
                else:
                    acc = ti.sqrt(acc)
                out[i, j, k] = ti.cast(acc, t_out)
            else:
                r = ti.cast(0, ti.i64)
                for c in ti.static(range(ndim)):
                    t = ti.cast(ti.abs(ft[c * s0 + i, j, k] - pos[pad + c]), ti.i64)
                    if ti.static(kind == "taxicab"):
                        r += t
                    else:
                        r = ti.max(r, t)
                if missing:
                    r = ti.cast(fill, ti.i64)
                    for c in ti.static(range(ndim)):
                        if ti.static(cdt):
                            ft[c * s0 + i, j, k] = pos[pad + c]
                        else:
                            ft[c * s0 + i, j, k] = 0
                out[i, j, k] = ti.cast(r, t_out)
    return kern


@functools.lru_cache(maxsize=None)
def fix_missing(ndim: int, own: bool):
    """``(ft,)``: features of an image without background when no distances are asked:
    the elements' own positions (``own``: ``cdt``) or 0 (``bf``)."""
    pad = 3 - ndim

    @ti.kernel
    def kern(ft: ND3(dtype=ti.i32)):
        s0 = ft.shape[0] // ndim
        for i, j, k in ti.ndrange(s0, ft.shape[1], ft.shape[2]):
            pos = ti.Vector([i, j, k])
            if ft[i, j, k] < 0:
                for c in ti.static(range(ndim)):
                    if ti.static(own):
                        ft[c * s0 + i, j, k] = pos[pad + c]
                    else:
                        ft[c * s0 + i, j, k] = 0
    return kern


@functools.lru_cache(maxsize=None)
def border(in_dtype: np.dtype, ndim: int):
    """``(a, mark, zero)``: 1 where a background element has a foreground neighbour
    (any of the ``3 ** ndim`` box; outside the image counts as background), else 0: the
    elements ``distance_transform_bf`` measures against (SciPy's dilation xor input)."""
    t_in = ti_dtype(np.dtype(in_dtype))
    nonzero = nonzero_func(np.dtype(in_dtype))
    offs = [(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)
            if (a, b, c) != (0, 0, 0)]

    @ti.kernel
    def kern(a: ND3(dtype=t_in), mark: ND3(dtype=ti.u8), zero: t_in):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        for i, j, k in ti.ndrange(n0, n1, n2):
            m = 0
            if not nonzero(a[i, j, k], zero):
                for o in ti.static(offs):
                    ii, jj, kk = i + o[0], j + o[1], k + o[2]
                    if 0 <= ii < n0 and 0 <= jj < n1 and 0 <= kk < n2:
                        if nonzero(a[ii, jj, kk], zero):
                            m = 1
            mark[i, j, k] = ti.cast(m, ti.u8)
    return kern


@functools.lru_cache(maxsize=None)
def brute_force(in_dtype: np.dtype, ndim: int, metric: str, out_dtype: np.dtype,
                sampled: bool):
    """``(a, zero, lst, e0, e1, ft, out, w0, w1, w2, far, live, best, first, last)``: SciPy's
    ``NI_DistanceTransformBruteForce``: every foreground element measures every border
    element (``lst``: their flat indices, int64 ``(count, 1)``, raster order) with SciPy's
    arithmetic and keeps the *last* one in raster order among the nearest (SciPy walks
    its list backwards and keeps the first strictly nearer), so ties resolve as SciPy's.
    Background elements: distance 0, themselves as feature. ``far``: the starting
    distance (``DBL_MAX`` / ``UINT_MAX``, a run-time value); no border element leaves
    it (square-rooted for the Euclidean metric) and feature 0.

    A launch measures the list entries ``e0 .. e1 - 1`` (Mesa's Vulkan ends a thread's
    loops after 65535 iterations: a long list takes several launches, in order, which
    keeps SciPy's ties). Between launches an element's best distance waits in ``best``
    (float64 of the image's shape: every distance here is exact in it) and its feature's
    flat index in its own component-0 entry of ``ft``; ``first`` (1) starts from ``far``,
    ``last`` (1) writes the results (``best`` is not read when both are 1)."""
    t_in = ti_dtype(np.dtype(in_dtype))
    t_out = ti_dtype(np.dtype(out_dtype))
    nonzero = nonzero_func(np.dtype(in_dtype))
    keep = _rounding_barrier(_fuses())
    pad = 3 - ndim
    euclid = metric == "euclidean"

    @ti.kernel
    def kern(a: ND3(dtype=t_in), zero: t_in, lst: ti.types.ndarray(dtype=ti.i64, ndim=2),
             e0: ti.i32, e1: ti.i32, ft: ND3(dtype=ti.i32), out: ND3(dtype=t_out),
             w0: ti.f64, w1: ti.f64, w2: ti.f64, far: ti.f64, live: ti.i32,
             best: ND3(dtype=ti.f64), first: ti.i32, last: ti.i32):
        w = ti.Vector([w0, w1, w2], dt=ti.f64)
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        for i, j, k in ti.ndrange(n0, n1, n2):
            pos = ti.Vector([i, j, k])
            best_f = far
            best_i = ti.cast(far, ti.i64)
            idx = 0
            if first == 0:
                best_f = best[i, j, k]
                best_i = ti.cast(best_f, ti.i64)
                idx = ft[i, j, k]
            fg = nonzero(a[i, j, k], zero)
            if fg:
                for e in range(e0, e1):
                    f = ti.cast(lst[e, 0], ti.i32)
                    b = ti.Vector([f // (n1 * n2), (f // n2) % n1, f % n2])
                    if ti.static(euclid):
                        d = ti.cast(0.0, ti.f64)
                        for c in ti.static(range(ndim)):
                            t = ti.cast(pos[pad + c] - b[pad + c], ti.f64)
                            if ti.static(sampled):
                                t = t * w[c]
                            d += keep(t * t, live)
                        if d <= best_f:
                            best_f = d
                            idx = f
                    else:
                        d = ti.cast(0, ti.i64)
                        for c in ti.static(range(ndim)):
                            t = ti.cast(ti.abs(pos[pad + c] - b[pad + c]), ti.i64)
                            if ti.static(metric == "taxicab"):
                                d += t
                            else:
                                d = ti.max(d, t)
                        if d <= best_i:
                            best_i = d
                            idx = f
            else:
                best_f = ti.cast(0.0, ti.f64)
                best_i = ti.cast(0, ti.i64)
                idx = (i * n1 + j) * n2 + k
            if last != 0:
                if ti.static(euclid):
                    out[i, j, k] = ti.cast(ti.sqrt(best_f), t_out)
                else:
                    out[i, j, k] = ti.cast(best_i, t_out)
                q = ti.Vector([idx // (n1 * n2), (idx // n2) % n1, idx % n2])
                for c in ti.static(range(ndim)):
                    ft[c * n0 + i, j, k] = q[pad + c]
            else:
                if ti.static(euclid):
                    best[i, j, k] = best_f
                else:
                    best[i, j, k] = ti.cast(best_i, ti.f64)
                ft[i, j, k] = idx
    return kern
