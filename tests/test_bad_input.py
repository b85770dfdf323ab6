"""Bad input: every public function rejects it with TypeError/ValueError naming the parameter.

Wrong kind of object -> ``TypeError``; right kind, bad value -> ``ValueError``.
Each check is parametrized over every public function of ``medkern.filters``
and ``medkern.measurements`` that has the parameter (found from its
signature), and every test checks that the caller's input was not modified.

Where SciPy raises ``RuntimeError`` for a bad value, medkern's error is a
``medkern.ArgumentError``, a ``ValueError`` too (tests/test_scipy_contract.py checks
those cases against SciPy, and that the filters return empty results for empty
input, as SciPy's do: the other functions reject it).

NaN policy: linear filters propagate NaN exactly as SciPy does; rank-type
filters (minimum/maximum/median/rank/percentile and the 1-D variants) raise
``ValueError`` mentioning NaN; measurements follow numpy/SciPy.
"""
import inspect

import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.filters as mf
import medkern.measurements as mm
from medkern import registry

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

W1 = [1.0, 2.0, -1.0]
W2 = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 0.25]])

def _public_functions():
    """Every public function of an image (first parameter ``input``) of every registered
    area, with its first registered algorithm (``mean`` before ``mean_labels``): new
    areas are checked with no edit here. A registered function whose reference names the
    image ``image`` (scikit-image, ITK: ``flood``, ``connected_threshold``...) is checked
    too when the image is required (``threshold_otsu(image=None, hist=...)`` takes None)."""
    import importlib
    algs = registry.algorithms()
    found = {}
    for area in registry.areas():
        module = importlib.import_module(f"medkern.{area}")
        for fname in module.__all__:
            func = getattr(module, fname)
            if not callable(func):
                continue
            params = list(inspect.signature(func).parameters.values())[:1]
            first = params[0].name if params else None
            mine = [a for a in algs if a.func is func] or [a for a in algs if a.name == fname]
            if first == "image" and mine and params[0].default is inspect.Parameter.empty:
                found[fname] = mine[0]
                continue
            if first != "input":
                continue
            found[fname] = mine[0] if mine else None
    return found


ALGORITHMS = _public_functions()
PUBLIC = sorted(n for n, a in ALGORITHMS.items() if a is not None)
FILTERS = [n for n in PUBLIC if ALGORITHMS[n].area == "filters"]
RANK_FILTERS = ["minimum_filter", "maximum_filter", "median_filter", "rank_filter",
                "percentile_filter", "minimum_filter1d", "maximum_filter1d"]
#: Filters whose ``mode`` may be a per-axis sequence.
MODE_SEQ = ["gaussian_filter", "uniform_filter", "minimum_filter", "maximum_filter",
            "sobel", "prewitt", "laplace", "gaussian_laplace", "gaussian_gradient_magnitude"]
# grey morphology with a size: SciPy's separable minimum/maximum filters
MODE_SEQ += [n for n in ("grey_erosion", "grey_dilation", "grey_opening", "grey_closing",
                         "white_tophat", "black_tophat", "morphological_gradient",
                         "morphological_laplace") if n in PUBLIC]


def _params(name):
    return inspect.signature(ALGORITHMS[name].func).parameters


def first(name):
    """The name of the function's image parameter (``input`` or ``image``): errors about
    the image name it."""
    return next(iter(_params(name)))


def having(param, names=None):
    return [n for n in (PUBLIC if names is None else names) if param in _params(n)]


def _registered_arguments(name, shape):
    """The arguments of the algorithm's first case that applies to ``shape`` (its
    ``bench_kwargs`` when no case does), generated arrays (labels, coordinates...)
    included; for a shape no generator can fill (an empty or 0-d input) those of an 8 x 9
    image: the input is rejected before anything else is looked at."""
    alg = ALGORITHMS[name]
    valid = shape is not None and 1 <= len(shape) <= 3 and all(n > 0 for n in shape)
    for case in (*alg.cases, alg.bench_kwargs):
        kwargs = alg.arguments(case, shape if valid else (8, 9), seed=0)
        if kwargs is not None:
            return kwargs
    raise AssertionError(f"{name}: no registered case for a {len(shape)}-D input")


