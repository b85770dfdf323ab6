"""Per-label reductions on the device: ``labels``/``index`` -> bins -> totals (host side).

:class:`Regions` checks a label image and the labels wanted (SciPy's ``labels=`` and
``index=``), maps every element to a dense bin with :func:`medkern.kernels.scatter.label_bins`
and runs the scatter reductions of :mod:`medkern.kernels.scatter` over the bins, returning
per-bin numpy totals that :meth:`Regions.gather` lays out like ``index``. It holds no
Taichi code: validation, tables and composition only.

Bins, per SciPy's cases:

* ``labels=None``: every element in one bin (``index`` is ignored, as SciPy ignores it);
* ``index=None``: the elements whose label is > 0, in one bin;
* a scalar ``index``: the elements equal to it, in one bin;
* a sequence: one bin per distinct wanted value (sorted); entries of ``index`` that no
  label of the labels' dtype can equal (-1 for uint8 labels, 2**40 for int32 labels)
  measure nothing, as absent labels do.

Label values are compared exactly, as integers (uint64 up to 2**64 - 1 too): a dense
table when the wanted values span a small range, else a binary search in their sorted
list (any range, any number of them). Float labels (SciPy compares them by value, ``2.5``
included) are first numbered on the host by :func:`float_label_codes`, in an order that
keeps ``> 0`` and equality, so the integer machinery serves them too.

An input without elements (:class:`Regions` of a job whose shape holds a 0) has empty
regions only: no kernel runs, every total is its reduction's identity.
"""
from __future__ import annotations

import functools
import operator
from typing import Any

import numpy as np

from .. import arrays
from ..arrays import DeviceArray, shape3
from ..kernels import scatter
from .job import Job

#: A dense lookup table is used when the wanted labels span at most this many values
#: (or four times their number, whichever is larger), else a binary search.
DENSE_SPAN = 1 << 16
DENSE_MAX = 1 << 24


@functools.lru_cache(maxsize=64)
def _constant(values: tuple, dtype: str) -> Any:
    """A small read-only kernel table (dummies, identities), uploaded once per process."""
    return arrays.upload_vector(np.array(values, dtype=dtype))


def _is_scalar_index(index: Any) -> bool:
    return np.isscalar(index) or (isinstance(index, np.ndarray) and index.ndim == 0)


def label_range(dtype: np.dtype) -> tuple[int, int]:
    """Smallest and largest value a label of ``dtype`` can hold (bool: 0 and 1)."""
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return 0, 1
    info = np.iinfo(dt)
    return int(info.min), int(info.max)


def index_values(index: Any, label_dtype: np.dtype, name: str = "index"
                 ) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
    """``(shape, valid, values)`` of an ``index`` for labels of ``label_dtype``.

    ``values`` (flat, :func:`scatter.wide_dtype` of the labels) hold the wanted labels
    where ``valid`` (flat bool): the entries a label of that dtype can equal. Integers,
    bools and integral floats are accepted; other floats raise ``ValueError``, other
    objects ``TypeError``, both naming ``name``.
    """
    try:
        arr = np.asarray(index)
    except ValueError as exc:  # ragged nesting
        raise ValueError(f"{name} must be an integer or a (rectangular) sequence of "
                         f"integers: {exc}") from None
    lo, hi = label_range(label_dtype)
    wide = scatter.wide_dtype(np.dtype(label_dtype))
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "f":
        flat = arr.ravel()
        bad = ~np.isfinite(flat) | (flat != np.floor(flat))
        if bad.any():
            raise ValueError(f"{name} must hold integer labels, got {flat[bad][0]!r} (labels are "
                             "compared exactly; round or cast the index first)")
        if flat.size and (flat.min() < -2.0**63 or flat.max() >= 2.0**63):
            arr = np.array([int(v) for v in flat], dtype=object).reshape(arr.shape)  # exact
        else:
            arr = arr.astype(np.int64)
    if arr.dtype.kind in "iu":
        flat = arr.ravel()
        info = np.iinfo(arr.dtype)
        valid = (flat >= max(lo, int(info.min))) & (flat <= min(hi, int(info.max)))
        values = np.zeros(flat.shape, wide)
        values[valid] = flat[valid].astype(wide)
        return arr.shape, valid, values
    if arr.dtype.kind == "O":
        try:
            ints = [operator.index(v) for v in arr.ravel()]
        except TypeError:
            bad = next(v for v in arr.ravel() if not isinstance(v, (int, np.integer)))
            raise TypeError(f"{name} must hold integer labels, got {type(bad).__name__} "
                            f"{bad!r}") from None
        valid = np.array([lo <= v <= hi for v in ints], dtype=bool)
        values = np.array([v if ok else 0 for v, ok in zip(ints, valid)], dtype=wide)
        return arr.shape, valid, values
    raise TypeError(f"{name} must be an integer label or a sequence of them, got "
                    f"{type(index).__name__} of dtype {arr.dtype}")


