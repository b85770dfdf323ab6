"""Complex input and complex weights, as SciPy computes them: from the real parts.

Used by the linear filters and by the interpolation functions (one rule for the complex
result, :func:`complex_output`).

Every linear filter of a complex image is the same filter of its real and
imaginary parts; a complex weights array is four real correlations, or two for a
real image. SciPy's ``scipy.ndimage`` does exactly this (``correlate1d``,
``correlate``, ``convolve`` and their 1-D forms, ``gaussian_filter(1d)``,
``uniform_filter(1d)``, and through them ``sobel``, ``prewitt``, ``laplace``,
``gaussian_laplace``, ``gaussian_gradient_magnitude``), so medkern runs its real
kernels on the parts and combines them in the same order, with SciPy's rules for
the complex result (``output=``) and for ``cval``:

* the result is complex: ``output=None`` gives ``np.promote_types(input.dtype,
  complex64)``; a real dtype *object* is promoted with a warning by the functions that
  hand ``output`` straight to a correlation, refused by the others (as SciPy, whose
  later correlation then gets a real array); a real dtype *string* or real array is
  refused with :class:`~medkern.checks.ArgumentError` (a ``RuntimeError``, as SciPy's);
* ``cval`` may be complex for complex input (its parts go with the image's parts)
  and must be real for real input with complex weights;
* correlations conjugate complex weights (as ``np.correlate``), convolutions do not.

Complex arrays are numpy arrays: a :class:`~medkern.DeviceArray` is real, so complex
filtering takes the host path (the parts are uploaded like any real input).
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from .. import checks
from ..arrays import DeviceArray


def is_complex(value: Any) -> bool:
    """Whether ``value`` (an image or weights: numpy array, sequence or scalar) holds complex
    numbers. Other arrays (DeviceArray, Volume, torch, CuPy) are not looked into: the
    real path refuses a complex one with its dtype message."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "c"
    if isinstance(value, (list, tuple, complex, np.generic)):
        return bool(np.iscomplexobj(value))
    return False


def _host(input: Any, name: str = "input") -> np.ndarray:
    from ..volume import Volume
    if isinstance(input, (DeviceArray, Volume)) or (
            not isinstance(input, (np.ndarray, list, tuple)) and hasattr(input, "__dlpack__")):
        raise TypeError(f"{name}: complex filtering takes numpy arrays (a DeviceArray, Volume or "
                        f"another library's array is real here); got {type(input).__name__} with "
                        "complex weights or values")
    return np.asarray(input)


def complex_output(output: Any, dtype: np.dtype, *, promote: bool = True
                   ) -> tuple[np.dtype, np.ndarray | None]:
    """The complex result's dtype and target array (or ``None``) for an input of ``dtype``:
    SciPy's ``_get_output(..., complex_output=True)`` (module docstring); ``promote=False``
    refuses a real dtype object too. The caller checks a target's shape."""
    if output is None:
        return np.promote_types(dtype, np.complex64), None
    if isinstance(output, np.ndarray):
        if output.dtype.kind != "c":
            raise checks.ArgumentError(f"output has dtype {output.dtype}: a complex result needs "
                                       "an array of complex dtype (output must have complex dtype)")
        if not output.flags.writeable:
            raise ValueError("output is read-only")
        return output.dtype, output
    if isinstance(output, str) or not isinstance(output, (type, np.dtype)):
        try:
            dt = np.dtype(output)
        except TypeError:
            raise TypeError(f"output must be None, a dtype or an array, "
                            f"got {type(output).__name__}") from None
        promote = False  # SciPy refuses a real dtype given by name
    else:
        dt = np.dtype(output)
    if dt.kind != "c":
        if not promote or dt.kind not in "biuf":
            raise checks.ArgumentError(f"output dtype {dt}: the result is complex (output must "
                                       "have complex dtype)")
        warnings.warn("promoting specified output dtype to complex", stacklevel=4)
        dt = np.promote_types(dt, np.complex64)
    return dt, None