def call(name, x, **kw):
    """Call a public function with its registered arguments, overridden by ``kw``."""
    args = _registered_arguments(name, getattr(x, "shape", None))
    if "footprint" in kw:
        args.pop("size", None)
    if "size" in kw:
        args.pop("footprint", None)
    args.update(kw)
    return ALGORITHMS[name].func(x, **args)


def result_shape(name, x):
    """The shape of ``name``'s image result for ``x`` (resampling changes it: zoom,
    rotate...; ``label`` gives ``(labels, n)``)."""
    result = call(name, x)
    return np.shape(result[0] if isinstance(result, tuple) else result)


@pytest.fixture
def x():
    return np.random.default_rng(0).uniform(0, 100, (8, 9)).astype(np.float32)


def check(exc, match, name, x, **kw):
    """``call`` raises ``exc`` matching ``match`` and leaves ``x`` unchanged."""
    before = x.copy() if isinstance(x, np.ndarray) else None
    with pytest.raises(exc, match=match):
        call(name, x, **kw)
    if before is not None:
        np.testing.assert_array_equal(x, before)
        assert x.dtype == before.dtype


def test_every_public_function_is_registered():
    """Each area module's public functions of an image (first parameter ``input``) are in
    the registry, so every check here reaches them."""
    missing = sorted(n for n, a in ALGORITHMS.items() if a is None)
    assert not missing, f"public functions missing from the registry: {missing}"


# ------------------------------------------------------------------------- input
BAD_INPUTS = {
    "empty": (ValueError, np.zeros((0, 4), np.float32)),
    "empty-1d": (ValueError, np.zeros(0, np.float64)),
    "0-d": (ValueError, np.array(1.5, np.float32)),
    "4-d": (ValueError, np.zeros((2, 2, 2, 2), np.float32)),
    "complex": (TypeError, np.zeros((4, 4), np.complex64)),
    "object": (TypeError, np.zeros((4, 4), dtype=object)),
    "bool": (TypeError, np.zeros((4, 4), dtype=bool)),
    # float16 is no longer rejected: the filters compute it in float32 and return float16
    # (a documented deviation from SciPy, which refuses it; tests/test_interop.py)
    "str": (TypeError, np.array([["a", "b"]])),
    "None": (TypeError, None),
}


_MEASUREMENTS = [n for n in PUBLIC if ALGORITHMS[n].area == "measurements"]
_INTERPOLATION = [n for n in PUBLIC if ALGORITHMS[n].area == "interpolation"]
#: Inputs of BAD_INPUTS that some functions answer, as SciPy does (checked against SciPy
#: in tests/test_measurements_labels.py, test_interpolation.py and test_label.py).
_BINARY = [n for n in PUBLIC if n.startswith("binary_")]
_GREY = [n for n in PUBLIC if n.startswith("grey_") or n.endswith("_tophat")
         or n.startswith("morphological_")]
TAKES = {
    # scipy.ndimage's morphology answers empty arrays, binary morphology 0-d ones too, and
    # grey morphology bool (tests/test_morphology_*.py)
    "empty": _MEASUREMENTS + ["label", "flood", "flood_fill", "local_maxima"] + _BINARY + _GREY,
    "empty-1d": _MEASUREMENTS + ["label", "flood", "flood_fill", "local_maxima"] + _BINARY
    + _GREY,
    "0-d": _MEASUREMENTS + ["label", "spline_filter", "find_objects"] + _BINARY,
    # scikit-image's functions of images read bool as 0/1
    "bool": _MEASUREMENTS + ["watershed", "peak_local_max", "h_maxima", "local_maxima"] + _GREY,
    "complex": _INTERPOLATION,  # the real and imaginary parts, one after the other
    # a box footprint is separable: peak_local_max filters a 4-D image one axis at a time
    "4-d": ["peak_local_max"],
}


def _refuses(name: str, kind: str) -> bool:
    """Whether ``kind`` is bad input for ``name``; the others are answered, as SciPy's are:
    e.g. bool for functions of masks, complex for the linear filters and interpolation,
    empty arrays for the filters (tests/test_scipy_contract.py) and the measurements."""
    takes = (kind in ALGORITHMS[name].dtypes or name in TAKES.get(kind, ())
             or (kind == "complex" and "complex64" in ALGORITHMS[name].dtypes)
             or (kind.startswith("empty") and name in FILTERS))
    return not takes


@pytest.mark.parametrize("name, kind", [(n, k) for n in PUBLIC for k in BAD_INPUTS
                                        if _refuses(n, k)])
