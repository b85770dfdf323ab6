"""Region growing: flood fill (scikit-image), connected / confidence / neighbourhood
connected thresholds (ITK), hysteresis thresholding (scikit-image).

Every function is the same four steps on the device: (1) a condition mask (a value
interval, a box of values in an interval, a threshold), (2) the unnumbered components of
the mask (:func:`._label.components`: each element's component root), (3) the roots of the
seed elements marked in a table, (4) the gather ``region = marks[root]``. The region is
exactly the set of mask elements connected to a seed, whatever order a sequential
flood would visit them in, so the masks equal the references' element for element. Only
the seed positions travel to the device, and only scalars (confidence connected's
statistics) come back between the steps.
"""
from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from ... import arrays, checks, runtime
from ...kernels import dsl, grow, scan
from ..job import Job
from ._label import _offsets3, _structure, components, generate_binary_structure

__all__ = ["flood", "flood_fill", "connected_threshold", "confidence_connected",
           "neighborhood_connected", "apply_hysteresis_threshold"]


class SeedError(IndexError, ValueError):
    """A seed outside the image: a ``ValueError`` naming the parameter, and the
    ``IndexError`` scikit-image's ``flood`` raises there."""


# --------------------------------------------------------------------------- helpers
def _int_index(v: Any, name: str) -> int:
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must hold integer indices, got a bool")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{name} must hold integer indices, got {type(v).__name__}") from None


def _seed_point(seed_point: Any, shape: tuple) -> int:
    """scikit-image's ``seed_point``: a tuple of ``ndim`` indices (an int for 1-D data),
    negative indices counted from the end; the flat C position."""
    try:
        pt = tuple(seed_point)
    except TypeError:
        pt = (seed_point,)
    if len(pt) != len(shape):
        raise ValueError(f"seed_point must have {len(shape)} indices (the image's ndim), "
                         f"got {len(pt)}")
    idx = []
    for ax, (v, n) in enumerate(zip(pt, shape)):
        k = _int_index(v, "seed_point")
        if not -n <= k < n:
            raise SeedError(f"seed_point index {k} is out of bounds for axis {ax} with "
                            f"size {n}")
        idx.append(k % n)
    return int(np.ravel_multi_index(tuple(idx), shape))


def _seeds(seeds: Any, shape: tuple, name: str = "seeds") -> Any:
    """ITK-style seeds as flat C positions (int64 array, in the order given; duplicates
    kept), or a seed mask: ``("points", pos)`` / ``("mask", array)``.

    Accepted: one index tuple, a sequence of them, an ``(n, ndim)`` integer array, or a
    bool array of the image's shape (numpy or DeviceArray: its nonzero elements)."""
    ndim = len(shape)
    if isinstance(seeds, arrays.DeviceArray):
        if tuple(seeds.shape) != tuple(shape):
            raise ValueError(f"{name} as a mask must have the image's shape {tuple(shape)}, "
                             f"got {tuple(seeds.shape)}")
        return "mask", seeds
    if isinstance(seeds, np.ndarray) and seeds.dtype == np.bool_:
        if seeds.shape != tuple(shape):
            raise ValueError(f"{name} as a mask must have the image's shape {tuple(shape)}, "
                             f"got {seeds.shape}")
        return "mask", seeds
    if seeds is None or isinstance(seeds, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be an index tuple, a list of them, an (n, ndim) "
                        f"integer array or a bool mask, got {type(seeds).__name__}")
    try:
        a = np.asarray(seeds)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an index tuple, a list of them, an (n, ndim) "
                         f"integer array or a bool mask: {exc}") from None
    if a.size == 0:
        return "points", np.zeros(0, np.int64)
    if a.dtype.kind not in "iu":
        if a.dtype.kind == "O":
            raise ValueError(f"{name} must be index tuples of {ndim} integers each")
        raise TypeError(f"{name} must hold integer indices, got dtype {a.dtype}")
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != ndim:
        raise ValueError(f"{name} must be indices of the image's {ndim} dimensions, got "
                         f"shape {a.shape}")
    a = a.astype(np.int64)
    bad = (a < 0) | (a >= np.asarray(shape, np.int64))
    if bad.any():
        k = int(np.argwhere(bad.any(axis=1))[0, 0])
        raise ValueError(f"{name}: seed {tuple(int(v) for v in a[k])} lies outside the "
                         f"image of shape {tuple(shape)}")
    return "points", np.ravel_multi_index(tuple(a.T), shape).astype(np.int64)


def _positions(pos: np.ndarray) -> Any:
    """Flat positions as a leased 1-D int32 kernel buffer (released by the caller)."""
    host = np.ascontiguousarray(pos, dtype=np.int32)
    if runtime.is_cpu():
        return host
    buf = arrays.empty_buffer(host.shape, np.dtype(np.int32))
    with runtime.lock:
        buf.from_numpy(host)
    return buf


def _release(*bufs: Any) -> None:
    for b in bufs:
        if b is not None and arrays.is_leased(b):
            arrays.release_buffer(b)


def _cast_bound(value: float, dtype: np.dtype) -> Any:
    """``value`` cast to the image's dtype as C does (``static_cast``, Cython): integers
    truncated toward zero, floats rounded to the dtype; clipped to the dtype's range first
    (every value of the dtype lies inside it, so clipping keeps the interval's meaning)."""
    if dtype.kind in "iub":
        info = np.iinfo(dtype) if dtype.kind != "b" else np.iinfo(np.uint8)
        if math.isnan(value):
            return dtype.type(0)
        v = min(max(value, info.min), info.max)
        return dtype.type(int(v)) if not isinstance(v, int) else dtype.type(v)
    return dtype.type(value)


def _grow(job: Job, mask: Any, seeds: tuple, offsets: tuple, out: Any) -> None:
    """Steps 2-4: ``out`` (uint8, the image's 3-D shape) = 1 on the components of
    ``mask`` (a leased uint8 buffer, released here) holding a seed."""
    size = int(np.prod(job.shape))
    try:
        lab = components(mask, np.dtype(np.uint8), job.shape, offsets, job.launch)
    finally:
        _release(mask)
    marks = arrays.empty_buffer((size,), np.dtype(np.int32))
    extra = None
    try:
        job.launch(scan.fill_i32(), marks, 0)
        kind, s = seeds
        if kind == "points":
            if s.size:
                extra = _positions(s)
                job.launch(grow.mark_points(), lab, marks, extra)
        else:
            sbuf, sdt, extra = _mask_buffer(s)
            job.launch(grow.mark_mask(sdt), lab, sbuf, marks, sdt.type(0))
        job.launch(grow.gather(), lab, marks, out)
    finally:
        _release(lab, marks, extra)


