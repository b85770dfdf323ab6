"""Histogram thresholds with scikit-image's names, parameters and results
(``skimage.filters.threshold_*``, scikit-image 0.26).

The image's histogram is computed on the device (:func:`medkern.kernels.dsl.histogram`,
numpy's binning rules; the extremes by :func:`medkern.kernels.dsl.reduce`): a numpy image
is uploaded once, a DeviceArray or Volume is read where it is. The histogram follows
``skimage.exposure.histogram(image, nbins, source_range='image')``: an integer image gets
one bin per integer from its minimum to its maximum (``nbins`` is ignored), a float (or
bool) image ``nbins`` equal bins over ``[min, max]`` with the edges ``np.histogram``
computes (in the image's float dtype). What follows works on that histogram (at most a
few thousand bins, 65536 for 16-bit data) on the host, in scikit-image's operations and
dtypes (float32 counts, its cumulative sums and argmax), so the thresholds are
scikit-image's. ``threshold_li`` iterates on the means of the values above and below the
threshold: one device reduction per iteration for float images (integer images iterate
on their histogram, as scikit-image does). ``threshold_local`` filters with medkern's
SciPy-exact filters and returns the input's kind.
"""
from __future__ import annotations

import itertools
import math
import warnings
from typing import Any, Callable

import numpy as np
import scipy.ndimage as ndi

from ... import arrays, checks
from ...kernels import dsl
from ...kernels import threshold as kthr
from ...registry import Algorithm, register
from ...typing import ArrayInput
from ..job import Job, reduce_buffer

__all__ = ["threshold_otsu", "threshold_multiotsu", "threshold_li", "threshold_yen",
           "threshold_triangle", "threshold_isodata", "threshold_mean", "threshold_minimum",
           "threshold_local"]

#: An integer image's histogram has one bin per value in its range: refuse ranges whose
#: counts alone would not fit a device buffer (Taichi counts elements in 32 bits).
_MAX_INT_BINS = 2**31 - 1
#: Threshold pairs the multi-Otsu search scores at once (memory ~ 40 bytes each).
_PAIRS_PER_BLOCK = 2**21


class _Image:
    """A threshold function's image: checked, on the device once, with the facts the
    histogram needs (its dtype as scikit-image sees it, the extremes)."""

    def __init__(self, image: Any, name: str = "image"):
        from ...volume import Volume
        x = image.array if isinstance(image, Volume) else image
        if not (isinstance(x, arrays.DeviceArray) or arrays.is_dlpack_producer(x)):
            if x is None:
                raise TypeError(f"{name} must be an array, got None")
            try:
                x = np.asarray(x)
            except Exception as exc:  # noqa: BLE001 - whatever numpy refuses
                raise TypeError(f"{name} must be an array, got {type(x).__name__}: {exc}") \
                    from None
            if x.dtype.kind not in "biuf":
                raise TypeError(f"{name} must hold real numbers or bools, got dtype {x.dtype}")
        dtype = np.dtype(getattr(x, "dtype", np.float32))
        #: the dtype scikit-image computes with (float16 is kept for the bin edges)
        self.dtype = dtype
        self.is_bool = dtype == np.bool_
        self.shape = tuple(int(n) for n in getattr(x, "shape", ()))
        self.job = Job(x, name=name, bools=True)
        self.size = math.prod(self.job.shape)
        self._range: tuple | None = None

    @property
    def is_int(self) -> bool:
        return self.dtype.kind in "iu"

    def warn_rgb(self, func: str) -> None:
        if len(self.shape) > 2 and self.shape[-1] in (3, 4):
            warnings.warn(f"{func} is expected to work correctly only for grayscale images; "
                          f"image shape {self.shape} looks like that of an RGB image.",
                          UserWarning, stacklevel=3)

    def extremes(self) -> tuple:
        """``(min, max)`` as scalars of the kernel dtype; NaN if the image holds one."""
        if self._range is None:
            dt = self.job.in_dtype
            self._range = (dt.type(self.job.extreme("min")), dt.type(self.job.extreme("max")))
        return self._range

    def scalar(self, value: Any) -> Any:
        """``value`` as an element of the caller's image (numpy scalar of its dtype)."""
        return self.dtype.type(value)

    def counts(self, edges: np.ndarray) -> np.ndarray:
        """Device histogram over ``edges`` (float64, equal bins), numpy's binning rules."""
        nb = len(edges) - 1
        lo, hi = float(edges[0]), float(edges[-1])
        norm = nb / (hi - lo) if hi > lo else 0.0
        if not np.isfinite(norm):
            norm = 0.0
        return self.job.histogram(edges, lo, norm)

    def host(self) -> np.ndarray:
        """The image's values on the host, flat (kernel dtype)."""
        return np.array(arrays.download(self.job.src, (self.size,)))

    def release(self) -> None:
        self.job.discard()


def _nan_range_error(lo: Any, hi: Any) -> ValueError:
    return ValueError(f"autodetected range of [{lo}, {hi}] is not finite: image holds NaN or "
                      "infinity (numpy's histogram, which scikit-image uses, raises too)")


