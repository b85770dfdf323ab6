"""Complex input and complex weights in the linear filters, against ``scipy.ndimage``.

The registry's parity tests run every linear filter on complex64/complex128 images
(``registry.COMPLEX_DTYPES``) and correlate/convolve with complex weights; here: every
pairing of complex/real input and weights, complex ``cval``, SciPy's ``output=`` rules
for a complex result and the errors. Results are built from medkern's real kernels on
the parts in SciPy's order, so they equal SciPy's bit for bit on the CPU arch; the
assertions use the registry's per-dtype tolerances so they hold on every backend.
"""
import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.filters as mf
from medkern import registry

RNG = np.random.default_rng(3)
C64 = (RNG.random((9, 11)) + 1j * RNG.random((9, 11))).astype(np.complex64)
R32 = RNG.random((9, 11)).astype(np.float32)
W1 = np.array([1 + 2j, 0.5 - 1j, 2.0])
W2 = RNG.random((3, 2)) + 1j * RNG.random((3, 2))


def close(ours, ref):
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    tol = registry.TOLERANCE[ref.dtype.name]
    assert np.abs(ours - ref).max() <= tol * np.abs(ref).max()


INPUTS = {"c64": C64, "c128": C64.astype(np.complex128), "f32": R32, "i16": R32.astype(np.int16)}
# real input with real weights: the registry's parity tests
PAIRINGS = [(x, cw) for x in INPUTS for cw in (True, False) if cw or x.startswith("c")]


@pytest.mark.parametrize("x, complex_weights", PAIRINGS)
@pytest.mark.parametrize("name", ["correlate1d", "convolve1d", "correlate", "convolve"])
def test_weighted_pairings(name, complex_weights, x):
    x = INPUTS[x]
    w = W1 if name.endswith("1d") else W2
    if not complex_weights:
        w = w.real
    cval = (1.5 - 2j) if np.iscomplexobj(x) else 1.5
    for kw in ({"mode": "constant", "cval": cval}, {"mode": "wrap", "origin": -1}):
        if name.endswith("1d"):
            kw = dict(kw, axis=0)
        close(getattr(mf, name)(x, w, **kw), getattr(ndi, name)(x, w, **kw))


@pytest.mark.parametrize("name, kw", [
    ("gaussian_filter", {"sigma": 1.3}), ("gaussian_filter1d", {"sigma": 2.0, "order": 1}),
    ("uniform_filter", {"size": 3}), ("uniform_filter1d", {"size": 4}), ("sobel", {}),
    ("prewitt", {"axis": 0}), ("laplace", {}), ("gaussian_laplace", {"sigma": 1.2}),
    ("gaussian_gradient_magnitude", {"sigma": 1.2}),
])
def test_complex_input_complex_cval(name, kw):
    for x in (C64, C64.astype(np.complex128)):
        ours = getattr(mf, name)(x, mode="constant", cval=1 - 2j, **kw)
        close(ours, getattr(ndi, name)(x, mode="constant", cval=1 - 2j, **kw))


def test_output_rules():
    out = np.zeros(R32.shape, np.complex128)
    assert mf.correlate1d(R32, W1, output=out) is out
    close(out, ndi.correlate1d(R32, W1, output=np.complex128))
    with pytest.warns(UserWarning, match="promoting specified output dtype to complex"):
        assert mf.correlate1d(R32, W1, output=np.float64).dtype == np.complex128
    # SciPy raises RuntimeError for a real dtype by name, a real array, a wrong shape
    for bad in ("float64", np.zeros(R32.shape), np.zeros((2, 2), complex)):
        with pytest.raises(RuntimeError, match="output"):
            mf.correlate1d(R32, W1, output=bad)
    # gaussian_filter/sobel hand output on to correlations: a real dtype is refused there
    with pytest.raises(RuntimeError, match="complex"):
        mf.gaussian_filter(C64, 1.0, output=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mf.sobel(C64).dtype == np.complex64


def test_errors_and_inputs_untouched():
    with pytest.raises(ValueError, match="cval"):
        mf.correlate1d(R32, W1, cval=1j)   # complex cval with real input: SciPy refuses too
    with pytest.raises(ValueError, match="weights"):
        mf.correlate(C64, np.full((2, 2), np.nan + 1j))
    with pytest.raises(TypeError, match="complex"):
        mf.correlate1d(medkern.asarray(R32), W1)   # DeviceArrays are real
    for name in ("minimum_filter", "median_filter"):
        with pytest.raises(TypeError, match="input"):
            getattr(mf, name)(C64, size=3)       # SciPy: 'Complex type not supported'
    before, wb = C64.copy(), W2.copy()
    mf.correlate(C64, W2)
    np.testing.assert_array_equal(C64, before)
    np.testing.assert_array_equal(W2, wb)


@pytest.mark.parametrize("weights", [np.zeros((2, 2)), np.full((3, 1), 1e-17), np.zeros((2, 2)) * 1j])
def test_all_weights_dropped(weights):
    """SciPy drops weights of magnitude <= DBL_EPSILON; when none is left the result is 0
    everywhere, NaN input included (this used to fail to compile)."""
    x = np.arange(12.0).reshape(3, 4)
    x[0, 0] = np.nan
    for f in ("correlate", "convolve"):
        np.testing.assert_array_equal(getattr(mf, f)(x, weights), getattr(ndi, f)(x, weights))
    u8 = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(mf.correlate(u8, weights.real, output=np.int16),
                                  ndi.correlate(u8, weights.real, output=np.int16))
