"""Atomic scatter: per-label reductions over a label image (the building block of
``scipy.ndimage``'s ``labels=``/``index=`` measurements, and of later region work).

Two steps, each one kernel:

1. :func:`label_bins` maps every label value to a dense *bin* (``0 .. L-1``) or ``-1``
   (not measured), writing an int32 bin image of the input's shape. Three lookups,
   chosen per call at run time (one specialisation per label dtype): every positive
   label -> bin 0 (SciPy's ``index=None``); a dense table over a small label range
   (``table[v - lo]``); a binary search in the sorted list of wanted labels (any
   range: labels up to 2**63, uint64 too, a million wanted labels). Each thread walks
   a stretch of consecutive elements and looks a value up only where it differs from
   the previous one, so label images made of regions cost about one lookup per run.
2. :func:`region_reduce` folds the elements of each bin: sums, counts, min/max keys,
   first positions... (see :data:`KINDS`). Elements are folded into a run accumulator
   while their bin stays the same and the run is *flushed* into the bin's totals when
   it changes, so atomics (or slot writes) happen per run, not per element.
   :func:`region_histogram` counts equal-width bins per label.

Layouts of :func:`region_reduce` (:func:`default_layout` picks one per arch and kind):

* ``"slots"`` (CPU, deterministic): ``S`` slots each own a contiguous block of rows,
  walk it serially and fold into their own totals (plain stores, no atomics); the
  caller combines the slots in a fixed order, so float sums are the same on every
  run (and machine: ``S`` depends only on the shape and the number of bins).
* ``"rows"`` (CPU, atomic): one thread per row, flushes are atomic updates of one
  set of totals. Integer totals (counts, integer sums, min/max keys, positions) are
  exact and order-free whatever the layout; float64 sums depend on the order the
  flushes land in.
* ``"unrolled"`` (GPUs): one thread per stretch of :data:`UNROLL` consecutive
  elements, unrolled (integer atomics inside a run-time inner loop are miscompiled
  by Mesa's software Vulkan: the loop stops after its first step), atomic flushes.

Min/max work on integer *keys* ordered like the values: floats map to their bit
patterns with the magnitude bits of negatives flipped, NaN to the largest key (after
every number, as ``np.sort`` orders it) and -0.0 to the key of 0.0; integers to
themselves. Keys are int64 (uint64 for uint64 data), as are counts, integer sums and
positions, so integer atomics (exact, order-free) do all the min/max work.
"""

import functools

import numpy as np
import taichi as ti

from .. import runtime
from ..arrays import ti_dtype
from .dsl import numpy_bin

ND3 = functools.partial(ti.types.ndarray, ndim=3)
ND1 = functools.partial(ti.types.ndarray, ndim=1)

#: Lookups of :func:`label_bins` (the ``mode`` argument).
POSITIVE, DENSE, SEARCH = 0, 1, 2
#: Elements a GPU thread folds in the ``unrolled`` layout (a run within them is flushed once).
UNROLL = 8
#: Consecutive elements a GPU thread maps in :func:`label_bins` (one lookup per run).
GPU_CHUNK = 32
#: Bytes the ``slots`` layout may spend on per-slot totals, and its most slots.
SLOT_BYTES = 256 << 20
MAX_SLOTS = 64


def wide_dtype(dtype: np.dtype) -> np.dtype:
    """The integer dtype label values, keys, counts and integer sums live in: uint64 for
    uint64 data, int64 for everything else."""
    return np.dtype(np.uint64) if np.dtype(dtype) == np.uint64 else np.dtype(np.int64)


def default_chunk(n2: int) -> int:
    """Elements one thread maps in :func:`label_bins`: a whole row on the CPU, else 32."""
    return max(int(n2), 1) if runtime.is_cpu() else GPU_CHUNK


def default_layout(kind: str, in_dtype: np.dtype) -> str:
    """``"slots"`` on the CPU for kinds with float totals (deterministic sums),
    ``"rows"`` on the CPU otherwise (integer atomics are exact), ``"unrolled"`` on GPUs."""
    if not runtime.is_cpu():
        return "unrolled"
    return "slots" if kind_ops(kind, in_dtype)[0] else "rows"


