"""Lossless ``.npz`` storage of a :class:`~medkern.Volume` (array + geometry + ids)."""
from __future__ import annotations

import os
import zipfile

import numpy as np

from ..volume import Volume

_FORMAT = "medkern-volume-2"
#: Version 1 stored ``direction`` with its columns in (x, y, z) voxel order (column, row,
#: slice); version 2 in the array's axis order. Both read.
_FORMATS = ("medkern-volume-1", _FORMAT)


def save(volume: Volume, path: str | os.PathLike) -> None:
    """Write ``volume`` to ``path`` (``.npz``): array (as numpy), spacing, origin, direction,
    series UID, the UID it was derived from and modality. The pydicom metadata is not stored."""
    if not isinstance(volume, Volume):
        raise TypeError(f"volume must be a medkern.Volume, got {type(volume).__name__}")
    np.savez(path, format=np.array(_FORMAT), array=np.asarray(volume.array),
             spacing=np.array(volume.spacing), origin=np.array(volume.origin),
             direction=volume.direction, series_uid=np.array(volume.series_uid or ""),
             derived_from=np.array(volume.derived_from or ""),
             modality=np.array(volume.modality or ""))


def is_npz_volume(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a zip file holding a medkern volume (looks at the archive only)."""
    try:
        with zipfile.ZipFile(path) as z:
            return "format.npy" in z.namelist() and "array.npy" in z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def load(path: str | os.PathLike) -> Volume:
    """Read a Volume written by :func:`save` / ``Volume.save``."""
    where = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if "format" not in z or str(z["format"]) not in _FORMATS:
                raise ValueError(f"{where}: not a medkern volume file")
            direction = np.asarray(z["direction"], dtype=np.float64)
            if str(z["format"]) == "medkern-volume-1":
                direction = direction[:, ::-1]
            derived = str(z["derived_from"]) if "derived_from" in z else ""
            return Volume(array=z["array"], spacing=tuple(z["spacing"]), origin=tuple(z["origin"]),
                          direction=direction, series_uid=str(z["series_uid"]) or None,
                          modality=str(z["modality"]) or None, derived_from=derived or None)
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{where}: cannot read a medkern volume ({exc})") from exc

