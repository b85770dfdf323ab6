"""Memory layouts, dtypes, DeviceArray and ``output=``: same results as ``scipy.ndimage``.

Every layout a caller may hand over (C, Fortran, strided and negative-stride
views, read-only, big-endian, unaligned) gives SciPy's result on the same data
and is never modified; DeviceArray inputs give DeviceArray outputs; ``output=``
works as a dtype, a numpy array (written in place and returned), a
DeviceArray, and the input itself.
"""
import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.filters as mf
from medkern.arrays import SUPPORTED_DTYPES
import taichi as ti  # after medkern: no banner

RNG = np.random.default_rng(42)
BASE = RNG.uniform(0, 1, (14, 17))


def make(dtype, shape=(14, 17)):
    dtype = np.dtype(dtype)
    unit = BASE[: shape[0], : shape[1]] if len(shape) == 2 else RNG.uniform(0, 1, shape)
    if dtype.kind == "f":
        return (unit * 200 - 50).astype(dtype)
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -1000), min(info.max, 1000)
    return np.rint(lo + unit * (hi - lo)).astype(dtype)


def assert_matches(ours, ref):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape
    assert ours.dtype == ref.dtype.newbyteorder("="), (ours.dtype, ref.dtype)
    if ref.dtype.kind == "f":
        scale = max(float(np.max(np.abs(ref))), 1.0)
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5 * scale)
    else:
        np.testing.assert_array_equal(ours, ref)


# ------------------------------------------------------------------------- layouts
def _unaligned(a):
    buf = np.zeros(a.nbytes + 1, np.uint8)
    u = np.ndarray(a.shape, a.dtype, buffer=buf, offset=1)
    u[...] = a
    return u


def _strided(a):
    big = np.zeros((a.shape[0] * 2, a.shape[1] * 3 + 1), a.dtype)
    big[::2, 1::3] = a
    return big[::2, 1::3]


LAYOUTS = {
    "C": lambda a: np.ascontiguousarray(a),
    "F": lambda a: np.asfortranarray(a),
    "strided": _strided,
    "negative": lambda a: np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
    "negative-strided": lambda a: _strided(a[::-1, :])[::-1, :],
    "read-only": lambda a: _readonly(a),
    "big-endian": lambda a: a.astype(a.dtype.newbyteorder(">")),
    "unaligned": _unaligned,
}


def _readonly(a):
    r = a.copy()
    r.flags.writeable = False
    return r


LAYOUT_FILTERS = [("gaussian_filter", {"sigma": 1.5}), ("median_filter", {"size": 3}),
                  ("sobel", {}), ("uniform_filter", {"size": 3})]


