"""Labelled objects: where they are (``find_objects``), renumbering them
(``relabel_sequential``), dropping some (``clear_border``, ``keep_largest_component``) and
their basic properties as a table (``regionprops_table``).

Everything runs over the label image on the device with the scatter reductions of
:mod:`medkern.algorithms.regions` (per-label counts, bounding boxes, coordinate sums,
intensity sums and extremes: one pass each) and the component kernels of
:mod:`medkern.kernels.label`; only per-label tables (one row per label) come back to the
host.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np
import scipy.ndimage as ndi

from ... import arrays, checks
from ...kernels import label as klabel
from ...kernels import scan, scatter
from ...typing import ArrayInput
from ..job import Job, host_like
from ..regions import Regions
from ...registry import Algorithm, register
from ._label import (_mask_input, _offsets3, components, foreground,
                     generate_binary_structure, label)

__all__ = ["find_objects", "relabel_sequential", "ArrayMap", "clear_border",
           "keep_largest_component", "regionprops_table"]

#: Labels up to this value are counted per value on the device (a dense table); larger
#: label values are found with ``np.unique`` on the host.
DENSE_LABELS = 1 << 24


def _label_job(labels: Any, name: str, kinds: str = "biu") -> Job:
    """A Job over a label image, 1-3 D, whose dtype (the caller's: bool before it is read
    as uint8) is of one of ``kinds`` -- integers and bool; floats only where the reference
    takes them."""
    x = host_like(labels)
    dt = getattr(x, "dtype", None)
    if isinstance(dt, np.dtype) and dt.kind not in kinds:
        if dt.kind == "c":
            raise TypeError(f"{name} has complex dtype; labels must be integers")
        raise TypeError(f"{name} must hold integer labels, got dtype {dt}")
    return Job(x, name=name, bools=True)


def _label_array(job: Job) -> Any:
    """The job's labels as an array the region tables take: the caller's DeviceArray, the
    host buffer itself on the CPU arch, else an upload (once per call: the caller keeps
    it and passes it on)."""
    if job.device:
        return job._x
    src = job.src
    if isinstance(src, np.ndarray) and not isinstance(src, arrays.DeviceMemory):
        return src.reshape(job.shape)
    return arrays.asarray(np.asarray(job._x))


def _present(job: Job, labels: Any, top: int) -> tuple[np.ndarray, np.ndarray]:
    """``(values, extents)``: the positive label values present (sorted) and their
    ``extent`` totals (count, per-axis min/max, coordinate sums; see
    :data:`medkern.kernels.scatter.KINDS`), for labels in ``1 .. top``; ``labels`` is
    :func:`_label_array`'s."""
    if top < 1:
        return np.zeros(0, np.int64), np.zeros((0, 10), np.int64)
    if top <= DENSE_LABELS:
        index = np.arange(1, top + 1, dtype=np.int64)
    else:  # a dense table would not fit: the values present, found on the host
        values = np.unique(arrays.asnumpy(labels))
        index = values[values > 0].astype(np.int64)
    reg = Regions(job, labels, index)
    try:
        ext = reg.reduce("extent")[1].astype(np.int64)
    finally:
        reg.release()
    keep = ext[:, 0] > 0
    return index[keep], ext[keep]