def output_array(output: Any, input: np.ndarray, *, promote: bool) -> np.ndarray:
    """The complex array a filter of ``input`` (same shape) writes."""
    dt, target = complex_output(output, input.dtype, promote=promote)
    if target is None:
        return np.zeros(input.shape, dt)
    if target.shape != input.shape:
        raise checks.ArgumentError(f"output has shape {target.shape}, expected {input.shape} "
                                   "(output shape not correct)")
    return target


def parts_of(cval: Any) -> tuple[float, float]:
    if isinstance(cval, np.ndarray) and cval.ndim == 0:
        cval = cval[()]
    if not isinstance(cval, (int, float, complex, np.number)) or isinstance(cval, (bool, np.bool_)):
        raise TypeError(f"cval must be a number, got {type(cval).__name__}")
    return float(np.real(cval)), float(np.imag(cval))


def by_parts(func: Callable[..., Any], input: Any, output: Any, cval: Any, *, promote: bool,
             **kwargs: Any) -> np.ndarray:
    """``func`` (a real filter without weights) on the real and imaginary parts."""
    x = _host(input)
    out = output_array(output, x, promote=promote)
    part = out.real.dtype
    re_cval, im_cval = parts_of(cval)
    out.real[...] = func(x.real, output=part, cval=re_cval, **kwargs)
    out.imag[...] = func(x.imag, output=part, cval=im_cval, **kwargs)
    return out


def weighted(func: Callable[..., Any], input: Any, weights: Any, output: Any, cval: Any, *,
             conjugate: bool, **kwargs: Any) -> np.ndarray:
    """``func(input, weights, ...)`` (a real correlation) for complex input and/or weights,
    in SciPy's order: ``re = f(re, w.re) - f(im, w.im)``, ``im = f(re, w.im) + f(im, w.re)``;
    the subtracted and added terms have the input part's dtype (SciPy's ``output=None``)."""
    x = _host(input)
    w = np.asarray(weights)
    if conjugate and w.dtype.kind == "c":
        w = w.conj()
    out = output_array(output, x, promote=True)
    part = out.real.dtype
    cx, cw = x.dtype.kind == "c", w.dtype.kind == "c"
    if cx:
        re_cval, im_cval = parts_of(cval)
    else:
        if np.iscomplexobj(cval):
            raise ValueError("cval: a complex cval needs complex input (the input is real); "
                             "SciPy refuses it too")
        re_cval = im_cval = cval
    if cx and cw:
        out.real[...] = func(x.real, w.real, output=part, cval=re_cval, **kwargs)
        out.real -= func(x.imag, w.imag, output=None, cval=im_cval, **kwargs)
        out.imag[...] = func(x.real, w.imag, output=part, cval=re_cval, **kwargs)
        out.imag += func(x.imag, w.real, output=None, cval=im_cval, **kwargs)
    elif cx:
        out.real[...] = func(x.real, w, output=part, cval=re_cval, **kwargs)
        out.imag[...] = func(x.imag, w, output=part, cval=im_cval, **kwargs)
    else:
        out.real[...] = func(x, w.real, output=part, cval=re_cval, **kwargs)
        out.imag[...] = func(x, w.imag, output=part, cval=im_cval, **kwargs)
    return out


def gradient_magnitude(derivative: Callable[..., Any], input: Any, output: Any, axes: Any,
                       mode: Any) -> np.ndarray:
    """SciPy's ``generic_gradient_magnitude`` for complex input: complex derivatives, squared
    (complex products), summed and square-rooted (principal root) in the output dtype.
    ``derivative(x, axis, mode, out_dtype)`` gives one complex derivative."""
    x = _host(input)
    out = output_array(output, x, promote=False)
    ax = checks.axes(axes, x.ndim)
    modes = checks.modes(mode, len(ax))
    for k, a in enumerate(ax):
        d = derivative(x, a, modes[k], out.dtype)
        np.multiply(d, d, out=d)
        if k == 0:
            out[...] = d
        else:
            out += d
    if ax:
        np.sqrt(out, out=out)
    else:
        out[...] = x
    return out
