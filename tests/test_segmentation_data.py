"""Segmentation on real data and on volumes with structure along every axis, against the
references: ``label`` / ``find_objects`` (SciPy), ``clear_border`` / ``relabel_sequential``
/ ``regionprops_table`` (scikit-image), ``keep_largest_component`` (SciPy's labels +
bincount). Labels and masks exact; float columns within float rounding.

Inputs: pydicom's CT_small and MR_small (bundled, no download), the 3-D ellipsoid phantom
textured with the CT slice along all three axes (``sample_data.textured_phantom``), and
random binary volumes of densities 0.1-0.9 in odd shapes, C, Fortran and strided. Runs on
the CPU arch and on Vulkan (``make test`` runs the file twice).
"""
import numpy as np
import pydicom
import pytest
from conftest import vulkan_subset
import scipy.ndimage as ndi
from pydicom.data import get_testdata_file
from skimage import measure, segmentation as sks

import medkern
import medkern.segmentation as ms
from medkern.sample_data import binary_mask, textured_phantom


def _dicom(name: str) -> np.ndarray:
    return pydicom.dcmread(str(get_testdata_file(name))).pixel_array


def _structures(ndim: int) -> list:
    return [ndi.generate_binary_structure(ndim, c) for c in range(1, ndim + 1)]


def _masks():
    """(name, mask) pairs: real images above several quantiles, the textured phantom."""
    out = []
    for name in ("CT_small.dcm", "MR_small.dcm"):
        img = _dicom(name)
        for q in (0.3, 0.6, 0.85):
            out.append((f"{name}@{q}", img > np.quantile(img, q)))
    vol = textured_phantom((37, 41, 45))
    for q in (0.4, 0.7):
        out.append((f"phantom@{q}", vol > np.quantile(vol, q)))
    return out


MASKS = _masks()
#: The masks the Vulkan run checks too (all run on the CPU arch).
VULKAN_MASKS = ("CT_small.dcm@0.3", "MR_small.dcm@0.6", "phantom@0.4")


def _mask_params():
    return [pytest.param(n, m, id=n, marks=() if n in VULKAN_MASKS else pytest.mark.exhaustive)
            for n, m in MASKS]


@pytest.mark.parametrize("name, mask", _mask_params())
def test_label_and_objects_on_real_data(name, mask):
    for s in _structures(mask.ndim):
        ours, n = ms.label(mask, s)
        ref, rn = ndi.label(mask, s)
        assert n == rn and ours.dtype == ref.dtype
        np.testing.assert_array_equal(ours, ref)
        assert ms.find_objects(ours) == ndi.find_objects(ref)
        np.testing.assert_array_equal(
            ms.keep_largest_component(mask, s),
            ref == np.argmax(np.bincount(ref.reshape(-1))[1:]) + 1 if rn else False)


@pytest.mark.parametrize("name, mask", _mask_params())
def test_skimage_functions_on_real_data(name, mask):
    ref, _ = ndi.label(mask)
    for bs in (0, 3):
        np.testing.assert_array_equal(ms.clear_border(ref, buffer_size=bs),
                                      sks.clear_border(ref, buffer_size=bs))
    np.testing.assert_array_equal(ms.clear_border(mask), sks.clear_border(mask))
    gapped = (ref * 3).astype(np.int32)
    ours = ms.relabel_sequential(gapped, offset=2)
    theirs = sks.relabel_sequential(gapped, offset=2)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert ours[0].dtype == theirs[0].dtype


def test_regionprops_on_ct_and_phantom():
    props = ("label", "area", "num_pixels", "bbox", "centroid", "intensity_mean",
             "intensity_min", "intensity_max")
    ct = _dicom("CT_small.dcm")
    vol = textured_phantom((37, 41, 45))
    for img, spacing in ((ct, None), (ct.astype(np.float32), (0.7, 0.5)),
                         (vol, (2.5, 0.8, 0.8))):
        lab, _ = ndi.label(img > np.quantile(img, 0.7))
        ours = ms.regionprops_table(lab, img, properties=props, spacing=spacing)
        ref = measure.regionprops_table(lab, img, properties=props, spacing=spacing)
        assert list(ours) == list(ref)
        for k in ref:
            assert ours[k].dtype == ref[k].dtype, k
            if ref[k].dtype.kind == "f":
                np.testing.assert_allclose(ours[k], ref[k], rtol=1e-6, err_msg=k)
            else:
                np.testing.assert_array_equal(ours[k], ref[k], err_msg=k)


@pytest.mark.parametrize("density", vulkan_subset([0.1, 0.3, 0.5, 0.7, 0.9], (0.1, 0.5, 0.9)))
@pytest.mark.parametrize("shape", vulkan_subset([(29, 33, 31), (7, 53, 17), (1, 61, 45),
                                                 (45, 1, 3)], ((29, 33, 31), (45, 1, 3))))
