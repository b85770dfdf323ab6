"""Zero-copy interop: DLPack / ``__cuda_array_interface__``, torch and CuPy in and out.

* Host arch (``MEDKERN_ARCH=cpu``, torch CPU tensors): ``medkern.asarray`` shares a
  tensor's memory and ``torch.from_dlpack``/``np.from_dlpack`` share a DeviceArray's,
  both ways (a write on one side is seen on the other), for every supported dtype;
  dtype/shape/strides survive; non-contiguous tensors follow the copy rule
  (``copy=None`` copies, ``copy=False`` raises ``ValueError`` naming the problem);
  torch -> filter -> torch equals ``scipy.ndimage`` on the numpy data; float16 and
  bfloat16 come back in their dtype, equal to SciPy on the float32 data cast back;
  inputs are never mutated. The two buffer kinds only CUDA produces in normal use (a
  ``taichi.ndarray`` exported through its raw pointer, a ``DeviceMemory`` view of
  another library's memory) are exercised here too, on host memory.
* Vulkan: Taichi exposes no device pointer: export raises ``BufferError`` unless a
  host copy is asked for; torch in -> torch out still works (through the host).
* CUDA (``MEDKERN_ARCH=cuda`` with CuPy and/or torch.cuda; ``tools/gpu_check.sh``):
  the same with device pointers compared, against ``cupyx.scipy.ndimage``/SciPy.
"""
import gc
import re
import weakref
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.filters as mf
import medkern.measurements as mm
from medkern import arrays, dlpack, runtime
from medkern.arrays import SUPPORTED_DTYPES

ARCH = runtime.arch()
on_cpu = pytest.mark.skipif(ARCH != "cpu", reason="host-memory sharing: the cpu arch")
on_vulkan = pytest.mark.skipif(ARCH != "vulkan", reason="the vulkan arch")
#: np.from_dlpack(copy=, device=) and versioned capsules need numpy >= 2.1
numpy_2_1 = pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.1.0",
                               reason="numpy >= 2.1 (DLPack 1.0, from_dlpack copy/device)")
RNG = np.random.default_rng(7)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def data(dtype, shape=(9, 12)):
    dtype = np.dtype(dtype)
    unit = RNG.uniform(0, 1, shape)
    if dtype.kind == "f":
        return (unit * 200 - 50).astype(dtype)
    info = np.iinfo(dtype)
    return np.rint(max(info.min, -1000) + unit * (min(info.max, 1000) - max(info.min, -1000))
                   ).astype(dtype)


def tensor(torch, x):
    """A torch tensor with its own copy of ``x``."""
    return torch.from_numpy(np.array(x, order="C", copy=True))


def assert_matches(ours, ref, rtol=1e-5):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype, (ours.dtype, ref.dtype)
    if ref.dtype.kind == "f":
        scale = max(float(np.max(np.abs(ref.astype(np.float64)))), 1.0)
        np.testing.assert_allclose(ours.astype(np.float64), ref.astype(np.float64),
                                   rtol=rtol, atol=rtol * scale)
    else:
        np.testing.assert_array_equal(ours, ref)


DTYPES = [d.name for d in SUPPORTED_DTYPES]


# ------------------------------------------------------------------ sharing, host arch
@on_cpu
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_to_device_array_shares_memory_both_ways(torch, dtype):
    x = data(dtype)
    t = tensor(torch, x)
    d = medkern.asarray(t)
    assert d.shape == x.shape and d.dtype == x.dtype
    assert arrays.buffer_pointer(d._buf) == t.data_ptr()  # the tensor's own memory
    t[0, 0] = 7  # torch writes, medkern sees
    assert medkern.asnumpy(d)[0, 0] == 7
    # medkern writes (a filter with output=d), torch sees
    mf.maximum_filter(d, size=3, output=d)
    x[0, 0] = 7
    assert_matches(t.numpy(), ndi.maximum_filter(x, size=3))


