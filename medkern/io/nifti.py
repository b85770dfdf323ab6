"""NIfTI-1/2 files (``.nii``, ``.nii.gz``) <-> :class:`~medkern.Volume`, through nibabel.

nibabel reads and writes the files; this module only maps its (i, j, k) array and RAS
affine onto medkern's model (:mod:`medkern.volume`): the array is returned in
(k, j, i) = (slice, row, column) order like a DICOM series — the C-order view of
the file's Fortran-order data, so no copy — and the affine is converted from RAS to
LPS with its columns in that order. A 4-D file (i, j, k, t) becomes (t, k, j, i),
the component axis leading; a 5-D vector image (i, j, k, 1, c) becomes (c, k, j, i).
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from ..arrays import SUPPORTED_DTYPES, asnumpy
from ..volume import LPS_TO_RAS, Volume, invertible_affine

_SUFFIXES = (".nii", ".nii.gz")
_REVERSE = np.array([[0.0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]])  # (i,j,k) <-> (k,j,i)


class NiftiWarning(UserWarning):
    """A NIfTI file was read with a fallback (e.g. its qform instead of a singular sform)."""


def _nib():
    import nibabel
    return nibabel


def is_nifti_path(path: str | os.PathLike) -> bool:
    return os.fspath(path).lower().endswith(_SUFFIXES)


def _affine_of(img, where: str) -> np.ndarray:
    """The index -> RAS affine nibabel uses (sform if coded, else qform, else pixdim), checked."""
    hdr = img.header
    best = np.asarray(img.affine, dtype=np.float64)
    if invertible_affine(best):
        return best
    sform, scode = hdr.get_sform(coded=True)
    qform, qcode = hdr.get_qform(coded=True)
    if scode and qcode and qform is not None and invertible_affine(qform):
        warnings.warn(f"{where}: the sform (code {int(scode)}) is not invertible; using the qform "
                      f"(code {int(qcode)})", NiftiWarning, stacklevel=3)
        return np.asarray(qform, dtype=np.float64)
    which = (f"the sform (code {int(scode)}) is not invertible and there is "
             + ("no qform (qform_code 0)" if not qcode else "the qform is not invertible either")
             if scode else
             f"the qform (code {int(qcode)}) is not invertible" if qcode else
             "it has no sform or qform and its voxel sizes (pixdim) do not give an invertible "
             "affine")
    raise ValueError(f"{where}: cannot place the image in space: {which}:\n{best}")


def _load(nib, where: str):
    if is_nifti_path(where):
        return nib.load(where, mmap=False)
    # a name nibabel cannot place (read_nifti was told, or medkern.io.read found the magic)
    import gzip
    with open(where, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    klass = nib.Nifti2Image if raw[4:8] in (b"n+2\x00", b"ni2\x00") else nib.Nifti1Image
    return klass.from_bytes(raw)


def read_nifti(path: str | os.PathLike) -> Volume:
    """Read a NIfTI-1 or NIfTI-2 file (``.nii`` or ``.nii.gz``) into a :class:`~medkern.Volume`.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    Volume
        ``array`` in (slice, row, column) = (k, j, i) order (4-D: (t, k, j, i)), values
        with ``scl_slope``/``scl_inter`` applied as nibabel applies them (scaled
        integers become floats), geometry from the affine nibabel chooses (the sform
        when its code is set, else the qform, else the voxel sizes), ``meta`` the
        nibabel header. ``series_uid`` and ``modality`` are None (NIfTI has neither).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming the file: not a NIfTI file, more than 4 dimensions (other than a 5-D
        vector image), or no invertible affine (a singular sform and no usable qform).
    TypeError
        Naming the file: a data type medkern does not hold (complex, RGB, float16...).

    Examples
    --------
    >>> import numpy as np, nibabel as nib, medkern.io, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "a.nii.gz")
    >>> nib.save(nib.Nifti1Image(np.zeros((4, 3, 2), np.float32), np.diag([2.0, 1, 3, 1])), p)
    >>> v = medkern.io.read_nifti(p)
    >>> v.shape, v.spacing, v.orientation()
    ((2, 3, 4), (3.0, 1.0, 2.0), 'RAS')
    """
    nib = _nib()
    where = os.fspath(path)
    if not os.path.exists(where):
        raise FileNotFoundError(f"{where}: no such file")
    try:
        img = _load(nib, where)
    except Exception as exc:  # nibabel raises ImageFileError, OSError, ValueError, EOFError...
        raise ValueError(f"{where}: cannot read as NIfTI ({type(exc).__name__}: {exc})") from exc
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise ValueError(f"{where}: a {type(img).__name__}, not a NIfTI-1/2 image")
    dtype = img.get_data_dtype()
    if dtype.fields is not None or dtype.kind not in "uif" or dtype == np.float16:
        raise TypeError(f"{where}: NIfTI data type {dtype} is not supported (medkern holds "
                        f"{', '.join(str(d) for d in SUPPORTED_DTYPES)})")
    affine_ras = _affine_of(img, where)
    shape = img.shape
    if len(shape) == 5 and shape[3] == 1:
        squeeze = True
    elif len(shape) > 4:
        raise ValueError(f"{where}: {len(shape)}-D images (shape {shape}) are not supported; medkern "
                         "reads 2-D to 4-D NIfTI and 5-D vector images (i, j, k, 1, c)")
    else:
        squeeze = False
    try:
        data = np.asanyarray(img.dataobj)
    except Exception as exc:
        raise ValueError(f"{where}: cannot read the voxel data ({type(exc).__name__}: {exc})") from exc
    if squeeze:
        data = data[:, :, :, 0, :]
    if not data.dtype.isnative:  # big-endian files: medkern holds native byte order
        data = data.astype(data.dtype.newbyteorder("="))
    if data.dtype not in SUPPORTED_DTYPES:  # e.g. scaled data nibabel returns as float16/complex
        raise TypeError(f"{where}: the voxel values come out as {data.dtype}, which medkern does "
                        "not hold")
    if data.ndim <= 3:
        array = np.ascontiguousarray(data.T)
    else:  # (i, j, k, t) -> (t, k, j, i)
        array = np.ascontiguousarray(data.transpose(3, 2, 1, 0))
    # index (k, j, i) -> LPS; a 2-D file (i, j) has the padded index (0, j, i): same matrix
    lps = LPS_TO_RAS @ affine_ras @ _REVERSE
    return Volume.from_affine(array, lps, meta=img.header)


def write_nifti(volume: Volume, path: str | os.PathLike, *, overwrite: bool = True) -> str:
    """Write ``volume`` as a NIfTI-1 file (``.nii`` or ``.nii.gz`` by the name's ending).

    The array is stored in its dtype, unscaled (scl_slope unset); the affine (LPS ->
    RAS, columns in the file's (i, j, k) order) goes into both the sform and the qform
    with code 1 (scanner), units mm. A 2-D volume is written as a 2-D image (its full
    affine is in the sform; ITK reads only the in-plane part, so it refuses a 2-D image
    that is not axial). :func:`read_nifti` gives back the same array and
    every voxel's position within float32 rounding of the stored affine (the file holds
    float32). A (c, z, y, x) volume is written as 4-D (i, j, k, c).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    TypeError
        ``volume`` not a Volume, or a dtype NIfTI-1 cannot hold.
    ValueError
        A name not ending in ``.nii``/``.nii.gz``; ``overwrite=False`` and the file exists.
    """
    nib = _nib()
    if not isinstance(volume, Volume):
        raise TypeError(f"volume must be a medkern.Volume, got {type(volume).__name__}")
    where = os.fspath(path)
    if not is_nifti_path(where):
        raise ValueError(f"path must end in .nii or .nii.gz, got {where!r}")
    if not overwrite and os.path.exists(where):
        raise ValueError(f"{where}: already exists (overwrite=False)")
    arr = asnumpy(volume.array)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if arr.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"volume: dtype {arr.dtype} cannot be written as NIfTI by medkern "
                        f"(supported: {', '.join(str(d) for d in SUPPORTED_DTYPES)})")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.ndim == 4:
        data = arr.transpose(3, 2, 1, 0)
    else:
        data = arr.T
    affine = LPS_TO_RAS @ volume.affine @ _REVERSE  # index (i, j, k) -> RAS
    img = nib.Nifti1Image(data, affine, dtype=arr.dtype)
    img.header.set_xyzt_units("mm")
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    nib.save(img, where)
    return where
