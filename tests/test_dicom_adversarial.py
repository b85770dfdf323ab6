"""Adversarial DICOM input: headers that do not describe their pixels, rescales beyond float32,
series write_dicom could not read back, directories with one bad file, and a seeded mutation
corpus built at test time from pydicom's bundled test files.

The corpus property: every mutated file either reads to exactly what pydicom decodes from it
(``pixel_array * slope + intercept`` in the shape the header implies) or raises
:class:`~medkern.io.DicomError`; never another exception, never a pydicom warning on stderr,
never inf/NaN from finite data, never pixel data of a length the header does not describe.

Run ``python tests/test_dicom_adversarial.py`` for the corpus counts per category.
"""
from __future__ import annotations

import copy
import io
import os
import random
import shutil
import sys
import warnings
from collections import Counter, defaultdict

import numpy as np
import pydicom
import pytest
from pydicom import config as pydicom_config
from pydicom.data import get_testdata_file
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.encaps import encapsulate, generate_frames
from pydicom.tag import Tag
from pydicom.uid import generate_uid

from medkern import Volume
from medkern.io import DicomError, DicomWarning, list_series, read_dicom, write_dicom

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host


def data(name: str) -> str:
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} is not in pydicom's bundled test files"
    return path


DIRTESTS = os.path.join(os.path.dirname(data("CT_small.dcm")), "dicomdirtests")
CT5N = os.path.join(DIRTESTS, "98892001", "CT5N")


