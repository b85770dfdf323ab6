"""Grey-level morphology with the names, parameters and results of ``scipy.ndimage``.

A flat structuring element (``size`` or ``footprint``) makes grey erosion the minimum
filter and grey dilation the maximum filter of the reflected footprint with negated
origins (less one along even-sized axes): SciPy's own reduction, run by
:func:`medkern.filters.minimum_filter` / :func:`~medkern.filters.maximum_filter`
(separable passes for boxes). A non-flat ``structure`` runs
:func:`medkern.kernels.morph.grey_structure`: the minimum of ``value - s`` (erosion) or
the maximum of ``value + s`` (dilation) with the arithmetic of SciPy's C loop (the
first tap in float64, the others in the input type, wrapping around for integers; see
the kernel), so results are SciPy's also where integer values wrap. Openings, closings,
gradients, Laplacians and top-hats compose these as SciPy does, with SciPy's arithmetic
(numpy's for host arrays, element-wise kernels in the result dtype for DeviceArrays).
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import numpy as np
import scipy.ndimage as ndi

from ... import arrays, checks
from ...checks import ArgumentError
from ...kernels import dsl
from ...kernels import filters as kf
from ...kernels import morph as kmorph
from ...registry import Algorithm, register
from ...typing import ArrayInput
from ..job import Job, host_like
from .. import filters as _filters

__all__ = ["grey_erosion", "grey_dilation", "grey_opening", "grey_closing",
           "morphological_gradient", "morphological_laplace", "white_tophat",
           "black_tophat"]


def _input(input: Any) -> Any:
    if input is None:
        raise TypeError("input must be a numpy array or medkern.DeviceArray, got NoneType")
    x = host_like(input)
    if isinstance(x, np.ndarray) and x.dtype.kind == "c":
        raise TypeError("input has complex dtype: grey morphology needs real values "
                        "(SciPy: Complex type not supported)")
    return x


def _output_dtype(output: Any) -> None:
    """A composed operation's ``output=``, checked before anything runs: SciPy writes an
    array and ignores anything else; medkern refuses what it cannot honour (complex, bool,
    not a dtype) instead of ignoring it silently."""
    if output is None:
        return
    if isinstance(output, (np.ndarray, arrays.DeviceArray)):
        dt = np.dtype(output.dtype)
    else:
        try:
            dt = np.dtype(output)
        except TypeError:
            raise TypeError(f"output must be an array or a dtype, got {output!r}") from None
    if dt.kind not in "iuf" or dt.itemsize > 8:
        raise TypeError(f"output dtype {dt} is not supported (real numeric dtypes only)")


def _unbool(x: Any) -> tuple[Any, bool]:
    """bool numpy input as uint8 (min/max of 0/1 are those of False/True); the flag says
    to give the result back as bool, as SciPy does."""
    if isinstance(x, np.ndarray) and x.dtype == np.bool_:
        return x.view(np.uint8), True
    return x, False


def _rebool(result: Any, was_bool: bool, output: Any) -> Any:
    if was_bool and output is None and isinstance(result, np.ndarray):
        return result.view(np.bool_)
    return result


def _one_volume(func: Callable) -> Callable:
    """A composed operation (an opening, a top-hat...) on a Volume runs on its array and
    gives one derived Volume back: derived from the input, not from an intermediate."""
    @functools.wraps(func)
    def wrapper(input: Any, *args: Any, **kwargs: Any) -> Any:
        from ...volume import Volume
        if not isinstance(input, Volume):
            return func(input, *args, **kwargs)
        res = func(input.array, *args, **kwargs)
        output = args[3] if len(args) > 3 else kwargs.get("output")
        if output is None and isinstance(res, np.ndarray):
            return input.with_array(res)
        return res
    return wrapper


def _min_or_max(input: Any, size: Any, footprint: Any, structure: Any, output: Any,
                mode: Any, cval: Any, origin: Any, axes: Any, minimum: bool) -> Any:
    """SciPy's ``_min_or_max_filter`` (origins as given: the caller transformed them)."""
    x, was_bool = _unbool(_input(input))
    if structure is None:
        f = _filters.minimum_filter if minimum else _filters.maximum_filter
        res = f(x, size=size, footprint=footprint, output=output, mode=mode, cval=cval,
                origin=origin, axes=axes)
        return _rebool(res, was_bool, output)
    if size is not None and footprint is not None:
        warnings.warn("ignoring size because footprint is set", UserWarning, stacklevel=4)
    st = np.asarray(structure, dtype=np.float64)
    fp = np.ones(st.shape, bool) if footprint is None else np.asarray(footprint, dtype=bool)
    job = Job(x, output, empty=True)
    ax = checks.axes(axes, job.ndim)
    n = len(ax)
    if fp.ndim != n:
        raise ArgumentError(f"footprint must have one dimension per axis ({n}), got "
                            f"ndim={fp.ndim} (SciPy: footprint.ndim ({fp.ndim}) must match "
                            f"len(axes) ({n}))")
    if st.ndim != n:
        raise ArgumentError(f"structure must have one dimension per axis ({n}), got "
                            f"ndim={st.ndim} (SciPy: structure array has incorrect shape)")
    if st.shape != fp.shape:
        raise ValueError(f"structure {st.shape} and footprint {fp.shape} must have the "
                         "same shape")
    if fp.size == 0:
        raise ArgumentError(f"footprint is empty (shape {fp.shape}) (SciPy: footprint.ndim "
                            "must match len(axes))")
    origins = [checks.integer(o, "origin") for o in checks.per_axis(origin, n, "origin")]
    full_o = [0] * job.ndim
    if n < job.ndim:
        for o, a in zip(origins, ax):
            full_o[a] = o
        fp_full = np.expand_dims(fp, tuple(a for a in range(job.ndim) if a not in ax))
        st_full = np.expand_dims(st, tuple(a for a in range(job.ndim) if a not in ax))
    else:
        full_o, fp_full, st_full = list(origins), fp, st
    for o, k in zip(full_o, fp_full.shape):
        if not 0 <= k // 2 + o < k:
            raise ValueError(f"origin={o} is invalid for a footprint of size {k}: it must "
                             f"satisfy {-(k // 2)} <= origin <= {(k - 1) // 2} (SciPy: "
                             "invalid origin)")
    if not isinstance(mode, str) and isinstance(mode, (list, tuple, np.ndarray)):
        raise ArgumentError("mode: one mode only with a structure (SciPy: A sequence of "
                            "modes is not supported for non-separable footprints)")
    m = checks.mode(mode)
    cv = checks.cval(cval)
    out = job.buffer()
    if not fp_full.any():
        raise ValueError("footprint has no True element")
    centre = np.array([k // 2 + o for k, o in zip(fp_full.shape, full_o)])
    rel = np.argwhere(fp_full) - centre
    offs = np.zeros((rel.shape[0], 3), np.int32)
    offs[:, 3 - job.ndim:] = rel
    w = st_full[fp_full].astype(np.float64)
    taps = arrays.upload_vector(offs.reshape(-1))
    wb = arrays.upload_vector(w)
    lo, hi = offs.min(axis=0), offs.max(axis=0)
    # bool input runs as its uint8 view: SciPy's C loop reads npy_bool as unsigned char
    # and stores its result's byte (255 for False - 1) in the bool array as well
    kern = kmorph.grey_structure(minimum, m, job.in_dtype, job.out_dtype)
    job.launch(kern, job.src, out, cv, taps, wb, int(lo[0]), int(hi[0]), int(lo[1]),
               int(hi[1]), int(lo[2]), int(hi[2]))
    return _rebool(job.finish(out), was_bool, output)


def _need_one(size: Any, footprint: Any, structure: Any) -> None:
    if size is None and footprint is None and structure is None:
        raise ValueError("size, footprint, or structure must be specified")


def _warn_size(size: Any, footprint: Any) -> None:
    if size is not None and footprint is not None:
        warnings.warn("ignoring size because footprint is set", UserWarning, stacklevel=3)


_PARAMS = """
    Parameters
    ----------
    input : array_like, DeviceArray or Volume
        1-3 D, any real dtype.
    size : int or sequence of int, optional
        A flat box (ignored, with a warning, when ``footprint`` is given).
    footprint : array_like of bool, optional
        A flat structuring element's shape.
    structure : array_like, optional
        A non-flat structuring element: values subtracted (erosion) or added (dilation)
        over the footprint (default: all of ``structure``'s elements).
    output : array or dtype, optional
    mode : str, optional
        Boundary mode (default ``'reflect'``).
    cval : float, optional
        Outside value for ``mode='constant'``.
    origin : int or sequence of int, optional
    axes : sequence of int, optional
        The axes the element spans (default all).
"""


def grey_erosion(input: ArrayInput, size: Any = None, footprint: Any = None,
                 structure: Any = None, output: Any = None, mode: str = "reflect",
                 cval: float = 0.0, origin: Any = 0, *, axes: Any = None) -> Any:
    _need_one(size, footprint, structure)
    return _min_or_max(input, size, footprint, structure, output, mode, cval, origin, axes,
                       True)


grey_erosion.__doc__ = """Grey-level erosion: the minimum over the structuring element.
""" + _PARAMS + """
    Returns
    -------
    ndarray, DeviceArray or Volume

    Notes
    -----
    Reference: ``scipy.ndimage.grey_erosion``; results are identical (NaN orders after
    every number, as in medkern's minimum filter).

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.arange(25, dtype=np.uint8).reshape(5, 5)
    >>> mm.grey_erosion(a, size=(3, 3))[1:4, 1:4]
    array([[ 0,  1,  2],
           [ 5,  6,  7],
           [10, 11, 12]], dtype=uint8)
    """


def grey_dilation(input: ArrayInput, size: Any = None, footprint: Any = None,
                  structure: Any = None, output: Any = None, mode: str = "reflect",
                  cval: float = 0.0, origin: Any = 0, *, axes: Any = None) -> Any:
    _need_one(size, footprint, structure)
    if structure is not None:
        structure = np.asarray(structure)
        structure = structure[(slice(None, None, -1),) * structure.ndim]
    if footprint is not None:
        footprint = np.asarray(footprint)
        footprint = footprint[(slice(None, None, -1),) * footprint.ndim]
    x = _input(input)
    ndim = len(x.shape)
    ax = checks.axes(axes, ndim)
    origins = [checks.integer(o, "origin") for o in checks.per_axis(origin, len(ax), "origin")]
    for i in range(len(origins)):
        origins[i] = -origins[i]
        if footprint is not None:
            sz = footprint.shape[i] if i < footprint.ndim else 1
        elif structure is not None:
            sz = structure.shape[i] if i < structure.ndim else 1
        elif np.isscalar(size):
            sz = size
        else:
            sz = checks.per_axis(size, len(ax), "size")[i]
        if not checks.integer(sz, "size") & 1:
            origins[i] -= 1
    return _min_or_max(x, size, footprint, structure, output, mode, cval, origins, axes,
                       False)


grey_dilation.__doc__ = """Grey-level dilation: the maximum over the reflected structuring
    element (SciPy's definition: the element is reflected and ``origin`` negated, less
    one along even-sized axes).
""" + _PARAMS + """
    Returns
    -------
    ndarray, DeviceArray or Volume

    Notes
    -----
    Reference: ``scipy.ndimage.grey_dilation``; results are identical.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.zeros((5, 5), np.uint8); a[2, 2] = 7
    >>> mm.grey_dilation(a, footprint=np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]]))
    array([[0, 0, 0, 0, 0],
           [0, 0, 7, 0, 0],
           [0, 7, 7, 7, 0],
           [0, 0, 7, 0, 0],
           [0, 0, 0, 0, 0]], dtype=uint8)
    """


@_one_volume
def grey_opening(input: ArrayInput, size: Any = None, footprint: Any = None,
                 structure: Any = None, output: Any = None, mode: str = "reflect",
                 cval: float = 0.0, origin: Any = 0, *, axes: Any = None) -> Any:
    _warn_size(size, footprint)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tmp = grey_erosion(input, size, footprint, structure, None, mode, cval, origin,
                           axes=axes)
        return grey_dilation(tmp, size, footprint, structure, output, mode, cval, origin,
                             axes=axes)


grey_opening.__doc__ = """Grey-level opening: :func:`grey_erosion` then
    :func:`grey_dilation`.
""" + _PARAMS + """
    Returns
    -------
    ndarray, DeviceArray or Volume

    Notes
    -----
    Reference: ``scipy.ndimage.grey_opening``; results are identical.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.zeros((5, 5), np.uint8); a[2, 2] = 9; a[1:4, 1:4] += 1
    >>> int(mm.grey_opening(a, size=(3, 3))[2, 2])
    1
    """


@_one_volume
def grey_closing(input: ArrayInput, size: Any = None, footprint: Any = None,
                 structure: Any = None, output: Any = None, mode: str = "reflect",
                 cval: float = 0.0, origin: Any = 0, *, axes: Any = None) -> Any:
    _warn_size(size, footprint)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tmp = grey_dilation(input, size, footprint, structure, None, mode, cval, origin,
                            axes=axes)
        return grey_erosion(tmp, size, footprint, structure, output, mode, cval, origin,
                            axes=axes)


grey_closing.__doc__ = """Grey-level closing: :func:`grey_dilation` then
    :func:`grey_erosion`.
""" + _PARAMS + """
    Returns
    -------
    ndarray, DeviceArray or Volume

    Notes
    -----
    Reference: ``scipy.ndimage.grey_closing``; results are identical.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.full((5, 5), 9, np.uint8); a[2, 2] = 0
    >>> int(mm.grey_closing(a, size=(3, 3))[2, 2])
    9
    """


# --------------------------------------------------------------------------- arithmetic
def _parts(x: Any) -> tuple[Any, Any]:
    from ...volume import Volume
    if isinstance(x, Volume):
        return x.array, x
    return x, None


def _binary_op(fn: Callable, ufunc: Any, a: Any, b: Any, out: Any = None) -> Any:
    """``ufunc(a, b, out=out)`` with numpy's result dtype: numpy itself for host arrays,
    an element-wise kernel for DeviceArrays (computed exactly: float64 for floats, 64-bit
    integers for integers, stored with C casts, i.e. wrapping as numpy's integers do)."""
    av, vol = _parts(a)
    bv, vol_b = _parts(b)
    vol = vol or vol_b
    if isinstance(out, np.ndarray) or not (isinstance(av, arrays.DeviceArray)
                                            or isinstance(bv, arrays.DeviceArray)):
        av = arrays.asnumpy(av) if isinstance(av, arrays.DeviceArray) else av
        bv = arrays.asnumpy(bv) if isinstance(bv, arrays.DeviceArray) else bv
        res = ufunc(av, bv) if out is None else ufunc(av, bv, out=out)
    else:
        if not (isinstance(av, arrays.DeviceArray) and isinstance(bv, arrays.DeviceArray)):
            raise TypeError("both operands must be DeviceArrays")
        dt = np.dtype(out.dtype) if out is not None else np.result_type(av.dtype, bv.dtype)
        ct: np.dtype
        if dt.kind == "f":
            ct = np.dtype(np.float64)
        elif dt.kind == "u" and dt.itemsize == 8:
            ct = np.dtype(np.uint64)
        else:
            ct = np.dtype(np.int64)
        target = out if out is not None else arrays.DeviceArray(
            arrays.empty_buffer(arrays.shape3(tuple(av.shape)), dt), tuple(av.shape), dt)
        Job.launch(dsl.pointwise(fn, (np.dtype(av.dtype), np.dtype(bv.dtype)), dt, ct),
                   av._buf, bv._buf, target._buf)
        res = target
    if vol is not None and out is None:
        return vol.with_array(res)
    return res


def _sub(a: Any, b: Any, out: Any = None) -> Any:
    return _binary_op(kf.subtract, np.subtract, a, b, out)


def _add(a: Any, b: Any, out: Any = None) -> Any:
    return _binary_op(kf.add, np.add, a, b, out)


@_one_volume
def morphological_gradient(input: ArrayInput, size: Any = None, footprint: Any = None,
                           structure: Any = None, output: Any = None, mode: str = "reflect",
                           cval: float = 0.0, origin: Any = 0, *, axes: Any = None) -> Any:
    _output_dtype(output)
    tmp = grey_dilation(input, size, footprint, structure, None, mode, cval, origin,
                        axes=axes)
    if isinstance(output, (np.ndarray, arrays.DeviceArray)):
        grey_erosion(input, size, footprint, structure, output, mode, cval, origin, axes=axes)
        return _sub(tmp, output, output)
    return _sub(tmp, grey_erosion(input, size, footprint, structure, None, mode, cval, origin,
                                  axes=axes))


morphological_gradient.__doc__ = """Morphological gradient: dilation minus erosion (in the
    input's dtype: integers wrap as in numpy, as SciPy's).
""" + _PARAMS + """
    Returns
    -------
    ndarray, DeviceArray or Volume

    Notes
    -----
    Reference: ``scipy.ndimage.morphological_gradient``; results are identical.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.zeros((5, 5), np.int16); a[1:4, 1:4] = 5
    >>> mm.morphological_gradient(a, size=(3, 3))[2]
    array([5, 5, 0, 5, 5], dtype=int16)
    """


@_one_volume
def morphological_laplace(input: ArrayInput, size: Any = None, footprint: Any = None,
                          structure: Any = None, output: Any = None, mode: str = "reflect",
                          cval: float = 0.0, origin: Any = 0, *, axes: Any = None) -> Any:
    _output_dtype(output)
    x = _input(input)
    tmp1 = grey_dilation(x, size, footprint, structure, None, mode, cval, origin, axes=axes)
    if isinstance(output, (np.ndarray, arrays.DeviceArray)):
        grey_erosion(x, size, footprint, structure, output, mode, cval, origin, axes=axes)
        _add(tmp1, output, output)
        _sub(output, x, output)
        return _sub(output, x, output)
    tmp2 = grey_erosion(x, size, footprint, structure, None, mode, cval, origin, axes=axes)
    t2, vol = _parts(tmp2)
    t2 = _add(_parts(tmp1)[0], t2, t2)
    t2 = _sub(t2, _parts(x)[0], t2)
    t2 = _sub(t2, _parts(x)[0], t2)
    return vol.with_array(t2) if vol is not None else t2


morphological_laplace.__doc__ = """Morphological Laplacian: dilation + erosion - 2 input,
    each step in the result's dtype, as SciPy.
""" + _PARAMS + """
    Returns
    -------
    ndarray, DeviceArray or Volume

    Notes
    -----
    Reference: ``scipy.ndimage.morphological_laplace``; results are identical.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.zeros((5, 5), np.int16); a[2, 2] = 4
    >>> int(mm.morphological_laplace(a, size=(3, 3))[2, 2])
    -4
    """


def _tophat(input: Any, size: Any, footprint: Any, structure: Any, output: Any, mode: Any,
            cval: Any, origin: Any, axes: Any, white: bool) -> Any:
    x = _input(input)
    _warn_size(size, footprint)
    first, second = (grey_erosion, grey_dilation) if white else (grey_dilation, grey_erosion)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tmp = first(x, size, footprint, structure, None, mode, cval, origin, axes=axes)
        tmp = second(tmp, size, footprint, structure, output, mode, cval, origin, axes=axes)
    if tmp is None:
        tmp = output
    t, vol = _parts(tmp)
    xv = _parts(x)[0]
    if getattr(xv, "dtype", None) == np.bool_ and getattr(t, "dtype", None) == np.bool_:
        np.bitwise_xor(xv, t, out=t)
    elif white:
        t = _sub(xv, t, t)
    else:
        t = _sub(t, xv, t)
    return vol.with_array(t) if vol is not None and output is None else t


@_one_volume
def white_tophat(input: ArrayInput, size: Any = None, footprint: Any = None,
                 structure: Any = None, output: Any = None, mode: str = "reflect",
                 cval: float = 0.0, origin: Any = 0, *, axes: Any = None) -> Any:
    return _tophat(input, size, footprint, structure, output, mode, cval, origin, axes, True)


white_tophat.__doc__ = """White top-hat: the input minus its grey opening.
""" + _PARAMS + """
    Returns
    -------
    ndarray, DeviceArray or Volume

    Notes
    -----
    Reference: ``scipy.ndimage.white_tophat``; results are identical.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.ones((5, 5), np.uint8); a[2, 2] = 9
    >>> int(mm.white_tophat(a, size=(3, 3))[2, 2])
    8
    """


@_one_volume
def black_tophat(input: ArrayInput, size: Any = None, footprint: Any = None,
                 structure: Any = None, output: Any = None, mode: str = "reflect",
                 cval: float = 0.0, origin: Any = 0, *, axes: Any = None) -> Any:
    return _tophat(input, size, footprint, structure, output, mode, cval, origin, axes, False)


black_tophat.__doc__ = """Black top-hat: the grey closing minus the input.
""" + _PARAMS + """
    Returns
    -------
    ndarray, DeviceArray or Volume

    Notes
    -----
    Reference: ``scipy.ndimage.black_tophat``; results are identical.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.full((5, 5), 9, np.uint8); a[2, 2] = 1
    >>> int(mm.black_tophat(a, size=(3, 3))[2, 2])
    8
    """


# --------------------------------------------------------------------------- registry
_CROSS = {"_2d": np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool),
          "_3d": np.array([[[0, 0, 0], [0, 1, 0], [0, 0, 0]], [[0, 1, 0], [1, 1, 1], [0, 1, 0]],
                           [[0, 0, 0], [0, 1, 0], [0, 0, 0]]], bool)}
for _name, _func, _ref, _cases in (
        ("grey_erosion", grey_erosion, ndi.grey_erosion,
         ({"size": 3}, {"footprint": _CROSS, "mode": "constant", "cval": 5.0})),
        ("grey_opening", grey_opening, ndi.grey_opening, ({"size": 3}, {"footprint": _CROSS})),
        ("white_tophat", white_tophat, ndi.white_tophat, ({"size": 3},))):
    register(Algorithm(
        name=_name, area="morphology", func=_func, reference=_ref,
        reference_name=f"scipy.ndimage.{_name}", bench_kwargs={"size": 3}, cases=_cases,
        dtypes=("uint8", "float32")))
# compositions of the above: one case, one dtype each (CI time)
for _name, _func, _ref in (
        ("grey_dilation", grey_dilation, ndi.grey_dilation),
        ("grey_closing", grey_closing, ndi.grey_closing),
        ("morphological_gradient", morphological_gradient, ndi.morphological_gradient),
        ("morphological_laplace", morphological_laplace, ndi.morphological_laplace),
        ("black_tophat", black_tophat, ndi.black_tophat)):
    register(Algorithm(
        name=_name, area="morphology", func=_func, reference=_ref,
        reference_name=f"scipy.ndimage.{_name}", bench_kwargs={"size": 3},
        cases=({"size": 3},), dtypes=("float32",)))
