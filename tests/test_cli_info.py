"""``medkern info PATH [--series UID]`` (medkern.cli) on pydicom's test files and small
synthesised series."""
import os
import subprocess
import sys

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from medkern import cli

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

CT_UID = "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322"
MR_UID = "1.3.6.1.4.1.5962.1.3.4.1.20040826185059.5457"


def write_series(directory, stored, spacing=2.5, iop=(1, 0, 0, 0, 1, 0), description="synth",
                 intercept=-1024, origin=(-10.0, 20.0, 30.0)):
    """Write ``stored`` (z, y, x int16) as a CT series, one file per slice, built from
    pydicom's CT_small.dcm; file names in reverse slice order. Returns the series UID."""
    os.makedirs(directory, exist_ok=True)
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for keyword in ("SmallestImagePixelValue", "LargestImagePixelValue"):
        if keyword in ds:
            delattr(ds, keyword)
    stored = np.asarray(stored, dtype=np.int16)
    n, rows, cols = stored.shape
    ds.Rows, ds.Columns = rows, cols
    ds.ImageOrientationPatient = [float(v) for v in iop]
    ds.RescaleIntercept, ds.RescaleSlope = intercept, 1
    ds.SliceThickness = ds.SpacingBetweenSlices = spacing
    ds.SeriesInstanceUID = uid = generate_uid()
    ds.SeriesDescription = description
    row, col = np.array(iop[:3], float), np.array(iop[3:], float)
    normal = np.cross(row, col)
    for k in range(n):
        ds.ImagePositionPatient = [float(v) for v in np.asarray(origin) + k * spacing * normal]
        ds.InstanceNumber = k + 1
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PixelData = np.ascontiguousarray(stored[k]).tobytes()
        ds.save_as(os.path.join(directory, f"im{n - k:03d}.dcm"))
    return uid


def stored_values(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 2000, size=shape).astype(np.int16)


def run(argv, capsys):
    rc = cli.main(["info", *map(str, argv)])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def field(out, name):
    """The value of the first ``  name  value`` line of the details."""
    for line in out.splitlines():
        if line.strip().startswith(name + " "):
            return line.strip()[len(name):].strip()
    raise AssertionError(f"no {name!r} line in:\n{out}")


def test_ct_small(capsys):
    rc, out, err = run([get_testdata_file("CT_small.dcm")], capsys)
    assert rc == 0, err
    assert err == ""
    assert out.startswith("1 series in ") and CT_UID in out
    assert f"series {CT_UID}" in out
    assert field(out, "modality") == "CT"
    assert field(out, "shape") == "128x128 (y, x)"
    assert field(out, "spacing") == "0.661468 x 0.661468 mm (y, x)"
    assert field(out, "orientation") == "axial"
    assert field(out, "row (x)") == "(1, 0, 0)" and field(out, "column (y)") == "(0, 1, 0)"
    assert field(out, "origin") == "(-158.136, -179.036, -75.7) mm"
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    hu = ds.pixel_array.astype(int) - 1024
    assert field(out, "values") == f"{hu.min()} .. {hu.max()} (int16)"
    assert field(out, "rescale") == "slope 1, intercept -1024: applied (stored int16 -> int16)"


def test_mr_small(capsys):
    rc, out, err = run([get_testdata_file("MR_small.dcm")], capsys)
    assert rc == 0, err
    assert MR_UID in out and field(out, "modality") == "MR"
    assert field(out, "shape") == "64x64 (y, x)"
    assert field(out, "spacing") == "0.3125 x 0.3125 mm (y, x)"
    assert field(out, "orientation") == "axial"
    assert field(out, "rescale").startswith("none")


def test_rtdose_multiframe(capsys):
    rc, out, err = run([get_testdata_file("rtdose.dcm")], capsys)
    assert rc == 0, err
    assert field(out, "modality") == "RTDOSE"
    assert field(out, "shape") == "15x10x10 (z, y, x)"
    assert field(out, "spacing") == "5 x 10 x 10 mm (z, y, x)"
    assert field(out, "rescale").startswith("DoseGridScaling 1e-06: applied")
    assert "float32" in field(out, "values")


def test_synthesised_series(tmp_path, capsys):
    stored = stored_values((3, 6, 7))
    uid = write_series(tmp_path / "s", stored, spacing=2.5, description="three slices")
    rc, out, err = run([tmp_path / "s"], capsys)
    assert rc == 0, err
    table = out.split("\n\n")[0]
    assert uid in table and "three slices" in table and "3x6x7" in table
    assert field(out, "files") == "3 (im001.dcm, ...)"
    assert field(out, "shape") == "3x6x7 (z, y, x)"
    assert field(out, "spacing") == "2.5 x 0.661468 x 0.661468 mm (z, y, x)"
    assert field(out, "slice (z)") == "(0, 0, 1)"
    assert field(out, "origin") == "(-10, 20, 30) mm"
    hu = stored.astype(int) - 1024
    assert field(out, "values") == f"{hu.min()} .. {hu.max()} (int16)"


