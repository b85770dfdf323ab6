"""Inputs for tests, benchmarks and ``medkern compare``: real CT data and generated volumes.

Nothing here downloads anything: the CT slice is pydicom's bundled
``CT_small.dcm``; the rest is generated.
"""
from __future__ import annotations

import functools

import numpy as np

#: Value ranges used when generating data of each dtype (CT-like for 16-bit types).
RANGES = {
    "uint8": (0, 255), "int8": (-128, 127), "uint16": (0, 4095), "int16": (-1024, 3071),
    "uint32": (0, 65535), "int32": (-1024, 3071), "uint64": (0, 65535), "int64": (-1024, 3071),
    "float32": (-1024.0, 3071.0), "float64": (-1024.0, 3071.0),
}


def _to_dtype(unit: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Map values in [0, 1] onto the dtype's range."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        # the real part as the float dtype; the imaginary part a mirrored copy, so the
        # two parts differ everywhere but share the range
        part = np.dtype(f"float{dtype.itemsize * 4}")
        return (_to_dtype(unit, part) + 1j * _to_dtype(unit[::-1, ...], part)).astype(dtype)
    lo, hi = RANGES[dtype.name]
    vals = lo + unit * (hi - lo)
    if dtype.kind in "iu":
        return np.rint(vals).astype(dtype)
    return vals.astype(dtype)


def random_image(shape: tuple[int, ...], dtype=np.float32, seed: int = 0) -> np.ndarray:
    """Noise plus a smooth structure, scaled to the dtype's range (parity-test input)."""
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(0, 1, n) for n in shape], indexing="ij")
    smooth = 0.5 + 0.25 * np.sin(6.0 * sum(g * (k + 1) for k, g in enumerate(grids)))
    unit = np.clip(0.6 * smooth + 0.4 * rng.random(shape), 0.0, 1.0)
    return _to_dtype(unit, dtype)