@on_cpu
@pytest.mark.parametrize("dtype", DTYPES)
def test_device_array_to_torch_and_numpy_shares_memory_both_ways(torch, dtype):
    x = data(dtype, (3, 4, 5))
    d = medkern.asarray(x)  # numpy in: a copy (numpy arrays are never aliased)
    t = torch.from_dlpack(d)
    n = np.from_dlpack(d)
    assert t.data_ptr() == n.ctypes.data == arrays.buffer_pointer(d._buf)
    assert tuple(t.shape) == x.shape and t.stride() == tuple(s // x.itemsize for s in x.strides)
    assert n.dtype == x.dtype and n.shape == x.shape and n.strides == x.strides
    assert str(t.dtype) == "torch." + dtype
    np.testing.assert_array_equal(t.numpy(), x)
    t[1, 2, 3] = 9  # torch writes: medkern and numpy see
    assert medkern.asnumpy(d)[1, 2, 3] == 9 and n[1, 2, 3] == 9
    mf.minimum_filter(d, size=2, output=d)  # medkern writes: torch sees
    x[1, 2, 3] = 9
    np.testing.assert_array_equal(t.numpy(), ndi.minimum_filter(x, size=2))


@on_cpu
@pytest.mark.parametrize("shape", [(17,), (4, 6), (2, 3, 4)])
def test_round_trip_keeps_dtype_shape_strides(torch, shape):
    for dtype in DTYPES:
        t = tensor(torch, data(dtype, shape))
        back = torch.from_dlpack(medkern.asarray(t))
        assert back.dtype == t.dtype and back.shape == t.shape and back.stride() == t.stride()
        assert back.data_ptr() == t.data_ptr()  # the same memory, twice through DLPack


@on_cpu
def test_numpy_copy_rule():
    x = data(np.float32)
    d = medkern.asarray(x)  # default: copied (unchanged behaviour)
    x[0, 0] = 1234
    assert medkern.asnumpy(d)[0, 0] != 1234
    s = medkern.asarray(x, copy=False)  # opt-in sharing on the cpu arch
    x[0, 1] = 4321
    assert medkern.asnumpy(s)[0, 1] == 4321
    ro = x.copy()
    ro.flags.writeable = False
    for bad, why in ((x.T, "C-contiguous"), (ro, "read-only"), (x.astype(">f4"), "byte order"),
                     (x > 0, "bool")):
        with pytest.raises(ValueError, match=why):
            medkern.asarray(bad, copy=False)
        medkern.asarray(bad)  # copy=None: copied
    with pytest.raises(ValueError, match="list"):
        medkern.asarray([[1.0, 2.0]], copy=False)  # converting a list is a copy
    with pytest.raises(ValueError, match="dtype"):
        medkern.asarray(x, dtype=np.float64, copy=False)
    with pytest.raises(ValueError, match="copy"):
        medkern.asarray(x, copy="yes")


def test_numpy_copy_false_on_gpu_arch():
    if ARCH == "cpu":
        pytest.skip("GPU arches only")
    with pytest.raises(ValueError, match="host memory"):
        medkern.asarray(data(np.float32), copy=False)


@on_cpu
@pytest.mark.parametrize("make", ["transposed", "sliced", "expanded"])
def test_non_contiguous_tensor_copy_rule(torch, make):
    base = tensor(torch, data(np.float32, (8, 10)))
    t = {"transposed": lambda: base.T, "sliced": lambda: base[:, ::2],
         "expanded": lambda: base[:1].expand(8, 10)}[make]()
    assert not t.is_contiguous()
    with pytest.raises(ValueError, match="not C-contiguous"):
        medkern.asarray(t, copy=False)
    d = medkern.asarray(t)  # copy=None: copied into C order
    np.testing.assert_array_equal(medkern.asnumpy(d), t.numpy())
    before = t.clone()
    base.add_(1)  # the copy does not follow the tensor
    np.testing.assert_array_equal(medkern.asnumpy(d), before.numpy())
    # filters take non-contiguous tensors (copied in), results are C-contiguous tensors
    out = mf.uniform_filter(t, 3)
    assert isinstance(out, torch.Tensor) and out.is_contiguous()
    assert_matches(out.numpy(), ndi.uniform_filter(t.numpy(), 3))


@on_cpu
def test_copy_true_and_dtype_conversion_do_not_share(torch):
    t = tensor(torch, data(np.int16))
    for d in (medkern.asarray(t, copy=True), medkern.asarray(t, dtype=np.float32)):
        t[0, 0] = 55
        assert medkern.asnumpy(d)[0, 0] != 55
        t[0, 0] = 0
    assert medkern.asarray(t, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="dtype"):
        medkern.asarray(t, dtype=np.float32, copy=False)
    b = medkern.asarray(torch.tensor([True, False, True]))  # bool: stored as uint8 (a copy)
    assert b.dtype == np.uint8
    np.testing.assert_array_equal(medkern.asnumpy(b), [1, 0, 1])
    with pytest.raises(ValueError, match="bool"):
        medkern.asarray(torch.tensor([True, False]), copy=False)


def test_device_array_copy_rule():
    d = medkern.asarray(data(np.float32))
    assert medkern.asarray(d) is d and medkern.asarray(d, copy=False) is d
    c = medkern.asarray(d, copy=True)
    assert c is not d
    np.testing.assert_array_equal(medkern.asnumpy(c), medkern.asnumpy(d))
    with pytest.raises(ValueError, match="copy"):
        medkern.asarray(d, dtype=np.float64, copy=False)


def test_unsupported_dlpack_dtypes_and_shapes(torch):
    with pytest.raises(TypeError, match="bfloat16"):
        medkern.asarray(torch.ones(4, dtype=torch.bfloat16))
    with pytest.raises(TypeError, match="float16"):
        medkern.asarray(torch.ones(4, dtype=torch.float16))
    with pytest.raises(TypeError, match="complex"):
        medkern.asarray(torch.ones(4, dtype=torch.complex64))
    with pytest.raises(ValueError, match="1-4 dimensional"):
        medkern.asarray(torch.ones(2, 2, 2, 2, 2))
    with pytest.raises(ValueError, match="1-4 dimensional"):
        medkern.asarray(torch.tensor(1.0))
    e = medkern.asarray(torch.ones(0, 3))
    assert e.shape == (0, 3)
    with pytest.raises(TypeError, match="float16"):
        medkern.asarray(np.ones(3, np.float16))


class _FakeCuda:
    """A DLPack producer claiming CUDA memory (never asked for its capsule here)."""

    def __dlpack_device__(self):
        return (dlpack.CUDA, 1)

    def __dlpack__(self, **kw):  # pragma: no cover - must not be reached
        raise AssertionError("consumed memory on a device medkern does not run on")


def test_foreign_device_is_refused():
    with pytest.raises(ValueError, match="cuda:1"):
        medkern.asarray(_FakeCuda())
    with pytest.raises(ValueError, match="cuda:1"):
        mf.gaussian_filter(_FakeCuda(), 1.0)


# ------------------------------------------------------------------ filters: torch in, torch out
W2 = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 0.25]])
FILTERS = [("gaussian_filter", {"sigma": 1.5}), ("uniform_filter", {"size": 3}),
           ("median_filter", {"size": 3}), ("sobel", {}), ("laplace", {}),
           ("correlate", {"weights": W2}), ("maximum_filter", {"size": 3}),
           ("gaussian_gradient_magnitude", {"sigma": 1.0}), ("percentile_filter",
                                                             {"percentile": 30, "size": 3})]


