"""Kernel generators: write a kernel once, get one compiled specialisation per key.

Every generator returns a compiled-on-first-call Taichi kernel specialised for
its arguments (dtypes, boundary mode, footprint, weights, axis...) and cached
by them, so the second call with the same key costs one launch. All kernels
work on 3-D buffers (see :mod:`medkern.arrays`): 1-D and 2-D data arrive with
leading axes of length 1, which is how one kernel serves 1-3 D.

Loop layout is chosen per arch at generation time:

* CPU: the two outer axes run in parallel and the last (contiguous) axis is
  an inner serial loop, so each thread streams whole rows through the cache and
  per-row work (boundary index maps along outer axes) is hoisted out of the row;
* GPU: one flat parallel loop over all elements (coalesced accesses).

Generators
----------
``pointwise(fn, in_dtypes, out_dtype)``      element-wise map of 1 or 2 inputs
``correlate1d(weights, axis, mode, ...)``    1-D correlation along an axis
``running_mean1d(size, axis, mode, ...)``    SciPy's running-sum uniform filter
``extremum1d(size, axis, mode, ...)``        1-D min/max along an axis
``stencil_fold(offsets, weights, ...)``      fold (sum/min/max) over a footprint
``stencil_select(offsets, rank, ...)``       rank (order statistic) over a footprint
``stencil_map(offsets, fn, ...)``            any ``ti.func`` of the window's values
``reduce(op, dtype)``                        row-wise sum / min / max / NaN count
``histogram(dtype)``                         equal-width bins, numpy's edge rules
"""

import functools
from typing import Callable

import numpy as np
import taichi as ti

from .. import runtime
from ..arrays import _TI_NAMES as _TI_NAME, ti_dtype
from .boundary import index_map

ND3 = functools.partial(ti.types.ndarray, ndim=3)


def _is_int(dtype: np.dtype) -> bool:
    return np.dtype(dtype).kind in "iu"


#: float -> integer conversions go through a 32-bit signed integer for these outputs and
#: through a 64-bit one for the others (uint32, int64), as x86-64 compilers emit SciPy's
#: C casts; an out-of-range value (or NaN) becomes that integer's minimum ("integer
#: indefinite"), whose low bits the narrower types keep.
_VIA_INT32 = frozenset(np.dtype(t) for t in (np.int8, np.uint8, np.int16, np.uint16, np.int32))


def converter(src: np.dtype, dst: np.dtype) -> Callable:
    """A ``ti.func`` storing a ``src`` value as ``dst`` with SciPy's C cast results.

    float -> integer truncates toward zero through a 32-bit (int8 ... int32 outputs) or
    64-bit (uint32, int64) signed integer and keeps the low bits; a value outside that
    integer's range, or NaN, gives its minimum first (so 3e9 -> int32 is -2**31, -> uint8
    0; 5e9 -> uint32 is 5e9 mod 2**32). uint64 from 2**63 up subtracts 2**63 first and adds
    it back. These are the results x86-64 builds of SciPy give (C leaves out-of-range casts
    undefined); written out here so every backend gives the same integers.
    """
    tdst = ti_dtype(dst)
    if not _is_int(src) and np.dtype(dst) == np.uint64:
        @ti.func
        def conv(v):
            x = ti.cast(v, ti.f64)  # a scalar or a LANES vector: select, not if
            big = ti.f64(9223372036854775808.0)
            hi_ok = x < ti.f64(18446744073709551616.0)
            lo_ok = x >= -big
            xs_hi = ti.select((x >= big) & hi_ok, x - big, ti.f64(0.0))
            xs_lo = ti.select(lo_ok & (x < big), x, ti.f64(0.0))
            high = ti.select(hi_ok, ti.cast(ti.cast(xs_hi, ti.i64), ti.u64)
                             + ti.u64(9223372036854775808), ti.u64(0))
            low = ti.select(lo_ok, ti.cast(ti.cast(xs_lo, ti.i64), ti.u64),
                            ti.u64(9223372036854775808))
            return ti.select(x >= big, high, low)
    elif not _is_int(src) and _is_int(dst):
        narrow = np.dtype(dst) in _VIA_INT32
        t_via = ti.i32 if narrow else ti.i64
        lo = -2147483649.0 if narrow else -9223372036854775808.0
        hi = 2147483648.0 if narrow else 9223372036854775808.0

        @ti.func
        def conv(v):
            x = ti.cast(v, ti.f64)  # a scalar or a LANES vector: select, not if
            ok = x < ti.f64(hi)  # False for NaN
            if ti.static(narrow):  # -2**31 - 0.5 truncates to -2**31: in range
                ok = ok & (x > ti.f64(lo))
            else:  # -2**63 is the last double in range
                ok = ok & (x >= ti.f64(lo))
            safe = ti.select(ok, x, ti.f64(0.0))
            t = ti.cast(safe, t_via)
            if ti.static(narrow):
                t = ti.select(ok, t, ti.i32(-2147483648))
            else:
                t = ti.select(ok, t, ti.i64(-9223372036854775808))
            return ti.cast(t, tdst)
    else:
        @ti.func
        def conv(v):
            return ti.cast(v, tdst)
    return conv


def _fuses() -> bool:
    """Whether the arch's compiler may fuse ``acc + w * v`` (GPUs: yes; the CPU arch
    runs with fast_math off). Fusing moves float64 results by an ulp, flips integer
    truncations, and turns an overflowing product into a finite sum: SciPy's order
    needs the barrier there, for every output dtype."""
    return not runtime.is_cpu()


def _rounding_barrier(enabled: bool):
    """``keep(p, live)``: ``p``, rounded on its own before it is added to a sum.

    GPU compilers may fuse ``acc + w * v`` into one FMA (one rounding where SciPy
    has two), which moves float64 results by an ulp and flips the truncation of
    integer outputs that land within an ulp of an integer. Passing the product
    through a select on a run-time condition (``live``: always true, unknown at
    compile time) keeps multiply and add separate.
    """
    if enabled:
        @ti.func
        def keep(p, live):
            return ti.select(live, p, ti.cast(0, ti.f64))
    else:
        @ti.func
        def keep(p, live):
            return p
    return keep


def nan_last_less(dtype: np.dtype) -> Callable:
    """``less(a, b)``: the strict order of ``np.sort`` -- NaN after every number.

    Rank filters order values with it, so NaN input (or ``cval=nan``) gives the
    same answer on every backend: a NaN is selected only where the wanted rank
    falls among the window's NaNs. Integers compare as usual.
    """
    if np.dtype(dtype).kind == "f":
        @ti.func
        def less(a, b):
            # bitwise, not `or`/`and`: short-circuit branches in an unrolled
            # network multiply the compile time
            return (a < b) | (ti.math.isnan(b) & ~ti.math.isnan(a))
    else:
        @ti.func
        def less(a, b):
            return a < b
    return less


def _serial_inner() -> bool:
    return runtime.is_cpu()


#: Threads Taichi's SPIR-V backend (1.7) launches for a parallel loop whose bounds are
#: known only at run time: a thread walks a grid-stride loop over ``ceil(n / GRID_THREADS)``
#: of the ``n`` items (measured on lavapipe: ``kMaxNumThreadsGridStrideLoop``, 65536 * 2).
GRID_THREADS = 131072


