"""Host <-> device arrays, zero-copy interop (DLPack) and the dtype policy.

Public functions accept numpy arrays of any layout (C, Fortran, strided views,
read-only, big-endian) and return numpy arrays; given :class:`DeviceArray`
inputs they return :class:`DeviceArray` results, so a pipeline of calls never
returns to the host. Inputs are never mutated.

Storage
-------
Every kernel sees a *buffer*: a C-contiguous, native-endian, 3-D array
(1-D and 2-D data get leading axes of length 1). A 4-D array -- a leading
component axis (a displacement field ``(3, Z, Y, X)``, distance-transform
indices) or batch axis (a stack of volumes) -- is one buffer too: ``(C, *spatial)``
with ``(s0, s1, s2) = shape3(spatial)`` is stored as ``(C * s0, s1, s2)`` (plain
C-order bytes; :func:`buffer_shape`, :func:`component_shape3`), so component ``c``
of point ``(z, y, x)`` is ``buf[c * s0 + z, y, x]``. A ``taichi.ndarray`` cannot be
sliced, so kernels that work per component take the whole buffer and the offset
``c * s0`` (a run-time argument: no copy, no new specialisation);
:meth:`DeviceArray.component` gives a user one component as a new 3-D array, a copy
on every arch so that writes never alias differently on the CPU arch and on GPUs.
The filters are 1-3 D and refuse 4-D input (SciPy would filter the component axis
too); a stack of 2-D images ``(B, Y, X)`` is filtered in one launch per pass with
``axes=(1, 2)``.

Every new buffer is checked against the device's memory first
(:func:`medkern.runtime.device_memory`): a request the device cannot hold raises
``MemoryError`` naming the size, dtype, shape and device before Taichi is asked
(Taichi's Vulkan allocator aborts the process on some failures); a failure Taichi
or numpy does report empties the scratch pool, is retried once, then raises the
same ``MemoryError``. On the CPU arch a buffer is a
numpy array (Taichi reads host memory in place, no copy); on CUDA and Vulkan it
is a ``taichi.ndarray`` in device memory. A :class:`DeviceArray` owns one such
buffer plus the logical shape and dtype. A DeviceArray imported without a copy
(below) on CUDA holds a :class:`DeviceMemory` instead: a numpy array object that
only *describes* the other library's device memory (pointer, shape, dtype; it is
never read on the host). Taichi passes a numpy argument's pointer to the kernel
and, on CUDA, uses it in place when it is device memory (``on_cuda_device`` in
Taichi 1.7's CUDA kernel launcher -- the path torch tensors take), so kernels
read and write the other library's memory directly.

Scratch pool and buffer ownership
---------------------------------
Buffers come from a pool (:func:`empty_buffer`; capped at ``_POOL_MAX_BYTES``,
1 GiB: a buffer that would exceed it is freed) so a pass or a call reuses the
memory an earlier one finished with. The pool never gives one buffer to two
users, whatever the call sites do, because every buffer it tracks is in exactly
one state (``_OWNERS``, keyed by ``id``):

* **leased** -- :func:`empty_buffer` handed it to one call, which alone may give
  it back with :func:`release_buffer` (for intermediates: reused by the next pass
  at once). The lease is a weak reference: a call that drops the buffer (an error
  path) just frees it.
* **pooled** -- back in the pool, nobody's. A second :func:`release_buffer`, a
  :class:`DeviceArray` built over it, a :func:`download` of it or a ``Job`` kernel
  launched with it raises ``RuntimeError``: it was used after its release.
* **handed out** -- a result holds it: building a :class:`DeviceArray` over a
  leased buffer, or :func:`download` returning a view of one (a numpy result on the
  CPU arch), ends the lease. :func:`release_buffer` on it raises ``RuntimeError``.
  It goes back to the pool only when that holder dies *and* its reference count
  proves nothing else refers to it: a DLPack consumer (the capsule's numpy array
  owns the buffer object), a numpy view or slice of it (its ``base`` is the
  buffer), another DeviceArray over it, Taichi (which keeps the arguments of a
  kernel's compiling call) all count, and then the buffer is left to them and
  freed by the last one, never pooled. The count is exact in CPython and the
  holder's own reference is known (a weakref callback runs before the holder drops
  its references; the baseline is measured at import), so the check errs only
  towards not pooling.

Anything without a record -- the caller's numpy memory, an imported tensor, a
buffer whose holder went while something else still referred to it -- never
enters the pool. The bookkeeping is a few dictionary operations and a weak
reference per buffer: ~4 us for a pooled lease + release, ~9 us for a result's
lease, claim and return (a 128x128 ``gaussian_filter`` takes ~430 us on 2 CPU
cores; the difference is within noise). Weakref callbacks only *try* the
pool's lock (they may fire anywhere); contended, the buffer is simply freed.
:func:`pool_stats` and :func:`clear_pool` inspect and empty the pool.

Interop (DLPack, ``__cuda_array_interface__``)
----------------------------------------------
* ``DeviceArray.__dlpack__``/``__dlpack_device__`` (Python array API): the
  consumer (``torch.from_dlpack``, ``np.from_dlpack``, ``cupy.from_dlpack``)
  shares the buffer's memory -- a numpy buffer on the CPU arch; on CUDA the
  ``taichi.ndarray``'s device pointer (``Program.get_ndarray_data_ptr_as_int``,
  the raw allocation on Taichi's LLVM backends) or the imported memory. Taichi
  launches on CUDA's legacy default stream, so a consumer on stream 1 or 2
  (or ``None``) needs no synchronisation; any other stream gets a
  ``runtime.sync()`` first. On CUDA, ``__cuda_array_interface__`` (version 3)
  too. On Vulkan Taichi exposes no pointer to its device memory: ``__dlpack__``
  raises ``BufferError`` unless the consumer asks for a host copy
  (``dl_device=(kDLCPU, 0)``, e.g. ``np.from_dlpack(d, device="cpu")``).
* :func:`asarray` imports any ``__dlpack__`` producer (torch, CuPy, JAX...)
  **without a copy** when its memory is where the kernels run (host memory on
  the CPU arch, CUDA device 0 on the CUDA arch), C-contiguous, writeable and of
  a supported dtype (``dtype=`` unset or equal). Otherwise ``copy=None`` (the
  default) copies and ``copy=False`` raises ``ValueError`` naming the reason;
  ``copy=True`` always copies. numpy arrays (and lists) are different on
  purpose: they are copied unless ``copy=False`` (then shared on the CPU arch
  when possible, else ``ValueError``), so a DeviceArray never silently aliases a
  numpy array and code behaves the same on every arch.

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
* float16 and bfloat16 (numpy float16; torch/CuPy half tensors) are converted
  to float32 on the way in and the float32 result back on the way out, by the
  filters (:mod:`medkern.algorithms.job`); a DeviceArray holds neither
  (:func:`asarray` raises ``TypeError``). SciPy refuses float16: a deviation.
* bool, complex and object inputs are rejected with ``TypeError``.
"""
from __future__ import annotations

