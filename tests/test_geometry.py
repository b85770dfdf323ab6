"""The Volume geometry model: affine, index <-> world, orientation codes, reorient, identity.

Truth comes from the DICOM definition of a pixel's position (PS3.3 C.7.6.2.1.1) and from
SimpleITK's reading of the same files.
"""
import itertools
import os

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

import medkern
import medkern.filters as mf
from medkern import Volume, reorient
from medkern.io import read_dicom
from medkern.volume import AXIAL

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

DATA_DIR = os.path.dirname(get_testdata_file("CT_small.dcm", download=False))
DIRTESTS = os.path.join(DATA_DIR, "dicomdirtests")
# pydicom's image series that form clean volumes, and single images (CT, MR)
SERIES = {"CT5N": os.path.join(DIRTESTS, "98892001", "CT5N"),
          "CT_small": get_testdata_file("CT_small.dcm"),
          "MR_small": get_testdata_file("MR_small.dcm"),
          "MR1": sorted(os.path.join(DIRTESTS, "98892003", "MR1", f)
                        for f in os.listdir(os.path.join(DIRTESTS, "98892003", "MR1")))[0]}


def sitk_read(path):
    sitk = pytest.importorskip("SimpleITK")
    if os.path.isdir(path):
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(path)))
        return reader.Execute()
    return sitk.ReadImage(str(path))


def rotation(a, b, c):
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    rz = np.array([[ca, -sa, 0], [sa, ca, 0], [0, 0, 1]])
    ry = np.array([[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]])
    rx = np.array([[1, 0, 0], [0, cc, -sc], [0, sc, cc]])
    return rz @ ry @ rx


def write_oblique_series(directory, shape=(5, 6, 7), spacing=(2.5, 0.7, 0.9),
                         origin=(-12.5, 30.25, 101.0), angles=(0.5, -0.3, 0.2)):
    """An oblique CT series from CT_small.dcm; returns (row cosine, column cosine, normal,
    origin, spacing, stored values (z, y, x))."""
    os.makedirs(directory, exist_ok=True)
    r = rotation(*angles)
    row, col = r[:, 0], r[:, 1]
    normal = np.cross(row, col)
    base = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    uid = generate_uid()
    values = (np.arange(np.prod(shape)).reshape(shape) % 3000).astype(np.int16)
    for k in range(shape[0]):
        ds = base.copy()
        ds.Rows, ds.Columns = shape[1:]
        ds.PixelRepresentation, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 1, 16, 16, 15
        ds.PixelData = values[k].astype("<i2").tobytes()
        ds.RescaleSlope, ds.RescaleIntercept = "1", "0"
        pos = np.asarray(origin) + k * spacing[0] * normal
        ds.ImagePositionPatient = [f"{v:.10g}" for v in pos]
        ds.ImageOrientationPatient = [f"{v:.10g}" for v in (*row, *col)]
        ds.PixelSpacing = [f"{spacing[1]:.10g}", f"{spacing[2]:.10g}"]
        ds.SliceThickness = f"{spacing[0]:.10g}"
        ds.SeriesInstanceUID = uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = k + 1
        ds.save_as(os.path.join(directory, f"s{k:02d}.dcm"))
    return row, col, normal, np.asarray(origin), spacing, values


def all_indices(shape):
    return np.indices(shape).reshape(len(shape), -1).T.astype(np.float64)


# --------------------------------------------------------------------------- the model

def test_affine_is_the_dicom_pixel_position(tmp_path):
    row, col, normal, origin, spacing, values = write_oblique_series(tmp_path)
    v = read_dicom(tmp_path)
    np.testing.assert_array_equal(v.array, values)
    idx = all_indices(v.shape)
    k, r, c = idx.T
    # PS3.3 C.7.6.2.1.1: P = IPP_k + row cosine * column spacing * c + column cosine * row spacing * r
    truth = origin + np.outer(k * spacing[0], normal) + np.outer(c * spacing[2], row) \
        + np.outer(r * spacing[1], col)
    np.testing.assert_allclose(v.index_to_world(idx), truth, atol=1e-6)
    h = np.c_[idx, np.ones(len(idx))]
    np.testing.assert_allclose((h @ v.affine.T)[:, :3], truth, atol=1e-6)
    np.testing.assert_allclose((h @ v.affine_ras.T)[:, :3], truth * [-1, -1, 1], atol=1e-6)
    np.testing.assert_allclose(v.index_to_world(idx, space="RAS"), truth * [-1, -1, 1], atol=1e-6)
    np.testing.assert_allclose(v.world_to_index(truth), idx, atol=1e-6)
    np.testing.assert_allclose(v.world_to_index(truth * [-1, -1, 1], space="RAS"), idx, atol=1e-6)
    assert v.spacing == pytest.approx(spacing)
    np.testing.assert_allclose(v.direction, np.column_stack([normal, col, row]), atol=1e-9)


