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
* ``direction`` columns follow the array's axes too (see :mod:`medkern.volume`):
  column 0 the slice normal ``cross(row, column)``, column 1 the column direction
  cosine (down the rows, array axis 1), column 2 the row direction cosine (along a
  row, array axis 2); slices are sorted by their position along the normal, so
  axis 0 always advances along it. ``origin`` is the *ImagePositionPatient* of the
  first slice after sorting.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import math
import os
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, cast

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from ..volume import Volume

if TYPE_CHECKING:
    from pydicom.dataelem import DataElement

__all__ = ["DicomError", "DicomWarning", "read_dicom", "write_dicom", "list_series"]

_PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3
#: INFO: a directory scanned, a series read; DEBUG: scan and decode progress (coarse steps).
_log = logging.getLogger(__name__)

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


class DicomWarning(UserWarning):
    """Files of a directory were skipped because they cannot be read.

    Issued once per :func:`read_dicom` / :func:`list_series` call; the message starts with the
    directory and names how many files were skipped and, for the first few, why.
    """


#: File name suffixes of DICOM files (see :func:`_meant_as_dicom`).
_DICOM_SUFFIXES = (".dcm", ".dicom", ".dic", ".ima")
#: How many skipped files a DicomWarning names (the rest are counted).
_WARN_FILES = 3


@contextlib.contextmanager
def _quiet_pydicom():
    """Keep pydicom's own warnings (invalid VRs, padding...) off the caller's stderr.

    Whatever matters is raised as a DicomError or summarised in one DicomWarning instead.
    Warnings that are not UserWarnings (numpy's RuntimeWarning...) are passed on: they would
    point at a bug here, not at the file.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        if issubclass(w.category, UserWarning) and not issubclass(w.category, DicomWarning):
            continue
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


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
            files: list[str] = []
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


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _looks_like_uid(value: Any) -> bool:
    s = str(value) if value is not None else ""
    return bool(s) and len(s) <= 64 and all(ch.isdigit() or ch == "." for ch in s)


def _meant_as_dicom(path: str) -> bool:
    """Whether a file found in a directory is presumably DICOM by its name: a DICOM suffix,
    no suffix at all (``IM0001``, ``2693``) or a numeric one (UID-named files). Such a file
    that cannot be parsed is reported, since it may be a slice of the series; files with
    other suffixes (``README.txt``, ``scan.jpg``), hidden ones and text files are skipped
    silently."""
    name = os.path.basename(path)
    if name.startswith("."):
        return False
    ext = os.path.splitext(name)[1].lower()
    if ext in _DICOM_SUFFIXES:
        return True
    if ext and not ext[1:].isdigit():
        return False
    # extensionless text (a README on a scanner's CD) is not DICOM: a DICOM file, even cut
    # short, has NUL bytes in its preamble or its first tags
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
        head.decode("utf-8")
        return not head or b"\0" in head
    except (OSError, UnicodeDecodeError):
        return True


def _read_header(path: str, explicit: bool) -> Dataset | None:
    """The data set of ``path`` with large values (the pixels) left in the file.

    ``None`` for a file that is plainly not DICOM (``README.txt``); a DicomError for a file
    that is named by the caller, carries the 'DICM' prefix or a DICOM-like name
    (:func:`_meant_as_dicom`) but cannot be parsed, since that one was meant to be read.
    """
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
    if explicit or _meant_as_dicom(path):
        try:
            empty = os.path.getsize(path) == 0
        except OSError:
            empty = False
        if empty:
            raise DicomError(f"{path}: empty file (0 bytes), not a DICOM file")
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


def _int_value(ds: Dataset, keyword: str, where: str, default: int | None = None) -> int:
    """The integer ``keyword`` of ``ds``; ``default`` when absent or empty (a DicomError when
    there is no default), a DicomError when it is not one integer."""
    try:
        value = ds.get(keyword)
    except Exception as exc:  # pydicom converts raw values on first access
        raise DicomError(f"{where}: invalid {keyword} ({type(exc).__name__}: {exc})") from exc
    if value is None or value == "":
        if default is None:
            raise DicomError(f"{where}: missing {keyword}")
        return default
    try:
        n = int(value)
        if n != float(value):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise DicomError(f"{where}: invalid {keyword} {value!r} (expected one integer)") from None
    return n


def _n_frames(ds: Dataset, path: str) -> int:
    n = _int_value(ds, "NumberOfFrames", path, default=1)
    if n < 1:
        raise DicomError(f"{path}: invalid NumberOfFrames {ds.get('NumberOfFrames')!r}")
    return n


def _series_of(ds: Dataset | None) -> str | None:
    """SeriesInstanceUID of ``ds`` if it can be read at all."""
    try:
        uid = ds.get("SeriesInstanceUID") if ds is not None else None
        return str(uid) if uid else None
    except Exception:
        return None


def _reason(exc: DicomError, path: str) -> str:
    """The message of ``exc`` without the leading ``path: ``."""
    text = str(exc)
    return text[len(path) + 2:] if text.startswith(f"{path}: ") else text


@dataclasses.dataclass
class _Scan:
    """What a directory scan found."""

    items: list[tuple[str, Dataset]]            # readable headers
    broken: list[tuple[str, DicomError, str | None]]  # (file, error, its series if known)
    skipped: int                                # files that are plainly not DICOM

    def broken_in(self, uid: str | None) -> list[tuple[str, DicomError]]:
        """Unreadable files of series ``uid``: by their header, or, when no header could be
        parsed, by the UID appearing in the file's bytes."""
        out = []
        for f, err, file_uid in self.broken:
            if file_uid is not None:
                if uid is not None and file_uid == uid:
                    out.append((f, err))
            elif uid is not None and _mentions_uid(f, uid):
                out.append((f, err))
        return out