def test_bad_input_array(name, kind):
    exc, bad = BAD_INPUTS[kind]
    before = None if bad is None else bad.copy()
    with pytest.raises(exc, match=first(name)):
        call(name, bad)
    if before is not None:
        np.testing.assert_array_equal(bad, before)


@pytest.mark.parametrize("name", [n for n in PUBLIC if n not in FILTERS and n not in TAKES["empty"]])
def test_empty_device_array(name):
    d = medkern.asarray(np.zeros((0, 3), np.float32))
    with pytest.raises(ValueError, match=first(name)):
        call(name, d)


def test_asarray_bad():
    with pytest.raises(ValueError, match="x"):
        medkern.asarray(np.zeros((2, 2, 2, 2, 2), np.float32))
    with pytest.raises(ValueError, match="x"):
        medkern.asarray(np.float32(3))
    with pytest.raises(TypeError, match="x"):
        medkern.asarray(np.zeros(3, np.complex128))


# ------------------------------------------------------------------------- output
@pytest.mark.parametrize("name", having("output"))
def test_output_wrong_shape(name, x):
    check(ValueError, "output", name, x, output=np.zeros((3, 3), np.float32)
          if "output_shape" not in _params(name) else np.zeros((3, 3, 3), np.float32))
    if "output_shape" not in _params(name):  # there an output array gives the shape (SciPy)
        check(ValueError, "output", name, x, output=np.zeros(x.shape[::-1], np.float32))


@pytest.mark.parametrize("name", having("output"))
def test_output_device_wrong_shape(name, x):
    d = medkern.asarray(x)
    bad = (3, 3) if "output_shape" not in _params(name) else (3, 3, 3)
    with pytest.raises(ValueError, match="output"):
        call(name, d, output=medkern.asarray(np.zeros(bad, np.float32)))


@pytest.mark.parametrize("name", having("output"))
def test_output_unsupported_dtype(name, x):
    check(TypeError, "output", name, x, output=np.complex64)
    check(TypeError, "output", name, x, output=np.zeros(result_shape(name, x), np.complex128))
    check(TypeError, "output", name, x, output=bool)
    # output=np.float16 is accepted since float16 is computed in float32 and cast back
    # (tests/test_interop.py); bfloat16 has no numpy dtype: only torch inputs take it
    check(TypeError, "output", name, x, output="bfloat16")
    check(TypeError, "output", name, x, output="bogus")
    check(TypeError, "output", name, x, output=[1, 2])


@pytest.mark.parametrize("name", having("output"))
def test_output_read_only(name, x):
    ro = np.zeros(result_shape(name, x), np.float32)
    ro.flags.writeable = False
    check(ValueError, "output", name, x, output=ro)
    assert not ro.any()
    # output=input where input is read-only
    xr = x.copy()
    xr.flags.writeable = False
    check(ValueError, "output", name, xr, output=xr)


@pytest.mark.parametrize("name", having("output"))
def test_numpy_output_with_device_input(name, x):
    out = np.zeros(result_shape(name, x), np.float32)
    with pytest.raises(TypeError, match="output"):
        call(name, medkern.asarray(x), output=out)
    assert not out.any()


# ------------------------------------------------------------------------- mode / cval
@pytest.mark.parametrize("name", having("mode"))
def test_unknown_mode(name, x):
    check(ValueError, "mode", name, x, mode="bogus")
    check(ValueError, "mode", name, x, mode="Reflect")
    check(TypeError, "mode", name, x, mode=3)
    check(TypeError, "mode", name, x, mode=None)


@pytest.mark.parametrize("name", having("mode"))
def test_mode_sequence_with_unknown_entry(name, x):
    check((ValueError, TypeError), "mode", name, x, mode=["reflect", "bogus"])


@pytest.mark.parametrize("name", MODE_SEQ)
def test_per_axis_mode_errors(name, x):
    check(ValueError, "mode='bogus'", name, x, mode=["reflect", "bogus"])
    check(TypeError, "mode", name, x, mode=["reflect", 1])
    check(ValueError, "mode", name, x, mode=["reflect"] * 3)
    check(ValueError, "mode", name, x, mode=["reflect"])


@pytest.mark.parametrize("name", sorted(set(having("mode")) - set(MODE_SEQ)))
def test_single_mode_filters_reject_sequences(name, x):
    check((ValueError, TypeError), "mode", name, x, mode=["reflect", "reflect"])


