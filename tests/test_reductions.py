"""Whole-array reductions (issue 8, item 7): the faster routes give the same results.

``sum``/``mean``: on the CPU arch numpy's own sum of the buffer (SciPy's arithmetic, to
the bit); on devices each row of the 3-D buffer is added serially in float64 (integers in
64-bit integers) and the row partials combined with numpy (the kernel's 8-rows-at-once
CPU layout must not change a bit either: ``test_row_kernel_keeps_its_order``). ``minimum``/``maximum``: numpy on the CPU arch, one
NaN-aware kernel pass on devices; NaN anywhere gives NaN.
"""
import numpy as np
import pytest

import scipy.ndimage as ndi

import medkern
import medkern.measurements as mm
from medkern import runtime

RNG = np.random.default_rng(3)
SHAPES = [(3, 13, 37), (29, 5), (1000,), (2, 9, 8)]


def _row_serial_sum(x: np.ndarray) -> float:
    """The documented order: each row left to right in float64, then numpy over rows."""
    rows = x.reshape(-1, x.shape[-1]).astype(np.float64)
    partial = np.zeros(rows.shape[0])
    for col in rows.T:  # one addition per element, in index order, for every row at once
        partial = partial + col
    return float(partial.sum())


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_sums_keep_their_order_to_the_bit(shape, dtype):
    x = (RNG.standard_normal(shape) * 1e3).astype(dtype)
    want = float(x.sum()) if runtime.is_cpu() else _row_serial_sum(x)
    for data in (x, medkern.asarray(x)):
        got = mm.sum(data)
        assert isinstance(got, float) and got == want
        assert mm.mean(data) == want / x.size
    if runtime.is_cpu():
        assert mm.sum(x) == float(ndi.sum(x)) and mm.mean(x) == ndi.mean(x)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_row_kernel_keeps_its_order(shape):
    """The device route's kernel (also compiled for the CPU arch) adds rows in order."""
    from medkern import arrays
    from medkern.algorithms.job import reduce_buffer
    from medkern.kernels import dsl
    x = (RNG.standard_normal(shape) * 1e3).astype(np.float32)
    buf = arrays.upload(x)
    got = reduce_buffer(dsl.reduce("sum", np.dtype(np.float32), np.dtype(np.float64)), buf,
                        np.float64, "sum")
    assert float(got) == _row_serial_sum(x)


@pytest.mark.parametrize("dtype", [np.int16, np.uint8, np.uint64, np.int64])
def test_integer_sums_are_exact(dtype):
    info = np.iinfo(dtype)
    x = RNG.integers(max(info.min, -2**40), min(info.max, 2**40), (4, 11, 17), dtype=dtype)
    acc = np.uint64 if np.dtype(dtype).kind == "u" else np.int64
    got = mm.sum(medkern.asarray(x))
    assert isinstance(got, int) and got == int(x.sum(dtype=acc))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8])
def test_extremes_with_and_without_nan(dtype):
    x = (RNG.standard_normal((5, 19, 23)) * 100).astype(dtype)
    for data in (x, medkern.asarray(x)):
        lo, hi = mm.minimum(data), mm.maximum(data)
        assert lo == x.min() and hi == x.max()
        assert type(lo) is np.dtype(dtype).type
    if np.dtype(dtype).kind == "f":
        for where in [(0, 0, 0), (4, 18, 22), (2, 11, 5)]:
            y = x.copy()
            y[where] = np.nan
            for data in (y, medkern.asarray(y)):
                assert np.isnan(mm.minimum(data)) and np.isnan(mm.maximum(data))


def test_float16_extremes_are_float16():
    x = RNG.standard_normal((6, 7)).astype(np.float16)
    assert mm.maximum(x) == x.max() and type(mm.maximum(x)) is np.float16


# --------------------------------------------------------------------------- long rows
def _segmented_sum(x: np.ndarray) -> float:
    """The order for rows longer than ``dsl.ROW_SEGMENT``: each of a row's ``S`` segments
    (``ceil(n / S)`` elements) left to right in float64, then numpy over the partials."""
    from medkern.kernels import dsl
    n = x.shape[-1]
    nseg = dsl.row_segments(n)
    seg = -(-n // nseg)
    parts = [np.add.accumulate(row[s * seg:(s + 1) * seg].astype(np.float64))[-1]
             for row in x.reshape(-1, n) for s in range(nseg)]
    return float(np.array(parts).sum())


def test_long_rows_are_reduced_in_segments():
    """Mesa's software Vulkan ends a thread's loops after 65535 iterations: one thread
    walking a 1-D array of 100003 elements summed only its first 65535 (and the extremes
    missed the end). Long rows are reduced in segments, each its own partial."""
    from medkern import arrays
    from medkern.algorithms.job import reduce_buffer
    from medkern.kernels import dsl
    f64 = np.dtype(np.float64)
    n = 100_003
    x = RNG.standard_normal(n) * 1e3
    assert dsl.row_segments(n) > 1
    buf = arrays.upload(x)  # the device route's kernel, on every arch
    assert float(reduce_buffer(dsl.reduce("sum", f64, f64), buf, f64, "sum")) == _segmented_sum(x)
    y = x.copy()
    y[-1], y[-2] = 1e9, -1e9
    ybuf = arrays.upload(y)
    assert reduce_buffer(dsl.reduce("nanmax", f64, f64), ybuf, f64, "max") == 1e9
    assert reduce_buffer(dsl.reduce("nanmin", f64, f64), ybuf, f64, "min") == -1e9
    y[-3] = np.nan
    assert np.isnan(reduce_buffer(dsl.reduce("nanmax", f64, f64), arrays.upload(y), f64, "max"))
    # the public functions
    assert mm.sum(x) == (float(x.sum()) if runtime.is_cpu() else _segmented_sum(x))
    assert np.isnan(mm.maximum(y)) and mm.maximum(y[:-3].copy()) == x[:-3].max()
    k = RNG.integers(-1000, 1000, n).astype(np.int64)
    k[-1] = 10**6
    assert mm.sum(medkern.asarray(k)) == int(k.sum()) and mm.maximum(k) == 10**6
