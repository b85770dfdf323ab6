"""Region growing in ``medkern.segmentation`` equals its references mask for mask:
scikit-image's ``flood`` / ``flood_fill`` / ``apply_hysteresis_threshold`` and SimpleITK's
``ConnectedThreshold`` / ``ConfidenceConnected`` / ``NeighborhoodConnected``, on real
CT/MR data, a generated volume, random data, odd layouts, every connectivity, device and
Volume inputs, on whatever arch runs (CPU and Vulkan)."""
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk  # test dependencies (pyproject's test extra): a missing one fails
import skimage.filters as skfilters
import skimage.segmentation as skseg
from conftest import vulkan_subset
from pydicom import data as pydicom_data

import medkern
import medkern.segmentation as ms
from medkern import Volume
from medkern.sample_data import ct_volume, textured_phantom


def _dicom(name):
    return pydicom.dcmread(pydicom_data.get_testdata_file(name)).pixel_array


CT = _dicom("CT_small.dcm")  # int16 128 x 128
MR = _dicom("MR_small.dcm")  # int16 64 x 64
VOL = ct_volume((40, 48, 56))  # float32
IMAGES = {"ct": CT, "ct_f32": CT.astype(np.float32), "mr": MR, "mr_f32": MR.astype(np.float32),
          "vol": VOL, "vol_i16": VOL.astype(np.int16),
          # ellipsoids textured with the CT slice along all three axes
          "phantom": textured_phantom((37, 41, 45)),
          "phantom_i16": textured_phantom((37, 41, 45), np.int16)}


def host(x):
    if isinstance(x, Volume):
        x = x.array
    return medkern.asnumpy(x) if isinstance(x, medkern.DeviceArray) else np.asarray(x)


def _sitk_seeds(seeds):
    return [tuple(int(v) for v in s[::-1]) for s in seeds]


def _centre_seeds(shape, n=2):
    rng = np.random.default_rng(len(shape))
    return [tuple(int(v) for v in rng.integers(0, shape)) for _ in range(n)]


# --------------------------------------------------------------------------- ITK
def one_d(ref):
    """SimpleITK has no 1-D images: a 1-D call runs on the (1, n) image."""
    def wrapped(img, seeds, *args, **kw):
        if img.ndim > 1:
            return ref(img, seeds, *args, **kw)
        return ref(img[None], [(0, *s) for s in seeds], *args, **kw)[0]
    return wrapped


@one_d
def sitk_connected(img, seeds, lower, upper, full=False):
    f = sitk.ConnectedThresholdImageFilter()
    f.SetSeedList(_sitk_seeds(seeds))
    f.SetLower(float(lower))
    f.SetUpper(float(upper))
    f.SetConnectivity(f.FullConnectivity if full else f.FaceConnectivity)
    return sitk.GetArrayFromImage(f.Execute(sitk.GetImageFromArray(img)))


@one_d
def sitk_confidence(img, seeds, multiplier, iterations, radius):
    return sitk.GetArrayFromImage(sitk.ConfidenceConnected(
        sitk.GetImageFromArray(img), seedList=_sitk_seeds(seeds), numberOfIterations=iterations,
        multiplier=multiplier, initialNeighborhoodRadius=radius, replaceValue=1))


@one_d
def sitk_neighborhood(img, seeds, lower, upper, radius):
    r = (radius,) * img.ndim if np.ndim(radius) == 0 else tuple(radius)
    r = (0,) * (img.ndim - len(r)) + r
    return sitk.GetArrayFromImage(sitk.NeighborhoodConnected(
        sitk.GetImageFromArray(img), seedList=_sitk_seeds(seeds), lower=float(lower),
        upper=float(upper), radius=r[::-1], replaceValue=1))


def check_same(ours, ref):
    o = host(ours)
    assert o.dtype == ref.dtype and o.shape == ref.shape
    np.testing.assert_array_equal(o, ref)


