"""watershed and peak_local_max against scikit-image: identical labels where the image has
no ties, >= 99.5% agreement on real images (the coins chain), identical peak coordinates."""
import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import data, filters
from skimage.feature import peak_local_max as sk_peaks
from skimage.segmentation import watershed as sk_watershed

import medkern
from conftest import vulkan_subset
from medkern.segmentation import peak_local_max, watershed


def _distinct(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)


def _markers(shape, n, seed):
    rng = np.random.default_rng(seed + 100)
    m = np.zeros(shape, dtype=np.int32)
    m.flat[rng.choice(m.size, n, replace=False)] = np.arange(1, n + 1)
    return m


PARALLEL = {"method": "parallel"}


@pytest.mark.parametrize("shape", vulkan_subset([(23, 31), (9, 11, 13)], keep=((9, 11, 13),)))
@pytest.mark.parametrize("line", vulkan_subset([False, True], keep=(True,)))
def test_parallel_identical_without_ties(shape, line):
    # the parallel relaxations (every arch; "auto" on GPU arches): no plateau, no tie
    conns = range(1, len(shape) + 1) if medkern.runtime.is_cpu() else (1, len(shape))
    for conn in conns:
        img = _distinct(shape, conn)
        mk = _markers(shape, 7, conn)
        mask = np.random.default_rng(conn).random(shape) < 0.8
        for kw in ({}, {"mask": mask}):
            ours = watershed(img, mk, connectivity=conn, watershed_line=line, **PARALLEL, **kw)
            ref = sk_watershed(img, mk, connectivity=conn, watershed_line=line, **kw)
            assert ours.dtype == ref.dtype
            np.testing.assert_array_equal(ours, ref)
    # markers as a number of regular seeds, and none (regional minima)
    for markers in (10, None):
        np.testing.assert_array_equal(watershed(img, markers, watershed_line=line, **PARALLEL),
                                      sk_watershed(img, markers, watershed_line=line))


def _plateaus(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4, shape).astype(np.float64)


QUEUE = {"method": "queue"}


@pytest.mark.parametrize("shape", vulkan_subset([(40, 50), (12, 13, 14)], keep=((12, 13, 14),)))
def test_queue_identical_with_ties(shape):
    # the CPU arch's default: scikit-image's queue itself, ties included (on Vulkan in
    # launches of a bounded number of steps: runtime.serial_budget)
    rng = np.random.default_rng(len(shape))
    for conn in range(1, len(shape) + 1):
        img = _plateaus(shape, conn)
        mk = np.zeros(shape, np.int32)
        mk.flat[rng.choice(img.size, 9, replace=False)] = rng.integers(1, 5, 9)  # repeats
        mask = rng.random(shape) < 0.85
        for line in (False, True):
            for kw in ({}, {"mask": mask}):
                np.testing.assert_array_equal(
                    watershed(img, mk, connectivity=conn, watershed_line=line, **QUEUE, **kw),
                    sk_watershed(img, mk, connectivity=conn, watershed_line=line, **kw))
    np.testing.assert_array_equal(watershed(img, None, watershed_line=True, **QUEUE),
                                  sk_watershed(img, None, watershed_line=True))


def _rings():
    """scikit-image's test_connectivity image: four discs' rounded distance map, plateaus
    of thousands of elements (the queue's order among tied markers decides them)."""
    x, y = np.indices((406, 270))
    img = np.zeros((406, 270), bool)
    for a, b, r in ((200, 208, 100), (300, 120, 50), (100, 100, 40), (340, 208, 80)):
        img |= (x - a) ** 2 + (y - b) ** 2 < r ** 2
    dist = np.around(ndi.distance_transform_edt(img) / 12) * 12
    return 200 - dist, dist != 0


@pytest.mark.parametrize("compactness", vulkan_subset([0.0, 0.01, 1.0], keep=(1.0,)))
def test_queue_identical_on_plateaus_and_compact(compactness):
    img, mask = _rings()
    for conn in (1, 2):
        for line in (False, True):
            np.testing.assert_array_equal(
                watershed(img, mask=mask, connectivity=conn, watershed_line=line,
                          compactness=compactness, **QUEUE),
                sk_watershed(img, mask=mask, connectivity=conn, watershed_line=line,
                             compactness=compactness))
    for shape, conn in (((23, 31), 2), ((9, 11, 13), 1)):
        img = np.random.default_rng(conn).random(shape)
        mk = _markers(shape, 6, conn)
        np.testing.assert_array_equal(
            watershed(img, mk, connectivity=conn, compactness=compactness),
            sk_watershed(img, mk, connectivity=conn, compactness=compactness))


