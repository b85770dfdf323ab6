"""DICOM I/O: read_dicom / list_series / write_dicom, and the .npz round trip.

Only data shipping with pydicom (``pydicom/data/test_files``) or series synthesised from
those slices into ``tmp_path``; nothing is downloaded.
"""
from __future__ import annotations

import copy
import os
import shutil
import tempfile

import numpy as np
import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

import medkern.volume
from medkern import Volume
from medkern.io import DicomError, list_series, load, read_dicom, write_dicom

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host


def data(name: str) -> str:
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} is not in pydicom's bundled test files"
    return path


DATA_DIR = os.path.dirname(data("CT_small.dcm"))
DIRTESTS = os.path.join(DATA_DIR, "dicomdirtests")
CT5N = os.path.join(DIRTESTS, "98892001", "CT5N")
CT2 = os.path.join(DIRTESTS, "77654033", "CT2")
MR700 = os.path.join(DIRTESTS, "98892003", "MR700")
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)

_BASES: dict[str, pydicom.Dataset] = {}


def base(name: str) -> pydicom.Dataset:
    if name not in _BASES:
        _BASES[name] = pydicom.dcmread(data(name))
    return copy.deepcopy(_BASES[name])


def ds_str(v: float) -> str:
    return f"{float(v):.10g}"


def make_slice(path, values, position, *, orientation=AXIAL, series_uid, instance=1,
               slope=None, intercept=None, spacing=(0.5, 0.75), src="MR_small.dcm",
               unsigned=False):
    """A copy of a real slice with new pixels, geometry and UIDs, saved at ``path``."""
    ds = base(src)
    values = np.asarray(values)
    ds.Rows, ds.Columns = values.shape
    ds.PixelRepresentation = 0 if unsigned else 1
    ds.BitsStored, ds.HighBit = 16, 15
    ds.PixelData = values.astype("<u2" if unsigned else "<i2").tobytes()
    ds.ImagePositionPatient = [ds_str(v) for v in position]
    ds.ImageOrientationPatient = [ds_str(v) for v in orientation]
    ds.PixelSpacing = [ds_str(v) for v in spacing]
    ds.SeriesInstanceUID = series_uid
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = instance
    if 0xFFFCFFFC in ds:
        del ds[0xFFFCFFFC]  # trailing padding: keep the pixel data at the end of the file
    if slope is not None:
        ds.RescaleSlope = ds_str(slope)
    if intercept is not None:
        ds.RescaleIntercept = ds_str(intercept)
    ds.save_as(os.fspath(path))
    return ds


def normal_of(orientation):
    return np.cross(np.array(orientation[:3]), np.array(orientation[3:]))


def write_series(directory, offsets, *, orientation=AXIAL, origin=(10.0, -20.0, 5.0), names=None,
                 instances=None, uid=None, shape=(6, 7), slopes=None, intercepts=None, **kw):
    """Slices at ``origin + offset * normal``; slice k holds ``pattern + 100 * k``. Returns
    (series uid, list of stored arrays by k)."""
    os.makedirs(directory, exist_ok=True)
    uid = uid or generate_uid()
    n = normal_of(orientation)
    pattern = np.arange(shape[0] * shape[1], dtype=np.int16).reshape(shape)
    stored = []
    for k, off in enumerate(offsets):
        values = pattern + 100 * k
        name = names[k] if names is not None else f"s{k:03d}.dcm"
        make_slice(os.path.join(directory, name), values, np.array(origin) + off * n,
                   orientation=orientation, series_uid=uid,
                   instance=instances[k] if instances is not None else k + 1,
                   slope=None if slopes is None else slopes[k],
                   intercept=None if intercepts is None else intercepts[k], **kw)
        stored.append(values)
    return uid, stored


def assert_orthonormal(direction):
    assert np.allclose(direction.T @ direction, np.eye(3), atol=1e-12)
    # array order (slice, row, column): the slice axis is DICOM's normal cross(row, column)
    assert np.allclose(np.cross(direction[:, 2], direction[:, 1]), direction[:, 0], atol=1e-12)


# --------------------------------------------------------------------------- real files