def mutated(name: str, **changes) -> pydicom.Dataset:
    """pydicom's ``name`` with attributes set (``None``: deleted)."""
    ds = pydicom.dcmread(data(name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about the invalid values set on purpose
        for keyword, value in changes.items():
            if value is None:
                if keyword in ds:
                    delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
    return ds


def save(ds: pydicom.Dataset, path) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(os.fspath(path))
    return os.fspath(path)


def only_dicom_warnings(record) -> list[str]:
    """Messages of the DicomWarnings in ``record``; fails on any other warning."""
    others = [f"{w.category.__name__}: {w.message}" for w in record
              if not issubclass(w.category, DicomWarning)]
    assert not others, others
    return [str(w.message) for w in record]


# --------------------------------------------------------------------------- A: header vs pixels

@pytest.mark.parametrize("name, changes, match", [
    ("CT_small.dcm", {"Columns": 63}, "longer than the header says: 32768 bytes where 1 "
                                      "frame.s. of 128x63 at 16 bits take 16128"),
    ("CT_small.dcm", {"Rows": 127}, "longer than the header says"),
    # bytes read as pixels: 8-bit allocation of 16-bit data (BitsStored made consistent)
    ("CT_small.dcm", {"BitsAllocated": 8, "BitsStored": 8, "HighBit": 7},
     "longer than the header says: 32768 bytes where 1 frame.s. of 128x128 at 8 bits"),
    ("rtdose.dcm", {"NumberOfFrames": None}, "longer than the header says: 6000 bytes where 1 "
                                             "frame.s. of 10x10 at 32 bits take 400"),
    ("rtdose.dcm", {"NumberOfFrames": 14}, "longer than the header says"),
    ("CT_small.dcm", {"Columns": 129}, "truncated file"),
    # compressed: judged by the frames held and the decoded size
    ("rtdose_rle.dcm", {"NumberOfFrames": None}, "holds 15 frame.s. but NumberOfFrames says 1"),
    ("rtdose_rle.dcm", {"NumberOfFrames": 14, "GridFrameOffsetVector": [5 * k for k in range(14)]},
     "holds 15 frame.s. but NumberOfFrames says 14"),
    ("MR_small_RLE.dcm", {"Columns": 63}, "decodes to more bytes than the header's 1 frame.s. "
                                          "of 64x63"),
    ("MR_small_RLE.dcm", {"Rows": 32}, "decodes to more bytes"),
    ("MR_small_jp2klossless.dcm", {"Columns": 63}, "does not decode to the header's 64x63"),
])
def test_header_that_does_not_describe_the_pixels_is_refused(tmp_path, name, changes, match):
    path = save(mutated(name, **changes), tmp_path / "m.dcm")
    with pytest.raises(DicomError, match=match) as err:
        read_dicom(path)
    assert str(err.value).startswith(f"{path}: ")


def test_odd_length_pixel_data_pad_byte_is_accepted(tmp_path):
    ds = mutated("MR_small.dcm")
    values = np.arange(15, dtype=np.uint8).reshape(3, 5)
    ds.Rows, ds.Columns = values.shape
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    ds.PixelData = values.tobytes() + b"\0"  # 15 bytes + the pad to an even length
    v = read_dicom(save(ds, tmp_path / "odd.dcm"))
    np.testing.assert_array_equal(v.array, values)
    ds.PixelData = values.tobytes() + b"\0\0\0"
    with pytest.raises(DicomError, match="longer than the header says: 18 bytes"):
        read_dicom(save(ds, tmp_path / "odd3.dcm"))


def test_bundled_padded_file_is_refused():
    # pydicom reads MR_small_padded.dcm by dropping 128 bytes it calls padding; they are not
    # the DICOM pad byte, so which part is the image is a guess
    with pytest.raises(DicomError, match="8320 bytes where 1 frame.s. of 64x64 at 16 bits"):
        read_dicom(data("MR_small_padded.dcm"))


@pytest.mark.parametrize("changes, match", [
    ({"PhotometricInterpretation": "PALETTE COLOR"}, "PALETTE COLOR image: the stored values "
                                                     "are indices"),
    ({"PhotometricInterpretation": "YBR_FULL"}, "'YBR_FULL' with 1 sample per pixel"),
    ({"PhotometricInterpretation": "RGB"}, "'RGB' with 1 sample per pixel"),
    ({"PhotometricInterpretation": None}, "missing PhotometricInterpretation"),
    ({"PixelRepresentation": 2}, "invalid PixelRepresentation 2"),
    ({"PixelRepresentation": None}, "missing PixelRepresentation"),
    ({"BitsStored": 17}, "invalid BitsStored 17 for BitsAllocated 16"),
    ({"BitsStored": 0}, "invalid BitsStored 0"),
    ({"BitsStored": None}, "missing BitsStored"),
    ({"BitsAllocated": 12}, r"invalid BitsAllocated 12 \(supported: 1, 8, 16, 32, 64\)"),
    ({"BitsAllocated": 24}, "invalid BitsAllocated 24"),
    ({"BitsAllocated": None}, "missing BitsAllocated"),
    ({"SamplesPerPixel": None}, "missing SamplesPerPixel"),
    ({"SamplesPerPixel": 0}, "invalid SamplesPerPixel 0"),
    ({"SamplesPerPixel": 3}, "3 samples per pixel"),
    ({"SamplesPerPixel": 2}, "2 samples per pixel"),
    ({"Rows": 0}, "missing or zero Rows/Columns"),
    ({"NumberOfFrames": "0"}, "invalid NumberOfFrames"),
    ({"NumberOfFrames": "1.5"}, "invalid NumberOfFrames"),
])
def test_invalid_image_pixel_module_is_refused(tmp_path, changes, match):
    path = save(mutated("CT_small.dcm", **changes), tmp_path / "m.dcm")
    with pytest.raises(DicomError, match=match) as err:
        read_dicom(path)
    assert str(err.value).startswith(f"{path}: ")


def test_bundled_palette_colour_image_is_refused():
    with pytest.raises(DicomError, match="PALETTE COLOR"):
        read_dicom(data("examples_palette.dcm"))


def test_monochrome1_is_read_as_stored(tmp_path):
    path = save(mutated("CT_small.dcm", PhotometricInterpretation="MONOCHROME1"), tmp_path / "m1")
    np.testing.assert_array_equal(read_dicom(path).array, read_dicom(data("CT_small.dcm")).array)


@pytest.mark.parametrize("slope, intercept", [("1e38", "0"), ("-1e38", "5"), ("1e300", "-1e308"),
                                              ("1e-300", "0"), ("3e35", "-1024")])
def test_rescale_beyond_float32_gives_float64(tmp_path, slope, intercept):
    ds = mutated("CT_small.dcm", RescaleSlope=slope, RescaleIntercept=intercept)
    v = read_dicom(save(ds, tmp_path / "big.dcm"))
    expected = ds.pixel_array.astype(np.float64) * float(slope) + float(intercept)
    assert v.dtype == np.float64
    assert np.all(np.isfinite(v.array))
    np.testing.assert_array_equal(v.array, expected)


def test_rescale_within_float32_stays_float32(tmp_path):
    ds = mutated("CT_small.dcm", RescaleSlope="1e30", RescaleIntercept="0")
    assert read_dicom(save(ds, tmp_path / "f.dcm")).dtype == np.float32


@pytest.mark.parametrize("slope, intercept", [("1e308", "0"), ("-1e308", "-1024"),
                                              ("1e306", "1.7e308")])
def test_rescale_beyond_float64_is_refused(tmp_path, slope, intercept):
    path = save(mutated("CT_small.dcm", RescaleSlope=slope, RescaleIntercept=intercept),
                tmp_path / "huge.dcm")
    with pytest.raises(DicomError, match="beyond the float64 range") as err:
        read_dicom(path)
    assert str(err.value).startswith(path)


def test_dose_grid_scaling_overflow_is_refused(tmp_path):
    path = save(mutated("rtdose.dcm", DoseGridScaling="1e308"), tmp_path / "dose.dcm")
    with pytest.raises(DicomError, match="float64"):
        read_dicom(path)


def test_float32_overflow_in_a_resampled_series_stays_finite(tmp_path):
    uid = generate_uid()
    for k, z in enumerate([0.0, 1.0, 3.0]):
        ds = mutated("CT_small.dcm", RescaleSlope="1e36", RescaleIntercept="0",
                     SeriesInstanceUID=uid, ImagePositionPatient=[0, 0, z])
        ds.SOPInstanceUID = generate_uid()
        save(ds, tmp_path / f"{k}.dcm")
    v = read_dicom(tmp_path, resample=True)
    assert v.dtype == np.float64 and np.all(np.isfinite(v.array))


# --------------------------------------------------------------------------- B: write_dicom

def test_write_refuses_a_float_range_with_an_infinite_slope(tmp_path):
    arr = np.array([[[-1.5e308, 0.0], [1.0, 1.5e308]]])
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"range is too wide.*RescaleSlope"):
        write_dicom(Volume(arr, spacing=(1, 1, 1)), out)
    assert not out.exists()  # refused before writing anything


@pytest.mark.parametrize("lo, hi", [(-1e300, 1e300), (-3e38, 3.4e38), (0.0, 1e-300)])
def test_write_wide_or_tiny_float_ranges_read_back(tmp_path, lo, hi):
    arr = np.linspace(lo, hi, 24).reshape(2, 3, 4)
    write_dicom(Volume(arr, spacing=(1, 1, 1)), tmp_path)
    back = read_dicom(tmp_path)
    assert np.all(np.isfinite(back.array))
    slope = float(back.meta.RescaleSlope)
    np.testing.assert_allclose(back.array, arr, rtol=1e-6, atol=slope)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_write_refuses_non_finite_values(tmp_path, bad):
    arr = np.zeros((2, 3, 4), np.float32)
    arr[1, 2, 3] = bad
    with pytest.raises(ValueError, match=r"1 NaN/infinite value\(s\) \(the first at index "
                                         r"\(1, 2, 3\)\)"):
        write_dicom(Volume(arr, spacing=(1, 1, 1)), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("dz, origin, match", [
    (1e-5, (0.0, 0.0, 0.0), "duplicates"),
    (5e-5, (0.0, 0.0, 0.0), "duplicates"),
    (0.01, (0.0, 0.0, 1e14), "duplicates|uneven"),
    (0.3, (0.0, 0.0, 1e15), "duplicates|uneven"),
    (1e307, (0.0, 0.0, 1.7e308), "too large"),
])
def test_write_refuses_positions_that_would_not_read_back(tmp_path, dz, origin, match):
    vol = Volume(np.zeros((4, 2, 2), np.int16), spacing=(dz, 1.0, 1.0), origin=origin)
    with pytest.raises(ValueError, match=match) as err:
        write_dicom(vol, tmp_path / "out")
    assert "volume.spacing[0]" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_write_geometry_property_written_means_readable(tmp_path):
    """Seeded sweep of spacing x origin magnitude: write_dicom either refuses before writing
    or read_dicom gives back the spacing and origin."""
    rng = np.random.default_rng(7)
    arr = np.arange(3 * 2 * 2, dtype=np.int16).reshape(3, 2, 2)
    outcomes = Counter()
    for k in range(40):
        dz = float(10 ** rng.uniform(-6, 3))
        origin = tuple(float(v) for v in rng.normal(size=3) * 10 ** rng.uniform(0, 13))
        angle = rng.uniform(0, np.pi)
        direction = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0],
                              [0, 0, 1]])
        vol = Volume(arr, spacing=(dz, 0.5, 0.5), origin=origin, direction=direction[:, ::-1])
        out = tmp_path / f"v{k}"
        try:
            write_dicom(vol, out)
        except ValueError as exc:
            assert "volume.spacing[0]" in str(exc)
            assert not out.exists()
            outcomes["refused"] += 1
            continue
        back = read_dicom(out)
        np.testing.assert_array_equal(back.array, arr)
        assert back.spacing[0] == pytest.approx(dz, rel=0.01)
        np.testing.assert_allclose(back.origin, origin, rtol=1e-9, atol=1e-9)
        outcomes["round trip"] += 1
    assert outcomes["refused"] > 0 and outcomes["round trip"] > 0, outcomes


