"""medkern.interpolation: SciPy parity over every order x mode (slow), the exact reflect
prefilter (scipy/scipy#24615), geometry of Volume results, run-time matrices (one compile
for many matrices), bad input.

The reference is SciPy's function, except where the installed SciPy (<= 1.17.1) initialises
the reflect prefilter inexactly: there :func:`interpolation._reference` builds the exact
result from SciPy pieces (see :func:`interpolation._reflect_filter`)."""
import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi
import taichi as ti

import medkern
import medkern.interpolation as mi
from medkern import registry
from medkern.algorithms import interpolation as impl
from medkern.kernels import sample as ks

MODES = ("constant", "grid-constant", "nearest", "mirror", "reflect", "wrap", "grid-wrap")
DTYPES = ("float32", "float64", "uint8", "int16")
SHAPES = {2: (13, 17), 3: (7, 9, 8)}
MAT = {2: np.array([[0.9, -0.3], [0.35, 1.1]]),
       3: np.array([[0.95, 0.1, -0.2], [-0.15, 1.05, 0.1], [0.2, -0.1, 0.9]])}


def _image(ndim, dtype, seed=0):
    from medkern.sample_data import random_image
    return random_image(SHAPES[ndim], dtype, seed=seed)


def _agree(ours, ref, dtype):
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    tol = registry.TOLERANCE[np.dtype(dtype).name]
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    scale = max(float(np.abs(ref).max()), 1e-30) if ref.dtype.kind == "f" else 1.0
    assert diff.max() / scale <= tol


# ------------------------------------------------------------------ the full cross-product
@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ndim", (2, 3))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", range(6))
def test_affine_transform_every_order_mode_dtype(order, mode, ndim, dtype):
    x = _image(ndim, dtype)
    kw = dict(order=order, mode=mode, cval=3.0)
    _agree(mi.affine_transform(x, MAT[ndim], 1.25, **kw),
           impl._reference("affine_transform")(x, MAT[ndim], 1.25, **kw), dtype)