def test_box_minmax_footprint_rejects_mode_sequence(x):
    fp = [[1, 0, 1], [0, 1, 0]]
    for name in ("minimum_filter", "maximum_filter"):
        check(ValueError, "mode", name, x, footprint=fp, mode=["reflect", "reflect"])


@pytest.mark.parametrize("name", having("cval"))
def test_bad_cval(name, x):
    check(TypeError, "cval", name, x, cval="a")
    check(TypeError, "cval", name, x, cval=None)
    check(TypeError, "cval", name, x, cval=[1.0])


# ------------------------------------------------------------------------- size / origin
#: SciPy skips the axes of these filters whose size is 0 or 1 (uniform_filter's size 0
#: is a copy there, test_uniform02; minimum/maximum boxes alike); negative sizes still raise.
SIZE_0_SKIPS = ["uniform_filter", "minimum_filter", "maximum_filter", "grey_erosion",
                "grey_dilation", "grey_opening", "grey_closing", "white_tophat", "black_tophat",
                "morphological_gradient", "morphological_laplace"]


@pytest.mark.parametrize("name", having("size"))
def test_bad_size(name, x):
    if name not in SIZE_0_SKIPS:
        check(ValueError, "size", name, x, size=0)
    check(ValueError, "size", name, x, size=-3)
    check(TypeError, "size", name, x, size=2.5)
    check(TypeError, "size", name, x, size="3")
    check(TypeError, "size", name, x, size=True)
    check((ValueError, TypeError), "size", name, x, size=[3, 3, 3])


@pytest.mark.parametrize("name", [n for n in having("size") if not n.endswith("1d")])
def test_size_sequence_errors(name, x):
    check(ValueError, "size", name, x, size=[3, 3, 3])
    check(ValueError, "size", name, x, size=[3, 0] if name not in SIZE_0_SKIPS else [3, -1])
    check(TypeError, "size", name, x, size=[3, 1.5])


#: Functions whose footprint is a filter's (with ``size``, ``axes``...): flood's is a
#: connectivity (scikit-image's rules, tests/test_region_growing.py).
FILTER_FOOTPRINT = [n for n in having("footprint") if "size" in _params(n)]


@pytest.mark.parametrize("name", FILTER_FOOTPRINT)
def test_missing_size_and_footprint(name, x):
    check(ValueError, "size", name, x, size=None)


def test_even_sizes_are_valid(x):
    np.testing.assert_allclose(mf.uniform_filter(x, 4), ndi.uniform_filter(x, 4), rtol=1e-6)
    np.testing.assert_array_equal(mf.median_filter(x, 2), ndi.median_filter(x, 2))
    np.testing.assert_array_equal(mf.minimum_filter1d(x, 4), ndi.minimum_filter1d(x, 4))


@pytest.mark.parametrize("name", having("origin"))
def test_bad_origin(name, x):
    check(ValueError, "origin", name, x, origin=5)
    check(ValueError, "origin", name, x, origin=-5)
    check(TypeError, "origin", name, x, origin=0.5)
    check(TypeError, "origin", name, x, origin="0")


@pytest.mark.parametrize("name", [n for n in having("origin") if not n.endswith("1d")])
def test_origin_sequence_errors(name, x):
    check(ValueError, "origin", name, x, origin=(0, 0, 0))
    check(ValueError, "origin", name, x, origin=(0, 7))


# ------------------------------------------------------------------------- axis / axes
@pytest.mark.parametrize("name", having("axis"))
def test_bad_axis(name, x):
    check(ValueError, "axis", name, x, axis=2)
    check(ValueError, "axis", name, x, axis=-3)
    check(TypeError, "axis", name, x, axis=1.5)
    check(TypeError, "axis", name, x, axis=None)
    check(TypeError, "axis", name, x, axis="0")


@pytest.mark.parametrize("name", having("axes"))
def test_bad_axes(name, x):
    check(ValueError, "axes", name, x, axes=(0, 0))
    check(ValueError, "axes", name, x, axes=(1, -1))  # same axis twice
    check(ValueError, "axes", name, x, axes=(0, 2))
    check(ValueError, "axes", name, x, axes=(-3,))
    check(TypeError, "axes", name, x, axes=(0.5,))
    check(TypeError, "axes", name, x, axes="a")