def test_ct_small_in_hounsfield_units():
    ds = pydicom.dcmread(data("CT_small.dcm"))
    v = read_dicom(data("CT_small.dcm"))
    assert isinstance(v, Volume) and v.shape == (128, 128)
    assert v.dtype == np.int16  # slope 1, intercept -1024: integers that fit int16
    np.testing.assert_array_equal(v.array, ds.pixel_array.astype(np.int32) - 1024)
    assert v.spacing == tuple(float(s) for s in ds.PixelSpacing)
    assert v.origin == tuple(float(s) for s in ds.ImagePositionPatient)
    assert_orthonormal(v.direction)
    assert v.modality == "CT" and v.series_uid == ds.SeriesInstanceUID
    assert v.meta.PatientName == ds.PatientName and "PixelData" not in v.meta
    raw = read_dicom(data("CT_small.dcm"), rescale=False)
    assert raw.dtype == np.int16
    np.testing.assert_array_equal(raw.array, ds.pixel_array)


@pytest.mark.parametrize("name", ["MR_small_bigendian.dcm", "MR_small_implicit.dcm",
                                  "MR_small_RLE.dcm", "MR_small_expb.dcm"])
def test_mr_small_encodings_give_identical_volumes(name):
    ref = read_dicom(data("MR_small.dcm"))
    v = read_dicom(data(name))
    assert v.array.dtype == np.int16 and v.array.dtype.isnative
    np.testing.assert_array_equal(v.array, ref.array)
    assert v.spacing == ref.spacing and v.origin == ref.origin
    np.testing.assert_array_equal(v.direction, ref.direction)


def test_bits_stored_and_pixel_representation(tmp_path):
    a = np.array([[-5, 3], [2047, -2048]], np.int16)
    ds = base("MR_small.dcm")
    ds.Rows, ds.Columns, ds.BitsStored, ds.HighBit = 2, 2, 12, 11
    ds.PixelData = (a.astype(np.int32) & 0x0FFF).astype("<u2").tobytes()
    ds.save_as(tmp_path / "s12.dcm")
    v = read_dicom(tmp_path / "s12.dcm")
    assert v.dtype == np.int16
    np.testing.assert_array_equal(v.array, a)  # 12-bit two's complement sign-extended
    ds.PixelRepresentation = 0
    ds.save_as(tmp_path / "u12.dcm")
    u = read_dicom(tmp_path / "u12.dcm")
    assert u.dtype == np.uint16
    np.testing.assert_array_equal(u.array, [[4091, 3], [2047, 2048]])


def test_rtdose_multiframe_grid_frame_offsets():
    ds = pydicom.dcmread(data("rtdose.dcm"))
    v = read_dicom(data("rtdose.dcm"))
    assert v.shape == (15, 10, 10) and v.modality == "RTDOSE"
    assert v.spacing == (5.0, 10.0, 10.0)
    assert v.origin == tuple(float(x) for x in ds.ImagePositionPatient)
    assert v.dtype == np.float32  # DoseGridScaling 1e-6 -> Gy
    np.testing.assert_allclose(v.array, ds.pixel_array * float(ds.DoseGridScaling), rtol=1e-7)
    raw = read_dicom(data("rtdose.dcm"), rescale=False)
    assert raw.dtype == np.uint32
    np.testing.assert_array_equal(raw.array, ds.pixel_array)
    one = read_dicom(data("rtdose_1frame.dcm"))
    assert one.shape == (10, 10) and one.spacing == (10.0, 10.0)


@pytest.mark.parametrize("absolute", [False, True])
def test_rtdose_offsets_descending_and_absolute(tmp_path, absolute):
    ds = pydicom.dcmread(data("rtdose.dcm"))
    frames = ds.pixel_array
    z0 = float(ds.ImagePositionPatient[2])
    offsets = -5.0 * np.arange(15)  # frames go down in z: they must come back reversed
    ds.GridFrameOffsetVector = [ds_str(z0 + o if absolute else o) for o in offsets]
    ds.save_as(tmp_path / "dose.dcm")
    v = read_dicom(tmp_path / "dose.dcm", rescale=False)
    np.testing.assert_array_equal(v.array, frames[::-1])
    assert v.spacing[0] == pytest.approx(5.0)
    assert v.origin[2] == pytest.approx(z0 - 70.0)