@pytest.mark.parametrize("dtype", ["float32", "uint8", "int16"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layouts_match_scipy_and_are_not_mutated(layout, dtype):
    data = make(dtype)
    x = LAYOUTS[layout](data)
    np.testing.assert_array_equal(x, data)
    if layout == "unaligned" and x.dtype.itemsize > 1:
        assert not x.flags.aligned
    before, flags = x.copy(), (x.flags.writeable, x.strides, x.dtype)
    for name, kw in LAYOUT_FILTERS:
        ours = getattr(mf, name)(x, **kw)
        assert isinstance(ours, np.ndarray)
        assert_matches(ours, getattr(ndi, name)(x, **kw))
    np.testing.assert_array_equal(x, before)
    assert (x.flags.writeable, x.strides, x.dtype) == flags


def test_big_endian_int16_and_float32_explicitly():
    for dt in (">f4", ">i2"):
        x = make(dt[1:]).astype(dt)
        assert x.dtype.byteorder == ">"
        for name, kw in LAYOUT_FILTERS:
            assert_matches(getattr(mf, name)(x, **kw), getattr(ndi, name)(x, **kw))


def test_3d_fortran_and_strided():
    a = make(np.float32, (6, 7, 8))
    for x in (np.asfortranarray(a), np.ascontiguousarray(a[:, ::-1, :])[:, ::-1, :],
              np.transpose(a.copy(), (2, 1, 0)).T, a[:, ::2, 1:]):
        assert_matches(mf.uniform_filter(x, 3), ndi.uniform_filter(x, 3))
        np.testing.assert_array_equal(x, a if x.shape == a.shape else a[:, ::2, 1:])


# ------------------------------------------------------------------------- 1-D
ONE_D = [("gaussian_filter1d", {"sigma": 1.5}), ("gaussian_filter", {"sigma": 1.5}),
         ("uniform_filter", {"size": 3}), ("uniform_filter1d", {"size": 4}),
         ("correlate1d", {"weights": [1.0, 2.0, -1.0]}), ("median_filter", {"size": 3}),
         ("minimum_filter1d", {"size": 3}), ("sobel", {})]


@pytest.mark.parametrize("dtype", ["float32", "int16"])
@pytest.mark.parametrize("name, kw", ONE_D, ids=[n for n, _ in ONE_D])
def test_1d_inputs(name, kw, dtype):
    x = make(dtype, (14, 17)).ravel()[:37]
    before = x.copy()
    assert_matches(getattr(mf, name)(x, **kw), getattr(ndi, name)(x, **kw))
    assert_matches(getattr(mf, name)(x[::-2], **kw), getattr(ndi, name)(x[::-2], **kw))
    np.testing.assert_array_equal(x, before)


# ------------------------------------------------------------------------- asarray / asnumpy
@pytest.mark.parametrize("dtype", [d.name for d in SUPPORTED_DTYPES])
@pytest.mark.parametrize("shape", [(11,), (4, 5), (2, 3, 4)])
def test_asarray_asnumpy_round_trip(dtype, shape):
    x = make(dtype, shape) if len(shape) != 1 else make(dtype, (3, 11))[0]
    d = medkern.asarray(x)
    assert isinstance(d, medkern.DeviceArray)
    assert d.shape == x.shape and d.dtype == x.dtype and d.ndim == x.ndim and d.size == x.size
    assert d.nbytes == x.nbytes and len(d) == len(x)
    y = medkern.asnumpy(d)
    assert type(y) is np.ndarray and y.dtype == x.dtype
    np.testing.assert_array_equal(y, x)
    assert not np.shares_memory(y, x)
    np.testing.assert_array_equal(np.asarray(d), x)
    assert np.asarray(d, dtype=np.float64).dtype == np.float64


def test_asarray_details():
    x = make(np.float32)
    d = medkern.asarray(x)
    x_before = x.copy()
    x[0, 0] = 1234.0  # the device copy does not alias the caller's memory
    assert medkern.asnumpy(d)[0, 0] == x_before[0, 0]
    y = medkern.asnumpy(d)
    y[1, 1] = -1.0  # nor does the host copy alias the device
    assert medkern.asnumpy(d)[1, 1] == x_before[1, 1]
    assert medkern.asarray(d) is d
    assert medkern.asarray(d, dtype=np.float32) is d
    d64 = medkern.asarray(d, dtype=np.float64)
    assert d64.dtype == np.float64
    np.testing.assert_array_equal(medkern.asnumpy(d64), x_before.astype(np.float64))
    assert medkern.asnumpy(x) is x  # numpy in: returned as is
    # layouts and dtypes that need conversion
    for src in (np.asfortranarray(x_before), x_before[::-1, ::2], x_before.astype(">f4"),
                [[1.0, 2.0], [3.0, 4.0]]):
        np.testing.assert_array_equal(medkern.asnumpy(medkern.asarray(src)), np.asarray(src))
    b = medkern.asarray(np.array([True, False, True]))
    assert b.dtype == np.uint8
    np.testing.assert_array_equal(medkern.asnumpy(b), [1, 0, 1])
    i = medkern.asarray(np.arange(5), dtype=np.int16)
    assert i.dtype == np.int16
    c = d.copy()
    assert c is not d and c.shape == d.shape and c.dtype == d.dtype
    np.testing.assert_array_equal(medkern.asnumpy(c), medkern.asnumpy(d))


def test_device_array_attributes():
    d = medkern.asarray(make(np.int16, (2, 3, 4)))
    assert d.shape == (2, 3, 4) and d.ndim == 3 and d.size == 24 and d.nbytes == 48
    assert d.dtype == np.dtype(np.int16) and len(d) == 2
    r = repr(d)
    assert r.startswith("DeviceArray(") and "(2, 3, 4)" in r and "int16" in r
    assert "arch=" in r


# ------------------------------------------------------------------------- DeviceArray in/out
@ti.func
def _window_max(w):
    return w.max()


W1 = [1.0, 2.0, -1.0]
W2 = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 0.25]])
#: (our kwargs, scipy function, scipy kwargs) for every public filter.
EVERY = {
    "correlate1d": ({"weights": W1}, None, None),
    "convolve1d": ({"weights": W1}, None, None),
    "correlate": ({"weights": W2}, None, None),
    "convolve": ({"weights": W2}, None, None),
    "gaussian_filter1d": ({"sigma": 1.5}, None, None),
    "gaussian_filter": ({"sigma": 1.5}, None, None),
    "gaussian_laplace": ({"sigma": 1.5}, None, None),
    "gaussian_gradient_magnitude": ({"sigma": 1.5}, None, None),
    "uniform_filter1d": ({"size": 3}, None, None),
    "uniform_filter": ({"size": 3}, None, None),
    "minimum_filter1d": ({"size": 3}, None, None),
    "maximum_filter1d": ({"size": 3}, None, None),
    "minimum_filter": ({"size": 3}, None, None),
    "maximum_filter": ({"size": 3}, None, None),
    "median_filter": ({"size": 3}, None, None),
    "rank_filter": ({"rank": 2, "size": 3}, None, None),
    "percentile_filter": ({"percentile": 30.0, "size": 3}, None, None),
    "generic_filter": ({"function": _window_max, "size": 3}, ndi.maximum_filter, {"size": 3}),
    "sobel": ({}, None, None),
    "prewitt": ({}, None, None),
    "laplace": ({}, None, None),
}
FILTERS = [n for n in mf.__all__ if n != "gaussian_kernel1d"]
#: SciPy computes these as sums of per-axis results written into ``output``: with
#: output=input its later passes read overwritten data. medkern's in-place result
#: is the out-of-place one.
SCIPY_ALIASES = {"laplace", "gaussian_laplace", "gaussian_gradient_magnitude"}


