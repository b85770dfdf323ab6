"""Connected-component labelling sweeps (label equivalence with pointer jumping).

The working labels are one int32 per element in a 1-D buffer ``lab`` (flat C order):
0 for the background, else a 1-based flat position of an element of the same component,
never larger than the element's own position + 1. :func:`init` gives every foreground
element its own position + 1 (or its run's first, below). A sweep (:func:`sweep`, one
kernel, two passes):

1. *hook*: every pair of foreground neighbours, seen from its later element (the
   backward half of the symmetric structure), whose labels differ is merged: the larger
   label's representative (``lab[hi - 1]``) and the larger element's own entry are
   lowered to the smaller label with atomic minima;
2. *jump*: every element follows its chain ``v -> lab[v - 1] -> ...`` to the root (an entry
   equal to its own position + 1) and stores it (pointer jumping: chains collapse, so
   labels cross a whole merged region in one sweep).

Entries only decrease and always point into the element's component, so concurrent reads
of old or new values are both valid and chains always end. A sweep that writes nothing
saw every neighbour pair with equal labels: then each component carries one label, whose
root is the component's smallest flat position + 1 -- its first element in raster order --
whatever order the threads ran in: the result is the same on every run and arch. Each
sweep lowers every label to at most the smallest of its neighbours' (the larger element's
own entry is lowered, the other follows its representative in the jump), so a component
of geodesic diameter d settles within d + 1 sweeps; pointer jumping makes it far fewer in
practice (2-5 on the test inputs, spirals included; ``tools/label_study.py``).

Layouts (``rows``): on the CPU arch rows run in parallel and each row is walked serially,
so a label lowered at element ``l`` is seen by ``l + 1`` in the same pass, runs along a
row start merged, and a row is first checked by a loop that only reads (vectorised, no
data-dependent branch: a settled row costs little) and merged only if it must be. On GPUs
one thread per element (integer atomics in a run-time inner loop are miscompiled by Mesa's
software Vulkan, so GPU kernels have no such loop around them).
"""
import functools

import numpy as np
import taichi as ti

from .. import runtime
from ..arrays import ti_dtype
from .propagate import mark
from .scan import nonzero_func

ND1 = functools.partial(ti.types.ndarray, ndim=1)
ND3 = functools.partial(ti.types.ndarray, ndim=3)


def rows_layout() -> bool:
    """The default layout: rows walked serially on the CPU arch, one thread per element
    on GPUs (the ``rows`` argument of :func:`init` and :func:`sweep`; tests run the GPU
    layout on the CPU arch too)."""
    return runtime.is_cpu()


@functools.lru_cache(maxsize=None)
def init(in_dtype: np.dtype, runs: bool, rows: bool, by_value: bool = False):
    """``(a, lab, zero)``: the starting labels: 0 where ``a == zero``, else the element's
    own flat position + 1, or -- ``runs`` (the structure connects row neighbours) in the
    ``rows`` layout, where rows are walked serially -- the position + 1 of the first element of
    its run of nonzero elements along the row (a root: runs start merged). NaN counts as
    nonzero.

    ``zero`` is a run-time 0 of the input's dtype (Mesa's Vulkan miscompiles 64-bit
    comparisons with constants). ``by_value``: a run also ends where the value changes
    (components of equal values, :func:`sweep`'s ``by_value``)."""
    t_in = ti_dtype(in_dtype)
    serial = rows and runs
    nonzero = nonzero_func(in_dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t_in), lab: ND1(dtype=ti.i32), zero: t_in):
        n1, n2 = a.shape[1], a.shape[2]
        if ti.static(serial):
            for i, j in ti.ndrange(a.shape[0], n1):
                base = (i * n1 + j) * n2
                run = 0  # label of the current run (0: none)
                prev = zero
                for l in range(n2):
                    x = a[i, j, l]
                    fg = ti.cast(nonzero(x, zero), ti.i32)
                    if ti.static(by_value):
                        fg_run = ti.cast(run != 0, ti.i32) & ti.cast(x == prev, ti.i32)
                        run = ti.select(fg != 0, ti.select(fg_run != 0, run, base + l + 1), 0)
                        prev = x
                    else:
                        run = ti.select(fg != 0, ti.select(run != 0, run, base + l + 1), 0)
                    lab[base + l] = run
        else:
            for i, j, l in ti.ndrange(a.shape[0], n1, n2):
                f = (i * n1 + j) * n2 + l
                lab[f] = ti.select(nonzero(a[i, j, l], zero), f + 1, 0)
    return kern


