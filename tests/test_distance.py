"""Distance transforms (medkern.morphology.distance_transform_*) against scipy.ndimage.

The generated registry tests cover a few cases per arch; these add densities 0.1-0.9,
a real image's mask, anisotropic sampling, indices (identical to SciPy's, ties
included; ``cdt`` with any structure too), the ``distances=`` / ``indices=`` outputs, images without
background, the kinds of input and output, and bad arguments.
"""
import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.morphology as mm
from medkern import ArgumentError, Volume
from medkern.sample_data import binary_mask, ct_volume

SHAPES = {2: (29, 37), 3: (11, 14, 13)}
DENSITIES = (0.1, 0.5, 0.9)
SAMPLING = {2: (1.5, 0.7), 3: (2.5, 0.8, 0.6)}


def _np(x):
    return medkern.asnumpy(x) if isinstance(x, medkern.DeviceArray) else np.asarray(x)


def _mask(ndim, density, seed=0, dtype=bool):
    return binary_mask(SHAPES[ndim], density, seed=seed, dtype=dtype)


# --------------------------------------------------------------------------- edt
@pytest.mark.parametrize("ndim", (2, 3))
@pytest.mark.parametrize("density", DENSITIES)
def test_edt_equals_scipy_with_indices(ndim, density):
    """Without sampling every quantity is an integer: distances and indices equal SciPy's
    exactly, ties included (the same algorithm, pass order and tie rules)."""
    x = _mask(ndim, density, seed=int(density * 10))
    d, i = mm.distance_transform_edt(x, return_indices=True)
    rd, ri = ndi.distance_transform_edt(x, return_indices=True)
    assert d.dtype == np.float64 and i.dtype == np.int32 and i.shape == (ndim,) + x.shape
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_array_equal(d, rd)


@pytest.mark.parametrize("ndim", (2, 3))
@pytest.mark.parametrize("density", (0.2, 0.7))
def test_edt_anisotropic_sampling(ndim, density):
    x = _mask(ndim, density, seed=5)
    d, i = mm.distance_transform_edt(x, sampling=SAMPLING[ndim], return_indices=True)
    rd, ri = ndi.distance_transform_edt(x, sampling=SAMPLING[ndim], return_indices=True)
    np.testing.assert_allclose(d, rd, rtol=1e-14, atol=0)
    # a nearest background element; SciPy's own wherever the float predicate agrees
    # (every element on the CPU arch, where the arithmetic is SciPy's to the bit)
    assert (x[tuple(i)] == 0).all()
    if medkern.runtime.is_cpu():
        np.testing.assert_array_equal(i, ri)
    # a scalar sampling is every axis' spacing
    np.testing.assert_allclose(mm.distance_transform_edt(x, sampling=0.5),
                               ndi.distance_transform_edt(x, sampling=0.5), rtol=1e-14)


def test_edt_real_image_mask():
    """The CT slice's foreground (anatomical shapes, large distances)."""
    ct = ct_volume((2, 96, 96))
    x = ct > np.quantile(ct, 0.6)
    d, i = mm.distance_transform_edt(x, return_indices=True)
    rd, ri = ndi.distance_transform_edt(x, return_indices=True)
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_array_equal(d, rd)
    d2 = mm.distance_transform_edt(x[0], sampling=(0.7, 0.7))
    np.testing.assert_allclose(d2, ndi.distance_transform_edt(x[0], sampling=(0.7, 0.7)),
                               rtol=1e-14)


@pytest.mark.parametrize("dtype", (bool, np.uint8, np.int16, np.float32, np.float64))
def test_edt_input_dtypes_and_not_mutated(dtype):
    x = _mask(2, 0.5, seed=3, dtype=dtype)
    if np.dtype(dtype).kind == "f":
        x[0, :3] = np.nan  # NaN is nonzero: foreground, as np.where(input, 1, 0) says
    before = x.copy()
    np.testing.assert_array_equal(mm.distance_transform_edt(x), ndi.distance_transform_edt(x))
    np.testing.assert_array_equal(x, before)