import math
import sys
import threading
import weakref
from typing import Any, cast

import numpy as np

from . import dlpack, runtime

#: numpy dtypes a kernel can read or write, with their Taichi names.
_TI_NAMES: dict[np.dtype, str] = {
    np.dtype(np.float32): "f32", np.dtype(np.float64): "f64",
    np.dtype(np.int8): "i8", np.dtype(np.int16): "i16",
    np.dtype(np.int32): "i32", np.dtype(np.int64): "i64",
    np.dtype(np.uint8): "u8", np.dtype(np.uint16): "u16",
    np.dtype(np.uint32): "u32", np.dtype(np.uint64): "u64",
}
SUPPORTED_DTYPES: tuple[np.dtype, ...] = tuple(_TI_NAMES)
_NP_FROM_TI = {name: dt for dt, name in _TI_NAMES.items()}


def ti_dtype(dtype: np.dtype) -> Any:
    """The Taichi primitive type for a supported numpy dtype."""
    ti = runtime.ensure_init()
    return getattr(ti, _TI_NAMES[np.dtype(dtype)])


def shape3(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Pad a 1-3 D shape with leading ones to 3-D."""
    return cast("tuple[int, int, int]", (1,) * (3 - len(shape)) + tuple(int(s) for s in shape))


#: Most dimensions a DeviceArray may have: 3 spatial axes and one leading component or
#: batch axis (see :func:`buffer_shape`).
MAX_NDIM = 4


def component_shape3(ncomp: int, spatial: tuple[int, ...]) -> tuple[int, int, int]:
    """The 3-D buffer of an array of shape ``(ncomp, *spatial)`` (1-3 spatial axes).

    The layout contract of component (and batch) arrays: with ``(s0, s1, s2) =
    shape3(spatial)`` the buffer is ``(ncomp * s0, s1, s2)`` in plain C order, so
    component ``c`` of point ``(z, y, x)`` is ``buf[c * s0 + z, y, x]`` -- a kernel
    takes the whole buffer plus the offset ``c * s0`` of the component it wants.
    """
    s0, s1, s2 = shape3(spatial)
    return (int(ncomp) * s0, s1, s2)


def buffer_shape(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """The 3-D kernel buffer that stores an array of ``shape`` (1-4 D).

    1-3 D: :func:`shape3` (leading axes of length 1). 4-D ``(C, Z, Y, X)`` -- a leading
    component axis (a displacement field ``(3, Z, Y, X)``, distance-transform indices) or
    a batch axis (a stack of volumes) -- folds the leading axis into the first:
    ``(C * Z, Y, X)``, the :func:`component_shape3` rule (which 3-D arrays follow too).
    The bytes are the array's C-order bytes in every case.
    """
    if len(shape) <= 3:
        return shape3(shape)
    return component_shape3(math.prod(int(s) for s in shape[:-3]), tuple(shape[-3:]))


def compute_dtype(in_dtype: np.dtype, out_dtype: np.dtype) -> np.dtype:
    """The dtype a user's ``ti.func`` computes in: float32 when input and output are
    float32, else float64 (see module doc)."""
    if np.dtype(in_dtype) == np.float32 and np.dtype(out_dtype) == np.float32:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


class DeviceArray:
    """An array that lives where the kernels run (GPU memory, or host on the CPU arch).

    Create one with :func:`medkern.asarray`; get a numpy copy back with
    :func:`medkern.asnumpy` (or ``np.asarray(d)``). 1-4 dimensional: a 4-D array has
    a leading component or batch axis (:meth:`component` takes one out). medkern functions given a
    ``DeviceArray`` return ``DeviceArray`` results without copying to the host.
    """

    # _buf is set once, here: the pool's ownership check counts on it (see _holder_gone)
    __slots__ = ("_buf", "shape", "dtype", "__weakref__")

    def __init__(self, buf: Any, shape: tuple[int, ...], dtype: np.dtype):
        self._buf = buf
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        _hand_out(buf, self)  # a leased scratch buffer now belongs to this array

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)  # Python ints: exact, and ~50x cheaper than np.prod

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
        buf = empty_buffer(buffer_shape(self.shape), self.dtype)
        copy_buffer(self._buf, buf)
        return DeviceArray(buf, self.shape, self.dtype)

    # ------------------------------------------------------------ components / batches
    def component_buffer(self) -> Any:
        """The buffer in the component layout (:func:`component_shape3`) of
        ``(shape[0], *shape[1:])``, for kernels that take the whole buffer and a
        component offset ``c * s0``.

        The same buffer (no copy) for 1-D, 3-D and 4-D arrays. A 2-D array ``(C, N)``
        is stored as ``(1, C, N)`` (a 2-D image) while the component layout is
        ``(C, 1, N)``: the same bytes, but a ``taichi.ndarray`` cannot be reshaped, so
        GPU arches get a copy (on the CPU arch a numpy view).
        """
        want = component_shape3(self.shape[0], self.shape[1:]) if self.ndim > 1 else shape3(self.shape)
        buf = self._buf
        if tuple(buf.shape) == want:
            return buf
        if isinstance(buf, np.ndarray) and not isinstance(buf, DeviceMemory):
            return buf.reshape(want)
        out = empty_buffer(want, self.dtype)
        from .kernels import layout  # deferred: the kernels import this module
        with runtime.lock:
            layout.reshape_copy(_buffer_dtype(buf), self.dtype)(buf, out)
        return out

    def component(self, c: int) -> "DeviceArray":
        """Component (or batch item) ``c`` along the leading axis, as a new DeviceArray
        of shape ``shape[1:]`` (a **copy** on every arch, so writes never alias).

        Parameters
        ----------
        c : int
            Index along axis 0 (negative counts from the end).

        Returns
        -------
        DeviceArray

        Examples
        --------
        >>> import numpy as np, medkern
        >>> field = medkern.asarray(np.arange(24.0).reshape(3, 2, 2, 2))
        >>> medkern.asnumpy(field.component(1))[0, 0]
        array([8., 9.])
        """
        if self.ndim < 2:
            raise ValueError(f"component: a {self.ndim}-D array has no component axis")
        from .checks import axis as _index
        c = _index(c, self.shape[0], "c")
        spatial = self.shape[1:]
        s0 = shape3(spatial)[0]
        src = self.component_buffer()
        out = empty_buffer(shape3(spatial), self.dtype)
        if isinstance(src, np.ndarray) and not isinstance(src, DeviceMemory):
            np.copyto(out, src[c * s0:(c + 1) * s0])
        else:
            from .kernels import layout
            with runtime.lock:
                layout.slab_copy(self.dtype)(src, out, c * s0, 0, s0)
            if src is not self._buf and is_leased(src):  # a re-laid copy: back to the pool
                release_buffer(src)
        return DeviceArray(out, spatial, self.dtype)

    # ------------------------------------------------------------ interop (array API, CUDA)
    def __dlpack_device__(self) -> tuple:
        """``(device type, device id)`` of the memory: (kDLCPU, 0), (kDLCUDA, 0) or (kDLVulkan, 0)."""
        return _arch_device()

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: bool | None = None) -> Any:
        """Export as a DLPack capsule sharing this array's memory (Python array API).

        Parameters
        ----------
        stream : int, optional
            CUDA: the consumer's stream (``None``/1: legacy default, 2: per-thread
            default -- both ordered after medkern's kernels -- -1: no synchronisation;
            another stream gets a device synchronisation first). Host: ``None`` only.
        max_version : tuple of int, optional
            The consumer's highest DLPack version; (1, x) gets a versioned capsule.
        dl_device : tuple, optional
            The device the consumer wants; only this array's device, or the host
            ``(kDLCPU, 0)`` as a copy.
        copy : bool, optional
            ``True``: export a copy; ``False``: never copy (``BufferError`` where the
            memory cannot be shared); ``None``: copy only for another ``dl_device``.

        Raises
        ------
        BufferError
            On Vulkan (Taichi exposes no device pointer there) unless a host copy
            is asked for, or for a device this array cannot go to.
        """
        if copy not in (None, True, False):
            raise ValueError(f"copy must be None, True or False, got {copy!r}")
        own = _arch_device()
        want = own if dl_device is None else (int(dl_device[0]), int(dl_device[1]))
        if want != own:
            if want == (dlpack.CPU, 0) and copy is not False:
                if stream is not None:
                    raise BufferError(f"stream must be None for a host export, got {stream!r}")
                host = asnumpy(self)
                return dlpack.export(host.ctypes.data, host.shape, host.dtype, host,
                                     max_version=max_version, copied=True)
            raise BufferError(
                f"a DeviceArray on {_device_name(own)} cannot be exported to "
                f"{_device_name(want)}" + (" without a copy (copy=False)" if copy is False else "")
                + "; the host (kDLCPU, 0) is the only other device it can go to, as a copy")
        if own[0] == dlpack.VULKAN:
            raise BufferError(
                "DLPack export is not possible on the Vulkan arch: Taichi 1.7 gives no pointer "
                "to its Vulkan device memory that another library could use. Ask for a host "
                "copy instead (np.from_dlpack(d, device='cpu'), torch.from_dlpack(d.__dlpack__("
                "dl_device=(1, 0))), or medkern.asnumpy(d)), or run on the cpu/cuda arch")
        if own[0] == dlpack.CPU:
            if stream is not None:
                raise BufferError(f"stream must be None for host memory, got {stream!r}")
        else:
            _order_after_kernels(stream)
        arr = self.copy() if copy is True else self
        buf = arr._buf
        readonly = isinstance(buf, np.ndarray) and not buf.flags.writeable
        return dlpack.export(buffer_pointer(buf), arr.shape, arr.dtype, buf, device=own,
                             max_version=max_version, readonly=readonly, copied=copy is True)

    @property
    def __cuda_array_interface__(self) -> dict:
        """CUDA Array Interface (version 3) of the device memory; CUDA arch only."""
        if not runtime.is_initialized() or runtime.arch() != "cuda":
            raise AttributeError("__cuda_array_interface__ exists on the cuda arch only "
                                 f"(medkern runs on {runtime.arch() if runtime.is_initialized() else 'nothing yet'})")
        return {"version": 3, "shape": self.shape, "typestr": self.dtype.str, "strides": None,
                "data": (buffer_pointer(self._buf) if self.size else 0, False),
                # medkern's kernels run on the legacy default stream
                "stream": 1}


class DeviceMemory(np.ndarray):
    """A numpy array object that only *describes* device memory another library owns.

    Its data pointer is a CUDA device address: Taichi passes it to kernels in
    place, but nothing may read it on the host (numpy would fault). medkern's
    own functions copy it with a kernel (:func:`download`, :func:`copy_buffer`);
    ufuncs and ``repr`` refuse it.
    """

    # numpy's documented opt-out of ufuncs; its stub types the attribute as a method only
    __array_ufunc__ = None  # type: ignore[assignment]

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"{func.__name__}: medkern.arrays.DeviceMemory is device memory; "
                        "copy it with medkern.asnumpy")

    def __repr__(self) -> str:
        return (f"DeviceMemory(shape={self.shape}, dtype={self.dtype.name}, "
                f"pointer={self.ctypes.data:#x})")

    __str__ = __repr__


def _arch_device() -> tuple:
    return {"cpu": (dlpack.CPU, 0), "cuda": (dlpack.CUDA, 0),
            "vulkan": (dlpack.VULKAN, 0)}[runtime.arch()]


def _device_name(device: tuple) -> str:
    return f"{dlpack.DEVICE_NAMES.get(int(device[0]), f'device type {device[0]}')}:{device[1]}"


def _order_after_kernels(stream: Any) -> None:
    """Make medkern's launched kernels visible to work on a consumer's CUDA ``stream``.

    Taichi 1.7 launches every CUDA kernel on the legacy default stream: the legacy
    default stream itself (``None``/1) and the per-thread default stream (2) are
    ordered after it; -1 means the consumer wants no synchronisation. Other streams
    may be non-blocking: the device is synchronised (host wait) first.
    """
    if stream is None or (isinstance(stream, int) and stream in (-1, 1, 2)):
        return
    if isinstance(stream, int) and stream == 0:
        raise BufferError("stream=0 is ambiguous for CUDA in DLPack; use 1 for the legacy "
                          "default stream or 2 for the per-thread one")
    runtime.sync()


def exportable(d: "DeviceArray", device: tuple) -> bool:
    """Whether ``d`` can be handed to a consumer on ``device`` without a copy."""
    own = _arch_device()
    return own[0] != dlpack.VULKAN and tuple(int(v) for v in device) == own


def buffer_pointer(buf: Any) -> int:
    """The address of a kernel buffer's first element (host or device memory)."""
    if isinstance(buf, np.ndarray):
        return int(buf.ctypes.data)
    ti = runtime.ensure_init()
    # Taichi's LLVM backends (CPU, CUDA) allocate an ndarray as one raw allocation and
    # return its address here; Vulkan and other graphics backends return 0.
    ptr = int(ti.lang.impl.get_runtime().prog.get_ndarray_data_ptr_as_int(buf.arr))
    if not ptr:
        raise BufferError(f"Taichi gives no pointer to its {runtime.arch()} device memory")
    return ptr


