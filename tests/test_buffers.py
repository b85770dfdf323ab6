"""Scratch-buffer ownership: the pool never gives one buffer to two users.

``arrays.empty_buffer`` leases a buffer to one call; ``release_buffer`` takes back
only a live lease (a second release, or the release of a buffer a result holds,
raises ``RuntimeError`` and pools nothing); a buffer handed out in a DeviceArray,
a returned numpy view or a DLPack export returns to the pool only when its
reference count proves that nothing refers to it any more. An iterative pipeline
runs in flat memory. Nothing here is arch-specific unless marked: the default run
covers the CPU arch, ``make test-vulkan`` (``MEDKERN_ARCH=vulkan``) Vulkan.
"""
import gc
import os
import tracemalloc

import numpy as np
import pytest

import medkern
import medkern.filters as mf
import medkern.measurements as mm
from medkern import arrays, runtime
from medkern.algorithms.job import Job

ARCH = runtime.arch()
on_cpu = pytest.mark.skipif(ARCH != "cpu", reason="shared host memory: the cpu arch")
F32 = np.dtype(np.float32)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def image(shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def fill(buf, value):
    dtype = buf.dtype if isinstance(buf, np.ndarray) else arrays._buffer_dtype(buf)
    arrays.copy_buffer(np.full(tuple(buf.shape), value, dtype=dtype), buf)


def read(buf):
    """A copy of a buffer's contents that leaves its ownership alone."""
    return np.array(buf) if isinstance(buf, np.ndarray) else buf.to_numpy()


def pooled(buf):
    return any(b is buf for free in arrays._POOL.values() for b in free)


def pointer(buf):
    return arrays.buffer_pointer(buf)


# ------------------------------------------------------------------ releases
def test_double_release_raises_and_never_gives_one_buffer_to_two_users():
    shape = (1, 5, 7)
    b = arrays.empty_buffer(shape, F32)
    assert arrays.is_leased(b)
    arrays.release_buffer(b)
    assert pooled(b) and not arrays.is_leased(b)
    with pytest.raises(RuntimeError, match="released already"):
        arrays.release_buffer(b)
    assert sum(x is b for x in arrays._POOL[(shape, F32)]) == 1  # pooled once
    b1 = arrays.empty_buffer(shape, F32)
    b2 = arrays.empty_buffer(shape, F32)
    assert b1 is not b2 and b in (b1, b2)
    fill(b1, 1.0)
    fill(b2, 2.0)
    assert (read(b1) == 1.0).all() and (read(b2) == 2.0).all()
    if ARCH == "cpu":
        assert not np.shares_memory(b1, b2)
    arrays.release_buffer(b1)
    arrays.release_buffer(b2)


def test_release_over_the_cap_frees_and_a_second_release_still_raises(monkeypatch):
    shape = (1, 4, 9)
    monkeypatch.setattr(arrays, "_POOL_MAX_BYTES", arrays._pooled_bytes)  # full
    b = arrays.empty_buffer(shape, F32)
    arrays.release_buffer(b)
    assert not pooled(b)
    with pytest.raises(RuntimeError, match="not leased"):
        arrays.release_buffer(b)
    assert arrays._pooled_bytes <= arrays._POOL_MAX_BYTES


def test_the_pool_keeps_its_cap():
    shape = (1, 8, 8)  # 256 bytes of float32
    arrays.clear_pool()
    old = arrays._POOL_MAX_BYTES
    arrays._POOL_MAX_BYTES = 3 * 256
    try:
        bufs = [arrays.empty_buffer(shape, F32) for _ in range(5)]
        results = [medkern.DeviceArray(arrays.empty_buffer(shape, F32), (8, 8), F32)
                   for _ in range(3)]
        for b in bufs:
            arrays.release_buffer(b)
        del b, bufs, results  # the results' buffers come back too, beyond the cap: freed
        gc.collect()
        stats = arrays.pool_stats()
        assert stats["bytes"] == 3 * 256 and stats["buffers"] == 3
    finally:
        arrays._POOL_MAX_BYTES = old
        arrays.clear_pool()
    assert arrays.pool_stats()["bytes"] == 0


def test_buffers_that_are_not_leased_cannot_be_released():
    with pytest.raises(RuntimeError, match="not leased"):
        arrays.release_buffer(np.empty((1, 2, 3), F32))  # never from empty_buffer
    d = medkern.asarray(image((6, 5)))
    with pytest.raises(RuntimeError, match="handed out"):
        arrays.release_buffer(d._buf)  # a DeviceArray holds it
    r = mf.gaussian_filter(d, 1.0)
    with pytest.raises(RuntimeError, match="handed out"):
        arrays.release_buffer(r._buf)
    b = arrays.empty_buffer((1, 6, 5), F32)
    host = arrays.download(b, (6, 5))
    if ARCH == "cpu":  # the view holds the buffer now
        with pytest.raises(RuntimeError, match="handed out"):
            arrays.release_buffer(b)
        assert np.shares_memory(host, b)
    else:  # a copy: the lease is still the caller's
        arrays.release_buffer(b)


def test_a_released_buffer_is_never_handed_out_or_launched():
    b = arrays.empty_buffer((1, 3, 4), F32)
    arrays.release_buffer(b)
    with pytest.raises(RuntimeError, match="after release_buffer"):
        medkern.DeviceArray(b, (3, 4), F32)
    if ARCH == "cpu":
        with pytest.raises(RuntimeError, match="after release_buffer"):
            arrays.download(b, (3, 4))

    def kernel(*args):
        raise AssertionError("launched with a pooled buffer")
    with pytest.raises(RuntimeError, match="after release_buffer"):
        Job.launch(kernel, b, 1.0)
    assert pooled(b)


def test_a_dropped_lease_just_frees_the_buffer():
    b = arrays.empty_buffer((1, 3, 5), F32)
    ident = id(b)
    del b  # e.g. an error path: not released, not pooled, the record goes with it
    gc.collect()
    rec = arrays._OWNERS.get(ident)
    assert rec is None or rec is arrays._POOLED or type(rec) is not arrays._Lease or rec() is None


# ------------------------------------------------------------------ results
def test_a_device_arrays_buffer_is_never_reused_while_it_lives():
    x = image((20, 24), 1)
    # warm-up: Taichi keeps the arguments of the call that compiles a kernel for good
    mf.gaussian_filter(mf.sobel(medkern.asarray(x), 0), 1.0)
    d = mf.gaussian_filter(medkern.asarray(x), 1.0)
    buf = d._buf
    expected = medkern.asnumpy(d)
    with pytest.raises(RuntimeError, match="handed out"):
        arrays.release_buffer(buf)
    seen = []
    for _ in range(20):  # the same shape and dtype over and over: pool hits
        r = mf.gaussian_filter(mf.sobel(medkern.asarray(x), 0), 1.0)
        seen.append(r._buf is buf)
        s = arrays.empty_buffer(tuple(buf.shape), F32)
        seen.append(s is buf)
        fill(s, -7.0)
        arrays.release_buffer(s)
    assert not any(seen)
    np.testing.assert_array_equal(medkern.asnumpy(d), expected)
    # gone: the buffer goes back to the pool -- or, when the refcount proof sees another
    # reference (Taichi keeps the arguments of a call that compiled a kernel; which call
    # compiles depends on the tests run before in this process), it is left to be freed;
    # never still handed out or leased
    ident = id(buf)
    del buf, r
    del d
    gc.collect()
    assert arrays._OWNERS.get(ident) in (arrays._POOLED, None)


def test_a_returned_numpy_view_keeps_its_buffer():
    x = image((16, 18), 2)
    y = mf.gaussian_filter(x, 1.0)  # on the CPU arch a view of a pooled buffer
    part = y[3:, 2:]
    expected = part.copy()
    del y
    gc.collect()
    for _ in range(20):
        z = mf.gaussian_filter(image((16, 18), 3), 2.0)
        assert not np.shares_memory(z, part)
        b = arrays.empty_buffer((1, 16, 18), F32)
        if ARCH == "cpu":
            assert not np.shares_memory(b, part)
        fill(b, 5.0)
        arrays.release_buffer(b)
    np.testing.assert_array_equal(part, expected)


@on_cpu
def test_dlpack_consumers_keep_their_buffer(torch):
    x = image((12, 14), 4)
    d = mf.gaussian_filter(medkern.asarray(x), 1.0)
    t = torch.from_dlpack(d)
    n = np.from_dlpack(d)
    buf_ptr = pointer(d._buf)
    assert t.data_ptr() == buf_ptr and n.ctypes.data == buf_ptr
    expected = n.copy()
    del d  # the consumers hold the memory now
    gc.collect()

    def churn():
        ptrs = []
        for _ in range(20):
            r = mf.gaussian_filter(mf.sobel(medkern.asarray(x), 0), 1.0)
            b = arrays.empty_buffer((1, 12, 14), F32)
            ptrs += [pointer(r._buf), pointer(b)]
            fill(b, 9.0)
            arrays.release_buffer(b)
        return ptrs
    assert buf_ptr not in churn()
    np.testing.assert_array_equal(t.numpy(), expected)
    del t
    gc.collect()
    assert buf_ptr not in churn()  # numpy's array still holds it
    np.testing.assert_array_equal(n, expected)


@on_cpu
def test_torch_results_keep_their_buffer(torch):
    x = image((10, 11), 5)
    out = mf.gaussian_filter(torch.from_numpy(x.copy()), 1.0)  # shares medkern's buffer
    expected = out.clone()
    gc.collect()
    for _ in range(20):
        r = mf.gaussian_filter(medkern.asarray(x), 2.0)
        assert pointer(r._buf) != out.data_ptr()
        b = arrays.empty_buffer((1, 10, 11), F32)
        assert pointer(b) != out.data_ptr()
        fill(b, 3.0)
        arrays.release_buffer(b)
    assert torch.equal(out, expected)


def test_host_copies_of_dlpack_exports_are_independent(torch):
    """Every arch (Vulkan exports only host copies)."""
    x = image((9, 13), 6)
    d = mf.gaussian_filter(medkern.asarray(x), 1.0)
    t = torch.from_dlpack(d.__dlpack__(dl_device=(1, 0), copy=True))
    expected = t.clone()
    del d
    gc.collect()
    for _ in range(10):
        mf.gaussian_filter(mf.sobel(medkern.asarray(x), 0), 1.0)
    assert torch.equal(t, expected)


def test_threads_sharing_the_pool_get_their_own_buffers():
    """Calls in several threads (launches serialise on the runtime lock, the pool is
    shared, results die and come back in any order): every result is right."""
    import threading

    import scipy.ndimage as ndi
    errors = []

    def worker(seed):
        x = image((24, 20), 10 + seed)
        ref = ndi.gaussian_filter(ndi.sobel(x, 0), 1.0)
        try:
            for i in range(20):
                d = mf.gaussian_filter(mf.sobel(medkern.asarray(x), 0), 1.0)
                np.testing.assert_allclose(medkern.asnumpy(d), ref, rtol=1e-5, atol=1e-5)
                if i % 4 == 0:
                    h = mf.gaussian_filter(mf.sobel(x, 0), 1.0)
                    np.testing.assert_allclose(h, ref, rtol=1e-5, atol=1e-5)
                    gc.collect()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


# ------------------------------------------------------------------ flat memory
def _rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def test_an_iterative_pipeline_runs_in_flat_memory():
    """``x = gaussian(sobel(x))`` on a DeviceArray image 1000 times (numpy in -> numpy out
    and a reduction every 20th step): the pool, the allocations and the process's memory
    stay flat after a warm-up. ~3 s on the CPU arch, 15-20 s on Mesa's software Vulkan
    (kernel launches cost ms there whatever the size -- the device step smooths along
    axis 0 only: 3 launches -- and a host round trip ~25 ms)."""
    x0 = image((64, 64), 7)
    d0 = medkern.asarray(x0)
    d, h = d0, x0

    def device_step(i):
        nonlocal d
        # restart from the image every 8 steps: derivatives grow without bound
        d = mf.gaussian_filter(mf.sobel(d if i % 8 else d0, 0), 1.0, axes=(0,))

    def host_step(i):
        nonlocal h
        h = mf.gaussian_filter(mf.sobel(h if i % 8 else x0, 1), 1.0)
        return float(mm.sum(d))

    def step(i):
        device_step(i)
        return host_step(i // 20) if i % 20 == 0 else 0.0

    for i in range(60):  # warm-up: kernels compiled, pool filled
        step(i)
    gc.collect()
    before, rss = arrays.pool_stats(), _rss_bytes()
    total = 0.0
    # 1000 steps on the CPU arch; 300 on the others, where a launch costs ms (CI time)
    steps = 1000 if medkern.runtime.is_cpu() else 300
    for i in range(60, 60 + steps):
        total += step(i)
    gc.collect()
    after, rss_after = arrays.pool_stats(), _rss_bytes()
    assert np.isfinite(total)
    assert after["buffers"] == before["buffers"] and after["bytes"] == before["bytes"]
    assert after["handed_out"] == before["handed_out"]
    # results come back to the pool: (almost) no new buffers in all those steps
    assert after["allocations"] - before["allocations"] <= 10, (before, after)
    if rss is not None:
        # one 64x64 float32 buffer (16 KiB) a step, leaked, would be twice this
        assert rss_after - rss < steps * (8 << 10), (rss, rss_after)
    # numpy in -> numpy out: Python/numpy memory (tracemalloc sees numpy's data) flat too
    tracemalloc.start()
    try:
        for i in range(5):
            host_step(i + 1)
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        for i in range(25):
            host_step(i + 1)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert grown < 128 << 10, grown  # 25 leaked 64x64 float32 results: 400 KiB