def run(name, x, **extra):
    kw = EVERY[name][0]
    return getattr(mf, name)(x, **kw, **extra)


def ref(name, x, **extra):
    _, func, kw = EVERY[name]
    if func is None:
        func, kw = getattr(ndi, name), EVERY[name][0]
    return func(x, **kw, **extra)


def test_every_filter_is_listed():
    assert set(FILTERS) <= set(EVERY)


@pytest.mark.parametrize("name", FILTERS)
def test_device_in_device_out(name):
    x = make(np.float32)
    d = medkern.asarray(x)
    out = run(name, d)
    assert isinstance(out, medkern.DeviceArray)
    assert out.shape == x.shape and out.dtype == np.float32
    assert_matches(medkern.asnumpy(out), ref(name, x))
    np.testing.assert_array_equal(medkern.asnumpy(d), x)  # device input not mutated
    # output= a DeviceArray: written and returned
    target = medkern.asarray(np.zeros(x.shape, np.float32))
    assert run(name, d, output=target) is target
    assert_matches(np.asarray(target), ref(name, x))


@pytest.mark.parametrize("name", FILTERS)
def test_output_equal_input_in_place(name):
    x = make(np.float32)
    y = x.copy()
    assert run(name, y, output=y) is y
    assert_matches(y, ref(name, x))
    if name not in SCIPY_ALIASES:
        z = x.copy()
        ref(name, z, output=z)
        assert_matches(y, z)
    # the same on the device: output=the input DeviceArray
    d = medkern.asarray(x)
    assert run(name, d, output=d) is d
    assert_matches(medkern.asnumpy(d), ref(name, x))