@pytest.mark.slow
@pytest.mark.parametrize("ndim", (2, 3))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", range(6))
def test_zoom_shift_map_coordinates_every_order_mode(order, mode, ndim):
    x = _image(ndim, "float64", seed=1)
    kw = dict(order=order, mode=mode, cval=-1.0)
    ref = impl._reference
    _agree(mi.shift(x, 1.7, **kw), ref("shift")(x, 1.7, **kw), "float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for grid in (False, True):
            _agree(mi.zoom(x, 1.3, grid_mode=grid, **kw),
                   ref("zoom")(x, 1.3, grid_mode=grid, **kw), "float64")
    c = np.random.default_rng(2).uniform(-4, 12, size=(ndim, 6, 5))
    _agree(mi.map_coordinates(x, c, **kw), ref("map_coordinates")(x, c, **kw), "float64")
    if order >= 2:
        _agree(mi.spline_filter(x, order, mode=mode),
               ref("spline_filter")(x, order, mode=mode), "float64")
        _agree(mi.spline_filter1d(x, order, axis=0, mode=mode),
               ref("spline_filter1d")(x, order, axis=0, mode=mode), "float64")
    if ndim == 3:  # rotate filters only the rotated plane (SciPy goes plane by plane)
        _agree(mi.rotate(x, 33.0, axes=(0, 2), **kw), ref("rotate")(x, 33.0, axes=(0, 2), **kw),
               "float64")


# ------------------------------------------------------------------ reflect prefilter (#24615)
_BUGGY = pytest.mark.skipif(not impl._scipy_reflect_bug(),
                            reason="the installed SciPy's reflect prefilter is exact (>= 1.18)")
_SHORT = np.random.default_rng(7).random(9)
_LONG = np.random.default_rng(8).random(64)


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


@_BUGGY
def test_legacy_reflect_switch_reproduces_scipy_1_17(monkeypatch):
    # with SciPy's boundary formula, the rest of the pipeline is SciPy's operation by operation
    monkeypatch.setattr(ks, "_LEGACY_REFLECT", True)
    assert _rel(mi.spline_filter1d(_SHORT, 5, mode="reflect"),
                ndi.spline_filter1d(_SHORT, 5, mode="reflect")) <= 1e-13
    assert _rel(mi.shift(_SHORT, 0.4, order=5, mode="reflect"),
                ndi.shift(_SHORT, 0.4, order=5, mode="reflect")) <= 1e-13


def test_reflect_prefilter_is_exact_by_default():
    exact = impl._reflect_filter(_SHORT, 5, (0,))
    ours = mi.spline_filter1d(_SHORT, 5, mode="reflect")
    assert _rel(ours, exact) <= 1e-12
    shifted = mi.shift(_SHORT, 0.4, order=5, mode="reflect")
    assert _rel(shifted, impl._reference("shift")(_SHORT, 0.4, order=5, mode="reflect")) <= 1e-12
    if impl._scipy_reflect_bug():  # and not SciPy 1.17's answer, which is off by ~1e-7 here
        assert _rel(ours, ndi.spline_filter1d(_SHORT, 5, mode="reflect")) > 1e-9
        assert _rel(shifted, ndi.shift(_SHORT, 0.4, order=5, mode="reflect")) > 1e-9


def test_exact_reflect_reference_is_periodic_extension():
    # the reference's premise: grid-wrap's initialisation is exact, so filtering [x, x[::-1]]
    # equals filtering a long periodic tiling (far from its ends)
    doubled = np.concatenate([_SHORT, _SHORT[::-1]])
    tiled = ndi.spline_filter1d(np.tile(doubled, 40), 5, mode="mirror")
    middle = tiled[20 * doubled.size:20 * doubled.size + _SHORT.size]
    assert _rel(impl._reflect_filter(_SHORT, 5, (0,)), middle) <= 1e-12


@pytest.mark.parametrize("legacy", [False, True])
def test_long_reflect_lines_equal_scipy_either_way(monkeypatch, legacy):
    monkeypatch.setattr(ks, "_LEGACY_REFLECT", legacy)
    assert _rel(mi.spline_filter1d(_LONG, 5, mode="reflect"),
                ndi.spline_filter1d(_LONG, 5, mode="reflect")) <= 1e-12
    assert _rel(mi.shift(_LONG, 0.4, order=5, mode="reflect"),
                ndi.shift(_LONG, 0.4, order=5, mode="reflect")) <= 1e-12


# ------------------------------------------------------------------ representative, default run
def test_coordinates_of_any_dtype_and_outside_points():
    x = _image(2, "float64")
    c = np.array([[-1.2, -0.5, -1e-9, 0, 12, 12.0000001, 12.5, 40.2, np.nan],
                  [0.5, 3, 16.2, -7.5, 2, 1, 0, 3, 1]])
    for cc in (c, c.astype(np.float32)):
        _agree(mi.map_coordinates(x, cc, order=1, mode="constant", cval=-7),
               ndi.map_coordinates(x, cc, order=1, mode="constant", cval=-7), "float64")
    ci = np.array([[0, 3, 12], [16, 2, 0]], dtype=np.int16)
    _agree(mi.map_coordinates(x, ci, order=1), ndi.map_coordinates(x, ci, order=1), "float64")


@pytest.mark.parametrize("mode", ["nearest", "grid-constant", "mirror"])
def test_nan_coordinates_read_nothing_out_of_bounds(mode):
    x = _image(2, "float64")
    c = np.array([[np.nan, 2.0, 1e300], [1.0, np.nan, 3.0]])
    ours = mi.map_coordinates(x, c, order=3, mode=mode)
    ref = ndi.map_coordinates(x, c, order=3, mode=mode)
    np.testing.assert_array_equal(np.isnan(ours[:2]), np.isnan(ref[:2]))


def test_geometric_transform_python_callable_with_extra_arguments():
    x = _image(2, "float32")

    def f(o, a, b=0.0):
        return (o[0] * a + b, o[1] - b)
    kw = dict(extra_arguments=(0.8,), extra_keywords={"b": 0.4}, order=1, output_shape=(9, 11))
    _agree(mi.geometric_transform(x, f, **kw), ndi.geometric_transform(x, f, **kw), "float32")


def test_output_argument_array_and_dtype():
    x = _image(2, "float64")
    out = np.empty((10, 12), np.float32)
    r = mi.affine_transform(x, MAT[2], output=out, order=1)
    assert r is out
    _agree(out, ndi.affine_transform(x, MAT[2], output_shape=(10, 12), output=np.float32, order=1),
           "float32")
    _agree(mi.zoom(x, 0.5, output=np.uint8, order=1), ndi.zoom(x, 0.5, output=np.uint8, order=1),
           "uint8")


def test_homogeneous_matrices():
    x = _image(2, "float64")
    h = np.eye(3)
    h[:2, :2] = MAT[2]
    h[:2, 2] = (1.5, -0.5)
    for m in (h, h[:2]):
        _agree(mi.affine_transform(x, m, order=1), ndi.affine_transform(x, m, order=1), "float64")


def test_device_array_coordinates_in_place():
    x = _image(2, "float64")
    c = np.random.default_rng(3).uniform(-2, 15, size=(2, 5, 4))
    ours = mi.map_coordinates(medkern.asarray(x), medkern.asarray(c), order=1)
    assert isinstance(ours, medkern.DeviceArray)
    _agree(medkern.asnumpy(ours), ndi.map_coordinates(x, c, order=1), "float64")


def test_device_array_in_and_out():
    x = _image(3, "float32")
    d = medkern.asarray(x)
    r = mi.zoom(d, 1.5, order=1)
    assert isinstance(r, medkern.DeviceArray)
    _agree(medkern.asnumpy(r), ndi.zoom(x, 1.5, order=1), "float32")


@ti.func
def _swap(i):
    return ti.Vector([ti.cast(i[1], ti.f64) * 0.5, ti.cast(i[0], ti.f64)], dt=ti.f64)


def test_geometric_transform_ti_func():
    x = _image(2, "float64")
    ours = mi.geometric_transform(x, _swap, output_shape=(15, 11), order=1)
    ref = ndi.geometric_transform(x, lambda o: (o[1] * 0.5, o[0]), output_shape=(15, 11), order=1)
    _agree(ours, ref, "float64")


# ------------------------------------------------------------------ run-time matrices (issue 8.3)
def test_hundred_matrices_compile_once():
    x = _image(3, "float32")
    rng = np.random.default_rng(5)
    mi.affine_transform(x, MAT[3], order=1)  # compiles
    before = ks.resample.cache_info().misses
    for _ in range(100):
        m = np.eye(3) + 0.2 * rng.standard_normal((3, 3))
        off = rng.uniform(-2, 2, 3)
        np.testing.assert_array_equal(mi.affine_transform(x, m, off, order=1),
                                      ndi.affine_transform(x, m, off, order=1))
    assert ks.resample.cache_info().misses == before  # zero new compiles for 100 matrices
    assert ks.resample.cache_info().maxsize is not None  # bounded LRU


# ------------------------------------------------------------------ geometry of Volume results
def _volume(shape=(6, 8, 10)):
    x = np.random.default_rng(0).random(shape)
    d = np.array([[0.0, 0.6, 0.8], [0.0, 0.8, -0.6], [1.0, 0.0, 0.0]])
    return medkern.Volume(x, spacing=(2.5, 0.7, 0.9), origin=(10.0, -20.0, 5.0), direction=d,
                          series_uid="1.2.3")


def test_zoom_volume_geometry_corner_centres_or_edges():
    v = _volume()
    r = mi.zoom(v, (2.0, 0.5, 1.3), order=1)
    assert isinstance(r, medkern.Volume) and r.derived_from == "1.2.3"
    n_in, n_out = np.array(v.shape), np.array(r.shape)
    # grid_mode False: corner voxel centres coincide
    np.testing.assert_allclose(r.index_to_world(n_out - 1), v.index_to_world(n_in - 1), atol=1e-9)
    np.testing.assert_allclose(r.origin, v.origin, atol=1e-12)
    np.testing.assert_allclose(r.spacing, np.array(v.spacing) * (n_in - 1) / (n_out - 1))
    g = mi.zoom(v, (2.0, 0.5, 1.3), order=1, mode="grid-constant", grid_mode=True)
    # grid_mode True: the outer voxel edges coincide
    n_out = np.array(g.shape)
    np.testing.assert_allclose(g.index_to_world(-0.5 * np.ones(3)), v.index_to_world(-0.5 * np.ones(3)),
                               atol=1e-9)
    np.testing.assert_allclose(g.index_to_world(n_out - 0.5), v.index_to_world(n_in - 0.5), atol=1e-9)


def test_shift_and_affine_volume_geometry():
    v = _volume()
    s = mi.shift(v, (1.0, -2.0, 0.5), order=0)
    np.testing.assert_allclose(s.index_to_world([1.0, -2.0, 0.5]), v.index_to_world([0, 0, 0]),
                               atol=1e-12)
    m = MAT[3]
    off = np.array([0.5, -1.0, 2.0])
    a = mi.affine_transform(v, m, off, output_shape=(5, 9, 7), order=1)
    o = np.array([[1.0, 2.0, 3.0], [4.0, 0.0, 6.0]])
    np.testing.assert_allclose(a.index_to_world(o), v.index_to_world(o @ m.T + off), atol=1e-9)
    iso = medkern.Volume(v.array, spacing=(2.5, 0.8, 0.8), origin=v.origin, direction=v.direction)
    r = mi.rotate(iso, 30.0, axes=(1, 2), order=1)
    assert r.shape == ndi.rotate(v.array, 30.0, axes=(1, 2), order=1).shape
    # a rotation of square voxels keeps their size (anisotropic ones would shear in mm)
    np.testing.assert_allclose(r.spacing, iso.spacing)
    centre_in = (np.array(iso.shape) - 1) / 2
    centre_out = (np.array(r.shape) - 1) / 2
    np.testing.assert_allclose(r.index_to_world(centre_out), iso.index_to_world(centre_in),
                               atol=1e-9)


def test_map_coordinates_of_a_volume_is_a_plain_array():
    v = _volume()
    r = mi.map_coordinates(v, np.zeros((3, 4)), order=1)
    assert isinstance(r, np.ndarray) and r.shape == (4,)


def test_2d_volume_zoom():
    v = medkern.Volume(np.random.default_rng(1).random((8, 10)), spacing=(0.5, 0.25))
    r = mi.zoom(v, 2.0, order=1)
    np.testing.assert_allclose(r.spacing, np.array(v.spacing) * (np.array(v.shape) - 1)
                               / (np.array(r.shape) - 1))


# ------------------------------------------------------------------ bad input
X2 = np.random.default_rng(0).random((6, 7))


@pytest.mark.parametrize("call, name", [
    (lambda: mi.affine_transform(X2, np.eye(4)), "matrix"),
    (lambda: mi.affine_transform(X2, np.ones((2, 2, 2))), "matrix"),
    (lambda: mi.affine_transform(X2, np.ones(3)), "matrix"),
    (lambda: mi.affine_transform(X2, np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1.0]])), "matrix"),
    (lambda: mi.affine_transform(X2, np.eye(2), order=6), "order"),
    (lambda: mi.shift(X2, 1.0, order=-1), "order"),
    (lambda: mi.spline_filter(X2, order=1), "order"),
    (lambda: mi.map_coordinates(X2, np.zeros((3, 4))), "coordinates"),
    (lambda: mi.map_coordinates(X2, np.zeros(2)), "coordinates"),
    (lambda: mi.zoom(X2, 2.0, mode="edge"), "mode"),
    (lambda: mi.rotate(X2, 10.0, mode="grid-reflect"), "mode"),
    (lambda: mi.zoom(X2, -1.0), "zoom"),
    (lambda: mi.shift(X2, (1.0, 2.0, 3.0)), "shift"),
    (lambda: mi.rotate(X2, 10.0, axes=(0, 0)), "axes"),
    (lambda: mi.rotate(np.zeros(5), 10.0), "input"),
    (lambda: mi.affine_transform(X2, np.eye(2), output_shape=(0, 3)), "output_shape"),
])
def test_bad_input_names_the_parameter(call, name):
    before = X2.copy()
    with pytest.raises(ValueError, match=name):
        call()
    np.testing.assert_array_equal(X2, before)