@pytest.mark.parametrize("name", sorted(SERIES))
def test_every_voxel_where_simpleitk_puts_it(name):
    v = read_dicom(SERIES[name])  # Hounsfield units, as SimpleITK applies the rescale too
    img = sitk_read(SERIES[name])
    sitk = pytest.importorskip("SimpleITK")
    ref = sitk.GetArrayFromImage(img)  # (k, j, i)
    assert ref.reshape(-1).size == v.array.size
    idx = all_indices(v.shape)
    world = v.index_to_world(idx)
    cont = np.array([img.TransformPhysicalPointToContinuousIndex(tuple(p)) for p in world])
    sitk_idx = cont[:, ::-1]  # ITK's (i, j, k) -> array order
    np.testing.assert_allclose(sitk_idx, np.rint(sitk_idx), atol=1e-3)
    got = ref[tuple(np.rint(sitk_idx).astype(int).T)]
    np.testing.assert_array_equal(got, v.array.reshape(-1))
    np.testing.assert_allclose(v.spacing, img.GetSpacing()[::-1][-v.ndim:], rtol=1e-5)


def test_oblique_series_where_simpleitk_puts_it(tmp_path):
    write_oblique_series(tmp_path)
    v = read_dicom(tmp_path)
    img = sitk_read(tmp_path)
    sitk = pytest.importorskip("SimpleITK")
    idx = all_indices(v.shape)
    sitk_world = np.array([img.TransformContinuousIndexToPhysicalPoint(tuple(i[::-1])) for i in idx])
    np.testing.assert_allclose(v.index_to_world(idx), sitk_world, atol=1e-4)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img), v.array)


def test_default_geometry_is_axial_lps():
    v = Volume(np.zeros((2, 3, 4)))
    np.testing.assert_array_equal(v.direction, AXIAL)
    assert v.orientation() == "LPS"
    np.testing.assert_array_equal(v.index_to_world([1, 2, 3]), [3, 2, 1])  # (x, y, z) = (col, row, slice)
    flat = Volume(np.zeros((3, 4)), spacing=(0.5, 0.25), origin=(1, 2, 3))
    assert flat.orientation() == "LP"
    np.testing.assert_allclose(flat.index_to_world([[2, 3]]), [[1.75, 3.0, 3.0]])
    np.testing.assert_allclose(flat.world_to_index([1.75, 3.0, 7.0]), [2, 3])  # off-plane dropped


def test_orientation_codes_of_real_planes(tmp_path):
    # sagittal: rows run along -z (I), columns along +y (P)
    ax = Volume(np.zeros((2, 3, 4)), direction=np.column_stack([[1, 0, 0], [0, 0, -1], [0, 1, 0]]))
    assert ax.orientation() == "PIL"
    rev = Volume(np.zeros((2, 3, 4)), direction=-AXIAL)
    assert rev.orientation() == "RAI"
    tilt = rotation(0.2, 0.1, -0.15)[:, ::-1]  # < 45 degrees from axial
    assert Volume(np.zeros((2, 3, 4)), direction=tilt).orientation() == "LPS"


@pytest.mark.parametrize("code", ["".join(p) for p in itertools.permutations("LPS")][:3] +
                         ["RAS", "LAI", "IRP", "ASL", "PIR"])
def test_reorient_is_lossless(code):
    rng = np.random.default_rng(5)
    arr = rng.normal(size=(3, 4, 5)).astype(np.float32)
    v = Volume(arr, spacing=(2.0, 0.5, 0.8), origin=(10, -20, 30),
               direction=rotation(0.1, 0.05, -0.1)[:, ::-1], series_uid="1.2.3")
    r = reorient(v, code)
    assert r.orientation() == code and r.series_uid == "1.2.3"
    # every voxel keeps its value and its patient position
    idx = all_indices(v.shape)
    world = v.index_to_world(idx)
    back = np.rint(r.world_to_index(world)).astype(int)
    np.testing.assert_allclose(r.world_to_index(world), back, atol=1e-9)
    np.testing.assert_array_equal(r.array[tuple(back.T)], arr.reshape(-1))
    assert sorted(r.spacing) == sorted(v.spacing)
    again = reorient(r, v.orientation())
    np.testing.assert_array_equal(again.array, arr)
    np.testing.assert_allclose(again.affine, v.affine, atol=1e-12)