def test_pipeline_on_device_equals_numpy_pipeline():
    x = make(np.float32)
    d = medkern.asarray(x)
    g = mf.gaussian_filter(d, 1.5)
    s = mf.sobel(g)
    m = mf.maximum_filter(s, size=3)
    assert all(isinstance(v, medkern.DeviceArray) for v in (g, s, m))
    host = mf.maximum_filter(mf.sobel(mf.gaussian_filter(x, 1.5)), size=3)
    np.testing.assert_array_equal(medkern.asnumpy(m), host)
    sp = ndi.maximum_filter(ndi.sobel(ndi.gaussian_filter(x, 1.5)), size=3)
    assert_matches(host, sp)


# ------------------------------------------------------------------------- output=
OUT_DTYPE_CASES = [("gaussian_filter", {"sigma": 1.5}, np.float32),
                   ("uniform_filter", {"size": 3}, np.float32),
                   ("median_filter", {"size": 3}, np.float32),
                   ("sobel", {}, np.float32), ("sobel", {}, np.int16),
                   ("correlate", {"weights": W2}, np.float64),
                   ("gaussian_laplace", {"sigma": 1.5}, np.float32)]


@pytest.mark.parametrize("name, kw, out_dtype", OUT_DTYPE_CASES,
                         ids=[f"{n}-{np.dtype(d).name}" for n, _, d in OUT_DTYPE_CASES])
def test_output_dtype(name, kw, out_dtype):
    x = make(np.uint8)
    ours = getattr(mf, name)(x, output=out_dtype, **kw)
    sp = getattr(ndi, name)(x, output=out_dtype, **kw)
    assert ours.dtype == np.dtype(out_dtype) == sp.dtype
    assert_matches(ours, sp)
    # the same as a dtype string
    assert_matches(getattr(mf, name)(x, output=np.dtype(out_dtype).name, **kw), sp)


def test_output_numpy_arrays():
    x = make(np.uint8)
    sp = ndi.gaussian_filter(x, 1.5, output=np.float32)
    out = np.full(x.shape, -7.0, np.float32)
    assert mf.gaussian_filter(x, 1.5, output=out) is out
    assert_matches(out, sp)
    # Fortran-ordered, strided view and big-endian output arrays
    f = np.zeros(x.shape, np.float32, order="F")
    assert mf.gaussian_filter(x, 1.5, output=f) is f
    assert_matches(f, sp)
    big = np.zeros((x.shape[0], x.shape[1] * 2), np.float32)
    view = big[:, ::2]
    assert mf.gaussian_filter(x, 1.5, output=view) is view
    assert_matches(view, sp)
    assert not big[:, 1::2].any()  # nothing written between the view's elements
    be = np.zeros(x.shape, ">f4")
    assert mf.gaussian_filter(x, 1.5, output=be) is be
    np.testing.assert_allclose(be, sp, rtol=1e-5)
    # integer output array of another type
    i16 = np.zeros(x.shape, np.int16)
    assert mf.sobel(x, output=i16) is i16
    assert_matches(i16, ndi.sobel(x, output=np.int16))


def test_output_dtype_with_device_input():
    x = make(np.uint8)
    out = mf.gaussian_filter(medkern.asarray(x), 1.5, output=np.float32)
    assert isinstance(out, medkern.DeviceArray) and out.dtype == np.float32
    assert_matches(medkern.asnumpy(out), ndi.gaussian_filter(x, 1.5, output=np.float32))


def test_device_output_from_numpy_input():
    x = make(np.float32)
    target = medkern.asarray(np.zeros(x.shape, np.float32))
    assert mf.median_filter(x, size=3, output=target) is target
    assert_matches(medkern.asnumpy(target), ndi.median_filter(x, size=3))