# --------------------------------------------------------------------------- C: directories

def test_one_bad_file_does_not_hide_the_series(tmp_path, capfd):
    shutil.copytree(CT5N, tmp_path / "ct")
    shutil.copy(data("badVR.dcm"), tmp_path / "badVR.dcm")
    expected = read_dicom(CT5N)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        v = read_dicom(tmp_path)
    (msg,) = only_dicom_warnings(record)
    assert msg.startswith(f"{tmp_path}: skipped 1 unreadable DICOM file(s): badVR.dcm (")
    assert "NumberOfFrames '1A'" in msg
    np.testing.assert_array_equal(v.array, expected.array)

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        series = list_series(tmp_path)
        again = read_dicom(tmp_path, series_uid=expected.series_uid)
    assert len(only_dicom_warnings(record)) == 2  # one per call
    assert [s["n_slices"] for s in series] == [5] and series[0]["unreadable"] == []
    np.testing.assert_array_equal(again.array, expected.array)
    captured = capfd.readouterr()
    assert captured.err == ""  # pydicom's "Invalid value for VR IS" did not leak


def test_unreadable_file_named_explicitly_is_an_error(tmp_path):
    with pytest.raises(DicomError, match="invalid NumberOfFrames '1A'") as err:
        read_dicom(data("badVR.dcm"))
    assert str(err.value).startswith(data("badVR.dcm"))
    shutil.copytree(CT5N, tmp_path / "ct")
    files = sorted(str(p) for p in (tmp_path / "ct").iterdir()) + [data("badVR.dcm")]
    with pytest.raises(DicomError, match="badVR.dcm: invalid NumberOfFrames"):
        read_dicom(files)
    with pytest.raises(DicomError, match="badVR.dcm: invalid NumberOfFrames"):
        list_series(files)