def float_label_codes(labels: Any, index: Any, name: str = "index") -> tuple[Any, Any]:
    """Float labels and ``index`` as int64 codes that compare as the floats do, else both
    unchanged.

    SciPy takes labels of any dtype and compares them with ``index`` by value
    (``labels == 2.5``), ``index=None`` meaning ``labels > 0``. The codes number the
    distinct label values in sorted order so that values ``<= 0`` get codes ``<= 0`` and
    positive values codes ``>= 1``; NaN labels (equal to nothing, not positive) get a code
    below all of them, and an ``index`` value that no label equals (NaN included) another
    such code. Values are compared in the dtype numpy would compare them in
    (``result_type`` of the two: a float32 label 0.1 is not the float64 index
    ``np.float64(0.1)`` nor an entry of ``[0.1, 0.5]``, but is the Python float 0.1).
    Labels on the host (numpy arrays, sequences; a DeviceArray is read back).
    """
    if isinstance(labels, DeviceArray):
        if labels.dtype.kind != "f":
            return labels, index
        lab = arrays.asnumpy(labels)
    elif isinstance(labels, (np.ndarray, list, tuple)):
        lab = np.asarray(labels)
    else:
        return labels, index
    if lab.dtype.kind != "f":
        return labels, index
    nan = np.isnan(lab)
    uniq = np.unique(lab[~nan])
    k0 = int(np.searchsorted(uniq, 0.0, side="right"))  # distinct values <= 0
    codes = np.searchsorted(uniq, lab).astype(np.int64) + (1 - k0)
    codes[nan] = -k0 - 1
    if index is None:
        return codes, None
    idx = np.asarray(index)
    if idx.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a label value or a sequence of them, got "
                        f"{type(index).__name__} of dtype {idx.dtype}")
    # numpy's comparison dtype: a Python number is "weak" (a float32 label equals 0.1)
    common = np.result_type(lab.dtype, index if isinstance(index, (int, float)) else idx.dtype)
    values = uniq.astype(common)
    wanted = idx.astype(common).ravel()
    pos = np.searchsorted(values, wanted)
    found = np.zeros(wanted.shape, bool)
    if len(values):
        found = values[np.minimum(pos, len(values) - 1)] == wanted
    icodes = np.where(found, pos.astype(np.int64) + (1 - k0), -k0 - 2)
    if _is_scalar_index(index):
        return codes, np.int64(icodes[0])
    return codes, icodes.reshape(idx.shape)