def _histogram(img: _Image, nbins: int) -> tuple[np.ndarray, np.ndarray]:
    """``skimage.exposure.histogram(image.ravel(), nbins, source_range='image')``:
    ``(int64 counts, bin centres)``."""
    lo, hi = img.extremes()
    if img.is_int:
        mn, mx = int(lo), int(hi)
        n = mx - mn + 1
        if n > _MAX_INT_BINS:
            raise ValueError(f"image spans {n} integer values: one histogram bin per value "
                             f"(scikit-image's rule for integer images) needs more than "
                             f"{_MAX_INT_BINS} bins; convert it to float to bin it by nbins")
        centers = np.arange(mn, mx + 1)
        if max(abs(mn), abs(mx)) > 2**53:
            # 64-bit values beyond float64's integers: the device kernel bins in float64
            x = img.host().astype(np.int64 if img.dtype.kind == "i" else np.uint64)
            return np.bincount((x - x.dtype.type(mn)).astype(np.int64), minlength=n), centers
        edges = np.arange(n + 1, dtype=np.float64) + float(mn)
        return img.counts(edges), centers
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise _nan_range_error(lo, hi)
    nb = checks.integer(nbins, "nbins", minimum=1)
    # numpy's np.histogram(image, bins=nbins): bool is read as uint8, the edges have the
    # result type of (min, max, image) -- float16/32/64 stay, integers become float64
    et = np.dtype(np.uint8) if img.is_bool else img.dtype
    first, last = et.type(lo), et.type(hi)
    if first == last:
        first, last = first - 0.5, last + 0.5
    bin_type = np.result_type(first, last, np.empty(0, et))
    if np.issubdtype(bin_type, np.integer):
        bin_type = np.result_type(bin_type, float)
    edges = np.linspace(first, last, nb + 1, endpoint=True, dtype=bin_type)
    counts = img.counts(edges.astype(np.float64))
    return counts, (edges[:-1] + edges[1:]) / 2.0


