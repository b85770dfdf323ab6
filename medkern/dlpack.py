"""The DLPack protocol at the level of capsules: export raw memory, import a producer's.

DLPack (https://dmlc.github.io/dlpack/latest/) hands an array between libraries
as a ``PyCapsule`` holding a ``DLManagedTensor`` (legacy, capsule name
``"dltensor"``) or a ``DLManagedTensorVersioned`` (DLPack >= 1.0,
``"dltensor_versioned"``): data pointer, device, dtype, shape, strides and a
deleter the consumer calls when it no longer needs the memory. The consumer
renames the capsule ``"used_..."`` when it takes ownership.

This module knows nothing about Taichi or medkern's buffers; :mod:`medkern.arrays`
gives it pointers and owners.

* :func:`export` builds a capsule for memory at a pointer. The capsule itself
  is made by numpy's C implementation of ``ndarray.__dlpack__`` on a numpy
  array *describing* that memory (``__array_interface__``; its data is never
  read), so ownership, the deleter and the capsule destructor are numpy's
  tested C code: the consumer's release drops numpy's reference, which drops
  ``owner``. For memory on another device (CUDA) the capsule's ``device``
  field is then set to that device -- the one field numpy fills differently.
* :func:`consume` calls a producer's ``__dlpack__``, reads the capsule and
  returns a numpy array over the memory (a host array for host memory; for
  device memory an array that only *describes* it -- callers must never read
  it on the host) whose base calls the producer's deleter when it dies.
"""
from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

# ----------------------------------------------------------------- constants (dlpack.h)
CPU, CUDA, CUDA_HOST, VULKAN, CUDA_MANAGED = 1, 2, 3, 7, 13
DEVICE_NAMES = {1: "cpu", 2: "cuda", 3: "cuda_host", 4: "opencl", 7: "vulkan", 8: "metal",
                9: "vpi", 10: "rocm", 11: "rocm_host", 13: "cuda_managed", 14: "oneapi"}
_INT, _UINT, _FLOAT, _BFLOAT, _COMPLEX, _BOOL = 0, 1, 2, 4, 5, 6
FLAG_READ_ONLY, FLAG_IS_COPIED = 1, 2
_LEGACY, _VERSIONED = b"dltensor", b"dltensor_versioned"
_USED = {_LEGACY: b"used_dltensor", _VERSIONED: b"used_dltensor_versioned"}


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    # the deleter is kept as a plain address: it is only ever called, never set, here
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p)]


class DLPackVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("version", DLPackVersion), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p), ("flags", ctypes.c_uint64),
                ("dl_tensor", DLTensor)]


# Private prototypes of the capsule C-API (setting argtypes on ctypes.pythonapi's shared
# function objects would change them for every other user in the process).
_api = ctypes.pythonapi
_capsule_is_valid = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_IsValid", _api))
_capsule_get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api))
_capsule_set_name = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_SetName", _api))
#: Deleters are C functions that may run without the GIL (the DLPack rule): called
#: through CFUNCTYPE, which releases it for the call.
_DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _capsule_kind(capsule: Any) -> bytes | None:
    for name in (_VERSIONED, _LEGACY):
        if _capsule_is_valid(capsule, name):
            return name
    return None


# ----------------------------------------------------------------- export
class _Memory:
    """``__array_interface__`` over raw memory, holding the memory's owner alive."""

    def __init__(self, pointer: int, shape: tuple, dtype: np.dtype, readonly: bool, owner: Any):
        self.__array_interface__ = {"version": 3, "shape": tuple(int(n) for n in shape),
                                    "typestr": np.dtype(dtype).str, "descr": [("", np.dtype(dtype).str)],
                                    "data": (int(pointer), bool(readonly)), "strides": None}
        self.owner = owner


def describe(pointer: int, shape: tuple, dtype: Any, owner: Any, readonly: bool = False) -> np.ndarray:
    """A C-contiguous numpy array over ``pointer`` whose base keeps ``owner`` alive.

    Creating it reads nothing; whether it may be read on the host depends on
    where ``pointer`` points.
    """
    return np.asarray(_Memory(pointer, shape, dtype, readonly, owner))


def export(pointer: int, shape: tuple, dtype: Any, owner: Any, *, device: tuple = (CPU, 0),
           max_version: Any = None, readonly: bool = False, copied: bool = False) -> Any:
    """A DLPack capsule for the C-contiguous array at ``pointer``.

    ``owner`` stays referenced until the consumer releases the capsule (or the
    capsule is dropped unused). A versioned capsule (DLPack 1.0) is made when
    ``max_version`` allows it and numpy can make one (numpy >= 2.1), else a
    legacy one; ``readonly``/``copied`` become its flags.
    """
    view = describe(pointer, shape, dtype, owner, readonly)
    capsule = None
    if max_version is not None and int(max_version[0]) >= 1:
        try:
            capsule = view.__dlpack__(max_version=(1, 0))
        except TypeError:  # numpy < 2.1: legacy capsules only
            capsule = None
    if capsule is None:
        capsule = view.__dlpack__()
    kind = _capsule_kind(capsule)
    address = _capsule_get_pointer(capsule, kind)
    managed: DLManagedTensorVersioned | DLManagedTensor
    if kind == _VERSIONED:
        managed = DLManagedTensorVersioned.from_address(address)
        if copied:
            managed.flags |= FLAG_IS_COPIED
    else:
        managed = DLManagedTensor.from_address(address)
    if (managed.dl_tensor.device.device_type, managed.dl_tensor.device.device_id) != tuple(device):
        managed.dl_tensor.device = DLDevice(int(device[0]), int(device[1]))
    return capsule