def test_enhanced_multiframe_per_frame_positions_and_rescale(tmp_path):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    ds = base("MR_small.dcm")
    src = ds.pixel_array[:5, :6]
    z = [7.5, 0.0, 5.0, 2.5]              # frame order in the file is not spatial order
    intercepts = [10.0, 20.0, 30.0, 40.0]
    frames = np.stack([src + k for k in range(4)]).astype(np.int16)
    ds.Rows, ds.Columns, ds.NumberOfFrames = 5, 6, 4
    ds.PixelData = frames.astype("<i2").tobytes()
    for kw in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"):
        delattr(ds, kw)

    def item(**seqs):
        it = Dataset()
        for name, attrs in seqs.items():
            inner = Dataset()
            for k, val in attrs.items():
                setattr(inner, k, val)
            setattr(it, name, Sequence([inner]))
        return it

    ds.SharedFunctionalGroupsSequence = Sequence([item(
        PlaneOrientationSequence={"ImageOrientationPatient": list(AXIAL)},
        PixelMeasuresSequence={"PixelSpacing": [0.5, 0.25], "SliceThickness": 2.5})])
    ds.PerFrameFunctionalGroupsSequence = Sequence([item(
        PlanePositionSequence={"ImagePositionPatient": [1.0, 2.0, zk]},
        PixelValueTransformationSequence={"RescaleSlope": 1, "RescaleIntercept": ck,
                                          "RescaleType": "US"})
        for zk, ck in zip(z, intercepts)])
    ds.save_as(tmp_path / "enhanced.dcm")
    v = read_dicom(tmp_path / "enhanced.dcm")
    order = np.argsort(z)
    assert v.shape == (4, 5, 6) and v.dtype == np.int16
    expected = np.stack([frames[i].astype(np.int32) + int(intercepts[i]) for i in order])
    np.testing.assert_array_equal(v.array, expected)
    assert v.spacing == (2.5, 0.5, 0.25) and v.origin == (1.0, 2.0, 0.0)


def test_dicomdirtests_ct_series_sorted_by_position():
    v = read_dicom(CT5N)
    files = sorted(os.listdir(CT5N))
    dss = [pydicom.dcmread(os.path.join(CT5N, f)) for f in files]
    dss.sort(key=lambda d: float(d.ImagePositionPatient[2]))  # axial: normal is +z
    expected = np.stack([d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept)
                         for d in dss])
    np.testing.assert_array_equal(v.array, expected)
    assert v.shape == (5, 16, 16) and v.dtype == np.int16
    assert v.spacing[0] == pytest.approx(2.5)
    assert v.spacing[1:] == tuple(float(s) for s in dss[0].PixelSpacing)
    assert v.origin == tuple(float(x) for x in dss[0].ImagePositionPatient)
    assert_orthonormal(v.direction)


def test_list_series_of_dicomdirtests():
    series = list_series(DIRTESTS)
    assert len(series) == 14
    by_uid = {s["uid"]: s for s in series}
    assert set(series[0]) >= {"uid", "modality", "description", "n_slices", "shape", "files"}
    mr700 = by_uid["1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.118"]
    assert mr700["modality"] == "MR" and mr700["n_slices"] == 7 and mr700["shape"] == (7, 16, 16)
    assert mr700["description"].startswith("ANGIO Projected")
    ct5 = [s for s in series if s["files"][0].startswith(CT5N)][0]
    assert ct5["n_slices"] == 5 and ct5["shape"] == (5, 16, 16) and len(ct5["files"]) == 5
    tiny = [s for s in series if "TINY_ALPHA" in s["files"][0]][0]
    assert tiny["n_slices"] == 50 and tiny["shape"] is None  # objects without pixel data
    single = [s for s in series if s["n_slices"] == 1]
    assert all(s["shape"] == (16, 16) for s in single)
    all_files = [f for s in series for f in s["files"]]
    assert not any(os.path.basename(f).startswith(("DICOMDIR", "README")) for f in all_files)


def test_several_series_need_series_uid():
    with pytest.raises(DicomError, match="14 image series") as err:
        read_dicom(DIRTESTS)
    msg = str(err.value)
    assert isinstance(err.value, ValueError)
    assert "1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.6" in msg
    assert "SmartScore - Gated 0.5 sec" in msg and "5 slice(s)" in msg and "  CT  " in msg
    with pytest.raises(DicomError, match="no series with SeriesInstanceUID 1.2.3.4") as err:
        read_dicom(DIRTESTS, series_uid="1.2.3.4")
    assert "1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.118" in str(err.value)
    v = read_dicom(DIRTESTS, series_uid="1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.6")
    np.testing.assert_array_equal(v.array, read_dicom(CT5N).array)