def _force_seeds(job: Job, mask: Any, seeds: tuple) -> None:
    """Set the seed elements in ``mask``: they belong to the region whatever their value
    (ITK's flood iterator pushes every seed; scikit-image's flood starts at its seed)."""
    kind, s = seeds
    if kind == "points":
        if s.size:
            pbuf = _positions(s)
            try:
                job.launch(grow.set_points(), mask, pbuf)
            finally:
                _release(pbuf)
        return
    sbuf, sdt, extra = _mask_buffer(s)
    try:
        job.launch(grow.set_mask(sdt), mask, sbuf, sdt.type(0))
    finally:
        _release(extra)


def _mask_buffer(s: Any) -> tuple:
    """A seed mask as ``(kernel buffer, its native dtype, the upload to release or
    None)``: a DeviceArray's (or :class:`_BufferMask`'s) buffer in place, a numpy mask
    uploaded (bool as uint8)."""
    if isinstance(s, (arrays.DeviceArray, _BufferMask)):
        return s._buf, np.dtype(s.dtype).newbyteorder("="), None
    host = s.view(np.uint8) if s.dtype == np.bool_ else s
    buf = arrays.upload(np.ascontiguousarray(host))
    return buf, host.dtype.newbyteorder("="), buf


def _connectivity_structure(connectivity: Any, ndim: int, name: str = "connectivity"):
    """ITK's face (1) or full (``ndim``) connectivity, or anything between, as a
    structure (``generate_binary_structure``)."""
    c = checks.integer(connectivity, name)
    if not 1 <= c <= ndim:
        raise ValueError(f"{name} must be between 1 (faces) and {ndim} (full), got {c}")
    return _offsets3(generate_binary_structure(ndim, c))


def _image_job(image: Any, bools: bool = True) -> Job:
    """The call's Job: uint8 results; ``bools``: a bool image read as 0/1 (scikit-image's
    functions take one, ITK's pixel types have no bool)."""
    return Job(image, None, name="image", dtype=np.uint8, bools=bools)


# --------------------------------------------------------------------------- skimage
def _flood_footprint(footprint: Any, connectivity: Any, ndim: int) -> np.ndarray:
    """scikit-image's neighbourhood as a bool array: ``footprint`` (checked: the image's
    rank, odd size along every axis), else ``generate_binary_structure(ndim,
    connectivity)`` (default connectivity: ``ndim``, diagonals included)."""
    if footprint is None:
        c = ndim if connectivity is None else checks.integer(connectivity, "connectivity")
        return generate_binary_structure(ndim, c)
    try:
        fp = np.asarray(footprint, dtype=bool)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"footprint must be an array of 0/1 values: {exc}") from None
    if fp.ndim != ndim:
        raise ValueError(f"footprint must have the image's {ndim} dimensions, got "
                         f"ndim={fp.ndim}")
    if any(n % 2 != 1 for n in fp.shape):
        raise ValueError(f"footprint size must be odd along all dimensions, got {fp.shape}")
    return fp


def _flood_offsets(footprint: Any, connectivity: Any, ndim: int) -> tuple:
    """scikit-image's neighbourhood (:func:`_flood_footprint`) as sorted 3-D offsets from
    its centre (``shape // 2``), the centre left out."""
    fp = _flood_footprint(footprint, connectivity, ndim)
    rows = np.argwhere(fp) - np.asarray(fp.shape) // 2
    offs = {tuple([0] * (3 - ndim) + [int(v) for v in r]) for r in rows if r.any()}
    return tuple(sorted(offs))


def flood(image: Any, seed_point: Any, *, footprint: Any = None, connectivity: Any = None,
          tolerance: Any = None) -> Any:
    """Mask of the flood fill from ``seed_point``: the elements connected to it whose
    values equal the seed's (or lie within ``tolerance`` of it).

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D, any real dtype or bool.
    seed_point : tuple or int
        The starting element: ``ndim`` indices (an int for 1-D data); negative indices
        count from the end.
    footprint : array_like, optional
        Which neighbours connect: a 0/1 array of the image's rank, odd size along every
        axis, centred at ``shape // 2``. Default: from ``connectivity``.
    connectivity : int, optional
        Neighbours at most ``connectivity`` unit steps away (squared distance) connect;
        ignored when ``footprint`` is given. Default: ``ndim`` (diagonals included).
    tolerance : float, optional
        ``None``: values must equal the seed's. Else values in ``[seed - |tolerance|,
        seed + |tolerance|]``, the bounds clipped to the dtype's range and cast to the
        dtype (integers truncated toward zero), inclusive.

    Returns
    -------
    mask : ndarray of bool, DeviceArray (uint8 0/1) or Volume
        True on the fill; the seed itself is always in it (a NaN seed fills only itself
        without a tolerance).

    Raises
    ------
    ValueError
        ``seed_point`` of another length than ``image.ndim`` or outside the image (the
        latter also an ``IndexError``, as scikit-image raises), a bad ``footprint``.

    Notes
    -----
    Reference: ``skimage.segmentation.flood`` (scikit-image 0.26); masks equal its
    element for element. A centrosymmetric footprint fills the seed's component of the
    in-tolerance mask (parallel labelling); an asymmetric one is a directed walk (a step
    goes from ``p`` to ``p + offset`` only), grown sweep by sweep -- one sweep per step of
    the longest path, slower. An image without elements gives an all-False mask of its
    shape, as scikit-image's. Deviations: a DeviceArray result is uint8 (device buffers
    hold no bool); float16 is computed in float32 (scikit-image refuses it); images have
    1-3 dimensions.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> image = np.zeros((4, 7), dtype=int)
    >>> image[1:3, 1:3] = 1
    >>> image[3, 0] = 1
    >>> image[1:3, 4:6] = 2
    >>> ms.flood(image, (1, 1)).astype(int)
    array([[0, 0, 0, 0, 0, 0, 0],
           [0, 1, 1, 0, 0, 0, 0],
           [0, 1, 1, 0, 0, 0, 0],
           [1, 0, 0, 0, 0, 0, 0]])
    >>> ms.flood(image, (1, 1), connectivity=1)[3, 0]
    np.False_
    >>> int(ms.flood(image, (0, 0), tolerance=1).sum())
    24
    """
    _no_float16(image)
    empty = _empty_flood(image)
    if empty is not None:
        return empty
    nd = _flood_nd(image, seed_point, footprint, connectivity, tolerance)
    if nd is not None:
        return nd
    job = _image_job(image)
    offsets = _flood_offsets(footprint, connectivity, job.ndim)
    pos = _seed_point(seed_point, job.shape)
    dt = job.in_dtype
    lo, hi = _flood_bounds(_value_at(job, pos), dt, tolerance)
    mask = job.buffer(np.uint8)
    try:
        job.launch(grow.in_range(dt), job.src, mask, dt.type(lo), dt.type(hi))
        _force_seeds(job, mask, ("points", np.array([pos])))  # the seed starts its fill
    except BaseException:
        _release(mask)
        raise
    out = job.buffer(np.uint8)
    try:
        if all(tuple(-v for v in o) in offsets for o in offsets):
            _grow(job, mask, ("points", np.array([pos])), offsets, out)
        else:
            _reach(job, mask, pos, offsets, out)
    except BaseException:
        job.discard(out)
        raise
    return job.finish_mask(out)


