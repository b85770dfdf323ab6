"""Argument checks shared by the public functions.

Each check raises ``TypeError`` (wrong kind of object) or ``ValueError``
(right kind, bad value) whose message names the parameter; messages are
built only when a check fails. Where ``scipy.ndimage`` raises ``RuntimeError``
for a bad argument (a sequence of the wrong length, footprint or weights
dimensions, a mode sequence where one mode is taken...), the error is an
:class:`ArgumentError`: a ``ValueError`` that is also a ``RuntimeError``, whose
message ends with SciPy's own wording.
"""
from __future__ import annotations

import math
import numbers
import operator
from typing import Any, Sequence

import numpy as np

from .arrays import SUPPORTED_DTYPES, DeviceArray
from .interop import HALF, dtype_name


class ArgumentError(ValueError, RuntimeError):
    """A bad argument value for which ``scipy.ndimage`` raises ``RuntimeError``.

    medkern's messages name the parameter and say what is wrong, and every bad value
    is a ``ValueError`` in medkern; SciPy's contract for these cases (sequence
    arguments of the wrong length, footprint/weights dimensions, mode sequences where
    one mode is taken, unknown modes, filter sizes below 1, an output of the wrong
    shape, a real ``output`` for a complex result...) is ``RuntimeError``. This class
    is both, so user code written against SciPy that catches ``RuntimeError`` keeps
    working, and so does code catching ``ValueError``. The message also contains
    SciPy's phrase (in parentheses, after "SciPy:"), for code that matches SciPy's text.
    """


def _scipy(phrase: str) -> str:
    """The suffix that carries SciPy's wording of an error into medkern's message."""
    return f" (SciPy: {phrase})"


#: The supported dtypes in native byte order (a set: one hash look-up).
_NATIVE_SUPPORTED = frozenset(SUPPORTED_DTYPES)

#: Boundary modes and their aliases: for filters the ``grid-`` names are the same mode.
MODE_ALIASES = {
    "reflect": "reflect", "grid-mirror": "reflect",
    "mirror": "mirror",
    "nearest": "nearest",
    "wrap": "wrap", "grid-wrap": "wrap",
    "constant": "constant", "grid-constant": "constant",
}


#: Kernels index with 32-bit integers (Taichi's ndarray indices): at most this many
#: elements per array, and per axis so that boundary arithmetic (2 * n) cannot overflow.
MAX_ELEMENTS = 2**31 - 1
MAX_AXIS = 2**30 - 1


def index_range(shape: Sequence[int], name: str = "input") -> None:
    """Refuse shapes whose indices do not fit the kernels' 32-bit arithmetic."""
    size = 1
    for n in shape:
        size *= int(n)
    if size > MAX_ELEMENTS or any(int(n) > MAX_AXIS for n in shape):
        raise ValueError(
            f"{name} has shape {tuple(int(n) for n in shape)} ({size} elements): medkern's kernels "
            f"index with 32-bit integers, so an array may hold at most 2**31 - 1 elements and "
            f"2**30 - 1 along one axis; filter it in pieces (slabs along the first axis, "
            f"overlapping by the filter's radius)")


def _too_many_axes(name: str, ndim: int) -> str:
    # SciPy's filters would filter every axis of a 4-D array, a leading component or
    # batch axis included: refusing is the only answer that is never silently different
    return (f"{name} must have 1 to 3 dimensions, got ndim={ndim}; medkern's filters and "
            "measurements work on 1-3 D images: process a (C, Z, Y, X) component or batch "
            "array one item at a time (DeviceArray.component(c)), or stack 2-D images as "
            "(B, Y, X) and filter with axes=(1, 2)")


