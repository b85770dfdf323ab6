"""medkern: GPU-accelerated medical image processing.

Algorithms are written once as Taichi kernels (``medkern.kernels``) that run on
CUDA, Vulkan or the CPU, behind a numpy-first API mirroring ``scipy.ndimage``
(``medkern.filters``, ``medkern.measurements``...). Importing medkern does not
start Taichi; the first kernel call does (see :func:`medkern.init`).
"""
from __future__ import annotations

import os as _os
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING as _TYPE_CHECKING

# Before Taichi is imported anywhere: no banner, no version-check thread.
_os.environ.setdefault("ENABLE_TAICHI_HEADER_PRINT", "0")
_os.environ.setdefault("TI_SKIP_VERSION_CHECK", "ON")

__version__ = "0.1.0"

from .arrays import DeviceArray, asarray, asnumpy  # noqa: E402
from .runtime import init  # noqa: E402
from .volume import Volume, reorient  # noqa: E402

_SUBMODULES = {
    "filters": "medkern.filters",
    "measurements": "medkern.measurements",
    "interpolation": "medkern.interpolation",
    "registry": "medkern.registry",
    "io": "medkern.io",
    "runtime": "medkern.runtime",
}

__all__ = ["init", "asarray", "asnumpy", "DeviceArray", "Volume", "reorient", "__version__",
           *_SUBMODULES]


if _TYPE_CHECKING:  # type checkers see the submodules; at run time they load lazily
    from . import filters, interpolation, io, measurements, registry, runtime  # noqa: F401


def __getattr__(name: str) -> _ModuleType:
    # Submodules load on first use: `import medkern` stays cheap and Taichi-free.
    if name in _SUBMODULES:
        import importlib
        return importlib.import_module(_SUBMODULES[name])
    raise AttributeError(f"module 'medkern' has no attribute {name!r}")
