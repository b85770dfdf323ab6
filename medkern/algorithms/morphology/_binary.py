"""Binary morphology with the names, parameters and results of ``scipy.ndimage``.

Every function reduces, as SciPy's do, to SciPy's *erosion step* (``_binary_erosion``):
for each element the AND of the structure's taps (``value != 0`` inside the array,
``border_value`` outside), or with ``invert`` the OR -- dilation is that inverted step
with the structure reflected and the origin negated (less one along even-sized axes).
Where ``mask`` is False the element keeps its input value. ``iterations`` repeats the
step; ``iterations <= 0`` repeats it until nothing changes, run by the propagation driver
(:mod:`medkern.kernels.propagate`). When the structure holds its own origin (SciPy's
"centre is true", where SciPy switches to its coordinate-list algorithm) each step only
removes (erosion) or only adds (dilation) elements, so the fixed point is reached by
updating one buffer in place, with forward and backward sweeps on the CPU arch; the
result is the same fixed point (a monotone operator iterated from a start it can only
shrink -- or only grow). Intermediate results stay on the device (uint8 0/1 buffers).

Results are bool (numpy; uint8 0/1 in a DeviceArray) unless ``output`` is an array, as
in SciPy (a dtype as ``output`` gives bool there too).
"""
from __future__ import annotations

import functools
import operator
from typing import Any

import numpy as np
import scipy.ndimage as ndi

from ... import arrays, checks
from ...checks import ArgumentError
from ...kernels import dsl
from ...kernels import filters as kf
from ...kernels import morph as kmorph
from ...kernels import propagate
from ...registry import Algorithm, register
from ...typing import ArrayInput
from ..job import Job, host_like
from ..segmentation._label import foreground, generate_binary_structure

__all__ = ["binary_erosion", "binary_dilation", "binary_opening", "binary_closing",
           "binary_hit_or_miss", "binary_propagation", "binary_fill_holes",
           "generate_binary_structure", "iterate_structure"]


# --------------------------------------------------------------------------- arguments
def _input(input: Any) -> Any:
    """Sequences as numpy; complex refused (SciPy's TypeError)."""
    x = host_like(input)
    if isinstance(x, np.ndarray) and x.dtype.kind == "c":
        raise TypeError("input has complex dtype: binary morphology needs real values "
                        "(SciPy: Complex type not supported)")
    return x


def _iterations(value: Any) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"iterations must be an integer, got {type(value).__name__} "
                        f"{value!r} (SciPy: iterations parameter should be an integer)") from None


def _border(value: Any) -> int:
    try:
        return int(operator.index(value) != 0)
    except TypeError:
        raise TypeError(f"border_value must be an integer (0 or 1), got "
                        f"{type(value).__name__} {value!r}") from None


def _axes(axes: Any, ndim: int) -> tuple[int, ...]:
    return checks.axes(axes, ndim)


def _origins(origin: Any, n: int) -> list[int]:
    return [checks.integer(o, "origin") for o in checks.per_axis(origin, n, "origin")]


def _expand_origin(ndim: int, axes: tuple, origins: list[int]) -> list[int]:
    """SciPy's ``_expand_origin``: origins follow ``axes`` as given, 0 on other axes."""
    if len(axes) < ndim:
        full = [0] * ndim
        for o, a in zip(origins, axes):
            full[a] = o
        return full
    return list(origins)


def _structure(structure: Any, ndim: int, axes: tuple, name: str = "structure") -> np.ndarray:
    """The structure as a bool array of the input's rank (SciPy's checks and expansion:
    its dimensions lie on ``sorted(axes)``)."""
    n = len(axes)
    if structure is None:
        s = generate_binary_structure(n, 1)
    else:
        try:
            s = np.asarray(structure, dtype=bool)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be an array of 0/1 values: {exc}") from None
    if s.ndim != n:
        raise ArgumentError(f"{name} must have one dimension per axis ({n}), got ndim={s.ndim}"
                            f" (SciPy: structure and input must have same dimensionality)")
    if s.size < 1:
        raise ArgumentError(f"{name} is empty (shape {s.shape}) (SciPy: structure must not "
                            "be empty)")
    if n < ndim:
        s = np.expand_dims(s, tuple(a for a in range(ndim) if a not in axes))
    return s


