"""Distance transforms with the results of ``scipy.ndimage``'s ``distance_transform_*``.

All three run the same way (:mod:`medkern.kernels.distance`): the *feature transform*
(for each element, the coordinates of a nearest background -- zero -- element) is
built by one exact pass per axis, every line of the axis a thread that walks it, and
the distances are computed from the features at the end with SciPy's arithmetic. The
data stays on the device between passes.

* :func:`distance_transform_edt`: Maurer's linear-time exact Euclidean transform --
  the algorithm SciPy runs -- with SciPy's pass order, tie rules and float64
  operations, so the indices equal SciPy's everywhere (ties included: exactly without
  ``sampling``, where all arithmetic is on integers; on the CPU arch with it).
* :func:`distance_transform_cdt`: SciPy's two chamfer sweeps with the metric's
  ``3 x ... x 3`` structure, run as SciPy runs them (serial) where its indices or an
  arbitrary structure are asked for; the taxicab / chessboard distances alone by
  separable passes on the distances (lines in parallel; for chessboard on the CPU arch
  the sweeps, which are faster there).
* :func:`distance_transform_bf`: SciPy's brute force itself, on the device: every
  foreground element against every border background element, in parallel, with
  SciPy's arithmetic and tie rule (indices identical).

Distances and indices equal SciPy's everywhere, ties included (for ``edt`` with
``sampling`` on the CPU arch; see its Notes).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.ndimage as ndi

from ... import arrays, runtime
from ...checks import ArgumentError, _scipy
from ...kernels import distance as kd, dsl
from ...registry import Algorithm, register
from ...typing import ArrayInput
from ..job import Job, host_like

__all__ = ["distance_transform_edt", "distance_transform_cdt", "distance_transform_bf"]

_UINT32_MAX = float(2**32 - 1)


# --------------------------------------------------------------------------- arguments
def _arg_check(distances: Any, indices: Any, return_distances: bool,
               return_indices: bool) -> None:
    """SciPy's ``_distance_tranform_arg_check`` (``RuntimeError``: ``ArgumentError``)."""
    msgs = []
    if not return_distances and not return_indices:
        msgs.append("at least one of return_distances/return_indices must be True")
    if distances is not None and not return_distances:
        msgs.append("return_distances must be True if distances is supplied")
    if indices is not None and not return_indices:
        msgs.append("return_indices must be True if indices is supplied")
    if msgs:
        raise ArgumentError(", ".join(msgs))
    for name, value in (("distances", distances), ("indices", indices)):
        if value is not None and not isinstance(value, (np.ndarray, arrays.DeviceArray)):
            raise TypeError(f"{name} must be a numpy array or a DeviceArray to write into, "
                            f"got {type(value).__name__}")


def _target(value: Any, name: str, shape: tuple, dtype: Any, err: type,
            wrong_dtype: str, wrong_shape: str) -> None:
    """Check an output array (``distances=`` / ``indices=``): SciPy's phrases, ``err``
    its exception class (``ArgumentError`` where SciPy raises ``RuntimeError``)."""
    if value is None:
        return
    if np.dtype(value.dtype) != np.dtype(dtype):
        raise err(f"{name} must have dtype {np.dtype(dtype)}, got {np.dtype(value.dtype)}"
                  + _scipy(wrong_dtype))
    if tuple(value.shape) != tuple(shape):
        raise err(f"{name} must have shape {tuple(shape)}, got {tuple(value.shape)}"
                  + _scipy(wrong_shape))