def _flood_bounds(seed_value: Any, dt: np.dtype, tolerance: Any) -> tuple:
    """scikit-image's interval: the seed's value (no tolerance), or ``seed -+ |tolerance|``
    limited to the dtype's range with Python's max/min (a NaN bound gives way to the
    limit) and cast to the dtype (integers truncated toward zero). Bool images are read
    as uint8 0/1: a wider interval selects the same elements."""
    if tolerance is None:
        return seed_value, seed_value
    if isinstance(tolerance, (bool, np.bool_)) or not isinstance(tolerance, (int, np.integer)):
        tol: Any = abs(checks.real(tolerance, "tolerance", finite=False))
    else:
        tol = abs(int(tolerance))
    if dt.kind == "f":
        mn, mx = float(np.finfo(dt).min), float(np.finfo(dt).max)
    else:
        mn, mx = int(np.iinfo(dt).min), int(np.iinfo(dt).max)
    sv = seed_value.item()
    return _cast_bound(max(mn, sv - tol), dt), _cast_bound(min(mx, sv + tol), dt)


def _no_float16(image: Any) -> None:
    if isinstance(image, np.ndarray) and image.dtype == np.float16:
        raise TypeError("dtype of `image` is float16 which is not supported, try upcasting "
                        "to float32 (scikit-image's error)")


