"""RT Structure Sets (DICOM RTSTRUCT) rasterised onto a :class:`~medkern.Volume`'s grid.

:func:`rtstruct_to_labels` turns the contours of a structure set into one label image,
:func:`rtstruct_to_masks` into one boolean volume per ROI; both on the grid of ``like``
(typically the CT the structures were drawn on, read with :func:`~medkern.io.read_dicom`).

Rules (PS3.3 C.8.8.5 Structure Set Module, C.8.8.6 ROI Contour Module)
-----------------------------------------------------------------------
* **Which contours.** Only area contours are rasterised: Contour Geometric Type
  ``CLOSED_PLANAR`` (and ``CLOSEDPLANAR_XOR``, which means the same here). ``POINT``,
  ``OPEN_PLANAR`` and ``OPEN_NONPLANAR`` contours enclose no area: they are skipped, and
  one :class:`RTStructWarning` per call names the ROIs and contours left out. An ROI
  that has no area contour at all is left out of the default selection (named in that
  warning); naming it in ``rois=`` is a ``ValueError``.
* **Inside.** A voxel belongs to an ROI when its *centre* lies inside the ROI's
  contours on its slice by the **even-odd rule**: all contours of one ROI on one slice
  are combined by exclusive or, so a contour nested inside another cuts a hole and one
  nested in the hole is an island again (C.8.8.6.3's XOR technique; rt-utils and
  Orthanc's renderer XOR same-slice contours too; ``combine="or"`` takes their union
  instead, plastimatch's default). A voxel centre lying
  on a contour's path (within :data:`BOUNDARY_TOL` voxel along a row or a column) is
  inside, as C.8.8.6.3 says of the keyhole technique ("points in space lying along the
  path defined by the contour are considered to be part of the ROI"; rt-utils'
  ``cv2.fillPoly`` also fills the outline's pixels): a contour traced through voxel
  centres, as mask-to-contour tools write them, gives its voxels back exactly.
* **Geometry.** Contour points (LPS mm, the structure set's Frame of Reference) are
  mapped to fractional array indices of ``like`` with its affine. Contours are planar
  and drawn on image slices; each one is assigned to the **nearest slice** of ``like``
  (array axis 0) and projected onto it along that axis. Every point of the contour must
  lie within that slice's slab (half a slice spacing either side): a contour that does
  not -- one not parallel to ``like``'s slices, e.g. a structure set drawn on images of
  another orientation -- raises ``ValueError`` naming the ROI (resample the image
  instead). Oblique grids are fine as long as the contours lie in their slices. A 2-D
  ``like`` is one slice 1 mm thick (the :class:`~medkern.Volume` convention for a
  single slice): contours within 0.5 mm of its plane.
  A contour whose slice would lie beyond the first or last slice of ``like`` (more
  than half a slice off the grid) raises ``ValueError`` unless ``clip=True``, which
  drops it; in-plane, whatever lies outside the grid is simply cut off.
* **Several contour planes on one slice** (``like`` coarser than the images the
  contours were drawn on): only the plane nearest the slice centre is used for that
  slice -- the slice samples the ROI at its centre; XOR-ing outlines of neighbouring
  planes would cancel them. Planes closer than :data:`PLANE_TOL_MM` are one plane.
  Slices without a contour are empty: there is no interpolation between contour planes.
* **Labels.** Label ``k`` (1, 2, ...) is the ``k``-th selected ROI: the order of
  ``rois=`` when given, otherwise the order of the StructureSetROISequence; 0 is
  background. Where ROIs overlap, the later label wins (list the ROI that should stay
  visible last); :func:`rtstruct_to_masks` keeps every ROI whole. The mapping label ->
  :class:`ROI` (name, ROI Number, display colour) is returned with the image. dtype
  ``uint8`` for up to 255 ROIs, ``uint16`` beyond.
* **Frame of reference.** When both the ROI (its ReferencedFrameOfReferenceUID, or the
  structure set's only referenced frame) and ``like.meta`` (a pydicom Dataset or a dict)
  carry a FrameOfReferenceUID they must be equal (``ValueError`` naming both).

Errors in the file (not an RT Structure Set, no ROIs, no area contours, ContourData
whose length is not a multiple of 3 or disagrees with NumberOfContourPoints, non-finite
coordinates, an unknown geometric type) raise :class:`~medkern.io.DicomError` (a
``ValueError``) whose message starts with the file; bad arguments raise ``TypeError``
(wrong kind) or ``ValueError`` (bad value) naming the parameter.
"""
from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from ..volume import Volume, new_uid
from .dicom import DicomError, _about