def test_a_directory_of_only_bad_files_is_an_error(tmp_path):
    shutil.copy(data("badVR.dcm"), tmp_path / "badVR.dcm")
    (tmp_path / "empty.dcm").write_bytes(b"")
    for fn in (read_dicom, list_series):
        with pytest.raises(DicomError, match="no readable DICOM file; 2 unreadable DICOM") as err:
            fn(tmp_path)
        assert "badVR.dcm (invalid NumberOfFrames" in str(err.value)
        assert "empty.dcm (empty file" in str(err.value)


def _corrupt_header(src, dst):
    """A copy of ``src`` whose header is corrupt: the length of SOPClassUID runs past the end
    of the file, swallowing every later element, so only its bytes tie it to its series."""
    raw = bytearray(open(src, "rb").read())
    ds = pydicom.dcmread(src, stop_before_pixels=True)
    pos = raw.index(b"\x08\x00\x16\x00")  # (0008,0016) SOPClassUID, explicit VR LE
    raw[pos + 6:pos + 8] = b"\xff\xff"  # a 64 KiB value length running past the file
    open(dst, "wb").write(bytes(raw))
    return ds.SeriesInstanceUID


def test_unreadable_slice_of_the_requested_series_is_an_error(tmp_path):
    shutil.copytree(CT5N, tmp_path / "ct")
    victim = sorted((tmp_path / "ct").iterdir())[2]
    uid = _corrupt_header(os.path.join(CT5N, victim.name), victim)
    shutil.copy(data("MR_small.dcm"), tmp_path / "mr.dcm")
    with pytest.warns(DicomWarning, match=victim.name):
        assert len(list_series(tmp_path)) == 2
    with pytest.raises(DicomError) as err:
        read_dicom(tmp_path, series_uid=uid)
    assert str(err.value).startswith(f"{victim}: corrupt header (no valid SOPClassUID")
    assert f"a file of series {uid}" in str(err.value)
    # the other series is fine, with the bad file reported
    with pytest.warns(DicomWarning, match="skipped 1 unreadable"):
        mr_uid = pydicom.dcmread(data("MR_small.dcm")).SeriesInstanceUID
        mr = read_dicom(tmp_path, series_uid=mr_uid)
    assert mr.shape == (64, 64)


def test_slice_with_a_bad_value_fails_its_series_only(tmp_path):
    shutil.copytree(CT5N, tmp_path / "ct")
    victim = sorted((tmp_path / "ct").iterdir())[1]
    ds = pydicom.dcmread(victim)
    implicit, little = ds.original_encoding
    ds[0x00280008] = RawDataElement(Tag(0x00280008), "IS", 2, b"1A", 0, implicit, little)
    save(ds, victim)
    shutil.copy(data("MR_small.dcm"), tmp_path / "mr.dcm")
    with pytest.warns(DicomWarning):
        series = {s["modality"]: s for s in list_series(tmp_path)}
    assert series["CT"]["unreadable"] == [str(victim)] and series["CT"]["n_slices"] == 4
    with pytest.raises(DicomError, match=f"{victim.name}: invalid NumberOfFrames"):
        read_dicom(tmp_path, series_uid=series["CT"]["uid"])
    with pytest.warns(DicomWarning):
        assert read_dicom(tmp_path, series_uid=series["MR"]["uid"]).shape == (64, 64)


def test_empty_files_symlink_loops_and_junk(tmp_path):
    shutil.copytree(CT5N, tmp_path / "ct")
    (tmp_path / "ct" / "zero.dcm").write_bytes(b"")       # a failed transfer: reported
    (tmp_path / "notes.txt").write_bytes(b"")               # not DICOM by name: silent
    (tmp_path / "README.txt").write_text("export\n")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    os.symlink(tmp_path / "loop_b", tmp_path / "loop_a")    # a -> b -> a
    os.symlink(tmp_path / "loop_a", tmp_path / "loop_b")
    os.symlink(tmp_path, tmp_path / "ct" / "parent")        # a directory loop
    os.symlink(tmp_path / "gone.dcm", tmp_path / "dangling.dcm")
    with pytest.warns(DicomWarning) as record:
        v = read_dicom(tmp_path)
    assert len(record) == 1
    assert "skipped 1 unreadable DICOM file(s): " in str(record[0].message)
    assert "zero.dcm (empty file (0 bytes)" in str(record[0].message)
    np.testing.assert_array_equal(v.array, read_dicom(CT5N).array)


