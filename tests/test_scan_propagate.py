"""The scan/compaction and propagation building blocks (kernels/scan.py, kernels/propagate.py)
against numpy, on whatever arch runs (MEDKERN_ARCH=cpu and vulkan)."""
import functools

import numpy as np
import pytest
import taichi as ti

from medkern import arrays
from medkern.kernels import propagate, scan

#: lengths around the block sizes used (4 forces 3-4 levels on the small ones)
LENGTHS = [0, 1, 2, 3, 4, 5, 15, 16, 17, 255, 256, 257, 1000, 4095, 4096, 4097, 70001]


def to_buffer(x):
    buf = arrays.empty_buffer(x.shape, x.dtype)
    if isinstance(buf, np.ndarray):
        buf[...] = x
    else:
        buf.from_numpy(x)
    return buf


def to_host(buf):
    return np.array(buf if isinstance(buf, np.ndarray) else buf.to_numpy())


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("block", [4, None])
def test_prefix_sum_matches_cumsum(dtype, block):
    rng = np.random.default_rng(3)
    for n in LENGTHS:
        if n == 0:
            empty = np.zeros(0, dtype)
            assert scan.prefix_sum(empty, empty, block=block) == 0
            continue
        x = rng.integers(-1000, 1000, n).astype(dtype)
        src, dst = to_buffer(x), arrays.empty_buffer((n,), np.dtype(dtype))
        ref = np.cumsum(x, dtype=dtype)
        assert scan.prefix_sum(src, dst, inclusive=True, block=block) == ref[-1]
        np.testing.assert_array_equal(to_host(dst), ref, err_msg=f"inclusive n={n}")
        assert scan.prefix_sum(src, dst, block=block) == ref[-1]
        np.testing.assert_array_equal(to_host(dst), np.concatenate([[0], ref[:-1]]),
                                      err_msg=f"exclusive n={n}")


def test_prefix_sum_int64_beyond_int32_and_3d_source():
    x = np.full((3, 5, 7), 2**40 + 3, np.int64)
    x[1, 2, 3] = -(2**50)
    dst = arrays.empty_buffer((x.size,), np.dtype(np.int64))
    total = scan.prefix_sum(to_buffer(x), dst, inclusive=True, block=4)
    np.testing.assert_array_equal(to_host(dst), np.cumsum(x.ravel()))
    assert total == int(x.sum())


@pytest.mark.parametrize("dtype", ["uint8", "int64", "float32"])
def test_flatnonzero_matches_numpy(dtype):
    rng = np.random.default_rng(5)
    for n in LENGTHS[1:]:
        for density in (0.0, 0.3, 1.0):
            x = np.where(rng.random(n) < density, rng.integers(1, 100, n), 0).astype(dtype)
            if dtype == "float32" and n > 3:
                x[1], x[2] = np.nan, -0.0  # NaN is nonzero, -0.0 is zero (as numpy)
            idx, count = scan.flatnonzero(to_buffer(x), block=4 if n < 300 else None)
            ref = np.flatnonzero(x)
            assert count == len(ref)
            if count:
                np.testing.assert_array_equal(to_host(idx)[:, 0], ref, err_msg=f"n={n}")
            else:
                assert idx is None


def test_flatnonzero_of_a_3d_mask_in_raster_order_and_coordinates():
    x = (np.random.default_rng(2).random((4, 6, 9)) < 0.4).astype(np.uint8)
    idx, count = scan.flatnonzero(to_buffer(x))
    np.testing.assert_array_equal(to_host(idx)[:, 0], np.flatnonzero(x))
    for k, view in ((3, x), (2, x[0]), (1, x[0, 0])):
        buf = to_buffer(view.reshape((1,) * (3 - k) + view.shape))
        coords, count = scan.flatnonzero(buf, coords=k, block=4)
        np.testing.assert_array_equal(to_host(coords), np.argwhere(view))
    with pytest.raises(ValueError, match="coords"):
        scan.flatnonzero(to_buffer(x.ravel()), coords=1)