def test_reorient_2d_4d_and_device_arrays():
    flat = Volume(np.arange(12.0).reshape(3, 4), spacing=(0.5, 0.25))
    r = reorient(flat, "RA")
    np.testing.assert_array_equal(r.array, flat.array[::-1, ::-1])
    np.testing.assert_allclose(r.index_to_world([0, 0]), flat.index_to_world([2, 3]))
    four = Volume(np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5), spacing=(1, 2, 3))
    r4 = reorient(four, "SAR")
    assert r4.shape == (2, 5, 4, 3) and r4.spacing == (3, 2, 1)
    np.testing.assert_array_equal(r4.array[1], np.transpose(four.array[1], (2, 1, 0))[::-1, ::-1])
    dev = Volume(medkern.asarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4)))
    rd = reorient(dev, "RAS")
    assert isinstance(rd.array, medkern.DeviceArray)
    np.testing.assert_array_equal(medkern.asnumpy(rd.array), np.arange(24.0).reshape(2, 3, 4)[:, ::-1, ::-1])


def test_derived_volumes_get_a_new_series_identity():
    v = Volume(np.zeros((4, 5, 6), np.float32), series_uid="1.2.826.0.1.3680043.2.1125.1")
    out = mf.gaussian_filter(v, 1.0)
    assert out.series_uid != v.series_uid and out.derived_from == v.series_uid
    assert out.series_uid.startswith("2.25.") and len(out.series_uid) <= 64
    assert mf.gaussian_filter(v, 1.0).series_uid != out.series_uid  # a new one each time
    same = v.with_array(np.ones((4, 5, 6)), derived=False)
    assert same.series_uid == v.series_uid


def test_voxels_converts_millimetres():
    v = Volume(np.zeros((4, 5, 6)), spacing=(2.5, 0.5, 0.8))
    assert v.voxels(2.0) == (0.8, 4.0, 2.5)
    assert v.voxels([5.0, 1.0, 1.6]) == (2.0, 2.0, 2.0)


def test_from_affine_inverts_affine():
    a = np.eye(4)
    a[:3, :3] = rotation(0.3, 0.2, 0.1) * [1.5, 0.5, 2.0]
    a[:3, 3] = [4, 5, 6]
    v = Volume.from_affine(np.zeros((2, 3, 4)), a)
    np.testing.assert_allclose(v.affine, a, atol=1e-12)
    assert v.spacing == pytest.approx((1.5, 0.5, 2.0))
    ras = Volume.from_affine(np.zeros((2, 3, 4)), a, space="RAS")
    np.testing.assert_allclose(ras.affine_ras, a, atol=1e-12)


@pytest.mark.parametrize("affine, match", [
    (np.diag([1.0, 0.0, 1.0, 1.0]), "singular"),
    (np.array([[1.0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]), "singular"),
    (np.full((4, 4), np.nan), "finite"),
    (np.eye(3), "4 x 4"),
])
def test_bad_affines_are_refused(affine, match):
    with pytest.raises(ValueError, match=match):
        Volume.from_affine(np.zeros((2, 3, 4)), affine)


def test_bad_geometry_is_refused():
    with pytest.raises(ValueError, match="singular"):
        Volume(np.zeros((2, 3, 4)), direction=[[1, 1, 0], [0, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="unit vectors"):
        Volume(np.zeros((2, 3, 4)), direction=np.eye(3) * 2)
    with pytest.raises(ValueError, match="3 x 3"):
        Volume(np.zeros((2, 3, 4)), direction=np.eye(2))
    with pytest.raises(ValueError, match="spacing"):
        Volume(np.zeros((2, 3, 4, 5)), spacing=(1, 1, 1, 1))
    with pytest.raises(ValueError, match="1-D to 4-D"):
        Volume(np.zeros((1,) * 5))
    v = Volume(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3\)"):
        v.index_to_world([1, 2])
    with pytest.raises(ValueError, match="space"):
        v.index_to_world([1, 2, 3], space="XYZ")
    for bad, match in [("LPX", "not one of"), ("LLS", "twice"), ("LP", "3 letters")]:
        with pytest.raises(ValueError, match=match):
            reorient(v, bad)
    with pytest.raises(TypeError, match="orientation"):
        reorient(v, 3)
    with pytest.raises(TypeError, match="Volume"):
        reorient(np.zeros((2, 2)), "RAS")
