"""NIfTI I/O and format detection: round trips keep every voxel's value and patient position.

References: nibabel's own reading of the files (its affine, its scaled data, aff2axcodes) and
SimpleITK's reading of the same DICOM series / NIfTI files.
"""
import os
import shutil

import numpy as np
import pytest

nib = pytest.importorskip("nibabel")  # a dependency; absent only on a bare GPU machine

import medkern
from medkern import Volume, reorient
from medkern.io import (NiftiWarning, format_of, read, read_dicom, read_nifti, write,
                        write_dicom, write_nifti)

from test_geometry import SERIES, all_indices, sitk_read, write_oblique_series

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

NIB_DATA = os.path.join(os.path.dirname(nib.__file__), "tests", "data")
NIB_IMAGES = ["anatomical.nii", "example4d.nii.gz", "example_nifti2.nii.gz", "standard.nii.gz",
              "functional.nii", "reoriented_anat_moved.nii", "resampled_anat_moved.nii"]
#: every voxel centre within float32 rounding of the stored affine (coordinates < 1,000 mm)
WORLD_ATOL = 1e-3


def nib_world(img, shape_kji):
    """RAS of every voxel (k, j, i) of our array through nibabel's affine of the file."""
    idx = all_indices(shape_kji)
    ijk = np.c_[np.zeros((len(idx), 3 - idx.shape[1])), idx][:, ::-1]  # 2-D: (0, j, i) -> (i, j, 0)
    return idx, ijk @ img.affine[:3, :3].T + img.affine[:3, 3]


def spatial(v):
    return v.spatial_shape


def dicom_sources(tmp_path):
    out = dict(SERIES)
    write_oblique_series(tmp_path / "oblique")
    out["oblique"] = tmp_path / "oblique"
    return out


@pytest.mark.parametrize("name", [*sorted(SERIES), "oblique"])
def test_dicom_to_nifti_and_back(tmp_path, name):
    src = dicom_sources(tmp_path)[name]
    v = read_dicom(src)
    path = tmp_path / "v.nii.gz"
    write_nifti(v, path)
    back = read_nifti(path)
    assert back.dtype == v.dtype
    np.testing.assert_array_equal(back.array, v.array)
    idx = all_indices(v.shape)
    world = v.index_to_world(idx)
    np.testing.assert_allclose(back.index_to_world(idx), world, atol=WORLD_ATOL, rtol=0)
    assert back.orientation() == v.orientation()
    # nibabel's own reading: data in (i, j, k), affine to RAS
    img = nib.load(path)
    np.testing.assert_array_equal(np.asanyarray(img.dataobj), v.array.T)
    _, ras = nib_world(img, v.shape)
    np.testing.assert_allclose(ras, world * [-1, -1, 1], atol=WORLD_ATOL, rtol=0)
    if v.ndim == 3:
        assert "".join(nib.aff2axcodes(img.affine)) == v.orientation()
    # SimpleITK's reading of the NIfTI puts every voxel where SimpleITK puts the DICOM one
    sitk = pytest.importorskip("SimpleITK")
    if v.ndim == 2:
        return  # ITK holds a 2-D image in its own plane only: it refuses non-axial 2-D NIfTI
    s_nii, s_dcm = sitk_read(path), sitk_read(src)
    for i in range(0, len(idx), max(1, len(idx) // 200)):
        ijk = tuple(int(c) for c in idx[i][::-1]) + (0,) * (3 - v.ndim)
        ijk = ijk[:s_nii.GetDimension()]
        p_nii = np.array(s_nii.TransformIndexToPhysicalPoint(ijk))
        p_dcm = np.array(s_dcm.TransformIndexToPhysicalPoint(ijk + (0,) * (s_dcm.GetDimension() - len(ijk))))
        np.testing.assert_allclose(p_nii[:3], world[i][:len(p_nii)], atol=WORLD_ATOL)
        np.testing.assert_allclose(p_dcm[:3], world[i][:len(p_dcm)], atol=1e-4)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(s_nii).reshape(-1), v.array.reshape(-1))


@pytest.mark.parametrize("name", [*sorted(SERIES), "oblique"])
def test_dicom_to_dicom_keeps_every_voxel(tmp_path, name):
    v = read_dicom(dicom_sources(tmp_path)[name])
    write_dicom(v, tmp_path / "out")
    back = read_dicom(tmp_path / "out")
    np.testing.assert_array_equal(back.array, v.array)
    idx = all_indices(v.shape)
    np.testing.assert_allclose(back.index_to_world(idx), v.index_to_world(idx), atol=WORLD_ATOL)


@pytest.mark.parametrize("name", NIB_IMAGES)
def test_nibabel_images(tmp_path, name):
    path = os.path.join(NIB_DATA, name)
    img = nib.load(path)
    v = read_nifti(path)
    data = np.asanyarray(img.dataobj)
    expected = data.T if data.ndim <= 3 else data.transpose(3, 2, 1, 0)
    assert v.dtype == data.dtype.newbyteorder("=")  # big-endian files come back native
    np.testing.assert_array_equal(v.array, expected)
    idx, ras = nib_world(img, spatial(v))
    np.testing.assert_allclose(v.index_to_world(idx, space="RAS"), ras, atol=1e-9)
    assert v.orientation() == "".join(nib.aff2axcodes(img.affine))
    out = tmp_path / "again.nii"
    write_nifti(v, out)
    back = read_nifti(out)
    np.testing.assert_array_equal(back.array, v.array)
    np.testing.assert_allclose(back.index_to_world(idx), v.index_to_world(idx), atol=WORLD_ATOL)
    np.testing.assert_array_equal(np.asanyarray(nib.load(out).dataobj), data)


def test_scaled_data_as_nibabel_gives_it(tmp_path):
    raw = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    img = nib.Nifti1Image(raw, np.diag([2.0, 3.0, 4.0, 1.0]))
    img.header.set_slope_inter(0.5, -10.0)
    nib.save(img, tmp_path / "s.nii")
    v = read_nifti(tmp_path / "s.nii")
    ref = np.asanyarray(nib.load(tmp_path / "s.nii").dataobj)
    assert v.dtype == ref.dtype and v.dtype.kind == "f"
    np.testing.assert_array_equal(v.array, ref.T)
    np.testing.assert_array_equal(v.array, (raw * 0.5 - 10).T)
    assert v.spacing == (4.0, 3.0, 2.0) and v.orientation() == "RAS"


def test_qform_only_and_both_codes(tmp_path):
    a = np.array([[0, 0, -2.0, 10], [0, 1.5, 0, -5], [3.0, 0, 0, 7], [0, 0, 0, 1]])
    img = nib.Nifti1Image(np.zeros((2, 3, 4), np.float32), None)
    img.set_qform(a, code=1)
    img.set_sform(None, code=0)
    nib.save(img, tmp_path / "q.nii")
    v = read_nifti(tmp_path / "q.nii")
    np.testing.assert_allclose(v.affine_ras, a @ np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0],
                                                             [0, 0, 0, 1.0]]), atol=1e-6)