@pytest.mark.parametrize("name", vulkan_subset(list(IMAGES), ("ct", "mr_f32", "vol_i16", "phantom")))
def test_connected_threshold_real_data(name):
    img = IMAGES[name]
    seeds = _centre_seeds(img.shape, 3)
    v = float(img[seeds[0]])
    for lo, hi in ((v - 80, v + 80), (v - 400, v + 30)):
        if img.dtype.kind in "iu":
            lo, hi = float(int(lo)), float(int(hi))
        for conn in range(1, img.ndim + 1):
            if conn not in (1, img.ndim):
                continue  # SimpleITK offers faces and full only (others: test below)
            ref = sitk_connected(img, seeds, lo, hi, full=conn == img.ndim)
            check_same(ms.connected_threshold(img, seeds, lo, hi, connectivity=conn), ref)


def test_connected_threshold_truncates_bounds_like_itk():
    a = (np.arange(60, dtype=np.int16).reshape(6, 10) % 7)
    for lo, hi in ((0.5, 3.9), (-2.5, 2.2), (2.0, 2.0), (3.0, 1.0)):
        check_same(ms.connected_threshold(a, (0, 2), lo, hi, connectivity=2),
                   sitk_connected(a, [(0, 2)], lo, hi, full=True))


def test_connected_threshold_seed_outside_interval_grows_nothing():
    a = np.zeros((5, 6), np.int16)
    a[2, 1] = 50
    out = ms.connected_threshold(a, [(2, 1)], 0, 1)
    assert not out.any()
    check_same(out, sitk_connected(a, [(2, 1)], 0, 1))


@pytest.mark.parametrize("name", vulkan_subset(["ct", "mr_f32", "vol_i16", "vol", "phantom"],
                                               ("ct", "vol_i16")))
@pytest.mark.parametrize("radius", vulkan_subset([0, 1, 2], (1,)))
def test_confidence_connected_real_data(name, radius):
    img = IMAGES[name]
    seeds = _centre_seeds(img.shape, 2)
    for mult, its in ((2.5, 4), (1.0, 2), (4.5, 0)):
        check_same(ms.confidence_connected(img, seeds, mult, its, radius),
                   sitk_confidence(img, seeds, mult, its, radius))


@pytest.mark.parametrize("name", ["ct", "mr", "ct_f32", "vol_i16", "phantom_i16"])
@pytest.mark.parametrize("radius", [1, 2, (0, 1, 2)])
def test_neighborhood_connected_real_data(name, radius):
    img = IMAGES[name]
    if np.ndim(radius) and len(radius) != img.ndim:
        radius = radius[-img.ndim:]
    seeds = _centre_seeds(img.shape, 2)
    v = float(img[seeds[0]])
    lo, hi = float(int(v - 300)), float(int(v + 300))
    check_same(ms.neighborhood_connected(img, seeds, lo, hi, radius=radius),
               sitk_neighborhood(img, seeds, lo, hi, radius))


def test_neighborhood_connected_seeds_always_grow():
    """ITK pushes every seed: a seed whose box leaves the interval is in the region and
    grows (radius 0 here: its neighbours pass)."""
    a = np.zeros((5, 6), np.int16)
    a[2, 1] = 50
    a[:, 4] = 50
    for seeds, r in (([(2, 1)], 0), ([(2, 1), (0, 5)], 0), ([(0, 0)], 1), ([(2, 4)], 1)):
        check_same(ms.neighborhood_connected(a, seeds, 0, 1, radius=r),
                   sitk_neighborhood(a, seeds, 0, 1, r))


@pytest.mark.parametrize("dtype", vulkan_subset([np.uint8, np.int16, np.float32, np.float64,
                                                 np.uint16], (np.uint8, np.float64)))