def _flood_nd(image: Any, seed_point: Any, footprint: Any, connectivity: Any,
              tolerance: Any) -> Any:
    """A numpy image of more than 3 dimensions (scikit-image floods any rank): the
    condition mask is computed on the host and padded by the footprint's reach with
    False (so no step wraps around an axis), its flat C order is one long line whose
    neighbours are the footprint's flat offsets, and that line is filled on the device
    as a 1-D image. None for 1-3 D input and device arrays (the direct path)."""
    from ...volume import Volume
    if isinstance(image, (arrays.DeviceArray, Volume)) or arrays.is_dlpack_producer(image):
        return None
    x = np.asarray(image)
    if x.ndim <= 3:
        return None
    if x.dtype.kind not in "biuf":
        checks.array(x, "image")  # the dtype error of every input
    ndim = x.ndim
    fp = _flood_footprint(footprint, connectivity, ndim)
    rows = [r for r in np.argwhere(fp) - np.asarray(fp.shape) // 2 if r.any()]
    pad = [int(max((abs(int(r[k])) for r in rows), default=0)) for k in range(ndim)]
    pos = _seed_point(seed_point, x.shape)
    idx = np.unravel_index(pos, x.shape)
    dt = x.dtype.newbyteorder("=") if x.dtype != np.bool_ else np.dtype(np.uint8)
    vals = x.view(np.uint8) if x.dtype == np.bool_ else x
    lo, hi = _flood_bounds(dt.type(vals[idx]), dt, tolerance)
    inside = (vals >= lo) & (vals <= hi)
    inside[idx] = True  # the seed starts its fill
    padded = np.pad(inside, [(p, p) for p in pad]).astype(np.uint8)
    strides = np.cumprod((padded.shape[1:] + (1,))[::-1])[::-1]
    flat = sorted({int(np.dot(r, strides)) for r in rows})
    offsets = tuple((0, 0, f) for f in flat if f != 0)
    ppos = int(np.ravel_multi_index(tuple(i + p for i, p in zip(idx, pad)), padded.shape))
    line = padded.reshape(-1)
    job = Job(line, None, name="image", dtype=np.uint8)
    mask = job.buffer(np.uint8)
    out = job.buffer(np.uint8)
    try:
        job.launch(grow.in_range(np.dtype(np.uint8)), job.src, mask, np.uint8(1), np.uint8(1))
        if all(tuple(-v for v in o) in offsets for o in offsets):
            _grow(job, mask, ("points", np.array([ppos])), offsets, out)
        else:
            _reach(job, mask, ppos, offsets, out)
    except BaseException:
        job.discard(out)
        raise
    full = job.finish(out).view(np.bool_).reshape(padded.shape)
    return np.ascontiguousarray(full[tuple(slice(p, p + n) for p, n in zip(pad, x.shape))])


def _reach(job: Job, mask: Any, pos: int, offsets: tuple, out: Any) -> None:
    """An asymmetric footprint: scikit-image's walk steps from ``p`` to ``p + o`` only, so
    the fill is what the seed reaches along such steps (not a component): grown sweep by
    sweep to the fixed point (:func:`medkern.kernels.grow.reach`). ``mask`` is released."""
    from ...kernels import propagate
    try:
        job.launch(grow.clear3(), out)
        _force_seeds(job, out, ("points", np.array([pos])))
        kern = grow.reach(offsets)
        size = int(np.prod(job.shape))
        propagate.run(lambda flag, stamp: job.launch(kern, mask, out, flag, stamp),
                      max_sweeps=size + 1, name="flood")
    finally:
        _release(mask)


def _empty_flood(image: Any) -> Any:
    """scikit-image's answer for an image without elements: an all-False mask of its
    shape (whatever ``seed_point``); None for any other image."""
    from ...volume import Volume
    if isinstance(image, (arrays.DeviceArray, Volume)) or arrays.is_dlpack_producer(image):
        return None
    try:
        x = np.asarray(image)
    except Exception:  # noqa: BLE001 - Job's checks name the problem
        return None
    if x.size == 0 and x.ndim > 0 and x.dtype.kind in "biuf":
        return np.zeros(x.shape, dtype=bool)
    return None


def _value_at(job: Job, pos: int) -> Any:
    """The image's value at flat position ``pos``: read on the host for numpy input, else
    one float64 value read back from the device (exact but for 64-bit integers above
    2**53)."""
    x = job._x
    if isinstance(x, np.ndarray):
        return job.in_dtype.type(x[np.unravel_index(pos, x.shape)])
    pbuf = _positions(np.array([pos]))
    vals = arrays.empty_buffer((2,), np.dtype(np.float64))
    try:
        job.launch(grow.box_sums(job.in_dtype), job.src, pbuf, vals, 0, 0, 0)
        v = float(arrays.read_scalar(vals, 0))
    finally:
        _release(pbuf, vals)
    return job.in_dtype.type(v)


def flood_fill(image: Any, seed_point: Any, new_value: Any, *, footprint: Any = None,
               connectivity: Any = None, tolerance: Any = None, in_place: bool = False) -> Any:
    """The image with its flood fill from ``seed_point`` (:func:`flood`) set to
    ``new_value``.

    Parameters
    ----------
    image : ndarray, DeviceArray or Volume
        1-3 D, any real dtype or bool.
    seed_point, footprint, connectivity, tolerance
        As :func:`flood`.
    new_value : scalar
        The fill's value, converted to the image's dtype as numpy assignment does.
    in_place : bool
        Write into ``image`` (a numpy array) and return it; default False: a copy.

    Returns
    -------
    filled : ndarray, DeviceArray or Volume
        The image's kind, dtype and shape.

    Notes
    -----
    Reference: ``skimage.segmentation.flood_fill`` (scikit-image 0.26). The mask is
    computed on the device; the fill is numpy's ``image[mask] = new_value`` for numpy
    input, so values and errors for a ``new_value`` the dtype cannot hold are numpy's.
    DeviceArray and Volume inputs are never written (``in_place=True`` is refused for
    them): the filled copy is returned.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> image = np.zeros((4, 7), dtype=int)
    >>> image[1:3, 1:3] = 1
    >>> image[3, 0] = 1
    >>> ms.flood_fill(image, (1, 1), 5, connectivity=1)
    array([[0, 0, 0, 0, 0, 0, 0],
           [0, 5, 5, 0, 0, 0, 0],
           [0, 5, 5, 0, 0, 0, 0],
           [1, 0, 0, 0, 0, 0, 0]])
    """
    from ...volume import Volume
    if not isinstance(in_place, (bool, np.bool_)):
        raise TypeError(f"in_place must be a bool, got {type(in_place).__name__}")
    if isinstance(image, (arrays.DeviceArray, Volume)):
        if in_place:
            raise ValueError("in_place=True needs a numpy image (a DeviceArray or Volume "
                             "input is never written)")
        mask = flood(image, seed_point, footprint=footprint, connectivity=connectivity,
                     tolerance=tolerance)
        if isinstance(image, Volume):
            arr = np.array(arrays.asnumpy(image.array) if isinstance(image.array,
                                                                     arrays.DeviceArray)
                           else image.array, copy=True)
            m = mask.array
            m = arrays.asnumpy(m).astype(bool) if isinstance(m, arrays.DeviceArray) else m
            arr[m] = new_value
            out = arrays.asarray(arr) if isinstance(image.array, arrays.DeviceArray) else arr
            return image.with_array(out)
        arr = arrays.asnumpy(image).copy()
        arr[arrays.asnumpy(mask).astype(bool)] = new_value
        return arrays.asarray(arr)
    mask = flood(image, seed_point, footprint=footprint, connectivity=connectivity,
                 tolerance=tolerance)
    if not in_place:
        image = np.array(image, copy=True)
    if image.size == 0:
        return image
    image[mask] = new_value
    return image


def apply_hysteresis_threshold(image: Any, low: Any, high: Any) -> Any:
    """Hysteresis thresholding: the elements above ``low`` connected (faces) to an element
    above ``high``.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D, any real dtype or bool.
    low, high : float
        The thresholds (strict: ``image > low``); ``low`` is lowered to ``high`` when above
        it.

    Returns
    -------
    thresholded : ndarray of bool, DeviceArray (uint8 0/1) or Volume

    Notes
    -----
    Reference: ``skimage.filters.apply_hysteresis_threshold`` (scikit-image 0.26): the
    components of ``image > low`` (``scipy.ndimage.label``'s default: faces) holding an
    element of ``image > high``; masks equal its element for element, comparisons follow
    numpy's dtype rules (``low`` is a numpy scalar there, so compared in float64; a
    Python float ``high`` is compared in a float32 image's dtype).

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> image = np.array([1, 2, 3, 2, 1, 2, 1, 3, 2])
    >>> ms.apply_hysteresis_threshold(image, 1.5, 2.5).astype(int)
    array([0, 1, 1, 1, 0, 0, 0, 1, 1])
    """
    job = _image_job(image)
    checks.real(low, "low", finite=False)
    hi_v = checks.real(high, "high", finite=False)
    dt = job._x.dtype if isinstance(job._x, np.ndarray) else job.in_dtype
    lo_t = _compare_value(np.clip(low, None, high) if not math.isnan(hi_v) else low, dt)
    hi_t = _compare_value(high, dt)
    mask = job.buffer(np.uint8)
    seeds = job.buffer(np.uint8)
    try:
        job.launch(grow.above(job.in_dtype), job.src, mask, lo_t)
        job.launch(grow.above(job.in_dtype), job.src, seeds, hi_t)
    except BaseException:
        _release(mask, seeds)
        raise
    out = job.buffer(np.uint8)
    try:
        _grow(job, mask, ("mask", _BufferMask(seeds)), _offsets3(_structure(None, job.ndim)),
              out)
    except BaseException:
        job.discard(out)
        raise
    finally:
        _release(seeds)
    return job.finish_mask(out)


class _BufferMask:
    """A uint8 kernel buffer used as a seed mask by :func:`_grow`."""

    def __init__(self, buf: Any):
        self._buf = buf
        self.dtype = np.dtype(np.uint8)


def _compare_value(t: Any, dtype: np.dtype) -> float:
    """The float64 value that ``image > t`` compares ``image``'s (float64) values with,
    following numpy's promotion: a Python float is cast to a float image's dtype (weak
    scalar), a numpy scalar or an integer image compares in float64."""
    v = float(t)
    if dtype.kind == "f" and dtype.itemsize < 8 and isinstance(t, (float, int)) \
            and not isinstance(t, np.generic) and not isinstance(t, bool):
        with np.errstate(over="ignore"):
            return float(np.array(v).astype(dtype))
    return v


# --------------------------------------------------------------------------- ITK
def _itk_bound(value: float, dtype: np.dtype) -> Any:
    """ITK's ``static_cast<PixelType>(bound)`` after clipping to the pixel type's range
    (integers truncated toward zero, floats rounded)."""
    return _cast_bound(value, dtype)


def _itk_job(image: Any, seeds: Any) -> tuple:
    job = _image_job(image, bools=False)
    return job, _seeds(seeds, job.shape)


def _seed_marks(job: Job, s: tuple) -> tuple:
    """A mask seed on the device as the kernel input :func:`_grow` takes."""
    kind, v = s
    if kind == "mask" and isinstance(v, np.ndarray):
        return kind, np.ascontiguousarray(v)
    return s


def binary_threshold(image: Any, lower: float | None = None,
                     upper: float | None = None) -> Any:
    """The mask of ``lower <= value <= upper``: a threshold that stays on the device.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D, any real dtype.
    lower, upper : float, optional
        The interval, inclusive (default: unbounded on that side); cast to the image's
        dtype first as ITK does (integers truncated toward zero).

    Returns
    -------
    mask : ndarray, DeviceArray or Volume of uint8
        1 inside the interval, 0 outside (NaN is outside): SimpleITK's default inside /
        outside values.

    Raises
    ------
    ValueError
        ``lower > upper`` (ITK raises too).

    Notes
    -----
    Reference: ITK's ``BinaryThresholdImageFilter`` (SimpleITK ``BinaryThreshold`` with
    ``insideValue=1, outsideValue=0``), equal element for element. The step between a
    threshold and :func:`label` or :func:`regionprops_table` of a device pipeline:
    ``binary_threshold(d, lower=threshold_otsu(d))`` keeps the data where it is (it is
    ``d >= t``; scikit-image's examples write ``image > t``, which differs only at
    elements equal to ``t``).

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> ms.binary_threshold(np.array([[1, 5, 9], [4, 6, 2]]), lower=4, upper=6)
    array([[0, 1, 0],
           [1, 1, 0]], dtype=uint8)
    """
    job = _image_job(image, bools=False)
    dt = job.in_dtype
    lo = -math.inf if lower is None else checks.real(lower, "lower", finite=False)
    hi = math.inf if upper is None else checks.real(upper, "upper", finite=False)
    if lo > hi:
        raise ValueError(f"lower ({lower}) must not be greater than upper ({upper})")
    mask = job.buffer(np.uint8)
    try:
        job.launch(grow.in_range(dt), job.src, mask, dt.type(_itk_bound(lo, dt)),
                   dt.type(_itk_bound(hi, dt)))
    except BaseException:
        job.discard(mask)
        raise
    return job.finish(mask)


def connected_threshold(image: Any, seeds: Any, lower: float, upper: float,
                        connectivity: int = 1) -> Any:
    """The elements with ``lower <= value <= upper`` connected to a seed.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D, any real dtype.
    seeds : tuple, sequence of tuples, (n, ndim) int array or bool mask
        Seed indices in numpy's axis order (SimpleITK's are reversed: x first), or a
        bool mask of the image's shape whose True elements are seeds.
    lower, upper : float
        The interval, inclusive; cast to the image's dtype first as ITK does
        (integers truncated toward zero).
    connectivity : int
        1: faces (ITK's default); ``ndim``: every neighbour of the 3 x 3 (x 3) box
        (SimpleITK's ``FullConnectivity``); values between connect at most that many unit
        steps.

    Returns
    -------
    region : ndarray, DeviceArray or Volume of uint8
        1 on the region, 0 elsewhere (SimpleITK's default ``replaceValue`` 1).

    Raises
    ------
    ValueError
        A seed outside the image or of another dimensionality.

    Notes
    -----
    Reference: ITK's ``ConnectedThresholdImageFilter`` (SimpleITK 2.5
    ``ConnectedThreshold``); regions equal its element for element. A seed whose value lies
    outside the interval grows nothing (as ITK). SimpleITK ignores seeds outside the image;
    medkern refuses them.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> a = np.array([[1, 5, 5, 0],
    ...               [0, 5, 0, 5],
    ...               [5, 0, 0, 5]], dtype=np.int16)
    >>> ms.connected_threshold(a, (0, 1), 4, 6)
    array([[0, 1, 1, 0],
           [0, 1, 0, 0],
           [0, 0, 0, 0]], dtype=uint8)
    >>> ms.connected_threshold(a, [(0, 1), (1, 3)], 4, 6, connectivity=2)
    array([[0, 1, 1, 0],
           [0, 1, 0, 1],
           [1, 0, 0, 1]], dtype=uint8)
    """
    job, s = _itk_job(image, seeds)
    offsets = _connectivity_structure(connectivity, job.ndim)
    dt = job.in_dtype
    lo = _itk_bound(checks.real(lower, "lower", finite=False), dt)
    hi = _itk_bound(checks.real(upper, "upper", finite=False), dt)
    return _threshold_region(job, s, offsets, lo, hi)


def _threshold_region(job: Job, s: tuple, offsets: tuple, lo: Any, hi: Any,
                      radius: tuple | None = None, force: bool = False) -> Any:
    mask = job.buffer(np.uint8)
    dt = job.in_dtype
    try:
        if radius is None:
            job.launch(grow.in_range(dt), job.src, mask, dt.type(lo), dt.type(hi))
        else:
            _box_in_range(job, mask, lo, hi, radius)
        if force:
            _force_seeds(job, mask, s)
    except BaseException:
        _release(mask)
        raise
    out = job.buffer(np.uint8)
    try:
        _grow(job, mask, _seed_marks(job, s), offsets, out)
    except BaseException:
        job.discard(out)
        raise
    return job.finish(out)


def _box_in_range(job: Job, mask: Any, lo: Any, hi: Any, radius: tuple) -> None:
    """``mask`` = 1 where the whole box of ``radius`` (3-D, clamped at the edge) lies in
    ``[lo, hi]``: the in-interval mask eroded line by line along each axis of nonzero
    radius (separable: a clamped box is the product of clamped lines)."""
    dt = job.in_dtype
    job.launch(grow.in_range(dt), job.src, mask, dt.type(lo), dt.type(hi))
    axes = [a for a in range(3) if radius[a] > 0]
    if not axes:
        return
    tmp = job.buffer(np.uint8)
    try:
        cur, other = mask, tmp
        for a in axes:
            job.launch(grow.erode_line(a), cur, other, int(radius[a]))
            cur, other = other, cur
        if cur is not mask:
            job.launch(grow.erode_line(0), cur, mask, 0)  # r = 0: a copy
    finally:
        _release(tmp)


def _radius3(radius: Any, ndim: int, name: str = "radius") -> tuple:
    """A box radius per axis (numpy's order) as 3 int32 values, leading axes 0."""
    def one(v: Any) -> int:
        try:
            return checks.integer(v, name)
        except TypeError as exc:  # SciPy's (and the filters') ValueError for a non-integer
            raise ValueError(str(exc)) from None
    if np.ndim(radius) == 0:
        r = [one(radius)] * ndim
    else:
        r = [one(v) for v in radius]
        if len(r) != ndim:
            raise ValueError(f"{name} must have one value per axis ({ndim}), got {len(r)}")
    if any(v < 0 for v in r):
        raise ValueError(f"{name} must be >= 0, got {radius}")
    return tuple([0] * (3 - ndim) + r)


def neighborhood_connected(image: Any, seeds: Any, lower: float, upper: float,
                           radius: Any = 1, connectivity: int = 1) -> Any:
    """The elements whose whole box neighbourhood lies in ``[lower, upper]``, connected
    to a seed.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D, any real dtype.
    seeds : tuple, sequence of tuples, (n, ndim) int array or bool mask
        As :func:`connected_threshold` (numpy's axis order).
    lower, upper : float
        The interval, inclusive, cast to the image's dtype as ITK does.
    radius : int or sequence of int
        The box's half size per axis (numpy's order); default 1 (a 3 x 3 (x 3) box). The
        box is clamped at the image's edge (ITK's zero-flux Neumann boundary: the edge
        values repeat).
    connectivity : int
        1: faces (ITK's, the only one SimpleITK offers); up to ``ndim``: diagonals too.

    Returns
    -------
    region : ndarray, DeviceArray or Volume of uint8
        1 on the region, 0 elsewhere (SimpleITK's default ``replaceValue`` 1).

    Notes
    -----
    Reference: ITK's ``NeighborhoodConnectedImageFilter`` (SimpleITK 2.5
    ``NeighborhoodConnected``); regions equal its element for element. Seeds are always
    in the region, even one whose own box leaves the interval (ITK pushes them
    unconditionally), and the region grows from them through the elements whose box
    passes. Seeds outside the image raise ``ValueError`` (SimpleITK ignores them).

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> a = np.zeros((5, 7), np.uint8)
    >>> a[:, 5] = 9
    >>> ms.neighborhood_connected(a, (2, 1), 0, 1)
    array([[1, 1, 1, 1, 0, 0, 0],
           [1, 1, 1, 1, 0, 0, 0],
           [1, 1, 1, 1, 0, 0, 0],
           [1, 1, 1, 1, 0, 0, 0],
           [1, 1, 1, 1, 0, 0, 0]], dtype=uint8)
    """
    job, s = _itk_job(image, seeds)
    offsets = _connectivity_structure(connectivity, job.ndim)
    r = _radius3(radius, job.ndim)
    dt = job.in_dtype
    lo = _itk_bound(checks.real(lower, "lower", finite=False), dt)
    hi = _itk_bound(checks.real(upper, "upper", finite=False), dt)
    return _threshold_region(job, s, offsets, lo, hi, radius=tuple(int(v) for v in r),
                             force=True)


def confidence_connected(image: Any, seeds: Any, multiplier: float = 2.5,
                         iterations: int = 4, initial_neighborhood_radius: int = 1,
                         connectivity: int = 1) -> Any:
    """Region growing on a confidence interval: the elements within ``mean +- multiplier *
    std`` connected to a seed, the statistics re-estimated from the region each iteration.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D, any real dtype.
    seeds : tuple, sequence of tuples, (n, ndim) int array or bool mask
        As :func:`connected_threshold` (numpy's axis order). Each seed counts once per
        time it is listed in the initial statistics (ITK's).
    multiplier : float
        The interval's half width in standard deviations (ITK's default 2.5; SimpleITK's
        function defaults to 4.5).
    iterations : int
        Re-estimations of the mean and variance from the current region (>= 0).
    initial_neighborhood_radius : int
        The first statistics come from the boxes of this radius around the seeds (clamped
        at the edge); 0: from the seeds' values alone.
    connectivity : int
        1: faces (ITK's, the only one SimpleITK offers); up to ``ndim``: diagonals too.

    Returns
    -------
    region : ndarray, DeviceArray or Volume of uint8
        1 on the region, 0 elsewhere (SimpleITK's default ``replaceValue`` 1).

    Notes
    -----
    Reference: ITK's ``ConfidenceConnectedImageFilter`` (SimpleITK 2.5
    ``ConfidenceConnected``), its semantics: the variance is the unbiased one (``n - 1``);
    the interval is widened to hold every seed's value, clipped to the pixel type's range
    and cast to it (integers truncated toward zero), so the seeds are always in the region;
    iterations stop early when the variance is 0. The region's sums are float64 over rows
    (ITK adds in flood order): exact for integer images; a float image's interval can
    differ in the last bit. No seed: an empty region. Seeds outside the image raise
    ``ValueError`` (ITK skips them).

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> a = np.full((6, 6), 100, np.int16)
    >>> a[:, 3:] = 200
    >>> a[2, 1] = 102
    >>> int(ms.confidence_connected(a, (2, 1), multiplier=2.5).sum())
    18
    """
    job, s = _itk_job(image, seeds)
    offsets = _connectivity_structure(connectivity, job.ndim)
    mult = checks.real(multiplier, "multiplier")
    its = checks.integer(iterations, "iterations")
    if its < 0:
        raise ValueError(f"iterations must be >= 0, got {its}")
    rad = checks.integer(initial_neighborhood_radius, "initial_neighborhood_radius")
    if rad < 0:
        raise ValueError(f"initial_neighborhood_radius must be >= 0, got {rad}")
    dt = job.in_dtype
    kind, v = s
    if kind == "mask":
        host = arrays.asnumpy(v) if isinstance(v, arrays.DeviceArray) else v
        pos = np.flatnonzero(np.asarray(host).reshape(-1))
    else:
        pos = v
    if pos.size == 0:  # ITK: no seed, a zero image
        out = job.buffer(np.uint8)
        job.launch(grow.in_range(dt), job.src, out, dt.type(1), dt.type(0))  # all 0
        return job.finish(out)
    # the seeds' values and their neighbourhoods' sums (ITK's order: seeds as listed)
    r3 = tuple([0] * (3 - job.ndim) + [rad] * job.ndim)
    pbuf = _positions(pos)
    sums = arrays.empty_buffer((2 * pos.size,), np.dtype(np.float64))
    vals = arrays.empty_buffer((2 * pos.size,), np.dtype(np.float64))
    try:
        job.launch(grow.box_sums(dt), job.src, pbuf, sums, *r3)
        job.launch(grow.box_sums(dt), job.src, pbuf, vals, 0, 0, 0)
        box = arrays.download(sums, (2 * pos.size,)).copy()
        sv = arrays.download(vals, (2 * pos.size,))[0::2].copy()
    finally:
        _release(pbuf, sums, vals)
    if rad > 0:
        size = float((2 * rad + 1) ** job.ndim)
        mean = 0.0
        sq = 0.0
        for k in range(pos.size):
            mean += box[2 * k] / size
            sq += box[2 * k + 1]
        total = pos.size * size
        mean /= pos.size
        var = (sq - mean * mean * total) / (total - 1.0)
    else:
        ssum = 0.0
        sq = 0.0
        for x in sv:
            ssum += x
            sq += x * x
        n = float(pos.size)
        mean = ssum / n
        var = (sq - ssum * ssum / n) / (n - 1.0) if n > 1 else math.nan
    lowest, highest = float(sv.min()), float(sv.max())
    if dt.kind == "f":
        tmin, tmax = -float(np.finfo(dt).max), float(np.finfo(dt).max)
    else:
        tmin, tmax = float(np.iinfo(dt).min), float(np.iinfo(dt).max)

    def interval(mean: float, var: float) -> tuple:
        sd = math.sqrt(var) if var >= 0 else math.nan
        lo, hi = mean - mult * sd, mean + mult * sd
        # ITK's comparisons (a NaN bound stays NaN)
        if lo > lowest:
            lo = lowest
        if hi < highest:
            hi = highest
        if lo < tmin:
            lo = tmin
        if hi > tmax:
            hi = tmax
        return _itk_bound(lo, dt), _itk_bound(hi, dt)

    lo, hi = interval(mean, var)
    region = _region(job, s, offsets, lo, hi)
    try:
        shape3 = arrays.shape3(job.shape)
        part_shape = shape3[:2] + (3 * dsl.row_segments(shape3[2]),)  # long rows: segments
        for _ in range(its):
            part = arrays.empty_buffer(part_shape, np.dtype(np.float64))
            try:
                job.launch(grow.region_sums(dt), job.src, region, part)
                p = arrays.download(part, part_shape).reshape(-1, 3)
                ssum, sq, n = (float(v) for v in p.sum(axis=0))
                del p
            finally:
                _release(part)
            mean = ssum / n if n else math.nan
            var = (sq - ssum * ssum / n) / (n - 1.0) if n else math.nan
            if abs(var) <= 0.1 * np.finfo(np.float64).eps:  # ITK: AlmostEquals(var, 0)
                break
            lo, hi = interval(mean, var)
            _release(region)
            region = None
            region = _region(job, s, offsets, lo, hi)
    except BaseException:
        _release(region)
        job.discard()
        raise
    return job.finish(region)


def _region(job: Job, s: tuple, offsets: tuple, lo: Any, hi: Any) -> Any:
    """A leased uint8 region buffer: the interval's components holding a seed."""
    mask = job.buffer(np.uint8)
    dt = job.in_dtype
    try:
        job.launch(grow.in_range(dt), job.src, mask, dt.type(lo), dt.type(hi))
        _force_seeds(job, mask, s)  # ITK pushes every seed, whatever its value
    except BaseException:
        _release(mask)
        raise
    out = job.buffer(np.uint8)
    try:
        _grow(job, mask, _seed_marks(job, s), offsets, out)
    except BaseException:
        _release(out)
        raise
    return out


# --------------------------------------------------------------------------- registry
def _levels(shape: tuple, dtype: Any, seed: int) -> np.ndarray:
    """Parity input: a random image quantised to 8 levels (0..7; bool: their parity), so
    equal-value and interval regions are large and ragged."""
    from ...sample_data import random_image
    q = (random_image(tuple(shape), np.float64, seed=seed) + 1024.0) // 512.0
    q = np.clip(q, 0, 7)
    return (q % 2).astype(bool) if np.dtype(dtype) == np.bool_ else q.astype(dtype)


def _points(shape: tuple, seed: int, n: int) -> list:
    rng = np.random.default_rng(seed)
    return [tuple(int(v) for v in rng.integers(0, shape)) for _ in range(n)]


def _seed_point_input(shape: tuple, seed: int, case: dict) -> dict:
    return {"seed_point": _points(shape, seed, 1)[0]}


def _seeds_input(shape: tuple, seed: int, case: dict) -> dict:
    return {"seeds": _points(shape, seed, 3)}


def _same_mask(ours: Any, ref: Any) -> float:
    """0 when the masks are identical (values, shape, dtype), else inf. A uint8 0/1 mask
    stands for a bool one: a DeviceArray result (device buffers hold no bool), also when
    ``medkern compare`` has brought it to the host; tests/test_region_growing.py checks
    that numpy input gives bool."""
    a = arrays.asnumpy(ours) if isinstance(ours, arrays.DeviceArray) else np.asarray(ours)
    b = np.asarray(ref)
    if b.dtype == np.bool_ and a.dtype == np.uint8 and a.size and int(a.max()) <= 1:
        a = a.view(np.bool_)
    return 0.0 if a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) \
        else float("inf")