class _Plan:
    """One erosion step's static description: 3-D offsets, centre-is-true, invert."""

    def __init__(self, s: np.ndarray, origins: list[int], invert: bool, ndim: int,
                 name: str = "origin"):
        for o, k in zip(origins, s.shape):
            if not 0 <= k // 2 + o < k:
                raise ValueError(f"{name}={o} is invalid for a structure of size {k} along "
                                 f"an axis: it must satisfy {-(k // 2)} <= {name} <= "
                                 f"{(k - 1) // 2}" + (" after the reflection of a dilation"
                                                      if invert else ""))
        centre = np.array([k // 2 + o for k, o in zip(s.shape, origins)])
        self.cit = bool(s[tuple(centre)])
        rel = np.argwhere(s) - centre
        pad = 3 - ndim
        self.offsets = tuple(tuple([0] * pad + [int(v) for v in r]) for r in rel)
        self.invert = invert
        self.empty = len(self.offsets) == 0


def _plan(structure: Any, origin: Any, ndim: int, axes: tuple, *, dilation: bool,
          invert: bool | None = None) -> _Plan:
    """SciPy's ``binary_dilation`` transform (reflect, negate origins) when ``dilation``,
    then ``_binary_erosion``'s checks."""
    n = len(axes)
    origins = _origins(origin, n)
    if dilation:
        if structure is None:
            structure = generate_binary_structure(n, 1)
        st = np.asarray(structure)
        if st.ndim != n:
            raise ArgumentError(f"structure must have one dimension per axis ({n}), got "
                                f"ndim={st.ndim} (SciPy: structure and input must have "
                                "same dimensionality)")
        structure = st[(slice(None, None, -1),) * st.ndim]
        origins = [-o - (0 if structure.shape[i] & 1 else 1) for i, o in enumerate(origins)]
    s = _structure(structure, ndim, axes)
    full = _expand_origin(ndim, axes, origins)
    return _Plan(s, full, dilation if invert is None else invert, ndim)


@functools.lru_cache(maxsize=None)
def _dummy_u8() -> Any:
    return arrays.upload(np.zeros((1, 1, 1), np.uint8))


@functools.lru_cache(maxsize=256)
def _taps(offsets: tuple) -> Any:
    if len(offsets) <= kmorph.UNROLL_MAX:
        return _no_taps()
    return arrays.upload_vector(np.array(offsets, dtype=np.int32).reshape(-1))


@functools.lru_cache(maxsize=None)
def _no_taps() -> Any:
    return arrays.upload_vector(np.zeros(3, np.int32))


def _mask(job: Job, mask: Any) -> Any:
    """The mask as a uint8 buffer on the input's device (nonzero = True), or None."""
    if mask is None:
        return None
    m = host_like(mask)
    if isinstance(m, arrays.DeviceArray):
        if tuple(m.shape) != job.shape:
            raise ArgumentError(f"mask must have the input's shape {job.shape}, got "
                                f"{tuple(m.shape)} (SciPy: mask and input must have equal sizes)")
        if m.dtype == np.uint8:
            return job.second(m, "mask", layout=arrays.shape3(job.shape), dtypes=(np.uint8,),
                              default=np.uint8)[0]
        m = arrays.asnumpy(m)
    try:
        m = np.asarray(m)
    except Exception as exc:  # noqa: BLE001 - whatever numpy refuses
        raise TypeError(f"mask must be an array: {exc}") from None
    if m.shape != job.shape:
        raise ArgumentError(f"mask must have the input's shape {job.shape}, got {m.shape}"
                            " (SciPy: mask and input must have equal sizes)")
    if m.dtype.kind not in "biuf":
        raise TypeError(f"mask must hold numbers or bools, got dtype {m.dtype}")
    host = (m != 0).view(np.uint8)
    return job.second(host, "mask", layout=arrays.shape3(job.shape), dtypes=(np.uint8,),
                      default=np.uint8)[0]


# --------------------------------------------------------------------------- the engine
def _steps(job: Job, src: Any, src_dtype: np.dtype, plan: _Plan, iterations: int,
           mask_buf: Any, border: int) -> Any:
    """SciPy's ``_binary_erosion`` on kernel buffers: ``iterations`` steps of ``plan``
    from ``src`` (any dtype, read as ``!= 0``); a leased uint8 result buffer."""
    masked = mask_buf is not None
    mbuf = mask_buf if masked else _dummy_u8()
    rows = kmorph.rows_layout()
    dilate = plan.invert
    taps = _taps(plan.offsets) if not plan.empty else _no_taps()
    u8 = np.dtype(np.uint8)
    if plan.empty:
        # no tap: the AND of nothing is True, the OR of nothing False (SciPy's C loop)
        return _constant_step(job, src, src_dtype, 0 if dilate else 1, mask_buf)
    flag = arrays.empty_buffer((1,), np.dtype(np.int32))
    try:
        first = kmorph.binary_step(plan.offsets, dilate, src_dtype, masked, False, rows)
        out = job.buffer(u8)
        job.launch(first, src, out, mbuf, src_dtype.type(0), border, taps, flag, 0)
        if iterations == 1:
            return out
        size = int(np.prod(job.shape))
        if iterations < 1 and plan.cit:
            step = kmorph.binary_step(plan.offsets, dilate, u8, masked, True, rows)
            try:
                propagate.run(lambda f, stamp: job.launch(step, out, mbuf, np.uint8(0), border,
                                                          taps, f, stamp),
                              max_sweeps=size + 2, name="binary morphology (iterations <= 0)")
            except BaseException:
                arrays.release_buffer(out)
                raise
            return out
        step = kmorph.binary_step(plan.offsets, dilate, u8, masked, False, rows)
        other = job.buffer(u8)
        bufs = [out, other]
        try:
            if iterations > 1:
                for k in range(iterations - 1):
                    job.launch(step, bufs[k % 2], bufs[(k + 1) % 2], mbuf, np.uint8(0), border,
                               taps, flag, 0)
                result = bufs[(iterations - 1) % 2]
            else:
                state = {"k": 0}

                def sweep(f: Any, stamp: int) -> None:
                    k = state["k"]
                    job.launch(step, bufs[k % 2], bufs[(k + 1) % 2], mbuf, np.uint8(0), border,
                               taps, f, stamp)
                    state["k"] = k + 1
                propagate.run(sweep, max_sweeps=size + 2,
                              name="binary morphology (iterations <= 0)")
                result = bufs[state["k"] % 2]
        except BaseException:
            for b in bufs:
                arrays.release_buffer(b)
            raise
        arrays.release_buffer(bufs[0] if result is bufs[1] else bufs[1])
        return result
    finally:
        arrays.release_buffer(flag)


def _constant_step(job: Job, src: Any, src_dtype: np.dtype, value: int, mask_buf: Any) -> Any:
    out = job.buffer(np.uint8)
    if mask_buf is None:
        job.launch(dsl.pointwise(kmorph.one if value else kf.zero, (src_dtype,),
                                 np.dtype(np.uint8), np.dtype(np.float64)), src, out)
    else:
        job.launch(dsl.pointwise(kmorph.where_mask_value if value else kmorph.where_mask_zero,
                                 (src_dtype, np.dtype(np.uint8)), np.dtype(np.uint8),
                                 np.dtype(np.float64)), src, mask_buf, out)
    return out


def _check_output(output: Any) -> None:
    """``output`` is an array or None: SciPy's binary functions ignore anything else (a
    dtype, a string) without a word; medkern says so."""
    if output is not None and not isinstance(output, (np.ndarray, arrays.DeviceArray)):
        raise TypeError(f"output must be a numpy array or a DeviceArray (the result is "
                        f"bool), got {type(output).__name__} {output!r:.40}")


def _start(input: Any, output: Any) -> Job:
    _check_output(output)
    if isinstance(output, np.ndarray) and output.dtype.kind == "c":
        raise TypeError("output has complex dtype (SciPy: Complex output type not supported)")
    return Job(input, None, dtype=np.uint8, bools=True)


def _deliver(job: Job, res: Any, output: Any) -> Any:
    """The uint8 0/1 result as SciPy's ``_binary_erosion`` returns it: bool (uint8 in a
    DeviceArray), or written into an ``output`` array (any real dtype)."""
    if isinstance(output, (np.ndarray, arrays.DeviceArray)):
        if tuple(output.shape) != job.shape:
            job.discard(res)
            raise ArgumentError(f"output has shape {tuple(output.shape)}, expected {job.shape}"
                                " (SciPy: output shape not correct)")
        if isinstance(output, arrays.DeviceArray):
            if not job.device:
                job.discard(res)
                raise TypeError("output must be a numpy array when input is not a DeviceArray")
            if np.dtype(output.dtype) == np.uint8:
                arrays.copy_buffer(res, output._buf)
            else:
                job.launch(dsl.pointwise(kf.identity, (np.dtype(np.uint8),),
                                         np.dtype(output.dtype)), res, output._buf)
            job.discard(res)
            return output
        if job.device:
            job.discard(res)
            raise TypeError("output must be a medkern.DeviceArray when input is one")
        if not output.flags.writeable:
            job.discard(res)
            raise ValueError("output is read-only")
        from ...volume import Volume
        result = job.finish_mask(res)
        output[...] = result.array if isinstance(result, Volume) else result
        return output
    return job.finish_mask(res)


def _trivial(x: np.ndarray, output: Any, value: Any = None) -> Any:
    """0-d and empty numpy input: no neighbour to look at (SciPy's results: the input's
    truth for a 0-d array, an empty bool array otherwise)."""
    _check_output(output)
    if x.ndim > 3:
        checks.array(x)
    res = (x != 0) if value is None else np.full(x.shape, bool(value))
    if isinstance(output, np.ndarray):
        output[...] = res
        return output
    return np.asarray(res, dtype=bool)


def _is_trivial(x: Any) -> bool:
    return isinstance(x, np.ndarray) and (x.ndim == 0 or x.size == 0)


def _binary_erosion(input: Any, structure: Any, iterations: Any, mask: Any, output: Any,
                    border_value: Any, origin: Any, axes: Any, *, dilation: bool) -> Any:
    it = _iterations(iterations)
    x = _input(input)
    border = _border(border_value)
    if _is_trivial(x):
        return _trivial(x, output)
    job = _start(x, output)
    ax = _axes(axes, job.ndim)
    plan = _plan(structure, origin, job.ndim, ax, dilation=dilation)
    mbuf = _mask(job, mask)
    res = _steps(job, job.src, job.in_dtype, plan, it, mbuf, border)
    return _deliver(job, res, output)


# --------------------------------------------------------------------------- public API
_COMMON = """
    input : array_like, DeviceArray or Volume
        1-3 D; nonzero elements (NaN included) are True.
    structure : array_like, optional
        The structuring element: one dimension per axis of ``axes``, any size (even
        sizes included), nonzero elements are taps. Default:
        ``generate_binary_structure(len(axes), 1)`` (faces only).
    iterations : int, optional
        Steps to repeat (default 1); ``iterations <= 0`` repeats until nothing changes."""


def binary_erosion(input: ArrayInput, structure: Any = None, iterations: int = 1,
                   mask: Any = None, output: Any = None, border_value: int = 0,
                   origin: Any = 0, brute_force: bool = False, *, axes: Any = None) -> Any:
    """Multidimensional binary erosion with a structuring element.

    An element stays True when every tap of the structure placed on it (shifted by
    ``origin``) reads True; outside the array reads ``border_value``.

    Parameters
    ----------""" + _COMMON + """
    mask : array_like, optional
        Where False, elements keep their input value (every iteration).
    output : ndarray or DeviceArray, optional
        An array (any real dtype) of the input's shape to write into. A dtype is
        ignored, as in SciPy: the result is bool.
    border_value : int, optional
        Value (0 or 1; nonzero is 1) read outside the array.
    origin : int or sequence of int, optional
        Placement of the structure (per axis of ``axes``).
    brute_force : bool, optional
        Accepted for SciPy compatibility; the result does not depend on it.
    axes : sequence of int, optional
        The axes the structure spans (default all).

    Returns
    -------
    ndarray, DeviceArray or Volume
        bool (uint8 0/1 in a DeviceArray), or ``output``.

    Raises
    ------
    ValueError
        ``structure`` of another rank or empty, ``mask`` or ``output`` of another shape,
        an ``origin`` outside the structure (SciPy crashes there).
    TypeError
        Complex input, non-integer ``iterations`` or ``border_value``.

    Notes
    -----
    Reference: ``scipy.ndimage.binary_erosion``; results are identical. Where SciPy
    raises ``RuntimeError`` for a bad argument, medkern raises
    :class:`medkern.ArgumentError` (a ``ValueError`` and a ``RuntimeError``).

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.zeros((5, 5), bool); a[1:4, 1:4] = True
    >>> mm.binary_erosion(a).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0],
           [0, 0, 1, 0, 0],
           [0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0]])
    """
    return _binary_erosion(input, structure, iterations, mask, output, border_value, origin,
                           axes, dilation=False)


def binary_dilation(input: ArrayInput, structure: Any = None, iterations: int = 1,
                    mask: Any = None, output: Any = None, border_value: int = 0,
                    origin: Any = 0, brute_force: bool = False, *, axes: Any = None) -> Any:
    """Multidimensional binary dilation with a structuring element.

    An element becomes True when any tap of the reflected structure placed on it reads
    True (SciPy's definition: the structure is reflected and ``origin`` negated -- less
    one along even-sized axes); outside the array reads ``border_value``.

    Parameters are those of :func:`binary_erosion`.

    Returns
    -------
    ndarray, DeviceArray or Volume
        bool (uint8 0/1 in a DeviceArray), or ``output``.

    Notes
    -----
    Reference: ``scipy.ndimage.binary_dilation``; results are identical.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.zeros((5, 5), bool); a[2, 2] = True
    >>> mm.binary_dilation(a).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 0, 1, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 1, 0, 0],
           [0, 0, 0, 0, 0]])
    >>> int(mm.binary_dilation(a, iterations=2).sum())
    13
    """
    return _binary_erosion(input, structure, iterations, mask, output, border_value, origin,
                           axes, dilation=True)


def _open_close(input, structure, iterations, output, origin, mask, border_value, axes,
                first_dilation: bool) -> Any:
    it = _iterations(iterations)
    x = _input(input)
    border = _border(border_value)
    if _is_trivial(x):
        return _trivial(x, output)
    job = _start(x, output)
    ax = _axes(axes, job.ndim)
    if structure is None:
        structure = generate_binary_structure(len(ax), 1)
    p1 = _plan(structure, origin, job.ndim, ax, dilation=first_dilation)
    p2 = _plan(structure, origin, job.ndim, ax, dilation=not first_dilation)
    mbuf = _mask(job, mask)
    tmp = _steps(job, job.src, job.in_dtype, p1, it, mbuf, border)
    try:
        res = _steps(job, tmp, np.dtype(np.uint8), p2, it, mbuf, border)
    finally:
        arrays.release_buffer(tmp)
    return _deliver(job, res, output)


def binary_opening(input: ArrayInput, structure: Any = None, iterations: int = 1,
                   output: Any = None, origin: Any = 0, mask: Any = None,
                   border_value: int = 0, brute_force: bool = False, *,
                   axes: Any = None) -> Any:
    """Binary opening: :func:`binary_erosion` then :func:`binary_dilation` with the same
    structure, ``iterations``, ``mask`` and ``border_value`` (the intermediate stays on
    the device).

    Parameters are those of :func:`binary_erosion`.

    Returns
    -------
    ndarray, DeviceArray or Volume
        bool (uint8 0/1 in a DeviceArray), or ``output``.

    Notes
    -----
    Reference: ``scipy.ndimage.binary_opening``; results are identical.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.zeros((5, 6), bool); a[1:4, 1:4] = True; a[2, 5] = True
    >>> mm.binary_opening(a).astype(int)
    array([[0, 0, 0, 0, 0, 0],
           [0, 0, 1, 0, 0, 0],
           [0, 1, 1, 1, 0, 0],
           [0, 0, 1, 0, 0, 0],
           [0, 0, 0, 0, 0, 0]])
    """
    return _open_close(input, structure, iterations, output, origin, mask, border_value, axes,
                       first_dilation=False)


def binary_closing(input: ArrayInput, structure: Any = None, iterations: int = 1,
                   output: Any = None, origin: Any = 0, mask: Any = None,
                   border_value: int = 0, brute_force: bool = False, *,
                   axes: Any = None) -> Any:
    """Binary closing: :func:`binary_dilation` then :func:`binary_erosion`.

    Parameters are those of :func:`binary_erosion`.

    Returns
    -------
    ndarray, DeviceArray or Volume
        bool (uint8 0/1 in a DeviceArray), or ``output``.

    Notes
    -----
    Reference: ``scipy.ndimage.binary_closing``; results are identical (SciPy's erosion
    after the dilation reads ``border_value`` outside, so a closing can erode the edge).

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.ones((5, 5), bool); a[2, 2] = False
    >>> bool(mm.binary_closing(a, border_value=1).all())
    True
    """
    return _open_close(input, structure, iterations, output, origin, mask, border_value, axes,
                       first_dilation=True)


def binary_hit_or_miss(input: ArrayInput, structure1: Any = None, structure2: Any = None,
                       output: Any = None, origin1: Any = 0, origin2: Any = None, *,
                       axes: Any = None) -> Any:
    """Binary hit-or-miss transform: elements where ``structure1`` fits the foreground and
    ``structure2`` fits the background.

    Parameters
    ----------
    input : array_like, DeviceArray or Volume
    structure1 : array_like, optional
        Taps that must read True (default ``generate_binary_structure(len(axes), 1)``).
    structure2 : array_like, optional
        Taps that must read False (default ``~structure1``).
    output : ndarray or DeviceArray, optional
        An array to write into (then None is returned, as in SciPy).
    origin1, origin2 : int or sequence of int, optional
        Placements of the structures (``origin2`` defaults to ``origin1``).
    axes : sequence of int, optional

    Returns
    -------
    ndarray, DeviceArray, Volume or None
        bool (uint8 0/1 in a DeviceArray); None when ``output`` is an array.

    Notes
    -----
    Reference: ``scipy.ndimage.binary_hit_or_miss``; results are identical. Outside the
    array reads False for ``structure1`` and True for ``structure2``, as in SciPy.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.zeros((5, 5), bool); a[2, 2] = True; a[1, 1] = a[1, 2] = True
    >>> s1 = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    >>> s2 = np.array([[0, 0, 0], [1, 0, 1], [0, 1, 0]])
    >>> np.argwhere(mm.binary_hit_or_miss(a, s1, s2)).tolist()
    [[2, 2]]
    """
    x = _input(input)
    if _is_trivial(x):
        res = _trivial(x, None)
        if isinstance(output, np.ndarray):
            output[...] = res
            return None
        return res
    job = _start(x, output)
    ax = _axes(axes, job.ndim)
    n = len(ax)
    s1 = generate_binary_structure(n, 1) if structure1 is None else np.asarray(structure1)
    s2 = np.logical_not(s1) if structure2 is None else structure2
    o1 = _origins(origin1, n)
    o2 = o1 if origin2 is None else _origins(origin2, n)
    p1 = _plan(s1, o1, job.ndim, ax, dilation=False)
    p2 = _plan(s2, o2, job.ndim, ax, dilation=False, invert=True)
    hit = _steps(job, job.src, job.in_dtype, p1, 1, None, 0)
    try:
        miss = _steps(job, job.src, job.in_dtype, p2, 1, None, 0)
    except BaseException:
        arrays.release_buffer(hit)
        raise
    u8 = np.dtype(np.uint8)
    res = job.buffer(u8)
    job.launch(dsl.pointwise(kmorph.and_not, (u8, u8), u8, np.dtype(np.float64)), hit, miss,
               res)
    arrays.release_buffer(hit)
    arrays.release_buffer(miss)
    out = _deliver(job, res, output)
    return None if isinstance(output, (np.ndarray, arrays.DeviceArray)) else out


def binary_propagation(input: ArrayInput, structure: Any = None, mask: Any = None,
                       output: Any = None, border_value: int = 0, origin: Any = 0, *,
                       axes: Any = None) -> Any:
    """Binary propagation: :func:`binary_dilation` repeated until nothing changes, within
    ``mask`` (the connected parts of ``mask`` that hold a True element of ``input``).

    Parameters are those of :func:`binary_erosion` (no ``iterations``).

    Returns
    -------
    ndarray, DeviceArray or Volume
        bool (uint8 0/1 in a DeviceArray), or ``output``.

    Notes
    -----
    Reference: ``scipy.ndimage.binary_propagation``; results are identical. Runs as
    in-place sweeps to the fixed point (the propagation driver).

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> mask = np.array([[1, 1, 0, 1], [0, 1, 0, 1], [0, 0, 0, 1]], bool)
    >>> seed = np.zeros_like(mask); seed[0, 0] = True
    >>> mm.binary_propagation(seed, mask=mask).astype(int)
    array([[1, 1, 0, 0],
           [0, 1, 0, 0],
           [0, 0, 0, 0]])
    """
    return binary_dilation(input, structure, -1, mask, output, border_value, origin,
                           axes=axes)


def binary_fill_holes(input: ArrayInput, structure: Any = None, output: Any = None,
                      origin: Any = 0, *, axes: Any = None) -> Any:
    """Fill the holes of binary objects: background not connected (through
    ``structure``) to the array's border becomes True.

    Parameters
    ----------
    input : array_like, DeviceArray or Volume
    structure : array_like, optional
        Connectivity of the background (default faces only).
    output : ndarray or DeviceArray, optional
        An array to write into.
    origin : int or sequence of int, optional
    axes : sequence of int, optional

    Returns
    -------
    ndarray, DeviceArray or Volume
        bool (uint8 0/1 in a DeviceArray), or ``output``.

    Notes
    -----
    Reference: ``scipy.ndimage.binary_fill_holes`` (a propagation of the border into the
    background, complemented); results are identical.

    Examples
    --------
    >>> import numpy as np, medkern.morphology as mm
    >>> a = np.zeros((5, 5), bool); a[1:4, 1:4] = True; a[2, 2] = False
    >>> bool(mm.binary_fill_holes(a)[2, 2])
    True
    """
    x = _input(input)
    if _is_trivial(x):
        # SciPy: the dilation of zeros in the background, border 1, complemented
        return _trivial(x, output, value=None if x.size == 0 else (x != 0))
    job = _start(x, output)
    ax = _axes(axes, job.ndim)
    plan = _plan(structure, origin, job.ndim, ax, dilation=True)
    u8 = np.dtype(np.uint8)
    mbuf = job.buffer(u8)
    job.launch(dsl.pointwise(kmorph.logical_not, (job.in_dtype,), u8, np.dtype(np.float64)),
               job.src, mbuf)
    zeros = job.buffer(u8)
    job.launch(dsl.pointwise(kf.zero, (job.in_dtype,), u8, np.dtype(np.float64)),
               job.src, zeros)
    try:
        grown = _steps(job, zeros, u8, plan, -1, mbuf, 1)
    finally:
        arrays.release_buffer(zeros)
        arrays.release_buffer(mbuf)
    res = job.buffer(u8)
    job.launch(dsl.pointwise(kmorph.logical_not, (u8,), u8, np.dtype(np.float64)), grown, res)
    arrays.release_buffer(grown)
    return _deliver(job, res, output)


def iterate_structure(structure: Any, iterations: int, origin: Any = None) -> Any:
    """A structuring element dilated by itself ``iterations - 1`` times.

    Parameters
    ----------
    structure : array_like
    iterations : int
    origin : int or sequence of int, optional
        If given, ``(structure, origin * iterations)`` is returned.

    Returns
    -------
    ndarray of bool, or (ndarray, list of int)
        ``iterations < 2`` gives a copy of ``structure`` unchanged (its dtype too).

    Notes
    -----
    Reference: ``scipy.ndimage.iterate_structure``; results are identical. Computed on
    the host (structures are small).

    Examples
    --------
    >>> import medkern.morphology as mm
    >>> s = mm.generate_binary_structure(2, 1)
    >>> mm.iterate_structure(s, 2).astype(int)
    array([[0, 0, 1, 0, 0],
           [0, 1, 1, 1, 0],
           [1, 1, 1, 1, 1],
           [0, 1, 1, 1, 0],
           [0, 0, 1, 0, 0]])
    """
    s = np.asarray(structure)
    it = checks.integer(iterations, "iterations")
    if it < 2:
        out = s.copy()
    else:
        ni = it - 1
        shape = [k + ni * (k - 1) for k in s.shape]
        pos = [ni * (k // 2) for k in s.shape]
        out = np.zeros(shape, bool)
        out[tuple(slice(p, p + k) for p, k in zip(pos, s.shape))] = s != 0
        # SciPy: binary_dilation(out, structure, iterations=ni), done here on the host
        refl = (s != 0)[(slice(None, None, -1),) * s.ndim]
        orig = [-(0 if k & 1 else 1) for k in refl.shape]
        taps = np.argwhere(refl) - (np.array(refl.shape) // 2 + np.array(orig, dtype=int))
        for _ in range(ni):
            grown = np.zeros_like(out)
            for t in taps:  # grown[p] |= out[p + t] (outside: False)
                src = tuple(slice(max(0, d), n + min(0, d)) for d, n in zip(t, out.shape))
                dst = tuple(slice(max(0, -d), n - max(0, d)) for d, n in zip(t, out.shape))
                grown[dst] |= out[src]
            out = grown
    if origin is None:
        return out
    o = checks.per_axis(origin, s.ndim, "origin")
    return out, [it * v for v in o]


# --------------------------------------------------------------------------- registry
#: Foreground fractions of the parity masks, picked by the case's seed.
DENSITIES = (0.1, 0.5, 0.9)


def _mask_input(shape: tuple, dtype: Any, seed: int) -> np.ndarray:
    from ...sample_data import binary_mask
    return binary_mask(shape, DENSITIES[seed % len(DENSITIES)], seed=seed, dtype=dtype)


def _same_mask(ours: Any, ref: Any) -> float:
    """0 when the masks are identical, else inf. A uint8 0/1 mask stands for SciPy's bool
    one: a DeviceArray result (device buffers hold no bool), also once ``medkern compare``
    has brought it to the host; tests/test_morphology_binary.py checks that numpy input
    gives bool."""
    a = arrays.asnumpy(ours) if isinstance(ours, arrays.DeviceArray) else np.asarray(ours)
    b = np.asarray(ref)
    if b.dtype == np.bool_ and a.dtype == np.uint8 and a.size and int(a.max()) <= 1:
        a = a.view(np.bool_)
    return 0.0 if a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) \
        else float("inf")


_FULL = {"_2d": np.ones((3, 3), bool), "_3d": np.ones((3, 3, 3), bool)}
for _name, _func, _ref, _cases in (
        ("binary_erosion", binary_erosion, ndi.binary_erosion,
         ({}, {"structure": _FULL, "iterations": 2}, {"border_value": 1})),
        ("binary_dilation", binary_dilation, ndi.binary_dilation,
         ({}, {"structure": _FULL}, {"iterations": 3})),
        ("binary_opening", binary_opening, ndi.binary_opening, ({}, {"iterations": 2})),
        ("binary_fill_holes", binary_fill_holes, ndi.binary_fill_holes,
         ({}, {"structure": _FULL})),
        # one case each: their parts are the functions above (CI time)
        ("binary_closing", binary_closing, ndi.binary_closing, ({},)),
        ("binary_propagation", binary_propagation, ndi.binary_propagation, ({},)),
        ("binary_hit_or_miss", binary_hit_or_miss, ndi.binary_hit_or_miss, ({},))):
    register(Algorithm(
        name=_name, area="morphology", func=_func, reference=_ref,
        reference_name=f"scipy.ndimage.{_name}", bench_kwargs={}, cases=_cases,
        dtypes=("bool",), make_input=_mask_input, prepare=foreground,
        compare_result=_same_mask))