def test_edt_1d_and_refused_0d_empty():
    x = np.array([1, 1, 0, 1, 1, 1, 0, 1], bool)
    d, i = mm.distance_transform_edt(x, return_indices=True)
    rd, ri = ndi.distance_transform_edt(x, return_indices=True)
    np.testing.assert_array_equal(d, rd)
    np.testing.assert_array_equal(i, ri)
    # SciPy answers these; medkern refuses them outside the filters and measurements
    for bad in (np.array(1), np.zeros((0, 4))):
        for f in (mm.distance_transform_edt, mm.distance_transform_cdt, mm.distance_transform_bf):
            with pytest.raises(ValueError, match="input"):
                f(bad)


@pytest.mark.parametrize("func", ("edt", "cdt", "bf"))
@pytest.mark.parametrize("ndim", (2, 3))
def test_no_background_gives_scipys_values(func, ndim):
    x = np.ones(SHAPES[ndim][-ndim:], dtype=np.uint8)
    ours = getattr(mm, f"distance_transform_{func}")(x, return_indices=True)
    ref = getattr(ndi, f"distance_transform_{func}")(x, return_indices=True)
    for o, r in zip(ours, ref):
        assert o.dtype == r.dtype
        np.testing.assert_array_equal(o, r)
    # and without distances, the indices alone
    idx = getattr(mm, f"distance_transform_{func}")(x, return_distances=False,
                                                    return_indices=True)
    np.testing.assert_array_equal(idx, ref[1])


def test_volume_uses_its_spacing():
    """A Volume's spacing (per array axis) is the default sampling; the result is a
    Volume on the same grid, the indices a plain array."""
    x = _mask(3, 0.6, seed=7)
    spacing = (3.0, 0.7, 0.9)
    vol = Volume(x.copy(), spacing=spacing, origin=(1.0, 2.0, 3.0), series_uid="1.2.3")
    d, i = mm.distance_transform_edt(vol, return_indices=True)
    rd, ri = ndi.distance_transform_edt(x, sampling=spacing, return_indices=True)
    assert isinstance(d, Volume) and d.spacing == spacing and d.derived_from == "1.2.3"
    np.testing.assert_allclose(d.array, rd, rtol=1e-14)
    assert isinstance(i, np.ndarray) and i.shape == (3,) + x.shape
    # an explicit sampling wins over the spacing
    np.testing.assert_array_equal(mm.distance_transform_edt(vol, sampling=1).array,
                                  ndi.distance_transform_edt(x))
    # 2-D volumes: spacing of the two array axes
    v2 = Volume(x[3].copy(), spacing=(0.5, 2.0))
    np.testing.assert_allclose(mm.distance_transform_edt(v2).array,
                               ndi.distance_transform_edt(x[3], sampling=(0.5, 2.0)), rtol=1e-14)


def test_device_arrays_in_and_out():
    x = _mask(3, 0.5, seed=2)
    dx = medkern.asarray(x)
    d, i = mm.distance_transform_edt(dx, return_indices=True)
    assert isinstance(d, medkern.DeviceArray) and isinstance(i, medkern.DeviceArray)
    assert i.shape == (3,) + x.shape and i.dtype == np.int32
    rd, ri = ndi.distance_transform_edt(x, return_indices=True)
    np.testing.assert_array_equal(_np(d), rd)
    np.testing.assert_array_equal(_np(i), ri)
    c = mm.distance_transform_cdt(dx, metric="taxicab")
    assert isinstance(c, medkern.DeviceArray)
    np.testing.assert_array_equal(_np(c), ndi.distance_transform_cdt(x, metric="taxicab"))
    # outputs on the device
    out_d = medkern.asarray(np.zeros(x.shape, np.float64))
    out_i = medkern.asarray(np.zeros((3,) + x.shape, np.int32))
    assert mm.distance_transform_edt(dx, return_indices=True, distances=out_d,
                                     indices=out_i) is None
    np.testing.assert_array_equal(_np(out_d), rd)
    np.testing.assert_array_equal(_np(out_i), ri)