def _buffer_dtype(buf: Any) -> np.dtype:
    if isinstance(buf, np.ndarray):
        return buf.dtype
    return np.dtype(_NP_FROM_TI[str(buf.dtype)])


def _kernel_copy(src: Any, dst: Any) -> None:
    """``dst[...] = src`` by a kernel (C cast semantics between dtypes); any buffers."""
    from .kernels import dsl, filters as kf  # deferred: the kernels import this module
    kern = dsl.pointwise(kf.identity, (_buffer_dtype(src),), _buffer_dtype(dst))
    with runtime.lock:
        kern(src, dst)


def _native_host(x: np.ndarray) -> np.ndarray:
    """C-contiguous, native-endian, aligned; a view when it already is."""
    if not x.dtype.isnative:
        x = x.astype(x.dtype.newbyteorder("="))
    return np.ascontiguousarray(x)


# ============================================================ scratch pool and buffer ownership
#: Scratch buffers nobody uses, by (shape, dtype): reusing them saves the allocation
#: (cudaMalloc / a zero-filled Vulkan allocation on GPUs, fresh pages faulted in on the
#: CPU) per pass. At most ``_POOL_MAX_BYTES``; a buffer that would exceed it is freed.
_POOL: dict[tuple, list] = {}
_POOL_MAX_BYTES = 1 << 30
_pooled_bytes = 0
#: The ownership record of every buffer the pool tracks, by ``id(buffer)``: a
#: :class:`_Lease` (LEASED), a :class:`_Claim` (HANDED OUT) or :data:`_POOLED`. A buffer
#: without a record is not the pool's (the caller's memory, an imported tensor...) and
#: never enters it.
_OWNERS: dict[int, Any] = {}
_POOLED = "pooled"
#: Guards ``_POOL``, ``_pooled_bytes`` and ``_OWNERS``. Held for a few dictionary and
#: list operations that create no Python objects the garbage collector tracks (those are
#: made before), so no collection -- and no finalizer that might call back in -- runs
#: while it is held; never held while allocating buffers or launching. Weakref
#: callbacks, which fire wherever a holder dies, only *try* it and, failing, let the
#: buffer be freed instead of pooled.
_LOCK = threading.Lock()
#: Buffers :func:`empty_buffer` allocated (not from the pool), for :func:`pool_stats`.
_allocations = 0