def _dense_rank(labels):
    ids = np.unique(labels[labels > 0])
    out = np.zeros(labels.shape, np.int32)
    out[labels > 0] = np.searchsorted(ids, labels[labels > 0]) + 1
    return out, len(ids)


@pytest.mark.parametrize("dtype", ["int32", "uint16", "int64"])
def test_relabel_numbers_ids_in_order(dtype):
    rng = np.random.default_rng(7)
    for shape, span in (((1, 1, 1), 3), ((1, 1, 37), 50), ((3, 7, 11), 1000), ((5, 40, 41), 9)):
        labels = rng.integers(-2 if dtype != "uint16" else 0, span, shape).astype(dtype)
        out = arrays.empty_buffer(shape, np.dtype(np.int32))
        n = scan.relabel(to_buffer(labels), out, id_space=int(max(labels.max(), 1)), block=4)
        ref, m = _dense_rank(labels)
        assert n == m
        np.testing.assert_array_equal(to_host(out), ref)


def test_relabel_roots_of_a_forest():
    # labels are 1-based flat positions; roots carry their own: 0, 3, 7 (0-based) here
    lab = np.array([1, 1, 0, 4, 1, 4, 0, 8, 8, 4], np.int32)
    out = arrays.empty_buffer((1, 2, 5), np.dtype(np.uint8))
    assert scan.relabel(to_buffer(lab), out, roots=True, block=2) == 3
    np.testing.assert_array_equal(to_host(out).ravel(), [1, 1, 0, 2, 1, 2, 0, 3, 3, 2])


# --------------------------------------------------------------------------- propagate
@functools.lru_cache(maxsize=None)
def _shift_max():
    """A toy propagation: a[i] = max(a[i], a[i - 1]) -- one step to the right per sweep."""
    @ti.kernel
    def kern(a: ti.types.ndarray(dtype=ti.i32, ndim=1), flag: ti.types.ndarray(dtype=ti.i32, ndim=1),
             stamp: ti.i32):
        for i in range(1):  # one serial walk backwards: exactly one step per sweep
            for k in range(a.shape[0] - 1):
                j = a.shape[0] - 1 - k
                if a[j - 1] > a[j]:
                    a[j] = a[j - 1]
                    propagate.mark(flag, stamp)
    return kern


@pytest.mark.parametrize("every", [1, 3, 4, 10])
def test_driver_stops_after_the_first_unchanged_sweep_and_reads_back_rarely(every):
    n = 23
    a = to_buffer(np.r_[7, np.zeros(n - 1, np.int32)].astype(np.int32))
    kern = _shift_max()
    stats = propagate.run(lambda flag, stamp: kern(a, flag, stamp), max_sweeps=100,
                          every=every)
    assert (to_host(a) == 7).all()
    assert stats.changing == n - 1  # one step per sweep
    assert stats.changing < stats.sweeps <= stats.changing + every  # at most every-1 wasted
    assert stats.readbacks == -(-stats.sweeps // every)
    if every > 1:
        assert stats.readbacks < stats.sweeps
    assert propagate.last_run == stats


def test_driver_raises_instead_of_looping_forever():
    @ti.kernel
    def always(flag: ti.types.ndarray(dtype=ti.i32, ndim=1), stamp: ti.i32):
        propagate.mark(flag, stamp)

    calls = []

    def sweep(flag, stamp):
        calls.append(stamp)
        always(flag, stamp)
    with pytest.raises(propagate.NoConvergence, match="flood.*10 sweeps"):
        propagate.run(sweep, max_sweeps=10, every=4, name="flood")
    assert calls == list(range(1, 11))  # the last batch is cut to the limit
    with pytest.raises(ValueError, match="every"):
        propagate.run(sweep, max_sweeps=10, every=0)


def test_driver_returns_its_flag_to_the_pool():
    before = arrays.pool_stats()["leased"]
    a = to_buffer(np.zeros(4, np.int32))
    propagate.run(lambda flag, stamp: _shift_max()(a, flag, stamp), max_sweeps=5)
    assert arrays.pool_stats()["leased"] == before + 1  # only `a`
