"""SciPy's error contract and empty-array behaviour, as SciPy's own tests check them.

``scipy/ndimage/tests/test_filters.py`` expects ``RuntimeError`` (with its message
text) for some bad arguments, ``ValueError``/``TypeError`` for others, and an empty
result for an empty input. medkern raises :class:`medkern.ArgumentError` -- both a
``ValueError`` (medkern's rule for bad values) and a ``RuntimeError`` (SciPy's) whose
message contains SciPy's phrase -- and returns empty results from every filter.
Each case runs through SciPy too, so the phrases stay SciPy's.
"""
import re

import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.filters as mf

# argument checks and empty results (no kernel runs): the Vulkan run leaves them to the CPU run
pytestmark = pytest.mark.host

X2 = np.arange(30, dtype=np.float64).reshape(5, 6)
X3 = np.arange(4 * 5 * 6, dtype=np.float64).reshape(4, 5, 6)
NONSEP2 = np.array([[1, 0, 1], [1, 1, 0]], bool)      # a non-separable 2-D footprint
NONSEP3 = np.ones((3, 3, 3), bool)
NONSEP3[0, 0, 0] = False

# every public filter, with arguments valid for 1-D and 2-D input
FILTERS = {
    "correlate1d": lambda f, x, **k: f.correlate1d(x, [1.0, 2.0], **k),
    "convolve1d": lambda f, x, **k: f.convolve1d(x, [1.0, 2.0], **k),
    "correlate": lambda f, x, **k: f.correlate(x, np.ones((2,) * x.ndim), **k),
    "convolve": lambda f, x, **k: f.convolve(x, np.ones((2,) * x.ndim), **k),
    "gaussian_filter1d": lambda f, x, **k: f.gaussian_filter1d(x, 1.0, **k),
    "gaussian_filter": lambda f, x, **k: f.gaussian_filter(x, 1.0, **k),
    "uniform_filter1d": lambda f, x, **k: f.uniform_filter1d(x, 3, **k),
    "uniform_filter": lambda f, x, **k: f.uniform_filter(x, 3, **k),
    "minimum_filter1d": lambda f, x, **k: f.minimum_filter1d(x, 3, **k),
    "maximum_filter1d": lambda f, x, **k: f.maximum_filter1d(x, 3, **k),
    "minimum_filter": lambda f, x, **k: f.minimum_filter(x, 3, **k),
    "maximum_filter": lambda f, x, **k: f.maximum_filter(x, 3, **k),
    "median_filter": lambda f, x, **k: f.median_filter(x, 3, **k),
    "rank_filter": lambda f, x, **k: f.rank_filter(x, 1, 3, **k),
    "percentile_filter": lambda f, x, **k: f.percentile_filter(x, 30, 3, **k),
    "sobel": lambda f, x, **k: f.sobel(x, **k),
    "prewitt": lambda f, x, **k: f.prewitt(x, **k),
    "laplace": lambda f, x, **k: f.laplace(x, **k),
    "gaussian_laplace": lambda f, x, **k: f.gaussian_laplace(x, 1.0, **k),
    "gaussian_gradient_magnitude": lambda f, x, **k: f.gaussian_gradient_magnitude(x, 1.0, **k),
    "generic_filter": lambda f, x, **k: f.generic_filter(x, np.max, 3, **k),
}


def test_every_filter_is_covered():
    assert set(FILTERS) == set(mf.__all__) - {"gaussian_kernel1d"}


# --------------------------------------------------------------------------- empty arrays
@pytest.mark.parametrize("shape", [(0,), (0, 4), (3, 0)], ids=str)
@pytest.mark.parametrize("name", sorted(FILTERS))
def test_empty_input_gives_scipys_empty_result(name, shape):
    for dtype in (np.float64, np.uint8):
        x = np.zeros(shape, dtype)
        for output in (None, np.float32):
            ours = FILTERS[name](mf, x, output=output)
            ref = FILTERS[name](ndi, x, output=output)
            assert isinstance(ours, np.ndarray)
            assert ours.shape == ref.shape == shape
            assert ours.dtype == ref.dtype, (dtype, output)
        out = np.zeros(shape, np.int16)
        assert FILTERS[name](mf, x, output=out) is out


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_empty_device_array_gives_empty_device_array(name):
    d = medkern.asarray(np.zeros((0, 3), np.float32))
    result = FILTERS[name](mf, d)
    assert isinstance(result, medkern.DeviceArray)
    assert result.shape == (0, 3) and result.dtype == np.float32
    assert medkern.asnumpy(result).shape == (0, 3)


