"""Watershed (scikit-image's ``skimage.segmentation.watershed``), parallel.

scikit-image floods from the markers with a priority queue keyed by (level, age): an
element's level is the larger of its value and the level of the element that pushed it,
and an element takes the label of the neighbour popped first. Its result is a fixed point
of local rules, which :mod:`medkern.kernels.minimax` computes in parallel as three
single-word relaxations:

1. **level** ``T``: the least, over paths from a marker, of the largest value met -- the
   level at which the queue pops the element (a bottleneck distance);
2. **depth** ``D``: within one level the queue pops in push order, breadth first from where
   the flood entered the level: 0 for an element entered from a lower level (or a marker),
   else 1 + the least depth of its same-level neighbours;
3. **source** ``S``: the marker the element's first-popped neighbour came from. Of the
   neighbours reaching it with its own (level, depth), the one with the smallest source
   (the marker first in raster order) wins. This is the one rule that can differ from
   scikit-image: where two floods reach an element at the same level and depth, the queue
   lets the older entry win, which depends on the order of earlier pushes.

Where the image has no two equal values, every level is entered at one element (its
plateau is that element), so the three rules reproduce the queue's choices and the labels
are identical to scikit-image's. With plateaus, ties between floods arriving at the same
depth are where results can differ (measured in the tests on real images).

``watershed_line``: an element is on the line when, as the queue pops it, a neighbour not
on the line already holds another label (one relaxation over the pop order, the key
(T, D, S)). ``compactness > 0``: scikit-image's compact watershed, where the cost depends on
the source marker's distance -- not a relaxation (a parallel fixed point keeps sources the
queue has abandoned, up to 40% of the labels measured): it runs scikit-image's queue itself,
on one thread (:func:`medkern.kernels.minimax.compact_flood`), exact and serial.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ... import arrays, checks, runtime
from ...kernels import minimax
from ..job import Job
from ..morphology._reconstruction import footprint_offsets, local_minima, offsets3, relax
from ._label import label

__all__ = ["watershed"]


def _regular_grid(shape: tuple, n_points: int) -> tuple:
    """The slices of ``n_points`` regularly spaced points (``skimage.util.regular_grid``)."""
    dims = np.asarray(shape)
    ndim = len(shape)
    order_back = np.argsort(np.argsort(dims))
    sorted_dims = np.sort(dims)
    space = float(np.prod(dims))
    if space <= n_points:
        return (slice(None),) * ndim
    steps = np.full(ndim, (space / n_points) ** (1.0 / ndim), dtype=np.float64)
    if (sorted_dims < steps).any():
        # short axes first take their whole length as step, the rest share the remainder
        for d in range(ndim):
            steps[d] = sorted_dims[d]
            rest = float(np.prod(sorted_dims[d + 1:]))
            steps[d + 1:] = (rest / n_points) ** (1.0 / (ndim - d - 1))
            if (sorted_dims >= steps).all():
                break
    starts = (steps // 2).astype(int)
    steps = np.round(steps).astype(int)
    grid = [slice(a, None, s) for a, s in zip(starts, steps)]
    return tuple(grid[i] for i in order_back)


def regular_seeds(shape: tuple, n_points: int, dtype: Any = int) -> np.ndarray:
    """Markers 1..k on a regular grid of about ``n_points`` points
    (``skimage.util.regular_seeds``)."""
    grid = _regular_grid(tuple(shape), n_points)
    seeds = np.zeros(shape, dtype=dtype)
    n = seeds[grid].size
    seeds[grid] = 1 + np.arange(n).reshape(seeds[grid].shape)
    return seeds


def _structure(connectivity: Any, offset: Any, ndim: int) -> tuple:
    """scikit-image's connectivity rules: an int -> ``generate_binary_structure``, an array
    -> the footprint itself (odd sizes unless ``offset`` is given)."""
    if connectivity is None:
        connectivity = 1
    if np.isscalar(connectivity):
        fp = ndi.generate_binary_structure(ndim, checks.integer(connectivity, "connectivity"))
    else:
        fp = np.array(connectivity, dtype=bool)
        if fp.ndim != ndim:
            raise ValueError(f"connectivity: the footprint must have {ndim} dimensions like "
                             f"image, got {fp.ndim}")
    if offset is None:
        if any(s % 2 == 0 for s in fp.shape):
            raise ValueError("connectivity: the footprint must have an unambiguous centre "
                             "(odd sizes) unless offset is given")
        center = np.array(fp.shape) // 2
    else:
        center = np.asarray(offset, dtype=np.int64).reshape(-1)
        if center.shape[0] != ndim:
            raise ValueError(f"offset must have {ndim} values, got {center.shape[0]}")
        if not all(0 <= c < s for c, s in zip(center, fp.shape)):
            raise ValueError("offset must lie inside the connectivity footprint")
    return fp, center


def _host_mask(mask: Any, shape: tuple) -> np.ndarray | None:
    if mask is None:
        return None
    m = np.asarray(arrays.asnumpy(mask) if isinstance(mask, arrays.DeviceArray) else mask)
    if m.shape != shape:
        raise ValueError(f"`mask` (shape {m.shape}) must have same shape as `image` "
                         f"(shape {shape})")
    return m.astype(bool)


def _markers(markers: Any, image: Any, job: Job, mask: np.ndarray | None,
             connectivity: Any) -> Any:
    """The marker array (host or DeviceArray) of scikit-image's three forms."""
    shape = job.shape
    if markers is None:
        minima = np.asarray(arrays.asnumpy(local_minima(
            image, connectivity=connectivity if np.isscalar(connectivity) else None,
            footprint=None if np.isscalar(connectivity) else connectivity)))
        if mask is not None:
            minima &= mask
        c = connectivity if np.isscalar(connectivity) else job.ndim
        return label(minima, ndi.generate_binary_structure(job.ndim, c))[0]
    if isinstance(markers, (int, np.integer)) and not isinstance(markers, bool):
        n_pixels = int(mask.sum()) if mask is not None else int(np.prod(shape))
        if n_pixels == 0:
            return np.zeros(shape, dtype=np.int64)
        n = int(int(markers) / (n_pixels / int(np.prod(shape))))
        seeds = regular_seeds(shape, n)
        if mask is not None:
            seeds *= mask
        return seeds
    if isinstance(markers, (float, np.floating)):
        raise TypeError("markers must be an int (a number of seeds) or an integer array, "
                        f"got {markers!r}")
    from ...volume import Volume
    if isinstance(markers, Volume):
        markers = markers.array
    m = markers if isinstance(markers, arrays.DeviceArray) else np.asanyarray(markers)
    if tuple(m.shape) != shape:
        raise ValueError(f"`markers` (shape {tuple(m.shape)}) must have same shape as "
                         f"`image` (shape {shape})")
    dt = np.dtype(m.dtype)
    if dt == np.bool_:
        m = np.asarray(m).astype(np.int64) if not isinstance(m, arrays.DeviceArray) else m
    elif dt.kind not in "iu":
        raise TypeError(f"markers must be an integer label array, got dtype {dt}")
    return m