def test_mr700_projections_have_different_orientations():
    # MR700 is one series of 7 MIP projections, each with its own row direction.
    with pytest.raises(DicomError, match="7 different orientations") as err:
        read_dicom(MR700)
    assert MR700 in str(err.value)
    v = read_dicom(os.path.join(MR700, "4558"))  # one projection alone is a fine 2-D image
    assert v.shape == (16, 16)
    assert_orthonormal(v.direction)


def test_localizers_and_missing_pixel_data_in_dicomdirtests():
    with pytest.raises(DicomError, match="2 different orientations"):
        read_dicom(os.path.join(DIRTESTS, "98892001", "CT2N"))
    with pytest.raises(DicomError, match="no pixel data") as err:
        read_dicom(os.path.join(DIRTESTS, "TINY_ALPHA"))
    assert "IM0000" in str(err.value)


def test_real_series_with_a_gap_and_resampling():
    with pytest.raises(DicomError, match="not uniform") as err:
        read_dicom(CT2)
    msg = str(err.value)
    assert "202.5 (x1)" in msg and "1.25 (x2)" in msg and "17106" in msg and "resample=True" in msg
    v = read_dicom(CT2, resample=True)
    assert v.shape == (165, 16, 16) and v.dtype == np.float32
    assert v.spacing[0] == pytest.approx(1.25)
    dss = sorted((pydicom.dcmread(os.path.join(CT2, f)) for f in os.listdir(CT2)),
                 key=lambda d: float(d.ImagePositionPatient[2]))
    hu = [d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in dss]
    np.testing.assert_allclose(v.array[0], hu[0])
    np.testing.assert_allclose(v.array[-1], hu[-1])
    np.testing.assert_allclose(v.array[-3], hu[1])  # 103.02 lies on the grid
    np.testing.assert_allclose(v.array[81], hu[0] + (hu[1] - hu[0]) * (81 / 162), rtol=1e-6)
    assert v.origin == tuple(float(x) for x in dss[0].ImagePositionPatient)


# --------------------------------------------------------------------------- bad files

def test_truncated_file():
    path = data("MR_truncated.dcm")
    with pytest.raises(DicomError) as err:
        read_dicom(path)
    assert str(err.value).startswith(f"{path}: truncated file (pixel data shorter")
    assert "8130 of 8192 bytes" in str(err.value)


@pytest.mark.parametrize("name, what", [("rtplan.dcm", "RT Plan Storage"),
                                        ("test-SR.dcm", "Comprehensive SR Storage"),
                                        ("rtstruct.dcm", "RT Structure Set Storage")])
def test_non_image_objects(name, what):
    with pytest.raises(DicomError, match="not an image") as err:
        read_dicom(data(name))
    assert str(err.value).startswith(data(name)) and what in str(err.value)


def test_missing_pixel_data(tmp_path):
    ds = base("CT_small.dcm")
    del ds.PixelData
    ds.save_as(tmp_path / "nopix.dcm")
    with pytest.raises(DicomError, match="no pixel data") as err:
        read_dicom(tmp_path / "nopix.dcm")
    assert str(err.value).startswith(str(tmp_path / "nopix.dcm"))


def test_truncated_slice_inside_a_series(tmp_path):
    write_series(tmp_path, [0, 1, 2])
    path = tmp_path / "s001.dcm"
    raw = path.read_bytes()
    path.write_bytes(raw[:-20])
    with pytest.raises(DicomError, match="truncated file") as err:
        read_dicom(tmp_path)
    assert str(err.value).startswith(str(path))


def test_corrupt_header_value_names_the_file(tmp_path):
    raw = open(data("CT_small.dcm"), "rb").read()
    rows = b"\x28\x00\x10\x00US\x02\x00"  # (0028,0010) Rows, explicit VR little endian
    assert raw.count(rows) == 1
    path = tmp_path / "bad.dcm"
    path.write_bytes(raw.replace(rows, b"\x28\x00\x10\x00D\x96\x02\x00"))
    for call in (read_dicom, list_series):
        with pytest.raises(DicomError, match="cannot parse the DICOM header") as err:
            call(path)
        assert str(err.value).startswith(str(path))


