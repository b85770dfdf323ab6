"""Host <-> device arrays and the dtype policy.

Public functions accept numpy arrays of any layout (C, Fortran, strided views,
read-only, big-endian) and return numpy arrays; given :class:`DeviceArray`
inputs they return :class:`DeviceArray` results, so a pipeline of calls never
returns to the host. Inputs are never mutated.

Storage
-------
Every kernel sees a *buffer*: a C-contiguous, native-endian, 3-D array
(1-D and 2-D data get leading axes of length 1). On the CPU arch a buffer is a
numpy array (Taichi reads host memory in place, no copy); on CUDA and Vulkan it
is a ``taichi.ndarray`` in device memory. A :class:`DeviceArray` owns one such
buffer plus the logical shape and dtype.

Dtype policy (follows ``scipy.ndimage``)
---------------------------------------
* The output dtype is the input dtype unless ``output=`` names another dtype
  or array.
* every built-in filter computes in float64, as SciPy does (float32 data too:
  float32 arithmetic overflowed on data near float32's limits and lost the
  result of cancelling sums -- derivatives, zero-mean data -- to rounding), so
  results equal SciPy's to the last bit or within one rounding. A user's
  ``ti.func`` (``generic_filter``, ``elementwise``) receives float32 values for
  float32 input and output (:func:`compute_dtype`), float64 otherwise.
* storing a float result into an integer output follows C (and SciPy):
  truncation toward zero, then wrap-around modulo 2**bits (e.g. -1.0 -> 255
  for uint8). Intermediate passes of separable filters are stored in the
  output dtype, as SciPy does.
* bool, complex, float16 and object inputs are rejected with ``TypeError``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import runtime

#: numpy dtypes a kernel can read or write, with their Taichi names.
_TI_NAMES = {
    np.dtype(np.float32): "f32", np.dtype(np.float64): "f64",
    np.dtype(np.int8): "i8", np.dtype(np.int16): "i16",
    np.dtype(np.int32): "i32", np.dtype(np.int64): "i64",
    np.dtype(np.uint8): "u8", np.dtype(np.uint16): "u16",
    np.dtype(np.uint32): "u32", np.dtype(np.uint64): "u64",
}
SUPPORTED_DTYPES = tuple(_TI_NAMES)
_NP_FROM_TI = {name: dt for dt, name in _TI_NAMES.items()}


def ti_dtype(dtype: np.dtype) -> Any:
    """The Taichi primitive type for a supported numpy dtype."""
    ti = runtime.ensure_init()
    return getattr(ti, _TI_NAMES[np.dtype(dtype)])


def shape3(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Pad a 1-3 D shape with leading ones to 3-D."""
    return (1,) * (3 - len(shape)) + tuple(int(s) for s in shape)


def compute_dtype(in_dtype: np.dtype, out_dtype: np.dtype) -> np.dtype:
    """The dtype a user's ``ti.func`` computes in: float32 when input and output are
    float32, else float64 (see module doc)."""
    if np.dtype(in_dtype) == np.float32 and np.dtype(out_dtype) == np.float32:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


class DeviceArray:
    """An array that lives where the kernels run (GPU memory, or host on the CPU arch).

    Create one with :func:`medkern.asarray`; get a numpy copy back with
    :func:`medkern.asnumpy` (or ``np.asarray(d)``). medkern functions given a
    ``DeviceArray`` return ``DeviceArray`` results without copying to the host.
    """

    __slots__ = ("_buf", "shape", "dtype")

    def __init__(self, buf: Any, shape: tuple[int, ...], dtype: np.dtype):
        self._buf = buf
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __repr__(self) -> str:
        arch = runtime.arch() if runtime.is_initialized() else "?"
        return f"DeviceArray(shape={self.shape}, dtype={self.dtype.name}, arch={arch})"

    def __array__(self, dtype=None, copy=None):
        host = asnumpy(self)
        return host if dtype is None else host.astype(dtype, copy=False)

    def __len__(self) -> int:
        return self.shape[0]

    def copy(self) -> "DeviceArray":
        buf = empty_buffer(shape3(self.shape), self.dtype)
        copy_buffer(self._buf, buf)
        return DeviceArray(buf, self.shape, self.dtype)


def _native_host(x: np.ndarray) -> np.ndarray:
    """C-contiguous, native-endian, aligned; a view when it already is."""
    if not x.dtype.isnative:
        x = x.astype(x.dtype.newbyteorder("="))
    return np.ascontiguousarray(x)


#: Scratch buffers returned by finished calls, by (shape, dtype): reusing them saves
#: the allocation (cudaMalloc on GPUs, fresh pages faulted in on the CPU) per pass.
_POOL: dict[tuple, list] = {}
_POOL_MAX_BYTES = 1 << 30
_pooled_bytes = 0