def watershed(image: Any, markers: Any = None, connectivity: Any = 1, offset: Any = None,
              mask: Any = None, compactness: float = 0, watershed_line: bool = False) -> Any:
    """Flood ``image`` from ``markers`` and label its basins
    (``skimage.segmentation.watershed``), in parallel on the device.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D; the lowest values are flooded first (read as float64, as scikit-image).
    markers : int or array_like of int, optional
        A label array of ``image``'s shape (0: no marker), a number of regularly spaced
        markers (``regular_seeds``), or None: the regional minima of ``image``, labelled.
    connectivity : int or array_like, optional
        1 (faces) to ``image.ndim`` (all neighbours), or a footprint.
    offset : array_like of int, optional
        The footprint's centre (default: its middle).
    mask : array_like of bool, optional
        Only elements where it is True are labelled.
    compactness : float, optional
        >= 0; > 0 is scikit-image's compact watershed, which ignores ``watershed_line`` as
        scikit-image's does. It runs scikit-image's priority queue on one thread (exact,
        serial; memory for one queue entry per element and neighbour) and only on the CPU
        arch: on Vulkan the serial kernel gave wrong labels for large images, so other
        arches raise ``NotImplementedError``.
    watershed_line : bool, optional
        Separate the basins by a one-element line labelled 0.

    Returns
    -------
    labels : ndarray (DeviceArray, Volume) of the markers' dtype (int32 for computed
        markers; scikit-image's int64 for an int)

    Notes
    -----
    Identical to scikit-image's labels where the image holds no two equal values; where
    floods meet on a plateau at the same depth the marker first in raster order wins (see
    the module docstring). Elements no marker reaches (cut off by ``mask``) stay 0.

    Examples
    --------
    >>> import numpy as np
    >>> from medkern.segmentation import watershed
    >>> image = np.array([[0, 1, 2, 3, 2, 1, 0]], float)
    >>> watershed(image, np.array([[1, 0, 0, 0, 0, 0, 2]]))
    array([[1, 1, 1, 1, 2, 2, 2]])
    >>> watershed(image, np.array([[1, 0, 0, 0, 0, 0, 2]]), watershed_line=True)
    array([[1, 1, 1, 0, 2, 2, 2]])
    """
    c = checks.real(compactness, "compactness")
    if c < 0:
        raise ValueError(f"compactness must be >= 0, got {compactness}")
    if c > 0 and not runtime.is_cpu():
        # the serial queue kernel stops early on Mesa's Vulkan for large images (a 406x270
        # image: 42% of the labels wrong, silently); CUDA is not verified. Refused, not faked.
        raise NotImplementedError("compactness > 0 runs only on the CPU arch (the compact "
                                  "flood is a serial queue kernel; on Vulkan it gave wrong "
                                  "labels for large images): use MEDKERN_ARCH=cpu or "
                                  "skimage.segmentation.watershed")
    job = Job(image, name="image", dtype=np.int32, bools=True)
    if job.in_dtype.kind == "c":
        raise TypeError("image must be real")
    shape = job.shape
    host_mask = _host_mask(mask, shape)
    fp, center = _structure(connectivity, offset, job.ndim)
    m = _markers(markers, image, job, host_mask, connectivity)
    m_dt = np.dtype(m.dtype).newbyteorder("=")
    job = Job(image, name="image", dtype=m_dt, bools=True)
    # scikit-image moves from p to p + o: element q is reached from q - o
    pull = offsets3(-footprint_offsets(fp, center))
    ext = [np.dtype(t) for t in np.typecodes["AllInteger"]]
    mbuf, m_dt = job.second(m, "markers", dtypes=ext, default=np.int64)
    if host_mask is not None:
        kbuf, _ = job.second(host_mask.view(np.uint8), "mask", dtypes=[np.dtype(np.uint8)])
    else:
        kbuf = None  # the init kernel then reads no mask: a 1-element stand-in
    g, T = job.buffer(np.float64), job.buffer(np.float64)
    D, S, line = job.buffer(np.int32), job.buffer(np.int32), job.buffer(np.int32)
    runs = tuple(g.shape) + (minimax.RUNS,)
    ET, ED = arrays.empty_buffer(runs, np.dtype(np.float64)), arrays.empty_buffer(runs, np.dtype(np.int32))
    held = [g, T, D, S, ET, ED, line]
    if kbuf is None:
        held.append(arrays.empty_buffer((1, 1, 1), np.dtype(np.uint8)))
    try:
        Job.launch(minimax.watershed_init(job.in_dtype, m_dt, kbuf is not None), job.src,
                   mbuf, kbuf if kbuf is not None else held[-1], g, T, D, S, line, m_dt.type(0))
        if c > 0:
            _compact(fp, center, m, host_mask, g, S, c)
        else:
            relax(minimax.floor_sweep(), pull, T, g, name="watershed")
            relax(minimax.depth_sweep(), pull, T, D, S, name="watershed")
            Job.launch(minimax.order_init(), S, ET, ED)
            for phase in range(minimax.PHASES):
                relax(minimax.order_sweep(phase), pull, T, D, S, ET, ED, name="watershed")
        out = job.buffer()
        wsl = bool(watershed_line) and bool(pull) and c == 0
        Job.launch(minimax.watershed_labels(m_dt), S, mbuf, line, out, 0, m_dt.type(0))
        if wsl:
            # the line looks at p + o, the footprint's own offsets
            relax(minimax.line_sweep(m_dt), offsets3(footprint_offsets(fp, center)), T, D, S,
                  ET, ED, out, line, name="watershed line")
            labs = job.buffer()
            held.append(labs)
            Job.launch(minimax.watershed_labels(m_dt), S, mbuf, line, labs, 1, m_dt.type(0))
            out, labs = labs, out
            held[-1] = labs
    except BaseException:
        job.discard(*held)
        raise
    for b in held:
        if arrays.is_leased(b):
            arrays.release_buffer(b)
    return job.finish(out)