# --------------------------------------------------------------------------- find_objects
def find_objects(input: ArrayInput, max_label: int = 0) -> list:
    """The bounding box of every label, as slices (``scipy.ndimage.find_objects``).

    Parameters
    ----------
    input : array_like, DeviceArray or Volume
        Integer label image, 1-3 D; labels <= 0 are background (bool and float labels
        need ``max_label``, as in SciPy).
    max_label : int, optional
        Report labels ``1 .. max_label`` (default: up to the largest label).

    Returns
    -------
    list of tuple of slice or None
        Entry ``k - 1`` is the tuple of slices of label ``k``'s bounding box, or ``None``
        when label ``k`` does not occur.

    Notes
    -----
    Reference: ``scipy.ndimage.find_objects``, the same list. The bounding boxes are one
    scatter pass (per-label minimum and maximum of each coordinate) on the device. Float
    labels are read as SciPy reads them (value v is label ``trunc(v - 1) + 1``) when
    ``max_label`` is given and refused otherwise (``TypeError``), as SciPy does (the
    conversion runs on the host).

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> a = np.zeros((6, 6), int)
    >>> a[2:4, 2:4] = 1
    >>> a[4, 4] = 3
    >>> ms.find_objects(a)
    [(slice(2, 4, None), slice(2, 4, None)), None, (slice(4, 5, None), slice(4, 5, None))]
    >>> ms.find_objects(a, max_label=2)
    [(slice(2, 4, None), slice(2, 4, None)), None]
    """
    max_label = checks.integer(max_label, "max_label")
    x = host_like(input)
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iu":
        # SciPy's answer for one element: label v has the empty tuple as its box
        top = max_label if max_label >= 1 else int(x)
        return [() if k == int(x) else None for k in range(1, top + 1)]
    job = _label_job(x, "input", "biuf")
    if max_label < 1 and (isinstance(x, np.ndarray) and x.dtype == np.bool_):
        raise TypeError("input is a bool array: give max_label (SciPy raises TypeError for "
                        "bool labels without it)")
    if job.in_dtype.kind == "f":
        if max_label < 1:
            raise TypeError("input holds float labels: give max_label (SciPy then truncates "
                            "them to integers; without it SciPy raises TypeError too)")
        # SciPy's C code takes the index of value v as (intp)(v - 1): a float label is
        # trunc(v - 1) + 1, so (0, 2) is label 1 (a rare input: converted on the host)
        host = arrays.asnumpy(job._x) if job.device else np.asarray(job._x)
        job.discard()
        job = Job(np.trunc(np.nan_to_num(host) - 1).astype(np.int64) + 1, name="input")
    if max_label < 1:
        max_label = int(job.extreme("max"))
    if max_label < 1:
        return []
    values, ext = _present(job, _label_array(job), max_label)
    out: list = [None] * max_label
    axes = list(range(3 - job.ndim, 3))
    # Python ints from whole columns at once (per-element numpy scalars cost 10 us each)
    starts = ext[:, [1 + 2 * a for a in axes]].tolist()
    stops = (ext[:, [2 + 2 * a for a in axes]] + 1).tolist()
    for v, lo, hi in zip(values.tolist(), starts, stops):
        out[v - 1] = tuple(map(slice, lo, hi))
    return out


# --------------------------------------------------------------------------- relabel
class ArrayMap:
    """A mapping from some integer values to others that indexes like an array
    (``forward_map[labels]``), without the array: ``skimage.segmentation``'s ArrayMap.

    Parameters
    ----------
    in_values : ndarray of int, shape (K,)
        The values mapped from.
    out_values : ndarray, shape (K,)
        What each is mapped to. Values not in ``in_values`` map to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from medkern.segmentation import ArrayMap
    >>> m = ArrayMap(np.array([0, 10]), np.array([0, 1]))
    >>> m[np.array([10, 0, 10])]
    array([1, 0, 1])
    >>> m[10], len(m)
    (np.int64(1), 11)
    """

    def __init__(self, in_values: np.ndarray, out_values: np.ndarray):
        self.in_values = np.asarray(in_values)
        self.out_values = np.asarray(out_values)
        self._array: np.ndarray | None = None

    def __len__(self) -> int:
        """One more than the largest value mapped from."""
        return int(np.max(self.in_values)) + 1

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.zeros(len(self), dtype=self.out_values.dtype if dtype is None else dtype)
        out[self.in_values] = self.out_values
        return out

    @property
    def dtype(self) -> np.dtype:
        return self.out_values.dtype

    def __repr__(self) -> str:
        return f"ArrayMap({self.in_values!r}, {self.out_values!r})"

    def __str__(self) -> str:
        pairs = [f"  {a} → {b}" for a, b in zip(self.in_values, self.out_values)]
        if len(pairs) > 5:
            pairs = pairs[:2] + ["  ..."] + pairs[-2:]
        return "\n".join(["ArrayMap:", *pairs])

    def __call__(self, arr: Any) -> Any:
        return self[arr]

    def __getitem__(self, index: Any) -> Any:
        scalar = np.isscalar(index)
        if scalar:
            index = np.array([index])
        elif isinstance(index, slice):
            stop = len(self) if index.stop is None else index.stop
            index = np.arange(index.start or 0, stop, index.step)
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        out = _map_values(index, self.in_values, self.out_values)
        return out[0] if scalar else out

    def __setitem__(self, indices: Any, values: Any) -> None:
        if self._array is None:
            self._array = self.__array__()
        self._array[indices] = values
        self.in_values = np.flatnonzero(self._array)
        self.out_values = self._array[self.in_values]