# ------------------------------------------------------------------------- gaussian parameters
@pytest.mark.parametrize("name", having("sigma"))
def test_bad_sigma(name, x):
    check(ValueError, "sigma", name, x, sigma=-1.0)
    check(ValueError, "sigma", name, x, sigma=np.nan)
    check(ValueError, "sigma", name, x, sigma=np.inf)
    check(ValueError, "sigma", name, x, sigma=-np.inf)
    check(TypeError, "sigma", name, x, sigma="1")
    check(TypeError, "sigma", name, x, sigma=None)
    check(TypeError, "sigma", name, x, sigma=True)


@pytest.mark.parametrize("name", [n for n in having("sigma") if not n.endswith("1d")])
def test_sigma_sequence_errors(name, x):
    check(ValueError, "sigma", name, x, sigma=[1.0, 1.0, 1.0])
    check(ValueError, "sigma", name, x, sigma=[1.0, -0.5])
    check(ValueError, "sigma", name, x, sigma=[1.0, np.nan])


def test_gaussian_filter1d_sigma_sequence(x):
    check(TypeError, "sigma", "gaussian_filter1d", x, sigma=[1.0, 2.0])


@pytest.mark.parametrize("name", having("truncate"))
def test_bad_truncate(name, x):
    check(ValueError, "truncate", name, x, truncate=-1.0)
    check(ValueError, "truncate", name, x, truncate=np.nan)
    check(ValueError, "truncate", name, x, truncate=np.inf)
    check(TypeError, "truncate", name, x, truncate="4")


@pytest.mark.parametrize("name", having("radius"))
def test_bad_radius(name, x):
    # SciPy raises ValueError for every radius that is not a nonnegative integer
    check(ValueError, "radius", name, x, radius=-1)
    check(ValueError, "radius", name, x, radius=1.5)
    check(ValueError, "radius", name, x, radius=[1, 1, 1])


@pytest.mark.parametrize("name", having("order"))
def test_bad_order(name, x):
    check(ValueError, "order", name, x, order=-1)
    check(TypeError, "order", name, x, order=1.5)


def test_gaussian_kernel1d_bad_arguments():
    for sigma in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="sigma"):
            mf.gaussian_kernel1d(sigma, 0, 3)
    with pytest.raises(TypeError, match="sigma"):
        mf.gaussian_kernel1d("1", 0, 3)
    with pytest.raises(ValueError, match="order"):
        mf.gaussian_kernel1d(1.0, -1, 3)
    with pytest.raises(ValueError, match="radius"):
        mf.gaussian_kernel1d(1.0, 0, -1)
    with pytest.raises(TypeError, match="radius"):
        mf.gaussian_kernel1d(1.0, 0, 1.5)


def test_zero_sigma_is_identity(x):
    """sigma 0 skips the axis (SciPy's gaussian_filter1d raises ZeroDivisionError instead)."""
    np.testing.assert_array_equal(mf.gaussian_filter(x, 0.0), x)
    np.testing.assert_array_equal(mf.gaussian_filter1d(x, 0.0), x)
    np.testing.assert_array_equal(mf.gaussian_filter(x, np.array(0.0)), ndi.gaussian_filter(x, 0.0))


# ------------------------------------------------------------------------- footprint / weights
@pytest.mark.parametrize("name", FILTER_FOOTPRINT)
def test_bad_footprint(name, x):
    check(ValueError, "footprint", name, x, footprint=np.ones(3, bool))           # 1-D for 2-D data
    check(ValueError, "footprint", name, x, footprint=np.ones((3, 3, 3), bool))   # 3-D for 2-D data
    check(ValueError, "footprint", name, x, footprint=np.zeros((3, 3), bool))     # all False
    check(ValueError, "footprint", name, x, footprint=np.zeros((0, 3), bool))     # empty
    check(TypeError, "footprint", name, x, footprint=np.ones((3, 3), complex))
    check(TypeError, "footprint", name, x, footprint=np.array([["a"]]))
    check(ValueError, "footprint", name, x, footprint=np.ones(3, bool), axes=(0, 1))


