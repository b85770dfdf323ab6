"""Connected-component labelling with the results of ``scipy.ndimage.label``.

:func:`label` runs in parallel on the device: label equivalence with pointer jumping
(:mod:`medkern.kernels.label`), iterated by the propagation driver
(:mod:`medkern.kernels.propagate`: the change flag is read back once every few sweeps),
then the components' roots are numbered in raster order by a prefix sum
(:func:`medkern.kernels.scan.relabel`). The numbering is SciPy's: a component's root is
its first element in raster (C) order, so components are numbered in the order of their
first appearance. Labels are identical to SciPy's, on every run and every arch.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
import scipy.ndimage as ndi

from ... import arrays, checks
from ...kernels import label as klabel
from ...kernels import propagate, scan
from ...registry import Algorithm, register
from ...typing import ArrayInput, OutputArg
from ..job import Job

__all__ = ["label", "generate_binary_structure"]

#: Sweeps between two reads of the change flag (None: per arch, see
#: :func:`medkern.kernels.propagate.default_every`).
SWEEPS_PER_READBACK: int | None = None
#: Kernel layout (None: the arch's, :func:`medkern.kernels.label.rows_layout`); tests set
#: False to run the GPUs' one-thread-per-element kernels on the CPU arch.
_ROWS: bool | None = None


def generate_binary_structure(rank: int, connectivity: int) -> np.ndarray:
    """A ``3 x ... x 3`` bool structure: the elements at most ``connectivity`` unit steps
    (squared Euclidean distance) from the centre (``scipy.ndimage.generate_binary_structure``:
    ``connectivity`` below 1 counts as 1; a rank below 1 gives ``array(True)``).

    Examples
    --------
    >>> import medkern.segmentation as ms
    >>> ms.generate_binary_structure(2, 1).astype(int)
    array([[0, 1, 0],
           [1, 1, 1],
           [0, 1, 0]])
    >>> int(ms.generate_binary_structure(3, 3).sum())
    27
    """
    rank = checks.integer(rank, "rank")
    connectivity = max(checks.integer(connectivity, "connectivity"), 1)
    if rank < 1:
        return np.array(True)
    steps = np.abs(np.indices((3,) * rank) - 1).sum(axis=0)  # offsets are -1/0/1: |d| = d^2
    return steps <= connectivity


def _structure(structure: Any, ndim: int) -> np.ndarray:
    """SciPy's checks of ``structure``, as ``ValueError`` naming it."""
    if structure is None:
        return generate_binary_structure(ndim, 1)
    try:
        s = np.asarray(structure, dtype=bool)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"structure must be an array of 0/1 values: {exc}") from None
    if s.ndim != ndim:
        raise ValueError(f"structure must have the input's rank {ndim}, got ndim={s.ndim}")
    if any(n != 3 for n in s.shape):
        raise ValueError(f"structure must have size 3 along every axis, got shape {s.shape}")
    if not np.array_equal(s, s[(slice(None, None, -1),) * ndim]):
        raise ValueError("structure must be centrosymmetric (equal to itself flipped along "
                         "every axis), as SciPy requires")
    return s


def _offsets3(s: np.ndarray) -> tuple:
    """The structure's neighbour offsets (centre left out) as sorted 3-D tuples."""
    pad = 3 - s.ndim
    rows = np.argwhere(s) - 1
    return tuple(sorted(tuple([0] * pad + [int(v) for v in r]) for r in rows if r.any()))


def _exact_limit(dtype: np.dtype) -> int:
    """Largest label a dtype holds exactly."""
    if dtype.kind in "iu":
        return int(np.iinfo(dtype).max)
    return 2 ** (np.finfo(dtype).nmant + 1)


@functools.lru_cache(maxsize=None)
def _unread() -> Any:
    """A 1-element int32 3-D buffer standing for the image a sweep does not read."""
    return arrays.upload(np.zeros((1, 1, 1), np.int32))


