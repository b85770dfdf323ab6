"""``peak_local_max`` (scikit-image's ``skimage.feature.peak_local_max``).

The image-sized step -- the maximum filter every peak must equal -- runs on the device
(:func:`medkern.filters.maximum_filter`, SciPy-exact); the candidates it leaves are few, and
choosing among them (highest first, stable order, then scikit-image's greedy minimum
distance) happens on the host with the same arithmetic as scikit-image, so the coordinates
and their order are the same.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial import cKDTree, distance

from ... import arrays
from ...filters import maximum_filter, maximum_filter1d
from ..morphology._reconstruction import checked_host

__all__ = ["peak_local_max"]


def _host(x: Any) -> np.ndarray:
    from ...volume import Volume
    if isinstance(x, Volume):
        x = x.array
    return np.asarray(arrays.asnumpy(x)) if isinstance(x, arrays.DeviceArray) else np.asarray(x)


def _border_width(ndim: int, min_distance: int, exclude_border: Any) -> tuple:
    if isinstance(exclude_border, bool):
        return (min_distance if exclude_border else 0,) * ndim
    if isinstance(exclude_border, (int, np.integer)):
        if exclude_border < 0:
            raise ValueError("`exclude_border` cannot be a negative value")
        return (int(exclude_border),) * ndim
    if isinstance(exclude_border, tuple):
        if len(exclude_border) != ndim:
            raise ValueError("`exclude_border` should have the same length as the "
                             "dimensionality of the image.")
        for e in exclude_border:
            if not isinstance(e, (int, np.integer)):
                raise ValueError("`exclude_border`, when expressed as a tuple, must only "
                                 "contain ints.")
            if e < 0:
                raise ValueError("`exclude_border` can not be a negative value")
        return tuple(int(e) for e in exclude_border)
    raise TypeError("`exclude_border` must be bool, int, or tuple with the same length as the "
                    "dimensionality of the image.")


def _zero_border(a: np.ndarray, width: tuple) -> np.ndarray:
    for axis, w in enumerate(width):
        if w:
            a[(slice(None),) * axis + (slice(None, w),)] = 0
            a[(slice(None),) * axis + (slice(-w, None),)] = 0
    return a


def _box_maximum(host: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """``maximum_filter(host, footprint=footprint, mode="nearest")`` for an image above 3-D:
    a box footprint is separable, one 1-D maximum filter per axis over a 3-D view
    (before, axis, after) -- exact, as the maximum is. Other footprints are refused."""
    if footprint.ndim != host.ndim or not footprint.all():
        raise ValueError(f"footprint: a {host.ndim}-D image takes only a full (box) footprint "
                         "(the default); medkern's filters are 1-3 D")
    out = host
    for axis, size in enumerate(footprint.shape):
        if size > 1:
            n = out.shape
            view = out.reshape(int(np.prod(n[:axis])), n[axis], -1)
            out = _host(maximum_filter1d(view, size, axis=1, mode="nearest")).reshape(n)
    return out


def _checked(image: Any) -> np.ndarray:
    """``image`` as a checked host array; above 3-D (numpy only) each 3-D view must pass
    the same checks."""
    if isinstance(image, np.ndarray) and image.ndim > 3:
        checked_host(image.reshape(image.shape[0], image.shape[1], -1), "image")
        return image
    return checked_host(image, "image")


def _peak_mask(image: Any, host: np.ndarray, footprint: np.ndarray, threshold: Any,
               mask: np.ndarray | None = None) -> np.ndarray:
    """Elements equal to their neighbourhood's maximum (``mode='nearest'``) and above
    ``threshold``; none in a flat image (but isolated mask elements, as scikit-image)."""
    if footprint.size == 1 or host.size == 1:
        return host > threshold
    if host.ndim > 3:
        peak = host == _box_maximum(host, footprint)
    else:
        peak = host == _host(maximum_filter(image, footprint=footprint, mode="nearest"))
    trivial = np.all(peak) if mask is None else np.all(peak[mask])
    if trivial:
        peak[:] = False
        if mask is not None:
            peak[np.logical_xor(mask, ndi.binary_opening(mask))] = True
    peak &= host > threshold
    return peak


def _spaced(coord: np.ndarray, spacing: float, p_norm: float, max_out: int | None) -> np.ndarray:
    """Greedy minimum spacing in the given order: a candidate closer than ``spacing`` (in
    the p-norm) to one already kept is dropped."""
    if len(coord) == 0:
        return coord
    tree = cKDTree(coord)
    near = tree.query_ball_point(coord, r=spacing, p=p_norm)
    rejected: set = set()
    kept = 0
    for i, cands in enumerate(near):
        if i in rejected:
            continue
        cands = [c for c in cands if c != i]
        if cands:
            d = distance.cdist([coord[i]], coord[cands], "minkowski", p=p_norm).reshape(-1)
            rejected.update(c for c, v in zip(cands, d) if v < spacing)
        kept += 1
        if max_out is not None and kept >= max_out:
            break
    out = np.delete(coord, tuple(rejected), axis=0)
    return out[:max_out] if max_out is not None else out


def _highest(host: np.ndarray, mask: np.ndarray, num_peaks: Any, min_distance: int,
             p_norm: float) -> np.ndarray:
    coord = np.nonzero(mask)
    order = np.argsort(-host[coord], kind="stable")
    pts = np.transpose(coord)[order]
    max_out = int(num_peaks) if np.isfinite(num_peaks) else None
    if min_distance > 1:
        pts = _spaced(pts, min_distance, p_norm, max_out)
    if len(pts) > num_peaks:
        pts = pts[:int(num_peaks)]
    return pts


def peak_local_max(image: Any, min_distance: int = 1, threshold_abs: Any = None,
                   threshold_rel: Any = None, exclude_border: Any = True,
                   num_peaks: Any = np.inf, footprint: Any = None, labels: Any = None,
                   num_peaks_per_label: Any = np.inf, p_norm: float = np.inf) -> np.ndarray:
    """Coordinates of the local maxima (``skimage.feature.peak_local_max``): the same
    coordinates in the same order as scikit-image's.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D; a numpy image above 3-D takes the default box footprint (or an all-True
        one), filtered one axis at a time.
    min_distance : int, optional
        Peaks are separated by at least ``min_distance`` (in the ``p_norm``); the
        neighbourhood is ``2 * min_distance + 1`` per axis unless ``footprint`` is given.
    threshold_abs, threshold_rel : float, optional
        Minimum intensity (default: the image's minimum), and minimum as a fraction of the
        image's maximum.
    exclude_border : bool, int or tuple of int, optional
        Leave out peaks within this many elements of the edge (True: ``min_distance``).
    num_peaks : int, optional
        At most this many peaks, the highest.
    footprint : array_like of bool, optional
        The neighbourhood of the maximum filter.
    labels : array_like of int, optional
        Find peaks in each labelled region separately.
    num_peaks_per_label : int, optional
    p_norm : float, optional
        Minkowski norm of the distance (inf: Chebyshev).

    Returns
    -------
    coordinates : ndarray of int, shape (n_peaks, ndim)
        Highest first (stable for equal values).

    Examples
    --------
    >>> import numpy as np
    >>> from medkern.segmentation import peak_local_max
    >>> img = np.zeros((7, 7)); img[3, 4] = 2; img[1, 1] = 1
    >>> peak_local_max(img, min_distance=1)
    array([[3, 4],
           [1, 1]])
    """
    host = _checked(image)
    if (footprint is None or np.asarray(footprint).size == 1) and min_distance < 1:
        warnings.warn("When min_distance < 1, peak_local_max acts as finding image > "
                      "max(threshold_abs, threshold_rel * max(image)).", RuntimeWarning,
                      stacklevel=2)
    width = _border_width(host.ndim, min_distance, exclude_border)
    threshold = threshold_abs if threshold_abs is not None else host.min()
    if threshold_rel is not None:
        threshold = max(threshold, threshold_rel * host.max())
    if footprint is None:
        fp = np.ones((2 * min_distance + 1,) * host.ndim, dtype=bool)
    else:
        fp = np.asarray(footprint)
    if labels is None:
        mask = _zero_border(_peak_mask(image, host, fp, threshold), width)
        return _highest(host, mask, num_peaks, min_distance, p_norm)
    lab = _host(labels)
    if lab.shape != host.shape:
        raise ValueError(f"labels (shape {lab.shape}) must have image's shape {host.shape}")
    lab_b = _zero_border(lab.astype(int, casting="safe"), width)
    bg = np.finfo(host.dtype).min if host.dtype.kind == "f" else np.iinfo(host.dtype).min \
        if host.dtype.kind in "iu" else False
    found = []
    for i, roi in enumerate(ndi.find_objects(lab_b)):
        if roi is None:
            continue
        inside = lab[roi] == i + 1
        obj = host[roi].copy()
        obj[~inside] = bg
        mask = _peak_mask(obj, obj, fp, threshold, inside)
        pts = _highest(obj, mask, num_peaks_per_label, min_distance, p_norm)
        found.append(pts + np.array([s.start for s in roi]))
    coords = np.vstack(found) if found else np.empty((0, 2), dtype=int)
    if len(coords) > num_peaks:
        out = np.zeros(host.shape, dtype=bool)
        out[tuple(coords.T)] = True
        coords = _highest(host, out, num_peaks, min_distance, p_norm)
    return coords


def _smooth(shape: tuple, dtype: Any, seed: int) -> np.ndarray:
    """A parity input with separated peaks: smoothed noise."""
    rng = np.random.default_rng(seed)
    x = ndi.gaussian_filter(rng.random(shape), 1.5)
    return ((x - x.min()) / max(np.ptp(x), 1e-12) * 1000).astype(dtype)


def _skimage_peaks(image: Any, **kwargs: Any) -> Any:
    from skimage.feature import peak_local_max as reference
    return reference(image, **kwargs)


def _register() -> None:
    from ...registry import Algorithm, register
    from ._label import _label_error
    register(Algorithm(
        name="peak_local_max", area="segmentation", func=peak_local_max,
        reference=_skimage_peaks, reference_name="skimage.feature.peak_local_max",
        bench_kwargs={"min_distance": 5, "threshold_rel": 0.5},
        cases=({"min_distance": 2}, {"min_distance": 3, "exclude_border": False,
                                     "num_peaks": 5}),
        dtypes=("float32", "int16"), make_input=_smooth, compare_result=_label_error,
        prepare=lambda x: ndi.gaussian_filter(np.asarray(x, dtype=np.float32), 2.0)))


_register()