@pytest.fixture
def no_decoders(monkeypatch):
    """Make pydicom believe no plugin for compressed pixel data is installed."""
    try:
        from pydicom.pixels.decoders.base import get_decoder
    except ImportError:  # pydicom 2.x
        monkeypatch.setattr(pydicom.config, "pixel_data_handlers", [])
        return
    from pydicom import uid
    for ts in (uid.JPEG2000, uid.JPEG2000Lossless, uid.JPEGLSLossless, uid.JPEGLSNearLossless,
               uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLossless, uid.JPEGLosslessSV1):
        monkeypatch.setattr(get_decoder(ts), "_available", {})


@pytest.mark.parametrize("name, package", [("JPEG2000.dcm", "pylibjpeg-openjpeg"),
                                           ("MR_small_jpeg_ls_lossless.dcm", "pylibjpeg-libjpeg")])
def test_missing_decoder_names_the_package(no_decoders, name, package):
    with pytest.raises(DicomError, match="no installed decoder") as err:
        read_dicom(data(name))
    msg = str(err.value)
    assert msg.startswith(data(name)) and package in msg and "pip install" in msg


def test_colour_images_are_rejected():
    with pytest.raises(DicomError, match="3 samples per pixel"):
        read_dicom(data("SC_rgb_small_odd.dcm"))


def test_non_dicom_files_skipped_in_directories_but_not_when_named(tmp_path):
    shutil.copytree(CT5N, tmp_path / "ct")
    shutil.copy(os.path.join(DIRTESTS, "DICOMDIR"), tmp_path / "DICOMDIR")
    (tmp_path / "README.txt").write_text("exported by a scanner\n")
    (tmp_path / "ct" / "junk.bin").write_bytes(np.random.default_rng(0).bytes(3000))
    v = read_dicom(tmp_path)
    np.testing.assert_array_equal(v.array, read_dicom(CT5N).array)
    assert len(list_series(tmp_path)) == 1
    with pytest.raises(DicomError, match="not a DICOM file"):
        read_dicom(tmp_path / "README.txt")
    with pytest.raises(DicomError, match="DICOMDIR"):
        read_dicom(tmp_path / "DICOMDIR")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing here")
    with pytest.raises(DicomError, match=r"no DICOM files found \(1 non-DICOM"):
        read_dicom(empty)
    with pytest.raises(FileNotFoundError):
        read_dicom(tmp_path / "missing")


def test_an_rtplan_next_to_the_images_does_not_count(tmp_path):
    shutil.copytree(CT5N, tmp_path / "ct")
    shutil.copy(data("rtplan.dcm"), tmp_path / "plan.dcm")
    v = read_dicom(tmp_path)
    assert v.shape == (5, 16, 16)
    plan = pydicom.dcmread(data("rtplan.dcm"))
    series = list_series(tmp_path)
    assert sorted(s["n_slices"] for s in series) == [0, 5]
    with pytest.raises(DicomError, match="holds no image"):
        read_dicom(tmp_path, series_uid=plan.SeriesInstanceUID)


# --------------------------------------------------------------------------- synthesised series

def test_shuffled_names_and_instance_numbers_sort_by_position(tmp_path):
    offsets = [4.0, 0.0, 8.0, 2.0, 6.0]
    names = ["z.dcm", "a.dcm", "m.dcm", "b.dcm", "c.dcm"]
    uid, stored = write_series(tmp_path, offsets, names=names, instances=[1, 2, 3, 4, 5])
    v = read_dicom(tmp_path)
    order = np.argsort(offsets)
    np.testing.assert_array_equal(v.array, np.stack([stored[i] for i in order]))
    assert v.spacing == (2.0, 0.5, 0.75) and v.origin == (10.0, -20.0, 5.0)
    assert v.series_uid == uid and v.meta.InstanceNumber == 2
    listed = read_dicom([tmp_path / n for n in names])
    np.testing.assert_array_equal(listed.array, v.array)


def test_tilted_orientation(tmp_path):
    th, ph = np.deg2rad(25.0), np.deg2rad(-40.0)
    row = np.array([np.cos(th), np.sin(th), 0.0])
    col = np.array([-np.sin(th) * np.cos(ph), np.cos(th) * np.cos(ph), np.sin(ph)])
    orientation = (*row, *col)
    offsets = [3.0, -3.0, 0.0, 6.0]
    uid, stored = write_series(tmp_path, offsets, orientation=orientation)
    v = read_dicom(tmp_path)
    assert_orthonormal(v.direction)
    normal = np.cross(row, col)
    np.testing.assert_allclose(v.direction, np.column_stack([normal, col, row]), atol=1e-9)
    np.testing.assert_allclose(v.origin, np.array([10.0, -20.0, 5.0]) - 3.0 * normal, atol=1e-6)
    assert v.spacing[0] == pytest.approx(3.0)
    np.testing.assert_array_equal(v.array, np.stack([stored[i] for i in np.argsort(offsets)]))