@pytest.mark.parametrize("shape", [(37,), (1, 29), (13, 1, 7), (17, 23), (7, 9, 11)])
def test_itk_random(dtype, shape):
    rng = np.random.default_rng(shape[-1])
    img = (rng.random(shape) * 10).astype(dtype)
    seeds = _centre_seeds(shape, 3)
    full = len(shape)
    check_same(ms.connected_threshold(img, seeds, 2, 7), sitk_connected(img, seeds, 2, 7))
    check_same(ms.connected_threshold(img, seeds, 2, 7, connectivity=full),
               sitk_connected(img, seeds, 2, 7, full=True))
    check_same(ms.confidence_connected(img, seeds, 1.5, 3, 1),
               sitk_confidence(img, seeds, 1.5, 3, 1))
    check_same(ms.neighborhood_connected(img, seeds, 1, 9, radius=1),
               sitk_neighborhood(img, seeds, 1, 9, 1))


def test_region_sums_of_long_rows():
    """confidence_connected's statistics are per-row sums of the region: a 1-D image of
    100003 values is one row, which one thread walked, and Mesa's software Vulkan ends a
    thread's loops after 65535 iterations (the sums missed the rest). Long rows are summed
    in segments now."""
    from medkern import arrays
    from medkern.kernels import dsl, grow
    rng = np.random.default_rng(9)
    n = 100_003
    img = rng.integers(0, 50, n).astype(np.float64)
    m = (rng.random(n) < 0.7).astype(np.uint8)
    img[-1], m[-1] = 1000.0, 1
    buf, mbuf = arrays.upload(img.reshape(1, 1, n)), arrays.upload(m.reshape(1, 1, n))
    shape = (1, 1, 3 * dsl.row_segments(n))
    part = arrays.empty_buffer(shape, np.dtype(np.float64))
    grow.region_sums(np.dtype(np.float64))(buf, mbuf, part)
    got = np.array(arrays.download(part, shape)).reshape(-1, 3).sum(axis=0)
    if arrays.is_leased(part):  # GPU arches (on the CPU the download held it)
        arrays.release_buffer(part)
    sel = img[m != 0]
    np.testing.assert_array_equal(got, [sel.sum(), (sel * sel).sum(), sel.size])


def test_intermediate_connectivity_is_generate_binary_structure():
    """connectivity 2 of 3 (faces + edges): SimpleITK has none; the region is the union
    of the components of the in-interval mask under that structure holding a seed."""
    import scipy.ndimage as ndi
    img = IMAGES["vol_i16"][:20]
    seeds = _centre_seeds(img.shape, 3)
    v = int(img[seeds[0]])
    inside = (img >= v - 100) & (img <= v + 100)
    lab, _ = ndi.label(inside, ndi.generate_binary_structure(3, 2))
    keep = {lab[s] for s in seeds} - {0}
    ref = np.isin(lab, list(keep)).astype(np.uint8)
    check_same(ms.connected_threshold(img, seeds, v - 100, v + 100, connectivity=2), ref)


def test_layouts_and_seed_forms():
    img = IMAGES["vol_i16"]
    seeds = _centre_seeds(img.shape, 3)
    v = float(img[seeds[0]])
    ref = sitk_connected(np.ascontiguousarray(img), seeds, v - 100, v + 100)
    f = np.asfortranarray(img)
    check_same(ms.connected_threshold(f, seeds, v - 100, v + 100), ref)
    arr = np.array(seeds)
    check_same(ms.connected_threshold(img, arr, v - 100, v + 100), ref)
    mask = np.zeros(img.shape, bool)
    mask[tuple(arr.T)] = True
    check_same(ms.connected_threshold(img, mask, v - 100, v + 100), ref)
    one = ms.connected_threshold(img, seeds[0], v - 100, v + 100)
    check_same(one, sitk_connected(img, seeds[:1], v - 100, v + 100))
    # strided views: every other element
    big = np.repeat(np.repeat(CT, 2, axis=0), 2, axis=1)
    view = big[::2, ::2]
    check_same(ms.connected_threshold(view, [(64, 64)], 900, 1200),
               sitk_connected(CT, [(64, 64)], 900, 1200))
    assert not ms.connected_threshold(img, [], 0, 10).any()


def test_confidence_seed_mask_equals_seed_list():
    img = IMAGES["ct"]
    seeds = [(60, 60), (70, 70)]
    mask = np.zeros(img.shape, bool)
    for s in seeds:
        mask[s] = True
    check_same(ms.confidence_connected(img, mask), sitk_confidence(img, seeds, 2.5, 4, 1))


