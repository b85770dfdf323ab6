"""Job's several-results delivery (issue 8, item 1): an image, further arrays of other shapes
and dtypes, and host values, each in the input's kind; buffers go back to the pool."""
import numpy as np
import pytest

import medkern
from medkern import Volume, arrays
from medkern.algorithms.job import Job


def _fill(buf, values):
    if isinstance(buf, np.ndarray):
        buf[...] = values.reshape(buf.shape)
    else:
        buf.from_numpy(values.reshape(buf.shape))


def _two_results(x):
    """A toy call: the input + 1 (image), its coordinates' sum as an int64 (2, n) array,
    and a count read back from a 1-element device buffer."""
    job = Job(x, dtype=np.float64)
    host = np.asarray(medkern.asnumpy(job._x) if job.device else job._x, np.float64)
    img = job.buffer()
    _fill(img, host + 1)
    extra = arrays.empty_buffer((2, host.size), np.dtype(np.int64))
    _fill(extra, np.stack([np.arange(host.size), -np.arange(host.size)]))
    count = arrays.empty_buffer((1,), np.dtype(np.int32))
    _fill(count, np.array([host.size], np.int32))
    n = int(job.value(count))
    arrays.release_buffer(count)
    return job.finish_with(img, n, extra=[(extra, (2, host.size), np.int64)])


def test_numpy_in_numpy_out():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    img, idx, n = _two_results(x)
    assert isinstance(img, np.ndarray) and img.dtype == np.float64
    np.testing.assert_array_equal(img, x + 1)
    assert isinstance(idx, np.ndarray) and idx.shape == (2, 6) and idx.dtype == np.int64
    np.testing.assert_array_equal(idx[1], -np.arange(6))
    assert n == 6 and isinstance(n, int)


def test_device_in_device_out_and_volume_geometry():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    img, idx, n = _two_results(medkern.asarray(x))
    assert isinstance(img, medkern.DeviceArray) and isinstance(idx, medkern.DeviceArray)
    assert idx.shape == (2, 24) and n == 24
    np.testing.assert_array_equal(medkern.asnumpy(img), x + 1)
    vol = Volume(x, spacing=(1.0, 2.0, 3.0))
    img, idx, n = _two_results(vol)
    assert isinstance(img, Volume) and img.spacing == vol.spacing
    assert isinstance(idx, np.ndarray)  # further arrays are plain arrays, not Volumes


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    img, idx, n = _two_results(torch.arange(5, dtype=torch.float32))
    assert isinstance(img, torch.Tensor) and isinstance(idx, torch.Tensor)
    assert idx.dtype == torch.int64 and tuple(idx.shape) == (2, 5)


def test_default_dtype_and_bools():
    job = Job(np.array([True, False]), dtype=np.int32, bools=True)
    assert job.in_dtype == np.uint8 and job.out_dtype == np.int32
    job.discard()
    with pytest.raises(TypeError, match="bool"):
        Job(np.array([True, False]))  # unchanged for everyone else
    assert Job(np.zeros(3, np.float16)).cast == "float16"  # half in: half out, as before
    assert Job(np.zeros(3, np.float16), dtype=np.int32).cast is None


def test_nothing_stays_leased():
    before = arrays.pool_stats()["leased"]
    for _ in range(3):
        _two_results(np.ones((4, 5), np.float32))
    assert arrays.pool_stats()["leased"] == before
