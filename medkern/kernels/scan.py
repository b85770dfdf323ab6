"""Parallel prefix sums (scan) and stream compaction over flat buffers (issue 8, item 4d).

:func:`prefix_sum` is the classic three-phase blocked scan, parallel over blocks of ``B``
consecutive elements:

1. every block sums its elements (one thread per block) into ``sums``;
2. ``sums`` is scanned (exclusively) by the same function -- recursively, until one
   block holds everything;
3. every block walks its elements again, starting from its offset, and writes the
   running sums (exclusive or inclusive).

Work is ~2 reads per element and ``n / B`` partial sums per level, every level parallel
over its blocks (``B`` = 4096 on the CPU arch, where a few threads each stream a long
block; 256 on GPUs, which need many threads). ``B`` is a run-time argument, so tests can
use tiny blocks to exercise several levels on small inputs.

What is summed is the element's value (``"value"``), or a predicate of it:
``"nonzero"`` (``x != 0``, NaN counts, as ``np.flatnonzero``) or ``"self"`` (``x == i + 1``
for the element at flat position ``i``: the roots of a union-find forest whose labels are
1-based flat positions, as :mod:`medkern.kernels.label` makes them).

Built on it:

* :func:`flatnonzero`: the flat indices (or coordinates) of the nonzero elements, in
  order, and their count (stream compaction: exclusive scan of the predicate, then a
  scatter) -- seeds, peaks, the voxels of a mask;
* :func:`relabel`: ids -> consecutive ``1..n`` in increasing id order (0 stays 0): the
  used ids are marked (or, ``roots=True``, are the elements carrying their own id), an
  inclusive scan of the marks numbers them, a gather writes each element's number.

Sources may be 1-D or 3-D buffers (read in flat C order); results are 1-D buffers, except
:func:`relabel`'s, which has the shape of its image. Counts and totals are read back to
the host once per call (the only transfer); lengths up to 2**31 - 1.

Mesa's software Vulkan miscompiles comparisons of 64-bit integers with constants: the
zero a predicate compares with is a kernel argument.
"""
import functools
import math
from typing import Any

import numpy as np
import taichi as ti

from .. import arrays, runtime
from ..arrays import ti_dtype

ND1 = functools.partial(ti.types.ndarray, ndim=1)
ND3 = functools.partial(ti.types.ndarray, ndim=3)

VALUE, NONZERO, SELF = "value", "nonzero", "self"
MODES = (VALUE, NONZERO, SELF)
#: Elements per block (per thread) on the CPU arch and on GPUs.
CPU_BLOCK = 4096
GPU_BLOCK = 256


def block_size() -> int:
    return CPU_BLOCK if runtime.is_cpu() else GPU_BLOCK


def _dtype(buf: Any) -> np.dtype:
    return arrays._buffer_dtype(buf)


def _size(buf: Any) -> int:
    return int(math.prod(buf.shape))


def _launch(kernel: Any, *args: Any) -> None:
    arrays.check_not_pooled(args)
    with runtime.lock:
        kernel(*args)