def read_device(capsule: Any) -> tuple[int, int]:
    """The ``(device_type, device_id)`` written in an unconsumed capsule."""
    kind = _capsule_kind(capsule)
    if kind is None:
        raise BufferError("not an unconsumed DLPack capsule")
    address = _capsule_get_pointer(capsule, kind)
    cls = DLManagedTensorVersioned if kind == _VERSIONED else DLManagedTensor
    dev = cls.from_address(address).dl_tensor.device
    return int(dev.device_type), int(dev.device_id)


# ----------------------------------------------------------------- import
class _Imported:
    """Owns a consumed ``DLManagedTensor``: calls its deleter when the last view dies."""

    def __init__(self, address: int, deleter: int | None, interface: dict):
        self._address, self._deleter = address, deleter
        self.__array_interface__ = interface

    def __del__(self):
        deleter, self._deleter = self._deleter, None
        if deleter:
            try:
                _DELETER(deleter)(self._address)
            except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to free
                pass


def numpy_dtype(code: int, bits: int, lanes: int) -> np.dtype:
    """The numpy dtype of a DLPack dtype; ``TypeError`` naming it when there is none."""
    if lanes != 1:
        raise TypeError(f"vector dtypes (lanes={lanes}) are not supported")
    if code == _BFLOAT:
        raise TypeError("bfloat16 has no numpy dtype")
    kind = {_INT: "i", _UINT: "u", _FLOAT: "f", _COMPLEX: "c", _BOOL: "b"}.get(code)
    if kind is None or bits % 8:
        raise TypeError(f"DLPack dtype code {code} with {bits} bits is not supported")
    if kind == "b":
        return np.dtype(bool)
    try:
        return np.dtype(f"{kind}{bits // 8}")
    except TypeError:
        raise TypeError(f"DLPack dtype code {code} with {bits} bits is not supported") from None


def consume(x: Any, stream: Any = None) -> tuple[np.ndarray, tuple[int, int]]:
    """Take ``x``'s memory through ``x.__dlpack__``: ``(array over it, (device_type, id))``.

    ``stream`` is passed to the producer (``None`` for host memory; for CUDA the
    stream the memory will be used on: 1 is the legacy default stream). The
    array has the producer's shape and strides and is read-only when the
    producer says so. On a device other than the host it must not be read on
    the host. The producer's deleter runs when the array (and every view of
    it) is gone.
    """
    try:
        capsule = x.__dlpack__(stream=stream, max_version=(1, 0))
    except TypeError:  # producers before the DLPack 1.0 protocol
        capsule = x.__dlpack__(stream=stream)
    kind = _capsule_kind(capsule)
    if kind is None:
        raise BufferError(f"{type(x).__name__}.__dlpack__ returned no unconsumed DLPack capsule")
    address = _capsule_get_pointer(capsule, kind)
    flags = 0
    managed: DLManagedTensorVersioned | DLManagedTensor
    if kind == _VERSIONED:
        managed = DLManagedTensorVersioned.from_address(address)
        if managed.version.major != 1:
            raise BufferError(f"DLPack version {managed.version.major}.{managed.version.minor} "
                              "is not supported (1.x is)")
        flags = int(managed.flags)
    else:
        managed = DLManagedTensor.from_address(address)
    t = managed.dl_tensor
    device = (int(t.device.device_type), int(t.device.device_id))
    dtype = numpy_dtype(t.dtype.code, t.dtype.bits, t.dtype.lanes)
    ndim = int(t.ndim)
    shape = tuple(int(t.shape[i]) for i in range(ndim))
    strides = None
    if ndim and t.strides:
        strides = tuple(int(t.strides[i]) * dtype.itemsize for i in range(ndim))
    data = (t.data or 0) + int(t.byte_offset)
    readonly = bool(flags & FLAG_READ_ONLY)
    # from here on the memory is ours to release: the capsule must not release it too
    _capsule_set_name(capsule, _USED[kind])
    interface = {"version": 3, "shape": shape, "typestr": dtype.str, "descr": [("", dtype.str)],
                 "data": (data, readonly), "strides": strides}
    owner = _Imported(address, managed.deleter, interface)
    if 0 in shape or data == 0:
        arr = np.empty(shape, dtype)  # nothing to share (DLPack allows NULL for empty arrays)
        if readonly:
            arr.flags.writeable = False
        del owner  # released now
        return arr, device
    return np.asarray(owner), device