def _map_values(x: np.ndarray, in_values: np.ndarray, out_values: np.ndarray) -> np.ndarray:
    """``out_values[k]`` where ``x == in_values[k]``, 0 elsewhere (host, small arrays)."""
    order = np.argsort(in_values, kind="stable")
    keys = in_values[order]
    pos = np.clip(np.searchsorted(keys, x), 0, max(len(keys) - 1, 0))
    out = np.zeros(x.shape, out_values.dtype)
    if len(keys):
        hit = keys[pos] == x
        out[hit] = out_values[order][pos[hit]]
    return out


def _relabel_dtype(input_type: np.dtype, top: int) -> np.dtype:
    """scikit-image's output dtype: the input's unless the new largest label needs more
    (then the smallest unsigned type holding it)."""
    required = np.min_scalar_type(top)
    if input_type.itemsize < required.itemsize:
        return required
    return input_type if top < np.iinfo(input_type).max else required


def relabel_sequential(label_field: ArrayInput, offset: int = 1) -> tuple:
    """Renumber the labels ``offset, offset + 1, ...`` in increasing order of their values,
    0 staying 0 (``skimage.segmentation.relabel_sequential``).

    Parameters
    ----------
    label_field : array_like, DeviceArray or Volume
        Non-negative integer labels, 1-3 D.
    offset : int, optional
        The first new label (> 0).

    Returns
    -------
    relabeled : ndarray, DeviceArray or Volume
        The input's kind; dtype the input's, unless the largest new label needs a wider
        type (scikit-image's rule).
    forward_map : ArrayMap
        Old label -> new label.
    inverse_map : ArrayMap
        New label -> old label.

    Raises
    ------
    ValueError
        ``offset`` < 1, or negative labels.
    TypeError
        A non-integer ``label_field``.

    Notes
    -----
    Reference: ``skimage.segmentation.relabel_sequential``: the same array and maps.
    Labels up to 2**24 are found by one counting pass on the device; larger label values
    are found with ``np.unique`` on the host (one download).

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> labels = np.array([[1, 1, 5], [5, 8, 99]])
    >>> relab, fw, inv = ms.relabel_sequential(labels)
    >>> relab
    array([[1, 1, 2],
           [2, 3, 4]])
    >>> fw[99], inv[4]
    (np.int64(4), np.int64(99))
    """
    offset = checks.integer(offset, "offset")
    if offset <= 0:
        raise ValueError(f"offset must be strictly positive, got {offset}")
    job = _label_job(label_field, "label_field", "iu")
    low = int(job.extreme("min"))
    if low < 0:
        raise ValueError(f"label_field holds negative labels (minimum {low}); relabel_sequential "
                         "needs labels >= 0")
    top = int(job.extreme("max"))
    labels = _label_array(job)
    values, ext = _present(job, labels, top)
    size = math.prod(job.shape)
    has_zero = int(ext[:, 0].sum()) < size
    last = offset + len(values) - 1 if len(values) else 0
    wide = np.uint64 if last > np.iinfo(np.int64).max else np.int64  # offset near 2**63
    new = np.arange(len(values), dtype=wide) + wide(offset)
    out_vals = np.concatenate([np.zeros(1, wide), new]) if has_zero else new
    in_vals = np.concatenate([[0], values]) if has_zero else values
    dtype = _relabel_dtype(job.in_dtype, int(out_vals[-1]))
    job.resize_output(job.shape, dtype)
    out = job.buffer()
    if len(values):
        reg = Regions(job, labels, values)
        try:
            Job.launch(scatter.bins_to_labels(np.dtype(dtype)), reg.bins, out, offset)
        finally:
            reg.release()
    else:
        Job.launch(scatter.bins_to_labels(np.dtype(dtype)), _minus_one(job), out, 0)
    in_vals = in_vals.astype(job.in_dtype)
    out_vals = out_vals.astype(dtype)
    result = job.finish(out)
    return result, ArrayMap(in_vals, out_vals), ArrayMap(out_vals, in_vals)