__all__ = ["ROI", "RTStructWarning", "rtstruct_to_labels", "rtstruct_to_masks",
           "BOUNDARY_TOL", "PLANE_TOL_MM"]

#: SOP Class UID of RT Structure Set Storage.
RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
#: Voxel centres this close to a contour's path (in voxels, along a row or a column) are
#: on it, and so inside the ROI.
BOUNDARY_TOL = 0.01
#: Contours whose planes are closer than this (mm) lie in the same plane.
PLANE_TOL_MM = 0.1
#: Slack (in slices) of the half-slice rules, for rounding in the coordinates.
_SLAB_TOL = 1e-3
_AREA = ("CLOSED_PLANAR", "CLOSEDPLANAR_XOR")
_CONTOUR_DATA = 0x30060050
_NOT_AREA = ("POINT", "OPEN_PLANAR", "OPEN_NONPLANAR")


class RTStructWarning(UserWarning):
    """Contours or ROIs of a structure set were skipped because they enclose no area
    (POINT, OPEN_PLANAR, OPEN_NONPLANAR contours; ROIs without any closed contour)."""


class ROI(NamedTuple):
    """One ROI of a structure set: what a label value stands for."""

    name: str
    """ROIName (may be empty)."""
    number: int
    """ROINumber, the structure set's own identifier."""
    color: tuple[int, int, int] | None
    """ROIDisplayColor (R, G, B, 0-255), or None."""


@dataclasses.dataclass
class _Contour:
    position: int            # item number in the ContourSequence, from 1
    world: np.ndarray        # (n, 3) LPS mm


@dataclasses.dataclass
class _RoiData:
    roi: ROI
    frame: str | None
    contours: list[_Contour]
    others: dict[str, int]   # non-area geometric type -> count

    @property
    def what(self) -> str:
        return f"ROI {self.roi.number} {self.roi.name!r}"


# --------------------------------------------------------------------------- reading

