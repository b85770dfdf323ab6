"""Binary morphology vs scipy.ndimage: random masks (densities 0.1-0.9), real images,
every connectivity, odd structures, iterations, masks, border values, bad input.

Kernel specialisations are what the default run pays for (a binary step is compiled per
structure, direction, input dtype, mask and in-place variant): the default tests reuse
the structures of the registry's parity cases (the face connectivity and the full box)
and vary the data instead; extra structures and dtypes run under ``exhaustive`` (CPU
arch), the random sweep under ``slow``.
"""
import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.morphology as mm

OPS = ("binary_erosion", "binary_dilation", "binary_opening", "binary_closing")


def _mask(shape, density, seed):
    return np.random.default_rng(seed).random(shape) < density


def _same(a, b, *info):
    a = medkern.asnumpy(a) if isinstance(a, medkern.DeviceArray) else np.asarray(a)
    assert a.dtype == np.asarray(b).dtype and np.array_equal(a, b), info


def _sweep(x, s, m):
    for it in (1, 3, 0, -1):
        for name in OPS:
            kw = {"iterations": it, "mask": m if it in (3, -1) else None,
                  "border_value": 1 if it == 0 else 0}
            _same(getattr(mm, name)(x, s, **kw), getattr(ndi, name)(x, s, **kw), name, kw)
    _same(mm.binary_fill_holes(x, s), ndi.binary_fill_holes(x, s), "fill_holes")
    _same(mm.binary_propagation(x, s, mask=m), ndi.binary_propagation(x, s, mask=m), "prop")


@pytest.mark.parametrize("ndim,conn", [(2, 1), (2, 2), (3, 1), (3, 3),
                                       pytest.param(3, 2, marks=pytest.mark.exhaustive)])
def test_connectivities_iterations(ndim, conn):
    shape = (23, 19) if ndim == 2 else (11, 9, 13)
    s = ndi.generate_binary_structure(ndim, conn)
    m = _mask(shape, 0.7, 5)
    # the data varies, the kernels are the same
    for density in ((0.1, 0.5, 0.9) if ndim == 2 else (0.3, 0.7)):
        _sweep(_mask(shape, density, int(density * 10) + ndim), s, m)


def test_odd_structures_and_origins():
    x = _mask((17, 15), 0.5, 1)
    asym = np.array([[1, 1, 0], [0, 1, 0], [0, 1, 1]], bool)
    even = np.array([[1, 0], [1, 1]], bool)
    nocentre = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], bool)
    for s, o in ((asym, (-1, 0)), (even, (0, -1)), (nocentre, 0)):
        for name in OPS:
            for it in (1, 2, -1):
                _same(getattr(mm, name)(x, s, it, origin=o),
                      getattr(ndi, name)(x, s, it, origin=o), name, it, o)
    _same(mm.binary_fill_holes(x, asym), ndi.binary_fill_holes(x, asym))
    _same(mm.binary_hit_or_miss(x, asym, origin1=(0, 1)),
          ndi.binary_hit_or_miss(x, asym, origin1=(0, 1)))
    _same(mm.binary_hit_or_miss(x), ndi.binary_hit_or_miss(x))


@pytest.mark.exhaustive
def test_more_origins():
    x = _mask((17, 15), 0.5, 1)
    asym = np.array([[1, 1, 0], [0, 1, 0], [0, 1, 1]], bool)
    even = np.array([[1, 0], [1, 1]], bool)
    for s, origins in ((asym, (0, 1)), (even, (0, -1))):
        for o in origins:
            for name in OPS:
                for it in (1, 2):
                    _same(getattr(mm, name)(x, s, it, origin=o),
                          getattr(ndi, name)(x, s, it, origin=o), name, it, o)


# fill_holes with asymmetric structures: cases a long random run reported as different
# from SciPy (not reproduced since; kept as regression cases with the structures of that
# run's kind: 3 x ... x 3, centre set)
FILL_CASES = [((6,), 1), ((6, 6), 2), ((9, 9, 5), 3), ((7, 9, 8), 4)]


@pytest.mark.parametrize("shape,seed", FILL_CASES)
def test_fill_holes_asymmetric(shape, seed):
    rng = np.random.default_rng(seed)
    nd = len(shape)
    s = np.ones((3,) * nd, bool) if nd == 3 else rng.random((3,) * nd) < 0.6
    s[(1,) * nd] = True
    for density in (0.3, 0.6, 0.8):
        x = rng.random(shape) < density
        _same(mm.binary_fill_holes(x, s), ndi.binary_fill_holes(x, s), density)
    # a hole in the middle of a ring, and a background touching the border
    x = np.ones(shape, bool)
    x[(slice(1, -1),) * nd] = False
    x[(slice(2, -2),) * nd] = True
    x[(2,) * nd] = False
    _same(mm.binary_fill_holes(x, s), ndi.binary_fill_holes(x, s), "ring")