def _validate(img: _Image | None, hist: Any, nbins: int,
              normalize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's ``_validate_image_histogram``: ``(float32 counts, bin centres)`` from
    ``hist`` (a counts array or ``(counts, centres)``, end zeros trimmed) or the image."""
    if hist is not None:
        if isinstance(hist, (tuple, list)):
            counts, centers = hist
            counts, centers = np.asarray(counts), np.asarray(centers)
        else:
            counts = np.asarray(hist)
            centers = np.arange(counts.size)
        if counts.ndim != 1 or counts.size == 0:
            raise ValueError(f"hist must be a 1-D array of counts, got shape {counts.shape}")
        if counts[0] == 0 or counts[-1] == 0:
            cond = counts > 0
            start = np.argmax(cond)
            end = cond.size - np.argmax(cond[::-1])
            counts, centers = counts[start:end], centers[start:end]
    elif img is None:
        raise ValueError("either image or hist must be provided")
    else:
        counts, centers = _histogram(img, nbins)
        if normalize:
            counts = counts / np.sum(counts)
    return counts.astype("float32", copy=False), centers


def _prepare(image: Any, hist: Any, func: str | None = None) -> _Image | None:
    """The image (uploaded) unless ``hist`` replaces it; ``func`` warns for RGB-like shapes."""
    if image is None:
        if hist is None:
            raise ValueError("either image or hist must be provided")
        return None
    if hist is not None:
        return None  # scikit-image ignores the image when a histogram is given
    img = _Image(image)
    if func is not None:
        img.warn_rgb(func)
    return img


def _release(img: _Image | None) -> None:
    if img is not None:
        img.release()


_NOTES_HOST = ("The histogram is computed on the device; the arithmetic on its bins "
               "(cumulative sums, argmax) runs on the host in scikit-image's operations and "
               "dtypes, so the threshold is scikit-image's.")


# --------------------------------------------------------------------------- Otsu
def threshold_otsu(image: ArrayInput | None = None, nbins: int = 256, *,
                   hist: Any = None) -> Any:
    """Threshold by Otsu's method: maximise the between-class variance of the histogram.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume, optional
        1-3 D grayscale image, any real dtype or bool.
    nbins : int, optional
        Number of histogram bins for float images (integer images get one bin per value).
    hist : array or (counts, bin_centers), optional
        A histogram to use instead of the image's.

    Returns
    -------
    threshold : numpy scalar
        A bin centre; values above it are foreground. A constant image gives its value.

    Raises
    ------
    ValueError
        Neither ``image`` nor ``hist``; an image holding NaN or infinity (numpy's range
        error); ``nbins < 1``.

    Notes
    -----
    Reference: ``skimage.filters.threshold_otsu``. The histogram is computed on the device;
    the arithmetic on its bins (cumulative sums, argmax) runs on the host in scikit-image's
    operations and dtypes, so the threshold is scikit-image's. scikit-image raises a bare
    ``Exception`` when neither input is given; medkern a ``ValueError``.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> image = np.array([[0, 0, 1, 3, 5], [0, 1, 4, 3, 4], [1, 2, 5, 4, 1]], np.uint8)
    >>> int(ms.threshold_otsu(image))
    2
    """
    img = _prepare(image, hist, "threshold_otsu")
    try:
        if img is not None:
            lo, hi = img.extremes()
            if lo == hi:  # one value (NaN never equals itself): scikit-image returns it
                return img.scalar(lo)
        counts, centers = _validate(img, hist, nbins)
    finally:
        _release(img)
    return _otsu(counts, centers)


def _otsu(counts: np.ndarray, centers: np.ndarray) -> Any:
    weight1 = np.cumsum(counts)
    weight2 = np.cumsum(counts[::-1])[::-1]
    mean1 = np.cumsum(counts * centers) / weight1
    mean2 = (np.cumsum((counts * centers)[::-1]) / weight2[::-1])[::-1]
    variance12 = weight1[:-1] * weight2[1:] * (mean1[:-1] - mean2[1:]) ** 2
    return centers[np.argmax(variance12)]


# --------------------------------------------------------------------------- multi-Otsu
def threshold_multiotsu(image: ArrayInput | None = None, classes: int = 3, nbins: int = 256,
                        *, hist: Any = None) -> np.ndarray:
    """``classes - 1`` thresholds maximising the between-class variance (multi-level Otsu).

    Parameters
    ----------
    image : array_like, DeviceArray or Volume, optional
        1-3 D grayscale image, any real dtype or bool.
    classes : int, optional
        Number of classes (>= 2).
    nbins : int, optional
        Number of histogram bins for float images (integer images get one bin per value).
    hist : array or (counts, bin_centers), optional
        A histogram to use instead of the image's.

    Returns
    -------
    thresholds : ndarray
        ``classes - 1`` increasing bin centres.

    Raises
    ------
    ValueError
        ``classes < 2``; fewer distinct histogram values than ``classes``; neither
        ``image`` nor ``hist``; an image holding NaN or infinity.

    Notes
    -----
    Reference: ``skimage.filters.threshold_multiotsu`` (Liao, Chen and Chung's
    lookup-table search). The histogram is computed on the device; the exhaustive search
    over threshold combinations runs on the host in float32 in scikit-image's order of
    operations (vectorised over the last two thresholds), so ties resolve alike: the first
    combination in lexicographic order with the largest variance. scikit-image returns an
    empty array for ``classes=1``; medkern raises ``ValueError``.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> image = np.repeat(np.array([10, 10, 50, 50, 90, 90], np.uint8), 4)
    >>> ms.threshold_multiotsu(image, classes=3)
    array([10, 50])
    """
    classes = checks.integer(classes, "classes", minimum=2)
    img = _prepare(image, hist, "threshold_multiotsu")
    try:
        prob, centers = _validate(img, hist, nbins, normalize=True)
    finally:
        _release(img)
    prob = prob.astype("float32", copy=False)
    nvalues = int(np.count_nonzero(prob))
    if nvalues < classes:
        raise ValueError(f"After discretization into bins, the input image has only {nvalues} "
                         f"different values. It cannot be thresholded in {classes} classes "
                         f"(classes={classes}). If there are more unique values before "
                         "discretization, try increasing the number of bins (`nbins`).")
    if nvalues == classes:
        idx = np.flatnonzero(prob)[:-1]
    else:
        idx = _multiotsu_indices(np.ascontiguousarray(prob, np.float32), classes - 1)
    return centers[idx]


def _multiotsu_indices(prob: np.ndarray, k: int) -> np.ndarray:
    """scikit-image's ``_get_multiotsu_thresh_indices_lut`` in float32: the first (in
    lexicographic order) combination of ``k`` bin indices maximising the sum of the
    classes' ``S**2 / P`` (zeroth / first moments, cumulated in float32)."""
    f32 = np.float32
    n = prob.shape[0]
    terms = np.arange(n, dtype=f32) * prob
    terms[0] = prob[0]  # scikit-image's first moment starts at prob[0]
    P = np.cumsum(prob, dtype=f32)
    S = np.cumsum(terms, dtype=f32)
    Pm = np.concatenate([np.zeros(1, f32), P])  # Pm[i] = P[i - 1], 0 for i = 0
    Sm = np.concatenate([np.zeros(1, f32), S])

    def H(i: Any, j: Any) -> np.ndarray:
        # the lookup table's entry (i, j), i <= j; its (0, 0) entry is never set (0)
        i = np.asarray(i)
        j = np.asarray(j)
        z = P[j] - Pm[i]
        f = S[j] - Sm[i]
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(z > 0, (f * f) / z, f32(0)).astype(f32)
        return np.where((i == 0) & (j == 0), f32(0), v).astype(f32)

    best = f32(0)
    found = np.zeros(k, dtype=np.intp)
    if k == 1:
        c = np.arange(0, n - 1)
        sigma = H(0, c) + H(c + 1, n - 1)
        m = sigma.max(initial=f32(0))
        if m > best:
            found[0] = c[int(np.argmax(sigma))]
        return found
    # prefixes c_0 .. c_{k-3} in lexicographic order; the last two vectorised
    for prefix in itertools.combinations(range(0, n - 2), k - 2):
        if any(prefix[t] > n - k + t - 1 for t in range(k - 2)):
            continue
        a0 = prefix[-1] + 1 if prefix else 0
        # pairs (a, b), a0 <= a < b <= n - 2, in lexicographic order, in blocks of a
        # (a few million pairs at a time)
        start = a0
        while start < n - 2:
            stop = start + 1
            pairs = n - 2 - start
            while stop < n - 2 and pairs + (n - 2 - stop) <= _PAIRS_PER_BLOCK:
                pairs += n - 2 - stop
                stop += 1
            a = np.arange(start, stop)
            lengths = (n - 2) - a
            aa = np.repeat(a, lengths)
            offsets = np.cumsum(lengths) - lengths
            bb = np.arange(aa.size) - np.repeat(offsets, lengths) + aa + 1
            first = prefix[0] if prefix else aa
            sigma = H(0, first) + H(bb + 1, n - 1)
            chain = [*prefix, aa]
            for t in range(len(chain) - 1):
                sigma = (sigma + H(np.asarray(chain[t]) + 1, chain[t + 1])).astype(f32)
            sigma = (sigma + H(aa + 1, bb)).astype(f32)
            pos = int(np.argmax(sigma))
            if sigma[pos] > best:
                best = sigma[pos]
                found[:] = [*prefix, aa[pos], bb[pos]]
            start = stop
    return found


