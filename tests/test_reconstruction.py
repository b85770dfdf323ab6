"""reconstruction, h-extrema, regional extrema and the size filters against scikit-image."""
import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import data
from skimage import morphology as skm

import medkern
import medkern.morphology as mm


def _levels(shape, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 8, shape).astype(dtype)


@pytest.mark.parametrize("shape", [(31, 37), (9, 10, 11)])
def test_reconstruction_like_skimage(shape):
    img = _levels(shape, 1)
    rng = np.random.default_rng(2)
    seed = np.where(rng.random(shape) < 0.05, img, img.min())
    for fp in (None, ndi.generate_binary_structure(len(shape), 1)):
        ours = mm.reconstruction(seed, img, footprint=fp)
        np.testing.assert_array_equal(ours, skm.reconstruction(seed, img, footprint=fp))
    seed = np.where(rng.random(shape) < 0.05, img, img.max())
    np.testing.assert_array_equal(mm.reconstruction(seed, img, "erosion"),
                                  skm.reconstruction(seed, img, "erosion"))
    f32 = mm.reconstruction(seed.astype(np.float32), img.astype(np.float32), "erosion")
    assert f32.dtype == np.float32
    with pytest.raises(ValueError, match="seed"):
        mm.reconstruction(img + 1, img)
    with pytest.raises(ValueError, match="shape"):
        mm.reconstruction(seed[:-1], img)
    with pytest.raises(ValueError, match="method"):
        mm.reconstruction(seed, img, method="opening")


def test_reconstruction_of_long_lines():
    """The relaxation walks every line with one thread: Mesa's software Vulkan ended the
    walk after 65535 loop iterations, so on a 1-D image of 70000 values the seed never
    reached the last 4465 (and a 3 x 70000 image never settled). Walks take bounded
    launches now."""
    for shape in ((70_000,), (3, 70_000)):
        img = np.ones(shape)
        seed = np.zeros(shape)
        seed[..., 0] = 1.0
        np.testing.assert_array_equal(mm.reconstruction(seed, img), skm.reconstruction(seed, img))


def test_reconstruction_in_bounded_launches(monkeypatch):
    """The walks' launch splitting at a tiny scale, on every arch (a 60-iteration budget,
    64-thread grid-stride loops)."""
    from medkern import runtime
    from medkern.kernels import dsl
    monkeypatch.setattr(runtime, "serial_budget", lambda: 60)
    monkeypatch.setattr(dsl, "GRID_THREADS", 64)
    for shape in ((21, 37), (6, 7, 9)):
        img = _levels(shape, 4)
        seed = np.where(np.random.default_rng(5).random(shape) < 0.05, img, img.min())
        np.testing.assert_array_equal(mm.reconstruction(seed, img), skm.reconstruction(seed, img))
    np.testing.assert_array_equal(mm.local_maxima(img), skm.local_maxima(img))


@pytest.mark.parametrize("shape", [(30, 40), (10, 11, 12)])
def test_regional_extrema_like_skimage(shape):
    img = _levels(shape, 3)
    for conn in range(1, len(shape) + 1):
        for borders in (True, False):
            for ours, ref in ((mm.local_maxima, skm.local_maxima),
                              (mm.local_minima, skm.local_minima)):
                np.testing.assert_array_equal(
                    ours(img, connectivity=conn, allow_borders=borders),
                    ref(img, connectivity=conn, allow_borders=borders))
    idx = mm.local_maxima(img.astype(np.uint8), indices=True)
    ref = skm.local_maxima(img.astype(np.uint8), indices=True)
    assert len(idx) == len(ref) and all(np.array_equal(a, b) for a, b in zip(idx, ref))


def test_regional_maxima_of_a_real_image_and_float_ulps():
    cam = data.camera()
    np.testing.assert_array_equal(mm.local_maxima(cam), skm.local_maxima(cam))
    # values one ulp apart are different values
    x = np.array([[1.0, np.nextafter(1.0, 2.0), 1.0, 0.5]])
    np.testing.assert_array_equal(mm.local_maxima(x), skm.local_maxima(x))
    with pytest.raises(TypeError, match="float16"):
        mm.local_maxima(x.astype(np.float16))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_h_extrema_like_skimage(dtype):
    img = _levels((25, 30), 4, dtype)
    for h in (1, 2, 4):
        np.testing.assert_array_equal(mm.h_maxima(img, h), skm.h_maxima(img, h))
        np.testing.assert_array_equal(mm.h_minima(img, h), skm.h_minima(img, h))
    with pytest.raises(ValueError, match="h = 0"):
        mm.h_maxima(img, 0)


def test_size_filters_like_skimage():
    cam = data.camera() > 100
    for size in (0, 5, 64, 300):
        for conn in (1, 2):
            np.testing.assert_array_equal(
                mm.remove_small_objects(cam, max_size=size, connectivity=conn),
                skm.remove_small_objects(cam, max_size=size, connectivity=conn))
            np.testing.assert_array_equal(
                mm.remove_small_holes(cam, max_size=size, connectivity=conn),
                skm.remove_small_holes(cam, max_size=size, connectivity=conn))
    labels = ndi.label(cam)[0]
    np.testing.assert_array_equal(mm.remove_small_objects(labels, max_size=30),
                                  skm.remove_small_objects(labels, max_size=30))
    with pytest.warns(FutureWarning):
        ours = mm.remove_small_objects(cam, min_size=30)
    np.testing.assert_array_equal(ours, skm.remove_small_objects(cam, min_size=30))
    # the deprecated thresholds are scikit-image 0.26's max_size: inclusive, whatever its
    # warning says (an object of exactly min_size elements goes; a once-silent deviation)
    a = np.zeros((3, 12), bool)
    a[0, :5], a[2, :4], a[2, 6:] = True, True, True
    with pytest.warns(FutureWarning, match="min_size"):
        ours = mm.remove_small_objects(a, 5)
    assert not ours[0].any()
    with pytest.warns(FutureWarning, match="area_threshold"):
        ours = mm.remove_small_holes(~a, area_threshold=5)
    np.testing.assert_array_equal(ours, skm.remove_small_holes(~a, max_size=5))
    for call in (lambda: mm.remove_small_objects(a, min_size=3, max_size=3),
                 lambda: mm.remove_small_objects(a, 3, max_size=64),
                 lambda: mm.remove_small_holes(a, area_threshold=3, max_size=3)):
        with pytest.warns(FutureWarning), pytest.raises(ValueError, match="max_size"):
            call()
    with pytest.raises(TypeError, match="bool or integer"):
        mm.remove_small_objects(cam.astype(np.float32))
    with pytest.raises(ValueError, match="Negative"):
        mm.remove_small_objects(labels - 5)
    out = np.zeros(cam.shape, bool)
    assert mm.remove_small_objects(cam, max_size=5, out=out) is out
    d = mm.remove_small_objects(medkern.asarray(cam.astype(np.uint8)), max_size=5)
    assert isinstance(d, medkern.DeviceArray)