@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8", "int16"])
@pytest.mark.parametrize("name, kw", FILTERS, ids=[n for n, _ in FILTERS])
def test_torch_filter_torch_equals_scipy(torch, name, kw, dtype):
    x = data(dtype)
    t = tensor(torch, x)
    before = t.clone()
    out = getattr(mf, name)(t, **kw)
    assert isinstance(out, torch.Tensor) and out.device == t.device and out.dtype == t.dtype
    assert_matches(out.numpy(), getattr(ndi, name)(x, **kw))
    assert torch.equal(t, before)  # input not mutated


def test_torch_output_argument(torch):
    x = data(np.uint8)
    t = tensor(torch, x)
    ref = ndi.gaussian_filter(x, 1.5, output=np.float32)
    out = mf.gaussian_filter(t, 1.5, output=torch.float32)  # a torch dtype
    assert out.dtype == torch.float32
    assert_matches(out.numpy(), ref)
    assert_matches(mf.gaussian_filter(t, 1.5, output=np.float32).numpy(), ref)  # a numpy dtype
    target = torch.zeros(x.shape, dtype=torch.float64)
    assert mf.gaussian_filter(t, 1.5, output=target) is target
    assert_matches(target.numpy(), ndi.gaussian_filter(x, 1.5, output=np.float64))
    # output=input: in place, as SciPy allows
    y = tensor(torch, data(np.float32))
    y_np = y.numpy().copy()
    assert mf.median_filter(y, size=3, output=y) is y
    assert_matches(y.numpy(), ndi.median_filter(y_np, size=3))
    with pytest.raises(TypeError, match="output must be a torch.Tensor"):
        mf.sobel(t, output=np.zeros(x.shape, np.float32))
    with pytest.raises(ValueError, match="output has shape"):
        mf.sobel(t, output=torch.zeros(3, 3))
    with pytest.raises(TypeError, match="output"):
        mf.sobel(t, output=torch.complex64)