def _sampling(sampling: Any, ndim: int, volume: Any) -> list[float] | None:
    """Per-axis weights: ``sampling`` as SciPy normalises it (a scalar for every axis, or
    one value per axis), a Volume's spacing when ``sampling`` is None, else None."""
    if sampling is None:
        if volume is None:
            return None
        sampling = tuple(volume.spacing)
    if isinstance(sampling, str):
        raise TypeError("sampling must be a number or a sequence of numbers, got a string")
    seq = np.atleast_1d(np.asarray(sampling, dtype=object))
    if seq.ndim != 1:
        raise ArgumentError(f"sampling must be a scalar or a sequence, got shape {seq.shape}")
    if np.ndim(sampling) == 0:
        seq = np.repeat(seq, ndim)
    if len(seq) != ndim:
        raise ArgumentError(f"sampling must be a scalar or have one entry per axis ({ndim}), "
                            f"got {len(seq)} entries"
                            + _scipy("sequence argument must have length equal to input rank"))
    try:
        values = [float(v) for v in seq]
    except (TypeError, ValueError):
        raise TypeError(f"sampling must hold numbers, got {sampling!r}") from None
    if any(not np.isfinite(v) or v <= 0 for v in values):
        raise ValueError(f"sampling must be positive and finite along every axis, got {values}")
    return values


def _job(input: Any, dtype: Any) -> Job:
    job = Job(host_like(input), None, dtype=dtype, bools=True)
    if job.ndim > 3:
        job.discard()
        raise ValueError(f"input must have 1-3 dimensions, got {job.ndim}")
    return job


def _pack(result: list) -> Any:
    if len(result) == 2:
        return tuple(result)
    return result[0] if result else None


# --------------------------------------------------------------------------- the transform
def _features(job: Job, weights: list[float] | None) -> Any:
    """The feature transform of the job's input (a leased int32 buffer in the component
    layout, ``(ndim,) + shape``) by the Euclidean passes."""
    ndim, shape = job.ndim, job.shape
    comp = arrays.component_shape3(ndim, shape)
    a = arrays.empty_buffer(comp, np.dtype(np.int32))
    b = arrays.empty_buffer(comp, np.dtype(np.int32))
    scratch = [arrays.empty_buffer(arrays.shape3(shape), np.dtype(np.int32))]
    w3 = [float(v) for v in (weights or [1.0] * ndim)] + [1.0] * (3 - ndim)
    try:
        job.launch(kd.init(job.in_dtype, ndim), job.src, a, job.in_dtype.type(0))
        for ax in range(ndim):
            # a pass pops its envelope in while loops: ~6 iterations an element
            n = int(shape[ax])
            dsl.check_walk(n, int(np.prod(shape)) // max(n, 1), 6,
                           f"distance_transform_edt: a line of {n} elements")
            job.launch(kd.edt_pass(ndim, ax), a, b, scratch[0], *w3, 0.0, 1)
            a, b = b, a
    except BaseException:
        arrays.release_buffer(a)
        raise
    finally:
        for buf in (b, *scratch):
            arrays.release_buffer(buf)
    return a


def _run(job: Job, metric: str, weights: list[float] | None, kind: str, fill: float,
         return_distances: bool, return_indices: bool, distances: Any, indices: Any) -> Any:
    """Features -> distances (``kind``, :func:`medkern.kernels.distance.distances`) ->
    the results SciPy returns, written into ``distances`` / ``indices`` where given."""
    ndim = job.ndim
    ft = _features(job, weights)
    w3 = [float(v) for v in (weights or [1.0] * ndim)] + [1.0] * (3 - ndim)
    try:
        if return_distances:
            dbuf = job.buffer()
            job.launch(kd.distances(ndim, kind, job.out_dtype), ft, dbuf, *w3, float(fill), 1)
    except BaseException:
        job.discard(ft)
        raise
    return _deliver(job, dbuf if return_distances else None, ft, return_distances,
                    return_indices, distances, indices)


def _deliver(job: Job, dbuf: Any, ft: Any, return_distances: bool, return_indices: bool,
             distances: Any, indices: Any) -> Any:
    """The results SciPy returns (distances in the input's kind, indices as an array of
    that kind), written into ``distances`` / ``indices`` where given."""
    ishape = (job.ndim,) + job.shape
    if not return_distances and dbuf is not None:
        arrays.release_buffer(dbuf)
    if return_distances and return_indices:
        dist, idx = job.finish_with(dbuf, extra=[(ft, ishape, np.int32)])
    elif return_distances:
        dist, idx = job.finish(dbuf), None
        if ft is not None:
            arrays.release_buffer(ft)
    else:
        dist, idx = None, job.deliver(ft, ishape, np.int32)
        job.discard()
    result = []
    if return_distances:
        if distances is None:
            result.append(dist)
        else:
            _write(distances, dist)
    if return_indices:
        if indices is None:
            result.append(idx)
        else:
            _write(indices, idx)
    return _pack(result)


