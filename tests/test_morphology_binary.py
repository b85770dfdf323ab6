"""Binary morphology vs scipy.ndimage: random masks (densities 0.1-0.9), real images,
every connectivity, odd structures, iterations, masks, border values, bad input."""
import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.morphology as mm
from medkern import sample_data

OPS = ("binary_erosion", "binary_dilation", "binary_opening", "binary_closing")


def _mask(shape, density, seed):
    return np.random.default_rng(seed).random(shape) < density


def _same(a, b):
    a = medkern.asnumpy(a) if isinstance(a, medkern.DeviceArray) else np.asarray(a)
    assert a.dtype == np.asarray(b).dtype and np.array_equal(a, b)


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("density", [0.1, 0.5, 0.9])
def test_connectivities_iterations(ndim, density):
    shape = (23, 19) if ndim == 2 else (11, 9, 13)
    x = _mask(shape, density, int(density * 10) + ndim)
    m = _mask(shape, 0.7, 5)
    for conn in range(1, ndim + 1):
        s = ndi.generate_binary_structure(ndim, conn)
        for it in (1, 3, 0, -1):
            for name in OPS:
                kw = {"iterations": it, "mask": m if it == 3 else None,
                      "border_value": 1 if it == 0 else 0}
                _same(getattr(mm, name)(x, s, **kw), getattr(ndi, name)(x, s, **kw))
        _same(mm.binary_fill_holes(x, s), ndi.binary_fill_holes(x, s))
        _same(mm.binary_propagation(x, s, mask=m), ndi.binary_propagation(x, s, mask=m))


def test_odd_structures_and_origins():
    x = _mask((17, 15), 0.5, 1)
    asym = np.array([[1, 1, 0], [0, 1, 0], [0, 1, 1]], bool)
    even = np.array([[1, 0], [1, 1]], bool)
    nocentre = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], bool)
    for s, origins in ((asym, (0, 1, (-1, 0))), (even, (0, -1, (0, -1))), (nocentre, (0,))):
        for o in origins:
            for name in OPS:
                for it in (1, 2):
                    _same(getattr(mm, name)(x, s, it, origin=o),
                          getattr(ndi, name)(x, s, it, origin=o))
    _same(mm.binary_hit_or_miss(x, asym, origin1=(0, 1)), ndi.binary_hit_or_miss(x, asym, origin1=(0, 1)))
    _same(mm.binary_hit_or_miss(x), ndi.binary_hit_or_miss(x))


def test_real_images():
    ct = sample_data.ct_volume((24, 48, 48)) if hasattr(sample_data, "ct_volume") else None
    from skimage import data
    coins = data.coins() > 100
    _same(mm.binary_fill_holes(coins), ndi.binary_fill_holes(coins))
    _same(mm.binary_opening(coins, iterations=2), ndi.binary_opening(coins, iterations=2))
    if ct is not None:
        f = np.asarray(ct) > np.quantile(ct, 0.7)
        _same(mm.binary_erosion(f), ndi.binary_erosion(f))
        _same(mm.binary_fill_holes(f), ndi.binary_fill_holes(f))


def test_dtypes_output_axes():
    x = (_mask((9, 8, 7), 0.5, 3) * np.arange(7)).astype(np.float32)
    _same(mm.binary_dilation(x), ndi.binary_dilation(x))
    out = np.zeros(x.shape, np.int16)
    assert mm.binary_erosion(x, output=out) is out
    assert np.array_equal(out, ndi.binary_erosion(x, output=np.zeros(x.shape, np.int16)))
    _same(mm.binary_erosion(x, axes=(1, 2)), ndi.binary_erosion(x, axes=(1, 2)))
    d = medkern.asarray(x > 0)
    r = mm.binary_closing(d)
    assert isinstance(r, medkern.DeviceArray)
    assert np.array_equal(medkern.asnumpy(r), ndi.binary_closing(x > 0))
    s = ndi.generate_binary_structure(2, 1)
    for k in (1, 2, 3):
        _same(mm.iterate_structure(s, k), ndi.iterate_structure(s, k))
    assert mm.generate_binary_structure is medkern.segmentation.generate_binary_structure


@pytest.mark.host
def test_bad_input():
    x = _mask((6, 6), 0.5, 0)
    with pytest.raises(ValueError, match="mask"):
        mm.binary_erosion(x, mask=np.ones((5, 5)))
    with pytest.raises(ValueError, match="structure"):
        mm.binary_dilation(x, np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="structure"):
        mm.binary_fill_holes(x, np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="structure"):
        mm.binary_erosion(x, np.ones((0, 3)))
    with pytest.raises(ValueError, match="origin"):
        mm.binary_erosion(x, origin=2)
    with pytest.raises(ValueError, match="origin"):
        mm.binary_dilation(x, np.ones((2, 2)), origin=1)
    with pytest.raises(TypeError, match="iterations"):
        mm.binary_erosion(x, iterations=1.5)
    with pytest.raises(TypeError, match="border_value"):
        mm.binary_erosion(x, border_value=0.5)
    with pytest.raises(TypeError, match="complex"):
        mm.binary_erosion(x.astype(complex))
    with pytest.raises(ValueError, match="output"):
        mm.binary_erosion(x, output=np.zeros((5, 6), bool))
    with pytest.raises(RuntimeError):  # ArgumentError is SciPy's RuntimeError too
        mm.binary_erosion(x, mask=np.ones((5, 5)))
