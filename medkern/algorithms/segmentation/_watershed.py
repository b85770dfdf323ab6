"""Watershed (scikit-image's ``skimage.segmentation.watershed``): the queue, or in parallel.

scikit-image floods from the markers with a priority queue keyed by (level, age): an
element's level is the larger of its value and the level of the element that pushed it,
its age the push count when it was pushed, and it takes the label of its first-popped
neighbour (its *pusher*). Two ways to get the same labels:

**The queue** (``method="queue"``, the default on the CPU arch): scikit-image's binary heap
run in one serial kernel (:func:`medkern.kernels.minimax.queue_flood`) -- its sift rules,
its neighbour order, markers pushed at age 0 in raster order -- so the labels are
identical, ties included, with or without ``watershed_line`` and for ``compactness > 0``.
On one CPU thread it is as fast as scikit-image's C; on a GPU one thread is slow, but it
runs (and is the only way to the compact watershed there). On Vulkan it runs in launches of
a bounded number of steps, the queue carried between them: Mesa's software Vulkan silently
ends a thread's loops after 65535 iterations (:func:`medkern.runtime.serial_budget`).

**In parallel** (``method="parallel"``, the default on GPU arches): the pop order is the
lexicographic order of the levels met walking back along the pushers to the marker (a
marker's age 0 ends the walk first). Run-length coded, that walk is (T, D) -- the level
and the breadth-first steps inside it -- then (E[0], ED[0]), the (level, depth) where the
flood entered that level, (E[1], ED[1]) one level further back, ...; each component is a
single-word relaxation to a fixed point (:mod:`medkern.kernels.minimax`):

1. **level** ``T``: the least, over paths from a marker, of the largest value met (a
   bottleneck distance);
2. **depth** ``D``: 0 for an element entered from a lower level (or a marker), else 1 +
   the least depth of its same-level neighbours;
3. **runs** ``E[k], ED[k]`` for k < :data:`~medkern.kernels.minimax.RUNS` (2), then the
   **source** ``S``: the marker first in raster order among the pushers left tied, which
   stands for the rest of the walk and for the heap's own order of tied markers.

Where the image has no two equal values the walk is decided by its first level, so the
labels are identical to scikit-image's. On plateaus the truncated walk and the tie rule
can differ: measured 99.65% / 99.72% (with the line) of the raw uint8 ``coins`` image
flooded from its minima (99.29% with one run), 99.37% on scikit-image's test_connectivity
image, whose plateaus of thousands of elements are split by the heap's internal order of
three tied markers -- an emulation of the heap with markers in raster order gets the same
99.376%, the real heap order 100%.

``watershed_line`` in parallel: an element is on the line when, as the queue pops it, a
neighbour not on the line already holds another label (one relaxation over the pop order).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ... import arrays, checks, runtime
from ...kernels import dsl, minimax
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
              mask: Any = None, compactness: float = 0, watershed_line: bool = False, *,
              method: str = "auto") -> Any:
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
        scikit-image's does. It runs the queue (``method``): one thread, slow on a GPU.
    watershed_line : bool, optional
        Separate the basins by a one-element line labelled 0.

    Other Parameters
    ----------------
    method : {"auto", "queue", "parallel"}, optional
        medkern only. "queue": scikit-image's priority queue run in one serial kernel --
        identical labels, ties included (memory for one queue entry per element, per
        element and neighbour with ``watershed_line`` or ``compactness``); one thread,
        slow on a GPU. "parallel": the relaxations of the module docstring, for GPUs
        (``compactness`` 0 only). "auto" (default): "queue" on the CPU arch, where one
        thread running the queue is faster than the sweeps, and for ``compactness > 0``;
        "parallel" elsewhere.

    Returns
    -------
    labels : ndarray (DeviceArray, Volume) of the markers' dtype (int32 for computed
        markers; scikit-image's int64 for an int)

    Notes
    -----
    The queue (the CPU arch's default) gives scikit-image's labels exactly. The parallel method gives
    them exactly where the image holds no two equal values; on plateaus >= 99.5% of the
    elements of the real images tested agree (see the module docstring). Elements no
    marker reaches (cut off by ``mask``) stay 0.

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
    if method not in ("auto", "queue", "parallel"):
        raise ValueError(f"method must be 'auto', 'queue' or 'parallel', got {method!r}")
    if method == "auto":
        method = "queue" if runtime.is_cpu() or c > 0 else "parallel"
    if c > 0 and method == "parallel":
        raise ValueError("method='parallel' takes compactness 0 only (the compact flood's "
                         "cost depends on the source: it runs scikit-image's queue)")
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
        init = minimax.watershed_init(job.in_dtype, m_dt, kbuf is not None)
        stand_in = kbuf if kbuf is not None else held[-1]
        Job.launch(init, job.src, mbuf, stand_in, g, T, D, S, line, m_dt.type(0))
        if method == "queue":
            mode = minimax.COMPACT if c > 0 else minimax.LINE if watershed_line \
                else minimax.PLAIN
            _queue(mode, fp, center, m, mbuf, m_dt, host_mask, g, S, line, c,
                   lambda: Job.launch(init, job.src, mbuf, stand_in, g, T, D, S, line,
                                      m_dt.type(0)))
        else:
            flat = minimax.planar(T.shape)
            relax(minimax.floor_sweep(flat), pull, T, g, name="watershed")
            relax(minimax.depth_sweep(flat), pull, T, D, S, name="watershed")
            Job.launch(minimax.order_init(), S, ET, ED)
            for phase in range(minimax.PHASES):
                relax(minimax.order_sweep(phase, flat), pull, T, D, S, ET, ED, name="watershed")
        out = job.buffer()
        wsl = bool(watershed_line) and bool(pull) and c == 0
        Job.launch(minimax.watershed_labels(m_dt), S, mbuf, line, out,
                   int(wsl and method == "queue"), m_dt.type(0))
        if wsl and method == "parallel":
            # the line looks at p + o, the footprint's own offsets
            relax(minimax.line_sweep(m_dt), offsets3(footprint_offsets(fp, center)), T, D, S,
                  ET, ED, out, line, name="watershed line", walk=False)
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


def _queue(mode: int, fp: np.ndarray, center: np.ndarray, markers: Any, mbuf: Any,
           m_dt: np.dtype, mask: np.ndarray | None, g: Any, S: Any, line: Any,
           c: float, restart: Any) -> None:
    """scikit-image's queue run on one thread (:func:`medkern.kernels.minimax.queue_flood`),
    neighbours in its order (nearest first, then raster order); ``restart()`` resets the
    state when the heap overflowed and the flood runs again with four times the room."""
    pos = np.argwhere(fp) - center
    pos = pos[np.any(pos != 0, axis=1)]
    order = np.argsort(np.sqrt((pos.astype(np.float64) ** 2).sum(axis=1)), kind="stable")
    offs = arrays.upload_vector(np.asarray(offsets3(pos[order]), dtype=np.int32).reshape(-1))
    host = np.asarray(arrays.asnumpy(markers)) if isinstance(markers, arrays.DeviceArray) \
        else np.asarray(markers)
    keep = host != 0 if mask is None else (host != 0) & mask
    flat = np.flatnonzero(keep).astype(np.int32)
    inside = int(np.prod(host.shape)) if mask is None else int(mask.sum())
    # pushed once each when labelled at the push; else stale entries too (a first guess)
    cap = max(flat.size + (inside if mode == minimax.PLAIN else len(pos) * inside), 1)
    seeds = arrays.upload_vector(flat if flat.size else np.zeros(1, np.int32))
    kernel = minimax.queue_flood(mode, m_dt)
    while True:
        if cap >= 2 ** 31:
            raise MemoryError("watershed: the queue needs more than 2**31 entries")
        heap = [arrays.empty_buffer((cap,), np.dtype(t))
                for t in (np.float64, np.int32, np.int32, np.int32)]
        flag = arrays.upload_vector(np.zeros(1, np.int32))
        state = arrays.upload_vector(np.array([0, 1, 0], np.int32))
        # loop iterations of one step at most: the pop's sift-down, each neighbour's
        # check (the line's too) and sift-up
        depth = int(cap).bit_length() + 2
        most = dsl.steps_per_launch(1, depth + len(pos) * (depth + 2))
        steps = -1 if most is None else most
        try:
            while True:
                Job.launch(kernel, offs, g, S, line, mbuf, *heap, float(c), seeds,
                           int(flat.size), flag, float("inf"), m_dt.type(0), state, steps)
                overflow = int(arrays.read_scalar(flag))
                if steps < 0 or overflow or (
                        int(arrays.read_scalar(state, 0)) == 0
                        and int(arrays.read_scalar(state, 2)) == flat.size):
                    break
            if not overflow:
                return
        finally:
            for b in heap:
                arrays.release_buffer(b)
        restart()
        cap = min(4 * cap, 2 ** 31 - 1) if cap < 2 ** 31 - 1 else 2 ** 31