class _Lease(weakref.ref):
    """LEASED: the one medkern call that got the buffer from :func:`empty_buffer` owns it.

    A weak reference, so a buffer its call drops (an error path) is simply freed;
    the callback forgets the record. A record whose buffer died before the callback
    could take the lock is stale: every reader checks ``lease() is buf``.
    """

    __slots__ = ("ident",)
    ident: int

    def __new__(cls, buf: Any) -> "_Lease":
        self = super().__new__(cls, buf, _lease_lost)
        self.ident = id(buf)
        return self


class _Claim(weakref.ref):
    """HANDED OUT: a result (a :class:`DeviceArray`, or a numpy view returned by
    :func:`download`) holds the buffer. A weak reference to that *holder* that keeps the
    buffer itself: when the holder dies, :func:`_holder_gone` pools the buffer if its
    reference count proves nothing else refers to it."""

    __slots__ = ("buf", "sole")
    buf: Any
    sole: int

    def __new__(cls, holder: Any, buf: Any, sole: int) -> "_Claim":
        self = super().__new__(cls, holder, _holder_gone)
        self.buf = buf
        self.sole = sole
        return self

    def __init__(self, holder: Any, buf: Any, sole: int) -> None:
        pass  # all set in __new__ (weakref.ref.__init__ only checks its two arguments)


def _leased(buf: Any, rec: Any) -> bool:
    return type(rec) is _Lease and rec() is buf


def _lease_lost(lease: _Lease) -> None:
    """The buffer died while leased (its call dropped it): forget the record."""
    try:
        if _LOCK.acquire(False):
            try:
                if _OWNERS.get(lease.ident) is lease:
                    del _OWNERS[lease.ident]
            finally:
                _LOCK.release()
    except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to keep
        pass


#: ``sys.getrefcount`` of a handed-out buffer in :func:`_holder_gone` when nothing but
#: the dying holder and the claim refers to it, by holder type (measured at import on
#: a probe, so it holds whatever the interpreter's counting details).
_SOLE: dict[type, int] = {}
_calibration: list[int] | None = None


def _holder_gone(claim: _Claim) -> None:
    """A handed-out buffer's holder died: pool the buffer if nothing else refers to it.

    Runs while the holder is being deallocated (CPython clears weak references before
    the holder's own references: ``DeviceArray._buf``, a view's ``base``), so the count
    of a buffer nothing else refers to is the calibrated ``claim.sole``. Anything more
    -- a DLPack consumer (its capsule owns the buffer), a numpy view of it, another
    DeviceArray over it, a local variable in a frame still running -- and the buffer is
    left to them: freed when the last one goes, never pooled. Not comparing equal
    errs only that way.
    """
    global _pooled_bytes
    try:
        buf = claim.buf
        claim.buf = None
        refs = sys.getrefcount(buf)
        if _calibration is not None:
            _calibration.append(refs)
            return
        ident = id(buf)
        key = _key(buf)
        size = _nbytes(key)
        spare: list[Any] = []
        if not _LOCK.acquire(False):  # contended, or fired inside the lock: just free it
            if _OWNERS.get(ident) is claim:
                del _OWNERS[ident]
            return
        try:
            if _OWNERS.get(ident) is not claim:
                return
            if refs <= claim.sole and _pooled_bytes + size <= _POOL_MAX_BYTES:
                _push(key, size, buf, spare)
            else:
                del _OWNERS[ident]
        finally:
            _LOCK.release()
    except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to keep
        pass


