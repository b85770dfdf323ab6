"""DICOM series <-> :class:`~medkern.Volume`.

:func:`read_dicom` turns a DICOM series (a directory, a list of files, one
file, single- or multi-frame) into a :class:`~medkern.Volume` with its patient
geometry; :func:`list_series` says what a directory holds without decoding any
pixels; :func:`write_dicom` writes a volume back as a derived series.

Every problem with the files is reported as a :class:`DicomError` (a
``ValueError``) whose message starts with the file or directory concerned and
says what is wrong; nothing is half-loaded silently.

Conventions
-----------
* Axis order of the array is (z, y, x) (a single slice: (y, x)); ``spacing``
  follows it: (dz, dy, dx) in mm, with (dy, dx) = *PixelSpacing* (row
  spacing, column spacing) and dz from the slice positions.
* ``direction`` columns are the patient-space directions of x (the row
  direction cosine), y (the column direction cosine) and z (the slice normal
  ``cross(row, column)``); slices are sorted by their position along that
  normal, so z always advances along it. ``origin`` is the
  *ImagePositionPatient* of the first slice after sorting.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from ..volume import Volume

__all__ = ["DicomError", "read_dicom", "write_dicom", "list_series"]

_PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3

#: Values larger than this (bytes) are read from the file only when used, so scanning a
#: directory reads headers, not pixels.
_DEFER_SIZE = 4096
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
_DIRECTORY_STORAGE = "1.2.840.10008.1.3.10"
#: Largest difference of two ImageOrientationPatient entries still read as "the same".
_ORIENTATION_TOL = 1e-3
#: Slices closer than this (mm) along the normal are duplicates (also relative: 1e-3 x the
#: largest gap).
_DUPLICATE_MM = 1e-4

_JPEG_LIBJPEG = "pylibjpeg and pylibjpeg-libjpeg (pip install pylibjpeg pylibjpeg-libjpeg)"
_JPEG_OPENJPEG = "pylibjpeg and pylibjpeg-openjpeg (pip install pylibjpeg pylibjpeg-openjpeg)"
_GDCM = "python-gdcm (pip install python-gdcm)"
_HTJ2K = "pylibjpeg and pylibjpeg-openjpeg>=2.1 (pip install pylibjpeg pylibjpeg-openjpeg)"
#: Which packages decode which transfer syntax (named in the error when none is installed).
_DECODER_PACKAGES = {
    "1.2.840.10008.1.2.4.50": f"{_JPEG_LIBJPEG}, pillow or {_GDCM}",
    "1.2.840.10008.1.2.4.51": f"{_JPEG_LIBJPEG} or {_GDCM} (pillow only decodes 8-bit data)",
    "1.2.840.10008.1.2.4.57": f"{_JPEG_LIBJPEG} or {_GDCM}",
    "1.2.840.10008.1.2.4.70": f"{_JPEG_LIBJPEG} or {_GDCM}",
    "1.2.840.10008.1.2.4.80": f"{_JPEG_LIBJPEG}, pyjpegls or {_GDCM}",
    "1.2.840.10008.1.2.4.81": f"{_JPEG_LIBJPEG}, pyjpegls or {_GDCM}",
    "1.2.840.10008.1.2.4.90": f"{_JPEG_OPENJPEG}, pillow or {_GDCM}",
    "1.2.840.10008.1.2.4.91": f"{_JPEG_OPENJPEG}, pillow or {_GDCM}",
    "1.2.840.10008.1.2.4.201": _HTJ2K,
    "1.2.840.10008.1.2.4.202": _HTJ2K,
    "1.2.840.10008.1.2.4.203": _HTJ2K,
    "1.2.840.10008.1.2.5": "pylibjpeg and pylibjpeg-rle (pip install pylibjpeg pylibjpeg-rle)",
}
_ANY_DECODER = ("pylibjpeg with pylibjpeg-libjpeg and pylibjpeg-openjpeg "
                "(pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg) or python-gdcm")

#: Attributes copied from ``like`` by :func:`write_dicom`: patient, study, frame of reference.
_COPIED = (
    "SpecificCharacterSet",
    "PatientName", "PatientID", "IssuerOfPatientID", "OtherPatientIDsSequence", "PatientBirthDate",
    "PatientSex", "PatientAge", "PatientSize", "PatientWeight", "EthnicGroup", "PatientComments",
    "PatientIdentityRemoved", "DeidentificationMethod",
    "StudyInstanceUID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber",
    "ReferringPhysicianName", "StudyDescription",
    "FrameOfReferenceUID", "PositionReferenceIndicator", "PatientPosition", "BodyPartExamined",
)
_SOP_CLASS_FOR_MODALITY = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",      # CT Image Storage
    "MR": "1.2.840.10008.5.1.4.1.1.4",      # MR Image Storage
    "PT": "1.2.840.10008.5.1.4.1.1.128",    # Positron Emission Tomography Image Storage
}
_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


class DicomError(ValueError):
    """A DICOM file or series that cannot be turned into a volume.

    The message starts with the file (or directory / series) concerned and says what is wrong
    with it. A ``ValueError``, so ``except ValueError`` catches it too.
    """


# --------------------------------------------------------------------------- reading files

@contextlib.contextmanager
def _about(path: str, what: str = "cannot parse the DICOM data"):
    """Turn an unexpected error while handling ``path`` (pydicom parses values lazily, so a
    corrupt element fails when first used) into a DicomError naming the file."""
    try:
        yield
    except (DicomError, MemoryError):
        raise
    except Exception as exc:
        raise DicomError(f"{path}: {what} ({type(exc).__name__}: {exc})") from exc


#: The header values the reader uses, checked once per file while scanning.
_HEADER_KEYWORDS = (
    "SOPClassUID", "SeriesInstanceUID", "Modality", "SeriesDescription", "SeriesNumber",
    "Rows", "Columns", "NumberOfFrames", "SamplesPerPixel", "PhotometricInterpretation",
    "BitsAllocated", "BitsStored", "PixelRepresentation", "ImagePositionPatient",
    "ImageOrientationPatient", "PixelSpacing", "ImagerPixelSpacing", "RescaleSlope",
    "RescaleIntercept", "DoseGridScaling", "GridFrameOffsetVector",
)


@dataclasses.dataclass
class _Frame:
    """One 2-D image: a single-frame file, or one frame of a multi-frame file."""

    path: str
    ds: Dataset
    index: int                      # frame number in the file, from 0
    n_frames: int                   # frames in that file
    shape: tuple[int, int]          # (Rows, Columns)
    position: np.ndarray | None     # ImagePositionPatient
    orientation: np.ndarray | None  # ImageOrientationPatient (6)
    pixel_spacing: tuple[float, float] | None  # (row spacing dy, column spacing dx)
    slope: float
    intercept: float

    @property
    def label(self) -> str:
        return self.path if self.n_frames == 1 else f"{self.path} (frame {self.index + 1})"


def _collect(path: Any) -> tuple[list[str], bool, str]:
    """(files, explicit, label): the files to scan; ``explicit`` when the caller named them."""
    if isinstance(path, (str, os.PathLike)):
        p = os.fspath(path)
        if os.path.isdir(p):
            files = []
            for root, dirs, names in os.walk(p):
                dirs.sort()
                # dangling links and sockets/fifos are not files to read
                files.extend(f for f in (os.path.join(root, n) for n in sorted(names))
                             if os.path.isfile(f))
            return files, False, p
        if os.path.isfile(p):
            return [p], True, p
        raise FileNotFoundError(f"{p}: no such file or directory")
    if isinstance(path, Sequence) and not isinstance(path, (bytes, bytearray)):
        files = []
        for item in path:
            if not isinstance(item, (str, os.PathLike)):
                raise TypeError(f"path: a list of file paths may hold only str or os.PathLike, "
                                f"got {type(item).__name__}")
            f = os.fspath(item)
            if not os.path.isfile(f):
                raise FileNotFoundError(f"{f}: no such file")
            files.append(f)
        if not files:
            raise ValueError("path: the list of files is empty")
        label = files[0] if len(files) == 1 else f"{files[0]} (and {len(files) - 1} other files)"
        return files, True, label
    raise TypeError(f"path must be a file, a directory or a list of files, "
                    f"got {type(path).__name__}")


def _looks_like_uid(value: Any) -> bool:
    s = str(value) if value is not None else ""
    return bool(s) and len(s) <= 64 and all(ch.isdigit() or ch == "." for ch in s)


def _read_header(path: str, explicit: bool) -> Dataset | None:
    """The data set of ``path`` with large values (the pixels) left in the file; ``None`` for
    a file that is not DICOM (an error instead if the caller named the file)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path, defer_size=_DEFER_SIZE)
    except InvalidDicomError:
        pass  # no 'DICM' prefix: maybe a bare data set, tried below
    except Exception as exc:
        raise DicomError(f"{path}: cannot parse the DICOM file "
                         f"({type(exc).__name__}: {exc})") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, defer_size=_DEFER_SIZE, force=True)
            ok = _looks_like_uid(ds.get("SOPClassUID"))
    except Exception:
        ok = False
    if ok:
        return ds
    if explicit:
        raise DicomError(f"{path}: not a DICOM file (no 'DICM' prefix and no DICOM data set "
                         "could be parsed from it)")
    return None