def test_four_d_and_vector_images(tmp_path):
    rng = np.random.default_rng(1)
    arr = rng.normal(size=(3, 4, 5, 6)).astype(np.float32)  # (c, z, y, x)
    v = Volume(arr, spacing=(2.0, 1.0, 0.5), origin=(1, 2, 3))
    write_nifti(v, tmp_path / "c.nii.gz")
    img = nib.load(tmp_path / "c.nii.gz")
    assert img.shape == (6, 5, 4, 3)
    back = read_nifti(tmp_path / "c.nii.gz")
    np.testing.assert_array_equal(back.array, arr)
    assert back.spacing == v.spacing and back.spatial_shape == (4, 5, 6)
    vec = rng.normal(size=(6, 5, 4, 1, 3)).astype(np.float32)
    nib.save(nib.Nifti1Image(vec, np.eye(4)), tmp_path / "vec.nii")
    got = read_nifti(tmp_path / "vec.nii")
    np.testing.assert_array_equal(got.array, vec[:, :, :, 0, :].transpose(3, 2, 1, 0))
    nib.save(nib.Nifti1Image(np.zeros((2, 2, 2, 2, 2, 2), np.float32), np.eye(4)), tmp_path / "6d.nii")
    with pytest.raises(ValueError, match="6d.nii.*6-D"):
        read_nifti(tmp_path / "6d.nii")


def test_reoriented_to_ras_is_nibabels_canonical(tmp_path):
    v = read_dicom(dicom_sources(tmp_path)["oblique"])
    r = reorient(v, "RAS")
    write_nifti(r, tmp_path / "ras.nii")
    img = nib.load(tmp_path / "ras.nii")
    assert nib.aff2axcodes(img.affine) == ("R", "A", "S")
    canon = nib.as_closest_canonical(nib.load(write_nifti(v, tmp_path / "v.nii")))
    np.testing.assert_array_equal(np.asanyarray(img.dataobj), np.asanyarray(canon.dataobj))
    np.testing.assert_allclose(img.affine, canon.affine, atol=1e-4)