def array(x: Any, name: str = "input", *,
          empty: bool = False) -> np.ndarray | DeviceArray:
    """A 1-3 D numpy array (or DeviceArray) of a supported real dtype; non-empty
    unless ``empty`` (the filters, whose result for an empty array is empty)."""
    if isinstance(x, DeviceArray):
        if x.ndim > 3:
            raise ValueError(_too_many_axes(name, x.ndim))
        if x.size == 0 and not empty:
            raise ValueError(f"{name} is empty (shape {x.shape})")
        index_range(x.shape, name)
        return x
    if (type(x) is np.ndarray and x.dtype in _NATIVE_SUPPORTED and 1 <= x.ndim <= 3
            and 0 < x.size <= MAX_AXIS):
        return x  # the common case; no axis can exceed the size, so the indices fit
    if isinstance(x, (list, tuple)) or np.isscalar(x):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        if hasattr(x, "__array__"):
            x = np.asarray(x)
        else:
            raise TypeError(f"{name} must be a numpy array or medkern.DeviceArray, "
                            f"got {type(x).__name__}")
    dt = x.dtype
    if dt.newbyteorder("=") not in SUPPORTED_DTYPES:
        if dt == bool:
            hint = "; convert with .astype(np.uint8) if you mean 0/1 values"
        elif dt.kind == "c":
            hint = "; filter the real and imaginary parts separately"
        elif dt == np.float16:
            hint = "; the filters take float16 (computed in float32), this function does not"
        else:
            hint = ""
        raise TypeError(f"{name} has unsupported dtype {dt}{hint} "
                        f"(supported: {', '.join(d.name for d in SUPPORTED_DTYPES)})")
    if x.ndim == 0:
        raise ValueError(f"{name} must have 1 to 3 dimensions, got a 0-d array")
    if x.ndim > 3:
        raise ValueError(_too_many_axes(name, x.ndim))
    if x.size == 0 and not empty:
        raise ValueError(f"{name} is empty (shape {x.shape})")
    index_range(x.shape, name)
    return x


def axis(value: Any, ndim: int, name: str = "axis") -> int:
    try:
        ax = operator.index(value)
    except TypeError:
        # the second half is Python's (and so SciPy's) wording of this error
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}: "
                        f"'{type(value).__name__}' object cannot be interpreted as an "
                        "integer") from None
    if not -ndim <= ax < ndim:
        raise ValueError(f"{name}={value} is out of range for an array of ndim={ndim}")
    return ax % ndim


def axes(value: Any, ndim: int, name: str = "axes") -> tuple[int, ...]:
    """Normalised, distinct axes (``None``: all axes in order)."""
    if value is None:
        return tuple(range(ndim))
    if isinstance(value, numbers.Integral):
        value = (value,)
    if not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be None, an int or a sequence of ints")
    out = tuple(axis(v, ndim, name) for v in value)
    if len(set(out)) != len(out):
        # SciPy raises ValueError("axes must be unique") here: no RuntimeError to match
        raise ValueError(f"{name}={tuple(value)} names an axis twice: axes must be unique")
    return out


def per_axis(value: Any, n: int, name: str) -> list:
    """A scalar repeated ``n`` times, or a sequence of exactly ``n`` values."""
    if (isinstance(value, str) or not isinstance(value, (Sequence, np.ndarray))
            or (isinstance(value, np.ndarray) and value.ndim == 0)):
        return [value] * n
    seq = list(value)
    if len(seq) != n:
        raise ArgumentError(f"{name} must be a scalar or have one entry per axis ({n}), "
                            f"got {len(seq)} entries"
                            + _scipy("sequence argument must have length equal to input rank"))
    return seq


def _mode_in(table: dict, value: Any, name: str, what: str) -> str:
    if not isinstance(value, str):
        if isinstance(value, (Sequence, np.ndarray)) and np.ndim(value) > 0:
            # per-axis modes go through modes(): here one mode is taken
            raise ArgumentError(f"{name} takes one mode here, got a sequence {value!r}"
                                + _scipy("A sequence of modes is not supported"))
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    try:
        return table[value]
    except KeyError:
        raise ArgumentError(f"{name}={value!r} is not {what}; choose one of "
                            f"{sorted(table)}" + _scipy("boundary mode not supported")) from None


def mode(value: Any, name: str = "mode") -> str:
    return _mode_in(MODE_ALIASES, value, name, "a boundary mode")