def _is_dicomdir(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    sop = meta.get("MediaStorageSOPClassUID") if meta is not None else None
    return str(sop or "") == _DIRECTORY_STORAGE or "DirectoryRecordSequence" in ds


def _sop_name(ds: Dataset) -> str:
    sop = ds.get("SOPClassUID")
    if sop is None:
        return "object without SOPClassUID"
    try:
        return UID(str(sop)).name
    except Exception:
        return str(sop)


def _is_image(ds: Dataset) -> bool:
    """Whether ``ds`` is (meant to be) an image: pixel data, Rows or an image SOP class."""
    return (any(k in ds for k in _PIXEL_KEYWORDS) or "Rows" in ds
            or _sop_name(ds).endswith("Image Storage"))


def _n_frames(ds: Dataset, path: str) -> int:
    value = ds.get("NumberOfFrames", 1)
    try:
        n = int(value) if value not in (None, "") else 1
    except (TypeError, ValueError):
        raise DicomError(f"{path}: invalid NumberOfFrames {value!r}") from None
    if n < 1:
        raise DicomError(f"{path}: invalid NumberOfFrames {value!r}")
    return n


def _scan(files: list[str], explicit: bool, label: str) -> list[tuple[str, Dataset]]:
    items = []
    skipped = 0
    for f in files:
        ds = _read_header(f, explicit)
        if ds is None:
            skipped += 1
            continue
        with _about(f, "cannot parse the DICOM header"):
            for kw in _HEADER_KEYWORDS:
                ds.get(kw)
            is_dicomdir = _is_dicomdir(ds)
            _transfer_syntax(ds)
            if _is_image(ds):
                _n_frames(ds, f)
        if is_dicomdir:
            if explicit and len(files) == 1:
                raise DicomError(f"{f}: a DICOMDIR index, not an image; pass the directory "
                                 "that holds the series instead")
            continue
        items.append((f, ds))
    if not items:
        why = f" ({skipped} non-DICOM file(s) skipped)" if skipped else ""
        raise DicomError(f"{label}: no DICOM files found{why}")
    return items


def _group(items: list[tuple[str, Dataset]]) -> dict[str | None, list[tuple[str, Dataset]]]:
    groups: dict[str | None, list[tuple[str, Dataset]]] = {}
    for f, ds in items:
        uid = ds.get("SeriesInstanceUID")
        groups.setdefault(str(uid) if uid else None, []).append((f, ds))
    return groups


def _summary(uid: str | None, items: list[tuple[str, Dataset]]) -> dict:
    ds0 = items[0][1]
    images = [(f, ds) for f, ds in items if _is_image(ds)]
    n = 0
    shapes = set()
    for f, ds in images:
        with _about(f, "cannot parse the DICOM header"):
            n += _n_frames(ds, f)
            rows, cols = ds.get("Rows"), ds.get("Columns")
            shapes.add((int(rows), int(cols)) if rows and cols else None)
    shape = None
    if len(shapes) == 1 and None not in shapes:
        (rc,) = shapes
        shape = (n, *rc) if n > 1 else rc
    return {
        "uid": uid,
        "modality": str(ds0.get("Modality", "") or "") or None,
        "description": str(ds0.get("SeriesDescription", "") or ""),
        "n_slices": n,
        "shape": shape,
        "files": [f for f, _ in items],
        "sop_class": _sop_name(ds0),
    }


def _describe(s: dict) -> str:
    if s["n_slices"]:
        what = f"{s['n_slices']} slice(s)" + (f", shape {s['shape']}" if s["shape"] else "")
    else:
        what = f"{len(s['files'])} non-image object(s) ({s['sop_class']})"
    return f"  {s['uid']}  {s['modality'] or '?'}  {s['description']!r}  {what}"


# --------------------------------------------------------------------------- one file's frames

def _floats(value: Any, n: int, what: str, where: str) -> np.ndarray:
    try:
        out = np.array([float(v) for v in (value if n > 1 else [value])], dtype=np.float64)
    except (TypeError, ValueError):
        raise DicomError(f"{where}: invalid {what} {value!r}") from None
    if out.shape != (n,) or not np.all(np.isfinite(out)):
        raise DicomError(f"{where}: invalid {what} {value!r} (expected {n} finite number(s))")
    return out


def _functional(item: Dataset | None, shared: Dataset | None, seq: str, keyword: str) -> Any:
    """``keyword`` from the per-frame functional group ``item``, else the shared one."""
    for group in (item, shared):
        if group is not None and seq in group and len(group[seq].value) > 0 \
                and keyword in group[seq].value[0]:
            return group[seq].value[0].get(keyword)
    return None


def _frames(path: str, ds: Dataset, rescale: bool) -> list[_Frame]:
    """The 2-D frames of one file with their geometry and rescale (no pixels decoded)."""
    sop = _sop_name(ds)
    if not any(k in ds for k in _PIXEL_KEYWORDS):
        raise DicomError(f"{path}: no pixel data ({sop} object without a Pixel Data element; "
                         "the file may be truncated)")
    spp = ds.get("SamplesPerPixel", 1)
    if spp not in (None, "") and int(spp) != 1:
        raise DicomError(f"{path}: {int(spp)} samples per pixel "
                         f"({ds.get('PhotometricInterpretation')}); only single-channel "
                         "(greyscale) images can form a volume")
    rows, cols = ds.get("Rows"), ds.get("Columns")
    if not rows or not cols:
        raise DicomError(f"{path}: missing or zero Rows/Columns ({rows!r} x {cols!r})")
    shape = (int(rows), int(cols))
    nf = _n_frames(ds, path)
    if rescale and "ModalityLUTSequence" in ds:
        raise DicomError(f"{path}: the stored values map to output values through a Modality LUT "
                         "Sequence, which medkern does not apply; read with rescale=False")

    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    if per_frame is not None and len(per_frame) != nf:
        raise DicomError(f"{path}: PerFrameFunctionalGroupsSequence has {len(per_frame)} items "
                         f"for {nf} frames")

    def item(k: int) -> Dataset | None:
        return per_frame[k] if per_frame is not None else None

    top_ipp = ds.get("ImagePositionPatient")
    top_iop = ds.get("ImageOrientationPatient")
    top_spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    top_slope, top_intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")

    orientations, spacings, slopes, intercepts = [], [], [], []
    for k in range(nf):
        where = path if nf == 1 else f"{path} (frame {k + 1})"
        iop = _functional(item(k), shared, "PlaneOrientationSequence", "ImageOrientationPatient")
        iop = top_iop if iop is None else iop
        orientations.append(None if iop is None
                            else _floats(iop, 6, "ImageOrientationPatient", where))
        ps = _functional(item(k), shared, "PixelMeasuresSequence", "PixelSpacing")
        ps = top_spacing if ps is None else ps
        if ps is None:
            spacings.append(None)
        else:
            sp = _floats(ps, 2, "PixelSpacing", where)
            if np.any(sp <= 0):
                raise DicomError(f"{where}: invalid PixelSpacing {list(ps)} (must be positive)")
            spacings.append((float(sp[0]), float(sp[1])))
        pvt = "PixelValueTransformationSequence"
        slope = _functional(item(k), shared, pvt, "RescaleSlope")
        intercept = _functional(item(k), shared, pvt, "RescaleIntercept")
        slope = top_slope if slope is None else slope
        intercept = top_intercept if intercept is None else intercept
        slopes.append(1.0 if slope in (None, "")
                      else float(_floats(slope, 1, "RescaleSlope", where)[0]))
        intercepts.append(0.0 if intercept in (None, "")
                          else float(_floats(intercept, 1, "RescaleIntercept", where)[0]))
    if "DoseGridScaling" in ds and ds.DoseGridScaling not in (None, ""):
        scale = float(_floats(ds.DoseGridScaling, 1, "DoseGridScaling", path)[0])
        slopes = [s * scale for s in slopes]

    if per_frame is not None:
        positions = []
        for k in range(nf):
            ipp = _functional(item(k), None, "PlanePositionSequence", "ImagePositionPatient")
            if ipp is None and nf == 1:
                ipp = top_ipp
            if ipp is None:
                raise DicomError(f"{path} (frame {k + 1}): no PlanePositionSequence/"
                                 "ImagePositionPatient in its functional groups; the frames "
                                 "cannot be placed")
            positions.append(_floats(ipp, 3, "ImagePositionPatient", f"{path} (frame {k + 1})"))
    elif nf > 1 and "GridFrameOffsetVector" in ds:
        offsets = _floats(ds.GridFrameOffsetVector, nf, "GridFrameOffsetVector", path)
        if top_ipp is None or orientations[0] is None:
            raise DicomError(f"{path}: GridFrameOffsetVector without ImagePositionPatient/"
                             "ImageOrientationPatient; the frames cannot be placed")
        origin = _floats(top_ipp, 3, "ImagePositionPatient", path)
        _, _, normal = _axes(orientations[0], path)
        # Relative offsets start at 0; absolute ones start at the first frame's z. Either way
        # the first frame is at ImagePositionPatient.
        positions = [origin + (o - offsets[0]) * normal for o in offsets]
    elif nf > 1:
        raise DicomError(f"{path}: multi-frame object ({nf} frames) without per-frame positions "
                         "(no PerFrameFunctionalGroupsSequence/PlanePositionSequence or "
                         "GridFrameOffsetVector); the frames cannot be placed in space")
    else:
        positions = [None if top_ipp is None else _floats(top_ipp, 3, "ImagePositionPatient", path)]

    return [_Frame(path, ds, k, nf, shape, positions[k], orientations[k], spacings[k],
                   slopes[k], intercepts[k]) for k in range(nf)]


def _axes(iop: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column cosines made exactly orthonormal, and the slice normal."""
    r, c = np.asarray(iop[:3], float), np.asarray(iop[3:], float)
    nr, nc = np.linalg.norm(r), np.linalg.norm(c)
    if not (abs(nr - 1) < 1e-2 and abs(nc - 1) < 1e-2 and abs(r @ c) < 1e-2):
        raise DicomError(f"{where}: ImageOrientationPatient {[round(float(v), 6) for v in iop]} "
                         "is not a pair of orthogonal unit vectors")
    r = r / nr
    c = c - (c @ r) * r
    c = c / np.linalg.norm(c)
    return r, c, np.cross(r, c)


# --------------------------------------------------------------------------- pixels

def _transfer_syntax(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    if ts:
        ts = UID(str(ts))
        if not ts.is_transfer_syntax:
            raise ValueError(f"invalid TransferSyntaxUID {ts} ({ts.name})")
        return ts
    enc = getattr(ds, "original_encoding", None)
    if enc is None or enc[0] is None:
        enc = (getattr(ds, "is_implicit_VR", True), getattr(ds, "is_little_endian", True))
    implicit, little = enc
    ts = UID("1.2.840.10008.1.2" if implicit else
             ("1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"))
    if meta is None:
        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    return ts


def _decoder_available(ts: UID) -> bool:
    """Whether pydicom has a working decoder for the compressed transfer syntax ``ts``."""
    try:
        from pydicom.pixels import get_decoder  # pydicom >= 3
    except ImportError:  # pragma: no cover - pydicom 2.x
        handlers = pydicom.config.pixel_data_handlers
        return any(h.supports_transfer_syntax(ts) and h.is_available() for h in handlers)
    try:
        return bool(get_decoder(ts).is_available)
    except Exception:
        return False


def _raw_little_endian(ds: Dataset, count: int) -> np.ndarray | None:
    """Uncompressed little-endian grey 8/16/32-bit pixels straight from the bytes.

    The common CT/MR case; skipping pydicom's general ``pixel_array`` machinery
    keeps ``read_dicom`` within ~1.2x of a bare pydicom loop. ``None`` for
    anything else (the caller falls back to ``pixel_array``).
    """
    ts = _transfer_syntax(ds)
    bits = int(ds.get("BitsAllocated") or 0)
    if (not getattr(ts, "is_little_endian", False) or bits not in (8, 16, 32)
            or int(ds.get("SamplesPerPixel", 1) or 1) != 1 or "PixelData" not in ds):
        return None
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    dtype = np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")
    return np.frombuffer(ds.PixelData, dtype=dtype, count=count)


def _decode(path: str, ds: Dataset) -> np.ndarray:
    """The stored values of every frame of ``ds``: (frames, rows, cols), native byte order."""
    ts = _transfer_syntax(ds)
    rows, cols, nf = int(ds.Rows), int(ds.Columns), _n_frames(ds, path)
    compressed = bool(getattr(ts, "is_compressed", False))
    packages = _DECODER_PACKAGES.get(str(ts), _ANY_DECODER)
    if "PixelData" in ds and not compressed:
        try:
            n_bytes = len(ds.PixelData)
        except Exception as exc:
            raise DicomError(f"{path}: cannot read the pixel data "
                             f"({type(exc).__name__}: {exc})") from exc
        bits = ds.get("BitsAllocated")
        if not bits:
            raise DicomError(f"{path}: missing BitsAllocated")
        expected = (rows * cols * nf * int(bits) + 7) // 8
        if n_bytes < expected:
            raise DicomError(f"{path}: truncated file (pixel data shorter than expected: {n_bytes} "
                             f"of {expected} bytes for {nf} frame(s) of {rows}x{cols} at "
                             f"{int(bits)} bits)")
    try:
        arr = _raw_little_endian(ds, nf * rows * cols) if not compressed else None
        if arr is None:
            arr = ds.pixel_array
    except Exception as exc:
        if compressed and not _decoder_available(ts):
            raise DicomError(f"{path}: the pixel data is compressed ({ts.name}, {ts}) and no "
                             f"installed decoder handles it; install {packages}") from exc
        msg = f"{type(exc).__name__}: {exc}"
        if "less than expected" in str(exc) or isinstance(exc, EOFError):
            raise DicomError(f"{path}: truncated file ({msg})") from exc
        hint = f"; installing {packages} may help" if compressed else ""
        raise DicomError(f"{path}: cannot decode the pixel data ({ts.name}): {msg}{hint}") from exc
    arr = np.asarray(arr)
    if arr.dtype.byteorder not in "=|":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    stored_bits = ds.get("BitsStored")
    width = arr.dtype.itemsize * 8
    if arr.dtype.kind in "iu" and stored_bits and 0 < int(stored_bits) < width:
        # Only the low BitsStored bits are the value (pydicom 2 leaves the rest as found):
        # sign-extend signed data, clear the unused high bits of unsigned data.
        if int(ds.get("PixelRepresentation", 0) or 0) == 1:
            signed = arr.view(arr.dtype.str.replace("u", "i"))
            shift = width - int(stored_bits)
            arr = np.right_shift(np.left_shift(signed, shift), shift)
        else:
            arr = np.bitwise_and(arr, arr.dtype.type((1 << int(stored_bits)) - 1))
    if arr.size != nf * rows * cols:
        raise DicomError(f"{path}: decoded pixel data has shape {arr.shape}, expected "
                         f"{nf} frame(s) of {rows}x{cols}")
    return arr.reshape(nf, rows, cols)


def _drop_pixels(ds: Dataset) -> None:
    for k in _PIXEL_KEYWORDS:
        if k in ds:
            delattr(ds, k)


def _rescaled(stored: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
    """``stored * slope + intercept`` per slice, in the dtype of the documented policy."""
    if np.all(slopes == 1) and np.all(intercepts == 0):
        return stored
    integral = np.all(intercepts == np.round(intercepts))
    if stored.dtype.kind in "iu" and np.all(slopes == 1) and integral:
        lo = min(int(stored[i].min()) + int(intercepts[i]) for i in range(len(stored)))
        hi = max(int(stored[i].max()) + int(intercepts[i]) for i in range(len(stored)))
        for dt in (np.int16, np.int32, np.int64):
            info = np.iinfo(dt)
            if info.min <= lo and hi <= info.max:
                if stored.dtype == dt and stored.flags.writeable:  # in place: no second copy
                    for i in range(len(stored)):
                        stored[i] += dt(int(intercepts[i]))
                    return stored
                out = np.empty(stored.shape, dt)
                for i in range(len(stored)):
                    out[i] = stored[i].astype(dt) + dt(int(intercepts[i]))
                return out
    out = np.empty(stored.shape, np.float32)
    for i in range(len(stored)):
        out[i] = stored[i].astype(np.float64) * slopes[i] + intercepts[i]
    return out


def _resample_z(array: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, float]:
    """Linear interpolation along axis 0 from slice positions ``pos`` (ascending) onto a uniform
    grid from pos[0] to pos[-1] whose spacing is closest to the median gap."""
    gaps = np.diff(pos)
    length = pos[-1] - pos[0]
    m = max(int(round(length / float(np.median(gaps)))), 1) + 1
    dz = length / (m - 1)
    t = pos[0] + dz * np.arange(m)
    t[-1] = pos[-1]
    lower = np.clip(np.searchsorted(pos, t, side="right") - 1, 0, len(pos) - 2)
    w = (t - pos[lower]) / (pos[lower + 1] - pos[lower])
    out = np.empty((m,) + array.shape[1:], np.float32)
    for k in range(m):
        a, b = array[lower[k]].astype(np.float64), array[lower[k] + 1].astype(np.float64)
        out[k] = (1 - w[k]) * a + w[k] * b
    return out, float(dz)


# --------------------------------------------------------------------------- a series -> Volume

def _format_gaps(gaps: np.ndarray) -> str:
    """Runs of (nearly) equal consecutive gaps, in slice order: ``2.5 (x8), 5 (x1), ...``."""
    runs: list[list] = []
    for g in gaps:
        value = float(f"{g:.4g}")
        if runs and runs[-1][0] == value:
            runs[-1][1] += 1
        else:
            runs.append([value, 1])
    parts = [f"{v:g} (x{n})" for v, n in runs[:12]]
    more = f", ... ({len(runs) - 12} more runs)" if len(runs) > 12 else ""
    return ", ".join(parts) + more


def _load_series(label: str, uid: str | None, items: list[tuple[str, Dataset]], rescale: bool,
                 tol: float, resample: bool) -> Volume:
    where = f"{label}: series {uid}"
    for f, ds in items:
        if not _is_image(ds):
            raise DicomError(f"{f}: not an image ({_sop_name(ds)}) but in image series {uid}")
    frames = []
    for f, ds in items:
        with _about(f):
            frames.extend(_frames(f, ds, rescale))

    shapes: dict[tuple, str] = {}
    for fr in frames:
        shapes.setdefault(fr.shape, fr.label)
    if len(shapes) > 1:
        listing = "; ".join(f"{r}x{c} (e.g. {lab})" for (r, c), lab in shapes.items())
        raise DicomError(f"{where}: slices have different shapes (Rows x Columns): {listing}")

    n = len(frames)
    first = frames[0]
    if n > 1:
        missing = [fr.label for fr in frames if fr.position is None or fr.orientation is None]
        if missing:
            raise DicomError(f"{missing[0]}: no ImagePositionPatient/ImageOrientationPatient, so "
                             f"the {n} slices of series {uid} cannot be ordered in space "
                             f"({len(missing)} slice(s) lack them)")
        distinct: list[tuple[np.ndarray, str, int]] = []
        for fr in frames:
            for i, (o, lab, cnt) in enumerate(distinct):
                if np.max(np.abs(fr.orientation - o)) <= _ORIENTATION_TOL:
                    distinct[i] = (o, lab, cnt + 1)
                    break
            else:
                distinct.append((fr.orientation, fr.label, 1))
        if len(distinct) > 1:
            listing = "; ".join(f"[{', '.join(f'{v:.4g}' for v in o)}] x{cnt} (e.g. {lab})"
                                for o, lab, cnt in distinct[:8])
            raise DicomError(f"{where}: slices have {len(distinct)} different orientations "
                             f"(ImageOrientationPatient): {listing}; they do not form one volume "
                             "(a localizer or a set of projections?)")
        sp = [fr.pixel_spacing for fr in frames]
        if any(s != sp[0] for s in sp) and (any(s is None for s in sp) or np.max(
                np.abs(np.array(sp) / np.array(sp[0]) - 1)) > max(tol, 1e-6)):
            examples = {s: fr.label for s, fr in zip(sp, frames)}
            listing = "; ".join(f"{s} (e.g. {lab})" for s, lab in examples.items())
            raise DicomError(f"{where}: slices have different PixelSpacing: {listing}")

    if first.orientation is not None:
        row, col, normal = _axes(first.orientation, first.label)
    else:
        row, col, normal = np.eye(3)
    dy, dx = first.pixel_spacing or (1.0, 1.0)

    dz = None
    if n > 1:
        proj = np.array([fr.position @ normal for fr in frames])
        order = sorted(range(n), key=lambda i: (proj[i], frames[i].path, frames[i].index))
        frames = [frames[i] for i in order]
        proj = proj[order]
        gaps = np.diff(proj)
        dup = np.nonzero(gaps < max(_DUPLICATE_MM, 1e-3 * float(gaps.max())))[0]
        if len(dup):
            pairs = "; ".join(f"{frames[i].label} and {frames[i + 1].label} at {proj[i]:.6g} mm"
                              for i in dup[:5])
            more = f" (and {len(dup) - 5} more)" if len(dup) > 5 else ""
            raise DicomError(f"{where}: {len(dup)} duplicate slice position(s) along the slice "
                             f"normal: {pairs}{more}; several echoes, phases or time points in one "
                             "series? Select one set of slices and pass those files")
        pos = np.array([fr.position for fr in frames])
        step = np.diff(pos, axis=0)
        sideways = np.linalg.norm(step - np.outer(step @ normal, normal), axis=1)
        bad = np.nonzero(sideways > tol * gaps + 1e-3)[0]
        if len(bad):
            i = int(bad[np.argmax(sideways[bad] / gaps[bad])])
            raise DicomError(
                f"{where}: slice positions move sideways by up to {sideways[i]:.4g} mm per "
                f"{gaps[i]:.4g} mm step (between {frames[i].label} and {frames[i + 1].label}): "
                "the slices are not stacked along their normal (gantry tilt or a sheared "
                "stack), so no (z, y, x) grid with this orientation holds them")
        dz = float(proj[-1] - proj[0]) / (n - 1)
        deviation = np.abs(gaps - dz) / dz
        nonuniform = bool(np.any(deviation > tol))
        if nonuniform and not resample:
            i = int(np.argmax(deviation))
            raise DicomError(
                f"{where}: slice spacing is not uniform (tolerance {tol:g} relative): gaps (mm) "
                f"along the slice normal, in order: {_format_gaps(gaps)}; the largest deviation "
                f"is the {gaps[i]:.4g} mm gap between {frames[i].label} and {frames[i + 1].label}. "
                "Pass resample=True to interpolate linearly onto a uniform grid, or a larger "
                "spacing_tolerance")

    # Decode each file once; frames land at their sorted place.
    stored: np.ndarray | None = None
    by_file: dict[str, list[tuple[int, int]]] = {}
    datasets = {}
    for out_i, fr in enumerate(frames):
        by_file.setdefault(fr.path, []).append((out_i, fr.index))
        datasets[fr.path] = fr.ds
    for f, places in by_file.items():
        with _about(f, "cannot read the pixel data"):
            arr = _decode(f, datasets[f])
        if stored is None:
            stored = np.empty((n,) + arr.shape[1:], arr.dtype)
        elif arr.dtype != stored.dtype:
            stored = stored.astype(np.result_type(stored.dtype, arr.dtype))
        for out_i, k in places:
            stored[out_i] = arr[k]
        del arr
        _drop_pixels(datasets[f])  # the pixels now live in `stored`; meta keeps the header

    if rescale:
        array = _rescaled(stored, np.array([fr.slope for fr in frames]),
                          np.array([fr.intercept for fr in frames]))
    else:
        array = stored
    del stored

    meta = frames[0].ds
    origin = frames[0].position if frames[0].position is not None else np.zeros(3)
    direction = np.column_stack([row, col, normal])
    if n == 1:
        return Volume(array[0], spacing=(dy, dx), origin=origin, direction=direction,
                      series_uid=uid, modality=_modality(meta), meta=meta)
    if nonuniform:
        array, dz = _resample_z(array, proj)
    return Volume(array, spacing=(dz, dy, dx), origin=origin, direction=direction,
                  series_uid=uid, modality=_modality(meta), meta=meta)


def _modality(ds: Dataset) -> str | None:
    return str(ds.get("Modality", "") or "") or None


# --------------------------------------------------------------------------- public: reading

def list_series(path: str | os.PathLike | Sequence[str | os.PathLike]) -> list[dict]:
    """The DICOM series found under ``path``, from the file headers (no pixel is decoded).

    Parameters
    ----------
    path : str, os.PathLike or sequence of them
        A file, a list of files, or a directory searched recursively. Files that are not
        DICOM and DICOMDIR index files are skipped.

    Returns
    -------
    list of dict
        One dict per SeriesInstanceUID, in the order the series are first met (files sorted
        by path), with keys:

        ``uid`` (str or None), ``modality`` (str or None), ``description``
        (SeriesDescription, str), ``n_slices`` (number of 2-D images: frames of the image
        objects; 0 for a series of non-image objects such as RT plans or structured
        reports), ``shape`` (the array shape :func:`read_dicom` returns before any
        resampling: ``(n_slices, rows, cols)``, or ``(rows, cols)`` for one slice; None when
        unknown, e.g. non-image objects or slices of different sizes), ``files`` (list of
        paths) and ``sop_class`` (name of the first object's SOP class).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DicomError
        If no DICOM file is found, a named file is not DICOM, or a DICOM file cannot be
        parsed.

    Notes
    -----
    The list says what :func:`read_dicom` can be asked for (``series_uid=``); it does not
    check that a series forms a valid volume (orientations, spacing, pixel data).
    """
    files, explicit, label = _collect(path)
    items = _scan(files, explicit, label)
    return [_summary(uid, its) for uid, its in _group(items).items()]


def read_dicom(path: str | os.PathLike | Sequence[str | os.PathLike], series_uid: str | None = None,
               rescale: bool = True, *, spacing_tolerance: float = 0.01,
               resample: bool = False) -> Volume:
    """Read a DICOM series (or one image) as a :class:`~medkern.Volume`.

    Parameters
    ----------
    path : str, os.PathLike or sequence of them
        A DICOM file, a list of files, or a directory (searched recursively; files that are
        not DICOM, such as READMEs, and DICOMDIR index files are skipped silently).
    series_uid : str, optional
        The SeriesInstanceUID to read. Needed when ``path`` holds several image series (see
        :func:`list_series`); non-image objects (RT plans, structure sets, reports) next to a
        single image series do not count.
    rescale : bool, default True
        Apply RescaleSlope/RescaleIntercept (and DoseGridScaling for RT Dose) slice by slice,
        giving e.g. Hounsfield units for CT. ``False`` returns the stored integers.
    spacing_tolerance : float, default 0.01
        Largest relative deviation of a slice gap from the mean gap (and of the sideways
        drift of slice positions per mm of gap) accepted as uniform.
    resample : bool, default False
        When the slice gaps are not uniform, interpolate linearly along z onto a uniform grid
        instead of raising (see Notes).

    Returns
    -------
    Volume
        ``array`` (z, y, x), or (y, x) for a single slice; ``spacing`` (dz, dy, dx) mm;
        ``origin`` the ImagePositionPatient of the first slice after sorting; ``direction``
        columns = row cosine (x), column cosine (y), slice normal (z); ``series_uid``,
        ``modality`` and ``meta`` (the first slice's pydicom Dataset, pixel data removed).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DicomError
        (a ``ValueError``) naming the file or series and the problem: no DICOM files; a named
        file that is not DICOM or not an image (RT plan, SR); several image series and no
        ``series_uid``, or an unknown one; missing or truncated pixel data; a compressed
        transfer syntax without an installed decoder (the message names the packages to
        install); colour images; slices of different shapes, orientations or pixel spacings;
        slices without positions; duplicate positions; a sheared stack (gantry tilt);
        non-uniform gaps beyond ``spacing_tolerance`` unless ``resample=True``.

    Notes
    -----
    Slices are grouped by SeriesInstanceUID and sorted by the projection of
    ImagePositionPatient on the slice normal ``cross(row, column)`` from
    ImageOrientationPatient; file names, InstanceNumber and SliceLocation are never used.
    ``dz = (last - first) / (n - 1)`` along the normal; SliceThickness is ignored.

    Multi-frame objects contribute one slice per frame: enhanced CT/MR/PET frames are placed
    by the PlanePositionSequence of their PerFrameFunctionalGroupsSequence item (orientation,
    pixel spacing and rescale from the per-frame or shared groups); RT Dose frames by
    GridFrameOffsetVector along the normal (relative offsets, or absolute ones whose first
    entry is the first frame's position), with DoseGridScaling multiplied into the slope so
    the result is in Gy.

    Output dtype (``rescale=True``): the stored dtype when every slope is 1 and every
    intercept 0 (or absent); otherwise, when every slope is 1 and every intercept an integer,
    the smallest of int16, int32, int64 that holds every rescaled value of *this* data (CT
    with intercept -1024 gives int16); otherwise float32 (values computed in float64, then
    rounded once to float32). ``rescale=False`` returns the stored values in the dtype pydicom
    decodes them to (signedness from PixelRepresentation, BitsStored honoured), native byte
    order.

    With ``resample=True`` and non-uniform gaps, the output grid runs from the first to the
    last slice position with the spacing closest to the median gap that divides that length
    exactly; each output slice is the linear interpolation of its two neighbouring input
    slices; the result is float32 whatever the stored dtype.

    Missing PixelSpacing falls back to ImagerPixelSpacing, then 1 mm; a single slice without
    ImagePositionPatient/ImageOrientationPatient gets origin (0, 0, 0) and the identity
    direction. MONOCHROME1 values are returned as stored (not inverted).
    """
    try:
        tol = float(spacing_tolerance)
    except (TypeError, ValueError):
        raise TypeError(f"spacing_tolerance must be a number, got "
                        f"{type(spacing_tolerance).__name__}") from None
    if not math.isfinite(tol) or tol < 0:
        raise ValueError(f"spacing_tolerance must be finite and >= 0, got {spacing_tolerance}")
    files, explicit, label = _collect(path)
    items = _scan(files, explicit, label)
    groups = _group(items)
    summaries = {uid: _summary(uid, its) for uid, its in groups.items()}
    images = [s for s in summaries.values() if s["n_slices"]]

    if series_uid is not None:
        uid = str(series_uid)
        if uid not in summaries:
            raise DicomError(f"{label}: no series with SeriesInstanceUID {uid}; present:\n"
                             + "\n".join(_describe(s) for s in summaries.values()))
        if not summaries[uid]["n_slices"]:
            s = summaries[uid]
            raise DicomError(f"{s['files'][0]}: series {uid} holds no image "
                             f"({s['sop_class']}, modality {s['modality']})")
    else:
        if not images:
            if len(items) == 1:
                f, ds = items[0]
                raise DicomError(f"{f}: not an image ({_sop_name(ds)}, modality "
                                 f"{_modality(ds)}): no pixel data")
            raise DicomError(f"{label}: no image series, only non-image objects:\n"
                             + "\n".join(_describe(s) for s in summaries.values()))
        if len(images) > 1:
            raise DicomError(f"{label}: {len(images)} image series found; choose one with "
                             "series_uid= (see medkern.io.list_series):\n"
                             + "\n".join(_describe(s) for s in images))
        uid = images[0]["uid"]
    return _load_series(label, uid, groups[uid], bool(rescale), tol, bool(resample))


# --------------------------------------------------------------------------- writing

def _ds_str(x: float) -> str:
    """``x`` as a DICOM decimal string (at most 16 characters), as precise as that allows."""
    x = float(x)
    if x == 0:
        return "0"
    for digits in range(16, 0, -1):
        s = f"{x:.{digits}g}"
        if len(s) <= 16:
            return s
    raise ValueError(f"{x} cannot be written as a DICOM decimal string")  # pragma: no cover


def _encode(arr: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(stored integers, slope, intercept) for ``arr``: integers losslessly with slope 1,
    floats as uint16 with ``|value - (stored * slope + intercept)| <= slope / 2``."""
    if arr.dtype == bool:
        return arr.astype(np.uint8), 1.0, 0.0
    if arr.dtype.kind in "iu":
        if arr.dtype.itemsize <= 2:
            return arr.astype(arr.dtype.newbyteorder("=")), 1.0, 0.0
        lo, hi = int(arr.min()), int(arr.max())
        for dt in (np.int16, np.uint16, np.int32, np.uint32):
            if np.iinfo(dt).min <= lo and hi <= np.iinfo(dt).max:
                return arr.astype(dt), 1.0, 0.0
        raise ValueError(f"volume values {lo}..{hi} do not fit the 32-bit integers DICOM can store")
    if arr.dtype.kind != "f":
        raise TypeError(f"volume has unsupported dtype {arr.dtype}")
    finite = np.isfinite(arr)
    if not finite.all():
        raise ValueError(f"volume has {int(arr.size - finite.sum())} NaN/infinite values, which "
                         "DICOM cannot store")
    lo, hi = float(arr.min()), float(arr.max())
    span = hi - lo if hi > lo else 1.0
    slope = float(_ds_str(span / 65535 * (1 + 1e-9)))
    intercept = float(_ds_str(lo))
    stored = np.rint((arr.astype(np.float64) - intercept) / slope)
    stored = np.clip(stored, 0, 65535).astype(np.uint16)
    return stored, slope, intercept


def _like_dataset(like: Any) -> Dataset | None:
    if like is None or isinstance(like, Dataset):
        return like
    if isinstance(like, (str, os.PathLike)):
        ds = _read_header(os.fspath(like), explicit=True)
        return ds
    if isinstance(like, Mapping):
        ds = Dataset()
        for key, value in like.items():
            if key in _COPIED or key in ("Modality", "SeriesDescription", "SeriesNumber"):
                setattr(ds, key, value)
        return ds
    raise TypeError(f"like must be a pydicom Dataset, a DICOM file path, a mapping or None, "
                    f"got {type(like).__name__}")


def write_dicom(volume: Volume, directory: str | os.PathLike, like: Any = None, *,
                series_description: str | None = None) -> list[str]:
    """Write ``volume`` as a derived DICOM series, one file per slice.

    Parameters
    ----------
    volume : Volume
        2-D or 3-D, integer, bool or float data, with its geometry.
    directory : str or os.PathLike
        Created if missing. Files are named ``slice_0001.dcm``, ``slice_0002.dcm``...
    like : pydicom.Dataset, path, mapping or None, optional
        Where the patient, study and frame-of-reference attributes (PatientName, PatientID,
        StudyInstanceUID, FrameOfReferenceUID, ...) are copied from; its pixel data and series
        / instance UIDs are not. Default: ``volume.meta`` when it is a pydicom Dataset or a
        dict of DICOM keywords (so a volume read with :func:`read_dicom` is written into the
        same study); pass ``pydicom.Dataset()`` for a new anonymous study.
    series_description : str, optional
        SeriesDescription; default ``"<like's SeriesDescription> (medkern)"`` or
        ``"medkern derived"``.

    Returns
    -------
    list of str
        The written paths, in slice order (z).

    Raises
    ------
    TypeError
        If ``volume`` is not a Volume or has an unsupported dtype.
    ValueError
        If the array is not 2-D/3-D, holds NaN/inf or integers beyond 32 bits, or the
        direction is not orthonormal.
    FileExistsError
        If a file to be written already exists (nothing is overwritten).

    Notes
    -----
    New SeriesInstanceUID and SOPInstanceUIDs (``pydicom.uid.generate_uid``); Explicit VR
    Little Endian. Geometry: ImageOrientationPatient from the first two direction columns,
    ImagePositionPatient of slice k = ``origin + k * dz * direction[:, 2]``, PixelSpacing
    (dy, dx), SliceThickness and SpacingBetweenSlices dz. SOP class CT/MR/PET Image Storage
    for those modalities, Secondary Capture otherwise; ImageType DERIVED\\SECONDARY.

    Storage: integers are stored losslessly with RescaleSlope 1, RescaleIntercept 0 (8- and
    16-bit dtypes as they are, wider ones in the narrowest of int16/uint16/int32/uint32 that
    holds the values); bool as uint8 0/1. Floats are stored as uint16 with RescaleIntercept =
    the minimum and RescaleSlope = range / 65535 (both as DICOM decimal strings), so reading
    back gives float32 within slope / 2 of the input. ``read_dicom`` returns the written array
    (exact for integers) and geometry; a volume whose z axis points against
    ``cross(x, y)`` (left-handed direction) comes back with its slices in the opposite order
    (same positions in space), and a 3-D volume of one slice comes back 2-D.
    """
    if not isinstance(volume, Volume):
        raise TypeError(f"volume must be a medkern.Volume, got {type(volume).__name__}")
    arr = np.asarray(volume)
    if arr.ndim not in (2, 3):
        raise ValueError(f"volume must be 2-D or 3-D to write as DICOM, got ndim={arr.ndim}")
    stored, slope, intercept = _encode(arr)
    direction = np.asarray(volume.direction, dtype=np.float64)
    if np.max(np.abs(direction.T @ direction - np.eye(3))) > 1e-3:
        raise ValueError(f"volume.direction must be orthonormal to write DICOM geometry, "
                         f"got\n{direction}")
    row, col, zdir = direction[:, 0], direction[:, 1], direction[:, 2]
    normal = np.cross(row, col)
    if arr.ndim == 3:
        dz, dy, dx = volume.spacing
        slices = [stored[k] for k in range(arr.shape[0])]
    else:
        (dy, dx), dz = volume.spacing, None
        slices = [stored]
    origin = np.asarray(volume.origin, dtype=np.float64)

    if like is None and isinstance(volume.meta, (Dataset, Mapping)):
        like = volume.meta
    like_ds = _like_dataset(like)
    out_dir = os.fspath(directory)
    width = max(4, len(str(len(slices))))
    paths = [os.path.join(out_dir, f"slice_{k + 1:0{width}d}.dcm") for k in range(len(slices))]
    for p in paths:
        if os.path.exists(p):
            raise FileExistsError(f"{p}: already exists; write_dicom does not overwrite, choose "
                                  "an empty directory")
    os.makedirs(out_dir, exist_ok=True)

    like_get = like_ds.get if like_ds is not None else (lambda key, default=None: default)
    modality = volume.modality or str(like_get("Modality", "") or "") or "OT"
    sop_class = _SOP_CLASS_FOR_MODALITY.get(modality, _SECONDARY_CAPTURE)
    series_uid = generate_uid()
    study_uid = str(like_get("StudyInstanceUID") or generate_uid())
    frame_uid = str(like_get("FrameOfReferenceUID") or generate_uid())
    if series_description is None:
        base = str(like_get("SeriesDescription", "") or "")
        series_description = f"{base} (medkern)" if base else "medkern derived"
    number = like_get("SeriesNumber")
    try:
        series_number = int(number) + 1000 if number not in (None, "") else 1000
    except (TypeError, ValueError):
        series_number = 1000
    now = datetime.datetime.now()
    date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S.%f")
    bits = stored.dtype.itemsize * 8
    signed = stored.dtype.kind == "i"

    for k, (data, p) in enumerate(zip(slices, paths)):
        ds = Dataset()
        if like_ds is not None:
            for kw in _COPIED:
                if kw in like_ds:
                    setattr(ds, kw, like_ds.data_element(kw).value)
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID = study_uid
        ds.FrameOfReferenceUID = frame_uid
        for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
                   "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName"):
            if kw not in ds:
                setattr(ds, kw, "")
        ds.Modality = modality
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = series_number
        ds.SeriesDescription = series_description
        ds.SeriesDate, ds.SeriesTime = date, time
        ds.ContentDate, ds.ContentTime = date, time
        ds.InstanceNumber = k + 1
        ds.ImageType = ["DERIVED", "SECONDARY"]
        pos = origin + (k * dz * zdir if dz is not None else 0.0)
        ds.ImagePositionPatient = [_ds_str(v) for v in pos]
        ds.ImageOrientationPatient = [_ds_str(v) for v in (*row, *col)]
        ds.PixelSpacing = [_ds_str(dy), _ds_str(dx)]
        if dz is not None:
            ds.SliceThickness = _ds_str(dz)
            ds.SpacingBetweenSlices = _ds_str(dz)
        ds.SliceLocation = _ds_str(pos @ normal)
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = int(data.shape[0]), int(data.shape[1])
        ds.BitsAllocated = bits
        ds.BitsStored = bits
        ds.HighBit = bits - 1
        ds.PixelRepresentation = 1 if signed else 0
        ds.RescaleIntercept = _ds_str(intercept)
        ds.RescaleSlope = _ds_str(slope)
        if modality not in ("CT",):
            ds.RescaleType = "US"
        raw = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<")).tobytes()
        if len(raw) % 2:
            raw += b"\0"
        ds.add_new(0x7FE00010, "OB" if bits == 8 else "OW", raw)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
        ds.file_meta = meta
        if _PYDICOM_3:
            pydicom.dcmwrite(p, ds, enforce_file_format=True)
        else:  # pragma: no cover - pydicom 2.x
            ds.is_little_endian, ds.is_implicit_VR = True, False
            ds.preamble = b"\0" * 128
            pydicom.dcmwrite(p, ds, write_like_original=False)
    return paths