@pytest.mark.parametrize("iop, label", [
    ((0, 1, 0, 0, 0, -1), "sagittal"),
    ((1, 0, 0, 0, 0, -1), "coronal"),
    ((1, 0, 0, 0, np.cos(np.radians(20)), -np.sin(np.radians(20))),
     "oblique (nearest axial, 20.0 deg)"),
])
def test_orientation_of_a_series(tmp_path, capsys, iop, label):
    write_series(tmp_path, stored_values((2, 4, 5)), iop=iop)
    rc, out, err = run([tmp_path], capsys)
    assert rc == 0, err
    assert field(out, "orientation") == label


def test_orientation_label():
    eye = np.eye(3)[:, ::-1]  # array order: slice, row, column axes along z, y, x
    assert cli.orientation_label(eye) == "axial"
    assert cli.orientation_label(eye[:, [2, 0, 1]]) == "sagittal"   # rows along z, columns along y
    assert cli.orientation_label(eye[:, [1, 0, 2]]) == "coronal"
    tilt = np.radians(0.5)  # within the 1 degree tolerance
    d = np.array([[1, 0, 0], [0, np.cos(tilt), np.sin(tilt)], [0, -np.sin(tilt), np.cos(tilt)]]).T[:, ::-1]
    assert cli.orientation_label(d) == "axial"
    assert cli.orientation_label(np.zeros((3, 3))).startswith("unknown")


def _two_series(tmp_path):
    a = write_series(tmp_path / "a", stored_values((3, 4, 5), 1), description="first")
    b = write_series(tmp_path / "b", stored_values((2, 6, 6), 2), description="second",
                     spacing=1.0)
    return a, b


def test_multi_series_lists_all_with_details(tmp_path, capsys):
    a, b = _two_series(tmp_path)
    rc, out, err = run([tmp_path], capsys)
    assert rc == 0, err
    assert out.startswith("2 series in ")
    assert f"series {a}" in out and f"series {b}" in out
    assert "3x4x5 (z, y, x)" in out and "2x6x6 (z, y, x)" in out


def test_multi_series_too_big_for_details(tmp_path, capsys, monkeypatch):
    a, b = _two_series(tmp_path)
    monkeypatch.setattr(cli, "INFO_DETAIL_VOXELS", 10)
    rc, out, err = run([tmp_path], capsys)
    assert rc == 0, err
    assert a in out and b in out and "--series UID" in out
    assert f"series {a}" not in out and "spacing" not in out


def test_series_option(tmp_path, capsys):
    a, b = _two_series(tmp_path)
    rc, out, err = run([tmp_path, "--series", b], capsys)
    assert rc == 0, err
    assert f"series {b}" in out and f"series {a}" not in out
    assert field(out, "shape") == "2x6x6 (z, y, x)" and field(out, "description") == "second"

    rc, out, err = run([tmp_path, "--series", "1.2.3.4"], capsys)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "1.2.3.4" in err and a in err and b in err


def _assert_one_line_error(rc, out, err, *words):
    assert rc == 2
    assert err.startswith("medkern info: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, err


def test_not_dicom_file(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("not a DICOM file\n" * 20)
    rc, out, err = run([path], capsys)
    _assert_one_line_error(rc, out, err, "notes.txt")
    assert out == ""


def test_missing_path_and_empty_dir(tmp_path, capsys):
    rc, out, err = run([tmp_path / "nope"], capsys)
    _assert_one_line_error(rc, out, err, "nope")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("hello")
    rc, out, err = run([tmp_path / "empty"], capsys)
    _assert_one_line_error(rc, out, err, "empty")


def test_truncated_file(tmp_path, capsys):
    data = open(get_testdata_file("CT_small.dcm"), "rb").read()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[: len(data) - 5000])  # header intact, pixel data cut short
    rc, out, err = run([path], capsys)
    _assert_one_line_error(rc, out, err, "cut.dcm")


def test_console_script_no_traceback(tmp_path):
    path = tmp_path / "x.dcm"
    path.write_bytes(b"\0" * 300)
    res = subprocess.run([sys.executable, "-m", "medkern.cli", "info", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "x.dcm" in res.stderr and "Traceback" not in res.stderr