def test_bad_types():
    with pytest.raises(TypeError, match="mode"):
        mi.zoom(X2, 2.0, mode=3)
    with pytest.raises(TypeError, match="coordinates"):
        mi.map_coordinates(X2, np.zeros((2, 3), dtype=complex))
    with pytest.raises(TypeError, match="mapping"):
        mi.geometric_transform(X2, 3)
    with pytest.raises(TypeError, match="input"):
        mi.zoom(X2.astype(bool), 2.0)


# ------------------------------------------------------------------ complex input, 0-d, dtypes
def _complex_image(dtype, seed=4):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(9, 11)) + 1j * rng.normal(size=(9, 11))).astype(dtype)


def _geo_map(o):
    return (o[0] * 0.8 + 0.2, o[1] - 0.6)


COMPLEX_CALLS = {
    "shift": lambda f, x, **kw: f(x, (0.4, -1.3), **kw),
    "zoom": lambda f, x, **kw: f(x, (1.6, 0.7), **kw),
    # an offset that puts no sample exactly half-way: order 0 rounds those ties by the
    # last bit of a sum of products, which backends round differently
    "affine_transform": lambda f, x, **kw: f(x, MAT[2], (0.37, -1.06), **kw),
    "affine_transform (diagonal)": lambda f, x, **kw: f(x, [0.8, 1.2], 0.5, **kw),
    "map_coordinates": lambda f, x, **kw: f(
        x, np.random.default_rng(1).uniform(-2, 11, (2, 5, 6)), **kw),
    "geometric_transform": lambda f, x, **kw: f(x, _geo_map, (7, 12), **kw),
    "rotate": lambda f, x, **kw: f(x, 23.0, **kw),
}