def components(src: Any, in_dtype: np.dtype, shape: tuple, offsets: tuple,
               launch: Any, *, by_value: bool = False) -> Any:
    """The connected components of ``src``'s nonzero elements, unnumbered: a leased flat
    int32 buffer (``size`` entries, C order) holding, for each foreground element, its
    component's *root* -- the flat position + 1 of the component's first element in raster
    order -- and 0 for the background. The caller releases it
    (:func:`medkern.arrays.release_buffer`).

    The building block of everything that asks "which component is this element in":
    ``label`` numbers the roots (:func:`medkern.kernels.scan.relabel`); region growing,
    hysteresis and border clearing mark the roots of chosen elements and gather the marks.
    ``src`` is a 3-D kernel buffer of ``in_dtype`` of the (1-3 D) ``shape``; ``offsets``
    the structure's 3-D neighbour offsets (:func:`_offsets3`); ``launch`` runs a kernel
    (``Job.launch``). ``by_value``: only neighbours of equal value connect
    (``skimage.measure.label``'s components, used by ``clear_border``)."""
    n0, n1, n2 = arrays.shape3(shape)
    size = n0 * n1 * n2
    lab = arrays.empty_buffer((size,), np.dtype(np.int32))
    try:
        rows = klabel.rows_layout() if _ROWS is None else _ROWS
        launch(klabel.init(in_dtype, (0, 0, -1) in offsets, rows, by_value), src, lab,
               in_dtype.type(0))
        kern = klabel.sweep(offsets, rows, in_dtype if by_value else None)
        image = src if by_value else _unread()
        # a component of geodesic diameter d settles within d + 1 sweeps, and d < size
        propagate.run(lambda flag, stamp: launch(kern, image, lab, n0, n1, n2, flag, stamp),
                      max_sweeps=size + 1, every=SWEEPS_PER_READBACK, name="label")
    except BaseException:
        arrays.release_buffer(lab)
        raise
    return lab


def label(input: ArrayInput, structure: Any = None, output: OutputArg = None) -> Any:
    """Label the connected components (features) of the nonzero elements.

    Parameters
    ----------
    input : array_like, DeviceArray or Volume
        1-3 D, any real dtype or bool: nonzero elements (NaN included) are features,
        zeros the background.
    structure : array_like, optional
        Which neighbours connect: a centrosymmetric ``3 x ... x 3`` array of the input's
        rank (its centre is ignored). Default: ``generate_binary_structure(ndim, 1)``
        (faces only); ``np.ones((3,) * ndim)`` connects diagonals too.
    output : dtype or array, optional
        The labels' dtype (default int32), or an array (numpy, or DeviceArray for device
        input) of the input's shape to write them into -- then only the count is returned.

    Returns
    -------
    labels : ndarray, DeviceArray or Volume
        Each component numbered ``1 .. num_features`` in the order its first element
        appears in raster (C) order; 0 for the background. The input's kind (a Volume
        keeps its geometry). Not returned when ``output`` is an array.
    num_features : int
        The number of components.

    Raises
    ------
    ValueError
        ``structure`` of another rank, not of size 3, or not centrosymmetric.
    RuntimeError
        ``output``'s dtype cannot hold ``num_features`` exactly (SciPy's "insufficient
        bit-depth"); nothing is written then.

    Notes
    -----
    Reference: ``scipy.ndimage.label``; labels equal SciPy's element for element. SciPy
    raises ``RuntimeError`` for a structure of another rank and ``AssertionError`` for a
    non-symmetric one; medkern raises ``ValueError`` for both. With a too-small ``output``
    array SciPy writes the wrapped labels before raising; medkern writes nothing. Arrays
    have 1-3 dimensions and at most 2**31 - 1 elements, as everywhere in medkern; a numpy
    input without elements gives ``(empty array, 0)`` and a 0-d one its single label
    (1 if nonzero), as in SciPy. SciPy refuses big-endian input; medkern reads it.

    Examples
    --------
    >>> import numpy as np, medkern.segmentation as ms
    >>> a = np.array([[1, 1, 0, 0],
    ...               [0, 0, 0, 1],
    ...               [1, 0, 1, 1]])
    >>> labels, n = ms.label(a)
    >>> labels
    array([[1, 1, 0, 0],
           [0, 0, 0, 2],
           [3, 0, 2, 2]], dtype=int32)
    >>> n
    3
    >>> ms.label(a, structure=np.ones((3, 3)))[1]
    3
    """
    from ...volume import Volume
    if not (isinstance(input, (arrays.DeviceArray, Volume)) or arrays.is_dlpack_producer(input)):
        try:
            x = np.asarray(input)
        except Exception as exc:  # noqa: BLE001 - whatever numpy refuses
            raise TypeError(f"input must be an array, got {type(input).__name__}: {exc}") \
                from None
        if x.dtype.kind == "c":
            raise TypeError("input has complex dtype; label needs real values")
        if x.dtype.kind not in "biuf":
            raise TypeError(f"input must hold numbers, got dtype {x.dtype}")
        input = x
        if x.ndim == 0 or x.size == 0:
            return _label_trivial(x, structure, output)
    job = Job(input, output, dtype=np.int32, bools=True)
    offsets = _offsets3(_structure(structure, job.ndim))
    lab = components(job.src, job.in_dtype, job.shape, offsets, job.launch)
    try:
        out = job.buffer()
        count = scan.relabel(lab, out, roots=True)
    finally:
        arrays.release_buffer(lab)
    final = np.dtype(job.cast) if job.cast else job.out_dtype
    if count > _exact_limit(final):
        job.discard(out)
        raise RuntimeError(f"insufficient bit-depth in requested output type: output dtype "
                           f"{final} cannot hold {count} labels")
    labels, n = job.finish_with(out, count)
    return n if job.target is not None else (labels, n)