def _minus_one(job: Job) -> Any:
    """A bin image of -1 everywhere (nothing labelled)."""
    bins = arrays.empty_buffer(arrays.shape3(job.shape), np.dtype(np.int32))
    Job.launch(scatter.fill_bins(), bins, -1)
    job._extra.append(bins)
    return bins


# --------------------------------------------------------------------------- masks
def keep_largest_component(input: ArrayInput, structure: Any = None) -> Any:
    """The largest connected component of the nonzero elements, as a mask.

    Parameters
    ----------
    input : array_like, DeviceArray or Volume
        1-3 D; nonzero elements are foreground (as :func:`label` reads them).
    structure : array_like, optional
        Connectivity, as :func:`label`'s (default: faces only).

    Returns
    -------
    mask : ndarray of bool, DeviceArray (uint8 0/1) or Volume
        True on the component with the most elements; of equal largest components, the
        one whose first element comes first in raster order (the lowest label). All
        False when the input has no foreground.

    Notes
    -----
    No SciPy/scikit-image function does this (MONAI's ``KeepLargestConnectedComponent``
    and ITK pipelines do); tested against ``scipy.ndimage.label`` + ``np.bincount``.
    :func:`label`, a per-label count and a mask, all on the device.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> a = np.array([[1, 0, 1, 1],
    ...               [0, 0, 1, 0]])
    >>> ms.keep_largest_component(a).astype(int)
    array([[0, 0, 1, 1],
           [0, 0, 1, 0]])
    """
    from ...volume import Volume
    if isinstance(input, Volume):  # the result derives from the input's series
        return input.with_array(keep_largest_component(input.array, structure))
    labels, n = label(input, structure)
    job = Job(labels, dtype=np.uint8)
    out = job.buffer()
    if n == 0:
        Job.launch(scatter.bins_to_labels(np.dtype(np.uint8)), _minus_one(job), out, 0)
        return job.finish_mask(out)
    arr = _label_array(job)
    reg = Regions(job, arr, np.arange(1, n + 1, dtype=np.int64))
    try:
        counts = reg.reduce("extent")[1][:, 0]
    finally:
        reg.release()
    biggest = int(np.argmax(counts)) + 1  # argmax: the first of equal counts
    reg = Regions(job, arr, biggest)
    try:
        Job.launch(scatter.bins_to_labels(np.dtype(np.uint8)), reg.bins, out, 1)
    finally:
        reg.release()
    return job.finish_mask(out)


