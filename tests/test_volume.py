"""A Volume goes through every registered algorithm and keeps its geometry."""
import numpy as np
import pytest

import medkern
from medkern import Volume, registry
from medkern.sample_data import random_image

GEOMETRY = dict(spacing=(2.5, 0.8, 0.6), origin=(-10.0, 20.5, 3.0),
                direction=[[1, 0, 0], [0, 0, 1], [0, -1, 0]], series_uid="1.2.3", modality="CT")


def _pairs(ours, plain):
    """(ours, plain) pairs of the array parts of a result (an array, or a tuple holding
    arrays and scalars, as label's (labels, n)) and the non-array parts."""
    if isinstance(plain, tuple) and isinstance(ours, tuple) and len(ours) == len(plain):
        return list(zip(ours, plain))
    return [(ours, plain)]


@pytest.mark.parametrize("name", [a.name for a in registry.algorithms()])
def test_volume_in_volume_out(name):
    """A Volume in: every image result is a Volume (same grid unless the algorithm
    resamples), a derived series; scalars and tables are what the array gives."""
    alg = registry.get(name)
    shape = (6, 7, 8)
    kwargs = next(k for k in (alg.arguments(c, shape, seed=3) for c in alg.cases) if k is not None)
    x = alg.make(shape, "float32" if "float32" in alg.dtypes else alg.dtypes[0], seed=3)
    vol = Volume(x.copy(), **GEOMETRY)
    out = alg.func(vol, **kwargs)
    plain = alg.func(x, **kwargs)
    images = 0
    for ours, ref in _pairs(out, plain):
        if isinstance(ref, np.ndarray) and ref.ndim == x.ndim and alg.grid != "none":
            images += 1
            assert isinstance(ours, Volume), type(ours)
            if alg.grid == "same":  # resampled grids: the area's tests check them
                assert out_grid(ours) == out_grid(vol)
            # a result is a new (derived) series
            assert ours.series_uid not in (None, "1.2.3") and ours.derived_from == "1.2.3"
            assert ours.modality == "CT"
            np.testing.assert_array_equal(ours.array, ref)
        else:  # scalars/histograms/tuples of numbers, samples on no grid: as for the array
            assert not isinstance(ours, Volume)
            assert alg.error(ours, ref) == 0 if alg.compare_result else np.array_equal(ours, ref)
    if alg.area == "filters":
        assert images == 1
    np.testing.assert_array_equal(vol.array, x)  # not mutated


def out_grid(vol):
    return (vol.spacing, vol.origin, np.asarray(vol.direction).tolist())


def test_volume_holding_a_device_array_stays_on_the_device():
    import medkern.filters as mf
    x = random_image((6, 7, 8), "float32", seed=4)
    vol = Volume(medkern.asarray(x), **GEOMETRY)
    out = mf.sobel(mf.gaussian_filter(vol, 1.0), axis=0)
    assert isinstance(out, Volume) and isinstance(out.array, medkern.DeviceArray)
    np.testing.assert_allclose(medkern.asnumpy(out.array),
                               mf.sobel(mf.gaussian_filter(x, 1.0), axis=0), rtol=1e-6)


def test_volume_checks_its_geometry():
    with pytest.raises(ValueError, match="spacing"):
        Volume(np.zeros((2, 3, 4)), spacing=(1.0, 1.0))
    with pytest.raises(ValueError, match="spacing"):
        Volume(np.zeros((2, 3)), spacing=(1.0, -1.0))
    with pytest.raises(ValueError, match="origin"):
        Volume(np.zeros((2, 3)), spacing=(1.0, 1.0), origin=(0.0, 0.0))