@pytest.mark.parametrize("name", having("weights"))
def test_bad_weights(name, x):
    nd = 1 if name.endswith("1d") else 2
    good = np.ones((3,) * nd)
    nan_w = good.copy()
    nan_w.flat[1] = np.nan
    inf_w = good.copy()
    inf_w.flat[0] = np.inf
    check(ValueError, "weights", name, x, weights=nan_w)
    check(ValueError, "weights", name, x, weights=inf_w)
    check(ValueError, "weights", name, x, weights=np.ones((3,) * (nd + 1)))       # wrong ndim
    check(ValueError, "weights", name, x, weights=np.ones((0,) * nd))             # empty
    # complex weights are SciPy's (a complex result): bad values are still refused
    check(ValueError, "weights", name, x, weights=nan_w * (1 + 1j))
    check(ValueError, "weights", name, x, weights=np.ones((3,) * (nd + 1), complex))
    check(TypeError, "weights", name, x, weights=np.full((3,) * nd, "a"))


# ------------------------------------------------------------------------- rank / percentile / function
def test_bad_rank(x):
    check(ValueError, "rank", "rank_filter", x, rank=9)     # 3x3 box has ranks -9..8
    check(ValueError, "rank", "rank_filter", x, rank=-10)
    check(ValueError, "rank", "rank_filter", x, rank=5, footprint=[[1, 0], [0, 1]])
    check(TypeError, "rank", "rank_filter", x, rank=1.5)
    check(TypeError, "rank", "rank_filter", x, rank=None)
    check(TypeError, "rank", "rank_filter", x, rank="1")


def test_bad_percentile(x):
    check(ValueError, "percentile", "percentile_filter", x, percentile=100.5)
    check(ValueError, "percentile", "percentile_filter", x, percentile=-101)
    check(ValueError, "percentile", "percentile_filter", x, percentile=np.nan)
    check(ValueError, "percentile", "percentile_filter", x, percentile=np.inf)
    check(TypeError, "percentile", "percentile_filter", x, percentile="50")
    check(TypeError, "percentile", "percentile_filter", x, percentile=None)


@pytest.mark.parametrize("name", having("function"))
def test_bad_function(name, x):
    check(TypeError, "function", name, x, function=None)
    check(TypeError, "function", name, x, function="max")


# ------------------------------------------------------------------------- measurements
def test_bad_histogram_arguments(x):
    check(ValueError, "min", "histogram", x, min=1.0, max=0.0)
    check(ValueError, "max - min", "histogram", x, min=-1e308, max=1e308)  # SciPy raises too
    check(ValueError, "min", "histogram", x, min=np.nan)
    check(ValueError, "max", "histogram", x, max=np.inf)
    check(TypeError, "min", "histogram", x, min="0")
    check(ValueError, "bins", "histogram", x, bins=0)
    check(ValueError, "bins", "histogram", x, bins=-2)
    check(TypeError, "bins", "histogram", x, bins=2.5)


# ------------------------------------------------------------------------- NaN policy
def _with_nans(dtype):
    a = np.random.default_rng(3).uniform(0, 10, (9, 11)).astype(dtype)
    a[2, 3] = a[7, 0] = a[0, 10] = np.nan
    return a


LINEAR = [("gaussian_filter", {"sigma": 1.5}), ("uniform_filter", {"size": 3}),
          ("correlate", {"weights": W2}), ("uniform_filter1d", {"size": 3}),
          ("gaussian_filter1d", {"sigma": 1.5}), ("correlate1d", {"weights": W1}),
          ("sobel", {}), ("laplace", {})]


@pytest.mark.parametrize("dtype", [np.float32])
@pytest.mark.parametrize("name, kw", LINEAR, ids=[n for n, _ in LINEAR])
def test_linear_filters_propagate_nan_like_scipy(name, kw, dtype):
    a = _with_nans(dtype)
    before = a.copy()
    ours = getattr(mf, name)(a, **kw)
    ref = getattr(ndi, name)(a, **kw)
    np.testing.assert_array_equal(a, before)  # NaN-aware: equal NaN positions count as equal
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    assert np.isnan(ours).any()
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-5, atol=1e-5)


# rank filters order NaN last (np.sort's order): tests/test_trust.py checks them


def test_measurements_nan_policy():
    a = _with_nans(np.float64)
    assert np.isnan(mm.sum(a)) and np.isnan(mm.mean(a))
    assert np.isnan(mm.minimum(a)) and np.isnan(ndi.minimum(a))
    assert np.isnan(mm.maximum(a)) and np.isnan(ndi.maximum(a))
    np.testing.assert_array_equal(mm.histogram(a, 0, 10, 5), ndi.histogram(a, 0, 10, 5))
