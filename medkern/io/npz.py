"""Lossless ``.npz`` storage of a :class:`~medkern.Volume` (array + geometry + ids)."""
from __future__ import annotations

import os

import numpy as np

from ..volume import Volume

_FORMAT = "medkern-volume-1"


def save(volume: Volume, path: str | os.PathLike) -> None:
    """Write ``volume`` to ``path`` (``.npz``): array (as numpy), spacing, origin, direction,
    series UID and modality. The pydicom metadata is not stored."""
    if not isinstance(volume, Volume):
        raise TypeError(f"volume must be a medkern.Volume, got {type(volume).__name__}")
    np.savez(path, format=np.array(_FORMAT), array=np.asarray(volume.array),
             spacing=np.array(volume.spacing), origin=np.array(volume.origin),
             direction=volume.direction, series_uid=np.array(volume.series_uid or ""),
             modality=np.array(volume.modality or ""))


def load(path: str | os.PathLike) -> Volume:
    """Read a Volume written by :func:`save` / ``Volume.save``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if "format" not in z or str(z["format"]) != _FORMAT:
                raise ValueError(f"{os.fspath(path)}: not a medkern volume file")
            return Volume(array=z["array"], spacing=tuple(z["spacing"]), origin=tuple(z["origin"]),
                          direction=z["direction"], series_uid=str(z["series_uid"]) or None,
                          modality=str(z["modality"]) or None)
    except (OSError, EOFError, KeyError) as exc:
        raise ValueError(f"{os.fspath(path)}: cannot read a medkern volume ({exc})") from exc