@pytest.mark.parametrize("func", ("edt", "cdt", "bf"))
def test_output_arrays(func):
    """distances= / indices= are filled and left out of the result, as in SciPy."""
    x = _mask(2, 0.5, seed=4)
    ours_f = getattr(mm, f"distance_transform_{func}")
    ref_f = getattr(ndi, f"distance_transform_{func}")
    rd, ri = ref_f(x, return_indices=True)
    dist = np.zeros(x.shape, rd.dtype)
    idx = np.zeros((2,) + x.shape, np.int32)
    got = ours_f(x, return_indices=True, indices=idx)
    np.testing.assert_array_equal(got, rd)
    got = ours_f(x, return_indices=True, distances=dist)
    assert not isinstance(got, tuple) and got.shape == (2,) + x.shape
    np.testing.assert_array_equal(dist, rd)
    dist[...] = 0
    assert ours_f(x, return_indices=True, distances=dist, indices=idx) is None
    np.testing.assert_array_equal(dist, rd)
    assert (x[tuple(idx)] == 0).all()
    if func != "cdt":
        np.testing.assert_array_equal(idx, ri)


# --------------------------------------------------------------------------- cdt / bf
def _brute(x, metric, sampling=None):
    """Distances to every background element (float64, shape (n_bg,) + x.shape)."""
    bg = np.argwhere(x == 0)
    grid = np.indices(x.shape)
    diff = np.abs(grid[None] - bg.reshape(bg.shape + (1,) * x.ndim)).astype(np.float64)
    if metric == "taxicab":
        return diff.sum(axis=1)
    if metric == "chessboard":
        return diff.max(axis=1)
    s = np.ones(x.ndim) if sampling is None else np.asarray(sampling, np.float64)
    return np.sqrt(((diff * s.reshape((1, -1) + (1,) * x.ndim)) ** 2).sum(axis=1))


@pytest.mark.parametrize("metric", ("chessboard", "taxicab"))
@pytest.mark.parametrize("ndim", (2, 3))
@pytest.mark.parametrize("density", DENSITIES)
def test_cdt_equals_scipy(metric, ndim, density):
    """Indices from SciPy's two sweeps (ties included) and distances from the separable
    passes: both identical to SciPy's, which are the brute-force minimum."""
    x = _mask(ndim, density, seed=11 + int(density * 10))
    d, i = mm.distance_transform_cdt(x, metric=metric, return_indices=True)
    rd, ri = ndi.distance_transform_cdt(x, metric=metric, return_indices=True)
    assert d.dtype == np.int32 and i.dtype == np.int32
    np.testing.assert_array_equal(d, rd)
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_array_equal(mm.distance_transform_cdt(x, metric=metric), rd)
    np.testing.assert_array_equal(rd, _brute(x, metric).min(axis=0))  # the claim, for SciPy too


def test_cdt_indices_beyond_one_launchs_loop_cap():
    # SciPy's sweeps run serially; Mesa's software Vulkan silently ends a thread's loops
    # after 65535 iterations, so the sweeps run in launches of fewer visits (this image
    # has 78,000 elements: it was wrong on Vulkan before)
    a = np.random.default_rng(5).random((300, 260)) > 0.02
    for metric in ("chessboard", "taxicab"):
        d, i = mm.distance_transform_cdt(a, metric=metric, return_indices=True)
        rd, ri = ndi.distance_transform_cdt(a, metric=metric, return_indices=True)
        np.testing.assert_array_equal(d, rd)
        np.testing.assert_array_equal(i, ri)