def _distinct(shape: tuple, dtype: Any, seed: int) -> np.ndarray:
    """A parity input without two equal values (a shuffled ramp, exact in float32 below
    2**24 elements): where scikit-image's queue has no ties to break, the labels must be
    identical."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(dtype)


def _marker_input(shape: tuple, seed: int, case: dict) -> dict:
    rng = np.random.default_rng(seed + 1)
    m = np.zeros(shape, dtype=np.int32)
    idx = rng.choice(m.size, size=min(8, m.size), replace=False)
    m.flat[idx] = np.arange(1, idx.size + 1)
    return {"markers": m}


def _gradient(x: np.ndarray) -> np.ndarray:
    """The benchmark input: the CT's gradient magnitude (basins = homogeneous tissue)."""
    return ndi.gaussian_gradient_magnitude(np.asarray(x, dtype=np.float32), 1.0)


def _skimage_watershed(image: Any, **kwargs: Any) -> Any:
    from skimage.segmentation import watershed as reference
    return reference(image, **kwargs)


def _register() -> None:
    from ...registry import Algorithm, register
    from ._label import _label_error
    register(Algorithm(
        name="watershed", area="segmentation", func=watershed, reference=_skimage_watershed,
        reference_name="skimage.segmentation.watershed", bench_kwargs={"markers": 500},
        cases=({}, {"watershed_line": True, "connectivity": {"_2d": 2, "_3d": 3}}),
        dtypes=("float32",), make_input=_distinct, inputs=_marker_input,
        compare_result=_label_error, prepare=_gradient))