def _calibrate() -> None:
    """Measure :data:`_SOLE` on probes: a buffer held only by its claim and a dying holder."""
    global _calibration
    _calibration = []
    try:
        for holder_type in (DeviceArray, np.ndarray):
            probe = np.empty((1, 1, 1))
            holder: Any = probe.reshape(1)
            if holder_type is DeviceArray:
                holder = DeviceArray.__new__(DeviceArray)
                holder._buf = probe
            claim = _Claim(holder, probe, 0)
            del probe, holder  # the holder dies: _holder_gone records the count
            _SOLE[holder_type] = _calibration.pop()
            del claim
    finally:
        _calibration = None


def _key(buf: Any) -> tuple:
    if isinstance(buf, np.ndarray):
        return (buf.shape, buf.dtype)
    return (tuple(buf.shape), np.dtype(_NP_FROM_TI[str(buf.dtype)]))


def _nbytes(key: tuple) -> int:
    return math.prod(key[0]) * key[1].itemsize


def _push(key: tuple, size: int, buf: Any, spare: list) -> None:
    """Put ``buf`` in the pool (``_LOCK`` held; ``spare``: an empty list made before)."""
    global _pooled_bytes
    free = _POOL.get(key)
    if free is None:
        free = _POOL[key] = spare
    free.append(buf)
    _pooled_bytes += size
    _OWNERS[id(buf)] = _POOLED