#: Interpolation boundary modes (``scipy.ndimage`` spline sampling), which are NOT the
#: filter modes: ``wrap`` / ``grid-wrap`` and ``constant`` / ``grid-constant`` differ
#: there; ``grid-mirror`` is ``reflect``.
INTERP_MODES = {
    "constant": "constant", "grid-constant": "grid-constant", "nearest": "nearest",
    "mirror": "mirror", "reflect": "reflect", "grid-mirror": "reflect",
    "wrap": "wrap", "grid-wrap": "grid-wrap",
}


def interp_mode(value: Any, name: str = "mode") -> str:
    """An interpolation boundary mode, canonical (``grid-mirror`` -> ``reflect``)."""
    return _mode_in(INTERP_MODES, value, name, "an interpolation boundary mode")


def modes(value: Any, n: int, name: str = "mode") -> list[str]:
    return [mode(m, name) for m in per_axis(value, n, name)]


def real(value: Any, name: str, *, finite: bool = True) -> float:
    if type(value) is float or type(value) is int:  # the common case, without ABC checks
        out = float(value)
        if finite and not math.isfinite(out):
            raise ValueError(f"{name} must be finite, got {value}")
        return out
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    out = float(value)
    if finite and not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value}")
    return out


def nonneg_real(value: Any, name: str) -> float:
    out = real(value, name)
    if out < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return out


def integer(value: Any, name: str, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
    if type(value) is int:  # the common case: no conversions to try
        if minimum is not None and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise ValueError(f"{name} must be <= {maximum}, got {value}")
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got bool")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    try:
        out = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}") from None
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {out}")
    if maximum is not None and out > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {out}")
    return out


#: Most taps one filter window may have (a footprint built from ``size``, a Gaussian's
#: 2 * radius + 1 taps): the kernels' tables and scratch rows hold one entry per tap.
MAX_TAPS = 2**24


def window_size(value: Any, name: str = "size") -> int:
    """A filter length: an integer in [1, MAX_TAPS]."""
    n = integer(value, name, maximum=MAX_TAPS)
    if n < 1:
        raise ArgumentError(f"{name} must be >= 1, got {n}" + _scipy("incorrect filter size"))
    return n


def box_taps(sizes: Sequence[int], name: str = "size") -> None:
    """Refuse boxes (products of per-axis sizes) above MAX_TAPS elements."""
    taps = 1
    for n in sizes:
        taps *= int(n)
    if taps > MAX_TAPS:
        raise ValueError(f"{name}={tuple(sizes)} makes a window of {taps} elements; at most "
                         f"{MAX_TAPS} are supported")


def cval(value: Any) -> float:
    return real(value, "cval", finite=False)


def origin(value: int, size: int, name: str = "origin") -> int:
    """SciPy's rule: ``-(size // 2) <= origin <= (size - 1) // 2``."""
    o = integer(value, name)
    if not -(size // 2) <= o <= (size - 1) // 2:
        raise ValueError(f"{name}={o} is invalid for a filter of size {size}: it must satisfy "
                         f"{-(size // 2)} <= origin <= {(size - 1) // 2}")
    return o


def footprint(value: Any, ndim: int, name: str = "footprint") -> np.ndarray:
    fp = np.asarray(value)
    if fp.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a boolean (or 0/1) array, got dtype {fp.dtype}")
    fp = fp.astype(bool)
    if fp.ndim != ndim:
        raise ArgumentError(f"{name} must have the same number of dimensions as the filtered "
                            f"axes ({ndim}), got ndim={fp.ndim}"
                            + _scipy(f"{name}.ndim ({fp.ndim}) must match len(axes) ({ndim})"))
    if fp.size == 0:
        # SciPy drops the zero-length dimensions and then finds too few
        raise ArgumentError(f"{name} is empty (shape {fp.shape})"
                            + _scipy(f"{name}.ndim must match len(axes)"))
    if not fp.any():
        raise ValueError(f"{name} has no True element")
    return fp


def weights_array(value: Any, ndim: int, name: str = "weights") -> np.ndarray:
    w = np.asarray(value)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real array, got dtype {w.dtype}")
    w = w.astype(np.float64)
    if w.ndim != ndim:
        raise ArgumentError(f"{name} must have ndim={ndim} (one dimension per filtered axis), "
                            f"got ndim={w.ndim}"
                            + _scipy(f"{name}.ndim ({w.ndim}) must match len(axes) ({ndim})"))
    if w.size == 0:
        raise ArgumentError(f"{name} is empty (shape {w.shape})"
                            + _scipy("no filter weights given"))
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} must be finite")
    return w