def backward(offsets: tuple) -> tuple:
    """The offsets that point backwards in raster order (a symmetric structure's other
    half is their negation): a sweep looks at each neighbour pair once, from its later
    element."""
    return tuple(o for o in offsets if o < (0, 0, 0))


@functools.lru_cache(maxsize=None)
def sweep(offsets: tuple, rows: bool, value_dtype: np.dtype | None = None):
    """One hook + jump sweep over neighbours at ``offsets`` (3-D tuples of a symmetric
    structure; (0, 0, 0) and the forward half are ignored: each pair is handled once).

    Signature ``(a, lab, n0: i32, n1: i32, n2: i32, flag, stamp: i32)``: ``a`` the image
    (``by_value``) or any 3-D int32 buffer (not read); ``lab`` the 1-D
    working labels of an ``n0 x n1 x n2`` image; ``stamp`` is stored in ``flag[0]`` when
    anything changed (:mod:`medkern.kernels.propagate`). A sweep that changes nothing
    writes nothing, so it saw every neighbour pair with equal labels: the fixed point.

    ``value_dtype`` (components of equal values, ``skimage.measure.label``'s notion): only
    neighbours holding the same value connect (``a`` is then read).
    """
    serial = rows
    back = backward(offsets)
    by_value = value_dtype is not None
    t_val = ti_dtype(np.dtype(value_dtype)) if by_value else ti.i32

    @ti.func
    def lower(lab: ti.template(), k, value):
        if lab[k] > value:  # a plain read first: most entries are low enough already
            ti.atomic_min(lab[k], value)

    @ti.func
    def neighbour(n1, n2, i, j, l, f, k: ti.template()):
        """Flat index of backward neighbour ``k`` of element f, or f itself outside the
        image. Branch-free: foreground and background alternate unpredictably, and
        mispredicted branches cost more than the reads (with the read-only row check, a
        no-change sweep of a random 256^3 mask went from 250-400 ms to 10-20 ms on 2
        cores)."""
        di, dj, dl = ti.static(back[k])
        inside = 1
        # only the axes an offset moves along need a bounds check
        if ti.static(di != 0):
            inside &= ti.cast(i + di >= 0, ti.i32)
        if ti.static(dj < 0):
            inside &= ti.cast(j + dj >= 0, ti.i32)
        if ti.static(dj > 0):
            inside &= ti.cast(j + dj < n1, ti.i32)
        if ti.static(dl < 0):
            inside &= ti.cast(l + dl >= 0, ti.i32)
        if ti.static(dl > 0):
            inside &= ti.cast(l + dl < n2, ti.i32)
        return ti.select(inside != 0, f + (di * n1 + dj) * n2 + dl, f)

    @ti.func
    def same(a: ti.template(), i, j, l, f, g, k: ti.template()):
        """1 if element f = (i, j, l) and its backward neighbour ``k`` (element g, which
        :func:`neighbour` makes f itself outside the image) hold the same value; always 1
        unless ``by_value``. The neighbour's coordinates are the static offset's, zeroed
        outside the image: no division by the row lengths."""
        r = 1
        if ti.static(by_value):
            di, dj, dl = ti.static(back[k])
            o = ti.cast(g != f, ti.i32)
            r = ti.cast(a[i + di * o, j + dj * o, l + dl * o] == a[i, j, l], ti.i32)
        return r

    @ti.func
    def differs(a: ti.template(), lab: ti.template(), n1, n2, i, j, l, f):
        """1 if element f and one of its backward neighbours are foreground with different
        labels, else 0; reads only. Branch-free: foreground and background alternate
        unpredictably, and mispredicted branches cost more than the reads."""
        v = lab[f]
        d = 0
        for k in ti.static(range(len(back))):
            g = neighbour(n1, n2, i, j, l, f, k)
            w = lab[g]
            d |= ti.cast(w != v, ti.i32) & ti.cast(w > 0, ti.i32) & same(a, i, j, l, f, g, k)
        return d & ti.cast(v > 0, ti.i32)

    @ti.func
    def hook(a: ti.template(), lab: ti.template(), n1, n2, i, j, l, f):
        """Merge element f with its backward neighbours."""
        v = lab[f]
        if v > 0:
            for k in ti.static(range(len(back))):
                g = neighbour(n1, n2, i, j, l, f, k)
                w = lab[g]
                if w > 0 and w != v and same(a, i, j, l, f, g, k) != 0:
                    lo, hi = ti.min(v, w), ti.max(v, w)
                    lower(lab, hi - 1, lo)  # the larger label's representative
                    if v > lo:
                        lower(lab, f, lo)
                        v = lo
                    else:
                        lower(lab, g, lo)

    @ti.func
    def root_of(lab: ti.template(), v):
        """The root of label v's chain (0 for the background), walking without a branch on
        v: the background reads lab[0] and stops."""
        r = v
        p = lab[ti.max(r - 1, 0)]
        # entries are <= their position + 1 and roots equal it: the walk ends
        while (ti.cast(p != r, ti.i32) & ti.cast(r > 0, ti.i32)) != 0:
            r = p
            p = lab[r - 1]
        return r

    @ti.func
    def jump(lab: ti.template(), f):
        """Point element f at the root of its chain; 1 if its entry changed."""
        v = lab[f]
        r = root_of(lab, v)
        if r != v:
            lab[f] = r
        return ti.cast(r != v, ti.i32)

    @ti.kernel
    def kern(a: ND3(dtype=t_val), lab: ND1(dtype=ti.i32), n0: ti.i32, n1: ti.i32, n2: ti.i32,
             flag: ND1(dtype=ti.i32), stamp: ti.i32):
        if ti.static(serial):
            # each row is first checked by a loop that only reads (vectorised: a settled
            # row costs ~1/6 of a loop that may store), and merged only if it must be
            for i, j in ti.ndrange(n0, n1):
                base = (i * n1 + j) * n2
                d = 0
                for l in range(n2):
                    d |= differs(a, lab, n1, n2, i, j, l, base + l)
                if d != 0:
                    for l in range(n2):
                        hook(a, lab, n1, n2, i, j, l, base + l)
                    mark(flag, stamp)
            for i, j in ti.ndrange(n0, n1):
                base = (i * n1 + j) * n2
                d = 0
                for l in range(n2):
                    v = lab[base + l]
                    d |= ti.cast(lab[ti.max(v - 1, 0)] != v, ti.i32) & ti.cast(v > 0, ti.i32)
                if d != 0:
                    for l in range(n2):
                        jump(lab, base + l)
                    mark(flag, stamp)
        else:
            for i, j, l in ti.ndrange(n0, n1, n2):
                f = (i * n1 + j) * n2 + l
                if differs(a, lab, n1, n2, i, j, l, f) != 0:
                    hook(a, lab, n1, n2, i, j, l, f)
                    mark(flag, stamp)
            for f in range(lab.shape[0]):
                if jump(lab, f) != 0:
                    mark(flag, stamp)
    return kern