def _sitk_run(name: str, image: np.ndarray, seeds: Any, **params: Any) -> np.ndarray:
    """A SimpleITK region growing filter on a numpy image, seeds in numpy's axis order."""
    import SimpleITK as sitk
    kind, s = _seeds(seeds, image.shape)
    pos = np.flatnonzero(s) if kind == "mask" else s
    idx = np.array(np.unravel_index(pos, image.shape)).T
    img = sitk.GetImageFromArray(np.ascontiguousarray(image))
    f = getattr(sitk, name + "ImageFilter")()
    f.SetSeedList([tuple(int(v) for v in row[::-1]) for row in idx])
    for key, value in params.items():
        getattr(f, "Set" + key)(value)
    return sitk.GetArrayFromImage(f.Execute(img))


def sitk_binary_threshold(image: Any, lower: float | None = None,
                          upper: float | None = None) -> np.ndarray:
    """SimpleITK's ``BinaryThreshold`` (inside 1, outside 0) with medkern's defaults for
    an open side (the dtype's extremes)."""
    import SimpleITK as sitk
    x = np.asarray(image)
    info = np.iinfo(x.dtype) if x.dtype.kind in "iu" else np.finfo(x.dtype)
    lo = float(info.min) if lower is None else float(lower)
    hi = float(info.max) if upper is None else float(upper)
    img = sitk.GetImageFromArray(x)
    return sitk.GetArrayFromImage(sitk.BinaryThreshold(img, lo, hi, 1, 0))