@pytest.mark.parametrize("ndim", (1, 2, 3))
def test_cdt_any_structure(ndim):
    """Any 3 x ... x 3 structure: SciPy's sweeps read its half before the centre (some
    elements may stay unreached, -1); distances and indices identical."""
    rng = np.random.default_rng(ndim)
    x = _mask(ndim, 0.7, seed=3) if ndim > 1 else rng.random(40) < 0.7
    for _ in range(2):
        s = rng.random((3,) * ndim) < 0.5
        for kw in ({}, {"return_indices": True}):
            got = mm.distance_transform_cdt(x, metric=s, **kw)
            ref = ndi.distance_transform_cdt(x, metric=s, **kw)
            for g, r in zip(got if kw else (got,), ref if kw else (ref,)):
                np.testing.assert_array_equal(g, r)


def test_cdt_metric_names_and_structures():
    x = _mask(3, 0.5, seed=1)
    ref = ndi.distance_transform_cdt(x, metric="taxicab")
    for m in ("cityblock", "manhattan", ndi.generate_binary_structure(3, 1).astype(int)):
        np.testing.assert_array_equal(mm.distance_transform_cdt(x, metric=m), ref)
    np.testing.assert_array_equal(mm.distance_transform_cdt(x, metric=np.ones((3, 3, 3))),
                                  ndi.distance_transform_cdt(x, metric="chessboard"))
    with pytest.raises(ValueError, match="invalid metric"):
        mm.distance_transform_cdt(x, metric="euclidean")
    with pytest.raises(ValueError, match="sizes must be equal to 3"):
        mm.distance_transform_cdt(x, metric=np.ones((3, 5, 3)))
    with pytest.raises(ValueError, match="rank"):
        mm.distance_transform_cdt(x, metric=np.ones((3, 3)))


@pytest.mark.parametrize("metric", ("euclidean", "taxicab", "chessboard"))
@pytest.mark.parametrize("ndim", (2, 3))
def test_bf_equals_scipy(metric, ndim):
    x = _mask(ndim, 0.6, seed=21)
    sampling = SAMPLING[ndim] if metric == "euclidean" else (2.0,) * ndim  # ignored there
    d, i = mm.distance_transform_bf(x, metric=metric, sampling=sampling, return_indices=True)
    rd, ri = ndi.distance_transform_bf(x, metric=metric, sampling=sampling,
                                       return_indices=True)
    assert d.dtype == rd.dtype
    # SciPy's brute force, its arithmetic and tie rule: the same numbers and indices
    np.testing.assert_array_equal(d, rd)
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_array_equal(mm.distance_transform_bf(x, metric=metric.upper()), rd
                                  if metric != "euclidean" else
                                  ndi.distance_transform_bf(x, metric=metric))


# --------------------------------------------------------------------------- Vulkan's loop cap
def test_cdt_long_lines():
    """Mesa's software Vulkan ends a thread's loops after 65535 iterations: the separable
    cdt walks every line with one thread (two passes), so 1-D arrays of 40000 elements and
    a (40000, 2) image (taxicab) came out wrong. The walks now take bounded launches."""
    rng = np.random.default_rng(7)
    x1 = (rng.random(40_000) > 0.01).astype(np.uint8)
    x2 = (rng.random((40_000, 2)) > 0.001).astype(np.uint8)
    # (not the chessboard pass along the long axis: linf_pass, whose lower envelope's pops
    # make a walk's cost per launch unbounded, is still one launch)
    for x, metric in ((x1, "taxicab"), (x1, "chessboard"), (x2, "taxicab")):
        np.testing.assert_array_equal(mm.distance_transform_cdt(x, metric),
                                      ndi.distance_transform_cdt(x, metric))


@pytest.mark.slow
def test_bf_long_border_list():
    """Every foreground element measures every border element: 71344 border elements
    here (isolated points on a lattice), one loop of a thread, which Mesa's Vulkan ended
    after 65535 iterations. The list now takes bounded launches, in order (SciPy's ties).
    (12 s on lavapipe: ``test_bf_and_cdt_in_bounded_launches`` runs the split in little.)"""
    x = np.zeros((42, 42, 42), np.uint8)
    x[1::3, 1::3, 1::3] = 1
    d, i = mm.distance_transform_bf(x, "chessboard", return_indices=True)
    rd, ri = ndi.distance_transform_bf(x, "chessboard", return_indices=True)
    np.testing.assert_array_equal(d, rd)
    np.testing.assert_array_equal(i, ri)