def _mentions_uid(path: str, uid: str) -> bool:
    """Whether the first MiB of ``path`` holds ``uid`` as a whole value (not a prefix of a
    longer UID): how a slice whose header cannot be parsed is still tied to its series."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
    except OSError:
        return False
    pattern = rb"(?<![0-9.])" + re.escape(uid.encode("ascii", "replace")) + rb"(?![0-9.])"
    return re.search(pattern, head) is not None


def _unreadable_list(label: str, broken: Sequence[tuple[str, DicomError]]) -> str:
    """``"2 unreadable DICOM file(s): a.dcm (why); b.dcm (why)"``, paths relative to the
    directory ``label``."""
    root = label if os.path.isdir(label) else None
    parts = []
    for f, err in broken[:_WARN_FILES]:
        name = os.path.relpath(f, root) if root else f
        reason = _reason(err, f)
        parts.append(f"{name} ({reason if len(reason) <= 160 else reason[:157] + '...'})")
    more = f"; and {len(broken) - _WARN_FILES} more" if len(broken) > _WARN_FILES else ""
    return f"{len(broken)} unreadable DICOM file(s): " + "; ".join(parts) + more


def _fail_if_broken(scan: _Scan, uid: str | None, where: str) -> list[tuple[str, DicomError]]:
    """Raise for the unreadable files of series ``uid``; return the other unreadable files
    (skipped: the caller warns about them)."""
    mine = scan.broken_in(uid)
    if mine:
        f, err = mine[0]
        others = f" ({len(mine) - 1} more file(s) of the series cannot be read)" \
            if len(mine) > 1 else ""
        raise DicomError(f"{f}: {_reason(err, f)} [a file of {where}]{others}") from err
    return [(f, err) for f, err, _ in scan.broken]


def _scan(files: list[str], explicit: bool, label: str) -> _Scan:
    """Read and check the headers of ``files``.

    Files the caller named must all be readable (the first that is not raises). Files found
    by walking a directory that cannot be read are set aside in ``broken`` so one corrupt
    file does not hide every other series; the caller fails only if the series it loads owns
    one of them.
    """
    items, broken = [], []
    skipped = 0
    step = max(100, len(files) // 10)  # DEBUG progress about every 10 %
    for i, f in enumerate(files):
        if i and i % step == 0:
            _log.debug("%s: scanning headers: %d/%d files", label, i, len(files))
        ds = None
        try:
            ds = _read_header(f, explicit)
            if ds is None:
                skipped += 1
                continue
            with _about(f, "cannot parse the DICOM header"):
                for kw in _HEADER_KEYWORDS:
                    ds.get(kw)
                is_dicomdir = _is_dicomdir(ds)
                if not explicit and not is_dicomdir and not _looks_like_uid(ds.get("SOPClassUID")):
                    # a corrupt length swallows the rest of the header into one value: what
                    # parses is no object, and dropping it silently could drop a slice
                    raise DicomError(f"{f}: corrupt header (no valid SOPClassUID: "
                                     f"{_short(ds.get('SOPClassUID'))})")
                _transfer_syntax(ds)
                if _is_image(ds):
                    _n_frames(ds, f)
                    for kw in ("Rows", "Columns"):  # list_series shows them
                        _int_value(ds, kw, f, default=0)
        except DicomError as exc:
            if explicit:
                raise
            broken.append((f, exc, _series_of(ds)))
            continue
        if is_dicomdir:
            if explicit and len(files) == 1:
                raise DicomError(f"{f}: a DICOMDIR index, not an image; pass the directory "
                                 "that holds the series instead")
            continue
        items.append((f, ds))
    if not items:
        if broken:
            listing = _unreadable_list(label, [(f, err) for f, err, _ in broken])
            raise DicomError(f"{label}: no readable DICOM file; {listing}") from broken[0][1]
        why = f" ({skipped} non-DICOM file(s) skipped)" if skipped else ""
        raise DicomError(f"{label}: no DICOM files found{why}")
    _log.info("%s: scanned %d file(s): %d DICOM object(s), %d unreadable, %d not DICOM",
              label, len(files), len(items), len(broken), skipped)
    return _Scan(items, broken, skipped)


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
    shapes: set[tuple[int, int] | None] = set()
    for f, ds in images:
        with _about(f, "cannot parse the DICOM header"):
            n += _n_frames(ds, f)
            rows, cols = _int_value(ds, "Rows", f, 0), _int_value(ds, "Columns", f, 0)
            shapes.add((rows, cols) if rows > 0 and cols > 0 else None)
    shape = None
    if len(shapes) == 1 and None not in shapes:
        (rc,) = shapes
        assert rc is not None  # None not in shapes
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

def _parse_floats(value: Any, n: int, what: str, where: str) -> np.ndarray:
    def shown() -> str:
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."

    try:
        out = np.array([float(v) for v in (value if n > 1 else [value])], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise DicomError(f"{where}: invalid {what} {shown()}") from None
    if out.shape != (n,) or not np.all(np.isfinite(out)):
        raise DicomError(f"{where}: invalid {what} {shown()} (expected {n} finite number(s))")
    return out


#: The photometric interpretations of a greyscale image (one sample per pixel).
_GREY = ("MONOCHROME1", "MONOCHROME2")
#: BitsAllocated values whose pixels numpy holds as they are (1: bit-packed, unpacked to uint8).
_BITS_ALLOCATED = (1, 8, 16, 32, 64)


def _check_pixel_format(path: str, ds: Dataset) -> tuple[int, int]:
    """(Rows, Columns) once the Image Pixel module of ``ds`` describes a greyscale image that
    can be decoded unambiguously; a DicomError naming the offending attribute otherwise.

    These attributes say how the bytes become pixels, so a wrong one gives a plausible but
    wrong image (bytes read as pixels, colour indices read as intensities): refuse, not guess.
    """
    spp = _int_value(ds, "SamplesPerPixel", path)
    try:
        photometric = ds.get("PhotometricInterpretation")
        photometric = "" if photometric is None else str(photometric).strip()
    except Exception as exc:
        raise DicomError(f"{path}: invalid PhotometricInterpretation "
                         f"({type(exc).__name__}: {exc})") from exc
    if spp < 1:
        raise DicomError(f"{path}: invalid SamplesPerPixel {spp} (a greyscale image has 1)")
    if spp != 1:
        what = photometric or "no PhotometricInterpretation"
        raise DicomError(f"{path}: {spp} samples per pixel ({what}); only single-channel "
                         "(greyscale) images can form a volume")
    if not photometric:
        raise DicomError(f"{path}: missing PhotometricInterpretation (needed to tell a "
                         "greyscale image from colour-palette indices)")
    if photometric == "PALETTE COLOR":
        raise DicomError(f"{path}: a PALETTE COLOR image: the stored values are indices into "
                         "a colour lookup table, not intensities; only greyscale "
                         "(MONOCHROME1/MONOCHROME2) images can form a volume")
    if photometric not in _GREY:
        raise DicomError(f"{path}: PhotometricInterpretation {photometric!r} with 1 sample per "
                         "pixel is not a greyscale image (MONOCHROME1/MONOCHROME2); only those "
                         "can form a volume")
    rows = _int_value(ds, "Rows", path, default=0)
    cols = _int_value(ds, "Columns", path, default=0)
    if rows < 1 or cols < 1:
        raise DicomError(f"{path}: missing or zero Rows/Columns ({rows} x {cols})")
    bits = _int_value(ds, "BitsAllocated", path)
    if "PixelData" not in ds:  # float pixel data: the keyword fixes the sample size
        need = 32 if "FloatPixelData" in ds else 64
        if bits != need:
            raise DicomError(f"{path}: BitsAllocated {bits} with "
                             f"{'Float' if need == 32 else 'Double Float'} Pixel Data "
                             f"(must be {need})")
        return rows, cols
    if bits not in _BITS_ALLOCATED:
        raise DicomError(f"{path}: invalid BitsAllocated {bits} (supported: "
                         f"{', '.join(map(str, _BITS_ALLOCATED))})")
    stored = _int_value(ds, "BitsStored", path)
    if not 1 <= stored <= bits:
        raise DicomError(f"{path}: invalid BitsStored {stored} for BitsAllocated {bits} "
                         f"(must be 1 to {bits})")
    representation = _int_value(ds, "PixelRepresentation", path)
    if representation not in (0, 1):
        raise DicomError(f"{path}: invalid PixelRepresentation {representation} (0: unsigned, "
                         "1: two's complement)")
    return rows, cols


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
    shape = _check_pixel_format(path, ds)
    nf = _n_frames(ds, path)
    # before anything per frame: a garbled NumberOfFrames must not cost a loop over it
    _check_pixel_size(path, ds, *shape, nf, loaded=False)
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

    # frames mostly share one value (the top-level or shared group one): parse it once
    parsed: dict[tuple[int, str], np.ndarray] = {}

    def floats(value: Any, n: int, what: str, where: str) -> np.ndarray:
        key = (id(value), what)
        if key not in parsed:
            parsed[key] = _parse_floats(value, n, what, where)
        return parsed[key]

    orientations: list[np.ndarray | None]
    spacings: list[tuple[float, float] | None]
    slopes: list[float]
    intercepts: list[float]
    orientations, spacings, slopes, intercepts = [], [], [], []
    for k in range(nf):
        where = path if nf == 1 else f"{path} (frame {k + 1})"
        iop = _functional(item(k), shared, "PlaneOrientationSequence", "ImageOrientationPatient")
        iop = top_iop if iop is None else iop
        orientations.append(None if iop is None
                            else floats(iop, 6, "ImageOrientationPatient", where))
        ps = _functional(item(k), shared, "PixelMeasuresSequence", "PixelSpacing")
        ps = top_spacing if ps is None else ps
        if ps is None:
            spacings.append(None)
        else:
            sp = floats(ps, 2, "PixelSpacing", where)
            if np.any(sp <= 0):
                raise DicomError(f"{where}: invalid PixelSpacing {list(ps)} (must be positive)")
            spacings.append((float(sp[0]), float(sp[1])))
        pvt = "PixelValueTransformationSequence"
        slope = _functional(item(k), shared, pvt, "RescaleSlope")
        intercept = _functional(item(k), shared, pvt, "RescaleIntercept")
        slope = top_slope if slope is None else slope
        intercept = top_intercept if intercept is None else intercept
        slopes.append(1.0 if slope in (None, "")
                      else float(floats(slope, 1, "RescaleSlope", where)[0]))
        intercepts.append(0.0 if intercept in (None, "")
                          else float(floats(intercept, 1, "RescaleIntercept", where)[0]))
    if "DoseGridScaling" in ds and ds.DoseGridScaling not in (None, ""):
        scale = float(floats(ds.DoseGridScaling, 1, "DoseGridScaling", path)[0])
        slopes = [s * scale for s in slopes]
        if not all(math.isfinite(s) for s in slopes):
            raise DicomError(f"{path}: RescaleSlope x DoseGridScaling {scale!r} overflows "
                             "the float64 range")
    # a zero slope maps every stored value to the intercept; subnormal ones too, wherever the
    # CPU flushes denormals to zero (Taichi sets that), so both are refused alike
    tiny = [k for k, s in enumerate(slopes) if abs(s) < sys.float_info.min]
    if rescale and tiny:
        k = tiny[0]
        what = "RescaleSlope x DoseGridScaling" if "DoseGridScaling" in ds else "RescaleSlope"
        raise DicomError(f"{path if nf == 1 else f'{path} (frame {k + 1})'}: {what} "
                         f"{slopes[k]:g} is 0 or below the normal float64 range, which maps "
                         "every stored value to the intercept; read with rescale=False for the "
                         "stored values")

    positions: list[np.ndarray | None]
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
            positions.append(floats(ipp, 3, "ImagePositionPatient", f"{path} (frame {k + 1})"))
    elif nf > 1 and "GridFrameOffsetVector" in ds:
        offsets = floats(ds.GridFrameOffsetVector, nf, "GridFrameOffsetVector", path)
        if top_ipp is None or orientations[0] is None:
            raise DicomError(f"{path}: GridFrameOffsetVector without ImagePositionPatient/"
                             "ImageOrientationPatient; the frames cannot be placed")
        origin = floats(top_ipp, 3, "ImagePositionPatient", path)
        _, _, normal = _axes(orientations[0], path)
        # Relative offsets start at 0; absolute ones start at the first frame's z. Either way
        # the first frame is at ImagePositionPatient.
        positions = [origin + (o - offsets[0]) * normal for o in offsets]
    elif nf > 1:
        raise DicomError(f"{path}: multi-frame object ({nf} frames) without per-frame positions "
                         "(no PerFrameFunctionalGroupsSequence/PlanePositionSequence or "
                         "GridFrameOffsetVector); the frames cannot be placed in space")
    else:
        positions = [None if top_ipp is None else floats(top_ipp, 3, "ImagePositionPatient", path)]

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


def _raw_little_endian(ds: Dataset, ts: UID, count: int) -> np.ndarray | None:
    """Uncompressed little-endian grey 8/16/32-bit pixels straight from the bytes.

    The common CT/MR case; skipping pydicom's general ``pixel_array`` machinery
    keeps ``read_dicom`` within ~1.2x of a bare pydicom loop. ``None`` for
    anything else (the caller falls back to ``pixel_array``).
    """
    bits = int(ds.get("BitsAllocated") or 0)
    if (not getattr(ts, "is_little_endian", False) or bits not in (8, 16, 32)
            or int(ds.get("SamplesPerPixel", 1) or 1) != 1 or "PixelData" not in ds):
        return None
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    dtype = np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")
    return np.frombuffer(ds.PixelData, dtype=dtype, count=count)


def _pixel_bytes(path: str, ds: Dataset, loaded: bool) -> int | None:
    """Length of the pixel data element: read from the file when ``loaded``, else the length
    its header gives (the value stays in the file until it is decoded; ``None`` when the
    length is undefined)."""
    keyword = next(k for k in _PIXEL_KEYWORDS if k in ds)
    try:
        if not loaded:
            elem = ds.get_item(keyword)
            if getattr(elem, "value", None) is None:  # deferred: only its header was read
                length = getattr(elem, "length", None)
                return None if length is None or length == 0xFFFFFFFF else int(length)
        return len(ds[keyword].value)
    except Exception as exc:
        raise DicomError(f"{path}: cannot read the pixel data "
                         f"({type(exc).__name__}: {exc})") from exc


def _check_native_length(path: str, ds: Dataset, rows: int, cols: int, nf: int,
                         loaded: bool) -> None:
    """Uncompressed pixel data must be exactly as long as the header says.

    Longer data is refused too: pydicom would decode its first part, so a wrong Columns gives
    a sheared image, a wrong BitsAllocated bytes read as pixels and a missing NumberOfFrames
    the first frame of many. The one legitimate excess is the pad byte to an even length.
    """
    n_bytes = _pixel_bytes(path, ds, loaded)
    if n_bytes is None:
        return
    bits = _int_value(ds, "BitsAllocated", path)
    expected = (rows * cols * nf * bits + 7) // 8
    layout = f"{nf} frame(s) of {rows}x{cols} at {bits} bits"
    if n_bytes < expected:
        raise DicomError(f"{path}: truncated file (pixel data shorter than expected: {n_bytes} "
                         f"of {expected} bytes for {layout})")
    if n_bytes > expected + (expected % 2):
        raise DicomError(f"{path}: the pixel data is longer than the header says: {n_bytes} "
                         f"bytes where {layout} take {expected}; Rows, Columns, "
                         "NumberOfFrames or BitsAllocated is wrong, so the image layout is "
                         "unknown")


#: First bytes of a JPEG (SOI + a marker) and a JPEG 2000 (SOC + SIZ, or the JP2 signature
#: box) code stream: a fragment starting so begins a frame.
_FRAME_STARTS = (b"\xff\xd8\xff", b"\xff\x4f\xff\x51", b"\x00\x00\x00\x0cjP  ")


def _encapsulated_frames(ds: Dataset, ts: UID) -> int | None:
    """How many frames the encapsulated pixel data holds; ``None`` when it cannot be told.

    pydicom decodes as many frames as NumberOfFrames asks for, so a wrong (or missing) value
    would silently drop frames: the offset tables, or else the fragments, say how many there
    are. RLE puts each frame in exactly one fragment; JPEG-family frames may span several
    fragments but each starts with a code stream header.
    """
    from pydicom.encaps import parse_basic_offsets, parse_fragments

    if "ExtendedOffsetTable" in ds and ds.ExtendedOffsetTable:
        return len(ds.ExtendedOffsetTable) // 8
    data = ds.PixelData
    offsets = parse_basic_offsets(data)
    if offsets:
        return len(offsets)
    body = data[8:]  # after the empty Basic Offset Table item
    n_fragments, positions = parse_fragments(body)
    if ts == pydicom.uid.RLELossless:
        return n_fragments
    starts = sum(1 for p in positions if body[p + 8:p + 16].startswith(_FRAME_STARTS))
    return starts or None


def _check_pixel_size(path: str, ds: Dataset, rows: int, cols: int, nf: int, *,
                      loaded: bool) -> None:
    """The pixel data holds exactly ``nf`` frames of ``rows`` x ``cols`` (as far as can be told
    without decoding: the byte count, or the compressed frames).

    With ``loaded=False`` only what the element's header says is used, so scanning a series
    does not pull every file's pixels into memory at once; the decoder checks again on the
    bytes actually read.
    """
    ts = _transfer_syntax(ds)
    if not getattr(ts, "is_compressed", False):
        _check_native_length(path, ds, rows, cols, nf, loaded)
        return
    if "PixelData" not in ds:
        return
    if not loaded:
        n_bytes = _pixel_bytes(path, ds, loaded=False)
        # every frame takes at least one 8-byte fragment item
        if n_bytes is not None and nf > n_bytes // 8:
            raise DicomError(f"{path}: NumberOfFrames {nf} cannot fit in {n_bytes} bytes of "
                             "compressed pixel data")
        return
    try:
        held = _encapsulated_frames(ds, ts)
    except Exception as exc:
        raise DicomError(f"{path}: cannot parse the encapsulated pixel data "
                         f"({type(exc).__name__}: {exc})") from exc
    if held is not None and held != nf:
        raise DicomError(f"{path}: the compressed pixel data holds {held} frame(s) but "
                         f"NumberOfFrames says {nf}")


#: pydicom's warning for RLE segments that decode to more bytes than Rows x Columns.
_RLE_EXCESS = re.compile(r"non-conformant padding\D*(\d+) vs\.? (\d+) bytes")


def _decode(path: str, ds: Dataset, rows: int, cols: int, nf: int) -> np.ndarray:
    """The stored values of every frame of ``ds``: (frames, rows, cols), native byte order.

    ``ds`` has passed :func:`_frames` (its pixel format is checked, ``rows``, ``cols`` and
    ``nf`` come from there).
    """
    ts = _transfer_syntax(ds)
    compressed = bool(getattr(ts, "is_compressed", False))
    packages = _DECODER_PACKAGES.get(str(ts), _ANY_DECODER)
    _check_pixel_size(path, ds, rows, cols, nf, loaded=True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            arr = _raw_little_endian(ds, ts, nf * rows * cols) if not compressed else None
            if arr is None:
                arr = ds.pixel_array
    except Exception as exc:
        if compressed and not _decoder_available(ts):
            raise DicomError(f"{path}: the pixel data is compressed ({ts.name}, {ts}) and no "
                             f"installed decoder handles it; install {packages}") from exc
        msg = f"{type(exc).__name__}: {exc}"
        if "less than expected" in str(exc) or isinstance(exc, EOFError):
            raise DicomError(f"{path}: truncated file ({msg})") from exc
        if "broadcast" in str(exc):  # the decoder's frame is not Rows x Columns
            raise DicomError(f"{path}: the compressed frame does not decode to the header's "
                             f"{rows}x{cols} pixels ({msg}); Rows or Columns is wrong") from exc
        hint = f"; installing {packages} may help" if compressed else ""
        raise DicomError(f"{path}: cannot decode the pixel data ({ts.name}): {msg}{hint}") from exc
    for w in caught:
        text = str(w.message)
        m = _RLE_EXCESS.search(text)
        if m or "non-conformant padding" in text:
            # pydicom drops the excess; it means the frame is not Rows x Columns (an odd-sized
            # segment's single pad byte is the one legitimate excess)
            if m is None or not (int(m[1]) - int(m[2]) == 1 and int(m[2]) % 2 == 1):
                raise DicomError(f"{path}: the compressed pixel data decodes to more bytes "
                                 f"than the header's {nf} frame(s) of {rows}x{cols} ({text}); "
                                 "Rows, Columns or NumberOfFrames is wrong")
    arr = np.asarray(arr)
    if arr.dtype.byteorder not in "=|":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    stored_bits = ds.get("BitsStored")
    width = arr.dtype.itemsize * 8
    if (arr.dtype.kind in "iu" and stored_bits and 0 < int(stored_bits) < width and compressed
            and ts != pydicom.uid.RLELossless):
        # A JPEG-family code stream carries its own precision: values beyond BitsStored mean
        # the header is wrong, and masking them would invent an image.
        bits = int(stored_bits)
        signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
            raise DicomError(f"{path}: the compressed pixel data holds values "
                             f"{int(arr.min())}..{int(arr.max())}, beyond the "
                             f"{'signed' if signed else 'unsigned'} {bits}-bit range BitsStored "
                             "and PixelRepresentation give")
    elif arr.dtype.kind in "iu" and stored_bits and 0 < int(stored_bits) < width:
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


def _rescaled(stored: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray,
              labels: Sequence[str]) -> np.ndarray:
    """``stored * slope + intercept`` per slice, in the dtype of the documented policy.

    float32, unless a value would overflow it (or a non-zero one fall below its normal
    range): then float64 for the whole volume, as an all-inf (or all-zero) image is no
    answer. A value beyond float64 is refused (``labels[i]`` names slice ``i``).
    """
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
                out: np.ndarray = np.empty(stored.shape, dt)
                for i in range(len(stored)):
                    out[i] = stored[i].astype(dt) + dt(int(intercepts[i]))
                return out
    out = np.empty(stored.shape, np.float32)
    for i in range(len(stored)):
        with np.errstate(over="ignore", invalid="ignore"):
            values = stored[i].astype(np.float64) * slopes[i] + intercepts[i]
            # rounding is monotonic, so the extreme stored values give the extreme results:
            # two passes over the (narrow) stored slice instead of a finiteness mask
            if values.size == 0:
                continue
            ends = (float(stored[i].min()) * slopes[i] + intercepts[i],
                    float(stored[i].max()) * slopes[i] + intercepts[i])
        if not all(math.isfinite(e) for e in ends):
            finite = np.isfinite(values)
            # float pixel data may hold NaN/inf itself; finite data must stay finite
            bad = ~finite & np.isfinite(stored[i])
            if bad.any():
                x = stored[i][bad].flat[0]
                raise DicomError(f"{labels[i]}: RescaleSlope {slopes[i]:g} and RescaleIntercept "
                                 f"{intercepts[i]:g} take the stored value {x} beyond the "
                                 "float64 range")
            kept = values[finite]
            ends = (float(kept.min()), float(kept.max())) if kept.size else (0.0, 0.0)
        if out.dtype == np.float32 and _beyond_float32(values, ends, slopes[i], intercepts[i],
                                                       stored.dtype):
            wide = np.empty(stored.shape, np.float64)
            for j in range(i):  # recomputed: their float32 copies are already rounded
                wide[j] = stored[j].astype(np.float64) * slopes[j] + intercepts[j]
            out = wide
        out[i] = values
    return out


def _beyond_float32(values: np.ndarray, ends: tuple[float, float], slope: float,
                    intercept: float, stored: np.dtype) -> bool:
    """Whether float32 would turn some of the (float64) ``values``, ``stored`` values of that
    dtype rescaled and spanning ``ends``, into inf, or non-zero ones into 0 or subnormals."""
    f32 = np.finfo(np.float32)
    top, tiny = float(f32.max), float(f32.tiny)  # Python floats: no float32 casts here
    if max(abs(ends[0]), abs(ends[1])) > top:
        return True
    # values below float32's normal range need a tiny slope or intercept (integer or float32
    # stored values times a normal slope stay normal, or nearly): only then, or for float64
    # stored values, look at every value
    if (0 < abs(slope) < tiny * 2 ** 24 or 0 < abs(intercept) < tiny * 2 ** 24
            or stored == np.float64):
        magnitude = np.abs(values[np.isfinite(values)])
        magnitude = magnitude[magnitude > 0]
        return bool(magnitude.size and float(magnitude.min()) < tiny)
    return False


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
    # float64 data (rescaled beyond float32) stays float64
    out = np.empty((m,) + array.shape[1:],
                   np.float64 if array.dtype == np.float64 else np.float32)
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
                 tol: float, resample: bool,
                 progress: Callable[[int, int], None] | None = None) -> Volume:
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
            else:  # no frame lacks an orientation (`missing` above)
                distinct.append((cast(np.ndarray, fr.orientation), fr.label, 1))
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
        with np.errstate(over="ignore", invalid="ignore"):
            proj = np.array([fr.position @ normal for fr in frames])
            span = float(np.max(proj) - np.min(proj)) if np.all(np.isfinite(proj)) else math.inf
        if not math.isfinite(span) or any(not np.all(np.isfinite(cast(np.ndarray, fr.position)))
                                          for fr in frames):  # none is None (`missing` above)
            raise DicomError(f"{where}: slice positions (ImagePositionPatient / "
                             "GridFrameOffsetVector) are too large to compute distances between "
                             "them")
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
    first_of: dict[str, _Frame] = {}
    for out_i, fr in enumerate(frames):
        by_file.setdefault(fr.path, []).append((out_i, fr.index))
        first_of.setdefault(fr.path, fr)
    _log.info("%s: decoding %d slice(s) from %d file(s)", where, n, len(by_file))
    done, next_log = 0, max(1, n // 10)  # DEBUG about every 10 %
    if progress is not None:
        progress(0, n)
    for f, places in by_file.items():
        with _about(f, "cannot read the pixel data"):
            head = first_of[f]
            arr = _decode(f, head.ds, *head.shape, head.n_frames)
        if stored is None:
            stored = np.empty((n,) + arr.shape[1:], arr.dtype)
        elif arr.dtype != stored.dtype:
            stored = stored.astype(np.result_type(stored.dtype, arr.dtype))
        for out_i, k in places:
            stored[out_i] = arr[k]
        del arr
        _drop_pixels(first_of[f].ds)  # the pixels now live in `stored`; meta keeps the header
        done += len(places)
        if progress is not None:
            progress(done, n)
        if done >= next_log or done == n:
            _log.debug("%s: decoded %d/%d slices", where, done, n)
            next_log = done + max(1, n // 10)

    assert stored is not None  # frames is not empty: the loop above decoded at least one file
    if rescale:
        array = _rescaled(stored, np.array([fr.slope for fr in frames]),
                          np.array([fr.intercept for fr in frames]), [fr.label for fr in frames])
    else:
        array = stored
    del stored

    meta = frames[0].ds
    # Volume takes any 3 numbers as origin (and stores them as a tuple of float)
    origin = cast("tuple[float, ...]",
                  frames[0].position if frames[0].position is not None else np.zeros(3))
    direction = np.column_stack([normal, col, row])  # array order: slice, row, column
    if n == 1:
        return Volume(array[0], spacing=(dy, dx), origin=origin, direction=direction,
                      series_uid=uid, modality=_modality(meta), meta=meta)
    assert dz is not None  # n > 1: set from the slice positions above
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

        ``unreadable`` lists the files of the series whose header could not be read
        (:func:`read_dicom` of that series raises).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DicomError
        If no readable DICOM file is found, or a named file is not DICOM or cannot be
        parsed.

    Warns
    -----
    DicomWarning
        Once, when DICOM files found in the directory could not be read and were skipped.

    Notes
    -----
    The list says what :func:`read_dicom` can be asked for (``series_uid=``); it does not
    check that a series forms a valid volume (orientations, spacing, pixel data).
    """
    files, explicit, label = _collect(path)
    with _quiet_pydicom():
        scan = _scan(files, explicit, label)
        out = [_summary(uid, its) for uid, its in _group(scan.items).items()]
        for entry in out:
            entry["unreadable"] = [f for f, _ in scan.broken_in(entry["uid"])]
    if scan.broken:
        warnings.warn(DicomWarning(f"{label}: skipped "
                                   + _unreadable_list(label, [(f, e) for f, e, _ in scan.broken])),
                      stacklevel=2)
    return out


