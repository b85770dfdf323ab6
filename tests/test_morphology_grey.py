"""Grey morphology vs scipy.ndimage: dtypes, modes, flat and non-flat elements, bad input."""
import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.morphology as mm

NAMES = ("grey_erosion", "grey_dilation", "grey_opening", "grey_closing",
         "morphological_gradient", "morphological_laplace", "white_tophat", "black_tophat")


def _img(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    lo = 0 if np.dtype(dtype).kind == "u" else -100
    return (rng.random(shape) * 200 + lo).astype(dtype)


MODES = (("reflect", 0), ("constant", 1), ("nearest", -1), ("wrap", 0), ("mirror", 0))
# the default run: two modes per kind of element, rotating, so every mode and every kind
# runs in each case without compiling the whole product (kernels are per mode and dtype)
DEFAULT = [("float32", 2), ("int16", 3), ("uint8", 2)]
FULL = [(d, n) for d in ("uint8", "int16", "float32") for n in (2, 3)]


def _parity(dtype, ndim, every_mode):
    shape = (21, 17) if ndim == 2 else (9, 11, 8)
    x = _img(shape, dtype, ndim)
    fp = np.random.default_rng(1).random((3,) * ndim) < 0.6
    fp[(1,) * ndim] = True
    st = np.random.default_rng(2).integers(0, 3, size=(3,) * ndim).astype(float)
    # the structure has negative values too: integer sums wrap around as in SciPy's C loop
    kinds = [{"size": 3}, {"size": (2,) * ndim}, {"footprint": fp}, {"structure": st - 1.5}]
    for k, kw in enumerate(kinds):
        modes = MODES if every_mode else (MODES[k % 5], MODES[(k + 2 + ndim) % 5])
        for mode, origin in modes:
            if origin == 1 and kw.get("size") == (2,) * ndim:
                origin = -1  # outside an even element: SciPy refuses it too
            for name in NAMES:
                a = getattr(mm, name)(x, mode=mode, cval=3.0, origin=origin, **kw)
                b = getattr(ndi, name)(x, mode=mode, cval=3.0, origin=origin, **kw)
                assert a.dtype == b.dtype and np.array_equal(a, b), (name, kw, mode)


@pytest.mark.parametrize("dtype,ndim", DEFAULT)
def test_parity(dtype, ndim):
    _parity(dtype, ndim, False)


@pytest.mark.slow
@pytest.mark.parametrize("dtype,ndim", FULL)
def test_parity_every_mode(dtype, ndim):
    _parity(dtype, ndim, True)


def test_structure_wraps_and_bool():
    # SciPy's C loop: the first tap in float64, the others in the input type (wrapping)
    rng = np.random.default_rng(0)
    st = rng.integers(-300, 300, (3, 3)) + 0.5
    for dtype in ("uint8", "int8"):
        x = rng.integers(0, 100, (12, 10)).astype(dtype)
        for name in ("grey_erosion", "grey_dilation"):
            a, b = getattr(mm, name)(x, structure=st), getattr(ndi, name)(x, structure=st)
            assert a.dtype == b.dtype and np.array_equal(a, b), (dtype, name)
    # bool input with a structure of ones (SciPy's test_white_tophat03)
    x = rng.random((7, 7)) < 0.6
    s = np.ones((3, 3), bool)
    for name in ("grey_erosion", "grey_dilation", "grey_opening", "white_tophat"):
        a, b = getattr(mm, name)(x, structure=s), getattr(ndi, name)(x, structure=s)
        assert a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8)), name


def test_structure_in_bounded_launches(monkeypatch):
    """A structure's taps are a run-time loop per element: on GPUs a thread of a grid-stride
    loop runs several elements, and Mesa's software Vulkan ends its loops after 65535
    iterations. The launches are bounded: here at a tiny scale, on every arch (a
    60-iteration budget, 64-thread grid-stride loops)."""
    from medkern import runtime
    from medkern.kernels import dsl
    monkeypatch.setattr(runtime, "serial_budget", lambda: 60)
    monkeypatch.setattr(dsl, "GRID_THREADS", 64)
    rng = np.random.default_rng(3)
    x = rng.random((23, 31))
    st = rng.random((5, 7))
    for name in ("grey_erosion", "grey_dilation"):
        np.testing.assert_array_equal(getattr(mm, name)(x, structure=st),
                                      getattr(ndi, name)(x, structure=st), name)


def test_device_and_real_image():
    from skimage import data
    cam = data.camera()[::4, ::4]
    d = medkern.asarray(cam)
    for name in NAMES:
        r = getattr(mm, name)(d, size=(3, 3))
        assert isinstance(r, medkern.DeviceArray)
        assert np.array_equal(medkern.asnumpy(r), getattr(ndi, name)(cam, size=(3, 3))), name


@pytest.mark.host
def test_bad_input():
    x = _img((6, 6), "uint8", 0)
    with pytest.raises(ValueError, match="size, footprint, or structure"):
        mm.grey_erosion(x)
    with pytest.raises(ValueError, match="origin"):
        mm.grey_erosion(x, structure=np.ones((3, 3)), origin=2)
    with pytest.raises(ValueError, match="structure"):
        mm.grey_erosion(x, structure=np.ones((3,)), footprint=np.ones((3, 3)))
    with pytest.raises(TypeError, match="complex"):
        mm.grey_dilation(x.astype(complex), size=3)