def test_torch_requires_grad_and_volume(torch):
    x = data(np.float32)
    t = tensor(torch, x).requires_grad_()
    out = mf.gaussian_filter(t, 1.0)
    assert not out.requires_grad  # filters are not differentiable: a plain tensor
    assert_matches(out.numpy(), ndi.gaussian_filter(x, 1.0))
    class Sub(torch.Tensor):  # a torch.Tensor subclass, as MONAI's MetaTensor is
        pass
    sub = mf.gaussian_filter(tensor(torch, x).as_subclass(Sub), 1.0)
    assert isinstance(sub, torch.Tensor)  # handled as torch (a plain tensor back)
    assert_matches(sub.numpy(), ndi.gaussian_filter(x, 1.0))
    v = medkern.Volume(tensor(torch, x), spacing=(2.0, 0.5))
    res = mf.uniform_filter(v, 3)
    assert isinstance(res, medkern.Volume) and isinstance(res.array, torch.Tensor)
    assert res.spacing == (2.0, 0.5)
    assert_matches(res.array.numpy(), ndi.uniform_filter(x, 3))


def test_torch_measurements(torch):
    x = data(np.int16)
    t = tensor(torch, x)
    assert mm.sum(t) == ndi.sum(x) and mm.mean(t) == pytest.approx(ndi.mean(x))
    assert mm.minimum(t) == ndi.minimum(x) and mm.maximum(t) == ndi.maximum(x)
    np.testing.assert_array_equal(mm.histogram(t, -1000, 1000, 16), ndi.histogram(x, -1000, 1000, 16))


# ------------------------------------------------------------------ half precision
HALF_FILTERS = [("gaussian_filter", {"sigma": 1.5}), ("uniform_filter", {"size": 3}),
                ("median_filter", {"size": 3}), ("sobel", {})]


def _half_ref(name, kw, x32, np_half):
    return getattr(ndi, name)(x32, **kw).astype(np_half)


@pytest.mark.parametrize("name, kw", HALF_FILTERS, ids=[n for n, _ in HALF_FILTERS])
def test_numpy_float16_in_float16_out(name, kw):
    x = data(np.float32).astype(np.float16)
    before = x.copy()
    out = getattr(mf, name)(x, **kw)
    assert type(out) is np.ndarray and out.dtype == np.float16
    # SciPy refuses float16: its float32 result on the same values, cast back (1 ulp)
    assert_matches(out, _half_ref(name, kw, x.astype(np.float32), np.float16), rtol=2**-10)
    np.testing.assert_array_equal(x, before)


def test_numpy_float16_output_argument():
    x = data(np.float32)
    ref = ndi.gaussian_filter(x, 1.5).astype(np.float16)
    assert_matches(mf.gaussian_filter(x, 1.5, output=np.float16), ref, rtol=2**-10)
    target = np.zeros(x.shape, np.float16)
    assert mf.gaussian_filter(x, 1.5, output=target) is target
    assert_matches(target, ref, rtol=2**-10)
    # float16 data into another output dtype
    h = x.astype(np.float16)
    assert_matches(mf.sobel(h, output=np.float32), ndi.sobel(h.astype(np.float32)))
    # a DeviceArray holds no float16
    with pytest.raises(TypeError, match="DeviceArray"):
        mf.sobel(medkern.asarray(x), output=np.float16)
    assert mm.maximum(h) == h.max() and type(mm.maximum(h)) is np.float16


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
@pytest.mark.parametrize("name, kw", HALF_FILTERS, ids=[n for n, _ in HALF_FILTERS])
def test_torch_half_in_half_out(torch, name, kw, half):
    tdt = getattr(torch, half)
    t = tensor(torch, data(np.float32)).to(tdt)
    before = t.clone()
    out = getattr(mf, name)(t, **kw)
    assert isinstance(out, torch.Tensor) and out.dtype == tdt and out.device == t.device
    x32 = t.float().numpy()
    ref = torch.from_numpy(np.ascontiguousarray(getattr(ndi, name)(x32, **kw))).to(tdt)
    ulp = 2**-10 if half == "float16" else 2**-7
    assert_matches(out.float().numpy(), ref.float().numpy(), rtol=ulp)
    assert torch.equal(t, before)
    # output= a half dtype from float32 data, and a half tensor as the target
    f = tensor(torch, x32)
    assert getattr(mf, name)(f, **kw, output=tdt).dtype == tdt
    target = torch.zeros(t.shape, dtype=tdt)
    assert getattr(mf, name)(f, **kw, output=target) is target
    assert_matches(target.float().numpy(), ref.float().numpy(), rtol=ulp)