def _read_func(ndim: int):
    """``at(src, f)``: the element at flat (C-order) position ``f`` of a 1-D or 3-D buffer."""
    if ndim == 1:
        @ti.func
        def at1(src: ti.template(), f):
            return src[f]
        return at1

    @ti.func
    def at3(src: ti.template(), f):
        n1, n2 = src.shape[1], src.shape[2]
        plane = n1 * n2
        r = f % plane
        return src[f // plane, r // n2, r % n2]
    return at3


def nonzero_func(dtype: np.dtype):
    """``nonzero(x, zero)``: ``x != 0`` with NaN counted as nonzero (as numpy): Taichi's
    float ``!=`` is an ordered comparison, false for NaN. ``zero`` is a run-time 0 (Mesa's
    Vulkan miscompiles 64-bit comparisons with constants)."""
    if np.dtype(dtype).kind == "f":
        @ti.func
        def nonzero_f(x, zero):
            return x != zero or ti.math.isnan(x)
        return nonzero_f

    @ti.func
    def nonzero_i(x, zero):
        return x != zero
    return nonzero_i


def _value_func(src_dtype: np.dtype, ndim: int, mode: str, acc_dtype: np.dtype):
    """``value(src, f, zero)``: what the scan adds for element ``f``, in the sum's type."""
    at = _read_func(ndim)
    t_acc, t_src = ti_dtype(acc_dtype), ti_dtype(src_dtype)
    nonzero = nonzero_func(src_dtype)

    @ti.func
    def value(src: ti.template(), f, zero):
        x = at(src, f)
        v = t_acc(0)
        # predicates as selects, not branches: data-dependent branches mispredict
        if ti.static(mode == VALUE):
            v = ti.cast(x, t_acc)
        elif ti.static(mode == NONZERO):
            v = ti.select(nonzero(x, zero), t_acc(1), t_acc(0))
        else:  # SELF: the root of a union-find forest of 1-based flat positions
            v = ti.select(x == ti.cast(f + 1, t_src), t_acc(1), t_acc(0))
        return v
    return value


@functools.lru_cache(maxsize=None)
def scan_kernels(src_dtype: np.dtype, ndim: int, mode: str, acc_dtype: np.dtype):
    """``(block_sums, block_scan)`` for sources of ``src_dtype`` and ``ndim`` (1 or 3).

    * ``block_sums(src, sums, n: i32, B: i32, zero)``: ``sums[b]`` = total of block ``b``;
    * ``block_scan(src, dst, offs, total, n: i32, B: i32, inclusive: i32, use_offs: i32,
      zero)``: the running sums of each block, from ``offs[b]`` (or 0 when ``use_offs`` is
      0), into ``dst``; the last block stores the grand total in ``total[0]``.

    ``zero`` (of ``src_dtype``) is the value a predicate compares with (pass 0).
    """
    if mode not in MODES:
        raise ValueError(f"unknown scan mode {mode!r}")
    t_src, t_acc = ti_dtype(src_dtype), ti_dtype(acc_dtype)
    value = _value_func(src_dtype, ndim, mode, acc_dtype)
    Src = ND1 if ndim == 1 else ND3

    @ti.func
    def bounds(b, nb, n, B):
        lo = b * B
        hi = n  # b * B + B could overflow int32 for the last block of a huge buffer
        if b < nb - 1:
            hi = lo + B
        return lo, hi

    @ti.kernel
    def block_sums(src: Src(dtype=t_src), sums: ND1(dtype=t_acc), n: ti.i32, B: ti.i32,
                   zero: t_src):
        nb = (n - 1) // B + 1
        for b in range(nb):
            lo, hi = bounds(b, nb, n, B)
            s = t_acc(0)
            for f in range(lo, hi):
                s += value(src, f, zero)
            sums[b] = s

    @ti.kernel
    def block_scan(src: Src(dtype=t_src), dst: ND1(dtype=t_acc), offs: ND1(dtype=t_acc),
                   total: ND1(dtype=t_acc), n: ti.i32, B: ti.i32, inclusive: ti.i32,
                   use_offs: ti.i32, zero: t_src):
        nb = (n - 1) // B + 1
        for b in range(nb):
            lo, hi = bounds(b, nb, n, B)
            s = t_acc(0)
            if use_offs != 0:
                s = offs[b]
            for f in range(lo, hi):
                v = value(src, f, zero)
                if inclusive != 0:
                    s += v
                    dst[f] = s
                else:
                    dst[f] = s
                    s += v
            if b == nb - 1:
                total[0] = s
    return block_sums, block_scan


def prefix_sum(src: Any, dst: Any, *, inclusive: bool = False, mode: str = VALUE,
               block: int | None = None, total: bool = True) -> int | None:
    """Prefix sums of ``src`` (1-D or 3-D, flat C order) into the 1-D buffer ``dst``.

    Parameters
    ----------
    src, dst : kernel buffers
        ``dst`` (int32 or int64, at least ``src``'s size) receives the sums; it may not
        be ``src``.
    inclusive : bool
        ``dst[i]`` includes element ``i`` (``np.cumsum``) or not (exclusive: starts at 0).
    mode : {"value", "nonzero", "self"}
        What is summed (module docstring).
    block : int, optional
        Elements per block (default :func:`block_size`).
    total : bool
        Read the grand total back (one device -> host transfer) and return it.

    Returns
    -------
    int or None
        The sum of all elements (``total=True``).
    """
    n = _size(src)
    if n == 0:
        return 0
    B = int(block or block_size())
    if B < 1:
        raise ValueError(f"block must be >= 1, got {B}")
    acc = _dtype(dst)
    src_dt = _dtype(src)
    sums_k, scan_k = scan_kernels(src_dt, len(src.shape), mode, acc)
    tot = arrays.empty_buffer((1,), acc)
    zero = src_dt.type(0)
    nb = (n - 1) // B + 1
    if nb == 1:
        _launch(scan_k, src, dst, tot, tot, n, B, int(inclusive), 0, zero)
    else:
        sums = arrays.empty_buffer((nb,), acc)
        offs = arrays.empty_buffer((nb,), acc)
        _launch(sums_k, src, sums, n, B, zero)
        prefix_sum(sums, offs, inclusive=False, block=B, total=False)
        _launch(scan_k, src, dst, offs, tot, n, B, int(inclusive), 1, zero)
        arrays.release_buffer(sums)
        arrays.release_buffer(offs)
    result = int(arrays.read_scalar(tot)) if total else None
    arrays.release_buffer(tot)
    return result


# --------------------------------------------------------------------------- compaction
@functools.lru_cache(maxsize=None)
def _scatter_indices(src_dtype: np.dtype, ndim: int, coords: int):
    """``(src, pos, out, zero)``: for every nonzero element ``f``, ``out[pos[f], 0] = f``
    (``coords`` 0), or its index along the last ``coords`` axes of the 3-D ``src``
    (``out[pos[f], :]``, as ``np.argwhere``)."""
    t_src = ti_dtype(src_dtype)
    at = _read_func(ndim)
    nonzero = nonzero_func(src_dtype)
    Src = ND1 if ndim == 1 else ND3

    @ti.kernel
    def kern(src: Src(dtype=t_src), pos: ND1(dtype=ti.i32), out: ti.types.ndarray(dtype=ti.i64, ndim=2),
             zero: t_src):
        for f in range(pos.shape[0]):
            if nonzero(at(src, f), zero):
                p = pos[f]
                if ti.static(coords == 0):
                    out[p, 0] = ti.cast(f, ti.i64)
                else:
                    n1, n2 = src.shape[1], src.shape[2]
                    plane = n1 * n2
                    r = f % plane
                    index = ti.Vector([f // plane, r // n2, r % n2])
                    for d in ti.static(range(coords)):
                        out[p, d] = ti.cast(index[3 - coords + d], ti.i64)
    return kern


def flatnonzero(src: Any, *, coords: int = 0, block: int | None = None) -> tuple[Any, int]:
    """The nonzero elements of ``src`` in increasing flat order: their flat indices
    (``np.flatnonzero``) or, ``coords=k`` (a 3-D ``src`` holding k-D data), their indices
    along its last k axes (``np.argwhere``).

    Returns
    -------
    (buffer, count)
        An int64 buffer of shape ``(count, 1)`` (flat indices) or ``(count, k)``, leased
        to the caller, or ``None`` when ``count`` is 0 (device buffers cannot be empty).
    """
    n = _size(src)
    if n == 0:
        return None, 0
    if coords and (len(src.shape) != 3 or not 1 <= coords <= 3):
        raise ValueError(f"coords={coords}: coordinates need a 3-D buffer and 1 <= coords <= 3")
    pos = arrays.empty_buffer((n,), np.dtype(np.int32))
    count = prefix_sum(src, pos, mode=NONZERO, block=block)
    assert count is not None
    out = None
    if count:
        out = arrays.empty_buffer((count, max(coords, 1)), np.dtype(np.int64))
        src_dt = _dtype(src)
        _launch(_scatter_indices(src_dt, len(src.shape), int(coords)), src, pos, out,
                src_dt.type(0))
    arrays.release_buffer(pos)
    return out, count


# --------------------------------------------------------------------------- relabel
@functools.lru_cache(maxsize=None)
def fill_i32():
    """``(buf, value: i32)``: every entry of a 1-D int32 buffer set to ``value`` (marks,
    tables: region growing, border clearing, relabelling)."""
    @ti.kernel
    def kern(buf: ND1(dtype=ti.i32), value: ti.i32):
        for i in range(buf.shape[0]):
            buf[i] = value
    return kern


@functools.lru_cache(maxsize=None)
def _mark_ids(label_dtype: np.dtype, ndim: int):
    """``(labels, marks, zero)``: ``marks[v - 1] = 1`` for every label ``v > 0``."""
    t_lab = ti_dtype(label_dtype)
    at = _read_func(ndim)
    Lab = ND1 if ndim == 1 else ND3

    @ti.kernel
    def kern(labels: Lab(dtype=t_lab), marks: ND1(dtype=ti.i32), zero: t_lab):
        n = 1
        for d in ti.static(range(ndim)):
            n *= labels.shape[d]
        for f in range(n):
            v = at(labels, f)
            if v > zero:
                marks[ti.cast(v - 1, ti.i32)] = 1  # plain stores: every writer writes 1
    return kern


@functools.lru_cache(maxsize=None)
def _gather_ranks(label_dtype: np.dtype, ndim: int, out_dtype: np.dtype):
    """``(labels, ranks, out, zero)``: ``out[I] = ranks[labels[f] - 1]`` (0 where the label is
    not positive), ``f`` the flat position of the 3-D index ``I``, cast to ``out``'s dtype."""
    t_lab, t_out = ti_dtype(label_dtype), ti_dtype(out_dtype)
    Lab = ND1 if ndim == 1 else ND3
    serial = runtime.is_cpu()

    @ti.func
    def one(labels: ti.template(), ranks: ti.template(), out: ti.template(), zero, i, j, l):
        n1, n2 = out.shape[1], out.shape[2]
        f = (i * n1 + j) * n2 + l
        v = zero
        if ti.static(ndim == 1):
            v = labels[f]
        else:
            v = labels[i, j, l]
        # branch-free (background and ids alternate unpredictably: a branch here made this
        # pass 7x slower than a copy on a random mask); the background reads ranks[0]
        k = ti.select(v > zero, ti.cast(v, ti.i32) - 1, 0)
        r = ti.select(v > zero, ranks[k], 0)
        out[i, j, l] = ti.cast(r, t_out)

    @ti.kernel
    def kern(labels: Lab(dtype=t_lab), ranks: ND1(dtype=ti.i32), out: ND3(dtype=t_out),
             zero: t_lab):
        if ti.static(serial):  # rows in parallel, each a serial walk
            for i, j in ti.ndrange(out.shape[0], out.shape[1]):
                for l in range(out.shape[2]):
                    one(labels, ranks, out, zero, i, j, l)
        else:
            for i, j, l in ti.ndrange(out.shape[0], out.shape[1], out.shape[2]):
                one(labels, ranks, out, zero, i, j, l)
    return kern


def relabel(labels: Any, out: Any, *, roots: bool = False, id_space: int | None = None,
            block: int | None = None) -> int:
    """Number the ids of ``labels`` consecutively: the smallest id present becomes 1, the
    next 2, ...; 0 (and negative values) stay 0.

    Parameters
    ----------
    labels : kernel buffer
        1-D (read in flat order against ``out``'s elements) or 3-D of ``out``'s shape,
        integer ids.
    out : kernel buffer
        3-D, any dtype: receives the numbers (C cast of int32).
    roots : bool
        The ids are 1-based flat positions of elements that carry their own id
        (``labels[i] == i + 1``: union-find roots): those elements are the marks, and no
        marking pass is needed.
    id_space : int, optional
        Largest id (``roots=False``): ids must lie in ``1 .. id_space`` (default: the
        number of elements).

    Returns
    -------
    int
        How many distinct ids there are (the largest number written).
    """
    n = _size(labels)
    lab_dt = _dtype(labels)
    zero = lab_dt.type(0)
    if roots:
        ranks = arrays.empty_buffer((n,), np.dtype(np.int32))
        count = prefix_sum(labels, ranks, inclusive=True, mode=SELF, block=block)
    else:
        m = int(id_space if id_space is not None else n)
        marks = arrays.empty_buffer((m,), np.dtype(np.int32))
        _launch(fill_i32(), marks, 0)
        _launch(_mark_ids(lab_dt, len(labels.shape)), labels, marks, zero)
        ranks = arrays.empty_buffer((m,), np.dtype(np.int32))
        count = prefix_sum(marks, ranks, inclusive=True, mode=NONZERO, block=block)
        arrays.release_buffer(marks)
    _launch(_gather_ranks(lab_dt, len(labels.shape), _dtype(out)), labels, ranks, out, zero)
    arrays.release_buffer(ranks)
    assert count is not None
    return count
