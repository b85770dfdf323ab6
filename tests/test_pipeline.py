"""Estimate a (3, Z, Y, X) field -> warp with it -> filter, on device arrays (issue 8, item 2).

The pipeline never goes through the host between its input and its output: the transfer
counters (``arrays.transfers``) do not move. Results equal the same pipeline in SciPy.
"""
import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.filters as mf
import medkern.interpolation as mi
from medkern import arrays


def _images(shape=(14, 17, 19)):
    rng = np.random.default_rng(0)
    fixed = ndi.gaussian_filter(rng.uniform(0, 1, shape), 2.0).astype(np.float32) * 4
    moving = np.roll(fixed, (1, -2, 1), axis=(0, 1, 2))
    return fixed, moving


def _pipeline(fixed, moving):
    smooth = mf.gaussian_filter(fixed, 1.0)
    field = medkern.stack([mf.sobel(smooth, axis=a) for a in range(3)])  # (3, Z, Y, X)
    warped = mi.warp(moving, field, order=1, mode="nearest")
    return field, mf.gaussian_filter(warped, 0.8)


def test_estimate_warp_filter_never_leaves_the_device():
    fixed, moving = _images()
    df, dm = medkern.asarray(fixed), medkern.asarray(moving)
    _pipeline(df, dm)  # compiles, uploads the filters' weight tables once
    before = arrays.transfers()
    field, result = _pipeline(df, dm)
    moved = {k: v - before[k] for k, v in arrays.transfers().items() if v != before[k]}
    assert moved == {}, f"host transfers inside the pipeline: {moved}"
    assert isinstance(field, medkern.DeviceArray) and field.shape == (3, *fixed.shape)
    assert isinstance(result, medkern.DeviceArray) and result.shape == fixed.shape

    ref_field = np.stack([ndi.sobel(ndi.gaussian_filter(fixed, 1.0), axis=a) for a in range(3)])
    ref = ndi.gaussian_filter(
        ndi.map_coordinates(moving, np.indices(fixed.shape) + ref_field, order=1, mode="nearest"),
        0.8)
    np.testing.assert_array_equal(medkern.asnumpy(field), ref_field)
    np.testing.assert_allclose(medkern.asnumpy(result), ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("order", [0, 1, 3])
def test_warp_is_map_coordinates_on_the_own_grid(order):
    rng = np.random.default_rng(order)
    x = rng.uniform(0, 100, (9, 12)).astype(np.float32)
    d = rng.uniform(-2, 2, (2, 9, 12))
    ref = ndi.map_coordinates(x, np.indices(x.shape) + d, order=order, mode="reflect")
    np.testing.assert_allclose(mi.warp(x, d, order=order, mode="reflect"), ref, rtol=1e-6)
    dev = mi.warp(medkern.asarray(x), medkern.asarray(d.astype(np.float32)), order=order,
                  mode="reflect")
    ref32 = ndi.map_coordinates(x, np.indices(x.shape) + d.astype(np.float32), order=order,
                                mode="reflect")
    np.testing.assert_allclose(medkern.asnumpy(dev), ref32, rtol=1e-6)


def test_warp_of_a_volume_keeps_its_grid():
    vol = medkern.Volume(np.arange(60.0).reshape(3, 4, 5), spacing=(2.0, 1.0, 0.5),
                         origin=(1.0, 2.0, 3.0))
    out = mi.warp(vol, np.zeros((3, 3, 4, 5)))
    assert isinstance(out, medkern.Volume) and out.spacing == vol.spacing
    np.testing.assert_array_equal(out.array, vol.array)


def test_warp_bad_input():
    x = np.zeros((4, 5))
    with pytest.raises(ValueError, match="displacement"):
        mi.warp(x, np.zeros((3, 4, 5)))
    with pytest.raises(ValueError, match="displacement"):
        mi.warp(x, np.zeros((2, 5, 4)))
    with pytest.raises(TypeError, match="displacement"):
        mi.warp(x, np.zeros((2, 4, 5), complex))
    with pytest.raises(ValueError, match="order"):
        mi.warp(x, np.zeros((2, 4, 5)), order=6)


def test_stack_on_the_device_and_from_numpy():
    rng = np.random.default_rng(5)
    parts = [rng.normal(size=(4, 5, 6)).astype(np.float32) for _ in range(3)]
    dev = [medkern.asarray(p) for p in parts]
    before = arrays.transfers()
    s = medkern.stack(dev)
    assert arrays.transfers() == before  # buffer to buffer
    np.testing.assert_array_equal(medkern.asnumpy(s), np.stack(parts))
    np.testing.assert_array_equal(medkern.asnumpy(s.component(2)), parts[2])
    np.testing.assert_array_equal(medkern.asnumpy(medkern.stack(parts[:2])), np.stack(parts[:2]))
    flat = [p[0] for p in parts]
    np.testing.assert_array_equal(medkern.asnumpy(medkern.stack([medkern.asarray(f) for f in flat])),
                                  np.stack(flat))


def test_stack_bad_input():
    a = medkern.asarray(np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match="arrays"):
        medkern.stack([])
    with pytest.raises(ValueError, match="shape"):
        medkern.stack([a, medkern.asarray(np.zeros((4, 3), np.float32))])
    with pytest.raises(TypeError, match="dtype"):
        medkern.stack([a, medkern.asarray(np.zeros((3, 4), np.float64))])
    with pytest.raises(TypeError, match="sequence"):
        medkern.stack(a)
    with pytest.raises(ValueError, match="2-D or 3-D"):
        medkern.stack([np.zeros(3), np.zeros(3)])