def check_labels(labels: Any, shape: tuple[int, ...], name: str = "labels"
                 ) -> tuple[Any, np.dtype, np.dtype]:
    """A label image for data of ``shape``: ``(kernel buffer, its dtype, the labels' dtype)``
    (bool labels travel as uint8).

    numpy (or list) labels broadcast to ``shape`` (SciPy's rule, but they may not enlarge
    the data); a :class:`DeviceArray` of the same shape is used where it is, another
    library's array is imported like an input. Integer and bool dtypes only (float labels
    go through :func:`float_label_codes` first). For an input without elements the buffer
    is ``None``: no kernel reads it.
    """
    from ..volume import Volume
    if isinstance(labels, Volume):
        labels = labels.array
    if arrays.is_dlpack_producer(labels):
        labels = arrays.import_array(labels, name=name)
    if isinstance(labels, DeviceArray):
        if labels.dtype.kind not in "biu":
            raise TypeError(f"{name} must hold integer (or bool) labels, got dtype "
                            f"{labels.dtype}")
        if tuple(labels.shape) == tuple(shape):
            return labels._buf, labels.dtype, labels.dtype
        labels = arrays.asnumpy(labels)  # broadcast on the host
    try:
        lab = np.asarray(labels)
    except Exception as exc:  # noqa: BLE001 - whatever numpy refuses
        raise TypeError(f"{name} must be an array of integer labels, got "
                        f"{type(labels).__name__}: {exc}") from None
    if lab.dtype.kind not in "biu":
        hint = "; cast them with .astype(np.int32) if they are whole numbers" \
            if lab.dtype.kind == "f" else ""
        raise TypeError(f"{name} must hold integer (or bool) labels, got dtype {lab.dtype}{hint}")
    try:
        common = np.broadcast_shapes(lab.shape, tuple(shape))
    except ValueError:
        common = None
    if common != tuple(shape):
        raise ValueError(f"{name} of shape {lab.shape} does not broadcast to the input's shape "
                         f"{tuple(shape)} (input and labels must have the same shape, "
                         "excepting dimensions of width 1 in labels)")
    value_dtype = lab.dtype.newbyteorder("=")
    if lab.dtype == np.bool_:
        lab = lab.astype(np.uint8)
    elif not lab.dtype.isnative:
        lab = lab.astype(value_dtype)
    if 0 in tuple(shape):
        return None, lab.dtype, value_dtype
    return arrays.upload(np.broadcast_to(lab, tuple(shape))), lab.dtype, value_dtype


def _index_as_labels(index: Any, dtype: np.dtype, name: str = "index") -> np.ndarray:
    """SciPy's ``labeled_comprehension`` rule: ``index`` converted to the labels' dtype, which
    must give the same values back (``ValueError`` otherwise: 300 or -1 for uint8 labels,
    1.5, 2 for bool labels). 64-bit values wrap as in numpy (-1 is 2**64 - 1 for uint64
    labels), as SciPy's check lets them."""
    arr = np.asarray(index)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an integer label or a sequence of them, got "
                        f"{type(index).__name__} of dtype {arr.dtype}")
    with np.errstate(invalid="ignore", over="ignore"):
        conv = arr.astype(dtype)
        lost = conv.astype(arr.dtype) != arr
    if np.any(lost):
        bad = arr.ravel()[int(np.argmax(lost.ravel()))]
        raise ValueError(f"{name} value {bad!r} cannot be represented in the labels' dtype "
                         f"{np.dtype(dtype)} without loss (SciPy's histogram refuses it too)")
    return conv