def test_marker_above_its_neighbours_floods_late():
    # scikit-image pushes a marker at its own value: a high marker starts late
    img = np.array([[9, 0, 0, 0, 1.0]])
    mk = np.array([[1, 0, 0, 0, 2]])
    for line in (False, True):
        np.testing.assert_array_equal(watershed(img, mk, watershed_line=line, **PARALLEL),
                                      sk_watershed(img, mk, watershed_line=line))
        np.testing.assert_array_equal(watershed(img, mk, watershed_line=line),
                                      sk_watershed(img, mk, watershed_line=line))


@pytest.mark.parametrize("n", [6, 7])
def test_plateau_split_like_skimage(n):
    img = np.zeros((1, n))
    mk = np.zeros((1, n), int)
    mk[0, 0], mk[0, -1] = 1, 2
    for line in (False, True):
        np.testing.assert_array_equal(watershed(img, mk, watershed_line=line, **PARALLEL),
                                      sk_watershed(img, mk, watershed_line=line))


def _coins_chain():
    # Vulkan: a quarter of the image (Mesa's software Vulkan pays ms a launch; CI time)
    coins = data.coins() if medkern.runtime.is_cpu() else data.coins()[:160, :200]
    fg = coins > filters.threshold_otsu(coins)
    dist = ndi.distance_transform_edt(fg)
    peaks = sk_peaks(dist, min_distance=7, labels=ndi.label(fg)[0])
    mk = np.zeros(dist.shape, np.int32)
    mk[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return coins, fg, dist, mk


@pytest.mark.parametrize("line", vulkan_subset([False, True], keep=(True,)))
def test_parallel_agrees_on_the_coins_chain(line):
    coins, fg, dist, mk = _coins_chain()
    ours = watershed(-dist, mk, mask=fg, watershed_line=line, **PARALLEL)
    ref = sk_watershed(-dist, mk, mask=fg, watershed_line=line)
    assert (ours == ref).mean() >= 0.995
    # a gradient image has few ties: identical
    grad = filters.sobel(coins)
    np.testing.assert_array_equal(watershed(grad, mk, watershed_line=line, **PARALLEL),
                                  sk_watershed(grad, mk, watershed_line=line))
    if medkern.runtime.is_cpu():
        np.testing.assert_array_equal(watershed(-dist, mk, mask=fg, watershed_line=line),
                                      ref)


@pytest.mark.parametrize("case", vulkan_subset([(1, False), (1, True), (2, False), (2, True)],
                                               keep=((1, True),)))
def test_parallel_agrees_on_raw_coins_flooded_from_its_minima(case):
    # uint8 plateaus everywhere: the hardest real case for the tie rule (measured 99.65% /
    # 99.72% / 99.74% / 99.71% with two runs of the pop-order key; 99.29% with one)
    conn, line = case
    coins = data.coins()
    ours = watershed(coins, connectivity=conn, watershed_line=line, **PARALLEL)
    ref = sk_watershed(coins, connectivity=conn, watershed_line=line)
    assert ours.dtype == ref.dtype
    assert (ours == ref).mean() >= 0.995
    if medkern.runtime.is_cpu():
        np.testing.assert_array_equal(
            watershed(coins, connectivity=conn, watershed_line=line), ref)


def test_device_array_and_volume_in_same_kind_out():
    img = _distinct((8, 9, 10), 3)
    mk = _markers(img.shape, 4, 3)
    ref = sk_watershed(img, mk)
    d = watershed(medkern.asarray(img), mk)
    assert isinstance(d, medkern.DeviceArray)
    np.testing.assert_array_equal(medkern.asnumpy(d), ref)
    vol = medkern.Volume(img, spacing=(2.0, 1.0, 1.0))
    out = watershed(vol, mk)
    assert isinstance(out, medkern.Volume)
    np.testing.assert_array_equal(out.array, ref)


@pytest.mark.slow
def test_parallel_long_lines():
    """The parallel relaxations walk every line with one thread: Mesa's software Vulkan
    ended a thread's loops after 65535 iterations, so the walks of a 1-D image of 70000
    values never reached its end (no result after 300 s). Walks take bounded launches
    now (12 s on lavapipe; ``test_parallel_in_bounded_launches`` runs the split in
    little)."""
    img = np.abs(np.sin(np.arange(70_000) / 3000.0))
    mk = np.zeros(img.shape, np.int32)
    mk[0], mk[-1], mk[40_000] = 1, 2, 3
    np.testing.assert_array_equal(watershed(img, mk, **PARALLEL), sk_watershed(img, mk))


def test_parallel_in_bounded_launches(monkeypatch):
    """The walks' launch splitting at a tiny scale, on every arch (a 100-iteration budget,
    64-thread grid-stride loops: the rows' walks in two launches)."""
    from medkern import runtime
    from medkern.kernels import dsl
    monkeypatch.setattr(runtime, "serial_budget", lambda: 100)
    monkeypatch.setattr(dsl, "GRID_THREADS", 64)
    img = _distinct((6, 24), 2)
    mk = _markers(img.shape, 4, 2)
    np.testing.assert_array_equal(watershed(img, mk, watershed_line=True, **PARALLEL),
                                  sk_watershed(img, mk, watershed_line=True))


def test_bad_input_names_the_parameter():
    img = _distinct((6, 7), 0)
    mk = _markers(img.shape, 3, 0)
    with pytest.raises(ValueError, match="markers"):
        watershed(img, mk[:, :5])
    with pytest.raises(ValueError, match="mask"):
        watershed(img, mk, mask=np.ones((6, 6), bool))
    with pytest.raises(ValueError, match="compactness"):
        watershed(img, mk, compactness=-1)
    with pytest.raises(TypeError, match="markers"):
        watershed(img, mk.astype(float))
    with pytest.raises(ValueError, match="connectivity"):
        watershed(img, mk, connectivity=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="method"):
        watershed(img, mk, method="heap")
    with pytest.raises(ValueError, match="compactness"):
        watershed(img, mk, compactness=0.5, method="parallel")
    before = img.copy()
    watershed(img, mk)
    np.testing.assert_array_equal(img, before)


@pytest.mark.parametrize("kw", vulkan_subset([{}, {"min_distance": 3}, {"min_distance": 5, "threshold_rel": 0.5},
                                {"min_distance": 2, "exclude_border": False, "num_peaks": 4},
                                {"min_distance": 3, "p_norm": 2},
                                {"footprint": np.ones((3, 3), bool), "exclude_border": 1}],
                                              keep=({},)))
def test_peaks_like_skimage(kw):
    coins = data.coins()[:120, :160]
    np.testing.assert_array_equal(peak_local_max(coins, **kw), sk_peaks(coins, **kw))


def test_peaks_per_label_and_3d():
    vol = ndi.gaussian_filter(np.random.default_rng(0).random((16, 18, 20)), 2)
    np.testing.assert_array_equal(peak_local_max(vol, min_distance=2),
                                  sk_peaks(vol, min_distance=2))
    lab = ndi.label(vol > np.percentile(vol, 60))[0]
    for kw in ({"min_distance": 2}, {"min_distance": 2, "num_peaks_per_label": 1},
               {"min_distance": 1, "num_peaks": 3}):
        np.testing.assert_array_equal(peak_local_max(vol, labels=lab, **kw),
                                      sk_peaks(vol, labels=lab, **kw))
    with pytest.raises(ValueError, match="exclude_border"):
        peak_local_max(vol, exclude_border=-1)


def test_peak_local_max_above_three_dimensions():
    # a box footprint is separable: one 1-D maximum filter per axis over 3-D views
    r = np.random.default_rng(4).random((6, 7, 8, 9))
    for kw in ({"min_distance": 1}, {"min_distance": 2, "exclude_border": False},
               {"min_distance": 1, "labels": (r > 0.5).astype(int)}):
        np.testing.assert_array_equal(peak_local_max(r, **kw), sk_peaks(r, **kw))
    with pytest.raises(ValueError, match="footprint"):
        peak_local_max(r, footprint=np.eye(3, dtype=bool)[None, None].repeat(3, 0).repeat(3, 1))