def _load(rtstruct: Any) -> tuple[Dataset, str]:
    if isinstance(rtstruct, Dataset):
        name = getattr(rtstruct, "filename", None)
        return rtstruct, name if isinstance(name, str) and name else "rtstruct (a pydicom Dataset)"
    if not isinstance(rtstruct, (str, os.PathLike)):
        raise TypeError(f"rtstruct must be a path or a pydicom Dataset, got "
                        f"{type(rtstruct).__name__}")
    path = os.fspath(rtstruct)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"rtstruct: no such file: {path}")
    if os.path.isdir(path):
        raise ValueError(f"rtstruct: {path} is a directory; pass the RT Structure Set file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pydicom's notes on odd values
        try:
            ds = pydicom.dcmread(path)
        except InvalidDicomError:
            # no preamble / file meta header (pydicom's own rtstruct.dcm is such a file)
            try:
                ds = pydicom.dcmread(path, force=True)
                ds.get("Modality")
                ds.get("SOPClassUID")
            except Exception as exc:
                raise DicomError(f"{path}: not a DICOM file ({type(exc).__name__}: {exc})") from exc
        except Exception as exc:
            raise DicomError(f"{path}: cannot read the DICOM file ({type(exc).__name__}: {exc})") \
                from exc
    return ds, path


def _check_rtstruct(ds: Dataset, label: str) -> None:
    with _about(label, "not an RT Structure Set (cannot read Modality / SOPClassUID)"):
        modality = str(ds.get("Modality", "") or "").strip().upper()
        sop = str(ds.get("SOPClassUID", "") or "").strip()
    if modality == "RTSTRUCT" or sop == RTSTRUCT_SOP_CLASS:
        return
    if not modality and not sop and len(ds) < 3:
        raise DicomError(f"{label}: not a DICOM file (no DICOM attributes could be read)")
    raise DicomError(f"{label}: not an RT Structure Set (Modality {modality or None!r}, "
                     f"SOP Class UID {sop or None!r}; expected Modality 'RTSTRUCT')")


def _int(value: Any, label: str, what: str) -> int:
    try:
        f = float(value)
        if not math.isfinite(f) or f != int(f):
            raise ValueError
        return int(f)
    except (TypeError, ValueError):
        raise DicomError(f"{label}: {what} must be an integer, got {value!r}") from None


def _contour_values(item: Dataset) -> Any:
    """ContourData's values: from the raw bytes while pydicom has not converted them yet
    (converting and validating a large structure set value by value takes a minute), else
    the converted values."""
    try:
        elem = item.get_item(_CONTOUR_DATA)
    except KeyError:
        return None
    if elem is None:
        return None
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("latin-1").strip(" \x00")
        return text.split("\\") if text else []
    return value


def _coordinates(data: Any, label: str, where: str) -> np.ndarray:
    if data is None or (not isinstance(data, (str, bytes)) and hasattr(data, "__len__")
                        and len(data) == 0):
        raise DicomError(f"{label}: {where}: ContourData is missing or empty")
    values = (list(data) if not isinstance(data, Sequence) else data) \
        if isinstance(data, Iterable) and not isinstance(data, (str, bytes)) else [data]
    try:
        arr = np.fromiter(map(float, values), dtype=np.float64, count=len(values))
    except (TypeError, ValueError) as exc:
        raise DicomError(f"{label}: {where}: ContourData holds a value that is not a number "
                         f"({exc})") from None
    if arr.size % 3:
        raise DicomError(f"{label}: {where}: ContourData has {arr.size} values, not a multiple of "
                         "3 (it holds x, y, z triplets)")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise DicomError(f"{label}: {where}: ContourData holds a non-finite coordinate "
                         f"({arr[bad]} at point {bad // 3 + 1})")
    return arr.reshape(-1, 3)


def _parse(ds: Dataset, label: str) -> list[_RoiData]:
    """Every ROI of the structure set, in StructureSetROISequence order, with its contours."""
    with _about(label, "cannot parse the structure set"):
        items = ds.get("StructureSetROISequence")
        if not items:
            raise DicomError(f"{label}: the structure set defines no ROIs "
                             "(StructureSetROISequence is missing or empty)")
        frames = [str(f.FrameOfReferenceUID).strip()
                  for f in ds.get("ReferencedFrameOfReferenceSequence") or []
                  if f.get("FrameOfReferenceUID")]
        only_frame = frames[0] if len(set(frames)) == 1 else None
        rois: dict[int, _RoiData] = {}
        for i, item in enumerate(items):
            if "ROINumber" not in item:
                raise DicomError(f"{label}: StructureSetROISequence item {i + 1} has no ROINumber")
            number = _int(item.ROINumber, label,
                          f"ROINumber of StructureSetROISequence item {i + 1}")
            if number in rois:
                other = str(item.get("ROIName", "") or "")
                raise DicomError(f"{label}: ROINumber {number} is used by two ROIs "
                                 f"({rois[number].roi.name!r} and {other!r})")
            frame = str(item.get("ReferencedFrameOfReferenceUID", "") or "").strip() or only_frame
            rois[number] = _RoiData(ROI(str(item.get("ROIName", "") or ""), number, None), frame,
                                    [], {})
        for j, rc in enumerate(ds.get("ROIContourSequence") or []):
            if "ReferencedROINumber" not in rc:
                raise DicomError(f"{label}: ROIContourSequence item {j + 1} has no "
                                 "ReferencedROINumber")
            number = _int(rc.ReferencedROINumber, label,
                          f"ReferencedROINumber of ROIContourSequence item {j + 1}")
            rd = rois.get(number)
            if rd is None:
                continue  # contours of an ROI the structure set does not define: ignored
            color = rc.get("ROIDisplayColor")
            if color is not None and rd.roi.color is None:
                try:
                    rgb = tuple(int(float(c)) for c in color)
                    if len(rgb) == 3:
                        rd.roi = rd.roi._replace(color=rgb)
                except (TypeError, ValueError):
                    pass  # a display hint only
            for k, c in enumerate(rc.get("ContourSequence") or []):
                where = f"{rd.what}, contour {k + 1}"
                gtype = str(c.get("ContourGeometricType", "") or "").strip().upper()
                if not gtype:
                    raise DicomError(f"{label}: {where} has no ContourGeometricType")
                if gtype in _NOT_AREA:
                    rd.others[gtype] = rd.others.get(gtype, 0) + 1
                    continue
                if gtype not in _AREA:
                    raise DicomError(f"{label}: {where}: unknown ContourGeometricType {gtype!r} "
                                     f"(expected one of {', '.join(_AREA + _NOT_AREA)})")
                pts = _coordinates(_contour_values(c), label, where)
                n = c.get("NumberOfContourPoints")
                if n is not None and str(n).strip() != "":
                    n = _int(n, label, f"{where}: NumberOfContourPoints")
                    if n != len(pts):
                        raise DicomError(f"{label}: {where}: NumberOfContourPoints is {n} but "
                                         f"ContourData holds {len(pts)} points")
                rd.contours.append(_Contour(k + 1, pts))
    return list(rois.values())


def _describe_others(others: dict[str, int]) -> str:
    return ", ".join(f"{n} {t} contour{'s' if n > 1 else ''}" for t, n in others.items())


def _select(table: list[_RoiData], rois: Any, label: str) -> tuple[list[_RoiData], list[str]]:
    """The ROIs to rasterise, in label order, and notes on what was skipped."""
    notes: list[str] = []
    if rois is None:
        chosen = []
        for rd in table:
            if rd.contours:
                chosen.append(rd)
            elif rd.others:
                notes.append(f"{rd.what} (only {_describe_others(rd.others)})")
            else:
                notes.append(f"{rd.what} (no contours)")
        if not chosen:
            raise DicomError(f"{label}: no ROI has a closed contour (CLOSED_PLANAR) to rasterise"
                             + (f"; skipped {'; '.join(notes)}" if notes else ""))
    else:
        if isinstance(rois, (str, int)) and not isinstance(rois, bool):
            rois = [rois]
        if not isinstance(rois, Iterable) or isinstance(rois, (bytes, Mapping)):
            raise TypeError(f"rois must be None, an ROI name or number, or a sequence of them, "
                            f"got {type(rois).__name__}")
        rois = list(rois)
        if not rois:
            raise ValueError("rois is empty: name at least one ROI (or pass None for all)")
        available = ", ".join(f"{rd.roi.number} {rd.roi.name!r}" for rd in table)
        chosen = []
        for r in rois:
            if isinstance(r, (bool, np.bool_)) or not isinstance(r, (str, int, np.integer)):
                raise TypeError(f"rois entries must be ROI names (str) or ROI numbers (int), got "
                                f"{r!r} ({type(r).__name__})")
            if isinstance(r, str):
                hits = [rd for rd in table if rd.roi.name == r]
                if len(hits) > 1:
                    raise ValueError(f"rois: the name {r!r} belongs to ROIs "
                                     f"{', '.join(str(h.roi.number) for h in hits)}; name one "
                                     "by its ROI number")
            else:
                hits = [rd for rd in table if rd.roi.number == int(r)]
            if not hits:
                raise ValueError(f"rois: {label} has no ROI {r!r} (its ROIs: {available})")
            rd = hits[0]
            if any(rd is c for c in chosen):
                raise ValueError(f"rois names {rd.what} twice")
            if not rd.contours:
                kind = f"only {_describe_others(rd.others)}" if rd.others else "no contours"
                raise ValueError(f"rois: {rd.what} of {label} has {kind}: nothing to rasterise "
                                 "(only CLOSED_PLANAR contours enclose an area)")
            chosen.append(rd)
    for rd in chosen:
        if rd.others:
            notes.append(f"{_describe_others(rd.others)} of {rd.what}")
    return chosen, notes


# --------------------------------------------------------------------------- geometry

def _check_like(like: Any) -> None:
    if not isinstance(like, Volume):
        raise TypeError(f"like must be a medkern.Volume (the image grid to rasterise onto), got "
                        f"{type(like).__name__}")
    if like.spatial_ndim < 2:
        raise ValueError(f"like must be a 2-D or 3-D image grid, got spatial shape "
                         f"{like.spatial_shape}")
    if any(n == 0 for n in like.spatial_shape):
        raise ValueError(f"like has an empty grid (spatial shape {like.spatial_shape})")


def _frame_of(meta: Any) -> str | None:
    if meta is None:
        return None
    try:
        if isinstance(meta, (Dataset, Mapping)):
            value = meta.get("FrameOfReferenceUID")
        else:
            value = getattr(meta, "FrameOfReferenceUID", None)
    except Exception:
        return None
    value = str(value).strip() if value is not None else ""
    return value or None


def _check_frames(chosen: list[_RoiData], like: Volume, label: str) -> str | None:
    mine = _frame_of(like.meta)
    frames = {rd.frame for rd in chosen if rd.frame}
    if mine is not None:
        for rd in chosen:
            if rd.frame and rd.frame != mine:
                raise ValueError(f"{label}: {rd.what} is in frame of reference {rd.frame}, but "
                                 f"like is in frame of reference {mine} (like.meta "
                                 "FrameOfReferenceUID): the contours do not belong to that image")
        return mine
    return frames.pop() if len(frames) == 1 else None


def _vector_area(world: np.ndarray) -> np.ndarray:
    """Newell's vector area of a closed polygon (normal times area)."""
    q = world - world.mean(axis=0)
    return 0.5 * np.cross(q, np.roll(q, -1, axis=0)).sum(axis=0)


def _by_slice(rd: _RoiData, like: Volume, clip: bool) -> dict[int, list[np.ndarray]]:
    """The (row, column) polygons of ``rd`` to fill on each slice (array axis 0) of ``like``."""
    affine = like.affine
    inv = np.linalg.inv(affine[:3, :3])
    nz = like.spatial_shape[0] if like.spatial_ndim == 3 else 1
    dz = float(np.linalg.norm(affine[:3, 0]))
    normal = affine[:3, 0] / dz
    groups: dict[int, list[tuple[_Contour, np.ndarray]]] = {}
    for c in rd.contours:
        idx = (c.world - affine[:3, 3]) @ inv.T
        k = idx[:, 0]
        lo, hi = float(k.min()), float(k.max())
        s = int(math.floor((lo + hi) / 2 + 0.5))
        if max(hi - s, s - lo) > 0.5 + _SLAB_TOL:
            raise ValueError(
                f"{rd.what}, contour {c.position}: not parallel to like's slices -- its points "
                f"lie {(hi - lo) * dz:.4g} mm apart along like's slice normal (slice positions "
                f"{lo:.4g} to {hi:.4g}), not within half a slice spacing ({dz:.4g} mm) of one "
                "slice; the structure set was drawn on images of another orientation (resample "
                "the image to theirs)")
        if s < 0 or s > nz - 1:
            if clip:
                continue
            off = (-k.max() if s < 0 else k.min() - (nz - 1)) * dz
            raise ValueError(
                f"{rd.what}, contour {c.position}: lies {off:.4g} mm beyond like's "
                f"{'first' if s < 0 else 'last'} slice, more than half a slice spacing off the "
                "grid (pass clip=True to drop contours off the grid)")
        groups.setdefault(s, []).append((c, idx))
    out: dict[int, list[np.ndarray]] = {}
    for s, members in groups.items():
        if len(members) > 1:
            members = _nearest_plane(members, s, normal)
        out[s] = [idx[:, 1:] for _, idx in members]
    return out


def _nearest_plane(members: list[tuple[_Contour, np.ndarray]], s: int,
                   normal: np.ndarray) -> list[tuple[_Contour, np.ndarray]]:
    """The contours of the plane nearest slice ``s`` (when several planes fall on it)."""
    total = np.zeros(3)
    for c, _ in members:
        a = _vector_area(c.world)
        total += a if a @ normal >= 0 else -a
    n = total / np.linalg.norm(total) if np.linalg.norm(total) > 1e-9 else normal
    offsets = np.array([n @ c.world.mean(axis=0) for c, _ in members])
    order = np.argsort(offsets, kind="stable")
    planes: list[list[int]] = [[int(order[0])]]
    for a, b in zip(order[:-1], order[1:]):
        if offsets[b] - offsets[a] > PLANE_TOL_MM:
            planes.append([])
        planes[-1].append(int(b))
    if len(planes) == 1:
        return members

    def distance(plane: list[int]) -> float:
        return abs(float(np.mean([members[i][1][:, 0].mean() for i in plane])) - s)

    best = min(planes, key=distance)  # ties: the first (lowest) plane
    return [members[i] for i in sorted(best)]


def _ranges(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each i, the integers start[i]..stop[i] (inclusive): (owner index, value) flattened."""
    count = np.maximum(stop - start + 1, 0).astype(np.int64)
    owner = np.repeat(np.arange(len(start)), count)
    first = np.cumsum(count) - count
    value = np.repeat(start.astype(np.int64), count) + (np.arange(count.sum())
                                                        - np.repeat(first, count))
    return owner, value


def _fill(polygons: list[np.ndarray], shape: tuple[int, int]
          ) -> tuple[int, int, np.ndarray] | None:
    """Even-odd fill of ``polygons`` ((n, 2) row, column, closed) at integer voxel centres
    of a ``shape`` grid, outlines included. Returns (row0, col0, mask of the bounding box)."""
    rows, cols = shape
    pts = np.concatenate(polygons)
    tol = BOUNDARY_TOL
    r0 = max(0, math.ceil(float(pts[:, 0].min()) - tol))
    r1 = min(rows - 1, math.floor(float(pts[:, 0].max()) + tol))
    c0 = max(0, math.ceil(float(pts[:, 1].min()) - tol))
    c1 = min(cols - 1, math.floor(float(pts[:, 1].max()) + tol))
    if r1 < r0 or c1 < c0:
        return None
    h, w = r1 - r0 + 1, c1 - c0 + 1
    a = np.concatenate(polygons)
    b = np.concatenate([np.roll(p, -1, axis=0) for p in polygons])
    y0, x0, y1, x1 = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    dy, dx = y1 - y0, x1 - x0

    # interior, even-odd: a crossing of row r at x toggles every voxel centre right of x.
    # An edge crosses the rows ylo <= r < yhi (half-open, so a vertex is counted once).
    ylo, yhi = np.minimum(y0, y1), np.maximum(y0, y1)
    slanted = dy != 0
    start = np.where(slanted, np.maximum(np.ceil(ylo), r0), 1)
    stop = np.where(slanted, np.minimum(np.ceil(yhi) - 1, r1), 0)
    e, r = _ranges(start, stop)
    x = x0[e] + (r - y0[e]) * (dx[e] / dy[e])
    col = np.clip(np.floor(x) + 1 - c0, 0, w).astype(np.int64)
    toggles = np.bincount((r - r0) * (w + 1) + col, minlength=h * (w + 1)).reshape(h, w + 1)
    inside = (np.cumsum(toggles, axis=1)[:, :w] & 1).astype(bool)

    # outlines: voxel centres on an edge, found along its longer axis
    flat = np.abs(dx) >= np.abs(dy)
    for along_x in (True, False):
        sel = flat if along_x else ~flat
        if not np.any(sel):
            continue
        if along_x:
            u0, u1, v0, du, dv, lo, hi, vlo, vhi = x0, x1, y0, dx, dy, c0, c1, r0, r1
        else:
            u0, u1, v0, du, dv, lo, hi, vlo, vhi = y0, y1, x0, dy, dx, r0, r1, c0, c1
        ids = np.flatnonzero(sel)
        start = np.maximum(np.ceil(np.minimum(u0[ids], u1[ids]) - tol), lo)
        stop = np.minimum(np.floor(np.maximum(u0[ids], u1[ids]) + tol), hi)
        owner, u = _ranges(start, stop)
        e = ids[owner]
        slope = np.divide(dv[e], du[e], out=np.zeros(len(e)), where=du[e] != 0)
        v = v0[e] + (u - (u0[e])) * slope
        vi = np.rint(v)
        ok = (np.abs(v - vi) <= tol) & (vi >= vlo) & (vi <= vhi)
        u, vi = u[ok], vi[ok].astype(np.int64)
        if along_x:
            inside[vi - r0, u - c0] = True
        else:
            inside[u - r0, vi - c0] = True
    return r0, c0, inside


def _union(polygons: list[np.ndarray], shape: tuple[int, int]
           ) -> tuple[int, int, np.ndarray] | None:
    """``combine="or"``: each contour filled on its own (even-odd), then their union."""
    parts = [f for f in (_fill([p], shape) for p in polygons) if f is not None]
    if not parts:
        return None
    r0 = min(p[0] for p in parts)
    c0 = min(p[1] for p in parts)
    r1 = max(p[0] + p[2].shape[0] for p in parts)
    c1 = max(p[1] + p[2].shape[1] for p in parts)
    out = np.zeros((r1 - r0, c1 - c0), dtype=bool)
    for pr, pc, m in parts:
        out[pr - r0:pr - r0 + m.shape[0], pc - c0:pc - c0 + m.shape[1]] |= m
    return r0, c0, out


def _rasterise(rtstruct: Any, like: Any, rois: Any, clip: Any, combine: Any, stacklevel: int,
               unique_names: bool = False):
    """Parse, select and check; returns (the ROIs, the result's meta, an iterator of
    (label, ROI data, slice, row0, col0, mask of that bounding box) pieces)."""
    _check_like(like)
    if not isinstance(clip, (bool, np.bool_)):
        raise TypeError(f"clip must be True or False, got {clip!r}")
    if not isinstance(combine, str):
        raise TypeError(f"combine must be 'xor' or 'or', got {combine!r}")
    if combine.lower() not in ("xor", "or"):
        raise ValueError(f"combine must be 'xor' or 'or', got {combine!r}")
    fill = _fill if combine.lower() == "xor" else _union
    ds, label = _load(rtstruct)
    _check_rtstruct(ds, label)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pydicom's notes on odd values
        table = _parse(ds, label)
    chosen, notes = _select(table, rois, label)
    frame = _check_frames(chosen, like, label)
    if unique_names:
        seen: dict[str, _RoiData] = {}
        for rd in chosen:
            if rd.roi.name in seen:
                raise ValueError(f"rois: ROIs {seen[rd.roi.name].roi.number} and {rd.roi.number} "
                                 f"of {label} are both named {rd.roi.name!r}: select one by "
                                 "number with rois=[...]")
            seen[rd.roi.name] = rd
    if len(chosen) > 65535:
        raise ValueError(f"{label}: {len(chosen)} ROIs do not fit a uint16 label image")
    if notes:
        warnings.warn(RTStructWarning(f"{label}: skipped {'; '.join(notes)}: only CLOSED_PLANAR "
                                      "contours enclose an area"), stacklevel=stacklevel)
    plane = (like.spatial_shape[-2], like.spatial_shape[-1])

    def pieces():  # one slice of one ROI at a time: no full-size temporaries
        for lab, rd in enumerate(chosen, start=1):
            for s, polys in sorted(_by_slice(rd, like, bool(clip)).items()):
                filled = fill(polys, plane)
                if filled is not None:
                    yield (lab, rd, s) + filled

    info = {"FrameOfReferenceUID": frame,
            "StructureSetSOPInstanceUID": str(ds.get("SOPInstanceUID", "") or "") or None,
            "StructureSetLabel": str(ds.get("StructureSetLabel", "") or "") or None}
    return chosen, info, pieces()


def _result(like: Volume, array: np.ndarray, meta: dict) -> Volume:
    return dataclasses.replace(like, array=array, series_uid=new_uid(), modality=None, meta=meta,
                               derived_from=like.series_uid)


def rtstruct_to_labels(rtstruct: str | os.PathLike[str] | Dataset, like: Volume, *,
                       rois: str | int | Iterable[str | int] | None = None,
                       clip: bool = False, combine: str = "xor"
                       ) -> tuple[Volume, dict[int, ROI]]:
    """Rasterise an RT Structure Set into a label image on ``like``'s grid.

    Parameters
    ----------
    rtstruct : str, os.PathLike or pydicom.Dataset
        The RTSTRUCT file (files without the DICOM preamble/file meta header are read too)
        or its dataset.
    like : Volume
        The grid to rasterise onto (2-D or 3-D, any orientation; a 4-D volume's spatial
        grid). Only its geometry and ``meta``'s FrameOfReferenceUID are used.
    rois : str, int or sequence of them, optional
        The ROIs to rasterise, by ROIName (exact) or ROINumber, in label order (later wins where
        they overlap). Default: every ROI with a closed contour, in StructureSetROISequence
        order.
    clip : bool, default False
        Drop contours whose plane lies beyond ``like``'s first or last slice instead of
        raising ``ValueError``.
    combine : {"xor", "or"}, default "xor"
        How the contours of one ROI on one slice combine: ``"xor"`` (the even-odd rule:
        nested contours cut holes; DICOM's XOR technique, rt-utils, Orthanc) or ``"or"``
        (their union: each contour is filled on its own, as plastimatch's rasterizer does
        unless told to XOR -- for structure sets that overlap separate pieces).

    Returns
    -------
    labels : Volume
        ``like``'s grid; uint8 (uint16 beyond 255 ROIs); 0 background, ``k`` the ``k``-th
        ROI. A new series_uid, ``derived_from`` = like's; ``meta`` a dict with
        FrameOfReferenceUID, StructureSetSOPInstanceUID, StructureSetLabel and ``"ROIs"``
        (the mapping below).
    rois : dict[int, ROI]
        label -> :class:`ROI` (name, number, color), every selected ROI, also ones that
        cover no voxel centre.

    See the module docstring for the rules (even-odd rule at voxel centres, outlines
    inside, nearest slice within half a slice, overlaps, frame of reference).

    Raises
    ------
    TypeError, ValueError, FileNotFoundError, DicomError
        See the module docstring.

    Warns
    -----
    RTStructWarning
        Once per call, naming POINT/OPEN contours and ROIs without area that were skipped.
    """
    chosen, info, pieces = _rasterise(rtstruct, like, rois, clip, combine, stacklevel=3)
    dtype = np.uint8 if len(chosen) <= 255 else np.uint16
    shape = tuple(like.spatial_shape)
    out = np.zeros(shape, dtype=dtype)
    view = out.reshape((1,) * (3 - len(shape)) + shape)
    for lab, _, s, r0, c0, mask in pieces:
        h, w = mask.shape
        view[s, r0:r0 + h, c0:c0 + w][mask] = lab
    mapping = {k: rd.roi for k, rd in enumerate(chosen, start=1)}
    return _result(like, out, {**info, "ROIs": mapping}), mapping


def rtstruct_to_masks(rtstruct: str | os.PathLike[str] | Dataset, like: Volume, *,
                      rois: str | int | Iterable[str | int] | None = None,
                      clip: bool = False, combine: str = "xor") -> dict[str, Volume]:
    """Rasterise each ROI of an RT Structure Set into its own boolean volume.

    Same parameters and rules as :func:`rtstruct_to_labels`, but overlapping ROIs stay
    whole. Returns ``{ROIName: Volume}`` (bool, ``like``'s grid) in label order; each
    volume's ``meta`` holds FrameOfReferenceUID, StructureSetSOPInstanceUID,
    StructureSetLabel and ``"ROI"`` (its :class:`ROI`). Raises ``ValueError`` when two
    selected ROIs share a name (select one of them by number with ``rois=``).
    """
    chosen, info, pieces = _rasterise(rtstruct, like, rois, clip, combine, stacklevel=3,
                                      unique_names=True)
    shape = tuple(like.spatial_shape)
    arrays = {id(rd): np.zeros(shape, dtype=bool) for rd in chosen}
    for _, rd, s, r0, c0, mask in pieces:
        h, w = mask.shape
        arrays[id(rd)].reshape((1,) * (3 - len(shape)) + shape)[s, r0:r0 + h, c0:c0 + w] |= mask
    return {rd.roi.name: _result(like, arrays[id(rd)], {**info, "ROI": rd.roi}) for rd in chosen}