def test_empty_input_still_checks_the_arguments():
    e = np.zeros((0, 4))
    with pytest.raises(ValueError, match="sigma"):
        mf.gaussian_filter(e, -1.0)
    with pytest.raises(RuntimeError, match=re.escape("weights.ndim (1) must match len(axes) (2)")):
        mf.correlate(e, np.ones(3))
    with pytest.raises(ValueError, match="output"):
        mf.uniform_filter(e, 3, output=np.zeros((4, 0)))


def test_scipy_empty_examples():
    """test_correlate09, test_correlate10 and test_uniform05 of SciPy's suite."""
    a = np.asarray([])
    for f in (mf.correlate, mf.convolve, mf.correlate1d, mf.convolve1d):
        np.testing.assert_array_equal(f(a, np.asarray([1, 1])), a)
    a2 = np.asarray([[]])
    for f in (mf.correlate, mf.convolve):
        np.testing.assert_array_equal(f(a2, np.asarray([[1, 1]])), a2)
    np.testing.assert_array_equal(mf.uniform_filter(a, [1]), a)


# --------------------------------------------------------------------------- RuntimeError cases
SEQ = "sequence argument must have length equal to input rank"
MODE_SEQ = "A sequence of modes is not supported"
W2 = np.ones((5, 5))

#: (id, call(lib), phrase in both libraries' messages, or None where SciPy words it otherwise)
RUNTIME_CASES = [
    # sequences of the wrong length (test_filter_tuple_length_mismatch)
    ("gaussian-sigma", lambda f: f.gaussian_filter(X3, (1.0,) * 3, axes=(0, 1)), SEQ),
    ("gaussian-order", lambda f: f.gaussian_filter(X3, 1.0, order=(0,), axes=(0, 1)), SEQ),
    ("gaussian-mode", lambda f: f.gaussian_filter(X3, 1.0, mode=("constant",), axes=(0, 1)), SEQ),
    ("gaussian-radius", lambda f: f.gaussian_filter(X3, 1.0, radius=(3,) * 3, axes=(0, 1)), SEQ),
    ("uniform-size", lambda f: f.uniform_filter(X3, (3,), axes=(0, 1)), SEQ),
    ("uniform-origin", lambda f: f.uniform_filter(X3, 3, origin=(0,) * 3, axes=(0, 1)), SEQ),
    ("minimum-size", lambda f: f.minimum_filter(X3, (3,) * 3, axes=(0, 1)), SEQ),
    ("maximum-mode", lambda f: f.maximum_filter(X3, 3, mode=("constant",), axes=(0, 1)), SEQ),
    ("maximum-origin", lambda f: f.maximum_filter(X3, 3, origin=(0,), axes=(0, 1)), SEQ),
    ("correlate-origin", lambda f: f.correlate(X3, W2, origin=(0,), axes=(0, 1)), SEQ),
    ("convolve-origin", lambda f: f.convolve(X3, W2, origin=(0,) * 3, axes=(0, 1)), SEQ),
    ("gradient-sigma", lambda f: f.gaussian_gradient_magnitude(X3, [1.0], axes=(1,)), SEQ),
    # footprint / weights dimensions (test_filter_invalid_footprint_ndim)
    ("median-footprint", lambda f: f.median_filter(X3, footprint=NONSEP3, axes=(1, 2)),
     "footprint.ndim (3) must match len(axes) (2)"),
    ("rank-footprint", lambda f: f.rank_filter(X3, 3, footprint=NONSEP3, axes=(1, 2)),
     "footprint.ndim (3) must match len(axes) (2)"),
    ("percentile-footprint", lambda f: f.percentile_filter(X3, 30, footprint=NONSEP3, axes=(0, 2)),
     "footprint.ndim (3) must match len(axes) (2)"),
    ("minimum-footprint", lambda f: f.minimum_filter(X3, footprint=NONSEP3, axes=(1, 2)),
     "footprint.ndim (3) must match len(axes) (2)"),
    ("generic-footprint", lambda f: f.generic_filter(X3, np.max, footprint=NONSEP3, axes=(1, 2)),
     "footprint.ndim (3) must match len(axes) (2)"),
    ("maximum-box-footprint", lambda f: f.maximum_filter(X3, footprint=np.ones((3,) * 3),
                                                         axes=(1, 2)), SEQ),
    ("minimum-box-footprint", lambda f: f.minimum_filter(X3, footprint=np.ones((3,) * 2),
                                                         axes=(1,)), SEQ),
    ("correlate-weights", lambda f: f.correlate(X3, np.ones((3,) * 3), axes=(0, 1)),
     "weights.ndim (3) must match len(axes) (2)"),
    ("convolve-weights", lambda f: f.convolve(X3, np.ones((3,) * 3), axes=(0,)),
     "weights.ndim (3) must match len(axes) (1)"),
    ("correlate1d-no-weights", lambda f: f.correlate1d(X2, []), "no filter weights given"),
    # mode sequences where one mode is taken (test_correlate_mode_sequence,
    # test_minimum_filter07, test_maximum_filter07, test_rank08)
    ("correlate-modes", lambda f: f.correlate(X2, np.ones((2, 2)), mode=["nearest", "reflect"]),
     MODE_SEQ),
    ("convolve-modes", lambda f: f.convolve(X2, np.ones((2, 2)), mode=["nearest", "reflect"]),
     MODE_SEQ),
    ("minimum-footprint-modes", lambda f: f.minimum_filter(X2, footprint=NONSEP2,
                                                           mode=["reflect", "constant"]), MODE_SEQ),
    ("maximum-footprint-modes", lambda f: f.maximum_filter(X2, footprint=NONSEP2,
                                                           mode=["reflect", "reflect"]), MODE_SEQ),
    ("percentile-modes", lambda f: f.percentile_filter(X2, 50.0, size=(2, 3),
                                                       mode=["reflect", "constant"]), MODE_SEQ),
    ("rank-modes", lambda f: f.rank_filter(X2, 3, size=(2, 3), mode=["reflect"] * 2), MODE_SEQ),
    ("median-modes", lambda f: f.median_filter(X2, size=(2, 3), mode=["reflect"] * 2), MODE_SEQ),
    ("generic-modes", lambda f: f.generic_filter(X2, np.max, size=3, mode=["reflect"] * 2), None),
    ("correlate1d-modes", lambda f: f.correlate1d(X2, [1.0, 2.0], mode=["reflect"]), None),
    # unknown modes, sizes below 1, ranks outside the footprint, missing size, output shape
    ("unknown-mode", lambda f: f.gaussian_filter(X2, 1.0, mode="bogus"),
     "boundary mode not supported"),
    ("uniform1d-size", lambda f: f.uniform_filter1d(X2, 0), "incorrect filter size"),
    ("minimum1d-size", lambda f: f.minimum_filter1d(X2, 0), "incorrect filter size"),
    ("maximum1d-size", lambda f: f.maximum_filter1d(X2, -2), "incorrect filter size"),
    ("rank-outside", lambda f: f.rank_filter(X2, 9, size=3),
     "rank not within filter footprint size"),
    ("percentile-outside", lambda f: f.percentile_filter(X2, 101, size=3), "invalid percentile"),
    ("no-size-minimum", lambda f: f.minimum_filter(X2), "no footprint provided"),
    ("no-size-median", lambda f: f.median_filter(X2), None),
    ("output-shape", lambda f: f.gaussian_filter(X2, 1.0, output=np.zeros((3, 3))),
     "output shape not correct"),
]