# --------------------------------------------------------------------------- Yen
def threshold_yen(image: ArrayInput | None = None, nbins: int = 256, *,
                  hist: Any = None) -> Any:
    """Threshold by Yen's method (maximum correlation criterion).

    Parameters
    ----------
    image : array_like, DeviceArray or Volume, optional
        1-3 D grayscale image, any real dtype or bool.
    nbins : int, optional
        Number of histogram bins for float images (integer images get one bin per value).
    hist : array or (counts, bin_centers), optional
        A histogram to use instead of the image's.

    Returns
    -------
    threshold : numpy scalar
        A bin centre; values above it are foreground.

    Notes
    -----
    Reference: ``skimage.filters.threshold_yen``. The histogram is computed on the device;
    the arithmetic on its bins runs on the host in scikit-image's operations and dtypes.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> int(ms.threshold_yen(np.arange(256)))
    127
    """
    img = _prepare(image, hist)
    try:
        counts, centers = _validate(img, hist, nbins)
    finally:
        _release(img)
    if centers.size == 1:
        return centers[0]
    pmf = counts.astype("float32", copy=False) / counts.sum()
    P1 = np.cumsum(pmf)
    P1_sq = np.cumsum(pmf**2)
    P2_sq = np.cumsum(pmf[::-1] ** 2)[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        crit = np.log(((P1_sq[:-1] * P2_sq[1:]) ** -1) * (P1[:-1] * (1.0 - P1[:-1])) ** 2)
    return centers[crit.argmax()]


# --------------------------------------------------------------------------- ISODATA
def threshold_isodata(image: ArrayInput | None = None, nbins: int = 256,
                      return_all: bool = False, *, hist: Any = None) -> Any:
    """Threshold(s) by the ISODATA (Ridler-Calvard, inter-means) method.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume, optional
        1-3 D grayscale image, any real dtype or bool.
    nbins : int, optional
        Number of histogram bins for float images (integer images get one bin per value).
    return_all : bool, optional
        Return every bin centre satisfying the criterion instead of the lowest.
    hist : array or (counts, bin_centers), optional
        A histogram to use instead of the image's.

    Returns
    -------
    threshold : numpy scalar or ndarray
        ``t`` with ``t = (mean(image <= t) + mean(image > t)) / 2`` within a bin width.

    Raises
    ------
    IndexError
        No bin satisfies the criterion (a constant float image), as in scikit-image.

    Notes
    -----
    Reference: ``skimage.filters.threshold_isodata``. The histogram is computed on the
    device; the arithmetic on its bins runs on the host in scikit-image's operations and
    dtypes.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> image = np.array([[0, 0, 1, 3, 5], [0, 1, 4, 3, 4], [1, 2, 5, 4, 1]], np.uint8)
    >>> int(ms.threshold_isodata(image))
    2
    """
    img = _prepare(image, hist)
    try:
        counts, centers = _validate(img, hist, nbins)
    finally:
        _release(img)
    if len(centers) == 1:
        return centers if return_all else centers[0]
    counts = counts.astype("float32", copy=False)
    csuml = np.cumsum(counts)
    csumh = csuml[-1] - csuml
    intensity_sum = counts * centers
    csum_intensity = np.cumsum(intensity_sum)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = csum_intensity[:-1] / csuml[:-1]
        higher = (csum_intensity[-1] - csum_intensity[:-1]) / csumh[:-1]
    all_mean = (lower + higher) / 2.0
    bin_width = centers[1] - centers[0]
    distances = all_mean - centers[:-1]
    thresholds = centers[:-1][(distances >= 0) & (distances < bin_width)]
    if return_all:
        return thresholds
    if thresholds.size == 0:
        raise IndexError("threshold_isodata: no bin centre satisfies the ISODATA criterion "
                         "(scikit-image raises IndexError here too)")
    return thresholds[0]


# --------------------------------------------------------------------------- minimum
def threshold_minimum(image: ArrayInput | None = None, nbins: int = 256,
                      max_num_iter: int = 10000, *, hist: Any = None) -> Any:
    """Threshold at the minimum between the two maxima of the smoothed histogram.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume, optional
        1-3 D grayscale image, any real dtype or bool.
    nbins : int, optional
        Number of histogram bins for float images (integer images get one bin per value).
    max_num_iter : int, optional
        Most smoothing steps (a 3-bin running mean each).
    hist : array or (counts, bin_centers), optional
        A histogram to use instead of the image's.

    Returns
    -------
    threshold : numpy scalar

    Raises
    ------
    RuntimeError
        No two maxima are found, or the smoothing needs more than ``max_num_iter`` steps
        (scikit-image's errors).

    Notes
    -----
    Reference: ``skimage.filters.threshold_minimum``. The histogram is computed on the
    device; the smoothing (``scipy.ndimage.uniform_filter1d`` on the float32 counts) and
    the search run on the host, as scikit-image does them.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> img = np.arange(25 * 25, dtype=np.uint8).reshape((25, 25))
    >>> img[0:9, :] = 50
    >>> img[14:25, :] = 250
    >>> int(ms.threshold_minimum(img))
    95
    """
    max_num_iter = checks.integer(max_num_iter, "max_num_iter", minimum=1)
    img = _prepare(image, hist)
    try:
        counts, centers = _validate(img, hist, nbins)
    finally:
        _release(img)
    smooth = counts.astype("float32", copy=False)
    maxima: list[int] = []
    counter = 0
    for counter in range(max_num_iter):
        smooth = ndi.uniform_filter1d(smooth, 3)
        maxima = _local_maxima(smooth)
        if len(maxima) < 3:
            break
    if len(maxima) != 2:
        raise RuntimeError("Unable to find two maxima in histogram")
    if counter == max_num_iter - 1:
        raise RuntimeError("Maximum iteration reached for histogram smoothing")
    idx = int(np.argmin(smooth[maxima[0]: maxima[1] + 1]))
    return centers[maxima[0] + idx]


def _local_maxima(h: np.ndarray) -> list[int]:
    """Maxima of a 1-D histogram, plateaus counted once at their first bin (scikit-image's
    ``find_local_maxima_idx``): where a rise or flat stretch first falls."""
    d = np.diff(h)
    out = []
    direction = 1
    # only the sign changes matter: walk the nonzero differences
    for i in np.flatnonzero(d):
        if direction > 0 and d[i] < 0:
            direction = -1
            out.append(int(i))
        elif direction < 0 and d[i] > 0:
            direction = 1
    return out


# --------------------------------------------------------------------------- triangle
def threshold_triangle(image: ArrayInput, nbins: int = 256) -> Any:
    """Threshold by the triangle algorithm (Zack et al.).

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D grayscale image, any real dtype or bool.
    nbins : int, optional
        Number of histogram bins for float images (integer images get one bin per value).

    Returns
    -------
    threshold : numpy scalar
        A bin centre; a constant image gives its value.

    Notes
    -----
    Reference: ``skimage.filters.threshold_triangle``. The histogram is computed on the
    device; the arithmetic on its bins runs on the host in scikit-image's operations.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> image = np.concatenate([np.full(50, 10), np.arange(10, 60)]).astype(np.uint8)
    >>> int(ms.threshold_triangle(image))
    11
    """
    img = _Image(image)
    try:
        hist, centers = _histogram(img, nbins)
        lo = img.extremes()[0]
    finally:
        img.release()
    nb = len(hist)
    arg_peak = int(np.argmax(hist))
    peak_height = hist[arg_peak]
    arg_low, arg_high = np.flatnonzero(hist)[[0, -1]]
    if arg_low == arg_high:
        return img.scalar(lo)
    flip = arg_peak - arg_low < arg_high - arg_peak
    if flip:
        hist = hist[::-1]
        arg_low = nb - arg_high - 1
        arg_peak = nb - arg_peak - 1
    width = arg_peak - arg_low
    x1 = np.arange(width)
    y1 = hist[x1 + arg_low]
    norm = np.sqrt(peak_height**2 + width**2)
    peak_height = peak_height / norm
    width = width / norm
    length = peak_height * x1 - width * y1
    arg_level = np.argmax(length) + arg_low
    if flip:
        arg_level = nb - arg_level - 1
    return centers[arg_level]


# --------------------------------------------------------------------------- mean
def threshold_mean(image: ArrayInput) -> Any:
    """The mean of the image's values.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D image, any real dtype or bool.

    Returns
    -------
    threshold : numpy scalar
        ``np.mean(image)``'s dtype: the float dtype of float images, float64 otherwise.

    Notes
    -----
    Reference: ``skimage.filters.threshold_mean`` (``np.mean``). The sum runs on the device
    in float64 (integers exactly in 64 bits), so a float32 mean may differ from numpy's
    float32 pairwise sum in the last bits.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> float(ms.threshold_mean(np.array([[0, 0, 1, 1, 2, 2]])))
    1.0
    """
    img = _Image(image)
    try:
        dt = img.job.in_dtype
        acc = np.dtype(np.float64) if dt.kind == "f" else np.dtype(
            np.uint64 if dt.kind == "u" else np.int64)
        src = img.job.src
        if isinstance(src, np.ndarray) and not isinstance(src, arrays.DeviceMemory):
            total = src.sum(dtype=acc)
        else:
            total = reduce_buffer(dsl.reduce("sum", dt, acc), src, acc, "sum")
    finally:
        img.release()
    out = img.dtype if img.dtype.kind == "f" else np.dtype(np.float64)
    return out.type(np.float64(total) / img.size)


# --------------------------------------------------------------------------- Li
def threshold_li(image: ArrayInput, *, tolerance: float | None = None,
                 initial_guess: float | Callable | None = None,
                 iter_callback: Callable | None = None) -> Any:
    """Threshold by Li's iterative minimum cross-entropy method.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D grayscale image (integer or float). NaN is ignored; infinities are ignored
        once the image is known to hold more than one value.
    tolerance : float, optional
        Stop when the threshold moves less than this. Default: half the smallest
        difference between distinct values (0.5 for integer images).
    initial_guess : float or callable, optional
        Starting threshold (inside the image's range), or a function of the (shifted,
        finite) values returning one. Default: their mean.
    iter_callback : callable, optional
        Called with the threshold at every iteration.

    Returns
    -------
    threshold : numpy scalar
        NaN for an all-NaN image, the value of a constant image, 0.0 for an image holding
        only infinities of both signs.

    Raises
    ------
    ValueError
        ``initial_guess`` outside the image's range.
    TypeError
        ``initial_guess`` neither a number nor a callable; a bool image (numpy cannot
        subtract bools, scikit-image raises ``TypeError`` too).

    Notes
    -----
    Reference: ``skimage.filters.threshold_li``. Float images: each iteration is one
    device reduction giving the sum and count of the values above and at or below the
    threshold (float64 sums; scikit-image sums in the image's dtype, so float32 results
    agree to float32 rounding). Integer images iterate on their histogram (computed on the
    device) on the host, as scikit-image does: the result is scikit-image's. The default
    tolerance of a float image needs its sorted distinct values: they are computed on the
    host from one copy of the image (pass ``tolerance`` to keep the data on the device);
    a callable ``initial_guess`` also receives a host copy. float16 images are computed in
    float32.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> image = np.array([[0, 0, 1, 3, 5], [0, 1, 4, 3, 4], [1, 2, 5, 4, 1]], np.uint8)
    >>> round(float(ms.threshold_li(image)), 4)
    1.9415
    """
    img = _Image(image)
    try:
        if img.is_bool:
            lo, hi = img.extremes()
            if lo == hi:  # scikit-image returns a constant image's value before subtracting
                return img.scalar(lo)
            raise TypeError("image is bool: threshold_li needs numbers (numpy's boolean "
                            "subtract is not supported, which scikit-image raises)")
        if img.is_int:
            return _li_int(img, tolerance, initial_guess, iter_callback)
        return _li_float(img, tolerance, initial_guess, iter_callback)
    finally:
        img.release()


def _check_guess(guess: Any, image_min: Any, shifted_max: Any, dtype: np.dtype) -> Any:
    t_next = guess - float(image_min)
    if not 0 < t_next < shifted_max:
        raise ValueError(f"The initial guess for threshold_li must be within the range of the "
                         f"image. Got initial_guess={guess} for image min {image_min} and max "
                         f"{shifted_max + image_min}.")
    return dtype.type(t_next)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _bad_guess() -> TypeError:
    return TypeError("Incorrect type for `initial_guess`; should be a floating point value, or "
                     "a function mapping an array to a floating point value.")


def _li_int(img: _Image, tolerance: Any, initial_guess: Any, iter_callback: Any) -> Any:
    lo, hi = img.extremes()
    if lo == hi:
        return img.scalar(lo)
    hist, centers = _histogram(img, 256)
    image_min = img.scalar(lo)
    centers = centers - int(lo)  # the histogram of image - image_min
    tolerance = tolerance or 0.5
    if initial_guess is None:
        total = int(np.dot(hist.astype(object), centers.astype(object)))
        t_next = np.float64(total) / int(hist.sum())
    elif callable(initial_guess):
        x = img.host()
        t_next = initial_guess(np.subtract(x, x.dtype.type(lo), dtype=x.dtype))
    elif _is_number(initial_guess):
        t_next = _check_guess(initial_guess, image_min, int(hi) - int(lo), img.dtype)
    else:
        raise _bad_guess()
    t_curr = -2 * tolerance
    if iter_callback is not None:
        iter_callback(t_next + image_min)
    hist = hist.astype("float32", copy=False)
    while abs(t_next - t_curr) > tolerance:
        t_curr = t_next
        fore = centers > t_curr
        back = ~fore
        mean_fore = np.average(centers[fore], weights=hist[fore])
        mean_back = np.average(centers[back], weights=hist[back])
        if mean_back == 0:
            break
        t_next = (mean_back - mean_fore) / (np.log(mean_back) - np.log(mean_fore))
        if iter_callback is not None:
            iter_callback(t_next + image_min)
    return t_next + image_min


def _li_float(img: _Image, tolerance: Any, initial_guess: Any, iter_callback: Any) -> Any:
    dt = img.job.in_dtype
    info = np.finfo(dt)
    big = float(info.max)
    src = img.job.src
    n0, n1 = src.shape[0], src.shape[1]
    nseg = dsl.row_segments(src.shape[2])  # long rows (1-D data) in segments

    def reduce(kern: Any, width: int, *args: Any) -> np.ndarray:
        partial = arrays.empty_buffer((n0, n1, width * nseg), np.dtype(np.float64))
        try:
            img.job.launch(kern, src, partial, *args)
            rows = np.array(arrays.download(partial, (n0 * n1 * nseg, width)))
        finally:
            if arrays.is_leased(partial):
                arrays.release_buffer(partial)
        return rows

    st = reduce(kthr.finite_stats(dt), 6, math.inf, big)
    n_num = st[:, 0].sum()
    if n_num == 0:
        return np.nan
    lo_num, hi_num = st[:, 1].min(), st[:, 2].max()
    if lo_num == hi_num:
        return img.scalar(lo_num)
    if st[:, 3].sum() == 0:
        return 0.0
    image_min = dt.type(st[:, 4].min())
    shifted_max = dt.type(st[:, 5].max()) - image_min

    host = None

    def shifted() -> np.ndarray:
        nonlocal host
        if host is None:
            x = img.host()
            host = x[np.isfinite(x)] - image_min
        return host

    if tolerance is None or tolerance == 0:
        tolerance = np.min(np.diff(np.unique(shifted()))) / 2
    split = kthr.split_sums(dt)

    def means(t: float) -> tuple:
        rows = reduce(split, 4, float(image_min), t, big)
        s_hi, c_hi, s_lo, c_lo = rows.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return dt.type(s_hi / c_hi), dt.type(s_lo / c_lo)

    if initial_guess is None:
        t_next = means(-1.0)[0]  # every shifted value is >= 0 > -1
    elif callable(initial_guess):
        t_next = initial_guess(shifted())
    elif _is_number(initial_guess):
        t_next = _check_guess(initial_guess, image_min, shifted_max, dt)
    else:
        raise _bad_guess()
    t_curr = -2 * tolerance
    if iter_callback is not None:
        iter_callback(t_next + image_min)
    while abs(t_next - t_curr) > tolerance:
        t_curr = t_next
        mean_fore, mean_back = means(float(t_curr))
        if mean_back == 0.0:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            t_next = (mean_back - mean_fore) / (np.log(mean_back) - np.log(mean_fore))
        if iter_callback is not None:
            iter_callback(t_next + image_min)
    out = t_next + image_min
    return img.dtype.type(out) if img.dtype == np.float16 else out


# --------------------------------------------------------------------------- local
_LOCAL_METHODS = ("generic", "gaussian", "mean", "median")


def threshold_local(image: ArrayInput, block_size: Any = 3, method: str = "gaussian",
                    offset: float = 0, mode: str = "reflect", param: Any = None,
                    cval: float = 0) -> Any:
    """A threshold image: the local (weighted) mean, median or a function of each
    neighbourhood, minus ``offset``.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D grayscale image.
    block_size : int or sequence of int
        Odd neighbourhood size, per axis or for all.
    method : {'gaussian', 'mean', 'median', 'generic'}, optional
        ``gaussian``: Gaussian filter with sigma ``param`` (default ``(block_size - 1) /
        6``); ``mean``: box mean; ``median``: median; ``generic``: ``param`` applied to
        each neighbourhood (medkern's ``generic_filter``: a Taichi ``ti.func`` or a numpy
        reduction such as ``np.mean``).
    offset : float, optional
        Subtracted from the filtered image.
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}, optional
        Border handling.
    param : float, sequence or callable, optional
        Sigma for ``gaussian``, the function for ``generic``.
    cval : float, optional
        Value past the edges for ``mode='constant'``.

    Returns
    -------
    threshold : ndarray, DeviceArray or Volume
        The input's kind and shape; float32 for float16/float32 images, else float64.

    Raises
    ------
    ValueError
        ``block_size`` of the wrong length or with even entries; an unknown ``method``.

    Notes
    -----
    Reference: ``skimage.filters.threshold_local``. The filters are medkern's
    (``gaussian_filter``, ``uniform_filter``, ``median_filter``, ``generic_filter``),
    which give SciPy's numbers; device input stays on the device. scikit-image's
    ``generic`` method takes any Python callable; medkern's ``generic_filter`` takes a
    ``ti.func`` or a numpy reduction (others raise ``TypeError``).

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> image = np.array([[0, 0, 1, 3, 5], [0, 1, 4, 3, 4], [1, 2, 5, 4, 1]], np.uint8)
    >>> ms.threshold_local(image, 3, method="median", mode="nearest")
    array([[0., 0., 1., 3., 4.],
           [0., 1., 3., 4., 4.],
           [1., 2., 4., 4., 3.]])
    """
    from ...volume import Volume
    from .. import filters as mf
    vol = image if isinstance(image, Volume) else None
    x: Any = vol.array if vol is not None else image
    if not (isinstance(x, arrays.DeviceArray) or arrays.is_dlpack_producer(x)):
        if x is None:
            raise TypeError("image must be an array, got None")
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"image must hold real numbers, got dtype {x.dtype}")
    ndim = len(x.shape)
    if np.isscalar(block_size):
        sizes = (checks.integer(block_size, "block_size", minimum=1),) * ndim
    else:
        sizes = tuple(checks.integer(b, "block_size", minimum=1) for b in block_size)
        if len(sizes) != ndim:
            raise ValueError(f"len(block_size) must equal image.ndim ({ndim}), got "
                             f"block_size={tuple(block_size)}")
    if any(b % 2 == 0 for b in sizes):
        raise ValueError(f"block_size must be odd! Given block_size {sizes} contains even "
                         "values.")
    if method not in _LOCAL_METHODS:
        raise ValueError(f"Invalid method specified: method={method!r}. Please use "
                         "`generic`, `gaussian`, `mean`, or `median`.")
    dtype = np.dtype(x.dtype)
    float_dtype = np.dtype(np.float32) if dtype in (np.float16, np.float32) else np.dtype(np.float64)
    if isinstance(x, np.ndarray) and dtype == np.bool_:
        x = x.astype(float_dtype)  # scikit-image converts first; the filters refuse bool
    if method == "generic":
        out = mf.generic_filter(x, param, size=sizes, output=float_dtype, mode=mode, cval=cval)
    elif method == "gaussian":
        sigma = tuple((b - 1) / 6.0 for b in sizes) if param is None else param
        out = mf.gaussian_filter(x, sigma, output=float_dtype, mode=mode, cval=cval,
                                 truncate=4.0)
    elif method == "mean":
        out = mf.uniform_filter(x, sizes, output=float_dtype, mode=mode, cval=cval)
    else:
        out = mf.median_filter(x, sizes, output=float_dtype, mode=mode, cval=cval)
    if isinstance(out, arrays.DeviceArray):
        off = checks.real(offset, "offset")
        if off != 0:
            Job.launch(kthr.subtract_scalar(float_dtype), out._buf, off)
    else:
        out = out - offset
    return vol.with_array(out) if vol is not None else out