def test_duplicates_and_mixed_series(tmp_path):
    shutil.copytree(CT5N, tmp_path / "ct")
    first = sorted((tmp_path / "ct").iterdir())[0]
    shutil.copy(first, tmp_path / "ct" / "copy_of_first")
    with pytest.raises(DicomError, match="1 duplicate slice position"):
        read_dicom(tmp_path)
    os.remove(tmp_path / "ct" / "copy_of_first")
    shutil.copy(data("MR_small.dcm"), tmp_path / "mr.dcm")
    with pytest.raises(DicomError, match="2 image series found"):
        read_dicom(tmp_path)
    uids = {s["modality"]: s["uid"] for s in list_series(tmp_path)}
    assert read_dicom(tmp_path, series_uid=uids["CT"]).shape == (5, 16, 16)
    assert read_dicom(tmp_path, series_uid=uids["MR"]).shape == (64, 64)


def test_no_pydicom_warning_reaches_stderr(tmp_path):
    """In a fresh interpreter (default warning filters), reading files that make pydicom warn
    prints nothing but the one DicomWarning."""
    import subprocess
    shutil.copytree(CT5N, tmp_path / "ct")
    shutil.copy(data("badVR.dcm"), tmp_path / "badVR.dcm")
    shutil.copy(data("MR_small_padded.dcm"), tmp_path / "padded.dcm")
    code = ("import sys, warnings; from medkern.io import read_dicom, list_series, DicomError\n"
            "warnings.simplefilter('ignore', category=__import__('medkern.io', fromlist=['x'])"
            ".DicomWarning)\n"
            f"list_series({str(tmp_path)!r})\n"
            f"try:\n    read_dicom({str(tmp_path / 'padded.dcm')!r})\n"
            "except DicomError:\n    pass\n"
            f"read_dicom({str(tmp_path)!r}, series_uid=list_series({str(CT5N)!r})[0]['uid'])\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""


# --------------------------------------------------------------------------- D: mutation corpus

#: Bases of the corpus: explicit/implicit/big-endian, RLE and JPEG 2000, single- and
#: multi-frame (emri_small.dcm is not bundled with pydicom 3, so rtdose*.dcm are the
#: multi-frame bases).
BASES = ["CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm",
         "MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "rtdose.dcm", "rtdose_rle.dcm",
         "rtdose_expb.dcm"]
SEED = 20240601

#: (keyword, value) garbles; ``None`` deletes, ``("VR", value)`` rewrites with another VR
#: (explicit VR files only), callables derive the value from the original.
GARBLES: list[tuple[str, object]] = [
    ("Rows", 0), ("Rows", 1), ("Rows", 65535), ("Rows", lambda v: v - 1), ("Rows", lambda v: v * 2),
    ("Rows", None), ("Rows", ("LO", "12x")),
    ("Columns", 0), ("Columns", lambda v: v - 1), ("Columns", lambda v: v + 1),
    ("Columns", lambda v: v // 2), ("Columns", None), ("Columns", ("IS", "64\\64")),
    ("BitsAllocated", 8), ("BitsAllocated", 1), ("BitsAllocated", 12), ("BitsAllocated", 32),
    ("BitsAllocated", 64), ("BitsAllocated", 0), ("BitsAllocated", None),
    ("BitsStored", 0), ("BitsStored", 8), ("BitsStored", 12), ("BitsStored", 33),
    ("BitsStored", None),
    ("PixelRepresentation", 0), ("PixelRepresentation", 1), ("PixelRepresentation", 2),
    ("PixelRepresentation", None),
    ("SamplesPerPixel", 0), ("SamplesPerPixel", 3), ("SamplesPerPixel", None),
    ("PhotometricInterpretation", "PALETTE COLOR"), ("PhotometricInterpretation", "YBR_FULL"),
    ("PhotometricInterpretation", "RGB"), ("PhotometricInterpretation", "MONOCHROME1"),
    ("PhotometricInterpretation", "garbage"), ("PhotometricInterpretation", None),
    ("NumberOfFrames", None), ("NumberOfFrames", "0"), ("NumberOfFrames", "-3"),
    ("NumberOfFrames", "2"), ("NumberOfFrames", "1A"), ("NumberOfFrames", "99999"),
    ("NumberOfFrames", lambda v: int(v or 1) + 1),
    ("ImagePositionPatient", ["nan", "0", "0"]), ("ImagePositionPatient", ["1e309", "0", "0"]),
    ("ImagePositionPatient", ["1", "2"]), ("ImagePositionPatient", ["1e300", "-1e300", "1e300"]),
    ("ImagePositionPatient", ("LO", "a\\b\\c")), ("ImagePositionPatient", None),
    ("ImageOrientationPatient", ["0"] * 6),
    ("ImageOrientationPatient", ["1", "0", "0", "1", "0", "0"]),
    ("ImageOrientationPatient", ["1", "0", "0", "0", "nan", "0"]),
    ("ImageOrientationPatient", ["1", "0", "0", "0", "1"]),
    ("ImageOrientationPatient", ["-1", "0", "0", "0", "-1", "0"]),
    ("ImageOrientationPatient", None),
    ("PixelSpacing", ["0", "1"]), ("PixelSpacing", ["-1", "1"]), ("PixelSpacing", ["nan", "1"]),
    ("PixelSpacing", ["1"]), ("PixelSpacing", ["1e-300", "1e300"]), ("PixelSpacing", None),
    ("RescaleSlope", "1e308"), ("RescaleSlope", "-1e308"), ("RescaleSlope", "1e38"),
    ("RescaleSlope", "1e-320"), ("RescaleSlope", "0"), ("RescaleSlope", "nan"),
    ("RescaleSlope", "inf"), ("RescaleSlope", ("LO", "abc")), ("RescaleSlope", ["1", "2"]),
    ("RescaleSlope", None),
    ("RescaleIntercept", "1e308"), ("RescaleIntercept", "-1.7e308"), ("RescaleIntercept", "1e20"),
    ("RescaleIntercept", "-1024.5"), ("RescaleIntercept", "nan"), ("RescaleIntercept", None),
    ("GridFrameOffsetVector", None), ("GridFrameOffsetVector", lambda v: list(v)[:-1] if v else v),
    ("DoseGridScaling", "1e308"), ("DoseGridScaling", "nan"),
]

_BASE_CACHE: dict[str, tuple[bytes, pydicom.Dataset]] = {}


def _base(name: str) -> tuple[bytes, pydicom.Dataset]:
    if name not in _BASE_CACHE:
        raw = open(data(name), "rb").read()
        _BASE_CACHE[name] = (raw, pydicom.dcmread(io.BytesIO(raw)))
    raw, ds = _BASE_CACHE[name]
    return raw, copy.deepcopy(ds)


def _write_ds(ds: pydicom.Dataset) -> bytes | None:
    """Serialised ``ds``; ``None`` when pydicom cannot encode the garbled value."""
    buf = io.BytesIO()
    old = pydicom_config.settings.writing_validation_mode
    pydicom_config.settings.writing_validation_mode = pydicom_config.IGNORE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(buf)
    except Exception:
        return None
    finally:
        pydicom_config.settings.writing_validation_mode = old
    return buf.getvalue()


def _garble(name: str, keyword: str, value) -> bytes | None:
    _, ds = _base(name)
    if callable(value):
        if keyword not in ds:
            return None
        value = value(ds[keyword].value)
    tag = pydicom.datadict.tag_for_keyword(keyword)
    if value is None:
        if keyword not in ds:
            return None
        del ds[tag]
    elif isinstance(value, tuple):
        if ds.original_encoding[0]:  # implicit VR files carry no VR to garble
            return None
        ds[tag] = DataElement(tag, value[0], value[1])
    else:
        vr = pydicom.datadict.dictionary_VR(tag)
        try:
            ds[tag] = DataElement(tag, vr, value)
        except (TypeError, ValueError):
            # a string pydicom will not hold in this VR ('1A' as IS): store its bytes as UN,
            # which reading turns back into the dictionary VR, as in a corrupt file
            raw = "\\".join(map(str, value)) if isinstance(value, list) else str(value)
            raw = raw.encode("ascii")
            raw += b" " * (len(raw) % 2)
            implicit, little = ds.original_encoding
            ds[tag] = RawDataElement(Tag(tag), vr, len(raw), raw, 0, implicit, little)
    return _write_ds(ds)


def _pixel_length(name: str, how: str) -> bytes | None:
    _, ds = _base(name)
    pixels = ds.PixelData
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        nf = int(ds.get("NumberOfFrames", 1) or 1)
        frames = list(generate_frames(pixels, number_of_frames=nf))
        if how == "drop frame":
            frames = frames[:-1] or [frames[0][: len(frames[0]) // 2]]
        elif how == "extra frame":
            frames = frames + [frames[-1]]
        elif how == "cut frame":
            frames[-1] = frames[-1][: len(frames[-1]) // 2]
        elif how == "grow frame":
            frames[-1] = frames[-1] + b"\0" * 64
        elif how == "junk frame":
            frames[0] = bytes(64) + frames[0]
        ds.PixelData = encapsulate(frames, has_bot=len(frames) > 1)
    else:
        change = {"drop frame": -2, "extra frame": 2, "cut frame": -1, "grow frame": 4,
                  "junk frame": 1}[how]
        ds.PixelData = pixels[:change] if change < 0 else pixels + bytes(change)
    return _write_ds(ds)


def _pixel_offset(raw: bytes) -> int:
    """Where the pixel data element starts in ``raw`` (the corpus aims some cuts and flips
    there and some before)."""
    pos = raw.rfind(b"\xe0\x7f\x10\x00")
    return pos if pos > 0 else raw.rfind(b"\x7f\xe0\x00\x10")


def corpus(rng: random.Random):
    """Yield (category, label, file bytes) for every mutated file; deterministic for a seed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about the values garbled on purpose
        yield from _corpus(rng)


def _corpus(rng: random.Random):
    for name in BASES:
        raw, _ = _base(name)
        pix = max(_pixel_offset(raw), 200)
        for k in range(8):  # truncations: in the header, at the pixel element, in the pixels
            cut = [rng.randrange(132, pix), pix, pix + 4, pix + 12,
                   rng.randrange(pix, len(raw)), len(raw) - 1, len(raw) - 2, 131][k]
            yield "truncation", f"{name} cut at {cut}", raw[:cut]
        for k in range(12):  # byte flips: anywhere in the header, then in the pixel data
            buf = bytearray(raw)
            lo, hi = (132, pix + 12) if k < 8 else (pix, len(raw))
            spots = [rng.randrange(lo, hi) for _ in range(rng.randint(1, 4))]
            for p in spots:
                buf[p] ^= 1 << rng.randrange(8)
            yield "byte flip", f"{name} bits flipped at {spots}", bytes(buf)
        for keyword, value in GARBLES:
            out = _garble(name, keyword, value)
            if out is not None:
                shown = "deleted" if value is None else getattr(value, "__name__", value)
                yield f"header:{keyword}", f"{name} {keyword}={shown}", out
        for how in ("drop frame", "extra frame", "cut frame", "grow frame", "junk frame"):
            out = _pixel_length(name, how)
            if out is not None:
                yield "pixel length", f"{name} {how}", out


def _header_int(ds, keyword, default=None):
    try:
        value = ds.get(keyword, default)
        return int(value) if value not in (None, "") else default
    except Exception:
        return default


def check_read(path: str) -> tuple[str, str]:
    """("ok", "") if read_dicom agrees with pydicom, ("DicomError", message), or
    ("FAIL", why) for any breach of the corpus property."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            v = read_dicom(path)
        except DicomError as exc:
            if not str(exc).startswith(path):
                return "FAIL", f"DicomError not starting with the file: {exc}"
            leaked = [str(w.message) for w in record]
            if leaked:
                return "FAIL", f"warnings leaked: {leaked}"
            return "DicomError", str(exc)
        except Exception as exc:  # noqa: BLE001 - the property under test
            return "FAIL", f"{type(exc).__name__}: {exc}"
    if record:
        return "FAIL", f"warnings leaked: {[str(w.message) for w in record]}"
    # pydicom's own reading of the same file
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True)
            ref = np.asarray(ds.pixel_array)
    except Exception as exc:  # noqa: BLE001
        return "FAIL", f"read_dicom succeeded where pydicom fails: {type(exc).__name__}: {exc}"
    rows, cols = _header_int(ds, "Rows"), _header_int(ds, "Columns")
    nf = _header_int(ds, "NumberOfFrames", 1)
    implied = (nf, rows, cols) if nf > 1 else (rows, cols)
    if ref.shape != implied or v.shape != implied:
        return "FAIL", f"shape: header {implied}, pydicom {ref.shape}, medkern {v.shape}"
    if not ds.file_meta.TransferSyntaxUID.is_compressed:
        bits = _header_int(ds, "BitsAllocated")
        expected = (rows * cols * nf * bits + 7) // 8
        if len(ds.PixelData) not in (expected, expected + expected % 2):
            return "FAIL", f"accepted {len(ds.PixelData)} bytes of pixel data for {expected}"
    def number(keyword, default):
        value = ds.get(keyword)
        return default if value is None or value == "" else float(value)

    slope = number("RescaleSlope", 1.0) * number("DoseGridScaling", 1.0)
    intercept = number("RescaleIntercept", 0.0)
    ref = ref.astype(np.float64) * slope + intercept
    if nf > 1:
        ref = ref[np.argsort(np.asarray(ds.GridFrameOffsetVector, float), kind="stable")]
    got = np.asarray(v.array)
    if np.all(np.isfinite(ref)) and not np.all(np.isfinite(got)):
        return "FAIL", "inf/NaN from finite data"
    if got.dtype == np.float32:
        ref = ref.astype(np.float32)
    if not np.array_equal(got.astype(ref.dtype), ref, equal_nan=True):
        return "FAIL", f"values differ from pydicom's (max |diff| {np.nanmax(np.abs(got - ref))})"
    if not (all(np.isfinite(v.spacing)) and all(s > 0 for s in v.spacing)
            and all(np.isfinite(v.origin))
            and np.allclose(v.direction.T @ v.direction, np.eye(3), atol=1e-6)):
        return "FAIL", f"geometry: spacing {v.spacing}, origin {v.origin}"
    return "ok", ""


def run_corpus(directory: str, seed: int = SEED):
    """Write and check the whole corpus in ``directory``; returns (counts, failures) where
    counts[category] = Counter(ok=..., DicomError=..., FAIL=...)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    failures = []
    for i, (category, label, blob) in enumerate(corpus(random.Random(seed))):
        path = os.path.join(directory, f"m{i:04d}.dcm")
        with open(path, "wb") as fh:
            fh.write(blob)
        outcome, why = check_read(path)
        counts[category][outcome] += 1
        if outcome == "FAIL":
            failures.append(f"{category}: {label}: {why}")
    return counts, failures


def summarise(counts) -> str:
    groups: dict[str, Counter] = defaultdict(Counter)
    for category, c in counts.items():
        groups[category.split(":")[0]].update(c)
    lines = [f"{'category':<14} {'files':>5} {'ok':>5} {'DicomError':>10} {'FAIL':>5}"]
    for g, c in sorted(groups.items()):
        lines.append(f"{g:<14} {sum(c.values()):>5} {c['ok']:>5} {c['DicomError']:>10} "
                     f"{c['FAIL']:>5}")
    total = sum((c for c in groups.values()), Counter())
    lines.append(f"{'total':<14} {sum(total.values()):>5} {total['ok']:>5} "
                 f"{total['DicomError']:>10} {total['FAIL']:>5}")
    return "\n".join(lines)


def test_mutation_corpus(tmp_path):
    counts, failures = run_corpus(str(tmp_path))
    total = sum(sum(c.values()) for c in counts.values())
    assert total >= 500, summarise(counts)
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures[:30])
    # the corpus exercises both outcomes in every kind of mutation it makes
    for group in ("truncation", "byte flip", "header", "pixel length"):
        c = sum((v for k, v in counts.items() if k.split(":")[0] == group), Counter())
        assert c["DicomError"] > 0, (group, c)
    assert sum(c["ok"] for c in counts.values()) > 50


def test_folder_corpus(tmp_path):
    """Seeded folders: a 5-slice CT series with one slice replaced by a corpus mutation of
    it, next to an intact MR image, plus junk. The MR series always reads (a DicomWarning at
    most); list_series never fails; the CT series reads to the original or raises
    DicomError."""
    rng = random.Random(SEED + 1)
    ct_files = sorted(os.listdir(CT5N))
    clean_ct = read_dicom(CT5N)
    mr = read_dicom(data("MR_small.dcm"))
    outcomes: Counter = Counter()
    for k in range(40):
        d = tmp_path / f"f{k:02d}"
        shutil.copytree(CT5N, d / "ct")
        shutil.copy(data("MR_small.dcm"), d / "mr.dcm")
        victim = d / "ct" / rng.choice(ct_files)
        raw = victim.read_bytes()
        pix = _pixel_offset(raw)
        kind = rng.choice(["truncate", "flip", "empty", "duplicate", "badVR", "loop"])
        if kind == "truncate":
            victim.write_bytes(raw[:rng.randrange(132, len(raw))])
        elif kind == "flip":
            buf = bytearray(raw)
            for _ in range(rng.randint(1, 4)):
                buf[rng.randrange(132, pix)] ^= 1 << rng.randrange(8)
            victim.write_bytes(bytes(buf))
        elif kind == "empty":
            victim.write_bytes(b"")
        elif kind == "duplicate":
            shutil.copy(victim, d / "ct" / "dup")
        elif kind == "badVR":
            shutil.copy(data("badVR.dcm"), d / "bad.dcm")
        else:
            os.symlink(d, d / "ct" / "loop")
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            listed = list_series(d)
            got = read_dicom(d, series_uid=mr.series_uid)
            try:
                ct = read_dicom(d, series_uid=clean_ct.series_uid)
                ct_outcome = "ok"
            except DicomError:
                ct, ct_outcome = None, "DicomError"
        warned = only_dicom_warnings(record)
        np.testing.assert_array_equal(got.array, mr.array)
        assert mr.series_uid in [s["uid"] for s in listed]
        if ct is not None and kind != "flip":  # flips may change pixels or geometry: no oracle
            if ct.shape == clean_ct.shape:
                np.testing.assert_array_equal(ct.array, clean_ct.array)
            else:
                # a slice too damaged to tell its series can only be skipped, and said so
                assert ct.shape[0] == clean_ct.shape[0] - 1
                assert any(victim.name in w for w in warned), warned
                ct_outcome = "ok without the slice, warned"
        outcomes[(kind, ct_outcome)] += 1
    assert sum(outcomes.values()) == 40 and len(outcomes) > 4, outcomes


if __name__ == "__main__":
    import tempfile
    import time
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        counts, failures = run_corpus(d)
        print(summarise(counts))
        print(f"{time.perf_counter() - t0:.1f} s")
        if "-v" in sys.argv:
            for cat, c in sorted(counts.items()):
                print(f"  {cat:<36} {dict(c)}")
        for f in failures:
            print("FAIL", f)