def test_device_and_volume_inputs():
    img = IMAGES["vol_i16"]
    seeds = _centre_seeds(img.shape, 2)
    v = float(img[seeds[0]])
    ref = sitk_connected(img, seeds, v - 100, v + 100)
    d = medkern.asarray(img)
    out = ms.connected_threshold(d, seeds, v - 100, v + 100)
    assert isinstance(out, medkern.DeviceArray)
    check_same(out, ref)
    vol = Volume(img, spacing=(2.0, 0.7, 0.8), origin=(1.0, 2.0, 3.0))
    vo = ms.neighborhood_connected(vol, seeds, v - 300, v + 300)
    assert isinstance(vo, Volume) and np.allclose(vo.affine, vol.affine)
    check_same(vo, sitk_neighborhood(img, seeds, v - 300, v + 300, 1))
    co = ms.confidence_connected(medkern.asarray(img), seeds)
    assert isinstance(co, medkern.DeviceArray)
    check_same(co, sitk_confidence(img, seeds, 2.5, 4, 1))
    dmask = np.zeros(img.shape, np.uint8)
    dmask[seeds[0]] = dmask[seeds[1]] = 1
    check_same(ms.connected_threshold(d, medkern.asarray(dmask), v - 100, v + 100), ref)
    # flood and hysteresis on device and Volume
    fl = skseg.flood(img, seeds[0], tolerance=60)
    o = ms.flood(d, seeds[0], tolerance=60)
    assert isinstance(o, medkern.DeviceArray)
    np.testing.assert_array_equal(host(o).astype(bool), fl)
    ov = ms.flood(vol, seeds[0], tolerance=60)
    assert isinstance(ov, Volume) and ov.array.dtype == bool
    np.testing.assert_array_equal(ov.array, fl)
    assert np.allclose(ov.affine, vol.affine)
    hy = skfilters.apply_hysteresis_threshold(img, v, v + 200)
    np.testing.assert_array_equal(host(ms.apply_hysteresis_threshold(d, v, v + 200)).astype(bool),
                                  hy)
    filled = ms.flood_fill(vol, seeds[0], -7, tolerance=60)
    np.testing.assert_array_equal(host(filled), skseg.flood_fill(img, seeds[0], -7, tolerance=60))


# --------------------------------------------------------------------------- skimage
@pytest.mark.parametrize("name", vulkan_subset(["ct", "ct_f32", "mr", "vol", "vol_i16", "phantom",
                                                "phantom_i16"], ("ct", "phantom_i16")))
def test_flood_real_data(name):
    img = IMAGES[name]
    for seed in _centre_seeds(img.shape, 2):
        for conn in range(1, img.ndim + 1):
            for tol in (None, 0, 40, 250.5):
                ref = skseg.flood(img, seed, connectivity=conn, tolerance=tol)
                ours = ms.flood(img, seed, connectivity=conn, tolerance=tol)
                assert ours.dtype == bool
                np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("dtype", vulkan_subset([bool, np.uint8, np.int8, np.uint16, np.int32,
                                                 np.float32, np.float64, np.int64, np.uint64],
                                                (bool, np.float64, np.uint64)))
def test_flood_dtypes_and_tolerance_edges(dtype):
    rng = np.random.default_rng(3)
    img = (rng.random((19, 23)) * 6).astype(dtype)
    for seed in ((0, 0), (-1, -1), (9, 11)):
        for tol in (None, 0, 1, 1.5, 2.9, -1.5, 1e30, np.inf):
            ref = skseg.flood(img, seed, tolerance=tol)
            np.testing.assert_array_equal(ms.flood(img, seed, tolerance=tol), ref)