class Regions:
    """The bins of one call: ``Regions(job, labels, index)``.

    Attributes
    ----------
    scalar : bool
        One region, reported as scalars: no labels, ``index=None`` or a scalar index.
    nbins : int
        Number of bins (1 for a scalar; the distinct valid values of a sequence).
    shape : tuple
        ``index``'s shape (``()`` for a scalar).
    where : ndarray of intp
        Flat, per entry of ``index``: its bin, or -1 (nothing can match it).
    layout : str or None
        Force a layout of :func:`scatter.region_reduce` (tests, benchmarks).
    """

    def __init__(self, job: Job, labels: Any, index: Any, *, strict: bool = False,
                 layout: str | None = None):
        self.job = job
        self.layout = layout
        self.label_dtype: np.dtype = np.dtype(np.uint8)  # of the kernel buffer (bool: uint8)
        self._bins: Any = None
        self._map: tuple = ("all",)  # how labels become bins (see `bins`)
        self.shape: tuple[int, ...] = ()
        # no element can be in any bin: no kernel runs (an input without elements too)
        self.empty = 0 in tuple(job.shape)
        if labels is None:
            self.scalar, self.shape, self.nbins = True, (), 1
            self.where = np.zeros(1, np.intp)
            self._map = ("all",)
            return
        labels, index = float_label_codes(labels, index)
        buf, ldt, vdt = check_labels(labels, job.shape)
        self.label_dtype = ldt
        self._labels = buf
        if index is None:
            self.scalar, self.shape, self.nbins = True, (), 1
            self.where = np.zeros(1, np.intp)
            self._map = ("positive",)
            return
        self.scalar = _is_scalar_index(index)
        if strict:
            index = _index_as_labels(index, vdt)
        shape, valid, values = index_values(index, vdt)
        self.shape = () if self.scalar else shape
        keys = np.unique(values[valid])
        self.nbins = max(len(keys), 1) if self.scalar else len(keys)
        self.where = np.full(values.shape, -1, np.intp)
        self.where[valid] = np.searchsorted(keys, values[valid])
        if len(keys) == 0:
            self.empty = True
            self._map = ("none",)
            return
        lo, hi = int(keys[0]), int(keys[-1])
        span = hi - lo + 1
        if span <= min(max(DENSE_SPAN, 4 * len(keys)), DENSE_MAX):
            table = np.full(span, -1, np.int32)
            table[(keys - keys[0]).astype(np.int64)] = np.arange(len(keys), dtype=np.int32)
            self._map = ("dense", lo, table)
        else:
            self._map = ("search", keys)

    # ------------------------------------------------------------------ bins
    @property
    def bins(self) -> Any:
        """The int32 bin image (built on first use)."""
        if self._bins is None:
            shape = shape3(self.job.shape)
            bins = arrays.empty_buffer(shape, np.dtype(np.int32))
            kind = self._map[0]
            if kind in ("all", "none"):
                Job.launch(scatter.fill_bins(), bins, 0 if kind == "all" else -1)
            else:
                wide = scatter.wide_dtype(self.label_dtype)
                dense = _constant((-1,), "int32")
                table = _constant((0,), wide.name)
                lo = 0
                if kind == "positive":
                    mode = scatter.POSITIVE
                elif kind == "dense":
                    mode, lo, dense = scatter.DENSE, self._map[1], \
                        arrays.upload_vector(self._map[2])
                else:
                    mode, table = scatter.SEARCH, arrays.upload_vector(self._map[1])
                Job.launch(scatter.label_bins(self.label_dtype), self._labels, bins, mode,
                           lo, dense, table, scatter.default_chunk(shape[2]))
            self._bins = bins
        return self._bins

    def release(self) -> None:
        """Hand the bin image back to the buffer pool."""
        if self._bins is not None:
            arrays.release_buffer(self._bins)
            self._bins = None

    # ------------------------------------------------------------------ reductions
    def reduce(self, kind: str, pf: np.ndarray | None = None, pi: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Per-bin totals ``(float (L, NF), integer (L, NI))`` of a scatter kind."""
        dt = self.job.in_dtype
        ops_f, ops_i = scatter.kind_ops(kind, dt)
        wide = scatter.wide_dtype(dt)
        L = self.nbins
        init_f = np.array([scatter.op_identity(o, np.dtype(np.float64)) for o in ops_f] or [0.0],
                          np.float64)
        init_i = np.array([scatter.op_identity(o, wide) for o in ops_i] or [0], dtype=wide)
        if self.empty or L == 0:
            return (np.tile(init_f, (L, 1)).astype(np.float64), np.tile(init_i, (L, 1)))
        layout = self.layout or scatter.default_layout(kind, dt)
        shape = shape3(self.job.shape)
        S = 1
        if layout == "slots":
            S = scatter.slot_count(shape[0] * shape[1], L, max(len(ops_f), len(ops_i)))
            if S == 0:
                layout, S = "rows", 1
        # totals start at their identities; unused ones (and unused parameters) are
        # 1-element constants: every upload and download is a launch on some arches
        outf = arrays.upload(np.tile(init_f, (S, L, 1))) if ops_f else \
            arrays.upload(np.zeros((1, 1, 1)))
        outi = arrays.upload(np.tile(init_i, (S, L, 1))) if ops_i else \
            arrays.upload(np.zeros((1, 1, 1), wide))
        pf_buf = _constant((0.0,), "float64") if pf is None else \
            arrays.upload_vector(np.asarray(pf, np.float64))
        pi_buf = _constant((0,), wide.name) if pi is None else \
            arrays.upload_vector(np.asarray(pi, wide))
        ident = _constant(tuple(int(v) for v in init_i), wide.name)
        Job.launch(scatter.region_reduce(kind, dt, layout), self.job.src, self.bins, pf_buf,
                   pi_buf, ident, outf, outi, S)
        tf = arrays.download(outf, (S, L, len(init_f))) if ops_f else np.zeros((S, L, 1))
        ti_ = arrays.download(outi, (S, L, len(init_i))) if ops_i else np.zeros((S, L, 1), wide)
        return _combine(tf, ops_f), _combine(ti_, ops_i)

    def moments(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """``(count, exact sum or None, float64 sum)`` per bin.

        Integer data: the exact (wrapping, as numpy's) int64/uint64 sum and its float64
        value (for 64-bit integers the float64 total itself where the exact one may have
        wrapped). Float data: ``None`` and the float64 sum.
        """
        dt = self.job.in_dtype
        tf, ti_ = self.reduce("moments")
        count = ti_[:, 0].astype(np.int64)
        if dt.kind == "f":
            return count, None, tf[:, 0]
        exact = ti_[:, 1]
        fsum = exact.astype(np.float64)
        if dt.itemsize == 8:  # may have wrapped: beyond +-2**62 the float64 total is kept
            limit = 2.0**63 if dt.kind == "u" else 2.0**62
            fsum = np.where(np.abs(tf[:, 0]) < limit, fsum, tf[:, 0])
        return count, exact, fsum

    def centered(self, means: np.ndarray) -> np.ndarray:
        """Sum of ``(x - means[bin])**2`` per bin (float64)."""
        means = np.where(np.isfinite(means), means, 0.0)
        return self.reduce("centered", pf=means)[0][:, 0]

    def com(self) -> np.ndarray:
        """``(L, ndim)`` sums of value * coordinate along each logical axis (float64)."""
        tf = self.reduce("com")[0]
        return tf[:, 3 - self.job.ndim:]

    def minmax(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(count, min key, max key)`` per bin (keys: :func:`scatter.value_keys`)."""
        ti_ = self.reduce("minmax")[1]
        return ti_[:, 0].astype(np.int64), ti_[:, 1], ti_[:, 2]

    def first_positions(self, kmin: np.ndarray, kmax: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Flat C-order index of the first element per bin whose key is ``kmin``/``kmax``."""
        pi = np.stack([kmin, kmax], axis=1).reshape(-1)
        ti_ = self.reduce("argext", pi=pi)[1]
        return ti_[:, 0].astype(np.int64), ti_[:, 1].astype(np.int64)

    def histogram(self, edges: np.ndarray, lo: float, norm: float
                  ) -> tuple[np.ndarray, np.ndarray]:
        """``(counts (L, nbins), present (L,))``: equal-width counts per bin, and whether
        the bin holds any element at all (counted or not)."""
        nb = len(edges) - 1
        L = self.nbins
        if self.empty or L == 0:
            return np.zeros((L, nb), np.int64), np.zeros(L, bool)
        counts = arrays.upload_vector(np.zeros(L * (nb + 1), np.int64))
        Job.launch(scatter.region_histogram(self.job.in_dtype), self.job.src, self.bins,
                   arrays.upload_vector(np.asarray(edges, np.float64)), counts, float(lo),
                   float(norm))
        c = arrays.download(counts, (L, nb + 1)).copy()
        return c[:, :nb], c.sum(axis=1) > 0

    # ------------------------------------------------------------------ results
    def gather(self, per_bin: np.ndarray, fill: Any) -> np.ndarray:
        """``per_bin`` laid out like ``index`` (its shape), ``fill`` where nothing matches."""
        per_bin = np.asarray(per_bin)
        out = np.empty(self.where.shape + per_bin.shape[1:], per_bin.dtype)
        ok = self.where >= 0
        out[ok] = per_bin[self.where[ok]]
        out[~ok] = fill
        return out.reshape(self.shape + per_bin.shape[1:])


def _combine(totals: np.ndarray, ops: tuple) -> np.ndarray:
    """Combine ``(S, L, K)`` slot totals into ``(L, K)``, slot 0 first (a fixed order)."""
    out = totals[0].copy()
    for s in range(1, totals.shape[0]):
        for k, op in enumerate(ops):
            if op == "add":
                out[:, k] += totals[s, :, k]
            elif op == "min":
                np.minimum(out[:, k], totals[s, :, k], out=out[:, k])
            else:
                np.maximum(out[:, k], totals[s, :, k], out=out[:, k])
    return out
