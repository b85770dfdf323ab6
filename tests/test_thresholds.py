"""Histogram thresholds (medkern.segmentation.threshold_*) against scikit-image 0.26.

Real data (pydicom's CT_small / MR_small, int16/uint16), their float versions, a 3-D
generated CT volume, uint8/bool images, constant images, non-contiguous inputs,
DeviceArray/Volume inputs and bad input. Histogram thresholds equal scikit-image's (the
same histogram, the bins' arithmetic in its dtypes); li and mean within float rounding.
"""
import warnings

import numpy as np
import pydicom
import pytest
import skimage.filters as sf
from pydicom.data import get_testdata_file

import medkern
import medkern.segmentation as ms
from medkern.sample_data import ct_volume, textured_phantom
from medkern.volume import Volume

HIST = ["threshold_otsu", "threshold_yen", "threshold_isodata", "threshold_minimum",
        "threshold_triangle", "threshold_multiotsu"]
ALL = HIST + ["threshold_li", "threshold_mean"]


def _dicom(name):
    return pydicom.dcmread(get_testdata_file(name)).pixel_array


CT = _dicom("CT_small.dcm")   # int16, HU-like
MR = _dicom("MR_small.dcm")   # uint16 (or int16)
VOL = ct_volume((40, 48, 56))

IMAGES = {
    "ct-int16": CT,
    "mr": MR,
    "ct-float32": CT.astype(np.float32),
    "mr-float64": MR.astype(np.float64) / 7.0,
    "vol-float32": VOL,
    "vol-int16": VOL.astype(np.int16),
    # ellipsoids textured with the CT slice along all three axes (not a slice tiled)
    "phantom-float32": textured_phantom((37, 41, 45)),
    "phantom-uint8": textured_phantom((37, 41, 45), np.uint8),
    "uint8": np.clip((CT.astype(np.float32) + 1024) / 12, 0, 255).astype(np.uint8),
    "bool": CT > 900,
}


def _call(module, name, image, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return getattr(module, name)(image, **kw)
        except Exception as exc:  # noqa: BLE001 - compared by type below
            return exc


def _same(name, ours, ref):
    if isinstance(ref, Exception):
        assert isinstance(ours, Exception), f"{name}: skimage raised {ref!r}, medkern gave {ours!r}"
        return
    assert not isinstance(ours, Exception), f"{name}: medkern raised {ours!r}"
    a = np.asarray(ours)
    b = np.asarray(ref)
    if name in ("threshold_li", "threshold_mean"):
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=2e-6)
    else:
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


#: threshold_minimum smooths a histogram of one bin per integer up to 10000 times, on the
#: host, in skimage and in medkern alike: seconds per call on the wide 16-bit histograms.
#: The default run keeps CT_small's; MR_small's and the 16-bit volume's run with ``-m slow``.
SLOW = {("threshold_minimum", "mr"), ("threshold_minimum", "vol-int16")}


#: The images the Vulkan run checks too (every image runs on the CPU arch).
VULKAN_IMAGES = ("ct-int16", "vol-float32", "phantom-float32", "bool")


def _cases():
    for key in sorted(IMAGES):
        for name in ALL:
            marks = [pytest.mark.slow] if (name, key) in SLOW else []
            if key not in VULKAN_IMAGES:
                marks.append(pytest.mark.exhaustive)
            yield pytest.param(name, key, marks=marks, id=f"{name}-{key}")


@pytest.mark.parametrize("name, key", list(_cases()))
def test_matches_skimage(name, key):
    image = IMAGES[key]
    before = image.copy()
    _same(name, _call(ms, name, image), _call(sf, name, image))
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("name, kw", [("threshold_otsu", {"nbins": 64}),
                                      ("threshold_yen", {"nbins": 1000}),
                                      ("threshold_isodata", {"return_all": True}),
                                      ("threshold_multiotsu", {"classes": 2}),
                                      ("threshold_multiotsu", {"classes": 4, "nbins": 32}),
                                      ("threshold_triangle", {"nbins": 100}),
                                      ("threshold_minimum", {"nbins": 128}),
                                      ("threshold_li", {"tolerance": 0.01}),
                                      ("threshold_li", {"initial_guess": 300.0}),
                                      ("threshold_li", {"initial_guess": np.median})])
@pytest.mark.parametrize("key", ["ct-float32", "mr-float64", "vol-float32"])
def test_parameters(name, kw, key):
    image = IMAGES[key]
    if name == "threshold_li" and "initial_guess" in kw and np.isscalar(kw["initial_guess"]):
        kw = {"initial_guess": float(np.percentile(image, 60))}
    _same(name, _call(ms, name, image, **kw), _call(sf, name, image, **kw))


def test_within_one_bin_of_numpy_bins():
    """The float histogram is numpy's: thresholds are bin centres of np.histogram's edges."""
    image = IMAGES["ct-float32"]
    edges = np.histogram(image, 256)[1]
    centres = (edges[:-1] + edges[1:]) / 2
    assert ms.threshold_otsu(image) in centres


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64, np.bool_])
@pytest.mark.parametrize("name", ALL)
def test_constant_images(name, dtype):
    image = np.full((6, 7), 1, dtype=dtype)
    _same(name, _call(ms, name, image), _call(sf, name, image))


@pytest.mark.parametrize("name", ["threshold_otsu", "threshold_li", "threshold_mean",
                                  "threshold_yen", "threshold_multiotsu"])
def test_layouts(name):
    base = IMAGES["ct-float32"]
    for image in (np.asfortranarray(base), base[::2, 1::3], base.T):
        _same(name, _call(ms, name, image), _call(sf, name, image))