# ------------------------------------------------------------------ DLPack protocol details
@on_cpu
@numpy_2_1
def test_dlpack_arguments():
    d = medkern.asarray(data(np.float32))
    assert d.__dlpack_device__() == (dlpack.CPU, 0)
    assert "used_dltensor" not in repr(d.__dlpack__())
    assert '"dltensor"' in repr(d.__dlpack__())  # legacy without max_version
    assert '"dltensor_versioned"' in repr(d.__dlpack__(max_version=(1, 0)))
    with pytest.raises(BufferError, match="stream"):
        d.__dlpack__(stream=1)
    with pytest.raises(BufferError, match="cuda"):
        d.__dlpack__(dl_device=(dlpack.CUDA, 0))
    c = np.from_dlpack(d, copy=True)  # a copy: not shared
    c[0, 0] = 99
    assert medkern.asnumpy(d)[0, 0] != 99
    assert not hasattr(d, "__cuda_array_interface__")


def test_capsules_release_their_owner(torch):
    class Owner:
        pass
    buf = np.arange(12, dtype=np.int32)
    for versioned in (None, (1, 0)):
        o = Owner()
        o.buf = buf
        ref = weakref.ref(o)
        cap = dlpack.export(buf.ctypes.data, (3, 4), buf.dtype, o, max_version=versioned)
        del o
        gc.collect()
        assert ref() is not None  # the capsule holds it
        del cap
        gc.collect()
        assert ref() is None  # dropped unconsumed: released
        o = Owner()
        o.buf = buf
        ref = weakref.ref(o)
        t = torch.from_dlpack(dlpack.export(buf.ctypes.data, (3, 4), buf.dtype, o,
                                            max_version=versioned))
        del o
        gc.collect()
        assert ref() is not None and t[1, 1] == 5
        del t
        gc.collect()
        assert ref() is None  # the consumer released it
    # the device field of a capsule (what CUDA exports set) is written and read back
    cap = dlpack.export(buf.ctypes.data, (12,), buf.dtype, buf, device=(dlpack.CUDA, 0))
    assert dlpack.read_device(cap) == (dlpack.CUDA, 0)


def test_imported_memory_is_released(torch):
    t = torch.arange(10, dtype=torch.float32)
    view, device = dlpack.consume(t)
    assert device == (dlpack.CPU, 0) and view.ctypes.data == t.data_ptr()
    ref = weakref.ref(view.base)
    del view
    gc.collect()
    assert ref() is None  # the owner of the consumed tensor called torch's deleter


@on_cpu
def test_taichi_ndarray_buffers_export_through_their_pointer(torch):
    """The CUDA export path: a taichi.ndarray's raw allocation (here on the host)."""
    ti = runtime.ensure_init()
    buf = ti.ndarray(ti.f32, (1, 4, 5))
    buf.from_numpy(np.arange(20, dtype=np.float32).reshape(1, 4, 5))
    d = medkern.DeviceArray(buf, (4, 5), np.float32)
    t = torch.from_dlpack(d)
    assert t.data_ptr() == arrays.buffer_pointer(buf)
    np.testing.assert_array_equal(t.numpy(), np.arange(20).reshape(4, 5))
    t[2, 3] = -1
    assert buf.to_numpy()[0, 2, 3] == -1
    mf.uniform_filter(d, 3, output=d)  # a kernel writes the ndarray: torch sees
    ref = np.arange(20, dtype=np.float32).reshape(4, 5)
    ref[2, 3] = -1
    assert_matches(t.numpy(), ndi.uniform_filter(ref, 3))
    w = weakref.ref(buf)
    del buf, d
    gc.collect()
    assert w() is not None  # the tensor keeps medkern's buffer alive
    del t
    gc.collect()
    assert w() is None