def _write(target: Any, value: Any) -> None:
    """Copy a result into the caller's ``distances=`` / ``indices=`` array."""
    from ...volume import Volume
    if isinstance(value, Volume):
        value = value.array
    if isinstance(target, arrays.DeviceArray):
        src = value if isinstance(value, arrays.DeviceArray) else arrays.asarray(value)
        arrays.copy_buffer(src._buf, target._buf)
    else:
        target[...] = arrays.asnumpy(value) if isinstance(value, arrays.DeviceArray) else value


# --------------------------------------------------------------------------- public
def distance_transform_edt(input: ArrayInput, sampling: Any = None,
                           return_distances: bool = True, return_indices: bool = False,
                           distances: Any = None, indices: Any = None) -> Any:
    """Exact Euclidean distance transform: each element's distance to the nearest
    background (zero) element.

    Parameters
    ----------
    input : array_like, DeviceArray or Volume
        1-3 D, any real dtype or bool: nonzero elements (NaN included) are the
        foreground, zeros the background.
    sampling : float or sequence of float, optional
        Spacing of the elements along each axis (one value for all axes, or one per
        axis). Default: 1 -- or, for a :class:`~medkern.Volume`, its ``spacing`` (per
        array axis, in millimetres).
    return_distances : bool, optional
        Whether to return the distances (default True).
    return_indices : bool, optional
        Whether to return the feature transform (default False).
    distances : ndarray or DeviceArray, optional
        A float64 array of the input's shape to write the distances into (then they are
        not returned); needs ``return_distances``.
    indices : ndarray or DeviceArray, optional
        An int32 array of shape ``(input.ndim,) + input.shape`` to write the indices
        into (then they are not returned); needs ``return_indices``.

    Returns
    -------
    distances : ndarray, DeviceArray or Volume
        float64, the input's shape and kind (a Volume keeps its geometry).
    indices : ndarray or DeviceArray
        int32 ``(ndim,) + shape``: ``indices[:, p]`` is the position of a nearest
        background element of ``p``.

    Raises
    ------
    ArgumentError
        (a ``ValueError`` and ``RuntimeError``, SciPy's class) both ``return_*`` False,
        ``distances``/``indices`` given with their ``return_*`` False or of the wrong
        shape or dtype, ``sampling`` of another length than the input's rank.
    ValueError
        ``sampling`` not positive and finite; an input of more than 3 dimensions, 0-d
        or without elements.

    Notes
    -----
    Reference: ``scipy.ndimage.distance_transform_edt``. medkern runs the algorithm
    SciPy runs (Maurer, Qi and Raghavan 2003: one pass per axis, the lower envelope of
    the features' Voronoi cells along each line), every line of an axis in parallel,
    with SciPy's pass order, tie rules and float64 operations; distances are computed
    from the indices as SciPy computes them. Without ``sampling`` all arithmetic is on
    integers: indices and distances equal SciPy's exactly, also where several
    background elements are nearest. With ``sampling`` they do on the CPU arch; on GPU
    arches products are kept unfused as well, so they are expected to.
    An input without background gives SciPy's values (``indices[0] = -1``, the other
    components 0, distances computed from those; SciPy leaves an ``indices=`` array's
    other components as they were there, medkern writes 0). SciPy accepts zero or
    negative sampling; medkern refuses it. Empty and 0-d inputs are refused with a
    ``ValueError`` (SciPy answers them), as everywhere in medkern outside the filters
    and measurements.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.array([[0, 1, 1, 1],
    ...               [0, 1, 1, 1],
    ...               [0, 0, 1, 1]])
    >>> mm.distance_transform_edt(a)
    array([[0.        , 1.        , 2.        , 2.82842712],
           [0.        , 1.        , 1.41421356, 2.23606798],
           [0.        , 0.        , 1.        , 2.        ]])
    >>> d, idx = mm.distance_transform_edt(a, sampling=(2.0, 1.0), return_indices=True)
    >>> d[1]
    array([0.        , 1.        , 2.        , 2.82842712])
    >>> idx[:, 0, 3]  # the background element at row 0, column 0
    array([0, 0], dtype=int32)
    """
    _arg_check(distances, indices, return_distances, return_indices)
    job = _job(input, np.float64)
    try:
        weights = _sampling(sampling, job.ndim, job.volume)
        _target(indices, "indices", (job.ndim,) + job.shape, np.int32, ArgumentError,
                "indices array must be int32", "indices array has wrong shape")
        _target(distances, "distances", job.shape, np.float64, ArgumentError,
                "distances array must be float64", "distances array has wrong shape")
    except BaseException:
        job.discard()
        raise
    return _run(job, "euclidean", weights, "edt", 0.0, return_distances, return_indices,
                distances, indices)