def test_gantry_tilt_is_an_error(tmp_path):
    uid = generate_uid()
    for k in range(3):  # positions step 2 mm in z and 0.5 mm sideways in y
        make_slice(tmp_path / f"{k}.dcm", np.zeros((4, 4)), (0.0, 0.5 * k, 2.0 * k), series_uid=uid)
    with pytest.raises(DicomError, match="gantry tilt"):
        read_dicom(tmp_path)


def test_missing_slice_error_and_resample(tmp_path):
    write_series(tmp_path, [0.0, 2.5, 5.0, 10.0, 12.5])
    with pytest.raises(DicomError, match=r"not uniform.*2\.5 \(x2\), 5 \(x1\), 2\.5 \(x1\)") as err:
        read_dicom(tmp_path)
    assert "s002.dcm and" in str(err.value) and "s003.dcm" in str(err.value)
    v = read_dicom(tmp_path, resample=True)
    assert v.shape == (6, 6, 7) and v.dtype == np.float32 and v.spacing[0] == pytest.approx(2.5)
    raw = read_dicom(tmp_path, resample=True, rescale=False)
    np.testing.assert_allclose(raw.array[3], (raw.array[2] + raw.array[4]) / 2)
    np.testing.assert_array_equal(v.array[4], raw.array[4])


def test_spacing_tolerance(tmp_path):
    write_series(tmp_path, [0.0, 2.0, 4.02, 6.0])  # gaps deviate ~1 % from the mean 2.0
    with pytest.raises(DicomError, match="not uniform"):
        read_dicom(tmp_path, spacing_tolerance=0.001)
    assert read_dicom(tmp_path).spacing[0] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="spacing_tolerance"):
        read_dicom(tmp_path, spacing_tolerance=-1)


def test_duplicate_positions(tmp_path):
    write_series(tmp_path, [0.0, 1.0, 1.0, 2.0])
    with pytest.raises(DicomError, match="1 duplicate slice position") as err:
        read_dicom(tmp_path)
    assert "s001.dcm and" in str(err.value) and "s002.dcm" in str(err.value)


def test_different_shapes(tmp_path):
    uid, _ = write_series(tmp_path, [0.0, 1.0])
    make_slice(tmp_path / "odd.dcm", np.zeros((5, 5)), (10.0, -20.0, 7.0), series_uid=uid)
    with pytest.raises(DicomError, match="different shapes") as err:
        read_dicom(tmp_path)
    assert "6x7 (e.g. " in str(err.value) and "odd.dcm)" in str(err.value)
    assert "5x5 (e.g. " in str(err.value)


def test_mixed_series_in_one_directory(tmp_path):
    uid_a, stored_a = write_series(tmp_path, [0.0, 1.0, 2.0], names=["1.dcm", "3.dcm", "5.dcm"])
    uid_b, stored_b = write_series(tmp_path, [0.0, 3.0], names=["2.dcm", "4.dcm"], shape=(4, 4))
    with pytest.raises(DicomError, match="2 image series") as err:
        read_dicom(tmp_path)
    assert uid_a in str(err.value) and uid_b in str(err.value) and "3 slice(s)" in str(err.value)
    a = read_dicom(tmp_path, series_uid=uid_a)
    b = read_dicom(tmp_path, series_uid=uid_b)
    assert a.shape == (3, 6, 7) and b.shape == (2, 4, 4) and b.spacing[0] == 3.0
    np.testing.assert_array_equal(b.array, np.stack(stored_b))
    shapes = {s["uid"]: s["shape"] for s in list_series(tmp_path)}
    assert shapes == {uid_a: (3, 6, 7), uid_b: (2, 4, 4)}


def test_single_slice_series_is_2d(tmp_path):
    write_series(tmp_path, [0.0], orientation=(0, 1, 0, 0, 0, -1))
    v = read_dicom(tmp_path)
    assert v.ndim == 2 and v.spacing == (0.5, 0.75) and v.origin == (10.0, -20.0, 5.0)
    np.testing.assert_allclose(v.direction, [[-1, 0, 0], [0, 0, 1], [0, -1, 0]])