@pytest.mark.parametrize("metric", ("euclidean", "taxicab", "chessboard"))
def test_bf_and_cdt_in_bounded_launches(metric, monkeypatch):
    """The launch splitting at a tiny scale, on every arch (a 60-iteration budget,
    64-thread grid-stride loops): features and ties stay SciPy's."""
    from medkern import runtime
    from medkern.kernels import dsl
    monkeypatch.setattr(runtime, "serial_budget", lambda: 60)
    monkeypatch.setattr(dsl, "GRID_THREADS", 64)
    x = _mask(2, 0.6, seed=5)
    d, i = mm.distance_transform_bf(x, metric=metric, return_indices=True)
    rd, ri = ndi.distance_transform_bf(x, metric=metric, return_indices=True)
    np.testing.assert_array_equal(d, rd)
    np.testing.assert_array_equal(i, ri)
    if metric != "euclidean":
        for y in (x, _mask(3, 0.8, seed=6), x[0]):
            if metric == "chessboard" and y.ndim > 1 and not runtime.is_cpu():
                # the L-infinity passes are not split into launches: refused beyond one
                with pytest.raises(NotImplementedError, match="Vulkan"):
                    mm.distance_transform_cdt(y, metric)
                continue
            np.testing.assert_array_equal(mm.distance_transform_cdt(y, metric),
                                          ndi.distance_transform_cdt(y, metric))


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("func", ("edt", "cdt", "bf"))
def test_return_flags_and_outputs_checked(func):
    f = getattr(mm, f"distance_transform_{func}")
    x = _mask(2, 0.5)
    with pytest.raises(RuntimeError, match="at least one of return_distances"):
        f(x, return_distances=False)
    with pytest.raises(RuntimeError, match="return_indices must be True"):
        f(x, indices=np.zeros((2,) + x.shape, np.int32))
    with pytest.raises(RuntimeError, match="return_distances must be True"):
        f(x, return_indices=True, return_distances=False,
          distances=np.zeros(x.shape))
    err = ValueError if func == "cdt" else RuntimeError
    with pytest.raises(err, match="indices"):
        f(x, return_indices=True, indices=np.zeros((2,) + x.shape, np.int64))
    with pytest.raises(err, match="indices"):
        f(x, return_indices=True, indices=np.zeros((3,) + x.shape, np.int32))
    with pytest.raises(err, match="distances"):
        f(x, distances=np.zeros((3, 3), np.float64 if func != "cdt" else np.int32))
    with pytest.raises(err, match="distances"):
        f(x, distances=np.zeros(x.shape, np.float32))
    with pytest.raises(TypeError, match="distances"):
        f(x, distances=[0.0])


def test_sampling_checked():
    x = _mask(3, 0.5)
    with pytest.raises(RuntimeError, match="length equal to input rank"):
        mm.distance_transform_edt(x, sampling=(1.0, 2.0))
    with pytest.raises(ArgumentError, match="sampling"):
        mm.distance_transform_bf(x, sampling=(1.0, 2.0))
    for bad in (0.0, -1.0, (1.0, np.inf, 1.0), (1.0, 1.0, np.nan)):
        with pytest.raises(ValueError, match="sampling must be positive"):
            mm.distance_transform_edt(x, sampling=bad)
    with pytest.raises(TypeError, match="sampling"):
        mm.distance_transform_edt(x, sampling="1")
    with pytest.raises(RuntimeError, match="metric not supported"):
        mm.distance_transform_bf(x, metric="chebyshev")
    with pytest.raises(ValueError, match="dimensions"):
        mm.distance_transform_edt(np.ones((2, 2, 2, 2)))