def clear_border(labels: ArrayInput, buffer_size: int = 0, bgval: Any = 0, mask: Any = None,
                 *, out: Any = None) -> Any:
    """Set the objects that touch the image border to ``bgval``
    (``skimage.segmentation.clear_border``).

    Parameters
    ----------
    labels : array_like, DeviceArray or Volume
        Integer or bool label image, 1-3 D. An object is a connected set of elements of
        one nonzero value, diagonals connecting (``skimage.measure.label``'s objects).
    buffer_size : int, optional
        Objects within this many elements of the border are cleared too (< every side).
    bgval : int or float, optional
        The value cleared objects get (it must fit ``labels``' dtype exactly).
    mask : array_like of bool, optional
        Objects touching a False element of ``mask`` are cleared (``buffer_size`` is then
        ignored).
    out : ndarray or DeviceArray, optional
        Where to write the result (``labels`` may be it: in place).

    Returns
    -------
    ndarray, DeviceArray or Volume
        ``labels`` with the border objects cleared (``out`` when given).

    Notes
    -----
    Reference: ``skimage.segmentation.clear_border``, identical results, including its
    treatment of the background: when the border holds background (0) elements, *every*
    background element becomes ``bgval``. scikit-image reads the objects from ``out``
    when ``out`` is given; medkern reads them from ``labels`` and writes ``out``. Objects
    are found on the device (equal-value components, :mod:`medkern.kernels.label`), the
    border objects marked and cleared in two more passes.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> a = np.array([[1, 0, 0, 0],
    ...               [0, 0, 2, 0],
    ...               [0, 0, 0, 0]])
    >>> ms.clear_border(a)
    array([[0, 0, 0, 0],
           [0, 0, 2, 0],
           [0, 0, 0, 0]])
    """
    buffer_size = checks.integer(buffer_size, "buffer_size", minimum=0)
    x = host_like(labels)
    from ...volume import Volume
    held = x.array if isinstance(x, Volume) else x  # a Volume's array decides, as an array's
    host_bool = isinstance(held, np.ndarray) and held.dtype == np.bool_
    job = _label_job(x, "labels", "biuf")
    if mask is None and any(buffer_size >= s for s in job.shape):
        raise ValueError(f"buffer_size ({buffer_size}) must be smaller than every side of "
                         f"labels {job.shape}")
    dt = job.in_dtype
    fill = _exact_value(bgval, np.dtype(np.bool_) if host_bool else dt, "bgval")
    mask_buf = None
    if mask is not None:
        m = host_like(mask)
        mdt = getattr(m, "dtype", None)
        stored = isinstance(m, arrays.DeviceArray) and mdt == np.uint8  # bool on a device
        if mdt is None or (np.dtype(mdt) != np.bool_ and not stored):
            raise TypeError(f"mask must be a bool array, got "
                            f"{'dtype ' + str(mdt) if mdt is not None else type(m).__name__}")
        if tuple(m.shape) != job.shape:
            raise ValueError(f"mask must have labels' shape {job.shape}, got {tuple(m.shape)}")
        mask_buf, _ = job.second(m if stored else np.asarray(m).view(np.uint8), "mask",
                                 layout=arrays.shape3(job.shape), dtypes=(np.uint8,),
                                 default=np.uint8)
    if out is not None:
        job.resize_output(job.shape, out)
    offsets = _offsets3(generate_binary_structure(job.ndim, job.ndim))
    lab = components(job.src, dt, job.shape, offsets, job.launch, by_value=True)
    size = math.prod(job.shape)
    marks = arrays.empty_buffer((size + 1,), np.dtype(np.int32))
    try:
        Job.launch(scan.fill_i32(), marks, 0)
        n0, n1, n2 = arrays.shape3(job.shape)
        ext = buffer_size + 1
        edge = [0 if a < 3 - job.ndim else ext for a in range(3)]
        if mask_buf is None:
            Job.launch(klabel.mark_border(False), lab, marks, _unread_mask(), n0, n1, n2,
                       *edge)
        else:
            Job.launch(klabel.mark_border(True), lab, marks, mask_buf, n0, n1, n2, *edge)
        result = job.buffer()
        Job.launch(klabel.clear_marked(dt), job.src, lab, marks, result, fill)
    finally:
        arrays.release_buffer(lab)
        arrays.release_buffer(marks)
    return job.finish_mask(result) if host_bool and out is None else job.finish(result)


@functools.lru_cache(maxsize=None)
def _unread_mask() -> Any:
    return arrays.upload(np.ones((1, 1, 1), np.uint8))


def _exact_value(value: Any, dtype: np.dtype, name: str) -> Any:
    """``value`` as a ``dtype`` scalar, refused when it would change (truncation,
    overflow)."""
    try:
        v = np.asarray(value)
        if v.ndim != 0 or v.dtype.kind not in "biuf":
            raise TypeError
        cast = v.astype(dtype)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not (cast == v or (np.isnan(v) and np.isnan(cast))):
        raise ValueError(f"{name}={value!r} does not fit labels' dtype {dtype} exactly")
    return cast.astype(np.uint8 if dtype == np.bool_ else dtype)[()]


# --------------------------------------------------------------------------- regionprops
#: The properties :func:`regionprops_table` computes (scikit-image's names).
PROPERTIES = ("label", "area", "num_pixels", "bbox", "centroid", "intensity_mean",
              "intensity_min", "intensity_max")