def phantom(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """A Shepp-Logan-like phantom of nested ellipses (2-D) or ellipsoids (3-D)."""
    grids = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    # (value, centre, semi-axes) in the last two axes; a third axis, if any, is scaled like y
    ellipses = [(1.0, (0.0, 0.0), (0.92, 0.69)), (-0.8, (-0.018, 0.0), (0.87, 0.66)),
                (-0.2, (0.0, 0.22), (0.41, 0.11)), (-0.2, (0.0, -0.22), (0.31, 0.16)),
                (0.1, (0.35, 0.0), (0.25, 0.21)), (0.1, (0.1, 0.0), (0.046, 0.046)),
                (0.1, (-0.605, -0.08), (0.046, 0.023)), (0.1, (-0.605, 0.06), (0.023, 0.046))]
    img = np.zeros(shape, dtype=np.float64)
    y, x = grids[-2], grids[-1]
    z = grids[0] if len(shape) == 3 else 0.0
    for value, (cy, cx), (ry, rx) in ellipses:
        r = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 + (z / max(ry, 0.5)) ** 2
        img[r <= 1.0] += value
    unit = (img - img.min()) / max(img.max() - img.min(), 1e-12)
    return _to_dtype(unit, dtype)


@functools.lru_cache(maxsize=1)
def _ct_slice() -> np.ndarray:
    import pydicom
    from pydicom.data import get_testdata_file
    ds = pydicom.dcmread(str(get_testdata_file("CT_small.dcm")))
    hu = ds.pixel_array.astype(np.float64) * float(getattr(ds, "RescaleSlope", 1)) \
        + float(getattr(ds, "RescaleIntercept", 0))
    return hu


def ct_volume(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """pydicom's CT_small.dcm (128x128, in HU) tiled in-plane and stacked to ``shape``.

    Tiles are mirrored so there are no seams; along z each slice is the CT
    slice shifted by a few pixels so the volume is not constant in z. Integer
    dtypes get the HU values clipped to their range.
    """
    hu = _ct_slice()
    h, w = shape[-2], shape[-1]
    tile = np.block([[hu, hu[:, ::-1]], [hu[::-1, :], hu[::-1, ::-1]]])
    reps = (-(-h // tile.shape[0]), -(-w // tile.shape[1]))
    plane = np.tile(tile, reps)
    if len(shape) == 2:
        vol = plane[:h, :w]
    else:
        vol = np.stack([np.roll(plane, (k % 16, (3 * k) % 16), axis=(0, 1))[:h, :w]
                        for k in range(shape[0])])
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        vol = np.clip(np.rint(vol), info.min, info.max)
    return np.ascontiguousarray(vol.astype(dtype))


def label_image(shape: tuple[int, ...], labels: int = 8, seed: int = 0, kind: str = "blobs",
                background: float = 0.25, values=None, dtype=np.int32) -> np.ndarray:
    """A label image (per-label measurement input): regions, sparse objects or noise.

    Parameters
    ----------
    shape : tuple of int
    labels : int
        Number of distinct labels besides the background (0).
    seed : int
    kind : {"blobs", "sparse", "noise"}
        ``"blobs"``: the image tiled by irregular regions (a warped grid of about
        ``labels`` cells, labels shuffled), a ``background`` fraction left 0 (region
        images, the common case); ``"sparse"``: the same with 90 % background;
        ``"noise"``: every element drawn independently (runs of one element: the
        worst case for per-run accumulation).
    background : float
        Fraction of elements labelled 0 (approximate for ``"blobs"``).
    values : sequence of int, optional
        The label values to use instead of ``1 .. labels`` (negative, huge...).
    dtype : dtype
        Of the result (values must fit).

    Returns
    -------
    ndarray of ``dtype``
        0 for the background, else one of the values.
    """
    rng = np.random.default_rng(seed)
    vals = np.arange(1, labels + 1) if values is None else np.array(values, dtype=dtype)
    n = len(vals)
    if kind == "noise":
        idx = rng.integers(0, n, size=shape)
        out = np.asarray(vals)[idx]
        out[rng.random(shape) < background] = 0
        return out.astype(dtype)
    if kind not in ("blobs", "sparse"):
        raise ValueError(f"kind must be 'blobs', 'sparse' or 'noise', got {kind!r}")
    bg = 0.9 if kind == "sparse" else background
    ndim = len(shape)
    per_axis = max(1, int(np.ceil(n ** (1.0 / ndim))))
    cells = np.zeros(shape, dtype=np.int64)
    warp = np.zeros(shape)
    grids = [np.linspace(0.0, 1.0, s).reshape([-1 if d == k else 1 for d in range(ndim)])
             for k, s in enumerate(shape)]
    phases = rng.random((ndim, ndim)) * 2 * np.pi
    for k in range(ndim):
        # each axis' coordinate bent by a smooth function of the others: irregular cells
        bent = grids[k] + sum(0.35 / per_axis * np.sin(2 * np.pi * grids[d] + phases[k, d])
                              for d in range(ndim) if d != k)
        cells = cells * per_axis + np.clip((bent * per_axis).astype(np.int64), 0, per_axis - 1)
        warp = warp + np.sin(3 * np.pi * grids[k] + phases[k, k])
    order = rng.permutation(max(per_axis ** ndim, n)) % n
    out = np.asarray(vals)[order[cells]]
    if bg > 0:
        field = warp + 0.5 * rng.standard_normal(shape)
        out[field < np.quantile(field, bg)] = 0
    return out.astype(dtype)


def binary_mask(shape: tuple[int, ...], density: float = 0.5, seed: int = 0,
                dtype=bool) -> np.ndarray:
    """A foreground mask of about ``density`` nonzero elements: blobs of smoothed noise with
    ragged edges and specks (inputs of labelling, flood fill and morphology).

    Parameters
    ----------
    shape : tuple of int
    density : float
        Fraction of nonzero elements, 0 to 1.
    seed : int
    dtype : dtype
        bool gives True/False; other dtypes hold nonzero values of both signs drawn from
        the dtype's range (:data:`RANGES`) where the mask is set, so a function reading
        ``x != 0`` is tested, not ``x == 1``.
    """
    from scipy.ndimage import gaussian_filter
    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.standard_normal(shape), 1.0) + 0.15 * rng.standard_normal(shape)
    mask = field > np.quantile(field, 1.0 - density) if 0 < density < 1 else \
        np.full(shape, density >= 1)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return mask
    values = _to_dtype(rng.random(shape), dtype)
    values[values == 0] = 1  # nonzero wherever the mask is set
    return np.where(mask, values, np.zeros((), dtype)).astype(dtype)


def textured_phantom(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """The 3-D Shepp-Logan-like ellipsoids (:func:`phantom`) textured with the real CT slice
    laid along all three axes: the slice, resampled to each pair of axes, extruded along
    the third, the three averaged -- structure along every axis, unlike a slice tiled.
    2-D shapes get the slice itself on the ellipses. Values in the dtype's :data:`RANGES`."""
    hu = _ct_slice()
    unit_ct = (hu - hu.min()) / max(float(hu.max() - hu.min()), 1e-12)
    shape = tuple(int(n) for n in shape)

    def plane(rows: int, cols: int) -> np.ndarray:  # nearest resampling of the slice
        r = np.linspace(0, unit_ct.shape[0] - 1, rows).round().astype(int)
        c = np.linspace(0, unit_ct.shape[1] - 1, cols).round().astype(int)
        return unit_ct[np.ix_(r, c)]

    if len(shape) == 2:
        texture = plane(*shape)
    else:
        n0, n1, n2 = shape
        texture = (plane(n1, n2)[None, :, :] + plane(n0, n2)[:, None, :]
                   + plane(n0, n1)[:, :, None]) / 3.0
    body = phantom(shape, np.float64)
    unit = body * (0.4 + 0.6 * texture)
    unit = (unit - unit.min()) / max(float(unit.max() - unit.min()), 1e-12)
    return _to_dtype(unit, dtype)