def test_random_volumes_every_connectivity_and_layout(density, shape):
    mask = binary_mask(shape, density, seed=int(density * 10) + shape[1])
    layouts = {"C": mask, "F": np.asfortranarray(mask),
               "strided": np.repeat(mask, 2, axis=1)[:, ::2]}
    for s in _structures(3):
        ref, rn = ndi.label(mask, s)
        for lay, m in layouts.items():
            ours, n = ms.label(m, s)
            assert n == rn, lay
            np.testing.assert_array_equal(ours, ref, err_msg=lay)


def test_device_pipeline_keeps_data_on_the_device():
    """label -> find_objects / keep_largest / relabel / regionprops of a DeviceArray: the
    results stay DeviceArrays; only tables and counts come back."""
    vol = textured_phantom((21, 24, 27))
    mask = vol > np.quantile(vol, 0.6)
    d = medkern.asarray(mask)
    labels, n = ms.label(d)
    assert isinstance(labels, medkern.DeviceArray)
    ref, rn = ndi.label(mask)
    assert n == rn
    assert ms.find_objects(labels) == ndi.find_objects(ref)
    big = ms.keep_largest_component(d)
    assert isinstance(big, medkern.DeviceArray)
    np.testing.assert_array_equal(medkern.asnumpy(big).astype(bool),
                                  ref == np.argmax(np.bincount(ref.ravel())[1:]) + 1)
    relab = ms.relabel_sequential(labels)[0]
    assert isinstance(relab, medkern.DeviceArray)
    np.testing.assert_array_equal(medkern.asnumpy(relab), ref)
    cleared = ms.clear_border(labels)
    assert isinstance(cleared, medkern.DeviceArray)
    np.testing.assert_array_equal(medkern.asnumpy(cleared), sks.clear_border(ref))
    t = ms.regionprops_table(labels, medkern.asarray(vol), properties=("label", "area",
                                                                       "intensity_mean"))
    r = measure.regionprops_table(ref, vol, properties=("label", "area", "intensity_mean"))
    np.testing.assert_array_equal(t["label"], r["label"])
    np.testing.assert_allclose(t["intensity_mean"], r["intensity_mean"], rtol=1e-6)


def test_volume_geometry_and_physical_area():
    vol = textured_phantom((15, 20, 22))
    v = medkern.Volume(vol > np.quantile(vol, 0.6), spacing=(2.5, 0.7, 0.8),
                       origin=(1.0, 2.0, 3.0))
    labels, _ = ms.label(v)
    assert isinstance(labels, medkern.Volume)
    np.testing.assert_allclose(labels.affine, v.affine)
    t = ms.regionprops_table(labels, properties=("label", "area", "num_pixels", "centroid"))
    np.testing.assert_allclose(t["area"], t["num_pixels"] * 2.5 * 0.7 * 0.8)
    ref = measure.regionprops_table(np.asarray(labels.array), properties=("centroid",),
                                    spacing=(2.5, 0.7, 0.8))
    np.testing.assert_allclose(t["centroid-0"], ref["centroid-0"])
    out = ms.clear_border(labels)
    assert isinstance(out, medkern.Volume) and out.series_uid != labels.series_uid


def test_by_value_components_gpu_layout(monkeypatch):
    """clear_border's equal-value components with the GPUs' one-thread-per-element
    kernels (run on the CPU arch too)."""
    from medkern.algorithms.segmentation import _label
    monkeypatch.setattr(_label, "_ROWS", False)
    rng = np.random.default_rng(3)
    lab = rng.integers(0, 4, (17, 23, 19))
    for bs in (0, 2):
        np.testing.assert_array_equal(ms.clear_border(lab, buffer_size=bs, bgval=7),
                                      sks.clear_border(lab, buffer_size=bs, bgval=7))


def test_threshold_label_regionprops_pipeline_on_the_device():
    """threshold -> binary_threshold -> label -> regionprops of a DeviceArray: the images
    stay DeviceArrays (only the threshold, the count and the table come back) and the
    result is the host pipeline's."""
    import SimpleITK as sitk
    from skimage import filters
    vol = textured_phantom((23, 26, 29))
    d = medkern.asarray(vol)
    t = ms.threshold_otsu(d)
    assert t == filters.threshold_otsu(vol)
    mask = ms.binary_threshold(d, lower=t)
    assert isinstance(mask, medkern.DeviceArray)
    ref_mask = sitk.GetArrayFromImage(sitk.BinaryThreshold(
        sitk.GetImageFromArray(vol), float(t), float(np.finfo(vol.dtype).max), 1, 0))
    np.testing.assert_array_equal(medkern.asnumpy(mask), ref_mask)
    labels, n = ms.label(mask)
    assert isinstance(labels, medkern.DeviceArray)
    ref, rn = ndi.label(ref_mask)
    assert n == rn
    props = ("label", "area", "bbox", "intensity_max")
    ours = ms.regionprops_table(labels, d, properties=props)
    theirs = measure.regionprops_table(ref, vol, properties=props)
    for k in theirs:
        np.testing.assert_array_equal(ours[k], theirs[k], err_msg=k)