@pytest.mark.parametrize("dtype", [np.complex64,
                                   pytest.param(np.complex128, marks=pytest.mark.exhaustive)])
@pytest.mark.parametrize("order", [0, 1, 3, 5])
@pytest.mark.parametrize("name", list(COMPLEX_CALLS))
def test_complex_input_is_its_parts_like_scipy(name, order, dtype):
    # SciPy resamples the real and imaginary parts separately, each with its part of cval
    x = _complex_image(dtype)
    fn = name.split()[0]
    kw = dict(order=order, mode="constant" if order % 2 else "nearest", cval=2.0 - 3.0j)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The behavior of affine_transform", UserWarning)
        ours = COMPLEX_CALLS[name](getattr(mi, fn), x, **kw)
        ref = COMPLEX_CALLS[name](getattr(ndi, fn), x, **kw)
    assert ours.dtype == ref.dtype == dtype and ours.shape == ref.shape
    tol = 1e-12 if dtype == np.complex128 else 1e-6
    np.testing.assert_allclose(ours, ref, rtol=tol, atol=tol)


def test_complex_prefilters_and_warp():
    x = _complex_image(np.complex128)
    for mode in ("mirror", "grid-wrap"):
        with pytest.warns(UserWarning, match="promoting specified output dtype to complex"):
            ours = mi.spline_filter(x, 3, mode=mode)  # SciPy warns for its default float64
        with pytest.warns(UserWarning, match="promoting specified output dtype to complex"):
            ref = ndi.spline_filter(x, 3, mode=mode)
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
        ours = mi.spline_filter1d(x, 4, axis=0, output=np.complex64, mode=mode)
        ref = ndi.spline_filter1d(x, 4, axis=0, output=np.complex64, mode=mode)
        assert ours.dtype == np.complex64
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)
    disp = np.random.default_rng(2).uniform(-1.5, 1.5, (2, *x.shape))
    np.testing.assert_allclose(mi.warp(x, disp, order=3, cval=1j),
                               ndi.map_coordinates(x, np.indices(x.shape) + disp, order=3, cval=1j),
                               rtol=1e-12, atol=1e-12)