def test_flood_footprints_nan_and_1d():
    a = np.array([[np.nan, np.nan, 1.0], [np.nan, 2, 3]])
    for tol in (None, 1, np.inf):
        np.testing.assert_array_equal(ms.flood(a, (0, 0), tolerance=tol),
                                      skseg.flood(a, (0, 0), tolerance=tol))
    line = np.array([1, 1, 2, 1, 1, 1, 3], np.int16)
    np.testing.assert_array_equal(ms.flood(line, 4), skseg.flood(line, 4))
    np.testing.assert_array_equal(ms.flood(line, -2), skseg.flood(line, -2))
    img = (np.random.default_rng(5).random((21, 17)) * 3).astype(np.uint8)
    for fp in (np.ones((1, 3)), np.ones((5, 5)), np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]]),
               np.ones((3, 1, 3))[:, 0]):
        np.testing.assert_array_equal(ms.flood(img, (10, 8), footprint=fp),
                                      skseg.flood(img, (10, 8), footprint=fp))


def test_flood_asymmetric_footprints_and_empty():
    """An asymmetric footprint is a directed walk (scikit-image's); empty images give an
    empty mask whatever the seed."""
    img = (np.random.default_rng(9).random((23, 19)) * 3).astype(np.uint8)
    for fp in (np.array([[0, 1, 1], [0, 1, 1], [0, 0, 0]]),
               np.array([[0, 0, 0], [1, 1, 0], [1, 1, 0]]),
               np.array([[0, 0, 1, 0, 0], [0, 0, 0, 0, 0], [1, 0, 1, 0, 0], [0] * 5, [0] * 5])):
        for tol in (None, 1):
            np.testing.assert_array_equal(ms.flood(img, (11, 9), footprint=fp, tolerance=tol),
                                          skseg.flood(img, (11, 9), footprint=fp, tolerance=tol))
    vol = IMAGES["vol_i16"][:12, :20, :20]
    fp3 = np.zeros((3, 3, 3), bool)
    fp3[1:, 1:, 1:] = True
    np.testing.assert_array_equal(ms.flood(vol, (6, 5, 5), footprint=fp3, tolerance=300),
                                  skseg.flood(vol, (6, 5, 5), footprint=fp3, tolerance=300))
    for shape in ((0,), (20, 0, 4)):
        e = np.empty(shape)
        assert ms.flood(e, ()).shape == shape and ms.flood(e, ()).dtype == bool
        assert ms.flood_fill(e, (), 2).shape == shape


def test_flood_more_than_three_dimensions_and_float16():
    """scikit-image floods any rank: 4-D numpy images take the padded-line path."""
    img = (np.random.default_rng(10).random((5, 6, 4, 7)) * 3).astype(np.int16)
    for kw in ({"connectivity": 1}, {"connectivity": 1, "tolerance": 1},
               {"footprint": np.pad(np.ones((2, 2, 1, 1), bool), [(1, 0), (1, 0), (1, 1),
                                                                  (1, 1)])}):
        np.testing.assert_array_equal(ms.flood(img, (2, 3, 1, 4), **kw),
                                      skseg.flood(img, (2, 3, 1, 4), **kw))
    with pytest.raises(TypeError, match="float16"):
        ms.flood_fill(np.array([9.0, 0.1, 42], np.float16), 0, 1)


def test_flood_fill_in_place_and_copy():
    img = (np.random.default_rng(6).random((15, 16)) * 4).astype(np.uint8)
    before = img.copy()
    out = ms.flood_fill(img, (3, 3), 9, connectivity=1)
    np.testing.assert_array_equal(out, skseg.flood_fill(before, (3, 3), 9, connectivity=1))
    np.testing.assert_array_equal(img, before)
    res = ms.flood_fill(img, (3, 3), 9, connectivity=1, in_place=True)
    assert res is img
    np.testing.assert_array_equal(img, out)


@pytest.mark.parametrize("name", ["ct", "ct_f32", "mr", "vol", "phantom"])
def test_hysteresis_real_data(name):
    img = IMAGES[name]
    for p_lo, p_hi in ((50, 90), (70, 99), (90, 60)):
        lo, hi = float(np.percentile(img, p_lo)), float(np.percentile(img, p_hi))
        np.testing.assert_array_equal(ms.apply_hysteresis_threshold(img, lo, hi),
                                      skfilters.apply_hysteresis_threshold(img, lo, hi))