def test_1d_and_3d():
    line = IMAGES["vol-float32"][5, 10]
    for name in ALL:
        _same(name, _call(ms, name, line), _call(sf, name, line))


def test_nan_handling():
    image = IMAGES["ct-float32"].copy()
    image[3, 4] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        ms.threshold_otsu(image)
    ref = sf.threshold_li(image)
    np.testing.assert_allclose(ms.threshold_li(image), ref, rtol=2e-6)
    assert np.isnan(ms.threshold_li(np.full((4, 4), np.nan)))
    assert ms.threshold_li(np.array([np.inf, np.nan])) == np.inf
    assert ms.threshold_li(np.array([np.inf, -np.inf])) == 0
    assert ms.threshold_li(np.array([8, 8, 8, 8, np.nan])) == 8


def test_hist_argument():
    image = IMAGES["uint8"]
    counts, centres = np.bincount(image.ravel()), np.arange(256)
    for name in ["threshold_otsu", "threshold_yen", "threshold_isodata", "threshold_minimum",
                 "threshold_multiotsu"]:
        for hist in (counts, (counts, centres)):
            a = getattr(ms, name)(hist=hist)
            b = getattr(sf, name)(hist=hist)
            np.testing.assert_array_equal(a, b)


def test_rgb_warning():
    with pytest.warns(UserWarning, match="grayscale"):
        ms.threshold_otsu(np.random.default_rng(0).integers(0, 255, (8, 8, 3)).astype(np.uint8))


@pytest.mark.parametrize("kind", ["device", "volume"])
def test_device_and_volume_inputs(kind):
    image = IMAGES["vol-float32"]
    x = medkern.asarray(image) if kind == "device" else Volume(image, spacing=(2.0, 1.0, 1.0))
    for name in ALL:
        _same(name, _call(ms, name, x), _call(sf, name, image))
    out = ms.threshold_local(x, 5, offset=3)
    ref = sf.threshold_local(image, 5, offset=3)
    if kind == "device":
        assert isinstance(out, medkern.DeviceArray)
        got = medkern.asnumpy(out)
    else:
        assert isinstance(out, Volume) and out.shape == image.shape
        arr = out.array
        got = medkern.asnumpy(arr) if isinstance(arr, medkern.DeviceArray) else np.asarray(arr)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("method, kw", [("gaussian", {}), ("gaussian", {"param": 1.5}),
                                        ("mean", {}), ("median", {}),
                                        ("mean", {"mode": "constant", "cval": 20}),
                                        ("generic", {"param": np.mean})])
@pytest.mark.parametrize("key", ["ct-int16", "ct-float32", "uint8"])
def test_threshold_local(method, kw, key):
    image = IMAGES[key][:40, :50]
    ours = ms.threshold_local(image, 5, method=method, offset=2, **kw)
    ref = sf.threshold_local(image, 5, method=method, offset=2, **kw)
    assert ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=1e-6 if ref.dtype == np.float32 else 1e-12,
                               atol=1e-3 if ref.dtype == np.float32 else 1e-9)


def test_threshold_local_3d_block_sizes():
    image = IMAGES["vol-int16"][:10, :20, :20]
    for bs in (3, (3, 5, 1)):
        np.testing.assert_allclose(ms.threshold_local(image, bs, method="mean"),
                                   sf.threshold_local(image, bs, method="mean"), rtol=1e-12)


@pytest.mark.parametrize("name", ["threshold_otsu", "threshold_li", "threshold_mean"])
def test_long_1d_image(name):
    """A 1-D image of 100003 values is one row of the kernels' 3-D buffer: Mesa's software
    Vulkan ends a thread's loops after 65535 iterations, so its extremes (the histogram's
    range) and Li's sums are taken in row segments; the largest and smallest values sit
    at the end."""
    image = np.random.default_rng(5).random(100_003).astype(np.float32)
    image[-1], image[-2] = 7.0, -3.0
    _same(name, _call(ms, name, image), _call(sf, name, image))


def test_bad_input():
    image = IMAGES["uint8"]
    with pytest.raises(ValueError, match="classes"):
        ms.threshold_multiotsu(image, classes=1)
    with pytest.raises(ValueError, match="classes"):
        ms.threshold_multiotsu(np.ones((4, 4), np.uint8), classes=2)
    with pytest.raises(ValueError, match="nbins"):
        ms.threshold_otsu(image.astype(np.float32), nbins=0)
    with pytest.raises(ValueError, match="image or hist"):
        ms.threshold_otsu()
    with pytest.raises(ValueError, match="block_size"):
        ms.threshold_local(image, 4)
    with pytest.raises(ValueError, match="block_size"):
        ms.threshold_local(image, (3, 3, 3))
    with pytest.raises(ValueError, match="method"):
        ms.threshold_local(image, 3, method="max")
    with pytest.raises(ValueError, match="initial guess"):
        ms.threshold_li(image, initial_guess=-5)
    with pytest.raises(TypeError, match="initial_guess"):
        ms.threshold_li(image, initial_guess="x")
    with pytest.raises(TypeError, match="image"):
        ms.threshold_otsu(np.zeros((4, 4), np.complex64))
    with pytest.raises(TypeError, match="image"):
        ms.threshold_li(np.eye(4, dtype=bool))
    with pytest.raises(ValueError):
        ms.threshold_otsu(np.zeros((2, 2, 2, 2), np.float32))
    with pytest.raises(RuntimeError, match="two maxima"):
        ms.threshold_minimum(np.zeros(256, np.uint8))