def test_real_images():
    from skimage import data
    coins = data.coins()[::2, ::2] > 100
    _same(mm.binary_fill_holes(coins), ndi.binary_fill_holes(coins))
    _same(mm.binary_opening(coins, iterations=2), ndi.binary_opening(coins, iterations=2))


def test_dtypes_output_axes():
    x = (_mask((9, 8, 7), 0.5, 3) * np.arange(7)).astype(np.float32)
    _same(mm.binary_dilation(x), ndi.binary_dilation(x))
    out = np.zeros(x.shape, np.int16)
    assert mm.binary_erosion(x > 0, output=out) is out
    assert np.array_equal(out, ndi.binary_erosion(x > 0, output=np.zeros(x.shape, np.int16)))
    _same(mm.binary_erosion(x > 0, axes=(1, 2)), ndi.binary_erosion(x > 0, axes=(1, 2)))
    d = medkern.asarray(x > 0)
    r = mm.binary_closing(d)
    assert isinstance(r, medkern.DeviceArray)
    assert np.array_equal(medkern.asnumpy(r), ndi.binary_closing(x > 0))
    s = ndi.generate_binary_structure(2, 1)
    for k in (1, 2, 3):
        _same(mm.iterate_structure(s, k), ndi.iterate_structure(s, k))
    assert mm.generate_binary_structure is medkern.segmentation.generate_binary_structure


def test_large_structures_in_bounded_launches(monkeypatch):
    """A structure of more than 64 taps loops over a tap table; on GPUs every element is a
    thread of a grid-stride loop, and Mesa's software Vulkan ends a thread's loops after
    65535 iterations (at 256^3 a thread's 128 elements of a 515-tap ball). Those launches
    are bounded: here at a tiny scale, in the GPU layout, on every arch (a 60-iteration
    budget, 64-thread grid-stride loops)."""
    from medkern import runtime
    from medkern.kernels import dsl, morph
    monkeypatch.setattr(runtime, "serial_budget", lambda: 60)
    monkeypatch.setattr(dsl, "GRID_THREADS", 64)
    monkeypatch.setattr(morph, "rows_layout", lambda: False)
    x = _mask((23, 31), 0.6, 4)
    st = np.ones((9, 9), bool)
    st[0, 0] = False  # 80 taps
    m = _mask((23, 31), 0.7, 5)
    for name in ("binary_erosion", "binary_dilation"):
        for kw in ({}, {"iterations": 2}, {"iterations": 0, "mask": m}, {"border_value": 1}):
            _same(getattr(mm, name)(x, st, **kw), getattr(ndi, name)(x, st, **kw), name)


@pytest.mark.exhaustive
@pytest.mark.parametrize("dtype", ["uint8", "int16", "float64"])
def test_dtypes(dtype):
    x = (_mask((9, 8, 7), 0.5, 3) * np.arange(-3, 4)).astype(dtype)
    for name in OPS:
        _same(getattr(mm, name)(x, iterations=2), getattr(ndi, name)(x, iterations=2), name)
    _same(mm.binary_fill_holes(x), ndi.binary_fill_holes(x))


@pytest.mark.slow
def test_random_sweep():
    rng = np.random.default_rng(1)
    for _ in range(150):
        nd = int(rng.integers(1, 4))
        shape = tuple(int(v) for v in rng.integers(5, 10, size=nd))
        x = rng.random(shape) < rng.uniform(0.1, 0.9)
        if rng.random() < 0.3:
            x = (x * rng.integers(-3, 4, size=shape)).astype(
                rng.choice([np.float32, np.int16, np.uint8]))
        k = int(rng.choice([2, 3, 3, 4]))
        s = rng.random((k,) * nd) < 0.6
        if rng.random() < 0.6:
            s[(k // 2,) * nd] = True
        if not s.any():
            s[(0,) * nd] = True
        it = int(rng.choice([1, 2, 3, 0, -1]))
        bv = int(rng.integers(0, 2))
        m = None if rng.random() < 0.5 else rng.random(shape) < 0.7
        o = int(rng.integers(-(k // 2), (k - 1) // 2 + 1))
        for name in OPS:
            try:
                b = getattr(ndi, name)(x, s, it, mask=m, border_value=bv, origin=o)
            except (ValueError, RuntimeError):
                with pytest.raises((ValueError, RuntimeError)):
                    getattr(mm, name)(x, s, it, mask=m, border_value=bv, origin=o)
                continue
            _same(getattr(mm, name)(x, s, it, mask=m, border_value=bv, origin=o), b,
                  name, shape, s.astype(int).tolist(), it, bv, o)
        if k == 3 and s[(1,) * nd]:
            _same(mm.binary_fill_holes(x, s), ndi.binary_fill_holes(x, s), "fill", shape)
            _same(mm.binary_propagation(x, s, mask=m), ndi.binary_propagation(x, s, mask=m))
            _same(mm.binary_hit_or_miss(x, s, origin1=o), ndi.binary_hit_or_miss(x, s, origin1=o))


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