def read_dicom(path: str | os.PathLike | Sequence[str | os.PathLike], series_uid: str | None = None,
               rescale: bool = True, *, spacing_tolerance: float = 0.01,
               resample: bool = False,
               progress: Callable[[int, int], None] | None = None) -> Volume:
    """Read a DICOM series (or one image) as a :class:`~medkern.Volume`.

    Parameters
    ----------
    path : str, os.PathLike or sequence of them
        A DICOM file, a list of files, or a directory (searched recursively; files that are
        not DICOM, such as READMEs, and DICOMDIR index files are skipped silently; DICOM
        files that cannot be read are skipped with one :class:`DicomWarning` unless they
        belong to the series being read).
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
    progress : callable, optional
        ``progress(done, total)`` while the pixels are decoded: ``(0, total)`` first, then
        after each file, ``done`` slices of ``total`` (frames of multi-frame files count
        one each). For a progress bar over a large series; an exception it raises stops
        the reading. (Logging, logger ``medkern.io.dicom``, says the same at DEBUG level
        and the scan and the series read at INFO.)

    Returns
    -------
    Volume
        ``array`` (z, y, x), or (y, x) for a single slice; ``spacing`` (dz, dy, dx) mm;
        ``origin`` the ImagePositionPatient of the first slice after sorting; ``direction``
        columns in array order = slice normal, column cosine, row cosine; ``series_uid``,
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
        non-uniform gaps beyond ``spacing_tolerance`` unless ``resample=True``; a header
        that does not describe the pixel data (pixel data longer or shorter than Rows x
        Columns x NumberOfFrames x BitsAllocated, compressed frames that do not match,
        missing or invalid SamplesPerPixel, PhotometricInterpretation (PALETTE COLOR and
        other colour models are refused), BitsAllocated, BitsStored, PixelRepresentation);
        rescaled values beyond float64; an unreadable file of the series being read.

    Warns
    -----
    DicomWarning
        Once per call when files found in a directory (not named by the caller) could not be
        read and were skipped: their number and, for the first few, the reason.

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
    rounded once to float32), or float64 when a rescaled value would overflow float32 or a
    non-zero one fall below its normal range. ``rescale=False`` returns the stored values in
    the dtype pydicom decodes them to (signedness from PixelRepresentation, BitsStored
    honoured), native byte order.

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
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable (done, total) or None, got "
                        f"{type(progress).__name__}")
    files, explicit, label = _collect(path)
    with _quiet_pydicom():
        scan = _scan(files, explicit, label)
        uid = _choose_series(scan, label, series_uid)
        # the chosen series must be whole; unreadable files of other series are skipped
        skipped = _fail_if_broken(scan, uid, f"series {uid}")
        volume = _load_series(label, uid, _group(scan.items)[uid], bool(rescale), tol,
                              bool(resample), progress)
    _log.info("%s: read series %s: shape %s, %s", label, uid, volume.shape, volume.dtype)
    if skipped:
        warnings.warn(DicomWarning(f"{label}: skipped {_unreadable_list(label, skipped)}"),
                      stacklevel=2)
    return volume


def _choose_series(scan: _Scan, label: str, series_uid: str | None) -> str | None:
    """The SeriesInstanceUID read_dicom loads: ``series_uid``, or the only image series."""
    items = scan.items
    groups = _group(items)
    summaries = {uid: _summary(uid, its) for uid, its in groups.items()}
    images = [s for s in summaries.values() if s["n_slices"]]

    if series_uid is not None:
        uid = str(series_uid)
        if uid not in summaries:
            _fail_if_broken(scan, uid, f"series {uid}")  # all its files unreadable
            raise DicomError(f"{label}: no series with SeriesInstanceUID {uid}; present:\n"
                             + "\n".join(_describe(s) for s in summaries.values()))
        if not summaries[uid]["n_slices"]:
            s = summaries[uid]
            raise DicomError(f"{s['files'][0]}: series {uid} holds no image "
                             f"({s['sop_class']}, modality {s['modality']})")
        return uid
    if not images:
        if len(items) == 1 and not scan.broken:
            f, ds = items[0]
            raise DicomError(f"{f}: not an image ({_sop_name(ds)}, modality "
                             f"{_modality(ds)}): no pixel data")
        unreadable = ""
        if scan.broken:
            listing = _unreadable_list(label, [(f, e) for f, e, _ in scan.broken])
            unreadable = f"; and {listing}"
        raise DicomError(f"{label}: no image series, only non-image objects:\n"
                         + "\n".join(_describe(s) for s in summaries.values()) + unreadable)
    if len(images) > 1:
        raise DicomError(f"{label}: {len(images)} image series found; choose one with "
                         "series_uid= (see medkern.io.list_series):\n"
                         + "\n".join(_describe(s) for s in images))
    return images[0]["uid"]


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
        lo: float
        hi: float
        lo, hi = int(arr.min()), int(arr.max())
        for dt in (np.int16, np.uint16, np.int32, np.uint32):
            if np.iinfo(dt).min <= lo and hi <= np.iinfo(dt).max:
                return arr.astype(dt), 1.0, 0.0
        raise ValueError(f"volume values {lo}..{hi} do not fit the 32-bit integers DICOM can store")
    if arr.dtype.kind != "f":
        raise TypeError(f"volume has unsupported dtype {arr.dtype}")
    finite = np.isfinite(arr)
    if not finite.all():
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"volume has {int(arr.size - finite.sum())} NaN/infinite value(s) (the "
                         f"first at index {first}), which DICOM cannot store; replace them "
                         "(e.g. numpy.nan_to_num) before writing")
    lo, hi = float(arr.min()), float(arr.max())
    with np.errstate(over="ignore"):
        span = hi - lo if hi > lo else 1.0
        slope = float(_ds_str(span / 65535 * (1 + 1e-9))) if math.isfinite(span) else math.inf
        intercept = float(_ds_str(lo))
        # what the reader computes for the largest stored value
        top = 65535 * slope + intercept
    if not (math.isfinite(slope) and math.isfinite(intercept) and math.isfinite(top)):
        raise ValueError(f"volume values {lo:g} .. {hi:g}: the range is too wide for DICOM's "
                         "stored integers x RescaleSlope + RescaleIntercept in float64 (the "
                         "slope or the rescaled values would be infinite); scale the volume "
                         "down before writing")
    stored = np.rint((arr.astype(np.float64) - intercept) / slope)
    stored = np.clip(stored, 0, 65535).astype(np.uint16)
    return stored, slope, intercept


def _check_written_geometry(n: int, origin: np.ndarray, zdir: np.ndarray, dz: float | None,
                            row: np.ndarray, col: np.ndarray) -> None:
    """Refuse geometry the files would not carry back.

    Positions and orientation are written as DICOM decimal strings of at most 16 characters,
    so a spacing below :data:`_DUPLICATE_MM`, or a fine spacing far from the origin, rounds to
    positions :func:`read_dicom` reads as duplicates or uneven gaps. This replays that rounding
    and the reader's checks (default ``spacing_tolerance``) before any file is written.
    """
    iop = np.array([float(_ds_str(v)) for v in (*row, *col)])
    _, _, normal = _axes(iop, "volume.direction")
    if n < 2:
        return
    assert dz is not None  # n >= 2 slices: a 3-D volume, whose spacing[0] the caller passes
    with np.errstate(over="ignore", invalid="ignore"):
        pos = np.array([[float(_ds_str(v)) for v in origin + k * dz * zdir] for k in range(n)])
        proj = np.sort(pos @ normal)
        gaps = np.diff(proj)
    where = (f"volume.spacing[0] = {dz:g} mm with volume.origin "
             f"({', '.join(f'{v:g}' for v in origin)})")
    if not (np.all(np.isfinite(pos)) and np.all(np.isfinite(gaps))):
        raise ValueError(f"{where}: the slice positions are too large to write as DICOM "
                         "decimal strings")
    step = float(proj[-1] - proj[0]) / (n - 1)
    if float(gaps.min()) < max(_DUPLICATE_MM, 1e-3 * float(gaps.max())):
        raise ValueError(f"{where}: written as DICOM decimal strings (16 characters), the slice "
                         f"positions would read back as duplicates (gaps down to "
                         f"{float(gaps.min()):.3g} mm; read_dicom needs at least "
                         f"{_DUPLICATE_MM:g} mm); use a larger spacing or an origin nearer 0")
    if float(np.max(np.abs(gaps - step))) > 0.01 * step:
        raise ValueError(f"{where}: written as DICOM decimal strings (16 characters), the slice "
                         f"positions would read back with uneven gaps ({float(gaps.min()):.6g} to "
                         f"{float(gaps.max()):.6g} mm); use a larger spacing or an origin "
                         "nearer 0")


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
        If the array is not 2-D/3-D, holds NaN/inf or integers beyond 32 bits, has a float
        range too wide for a finite RescaleSlope, the direction is not orthonormal, or the
        slice positions would not read back as a uniform stack once written as DICOM decimal
        strings (16 characters: a spacing below 1e-4 mm, or a fine spacing far from the
        origin). Nothing is written then.
    FileExistsError
        If a file to be written already exists (nothing is overwritten).

    Notes
    -----
    New SeriesInstanceUID and SOPInstanceUIDs (``pydicom.uid.generate_uid``); Explicit VR
    Little Endian. Geometry: ImageOrientationPatient = (``direction[:, 2]``, ``direction[:, 1]``)
    (row and column cosines), ImagePositionPatient of slice k = ``origin + k * dz *
    direction[:, 0]``, PixelSpacing
    (dy, dx), SliceThickness and SpacingBetweenSlices dz. SOP class CT/MR/PET Image Storage
    for those modalities, Secondary Capture otherwise; ImageType DERIVED\\SECONDARY.

    Storage: integers are stored losslessly with RescaleSlope 1, RescaleIntercept 0 (8- and
    16-bit dtypes as they are, wider ones in the narrowest of int16/uint16/int32/uint32 that
    holds the values); bool as uint8 0/1. Floats are stored as uint16 with RescaleIntercept =
    the minimum and RescaleSlope = range / 65535 (both as DICOM decimal strings), so reading
    back gives float32 (float64 beyond float32's range) within slope / 2 of the input.
    ``read_dicom`` returns the written array (exact for integers) and geometry; a volume whose
    slice axis points against the normal ``cross(row, column)`` comes back with its slices in
    the opposite order
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
    zdir, col, row = direction[:, 0], direction[:, 1], direction[:, 2]  # array order
    normal = np.cross(row, col)
    if arr.ndim == 3:
        dz, dy, dx = volume.spacing
        slices = [stored[k] for k in range(arr.shape[0])]
    else:
        (dy, dx), dz = volume.spacing, None
        slices = [stored]
    origin = np.asarray(volume.origin, dtype=np.float64)
    _check_written_geometry(len(slices), origin, zdir, dz, row, col)

    if like is None and isinstance(volume.meta, (Dataset, Mapping)):
        like = volume.meta
    with _quiet_pydicom():
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
                    setattr(ds, kw, cast("DataElement", like_ds.data_element(kw)).value)
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
        ds.SliceLocation = _ds_str(cast(float, pos @ normal))  # 1-D @ 1-D: a numpy float
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
        # pydicom makes a UID of a str on assignment; its annotation types only what is read
        meta.MediaStorageSOPClassUID = sop_class  # type: ignore[assignment]
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