_INTENSITY = ("intensity_mean", "intensity_min", "intensity_max")


def regionprops_table(label_image: ArrayInput, intensity_image: ArrayInput | None = None,
                      properties: Sequence[str] = ("label", "bbox"), *,
                      separator: str = "-", spacing: Any = None) -> dict:
    """Basic properties of every labelled region as columns
    (``skimage.measure.regionprops_table``).

    Parameters
    ----------
    label_image : array_like, DeviceArray or Volume
        Integer labels, 2-D or 3-D; 0 is background, each positive value one region.
    intensity_image : array_like, DeviceArray or Volume, optional
        Image of the same shape, for the ``intensity_*`` properties.
    properties : sequence of str
        Any of ``label``, ``area``, ``num_pixels``, ``bbox``, ``centroid``,
        ``intensity_mean``, ``intensity_min``, ``intensity_max``.
    separator : str
        Joins a property's name and its element index (``bbox-0``).
    spacing : sequence of float, optional
        Size of an element along each axis: ``area`` is ``num_pixels`` times their
        product and ``centroid`` is in these units. A Volume's own spacing (mm, so
        ``area`` is mm^2 / mm^3) is the default for a Volume.

    Returns
    -------
    dict of str -> ndarray
        One entry per column, one row per label present, in increasing label order.

    Notes
    -----
    Reference: ``skimage.measure.regionprops_table`` with the same column names and
    values (``intensity_mean`` of float32 data is summed in float64 here, in float32 by
    numpy: equal within float32 rounding). Each property is one scatter pass on the
    device; only the per-label table comes back. medkern computes the properties listed
    above; others raise ``ValueError``.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> lab = np.array([[1, 1, 0],
    ...                 [0, 0, 2]])
    >>> t = ms.regionprops_table(lab, properties=("label", "area", "centroid"))
    >>> t["label"], t["area"], t["centroid-1"]
    (array([1, 2]), array([2., 1.]), array([0.5, 2. ]))
    """
    from ...volume import Volume
    if isinstance(properties, str):
        raise TypeError("properties must be a sequence of names, not a single string")
    props = [str(p) for p in properties]
    unknown = [p for p in props if p not in PROPERTIES]
    if unknown:
        raise ValueError(f"properties {unknown} are not computed by medkern; choose from "
                         f"{PROPERTIES}")
    x = host_like(label_image)
    xdt = getattr(x, "dtype", None)
    if isinstance(xdt, np.dtype) and xdt == np.bool_:
        raise TypeError("label_image of bool dtype is ambiguous: label it "
                        "(medkern.segmentation.label) or cast it to uint8 for one region")
    job = _label_job(x, "label_image")
    if job.ndim not in (2, 3):
        raise TypeError(f"label_image must be 2-D or 3-D, got {job.ndim}-D")
    if spacing is None and isinstance(label_image, Volume):
        spacing = label_image.spacing
    sp = np.ones(job.ndim) if spacing is None else np.asarray(
        checks.per_axis(spacing, job.ndim, "spacing"), np.float64)
    if any(p in _INTENSITY for p in props) and intensity_image is None:
        raise ValueError(f"{[p for p in props if p in _INTENSITY]} need an intensity_image")
    labels = _label_array(job)
    values, ext = _present(job, labels, int(job.extreme("max")))
    counts = ext[:, 0]
    axes = list(range(3 - job.ndim, 3))
    table: dict[str, np.ndarray] = {}
    stats = _intensity_stats(job, labels, intensity_image, values, props)
    for p in props:
        if p == "label":
            table[p] = values.astype(int)
        elif p == "num_pixels":
            table[p] = counts.astype(int)
        elif p == "area":
            table[p] = counts * float(np.prod(sp))
        elif p == "bbox":
            cols = [ext[:, 1 + 2 * a] for a in axes] + [ext[:, 2 + 2 * a] + 1 for a in axes]
            for k, c in enumerate(cols):
                table[f"{p}{separator}{k}"] = c.astype(int)
        elif p == "centroid":
            for k, a in enumerate(axes):
                table[f"{p}{separator}{k}"] = (ext[:, 7 + a] * sp[k]) / counts
        else:
            table[p] = stats[p]
    return table