def _label_trivial(x: np.ndarray, structure: Any, output: OutputArg) -> Any:
    """SciPy's labels of a 0-d array (1 if its value is nonzero, one feature) or of an
    empty one (no feature): nothing to connect, answered on the host with the checks and
    ``output=`` rules of every input."""
    if x.ndim > 3:
        checks.array(x)  # the rank error of every input
    _structure(structure, x.ndim)
    dtype, target, cast = checks.output(output, x.shape, np.dtype(np.int32), False)
    if target is not None and not isinstance(target, np.ndarray):
        raise TypeError("output must be a numpy array (or a dtype) for numpy input")
    labels = np.asarray(x != 0).astype(dtype)  # empty: no element, no feature
    count = int(labels.sum() > 0)
    if target is not None:
        target[...] = labels
        return count
    return (labels if cast is None else labels.astype(cast)), count


# --------------------------------------------------------------------------- registry
#: Foreground fractions of the parity masks, picked by the case's seed (its index).
DENSITIES = (0.1, 0.5, 0.9)


def _mask_input(shape: tuple, dtype: Any, seed: int) -> np.ndarray:
    from ...sample_data import binary_mask
    return binary_mask(shape, DENSITIES[seed % len(DENSITIES)], seed=seed, dtype=dtype)


def _label_error(ours: Any, ref: Any) -> float:
    """0 when ``(labels, count)`` results -- or any of their parts -- are identical (labels'
    values and dtype, counts), else inf."""
    if isinstance(ref, tuple):
        if not isinstance(ours, tuple) or len(ours) != len(ref):
            return float("inf")
        return max((_label_error(o, r) for o, r in zip(ours, ref)), default=0.0)
    a = arrays.asnumpy(ours) if isinstance(ours, arrays.DeviceArray) else np.asarray(ours)
    b = np.asarray(ref)
    same = a.shape == b.shape and np.array_equal(a, b) and (a.ndim == 0 or a.dtype == b.dtype)
    return 0.0 if same else float("inf")


def foreground(x: np.ndarray, density: float = 0.3) -> np.ndarray:
    """The benchmark mask of an image: its elements above the ``1 - density`` quantile
    (the CT volume: density 0.3 with anatomical structure along every axis)."""
    return np.asarray(x) > np.quantile(x, 1.0 - density)


_FULL = {"_2d": np.ones((3, 3), bool), "_3d": np.ones((3, 3, 3), bool)}
register(Algorithm(
    name="label", area="segmentation", func=label, reference=ndi.label,
    reference_name="scipy.ndimage.label", bench_kwargs={},
    cases=({}, {"structure": _FULL}, {}, {"structure": _FULL}, {"output": np.uint16}),
    dtypes=("bool", "uint8", "float32"),
    make_input=_mask_input, compare_result=_label_error, prepare=foreground))