@pytest.mark.parametrize("call, phrase", [c[1:] for c in RUNTIME_CASES],
                         ids=[c[0] for c in RUNTIME_CASES])
def test_runtime_error_cases(call, phrase):
    before = X3.copy(), X2.copy()
    with pytest.raises(RuntimeError, match=None if phrase is None else re.escape(phrase)):
        call(ndi)  # SciPy's contract: RuntimeError, with this phrase
    with pytest.raises(medkern.ArgumentError) as info:
        call(mf)
    err = info.value
    assert isinstance(err, RuntimeError) and isinstance(err, ValueError)
    if phrase is not None:
        assert re.search(re.escape(phrase), str(err)), str(err)
    np.testing.assert_array_equal(X3, before[0])
    np.testing.assert_array_equal(X2, before[1])


# --------------------------------------------------------------------------- other classes
OTHER_CASES = [
    # test_filter_axes, test_derivative_filter_axes, test_generic_filter_axes
    ("axes-unique", lambda f: f.uniform_filter(X3, 3, axes=(1, -2)), ValueError,
     "axes must be unique"),
    ("axes-unique-laplace", lambda f: f.laplace(X3, axes=(1, 1)), ValueError,
     "axes must be unique"),
    ("axes-unique-generic", lambda f: f.generic_filter(X3, np.amax, size=3, axes=(0, 0)),
     ValueError, "axes must be unique"),
    # test_filter_invalid_axes
    ("axes-float", lambda f: f.median_filter(X3, 3, axes=(1.5,)), TypeError,
     "cannot be interpreted as an integer"),
    ("axes-float-correlate", lambda f: f.correlate(X3, np.ones((3, 3, 3)), axes=(1.5,)), TypeError,
     "cannot be interpreted as an integer"),
    ("axes-too-many", lambda f: f.gaussian_filter(X3, 1.0, axes=(0, 1, 2, 3)), ValueError,
     "out of range"),
    ("axes-negative", lambda f: f.percentile_filter(X3, 30, 3, axes=(-4,)), ValueError,
     "out of range"),
    # test_gaussian_radius_invalid
    ("radius-negative", lambda f: f.gaussian_filter1d(np.zeros(8), 1.0, radius=-1), ValueError,
     None),
    ("radius-float", lambda f: f.gaussian_filter1d(np.zeros(8), 1.0, radius=1.1), ValueError,
     None),
]