def _intensity_stats(job: Job, labels: Any, image: Any, values: np.ndarray,
                     props: list) -> dict:
    """The ``intensity_*`` columns: per-label sums and extremes of ``image`` (device) over
    ``labels`` (:func:`_label_array` of ``job``)."""
    want = [p for p in props if p in _INTENSITY]
    if not want:
        return {}
    ijob = Job(host_like(image), name="intensity_image", bools=True)
    if ijob.shape != job.shape:
        raise ValueError(f"intensity_image must have label_image's shape {job.shape}, "
                         f"got {ijob.shape}")
    dt = ijob.in_dtype
    out: dict = {}
    if len(values) == 0:
        return {p: np.zeros(0, np.float64) for p in want}
    reg = Regions(ijob, labels, values)
    try:
        if "intensity_mean" in want:
            count, _, fsum = reg.moments()
            mean = fsum / count
            # numpy's mean of float32 data is a float32 value, which skimage's column holds
            # as float64
            out["intensity_mean"] = (mean.astype(dt) if dt.kind == "f" else mean
                                     ).astype(np.float64)
        if "intensity_min" in want or "intensity_max" in want:
            _, kmin, kmax = reg.minmax()
            out["intensity_min"] = scatter.keys_to_values(kmin, dt).astype(np.float64)
            out["intensity_max"] = scatter.keys_to_values(kmax, dt).astype(np.float64)
    finally:
        reg.release()
        ijob.discard()
    return {p: out[p] for p in want}


# --------------------------------------------------------------------------- registry
def _objects_error(ours: Any, ref: Any) -> float:
    """0 when two ``find_objects`` lists are equal, else inf."""
    return 0.0 if list(ours) == list(ref) else float("inf")


def _mask_error(ours: Any, ref: Any) -> float:
    """0 when two masks are equal (a DeviceArray mask holds bool as uint8 0/1), else inf."""
    device = isinstance(ours, arrays.DeviceArray) or getattr(ours, "dtype", None) == np.uint8
    a = arrays.asnumpy(ours) if isinstance(ours, arrays.DeviceArray) else np.asarray(ours)
    b = np.asarray(ref)
    same_type = a.dtype == b.dtype or (device and a.dtype == np.uint8 and a.max(initial=0) <= 1)
    return 0.0 if a.shape == b.shape and same_type and np.array_equal(a.astype(bool), b) \
        else float("inf")


def _labels_input(shape: tuple, dtype: Any, seed: int) -> np.ndarray:
    from ...sample_data import label_image
    return label_image(shape, labels=12, seed=seed, kind=("blobs", "sparse")[seed % 2]).astype(dtype)


def _labelled(x: np.ndarray) -> np.ndarray:
    """The benchmark label image: the components of the CT's foreground."""
    return ndi.label(foreground(x))[0]


def _largest_reference(input: Any, structure: Any = None) -> np.ndarray:
    """``scipy.ndimage.label`` + ``np.bincount``: the most populous label (the first of
    equal counts), as a mask."""
    lab, n = ndi.label(input, structure)
    if n == 0:
        return np.zeros(lab.shape, bool)
    return lab == int(np.argmax(np.bincount(lab.reshape(-1))[1:])) + 1


_FULL = {"_2d": np.ones((3, 3), bool), "_3d": np.ones((3, 3, 3), bool)}
register(Algorithm(
    name="find_objects", area="segmentation", func=find_objects, reference=ndi.find_objects,
    reference_name="scipy.ndimage.find_objects", bench_kwargs={},
    cases=({}, {"max_label": 5}, {"max_label": 40}),
    dtypes=("int32", "uint8", "uint16"),
    make_input=_labels_input, compare_result=_objects_error, prepare=_labelled))
register(Algorithm(
    name="keep_largest_component", area="segmentation", func=keep_largest_component,
    reference=_largest_reference,
    reference_name="scipy.ndimage.label + numpy.bincount (largest label)", bench_kwargs={},
    cases=({}, {"structure": _FULL}), dtypes=("bool", "uint8", "float32"),
    make_input=_mask_input, compare_result=_mask_error, prepare=foreground))
