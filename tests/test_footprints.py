"""Footprints (medkern.morphology) against scikit-image 0.26's, and the mm-sized balls."""
import warnings

import numpy as np
import pytest
from skimage import morphology as skm

import medkern.morphology as mm
from medkern import Volume

pytestmark = pytest.mark.host  # numpy constants: no kernel runs


def _same(ours, ref):
    if isinstance(ref, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(ref)
        for (a, n), (b, m) in zip(ours, ref):
            assert n == m
            _same(a, b)
        return
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    np.testing.assert_array_equal(ours, ref)


def _quiet(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


@pytest.mark.parametrize("radius", (0, 1, 2, 3, 5, 8))
def test_round_footprints(radius):
    for name in ("disk", "diamond", "ball", "octahedron"):
        _same(getattr(mm, name)(radius), getattr(skm, name)(radius))
        _same(getattr(mm, name)(radius, dtype=bool), getattr(skm, name)(radius, dtype=bool))
    for strict in (True, False):
        _same(mm.disk(radius, strict_radius=strict), skm.disk(radius, strict_radius=strict))
        _same(mm.ball(radius, strict_radius=strict), skm.ball(radius, strict_radius=strict))
    if radius:
        _same(mm.diamond(radius, decomposition="sequence"),
              skm.diamond(radius, decomposition="sequence"))
        _same(mm.octahedron(radius, decomposition="sequence"),
              skm.octahedron(radius, decomposition="sequence"))
        _same(mm.disk(radius, decomposition="crosses"), skm.disk(radius, decomposition="crosses"))


@pytest.mark.parametrize("wh", ((0, 0), (1, 1), (2, 1), (3, 5), (7, 4), (10, 10)))
def test_ellipse(wh):
    _same(mm.ellipse(*wh), skm.ellipse(*wh))
    _same(mm.ellipse(*wh, dtype=np.float32), skm.ellipse(*wh, dtype=np.float32))
    if min(wh) > 0:
        _same(mm.ellipse(*wh, decomposition="crosses"), skm.ellipse(*wh, decomposition="crosses"))


@pytest.mark.parametrize("shape", ((1, 1), (3, 3), (3, 5), (4, 7), (5, 5, 9), (2, 3, 4)))
@pytest.mark.parametrize("decomposition", (None, "separable", "sequence"))
def test_rectangle(shape, decomposition):
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = mm.footprint_rectangle(shape, decomposition=decomposition)
    with warnings.catch_warnings(record=True) as ref_w:
        warnings.simplefilter("always")
        ref = skm.footprint_rectangle(shape, decomposition=decomposition)
    assert len(ours_w) == len(ref_w)  # the even-size fallback warns in both
    _same(ours, ref)


@pytest.mark.parametrize("width", (1, 2, 3, 4, 7))
def test_square_and_cube_deprecated_as_in_skimage(width):
    for name in ("square", "cube"):
        with pytest.warns(FutureWarning, match="footprint_rectangle"):
            ours = getattr(mm, name)(width)
        _same(ours, _quiet(getattr(skm, name), width))
        _same(_quiet(getattr(mm, name), width, decomposition="separable"),
              _quiet(getattr(skm, name), width, decomposition="separable"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="decomposition"):
        mm.disk(3, decomposition="bogus")
    with pytest.raises(NotImplementedError, match="decomposition"):
        mm.disk(3, decomposition="sequence")
    with pytest.raises(NotImplementedError, match="decomposition"):
        mm.ball(3, decomposition="sequence")
    with pytest.raises(ValueError, match="radius"):
        mm.disk(-1)
    with pytest.raises(TypeError, match="radius"):
        mm.ball(1.5)
    with pytest.raises(ValueError, match="spacing"):
        mm.ball_mm(2.0, (1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="spacing"):
        mm.ball_mm(2.0, (1.0,) * 4)
    with pytest.raises(ValueError, match="radius_mm"):
        mm.ball_mm(-1.0, (1.0, 1.0))
    with pytest.raises(ValueError, match="radii_mm"):
        mm.ellipsoid_mm((1.0, 2.0), (1.0, 1.0, 1.0))


@pytest.mark.parametrize("radius", (1, 2, 3, 6))
def test_ball_mm_on_unit_voxels_is_skimages(radius):
    np.testing.assert_array_equal(mm.ball_mm(float(radius), (1.0, 1.0, 1.0)),
                                  skm.ball(radius).astype(bool))
    np.testing.assert_array_equal(mm.ball_mm(float(radius), (1.0, 1.0)),
                                  skm.disk(radius).astype(bool))
    # scaled: radius r mm on voxels of s mm is the same as radius r/s voxels
    np.testing.assert_array_equal(mm.ball_mm(0.3 * radius, (0.3, 0.3, 0.3)),
                                  skm.ball(radius).astype(bool))


def test_ball_mm_anisotropic():
    spacing = (2.5, 0.8, 0.6)
    b = mm.ball_mm(5.0, spacing)
    assert b.dtype == bool and b.shape == (5, 13, 17)  # 2 * floor(5 / s) + 1
    assert all(n % 2 == 1 for n in b.shape)
    np.testing.assert_array_equal(b, b[::-1, ::-1, ::-1])  # centred, symmetric
    # inside <=> the voxel centre lies within 5 mm of the centre voxel's
    grid = np.indices(b.shape) - (np.array(b.shape) // 2).reshape(3, 1, 1, 1)
    mm_dist = np.sqrt(((grid * np.reshape(spacing, (3, 1, 1, 1))) ** 2).sum(0))
    np.testing.assert_array_equal(b, mm_dist <= 5.0 + 1e-9)
    # a Volume, or its spacing
    vol = Volume(np.zeros((4, 4, 4)), spacing=spacing)
    np.testing.assert_array_equal(mm.ball_mm(5.0, vol), b)
    np.testing.assert_array_equal(mm.ball_mm(5.0, vol.spacing), b)


def test_ellipsoid_mm():
    e = mm.ellipsoid_mm((4.0, 2.0, 1.0), (1.0, 1.0, 0.5))
    assert e.shape == (9, 5, 5) and e[4, 2, 2]
    assert e[0, 2, 2] and e[8, 2, 2] and e[4, 0, 2] and e[4, 2, 0]  # surface included
    assert not e[0, 0, 0]
    np.testing.assert_array_equal(mm.ellipsoid_mm(2.0, (1.0, 1.0)),
                                  skm.disk(2).astype(bool))