@on_cpu
def test_device_memory_buffers_go_through_kernels():
    """The CUDA import path's buffer kind (never read on the host), here over host memory."""
    host = data(np.float64, (3, 8)).reshape(1, 3, 8)
    keep = host.copy()
    d = medkern.DeviceArray(host.view(arrays.DeviceMemory), (3, 8), np.float64)
    np.testing.assert_array_equal(medkern.asnumpy(d), keep[0])  # copied out by a kernel
    np.testing.assert_array_equal(medkern.asnumpy(d.copy()), keep[0])
    assert_matches(medkern.asnumpy(mf.gaussian_filter(d, 1.0)), ndi.gaussian_filter(keep[0], 1.0))
    target = medkern.DeviceArray(np.zeros((1, 3, 8)).view(arrays.DeviceMemory), (3, 8), np.float64)
    mf.median_filter(d, size=3, output=target)  # written by a kernel
    assert_matches(medkern.asnumpy(target), ndi.median_filter(keep[0], size=3))
    with pytest.raises(TypeError, match="device memory"):
        np.sum(d._buf)
    assert "DeviceMemory" in repr(d._buf)


def _readme_block(heading):
    text = Path(__file__).resolve().parents[1].joinpath("README.md").read_text()
    section = text.split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.skipif(ARCH == "vulkan", reason="the example shares memory with torch; Vulkan "
                    "memory cannot be exported (test_vulkan_export_is_refused_...)")
def test_readme_interop_example_runs(torch):
    exec(compile(_readme_block("## Interop"), "README.md (Interop)", "exec"), {})


# ------------------------------------------------------------------ Vulkan: no pointer to export
@on_vulkan
@numpy_2_1
def test_vulkan_export_is_refused_but_host_copies_work(torch):
    x = data(np.float32)
    d = medkern.asarray(x)
    assert d.__dlpack_device__() == (dlpack.VULKAN, 0)
    for consume in (torch.from_dlpack, np.from_dlpack, lambda a: a.__dlpack__()):
        with pytest.raises(BufferError, match="Vulkan"):
            consume(d)
    with pytest.raises(BufferError, match="copy"):
        d.__dlpack__(dl_device=(dlpack.CPU, 0), copy=False)
    np.testing.assert_array_equal(np.from_dlpack(d, device="cpu"), x)
    np.testing.assert_array_equal(torch.from_dlpack(d.__dlpack__(dl_device=(dlpack.CPU, 0))), x)
    assert not hasattr(d, "__cuda_array_interface__")
    t = tensor(torch, x)
    with pytest.raises(ValueError, match="vulkan"):
        medkern.asarray(t, copy=False)
    dt = medkern.asarray(t)  # copied into Vulkan memory
    t[0, 0] = 1e6
    assert medkern.asnumpy(dt)[0, 0] == x[0, 0]
    out = mf.gaussian_filter(t, 1.5)  # torch in -> torch out through a host copy
    assert isinstance(out, torch.Tensor) and out.device.type == "cpu"
    assert_matches(out.numpy(), ndi.gaussian_filter(t.numpy(), 1.5))


# ------------------------------------------------------------------ CUDA (tools/gpu_check.sh)
def _cupy():
    if ARCH != "cuda":
        pytest.skip("CUDA interop runs with MEDKERN_ARCH=cuda on a GPU machine")
    return pytest.importorskip("cupy", reason="CuPy is not installed")


def _torch_cuda():
    if ARCH != "cuda":
        pytest.skip("CUDA interop runs with MEDKERN_ARCH=cuda on a GPU machine")
    torch = pytest.importorskip("torch", reason="torch is not installed")
    if not torch.cuda.is_available():
        pytest.skip("this torch has no CUDA")
    return torch