def test_per_slice_rescale(tmp_path):
    slopes, intercepts = [1.0, 2.0, 0.5], [-10.0, 0.0, 3.25]
    _, stored = write_series(tmp_path / "f", [0, 1, 2], slopes=slopes, intercepts=intercepts)
    v = read_dicom(tmp_path / "f")
    assert v.dtype == np.float32
    for k in range(3):
        np.testing.assert_array_equal(v.array[k], stored[k] * slopes[k] + intercepts[k])
    _, stored = write_series(tmp_path / "i", [0, 1], slopes=[1, 1], intercepts=[-1024, -1000])
    v = read_dicom(tmp_path / "i")
    assert v.dtype == np.int16
    np.testing.assert_array_equal(v.array, [stored[0] - 1024, stored[1] - 1000])
    raw = read_dicom(tmp_path / "i", rescale=False)
    np.testing.assert_array_equal(raw.array, np.stack(stored))


def test_integer_rescale_widens_to_int32_when_needed(tmp_path):
    uid = generate_uid()
    values = np.array([[0, 40000], [1024, 65535]])
    make_slice(tmp_path / "a.dcm", values, (0, 0, 0), series_uid=uid, slope=1, intercept=-1024,
               unsigned=True)
    v = read_dicom(tmp_path / "a.dcm")
    assert v.dtype == np.int32
    np.testing.assert_array_equal(v.array, values - 1024)
    make_slice(tmp_path / "b.dcm", values // 16, (0, 0, 0), series_uid=uid, slope=1,
               intercept=-1024, unsigned=True)
    assert read_dicom(tmp_path / "b.dcm").dtype == np.int16  # 12-bit data - 1024 fits int16


N_PROP = 5
_PROP_OFFSETS = [1.5 * k for k in range(N_PROP)]


@settings(max_examples=25, deadline=None)
@given(names=st.permutations(range(N_PROP)), instances=st.permutations(range(N_PROP)),
       positions=st.permutations(range(N_PROP)))
def test_property_slice_order_never_matters(names, instances, positions):
    offsets = [_PROP_OFFSETS[p] for p in positions]
    with tempfile.TemporaryDirectory() as d:
        _, stored = write_series(d, offsets, names=[f"{n:02d}.dcm" for n in names],
                                 instances=[i + 1 for i in instances], uid="1.2.3.4.5",
                                 shape=(3, 4))
        v = read_dicom(d)
    expected = np.stack([stored[k] for k in np.argsort(positions)])
    np.testing.assert_array_equal(v.array, expected)
    assert v.spacing == (1.5, 0.5, 0.75) and v.origin == (10.0, -20.0, 5.0)
    np.testing.assert_array_equal(v.direction, medkern.volume.AXIAL)


# --------------------------------------------------------------------------- writing

def test_write_int16_ct_round_trip(tmp_path):
    like = pydicom.dcmread(data("CT_small.dcm"))
    hu = (like.pixel_array[:20, :24].astype(np.int16) - 1024)
    arr = np.stack([hu, hu + 5, -hu]).astype(np.int16)
    vol = Volume(arr, spacing=(2.0, 0.66, 0.7), origin=(-158.1, -179.0, -75.7), modality="CT")
    paths = write_dicom(vol, tmp_path / "out", like=like, series_description="smoothed")
    assert [os.path.basename(p) for p in paths] == ["slice_0001.dcm", "slice_0002.dcm",
                                                     "slice_0003.dcm"]
    back = read_dicom(tmp_path / "out")
    assert back.dtype == np.int16
    np.testing.assert_array_equal(back.array, arr)
    np.testing.assert_allclose(back.spacing, vol.spacing)
    np.testing.assert_allclose(back.origin, vol.origin)
    np.testing.assert_allclose(back.direction, vol.direction, atol=1e-12)
    m = back.meta
    assert m.PatientName == like.PatientName and m.PatientID == like.PatientID
    assert m.StudyInstanceUID == like.StudyInstanceUID
    assert m.FrameOfReferenceUID == like.FrameOfReferenceUID
    assert m.SeriesInstanceUID != like.SeriesInstanceUID and m.SeriesDescription == "smoothed"
    assert m.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert m.SOPClassUID == pydicom.uid.CTImageStorage and m.Modality == "CT"
    sops = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in paths}
    assert len(sops) == 3 and like.SOPInstanceUID not in sops
    with pytest.raises(FileExistsError, match="slice_0001.dcm"):
        write_dicom(vol, tmp_path / "out")


