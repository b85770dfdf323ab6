"""RT Structure Sets -> label images / masks (medkern.io.rtstruct).

Data: pydicom's bundled ``rtstruct.dcm`` (no CT comes with it: the grids are built here in
its frame of reference), and an oblique CT series plus an RTSTRUCT generated with pydicom
into ``tmp_path``. Nothing is downloaded.
"""
from __future__ import annotations

import warnings

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from skimage.draw import polygon as sk_polygon

from medkern import Volume
from medkern.io import DicomError, read_dicom
from medkern.io.rtstruct import ROI, RTStructWarning, rtstruct_to_labels, rtstruct_to_masks

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

RTSTRUCT_FILE = get_testdata_file("rtstruct.dcm", download=False)
RTSTRUCT_FOR = "1.2.826.0.1.3680043.8.498.2010020400001.2"
CT_SOP = "1.2.840.10008.5.1.4.1.1.2"
RTSTRUCT_SOP = "1.2.840.10008.5.1.4.1.1.481.3"


PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3


def save(ds: Dataset, path) -> None:
    if PYDICOM_3:
        ds.save_as(path, enforce_file_format=True)
    else:
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(str(path), write_like_original=False)


def ds_str(v: float) -> str:
    return f"{float(v):.10g}"


# --------------------------------------------------------------------------- builders

