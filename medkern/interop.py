"""Talking to the caller's array library: torch, CuPy, or any DLPack producer.

The filters take another library's array, compute on a :class:`~medkern.DeviceArray`
imported from it (without a copy where possible, :func:`medkern.asarray`) and
hand the result back as that library's array on the input's device, again through
DLPack. This module holds the few library-specific operations that needs: dtype
names (torch's dtypes are not numpy's), a cast (half precision is computed in
float32), wrapping a result, and writing into an ``output=`` array. No Taichi here.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

#: Half-precision dtypes: computed in float32 and converted back (SciPy refuses them).
HALF = ("float16", "bfloat16")


def dtype_name(value: Any) -> str | None:
    """The name of a dtype given as numpy/CuPy dtype, type or string, or a torch dtype.

    ``None`` when ``value`` is not a dtype.
    """
    if value is None or isinstance(value, bool):
        return None
    if type(value).__module__.split(".")[0] == "torch" and str(value).startswith("torch."):
        return str(value)[len("torch."):]  # torch.float32 -> "float32", torch.bfloat16 -> ...
    if isinstance(value, str) and value == "bfloat16":
        return value
    try:
        return np.dtype(value).name
    except (TypeError, ValueError):
        return None


class Library:
    """The array library of a foreign input (``torch``, ``cupy``, or another DLPack producer)."""

    def __init__(self, x: Any):
        self.module_name = type(x).__module__.split(".")[0]
        torch = sys.modules.get("torch")
        # torch.Tensor subclasses too (MONAI's MetaTensor): results are plain torch tensors
        self.is_torch = torch is not None and isinstance(x, torch.Tensor)
        if self.is_torch:
            self.module_name = "torch"
        self.array_type = type(x)
        self.device = tuple(int(v) for v in x.__dlpack_device__())
        self.namespace = None  # the array API namespace (CuPy, JAX...), where there is one
        if hasattr(x, "__array_namespace__"):
            try:
                self.namespace = x.__array_namespace__()
            except Exception:  # noqa: BLE001 - an optional protocol; fall back to the module
                self.namespace = None

    @property
    def name(self) -> str:
        return "torch.Tensor" if self.is_torch else f"{self.module_name}.{self.array_type.__name__}"

    def _module(self) -> Any:
        return sys.modules.get(self.module_name)

    def is_array(self, value: Any) -> bool:
        if self.is_torch:
            return isinstance(value, self._module().Tensor)
        return isinstance(value, self.array_type)

    def dtype_of(self, x: Any) -> str | None:
        dt = getattr(x, "dtype", None)
        return None if dt is None else dtype_name(dt) or str(dt)

    def astype(self, x: Any, name: str) -> Any:
        """``x`` converted to the dtype ``name`` by its own library (on its device)."""
        if self.is_torch:
            return x.detach().to(getattr(self._module(), name))
        return x.astype(name)

    def from_dlpack(self, d: Any) -> Any:
        """The library's array over a DLPack producer's memory (``None``: no from_dlpack)."""
        if self.is_torch:
            return self._module().from_dlpack(d)
        for space in (self.namespace, self._module()):
            convert = getattr(space, "from_dlpack", None)
            if convert is not None:
                return convert(d)
        return None

    def assign(self, target: Any, value: Any) -> None:
        """``target[...] = value`` (a copy, casting to the target's dtype, across devices)."""
        if self.is_torch:
            target.copy_(value)
        else:
            target[...] = value