@pytest.mark.parametrize("call, exc, phrase", [c[1:] for c in OTHER_CASES],
                         ids=[c[0] for c in OTHER_CASES])
def test_value_and_type_error_cases(call, exc, phrase):
    match = None if phrase is None else re.escape(phrase)
    with pytest.raises(exc, match=match):
        call(ndi)
    with pytest.raises(exc, match=match) as info:
        call(mf)
    assert not isinstance(info.value, RuntimeError)  # SciPy raises no RuntimeError here


@pytest.mark.parametrize("size", [0, [0], [0, 3], [3, 0], [1, 0]], ids=str)
def test_uniform_filter_skips_sizes_below_two(size):
    """test_uniform02: SciPy skips axes whose size is 0 or 1."""
    x = X2 if np.ndim(size) == 0 or len(size) == 2 else np.array([1, 2, 3])
    # float64 within the registry's tolerance: Mesa's Vulkan divides 1 ulp off
    np.testing.assert_allclose(mf.uniform_filter(x, size), ndi.uniform_filter(x, size),
                               rtol=1e-10, atol=0)


@pytest.mark.parametrize("name", ["uniform_filter", "minimum_filter", "maximum_filter"])
@pytest.mark.parametrize("size", [0, (0, 3), (2, 0)])
def test_size_zero_axis_is_skipped(name, size):
    """SciPy leaves axes of size 0 (or 1) unfiltered in these separable filters."""
    x = np.arange(20.0).reshape(4, 5)
    origin = 0 if size == 0 else (0, 1)
    # min/max select values: exact; the mean within float64's tolerance (Mesa's Vulkan
    # divides 1 ulp off)
    np.testing.assert_allclose(getattr(mf, name)(x, size=size, origin=origin),
                               getattr(ndi, name)(x, size=size, origin=origin),
                               rtol=1e-10 if name == "uniform_filter" else 0, atol=0)