def test_complex_output_rules_like_scipy():
    x = _complex_image(np.complex64)
    out = np.zeros(x.shape, np.complex128)
    assert mi.shift(x, 1.5, output=out) is out  # written in place, the parts as strided views
    np.testing.assert_allclose(out, ndi.shift(x, 1.5, output=np.complex128), rtol=1e-12)
    # a real dtype object is promoted with SciPy's warning; a real name or array is refused
    with pytest.warns(UserWarning, match="promoting"):
        assert mi.zoom(x, 2, output=np.float32).dtype == np.complex64
    with pytest.raises(ValueError, match="output"):
        mi.zoom(x, 2, output="f")
    with pytest.raises(ValueError, match="output"):
        mi.shift(x, 1, output=np.zeros(x.shape, np.float64))
    with pytest.raises(ValueError, match="output"):  # the shape is checked by the part's call
        mi.shift(x, 1, output=np.zeros((3, 3), np.complex64))
    with pytest.raises(TypeError, match="cval"):
        mi.shift(x, 1, cval="a")
    assert mi.shift([[1 + 1j, 2]], (0, 1), order=1).tolist() == [[0j, 1 + 1j]]  # a sequence too


@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32", "float64"])
def test_spline_filter_of_a_0d_array_is_its_value(dtype):
    x = np.ones((), dtype)
    for output in (np.float64, dtype, np.float32):
        ours, ref = mi.spline_filter(x, 3, output=output), ndi.spline_filter(x, 3, output=output)
        assert isinstance(ours, np.ndarray) and ours.shape == () and ours.dtype == ref.dtype
        assert ours == ref
    out = np.zeros((), np.float32)
    assert mi.spline_filter(np.array(2.5), 2, output=out) is out and out == 2.5
    with pytest.raises(ValueError, match="order"):
        mi.spline_filter(x, 1)


@pytest.mark.parametrize("name, call", [
    ("map_coordinates", lambda f, o: f(np.array([[1]]), np.indices((1, 1)), output=o)),
    ("affine_transform", lambda f, o: f(np.array([1]), [[1]], output=o)),
    ("zoom", lambda f, o: f(np.arange(4.0), 2, output=o)),
])
def test_output_dtype_name_gives_numpys_dtype_object(name, call):
    # SciPy's results carry numpy's own dtype object (`out.dtype is np.dtype('f')`)
    for o in ("f", np.float32, np.dtype(np.float32)):
        out = call(getattr(mi, name), o)
        assert out.dtype is np.dtype("f") and out.dtype is call(getattr(ndi, name), o).dtype