def steps_per_launch(items: int, cost: int = 1) -> int | None:
    """The most steps of a walk one launch may run when ``items`` walkers (lines, rows,
    elements) run in parallel, each step costing ``cost`` loop iterations: a thread runs
    ``ceil(items / GRID_THREADS)`` walkers and all their steps count against the arch's
    :func:`medkern.runtime.serial_budget` (Vulkan). None where there is no limit."""
    budget = runtime.serial_budget()
    if budget is None:
        return None
    per_thread = -(-max(int(items), 1) // GRID_THREADS)
    return max(1, budget // (per_thread * max(int(cost), 1)))


def check_walk(length: int, items: int, cost: int, what: str) -> None:
    """Refuse work that cannot be split into launches (its state is more than a few words)
    when ``length`` steps of ``cost`` loop iterations, for each of ``items`` walkers, are
    beyond one launch on the running arch (:func:`steps_per_launch`): a NotImplementedError
    naming ``what`` rather than the silently truncated result Mesa's software Vulkan gives."""
    most = steps_per_launch(items, cost)
    if most is not None and int(length) > most:
        raise NotImplementedError(
            f"{what} is more than one Vulkan launch can run ({int(length)} steps, at most "
            f"{most}: Mesa's software Vulkan ends a thread's loops after 65535 iterations "
            "without an error, and this work is not split into launches yet): use the CPU "
            "arch")


def step_ranges(total: int, items: int, cost: int = 1) -> list[tuple[int, int]]:
    """``[(t0, t1), ...]``: the steps ``0 .. total - 1`` of a walk in launches of at most
    :func:`steps_per_launch` steps (one range where there is no limit)."""
    step = steps_per_launch(items, cost) or max(int(total), 1)
    return [(t, min(t + step, total)) for t in range(0, max(int(total), 1), step)]


def element_ranges(n: int, cost: int) -> list[tuple[int, int]]:
    """``[(e0, e1), ...]``: the ``n`` elements of a parallel loop whose every element runs
    ``cost`` loop iterations (a run-time loop over a footprint's taps), in launches of so
    few elements that a thread's share (``ceil(count / GRID_THREADS)`` elements) fits the
    arch's :func:`medkern.runtime.serial_budget` (one range where there is no limit).

    lavapipe runs 8 threads in lockstep and counts the group's iterations: a loop in a
    branch some of them take runs for all, so ``cost`` counts the loops of every branch.
    An element costing more than the budget on its own is beyond any split."""
    budget = runtime.serial_budget()
    n = int(n)
    if budget is None:
        return [(0, n)]
    chunk = GRID_THREADS * max(1, budget // max(int(cost), 1))
    return [(e, min(e + chunk, n)) for e in range(0, max(n, 1), chunk)]


# --------------------------------------------------------------------------- pointwise
@functools.lru_cache(maxsize=None)
def pointwise(fn: Callable, in_dtypes: tuple, out_dtype: np.dtype, compute: np.dtype | None = None):
    """Element-wise ``out = fn(*inputs)`` over 3-D buffers of equal shape (1-3 inputs).

    ``fn`` is a ``ti.func`` taking the inputs cast to ``compute`` (default: the
    first input's dtype) and returning a value stored with :func:`converter`.
    """
    ct_np = np.dtype(compute or in_dtypes[0])
    ct = ti_dtype(ct_np)
    conv = converter(ct_np, out_dtype)
    t_out = ti_dtype(out_dtype)
    if len(in_dtypes) == 1:
        t_a = ti_dtype(in_dtypes[0])

        @ti.kernel
        def k1(a: ND3(dtype=t_a), out: ND3(dtype=t_out)):
            for I in ti.grouped(a):
                out[I] = conv(fn(ti.cast(a[I], ct)))
        return k1
    if len(in_dtypes) == 2:
        t_a, t_b = ti_dtype(in_dtypes[0]), ti_dtype(in_dtypes[1])

        @ti.kernel
        def k2(a: ND3(dtype=t_a), b: ND3(dtype=t_b), out: ND3(dtype=t_out)):
            for I in ti.grouped(a):
                out[I] = conv(fn(ti.cast(a[I], ct), ti.cast(b[I], ct)))
        return k2
    if len(in_dtypes) == 3:
        t_a, t_b, t_c = (ti_dtype(d) for d in in_dtypes)

        @ti.kernel
        def k3(a: ND3(dtype=t_a), b: ND3(dtype=t_b), c: ND3(dtype=t_c), out: ND3(dtype=t_out)):
            for I in ti.grouped(a):
                out[I] = conv(fn(ti.cast(a[I], ct), ti.cast(b[I], ct), ti.cast(c[I], ct)))
        return k3
    raise ValueError("pointwise supports 1 to 3 inputs")


# --------------------------------------------------------------------------- 1-D along an axis
def _axis_loader(axis: int, mode: str, ct):
    """``load(a, i, j, l, src, cvc)``: element ``src`` of the line through (i, j, l)
    along ``axis``, cast to ``ct``; ``src == -1`` (outside, constant mode) gives ``cvc``."""
    @ti.func
    def load(a: ti.template(), i, j, l, src, cvc):
        v = cvc
        if ti.static(mode != "constant") or src >= 0:
            if ti.static(axis == 0):
                v = ti.cast(a[src, j, l], ct)
            elif ti.static(axis == 1):
                v = ti.cast(a[i, src, l], ct)
            else:
                v = ti.cast(a[i, j, src], ct)
        return v
    return load



#: Outputs computed together by the CPU layout of ``correlate1d`` (one SIMD vector).
LANES = 4


#: Longest 1-D kernel whose taps are unrolled: 25 taps (a sigma-3 Gaussian) compile
#: in ~1 s; 97 (sigma 12) took 14 s, 401 (sigma 50) minutes.
UNROLL_MAX_TAPS = 25

#: Specialisations kept per generator (least recently used dropped): structure only
#: (sizes, dtypes, modes, axes) selects one, so a long session stays bounded.
KERNEL_CACHE = 256


def _symmetry(w: list) -> int:
    """1 symmetric, -1 antisymmetric (odd lengths, to DBL_EPSILON, as SciPy tests), else 0."""
    size = len(w)
    size1 = size // 2
    if size % 2 == 1:
        eps = np.finfo(np.float64).eps
        if all(abs(w[size1 + m] - w[size1 - m]) <= eps for m in range(1, size1 + 1)):
            return 1
        if all(abs(w[size1 + m] + w[size1 - m]) <= eps for m in range(1, size1 + 1)):
            return -1
    return 0


def _block_loader(axis: int, mode: str, origin: int, ct):
    """``(along_row, across)``: LANES consecutive outputs' values of one tap, as one vector.

    ``along_row(a, i, j, l, jj, cvc)`` reads tap ``jj`` of a row-axis (2) kernel in the
    interior; ``across(a, i, j, l, s, cvc)`` reads line ``s`` (already boundary-mapped,
    -1 = ``cvc``) of an axis-0/1 kernel. LLVM turns these vectors into SIMD.
    """
    @ti.func
    def along_row(a: ti.template(), i, j, l, jj, cvc):
        return ti.Vector([ti.cast(a[i, j, l + u + jj - origin], ct) for u in ti.static(range(LANES))], dt=ct)

    @ti.func
    def across(a: ti.template(), i, j, l, s, cvc):
        v = ti.Vector([cvc] * LANES, dt=ct)
        if ti.static(mode != "constant") or s >= 0:
            if ti.static(axis == 0):
                v = ti.Vector([ti.cast(a[s, j, l + u], ct) for u in ti.static(range(LANES))], dt=ct)
            else:
                v = ti.Vector([ti.cast(a[i, s, l + u], ct) for u in ti.static(range(LANES))], dt=ct)
        return v
    return along_row, across


@functools.lru_cache(maxsize=KERNEL_CACHE)
def _correlate1d_looped(symmetric: int, axis: int, mode: str, origin: int,
                        in_dtype: np.dtype, out_dtype: np.dtype, compute: np.dtype):
    """:func:`correlate1d` for long kernels: run-time loops over a weights buffer.

    The same sums in the same order as the unrolled kernel; on the CPU the
    interior of a row still computes LANES outputs per step as one vector.
    Signature ``(a, out, cval: f64, w)`` with ``w`` the ``size`` weights in the
    compute dtype (its length is read at run time: one kernel serves every length).
    """
    ct = ti_dtype(compute)
    conv = converter(compute, out_dtype)
    keep = _rounding_barrier(_fuses())
    t_in, t_out = ti_dtype(in_dtype), ti_dtype(out_dtype)
    imap = index_map(mode)
    serial = _serial_inner()
    load = _axis_loader(axis, mode, ct)
    along_row, across = _block_loader(axis, mode, origin, ct)
    W1 = ti.types.ndarray(dtype=ct, ndim=1)

    @ti.func
    def tap(a: ti.template(), i, j, l, n, pos, cvc, jj, direct: ti.template()):
        v = cvc
        if ti.static(direct):
            v = ti.cast(a[i, j, l + jj - origin], ct)
        else:
            v = load(a, i, j, l, imap(pos + jj - origin, n), cvc)
        return v

    @ti.func
    def tap_block(a: ti.template(), i, j, l, n, pos, cvc, jj, direct: ti.template()):
        v = ti.Vector([cvc] * LANES, dt=ct)
        if ti.static(direct):  # along the row (axis 2), interior
            v = along_row(a, i, j, l, jj, cvc)
        else:  # axis 0 or 1: one boundary map per tap, then LANES contiguous loads
            v = across(a, i, j, l, imap(pos + jj - origin, n), cvc)
        return v

    @ti.func
    def combine(get: ti.template(), a: ti.template(), w: ti.template(), i, j, l, n, pos, cvc,
                direct: ti.template(), kp: ti.template()):
        live = n > 0
        size = w.shape[0]
        size1 = size // 2
        size2 = size - size1 - 1
        first = size2  # the tap the sum starts from (SciPy's order)
        if ti.static(symmetric != 0):
            first = 0
        acc = get(a, i, j, l, n, pos, cvc, first, direct) * w[size1 + first]
        if ti.static(symmetric > 0):
            for mm in range(size1):
                m = size1 - mm
                acc += kp((get(a, i, j, l, n, pos, cvc, -m, direct)
                           + get(a, i, j, l, n, pos, cvc, m, direct)) * w[size1 - m], live)
        elif ti.static(symmetric < 0):
            for mm in range(size1):
                m = size1 - mm
                acc += kp((get(a, i, j, l, n, pos, cvc, -m, direct)
                           - get(a, i, j, l, n, pos, cvc, m, direct)) * w[size1 - m], live)
        else:
            for jj in range(-size1, size2):
                acc += kp(get(a, i, j, l, n, pos, cvc, jj, direct) * w[size1 + jj], live)
        return acc

    @ti.func
    def unfused(p, live):
        return p  # CPU arch: fast_math is off, nothing fuses

    @ti.func
    def put_block(out: ti.template(), i, j, l0, res):
        for u in ti.static(range(LANES)):
            out[i, j, l0 + u] = res[u]

    @ti.kernel
    def kern(a: ND3(dtype=t_in), out: ND3(dtype=t_out), cval: ti.f64, w: W1):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        n = a.shape[axis]
        cvc = ti.cast(cval, ct)
        size1 = w.shape[0] // 2
        size2 = w.shape[0] - size1 - 1
        if ti.static(serial and axis == 2):
            for i, j in ti.ndrange(n0, n1):
                lo = ti.min(size1 + origin, n2)
                hi = ti.max(n2 - size2 + origin, lo)
                nb = (hi - lo) // LANES
                for b in range(nb):
                    l0 = lo + b * LANES
                    put_block(out, i, j, l0, conv(combine(tap_block, a, w, i, j, l0, n, l0, cvc, True, unfused)))
                for l in range(lo + nb * LANES, hi):
                    out[i, j, l] = conv(combine(tap, a, w, i, j, l, n, l, cvc, True, keep))
                for e in range(lo + n2 - hi):
                    l = e if e < lo else hi + e - lo
                    out[i, j, l] = conv(combine(tap, a, w, i, j, l, n, l, cvc, False, keep))
        elif ti.static(serial):
            for i, j in ti.ndrange(n0, n1):
                pos = i if ti.static(axis == 0) else j
                nb = n2 // LANES
                for b in range(nb):
                    l0 = b * LANES
                    put_block(out, i, j, l0, conv(combine(tap_block, a, w, i, j, l0, n, pos, cvc, False, unfused)))
                for l in range(nb * LANES, n2):
                    out[i, j, l] = conv(combine(tap, a, w, i, j, l, n, pos, cvc, False, keep))
        else:
            for i, j, l in ti.ndrange(n0, n1, n2):
                pos = i if ti.static(axis == 0) else (j if ti.static(axis == 1) else l)
                out[i, j, l] = conv(combine(tap, a, w, i, j, l, n, pos, cvc, False, keep))
    return kern


def correlate1d(weights: tuple, axis: int, mode: str, origin: int,
                in_dtype: np.dtype, out_dtype: np.dtype, compute: np.dtype):
    """``out[..i..] = sum_k w[k] * in[..i + k - len//2 - origin..]`` along ``axis`` (0-2).

    Summation follows SciPy's order (symmetric and antisymmetric kernels pair
    taps first), so float64 results for integer data match SciPy bit for bit.
    The weights are a **run-time argument**: a specialisation is chosen by the
    structure only (tap count, symmetry, axis, mode, origin, dtypes), so 100
    Gaussians of 100 sigmas with the same radius compile once. Up to
    :data:`UNROLL_MAX_TAPS` taps are unrolled (the weights held in registers);
    longer kernels (a sigma-50 Gaussian has 401 taps) loop over the weights
    buffer, which keeps their compile time that of a short one.
    Returns ``run(a, out, cval)``.
    """
    w = [float(x) for x in weights]
    size = len(w)
    symmetric = _symmetry(w)
    if size > UNROLL_MAX_TAPS:
        kern = _correlate1d_looped(symmetric, axis, mode, origin, in_dtype, out_dtype, compute)
    else:
        kern = _correlate1d_unrolled(size, symmetric, axis, mode, origin, in_dtype, out_dtype,
                                     compute)
    w_buf = _weights_buffer(tuple(w), np.dtype(compute))

    def run(a, out, cval):
        kern(a, out, cval, w_buf)
    return run


@functools.lru_cache(maxsize=KERNEL_CACHE)
def _weights_buffer(weights: tuple, compute: np.dtype):
    """The weights on the device, uploaded once per distinct kernel (a new device
    allocation per call would cost a transfer and, on Vulkan, memory that is not given
    back to the process)."""
    from .. import arrays
    return arrays.upload_vector(np.asarray(weights, dtype=compute))


@functools.lru_cache(maxsize=KERNEL_CACHE)
def _correlate1d_unrolled(size: int, symmetric: int, axis: int, mode: str, origin: int,
                          in_dtype: np.dtype, out_dtype: np.dtype, compute: np.dtype):
    """:func:`correlate1d` for up to :data:`UNROLL_MAX_TAPS` taps: the taps unrolled, the
    weights read once per row (or element) from the buffer ``w`` into registers.
    Signature ``(a, out, cval: f64, w)``."""
    size1 = size // 2
    size2 = size - size1 - 1
    ct = ti_dtype(compute)
    conv = converter(compute, out_dtype)
    keep = _rounding_barrier(_fuses())
    t_in, t_out = ti_dtype(in_dtype), ti_dtype(out_dtype)
    imap = index_map(mode)
    serial = _serial_inner()
    # tap jj (relative to the centre, -size1..size2) reads input i + jj - origin
    taps = list(range(-size1, size2 + 1))

    load = _axis_loader(axis, mode, ct)
    along_row, across = _block_loader(axis, mode, origin, ct)

    # how a tap finds its input (see kern); the *_BLOCK ways read LANES consecutive
    # outputs' taps as one ti.Vector: LLVM turns those into SIMD, scalar code it does not
    DIRECT, MAPPED, ROWS, DIRECT_BLOCK, ROWS_BLOCK = 0, 1, 2, 3, 4

    @ti.func
    def tap(how: ti.template(), a: ti.template(), i, j, l, n, pos, src, cvc, jj: ti.template()):
        v = cvc
        if ti.static(how == DIRECT):
            v = ti.cast(a[i, j, l + jj - origin], ct)
        elif ti.static(how == MAPPED):
            v = load(a, i, j, l, imap(pos + jj - origin, n), cvc)
        else:
            v = load(a, i, j, l, src[jj + size1], cvc)
        return v

    @ti.func
    def tap_block(how: ti.template(), a: ti.template(), i, j, l, n, pos, src, cvc, jj: ti.template()):
        v = ti.Vector([cvc] * LANES, dt=ct)
        if ti.static(how == DIRECT_BLOCK):
            v = along_row(a, i, j, l, jj, cvc)
        else:  # ROWS_BLOCK: one boundary check per tap, then LANES contiguous loads
            v = across(a, i, j, l, src[jj + size1], cvc)
        return v

    @ti.func
    def unfused(p, live):
        return p  # CPU arch: fast_math is off, nothing fuses

    taps_of = {DIRECT: tap, MAPPED: tap, ROWS: tap, DIRECT_BLOCK: tap_block, ROWS_BLOCK: tap_block}
    keep_of = {DIRECT: keep, MAPPED: keep, ROWS: keep, DIRECT_BLOCK: unfused, ROWS_BLOCK: unfused}
    first = 0 if symmetric else size2  # the tap the sum starts from (SciPy's order)

    W1 = ti.types.ndarray(dtype=ct, ndim=1)

    @ti.func
    def load_weights(w: ti.template()):
        # run-time weights (a zero tap still multiplies: NaN * 0 is NaN, as in SciPy)
        return ti.Vector([w[k] for k in ti.static(range(size))], dt=ct)

    @ti.func
    def combine(how: ti.template(), a: ti.template(), i, j, l, n, pos, src, cvc, ws):
        # order of operations = SciPy's (each SIMD lane does exactly the scalar sequence)
        get = ti.static(taps_of[how])
        kp = ti.static(keep_of[how])
        live = n > 0
        acc = get(how, a, i, j, l, n, pos, src, cvc, first) * ws[size1 + first]
        if ti.static(symmetric > 0):
            for m in ti.static(range(size1, 0, -1)):
                acc += kp((get(how, a, i, j, l, n, pos, src, cvc, -m)
                           + get(how, a, i, j, l, n, pos, src, cvc, m)) * ws[size1 - m], live)
        elif ti.static(symmetric < 0):
            for m in ti.static(range(size1, 0, -1)):
                acc += kp((get(how, a, i, j, l, n, pos, src, cvc, -m)
                           - get(how, a, i, j, l, n, pos, src, cvc, m)) * ws[size1 - m], live)
        else:
            for jj in ti.static(range(-size1, size2)):
                acc += kp(get(how, a, i, j, l, n, pos, src, cvc, jj) * ws[size1 + jj], live)
        return acc

    @ti.func
    def put_block(out: ti.template(), i, j, l0, res):
        for u in ti.static(range(LANES)):
            out[i, j, l0 + u] = res[u]

    @ti.kernel
    def kern(a: ND3(dtype=t_in), out: ND3(dtype=t_out), cval: ti.f64, w: W1):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        n = a.shape[axis]
        cvc = ti.cast(cval, ct)
        if ti.static(serial and axis == 2):
            for i, j in ti.ndrange(n0, n1):
                ws = load_weights(w)
                lo = ti.min(size1 + origin, n2)
                hi = ti.max(n2 - size2 + origin, lo)
                nb = (hi - lo) // LANES
                for b in range(nb):
                    l0 = lo + b * LANES
                    put_block(out, i, j, l0, conv(combine(DIRECT_BLOCK, a, i, j, l0, n, l0, 0, cvc, ws)))
                for l in range(lo + nb * LANES, hi):
                    out[i, j, l] = conv(combine(DIRECT, a, i, j, l, n, l, 0, cvc, ws))
                # both borders in one loop: one unrolled copy of the mapped taps, not two
                for e in range(lo + n2 - hi):
                    l = e if e < lo else hi + e - lo
                    out[i, j, l] = conv(combine(MAPPED, a, i, j, l, n, l, 0, cvc, ws))
        elif ti.static(serial):
            for i, j in ti.ndrange(n0, n1):
                ws = load_weights(w)
                pos = i if ti.static(axis == 0) else j
                src = ti.Vector([imap(pos + jj - origin, n) for jj in ti.static(taps)])
                nb = n2 // LANES
                for b in range(nb):
                    l0 = b * LANES
                    put_block(out, i, j, l0, conv(combine(ROWS_BLOCK, a, i, j, l0, n, pos, src, cvc, ws)))
                for l in range(nb * LANES, n2):
                    out[i, j, l] = conv(combine(ROWS, a, i, j, l, n, pos, src, cvc, ws))
        else:
            for i, j, l in ti.ndrange(n0, n1, n2):
                pos = i if ti.static(axis == 0) else (j if ti.static(axis == 1) else l)
                out[i, j, l] = conv(combine(MAPPED, a, i, j, l, n, pos, 0, cvc, load_weights(w)))
    return kern


@functools.lru_cache(maxsize=None)
def running_mean1d(size: int, axis: int, mode: str, origin: int,
                   in_dtype: np.dtype, out_dtype: np.dtype):
    """SciPy's uniform filter along ``axis``: a running sum in float64.

    A running window sum ``acc += entering - leaving`` with ``out = acc / size``
    per step: the same arithmetic as SciPy, so integer outputs agree exactly.
    Lines are independent and run in parallel; the walk along each line is serial:
    ``size + n - 1`` steps (the window's first sum, then one step per output), run in
    launches of at most :func:`steps_per_launch` steps, the running sum kept in a scratch
    buffer between them (Mesa's Vulkan ends a thread's loops after 65535 iterations: a
    1-D line of 70000 elements came out wrong from there on). Returns ``run(a, out, cval)``.
    """
    kern = _running_mean1d_kernel(size, axis, mode, origin, np.dtype(in_dtype),
                                  np.dtype(out_dtype))

    def run(a, out, cval):
        from .. import arrays
        n = int(a.shape[axis])
        lines = int(np.prod(a.shape)) // max(n, 1)
        total = size + n - 1
        ranges = step_ranges(total, lines)
        m = [int(a.shape[d]) for d in range(3) if d != axis]
        state = arrays.empty_buffer((m[0], m[1], 1) if len(ranges) > 1 else (1, 1, 1),
                                    np.dtype(np.float64))
        try:
            for t0, t1 in ranges:
                kern(a, out, cval, state, t0, t1)
        finally:
            arrays.release_buffer(state)
    return run


@functools.lru_cache(maxsize=None)
def _running_mean1d_kernel(size: int, axis: int, mode: str, origin: int,
                           in_dtype: np.dtype, out_dtype: np.dtype):
    """:func:`running_mean1d`'s kernel ``(a, out, cval: f64, state, t0, t1)``: steps
    ``t0 .. t1 - 1`` of every line's walk -- step ``t < size`` adds the window's term
    ``t`` (the last one stores output 0), step ``size - 1 + p`` slides to output ``p``.
    ``state[u, v, 0]``: the line's running sum, read when ``t0 > 0`` and stored when
    the walk is not done."""
    size1 = size // 2
    conv = converter(np.float64, out_dtype)
    t_in, t_out = ti_dtype(in_dtype), ti_dtype(out_dtype)
    imap = index_map(mode)
    fsize = float(size)

    load = _axis_loader(axis, mode, ti.f64)
    snap = not runtime.is_cpu()

    @ti.func
    def at(a: ti.template(), i, j, l, q, n, cval):
        # value of extended-line position q (input index q - size1 - origin)
        return load(a, i, j, l, imap(q - size1 - origin, n), cval)

    @ti.func
    def quotient(acc):
        # Vulkan's float64 division may be an ulp off; an exact integer quotient must
        # stay exact (integer outputs truncate it), so snap to it when it divides
        q = acc / ti.f64(fsize)
        if ti.static(snap):  # the CPU's division is correctly rounded: nothing to snap
            k = ti.round(q)
            if k * ti.f64(fsize) == acc:
                q = k
        return q

    @ti.func
    def put(out: ti.template(), i, j, l, p, v):
        if ti.static(axis == 0):
            out[p, j, l] = conv(v)
        elif ti.static(axis == 1):
            out[i, p, l] = conv(v)
        else:
            out[i, j, p] = conv(v)

    @ti.kernel
    def kern(a: ND3(dtype=t_in), out: ND3(dtype=t_out), cval: ti.f64,
             state: ND3(dtype=ti.f64), t0: ti.i32, t1: ti.i32):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        n = a.shape[axis]
        total = size + n - 1
        # the two non-axis dimensions index the lines
        m0 = n1 if ti.static(axis == 0) else n0
        m1 = n1 if ti.static(axis == 2) else n2
        for u, v in ti.ndrange(m0, m1):
            i, j, l = 0, 0, 0
            if ti.static(axis == 0):
                j, l = u, v
            elif ti.static(axis == 1):
                i, l = u, v
            else:
                i, j = u, v
            acc = ti.cast(0.0, ti.f64)
            if t0 > 0:
                acc = state[u, v, 0]
            for t in range(t0, t1):
                if t < size:
                    acc += at(a, i, j, l, t, n, cval)
                    if t == size - 1:
                        put(out, i, j, l, 0, quotient(acc))
                else:
                    p = t - size + 1
                    acc += at(a, i, j, l, p - 1 + size, n, cval) - at(a, i, j, l, p - 1, n, cval)
                    put(out, i, j, l, p, quotient(acc))
            if t1 < total:
                state[u, v, 0] = acc
    return kern


@functools.lru_cache(maxsize=None)
def extremum1d(size: int, axis: int, mode: str, origin: int, minimum: bool,
               in_dtype: np.dtype, out_dtype: np.dtype, compute: np.dtype):
    """Minimum or maximum over a window of ``size`` along ``axis``.

    Outside values are ``cval`` in the compute dtype (SciPy's separable path
    does not cast ``cval`` to the input type). Signature ``(a, out, cval: f64)``.
    """
    size1 = size // 2
    ct = ti_dtype(compute)
    conv = converter(compute, out_dtype)
    t_in, t_out = ti_dtype(in_dtype), ti_dtype(out_dtype)
    imap = index_map(mode)
    serial = _serial_inner()

    less = nan_last_less(compute)

    @ti.func
    def pick(x, y):
        r = x
        if ti.static(minimum):
            if less(y, x):
                r = y
        else:
            if less(x, y):
                r = y
        return r

    load = _axis_loader(axis, mode, ct)

    @ti.func
    def window(a: ti.template(), i, j, l, pos, n, cvc):
        r = load(a, i, j, l, imap(pos - size1 - origin, n), cvc)
        if ti.static(size <= UNROLL_MAX_TAPS):
            for k in ti.static(range(1, size)):
                r = pick(r, load(a, i, j, l, imap(pos + k - size1 - origin, n), cvc))
        else:  # long windows: a run-time loop compiles in constant time
            for k in range(1, size):
                r = pick(r, load(a, i, j, l, imap(pos + k - size1 - origin, n), cvc))
        return r

    @ti.kernel
    def kern(a: ND3(dtype=t_in), out: ND3(dtype=t_out), cval: ti.f64):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        n = a.shape[axis]
        cvc = ti.cast(cval, ct)
        if ti.static(serial):
            for i, j in ti.ndrange(n0, n1):
                for l in range(n2):
                    pos = i if ti.static(axis == 0) else (j if ti.static(axis == 1) else l)
                    out[i, j, l] = conv(window(a, i, j, l, pos, n, cvc))
        else:
            for i, j, l in ti.ndrange(n0, n1, n2):
                pos = i if ti.static(axis == 0) else (j if ti.static(axis == 1) else l)
                out[i, j, l] = conv(window(a, i, j, l, pos, n, cvc))
    return kern


# --------------------------------------------------------------------------- footprints
def _grid_kernel_body(offsets, mode, ct):
    """Value getter shared by the footprint generators.

    ``indices(i, j, l, n0, n1, n2)`` maps, once per output element, each
    distinct offset of each axis through the boundary map (9 maps for a 3x3x3
    box, not 81); ``get(a, idx, cvc, k)`` then reads tap ``k`` with no further
    index arithmetic. One code path for interior and border keeps the
    unrolled code, and so the compile time, small.
    """
    imap = index_map(mode)
    uniq = [sorted({o[d] for o in offsets}) for d in range(3)]
    pairs = [(d, u) for d in range(3) for u in uniq[d]]
    slot = {pair: n for n, pair in enumerate(pairs)}
    taps = [tuple(slot[(d, o[d])] for d in range(3)) for o in offsets]

    @ti.func
    def coord(d: ti.template(), i, j, l, n0, n1, n2, u: ti.template()):
        r = 0
        if ti.static(d == 0):
            r = imap(i + u, n0)
        elif ti.static(d == 1):
            r = imap(j + u, n1)
        else:
            r = imap(l + u, n2)
        return r

    @ti.func
    def indices(i, j, l, n0, n1, n2):
        return ti.Vector([coord(p[0], i, j, l, n0, n1, n2, p[1]) for p in ti.static(pairs)], dt=ti.i32)

    @ti.func
    def get(a: ti.template(), idx, cvc, k: ti.template()):
        t = taps[k]
        p, q, r = idx[t[0]], idx[t[1]], idx[t[2]]
        v = cvc
        if ti.static(mode == "constant"):
            if p >= 0 and q >= 0 and r >= 0:
                v = ti.cast(a[p, q, r], ct)
        else:
            v = ti.cast(a[p, q, r], ct)
        return v
    return indices, get


def _footprint_kernel(value, cval_of, in_dtype: np.dtype, out_dtype: np.dtype, conv,
                      n_weights: int = 0, weight_dtype: np.dtype | None = None):
    """The kernel shell of the footprint generators: ``out = conv(value(...))`` everywhere.

    ``value(a, i, j, l, n0, n1, n2, cvc)`` is the per-element ``ti.func``;
    ``cval_of(cval)`` turns the float64 ``cval`` argument into what it reads
    outside the array. Signature ``(a, out, cval: f64)``; loop layout per arch.
    With ``n_weights``, the kernel takes a run-time weights vector too, ``(a, out,
    cval, w)``, loaded into registers once per row (CPU) or element (GPUs) and handed
    to ``value(..., cvc, ws)``.
    """
    t_in, t_out = ti_dtype(in_dtype), ti_dtype(out_dtype)
    serial = _serial_inner()
    K = n_weights
    t_w = ti_dtype(np.dtype(weight_dtype or np.float64))

    if not K:
        @ti.kernel
        def kern(a: ND3(dtype=t_in), out: ND3(dtype=t_out), cval: ti.f64):
            n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
            cvc = cval_of(cval)
            if ti.static(serial):
                for i, j in ti.ndrange(n0, n1):
                    for l in range(n2):
                        out[i, j, l] = conv(value(a, i, j, l, n0, n1, n2, cvc))
            else:
                for i, j, l in ti.ndrange(n0, n1, n2):
                    out[i, j, l] = conv(value(a, i, j, l, n0, n1, n2, cvc))
        return kern

    @ti.kernel
    def kern_w(a: ND3(dtype=t_in), out: ND3(dtype=t_out), cval: ti.f64,
               w: ti.types.ndarray(dtype=t_w, ndim=1)):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        cvc = cval_of(cval)
        if ti.static(serial):
            for i, j in ti.ndrange(n0, n1):
                ws = ti.Vector([w[k] for k in ti.static(range(K))], dt=t_w)
                for l in range(n2):
                    out[i, j, l] = conv(value(a, i, j, l, n0, n1, n2, cvc, ws))
        else:
            for i, j, l in ti.ndrange(n0, n1, n2):
                ws = ti.Vector([w[k] for k in ti.static(range(K))], dt=t_w)
                out[i, j, l] = conv(value(a, i, j, l, n0, n1, n2, cvc, ws))
    return kern_w


#: Footprint folds with more taps loop over a tap table (unrolled, a 7x7 correlate
#: compiles in 1.3 s, 5x5x5 in 3.8 s, 15x15 in 13 s).
FOLD_UNROLL_MAX = 64


def _fold_less(dtype: np.dtype, op: str, nan_propagates: bool) -> Callable:
    """The order a min/max fold uses: NaN last (the rank filters' policy), or, when
    NaN propagates (numpy's min/max), NaN first for a min so any NaN wins."""
    if nan_propagates and op == "min" and np.dtype(dtype).kind == "f":
        @ti.func
        def less(x, y):
            return (x < y) | (ti.math.isnan(x) & ~ti.math.isnan(y))
        return less
    return nan_last_less(dtype)


def _stencil_fold_looped(offsets: tuple, weights: tuple | None, op: str, mode: str,
                         in_dtype: np.dtype, out_dtype: np.dtype, compute: np.dtype,
                         cval_in_input_dtype: bool, nan_propagates: bool):
    """:func:`stencil_fold` over a tap table (run-time loop); returns ``run(a, out, cval)``."""
    kern = _fold_rows_kernel(op, mode, np.dtype(in_dtype), np.dtype(out_dtype), np.dtype(compute),
                             cval_in_input_dtype, nan_propagates)
    taps, bounds = _taps_table(offsets)
    w = (1.0,) * len(offsets) if weights is None else tuple(float(v) for v in weights)
    w_buf = _weights_buffer(w, np.dtype(compute))
    K = len(offsets)

    def run(a, out, cval):
        # a launch's elements are bounded (Mesa's Vulkan ends a thread's loops after
        # 65535 iterations: 128 elements of 512 taps each, at 256^3); lavapipe runs 8
        # threads in lockstep, so where they disagree on `inside` both folds run: 2 K
        for e0, e1 in element_ranges(int(np.prod(a.shape)), 2 * K + 4):
            kern(a, out, cval, taps, w_buf, *bounds, e0, e1)
    return run


@functools.lru_cache(maxsize=KERNEL_CACHE)
def _taps_table(offsets: tuple) -> tuple:
    """A footprint's offsets on the device (uploaded once per footprint) and its extent."""
    from .. import arrays
    table = np.array(offsets, dtype=np.int64).reshape(-1, 3)
    taps = arrays.upload_vector(table.astype(np.int32).reshape(-1))
    bounds = tuple(int(v) for pair in zip(table.min(axis=0), table.max(axis=0)) for v in pair)
    return taps, bounds


@functools.lru_cache(maxsize=None)
def _fold_rows_kernel(op: str, mode: str, in_dtype: np.dtype, out_dtype: np.dtype,
                      compute: np.dtype, cval_in_input_dtype: bool, nan_propagates: bool):
    ct = ti_dtype(compute)
    conv = converter(compute, out_dtype)
    keep = _rounding_barrier(op == "sum" and _fuses())
    cv_in = converter(np.float64, in_dtype)
    less = _fold_less(compute, op, nan_propagates)
    imap = index_map(mode)
    t_in, t_out = ti_dtype(in_dtype), ti_dtype(out_dtype)

    @ti.func
    def tap(a: ti.template(), taps: ti.template(), i, j, l, n0, n1, n2, cvc, t, inside: ti.template()):
        v = cvc
        if ti.static(inside):  # the whole window is in the array: no boundary maps
            v = ti.cast(a[i + taps[3 * t], j + taps[3 * t + 1], l + taps[3 * t + 2]], ct)
        else:
            p = imap(i + taps[3 * t], n0)
            q = imap(j + taps[3 * t + 1], n1)
            r = imap(l + taps[3 * t + 2], n2)
            if ti.static(mode != "constant") or (p >= 0 and q >= 0 and r >= 0):
                v = ti.cast(a[p, q, r], ct)
        return v

    @ti.func
    def fold(a: ti.template(), taps: ti.template(), w: ti.template(), i, j, l, n0, n1, n2, cvc,
             inside: ti.template()):
        K = taps.shape[0] // 3
        acc = ti.cast(0, ct)
        if ti.static(op == "sum"):
            for t in range(K):
                acc += keep(w[t] * tap(a, taps, i, j, l, n0, n1, n2, cvc, t, inside), n0 > 0)
        else:
            acc = tap(a, taps, i, j, l, n0, n1, n2, cvc, 0, inside)
            for t in range(1, K):
                v = tap(a, taps, i, j, l, n0, n1, n2, cvc, t, inside)
                if ti.static(op == "min"):
                    if less(v, acc):
                        acc = v
                else:
                    if less(acc, v):
                        acc = v
        return acc

    @ti.kernel
    def kern(a: ND3(dtype=t_in), out: ND3(dtype=t_out), cval: ti.f64,
             taps: ti.types.ndarray(dtype=ti.i32, ndim=1), w: ti.types.ndarray(dtype=ct, ndim=1),
             lo0: ti.i32, hi0: ti.i32, lo1: ti.i32, hi1: ti.i32, lo2: ti.i32, hi2: ti.i32,
             e0: ti.i32, e1: ti.i32):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        cvc = ti.cast(cval, ct)
        if ti.static(cval_in_input_dtype):
            cvc = ti.cast(cv_in(cval), ct)
        for e in range(e0, e1):  # flat elements e0 .. e1 - 1 (element_ranges)
            i, j, l = e // (n1 * n2), (e // n2) % n1, e % n2
            res = ti.cast(0, ct)
            if (i + lo0 >= 0 and i + hi0 < n0 and j + lo1 >= 0 and j + hi1 < n1
                    and l + lo2 >= 0 and l + hi2 < n2):
                res = fold(a, taps, w, i, j, l, n0, n1, n2, cvc, True)
            else:
                res = fold(a, taps, w, i, j, l, n0, n1, n2, cvc, False)
            out[i, j, l] = conv(res)
    return kern


def stencil_fold(offsets: tuple, weights: tuple | None, op: str, mode: str,
                 in_dtype: np.dtype, out_dtype: np.dtype, compute: np.dtype,
                 cval_in_input_dtype: bool = False, nan_propagates: bool = False):
    """Fold over a footprint: ``op`` in ``{"sum", "min", "max"}``.

    ``offsets`` are static 3-D tuples; for ``"sum"`` each has a weight and the
    sum starts from 0 and runs in the order given (SciPy's: footprint C order).
    The weights are a **run-time argument** (uploaded once per distinct weights): the
    footprint's offsets, op, mode and dtypes select the specialisation, so correlating
    with new weights of the same footprint compiles nothing.
    ``cval_in_input_dtype`` casts ``cval`` to the input type first (SciPy's
    footprint min/max/rank paths do). ``min``/``max`` order NaN last (the
    rank filters' policy) or, with ``nan_propagates``, return NaN for any
    window holding one (numpy's ``np.min``/``np.max``). Up to
    :data:`FOLD_UNROLL_MAX` taps are unrolled; bigger footprints loop over a tap
    table. Returns ``run(a, out, cval)``.
    """
    in_dtype, out_dtype, compute = np.dtype(in_dtype), np.dtype(out_dtype), np.dtype(compute)
    if len(offsets) > FOLD_UNROLL_MAX:
        return _stencil_fold_looped(offsets, weights, op, mode, in_dtype, out_dtype, compute,
                                    cval_in_input_dtype, nan_propagates)
    kern = _stencil_fold_unrolled(offsets, op, mode, in_dtype, out_dtype, compute,
                                  cval_in_input_dtype, nan_propagates)
    if op != "sum":
        return kern
    w_buf = _weights_buffer(tuple(float(v) for v in weights), compute)

    def run(a, out, cval):
        kern(a, out, cval, w_buf)
    return run


@functools.lru_cache(maxsize=KERNEL_CACHE)
def _stencil_fold_unrolled(offsets: tuple, op: str, mode: str, in_dtype: np.dtype,
                           out_dtype: np.dtype, compute: np.dtype,
                           cval_in_input_dtype: bool, nan_propagates: bool):
    """:func:`stencil_fold` with the taps unrolled; a ``"sum"`` takes its weights as the
    kernel's last argument. Signature ``(a, out, cval: f64[, w])``."""
    ct = ti_dtype(compute)
    conv = converter(compute, out_dtype)
    keep = _rounding_barrier(op == "sum" and _fuses())
    cv_in = converter(np.float64, in_dtype)
    indices, get = _grid_kernel_body(offsets, mode, ct)
    K = len(offsets)
    less = _fold_less(compute, op, nan_propagates)

    @ti.func
    def weighted_sum(a: ti.template(), i, j, l, n0, n1, n2, cvc, ws):
        idx = indices(i, j, l, n0, n1, n2)
        acc = ti.cast(0, ct)
        for k in ti.static(range(K)):
            acc += keep(ws[k] * get(a, idx, cvc, k), n0 > 0)
        return acc

    @ti.func
    def extremum(a: ti.template(), i, j, l, n0, n1, n2, cvc):
        idx = indices(i, j, l, n0, n1, n2)
        acc = get(a, idx, cvc, 0)
        for k in ti.static(range(1, K)):
            v = get(a, idx, cvc, k)
            if ti.static(op == "min"):
                if less(v, acc):
                    acc = v
            else:
                if less(acc, v):
                    acc = v
        return acc

    @ti.func
    def cval_of(cval):
        cvc = ti.cast(cval, ct)
        if ti.static(cval_in_input_dtype):
            cvc = ti.cast(cv_in(cval), ct)
        return cvc
    if op == "sum":
        return _footprint_kernel(weighted_sum, cval_of, in_dtype, out_dtype, conv,
                                 n_weights=K, weight_dtype=compute)
    return _footprint_kernel(extremum, cval_of, in_dtype, out_dtype, conv)


@functools.lru_cache(maxsize=None)
def laplace_stencil(axes: tuple, mode: str, in_dtype: np.dtype, out_dtype: np.dtype,
                    compute: np.dtype):
    """SciPy's ``laplace`` in one pass: per axis ``-2 * x + (x[-1] + x[+1])``, summed in order.

    Each axis' term is computed in the order of SciPy's symmetric ``correlate1d``
    ([1, -2, 1]) and the terms are added axis after axis, as ``generic_laplace``
    adds its passes (in float32 for a float32 output, as SciPy's output array
    does), so float results (overflow included) are SciPy's. ``axes`` are buffer
    axes (0-2). Signature ``(a, out, cval: f64)``.
    """
    ct = ti_dtype(compute)
    conv = converter(compute, out_dtype)
    int_out = _is_int(out_dtype)
    term_to_out, t_acc = conv, ct  # (read only for integer outputs)
    if int_out:
        # SciPy stores each axis' term in the output type (a C cast: converter's rule),
        # then numpy's integer adds wrap: convert per term, add in 64 bits (wrapping),
        # keep the output's low bits
        term_to_out = converter(compute, out_dtype)
        t_acc = ti.u64 if np.dtype(out_dtype) == np.uint64 else ti.i64
        tout = ti_dtype(out_dtype)
        bits = 8 * np.dtype(out_dtype).itemsize
        mask = (1 << bits) - 1 if bits < 64 else -1

        @ti.func
        def conv(v):  # noqa: F811
            r = v
            if ti.static(bits < 64):
                r = v & ti.i64(mask)
            return ti.cast(r, tout)
    offsets = [(0, 0, 0)]
    for ax in axes:
        for step in (-1, 1):
            o = [0, 0, 0]
            o[ax] = step
            offsets.append(tuple(o))
    indices, get = _grid_kernel_body(offsets, mode, ct)

    # float32 outputs: SciPy stores each axis' term as float32 and adds in float32
    tsum = ti_dtype(out_dtype) if np.dtype(out_dtype) == np.float32 else ct

    @ti.func
    def term(a: ti.template(), idx, cvc, c, t: ti.template()):
        return c * ct(-2.0) + (get(a, idx, cvc, 2 * t + 1) + get(a, idx, cvc, 2 * t + 2))

    @ti.func
    def value(a: ti.template(), i, j, l, n0, n1, n2, cvc):
        idx = indices(i, j, l, n0, n1, n2)
        c = get(a, idx, cvc, 0)
        if ti.static(int_out):
            acc = ti.cast(term_to_out(term(a, idx, cvc, c, 0)), t_acc)
            for t in ti.static(range(1, len(axes))):
                acc += ti.cast(term_to_out(term(a, idx, cvc, c, t)), t_acc)
            return acc
        else:
            acc = ti.cast(term(a, idx, cvc, c, 0), tsum)
            for t in ti.static(range(1, len(axes))):
                acc += ti.cast(term(a, idx, cvc, c, t), tsum)
            return ti.cast(acc, ct)

    @ti.func
    def cval_of(cval):
        return ti.cast(cval, ct)
    return _footprint_kernel(value, cval_of, in_dtype, out_dtype, conv)


def _batcher_pairs(n: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sorting network for ``n`` inputs (min to the lower index)."""
    size = 1
    while size < n:
        size *= 2
    pairs = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    # comparators that touch padding (+inf slots beyond n) never move a value
    return [(a, b) for a, b in pairs if b < n]


def selection_network(n: int, rank: int) -> list[tuple[int, int, str]]:
    """The comparators of a sorting network that position ``rank`` depends on.

    Each entry is ``(a, b, what)`` with ``what`` in ``{"both", "min", "max"}``:
    only the outputs that are read later are computed.
    """
    needed = {rank}
    kept = []
    for a, b in reversed(_batcher_pairs(n)):
        need_a, need_b = a in needed, b in needed
        if not (need_a or need_b):
            continue
        kept.append((a, b, "both" if need_a and need_b else ("min" if need_a else "max")))
        needed.update((a, b))
    kept.reverse()
    return kept


#: Footprints up to this many elements use an unrolled selection network (a 3x3x3
#: median compiles in ~0.5 s); larger ones a quickselect over rows of a scratch
#: buffer filled through a tap table, whose compile time does not depend on the
#: footprint (a quickselect over a local vector compiles in ~linear time: 6 s for
#: 81 elements, minutes for thousands).
NETWORK_MAX = 32
#: Bytes of scratch one launch of the large-footprint rank kernel may use.
SCRATCH_BYTES = 64 << 20


def _order_keys(in_dtype: np.dtype):
    """``(key_np, to_key, from_key)``: integers that sort like the values, NaN last.

    Rank kernels select on these keys: integer compares compile to min/max
    instructions, and a NaN-aware float compare inside an unrolled network takes
    LLVM ten times longer to compile. Narrow integers widen to int32 (LLVM's CPU
    backend has no vector min/max for 8/16-bit lanes), uint32 to int64. Floats map
    to their bit patterns with the magnitude bits of negatives flipped; every NaN
    maps to the largest key (``np.sort`` puts NaN last). ``-0.0`` sorts just
    before ``0.0``, which compare equal anyway.
    """
    dt = np.dtype(in_dtype)
    if dt.kind != "f":
        wide = {"i8": np.int32, "u8": np.int32, "i16": np.int32, "u16": np.int32, "u32": np.int64}
        key_np = np.dtype(wide.get(_TI_NAME[dt], dt))
        kt = ti_dtype(key_np)

        @ti.func
        def to_key(v):
            return ti.cast(v, kt)

        @ti.func
        def from_key(k):
            return k
        return key_np, to_key, from_key
    key_np = np.dtype(np.int32) if dt == np.float32 else np.dtype(np.int64)
    kt, ft = ti_dtype(key_np), ti_dtype(dt)
    flip = (1 << (8 * key_np.itemsize - 1)) - 1  # all bits but the sign

    @ti.func
    def to_key(v):
        b = ti.bit_cast(v, kt)
        k = ti.select(b < 0, b ^ kt(flip), b)
        return ti.select(ti.math.isnan(v), kt(flip), k)

    @ti.func
    def from_key(k):
        return ti.bit_cast(ti.select(k < 0, k ^ kt(flip), k), ft)
    return key_np, to_key, from_key


@functools.lru_cache(maxsize=None)
def stencil_select(offsets: tuple, rank: int, mode: str,
                   in_dtype: np.dtype, out_dtype: np.dtype):
    """The ``rank``-th smallest value over a footprint (rank filter).

    Values are compared in the input dtype (NaN after every number, as
    ``np.sort`` orders them); ``cval`` is cast to the input dtype (SciPy does
    the same). Signature ``(a, out, cval: f64)``. Footprints above
    :data:`NETWORK_MAX` elements get :func:`_stencil_select_scratch`'s runner,
    which has the same signature.
    """
    if len(offsets) > NETWORK_MAX:
        return _stencil_select_scratch(offsets, rank, mode, in_dtype, out_dtype)
    key_np, to_key, from_key = _order_keys(in_dtype)
    kt = ti_dtype(key_np)
    conv = converter(in_dtype, out_dtype)
    cv_in = converter(np.float64, in_dtype)
    ct = ti_dtype(in_dtype)
    indices, get = _grid_kernel_body(offsets, mode, ct)
    K = len(offsets)
    network = selection_network(K, rank)

    @ti.func
    def select(a: ti.template(), i, j, l, n0, n1, n2, cvc):
        idx = indices(i, j, l, n0, n1, n2)
        v = ti.Vector([to_key(get(a, idx, cvc, k)) for k in ti.static(range(K))], dt=kt)
        for c in ti.static(network):
            x, y = v[c[0]], v[c[1]]
            if ti.static(c[2] == "both"):
                v[c[0]] = ti.min(x, y)
                v[c[1]] = ti.max(x, y)
            elif ti.static(c[2] == "min"):
                v[c[0]] = ti.min(x, y)
            else:
                v[c[1]] = ti.max(x, y)
        return from_key(v[rank])

    @ti.func
    def cval_of(cval):
        return ti.cast(cv_in(cval), ct)
    return _footprint_kernel(select, cval_of, in_dtype, out_dtype, conv)


def _stencil_select_scratch(offsets: tuple, rank: int, mode: str,
                            in_dtype: np.dtype, out_dtype: np.dtype):
    """Rank filter for large footprints: taps from a table, windows in a scratch buffer.

    Each launch handles ``B`` consecutive output elements (flat C order): every
    one gathers its window's keys into its own scratch row through the tap table
    (run-time loops: the compile time does not depend on the footprint), then
    quickselects in place. ``B`` keeps the scratch under :data:`SCRATCH_BYTES`.
    Returns ``run(a, out, cval)``.
    """
    from .. import arrays
    key_np, _, _ = _order_keys(in_dtype)
    kern = _select_rows_kernel(mode, np.dtype(in_dtype), np.dtype(out_dtype))
    K = len(offsets)
    tap_buf = arrays.upload_vector(np.array(offsets, dtype=np.int32).reshape(-1))

    def run(a, out, cval):
        shape = tuple(int(n) for n in a.shape)
        total = shape[0] * shape[1] * shape[2]
        rows = int(max(1, min(total, SCRATCH_BYTES // (K * key_np.itemsize))))
        scratch = arrays.empty_buffer((rows, K, 1), key_np)
        try:
            for start in range(0, total, rows):
                kern(a, out, float(cval), tap_buf, scratch, start, min(rows, total - start), rank)
        finally:
            arrays.release_buffer(scratch)
    return run


@functools.lru_cache(maxsize=None)
def _select_rows_kernel(mode: str, in_dtype: np.dtype, out_dtype: np.dtype):
    key_np, to_key, from_key = _order_keys(in_dtype)
    kt, ct = ti_dtype(key_np), ti_dtype(in_dtype)
    conv = converter(in_dtype, out_dtype)
    cv_in = converter(np.float64, in_dtype)
    imap = index_map(mode)
    t_in, t_out = ti_dtype(in_dtype), ti_dtype(out_dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t_in), out: ND3(dtype=t_out), cval: ti.f64,
             taps: ti.types.ndarray(dtype=ti.i32, ndim=1), scratch: ND3(dtype=kt),
             start: ti.i64, count: ti.i32, rank: ti.i32):
        n0, n1, n2 = a.shape[0], a.shape[1], a.shape[2]
        K = taps.shape[0] // 3
        cvk = to_key(ti.cast(cv_in(cval), ct))
        for e in range(count):
            f = start + e
            l = ti.cast(f % n2, ti.i32)
            j = ti.cast((f // n2) % n1, ti.i32)
            i = ti.cast(f // (ti.cast(n1, ti.i64) * n2), ti.i32)
            for t in range(K):
                p = imap(i + taps[3 * t], n0)
                q = imap(j + taps[3 * t + 1], n1)
                r = imap(l + taps[3 * t + 2], n2)
                k = cvk
                if ti.static(mode != "constant") or (p >= 0 and q >= 0 and r >= 0):
                    k = to_key(a[p, q, r])
                scratch[e, t, 0] = k
            # Hoare-partition quickselect on the row
            lo, hi = 0, K - 1
            while lo < hi:
                pivot = scratch[e, (lo + hi) // 2, 0]
                p, q = lo, hi
                while p <= q:
                    while scratch[e, p, 0] < pivot:
                        p += 1
                    while scratch[e, q, 0] > pivot:
                        q -= 1
                    if p <= q:
                        tmp = scratch[e, p, 0]
                        scratch[e, p, 0] = scratch[e, q, 0]
                        scratch[e, q, 0] = tmp
                        p += 1
                        q -= 1
                if rank <= q:
                    hi = q
                elif rank >= p:
                    lo = p
                else:
                    lo = hi
            out[i, j, l] = conv(from_key(scratch[e, rank, 0]))
    return kern


def _is_scalar(value) -> bool:
    """Whether a value met while compiling is one number (not a vector/matrix/struct)."""
    if isinstance(value, ti.Matrix):
        return False
    ptr = getattr(value, "ptr", None)
    try:
        return not (ptr is not None and (ptr.is_tensor() or ptr.is_struct()))
    except AttributeError:
        return True


@functools.lru_cache(maxsize=None)
def stencil_map(offsets: tuple, fn: Callable, mode: str,
                in_dtype: np.dtype, out_dtype: np.dtype, compute: np.dtype):
    """``out = fn(window)`` with ``window`` a ``ti.Vector`` of the footprint's values.

    The prototyping generator behind ``generic_filter``: ``fn`` is any
    ``ti.func`` of one vector (values in ``compute`` dtype, footprint C order;
    ``cval`` outside for ``mode="constant"``). Signature ``(a, out, cval: f64)``.
    """
    ct = ti_dtype(compute)
    conv = converter(compute, out_dtype)
    indices, get = _grid_kernel_body(offsets, mode, ct)
    K = len(offsets)

    @ti.func
    def apply(a: ti.template(), i, j, l, n0, n1, n2, cvc):
        idx = indices(i, j, l, n0, n1, n2)
        v = ti.Vector([get(a, idx, cvc, k) for k in ti.static(range(K))], dt=ct)
        res = fn(v)
        # a vector result would reach LLVM as a store of the wrong type, which
        # aborts the process; refuse it while compiling
        ti.static_assert(ti.static(_is_scalar(res)),
                         "the ti.func returned a vector or matrix, not a scalar")
        return ti.cast(res, ct)

    @ti.func
    def cval_of(cval):
        return ti.cast(cval, ct)
    return _footprint_kernel(apply, cval_of, in_dtype, out_dtype, conv)


# --------------------------------------------------------------------------- reductions
#: Rows one CPU thread reduces side by side (see :func:`reduce`).
REDUCE_ROWS = 8

#: Longest stretch of a row one thread walks in the row reductions (:func:`reduce`, the
#: row kernels of :mod:`.threshold` and :mod:`.grow`): a longer row (1-D data) is cut into
#: segments, each its own partial. Mesa's software Vulkan ends a shader invocation's loops
#: after 65535 iterations (``runtime.VULKAN_LOOP_BUDGET``), so one thread walking a 1-D
#: array of 100000 elements summed only its first 65535. The same cut on every arch keeps
#: the results equal everywhere.
ROW_SEGMENT = 1 << 15


def row_segments(n2: int) -> int:
    """Segments a row of ``n2`` elements is reduced in (the partials' last axis)."""
    return max(1, -(-int(n2) // ROW_SEGMENT))


@functools.lru_cache(maxsize=None)
def reduce(op: str, in_dtype: np.dtype, acc_dtype: np.dtype):
    """Row-wise reduction: ``partial[i, j, s] = op(a[i, j, segment s])``.

    ``op`` in ``{"sum", "min", "max", "nan_count", "nanmin", "nanmax"}``, accumulated
    in ``acc_dtype``. Each row segment is reduced serially in index order (no atomics, a
    fixed order, so results are deterministic and equal on every arch); the caller
    combines the partials. ``nanmin``/``nanmax`` are ``min``/``max`` that give NaN
    for a segment holding one (one pass where a NaN count and an extreme took two).
    Signature ``(a, partial)`` with ``partial`` of shape ``(n0, n1, S)``: each row is cut
    into ``S`` segments of ``ceil(n2 / S)`` elements, ``S`` = :func:`row_segments` (1 but
    for rows longer than :data:`ROW_SEGMENT`).

    CPU: one thread walks :data:`REDUCE_ROWS` neighbouring rows side by side, one
    element of each per step: every row still adds in its own order (the same
    results), but the independent chains overlap in the pipeline instead of each
    addition waiting for the previous one (a 128^3 float32 sum: 1.9 -> 0.3 ms on 2 cores).
    GPUs: one thread per row.
    """
    t_in, t_acc = ti_dtype(in_dtype), ti_dtype(acc_dtype)
    is_float = np.dtype(in_dtype).kind == "f"
    nan_aware = op in ("nanmin", "nanmax") and is_float
    kind = {"nanmin": "min", "nanmax": "max"}.get(op, op)
    R = REDUCE_ROWS if runtime.is_cpu() else 1

    @ti.func
    def step(acc, v):
        # compare+select: no 8-bit ti.min on LLVM CPU; a NaN never replaces acc here
        out = acc
        if ti.static(kind == "sum"):
            out = acc + ti.cast(v, t_acc)
        elif ti.static(kind == "min"):
            w = ti.cast(v, t_acc)
            if w < acc:
                out = w
        elif ti.static(kind == "max"):
            w = ti.cast(v, t_acc)
            if w > acc:
                out = w
        elif ti.static(is_float):  # nan_count (`x != x` is ordered in Taichi)
            if ti.math.isnan(v):
                out = acc + ti.cast(1, t_acc)
        return out

    @ti.kernel
    def kern(a: ND3(dtype=t_in), partial: ND3(dtype=t_acc)):
        n1, n2 = a.shape[1], a.shape[2]
        nseg = partial.shape[2]
        seg = (n2 + nseg - 1) // nseg
        for i, jb, s in ti.ndrange(a.shape[0], (n1 + R - 1) // R, nseg):
            lo = ti.min(s * seg, n2)
            hi = ti.min(lo + seg, n2)
            rows = ti.Vector([0] * R, dt=ti.i32)
            acc = ti.Vector([0] * R, dt=t_acc)
            nan = ti.Vector([0] * R, dt=ti.i32)
            for r in ti.static(range(R)):
                # the last block repeats the last row instead of branching per element
                rows[r] = ti.min(jb * R + r, n1 - 1)
                if ti.static(kind in ("min", "max")):
                    acc[r] = ti.cast(a[i, rows[r], ti.min(lo, n2 - 1)], t_acc)
            for l in range(lo, hi):
                for r in ti.static(range(R)):
                    v = a[i, rows[r], l]
                    acc[r] = step(acc[r], v)
                    if ti.static(nan_aware):
                        nan[r] |= ti.cast(ti.math.isnan(v), ti.i32)
            for r in ti.static(range(R)):
                if jb * R + r < n1:
                    res = acc[r]
                    if ti.static(nan_aware):
                        if nan[r] != 0:
                            res = ti.cast(ti.math.nan, t_acc)
                    partial[i, jb * R + r, s] = res
    return kern


@ti.func
def numpy_bin(x, edges: ti.template(), nb, lo, norm):
    """The bin (0..nb-1) ``np.histogram`` puts ``x`` in, for ``edges[0] <= x <= edges[nb]``.

    The estimate ``(x - lo) * norm`` is right or one off; the walks against the
    edges fix it (and cope with a degenerate range, where the caller passes norm = 0).
    """
    t = (x - lo) * norm
    b = 0
    if t >= ti.cast(nb, ti.f64):
        b = nb - 1
    elif t > 0.0:
        b = ti.cast(t, ti.i32)
    while b > 0 and x < edges[b]:
        b -= 1
    while b < nb - 1 and x >= edges[b + 1]:
        b += 1
    return b


@functools.lru_cache(maxsize=None)
def histogram(in_dtype: np.dtype):
    """Equal-width histogram with numpy's binning rules.

    Signature ``(a, edges, counts, lo: f64, norm: f64)``: ``edges`` are the
    ``nbins + 1`` float64 edges (as ``np.linspace`` gives them), ``counts`` an
    int64 buffer of ``nbins`` zeros. A value's bin is ``(x - lo) * norm``,
    corrected against the edges exactly as ``np.histogram`` does; the last bin
    is closed; values outside ``[edges[0], edges[-1]]`` (and NaN) are dropped.
    """
    t_in = ti_dtype(in_dtype)

    @ti.kernel
    def kern(a: ND3(dtype=t_in), edges: ti.types.ndarray(dtype=ti.f64, ndim=1),
             counts: ti.types.ndarray(dtype=ti.i64, ndim=1), lo: ti.f64, norm: ti.f64):
        nb = counts.shape[0]
        first, last = edges[0], edges[nb]
        for I in ti.grouped(a):
            x = ti.cast(a[I], ti.f64)
            if x >= first and x <= last:
                ti.atomic_add(counts[numpy_bin(x, edges, nb, lo, norm)], ti.cast(1, ti.i64))
    return kern