def test_bad_files_are_named(tmp_path):
    singular = nib.Nifti1Image(np.zeros((2, 3, 4), np.float32), np.eye(4))
    singular.set_qform(None, code=0)
    singular.set_sform(np.diag([1.0, 0.0, 1.0, 1.0]), code=2)
    nib.save(singular, tmp_path / "sing.nii")
    with pytest.raises(ValueError, match=r"sing\.nii.*sform.*not invertible.*no qform"):
        read_nifti(tmp_path / "sing.nii")
    with_q = nib.Nifti1Image(np.zeros((2, 3, 4), np.float32), np.eye(4))
    with_q.set_qform(np.diag([2.0, 2.0, 2.0, 1.0]), code=1)
    with_q.set_sform(np.diag([1.0, 0.0, 1.0, 1.0]), code=2)
    nib.save(with_q, tmp_path / "withq.nii")
    with pytest.warns(NiftiWarning, match="qform"):
        v = read_nifti(tmp_path / "withq.nii")
    assert v.spacing == (2.0, 2.0, 2.0)
    nib.save(nib.Nifti1Image(np.zeros((2, 3, 4), np.complex64), np.eye(4)), tmp_path / "cplx.nii")
    with pytest.raises(TypeError, match=r"cplx\.nii.*complex64"):
        read_nifti(tmp_path / "cplx.nii")
    (tmp_path / "text.nii").write_text("hello")
    with pytest.raises(ValueError, match=r"text\.nii"):
        read_nifti(tmp_path / "text.nii")
    with pytest.raises(FileNotFoundError, match="nothere"):
        read_nifti(tmp_path / "nothere.nii")
    with pytest.raises(ValueError, match=r"\.nii or \.nii\.gz"):
        write_nifti(Volume(np.zeros((2, 2))), tmp_path / "x.img")
    with pytest.raises(TypeError, match="Volume"):
        write_nifti(np.zeros((2, 2)), tmp_path / "x.nii")
    with pytest.raises(TypeError, match="dtype"):
        write_nifti(Volume(np.zeros((2, 2), np.complex64)), tmp_path / "x.nii")
    write_nifti(Volume(np.zeros((2, 2))), tmp_path / "once.nii")
    with pytest.raises(ValueError, match="exists"):
        write_nifti(Volume(np.zeros((2, 2))), tmp_path / "once.nii", overwrite=False)


def test_read_recognises_the_content(tmp_path):
    v = read_dicom(SERIES["CT5N"])
    # names that lie about (or hide) the format
    write_nifti(v, tmp_path / "a.nii.gz")
    shutil.copy(tmp_path / "a.nii.gz", tmp_path / "nifti_gz.dat")
    write_nifti(v, tmp_path / "a.nii")
    shutil.copy(tmp_path / "a.nii", tmp_path / "nifti_plain")
    v.save(tmp_path / "a.npz")
    shutil.copy(tmp_path / "a.npz", tmp_path / "volume.bin")
    shutil.copy(os.path.join(SERIES["CT5N"], sorted(os.listdir(SERIES["CT5N"]))[0]), tmp_path / "slice.xyz")
    shutil.copy(os.path.join(NIB_DATA, "example_nifti2.nii.gz"), tmp_path / "n2")
    expect = {"nifti_gz.dat": "nifti", "nifti_plain": "nifti", "volume.bin": "npz",
              "slice.xyz": "dicom", "n2": "nifti"}
    for name, fmt in expect.items():
        assert format_of(tmp_path / name) == fmt, name
    assert format_of(SERIES["CT5N"]) == "dicom"
    for name in ("nifti_gz.dat", "nifti_plain", "volume.bin"):
        got = read(tmp_path / name)
        np.testing.assert_array_equal(got.array, v.array)
        idx = all_indices(v.shape)
        np.testing.assert_allclose(got.index_to_world(idx), v.index_to_world(idx), atol=WORLD_ATOL)
    assert read(tmp_path / "slice.xyz").ndim == 2
    files = [os.path.join(SERIES["CT5N"], f) for f in os.listdir(SERIES["CT5N"])]
    np.testing.assert_array_equal(read(files).array, v.array)
    np.testing.assert_array_equal(read(SERIES["CT5N"]).array, v.array)
    assert read(tmp_path / "volume.bin").series_uid == v.series_uid
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match=r"notes\.txt.*not a format"):
        read(tmp_path / "notes.txt")
    with pytest.raises(TypeError, match="takes no options"):
        read(tmp_path / "nifti_plain", series_uid="1.2")
    with pytest.raises(FileNotFoundError):
        read(tmp_path / "missing")


def test_write_dispatches_on_the_name(tmp_path):
    v = Volume(np.arange(24, dtype=np.int16).reshape(2, 3, 4), spacing=(2.0, 1.0, 1.0))
    assert format_of(write(v, tmp_path / "a.nii.gz")) == "nifti"
    write(v, tmp_path / "a.npz")
    assert format_of(tmp_path / "a.npz") == "npz"
    write(v, tmp_path / "series")
    np.testing.assert_array_equal(read(tmp_path / "series").array, v.array)
    with pytest.raises(ValueError, match="directory name"):
        write(v, tmp_path / "a.png")


def test_old_npz_files_still_read(tmp_path):
    # format 1 stored direction columns in (x, y, z) voxel order
    d = np.eye(3)
    np.savez(tmp_path / "old.npz", format=np.array("medkern-volume-1"), array=np.zeros((2, 3, 4)),
             spacing=np.array((2.0, 1.0, 0.5)), origin=np.zeros(3), direction=d,
             series_uid=np.array("1.2"), modality=np.array("CT"))
    v = medkern.io.load(tmp_path / "old.npz")
    assert v.orientation() == "LPS" and v.series_uid == "1.2"