def sitk_connected_threshold(image: Any, seeds: Any, lower: float, upper: float,
                             connectivity: int = 1) -> np.ndarray:
    """SimpleITK's ``ConnectedThreshold`` in medkern's signature (faces or full
    connectivity)."""
    import SimpleITK as sitk
    full = connectivity == np.ndim(image) and connectivity > 1
    conn = sitk.ConnectedThresholdImageFilter.FullConnectivity if full \
        else sitk.ConnectedThresholdImageFilter.FaceConnectivity
    return _sitk_run("ConnectedThreshold", image, seeds, Lower=float(lower),
                     Upper=float(upper), Connectivity=conn)


def sitk_confidence_connected(image: Any, seeds: Any, multiplier: float = 2.5,
                              iterations: int = 4, initial_neighborhood_radius: int = 1,
                              connectivity: int = 1) -> np.ndarray:
    """SimpleITK's ``ConfidenceConnected`` in medkern's signature (faces only)."""
    return _sitk_run("ConfidenceConnected", image, seeds, Multiplier=float(multiplier),
                     NumberOfIterations=int(iterations),
                     InitialNeighborhoodRadius=int(initial_neighborhood_radius))


def sitk_neighborhood_connected(image: Any, seeds: Any, lower: float, upper: float,
                                radius: Any = 1, connectivity: int = 1) -> np.ndarray:
    """SimpleITK's ``NeighborhoodConnected`` in medkern's signature (faces only)."""
    r = [int(radius)] * np.ndim(image) if np.ndim(radius) == 0 else [int(v) for v in radius]
    return _sitk_run("NeighborhoodConnected", image, seeds, Lower=float(lower),
                     Upper=float(upper), Radius=r[::-1])