def empty_buffer(shape: tuple[int, int, int], dtype: np.dtype) -> Any:
    """An uninitialised kernel buffer on the running arch (from the scratch pool if one fits)."""
    global _pooled_bytes
    runtime.ensure_init()
    key = (tuple(int(s) for s in shape), np.dtype(dtype))
    with runtime.lock:
        free = _POOL.get(key)
        if free:
            _pooled_bytes -= _nbytes(key)
            return free.pop()
        if runtime.is_cpu():
            return np.empty(key[0], dtype=key[1])
        ti = runtime.ensure_init()
        return ti.ndarray(ti_dtype(key[1]), key[0])


def _nbytes(key: tuple) -> int:
    return int(np.prod(key[0], dtype=np.int64)) * key[1].itemsize


def release_buffer(buf: Any) -> None:
    """Hand a scratch buffer back for reuse; the caller must hold no other reference.

    The pool keeps at most ``_POOL_MAX_BYTES``; buffers beyond that are freed.
    """
    global _pooled_bytes
    if isinstance(buf, np.ndarray):
        if buf.base is not None or not buf.flags.writeable:
            return  # a view (e.g. of the caller's input): not ours to recycle
        key = (buf.shape, buf.dtype)
    else:
        key = (tuple(buf.shape), np.dtype(_NP_FROM_TI[str(buf.dtype)]))
    size = _nbytes(key)
    with runtime.lock:
        if _pooled_bytes + size <= _POOL_MAX_BYTES:
            _POOL.setdefault(key, []).append(buf)
            _pooled_bytes += size


def upload(x: np.ndarray) -> Any:
    """A kernel buffer holding ``x`` (a read-only view on the CPU arch when possible)."""
    host = _native_host(x).reshape(shape3(x.shape))
    if runtime.is_cpu():
        return host
    buf = empty_buffer(host.shape, host.dtype)
    with runtime.lock:
        buf.from_numpy(host)
    return buf


def upload_vector(x: np.ndarray) -> Any:
    """A 1-D kernel buffer holding a copy of ``x`` (small tables: weights, edges, counters)."""
    host = np.array(x, copy=True, order="C")
    host = host.astype(host.dtype.newbyteorder("="), copy=False).reshape(-1)
    if runtime.is_cpu():
        return host
    ti = runtime.ensure_init()
    with runtime.lock:
        buf = ti.ndarray(ti_dtype(host.dtype), host.shape)
        buf.from_numpy(host)
    return buf


def download(buf: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A numpy array with the contents of a buffer (no copy of a CPU buffer)."""
    if isinstance(buf, np.ndarray):
        return buf.reshape(shape)
    with runtime.lock:
        return buf.to_numpy().reshape(shape)


def copy_buffer(src: Any, dst: Any) -> None:
    """Copy one kernel buffer into another of the same shape and dtype."""
    if isinstance(dst, np.ndarray):
        np.copyto(dst, src if isinstance(src, np.ndarray) else src.to_numpy())
    elif isinstance(src, np.ndarray):
        with runtime.lock:
            dst.from_numpy(src)
    else:
        with runtime.lock:
            dst.copy_from(src)


def asarray(x: Any, dtype: Any = None) -> DeviceArray:
    """Copy an array to the device (a no-op for a :class:`DeviceArray` of that dtype).

    Parameters
    ----------
    x : array_like or DeviceArray
        Data of a supported dtype (float32/64, (u)int8/16/32/64, bool is stored
        as uint8 and rejected by the filters).
    dtype : data-type, optional
        Convert to this dtype first (on the host).

    Returns
    -------
    DeviceArray
    """
    if isinstance(x, DeviceArray):
        if dtype is None or np.dtype(dtype) == x.dtype:
            return x
        x = asnumpy(x)
    host = np.asarray(x, dtype=dtype)
    if host.dtype == bool:
        host = host.astype(np.uint8)
    if not host.dtype.isnative:  # e.g. big-endian '>f4': store native
        host = host.astype(host.dtype.newbyteorder("="))
    if host.dtype not in _TI_NAMES:
        raise TypeError(f"x: dtype {host.dtype} cannot live on the device; "
                        f"supported: {', '.join(d.name for d in SUPPORTED_DTYPES)}")
    if not 1 <= host.ndim <= 3:
        raise ValueError(f"x: device arrays are 1-3 dimensional, got ndim={host.ndim}")
    from .checks import index_range
    index_range(host.shape, "x")
    if host.size == 0:
        # no kernel runs on an empty array (the filters reject it), and GPU
        # ndarrays cannot have a zero-length axis: keep it on the host
        return DeviceArray(host.reshape(shape3(host.shape)).copy(), host.shape, host.dtype)
    buf = upload(host)
    if isinstance(buf, np.ndarray) and np.shares_memory(buf, host):
        buf = buf.copy()  # the device array must not alias the caller's memory
    return DeviceArray(buf, host.shape, host.dtype)


def asnumpy(x: Any) -> np.ndarray:
    """Copy a :class:`DeviceArray` to a new numpy array (numpy input: returned as is)."""
    if isinstance(x, DeviceArray):
        return download(x._buf, x.shape).copy()
    return np.asarray(x)