# --------------------------------------------------------------------------- registry
def _ct_input(shape: tuple, dtype: Any, seed: int) -> np.ndarray:
    """The CT sample volume in HU; uint8 as an 8-bit window of it (-1024..2036 HU)."""
    from ...sample_data import ct_volume
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        hu = ct_volume(tuple(shape), dtype=np.float32)
        return np.clip((hu + 1024.0) / 12.0, 0, 255).astype(np.uint8)
    return ct_volume(tuple(shape), dtype=dtype)


def _exact(ours: Any, ref: Any) -> float:
    """0 when the thresholds are the same values (a scalar or an array), else inf."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(ref, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return 0.0 if np.array_equal(a, b) else float("inf")


def _sk(name: str) -> Callable:
    def ref(image, **kwargs):
        import skimage.filters
        return getattr(skimage.filters, name)(image, **kwargs)
    ref.__name__ = name
    return ref


register(Algorithm(
    name="threshold_otsu", area="segmentation", func=threshold_otsu,
    reference=_sk("threshold_otsu"), reference_name="skimage.filters.threshold_otsu",
    bench_kwargs={}, cases=({}, {"nbins": 64}), dtypes=("float32", "int16", "uint8"),
    make_input=_ct_input, compare_result=_exact))

register(Algorithm(
    name="threshold_multiotsu", area="segmentation", func=threshold_multiotsu,
    reference=_sk("threshold_multiotsu"),
    reference_name="skimage.filters.threshold_multiotsu",
    bench_kwargs={}, cases=({}, {"classes": 2, "nbins": 64}), dtypes=("float32", "uint8"),
    make_input=_ct_input, compare_result=_exact))
