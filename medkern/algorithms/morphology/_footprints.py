"""Structuring elements (footprints): scikit-image 0.26's, and balls sized in millimetres.

``disk``, ``ball``, ``diamond``, ``octahedron``, ``ellipse``, ``footprint_rectangle`` and
the deprecated ``square`` / ``cube`` give scikit-image's arrays (same shapes, values and
dtypes, ``uint8`` by default) and its ``decomposition`` sequences -- tuples of
``(footprint, repetitions)`` -- except the precomputed ``'sequence'`` decompositions of
``disk`` and ``ball`` (tables shipped with scikit-image; ``NotImplementedError``).
:func:`ball_mm` / :func:`ellipsoid_mm` give a boolean ball or ellipsoid of a size in
millimetres on a grid of anisotropic voxels (a :class:`~medkern.Volume`'s ``spacing``).
They are host (numpy) arrays: small constants, built once and handed to the
morphology functions.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from ... import checks

__all__ = ["disk", "ball", "square", "cube", "diamond", "octahedron", "ellipse",
           "footprint_rectangle", "ball_mm", "ellipsoid_mm"]

#: Relative slack of the millimetre shapes' surface test: an element whose centre lies on
#: the surface (up to float rounding of ``index * spacing``) is inside.
SURFACE_SLACK = 1e-9


def _radius(value: Any, name: str = "radius") -> int:
    return checks.integer(value, name, minimum=0)


def _decompose_size(size: int, kernel_size: int = 3) -> int:
    """How many repetitions of a ``kernel_size`` element make one of ``size``."""
    return 1 + (size - kernel_size) // (kernel_size - 1)


def _decomposition(value: Any, allowed: tuple) -> Any:
    if value is not None and value not in allowed:
        raise ValueError(f"decomposition must be None or one of {allowed}, got {value!r}")
    return value


def footprint_rectangle(shape: Sequence[int], *, dtype: Any = np.uint8,
                        decomposition: str | None = None) -> Any:
    """A rectangular footprint of ones (``skimage.morphology.footprint_rectangle``).

    Parameters
    ----------
    shape : sequence of int
        Size along each axis (any rank).
    dtype : dtype, optional
        Default uint8.
    decomposition : {None, 'separable', 'sequence'}, optional
        None: one array. ``'separable'``: one ``(line, 1)`` pair per axis. ``'sequence'``:
        ``3 x ... x 3`` boxes repeated plus lines for the longer axes (odd sizes only:
        even sizes warn and fall back to ``'separable'``, as scikit-image does).

    Returns
    -------
    ndarray or tuple of (ndarray, int)

    Examples
    --------
    >>> import medkern.morphology as mm
    >>> mm.footprint_rectangle((2, 3))
    array([[1, 1, 1],
           [1, 1, 1]], dtype=uint8)
    >>> [(f.shape, n) for f, n in mm.footprint_rectangle((3, 5), decomposition="separable")]
    [((3, 1), 1), ((1, 5), 1)]
    """
    _decomposition(decomposition, ("separable", "sequence"))
    try:
        shape = tuple(int(checks.integer(w, "shape", minimum=0)) for w in shape)
    except TypeError:
        raise TypeError(f"shape must be a sequence of integers, got {shape!r}") from None
    if decomposition == "sequence" and any(w % 2 == 0 for w in shape):
        warnings.warn("decomposition='sequence' is only supported for uneven footprints, "
                      "falling back to decomposition='separable'", stacklevel=2)
        decomposition = "separable"

    def line(dim: int, width: int) -> tuple:
        s = (1,) * dim + (width,) + (1,) * (len(shape) - dim - 1)
        return (np.ones(s, dtype=dtype), 1)

    if decomposition is None:
        return np.ones(shape, dtype=dtype)
    if decomposition == "separable":
        return tuple(line(d, w) for d, w in enumerate(shape))
    low = min(shape)
    seq = [(np.ones((3,) * len(shape), dtype=dtype), _decompose_size(low, 3))]
    for d, w in enumerate(shape):
        if w > low:
            seq.append(line(d, w - low + 1))
    return tuple(seq)


def _deprecated(name: str) -> None:
    # scikit-image 0.25 deprecated square / rectangle / cube (removal in 0.27) with a
    # FutureWarning pointing at footprint_rectangle; medkern keeps the names (the issue
    # lists them) and warns the same way, so code ported from skimage sees what skimage says
    warnings.warn(f"`{name}` is deprecated since scikit-image 0.25 and will be removed in "
                  f"0.27; medkern keeps it for compatibility. Use "
                  f"`medkern.morphology.footprint_rectangle` instead.", FutureWarning,
                  stacklevel=3)


def square(width: int, dtype: Any = np.uint8, *, decomposition: str | None = None) -> Any:
    """A ``width x width`` square of ones (``skimage.morphology.square``, deprecated there
    since 0.25: it warns with a ``FutureWarning`` here too).

    Examples
    --------
    >>> import warnings, medkern.morphology as mm
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     mm.square(2)
    array([[1, 1],
           [1, 1]], dtype=uint8)
    """
    _deprecated("square")
    w = checks.integer(width, "width", minimum=0)
    return footprint_rectangle((w, w), dtype=dtype, decomposition=decomposition)


def cube(width: int, dtype: Any = np.uint8, *, decomposition: str | None = None) -> Any:
    """A ``width x width x width`` cube of ones (``skimage.morphology.cube``, deprecated
    there since 0.25: it warns with a ``FutureWarning`` here too).

    Examples
    --------
    >>> import warnings, medkern.morphology as mm
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     mm.cube(3).shape
    (3, 3, 3)
    """
    _deprecated("cube")
    w = checks.integer(width, "width", minimum=0)
    return footprint_rectangle((w, w, w), dtype=dtype, decomposition=decomposition)


def diamond(radius: int, dtype: Any = np.uint8, *, decomposition: str | None = None) -> Any:
    """Elements within L1 distance ``radius`` of the centre (``skimage.morphology.diamond``).

    ``decomposition='sequence'``: the radius-1 diamond repeated ``radius`` times.

    Examples
    --------
    >>> import medkern.morphology as mm
    >>> mm.diamond(1)
    array([[0, 1, 0],
           [1, 1, 1],
           [0, 1, 0]], dtype=uint8)
    """
    _decomposition(decomposition, ("sequence",))
    r = _radius(radius)
    if decomposition == "sequence":
        return ((diamond(1, dtype=dtype), _decompose_size(2 * r + 1, 3)),)
    i, j = np.meshgrid(np.arange(2 * r + 1), np.arange(2 * r + 1))
    return np.array(np.abs(i - r) + np.abs(j - r) <= r, dtype=dtype)


def octahedron(radius: int, dtype: Any = np.uint8, *, decomposition: str | None = None) -> Any:
    """The 3-D diamond: elements within L1 distance ``radius`` of the centre
    (``skimage.morphology.octahedron``).

    Examples
    --------
    >>> import medkern.morphology as mm
    >>> int(mm.octahedron(1).sum())
    7
    """
    _decomposition(decomposition, ("sequence",))
    r = _radius(radius)
    if decomposition == "sequence":
        return ((octahedron(1, dtype=dtype), _decompose_size(2 * r + 1, 3)),)
    z, y, x = np.ogrid[-r:r + 1, -r:r + 1, -r:r + 1]
    return np.array(np.abs(x) + np.abs(y) + np.abs(z) <= r, dtype=dtype)


def _cross(r0: int, r1: int, dtype: Any) -> np.ndarray:
    c = np.zeros((2 * r0 + 1, 2 * r1 + 1), dtype=dtype)
    if r1 != 0:
        c[r0, :] = 1
    if r0 != 0:
        c[:, r1] = 1
    return c


def _crosses(fp: np.ndarray, dtype: Any) -> tuple:
    """scikit-image's decomposition of a convex, symmetric 2-D footprint into crosses
    (its ``_cross_decomposition``): one cross per step of the quadrant's column sums."""
    quadrant = fp[fp.shape[0] // 2:, fp.shape[1] // 2:]
    col = np.concatenate((quadrant.sum(0, dtype=int), [0]))
    prev, used = 0, 0
    counts: dict = {}
    for i in range(col.size - 1):
        if col[i] > col[i + 1]:
            if i == 0:
                continue
            key = (int(col[prev] - col[i]), i - prev)
            used += key[0]
            counts[key] = counts.get(key, 0) + 1
            prev = i
    rest = quadrant.shape[0] - 1 - used
    if rest > 0:
        counts[(rest, 0)] = counts.get((rest, 0), 0) + 1
    return tuple((_cross(r0, r1, dtype), n) for (r0, r1), n in counts.items())


def disk(radius: int, dtype: Any = np.uint8, *, strict_radius: bool = True,
         decomposition: str | None = None) -> Any:
    """A disk: elements within Euclidean distance ``radius`` of the centre
    (``skimage.morphology.disk``).

    Parameters
    ----------
    radius : int
    dtype : dtype, optional
        Default uint8.
    strict_radius : bool, optional
        False: the radius is extended by 0.5 (scikit-image's option).
    decomposition : {None, 'crosses'}, optional
        ``'crosses'``: scikit-image's sequence of crosses. ``'sequence'`` (scikit-image's
        precomputed tables) raises ``NotImplementedError``.

    Examples
    --------
    >>> import medkern.morphology as mm
    >>> mm.disk(1)
    array([[0, 1, 0],
           [1, 1, 1],
           [0, 1, 0]], dtype=uint8)
    """
    _decomposition(decomposition, ("sequence", "crosses"))
    r = _radius(radius)
    if decomposition == "sequence":
        raise NotImplementedError("decomposition='sequence' of disk needs scikit-image's "
                                  "precomputed tables; use decomposition='crosses' or None")
    if decomposition == "crosses":
        return _crosses(disk(r, dtype, strict_radius=strict_radius), dtype)
    line = np.arange(-r, r + 1)
    x, y = np.meshgrid(line, line)
    rr = r if strict_radius else r + 0.5
    return np.array(x ** 2 + y ** 2 <= rr ** 2, dtype=dtype)


def ball(radius: int, dtype: Any = np.uint8, *, strict_radius: bool = True,
         decomposition: str | None = None) -> Any:
    """A ball: elements within Euclidean distance ``radius`` of the centre
    (``skimage.morphology.ball``). ``decomposition='sequence'`` (scikit-image's
    precomputed tables) raises ``NotImplementedError``; see :func:`ball_mm` for a ball
    in millimetres on anisotropic voxels.

    Examples
    --------
    >>> import medkern.morphology as mm
    >>> b = mm.ball(2)
    >>> b.shape, int(b.sum()), b.dtype
    ((5, 5, 5), 33, dtype('uint8'))
    """
    _decomposition(decomposition, ("sequence",))
    r = _radius(radius)
    if decomposition == "sequence":
        raise NotImplementedError("decomposition='sequence' of ball needs scikit-image's "
                                  "precomputed tables; use decomposition=None")
    n = 2 * r + 1
    z, y, x = np.mgrid[-r:r:n * 1j, -r:r:n * 1j, -r:r:n * 1j]
    rr = r if strict_radius else r + 0.5
    return np.array(x ** 2 + y ** 2 + z ** 2 <= rr * rr, dtype=dtype)


def ellipse(width: int, height: int, dtype: Any = np.uint8, *,
            decomposition: str | None = None) -> Any:
    """A filled ellipse of shape ``(2 * height + 1, 2 * width + 1)``
    (``skimage.morphology.ellipse``): the elements strictly inside the ellipse of half
    axes ``height + 1`` (rows) and ``width + 1`` (columns) about the centre.
    ``decomposition='crosses'``: scikit-image's sequence of crosses.

    Examples
    --------
    >>> import medkern.morphology as mm
    >>> mm.ellipse(3, 2)
    array([[0, 1, 1, 1, 1, 1, 0],
           [1, 1, 1, 1, 1, 1, 1],
           [1, 1, 1, 1, 1, 1, 1],
           [1, 1, 1, 1, 1, 1, 1],
           [0, 1, 1, 1, 1, 1, 0]], dtype=uint8)
    """
    _decomposition(decomposition, ("crosses",))
    w = checks.integer(width, "width", minimum=0)
    h = checks.integer(height, "height", minimum=0)
    if decomposition == "crosses":
        return _crosses(ellipse(w, h, dtype), dtype)
    r = np.arange(2 * h + 1, dtype=np.float64)[:, None] - h
    c = np.arange(2 * w + 1, dtype=np.float64)[None, :] - w
    return np.array((r / (h + 1)) ** 2 + (c / (w + 1)) ** 2 < 1, dtype=dtype)


# --------------------------------------------------------------------------- millimetres
def _spacing(spacing: Any) -> tuple[float, ...]:
    from ...volume import Volume
    if isinstance(spacing, Volume):
        spacing = spacing.spacing
    try:
        values = tuple(float(s) for s in np.atleast_1d(np.asarray(spacing, dtype=np.float64)))
    except (TypeError, ValueError):
        raise TypeError(f"spacing must be a sequence of numbers (or a Volume), "
                        f"got {spacing!r}") from None
    if not 1 <= len(values) <= 3 or np.ndim(spacing) > 1:
        raise ValueError(f"spacing must have 1-3 entries (one per axis), got {spacing!r}")
    if any(not math.isfinite(s) or s <= 0 for s in values):
        raise ValueError(f"spacing must be positive and finite, got {values}")
    return values


def ellipsoid_mm(radii_mm: Sequence[float], spacing: Any) -> np.ndarray:
    """A boolean ellipsoid of half axes ``radii_mm`` (millimetres) on voxels of
    ``spacing``: the elements whose centres lie inside or on its surface.

    Parameters
    ----------
    radii_mm : float or sequence of float
        Half axis per array axis, in the units of ``spacing`` (one value: a ball).
    spacing : sequence of float or Volume
        Voxel size per array axis (a :class:`~medkern.Volume`'s ``spacing``, or the
        Volume itself); its length sets the rank (1-3).

    Returns
    -------
    ndarray of bool
        Odd size ``2 * floor(r_k / s_k) + 1`` along axis k, centred: element ``i`` (an
        offset from the centre) is True where ``sum_k (i_k s_k / r_k) ** 2 <= 1`` (up to
        a relative :data:`SURFACE_SLACK` for rounding; a zero radius keeps only the
        centre plane along its axis).

    Examples
    --------
    >>> import medkern.morphology as mm
    >>> mm.ellipsoid_mm((2.0, 1.0), spacing=(1.0, 0.5)).astype(int)
    array([[0, 0, 1, 0, 0],
           [0, 1, 1, 1, 0],
           [1, 1, 1, 1, 1],
           [0, 1, 1, 1, 0],
           [0, 0, 1, 0, 0]])
    """
    sp = _spacing(spacing)
    radii = checks.per_axis(radii_mm, len(sp), "radii_mm")
    try:
        radii = [float(r) for r in radii]
    except (TypeError, ValueError):
        raise TypeError(f"radii_mm must hold numbers, got {radii_mm!r}") from None
    if any(not math.isfinite(r) or r < 0 for r in radii):
        raise ValueError(f"radii_mm must be non-negative and finite, got {radii}")
    # half sizes: the largest offset whose centre is within the radius (slack for rounding)
    half = [int(math.floor(r / s * (1 + SURFACE_SLACK))) for r, s in zip(radii, sp)]
    grids = np.ogrid[tuple(slice(-h, h + 1) for h in half)]
    total = np.zeros([2 * h + 1 for h in half], dtype=np.float64)
    for g, r, s in zip(grids, radii, sp):
        if r > 0:
            total = total + (g * s / r) ** 2
    return total <= 1.0 + SURFACE_SLACK


def ball_mm(radius_mm: float, spacing: Any) -> np.ndarray:
    """A boolean ball of radius ``radius_mm`` (millimetres) on voxels of ``spacing``:
    :func:`ellipsoid_mm` with equal half axes. On unit spacing with an integer radius it
    equals ``ball(radius)`` (3-D) / ``disk(radius)`` (2-D) as bool.

    Examples
    --------
    >>> import medkern.morphology as mm
    >>> b = mm.ball_mm(3.0, spacing=(3.0, 1.0, 1.0))  # thick slices: 3 planes
    >>> b.shape
    (3, 7, 7)
    >>> int(b[1].sum()), int(b[0].sum())
    (29, 1)
    """
    r = checks.real(radius_mm, "radius_mm")
    if r < 0:
        raise ValueError(f"radius_mm must be non-negative, got {r}")
    sp = _spacing(spacing)
    return ellipsoid_mm((r,) * len(sp), sp)