def test_hysteresis_float32_rounding_and_ints():
    x = np.array([0.1, 0.1, 0.3, 0.2, 0.05, 0.30000001], np.float32)
    for lo, hi in ((0.1, 0.3), (0.05, 0.2), (np.float64(0.1), 0.3), (0, 1)):
        np.testing.assert_array_equal(ms.apply_hysteresis_threshold(x, lo, hi),
                                      skfilters.apply_hysteresis_threshold(x, lo, hi))
    b = (np.random.default_rng(8).random((11, 12, 13)) * 5).astype(np.int16)
    for lo, hi in ((1, 3), (1.5, 3.5), (2, 2)):
        np.testing.assert_array_equal(ms.apply_hysteresis_threshold(b, lo, hi),
                                      skfilters.apply_hysteresis_threshold(b, lo, hi))


# --------------------------------------------------------------------------- bad input
def test_bad_seeds():
    img = IMAGES["mr"]
    for f in (lambda s: ms.connected_threshold(img, s, 0, 10),
              lambda s: ms.confidence_connected(img, s),
              lambda s: ms.neighborhood_connected(img, s, 0, 10)):
        with pytest.raises(ValueError, match="seeds"):
            f([(64, 0)])
        with pytest.raises(ValueError, match="seeds"):
            f([(-1, 0)])
        with pytest.raises(ValueError, match="seeds"):
            f([(1, 2, 3)])
        with pytest.raises(ValueError, match="seeds"):
            f(np.zeros((3, 3), bool))
        with pytest.raises(TypeError, match="seeds"):
            f([(1.5, 2.0)])
        with pytest.raises(TypeError, match="seeds"):
            f(None)
    with pytest.raises(ValueError, match="connectivity"):
        ms.connected_threshold(img, (1, 1), 0, 1, connectivity=3)
    with pytest.raises(ValueError, match="radius"):
        ms.neighborhood_connected(img, (1, 1), 0, 1, radius=-1)
    with pytest.raises(ValueError, match="radius"):
        ms.neighborhood_connected(img, (1, 1), 0, 1, radius=(1, 1, 1))
    with pytest.raises(ValueError, match="iterations"):
        ms.confidence_connected(img, (1, 1), iterations=-1)
    with pytest.raises(TypeError, match="lower"):
        ms.connected_threshold(img, (1, 1), "a", 1)


def test_bad_flood_arguments():
    img = IMAGES["mr"].copy()
    before = img.copy()
    with pytest.raises(ValueError, match="seed_point"):
        ms.flood(img, (1,))
    with pytest.raises(IndexError):
        ms.flood(img, (64, 0))
    with pytest.raises(ValueError, match="seed_point"):
        ms.flood(img, (0, -65))
    with pytest.raises(ValueError, match="footprint"):
        ms.flood(img, (0, 0), footprint=np.ones((2, 3)))
    with pytest.raises(ValueError, match="footprint"):
        ms.flood(img, (0, 0), footprint=np.ones(3))
    with pytest.raises(TypeError, match="image"):
        ms.flood(np.zeros((3, 3), np.complex64), (0, 0))
    with pytest.raises(ValueError, match="image"):
        ms.flood(medkern.asarray(np.zeros((0, 3), np.float32)), (0, 0))
    with pytest.raises(ValueError, match="seed_point"):
        ms.flood(np.zeros((2, 2, 2, 2)), (0, 0, 0))
    with pytest.raises(ValueError, match="footprint"):
        ms.flood(np.zeros((2, 2, 2, 2)), (0, 0, 0, 0), footprint=np.ones((3, 3)))
    with pytest.raises(TypeError, match="in_place"):
        ms.flood_fill(img, (0, 0), 1, in_place="yes")
    with pytest.raises(ValueError, match="in_place"):
        ms.flood_fill(medkern.asarray(img), (0, 0), 1, in_place=True)
    np.testing.assert_array_equal(img, before)
