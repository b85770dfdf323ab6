"""Morphological reconstruction and what is built on it: scikit-image's ``reconstruction``,
``h_maxima`` / ``h_minima``, ``local_maxima`` / ``local_minima``, and the size filters
``remove_small_objects`` / ``remove_small_holes``.

Reconstruction is the minimax relaxation of :mod:`medkern.kernels.minimax` run to its fixed
point (by erosion directly, by dilation on negated values): exact, since it only moves
values (no arithmetic), so the result equals scikit-image's hybrid algorithm (Vincent 1993)
bit for bit. Regional extrema are a reconstruction too: raise every value by one float64
ulp and reconstruct by erosion under the image; the result stays above the image exactly on
the plateaus no lower element can reach (:func:`medkern.kernels.minimax.raised_seed`).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ... import arrays, checks
from ...kernels import dsl, minimax, propagate
from ..job import Job

__all__ = ["reconstruction", "h_maxima", "h_minima", "local_maxima", "local_minima",
           "remove_small_objects", "remove_small_holes"]


class _Deprecated:
    def __repr__(self) -> str:
        return "<DEPRECATED>"


#: scikit-image's placeholder for a deprecated parameter left out.
DEPRECATED: Any = _Deprecated()


class _DefaultSize(int):
    """``max_size``'s default, 64, told apart from an explicit 64 by identity."""


_MAX_SIZE: Any = _DefaultSize(64)


def _max_size(func: str, old_name: str, old: Any, max_size: Any) -> Any:
    """The threshold scikit-image 0.26's deprecation decorator passes on: a deprecated
    ``old`` value warns and *becomes* ``max_size`` (so it is inclusive too, whatever the
    warning says); given with an explicit ``max_size`` it is a ValueError."""
    if old is DEPRECATED:
        return max_size
    warnings.warn(f"Parameter `{old_name}` is deprecated since version 0.26.0 and will be "
                  "removed in 2.0.0 (or later). To avoid this warning, please use the "
                  f"parameter `max_size` instead. For more details, see the documentation of "
                  f"`{func}`. Note that the new threshold removes objects smaller than **or "
                  "equal to** its value, while the previous parameter only removed smaller "
                  "ones.", FutureWarning, stacklevel=3)
    if max_size is not _MAX_SIZE:
        raise ValueError(f"Both deprecated parameter `{old_name}` and new parameter "
                         "`max_size` are used. Use only the latter to avoid conflicting values.")
    return old


def offsets3(offsets: np.ndarray) -> tuple:
    """n-D offsets (rows) as the 3-D tuples the kernels take (leading axes 0)."""
    pad = 3 - offsets.shape[1]
    return tuple(tuple([0] * pad + [int(v) for v in o]) for o in offsets)


def footprint_offsets(footprint: np.ndarray, center: Any) -> np.ndarray:
    """The offsets (rows) of a footprint's True elements from ``center``, the centre
    itself left out."""
    fp = np.asarray(footprint, dtype=bool)
    pos = np.argwhere(fp) - np.asarray(center, dtype=np.int64)
    return pos[np.any(pos != 0, axis=1)]


def offsets_buffer(offsets: tuple) -> Any:
    """3-D offsets as the flat int32 table (3 per offset) of :mod:`medkern.kernels.minimax`."""
    return arrays.upload_vector(np.asarray(offsets, dtype=np.int32).reshape(-1))