def slot_count(rows: int, bins: int, per_bin: int) -> int:
    """Slots for the ``slots`` layout: at most :data:`MAX_SLOTS` and one per row, with
    ``S * bins * per_bin * 8`` bytes within :data:`SLOT_BYTES` (0: too many bins, use
    the ``rows`` layout)."""
    fit = SLOT_BYTES // max(1, 8 * bins * max(per_bin, 1))
    s = min(MAX_SLOTS, int(rows), int(fit))
    return s if s >= 4 or s >= rows else 0


# --------------------------------------------------------------------------- keys
def _key_func(in_dtype: np.dtype):
    """``key(v)``: an int64/uint64 ordered like ``v`` (NaN last, -0.0 as 0.0)."""
    dt = np.dtype(in_dtype)
    t_key = ti_dtype(wide_dtype(dt))
    if dt.kind != "f":
        @ti.func
        def key(v):
            return ti.cast(v, t_key)
        return key
    bits = ti.i32 if dt == np.float32 else ti.i64
    flip = (1 << (8 * dt.itemsize - 1)) - 1  # every bit but the sign
    shift = 8 * dt.itemsize - 1

    @ti.func
    def fkey(v):
        b = ti.bit_cast(v, bits)
        # negatives: flip the magnitude bits (an arithmetic shift spreads the sign; no
        # comparison of a 64-bit integer with a constant, which Mesa's Vulkan miscompiles)
        k = b ^ ((b >> shift) & bits(flip))
        k = ti.select(v == 0, bits(0), k)  # -0.0 and 0.0: one key
        k = ti.select(ti.math.isnan(v), bits(flip), k)
        return ti.cast(k, t_key)
    return fkey