def _supported(dt: np.dtype, what: str) -> np.dtype:
    if dt.newbyteorder("=") not in SUPPORTED_DTYPES:
        raise TypeError(f"{what} is not supported (supported: "
                        f"{', '.join(d.name for d in SUPPORTED_DTYPES)}, and float16)")
    # a native dtype as it is: newbyteorder makes a new (equal) object, and a result's
    # dtype should be numpy's own (`out.dtype is np.dtype('f')`, as SciPy's results)
    return dt if dt.isnative else dt.newbyteorder("=")


def output(value: Any, shape: tuple[int, ...], in_dtype: np.dtype, device: bool,
           half: str | None = None):
    """``(dtype, target, cast)`` for numpy and DeviceArray inputs.

    ``dtype``: what the kernels write; ``target``: the array to write into (or
    ``None``); ``cast``: the half-precision dtype name the (float32) result is
    converted to on delivery (or ``None``). ``half`` names the input's half
    dtype, which is then the default output dtype.
    """
    if value is None:
        if half:
            return np.dtype(np.float32), None, half
        return np.dtype(in_dtype), None, None
    if isinstance(value, (np.ndarray, DeviceArray)):
        if tuple(value.shape) != tuple(shape):
            raise ArgumentError(f"output has shape {tuple(value.shape)}, expected "
                                f"{tuple(shape)}" + _scipy("output shape not correct"))
        if isinstance(value, np.ndarray) and device:
            raise TypeError("output must be a medkern.DeviceArray when input is one")
        if isinstance(value, np.ndarray) and not value.flags.writeable:
            raise ValueError("output is read-only")
        dt = value.dtype
        if isinstance(value, np.ndarray) and dt.kind == "f" and dt.itemsize == 2:
            return np.dtype(np.float32), value, None  # float16: written (cast) at delivery
        return _supported(dt, f"output has dtype {dt}, which"), value, None
    name = dtype_name(value)
    if name is None:
        raise TypeError(f"output must be None, a dtype or an array, got {type(value).__name__}")
    if name in HALF:
        if device:
            raise TypeError(f"output dtype {name}: a medkern.DeviceArray cannot hold it (the "
                            "result of device input stays on the device); use float32")
        if name == "bfloat16":
            raise TypeError("output dtype bfloat16 exists for torch tensors only (numpy has none)")
        return np.dtype(np.float32), None, name
    return _supported(np.dtype(name), f"output dtype {name}"), None, None


def foreign_output(value: Any, shape: tuple[int, ...], in_dtype: np.dtype, half: str | None,
                   library: Any):
    """:func:`output` for another library's input (``library``: a :class:`medkern.interop.Library`).

    ``output=`` is ``None``, a dtype (numpy's, or the library's, e.g. ``torch.bfloat16``)
    or an array of the input's library (written with a copy at the end).
    """
    if value is None:
        return output(None, shape, in_dtype, False, half)
    if library.is_array(value):
        if tuple(value.shape) != tuple(shape):
            raise ArgumentError(f"output has shape {tuple(value.shape)}, expected "
                                f"{tuple(shape)}" + _scipy("output shape not correct"))
        name = library.dtype_of(value) or "unknown"
        if name in HALF:
            return np.dtype(np.float32), value, None
        try:
            dt = np.dtype(name)
        except TypeError:
            raise TypeError(f"output has unsupported dtype {name}") from None
        return _supported(dt, f"output has dtype {name}, which"), value, None
    if isinstance(value, (np.ndarray, DeviceArray)) or hasattr(value, "__dlpack__"):
        raise TypeError(f"output must be a {library.name} (like input), a dtype or None, "
                        f"got {type(value).__name__}")
    name = dtype_name(value)
    if name is None:
        raise TypeError(f"output must be None, a dtype or a {library.name}, "
                        f"got {type(value).__name__}")
    if name in HALF:
        return np.dtype(np.float32), None, name
    return _supported(np.dtype(name), f"output dtype {name}"), None, None
