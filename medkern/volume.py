"""``Volume``: an image array plus where it lies in the patient.

Every medkern function accepts a :class:`Volume` wherever it accepts an array and
returns a :class:`Volume` on the same grid, with a new series identity.

The geometry model
------------------
One rule: **per-axis values follow the array's axis order; points and directions
in space are patient (x, y, z) millimetres in DICOM's LPS frame** (x to the
patient's Left, y to Posterior, z to Superior)::

    array index (i0, i1, i2)                        patient space, LPS, mm
    3-D: (slice, row, column)                         z (S)
                                                      |   y (P)
    axis 0 -- spacing[0] along direction[:, 0] ---->  |  /
    axis 1 -- spacing[1] along direction[:, 1] ---->  | /
    axis 2 -- spacing[2] along direction[:, 2] ---->  o------ x (L)
                                                     origin = centre of voxel (0, 0, 0)

    world = origin + direction @ (spacing * index)        (Volume.affine, 4 x 4)

* ``spacing[k]`` (mm) and ``direction[:, k]`` (a unit vector in LPS) belong to
  array axis ``k``; for a DICOM series axis 0 runs along the slice normal, axis 1
  down the rows (ImageOrientationPatient's column cosine), axis 2 along a row
  (its row cosine).
* ``origin`` is the LPS position of the centre of voxel (0, 0, 0).
* ``direction`` is always 3 x 3: a 2-D image is one slice of a 3-D grid (its
  columns 1, 2 belong to the array's axes 0, 1 and column 0 is the plane's
  normal, spacing 1 mm); a 4-D array carries a leading component axis (channels,
  time points) before its three spatial axes.
* :attr:`Volume.affine` maps (i0, i1, i2, 1) to LPS; :attr:`Volume.affine_ras`
  to RAS (x and y negated), as NIfTI and nibabel use.
* :meth:`Volume.orientation` names, for the column, row and slice axes in that
  order (x, y, z voxel order, the reverse of the array's), the patient direction
  each one points to — the way DICOM, ITK (``DICOMOrient``) and nibabel
  (``aff2axcodes`` of the NIfTI file written from the volume) spell it: an
  axial CT read from DICOM is ``"LPS"``, a canonical NIfTI ``"RAS"``.

Filters keep SciPy's convention: their sizes and sigmas are in voxels, per array
axis. SimpleITK's Gaussian family (``SmoothingRecursiveGaussian``,
``DiscreteGaussian``, ``GradientMagnitudeRecursiveGaussian``,
``LaplacianRecursiveGaussian``) takes sigma in millimetres;
:meth:`Volume.voxels` converts (``gaussian_filter(vol, vol.voxels(2.0))``).
"""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import numpy as np
import numpy.typing as npt

#: Patient axis letters of the LPS frame: (+, -) per x, y, z.
_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))
#: LPS <-> RAS on homogeneous points (x and y negated; its own inverse).
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
_SPACES = ("LPS", "RAS")
#: The default direction: an axial stack as DICOM gives it (slices along +z = S, rows along
#: +y = P, columns along +x = L): orientation "LPS".
AXIAL = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def new_uid() -> str:
    """A new DICOM UID (the UUID-derived ``2.25.`` form, PS3.5 B.2): unique without a registry."""
    return "2.25." + str(uuid.uuid4().int)


def _space(space: str) -> str:
    if not isinstance(space, str) or space.upper() not in _SPACES:
        raise ValueError(f"space must be 'LPS' or 'RAS', got {space!r}")
    return space.upper()


def _check_direction(direction: Any) -> np.ndarray:
    try:
        d = np.array(direction, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"direction must be a 3 x 3 matrix of numbers, got {direction!r}") from None
    if d.size != 9:
        raise ValueError(f"direction must be a 3 x 3 matrix, got shape {d.shape}")
    d = d.reshape(3, 3)
    if not np.all(np.isfinite(d)):
        raise ValueError(f"direction must be finite, got\n{d}")
    norms = np.linalg.norm(d, axis=0)
    if np.any(np.abs(norms - 1.0) > 1e-3):
        raise ValueError(f"direction's columns must be unit vectors (lengths {np.round(norms, 6)}); "
                         "use Volume.from_affine for a matrix that includes the spacing")
    if abs(np.linalg.det(d)) < 1e-6:
        raise ValueError(f"direction is singular (its columns are not independent):\n{d}")
    return d


