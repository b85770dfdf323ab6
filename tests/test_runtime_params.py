"""Values that change from call to call are kernel arguments, not compile-time keys (issue 8,
item 3): a new sigma of the same radius reuses the compiled kernel."""
import numpy as np
import scipy.ndimage as ndi

import medkern.filters as mf
from medkern.kernels import dsl


def compiles(gen):
    return gen.cache_info().misses


def test_new_sigmas_of_one_radius_compile_once():
    x = np.random.default_rng(0).normal(size=(24, 31)).astype(np.float64)
    mf.gaussian_filter(x, 2.0)  # radius int(4 * 2.0 + 0.5) = 8 on both axes
    before = compiles(dsl._correlate1d_unrolled)
    for k in range(20):
        s = 2.0 + 0.005 * k  # int(4 * s + 0.5) = 8 for s < 2.125
        np.testing.assert_array_equal(mf.gaussian_filter(x, s), ndi.gaussian_filter(x, s))
    assert compiles(dsl._correlate1d_unrolled) == before


def test_new_weights_of_one_length_compile_once():
    x = np.random.default_rng(1).integers(0, 200, size=(20, 17)).astype(np.uint8)
    mf.correlate1d(x, [1.0, 2.0, 0.5], axis=0)
    before = compiles(dsl._correlate1d_unrolled)
    rng = np.random.default_rng(2)
    for _ in range(10):
        w = rng.normal(size=3)  # asymmetric, same length: one specialisation
        np.testing.assert_array_equal(mf.correlate1d(x, w, axis=0), ndi.correlate1d(x, w, axis=0))
    assert compiles(dsl._correlate1d_unrolled) == before


def test_long_kernels_loop_over_run_time_weights():
    x = np.random.default_rng(3).normal(size=(50, 60))
    mf.gaussian_filter1d(x, 9.0)
    before = compiles(dsl._correlate1d_looped)
    for s in (8.0, 10.0, 12.5):  # different lengths, one looped kernel
        np.testing.assert_array_equal(mf.gaussian_filter1d(x, s), ndi.gaussian_filter1d(x, s))
    assert compiles(dsl._correlate1d_looped) == before


def test_zero_weights_still_multiply_nan():
    x = np.array([1.0, np.nan, 3.0, 4.0])
    np.testing.assert_array_equal(mf.correlate1d(x, [0.0, 1.0, 0.0]),
                                  ndi.correlate1d(x, [0.0, 1.0, 0.0]))


def test_kernel_caches_are_bounded():
    assert dsl._correlate1d_unrolled.cache_info().maxsize == dsl.KERNEL_CACHE
    assert dsl._correlate1d_looped.cache_info().maxsize == dsl.KERNEL_CACHE
    assert dsl._stencil_fold_unrolled.cache_info().maxsize == dsl.KERNEL_CACHE


def test_new_footprint_weights_compile_once():
    """correlate/convolve: the footprint's offsets are structure, its weights are values."""
    x = np.random.default_rng(4).normal(size=(19, 23))
    mf.correlate(x, np.ones((3, 3)))
    before = compiles(dsl._stencil_fold_unrolled)
    rng = np.random.default_rng(5)
    for _ in range(10):
        w = rng.normal(size=(3, 3)) + 3.0  # no |w| <= eps tap: the same 9 offsets
        np.testing.assert_array_equal(mf.correlate(x, w), ndi.correlate(x, w))
    assert compiles(dsl._stencil_fold_unrolled) == before


def test_big_footprints_reuse_their_tap_table():
    x = np.random.default_rng(6).normal(size=(30, 30))
    w = np.random.default_rng(7).normal(size=(9, 9)) + 3.0  # 81 taps: the looped kernel
    np.testing.assert_array_equal(mf.correlate(x, w), ndi.correlate(x, w))
    before = (dsl._fold_rows_kernel.cache_info().misses, dsl._taps_table.cache_info().misses)
    np.testing.assert_array_equal(mf.correlate(x, 2 * w), ndi.correlate(x, 2 * w))
    assert (dsl._fold_rows_kernel.cache_info().misses, dsl._taps_table.cache_info().misses) == before