def relax(kernel: Any, offsets: tuple, *state: Any, name: str,
          walk: bool = True) -> propagate.Stats:
    """Run a :mod:`medkern.kernels.minimax` sweep ``kernel(offs, *state, flag, stamp, s0,
    s1)`` over ``offsets`` (3-D tuples) to its fixed point. A sweep walks its lines in
    launches of a bounded number of steps ``s0 .. s1 - 1`` (Mesa's Vulkan ends a thread's
    loops after 65535 iterations; one launch elsewhere). ``walk=False``: a kernel of one
    parallel pass, ``kernel(offs, *state, flag, stamp)``."""
    if not offsets:
        return propagate.Stats(sweeps=0, changing=0, readbacks=0, every=1)
    offs = offsets_buffer(offsets)
    shape = tuple(int(v) for v in state[0].shape[:3])
    size = int(np.prod(shape))
    if not walk:
        return propagate.run(lambda flag, stamp: Job.launch(kernel, offs, *state, flag, stamp),
                             max_sweeps=size + 2, name=name)
    axes = [a for a in range(3) if not (minimax.planar(shape) and a == 0)]
    # a step of a walk loops over the offsets
    ranges = dsl.step_ranges(max(shape[a] for a in axes), max(size // shape[a] for a in axes),
                             len(offsets) + 2)

    def sweep(flag: Any, stamp: int) -> None:
        for s0, s1 in ranges:
            Job.launch(kernel, offs, *state, flag, stamp, s0, s1)
    return propagate.run(sweep, max_sweeps=size + 2, name=name)


def relax_floor(T: Any, g: Any, offsets: tuple, name: str) -> propagate.Stats:
    """Run :func:`medkern.kernels.minimax.floor_sweep` over ``offsets`` (pull offsets,
    3-D tuples) to its fixed point."""
    return relax(minimax.floor_sweep(minimax.planar(T.shape)), offsets, T, g, name=name)


def _float_result(dt: np.dtype) -> np.dtype:
    """scikit-image's float type for an image of dtype ``dt`` (float32 stays, float16
    becomes float32, everything else float64)."""
    return np.dtype(np.float32) if dt.kind == "f" and dt.itemsize <= 4 else np.dtype(np.float64)


def _shape_of(x: Any) -> tuple:
    from ...volume import Volume
    if isinstance(x, Volume):
        x = x.array
    return tuple(np.shape(x)) if not isinstance(x, arrays.DeviceArray) else tuple(x.shape)


def checked_host(x: Any, name: str) -> np.ndarray:
    """``x`` (numpy, list, DeviceArray or a Volume's array) as a checked host array: 1-3 D,
    not empty, a supported dtype or bool (:func:`medkern.checks.array`)."""
    from ...volume import Volume
    if isinstance(x, Volume):
        x = x.array
    if isinstance(x, arrays.DeviceArray):
        checks.array(x, name)
        return np.asarray(arrays.asnumpy(x))
    if not isinstance(x, np.ndarray) and not hasattr(x, "__array__") \
            and not isinstance(x, (list, tuple)):
        raise TypeError(f"{name} must be a numpy array or medkern.DeviceArray, "
                        f"got {type(x).__name__}")
    host = np.asarray(x)
    checks.array(host.view(np.uint8) if host.dtype == np.bool_ else host, name)
    return host


def _dtype_of(x: Any) -> np.dtype:
    from ...volume import Volume
    if isinstance(x, Volume):
        x = x.array
    if isinstance(x, arrays.DeviceArray):
        return np.dtype(x.dtype)
    return np.asarray(x).dtype


def reconstruction(seed: Any, mask: Any, method: str = "dilation", footprint: Any = None,
                   offset: Any = None) -> Any:
    """Grey-level morphological reconstruction (``skimage.morphology.reconstruction``).

    By dilation, ``seed`` grows (repeated dilation with ``footprint``) but never above
    ``mask``; by erosion it shrinks but never below it. Equal to scikit-image's result,
    float for float.

    Parameters
    ----------
    seed : array_like, DeviceArray or Volume
        1-3 D starting image: <= ``mask`` for dilation, >= ``mask`` for erosion.
    mask : array_like or DeviceArray
        The bound, of ``seed``'s shape.
    method : {'dilation', 'erosion'}, optional
    footprint : array_like, optional
        Neighbourhood (default: all ones, 3 per axis); odd sizes unless ``offset`` is given.
    offset : array_like, optional
        The footprint's centre (default: its middle).

    Returns
    -------
    reconstructed : ndarray, DeviceArray or Volume
        float32 for a float32 (or float16) mask, else float64, as scikit-image's.

    Examples
    --------
    >>> import numpy as np
    >>> from medkern.morphology import reconstruction
    >>> mask = np.array([[0, 3, 3, 0, 5, 5, 0]], float)
    >>> seed = np.array([[0, 0, 1, 0, 0, 0, 0]], float)
    >>> reconstruction(seed, mask)
    array([[0., 1., 1., 0., 0., 0., 0.]])
    """
    if method not in ("dilation", "erosion"):
        raise ValueError(f"Reconstruction method can be one of 'erosion' or 'dilation'. "
                         f"Got '{method}'.")
    if _shape_of(seed) != _shape_of(mask):
        raise ValueError(f"seed and mask must have the same shape, got {_shape_of(seed)} "
                         f"and {_shape_of(mask)}")
    out_dt = _float_result(_dtype_of(mask))
    job = Job(seed, name="seed", dtype=out_dt, bools=True)
    ndim = job.ndim
    if footprint is None:
        fp = np.ones((3,) * ndim, dtype=bool)
    else:
        fp = np.asarray(footprint).astype(bool)
        if fp.ndim != ndim:
            raise ValueError(f"footprint must have {ndim} dimensions like seed, got {fp.ndim}")
    if offset is None:
        if not all(d % 2 == 1 for d in fp.shape):
            raise ValueError("Footprint dimensions must all be odd")
        center = np.array([d // 2 for d in fp.shape])
    else:
        center = np.asarray(offset)
        if center.ndim != 1 or center.shape[0] != fp.ndim:
            raise ValueError("Offset and footprint ndims must be equal.")
        if not all(0 <= o < d for o, d in zip(center, fp.shape)):
            raise ValueError("Offset must be included inside footprint")
    # scikit-image spreads a value from p to p + o: element q pulls from q - o
    pull = offsets3(-footprint_offsets(fp, center))
    negate = method == "dilation"
    mbuf, mdt = job.second(mask, "mask", dtypes=[np.dtype(t) for t in np.typecodes["AllInteger"]]
                           + [np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.uint8)])
    T = job.buffer(np.float64)
    g = job.buffer(np.float64)
    flag = _zero_flag()
    try:
        src_dt = job.in_dtype
        Job.launch(minimax.to_f64(src_dt, negate), job.src, T)
        Job.launch(minimax.to_f64(mdt, negate), mbuf, g)
        # seed above the mask (in the working, erosion, sense: below it)
        Job.launch(minimax.exceeds(), g, T, flag)
        if int(arrays.read_scalar(flag)):
            if negate:
                raise ValueError("Intensity of seed image must be less than that of the mask "
                                 "image for reconstruction by dilation.")
            raise ValueError("Intensity of seed image must be greater than that of the mask "
                             "image for reconstruction by erosion.")
        relax_floor(T, g, pull, "reconstruction")
        out = job.buffer()
        Job.launch(minimax.from_f64(out_dt, negate), T, out)
    except BaseException:
        job.discard(T, g)
        raise
    finally:
        arrays.release_buffer(flag)
    job.discard(T, g)
    return job.finish(out)


def _zero_flag() -> Any:
    flag = arrays.empty_buffer((1,), np.dtype(np.int32))
    Job.launch(propagate._set_flag(), flag, 0)
    return flag


def _h_extrema(image: Any, h: Any, footprint: Any, maxima: bool) -> Any:
    from ...volume import Volume
    vol = image if isinstance(image, Volume) else None
    host = checked_host(image, "image")
    if np.ndim(h) != 0:
        raise TypeError("h must be a scalar")
    name = "h_maxima" if maxima else "h_minima"
    if h > np.ptp(host):
        result = np.zeros(host.shape, dtype=np.uint8)
    else:
        if np.issubdtype(type(h), np.floating) and host.dtype.kind in "iu":
            if h % 1 != 0:
                warnings.warn("possible precision loss converting image to floating point. "
                              "To silence this warning, ensure image and h have same data "
                              "type.", stacklevel=3)
                host = host.astype(float)
            else:
                h = host.dtype.type(h)
        if h == 0:
            raise ValueError(f"h = 0 is ambiguous, use local_{name[2:]}() instead?")
        if host.dtype.kind == "f":
            resolution = 2 * np.finfo(host.dtype).resolution * np.abs(host)
            shifted = host - h - resolution if maxima else host + h + resolution
        else:
            info = np.iinfo(host.dtype) if host.dtype.kind in "iu" else None
            lo, hi = (info.min, info.max) if info is not None else (0, 1)
            if h > hi - lo:
                raise ValueError(f"The {'subtracted' if maxima else 'added'} constant is "
                                 f"not compatible with the image data type.")
            if maxima:
                shifted = host - h
                shifted[host < h + lo] = lo
            else:
                shifted = host + h
                shifted[host > hi - h] = hi
        rec = np.asarray(arrays.asnumpy(reconstruction(
            shifted, host, method="dilation" if maxima else "erosion", footprint=footprint)))
        residue = host - rec if maxima else rec - host
        result = (residue >= h).astype(np.uint8)
    if vol is not None:
        return vol.with_array(result)
    if isinstance(image, arrays.DeviceArray):
        return arrays.asarray(result)
    return result


def h_maxima(image: Any, h: Any, footprint: Any = None) -> Any:
    """The maxima of height >= ``h`` (``skimage.morphology.h_maxima``).

    A reconstruction by dilation of ``image - h`` under ``image`` (on the device); the
    shift follows scikit-image's rules exactly (integer images clipped at the dtype's
    minimum, float images lowered by two resolutions more), so the result is the same.

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D.
    h : scalar
        The minimal height (> 0).
    footprint : array_like, optional
        Neighbourhood (default: all ones, 3 per axis).

    Returns
    -------
    h_max : ndarray of uint8 (or DeviceArray, Volume)
        1 on the h-maxima.

    Examples
    --------
    >>> import numpy as np
    >>> from medkern.morphology import h_maxima
    >>> image = np.array([[0, 3, 0, 1, 0, 5, 4, 0]], np.uint8)
    >>> h_maxima(image, 2)
    array([[0, 1, 0, 0, 0, 1, 0, 0]], dtype=uint8)
    """
    return _h_extrema(image, h, footprint, True)


def h_minima(image: Any, h: Any, footprint: Any = None) -> Any:
    """The minima of depth >= ``h`` (``skimage.morphology.h_minima``); see :func:`h_maxima`.

    Examples
    --------
    >>> import numpy as np
    >>> from medkern.morphology import h_minima
    >>> image = np.array([[9, 2, 9, 8, 9, 0, 1, 9]], np.uint8)
    >>> h_minima(image, 2)
    array([[0, 1, 0, 0, 0, 1, 0, 0]], dtype=uint8)
    """
    return _h_extrema(image, h, footprint, False)


def _neighbourhood(footprint: Any, connectivity: Any, ndim: int) -> np.ndarray:
    if footprint is None:
        c = ndim if connectivity is None else connectivity
        return ndi.generate_binary_structure(ndim, c)
    fp = np.asarray(footprint, dtype=bool)
    if fp.ndim != ndim:
        raise ValueError(f"footprint: its number of dimensions ({fp.ndim}) must be the "
                         f"image's ({ndim})")
    if any(s != 3 for s in fp.shape):
        raise ValueError(f"footprint: every dimension size must be 3, got {fp.shape}")
    return fp


def _local_extrema(image: Any, footprint: Any, connectivity: Any, indices: bool,
                   allow_borders: bool, maxima: bool) -> Any:
    dt = _dtype_of(image)
    if dt == np.float16:
        raise TypeError("dtype of `image` is float16 which is not supported, try upcasting "
                        "to float32")
    if dt.kind not in "biuf":
        raise TypeError(f"image must be a real array, got dtype {dt}")
    job = Job(image, name="image", dtype=np.uint8, bools=True, empty=True)
    shape = job.shape
    if job.ndim == 0:
        raise ValueError("image must have at least one dimension")
    fp = _neighbourhood(footprint, connectivity, job.ndim)
    out = job.buffer()
    if int(np.prod(shape)) == 0:
        res = job.finish_mask(out)
        return np.nonzero(arrays.asnumpy(res)) if indices else res
    edge_mode = 2 if allow_borders else 1
    if not allow_borders and any(s < 3 for s in shape):
        warnings.warn("maxima can't exist for an image with any dimension smaller 3 if "
                      "borders aren't allowed", stacklevel=3)
        z = job.buffer(np.float64)
        Job.launch(minimax.above_mask(), z, z, out)  # x > x: never, NaN included
        job.discard(z)
    else:
        if job.in_dtype.kind in "iu" and job.in_dtype.itemsize == 8:
            lo, hi = job.extreme("min"), job.extreme("max")
            if max(abs(int(lo)), abs(int(hi))) > 2 ** 53:
                raise ValueError("image: 64-bit integer values beyond 2**53 are not supported "
                                 "(the comparison runs in float64)")
        # minima of the working image g: -image for maxima
        g = job.buffer(np.float64)
        T = job.buffer(np.float64)
        try:
            Job.launch(minimax.to_f64(job.in_dtype, maxima), job.src, g)
            if maxima:
                hi = -float(job.extreme("min"))
            else:
                hi = float(job.extreme("max"))
            Job.launch(minimax.raised_seed(edge_mode), g, T, hi)
            pull = offsets3(footprint_offsets(fp, (1,) * job.ndim))
            relax_floor(T, g, pull, "local_maxima" if maxima else "local_minima")
            Job.launch(minimax.above_mask(), T, g, out)
        finally:
            job.discard(g, T)
    res = job.finish_mask(out)
    if indices:
        return np.nonzero(np.asarray(arrays.asnumpy(getattr(res, "array", res))))
    return res


def local_maxima(image: Any, footprint: Any = None, connectivity: Any = None,
                 indices: bool = False, allow_borders: bool = True) -> Any:
    """Regional maxima: connected plateaus of equal value whose every neighbour is lower
    (``skimage.morphology.local_maxima``).

    Parameters
    ----------
    image : array_like, DeviceArray or Volume
        1-3 D.
    footprint : array_like, optional
        Neighbourhood, 3 per axis (default: from ``connectivity``).
    connectivity : int, optional
        As ``generate_binary_structure``'s (default: ``image.ndim``, all neighbours).
    indices : bool, optional
        Return the maxima's indices (a tuple of arrays, as ``np.nonzero``) instead of a mask.
    allow_borders : bool, optional
        Whether a plateau touching the image's edge can be a maximum.

    Returns
    -------
    maxima : ndarray of bool (DeviceArray of uint8, Volume) or tuple of ndarrays

    Notes
    -----
    scikit-image also needs a maximum to hold a sample that is a strict maximum along the
    last axis, which every plateau bounded by lower neighbours holds when the footprint
    connects neighbours along that axis (every ``connectivity`` does); for footprints that
    do not, medkern tests the plateau alone.

    Examples
    --------
    >>> import numpy as np
    >>> from medkern.morphology import local_maxima
    >>> local_maxima(np.array([[1, 3, 3, 1, 2, 1]]))
    array([[False,  True,  True, False,  True, False]])
    """
    return _local_extrema(image, footprint, connectivity, indices, allow_borders, True)


def local_minima(image: Any, footprint: Any = None, connectivity: Any = None,
                 indices: bool = False, allow_borders: bool = True) -> Any:
    """Regional minima (``skimage.morphology.local_minima``); see :func:`local_maxima`.

    Examples
    --------
    >>> import numpy as np
    >>> from medkern.morphology import local_minima
    >>> local_minima(np.array([[3, 1, 1, 3, 2, 3]]))
    array([[False,  True,  True, False,  True, False]])
    """
    return _local_extrema(image, footprint, connectivity, indices, allow_borders, False)


def _check_int_or_bool(ar: Any) -> np.dtype:
    dt = _dtype_of(ar)
    if not (dt == np.bool_ or dt.kind in "iu"):
        raise TypeError(f"Only bool or integer image types are supported. Got {dt}.")
    return dt


def _as_host(x: Any) -> tuple:
    """``(numpy array, rewrap)``: the checked host array of x and a function returning a
    result in x's kind (Volume, DeviceArray or numpy)."""
    from ...volume import Volume
    if isinstance(x, Volume):
        host, inner = _as_host(x.array)
        return host, lambda r: x.with_array(inner(r))
    host = checked_host(x, "ar")
    if isinstance(x, arrays.DeviceArray):
        return host, arrays.asarray
    return host, lambda r: r


def remove_small_objects(ar: Any, min_size: Any = DEPRECATED, connectivity: int = 1, *,
                         max_size: int = _MAX_SIZE, out: Any = None) -> Any:
    """Remove the objects of at most ``max_size`` elements
    (``skimage.morphology.remove_small_objects``, scikit-image 0.26).

    Parameters
    ----------
    ar : array_like of bool or int, DeviceArray or Volume
        A mask (objects = its connected components, labelled on the device) or a label image
        (objects = its labels; negative labels are refused).
    min_size : int, optional
        Deprecated (scikit-image 0.26): warns and is used as ``max_size`` -- inclusive, as
        scikit-image 0.26 does (its warning says the old parameter was exclusive, but its
        decorator passes the value on as ``max_size``); with ``max_size`` too, ValueError.
    connectivity : int, optional
        For a mask: as ``generate_binary_structure``'s (1: faces).
    max_size : int, optional
        Objects with this many elements or fewer are removed (inclusive).
    out : ndarray, optional
        Where to write the result (``ar`` itself: in place).

    Returns
    -------
    out : ndarray (DeviceArray, Volume) of ``ar``'s dtype

    Notes
    -----
    The sizes are counted on the host (``np.bincount`` of the labels).

    Examples
    --------
    >>> import numpy as np
    >>> from medkern.morphology import remove_small_objects
    >>> a = np.array([[1, 1, 0, 1], [1, 1, 0, 0]], bool)
    >>> remove_small_objects(a, max_size=1)
    array([[ True,  True, False, False],
           [ True,  True, False, False]])
    """
    max_size = _max_size("remove_small_objects", "min_size", min_size, max_size)
    host, rewrap = _as_host(ar)
    _check_int_or_bool(host)
    if out is not None:
        if not isinstance(out, np.ndarray) or out.shape != host.shape:
            raise ValueError("out must be a numpy array of ar's shape")
        res = out
        if res is not host:
            res[...] = host
    else:
        res = host.copy()
    if max_size == 0:
        return rewrap(res) if out is None else res
    # scikit-image decides by the result's dtype: a bool ``out`` means components of
    # ``ar``'s nonzero elements, anything else reads the result itself as labels
    if res.dtype == np.bool_:
        from ..segmentation import label
        c = int(connectivity)
        if not 1 <= c <= max(host.ndim, 1):
            raise ValueError(f"connectivity must be between 1 and {host.ndim}, got {c}")
        ccs = np.asarray(label(host, ndi.generate_binary_structure(host.ndim, c))[0])
    else:
        ccs = res
    try:
        sizes = np.bincount(ccs.ravel())
    except ValueError:
        raise ValueError("Negative value labels are not supported. Try relabeling the input "
                         "with `scipy.ndimage.label` or `skimage.morphology.label`.") from None
    if len(sizes) == 2 and res.dtype != np.bool_:
        warnings.warn("Only one label was provided to `remove_small_objects`. Did you mean "
                      "to use a boolean array?", UserWarning, stacklevel=2)
    too_small = sizes <= max_size
    res[too_small[ccs]] = 0
    return rewrap(res) if out is None else res


def remove_small_holes(ar: Any, area_threshold: Any = DEPRECATED, connectivity: int = 1, *,
                       max_size: int = _MAX_SIZE, out: Any = None) -> Any:
    """Fill the holes (connected background regions) of at most ``max_size`` elements
    (``skimage.morphology.remove_small_holes``, scikit-image 0.26): background regions
    touching the image's edge count as holes too, as scikit-image's.

    Parameters
    ----------
    ar : array_like of bool or int, DeviceArray or Volume
        A mask (a label image is read as ``!= 0``, with a warning, as scikit-image's).
    area_threshold : int, optional
        Deprecated (scikit-image 0.26): warns and is used as ``max_size`` (inclusive, as
        scikit-image 0.26 does); with ``max_size`` too, ValueError.
    connectivity : int, optional
        Of the holes: as ``generate_binary_structure``'s.
    max_size : int, optional
        Holes of this many elements or fewer are filled (inclusive).
    out : ndarray of bool, optional

    Returns
    -------
    out : ndarray of bool (DeviceArray, Volume)

    Examples
    --------
    >>> import numpy as np
    >>> from medkern.morphology import remove_small_holes
    >>> a = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], bool)
    >>> remove_small_holes(a, max_size=1).all()
    np.True_
    """
    max_size = _max_size("remove_small_holes", "area_threshold", area_threshold, max_size)
    host, rewrap = _as_host(ar)
    _check_int_or_bool(host)
    if host.dtype != np.bool_:
        warnings.warn("Any labeled images will be returned as a boolean array. Did you mean "
                      "to use a boolean array?", UserWarning, stacklevel=2)
    if out is not None:
        if not isinstance(out, np.ndarray) or out.dtype != np.bool_:
            raise TypeError("out dtype must be bool")
        if out.shape != host.shape:
            raise ValueError("out must have ar's shape")
    inverse = np.logical_not(host)
    kept = remove_small_objects(inverse, max_size=max_size, connectivity=connectivity,
                                out=inverse)
    res = np.logical_not(kept, out=out) if out is not None else np.logical_not(kept)
    return rewrap(res) if out is None else res


def _skimage(name: str) -> Any:
    def reference(image: Any, **kwargs: Any) -> Any:
        import skimage.morphology as skm
        return getattr(skm, name)(image, **kwargs)
    reference.__name__ = name
    return reference


def _levels(shape: tuple, dtype: Any, seed: int) -> np.ndarray:
    """A parity input with plateaus and nested extrema: smoothed noise in 12 levels."""
    rng = np.random.default_rng(seed)
    x = ndi.gaussian_filter(rng.random(shape), 1.0)
    return np.floor((x - x.min()) / max(np.ptp(x), 1e-12) * 11.999).astype(dtype)


def _blobs(shape: tuple, dtype: Any, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (ndi.gaussian_filter(rng.random(shape), 1.0) > 0.5).astype(dtype)


def _ct_objects(x: np.ndarray) -> np.ndarray:
    """The benchmark input: the CT's foreground objects as a label image. A device array
    holds no bool, so a mask would reach medkern as uint8 -- which scikit-image reads as
    labels -- and the reference as bool: labels are the same input for both."""
    from ..segmentation._label import foreground
    return ndi.label(foreground(x))[0]


def _same_mask(ours: Any, ref: Any) -> float:
    """0 when the masks are equal; a device result is a uint8 0/1 mask where skimage's is
    bool (``medkern compare`` runs on device arrays)."""
    a = np.asarray(arrays.asnumpy(ours) if isinstance(ours, arrays.DeviceArray) else ours)
    b = np.asarray(ref)
    if b.dtype == np.bool_ and a.dtype == np.uint8 and (a.size == 0 or int(a.max()) <= 1):
        a = a.view(np.bool_)
    return 0.0 if a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) \
        else float("inf")


def _register() -> None:
    from ...registry import Algorithm, register
    from ..segmentation._label import _label_error
    register(Algorithm(
        name="local_maxima", area="morphology", func=local_maxima,
        reference=_skimage("local_maxima"), reference_name="skimage.morphology.local_maxima",
        bench_kwargs={}, cases=({}, {"connectivity": 1, "allow_borders": False}),
        dtypes=("uint8", "float32"), make_input=_levels, compare_result=_same_mask))
    register(Algorithm(
        name="h_maxima", area="morphology", func=h_maxima, reference=_skimage("h_maxima"),
        reference_name="skimage.morphology.h_maxima", bench_kwargs={"h": 50},
        cases=({"h": 2},), dtypes=("uint8", "float32"), make_input=_levels,
        compare_result=_label_error))
    register(Algorithm(
        name="remove_small_objects", area="morphology", func=remove_small_objects,
        reference=_skimage("remove_small_objects"),
        reference_name="skimage.morphology.remove_small_objects",
        bench_kwargs={"max_size": 64}, cases=({"max_size": 5}, {"max_size": 20, "connectivity": 2}),
        dtypes=("bool", "int32"), make_input=_blobs, compare_result=_same_mask,
        prepare=_ct_objects))


_register()