def file_meta(sop_class: str, sop_instance: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def write_ct_series(directory, *, rows, cols, nz, pixel_spacing, dz, origin, row_cos, col_cos,
                    frame_uid):
    """An oblique CT series written with pydicom: slice k at origin + k * dz * normal."""
    directory.mkdir(parents=True, exist_ok=True)
    series = generate_uid()
    normal = np.cross(row_cos, col_cos)
    for k in range(nz):
        ds = Dataset()
        ds.SOPClassUID = CT_SOP
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta = file_meta(CT_SOP, ds.SOPInstanceUID)
        ds.Modality = "CT"
        ds.PatientName, ds.PatientID = "Rt^Struct", "rtstruct-test"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3.4", series
        ds.FrameOfReferenceUID = frame_uid
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [ds_str(v) for v in np.asarray(origin) + k * dz * normal]
        ds.ImageOrientationPatient = [ds_str(v) for v in (*row_cos, *col_cos)]
        ds.PixelSpacing = [ds_str(v) for v in pixel_spacing]
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = "1", "0"
        ds.PixelData = np.full((rows, cols), k, "<i2").tobytes()
        save(ds, directory / f"ct{k:02d}.dcm")
    return series


def contour_item(points, gtype="CLOSED_PLANAR", n=None):
    c = Dataset()
    c.ContourGeometricType = gtype
    pts = np.asarray(points, dtype=float).reshape(-1)
    c.NumberOfContourPoints = len(pts) // 3 if n is None else n
    c.ContourData = [ds_str(v) for v in pts]
    return c


def make_rtstruct(rois, *, frame_uid="1.2.3.99", modality="RTSTRUCT"):
    """rois: list of (number, name, [contour Dataset, ...]) -> an RT Structure Set dataset."""
    ds = Dataset()
    ds.SOPClassUID = RTSTRUCT_SOP
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta = file_meta(RTSTRUCT_SOP, ds.SOPInstanceUID)
    ds.Modality = modality
    ds.StructureSetLabel = "test"
    ref = Dataset()
    ref.FrameOfReferenceUID = frame_uid
    ds.ReferencedFrameOfReferenceSequence = Sequence([ref])
    ssroi, rcs = [], []
    for number, name, contours in rois:
        item = Dataset()
        item.ROINumber, item.ROIName = number, name
        item.ReferencedFrameOfReferenceUID = frame_uid
        item.ROIGenerationAlgorithm = "MANUAL"
        ssroi.append(item)
        rc = Dataset()
        rc.ReferencedROINumber = number
        rc.ROIDisplayColor = [255, 0, number % 256]
        rc.ContourSequence = Sequence(contours)
        rcs.append(rc)
    ds.StructureSetROISequence = Sequence(ssroi)
    ds.ROIContourSequence = Sequence(rcs)
    return ds


# --------------------------------------------------------------------------- pydicom's rtstruct.dcm

def test_bundled_rtstruct_against_skimage_polygon():
    """An axial grid whose voxel centres avoid the contours' edges: skimage.draw.polygon on
    the same contours (projected with the grid's inverse affine) must agree exactly."""
    like = Volume(np.zeros((5, 47, 50), np.int16), spacing=(10.0, 7.0, 9.0),
                  origin=(-223.7, -161.3, -210.0), meta={"FrameOfReferenceUID": RTSTRUCT_FOR})
    with pytest.warns(RTStructWarning, match=r"ROI 2 'Isocenter 1' \(only 1 POINT contour\)"):
        labels, mapping = rtstruct_to_labels(RTSTRUCT_FILE, like)
    assert mapping == {1: ROI("patient", 1, (220, 160, 120))}
    assert labels.dtype == np.uint8 and labels.shape == like.shape
    assert labels.spacing == like.spacing and labels.origin == like.origin
    assert labels.derived_from == like.series_uid and labels.meta["ROIs"] == mapping
    assert labels.meta["FrameOfReferenceUID"] == RTSTRUCT_FOR

    ds = pydicom.dcmread(RTSTRUCT_FILE, force=True)
    expected = np.zeros(like.shape, np.uint8)
    for c in ds.ROIContourSequence[0].ContourSequence:
        idx = like.world_to_index(np.array(c.ContourData, float).reshape(-1, 3))
        k = int(round(idx[0, 0]))
        rr, cc = sk_polygon(idx[:, 1], idx[:, 2], shape=like.shape[1:])
        expected[k, rr, cc] = 1
    np.testing.assert_array_equal(labels.array, expected)
    # analytic: x in [-200, 200] -> columns 3..47 (45); y in [-150, 150] -> rows 2..44 (43)
    assert [int(s.sum()) for s in labels.array] == [0, 45 * 43, 45 * 43, 45 * 43, 0]


def test_bundled_rtstruct_outline_through_voxel_centres_is_inside():
    """A 10 mm grid on -200: the rectangle's edges run through voxel centres, which belong
    to the ROI (PS3.3 C.8.8.6.3): 41 x 31 voxels per slice, the analytic count."""
    like = Volume(np.zeros((3, 31, 41)), spacing=(10.0, 10.0, 10.0),
                  origin=(-200.0, -150.0, -200.0))
    ds = pydicom.dcmread(RTSTRUCT_FILE, force=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only ROI 1 asked for: nothing skipped, no warning
        masks = rtstruct_to_masks(ds, like, rois="patient")
    assert list(masks) == ["patient"]
    m = masks["patient"]
    assert m.dtype == bool and m.meta["ROI"] == ROI("patient", 1, (220, 160, 120))
    assert m.array.all()  # every voxel centre of this grid lies inside or on the rectangle
    big = Volume(np.zeros((3, 33, 43)), spacing=(10.0, 10.0, 10.0), origin=(-210.0, -160.0, -200.0))
    m = rtstruct_to_masks(ds, big, rois=[1])["patient"].array
    assert [int(s.sum()) for s in m] == [41 * 31] * 3
    assert not m[:, 0].any() and not m[:, -1].any() and not m[:, :, 0].any()


# --------------------------------------------------------------------------- oblique CT + RTSTRUCT

ROWS, COLS, NZ = 40, 48, 7
PIXEL_SPACING = (0.8, 0.7)     # (row spacing dy, column spacing dx)
DZ = 1.5
FRAME = "1.2.826.0.1.3680043.10.511.77.1"


def _rotation():
    a, b, c = np.radians([25.0, 35.0, -15.0])
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    ry = np.array([[np.cos(c), 0, np.sin(c)], [0, 1, 0], [-np.sin(c), 0, np.cos(c)]])
    return rz @ rx @ ry


ROT = _rotation()
ROW_COS, COL_COS = ROT[:, 0], ROT[:, 1]
NORMAL = np.cross(ROW_COS, COL_COS)
ORIGIN = np.array([-20.0, 30.0, 100.0])


def _in_plane(u, v, k):
    """World point at (u, v) mm along the row / column cosines on slice k's plane."""
    return ORIGIN + k * DZ * NORMAL + np.outer(u, ROW_COS) + np.outer(v, COL_COS)


# shapes, in the slices' plane coordinates (u along a row, v down the columns), in mm
SQ_CENTRE, SQ_HALF, SQ_ANGLE = (12.0, 13.0), 7.0, np.radians(30.0)
RING_CENTRE, R_OUT, R_IN, R_ISLAND = (22.0, 17.0), 9.0, 4.0, 1.5
SQ_SLICES, RING_SLICES, ISLAND_SLICE, BOX_SLICE = (1, 2, 3, 4), (2, 3, 4, 5), 3, 6
RING_SHIFT = {5: 0.3}          # slice 5's ring lies 0.3 slice above the slice's plane
BOX_ROWS, BOX_COLS = (5, 12), (30, 40)   # corners on voxel centres (index space)
SQ_AXES = np.array([[np.cos(SQ_ANGLE), np.sin(SQ_ANGLE)], [-np.sin(SQ_ANGLE), np.cos(SQ_ANGLE)]])


def _square(k):
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * SQ_HALF @ SQ_AXES + SQ_CENTRE
    return _in_plane(corners[:, 0], corners[:, 1], k)


def _circle(k, radius, n, reverse=False):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    if reverse:
        t = t[::-1]
    u, v = RING_CENTRE[0] + radius * np.cos(t), RING_CENTRE[1] + radius * np.sin(t)
    return _in_plane(u, v, k + RING_SHIFT.get(k, 0.0))


@pytest.fixture(scope="module")
def oblique(tmp_path_factory):
    """(CT volume read back with read_dicom, RTSTRUCT path): Square (ROINumber 7) on slices
    1-4; Ring (ROINumber 3: outer disc, hole, and on slice 3 an island in the hole, three
    same-slice contours XOR-ed) on slices 2-5; Box (ROINumber 12) on slice 6, its corners on
    voxel centres; plus a POINT contour in Ring."""
    root = tmp_path_factory.mktemp("oblique")
    write_ct_series(root / "ct", rows=ROWS, cols=COLS, nz=NZ, pixel_spacing=PIXEL_SPACING, dz=DZ,
                    origin=ORIGIN, row_cos=ROW_COS, col_cos=COL_COS, frame_uid=FRAME)
    ct = read_dicom(root / "ct")
    square = [contour_item(_square(k)) for k in SQ_SLICES]
    ring = []
    for k in RING_SLICES:
        ring += [contour_item(_circle(k, R_OUT, 720)), contour_item(_circle(k, R_IN, 360))]
        if k == ISLAND_SLICE:
            ring.append(contour_item(_circle(k, R_ISLAND, 180, reverse=True)))
    ring.append(contour_item(_in_plane([22.0], [17.0], 3), gtype="POINT"))
    (r0, r1), (c0, c1) = BOX_ROWS, BOX_COLS
    box = [contour_item(ct.index_to_world([[BOX_SLICE, r0, c0], [BOX_SLICE, r0, c1],
                                           [BOX_SLICE, r1, c1], [BOX_SLICE, r1, c0]]))]
    ds = make_rtstruct([(7, "Square", square), (3, "Ring", ring), (12, "Box", box)],
                       frame_uid=FRAME)
    path = root / "rtstruct.dcm"
    save(ds, path)
    return ct, path


EPS_MM = 0.02   # voxel centres nearer than this (mm) to a shape's boundary are not compared


def _truth(ct):
    """Analytic membership of every voxel centre (world-space shapes), and a mask of voxel
    centres within EPS_MM of a boundary (left out of the comparison)."""
    world = ct.index_to_world(np.stack(np.indices(ct.shape), axis=-1).astype(float))
    k = np.arange(NZ)[:, None, None]
    rel = world - (ORIGIN + k[..., None] * DZ * NORMAL)
    u, v = rel @ ROW_COS, rel @ COL_COS            # in-plane coordinates, mm
    a = (u - SQ_CENTRE[0]) * SQ_AXES[0, 0] + (v - SQ_CENTRE[1]) * SQ_AXES[0, 1]
    b = (u - SQ_CENTRE[0]) * SQ_AXES[1, 0] + (v - SQ_CENTRE[1]) * SQ_AXES[1, 1]
    box_norm = np.maximum(np.abs(a), np.abs(b))
    d = np.hypot(u - RING_CENTRE[0], v - RING_CENTRE[1])
    on_sq = np.isin(k, SQ_SLICES)
    on_ring = np.isin(k, RING_SLICES)
    island = (k == ISLAND_SLICE)
    square = on_sq & (box_norm <= SQ_HALF)
    ring = on_ring & (((d >= R_IN) & (d <= R_OUT)) | (island & (d <= R_ISLAND)))
    near = (on_sq & (np.abs(box_norm - SQ_HALF) < EPS_MM)) | (on_ring & (
        (np.abs(d - R_OUT) < EPS_MM) | (np.abs(d - R_IN) < EPS_MM)
        | (island & (np.abs(d - R_ISLAND) < EPS_MM))))
    box = np.zeros(ct.shape, bool)
    box[BOX_SLICE, BOX_ROWS[0]:BOX_ROWS[1] + 1, BOX_COLS[0]:BOX_COLS[1] + 1] = True
    return {"Square": square, "Ring": ring, "Box": box}, near


def test_oblique_series_labels_equal_analytic_truth(oblique):
    ct, path = oblique
    assert abs(ct.direction[:, 2] @ ROW_COS - 1) < 1e-9 and ct.meta.FrameOfReferenceUID == FRAME
    with pytest.warns(RTStructWarning, match=r"1 POINT contour of ROI 3 'Ring'"):
        labels, mapping = rtstruct_to_labels(path, ct)
    assert mapping == {1: ROI("Square", 7, (255, 0, 7)), 2: ROI("Ring", 3, (255, 0, 3)),
                       3: ROI("Box", 12, (255, 0, 12))}
    truth, near = _truth(ct)
    expected = np.zeros(ct.shape, np.uint8)
    for lab, name in ((1, "Square"), (2, "Ring"), (3, "Box")):   # later label wins
        expected[truth[name]] = lab
    shapes = truth["Square"] | truth["Ring"]
    assert 0 < near.sum() < 0.02 * shapes.sum()  # the exclusion is tiny (~1% of the voxels)
    np.testing.assert_array_equal(labels.array[~near], expected[~near])
    # the square and the ring overlap; all three ROIs are there
    assert (truth["Square"] & truth["Ring"] & ~near).any()
    for lab in (1, 2, 3):
        assert (labels.array == lab).sum() > 20
    # Box: its outline runs through voxel centres, and they are all inside (exactly)
    np.testing.assert_array_equal(labels.array[BOX_SLICE] == 3, truth["Box"][BOX_SLICE])
    # slice 5's ring lies 0.3 slice off its slice: nearest slice, projected along the normal
    assert (labels.array[5] == 2).any()
    # rois= orders the labels: Ring first, then Square on top
    with pytest.warns(RTStructWarning):
        relabelled, mapping2 = rtstruct_to_labels(path, ct, rois=["Ring", 7])
    assert [r.name for r in mapping2.values()] == ["Ring", "Square"]
    overlap = truth["Square"] & truth["Ring"] & ~near
    assert (relabelled.array[overlap] == 2).all() and (labels.array[overlap] == 2).all()


def test_oblique_series_masks_keep_overlaps(oblique):
    ct, path = oblique
    with pytest.warns(RTStructWarning):
        masks = rtstruct_to_masks(path, ct)
    assert list(masks) == ["Square", "Ring", "Box"]
    truth, near = _truth(ct)
    for name, m in masks.items():
        assert m.dtype == bool and m.shape == ct.shape and m.meta["ROI"].name == name
        np.testing.assert_array_equal(m.array[~near], truth[name][~near])
    assert (masks["Square"].array & masks["Ring"].array).any()
    # combine="or": the union of the Ring's contours, the full disc (no hole, no island)
    with pytest.warns(RTStructWarning):
        union = rtstruct_to_masks(path, ct, rois=[3], combine="or")["Ring"].array
    k = np.arange(NZ)[:, None, None]
    world = ct.index_to_world(np.stack(np.indices(ct.shape), axis=-1).astype(float))
    rel = world - (ORIGIN + k[..., None] * DZ * NORMAL)
    d = np.hypot(rel @ ROW_COS - RING_CENTRE[0], rel @ COL_COS - RING_CENTRE[1])
    disc = np.isin(k, RING_SLICES) & (d <= R_OUT)
    np.testing.assert_array_equal(union[~near], disc[~near])
    # XOR: the hole is empty on every ring slice, the island in it filled on slice 3
    ring = masks["Ring"].array
    near_island = (k == ISLAND_SLICE) & (d < R_ISLAND + 0.1)
    hole = np.isin(k, RING_SLICES) & (d < R_IN - 0.1) & ~near_island
    assert hole.sum() > 100 and not ring[hole].any() and union[hole].all()
    island = (k == ISLAND_SLICE) & (d < R_ISLAND - 0.1)
    assert island.sum() >= 5 and ring[island].all()


def test_coarser_grid_takes_the_nearest_contour_plane(oblique):
    """Every other slice: each coarse slice uses only the contour plane nearest its centre
    (the Ring's island on fine slice 3 must not be XOR-ed into coarse slice 2)."""
    ct, path = oblique
    coarse = Volume(np.zeros((4, ROWS, COLS)), spacing=(2 * DZ,) + ct.spacing[1:],
                    origin=ct.origin, direction=ct.direction, meta=ct.meta)
    with pytest.warns(RTStructWarning):
        fine = rtstruct_to_masks(path, ct)
        got = rtstruct_to_masks(path, coarse)
    # fine plane -> coarse slice: floor(p / 2 + 0.5), the nearest plane wins
    source = {"Square": {1: 2, 2: 4}, "Ring": {1: 2, 2: 4, 3: 5}, "Box": {3: 6}}
    for name, planes in source.items():
        for j in range(4):
            want = fine[name].array[planes[j]] if j in planes else np.zeros((ROWS, COLS), bool)
            np.testing.assert_array_equal(got[name].array[j], want, err_msg=f"{name} slice {j}")


def test_single_slice_grid_and_clip(oblique):
    ct, path = oblique
    one = Volume(np.zeros((ROWS, COLS)), spacing=ct.spacing[1:],
                 origin=ct.index_to_world([3, 0, 0]), direction=ct.direction, meta=ct.meta)
    with pytest.raises(ValueError, match=r"ROI 7 'Square', contour 1: lies .* beyond like's first"):
        rtstruct_to_labels(path, one, rois=["Square"])
    with pytest.warns(RTStructWarning, match=r"skipped 1 POINT contour of ROI 3 'Ring'"):
        labels, _ = rtstruct_to_labels(path, one, rois=["Square", "Ring"], clip=True)
        full, _ = rtstruct_to_labels(path, ct, rois=["Square", "Ring"])
    assert labels.shape == (ROWS, COLS)
    np.testing.assert_array_equal(labels.array, full.array[3])


def test_oblique_structure_set_on_axial_grid_is_refused(oblique):
    _, path = oblique
    axial = Volume(np.zeros((40, 60, 60)), spacing=(1.0, 1.0, 1.0), origin=(-40.0, 0.0, 80.0),
                   meta={"FrameOfReferenceUID": FRAME})
    with pytest.raises(ValueError, match=r"ROI 7 'Square', contour 1: not parallel to like's "
                                         r"slices"):
        rtstruct_to_labels(path, axial, rois=["Square"])


def test_frame_of_reference_mismatch(oblique):
    ct, path = oblique
    other = Volume(np.zeros(ct.shape), spacing=ct.spacing, origin=ct.origin, direction=ct.direction,
                   meta={"FrameOfReferenceUID": "1.2.3.4.5"})
    with pytest.raises(ValueError, match=rf"frame of reference {FRAME}.*frame of reference "
                                         r"1\.2\.3\.4\.5"):
        rtstruct_to_labels(path, other, rois=["Box"])
    # no FrameOfReferenceUID on like: nothing to check
    bare = Volume(np.zeros(ct.shape), spacing=ct.spacing, origin=ct.origin, direction=ct.direction)
    labels, _ = rtstruct_to_labels(path, bare, rois=["Box"])
    assert labels.meta["FrameOfReferenceUID"] == FRAME and labels.array.sum() == 8 * 11


# --------------------------------------------------------------------------- bad input

AXIAL_LIKE = Volume(np.zeros((3, 20, 20)), spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0))
SQUARE = [[2, 2, 1], [10, 2, 1], [10, 10, 1], [2, 10, 1]]


def _one(contours, **kw):
    return make_rtstruct([(1, "A", contours)], **kw)


def test_valid_in_memory_baseline():
    labels, mapping = rtstruct_to_labels(_one([contour_item(SQUARE)]), AXIAL_LIKE)
    assert mapping == {1: ROI("A", 1, (255, 0, 1))}
    assert labels.array[1].sum() == 81 and labels.array[[0, 2]].sum() == 0


@pytest.mark.parametrize("bad, match", [
    (lambda c: setattr(c, "ContourData", [ds_str(v) for v in np.ravel(SQUARE)][:-1]),
     r"ROI 1 'A', contour 1: ContourData has 11 values, not a multiple of 3"),
    (lambda c: setattr(c, "ContourData", [1.0, float("nan"), 1.0] * 3),
     r"contour 1: ContourData holds a non-finite coordinate \(nan at point 1\)"),
    (lambda c: setattr(c, "ContourData", [1.0, float("inf"), 1.0] * 3), r"non-finite"),
    (lambda c: setattr(c, "NumberOfContourPoints", 5),
     r"NumberOfContourPoints is 5 but ContourData holds 4 points"),
    (lambda c: setattr(c, "ContourGeometricType", "CLOSED_BLOB"),
     r"unknown ContourGeometricType 'CLOSED_BLOB'"),
    (lambda c: delattr(c, "ContourData"), r"ContourData is missing or empty"),
    (lambda c: delattr(c, "ContourGeometricType"), r"has no ContourGeometricType"),
])
def test_malformed_contours(bad, match):
    c = contour_item(SQUARE)
    bad(c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pydicom on the NaN DS value
        ds = _one([c])
    with pytest.raises(DicomError, match=match):
        rtstruct_to_labels(ds, AXIAL_LIKE)


def test_malformed_contour_data_in_a_file_names_the_file(tmp_path):
    c = contour_item(SQUARE)
    c.ContourData = c.ContourData[:-2]
    path = tmp_path / "bad_rs.dcm"
    save(_one([c]), path)
    with pytest.raises(DicomError, match=rf"^{path}: ROI 1 'A', contour 1: ContourData has 10"):
        rtstruct_to_masks(path, AXIAL_LIKE)


def test_not_an_rtstruct(tmp_path):
    ct = get_testdata_file("CT_small.dcm", download=False)
    with pytest.raises(DicomError, match=rf"^{ct}: not an RT Structure Set \(Modality 'CT'"):
        rtstruct_to_labels(ct, AXIAL_LIKE)
    text = tmp_path / "notes.txt"
    text.write_text("not DICOM at all\n" * 20)
    with pytest.raises(DicomError, match=rf"^{text}: not a DICOM file"):
        rtstruct_to_labels(text, AXIAL_LIKE)
    ds = _one([contour_item(SQUARE)])
    ds.Modality, ds.SOPClassUID = "RTPLAN", "1.2.840.10008.5.1.4.1.1.481.5"
    with pytest.raises(DicomError, match=r"not an RT Structure Set \(Modality 'RTPLAN'"):
        rtstruct_to_labels(ds, AXIAL_LIKE)
    with pytest.raises(FileNotFoundError, match=r"rtstruct: no such file"):
        rtstruct_to_labels(tmp_path / "missing.dcm", AXIAL_LIKE)
    with pytest.raises(ValueError, match=r"is a directory"):
        rtstruct_to_labels(tmp_path, AXIAL_LIKE)


def test_no_rois_or_no_contours():
    ds = _one([contour_item(SQUARE)])
    del ds.StructureSetROISequence
    with pytest.raises(DicomError, match=r"defines no ROIs"):
        rtstruct_to_labels(ds, AXIAL_LIKE)
    ds = _one([])
    del ds.ROIContourSequence
    with pytest.raises(DicomError, match=r"no ROI has a closed contour.*ROI 1 'A' \(no contours\)"):
        rtstruct_to_labels(ds, AXIAL_LIKE)
    ds = _one([contour_item([[1, 1, 1]], gtype="POINT"), contour_item(SQUARE, gtype="OPEN_PLANAR")])
    with pytest.raises(DicomError, match=r"only 1 POINT contour, 1 OPEN_PLANAR contour"):
        rtstruct_to_labels(ds, AXIAL_LIKE)
    with pytest.raises(ValueError, match=r"rois: ROI 1 'A' of .* has only 1 POINT contour"):
        rtstruct_to_labels(ds, AXIAL_LIKE, rois=["A"])


def test_duplicate_roi_numbers_and_names():
    ds = make_rtstruct([(1, "A", [contour_item(SQUARE)]), (1, "B", [contour_item(SQUARE)])])
    with pytest.raises(DicomError, match=r"ROINumber 1 is used by two ROIs \('A' and 'B'\)"):
        rtstruct_to_labels(ds, AXIAL_LIKE)
    ds = make_rtstruct([(1, "A", [contour_item(SQUARE)]), (2, "A", [contour_item(SQUARE)])])
    labels, mapping = rtstruct_to_labels(ds, AXIAL_LIKE)      # labels: fine, numbers differ
    assert [r.number for r in mapping.values()] == [1, 2] and labels.array.max() == 2
    with pytest.raises(ValueError, match=r"rois: ROIs 1 and 2 of .* are both named 'A'"):
        rtstruct_to_masks(ds, AXIAL_LIKE)
    with pytest.raises(ValueError, match=r"the name 'A' belongs to ROIs 1, 2"):
        rtstruct_to_masks(ds, AXIAL_LIKE, rois="A")
    assert list(rtstruct_to_masks(ds, AXIAL_LIKE, rois=2)) == ["A"]


@pytest.mark.parametrize("kw, exc, match", [
    ({"rois": 3.5}, TypeError, r"rois must be None, an ROI name or number"),
    ({"rois": [1.0]}, TypeError, r"rois entries must be ROI names \(str\) or ROI numbers"),
    ({"rois": [True]}, TypeError, r"rois entries"),
    ({"rois": []}, ValueError, r"rois is empty"),
    ({"rois": ["B"]}, ValueError, r"rois: .* has no ROI 'B' \(its ROIs: 1 'A'\)"),
    ({"rois": [1, "A"]}, ValueError, r"rois names ROI 1 'A' twice"),
    ({"clip": "yes"}, TypeError, r"clip must be True or False"),
    ({"combine": "and"}, ValueError, r"combine must be 'xor' or 'or', got 'and'"),
    ({"combine": 1}, TypeError, r"combine must be 'xor' or 'or'"),
])
def test_bad_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        rtstruct_to_labels(_one([contour_item(SQUARE)]), AXIAL_LIKE, **kw)


def test_bad_rtstruct_and_like_types():
    ds = _one([contour_item(SQUARE)])
    with pytest.raises(TypeError, match=r"rtstruct must be a path or a pydicom Dataset, got int"):
        rtstruct_to_labels(42, AXIAL_LIKE)
    with pytest.raises(TypeError, match=r"like must be a medkern.Volume .* got ndarray"):
        rtstruct_to_labels(ds, np.zeros((3, 20, 20)))
    with pytest.raises(ValueError, match=r"like must be a 2-D or 3-D image grid"):
        rtstruct_to_masks(ds, Volume(np.zeros(20)))


def test_contour_geometry_errors():
    tilted = [[2, 2, 0], [10, 2, 0], [10, 10, 2], [2, 10, 2]]   # spans two slices
    with pytest.raises(ValueError, match=r"ROI 1 'A', contour 1: not parallel .* lie 2 mm apart"):
        rtstruct_to_labels(_one([contour_item(tilted)]), AXIAL_LIKE)
    within = [[2, 2, 0.8], [10, 2, 0.8], [10, 10, 1.2], [2, 10, 1.2]]  # inside slice 1's slab
    labels, _ = rtstruct_to_labels(_one([contour_item(within)]), AXIAL_LIKE)
    assert labels.array[1].sum() == 81
    far = [[2, 2, 5], [10, 2, 5], [10, 10, 5], [2, 10, 5]]
    ds = _one([contour_item(SQUARE), contour_item(far)])
    with pytest.raises(ValueError, match=r"contour 2: lies 3 mm beyond like's last slice"):
        rtstruct_to_labels(ds, AXIAL_LIKE)
    labels, _ = rtstruct_to_labels(ds, AXIAL_LIKE, clip=True)
    assert labels.array.sum() == 81
    # in-plane, what lies outside the grid is cut off
    wide = [[-50, -50, 2], [50, -50, 2], [50, 5.5, 2], [-50, 5.5, 2]]
    labels, _ = rtstruct_to_labels(_one([contour_item(wide)]), AXIAL_LIKE)
    assert labels.array[2].sum() == 6 * 20 and labels.array[:2].sum() == 0


def _segment_distance(points, poly):
    """Distance of each (n, 2) point to the closed polygon's outline."""
    a, b = poly, np.roll(poly, -1, axis=0)
    ab = b - a
    t = np.clip(((points[:, None] - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-300), 0, 1)
    return np.linalg.norm(points[:, None] - (a + t[..., None] * ab), axis=-1).min(axis=1)


def test_random_polygons_even_odd_against_skimage():
    """Random (self-intersecting, partly off-grid) polygons, three per slice: XOR of
    skimage.measure.points_in_poly per polygon at every voxel centre, away from outlines."""
    from skimage.measure import points_in_poly
    rng = np.random.default_rng(7)
    like = Volume(np.zeros((4, 23, 31)), spacing=(2.0, 0.9, 1.1), origin=(-3.0, -2.0, 1.5))
    rows, cols = np.indices(like.shape[1:])
    centres = np.column_stack([rows.ravel(), cols.ravel()]).astype(float)
    contours, expected, near = [], np.zeros(like.shape, bool), np.zeros(like.shape, bool)
    for k in range(like.shape[0]):
        for _ in range(3):
            n = int(rng.integers(3, 12))
            poly = np.column_stack([rng.uniform(-4, 26, n), rng.uniform(-4, 34, n)])  # (row, col)
            world = like.index_to_world(np.column_stack([np.full(n, k), poly]))
            contours.append(contour_item(world))
            expected[k] ^= points_in_poly(centres, poly).reshape(like.shape[1:])
            near[k] |= (_segment_distance(centres, poly) < 0.0125).reshape(like.shape[1:])
    labels, _ = rtstruct_to_labels(_one(contours), like)
    assert near.sum() < 0.03 * near.size
    np.testing.assert_array_equal(labels.array[~near] == 1, expected[~near])