def keys_to_values(keys: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The values of ``dtype`` whose keys are ``keys`` (host side of :func:`_key_func`)."""
    dt = np.dtype(dtype)
    if dt.kind != "f":
        return keys.astype(dt)
    bits = np.int32 if dt == np.float32 else np.int64
    flip = bits((1 << (8 * dt.itemsize - 1)) - 1)
    k = keys.astype(bits)
    return np.where(k < 0, k ^ flip, k).astype(bits).view(dt)


def value_keys(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Keys (int64/uint64) of host values of ``dtype`` (NaN last, -0.0 as 0.0)."""
    dt = np.dtype(dtype)
    v = np.asarray(values, dtype=dt)
    if dt.kind != "f":
        return v.astype(wide_dtype(dt))
    bits = np.int32 if dt == np.float32 else np.int64
    flip = bits((1 << (8 * dt.itemsize - 1)) - 1)
    b = v.view(bits)
    k = np.where(b < 0, b ^ flip, b)
    k = np.where(v == 0, bits(0), k)
    k = np.where(np.isnan(v), flip, k)
    return k.astype(np.int64)


# --------------------------------------------------------------------------- label -> bin
@functools.lru_cache(maxsize=None)
def label_bins(label_dtype: np.dtype):
    """Bin image of a label image: ``bins[I] = bin of labels[I]`` or -1.

    Signature ``(labels, bins, mode: i32, lo, dense, table, chunk: i32)``: ``bins`` an
    int32 buffer of the labels' shape; ``mode`` one of :data:`POSITIVE` (label > ``lo`` -> 0:
    pass ``lo=0``), :data:`DENSE` (``lo <= v < lo + len(dense)`` -> ``dense[v - lo]``, an int32
    table holding -1 for unwanted values) or :data:`SEARCH` (``v`` found in ``table``,
    the sorted wanted values in the wide dtype -> its position). ``lo`` and ``table``
    are in :func:`wide_dtype` of the labels (bool labels arrive as uint8). Unused
    tables may be any 1-element buffer of their dtype.
    """
    wide_np = wide_dtype(label_dtype)
    t_lab, t_wide = ti_dtype(label_dtype), ti_dtype(wide_np)

    @ti.func
    def lookup(v, mode, lo, dense: ti.template(), table: ti.template()):
        b = -1
        if mode == POSITIVE:  # lo is 0 here: 64-bit comparisons with constants are
            if v > lo:  # miscompiled by Mesa's Vulkan, with run-time values they are not
                b = 0
        elif mode == DENSE:
            if v >= lo:
                off = v - lo
                if off < ti.cast(dense.shape[0], t_wide):
                    b = dense[ti.cast(off, ti.i32)]
        else:
            p, q = 0, table.shape[0] - 1
            while p <= q:
                m = (p + q) // 2
                t = table[m]
                if t == v:
                    b = m
                    p = q + 1
                elif t < v:
                    p = m + 1
                else:
                    q = m - 1
        return b

    @ti.kernel
    def kern(labels: ND3(dtype=t_lab), bins: ND3(dtype=ti.i32), mode: ti.i32, lo: t_wide,
             dense: ND1(dtype=ti.i32), table: ND1(dtype=t_wide), chunk: ti.i32):
        n0, n1, n2 = labels.shape[0], labels.shape[1], labels.shape[2]
        nch = (n2 + chunk - 1) // chunk
        for i, j, c in ti.ndrange(n0, n1, nch):
            prev = lo
            b = -1
            have = False
            for l in range(c * chunk, ti.min(c * chunk + chunk, n2)):
                v = ti.cast(labels[i, j, l], t_wide)
                if not have or v != prev:
                    b = lookup(v, mode, lo, dense, table)
                    prev = v
                    have = True
                bins[i, j, l] = b
    return kern


@functools.lru_cache(maxsize=None)
def fill_bins():
    """``(bins, value: i32)``: every element of an int32 buffer set to ``value``."""
    @ti.kernel
    def kern(bins: ND3(dtype=ti.i32), value: ti.i32):
        for I in ti.grouped(bins):
            bins[I] = value
    return kern


# --------------------------------------------------------------------------- reductions
#: What :func:`region_reduce` folds per bin, as (float totals, integer totals), each a
#: tuple of the operation combining a run into the totals ("add", "min", "max"):
#:
#: ``moments``  float data: (sum,) / (count,); integer data: () or, for 64-bit
#:              integers, (float64 sum,) / (count, exact wrapping sum)
#: ``centered`` (sum of (x - pf[b])**2,) / (): the second pass of the variance
#: ``com``      (sum x*i0, sum x*i1, sum x*i2) / (): centre-of-mass numerators
#: ``minmax``   () / (count, min key, max key)
#: ``argext``   () / (first flat index whose key is pi[2b], ... is pi[2b+1])
#: ``extent``   () / (count, min i0, max i0, min i1, max i1, min i2, max i2, sum i0,
#:              sum i1, sum i2): bounding boxes and centroids (the data's values are
#:              not read: the labels themselves may be the data)
KINDS = ("moments", "centered", "com", "minmax", "argext", "extent")


def kind_ops(kind: str, in_dtype: np.dtype) -> tuple[tuple, tuple]:
    """``(float ops, integer ops)`` of a reduction kind for data of ``in_dtype``."""
    dt = np.dtype(in_dtype)
    if kind == "moments":
        if dt.kind == "f":
            return ("add",), ("add",)
        return (("add",) if dt.itemsize == 8 else ()), ("add", "add")
    if kind == "centered":
        return ("add",), ()
    if kind == "com":
        return ("add", "add", "add"), ()
    if kind == "minmax":
        return (), ("add", "min", "max")
    if kind == "argext":
        return (), ("min", "min")
    if kind == "extent":
        return (), ("add",) + ("min", "max") * 3 + ("add",) * 3
    raise ValueError(f"unknown reduction kind {kind!r}")


def op_identity(op: str, dtype: np.dtype):
    """The start value of a total combined with ``op`` (0, the type's max or min)."""
    dt = np.dtype(dtype)
    if op == "add":
        return 0
    info = np.iinfo(dt) if dt.kind in "iu" else None
    if op == "min":
        return info.max if info is not None else np.inf
    return info.min if info is not None else -np.inf


@functools.lru_cache(maxsize=None)
def region_reduce(kind: str, in_dtype: np.dtype, layout: str):
    """Per-bin totals of one reduction ``kind`` (:data:`KINDS`) over a bin image.

    Signature ``(a, bins, pf, pi, ident, outf, outi, n: i32)``:

    * ``a`` the data (3-D buffer), ``bins`` its int32 bin image (-1: skipped);
    * ``pf`` (float64) and ``pi`` (:func:`wide_dtype`) 1-D per-bin parameters: the
      means for ``centered`` (``pf[b]``), the target keys for ``argext``
      (``pi[2b]``, ``pi[2b + 1]``); any 1-element buffer otherwise;
    * ``ident`` (wide dtype) the :func:`op_identity` of each integer total: passed at run
      time, as Mesa's Vulkan miscompiles comparisons of 64-bit integers with constants;
    * ``outf`` float64 ``(S, L, NF)`` and ``outi`` wide-dtype ``(S, L, NI)`` totals,
      ``NF``/``NI`` the lengths of :func:`kind_ops` (a 1-element buffer where 0),
      filled by the caller with :func:`op_identity`;
    * ``n``: for ``layout="slots"`` the number of slots ``S`` (slot ``s`` walks rows
      ``s * R // S`` to ``(s + 1) * R // S``, ``R = n0 * n1``); unused otherwise
      (``S`` = 1, atomic updates).
    """
    dt = np.dtype(in_dtype)
    ops_f, ops_i = kind_ops(kind, dt)
    NF, NI = len(ops_f), len(ops_i)
    wide_np = wide_dtype(dt)
    t_in, t_int = ti_dtype(dt), ti_dtype(wide_np)
    key = _key_func(dt)
    init_f = [0.0] * max(NF, 1)
    NIV = max(NI, 1)

    @ti.func
    def contrib_f(x, i, j, l, b, pf: ti.template()):
        v = ti.Vector(init_f, dt=ti.f64)
        xf = ti.cast(x, ti.f64)
        if ti.static(kind == "moments" and NF == 1):
            v[0] = xf
        elif ti.static(kind == "centered"):
            d = xf - pf[b]
            v[0] = d * d
        elif ti.static(kind == "com"):
            v[0] = xf * ti.cast(i, ti.f64)
            v[1] = xf * ti.cast(j, ti.f64)
            v[2] = xf * ti.cast(l, ti.f64)
        return v

    @ti.func
    def contrib_i(x, flat, i, j, l, b, pi: ti.template(), idv):
        v = idv
        if ti.static(kind == "moments"):
            v[0] = t_int(1)
            if ti.static(NI == 2):
                v[1] = ti.cast(x, t_int)
        elif ti.static(kind == "minmax"):
            k = key(x)
            v[0] = t_int(1)
            v[1] = k
            v[2] = k
        elif ti.static(kind == "extent"):
            v[0] = t_int(1)
            pi0, pi1, pi2 = ti.cast(i, t_int), ti.cast(j, t_int), ti.cast(l, t_int)
            v[1], v[2], v[7] = pi0, pi0, pi0
            v[3], v[4], v[8] = pi1, pi1, pi1
            v[5], v[6], v[9] = pi2, pi2, pi2
        elif ti.static(kind == "argext"):
            k = key(x)
            f = ti.cast(flat, t_int)
            if k == pi[2 * b]:
                v[0] = f
            if k == pi[2 * b + 1]:
                v[1] = f
        return v

    @ti.func
    def fold(acc: ti.template(), v: ti.template(), ops: ti.template()):
        for k in ti.static(range(len(ops))):
            if ti.static(ops[k] == "add"):
                acc[k] += v[k]
            elif ti.static(ops[k] == "min"):
                if v[k] < acc[k]:
                    acc[k] = v[k]
            else:
                if v[k] > acc[k]:
                    acc[k] = v[k]

    @ti.func
    def flush(out: ti.template(), s, b, acc: ti.template(), ops: ti.template()):
        for k in ti.static(range(len(ops))):
            if ti.static(layout == "slots"):  # this slot's own totals: plain read-modify-write
                t = out[s, b, k]
                if ti.static(ops[k] == "add"):
                    t += acc[k]
                elif ti.static(ops[k] == "min"):
                    if acc[k] < t:
                        t = acc[k]
                else:
                    if acc[k] > t:
                        t = acc[k]
                out[s, b, k] = t
            else:
                if ti.static(ops[k] == "add"):
                    ti.atomic_add(out[0, b, k], acc[k])
                elif ti.static(ops[k] == "min"):
                    ti.atomic_min(out[0, b, k], acc[k])
                else:
                    ti.atomic_max(out[0, b, k], acc[k])

    @ti.func
    def identities(ident: ti.template()):
        return ti.Vector([ident[k] for k in ti.static(range(NIV))], dt=t_int)

    # a walker's state: the bin of the current run and the run's totals
    State = ti.types.struct(cur=ti.i32, accf=ti.types.vector(len(init_f), ti.f64),
                            acci=ti.types.vector(NIV, t_int))

    @ti.func
    def fresh(idv):
        return State(cur=-1, accf=ti.Vector(init_f, dt=ti.f64), acci=idv)

    @ti.func
    def finish(outf: ti.template(), outi: ti.template(), s, state: ti.template()):
        if state.cur >= 0:
            if ti.static(NF > 0):
                flush(outf, s, state.cur, state.accf, ops_f)
            if ti.static(NI > 0):
                flush(outi, s, state.cur, state.acci, ops_i)

    @ti.func
    def step(a: ti.template(), bins: ti.template(), pf: ti.template(), pi: ti.template(),
             outf: ti.template(), outi: ti.template(), s, i, j, l, idv, state: ti.template()):
        """Fold element (i, j, l) into the run, flushing the run first if its bin differs."""
        b = bins[i, j, l]
        if b != state.cur:
            finish(outf, outi, s, state)
            state.cur = b
            state.accf = ti.Vector(init_f, dt=ti.f64)
            state.acci = idv
        if b >= 0:
            x = a[i, j, l]
            if ti.static(NF > 0):
                fold(state.accf, contrib_f(x, i, j, l, b, pf), ops_f)
            if ti.static(NI > 0):
                flat = (ti.cast(i, ti.i64) * a.shape[1] + j) * a.shape[2] + l
                fold(state.acci, contrib_i(x, flat, i, j, l, b, pi, idv), ops_i)

    if layout == "slots":
        @ti.kernel
        def kern(a: ND3(dtype=t_in), bins: ND3(dtype=ti.i32), pf: ND1(dtype=ti.f64),
                 pi: ND1(dtype=t_int), ident: ND1(dtype=t_int), outf: ND3(dtype=ti.f64),
                 outi: ND3(dtype=t_int), n: ti.i32):
            n1, n2 = a.shape[1], a.shape[2]
            rows = ti.cast(a.shape[0], ti.i64) * n1
            ti.loop_config(block_dim=1)  # slots handed out one at a time: threads balance
            for s in range(n):
                r0 = ti.cast(s * rows // n, ti.i32)
                r1 = ti.cast((s + 1) * rows // n, ti.i32)
                idv = identities(ident)
                state = fresh(idv)  # runs continue across the rows of a slot
                for r in range(r0, r1):
                    i, j = r // n1, r % n1  # once per row
                    for l in range(n2):
                        step(a, bins, pf, pi, outf, outi, s, i, j, l, idv, state)
                finish(outf, outi, s, state)
    elif layout == "rows":
        @ti.kernel
        def kern(a: ND3(dtype=t_in), bins: ND3(dtype=ti.i32), pf: ND1(dtype=ti.f64),
                 pi: ND1(dtype=t_int), ident: ND1(dtype=t_int), outf: ND3(dtype=ti.f64),
                 outi: ND3(dtype=t_int), n: ti.i32):
            for i, j in ti.ndrange(a.shape[0], a.shape[1]):
                idv = identities(ident)
                state = fresh(idv)
                for l in range(a.shape[2]):
                    step(a, bins, pf, pi, outf, outi, 0, i, j, l, idv, state)
                finish(outf, outi, 0, state)
    else:  # "unrolled": a static stretch per thread (integer atomics inside a dynamic
        # inner loop are miscompiled on Mesa's Vulkan: the loop stops after one step)
        @ti.kernel
        def kern(a: ND3(dtype=t_in), bins: ND3(dtype=ti.i32), pf: ND1(dtype=ti.f64),
                 pi: ND1(dtype=t_int), ident: ND1(dtype=t_int), outf: ND3(dtype=ti.f64),
                 outi: ND3(dtype=t_int), n: ti.i32):
            n2 = a.shape[2]
            for i, j, c in ti.ndrange(a.shape[0], a.shape[1], (n2 + UNROLL - 1) // UNROLL):
                idv = identities(ident)
                state = fresh(idv)
                for u in ti.static(range(UNROLL)):
                    l = c * UNROLL + u
                    if l < n2:
                        step(a, bins, pf, pi, outf, outi, 0, i, j, l, idv, state)
                finish(outf, outi, 0, state)
    return kern


@functools.lru_cache(maxsize=None)
def region_histogram(in_dtype: np.dtype):
    """Equal-width histogram per bin, with numpy's (and :func:`dsl.histogram`'s) edge rules.

    Signature ``(a, bins, edges, counts, lo: f64, norm: f64)``: ``edges`` the
    ``nb + 1`` float64 edges, ``counts`` an int64 buffer of ``L * (nb + 1)`` zeros:
    ``counts[b * (nb + 1) + k]`` counts bin ``k`` of label bin ``b``, and entry ``nb``
    the elements of ``b`` not counted (outside the edges, NaN), so that a label's
    presence is known. A value's bin is ``(x - lo) * norm`` corrected against the edges
    as ``np.histogram`` does; the last bin is closed. Counts are integer atomics: exact
    on every arch.
    """
    t_in = ti_dtype(in_dtype)
    serial = runtime.is_cpu()

    @ti.func
    def one(a: ti.template(), bins: ti.template(), edges: ti.template(), counts: ti.template(),
            lo, norm, i, j, l):
        b = bins[i, j, l]
        if b >= 0:
            nb = edges.shape[0] - 1
            first, last = edges[0], edges[nb]
            x = ti.cast(a[i, j, l], ti.f64)
            k = nb  # not counted
            if x >= first and x <= last:
                k = numpy_bin(x, edges, nb, lo, norm)
            ti.atomic_add(counts[ti.cast(b, ti.i64) * (nb + 1) + k], ti.i64(1))

    @ti.kernel
    def kern(a: ND3(dtype=t_in), bins: ND3(dtype=ti.i32), edges: ND1(dtype=ti.f64),
             counts: ND1(dtype=ti.i64), lo: ti.f64, norm: ti.f64):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        if ti.static(serial):
            for i, j in ti.ndrange(n0, n1):
                for l in range(n2):
                    one(a, bins, edges, counts, lo, norm, i, j, l)
        else:
            for i, j, l in ti.ndrange(n0, n1, n2):
                one(a, bins, edges, counts, lo, norm, i, j, l)
    return kern


@functools.lru_cache(maxsize=None)
def bins_to_labels(out_dtype: np.dtype):
    """``(bins, out, offset: i64, u64 for uint64 out)``: ``out = bins + offset`` where ``bins >= 0``, else 0, in
    ``out``'s dtype (a bin image renumbered: bins are the wanted labels' ranks, so this
    relabels sequentially; with one bin and offset 1 it is that label's mask)."""
    t_out = ti_dtype(out_dtype)
    # uint64 labels may lie beyond int64 (an offset near 2**63): add in uint64 then
    t_acc = ti.u64 if np.dtype(out_dtype) == np.uint64 else ti.i64

    @ti.kernel
    def kern(bins: ND3(dtype=ti.i32), out: ND3(dtype=t_out), offset: t_acc):
        for I in ti.grouped(bins):
            b = bins[I]
            out[I] = ti.cast(ti.select(b >= 0, ti.cast(b, t_acc) + offset, ti.cast(0, t_acc)),
                             t_out)
    return kern
