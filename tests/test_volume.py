"""A Volume goes through every registered algorithm and keeps its geometry."""
import numpy as np
import pytest

import medkern
from medkern import Volume, registry
from medkern.sample_data import random_image

GEOMETRY = dict(spacing=(2.5, 0.8, 0.6), origin=(-10.0, 20.5, 3.0),
                direction=[[1, 0, 0], [0, 0, 1], [0, -1, 0]], series_uid="1.2.3", modality="CT")


@pytest.mark.parametrize("name", [a.name for a in registry.algorithms()])
def test_volume_in_volume_out(name):
    alg = registry.get(name)
    kwargs = alg.arguments(alg.cases[0], (6, 7, 8), seed=3)
    x = random_image((6, 7, 8), "float32", seed=3)
    vol = Volume(x.copy(), **GEOMETRY)
    out = alg.func(vol, **kwargs)
    plain = alg.func(x, **kwargs)
    if alg.area == "interpolation" and name not in ("spline_filter", "spline_filter1d"):
        # resampling: a Volume on the sampled grid (tests/test_interpolation.py checks the
        # geometry), or the plain array where the samples form no grid (map_coordinates...)
        if isinstance(out, Volume):
            assert out.series_uid not in (None, "1.2.3") and out.derived_from == "1.2.3"
            assert out.modality == "CT"
            out = out.array
        else:
            assert name in ("map_coordinates", "geometric_transform"), name
        np.testing.assert_array_equal(out, plain)
    elif alg.area != "measurements":
        assert isinstance(out, Volume)
        assert out.spacing == vol.spacing and out.origin == vol.origin
        np.testing.assert_array_equal(out.direction, vol.direction)
        # a result is a new (derived) series on the same grid
        assert out.series_uid not in (None, "1.2.3") and out.derived_from == "1.2.3"
        assert out.modality == "CT"
        np.testing.assert_array_equal(out.array, plain)
    else:  # measurements give scalars/histograms/tuples, not images
        assert alg.error(out, plain) == 0
    np.testing.assert_array_equal(vol.array, x)  # not mutated


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
