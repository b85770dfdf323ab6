"""One reader for every format medkern knows: :func:`read` looks at the content, not the name."""
from __future__ import annotations

import gzip
import os
import zipfile
from typing import Any

from ..volume import Volume

#: Format names :func:`format_of` returns.
FORMATS = ("dicom", "nifti", "npz")


def format_of(path: str | os.PathLike) -> str:
    """``"dicom"``, ``"nifti"`` or ``"npz"`` from the file's first bytes (a directory is
    ``"dicom"``: a series). Raises ``ValueError`` naming the file for anything else."""
    where = os.fspath(path)
    if os.path.isdir(where):
        return "dicom"
    if not os.path.exists(where):
        raise FileNotFoundError(f"{where}: no such file or directory")
    with open(where, "rb") as f:
        head = f.read(544)
    if head[:2] == b"\x1f\x8b":  # gzip: look at the header inside
        try:
            with gzip.open(where, "rb") as g:
                head = g.read(544)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{where}: a gzip file that cannot be decompressed ({exc})") from exc
    if _is_nifti_header(head):
        return "nifti"
    if head[128:132] == b"DICM":
        return "dicom"
    if head[:4] == b"PK\x03\x04":
        from .npz import is_npz_volume
        if is_npz_volume(where):
            return "npz"
        raise ValueError(f"{where}: a zip archive, but not a medkern volume (.npz written by "
                         "Volume.save)")
    if _looks_like_raw_dicom(where):
        return "dicom"
    raise ValueError(f"{where}: not a format medkern reads (DICOM, NIfTI .nii/.nii.gz, or a "
                     "medkern .npz volume)")


def _is_nifti_header(head: bytes) -> bool:
    # NIfTI-1: sizeof_hdr 348 and magic "ni1\0"/"n+1\0" at byte 344; NIfTI-2: sizeof_hdr 540
    # and magic "n+2\0"/"ni2\0" at byte 4 (either byte order)
    if len(head) >= 348 and head[344:348] in (b"ni1\x00", b"n+1\x00"):
        return True
    return len(head) >= 8 and head[4:8] in (b"n+2\x00", b"ni2\x00")


def _looks_like_raw_dicom(path: str) -> bool:
    """A DICOM file without the 128-byte preamble (as old files are): let pydicom decide."""
    from .dicom import _read_header
    try:
        return _read_header(path, explicit=False) is not None
    except Exception:  # any parse failure: not DICOM
        return False


def read(path: str | os.PathLike | list[str | os.PathLike], **kwargs: Any) -> Volume:
    """Read a DICOM series (file, directory or list of files), a NIfTI file or a medkern
    ``.npz`` volume.

    The format is recognised from the content (DICOM's ``DICM`` marker, NIfTI's magic,
    gzip-compressed NIfTI, the ``.npz`` archive's members), not the file name;
    ``kwargs`` go to the reader: :func:`~medkern.io.read_dicom` (``series_uid=``,
    ``rescale=``...), :func:`~medkern.io.read_nifti`, :func:`~medkern.io.load`.
    """
    if isinstance(path, (list, tuple)):  # several files: one DICOM series
        from .dicom import read_dicom
        return read_dicom(path, **kwargs)
    fmt = format_of(path)
    if fmt == "dicom":
        from .dicom import read_dicom
        return read_dicom(path, **kwargs)
    if kwargs:
        raise TypeError(f"{os.fspath(path)}: a {fmt} file takes no options, got "
                        f"{', '.join(sorted(kwargs))}")
    if fmt == "nifti":
        from .nifti import read_nifti
        return read_nifti(path)
    from .npz import load
    return load(path)


def write(volume: Volume, path: str | os.PathLike, **kwargs: Any) -> Any:
    """Write ``volume`` in the format the name says: ``.nii``/``.nii.gz`` (NIfTI), ``.npz``
    (lossless medkern volume) or, for a name without a file suffix, a directory of DICOM
    slices (:func:`~medkern.io.write_dicom`, ``kwargs`` passed on)."""
    where = os.fspath(path)
    low = where.lower()
    if low.endswith((".nii", ".nii.gz")):
        from .nifti import write_nifti
        return write_nifti(volume, where, **kwargs)
    if low.endswith(".npz"):
        from .npz import save
        if kwargs:
            raise TypeError(f"{where}: .npz takes no options, got {', '.join(sorted(kwargs))}")
        save(volume, where)
        return where
    if os.path.splitext(where)[1] and not os.path.isdir(where):
        raise ValueError(f"path {where!r}: write NIfTI (.nii, .nii.gz), .npz, or DICOM (a "
                         "directory name)")
    from .dicom import write_dicom
    return write_dicom(volume, where, **kwargs)
