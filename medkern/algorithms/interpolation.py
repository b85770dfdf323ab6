"""Spline interpolation with the names, parameters and results of ``scipy.ndimage``.

``spline_filter1d``, ``spline_filter``, ``map_coordinates``, ``affine_transform``,
``geometric_transform``, ``shift``, ``zoom`` and ``rotate`` sample the input at
fractional coordinates with B-splines of order 0-5 (:mod:`medkern.kernels.sample`):
the same coordinates, boundary handling, spline weights, prefilter (with SciPy's
12-voxel pre-padding for ``nearest``/``grid-constant``) and order of operations as
SciPy's C code -- except the ``reflect`` prefilter's boundary initialisation, exact here as
in SciPy >= 1.18 (SciPy <= 1.17.1 is off on short lines, scipy/scipy#24615; the parity
reference then is the exact result built from SciPy pieces, :func:`_reference`) --, in
float64 for every dtype, so float64 and integer results equal SciPy's
(integer outputs rounded to nearest as SciPy stores them, clipped to the dtype's range) and
float32 results agree within a rounding.

Boundary ``mode`` is an *interpolation* mode: ``constant`` (``cval`` outside
``[0, n - 1]``), ``grid-constant`` (``cval`` beyond the edge, interpolated across it),
``nearest``, ``mirror``, ``reflect`` (= ``grid-mirror``), ``wrap`` (SciPy's period
``n - 1``) or ``grid-wrap`` (period ``n``) -- not the filters' modes, where the ``grid-``
names are aliases.

Matrices, offsets, shifts, zoom factors and ``cval`` are kernel arguments: a new matrix
reuses the compiled kernel (one specialisation per structure: axes, order, mode, dtypes).

Volumes: a :class:`~medkern.Volume` in gives a Volume on the grid that was sampled --
``zoom`` a new spacing and origin, ``shift`` a moved origin, ``affine_transform`` and
``rotate`` the input's affine composed with the index map -- except ``map_coordinates``
and ``geometric_transform``, whose samples form no grid of the input's space: they return
the plain array.

Complex input (a numpy array or sequence) is resampled as SciPy does it: the real and
imaginary parts one after the other, each with its part of ``cval``, into a complex result
(SciPy's ``output=`` rules for it: :func:`.complex_parts.complex_output`). A 0-d input to
:func:`spline_filter` has nothing to filter: its value is returned in ``output``'s dtype,
as SciPy does.

Deviations from SciPy: bad arguments raise ``ValueError``/``TypeError`` naming the
parameter where SciPy raises ``RuntimeError`` (a :class:`medkern.ArgumentError`,
which is a ``RuntimeError`` too, for the shared checks' cases: a per-axis sequence
of the wrong length, an unknown mode, an output of the wrong shape); bool inputs
are rejected; arrays are 1-3 D; ``geometric_transform`` takes a ``ti.func`` (compiled into the kernel) as well as
a Python callable (evaluated on the host for every output index, as SciPy does, then
sampled like ``map_coordinates``); empty outputs (a ``zoom`` to zero voxels) raise.
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, Sequence

import numpy as np
import numpy.typing as npt

from .. import checks
from ..arrays import shape3
from ..kernels import dsl, sample as ks
from ..typing import ArrayInput, ArrayResult, OutputArg, like_input
from . import complex_parts as cp
from .job import Job

__all__ = ["spline_filter1d", "spline_filter", "map_coordinates", "affine_transform",
           "geometric_transform", "shift", "zoom", "rotate", "warp"]

#: SciPy pads the prefilter's input by this many voxels for ``nearest``/``grid-constant``
NPAD = 12
F64 = np.dtype(np.float64)


# --------------------------------------------------------------------------- helpers
def _order(order: Any, minimum: int = 0) -> int:
    return checks.integer(order, "order", minimum=minimum, maximum=5)


def _kinds(ndim: int) -> tuple:
    """Buffer axis kinds of a ``ndim``-D array: padding axes in front, then interpolated."""
    return ("p",) * (3 - ndim) + ("i",) * ndim


def _out_shape(value: Any, name: str = "output_shape") -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)):
        value = (value,)
    try:
        shape = tuple(checks.integer(v, name, minimum=1) for v in value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of positive integers, got {value!r}") from None
    if not 1 <= len(shape) <= 3:
        raise ValueError(f"{name} must have 1 to 3 entries, got {len(shape)}")
    return shape


def _prefiltered(job: Job, kinds: tuple, order: int, mode: str, cval: float,
                 prefilter: bool) -> tuple[Any, np.dtype, int]:
    """The array the spline samples: the input itself (orders 0-1, ``prefilter=False``) or
    its B-spline coefficients in a float64 buffer (SciPy's ``spline_filter`` of the input,
    pre-padded by :data:`NPAD` along the interpolated axes for ``nearest``/``grid-constant``).
    Returns ``(buffer, dtype, npad)``."""
    if not prefilter or order <= 1:
        return job.src, job.in_dtype, 0
    axes = [d for d in range(3) if kinds[d] == "i"]
    legacy = ks._LEGACY_REFLECT
    s3 = shape3(job.shape)
    if mode in ("nearest", "grid-constant"):
        padded = tuple(n + 2 * NPAD if kinds[d] == "i" else n for d, n in enumerate(s3))
        work = job.buffer(F64, padded)
        job.launch(ks.prepad(kinds, mode, job.in_dtype), job.src, work, NPAD, cval)
        first, npad = False, NPAD
    else:
        work = job.buffer(F64, s3)
        first, npad = True, 0
    for n, d in enumerate(axes):
        _check_spline(s3, d, order)
        copy_in = first and n == 0
        kern = ks.spline_filter1d(order, d, mode, job.in_dtype if copy_in else F64, F64,
                                  copy_in, False, legacy)
        job.launch(kern, job.src if copy_in else work, work, work)
    job._extra.append(work)  # released by finish
    return work, F64, npad


def _check_spline(s3: tuple, d: int, order: int) -> None:
    """The spline prefilter walks each line (a few running sums a pole, ~2 * order loop
    iterations an element) in one launch: refused on Vulkan beyond it."""
    n = int(s3[d])
    dsl.check_walk(n, int(np.prod(s3)) // max(n, 1), 2 * order,
                   f"the spline prefilter (order {order}): a line of {n} elements")


def _sample_affine(job: Job, kinds: tuple, out_kinds: tuple, p: np.ndarray, order: int,
                   mode: str, cval: float, prefilter: bool) -> Any:
    src, dt, npad = _prefiltered(job, kinds, order, mode, cval, prefilter)
    dst = job.buffer()
    kern = ks.resample("affine", kinds, order, mode, dt, job.out_dtype, None, out_kinds)
    job.launch(kern, src, dst, *p.ravel().tolist(), npad, cval)
    return dst


def _sample_zoomshift(job: Job, shifts: Sequence[float] | np.ndarray,
                      zooms: Sequence[float] | np.ndarray, grid: bool,
                      order: int, mode: str, cval: float, prefilter: bool) -> Any:
    kinds = _kinds(job.ndim)
    src, dt, npad = _prefiltered(job, kinds, order, mode, cval, prefilter)
    p = np.zeros((3, 4))
    p[:, 1] = 1.0
    lo = 3 - job.ndim
    p[lo:, 0] = shifts
    p[lo:, 1] = zooms
    dst = job.buffer()
    kern = ks.resample("zoomshift", kinds, order, mode, dt, job.out_dtype, None, kinds)
    job.launch(kern, src, dst, *p.ravel().tolist(), int(grid), npad, cval)
    return dst


def _common(order: Any, mode: Any, cval: Any, prefilter: Any) -> tuple[int, str, float, bool]:
    return _order(order), checks.interp_mode(mode), checks.cval(cval), bool(prefilter)


_NO_CVAL = object()


def _real_second(value: Any, name: str) -> tuple[Any, tuple[int, ...]]:
    """A second array argument (``coordinates``, ``displacement``: sequences become numpy
    arrays, DeviceArrays stay as they are) and its shape; complex values are refused."""
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    dtype = getattr(value, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind == "c":
        raise TypeError(f"{name} must be real, got a complex array")
    return value, tuple(getattr(value, "shape", np.shape(value)))


def _complex_parts(func: Callable[..., Any], input: Any, output: Any, cval: Any = _NO_CVAL,
                   **kwargs: Any) -> np.ndarray:
    """``func`` (a public function of this module) of complex ``input``, as SciPy computes
    it: ``func`` of the real part, then of the imaginary part (each with its part of a
    complex ``cval``), each into its part of the complex result."""
    x = np.asarray(input)
    dt, target = cp.complex_output(output, x.dtype)
    if cval is not _NO_CVAL:
        re_cval, im_cval = cp.parts_of(cval)
        parts_cval: tuple[dict, dict] = ({"cval": re_cval}, {"cval": im_cval})
    else:
        parts_cval = ({}, {})
    if target is not None:  # the parts of a complex array are (strided) real views
        func(x.real, output=target.real, **parts_cval[0], **kwargs)
        func(x.imag, output=target.imag, **parts_cval[1], **kwargs)
        return target
    part = np.finfo(dt).dtype  # complex64 -> float32, complex128 -> float64
    re = func(x.real, output=part, **parts_cval[0], **kwargs)
    im = func(x.imag, output=part, **parts_cval[1], **kwargs)
    out = np.empty(np.shape(re), dt)
    out.real = re
    out.imag = im
    return out


def _zero_d_copy(input: Any, output: Any) -> Any:
    """SciPy's result for a 0-d input of a prefilter: nothing to filter, the value in
    ``output`` (a dtype: default float64; or a 0-d array written in place)."""
    x = np.asarray(input)
    # the dtype checks of every input (float16 is read as float32, as by Job)
    checks.array((x.astype(np.float32) if x.dtype == np.float16 else x).reshape(1))
    dt, target, cast = checks.output(output, (), x.dtype, False)
    if isinstance(target, np.ndarray):
        target[...] = x
        return target
    if target is not None:
        raise TypeError("output must be a numpy array (or a dtype) for a 0-d input")
    out = np.array(x, dtype=dt)
    return out if cast is None else out.astype(cast)


def _index_map(ndim: int, matrix: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """4 x 4 homogeneous map of (padded) output indices to input indices."""
    t = np.eye(4)
    lo = 3 - ndim
    t[lo:3, lo:3] = matrix
    t[lo:3, 3] = offset
    return t


# --------------------------------------------------------------------------- prefilters
@like_input
def spline_filter1d(input: ArrayInput, order: int = 3, axis: int = -1,
                    output: OutputArg = np.float64, mode: str = "mirror") -> ArrayResult:
    """B-spline prefilter along one axis: values -> spline coefficients.

    Parameters
    ----------
    input : ndarray or DeviceArray
        1-3 D real array.
    order : int, optional
        Spline order, 0-5 (default 3); orders 0 and 1 return a copy.
    axis : int, optional
        Axis to filter (default the last).
    output : array, DeviceArray or dtype, optional
        Where to put the result, or its dtype (default float64).
    mode : str, optional
        Interpolation boundary mode (default ``'mirror'``), which selects the
        boundary condition of the recursive filter as in SciPy.

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Reference: :func:`scipy.ndimage.spline_filter1d`; computed in float64 along each
    line (one line per thread) with SciPy's poles, gain and boundary initialisation
    (exact in ``reflect`` mode, below).

    Boundary: the ``reflect``/``grid-mirror`` prefilter (and ``nearest``'s, which shares
    its initialisation) uses the exact boundary initialisation (SciPy >= 1.18); SciPy
    <= 1.17.1 differs on lines shorter than ~20 samples -- up to ~2e-2 of the input's
    magnitude at 2 samples, ~4e-7 at 9, ~3e-12 at 16 (scipy/scipy#24615).

    Examples
    --------
    >>> import numpy as np
    >>> import medkern.interpolation as mi
    >>> mi.spline_filter1d(np.array([0.0, 1.0, 0.0, 0.0]), order=3).round(3)
    array([-0.933,  1.867, -0.533,  0.267])
    """
    if cp.is_complex(input):
        return _complex_parts(spline_filter1d, input, output, order=order, axis=axis, mode=mode)
    job = Job(input, output)
    o = _order(order)
    ax = checks.axis(axis, job.ndim)
    m = checks.interp_mode(mode)
    if o <= 1:
        return job.finish(job.cast_copy())
    d = job.axis3(ax)
    copy_out = job.out_dtype != F64
    work = job.buffer(F64)
    dst = job.buffer() if copy_out else work
    _check_spline(shape3(job.shape), d, o)
    job.launch(ks.spline_filter1d(o, d, m, job.in_dtype, job.out_dtype, True, copy_out,
                                  ks._LEGACY_REFLECT), job.src, work, dst)
    if copy_out:
        job._extra.append(work)
    return job.finish(dst)


@like_input
def spline_filter(input: ArrayInput, order: int = 3, output: OutputArg = np.float64,
                  mode: str = "mirror") -> ArrayResult:
    """Multidimensional B-spline prefilter: :func:`spline_filter1d` along every axis.

    Parameters
    ----------
    input : ndarray or DeviceArray
        1-3 D real or complex array; a 0-d array has nothing to filter and comes back in
        ``output``'s dtype (as in SciPy).
    order : int, optional
        Spline order, 2-5 (default 3).
    output : array, DeviceArray or dtype, optional
        Default float64. For another dtype each pass is stored in it, as in SciPy.
    mode : str, optional
        Interpolation boundary mode (default ``'mirror'``).

    Returns
    -------
    ndarray or DeviceArray

    Notes
    -----
    Reference: :func:`scipy.ndimage.spline_filter`.

    Boundary: the ``reflect``/``grid-mirror`` prefilter (and ``nearest``'s, which shares
    its initialisation) uses the exact boundary initialisation (SciPy >= 1.18); SciPy
    <= 1.17.1 differs on lines shorter than ~20 samples -- up to ~2e-2 of the input's
    magnitude at 2 samples, ~4e-7 at 9, ~3e-12 at 16 (scipy/scipy#24615).

    Examples
    --------
    >>> import numpy as np
    >>> import medkern.interpolation as mi
    >>> mi.spline_filter(np.eye(3), order=2).round(3)
    array([[ 2.264, -1.125,  0.486],
           [-1.125,  2.375, -1.125],
           [ 0.486, -1.125,  2.264]])
    """
    if cp.is_complex(input):
        return _complex_parts(spline_filter, input, output, order=order, mode=mode)
    if np.ndim(input) == 0 and isinstance(input, (np.ndarray, np.generic, int, float)):
        _order(order, minimum=2)
        checks.interp_mode(mode)
        return _zero_d_copy(input, output)
    job = Job(input, output)
    o = _order(order, minimum=2)
    m = checks.interp_mode(mode)
    legacy = ks._LEGACY_REFLECT
    axes = [job.axis3(a) for a in range(job.ndim)]
    if job.out_dtype == F64:
        work = job.buffer(F64)
        for n, d in enumerate(axes):
            _check_spline(shape3(job.shape), d, o)
            src_dt = job.in_dtype if n == 0 else F64
            job.launch(ks.spline_filter1d(o, d, m, src_dt, F64, n == 0, False, legacy),
                       job.src if n == 0 else work, work, work)
        return job.finish(work)
    work, dst = job.buffer(F64), job.buffer()
    for n, d in enumerate(axes):  # SciPy stores every pass in the output dtype
        _check_spline(shape3(job.shape), d, o)
        src_dt = job.in_dtype if n == 0 else job.out_dtype
        job.launch(ks.spline_filter1d(o, d, m, src_dt, job.out_dtype, True, True, legacy),
                   job.src if n == 0 else dst, work, dst)
    job._extra.append(work)
    return job.finish(dst)


# --------------------------------------------------------------------------- transforms
def map_coordinates(input: ArrayInput, coordinates: Any, output: OutputArg = None,
                    order: int = 3, mode: str = "constant", cval: float = 0.0,
                    prefilter: bool = True) -> ArrayResult:
    """Sample the input at the given coordinates by spline interpolation.

    Parameters
    ----------
    input : ndarray or DeviceArray
    coordinates : array_like or DeviceArray, shape (input.ndim, ...)
        ``coordinates[:, j...]`` is the input position sampled for output ``j...``
        (1-3 output axes). float32 coordinates are read as they are, other dtypes as
        float64. A DeviceArray is read in place when its buffer has the component layout
        (see Notes), else through the host.
    output : array, DeviceArray or dtype, optional
        Result (shape ``coordinates.shape[1:]``) or its dtype (default the input's).
    order : int, optional
        Spline order 0-5 (default 3).
    mode : str, optional
        Interpolation boundary mode (default ``'constant'``).
    cval : float, optional
        Value outside the input for ``constant``/``grid-constant``.
    prefilter : bool, optional
        Whether to apply :func:`spline_filter` first (orders > 1); ``False`` when the
        input already holds spline coefficients.

    Returns
    -------
    ndarray or DeviceArray
        A Volume input gives the plain array (the samples form no grid of the input).

    Notes
    -----
    Reference: :func:`scipy.ndimage.map_coordinates`. Layout: coordinates of shape
    ``(C, *spatial)`` live in one 3-D buffer of shape ``(C * s0, s1, s2)``,
    ``(s0, s1, s2) = shape3(spatial)`` (plain C order).

    Boundary: the ``reflect``/``grid-mirror`` prefilter uses the exact boundary
    initialisation (SciPy >= 1.18); SciPy <= 1.17.1 differs on axes shorter than ~20
    samples -- up to ~2e-2 of the input's magnitude at 2 samples, ~4e-7 at 9, ~3e-12
    at 16 (scipy/scipy#24615).

    Examples
    --------
    >>> import numpy as np
    >>> import medkern.interpolation as mi
    >>> a = np.arange(12.0).reshape(4, 3)
    >>> mi.map_coordinates(a, [[0.5, 2.0], [0.5, 1.0]], order=1)
    array([2., 7.])
    """
    if cp.is_complex(input):
        return _complex_parts(map_coordinates, input, output, cval, coordinates=coordinates,
                              order=order, mode=mode, prefilter=prefilter)
    job = Job(input)
    o, m, cv, pre = _common(order, mode, cval, prefilter)
    coordinates, shape = _real_second(coordinates, "coordinates")
    if len(shape) < 2:
        raise ValueError(f"coordinates must have shape (input.ndim, ...) with 1 to 3 output "
                         f"axes, got shape {shape}")
    if shape[0] != job.ndim:
        raise ValueError(f"coordinates has leading length {shape[0]}; it must be the input's "
                         f"number of axes ({job.ndim})")
    out_shape = _out_shape(shape[1:], "coordinates.shape[1:]")
    job.resize_output(out_shape, output)
    s3 = shape3(out_shape)
    coords, cdt = job.second(coordinates, "coordinates", layout=(shape[0] * s3[0], s3[1], s3[2]),
                             dtypes=(np.float32, np.float64))
    kinds = _kinds(job.ndim)
    src, dt, npad = _prefiltered(job, kinds, o, m, cv, pre)
    dst = job.buffer()
    kern = ks.resample("coords", kinds, o, m, dt, job.out_dtype, cdt, _kinds(len(out_shape)))
    job.launch(kern, src, dst, coords, npad, cv)
    return job.finish(dst, geometry=False)


@like_input
def warp(input: ArrayInput, displacement: Any, output: OutputArg = None, order: int = 1,
         mode: str = "constant", cval: float = 0.0, prefilter: bool = True) -> ArrayResult:
    """Resample the input through a displacement field on its own grid.

    Output voxel ``o`` takes the input's value at ``o + displacement[:, o]`` (voxel units,
    one component per array axis): the backward warp of registration (a field estimated
    for the fixed image's grid, applied to the moving image). What
    ``map_coordinates(input, np.indices(input.shape) + displacement, ...)`` gives, without
    building the coordinate array: the field is read in place, so a device field (a
    ``(ndim, *input.shape)`` DeviceArray, e.g. from :func:`medkern.stack`) never leaves
    the device.

    Parameters
    ----------
    input : ndarray, DeviceArray or Volume
    displacement : array_like or DeviceArray, shape (input.ndim, *input.shape)
        Displacement per array axis, in voxels. float32 is read as it is, other dtypes
        as float64.
    output, order, mode, cval, prefilter :
        As in :func:`map_coordinates` (default ``order=1``, the registration warp's).

    Returns
    -------
    ndarray, DeviceArray or Volume
        On the input's grid (a Volume keeps its geometry).

    Notes
    -----
    Reference: ``scipy.ndimage.map_coordinates(input, np.indices(input.shape) +
    displacement, ...)`` (the sum in float64, or float32 for a float32 field, as numpy
    adds them); ITK's ``WarpImageFilter`` and scikit-image's ``warp`` with a coordinate
    array do the same. medkern-only (SciPy has no warp by a displacement field).

    Examples
    --------
    >>> import numpy as np
    >>> import medkern.interpolation as mi
    >>> a = np.arange(12.0).reshape(3, 4)
    >>> d = np.zeros((2, 3, 4)); d[1] = 0.5      # half a voxel along the last axis
    >>> mi.warp(a, d)[0]
    array([0.5, 1.5, 2.5, 0. ])
    """
    if cp.is_complex(input):
        return _complex_parts(warp, input, output, cval, displacement=displacement,
                              order=order, mode=mode, prefilter=prefilter)
    job = Job(input, output)
    o, m, cv, pre = _common(order, mode, cval, prefilter)
    displacement, shape = _real_second(displacement, "displacement")
    if shape != (job.ndim, *job.shape):
        raise ValueError(f"displacement must have shape (input.ndim, *input.shape) = "
                         f"{(job.ndim, *job.shape)}, got {shape}")
    s3 = shape3(job.shape)
    field, fdt = job.second(displacement, "displacement", layout=(job.ndim * s3[0], s3[1], s3[2]),
                            dtypes=(np.float32, np.float64))
    kinds = _kinds(job.ndim)
    src, dt, npad = _prefiltered(job, kinds, o, m, cv, pre)
    dst = job.buffer()
    kern = ks.resample("displacement", kinds, o, m, dt, job.out_dtype, fdt, kinds)
    job.launch(kern, src, dst, field, npad, cv)
    return job.finish(dst)


@like_input
def affine_transform(input: ArrayInput, matrix: npt.ArrayLike, offset: Any = 0.0,
                     output_shape: Sequence[int] | None = None, output: OutputArg = None,
                     order: int = 3, mode: str = "constant", cval: float = 0.0,
                     prefilter: bool = True) -> ArrayResult:
    """Affine transformation: output index ``o`` samples the input at ``matrix @ o + offset``.

    Parameters
    ----------
    input : ndarray or DeviceArray or Volume
    matrix : ndarray
        ``(ndim, ndim)`` (or ``(ndim, output ndim)``) linear map; ``(ndim,)`` a diagonal
        (SciPy's separable zoom/shift path); ``(ndim, ndim + 1)`` or
        ``(ndim + 1, ndim + 1)`` homogeneous (the last column is the offset; the bottom
        row of the square form must be ``[0, ..., 0, 1]``).
    offset : float or sequence, optional
        Offset per input axis (ignored with a homogeneous matrix).
    output_shape : tuple of int, optional
        Default: ``output``'s shape if it is an array, else the input's.
    output, order, mode, cval, prefilter :
        As in :func:`map_coordinates`.

    Returns
    -------
    ndarray, DeviceArray or Volume
        A Volume's result has the affine ``input.affine @ T``, ``T`` the homogeneous
        output-index -> input-index map (same number of axes only).

    Notes
    -----
    Reference: :func:`scipy.ndimage.affine_transform`. The matrix and offset are kernel
    arguments: new matrices reuse the compiled kernel.

    Boundary: the ``reflect``/``grid-mirror`` prefilter uses the exact boundary
    initialisation (SciPy >= 1.18); SciPy <= 1.17.1 differs on axes shorter than ~20
    samples -- up to ~2e-2 of the input's magnitude at 2 samples, ~4e-7 at 9, ~3e-12
    at 16 (scipy/scipy#24615).

    Examples
    --------
    >>> import numpy as np
    >>> import medkern.interpolation as mi
    >>> a = np.arange(16.0).reshape(4, 4)
    >>> mi.affine_transform(a, [[0.0, 1.0], [1.0, 0.0]], order=1)  # transpose
    array([[ 0.,  4.,  8., 12.],
           [ 1.,  5.,  9., 13.],
           [ 2.,  6., 10., 14.],
           [ 3.,  7., 11., 15.]])
    """
    if cp.is_complex(input):
        return _complex_parts(affine_transform, input, output, cval, matrix=matrix,
                              offset=offset, output_shape=output_shape, order=order, mode=mode,
                              prefilter=prefilter)
    job = Job(input)
    o, m, cv, pre = _common(order, mode, cval, prefilter)
    nd = job.ndim
    if output_shape is None:
        shp = getattr(output, "shape", None)
        output_shape = tuple(shp) if shp is not None and not isinstance(output, (type, np.dtype, str)) \
            else job.shape
    out_shape = _out_shape(output_shape)
    try:
        mat = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"matrix must be a real array, got {type(matrix).__name__}") from None
    if mat.ndim not in (1, 2) or mat.shape[0] < 1:
        raise ValueError(f"matrix must be 1-D or 2-D, got shape {mat.shape}")
    if mat.ndim == 2 and mat.shape[1] == nd + 1 and mat.shape[0] in (nd, nd + 1):
        if mat.shape[0] == nd + 1:
            bottom = [0.0] * nd + [1.0]
            if not np.all(mat[nd] == bottom):
                raise ValueError(f"matrix of shape {mat.shape} is homogeneous for an input of "
                                 f"ndim={nd}, but its bottom row is {mat[nd].tolist()}, not {bottom}")
        offset = mat[:nd, nd]
        mat = mat[:nd, :nd]
    if mat.shape[0] != nd:
        raise ValueError(f"matrix has shape {mat.shape}: it needs one row per input axis ({nd})")
    if mat.ndim == 2 and mat.shape[1] != len(out_shape):
        raise ValueError(f"matrix has shape {mat.shape}: it needs one column per output axis "
                         f"({len(out_shape)})")
    if mat.ndim == 1 and len(out_shape) != nd:
        raise ValueError(f"a 1-D matrix (diagonal) needs output_shape with {nd} axes, got "
                         f"{out_shape}")
    off = np.array([checks.real(v, "offset", finite=False)
                    for v in checks.per_axis(offset, nd, "offset")], dtype=np.float64)
    if job.volume is not None and len(out_shape) != nd:
        raise ValueError(f"a Volume's output_shape must have its {nd} axes (got {out_shape}); "
                         "pass volume.array for a plain array")
    job.resize_output(out_shape, output)
    if mat.ndim == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            shifts = off / mat  # SciPy samples at (o + offset / matrix) * matrix
        dst = _sample_zoomshift(job, shifts, mat, False, o, m, cv, pre)
        return job.finish(dst, _index_map(nd, np.diag(mat), off))
    kinds, out_kinds = _kinds(nd), _kinds(len(out_shape))
    p = np.zeros((3, 4))
    lo, olo = 3 - nd, 3 - len(out_shape)
    p[lo:, olo:3] = mat
    p[lo:, 3] = off
    dst = _sample_affine(job, kinds, out_kinds, p, o, m, cv, pre)
    return job.finish(dst, _index_map(nd, mat, off) if job.volume is not None else None)


def _is_ti_func(function: Any) -> bool:
    return bool(getattr(function, "_is_taichi_function", False))


def geometric_transform(input: ArrayInput, mapping: Callable[..., Any],
                        output_shape: Sequence[int] | None = None, output: OutputArg = None,
                        order: int = 3, mode: str = "constant", cval: float = 0.0,
                        prefilter: bool = True, extra_arguments: Sequence[Any] = (),
                        extra_keywords: dict[str, Any] | None = None) -> ArrayResult:
    """Sample the input where ``mapping`` sends each output index.

    Parameters
    ----------
    input : ndarray or DeviceArray
    mapping : ti.func or callable
        A Taichi function ``f(index) -> coordinates``: ``index`` a ``ti.Vector`` of the
        output's axes (int32), result a ``ti.Vector`` of one coordinate per input axis;
        it is compiled into the sampling kernel (the fast path, every arch). Or, as in
        SciPy, a Python callable taking the output index tuple (and
        ``*extra_arguments, **extra_keywords``) and returning one coordinate per input
        axis: it is called on the host for every output index, as SciPy does, and the
        coordinates are then sampled like :func:`map_coordinates`.
    output_shape : tuple of int, optional
        Default the input's shape.
    output, order, mode, cval, prefilter :
        As in :func:`map_coordinates`.
    extra_arguments, extra_keywords :
        Passed to a Python ``mapping``; a ``ti.func`` takes parameters through a
        closure (must be empty).

    Returns
    -------
    ndarray or DeviceArray
        A Volume input gives the plain array (a general mapping has no grid geometry).

    Notes
    -----
    Reference: :func:`scipy.ndimage.geometric_transform`.

    Boundary: the ``reflect``/``grid-mirror`` prefilter uses the exact boundary
    initialisation (SciPy >= 1.18); SciPy <= 1.17.1 differs on axes shorter than ~20
    samples -- up to ~2e-2 of the input's magnitude at 2 samples, ~4e-7 at 9, ~3e-12
    at 16 (scipy/scipy#24615).

    Examples
    --------
    >>> import numpy as np
    >>> import taichi as ti
    >>> import medkern.interpolation as mi
    >>> @ti.func
    ... def half_shift(i):
    ...     return ti.Vector([i[0] - 0.5, i[1] - 0.5], dt=ti.f64)
    >>> a = np.arange(12.0).reshape(4, 3)
    >>> mi.geometric_transform(a, half_shift, order=1, mode="nearest")[1:, 1:]
    array([[2., 3.],
           [5., 6.],
           [8., 9.]])
    """
    if extra_keywords is None:
        extra_keywords = {}
    if cp.is_complex(input):
        return _complex_parts(geometric_transform, input, output, cval, mapping=mapping,
                              output_shape=output_shape, order=order, mode=mode,
                              prefilter=prefilter, extra_arguments=extra_arguments,
                              extra_keywords=extra_keywords)
    if not callable(mapping):
        raise TypeError(f"mapping must be a ti.func or a callable, got {type(mapping).__name__}")
    job = Job(input)
    o, m, cv, pre = _common(order, mode, cval, prefilter)
    out_shape = _out_shape(job.shape if output_shape is None else output_shape)
    if not _is_ti_func(mapping):
        idx = np.indices(out_shape).reshape(len(out_shape), -1).T
        pts = np.array([np.asarray(mapping(tuple(int(v) for v in i), *extra_arguments,
                                           **extra_keywords), dtype=np.float64).reshape(-1)
                        for i in idx], dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != job.ndim:
            raise ValueError(f"mapping must return {job.ndim} coordinates (one per input axis), "
                             f"got {pts.shape[-1] if pts.ndim == 2 else pts.shape}")
        coords = pts.T.reshape((job.ndim,) + out_shape)
        return map_coordinates(input, coords, output, o, m, cv, pre)
    if tuple(extra_arguments) or extra_keywords:
        raise ValueError("extra_arguments/extra_keywords are for Python mappings; a ti.func "
                         "takes its parameters through a closure")
    job.resize_output(out_shape, output)
    kinds = _kinds(job.ndim)
    src, dt, npad = _prefiltered(job, kinds, o, m, cv, pre)
    dst = job.buffer()
    kern = ks.resample(mapping, kinds, o, m, dt, job.out_dtype, None, _kinds(len(out_shape)))
    job.launch(kern, src, dst, npad, cv)
    return job.finish(dst, geometry=False)


@like_input
def shift(input: ArrayInput, shift: Any, output: OutputArg = None, order: int = 3,
          mode: str = "constant", cval: float = 0.0, prefilter: bool = True) -> ArrayResult:
    """Shift the array by ``shift`` voxels per axis (output ``o`` samples input ``o - shift``).

    Parameters
    ----------
    input : ndarray, DeviceArray or Volume
    shift : float or sequence of float
        Shift per axis.
    output, order, mode, cval, prefilter :
        As in :func:`map_coordinates`.

    Returns
    -------
    ndarray, DeviceArray or Volume
        A Volume's origin moves with the data (``index_to_world(o)`` of the result is the
        input's at ``o - shift``).

    Notes
    -----
    Reference: :func:`scipy.ndimage.shift`.

    Boundary: the ``reflect``/``grid-mirror`` prefilter uses the exact boundary
    initialisation (SciPy >= 1.18); SciPy <= 1.17.1 differs on axes shorter than ~20
    samples -- up to ~2e-2 of the input's magnitude at 2 samples, ~4e-7 at 9, ~3e-12
    at 16 (scipy/scipy#24615).

    Examples
    --------
    >>> import numpy as np
    >>> import medkern.interpolation as mi
    >>> mi.shift(np.array([0.0, 1.0, 2.0, 3.0]), 1.5, order=1)
    array([0. , 0. , 0.5, 1.5])
    """
    if cp.is_complex(input):
        return _complex_parts(globals()["shift"], input, output, cval, shift=shift, order=order,
                              mode=mode, prefilter=prefilter)
    job = Job(input, output)
    o, m, cv, pre = _common(order, mode, cval, prefilter)
    s = np.array([checks.real(v, "shift") for v in checks.per_axis(shift, job.ndim, "shift")])
    dst = _sample_zoomshift(job, -s, np.ones(job.ndim), False, o, m, cv, pre)
    return job.finish(dst, _index_map(job.ndim, np.eye(job.ndim), -s))


@like_input
def zoom(input: ArrayInput, zoom: Any, output: OutputArg = None, order: int = 3,
         mode: str = "constant", cval: float = 0.0, prefilter: bool = True, *,
         grid_mode: bool = False) -> ArrayResult:
    """Resize by spline interpolation: ``round(n * zoom)`` voxels per axis.

    Parameters
    ----------
    input : ndarray, DeviceArray or Volume
    zoom : float or sequence of float
        Zoom factor per axis (> 0).
    output, order, mode, cval, prefilter :
        As in :func:`map_coordinates`.
    grid_mode : bool, optional
        False (default): the centres of the corner voxels of input and output coincide
        (output ``o`` samples ``o * (n_in - 1) / (n_out - 1)``). True: the outer edges of
        the grids coincide (``(o + 0.5) * n_in / n_out - 0.5``).

    Returns
    -------
    ndarray, DeviceArray or Volume
        A Volume gets the sampled grid: spacing times the effective zoom factor, and an
        origin at the centre of the first output voxel.

    Notes
    -----
    Reference: :func:`scipy.ndimage.zoom` (also its early return of a copy when every
    factor is 1 and ``prefilter`` is true, and its warning for ``constant``/``wrap`` with
    ``grid_mode``).

    Boundary: the ``reflect``/``grid-mirror`` prefilter uses the exact boundary
    initialisation (SciPy >= 1.18); SciPy <= 1.17.1 differs on axes shorter than ~20
    samples -- up to ~2e-2 of the input's magnitude at 2 samples, ~4e-7 at 9, ~3e-12
    at 16 (scipy/scipy#24615).

    Complex input zooms the real and imaginary parts with every parameter, ``grid_mode``
    included; SciPy <= 1.17.1 drops ``grid_mode`` for complex input (its own docs say the
    parts are zoomed independently), so with ``grid_mode=True`` the results differ there.

    Examples
    --------
    >>> import numpy as np
    >>> import medkern.interpolation as mi
    >>> mi.zoom(np.array([0.0, 1.0, 2.0]), 5 / 3, order=1)
    array([0. , 0.5, 1. , 1.5, 2. ])
    """
    if cp.is_complex(input):
        return _complex_parts(globals()["zoom"], input, output, cval, zoom=zoom, order=order,
                              mode=mode, prefilter=prefilter, grid_mode=grid_mode)
    job = Job(input)
    o, m, cv, pre = _common(order, mode, cval, prefilter)
    zs = [checks.real(v, "zoom") for v in checks.per_axis(zoom, job.ndim, "zoom")]
    if any(z <= 0 for z in zs):
        raise ValueError(f"zoom must be > 0 on every axis, got {zs}")
    out_shape = tuple(int(round(n * z)) for n, z in zip(job.shape, zs))
    if any(n < 1 for n in out_shape):
        raise ValueError(f"zoom={zs} makes an empty output of shape {out_shape}")
    job.resize_output(out_shape, output)
    grid = bool(grid_mode)
    num = np.array(job.shape, dtype=np.int64)
    div = np.array(out_shape, dtype=np.int64)
    if not grid:
        num, div = num - 1, div - 1
    factors = np.divide(num, div, out=np.ones(job.ndim, dtype=np.float64), where=div != 0)
    offset = 0.5 * factors - 0.5 if grid else np.zeros(job.ndim)
    index_map = _index_map(job.ndim, np.diag(factors), offset)
    if all(z == 1 for z in zs) and pre:
        return job.finish(job.cast_copy(), index_map)
    if grid and m in ("constant", "wrap"):
        warnings.warn(f"It is recommended to use mode = grid-{m} instead of {m} when grid_mode "
                      "is True.", stacklevel=2)
    dst = _sample_zoomshift(job, np.zeros(job.ndim), factors, grid, o, m, cv, pre)
    return job.finish(dst, index_map)


@like_input
def rotate(input: ArrayInput, angle: float, axes: Sequence[int] = (1, 0), reshape: bool = True,
           output: OutputArg = None, order: int = 3, mode: str = "constant", cval: float = 0.0,
           prefilter: bool = True) -> ArrayResult:
    """Rotate the array by ``angle`` degrees in the plane of ``axes``.

    Parameters
    ----------
    input : ndarray, DeviceArray or Volume
        2-D or 3-D.
    angle : float
        Rotation angle in degrees.
    axes : tuple of 2 ints, optional
        The plane of rotation (default the first two axes).
    reshape : bool, optional
        True (default): the output is large enough to hold the whole rotated input.
    output, order, mode, cval, prefilter :
        As in :func:`map_coordinates`; 3-D inputs are rotated plane by plane (prefilter
        and interpolation in the plane only), as SciPy does.

    Returns
    -------
    ndarray, DeviceArray or Volume

    Notes
    -----
    Reference: :func:`scipy.ndimage.rotate` (its cosine and sine in degrees,
    ``scipy.special.cosdg``/``sindg``, output shape and centring).

    Boundary: the ``reflect``/``grid-mirror`` prefilter uses the exact boundary
    initialisation (SciPy >= 1.18); SciPy <= 1.17.1 differs on axes shorter than ~20
    samples -- up to ~2e-2 of the input's magnitude at 2 samples, ~4e-7 at 9, ~3e-12
    at 16 (scipy/scipy#24615).

    Examples
    --------
    >>> import numpy as np
    >>> import medkern.interpolation as mi
    >>> mi.rotate(np.arange(6.0).reshape(2, 3), 90, order=1)
    array([[2., 5.],
           [1., 4.],
           [0., 3.]])
    """
    if cp.is_complex(input):
        return _complex_parts(rotate, input, output, cval, angle=angle, axes=axes,
                              reshape=reshape, order=order, mode=mode, prefilter=prefilter)
    from scipy import special

    job = Job(input)
    o, m, cv, pre = _common(order, mode, cval, prefilter)
    nd = job.ndim
    if nd < 2:
        raise ValueError(f"input must be 2-D or 3-D for rotate, got ndim={nd}")
    ax = checks.axes(axes, nd, "axes")
    if len(ax) != 2:
        raise ValueError(f"axes must contain exactly two axes, got {tuple(axes)}")
    ax = tuple(sorted(ax))
    ang = checks.real(angle, "angle")
    c, s = special.cosdg(ang), special.sindg(ang)
    rot = np.array([[c, s], [-s, c]])
    img_shape = np.asarray(job.shape)
    in_plane = img_shape[list(ax)]
    if reshape:
        iy, ix = in_plane
        bounds = rot @ [[0, 0, iy, iy], [0, ix, 0, ix]]
        out_plane = (np.ptp(bounds, axis=1) + 0.5).astype(int)
    else:
        out_plane = in_plane
    out_center = rot @ ((out_plane - 1) / 2)
    in_center = (in_plane - 1) / 2
    off = in_center - out_center
    out_shape = img_shape.copy()
    out_shape[list(ax)] = out_plane
    out_shape = tuple(int(n) for n in out_shape)
    if any(n < 1 for n in out_shape):
        raise ValueError(f"rotate makes an empty output of shape {out_shape}")
    job.resize_output(out_shape, output)
    lo = 3 - nd
    a3 = [a + lo for a in ax]
    kinds = tuple("i" if d in a3 else ("b" if d >= lo else "p") for d in range(3))
    p = np.zeros((3, 4))
    for h in range(2):
        for ll in range(2):
            p[a3[h], a3[ll]] = rot[h, ll]
        p[a3[h], 3] = off[h]
    dst = _sample_affine(job, kinds, kinds, p, o, m, cv, pre)
    t = np.eye(nd)
    t[np.ix_(ax, ax)] = rot
    full_off = np.zeros(nd)
    full_off[list(ax)] = off
    return job.finish(dst, _index_map(nd, t, full_off))


# --------------------------------------------------------------------------- references
# SciPy <= 1.17.1 initialises the reflect (half-sample symmetric) prefilter inexactly on
# short lines (scipy/scipy#24615); medkern uses the exact boundary condition. Where the
# installed SciPy has the bug, the parity reference is the exact result built from SciPy
# pieces: the prefilter from SciPy's grid-wrap filter (below), the resampling functions
# SciPy's own with ``prefilter=False`` on those coefficients -- the path SciPy itself takes
# (``spline_filter(input, order, output=float64, mode=mode)``, then sampling).

#: Modes whose prefilter uses the reflect initialisation: spline_filter(1d) in these modes.
_REFLECT_INIT = ("reflect", "grid-mirror", "nearest")
#: ...and the resampling functions in these (``nearest`` is pre-padded by :data:`NPAD`:
#: lines of >= 25 samples, where the two initialisations agree to float64 rounding).
_REFLECT_SAMPLING = ("reflect", "grid-mirror")


def _reflect_filter(x: Any, order: int, axes: Sequence[int], output: Any = F64) -> np.ndarray:
    """The exact reflect-initialised prefilter of ``x`` along ``axes``, from SciPy pieces.

    The half-sample-symmetric extension of a line of length ``n`` is periodic with period
    ``2 n``, so its coefficients are the first ``n`` of SciPy's ``grid-wrap`` (periodic,
    exactly initialised) prefilter of ``[x, x[::-1]]``. Every pass is stored in ``output``'s
    dtype, as :func:`scipy.ndimage.spline_filter` does.
    """
    import scipy.ndimage as ndi

    cur = np.asarray(x)
    for ax in axes:
        n = cur.shape[ax]
        doubled = np.concatenate([cur, np.flip(cur, ax)], axis=ax)
        cur = ndi.spline_filter1d(doubled, order, ax, output=output, mode="grid-wrap")
        cur = np.take(cur, np.arange(n), axis=ax)
    return cur


@functools.lru_cache(maxsize=1)
def _scipy_reflect_bug() -> bool:
    """Whether the installed SciPy's reflect prefilter has scipy/scipy#24615 -- measured on
    a short line, not read from the version, so a patched release counts as fixed."""
    import scipy.ndimage as ndi

    x = np.array([0.0, 1.0, 0.25, 0.5, 0.0])
    diff = np.abs(ndi.spline_filter1d(x, 5, mode="reflect") - _reflect_filter(x, 5, (0,)))
    return bool(diff.max() > 1e-12)


def _deliver(result: np.ndarray, output: Any) -> np.ndarray:
    if isinstance(output, np.ndarray):
        output[...] = result
        return output
    return result


def _ref_spline_filter1d(input: Any, order: int = 3, axis: int = -1, output: Any = F64,
                         mode: str = "mirror") -> np.ndarray:
    """Reference for :func:`spline_filter1d`: SciPy's, exact in reflect-initialised modes."""
    import scipy.ndimage as ndi

    x = np.asarray(input)
    if order <= 1 or mode not in _REFLECT_INIT or not _scipy_reflect_bug():
        return ndi.spline_filter1d(x, order, axis, output=output, mode=mode)
    dt = output.dtype if isinstance(output, np.ndarray) else output
    return _deliver(_reflect_filter(x, order, (axis % x.ndim,), dt), output)


def _ref_spline_filter(input: Any, order: int = 3, output: Any = F64,
                       mode: str = "mirror") -> np.ndarray:
    """Reference for :func:`spline_filter`: SciPy's, exact in reflect-initialised modes."""
    import scipy.ndimage as ndi

    x = np.asarray(input)
    if order <= 1 or mode not in _REFLECT_INIT or not _scipy_reflect_bug():
        return ndi.spline_filter(x, order, output=output, mode=mode)
    dt = output.dtype if isinstance(output, np.ndarray) else output
    return _deliver(_reflect_filter(x, order, range(x.ndim), dt), output)


def _exact_reflect(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A SciPy resampling function (same signature) whose reflect-mode prefilter
    (``order >= 2``, ``prefilter=True``) is the exact one: SciPy's own path with
    :func:`_reflect_filter` for its ``spline_filter``. ``rotate`` of a 3-D array filters
    only the rotated plane's axes (SciPy rotates plane by plane); ``zoom`` by 1 keeps
    SciPy's early return of a copy."""
    import inspect

    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def reference(*args: Any, **kwargs: Any) -> Any:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        p = bound.arguments
        if (not p["prefilter"] or p["order"] < 2 or p["mode"] not in _REFLECT_SAMPLING
                or not _scipy_reflect_bug()
                or ("zoom" in p and all(z == 1 for z in np.atleast_1d(p["zoom"])))):
            return fn(*args, **kwargs)
        x = np.asarray(p["input"])
        axes: Sequence[int] = range(x.ndim)
        if "axes" in p and x.ndim > 2:
            axes = sorted(a % x.ndim for a in p["axes"])
        p["input"] = _reflect_filter(x, p["order"], axes)
        p["prefilter"] = False
        if p["output"] is None:  # SciPy's default: the input's dtype, not the coefficients'
            p["output"] = x.dtype
        return fn(**p)
    return reference


def _reference(name: str) -> Callable[..., Any]:
    """The parity reference for the public function ``name`` (registry and tests)."""
    import scipy.ndimage as ndi

    if name == "spline_filter1d":
        return _ref_spline_filter1d
    if name == "spline_filter":
        return _ref_spline_filter
    if name == "zoom":
        return _zoom_parts(_exact_reflect(ndi.zoom))
    return _exact_reflect(getattr(ndi, name))


def _zoom_parts(ref: Callable[..., Any]) -> Callable[..., Any]:
    """SciPy <= 1.17.1's ``zoom`` drops ``grid_mode`` for complex input (its complex branch
    passes only order, mode and prefilter to the zooms of the parts), contradicting its own
    docs ("zooms the real and imaginary components independently"): the reference zooms the
    parts itself, as medkern does."""
    def zoom_ref(x, *args, cval=0.0, **kw):
        x = np.asarray(x)
        if x.dtype.kind != "c" or not kw.get("grid_mode"):
            return ref(x, *args, cval=cval, **kw)
        re = ref(x.real, *args, cval=np.real(cval), **kw)
        im = ref(x.imag, *args, cval=np.imag(cval), **kw)
        return (re + 1j * im).astype(np.promote_types(x.dtype, np.complex64))
    return zoom_ref


# --------------------------------------------------------------------------- registry
def _register() -> None:
    from ..registry import COMPLEX_DTYPES, Algorithm, register

    # complex: the real and imaginary parts one after the other, as SciPy
    dtypes = ("float32", "float64", "uint8", "int16") + COMPLEX_DTYPES
    rot2 = np.array([[0.9, -0.3], [0.35, 1.1]])
    rot3 = np.array([[0.95, 0.1, -0.2], [-0.15, 1.05, 0.1], [0.2, -0.1, 0.9]])
    mat = {"_2d": rot2, "_3d": rot3}

    def coordinate_inputs(shape, seed, case):
        rng = np.random.default_rng(seed)
        out = shape if case.get("_full") else ((7, 5) if len(shape) == 2 else (4, 5, 3))
        lo, hi = case.get("_range", (-3.0, 3.0))
        c = np.stack([rng.uniform(lo, n - 1 + hi, size=out) for n in shape])
        return {"coordinates": c}

    scaled = ks.scaled_index  # the ti.func twin of scaled_py (Taichi stays in kernels/)

    def scaled_py(o):
        return tuple(v * 0.9 + 0.3 for v in o)

    geometric_ref = _reference("geometric_transform")

    def entry(name, bench, cases, func=None, reference=None, reference_name=None, **extra):
        register(Algorithm(
            name=name, area="interpolation", func=func or globals()[name],
            reference=reference or _reference(name),
            reference_name=reference_name or f"scipy.ndimage.{name}",
            bench_kwargs=bench, cases=tuple(cases), dtypes=dtypes, **extra))

    # default cases: a few per function (the order x mode x dtype product runs under
    # `slow` in tests/test_interpolation.py)
    # the prefilters' output is float64 whatever the input: float64's tolerance
    f64_out = {"uint8": 1e-10, "int16": 1e-10, "float32": 1e-10}
    entry("spline_filter1d", {"order": 3},
          ({"order": 3}, {"order": 5, "axis": 0, "mode": "reflect"}), tolerance=f64_out)
    entry("spline_filter", {"order": 3},
          ({"order": 2, "mode": "grid-wrap"}, {"order": 3}), tolerance=f64_out)
    entry("map_coordinates", {"order": 1, "_range": (0.0, 0.0), "_full": True},
          ({"order": 1, "cval": 2.0}, {"order": 3, "mode": "nearest"}),
          inputs=coordinate_inputs, grid="none")
    def displacement_inputs(shape, seed, case):
        rng = np.random.default_rng(seed)
        amp = case.get("_amplitude", 2.0)
        return {"displacement": rng.uniform(-amp, amp, size=(len(shape), *shape))}

    map_ref = _reference("map_coordinates")

    def warp_reference(x, displacement, **kw):
        return map_ref(x, np.indices(x.shape) + displacement, **kw)

    entry("warp", {"order": 1}, ({"order": 1}, {"order": 3, "mode": "nearest"},
                                 {"order": 0, "mode": "grid-wrap", "_amplitude": 6.0}),
          reference=warp_reference, inputs=displacement_inputs,
          reference_name="scipy.ndimage.map_coordinates(x, indices + displacement)")
    entry("affine_transform", {"matrix": mat, "order": 1},
          ({"matrix": mat, "offset": 1.5, "order": 1, "mode": "wrap"},
           {"matrix": {"_2d": np.diag([0.8, 1.3]), "_3d": np.diag([1.2, 0.7, 1.1])},
            "offset": -0.5, "order": 0, "mode": "mirror"},
           {"matrix": mat, "offset": -2.0, "output_shape": {"_2d": (17, 26), "_3d": (8, 7, 12)},
            "order": 3, "mode": "grid-constant", "cval": 5.0}), grid="resampled")
    # medkern's mapping is a ti.func (scaled), SciPy's a Python callable (scaled_py)
    entry("geometric_transform", {"mapping": scaled, "order": 1},
          ({"mapping": scaled, "order": 2, "mode": "reflect"},),
          reference=lambda x, mapping, **kw: geometric_ref(x, scaled_py, **kw),
          grid="none")
    entry("shift", {"shift": 2.5, "order": 1},
          ({"shift": 1.5, "order": 1, "mode": "nearest"},
           {"shift": {"_2d": (-2.25, 0.5), "_3d": (0.3, -1.7, 2.1)}, "order": 4,
            "mode": "grid-wrap"}), grid="resampled")
    entry("zoom", {"zoom": 1.5, "order": 1},
          ({"zoom": 1.5, "order": 3},
           {"zoom": 0.7, "grid_mode": True, "order": 1, "mode": "grid-constant", "cval": 1.0}),
          grid="resampled")
    entry("rotate", {"angle": 30.0, "order": 1},
          ({"angle": 25.0, "order": 1},
           {"angle": 40.0, "reshape": False, "order": 3, "mode": "reflect",
            "axes": {"_2d": (1, 0), "_3d": (0, 2)}}), grid="resampled")


_register()