def empty_buffer(shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """An uninitialised kernel buffer on the running arch, leased to the caller.

    ``shape`` is 3-D for images (``shape3``); 1-D for flat work arrays and tables (the
    working labels of ``label``, prefix sums, counters).

    From the scratch pool if one fits. The caller owns it alone until it either
    gives it back with :func:`release_buffer`, hands it out as a result (a
    :class:`DeviceArray` over it, or the view :func:`download` returns), or drops it.
    """
    global _pooled_bytes, _allocations
    runtime.ensure_init()
    key = (tuple(map(int, shape)), np.dtype(dtype))
    size = _nbytes(key)
    buf = None
    with _LOCK:
        free = _POOL.get(key)
        if free:
            buf = free.pop()
            _pooled_bytes -= size
            del _OWNERS[id(buf)]  # was _POOLED; nobody else can reach it now
        else:
            _allocations += 1
    if buf is None:
        buf = _allocate(key, size)
    # one dictionary store (atomic): no record for this id can be live (a pooled or
    # handed-out buffer is alive, so its id is not this one's), only a dead lease
    _OWNERS[id(buf)] = _Lease(buf)
    return buf


def _allocate(key: tuple, size: int) -> Any:
    """A new buffer, or ``MemoryError`` naming the size and the device.

    Checked against the device's memory *before* asking Taichi (its Vulkan allocator
    aborts the whole process on some failures); a failure that is reported (numpy's
    ``MemoryError``, Taichi's ``RuntimeError``) empties the pool and tries once more.
    """
    what = f"{key[1].name} buffer {key[0]}"
    runtime.check_allocation(size, what)
    if math.prod(key[0]) > 2**31 - 1 and not runtime.is_cpu():
        # Taichi counts an ndarray's elements in 32 bits: more wrap and abort the process
        raise runtime.out_of_memory(size, what + " (more than 2**31 - 1 elements in one "
                                    "device buffer)")
    for attempt in (0, 1):
        try:
            # GPU ndarrays cannot have a zero-length axis, and no kernel runs on a
            # buffer of no element (an empty filter input, Job(empty=True)): the host
            if runtime.is_cpu() or size == 0:
                return np.empty(key[0], dtype=key[1])
            ti = runtime.ensure_init()
            with runtime.lock:
                return ti.ndarray(ti_dtype(key[1]), key[0])
        except (MemoryError, RuntimeError) as exc:
            if isinstance(exc, RuntimeError) and not _allocation_failed(exc):
                raise
            if attempt == 0 and _pooled_bytes:
                clear_pool()  # memory the pool keeps may be what is missing
                continue
            raise runtime.out_of_memory(size, what) from exc
    raise AssertionError("unreachable")


def _allocation_failed(exc: RuntimeError) -> bool:
    """Whether Taichi's ``RuntimeError`` is a failed device allocation (its messages
    name the allocator: ``allocate_memory``/``RhiResult``/out of memory)."""
    text = str(exc).lower()
    return any(w in text for w in ("allocate", "rhiresult", "out of memory", "out_of_memory"))


def release_buffer(buf: Any) -> None:
    """Give a leased scratch buffer back to the pool (freed if the pool is full).

    Only the holder of the lease from :func:`empty_buffer` may, once: a second
    release, a release after the buffer was handed out (a ``DeviceArray``, a
    downloaded view or a DLPack consumer may hold it), or of a buffer that never
    came from :func:`empty_buffer` raises ``RuntimeError`` and pools nothing, so
    one buffer is never given to two users. The caller must also hold no view of
    it (``download``'s view takes the lease over, so that cannot happen by
    accident). The pool keeps at most ``_POOL_MAX_BYTES``.
    """
    ident = id(buf)
    rec = _OWNERS.get(ident)
    if _leased(buf, rec):  # from empty_buffer: a numpy array or a taichi.ndarray
        key = _key(buf)
        size = _nbytes(key)
        spare: list[Any] = []
        with _LOCK:
            rec = _OWNERS.get(ident)
            if _leased(buf, rec):
                if _pooled_bytes + size <= _POOL_MAX_BYTES:
                    _push(key, size, buf, spare)
                else:
                    del _OWNERS[ident]
                return
    if rec is _POOLED:
        why = "it was released already (it is in the scratch pool)"
    elif type(rec) is _Claim:
        why = "it was handed out (a DeviceArray or a downloaded array holds it)"
    else:
        why = ("it is not leased: not from empty_buffer, or released before (when the pool "
               "was full), or handed out and returned")
    raise RuntimeError(f"release_buffer: {why}; releasing it could give one buffer to two "
                       "users")


def _hand_out(buf: Any, holder: Any) -> None:
    """``holder`` (a DeviceArray or a view) now holds ``buf``: a leased buffer is handed out.

    A buffer in the pool raises ``RuntimeError`` (used after its release).
    """
    rec = _OWNERS.get(id(buf))
    if rec is None or type(rec) is _Claim:
        return  # not the pool's (the caller's memory, an imported array), or handed out
    if rec is not _POOLED:
        # a holder type never calibrated gets 0: its buffer is never pooled again
        claim = _Claim(holder, buf, _SOLE.get(type(holder), 0))
        with _LOCK:
            if _leased(buf, _OWNERS.get(id(buf))):
                _OWNERS[id(buf)] = claim
                return
        rec = _OWNERS.get(id(buf))
    if rec is _POOLED:
        raise RuntimeError("a scratch buffer was used after release_buffer (it is in the pool); "
                           "handing it out would give it to two users")


def check_not_pooled(args: tuple) -> None:
    """``RuntimeError`` if a kernel argument is a buffer sitting in the pool (used after
    its release); a few dictionary look-ups."""
    for a in args:
        if _OWNERS.get(id(a)) is _POOLED:
            raise RuntimeError("a kernel was launched with a scratch buffer after "
                               "release_buffer (it is in the pool)")


def is_leased(buf: Any) -> bool:
    """Whether ``buf`` is a scratch buffer leased by :func:`empty_buffer` and not yet
    released or handed out (its lease holder may release it)."""
    return _leased(buf, _OWNERS.get(id(buf)))


def pool_stats() -> dict:
    """The scratch pool's state: ``buffers``/``bytes`` pooled, buffers ``leased`` to
    running calls and ``handed_out`` (held by results), ``allocations`` made so far.
    (Diagnostics: a snapshot, not taken under the lock.)"""
    recs = list(_OWNERS.values())  # one C call: no other thread runs meanwhile
    pools = list(_POOL.values())
    return {"buffers": sum(len(v) for v in pools), "bytes": _pooled_bytes,
            "allocations": _allocations,
            "leased": sum(1 for r in recs if type(r) is _Lease and r() is not None),
            "handed_out": sum(1 for r in recs if type(r) is _Claim)}


def clear_pool() -> None:
    """Free every pooled buffer (their memory goes back to numpy/Taichi)."""
    global _POOL, _pooled_bytes
    fresh: dict[tuple, list] = {}
    with _LOCK:
        dropped, _POOL = _POOL, fresh
        _pooled_bytes = 0
    # out of the pool, these buffers are unreachable to anyone else: forget them here
    for free in dropped.values():
        for buf in free:
            if _OWNERS.get(id(buf)) is _POOLED:
                del _OWNERS[id(buf)]


#: Host <-> kernel-buffer crossings by kind (calls, on every arch: on the CPU arch they
#: are views or memcpy, on devices transfers), for tests and profiling; see :func:`transfers`.
_TRANSFERS: dict[str, int] = {"upload": 0, "upload_vector": 0, "download": 0,
                              "read_scalar": 0, "host_copy": 0}


def _count(kind: str) -> None:
    _TRANSFERS[kind] += 1


def transfers() -> dict[str, int]:
    """How many times data crossed between the host and kernel buffers so far, by kind:
    ``upload`` (an array to a buffer), ``upload_vector`` (small tables), ``download`` (a
    buffer to an array), ``read_scalar`` (one value read back: a flag, a count),
    ``host_copy`` (a buffer copied through host memory). Counted on every arch, so a test
    can check that a pipeline of device arrays stays on the device: take the counts before
    and after and compare (``{k: after[k] - before[k]}``)."""
    return dict(_TRANSFERS)


def upload(x: np.ndarray) -> Any:
    """A kernel buffer holding ``x`` (a read-only view on the CPU arch when possible)."""
    _count("upload")
    host: np.ndarray = _native_host(x).reshape(buffer_shape(x.shape))
    if runtime.is_cpu() or host.size == 0:  # no element: stays on the host (_allocate)
        return host
    buf = empty_buffer(host.shape, host.dtype)
    with runtime.lock:
        buf.from_numpy(host)
    return buf


def upload_vector(x: np.ndarray) -> Any:
    """A 1-D kernel buffer holding a copy of ``x`` (small tables: weights, edges, counters)."""
    _count("upload_vector")
    host = np.array(x, copy=True, order="C")
    host = host.astype(host.dtype.newbyteorder("="), copy=False).reshape(-1)
    if runtime.is_cpu():
        return host
    ti = runtime.ensure_init()
    runtime.check_allocation(host.nbytes, f"{host.dtype.name} table {host.shape}")
    with runtime.lock:
        buf = ti.ndarray(ti_dtype(host.dtype), host.shape)
        buf.from_numpy(host)
    return buf


def _off_foreign_memory(buf: Any) -> Any:
    """``buf``, or for another library's device memory (``DeviceMemory``, never read on the
    host) a copy made by a kernel into a buffer of medkern's that the host can read."""
    if isinstance(buf, DeviceMemory):
        host = empty_buffer(tuple(buf.shape), buf.dtype)
        _kernel_copy(buf, host)
        return host
    return buf


def download(buf: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A numpy array with the contents of a buffer (no copy of a CPU buffer).

    A view of a leased scratch buffer takes the buffer over (it is handed out, as
    to a DeviceArray): ``release_buffer`` on it then raises, and it returns to the
    pool when the view and everything derived from it are gone.
    """
    _count("download")
    buf = _off_foreign_memory(buf)
    if isinstance(buf, np.ndarray):
        view = buf.reshape(shape)
        if view is buf:
            view = buf.view()
        _hand_out(buf, view)
        return view
    with runtime.lock:
        return buf.to_numpy().reshape(shape)


def copy_buffer(src: Any, dst: Any) -> None:
    """Copy one kernel buffer into another of the same shape and dtype."""
    if isinstance(src, DeviceMemory) or isinstance(dst, DeviceMemory):
        _kernel_copy(src, dst)  # never touch device memory from the host
    elif isinstance(dst, np.ndarray):
        if not isinstance(src, np.ndarray):
            _count("host_copy")
        np.copyto(dst, src if isinstance(src, np.ndarray) else src.to_numpy())
    elif isinstance(src, np.ndarray):
        _count("host_copy")
        with runtime.lock:
            dst.from_numpy(src)
    else:
        with runtime.lock:
            dst.copy_from(src)


def asarray(x: Any, dtype: Any = None, *, copy: bool | None = None) -> DeviceArray:
    """An array where the kernels run: a :class:`DeviceArray`.

    Parameters
    ----------
    x : array_like, DeviceArray or DLPack producer
        Data of a supported dtype (float32/64, (u)int8/16/32/64; bool is stored
        as uint8 and rejected by the filters). A torch tensor, CuPy array or any
        other object with ``__dlpack__`` is **shared, not copied**, when it lives
        where the kernels run (the host on the CPU arch, CUDA device 0 on the
        CUDA arch) and is C-contiguous, writeable and of a supported dtype: a
        write on either side is seen on the other. numpy arrays and lists are
        copied (unless ``copy=False``), so a DeviceArray never silently aliases
        numpy memory.
    dtype : data-type, optional
        Convert to this dtype (numpy data: on the host; a producer's device
        memory: on the device, C cast semantics). Implies a copy if it differs.
    copy : bool, optional
        ``None`` (default): DLPack producers are shared when they can be and
        copied otherwise; numpy arrays are copied. ``True``: always copy.
        ``False``: never copy -- ``ValueError`` naming the reason (not
        C-contiguous, read-only, on another device, a dtype conversion, a
        GPU arch for numpy data...) where the memory cannot be shared. numpy
        arrays are shared on the CPU arch only.

    Returns
    -------
    DeviceArray

    Raises
    ------
    TypeError
        Unsupported dtype (float16/bfloat16 included: the filters take those
        directly, computing in float32, but a DeviceArray does not hold them).
    ValueError
        Not 1-4 D (4-D: a leading component or batch axis), too large, on a device medkern does not run on, or
        ``copy=False`` where a copy is needed.
    """
    return import_array(x, dtype, copy, "x")


def is_dlpack_producer(x: Any) -> bool:
    """Whether ``x`` is another library's array speaking DLPack (numpy excluded)."""
    return (hasattr(x, "__dlpack__") and hasattr(x, "__dlpack_device__")
            and not isinstance(x, (np.ndarray, np.generic, DeviceArray)))


def import_array(x: Any, dtype: Any = None, copy: bool | None = None,
                 name: str = "x") -> DeviceArray:
    """:func:`asarray` with the parameter name used in error messages."""
    if copy not in (None, True, False):
        raise ValueError(f"copy must be None, True or False, got {copy!r}")
    if isinstance(x, DeviceArray):
        if dtype is None or np.dtype(dtype) == x.dtype:
            return x.copy() if copy is True else x
        if copy is False:
            raise ValueError(f"{name}: converting {x.dtype} to {np.dtype(dtype)} needs a copy "
                             "(copy=False)")
        x = asnumpy(x)
    elif is_dlpack_producer(x):
        return _from_dlpack(x, dtype, copy, name)
    host = np.asarray(x, dtype=dtype)
    if copy is False:
        if not (isinstance(x, np.ndarray) and np.may_share_memory(host, x)):
            raise ValueError(f"{name} cannot be used without a copy (copy=False): "
                             + (f"dtype={np.dtype(dtype)} converts its {x.dtype} data"
                                if isinstance(x, np.ndarray) else
                                f"a {type(x).__name__} must be converted to an array"))
        return _share_host(host, name, "numpy data")
    return _from_host(host, name)


def _check_storable(dtype: np.dtype, shape: tuple, name: str) -> None:
    if dtype not in _TI_NAMES:
        hint = ""
        if dtype.kind == "f" and dtype.itemsize == 2:
            hint = ("; the filters accept float16/bfloat16 data directly (computed in float32), "
                    "a DeviceArray cannot hold it: convert with .astype(np.float32)")
        raise TypeError(f"{name}: dtype {dtype} cannot live on the device; "
                        f"supported: {', '.join(d.name for d in SUPPORTED_DTYPES)}{hint}")
    if not 1 <= len(shape) <= MAX_NDIM:
        raise ValueError(f"{name}: device arrays are 1-{MAX_NDIM} dimensional (1-3 spatial axes "
                         f"and a leading component or batch axis), got ndim={len(shape)}")
    from .checks import index_range
    index_range(shape, name)
    if len(shape) > 3:  # the folded first axis of the buffer must fit the kernels' indices
        index_range(buffer_shape(shape), f"{name} (stored as a 3-D buffer)")


def _from_host(host: np.ndarray, name: str) -> DeviceArray:
    """A DeviceArray holding a copy of host data."""
    if host.dtype == bool:
        host = host.astype(np.uint8)
    if not host.dtype.isnative:  # e.g. big-endian '>f4': store native
        host = host.astype(host.dtype.newbyteorder("="))
    _check_storable(host.dtype, host.shape, name)
    if host.size == 0:
        # no kernel runs on an empty array (the filters reject it), and GPU
        # ndarrays cannot have a zero-length axis: keep it on the host
        return DeviceArray(host.reshape(buffer_shape(host.shape)).copy(), host.shape, host.dtype)
    runtime.ensure_init()
    if runtime.is_cpu():  # a pooled copy: the device array must not alias the caller's memory
        _count("upload")
        buf = empty_buffer(buffer_shape(host.shape), host.dtype)
        buf[...] = host.reshape(buf.shape)
    else:
        buf = upload(host)
    return DeviceArray(buf, host.shape, host.dtype)


def _unshareable(view: np.ndarray) -> str | None:
    """Why the kernels cannot use this memory as a buffer in place (``None``: they can)."""
    if view.dtype == bool:
        return "bool data is stored as uint8"
    if not view.dtype.isnative:
        return "its byte order is not native"
    if not view.flags.c_contiguous:
        return (f"it is not C-contiguous (strides {view.strides} for shape {view.shape}); "
                "medkern's kernels read C-contiguous memory: make it contiguous first "
                "(.contiguous(), np.ascontiguousarray) or let it be copied")
    if not view.flags.aligned:
        return "its data is not aligned"
    if not view.flags.writeable:
        return "it is read-only (a DeviceArray is writable: output= writes into it)"
    return None


def _share_host(host: np.ndarray, name: str, source: str) -> DeviceArray:
    """A DeviceArray over host memory, without a copy (``copy=False``), or ``ValueError``."""
    _check_storable(host.dtype.newbyteorder("=") if host.dtype != bool else np.dtype(np.uint8),
                    host.shape, name)
    reason = None
    if not runtime.is_cpu():
        reason = (f"{source} lives in host memory and medkern runs on the {runtime.arch()} arch, "
                  "whose kernels read device memory")
    else:
        reason = _unshareable(host)
    if reason:
        raise ValueError(f"{name} cannot be used without a copy (copy=False): {reason}")
    return DeviceArray(host.reshape(buffer_shape(host.shape)), host.shape, host.dtype)


def _from_dlpack(x: Any, dtype: Any, copy: bool | None, name: str,
                 made_contiguous: bool = False) -> DeviceArray:
    """Import a DLPack producer's memory: shared when possible (see :func:`asarray`)."""
    if getattr(x, "requires_grad", False) and hasattr(x, "detach"):
        x = x.detach()  # torch: DLPack refuses tensors in an autograd graph; same memory
    dev = tuple(int(v) for v in x.__dlpack_device__())
    arch = runtime.arch()
    on_host = dev[0] in (dlpack.CPU, dlpack.CUDA_HOST)
    on_gpu = arch == "cuda" and dev[0] == dlpack.CUDA
    if not (on_host or on_gpu):
        raise ValueError(
            f"{name} is on {_device_name(dev)} but medkern runs on the {arch} arch; move it "
            "(e.g. .cpu()) or run medkern where it is (medkern.init('cuda') for CUDA data)")
    if on_gpu and dev[1] != 0:
        raise ValueError(f"{name} is on cuda:{dev[1]}; medkern's CUDA runtime (Taichi) uses "
                         "device 0 (select the GPU with CUDA_VISIBLE_DEVICES)")
    # CUDA: ask the producer to make the data ready for the legacy default stream,
    # where Taichi launches every kernel
    try:
        view, _ = dlpack.consume(x, None if on_host else 1)
    except TypeError as exc:
        raise TypeError(f"{name}: {exc}; supported: "
                        f"{', '.join(d.name for d in SUPPORTED_DTYPES)}") from None
    want = view.dtype if dtype is None else np.dtype(dtype)
    if want == bool:
        want = np.dtype(np.uint8)
    _check_storable(view.dtype if view.dtype != bool else np.dtype(np.uint8), view.shape, name)
    _check_storable(want, view.shape, name)
    shared = on_host if arch == "cpu" else on_gpu
    reason: str | None
    if not shared:
        reason = (f"its memory is on {_device_name(dev)} and medkern runs on the {arch} arch "
                  "(device memory of its own)")
    else:
        reason = _unshareable(view)
        if reason is None and want != view.dtype:
            reason = f"dtype={want} converts its {view.dtype} data"
    if reason is None and copy is not True and view.size:
        buf = view.reshape(buffer_shape(view.shape))
        if on_gpu:
            buf = buf.view(DeviceMemory)
        return DeviceArray(buf, view.shape, view.dtype)
    if copy is False:
        raise ValueError(f"{name} cannot be used without a copy (copy=False): {reason}")
    if on_host or view.size == 0:
        return _from_host(np.asarray(view, dtype=want) if view.size else np.empty(view.shape, want),
                          name)
    # device memory (CUDA): copy on the device
    if not (view.flags.c_contiguous and view.flags.aligned):
        if made_contiguous:
            raise ValueError(f"{name}: the contiguous copy of {type(x).__name__} is not "
                             "C-contiguous either")
        return _from_dlpack(_contiguous_copy(x, name), dtype, None, name, made_contiguous=True)
    src = (view.view(np.uint8) if view.dtype == bool else view).reshape(buffer_shape(view.shape))
    out = empty_buffer(buffer_shape(view.shape), want)
    _kernel_copy(src.view(DeviceMemory), out)
    return DeviceArray(out, view.shape, want)


def _contiguous_copy(x: Any, name: str) -> Any:
    """A C-contiguous copy of a producer's array, made by its own library (on its device)."""
    if hasattr(x, "contiguous"):  # torch
        return x.contiguous()
    try:
        return x.copy(order="C")  # CuPy and other numpy-like libraries
    except (AttributeError, TypeError):
        raise ValueError(f"{name} is not C-contiguous and {type(x).__name__} has neither "
                         ".contiguous() nor .copy(order='C'): make it contiguous first") from None


def asnumpy(x: Any) -> np.ndarray:
    """Copy a :class:`DeviceArray` to a new numpy array (numpy input: returned as is)."""
    if isinstance(x, DeviceArray):
        return download(x._buf, x.shape).copy()
    return np.asarray(x)


_calibrate()


def read_scalar(buf: Any, index: int = 0) -> Any:
    """One element of a 1-D kernel buffer, as a numpy scalar: a single device -> host
    read-back on GPU arches (it waits for the kernels before it), a plain read on the
    CPU arch. For the few values a call needs on the host (a change flag, a count)."""
    _count("read_scalar")
    buf = _off_foreign_memory(buf)
    if isinstance(buf, np.ndarray):
        return buf.reshape(-1)[index].copy()
    with runtime.lock:
        return _buffer_dtype(buf).type(buf[index])


def stack(arrays: Any) -> DeviceArray:
    """Join 2-D or 3-D arrays of one shape along a new leading axis, on the device.

    The inverse of :meth:`DeviceArray.component`: ``stack([gz, gy, gx])`` makes the
    ``(3, Z, Y, X)`` displacement field or gradient a warp or a registration step takes.
    DeviceArrays are copied buffer to buffer on the device (no host transfer); numpy
    arrays (or a mix) are stacked and uploaded once.

    Parameters
    ----------
    arrays : sequence of ndarray or DeviceArray
        At least one; all of the same shape (2-D or 3-D) and dtype.

    Returns
    -------
    DeviceArray
        Shape ``(len(arrays), *shape)``.

    Examples
    --------
    >>> import numpy as np, medkern
    >>> a = medkern.asarray(np.zeros((2, 3), np.float32))
    >>> b = medkern.asarray(np.ones((2, 3), np.float32))
    >>> medkern.stack([a, b]).shape
    (2, 2, 3)
    """
    if isinstance(arrays, (np.ndarray, DeviceArray)) or not hasattr(arrays, "__len__"):
        raise TypeError("arrays must be a sequence of arrays (a list or tuple)")
    items = list(arrays)
    if not items:
        raise ValueError("arrays: need at least one array to stack")
    shapes = {tuple(getattr(a, "shape", np.shape(a))) for a in items}
    if len(shapes) != 1:
        raise ValueError(f"arrays must all have one shape, got {sorted(shapes)}")
    shape = shapes.pop()
    if len(shape) not in (2, 3):
        raise ValueError(f"arrays must be 2-D or 3-D (the spatial axes), got ndim={len(shape)}")
    if not all(isinstance(a, DeviceArray) for a in items):
        host = np.stack([asnumpy(a) if isinstance(a, DeviceArray) else np.asarray(a)
                         for a in items])
        return asarray(host)
    dtypes = {a.dtype for a in items}
    if len(dtypes) != 1:
        raise TypeError(f"arrays must all have one dtype, got {sorted(d.name for d in dtypes)}")
    dtype = dtypes.pop()
    rows = shape3(shape)[0]
    out = empty_buffer(component_shape3(len(items), shape), dtype)
    from .kernels import layout  # deferred: the kernels import this module
    copy = layout.slab_copy(np.dtype(dtype))
    with runtime.lock:
        for c, a in enumerate(items):
            copy(a._buf, out, 0, c * rows, rows)
    result = DeviceArray(out, (len(items), *shape), dtype)
    return result