def _skimage(path: str) -> Any:
    """scikit-image's function at ``path`` (``"segmentation.flood"``), imported on first
    call: scikit-image is a test dependency, not medkern's."""
    def reference(*args: Any, **kwargs: Any) -> Any:
        import importlib
        module, name = path.rsplit(".", 1)
        return getattr(importlib.import_module("skimage." + module), name)(*args, **kwargs)
    reference.__name__ = path.rsplit(".", 1)[1]
    reference.__qualname__ = reference.__name__
    return reference


def _register() -> None:
    """Registry entries: parity cases on the 8-level images (:func:`_levels`), benchmark
    thresholds in CT units (``medkern compare`` runs on a CT volume in HU)."""
    from ...registry import Algorithm, register
    grow_dtypes = ("bool", "uint8", "int16", "float32")
    itk_dtypes = ("uint8", "uint16", "int16", "float32")
    register(Algorithm(
        name="flood", area="segmentation", func=flood, reference=_skimage("segmentation.flood"),
        reference_name="skimage.segmentation.flood", bench_kwargs={"tolerance": 150},
        cases=({}, {"connectivity": 1}, {"tolerance": 1}, {"tolerance": 2, "connectivity": 1}),
        dtypes=grow_dtypes, make_input=_levels, inputs=_seed_point_input,
        compare_result=_same_mask))
    register(Algorithm(
        name="flood_fill", area="segmentation", func=flood_fill,
        reference=_skimage("segmentation.flood_fill"),
        reference_name="skimage.segmentation.flood_fill",
        bench_kwargs={"new_value": 1, "tolerance": 150},
        cases=({"new_value": 1}, {"new_value": 0, "tolerance": 1, "connectivity": 1}),
        dtypes=grow_dtypes, make_input=_levels, inputs=_seed_point_input,
        compare_result=_same_mask))
    register(Algorithm(
        name="apply_hysteresis_threshold", area="segmentation",
        func=apply_hysteresis_threshold,
        reference=_skimage("filters.apply_hysteresis_threshold"),
        reference_name="skimage.filters.apply_hysteresis_threshold",
        bench_kwargs={"low": 0, "high": 300},
        cases=({"low": 2.5, "high": 5.5}, {"low": 3, "high": 6}, {"low": 5.5, "high": 2.5}),
        dtypes=grow_dtypes, make_input=_levels, compare_result=_same_mask))
    register(Algorithm(
        name="connected_threshold", area="segmentation", func=connected_threshold,
        reference=sitk_connected_threshold,
        reference_name="SimpleITK.ConnectedThreshold",
        bench_kwargs={"lower": -100, "upper": 300},
        cases=({"lower": 2, "upper": 5}, {"lower": 2, "upper": 5,
                                           "connectivity": {"_2d": 2, "_3d": 3}}),
        dtypes=itk_dtypes, make_input=_levels, inputs=_seeds_input,
        compare_result=_same_mask))
    register(Algorithm(
        name="confidence_connected", area="segmentation", func=confidence_connected,
        reference=sitk_confidence_connected,
        reference_name="SimpleITK.ConfidenceConnected",
        bench_kwargs={}, cases=({}, {"multiplier": 1.5, "initial_neighborhood_radius": 2}),
        dtypes=itk_dtypes, make_input=_levels, inputs=_seeds_input,
        compare_result=_same_mask))
    register(Algorithm(
        name="neighborhood_connected", area="segmentation", func=neighborhood_connected,
        reference=sitk_neighborhood_connected,
        reference_name="SimpleITK.NeighborhoodConnected",
        bench_kwargs={"lower": -200, "upper": 400},
        cases=({"lower": 1, "upper": 6}, {"lower": 0, "upper": 5, "radius": 2}),
        dtypes=itk_dtypes, make_input=_levels, inputs=_seeds_input,
        compare_result=_same_mask))

    register(Algorithm(
        name="binary_threshold", area="segmentation", func=binary_threshold,
        reference=sitk_binary_threshold, reference_name="SimpleITK.BinaryThreshold",
        bench_kwargs={"lower": 100, "upper": 1500},
        cases=({"lower": 2, "upper": 5}, {"lower": 3.5}, {"upper": 2.5}),
        dtypes=itk_dtypes, make_input=_levels, compare_result=_same_mask))


_register()