@dataclasses.dataclass(eq=False)
class Volume:
    """An array with its patient geometry (see the module docstring for the model).

    Attributes
    ----------
    array : ndarray or DeviceArray
        Voxel values: (z, y, x) = (slice, row, column), (y, x) for one slice, or
        (c, z, y, x) with a leading component axis.
    spacing : tuple of float
        Voxel size in mm per spatial array axis, in the array's axis order (default 1 mm).
    origin : tuple of float
        LPS position (x, y, z, mm) of the centre of voxel (0, 0, 0).
    direction : ndarray, shape (3, 3)
        Column ``k`` is the LPS unit vector array axis ``k`` advances along (2-D:
        columns 1, 2 for the array's axes, column 0 the normal). Default
        :data:`AXIAL`, an axial stack (orientation ``"LPS"``).
    series_uid, modality : str, optional
        DICOM identity. A derived volume (a filter's result) gets a new
        ``series_uid``; ``derived_from`` keeps the source's.
    meta : Any, optional
        The first slice's pydicom ``Dataset`` (or a dict, or a NIfTI header).
    derived_from : str, optional
        ``series_uid`` of the volume this one was computed from.
    """

    array: Any
    spacing: tuple[float, ...] = ()  # () -> 1 mm per spatial axis
    origin: tuple[float, ...] = (0.0, 0.0, 0.0)
    direction: Any = dataclasses.field(default_factory=lambda: AXIAL.copy())
    series_uid: str | None = None
    modality: str | None = None
    meta: Any = None
    derived_from: str | None = None

    def __post_init__(self) -> None:
        nsp = self.spatial_ndim
        if self.spacing is None or (isinstance(self.spacing, tuple) and not self.spacing):
            self.spacing = (1.0,) * nsp
        try:
            self.spacing = tuple(float(s) for s in self.spacing)
        except (TypeError, ValueError):
            raise TypeError(f"spacing must be a sequence of numbers, got {self.spacing!r}") from None
        if len(self.spacing) != nsp:
            raise ValueError(f"spacing has {len(self.spacing)} entries for {nsp} spatial axes "
                             f"(array shape {self.shape})")
        if any(not np.isfinite(s) or s <= 0 for s in self.spacing):
            raise ValueError(f"spacing must be positive and finite, got {self.spacing}")
        try:
            self.origin = tuple(float(v) for v in self.origin)
        except (TypeError, ValueError):
            raise TypeError(f"origin must be 3 numbers, got {self.origin!r}") from None
        if len(self.origin) != 3 or not all(np.isfinite(self.origin)):
            raise ValueError(f"origin must be 3 finite LPS coordinates (x, y, z), got {self.origin}")
        self.direction = _check_direction(self.direction)

    # ---------------------------------------------------------------- array view
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def ndim(self) -> int:
        return len(self.array.shape)

    @property
    def spatial_ndim(self) -> int:
        """Number of spatial axes: ``ndim``, or 3 for a 4-D array (leading component axis)."""
        n = len(self.array.shape)
        if not 1 <= n <= 4:
            raise ValueError(f"a Volume's array is 1-D to 4-D, got shape {tuple(self.array.shape)}")
        return 3 if n == 4 else n

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        return self.shape[-self.spatial_ndim:]

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.array.dtype)

    # ---------------------------------------------------------------- geometry
    def _spacing3(self) -> np.ndarray:
        return np.array((1.0,) * (3 - self.spatial_ndim) + self.spacing)

    @property
    def affine(self) -> np.ndarray:
        """4 x 4 matrix mapping (i0, i1, i2, 1) — array indices, padded in front to three
        spatial axes for 1-D/2-D — to LPS millimetres (a new array each time)."""
        a = np.eye(4)
        a[:3, :3] = self.direction * self._spacing3()
        a[:3, 3] = self.origin
        return a

    @property
    def affine_ras(self) -> np.ndarray:
        """:attr:`affine` in RAS (x and y negated), NIfTI's and nibabel's frame."""
        return LPS_TO_RAS @ self.affine

    def index_to_world(self, index: npt.ArrayLike, space: str = "LPS") -> np.ndarray:
        """Patient coordinates (mm) of array indices.

        Parameters
        ----------
        index : array_like, shape (..., spatial_ndim)
            Array indices (fractional allowed), in the array's axis order.
        space : {"LPS", "RAS"}

        Returns
        -------
        ndarray, shape (..., 3)
            (x, y, z) in ``space``.
        """
        idx = self._points(index, self.spatial_ndim, "index")
        full = np.concatenate([np.zeros(idx.shape[:-1] + (3 - idx.shape[-1],)), idx], axis=-1)
        world = full @ (self.direction * self._spacing3()).T + np.asarray(self.origin)
        if _space(space) == "RAS":
            world = world * np.array([-1.0, -1.0, 1.0])
        return world

    def world_to_index(self, points: npt.ArrayLike, space: str = "LPS") -> np.ndarray:
        """Fractional array indices of patient points (the inverse of :meth:`index_to_world`).

        For a 1-D/2-D volume the offset along the padded axes (off the image's plane)
        is dropped.
        """
        p = self._points(points, 3, "points")
        if _space(space) == "RAS":
            p = p * np.array([-1.0, -1.0, 1.0])
        m = self.direction * self._spacing3()
        idx = np.linalg.solve(m, (p - np.asarray(self.origin)).reshape(-1, 3).T).T
        return idx.reshape(p.shape)[..., 3 - self.spatial_ndim:]

    @staticmethod
    def _points(values: npt.ArrayLike, n: int, name: str) -> np.ndarray:
        try:
            p = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be numbers, got {values!r}") from None
        if p.ndim == 0 or p.shape[-1] != n:
            raise ValueError(f"{name} must have shape (..., {n}), got {p.shape}")
        return p

    def orientation(self) -> str:
        """Patient direction of the column, row and slice axes, e.g. ``"LPS"`` or ``"RAS"``.

        Letters are in (x, y, z) voxel order — the reverse of the array's axis order —
        as DICOM, ITK and nibabel name them; each is the patient axis end a voxel axis
        points to (the nearest one for an oblique axis). A 2-D volume gets two letters
        (column, row), a 1-D one one.
        """
        return "".join(_axis_letter(self.direction[:, k]) for k in (2, 1, 0))[: self.spatial_ndim]

    def voxels(self, mm: float | npt.ArrayLike) -> tuple[float, ...]:
        """Millimetres to voxels per spatial axis: ``mm / spacing`` (for sigmas given in mm,
        as SimpleITK's Gaussian filters take them)."""
        v = np.broadcast_to(np.asarray(mm, dtype=np.float64), (self.spatial_ndim,))
        return tuple(float(x) for x in v / np.array(self.spacing))

    @classmethod
    def from_affine(cls, array: Any, affine: npt.ArrayLike, space: str = "LPS",
                    **kwargs: Any) -> "Volume":
        """A Volume from an index-to-patient affine (the inverse of :attr:`affine`).

        ``affine`` maps (i0, i1, i2, 1) of ``array``'s spatial axes (in array order) to
        ``space`` millimetres. Spacing is the length of each of its first three
        columns, direction the columns normalised. Raises ``ValueError`` for a
        non-finite or singular affine.
        """
        a = np.asarray(affine, dtype=np.float64)
        if a.shape != (4, 4):
            raise ValueError(f"affine must be 4 x 4, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"affine must be finite, got\n{a}")
        if _space(space) == "RAS":
            a = LPS_TO_RAS @ a
        m = a[:3, :3]
        zooms = np.linalg.norm(m, axis=0)
        if not invertible_affine(a):
            raise ValueError(f"affine is singular (voxel axes of zero length or not independent):\n"
                             f"{np.asarray(affine)}")
        nsp = 3 if len(array.shape) == 4 else len(array.shape)
        return cls(array, spacing=tuple(zooms[3 - nsp:]), origin=tuple(a[:3, 3]),
                   direction=m / zooms, **kwargs)

    # ---------------------------------------------------------------- derived volumes
    def with_array(self, array: Any, *, derived: bool = True) -> "Volume":
        """This geometry holding ``array`` (same shape).

        ``derived=True`` (a computed result) gives the new volume a new
        ``series_uid`` and records the old one in ``derived_from``;
        ``derived=False`` keeps the identity (the same data in another container).
        """
        if tuple(array.shape) != self.shape:
            raise ValueError(f"array shape {tuple(array.shape)} differs from the volume's {self.shape}")
        if not derived:
            return dataclasses.replace(self, array=array)
        return dataclasses.replace(self, array=array, series_uid=new_uid(),
                                   derived_from=self.series_uid)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = np.asarray(self.array)
        return out if dtype is None else out.astype(dtype, copy=False)

    def save(self, path: str) -> None:
        """Write array and geometry losslessly to ``path`` (``.npz``); read with
        ``medkern.io.read`` (or ``medkern.io.load``)."""
        from .io.npz import save
        save(self, path)

    def __repr__(self) -> str:
        return (f"Volume(shape={self.shape}, dtype={self.dtype.name}, spacing={self.spacing}, "
                f"origin={self.origin}, orientation={self.orientation()!r}, "
                f"modality={self.modality!r}, series_uid={self.series_uid!r})")


def invertible_affine(a: np.ndarray) -> bool:
    """Whether a 4 x 4 affine places voxels in space: finite, no voxel axis of (near) zero
    length, and its axes independent (the determinant of the normalised axes)."""
    a = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        return False
    m = a[:3, :3]
    zooms = np.linalg.norm(m, axis=0)
    if np.any(zooms < 1e-12):
        return False
    return bool(abs(np.linalg.det(m / zooms)) >= 1e-6)


def _nearest_axis(v: np.ndarray) -> tuple[int, int]:
    """(patient axis 0-2, sign) the direction ``v`` is nearest to."""
    k = int(np.argmax(np.abs(v)))
    return k, 1 if v[k] > 0 else -1


def _axis_letter(v: np.ndarray) -> str:
    k, sign = _nearest_axis(v)
    return _LETTERS[k][0 if sign > 0 else 1]


def _parse_code(code: Any, n: int) -> list[tuple[int, int]]:
    """(patient axis, sign) per voxel axis in x, y, z voxel order, from a code like "RAS"."""
    if not isinstance(code, str):
        raise TypeError(f"orientation must be a string such as 'LPS' or 'RAS', got {code!r}")
    code = code.upper()
    if len(code) != n:
        raise ValueError(f"orientation {code!r} must have {n} letters for a volume with {n} "
                         "spatial axes")
    out = []
    for ch in code:
        for axis, (plus, minus) in enumerate(_LETTERS):
            if ch in (plus, minus):
                out.append((axis, 1 if ch == plus else -1))
                break
        else:
            raise ValueError(f"orientation {code!r}: {ch!r} is not one of L, R, P, A, S, I")
    if len({a for a, _ in out}) != n:
        raise ValueError(f"orientation {code!r} names a patient axis twice")
    return out


def reorient(volume: Volume, orientation: str = "RAS") -> Volume:
    """The same image with its axes permuted and flipped to point as ``orientation`` says.

    Lossless (a transpose and flips of the array, no resampling); spacing, origin
    and direction are updated so every voxel keeps its patient position. For an
    oblique volume each axis goes to the patient axis it is nearest to. The array
    is a numpy view (or a new DeviceArray); the series identity is kept (the data
    are the same).

    Parameters
    ----------
    volume : Volume
    orientation : str
        Letters for the column, row and slice axes in that order (x, y, z voxel
        order, see :meth:`Volume.orientation`), e.g. ``"RAS"`` (nibabel's canonical)
        or ``"LPS"`` (DICOM's).

    Examples
    --------
    >>> import numpy as np, medkern
    >>> v = medkern.Volume(np.zeros((2, 3, 4)), spacing=(3.0, 1.0, 0.5))
    >>> v.orientation()
    'LPS'
    >>> r = medkern.reorient(v, "RAS")
    >>> r.orientation(), r.spacing, r.origin
    ('RAS', (3.0, 1.0, 0.5), (1.5, 2.0, 0.0))
    """
    if not isinstance(volume, Volume):
        raise TypeError(f"volume must be a medkern.Volume, got {type(volume).__name__}")
    nsp = volume.spatial_ndim
    # the array axis (0..nsp-1) behind each wanted voxel axis; letters are x, y, z order
    wanted = _parse_code(orientation, nsp)[::-1]
    d = volume.direction[:, 3 - nsp:]
    current = [_nearest_axis(d[:, k]) for k in range(nsp)]
    if len({a for a, _ in current}) != nsp:
        raise ValueError(f"volume is too oblique to reorient: two axes are nearest the same patient "
                         f"axis (direction\n{volume.direction})")
    perm, flips = [], []
    for axis, sign in wanted:
        src = [k for k, (a, _) in enumerate(current) if a == axis]
        if not src:
            raise ValueError(f"orientation {orientation!r} needs patient axis "
                             f"{'xyz'[axis]}, which no array axis of this {nsp}-D volume runs along "
                             f"(it is {volume.orientation()!r})")
        perm.append(src[0])
        flips.append(current[src[0]][1] != sign)
    lead = volume.ndim - nsp
    full_perm = list(range(lead)) + [lead + p for p in perm]
    arr = volume.array
    on_device = not isinstance(arr, np.ndarray)
    host = np.asarray(arr)
    out = host.transpose(full_perm)
    index = [slice(None)] * lead + [slice(None, None, -1) if f else slice(None) for f in flips]
    out = out[tuple(index)]
    spacing = tuple(volume.spacing[p] for p in perm)
    new_dir = d[:, perm] * np.where(flips, -1.0, 1.0)
    # the new first voxel is the old voxel at the flipped ends
    corner = np.zeros(nsp)
    for j, (p, f) in enumerate(zip(perm, flips)):
        if f:
            corner[p] = volume.spatial_shape[p] - 1
    origin = volume.index_to_world(corner)
    if nsp == 2:
        normal = np.cross(new_dir[:, 1], new_dir[:, 0])  # DICOM's: row cosine x column cosine
        new_dir = np.column_stack([normal / np.linalg.norm(normal), new_dir])
    elif nsp == 1:
        new_dir = np.column_stack([volume.direction[:, :2], new_dir])
    if on_device:
        from .arrays import asarray
        out = asarray(np.ascontiguousarray(out))
    return dataclasses.replace(volume, array=out, spacing=spacing, origin=tuple(origin),
                               direction=new_dir)