_TAXICAB = ("taxicab", "cityblock", "manhattan")


def _cdt_metric(metric: Any, ndim: int) -> tuple[str | None, tuple]:
    """``metric`` of ``distance_transform_cdt``: ``("taxicab" | "chessboard" | None,
    offsets)`` -- the name where the structure is one of those two (the separable
    passes give its distances), and the 3-D offsets of the structure's first half in
    raster order (what SciPy's sweeps read)."""
    from ..segmentation._label import generate_binary_structure
    if isinstance(metric, str):
        if metric in _TAXICAB:
            s = generate_binary_structure(ndim, 1)
        elif metric == "chessboard":
            s = generate_binary_structure(ndim, ndim)
        else:
            raise ValueError(f"metric must be 'chessboard', 'taxicab' (or 'cityblock', "
                             f"'manhattan') or a structure array, got {metric!r}"
                             + _scipy("invalid metric provided"))
    else:
        try:
            s = np.asarray(metric)
        except Exception as exc:  # noqa: BLE001 - whatever numpy refuses
            raise ValueError(f"metric must be a string or a structure array: {exc}"
                             + _scipy("invalid metric provided")) from None
        if any(n != 3 for n in s.shape):
            raise ValueError(f"metric must have size 3 along every axis, got shape {s.shape}"
                             + _scipy("metric sizes must be equal to 3"))
        if s.ndim != ndim:
            raise ValueError(f"metric must have the input's rank {ndim}, got ndim={s.ndim}")
        if s.dtype.kind not in "biuf":
            raise TypeError(f"metric must be a boolean or numeric structure, got dtype {s.dtype}")
        # nonzero = in the structure (SciPy reads the array's bytes as bool: scipy#17381)
        s = s.astype(bool)
    # SciPy's sweeps read only the half before the centre (raster order); the
    # backward sweep reads the same half over the flipped array
    half = [idx for n, idx in enumerate(np.ndindex(*s.shape)) if n < s.size // 2 and s[idx]]
    offsets = tuple((0,) * (3 - ndim) + tuple(int(v) - 1 for v in idx) for idx in half)
    name = None
    for cand, conn in (("taxicab", 1), ("chessboard", ndim)):
        ref = generate_binary_structure(ndim, conn)
        if np.array_equal(s.ravel()[:s.size // 2], ref.ravel()[:s.size // 2]):
            name = cand
    return name, offsets


def _cdt(job: Job, name: str | None, offsets: tuple, return_distances: bool,
         return_indices: bool, distances: Any, indices: Any) -> Any:
    """The chamfer transform: SciPy's two sweeps (serial: its indices, or a structure
    other than the taxicab / chessboard one), else the separable passes (parallel)."""
    ndim, shape = job.ndim, job.shape
    zero = job.in_dtype.type(0)
    dbuf = job.buffer()
    bufs = []
    ft = None
    try:
        # chessboard distances: on the CPU SciPy's sweeps (serial, a few operations an
        # element) beat the separable L-infinity passes (a lower envelope per line)
        if return_indices or name is None or (name == "chessboard" and ndim > 1
                                               and runtime.is_cpu()):
            flat = arrays.empty_buffer(arrays.shape3(shape), np.dtype(np.int32))
            bufs.append(flat)
            job.launch(kd.cdt_init(job.in_dtype, -1, return_indices), job.src, dbuf, flat, zero)
            n = int(np.prod(shape))
            for backward in (False, True):
                sweep = kd.cdt_sweep(offsets, backward, return_indices)
                for start, stop in dsl.step_ranges(n, 1):  # one walker: the whole image
                    job.launch(sweep, dbuf, flat, start, stop)
            if return_indices:
                ft = arrays.empty_buffer(arrays.component_shape3(ndim, shape),
                                         np.dtype(np.int32))
                job.launch(kd.unravel(ndim), flat, ft)
        else:
            # the first pass (the 1-D distance, for any metric) along the contiguous axis;
            # on the CPU a thread of the other passes walks 32 lines side by side
            axes = list(range(ndim))[::-1]
            block = 32 if runtime.is_cpu() else 1
            # a line's walk in launches of a bounded number of steps (Mesa's Vulkan ends a
            # thread's loops after 65535 iterations; one launch elsewhere)
            shape3 = arrays.shape3(shape)
            size = int(np.prod(shape3))
            scan = kd.first_scan(job.in_dtype, ndim == 1)
            for t0, t1 in dsl.step_ranges(2 * shape3[2], size // shape3[2]):
                job.launch(scan, job.src, dbuf, zero, t0, t1)
            if name == "taxicab":
                for n, ax in enumerate(axes[1:]):
                    scan = kd.line_scan(ndim, ax, n == ndim - 2, block)
                    bax, (oa, ob) = kd._axes(ndim, ax)
                    length = shape3[bax]
                    walkers = shape3[oa] * -(-shape3[ob] // block)
                    for t0, t1 in dsl.step_ranges(2 * length - 1, walkers, block + 2):
                        job.launch(scan, dbuf, t0, t1)
            elif ndim > 1:
                other = arrays.empty_buffer(arrays.shape3(shape), np.dtype(np.int32))
                g = arrays.empty_buffer(arrays.shape3(shape), np.dtype(np.int32))
                h = arrays.empty_buffer(arrays.shape3(shape), np.dtype(np.int32))
                bufs += [g, h]
                a, b = dbuf, other
                for n, ax in enumerate(axes[1:]):
                    length = int(shape[ax])
                    dsl.check_walk(length, int(np.prod(shape)) // max(length, 1), 3,
                                   f"distance_transform_cdt: a line of {length} elements")
                    job.launch(kd.linf_pass(ndim, ax, n == ndim - 2), a, b, g, h)
                    a, b = b, a
                dbuf = a
                bufs.append(b)
    except BaseException:
        job.discard(dbuf, *bufs, *([ft] if ft is not None else []))
        raise
    for buf in bufs:
        arrays.release_buffer(buf)
    return _deliver(job, dbuf, ft, return_distances, return_indices, distances, indices)


def distance_transform_cdt(input: ArrayInput, metric: Any = "chessboard",
                           return_distances: bool = True, return_indices: bool = False,
                           distances: Any = None, indices: Any = None) -> Any:
    """Chessboard or taxicab distance transform: each element's distance (in steps of
    the metric) to the nearest background (zero) element.

    Parameters
    ----------
    input : array_like, DeviceArray or Volume
        1-3 D, any real dtype or bool: nonzero elements are the foreground.
    metric : {'chessboard', 'taxicab', 'cityblock', 'manhattan'} or array_like, optional
        ``'chessboard'`` (L-infinity, the default) or ``'taxicab'`` (L1; ``'cityblock'``
        and ``'manhattan'`` are its other names), or a structure: an array of the
        input's rank, size 3 along every axis, nonzero = a step of the metric
        (``generate_binary_structure(ndim, ndim)`` / ``(ndim, 1)`` are the two named
        ones).
    return_distances, return_indices : bool, optional
        What to return (default: the distances only).
    distances : ndarray or DeviceArray, optional
        An int32 array of the input's shape to write the distances into.
    indices : ndarray or DeviceArray, optional
        An int32 array of shape ``(input.ndim,) + input.shape`` to write the indices into.

    Returns
    -------
    distances : ndarray, DeviceArray or Volume
        int32; -1 where no background element is reached (everywhere when the input
        has none; with some structures elsewhere too: SciPy's value).
    indices : ndarray or DeviceArray
        int32 ``(ndim,) + shape``: the background element each element's distance was
        propagated from (the element itself where none is reached).

    Raises
    ------
    ValueError
        Unknown ``metric`` name, a structure not of size 3 or of another rank,
        ``distances``/``indices`` of the wrong shape or dtype (SciPy's class there).
    TypeError
        A structure that is not boolean or numeric.
    ArgumentError
        Both ``return_*`` False, or an output given with its ``return_*`` False.

    Notes
    -----
    Reference: ``scipy.ndimage.distance_transform_cdt``, a forward and a backward
    raster sweep over the image (``NI_DistanceTransformOnePass``): each foreground
    element takes one more than the smallest distance among its already visited
    neighbours -- the structure's half before its centre, in the structure's raster
    order, the first on a tie, only if strictly below its own -- and that neighbour's
    index. Where indices are asked for, or the structure is not the taxicab or
    chessboard one (only its half before the centre counts), medkern runs these two
    sweeps exactly as SciPy does, so distances and indices equal SciPy's, ties
    included. Every element depends on the one visited before it: those sweeps run
    serially (one thread), which is fine on the CPU arch and slow on GPUs.
    The distances alone with the taxicab or chessboard structure are the exact L1 /
    L-infinity distance on the grid; medkern computes them with separable passes
    (the 1-D distance along the contiguous axis, then per axis two scans -- L1 -- or
    Meijster, Roerdink and Hesselink's lower envelope -- L-infinity, 2000), every line
    in parallel -- on the CPU arch chessboard by the two sweeps, faster there.
    SciPy reads a non-boolean structure's *bytes* as booleans (scipy#17381: an int or
    float array gives another structure than its nonzero pattern); medkern uses the
    nonzero pattern. Empty and 0-d inputs are refused with a ``ValueError``.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.ones((3, 5), dtype=bool)
    >>> a[0, 0] = False
    >>> mm.distance_transform_cdt(a)
    array([[0, 1, 2, 3, 4],
           [1, 1, 2, 3, 4],
           [2, 2, 2, 3, 4]], dtype=int32)
    >>> mm.distance_transform_cdt(a, metric="taxicab")[2]
    array([2, 3, 4, 5, 6], dtype=int32)
    >>> d, idx = mm.distance_transform_cdt(a, return_indices=True)
    >>> idx[:, 2, 4]  # the background element at row 0, column 0
    array([0, 0], dtype=int32)
    """
    _arg_check(distances, indices, return_distances, return_indices)
    job = _job(input, np.int32)
    try:
        kind = _cdt_metric(metric, job.ndim)
        _target(distances, "distances", job.shape, np.int32, ValueError,
                "distances must be of int32 type", "distances has wrong shape")
        _target(indices, "indices", (job.ndim,) + job.shape, np.int32, ValueError,
                "indices array must be int32", "indices array has wrong shape")
    except BaseException:
        job.discard()
        raise
    return _cdt(job, kind[0], kind[1], return_distances, return_indices, distances, indices)


def distance_transform_bf(input: ArrayInput, metric: str = "euclidean", sampling: Any = None,
                          return_distances: bool = True, return_indices: bool = False,
                          distances: Any = None, indices: Any = None) -> Any:
    """Distance transform by brute force (``scipy.ndimage.distance_transform_bf``): every
    foreground element measured against every border background element, in parallel.

    Parameters
    ----------
    input : array_like, DeviceArray or Volume
        1-3 D, any real dtype or bool: nonzero elements are the foreground.
    metric : {'euclidean', 'taxicab', 'cityblock', 'manhattan', 'chessboard'}, optional
        Case-insensitive, as in SciPy.
    sampling : float or sequence of float, optional
        Spacing along each axis (Euclidean metric only: SciPy's taxicab and chessboard
        results do not use it, but its length is checked). Default 1, or a Volume's
        ``spacing``.
    return_distances, return_indices : bool, optional
        What to return (default: the distances only).
    distances : ndarray or DeviceArray, optional
        An array of the input's shape to write the distances into: float64 for
        ``'euclidean'``, uint32 for the other metrics.
    indices : ndarray or DeviceArray, optional
        An int32 array of shape ``(input.ndim,) + input.shape``.

    Returns
    -------
    distances : ndarray, DeviceArray or Volume
        float64 (Euclidean) or uint32. An input with no background gives SciPy's values:
        ``sqrt(DBL_MAX)`` (Euclidean) or ``2**32 - 1``.
    indices : ndarray or DeviceArray
        int32 ``(ndim,) + shape``, a nearest background element (0 where none exists).

    Raises
    ------
    ArgumentError
        (``ValueError`` and ``RuntimeError``) an unknown metric, ``sampling`` of another
        length than the rank, outputs of the wrong shape or dtype, both ``return_*``
        False or an output given with its ``return_*`` False.
    ValueError
        ``sampling`` not positive and finite.

    Notes
    -----
    Reference: ``scipy.ndimage.distance_transform_bf``, which compares every foreground
    element with every background element on the background's border (those with a
    foreground neighbour, diagonals included): O(n * border) work. medkern does the
    same on the device -- the border elements listed by a prefix sum, one thread per
    element walking the list -- with SciPy's arithmetic and tie rule (the last nearest
    border element in raster order), so distances and indices equal SciPy's. The work
    is the same O(n * border): use :func:`distance_transform_edt` /
    :func:`distance_transform_cdt` (linear time, the same distances) for big images.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.ones((2, 4), dtype=bool)
    >>> a[0, 0] = False
    >>> mm.distance_transform_bf(a, metric="chessboard")
    array([[0, 1, 2, 3],
           [1, 1, 2, 3]], dtype=uint32)
    >>> mm.distance_transform_bf(a, sampling=(1.0, 0.5))[1]
    array([1.        , 1.11803399, 1.41421356, 1.80277564])
    """
    _arg_check(distances, indices, return_distances, return_indices)
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a string, got {type(metric).__name__}")
    name = metric.lower()
    dtype: Any
    if name == "euclidean":
        kind, dtype, fill = "bf", np.float64, float(np.finfo(np.float64).max)
    elif name in _TAXICAB:
        kind, dtype, fill = "taxicab", np.uint32, _UINT32_MAX
    elif name == "chessboard":
        kind, dtype, fill = "chessboard", np.uint32, _UINT32_MAX
    else:
        raise ArgumentError(f"metric must be 'euclidean', 'taxicab' (or 'cityblock', "
                            f"'manhattan') or 'chessboard', got {metric!r}"
                            + _scipy("distance metric not supported"))
    job = _job(input, dtype)
    try:
        weights = _sampling(sampling, job.ndim, job.volume)
        d_name = "float64" if dtype == np.float64 else "uint32"
        _target(distances, "distances", job.shape, dtype, ArgumentError,
                f"distances array must be {d_name}", "distances array has wrong shape")
        _target(indices, "indices", (job.ndim,) + job.shape, np.int32, ArgumentError,
                "indices array must be int32", "indices array has wrong shape")
    except BaseException:
        job.discard()
        raise
    return _brute_force(job, name if kind != "taxicab" else "taxicab", weights, fill,
                        return_distances, return_indices, distances, indices)


def _brute_force(job: Job, metric: str, weights: list[float] | None, far: float,
                 return_distances: bool, return_indices: bool, distances: Any,
                 indices: Any) -> Any:
    """SciPy's brute-force transform on the device: mark the border background elements,
    list them (a prefix sum), measure every foreground element against the list
    (:func:`medkern.kernels.distance.brute_force`)."""
    from ...kernels import scan
    ndim, shape = job.ndim, job.shape
    zero = job.in_dtype.type(0)
    mark = arrays.empty_buffer(arrays.shape3(shape), np.dtype(np.uint8))
    lst = None
    try:
        job.launch(kd.border(job.in_dtype, ndim), job.src, mark, zero)
        lst, count = scan.flatnonzero(mark)
    finally:
        arrays.release_buffer(mark)
    if lst is None:  # no border: a dummy list the kernel never reads
        lst = arrays.empty_buffer((1, 1), np.dtype(np.int64))
    ft = arrays.empty_buffer(arrays.component_shape3(ndim, shape), np.dtype(np.int32))
    dbuf = job.buffer()
    w3 = [float(v) for v in (weights or [1.0] * ndim)] + [1.0] * (3 - ndim)
    # the list in launches of a bounded number of entries (Mesa's Vulkan ends a thread's
    # loops after 65535 iterations; one launch elsewhere)
    ranges = dsl.step_ranges(int(count), int(np.prod(shape)))
    best = arrays.empty_buffer(arrays.shape3(shape) if len(ranges) > 1 else (1, 1, 1),
                               np.dtype(np.float64))
    try:
        kern = kd.brute_force(job.in_dtype, ndim, metric, job.out_dtype,
                              weights is not None and metric == "euclidean")
        for n, (e0, e1) in enumerate(ranges):
            job.launch(kern, job.src, zero, lst, e0, e1, ft, dbuf, *w3, float(far), 1, best,
                       int(n == 0), int(n == len(ranges) - 1))
    except BaseException:
        job.discard(ft, dbuf)
        raise
    finally:
        arrays.release_buffer(best)
        if arrays.is_leased(lst):
            arrays.release_buffer(lst)
    return _deliver(job, dbuf, ft, return_distances, return_indices, distances, indices)


# --------------------------------------------------------------------------- registry
def _dt_error(ours: Any, ref: Any) -> float:
    """Largest relative distance error; indices must be identical (inf otherwise)."""
    if isinstance(ref, tuple):
        if not isinstance(ours, tuple) or len(ours) != len(ref):
            return float("inf")
        return max(_dt_error(o, r) for o, r in zip(ours, ref))
    a = arrays.asnumpy(ours) if isinstance(ours, arrays.DeviceArray) else np.asarray(ours)
    b = np.asarray(ref)
    if a.shape != b.shape or a.dtype != b.dtype:
        return float("inf")
    if b.dtype.kind in "iu":
        return 0.0 if np.array_equal(a, b) else float("inf")
    scale = max(float(np.abs(b).max()), 1.0) if b.size else 1.0
    return float(np.abs(a - b).max()) / scale if b.size else 0.0


def _mask_input(shape: tuple, dtype: Any, seed: int) -> np.ndarray:
    from ...sample_data import binary_mask
    return binary_mask(shape, (0.1, 0.5, 0.9)[seed % 3], seed=seed, dtype=dtype)


def _foreground(x: np.ndarray) -> np.ndarray:
    from ..segmentation._label import foreground
    return foreground(x)


_UNIT = {"_2d": (1.0, 1.0), "_3d": (1.0, 1.0, 1.0)}
register(Algorithm(
    name="distance_transform_edt", area="morphology", func=distance_transform_edt,
    reference=ndi.distance_transform_edt,
    reference_name="scipy.ndimage.distance_transform_edt", bench_kwargs={},
    # the first case names unit sampling: the Volume test compares a Volume (whose
    # spacing is the default sampling) with the plain array
    cases=({"sampling": _UNIT}, {"return_indices": True},
           {"sampling": {"_2d": (1.5, 0.7), "_3d": (2.5, 0.8, 0.6)}, "return_indices": True}),
    dtypes=("uint8", "float32", "bool"), make_input=_mask_input, compare_result=_dt_error,
    prepare=_foreground))
register(Algorithm(
    name="distance_transform_cdt", area="morphology", func=distance_transform_cdt,
    reference=ndi.distance_transform_cdt,
    reference_name="scipy.ndimage.distance_transform_cdt", bench_kwargs={},
    cases=({}, {"metric": "taxicab"}),
    dtypes=("uint8", "float32", "bool"), make_input=_mask_input, compare_result=_dt_error,
    prepare=_foreground))
register(Algorithm(
    name="distance_transform_bf", area="morphology", func=distance_transform_bf,
    reference=ndi.distance_transform_bf,
    reference_name="scipy.ndimage.distance_transform_bf", bench_kwargs={},
    cases=({"sampling": _UNIT},), dtypes=("uint8", "bool"), make_input=_mask_input,
    compare_result=_dt_error))