_register()


def _compact(fp: np.ndarray, center: np.ndarray, markers: Any, mask: np.ndarray | None,
             g: Any, S: Any, c: float) -> None:
    """The compact watershed: scikit-image's queue run on one thread
    (:func:`medkern.kernels.minimax.compact_flood`), neighbours in its order (nearest
    first, then raster order)."""
    pos = np.argwhere(fp) - center
    pos = pos[np.any(pos != 0, axis=1)]
    order = np.argsort(np.sqrt((pos.astype(np.float64) ** 2).sum(axis=1)), kind="stable")
    offs = arrays.upload_vector(np.asarray(offsets3(pos[order]), dtype=np.int32).reshape(-1))
    host = np.asarray(arrays.asnumpy(markers)) if isinstance(markers, arrays.DeviceArray) \
        else np.asarray(markers)
    keep = host != 0 if mask is None else (host != 0) & mask
    flat = np.flatnonzero(keep).astype(np.int32)
    inside = int(np.prod(host.shape)) if mask is None else int(mask.sum())
    cap = max(flat.size + len(pos) * inside, 1)
    heap = [arrays.empty_buffer((cap,), np.dtype(t)) for t in (np.float64, np.int32, np.int32,
                                                               np.int32)]
    flag = arrays.upload_vector(np.zeros(1, np.int32))
    try:
        Job.launch(minimax.compact_flood(), offs, g, S, *heap, float(c),
                   arrays.upload_vector(flat if flat.size else np.zeros(1, np.int32)),
                   int(flat.size), flag, float("inf"))
        if int(arrays.read_scalar(flag)):
            raise RuntimeError("watershed: the compact flood's queue overflowed (a bug)")
    finally:
        for b in heap:
            arrays.release_buffer(b)