def test_cuda_cupy_zero_copy_both_ways():
    cp = _cupy()
    host = data(np.float32, (16, 20))
    x = cp.asarray(host)
    d = medkern.asarray(x)
    assert isinstance(d._buf, arrays.DeviceMemory)
    assert d.__cuda_array_interface__["data"][0] == x.data.ptr  # the same device memory
    x[0, 0] = 42  # CuPy writes (same legacy default stream): medkern sees
    assert medkern.asnumpy(d)[0, 0] == 42
    mf.maximum_filter(d, size=3, output=d)  # medkern writes: CuPy sees
    host[0, 0] = 42
    np.testing.assert_array_equal(cp.asnumpy(x), ndi.maximum_filter(host, size=3))
    e = medkern.asarray(data(np.float32, (16, 20)))
    for y in (cp.from_dlpack(e), cp.asarray(e)):  # DLPack and __cuda_array_interface__
        assert y.data.ptr == e.__cuda_array_interface__["data"][0]
        y[1, 1] = -3
        assert medkern.asnumpy(e)[1, 1] == -3
    with pytest.raises(ValueError, match="C-contiguous"):
        medkern.asarray(x.T, copy=False)
    np.testing.assert_array_equal(medkern.asnumpy(medkern.asarray(x.T)), cp.asnumpy(x.T))
    np.testing.assert_array_equal(medkern.asnumpy(medkern.asarray(x, dtype=np.float64)),
                                  cp.asnumpy(x).astype(np.float64))


@pytest.mark.parametrize("name, kw", FILTERS[:6], ids=[n for n, _ in FILTERS[:6]])
def test_cuda_cupy_filters_match_cupyx(name, kw):
    cp = _cupy()
    cndi = pytest.importorskip("cupyx.scipy.ndimage")
    host = data(np.float32, (40, 48))
    x = cp.asarray(host)
    before = x.copy()
    out = getattr(mf, name)(x, **kw)
    assert isinstance(out, cp.ndarray) and out.dtype == x.dtype
    assert_matches(cp.asnumpy(out), getattr(ndi, name)(host, **kw))
    assert_matches(cp.asnumpy(out), cp.asnumpy(getattr(cndi, name)(x, **kw)), rtol=1e-4)
    assert bool((x == before).all())
    h = x.astype(cp.float16)
    out16 = getattr(mf, name)(h, **kw)
    assert out16.dtype == cp.float16
    assert_matches(cp.asnumpy(out16).astype(np.float32),
                   getattr(ndi, name)(cp.asnumpy(h).astype(np.float32), **kw)
                   .astype(np.float16).astype(np.float32), rtol=2**-10)


def test_cuda_torch_zero_copy_and_filters():
    torch = _torch_cuda()
    host = data(np.float32, (24, 30))
    t = torch.from_numpy(host).cuda()
    d = medkern.asarray(t)
    assert d.__cuda_array_interface__["data"][0] == t.data_ptr()
    t[0, 0] = 11
    assert medkern.asnumpy(d)[0, 0] == 11
    mf.minimum_filter(d, size=3, output=d)
    host[0, 0] = 11
    assert_matches(t.cpu().numpy(), ndi.minimum_filter(host, size=3))
    e = medkern.asarray(data(np.float32, (24, 30)))
    te = torch.from_dlpack(e)
    assert te.device.type == "cuda" and te.data_ptr() == e.__cuda_array_interface__["data"][0]
    for name, kw in FILTERS[:6]:
        x = torch.from_numpy(data(np.float32, (24, 30))).cuda()
        before = x.clone()
        out = getattr(mf, name)(x, **kw)
        assert out.device == x.device and out.dtype == x.dtype
        assert_matches(out.cpu().numpy(), getattr(ndi, name)(x.cpu().numpy(), **kw))
        assert torch.equal(x, before)
    b = torch.from_numpy(data(np.float32, (24, 30))).cuda().to(torch.bfloat16)
    ob = mf.gaussian_filter(b, 1.5)
    assert ob.dtype == torch.bfloat16 and ob.device == b.device
    cpu_in = torch.from_numpy(data(np.float32, (24, 30)))  # a host tensor on the cuda arch
    oc = mf.uniform_filter(cpu_in, 3)
    assert oc.device.type == "cpu"
    assert_matches(oc.numpy(), ndi.uniform_filter(cpu_in.numpy(), 3))
    with pytest.raises(ValueError, match="host memory|cpu"):
        medkern.asarray(cpu_in, copy=False)