# --------------------------------------------------------------------------- marks
@functools.lru_cache(maxsize=None)
def mark_border(use_mask: bool):
    """``(lab, marks, mask, n0, n1, n2, e0, e1, e2)``: ``marks[lab[f]] = 1`` for every
    element f in the border zone -- within ``e_k`` elements of either end of axis k
    (``e_k = 0``: the axis has no border) or, ``use_mask``, where ``mask`` is 0. ``lab``
    holds component roots (:func:`sweep`), so ``marks[r]`` says component r touches the
    border and ``marks[0]`` that background does; ``marks`` has ``size + 1`` entries."""
    @ti.kernel
    def kern(lab: ND1(dtype=ti.i32), marks: ND1(dtype=ti.i32), mask: ND3(dtype=ti.u8),
             n0: ti.i32, n1: ti.i32, n2: ti.i32, e0: ti.i32, e1: ti.i32, e2: ti.i32):
        for i, j, l in ti.ndrange(n0, n1, n2):
            border = 0
            if ti.static(use_mask):
                border = ti.cast(mask[i, j, l] == 0, ti.i32)
            else:
                border = (ti.cast(i < e0, ti.i32) | ti.cast(i >= n0 - e0, ti.i32)
                          | ti.cast(j < e1, ti.i32) | ti.cast(j >= n1 - e1, ti.i32)
                          | ti.cast(l < e2, ti.i32) | ti.cast(l >= n2 - e2, ti.i32))
            if border != 0:
                marks[lab[(i * n1 + j) * n2 + l]] = 1  # one value for every writer
    return kern


@functools.lru_cache(maxsize=None)
def clear_marked(dtype: np.dtype):
    """``(a, lab, marks, out, fill)``: ``out = fill`` where the element's component (or,
    for the background, ``marks[0]``) is marked, else ``a``."""
    t = ti_dtype(dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t), lab: ND1(dtype=ti.i32), marks: ND1(dtype=ti.i32),
             out: ND3(dtype=t), fill: t):
        n1, n2 = a.shape[1], a.shape[2]
        for i, j, l in ti.ndrange(a.shape[0], n1, n2):
            hit = marks[lab[(i * n1 + j) * n2 + l]]
            out[i, j, l] = ti.select(hit != 0, fill, a[i, j, l])
    return kern