def test_write_read_volume_keeps_the_study(tmp_path):
    v = read_dicom(CT5N)
    write_dicom(v, tmp_path)  # like defaults to v.meta
    back = read_dicom(tmp_path)
    np.testing.assert_array_equal(back.array, v.array)
    assert back.meta.StudyInstanceUID == v.meta.StudyInstanceUID
    assert back.series_uid != v.series_uid
    assert back.meta.SeriesDescription == f"{v.meta.SeriesDescription} (medkern)"


def test_write_float32_tilted_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    arr = (rng.normal(size=(4, 5, 6)) * 300 + 17.5).astype(np.float32)
    a, b = 0.4, -0.3
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    vol = Volume(arr, spacing=(3.3, 0.8, 0.9), origin=(12.25, -40.5, 99.0), direction=(rz @ rx)[:, ::-1],
                 modality="MR")
    write_dicom(vol, tmp_path, like=pydicom.Dataset())
    back = read_dicom(tmp_path)
    assert back.dtype == np.float32 and back.shape == arr.shape
    slope = float(back.meta.RescaleSlope)
    assert slope <= (arr.max() - arr.min()) / 65535 * 1.000001
    np.testing.assert_allclose(back.array, arr, rtol=0, atol=slope / 2 + 1e-6 * np.abs(arr).max())
    np.testing.assert_allclose(back.spacing, vol.spacing)
    np.testing.assert_allclose(back.origin, vol.origin, atol=1e-9)
    np.testing.assert_allclose(back.direction, vol.direction, atol=1e-9)


def test_write_2d_and_other_integer_dtypes(tmp_path):
    ct = read_dicom(data("CT_small.dcm"))
    write_dicom(ct, tmp_path / "2d")
    back = read_dicom(tmp_path / "2d")
    assert back.ndim == 2 and back.dtype == np.int16
    np.testing.assert_array_equal(back.array, ct.array)
    np.testing.assert_allclose(back.origin, ct.origin)
    np.testing.assert_allclose(back.spacing, ct.spacing)
    for name, arr in [("u8", np.arange(24, dtype=np.uint8).reshape(2, 3, 4)),
                      ("i32", np.array([[-100000, 5], [7, 2_000_000]], dtype=np.int32)),
                      ("u16", np.array([[0, 65535], [3, 4]], dtype=np.uint16))]:
        write_dicom(Volume(arr, spacing=(1.0,) * arr.ndim), tmp_path / name)
        got = read_dicom(tmp_path / name)
        np.testing.assert_array_equal(got.array, arr)
        assert got.dtype == arr.dtype


def test_write_rejects_bad_volumes(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        write_dicom(Volume(np.array([[np.nan, 1.0]]), spacing=(1, 1)), tmp_path)
    with pytest.raises(TypeError, match="Volume"):
        write_dicom(np.zeros((2, 2)), tmp_path)
    with pytest.raises(ValueError, match="32-bit"):
        write_dicom(Volume(np.array([[0, 2**40]], dtype=np.int64), spacing=(1, 1)), tmp_path)


# --------------------------------------------------------------------------- npz

def test_npz_round_trip(tmp_path):
    v = read_dicom(CT5N)
    v.save(tmp_path / "ct.npz")
    back = load(tmp_path / "ct.npz")
    assert back.dtype == v.dtype
    np.testing.assert_array_equal(back.array, v.array)
    assert back.spacing == v.spacing and back.origin == v.origin
    np.testing.assert_array_equal(back.direction, v.direction)
    assert back.series_uid == v.series_uid and back.modality == "CT"
    flat = Volume(np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4), spacing=(0.5, 0.25))
    flat.save(tmp_path / "flat.npz")
    back = load(tmp_path / "flat.npz")
    np.testing.assert_array_equal(back.array, flat.array)
    assert back.spacing == (0.5, 0.25) and back.series_uid is None and back.modality is None



def test_directory_with_a_dangling_link_loads(tmp_path):
    shutil.copy(get_testdata_file("CT_small.dcm"), tmp_path / "a.dcm")
    os.symlink(tmp_path / "gone.dcm", tmp_path / "link.dcm")
    vol = read_dicom(tmp_path)
    assert vol.shape == (128, 128)
