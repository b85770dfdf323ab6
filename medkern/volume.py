"""``Volume``: an image array plus the patient geometry it was acquired in.

Every medkern function accepts a :class:`Volume` wherever it accepts an
array and returns a :class:`Volume` with the same geometry (the array
replaced by the result). Axis order is (z, y, x) for 3-D and (y, x) for 2-D;
``spacing`` follows the array's axis order, ``origin`` and ``direction`` are in
patient coordinates (x, y, z) as DICOM gives them.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass(eq=False)
class Volume:
    """An array with its geometry.

    Attributes
    ----------
    array : ndarray or DeviceArray
        Voxel values, (z, y, x) or (y, x).
    spacing : tuple of float
        Voxel size in mm per array axis (same order as ``array``).
    origin : tuple of float
        Patient coordinates (x, y, z, mm) of the first voxel's centre.
    direction : ndarray, shape (3, 3)
        Direction cosines: columns are the patient-space directions of the
        array's x (column), y (row) and z (slice) axes.
    series_uid, modality : str, optional
    meta : Any, optional
        The first slice's pydicom ``Dataset`` (or a dict) for everything else.
    """

    array: Any
    spacing: tuple = (1.0, 1.0, 1.0)
    origin: tuple = (0.0, 0.0, 0.0)
    direction: Any = dataclasses.field(default_factory=lambda: np.eye(3))
    series_uid: str | None = None
    modality: str | None = None
    meta: Any = None

    def __post_init__(self) -> None:
        ndim = len(self.array.shape)
        self.spacing = tuple(float(s) for s in self.spacing)
        if len(self.spacing) != ndim:
            raise ValueError(f"spacing has {len(self.spacing)} entries for a {ndim}-D array")
        if any(not np.isfinite(s) or s <= 0 for s in self.spacing):
            raise ValueError(f"spacing must be positive and finite, got {self.spacing}")
        self.origin = tuple(float(v) for v in self.origin)
        if len(self.origin) != 3:
            raise ValueError(f"origin must have 3 coordinates, got {self.origin}")
        self.direction = np.asarray(self.direction, dtype=np.float64).reshape(3, 3)

    @property
    def shape(self) -> tuple:
        return tuple(self.array.shape)

    @property
    def ndim(self) -> int:
        return len(self.array.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.array.dtype)

    def with_array(self, array: Any) -> "Volume":
        """A Volume with this geometry and metadata holding ``array`` (same shape)."""
        if tuple(array.shape) != self.shape:
            raise ValueError(f"array shape {tuple(array.shape)} differs from the volume's {self.shape}")
        return dataclasses.replace(self, array=array)

    def __array__(self, dtype=None, copy=None):
        out = np.asarray(self.array)
        return out if dtype is None else out.astype(dtype, copy=False)

    def save(self, path: str) -> None:
        """Write array and geometry losslessly to ``path`` (``.npz``); read with ``medkern.io.load``."""
        from .io.npz import save
        save(self, path)

    def __repr__(self) -> str:
        return (f"Volume(shape={self.shape}, dtype={self.dtype.name}, spacing={self.spacing}, "
                f"origin={self.origin}, modality={self.modality!r}, series_uid={self.series_uid!r})")
